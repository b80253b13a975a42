/* SPDX-License-Identifier: ISC */
/*
 * ecs-sales -- business metrics over event-time windows: tumbling or
 * hopping windows (UTC, or the calendar of --tz), group keys, metrics with
 * exact money sums and bounded sketches, a watermark with allowed lateness
 * and late-event accounting, final or update emission, alert rules and
 * drop/spike detection against the group's recent windows, and state that
 * survives restarts.
 */
#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ecs.h"
#include "ecs_expr.h"
#include "ecs_sketch.h"

#define STATE_VERSION	1
/*
 * The exact budget of distinct, quantile and top: distinct keeps up to
 * this many distinct values, quantile this many values and top this many
 * distinct keys exactly; past it each is a sketch, and the row says so
 * with its bound (see "approximate" in ecs-sales(1)).
 */
#define EXACT_BUDGET	10000
#define DISTINCT_BOUND	0.02		/* HyperLogLog: 2.5 standard errors */
#define QUANTILE_ALPHA	0.01		/* DDSketch relative accuracy */
#define QUANTILE_DIGITS	4		/* significant digits of an estimate */
#define QUANTILE_BOUND	0.011		/* alpha, plus rounding to 4 digits */
#define TOP_COUNTERS(k)	((k) * 10 > EXACT_BUDGET ? (k) * 10 : EXACT_BUDGET)
#define AVG_PLACES	6
#define LIST_DEFAULT	100
#define NO_WINDOW	INT64_MIN	/* one running total: no --window */

enum {
	OPT_ALERT = ECS_OPT_TOOL,
	OPT_BASELINE,
	OPT_CHECKPOINT,
	OPT_CORRECTIONS,
	OPT_DROP,
	OPT_EMIT,
	OPT_IDLE,
	OPT_LATE,
	OPT_LATENESS,
	OPT_MERGE,
	OPT_PARTIAL,
	OPT_SLIDE,
	OPT_SPIKE,
	OPT_STATE,
	OPT_TZ,
	OPT_WATCH,
	OPT_WHERE,
};

enum func { FN_COUNT, FN_SUM, FN_AVG, FN_MIN, FN_MAX, FN_DISTINCT,
    FN_QUANTILE, FN_TOP, FN_LIST };
static const char *const func_names[] = { "count", "sum", "avg", "min",
    "max", "distinct", "quantile", "top", "list" };

struct metric {
	char		*spec;		/* as -m gave it, for the state */
	char		*name;
	enum func	 fn;
	struct ecs_expr	*arg;		/* NULL for count() */
	struct ecs_expr	*alt[2];	/* default sales: the fallbacks */
	double		 q;		/* quantile, as a double */
	struct ecs_dec	 qdec;		/* quantile, exactly */
	size_t		 k;		/* top, list */
};

/* One metric's running value in one group of one window. */
struct agg {
	uint64_t	 n;		/* values seen */
	struct ecs_dec	 v;		/* sum; min or max */
	void		*sketch;	/* distinct, quantile, top */
	char		**list;		/* JSON texts, owned */
	size_t		 nlist;
	struct ecs_dec	*values;	/* quantile: all n while n <= budget */
	size_t		 values_cap;
	size_t		 nsorted;	/* values[0..nsorted) are in order */
};

struct group {
	struct agg	*aggs;		/* one per metric, owned */
};

struct window {
	int64_t		 start, end;
	struct ecs_map	*groups;	/* group fragment -> struct group */
	bool		 written;	/* final rows out; kept for corrections */
};

/* The recent values of the watched metric for one group (--drop/--spike). */
struct baseline {
	double		*values;	/* ring of --baseline values, owned */
	uint32_t	 n, next;
};

struct alert_rule {
	char		*text;
	struct ecs_expr	*expr;
};

static struct metric	*metrics;
static size_t		 nmetrics;
static bool		 default_metrics = true;	/* no -m: decided later */
static struct ecs_path	**by;			/* -b */
static size_t		 nby;
static struct ecs_expr	*where;			/* --where */
static int64_t		 window_ms = NO_WINDOW;	/* -w */
static int64_t		 slide_ms;		/* --slide; 0: tumbling */
static int64_t		 lateness_ms;		/* --lateness */
static int64_t		 corrections_ms = -1;	/* --corrections */
static int64_t		 idle_ms;		/* --idle */
static bool		 emit_update;		/* --emit update */
static const char	*tz;			/* --tz */
static int64_t		 std_offset_ms;		/* its offset without DST */
static const char	*late_path;		/* --late */
static struct alert_rule *rules;		/* --alert */
static size_t		 nrules;
static double		 drop_pct, spike_pct;	/* --drop, --spike */
static uint32_t		 baseline_n = 6;	/* --baseline */
static const char	*watch_name;		/* --watch */
static bool		 partial;		/* --partial */
static bool		 merge;			/* --merge */
static char		*metrics_signature;	/* the -m specs, for partials */
static void		 save_state(void);
static struct ecs_checkpoint ckpt = {		/* --state, --checkpoint */
	.program = "ecs-sales", .version = STATE_VERSION,
	.interval_ms = 30000, .save = save_state,
};

static struct ecs_fieldset fields;
static size_t		 ts_slot;
static size_t		*by_slot;
static struct window	*windows;		/* open (and kept), by start */
static size_t		 nwindows, windows_cap;
/* The largest event time (max_time), and the events without one. */
static struct ecs_event_clock event_clock = ECS_EVENT_CLOCK_INIT;
static int64_t		 watermark = INT64_MIN;
static int64_t		 closed_upto = INT64_MIN;	/* windows ending here are out */
static unsigned long long nlate, nlate_run, ncorrections;
static int		 late_fd = -1;
static struct ecs_map	*baselines;		/* group fragment -> baseline */
static size_t		 watch;			/* index of the watched metric */
static char		*frag;			/* the current group fragment */
static size_t		 frag_len, frag_cap;

static const struct option longopts[] = {
	ECS_COMMON_LONGOPTS,
	{ "alert",	required_argument,	NULL, OPT_ALERT },
	{ "baseline",	required_argument,	NULL, OPT_BASELINE },
	{ "by",		required_argument,	NULL, 'b' },
	{ "checkpoint",	required_argument,	NULL, OPT_CHECKPOINT },
	{ "corrections", required_argument,	NULL, OPT_CORRECTIONS },
	{ "drop",	required_argument,	NULL, OPT_DROP },
	{ "emit",	required_argument,	NULL, OPT_EMIT },
	{ "idle",	required_argument,	NULL, OPT_IDLE },
	{ "late",	required_argument,	NULL, OPT_LATE },
	{ "lateness",	required_argument,	NULL, OPT_LATENESS },
	{ "merge",	no_argument,		NULL, OPT_MERGE },
	{ "partial",	no_argument,		NULL, OPT_PARTIAL },
	{ "metric",	required_argument,	NULL, 'm' },
	{ "slide",	required_argument,	NULL, OPT_SLIDE },
	{ "spike",	required_argument,	NULL, OPT_SPIKE },
	{ "state",	required_argument,	NULL, OPT_STATE },
	{ "tz",		required_argument,	NULL, OPT_TZ },
	{ "watch",	required_argument,	NULL, OPT_WATCH },
	{ "where",	required_argument,	NULL, OPT_WHERE },
	{ "window",	required_argument,	NULL, 'w' },
	{ NULL,		0,			NULL, 0 }
};

static _Noreturn void
usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fprintf(fp,
"usage: ecs-sales [-hqV] [-b keys] [-i format] [-m name=func(expr)]...\n"
"                 [-o format] [-w duration] [--slide duration]\n"
"                 [--lateness duration] [--late file] [--emit final|update]\n"
"                 [--tz zone] [--where expr]\n"
"                 [--corrections duration] [--idle duration]\n"
"                 [--alert expr]... [--drop pct] [--spike pct]\n"
"                 [--baseline n] [--watch name] [--state file]\n"
"                 [--checkpoint duration] [--partial | --merge] [file ...]\n");
	if (status != 0)
		exit(status);
	fprintf(fp,
"Business metrics over event-time windows (see ecs-sales(1)).\n"
"  -w, --window DURATION    tumbling windows: 30s, 5m, 1h, 1d (default: one\n"
"                           running total, written at the end)\n"
"      --slide DURATION     hopping windows that start this often\n"
"  -b, --by A,B             group keys (field paths)\n"
"  -m, --metric NAME=FUNC(EXPR)  count() sum avg min max distinct\n"
"                           quantile(EXPR,Q) top(EXPR,K) list(EXPR[,N]);\n"
"                           exact up to 10000 values, else the row says\n"
"                           \"approximate\" with the bound; default count\n"
"                           and sales: each event's price*quantity, or\n"
"                           else its sales, or else its amount\n"
"      --where EXPR         only the events for which EXPR holds\n"
"      --lateness DURATION  the watermark trails the latest event time\n"
"      --late FILE          append late events, verbatim, to FILE\n"
"      --corrections DURATION  keep written windows this long; late events\n"
"                           update them with a correction row\n"
"      --emit final|update  rows when windows close, or after every event\n"
"      --tz ZONE            day and hour windows in ZONE's calendar\n"
"      --idle DURATION      with no input for this long, advance the\n"
"                           watermark by the time that passed\n"
"      --alert EXPR         also write matching rows as alerts (EXPR reads\n"
"                           only keys of the rows)\n"
"      --drop PCT, --spike PCT  alert when the watched metric falls below or\n"
"                           rises above the mean of the group's previous\n"
"      --baseline N         N windows (default 6) by PCT percent\n"
"      --watch NAME         the watched metric (default the first)\n"
"      --state FILE         load and save open windows and baselines\n"
"      --checkpoint DURATION save the state this often (default 30s)\n"
"      --partial            write windows as partial states to --merge\n"
"      --merge              read partial states, write the merged rows\n");
	ecs_common_usage(fp);
	exit(0);
}

/* Options */

