/* SPDX-License-Identifier: ISC */
/*
 * ecs_window.h -- event-time windows of groups of aggregates: tumbling or
 * hopping windows, epoch-aligned in UTC or on the calendar of a time zone,
 * each a map from a group's key (its "k":v,... fragment) to the group's
 * aggregates of the program's metrics (ecs_agg); their lines in state
 * files, and partial states that another process merges.
 */
#ifndef ECS_WINDOW_H
#define ECS_WINDOW_H

#include "ecs.h"
#include "ecs_agg.h"
#include "ecs_buf.h"

#define ECS_NO_WINDOW	INT64_MIN	/* one running total: no window */
/*
 * Past the time of any event (ECS_TIME_MAX_MS) and of any window or
 * watermark (as much more), far from overflow: no window starts past it,
 * either way, nor is a time read from a state.
 */
#define ECS_TIME_LIMIT	(10 * ECS_TIME_MAX_MS)

struct ecs_group {
	struct ecs_agg	*aggs;		/* one per metric, owned */
	struct json_object *keys;	/* its key values, once decoded */
};

struct ecs_window {
	int64_t		 start, end;
	struct ecs_map	*groups;	/* group fragment -> struct ecs_group */
	bool		 written;	/* final rows out; kept for corrections */
};

struct ecs_windows {
	int64_t		 size_ms;	/* ECS_NO_WINDOW: one running total */
	int64_t		 slide_ms;	/* hopping windows' step; 0: tumbling */
	int		 months;	/* calendar months (then size_ms is their
					 * longest), or 0 */
	const char	*tz;		/* NULL: UTC */
	int64_t		 std_offset_ms;	/* tz's offset without DST */
	const struct ecs_metric *metrics;	/* borrowed */
	size_t		 nmetrics;
	struct ecs_window *w;		/* open (and kept), by start */
	size_t		 n, cap;
};

/*
 * Windows on the calendar of zone (a name of the tz database, checked:
 * else a usage error naming opt): whole days start at local midnight,
 * shorter windows follow the zone's standard offset all year.
 */
void	 ecs_windows_set_zone(struct ecs_windows *, const char *opt,
	    const char *zone);
/*
 * The -w argument arg of option opt: a duration (ecs_opt_duration), or
 * calendar months (Nmo) or years (Ny), stored as months in *months (else
 * 0) and returned as the longest such a window can be. Anything else is a
 * usage error.
 */
int64_t	 ecs_window_parse(const char *opt, const char *arg, int *months);
/*
 * The start of the window of the given size that holds t: windows of
 * whole weeks start on Mondays, windows of months (ws->months, which take
 * no slide: size is the window) on the 1st, counted from January 2000.
 */
int64_t	 ecs_window_floor(const struct ecs_windows *, int64_t t, int64_t size);
/* The end of the window of the given size that starts at start. */
int64_t	 ecs_window_end(const struct ecs_windows *, int64_t start,
	    int64_t size);
/*
 * A window's bound as a JSON string: in UTC (...Z), or in local time with
 * its offset under a zone (2026-03-30T00:00:00+01:00).
 */
void	 ecs_window_label(struct ecs_buf *, int64_t ms);
/* What windows are (size, months, start of weeks) for a state signature. */
void	 ecs_windows_describe(const struct ecs_windows *, int64_t slide_ms,
	    struct ecs_buf *);
/* The window that starts at start (made when add), or NULL; borrowed. */
struct ecs_window *ecs_windows_find(struct ecs_windows *, int64_t start,
	    bool add);
/* The group of key[0..len) in w, its aggregates made when new; borrowed. */
struct ecs_group *ecs_window_group(const struct ecs_windows *,
	    struct ecs_window *w, const char *key, size_t len);
/*
 * The values of the group of key[0..len) (as ecs_window_group's), decoded
 * once: an object with a member for each key, integers of any length kept
 * as written; borrowed from g. NULL when len is 0.
 */
struct json_object *ecs_group_keys(struct ecs_group *g, const char *key,
	    size_t len);
/* Frees the first n windows (closed and expired). */
void	 ecs_windows_drop(struct ecs_windows *, size_t n);
void	 ecs_windows_finish(struct ecs_windows *);

/* A group's aggregates as an array of their states; owned by the caller. */
struct json_object *ecs_group_to_json(const struct ecs_windows *,
	    const struct ecs_group *);
/*
 * Writes every group of every window to a state file: one line each,
 * {"w":START,"written":B,"g":KEY,"a":[...]}.
 */
void	 ecs_windows_save(const struct ecs_windows *,
	    struct ecs_state_writer *);
/*
 * Loads such a line (a corrupt one ends the program: ecs_state_corrupt):
 * a window that is not one of size_ms and slide_ms, or a group that is
 * no fragment of a JSON object, is corrupt.
 */
void	 ecs_windows_load(struct ecs_windows *, const struct ecs_state_reader *,
	    struct json_object *rec);
/*
 * Writes w's groups to standard output as partial states to merge, tagged
 * with the metrics they hold (signature, the -m options).
 */
void	 ecs_windows_write_partials(const struct ecs_windows *,
	    const struct ecs_window *w, const char *signature);
/*
 * Merges the reader's current line, a partial of ecs_windows_write_partials
 * with the same signature, into its window and group. A line that is not
 * one is bad (reported): a window that ends before it starts, that ends
 * elsewhere than an earlier line's of the same start, or, with size_ms,
 * that is not one of size_ms and slide_ms; a group that is no fragment
 * of a JSON object. Partials of other metrics end the program (2).
 */
void	 ecs_windows_merge_line(struct ecs_windows *, struct ecs_reader *,
	    const char *signature);

#endif /* ECS_WINDOW_H */
