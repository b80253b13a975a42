/* SPDX-License-Identifier: ISC */
/*
 * unit-common -- checks of common/ functions that no program exercises
 * fully on its own yet: time formatting round trips, path lookups, integer
 * fields, number parsing, path compilation, the output builder, every
 * aggregate kind through a state and a merge. Prints "ok"/"not ok" lines as TAP and exits 1
 * on a failure. Built for the tests only.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "ecs_agg.h"
#include "ecs_buf.h"
#include "ecs_rows.h"
#include "tap.h"

static bool
time_is(const char *in, const char *want)
{
	char buf[32];
	int64_t ms;

	if (!ecs_time_parse(in, strlen(in), &ms))
		return want == NULL;
	ecs_time_format(ms, buf);
	if (want == NULL || strcmp(buf, want) != 0)
		printf("# %s -> %s, want %s\n", in, buf, want ? want : "error");
	return want != NULL && strcmp(buf, want) == 0;
}

/*
 * Times in the usual shape ("...Z", read at fixed places) give the instant
 * the same time written "+00:00" gives (read the general way): every day
 * of four centuries at a few clock times, with and without milliseconds,
 * and edges the fixed reader must leave to the general one.
 */
static bool
usual_is_general(void)
{
	static const char *const clocks[] = { "00:00:00", "23:59:59",
	    "23:59:60", "12:34:56.789", "00:00:00.000", "10:00:00.5" };
	char usual[48], general[48];
	int64_t a, b, day;
	bool ha, hb;
	size_t i, n;

	for (day = -36524 * 2; day < 36524 * 2; day++)
		for (i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
			n = ecs_time_format(day * 86400000, usual);
			snprintf(usual + 10, sizeof(usual) - 10, "T%sZ", clocks[i]);
			(void)n;
			snprintf(general, sizeof(general), "%.*s+00:00",
			    (int)strlen(usual) - 1, usual);
			ha = ecs_time_parse(usual, strlen(usual), &a);
			hb = ecs_time_parse(general, strlen(general), &b);
			if (ha != hb || (ha && a != b)) {
				printf("# %s %d %lld, %s %d %lld\n", usual, ha,
				    (long long)a, general, hb, (long long)b);
				return false;
			}
		}
	return true;
}

static void
test_time(void)
{
	int64_t ms, back;
	char buf[32];

	ok(time_is("2026-11-01T10:00:00Z", "2026-11-01T10:00:00Z"), "utc");
	ok(time_is("2026-11-01T10:00:00.5+01:00", "2026-11-01T09:00:00.500Z"),
	    "offset and fraction");
	ok(time_is("2026-03-29", "2026-03-29T00:00:00Z"), "bare date");
	ok(time_is("1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"),
	    "before the epoch");
	ok(time_is("2024-02-29T23:59:60Z", "2024-03-01T00:00:00Z"),
	    "leap second rolls over");
	ok(time_is("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"), "year 1");
	ok(time_is("1793527200", "2026-11-01T10:00:00Z"), "epoch seconds");
	ok(time_is("1793527200123", "2026-11-01T10:00:00.123Z"), "epoch ms");
	ok(time_is("2026-11-01T10:00:00", "2026-11-01T10:00:00Z"),
	    "no zone is UTC");
	ok(time_is("2026-11-01T10:00:00Zjunk", NULL), "trailing junk");
	ok(time_is("2023-02-29", NULL), "no 29 February in 2023");
	/* The fixed reader keeps the last day it read: a day after it, or
	 * no day at all, must not pass for it. */
	ok(time_is("2023-02-28T10:00:00Z", "2023-02-28T10:00:00Z") &&
	    time_is("2023-02-29T10:00:00Z", NULL) &&
	    time_is("2023-02-28T23:00:00.001Z", "2023-02-28T23:00:00.001Z") &&
	    time_is("2023-02-2xT10:00:00Z", NULL) &&
	    time_is("2023-03-28T10:00:00Z", "2023-03-28T10:00:00Z"),
	    "one day after another at fixed places");
	ok(time_is("nonsense", NULL), "nonsense");
	/* Parsed into its own variable: parsing into ms itself would hide a
	 * wrong value as long as parsing succeeds. */
	for (ms = -86400000LL * 800; ms < 86400000LL * 800; ms += 86399999)
		if (!ecs_time_parse(buf, ecs_time_format(ms, buf), &back) ||
		    back != ms) {
			printf("# %lld -> %s -> %lld\n", (long long)ms, buf,
			    (long long)back);
			break;
		}
	ok(ms >= 86400000LL * 800, "format then parse is the identity");
	ok(usual_is_general(), "the usual shape reads as the general way");
}

