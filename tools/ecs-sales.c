/* SPDX-License-Identifier: ISC */
/*
 * ecs-sales -- business metrics over event-time windows: tumbling or
 * hopping windows (UTC, or the calendar of --tz), group keys, metrics with
 * exact money sums and bounded sketches (ecs_agg), a watermark with
 * allowed lateness and late-event accounting, final or update emission,
 * alert rules and drop/spike detection against the group's recent
 * windows, and state that survives restarts.
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
#include "ecs_agg.h"
#include "ecs_baseline.h"
#include "ecs_buf.h"
#include "ecs_expr.h"
#include "ecs_keys.h"
#include "ecs_rows.h"
#include "ecs_rules.h"
#include "ecs_window.h"

#define STATE_VERSION	1
#define NO_WINDOW	ECS_NO_WINDOW	/* one running total: no --window */
/*
 * While the sum of the magnitudes of all values summed is below this, no
 * sum (at most 18 places) can reach the 10^37 that would near overflow.
 */
#define SUM_SAFE	1e19
#define DAY_MS		86400000LL

enum {
	OPT_ALERT = ECS_OPT_TOOL,
	OPT_BAND,
	OPT_BASELINE,
	OPT_CHECKPOINT,
	OPT_CORRECTIONS,
	OPT_DESC,
	OPT_DROP,
	OPT_EMIT,
	OPT_HAVING,
	OPT_IDLE,
	OPT_LATE,
	OPT_LATENESS,
	OPT_MERGE,
	OPT_ORDER_BY,
	OPT_PARTIAL,
	OPT_PERSIST,
	OPT_SEASON,
	OPT_SLIDE,
	OPT_SPIKE,
	OPT_STATE,
	OPT_TOP,
	OPT_TZ,
	OPT_WATCH,
	OPT_WHERE,
};

/* The options, as parsed; then only read. */
static struct {
	struct ecs_metric *metrics;		/* -m */
	size_t		 nmetrics;
	bool		 default_metrics;	/* no -m: count and sales */
	struct ecs_derived *derived;		/* -m NAME=EXPR */
	size_t		 nderived;
	struct ecs_key	*by;			/* -b */
	size_t		 nby;
	struct ecs_expr	*where;			/* --where */
	const char	*having_text;		/* --having */
	struct ecs_expr	*having;
	const char	*order_by;		/* --order-by */
	int64_t		 window_ms;		/* -w, or NO_WINDOW */
	int		 window_months;		/* -w Nmo, Ny: calendar months */
	int64_t		 slide_ms;		/* --slide; 0: tumbling */
	int64_t		 lateness_ms;		/* --lateness */
	int64_t		 corrections_ms;	/* --corrections; -1: none */
	int64_t		 idle_ms;		/* --idle */
	bool		 emit_update;		/* --emit update */
	const char	*late_path;		/* --late */
	struct ecs_rule *rules;		/* --alert */
	size_t		 nrules;
	double		 drop_pct, spike_pct;	/* --drop, --spike */
	uint32_t	 baseline_n;		/* --baseline */
	int64_t		 season_ms;		/* --season; 0: the mean */
	double		 band_k;		/* --band */
	uint32_t	 persist;		/* --persist */
	const char	*watch_name;		/* --watch */
	bool		 partial;		/* --partial */
	bool		 merge;			/* --merge */
} opt = {
	.default_metrics = true, .window_ms = NO_WINDOW, .corrections_ms = -1,
	.baseline_n = 6, .band_k = 3, .persist = 1,
};

static void		 save_state(void);
static struct ecs_checkpoint ckpt = {		/* --state, --checkpoint */
	.program = "ecs-sales", .version = STATE_VERSION,
	.interval_ms = 30000, .save = save_state,
};

/* The state of the run. */
static struct {
	struct ecs_fieldset fields;		/* what the events are read for */
	size_t		 ts_slot;
	size_t		*by_slot;
	struct ecs_buf	*by_name;		/* each --by key's "name": */
	struct ecs_windows ws;			/* -w, --tz: open (and kept) */
	/* The largest event time (max_time), and the events without one. */
	struct ecs_event_clock clock;
	int64_t		 watermark;
	int64_t		 closed_upto;		/* windows ending here are out */
	unsigned long long nlate, nlate_run, ncorrections;
	unsigned long long nkept;		/* events counted, not late */
	int		 late_fd;
	struct ecs_baselines baselines;		/* --drop, --spike */
	size_t		 watch;			/* index of the watched metric */
	struct ecs_buf	 frag;			/* the current group fragment */
	struct ecs_agg_value *values;		/* the current line's, a metric */
	/*
	 * At least the sum of the magnitudes of all values summed, and
	 * infinite once sums came from a state or partials (see SUM_SAFE).
	 */
	double		 sum_bound;
	/*
	 * The row being written; its keys for the rules: window_start and
	 * window_end (with -w), the totals, the group keys, the metrics,
	 * approximate.
	 */
	struct ecs_row	 row;
	size_t		 having;		/* the rule of --having */
	struct ecs_totals totals;		/* total(NAME) of -m */
	size_t		 key0;			/* the first group key */
	struct ecs_top	 top;			/* --top, --desc */
	size_t		 order_key;		/* --order-by's in rules */
	char		*signature;		/* what the state depends on */
	char		*metrics_signature;	/* the -m specs, for partials */
} run = {
	.clock = ECS_EVENT_CLOCK_INIT, .watermark = INT64_MIN,
	.closed_upto = INT64_MIN, .late_fd = -1,
};

