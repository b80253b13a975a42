/* SPDX-License-Identifier: ISC */
/*
 * ecs_keys.h -- group keys as a program takes them (-b A,B.C,NAME=EXPR):
 * field paths, or expressions under a name. Shared by every program that
 * groups its rows.
 */
#ifndef ECS_KEYS_H
#define ECS_KEYS_H

#include "ecs.h"
#include "ecs_expr.h"

/* A group key: a field path, or NAME=EXPR. */
struct ecs_key {
	struct ecs_path	*path;		/* the field, or only NAME (no path) */
	struct ecs_expr	*expr;		/* NAME=EXPR's, else NULL */
	char		*spec;		/* as given, for a state */
};

/*
 * Appends the keys of list to (*keys)[0..*n), growing the array (owned by
 * the caller: ecs_keys_free). The list splits at the commas outside quotes
 * and brackets (trunc(ts,"month") is one key); a key with an '=' outside
 * them is EXPR under the name NAME, any other a field path named by its
 * text. A bad key is a usage error naming opt.
 */
void	 ecs_keys_parse(const char *opt, const char *list,
	    struct ecs_key **keys, size_t *n);
/* Frees keys[0..n) and the array. */
void	 ecs_keys_free(struct ecs_key *keys, size_t n);

#endif /* ECS_KEYS_H */