/* Path lookups: what each path finds in rec, as compact JSON. */
static void
test_lookups(void)
{
	struct json_object *rec = json_tokener_parse(
	    "{\"q\":5,\"n\":{\"a\":[10,20]},\"z\":null}");
	struct json_object *v;
	struct ecs_path *p;
	const char *why, *got;
	size_t i;
	static const struct {
		const char	*path;
		const char	*want;		/* NULL: missing or null */
	} cases[] = {
		{ "q", "5" }, { "n.a.1", "20" }, { "n.a.2", NULL },
		{ "z", NULL }, { "missing", NULL }, { "n.a[1]", "20" },
		{ ".n.a[0]", "10" }, { "n[0]", NULL }, { "n.a[2]", NULL },
	};

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = ecs_path_compile(cases[i].path, &why);
		v = p == NULL ? NULL : ecs_path_get(p, rec);
		got = v == NULL ? NULL : json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN);
		ok(p != NULL && (got == NULL ? cases[i].want == NULL :
		    cases[i].want != NULL && strcmp(got, cases[i].want) == 0),
		    "%s", cases[i].path);
		ecs_path_free(p);
	}
	json_object_put(rec);
}

/* Integers as the programs read them: also "7" and 2.0, never 2.5. */
static void
test_field_int64(void)
{
	int64_t v;
	size_t i;
	static const struct {
		enum ecs_ftype	 type;
		const char	*text;
		bool		 is_int;
		int64_t		 want;
	} cases[] = {
		{ ECS_F_NUMBER, "5", true, 5 }, { ECS_F_STRING, "7", true, 7 },
		{ ECS_F_NUMBER, "2.0", true, 2 }, { ECS_F_NUMBER, "2.5", false, 0 },
		{ ECS_F_NUMBER, "1e300", false, 0 },
		{ ECS_F_STRING, "x", false, 0 }, { ECS_F_NULL, "null", false, 0 },
		{ ECS_F_NUMBER, "-9223372036854775808", true, INT64_MIN },
		{ ECS_F_NUMBER, "5e2", true, 500 },
		{ ECS_F_STRING, "-1.50e1", true, -15 },
		{ ECS_F_NUMBER, "-1.55e1", false, 0 },
		/* Exact, where a double is not. */
		{ ECS_F_NUMBER, "9007199254740993.0", true, 9007199254740993 },
		{ ECS_F_NUMBER, "3.00000000000000001", false, 0 },
		{ ECS_F_NUMBER, "9223372036854775807.0", true, INT64_MAX },
		{ ECS_F_NUMBER, "9223372036854775808.0", false, 0 },
	};
	struct ecs_field f;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f = (struct ecs_field){ cases[i].type, cases[i].text,
		    strlen(cases[i].text), NULL };
		v = 0;
		ok(ecs_field_int64(&f, &v) == cases[i].is_int &&
		    v == cases[i].want, "%s", cases[i].text);
	}
}

static void
test_paths(void)
{
	struct ecs_path *p;
	const char *why;

	p = ecs_path_compile("a.\"b.c\".0", &why);
	ok(p != NULL && p->nseg == 3 && strcmp(p->seg[1].key, "b.c") == 0 &&
	    p->seg[2].index == 0, "quoted segment and index");
	ecs_path_free(p);
	ok(ecs_path_compile("a..b", &why) == NULL, "empty segment refused");
	ok(ecs_path_compile("\"a", &why) == NULL, "open quote refused");
	ok(ecs_path_compile("a.\"b\"c", &why) == NULL, "text after quote");
	p = ecs_path_compile("a[0][12].\"b\"[3]", &why);
	ok(p != NULL && p->nseg == 5 && p->seg[1].bracket &&
	    p->seg[2].index == 12 && !p->seg[3].bracket && p->seg[4].bracket,
	    "bracketed indexes");
	ecs_path_free(p);
	ok(ecs_path_compile("a[]", &why) == NULL, "empty index refused");
	ok(ecs_path_compile("a[-1]", &why) == NULL, "negative index refused");
	ok(ecs_path_compile("a[0]b", &why) == NULL, "text after index");
	ok(ecs_path_compile("[0]", &why) == NULL, "index without a name");
	ok(ecs_path_compile("a]", &why) == NULL, "stray bracket refused");
}

/*
 * ecs_num_parse reads short numbers without strtod: random ones of every
 * length and shape up to 20 digits, against strtod (or strtoll for an
 * integer that fits), bit for bit: -0.0 is not 0.0.
 */
static void
test_numbers_as_strtod(void)
{
	char buf[48];
	struct ecs_num a;
	unsigned long seed = 1, bad = 0, i;
	size_t len, k, dot;
	long long whole;
	double want;
	bool is_int;

	for (i = 0; i < 2000000; i++) {
		len = 0;
		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		if (seed >> 63)
			buf[len++] = '-';
		k = 1 + (seed >> 40) % 20;	/* digits */
		dot = (seed >> 20) % (k + 2);	/* no '.' when >= k */
		for (size_t d = 0; d < k; d++) {
			seed = seed * 6364136223846793005UL + 1;
			buf[len++] = (char)('0' + (d == 0 && k > 1 &&
			    dot != 1 ? 1 + (seed >> 33) % 9 : (seed >> 33) % 10));
			if (d + 1 == dot && d + 1 < k)
				buf[len++] = '.';
		}
		buf[len] = '\0';
		if (!ecs_num_parse(buf, len, &a)) {
			if (bad++ < 5)
				printf("# %s: not a number\n", buf);
			continue;
		}
		/* An integer's double is (double)i: -0 is 0, as ever. */
		errno = 0;
		whole = strtoll(buf, NULL, 10);
		is_int = strchr(buf, '.') == NULL && errno == 0;
		want = is_int ? (double)whole : strtod(buf, NULL);
		if (memcmp(&a.d, &want, sizeof(want)) != 0 ||
		    a.is_int != is_int || (is_int && a.i != whole))
			if (bad++ < 5)
				printf("# %s: %.17g, strtod %.17g\n", buf, a.d, want);
	}
	ok(bad == 0, "2000000 random numbers read as strtod reads them");
}

