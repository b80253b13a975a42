/* SPDX-License-Identifier: ISC */
/*
 * ecs_buf.c -- output lines built in a growable buffer (see ecs_buf.h),
 * and the JSON string escaping that ecs_out uses too.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs_buf.h"

/* Room for n more bytes and the NUL. */
static inline void
reserve(struct ecs_buf *b, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 256;
		b->p = ecs_xrealloc(b->p, b->cap);
	}
}

void
ecs_buf_add(struct ecs_buf *b, const void *s, size_t n)
{
	reserve(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
ecs_buf_puts(struct ecs_buf *b, const char *s)
{
	ecs_buf_add(b, s, strlen(s));
}

void
ecs_buf_putc(struct ecs_buf *b, char c)
{
	reserve(b, 1);
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

/*
 * Whether the 8 bytes of w hold one that ecs_json_escape changes ('"',
 * '\\' or one below 0x20): the tests of a byte below k, and of a zero byte
 * after an xor, are exact for the word as a whole ("Bit Twiddling Hacks",
 * hasless and haszero).
 */
static inline bool
word_needs_escape(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');

	return (((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
	    ((bs - ones) & ~bs)) & (ones * 0x80);
}

/* Whether s[0..n) has a byte that ecs_json_escape changes. */
static bool
needs_escape(const char *s, size_t n)
{
	uint64_t w;
	uint32_t lo, hi;
	size_t i;

	if (n >= 8) {		/* the last word overlaps the one before */
		for (i = 0; n - i > 8; i += 8) {
			memcpy(&w, s + i, 8);
			if (word_needs_escape(w))
				return true;
		}
		memcpy(&w, s + n - 8, 8);
		return word_needs_escape(w);
	}
	if (n >= 4) {		/* two halves, which may overlap */
		memcpy(&lo, s, 4);
		memcpy(&hi, s + n - 4, 4);
		return word_needs_escape(lo | (uint64_t)hi << 32);
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\')
			return true;
	return false;
}

void
ecs_json_escape(const char *s, size_t n,
    void (*put)(void *, const char *, size_t), void *arg)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s, *end = s + n;
	char esc[6] = { '\\', 'u', '0', '0' };
	unsigned char c;

	for (; s < end; s++) {
		c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (s > run)
			put(arg, run, (size_t)(s - run));
		run = s + 1;
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			put(arg, esc, 2);
			esc[1] = 'u';
		} else {
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			put(arg, esc, sizeof(esc));
		}
	}
	if (end > run)
		put(arg, run, (size_t)(end - run));
}

static void
put_buf(void *arg, const char *s, size_t n)
{
	ecs_buf_add(arg, s, n);
}

void
ecs_buf_json_string(struct ecs_buf *b, const char *s, size_t n)
{
	if (!needs_escape(s, n)) {	/* most strings: one copy */
		reserve(b, n + 2);
		b->p[b->len] = '"';
		memcpy(b->p + b->len + 1, s, n);
		b->len += n + 2;
		b->p[b->len - 1] = '"';
		b->p[b->len] = '\0';
		return;
	}
	ecs_buf_putc(b, '"');
	ecs_json_escape(s, n, put_buf, b);
	ecs_buf_putc(b, '"');
}

void
ecs_buf_int(struct ecs_buf *b, int64_t v)
{
	if (v < 0)
		ecs_buf_putc(b, '-');
	/* In unsigned arithmetic, so that INT64_MIN has its magnitude. */
	ecs_buf_uint(b, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
}

/* Digits by hand: snprintf was a tenth of the time of a session line. */
void
ecs_buf_uint(struct ecs_buf *b, uint64_t v)
{
	char num[24], *p = num + sizeof(num);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	ecs_buf_add(b, p, (size_t)(num + sizeof(num) - p));
}

void
ecs_buf_dec(struct ecs_buf *b, const struct ecs_dec *d)
{
	char num[96];

	ecs_buf_add(b, num, ecs_dec_format(d, num, sizeof(num)));
}

void
ecs_buf_double(struct ecs_buf *b, double v, int places)
{
	char num[400];		/* fixed notation up to about 1e300 */

	ecs_buf_add(b, num, ecs_format_double(v, places, num, sizeof(num)));
}

void
ecs_buf_time(struct ecs_buf *b, int64_t ms)
{
	char t[32];

	ecs_buf_putc(b, '"');
	ecs_buf_add(b, t, ecs_time_format(ms, t));
	ecs_buf_putc(b, '"');
}

/* An object or array, compact whichever way the line was read. */
static void
compact_json(struct ecs_buf *b, const struct ecs_field *f)
{
	struct json_object *obj = f->j;
	char *text = NULL;

	if (obj == NULL) {
		text = ecs_xstrndup(f->text, f->len);
		obj = json_tokener_parse(text);
	}
	ecs_buf_puts(b, json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (text != NULL) {
		json_object_put(obj);
		free(text);
	}
}

void
ecs_buf_field(struct ecs_buf *b, const struct ecs_field *f)
{
	switch (f->type) {
	case ECS_F_STRING:
		ecs_buf_json_string(b, f->text, f->len);
		break;
	case ECS_F_MISSING:
	case ECS_F_NULL:
		ecs_buf_add(b, "null", 4);
		break;
	case ECS_F_OTHER:
		compact_json(b, f);
		break;
	default:
		ecs_buf_add(b, f->text, f->len);
		break;
	}
}

void
ecs_buf_reset(struct ecs_buf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

void
ecs_buf_free(struct ecs_buf *b)
{
	free(b->p);
	*b = (struct ecs_buf)ECS_BUF_INIT;
}

void
ecs_buf_out(const struct ecs_buf *b)
{
	ecs_out_write(b->p, b->len);
}
