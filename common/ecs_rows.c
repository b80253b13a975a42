/* SPDX-License-Identifier: ISC */
/*
 * ecs_rows.c -- derived metrics and the N best rows of a window (see
 * ecs_rows.h).
 */
#include <ctype.h>
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs_agg.h"
#include "ecs_expr.h"
#include "ecs_rows.h"
#include "ecs_window.h"

/* Whether text at p is the word w, not part of a longer name or a path. */
static bool
at_word(const char *text, const char *p, const char *w)
{
	size_t len = strlen(w);

	return strncmp(p, w, len) == 0 && !isalnum((unsigned char)p[len]) &&
	    p[len] != '_' && (p == text || (!isalnum((unsigned char)p[-1]) &&
	    p[-1] != '_' && p[-1] != '.'));
}

/*
 * The expression of d with each total(NAME) as the key ."total(NAME)",
 * whose NAMEs d->totals holds; owned by the caller. Quoted text stays.
 */
static char *
rewrite_totals(struct ecs_derived *d, const char *opt, const char *spec)
{
	struct ecs_buf b = ECS_BUF_INIT;
	const char *p = d->text, *name;
	char quote = '\0';
	size_t len;

	while (*p != '\0') {
		if (quote == '\0' && at_word(d->text, p, "total")) {
			for (name = p + 5; *name == ' '; name++)
				continue;
			if (*name != '(')	/* a key named total */
				goto copy;
			for (name++; *name == ' '; name++)
				continue;
			for (len = 0; isalnum((unsigned char)name[len]) ||
			    name[len] == '_'; len++)
				continue;
			for (p = name + len; *p == ' '; p++)
				continue;
			if (len == 0 || *p != ')')
				errx(ECS_EXIT_USAGE, "%s '%s': total(NAME) takes "
				    "the name of a metric", opt, spec);
			p++;
			d->totals = ecs_xrealloc(d->totals,
			    (d->ntotals + 1) * sizeof(*d->totals));
			d->totals[d->ntotals++] = ecs_xstrndup(name, len);
			ecs_buf_puts(&b, ".\"total(");
			ecs_buf_add(&b, name, len);
			ecs_buf_puts(&b, ")\"");
			continue;
		}
copy:
		if (quote != '\0' && *p == '\\' && p[1] != '\0')
			ecs_buf_putc(&b, *p++);
		else if (*p == quote)
			quote = '\0';
		else if (quote == '\0' && (*p == '"' || *p == '\''))
			quote = *p;
		ecs_buf_putc(&b, *p++);
	}
	ecs_buf_putc(&b, '\0');
	return b.p;
}

bool
ecs_derived_parse(struct ecs_derived *d, const char *opt, const char *spec)
{
	const char *eq = strchr(spec, '='), *p, *id;
	char name[32], msg[256], *expr;
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
	expr = rewrite_totals(d, opt, spec);
	d->expr = ecs_expr_compile(expr, msg, sizeof(msg));
	free(expr);
	/* NAME=FUNC(...) that is no expression either: FUNC is unknown. */
	if (d->expr == NULL && *p == '(' && len > 0 &&
	    spec[strlen(spec) - 1] == ')')
		return false;
	if (d->expr == NULL)
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
	size_t i;

	for (i = 0; i < d->ntotals; i++)
		free(d->totals[i]);
	free(d->totals);
	free(d->name);
}

void
ecs_totals_add_derived(struct ecs_totals *ts, const struct ecs_derived *d)
{
	size_t i, k;

	for (i = 0; i < d->ntotals; i++) {
		for (k = 0; k < ts->n; k++)
			if (strcmp(ts->t[k].metric, d->totals[i]) == 0)
				break;
		if (k < ts->n)
			continue;
		ts->t = ecs_xrealloc(ts->t, (ts->n + 1) * sizeof(*ts->t));
		memset(&ts->t[ts->n], 0, sizeof(*ts->t));
		ts->t[ts->n].metric = d->totals[i];
		k = strlen(d->totals[i]) + 8;
		ts->t[ts->n].key = ecs_xcalloc(k, 1);
		snprintf(ts->t[ts->n++].key, k, "total(%s)", d->totals[i]);
	}
}

