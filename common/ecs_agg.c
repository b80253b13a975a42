/* SPDX-License-Identifier: ISC */
/*
 * ecs_agg.c -- the aggregate kinds, one table row each (see ecs_agg.h):
 * exact counts, sums, means, minima and maxima of decimals; distinct,
 * quantile and top exact up to a budget and sketches past it (see
 * ecs_sketch.h); list of the first values.
 */
#include <err.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ecs_agg.h"
#include "ecs_expr.h"
#include "ecs_sketch.h"

#define EXACT_BUDGET	ECS_AGG_EXACT_BUDGET
#define DISTINCT_BOUND	0.02		/* HyperLogLog: 2.5 standard errors */
#define QUANTILE_ALPHA	0.01		/* DDSketch relative accuracy */
#define QUANTILE_DIGITS	4		/* significant digits of an estimate */
#define QUANTILE_BOUND	0.011		/* alpha, plus rounding to 4 digits */
#define TOP_COUNTERS(k)	((k) * 10 > EXACT_BUDGET ? (k) * 10 : EXACT_BUDGET)
#define AVG_PLACES	6
#define LIST_DEFAULT	100

/* What a kind aggregates: nothing (count), numbers, or keys. */
enum agg_input { IN_NONE, IN_DEC, IN_KEY };
/* Its second argument: none, a fraction (quantile), a count (top, list). */
enum agg_param { P_NONE, P_FRACTION, P_COUNT };

/*
 * One kind. Only name, input, init, add and write are required: a NULL
 * merge adds nothing but the count of values, a NULL is_exact means
 * always exact, NULL to_json/from_json keep nothing but the count and
 * the decimal v, and a NULL free frees nothing but what all kinds share.
 */
struct ecs_agg_type {
	const char	*name;
	enum agg_input	 input;
	enum agg_param	 param;
	size_t		 param_default;	/* 0: the parameter is required */
	void		(*init)(const struct ecs_metric *, struct ecs_agg *);
	void		(*add)(const struct ecs_metric *, struct ecs_agg *,
			    const struct ecs_agg_value *);
	bool		(*overflows)(const struct ecs_agg *,
			    const struct ecs_dec *);
	const char	*(*merge)(const struct ecs_metric *, struct ecs_agg *,
			    const struct ecs_agg *);
	void		(*write)(const struct ecs_metric *, struct ecs_agg *,
			    struct ecs_buf *);
	double		(*number)(const struct ecs_metric *, struct ecs_agg *);
	bool		(*is_exact)(const struct ecs_metric *,
			    const struct ecs_agg *);
	void		(*write_bound)(const struct ecs_metric *,
			    const struct ecs_agg *, struct ecs_buf *);
	void		(*to_json)(const struct ecs_metric *,
			    const struct ecs_agg *, struct json_object *);
	const char	*(*from_json)(const struct ecs_metric *,
			    struct json_object *, struct ecs_agg *);
	void		(*free)(struct ecs_agg *);
};

/* count() */

static void
no_init(const struct ecs_metric *m, struct ecs_agg *a)
{
	(void)m;
	(void)a;
}

static void
count_add(const struct ecs_metric *m, struct ecs_agg *a,
    const struct ecs_agg_value *v)
{
	(void)m;
	(void)v;
	a->n++;
}

static void
count_write(const struct ecs_metric *m, struct ecs_agg *a, struct ecs_buf *b)
{
	(void)m;
	ecs_buf_uint(b, a->n);
}

static double
count_number(const struct ecs_metric *m, struct ecs_agg *a)
{
	(void)m;
	return (double)a->n;
}

/* sum() and avg(): exact decimal sums */

static void
sum_add(const struct ecs_metric *m, struct ecs_agg *a,
    const struct ecs_agg_value *v)
{
	(void)m;
	ecs_dec_add(&a->v, &v->dec);
	a->n++;
}

static bool
sum_overflows(const struct ecs_agg *a, const struct ecs_dec *d)
{
	struct ecs_dec sum = a->v;

	ecs_dec_add(&sum, d);
	return !sum.exact && a->v.exact && d->exact;
}

static const char *
sum_merge(const struct ecs_metric *m, struct ecs_agg *into,
    const struct ecs_agg *from)
{
	(void)m;
	/* ecs_agg_merge_check checked the overflow. */
	ecs_dec_add(&into->v, &from->v);
	return NULL;
}

static void
sum_write(const struct ecs_metric *m, struct ecs_agg *a, struct ecs_buf *b)
{
	(void)m;
	ecs_buf_dec(b, &a->v);
}

