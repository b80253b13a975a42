/* SPDX-License-Identifier: ISC */
/*
 * ecs_baseline.c -- each group's recent values and the drops and spikes
 * against their mean or their seasonal median (see ecs_baseline.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecs_baseline.h"

#define DAY_MS		86400000LL
#define WEEK_MS		(7 * DAY_MS)

/* A ring of the last n values of each slot (one slot for the mean rule). */
struct baseline {
	double		*values;	/* nslots rings of n values, owned */
	uint32_t	*filled;	/* values known in each slot, owned */
	uint32_t	*next;		/* where each slot's next one goes */
	int32_t		 outside;	/* windows above (> 0) or below in a row */
};

void
ecs_baselines_init(struct ecs_baselines *bs, uint32_t n, double drop_pct,
    double spike_pct)
{
	bs->groups = ecs_map_create(sizeof(struct baseline), NULL);
	bs->n = n;
	bs->drop_pct = drop_pct;
	bs->spike_pct = spike_pct;
	bs->season_ms = 0;
	bs->nslots = 1;
	bs->window_ms = 0;
	bs->band_k = 3;
	bs->persist = 1;
}

void
ecs_baselines_season(struct ecs_baselines *bs, int64_t season_ms,
    int64_t window_ms, double band_k)
{
	bs->season_ms = season_ms;
	bs->window_ms = window_ms;
	bs->nslots = (uint32_t)(season_ms / window_ms);
	bs->band_k = band_k;
}

static struct baseline *
baseline_of(struct ecs_baselines *bs, const char *key, size_t len)
{
	struct baseline *b;
	bool created;

	b = ecs_map_put(bs->groups, key, len, &created);
	if (created) {
		b->values = ecs_xcalloc((size_t)bs->nslots * bs->n,
		    sizeof(*b->values));
		b->filled = ecs_xcalloc(bs->nslots, sizeof(*b->filled));
		b->next = ecs_xcalloc(bs->nslots, sizeof(*b->next));
	}
	return b;
}

