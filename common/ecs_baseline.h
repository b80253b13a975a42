/* SPDX-License-Identifier: ISC */
/*
 * ecs_baseline.h -- drops and spikes: each group's recent values of a
 * watched figure and the judgement of a new value against them, either
 * the mean of the last n windows (with percentages), or, seasonal, the
 * median of the same slot of the last n seasons with a band of k robust
 * deviations; saved in and loaded from state files.
 */
#ifndef ECS_BASELINE_H
#define ECS_BASELINE_H

#include "ecs.h"
#include "ecs_buf.h"

struct ecs_baselines {
	struct ecs_map	*groups;	/* group key -> struct baseline */
	uint32_t	 n;		/* windows (or seasons) a baseline holds */
	double		 drop_pct;	/* mean rule; 0: no drop alerts */
	double		 spike_pct;	/* mean rule; 0: no spike alerts */
	int64_t		 season_ms;	/* 0: the mean rule */
	uint32_t	 nslots;	/* windows in a season (1: mean rule) */
	int64_t		 window_ms;	/* with season_ms */
	double		 band_k;	/* seasonal band: k robust deviations */
	uint32_t	 persist;	/* windows outside in a row to alert */
};

/* What ecs_baselines_judge found out about a value. */
struct ecs_judgement {
	const char	*kind;		/* "drop", "spike" or NULL */
	double		 expected;	/* the mean, or the seasonal median */
	double		 low, high;	/* seasonal: the band */
	double		 score;		/* seasonal: robust deviations off */
};

/* The mean rule: the mean of the last n windows, percentages off it. */
void	 ecs_baselines_init(struct ecs_baselines *, uint32_t n,
	    double drop_pct, double spike_pct);
/*
 * The seasonal rule instead (after ecs_baselines_init): windows of
 * window_ms each have a slot in a season of season_ms (a day or a week,
 * on the local calendar: ecs_time_local), which window_ms divides.
 */
void	 ecs_baselines_season(struct ecs_baselines *, int64_t season_ms,
	    int64_t window_ms, double band_k);
/*
 * Judges value, the group key[0..len)'s in the window that starts at
 * start, then remembers it. Mean rule: against the mean of its previous
 * n windows, a drop or a spike when drop_pct or spike_pct percent off.
 * Seasonal: against the median m of the same slot in the previous n
 * seasons, a drop or spike when outside m +- k*s, where s is the larger
 * of 1.4826 * MAD (median absolute deviation) and sqrt(max(m, 1) *
 * (1 + pi / 2n)), the spread of a Poisson count less the median of n
 * others; a value off the band is remembered as the band's edge. No
 * judgement while fewer than n are known;
 * with persist K, only the K-th and later windows outside in a row on
 * the same side alert.
 */
void	 ecs_baselines_judge(struct ecs_baselines *, const char *key,
	    size_t len, int64_t start, double value, struct ecs_judgement *);
/*
 * The judgement's members, each after a comma, rounded to 2 places: the
 * mean rule's "baseline" and "change_pct" (0 when the mean is 0); the
 * seasonal "expected", "low", "high" and "score".
 */
void	 ecs_judgement_write(const struct ecs_baselines *,
	    const struct ecs_judgement *, double value, struct ecs_buf *);
/*
 * Windows without any value after which every baseline holds only zeros
 * (and more of them change nothing).
 */
uint32_t ecs_baselines_span(const struct ecs_baselines *);
/* The groups known, to iterate with ecs_baselines_key. */
size_t	 ecs_baselines_count(const struct ecs_baselines *);
/* The key of the known group i, borrowed. */
const char *ecs_baselines_key(const struct ecs_baselines *, size_t i,
	    size_t *len);
/*
 * Writes each baseline to a state file: {"b":KEY,"v":[oldest,...]}, or
 * seasonal {"b":KEY,"s":[[oldest,...] of each slot]}, with "p":RUN, the
 * windows outside in a row (negative: below), when not 0.
 */
void	 ecs_baselines_save(const struct ecs_baselines *,
	    struct ecs_state_writer *);
/* Loads a line rec of ecs_baselines_save; false when it is not one. */
bool	 ecs_baselines_load(struct ecs_baselines *,
	    const struct ecs_state_reader *, struct json_object *rec);
void	 ecs_baselines_finish(struct ecs_baselines *);

#endif /* ECS_BASELINE_H */
