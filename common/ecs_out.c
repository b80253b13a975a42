/* SPDX-License-Identifier: ISC */
/*
 * ecs_out.c -- standard output through one large buffer. The reader calls
 * ecs_out_flush() before it would block on input, so a `tail -f` pipeline
 * sees each result at once while a batch run writes in big blocks. With
 * -o other than ndjson, the bytes written are gathered into lines and each
 * line goes through ecs_table, which writes CSV, TSV or a table instead.
 */
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ecs.h"

#define OUT_BUFSIZE	(256 * 1024)

static char	out_buf[OUT_BUFSIZE];
static size_t	out_len;

/* -o: the converter and the line being gathered for it. */
static struct ecs_table	*table;
static char		*line_buf;
static size_t		 line_len, line_cap;

/*
 * The one write loop: after a signal (no SA_RESTART) and on a non-blocking
 * descriptor it writes the rest; on standard output a reader that went
 * away (EPIPE, as with `| head`) ends the program quietly.
 */
void
ecs_write_all(int fd, const void *buf, size_t n, const char *name)
{
	const char *p = buf;
	struct pollfd pfd = { fd, POLLOUT, 0 };
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) >= 0) {
			p += w;
			n -= (size_t)w;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK)
			poll(&pfd, 1, -1);
		else if (errno == EPIPE && fd == STDOUT_FILENO)
			exit(ECS_EXIT_OK);
		else if (errno != EINTR)
			err(ECS_EXIT_DATA, "write error on %s", name);
	}
}

static void
write_all(const char *p, size_t n)
{
	ecs_write_all(STDOUT_FILENO, p, n, "<stdout>");
}

/* Writes everything buffered, without asking the converter. */
static void
flush_bytes(void)
{
	size_t n = out_len;

	out_len = 0;
	if (n > 0)
		write_all(out_buf, n);
}

/* The raw output, for NDJSON and for what the converter writes. */
static void
put_bytes(const void *p, size_t n)
{
	if (n > OUT_BUFSIZE - out_len) {
		flush_bytes();
		if (n >= OUT_BUFSIZE) {
			write_all(p, n);
			return;
		}
	}
	memcpy(out_buf + out_len, p, n);
	out_len += n;
}

static void
line_add(const char *p, size_t n)
{
	if (n > line_cap - line_len) {
		line_cap = line_cap * 2 > line_len + n ? line_cap * 2 :
		    line_len + n + 256;
		line_buf = ecs_xrealloc(line_buf, line_cap);
	}
	memcpy(line_buf + line_len, p, n);
	line_len += n;
}

static void
line_end(void)
{
	if (table == NULL)
		table = ecs_table_create(ecs_config.output_format, put_bytes);
	ecs_table_line(table, line_buf, line_len);
	line_len = 0;
}

/* Gathers p[0..n) into lines and converts each complete one. */
static void
convert(const char *p, size_t n)
{
	const char *nl;

	while (n > 0 && (nl = memchr(p, '\n', n)) != NULL) {
		line_add(p, (size_t)(nl - p));
		line_end();
		n -= (size_t)(nl + 1 - p);
		p = nl + 1;
	}
	line_add(p, n);
}

void
ecs_out_flush(void)
{
	if (table != NULL)
		ecs_table_flush(table);
	flush_bytes();
}

void
ecs_out_write(const void *p, size_t n)
{
	if (ecs_config.output_format != ECS_OUTPUT_NDJSON)
		convert(p, n);
	else
		put_bytes(p, n);
}

void
ecs_out_line(const char *p, size_t n)
{
	ecs_out_line_tops(p, n, NULL);
}

void
ecs_out_line_tops(const char *p, size_t n, const struct ecs_scan_tops *tops)
{
	if (ecs_config.output_format == ECS_OUTPUT_NDJSON || line_len > 0) {
		ecs_out_write(p, n);
		ecs_out_putc('\n');
		return;
	}
	/* A whole line: converted where it is, without gathering it. */
	if (table == NULL)
		table = ecs_table_create(ecs_config.output_format, put_bytes);
	ecs_table_line_tops(table, p, n, tops);
}

void
ecs_out_puts(const char *s)
{
	ecs_out_write(s, strlen(s));
}

void
ecs_out_putc(char c)
{
	if (ecs_config.output_format != ECS_OUTPUT_NDJSON) {
		if (c == '\n')
			line_end();
		else
			line_add(&c, 1);
		return;
	}
	if (out_len == OUT_BUFSIZE)
		flush_bytes();
	out_buf[out_len++] = c;
}

/* As sbase's fshut: a late error (a full disk seen at close) is an error. */
int
ecs_out_close(void)
{
	int status;

	if (line_len > 0)		/* a last line without its newline */
		line_end();
	status = ecs_table_destroy(table);
	table = NULL;
	free(line_buf);
	line_buf = NULL;
	line_cap = 0;
	flush_bytes();
	if (close(STDOUT_FILENO) == -1 && errno != EINTR && errno != EBADF) {
		warn("write error on <stdout>");
		return ECS_EXIT_DATA;
	}
	return status;
}
