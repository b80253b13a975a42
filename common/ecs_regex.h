/* SPDX-License-Identifier: ISC */
/*
 * ecs_regex.h -- the regular expressions of =~ and !~: PCRE2 in UTF-8 mode
 * with limits on what a pattern may cost to compile and to match, so that
 * a rule from a config file can never take the machine down.
 */
#ifndef ECS_REGEX_H
#define ECS_REGEX_H

#include <stdbool.h>
#include <stddef.h>

/* Longest pattern accepted, in bytes. */
#define ECS_REGEX_MAX_LEN	4096
/* Deepest nesting of parentheses accepted. */
#define ECS_REGEX_MAX_PARENS	64
/*
 * Steps one match may take (pcre2_set_match_limit): in machine code (the
 * JIT), and interpreted. An interpreted step costs up to a hundred times
 * more (0.44 s for 1,000,000 on tests/fuzz/regressions/
 * regex-interpreter-slow-step, 1 ms for the JIT's worst), so the
 * interpreter stops sooner: either gives up within about 50 ms.
 */
#define ECS_REGEX_MATCH_LIMIT	1000000
#define ECS_REGEX_INTERPRETER_LIMIT	100000
/* Backtracking depth (pcre2_set_depth_limit) and its memory, in KiB. */
#define ECS_REGEX_DEPTH_LIMIT	10000
#define ECS_REGEX_HEAP_KIB	(64 * 1024)
/* Steps of ecs_regex_match_interpreted. */
#define ECS_REGEX_INTERPRETED_LIMIT	10000

struct ecs_regex;

/*
 * Compiles pat[0..len) (it may hold NUL bytes). On failure returns NULL,
 * writes the reason into err and the byte offset in the pattern where it
 * was found into *errpos. Owned by the caller (ecs_regex_free).
 */
struct ecs_regex *ecs_regex_compile(const char *pat, size_t len,
	    size_t *errpos, char *err, size_t errlen);
/*
 * 1 when s[0..len) matches, 0 when it does not; -1 when the match gave up
 * (a limit above, or memory), with the reason (static or in the regex,
 * valid until the next call) in *why.
 */
int	 ecs_regex_match(struct ecs_regex *, const char *s, size_t len,
	    const char **why);
/*
 * The same as ecs_regex_match, by PCRE2's interpreter even where the
 * pattern was JIT-compiled, and giving up after ECS_REGEX_INTERPRETED_LIMIT
 * steps: fuzz-regex's second opinion on the JIT (the machine code the JIT
 * writes is not seen by the fuzzer's coverage).
 */
int	 ecs_regex_match_interpreted(struct ecs_regex *, const char *s,
	    size_t len, const char **why);
void	 ecs_regex_free(struct ecs_regex *);

#endif /* ECS_REGEX_H */
