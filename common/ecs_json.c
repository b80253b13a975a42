/* SPDX-License-Identifier: ISC */
/*
 * ecs_json.c -- numbers as ecs sees them (integers kept exact, a string
 * that is exactly a JSON number counts as that number), string literals,
 * and the rendering of values on standard output. It knows nothing of
 * paths: ecs_path.c uses it (ecs_unquote), not the other way round.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "ecs_buf.h"

#define SERIALIZE_FLAGS	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Length of the JSON number at the start of s[0..len), or 0. */
static size_t
number_span(const char *s, size_t len, bool *is_int)
{
	size_t i = 0, digits;

	*is_int = true;
	if (i < len && s[i] == '-')
		i++;
	if (i < len && s[i] == '0')
		i++;
	else {
		for (digits = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
		if (digits == 0)
			return 0;
	}
	if (i < len && s[i] == '.') {
		*is_int = false;
		for (digits = 0, i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
		if (digits == 0)
			return 0;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		*is_int = false;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		for (digits = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
		if (digits == 0)
			return 0;
	}
	return i;
}

/*
 * A JSON number of at most 15 digits and no exponent, the usual price or
 * id, read in one pass without strtod: an integer of up to 18 digits is
 * summed exactly, and a decimal is its digits, exact in a double below
 * 2^53, divided by an exact power of ten, which IEEE 754 division rounds
 * correctly, so d is the double strtod would give (W. D. Clinger, "How to
 * read floating point numbers accurately", PLDI 1990). False when s[0..len)
 * is not a number of that shape (nor perhaps a number at all).
 */
static bool
num_fast(const char *s, size_t len, struct ecs_num *n)
{
	static const double pow10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6,
	    1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
	bool neg = len > 0 && s[0] == '-', is_int = true;
	size_t i = neg, first = i, point, scale = 0;
	uint64_t v = 0;		/* wraps only past 19 digits: refused */

	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	if (i == first || (s[first] == '0' && i - first > 1))
		return false;	/* no digits, or a leading zero */
	if (i < len && s[i] == '.') {
		point = ++i;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			v = v * 10 + (uint64_t)(s[i] - '0');
		if (i == point)
			return false;
		scale = i - point;
		is_int = false;
	}
	/* An exponent, or more than the digits read exactly: strtod's. */
	if (i != len || i - first - !is_int > (is_int ? 18 : 15))
		return false;
	n->is_int = is_int;
	if (is_int) {
		n->i = neg ? -(int64_t)v : (int64_t)v;
		n->d = (double)n->i;
	} else
		n->d = (neg ? -(double)v : (double)v) / pow10[scale];
	return true;
}

bool
ecs_num_parse(const char *s, size_t len, struct ecs_num *n)
{
	char small[64], *buf = small, *end;
	bool is_int;

	if (num_fast(s, len, n))
		return true;
	if (len == 0 || number_span(s, len, &is_int) != len)
		return false;
	if (len >= sizeof(small))	/* 1e-400 written out in full */
		buf = ecs_xmalloc(len + 1);
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	if (is_int) {
		n->i = strtoll(buf, &end, 10);
		if (errno == 0) {
			n->is_int = true;
			n->d = (double)n->i;
			if (buf != small)
				free(buf);
			return true;
		}
	}
	n->is_int = false;
	n->d = strtod(buf, &end);
	if (buf != small)
		free(buf);
	return true;
}

bool
ecs_num_from_json(struct json_object *v, struct ecs_num *n)
{
	switch (json_object_get_type(v)) {
	case json_type_int:
		n->i = json_object_get_int64(v);
		/* json-c keeps values above INT64_MAX as uint64. */
		if (n->i == INT64_MAX && json_object_get_uint64(v) > INT64_MAX) {
			n->is_int = false;
			n->d = (double)json_object_get_uint64(v);
			return true;
		}
		n->is_int = true;
		n->d = (double)n->i;
		return true;
	case json_type_double:
		n->is_int = false;
		n->d = json_object_get_double(v);
		return true;
	case json_type_string:
		return ecs_num_parse(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v), n);
	default:
		return false;
	}
}

/* Orders an integer against a double without rounding the integer. */
static int
cmp_int_double(int64_t i, double d)
{
	double whole;

	if (isnan(d))
		return 2;
	if (d >= 9223372036854775808.0)		/* 2^63 */
		return -1;
	if (d < -9223372036854775808.0)
		return 1;
	whole = floor(d);
	if (i != (int64_t)whole)
		return i < (int64_t)whole ? -1 : 1;
	return d > whole ? -1 : 0;
}

int
ecs_num_cmp(const struct ecs_num *a, const struct ecs_num *b)
{
	int c;

	if (a->is_int && b->is_int)
		return (a->i > b->i) - (a->i < b->i);
	if (a->is_int)
		return cmp_int_double(a->i, b->d);
	if (b->is_int)
		return (c = cmp_int_double(b->i, a->d)) == 2 ? 2 : -c;
	if (isnan(a->d) || isnan(b->d))
		return 2;
	return (a->d > b->d) - (a->d < b->d);
}

/* Big integers */

#define BIG_DIGITS	19		/* fewer always fit in int64 */

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Whether s[0..len) holds a run of BIG_DIGITS digits: every such run
 * covers one of the positions probed, so most lines cost len / 19 tests.
 */
static bool
has_digit_run(const char *s, size_t len)
{
	size_t i, lo, hi;

	for (i = BIG_DIGITS - 1; i < len; i += BIG_DIGITS) {
		if (!is_digit(s[i]))
			continue;
		for (lo = i; lo > 0 && is_digit(s[lo - 1]); lo--)
			;
		for (hi = i + 1; hi < len && is_digit(s[hi]); hi++)
			;
		if (hi - lo >= BIG_DIGITS)
			return true;
	}
	return false;
}

/* Whether the integer text s[0..len) is beyond int64 (json-c clamps it). */
static bool
beyond_int64(const char *s, size_t len)
{
	char buf[32];

	if (len - (s[0] == '-') < BIG_DIGITS)
		return false;
	if (len >= sizeof(buf))
		return true;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	(void)strtoll(buf, NULL, 10);
	return errno == ERANGE;
}

/* With an exponent made only of zeros (1E+00, 2e0): their number; else 0. */
static size_t
zero_exponent(const char *s, size_t len)
{
	size_t i = len, zeros;

	while (i > 0 && s[i - 1] == '0')
		i--;
	if ((zeros = len - i) == 0)
		return 0;
	if (i > 0 && (s[i - 1] == '+' || s[i - 1] == '-'))
		i--;
	return i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E') ? zeros : 0;
}

/*
 * Calls each(arg, start, span) for each integer beyond int64 outside the
 * strings of the valid JSON line s[0..len); returns the most zeros that an
 * exponent made only of zeros has there (1E+00: 2).
 */
static size_t
find_big_ints(const char *s, size_t len,
    void (*each)(void *, size_t, size_t), void *arg)
{
	size_t i = 0, span, zeros = 0, z;
	bool is_int;
	char quote;

	while (i < len) {
		if (s[i] == '"' || s[i] == '\'') {	/* json-c: 'name' */
			quote = s[i];
			for (i++; i < len && s[i] != quote; i++)
				if (s[i] == '\\')
					i++;
			i++;
			continue;
		}
		if ((s[i] != '-' && !is_digit(s[i])) ||
		    (span = number_span(s + i, len - i, &is_int)) == 0) {
			i++;
			continue;
		}
		if (is_int && beyond_int64(s + i, span))
			each(arg, i, span);
		else if (!is_int && (z = zero_exponent(s + i, span)) > zeros)
			zeros = z;
		i += span;
	}
	return zeros;
}

/* The line with marks: built by mark() from the big integers' places. */
struct marked {
	const char	*src;
	char		*out;		/* owned */
	size_t		 len, done;	/* of out; of src copied */
	size_t		 nmark;
	char		*mark;		/* E+0..0, an exponent no number has */
};

static void
count_big(void *arg, size_t start, size_t span)
{
	(void)start;
	(void)span;
	((struct marked *)arg)->nmark++;
}

static void
mark(void *arg, size_t start, size_t span)
{
	struct marked *m = arg;
	size_t end = start + span, n = strlen(m->mark);

	memcpy(m->out + m->len, m->src + m->done, end - m->done);
	m->len += end - m->done;
	memcpy(m->out + m->len, m->mark, n);
	m->len += n;
	m->done = end;
}

/* v without the mark, when it is a marked big integer: a new reference. */
static struct json_object *
unmark(struct json_object *v, const char *markstr)
{
	const char *text;
	size_t len, n = strlen(markstr);
	char *plain;

	if (!json_object_is_type(v, json_type_double))
		return NULL;
	text = json_object_get_string(v);
	len = strlen(text);
	if (len <= n || strcmp(text + len - n, markstr) != 0 ||
	    !beyond_int64(text, len - n))
		return NULL;
	plain = ecs_xstrndup(text, len - n);
	v = json_object_new_double_s(json_object_get_double(v), plain);
	free(plain);
	return v;
}

static void
unmark_all(struct json_object *v, const char *markstr)
{
	struct json_object *plain;
	size_t i, n;

	if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, key, val) {
			if ((plain = unmark(val, markstr)) != NULL)
				json_object_object_add(v, key, plain);
			else
				unmark_all(val, markstr);
		}
	} else if (json_object_is_type(v, json_type_array)) {
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			if ((plain = unmark(json_object_array_get_idx(v, i),
			    markstr)) != NULL)
				json_object_array_put_idx(v, i, plain);
			else
				unmark_all(json_object_array_get_idx(v, i),
				    markstr);
		}
	}
}

