/* SPDX-License-Identifier: ISC */
/*
 * fuzz-regex -- the patterns of =~ and what they match, both hostile: the
 * input is a pattern, a NUL byte and a subject (not necessarily UTF-8).
 * A pattern compiles or is refused with an offset inside it; a match
 * answers or gives up at a limit, with a reason, within -timeout and
 * -rss_limit_mb (scripts/fuzz).
 *
 * ecs_regex_match takes the JIT's machine code where the CPU allows, which
 * coverage does not see; the subject is matched by the interpreter too
 * (PCRE2_NO_JIT), which it does see, and both must give the same answer
 * unless one gave up at a limit (they count their steps differently, the
 * JIT has no depth or heap limit and the interpreter stops sooner), or the
 * subject is not UTF-8: there PCRE2 10.42 disagrees with itself, "$" on
 * "\377" matches by the JIT and not by the interpreter (PCRE2_MATCH_INVALID_UTF;
 * regressions/regex-jit-dollar-after-invalid-utf8).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "ecs_regex.h"

/* Whether s[0..len) is UTF-8 as PCRE2 takes it: shortest forms, no
 * surrogates, nothing past U+10FFFF. */
static bool
utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;
	uint32_t c;

	while (i < len) {
		c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, c &= 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, c &= 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, c &= 0x07;
		else
			return false;
		if (len - i <= n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			c = c << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
		    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
			return false;
		i += n + 1;
	}
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *sep, *why = NULL;
	struct ecs_regex *re;
	size_t plen, errpos;
	char err[128];
	int rc, interpreted;

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
		interpreted = ecs_regex_match_interpreted(re, sep + 1,
		    size - plen - 1, &why);
		if (rc >= 0 && interpreted >= 0 && rc != interpreted &&
		    utf8_valid((const unsigned char *)sep + 1, size - plen - 1))
			abort();
	}
	ecs_regex_free(re);
	return 0;
}