static double
sum_number(const struct ecs_metric *m, struct ecs_agg *a)
{
	(void)m;
	return ecs_dec_to_double(&a->v);
}

static void
avg_write(const struct ecs_metric *m, struct ecs_agg *a, struct ecs_buf *b)
{
	char num[96];

	(void)m;
	ecs_buf_add(b, num, ecs_dec_format_ratio(&a->v, a->n, AVG_PLACES, num,
	    sizeof(num)));
}

static double
avg_number(const struct ecs_metric *m, struct ecs_agg *a)
{
	(void)m;
	return a->n > 0 ? ecs_dec_to_double(&a->v) / (double)a->n : 0;
}

/* min() and max() */

/* The extreme of kind sign (-1 min, 1 max) takes v when it is beyond. */
static void
extreme_take(struct ecs_agg *a, uint64_t n, const struct ecs_dec *v, int sign)
{
	if (n > 0 && (a->n == 0 || ecs_dec_cmp(v, &a->v) == sign))
		a->v = *v;
}

static void
min_add(const struct ecs_metric *m, struct ecs_agg *a,
    const struct ecs_agg_value *v)
{
	(void)m;
	extreme_take(a, 1, &v->dec, -1);
	a->n++;
}

static void
max_add(const struct ecs_metric *m, struct ecs_agg *a,
    const struct ecs_agg_value *v)
{
	(void)m;
	extreme_take(a, 1, &v->dec, 1);
	a->n++;
}

static const char *
min_merge(const struct ecs_metric *m, struct ecs_agg *into,
    const struct ecs_agg *from)
{
	(void)m;
	extreme_take(into, from->n, &from->v, -1);
	return NULL;
}

static const char *
max_merge(const struct ecs_metric *m, struct ecs_agg *into,
    const struct ecs_agg *from)
{
	(void)m;
	extreme_take(into, from->n, &from->v, 1);
	return NULL;
}

static void
extreme_write(const struct ecs_metric *m, struct ecs_agg *a, struct ecs_buf *b)
{
	(void)m;
	if (a->n == 0)
		ecs_buf_puts(b, "null");
	else
		ecs_buf_dec(b, &a->v);
}

static double
extreme_number(const struct ecs_metric *m, struct ecs_agg *a)
{
	(void)m;
	return a->n > 0 ? ecs_dec_to_double(&a->v) : 0;
}

/* The sketches' common parts */

static void
relative_bound(struct ecs_buf *b, double bound)
{
	ecs_buf_puts(b, "{\"relative_error\":");
	ecs_buf_double(b, bound, -1);
	ecs_buf_putc(b, '}');
}

/* A sketch's state, read by its kind's reader, or why it is not one. */
static const char *
sketch_from_json(struct json_object *o, struct ecs_agg *a,
    void *(*load)(struct json_object *, const char **))
{
	struct json_object *s = NULL;
	const char *why = "missing";

	json_object_object_get_ex(o, "s", &s);
	a->sketch = load(s, &why);
	return a->sketch == NULL ? why : NULL;
}

/* distinct(): exact while it fits the budget, then HyperLogLog */

static void
distinct_init(const struct ecs_metric *m, struct ecs_agg *a)
{
	(void)m;
	a->sketch = ecs_distinct_create(EXACT_BUDGET);
}

static void
distinct_add(const struct ecs_metric *m, struct ecs_agg *a,
    const struct ecs_agg_value *v)
{
	(void)m;
	/* As COUNT(DISTINCT x) in SQL: null is not a value. */
	if (v->is_null)
		return;
	ecs_distinct_add(a->sketch, v->key.p, v->key.len);
	a->n++;
}

static const char *
distinct_merge(const struct ecs_metric *m, struct ecs_agg *into,
    const struct ecs_agg *from)
{
	(void)m;
	ecs_distinct_merge(into->sketch, from->sketch);
	return NULL;
}

static void
distinct_write(const struct ecs_metric *m, struct ecs_agg *a,
    struct ecs_buf *b)
{
	(void)m;
	ecs_buf_uint(b, ecs_distinct_count(a->sketch));
}

static double
distinct_number(const struct ecs_metric *m, struct ecs_agg *a)
{
	(void)m;
	return (double)ecs_distinct_count(a->sketch);
}

static bool
distinct_is_exact(const struct ecs_metric *m, const struct ecs_agg *a)
{
	(void)m;
	return ecs_distinct_is_exact(a->sketch);
}