static const struct option longopts[] = {
	ECS_COMMON_LONGOPTS,
	{ "alert",	required_argument,	NULL, OPT_ALERT },
	{ "band",	required_argument,	NULL, OPT_BAND },
	{ "baseline",	required_argument,	NULL, OPT_BASELINE },
	{ "by",		required_argument,	NULL, 'b' },
	{ "checkpoint",	required_argument,	NULL, OPT_CHECKPOINT },
	{ "corrections", required_argument,	NULL, OPT_CORRECTIONS },
	{ "desc",	no_argument,		NULL, OPT_DESC },
	{ "drop",	required_argument,	NULL, OPT_DROP },
	{ "emit",	required_argument,	NULL, OPT_EMIT },
	{ "having",	required_argument,	NULL, OPT_HAVING },
	{ "idle",	required_argument,	NULL, OPT_IDLE },
	{ "late",	required_argument,	NULL, OPT_LATE },
	{ "lateness",	required_argument,	NULL, OPT_LATENESS },
	{ "merge",	no_argument,		NULL, OPT_MERGE },
	{ "order-by",	required_argument,	NULL, OPT_ORDER_BY },
	{ "partial",	no_argument,		NULL, OPT_PARTIAL },
	{ "persist",	required_argument,	NULL, OPT_PERSIST },
	{ "season",	required_argument,	NULL, OPT_SEASON },
	{ "metric",	required_argument,	NULL, 'm' },
	{ "slide",	required_argument,	NULL, OPT_SLIDE },
	{ "spike",	required_argument,	NULL, OPT_SPIKE },
	{ "state",	required_argument,	NULL, OPT_STATE },
	{ "top",	required_argument,	NULL, OPT_TOP },
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
"                 [-m name=expr]... [-o format] [-w duration]\n"
"                 [--slide duration] [--lateness duration] [--late file]\n"
"                 [--emit final|update] [--tz zone] [--where expr]\n"
"                 [--having expr] [--top n --order-by name [--desc]]\n"
"                 [--corrections duration] [--idle duration]\n"
"                 [--alert expr]... [--drop pct] [--spike pct]\n"
"                 [--season 1d|1w [--band k]] [--baseline n]\n"
"                 [--persist k] [--watch name] [--state file]\n"
"                 [--checkpoint duration] [--partial | --merge] [file ...]\n");
	if (status != 0)
		exit(status);
	fprintf(fp,
"Business metrics over event-time windows (see ecs-sales(1)).\n"
"  -w, --window DURATION    tumbling windows: 30s, 5m, 1h, 1d, 1w (ISO weeks\n"
"                           from Monday), 1mo, 3mo, 1y (calendar months and\n"
"                           years); default: one running total, at the end\n"
"      --slide DURATION     hopping windows that start this often\n"
"  -b, --by A,NAME=EXPR     group keys: field paths, or expressions named\n"
"                           NAME such as 'month=trunc(ts,\"month\")'\n"
"  -m, --metric NAME=FUNC(EXPR)  count() sum avg min max distinct\n"
"                           quantile(EXPR,Q) top(EXPR,K) list(EXPR[,N]);\n"
"                           exact up to 10000 values, else the row says\n"
"                           \"approximate\" with the bound; default count\n"
"                           and sales: each event's price*quantity, or\n"
"                           else its sales, or else its amount\n"
"  -m, --metric NAME=EXPR   a derived metric, over the row's metrics:\n"
"                           aov=sales/orders (exact, else 6 places)\n"
"                           or share=sales/total(sales) of the window\n"
"      --where EXPR         only the events for which EXPR holds\n"
"      --having EXPR        only the rows for which EXPR holds\n"
"      --top N              only the N first rows of each window in the\n"
"      --order-by NAME      order of metric NAME (ties: by group key)\n"
"      --desc               highest first\n"
"      --lateness DURATION  the watermark trails the latest event time\n"
"      --late FILE          append late events, verbatim, to FILE\n"
"      --corrections DURATION  keep written windows this long; late events\n"
"                           update them with a correction row\n"
"      --emit final|update  rows when windows close, or after every event\n"
"      --tz ZONE            windows in ZONE's calendar, written in its\n"
"                           local time with the offset\n"
"      --idle DURATION      with no input for this long, advance the\n"
"                           watermark by the time that passed\n"
"      --alert EXPR         also write matching rows as alerts (EXPR reads\n"
"                           only keys of the rows)\n"
"      --drop PCT           alert when the watched metric falls PCT percent\n"
"                           below the mean of the group's --baseline windows\n"
"      --spike PCT          alert when it rises PCT percent above that mean\n"
"      --baseline N         the previous windows in the mean (default 6),\n"
"                           or with --season the previous seasons\n"
"      --season 1d|1w       alert when the watched metric leaves the band\n"
"                           around the median of the same hour of the day\n"
"                           or week (in --tz) in the last N seasons\n"
"      --band K             its half-width: K robust deviations (1.4826 MAD,\n"
"                           at least the sqrt of the median) (default 3)\n"
"      --persist K          alert from the K-th window in a row that is\n"
"                           off the same way (default 1)\n"
"      --watch NAME         the watched metric (default the first)\n"
"      --state FILE         load and save open windows and baselines\n"
"      --checkpoint DURATION save the state this often (default 30s)\n"
"      --partial            write windows as partial states to --merge\n"
"      --merge              read partial states, write the merged rows\n");
	ecs_common_usage(fp);
	exit(0);
}

/* Options */

static struct ecs_expr *
compile_expr(const char *what, const char *src)
{
	struct ecs_expr *e;
	char msg[256];

	if ((e = ecs_expr_compile(src, msg, sizeof(msg))) == NULL)
		errx(ECS_EXIT_USAGE, "%s '%s': expression:%s", what, src, msg);
	return e;
}

static void
add_metric(const char *spec)
{
	opt.derived = ecs_xrealloc(opt.derived,
	    (opt.nderived + 1) * sizeof(*opt.derived));
	opt.default_metrics = false;
	if (ecs_derived_parse(&opt.derived[opt.nderived], "--metric", spec)) {
		ecs_totals_add_derived(&run.totals, &opt.derived[opt.nderived++]);
		return;
	}
	opt.metrics = ecs_xrealloc(opt.metrics,
	    (opt.nmetrics + 1) * sizeof(*opt.metrics));
	ecs_metric_parse(&opt.metrics[opt.nmetrics++], "--metric", spec);
	opt.default_metrics = false;
}

