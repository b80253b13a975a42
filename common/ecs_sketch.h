/* SPDX-License-Identifier: ISC */
/*
 * ecs_sketch.h -- mergeable streaming sketches for windowed metrics: how
 * many distinct values, which quantiles, which keys are the heaviest. Each
 * sketch has bounded memory, can be merged with another of its kind (so a
 * window can be built from smaller windows, or from saved state), and is
 * written to and read back from JSON for state files. Everything is
 * deterministic: the same input in the same order gives the same sketch
 * and the same JSON on every run and machine (one caveat: a DDSketch
 * bucket is found with libm's log(), so a value within an ulp or so of a
 * bucket boundary may land in the neighbouring bucket under another libm).
 *
 * ecs_distinct -- distinct count, exact up to a limit, then HyperLogLog.
 *   Values are hashed with XXH64 (seed 0; ecs_sketch_hash).
 *   Exact mode keeps the set of 64-bit hashes: exact up to hash collisions,
 *   which for n values happen with probability about n^2 / 2^65 (3e-12 at
 *   n = 10000). Memory: an open-addressing table of 8-byte slots, a power
 *   of two at most 3/4 full, so 10.7 to 21.3 bytes per value: 128 KiB at
 *   exact_limit 10000 (16 KiB, the size of the HLL, up to 1536 values).
 *   HLL mode: precision 14, 16384 one-byte registers = 16 KiB, standard
 *   error 1.04 / sqrt(16384) = 0.81% (Ertl's improved raw estimator, which
 *   needs no linear-counting switch nor bias tables and has no measurable
 *   bias: over 100 runs at each of 10k..10M, mean error within +-0.12%,
 *   RMS 0.54..0.76%, worst 1.9%). 2% is 2.5 standard errors, a typical
 *   but not a hard bound: about one sketch in 70 may be off by more.
 *   Merging is a set union or a register max: a merged sketch is the same
 *   sketch as one fed both streams.
 *
 * ecs_quantile -- DDSketch (Masson, Rim, Lee, VLDB 2019).
 *   For any q, the estimate is within relative error alpha of the value at
 *   rank floor(q * (n - 1)) (0-based, in sorted order) as long as no bucket
 *   was collapsed. Positive and negative values have a store each (of
 *   magnitudes), zeros a counter; min and max are exact, and estimates are
 *   clamped to them. Memory: at most ECS_QUANTILE_MAX_BUCKETS (2048) 8-byte
 *   counters per store, 32 KiB in all, plus 128 bytes; a store holds only
 *   the span of the data, 1 + ln(max/min) / ln((1 + alpha) / (1 - alpha))
 *   buckets (690 for magnitudes from 0.01 to 10000 at alpha 0.01), in an
 *   array rounded up to a power of two (8 KiB for that span). The 2048
 *   buckets cover a ratio of 6e17 between the smallest and largest
 *   magnitude of one sign at alpha 0.01; beyond that the smallest
 *   magnitudes are collapsed into the lowest bucket kept, and only
 *   quantiles that fall into it lose their accuracy: they are reported as
 *   that bucket's value, too large in magnitude. Merging adds buckets: a
 *   merged sketch is the same sketch as one fed both streams.
 *
 * ecs_topk -- heavy hitters by Space-Saving (Metwally, Agrawal, El Abbadi
 *   2005) with weights. With m counters over a stream of total weight N:
 *   every key whose true count exceeds N / m is listed; a listed count c
 *   with error e bounds the true count f by c - e <= f <= c; a key that is
 *   not listed has f = 0 while fewer than m keys are listed, and after
 *   that f <= the smallest listed count <= N / m. Merges keep all three
 *   guarantees (see ecs_topk_merge). Memory: 56 bytes per counter, 4 of
 *   heap, 8 to 16 of hash table, and the key rounded up to 16 bytes,
 *   allocated as counters fill up: 8.5 KiB for 100 counters with 10-byte
 *   keys (plus malloc's overhead for each key).
 *
 * Ownership: create and from_json return sketches owned by the caller
 * (destroy; NULL is a no-op); to_json returns a new object owned by the
 * caller; from_json borrows its argument. from_json takes hostile input:
 * anything malformed gives NULL and a static message in *why, never a
 * crash nor an unbounded allocation beyond the input's own size.
 */
