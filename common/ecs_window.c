/* SPDX-License-Identifier: ISC */
/*
 * ecs_window.c -- event-time windows of groups of aggregates (see
 * ecs_window.h): the calendar, the windows in order of their start, and
 * their groups in state files and partial states.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ecs_window.h"

#define DAY_MS	86400000LL

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static struct tm
local_tm(int64_t ms)
{
	time_t secs = (time_t)floor_div(ms, 1000);
	struct tm tm;

	localtime_r(&secs, &tm);
	return tm;
}

/* Local midnight of the day (counted from the epoch's local day) in ms. */
static int64_t
local_midnight(const struct tm *day, int add_days)
{
	struct tm tm = *day;

	tm.tm_mday += add_days;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) * 1000;
}

#define WEEK_MS	(7 * DAY_MS)
/* Windows of whole weeks start on Mondays: 1970-01-05 was one. */
#define WEEK_ORIGIN(size)	((size) % WEEK_MS == 0 ? 4 : 0)

int64_t
ecs_window_parse(const char *opt, const char *arg, int *months)
{
	char *end;
	long n;

	*months = 0;
	if (arg[0] >= '0' && arg[0] <= '9' && (n = strtol(arg, &end, 10)) > 0 &&
	    (strcmp(end, "mo") == 0 || strcmp(end, "y") == 0)) {
		if (n > 1200 || (*end == 'y' && n > 100))
			errx(ECS_EXIT_USAGE, "%s '%s': at most 100 years", opt,
			    arg);
		*months = (int)(*end == 'y' ? n * 12 : n);
		return *months * 31 * DAY_MS;
	}
	if (strchr(arg, 'y') != NULL || strstr(arg, "mo") != NULL)
		errx(ECS_EXIT_USAGE, "%s '%s': months and years are whole "
		    "numbers: 1mo, 3mo, 1y", opt, arg);
	return ecs_opt_duration(opt, arg);
}

int64_t
ecs_window_floor(const struct ecs_windows *ws, int64_t t, int64_t size)
{
	struct tm tm;
	int64_t off, days, month;

	if (ws->months > 0) {
		ecs_time_local(t, &tm);
		/* Counted from January 2000, as DuckDB's time_bucket counts. */
		month = ((int64_t)tm.tm_year - 100) * 12 + tm.tm_mon;
		return ecs_time_month_start(t, -(int)(month -
		    floor_div(month, ws->months) * ws->months));
	}
	if (ws->tz == NULL) {
		off = WEEK_ORIGIN(size) * DAY_MS;
		return floor_div(t - off, size) * size + off;
	}
	if (size % DAY_MS != 0) {
		/*
		 * Shorter windows follow the zone's standard offset all year:
		 * they never overlap or leave gaps where the clocks change.
		 */
		off = ws->std_offset_ms;
		return floor_div(t + off, size) * size - off;
	}
	tm = local_tm(t);
	/* Whole days start at local midnight, 23 or 25 hours apart at DST. */
	days = floor_div(t + (int64_t)tm.tm_gmtoff * 1000, DAY_MS) -
	    WEEK_ORIGIN(size);
	return local_midnight(&tm, -(int)(days - floor_div(days, size / DAY_MS) *
	    (size / DAY_MS)));
}

int64_t
ecs_window_end(const struct ecs_windows *ws, int64_t start, int64_t size)
{
	struct tm tm;

	if (ws->months > 0)
		return ecs_time_month_start(start, ws->months);
	if (ws->tz == NULL || size % DAY_MS != 0)
		return start + size;
	tm = local_tm(start);
	return local_midnight(&tm, (int)(size / DAY_MS));
}

void
ecs_window_label(struct ecs_buf *b, int64_t ms)
{
	char t[40];

	ecs_buf_putc(b, '"');
	ecs_buf_add(b, t, ecs_time_format_local(ms, t));
	ecs_buf_putc(b, '"');
}

void
ecs_windows_describe(const struct ecs_windows *ws, int64_t slide_ms,
    struct ecs_buf *b)
{
	ecs_buf_puts(b, "window=");
	if (ws->months > 0) {
		ecs_buf_int(b, ws->months);
		ecs_buf_puts(b, "mo");
		return;
	}
	ecs_buf_int(b, ws->size_ms);
	/* Windows of weeks started on Thursdays before they started on Mondays. */
	if (ws->size_ms != ECS_NO_WINDOW &&
	    WEEK_ORIGIN(slide_ms > 0 ? slide_ms : ws->size_ms))
		ecs_buf_puts(b, " from=monday");
}

