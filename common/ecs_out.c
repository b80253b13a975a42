/* SPDX-License-Identifier: ISC */
/*
 * ecs_out.c -- standard output through one large buffer. The reader calls
 * ecs_out_flush() before it would block on input, so a `tail -f` pipeline
 * sees each result at once while a batch run writes in big blocks.
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

/* Writes all of p[0..n) to fd 1 or ends the program. */
static void
write_all(const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(STDOUT_FILENO, p, n);
		if (w >= 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			struct pollfd pfd = { STDOUT_FILENO, POLLOUT, 0 };
			poll(&pfd, 1, -1);
			continue;
		}
		out_len = 0;
		/* The reader of our output went away, as with `| head`. */
		if (errno == EPIPE)
			exit(ECS_EXIT_OK);
		err(ECS_EXIT_DATA, "write error on <stdout>");
	}
}

void
ecs_write_all(int fd, const void *buf, size_t n, const char *name)
{
	const char *p = buf;
	ssize_t w;

	while (n > 0) {
		/* SIGINT/SIGTERM (no SA_RESTART) interrupt: write the rest. */
		if ((w = write(fd, p, n)) == -1 && errno == EINTR)
			continue;
		if (w == -1)
			err(ECS_EXIT_DATA, "write error on %s", name);
		p += w;
		n -= (size_t)w;
	}
}

void
ecs_out_flush(void)
{
	size_t n = out_len;

	out_len = 0;
	if (n > 0)
		write_all(out_buf, n);
}

void
ecs_out_write(const void *p, size_t n)
{
	if (n > OUT_BUFSIZE - out_len) {
		ecs_out_flush();
		if (n >= OUT_BUFSIZE) {
			write_all(p, n);
			return;
		}
	}
	memcpy(out_buf + out_len, p, n);
	out_len += n;
}

void
ecs_out_puts(const char *s)
{
	ecs_out_write(s, strlen(s));
}

void
ecs_out_putc(char c)
{
	if (out_len == OUT_BUFSIZE)
		ecs_out_flush();
	out_buf[out_len++] = c;
}

/* As sbase's fshut: a late error (a full disk seen at close) is an error. */
int
ecs_out_close(void)
{
	ecs_out_flush();
	if (close(STDOUT_FILENO) == -1 && errno != EINTR && errno != EBADF) {
		warn("write error on <stdout>");
		return ECS_EXIT_DATA;
	}
	return ECS_EXIT_OK;
}