static double
percent_arg(const char *opt, const char *arg)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end != '\0' || !(v > 0 && v < 1e6))
		errx(ECS_EXIT_USAGE, "%s '%s': expected a percentage above 0",
		    opt, arg);
	return v;
}

static struct ecs_expr *
compile_expr(const char *what, const char *src)
{
	struct ecs_expr *e;
	char msg[256];

	if ((e = ecs_expr_compile(src, msg, sizeof(msg))) == NULL)
		errx(ECS_EXIT_USAGE, "%s '%s': expression:%s", what, src, msg);
	return e;
}

/* The last comma of s outside quotes and brackets, or NULL. */
static char *
last_top_comma(char *s)
{
	char *comma = NULL, quote = 0;
	int depth = 0;

	for (; *s != '\0'; s++) {
		if (quote != 0) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == quote)
				quote = 0;
		} else if (*s == '"' || *s == '\'')
			quote = *s;
		else if (*s == '(' || *s == '[')
			depth++;
		else if (*s == ')' || *s == ']')
			depth--;
		else if (*s == ',' && depth == 0)
			comma = s;
	}
	return comma;
}

/* NAME=FUNC(EXPR[,PARAM]), as -m gives it. */
static void
add_metric(const char *spec)
{
	char *copy = ecs_xstrdup(spec), *eq, *open, *args, *comma, *end;
	const char *qtext;
	struct metric m = { 0 };
	size_t i, len;
	double param = -1;

	if ((eq = strchr(copy, '=')) == NULL || eq == copy ||
	    (open = strchr(eq, '(')) == NULL ||
	    (len = strlen(open)) < 2 || open[len - 1] != ')')
		errx(ECS_EXIT_USAGE, "--metric '%s': expected NAME=FUNC(EXPR)",
		    spec);
	*eq = *open = open[len - 1] = '\0';
	m.name = ecs_xstrdup(copy);
	m.spec = ecs_xstrdup(spec);
	for (i = 0; i < sizeof(func_names) / sizeof(func_names[0]); i++)
		if (strcmp(eq + 1, func_names[i]) == 0)
			break;
	if (i == sizeof(func_names) / sizeof(func_names[0]))
		errx(ECS_EXIT_USAGE, "--metric '%s': no function '%s' (count, "
		    "sum, avg, min, max, distinct, quantile, top, list)", spec,
		    eq + 1);
	m.fn = (enum func)i;
	args = open + 1;
	if (m.fn == FN_QUANTILE || m.fn == FN_TOP || m.fn == FN_LIST) {
		if ((comma = last_top_comma(args)) != NULL) {
			param = strtod(comma + 1, &end);
			if (end == comma + 1 || strspn(end, " ") != strlen(end))
				errx(ECS_EXIT_USAGE, "--metric '%s': '%s' is "
				    "not a number", spec, comma + 1);
			qtext = comma + 1 + strspn(comma + 1, " ");
			if (!ecs_dec_parse(qtext, (size_t)(end - qtext),
			    &m.qdec))
				m.qdec.exact = false;	/* ranks by double */
			*comma = '\0';
		} else if (m.fn != FN_LIST)
			errx(ECS_EXIT_USAGE, "--metric '%s': %s needs a second "
			    "argument", spec, func_names[m.fn]);
	}
	if (m.fn == FN_QUANTILE && !(param >= 0 && param <= 1))
		errx(ECS_EXIT_USAGE, "--metric '%s': the quantile must be from "
		    "0 to 1", spec);
	if ((m.fn == FN_TOP || m.fn == FN_LIST) && param != -1 &&
	    !(param >= 1 && param <= 100000 && param == floor(param)))
		errx(ECS_EXIT_USAGE, "--metric '%s': the count must be a whole "
		    "number from 1 to 100000", spec);
	m.q = param;
	m.k = param > 0 ? (size_t)param : LIST_DEFAULT;
	if (m.fn == FN_COUNT) {
		if (args[strspn(args, " ")] != '\0')
			errx(ECS_EXIT_USAGE, "--metric '%s': count() takes no "
			    "argument", spec);
	} else
		m.arg = compile_expr("--metric", args);
	metrics = ecs_xrealloc(metrics, (nmetrics + 1) * sizeof(*metrics));
	metrics[nmetrics++] = m;
	default_metrics = false;
	free(copy);
}

