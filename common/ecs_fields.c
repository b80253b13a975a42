/* SPDX-License-Identifier: ISC */
/*
 * ecs_fields.c -- the few fields a program needs from each record, read
 * the fast way when it can be: a line in the plain subset of JSON (see
 * ecs_scan.c) gives its values straight from the bytes, top-level or
 * nested; any other line goes through json-c, and bad lines are reported
 * by the reader as always. Both ways give the same
 * values (tests/scan-check and the fuzz targets hold them to it).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "ecs_buf.h"

/* Whether two compiled paths name the same field. */
static bool
same_path(const struct ecs_path *a, const struct ecs_path *b)
{
	size_t i;

	if (a->nseg != b->nseg || a->is_action != b->is_action)
		return false;
	for (i = 0; i < a->nseg; i++)
		if (a->seg[i].len != b->seg[i].len ||
		    a->seg[i].bracket != b->seg[i].bracket ||
		    memcmp(a->seg[i].key, b->seg[i].key, a->seg[i].len) != 0)
			return false;
	return true;
}

/* Whether path can be read from the bytes: keys without NULs, in an object. */
static bool
capturable(const struct ecs_path *path)
{
	size_t i;

	if (path->nseg == 0 || path->seg[0].bracket)
		return false;
	for (i = 0; i < path->nseg; i++)
		if (strlen(path->seg[i].key) != path->seg[i].len)
			return false;
	return true;
}

/* The index in fs->tops of the top-level key of path, added if new. */
static size_t
add_top(struct ecs_fieldset *fs, const struct ecs_path *path)
{
	const struct ecs_seg *s = &path->seg[0];
	size_t i;

	for (i = 0; i < fs->tops.n; i++)
		if (fs->tops.len[i] == s->len &&
		    memcmp(fs->tops.key[i], s->key, s->len) == 0)
			return i;
	/* fs->cap bounds the number of distinct keys too. */
	fs->tops.key[i] = s->key;
	fs->tops.len[i] = s->len;
	fs->tops.n++;
	ecs_scan_keys_hash(&fs->tops);
	return i;
}

static size_t
add(struct ecs_fieldset *fs, struct ecs_path *path, bool owned)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		if (same_path(fs->path[i], path)) {
			if (owned)
				ecs_path_free(path);
			return i;
		}
	if (fs->n == fs->cap) {
		fs->cap = fs->cap ? fs->cap * 2 : 8;
		fs->path = ecs_xrealloc(fs->path, fs->cap * sizeof(*fs->path));
		fs->owned = ecs_xrealloc(fs->owned, fs->cap * sizeof(*fs->owned));
		fs->top = ecs_xrealloc(fs->top, fs->cap * sizeof(*fs->top));
		fs->tops.key = ecs_xrealloc(fs->tops.key,
		    fs->cap * sizeof(*fs->tops.key));
		fs->tops.len = ecs_xrealloc(fs->tops.len,
		    fs->cap * sizeof(*fs->tops.len));
		fs->topval = ecs_xrealloc(fs->topval,
		    fs->cap * sizeof(*fs->topval));
	}
	fs->path[fs->n] = path;
	fs->owned[fs->n] = owned;
	fs->top[fs->n] = 0;
	if (!capturable(path))
		fs->fast = false;
	else
		fs->top[fs->n] = add_top(fs, path);
	return fs->n++;
}

void
ecs_fields_init(struct ecs_fieldset *fs, const char *const *canon, size_t n)
{
	struct ecs_path *path;
	const char *why;
	size_t i;

	memset(fs, 0, sizeof(*fs));
	fs->fast = true;
	for (i = 0; i < n; i++) {
		if ((path = ecs_path_compile(canon[i], &why)) == NULL)
			abort();	/* canonical names are plain */
		ecs_path_apply_map(path);
		add(fs, path, true);
	}
}

size_t
ecs_fields_add(struct ecs_fieldset *fs, const struct ecs_path *path)
{
	return add(fs, (struct ecs_path *)path, false);
}