void
ecs_windows_set_zone(struct ecs_windows *ws, const char *opt,
    const char *zone)
{
	struct tm jan, jul;

	/* Expressions (--where, metrics) read their calendars there too. */
	if (!ecs_time_set_zone(zone))
		errx(ECS_EXIT_USAGE, "%s '%s': not a zone of the tz database "
		    "(/usr/share/zoneinfo/%s; install tzdata)", opt, zone, zone);
	ws->tz = zone;
	/* Daylight saving adds to the standard offset, in either hemisphere. */
	jan = local_tm(1767225600000LL);	/* 2026-01-01 */
	jul = local_tm(1782864000000LL);	/* 2026-07-01 */
	ws->std_offset_ms = (int64_t)(jan.tm_gmtoff < jul.tm_gmtoff ?
	    jan.tm_gmtoff : jul.tm_gmtoff) * 1000;
}

struct ecs_window *
ecs_windows_find(struct ecs_windows *ws, int64_t start, bool add)
{
	size_t lo = 0, hi = ws->n, mid;
	struct ecs_window *w;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (ws->w[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ws->n && ws->w[lo].start == start)
		return &ws->w[lo];
	if (!add)
		return NULL;
	if (ws->n == ws->cap) {
		ws->cap = ws->cap ? ws->cap * 2 : 8;
		ws->w = ecs_xrealloc(ws->w, ws->cap * sizeof(*ws->w));
	}
	memmove(ws->w + lo + 1, ws->w + lo, (ws->n - lo) * sizeof(*ws->w));
	ws->n++;
	w = &ws->w[lo];
	w->start = start;
	w->end = ws->size_ms == ECS_NO_WINDOW ? ECS_NO_WINDOW :
	    ecs_window_end(ws, start, ws->size_ms);
	w->groups = ecs_map_create(sizeof(struct ecs_group), NULL);
	w->written = false;
	return w;
}

struct ecs_group *
ecs_window_group(const struct ecs_windows *ws, struct ecs_window *w,
    const char *key, size_t len)
{
	struct ecs_group *g;
	bool created;
	size_t i;

	g = ecs_map_put(w->groups, key, len, &created);
	if (created) {
		g->aggs = ecs_xcalloc(ws->nmetrics + 1, sizeof(*g->aggs));
		for (i = 0; i < ws->nmetrics; i++)
			ecs_agg_init(&ws->metrics[i], &g->aggs[i]);
	}
	return g;
}

struct json_object *
ecs_group_keys(struct ecs_group *g, const char *key, size_t len)
{
	struct json_tokener *tok;
	char *text;

	if (g->keys != NULL || len == 0)
		return g->keys;
	text = ecs_xmalloc(len + 3);
	text[0] = '{';
	memcpy(text + 1, key, len);
	memcpy(text + 1 + len, "}", 2);
	tok = json_tokener_new();
	g->keys = json_tokener_parse_ex(tok, text, (int)len + 2);
	json_tokener_reset(tok);
	g->keys = ecs_json_exact_ints(tok, text, len + 2, g->keys);
	json_tokener_free(tok);
	free(text);
	return g->keys;
}

static void
free_window(const struct ecs_windows *ws, struct ecs_window *w)
{
	struct ecs_group *g;
	const char *gkey;
	size_t i, k, len;

	for (i = 0; i < ecs_map_count(w->groups); i++) {
		g = ecs_map_at(w->groups, i, &gkey, &len);
		for (k = 0; k < ws->nmetrics; k++)
			ecs_agg_free(&ws->metrics[k], &g->aggs[k]);
		free(g->aggs);
		json_object_put(g->keys);
	}
	ecs_map_destroy(w->groups);
}

void
ecs_windows_drop(struct ecs_windows *ws, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		free_window(ws, &ws->w[i]);
	memmove(ws->w, ws->w + n, (ws->n - n) * sizeof(*ws->w));
	ws->n -= n;
}

void
ecs_windows_finish(struct ecs_windows *ws)
{
	ecs_windows_drop(ws, ws->n);
	free(ws->w);
	ws->w = NULL;
	ws->cap = 0;
}

/* States */

/* Whether start, from a state or a partial, starts a window of ws. */
static bool
is_window_start(const struct ecs_windows *ws, int64_t start)
{
	if (ws->size_ms == ECS_NO_WINDOW)
		return start == ECS_NO_WINDOW;
	return start >= -ECS_TIME_LIMIT && start <= ECS_TIME_LIMIT &&
	    ecs_window_floor(ws, start, ws->slide_ms > 0 ? ws->slide_ms :
	    ws->size_ms) == start;
}

/*
 * Whether g[0..len), from a state or a partial, is the inside of a JSON
 * object ("k":v,...), as rows write it verbatim.
 */
static bool
is_group_fragment(const char *g, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;
	char *text = ecs_xmalloc(len + 3), why[64];
	size_t col;
	bool ok;

	text[0] = '{';
	memcpy(text + 1, g, len);
	memcpy(text + 1 + len, "}", 2);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)len + 2);
	ok = json_object_is_type(o, json_type_object) &&
	    json_tokener_get_parse_end(tok) == len + 2 &&
	    ecs_json_not_rfc8259(text, len + 2, &col, why, sizeof(why)) == NULL;
	json_object_put(o);
	json_tokener_free(tok);
	free(text);
	return ok;
}

