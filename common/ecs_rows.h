/* SPDX-License-Identifier: ISC */
/*
 * ecs_rows.h -- what a program does with its output rows once they are
 * built, beside the rules (ecs_rules): derived metrics, values computed
 * from the other metrics of the row; and the N best rows of a window by
 * one metric (--top), exact since it sees every row of the window.
 */
#ifndef ECS_ROWS_H
#define ECS_ROWS_H

#include "ecs.h"
#include "ecs_buf.h"
#include "ecs_rules.h"

/* Places of a derived metric that does not end before: as avg()'s. */
#define ECS_DERIVED_PLACES	6

struct ecs_derived {
	char		*name;		/* owned */
	const char	*text;		/* the expression, borrowed from -m */
	struct ecs_expr	*expr;		/* owned until added to the rules */
	size_t		 rule;		/* its index in the rules */
};

/*
 * Whether spec (NAME=EXPR) is a derived metric, one that is not a call of
 * an aggregate (NAME=sum(...)): then d holds it (ecs_derived_finish). Its
 * expression is checked here (a usage error naming opt if it is not one);
 * the keys it reads are checked when it is added to the rules.
 */
bool	 ecs_derived_parse(struct ecs_derived *d, const char *opt,
	    const char *spec);
/*
 * Writes the derived metric's value on the row the rules were begun on
 * (ecs_rules_begin): exactly when it ends within ECS_DERIVED_PLACES
 * places, else rounded there half away from zero (a quotient that does
 * not end within 18 places is a double first); null when it has none (a
 * missing or null input, a division by zero).
 */
void	 ecs_derived_write(const struct ecs_derived *,
	    const struct ecs_rules *, struct ecs_buf *);
void	 ecs_derived_finish(struct ecs_derived *);

/* The rows of a window for --top: one entry each, until chosen. */
struct ecs_top_row {
	void		*item;		/* the caller's (a group); borrowed */
	const char	*key;		/* the group's key text; borrowed */
	size_t		 len;
	bool		 has;		/* false: the value is null */
	struct ecs_dec	 v;
};

struct ecs_top {
	size_t		 n;		/* --top */
	bool		 desc;		/* --desc */
	struct ecs_top_row *row;
	size_t		 nrow, cap;
};

/* Adds a row whose ordering value is the field value (a number or null). */
void	 ecs_top_add(struct ecs_top *, void *item, const char *key,
	    size_t len, const struct ecs_field *value);
/*
 * Sorts the rows added: by value (descending with desc), nulls last, ties
 * by key text in byte order; returns how many to keep, the first up to n.
 * Then ecs_top_reset for the next window.
 */
size_t	 ecs_top_choose(struct ecs_top *);
void	 ecs_top_reset(struct ecs_top *);
void	 ecs_top_finish(struct ecs_top *);

#endif /* ECS_ROWS_H */
