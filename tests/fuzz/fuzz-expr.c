/* SPDX-License-Identifier: ISC */
/*
 * fuzz-expr -- the expression language on hostile text: compile it, and
 * when it compiles evaluate it against records of every value type, both
 * on json-c records and on captured fields, which must agree.
 */
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "ecs_expr.h"

static const char *records[] = {
	"{\"a\":1,\"b\":\"x\",\"c\":[1,2,{\"d\":null}],\"e\":true,\"f\":1.5e3}",
	"{\"a\":\"12\",\"b\":\"\",\"c\":{},\"action\":\"purchase\",\"ts\":\"2026-11-01T10:00:00Z\"}",
	"{\"a\":-9223372036854775808,\"b\":null,\"f\":\"nan\",\"price\":19.99,\"quantity\":3}",
	/* UTF-8 and a byte that is not, and a list of mixed items. */
	("{\"b\":\"\xc3\x89t\xc3\xa9 \xc3\xbf\xe2\x82\xac\xff\","
	    "\"c\":[{\"d\":2.345},\"x,y\",[]],\"ts\":1307000000123}"),
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ecs_fieldset fs;
	struct ecs_field *f;
	struct ecs_reader rd;
	struct ecs_expr *e;
	struct json_object *rec;
	struct ecs_dec d;
	char msg[256], *src = malloc(size + 1), buf[64];
	const char *text;
	size_t i, len;
	double x;
	bool is_string;

	memcpy(src, data, size);
	src[size] = '\0';
	/* now() may tick between the two evaluations that must agree. */
	if (strstr(src, "now") != NULL ||
	    (e = ecs_expr_compile(src, msg, sizeof(msg))) == NULL) {
		free(src);
		return 0;
	}
	memset(&rd, 0, sizeof(rd));
	ecs_fields_init(&fs, NULL, 0);
	ecs_expr_bind(e, &fs);
	f = calloc(fs.n + 1, sizeof(*f));
	for (i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
		rec = json_tokener_parse(records[i]);
		rd.line = (char *)records[i];
		rd.len = strlen(records[i]);
		if (ecs_fields_capture(&fs, rd.line, rd.len, f) &&
		    ecs_expr_match(e, rec) != ecs_expr_match_fields(e, f))
			abort();
		(void)ecs_expr_eval_dec(e, f, &d);
		(void)ecs_expr_eval_double(e, f, &x);
		(void)ecs_expr_eval_key(e, f, buf, &text, &len, &is_string);
		json_object_put(rec);
	}
	free(f);
	ecs_fields_finish(&fs);
	ecs_expr_free(e);
	free(src);
	return 0;
}