static void
test_numbers(void)
{
	struct ecs_num a, b;

	ok(ecs_num_parse("-0", 2, &a) && a.is_int && a.i == 0, "-0");
	ok(ecs_num_parse("1e3", 3, &a) && !a.is_int && a.d == 1000, "1e3");
	ok(!ecs_num_parse("01", 2, &a) && !ecs_num_parse("1.", 2, &a) &&
	    !ecs_num_parse(" 1", 2, &a) && !ecs_num_parse("0x1", 3, &a),
	    "not JSON numbers");
	ok(ecs_num_parse("99999999999999999999", 20, &a) && !a.is_int,
	    "beyond int64 becomes a double");
	ok(ecs_num_parse("9007199254740993", 16, &a) &&
	    ecs_num_parse("9007199254740992.0", 18, &b) &&
	    ecs_num_cmp(&a, &b) == 1, "exact int against double");
	test_numbers_as_strtod();
}

/* a op b as exact decimal text, "inexact", or "none" (division by zero). */
static bool
dec_is(const char *a, char op, const char *b, const char *want)
{
	struct ecs_dec x, y;
	char buf[64];
	bool has = true;

	ecs_dec_parse(a, strlen(a), &x);
	ecs_dec_parse(b, strlen(b), &y);
	switch (op) {
	case '+': ecs_dec_add(&x, &y); break;
	case '*': ecs_dec_mul(&x, &y); break;
	case '/': has = ecs_dec_div(&x, &y); break;
	case '%': has = ecs_dec_mod(&x, &y); break;
	default:
		snprintf(buf, sizeof(buf), "%d", ecs_dec_cmp(&x, &y));
		goto check;
	}
	if (!has)
		snprintf(buf, sizeof(buf), "none");
	else if (!x.exact)
		snprintf(buf, sizeof(buf), "inexact");
	else
		ecs_dec_format(&x, buf, sizeof(buf));
check:
	if (strcmp(buf, want) != 0)
		printf("# %s %c %s -> %s, want %s\n", a, op, b, buf, want);
	return strcmp(buf, want) == 0;
}

static void
test_decimals(void)
{
	ok(dec_is("2.55", '*', "6", "15.30"), "2.55 * 6");
	ok(dec_is("0.1", '+', "0.2", "0.3"), "0.1 + 0.2");
	ok(dec_is("99999999999999999999999999999999999999", '+', "0",
	    "99999999999999999999999999999999999999"), "38 digits are exact");
	ok(dec_is("999999999999999999999999999999999999999", '+', "0",
	    "inexact"), "39 digits are not");
	ok(dec_is("170141183460469231731687303715884105727", '+', "1",
	    "inexact"), "overflow of the 128 bits");
	ok(dec_is("0.000000001", '*', "0.0000000010", "0.000000000000000001"),
	    "19 places with a zero at the end");
	ok(dec_is("0.1", '*', "0.000000000000000001", "inexact"),
	    "19 places");
	ok(dec_is("7.5", '/', "2.5", "3") && dec_is("1", '/', "8", "0.125") &&
	    dec_is("-1", '/', "0.04", "-25"), "quotients that end");
	ok(dec_is("1", '/', "3", "inexact") && dec_is("1", '/', "0", "none") &&
	    dec_is("1", '%', "0.0", "none"), "1/3, and by zero");
	ok(dec_is("5.5", '%', "2", "1.5") && dec_is("-5.5", '%', "2", "-1.5") &&
	    dec_is("10", '%', "0.3", "0.1"), "remainders");
	/* 10^39 mod 7 is 6 (10^6 mod 7 is 1): no common scale fits. */
	ok(dec_is("1000000000000000000000", '%', "0.000000000000000007",
	    "0.000000000000000006") &&
	    dec_is("-1000000000000000000000", '%', "0.000000000000000007",
	    "-0.000000000000000006") &&
	    dec_is("99999999999999999999999999999999999999", '%',
	    "0.000000000000000001", "0.000000000000000000") &&
	    dec_is("0.000000000000000001", '%',
	    "99999999999999999999999999999999999999", "0.000000000000000001"),
	    "remainders of 38 digits and 18 places, exact");
	ok(dec_is("12345678901234567890124", '/', "2.000000000000000000",
	    "6172839450617283945062") &&
	    dec_is("12345678901234567890124", '*', "1.000000000000000000",
	    "12345678901234567890124") &&
	    dec_is("12345678901234567890124", '+', "-1.500000000000000000",
	    "12345678901234567890122.5"),
	    "zeros that end a fraction do not make a result inexact");
	ok(dec_is("12345678901234567890", '=',
	    "12345678901234567890.000000000000000001", "-1") &&
	    dec_is("-0.5", '=', "-0.25", "-1") &&
	    dec_is("10000000000000000000000000000000000000", '=',
	    "0.000000000000000001", "1") && dec_is("1.50", '=', "1.5", "0"),
	    "comparisons across scales, past a common scale");
}

