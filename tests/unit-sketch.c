/* SPDX-License-Identifier: ISC */
/*
 * unit-sketch -- checks of the sketches of common/ecs_sketch.h:
 * exactness and the switch to HyperLogLog, estimation error from 10k to
 * 10M distinct values, DDSketch quantiles against sorted data,
 * Space-Saving on a Zipf stream, merges equal to single sketches, JSON
 * round trips and hostile JSON.
 * Deterministic: its own PRNG with fixed seeds. Prints TAP, measured errors
 * as comments, and exits 1 on a failure. Built for the tests only.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "ecs_sketch.h"
#include "tap.h"

/* splitmix64: small, fast, and the same on every machine. */
static uint64_t rng_state;

static void
rng_seed(uint64_t seed)
{
	rng_state = seed;
}

static uint64_t
rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in (0, 1]. */
static double
rng_unit(void)
{
	return (double)((rng_next() >> 11) + 1) * 0x1p-53;
}

static double
rel_err(double est, double exact)
{
	return exact == 0 ? fabs(est) : fabs(est - exact) / fabs(exact);
}

/* The JSON text of a sketch's to_json, owned by the caller. */
static char *
json_text(struct json_object *o)
{
	char *s = ecs_xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return s;
}

static bool
same_json(struct json_object *a, struct json_object *b)
{
	char *x = json_text(a), *y = json_text(b);
	bool same = strcmp(x, y) == 0;

	free(x);
	free(y);
	return same;
}

static void
test_hash(void)
{
	static const struct {
		const char	*in;
		uint64_t	 want;
	} v[] = {
		{ "", 0xef46db3751d8e999ULL },
		{ "a", 0xd24ec4f1a98c6e5bULL },
		{ "abc", 0x44bc2cf5ad770999ULL },
		{ "asdf", 0x415872f599cea71eULL },
		{ "Call me Ishmael.", 0x6d04390fc9d61a90ULL },
		{ "Nobody inspects the spammish repetition",
		    0xfbcea83c8a378bf1ULL },
	};
	size_t i;
	bool good = true;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (ecs_sketch_hash(v[i].in, strlen(v[i].in)) != v[i].want) {
			printf("# xxh64(\"%s\") wrong\n", v[i].in);
			good = false;
		}
	ok(good, "ecs_sketch_hash is XXH64 seed 0 (reference vectors)");
}

static void
add_str(struct ecs_distinct *d, const char *prefix, unsigned long i)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%s%lu", prefix, i);

	ecs_distinct_add(d, buf, (size_t)n);
}

static void
test_distinct_exact(void)
{
	struct ecs_distinct *d = ecs_distinct_create(10000);
	unsigned long i;
	uint64_t c;

	ok(ecs_distinct_count(d) == 0 && ecs_distinct_is_exact(d),
	    "distinct: empty is exact 0");
	for (i = 0; i < 5000; i++) {
		add_str(d, "v", i);
		add_str(d, "v", i / 2);
	}
	ok(ecs_distinct_count(d) == 5000 && ecs_distinct_is_exact(d),
	    "distinct: 5000 values (each added twice) count exactly 5000");
	for (; i < 10000; i++)
		add_str(d, "v", i);
	ok(ecs_distinct_count(d) == 10000 && ecs_distinct_is_exact(d),
	    "distinct: exact up to the limit, 10000");
	add_str(d, "v", 3);
	ok(ecs_distinct_is_exact(d), "distinct: a repeat at the limit stays exact");
	add_str(d, "v", i);
	c = ecs_distinct_count(d);
	printf("# 10001 distinct after the switch: estimate %llu (%+.3f%%)\n",
	    (unsigned long long)c, 100 * ((double)c - 10001) / 10001);
	ok(!ecs_distinct_is_exact(d) && rel_err((double)c, 10001) < 0.02,
	    "distinct: value 10001 switches to HyperLogLog, within 2%%");
	ecs_distinct_destroy(d);

	d = ecs_distinct_create(0);
	ok(!ecs_distinct_is_exact(d) && ecs_distinct_count(d) == 0,
	    "distinct: limit 0 is HyperLogLog from the start, empty 0");
	ecs_distinct_add(d, "x", 1);
	ecs_distinct_add(d, "x", 1);
	ecs_distinct_add(d, "", 0);
	ok(ecs_distinct_count(d) == 2, "distinct: HyperLogLog counts 2 as 2");
	ecs_distinct_destroy(d);
	ecs_distinct_destroy(NULL);
}

static void
test_distinct_hll(void)
{
	static const unsigned long sweep[] = { 10001, 20000, 50000, 100000,
	    200000, 500000, 1000000, 2000000, 5000000, 10000000 };
	struct ecs_distinct *d = ecs_distinct_create(10000);
	unsigned long i;
	unsigned char key[8];
	double err, worst = 0;
	size_t j, k;
	uint64_t c;
	bool good = true;

	rng_seed(1);
	for (i = 0; i < 1000000; i++) {
		add_str(d, "user-", i);
		if (i % 3 == 0)		/* a repeat changes nothing */
			add_str(d, "user-", rng_next() % (i + 1));
		if (i + 1 == 100000 || i + 1 == 1000000) {
			c = ecs_distinct_count(d);
			err = ((double)c - (double)(i + 1)) / (double)(i + 1);
			printf("# hll %lu distinct: estimate %llu (%+.3f%%)\n",
			    i + 1, (unsigned long long)c, 100 * err);
			ok(fabs(err) < 0.025,
			    "distinct: HyperLogLog error < 2.5%% at %lu", i + 1);
		}
	}
	ecs_distinct_destroy(d);

	/* Binary keys, for speed: 8 bytes of a scrambled counter. */
	d = ecs_distinct_create(10000);
	for (i = 0, j = 0; j < sizeof(sweep) / sizeof(sweep[0]); j++) {
		for (; i < sweep[j]; i++) {
			for (k = 0; k < 8; k++)
				key[k] = (unsigned char)((i * 0x9e3779b1UL +
				    0x5bd1e995UL) >> (8 * k));
			ecs_distinct_add(d, (const char *)key, sizeof(key));
		}
		c = ecs_distinct_count(d);
		err = ((double)c - (double)i) / (double)i;
		printf("# sweep %lu distinct: estimate %llu (%+.3f%%)\n", i,
		    (unsigned long long)c, 100 * err);
		if (fabs(err) > worst)
			worst = fabs(err);
		if (fabs(err) >= 0.02)
			good = false;
	}
	ok(good, "distinct: error < 2%% from 10k to 10M (worst %.3f%%)",
	    100 * worst);
	ecs_distinct_destroy(d);
}