static void
distinct_bound(const struct ecs_metric *m, const struct ecs_agg *a,
    struct ecs_buf *b)
{
	(void)m;
	(void)a;
	relative_bound(b, DISTINCT_BOUND);
}

static void
distinct_to_json(const struct ecs_metric *m, const struct ecs_agg *a,
    struct json_object *o)
{
	(void)m;
	json_object_object_add(o, "s", ecs_distinct_to_json(a->sketch));
}

static void *
distinct_load(struct json_object *s, const char **why)
{
	return ecs_distinct_from_json(s, EXACT_BUDGET, why);
}

static const char *
distinct_from_json(const struct ecs_metric *m, struct json_object *o,
    struct ecs_agg *a)
{
	(void)m;
	return sketch_from_json(o, a, distinct_load);
}

static void
distinct_free(struct ecs_agg *a)
{
	ecs_distinct_destroy(a->sketch);
}

/*
 * quantile(): the value of nearest rank, exact (a value that occurred)
 * while the values fit the budget, then a DDSketch's estimate.
 */

static void
quantile_init(const struct ecs_metric *m, struct ecs_agg *a)
{
	(void)m;
	a->sketch = ecs_quantile_create(QUANTILE_ALPHA);
}

/* Keeps v as the exact value number at of a quantile, within the budget. */
static void
quantile_keep(struct ecs_agg *a, uint64_t at, const struct ecs_dec *v)
{
	if (at >= EXACT_BUDGET)
		return;
	while (at >= a->values_cap) {
		a->values_cap = a->values_cap ? a->values_cap * 2 : 16;
		if (a->values_cap > EXACT_BUDGET)
			a->values_cap = EXACT_BUDGET;
		a->values = ecs_xrealloc(a->values,
		    a->values_cap * sizeof(*a->values));
	}
	a->values[at] = *v;
}

static void
quantile_add(const struct ecs_metric *m, struct ecs_agg *a,
    const struct ecs_agg_value *v)
{
	(void)m;
	ecs_quantile_add(a->sketch, v->dec.d);
	quantile_keep(a, a->n, &v->dec);
	a->n++;
}

/* Exact while both are and the union fits the budget. */
static const char *
quantile_merge(const struct ecs_metric *m, struct ecs_agg *into,
    const struct ecs_agg *from)
{
	size_t i;

	(void)m;
	if (!ecs_quantile_merge(into->sketch, from->sketch))
		return "a quantile sketch of another accuracy";
	for (i = 0; i < from->n && i < EXACT_BUDGET; i++)
		quantile_keep(into, into->n + i, &from->values[i]);
	return NULL;
}

/*
 * The nearest rank of the q-quantile of n values, ceil(q * n) and at
 * least 1 (1-based), as DuckDB's quantile_disc: with q's decimal digits
 * when it has few enough, so that 0.1 * 30 is 3, not 3.0000000000000004.
 */
static uint64_t
nearest_rank(const struct ecs_metric *m, uint64_t n)
{
	ecs_i128 pow10 = 1, num;
	uint64_t r;
	int i;

	if (m->qdec.exact && m->qdec.scale >= 0 && m->qdec.scale <= 18) {
		for (i = 0; i < m->qdec.scale; i++)
			pow10 *= 10;
		num = m->qdec.m * (ecs_i128)n;
		r = (uint64_t)(num / pow10 + (num % pow10 != 0));
	} else
		r = (uint64_t)ceil(m->q * (double)n);
	return r < 1 ? 1 : r > n ? n : r;
}

static int
cmp_dec(const void *a, const void *b)
{
	return ecs_dec_cmp(a, b);
}

/*
 * Puts the n kept values of a quantile in order: the ones added since the
 * last time are sorted and merged in from the end, so that a row after
 * every event (--emit update) costs a move of the larger values, not a
 * sort of them all.
 */
static void
quantile_sort(struct ecs_agg *a, size_t n)
{
	struct ecs_dec *tail;
	size_t i = a->nsorted, j = n - a->nsorted, k = n;

	if (j == 0)
		return;
	qsort(a->values + i, j, sizeof(*a->values), cmp_dec);
	tail = ecs_xmalloc(j * sizeof(*tail));
	memcpy(tail, a->values + i, j * sizeof(*tail));
	while (j > 0) {
		if (i > 0 && ecs_dec_cmp(&a->values[i - 1], &tail[j - 1]) > 0)
			a->values[--k] = a->values[--i];
		else
			a->values[--k] = tail[--j];
	}
	free(tail);
	a->nsorted = n;
}

/*
 * The q-quantile in *out: exact while the values fit the budget, else the
 * sketch's estimate of the value of that rank, or its exact min and max
 * for ranks 1 and n (*extreme). False when there is none.
 */
