/* SPDX-License-Identifier: ISC */
/*
 * fuzz-csv -- the CSV and TSV readers (-i csv, -i tsv) on hostile bytes:
 * the first byte picks the separator and a small --max-line, the rest is
 * the file. Each row the reader makes is an NDJSON line that the rest of
 * a program reads as it reads any other, so it must be one JSON object
 * that json-c reads whole, and when it is in the plain subset the fast
 * scan takes (no escapes), the fast scan and json-c must capture the same
 * fields from it. Nothing may crash or leak.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ecs.h"

static const char *const names[] = { "a", "b", "user_id", "" };
#define NNAMES	(sizeof(names) / sizeof(names[0]))

/* The row's line must be a JSON object json-c reads to its end. */
static void
check_json(const char *line, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(64);
	struct json_object *o;

	o = json_tokener_parse_ex(tok, line, (int)len);
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    json_tokener_get_parse_end(tok) != len)
		abort();
	json_object_put(o);
	json_tokener_free(tok);
}

/* The fast scan's fields equal json-c's (ecs_fields_read's two ways). */
static void
check_fields(const char *line, size_t len)
{
	struct ecs_scan_keys want;
	struct ecs_field fast[NNAMES], slow;
	struct json_object *o, *v;
	const char *key[NNAMES];
	size_t klen[NNAMES], i;
	bool found;

	for (i = 0; i < NNAMES; i++) {
		key[i] = names[i];
		klen[i] = strlen(names[i]);
	}
	want = (struct ecs_scan_keys){ .key = key, .len = klen, .n = NNAMES };
	if (!ecs_scan_fields(line, len, &want, fast))
		return;		/* escapes: read by json-c, as any such line */
	o = json_tokener_parse(line);
	for (i = 0; i < NNAMES; i++) {
		found = json_object_object_get_ex(o, names[i], &v);
		ecs_field_from_json(v, found, &slow);
		if (fast[i].type != slow.type)
			abort();
		/* A plain string has no escapes: captured as it is. */
		if (slow.type == ECS_F_STRING && (fast[i].len != slow.len ||
		    memcmp(fast[i].text, slow.text, slow.len) != 0))
			abort();
	}
	json_object_put(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ecs_reader rd;
	char path[64], *files[1] = { path };
	int fd;

	if (size == 0)
		return 0;
	if ((fd = memfd_create("csv", 0)) == -1 ||
	    write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ecs_config.quiet = true;
	ecs_config.input_format = data[0] & 1 ? ECS_INPUT_TSV : ECS_INPUT_CSV;
	ecs_config.max_line = 40 + (size_t)(data[0] >> 1) * 4;
	ecs_reader_init(&rd, files, 1);
	while (ecs_reader_line(&rd)) {
		check_json(rd.line, rd.len);
		check_fields(rd.line, rd.len);
	}
	(void)ecs_reader_finish(&rd);
	close(fd);
	return 0;
}
