/* SPDX-License-Identifier: ISC */
/*
 * ecs-top -- a live view of any ecs stream: raw events (rate, action mix,
 * top products of the last minute of event time), metric rows (latest
 * value and a sparkline of each group's metric, with the seasonal band of
 * its alerts), and alerts (counts by kind, the latest). Full screen with
 * ncurses when standard output is a terminal; else a text frame at each
 * interval. Reading never waits for the screen: the screen is drawn
 * between lines, at most every --interval, and while the input is quiet.
 */
#include <curses.h>
#include <err.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ecs.h"
#include "ecs_buf.h"

#define HISTORY		24	/* windows in a sparkline */
#define NLATEST		20	/* latest alerts shown */
#define NTOP		5	/* top products shown */
#define MINUTE_MS	60000
#define TICK_MS		100	/* keys and alerts are looked at this often */

enum {
	OPT_INTERVAL = ECS_OPT_TOOL,
	OPT_ONCE,
	OPT_PLAIN,
};

/* The options, as parsed; then only read. */
static struct {
	int64_t		 interval_ms;		/* --interval */
	bool		 once;			/* --once */
	bool		 plain;			/* --plain, or not a terminal */
} opt = {
	.interval_ms = 1000,
};

/*
 * A group's metric in metric rows: its last HISTORY windows, oldest first,
 * in the order of their starts (a row without a window is after the rest).
 */
struct series {
	double		 values[HISTORY];
	int64_t		 starts[HISTORY];	/* ms; INT64_MIN: no window */
	uint32_t	 n;
	char		*latest;	/* the newest value as written, owned */
	bool		 banded;	/* a seasonal alert gave the band */
	double		 low, high;
};

/* A raw event of the last minute of event time. */
struct recent {
	int64_t		 ts;
	size_t		 action;	/* position in run.actions */
	char		*product;	/* owned; NULL when it has none */
};

/* An action's events: in the last minute, and in all. */
struct action_count {
	uint64_t	 minute, total;
};

/* The state of the run. */
static struct {
	unsigned long long nevents, nrows, nalerts, nother;
	int64_t		 latest_ts;		/* of the events; INT64_MIN */
	struct ecs_map	*series;		/* "group\x1fmetric" -> series */
	char		*latest_window;		/* of the metric rows, owned */
	int64_t		 latest_window_ms;	/* INT64_MIN: none a time */
	struct ecs_map	*actions;		/* name -> action_count */
	struct ecs_map	*products;		/* id -> events in the minute */
	struct recent	*recent;		/* ring of the last minute */
	size_t		 recent_head, recent_len, recent_cap;
	struct ecs_map	*alert_kinds;		/* kind -> count */
	char		*latest_alerts[NLATEST];	/* ring of lines, owned */
	size_t		 alerts_next;
	struct ecs_buf	 frame;			/* the text of a frame */
	/* Full screen */
	bool		 curses;
	SCREEN		*screen;		/* owned, on tty */
	FILE		*tty;			/* the keys; owned */
	bool		 paused, quit;
	int		 scroll;		/* first frame line shown */
	bool		 alert_pending;		/* draw at once */
	int64_t		 next_draw, next_tick;	/* monotonic ms */
	const struct ecs_reader *rd;		/* for its bad lines */
} run = {
	.latest_ts = INT64_MIN,
	.latest_window_ms = INT64_MIN,
};

static const struct option longopts[] = {
	ECS_COMMON_LONGOPTS,
	{ "interval",	required_argument,	NULL, OPT_INTERVAL },
	{ "once",	no_argument,		NULL, OPT_ONCE },
	{ "plain",	no_argument,		NULL, OPT_PLAIN },
	{ NULL,		0,			NULL, 0 }
};

