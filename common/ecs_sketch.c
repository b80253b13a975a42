/* SPDX-License-Identifier: ISC */
/*
 * ecs_sketch.c -- the sketches of ecs_sketch.h: a distinct counter (a set
 * of 64-bit hashes, then HyperLogLog with Ertl's estimator), DDSketch
 * quantiles (two collapsing dense stores) and Space-Saving heavy hitters
 * (a hash table and a min-heap), each with a merge and a JSON form. Every
 * structure is kept in a canonical form, or compared by a total order, so
 * that what can be observed (counts, JSON, future evictions) depends only
 * on what was added and never on the order of the internal tables: a
 * sketch read back from its JSON behaves exactly as the one that wrote it.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "ecs_sketch.h"

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* A JSON integer in [0, UINT64_MAX]. */
static bool
json_u64(struct json_object *o, uint64_t *out)
{
	if (!json_object_is_type(o, json_type_int) ||
	    json_object_get_int64(o) < 0)
		return false;
	*out = json_object_get_uint64(o);
	return true;
}

/* A JSON integer in [lo, hi]. */
static bool
json_i64(struct json_object *o, int64_t lo, int64_t hi, int64_t *out)
{
	if (!json_object_is_type(o, json_type_int))
		return false;
	*out = json_object_get_int64(o);
	return *out >= lo && *out <= hi;
}

/* A finite JSON number (json-c also reads NaN and Infinity). */
static bool
json_number(struct json_object *o, double *out)
{
	if (!json_object_is_type(o, json_type_double) &&
	    !json_object_is_type(o, json_type_int))
		return false;
	*out = json_object_get_double(o);
	return isfinite(*out);
}

/* Byte strings in memcmp order, a proper prefix first. */
static int
key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int r = n == 0 ? 0 : memcmp(a, b, n);

	if (r != 0)
		return r < 0 ? -1 : 1;
	return alen < blen ? -1 : alen > blen;
}

/*
 * XXH64 (Yann Collet's xxHash, 64-bit), seed 0. Input words are read as
 * little-endian whatever the machine, so hashes saved in state files mean
 * the same everywhere.
 */
#define XXH_P1	0x9e3779b185ebca87ULL
#define XXH_P2	0xc2b2ae3d27d4eb4fULL
#define XXH_P3	0x165667b19e3779f9ULL
#define XXH_P4	0x85ebca77c2b2ae63ULL
#define XXH_P5	0x27d4eb2f165667c5ULL

static uint64_t
rotl64(uint64_t x, int r)
{
	return x << r | x >> (64 - r);
}

static uint64_t
read64le(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	    (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	    (uint64_t)p[7] << 56;
}

static uint64_t
read32le(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24;
}

static uint64_t
xxh_round(uint64_t acc, uint64_t in)
{
	acc += in * XXH_P2;
	return rotl64(acc, 31) * XXH_P1;
}

static uint64_t
xxh_merge(uint64_t h, uint64_t v)
{
	h ^= xxh_round(0, v);
	return h * XXH_P1 + XXH_P4;
}

uint64_t
ecs_sketch_hash(const void *bytes, size_t len)
{
	const unsigned char *p = bytes, *end = len == 0 ? p : p + len;
	uint64_t h, v1, v2, v3, v4;

	if (len >= 32) {
		v1 = XXH_P1 + XXH_P2;
		v2 = XXH_P2;
		v3 = 0;
		v4 = 0 - XXH_P1;
		do {
			v1 = xxh_round(v1, read64le(p));
			v2 = xxh_round(v2, read64le(p + 8));
			v3 = xxh_round(v3, read64le(p + 16));
			v4 = xxh_round(v4, read64le(p + 24));
			p += 32;
		} while (end - p >= 32);
		h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) +
		    rotl64(v4, 18);
		h = xxh_merge(h, v1);
		h = xxh_merge(h, v2);
		h = xxh_merge(h, v3);
		h = xxh_merge(h, v4);
	} else
		h = XXH_P5;
	h += len;
	for (; end - p >= 8; p += 8) {
		h ^= xxh_round(0, read64le(p));
		h = rotl64(h, 27) * XXH_P1 + XXH_P4;
	}
	if (end - p >= 4) {
		h ^= read32le(p) * XXH_P1;
		h = rotl64(h, 23) * XXH_P2 + XXH_P3;
		p += 4;
	}
	for (; p < end; p++) {
		h ^= *p * XXH_P5;
		h = rotl64(h, 11) * XXH_P1;
	}
	h ^= h >> 33;
	h *= XXH_P2;
	h ^= h >> 29;
	h *= XXH_P3;
	h ^= h >> 32;
	return h;
}

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