static void
test_distinct_merge(void)
{
	struct ecs_distinct *a, *b, *s;
	unsigned long i;
	bool good;

	a = ecs_distinct_create(10000);
	b = ecs_distinct_create(10000);
	s = ecs_distinct_create(10000);
	for (i = 0; i < 100000; i++) {
		add_str(i % 2 ? a : b, "m", i);
		if (i % 7 == 0)
			add_str(i % 2 ? b : a, "m", i);
		add_str(s, "m", i);
	}
	ecs_distinct_merge(a, b);
	printf("# merged halves: %llu, single sketch: %llu\n",
	    (unsigned long long)ecs_distinct_count(a),
	    (unsigned long long)ecs_distinct_count(s));
	ok(ecs_distinct_count(a) == ecs_distinct_count(s) &&
	    same_json(ecs_distinct_to_json(a), ecs_distinct_to_json(s)),
	    "distinct: merge of two overlapping halves == single sketch");
	ecs_distinct_merge(a, a);
	ok(ecs_distinct_count(a) == ecs_distinct_count(s),
	    "distinct: merge with itself changes nothing");
	ecs_distinct_destroy(a);
	ecs_distinct_destroy(b);
	ecs_distinct_destroy(s);

	a = ecs_distinct_create(10000);
	b = ecs_distinct_create(10000);
	for (i = 0; i < 3000; i++)
		add_str(a, "e", i);
	for (i = 2000; i < 5000; i++)
		add_str(b, "e", i);
	ecs_distinct_merge(a, b);
	ok(ecs_distinct_is_exact(a) && ecs_distinct_count(a) == 5000,
	    "distinct: exact + exact within the limit stays exact (5000)");
	for (i = 4000; i < 14000; i++)
		add_str(b, "e", i);
	s = ecs_distinct_create(10000);
	for (i = 0; i < 14000; i++)
		add_str(s, "e", i);
	ecs_distinct_merge(a, b);
	ok(!ecs_distinct_is_exact(a) &&
	    same_json(ecs_distinct_to_json(a), ecs_distinct_to_json(s)),
	    "distinct: exact + exact over the limit == single sketch");
	ecs_distinct_destroy(a);
	ecs_distinct_destroy(b);

	/* Exact into HyperLogLog and HyperLogLog into exact. */
	a = ecs_distinct_create(10000);
	b = ecs_distinct_create(10000);
	for (i = 0; i < 13000; i++)
		add_str(a, "e", i);
	for (i = 12500; i < 14000; i++)
		add_str(b, "e", i);
	ecs_distinct_merge(b, a);
	good = same_json(ecs_distinct_to_json(b), ecs_distinct_to_json(s));
	ecs_distinct_destroy(b);
	b = ecs_distinct_create(10000);
	for (i = 12500; i < 14000; i++)
		add_str(b, "e", i);
	ecs_distinct_merge(a, b);
	ok(good && same_json(ecs_distinct_to_json(a), ecs_distinct_to_json(s)),
	    "distinct: exact/HyperLogLog merges either way == single sketch");
	ecs_distinct_destroy(a);
	ecs_distinct_destroy(b);
	ecs_distinct_destroy(s);
}

/* Parses text and gives it to from_json; true when rejected with a why. */
static bool
distinct_rejects(const char *text)
{
	struct json_object *o = json_tokener_parse(text);
	struct ecs_distinct *d;
	const char *why = NULL;

	d = ecs_distinct_from_json(o, 100, &why);
	json_object_put(o);
	if (d != NULL) {
		printf("# accepted: %.60s\n", text);
		ecs_distinct_destroy(d);
		return false;
	}
	return why != NULL;
}

