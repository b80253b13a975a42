/* SPDX-License-Identifier: ISC */
/*
 * scan-paths.h -- for the test programs (unit-scan, scan-check,
 * fuzz-scan): run a line through every scan path this CPU can run
 * (ecs_scan_use) and check that they all give the same answer and capture
 * the same fields, byte for byte. A path this CPU cannot run is counted in
 * scan_paths_skipped, so that a test can say it did not check it.
 */
#ifndef SCAN_PATHS_H
#define SCAN_PATHS_H

#include <stdbool.h>
#include <string.h>

#include "ecs.h"

#define SCAN_PATHS_KEYS	8		/* the most keys a test asks for */

static unsigned long scan_paths_skipped;

/*
 * True when every path agrees on line[0..len): *accepted is then their
 * answer and out[0..want->n) the fields captured (meaningful only when
 * accepted). When they disagree, *which names the first path that differs
 * from the portable one. The best path is selected again at the end.
 */
static inline bool
scan_paths_agree(const char *line, size_t len,
    const struct ecs_scan_keys *want, struct ecs_field *out, bool *accepted,
    const char **which)
{
	struct ecs_field f[SCAN_PATHS_KEYS], g[SCAN_PATHS_KEYS], *mine;
	struct ecs_scan_keys hashed = *want;
	const char *name;
	bool plain, fields, agree = true;
	size_t i, k;

	ecs_scan_keys_hash(&hashed);	/* as ecs_fields keeps its keys */
	*accepted = false;

	for (i = 0; agree && (name = ecs_scan_path_name(i)) != NULL; i++) {
		if (ecs_scan_use(name) != 0) {
			scan_paths_skipped++;
			continue;
		}
		*which = name;
		plain = ecs_scan_plain_object(line, len);
		mine = i == 0 ? out : f;
		fields = ecs_scan_fields(line, len, want, mine);
		/* The owner's table finds what the scan's own finds. */
		if (ecs_scan_fields(line, len, &hashed, g) != fields)
			agree = false;
		for (k = 0; fields && k < want->n; k++)
			if (g[k].type != mine[k].type ||
			    g[k].text != mine[k].text || g[k].len != mine[k].len)
				agree = false;
		if (plain != fields)
			agree = false;
		else if (i == 0)
			*accepted = plain;
		else if (plain != *accepted)
			agree = false;
		else if (plain)
			for (k = 0; k < want->n; k++)
				if (f[k].type != out[k].type ||
				    f[k].text != out[k].text ||
				    f[k].len != out[k].len)
					agree = false;
	}
	ecs_scan_use(NULL);
	return agree;
}

/*
 * json-c's record for line (with its NUL at len, as the reader's lines
 * have), as the reader judges it, or NULL: an object that is the whole
 * line, less what RFC 8259 does not allow. tok is the caller's, reset.
 */
static inline struct json_object *
scan_paths_judge(struct json_tokener *tok, const char *line, size_t len)
{
	struct json_object *rec;
	size_t end, col;
	char why[80];

	rec = json_tokener_parse_ex(tok, line, (int)len + 1);
	end = json_tokener_get_parse_end(tok);
	json_tokener_reset(tok);
	if (rec != NULL && (!json_object_is_type(rec, json_type_object) ||
	    end < len || ecs_json_not_rfc8259(line, len, &col, why,
	    sizeof(why)) != NULL)) {
		json_object_put(rec);
		rec = NULL;
	}
	return rec;
}

#endif /* SCAN_PATHS_H */