static void
parse_option(int ch)
{
	char *end;

	switch (ch) {
	case 'b':
		ecs_keys_parse("--by", optarg, &opt.by, &opt.nby);
		break;
	case 'h':
		usage(0);
	case 'm':
		add_metric(optarg);
		break;
	case 'w':
		opt.window_ms = ecs_window_parse("--window", optarg,
		    &opt.window_months);
		break;
	case OPT_ALERT:
		opt.rules = ecs_xrealloc(opt.rules,
		    (opt.nrules + 1) * sizeof(*opt.rules));
		opt.rules[opt.nrules].text = optarg;
		opt.rules[opt.nrules++].expr = compile_expr("--alert", optarg);
		break;
	case OPT_BAND:
		opt.band_k = strtod(optarg, &end);
		if (end == optarg || *end != '\0' || !(opt.band_k > 0 &&
		    opt.band_k <= 100))
			errx(ECS_EXIT_USAGE, "--band '%s': expected deviations "
			    "above 0, at most 100", optarg);
		break;
	case OPT_BASELINE:
		opt.baseline_n = (uint32_t)strtoul(optarg, &end, 10);
		if (end == optarg || *end != '\0' || opt.baseline_n < 1 ||
		    opt.baseline_n > 1000)
			errx(ECS_EXIT_USAGE, "--baseline '%s': expected 1 to "
			    "1000 windows", optarg);
		break;
	case OPT_CHECKPOINT:
		ecs_checkpoint_option(&ckpt, optarg);
		break;
	case OPT_CORRECTIONS:
		opt.corrections_ms = ecs_opt_duration("--corrections", optarg);
		break;
	case OPT_DESC:
		run.top.desc = true;
		break;
	case OPT_DROP:
		opt.drop_pct = ecs_opt_percent("--drop", optarg);
		break;
	case OPT_EMIT:
		if (strcmp(optarg, "update") != 0 &&
		    strcmp(optarg, "final") != 0)
			errx(ECS_EXIT_USAGE, "--emit '%s': expected final or "
			    "update", optarg);
		opt.emit_update = strcmp(optarg, "update") == 0;
		break;
	case OPT_HAVING:
		opt.having = compile_expr("--having", opt.having_text = optarg);
		break;
	case OPT_IDLE:
		opt.idle_ms = ecs_opt_duration("--idle", optarg);
		break;
	case OPT_LATE:
		opt.late_path = optarg;
		break;
	case OPT_LATENESS:
		opt.lateness_ms = ecs_opt_duration("--lateness", optarg);
		break;
	case OPT_MERGE:
		opt.merge = true;
		break;
	case OPT_ORDER_BY:
		opt.order_by = optarg;
		break;
	case OPT_PARTIAL:
		opt.partial = true;
		break;
	case OPT_PERSIST:
		opt.persist = (uint32_t)ecs_opt_count("--persist", optarg, 1,
		    1000);
		break;
	case OPT_SEASON:
		opt.season_ms = ecs_opt_duration("--season", optarg);
		if (opt.season_ms != DAY_MS && opt.season_ms != 7 * DAY_MS)
			errx(ECS_EXIT_USAGE, "--season '%s': expected 1d or 1w",
			    optarg);
		break;
	case OPT_SLIDE:
		opt.slide_ms = ecs_opt_duration("--slide", optarg);
		break;
	case OPT_SPIKE:
		opt.spike_pct = ecs_opt_percent("--spike", optarg);
		break;
	case OPT_STATE:
		ckpt.path = optarg;
		break;
	case OPT_TOP:
		run.top.n = strtoul(optarg, &end, 10);
		if (end == optarg || *end != '\0' || run.top.n < 1 ||
		    run.top.n > 1000000)
			errx(ECS_EXIT_USAGE, "--top '%s': expected 1 to 1000000 "
			    "rows", optarg);
		break;
	case OPT_TZ:
		ecs_windows_set_zone(&run.ws, "--tz", optarg);
		break;
	case OPT_WATCH:
		opt.watch_name = optarg;
		break;
	case OPT_WHERE:
		opt.where = compile_expr("--where", optarg);
		break;
	default:
		if (!ecs_common_option(ch, optarg))
			usage(ECS_EXIT_USAGE);
	}
}

/* Whether a baseline rule is on: --drop, --spike or --season. */
static bool
watching(void)
{
	return opt.drop_pct > 0 || opt.spike_pct > 0 || opt.season_ms > 0;
}

/* --season, --band and --persist: each can fire, with what it needs. */
static void
check_season_options(bool alerts)
{
	if (opt.season_ms > 0 && (opt.drop_pct > 0 || opt.spike_pct > 0))
		errx(ECS_EXIT_USAGE, "--season alerts both ways on its band: "
		    "not with --drop or --spike (the mean rule)");
	if (opt.season_ms > 0 && (opt.window_ms == NO_WINDOW ||
	    opt.slide_ms > 0))
		errx(ECS_EXIT_USAGE, "--season needs tumbling windows (--window "
		    "without --slide)");
	if (opt.season_ms > 0 && (opt.window_months > 0 ||
	    opt.window_ms >= opt.season_ms || opt.season_ms % opt.window_ms))
		errx(ECS_EXIT_USAGE, "--season: the --window must divide it "
		    "into slots (1h or 1d in 1w, 1h in 1d)");
	if (opt.band_k != 3 && opt.season_ms == 0)
		errx(ECS_EXIT_USAGE, "--band needs --season");
	if (opt.persist > 1 && !alerts)
		errx(ECS_EXIT_USAGE, "--persist needs --drop, --spike or "
		    "--season");
}

/* The options that cannot go together. */
static void
check_options(void)
{
	bool alerts = watching();

	if (opt.slide_ms > 0 && opt.window_ms == NO_WINDOW)
		errx(ECS_EXIT_USAGE, "--slide needs --window");
	if (opt.slide_ms > 0 && opt.window_months > 0)
		errx(ECS_EXIT_USAGE, "--slide: not with windows of months or "
		    "years (they are tumbling)");
	if (opt.slide_ms > opt.window_ms && opt.window_ms != NO_WINDOW)
		errx(ECS_EXIT_USAGE, "--slide must not be longer than --window");
	/* A window that started at noon ended at the next local midnight. */
	if (run.ws.tz != NULL && opt.slide_ms % DAY_MS != 0 &&
	    opt.window_ms % DAY_MS == 0)
		errx(ECS_EXIT_USAGE, "--slide: with --tz, windows of whole days "
		    "go from local midnight to local midnight, so they slide by "
		    "whole days");
	check_season_options(alerts);
	if (alerts && (opt.window_ms == NO_WINDOW || opt.slide_ms > 0))
		errx(ECS_EXIT_USAGE, "--drop and --spike need tumbling windows "
		    "(--window without --slide)");
	if (opt.idle_ms > 0 && opt.window_ms == NO_WINDOW)
		errx(ECS_EXIT_USAGE, "--idle needs --window");
	if (opt.idle_ms > 2000000000)
		errx(ECS_EXIT_USAGE, "--idle: at most about 23 days");
	if ((opt.partial || opt.merge) && opt.default_metrics)
		errx(ECS_EXIT_USAGE, "--partial and --merge need their metrics "
		    "given with -m (the same in every process)");
	if (opt.partial && (opt.merge || opt.emit_update || alerts ||
	    opt.corrections_ms >= 0 || opt.nrules > 0 || opt.having != NULL ||
	    run.top.n > 0))
		errx(ECS_EXIT_USAGE, "--partial writes states to merge: not with "
		    "--merge, --emit update, --corrections, --alert, --drop, "
		    "--spike, --season, --having or --top (give those to the "
		    "--merge)");
	if ((run.top.n > 0) != (opt.order_by != NULL) ||
	    (run.top.desc && run.top.n == 0))
		errx(ECS_EXIT_USAGE, "--top and --order-by go together (and "
		    "--desc with them)");
	if (run.top.n > 0 && (opt.emit_update || opt.corrections_ms >= 0))
		errx(ECS_EXIT_USAGE, "--top chooses among the final rows of a "
		    "window: not with --emit update or --corrections");
	if (run.totals.n > 0 && (opt.emit_update || opt.corrections_ms >= 0 ||
	    opt.partial))
		errx(ECS_EXIT_USAGE, "--metric total(%s): known when the window "
		    "closes, so not with --emit update, --corrections or "
		    "--partial", run.totals.t[0].metric);
	if (opt.merge && (alerts || opt.emit_update || ckpt.path != NULL))
		errx(ECS_EXIT_USAGE, "--merge takes --alert but not --drop, "
		    "--spike, --season, --emit update or --state");
}

