/* SPDX-License-Identifier: ISC */
/*
 * fuzz-time -- times, durations and exact decimals on hostile text: a
 * parsed time formats and parses back to the same instant, and reads the
 * same with "+00:00" for its "Z"; a decimal
 * formats and parses back to the same value.
 */
#include <stdlib.h>
#include <string.h>

#include "ecs.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), buf[64], out[128];
	struct ecs_dec a, b;
	int64_t ms, back;
	size_t n;

	memcpy(s, data, size);
	s[size] = '\0';
	if (ecs_time_parse(s, size, &ms)) {
		/* "...Z" reads as "...+00:00", the general way. */
		if (size > 0 && size < 40 && s[size - 1] == 'Z') {
			snprintf(out, sizeof(out), "%.*s+00:00", (int)size - 1, s);
			if (!ecs_time_parse(out, strlen(out), &back) || back != ms)
				abort();
		}
		n = ecs_time_format(ms, buf);
		if (ms > -62135596800000LL && ms < 253402300800000LL &&
		    (!ecs_time_parse(buf, n, &back) || back != ms))
			abort();
	}
	(void)ecs_duration_parse(s, &ms);
	if (ecs_dec_parse(s, size, &a) && a.exact) {
		n = ecs_dec_format(&a, out, sizeof(out));
		if (!ecs_dec_parse(out, n, &b) || ecs_dec_cmp(&a, &b) != 0)
			abort();
		ecs_dec_add(&b, &a);
		ecs_dec_mul(&b, &a);
		(void)ecs_dec_format(&b, out, sizeof(out));
		(void)ecs_dec_format_ratio(&a, 3, 6, out, sizeof(out));
	}
	free(s);
	return 0;
}
