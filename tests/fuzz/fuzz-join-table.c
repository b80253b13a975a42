/* SPDX-License-Identifier: ISC */
/*
 * fuzz-join-table -- ecs-join's table loader on hostile bytes: the first
 * byte picks NDJSON, CSV or TSV, the rest is the table file, read through
 * the shared reader (small --max-line, so long and cut lines come up).
 * A table that loads is joined with a few events, and every joined line
 * must be one JSON object that json-c reads. Nothing may crash or leak.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ecs.h"
#include "ecs_buf.h"
#include "ecs_lookup.h"

static const char *const events[] = {
	"{\"product_id\":\"A\",\"n\":1}",
	"{\"product_id\":1,\"p_x\":2}",
	"{\"product_id\":\"1\"}",
	"{}",
};

/* Joined lines must be JSON objects: abort otherwise. */
static void
check(const struct ecs_buf *out)
{
	struct json_tokener *tok = json_tokener_new_ex(64);
	struct json_object *o;

	o = json_tokener_parse_ex(tok, out->p, (int)out->len);
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    json_tokener_get_parse_end(tok) != out->len)
		abort();
	json_object_put(o);
	json_tokener_free(tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum ecs_input_format fmts[] = {
		ECS_INPUT_NDJSON, ECS_INPUT_CSV, ECS_INPUT_TSV,
	};
	struct ecs_lookup *lk;
	struct ecs_path *key;
	struct ecs_fieldset fs;
	struct ecs_field kf;
	struct ecs_buf out = ECS_BUF_INIT;
	unsigned long long nbad;
	char path[64];
	const char *why;
	size_t i;
	int fd;

	if (size == 0)
		return 0;
	if ((fd = memfd_create("table", 0)) == -1 ||
	    write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ecs_config.quiet = true;
	ecs_config.max_line = 200;
	lk = ecs_lookup_load(path, fmts[data[0] % 3], "product_id", "p_",
	    true, &nbad);
	if (lk != NULL) {
		key = ecs_path_compile("product_id", &why);
		ecs_fields_init(&fs, NULL, 0);
		ecs_fields_add(&fs, key);
		for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
			if (ecs_fields_capture(&fs, events[i],
			    strlen(events[i]), &kf) &&
			    ecs_lookup_join(lk, &kf, events[i],
			    strlen(events[i]), NULL, i % 2 == 1, &out))
				check(&out);
		ecs_fields_finish(&fs);
		ecs_path_free(key);
	}
	ecs_lookup_destroy(lk);
	ecs_buf_free(&out);
	close(fd);
	return 0;
}
