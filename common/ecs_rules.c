/* SPDX-License-Identifier: ISC */
/*
 * ecs_rules.c -- rules over output rows (see ecs_rules.h).
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "ecs_buf.h"
#include "ecs_expr.h"
#include "ecs_rules.h"

void
ecs_rules_init(struct ecs_rules *r, const char *const *names, size_t nlisted,
    size_t nnames)
{
	memset(r, 0, sizeof(*r));
	r->names = ecs_xcalloc(nnames + 1, sizeof(*r->names));
	memcpy(r->names, names, nnames * sizeof(*names));
	r->nnames = nnames;
	r->nlisted = nlisted;
	r->value = ecs_xcalloc(nnames + 1, sizeof(*r->value));
	ecs_fields_init(&r->fields, NULL, 0);
}

/* The index of the key name[0..len), or -1. */
static int
key_index(const struct ecs_rules *r, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < r->nnames; i++)
		if (strlen(r->names[i]) == len &&
		    memcmp(r->names[i], name, len) == 0)
			return (int)i;
	return -1;
}

/*
 * The rows' keys, for messages: "window_start, ..., count, sales"; in a
 * static buffer (the message ends the program).
 */
static char *
listed_names(const struct ecs_rules *r)
{
	static struct ecs_buf b;
	size_t i;

	ecs_buf_puts(&b, "");
	for (i = 0; i < r->nlisted; i++) {
		ecs_buf_puts(&b, i > 0 ? ", " : "");
		ecs_buf_puts(&b, r->names[i]);
	}
	return b.p;
}

/*
 * Every field a rule reads must be a key of the row, named whole, else
 * the rule could never see it: a row has the flat key "a.b" for -b a.b,
 * where the path a.b would look for a key b inside a.
 */
static void
check_path(const struct ecs_rules *r, const char *opt, const char *text,
    const struct ecs_path *p, size_t nread)
{
	int k = key_index(r, p->seg[0].key, p->seg[0].len);

	if (p->nseg == 1 && k >= (int)nread)
		errx(ECS_EXIT_USAGE, "%s '%s': '%s' is computed after it (a "
		    "derived metric reads the metrics before it)", opt, text,
		    p->text);
	if (p->nseg == 1 && k >= 0)
		return;
	if (p->nseg > 1 && key_index(r, p->text, strlen(p->text)) >= 0)
		errx(ECS_EXIT_USAGE, "%s '%s': '%s' is a path into a value; the "
		    "row's key '%s' is written .\"%s\" in a rule", opt, text,
		    p->text, p->text, p->text);
	if (p->nseg > 1 && key_index(r, p->seg[0].key, p->seg[0].len) >= 0)
		errx(ECS_EXIT_USAGE, "%s '%s': '%s' is a path into the row's "
		    "'%.*s'; a rule reads the row's keys whole", opt, text,
		    p->text, (int)p->seg[0].len, p->seg[0].key);
	errx(ECS_EXIT_USAGE, "%s '%s': '%s' is not a metric or key of the rows "
	    "(they have %s)", opt, text, p->text, listed_names(r));
}

size_t
ecs_rules_add(struct ecs_rules *r, const char *opt, const char *text,
    struct ecs_expr *e, size_t nread)
{
	const struct ecs_path *p;
	struct ecs_fieldset mine;
	struct ecs_rule *rule;
	size_t i = r->fields.n;

	r->rule = ecs_xrealloc(r->rule, (r->n + 1) * sizeof(*r->rule));
	rule = &r->rule[r->n++];
	*rule = (struct ecs_rule){ opt, text, e, NULL, 0 };
	/* The keys this rule reads, checked, before those of all the rules. */
	ecs_fields_init(&mine, NULL, 0);
	ecs_expr_bind(e, &mine);
	rule->keys = ecs_xcalloc(mine.n + 1, sizeof(*rule->keys));
	for (; rule->nkeys < mine.n; rule->nkeys++) {
		p = mine.path[rule->nkeys];
		check_path(r, opt, text, p, nread);
		rule->keys[rule->nkeys] = (size_t)key_index(r, p->seg[0].key,
		    p->seg[0].len);
	}
	ecs_fields_finish(&mine);
	ecs_expr_bind(e, &r->fields);
	r->src = ecs_xrealloc(r->src, (r->fields.n + 1) * sizeof(*r->src));
	r->read = ecs_xrealloc(r->read, (r->fields.n + 1) * sizeof(*r->read));
	for (; i < r->fields.n; i++) {
		p = r->fields.path[i];
		r->src[i] = (size_t)key_index(r, p->seg[0].key, p->seg[0].len);
	}
	return r->n - 1;
}

void
ecs_rules_begin(struct ecs_rules *r)
{
	size_t i;

	for (i = 0; i < r->fields.n; i++)
		r->read[i] = r->value[r->src[i]];
}

static unsigned long long undecided;

unsigned long long
ecs_rules_undecided(void)
{
	return undecided;
}

/*
 * True (after a warning naming the rule and the row's first key) when the
 * evaluation of rule i just made had no answer: the result is not to be
 * used. Rows are the program's own, not input lines, so there is no line
 * to reject: the person is told, and the exit status says it.
 */
static bool
gave_up(const struct ecs_rules *r, size_t i, const char *taken_as)
{
	const char *why = ecs_expr_take_error();
	char shown[ECS_SHOWN_SIZE];

	if (why == NULL)
		return false;
	undecided++;
	ecs_stats_clear();
	warnx("%s '%s': no answer for the row with %s%s (%s): taken as %s",
	    r->rule[i].opt, r->rule[i].text, r->names[0],
	    ecs_field_shown(&r->value[0], shown), why, taken_as);
	return true;
}

bool
ecs_rules_holds(const struct ecs_rules *r, size_t i, bool if_undecided)
{
	bool holds;

	(void)ecs_expr_take_error();
	holds = ecs_expr_match_fields(r->rule[i].expr, r->read);
	if (gave_up(r, i, if_undecided ? "true" : "false"))
		return if_undecided;
	return holds;
}

bool
ecs_rules_eval_dec(const struct ecs_rules *r, size_t i, struct ecs_dec *v)
{
	bool has;

	(void)ecs_expr_take_error();
	has = ecs_expr_eval_dec(r->rule[i].expr, r->read, v);
	return !gave_up(r, i, "null") && has;
}

void
ecs_rules_finish(struct ecs_rules *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		ecs_expr_free(r->rule[i].expr);
		free(r->rule[i].keys);
	}
	free(r->rule);
	free(r->names);
	free(r->value);
	free(r->src);
	free(r->read);
	ecs_fields_finish(&r->fields);
}