static void
parse_options(int argc, char *argv[], int *first_operand)
{
	int ch;

	while ((ch = getopt_long(argc, argv, ECS_COMMON_SHORTOPTS "b:m:w:",
	    longopts, NULL)) != -1)
		parse_option(ch);
	check_options();
	*first_operand = optind;
}

/* Rows and alerts */

/*
 * The row of one group of one window in run.row, and the values of its
 * keys for the rules, derived metrics and --having.
 */
static void
build_row(const struct ecs_window *w, const char *gkey, size_t gkey_len,
    struct ecs_group *g)
{
	struct ecs_row *r = &run.row;
	struct json_object *keys, *v;
	size_t i, at, napprox, metric0 = run.key0 + opt.nby;
	bool found;

	keys = r->rules.n > 0 ? ecs_group_keys(g, gkey, gkey_len) : NULL;
	for (i = 0; keys != NULL && i < opt.nby; i++) {
		/* Two statements: C leaves the order of arguments open. */
		found = json_object_object_get_ex(keys, opt.by[i].path->text,
		    &v);
		ecs_field_from_json(v, found, &r->rules.value[run.key0 + i]);
	}
	ecs_row_begin(r);
	if (w->start != NO_WINDOW) {
		ecs_row_time(r, 0, "window_start", w->start);
		ecs_row_time(r, 1, "window_end", w->end);
	}
	ecs_row_add(r, gkey, gkey_len);
	for (i = 0; i < opt.nmetrics; i++) {
		at = ecs_row_name(r, opt.metrics[i].name);
		ecs_agg_write(&opt.metrics[i], &g->aggs[i], &r->b);
		ecs_row_value(r, metric0 + i, at);
		r->approx[metric0 + i] = !ecs_agg_is_exact(&opt.metrics[i],
		    &g->aggs[i]);
	}
	for (i = 0; i < opt.nderived; i++)
		ecs_row_derived(r, metric0 + opt.nmetrics + i, &opt.derived[i]);
	at = r->b.len + 15;	/* after ,"approximate": */
	for (i = 0, napprox = 0; i < opt.nmetrics + opt.nderived; i++) {
		if (!r->approx[metric0 + i])
			continue;
		ecs_buf_puts(&r->b, napprox++ == 0 ? ",\"approximate\":{" : ",");
		ecs_buf_json_string(&r->b, r->rules.names[metric0 + i],
		    strlen(r->rules.names[metric0 + i]));
		ecs_buf_putc(&r->b, ':');
		if (i < opt.nmetrics)
			ecs_agg_write_bound(&opt.metrics[i], &g->aggs[i], &r->b);
		else
			ecs_row_derived_bound(r, &opt.derived[i - opt.nmetrics]);
	}
	if (napprox > 0)
		ecs_buf_putc(&r->b, '}');
	ecs_row_end(r, napprox > 0 ? at : r->b.len);
}

/* Whether --having keeps the row just built (one it cannot judge: kept). */
static bool
row_kept(void)
{
	return opt.having == NULL ||
	    ecs_rules_holds(&run.row.rules, run.having, true);
}

/*
 * --drop/--spike/--season: judges the group's value in the window
 * [start, end) against its baseline (ecs_baselines_judge).
 */
static void
check_baseline(int64_t start, int64_t end, const char *gkey, size_t gkey_len,
    double value)
{
	struct ecs_buf out = ECS_BUF_INIT;
	const char *name = opt.metrics[run.watch].name;
	struct ecs_judgement j;

	ecs_baselines_judge(&run.baselines, gkey, gkey_len, start, value, &j);
	if (j.kind == NULL)
		return;
	ecs_buf_puts(&out, "{\"alert\":\"sales_");
	ecs_buf_puts(&out, j.kind);
	ecs_buf_puts(&out, "\",\"window_start\":");
	ecs_window_label(&out, start);
	ecs_buf_puts(&out, ",\"window_end\":");
	ecs_window_label(&out, end);
	if (gkey_len > 0) {
		ecs_buf_putc(&out, ',');
		ecs_buf_add(&out, gkey, gkey_len);
	}
	ecs_buf_puts(&out, ",\"metric\":");
	ecs_buf_json_string(&out, name, strlen(name));
	ecs_buf_puts(&out, ",\"value\":");
	ecs_buf_double(&out, value, 2);
	ecs_judgement_write(&run.baselines, &j, value, &out);
	ecs_buf_puts(&out, "}\n");
	ecs_buf_out(&out);
	ecs_buf_free(&out);
}

/*
 * Baselines for the window [start, end): every group known from earlier
 * windows and absent here counts 0 (a dead checkout is the alert that
 * matters most); w is NULL for a window without any event.
 */
static void
baselines_for(const struct ecs_window *w, int64_t start, int64_t end)
{
	struct ecs_group *g;
	const char *gkey;
	size_t i, len, nknown = ecs_baselines_count(&run.baselines);

	if (!watching())
		return;
	for (i = 0; w != NULL && i < ecs_map_count(w->groups); i++) {
		g = ecs_map_at(w->groups, i, &gkey, &len);
		check_baseline(start, end, gkey, len, ecs_agg_number(
		    &opt.metrics[run.watch], &g->aggs[run.watch]));
	}
	for (i = 0; i < nknown; i++) {
		gkey = ecs_baselines_key(&run.baselines, i, &len);
		if (w == NULL || ecs_map_get(w->groups, gkey, len) == NULL)
			check_baseline(start, end, gkey, len, 0);
	}
}

/*
 * Windows that passed without any event, from closed_upto to the first
 * that starts at or after start or ends after wm, still feed the baselines
 * (and alert: a dead checkout is the drop that matters most), then count
 * as closed. After the baselines' span + 1 of them every baseline is all
 * zeros, and more would change nothing.
 */