/*
 * ecs_topk (Space-Saving). Counters c[0..n) own their keys; slots is an
 * open-addressing table (linear probing, deletion by backward shift) from
 * key to counter number + 1, at most half full; heap is a min-heap of
 * counter numbers ordered by count, then by key bytes descending. The heap
 * order is total, so the counter evicted (the one ecs_topk_list puts
 * last) depends only on the summary's contents, not on its history.
 *
 * Why the merge keeps the guarantees. Let min_i be summary i's smallest
 * count when it is full, else 0. Each summary satisfies, for every key x
 * with true count f_i(x): monitored, c_i(x) - e_i(x) <= f_i(x) <= c_i(x);
 * not monitored, f_i(x) <= min_i; and the counts sum to at most N_i. Take
 * c'_i(x) = c_i(x) and e'_i(x) = e_i(x) when monitored, else both min_i:
 * then c'_i - e'_i <= f_i <= c'_i always, and the sums c = c'_1 + c'_2,
 * e = e'_1 + e'_2 bound f = f_1 + f_2 the same way. Every key in the union
 * has c >= min_1 + min_2, which bounds f for keys in neither, and a key
 * dropped from the union had c <= every kept count, so an unmonitored key
 * has f <= the merged minimum. Swapping each kept key not in summary i for
 * a distinct unkept key of summary i (count >= min_i) shows the kept c'_i
 * sum to at most N_i, so the kept counts sum to at most N = N_1 + N_2, the
 * minimum is at most N / m, and adds keep all of this as Space-Saving does.
 */
struct counter {
	char		*key;		/* owned, NUL-terminated */
	size_t		 len, cap;
	uint64_t	 hash;
	uint64_t	 count, error;
	uint32_t	 heap;		/* its index in heap */
};

struct ecs_topk {
	size_t		 m;		/* counters */
	struct counter	*c;
	size_t		 n, cap;	/* counters used, allocated (<= m) */
	uint32_t	*heap;		/* n counter numbers, cap allocated */
	uint32_t	*slots;		/* counter number + 1; 0 is empty */
	size_t		 nslots;	/* a power of two >= 2 * cap */
	uint64_t	 total;
};

static void
counter_set_key(struct counter *c, const char *key, size_t len)
{
	if (c->key == NULL || c->cap < len + 1) {
		free(c->key);
		c->cap = (len + 16) & ~(size_t)15;
		c->key = ecs_xmalloc(c->cap);
	}
	if (len > 0)
		memcpy(c->key, key, len);
	c->key[len] = '\0';
	c->len = len;
}

/* The slot of key in t, or the empty slot where it would go. */
static size_t
topk_find(const struct ecs_topk *t, const char *key, size_t len, uint64_t h)
{
	size_t mask = t->nslots - 1, i = (size_t)h & mask;
	const struct counter *c;

	for (; t->slots[i] != 0; i = (i + 1) & mask) {
		c = &t->c[t->slots[i] - 1];
		if (c->hash == h && c->len == len &&
		    (len == 0 || memcmp(c->key, key, len) == 0))
			break;
	}
	return i;
}

/* Empties slot i, moving later entries of its probe run back. */
static void
topk_unlink(struct ecs_topk *t, size_t i)
{
	size_t mask = t->nslots - 1, j = i, home;

	for (;;) {
		t->slots[i] = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (t->slots[j] == 0)
				return;
			home = (size_t)t->c[t->slots[j] - 1].hash & mask;
			/* It may move unless home is cyclically in (i, j]. */
			if (i <= j ? home <= i || home > j :
			    home <= i && home > j)
				break;
		}
		t->slots[i] = t->slots[j];
		i = j;
	}
}

static void
topk_rehash(struct ecs_topk *t, size_t nslots)
{
	size_t i;

	free(t->slots);
	t->nslots = nslots;
	t->slots = ecs_xcalloc(nslots, sizeof(*t->slots));
	for (i = 0; i < t->n; i++)
		t->slots[topk_find(t, t->c[i].key, t->c[i].len,
		    t->c[i].hash)] = (uint32_t)(i + 1);
}

/* Makes room for want (<= m) counters. */
static void
topk_reserve(struct ecs_topk *t, size_t want)
{
	size_t cap = t->cap ? t->cap : 8, nslots = t->nslots ? t->nslots : 16;

	if (want <= t->cap)
		return;
	while (cap < want)
		cap *= 2;
	if (cap > t->m)
		cap = t->m;
	t->c = ecs_xrealloc(t->c, cap * sizeof(*t->c));
	memset(t->c + t->cap, 0, (cap - t->cap) * sizeof(*t->c));
	t->heap = ecs_xrealloc(t->heap, cap * sizeof(*t->heap));
	t->cap = cap;
	while (nslots < 2 * cap)
		nslots *= 2;
	if (nslots != t->nslots)
		topk_rehash(t, nslots);
}

