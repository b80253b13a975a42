/* SPDX-License-Identifier: ISC */
/*
 * ecs_lookup.c -- the keyed table of ecs-join and the join of one event.
 * A row is kept as the JSON text of its values, each after the index of
 * its (prefixed) name: every name is stored once, quoted and escaped,
 * so a million-row catalogue costs about its own size plus the map. Plain
 * lines (ecs_scan_plain_object) are taken apart by a walk over their
 * top-level members, without json-c; anything else comes as json-c's
 * object.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "ecs_lookup.h"

/* One field of a row: name index, and its value's text in vals. */
struct lk_member {
	uint32_t	 name;
	uint32_t	 len;
	size_t		 off;
};

struct lk_row {
	size_t		 first;		/* into members */
	uint32_t	 n;
};

/* A top-level member of a plain object, as it is in the line. */
struct span {
	const char	*at;		/* the name's opening quote */
	const char	*name;		/* without quotes; plain: no escapes */
	size_t		 nlen;
	const char	*val;
	size_t		 vlen;
};

struct ecs_lookup {
	char		*key;		/* the rows' key field */
	size_t		 keylen;
	char		*prefix;
	struct ecs_map	*rows;		/* key text -> struct lk_row */
	struct ecs_map	*names;		/* output name -> uint32_t index */
	char		**name;		/* output names, unescaped */
	size_t		*namelen;
	struct ecs_buf	 quoted;	/* "name": of each, at quoted_off */
	size_t		*quoted_off;
	size_t		 nnames;
	struct ecs_buf	 vals;		/* every value's text */
	struct lk_member *m;
	size_t		 nm, capm;
	unsigned long long nduplicates;
	size_t		 ndead;		/* members of replaced rows */
	/* Scratch for a join: the event's members, and which to drop. */
	struct span	*ev;
	size_t		 nev, capev;
	bool		*taken;		/* by row member: the event has it */
	size_t		 captaken;
};

struct ecs_lookup *
ecs_lookup_create(const char *key_field, const char *prefix)
{
	struct ecs_lookup *lk = ecs_xcalloc(1, sizeof(*lk));

	lk->key = ecs_xstrdup(key_field);
	lk->keylen = strlen(key_field);
	lk->prefix = ecs_xstrdup(prefix != NULL ? prefix : "");
	lk->rows = ecs_map_create(sizeof(struct lk_row), NULL);
	lk->names = ecs_map_create(sizeof(uint32_t), NULL);
	return lk;
}

void
ecs_lookup_destroy(struct ecs_lookup *lk)
{
	size_t i;

	if (lk == NULL)
		return;
	for (i = 0; i < lk->nnames; i++)
		free(lk->name[i]);
	free(lk->name);
	free(lk->namelen);
	free(lk->quoted_off);
	ecs_buf_free(&lk->quoted);
	ecs_buf_free(&lk->vals);
	ecs_map_destroy(lk->rows);
	ecs_map_destroy(lk->names);
	free(lk->m);
	free(lk->ev);
	free(lk->taken);
	free(lk->key);
	free(lk->prefix);
	free(lk);
}

size_t
ecs_lookup_count(const struct ecs_lookup *lk)
{
	return ecs_map_count(lk->rows);
}

unsigned long long
ecs_lookup_duplicates(const struct ecs_lookup *lk)
{
	return lk->nduplicates;
}

/* Walking a plain object */