void
ecs_totals_bind(struct ecs_totals *ts, const char *const *names,
    size_t first, size_t last, const char *opt)
{
	size_t i, k;

	for (i = 0; i < ts->n; i++) {
		for (k = first; k < last; k++)
			if (strcmp(names[k], ts->t[i].metric) == 0)
				break;
		if (k == last)
			errx(ECS_EXIT_USAGE, "%s '%s': not an aggregate metric "
			    "given with -m", opt, ts->t[i].key);
		ts->t[i].metric_key = k;
	}
}

bool
ecs_totals_read(const struct ecs_totals *ts, const struct ecs_rules *r,
    size_t rule, const struct ecs_derived *d, size_t derived0)
{
	const struct ecs_rule *ru = &r->rule[rule];
	size_t i, k, key;

	for (k = 0; k < ru->nkeys; k++) {
		key = ru->keys[k];
		for (i = 0; i < ts->n; i++)
			if (r->names[key] == ts->t[i].key)
				return true;
		if (key >= derived0 && key < r->nlisted && ecs_totals_read(ts,
		    r, d[key - derived0].rule, d, derived0))
			return true;
	}
	return false;
}

void
ecs_totals_reset(struct ecs_totals *ts)
{
	size_t i;

	for (i = 0; i < ts->n; i++) {
		ecs_dec_from_int(&ts->t[i].sum, 0);
		ts->t[i].has = ts->t[i].approx = false;
	}
}

void
ecs_totals_add_row(struct ecs_totals *ts, const struct ecs_row *r)
{
	const struct ecs_field *f;
	struct ecs_dec v;
	size_t i;

	for (i = 0; i < ts->n; i++) {
		f = &r->rules.value[ts->t[i].metric_key];
		if (f->type != ECS_F_NUMBER || !ecs_dec_parse(f->text, f->len,
		    &v))
			continue;
		ecs_dec_add(&ts->t[i].sum, &v);
		ts->t[i].has = true;
		ts->t[i].approx |= r->approx[ts->t[i].metric_key] ||
		    !ts->t[i].sum.exact;
	}
}

void
ecs_totals_set(struct ecs_totals *ts, struct ecs_row *r, size_t key0)
{
	struct ecs_total *t;
	size_t i;

	for (i = 0; i < ts->n; i++) {
		t = &ts->t[i];
		r->rules.value[key0 + i] = (struct ecs_field){ ECS_F_NULL,
		    t->text, 0, NULL };
		if (t->has) {
			r->rules.value[key0 + i].type = ECS_F_NUMBER;
			r->rules.value[key0 + i].len = ecs_dec_format(&t->sum,
			    t->text, sizeof(t->text));
		}
		r->approx[key0 + i] = t->approx;
	}
}

void
ecs_totals_finish(struct ecs_totals *ts)
{
	size_t i;

	for (i = 0; i < ts->n; i++)
		free(ts->t[i].key);
	free(ts->t);
}

void
ecs_row_init(struct ecs_row *r, const char *const *names, size_t nlisted,
    size_t nnames, size_t group0, size_t ngroup)
{
	memset(r, 0, sizeof(*r));
	ecs_rules_init(&r->rules, names, nlisted, nnames);
	r->at = ecs_xcalloc(nnames + 1, sizeof(*r->at));
	r->approx = ecs_xcalloc(nnames + 1, sizeof(*r->approx));
	r->group0 = group0;
	r->ngroup = ngroup;
}

void
ecs_row_finish(struct ecs_row *r)
{
	ecs_rules_finish(&r->rules);
	free(r->at);
	free(r->approx);
	ecs_buf_free(&r->b);
}

void
ecs_row_begin(struct ecs_row *r)
{
	ecs_buf_reset(&r->b);
	ecs_buf_putc(&r->b, '{');
}

void
ecs_row_add(struct ecs_row *r, const char *text, size_t len)
{
	if (len == 0)
		return;
	if (r->b.len > 1)
		ecs_buf_putc(&r->b, ',');
	ecs_buf_add(&r->b, text, len);
}

