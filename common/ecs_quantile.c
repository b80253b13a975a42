/* SPDX-License-Identifier: ISC */
/*
 * ecs_quantile.c -- the DDSketch quantiles of ecs_sketch.h: two collapsing
 * dense stores (positive and negative magnitudes) and a zero count, with a
 * merge and a JSON form. The stores depend only on the multiset of values
 * added, never on the order of adds and merges, so a sketch read back from
 * its JSON behaves exactly as the one that wrote it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "ecs_sketch.h"
#include "ecs_sketch_util.h"

/*
 * ecs_quantile (DDSketch). A magnitude x > 0 goes to bucket
 * k = ceil(log_gamma(x)), which holds (gamma^(k-1), gamma^k], with
 * gamma = (1 + alpha) / (1 - alpha); the bucket's value (1 - alpha) gamma^k
 * is within relative error alpha of all of it. A store is a dense array of
 * counts over the keys [lo, lo + len) of at most MAX_BUCKETS keys, with
 * counts[0] and counts[len - 1] nonzero. When a key would make it wider, the
 * lowest keys are collapsed: every key below max_key - MAX_BUCKETS + 1 is
 * counted there. That rule depends only on the multiset of keys added, so
 * the store is the same whatever the order of adds and merges.
 */
#define MAX_BUCKETS	ECS_QUANTILE_MAX_BUCKETS

struct store {
	uint64_t	*counts;	/* counts[i]: bucket lo + i */
	int32_t		 lo;
	uint32_t	 len, cap;	/* len 0: empty */
	uint64_t	 total;
};

struct ecs_quantile {
	double		 alpha;
	double		 ln_gamma;
	double		 inv_ln_gamma;
	int32_t		 key_min, key_max;	/* of finite nonzero doubles */
	struct store	 pos, neg;	/* magnitudes of values > 0, < 0 */
	uint64_t	 zero;
	uint64_t	 count;
	double		 min, max;	/* when count > 0 */
};

static void
store_reserve(struct store *s, uint32_t n)
{
	uint32_t cap = s->cap ? s->cap : 16;

	if (n <= s->cap)
		return;
	while (cap < n)
		cap *= 2;
	if (cap > MAX_BUCKETS)
		cap = MAX_BUCKETS;
	s->counts = ecs_xrealloc(s->counts, cap * sizeof(*s->counts));
	s->cap = cap;
}

/*
 * Makes the store cover [nlo, nhi] with nhi >= its last key: a lower nlo
 * extends it downwards, a higher one collapses the keys below nlo into nlo.
 */
static void
store_span(struct store *s, int64_t nlo, int64_t nhi)
{
	uint32_t nlen = (uint32_t)(nhi - nlo + 1), cut, keep, i;
	uint64_t moved = 0;

	store_reserve(s, nlen);
	if (nlo > s->lo) {
		cut = (uint32_t)(nlo - s->lo);
		for (i = 0; i < cut && i < s->len; i++)
			moved += s->counts[i];
		keep = cut < s->len ? s->len - cut : 0;
		memmove(s->counts, s->counts + (s->len - keep),
		    keep * sizeof(*s->counts));
		memset(s->counts + keep, 0, (nlen - keep) * sizeof(*s->counts));
		s->counts[0] += moved;
	} else {
		cut = (uint32_t)(s->lo - nlo);
		if (cut > 0) {
			memmove(s->counts + cut, s->counts,
			    s->len * sizeof(*s->counts));
			memset(s->counts, 0, cut * sizeof(*s->counts));
		}
		memset(s->counts + cut + s->len, 0,
		    (nlen - cut - s->len) * sizeof(*s->counts));
	}
	s->lo = (int32_t)nlo;
	s->len = nlen;
}

static void
store_add(struct store *s, int32_t key, uint64_t n)
{
	int64_t k = key, hi;

	if (n == 0)
		return;
	if (s->len == 0) {
		store_reserve(s, 1);
		s->lo = key;
		s->len = 1;
		s->counts[0] = 0;
	}
	hi = (int64_t)s->lo + s->len - 1;
	if (k < s->lo) {
		if (hi - k + 1 > MAX_BUCKETS)
			k = hi - MAX_BUCKETS + 1;
		if (k < s->lo)
			store_span(s, k, hi);
	} else if (k > hi)
		store_span(s, k - MAX_BUCKETS + 1 > s->lo ?
		    k - MAX_BUCKETS + 1 : s->lo, k);
	s->counts[k - s->lo] += n;
	s->total += n;
}