static const char *
skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* Past the value at p, in a line the scan found plain (no escapes). */
static const char *
skip_value(const char *p, const char *e)
{
	int depth = 0;

	if (*p != '{' && *p != '[' && *p != '"') {
		while (p < e && *p != ',' && *p != '}' && *p != ']' &&
		    *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			p++;
		return p;
	}
	do {
		if (*p == '"')
			p = memchr(p + 1, '"', (size_t)(e - p - 1));
		else if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		p++;
	} while (depth > 0 && p < e);
	return p;
}

/*
 * The next top-level member of a plain object: start with *pp at the line,
 * then call until false. Only for lines ecs_scan_plain_object accepted.
 */
static bool
next_member(const char **pp, const char *e, struct span *s)
{
	const char *p = skip_ws(*pp, e);

	if (*p == '{' || *p == ',')
		p = skip_ws(p + 1, e);
	if (*p != '"')
		return false;		/* the closing brace */
	s->at = p;
	s->name = p + 1;
	p = memchr(s->name, '"', (size_t)(e - s->name));
	s->nlen = (size_t)(p - s->name);
	p = skip_ws(p + 1, e);
	s->val = skip_ws(p + 1, e);	/* past the colon */
	p = skip_value(s->val, e);
	s->vlen = (size_t)(p - s->val);
	*pp = p;
	return true;
}

/* A key's text: a string's characters, a number as written; else false. */
static bool
key_of_text(const char *val, size_t vlen, const char **key, size_t *klen)
{
	if (*val == '"') {
		*key = val + 1;
		*klen = vlen - 2;
		return true;
	}
	*key = val;
	*klen = vlen;
	/* The integer -0 is 0, as json-c and an event's key read it. */
	if (vlen == 2 && val[0] == '-' && val[1] == '0')
		*key = "0", *klen = 1;
	return *val == '-' || (*val >= '0' && *val <= '9');
}

static bool
key_of_field(const struct ecs_field *f, const char **key, size_t *klen)
{
	*key = f->text;
	*klen = f->len;
	return f->type == ECS_F_STRING || f->type == ECS_F_NUMBER;
}

/* Building rows */

/* The index of the output name prefix + name[0..len), added when new. */
static uint32_t
name_index(struct ecs_lookup *lk, const char *name, size_t len)
{
	size_t plen = strlen(lk->prefix), n = plen + len;
	char *full = ecs_xmalloc(n + 1);
	uint32_t *idx;
	bool created;

	memcpy(full, lk->prefix, plen);
	memcpy(full + plen, name, len);
	full[n] = '\0';
	idx = ecs_map_put(lk->names, full, n, &created);
	if (!created) {
		free(full);
		return *idx;
	}
	*idx = (uint32_t)lk->nnames;
	lk->name = ecs_xrealloc(lk->name, (lk->nnames + 1) * sizeof(*lk->name));
	lk->namelen = ecs_xrealloc(lk->namelen,
	    (lk->nnames + 1) * sizeof(*lk->namelen));
	lk->quoted_off = ecs_xrealloc(lk->quoted_off,
	    (lk->nnames + 2) * sizeof(*lk->quoted_off));
	lk->name[lk->nnames] = full;
	lk->namelen[lk->nnames] = n;
	lk->quoted_off[lk->nnames] = lk->quoted.len;
	ecs_buf_json_string(&lk->quoted, full, n);
	ecs_buf_putc(&lk->quoted, ':');
	lk->quoted_off[lk->nnames + 1] = lk->quoted.len;
	return (uint32_t)lk->nnames++;
}

/* Adds the field name[0..nlen) = val[0..vlen) to the row being built. */
static void
row_member(struct ecs_lookup *lk, struct lk_row *row, const char *name,
    size_t nlen, const char *val, size_t vlen)
{
	uint32_t idx = name_index(lk, name, nlen);
	struct lk_member *m = NULL;
	size_t i;

	if (vlen > UINT32_MAX)
		errx(ECS_EXIT_DATA, "a table value of %zu bytes", vlen);
	for (i = row->first; i < lk->nm; i++)	/* json-c: the last wins */
		if (lk->m[i].name == idx)
			m = &lk->m[i];
	if (m == NULL) {
		if (lk->nm == lk->capm) {
			lk->capm = lk->capm ? lk->capm * 2 : 1024;
			lk->m = ecs_xrealloc(lk->m, lk->capm * sizeof(*lk->m));
		}
		m = &lk->m[lk->nm++];
		row->n++;
	}
	m->name = idx;
	m->off = lk->vals.len;
	m->len = (uint32_t)vlen;
	ecs_buf_add(&lk->vals, val, vlen);
}

/*
 * Copies the members and values of the rows in use anew, leaving out
 * those of replaced rows: a table updated for ever by --table-stream
 * holds its rows, not every version of them.
 */
static void
compact(struct ecs_lookup *lk)
{
	struct lk_member *m = ecs_xmalloc((lk->nm - lk->ndead + 1) *
	    sizeof(*m));
	struct ecs_buf vals = ECS_BUF_INIT;
	struct lk_row *row;
	size_t iter = 0, nm = 0, i;

	while ((row = ecs_map_next(lk->rows, &iter, NULL, NULL)) != NULL) {
		for (i = 0; i < row->n; i++) {
			m[nm + i] = lk->m[row->first + i];
			m[nm + i].off = vals.len;
			ecs_buf_add(&vals, lk->vals.p + lk->m[row->first + i].off,
			    lk->m[row->first + i].len);
		}
		row->first = nm;
		nm += row->n;
	}
	free(lk->m);
	ecs_buf_free(&lk->vals);
	lk->m = m;
	lk->nm = lk->capm = nm;
	lk->vals = vals;
	lk->ndead = 0;
}

/* Files the row under key; a key already there takes the new row. */
static void
row_file(struct ecs_lookup *lk, const struct lk_row *row, const char *key,
    size_t klen)
{
	struct lk_row *slot;
	bool created;

	slot = ecs_map_put(lk->rows, key, klen, &created);
	if (!created) {
		lk->nduplicates++;
		lk->ndead += slot->n;
	}
	*slot = *row;
	if (lk->ndead > 1024 && lk->ndead > lk->nm / 2)
		compact(lk);
}

static bool
add_plain(struct ecs_lookup *lk, const char *line, size_t len,
    const char **why)
{
	const char *p = line, *e = line + len, *key = NULL;
	struct lk_row row = { lk->nm, 0 };
	struct span s;
	size_t klen = 0, vals_at = lk->vals.len;
	bool has_key = false;

	while (next_member(&p, e, &s)) {
		if (s.nlen == lk->keylen && memcmp(s.name, lk->key,
		    s.nlen) == 0) {
			has_key = key_of_text(s.val, s.vlen, &key, &klen);
			*why = has_key ? NULL : "is not a string or number";
			continue;
		}
		row_member(lk, &row, s.name, s.nlen, s.val, s.vlen);
	}
	if (!has_key) {
		lk->nm = row.first;		/* the row is dropped */
		lk->vals.len = vals_at;
		if (key == NULL)
			*why = "is missing";
		return false;
	}
	row_file(lk, &row, key, klen);
	return true;
}

static bool
add_json(struct ecs_lookup *lk, struct json_object *rec, const char **why)
{
	struct lk_row row = { lk->nm, 0 };
	struct json_object *kv = NULL;
	struct ecs_field kf;
	const char *key, *text;
	size_t klen, tlen;

	if (!json_object_object_get_ex(rec, lk->key, &kv)) {
		*why = "is missing";
		return false;
	}
	ecs_field_from_json(kv, true, &kf);
	if (!key_of_field(&kf, &key, &klen)) {
		*why = "is not a string or number";
		return false;
	}
	json_object_object_foreach(rec, name, v) {
		if (strcmp(name, lk->key) == 0)
			continue;
		text = json_object_to_json_string_length(v,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &tlen);
		row_member(lk, &row, name, strlen(name), text, tlen);
	}
	row_file(lk, &row, key, klen);
	return true;
}

bool
ecs_lookup_add(struct ecs_lookup *lk, const char *line, size_t len,
    struct json_object *rec, const char **why)
{
	*why = NULL;
	return rec != NULL ? add_json(lk, rec, why) :
	    add_plain(lk, line, len, why);
}

/* Loading a file */

struct ecs_lookup *
ecs_lookup_load(const char *path, enum ecs_input_format fmt,
    const char *key_field, const char *prefix, bool report,
    unsigned long long *nbad)
{
	struct ecs_config saved = ecs_config;
	struct ecs_lookup *lk = ecs_lookup_create(key_field, prefix);
	struct ecs_reader rd;
	struct json_object *rec;
	char *files[] = { (char *)path };
	const char *why;
	int status;

	/*
	 * The events' reader options are not the table's: its format is its
	 * own, and a bad row refuses the table instead of being skipped.
	 */
	ecs_config.input_format = fmt;
	ecs_config.quiet = saved.quiet || !report;
	ecs_config.max_errors = -1;
	ecs_config.reject_path = NULL;
	ecs_reader_init_side(&rd, files, 1);
	while (ecs_reader_line(&rd)) {
		if (ecs_scan_plain_object(rd.line, rd.len))
			rec = NULL;
		else if ((rec = ecs_reader_parse(&rd)) == NULL)
			continue;
		if (!ecs_lookup_add(lk, rd.line, rd.len, rec, &why))
			ecs_reader_bad(&rd, "field '%s' %s", key_field, why);
		json_object_put(rec);
	}
	*nbad = rd.nbad;
	rd.nbad = 0;	/* the caller says what becomes of the table */
	status = ecs_reader_finish(&rd);
	ecs_config = saved;
	if (status != 0 || *nbad > 0 || ecs_stop_signal) {
		ecs_lookup_destroy(lk);
		return NULL;
	}
	return lk;
}

/* Joining */

static void
put_member(const struct ecs_lookup *lk, const struct lk_member *m,
    struct ecs_buf *out)
{
	ecs_buf_add(out, lk->quoted.p + lk->quoted_off[m->name],
	    lk->quoted_off[m->name + 1] - lk->quoted_off[m->name]);
	ecs_buf_add(out, lk->vals.p + m->off, m->len);
}

/* Reads the top-level members of the plain event into lk->ev. */
static void
event_members(struct ecs_lookup *lk, const char *line, size_t len)
{
	const char *p = line, *e = line + len;
	struct span s;

	lk->nev = 0;
	while (next_member(&p, e, &s)) {
		if (lk->nev == lk->capev) {
			lk->capev = lk->capev ? lk->capev * 2 : 32;
			lk->ev = ecs_xrealloc(lk->ev,
			    lk->capev * sizeof(*lk->ev));
		}
		lk->ev[lk->nev++] = s;
	}
}

/* Whether the plain event has the output name of m. */
static bool
event_has(const struct ecs_lookup *lk, const struct lk_member *m)
{
	size_t i, n = lk->namelen[m->name];

	for (i = 0; i < lk->nev; i++)
		if (lk->ev[i].nlen == n && memcmp(lk->ev[i].name,
		    lk->name[m->name], n) == 0)
			return true;
	return false;
}

/* Whether a member of the row (one the event has) replaces member s. */
static bool
replaced(const struct ecs_lookup *lk, const struct lk_row *row,
    const struct span *s)
{
	const struct lk_member *m;
	uint32_t i;

	for (i = 0; i < row->n; i++) {
		m = &lk->m[row->first + i];
		if (lk->taken[i] && s->nlen == lk->namelen[m->name] &&
		    memcmp(s->name, lk->name[m->name], s->nlen) == 0)
			return true;
	}
	return false;
}

/* The length of the event up to its closing brace. */
static size_t
event_open_len(const char *line, size_t len)
{
	while (len > 0 && line[len - 1] != '}')
		len--;
	return len - 1;
}

bool
ecs_lookup_join(struct ecs_lookup *lk, const struct ecs_field *keyfield,
    const char *line, size_t len, struct json_object *rec, bool overwrite,
    struct ecs_buf *out)
{
	const struct lk_row *row;
	const struct lk_member *m;
	const char *key, *text;
	size_t klen, i, j, tlen;
	bool any, conflict = false;

	if (!key_of_field(keyfield, &key, &klen) ||
	    (row = ecs_map_get(lk->rows, key, klen)) == NULL)
		return false;
	/* Only an event with a row is walked: the walk serves the merge. */
	if (rec == NULL)
		event_members(lk, line, len);
	if (row->n > lk->captaken) {
		lk->captaken = row->n;
		lk->taken = ecs_xrealloc(lk->taken,
		    row->n * sizeof(*lk->taken));
	}
	for (i = 0; i < row->n; i++) {
		m = &lk->m[row->first + i];
		lk->taken[i] = rec == NULL ? event_has(lk, m) :
		    json_object_object_get_ex(rec, lk->name[m->name], NULL);
		conflict |= lk->taken[i];
	}
	ecs_buf_reset(out);
	if (overwrite && conflict && rec == NULL) {
		/* The event's members but those the row replaces. */
		ecs_buf_putc(out, '{');
		any = false;
		for (j = 0; j < lk->nev; j++) {
			if (replaced(lk, row, &lk->ev[j]))
				continue;
			if (any)
				ecs_buf_putc(out, ',');
			ecs_buf_add(out, lk->ev[j].at, (size_t)(lk->ev[j].val +
			    lk->ev[j].vlen - lk->ev[j].at));
			any = true;
		}
	} else if (overwrite && conflict) {
		for (i = 0; i < row->n; i++)
			if (lk->taken[i])
				json_object_object_del(rec,
				    lk->name[lk->m[row->first + i].name]);
		text = json_object_to_json_string_length(rec,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &tlen);
		ecs_buf_add(out, text, event_open_len(text, tlen));
		any = json_object_object_length(rec) > 0;
	} else {
		ecs_buf_add(out, line, event_open_len(line, len));
		any = rec != NULL ? json_object_object_length(rec) > 0 :
		    lk->nev > 0;
	}
	for (i = 0; i < row->n; i++) {
		if (lk->taken[i] && !overwrite)
			continue;
		if (any)
			ecs_buf_putc(out, ',');
		put_member(lk, &lk->m[row->first + i], out);
		any = true;
	}
	ecs_buf_putc(out, '}');
	return true;
}