void
ecs_field_from_json(struct json_object *v, bool found, struct ecs_field *f)
{
	size_t len;

	if (!found) {
		*f = (struct ecs_field){ ECS_F_MISSING, NULL, 0, NULL };
		return;
	}
	f->j = v;
	switch (json_object_get_type(v)) {
	case json_type_null:
		*f = (struct ecs_field){ ECS_F_NULL, "null", 4, NULL };
		return;
	case json_type_string:
		f->type = ECS_F_STRING;
		f->text = json_object_get_string(v);
		f->len = (size_t)json_object_get_string_len(v);
		return;
	case json_type_boolean:
		f->type = ECS_F_BOOL;
		break;
	case json_type_int:
	case json_type_double:
		f->type = ECS_F_NUMBER;
		break;
	default:
		f->type = ECS_F_OTHER;
		break;
	}
	/* json-c keeps the text of the value in v: borrowed from the record. */
	f->text = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN,
	    &len);
	f->len = len;
}

/*
 * --map-action: the canonical action field reads as its canonical value
 * wherever it is used (keys, metrics, expressions); the input's own text
 * survives only in lines passed through whole.
 */
static void
canon_actions(const struct ecs_fieldset *fs, struct ecs_field *out)
{
	const char *canon;
	size_t i, len;

	if (ecs_config.nactions == 0)
		return;
	for (i = 0; i < fs->n; i++)
		if (fs->path[i]->is_action && out[i].type == ECS_F_STRING &&
		    (canon = ecs_action_canon(out[i].text, out[i].len,
		    &len)) != NULL) {
			out[i].text = canon;
			out[i].len = len;
			out[i].j = NULL;	/* no longer the record's value */
		}
}

/*
 * Past the value at p in plain JSON text that the scan has validated (so
 * strings hold no backslash and every bracket is closed before e).
 */
static const char *
skip_value(const char *p, const char *e)
{
	int depth = 0;

	if (*p != '{' && *p != '[') {
		if (*p == '"')
			return (const char *)memchr(p + 1, '"',
			    (size_t)(e - p - 1)) + 1;
		while (p < e && strchr(",]} \t\r\n", *p) == NULL)
			p++;
		return p;
	}
	for (;; p++) {
		if (*p == '"')
			p = memchr(p + 1, '"', (size_t)(e - p - 1));
		else if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
	}
}

static const char *
skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

static void
set_value(struct ecs_field *f, const char *p, const char *end)
{
	*f = (struct ecs_field){ ECS_F_NUMBER, p, (size_t)(end - p), NULL };
	switch (*p) {
	case '"':
		f->type = ECS_F_STRING;
		f->text++;
		f->len -= 2;
		break;
	case 't':
	case 'f':
		f->type = ECS_F_BOOL;
		break;
	case 'n':
		f->type = ECS_F_NULL;
		break;
	case '{':
	case '[':
		f->type = ECS_F_OTHER;
		break;
	}
}

/*
 * *f becomes its member s (an object's key, the last if repeated, as
 * json-c keeps it; an array's element), or missing, as ecs_path_find.
 */
static void
member(struct ecs_field *f, const struct ecs_seg *s)
{
	const char *p, *e, *key, *end;
	bool in_object;
	long i;

	if (f->type != ECS_F_OTHER) {
		*f = (struct ecs_field){ ECS_F_MISSING, NULL, 0, NULL };
		return;
	}
	in_object = f->text[0] == '{';
	p = f->text + 1;
	e = f->text + f->len - 1;	/* on the closing bracket */
	*f = (struct ecs_field){ ECS_F_MISSING, NULL, 0, NULL };
	if (in_object ? s->bracket : s->index < 0)
		return;
	for (i = 0; (p = skip_ws(p, e)) < e; i++) {
		key = NULL;
		if (in_object) {
			key = p + 1;
			p = memchr(key, '"', (size_t)(e - key));
			if ((size_t)(p - key) != s->len ||
			    memcmp(key, s->key, s->len) != 0)
				key = NULL;
			p = skip_ws(skip_ws(p + 1, e) + 1, e);	/* past ':' */
		}
		end = skip_value(p, e);
		if (in_object ? key != NULL : i == s->index) {
			set_value(f, p, end);
			if (!in_object)
				return;
		}
		p = skip_ws(end, e);
		if (p < e)
			p++;			/* past ',' */
	}
}