/* json-c would clamp them: the exact reading keeps their text. */
static void
test_big_ints(void)
{
	static const char line[] = "{\"a\":123456789012345678901234567890,"
	    "\"b\":[-9223372036854775809,9223372036854775807],"
	    "\"s\":\"12345678901234567890123\",'k1234567890123456789012':1}";
	struct json_tokener *tok = json_tokener_new();
	struct json_object *rec;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	rec = json_tokener_parse_ex(tok, line, (int)sizeof(line));
	json_tokener_reset(tok);
	rec = ecs_json_exact_ints(tok, line, sizeof(line) - 1, rec);
	ok(strcmp(json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN),
	    "{\"a\":123456789012345678901234567890,\"b\":[-9223372036854775809,"
	    "9223372036854775807],\"s\":\"12345678901234567890123\","
	    "\"k1234567890123456789012\":1}") == 0,
	    "integers past 64 bits keep their text, strings and names untouched");
	json_object_put(rec);
	json_tokener_free(tok);
}

/*
 * The next random operation on a map of nkeys keys: its key ("k12") and
 * true for a delete (a third of them), false for a put.
 */
static bool
random_op(unsigned *x, int nkeys, int *k, char key[static 16])
{
	*x = *x * 1103515245 + 12345;
	*k = (int)((*x >> 8) % (unsigned)nkeys);
	snprintf(key, 16, "k%d", *k);
	return (*x >> 4) % 3 == 0;
}

/* Deletion against a model: random puts and deletes, then every key checked. */
static void
test_map_delete(void)
{
	struct ecs_map *m = ecs_map_create(sizeof(int), NULL);
	static int model[2000];		/* 0 absent, else value */
	unsigned x = 12345;
	char key[16];
	int i, k, *v, bad = 0;
	bool created;

	for (i = 0; i < 200000; i++) {
		if (random_op(&x, 2000, &k, key)) {
			if (ecs_map_del(m, key, strlen(key)) != (model[k] != 0))
				bad++;
			model[k] = 0;
		} else {
			v = ecs_map_put(m, key, strlen(key), &created);
			if (created != (model[k] == 0))
				bad++;
			*v = model[k] = i + 1;
		}
	}
	for (k = 0, i = 0; k < 2000; k++) {
		snprintf(key, sizeof(key), "k%d", k);
		v = ecs_map_get(m, key, strlen(key));
		if ((v == NULL) != (model[k] == 0) || (v != NULL && *v != model[k]))
			bad++;
		i += model[k] != 0;
	}
	ok(bad == 0 && ecs_map_count(m) == (size_t)i, "map delete matches a model");
	ecs_map_destroy(m);
}

static unsigned nfreed;

static void
free_counted(void *v)
{
	free(*(int **)v);
	nfreed++;
}

/*
 * ecs_map_next visits each key held once, skipping the places of deleted
 * keys, and the map frees a value when its key is deleted or at destroy
 * (ASan checks that nothing leaks or is freed twice).
 */
static void
test_map_next_free(void)
{
	struct ecs_map *m = ecs_map_create(sizeof(int *), free_counted);
	static int model[500], seen[500];
	unsigned x = 777, nmade = 0;
	char key[16];
	const char *kp;
	int i, k, **v, bad = 0, live = 0;
	size_t iter = 0, len;
	bool created;

	for (i = 0; i < 20000; i++) {
		if (random_op(&x, 500, &k, key)) {
			ecs_map_del(m, key, strlen(key));
			model[k] = 0;
			continue;
		}
		v = ecs_map_put(m, key, strlen(key), &created);
		if (created) {
			*v = ecs_xmalloc(sizeof(int));
			nmade++;
		}
		**v = model[k] = i + 1;
	}
	for (k = 0; k < 50; k++) {	/* places left dead at the end */
		snprintf(key, sizeof(key), "k%d", k);
		ecs_map_del(m, key, strlen(key));
		model[k] = 0;
	}
	while ((v = ecs_map_next(m, &iter, &kp, &len)) != NULL) {
		snprintf(key, sizeof(key), "%.*s", (int)len, kp);
		k = atoi(key + 1);
		if (seen[k]++ || model[k] != **v)
			bad++;
		live++;
	}
	for (k = 0; k < 500; k++)
		bad += (model[k] != 0) != (seen[k] != 0);
	ok(bad == 0 && (size_t)live == ecs_map_count(m) &&
	    ecs_map_count(m) < iter, "map_next visits the keys held once "
	    "each, past deleted places");
	ok(nfreed == nmade - (unsigned)live, "map frees the value of a deleted key");
	ecs_map_destroy(m);
	ok(nfreed == nmade, "map frees the values left at destroy");
}