static void
test_distinct_json(void)
{
	static const char *bad[] = {
		"null", "5", "\"x\"", "[]", "{}",
		"{\"exact\":5}", "{\"exact\":{}}", "{\"exact\":[5]}",
		"{\"exact\":[\"xyz\"]}", "{\"exact\":[\"0123456789abcdeg\"]}",
		"{\"exact\":[\"0123456789abcde\"]}",
		"{\"exact\":[\"0123456789abcdef0\"]}",
		"{\"exact\":[\"0123456789abcde\\u0000\"]}",
		"{\"exact\":[\"0000000000000002\",\"0000000000000001\"]}",
		"{\"exact\":[\"0000000000000001\",\"0000000000000001\"]}",
		"{\"exact\":[],\"p\":14}",
		"{\"hll\":\"AAAA\",\"p\":14}", "{\"hll\":5,\"p\":14}",
		"{\"hll\":\"\"}", "{\"p\":14}", "{\"hll\":\"\",\"p\":12}",
		"{\"hll\":\"\",\"p\":\"14\"}",
	};
	struct ecs_distinct *d, *e;
	struct json_object *o;
	const char *why;
	char *text, *p;
	size_t i, n;
	bool good;

	/* Exact, including the hash 0, which the table keeps aside. */
	o = json_tokener_parse("{\"exact\":[\"0000000000000000\","
	    "\"00000000000000ff\",\"FFFFFFFFFFFFFFFF\"]}");
	d = ecs_distinct_from_json(o, 100, &why);
	json_object_put(o);
	ok(d != NULL && ecs_distinct_count(d) == 3 && ecs_distinct_is_exact(d),
	    "distinct: from_json reads hashes, 0 and upper case included");
	text = json_text(ecs_distinct_to_json(d));
	ok(strcmp(text, "{\"exact\":[\"0000000000000000\","
	    "\"00000000000000ff\",\"ffffffffffffffff\"]}") == 0,
	    "distinct: to_json writes sorted lower-case hex");
	free(text);
	ecs_distinct_destroy(d);

	for (int hll = 0; hll < 2; hll++) {
		d = ecs_distinct_create(10000);
		for (i = 0; i < (hll ? 50000 : 5000); i++)
			add_str(d, "j", i);
		o = ecs_distinct_to_json(d);
		e = ecs_distinct_from_json(o, 10000, &why);
		json_object_put(o);
		good = e != NULL && ecs_distinct_count(e) ==
		    ecs_distinct_count(d) &&
		    ecs_distinct_is_exact(e) == ecs_distinct_is_exact(d) &&
		    same_json(ecs_distinct_to_json(d), ecs_distinct_to_json(e));
		for (; e != NULL && i < (hll ? 60000 : 9000); i++) {
			add_str(d, "j", i);
			add_str(e, "j", i);
		}
		ok(good && e != NULL &&
		    same_json(ecs_distinct_to_json(d), ecs_distinct_to_json(e)),
		    "distinct: %s round trip, then the same after more adds",
		    hll ? "HyperLogLog" : "exact");
		ecs_distinct_destroy(d);
		ecs_distinct_destroy(e);
	}

	/* A saved exact set larger than the new limit becomes HyperLogLog. */
	d = ecs_distinct_create(10000);
	for (i = 0; i < 500; i++)
		add_str(d, "k", i);
	o = ecs_distinct_to_json(d);
	e = ecs_distinct_from_json(o, 100, &why);
	json_object_put(o);
	ok(e != NULL && !ecs_distinct_is_exact(e) &&
	    rel_err((double)ecs_distinct_count(e), 500) < 0.02,
	    "distinct: from_json over a smaller limit turns HyperLogLog");
	ecs_distinct_destroy(d);
	ecs_distinct_destroy(e);

	good = true;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		good &= distinct_rejects(bad[i]);
	ok(good, "distinct: from_json rejects %zu malformed inputs", i);

	/* HyperLogLog strings: bad digit, bad padding, register 52. */
	d = ecs_distinct_create(0);
	ecs_distinct_add(d, "a", 1);
	text = json_text(ecs_distinct_to_json(d));
	ecs_distinct_destroy(d);
	p = strstr(text, "\"hll\":\"") + 7;
	n = strlen(text);
	good = true;
	p[100] = '!';
	good &= distinct_rejects(text);
	p[100] = 'A';
	p[21846] = 'A';			/* "AA==" -> "AAA=" */
	good &= distinct_rejects(text);
	p[21846] = '=';
	p[21845] = 'B';			/* spare bits set */
	good &= distinct_rejects(text);
	p[21845] = 'A';
	memcpy(p, "NAAA", 4);		/* register 0 = 52 */
	good &= distinct_rejects(text);
	memcpy(p, "MwAA", 4);		/* register 0 = 51, the most */
	o = json_tokener_parse(text);
	d = ecs_distinct_from_json(o, 0, &why);
	json_object_put(o);
	good &= d != NULL;
	ecs_distinct_destroy(d);
	memmove(p + 10, p + 11, n - (size_t)(p + 11 - text) + 1);
	good &= distinct_rejects(text);
	ok(good, "distinct: from_json checks the base64 and the registers");
	free(text);
}

