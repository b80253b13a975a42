/* SPDX-License-Identifier: ISC */
/*
 * fuzz-expr -- the expression language on hostile text: compile it, and
 * when it compiles evaluate it against records of every value type, both
 * on json-c records and on captured fields, which must agree. The input is
 * the expression, then optionally a NUL and a line of its own: fields
 * captured from the line's bytes (the fast path, nested paths included)
 * and through json-c must give the expression the same answer, and a line
 * the literal pre-check rules out must be one it does not match. On a
 * plain line, each captured scalar must be written as json-c writes it
 * (the text of its value in the reader's record, big integers kept), an
 * object or array compacted (ecs_field_compact) as json-c writes it, and
 * the expression's text as a template writes it must be the same from
 * the fields as from json-c's record (ecs-filter -t '{=expr}'). --map
 * sends m to c.d and q to c.1, and --map-action turns buy into purchase.
 */
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "ecs_buf.h"
#include "ecs_expr.h"

static const char *records[] = {
	"{\"a\":1,\"b\":\"x\",\"c\":[1,2,{\"d\":null}],\"e\":true,\"f\":1.5e3}",
	"{\"a\":\"12\",\"b\":\"\",\"c\":{},\"action\":\"purchase\",\"ts\":\"2026-11-01T10:00:00Z\"}",
	"{\"a\":-9223372036854775808,\"b\":null,\"f\":\"nan\",\"price\":19.99,\"quantity\":3}",
	/* UTF-8 and a byte that is not, and a list of mixed items. */
	("{\"b\":\"\xc3\x89t\xc3\xa9 \xc3\xbf\xe2\x82\xac\xff\","
	    "\"c\":[{\"d\":2.345},\"x,y\",[]],\"ts\":1307000000123}"),
	/* Nested, spaced, repeated keys: the last one counts, as in json-c. */
	("{ \"c\" : { \"d\" : \"x\" , \"d\" : [ 5 , \"]\" ] , \"1\" : 50 } ,"
	    " \"action\" : \"buy\", \"a\" : 5e1, \"a\": 50.0 }"),
	"{\"c\":{\"d\":{\"e\":[[],{}]}},\"m\":\"not c.d\",\"action\":\"purchase\"}",
	/* What json-c writes otherwise than the line: -0, a spaced object. */
	("{\"a\":-0,\"b\":-0.0,\"c\":{ \"d\" : -0 , \"d\" : 1E5 },"
	    "\"f\":123456789012345678901234,\"e\":\"\xc3\xa9/\x7f\"}"),
};

static void
setup(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	(void)ecs_common_option(ECS_OPT_MAP, "m=c.d");
	(void)ecs_common_option(ECS_OPT_MAP, "q=c.1");
	(void)ecs_common_option(ECS_OPT_MAP_ACTION, "buy=purchase");
}

/* A field captured from the bytes is the value json-c finds (as f_json). */
static void
check_capture(const struct ecs_field *f, const struct ecs_field *f_json)
{
	struct ecs_num x, y;

	if (f->type != f_json->type)
		abort();
	if (f->type == ECS_F_STRING && (f->len != f_json->len ||
	    memcmp(f->text, f_json->text, f->len) != 0))
		abort();
	/* json-c writes an integer anew (-0 as 0), keeps a double's text. */
	if (f->type == ECS_F_NUMBER && (!ecs_num_parse(f->text, f->len, &x) ||
	    !ecs_num_parse(f_json->text, f_json->len, &y) ||
	    x.is_int != y.is_int || (x.is_int && x.i != y.i) ||
	    (!x.is_int && (f->len != f_json->len ||
	    memcmp(f->text, f_json->text, f->len) != 0))))
		abort();
}

/*
 * On a plain line: the fields captured from the bytes (f) are the values
 * of rec, the reader's record, as json-c writes them (objects and arrays
 * once compacted, unless they repeat a key); e's text from the fields is
 * its text from rec.
 */
static void
check_as_written(struct ecs_expr *e, struct ecs_fieldset *fs,
    const struct ecs_field *f, struct json_object *rec)
{
	struct ecs_field w;
	struct ecs_buf compact = { 0 };
	struct json_object *v;
	const char *canon, *text, *want;
	char buf[64], wbuf[64], *copy;
	size_t i, clen, len, wlen;
	bool found, fast;

	for (i = 0; i < fs->n; i++) {
		found = ecs_path_find(fs->path[i], rec, &v);
		ecs_field_from_json(v, found, &w);
		if (fs->path[i]->is_action && w.type == ECS_F_STRING &&
		    (canon = ecs_action_canon(w.text, w.len, &clen)) != NULL)
			w = (struct ecs_field){ ECS_F_STRING, canon, clen,
			    NULL };
		if (f[i].type != w.type || (w.type != ECS_F_OTHER &&
		    w.type != ECS_F_MISSING && (f[i].len != w.len ||
		    memcmp(f[i].text, w.text, w.len) != 0)))
			abort();
		ecs_buf_reset(&compact);
		if (w.type == ECS_F_OTHER &&
		    ecs_field_compact(&f[i], &compact)) {
			w.text = json_object_to_json_string_length(v,
			    JSON_C_TO_STRING_PLAIN |
			    JSON_C_TO_STRING_NOSLASHESCAPE, &w.len);
			if (compact.len != w.len ||
			    memcmp(compact.p, w.text, w.len) != 0)
				abort();
		}
	}
	ecs_buf_free(&compact);
	(void)ecs_expr_take_error();
	fast = ecs_expr_text_fields(e, f, buf, &text, &len);
	if (ecs_expr_take_error() != NULL)
		return;
	/* The text lives in e's scratch, which the next evaluation empties. */
	copy = malloc(fast ? len + 1 : 1);
	if (fast)
		memcpy(copy, text, len);
	found = ecs_expr_text(e, rec, wbuf, &want, &wlen);
	if (ecs_expr_take_error() == NULL && (found != fast ||
	    (found && (len != wlen || memcmp(copy, want, len) != 0))))
		abort();
	free(copy);
}