#ifndef ECS_SKETCH_H
#define ECS_SKETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/* ecs_hash.c -- the sketches' hash */

/*
 * XXH64 of bytes[0..len) with seed 0, as the reference implementation on
 * any machine: this is the hash stored in ecs_distinct state.
 */
uint64_t	 ecs_sketch_hash(const void *bytes, size_t len);

/* ecs_distinct.c -- distinct count: exact to a limit, then HyperLogLog */

#define ECS_DISTINCT_HLL_P	14	/* 2^14 registers */

struct ecs_distinct;

/*
 * A new empty counter, exact until it holds more than exact_limit distinct
 * hashes (0: HyperLogLog from the start). Owned by the caller.
 */
struct ecs_distinct *ecs_distinct_create(size_t exact_limit);
void		 ecs_distinct_destroy(struct ecs_distinct *);
/* Counts the value bytes[0..len), e.g. a number's JSON text or a string. */
void		 ecs_distinct_add(struct ecs_distinct *, const char *bytes,
		    size_t len);
/*
 * Adds from's values to into (from is unchanged; into == from is allowed).
 * Two exact sketches stay exact while the union is within into's limit.
 */
void		 ecs_distinct_merge(struct ecs_distinct *into,
		    const struct ecs_distinct *from);
/* The number of distinct values: exact, or the HyperLogLog estimate. */
uint64_t	 ecs_distinct_count(const struct ecs_distinct *);
bool		 ecs_distinct_is_exact(const struct ecs_distinct *);
/*
 * {"exact":["0123456789abcdef",...]} (hashes as hex, ascending) or
 * {"p":14,"hll":"<base64 of the 16384 registers>"}; owned by the caller.
 */
struct json_object *ecs_distinct_to_json(const struct ecs_distinct *);
/*
 * The sketch written by ecs_distinct_to_json, with exact_limit as in
 * create (an exact set larger than it becomes HyperLogLog); owned by the
 * caller. NULL with *why set (static text) when obj is malformed.
 */
struct ecs_distinct *ecs_distinct_from_json(struct json_object *obj,
		    size_t exact_limit, const char **why);

/* ecs_quantile.c -- quantiles with relative accuracy (DDSketch) */

#define ECS_QUANTILE_ALPHA		0.01	/* the usual accuracy */
#define ECS_QUANTILE_MIN_ALPHA		1e-6
#define ECS_QUANTILE_MAX_ALPHA		0.5
#define ECS_QUANTILE_MAX_BUCKETS	2048	/* per sign */

struct ecs_quantile;

/*
 * A new empty sketch with relative accuracy alpha; owned by the caller.
 * NULL when alpha is not in [ECS_QUANTILE_MIN_ALPHA, ECS_QUANTILE_MAX_ALPHA].
 */
struct ecs_quantile *ecs_quantile_create(double alpha);
void		 ecs_quantile_destroy(struct ecs_quantile *);
/*
 * Counts v; -0.0 is a zero. NaN, +inf and -inf are ignored (not counted):
 * they are not measurements, and counted as +-DBL_MAX they would make the
 * store span more than 2048 buckets and collapse every ordinary value.
 * A finite outlier 6e17 times the typical magnitude does that too.
 */
void		 ecs_quantile_add(struct ecs_quantile *, double v);
/*
 * The estimate of the value at rank floor(q * (n - 1)) of the n values
 * added: within relative error alpha of it (unless collapsed, see above).
 * q = 0 and q = 1 give the exact min and max. NaN when the sketch is empty
 * or q is not in [0, 1].
 */
