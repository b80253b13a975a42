/* SPDX-License-Identifier: ISC */
/*
 * ecs_vstan.h -- session-based nearest neighbours (V-STAN, Ludewig et al.,
 * UMUAI 2021) learned in one pass with bounded memory: a ring of the most
 * recent sessions, each with its first distinct items, and for each item
 * the most recent sessions it was in. A session being scored finds its
 * neighbours among the sessions of its own items, weighs them by the
 * position of the shared items, their recency and their length, and
 * scores the items of the closest ones by their distance from the shared
 * item and their rarity (IDF).
 */
#ifndef ECS_VSTAN_H
#define ECS_VSTAN_H

#include "ecs.h"

#define ECS_VSTAN_RING		50000	/* sessions kept, the most recent */
#define ECS_VSTAN_PER_ITEM	100	/* recent sessions kept per item */
#define ECS_VSTAN_ITEMS		24	/* distinct items kept per session */
#define ECS_VSTAN_CANDIDATES	5000	/* sessions compared per scoring */

/* The weights of V-STAN, as session-rec's vstan.py names them. */
struct ecs_vstan_params {
	double		 spw;		/* position in the current session */
	double		 snh_ms;	/* neighbour recency, milliseconds */
	double		 inh;		/* item position in the neighbour */
	double		 idf;		/* weight of an item's IDF */
};

struct ecs_vstan;

/*
 * Called for each item of each neighbour, with its part of the score.
 * The index does not know what the caller makes of it.
 */
typedef void	 ecs_vstan_score_fn(void *ctx, uint32_t item, float score);

/*
 * A new, empty index (owned by the caller; ecs_vstan_destroy) whose
 * scorings take the k most similar sessions as neighbours.
 */
struct ecs_vstan *ecs_vstan_create(const struct ecs_vstan_params *,
	    unsigned k);
void	 ecs_vstan_destroy(struct ecs_vstan *);

/* A new session at time t: its id (never 0). */
uint64_t ecs_vstan_open(struct ecs_vstan *, int64_t t);
/*
 * Appends item, at time t, to session sid; nothing when the session has
 * left the ring or holds ECS_VSTAN_ITEMS distinct items already.
 */
void	 ecs_vstan_add(struct ecs_vstan *, uint64_t sid, uint32_t item,
	    int64_t t);
/*
 * Scores the neighbours of the session of items[0..n) (oldest first,
 * repeats allowed) as of time now, leaving out session self: calls fn
 * for every item of each of the (at most k) neighbours. Returns the
 * number of neighbours found.
 */
size_t	 ecs_vstan_score(struct ecs_vstan *, const uint32_t *items, size_t n,
	    uint64_t self, int64_t now, ecs_vstan_score_fn *fn, void *ctx);

/* State: a header member, then one line per item list and per session. */
struct json_object *ecs_vstan_save_head(const struct ecs_vstan *);
void	 ecs_vstan_save(const struct ecs_vstan *, struct ecs_checkpoint *);
void	 ecs_vstan_load_head(struct ecs_vstan *,
	    const struct ecs_state_reader *, struct json_object *head);
/* Loads rec when it is a line of the index: true; false otherwise. */
bool	 ecs_vstan_load_line(struct ecs_vstan *,
	    const struct ecs_state_reader *, struct json_object *rec,
	    uint32_t nitems);
/* The bytes the index can take with nitems items at most. */
double	 ecs_vstan_budget(size_t nitems);

#endif