static bool
quantile(const struct ecs_metric *m, struct ecs_agg *a, struct ecs_dec *out,
    bool *extreme)
{
	uint64_t r;

	if (a->n == 0)
		return false;
	r = nearest_rank(m, a->n);
	*extreme = r == 1 || r == a->n;
	if (a->n > EXACT_BUDGET) {
		/* The sketch's rank is floor(q' * (n - 1)), 0-based: r - 1. */
		ecs_dec_from_double(out, ecs_quantile_get(a->sketch,
		    r == a->n ? 1 : r == 1 ? 0 :
		    ((double)r - 0.5) / (double)(a->n - 1)));
		return true;
	}
	quantile_sort(a, (size_t)a->n);
	*out = a->values[r - 1];
	return true;
}

/*
 * An estimate to QUANTILE_DIGITS significant digits: more would be noise
 * under the sketch's 1%, and the digits kept add at most 0.05% to it.
 * Rounded by printf's %e, which is right at any magnitude, then written
 * as every number is (fixed notation, see ecs_format_double).
 */
static void
write_estimate(struct ecs_buf *b, double v)
{
	char e[32];

	snprintf(e, sizeof(e), "%.*e", QUANTILE_DIGITS - 1, v);
	ecs_buf_double(b, strtod(e, NULL), -1);
}

static void
quantile_write(const struct ecs_metric *m, struct ecs_agg *a,
    struct ecs_buf *b)
{
	struct ecs_dec d;
	bool extreme;

	if (!quantile(m, a, &d, &extreme))
		ecs_buf_puts(b, "null");
	else if (a->n > EXACT_BUDGET && !extreme)
		write_estimate(b, ecs_dec_to_double(&d));
	else		/* a value that occurred, or the sketch's min or max */
		ecs_buf_dec(b, &d);
}

static double
quantile_number(const struct ecs_metric *m, struct ecs_agg *a)
{
	struct ecs_dec d;
	bool extreme;

	return quantile(m, a, &d, &extreme) ? ecs_dec_to_double(&d) : 0;
}

static bool
quantile_is_exact(const struct ecs_metric *m, const struct ecs_agg *a)
{
	(void)m;
	return a->n <= EXACT_BUDGET;
}

static void
quantile_bound(const struct ecs_metric *m, const struct ecs_agg *a,
    struct ecs_buf *b)
{
	(void)m;
	(void)a;
	relative_bound(b, QUANTILE_BOUND);
}

static void
quantile_to_json(const struct ecs_metric *m, const struct ecs_agg *a,
    struct json_object *o)
{
	struct json_object *l = json_object_new_array();
	char num[96];
	size_t i;

	(void)m;
	json_object_object_add(o, "s", ecs_quantile_to_json(a->sketch));
	for (i = 0; i < a->n && i < EXACT_BUDGET; i++) {
		ecs_dec_format(&a->values[i], num, sizeof(num));
		json_object_array_add(l, json_object_new_string(num));
	}
	json_object_object_add(o, "q", l);
}

static void *
quantile_load(struct json_object *s, const char **why)
{
	return ecs_quantile_from_json(s, why);
}

static const char *
quantile_from_json(const struct ecs_metric *m, struct json_object *o,
    struct ecs_agg *a)
{
	struct json_object *l, *v;
	const char *why = sketch_from_json(o, a, quantile_load);
	size_t i;

	(void)m;
	if (!json_object_object_get_ex(o, "q", &l) ||
	    !json_object_is_type(l, json_type_array) ||
	    json_object_array_length(l) != (a->n < EXACT_BUDGET ?
	    a->n : EXACT_BUDGET))
		return "bad quantile values";
	a->values_cap = json_object_array_length(l);
	a->values = ecs_xcalloc(a->values_cap + 1, sizeof(*a->values));
	for (i = 0; i < a->values_cap; i++) {
		/* Decimal texts; an older ecs-sales saved numbers. */
		v = json_object_array_get_idx(l, i);
		if (!(json_object_is_type(v, json_type_string) ||
		    json_object_is_type(v, json_type_double) ||
		    json_object_is_type(v, json_type_int)) ||
		    !ecs_dec_parse(json_object_get_string(v),
		    strlen(json_object_get_string(v)), &a->values[i]))
			return "bad quantile values";
	}
	/* The sketch saw every value: past the budget it is the answer. */
	if (why == NULL && ecs_quantile_count(a->sketch) != a->n)
		return "a quantile sketch of another count of values";
	return why;
}

