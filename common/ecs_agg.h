/* SPDX-License-Identifier: ISC */
/*
 * ecs_agg.h -- aggregates as a table (Miller's stats1 accumulators, Fluent
 * Bit's aggregate callbacks): each kind (count, sum, avg, min, max,
 * distinct, quantile, top, list) is one row of init, add, merge, write,
 * save and load, so a program holds metrics without knowing their kinds,
 * and a new kind is one new row.
 *
 * A metric is -m's NAME=FUNC(EXPR[,PARAM]); an aggregate is its running
 * value in one group. An event's value of a metric is evaluated once
 * (ecs_metric_eval) and then added to each of its groups.
 */
#ifndef ECS_AGG_H
#define ECS_AGG_H

#include "ecs.h"
#include "ecs_buf.h"

/*
 * The exact budget of distinct, quantile and top: distinct keeps up to
 * this many distinct values, quantile this many values and top this many
 * distinct keys exactly; past it each is a sketch, and ecs_agg_is_exact
 * says so, with the bound that ecs_agg_write_bound writes.
 */
#define ECS_AGG_EXACT_BUDGET	10000

struct ecs_agg_type;

struct ecs_metric {
	char		*spec;		/* as -m gave it, for states; or NULL */
	char		*name;		/* the key in rows; owned */
	const struct ecs_agg_type *type;
	struct ecs_expr	*arg;		/* NULL for count(); owned */
	struct ecs_expr	*alt[2];	/* fallbacks when arg has no value */
	double		 q;		/* quantile, as a double */
	struct ecs_dec	 qdec;		/* quantile, exactly */
	size_t		 k;		/* top, list: how many */
};

/* One metric's running value in one group; each kind uses its part. */
struct ecs_agg {
	uint64_t	 n;		/* values seen */
	struct ecs_dec	 v;		/* sum; min or max */
	void		*sketch;	/* distinct, quantile, top */
	char		**list;		/* list: JSON texts, owned */
	size_t		 nlist;
	struct ecs_dec	*values;	/* quantile: all n while n <= budget */
	size_t		 values_cap;
	size_t		 nsorted;	/* values[0..nsorted) are in order */
};

/* One event's value of a metric, for all the groups it is added to. */
struct ecs_agg_value {
	bool		 has;		/* false: the event has none */
	struct ecs_dec	 dec;		/* a metric of numbers: exact or not */
	bool		 is_null;	/* a metric of keys: a JSON null */
	struct ecs_buf	 key;		/* a metric of keys: its JSON text */
};

/* The kind called name ("sum"), or NULL. */
const struct ecs_agg_type *ecs_agg_lookup(const char *name);
/*
 * Parses -m's NAME=FUNC(EXPR[,PARAM]) into m (owned by it: see
 * ecs_metric_finish). A spec that is not one is a usage error: the
 * program exits 2 with a message that names opt.
 */
void	 ecs_metric_parse(struct ecs_metric *m, const char *opt,
	    const char *spec);
/* Binds the metric's expressions to slots of fs (ecs_expr_bind). */
void	 ecs_metric_bind(struct ecs_metric *, struct ecs_fieldset *);
void	 ecs_metric_finish(struct ecs_metric *);
/* Its values are numbers held as exact decimals (sum, min, quantile...). */
bool	 ecs_metric_is_decimal(const struct ecs_metric *);
/* Its value is an array (top, list), not a number. */
bool	 ecs_metric_is_array(const struct ecs_metric *);
/* Its value is a sum, which ecs_agg_overflows checks. */
bool	 ecs_metric_sums(const struct ecs_metric *);
/*
 * The event's value of the metric, from captured fields, in *v (whose
 * key buffer the caller owns and reuses; ecs_buf_free it at the end).
 * v->has is false when the event has no value; for a metric of numbers,
 * v->dec may be inexact: the caller refuses the line (no silent rounding).
 */
void	 ecs_metric_eval(const struct ecs_metric *,
	    const struct ecs_field *fields, struct ecs_agg_value *v);

void	 ecs_agg_init(const struct ecs_metric *, struct ecs_agg *);
/* Adds one event's value (ignored when !v->has). */
void	 ecs_agg_add(const struct ecs_metric *, struct ecs_agg *,
	    const struct ecs_agg_value *v);
/* Whether adding v would take an exact sum past 38 digits. */
bool	 ecs_agg_overflows(const struct ecs_metric *, const struct ecs_agg *,
	    const struct ecs_agg_value *v);
/*
 * Adds from into into (--merge): exact for counts, sums, minima and
 * maxima; sketches merge within their stated error. NULL, or why they
 * cannot merge (static text), into then unchanged.
 */
const char *ecs_agg_merge(const struct ecs_metric *, struct ecs_agg *into,
	    const struct ecs_agg *from);
/*
 * Why ecs_agg_merge would refuse from for a count past 2^63 - 1 or a sum
 * past 38 digits, or NULL: checked for every metric of a line before any
 * is merged.
 */
const char *ecs_agg_merge_check(const struct ecs_metric *,
	    const struct ecs_agg *into, const struct ecs_agg *from);
/* The value as JSON text (a quantile sorts its values: hence not const). */
void	 ecs_agg_write(const struct ecs_metric *, struct ecs_agg *,
	    struct ecs_buf *);
/* Whether the value is exact (false: a sketch's estimate). */
bool	 ecs_agg_is_exact(const struct ecs_metric *, const struct ecs_agg *);
/* An estimate's bound, {"relative_error":0.02} or {"count_error":N}. */
void	 ecs_agg_write_bound(const struct ecs_metric *, const struct ecs_agg *,
	    struct ecs_buf *);
/* The value as a number, for --drop/--spike (0 when there is none). */
double	 ecs_agg_number(const struct ecs_metric *, struct ecs_agg *);
/* The state of the aggregate, for state files and partials; caller owns. */
struct json_object *ecs_agg_to_json(const struct ecs_metric *,
	    const struct ecs_agg *);
/*
 * Reads a state of ecs_agg_to_json into a (which then owns what it
 * holds); NULL, or what is wrong (static text), and a holds nothing but
 * what ecs_agg_free frees.
 */
const char *ecs_agg_from_json(const struct ecs_metric *,
	    struct json_object *, struct ecs_agg *a);
void	 ecs_agg_free(const struct ecs_metric *, struct ecs_agg *);

#endif /* ECS_AGG_H */