/* The slot of the window that starts at start: its place in the season. */
static uint32_t
slot_of(const struct ecs_baselines *bs, int64_t start)
{
	struct tm tm;
	int64_t ms_in;

	if (bs->season_ms == 0)
		return 0;
	ecs_time_local(start, &tm);
	ms_in = (((int64_t)(bs->season_ms == WEEK_MS ?
	    (tm.tm_wday + 6) % 7 : 0) * 24 + tm.tm_hour) * 60 + tm.tm_min) *
	    60000 + (int64_t)tm.tm_sec * 1000 + (start % 1000 + 1000) % 1000;
	/* A local hour that comes twice (DST ends) has the same slot. */
	return (uint32_t)(ms_in / bs->window_ms) % bs->nslots;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of v[0..n), which it sorts; the mean of the middle two. */
static double
median(double *v, uint32_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The mean rule on the ring of n values. */
static const char *
judge_mean(const struct ecs_baselines *bs, const double *ring,
    uint32_t next, double value, struct ecs_judgement *j)
{
	uint32_t i;

	/* Oldest first, as a restored baseline has them: same sum. */
	for (i = 0; i < bs->n; i++)
		j->expected += ring[(next + i) % bs->n];
	j->expected /= bs->n;
	if (bs->drop_pct > 0 && j->expected > 0 &&
	    value < j->expected * (1 - bs->drop_pct / 100))
		return "drop";
	if (bs->spike_pct > 0 && j->expected > 0 &&
	    value > j->expected * (1 + bs->spike_pct / 100))
		return "spike";
	return NULL;
}

/* The seasonal rule on the slot's n values: median, MAD, band. */
static const char *
judge_season(const struct ecs_baselines *bs, const double *ring,
    double value, struct ecs_judgement *j)
{
	double *v = ecs_xcalloc(bs->n, sizeof(*v)), mad, spread;
	uint32_t i;

	memcpy(v, ring, bs->n * sizeof(*v));
	j->expected = median(v, bs->n);
	for (i = 0; i < bs->n; i++)
		v[i] = fabs(v[i] - j->expected);
	mad = median(v, bs->n);
	free(v);
	/*
	 * A count of mean m varies by sqrt(m), and the median of n such
	 * counts by about sqrt(m * pi / 2n): their difference spreads at
	 * least that much, however alike the n seasons happened to be.
	 */
	spread = fmax(1.4826 * mad, sqrt(fmax(j->expected, 1) *
	    (1 + M_PI / (2 * bs->n))));
	j->low = j->expected - bs->band_k * spread;
	j->high = j->expected + bs->band_k * spread;
	j->score = (value - j->expected) / spread;
	return value < j->low ? "drop" : value > j->high ? "spike" : NULL;
}

/* --persist: whether kind, found now, is the K-th of its side in a row. */
static const char *
persisted(const struct ecs_baselines *bs, struct baseline *b,
    const char *kind)
{
	if (kind == NULL)
		b->outside = 0;
	else if (kind[0] == 's')
		b->outside = b->outside > 0 ? b->outside + 1 : 1;
	else
		b->outside = b->outside < 0 ? b->outside - 1 : -1;
	/* Past K, more in a row change nothing: no overflow. */
	if (b->outside > (int32_t)bs->persist)
		b->outside = (int32_t)bs->persist;
	else if (b->outside < -(int32_t)bs->persist)
		b->outside = -(int32_t)bs->persist;
	return kind != NULL && (uint32_t)abs(b->outside) >= bs->persist ?
	    kind : NULL;
}

void
ecs_baselines_judge(struct ecs_baselines *bs, const char *key, size_t len,
    int64_t start, double value, struct ecs_judgement *j)
{
	struct baseline *b = baseline_of(bs, key, len);
	uint32_t slot = slot_of(bs, start);
	double *ring = b->values + (size_t)slot * bs->n;
	const char *kind = NULL;

	memset(j, 0, sizeof(*j));
	if (b->filled[slot] == bs->n) {
		kind = bs->season_ms > 0 ? judge_season(bs, ring, value, j) :
		    judge_mean(bs, ring, b->next[slot], value, j);
		j->kind = persisted(bs, b, kind);
	}
	/*
	 * Seasonal: a value off the band is remembered as the band's edge,
	 * so that one outage does not widen the band of the seasons after
	 * it; a lasting change still moves the median, a band a season.
	 */
	if (bs->season_ms > 0 && kind != NULL)
		value = fmin(fmax(value, j->low), j->high);
	ring[b->next[slot]] = value;
	b->next[slot] = (b->next[slot] + 1) % bs->n;
	if (b->filled[slot] < bs->n)
		b->filled[slot]++;
}

void
ecs_judgement_write(const struct ecs_baselines *bs,
    const struct ecs_judgement *j, double value, struct ecs_buf *b)
{
	if (bs->season_ms == 0) {
		ecs_buf_puts(b, ",\"baseline\":");
		ecs_buf_double(b, j->expected, 2);
		ecs_buf_puts(b, ",\"change_pct\":");
		ecs_buf_double(b, j->expected > 0 ?
		    (value - j->expected) * 100 / j->expected : 0, 2);
		return;
	}
	ecs_buf_puts(b, ",\"expected\":");
	ecs_buf_double(b, j->expected, 2);
	ecs_buf_puts(b, ",\"low\":");
	ecs_buf_double(b, j->low, 2);
	ecs_buf_puts(b, ",\"high\":");
	ecs_buf_double(b, j->high, 2);
	ecs_buf_puts(b, ",\"score\":");
	ecs_buf_double(b, j->score, 2);
}

uint32_t
ecs_baselines_span(const struct ecs_baselines *bs)
{
	return bs->n * bs->nslots;
}

size_t
ecs_baselines_count(const struct ecs_baselines *bs)
{
	return ecs_map_count(bs->groups);
}

const char *
ecs_baselines_key(const struct ecs_baselines *bs, size_t i, size_t *len)
{
	const char *key;

	ecs_map_at(bs->groups, i, &key, len);
	return key;
}

/* A slot's values, oldest first. */
static struct json_object *
slot_to_json(const struct ecs_baselines *bs, const struct baseline *b,
    uint32_t slot)
{
	struct json_object *vals = json_object_new_array();
	const double *ring = b->values + (size_t)slot * bs->n;
	uint32_t j, filled = b->filled[slot], next = b->next[slot];

	for (j = 0; j < filled; j++)
		json_object_array_add(vals, json_object_new_double(
		    ring[(next + bs->n - filled + j) % bs->n]));
	return vals;
}

void
ecs_baselines_save(const struct ecs_baselines *bs,
    struct ecs_state_writer *sw)
{
	struct json_object *rec, *slots;
	const struct baseline *b;
	const char *key;
	size_t i, len;
	uint32_t s;

	for (i = 0; i < ecs_map_count(bs->groups); i++) {
		b = ecs_map_at(bs->groups, i, &key, &len);
		rec = json_object_new_object();
		json_object_object_add(rec, "b",
		    json_object_new_string_len(key, (int)len));
		if (bs->season_ms == 0)
			json_object_object_add(rec, "v", slot_to_json(bs, b, 0));
		else {
			slots = json_object_new_array();
			for (s = 0; s < bs->nslots; s++)
				json_object_array_add(slots,
				    slot_to_json(bs, b, s));
			json_object_object_add(rec, "s", slots);
		}
		if (b->outside != 0)
			json_object_object_add(rec, "p",
			    json_object_new_int(b->outside));
		ecs_state_put(sw, rec);
		json_object_put(rec);
	}
}

/* Loads a slot's values (oldest first) from vals; false when bad. */
static bool
slot_from_json(const struct ecs_baselines *bs, struct baseline *b,
    uint32_t slot, struct json_object *vals)
{
	struct json_object *v;
	size_t i, n;

	if (!json_object_is_type(vals, json_type_array) ||
	    (n = json_object_array_length(vals)) > bs->n)
		return false;
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(vals, i);
		if (!json_object_is_type(v, json_type_double) &&
		    !json_object_is_type(v, json_type_int))
			return false;
		b->values[(size_t)slot * bs->n + i] = json_object_get_double(v);
	}
	b->filled[slot] = (uint32_t)n;
	b->next[slot] = (uint32_t)(n % bs->n);
	return true;
}

bool
ecs_baselines_load(struct ecs_baselines *bs, const struct ecs_state_reader *sr,
    struct json_object *rec)
{
	struct json_object *key, *vals, *p = NULL;
	struct baseline *b;
	bool ok;
	uint32_t s;

	if (!json_object_object_get_ex(rec, "b", &key))
		return false;
	if (!json_object_is_type(key, json_type_string))
		ecs_state_corrupt(sr, "bad baseline");
	b = baseline_of(bs, json_object_get_string(key),
	    (size_t)json_object_get_string_len(key));
	if (bs->season_ms == 0)
		ok = json_object_object_get_ex(rec, "v", &vals) &&
		    slot_from_json(bs, b, 0, vals);
	else {
		ok = json_object_object_get_ex(rec, "s", &vals) &&
		    json_object_is_type(vals, json_type_array) &&
		    json_object_array_length(vals) == bs->nslots;
		for (s = 0; ok && s < bs->nslots; s++)
			ok = slot_from_json(bs, b, s,
			    json_object_array_get_idx(vals, s));
	}
	if (ok && json_object_object_get_ex(rec, "p", &p))
		ok = json_object_is_type(p, json_type_int);
	if (!ok)
		ecs_state_corrupt(sr, "bad baseline");
	b->outside = p != NULL ? json_object_get_int(p) : 0;
	return true;
}

void
ecs_baselines_finish(struct ecs_baselines *bs)
{
	struct baseline *b;
	const char *key;
	size_t i, len;

	for (i = 0; i < ecs_map_count(bs->groups); i++) {
		b = ecs_map_at(bs->groups, i, &key, &len);
		free(b->values);
		free(b->filled);
		free(b->next);
	}
	ecs_map_destroy(bs->groups);
}
