/* SPDX-License-Identifier: ISC */
/*
 * ecs_scan.c -- a validating scan of one NDJSON line, several times faster
 * than building json-c objects. It answers "certainly one valid object" for
 * the plain subset of JSON that real event streams are written in, and
 * "ask json-c" for everything else, so json-c stays the only judge of bad
 * lines and the fast path can never change a decision. What json-c lets
 * through that RFC 8259 does not allow (NaN, single quotes, ...) is caught
 * by ecs_json_not_rfc8259, at the end of this file; the scan never accepts
 * any of it.
 */
#include <stdio.h>
#include <string.h>

#include "ecs.h"

#define SCAN_DEPTH	32		/* json-c is given 64 */

static const unsigned char *
skip_ws(const unsigned char *p, const unsigned char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *e)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if (*p >= 0xe0 && *p <= 0xef) {
		n = 3;
		if (*p == 0xe0)
			lo = 0xa0;
		else if (*p == 0xed)
			hi = 0x9f;	/* no UTF-16 surrogates */
	} else if (*p >= 0xf0 && *p <= 0xf4) {
		n = 4;
		if (*p == 0xf0)
			lo = 0x90;
		else if (*p == 0xf4)
			hi = 0x8f;	/* nothing above U+10FFFF */
	} else
		return 0;
	if ((size_t)(e - p) < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* Past the string at p (on its quote); NULL unless plain and valid. */
static const unsigned char *
scan_string(const unsigned char *p, const unsigned char *e)
{
	size_t n;

	for (p++; p < e; p++) {
		if (*p == '"')
			return p + 1;
		if (*p == '\\' || *p < 0x20)
			return NULL;
		if (*p >= 0x80) {
			if ((n = utf8_len(p, e)) == 0)
				return NULL;
			p += n - 1;
		}
	}
	return NULL;
}

static const unsigned char *
scan_digits(const unsigned char *p, const unsigned char *e)
{
	const unsigned char *start = p;

	while (p < e && *p >= '0' && *p <= '9')
		p++;
	return p == start ? NULL : p;
}

/*
 * Past the RFC 8259 number at p, or NULL. An integer of any length is
 * captured as written: the json-c way keeps it too (ecs_json_exact_ints).
 */
static const unsigned char *
scan_number(const unsigned char *p, const unsigned char *e)
{
	if (*p == '-')
		p++;
	if (p < e && *p == '0')
		p++;
	else if ((p = scan_digits(p, e)) == NULL)
		return NULL;
	if (p < e && *p == '.' && (p = scan_digits(p + 1, e)) == NULL)
		return NULL;
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if ((p = scan_digits(p, e)) == NULL)
			return NULL;
	}
	return p;
}

static const unsigned char *
scan_word(const unsigned char *p, const unsigned char *e, const char *word)
{
	for (; *word != '\0'; word++, p++)
		if (p == e || *p != (unsigned char)*word)
			return NULL;
	return p;
}

/* A scalar value at p; NULL unless valid. */
static const unsigned char *
scan_scalar(const unsigned char *p, const unsigned char *e)
{
	switch (*p) {
	case '"':	return scan_string(p, e);
	case 't':	return scan_word(p, e, "true");
	case 'f':	return scan_word(p, e, "false");
	case 'n':	return scan_word(p, e, "null");
	default:
		if (*p == '-' || (*p >= '0' && *p <= '9'))
			return scan_number(p, e);
		return NULL;
	}
}

/* The kind of the value that starts with c, for a captured field. */
static enum ecs_ftype
kind_of(unsigned char c)
{
	switch (c) {
	case '"':	return ECS_F_STRING;
	case 't':
	case 'f':	return ECS_F_BOOL;
	case 'n':	return ECS_F_NULL;
	case '{':
	case '[':	return ECS_F_OTHER;
	default:	return ECS_F_NUMBER;
	}
}

/* The index of the requested key that key[0..len) is, or -1. */
static int
wanted(const struct ecs_scan_keys *want, const unsigned char *key, size_t len)
{
	size_t i;

	for (i = 0; want != NULL && i < want->n; i++)
		if (want->len[i] == len && memcmp(want->key[i], key, len) == 0)
			return (int)i;
	return -1;
}

/*
 * The scan itself. An explicit stack of open containers (a bit each: 1
 * object, 0 array) replaces recursion, so hostile nesting costs nothing.
 * When want is given, the values of those top-level keys are captured in
 * out (the last one wins for a repeated key, as in json-c).
 */