static void
quantile_free(struct ecs_agg *a)
{
	ecs_quantile_destroy(a->sketch);
}

/* top(): Space-Saving, exact while it has a counter for every key */

static void
top_init(const struct ecs_metric *m, struct ecs_agg *a)
{
	a->sketch = ecs_topk_create(TOP_COUNTERS(m->k));
}

static void
top_add(const struct ecs_metric *m, struct ecs_agg *a,
    const struct ecs_agg_value *v)
{
	(void)m;
	ecs_topk_add(a->sketch, v->key.p, v->key.len, 1);
	a->n++;
}

static const char *
top_merge(const struct ecs_metric *m, struct ecs_agg *into,
    const struct ecs_agg *from)
{
	(void)m;
	if (!ecs_topk_merge(into->sketch, from->sketch))
		return "a top summary of other counters (an older ecs-sales)";
	return NULL;
}

/* The k heaviest keys in *items (owned by the caller); their number. */
static size_t
top_items(const struct ecs_metric *m, const struct ecs_agg *a,
    struct ecs_topk_item **items)
{
	*items = ecs_xcalloc(m->k, sizeof(**items));
	return ecs_topk_list(a->sketch, m->k, *items);
}

/* [{"value":V,"count":C},...], with "error" when approximate. */
static void
top_write(const struct ecs_metric *m, struct ecs_agg *a, struct ecs_buf *b)
{
	struct ecs_topk_item *it;
	bool exact = ecs_topk_is_exact(a->sketch);
	size_t i, n = top_items(m, a, &it);

	ecs_buf_putc(b, '[');
	for (i = 0; i < n; i++) {
		ecs_buf_puts(b, i > 0 ? ",{\"value\":" : "{\"value\":");
		ecs_buf_add(b, it[i].key, it[i].len);
		ecs_buf_puts(b, ",\"count\":");
		ecs_buf_uint(b, it[i].count);
		if (!exact) {
			ecs_buf_puts(b, ",\"error\":");
			ecs_buf_uint(b, it[i].error);
		}
		ecs_buf_putc(b, '}');
	}
	ecs_buf_putc(b, ']');
	free(it);
}

static bool
top_is_exact(const struct ecs_metric *m, const struct ecs_agg *a)
{
	(void)m;
	return ecs_topk_is_exact(a->sketch);
}

/* The largest error of a listed count. */
static void
top_bound(const struct ecs_metric *m, const struct ecs_agg *a,
    struct ecs_buf *b)
{
	struct ecs_topk_item *it;
	uint64_t worst = 0;
	size_t i, n = top_items(m, a, &it);

	for (i = 0; i < n; i++)
		if (it[i].error > worst)
			worst = it[i].error;
	free(it);
	ecs_buf_puts(b, "{\"count_error\":");
	ecs_buf_uint(b, worst);
	ecs_buf_putc(b, '}');
}

static void
top_to_json(const struct ecs_metric *m, const struct ecs_agg *a,
    struct json_object *o)
{
	(void)m;
	json_object_object_add(o, "s", ecs_topk_to_json(a->sketch));
}

static void *
top_load(struct json_object *s, const char **why)
{
	return ecs_topk_from_json(s, why);
}

static const char *
top_from_json(const struct ecs_metric *m, struct json_object *o,
    struct ecs_agg *a)
{
	(void)m;
	return sketch_from_json(o, a, top_load);
}

static void
top_free(struct ecs_agg *a)
{
	ecs_topk_destroy(a->sketch);
}

/* list(): the first k values, as JSON texts */

static void
list_push(const struct ecs_metric *m, struct ecs_agg *a, const char *text,
    size_t len)
{
	if (a->nlist >= m->k)
		return;
	a->list = ecs_xrealloc(a->list, (a->nlist + 1) * sizeof(*a->list));
	a->list[a->nlist++] = ecs_xstrndup(text, len);
}

static void
list_add(const struct ecs_metric *m, struct ecs_agg *a,
    const struct ecs_agg_value *v)
{
	list_push(m, a, v->key.p, v->key.len);
}

static const char *
list_merge(const struct ecs_metric *m, struct ecs_agg *into,
    const struct ecs_agg *from)
{
	size_t i;

	for (i = 0; i < from->nlist; i++)
		list_push(m, into, from->list[i], strlen(from->list[i]));
	return NULL;
}

