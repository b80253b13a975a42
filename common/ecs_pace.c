/* SPDX-License-Identifier: ISC */
/*
 * ecs_pace.c -- wall-clock pacing for programs that play a stream at a
 * given speed (ecs-gen --rate, ecs-replay). Every wait is scheduled against
 * the start time on the monotonic clock, never by sleeping a gap after each
 * line, so a run of hours does not drift; output is flushed before each
 * wait so the reader downstream sees every line at its time.
 */
#include <poll.h>
#include <signal.h>
#include <time.h>

#include "ecs.h"

static int64_t
monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * The start's wall time plus the monotonic time since, so that times
 * written from it never go back when the system clock is set.
 */
int64_t
ecs_pace_wall_ms(const struct ecs_pace *p)
{
	return p->start_wall_ms + (monotonic_ns() - p->start_ns) / 1000000;
}

void
ecs_pace_start(struct ecs_pace *p)
{
	struct timespec now;

	p->start_ns = monotonic_ns();
	clock_gettime(CLOCK_REALTIME, &now);
	p->start_wall_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/*
 * SIGINT/SIGTERM stay blocked except inside ppoll(), which unblocks them
 * atomically: a signal that lands just before the wait still ends it,
 * rather than after a sleep that may last an hour.
 */
bool
ecs_pace_wait(const struct ecs_pace *p, int64_t offset_ns)
{
	int64_t target = p->start_ns + offset_ns, left;
	sigset_t stop, saved;
	struct timespec ts;

	if (monotonic_ns() >= target)
		return !ecs_stop_signal;
	ecs_out_flush();
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, &saved);
	while (!ecs_stop_signal && (left = target - monotonic_ns()) > 0) {
		ts.tv_sec = left / 1000000000;
		ts.tv_nsec = left % 1000000000;
		ppoll(NULL, 0, &ts, &saved);
	}
	sigprocmask(SIG_SETMASK, &saved, NULL);
	return !ecs_stop_signal;
}
