/* SPDX-License-Identifier: ISC */
/*
 * ecs_sketch_util.h -- private to the sketch files (ecs_distinct.c,
 * ecs_quantile.c, ecs_topk.c): saturating counts and the checked readers
 * of the numbers in a sketch's JSON form, which is hostile input.
 */
#ifndef ECS_SKETCH_UTIL_H
#define ECS_SKETCH_UTIL_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

static inline uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* A JSON integer in [0, UINT64_MAX]. */
static inline bool
json_u64(struct json_object *o, uint64_t *out)
{
	if (!json_object_is_type(o, json_type_int) ||
	    json_object_get_int64(o) < 0)
		return false;
	*out = json_object_get_uint64(o);
	return true;
}

/* A JSON integer in [lo, hi]. */
static inline bool
json_i64(struct json_object *o, int64_t lo, int64_t hi, int64_t *out)
{
	if (!json_object_is_type(o, json_type_int))
		return false;
	*out = json_object_get_int64(o);
	return *out >= lo && *out <= hi;
}

/* A finite JSON number (json-c also reads NaN and Infinity). */
static inline bool
json_number(struct json_object *o, double *out)
{
	if (!json_object_is_type(o, json_type_double) &&
	    !json_object_is_type(o, json_type_int))
		return false;
	*out = json_object_get_double(o);
	return isfinite(*out);
}

#endif /* ECS_SKETCH_UTIL_H */