/*
 * Each big integer is given an exponent of zeros, longer than any the line
 * has, so that json-c reads it as a double (keeping its text) and the mark
 * is told apart from what the line wrote.
 */
struct json_object *
ecs_json_exact_ints(struct json_tokener *tok, const char *line, size_t len,
    struct json_object *rec)
{
	struct marked m = { .src = line };
	struct json_object *exact;
	size_t zeros;

	if (!has_digit_run(line, len))
		return rec;
	zeros = find_big_ints(line, len, count_big, &m);
	if (m.nmark == 0)
		return rec;
	m.mark = ecs_xmalloc(zeros + 4);
	memcpy(m.mark, "E+", 2);
	memset(m.mark + 2, '0', zeros + 1);
	m.mark[zeros + 3] = '\0';
	m.out = ecs_xmalloc(len + m.nmark * (zeros + 3) + 1);
	find_big_ints(line, len, mark, &m);
	memcpy(m.out + m.len, line + m.done, len - m.done);
	m.len += len - m.done;
	m.out[m.len] = '\0';
	exact = json_tokener_parse_ex(tok, m.out, (int)m.len + 1);
	json_tokener_reset(tok);
	free(m.out);
	if (exact != NULL) {		/* it cannot fail: the line parsed */
		unmark_all(exact, m.mark);
		json_object_put(rec);
		rec = exact;
	}
	free(m.mark);
	return rec;
}