/* The heap order: a before b. */
static bool
heap_less(const struct ecs_topk *t, uint32_t a, uint32_t b)
{
	const struct counter *x = &t->c[a], *y = &t->c[b];

	if (x->count != y->count)
		return x->count < y->count;
	return key_cmp(x->key, x->len, y->key, y->len) > 0;
}

static void
heap_put(struct ecs_topk *t, size_t pos, uint32_t ci)
{
	t->heap[pos] = ci;
	t->c[ci].heap = (uint32_t)pos;
}

static void
heap_down(struct ecs_topk *t, size_t pos)
{
	uint32_t ci = t->heap[pos];
	size_t child;

	for (; (child = 2 * pos + 1) < t->n; pos = child) {
		if (child + 1 < t->n &&
		    heap_less(t, t->heap[child + 1], t->heap[child]))
			child++;
		if (!heap_less(t, t->heap[child], ci))
			break;
		heap_put(t, pos, t->heap[child]);
	}
	heap_put(t, pos, ci);
}

static void
heap_up(struct ecs_topk *t, size_t pos)
{
	uint32_t ci = t->heap[pos];

	for (; pos > 0 && heap_less(t, ci, t->heap[(pos - 1) / 2]);
	    pos = (pos - 1) / 2)
		heap_put(t, pos, t->heap[(pos - 1) / 2]);
	heap_put(t, pos, ci);
}

/* Rebuilds slots and heap from c[0..n). */
static void
topk_rebuild(struct ecs_topk *t)
{
	size_t i;

	topk_rehash(t, t->nslots);
	for (i = 0; i < t->n; i++)
		heap_put(t, i, (uint32_t)i);
	for (i = t->n / 2; i-- > 0;)
		heap_down(t, i);
}

struct ecs_topk *
ecs_topk_create(size_t counters)
{
	struct ecs_topk *t;

	if (counters == 0 || counters > ECS_TOPK_MAX_COUNTERS)
		return NULL;
	t = ecs_xcalloc(1, sizeof(*t));
	t->m = counters;
	topk_reserve(t, 1);
	return t;
}

static void
topk_free_counters(struct ecs_topk *t)
{
	size_t i;

	for (i = 0; i < t->cap; i++)
		free(t->c[i].key);
	free(t->c);
	free(t->heap);
	free(t->slots);
}

void
ecs_topk_destroy(struct ecs_topk *t)
{
	if (t == NULL)
		return;
	topk_free_counters(t);
	free(t);
}

void
ecs_topk_add(struct ecs_topk *t, const char *key, size_t len, uint64_t weight)
{
	uint64_t h;
	uint32_t ci;
	size_t i;
	struct counter *c;

	if (weight == 0)
		return;
	t->total = sat_add(t->total, weight);
	h = ecs_sketch_hash(key, len);
	i = topk_find(t, key, len, h);
	if (t->slots[i] != 0) {
		ci = t->slots[i] - 1;
		t->c[ci].count = sat_add(t->c[ci].count, weight);
		heap_down(t, t->c[ci].heap);
		return;
	}
	if (t->n < t->m) {
		if (t->n == t->cap) {
			topk_reserve(t, t->n + 1);
			i = topk_find(t, key, len, h);
		}
		ci = (uint32_t)t->n++;
		c = &t->c[ci];
		counter_set_key(c, key, len);
		c->hash = h;
		c->count = weight;
		c->error = 0;
		t->slots[i] = ci + 1;
		heap_put(t, ci, ci);
		heap_up(t, ci);
		return;
	}
	/* Full: the smallest counter takes the key, its count as error. */
	ci = t->heap[0];
	c = &t->c[ci];
	topk_unlink(t, topk_find(t, c->key, c->len, c->hash));
	counter_set_key(c, key, len);
	c->hash = h;
	c->error = c->count;
	c->count = sat_add(c->count, weight);
	t->slots[topk_find(t, key, len, h)] = ci + 1;
	heap_down(t, 0);
}

/* The ecs_topk_list order: count descending, then key bytes ascending. */
static int
counter_order(const struct counter *x, const struct counter *y)
{
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return key_cmp(x->key, x->len, y->key, y->len);
}

