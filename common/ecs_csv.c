/* SPDX-License-Identifier: ISC */
/*
 * ecs_csv.c -- CSV and TSV input (-i csv, -i tsv): each row becomes one
 * NDJSON line, so the rest of a program (fast field scans, expressions,
 * verbatim output) reads it as it reads NDJSON. The first row of each input
 * is the header. CSV is RFC 4180: quoted fields, doubled quotes, newlines
 * inside quotes (a row then spans lines and is named by its first), CRLF.
 * TSV has no quoting; \t, \n, \r and \\ in a field stand for the character.
 * Values are typed as Miller 6 infers them from data, so that a row reads
 * as `mlr --icsv --ojsonl cat` gives it: integers and decimals are numbers
 * written as they came (1.50 stays 1.50, so exact sums stay exact), all
 * else, "true" and "007" included, is a string.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"

/* A growing byte string. */
struct text {
	char	*p;
	size_t	 n, cap;
};

struct ecs_csv {
	char		 sep;		/* ',' or '\t' */
	int		 file;		/* rd->next_file of the input read */
	bool		 need_header;
	/* The line of this input's header when it was bad: rows have no names. */
	unsigned long long bad_header;
	struct text	 keys;		/* "name": for each header field */
	size_t		*key_off;	/* where each starts in keys */
	size_t		 nkeys;
	struct text	 row;		/* a row that spans lines, joined by \n */
	struct text	 vals;		/* the decoded fields of a row */
	size_t		*val_off;	/* nvals + 1 offsets into vals */
	size_t		 nvals, val_cap;
	struct text	 json;		/* the row as an NDJSON line */
	bool		 pending;	/* pend_line is read but not yet used */
	char		*pend_line;
	size_t		 pend_len;
	unsigned long long pend_lineno;
	char		 why[160];	/* why a row is bad */
};

/* The state of the quote scanner between the characters of a row. */
enum quote_state { Q_FIELD, Q_PLAIN, Q_QUOTED, Q_QUOTE_IN_QUOTED };

static void
text_add(struct text *t, const void *p, size_t n)
{
	if (t->n + n + 1 > t->cap) {
		t->cap = t->cap * 2 > t->n + n + 1 ? t->cap * 2 : t->n + n + 64;
		t->p = ecs_xrealloc(t->p, t->cap);
	}
	memcpy(t->p + t->n, p, n);
	t->n += n;
	t->p[t->n] = '\0';
}

static void
text_addc(struct text *t, char c)
{
	text_add(t, &c, 1);
}

struct ecs_csv *
ecs_csv_create(char sep)
{
	struct ecs_csv *c = ecs_xcalloc(1, sizeof(*c));

	c->sep = sep;
	c->file = -1;
	/* Never NULL: a row of empty fields is read at vals.p + 0. */
	text_add(&c->vals, "", 0);
	return c;
}

void
ecs_csv_free(struct ecs_csv *c)
{
	if (c == NULL)
		return;
	free(c->keys.p);
	free(c->key_off);
	free(c->row.p);
	free(c->vals.p);
	free(c->val_off);
	free(c->json.p);
	free(c);
}

/* The quote state after p[0..n), from state q (RFC 4180). */
static enum quote_state
scan_quotes(const char *p, size_t n, char sep, enum quote_state q)
{
	for (; n > 0; n--, p++) {
		switch (q) {
		case Q_FIELD:
			q = *p == '"' ? Q_QUOTED : *p == sep ? Q_FIELD : Q_PLAIN;
			break;
		case Q_PLAIN:
			if (*p == sep)
				q = Q_FIELD;
			break;
		case Q_QUOTED:
			if (*p == '"')
				q = Q_QUOTE_IN_QUOTED;
			break;
		case Q_QUOTE_IN_QUOTED:	/* a doubled quote or the closing one */
			q = *p == '"' ? Q_QUOTED : *p == sep ? Q_FIELD : Q_PLAIN;
			break;
		}
	}
	return q;
}