/* Exact quantile by the rank convention of ecs_quantile_get. */
static double
exact_quantile(const double *sorted, size_t n, double q)
{
	return sorted[(size_t)floor(q * (double)(n - 1))];
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Checks every q in qs: true when all are within alpha (zeros exact). */
static bool
quantiles_ok(const struct ecs_quantile *s, double *v, size_t n,
    const double *qs, size_t nq, const char *what, bool verbose)
{
	double alpha = ecs_quantile_alpha(s), est, want, e;
	size_t i;
	bool good = true;

	qsort(v, n, sizeof(*v), dbl_cmp);
	for (i = 0; i < nq; i++) {
		est = ecs_quantile_get(s, qs[i]);
		want = exact_quantile(v, n, qs[i]);
		e = rel_err(est, want);
		if (verbose)
			printf("# %s p%g: exact %.6g, estimate %.6g, "
			    "error %.4f%%\n", what, 100 * qs[i], want, est,
			    100 * e);
		if (!(e <= alpha * (1 + 1e-9))) {
			printf("# %s q=%g: exact %.17g, estimate %.17g\n",
			    what, qs[i], want, est);
			good = false;
		}
	}
	return good;
}

/* The number of buckets in a store of a quantile sketch's JSON. */
static size_t
store_buckets(const struct ecs_quantile *s, const char *store)
{
	struct json_object *o = ecs_quantile_to_json(s), *st, *c;
	size_t n = 0;

	if (json_object_object_get_ex(o, store, &st) &&
	    json_object_object_get_ex(st, "counts", &c))
		n = json_object_array_length(c);
	json_object_put(o);
	return n;
}

static void
test_quantile(void)
{
	static const double qs[] = { 0.5, 0.95, 0.99 };
	struct ecs_quantile *s, *a, *b, *t;
	struct json_object *o;
	const char *why;
	double *v, grid[101], u1, u2;
	size_t i, n = 100000;
	bool good;

	ok(ecs_quantile_create(0) == NULL && ecs_quantile_create(-1) == NULL &&
	    ecs_quantile_create(NAN) == NULL &&
	    ecs_quantile_create(0.6) == NULL &&
	    ecs_quantile_create(1e-7) == NULL,
	    "quantile: create rejects alpha outside [1e-6, 0.5]");
	s = ecs_quantile_create(ECS_QUANTILE_ALPHA);
	ecs_quantile_add(s, NAN);
	ok(ecs_quantile_count(s) == 0 && isnan(ecs_quantile_get(s, 0.5)),
	    "quantile: empty (NaN ignored) gives NaN");
	ecs_quantile_destroy(s);
	ecs_quantile_destroy(NULL);

	for (i = 0; i <= 100; i++)
		grid[i] = (double)i / 100;
	v = ecs_xmalloc(n * sizeof(*v));

	/* Exponential, mean 100. */
	rng_seed(2);
	s = ecs_quantile_create(ECS_QUANTILE_ALPHA);
	for (i = 0; i < n; i++)
		ecs_quantile_add(s, v[i] = -log(rng_unit()) * 100);
	ok(ecs_quantile_count(s) == n, "quantile: counts 100000");
	ok(quantiles_ok(s, v, n, qs, 3, "exponential", true),
	    "quantile: exponential p50/p95/p99 within 1%%");
	ok(quantiles_ok(s, v, n, grid, 101, "exponential", false) &&
	    ecs_quantile_get(s, 0) == v[0] && ecs_quantile_get(s, 1) == v[n - 1],
	    "quantile: exponential p0..p100 within 1%%, min and max exact");
	ok(isnan(ecs_quantile_get(s, -0.1)) && isnan(ecs_quantile_get(s, 1.5))
	    && isnan(ecs_quantile_get(s, NAN)), "quantile: q outside [0, 1]");
	ecs_quantile_destroy(s);

	/* Lognormal, sigma 2 (spans 8 decades), by Box-Muller. */
	s = ecs_quantile_create(ECS_QUANTILE_ALPHA);
	for (i = 0; i < n; i++) {
		u1 = rng_unit();
		u2 = rng_unit();
		v[i] = exp(2 * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2));
		ecs_quantile_add(s, v[i]);
	}
	ok(quantiles_ok(s, v, n, qs, 3, "lognormal", true) &&
	    quantiles_ok(s, v, n, grid, 101, "lognormal", false),
	    "quantile: lognormal p0..p100 within 1%%");
	ecs_quantile_destroy(s);

	/* Negatives, zeros, positives; and merge of halves. */
	s = ecs_quantile_create(ECS_QUANTILE_ALPHA);
	a = ecs_quantile_create(ECS_QUANTILE_ALPHA);
	b = ecs_quantile_create(ECS_QUANTILE_ALPHA);
	for (i = 0; i < n; i++) {
		u1 = rng_unit();
		if (u1 < 0.3)
			v[i] = log(rng_unit()) * 50;
		else if (u1 < 0.5)
			v[i] = u1 < 0.4 ? 0.0 : -0.0;
		else
			v[i] = exp(sqrt(-2 * log(rng_unit())) *
			    cos(2 * M_PI * rng_unit()));
		ecs_quantile_add(s, v[i]);
		ecs_quantile_add(i % 2 ? a : b, v[i]);
	}
	ok(quantiles_ok(s, v, n, grid, 101, "mixed", false) &&
	    ecs_quantile_get(s, 0.4) == 0 && !signbit(ecs_quantile_get(s, 0.4)),
	    "quantile: negatives, zeros and positives, p0..p100 within 1%%");
	ok(ecs_quantile_merge(a, b) &&
	    same_json(ecs_quantile_to_json(a), ecs_quantile_to_json(s)),
	    "quantile: merge of two halves == whole (same buckets)");
	t = ecs_quantile_create(0.02);
	ok(!ecs_quantile_merge(a, t) && ecs_quantile_count(a) == n,
	    "quantile: merge refuses another alpha");
	ecs_quantile_destroy(t);

	/* Round trip, then the same after more adds. */
	o = ecs_quantile_to_json(s);
	t = ecs_quantile_from_json(o, &why);
	json_object_put(o);
	good = t != NULL && ecs_quantile_count(t) == n;
	for (i = 0; good && i <= 100; i++)
		good = ecs_quantile_get(t, grid[i]) == ecs_quantile_get(s, grid[i]);
	for (i = 0; t != NULL && i < 1000; i++) {
		ecs_quantile_add(s, (double)i - 500);
		ecs_quantile_add(t, (double)i - 500);
	}
	ok(good && t != NULL &&
	    same_json(ecs_quantile_to_json(s), ecs_quantile_to_json(t)),
	    "quantile: round trip, then the same after more adds");
	u1 = ecs_quantile_get(a, 0);
	u2 = ecs_quantile_get(a, 1);
	ecs_quantile_merge(a, a);
	ok(ecs_quantile_count(a) == 2 * n && ecs_quantile_get(a, 0) == u1 &&
	    ecs_quantile_get(a, 1) == u2,
	    "quantile: merge with itself doubles the count");
	ecs_quantile_destroy(s);
	ecs_quantile_destroy(t);
	ecs_quantile_destroy(a);
	ecs_quantile_destroy(b);
	free(v);

	/* Infinities are ignored like NaN. */
	s = ecs_quantile_create(ECS_QUANTILE_ALPHA);
	ecs_quantile_add(s, INFINITY);
	ecs_quantile_add(s, 1);
	ecs_quantile_add(s, -INFINITY);
	ecs_quantile_add(s, NAN);
	ok(ecs_quantile_count(s) == 1 && ecs_quantile_get(s, 0.5) == 1 &&
	    store_buckets(s, "pos") == 1,
	    "quantile: +-inf and NaN are ignored");
	ecs_quantile_destroy(s);
}

static void
test_quantile_collapse(void)
{
	struct ecs_quantile *s, *a, *b, *r;
	double *v, e;
	size_t i, n = 60001;

	/* 10^-300 .. 10^300: 600 decades, far more than 2048 buckets. */
	v = ecs_xmalloc(n * sizeof(*v));
	s = ecs_quantile_create(ECS_QUANTILE_ALPHA);
	a = ecs_quantile_create(ECS_QUANTILE_ALPHA);
	b = ecs_quantile_create(ECS_QUANTILE_ALPHA);
	r = ecs_quantile_create(ECS_QUANTILE_ALPHA);
	for (i = 0; i < n; i++) {
		v[i] = pow(10, -300 + (double)i / 100);
		ecs_quantile_add(s, v[i]);
		ecs_quantile_add(i % 2 ? a : b, -v[i]);
		ecs_quantile_add(r, pow(10, 300 - (double)i / 100));
	}
	ok(store_buckets(s, "pos") == ECS_QUANTILE_MAX_BUCKETS,
	    "quantile: buckets are bounded at %d", ECS_QUANTILE_MAX_BUCKETS);
	ok(same_json(ecs_quantile_to_json(s), ecs_quantile_to_json(r)),
	    "quantile: collapsing is independent of the order of adds");
	e = rel_err(ecs_quantile_get(s, 0.99),
	    v[(size_t)floor(0.99 * (double)(n - 1))]);
	ok(e <= 0.01 * (1 + 1e-9),
	    "quantile: p99 stays within 1%% above the collapsed range");
	ok(ecs_quantile_get(s, 0.5) >= v[(n - 1) / 2],
	    "quantile: a collapsed p50 is overestimated, as documented");
	ecs_quantile_destroy(r);
	r = ecs_quantile_create(ECS_QUANTILE_ALPHA);
	for (i = 0; i < n; i++)
		ecs_quantile_add(r, -v[i]);
	ecs_quantile_merge(a, b);
	ok(store_buckets(a, "neg") == ECS_QUANTILE_MAX_BUCKETS &&
	    same_json(ecs_quantile_to_json(a), ecs_quantile_to_json(r)),
	    "quantile: merge of collapsed halves == whole (negatives)");
	ecs_quantile_destroy(s);
	ecs_quantile_destroy(a);
	ecs_quantile_destroy(b);
	ecs_quantile_destroy(r);
	free(v);
}

