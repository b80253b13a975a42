/* SPDX-License-Identifier: ISC */
/*
 * ecs_keys.c -- group keys (-b): field paths, or NAME=EXPR.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "ecs_keys.h"

/* The key item (NUL-terminated, writable) into k; exits 2 on a bad one. */
static void
parse_key(const char *opt, char *item, struct ecs_key *k)
{
	char *eq, *name_end, msg[256];
	const char *why;

	*k = (struct ecs_key){ .spec = ecs_xstrdup(item) };
	if ((eq = ecs_expr_top_char(item, '=')) == NULL) {
		if ((k->path = ecs_path_compile(item, &why)) == NULL)
			errx(ECS_EXIT_USAGE, "%s '%s': %s", opt, item, why);
		return;
	}
	for (name_end = eq; name_end > item && name_end[-1] == ' ';)
		name_end--;
	/* a >= 1, a == 1, a != 1 and a <= 1 have no name. */
	if (name_end == item || strchr("<>!=", name_end[-1]) != NULL ||
	    eq[1] == '=')
		errx(ECS_EXIT_USAGE, "%s '%s': expected a field path or "
		    "NAME=EXPR", opt, item);
	*name_end = '\0';
	k->path = ecs_path_new(item);
	if ((k->expr = ecs_expr_compile(eq + 1, msg, sizeof(msg))) == NULL)
		errx(ECS_EXIT_USAGE, "%s '%s': expression:%s", opt, eq + 1,
		    msg);
}

void
ecs_keys_parse(const char *opt, const char *list, struct ecs_key **keys,
    size_t *n)
{
	char *copy = ecs_xstrdup(list), *item, *next;

	for (item = copy; item != NULL; item = next) {
		if ((next = ecs_expr_top_char(item, ',')) != NULL)
			*next++ = '\0';
		if (item[strspn(item, " ")] == '\0')
			continue;
		*keys = ecs_xrealloc(*keys, (*n + 1) * sizeof(**keys));
		parse_key(opt, item, &(*keys)[(*n)++]);
	}
	free(copy);
}

void
ecs_keys_free(struct ecs_key *keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ecs_path_free(keys[i].path);
		ecs_expr_free(keys[i].expr);
		free(keys[i].spec);
	}
	free(keys);
}