double		 ecs_quantile_get(const struct ecs_quantile *, double q);
uint64_t	 ecs_quantile_count(const struct ecs_quantile *);
double		 ecs_quantile_alpha(const struct ecs_quantile *);
/*
 * Adds from's values to into (from is unchanged; into == from doubles
 * every count). False, changing nothing, when their alphas differ.
 */
bool		 ecs_quantile_merge(struct ecs_quantile *into,
		    const struct ecs_quantile *from);
/*
 * {"alpha":0.01,"zero":Z,"pos":{"key":K,"counts":[...]},"neg":{...},
 * "min":MIN,"max":MAX} where counts[i] is the count of bucket K + i (of
 * v for "pos", of -v for "neg"; min and max only when not empty); owned
 * by the caller.
 */
struct json_object *ecs_quantile_to_json(const struct ecs_quantile *);
/* As ecs_distinct_from_json. */
struct ecs_quantile *ecs_quantile_from_json(struct json_object *obj,
		    const char **why);

/* ecs_topk.c -- heavy hitters (Space-Saving) */

#define ECS_TOPK_MAX_COUNTERS	(1 << 20)

struct ecs_topk;

struct ecs_topk_item {
	const char	*key;		/* borrowed; NUL-terminated after len */
	size_t		 len;
	uint64_t	 count;		/* overestimates the true count... */
	uint64_t	 error;		/* ...by at most this */
};

/*
 * A new empty summary with the given number of counters (10 times the
 * number of keys wanted is the usual choice); owned by the caller. NULL
 * when counters is 0 or more than ECS_TOPK_MAX_COUNTERS.
 */
struct ecs_topk	*ecs_topk_create(size_t counters);
void		 ecs_topk_destroy(struct ecs_topk *);
/*
 * Counts key[0..len) (copied) weight times, in O(log counters). A weight
 * of 0 changes nothing. Counts saturate at UINT64_MAX.
 */
void		 ecs_topk_add(struct ecs_topk *, const char *key, size_t len,
		    uint64_t weight);
/*
 * Writes the min(k, monitored keys) heaviest keys to out[0..k), by count
 * descending, then key bytes ascending, and returns how many. The keys are
 * borrowed until the next add, merge or destroy on the summary.
 */
size_t		 ecs_topk_list(const struct ecs_topk *, size_t k,
		    struct ecs_topk_item *out);
/* The total weight added, N. */
uint64_t	 ecs_topk_total(const struct ecs_topk *);
/*
 * True while every count is exact: no key was ever evicted nor dropped by
 * a merge, so the summary holds every key added with its true count (all
 * errors are 0 and the counts sum to N). A summary with at least as many
 * counters as distinct keys stays exact.
 */
bool		 ecs_topk_is_exact(const struct ecs_topk *);
/*
 * Merges from into into (from is unchanged; into == from is allowed). A
 * key in both summaries gets the sum of counts and of errors; a key in
 * only one is charged, in count and in error, the other summary's
 * smallest count (the most it can have had there; 0 when that summary is
 * not full); the heaviest `counters` keys are kept. Agarwal et al.,
 * "Mergeable summaries" (PODS 2012), show Space-Saving mergeable through
 * its isomorphism with Misra-Gries; this is a merge on Space-Saving
 * counters directly, and ecs_topk.c proves it keeps the guarantees.
 * False, changing nothing, when the numbers of counters differ.
 */
bool		 ecs_topk_merge(struct ecs_topk *into,
		    const struct ecs_topk *from);
/*
 * {"counters":M,"total":N,"items":[["key",count,error],...]} with items
 * in ecs_topk_list order; owned by the caller.
 */
struct json_object *ecs_topk_to_json(const struct ecs_topk *);
/* As ecs_distinct_from_json. */
struct ecs_topk	*ecs_topk_from_json(struct json_object *obj,
		    const char **why);

#endif /* ECS_SKETCH_H */
