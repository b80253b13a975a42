/* SPDX-License-Identifier: ISC */
/*
 * ecs_util.c -- allocation helpers that end the program when memory runs
 * out (as sbase's emalloc), and the signal setup every program shares.
 */
#include <err.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"

volatile int ecs_stop_signal;

void *
ecs_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		err(ECS_EXIT_DATA, "out of memory");
	return p;
}

void *
ecs_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		err(ECS_EXIT_DATA, "out of memory");
	return p;
}

void *
ecs_xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n ? n : 1);

	if (p == NULL)
		err(ECS_EXIT_DATA, "out of memory");
	return p;
}

char *
ecs_xstrdup(const char *s)
{
	return ecs_xstrndup(s, strlen(s));
}

/* Copies n bytes, which may include NULs, and terminates the copy. */
char *
ecs_xstrndup(const char *s, size_t n)
{
	char *p = ecs_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void
on_stop_signal(int sig)
{
	ecs_stop_signal = sig;
}

void
ecs_signals_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	/* No SA_RESTART: a blocked read must return EINTR and see the flag. */
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}