void
ecs_out_json(struct json_object *v)
{
	size_t len;
	const char *s = json_object_to_json_string_length(v, SERIALIZE_FLAGS, &len);

	ecs_out_write(s, len);
}

void
ecs_out_value(struct json_object *v)
{
	if (v == NULL)
		return;
	if (json_object_is_type(v, json_type_string))
		ecs_out_write(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
	else
		ecs_out_json(v);
}

static int
hex4(const char *s)
{
	int v = 0, i, c;

	for (i = 0; i < 4; i++) {
		c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static size_t
put_utf8(char *o, long cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * A \uXXXX escape (s on the 'u'), joining surrogate pairs; -1 if bad, and
 * then *end is left alone: the text may end inside the escape.
 */
static long
unicode_escape(const char *s, const char **end)
{
	long hi = hex4(s + 1), lo;

	if (hi < 0 || (hi >= 0xdc00 && hi <= 0xdfff))
		return -1;
	if (hi < 0xd800 || hi > 0xdbff) {
		*end = s + 5;
		return hi;
	}
	if (s[5] != '\\' || s[6] != 'u' || (lo = hex4(s + 7)) < 0xdc00 ||
	    lo > 0xdfff)
		return -1;
	*end = s + 11;
	return 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
}

bool
ecs_unquote(const char *s, const char **end, char **out, size_t *outlen)
{
	char quote = *s++, *o = ecs_xmalloc(strlen(s) + 1);
	static const char esc_in[] = "\"'\\/bfnrt", esc_out[] = "\"'\\/\b\f\n\r\t";
	const char *hit;
	size_t n = 0;
	long cp;

	while (*s != quote) {
		if (*s == '\0')
			goto fail;
		if (*s != '\\') {
			o[n++] = *s++;
			continue;
		}
		s++;
		if (*s == 'u') {
			if ((cp = unicode_escape(s, &s)) < 0)
				goto fail;
			n += put_utf8(o + n, cp);
		} else if (*s != '\0' && (hit = strchr(esc_in, *s)) != NULL) {
			o[n++] = esc_out[hit - esc_in];
			s++;
		} else
			goto fail;
	}
	o[n] = '\0';
	*out = o;
	*outlen = n;
	*end = s + 1;
	return true;
fail:
	free(o);
	*end = s;
	return false;
}

static void
put_out(void *arg, const char *s, size_t n)
{
	(void)arg;
	ecs_out_write(s, n);
}

void
ecs_out_json_string(const char *s, size_t len)
{
	ecs_out_putc('"');
	ecs_json_escape(s, len, put_out, NULL);
	ecs_out_putc('"');
}
