/* SPDX-License-Identifier: ISC */
/*
 * fuzz-table -- the writer of -o csv, tsv and table (ecs_table.c) on
 * hostile lines: the first byte picks the format, the rest is lines. A
 * line reaches the writer as ecs-filter passes it on, so it may be any
 * object the reader accepts (repeated keys, escapes, deep nesting) or,
 * from a program's own output, anything at all.
 *
 * The writer has three ways to a row: from the members the validating scan
 * found (tops_row), from its own walk of a line under the current header
 * (fast_row), and from a full walk (scan_record). Every line goes to one
 * writer with the scan's members, when the scan takes the line, and to a
 * second without them: both must write the same bytes and end with the
 * same status. Nothing may crash or leak.
 */
#include <stdlib.h>
#include <string.h>

#include "ecs.h"

/* What each writer wrote, for this input. */
struct sink {
	char	*p;
	size_t	 len, cap;
};
static struct sink with_tops, without_tops;

static void
sink_add(struct sink *s, const void *p, size_t n)
{
	if (n > s->cap - s->len) {
		s->cap = s->len + n + 4096;
		s->p = realloc(s->p, s->cap);
		if (s->p == NULL)
			abort();
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
}

static void
write_with_tops(const void *p, size_t n)
{
	sink_add(&with_tops, p, n);
}

static void
write_without_tops(const void *p, size_t n)
{
	sink_add(&without_tops, p, n);
}

/* One line to both writers: with the scan's members where it has them. */
static void
convert(struct ecs_table *a, struct ecs_table *b, const char *line,
    size_t len)
{
	static struct ecs_scan_tops tops;
	struct ecs_scan_keys none = { 0 };
	struct ecs_field unused;

	if (ecs_scan_fields_tops(line, len, &none, &unused, &tops))
		ecs_table_line_tops(a, line, len, &tops);
	else
		ecs_table_line(a, line, len);
	ecs_table_line(b, line, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum ecs_output_format formats[] = {
		ECS_OUTPUT_CSV, ECS_OUTPUT_TSV, ECS_OUTPUT_TABLE };
	const char *p, *end, *nl;
	struct ecs_table *a, *b;
	int status_a, status_b;

	if (size == 0)
		return 0;
	ecs_config.quiet = true;
	a = ecs_table_create(formats[data[0] % 3], write_with_tops);
	b = ecs_table_create(formats[data[0] % 3], write_without_tops);
	with_tops.len = without_tops.len = 0;
	p = (const char *)data + 1;
	end = (const char *)data + size;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		convert(a, b, p, (size_t)((nl != NULL ? nl : end) - p));
		p = nl != NULL ? nl + 1 : end;
	}
	status_a = ecs_table_destroy(a);
	status_b = ecs_table_destroy(b);
	if (status_a != status_b || with_tops.len != without_tops.len ||
	    (with_tops.len > 0 &&
	    memcmp(with_tops.p, without_tops.p, with_tops.len) != 0))
		abort();
	return 0;
}