/*
 * Checks e on line: json-c's record against its fields read through
 * json-c, and against the fields captured from the bytes when the line is
 * plain, where the pre-check must not rule out a match.
 */
static void
check_line(struct ecs_expr *e, struct ecs_fieldset *fs, struct ecs_field *f,
    struct ecs_reader *rd, const char *line, size_t len)
{
	struct json_object *rec, *v;
	struct ecs_field *fast = calloc(fs->n + 1, sizeof(*fast));
	const char *canon;
	char why[80];
	size_t i, clen;
	bool holds, found, captured;

	(void)ecs_expr_take_error();
	rd->line = (char *)line;
	rd->len = len;
	if ((captured = ecs_fields_capture(fs, line, len, f)))
		memcpy(fast, f, fs->n * sizeof(*f));
	if (captured) {
		/* A plain line: json-c takes it, as the reader would. */
		if ((rec = ecs_reader_parse(rd)) == NULL)
			abort();
		holds = ecs_expr_match_fields(e, f);
		if (holds != ecs_expr_match(e, rec))
			abort();
		if (holds && ecs_expr_take_error() == NULL &&
		    !ecs_expr_may_match(e, line, len))
			abort();
		check_as_written(e, fs, f, rec);
		json_object_put(rec);
	}
	if ((rec = json_tokener_parse(line)) == NULL ||
	    !json_object_is_type(rec, json_type_object)) {
		json_object_put(rec);
		free(fast);
		return;
	}
	/*
	 * json-c alone clamps an integer past 64 bits (to 18446744073709551615
	 * or its negative bound); the reader gives a valid line its exact
	 * integers, as the scan's captures have them.
	 */
	if (ecs_json_not_rfc8259(line, len, &clen, why, sizeof(why)) == NULL)
		rec = ecs_json_exact_ints(rd->tok, line, len, rec);
	for (i = 0; i < fs->n; i++) {
		found = ecs_path_find(fs->path[i], rec, &v);
		ecs_field_from_json(v, found, &f[i]);
		/* What ecs_fields_read does for --map-action. */
		if (fs->path[i]->is_action && f[i].type == ECS_F_STRING &&
		    (canon = ecs_action_canon(f[i].text, f[i].len,
		    &clen)) != NULL)
			f[i] = (struct ecs_field){ ECS_F_STRING, canon, clen,
			    NULL };
		if (captured)
			check_capture(&fast[i], &f[i]);
	}
	if (ecs_expr_match(e, rec) != ecs_expr_match_fields(e, f))
		abort();
	json_object_put(rec);
	free(fast);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ecs_fieldset fs;
	struct ecs_field *f;
	struct ecs_reader rd;
	struct ecs_expr *e;
	struct ecs_dec d;
	char msg[256], *src = malloc(size + 1), buf[64];
	const char *text;
	size_t i, len, srclen;
	double x;
	bool is_string;

	setup();
	memcpy(src, data, size);
	src[size] = '\0';
	srclen = strlen(src);
	/* now() may tick between the two evaluations that must agree. */
	if (strstr(src, "now") != NULL ||
	    (e = ecs_expr_compile(src, msg, sizeof(msg))) == NULL) {
		free(src);
		return 0;
	}
	memset(&rd, 0, sizeof(rd));
	rd.tok = json_tokener_new();
	ecs_fields_init(&fs, NULL, 0);
	ecs_expr_bind(e, &fs);
	f = calloc(fs.n + 1, sizeof(*f));
	for (i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
		check_line(e, &fs, f, &rd, records[i], strlen(records[i]));
		if (ecs_fields_capture(&fs, records[i], strlen(records[i]), f)) {
			(void)ecs_expr_eval_dec(e, f, &d);
			(void)ecs_expr_eval_double(e, f, &x);
			(void)ecs_expr_eval_key(e, f, buf, &text, &len,
			    &is_string);
		}
	}
	/* The line after the NUL, up to the next NUL (json-c stops there). */
	if (srclen < size)
		check_line(e, &fs, f, &rd, src + srclen + 1,
		    strlen(src + srclen + 1));
	(void)ecs_expr_take_error();
	free(f);
	ecs_fields_finish(&fs);
	json_tokener_free(rd.tok);
	ecs_expr_free(e);
	free(src);
	return 0;
}
