/* SPDX-License-Identifier: ISC */
/*
 * fuzz-scan -- a differential target for the fast path in front of json-c:
 * whatever ecs_scan_plain_object accepts, json-c must accept as one object;
 * the fields ecs_scan_fields captures must be the values json-c finds; and
 * an expression's literal pre-check must never rule out a line that the
 * full evaluation keeps. Every scan path this CPU runs (portable, SSE2,
 * AVX2) must give the same answer and capture the same fields. Any
 * disagreement aborts.
 */
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "ecs_expr.h"
#include "../scan-paths.h"

static const char *keys[] = { "action", "product_id", "a", "ts" };
static size_t lens[] = { 6, 10, 1, 2 };
static const struct ecs_scan_keys want = { .key = keys, .len = lens,
    .n = 4 };

static struct json_object *
parse(const char *s, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(64);
	struct json_object *o;
	size_t col;
	char why[80];

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)len + 1);
	/* The reader's judge: json-c, less what RFC 8259 does not allow. */
	if (o != NULL && (!json_object_is_type(o, json_type_object) ||
	    json_tokener_get_parse_end(tok) < len ||
	    ecs_json_not_rfc8259(s, len, &col, why, sizeof(why)) != NULL)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_reset(tok);
	if (o != NULL)		/* as the reader does */
		o = ecs_json_exact_ints(tok, s, len, o);
	json_tokener_free(tok);
	return o;
}

static void
check_field(const struct ecs_field *f, struct json_object *rec, const char *k)
{
	struct json_object *v;
	struct ecs_num x, y;

	if (!json_object_object_get_ex(rec, k, &v)) {
		if (f->type != ECS_F_MISSING)
			abort();
		return;
	}
	switch (json_object_get_type(v)) {
	case json_type_string:
		if (f->type != ECS_F_STRING ||
		    f->len != (size_t)json_object_get_string_len(v) ||
		    memcmp(f->text, json_object_get_string(v), f->len) != 0)
			abort();
		break;
	case json_type_int:
		if (f->type != ECS_F_NUMBER || !ecs_num_parse(f->text, f->len,
		    &x) || !ecs_num_from_json(v, &y) || !x.is_int ||
		    !y.is_int || x.i != y.i)
			abort();
		break;
	case json_type_double:		/* the text, exactly as written */
		if (f->type != ECS_F_NUMBER || f->len != strlen(
		    json_object_get_string(v)) || memcmp(f->text,
		    json_object_get_string(v), f->len) != 0)
			abort();
		break;
	case json_type_null:
		if (f->type != ECS_F_NULL)
			abort();
		break;
	case json_type_boolean:
		if (f->type != ECS_F_BOOL)
			abort();
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ecs_expr *e;
	char msg[128], *line = malloc(size + 1);
	struct ecs_field f[SCAN_PATHS_KEYS];
	struct json_object *rec;
	const char *which;
	bool accepted;
	size_t i;

	if (e == NULL)
		e = ecs_expr_compile("action == \"purchase\" or exists(a)", msg,
		    sizeof(msg));
	memcpy(line, data, size);
	line[size] = '\0';
	if (!scan_paths_agree(line, size, &want, f, &accepted, &which))
		abort();
	if (ecs_scan_plain_object(line, size)) {
		if ((rec = parse(line, size)) == NULL)
			abort();
		if (!ecs_scan_fields(line, size, &want, f))
			abort();
		for (i = 0; i < 4; i++)
			check_field(&f[i], rec, keys[i]);
		if (!ecs_expr_may_match(e, line, size) && ecs_expr_match(e, rec))
			abort();
		json_object_put(rec);
	}
	free(line);
	return 0;
}