static void
store_merge(struct store *into, const struct store *from)
{
	uint32_t i, n = from->len;
	int32_t lo = from->lo;

	/* Keys in range never move the array: into == from is safe. */
	for (i = 0; i < n; i++)
		store_add(into, (int32_t)(lo + (int64_t)i), from->counts[i]);
}

struct ecs_quantile *
ecs_quantile_create(double alpha)
{
	struct ecs_quantile *s;

	if (!(alpha >= ECS_QUANTILE_MIN_ALPHA && alpha <= ECS_QUANTILE_MAX_ALPHA))
		return NULL;
	s = ecs_xcalloc(1, sizeof(*s));
	s->alpha = alpha;
	s->ln_gamma = log1p(2 * alpha / (1 - alpha));
	s->inv_ln_gamma = 1 / s->ln_gamma;
	/* ln of the smallest subnormal is -744.4, of DBL_MAX 709.8. */
	s->key_min = (int32_t)floor(-745 * s->inv_ln_gamma);
	s->key_max = (int32_t)ceil(710 * s->inv_ln_gamma);
	return s;
}

void
ecs_quantile_destroy(struct ecs_quantile *s)
{
	if (s == NULL)
		return;
	free(s->pos.counts);
	free(s->neg.counts);
	free(s);
}

static int32_t
quantile_key(const struct ecs_quantile *s, double x)
{
	double k = ceil(log(x) * s->inv_ln_gamma);

	if (k < s->key_min)
		return s->key_min;
	return k > s->key_max ? s->key_max : (int32_t)k;
}

void
ecs_quantile_add(struct ecs_quantile *s, double v)
{
	if (!isfinite(v))
		return;
	if (v > 0)
		store_add(&s->pos, quantile_key(s, v), 1);
	else if (v < 0)
		store_add(&s->neg, quantile_key(s, -v), 1);
	else {
		v = 0;		/* not -0.0 */
		s->zero++;
	}
	if (s->count++ == 0)
		s->min = s->max = v;
	else if (v < s->min)
		s->min = v;
	else if (v > s->max)
		s->max = v;
}

static double
bucket_value(const struct ecs_quantile *s, int64_t key)
{
	return (1 - s->alpha) * exp((double)key * s->ln_gamma);
}

double
ecs_quantile_get(const struct ecs_quantile *s, double q)
{
	const struct store *st;
	uint64_t rank, cum = 0;
	double v = 0;
	uint32_t i;

	if (s->count == 0 || !(q >= 0 && q <= 1))
		return NAN;
	if (q == 0)
		return s->min;
	if (q == 1)
		return s->max;
	rank = (uint64_t)floor(q * (double)(s->count - 1));
	if (rank < s->neg.total) {
		st = &s->neg;
		for (i = st->len; i-- > 0;)
			if ((cum += st->counts[i]) > rank) {
				v = -bucket_value(s, (int64_t)st->lo + i);
				break;
			}
	} else if (rank - s->neg.total >= s->zero) {
		rank -= s->neg.total + s->zero;
		st = &s->pos;
		for (i = 0; i < st->len; i++)
			if ((cum += st->counts[i]) > rank) {
				v = bucket_value(s, (int64_t)st->lo + i);
				break;
			}
	}
	return v < s->min ? s->min : v > s->max ? s->max : v;
}

uint64_t
ecs_quantile_count(const struct ecs_quantile *s)
{
	return s->count;
}

double
ecs_quantile_alpha(const struct ecs_quantile *s)
{
	return s->alpha;
}

bool
ecs_quantile_merge(struct ecs_quantile *into, const struct ecs_quantile *from)
{
	if (into->alpha != from->alpha)
		return false;
	if (from->count == 0)
		return true;
	store_merge(&into->pos, &from->pos);
	store_merge(&into->neg, &from->neg);
	into->zero += from->zero;
	if (into->count == 0) {
		into->min = from->min;
		into->max = from->max;
	} else {
		if (from->min < into->min)
			into->min = from->min;
		if (from->max > into->max)
			into->max = from->max;
	}
	into->count += from->count;
	return true;
}