static void
list_write(const struct ecs_metric *m, struct ecs_agg *a, struct ecs_buf *b)
{
	size_t i;

	(void)m;
	ecs_buf_putc(b, '[');
	for (i = 0; i < a->nlist; i++) {
		if (i > 0)
			ecs_buf_putc(b, ',');
		ecs_buf_puts(b, a->list[i]);
	}
	ecs_buf_putc(b, ']');
}

static void
list_to_json(const struct ecs_metric *m, const struct ecs_agg *a,
    struct json_object *o)
{
	struct json_object *l = json_object_new_array();
	size_t i;

	(void)m;
	for (i = 0; i < a->nlist; i++)
		json_object_array_add(l, json_object_new_string(a->list[i]));
	json_object_object_add(o, "l", l);
}

static const char *
list_from_json(const struct ecs_metric *m, struct json_object *o,
    struct ecs_agg *a)
{
	struct json_object *l, *v;
	size_t i;

	if (!json_object_object_get_ex(o, "l", &l) ||
	    !json_object_is_type(l, json_type_array))
		return "bad list";
	for (i = 0; i < json_object_array_length(l); i++) {
		v = json_object_array_get_idx(l, i);
		if (!json_object_is_type(v, json_type_string))
			return "bad list";
		list_push(m, a, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
	}
	return NULL;
}

/* The table */

static const struct ecs_agg_type agg_types[] = {
	{ .name = "count", .input = IN_NONE, .init = no_init,
	  .add = count_add, .write = count_write, .number = count_number },
	{ .name = "sum", .input = IN_DEC, .init = no_init, .add = sum_add,
	  .overflows = sum_overflows, .merge = sum_merge, .write = sum_write,
	  .number = sum_number },
	{ .name = "avg", .input = IN_DEC, .init = no_init, .add = sum_add,
	  .overflows = sum_overflows, .merge = sum_merge, .write = avg_write,
	  .number = avg_number },
	{ .name = "min", .input = IN_DEC, .init = no_init, .add = min_add,
	  .merge = min_merge, .write = extreme_write,
	  .number = extreme_number },
	{ .name = "max", .input = IN_DEC, .init = no_init, .add = max_add,
	  .merge = max_merge, .write = extreme_write,
	  .number = extreme_number },
	{ .name = "distinct", .input = IN_KEY, .init = distinct_init,
	  .add = distinct_add, .merge = distinct_merge,
	  .write = distinct_write, .number = distinct_number,
	  .is_exact = distinct_is_exact, .write_bound = distinct_bound,
	  .to_json = distinct_to_json, .from_json = distinct_from_json,
	  .free = distinct_free },
	{ .name = "quantile", .input = IN_DEC, .param = P_FRACTION,
	  .init = quantile_init, .add = quantile_add, .merge = quantile_merge,
	  .write = quantile_write, .number = quantile_number,
	  .is_exact = quantile_is_exact, .write_bound = quantile_bound,
	  .to_json = quantile_to_json, .from_json = quantile_from_json,
	  .free = quantile_free },
	{ .name = "top", .input = IN_KEY, .param = P_COUNT, .init = top_init,
	  .add = top_add, .merge = top_merge, .write = top_write,
	  .number = count_number, .is_exact = top_is_exact,
	  .write_bound = top_bound, .to_json = top_to_json,
	  .from_json = top_from_json, .free = top_free },
	{ .name = "list", .input = IN_KEY, .param = P_COUNT,
	  .param_default = LIST_DEFAULT, .init = no_init, .add = list_add,
	  .merge = list_merge, .write = list_write, .number = count_number,
	  .to_json = list_to_json, .from_json = list_from_json },
};
#define NTYPES	(sizeof(agg_types) / sizeof(agg_types[0]))

const struct ecs_agg_type *
ecs_agg_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < NTYPES; i++)
		if (strcmp(agg_types[i].name, name) == 0)
			return &agg_types[i];
	return NULL;
}

/* Metrics */

/* The last comma of s outside quotes and brackets, or NULL. */
static char *
last_top_comma(char *s)
{
	char *comma = NULL;

	for (; (s = ecs_expr_top_char(s, ',')) != NULL; s++)
		comma = s;
	return comma;
}

static _Noreturn void
no_function(const char *opt, const char *spec, const char *fn)
{
	struct ecs_buf names = ECS_BUF_INIT;
	size_t i;

	for (i = 0; i < NTYPES; i++) {
		ecs_buf_puts(&names, i > 0 ? ", " : "");
		ecs_buf_puts(&names, agg_types[i].name);
	}
	errx(ECS_EXIT_USAGE, "%s '%s': no function '%s' (%s)", opt, spec, fn,
	    names.p);
}

