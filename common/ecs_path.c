/* SPDX-License-Identifier: ISC */
/*
 * ecs_path.c -- field paths compiled once and looked up per record. A path
 * is a list of keys; an all-digit key also indexes arrays, and an index
 * written [N], as in jq, indexes only arrays. In option values segments
 * are separated by dots and a segment may be "quoted" to hold dots or
 * other awkward characters.
 */
#include <stdlib.h>
#include <string.h>

#include "ecs.h"

struct ecs_path *
ecs_path_new(const char *text)
{
	struct ecs_path *p = ecs_xcalloc(1, sizeof(*p));

	p->text = ecs_xstrdup(text);
	return p;
}

/* The array index an all-digit key names, or -1. */
static long
seg_index(const char *key, size_t len)
{
	long index = 0;
	size_t i;

	if (len == 0 || len > 9)
		return -1;
	for (i = 0; i < len; i++) {
		if (key[i] < '0' || key[i] > '9')
			return -1;
		index = index * 10 + (key[i] - '0');
	}
	return index;
}

void
ecs_path_push(struct ecs_path *p, const char *key, size_t len)
{
	struct ecs_seg *s;

	p->seg = ecs_xrealloc(p->seg, (p->nseg + 1) * sizeof(*p->seg));
	s = &p->seg[p->nseg++];
	s->key = ecs_xstrndup(key, len);
	s->len = len;
	s->index = seg_index(key, len);
	s->bracket = false;
}

bool
ecs_path_push_index(struct ecs_path *p, const char **sp, const char **err)
{
	const char *s = *sp + 1, *digits = s;

	while (*s >= '0' && *s <= '9')
		s++;
	if (*s != ']' || s == digits) {
		*err = *digits == '-' ? "an array index [N] counts from 0, "
		    "negative indexes are not supported" : "expected an array "
		    "index [N] of digits";
		return false;
	}
	if (seg_index(digits, (size_t)(s - digits)) < 0) {
		*err = "array index too large";
		return false;
	}
	ecs_path_push(p, digits, (size_t)(s - digits));
	p->seg[p->nseg - 1].bracket = true;
	*sp = s + 1;
	return true;
}

/* Appends the unquoted key at *sp, up to '.', '[' or the end. */
static bool
push_plain(struct ecs_path *p, const char **sp, const char **err)
{
	const char *s = *sp, *end = s + strcspn(s, ".[]");

	if (*end == ']') {
		*err = "']' without '[' (quote a key that holds brackets)";
		return false;
	}
	if (end == s) {
		*err = *s == '[' ? "an array index [N] must follow a field name" :
		    "empty path segment";
		return false;
	}
	ecs_path_push(p, s, (size_t)(end - s));
	*sp = end;
	return true;
}

/* Appends the "quoted" segment at *sp and moves *sp past it. */
static bool
push_quoted(struct ecs_path *p, const char **sp)
{
	char *key;
	size_t len;

	if (!ecs_unquote(*sp, sp, &key, &len))
		return false;
	ecs_path_push(p, key, len);
	free(key);
	return true;
}

struct ecs_path *
ecs_path_compile(const char *text, const char **err)
{
	struct ecs_path *p = ecs_path_new(text);
	const char *s = text;

	if (*s == '.')		/* jq's leading dot is allowed */
		s++;
	for (;;) {
		if (*s == '"') {
			if (!push_quoted(p, &s)) {
				*err = "bad quoted segment";
				goto fail;
			}
		} else if (!push_plain(p, &s, err))
			goto fail;
		while (*s == '[')
			if (!ecs_path_push_index(p, &s, err))
				goto fail;
		if (*s == '\0')
			return p;
		if (*s != '.') {
			*err = "expected '.' or '[' after a segment";
			goto fail;
		}
		s++;
	}
fail:
	ecs_path_free(p);
	return NULL;
}

/*
 * --map CANON=PATH renames canonical fields: a path whose first segment is
 * CANON continues below PATH (user.name with --map user=customer reads
 * customer.name). The canonical "action" is marked so that values pass
 * through --map-action.
 */
void
ecs_path_apply_map(struct ecs_path *p)
{
	const struct ecs_path *to;
	struct ecs_seg *seg;
	size_t i, n;

	if (p->nseg == 1 && strcmp(p->seg[0].key, "action") == 0 &&
	    p->seg[0].len == 6)
		p->is_action = true;
	for (i = 0; i < ecs_config.nfields; i++) {
		if (p->nseg == 0 ||
		    strlen(ecs_config.fields[i].canon) != p->seg[0].len ||
		    strcmp(ecs_config.fields[i].canon, p->seg[0].key) != 0)
			continue;
		to = ecs_config.fields[i].path;
		n = to->nseg + p->nseg - 1;
		seg = ecs_xcalloc(n, sizeof(*seg));
		for (n = 0; n < to->nseg; n++) {
			seg[n] = to->seg[n];
			seg[n].key = ecs_xstrndup(to->seg[n].key, to->seg[n].len);
		}
		memcpy(seg + n, p->seg + 1, (p->nseg - 1) * sizeof(*seg));
		free(p->seg[0].key);
		free(p->seg);
		p->seg = seg;
		p->nseg = n + p->nseg - 1;
		return;
	}
}

bool
ecs_path_find(const struct ecs_path *p, struct json_object *rec,
    struct json_object **val)
{
	struct json_object *v = rec;
	const struct ecs_seg *s;
	size_t i;

	for (i = 0; i < p->nseg; i++) {
		s = &p->seg[i];
		switch (json_object_get_type(v)) {
		case json_type_object:
			if (s->bracket ||
			    !json_object_object_get_ex(v, s->key, &v))
				return false;
			break;
		case json_type_array:
			if (s->index < 0 ||
			    (size_t)s->index >= json_object_array_length(v))
				return false;
			v = json_object_array_get_idx(v, (size_t)s->index);
			break;
		default:		/* a scalar or null has no fields */
			return false;
		}
	}
	*val = v;
	return true;
}

struct json_object *
ecs_path_get(const struct ecs_path *p, struct json_object *rec)
{
	struct json_object *v;

	return ecs_path_find(p, rec, &v) ? v : NULL;
}

void
ecs_path_free(struct ecs_path *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nseg; i++)
		free(p->seg[i].key);
	free(p->seg);
	free(p->text);
	free(p);
}
