/* SPDX-License-Identifier: ISC */
/*
 * ecs_distinct.c -- the distinct counter of ecs_sketch.h: a set of 64-bit
 * hashes, then HyperLogLog with Ertl's estimator, with a merge and a JSON
 * form (registers in base64). The set is kept in a canonical form, so that
 * what can be observed (counts, JSON) depends only on what was added and
 * never on the order of the internal table: a sketch read back from its
 * JSON behaves exactly as the one that wrote it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "ecs_sketch.h"
#include "ecs_sketch_util.h"

/* Base64 (RFC 4648, padded), for the HyperLogLog registers. */

static const char b64_digits[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Writes the 4 * ceil(n / 3) characters encoding in[0..n) to out. */
static void
b64_encode(const unsigned char *in, size_t n, char *out)
{
	uint32_t v;
	size_t i;

	for (i = 0; i < n; i += 3, out += 4) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[0] = b64_digits[v >> 18];
		out[1] = b64_digits[v >> 12 & 63];
		out[2] = i + 1 < n ? b64_digits[v >> 6 & 63] : '=';
		out[3] = i + 2 < n ? b64_digits[v & 63] : '=';
	}
}

static int
b64_value(char ch)
{
	const char *p;

	if (ch == '\0' || (p = strchr(b64_digits, ch)) == NULL)
		return -1;
	return (int)(p - b64_digits);
}

/*
 * Decodes exactly n bytes from s[0..len) into out: false unless s is the
 * one canonical encoding of n bytes (length, padding, zero spare bits).
 */
static bool
b64_decode(const char *s, size_t len, unsigned char *out, size_t n)
{
	uint32_t v;
	size_t i, j, have;
	int d;

	if (len != (n + 2) / 3 * 4)
		return false;
	for (i = 0; i < n; i += 3, s += 4) {
		have = n - i < 3 ? n - i : 3;
		v = 0;
		for (j = 0; j < 4; j++) {
			if (j > have) {
				if (s[j] != '=')
					return false;
				d = 0;
			} else if ((d = b64_value(s[j])) < 0)
				return false;
			v = v << 6 | (uint32_t)d;
		}
		if ((have == 1 && (v & 0xffff) != 0) ||
		    (have == 2 && (v & 0xff) != 0))
			return false;
		out[i] = (unsigned char)(v >> 16);
		if (have > 1)
			out[i + 1] = (unsigned char)(v >> 8);
		if (have > 2)
			out[i + 2] = (unsigned char)v;
	}
	return true;
}

/*
 * ecs_distinct. Exact mode is an open-addressing (linear probing) table of
 * the values' hashes, 0 marking an empty slot (the hash 0 itself is kept in
 * has_zero), grown by doubling to stay at most 3/4 full. The first hash
 * that would make it hold more than exact_limit turns it into HyperLogLog:
 * every kept hash is added to the registers and the table freed, so the
 * registers are those of a sketch that was HyperLogLog from the start.
 *
 * HyperLogLog with 64-bit hashes: the top P bits pick a register, which
 * keeps the maximum over its hashes of 1 + the number of leading zeros of
 * the remaining Q = 64 - P bits (Q + 1 when they are all zero). The count
 * is Ertl's improved raw estimator ("New cardinality estimation algorithms
 * for HyperLogLog sketches", 2017), which the paper shows to be unbiased
 * over the whole range with no linear-counting threshold nor bias table
 * (measured here from 100 to 10^7; see ecs_sketch.h).
 */
#define HLL_P		ECS_DISTINCT_HLL_P
#define HLL_M		((size_t)1 << HLL_P)
#define HLL_Q		(64 - HLL_P)
#define HLL_B64_LEN	((HLL_M + 2) / 3 * 4)

struct ecs_distinct {
	size_t		 exact_limit;
	uint64_t	*set;		/* exact mode: nslots hashes, 0 empty */
	size_t		 nslots;	/* a power of two */
	size_t		 nset;		/* nonzero hashes in set */
	bool		 has_zero;	/* the hash 0 is in the set */
	unsigned char	*reg;		/* HyperLogLog: HLL_M registers */
};

static int
clz64(uint64_t x)
{
#if defined(__GNUC__)
	return __builtin_clzll(x);
#else
	int n = 0;

	for (; (x & 1ULL << 63) == 0; x <<= 1)
		n++;
	return n;
#endif
}

static void
hll_add(unsigned char *reg, uint64_t h)
{
	uint64_t w = h << HLL_P;
	unsigned char r = w == 0 ? HLL_Q + 1 : (unsigned char)(clz64(w) + 1);
	size_t i = (size_t)(h >> HLL_Q);

	if (reg[i] < r)
		reg[i] = r;
}