struct json_object *
ecs_group_to_json(const struct ecs_windows *ws, const struct ecs_group *g)
{
	struct json_object *aggs = json_object_new_array();
	size_t i;

	for (i = 0; i < ws->nmetrics; i++)
		json_object_array_add(aggs, ecs_agg_to_json(&ws->metrics[i],
		    &g->aggs[i]));
	return aggs;
}

void
ecs_windows_save(const struct ecs_windows *ws, struct ecs_state_writer *sw)
{
	struct json_object *rec;
	const struct ecs_window *w;
	const struct ecs_group *g;
	const char *gkey;
	size_t i, k, len;

	for (i = 0; i < ws->n; i++)
		for (k = 0, w = &ws->w[i]; k < ecs_map_count(w->groups); k++) {
			g = ecs_map_at(w->groups, k, &gkey, &len);
			rec = json_object_new_object();
			json_object_object_add(rec, "w",
			    json_object_new_int64(w->start));
			json_object_object_add(rec, "written",
			    json_object_new_boolean(w->written));
			json_object_object_add(rec, "g",
			    json_object_new_string_len(gkey, (int)len));
			json_object_object_add(rec, "a", ecs_group_to_json(ws, g));
			ecs_state_put(sw, rec);
			json_object_put(rec);
		}
}

void
ecs_windows_load(struct ecs_windows *ws, const struct ecs_state_reader *sr,
    struct json_object *rec)
{
	const char *why;
	struct json_object *v, *aggs;
	struct ecs_window *w;
	struct ecs_group *g;
	bool created;
	size_t i;

	if (!json_object_object_get_ex(rec, "w", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    !is_window_start(ws, json_object_get_int64(v)))
		ecs_state_corrupt(sr, "bad window");
	w = ecs_windows_find(ws, json_object_get_int64(v), true);
	if (json_object_object_get_ex(rec, "written", &v))
		w->written = json_object_get_boolean(v);
	if (!json_object_object_get_ex(rec, "g", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !json_object_object_get_ex(rec, "a", &aggs) ||
	    !json_object_is_type(aggs, json_type_array) ||
	    json_object_array_length(aggs) != ws->nmetrics ||
	    !is_group_fragment(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v)))
		ecs_state_corrupt(sr, "bad group");
	g = ecs_map_put(w->groups, json_object_get_string(v),
	    (size_t)json_object_get_string_len(v), &created);
	if (!created)
		ecs_state_corrupt(sr, "a group twice");
	g->aggs = ecs_xcalloc(ws->nmetrics + 1, sizeof(*g->aggs));
	for (i = 0; i < ws->nmetrics; i++)
		if ((why = ecs_agg_from_json(&ws->metrics[i],
		    json_object_array_get_idx(aggs, i), &g->aggs[i])) != NULL)
			ecs_state_corrupt(sr, "%s", why);
}

void
ecs_windows_write_partials(const struct ecs_windows *ws,
    const struct ecs_window *w, const char *signature)
{
	struct json_object *rec;
	const struct ecs_group *g;
	const char *gkey;
	size_t i, len;

	for (i = 0; i < ecs_map_count(w->groups); i++) {
		g = ecs_map_at(w->groups, i, &gkey, &len);
		rec = json_object_new_object();
		json_object_object_add(rec, "partial", json_object_new_boolean(1));
		json_object_object_add(rec, "metrics",
		    json_object_new_string(signature));
		json_object_object_add(rec, "w", json_object_new_int64(w->start));
		json_object_object_add(rec, "e", json_object_new_int64(w->end));
		json_object_object_add(rec, "g",
		    json_object_new_string_len(gkey, (int)len));
		json_object_object_add(rec, "a", ecs_group_to_json(ws, g));
		ecs_out_json(rec);
		ecs_out_putc('\n');
		json_object_put(rec);
	}
}

/*
 * A partial of other metrics (theirs, or NULL) in the line rec: every
 * line would be refused, so one error, and stop.
 */
static _Noreturn void
other_metrics(const struct ecs_reader *rd, struct json_object *rec,
    struct json_object *theirs, const char *signature)
{
	char *text = ecs_xstrdup(theirs != NULL && json_object_is_type(theirs,
	    json_type_string) ? json_object_get_string(theirs) : "?");