/* Ends the field that started at val_off[nvals]. */
static void
end_value(struct ecs_csv *c)
{
	if (c->nvals + 2 > c->val_cap) {
		c->val_cap = c->val_cap * 2 + 16;
		c->val_off = ecs_xrealloc(c->val_off,
		    c->val_cap * sizeof(*c->val_off));
	}
	c->val_off[++c->nvals] = c->vals.n;
}

/*
 * Splits a whole CSV row p[0..n) into c->vals; false with c->why when it
 * breaks RFC 4180 (a stray quote, text after a closing quote).
 */
static bool
split_csv(struct ecs_csv *c, const char *p, size_t n)
{
	const char *end = p + n, *q;

	for (;;) {
		if (p < end && *p == '"') {
			for (p++;; p = q + 2) {
				q = memchr(p, '"', (size_t)(end - p));
				if (q == NULL) {
					snprintf(c->why, sizeof(c->why), "field %zu: "
					    "quote not closed", c->nvals + 1);
					return false;
				}
				text_add(&c->vals, p, (size_t)(q - p));
				if (q + 1 == end || q[1] != '"')
					break;
				text_addc(&c->vals, '"');
			}
			p = q + 1;
			if (p < end && *p != c->sep) {
				snprintf(c->why, sizeof(c->why), "field %zu: text "
				    "after the closing quote", c->nvals + 1);
				return false;
			}
		} else {
			for (q = p; q < end && *q != c->sep; q++)
				if (*q == '"') {
					snprintf(c->why, sizeof(c->why), "field "
					    "%zu: a quote inside an unquoted field "
					    "(quote the field and double the quote)",
					    c->nvals + 1);
					return false;
				}
			text_add(&c->vals, p, (size_t)(q - p));
			p = q;
		}
		end_value(c);
		if (p == end)
			return true;
		p++;		/* the separator */
	}
}

/* Splits a TSV row p[0..n) into c->vals, decoding \t \n \r \\ as Miller. */
static void
split_tsv(struct ecs_csv *c, const char *p, size_t n)
{
	const char *end = p + n;
	char e;

	if (n == 0)
		return;		/* no field at all: Miller's count is 0 */
	for (; p < end; p++) {
		if (*p == '\t')
			end_value(c);
		else if (*p == '\\' && p + 1 < end &&
		    (e = p[1] == 't' ? '\t' : p[1] == 'n' ? '\n' :
		    p[1] == 'r' ? '\r' : p[1] == '\\' ? '\\' : 0) != 0) {
			text_addc(&c->vals, e);
			p++;
		} else
			text_addc(&c->vals, *p);
	}
	end_value(c);
}

static bool
split_row(struct ecs_csv *c, const char *p, size_t n)
{
	if (c->val_off == NULL) {
		c->val_cap = 16;
		c->val_off = ecs_xmalloc(c->val_cap * sizeof(*c->val_off));
	}
	c->vals.n = 0;
	c->nvals = 0;
	c->val_off[0] = 0;
	if (c->sep == '\t') {
		split_tsv(c, p, n);
		return true;
	}
	return split_csv(c, p, n);
}

/* The length of the UTF-8 sequence at p[0..n), or 0 when it is not one. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and past U+10FFFF are not UTF-8. */
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* Appends s[0..n) as a JSON string; false when it is not UTF-8. */
static bool
add_json_string(struct text *t, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const char *end = s + n;
	size_t len;
	unsigned char ch;

	text_addc(t, '"');
	while (s < end) {
		ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\') {
			text_addc(t, '\\');
			text_addc(t, (char)ch);
		} else if (ch == '\n' || ch == '\r' || ch == '\t') {
			text_addc(t, '\\');
			text_addc(t, ch == '\n' ? 'n' : ch == '\r' ? 'r' : 't');
		} else if (ch < 0x20) {
			char esc[6] = { '\\', 'u', '0', '0', hex[ch >> 4],
			    hex[ch & 15] };
			text_add(t, esc, sizeof(esc));
		} else {
			if ((len = utf8_len((const unsigned char *)s,
			    (size_t)(end - s))) == 0)
				return false;
			text_add(t, s, len);
			s += len;
			continue;
		}
		s++;
	}
	text_addc(t, '"');
	return true;
}

