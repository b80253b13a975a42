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
 * JIT has no depth or heap limit and the interpreter stops sooner).
 * The subject ends where an unreadable page begins: PCRE2 10.42's JIT
 * read past subjects that are not UTF-8, and answered from what it found
 * there (ecs_regex_match now gives those to the interpreter;
 * regressions/regex-jit-*).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ecs.h"
#include "ecs_regex.h"

/*
 * A copy of s[0..len) that ends where an unreadable page begins, so that a
 * read past the subject faults at once (a heap copy would have readable
 * bytes after it). The pages are kept from one input to the next.
 */
static const char *
before_guard_page(const char *s, size_t len)
{
	static char *map;
	static size_t readable;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), want;

	want = (len + page - 1) / page * page + page;
	if (want > readable) {
		if (map != NULL)
			munmap(map, readable + page);
		map = mmap(NULL, want + page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (map == MAP_FAILED ||
		    mprotect(map + want, page, PROT_NONE) != 0)
			abort();
		readable = want;
	}
	return memcpy(map + readable - len, s, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *sep, *subject, *why = NULL;
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
		subject = before_guard_page(sep + 1, size - plen - 1);
		rc = ecs_regex_match(re, subject, size - plen - 1, &why);
		if (rc < 0 && (why == NULL || why[0] == '\0'))
			abort();
		if (rc != 0 && rc != 1 && rc != -1)
			abort();
		interpreted = ecs_regex_match_interpreted(re, subject,
		    size - plen - 1, &why);
		if (rc >= 0 && interpreted >= 0 && rc != interpreted)
			abort();
	}
	ecs_regex_free(re);
	return 0;
}