/* The second argument at comma (cut there), into m; or a usage error. */
static void
parse_param(struct ecs_metric *m, const char *opt, const char *spec,
    char *comma)
{
	const char *text;
	char *end;
	double param = strtod(comma + 1, &end);

	if (end == comma + 1 || strspn(end, " ") != strlen(end))
		errx(ECS_EXIT_USAGE, "%s '%s': '%s' is not a number", opt, spec,
		    comma + 1);
	text = comma + 1 + strspn(comma + 1, " ");
	if (!ecs_dec_parse(text, (size_t)(end - text), &m->qdec))
		m->qdec.exact = false;		/* ranks by double */
	*comma = '\0';
	if (m->type->param == P_FRACTION && !(param >= 0 && param <= 1))
		errx(ECS_EXIT_USAGE, "%s '%s': the quantile must be from 0 to 1",
		    opt, spec);
	if (m->type->param == P_COUNT && !(param >= 1 && param <= 100000 &&
	    param == floor(param)))
		errx(ECS_EXIT_USAGE, "%s '%s': the count must be a whole number "
		    "from 1 to 100000", opt, spec);
	m->q = param;
	m->k = (size_t)param;
}

void
ecs_metric_parse(struct ecs_metric *m, const char *opt, const char *spec)
{
	char *copy = ecs_xstrdup(spec), *eq, *open, *args, *comma;
	char msg[256];
	size_t len;

	memset(m, 0, sizeof(*m));
	if ((eq = strchr(copy, '=')) == NULL || eq == copy ||
	    (open = strchr(eq, '(')) == NULL ||
	    (len = strlen(open)) < 2 || open[len - 1] != ')')
		errx(ECS_EXIT_USAGE, "%s '%s': expected NAME=FUNC(EXPR)", opt,
		    spec);
	*eq = *open = open[len - 1] = '\0';
	if ((m->type = ecs_agg_lookup(eq + 1)) == NULL)
		no_function(opt, spec, eq + 1);
	m->name = ecs_xstrdup(copy);
	m->spec = ecs_xstrdup(spec);
	m->k = m->type->param_default;
	args = open + 1;
	if (m->type->param != P_NONE) {
		if ((comma = last_top_comma(args)) != NULL)
			parse_param(m, opt, spec, comma);
		else if (m->type->param_default == 0)
			errx(ECS_EXIT_USAGE, "%s '%s': %s needs a second "
			    "argument", opt, spec, m->type->name);
	}
	if (m->type->input == IN_NONE) {
		if (args[strspn(args, " ")] != '\0')
			errx(ECS_EXIT_USAGE, "%s '%s': %s() takes no argument",
			    opt, spec, m->type->name);
	} else if ((m->arg = ecs_expr_compile(args, msg, sizeof(msg))) == NULL)
		errx(ECS_EXIT_USAGE, "%s '%s': expression:%s", opt, args, msg);
	free(copy);
}

void
ecs_metric_bind(struct ecs_metric *m, struct ecs_fieldset *fs)
{
	size_t i;

	if (m->arg != NULL)
		ecs_expr_bind(m->arg, fs);
	for (i = 0; i < 2; i++)
		if (m->alt[i] != NULL)
			ecs_expr_bind(m->alt[i], fs);
}

void
ecs_metric_finish(struct ecs_metric *m)
{
	free(m->spec);
	free(m->name);
	ecs_expr_free(m->arg);
	ecs_expr_free(m->alt[0]);
	ecs_expr_free(m->alt[1]);
}

bool
ecs_metric_is_decimal(const struct ecs_metric *m)
{
	return m->type->input == IN_DEC;
}

bool
ecs_metric_is_array(const struct ecs_metric *m)
{
	return m->type->param == P_COUNT;
}

bool
ecs_metric_sums(const struct ecs_metric *m)
{
	return m->type->overflows != NULL;
}

void
ecs_metric_eval(const struct ecs_metric *m, const struct ecs_field *f,
    struct ecs_agg_value *v)
{
	char num[64];
	const char *text;
	size_t len;
	bool is_string;

	v->has = false;
	if (m->type->input == IN_NONE) {
		v->has = true;
	} else if (m->type->input == IN_DEC) {
		/* Its expression, or the first fallback that has a number. */
		v->has = ecs_expr_eval_dec(m->arg, f, &v->dec) ||
		    (m->alt[0] != NULL && ecs_expr_eval_dec(m->alt[0], f,
		    &v->dec)) || (m->alt[1] != NULL &&
		    ecs_expr_eval_dec(m->alt[1], f, &v->dec));
	} else if (ecs_expr_eval_key(m->arg, f, num, &text, &len, &is_string)) {
		/* The string "null" is "\"null\"": only JSON null is null. */
		v->has = true;
		v->is_null = !is_string && len == 4 && memcmp(text, "null", 4) == 0;
		ecs_buf_reset(&v->key);
		if (is_string)
			ecs_buf_json_string(&v->key, text, len);
		else
			ecs_buf_add(&v->key, text, len);
	}
}