static size_t
span_digits(const char *s, const char *end, int base)
{
	const char *p = s;

	for (; p < end; p++)
		if (!(base == 16 ? isxdigit((unsigned char)*p) :
		    *p >= '0' && *p < '0' + base))
			break;
	return (size_t)(p - s);
}

enum infer { INFER_STRING, INFER_NUMBER, INFER_BAD };

/*
 * An integer in base 16, 2 or 8 after its 0x, 0b or 0o: Miller reads up to
 * 64 bits and a value past 2^63-1 as negative (two's complement), which
 * would be a silent wrong answer here, so that is a bad row.
 */
static enum infer
infer_prefixed(struct ecs_csv *c, const char *digits, size_t n, bool neg,
    int base, struct text *out)
{
	uint64_t v = 0;
	size_t i;
	int d, bits = base == 16 ? 4 : base == 8 ? 3 : 1;
	char num[24];

	for (i = 0; i < n; i++) {
		d = isdigit((unsigned char)digits[i]) ? digits[i] - '0' :
		    tolower((unsigned char)digits[i]) - 'a' + 10;
		if (v >> (64 - bits) != 0)
			return INFER_STRING;	/* past 64 bits: Miller too */
		v = v << bits | (uint64_t)d;
	}
	if (v > (uint64_t)INT64_MAX + neg) {
		snprintf(c->why, sizeof(c->why), "%.*s is past 2^63-1 (Miller "
		    "reads it as a negative number)", (int)(n + 2 + neg),
		    digits - 2 - neg);
		return INFER_BAD;
	}
	snprintf(num, sizeof(num), "%s%" PRIu64, neg && v > 0 ? "-" : "", v);
	text_add(out, num, strlen(num));
	return INFER_NUMBER;
}

/*
 * Appends the JSON number Miller 6 infers from s[0..n): a decimal integer
 * of 64 bits without leading zeros (written as it came), 0x/0b/0o integers
 * (written in decimal), or a decimal with a point or an exponent, finite
 * (written as it came, with the 0 JSON needs around a bare point and
 * without the leading zeros it forbids). No leading '+', no Inf or NaN.
 */
static enum infer
infer_number(struct ecs_csv *c, const char *s, size_t n, struct text *out)
{
	const char *p = s, *end = s + n, *intpart, *frac = NULL, *exp = NULL;
	size_t nint, nfrac = 0, nexp;
	bool neg = false;
	char *copy;
	double d;

	if (p < end && *p == '-')
		neg = true, p++;
	if (end - p > 2 && p[0] == '0' && strchr("xXbBoO", p[1]) != NULL) {
		int base = tolower((unsigned char)p[1]) == 'x' ? 16 :
		    tolower((unsigned char)p[1]) == 'b' ? 2 : 8;
		if (span_digits(p + 2, end, base) != (size_t)(end - p - 2))
			return INFER_STRING;
		return infer_prefixed(c, p + 2, (size_t)(end - p - 2), neg,
		    base, out);
	}
	intpart = p;
	p += nint = span_digits(p, end, 10);
	if (p < end && *p == '.') {
		frac = ++p;
		p += nfrac = span_digits(p, end, 10);
	}
	if (nint + nfrac == 0)
		return INFER_STRING;
	if (p < end && (*p == 'e' || *p == 'E')) {
		exp = p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if ((nexp = span_digits(p, end, 10)) == 0)
			return INFER_STRING;
		p += nexp;
	}
	if (p != end)
		return INFER_STRING;
	if (frac == NULL && exp == NULL) {
		/* An integer: no leading zero, and it fits in 64 bits. */
		if ((nint > 1 && intpart[0] == '0') || nint > 19)
			return INFER_STRING;
		copy = ecs_xstrndup(s, n);
		errno = 0;
		(void)strtoll(copy, NULL, 10);
		free(copy);
		if (errno == ERANGE)
			return INFER_STRING;
		text_add(out, s, n);
		return INFER_NUMBER;
	}
	copy = ecs_xstrndup(s, n);
	d = strtod(copy, NULL);
	free(copy);
	if (isinf(d))
		return INFER_STRING;	/* 1e999: Miller keeps it a string */
	if (neg)
		text_addc(out, '-');
	while (nint > 1 && intpart[0] == '0')
		intpart++, nint--;
	if (nint == 0)
		text_addc(out, '0');
	text_add(out, intpart, nint);
	if (frac != NULL) {
		text_addc(out, '.');
		if (nfrac == 0)
			text_addc(out, '0');
		text_add(out, frac, nfrac);
	}
	if (exp != NULL)
		text_add(out, exp, (size_t)(end - exp));
	return INFER_NUMBER;
}

