/* SPDX-License-Identifier: ISC */
/*
 * ecs_baseline.h -- drops and spikes: each group's recent values of a
 * watched figure (a ring of the last n), and the judgement of a new value
 * against their mean; saved in and loaded from state files.
 */
#ifndef ECS_BASELINE_H
#define ECS_BASELINE_H

#include "ecs.h"

struct ecs_baselines {
	struct ecs_map	*groups;	/* group key -> struct of n values */
	uint32_t	 n;		/* values a baseline holds */
	double		 drop_pct;	/* 0: no drop alerts */
	double		 spike_pct;	/* 0: no spike alerts */
};

void	 ecs_baselines_init(struct ecs_baselines *, uint32_t n,
	    double drop_pct, double spike_pct);
/*
 * Judges value, the group key[0..len)'s newest, against the mean of its
 * previous n (in *mean): "drop" or "spike" when it is that many percent
 * below or above, else NULL (also while fewer than n are known); then
 * remembers it.
 */
const char *ecs_baselines_judge(struct ecs_baselines *, const char *key,
	    size_t len, double value, double *mean);
/* The groups known, to iterate with ecs_baselines_key. */
size_t	 ecs_baselines_count(const struct ecs_baselines *);
/* The key of the known group i, borrowed. */
const char *ecs_baselines_key(const struct ecs_baselines *, size_t i,
	    size_t *len);
/* Writes each baseline to a state file: {"b":KEY,"v":[oldest,...]}. */
void	 ecs_baselines_save(const struct ecs_baselines *,
	    struct ecs_state_writer *);
/* Loads a line rec of ecs_baselines_save; false when it is not one. */
bool	 ecs_baselines_load(struct ecs_baselines *,
	    const struct ecs_state_reader *, struct json_object *rec);
void	 ecs_baselines_finish(struct ecs_baselines *);

#endif /* ECS_BASELINE_H */
