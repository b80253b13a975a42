/* SPDX-License-Identifier: ISC */
/*
 * ecs_rules.h -- rules over a program's output rows (--alert): each path
 * a rule reads must name one of the row's keys whole, checked when the
 * rule is added (a rule that could never see its key is a usage error),
 * and rules are evaluated on the row's values as fields, the way the
 * expression language evaluates events: never on the rendered row.
 */
#ifndef ECS_RULES_H
#define ECS_RULES_H

#include "ecs.h"

struct ecs_rule {
	const char	*opt;		/* "--alert", ...: for messages */
	const char	*text;		/* as given; borrowed */
	struct ecs_expr	*expr;		/* owned by the rules once added */
	size_t		*keys;		/* the keys it reads (in names); owned */
	size_t		 nkeys;
};

struct ecs_rules {
	const char	**names;	/* the rows' keys (strings borrowed) */
	size_t		 nnames;
	size_t		 nlisted;	/* keys of every row; then of some */
	struct ecs_field *value;	/* the row's values: the program's */
	struct ecs_rule	*rule;
	size_t		 n;
	struct ecs_fieldset fields;	/* the keys the rules read */
	size_t		*src;		/* their indexes in names */
	struct ecs_field *read;		/* their values in this row */
};

/*
 * Rows with the keys names[0..nnames): the first nlisted in every row
 * (and in messages), the others in some (as "approximate").
 */
void	 ecs_rules_init(struct ecs_rules *, const char *const *names,
	    size_t nlisted, size_t nnames);
/*
 * Adds the rule text, compiled as e (owned by the rules after), which may
 * read the keys names[0..nread) (a derived metric, those computed before
 * it). A path that is not such a key, or goes into one (a.b for the key
 * "a.b", which a rule writes ."a.b"), is a usage error naming opt: the
 * program exits 2. Returns the rule's index.
 */
size_t	 ecs_rules_add(struct ecs_rules *, const char *opt, const char *text,
	    struct ecs_expr *e, size_t nread);
/* Takes the row's values, set in value[0..nnames), for ecs_rules_holds. */
void	 ecs_rules_begin(struct ecs_rules *);
/*
 * Whether rule i holds for the row (jq truthiness). A rule that has no
 * answer (a regular expression gave up, see ecs_regex.h) is reported on
 * the standard error, counted in ecs_rules_undecided, and taken as
 * if_undecided: a row is never dropped or alerted on silently.
 */
bool	 ecs_rules_holds(const struct ecs_rules *, size_t i,
	    bool if_undecided);
/*
 * The value of rule i as a number (ecs_expr_eval_dec); false: none (an
 * undecided rule is reported and counted as above).
 */
bool	 ecs_rules_eval_dec(const struct ecs_rules *, size_t i,
	    struct ecs_dec *);
/* Rule evaluations that had no answer so far: the program exits 1. */
unsigned long long ecs_rules_undecided(void);
void	 ecs_rules_finish(struct ecs_rules *);

#endif /* ECS_RULES_H */