static void
pass_empty_windows(int64_t start, int64_t wm)
{
	int64_t s, e, skip_to;
	uint32_t n, span = ecs_baselines_span(&run.baselines);

	if (!watching() || run.closed_upto == INT64_MIN)
		return;
	for (s = run.closed_upto, n = 0; n <= span && s < start &&
	    (e = ecs_window_end(&run.ws, s, opt.window_ms)) <= wm; s = e, n++) {
		baselines_for(NULL, s, e);
		run.closed_upto = e;
	}
	if (n > span) {
		skip_to = wm == INT64_MAX ? start :
		    ecs_window_floor(&run.ws, wm, opt.window_ms);
		if (skip_to > start)
			skip_to = start;
		if (skip_to > run.closed_upto)
			run.closed_upto = skip_to;
	}
}

/*
 * The rows of a window, with their alerts: written as they stand (the
 * running total at the end), or only checked by the rules when --emit
 * update wrote them already (final).
 */
static void
write_rows(const struct ecs_window *w, bool final)
{
	struct ecs_group *g;
	const char *gkey;
	size_t i, n, len;

	if (opt.partial) {
		ecs_windows_write_partials(&run.ws, w, run.metrics_signature);
		return;
	}
	ecs_totals_reset(&run.totals);	/* over the rows --having keeps */
	for (i = 0; run.totals.n > 0 && i < ecs_map_count(w->groups); i++) {
		g = ecs_map_at(w->groups, i, &gkey, &len);
		build_row(w, gkey, len, g);
		if (row_kept())
			ecs_totals_add_row(&run.totals, &run.row);
	}
	ecs_totals_set(&run.totals, &run.row, run.key0 - run.totals.n);
	for (i = 0; i < ecs_map_count(w->groups); i++) {
		g = ecs_map_at(w->groups, i, &gkey, &len);
		build_row(w, gkey, len, g);
		if (!row_kept())
			continue;
		if (run.top.n > 0) {
			ecs_top_add(&run.top, g, gkey, len,
			    &run.row.rules.value[run.order_key]);
			continue;
		}
		if (!final || !opt.emit_update)
			ecs_row_write(&run.row, NULL);
		ecs_row_alerts(&run.row, opt.nrules);
	}
	for (i = 0, n = ecs_top_choose(&run.top); i < n; i++) {
		build_row(w, run.top.row[i].key, run.top.row[i].len,
		    run.top.row[i].item);
		ecs_row_write(&run.row, NULL);
		ecs_row_alerts(&run.row, opt.nrules);
	}
	ecs_top_reset(&run.top);
}

/* Writes a window's final rows and their alerts. */
static void
finalize(struct ecs_window *w)
{
	pass_empty_windows(w->start, INT64_MAX);
	write_rows(w, true);
	if (w->start != NO_WINDOW)
		baselines_for(w, w->start, w->end);
	w->written = true;
	if (w->end > run.closed_upto)
		run.closed_upto = w->end;
}

/* Finalizes the windows the watermark has passed; drops expired ones. */
static void
close_windows(int64_t wm)
{
	size_t i, gone = 0;

	for (i = 0; i < run.ws.n && run.ws.w[i].end <= wm; i++)
		if (!run.ws.w[i].written)
			finalize(&run.ws.w[i]);
	/* With --idle the watermark moves with the clock through an outage. */
	if (wm != INT64_MAX && (run.ws.n == i || run.ws.w[i].start > wm))
		pass_empty_windows(INT64_MAX, wm);
	while (gone < run.ws.n && run.ws.w[gone].written &&
	    (opt.corrections_ms < 0 ||
	    run.ws.w[gone].end + opt.corrections_ms <= wm))
		gone++;
	ecs_windows_drop(&run.ws, gone);
}

/* Events */

/*
 * The group fragment ("k":v,...) of the event, in run.frag: the value of
 * a -b NAME=EXPR key as JSON, null when it has none.
 */
static void
group_key(const struct ecs_field *f)
{
	struct ecs_buf *b = &run.frag;
	struct ecs_field v;
	char num[64];
	size_t i;

	ecs_buf_reset(b);
	for (i = 0; i < opt.nby; i++) {
		if (i > 0)
			ecs_buf_putc(b, ',');
		ecs_buf_add(b, run.by_name[i].p, run.by_name[i].len);
		if (opt.by[i].expr != NULL)
			ecs_expr_eval_field(opt.by[i].expr, f, num, &v);
		ecs_buf_field(b, opt.by[i].expr != NULL ? &v : &f[run.by_slot[i]]);
	}
}

/* Adds the line's values to its group in w; writes the row if asked. */
static void
update(struct ecs_window *w, const char *flag)
{
	struct ecs_group *g = ecs_window_group(&run.ws, w, run.frag.p,
	    run.frag.len);
	size_t i;

	for (i = 0; i < opt.nmetrics; i++)
		ecs_agg_add(&opt.metrics[i], &g->aggs[i], &run.values[i]);
	if (opt.emit_update || flag != NULL) {
		build_row(w, run.frag.p, run.frag.len, g);
		if (row_kept())
			ecs_row_write(&run.row, flag);
	}
	ckpt.dirty = true;
}

static void
write_late(const struct ecs_reader *rd)
{
	run.nlate++;
	run.nlate_run++;
	if (run.late_fd == -1)
		return;
	ecs_write_all(run.late_fd, rd->line, rd->len, opt.late_path);
	ecs_write_all(run.late_fd, "\n", 1, opt.late_path);
}

/*
 * Whether adding the line's values to the groups of the windows that
 * process() updates, whose sums exist already, would overflow a sum.
 */
static bool
sums_overflow(struct ecs_reader *rd, int64_t t)
{
	int64_t s, step = opt.slide_ms > 0 ? opt.slide_ms : opt.window_ms;
	struct ecs_window *w;
	struct ecs_group *g;
	size_t i;

	s = opt.window_ms == NO_WINDOW ? NO_WINDOW :
	    ecs_window_floor(&run.ws, t, step);
	for (;;) {
		if (opt.window_ms != NO_WINDOW &&
		    ecs_window_end(&run.ws, s, opt.window_ms) <= t)
			break;
		if ((w = ecs_windows_find(&run.ws, s, false)) != NULL &&
		    (g = ecs_map_get(w->groups, run.frag.p, run.frag.len)) != NULL)
			for (i = 0; i < opt.nmetrics; i++)
				if (ecs_agg_overflows(&opt.metrics[i],
				    &g->aggs[i], &run.values[i])) {
					ecs_reader_bad(rd, "metric '%s': the sum "
					    "would overflow (exact to 38 digits)",
					    opt.metrics[i].name);
					return true;
				}
		if (opt.window_ms == NO_WINDOW)
			break;
		s = ecs_window_floor(&run.ws, s - 1, step);
	}
	return false;
}