static _Noreturn void
usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fprintf(fp,
"usage: ecs-top [-hqV] [-i format] [--interval duration] [--plain]\n"
"               [--once] [file ...]\n");
	if (status != 0)
		exit(status);
	fprintf(fp,
"A live view of an ecs stream: events, metric rows, alerts (ecs-top(1)).\n"
"      --interval DURATION  redraw at most this often (default 1s)\n"
"      --plain              write text frames, not the full screen\n"
"      --once               write one text frame, at the end of the input\n"
"Full screen keys: q quits, p pauses, arrows and page keys scroll.\n");
	ecs_common_usage(fp);
	exit(0);
}

static void
parse_options(int argc, char *argv[], int *first)
{
	int ch;

	while ((ch = getopt_long(argc, argv, ECS_COMMON_SHORTOPTS, longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(0);
		case OPT_INTERVAL:
			opt.interval_ms = ecs_opt_duration("--interval", optarg);
			if (opt.interval_ms < 100)
				errx(ECS_EXIT_USAGE, "--interval '%s': at least "
				    "100ms", optarg);
			break;
		case OPT_ONCE:
			opt.once = true;
			break;
		case OPT_PLAIN:
			opt.plain = true;
			break;
		default:
			if (!ecs_common_option(ch, optarg))
				usage(ECS_EXIT_USAGE);
		}
	}
	if (ecs_config.output_format != ECS_OUTPUT_NDJSON)
		errx(ECS_EXIT_USAGE, "-o: ecs-top writes a screen, not records");
	if (ecs_config.nfields > 0 || ecs_config.nactions > 0)
		errx(ECS_EXIT_USAGE, "--map and --map-action: ecs-top shows the "
		    "fields as they are named");
	*first = optind;
}

/* Records */

/* A member's value as text: strings bare, the rest as JSON. Borrowed. */
static const char *
text_of(struct json_object *v)
{
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

static bool
is_number(struct json_object *v)
{
	return json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double);
}

/* Keys that place a row or an alert rather than tell its group. */
static bool
is_placing(const char *key)
{
	static const char *const placing[] = { "alert", "rule", "metric",
	    "window_start", "window_end", "approximate", "correction", "ts" };
	size_t i;

	for (i = 0; i < sizeof(placing) / sizeof(*placing); i++)
		if (strcmp(key, placing[i]) == 0)
			return true;
	return false;
}

/* An identifier (product_id, session_id): not a metric of generic rows. */
static bool
is_id(const char *key)
{
	size_t len = strlen(key);

	return len >= 3 && strcmp(key + len - 3, "_id") == 0;
}

/*
 * The group of a row or an alert: its keys that are not numbers (but
 * identifiers are, with ids), "k=v" separated by spaces, in b; "(all)"
 * when it has none.
 */
static void
group_text(struct json_object *rec, bool ids, struct ecs_buf *b)
{
	size_t start = b->len;

	json_object_object_foreach(rec, key, v) {
		if (is_placing(key) || (is_id(key) ? !ids : is_number(v)))
			continue;
		if (b->len > start)
			ecs_buf_putc(b, ' ');
		ecs_buf_puts(b, key);
		ecs_buf_putc(b, '=');
		ecs_buf_puts(b, text_of(v));
	}
	if (b->len == start)
		ecs_buf_puts(b, "(all)");
}

static void
free_series(void *p)
{
	struct series *s = p;

	free(s->latest);
}

static struct series *
series_of(const char *group, size_t glen, const char *metric)
{
	struct ecs_buf key = ECS_BUF_INIT;
	struct series *s;
	bool created;

	ecs_buf_add(&key, group, glen);
	ecs_buf_putc(&key, '\x1f');
	ecs_buf_puts(&key, metric);
	s = ecs_map_put(run.series, key.p, key.len, &created);
	ecs_buf_free(&key);
	return s;
}

/*
 * The value v (text as written) of the window starting at start: in the
 * place of that window's value when it is held (--emit update, a
 * correction of any window held), else in its place among the starts;
 * one older than the HISTORY held is not shown.
 */
static void
add_point(struct series *s, int64_t start, struct json_object *v)
{
	uint32_t at = s->n;

	while (start != INT64_MIN && at > 0 && s->starts[at - 1] != INT64_MIN &&
	    s->starts[at - 1] >= start)
		at--;
	if (at < s->n && s->starts[at] == start) {
		s->values[at] = json_object_get_double(v);
	} else {
		if (s->n == HISTORY) {
			if (at == 0)
				return;
			s->n--;			/* the oldest goes */
			memmove(s->values, s->values + 1, s->n * sizeof(double));
			memmove(s->starts, s->starts + 1, s->n * sizeof(int64_t));
			at--;
		}
		memmove(s->values + at + 1, s->values + at,
		    (s->n - at) * sizeof(double));
		memmove(s->starts + at + 1, s->starts + at,
		    (s->n - at) * sizeof(int64_t));
		s->values[at] = json_object_get_double(v);
		s->starts[at] = start;
		s->n++;
	}
	if (at == s->n - 1) {
		free(s->latest);
		s->latest = ecs_xstrdup(text_of(v));
	}
}

/*
 * A metric row: each number is the group's metric in the row's window
 * (a window_start that is no time is taken as a new window).
 */
static void
add_row(struct json_object *rec)
{
	struct ecs_buf group = ECS_BUF_INIT;
	struct json_object *w;
	const char *window = NULL;
	int64_t start = INT64_MIN;

	run.nrows++;
	if (json_object_object_get_ex(rec, "window_start", &w)) {
		window = text_of(w);
		if (!ecs_time_from_json(w, &start))
			start = INT64_MIN;
		/* A correction of an earlier window is not the latest. */
		if (start == INT64_MIN || start >= run.latest_window_ms) {
			free(run.latest_window);
			run.latest_window = ecs_xstrdup(window);
			run.latest_window_ms = start;
		}
	}
	/* A row of a window groups by its keys; others (sessions) by kind. */
	group_text(rec, window != NULL, &group);
	json_object_object_foreach(rec, key, v) {
		if (!is_number(v) || is_placing(key) || is_id(key))
			continue;
		add_point(series_of(group.p, group.len, key), start, v);
	}
	ecs_buf_free(&group);
}

/* A seasonal alert's band, for its group's metric. */
static void
take_band(struct json_object *rec)
{
	struct json_object *metric, *low, *high;
	struct ecs_buf group = ECS_BUF_INIT;
	struct series *s;

	if (!json_object_object_get_ex(rec, "metric", &metric) ||
	    !json_object_object_get_ex(rec, "low", &low) ||
	    !json_object_object_get_ex(rec, "high", &high) ||
	    !is_number(low) || !is_number(high))
		return;
	group_text(rec, true, &group);
	s = series_of(group.p, group.len, json_object_get_string(metric));
	s->banded = true;
	s->low = json_object_get_double(low);
	s->high = json_object_get_double(high);
	ecs_buf_free(&group);
}

/*
 * An alert: counted by kind, and kept as a line among the latest: its
 * time, kind, whom it is about (product, user, group), its numbers.
 */
static void
add_alert(struct json_object *rec, struct json_object *kind)
{
	struct ecs_buf line = ECS_BUF_INIT;
	struct json_object *t;
	uint64_t *count;
	bool created;
	int nnumbers = 0;

	run.nalerts++;
	count = ecs_map_put(run.alert_kinds, text_of(kind), strlen(text_of(kind)),
	    &created);
	(*count)++;
	if (json_object_object_get_ex(rec, "window_start", &t) ||
	    json_object_object_get_ex(rec, "ts", &t))
		ecs_buf_puts(&line, text_of(t));
	else
		ecs_buf_putc(&line, '-');
	ecs_buf_puts(&line, "  ");
	ecs_buf_puts(&line, text_of(kind));
	ecs_buf_puts(&line, "  ");
	group_text(rec, true, &line);
	json_object_object_foreach(rec, key, v) {
		if (!is_number(v) || is_id(key) || nnumbers++ >= 6)
			continue;
		ecs_buf_putc(&line, ' ');
		ecs_buf_puts(&line, key);
		ecs_buf_putc(&line, '=');
		ecs_buf_puts(&line, text_of(v));
	}
	free(run.latest_alerts[run.alerts_next]);
	run.latest_alerts[run.alerts_next] = line.p;	/* owned now */
	run.alerts_next = (run.alerts_next + 1) % NLATEST;
	take_band(rec);
	run.alert_pending = true;
}

/* Forgets the raw events older than the last minute of event time. */
static void
expire_recent(void)
{
	struct recent *r;
	struct action_count *a;
	uint64_t *n;

	while (run.recent_len > 0 && (r = &run.recent[run.recent_head])->ts <=
	    run.latest_ts - MINUTE_MS) {
		a = ecs_map_at(run.actions, r->action, NULL, NULL);
		a->minute--;
		if (r->product != NULL &&
		    (n = ecs_map_get(run.products, r->product,
		    strlen(r->product))) != NULL && --*n == 0)
			ecs_map_del(run.products, r->product, strlen(r->product));
		free(r->product);
		run.recent_head = (run.recent_head + 1) % run.recent_cap;
		run.recent_len--;
	}
}

/* Room for one more in the ring of recent events. */
static void
grow_recent(void)
{
	struct recent *bigger;
	size_t i, cap;

	if (run.recent_len < run.recent_cap)
		return;
	cap = run.recent_cap == 0 ? 1024 : run.recent_cap * 2;
	bigger = ecs_xcalloc(cap, sizeof(*bigger));
	for (i = 0; i < run.recent_len; i++)
		bigger[i] = run.recent[(run.recent_head + i) % run.recent_cap];
	free(run.recent);
	run.recent = bigger;
	run.recent_cap = cap;
	run.recent_head = 0;
}

/*
 * The slot for an event at ts in the ring, which is kept in time order so
 * that expire_recent finds the oldest at its head: an event out of order
 * goes before the later ones, which move up by one.
 */
static struct recent *
place_recent(int64_t ts)
{
	size_t at, before;

	grow_recent();
	at = run.recent_len++;
	while (at > 0 && run.recent[(before = (run.recent_head + at - 1) %
	    run.recent_cap)].ts > ts) {
		run.recent[(run.recent_head + at) % run.recent_cap] =
		    run.recent[before];
		at--;
	}
	return &run.recent[(run.recent_head + at) % run.recent_cap];
}

/*
 * A raw event: counted by action, and in the last minute of event time
 * (an event without a time is at the latest); one older than that minute
 * counts in the totals only.
 */
static void
add_event(struct ecs_reader *rd, struct json_object *rec)
{
	struct json_object *v;
	struct action_count *a;
	struct recent *r;
	const char *action = "(none)";
	int64_t ts = run.latest_ts;
	size_t pos;
	uint64_t *n;
	bool created;

	if (json_object_object_get_ex(rec, "ts", &v) &&
	    !ecs_time_from_json(v, &ts)) {
		ecs_reader_bad(rd, "field 'ts' is not a time: %s", text_of(v));
		return;
	}
	run.nevents++;
	if (json_object_object_get_ex(rec, "action", &v))
		action = text_of(v);
	a = ecs_map_put(run.actions, action, strlen(action), &created);
	a->total++;
	if (ts == INT64_MIN || (run.latest_ts != INT64_MIN &&
	    ts <= run.latest_ts - MINUTE_MS))
		return;
	if (ts > run.latest_ts)
		run.latest_ts = ts;
	ecs_map_find(run.actions, action, strlen(action), &pos);
	a = ecs_map_at(run.actions, pos, NULL, NULL);
	a->minute++;
	r = place_recent(ts);
	r->ts = ts;
	r->action = pos;
	r->product = NULL;
	if (json_object_object_get_ex(rec, "product_id", &v)) {
		r->product = ecs_xstrdup(text_of(v));
		n = ecs_map_put(run.products, r->product, strlen(r->product),
		    &created);
		(*n)++;
	}
	expire_recent();
}

/* Tells a record's kind by its fields, and takes it in. */
static void
take(struct ecs_reader *rd, struct json_object *rec)
{
	struct json_object *v;
	bool has_number = false;

	if (json_object_object_get_ex(rec, "alert", &v))
		add_alert(rec, v);
	else if (json_object_object_get_ex(rec, "window_start", &v))
		add_row(rec);
	else if (json_object_object_get_ex(rec, "action", &v) ||
	    json_object_object_get_ex(rec, "ts", &v))
		add_event(rd, rec);
	else {
		json_object_object_foreach(rec, key, val)
			has_number |= is_number(val) && !is_id(key);
		if (has_number)		/* sessions, funnels: generic rows */
			add_row(rec);
		else
			run.nother++;
	}
}

/* Frames */

/* Appends s[0..len), cut (ending in ~) or padded to width columns. */
static void
put_cell(struct ecs_buf *b, const char *s, size_t len, size_t width)
{
	if (len > width) {
		ecs_buf_add(b, s, width - 1);
		ecs_buf_putc(b, '~');
		return;
	}
	ecs_buf_add(b, s, len);
	while (len++ < width)
		ecs_buf_putc(b, ' ');
}

/* Appends s right-aligned in width columns (longer: as it is). */
static void
put_right(struct ecs_buf *b, const char *s, int width)
{
	int len = (int)strlen(s);

	while (len++ < width)
		ecs_buf_putc(b, ' ');
	ecs_buf_puts(b, s);
}

/*
 * The height, 0 to 7, of v between lo and hi. Halved, so that the span of
 * finite values cannot overflow (-1e308 to 1e308); with an infinite
 * value (1e999) the ratio may be NaN: the value is then at the top or the
 * bottom.
 */
static int
level_of(double v, double lo, double hi)
{
	double ratio = (v / 2 - lo / 2) / (hi / 2 - lo / 2);

	if (!(hi > lo))
		return 3;
	if (ratio >= 0 && ratio <= 1)
		return (int)(ratio * 7.999);
	return v >= hi ? 7 : v <= lo ? 0 : 3;
}

/* The series' windows, oldest first, as characters of 8 heights. */
static void
put_sparkline(struct ecs_buf *b, const struct series *s)
{
	static const char levels[] = "_.-:=+*#";
	double lo = INFINITY, hi = -INFINITY;
	uint32_t i;

	for (i = 0; i < s->n; i++) {
		lo = fmin(lo, s->values[i]);
		hi = fmax(hi, s->values[i]);
	}
	for (i = 0; i < s->n; i++)
		ecs_buf_putc(b, levels[level_of(s->values[i], lo, hi)]);
	for (; s->banded && i < HISTORY; i++)	/* the band in its column */
		ecs_buf_putc(b, ' ');
}

static void
frame_header(struct ecs_buf *b)
{
	char t[32];

	ecs_buf_puts(b, "ecs-top  events ");
	ecs_buf_uint(b, run.nevents);
	ecs_buf_puts(b, "  rows ");
	ecs_buf_uint(b, run.nrows);
	ecs_buf_puts(b, "  alerts ");
	ecs_buf_uint(b, run.nalerts);
	ecs_buf_puts(b, "  other ");
	ecs_buf_uint(b, run.nother);
	ecs_buf_puts(b, "  bad ");
	ecs_buf_uint(b, run.rd != NULL ? run.rd->nbad : 0);
	if (run.latest_ts != INT64_MIN) {
		ecs_time_format(run.latest_ts, t);
		ecs_buf_puts(b, "  at ");
		ecs_buf_puts(b, t);
	}
	ecs_buf_putc(b, '\n');
}

/* Raw events: rate, action mix and top products of the last minute. */
static void
frame_events(struct ecs_buf *b)
{
	const struct action_count *a;
	const char *name, *top[NTOP] = { 0 };
	uint64_t topn[NTOP] = { 0 }, *n;
	size_t it = 0, i, j, len, toplen[NTOP] = { 0 };
	char num[64];

	if (run.nevents == 0)
		return;
	ecs_buf_puts(b, "EVENTS  last minute ");
	ecs_buf_uint(b, run.recent_len);
	snprintf(num, sizeof(num), " (%.2f/s)", run.recent_len / 60.0);
	ecs_buf_puts(b, num);
	ecs_buf_puts(b, "\n  action              minute   share       total\n");
	while ((a = ecs_map_next(run.actions, &it, &name, &len)) != NULL) {
		ecs_buf_puts(b, "  ");
		put_cell(b, name, len, 16);
		snprintf(num, sizeof(num), "%10llu %6.1f%% %11llu\n",
		    (unsigned long long)a->minute, run.recent_len > 0 ?
		    100.0 * (double)a->minute / (double)run.recent_len : 0.0,
		    (unsigned long long)a->total);
		ecs_buf_puts(b, num);
	}
	/* The NTOP products with the most events; ties: first seen. */
	it = 0;
	while ((n = ecs_map_next(run.products, &it, &name, &len)) != NULL)
		for (i = 0; i < NTOP; i++)
			if (*n > topn[i]) {
				for (j = NTOP - 1; j > i; j--) {
					topn[j] = topn[j - 1];
					top[j] = top[j - 1];
					toplen[j] = toplen[j - 1];
				}
				topn[i] = *n;
				top[i] = name;
				toplen[i] = len;
				break;
			}
	if (top[0] == NULL)
		return;
	ecs_buf_puts(b, "  top products:");
	for (i = 0; i < NTOP && top[i] != NULL; i++) {
		snprintf(num, sizeof(num), " (%llu)",
		    (unsigned long long)topn[i]);
		ecs_buf_puts(b, i > 0 ? ", " : " ");
		ecs_buf_add(b, top[i], toplen[i]);
		ecs_buf_puts(b, num);
	}
	ecs_buf_putc(b, '\n');
}

/* Metric rows: each group's metric, latest value, sparkline, band. */
static void
frame_metrics(struct ecs_buf *b)
{
	const struct series *s;
	const char *key, *sep;
	size_t it = 0, len;
	char band[80];

	if (ecs_map_count(run.series) == 0)
		return;
	ecs_buf_puts(b, "METRICS");
	if (run.latest_window != NULL) {
		ecs_buf_puts(b, "  latest window ");
		ecs_buf_puts(b, run.latest_window);
	}
	ecs_buf_puts(b, "\n  group                  metric           latest  "
	    "last windows              band\n");
	while ((s = ecs_map_next(run.series, &it, &key, &len)) != NULL) {
		if (s->latest == NULL)		/* a band, no row yet */
			continue;
		sep = memchr(key, '\x1f', len);
		ecs_buf_puts(b, "  ");
		put_cell(b, key, (size_t)(sep - key), 22);
		ecs_buf_putc(b, ' ');
		put_cell(b, sep + 1, (size_t)(key + len - sep - 1), 10);
		put_right(b, s->latest, 12);
		ecs_buf_puts(b, "  ");
		put_sparkline(b, s);
		if (s->banded) {
			snprintf(band, sizeof(band), "  %g..%g", s->low, s->high);
			ecs_buf_puts(b, band);
		}
		ecs_buf_putc(b, '\n');
	}
}

/* Alerts: counts by kind and the latest, newest first. */
static void
frame_alerts(struct ecs_buf *b)
{
	const uint64_t *n;
	const char *kind;
	size_t it = 0, i, at, len;

	if (run.nalerts == 0)
		return;
	ecs_buf_puts(b, "ALERTS ");
	ecs_buf_uint(b, run.nalerts);
	ecs_buf_puts(b, ":");
	while ((n = ecs_map_next(run.alert_kinds, &it, &kind, &len)) != NULL) {
		ecs_buf_puts(b, it > 1 ? ", " : " ");
		ecs_buf_add(b, kind, len);
		ecs_buf_putc(b, ' ');
		ecs_buf_uint(b, *n);
	}
	ecs_buf_putc(b, '\n');
	for (i = 1; i <= NLATEST; i++) {
		at = (run.alerts_next + NLATEST - i) % NLATEST;
		if (run.latest_alerts[at] == NULL)
			break;
		ecs_buf_puts(b, "  ");
		ecs_buf_puts(b, run.latest_alerts[at]);
		ecs_buf_putc(b, '\n');
	}
}

/* The frame's text, in run.frame: lines ending in newlines. */
static void
build_frame(void)
{
	ecs_buf_reset(&run.frame);
	frame_header(&run.frame);
	frame_events(&run.frame);
	frame_metrics(&run.frame);
	frame_alerts(&run.frame);
}

/* --plain, --once: the frame; after the first, an empty line before. */
static void
write_frame(void)
{
	static bool first = true;

	if (!first)
		ecs_out_write("\n", 1);
	first = false;
	build_frame();
	ecs_buf_out(&run.frame);
	ecs_out_flush();
}

/* Full screen */

/* A steady clock, in ms: when frames are due. */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Gives the terminal back: at the end, and at any exit before it. */
static void
end_screen(void)
{
	if (!run.curses)
		return;
	endwin();
	delscreen(run.screen);
	fclose(run.tty);
	run.curses = false;
}

/* Starts ncurses on standard output, with keys from the terminal. */
static void
start_screen(void)
{
	if ((run.tty = fopen("/dev/tty", "r")) == NULL ||
	    (run.screen = newterm(NULL, stdout, run.tty)) == NULL)
		errx(ECS_EXIT_USAGE, "no terminal to draw on (TERM=%s): use "
		    "--plain", getenv("TERM") != NULL ? getenv("TERM") : "");
	run.curses = true;
	atexit(end_screen);
	cbreak();
	noecho();
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	curs_set(0);
}

/* The number of lines of the frame. */
static int
frame_lines(void)
{
	int n = 0;
	size_t i;

	for (i = 0; i < run.frame.len; i++)
		n += run.frame.p[i] == '\n';
	return n;
}

/*
 * Draws the frame: its first line as the title, the rest from run.scroll,
 * and the keys at the bottom.
 */
static void
draw(void)
{
	const char *p, *nl;
	int row = 0, line = 0, body = LINES - 2;

	build_frame();
	if (run.scroll > frame_lines() - 1 - body)
		run.scroll = frame_lines() - 1 - body;
	if (run.scroll < 0)
		run.scroll = 0;
	erase();
	for (p = run.frame.p; p != NULL && p < run.frame.p + run.frame.len;
	    p = nl + 1, line++) {
		nl = memchr(p, '\n', (size_t)(run.frame.p + run.frame.len - p));
		if (line == 0) {
			attron(A_REVERSE);
			mvhline(0, 0, ' ', COLS);
			mvaddnstr(0, 0, p, (int)(nl - p) < COLS ? (int)(nl - p) :
			    COLS);
			attroff(A_REVERSE);
			row = 1;
		} else if (line > run.scroll && row <= body)
			mvaddnstr(row++, 0, p, (int)(nl - p) < COLS ?
			    (int)(nl - p) : COLS);
	}
	attron(A_REVERSE);
	mvhline(LINES - 1, 0, ' ', COLS);
	mvaddnstr(LINES - 1, 0, run.paused ? "PAUSED  p resume  q quit  "
	    "arrows scroll" : "q quit  p pause  arrows scroll", COLS);
	attroff(A_REVERSE);
	refresh();
}

/* One key: true when it changes what is shown. */
static bool
key(int ch)
{
	switch (ch) {
	case 'q':
	case 'Q':
		run.quit = true;
		ecs_stop_signal = 1;	/* the reader stops as at SIGINT */
		return false;
	case 'p':
	case 'P':
		run.paused = !run.paused;
		return true;
	case KEY_UP:
		run.scroll--;
		return true;
	case KEY_DOWN:
		run.scroll++;
		return true;
	case KEY_PPAGE:
		run.scroll -= LINES - 2;
		return true;
	case KEY_NPAGE:
	case ' ':
		run.scroll += LINES - 2;
		return true;
	case KEY_HOME:
		run.scroll = 0;
		return true;
	case KEY_RESIZE:
		return true;
	default:
		return false;
	}
}

/*
 * Between lines and while the input is quiet: every TICK_MS the keys,
 * and a draw when one is due (every --interval, at once after an alert
 * or a key); text frames every --interval.
 */
static void
tick(bool force)
{
	int64_t now = now_ms();
	bool redraw = false;
	int ch;

	if (!force && now < run.next_tick)
		return;
	run.next_tick = now + TICK_MS;
	if (!run.curses) {
		if (!opt.once && now >= run.next_draw) {
			write_frame();
			run.next_draw = now + opt.interval_ms;
		}
		return;
	}
	while ((ch = getch()) != ERR)
		redraw |= key(ch);
	if ((redraw || run.alert_pending || now >= run.next_draw) &&
	    (!run.paused || redraw)) {
		draw();
		run.next_draw = now + opt.interval_ms;
		run.alert_pending = false;
	}
}

static void
on_idle(void *arg, int ms)
{
	(void)arg;
	(void)ms;
	tick(true);
}

/*
 * After the input: the last frame; on the full screen, kept until q (or
 * a signal).
 */
static void
finish_screen(void)
{
	int ch;

	if (!run.curses) {
		write_frame();
		return;
	}
	if (!run.quit && !ecs_stop_signal) {
		draw();
		timeout(TICK_MS);
		while (!run.quit && !ecs_stop_signal)
			if ((ch = getch()) != ERR && key(ch))
				draw();
	}
	end_screen();
}

static void
free_all(void)
{
	size_t i;

	ecs_map_destroy(run.series);
	ecs_map_destroy(run.actions);
	ecs_map_destroy(run.products);
	ecs_map_destroy(run.alert_kinds);
	for (i = 0; i < run.recent_len; i++)
		free(run.recent[(run.recent_head + i) % run.recent_cap].product);
	free(run.recent);
	for (i = 0; i < NLATEST; i++)
		free(run.latest_alerts[i]);
	free(run.latest_window);
	ecs_buf_free(&run.frame);
}

int
main(int argc, char *argv[])
{
	struct json_object *rec;
	struct ecs_reader rd;
	int first, status;

	parse_options(argc, argv, &first);
	if (!opt.once && !opt.plain && isatty(STDOUT_FILENO))
		start_screen();
	/* Bad lines are counted on the screen, and summed up after it. */
	if (run.curses && isatty(STDERR_FILENO))
		ecs_config.quiet = true;
	ecs_signals_init();
	run.series = ecs_map_create(sizeof(struct series), free_series);
	run.actions = ecs_map_create(sizeof(struct action_count), NULL);
	run.products = ecs_map_create(sizeof(uint64_t), NULL);
	run.alert_kinds = ecs_map_create(sizeof(uint64_t), NULL);
	ecs_reader_init(&rd, argv + first, argc - first);
	run.rd = &rd;
	rd.idle_ms = TICK_MS;
	rd.on_idle = on_idle;
	run.next_draw = now_ms() + (run.curses ? 0 :
	    opt.interval_ms);
	while (!run.quit && ecs_reader_line(&rd)) {
		if ((rec = ecs_reader_parse(&rd)) != NULL) {
			take(&rd, rec);
			json_object_put(rec);
		}
		tick(run.alert_pending && run.curses);
	}
	finish_screen();
	ecs_config.quiet = false;	/* the summary of bad lines */
	status = ecs_reader_finish(&rd);
	status |= ecs_out_close();
	free_all();
	return status;
}
