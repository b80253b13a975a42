/* SPDX-License-Identifier: ISC */
/*
 * ecs-replay -- play stored NDJSON events as a live stream. Each event is
 * written when its time comes: the gaps between event times are kept,
 * divided by --speed, or the lines go out at a fixed --rate. Every wait is
 * scheduled against the start of the replay (ecs_pace), so a run of hours
 * does not drift. Lines pass byte for byte, unless --retime sets each
 * event's time to the wall-clock time at which it is played.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"

/* Epoch numbers at or above this are milliseconds, as in ecs_time.c. */
#define EPOCH_MS_FROM	1e11
/* Longer than any real wait (146 years), and safe to add to a start. */
#define MAX_OFFSET_NS	(INT64_MAX / 2)

enum {
	OPT_FROM = ECS_OPT_TOOL,
	OPT_RETIME,
	OPT_TO,
};

/* The state of one replay, from the first kept event on. */
struct replay {
	struct ecs_pace	pace;
	bool		started;
	int64_t		t0;		/* time of the first kept event, ms */
	int64_t		tmax;		/* latest event time played, ms */
	unsigned long long nplayed;	/* lines written */
	unsigned long long nlate;	/* out of order, played at once */
	unsigned long long noutside;	/* skipped by --from/--to */
};

static const struct replay *counted;	/* for --stats and SIGUSR1 */
static double		 speed = 1;		/* -s; 0 is as fast as possible */
static double		 rate;			/* -r, lines per second; 0: none */
static bool		 retime;		/* --retime */
/* Times are within +-9e15 ms, so these bounds keep every event. */
static int64_t		 from_ms = INT64_MIN;	/* --from, inclusive */
static int64_t		 to_ms = INT64_MAX;	/* --to, exclusive */
static struct ecs_path	*ts_path;		/* "ts", through --map */

static const struct option longopts[] = {
	ECS_COMMON_LONGOPTS,
	{ "from",	required_argument,	NULL, OPT_FROM },
	{ "rate",	required_argument,	NULL, 'r' },
	{ "retime",	no_argument,		NULL, OPT_RETIME },
	{ "speed",	required_argument,	NULL, 's' },
	{ "to",		required_argument,	NULL, OPT_TO },
	{ NULL,		0,			NULL, 0 }
};

static _Noreturn void
usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fprintf(fp,
"usage: ecs-replay [-hqV] [-i format] [-o format] [-r rate | -s speed]\n"
"                  [--from time] [--to time] [--retime] [file ...]\n");
	if (status != 0)
		exit(status);
	fprintf(fp,
"Write stored NDJSON events with the gaps between their times kept\n"
"(see ecs-replay(1)). The time is read from the field ts (--map ts=PATH).\n"
"  -r, --rate N             write N lines per second, whatever their times\n"
"  -s, --speed X            play X seconds of event time per second\n"
"                           (default 1; 3600 plays an hour a second;\n"
"                           0 plays as fast as possible)\n"
"      --from TIME          skip the events before TIME\n"
"      --to TIME            skip the events at or after TIME\n"
"      --retime             set each event's time to when it is played\n"
"TIME: 2026-11-01T10:00:00Z, 2026-11-01T12:00+02:00, 2026-11-01,\n"
"  or epoch seconds or milliseconds\n");
	ecs_common_usage(fp);
	exit(0);
}

/*
 * Parses the value of --speed or --rate: a plain decimal number such as
 * 3600, 0.5 or .25, without sign or exponent. Exits 2 naming the option
 * when s is not one or is too large or too small to hold.
 */
static double
parse_decimal(const char *opt, const char *s)
{
	const char *p = s;
	char *end;
	size_t ndigits = 0;
	double v;

	for (; *p >= '0' && *p <= '9'; p++)
		ndigits++;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			ndigits++;
	if (ndigits == 0 || *p != '\0')
		errx(ECS_EXIT_USAGE, "%s '%s': not a decimal number", opt, s);
	errno = 0;
	v = strtod(s, &end);
	if (errno == ERANGE || !isfinite(v))
		errx(ECS_EXIT_USAGE, "%s '%s': out of range", opt, s);
	return v;
}