/*
 * The line's value of each metric, in run.values. Metrics hold exact
 * values or none: a line whose value for a metric of numbers is no exact
 * decimal (1e999, more than 38 digits or 18 places, a quotient without
 * end), or that would take a sum of an open window of its group past 38
 * digits, is bad and changes nothing. False after reporting.
 */
static bool
values_fit(struct ecs_reader *rd, const struct ecs_field *f, int64_t t)
{
	struct ecs_agg_value *v;
	bool any_sum = false;
	size_t i;

	for (i = 0; i < opt.nmetrics; i++) {
		v = &run.values[i];
		ecs_metric_eval(&opt.metrics[i], f, v);
		if (!v->has || !ecs_metric_is_decimal(&opt.metrics[i]))
			continue;
		if (!v->dec.exact) {
			ecs_reader_bad(rd, "metric '%s': the value is not an "
			    "exact decimal (at most 38 digits, 18 after the "
			    "point)", opt.metrics[i].name);
			return false;
		}
		if (ecs_metric_sums(&opt.metrics[i])) {
			any_sum = true;
			run.sum_bound += fabs(v->dec.d);
		}
	}
	return !any_sum || run.sum_bound < SUM_SAFE || !sums_overflow(rd, t);
}

static void
advance(int64_t t)
{
	if (t > run.clock.latest)
		run.clock.latest = t;
	if (run.clock.latest - opt.lateness_ms > run.watermark)
		run.watermark = run.clock.latest - opt.lateness_ms;
	close_windows(run.watermark);
}

/* --where on the line; a line it cannot decide is bad. */
static bool
where_holds(struct ecs_reader *rd, const struct ecs_field *f)
{
	bool holds = ecs_expr_match_fields(opt.where, f);
	const char *why = ecs_expr_take_error();

	if (why != NULL) {
		ecs_reader_bad(rd, "--where: %s", why);
		return false;
	}
	return holds;
}

static void
process(struct ecs_reader *rd, const struct ecs_field *f)
{
	struct ecs_window *w;
	int64_t t, s, e, step = opt.slide_ms > 0 ? opt.slide_ms : opt.window_ms;
	char shown[ECS_SHOWN_SIZE];
	const char *why;
	bool late = false, untimed;

	(void)ecs_expr_take_error();
	if (opt.where != NULL && !where_holds(rd, f))
		return;
	if (!ecs_event_time(&run.clock, &f[run.ts_slot], &t, &untimed)) {
		ecs_reader_bad(rd, "field '%s' is not a time%s",
		    run.fields.path[run.ts_slot]->text,
		    ecs_field_shown(&f[run.ts_slot], shown));
		return;
	}
	group_key(f);
	if (!values_fit(rd, f, t))
		return;
	/* A -b key or a metric's argument that could not be computed. */
	if ((why = ecs_expr_take_error()) != NULL) {
		ecs_reader_bad(rd, "%s", why);
		return;
	}
	ecs_event_clock_take(&run.clock, t, untimed);
	if (opt.window_ms == NO_WINDOW) {
		update(ecs_windows_find(&run.ws, NO_WINDOW, true), NULL);
		run.nkept++;
		return;
	}
	/* Every window that holds t, the latest first. */
	for (s = ecs_window_floor(&run.ws, t, step);
	    (e = ecs_window_end(&run.ws, s, opt.window_ms)) > t;
	    s = ecs_window_floor(&run.ws, s - 1, step)) {
		if (e > run.closed_upto)
			update(ecs_windows_find(&run.ws, s, true), NULL);
		else if ((w = ecs_windows_find(&run.ws, s, false)) != NULL &&
		    w->written) {
			update(w, "correction");
			run.ncorrections++;
		} else
			late = true;
	}
	if (late)
		write_late(rd);	/* late for a window, if not for all */
	else
		run.nkept++;
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
	if (run.clock.latest != INT64_MIN)
		advance(run.clock.latest + ms);
	else if (run.clock.nclock > 0)	/* no times yet: the clock's */
		advance(ecs_time_now());
	ecs_checkpoint_maybe(arg);
}

/* State */

/*
 * What the shape of the state depends on: windows, zone, keys, metrics and
 * baselines. A state saved with others is refused; other options (files,
 * --where, --lateness) may change between runs. Owned by the caller.
 */
static char *
options_signature(void)
{
	struct ecs_buf b = ECS_BUF_INIT;
	size_t i;

	ecs_windows_describe(&run.ws, opt.slide_ms, &b);
	ecs_buf_puts(&b, " slide=");
	ecs_buf_int(&b, opt.slide_ms);
	ecs_buf_puts(&b, " baseline=");
	ecs_buf_uint(&b, opt.baseline_n);
	if (opt.season_ms > 0) {	/* states of the mean rule stay valid */
		ecs_buf_puts(&b, " season=");
		ecs_buf_int(&b, opt.season_ms);
	}
	ecs_buf_puts(&b, " tz=");
	ecs_buf_puts(&b, run.ws.tz != NULL ? run.ws.tz : "UTC");
	for (i = 0; i < opt.nby; i++) {
		ecs_buf_puts(&b, i == 0 ? " by=" : ",");
		ecs_buf_puts(&b, opt.by[i].spec);
	}
	for (i = 0; i < opt.nmetrics && !opt.default_metrics; i++) {
		ecs_buf_puts(&b, " -m ");
		ecs_buf_puts(&b, opt.metrics[i].spec);
	}
	return b.p;
}

static void
save_state(void)
{
	struct json_object *head = json_object_new_object();

	json_object_object_add(head, "options",
	    json_object_new_string(run.signature));
	json_object_object_add(head, "max_time",
	    json_object_new_int64(run.clock.latest));
	json_object_object_add(head, "watermark",
	    json_object_new_int64(run.watermark));
	json_object_object_add(head, "closed_upto",
	    json_object_new_int64(run.closed_upto));
	json_object_object_add(head, "late",
	    json_object_new_int64((int64_t)run.nlate));
	if (!ecs_checkpoint_begin(&ckpt, head))
		return;
	ecs_windows_save(&run.ws, &ckpt.writer);
	ecs_baselines_save(&run.baselines, &ckpt.writer);
	ecs_checkpoint_commit(&ckpt);
}