/*
 * Takes the row in c->vals as the header: "name": texts in c->keys, a
 * repeated name renamed name_2, name_3 as Miller does.
 */
static bool
take_header(struct ecs_csv *c)
{
	struct text name = { 0 };
	size_t i, j, k, len;
	bool ok = true;
	char suffix[24];

	c->keys.n = 0;
	c->nkeys = 0;
	c->key_off = ecs_xrealloc(c->key_off,
	    (c->nvals + 1) * sizeof(*c->key_off));
	for (i = 0; i < c->nvals && ok; i++) {
		len = c->val_off[i + 1] - c->val_off[i];
		for (k = 1;; k++) {
			name.n = 0;
			if (!add_json_string(&name, c->vals.p + c->val_off[i],
			    len)) {
				snprintf(c->why, sizeof(c->why), "field %zu: "
				    "invalid UTF-8", i + 1);
				ok = false;
				break;
			}
			if (k > 1) {
				name.n--;	/* reopen the string */
				snprintf(suffix, sizeof(suffix), "_%zu\"", k);
				text_add(&name, suffix, strlen(suffix));
			}
			for (j = 0; j < i; j++)
				if (c->key_off[j + 1] - c->key_off[j] - 1 ==
				    name.n && memcmp(c->keys.p + c->key_off[j],
				    name.p, name.n) == 0)
					break;
			if (j == i)
				break;
		}
		if (!ok)
			break;
		c->key_off[i] = c->keys.n;
		text_add(&c->keys, name.p, name.n);
		text_addc(&c->keys, ':');
		c->key_off[i + 1] = c->keys.n;
		c->nkeys++;
	}
	free(name.p);
	return ok;
}

/* Builds c->json from the row in c->vals; false with c->why when bad. */
static bool
build_json(struct ecs_csv *c)
{
	const char *v;
	size_t i, len;
	enum infer kind;

	if (c->nvals != c->nkeys) {
		snprintf(c->why, sizeof(c->why), "%zu field%s where the header "
		    "has %zu (CSV header/data length mismatch)", c->nvals,
		    c->nvals == 1 ? "" : "s", c->nkeys);
		return false;
	}
	c->json.n = 0;
	text_addc(&c->json, '{');
	for (i = 0; i < c->nvals; i++) {
		if (i > 0)
			text_addc(&c->json, ',');
		text_add(&c->json, c->keys.p + c->key_off[i],
		    c->key_off[i + 1] - c->key_off[i]);
		v = c->vals.p + c->val_off[i];
		len = c->val_off[i + 1] - c->val_off[i];
		if ((kind = infer_number(c, v, len, &c->json)) == INFER_BAD)
			return false;
		if (kind == INFER_STRING &&
		    !add_json_string(&c->json, v, len)) {
			snprintf(c->why, sizeof(c->why), "field %zu: invalid "
			    "UTF-8", i + 1);
			return false;
		}
	}
	text_addc(&c->json, '}');
	return true;
}

enum row { ROW, ROW_END, ROW_BAD };

/* The next line of the input, after a UTF-8 byte order mark; false at its end. */
static bool
next_line(struct ecs_reader *rd, struct ecs_csv *c)
{
	if (c->pending) {
		c->pending = false;
		rd->line = c->pend_line;
		rd->len = c->pend_len;
		rd->lineno = c->pend_lineno;
		return true;
	}
	if (!ecs_reader_raw_line(rd))
		return false;
	if (rd->last_line == 1 && rd->len >= 3 &&
	    memcmp(rd->line, "\xef\xbb\xbf", 3) == 0) {
		rd->line += 3;
		rd->len -= 3;
	}
	return true;
}

