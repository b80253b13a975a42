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
