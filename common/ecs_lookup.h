/* SPDX-License-Identifier: ISC */
/*
 * ecs_lookup.h -- a keyed table of rows (a catalogue) and the join of one
 * event line with it: ecs-join's engine, apart so that the fuzz targets
 * drive the same code. Keys are compared by text: a string's characters
 * or a number as written, so "85123A" and 85123 differ, "85123" and 85123
 * do not, and 30-digit ids stay whole. A row keeps its fields as JSON text,
 * so an event gains them exactly as the table wrote them.
 *
 * Ownership: a table is owned by its creator (ecs_lookup_destroy); it
 * copies everything it is given.
 */
#ifndef ECS_LOOKUP_H
#define ECS_LOOKUP_H

#include "ecs.h"
#include "ecs_buf.h"

struct ecs_lookup;

/*
 * An empty table keyed by the top-level field key_field of its rows; the
 * other fields are added to events as prefix + name.
 */
struct ecs_lookup *ecs_lookup_create(const char *key_field, const char *prefix);
void	 ecs_lookup_destroy(struct ecs_lookup *);

/*
 * Adds (or, for a key already there, replaces: the latest wins) the row
 * line[0..len), which must be a plain object (ecs_scan_plain_object), or,
 * when rec is not NULL, the row json-c read (borrowed). False with *why
 * (static text: "is missing", ...) when the row has no usable key.
 */
bool	 ecs_lookup_add(struct ecs_lookup *, const char *line, size_t len,
	    struct json_object *rec, const char **why);
/* Rows held; keys that came again (the latest row kept) since creation. */
size_t	 ecs_lookup_count(const struct ecs_lookup *);
unsigned long long ecs_lookup_duplicates(const struct ecs_lookup *);

/*
 * Reads a whole table file (NDJSON, or CSV/TSV by fmt) through the shared
 * reader, bad rows reported as file:line: reason on standard error when
 * report is true (never counted against --max-errors, nor written to
 * --reject). NULL when the file cannot be read or any row is bad: *nbad
 * says how many (0 for an I/O error, reported). The table is owned by the
 * caller.
 */
struct ecs_lookup *ecs_lookup_load(const char *path,
	    enum ecs_input_format fmt, const char *key_field,
	    const char *prefix, bool report, unsigned long long *nbad);

/*
 * The event line[0..len) joined with the table: false when its key
 * (*key, as ecs_fields read it, --map applied) has no row or is no string
 * or number. Otherwise out holds the event with the row's fields added
 * after its own (no newline). rec is NULL when line is a plain object
 * (ecs_fields_capture read the key from its bytes); else it is the event
 * json-c read (borrowed; --overwrite deletes the replaced fields from
 * it). With overwrite the row's fields replace the event's of the same
 * name; without, the event's own fields win.
 */
bool	 ecs_lookup_join(struct ecs_lookup *, const struct ecs_field *key,
	    const char *line, size_t len, struct json_object *rec,
	    bool overwrite, struct ecs_buf *out);

#endif /* ECS_LOOKUP_H */