/* Aggregates: the table's entries, with what all kinds share */

void
ecs_agg_init(const struct ecs_metric *m, struct ecs_agg *a)
{
	memset(a, 0, sizeof(*a));
	ecs_dec_from_int(&a->v, 0);
	m->type->init(m, a);
}

void
ecs_agg_add(const struct ecs_metric *m, struct ecs_agg *a,
    const struct ecs_agg_value *v)
{
	if (v->has)
		m->type->add(m, a, v);
}

bool
ecs_agg_overflows(const struct ecs_metric *m, const struct ecs_agg *a,
    const struct ecs_agg_value *v)
{
	return v->has && m->type->overflows != NULL &&
	    m->type->overflows(a, &v->dec);
}

const char *
ecs_agg_merge_check(const struct ecs_metric *m, const struct ecs_agg *into,
    const struct ecs_agg *from)
{
	/* States keep counts as JSON integers: at most 2^63 - 1. */
	if (from->n > (uint64_t)INT64_MAX - into->n)
		return "the merged count would pass 2^63 - 1";
	if (m->type->overflows != NULL && m->type->overflows(into, &from->v))
		return "the merged sum would overflow (exact to 38 digits)";
	return NULL;
}

const char *
ecs_agg_merge(const struct ecs_metric *m, struct ecs_agg *into,
    const struct ecs_agg *from)
{
	const char *why;

	if ((why = ecs_agg_merge_check(m, into, from)) != NULL ||
	    (m->type->merge != NULL && (why = m->type->merge(m, into,
	    from)) != NULL))
		return why;
	into->n += from->n;
	return NULL;
}

void
ecs_agg_write(const struct ecs_metric *m, struct ecs_agg *a,
    struct ecs_buf *b)
{
	m->type->write(m, a, b);
}

bool
ecs_agg_is_exact(const struct ecs_metric *m, const struct ecs_agg *a)
{
	return m->type->is_exact == NULL || m->type->is_exact(m, a);
}

void
ecs_agg_write_bound(const struct ecs_metric *m, const struct ecs_agg *a,
    struct ecs_buf *b)
{
	if (m->type->write_bound != NULL)
		m->type->write_bound(m, a, b);
	else
		ecs_buf_puts(b, "null");
}

double
ecs_agg_number(const struct ecs_metric *m, struct ecs_agg *a)
{
	return m->type->number(m, a);
}

struct json_object *
ecs_agg_to_json(const struct ecs_metric *m, const struct ecs_agg *a)
{
	struct json_object *o = json_object_new_object();
	char num[96];

	json_object_object_add(o, "n", json_object_new_int64((int64_t)a->n));
	if (a->v.exact) {
		ecs_dec_format(&a->v, num, sizeof(num));
		json_object_object_add(o, "v", json_object_new_string(num));
	} else
		json_object_object_add(o, "d", json_object_new_double(a->v.d));
	if (m->type->to_json != NULL)
		m->type->to_json(m, a, o);
	return o;
}

const char *
ecs_agg_from_json(const struct ecs_metric *m, struct json_object *o,
    struct ecs_agg *a)
{
	struct json_object *v;

	memset(a, 0, sizeof(*a));
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "n", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0)
		return "bad aggregate";
	a->n = (uint64_t)json_object_get_int64(v);
	if (json_object_object_get_ex(o, "v", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    !ecs_dec_parse(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v), &a->v))
			return "bad aggregate value";
	} else if (json_object_object_get_ex(o, "d", &v))
		/*
		 * A double: no sum, minimum or maximum is one now; one read
		 * would be written as if exact (0.1 + 0.2 as 0.30000000000000004).
		 */
		return "an aggregate value that is not exact (an older ecs-sales)";
	else
		return "bad aggregate value";
	return m->type->from_json != NULL ? m->type->from_json(m, o, a) : NULL;
}

void
ecs_agg_free(const struct ecs_metric *m, struct ecs_agg *a)
{
	size_t i;

	if (m->type->free != NULL)
		m->type->free(a);
	for (i = 0; i < a->nlist; i++)
		free(a->list[i]);
	free(a->list);
	free(a->values);
}