/* The decay of ecs-stock's units sold and ecs-recommend's popularity. */
static void
test_decay(void)
{
	double x = 0;
	int64_t at = 0;

	ecs_decay_add(&x, &at, 8, 1000, 1000);
	ok(x == 8 && at == 1000, "decay: the first event sets the time");
	ok(ecs_decay_at(x, at, 3000, 1000) == 2, "decay: halves each half-life");
	ok(ecs_decay_at(x, at, 500, 1000) == 8, "decay: no growth before at");
	ecs_decay_add(&x, &at, 4, 0, 1000);
	ok(x == 10 && at == 1000, "decay: a late event counts as decayed to at");
	ecs_decay_add(&x, &at, 1, 2000, 1000);
	ok(x == 6 && at == 2000, "decay: a later event decays what was there");
}

/* ecs_format_double: fixed notation, never an exponent, reads back. */
static bool
fmt_is(double v, int places, const char *want)
{
	char buf[400];

	ecs_format_double(v, places, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		printf("# %.17g at %d places: %s, expected %s\n", v, places, buf,
		    want);
	return strcmp(buf, want) == 0;
}

static void
test_format_double(void)
{
	char buf[400], small[8];
	double v;
	int i, bad = 0;

	ok(fmt_is(2.66381e17, 3, "266381000000000000"), "large, places");
	ok(fmt_is(266381451402117824.0, -1, "266381451402117820"),
	    "large, shortest");
	ok(fmt_is(1e-7, -1, "0.0000001"), "small, shortest");
	ok(fmt_is(1e-7, 3, "0"), "small, rounded to 0");
	ok(fmt_is(-1e-7, 3, "0"), "no -0");
	ok(fmt_is(0.1 + 0.2, -1, "0.30000000000000004"), "shortest");
	ok(fmt_is(0.1 + 0.2, 3, "0.3"), "3 places");
	ok(fmt_is(10.3705, 3, "10.371") || fmt_is(10.3705, 3, "10.37"),
	    "rounded");
	ok(fmt_is(-1234.5, 3, "-1234.5"), "negative");
	ok(fmt_is(1e300 * 1e10, 3, "null"), "infinity");
	ok(fmt_is(1e21, -1, "1000000000000000000000"), "1e21");
	ok(fmt_is(-0.0, -1, "0"), "-0.0");
	/* Random doubles of every magnitude read back and have no exponent. */
	for (i = 0; i < 20000; i++) {
		v = ldexp((double)(i * 2654435761u % 1000003) + 0.25,
		    i % 600 - 320) * (i % 2 ? -1 : 1);
		ecs_format_double(v, -1, buf, sizeof(buf));
		if (strtod(buf, NULL) != v || strpbrk(buf, "eE") != NULL)
			bad++;
	}
	ok(bad == 0, "20000 doubles read back, none with an exponent");
	ecs_format_double(1e30, -1, small, sizeof(small));
	ok(strcmp(small, "1e30") == 0, "the exponent form only when too long");
}

static void
test_buf(void)
{
	struct ecs_buf b = ECS_BUF_INIT;
	struct ecs_dec d;
	size_t i;

	ecs_buf_json_string(&b, "a\"b\\c\n\x01\xc3\xa9", 9);
	ok(strcmp(b.p, "\"a\\\"b\\\\c\\u000a\\u0001\xc3\xa9\"") == 0,
	    "buf: JSON string escapes quotes, backslashes, controls only");
	ecs_buf_reset(&b);
	ecs_buf_field(&b, &(struct ecs_field){ ECS_F_STRING, "x\"", 2, NULL });
	ecs_buf_putc(&b, ',');
	ecs_buf_field(&b, &(struct ecs_field){ ECS_F_NUMBER,
	    "123456789012345678901234567890", 30, NULL });
	ecs_buf_putc(&b, ',');
	ecs_buf_field(&b, &(struct ecs_field){ ECS_F_MISSING, NULL, 0, NULL });
	ecs_buf_putc(&b, ',');
	ecs_buf_field(&b, &(struct ecs_field){ ECS_F_OTHER, "{ \"a\" : [1, 2] }",
	    16, NULL });
	ok(strcmp(b.p, "\"x\\\"\",123456789012345678901234567890,null,"
	    "{\"a\":[1,2]}") == 0, "buf: fields as they came");
	ecs_buf_reset(&b);
	ecs_dec_parse("19.90", 5, &d);
	ecs_buf_dec(&b, &d);
	ecs_buf_putc(&b, ' ');
	ecs_buf_double(&b, 81.8333333, 2);
	ecs_buf_putc(&b, ' ');
	ecs_buf_double(&b, -0.001, 2);
	ecs_buf_putc(&b, ' ');
	ecs_buf_int(&b, INT64_MIN);
	ecs_buf_putc(&b, ' ');
	ecs_buf_time(&b, 1793527200123);
	ok(strcmp(b.p, "19.90 81.83 0 -9223372036854775808 "
	    "\"2026-11-01T10:00:00.123Z\"") == 0, "buf: numbers and times");
	ecs_buf_reset(&b);
	for (i = 0; i < 1000; i++)
		ecs_buf_puts(&b, "0123456789");
	ok(b.len == 10000 && strlen(b.p) == b.len, "buf: grows");
	ecs_buf_free(&b);
}

/* s[0..n) as a JSON string, a byte at a time: what ecs_buf must write. */
static void
json_string_slowly(char *out, const char *s, size_t n)
{
	size_t i;

	*out++ = '"';
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20)
			out += sprintf(out, "\\u%04x", (unsigned char)s[i]);
		else if (s[i] == '"' || s[i] == '\\')
			out += sprintf(out, "\\%c", s[i]);
		else
			*out++ = s[i];
	}
	strcpy(out, "\"");
}

