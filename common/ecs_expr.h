/* SPDX-License-Identifier: ISC */
/*
 * ecs_expr.h -- the expression language of ecs-filter and of --where and
 * the aggregates' expressions in ecs-sales: compiled once, then evaluated
 * on a record or on the fields captured by ecs_fields_read.
 */
#ifndef ECS_EXPR_H
#define ECS_EXPR_H

#include "ecs.h"

struct ecs_expr;

/*
 * Compiles src. On a syntax error returns NULL and writes
 * "LINE:COL: reason" into err. The result is owned by the caller.
 */
struct ecs_expr	*ecs_expr_compile(const char *src, char *err, size_t errlen);
/* True when the expression holds for rec (jq truthiness: not false/null). */
bool	 ecs_expr_match(const struct ecs_expr *, struct json_object *rec);
/*
 * False only when line (a plain object, see ecs_scan_plain_object) cannot
 * satisfy the expression, judged from literals it must contain.
 */
bool	 ecs_expr_may_match(const struct ecs_expr *, const char *line, size_t len);
/*
 * The value of e as a number: exactly for + - * of decimal numbers (and
 * numbers written as strings), else through a double. False when e has no
 * numeric value for rec.
 */
bool	 ecs_expr_eval_dec(const struct ecs_expr *,
	    const struct ecs_field *fields, struct ecs_dec *);
bool	 ecs_expr_eval_double(const struct ecs_expr *,
	    const struct ecs_field *fields, double *);
/*
 * The value of e as a key for distinct/top/list: a string's bytes (and
 * *is_string), or the JSON text of any other value; borrowed from the
 * fields or buf. False when missing.
 */
bool	 ecs_expr_eval_key(const struct ecs_expr *,
	    const struct ecs_field *fields, char buf[static 64],
	    const char **text, size_t *len, bool *is_string);
/*
 * The value of e as a field, to write as JSON with ecs_buf_field: a string,
 * a number, true, false, null, an object or array (ECS_F_OTHER, its JSON
 * text), or ECS_F_MISSING; the text borrowed as in ecs_expr_eval_key.
 */
void	 ecs_expr_eval_field(const struct ecs_expr *,
	    const struct ecs_field *fields, char buf[static 64],
	    struct ecs_field *out);
/*
 * The value of e on rec as a template writes it (a string raw, a number as
 * written, other values as JSON), borrowed as in ecs_expr_eval_key.
 */
bool	 ecs_expr_text(const struct ecs_expr *, struct json_object *rec,
	    char buf[static 64], const char **text, size_t *len);
/*
 * ecs_expr_text on the fields captured from a plain line (after
 * ecs_expr_bind): the same text, objects and arrays as json-c writes them.
 */
bool	 ecs_expr_text_fields(const struct ecs_expr *,
	    const struct ecs_field *fields, char buf[static 64],
	    const char **text, size_t *len);
/*
 * Binds e's field paths to slots of fs (added as needed), so that it can be
 * evaluated on the fields ecs_fields_read captures: the fast path.
 */
void	 ecs_expr_bind(struct ecs_expr *, struct ecs_fieldset *);
/* ecs_expr_match on captured fields (after ecs_expr_bind). */
bool	 ecs_expr_match_fields(const struct ecs_expr *,
	    const struct ecs_field *fields);
/*
 * The first c in the source text s outside quotes and brackets, or NULL:
 * where a list of expressions (-b, a metric's arguments) is split.
 */
char	*ecs_expr_top_char(char *s, char c);
/*
 * Why an evaluation of any expression since the last call had no answer,
 * or NULL; the next call returns NULL until another gives up. Only a
 * regular expression gives up, at a limit of ecs_regex.h. A caller that
 * reads lines calls it before and after evaluating what a line needs, and
 * rejects the line with the reason: the results it got are not to be used.
 */
const char *ecs_expr_take_error(void);
/* True when an evaluation of e may give up: it holds =~ or !~. */
bool	 ecs_expr_may_give_up(const struct ecs_expr *);
/* True when ecs_expr_may_match can rule lines out at all. */
bool	 ecs_expr_has_precheck(const struct ecs_expr *);
void	 ecs_expr_free(struct ecs_expr *);

#endif /* ECS_EXPR_H */
