/* SPDX-License-Identifier: ISC */
/*
 * scan-check -- a differential test of the fast path in front of json-c.
 * For every input line, and for mutations of the first 300 short lines
 * (each byte deleted, and each byte replaced by a few troublesome ones), ecs_scan_plain_object()
 * must never call a line a valid object that the reader's judge (json-c,
 * less what RFC 8259 does not allow) rejects, and whenever
 * it does accept one, an expression's literal pre-check must never rule
 * out a line that the full evaluation keeps, and the top-level fields it
 * captures (ecs_scan_fields) must be the values json-c finds; and every
 * scan path this CPU runs (portable, SSE2, AVX2) must give the same answer
 * and capture the same fields. Prints each
 * disagreement;
 * exits 1 if there was one. Built for the tests only.
 */
#include <err.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "ecs_expr.h"
#include "scan-paths.h"

static const char *field_keys[] = { "product_id", "action", "quantity",
    "ts", "a", "b" };
static size_t field_lens[] = { 10, 6, 8, 2, 1, 1 };
static const struct ecs_scan_keys fields = { .key = field_keys,
    .len = field_lens, .n = 6 };
static struct json_tokener *tok;
static struct ecs_expr *expr;
static unsigned long long checked, disagreements;

/* json-c's record for line, as the reader judges and reads it, or NULL. */
static struct json_object *
parse(const char *line, size_t len)
{
	struct json_object *rec = scan_paths_judge(tok, line, len);

	return rec != NULL ? ecs_json_exact_ints(tok, line, len, rec) : NULL;
}

/* Whether a captured field holds the value json-c has for it. */
static bool
same_value(const struct ecs_field *f, struct json_object *rec,
    const char *key)
{
	struct json_object *v, *raw;
	struct ecs_num x, y;
	char *text;
	bool same;

	if (!json_object_object_get_ex(rec, key, &v))
		return f->type == ECS_F_MISSING;
	switch (json_object_get_type(v)) {
	case json_type_null:
		return f->type == ECS_F_NULL;
	case json_type_boolean:
		return f->type == ECS_F_BOOL && (f->text[0] == 't') ==
		    (json_object_get_boolean(v) != 0);
	case json_type_string:
		return f->type == ECS_F_STRING &&
		    f->len == (size_t)json_object_get_string_len(v) &&
		    memcmp(f->text, json_object_get_string(v), f->len) == 0;
	case json_type_int:
	case json_type_double:
		return f->type == ECS_F_NUMBER &&
		    ecs_num_parse(f->text, f->len, &x) &&
		    ecs_num_from_json(v, &y) && (ecs_num_cmp(&x, &y) == 0 ||
		    (isnan(x.d) && isnan(y.d)) || (!x.is_int && !y.is_int &&
		    x.d == y.d));
	default:
		text = ecs_xstrndup(f->text, f->len);
		raw = ecs_json_exact_ints(tok, text, f->len,
		    json_tokener_parse(text));
		same = f->type == ECS_F_OTHER && json_object_equal(raw, v);
		json_object_put(raw);
		free(text);
		return same;
	}
}

static void
check_fields(const char *line, size_t len, struct json_object *rec)
{
	struct ecs_field out[6];
	size_t i;

	if (!ecs_scan_fields(line, len, &fields, out)) {
		disagreements++;
		printf("scan_fields rejects what scan accepts: %.*s\n",
		    (int)len, line);
		return;
	}
	for (i = 0; i < fields.n; i++)
		if (!same_value(&out[i], rec, field_keys[i])) {
			disagreements++;
			printf("field %s differs from json-c: %.*s\n",
			    field_keys[i], (int)len, line);
		}
}

static void
check(const char *line, size_t len)
{
	struct json_object *rec = parse(line, len);
	bool fast = ecs_scan_plain_object(line, len), accepted;
	struct ecs_field out[SCAN_PATHS_KEYS];
	const char *which;

	checked++;
	if (!scan_paths_agree(line, len, &fields, out, &accepted, &which)) {
		disagreements++;
		printf("scan path %s differs from the portable one: %.*s\n",
		    which, (int)len, line);
	}
	if (fast && rec == NULL) {
		disagreements++;
		printf("scan accepts what json-c rejects: %.*s\n", (int)len, line);
	}
	if (fast && rec != NULL)
		check_fields(line, len, rec);
	if (fast && rec != NULL && expr != NULL &&
	    !ecs_expr_may_match(expr, line, len) && ecs_expr_match(expr, rec)) {
		disagreements++;
		printf("pre-check rules out a match: %.*s\n", (int)len, line);
	}
	json_object_put(rec);
}

static void
check_mutations(const char *line, size_t len)
{
	static const char subst[] = { '"', '\\', '{', '}', ',', ':', '\0',
	    '\x80', '\xff', ' ', '1', 'e', '-', '.', '[', ']', '\'', '\t',
	    'N', 'I', '0' };
	char *buf = ecs_xmalloc(len + 2);
	size_t i, k;

	for (i = 0; i < len; i++) {
		memcpy(buf, line, i);
		memcpy(buf + i, line + i + 1, len - i - 1);
		buf[len - 1] = '\0';
		check(buf, len - 1);
		for (k = 0; k < sizeof(subst); k++) {
			memcpy(buf, line, len);
			buf[i] = subst[k];
			buf[len] = '\0';
			check(buf, len);
		}
	}
	free(buf);
}

int
main(int argc, char *argv[])
{
	char msg[256], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int mutated = 0;

	if (argc > 2)
		errx(2, "usage: scan-check [expr] < lines");
	if (argc == 2 && (expr = ecs_expr_compile(argv[1], msg,
	    sizeof(msg))) == NULL)
		errx(2, "expression:%s", msg);
	tok = json_tokener_new_ex(64);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		check(line, (size_t)n);
		/* Mutations cost ~2,000 checks a line: keep CI under ASan fast. */
		if (n < 400 && mutated++ < 300)
			check_mutations(line, (size_t)n);
	}
	printf("%llu lines checked, %llu disagreements\n", checked,
	    disagreements);
	free(line);
	json_tokener_free(tok);
	ecs_expr_free(expr);
	return disagreements > 0;
}