/*
 * Every byte that must be escaped, and its neighbours that must not, at
 * every offset of strings of 0 to 40 bytes (ecs_buf_json_string looks at
 * 8 bytes at a time).
 */
static void
test_buf_escape(void)
{
	static const char bytes[] = { 0x00, 0x01, 0x1f, 0x20, '!', '"', '#',
	    '[', '\\', ']', 0x7f, (char)0x80, (char)0xa2, (char)0xdc,
	    (char)0xff };
	struct ecs_buf b = ECS_BUF_INIT;
	char s[40], want[40 * 6 + 3];
	size_t n, at, k, bad = 0, tried = 0;

	for (n = 0; n <= sizeof(s); n++)
		for (at = 0; at < n; at++)
			for (k = 0; k < sizeof(bytes); k++) {
				memset(s, 'x', n);
				s[at] = bytes[k];
				ecs_buf_reset(&b);
				ecs_buf_json_string(&b, s, n);
				json_string_slowly(want, s, n);
				tried++;
				if (strcmp(b.p, want) != 0 && bad++ < 5)
					printf("# %zu bytes, 0x%02x at %zu: %s\n",
					    n, (unsigned char)bytes[k], at, b.p);
			}
	ok(bad == 0 && tried > 0, "buf: %zu JSON strings escaped as byte "
	    "by byte, %zu differ", tried, bad);
	ecs_buf_free(&b);
}

/* -m spec's metric over the values v[0..n) of field "x", as a row writes it. */
static bool
agg_is(const char *spec, const char *const *v, size_t n, const char *want)
{
	struct ecs_fieldset fs;
	struct ecs_metric m;
	struct ecs_agg a, half;
	struct ecs_agg_value val = { 0 };
	struct ecs_field f;
	struct ecs_buf out = ECS_BUF_INIT;
	struct json_object *saved;
	bool good;
	size_t i;

	ecs_fields_init(&fs, NULL, 0);
	ecs_metric_parse(&m, "-m", spec);
	ecs_metric_bind(&m, &fs);
	ecs_agg_init(&m, &a);
	ecs_agg_init(&m, &half);
	for (i = 0; i < n; i++) {
		f = (struct ecs_field){ v[i][0] == '"' ? ECS_F_STRING :
		    ECS_F_NUMBER, v[i], strlen(v[i]), NULL };
		if (f.type == ECS_F_STRING) {
			f.text++;
			f.len -= 2;
		}
		ecs_metric_eval(&m, &f, &val);
		/* Half of the values go through a state and a merge. */
		ecs_agg_add(&m, i % 2 ? &half : &a, &val);
	}
	saved = ecs_agg_to_json(&m, &half);
	ecs_agg_free(&m, &half);
	good = ecs_agg_from_json(&m, saved, &half) == NULL &&
	    ecs_agg_merge(&m, &a, &half) == NULL;
	ecs_agg_write(&m, &a, &out);
	good = good && strcmp(out.p, want) == 0;
	if (!good)
		printf("# %s: %s, want %s\n", spec, out.p, want);
	json_object_put(saved);
	ecs_agg_free(&m, &a);
	ecs_agg_free(&m, &half);
	ecs_metric_finish(&m);
	ecs_fields_finish(&fs);
	ecs_buf_free(&out);
	ecs_buf_free(&val.key);
	return good;
}

static void
test_agg(void)
{
	const char *const v[] = { "2.50", "1", "\"a\"", "-0.25", "1", "7" };
	const char *names[] = { "count", "sum", "avg", "min", "max", "distinct",
	    "quantile", "top", "list" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++)
		ok(ecs_agg_lookup(names[i]) != NULL, "%s", names[i]);
	ok(ecs_agg_lookup("median") == NULL, "no kind median");
	ok(agg_is("n=count()", v, 6, "6"), "agg: count");
	ok(agg_is("s=sum(x)", v, 6, "11.25"), "agg: sum, exact");
	ok(agg_is("a=avg(x)", v, 6, "2.25"), "agg: avg");
	ok(agg_is("m=min(x)", v, 6, "-0.25"), "agg: min");
	ok(agg_is("m=max(x)", v, 6, "7"), "agg: max");
	ok(agg_is("d=distinct(x)", v, 6, "5"), "agg: distinct");
	ok(agg_is("q=quantile(x,0.5)", v, 6, "1"), "agg: quantile");
	ok(agg_is("q=quantile(x,1)", v, 6, "7"), "agg: quantile 1");
	ok(agg_is("t=top(x,1)", v, 6, "[{\"value\":1,\"count\":2}]"),
	    "agg: top");
	ok(agg_is("l=list(x,2)", v, 6, "[2.50,\"a\"]"), "agg: list, merged");
}

static char	table_out[256];
static size_t	table_len;