	json_object_put(rec);
	warnx("%s:%llu: partials of other metrics: '%s', not '%s' (-m must be "
	    "the same as for --partial)", rd->name, rd->lineno, text,
	    signature);
	free(text);
	exit(ECS_EXIT_USAGE);
}

/*
 * Why the window [start, end) and the group g of a partial cannot be
 * merged into ws, or NULL: see ecs_windows_merge_line.
 */
static const char *
partial_window_group(struct ecs_windows *ws, int64_t start,
    int64_t end, struct json_object *g)
{
	const struct ecs_window *known;

	if (start == ECS_NO_WINDOW ? end != ECS_NO_WINDOW : (start < -ECS_TIME_LIMIT ||
	    start > ECS_TIME_LIMIT || end <= start || end - start > ECS_TIME_LIMIT))
		return "not a line of ecs-sales --partial (window)";
	if (ws->size_ms != ECS_NO_WINDOW && (!is_window_start(ws, start) ||
	    end != ecs_window_end(ws, start, ws->size_ms)))
		return "a window that is not one of -w, --slide and --tz";
	if ((known = ecs_windows_find(ws, start, false)) != NULL &&
	    known->end != end)
		return "a window of another size than the lines before";
	if (!is_group_fragment(json_object_get_string(g),
	    (size_t)json_object_get_string_len(g)))
		return "not a line of ecs-sales --partial (group)";
	return NULL;
}

void
ecs_windows_merge_line(struct ecs_windows *ws, struct ecs_reader *rd,
    const char *signature)
{
	struct json_object *rec, *v, *w = NULL, *e = NULL, *g = NULL, *aggs = NULL;
	struct ecs_window *win;
	struct ecs_group *grp;
	struct ecs_agg *add;
	const char *why = NULL;
	size_t i, n, bad = 0;

	if ((rec = ecs_reader_parse(rd)) == NULL)
		return;
	if (!json_object_object_get_ex(rec, "partial", &v) ||
	    !json_object_object_get_ex(rec, "w", &w) ||
	    !json_object_object_get_ex(rec, "e", &e) ||
	    !json_object_object_get_ex(rec, "g", &g) ||
	    !json_object_object_get_ex(rec, "a", &aggs) ||
	    !json_object_is_type(w, json_type_int) ||
	    !json_object_is_type(e, json_type_int) ||
	    !json_object_is_type(g, json_type_string) ||
	    !json_object_is_type(aggs, json_type_array))
		why = "not a line of ecs-sales --partial";
	else if (!json_object_object_get_ex(rec, "metrics", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), signature) != 0 ||
	    json_object_array_length(aggs) != ws->nmetrics)
		other_metrics(rd, rec, v, signature);
	else
		why = partial_window_group(ws, json_object_get_int64(w),
		    json_object_get_int64(e), g);
	if (why != NULL) {
		ecs_reader_bad(rd, "%s", why);
		json_object_put(rec);
		return;
	}
	/*
	 * Every state read before any is merged: a line with one that is
	 * not made no group (a row of zeros) and merged nothing.
	 */
	add = ecs_xcalloc(ws->nmetrics + 1, sizeof(*add));
	for (n = 0; n < ws->nmetrics && why == NULL; n++)
		if ((why = ecs_agg_from_json(&ws->metrics[n],
		    json_object_array_get_idx(aggs, n), &add[n])) != NULL)
			bad = n;
	/* A sum or count it would take too far: nothing merged either. */
	if (why == NULL && (win = ecs_windows_find(ws, json_object_get_int64(w),
	    false)) != NULL && (grp = ecs_map_get(win->groups,
	    json_object_get_string(g), (size_t)json_object_get_string_len(g))) !=
	    NULL)
		for (i = 0; i < ws->nmetrics && why == NULL; i++)
			if ((why = ecs_agg_merge_check(&ws->metrics[i],
			    &grp->aggs[i], &add[i])) != NULL)
				bad = i;
	if (why == NULL) {
		win = ecs_windows_find(ws, json_object_get_int64(w), true);
		win->end = json_object_get_int64(e);
		grp = ecs_window_group(ws, win, json_object_get_string(g),
		    (size_t)json_object_get_string_len(g));
	}
	/* What was merged before a sketch of another accuracy stays. */
	for (i = 0; i < ws->nmetrics && why == NULL; i++)
		if ((why = ecs_agg_merge(&ws->metrics[i], &grp->aggs[i],
		    &add[i])) != NULL)
			bad = i;
	if (why != NULL)
		ecs_reader_bad(rd, "metric '%s': %s", ws->metrics[bad].name,
		    why);
	for (i = 0; i < n; i++)
		ecs_agg_free(&ws->metrics[i], &add[i]);
	free(add);
	json_object_put(rec);
}