/*
 * Reads the lines of the next row into rd->raw, rd->rawlen and rd->line,
 * rd->len, named by its first line. A row that is too long, or still in
 * quotes at the end of the input, is reported as bad: ROW_BAD.
 */
static enum row
read_row(struct ecs_reader *rd, struct ecs_csv *c)
{
	enum quote_state q = Q_QUOTED;
	unsigned long long first, prev;

	if (!next_line(rd, c))
		return ROW_END;
	rd->nlines++;
	rd->raw = rd->line;
	rd->rawlen = rd->len;
	if (rd->len > ecs_config.max_line) {
		ecs_reader_bad(rd, "line longer than %zu bytes (--max-line)",
		    ecs_config.max_line);
		return ROW_BAD;
	}
	if (c->sep == '\t' ||
	    scan_quotes(rd->line, rd->len, ',', Q_FIELD) != Q_QUOTED)
		return ROW;
	/* A newline inside quotes: the row goes on on the next line. */
	first = rd->last_line;
	c->row.n = 0;
	text_add(&c->row, rd->line, rd->len);
	while (q == Q_QUOTED && c->row.n <= ecs_config.max_line) {
		prev = rd->last_line;
		if (!ecs_reader_raw_line(rd))
			break;
		if (rd->last_line != prev + 1) {
			/* An over-long line was skipped: the row is broken. */
			c->pending = true;
			c->pend_line = rd->line;
			c->pend_len = rd->len;
			c->pend_lineno = rd->lineno;
			break;
		}
		text_addc(&c->row, '\n');
		text_add(&c->row, rd->line, rd->len);
		q = scan_quotes(rd->line, rd->len, ',', q);
	}
	rd->lineno = first;
	rd->raw = rd->line = c->row.p;
	rd->rawlen = rd->len = c->row.n;
	if (q != Q_QUOTED)
		return ROW;
	if (c->row.n > ecs_config.max_line)
		ecs_reader_bad(rd, "row longer than %zu bytes (--max-line)",
		    ecs_config.max_line);
	else
		ecs_reader_bad(rd, "quote not closed at the end of the %s",
		    c->pending ? "row (a line in it was too long)" : "input");
	return ROW_BAD;
}

/*
 * The row just reported bad, when it was the header: the rows after it
 * have no names, and are bad too (the next row is not taken as the header,
 * which would lose it and name the others by its values).
 */
static void
header_lost(const struct ecs_reader *rd, struct ecs_csv *c)
{
	if (!c->need_header)
		return;
	c->need_header = false;
	c->bad_header = rd->lineno;
}

bool
ecs_csv_next(struct ecs_reader *rd)
{
	struct ecs_csv *c = rd->csv;
	enum row r;

	if (c->file != rd->next_file) {
		c->file = rd->next_file;	/* a new input, a new header */
		c->need_header = true;
		c->bad_header = 0;
		c->pending = false;
	}
	while ((r = read_row(rd, c)) != ROW_END) {
		if (c->need_header && rd->lineno > 1) {
			/* The reader skipped line 1: too long, or cut short. */
			c->need_header = false;
			c->bad_header = 1;
		}
		if (r == ROW_BAD) {
			header_lost(rd, c);
			continue;
		}
		if (c->bad_header != 0) {
			ecs_reader_bad(rd, "row without names: the header "
			    "(line %llu) is bad", c->bad_header);
			continue;
		}
		if (!split_row(c, rd->raw, rd->rawlen)) {
			ecs_reader_bad(rd, "%s%s", c->need_header ? "header: " :
			    "", c->why);
			header_lost(rd, c);
			continue;
		}
		if (c->need_header) {
			if (!take_header(c)) {
				ecs_reader_bad(rd, "header: %s", c->why);
				header_lost(rd, c);
				continue;
			}
			rd->nlines--;	/* not a record */
			c->need_header = false;
			continue;
		}
		if (!build_json(c)) {
			ecs_reader_bad(rd, "%s", c->why);
			continue;
		}
		rd->line = c->json.p;
		rd->len = c->json.n;
		return true;
	}
	return false;
}
