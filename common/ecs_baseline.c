/* SPDX-License-Identifier: ISC */
/*
 * ecs_baseline.c -- each group's recent values and the drops and spikes
 * against their mean (see ecs_baseline.h).
 */
#include <stdlib.h>

#include "ecs_baseline.h"

struct baseline {
	double		*values;	/* ring of n values, owned */
	uint32_t	 n, next;
};

void
ecs_baselines_init(struct ecs_baselines *bs, uint32_t n, double drop_pct,
    double spike_pct)
{
	bs->groups = ecs_map_create(sizeof(struct baseline), NULL);
	bs->n = n;
	bs->drop_pct = drop_pct;
	bs->spike_pct = spike_pct;
}

static struct baseline *
baseline_of(struct ecs_baselines *bs, const char *key, size_t len)
{
	struct baseline *b;
	bool created;

	b = ecs_map_put(bs->groups, key, len, &created);
	if (created)
		b->values = ecs_xcalloc(bs->n, sizeof(*b->values));
	return b;
}

const char *
ecs_baselines_judge(struct ecs_baselines *bs, const char *key, size_t len,
    double value, double *mean)
{
	struct baseline *b = baseline_of(bs, key, len);
	const char *kind = NULL;
	uint32_t i;

	*mean = 0;
	if (b->n == bs->n) {
		/* Oldest first, as a restored baseline has them: same sum. */
		for (i = 0; i < b->n; i++)
			*mean += b->values[(b->next + i) % bs->n];
		*mean /= b->n;
		if (bs->drop_pct > 0 && *mean > 0 &&
		    value < *mean * (1 - bs->drop_pct / 100))
			kind = "drop";
		else if (bs->spike_pct > 0 && *mean > 0 &&
		    value > *mean * (1 + bs->spike_pct / 100))
			kind = "spike";
	}
	b->values[b->next] = value;
	b->next = (b->next + 1) % bs->n;
	if (b->n < bs->n)
		b->n++;
	return kind;
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

void
ecs_baselines_save(const struct ecs_baselines *bs,
    struct ecs_state_writer *sw)
{
	struct json_object *rec, *vals;
	const struct baseline *b;
	const char *key;
	size_t i, len;
	uint32_t j;

	for (i = 0; i < ecs_map_count(bs->groups); i++) {
		b = ecs_map_at(bs->groups, i, &key, &len);
		rec = json_object_new_object();
		json_object_object_add(rec, "b",
		    json_object_new_string_len(key, (int)len));
		vals = json_object_new_array();
		for (j = 0; j < b->n; j++)	/* oldest first */
			json_object_array_add(vals, json_object_new_double(
			    b->values[(b->next + bs->n - b->n + j) % bs->n]));
		json_object_object_add(rec, "v", vals);
		ecs_state_put(sw, rec);
		json_object_put(rec);
	}
}

bool
ecs_baselines_load(struct ecs_baselines *bs, const struct ecs_state_reader *sr,
    struct json_object *rec)
{
	struct json_object *key, *vals;
	struct baseline *b;
	size_t i, n;

	if (!json_object_object_get_ex(rec, "b", &key))
		return false;
	if (!json_object_is_type(key, json_type_string) ||
	    !json_object_object_get_ex(rec, "v", &vals) ||
	    !json_object_is_type(vals, json_type_array) ||
	    (n = json_object_array_length(vals)) > bs->n)
		ecs_state_corrupt(sr, "bad baseline");
	b = baseline_of(bs, json_object_get_string(key),
	    (size_t)json_object_get_string_len(key));
	for (i = 0; i < n; i++)
		b->values[i] = json_object_get_double(
		    json_object_array_get_idx(vals, i));
	b->n = (uint32_t)n;
	b->next = (uint32_t)(n % bs->n);
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
	}
	ecs_map_destroy(bs->groups);
}
