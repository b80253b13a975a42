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
	char		**totals;	/* the NAMEs of its total(NAME); owned */
	size_t		 ntotals;
};

/*
 * Whether spec (NAME=EXPR) is a derived metric, one that is not a call of
 * an aggregate (NAME=sum(...)): then d holds it (ecs_derived_finish). Its
 * expression is checked here (a usage error naming opt if it is not one);
 * the keys it reads are checked when it is added to the rules. A call
 * total(NAME) in it reads the key "total(NAME)" (ecs_totals).
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

/*
 * A row being built: its JSON without the line end in b, and the values
 * of its keys (rules.names) for the rules, derived metrics and --having.
 * The group's keys, [group0, group0 + ngroup), the program sets from the
 * group's decoded values; the others point into b (at[i] is where key i's
 * value starts), set as each is written.
 */
struct ecs_row {
	struct ecs_buf	 b;
	struct ecs_rules rules;
	size_t		*at;
	bool		*approx;	/* key i is an estimate: the program's */
	size_t		 group0, ngroup;
};

/* As ecs_rules_init, and the group's keys are names[group0..+ngroup). */
void	 ecs_row_init(struct ecs_row *, const char *const *names,
	    size_t nlisted, size_t nnames, size_t group0, size_t ngroup);
void	 ecs_row_finish(struct ecs_row *);
/* Starts the row: "{". */
void	 ecs_row_begin(struct ecs_row *);
/* Adds text[0..len), "k":v,... members, as they are. */
void	 ecs_row_add(struct ecs_row *, const char *text, size_t len);
/* Adds the member name's "name": and returns where its value will start. */
size_t	 ecs_row_name(struct ecs_row *, const char *name);
/*
 * The value written from at to the end is key i's: null, a string, an
 * array or object, or else a number; nothing (at the end) is missing.
 */
void	 ecs_row_value(struct ecs_row *, size_t i, size_t at);
/* Adds the time t as the key i, name. */
void	 ecs_row_time(struct ecs_row *, size_t i, const char *name, int64_t t);
/*
 * Adds the derived metric d, the key i, computed on the keys before it;
 * an estimate when one of the keys it reads is (approx).
 */
void	 ecs_row_derived(struct ecs_row *, size_t i,
	    const struct ecs_derived *d);
/* The bound of the derived metric d, an estimate: {"from":["KEY",...]}. */
void	 ecs_row_derived_bound(struct ecs_row *, const struct ecs_derived *d);
/*
 * Ends the row: the last key's value (approximate) starts at at, as for
 * ecs_row_value; then the rules can be asked (ecs_rules_holds).
 */
void	 ecs_row_end(struct ecs_row *, size_t at);
/* Writes the row, or {"<flag>":true,...row} when flag is given. */
void	 ecs_row_write(const struct ecs_row *, const char *flag);
/*
 * --alert: writes the row as {"alert":"rule","rule":TEXT,...row} for
 * each of the rules [0, n) that holds for it.
 */
void	 ecs_row_alerts(const struct ecs_row *, size_t n);

/*
 * The totals that derived metrics read as total(NAME): the sum of the
 * metric NAME over the rows of a window, the key "total(NAME)" of each.
 */
struct ecs_total {
	char		*key;		/* "total(NAME)"; owned */
	const char	*metric;	/* NAME; borrowed */
	size_t		 metric_key;	/* NAME's index in the rows' keys */
	struct ecs_dec	 sum;
	bool		 has;		/* a row had a number */
	bool		 approx;	/* a row's was an estimate */
	char		 text[96];
};

struct ecs_totals {
	struct ecs_total *t;
	size_t		 n;
};

/* Adds the totals the derived metric d reads, each once. */
void	 ecs_totals_add_derived(struct ecs_totals *, const struct ecs_derived *d);
/*
 * Finds each total's metric among names[first, last) (the aggregate
 * metrics); a usage error naming opt if it is not one.
 */
void	 ecs_totals_bind(struct ecs_totals *, const char *const *names,
	    size_t first, size_t last, const char *opt);
/*
 * Whether the rule reads a total, itself or through the derived metrics
 * d, whose keys start at derived0 (after the totals).
 */
bool	 ecs_totals_read(const struct ecs_totals *, const struct ecs_rules *,
	    size_t rule, const struct ecs_derived *d, size_t derived0);
/* Starts a window: every total is null. */
void	 ecs_totals_reset(struct ecs_totals *);
/* Adds the values of the row just built (ecs_row_end). */
void	 ecs_totals_add_row(struct ecs_totals *, const struct ecs_row *);
/*
 * Sets the keys [key0, key0 + n) of the rows to the totals: exact sums,
 * null when no row had a number, estimates when a row's was one.
 */
void	 ecs_totals_set(struct ecs_totals *, struct ecs_row *, size_t key0);
void	 ecs_totals_finish(struct ecs_totals *);

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