static void
parse_options(int argc, char *argv[], int *first_operand)
{
	const char *why, *from_arg = NULL, *to_arg = NULL;
	bool has_rate = false, has_speed = false;
	int ch;

	while ((ch = getopt_long(argc, argv, ECS_COMMON_SHORTOPTS "r:s:",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(0);
		case 'r':
			rate = parse_decimal("--rate", optarg);
			if (rate == 0)
				errx(ECS_EXIT_USAGE, "--rate '%s': must be more "
				    "than 0 (use --speed 0 for no pause)",
				    optarg);
			has_rate = true;
			break;
		case 's':
			speed = parse_decimal("--speed", optarg);
			has_speed = true;
			break;
		case OPT_FROM:
			from_ms = ecs_opt_time("--from", optarg);
			from_arg = optarg;
			break;
		case OPT_RETIME:
			retime = true;
			break;
		case OPT_TO:
			to_ms = ecs_opt_time("--to", optarg);
			to_arg = optarg;
			break;
		default:
			if (!ecs_common_option(ch, optarg))
				usage(ECS_EXIT_USAGE);
		}
	}
	if (has_rate && has_speed) {
		warnx("--speed and --rate cannot be used together");
		usage(ECS_EXIT_USAGE);
	}
	if (from_arg != NULL && to_arg != NULL && from_ms >= to_ms)
		errx(ECS_EXIT_USAGE, "--from '%s' is not before --to '%s'",
		    from_arg, to_arg);
	/* After the options, so that --map ts=PATH applies. */
	if ((ts_path = ecs_path_compile("ts", &why)) == NULL)
		errx(ECS_EXIT_USAGE, "ts: %s", why);
	ecs_path_apply_map(ts_path);
	*first_operand = optind;
}

/* Nanoseconds as an offset for ecs_pace_wait, capped at MAX_OFFSET_NS. */
static int64_t
offset_ns(double ns)
{
	return ns < (double)MAX_OFFSET_NS ? (int64_t)ns : MAX_OFFSET_NS;
}

/*
 * A new time value for ms, of the kind of old (the event's time value): an
 * ISO-8601 UTC string for a date string; for a number, or a string that is
 * exactly a number, the same form with epoch milliseconds when old was at
 * least 1e11, else epoch seconds, integral when whole and with three
 * decimals otherwise. Owned by the caller.
 */
static struct json_object *
time_like(struct json_object *old, int64_t ms)
{
	struct ecs_num n;
	char buf[48];
	const char *sign = ms < 0 ? "-" : "";
	int64_t a = ms < 0 ? -ms : ms;
	bool is_string = json_object_is_type(old, json_type_string);
	bool whole;

	if (is_string && !ecs_num_parse(json_object_get_string(old),
	    (size_t)json_object_get_string_len(old), &n))
		return json_object_new_string_len(buf,
		    (int)ecs_time_format(ms, buf));
	if (!is_string)
		n.d = json_object_get_double(old);
	if (fabs(n.d) >= EPOCH_MS_FROM) {
		whole = true;
		snprintf(buf, sizeof(buf), "%" PRId64, ms);
	} else if ((whole = a % 1000 == 0))
		snprintf(buf, sizeof(buf), "%" PRId64, ms / 1000);
	else
		snprintf(buf, sizeof(buf), "%s%" PRId64 ".%03d", sign,
		    a / 1000, (int)(a % 1000));
	if (is_string)
		return json_object_new_string(buf);
	if (whole)
		return json_object_new_int64(fabs(n.d) >= EPOCH_MS_FROM ?
		    ms : ms / 1000);
	return json_object_new_double_s((double)ms / 1000.0, buf);
}

/*
 * Puts v at path in rec, where a value is known to be, replacing it; takes
 * over the caller's reference to v.
 */
static void
replace_at(struct json_object *rec, const struct ecs_path *path,
    struct json_object *v)
{
	struct ecs_path up = *path;	/* the parent: all but the last segment */
	const struct ecs_seg *last = &path->seg[path->nseg - 1];
	struct json_object *parent;

	up.nseg--;
	if (!ecs_path_find(&up, rec, &parent) || parent == NULL) {
		json_object_put(v);
		return;
	}
	if (json_object_is_type(parent, json_type_array))
		json_object_array_put_idx(parent, (size_t)last->index, v);
	else
		json_object_object_add(parent, last->key, v);
}

/*
 * Plays one kept event with time t (tv, borrowed from rec, is its value):
 * waits for its time, then writes it. False when SIGINT/SIGTERM came while
 * waiting; the event is then not written.
 */
static bool
play(struct replay *rp, const struct ecs_reader *rd, struct json_object *rec,
    struct json_object *tv, int64_t t)
{
	bool late = false;
	int64_t offset = 0, ms;

	if (!rp->started) {
		ecs_pace_start(&rp->pace);
		rp->t0 = rp->tmax = t;
		rp->started = true;
	}
	if (t < rp->tmax) {
		late = true;
		rp->nlate++;
	} else
		rp->tmax = t;
	if (rate > 0)
		offset = offset_ns((double)rp->nplayed * 1e9 / rate);
	else if (speed > 0 && !late)
		offset = offset_ns((double)(t - rp->t0) * 1e6 / speed);
	if (!ecs_pace_wait(&rp->pace, offset))
		return false;

	if (!retime) {
		ecs_out_write(rd->line, rd->len);
	} else {
		if (rate > 0 || speed == 0)
			ms = ecs_pace_wall_ms(&rp->pace);
		else
			ms = rp->pace.start_wall_ms +
			    llround((double)(t - rp->t0) / speed);
		replace_at(rec, ts_path, time_like(tv, ms));
		ecs_out_json(rec);
	}
	ecs_out_putc('\n');
	rp->nplayed++;
	return true;
}

/* The summary on standard error, when anything was not played in time. */
static void
summary(const struct replay *rp)
{
	if (ecs_config.quiet || (rp->nlate == 0 && rp->noutside == 0))
		return;
	fprintf(stderr, "%s: %llu line%s replayed", program_invocation_short_name,
	    rp->nplayed, rp->nplayed == 1 ? "" : "s");
	if (rp->nlate > 0)
		fprintf(stderr, ", %llu out of order (played %sin file order)",
		    rp->nlate, rate == 0 && speed > 0 ? "at once " : "");
	if (rp->noutside > 0)
		fprintf(stderr, ", %llu outside --from/--to", rp->noutside);
	fputc('\n', stderr);
}

static void
count(struct ecs_counters *c)
{
	c->kept = counted->nplayed;
	c->late = counted->nlate;
}

int
main(int argc, char *argv[])
{
	struct ecs_reader rd;
	struct replay rp;
	struct json_object *rec, *tv;
	const char *text;
	char shown[ECS_SHOWN_SIZE];
	size_t len;
	int64_t t;
	int first, status;

	parse_options(argc, argv, &first);
	ecs_signals_init();
	memset(&rp, 0, sizeof(rp));
	counted = &rp;
	ecs_stats_hook(count);

	ecs_reader_init(&rd, argv + first, argc - first);
	while (ecs_reader_line(&rd)) {
		if ((rec = ecs_reader_parse(&rd)) == NULL)
			continue;
		if (!ecs_path_find(ts_path, rec, &tv))
			ecs_reader_bad(&rd, "field '%s' is missing",
			    ts_path->text);
		else if (!ecs_time_from_json(tv, &t)) {
			text = json_object_to_json_string_length(tv,
			    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
			    &len);
			ecs_reader_bad(&rd, "field '%s' is not a time%s",
			    ts_path->text, ecs_shown(text, len, false, shown));
		}
		else if (t < from_ms || t >= to_ms)
			rp.noutside++;
		else if (!play(&rp, &rd, rec, tv, t)) {
			json_object_put(rec);
			break;
		}
		json_object_put(rec);
	}
	summary(&rp);
	status = ecs_reader_finish(&rd);
	status |= ecs_out_close();
	ecs_path_free(ts_path);
	return status;
}
