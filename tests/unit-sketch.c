/* SPDX-License-Identifier: ISC */
/*
 * unit-sketch -- checks of common/ecs_sketch.c: exactness and the switch
 * to HyperLogLog, estimation error from 10k to 10M distinct values,
 * DDSketch quantiles against sorted data, Space-Saving on a Zipf stream,
 * merges equal to single sketches, JSON round trips and hostile JSON.
 * Deterministic: its own PRNG with fixed seeds. Prints TAP, measured errors
 * as comments, and exits 1 on a failure. Built for the tests only.
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "ecs_sketch.h"

static int checks, failures;

static void
ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (!cond)
		failures++;
	printf("%s %d - ", cond ? "ok" : "not ok", checks);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

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
		grid[i] = i / 100.0;
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
		ecs_quantile_add(i % 3 ? a : b, v[i]);
	}
	ok(quantiles_ok(s, v, n, grid, 101, "mixed", false) &&
	    ecs_quantile_get(s, 0.4) == 0 && !signbit(ecs_quantile_get(s, 0.4)),
	    "quantile: negatives, zeros and positives, p0..p100 within 1%%");
	ok(ecs_quantile_merge(a, b) &&
	    same_json(ecs_quantile_to_json(a), ecs_quantile_to_json(s)),
	    "quantile: merge of two parts == whole (same buckets)");
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
	free(v);

	/* Infinities keep their rank as +-DBL_MAX. */
	s = ecs_quantile_create(ECS_QUANTILE_ALPHA);
	ecs_quantile_add(s, INFINITY);
	ecs_quantile_add(s, 1);
	ecs_quantile_add(s, -INFINITY);
	ok(ecs_quantile_count(s) == 3 && ecs_quantile_get(s, 1) == DBL_MAX &&
	    ecs_quantile_get(s, 0) == -DBL_MAX &&
	    rel_err(ecs_quantile_get(s, 0.5), 1) <= 0.01,
	    "quantile: +-inf are counted as +-DBL_MAX");
	ecs_quantile_destroy(s);
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
