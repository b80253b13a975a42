/* SPDX-License-Identifier: ISC */
/*
 * ecs_regex.c -- =~ and !~ through PCRE2. Patterns and subjects are UTF-8
 * ("." is one character, whatever the locale); a subject that is not valid
 * UTF-8 is matched as far as it is (PCRE2_MATCH_INVALID_UTF: an invalid
 * byte matches nothing) rather than refused. Unicode properties decide
 * \w, \d and [[:alpha:]] (PCRE2_UCP), as the C.UTF-8 classes did for the
 * POSIX expressions this replaces. Patterns are JIT-compiled where the CPU
 * allows, else interpreted.
 *
 * glibc's regcomp could be made to hold gigabytes by a short pattern
 * ("d+++++..."), and a backtracking match can run for ever ("(a+)+$"), so
 * both sides are bounded: a pattern past ECS_REGEX_MAX_LEN bytes or
 * ECS_REGEX_MAX_PARENS nested parentheses is refused when compiled, and a
 * match stops at ECS_REGEX_MATCH_LIMIT steps, ECS_REGEX_DEPTH_LIMIT levels
 * of backtracking or ECS_REGEX_HEAP_KIB of memory, reported to the caller
 * (who rejects the line) instead of answering.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <err.h>
#include <pcre2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ecs.h"
#include "ecs_regex.h"

/* The JIT's own stack: 32 KiB at first, grown to this at most. */
#define JIT_STACK_MAX	(1024 * 1024)

struct ecs_regex {
	pcre2_code		*code;
	pcre2_match_data	*md;
	bool			 jit;		/* compiled to machine code */
	char			 why[160];	/* the last match's failure */
};

static _Noreturn void
out_of_memory(void)
{
	errx(ECS_EXIT_DATA, "out of memory");
}

/* A match context with the limits, MATCH_LIMIT steps among them. */
static pcre2_match_context *
limited_context(uint32_t match_limit)
{
	pcre2_match_context *mctx = pcre2_match_context_create(NULL);

	if (mctx == NULL)
		out_of_memory();
	pcre2_set_match_limit(mctx, match_limit);
	pcre2_set_depth_limit(mctx, ECS_REGEX_DEPTH_LIMIT);
	pcre2_set_heap_limit(mctx, ECS_REGEX_HEAP_KIB);
	return mctx;
}

/* The limits of every match in machine code, made once, kept until exit. */
static pcre2_match_context *
match_context(void)
{
	static pcre2_match_context *mctx;
	static pcre2_jit_stack *jit_stack;

	if (mctx != NULL)
		return mctx;
	mctx = limited_context(ECS_REGEX_MATCH_LIMIT);
	/* Without a stack of its own the JIT uses 32 KiB of the machine's. */
	jit_stack = pcre2_jit_stack_create(32 * 1024, JIT_STACK_MAX, NULL);
	if (jit_stack != NULL)
		pcre2_jit_stack_assign(mctx, NULL, jit_stack);
	return mctx;
}

struct ecs_regex *
ecs_regex_compile(const char *pat, size_t len, size_t *errpos, char *err,
    size_t errlen)
{
	pcre2_compile_context *cctx;
	struct ecs_regex *re;
	PCRE2_SIZE off = 0;
	int rc;

	if (len > ECS_REGEX_MAX_LEN) {
		*errpos = ECS_REGEX_MAX_LEN;
		snprintf(err, errlen, "longer than %d bytes", ECS_REGEX_MAX_LEN);
		return NULL;
	}
	if ((cctx = pcre2_compile_context_create(NULL)) == NULL)
		out_of_memory();
	pcre2_set_max_pattern_length(cctx, ECS_REGEX_MAX_LEN);
	pcre2_set_parens_nest_limit(cctx, ECS_REGEX_MAX_PARENS);
#if PCRE2_MAJOR > 10 || (PCRE2_MAJOR == 10 && PCRE2_MINOR >= 45)
	pcre2_set_max_pattern_compiled_length(cctx, 1024 * 1024);
#endif
	re = ecs_xcalloc(1, sizeof(*re));
	re->code = pcre2_compile((PCRE2_SPTR)pat, len, PCRE2_UTF |
	    PCRE2_MATCH_INVALID_UTF | PCRE2_UCP, &rc, &off, cctx);
	pcre2_compile_context_free(cctx);
	if (re->code == NULL) {
		pcre2_get_error_message(rc, (PCRE2_UCHAR *)err, errlen);
		*errpos = off;
		free(re);
		return NULL;
	}
	/* Without JIT (no support for the CPU, or no memory) it interprets. */
	re->jit = pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0;
	re->md = pcre2_match_data_create(1, NULL);
	if (re->md == NULL)
		out_of_memory();
	return re;
}

/*
 * ecs_regex_match_interpreted's limits: the interpreter under the
 * fuzzer's instrumentation takes about 2 s for ECS_REGEX_MATCH_LIMIT steps,
 * so its second opinion stops sooner (and then gives none).
 */
static pcre2_match_context *
interpreted_context(void)
{
	static pcre2_match_context *mctx;

	if (mctx == NULL)
		mctx = limited_context(ECS_REGEX_INTERPRETED_LIMIT);
	return mctx;
}

/* Matches with pcre2_match's OPTIONS (PCRE2_NO_JIT, or none) and MCTX. */
static int
match(struct ecs_regex *re, const char *s, size_t len, uint32_t options,
    pcre2_match_context *mctx, const char **why)
{
	char msg[120];
	int rc;

	rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, options, re->md,
	    mctx);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	pcre2_get_error_message(rc, (PCRE2_UCHAR *)msg, sizeof(msg));
	snprintf(re->why, sizeof(re->why), "regular expression gave up: %s",
	    msg);
	*why = re->why;
	return -1;
}

/*
 * Whether s[0..len) is UTF-8 as PCRE2 takes it: shortest forms, no
 * surrogates, nothing past U+10FFFF.
 */
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

/*
 * A subject that is not UTF-8 goes to the interpreter: PCRE2 10.42's JIT
 * (Debian's 10.42-1+deb12u2 included), under PCRE2_MATCH_INVALID_UTF,
 * reads the byte after such a subject as its next character for \b, \B
 * and $: the answer then depends on memory past the subject ("\B$" on
 * "a\360" matches when a space follows it), and the read faults when the
 * subject ends a page (tests/fuzz/regressions/regex-jit-*-past-end).
 */
int
ecs_regex_match(struct ecs_regex *re, const char *s, size_t len,
    const char **why)
{
	static pcre2_match_context *interpreter;

	if (re->jit && utf8_valid((const unsigned char *)s, len))
		return match(re, s, len, 0, match_context(), why);
	if (interpreter == NULL)
		interpreter = limited_context(ECS_REGEX_INTERPRETER_LIMIT);
	return match(re, s, len, PCRE2_NO_JIT, interpreter, why);
}

int
ecs_regex_match_interpreted(struct ecs_regex *re, const char *s, size_t len,
    const char **why)
{
	return match(re, s, len, PCRE2_NO_JIT, interpreted_context(), why);
}

void
ecs_regex_free(struct ecs_regex *re)
{
	if (re == NULL)
		return;
	pcre2_match_data_free(re->md);
	pcre2_code_free(re->code);
	free(re);
}
