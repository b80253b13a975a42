/* SPDX-License-Identifier: ISC */
/*
 * fuzz-regex -- the patterns of =~ and what they match, both hostile: the
 * input is a pattern, a NUL byte and a subject (not necessarily UTF-8).
 * A pattern compiles or is refused with an offset inside it; a match
 * answers or gives up at a limit, with a reason, within -timeout and
 * -rss_limit_mb (scripts/fuzz).
 */
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "ecs_regex.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *sep, *why = NULL;
	struct ecs_regex *re;
	size_t plen, errpos;
	char err[128];
	int rc;

	sep = memchr(p, '\0', size);
	plen = sep != NULL ? (size_t)(sep - p) : size;
	re = ecs_regex_compile(p, plen, &errpos, err, sizeof(err));
	if (re == NULL) {
		/* Refused: at a place in the pattern, for a reason. */
		if (errpos > plen && plen <= ECS_REGEX_MAX_LEN)
			abort();
		if (err[0] == '\0')
			abort();
		return 0;
	}
	if (sep != NULL) {
		rc = ecs_regex_match(re, sep + 1, size - plen - 1, &why);
		if (rc < 0 && (why == NULL || why[0] == '\0'))
			abort();
		if (rc != 0 && rc != 1 && rc != -1)
			abort();
	}
	ecs_regex_free(re);
	return 0;
}