static void
load_record(const struct ecs_state_reader *sr, struct json_object *rec)
{
	if (!ecs_baselines_load(&run.baselines, sr, rec))
		ecs_windows_load(&run.ws, sr, rec);
}

/*
 * A time of the state's header: none (INT64_MIN) or one that an event
 * could have, not one whose sums with durations would overflow.
 */
static int64_t
state_time(const struct ecs_state_reader *sr, struct json_object *head,
    const char *name)
{
	int64_t t = ecs_state_int(sr, head, name);

	if (t != INT64_MIN && (t < -ECS_TIME_LIMIT || t > ECS_TIME_LIMIT))
		ecs_state_corrupt(sr, "'%s' is not a time", name);
	return t;
}

static void
load_state(void)
{
	struct ecs_state_reader sr;
	struct json_object *head, *rec, *v;
	size_t i;

	if (!ecs_checkpoint_open(&ckpt, &sr, &head))
		return;
	run.sum_bound = INFINITY;	/* sums of unknown size: check them */
	if (!json_object_object_get_ex(head, "options", &v) ||
	    strcmp(json_object_get_string(v), run.signature) != 0)
		ecs_state_corrupt(&sr, "saved by a run with other options "
		    "(windows, keys and metrics must stay the same)");
	run.clock.latest = state_time(&sr, head, "max_time");
	run.watermark = state_time(&sr, head, "watermark");
	run.closed_upto = state_time(&sr, head, "closed_upto");
	if ((int64_t)(run.nlate = (unsigned long long)ecs_state_int(&sr, head,
	    "late")) < 0)
		ecs_state_corrupt(&sr, "'late' is not a count");
	/*
	 * An older ecs-sales chose the default metrics from the first event
	 * and saved its choice: 0 to 2 was count and sales, as now.
	 */
	if (opt.default_metrics &&
	    json_object_object_get_ex(head, "default", &v) &&
	    (json_object_get_int(v) < 0 || json_object_get_int(v) > 2))
		ecs_state_corrupt(&sr, "saved by an older ecs-sales with "
		    "count as its only default metric");
	while ((rec = ecs_state_next(&sr)) != NULL) {
		load_record(&sr, rec);
	}
	/* One written but still open would never be written again. */
	for (i = 0; i < run.ws.n; i++)
		if (run.ws.w[i].written && run.ws.w[i].end > run.closed_upto)
			ecs_state_corrupt(&sr, "a window written before it "
			    "closed");
	ecs_state_close(&sr);
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
	opt.metrics = ecs_xcalloc(2, sizeof(*opt.metrics));
	opt.metrics[opt.nmetrics++] = (struct ecs_metric){
	    .name = ecs_xstrdup("count"), .type = ecs_agg_lookup("count") };
	opt.metrics[opt.nmetrics++] = (struct ecs_metric){
	    .name = ecs_xstrdup("sales"), .type = ecs_agg_lookup("sum"),
	    .arg = compile_default("price * quantity"),
	    .alt = { compile_default("sales"), compile_default("amount") } };
}

/* Keys of rows and alerts besides the metrics and group keys. */
static const char *const reserved_names[] = { "window_start", "window_end",
    "approximate", "alert", "rule", "correction", "metric", "value",
    "baseline", "change_pct", "expected", "low", "high", "score" };

/* The name of the row's key i (after the reserved ones: see ROW_KEYS). */
static const char *
row_key_name(size_t i)
{
	if (i < opt.nby)
		return opt.by[i].path->text;
	i -= opt.nby;
	return i < opt.nmetrics ? opt.metrics[i].name :
	    opt.derived[i - opt.nmetrics].name;
}

/*
 * The names of a row are unique: the group keys, the metrics and the
 * reserved keys. A clash would write an object with a key twice.
 */
static void
check_names(void)
{
	const char *name, *what;
	size_t i, j;

	for (i = 0; i < opt.nby + opt.nmetrics + opt.nderived; i++) {
		name = row_key_name(i);
		what = i < opt.nby ? "--by key" : "--metric";
		for (j = 0; j < sizeof(reserved_names) / sizeof(*reserved_names);
		    j++)
			if (strcmp(name, reserved_names[j]) == 0)
				errx(ECS_EXIT_USAGE, "%s '%s': the name is taken "
				    "by ecs-sales' rows", what, name);
		for (j = 0; j < i; j++)
			if (strcmp(name, row_key_name(j)) == 0)
				errx(ECS_EXIT_USAGE, "%s '%s': the name is "
				    "already a %s of the row", what, name,
				    j < opt.nby ? "group key" : "metric");
	}
}

/* The rows' keys; --alert, derived metrics, --having, --order-by on them. */
static void
add_rules(void)
{
	struct ecs_rules *rules = &run.row.rules;
	const char **names;
	size_t i, n = 0, key0;

	names = ecs_xcalloc(run.totals.n + opt.nby + opt.nmetrics +
	    opt.nderived + 3, sizeof(*names));
	if (opt.window_ms != NO_WINDOW) {
		names[n++] = "window_start";
		names[n++] = "window_end";
	}
	for (i = 0; i < run.totals.n; i++)
		names[n++] = run.totals.t[i].key;
	run.key0 = key0 = n;
	for (i = 0; i < opt.nby + opt.nmetrics + opt.nderived; i++)
		names[n++] = row_key_name(i);
	names[n++] = "approximate";		/* in rows with an estimate */
	ecs_row_init(&run.row, names, n - 1, n, key0 - run.totals.n,
	    run.totals.n + opt.nby);
	ecs_totals_bind(&run.totals, names, key0 + opt.nby,
	    key0 + opt.nby + opt.nmetrics, "--metric");
	for (i = 0; i < run.totals.n; i++)
		if (ecs_metric_is_array(&opt.metrics[run.totals.t[i].metric_key -
		    key0 - opt.nby]))
			errx(ECS_EXIT_USAGE, "--metric total(%s): not a metric "
			    "of numbers", run.totals.t[i].metric);
	for (i = 0; i < opt.nrules; i++)	/* rules 0 to nrules - 1 */
		ecs_rules_add(rules, "--alert", opt.rules[i].text,
		    opt.rules[i].expr, n);
	for (i = 0; i < opt.nderived; i++)	/* each reads those before */
		opt.derived[i].rule = ecs_rules_add(rules, "--metric",
		    opt.derived[i].text, opt.derived[i].expr,
		    key0 + opt.nby + opt.nmetrics + i);
	if (opt.having != NULL)
		run.having = ecs_rules_add(rules, "--having",
		    opt.having_text, opt.having, n);
	if (opt.having != NULL && ecs_totals_read(&run.totals, rules,
	    run.having, opt.derived, key0 + opt.nby + opt.nmetrics))
		errx(ECS_EXIT_USAGE, "--having cannot read a total(NAME): the "
		    "totals are over the rows it keeps");
	for (i = key0 + opt.nby; opt.order_by != NULL && i < n - 1; i++)
		if (strcmp(names[i], opt.order_by) == 0)
			break;
	if (opt.order_by != NULL && (i == n - 1 || (i < n - 1 - opt.nderived &&
	    ecs_metric_is_array(&opt.metrics[i - key0 - opt.nby]))))
		errx(ECS_EXIT_USAGE, "--order-by '%s': not a metric of numbers",
		    opt.order_by);
	run.order_key = i;
	free(names);
}