static void
add_by(const char *list)
{
	char *copy = ecs_xstrdup(list), *item, *save = NULL;
	const char *why;

	for (item = strtok_r(copy, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		by = ecs_xrealloc(by, (nby + 1) * sizeof(*by));
		if ((by[nby] = ecs_path_compile(item, &why)) == NULL)
			errx(ECS_EXIT_USAGE, "--by '%s': %s", item, why);
		nby++;
	}
	free(copy);
}

/* Checks --tz against the tz database: glibc takes unknown names as UTC. */
static struct tm local_tm(int64_t);

static void
set_zone(const char *zone)
{
	char path[512];
	struct tm jan, jul;

	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
	if (zone[0] == '\0' || strstr(zone, "..") != NULL ||
	    access(path, R_OK) != 0)
		errx(ECS_EXIT_USAGE, "--tz '%s': not a zone of the tz database "
		    "(%s; install tzdata)", zone, path);
	setenv("TZ", zone, 1);
	tzset();
	tz = zone;
	/* Daylight saving adds to the standard offset, in either hemisphere. */
	jan = local_tm(1767225600000LL);	/* 2026-01-01 */
	jul = local_tm(1782864000000LL);	/* 2026-07-01 */
	std_offset_ms = (int64_t)(jan.tm_gmtoff < jul.tm_gmtoff ?
	    jan.tm_gmtoff : jul.tm_gmtoff) * 1000;
}

static void
parse_options(int argc, char *argv[], int *first_operand)
{
	char *end;
	int ch;

	while ((ch = getopt_long(argc, argv, ECS_COMMON_SHORTOPTS "b:m:w:",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			add_by(optarg);
			break;
		case 'h':
			usage(0);
		case 'm':
			add_metric(optarg);
			break;
		case 'w':
			window_ms = ecs_opt_duration("--window", optarg);
			break;
		case OPT_ALERT:
			rules = ecs_xrealloc(rules, (nrules + 1) * sizeof(*rules));
			rules[nrules].text = optarg;
			rules[nrules++].expr = compile_expr("--alert", optarg);
			break;
		case OPT_BASELINE:
			baseline_n = (uint32_t)strtoul(optarg, &end, 10);
			if (end == optarg || *end != '\0' || baseline_n < 1 ||
			    baseline_n > 1000)
				errx(ECS_EXIT_USAGE, "--baseline '%s': expected "
				    "1 to 1000 windows", optarg);
			break;
		case OPT_CHECKPOINT:
			ecs_checkpoint_option(&ckpt, optarg);
			break;
		case OPT_CORRECTIONS:
			corrections_ms = ecs_opt_duration("--corrections", optarg);
			break;
		case OPT_DROP:
			drop_pct = percent_arg("--drop", optarg);
			break;
		case OPT_EMIT:
			if (strcmp(optarg, "update") != 0 &&
			    strcmp(optarg, "final") != 0)
				errx(ECS_EXIT_USAGE, "--emit '%s': expected final "
				    "or update", optarg);
			emit_update = strcmp(optarg, "update") == 0;
			break;
		case OPT_IDLE:
			idle_ms = ecs_opt_duration("--idle", optarg);
			break;
		case OPT_LATE:
			late_path = optarg;
			break;
		case OPT_LATENESS:
			lateness_ms = ecs_opt_duration("--lateness", optarg);
			break;
		case OPT_MERGE:
			merge = true;
			break;
		case OPT_PARTIAL:
			partial = true;
			break;
		case OPT_SLIDE:
			slide_ms = ecs_opt_duration("--slide", optarg);
			break;
		case OPT_SPIKE:
			spike_pct = percent_arg("--spike", optarg);
			break;
		case OPT_STATE:
			ckpt.path = optarg;
			break;
		case OPT_TZ:
			set_zone(optarg);
			break;
		case OPT_WATCH:
			watch_name = optarg;
			break;
		case OPT_WHERE:
			where = compile_expr("--where", optarg);
			break;
		default:
			if (!ecs_common_option(ch, optarg))
				usage(ECS_EXIT_USAGE);
		}
	}
	if (slide_ms > 0 && window_ms == NO_WINDOW)
		errx(ECS_EXIT_USAGE, "--slide needs --window");
	if (slide_ms > window_ms && window_ms != NO_WINDOW)
		errx(ECS_EXIT_USAGE, "--slide must not be longer than --window");
	if ((drop_pct > 0 || spike_pct > 0) && (window_ms == NO_WINDOW ||
	    slide_ms > 0))
		errx(ECS_EXIT_USAGE, "--drop and --spike need tumbling windows "
		    "(--window without --slide)");
	if (idle_ms > 0 && window_ms == NO_WINDOW)
		errx(ECS_EXIT_USAGE, "--idle needs --window");
	if (idle_ms > 2000000000)
		errx(ECS_EXIT_USAGE, "--idle: at most about 23 days");
	if ((partial || merge) && default_metrics)
		errx(ECS_EXIT_USAGE, "--partial and --merge need their metrics "
		    "given with -m (the same in every process)");
	if (partial && (merge || emit_update || drop_pct > 0 || spike_pct > 0 ||
	    corrections_ms >= 0 || nrules > 0))
		errx(ECS_EXIT_USAGE, "--partial writes states to merge: not with "
		    "--merge, --emit update, --corrections, --alert, --drop or "
		    "--spike (give those to the --merge)");
	if (merge && (drop_pct > 0 || spike_pct > 0 || emit_update ||
	    ckpt.path != NULL))
		errx(ECS_EXIT_USAGE, "--merge takes --alert but not --drop, "
		    "--spike, --emit update or --state");
	*first_operand = optind;
}

/* Text buffers */

struct buf {
	char	*p;
	size_t	 len, cap;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 256;
		b->p = ecs_xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* s[0..n) as a JSON string. */
static void
buf_json_string(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', '0', '0' };
	size_t i;

	buf_add(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			buf_add(b, "\\", 1);
			buf_add(b, s + i, 1);
		} else if (c < 0x20) {
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			buf_add(b, esc, 6);
		} else
			buf_add(b, s + i, 1);
	}
	buf_add(b, "\"", 1);
}

static void
buf_time(struct buf *b, int64_t ms)
{
	char t[32];

	buf_add(b, "\"", 1);
	buf_add(b, t, ecs_time_format(ms, t));
	buf_add(b, "\"", 1);
}

/* Windows: epoch-aligned in UTC, or on the local calendar of --tz. */

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

/* The start of the window of the given size that holds t. */
static int64_t
window_floor(int64_t t, int64_t size)
{
	struct tm tm;
	int64_t off, days;

	if (tz == NULL)
		return floor_div(t, size) * size;
	if (size % DAY_MS != 0) {
		/*
		 * Shorter windows follow the zone's standard offset all year:
		 * they never overlap or leave gaps where the clocks change.
		 */
		off = std_offset_ms;
		return floor_div(t + off, size) * size - off;
	}
	tm = local_tm(t);
	/* Whole days start at local midnight, 23 or 25 hours apart at DST. */
	days = floor_div(t + (int64_t)tm.tm_gmtoff * 1000, DAY_MS);
	return local_midnight(&tm, -(int)(days - floor_div(days, size / DAY_MS) *
	    (size / DAY_MS)));
}

static int64_t
window_end(int64_t start, int64_t size)
{
	struct tm tm;

	if (tz == NULL || size % DAY_MS != 0)
		return start + size;
	tm = local_tm(start);
	return local_midnight(&tm, (int)(size / DAY_MS));
}

static void	 free_group(void *);

static struct window *
find_window(int64_t start, bool add)
{
	size_t lo = 0, hi = nwindows, mid;
	struct window *w;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (windows[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < nwindows && windows[lo].start == start)
		return &windows[lo];
	if (!add)
		return NULL;
	if (nwindows == windows_cap) {
		windows_cap = windows_cap ? windows_cap * 2 : 8;
		windows = ecs_xrealloc(windows, windows_cap * sizeof(*windows));
	}
	memmove(windows + lo + 1, windows + lo,
	    (nwindows - lo) * sizeof(*windows));
	nwindows++;
	w = &windows[lo];
	w->start = start;
	w->end = window_ms == NO_WINDOW ? NO_WINDOW :
	    window_end(start, window_ms);
	w->groups = ecs_map_create(sizeof(struct group), free_group);
	w->written = false;
	return w;
}

/* Aggregates */

static void
agg_init(const struct metric *m, struct agg *a)
{
	memset(a, 0, sizeof(*a));
	ecs_dec_from_int(&a->v, 0);
	switch (m->fn) {
	case FN_DISTINCT:
		a->sketch = ecs_distinct_create(EXACT_BUDGET);
		break;
	case FN_QUANTILE:
		a->sketch = ecs_quantile_create(QUANTILE_ALPHA);
		break;
	case FN_TOP:
		/* Space-Saving with a counter for every key is exact. */
		a->sketch = ecs_topk_create(TOP_COUNTERS(m->k));
		break;
	default:
		break;
	}
}

static void
agg_free(const struct metric *m, struct agg *a)
{
	size_t i;

	switch (m->fn) {
	case FN_DISTINCT:
		ecs_distinct_destroy(a->sketch);
		break;
	case FN_QUANTILE:
		ecs_quantile_destroy(a->sketch);
		break;
	case FN_TOP:
		ecs_topk_destroy(a->sketch);
		break;
	default:
		break;
	}
	for (i = 0; i < a->nlist; i++)
		free(a->list[i]);
	free(a->list);
	free(a->values);
}

static struct buf key;		/* scratch for keys of distinct, top, list */

/* The current line's value of each decimal metric: see values_fit. */
static struct ecs_dec	*line_value;
static bool		*line_has;
static size_t		 line_cap;
/*
 * At least the sum of the magnitudes of all values summed, and infinite
 * once sums came from a state or partials: while it is below 10^19, no sum
 * (at most 18 places) can reach the 10^37 that would near overflow.
 */
static double		 sum_bound;
#define SUM_SAFE	1e19

/* Sum, avg, min and max: metrics of exact decimals. */
static bool
is_decimal_metric(const struct metric *m)
{
	return m->fn == FN_SUM || m->fn == FN_AVG || m->fn == FN_MIN ||
	    m->fn == FN_MAX;
}

/*
 * The metric argument's value as JSON text in key; false when missing.
 * *is_null tells a JSON null (the string "null" is "\"null\"").
 */
static bool
key_of(const struct metric *m, const struct ecs_field *f, bool *is_null)
{
	char num[64];
	const char *text;
	size_t len;
	bool is_string;

	if (!ecs_expr_eval_key(m->arg, f, num, &text, &len, &is_string))
		return false;
	*is_null = !is_string && len == 4 && memcmp(text, "null", 4) == 0;
	key.len = 0;
	if (is_string)
		buf_json_string(&key, text, len);
	else
		buf_add(&key, text, len);
	return true;
}

/* The metric's number: its expression, or the first fallback that has one. */
static bool
metric_dec(const struct metric *m, const struct ecs_field *f,
    struct ecs_dec *d)
{
	return ecs_expr_eval_dec(m->arg, f, d) ||
	    (m->alt[0] != NULL && ecs_expr_eval_dec(m->alt[0], f, d)) ||
	    (m->alt[1] != NULL && ecs_expr_eval_dec(m->alt[1], f, d));
}

/* Keeps v as the exact value number at of a quantile, within the budget. */
static void
quantile_keep(struct agg *a, uint64_t at, const struct ecs_dec *v)
{
	if (at >= EXACT_BUDGET)
		return;
	while (at >= a->values_cap) {
		a->values_cap = a->values_cap ? a->values_cap * 2 : 16;
		if (a->values_cap > EXACT_BUDGET)
			a->values_cap = EXACT_BUDGET;
		a->values = ecs_xrealloc(a->values,
		    a->values_cap * sizeof(*a->values));
	}
	a->values[at] = *v;
}

static void
agg_add(const struct metric *m, struct agg *a, const struct ecs_field *f)
{
	struct ecs_dec d;
	double x;
	bool is_null;

	switch (m->fn) {
	case FN_COUNT:
		a->n++;
		break;
	case FN_SUM:
	case FN_AVG:
		if (line_has[m - metrics]) {
			ecs_dec_add(&a->v, &line_value[m - metrics]);
			a->n++;
		}
		break;
	case FN_MIN:
	case FN_MAX:
		d = line_value[m - metrics];
		if (line_has[m - metrics] && (a->n++ == 0 ||
		    ecs_dec_cmp(&d, &a->v) == (m->fn == FN_MIN ? -1 : 1)))
			a->v = d;
		break;
	case FN_DISTINCT:
		/* As COUNT(DISTINCT x) in SQL: null is not a value. */
		if (key_of(m, f, &is_null) && !is_null) {
			ecs_distinct_add(a->sketch, key.p, key.len);
			a->n++;
		}
		break;
	case FN_QUANTILE:
		/* The exact value only while it is kept. */
		if (ecs_expr_eval_double(m->arg, f, &x) && isfinite(x) &&
		    (a->n >= EXACT_BUDGET || ecs_expr_eval_dec(m->arg, f, &d))) {
			ecs_quantile_add(a->sketch, x);
			quantile_keep(a, a->n, &d);
			a->n++;
		}
		break;
	case FN_TOP:
		if (key_of(m, f, &is_null)) {
			ecs_topk_add(a->sketch, key.p, key.len, 1);
			a->n++;
		}
		break;
	case FN_LIST:
		if (a->nlist < m->k && key_of(m, f, &is_null)) {
			a->list = ecs_xrealloc(a->list,
			    (a->nlist + 1) * sizeof(*a->list));
			a->list[a->nlist++] = ecs_xstrndup(key.p, key.len);
		}
		break;
	}
}

/* Whether the metric's value is exact (false: a sketch's estimate). */
static bool
agg_is_exact(const struct metric *m, const struct agg *a)
{
	switch (m->fn) {
	case FN_DISTINCT:
		return ecs_distinct_is_exact(a->sketch);
	case FN_QUANTILE:
		return a->n <= EXACT_BUDGET;
	case FN_TOP:
		return ecs_topk_is_exact(a->sketch);
	default:
		return true;
	}
}

/*
 * The nearest rank of the q-quantile of n values, ceil(q * n) and at
 * least 1 (1-based), as DuckDB's quantile_disc: with q's decimal digits
 * when it has few enough, so that 0.1 * 30 is 3, not 3.0000000000000004.
 */
static uint64_t
nearest_rank(const struct metric *m, uint64_t n)
{
	ecs_i128 pow10 = 1, num;
	uint64_t r;
	int i;

	if (m->qdec.exact && m->qdec.scale >= 0 && m->qdec.scale <= 18) {
		for (i = 0; i < m->qdec.scale; i++)
			pow10 *= 10;
		num = m->qdec.m * (ecs_i128)n;
		r = (uint64_t)(num / pow10 + (num % pow10 != 0));
	} else
		r = (uint64_t)ceil(m->q * (double)n);
	return r < 1 ? 1 : r > n ? n : r;
}

static int
cmp_dec(const void *a, const void *b)
{
	return ecs_dec_cmp(a, b);
}

/*
 * Puts the n kept values of a quantile in order: the ones added since the
 * last time are sorted and merged in from the end, so that a row after
 * every event (--emit update) costs a move of the larger values, not a
 * sort of them all.
 */
static void
quantile_sort(struct agg *a, size_t n)
{
	struct ecs_dec *tail;
	size_t i = a->nsorted, j = n - a->nsorted, k = n;

	if (j == 0)
		return;
	qsort(a->values + i, j, sizeof(*a->values), cmp_dec);
	tail = ecs_xmalloc(j * sizeof(*tail));
	memcpy(tail, a->values + i, j * sizeof(*tail));
	while (j > 0) {
		if (i > 0 && ecs_dec_cmp(&a->values[i - 1], &tail[j - 1]) > 0)
			a->values[--k] = a->values[--i];
		else
			a->values[--k] = tail[--j];
	}
	free(tail);
	a->nsorted = n;
}

/*
 * The q-quantile, the value of nearest rank: exact (a value that occurred)
 * while the values fit the budget, else the sketch's estimate of the value
 * of that rank. False when there is none.
 */
static bool
quantile(const struct metric *m, struct agg *a, struct ecs_dec *out)
{
	uint64_t r;

	if (a->n == 0)
		return false;
	r = nearest_rank(m, a->n);
	if (a->n > EXACT_BUDGET) {
		/* The sketch's rank is floor(q' * (n - 1)), 0-based: r - 1. */
		ecs_dec_from_double(out, ecs_quantile_get(a->sketch,
		    r == a->n ? 1 : ((double)r - 0.5) / (double)(a->n - 1)));
		return true;
	}
	quantile_sort(a, (size_t)a->n);
	*out = a->values[r - 1];
	return true;
}

/*
 * An estimate to QUANTILE_DIGITS significant digits: more would be noise
 * under the sketch's 1%, and the digits kept add at most 0.05% to it.
 */
static void
format_estimate(double v, char *num, size_t size)
{
	int e, places, n;

	if (v == 0 || !isfinite(v)) {
		snprintf(num, size, "0");
		return;
	}
	e = (int)floor(log10(fabs(v)));
	if (e >= QUANTILE_DIGITS - 1) {
		v = round(v / pow(10, e - QUANTILE_DIGITS + 1)) *
		    pow(10, e - QUANTILE_DIGITS + 1);
		places = 0;
	} else
		places = QUANTILE_DIGITS - 1 - e;
	n = snprintf(num, size, "%.*f", places, v);
	while (places > 0 && n > 1 && num[n - 1] == '0')
		num[--n] = '\0';
	if (num[n - 1] == '.')
		num[--n] = '\0';
}

/* top(): [{"value":V,"count":C},...], with "error" when approximate. */
static void
top_write(const struct metric *m, const struct agg *a, struct buf *b)
{
	struct ecs_topk_item items[64], *it = items;
	bool exact = ecs_topk_is_exact(a->sketch);
	char num[96];
	size_t i, n;

	if (m->k > 64)
		it = ecs_xcalloc(m->k, sizeof(*it));
	n = ecs_topk_list(a->sketch, m->k, it);
	buf_add(b, "[", 1);
	for (i = 0; i < n; i++) {
		buf_puts(b, i > 0 ? ",{\"value\":" : "{\"value\":");
		buf_add(b, it[i].key, it[i].len);
		snprintf(num, sizeof(num), ",\"count\":%llu",
		    (unsigned long long)it[i].count);
		buf_puts(b, num);
		if (!exact) {
			snprintf(num, sizeof(num), ",\"error\":%llu",
			    (unsigned long long)it[i].error);
			buf_puts(b, num);
		}
		buf_add(b, "}", 1);
	}
	buf_add(b, "]", 1);
	if (it != items)
		free(it);
}

/* The metric's value as JSON text. */
static void
agg_write(const struct metric *m, struct agg *a, struct buf *b)
{
	struct ecs_dec d;
	char num[96];
	size_t i;

	switch (m->fn) {
	case FN_COUNT:
		snprintf(num, sizeof(num), "%llu", (unsigned long long)a->n);
		break;
	case FN_SUM:
		ecs_dec_format(&a->v, num, sizeof(num));
		break;
	case FN_AVG:
		ecs_dec_format_ratio(&a->v, a->n, AVG_PLACES, num, sizeof(num));
		break;
	case FN_MIN:
	case FN_MAX:
		if (a->n == 0)
			snprintf(num, sizeof(num), "null");
		else
			ecs_dec_format(&a->v, num, sizeof(num));
		break;
	case FN_DISTINCT:
		snprintf(num, sizeof(num), "%llu", (unsigned long long)
		    ecs_distinct_count(a->sketch));
		break;
	case FN_QUANTILE:
		if (!quantile(m, a, &d))
			snprintf(num, sizeof(num), "null");
		else if (a->n > EXACT_BUDGET)
			format_estimate(ecs_dec_to_double(&d), num, sizeof(num));
		else
			ecs_dec_format(&d, num, sizeof(num));
		break;
	case FN_TOP:
		top_write(m, a, b);
		return;
	case FN_LIST:
		buf_add(b, "[", 1);
		for (i = 0; i < a->nlist; i++) {
			if (i > 0)
				buf_add(b, ",", 1);
			buf_puts(b, a->list[i]);
		}
		buf_add(b, "]", 1);
		return;
	}
	buf_puts(b, num);
}

/* An approximate metric's bound, for the row's "approximate" object. */
static void
agg_write_bound(const struct metric *m, const struct agg *a, struct buf *b)
{
	struct ecs_topk_item *it;
	uint64_t worst = 0;
	size_t i, n;
	char num[64];

	switch (m->fn) {
	case FN_DISTINCT:
		snprintf(num, sizeof(num), "{\"relative_error\":%g}",
		    DISTINCT_BOUND);
		break;
	case FN_QUANTILE:
		snprintf(num, sizeof(num), "{\"relative_error\":%g}",
		    QUANTILE_BOUND);
		break;
	default:		/* top: the largest error of a listed count */
		it = ecs_xcalloc(m->k, sizeof(*it));
		n = ecs_topk_list(a->sketch, m->k, it);
		for (i = 0; i < n; i++)
			if (it[i].error > worst)
				worst = it[i].error;
		free(it);
		snprintf(num, sizeof(num), "{\"count_error\":%llu}",
		    (unsigned long long)worst);
		break;
	}
	buf_puts(b, num);
}

/* The watched metric as a number, for --drop and --spike. */
static double
agg_number(const struct metric *m, struct agg *a)
{
	struct ecs_dec d;

	switch (m->fn) {
	case FN_COUNT:
		return (double)a->n;
	case FN_SUM:
		return ecs_dec_to_double(&a->v);
	case FN_AVG:
		return a->n > 0 ? ecs_dec_to_double(&a->v) / (double)a->n : 0;
	case FN_MIN:
	case FN_MAX:
		return a->n > 0 ? ecs_dec_to_double(&a->v) : 0;
	case FN_DISTINCT:
		return (double)ecs_distinct_count(a->sketch);
	case FN_QUANTILE:
		return quantile(m, a, &d) ? ecs_dec_to_double(&d) : 0;
	default:
		return (double)a->n;
	}
}

/* Rows and alerts */

static struct buf row;

/* The row of one group of one window, as JSON without a line end. */
static void
build_row(const struct window *w, const char *gkey, size_t gkey_len,
    const struct group *g)
{
	size_t i, napprox;

	row.len = 0;
	buf_add(&row, "{", 1);
	if (w->start != NO_WINDOW) {
		buf_puts(&row, "\"window_start\":");
		buf_time(&row, w->start);
		buf_puts(&row, ",\"window_end\":");
		buf_time(&row, w->end);
	}
	if (gkey_len > 0) {
		if (row.len > 1)
			buf_add(&row, ",", 1);
		buf_add(&row, gkey, gkey_len);
	}
	for (i = 0; i < nmetrics; i++) {
		if (row.len > 1)
			buf_add(&row, ",", 1);
		buf_json_string(&row, metrics[i].name, strlen(metrics[i].name));
		buf_add(&row, ":", 1);
		agg_write(&metrics[i], &g->aggs[i], &row);
	}
	for (i = 0, napprox = 0; i < nmetrics; i++) {
		if (agg_is_exact(&metrics[i], &g->aggs[i]))
			continue;
		buf_puts(&row, napprox++ == 0 ? ",\"approximate\":{" : ",");
		buf_json_string(&row, metrics[i].name, strlen(metrics[i].name));
		buf_add(&row, ":", 1);
		agg_write_bound(&metrics[i], &g->aggs[i], &row);
	}
	if (napprox > 0)
		buf_add(&row, "}", 1);
	buf_add(&row, "}", 1);
}

/* Writes the row, or {"<flag>":true,...row} when flag is given. */
static void
write_row(const char *flag)
{
	if (flag != NULL) {
		ecs_out_puts("{\"");
		ecs_out_puts(flag);
		ecs_out_puts("\":true");
		if (row.len > 2)
			ecs_out_putc(',');
		ecs_out_write(row.p + 1, row.len - 1);
	} else
		ecs_out_write(row.p, row.len);
	ecs_out_putc('\n');
}

/* --alert: the rules that hold for the row are written as alerts. */
static void
check_rules(void)
{
	struct json_object *obj;
	struct buf head = { 0 };
	size_t i;

	if (nrules == 0)
		return;
	obj = json_tokener_parse(row.p);
	for (i = 0; i < nrules; i++) {
		if (!ecs_expr_match(rules[i].expr, obj))
			continue;
		head.len = 0;
		buf_puts(&head, "{\"alert\":\"rule\",\"rule\":");
		buf_json_string(&head, rules[i].text, strlen(rules[i].text));
		ecs_out_write(head.p, head.len);
		if (row.len > 2)
			ecs_out_putc(',');
		ecs_out_write(row.p + 1, row.len - 1);
		ecs_out_putc('\n');
	}
	free(head.p);
	json_object_put(obj);
}

static void
write_number(struct buf *b, double v)
{
	char num[64];
	int n = snprintf(num, sizeof(num), "%.2f", v);

	while (n > 1 && num[n - 1] == '0')
		num[--n] = '\0';
	if (num[n - 1] == '.')
		num[--n] = '\0';
	if (strcmp(num, "-0") == 0)
		strcpy(num, "0");
	buf_puts(b, num);
}

/*
 * --drop/--spike: compares the group's value in the window [start, end)
 * with the mean of its previous --baseline windows, then remembers it.
 */
static void
check_baseline(int64_t start, int64_t end, const char *gkey, size_t gkey_len,
    double value)
{
	struct baseline *b;
	struct buf out = { 0 };
	double mean = 0;
	const char *kind = NULL;
	bool created;
	uint32_t i;

	b = ecs_map_put(baselines, gkey, gkey_len, &created);
	if (created)
		b->values = ecs_xcalloc(baseline_n, sizeof(*b->values));
	if (b->n == baseline_n) {
		/* Oldest first, as a restored baseline has them: same sum. */
		for (i = 0; i < b->n; i++)
			mean += b->values[(b->next + i) % baseline_n];
		mean /= b->n;
		if (drop_pct > 0 && mean > 0 && value < mean * (1 - drop_pct / 100))
			kind = "sales_drop";
		else if (spike_pct > 0 && mean > 0 &&
		    value > mean * (1 + spike_pct / 100))
			kind = "sales_spike";
	}
	if (kind != NULL) {
		buf_puts(&out, "{\"alert\":\"");
		buf_puts(&out, kind);
		buf_puts(&out, "\",\"window_start\":");
		buf_time(&out, start);
		buf_puts(&out, ",\"window_end\":");
		buf_time(&out, end);
		if (gkey_len > 0) {
			buf_add(&out, ",", 1);
			buf_add(&out, gkey, gkey_len);
		}
		buf_puts(&out, ",\"metric\":");
		buf_json_string(&out, metrics[watch].name,
		    strlen(metrics[watch].name));
		buf_puts(&out, ",\"value\":");
		write_number(&out, value);
		buf_puts(&out, ",\"baseline\":");
		write_number(&out, mean);
		buf_puts(&out, ",\"change_pct\":");
		write_number(&out, mean > 0 ? (value - mean) * 100 / mean : 0);
		buf_puts(&out, "}\n");
		ecs_out_write(out.p, out.len);
		free(out.p);
	}
	b->values[b->next] = value;
	b->next = (b->next + 1) % baseline_n;
	if (b->n < baseline_n)
		b->n++;
}

/*
 * Baselines for the window [start, end): every group known from earlier
 * windows and absent here counts 0 (a dead checkout is the alert that
 * matters most); w is NULL for a window without any event.
 */
static void
baselines_for(const struct window *w, int64_t start, int64_t end)
{
	const struct group *g;
	const char *gkey;
	size_t i, len, nknown = ecs_map_count(baselines);

	if (drop_pct == 0 && spike_pct == 0)
		return;
	for (i = 0; w != NULL && i < ecs_map_count(w->groups); i++) {
		g = ecs_map_at(w->groups, i, &gkey, &len);
		check_baseline(start, end, gkey, len,
		    agg_number(&metrics[watch], &g->aggs[watch]));
	}
	for (i = 0; i < nknown; i++) {
		ecs_map_at(baselines, i, &gkey, &len);
		if (w == NULL || ecs_map_get(w->groups, gkey, len) == NULL)
			check_baseline(start, end, gkey, len, 0);
	}
}

static struct json_object *agg_to_json(const struct metric *,
    const struct agg *);

/*
 * --partial: the window's groups as states to merge, in the form of the
 * state file's lines, tagged with the metrics they hold.
 */
static void
write_partials(const struct window *w)
{
	struct json_object *rec, *aggs;
	const struct group *g;
	const char *gkey;
	size_t i, k, len;

	for (i = 0; i < ecs_map_count(w->groups); i++) {
		g = ecs_map_at(w->groups, i, &gkey, &len);
		rec = json_object_new_object();
		json_object_object_add(rec, "partial", json_object_new_boolean(1));
		json_object_object_add(rec, "metrics",
		    json_object_new_string(metrics_signature));
		json_object_object_add(rec, "w", json_object_new_int64(w->start));
		json_object_object_add(rec, "e", json_object_new_int64(w->end));
		json_object_object_add(rec, "g",
		    json_object_new_string_len(gkey, (int)len));
		aggs = json_object_new_array();
		for (k = 0; k < nmetrics; k++)
			json_object_array_add(aggs, agg_to_json(&metrics[k],
			    &g->aggs[k]));
		json_object_object_add(rec, "a", aggs);
		ecs_out_json(rec);
		ecs_out_putc('\n');
		json_object_put(rec);
	}
}

/*
 * Windows that passed without any event, from closed_upto to the first
 * that starts at or after start or ends after wm, still feed the baselines
 * (and alert: a dead checkout is the drop that matters most), then count
 * as closed. After --baseline + 1 of them every baseline is all zeros,
 * and more would change nothing.
 */
static void
pass_empty_windows(int64_t start, int64_t wm)
{
	int64_t s, e, skip_to;
	uint32_t n;

	if ((drop_pct == 0 && spike_pct == 0) || closed_upto == INT64_MIN)
		return;
	for (s = closed_upto, n = 0; n <= baseline_n && s < start &&
	    (e = window_end(s, window_ms)) <= wm; s = e, n++) {
		baselines_for(NULL, s, e);
		closed_upto = e;
	}
	if (n > baseline_n) {
		skip_to = wm == INT64_MAX ? start : window_floor(wm, window_ms);
		if (skip_to > start)
			skip_to = start;
		if (skip_to > closed_upto)
			closed_upto = skip_to;
	}
}

/* Writes a window's final rows and their alerts. */
static void
finalize(struct window *w)
{
	const struct group *g;
	const char *gkey;
	size_t i, len;

	pass_empty_windows(w->start, INT64_MAX);
	if (partial)
		write_partials(w);
	for (i = 0; !partial && i < ecs_map_count(w->groups); i++) {
		g = ecs_map_at(w->groups, i, &gkey, &len);
		build_row(w, gkey, len, g);
		if (!emit_update)
			write_row(NULL);
		check_rules();
	}
	if (w->start != NO_WINDOW)
		baselines_for(w, w->start, w->end);
	w->written = true;
	if (w->end > closed_upto)
		closed_upto = w->end;
}

/* The rows of a window as they stand, without closing it. */
static void
write_totals(const struct window *w)
{
	const struct group *g;
	const char *gkey;
	size_t i, len;

	if (partial) {
		write_partials(w);
		return;
	}
	for (i = 0; i < ecs_map_count(w->groups); i++) {
		g = ecs_map_at(w->groups, i, &gkey, &len);
		build_row(w, gkey, len, g);
		write_row(NULL);
		check_rules();
	}
}

/* What a group owns, for the map of its window. */
static void
free_group(void *v)
{
	struct group *g = v;
	size_t k;

	for (k = 0; k < nmetrics; k++)
		agg_free(&metrics[k], &g->aggs[k]);
	free(g->aggs);
}

static void
free_window(struct window *w)
{
	ecs_map_destroy(w->groups);
}

/* Finalizes the windows the watermark has passed; drops expired ones. */
static void
close_windows(int64_t wm)
{
	size_t i, gone = 0;

	for (i = 0; i < nwindows && windows[i].end <= wm; i++)
		if (!windows[i].written)
			finalize(&windows[i]);
	/* With --idle the watermark moves with the clock through an outage. */
	if (wm != INT64_MAX && (nwindows == i || windows[i].start > wm))
		pass_empty_windows(INT64_MAX, wm);
	while (gone < nwindows && windows[gone].written &&
	    (corrections_ms < 0 || windows[gone].end + corrections_ms <= wm))
		free_window(&windows[gone++]);
	if (gone > 0) {
		memmove(windows, windows + gone,
		    (nwindows - gone) * sizeof(*windows));
		nwindows -= gone;
	}
}

/* Events */

/* An object or array, compact whichever way the line was read. */
static void
compact_json(struct buf *b, const struct ecs_field *v)
{
	struct json_object *obj = v->j;
	char *text = NULL;

	if (obj == NULL) {
		text = ecs_xstrndup(v->text, v->len);
		obj = json_tokener_parse(text);
	}
	buf_puts(b, json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	if (text != NULL) {
		json_object_put(obj);
		free(text);
	}
}

/* The group fragment ("k":v,...) of the event, in frag. */
static void
group_key(const struct ecs_field *f)
{
	struct buf b = { frag, 0, frag_cap };
	const struct ecs_field *v;
	size_t i;

	for (i = 0; i < nby; i++) {
		v = &f[by_slot[i]];
		if (i > 0)
			buf_add(&b, ",", 1);
		buf_json_string(&b, by[i]->text, strlen(by[i]->text));
		buf_add(&b, ":", 1);
		if (v->type == ECS_F_STRING)
			buf_json_string(&b, v->text, v->len);
		else if (v->type == ECS_F_MISSING)
			buf_puts(&b, "null");
		else if (v->type == ECS_F_OTHER)
			compact_json(&b, v);
		else
			buf_add(&b, v->text, v->len);
	}
	frag = b.p;
	frag_len = b.len;
	frag_cap = b.cap;
}

static struct group *
group_in(struct window *w)
{
	struct group *g;
	bool created;
	size_t i;

	g = ecs_map_put(w->groups, frag, frag_len, &created);
	if (created) {
		g->aggs = ecs_xcalloc(nmetrics, sizeof(*g->aggs));
		for (i = 0; i < nmetrics; i++)
			agg_init(&metrics[i], &g->aggs[i]);
	}
	return g;
}

static void
update(struct window *w, const struct ecs_field *f, const char *flag)
{
	struct group *g = group_in(w);
	size_t i;

	for (i = 0; i < nmetrics; i++)
		agg_add(&metrics[i], &g->aggs[i], f);
	if (emit_update || flag != NULL) {
		build_row(w, frag, frag_len, g);
		write_row(flag);
	}
	ckpt.dirty = true;
}

static void
write_late(const struct ecs_reader *rd)
{
	nlate++;
	nlate_run++;
	if (late_fd == -1)
		return;
	ecs_write_all(late_fd, rd->line, rd->len, late_path);
	ecs_write_all(late_fd, "\n", 1, late_path);
}

/*
 * Metrics hold exact values or none: a line whose value for sum, avg, min
 * or max is no exact decimal (1e999, more than 38 digits or 18 places, a
 * quotient without end), or that would take a sum of an open window of its
 * group past 38 digits, is bad and changes nothing. The values are kept in
 * line_value for agg_add. False after reporting.
 */
static bool
values_fit(struct ecs_reader *rd, const struct ecs_field *f, int64_t t)
{
	int64_t s, step = slide_ms > 0 ? slide_ms : window_ms;
	struct window *w;
	struct group *g;
	struct ecs_dec sum;
	bool any_sum = false;
	size_t i;

	if (line_cap < nmetrics) {	/* the first line */
		line_cap = nmetrics;
		line_value = ecs_xrealloc(line_value,
		    line_cap * sizeof(*line_value));
		line_has = ecs_xrealloc(line_has, line_cap * sizeof(*line_has));
	}
	for (i = 0; i < nmetrics; i++) {
		line_has[i] = is_decimal_metric(&metrics[i]) &&
		    metric_dec(&metrics[i], f, &line_value[i]);
		if (line_has[i] && !line_value[i].exact) {
			ecs_reader_bad(rd, "metric '%s': the value is not an "
			    "exact decimal (at most 38 digits, 18 after the "
			    "point)", metrics[i].name);
			return false;
		}
		if (line_has[i] && metrics[i].fn != FN_MIN &&
		    metrics[i].fn != FN_MAX) {
			any_sum = true;
			sum_bound += fabs(line_value[i].d);
		}
	}
	if (!any_sum || sum_bound < SUM_SAFE)
		return true;
	/* The windows that process() updates, whose sums exist already. */
	s = window_ms == NO_WINDOW ? NO_WINDOW : window_floor(t, step);
	for (;;) {
		if (window_ms != NO_WINDOW && window_end(s, window_ms) <= t)
			break;
		if ((w = find_window(s, false)) != NULL &&
		    (g = ecs_map_get(w->groups, frag, frag_len)) != NULL)
			for (i = 0; i < nmetrics; i++) {
				if (!line_has[i] || metrics[i].fn == FN_MIN ||
				    metrics[i].fn == FN_MAX)
					continue;
				sum = g->aggs[i].v;
				ecs_dec_add(&sum, &line_value[i]);
				if (!sum.exact && g->aggs[i].v.exact) {
					ecs_reader_bad(rd, "metric '%s': the sum "
					    "would overflow (exact to 38 digits)",
					    metrics[i].name);
					return false;
				}
			}
		if (window_ms == NO_WINDOW)
			break;
		s = window_floor(s - 1, step);
	}
	return true;
}

static void
advance(int64_t t)
{
	if (t > event_clock.latest)
		event_clock.latest = t;
	if (event_clock.latest - lateness_ms > watermark)
		watermark = event_clock.latest - lateness_ms;
	close_windows(watermark);
}

static void
process(struct ecs_reader *rd, const struct ecs_field *f)
{
	struct window *w;
	int64_t t, s, e, step = slide_ms > 0 ? slide_ms : window_ms;
	char shown[ECS_SHOWN_SIZE];
	bool late = false, untimed;

	if (where != NULL && !ecs_expr_match_fields(where, f))
		return;
	if (!ecs_event_time(&event_clock, &f[ts_slot], &t, &untimed)) {
		ecs_reader_bad(rd, "field '%s' is not a time%s",
		    fields.path[ts_slot]->text,
		    ecs_field_shown(&f[ts_slot], shown));
		return;
	}
	group_key(f);
	if (!values_fit(rd, f, t))
		return;
	if (window_ms == NO_WINDOW) {
		update(find_window(NO_WINDOW, true), f, NULL);
		return;
	}
	/* Every window that holds t, the latest first. */
	for (s = window_floor(t, step); (e = window_end(s, window_ms)) > t;
	    s = window_floor(s - 1, step)) {
		if (e > closed_upto)
			update(find_window(s, true), f, NULL);
		else if ((w = find_window(s, false)) != NULL && w->written) {
			update(w, f, "correction");
			ncorrections++;
		} else
			late = true;
	}
	if (late)
		write_late(rd);
	if (!untimed)		/* it holds no news of the event time */
		advance(t);
}

/*
 * --idle: input is quiet, so event time is taken to pass with the clock;
 * arg is the checkpoint, due now and then while quiet too.
 */
static void
on_idle(void *arg, int ms)
{
	if (event_clock.latest != INT64_MIN)
		advance(event_clock.latest + ms);
	else if (event_clock.nclock > 0)	/* no times yet: the clock's */
		advance(ecs_time_now());
	ecs_checkpoint_maybe(arg);
}

/* State */

/*
 * What the shape of the state depends on: windows, zone, keys, metrics and
 * baselines. A state saved with others is refused; other options (files,
 * --where, --lateness) may change between runs.
 */
static char *
options_signature(void)
{
	struct buf b = { 0 };
	char num[96];
	size_t i;

	snprintf(num, sizeof(num), "window=%lld slide=%lld baseline=%u tz=",
	    (long long)window_ms, (long long)slide_ms, baseline_n);
	buf_puts(&b, num);
	buf_puts(&b, tz != NULL ? tz : "UTC");
	for (i = 0; i < nby; i++) {
		buf_puts(&b, i == 0 ? " by=" : ",");
		buf_puts(&b, by[i]->text);
	}
	for (i = 0; i < nmetrics && !default_metrics; i++) {
		buf_puts(&b, " -m ");
		buf_puts(&b, metrics[i].spec);
	}
	return b.p;
}

static char	*signature;

static struct json_object *
agg_to_json(const struct metric *m, const struct agg *a)
{
	struct json_object *o = json_object_new_object(), *l;
	char num[96];
	size_t i;

	json_object_object_add(o, "n", json_object_new_int64((int64_t)a->n));
	if (a->v.exact) {
		ecs_dec_format(&a->v, num, sizeof(num));
		json_object_object_add(o, "v", json_object_new_string(num));
	} else
		json_object_object_add(o, "d", json_object_new_double(a->v.d));
	switch (m->fn) {
	case FN_DISTINCT:
		json_object_object_add(o, "s", ecs_distinct_to_json(a->sketch));
		break;
	case FN_QUANTILE:
		json_object_object_add(o, "s", ecs_quantile_to_json(a->sketch));
		l = json_object_new_array();
		for (i = 0; i < a->n && i < EXACT_BUDGET; i++) {
			ecs_dec_format(&a->values[i], num, sizeof(num));
			json_object_array_add(l, json_object_new_string(num));
		}
		json_object_object_add(o, "q", l);
		break;
	case FN_TOP:
		json_object_object_add(o, "s", ecs_topk_to_json(a->sketch));
		break;
	case FN_LIST:
		l = json_object_new_array();
		for (i = 0; i < a->nlist; i++)
			json_object_array_add(l, json_object_new_string(a->list[i]));
		json_object_object_add(o, "l", l);
		break;
	default:
		break;
	}
	return o;
}

/*
 * Reads a metric's state written by agg_to_json into a (owned by it
 * after); NULL on success, else what is wrong (static text), and a holds
 * nothing to free but what agg_free frees.
 */
static const char *
agg_from_json(const struct metric *m, struct json_object *o, struct agg *a)
{
	struct json_object *v, *s = NULL, *l;
	const char *why = "missing";
	size_t i;

	memset(a, 0, sizeof(*a));
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "n", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0)
		return "bad aggregate";
	a->n = (uint64_t)json_object_get_int64(v);
	if (json_object_object_get_ex(o, "v", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    !ecs_dec_parse(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v), &a->v))
			return "bad aggregate value";
	} else if (json_object_object_get_ex(o, "d", &v) &&
	    json_object_is_type(v, json_type_double))
		ecs_dec_from_double(&a->v, json_object_get_double(v));
	else
		return "bad aggregate value";
	json_object_object_get_ex(o, "s", &s);
	switch (m->fn) {
	case FN_DISTINCT:
		a->sketch = ecs_distinct_from_json(s, EXACT_BUDGET, &why);
		break;
	case FN_QUANTILE:
		a->sketch = ecs_quantile_from_json(s, &why);
		if (!json_object_object_get_ex(o, "q", &l) ||
		    !json_object_is_type(l, json_type_array) ||
		    json_object_array_length(l) != (a->n < EXACT_BUDGET ?
		    a->n : EXACT_BUDGET))
			return "bad quantile values";
		a->values_cap = json_object_array_length(l);
		a->values = ecs_xcalloc(a->values_cap + 1, sizeof(*a->values));
		for (i = 0; i < a->values_cap; i++) {
			/* Decimal texts; an older ecs-sales saved numbers. */
			v = json_object_array_get_idx(l, i);
			if (!(json_object_is_type(v, json_type_string) ||
			    json_object_is_type(v, json_type_double) ||
			    json_object_is_type(v, json_type_int)) ||
			    !ecs_dec_parse(json_object_get_string(v),
			    strlen(json_object_get_string(v)), &a->values[i]))
				return "bad quantile values";
		}
		break;
	case FN_TOP:
		a->sketch = ecs_topk_from_json(s, &why);
		break;
	case FN_LIST:
		if (!json_object_object_get_ex(o, "l", &l) ||
		    !json_object_is_type(l, json_type_array))
			return "bad list";
		for (i = 0; i < json_object_array_length(l) && i < m->k; i++) {
			v = json_object_array_get_idx(l, i);
			if (!json_object_is_type(v, json_type_string))
				return "bad list";
			a->list = ecs_xrealloc(a->list,
			    (a->nlist + 1) * sizeof(*a->list));
			a->list[a->nlist++] = ecs_xstrdup(json_object_get_string(v));
		}
		return NULL;
	default:
		return NULL;
	}
	return a->sketch == NULL ? why : NULL;
}

/*
 * Adds the metric state from into into (--merge): exact for counts, sums,
 * minima and maxima; the sketches merge within their stated error, and
 * stay exact while the union fits the budget. NULL, or why they cannot
 * merge (static text).
 */
static const char *
agg_merge(const struct metric *m, struct agg *into, const struct agg *from)
{
	size_t i;

	switch (m->fn) {
	case FN_MIN:
	case FN_MAX:
		if (from->n > 0 && (into->n == 0 || ecs_dec_cmp(&from->v,
		    &into->v) == (m->fn == FN_MIN ? -1 : 1)))
			into->v = from->v;
		break;
	case FN_DISTINCT:
		ecs_distinct_merge(into->sketch, from->sketch);
		break;
	case FN_QUANTILE:
		if (!ecs_quantile_merge(into->sketch, from->sketch))
			return "a quantile sketch of another accuracy";
		/* Exact while both are and the union fits the budget. */
		for (i = 0; i < from->n && i < EXACT_BUDGET; i++)
			quantile_keep(into, into->n + i, &from->values[i]);
		break;
	case FN_TOP:
		if (!ecs_topk_merge(into->sketch, from->sketch))
			return "a top summary of other counters (an older "
			    "ecs-sales)";
		break;
	case FN_LIST:
		for (i = 0; i < from->nlist && into->nlist < m->k; i++) {
			into->list = ecs_xrealloc(into->list,
			    (into->nlist + 1) * sizeof(*into->list));
			into->list[into->nlist++] = ecs_xstrdup(from->list[i]);
		}
		break;
	case FN_SUM:
	case FN_AVG:
		ecs_dec_add(&into->v, &from->v);
		break;
	default:
		break;
	}
	into->n += from->n;
	return NULL;
}

/* Why merging from into into would lose an exact sum, or NULL. */
static const char *
merge_overflows(const struct metric *m, const struct agg *into,
    const struct agg *from)
{
	struct ecs_dec sum = into->v;

	if (m->fn != FN_SUM && m->fn != FN_AVG)
		return NULL;
	ecs_dec_add(&sum, &from->v);
	return !sum.exact && into->v.exact && from->v.exact ?
	    "the merged sum would overflow (exact to 38 digits)" : NULL;
}

static void
save_state(void)
{
	struct json_object *head = json_object_new_object(), *rec, *aggs, *vals;
	const struct group *g;
	const struct baseline *b;
	const char *gkey;
	size_t i, k, len;
	uint32_t j;

	json_object_object_add(head, "options", json_object_new_string(signature));
	json_object_object_add(head, "max_time",
	    json_object_new_int64(event_clock.latest));
	json_object_object_add(head, "watermark", json_object_new_int64(watermark));
	json_object_object_add(head, "closed_upto",
	    json_object_new_int64(closed_upto));
	json_object_object_add(head, "late", json_object_new_int64((int64_t)nlate));
	if (!ecs_checkpoint_begin(&ckpt, head))
		return;
	for (i = 0; i < nwindows; i++)
		for (k = 0; k < ecs_map_count(windows[i].groups); k++) {
			g = ecs_map_at(windows[i].groups, k, &gkey, &len);
			rec = json_object_new_object();
			json_object_object_add(rec, "w",
			    json_object_new_int64(windows[i].start));
			json_object_object_add(rec, "written",
			    json_object_new_boolean(windows[i].written));
			json_object_object_add(rec, "g",
			    json_object_new_string_len(gkey, (int)len));
			aggs = json_object_new_array();
			for (j = 0; j < nmetrics; j++)
				json_object_array_add(aggs,
				    agg_to_json(&metrics[j], &g->aggs[j]));
			json_object_object_add(rec, "a", aggs);
			ecs_checkpoint_put(&ckpt, rec);
			json_object_put(rec);
		}
	for (i = 0; baselines != NULL && i < ecs_map_count(baselines); i++) {
		b = ecs_map_at(baselines, i, &gkey, &len);
		rec = json_object_new_object();
		json_object_object_add(rec, "b",
		    json_object_new_string_len(gkey, (int)len));
		vals = json_object_new_array();
		for (j = 0; j < b->n; j++)	/* oldest first */
			json_object_array_add(vals, json_object_new_double(
			    b->values[(b->next + baseline_n - b->n + j) %
			    baseline_n]));
		json_object_object_add(rec, "v", vals);
		ecs_checkpoint_put(&ckpt, rec);
		json_object_put(rec);
	}
	ecs_checkpoint_commit(&ckpt);
}

static void
load_record(const struct ecs_state_reader *sr, struct json_object *rec)
{
	const char *why;
	struct json_object *v, *aggs;
	struct window *w;
	struct group *g;
	struct baseline *b;
	bool created;
	size_t i, n;

	if (json_object_object_get_ex(rec, "b", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    !json_object_object_get_ex(rec, "v", &aggs) ||
		    !json_object_is_type(aggs, json_type_array) ||
		    (n = json_object_array_length(aggs)) > baseline_n)
			ecs_state_corrupt(sr, "bad baseline");
		b = ecs_map_put(baselines, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v), &created);
		if (created)
			b->values = ecs_xcalloc(baseline_n, sizeof(*b->values));
		for (i = 0; i < n; i++)
			b->values[i] = json_object_get_double(
			    json_object_array_get_idx(aggs, i));
		b->n = (uint32_t)n;
		b->next = (uint32_t)(n % baseline_n);
		return;
	}
	if (!json_object_object_get_ex(rec, "w", &v) ||
	    !json_object_is_type(v, json_type_int))
		ecs_state_corrupt(sr, "bad window");
	w = find_window(json_object_get_int64(v), true);
	if (json_object_object_get_ex(rec, "written", &v))
		w->written = json_object_get_boolean(v);
	if (!json_object_object_get_ex(rec, "g", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !json_object_object_get_ex(rec, "a", &aggs) ||
	    !json_object_is_type(aggs, json_type_array) ||
	    json_object_array_length(aggs) != nmetrics)
		ecs_state_corrupt(sr, "bad group");
	g = ecs_map_put(w->groups, json_object_get_string(v),
	    (size_t)json_object_get_string_len(v), &created);
	if (!created)
		ecs_state_corrupt(sr, "a group twice");
	g->aggs = ecs_xcalloc(nmetrics, sizeof(*g->aggs));
	for (i = 0; i < nmetrics; i++)
		if ((why = agg_from_json(&metrics[i],
		    json_object_array_get_idx(aggs, i), &g->aggs[i])) != NULL)
			ecs_state_corrupt(sr, "%s", why);
}

static void
load_state(void)
{
	struct ecs_state_reader sr;
	struct json_object *head, *rec, *v;

	if (!ecs_checkpoint_open(&ckpt, &sr, &head))
		return;
	sum_bound = INFINITY;		/* sums of unknown size: check them */
	if (!json_object_object_get_ex(head, "options", &v) ||
	    strcmp(json_object_get_string(v), signature) != 0)
		ecs_state_corrupt(&sr, "saved by a run with other options "
		    "(windows, keys and metrics must stay the same)");
	event_clock.latest = ecs_state_int(&sr, head, "max_time");
	watermark = ecs_state_int(&sr, head, "watermark");
	closed_upto = ecs_state_int(&sr, head, "closed_upto");
	nlate = (unsigned long long)ecs_state_int(&sr, head, "late");
	/*
	 * An older ecs-sales chose the default metrics from the first event
	 * and saved its choice: 0 to 2 was count and sales, as now.
	 */
	if (default_metrics && json_object_object_get_ex(head, "default", &v) &&
	    (json_object_get_int(v) < 0 || json_object_get_int(v) > 2))
		ecs_state_corrupt(&sr, "saved by an older ecs-sales with "
		    "count as its only default metric");
	json_object_put(head);
	while ((rec = ecs_state_next(&sr)) != NULL) {
		load_record(&sr, rec);
		json_object_put(rec);
	}
	ecs_state_close(&sr);
}

/*
 * --merge: a partial of other metrics (theirs, or NULL) in the line rec.
 * Every line would be refused: one error, and stop.
 */
static _Noreturn void
other_metrics(const struct ecs_reader *rd, struct json_object *rec,
    struct json_object *theirs)
{
	char *text = ecs_xstrdup(theirs != NULL && json_object_is_type(theirs,
	    json_type_string) ? json_object_get_string(theirs) : "?");

	json_object_put(rec);
	warnx("%s:%llu: partials of other metrics: '%s', not '%s' (-m must be "
	    "the same as for --partial)", rd->name, rd->lineno, text,
	    metrics_signature);
	free(text);
	exit(ECS_EXIT_USAGE);
}

/* --merge: adds one --partial line to the window and group it names. */
static void
merge_line(struct ecs_reader *rd)
{
	struct json_object *rec, *v, *w = NULL, *e = NULL, *g = NULL, *aggs = NULL;
	struct window *win;
	struct group *grp;
	struct agg add;
	const char *why = NULL;
	bool created;
	size_t i;

	sum_bound = INFINITY;		/* sums of unknown size: check them */
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
	    strcmp(json_object_get_string(v), metrics_signature) != 0 ||
	    json_object_array_length(aggs) != nmetrics)
		other_metrics(rd, rec, v);
	if (why != NULL) {
		ecs_reader_bad(rd, "%s", why);
		json_object_put(rec);
		return;
	}
	win = find_window(json_object_get_int64(w), true);
	win->end = json_object_get_int64(e);
	grp = ecs_map_put(win->groups, json_object_get_string(g),
	    (size_t)json_object_get_string_len(g), &created);
	if (created) {
		grp->aggs = ecs_xcalloc(nmetrics, sizeof(*grp->aggs));
		for (i = 0; i < nmetrics; i++)
			agg_init(&metrics[i], &grp->aggs[i]);
	}
	for (i = 0; i < nmetrics; i++) {
		if ((why = agg_from_json(&metrics[i],
		    json_object_array_get_idx(aggs, i), &add)) == NULL &&
		    (why = merge_overflows(&metrics[i], &grp->aggs[i],
		    &add)) == NULL)
			why = agg_merge(&metrics[i], &grp->aggs[i], &add);
		agg_free(&metrics[i], &add);
		if (why != NULL) {
			/* What was merged of the line stays: report it. */
			ecs_reader_bad(rd, "metric '%s': %s", metrics[i].name,
			    why);
			break;
		}
	}
	json_object_put(rec);
}

/* Setup and the main loop */

static struct ecs_expr *
compile_default(const char *src)
{
	char msg[256];
	struct ecs_expr *e = ecs_expr_compile(src, msg, sizeof(msg));

	if (e == NULL)
		errx(ECS_EXIT_DATA, "default metric '%s': %s", src, msg);
	return e;
}

/*
 * No -m: count, and sales, the money of each event: price * quantity, or
 * its sales, or its amount, whichever it has first. The same two metrics
 * whatever the events, so that --alert and --watch can be checked now.
 */
static void
add_default_metrics(void)
{
	metrics = ecs_xcalloc(2, sizeof(*metrics));
	metrics[nmetrics++] = (struct metric){ .name = ecs_xstrdup("count"),
	    .fn = FN_COUNT };
	metrics[nmetrics++] = (struct metric){ .name = ecs_xstrdup("sales"),
	    .fn = FN_SUM, .arg = compile_default("price * quantity"),
	    .alt = { compile_default("sales"), compile_default("amount") } };
}

/* Keys of rows besides the metrics and group keys, now or later. */
static const char *const reserved_names[] = { "window_start", "window_end",
    "approximate", "alert", "rule", "correction" };

/*
 * The names of a row are unique: the group keys, the metrics and the
 * reserved keys. A clash would write an object with a key twice.
 */
static void
check_names(void)
{
	const char *name, *what;
	size_t i, j, n = nby + nmetrics;

	for (i = 0; i < n; i++) {
		name = i < nby ? by[i]->text : metrics[i - nby].name;
		what = i < nby ? "--by key" : "--metric";
		for (j = 0; j < sizeof(reserved_names) / sizeof(*reserved_names);
		    j++)
			if (strcmp(name, reserved_names[j]) == 0)
				errx(ECS_EXIT_USAGE, "%s '%s': the name is taken "
				    "by ecs-sales' rows", what, name);
		for (j = 0; j < i; j++)
			if (strcmp(name, j < nby ? by[j]->text :
			    metrics[j - nby].name) == 0)
				errx(ECS_EXIT_USAGE, "%s '%s': the name is "
				    "already a %s of the row", what, name,
				    j < nby ? "group key" : "metric");
	}
}

/* Whether name[0..len) is a key of every row. */
static bool
row_has(const char *name, size_t len)
{
	size_t i;

	if (window_ms != NO_WINDOW && ((len == 12 && memcmp(name,
	    "window_start", 12) == 0) || (len == 10 && memcmp(name,
	    "window_end", 10) == 0)))
		return true;
	for (i = 0; i < nby; i++)
		if (strlen(by[i]->text) == len &&
		    memcmp(by[i]->text, name, len) == 0)
			return true;
	for (i = 0; i < nmetrics; i++)
		if (strlen(metrics[i].name) == len &&
		    memcmp(metrics[i].name, name, len) == 0)
			return true;
	return false;
}

/* The keys of the rows, for messages: "window_start, ..., count, sales". */
static const char *
row_names(void)
{
	static struct buf names;
	size_t i;

	names.len = 0;
	buf_puts(&names, window_ms != NO_WINDOW ? "window_start, window_end" :
	    "");
	for (i = 0; i < nby + nmetrics; i++) {
		if (names.len > 0)
			buf_puts(&names, ", ");
		buf_puts(&names, i < nby ? by[i]->text : metrics[i - nby].name);
	}
	return names.p;
}

/*
 * --alert: every field the rule reads must be a key of the row (or the
 * row's "approximate"), else the rule could never see it.
 */
static void
check_rule(struct alert_rule *r)
{
	struct ecs_fieldset names;
	const struct ecs_path *p;
	size_t i;

	ecs_fields_init(&names, NULL, 0);
	ecs_expr_bind(r->expr, &names);
	for (i = 0; i < names.n; i++) {
		p = names.path[i];
		if (row_has(p->text, strlen(p->text)) || (p->nseg > 0 &&
		    (row_has(p->seg[0].key, p->seg[0].len) ||
		    (p->seg[0].len == 11 &&
		    memcmp(p->seg[0].key, "approximate", 11) == 0))))
			continue;
		errx(ECS_EXIT_USAGE, "--alert '%s': '%s' is not a metric or "
		    "key of the rows (they have %s)", r->text, p->text,
		    row_names());
	}
	ecs_fields_finish(&names);
}

static void
free_baseline(void *v)
{
	free(((struct baseline *)v)->values);
}

static void
setup(void)
{
	size_t i;

	ecs_fields_init(&fields, (const char *const[]){ "ts" }, 1);
	ts_slot = 0;
	by_slot = ecs_xcalloc(nby + 1, sizeof(*by_slot));
	for (i = 0; i < nby; i++) {
		ecs_path_apply_map(by[i]);
		by_slot[i] = ecs_fields_add(&fields, by[i]);
	}
	if (where != NULL)
		ecs_expr_bind(where, &fields);
	if (default_metrics)
		add_default_metrics();
	for (i = 0; i < nmetrics; i++) {
		if (metrics[i].arg != NULL)
			ecs_expr_bind(metrics[i].arg, &fields);
		if (metrics[i].alt[0] != NULL)
			ecs_expr_bind(metrics[i].alt[0], &fields);
		if (metrics[i].alt[1] != NULL)
			ecs_expr_bind(metrics[i].alt[1], &fields);
	}
	check_names();
	for (i = 0; watch_name != NULL && i < nmetrics; i++)
		if (strcmp(metrics[i].name, watch_name) == 0)
			break;
	if (watch_name != NULL && i == nmetrics)
		errx(ECS_EXIT_USAGE, "--watch '%s': no such metric", watch_name);
	watch = watch_name != NULL ? i : 0;
	for (i = 0; i < nrules; i++)
		check_rule(&rules[i]);
	baselines = ecs_map_create(sizeof(struct baseline), free_baseline);
	signature = options_signature();
	metrics_signature = ecs_xstrdup("");
	for (i = 0; i < nmetrics && !default_metrics; i++) {
		struct buf b = { metrics_signature, strlen(metrics_signature), 0 };
		b.cap = b.len + 1;
		buf_puts(&b, i > 0 ? " -m " : "-m ");
		buf_puts(&b, metrics[i].spec);
		metrics_signature = b.p;
	}
	if (late_path != NULL && (late_fd = open(late_path,
	    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666)) == -1)
		err(ECS_EXIT_DATA, "%s", late_path);
}

static void
free_all(void)
{
	size_t i;

	for (i = 0; i < nwindows; i++)
		free_window(&windows[i]);
	free(windows);
	for (i = 0; i < nmetrics; i++) {
		free(metrics[i].spec);
		free(metrics[i].name);
		ecs_expr_free(metrics[i].arg);
		ecs_expr_free(metrics[i].alt[0]);
		ecs_expr_free(metrics[i].alt[1]);
	}
	free(metrics);
	free(line_value);
	free(line_has);
	ecs_map_destroy(baselines);
	for (i = 0; i < nby; i++)
		ecs_path_free(by[i]);
	free(by);
	free(by_slot);
	for (i = 0; i < nrules; i++)
		ecs_expr_free(rules[i].expr);
	free(rules);
	ecs_expr_free(where);
	ecs_fields_finish(&fields);
	free(frag);
	free(key.p);
	free(row.p);
	free(signature);
	free(metrics_signature);
}

int
main(int argc, char *argv[])
{
	struct ecs_field *f;
	struct ecs_reader rd;
	int first, status;

	parse_options(argc, argv, &first);
	setup();
	if (ckpt.path != NULL)
		load_state();
	ecs_signals_init();

	f = ecs_xcalloc(fields.n, sizeof(*f));
	ecs_reader_init(&rd, argv + first, argc - first);
	if (late_fd != -1)
		ecs_reader_check_output(&rd, late_fd, "--late");
	if (idle_ms > 0) {
		rd.idle_ms = (int)idle_ms;
		rd.on_idle = on_idle;
		rd.on_idle_arg = &ckpt;
	}
	ecs_checkpoint_init(&ckpt, &rd);
	while (ecs_reader_line(&rd)) {
		if (merge)
			merge_line(&rd);
		else if (ecs_fields_read(&fields, &rd, f))
			process(&rd, f);
		ecs_checkpoint_tick(&ckpt);
	}
	/*
	 * Without --state the stream is over: write every open window. With
	 * it, they stay open in the state, but a running total (no --window)
	 * is written as it stands.
	 */
	if (ckpt.path == NULL)
		close_windows(INT64_MAX);
	else if (window_ms == NO_WINDOW && nwindows > 0)
		write_totals(&windows[0]);
	if (nlate_run > 0 && !ecs_config.quiet)
		warnx("%llu late event%s (after their window was written)%s%s",
		    nlate_run, nlate_run == 1 ? "" : "s", late_fd != -1 ? ", in " : "",
		    late_fd != -1 ? late_path : "");
	ecs_event_clock_summary(&event_clock);
	status = ecs_checkpoint_finish(&ckpt, &rd);
	status |= ecs_out_close();
	if (late_fd != -1 && close(late_fd) == -1)
		status = ECS_EXIT_DATA;
	free(f);
	free_all();
	return status;
}