static void
table_capture(const void *p, size_t n)
{
	if (n > sizeof(table_out) - table_len)
		n = sizeof(table_out) - table_len;
	memcpy(table_out + table_len, p, n);
	table_len += n;
}

/* ecs_table on its own: a row, a key change, and a line it cannot take. */
static void
test_table(void)
{
	struct ecs_table *t = ecs_table_create(ECS_OUTPUT_CSV, table_capture);
	const char *good[] = { "{\"a\":1,\"b\":\"x,y\"}",
	    "{\"a\":2,\"b\":\"z\"}", "{\"c\":{\"d\":[true,null]}}" };
	size_t i;
	bool all = true;

	for (i = 0; i < sizeof(good) / sizeof(*good); i++)
		all &= ecs_table_line(t, good[i], strlen(good[i]));
	ok(all, "table: JSON objects are converted");
	ok(!ecs_table_line(t, "[1,2]", 5), "table: an array is not a record");
	ok(!ecs_table_line(t, "{\"a\":1", 6), "table: a cut line is refused");
	ok(ecs_table_destroy(t) == ECS_EXIT_DATA,
	    "table: a refused line makes the status 1");
	ok(table_len == 39 && memcmp(table_out, "a,b\n1,\"x,y\"\n2,z\n\n"
	    "c.d.1,c.d.2\ntrue,null\n", 39) == 0,
	    "table: CSV with a new header block");
}

/* What two tables wrote: [0] by their own walk, [1] from the scan's values. */
static struct ecs_buf	tops_got[2];

static void
tops_walked(const void *p, size_t n)
{
	ecs_buf_add(&tops_got[0], p, n);
}

static void
tops_scanned(const void *p, size_t n)
{
	ecs_buf_add(&tops_got[1], p, n);
}

/* Hostile lines for the rows written from the scan's values. */
static const char *const tops_lines[] = {
	"{\"a\":\"x,y\",\"b\":1,\"c\":\"\",\"d\":-0}",
	"{\"a\":\",\",\"b\":1e5,\"c\":\"a,b,c,d,e,f,g,h,i\",\"d\":-0.0}",
	"{\"a\":\"1234567,\",\"b\":1E+5,\"c\":\"12345678,\",\"d\":true}",
	"{\"a\":\"caf\xc3\xa9 \xe2\x98\x83\",\"b\":null,\"c\":\"x\",\"d\":false}",
	"{\"a\":\"more than sixteen bytes, twice\",\"b\":0,\"c\":\"e,\",\"d\":\"z\"}",
	"{\"a\":1,\"b\":2,\"c\":3,\"d\":\",,,\"}",
	"{\"a\":1,\"b\":2,\"c\":3,\"d\":\"1234567890,\"}",
	"{\"a\":1,\"b\":2,\"c\":3,\"d\":12345678901234567890123}",
	"{\"a\":1,\"b\":2,\"c\":3}", "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5}",
	"{\"b\":1,\"a\":2,\"c\":3,\"d\":4}", "{\"a\":1,\"b\":2,\"c\":3,\"e\":4}",
	"{\"a\":1,\"b\":2,\"c\":3,\"dd\":4}", "{\"a\":1,\"b\":2,\"c\":3,\"\":4}",
	"{\"a\":1,\"a\":2,\"c\":3,\"d\":4}", "{\"a\":{\"x\":1},\"b\":2,\"c\":3,\"d\":4}",
	"{\"a\":[1,\"p,q\"],\"b\":2,\"c\":3,\"d\":4}", "{\"a\":1,\"b\":2,\"c\":3,\"d\":{}}",
	"{ \"a\" : 1 , \"b\":2,\"c\":3,\"d\":4 }", " {\"a\":1,\"b\":2,\"c\":3,\"d\":4}",
	"{\"a\":\"q\\\"uote,\",\"b\":\"b\\\\s\",\"c\":\"n\\nl\",\"d\":\"\\u00e9,\"}",
	"{\"a\":\"p\",\"b\":\"q,\",\"c\":\"r\",\"d\":\"s\"}",
	"{\"a\":\"tab\tin\",\"b\":2,\"c\":3,\"d\":4}",
	"{\"abcdefgh\":1,\"abcdefghijklmnopq\":\"x,y\"}",
	"{\"abcdefgh\":2,\"abcdefghijklmnopZ\":\"x\"}",
	"{\"abcdefgZ\":3,\"abcdefghijklmnopZ\":\"x\"}",
	"{\"abcdefgZ\":4,\"abcdefghijklmnopZ\":\",\"}",
	"{}", "{\"a,b\":1,\"c\\\"d\":2}", "{\"a,b\":3,\"c\\\"d\":\"4,\"}",
	"{\"k\":1}", "{\"k\":\",\"}", "{\"K\":3}", "{\"k\":4}", "{\"k\":\"\"}",
	"{\"u\":1,\"a\":\"view\"}", "{\"u\":2,\"a\":\"cart\",\"q\":3}",
	"{\"u\":3,\"a\":\"v,w\"}", "{\"u\":4,\"a\":\"buy\",\"q\":1,\"o\":\"x,y\"}",
	"{\"u\":5,\"a\":\"view\"}", "{\"u\":6,\"a\":\"cart\",\"q\":2}",
	"[1]", "{\"a\":1", "{\"a\":1,\"b\":2,\"c\":3,\"d\":4} x",
};