/* Ertl's sigma(x) = x + sum_k x^(2^k) 2^(k-1). */
static double
hll_sigma(double x)
{
	double y = 1, z = x, zp;

	if (x == 1)
		return INFINITY;
	do {
		x *= x;
		zp = z;
		z += x * y;
		y += y;
	} while (z != zp);
	return z;
}

/* Ertl's tau(x) = (1 - x - sum_k (1 - x^(2^-k))^2 2^-k) / 3. */
static double
hll_tau(double x)
{
	double y = 1, z, zp;

	if (x == 0 || x == 1)
		return 0;
	z = 1 - x;
	do {
		x = sqrt(x);
		zp = z;
		y *= 0.5;
		z -= (1 - x) * (1 - x) * y;
	} while (z != zp);
	return z / 3;
}

static uint64_t
hll_estimate(const unsigned char *reg)
{
	size_t hist[HLL_Q + 2] = { 0 }, i;
	double m = (double)HLL_M, z, e;
	int k;

	for (i = 0; i < HLL_M; i++)
		hist[reg[i]]++;
	if (hist[0] == HLL_M)
		return 0;
	z = m * hll_tau(1 - (double)hist[HLL_Q + 1] / m);
	for (k = HLL_Q; k >= 1; k--)
		z = 0.5 * (z + (double)hist[k]);
	z += m * hll_sigma((double)hist[0] / m);
	e = m * m / (2 * M_LN2 * z);
	/* Only when every register is Q + 1, a count far beyond 2^64. */
	if (!(e < 18446744073709551616.0))
		return UINT64_MAX;
	return (uint64_t)llround(e);
}

/* The slot of h in set, or the empty slot where it would go. */
static size_t
set_find(const uint64_t *set, size_t nslots, uint64_t h)
{
	size_t mask = nslots - 1, i = (size_t)h & mask;

	while (set[i] != 0 && set[i] != h)
		i = (i + 1) & mask;
	return i;
}

static void
set_resize(struct ecs_distinct *d, size_t nslots)
{
	uint64_t *set = ecs_xcalloc(nslots, sizeof(*set));
	size_t i;

	for (i = 0; i < d->nslots; i++)
		if (d->set[i] != 0)
			set[set_find(set, nslots, d->set[i])] = d->set[i];
	free(d->set);
	d->set = set;
	d->nslots = nslots;
}

static void
distinct_to_hll(struct ecs_distinct *d)
{
	size_t i;

	d->reg = ecs_xcalloc(HLL_M, 1);
	for (i = 0; i < d->nslots; i++)
		if (d->set[i] != 0)
			hll_add(d->reg, d->set[i]);
	if (d->has_zero)
		hll_add(d->reg, 0);
	free(d->set);
	d->set = NULL;
	d->nslots = d->nset = 0;
	d->has_zero = false;
}

static void
distinct_add_hash(struct ecs_distinct *d, uint64_t h)
{
	size_t i;

	if (d->reg == NULL) {
		if (h == 0) {
			if (d->has_zero)
				return;
			if (d->nset < d->exact_limit) {
				d->has_zero = true;
				return;
			}
		} else {
			i = set_find(d->set, d->nslots, h);
			if (d->set[i] == h)
				return;
			if (d->nset + d->has_zero < d->exact_limit) {
				if ((d->nset + 1) * 4 > d->nslots * 3) {
					set_resize(d, d->nslots * 2);
					i = set_find(d->set, d->nslots, h);
				}
				d->set[i] = h;
				d->nset++;
				return;
			}
		}
		distinct_to_hll(d);
	}
	hll_add(d->reg, h);
}

struct ecs_distinct *
ecs_distinct_create(size_t exact_limit)
{
	struct ecs_distinct *d = ecs_xcalloc(1, sizeof(*d));

	d->exact_limit = exact_limit;
	if (exact_limit == 0)
		d->reg = ecs_xcalloc(HLL_M, 1);
	else {
		d->nslots = 16;
		d->set = ecs_xcalloc(d->nslots, sizeof(*d->set));
	}
	return d;
}

void
ecs_distinct_destroy(struct ecs_distinct *d)
{
	if (d == NULL)
		return;
	free(d->set);
	free(d->reg);
	free(d);
}

void
ecs_distinct_add(struct ecs_distinct *d, const char *bytes, size_t len)
{
	distinct_add_hash(d, ecs_sketch_hash(bytes, len));
}

void
ecs_distinct_merge(struct ecs_distinct *into, const struct ecs_distinct *from)
{
	size_t i;

	if (into == from)
		return;
	if (from->reg != NULL) {
		if (into->reg == NULL)
			distinct_to_hll(into);
		for (i = 0; i < HLL_M; i++)
			if (into->reg[i] < from->reg[i])
				into->reg[i] = from->reg[i];
		return;
	}
	for (i = 0; i < from->nslots; i++)
		if (from->set[i] != 0)
			distinct_add_hash(into, from->set[i]);
	if (from->has_zero)
		distinct_add_hash(into, 0);
}