static int
counter_cmp(const void *a, const void *b)
{
	return counter_order(*(const struct counter *const *)a,
	    *(const struct counter *const *)b);
}

/* Pointers to c[0..n) in list order, in an array owned by the caller. */
static const struct counter **
counters_sorted(const struct counter *c, size_t n)
{
	const struct counter **v = ecs_xmalloc((n + 1) * sizeof(*v));
	size_t i;

	for (i = 0; i < n; i++)
		v[i] = &c[i];
	qsort(v, n, sizeof(*v), counter_cmp);
	return v;
}

/* Sifts v[pos] down a heap of n whose root is the last in list order. */
static void
worst_down(const struct counter **v, size_t n, size_t pos)
{
	const struct counter *x = v[pos];
	size_t child;

	while ((child = 2 * pos + 1) < n) {
		if (child + 1 < n && counter_order(v[child + 1], v[child]) > 0)
			child++;
		if (counter_order(v[child], x) <= 0)
			break;
		v[pos] = v[child];
		pos = child;
	}
	v[pos] = x;
}

/*
 * Pointers to the first k of c[0..n) in list order, in an array owned by
 * the caller: a heap of the k best so far, O(n log k), so that a short
 * list of many counters (a row after every event) does not sort them all.
 */
static const struct counter **
counters_first(const struct counter *c, size_t n, size_t k)
{
	const struct counter **v;
	size_t i;

	if (k >= n / 2)
		return counters_sorted(c, n);
	v = ecs_xmalloc((k + 1) * sizeof(*v));
	for (i = 0; i < k; i++)
		v[i] = &c[i];
	for (i = k / 2; i-- > 0;)
		worst_down(v, k, i);
	for (i = k; i < n; i++)
		if (counter_order(&c[i], v[0]) < 0) {
			v[0] = &c[i];
			worst_down(v, k, 0);
		}
	qsort(v, k, sizeof(*v), counter_cmp);
	return v;
}

size_t
ecs_topk_list(const struct ecs_topk *t, size_t k,
    struct ecs_topk_item *out)
{
	const struct counter **v;
	size_t i;

	if (k > t->n)
		k = t->n;
	if (k == 0)
		return 0;
	v = counters_first(t->c, t->n, k);
	for (i = 0; i < k; i++) {
		out[i].key = v[i]->key;
		out[i].len = v[i]->len;
		out[i].count = v[i]->count;
		out[i].error = v[i]->error;
	}
	free(v);
	return k;
}

uint64_t
ecs_topk_total(const struct ecs_topk *t)
{
	return t->total;
}

/*
 * An eviction leaves an error of at least 1 (every count is at least 1),
 * and only a counter with an error takes its place next time; a merge that
 * drops keys loses their counts from the sum, and one that charges a floor
 * charges it as error too. So either trace is there for good.
 */
bool
ecs_topk_is_exact(const struct ecs_topk *t)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (t->c[i].error != 0)
			return false;
		sum = sat_add(sum, t->c[i].count);
	}
	return sum == t->total;
}

size_t
ecs_topk_counters(const struct ecs_topk *t)
{
	return t->m;
}

/* The most an unmonitored key can have been counted: 0 unless full. */
static uint64_t
topk_floor(const struct ecs_topk *t)
{
	return t->n == t->m ? t->c[t->heap[0]].count : 0;
}

bool
ecs_topk_merge(struct ecs_topk *into, const struct ecs_topk *from)
{
	struct counter *all, *c;
	const struct counter *o, **v;
	uint64_t floor_into, floor_from;
	size_t i, j, n = 0;

	if (into->m != from->m)
		return false;
	into->total = sat_add(into->total, from->total);
	if (from->n == 0)
		return true;
	floor_into = topk_floor(into);
	floor_from = topk_floor(from);
	/* The union, keys borrowed from either summary. */
	all = ecs_xcalloc(into->n + from->n, sizeof(*all));
	for (i = 0; i < into->n; i++) {
		c = &all[n++];
		*c = into->c[i];
		j = topk_find(from, c->key, c->len, c->hash);
		o = from->slots[j] != 0 ? &from->c[from->slots[j] - 1] : NULL;
		c->count = sat_add(c->count, o ? o->count : floor_from);
		c->error = sat_add(c->error, o ? o->error : floor_from);
	}
	for (i = 0; i < from->n; i++) {
		o = &from->c[i];
		if (into->slots[topk_find(into, o->key, o->len, o->hash)] != 0)
			continue;
		c = &all[n++];
		*c = *o;
		c->count = sat_add(c->count, floor_into);
		c->error = sat_add(c->error, floor_into);
	}
	/* Keep the heaviest m, each key copied before the old ones go. */
	v = counters_sorted(all, n);
	if (n > into->m)
		n = into->m;
	c = ecs_xcalloc(n, sizeof(*c));
	for (i = 0; i < n; i++) {
		counter_set_key(&c[i], v[i]->key, v[i]->len);
		c[i].hash = v[i]->hash;
		c[i].count = v[i]->count;
		c[i].error = v[i]->error;
	}
	free(v);
	free(all);
	topk_free_counters(into);
	into->c = c;
	into->n = into->cap = n;
	into->heap = ecs_xmalloc(n * sizeof(*into->heap));
	into->slots = NULL;
	for (into->nslots = 16; into->nslots < 2 * n; into->nslots *= 2)
		;
	topk_rebuild(into);
	return true;
}