static struct json_object *
store_to_json(const struct store *s)
{
	struct json_object *o = json_object_new_object(), *a;
	uint32_t i;

	a = json_object_new_array_ext((int)s->len);
	for (i = 0; i < s->len; i++)
		json_object_array_add(a, json_object_new_uint64(s->counts[i]));
	json_object_object_add(o, "key", json_object_new_int64(s->lo));
	json_object_object_add(o, "counts", a);
	return o;
}

struct json_object *
ecs_quantile_to_json(const struct ecs_quantile *s)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "alpha", json_object_new_double(s->alpha));
	json_object_object_add(o, "zero", json_object_new_uint64(s->zero));
	json_object_object_add(o, "pos", store_to_json(&s->pos));
	json_object_object_add(o, "neg", store_to_json(&s->neg));
	if (s->count > 0) {
		json_object_object_add(o, "min", json_object_new_double(s->min));
		json_object_object_add(o, "max", json_object_new_double(s->max));
	}
	return o;
}

/* Reads a store written by store_to_json; a static message on failure. */
static const char *
store_from_json(struct ecs_quantile *s, struct store *st,
    struct json_object *o)
{
	struct json_object *key, *counts;
	int64_t lo;
	uint64_t n;
	size_t i, len;

	if (!json_object_is_type(o, json_type_object) ||
	    json_object_object_length(o) != 2 ||
	    !json_object_object_get_ex(o, "key", &key) ||
	    !json_object_object_get_ex(o, "counts", &counts))
		return "quantile sketch store is not {\"key\",\"counts\"}";
	if (!json_i64(key, s->key_min, s->key_max, &lo))
		return "quantile sketch store key out of range";
	if (!json_object_is_type(counts, json_type_array))
		return "quantile sketch store counts is not an array";
	len = json_object_array_length(counts);
	if (len > MAX_BUCKETS || lo + (int64_t)len - 1 > s->key_max)
		return "quantile sketch store has too many buckets";
	for (i = 0; i < len; i++) {
		if (!json_u64(json_object_array_get_idx(counts, i), &n))
			return "quantile sketch bucket count is not an integer";
		if (sat_add(s->count, n) == UINT64_MAX)
			return "quantile sketch count overflows";
		store_add(st, (int32_t)(lo + (int64_t)i), n);
		s->count += n;
	}
	return NULL;
}

struct ecs_quantile *
ecs_quantile_from_json(struct json_object *obj, const char **why)
{
	struct ecs_quantile *s;
	struct json_object *v, *v2, *min, *max;
	double alpha;
	bool has_min, has_max;

	if (!json_object_is_type(obj, json_type_object)) {
		*why = "quantile sketch is not an object";
		return NULL;
	}
	if (!json_object_object_get_ex(obj, "alpha", &v) ||
	    !json_number(v, &alpha) ||
	    (s = ecs_quantile_create(alpha)) == NULL) {
		*why = "quantile sketch 'alpha' is not in [1e-6, 0.5]";
		return NULL;
	}
	if (!json_object_object_get_ex(obj, "zero", &v) ||
	    !json_u64(v, &s->zero) || s->zero == UINT64_MAX) {
		*why = "quantile sketch 'zero' is not a count";
		goto fail;
	}
	s->count = s->zero;
	if (!json_object_object_get_ex(obj, "pos", &v) ||
	    !json_object_object_get_ex(obj, "neg", &v2)) {
		*why = "quantile sketch has no 'pos' or 'neg' store";
		goto fail;
	}
	if ((*why = store_from_json(s, &s->pos, v)) != NULL ||
	    (*why = store_from_json(s, &s->neg, v2)) != NULL)
		goto fail;
	has_min = json_object_object_get_ex(obj, "min", &min);
	has_max = json_object_object_get_ex(obj, "max", &max);
	if (json_object_object_length(obj) != 4 + has_min + has_max ||
	    has_min != (s->count > 0) || has_max != (s->count > 0)) {
		*why = "quantile sketch has unexpected keys";
		goto fail;
	}
	if (s->count == 0)
		return s;
	if (!json_number(min, &s->min) || !json_number(max, &s->max) ||
	    s->min > s->max || (s->neg.total > 0) != (s->min < 0) ||
	    (s->pos.total > 0) != (s->max > 0)) {
		*why = "quantile sketch 'min' and 'max' do not fit its buckets";
		goto fail;
	}
	s->min += 0;		/* -0.0 becomes 0 */
	s->max += 0;
	return s;
fail:
	ecs_quantile_destroy(s);
	return NULL;
}
