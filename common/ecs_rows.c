/* SPDX-License-Identifier: ISC */
/*
 * ecs_rows.c -- derived metrics and the N best rows of a window (see
 * ecs_rows.h).
 */
#include <ctype.h>
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "ecs_agg.h"
#include "ecs_expr.h"
#include "ecs_rows.h"

bool
ecs_derived_parse(struct ecs_derived *d, const char *opt, const char *spec)
{
	const char *eq = strchr(spec, '='), *p, *id;
	char name[32], msg[256];
	size_t len;

	if (eq == NULL || eq == spec)
		return false;
	for (p = eq + 1; *p == ' '; p++)
		continue;
	for (id = p; isalnum((unsigned char)*p) || *p == '_'; p++)
		continue;
	len = (size_t)(p - id);
	while (*p == ' ')
		p++;
	if (*p == '(' && len < sizeof(name)) {
		memcpy(name, id, len);
		name[len] = '\0';
		if (ecs_agg_lookup(name) != NULL)
			return false;		/* NAME=FUNC(...) */
	}
	memset(d, 0, sizeof(*d));
	d->text = eq + 1;
	if ((d->expr = ecs_expr_compile(d->text, msg, sizeof(msg))) == NULL)
		errx(ECS_EXIT_USAGE, "%s '%s': not an aggregate call "
		    "FUNC(EXPR), nor an expression over the row's metrics:%s",
		    opt, spec, msg);
	d->name = ecs_xstrndup(spec, (size_t)(eq - spec));
	return true;
}

void
ecs_derived_write(const struct ecs_derived *d, const struct ecs_rules *r,
    struct ecs_buf *b)
{
	struct ecs_dec v, scaled;
	uint64_t div = 1;
	char num[96];
	int k;

	if (!ecs_rules_eval_dec(r, d->rule, &v)) {
		ecs_buf_puts(b, "null");
		return;
	}
	if (v.exact && v.scale <= ECS_DERIVED_PLACES) {
		ecs_buf_dec(b, &v);
		return;
	}
	/* v = m / 10^scale = (m / 10^6) / 10^(scale - 6): avg()'s rounding. */
	scaled = v;
	for (k = ECS_DERIVED_PLACES; v.exact && k < v.scale; k++)
		div *= 10;
	if (v.exact)
		scaled.scale = ECS_DERIVED_PLACES;
	ecs_buf_add(b, num, ecs_dec_format_ratio(&scaled, div,
	    ECS_DERIVED_PLACES, num, sizeof(num)));
}

void
ecs_derived_finish(struct ecs_derived *d)
{
	free(d->name);
}

void
ecs_top_add(struct ecs_top *t, void *item, const char *key, size_t len,
    const struct ecs_field *value)
{
	struct ecs_top_row *r;

	if (t->nrow == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->row = ecs_xrealloc(t->row, t->cap * sizeof(*t->row));
	}
	r = &t->row[t->nrow++];
	*r = (struct ecs_top_row){ item, key, len, false, { 0 } };
	r->has = value->type == ECS_F_NUMBER &&
	    ecs_dec_parse(value->text, value->len, &r->v);
}

static bool top_desc;		/* the order of the qsort under way */

static int
top_cmp(const void *a, const void *b)
{
	const struct ecs_top_row *x = a, *y = b;
	size_t len = x->len < y->len ? x->len : y->len;
	int c;

	if (x->has != y->has)
		return x->has ? -1 : 1;		/* nulls last */
	if (x->has && (c = ecs_dec_cmp(&x->v, &y->v)) != 0)
		return top_desc ? -c : c;
	if ((c = memcmp(x->key, y->key, len)) != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

size_t
ecs_top_choose(struct ecs_top *t)
{
	top_desc = t->desc;
	qsort(t->row, t->nrow, sizeof(*t->row), top_cmp);
	return t->nrow < t->n ? t->nrow : t->n;
}

void
ecs_top_reset(struct ecs_top *t)
{
	t->nrow = 0;
}

void
ecs_top_finish(struct ecs_top *t)
{
	free(t->row);
}