/*
 * json-c reads the integer -0 as 0 and writes it so (a double keeps its
 * text: -0.0 stays): the captured field is given json-c's text, so that
 * what a program writes of it, and to_string() or =~ on it, does not
 * depend on whether the line took json-c.
 */
static void
as_json_c_writes(struct ecs_field *f)
{
	if (f->type == ECS_F_NUMBER && f->len == 2 && f->text[0] == '-' &&
	    f->text[1] == '0') {
		f->text = "0";
		f->len = 1;
	}
}

bool
ecs_fields_capture(struct ecs_fieldset *fs, const char *line, size_t len,
    struct ecs_field *out)
{
	size_t i, k;

	if (fs->members != NULL)
		fs->members->line = NULL;
	if (!fs->fast || !(fs->members != NULL ?
	    ecs_scan_fields_tops(line, len, &fs->tops, fs->topval,
	    fs->members) : ecs_scan_fields(line, len, &fs->tops, fs->topval)))
		return false;
	for (i = 0; i < fs->n; i++) {
		out[i] = fs->topval[fs->top[i]];
		for (k = 1; k < fs->path[i]->nseg; k++)
			member(&out[i], &fs->path[i]->seg[k]);
		as_json_c_writes(&out[i]);
	}
	canon_actions(fs, out);
	return true;
}

/* The keys seen in the open objects of a compaction, for repeats. */
#define COMPACT_KEYS	256

struct compact_keys {
	const char	*key[COMPACT_KEYS];
	size_t		 len[COMPACT_KEYS];
	size_t		 n;
	size_t		 open[64];	/* where each open object's keys start */
	size_t		 depth;		/* the scan allows 32 levels */
};

/* Adds key[0..len) to the innermost object: false if it has it already. */
static bool
new_key(struct compact_keys *k, const char *key, size_t len)
{
	size_t i;

	if (k->depth == 0 || k->n == COMPACT_KEYS)
		return false;
	for (i = k->open[k->depth - 1]; i < k->n; i++)
		if (k->len[i] == len && memcmp(k->key[i], key, len) == 0)
			return false;
	k->key[k->n] = key;
	k->len[k->n++] = len;
	return true;
}

bool
ecs_field_compact(const struct ecs_field *f, struct ecs_buf *out)
{
	struct compact_keys keys = { .n = 0 };
	const char *p = f->text, *e = f->text + f->len, *end, *q;
	size_t was = out->len;

	if (f->type != ECS_F_OTHER)
		return false;
	while (p < e) {
		switch (*p) {
		case ' ': case '\t': case '\r': case '\n':
			p++;
			continue;
		case '{':
			keys.open[keys.depth++] = keys.n;
			break;
		case '[':
			keys.open[keys.depth++] = SIZE_MAX;	/* no keys */
			break;
		case '}':
			keys.n = keys.open[--keys.depth];
			break;
		case ']':
			keys.depth--;
			break;
		case '"':
			end = (const char *)memchr(p + 1, '"',
			    (size_t)(e - p - 1)) + 1;
			/* A key when ':' follows (plain: no escapes). */
			if ((q = skip_ws(end, e)) < e && *q == ':' &&
			    !new_key(&keys, p + 1, (size_t)(end - p - 2))) {
				out->len = was;
				return false;
			}
			ecs_buf_add(out, p, (size_t)(end - p));
			p = end;
			continue;
		case '-':
			if (e - p >= 2 && p[1] == '0' && (e - p == 2 ||
			    strchr(".eE0123456789", p[2]) == NULL)) {
				ecs_buf_putc(out, '0');	/* json-c: -0 is 0 */
				p += 2;
				continue;
			}
			break;
		}
		ecs_buf_putc(out, *p++);
	}
	return true;
}

