/* SPDX-License-Identifier: ISC */
/*
 * ecs_table.c -- NDJSON output lines rewritten as CSV, TSV or an aligned
 * table (-o), as Miller 6 writes them with --ocsv, --otsv and --opprint.
 * Each line is a JSON object the program produced, so a small scanner
 * splits it into top-level keys and raw values without json-c: strings are
 * unescaped, numbers, true, false and null are written as they stand, and
 * nested objects and arrays are flattened as Miller does (a.b, items.1).
 * The first record's keys make the header; a record with other keys starts
 * a new header block after an empty line (Miller's csvlite rule).
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"

#define TABLE_DEPTH	512		/* nesting beyond this is refused */
/*
 * Headers kept after a new one, to go back to at full speed: events whose
 * kinds carry different keys (a purchase has a quantity) go to and fro.
 */
#define OLD_HEADERS	2

struct bytes {
	char	*p;
	size_t	 len, cap;
};

/* A piece of a bytes buffer, by offset: the buffer may move. */
struct span {
	size_t	 off, len;
};

/*
 * A piece of the line being scanned, or of the text unescaped or built
 * from it (in_text): by offset while scanning, as text may move.
 */
struct piece {
	size_t	 off, len;
	bool	 in_text;
};

/*
 * The bytes before a value of a plain line under a header, {"name": or
 * ,"name": at key, and their first and last words for tops_row to compare
 * (head masked to len when len < 8; tail when 8 < len <= 16).
 */
struct key_gap {
	const char	*key;
	size_t		 len;
	uint64_t	 mask, head, tail;
};

/* A header: its names, as set_header keeps them, in names. */
struct header {
	struct bytes	 names;
	struct bytes	 row;		/* as put_header writes it, once made */
	struct key_gap	*gap;		/* made by set_header, after names */
	struct span	*span;
	size_t		 n, cap;
	bool		 fast;		/* names that JSON writes as they are */
};

/*
 * A key of an object being scanned, and the cells its value made: a key
 * given again replaces them (see keep_last_value).
 */
struct member {
	struct piece	 key;
	size_t		 cell, ncell;
};

/* A column of the record: pointers set once the scan is done. */
struct cell {
	struct piece	 name_at, val_at;
	const char	*name, *val;
	size_t		 name_len, val_len;
};

struct ecs_table {
	enum ecs_output_format	 format;
	void			(*write)(const void *, size_t);
	unsigned long long	 nline;		/* lines seen, for messages */
	int			 status;

	/* The record being converted: names and values in line or text. */
	const char	*line;
	struct bytes	 text;
	struct bytes	 path;		/* the flattened name being built */
	struct cell	*cell;
	size_t		 ncell, cellcap;
	struct member	*mem;		/* the keys of the objects open */
	size_t		 nmem, memcap;

	/* The current header, and those before for records going back. */
	bool		 have_header;
	struct header	 hdr;
	struct header	 old[OLD_HEADERS];
	bool		 just_wrote_empty;	/* CSV, TSV: one empty line */

	/* -o table: rows held until a flush, widths of those printed. */
	struct bytes	 held;
	struct span	*hval;
	size_t		 nheld, hvalcap;	/* rows; cells are nheld*nhead */
	size_t		*width;
	bool		 printed;		/* the header is out */

	struct bytes	 out;		/* one converted line or block */
};