static bool
scan(const unsigned char *p, const unsigned char *e,
    const struct ecs_scan_keys *want, struct ecs_field *out)
{
	const unsigned char *key, *value;
	struct ecs_field *capture = NULL;	/* a top-level value being read */
	uint64_t in_object = 0;
	int depth = 0, k;

	p = skip_ws(p, e);
	if (p == e || *p != '{')
		return false;
open:
	if (++depth > SCAN_DEPTH)
		return false;
	in_object = in_object << 1 | (*p == '{');
	p = skip_ws(p + 1, e);
	if (p < e && *p == (in_object & 1 ? '}' : ']')) {
		p++;
		goto close;
	}
element:
	if (in_object & 1) {
		key = p + 1;
		if (p == e || *p != '"' || (p = scan_string(p, e)) == NULL)
			return false;
		k = depth == 1 ? wanted(want, key, (size_t)(p - 1 - key)) : -1;
		p = skip_ws(p, e);
		if (p == e || *p != ':')
			return false;
		p = skip_ws(p + 1, e);
		if (p < e && k >= 0) {
			capture = &out[k];
			capture->type = kind_of(*p);
			capture->text = (const char *)p;
		}
	}
	if (p == e)
		return false;
	if (*p == '{' || *p == '[')
		goto open;
	value = p;
	if ((p = scan_scalar(p, e)) == NULL)
		return false;
	if (capture != NULL && depth == 1) {
		if (capture->type == ECS_F_STRING) {	/* without its quotes */
			capture->text = (const char *)value + 1;
			capture->len = (size_t)(p - value) - 2;
		} else
			capture->len = (size_t)(p - value);
		capture = NULL;
	}
next:
	p = skip_ws(p, e);
	if (p == e)
		return false;
	if (*p == ',') {
		p = skip_ws(p + 1, e);
		goto element;
	}
	if (*p != (in_object & 1 ? '}' : ']'))
		return false;
	p++;
close:
	in_object >>= 1;
	if (--depth == 1 && capture != NULL) {	/* a top-level container */
		capture->len = (size_t)((const char *)p - capture->text);
		capture = NULL;
	}
	if (depth > 0)
		goto next;
	return skip_ws(p, e) == e;
}

bool
ecs_scan_plain_object(const char *line, size_t len)
{
	const unsigned char *p = (const unsigned char *)line;

	return scan(p, p + len, NULL, NULL);
}

bool
ecs_scan_fields(const char *line, size_t len, const struct ecs_scan_keys *want,
    struct ecs_field *out)
{
	const unsigned char *p = (const unsigned char *)line;
	size_t i;

	for (i = 0; i < want->n; i++)
		out[i] = (struct ecs_field){ ECS_F_MISSING, NULL, 0, NULL };
	return scan(p, p + len, want, out);
}

const char *
ecs_json_not_rfc8259(const char *line, size_t len, size_t *col, char *why,
    size_t whylen)
{
	const unsigned char *s = (const unsigned char *)line, *p = s,
	    *e = s + len, *q;
	const char *reason = NULL;

	while (p < e && reason == NULL) {
		if (*p == '"') {
			for (p++; p < e && *p != '"'; p++) {
				if (*p == '\\')
					p++;	/* json-c checked the escape */
				else if (*p < 0x20) {
					snprintf(why, whylen, "unescaped control "
					    "character U+%04X in a string "
					    "(RFC 8259)", *p);
					reason = why;
					break;
				}
			}
			if (reason == NULL)
				p++;
		} else if (*p == '\'')
			reason = "single quotes are not JSON (RFC 8259)";
		else if (*p == 'N')
			reason = "NaN is not a number (RFC 8259)";
		else if (*p == 'I' || (*p == '-' && p + 1 < e && p[1] == 'I'))
			reason = "Infinity is not a number (RFC 8259)";
		else if (*p == '-' || (*p >= '0' && *p <= '9')) {
			if ((q = scan_number(p, e)) == NULL ||
			    (q < e && (*q == '.' || (*q >= '0' && *q <= '9'))))
				reason = "a number has no leading zero and "
				    "digits on both sides of '.' (RFC 8259)";
			else
				p = q;
		} else
			p++;
	}
	if (reason != NULL)
		*col = (size_t)(p - s) + 1;
	return reason;
}
