/* SPDX-License-Identifier: ISC */
/*
 * tap.h -- the TAP output of the C unit programs (unit-common,
 * unit-sketch): ok() prints one numbered "ok"/"not ok" line per check,
 * tap_done() prints the plan after the last one (TAP allows it at the
 * end) and gives the exit status, 1 when any check failed. Diagnostics are
 * lines starting with "# ", printed by the program itself.
 */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int tap_checks, tap_failures;

/* One check: what, a printf format, says what held or did not. */
static inline void __attribute__((format(printf, 2, 3)))
ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	tap_checks++;
	if (!cond)
		tap_failures++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_checks);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Prints the plan "1..N"; the program's exit status. */
static inline int
tap_done(void)
{
	printf("1..%d\n", tap_checks);
	return tap_failures != 0;
}

#endif /* TAP_H */