static void
setup(void)
{
	struct ecs_buf sig = ECS_BUF_INIT;
	size_t i;

	ecs_fields_init(&run.fields, (const char *const[]){ "ts" }, 1);
	run.ts_slot = 0;
	run.by_slot = ecs_xcalloc(opt.nby + 1, sizeof(*run.by_slot));
	run.by_name = ecs_xcalloc(opt.nby + 1, sizeof(*run.by_name));
	for (i = 0; i < opt.nby; i++) {
		/* Escaped once here, not for every event in group_key(). */
		ecs_buf_json_string(&run.by_name[i], opt.by[i].path->text,
		    strlen(opt.by[i].path->text));
		ecs_buf_putc(&run.by_name[i], ':');
		if (opt.by[i].expr != NULL) {
			ecs_expr_bind(opt.by[i].expr, &run.fields);
			continue;
		}
		ecs_path_apply_map(opt.by[i].path);
		run.by_slot[i] = ecs_fields_add(&run.fields, opt.by[i].path);
	}
	if (opt.where != NULL)
		ecs_expr_bind(opt.where, &run.fields);
	if (opt.default_metrics)
		add_default_metrics();
	for (i = 0; i < opt.nmetrics; i++)
		ecs_metric_bind(&opt.metrics[i], &run.fields);
	check_names();
	run.ws.size_ms = opt.window_ms;
	run.ws.slide_ms = opt.slide_ms;
	run.ws.months = opt.window_months;
	run.ws.metrics = opt.metrics;
	run.ws.nmetrics = opt.nmetrics;
	for (i = 0; opt.watch_name != NULL && i < opt.nmetrics; i++)
		if (strcmp(opt.metrics[i].name, opt.watch_name) == 0)
			break;
	if (opt.watch_name != NULL && i == opt.nmetrics)
		errx(ECS_EXIT_USAGE, "--watch '%s': no such metric (an "
		    "aggregate: derived metrics cannot be watched)",
		    opt.watch_name);
	run.watch = opt.watch_name != NULL ? i : 0;
	add_rules();
	run.values = ecs_xcalloc(opt.nmetrics, sizeof(*run.values));
	ecs_baselines_init(&run.baselines, opt.baseline_n, opt.drop_pct,
	    opt.spike_pct);
	if (opt.season_ms > 0)
		ecs_baselines_season(&run.baselines, opt.season_ms,
		    opt.window_ms, opt.band_k);
	run.baselines.persist = opt.persist;
	run.signature = options_signature();
	ecs_buf_puts(&sig, "");
	for (i = 0; i < opt.nmetrics && !opt.default_metrics; i++) {
		ecs_buf_puts(&sig, i > 0 ? " -m " : "-m ");
		ecs_buf_puts(&sig, opt.metrics[i].spec);
	}
	run.metrics_signature = sig.p;
	if (opt.late_path != NULL && (run.late_fd = open(opt.late_path,
	    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666)) == -1)
		err(ECS_EXIT_DATA, "%s", opt.late_path);
}

static void
free_all(void)
{
	size_t i;

	ecs_windows_finish(&run.ws);
	for (i = 0; i < opt.nmetrics; i++) {
		ecs_metric_finish(&opt.metrics[i]);
		ecs_buf_free(&run.values[i].key);
	}
	free(opt.metrics);
	for (i = 0; i < opt.nderived; i++)
		ecs_derived_finish(&opt.derived[i]);
	free(opt.derived);
	ecs_top_finish(&run.top);
	ecs_totals_finish(&run.totals);
	free(run.values);
	ecs_baselines_finish(&run.baselines);
	for (i = 0; run.by_name != NULL && i < opt.nby; i++)
		ecs_buf_free(&run.by_name[i]);
	free(run.by_name);
	ecs_keys_free(opt.by, opt.nby);
	free(run.by_slot);
	ecs_row_finish(&run.row);
	free(opt.rules);
	ecs_expr_free(opt.where);
	ecs_fields_finish(&run.fields);
	ecs_buf_free(&run.frag);
	free(run.signature);
	free(run.metrics_signature);
}

/* For --stats and SIGUSR1. */
static void
count(struct ecs_counters *c)
{
	c->kept = run.nkept;
	c->late = run.nlate_run;
	c->open = run.ws.n;
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
	ecs_stats_hook(count);

	f = ecs_xcalloc(run.fields.n, sizeof(*f));
	ecs_reader_init(&rd, argv + first, argc - first);
	if (run.late_fd != -1)
		ecs_reader_check_output(&rd, run.late_fd, "--late");
	if (opt.idle_ms > 0) {
		rd.idle_ms = (int)opt.idle_ms;
		rd.on_idle = on_idle;
		rd.on_idle_arg = &ckpt;
	}
	ecs_checkpoint_init(&ckpt, &rd);
	while (ecs_reader_line(&rd)) {
		if (opt.merge)
			ecs_windows_merge_line(&run.ws, &rd,
			    run.metrics_signature);
		else if (ecs_fields_read(&run.fields, &rd, f))
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
	else if (opt.window_ms == NO_WINDOW && run.ws.n > 0)
		write_rows(&run.ws.w[0], false);
	if (run.nlate_run > 0 && !ecs_config.quiet)
		warnx("%llu late event%s (after their window was written)%s%s",
		    run.nlate_run, run.nlate_run == 1 ? "" : "s",
		    run.late_fd != -1 ? ", in " : "",
		    run.late_fd != -1 ? opt.late_path : "");
	ecs_event_clock_summary(&run.clock);
	status = ecs_checkpoint_finish(&ckpt, &rd);
	status |= ecs_out_close();
	if (ecs_rules_undecided() > 0)	/* each was reported */
		status |= ECS_EXIT_DATA;
	if (run.late_fd != -1 && close(run.late_fd) == -1)
		status = ECS_EXIT_DATA;
	free(f);
	free_all();
	return status;
}