static bool
quantile_rejects(const char *text)
{
	struct json_object *o = json_tokener_parse(text);
	struct ecs_quantile *s;
	const char *why = NULL;

	s = ecs_quantile_from_json(o, &why);
	json_object_put(o);
	if (s != NULL) {
		printf("# accepted: %.70s\n", text);
		ecs_quantile_destroy(s);
		return false;
	}
	return why != NULL;
}

static void
test_quantile_json(void)
{
	static const char *bad[] = {
		"null", "[]", "{}", "{\"alpha\":0.01}",
		"{\"alpha\":\"0.01\",\"zero\":0,\"pos\":{\"key\":0,\"counts\":[]},"
		    "\"neg\":{\"key\":0,\"counts\":[]}}",
		"{\"alpha\":0,\"zero\":0,\"pos\":{\"key\":0,\"counts\":[]},"
		    "\"neg\":{\"key\":0,\"counts\":[]}}",
		"{\"alpha\":NaN,\"zero\":0,\"pos\":{\"key\":0,\"counts\":[]},"
		    "\"neg\":{\"key\":0,\"counts\":[]}}",
		"{\"alpha\":0.01,\"zero\":-1,\"pos\":{\"key\":0,\"counts\":[]},"
		    "\"neg\":{\"key\":0,\"counts\":[]}}",
		"{\"alpha\":0.01,\"zero\":0,\"pos\":[],"
		    "\"neg\":{\"key\":0,\"counts\":[]}}",
		"{\"alpha\":0.01,\"zero\":0,\"pos\":{\"key\":0},"
		    "\"neg\":{\"key\":0,\"counts\":[]}}",
		"{\"alpha\":0.01,\"zero\":0,\"pos\":{\"key\":0,\"counts\":[],"
		    "\"x\":1},\"neg\":{\"key\":0,\"counts\":[]}}",
		"{\"alpha\":0.01,\"zero\":0,\"pos\":{\"key\":1000000000,"
		    "\"counts\":[1]},\"neg\":{\"key\":0,\"counts\":[]},"
		    "\"min\":1,\"max\":1}",
		"{\"alpha\":0.01,\"zero\":0,\"pos\":{\"key\":35500,"
		    "\"counts\":[1,1]},\"neg\":{\"key\":0,\"counts\":[]},"
		    "\"min\":1,\"max\":1}",
		"{\"alpha\":0.01,\"zero\":0,\"pos\":{\"key\":0,"
		    "\"counts\":[1,-1]},\"neg\":{\"key\":0,\"counts\":[]},"
		    "\"min\":1,\"max\":1}",
		"{\"alpha\":0.01,\"zero\":0,\"pos\":{\"key\":0,"
		    "\"counts\":[1.5]},\"neg\":{\"key\":0,\"counts\":[]},"
		    "\"min\":1,\"max\":1}",
		"{\"alpha\":0.01,\"zero\":0,\"pos\":{\"key\":0,"
		    "\"counts\":[\"1\"]},\"neg\":{\"key\":0,\"counts\":[]},"
		    "\"min\":1,\"max\":1}",
		"{\"alpha\":0.01,\"zero\":0,\"pos\":{\"key\":0,"
		    "\"counts\":[9223372036854775807,9223372036854775807,"
		    "9223372036854775807]},\"neg\":{\"key\":0,\"counts\":[]},"
		    "\"min\":1,\"max\":1}",
		"{\"alpha\":0.01,\"zero\":1,\"pos\":{\"key\":0,\"counts\":[1]},"
		    "\"neg\":{\"key\":0,\"counts\":[]}}",
		"{\"alpha\":0.01,\"zero\":0,\"pos\":{\"key\":0,\"counts\":[]},"
		    "\"neg\":{\"key\":0,\"counts\":[]},\"min\":0,\"max\":0}",
		"{\"alpha\":0.01,\"zero\":1,\"pos\":{\"key\":0,\"counts\":[1]},"
		    "\"neg\":{\"key\":0,\"counts\":[]},\"min\":2,\"max\":1}",
		"{\"alpha\":0.01,\"zero\":1,\"pos\":{\"key\":0,\"counts\":[1]},"
		    "\"neg\":{\"key\":0,\"counts\":[]},\"min\":-1,\"max\":1}",
		"{\"alpha\":0.01,\"zero\":1,\"pos\":{\"key\":0,\"counts\":[1]},"
		    "\"neg\":{\"key\":0,\"counts\":[]},\"min\":0,\"max\":\"1\"}",
		"{\"alpha\":0.01,\"zero\":1,\"pos\":{\"key\":0,\"counts\":[1]},"
		    "\"neg\":{\"key\":0,\"counts\":[]},\"min\":0,\"max\":Infinity}",
		"{\"alpha\":0.01,\"zero\":1,\"pos\":{\"key\":0,\"counts\":[1]},"
		    "\"neg\":{\"key\":0,\"counts\":[]},\"min\":0,\"max\":1,"
		    "\"x\":0}",
	};
	struct json_object *o, *a;
	struct ecs_quantile *s;
	const char *why;
	size_t i;
	bool good = true;

	o = json_tokener_parse("{\"alpha\":0.01,\"zero\":1,\"pos\":{\"key\":0,"
	    "\"counts\":[1]},\"neg\":{\"key\":0,\"counts\":[]},\"min\":0,"
	    "\"max\":1}");
	s = ecs_quantile_from_json(o, &why);
	json_object_put(o);
	ok(s != NULL && ecs_quantile_count(s) == 2 &&
	    ecs_quantile_get(s, 1) == 1, "quantile: from_json reads a sketch");
	ecs_quantile_destroy(s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		good &= quantile_rejects(bad[i]);
	/* 2049 buckets. */
	o = json_tokener_parse("{\"alpha\":0.01,\"zero\":0,\"pos\":{\"key\":0,"
	    "\"counts\":[]},\"neg\":{\"key\":0,\"counts\":[]},\"min\":1,"
	    "\"max\":2}");
	json_object_object_get_ex(o, "pos", &a);
	json_object_object_get_ex(a, "counts", &a);
	for (i = 0; i <= ECS_QUANTILE_MAX_BUCKETS; i++)
		json_object_array_add(a, json_object_new_int(1));
	s = ecs_quantile_from_json(o, &why);
	json_object_put(o);
	good &= s == NULL;
	ecs_quantile_destroy(s);
	ok(good, "quantile: from_json rejects %zu malformed inputs",
	    sizeof(bad) / sizeof(bad[0]) + 1);
}

/*
 * Zipf streams over NKEYS keys: the key of rank r (0-based; ranks are
 * shuffled over the key names) comes with probability proportional to
 * 1 / (r + 1)^s.
 */
#define NKEYS	100000
#define NADDS	1000000

static const uint64_t *sort_truth;
static char (*keys)[16];
static size_t klen[NKEYS];

static int
truth_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (sort_truth[x] != sort_truth[y])
		return sort_truth[x] > sort_truth[y] ? -1 : 1;
	return strcmp(keys[x], keys[y]);
}