static void
bytes_add(struct bytes *b, const void *p, size_t n)
{
	if (n == 0)		/* b->p may be NULL: memcpy must not see it */
		return;
	if (n > b->cap - b->len) {
		b->cap = b->cap * 2 > b->len + n ? b->cap * 2 : b->len + n + 64;
		b->p = ecs_xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
bytes_addc(struct bytes *b, char c)
{
	if (b->len == b->cap) {
		b->cap = b->cap * 2 + 64;
		b->p = ecs_xrealloc(b->p, b->cap);
	}
	b->p[b->len++] = c;
}

struct ecs_table *
ecs_table_create(enum ecs_output_format format,
    void (*write)(const void *, size_t))
{
	struct ecs_table *t = ecs_xcalloc(1, sizeof(*t));

	t->format = format;
	t->write = write;
	return t;
}

/* Scanning: one JSON line into cells */

static const char *
skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The 4 hex digits at p, or -1. */
static long
hex4(const char *p, const char *e)
{
	long v = 0;
	int i, d;

	if (e - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		if ((d = hexval(p[i])) < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static void
add_utf8(struct bytes *b, unsigned long c)
{
	char u[4];
	size_t n;

	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | c >> 6);
		u[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | c >> 12);
		u[1] = (char)(0x80 | (c >> 6 & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | c >> 18);
		u[1] = (char)(0x80 | (c >> 12 & 0x3f));
		u[2] = (char)(0x80 | (c >> 6 & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	bytes_add(b, u, n);
}

/*
 * Appends the text of the JSON string at p (past its opening quote) to b;
 * returns the position past the closing quote, or NULL. A lone surrogate
 * becomes U+FFFD, as in Go and so in Miller.
 */
static const char *
unescape(const char *p, const char *e, struct bytes *b)
{
	const char *run;
	long c, lo;

	for (;;) {
		for (run = p; p < e && *p != '"' && *p != '\\'; p++)
			;
		bytes_add(b, run, (size_t)(p - run));
		if (p == e)
			return NULL;
		if (*p++ == '"')
			return p;
		if (p == e)
			return NULL;
		switch (*p++) {
		case '"': bytes_addc(b, '"'); break;
		case '\\': bytes_addc(b, '\\'); break;
		case '/': bytes_addc(b, '/'); break;
		case 'b': bytes_addc(b, '\b'); break;
		case 'f': bytes_addc(b, '\f'); break;
		case 'n': bytes_addc(b, '\n'); break;
		case 'r': bytes_addc(b, '\r'); break;
		case 't': bytes_addc(b, '\t'); break;
		case 'u':
			if ((c = hex4(p, e)) < 0)
				return NULL;
			p += 4;
			if (c >= 0xd800 && c < 0xdc00 && e - p >= 6 &&
			    p[0] == '\\' && p[1] == 'u' &&
			    (lo = hex4(p + 2, e)) >= 0xdc00 && lo < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else if (c >= 0xd800 && c < 0xe000)
				c = 0xfffd;
			add_utf8(b, (unsigned long)c);
			break;
		default:
			return NULL;
		}
	}
}

/*
 * The JSON string at p (past its opening quote) as a piece: of the line
 * when it has no escapes, else unescaped into t->text. Past the closing
 * quote, or NULL.
 */
static const char *
scan_string(struct ecs_table *t, const char *p, const char *e,
    struct piece *out)
{
	const char *q = p;
	size_t off;

	while (q < e && *q != '"' && *q != '\\')
		q++;
	if (q < e && *q == '"') {
		*out = (struct piece){ (size_t)(p - t->line), (size_t)(q - p),
		    false };
		return q + 1;
	}
	off = t->text.len;
	if ((q = unescape(p, e, &t->text)) != NULL)
		*out = (struct piece){ off, t->text.len - off, true };
	return q;
}

/* Adds a cell named name (or t->path when NULL) with the value val. */
static void
add_cell(struct ecs_table *t, const struct piece *name, struct piece val)
{
	struct cell *c;

	if (t->ncell == t->cellcap) {
		t->cellcap = t->cellcap * 2 + 16;
		t->cell = ecs_xrealloc(t->cell, t->cellcap * sizeof(*t->cell));
	}
	c = &t->cell[t->ncell++];
	c->val_at = val;
	if (name != NULL)
		c->name_at = *name;
	else {
		c->name_at = (struct piece){ t->text.len, t->path.len, true };
		bytes_add(&t->text, t->path.p, t->path.len);
	}
}

/* Byte classes, looked up in the loops that see every byte. */
enum {
	C_LITERAL = 1,		/* of a number, true, false or null */
	C_CSV = 2,		/* makes a CSV field quoted */
	C_STOP = 4,		/* ends a run of string text: " or \ */
	C_SPACE = 8,		/* JSON's white space */
	C_CONTROL = 16,		/* below 0x20: never raw in a JSON string */
};

static const unsigned char byte_class[256] = {
	['0'] = C_LITERAL, ['1'] = C_LITERAL, ['2'] = C_LITERAL,
	['3'] = C_LITERAL, ['4'] = C_LITERAL, ['5'] = C_LITERAL,
	['6'] = C_LITERAL, ['7'] = C_LITERAL, ['8'] = C_LITERAL,
	['9'] = C_LITERAL, ['-'] = C_LITERAL, ['+'] = C_LITERAL,
	['.'] = C_LITERAL, ['a'] = C_LITERAL, ['e'] = C_LITERAL,
	['E'] = C_LITERAL, ['f'] = C_LITERAL, ['l'] = C_LITERAL,
	['n'] = C_LITERAL, ['r'] = C_LITERAL, ['s'] = C_LITERAL,
	['t'] = C_LITERAL, ['u'] = C_LITERAL,
	[','] = C_CSV,
	['"'] = C_CSV | C_STOP, ['\\'] = C_STOP,
	[' '] = C_SPACE, ['\t'] = C_SPACE | C_CONTROL,
	['\n'] = C_CSV | C_SPACE | C_CONTROL,
	['\r'] = C_CSV | C_SPACE | C_CONTROL,
	[0x00] = C_CONTROL, [0x01] = C_CONTROL, [0x02] = C_CONTROL,
	[0x03] = C_CONTROL, [0x04] = C_CONTROL, [0x05] = C_CONTROL,
	[0x06] = C_CONTROL, [0x07] = C_CONTROL, [0x08] = C_CONTROL,
	[0x0b] = C_CONTROL, [0x0c] = C_CONTROL, [0x0e] = C_CONTROL,
	[0x0f] = C_CONTROL, [0x10] = C_CONTROL, [0x11] = C_CONTROL,
	[0x12] = C_CONTROL, [0x13] = C_CONTROL, [0x14] = C_CONTROL,
	[0x15] = C_CONTROL, [0x16] = C_CONTROL, [0x17] = C_CONTROL,
	[0x18] = C_CONTROL, [0x19] = C_CONTROL, [0x1a] = C_CONTROL,
	[0x1b] = C_CONTROL, [0x1c] = C_CONTROL, [0x1d] = C_CONTROL,
	[0x1e] = C_CONTROL, [0x1f] = C_CONTROL,
};

static bool
is_literal_char(char c)
{
	return byte_class[(unsigned char)c] & C_LITERAL;
}

static bool
is_special_csv(unsigned char c)
{
	return byte_class[c] & C_CSV;
}

/* The bytes of p: in the line, or in the text unescaped from it. */
static const char *
piece_at(const struct ecs_table *t, const struct piece *p)
{
	return (p->in_text ? t->text.p : t->line) + p->off;
}

static void
reverse_cells(struct cell *c, size_t n)
{
	struct cell swap;
	size_t i;

	for (i = 0; i < n / 2; i++) {
		swap = c[i];
		c[i] = c[n - 1 - i];
		c[n - 1 - i] = swap;
	}
}

/* Moves c[k..n) before c[0..k), each keeping its order. */
static void
rotate_cells(struct cell *c, size_t n, size_t k)
{
	reverse_cells(c, k);
	reverse_cells(c + k, n - k);
	reverse_cells(c, n);
}

/*
 * The value of key, whose cells start at first, in the object whose keys
 * start at t->mem[base]: a key given before loses the cells of its earlier
 * value, and the new ones take their place, so a key keeps its first place
 * and its last value, as json-c, jq and Miller read it ({"a":1,"a":{"b":2}}
 * is a.b = 2 alone). Names alone could not tell: {"a":{"x":1},"a":{"y":2}}
 * flattens to a.x and a.y.
 */
static void
keep_last_value(struct ecs_table *t, size_t base, const struct piece *key,
    size_t first)
{
	struct member *m;
	size_t j, n1, n2 = t->ncell - first, between;

	for (j = base; j < t->nmem; j++)
		if (t->mem[j].key.len == key->len && memcmp(piece_at(t,
		    &t->mem[j].key), piece_at(t, key), key->len) == 0)
			break;
	if (j == t->nmem) {
		if (t->nmem == t->memcap) {
			t->memcap = t->memcap * 2 + 16;
			t->mem = ecs_xrealloc(t->mem,
			    t->memcap * sizeof(*t->mem));
		}
		t->mem[t->nmem++] = (struct member){ *key, first, n2 };
		return;
	}
	m = &t->mem[j];
	n1 = m->ncell;
	between = first - (m->cell + n1);
	memmove(&t->cell[m->cell], &t->cell[m->cell + n1],
	    (t->ncell - m->cell - n1) * sizeof(*t->cell));
	t->ncell -= n1;
	rotate_cells(&t->cell[m->cell], between + n2, between);
	m->ncell = n2;
	for (j++; j < t->nmem; j++)
		t->mem[j].cell = t->mem[j].cell - n1 + n2;
}

static const char *scan_value(struct ecs_table *, const char *, const char *,
    const struct piece *, int);
static void make_gaps(struct header *);

/*
 * Scans the members of the object or array at p (past its '{' or '['),
 * each as a cell named path.key or path.N (from 1), flattened as Miller
 * does. An empty one is a cell holding {} or []. At depth 0 (the record
 * itself) the names are the bare keys.
 */
static const char *
scan_members(struct ecs_table *t, const char *p, const char *e, char close,
    int depth)
{
	size_t plen = t->path.len, base = t->nmem, first;
	unsigned long n = 0;
	struct piece key;
	char num[24];

	p = skip_ws(p, e);
	if (p < e && *p == close) {
		if (depth > 0) {
			key = (struct piece){ t->text.len, 2, true };
			bytes_add(&t->text, close == '}' ? "{}" : "[]", 2);
			add_cell(t, NULL, key);
		}
		return p + 1;
	}
	for (;;) {
		t->path.len = plen;
		if (depth > 0)
			bytes_addc(&t->path, '.');
		if (close == '}') {
			if (p == e || *p != '"' ||
			    (p = scan_string(t, p + 1, e, &key)) == NULL)
				return NULL;
			/* Below the top, the name is the path: a.b, items.1. */
			if (depth > 0)
				bytes_add(&t->path, piece_at(t, &key), key.len);
			p = skip_ws(p, e);
			if (p == e || *p++ != ':')
				return NULL;
		} else
			bytes_add(&t->path, num, (size_t)snprintf(num,
			    sizeof(num), "%lu", ++n));
		first = t->ncell;
		if ((p = scan_value(t, skip_ws(p, e), e, depth > 0 ||
		    close == ']' ? NULL : &key, depth + 1)) == NULL)
			return NULL;
		if (close == '}')
			keep_last_value(t, base, &key, first);
		p = skip_ws(p, e);
		if (p < e && *p == ',') {
			p = skip_ws(p + 1, e);
			continue;
		}
		t->path.len = plen;
		t->nmem = base;
		return p < e && *p == close ? p + 1 : NULL;
	}
}

/*
 * Scans the value at p into cells named name, or t->path when NULL (a top
 * key is a piece of the line; a nested name is built in t->path). Past the
 * value, or NULL.
 */
static const char *
scan_value(struct ecs_table *t, const char *p, const char *e,
    const struct piece *name, int depth)
{
	const char *start = p;
	struct piece val;

	if (p == e || depth > TABLE_DEPTH)
		return NULL;
	if (*p == '{' || *p == '[') {
		/* A top key is the prefix of the names below it. */
		if (name != NULL)
			bytes_add(&t->path, piece_at(t, name), name->len);
		return scan_members(t, p + 1, e, *p == '{' ? '}' : ']', depth);
	}
	if (*p == '"') {
		if ((p = scan_string(t, p + 1, e, &val)) == NULL)
			return NULL;
	} else {
		while (p < e && is_literal_char(*p))
			p++;
		if (p == start)
			return NULL;
		val = (struct piece){ (size_t)(start - t->line),
		    (size_t)(p - start), false };
	}
	add_cell(t, name, val);
	return p;
}

static bool
scan_record(struct ecs_table *t, const char *line, size_t len)
{
	const char *p = line, *e = line + len;
	struct cell *c;
	size_t i;

	t->line = line;
	t->text.len = 0;
	t->path.len = 0;
	t->ncell = 0;
	t->nmem = 0;
	p = skip_ws(p, e);
	if (p == e || *p != '{' || (p = scan_members(t, p + 1, e, '}', 0)) ==
	    NULL || skip_ws(p, e) != e)
		return false;
	for (i = 0; i < t->ncell; i++) {
		c = &t->cell[i];
		c->name = piece_at(t, &c->name_at);
		c->name_len = c->name_at.len;
		c->val = piece_at(t, &c->val_at);
		c->val_len = c->val_at.len;
	}
	return true;
}

/* Headers */

static bool
same_keys(const struct ecs_table *t)
{
	const struct cell *c;
	size_t i;

	if (!t->have_header || t->ncell != t->hdr.n)
		return false;
	for (i = 0; i < t->ncell; i++) {
		c = &t->cell[i];
		if (c->name_len != t->hdr.span[i].len || memcmp(c->name,
		    t->hdr.names.p + t->hdr.span[i].off, c->name_len) != 0)
			return false;
	}
	return true;
}

/*
 * A key given twice (JSON allows it; a.b beside a flattened a.b) keeps its
 * first place and its last value, as in Miller's maps.
 */
static void
merge_duplicates(struct ecs_table *t)
{
	size_t i, j, n = 0;

	for (i = 0; i < t->ncell; i++) {
		for (j = 0; j < n; j++)
			if (t->cell[j].name_len == t->cell[i].name_len &&
			    memcmp(t->cell[j].name, t->cell[i].name,
			    t->cell[i].name_len) == 0)
				break;
		if (j < n) {
			t->cell[j].val = t->cell[i].val;
			t->cell[j].val_len = t->cell[i].val_len;
		} else
			t->cell[n++] = t->cell[i];
	}
	t->ncell = n;
}

/*
 * hnames holds each name as fast_row expects its key, with what comes
 * before and after it and no spaces: {"name": for the first, ,"name": for
 * the others, so one comparison checks all of it; head spans the name.
 */
static void
set_header(struct ecs_table *t)
{
	const struct cell *c;
	struct header spare = t->old[OLD_HEADERS - 1];
	size_t i, j;

	/* The current header is kept; the oldest lends its buffers. */
	memmove(&t->old[1], &t->old[0], (OLD_HEADERS - 1) * sizeof(t->old[0]));
	t->old[0] = t->hdr;
	t->hdr = spare;
	t->hdr.names.len = 0;
	t->hdr.row.len = 0;
	if (t->ncell > t->hdr.cap) {
		t->hdr.cap = t->ncell;
		t->hdr.span = ecs_xrealloc(t->hdr.span,
		    t->hdr.cap * sizeof(*t->hdr.span));
		t->hdr.gap = ecs_xrealloc(t->hdr.gap,
		    t->hdr.cap * sizeof(*t->hdr.gap));
	}
	/* fast_row compares names with the line's bytes: no escapes there. */
	t->hdr.fast = t->ncell > 0;
	for (i = 0; i < t->ncell; i++) {
		c = &t->cell[i];
		bytes_addc(&t->hdr.names, i == 0 ? '{' : ',');
		bytes_addc(&t->hdr.names, '"');
		t->hdr.span[i] = (struct span){ t->hdr.names.len, c->name_len };
		bytes_add(&t->hdr.names, c->name, c->name_len);
		bytes_add(&t->hdr.names, "\":", 2);
		for (j = 0; j < c->name_len; j++)
			if (c->name[j] == '\\' || c->name[j] == '"' ||
			    (unsigned char)c->name[j] < 0x20)
				t->hdr.fast = false;
	}
	/* Zeros after the last name, which make_gaps may read as a word. */
	bytes_add(&t->hdr.names, "\0\0\0\0\0\0\0\0", 8);
	t->hdr.names.len -= 8;
	t->hdr.n = t->ncell;
	make_gaps(&t->hdr);
	t->have_header = true;
}

/* CSV and TSV */

/*
 * Writes s[0..n) at o, and returns the end; o has room for 2n + 2 bytes.
 * CSV: RFC 4180 quotes where Miller puts them, around a field holding a
 * comma, a double quote, CR or LF, and around the field \. alone. TSV:
 * Miller's escapes \t \n \r and \\ for a backslash.
 */
static char *
put_raw(enum ecs_output_format f, char *o, const char *s, size_t n)
{
	size_t i = 0;

	if (f == ECS_OUTPUT_CSV) {
		while (i < n && !is_special_csv((unsigned char)s[i]))
			i++;
		if (i == n && !(n == 2 && s[0] == '\\' && s[1] == '.')) {
			memcpy(o, s, n);
			return o + n;
		}
		*o++ = '"';
		for (i = 0; i < n; i++) {
			if (s[i] == '"')
				*o++ = '"';
			*o++ = s[i];
		}
		*o++ = '"';
		return o;
	}
	for (i = 0; i < n; i++) {
		if (s[i] == '\t' || s[i] == '\n' || s[i] == '\r' ||
		    s[i] == '\\') {
			*o++ = '\\';
			*o++ = s[i] == '\t' ? 't' : s[i] == '\n' ? 'n' :
			    s[i] == '\r' ? 'r' : '\\';
		} else
			*o++ = s[i];
	}
	return o;
}

/*
 * The header's names as a row at o, which has room for 2 * names.len + 1
 * bytes (names has four bytes more than each name). The row is made once
 * per header: events of two kinds may change headers every few lines.
 */
static char *
put_header(struct ecs_table *t, char *o)
{
	struct bytes *row = &t->hdr.row;
	char *r;
	size_t i;

	if (row->len == 0) {
		if (row->cap < 2 * t->hdr.names.len + 1) {
			row->cap = 2 * t->hdr.names.len + 1;
			row->p = ecs_xrealloc(row->p, row->cap);
		}
		r = row->p;
		for (i = 0; i < t->hdr.n; i++) {
			if (i > 0)
				*r++ = t->format == ECS_OUTPUT_CSV ? ',' : '\t';
			r = put_raw(t->format, r, t->hdr.names.p +
			    t->hdr.span[i].off, t->hdr.span[i].len);
		}
		*r++ = '\n';
		row->len = (size_t)(r - row->p);
	}
	memcpy(o, row->p, row->len);
	return o + row->len;
}

/*
 * Where a row of at most room bytes is written in t->out, after an empty
 * line and the header when it starts a new block.
 */
static char *
row_begin(struct ecs_table *t, size_t room, bool new_block)
{
	char *o;

	if (new_block)
		room += 2 * t->hdr.names.len + 2;
	if (t->out.cap < room) {
		t->out.cap = room;
		t->out.p = ecs_xrealloc(t->out.p, t->out.cap);
	}
	o = t->out.p;
	if (new_block) {		/* csvlite's rule, as write_delimited */
		if (!t->just_wrote_empty)
			*o++ = '\n';
		o = put_header(t, o);
	}
	return o;
}

/* One field of a row (after its separator unless first), as put_raw. */
static void
put_field(struct ecs_table *t, const char *s, size_t n, bool first)
{
	if (2 * n + 3 > t->out.cap - t->out.len) {
		t->out.cap = t->out.cap * 2 + 2 * n + 3;
		t->out.p = ecs_xrealloc(t->out.p, t->out.cap);
	}
	if (!first)
		t->out.p[t->out.len++] = t->format == ECS_OUTPUT_CSV ? ',' :
		    '\t';
	t->out.len = (size_t)(put_raw(t->format, t->out.p + t->out.len, s,
	    n) - t->out.p);
}

/* Eight bytes at a time: whether the word w holds the byte c. */
#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

#define LOW_NIBBLES	0x0f0f0f0f0f0f0f0fULL

/*
 * The word at p with its first byte lowest, as on a little-endian machine,
 * so that first_marked finds the first byte.
 */
static uint64_t
load_word(const char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

/*
 * Marks (high bit) the bytes of w that are c. The lowest mark is exact;
 * a borrow may set false marks above it, so only the first one counts.
 */
static uint64_t
has_byte(uint64_t w, unsigned char c)
{
	w ^= ONES * c;
	return (w - ONES) & ~w & HIGHS;
}

/*
 * Marks the bytes of w below 0x20 (the first one exactly, as has_byte):
 * a JSON string holds none raw, so a line with one is not JSON.
 */
static uint64_t
control_bytes(uint64_t w)
{
	return (w - ONES * 0x20) & ~w & HIGHS;
}

/* Marks (high bit, exactly) the bytes of w that are not ASCII digits. */
static uint64_t
non_digits(uint64_t w)
{
	uint64_t z = ((w & ~LOW_NIBBLES) ^ (ONES * '0')) |
	    (((w & LOW_NIBBLES) + ONES * 6) & ~LOW_NIBBLES);

	return (((z & ~HIGHS) + ~HIGHS) | z) & HIGHS;
}

/* The index of the first marked byte of a word from load_word; m != 0. */
static size_t
first_marked(uint64_t m)
{
	return (size_t)__builtin_ctzll(m) / 8;
}

/*
 * Copies a number, true, false or null at *pp to o, digits eight at a
 * time, and returns the end of the copy; o has room for 8 bytes more than
 * the copy.
 */
static char *
copy_literal(const char **pp, const char *e, char *o)
{
	const char *p = *pp;
	uint64_t m;
	size_t n;

	while (e - p >= 8) {
		m = non_digits(load_word(p));
		memcpy(o, p, 8);
		n = m != 0 ? first_marked(m) : 8;
		p += n;
		o += n;
		if (n < 8) {
			if (!is_literal_char(*p))
				break;
			p++;			/* . - e and letters */
			o++;
		}
	}
	for (; p < e && is_literal_char(*p); p++)
		*o++ = *p;
	*pp = p;
	return o;
}

/* Whether a[0..n) and b[0..n) are the same: names are short, so words. */
static bool
same_bytes(const char *a, const char *b, size_t n)
{
	uint64_t wa, wb;
	size_t j;

	if (n < 8) {
		for (j = 0; j < n && a[j] == b[j]; j++)
			;
		return j == n;
	}
	for (j = 0; j + 8 <= n; j += 8) {
		memcpy(&wa, a + j, 8);
		memcpy(&wb, b + j, 8);
		if (wa != wb)
			return false;
	}
	/* The last word overlaps the one before. */
	memcpy(&wa, a + n - 8, 8);
	memcpy(&wb, b + n - 8, 8);
	return wa == wb;
}

/*
 * The key at p as fast_row expects it, k[0..n + 4) ({ or , then "name":),
 * with spaces around its parts: the value after it, or NULL.
 */
static const char *
skip_key(const char *p, const char *e, const char *k, size_t n)
{
	p = skip_ws(p, e);
	if (p == e || *p++ != k[0])
		return NULL;
	p = skip_ws(p, e);
	if ((size_t)(e - p) < n + 2 || *p != '"' ||
	    !same_bytes(p + 1, k + 2, n) || p[n + 1] != '"')
		return NULL;
	p = skip_ws(p + n + 2, e);
	if (p == e || *p++ != ':')
		return NULL;
	p = skip_ws(p, e);
	return p == e ? NULL : p;
}

/*
 * The common case at full speed: a record whose keys are the header's, in
 * order, with flat values and no escapes, written as a row straight from
 * the line, after the header when it starts a new block. False, having
 * written nothing, for anything else.
 */
static bool
fast_row(struct ecs_table *t, const char *p, size_t len, bool new_block)
{
	const char *e = p + len, *v, *k;
	/* Read once: the compiler must assume a store to o changes *t. */
	const char *names = t->hdr.names.p;
	const struct span *head = t->hdr.span, *h;
	size_t i, nhead = t->hdr.n;
	bool csv = t->format == ECS_OUTPUT_CSV;
	/*
	 * In a string, what ends a plain copy: a raw control byte too, which
	 * makes the line not JSON (only hostile bytes given to the writer
	 * hold one; the full walk then decides, as for any other line).
	 */
	unsigned char stop = csv ? C_STOP | C_CSV | C_CONTROL :
	    C_STOP | C_CONTROL;
	char *o, *field;
	uint64_t w, m;

	if (!t->hdr.fast)
		return false;
	/*
	 * A field is at most twice its text in the line, quotes included,
	 * and a copy by words may write 8 bytes beyond the row.
	 */
	o = row_begin(t, 2 * len + 10, new_block);
	for (i = 0; i < nhead; i++) {
		h = &head[i];
		k = names + h->off - 2;		/* {"name": or ,"name": */
		if ((size_t)(e - p) > h->len + 4 &&
		    same_bytes(p, k, h->len + 4)) {
			p += h->len + 4;
			if (byte_class[(unsigned char)*p] & C_SPACE &&
			    (p = skip_ws(p, e)) == e)
				return false;
		} else if ((p = skip_key(p, e, k, h->len)) == NULL)
			return false;
		if (i > 0)
			*o++ = csv ? ',' : '\t';
		if (*p == '"') {
			/* Copied as it is scanned, until a quote or a comma. */
			field = o;
			for (v = ++p; e - p >= 8; p += 8, o += 8) {
				w = load_word(p);
				memcpy(o, p, 8);
				m = has_byte(w, '"') | has_byte(w, '\\') |
				    control_bytes(w) |
				    (csv ? has_byte(w, ',') : 0);
				if (m != 0) {
					p += first_marked(m);
					o += first_marked(m);
					break;
				}
			}
			for (; p < e && !(byte_class[(unsigned char)*p] &
			    stop); p++)
				*o++ = *p;
			if (p < e && byte_class[(unsigned char)*p] & C_CONTROL)
				return false;
			if (p < e && *p != '"') {	/* a comma: quote it */
				while (p < e && !(byte_class[(unsigned char)*p] &
				    (C_STOP | C_CONTROL)))
					p++;
				if (p < e && byte_class[(unsigned char)*p] &
				    C_CONTROL)
					return false;
				if (p < e && *p == '"')
					o = put_raw(t->format, field, v,
					    (size_t)(p - v));
			}
			if (p == e || *p++ != '"')
				return false;	/* an escape */
		} else {
			v = p;
			o = copy_literal(&p, e, o);
			if (p == v)
				return false;
		}
	}
	p = skip_ws(p, e);
	if (p == e || *p++ != '}' || skip_ws(p, e) != e)
		return false;
	*o++ = '\n';
	t->just_wrote_empty = false;
	t->write(t->out.p, (size_t)(o - t->out.p));
	return true;
}

/* The word of the n < 8 first bytes of a load_word: its n low bytes. */
static uint64_t
low_bytes(size_t n)
{
	return n >= 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * n)) - 1;
}

/* The key gaps of h, once its names are complete (they do not move). */
static void
make_gaps(struct header *h)
{
	struct key_gap *g;
	size_t i;

	for (i = 0; i < h->n; i++) {
		g = &h->gap[i];
		g->key = h->names.p + h->span[i].off - 2;
		g->len = h->span[i].len + 4;
		/* names is padded: a word at key is always readable. */
		g->mask = low_bytes(g->len);
		g->head = load_word(g->key) & g->mask;
		g->tail = g->len >= 8 ? load_word(g->key + g->len - 8) : 0;
	}
}

/*
 * Whether the bytes at p, in a line that ends at end, are the gap g: up
 * to 16 bytes, as most are, in one or two words.
 */
static inline bool
gap_at(const char *p, const struct key_gap *g, const char *end)
{
	/* The second word overlaps the first; both are in the gap. */
	if (g->len >= 8 && g->len <= 16)
		return load_word(p) == g->head &&
		    load_word(p + g->len - 8) == g->tail;
	if (g->len < 8 && end - p >= 8)
		return (load_word(p) & g->mask) == g->head;
	return same_bytes(p, g->key, g->len);
}

/*
 * Copies s[0..n), in a line that ends at end, to o, which has room for 8
 * bytes more, by words: from 8 bytes on, whole words and then the last 8
 * bytes, which may overlap the word before; a shorter run as one word
 * where the line has 8 bytes from s. When find_comma, returns whether
 * s[0..n) holds a comma; else false.
 */
static inline bool
copy_run(char *o, const char *s, size_t n, const char *end, bool find_comma)
{
	uint64_t commas = 0;
	size_t j;

	if (n < 8 && end - s >= 8) {
		memcpy(o, s, 8);
		return find_comma &&
		    (has_byte(load_word(s), ',') & low_bytes(n)) != 0;
	}
	if (n < 8) {				/* at the end of the line */
		for (j = 0; j < n; j++) {
			o[j] = s[j];
			commas |= find_comma && s[j] == ',';
		}
		return commas != 0;
	}
	for (j = 0; j + 8 < n; j += 8) {
		memcpy(o + j, s + j, 8);
		if (find_comma)
			commas |= has_byte(load_word(s + j), ',');
	}
	memcpy(o + n - 8, s + n - 8, 8);
	if (find_comma)
		commas |= has_byte(load_word(s + n - 8), ',');
	return commas != 0;
}

/*
 * Writes at o the field of the scalar v[0..vend) of a plain line, which
 * ends at end, and returns the end of the field; o has room for 8 bytes
 * more than the field. A string of a plain line holds no quote, backslash
 * or control byte, so only a comma makes a CSV field quoted, and TSV has
 * nothing to escape; a number, true, false or null is written as it is.
 */
static inline char *
put_plain(char *o, const char *v, const char *vend, const char *end,
    bool csv)
{
	size_t n = (size_t)(vend - v);

	if (*v != '"') {
		copy_run(o, v, n, end, false);
		return o + n;
	}
	v++;
	n -= 2;
	if (!csv) {
		copy_run(o, v, n, end, false);
		return o + n;
	}
	if (copy_run(o, v, n, end, true)) {
		*o = '"';
		memcpy(o + 1, v, n);
		o[n + 1] = '"';
		return o + n + 2;
	}
	return o + n;
}

/*
 * fast_row for a line whose top-level values the scan found (tops, with n
 * > 0): between one value and the next there must be exactly the
 * header's next key as fast_row expects it (no spaces), {"name": or
 * ,"name":. False, having written nothing, for anything else.
 */
static inline __attribute__((always_inline)) bool
tops_row_as(struct ecs_table *t, const struct ecs_scan_tops *tops,
    bool new_block, bool csv)
{
	const struct ecs_scan_member *m = tops->m;
	const struct key_gap *gap = t->hdr.gap;
	const char *end = tops->line + tops->len, *prev = tops->line;
	size_t i, nhead = t->hdr.n;
	char *o;

	if (!t->hdr.fast || tops->n != nhead)
		return false;
	/*
	 * Each field is at most its text, two quotes and a separator, and a
	 * copy by words may write 8 bytes beyond the row.
	 */
	o = row_begin(t, tops->len + 3 * nhead + 10, new_block);
	for (i = 0; i < nhead; i++) {
		if ((size_t)(m[i].val - prev) != gap[i].len ||
		    !gap_at(prev, &gap[i], end))
			return false;
		o = put_plain(o, m[i].val, m[i].end, end, csv);
		*o++ = csv ? ',' : '\t';
		prev = m[i].end;
	}
	o[-1] = '\n';			/* for the last separator */
	t->just_wrote_empty = false;
	t->write(t->out.p, (size_t)(o - t->out.p));
	return true;
}

/* tops_row_as, made once for CSV and once for TSV: a constant in its loop. */
static bool
tops_row(struct ecs_table *t, const struct ecs_scan_tops *tops,
    bool new_block)
{
	if (t->format == ECS_OUTPUT_CSV)
		return tops_row_as(t, tops, new_block, true);
	return tops_row_as(t, tops, new_block, false);
}

/* Miller's csvlite writer: one empty line before each new header block. */
static void
write_delimited(struct ecs_table *t)
{
	size_t i;

	t->out.len = 0;
	if (t->ncell == 0) {
		if (!t->just_wrote_empty)
			bytes_addc(&t->out, '\n');
		t->just_wrote_empty = true;
		set_header(t);
	} else {
		if (!same_keys(t)) {
			merge_duplicates(t);
			if (!same_keys(t)) {
				if (t->have_header && !t->just_wrote_empty)
					bytes_addc(&t->out, '\n');
				set_header(t);
				if (2 * t->hdr.names.len + 1 >
				    t->out.cap - t->out.len) {
					t->out.cap += 2 * t->hdr.names.len + 1;
					t->out.p = ecs_xrealloc(t->out.p,
					    t->out.cap);
				}
				t->out.len = (size_t)(put_header(t,
				    t->out.p + t->out.len) - t->out.p);
			}
		}
		for (i = 0; i < t->ncell; i++)
			put_field(t, t->cell[i].val, t->cell[i].val_len,
			    i == 0);
		bytes_addc(&t->out, '\n');
		t->just_wrote_empty = false;
	}
	t->write(t->out.p, t->out.len);
}

/* Aligned table */

/* Width on a terminal, as Miller counts it: UTF-8 characters. */
static size_t
text_width(const char *s, size_t n)
{
	size_t i, w = 0;

	for (i = 0; i < n; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

static void
pad(struct bytes *out, size_t n)
{
	while (n-- > 0)
		bytes_addc(out, ' ');
}

/* One line of cells padded to width; empty values as "-" unless a header. */
static void
put_aligned(struct ecs_table *t, const char *base, const struct span *s,
    const size_t *width, bool header)
{
	size_t i, w;

	for (i = 0; i < t->hdr.n; i++) {
		if (s[i].len == 0 && !header) {
			bytes_addc(&t->out, '-');
			w = 1;
		} else {
			bytes_add(&t->out, base + s[i].off, s[i].len);
			w = text_width(base + s[i].off, s[i].len);
		}
		if (i + 1 < t->hdr.n) {
			pad(&t->out, width[i] > w ? width[i] - w : 0);
			bytes_addc(&t->out, ' ');
		}
	}
	bytes_addc(&t->out, '\n');
}

/*
 * Writes the rows held. Rows that fit the widths already printed continue
 * that table; otherwise a new table with its header starts, after an empty
 * line when one was printed before.
 */
static void
table_flush(struct ecs_table *t)
{
	size_t *w, i, r, cw;
	bool fits = t->printed;

	if (t->nheld == 0 || t->hdr.n == 0) {
		t->nheld = 0;
		t->held.len = 0;
		return;
	}
	w = ecs_xcalloc(t->hdr.n, sizeof(*w));
	for (i = 0; i < t->hdr.n; i++)
		w[i] = text_width(t->hdr.names.p + t->hdr.span[i].off,
		    t->hdr.span[i].len);
	for (r = 0; r < t->nheld; r++) {
		for (i = 0; i < t->hdr.n; i++) {
			const struct span *v = &t->hval[r * t->hdr.n + i];

			cw = v->len == 0 ? 1 : text_width(t->held.p + v->off,
			    v->len);
			if (cw > w[i])
				w[i] = cw;
		}
	}
	for (i = 0; fits && i + 1 < t->hdr.n; i++)
		fits = w[i] <= t->width[i];
	t->out.len = 0;
	if (!fits) {
		if (t->printed)
			bytes_addc(&t->out, '\n');
		free(t->width);
		t->width = w;
		w = NULL;
		put_aligned(t, t->hdr.names.p, t->hdr.span, t->width, true);
		t->printed = true;
	}
	free(w);
	for (r = 0; r < t->nheld; r++)
		put_aligned(t, t->held.p, &t->hval[r * t->hdr.n], t->width,
		    false);
	t->write(t->out.p, t->out.len);
	t->nheld = 0;
	t->held.len = 0;
}

/* Ends the current table: Miller writes an empty line after a non-empty one. */
static void
table_end(struct ecs_table *t)
{
	table_flush(t);
	if (t->printed)
		t->write("\n", 1);
	t->printed = false;
	free(t->width);
	t->width = NULL;
}

static void
table_hold(struct ecs_table *t)
{
	size_t i;

	if (!same_keys(t)) {
		merge_duplicates(t);
		if (!same_keys(t)) {
			if (t->have_header)
				table_end(t);
			set_header(t);
		}
	}
	if ((t->nheld + 1) * t->hdr.n > t->hvalcap) {
		t->hvalcap = (t->nheld + 1) * t->hdr.n * 2;
		t->hval = ecs_xrealloc(t->hval, t->hvalcap * sizeof(*t->hval));
	}
	for (i = 0; i < t->ncell; i++) {
		t->hval[t->nheld * t->hdr.n + i] = (struct span){ t->held.len,
		    t->cell[i].val_len };
		bytes_add(&t->held, t->cell[i].val, t->cell[i].val_len);
	}
	t->nheld++;
}

/* tops_row when the scan found the line's members, else fast_row. */
static bool
any_row(struct ecs_table *t, const char *line, size_t len,
    const struct ecs_scan_tops *tops, bool new_block)
{
	if (tops != NULL)
		return tops_row(t, tops, new_block);
	return fast_row(t, line, len, new_block);
}

/*
 * A fast row under the current header, or else under one before it, which
 * then starts a new block and becomes the current one.
 */
static bool
fast_row_any(struct ecs_table *t, const char *line, size_t len,
    const struct ecs_scan_tops *tops)
{
	struct header h;
	size_t i;

	if (any_row(t, line, len, tops, false))
		return true;
	for (i = 0; i < OLD_HEADERS; i++) {
		if (!t->old[i].fast)
			continue;
		h = t->hdr;
		t->hdr = t->old[i];
		t->old[i] = h;
		if (any_row(t, line, len, tops, true))
			return true;
		t->old[i] = t->hdr;
		t->hdr = h;
	}
	return false;
}

bool
ecs_table_line(struct ecs_table *t, const char *line, size_t len)
{
	return ecs_table_line_tops(t, line, len, NULL);
}

bool
ecs_table_line_tops(struct ecs_table *t, const char *line, size_t len,
    const struct ecs_scan_tops *tops)
{
	static const char *names[] = { "ndjson", "csv", "tsv", "table" };

	t->nline++;
	/* Members of another line, or none to go by ({} or too many). */
	if (tops != NULL && (tops->line != line || tops->len != len ||
	    tops->n == 0))
		tops = NULL;
	if (t->format != ECS_OUTPUT_TABLE &&
	    fast_row_any(t, line, len, tops))
		return true;
	if (!scan_record(t, line, len)) {
		warnx("output record %llu is not a JSON object: not written "
		    "as %s", t->nline, names[t->format]);
		t->status = ECS_EXIT_DATA;
		return false;
	}
	if (t->format == ECS_OUTPUT_TABLE)
		table_hold(t);
	else
		write_delimited(t);
	return true;
}

void
ecs_table_flush(struct ecs_table *t)
{
	if (t->format == ECS_OUTPUT_TABLE)
		table_flush(t);
}

int
ecs_table_destroy(struct ecs_table *t)
{
	size_t i;
	int status;

	if (t == NULL)
		return ECS_EXIT_OK;
	/* The last table ends the output: no empty line after it. */
	if (t->format == ECS_OUTPUT_TABLE)
		table_flush(t);
	status = t->status;
	free(t->text.p);
	free(t->path.p);
	free(t->cell);
	free(t->mem);
	free(t->hdr.names.p);
	free(t->hdr.span);
	free(t->hdr.row.p);
	free(t->hdr.gap);
	for (i = 0; i < OLD_HEADERS; i++) {
		free(t->old[i].names.p);
		free(t->old[i].span);
		free(t->old[i].row.p);
		free(t->old[i].gap);
	}
	free(t->held.p);
	free(t->hval);
	free(t->width);
	free(t->out.p);
	free(t);
	return status;
}