uint64_t
ecs_distinct_count(const struct ecs_distinct *d)
{
	if (d->reg == NULL)
		return d->nset + d->has_zero;
	return hll_estimate(d->reg);
}

bool
ecs_distinct_is_exact(const struct ecs_distinct *d)
{
	return d->reg == NULL;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct json_object *
ecs_distinct_to_json(const struct ecs_distinct *d)
{
	struct json_object *o = json_object_new_object(), *a;
	uint64_t *h;
	size_t i, n = 0;
	char buf[16], *s;
	int j;

	if (d->reg != NULL) {
		s = ecs_xmalloc(HLL_B64_LEN);
		b64_encode(d->reg, HLL_M, s);
		json_object_object_add(o, "p", json_object_new_int(HLL_P));
		json_object_object_add(o, "hll",
		    json_object_new_string_len(s, (int)HLL_B64_LEN));
		free(s);
		return o;
	}
	h = ecs_xmalloc((d->nset + 1) * sizeof(*h));
	if (d->has_zero)
		h[n++] = 0;
	for (i = 0; i < d->nslots; i++)
		if (d->set[i] != 0)
			h[n++] = d->set[i];
	qsort(h, n, sizeof(*h), u64_cmp);
	a = json_object_new_array();
	for (i = 0; i < n; i++) {
		for (j = 0; j < 16; j++)
			buf[j] = "0123456789abcdef"[h[i] >> (60 - 4 * j) & 15];
		json_object_array_add(a, json_object_new_string_len(buf, 16));
	}
	free(h);
	json_object_object_add(o, "exact", a);
	return o;
}

/* Exactly 16 hex digits, either case. */
static bool
parse_hash(struct json_object *o, uint64_t *out)
{
	const char *s;
	uint64_t v = 0;
	int i, d;

	if (!json_object_is_type(o, json_type_string) ||
	    json_object_get_string_len(o) != 16)
		return false;
	s = json_object_get_string(o);
	for (i = 0; i < 16; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return true;
}

struct ecs_distinct *
ecs_distinct_from_json(struct json_object *obj, size_t exact_limit,
    const char **why)
{
	struct ecs_distinct *d;
	struct json_object *v, *p;
	uint64_t h, prev = 0;
	size_t i, n;
	int64_t prec;

	if (!json_object_is_type(obj, json_type_object)) {
		*why = "distinct sketch is not an object";
		return NULL;
	}
	if (json_object_object_get_ex(obj, "exact", &v)) {
		if (json_object_object_length(obj) != 1) {
			*why = "distinct sketch has unexpected keys";
			return NULL;
		}
		if (!json_object_is_type(v, json_type_array)) {
			*why = "distinct sketch 'exact' is not an array";
			return NULL;
		}
		n = json_object_array_length(v);
		d = ecs_distinct_create(exact_limit);
		if (d->reg == NULL && n <= exact_limit && n * 4 > 16 * 3) {
			for (i = 16; n * 4 > i * 3; i *= 2)
				;
			set_resize(d, i);
		}
		for (i = 0; i < n; i++) {
			if (!parse_hash(json_object_array_get_idx(v, i), &h)) {
				*why = "distinct sketch hash is not 16 hex digits";
				ecs_distinct_destroy(d);
				return NULL;
			}
			if (i > 0 && h <= prev) {
				*why = "distinct sketch hashes are not ascending";
				ecs_distinct_destroy(d);
				return NULL;
			}
			distinct_add_hash(d, h);
			prev = h;
		}
		return d;
	}
	if (!json_object_object_get_ex(obj, "hll", &v) ||
	    !json_object_object_get_ex(obj, "p", &p) ||
	    json_object_object_length(obj) != 2) {
		*why = "distinct sketch is neither 'exact' nor 'p' and 'hll'";
		return NULL;
	}
	if (!json_i64(p, HLL_P, HLL_P, &prec)) {
		*why = "distinct sketch precision 'p' is not 14";
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		*why = "distinct sketch 'hll' is not a string";
		return NULL;
	}
	d = ecs_distinct_create(0);
	d->exact_limit = exact_limit;
	if (!b64_decode(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v), d->reg, HLL_M)) {
		*why = "distinct sketch 'hll' is not base64 of 16384 bytes";
		ecs_distinct_destroy(d);
		return NULL;
	}
	for (i = 0; i < HLL_M; i++)
		if (d->reg[i] > HLL_Q + 1) {
			*why = "distinct sketch register out of range";
			ecs_distinct_destroy(d);
			return NULL;
		}
	return d;
}