static uint32_t
key_id(const struct ecs_topk_item *it)
{
	return (uint32_t)strtoul(it->key + 4, NULL, 10);
}

/*
 * Checks a summary of the whole stream against the truth: every listed
 * count within its bounds, every key above N / counters listed, and, when
 * want_order, the true top 10 first in order (else only reported).
 */
static void
check_topk(const struct ecs_topk *t, const uint64_t *truth,
    const uint32_t *top, const char *what, bool want_order)
{
	struct ecs_topk_item out[100];
	size_t n = ecs_topk_list(t, 100, out), i;
	uint64_t f, maxerr = 0;
	bool order = n >= 10, bounds = true, heavy = true;
	bool *listed = ecs_xcalloc(NKEYS, sizeof(*listed));

	for (i = 0; i < n; i++) {
		f = truth[key_id(&out[i])];
		listed[key_id(&out[i])] = true;
		if (i < 10 && key_id(&out[i]) != top[i])
			order = false;
		if (f > out[i].count || out[i].count - out[i].error > f)
			bounds = false;
		if (i < 10 && out[i].error > maxerr)
			maxerr = out[i].error;
	}
	for (i = 0; i < NKEYS; i++)
		if (truth[i] > NADDS / 100 && !listed[i])
			heavy = false;
	free(listed);
	printf("# topk %s: true #10 %llu, #11 %llu; listed #10 %llu; "
	    "largest top-10 error %llu; smallest count %llu; top 10 %s\n",
	    what, (unsigned long long)truth[top[9]],
	    (unsigned long long)truth[top[10]],
	    (unsigned long long)out[9].count, (unsigned long long)maxerr,
	    (unsigned long long)out[n - 1].count,
	    order ? "in order" : "NOT in order");
	if (want_order)
		ok(order, "topk %s: the true top 10 come first, in order",
		    what);
	ok(bounds && ecs_topk_total(t) == NADDS,
	    "topk %s: count - error <= true count <= count for all %zu", what,
	    n);
	ok(heavy, "topk %s: every key above N/100 is listed", what);
}

