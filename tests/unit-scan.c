/* SPDX-License-Identifier: ISC */
/*
 * unit-scan -- every path of the validating scan (portable, SSE2, AVX2;
 * see ecs_scan.c) on the lines of the test fixtures and on hostile lines
 * built to fall on the edges of 16- and 32-byte blocks: invalid UTF-8
 * (overlong forms, surrogates, truncated and stray bytes, code points past
 * U+10FFFF) and valid sequences at every offset, quotes, backslash
 * escapes, control bytes and digit runs at every offset, deep nesting.
 * Each line must get the same answer and the same captured fields from
 * every path; a line the scan accepts must be one json-c accepts, with
 * the values json-c reads; and the hostile lines must get the answer
 * written down for them (a path that refused everything would agree with
 * json-c). Usage: unit-scan FIXTURES-DIR. TAP output; exits 1 on a failure.
 */
#include <err.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "scan-paths.h"
#include "tap.h"

static const char *keys[] = { "a", "b", "action", "product_id", "ts" };
static size_t lens[] = { 1, 1, 6, 10, 2 };
static const struct ecs_scan_keys want = { .key = keys, .len = lens,
    .n = 5 };

static struct json_tokener *tok;
static unsigned long lines, failures;

/* json-c's record for line, as the reader judges it, or NULL. */
static struct json_object *
parse(const char *line, size_t len)
{
	return scan_paths_judge(tok, line, len);
}

/* Whether a captured string or kind of value is what json-c read. */
static bool
same_as_json(const struct ecs_field *f, struct json_object *rec,
    const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(rec, key, &v))
		return f->type == ECS_F_MISSING;
	switch (json_object_get_type(v)) {
	case json_type_null:	return f->type == ECS_F_NULL;
	case json_type_boolean:	return f->type == ECS_F_BOOL;
	case json_type_int:
	case json_type_double:	return f->type == ECS_F_NUMBER;
	case json_type_string:
		return f->type == ECS_F_STRING &&
		    f->len == (size_t)json_object_get_string_len(v) &&
		    memcmp(f->text, json_object_get_string(v), f->len) == 0;
	default:		return f->type == ECS_F_OTHER;
	}
}

static void
fail(const char *why, const char *line, size_t len)
{
	size_t i;

	if (++failures > 20)
		return;
	printf("# %s: ", why);
	for (i = 0; i < len && i < 200; i++)
		printf((unsigned char)line[i] >= 0x20 &&
		    (unsigned char)line[i] < 0x7f ? "%c" : "\\x%02x",
		    (unsigned char)line[i]);
	printf("\n");
}

/*
 * One line through every path: expect is 1 or 0 for the answer written
 * down for it, -1 when only the paths and json-c are the judges.
 */
static void
check_copy(const char *line, const char *z, size_t len, int expect)
{
	struct ecs_field out[SCAN_PATHS_KEYS];
	struct json_object *rec;
	const char *which = "";
	bool accepted = false;
	size_t k;

	lines++;
	if (!scan_paths_agree(line, len, &want, out, &accepted, &which)) {
		fail(which, line, len);
		return;
	}
	if (expect >= 0 && accepted != (expect == 1)) {
		fail(expect ? "refused" : "accepted", line, len);
		return;
	}
	if (!accepted)
		return;
	if ((rec = parse(z, len)) == NULL) {
		fail("accepted what json-c refuses", line, len);
		return;
	}
	for (k = 0; k < want.n; k++)
		if (!same_as_json(&out[k], rec, keys[k]))
			fail("a field differs from json-c's", line, len);
	json_object_put(rec);
}

/*
 * The scan reads a copy of exactly len bytes, so that AddressSanitizer
 * catches a path that reads past the line; json-c reads one that ends in
 * a NUL, as the reader's lines do.
 */
static void
check(const char *line, size_t len, int expect)
{
	char *exact = ecs_xmalloc(len > 0 ? len : 1), *z = ecs_xmalloc(len + 1);

	memcpy(exact, line, len);
	memcpy(z, line, len);
	z[len] = '\0';
	check_copy(exact, z, len, expect);
	free(exact);
	free(z);
}

static void
checks(const char *what)
{
	ok(failures == 0, "%s: %lu lines, every path agrees", what, lines);
	lines = failures = 0;
}

