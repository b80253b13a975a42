/* SPDX-License-Identifier: ISC */
/*
 * fuzz-join-record -- ecs-join's record step, differential: an event that
 * the reader accepts is joined with a fixed table twice, once through the
 * fast walk over its text, the key captured from its bytes (when it is
 * plain), and once through json-c's object, with and without --overwrite,
 * on a top-level key and on nested ones. Both must give one JSON object,
 * and the same one; a row must match or not match the same way.
 */
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "ecs_buf.h"
#include "ecs_lookup.h"

static const char *const rows[] = {
	"{\"product_id\":\"A\",\"desc\":\"x \\\"y\\\"\",\"cost\":1.50}",
	"{\"product_id\":7,\"a\":{\"b\":[1,2]},\"n\":null}",
	"{\"product_id\":123456789012345678901234567890,\"big\":true}",
	"{\"product_id\":\"\",\"e\":\"\"}",
	"{\"product_id\":\"A\",\"cost\":2,\"cost\":3}",
};

/* The events' keys, tried in turn: top-level, nested, in an array. */
static const char *const keys[] = { "product_id", "p.id", "p.l[1]" };
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

static struct json_tokener *tok;

/* The reader's judge and its parse; NULL when the reader refuses s. */
static struct json_object *
parse(const char *s, size_t len)
{
	struct json_object *o;
	size_t col;
	char why[80];

	o = json_tokener_parse_ex(tok, s, (int)len + 1);
	if (o != NULL && (!json_object_is_type(o, json_type_object) ||
	    json_tokener_get_parse_end(tok) < len ||
	    ecs_json_not_rfc8259(s, len, &col, why, sizeof(why)) != NULL)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_reset(tok);
	if (o != NULL)
		o = ecs_json_exact_ints(tok, s, len, o);
	return o;
}

static struct ecs_lookup *
table(void)
{
	struct ecs_lookup *lk = ecs_lookup_create("product_id", "");
	struct json_object *rec;
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		rec = ecs_scan_plain_object(rows[i], strlen(rows[i])) ? NULL :
		    parse(rows[i], strlen(rows[i]));
		if (!ecs_lookup_add(lk, rows[i], strlen(rows[i]), rec, &why))
			abort();
		json_object_put(rec);
	}
	return lk;
}

/* One join of line by key, the slow way (rec) or the fast one (NULL). */
static bool
join(struct ecs_lookup *lk, struct ecs_fieldset *fs, const char *line,
    size_t len, struct json_object *rec, bool overwrite, struct ecs_buf *out)
{
	struct json_object *v;
	struct ecs_field kf;
	bool found;

	if (rec == NULL) {
		if (!ecs_fields_capture(fs, line, len, &kf))
			abort();	/* a plain line is always captured */
	} else {
		found = ecs_path_find(fs->path[0], rec, &v);
		ecs_field_from_json(v, found, &kf);
	}
	return ecs_lookup_join(lk, &kf, line, len, rec, overwrite, out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ecs_lookup *lk;
	static struct ecs_fieldset fs[NKEYS];
	struct ecs_buf fast = ECS_BUF_INIT, slow = ECS_BUF_INIT;
	struct json_object *rec, *a, *b;
	char *line = malloc(size + 1);
	const char *why;
	bool overwrite, got_fast, got_slow;
	size_t k;

	if (tok == NULL) {
		tok = json_tokener_new_ex(64);
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
		    JSON_TOKENER_VALIDATE_UTF8);
		lk = table();
		for (k = 0; k < NKEYS; k++) {
			ecs_fields_init(&fs[k], NULL, 0);
			ecs_fields_add(&fs[k], ecs_path_compile(keys[k], &why));
		}
	}
	memcpy(line, data, size);
	line[size] = '\0';
	for (k = 0; k < NKEYS; k++)
	for (overwrite = false; ; overwrite = true) {
		if ((rec = parse(line, size)) == NULL)
			break;
		got_slow = join(lk, &fs[k], line, size, rec, overwrite, &slow);
		json_object_put(rec);
		if (!ecs_scan_plain_object(line, size)) {
			if (overwrite)
				break;
			continue;
		}
		got_fast = join(lk, &fs[k], line, size, NULL, overwrite, &fast);
		if (got_fast != got_slow)
			abort();
		if (got_fast) {
			a = parse(fast.p, fast.len);
			b = parse(slow.p, slow.len);
			if (a == NULL || b == NULL || !json_object_equal(a, b))
				abort();
			json_object_put(a);
			json_object_put(b);
		}
		if (overwrite)
			break;
	}
	ecs_buf_free(&fast);
	ecs_buf_free(&slow);
	free(line);
	return 0;
}