static void
test_topk_zipf(double s, bool want_order)
{
	uint32_t *perm, *stream, *top, id, tmp;
	uint64_t *truth;
	double *cdf, u, sum = 0;
	struct ecs_topk *t, *part[4], *r;
	struct json_object *o;
	const char *why;
	size_t i, lo, hi, mid;
	char what[64];

	keys = ecs_xmalloc(NKEYS * sizeof(*keys));
	perm = ecs_xmalloc(NKEYS * sizeof(*perm));
	stream = ecs_xmalloc((NADDS + 50000) * sizeof(*stream));
	truth = ecs_xcalloc(NKEYS, sizeof(*truth));
	top = ecs_xmalloc(NKEYS * sizeof(*top));
	cdf = ecs_xmalloc(NKEYS * sizeof(*cdf));
	rng_seed(3);
	for (i = 0; i < NKEYS; i++) {
		klen[i] = (size_t)snprintf(keys[i], sizeof(keys[i]), "sku-%06zu",
		    i);
		perm[i] = (uint32_t)i;
	}
	for (i = NKEYS - 1; i > 0; i--) {
		id = (uint32_t)(rng_next() % (i + 1));
		tmp = perm[i];
		perm[i] = perm[id];
		perm[id] = tmp;
	}
	for (i = 0; i < NKEYS; i++)
		cdf[i] = sum += pow((double)(i + 1), -s);
	for (i = 0; i < NADDS + 50000; i++) {
		u = rng_unit() * sum;
		for (lo = 0, hi = NKEYS - 1; lo < hi;) {
			mid = (lo + hi) / 2;
			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		stream[i] = perm[lo];
		if (i < NADDS)
			truth[stream[i]]++;
	}
	for (i = 0; i < NKEYS; i++)
		top[i] = (uint32_t)i;
	sort_truth = truth;
	qsort(top, NKEYS, sizeof(*top), truth_cmp);

	t = ecs_topk_create(100);
	for (i = 0; i < 4; i++)
		part[i] = ecs_topk_create(100);
	for (i = 0; i < NADDS; i++) {
		ecs_topk_add(t, keys[stream[i]], klen[stream[i]], 1);
		ecs_topk_add(part[i / (NADDS / 4)], keys[stream[i]],
		    klen[stream[i]], 1);
	}
	snprintf(what, sizeof(what), "Zipf s=%.1f, 1M adds", s);
	check_topk(t, truth, top, what, want_order);
	r = ecs_topk_create(100);
	ecs_topk_merge(r, part[0]);
	ecs_topk_merge(r, part[1]);
	ecs_topk_merge(part[2], part[3]);
	ecs_topk_merge(r, part[2]);
	snprintf(what, sizeof(what), "Zipf s=%.1f, merge of 4 quarters", s);
	check_topk(r, truth, top, what, want_order);
	ecs_topk_destroy(r);
	ecs_topk_merge(part[0], part[1]);
	ecs_topk_merge(part[0], part[2]);
	snprintf(what, sizeof(what), "Zipf s=%.1f, merge of 2 halves", s);
	check_topk(part[0], truth, top, what, want_order);

	/* Round trip, then the same after more adds (with evictions). */
	o = ecs_topk_to_json(t);
	r = ecs_topk_from_json(o, &why);
	json_object_put(o);
	ok(r != NULL && same_json(ecs_topk_to_json(t), ecs_topk_to_json(r)),
	    "topk Zipf s=%.1f: round trip gives the same summary", s);
	for (i = NADDS; r != NULL && i < NADDS + 50000; i++) {
		ecs_topk_add(t, keys[stream[i]], klen[stream[i]], 1);
		ecs_topk_add(r, keys[stream[i]], klen[stream[i]], 1);
	}
	ok(r != NULL && same_json(ecs_topk_to_json(t), ecs_topk_to_json(r)),
	    "topk Zipf s=%.1f: the same after 50000 more adds", s);
	ecs_topk_destroy(r);
	ecs_topk_destroy(t);
	for (i = 0; i < 4; i++)
		ecs_topk_destroy(part[i]);
	free(keys);
	free(perm);
	free(stream);
	free(truth);
	free(top);
	free(cdf);
}

static bool
topk_rejects(const char *text)
{
	struct json_object *o = json_tokener_parse(text);
	struct ecs_topk *t;
	const char *why = NULL;

	t = ecs_topk_from_json(o, &why);
	json_object_put(o);
	if (t != NULL) {
		printf("# accepted: %.70s\n", text);
		ecs_topk_destroy(t);
		return false;
	}
	return why != NULL;
}

/* A short list is the start of the full one, ties and all. */
static void
test_topk_prefixes(void)
{
	struct ecs_topk_item all[300], some[300];
	struct ecs_topk *t = ecs_topk_create(1000);
	char key[16];
	size_t i, k, n;
	bool good = true;

	for (i = 0; i < 3000; i++) {
		/* 300 keys, counts from 1 to 20 with many ties, in mixed order. */
		snprintf(key, sizeof(key), "k%zu", (i * 7919) % 300);
		ecs_topk_add(t, key, strlen(key), 1 + (i * 31) % 3);
	}
	n = ecs_topk_list(t, 300, all);
	for (k = 1; k <= 300 && good; k++) {
		if (ecs_topk_list(t, k, some) != k)
			good = false;
		for (i = 0; i < k && good; i++)
			good = strcmp(some[i].key, all[i].key) == 0 &&
			    some[i].count == all[i].count;
	}
	ok(n == 300 && good, "topk: the first k listed are the first k of all, "
	    "for every k");
	ecs_topk_destroy(t);
}

static void
test_topk_small(void)
{
	static const char *bad[] = {
		"null", "[]", "{}",
		"{\"counters\":0,\"total\":0,\"items\":[]}",
		"{\"counters\":2097152,\"total\":0,\"items\":[]}",
		"{\"counters\":\"3\",\"total\":0,\"items\":[]}",
		"{\"counters\":3,\"total\":-1,\"items\":[]}",
		"{\"counters\":3,\"total\":4,\"items\":[[\"a\",3,0],[\"b\",2,1]]}",
		"{\"counters\":3,\"total\":5,\"items\":{}}",
		"{\"counters\":1,\"total\":5,\"items\":[[\"a\",3,0],[\"b\",2,1]]}",
		"{\"counters\":3,\"total\":5,\"items\":[5]}",
		"{\"counters\":3,\"total\":5,\"items\":[[\"a\",3]]}",
		"{\"counters\":3,\"total\":5,\"items\":[[1,3,0]]}",
		"{\"counters\":3,\"total\":5,\"items\":[[\"a\",0,0]]}",
		"{\"counters\":3,\"total\":5,\"items\":[[\"a\",-3,0]]}",
		"{\"counters\":3,\"total\":5,\"items\":[[\"a\",3,4]]}",
		"{\"counters\":3,\"total\":5,\"items\":[[\"a\",3,0.5]]}",
		"{\"counters\":3,\"total\":5,\"items\":[[\"b\",2,0],[\"a\",3,0]]}",
		"{\"counters\":3,\"total\":5,\"items\":[[\"b\",2,0],[\"a\",2,0]]}",
		"{\"counters\":3,\"total\":5,\"items\":[[\"a\",2,0],[\"a\",2,0]]}",
		"{\"counters\":3,\"total\":5,\"items\":[],\"x\":1}",
		"{\"counters\":3,\"total\":5}",
		("{\"counters\":3,\"total\":18446744073709551615,\"items\":"
		    "[[\"a\",18446744073709551615,0],[\"b\",2,0]]}"),
	};
	struct ecs_topk_item out[8];
	struct ecs_topk *t, *u;
	struct json_object *o;
	const char *why;
	size_t i, n;
	bool good = true;

	ok(ecs_topk_create(0) == NULL &&
	    ecs_topk_create(ECS_TOPK_MAX_COUNTERS + 1) == NULL,
	    "topk: create rejects 0 and too many counters");
	ecs_topk_destroy(NULL);
	t = ecs_topk_create(3);
	ok(ecs_topk_list(t, 8, out) == 0, "topk: empty lists nothing");
	ecs_topk_add(t, "a", 1, 5);
	ecs_topk_add(t, "b", 1, 3);
	ecs_topk_add(t, "zz", 2, 0);
	ecs_topk_add(t, "c", 1, 1);
	ok(ecs_topk_is_exact(t), "topk: exact while every key has a counter");
	ecs_topk_add(t, "d", 1, 1);	/* evicts c, count 2, error 1 */
	ok(!ecs_topk_is_exact(t), "topk: not exact after an eviction");
	n = ecs_topk_list(t, 8, out);
	ok(n == 3 && out[0].count == 5 && strcmp(out[0].key, "a") == 0 &&
	    out[1].count == 3 && strcmp(out[1].key, "b") == 0 &&
	    out[2].count == 2 && out[2].error == 1 &&
	    strcmp(out[2].key, "d") == 0 && ecs_topk_total(t) == 10,
	    "topk: weights, eviction of the smallest, weight 0 ignored");
	ecs_topk_destroy(t);

	t = ecs_topk_create(10);
	ecs_topk_add(t, "b", 1, 1);
	ecs_topk_add(t, "x\0z", 3, 1);
	ecs_topk_add(t, "c", 1, 1);
	ecs_topk_add(t, "x\0y", 3, 1);
	ecs_topk_add(t, "a", 1, 1);
	ecs_topk_add(t, "x", 1, 1);
	ecs_topk_add(t, "", 0, 1);
	n = ecs_topk_list(t, 8, out);
	ok(n == 7 && out[0].len == 0 && strcmp(out[1].key, "a") == 0 &&
	    strcmp(out[3].key, "c") == 0 && out[4].len == 1 &&
	    out[5].len == 3 && out[5].key[2] == 'y' && out[6].key[2] == 'z',
	    "topk: ties by key bytes, NUL bytes and the empty key");
	ok(ecs_topk_list(t, 2, out) == 2 && out[1].key[0] == 'a',
	    "topk: list stops at k");
	test_topk_prefixes();
	u = ecs_topk_create(11);
	ok(!ecs_topk_merge(t, u), "topk: merge refuses other counters");
	ecs_topk_destroy(u);
	u = ecs_topk_create(10);
	ecs_topk_add(u, "a", 1, 2);
	ecs_topk_add(u, "q", 1, 1);
	ok(ecs_topk_merge(u, t) && ecs_topk_is_exact(u),
	    "topk: a merge of exact summaries within the counters is exact");
	ecs_topk_destroy(u);
	u = ecs_topk_create(10);
	for (i = 0; i < 4; i++)
		ecs_topk_add(u, &"mnop"[i], 1, 1);
	ok(ecs_topk_merge(u, t) && !ecs_topk_is_exact(u),
	    "topk: a merge that drops keys is not exact");
	ecs_topk_destroy(u);
	o = ecs_topk_to_json(t);
	u = ecs_topk_from_json(o, &why);
	json_object_put(o);
	ok(u != NULL && same_json(ecs_topk_to_json(t), ecs_topk_to_json(u)),
	    "topk: round trip with NUL bytes in keys");
	ecs_topk_merge(u, u);
	n = ecs_topk_list(u, 8, out);
	ok(n == 7 && out[0].count == 2 && ecs_topk_total(u) == 14,
	    "topk: merge with itself doubles counts");
	ecs_topk_destroy(u);
	ecs_topk_destroy(t);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		good &= topk_rejects(bad[i]);
	ok(good, "topk: from_json rejects %zu malformed inputs", i);
}

/* Damages text at random: replaced, deleted, inserted bytes. */
static char *
mutate(const char *text)
{
	static const char alphabet[] = "0123456789-+.eE,:[]{}\"\\ aflnrstuAZ=/";
	size_t n = strlen(text), k, at, rounds = 1 + rng_next() % 3;
	char *s = ecs_xmalloc(n + rounds + 1);

	memcpy(s, text, n + 1);
	for (k = 0; k < rounds; k++) {
		at = n == 0 ? 0 : rng_next() % n;
		switch (rng_next() % 3) {
		case 0:
			if (n > 0)
				s[at] = alphabet[rng_next() %
				    (sizeof(alphabet) - 1)];
			break;
		case 1:
			if (n > 0) {
				memmove(s + at, s + at + 1, n - at);
				n--;
			}
			break;
		default:
			memmove(s + at + 1, s + at, n - at + 1);
			s[at] = alphabet[rng_next() % (sizeof(alphabet) - 1)];
			n++;
		}
	}
	return s;
}

/* Feeds text to all three from_json; uses whatever they accept. */
static void
feed(const char *text, size_t *accepted)
{
	struct ecs_topk_item out[4];
	struct json_object *o = json_tokener_parse(text);
	struct ecs_distinct *d;
	struct ecs_quantile *q;
	struct ecs_topk *t;
	const char *why;

	if ((d = ecs_distinct_from_json(o, 50, &why)) != NULL) {
		(*accepted)++;
		ecs_distinct_add(d, "x", 1);
		(void)ecs_distinct_count(d);
		json_object_put(ecs_distinct_to_json(d));
		ecs_distinct_destroy(d);
	}
	if ((q = ecs_quantile_from_json(o, &why)) != NULL) {
		(*accepted)++;
		ecs_quantile_add(q, -1e300);
		(void)ecs_quantile_get(q, 0.5);
		ecs_quantile_merge(q, q);
		json_object_put(ecs_quantile_to_json(q));
		ecs_quantile_destroy(q);
	}
	if ((t = ecs_topk_from_json(o, &why)) != NULL) {
		(*accepted)++;
		ecs_topk_add(t, "x", 1, 7);
		(void)ecs_topk_list(t, 4, out);
		ecs_topk_merge(t, t);
		json_object_put(ecs_topk_to_json(t));
		ecs_topk_destroy(t);
	}
	json_object_put(o);
}

static void
test_fuzz(void)
{
	struct ecs_distinct *d = ecs_distinct_create(100), *h;
	struct ecs_quantile *q = ecs_quantile_create(ECS_QUANTILE_ALPHA);
	struct ecs_topk *t = ecs_topk_create(8);
	char *text[4], *m;
	size_t i, j, accepted = 0, tries = 0;

	rng_seed(4);
	h = ecs_distinct_create(0);
	for (i = 0; i < 20; i++) {
		add_str(d, "f", i);
		add_str(h, "f", i);
		ecs_quantile_add(q, (double)(i % 7) - 2.5);
		ecs_topk_add(t, "kkkkkkkkkkkk", 1 + i % 12, 1 + i % 3);
	}
	text[0] = json_text(ecs_distinct_to_json(d));
	text[1] = json_text(ecs_quantile_to_json(q));
	text[2] = json_text(ecs_topk_to_json(t));
	text[3] = json_text(ecs_distinct_to_json(h));
	for (j = 0; j < 4; j++)
		for (i = 0; i < (j < 3 ? 4000 : 200); i++, tries++) {
			m = mutate(text[j]);
			feed(m, &accepted);
			free(m);
		}
	printf("# fuzz: %zu damaged inputs, %zu accepted\n", tries, accepted);
	/* Surviving is the test (a crash fails it); accepting every damaged
	 * input would mean from_json checks nothing. */
	ok(accepted * 2 < tries, "from_json survives %zu damaged inputs and "
	    "refuses most", tries);
	for (j = 0; j < 4; j++)
		free(text[j]);
	ecs_distinct_destroy(d);
	ecs_distinct_destroy(h);
	ecs_quantile_destroy(q);
	ecs_topk_destroy(t);
}

int
main(void)
{
	test_hash();
	test_distinct_exact();
	test_distinct_hll();
	test_distinct_merge();
	test_distinct_json();
	test_quantile();
	test_quantile_collapse();
	test_quantile_json();
	test_topk_zipf(1.2, true);
	test_topk_zipf(1.0, false);	/* #10 is below N/100: no guarantee */
	test_topk_small();
	test_fuzz();
	return tap_done();
}