static int
check_file(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *fp;

	(void)st;
	(void)f;
	if (flag != FTW_F || strlen(path) < 7 ||
	    strcmp(path + strlen(path) - 7, ".ndjson") != 0)
		return 0;
	if ((fp = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	while ((n = getline(&line, &cap, fp)) > 0) {
		if (line[n - 1] == '\n')
			n--;
		check(line, (size_t)n, -1);
	}
	free(line);
	fclose(fp);
	return 0;
}

/* {"a":"<fill x><seq><fill y>"} with seq at byte offset at. */
static size_t
in_string(char *buf, size_t at, const char *seq, size_t seqlen, size_t tail)
{
	size_t n = 0;

	n += (size_t)sprintf(buf, "{\"a\":\"");
	while (n < at)
		buf[n++] = 'x';
	memcpy(buf + n, seq, seqlen);
	n += seqlen;
	memset(buf + n, 'y', tail);
	n += tail;
	memcpy(buf + n, "\"}", 2);
	return n + 2;
}

static const struct {
	const char	*bytes;
	bool		 valid;
} utf8[] = {
	{ "\xc2\x80", true }, { "\xdf\xbf", true }, { "\xe0\xa0\x80", true },
	{ "\xe2\x82\xac", true }, { "\xed\x9f\xbf", true },
	{ "\xee\x80\x80", true }, { "\xef\xbf\xbf", true },
	{ "\xf0\x90\x80\x80", true }, { "\xf3\xbf\xbf\xbf", true },
	{ "\xf4\x8f\xbf\xbf", true },
	{ "\x80", false }, { "\xbf", false }, { "\xc0\x80", false },
	{ "\xc1\xbf", false }, { "\xc2", false }, { "\xc2x", false },
	{ "\xc2\x80\x80", false }, { "\xe0\x80\x80", false },
	{ "\xe0\x9f\xbf", false }, { "\xe2\x82", false },
	{ "\xed\xa0\x80", false }, { "\xed\xbf\xbf", false },
	{ "\xf0\x80\x80\x80", false }, { "\xf0\x8f\xbf\xbf", false },
	{ "\xf0\x9f\x98", false }, { "\xf4\x90\x80\x80", false },
	{ "\xf5\x80\x80\x80", false }, { "\xf8\x88\x80\x80\x80", false },
	{ "\xfe", false }, { "\xff", false },
};

static void
test_utf8(void)
{
	static const size_t tails[] = { 0, 1, 2, 3, 13, 29, 40 };
	char buf[256];
	size_t i, at, t, n;

	for (i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++)
		for (at = 6; at < 6 + 70; at++)
			for (t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
				n = in_string(buf, at, utf8[i].bytes,
				    strlen(utf8[i].bytes), tails[t]);
				check(buf, n, utf8[i].valid);
			}
	checks("UTF-8, valid and invalid, at every offset of two blocks");
	for (i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++)
		for (at = 0; at < 70; at++) {
			/* In a key, and after the object. */
			n = (size_t)sprintf(buf, "{\"%.*s%s\":1}", (int)at,
			    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
			    "kkkkkkkkkkkkkkkkkkkkkkkk", utf8[i].bytes);
			check(buf, n, utf8[i].valid);
			n = (size_t)sprintf(buf, "{\"a\":\"%.*s\"}%s", (int)at,
			    "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
			    "vvvvvvvvvvvvvvvvvvvvvvvvv", utf8[i].bytes);
			check(buf, n, 0);
		}
	checks("UTF-8 in keys, and outside strings");
}

/* What a byte at every offset of a string value does to the line. */
static void
test_bytes(void)
{
	static const struct {
		const char	*seq;
		int		 expect;
	} cases[] = {
		{ "\\", 0 }, { "\\\"", 0 }, { "\\n", 0 }, { "\\u00e9", 0 },
		{ "\\\\", 0 }, { "\x01", 0 }, { "\x1f", 0 }, { "\t", 0 },
		{ "\n", 0 }, { "\0", 0 }, { "\x7f", 1 }, { " ", 1 }, { "~", 1 },
		{ "!", 1 }, { "#", 1 }, { "[", 1 }, { "]", 1 }, { "/", 1 },
		{ "\"", 0 },
	};
	char buf[256];
	size_t i, at, t, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (at = 6; at < 6 + 70; at++)
			for (t = 0; t < 36; t += 5) {
				n = in_string(buf, at, cases[i].seq,
				    cases[i].seq[0] == '\0' ? 1 :
				    strlen(cases[i].seq), t);
				check(buf, n, cases[i].expect);
			}
	checks("escapes, control bytes and quotes at every offset");
}

/* Strings and digit runs of every length, so their ends fall everywhere. */
static void
test_runs(void)
{
	static const char *after[] = { "}", " }", "}  ", ",\"b\":true}",
	    "}x", ",}", "" };
	static const int after_ok[] = { 1, 1, 1, 1, 0, 0, 0 };
	char buf[512], run[128];
	size_t len, i, n;

	for (len = 0; len < 100; len++)
		for (i = 0; i < sizeof(after) / sizeof(after[0]); i++) {
			memset(run, 's', len);
			n = (size_t)sprintf(buf, "{\"a\":\"%.*s\"%s", (int)len,
			    run, after[i]);
			check(buf, n, after_ok[i]);
			n = (size_t)sprintf(buf, "{\"%.*s\":null%s", (int)len,
			    run, after[i]);
			check(buf, n, after_ok[i]);
			memset(run, '7', len);
			n = (size_t)sprintf(buf, "{\"a\":1%.*s%s", (int)len, run,
			    after[i]);
			check(buf, n, after_ok[i]);
			n = (size_t)sprintf(buf, "{\"a\":-0.5%.*se+1%.*s%s",
			    (int)len, run, (int)len, run, after[i]);
			check(buf, n, after_ok[i]);
			n = (size_t)sprintf(buf, "{\"a\":0%.*s%s", (int)len, run,
			    after[i]);
			check(buf, n, len == 0 && after_ok[i]);
		}
	checks("strings and numbers of every length up to 100");
	check("{}", 2, 1);
	check("{", 1, 0);
	check("", 0, 0);
	check(" {\"a\":1} ", 9, 1);
	check("{\"a\":01}", 8, 0);
	check("{\"a\":1.}", 8, 0);
	check("{\"a\":1e}", 8, 0);
	check("{\"a\":-}", 7, 0);
	check("{\"a\":.5}", 8, 0);
	check("{\"a\":tru}", 9, 0);
	check("{\"a\":\"x}", 8, 0);
	check("{\"a\":[1,2,{\"b\":[]}],\"b\":{\"c\":\"d\"}}", 34, 1);
	check("{\"a\":[1,]}", 10, 0);
	check("{\"a\":1,\"a\":\"again\"}", 19, 1);
	checks("short lines and repeated keys");
}

/* Nesting at the scan's limit, past it, and hostile. */
static void
test_nesting(void)
{
	size_t depth, n, i, big = 100000;
	char *buf = ecs_xmalloc(2 * big + 16);

	for (depth = 1; depth <= 40; depth++) {
		n = 0;
		buf[n++] = '{';
		buf[n++] = '"';
		buf[n++] = 'a';
		buf[n++] = '"';
		buf[n++] = ':';
		for (i = 1; i < depth; i++)
			buf[n++] = '[';
		buf[n++] = '1';
		for (i = 1; i < depth; i++)
			buf[n++] = ']';
		buf[n++] = '}';
		check(buf, n, depth <= 32);
	}
	memset(buf, '[', big);
	check(buf, big, 0);
	buf[0] = '{';
	memcpy(buf + 1, "\"a\":", 4);
	memset(buf + 5, '[', big);
	memset(buf + 5 + big, ']', big);
	buf[5 + 2 * big] = '}';
	check(buf, 6 + 2 * big, 0);
	free(buf);
	checks("nesting to 32 levels accepted, deeper refused, hostile depth");
}

int
main(int argc, char *argv[])
{
	const char *name;
	size_t i;

	if (argc != 2)
		errx(2, "usage: unit-scan fixtures-dir");
	tok = json_tokener_new_ex(64);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	for (i = 0; (name = ecs_scan_path_name(i)) != NULL; i++)
		printf("# scan path %s: %s\n", name, ecs_scan_use(name) == 0 ?
		    "checked" : "not checked, this CPU cannot run it");
	ecs_scan_use(NULL);
	if (nftw(argv[1], check_file, 16, FTW_PHYS) != 0)
		err(1, "%s", argv[1]);
	checks("the lines of every fixture");
	test_utf8();
	test_bytes();
	test_runs();
	test_nesting();
	json_tokener_free(tok);
	return tap_done();
}