bool
ecs_fields_read(struct ecs_fieldset *fs, struct ecs_reader *rd,
    struct ecs_field *out)
{
	struct json_object *v;
	size_t i;
	bool found;

	json_object_put(fs->rec);
	fs->rec = NULL;
	if (ecs_fields_capture(fs, rd->line, rd->len, out))
		return true;
	if ((fs->rec = ecs_reader_parse(rd)) == NULL)
		return false;
	for (i = 0; i < fs->n; i++) {
		found = ecs_path_find(fs->path[i], fs->rec, &v);
		ecs_field_from_json(v, found, &out[i]);
	}
	canon_actions(fs, out);
	return true;
}

void
ecs_fields_finish(struct ecs_fieldset *fs)
{
	size_t i;

	json_object_put(fs->rec);
	for (i = 0; i < fs->n; i++)
		if (fs->owned[i])
			ecs_path_free(fs->path[i]);
	free(fs->path);
	free(fs->owned);
	free(fs->top);
	free(fs->tops.key);
	free(fs->tops.len);
	free(fs->topval);
}

bool
ecs_field_int64(const struct ecs_field *f, int64_t *out)
{
	struct ecs_num n;
	struct ecs_dec d;

	if ((f->type != ECS_F_NUMBER && f->type != ECS_F_STRING) ||
	    !ecs_num_parse(f->text, f->len, &n))
		return false;
	if (n.is_int) {
		*out = n.i;
		return true;
	}
	/*
	 * 5.0 and 5e2 are integers; 5.5 and 1e300 are not, nor are
	 * 3.00000000000000001 and 9007199254740993.0, which a double would
	 * make 3 and 9007199254740992: the text's exact decimal decides.
	 */
	if (!ecs_dec_parse(f->text, f->len, &d) || !d.exact)
		return false;
	for (; d.scale > 0; d.scale--) {
		if (d.m % 10 != 0)
			return false;
		d.m /= 10;
	}
	if (d.m < INT64_MIN || d.m > INT64_MAX)
		return false;
	*out = (int64_t)d.m;
	return true;
}

bool
ecs_field_equals(const struct ecs_field *f, const char *s)
{
	return f->type == ECS_F_STRING && f->len == strlen(s) &&
	    memcmp(f->text, s, f->len) == 0;
}

const char *
ecs_shown(const char *text, size_t len, bool is_string,
    char buf[static ECS_SHOWN_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)text;
	size_t n = len > ECS_SHOWN_BYTES ? ECS_SHOWN_BYTES : len, i, o = 0;

	/* Cut before a UTF-8 continuation byte, not inside a character. */
	if (n < len)
		while (n > 0 && (s[n] & 0xc0) == 0x80)
			n--;
	buf[o++] = ':';
	buf[o++] = ' ';
	if (is_string)
		buf[o++] = '"';
	for (i = 0; i < n; i++) {
		if (is_string && (s[i] == '"' || s[i] == '\\')) {
			buf[o++] = '\\';
			buf[o++] = (char)s[i];
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			memcpy(buf + o, "\\u00", 4);
			buf[o + 4] = hex[s[i] >> 4];
			buf[o + 5] = hex[s[i] & 15];
			o += 6;
		} else
			buf[o++] = (char)s[i];
	}
	if (is_string)
		buf[o++] = '"';
	if (n < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

const char *
ecs_field_shown(const struct ecs_field *f, char buf[static ECS_SHOWN_SIZE])
{
	if (f->type == ECS_F_MISSING) {
		buf[0] = '\0';
		return buf;
	}
	return ecs_shown(f->text, f->len, f->type == ECS_F_STRING, buf);
}