struct json_object *
ecs_topk_to_json(const struct ecs_topk *t)
{
	struct json_object *o = json_object_new_object(), *items, *it;
	const struct counter **v = counters_sorted(t->c, t->n);
	size_t i;

	items = json_object_new_array_ext((int)t->n);
	for (i = 0; i < t->n; i++) {
		it = json_object_new_array_ext(3);
		json_object_array_add(it,
		    json_object_new_string_len(v[i]->key, (int)v[i]->len));
		json_object_array_add(it, json_object_new_uint64(v[i]->count));
		json_object_array_add(it, json_object_new_uint64(v[i]->error));
		json_object_array_add(items, it);
	}
	free(v);
	json_object_object_add(o, "counters", json_object_new_int64(
	    (int64_t)t->m));
	json_object_object_add(o, "total", json_object_new_uint64(t->total));
	json_object_object_add(o, "items", items);
	return o;
}

/* Reads one ["key",count,error] item into c; a static message on failure. */
static const char *
item_from_json(struct json_object *it, struct counter *c)
{
	struct json_object *key;

	if (!json_object_is_type(it, json_type_array) ||
	    json_object_array_length(it) != 3)
		return "topk item is not [key, count, error]";
	key = json_object_array_get_idx(it, 0);
	if (!json_object_is_type(key, json_type_string))
		return "topk item key is not a string";
	if (!json_u64(json_object_array_get_idx(it, 1), &c->count) ||
	    c->count == 0)
		return "topk item count is not a positive integer";
	if (!json_u64(json_object_array_get_idx(it, 2), &c->error) ||
	    c->error > c->count)
		return "topk item error is not an integer up to its count";
	counter_set_key(c, json_object_get_string(key),
	    (size_t)json_object_get_string_len(key));
	c->hash = ecs_sketch_hash(c->key, c->len);
	return NULL;
}

struct ecs_topk *
ecs_topk_from_json(struct json_object *obj, const char **why)
{
	struct ecs_topk *t;
	struct json_object *counters, *total, *items;
	uint64_t sum = 0;
	int64_t m;
	size_t i, n;

	if (!json_object_is_type(obj, json_type_object) ||
	    json_object_object_length(obj) != 3 ||
	    !json_object_object_get_ex(obj, "counters", &counters) ||
	    !json_object_object_get_ex(obj, "total", &total) ||
	    !json_object_object_get_ex(obj, "items", &items)) {
		*why = "topk sketch is not {\"counters\",\"total\",\"items\"}";
		return NULL;
	}
	if (!json_i64(counters, 1, ECS_TOPK_MAX_COUNTERS, &m)) {
		*why = "topk sketch 'counters' is out of range";
		return NULL;
	}
	if (!json_object_is_type(items, json_type_array) ||
	    (n = json_object_array_length(items)) > (size_t)m) {
		*why = "topk sketch 'items' is not an array of 'counters' at most";
		return NULL;
	}
	t = ecs_topk_create((size_t)m);
	if (!json_u64(total, &t->total)) {
		*why = "topk sketch 'total' is not a count";
		goto fail;
	}
	topk_reserve(t, n);
	for (i = 0; i < n; i++) {
		*why = item_from_json(json_object_array_get_idx(items, i),
		    &t->c[i]);
		if (*why != NULL)
			goto fail;
		if (i > 0 && counter_order(&t->c[i - 1], &t->c[i]) >= 0) {
			*why = "topk sketch items are not in list order";
			goto fail;
		}
		if (sum + t->c[i].count < sum ||
		    sum + t->c[i].count > t->total) {
			*why = "topk sketch counts add up to more than 'total'";
			goto fail;
		}
		sum += t->c[i].count;
	}
	t->n = n;
	topk_rebuild(t);
	return t;
fail:
	ecs_topk_destroy(t);
	return NULL;
}