/*
 * One table per way, fed each line in its own allocation of its exact
 * length (so ASan sees a read past its end); true when both wrote the
 * same bytes. *scanned counts the lines the scan gave values for.
 */
static bool
tops_same(enum ecs_output_format f, struct ecs_scan_tops *tops,
    size_t *scanned)
{
	struct ecs_scan_keys none = { 0 };
	struct ecs_table *walked = ecs_table_create(f, tops_walked);
	struct ecs_table *fast = ecs_table_create(f, tops_scanned);
	size_t i, len;
	char *line;
	bool same;

	for (i = 0; i < sizeof(tops_lines) / sizeof(*tops_lines); i++) {
		len = strlen(tops_lines[i]);
		line = ecs_xmalloc(len);
		memcpy(line, tops_lines[i], len);
		if (ecs_scan_fields_tops(line, len, &none, NULL, tops) &&
		    tops->n > 0)
			(*scanned)++;
		(void)ecs_table_line(walked, line, len);
		(void)ecs_table_line_tops(fast, line, len, tops);
		free(line);
	}
	(void)ecs_table_destroy(walked);
	(void)ecs_table_destroy(fast);
	same = tops_got[0].len == tops_got[1].len && tops_got[0].len > 0 &&
	    memcmp(tops_got[0].p, tops_got[1].p, tops_got[0].len) == 0;
	ecs_buf_reset(&tops_got[0]);
	ecs_buf_reset(&tops_got[1]);
	return same;
}

/*
 * A CSV or TSV row written from the values the scan found is the row the
 * table writes by walking the line itself, byte for byte, on every scan
 * path.
 */
static void
test_table_tops(void)
{
	struct ecs_scan_tops *tops = ecs_xmalloc(sizeof(*tops));
	const char *name;
	size_t i, scanned;

	for (i = 0; (name = ecs_scan_path_name(i)) != NULL; i++) {
		if (ecs_scan_use(name) != 0)
			continue;
		scanned = 0;
		ok(tops_same(ECS_OUTPUT_CSV, tops, &scanned),
		    "table: CSV rows from the scan's values, %s path", name);
		ok(tops_same(ECS_OUTPUT_TSV, tops, &scanned),
		    "table: TSV rows from the scan's values, %s path", name);
		ok(scanned >= 2 * 30, "table: %zu lines had the scan's values",
		    scanned);
	}
	ecs_scan_use(NULL);
	ecs_buf_free(&tops_got[0]);
	ecs_buf_free(&tops_got[1]);
	free(tops);
}

/* --top's choice: by value, nulls last, ties by key text in byte order. */
static void
test_top(void)
{
	const char *keys[] = { "\"b\"", "\"a\"", "\"c\"", "\"x y\"",
	    "\"x\"", "\"d\"" };
	const char *vals[] = { "5", "5.00", "null", "7", "7", "-1" };
	struct ecs_top t = { .n = 4, .desc = true };
	struct ecs_field f;
	struct ecs_buf got = ECS_BUF_INIT;
	size_t i, n;

	for (i = 0; i < 6; i++) {
		f = (struct ecs_field){ vals[i][0] == 'n' ? ECS_F_NULL :
		    ECS_F_NUMBER, vals[i], strlen(vals[i]), NULL };
		ecs_top_add(&t, NULL, keys[i], strlen(keys[i]), &f);
	}
	for (i = 0, n = ecs_top_choose(&t); i < n; i++)
		ecs_buf_add(&got, t.row[i].key, t.row[i].len);
	ok(n == 4 && strcmp(got.p, "\"x y\"\"x\"\"a\"\"b\"") == 0,
	    "top: highest first, ties by key bytes (%s)", got.p);
	ecs_top_reset(&t);
	t.desc = false;
	for (i = 0; i < 6; i++) {
		f = (struct ecs_field){ vals[i][0] == 'n' ? ECS_F_NULL :
		    ECS_F_NUMBER, vals[i], strlen(vals[i]), NULL };
		ecs_top_add(&t, NULL, keys[i], strlen(keys[i]), &f);
	}
	t.n = 9;
	ecs_buf_reset(&got);
	for (i = 0, n = ecs_top_choose(&t); i < n; i++)
		ecs_buf_add(&got, t.row[i].key, t.row[i].len);
	ok(n == 6 && strcmp(got.p,
	    "\"d\"\"a\"\"b\"\"x y\"\"x\"\"c\"") == 0,
	    "top: lowest first, nulls last (%s)", got.p);
	ecs_top_reset(&t);
	ok(ecs_top_choose(&t) == 0, "top: an empty window");
	ecs_top_finish(&t);
	ecs_buf_free(&got);
}

int
main(void)
{
	test_buf();
	test_buf_escape();
	test_top();
	test_agg();
	test_format_double();
	test_time();
	test_lookups();
	test_field_int64();
	test_paths();
	test_numbers();
	test_decimals();
	test_big_ints();
	test_map_delete();
	test_map_next_free();
	test_decay();
	test_table();
	test_table_tops();
	return tap_done();
}