size_t
ecs_row_name(struct ecs_row *r, const char *name)
{
	if (r->b.len > 1)
		ecs_buf_putc(&r->b, ',');
	ecs_buf_json_string(&r->b, name, strlen(name));
	ecs_buf_putc(&r->b, ':');
	return r->b.len;
}

void
ecs_row_value(struct ecs_row *r, size_t i, size_t at)
{
	struct ecs_field *f = &r->rules.value[i];
	char c = at < r->b.len ? r->b.p[at] : '\0';

	*f = (struct ecs_field){ ECS_F_NUMBER, NULL, r->b.len - at, NULL };
	if (c == '\0')
		f->type = ECS_F_MISSING;
	else if (c == 'n')
		f->type = ECS_F_NULL;
	else if (c == '[' || c == '{')
		f->type = ECS_F_OTHER;
	else if (c == '"') {		/* the text inside the quotes */
		f->type = ECS_F_STRING;
		at++;
		f->len -= 2;
	}
	r->at[i] = at;
}

void
ecs_row_time(struct ecs_row *r, size_t i, const char *name, int64_t t)
{
	size_t at = ecs_row_name(r, name);

	ecs_window_label(&r->b, t);	/* local, with its offset, under --tz */
	ecs_row_value(r, i, at);
}

/*
 * The values of the keys [0, n) point into the row, whose buffer may have
 * moved, and the rules take them.
 */
static void
point_into_row(struct ecs_row *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (i < r->group0 || i >= r->group0 + r->ngroup)
			r->rules.value[i].text = r->b.p + r->at[i];
	ecs_rules_begin(&r->rules);
}

void
ecs_row_derived(struct ecs_row *r, size_t i, const struct ecs_derived *d)
{
	const struct ecs_rule *rule = &r->rules.rule[d->rule];
	size_t k, at = ecs_row_name(r, d->name);

	point_into_row(r, i);
	ecs_derived_write(d, &r->rules, &r->b);
	ecs_row_value(r, i, at);
	for (k = 0, r->approx[i] = false; k < rule->nkeys; k++)
		r->approx[i] |= r->approx[rule->keys[k]];
}

void
ecs_row_derived_bound(struct ecs_row *r, const struct ecs_derived *d)
{
	const struct ecs_rule *rule = &r->rules.rule[d->rule];
	const char *name;
	size_t k, n = 0;

	for (k = 0; k < rule->nkeys; k++) {
		if (!r->approx[rule->keys[k]])
			continue;
		ecs_buf_puts(&r->b, n++ == 0 ? "{\"from\":[" : ",");
		name = r->rules.names[rule->keys[k]];
		ecs_buf_json_string(&r->b, name, strlen(name));
	}
	ecs_buf_puts(&r->b, "]}");
}

void
ecs_row_end(struct ecs_row *r, size_t at)
{
	ecs_row_value(r, r->rules.nnames - 1, at);
	ecs_buf_putc(&r->b, '}');
	point_into_row(r, r->rules.nnames);	/* complete: it no longer moves */
}

/* The row's members after its "{", with a comma first if any. */
static void
write_members(const struct ecs_row *r)
{
	if (r->b.len > 2)
		ecs_out_putc(',');
	ecs_out_write(r->b.p + 1, r->b.len - 1);
	ecs_out_putc('\n');
}

void
ecs_row_write(const struct ecs_row *r, const char *flag)
{
	if (flag == NULL) {
		ecs_buf_out(&r->b);
		ecs_out_putc('\n');
		return;
	}
	ecs_out_puts("{\"");
	ecs_out_puts(flag);
	ecs_out_puts("\":true");
	write_members(r);
}

void
ecs_row_alerts(const struct ecs_row *r, size_t n)
{
	struct ecs_buf head = ECS_BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!ecs_rules_holds(&r->rules, i, false))
			continue;
		ecs_buf_reset(&head);
		ecs_buf_puts(&head, "{\"alert\":\"rule\",\"rule\":");
		ecs_buf_json_string(&head, r->rules.rule[i].text,
		    strlen(r->rules.rule[i].text));
		ecs_buf_out(&head);
		write_members(r);
	}
	ecs_buf_free(&head);
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
	if (t->nrow == 0)
		return 0;
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
