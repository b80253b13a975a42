/* SPDX-License-Identifier: ISC */
/*
 * ecs-funnel -- conversion funnels over an event stream, with the
 * semantics of ClickHouse's windowFunnel(window, modes)(ts, cond1, ...):
 * per key (and window, and breakdown) the level of the longest chain of
 * steps in order within --within of its first step; then, per window and
 * breakdown, how many keys entered each step, the conversions, drop-offs
 * and the time to convert. --per-key writes the levels themselves.
 *
 * The scan is ClickHouse's (AggregateFunctionWindowFunnel.cpp), run as
 * events come instead of over a sorted array: each group keeps, per
 * level, the chains that reached it (one, or all open ones under
 * strict_once), so memory grows with open attempts, not with events. The
 * events of one time are held until the key's time moves on and then fed
 * in ClickHouse's order (by step, then as they came), so a key's events
 * must come in time order (ties in any order); an earlier one is refused.
 */
#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ecs.h"
#include "ecs_agg.h"
#include "ecs_buf.h"
#include "ecs_expr.h"
#include "ecs_keys.h"
#include "ecs_window.h"

#define MAX_STEPS	32		/* as ClickHouse's MAX_EVENTS */
/* The latest event time there is (ecs_time_from_epoch's limit). */
#define MAX_TIME_MS	INT64_C(9000000000000000)
#define NO_WINDOW	ECS_NO_WINDOW
#define STATE_VERSION	1

enum {
	OPT_CHECKPOINT = ECS_OPT_TOOL,
	OPT_DROPOUTS,
	OPT_EMIT,
	OPT_EXCLUDE,
	OPT_IDLE,
	OPT_LATENESS,
	OPT_MERGE,
	OPT_PARTIAL,
	OPT_PER_KEY,
	OPT_SAME,
	OPT_STATE,
	OPT_WITHIN,
};

/* The modes, as ClickHouse names them. */
enum {
	M_STRICT_DEDUPLICATION = 1 << 0,
	M_STRICT_ORDER = 1 << 1,
	M_STRICT_INCREASE = 1 << 2,
	M_STRICT_ONCE = 1 << 3,
	M_ALLOW_REENTRY = 1 << 4,
};
static const char *const mode_names[] = {
	"strict_deduplication", "strict_order", "strict_increase",
	"strict_once", "allow_reentry",
};
#define NMODES	(sizeof(mode_names) / sizeof(mode_names[0]))

struct step {
	const char	*spec;		/* as -s gave it */
	char		*name;		/* owned */
	struct ecs_expr	*expr;		/* owned */
};

/* The options, as parsed; then only read. */
static struct {
	struct step	 steps[MAX_STEPS];	/* -s */
	size_t		 nsteps;
	int64_t		 within_ms;		/* --within */
	unsigned	 modes;			/* -m */
	const char	*key;			/* -k */
	struct ecs_key	*by;			/* -b */
	size_t		 nby;
	int64_t		 window_ms;		/* -w; NO_WINDOW: none */
	int		 window_months;
	bool		 per_key;		/* --per-key */
	int64_t		 lateness_ms;		/* --lateness */
	int64_t		 idle_ms;		/* --idle */
	const char	*dropouts_path;		/* --dropouts */
	const char	*same;			/* --same */
	bool		 emit_update;		/* --emit update */
	bool		 partial;		/* --partial */
	bool		 merge;			/* --merge */
	struct ecs_expr	*exclude;		/* --exclude */
	const char	*exclude_src;
} opt = {
	.within_ms = -1, .key = "user_id", .window_ms = NO_WINDOW,
};

/*
 * The chains that reached one level k (0-based) of a group: entries of
 * 2 * (k + 1) int64, the times of steps 0..k, then the record numbers
 * that filled them (so that a record fills one step of a chain).
 */
struct level {
	int64_t		*e;
	uint32_t	 n, cap;
};

/* A pending event of a group's current time: its steps and number. */
struct pending {
	uint64_t	 mask;		/* bit s: it matches step s; 0: none;
					 * EXCLUDED: it matches --exclude */
	uint64_t	 id;
};

#define EXCLUDED	(UINT64_C(1) << 63)

/* One windowFunnel: a key in a window and breakdown. */
struct group {
	int64_t		 cur;		/* the time of the pending events */
	struct pending	*pend;
	uint32_t	 npend, pcap;
	struct level	*lv;		/* opt.nsteps levels */
	uint32_t	 by_len;	/* the breakdown's part of the map key */
	uint32_t	 key_len;	/* ... and the key's, before --same's */
	uint8_t		 level;		/* when done */
	bool		 has_first;	/* a step 1 was fed */
	bool		 done;		/* ClickHouse's scan returned */
	uint8_t		 shown;		/* --emit update: the level written */
	/* --exclude: the best level before the last exclusion, its chain. */
	uint8_t		 best;
	int64_t		*best_times;
};

struct window {
	int64_t		 start, end;
	struct ecs_map	*groups;	/* by..,key -> struct group */
	struct ecs_map	*live;		/* --emit update: by -> keys per step;
					 * --merge: by -> struct row */
};

/* A window's row of one breakdown: keys and times per step. */
struct row {
	uint64_t	 entered[MAX_STEPS];
	struct ecs_agg	 median[MAX_STEPS], p90[MAX_STEPS];
};

/* The state of the run. */
static struct {
	struct ecs_fieldset fields;
	size_t		 ts_slot, key_slot;
	size_t		*by_slot;
	struct ecs_windows ws;			/* for floor and end only */
	struct window	*w;			/* open windows, by start */
	size_t		 nw, wcap;
	int64_t		 closed_upto;		/* windows ending by it: out */
	struct ecs_event_clock clock;
	uint64_t	 nrecords;		/* record numbers */
	struct ecs_metric q50, q90;		/* the times' quantiles */
	struct ecs_buf	 frag;			/* the group's map key */
	size_t		 by_len;		/* its breakdown's part */
	size_t		 key_len;		/* and the key's */
	size_t		 same_slot;		/* --same's field */
	struct ecs_path	*key_path, *same_path;	/* borrowed by fields */
	struct ecs_buf	 out;			/* the line being written */
	unsigned long long nlate, nunordered;
	int		 dropouts_fd;		/* --dropouts, or -1 */
	struct ecs_buf	 drop;			/* its line */
	char		*signature;		/* what the state depends on */
} run = {
	.dropouts_fd = -1,
	.closed_upto = INT64_MIN, .clock = ECS_EVENT_CLOCK_INIT,
};

static void		 save_state(void);
static struct ecs_checkpoint ckpt = {		/* --state, --checkpoint */
	.program = "ecs-funnel", .version = STATE_VERSION,
	.interval_ms = 30000, .save = save_state,
};

static const struct option longopts[] = {
	ECS_COMMON_LONGOPTS,
	{ "by",		required_argument,	NULL, 'b' },
	{ "checkpoint",	required_argument,	NULL, OPT_CHECKPOINT },
	{ "dropouts",	required_argument,	NULL, OPT_DROPOUTS },
	{ "emit",	required_argument,	NULL, OPT_EMIT },
	{ "exclude",	required_argument,	NULL, OPT_EXCLUDE },
	{ "idle",	required_argument,	NULL, OPT_IDLE },
	{ "key",	required_argument,	NULL, 'k' },
	{ "lateness",	required_argument,	NULL, OPT_LATENESS },
	{ "merge",	no_argument,		NULL, OPT_MERGE },
	{ "mode",	required_argument,	NULL, 'm' },
	{ "partial",	no_argument,		NULL, OPT_PARTIAL },
	{ "per-key",	no_argument,		NULL, OPT_PER_KEY },
	{ "same",	required_argument,	NULL, OPT_SAME },
	{ "state",	required_argument,	NULL, OPT_STATE },
	{ "step",	required_argument,	NULL, 's' },
	{ "window",	required_argument,	NULL, 'w' },
	{ "within",	required_argument,	NULL, OPT_WITHIN },
	{ NULL,		0,			NULL, 0 }
};

static _Noreturn void
usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fprintf(fp,
"usage: ecs-funnel [-hqV] [-b keys] [-i format] [-k field] [-m modes]\n"
"                  [-o format] -s name=expr ... [-w duration]\n"
"                  [--checkpoint duration] [--dropouts file]\n"
"                  [--emit final|update] [--exclude expr]\n"
"                  [--idle duration] [--lateness duration]\n"
"                  [--partial | --merge] [--per-key] [--same field]\n"
"                  [--state file] --within duration [file ...]\n");
	if (status != 0)
		exit(status);
	fprintf(fp,
"Conversion funnels with ClickHouse's windowFunnel semantics (see\n"
"ecs-funnel(1)).\n"
"  -s, --step NAME=EXPR     a step, in order (1 to 32 of them)\n"
"      --within DURATION    a chain's steps within this of its first\n"
"  -m, --mode MODES         strict_order, strict_deduplication,\n"
"                           strict_increase, strict_once, allow_reentry\n"
"                           (comma-separated; default none)\n"
"  -k, --key FIELD          whose funnel (default user_id)\n"
"  -b, --by KEYS            a breakdown: FIELD or NAME=EXPR, comma-separated\n"
"  -w, --window DURATION    tumbling windows of event time (default: one)\n"
"      --per-key            per key and window, the level and step times\n"
"      --exclude EXPR       an event of EXPR ends the key's attempts so far\n"
"      --same FIELD         every step of a chain has the same FIELD (a\n"
"                           product funnel); a key counts at its best\n"
"      --emit update        also a line when a key's level changes (or its\n"
"                           rows' keys), marked \"final\":false\n"
"      --dropouts FILE      append the keys that stopped short of the last\n"
"                           step, with the furthest step, to FILE\n"
"      --lateness DURATION  the watermark trails the latest event time\n"
"      --partial            write the rows as states to --merge\n"
"      --merge              read partial states, write the merged rows\n"
"      --idle DURATION      with -w, event time passes with the clock after\n"
"                           DURATION without input\n"
"      --state FILE         load and save the open windows in FILE\n"
"      --checkpoint DURATION save the state this often (default 30s; 0:\n"
"                           at exit only)\n");
	ecs_common_usage(fp);
	exit(0);
}

/* Options */

static void
add_step(const char *spec)
{
	const char *eq = strchr(spec, '=');
	struct step *s;
	char err[256];
	size_t i;

	if (opt.nsteps == MAX_STEPS)
		errx(ECS_EXIT_USAGE, "-s '%s': more than %d steps", spec,
		    MAX_STEPS);
	if (eq == NULL || eq == spec)
		errx(ECS_EXIT_USAGE, "-s '%s': expected NAME=EXPR", spec);
	s = &opt.steps[opt.nsteps];
	s->spec = spec;
	s->name = ecs_xstrndup(spec, (size_t)(eq - spec));
	for (i = 0; i < opt.nsteps; i++)
		if (strcmp(opt.steps[i].name, s->name) == 0)
			errx(ECS_EXIT_USAGE, "-s '%s': step '%s' twice", spec,
			    s->name);
	if ((s->expr = ecs_expr_compile(eq + 1, err, sizeof(err))) == NULL)
		errx(ECS_EXIT_USAGE, "-s '%s': %s", spec, err);
	opt.nsteps++;
}

static void
add_modes(const char *list)
{
	const char *p = list, *end;
	size_t i, len;

	for (; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		end = p + strcspn(p, ",");
		len = (size_t)(end - p);
		for (i = 0; i < NMODES; i++)
			if (strlen(mode_names[i]) == len &&
			    strncmp(mode_names[i], p, len) == 0)
				break;
		if (i == NMODES)
			errx(ECS_EXIT_USAGE, "-m '%s': unknown mode '%.*s' "
			    "(strict_order, strict_deduplication, "
			    "strict_increase, strict_once, allow_reentry)",
			    list, (int)len, p);
		opt.modes |= 1u << i;
	}
}

static void
parse_options(int argc, char *argv[], int *first_operand)
{
	char err[256];
	int ch;

	while ((ch = getopt_long(argc, argv, ECS_COMMON_SHORTOPTS "b:k:m:s:w:",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			ecs_keys_parse("--by", optarg, &opt.by, &opt.nby);
			break;
		case 'h':
			usage(0);
		case 'k':
			opt.key = optarg;
			break;
		case 'm':
			add_modes(optarg);
			break;
		case 's':
			add_step(optarg);
			break;
		case 'w':
			opt.window_ms = ecs_window_parse("-w", optarg,
			    &opt.window_months);
			break;
		case OPT_CHECKPOINT:
			ecs_checkpoint_option(&ckpt, optarg);
			break;
		case OPT_DROPOUTS:
			opt.dropouts_path = optarg;
			break;
		case OPT_EMIT:
			if (strcmp(optarg, "update") != 0 &&
			    strcmp(optarg, "final") != 0)
				errx(ECS_EXIT_USAGE, "--emit '%s': expected final "
				    "or update", optarg);
			opt.emit_update = strcmp(optarg, "update") == 0;
			break;
		case OPT_EXCLUDE:
			if (opt.exclude != NULL)
				errx(ECS_EXIT_USAGE, "--exclude: give it once "
				    "(join expressions with or)");
			opt.exclude_src = optarg;
			if ((opt.exclude = ecs_expr_compile(optarg, err,
			    sizeof(err))) == NULL)
				errx(ECS_EXIT_USAGE, "--exclude '%s': %s",
				    optarg, err);
			break;
		case OPT_IDLE:
			opt.idle_ms = ecs_opt_duration("--idle", optarg);
			if (opt.idle_ms > 2000000000)
				errx(ECS_EXIT_USAGE, "--idle '%s': at most "
				    "2000000s", optarg);
			break;
		case OPT_SAME:
			opt.same = optarg;
			break;
		case OPT_STATE:
			ckpt.path = optarg;
			break;
		case OPT_LATENESS:
			opt.lateness_ms = strcmp(optarg, "0") == 0 ? 0 :
			    ecs_opt_duration("--lateness", optarg);
			break;
		case OPT_MERGE:
			opt.merge = true;
			break;
		case OPT_PARTIAL:
			opt.partial = true;
			break;
		case OPT_PER_KEY:
			opt.per_key = true;
			break;
		case OPT_WITHIN:
			opt.within_ms = ecs_opt_duration("--within", optarg);
			break;
		default:
			if (!ecs_common_option(ch, optarg))
				usage(ECS_EXIT_USAGE);
		}
	}
	if (opt.nsteps == 0)
		errx(ECS_EXIT_USAGE, "no steps: give them with -s NAME=EXPR");
	if (opt.within_ms < 0)
		errx(ECS_EXIT_USAGE, "--within: required (how long a chain "
		    "may take from its first step)");
	if (opt.partial && (opt.merge || opt.per_key || opt.emit_update))
		errx(ECS_EXIT_USAGE, "--partial writes the rows' states to "
		    "merge: not with --merge, --per-key or --emit update");
	if (opt.merge && (opt.per_key || opt.emit_update ||
	    opt.dropouts_path != NULL || ckpt.path != NULL))
		errx(ECS_EXIT_USAGE, "--merge reads partials: not with "
		    "--per-key, --emit update, --dropouts or --state");
	if (opt.emit_update && opt.same != NULL && !opt.per_key)
		errx(ECS_EXIT_USAGE, "--emit update: the rows of --same count "
		    "a key at its best over values, known when final (use "
		    "--per-key)");
	if (opt.idle_ms > 0 && opt.window_ms == NO_WINDOW)
		errx(ECS_EXIT_USAGE, "--idle: needs -w (without windows "
		    "nothing is written before the end)");
	/* As ClickHouse refuses it: reentry is a relaxation of the order. */
	if ((opt.modes & M_ALLOW_REENTRY) && !(opt.modes & M_STRICT_ORDER))
		errx(ECS_EXIT_USAGE, "-m allow_reentry: needs strict_order");
	*first_operand = optind;
}

/* Groups */

static void
group_free(void *v)
{
	struct group *g = v;
	size_t i;

	for (i = 0; i < opt.nsteps; i++)
		free(g->lv[i].e);
	free(g->lv);
	free(g->pend);
	free(g->best_times);
}

static size_t
stride(size_t k)
{
	return 2 * (k + 1);
}

/* The highest level a chain reached: the levels held are a prefix. */
static unsigned
levels_held(const struct group *g)
{
	unsigned k = 0;

	while (k < opt.nsteps && g->lv[k].n > 0)
		k++;
	return k;
}

static void
finish(struct group *g, unsigned level)
{
	g->done = true;
	g->level = (uint8_t)level;
}

/*
 * Appends a chain at level k. Without strict_once ClickHouse keeps one
 * chain a level, the latest; ecs keeps those of the current time too
 * until the time moves on (compact), so that a record that matches
 * several steps can extend the latest chain it is not in.
 */
static int64_t *
level_add(struct level *l, size_t k, int64_t t)
{
	uint32_t stale = 0;

	/*
	 * With strict_once, chains that began more than --within before t
	 * can extend no more (times only grow): dropped but the latest, as
	 * ClickHouse drops them when it looks, so memory holds the open
	 * attempts only.
	 */
	if (opt.modes & M_STRICT_ONCE) {
		while (stale + 1 < l->n &&
		    l->e[(size_t)stale * stride(k)] + opt.within_ms < t)
			stale++;
		if (stale > 0) {
			memmove(l->e, l->e + (size_t)stale * stride(k),
			    (size_t)(l->n - stale) * stride(k) * sizeof(*l->e));
			l->n -= stale;
		}
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1;
		l->e = ecs_xrealloc(l->e, l->cap * stride(k) * sizeof(*l->e));
	}
	return l->e + (size_t)l->n++ * stride(k);
}

/* Without strict_once, once the time moves on: the latest chain a level. */
static void
compact(struct group *g)
{
	struct level *l;
	size_t k;

	if (opt.modes & M_STRICT_ONCE)
		return;
	for (k = 0; k < opt.nsteps; k++) {
		l = &g->lv[k];
		if (l->n > 1) {
			memmove(l->e, l->e + (size_t)(l->n - 1) * stride(k),
			    stride(k) * sizeof(*l->e));
			l->n = 1;
		}
	}
}

/* Whether record id filled a step of chain c of level k - 1. */
static bool
chain_has(const int64_t *c, size_t k, uint64_t id)
{
	size_t j;

	for (j = 0; j < k; j++)
		if ((uint64_t)c[k + j] == id)
			return true;
	return false;
}

/* Adds to level k the chain c of level k - 1 extended by id at t. */
static bool
extend_chain(struct group *g, size_t k, size_t i, int64_t t, uint64_t id)
{
	int64_t *n = level_add(&g->lv[k], k, t), *c;

	c = g->lv[k - 1].e + i * stride(k - 1);
	memcpy(n, c, k * sizeof(*n));
	n[k] = t;
	memcpy(n + k + 1, c + k, k * sizeof(*n));
	n[2 * k + 1] = (int64_t)id;
	if (k + 1 < opt.nsteps)
		return false;
	finish(g, (unsigned)opt.nsteps);
	return true;
}

/*
 * Step k (k > 0) of record id at time t, from the chains of level k - 1:
 * ClickHouse's last branch. Without strict_once, from the latest chain
 * (the latest that id is not in); with it, from each chain held, those
 * out of the window dropped but one.
 */
static void
extend(struct group *g, size_t k, int64_t t, uint64_t id)
{
	struct level *prev = &g->lv[k - 1];
	uint32_t i;
	int64_t *c;
	bool ok;

	if (!(opt.modes & M_STRICT_ONCE)) {
		for (i = prev->n; i > 0; i--)
			if (!chain_has(prev->e + (size_t)(i - 1) * stride(k - 1),
			    k, id))
				break;
		if (i == 0)
			return;
		c = prev->e + (size_t)(i - 1) * stride(k - 1);
		if (t <= c[0] + opt.within_ms &&
		    (!(opt.modes & M_STRICT_INCREASE) || c[k - 1] < t))
			extend_chain(g, k, i - 1, t, id);
		return;
	}
	i = 0;
	while (i < prev->n) {
		c = prev->e + (size_t)i * stride(k - 1);
		ok = t <= c[0] + opt.within_ms;
		if (!ok && prev->n > 1) {
			memmove(c, c + stride(k - 1), (size_t)(prev->n - i - 1) *
			    stride(k - 1) * sizeof(*c));
			prev->n--;
			continue;
		}
		/* One record fills one step of a chain (see ecs-funnel(1)). */
		ok = ok && !chain_has(c, k, id);
		if (ok && (opt.modes & M_STRICT_INCREASE))
			ok = c[k - 1] < t;
		if (ok && extend_chain(g, k, i, t, id))
			return;
		i++;
	}
}

/*
 * One entry of ClickHouse's sorted list: record id at time t, for step s
 * (0-based), or -1 for an event of no step (kept under strict_order).
 */
static void
feed(struct group *g, int s, int64_t t, uint64_t id)
{
	unsigned k;
	int64_t *c;

	if (g->done)
		return;
	if (s == -1) {
		if (g->has_first)
			finish(g, levels_held(g));
		return;
	}
	if (s == 0) {
		c = level_add(&g->lv[0], 0, t);
		c[0] = t;
		c[1] = (int64_t)id;
		g->has_first = true;
	} else if ((opt.modes & M_STRICT_DEDUPLICATION) && g->lv[s].n > 0)
		finish(g, levels_held(g));
	else if ((opt.modes & M_STRICT_ORDER) && g->has_first &&
	    g->lv[s - 1].n == 0) {
		if (!(opt.modes & M_ALLOW_REENTRY)) {
			for (k = 0; k < opt.nsteps && g->lv[k].n > 0; k++)
				;
			finish(g, k);
		}
	} else if (g->lv[s - 1].n > 0)
		extend(g, (size_t)s, t, id);
}

static unsigned		 current_level(const struct group *);
static const int64_t	*chain_of(const struct group *, unsigned);

/*
 * --exclude: an event of it ends every attempt of the group (after the
 * events of its time): the level they reached is kept, with its chain,
 * and the scan starts again, as ClickHouse's would on the events after it.
 */
static void
exclude(struct group *g)
{
	unsigned now = current_level(g);
	size_t k;

	if (now > g->best) {
		if (g->best_times == NULL)
			g->best_times = ecs_xcalloc(opt.nsteps,
			    sizeof(*g->best_times));
		memcpy(g->best_times, chain_of(g, now), now *
		    sizeof(*g->best_times));
		g->best = (uint8_t)now;
	}
	for (k = 0; k < opt.nsteps; k++)
		g->lv[k].n = 0;
	g->has_first = false;
	g->done = false;
	g->level = 0;
}

/*
 * Feeds the events of the group's current time in ClickHouse's order:
 * by step, events of no step first, then as they came.
 */
static void
flush_pending(struct group *g)
{
	uint32_t i;
	size_t s;

	for (i = 0; i < g->npend; i++)
		if ((g->pend[i].mask & ~EXCLUDED) == 0 &&
		    (opt.modes & M_STRICT_ORDER))
			feed(g, -1, g->cur, g->pend[i].id);
	for (s = 0; s < opt.nsteps; s++)
		for (i = 0; i < g->npend; i++)
			if (g->pend[i].mask & (UINT64_C(1) << s))
				feed(g, (int)s, g->cur, g->pend[i].id);
	compact(g);
	for (i = 0; i < g->npend; i++)
		if (g->pend[i].mask & EXCLUDED) {
			exclude(g);
			break;
		}
	g->npend = 0;
}

/* The level of the chains held (not counting those --exclude ended). */
static unsigned
current_level(const struct group *g)
{
	return g->done ? g->level : levels_held(g);
}

static unsigned
group_level(struct group *g)
{
	unsigned now;

	flush_pending(g);
	now = current_level(g);
	return now > g->best ? now : g->best;
}

/* The times of the steps of a chain that reached level (>= 1). */
static const int64_t *
chain_of(const struct group *g, unsigned level)
{
	const struct level *l = &g->lv[level - 1];

	if (level == g->best && current_level(g) < level)
		return g->best_times;

	/* Without strict_once the one held; with it, the first held. */
	return l->e;
}

static void
pend(struct group *g, uint64_t mask, uint64_t id)
{
	if (g->npend == g->pcap) {
		g->pcap = g->pcap ? g->pcap * 2 : 2;
		g->pend = ecs_xrealloc(g->pend, g->pcap * sizeof(*g->pend));
	}
	g->pend[g->npend++] = (struct pending){ mask, id };
}

/* Windows */

/* A time of an event taken: 0 or later (windowFunnel's are unsigned). */
static bool
is_time(int64_t t)
{
	return t >= 0 && t <= MAX_TIME_MS;
}

/*
 * Whether s can start a window of this run (as a state or a partial
 * says): NO_WINDOW without -w, else the start of a window of -w.
 */
static bool
is_window_start(int64_t s)
{
	if (opt.window_ms == NO_WINDOW)
		return s == NO_WINDOW;
	return s >= -opt.window_ms && s <= MAX_TIME_MS &&
	    ecs_window_floor(&run.ws, s, opt.window_ms) == s;
}

static struct window *
window_at(int64_t start, bool add)
{
	size_t i;

	for (i = 0; i < run.nw && run.w[i].start < start; i++)
		;
	if (i < run.nw && run.w[i].start == start)
		return &run.w[i];
	if (!add)
		return NULL;
	if (run.nw == run.wcap) {
		run.wcap = run.wcap ? run.wcap * 2 : 4;
		run.w = ecs_xrealloc(run.w, run.wcap * sizeof(*run.w));
	}
	memmove(&run.w[i + 1], &run.w[i], (run.nw - i) * sizeof(*run.w));
	run.nw++;
	run.w[i].start = start;
	run.w[i].end = start == NO_WINDOW ? INT64_MAX :
	    ecs_window_end(&run.ws, start, opt.window_ms);
	run.w[i].groups = ecs_map_create(sizeof(struct group), group_free);
	run.w[i].live = NULL;
	return &run.w[i];
}

static void
put_window(const struct window *w)
{
	if (w->start == NO_WINDOW)
		return;
	ecs_buf_puts(&run.out, "\"window_start\":");
	ecs_window_label(&run.out, w->start);
	ecs_buf_puts(&run.out, ",\"window_end\":");
	ecs_window_label(&run.out, w->end);
	ecs_buf_putc(&run.out, ',');
}

/* The group's line, with its chain's step times, in b. */
static void
key_line(struct ecs_buf *b, const struct window *w, struct group *g,
    const char *frag, size_t len, unsigned level, bool final)
{
	const int64_t *c = chain_of(g, level);
	unsigned i;

	ecs_buf_reset(b);
	ecs_buf_putc(b, '{');
	if (w->start != NO_WINDOW) {
		ecs_buf_puts(b, "\"window_start\":");
		ecs_window_label(b, w->start);
		ecs_buf_puts(b, ",\"window_end\":");
		ecs_window_label(b, w->end);
		ecs_buf_putc(b, ',');
	}
	ecs_buf_add(b, frag, len);
	ecs_buf_puts(b, ",\"level\":");
	ecs_buf_uint(b, level);
	if (b == &run.drop) {
		ecs_buf_puts(b, ",\"last_step\":");
		ecs_buf_json_string(b, opt.steps[level - 1].name,
		    strlen(opt.steps[level - 1].name));
	}
	ecs_buf_puts(b, ",\"times\":[");
	for (i = 0; i < level; i++) {
		if (i > 0)
			ecs_buf_putc(b, ',');
		ecs_buf_time(b, c[i]);
	}
	ecs_buf_putc(b, ']');
	if (opt.emit_update && b != &run.drop)
		ecs_buf_puts(b, final ? ",\"final\":true" : ",\"final\":false");
	ecs_buf_puts(b, "}\n");
}

/*
 * --dropouts: a key whose attempts all timed out before the last step
 * (Flink's timed-out partial match), with the furthest step reached.
 */
static void
write_dropout(const struct window *w, struct group *g, const char *frag,
    size_t len)
{
	unsigned level = group_level(g);

	if (level == 0 || level == opt.nsteps)
		return;
	key_line(&run.drop, w, g, frag, len, level, true);
	ecs_write_all(run.dropouts_fd, run.drop.p, run.drop.len,
	    opt.dropouts_path);
}

/* --per-key: the group's level and the times of its chain's steps. */
static void
write_key(const struct window *w, struct group *g, const char *frag,
    size_t len)
{
	unsigned level = group_level(g);

	if (level == 0)
		return;
	key_line(&run.out, w, g, frag, len, level, true);
	ecs_buf_out(&run.out);
}

static void
row_free(void *v)
{
	struct row *r = v;
	size_t i;

	for (i = 0; i < opt.nsteps; i++) {
		ecs_agg_free(&run.q50, &r->median[i]);
		ecs_agg_free(&run.q90, &r->p90[i]);
	}
}

/* Adds the group's level and step times to its breakdown's row. */
static void
count_key(struct ecs_map *rows, struct group *g, const char *frag)
{
	unsigned level = group_level(g), i;
	struct ecs_agg_value v = { .has = true };
	const int64_t *c;
	struct row *r;
	bool created;

	if (level == 0)
		return;
	r = ecs_map_put(rows, frag, g->by_len, &created);
	if (created)
		for (i = 0; i < opt.nsteps; i++) {
			ecs_agg_init(&run.q50, &r->median[i]);
			ecs_agg_init(&run.q90, &r->p90[i]);
		}
	c = chain_of(g, level);
	for (i = 0; i < level; i++) {
		r->entered[i]++;
		if (i == 0)
			continue;
		/* Seconds, exactly: milliseconds at scale 3, zeros trimmed. */
		v.dec = (struct ecs_dec){ .m = c[i] - c[i - 1], .scale = 3,
		    .exact = true, .d = (double)(c[i] - c[i - 1]) / 1000 };
		while (v.dec.scale > 0 && v.dec.m % 10 == 0) {
			v.dec.m /= 10;
			v.dec.scale--;
		}
		ecs_agg_add(&run.q50, &r->median[i], &v);
		ecs_agg_add(&run.q90, &r->p90[i], &v);
	}
}

static void
put_ratio(const char *name, uint64_t num, uint64_t den)
{
	struct ecs_dec n;
	char text[64];

	ecs_buf_puts(&run.out, name);
	if (den == 0) {
		ecs_buf_puts(&run.out, "null");
		return;
	}
	/* Exactly, rounded half away from zero: 1/32 is 0.0313. */
	ecs_dec_from_int(&n, (int64_t)num);
	ecs_buf_add(&run.out, text,
	    ecs_dec_format_ratio(&n, den, 4, text, sizeof(text)));
}

static void
put_quantile(const char *name, const struct ecs_metric *m, struct ecs_agg *a)
{
	ecs_buf_puts(&run.out, name);
	ecs_agg_write(m, a, &run.out);
	if (!ecs_agg_is_exact(m, a)) {
		ecs_buf_puts(&run.out, name[1] == 'm' ? ",\"median_bound\":" :
		    ",\"p90_bound\":");
		ecs_agg_write_bound(m, a, &run.out);
	}
}

/*
 * The rows of a breakdown (frag[0..len)): keys entered[] per step, and
 * with r the times to convert; without it (an update) no times.
 */
static void
write_step_rows(const struct window *w, const char *frag, size_t len,
    const uint64_t *entered, struct row *r)
{
	size_t i;

	for (i = 0; i < opt.nsteps; i++) {
		ecs_buf_reset(&run.out);
		ecs_buf_putc(&run.out, '{');
		put_window(w);
		if (len > 0) {
			ecs_buf_add(&run.out, frag, len);
			ecs_buf_putc(&run.out, ',');
		}
		ecs_buf_puts(&run.out, "\"step\":");
		ecs_buf_uint(&run.out, i + 1);
		ecs_buf_puts(&run.out, ",\"name\":");
		ecs_buf_json_string(&run.out, opt.steps[i].name,
		    strlen(opt.steps[i].name));
		ecs_buf_puts(&run.out, ",\"keys\":");
		ecs_buf_uint(&run.out, entered[i]);
		put_ratio(",\"conversion\":", entered[i],
		    i == 0 ? entered[0] : entered[i - 1]);
		put_ratio(",\"overall\":", entered[i], entered[0]);
		ecs_buf_puts(&run.out, ",\"dropped\":");
		ecs_buf_uint(&run.out, i + 1 < opt.nsteps ?
		    entered[i] - entered[i + 1] : 0);
		/* Step 1 has no time to convert: null, as none. */
		if (r != NULL && i > 0 && entered[i] > 0) {
			put_quantile(",\"median_s\":", &run.q50,
			    &r->median[i]);
			put_quantile(",\"p90_s\":", &run.q90, &r->p90[i]);
		} else if (r != NULL)
			ecs_buf_puts(&run.out,
			    ",\"median_s\":null,\"p90_s\":null");
		if (opt.emit_update)
			ecs_buf_puts(&run.out, r != NULL ? ",\"final\":true" :
			    ",\"final\":false");
		ecs_buf_puts(&run.out, "}\n");
		ecs_buf_out(&run.out);
	}
}

/* A window's rows: one per breakdown and step. */
static void
write_rows(const struct window *w, struct ecs_map *rows)
{
	const char *frag;
	struct row *r;
	size_t iter = 0, len;

	while ((r = ecs_map_next(rows, &iter, &frag, &len)) != NULL)
		write_step_rows(w, frag, len, r->entered, r);
}

/*
 * --partial: a window's rows as states to --merge, one line per
 * breakdown: {"partial":true,"funnel":SIGNATURE,"w":START,"e":END,
 * "g":BREAKDOWN,"keys":[...],"median":[...],"p90":[...]}, the keys that
 * reached each step and the states of the quantiles of the times. A key's
 * events must all go to one process (partition by key): keys add up.
 */
static void
write_partials(const struct window *w, struct ecs_map *rows)
{
	struct json_object *rec, *keys, *q50, *q90;
	const char *frag;
	struct row *r;
	size_t iter = 0, len, i;

	while ((r = ecs_map_next(rows, &iter, &frag, &len)) != NULL) {
		rec = json_object_new_object();
		json_object_object_add(rec, "partial",
		    json_object_new_boolean(1));
		json_object_object_add(rec, "funnel",
		    json_object_new_string(run.signature));
		json_object_object_add(rec, "w", json_object_new_int64(w->start));
		json_object_object_add(rec, "e", json_object_new_int64(w->end));
		json_object_object_add(rec, "g",
		    json_object_new_string_len(frag, (int)len));
		keys = json_object_new_array();
		q50 = json_object_new_array();
		q90 = json_object_new_array();
		for (i = 0; i < opt.nsteps; i++) {
			json_object_array_add(keys,
			    json_object_new_int64((int64_t)r->entered[i]));
			json_object_array_add(q50,
			    ecs_agg_to_json(&run.q50, &r->median[i]));
			json_object_array_add(q90,
			    ecs_agg_to_json(&run.q90, &r->p90[i]));
		}
		json_object_object_add(rec, "keys", keys);
		json_object_object_add(rec, "median", q50);
		json_object_object_add(rec, "p90", q90);
		ecs_out_json(rec);
		ecs_out_putc('\n');
		json_object_put(rec);
	}
}

/* --merge: the row of breakdown frag in window (start, end), made if new. */
static struct row *
merged_row(int64_t start, int64_t end, const char *frag, size_t len)
{
	struct window *w = window_at(start, true);
	struct row *r;
	bool created;
	size_t i;

	w->end = end;
	if (w->live == NULL)		/* the window's rows, as they merge */
		w->live = ecs_map_create(sizeof(struct row), row_free);
	r = ecs_map_put(w->live, frag, len, &created);
	if (created)
		for (i = 0; i < opt.nsteps; i++) {
			ecs_agg_init(&run.q50, &r->median[i]);
			ecs_agg_init(&run.q90, &r->p90[i]);
		}
	return r;
}

/* Merges the state of one aggregate (j, a partial's) into into. */
static const char *
merge_agg(const struct ecs_metric *m, struct ecs_agg *into,
    struct json_object *j)
{
	struct ecs_agg add;
	const char *why;

	if ((why = ecs_agg_from_json(m, j, &add)) == NULL)
		why = ecs_agg_merge(m, into, &add);
	ecs_agg_free(m, &add);
	return why;
}

/*
 * --merge: adds the current line, a partial of --partial with the same
 * options, to its window's row. A line that is not one is bad; partials
 * of another funnel end the program.
 */
static void
merge_line(struct ecs_reader *rd)
{
	struct json_object *rec, *v, *w, *e, *g, *keys, *q50, *q90;
	const char *why = NULL;
	struct row *r;
	size_t i;

	if ((rec = ecs_reader_parse(rd)) == NULL)
		return;
	if (!json_object_object_get_ex(rec, "partial", &v) ||
	    !json_object_object_get_ex(rec, "w", &w) ||
	    !json_object_object_get_ex(rec, "e", &e) ||
	    !json_object_object_get_ex(rec, "g", &g) ||
	    !json_object_object_get_ex(rec, "keys", &keys) ||
	    !json_object_object_get_ex(rec, "median", &q50) ||
	    !json_object_object_get_ex(rec, "p90", &q90) ||
	    !json_object_is_type(w, json_type_int) ||
	    !json_object_is_type(e, json_type_int) ||
	    !json_object_is_type(g, json_type_string) ||
	    !json_object_is_type(keys, json_type_array) ||
	    !json_object_is_type(q50, json_type_array) ||
	    !json_object_is_type(q90, json_type_array))
		why = "not a line of ecs-funnel --partial";
	else if (!json_object_object_get_ex(rec, "funnel", &v) ||
	    strcmp(json_object_get_string(v), run.signature) != 0) {
		ecs_out_flush();
		warnx("%s:%llu: partials of another funnel: '%s', not '%s' (the "
		    "options must be those of --partial)", rd->name, rd->lineno,
		    json_object_get_string(v), run.signature);
		/* Only a register held it: LeakSanitizer saw a leak (clang). */
		json_object_put(rec);
		exit(ECS_EXIT_DATA);
	} else if (json_object_array_length(keys) != opt.nsteps ||
	    json_object_array_length(q50) != opt.nsteps ||
	    json_object_array_length(q90) != opt.nsteps)
		why = "not a line of ecs-funnel --partial (steps)";
	else if (!is_window_start(json_object_get_int64(w)) ||
	    json_object_get_int64(e) != (json_object_get_int64(w) == NO_WINDOW ?
	    INT64_MAX : ecs_window_end(&run.ws, json_object_get_int64(w),
	    opt.window_ms)))
		why = "not a line of ecs-funnel --partial (window)";
	/* Keys that reached a step reached the one before: no fewer. */
	for (i = 0; why == NULL && i < opt.nsteps; i++)
		if (!json_object_is_type(json_object_array_get_idx(keys, i),
		    json_type_int) ||
		    json_object_get_int64(json_object_array_get_idx(keys, i)) < 0 ||
		    (i > 0 && json_object_get_int64(json_object_array_get_idx(
		    keys, i)) > json_object_get_int64(
		    json_object_array_get_idx(keys, i - 1))))
			why = "not a line of ecs-funnel --partial (keys)";
	if (why != NULL) {
		ecs_reader_bad(rd, "%s", why);
		json_object_put(rec);
		return;
	}
	r = merged_row(json_object_get_int64(w), json_object_get_int64(e),
	    json_object_get_string(g), (size_t)json_object_get_string_len(g));
	for (i = 0; i < opt.nsteps && why == NULL; i++) {
		r->entered[i] += (uint64_t)json_object_get_int64(
		    json_object_array_get_idx(keys, i));
		if ((why = merge_agg(&run.q50, &r->median[i],
		    json_object_array_get_idx(q50, i))) == NULL)
			why = merge_agg(&run.q90, &r->p90[i],
			    json_object_array_get_idx(q90, i));
	}
	if (why != NULL)	/* what was merged of the line stays: say so */
		ecs_reader_bad(rd, "step %zu: %s", i, why);
	json_object_put(rec);
}

/* --merge, at the end: the merged rows of every window, by start. */
static void
write_merged(void)
{
	size_t i;

	for (i = 0; i < run.nw; i++)
		if (run.w[i].live != NULL)
			write_rows(&run.w[i], run.w[i].live);
}

/* A copy of g's chains to feed ahead; its pending events are g's. */
static void
clone_group(struct group *c, const struct group *g)
{
	size_t k, n;

	*c = *g;
	c->lv = ecs_xcalloc(opt.nsteps, sizeof(*c->lv));
	for (k = 0; k < opt.nsteps; k++) {
		if ((n = (size_t)g->lv[k].n * stride(k)) == 0)
			continue;
		c->lv[k].e = ecs_xmalloc(n * sizeof(*c->lv[k].e));
		memcpy(c->lv[k].e, g->lv[k].e, n * sizeof(*c->lv[k].e));
		c->lv[k].n = c->lv[k].cap = g->lv[k].n;
	}
	if (g->best_times != NULL) {
		c->best_times = ecs_xmalloc(opt.nsteps * sizeof(int64_t));
		memcpy(c->best_times, g->best_times,
		    opt.nsteps * sizeof(int64_t));
	}
}

static void
clone_free(struct group *c)
{
	c->pend = NULL;			/* the original's */
	group_free(c);
}

/* --emit update: the keys per step of w's breakdown frag[0..len). */
static uint64_t *
live_entered(struct window *w, const char *frag, size_t len)
{
	bool created;

	if (w->live == NULL)
		w->live = ecs_map_create(MAX_STEPS * sizeof(uint64_t), NULL);
	return ecs_map_put(w->live, frag, len, &created);
}

/* A group loaded from the state counts in the rows as they were shown. */
static void
live_add(struct window *w, const char *frag, const struct group *g)
{
	uint64_t *entered = live_entered(w, frag, g->by_len);
	unsigned i;

	for (i = 0; i < g->shown; i++)
		entered[i]++;
}

/*
 * --emit update: after an event, the group's level as it stands, its
 * pending events fed ahead on a copy (an event of the same time that
 * comes later may still lower it under the strict modes: the final line
 * says). When it changed, the key's line, or its breakdown's rows with
 * the keys per step (the times come with the final rows), marked
 * "final":false.
 */
static void
update(struct window *w, struct group *g, const char *frag, size_t len)
{
	struct group c;
	uint64_t *entered;
	unsigned level, i;

	clone_group(&c, g);
	level = group_level(&c);
	if (level != g->shown) {
		if (opt.per_key && level > 0) {
			key_line(&run.out, w, &c, frag, len, level, false);
			ecs_buf_out(&run.out);
		} else if (!opt.per_key) {
			entered = live_entered(w, frag, g->by_len);
			for (i = 0; i < opt.nsteps; i++)
				entered[i] += (i < level) - (i < g->shown);
			write_step_rows(w, frag, g->by_len, entered, NULL);
		}
		g->shown = (uint8_t)level;
	}
	clone_free(&c);
}

/* --same: the group of the key's best level so far in best, by key. */
static void
keep_best(struct ecs_map *best, struct group *g, const char *frag)
{
	struct group **slot;
	bool created;

	slot = ecs_map_put(best, frag, g->key_len, &created);
	if (created || group_level(g) > group_level(*slot))
		*slot = g;
}

/* Writes the window's lines and frees it. */
static void
close_window(struct window *w)
{
	struct ecs_map *rows = NULL, *best = NULL;
	struct group *g, **gp;
	const char *frag;
	size_t iter = 0, len;

	if (!opt.per_key)
		rows = ecs_map_create(sizeof(struct row), row_free);
	if (!opt.per_key && opt.same != NULL)
		best = ecs_map_create(sizeof(struct group *), NULL);
	while ((g = ecs_map_next(w->groups, &iter, &frag, &len)) != NULL) {
		if (opt.per_key)
			write_key(w, g, frag, len);
		else if (best != NULL)
			keep_best(best, g, frag);
		else
			count_key(rows, g, frag);
		if (run.dropouts_fd != -1)
			write_dropout(w, g, frag, len);
	}
	/* --same: a key counts once, at its best level over the values. */
	for (iter = 0; best != NULL &&
	    (gp = ecs_map_next(best, &iter, &frag, &len)) != NULL;)
		count_key(rows, *gp, frag);
	ecs_map_destroy(best);
	if (rows != NULL && opt.partial)
		write_partials(w, rows);
	else if (rows != NULL)
		write_rows(w, rows);
	ecs_map_destroy(rows);
	ecs_map_destroy(w->groups);
	ecs_map_destroy(w->live);
}

/*
 * Writes the windows whose attempts are over by the watermark wm: those
 * that ended --within before it. An event before the latest such end
 * would have been theirs: it is late.
 */
static void
close_windows(int64_t wm)
{
	size_t n = 0;

	while (n < run.nw && (wm == INT64_MAX ||
	    run.w[n].end <= wm - opt.within_ms)) {
		close_window(&run.w[n]);
		ckpt.dirty = true;
		if (run.w[n].end != INT64_MAX &&
		    run.w[n].end + opt.within_ms > run.closed_upto)
			run.closed_upto = run.w[n].end + opt.within_ms;
		n++;
	}
	if (n == 0)
		return;
	memmove(run.w, run.w + n, (run.nw - n) * sizeof(*run.w));
	run.nw -= n;
}

/* Events */

static void	 advance(int64_t);

/*
 * The group's map key in run.frag: "by":v,...,"key":v; its breakdown
 * part is the first run.by_len bytes.
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
		ecs_buf_json_string(b, opt.by[i].path->text,
		    strlen(opt.by[i].path->text));
		ecs_buf_putc(b, ':');
		if (opt.by[i].expr != NULL)
			ecs_expr_eval_field(opt.by[i].expr, f, num, &v);
		ecs_buf_field(b, opt.by[i].expr != NULL ? &v : &f[run.by_slot[i]]);
		ecs_buf_putc(b, ',');
	}
	run.by_len = b->len > 0 ? b->len - 1 : 0;
	ecs_buf_json_string(b, run.fields.path[run.key_slot]->text,
	    strlen(run.fields.path[run.key_slot]->text));
	ecs_buf_putc(b, ':');
	ecs_buf_field(b, &f[run.key_slot]);
	run.key_len = b->len;
	if (opt.same != NULL) {
		ecs_buf_putc(b, ',');
		ecs_buf_json_string(b, run.fields.path[run.same_slot]->text,
		    strlen(run.fields.path[run.same_slot]->text));
		ecs_buf_putc(b, ':');
		ecs_buf_field(b, &f[run.same_slot]);
	}
}

static uint64_t
steps_of(const struct ecs_field *f)
{
	uint64_t mask = 0;
	size_t i;

	for (i = 0; i < opt.nsteps; i++)
		if (ecs_expr_match_fields(opt.steps[i].expr, f))
			mask |= UINT64_C(1) << i;
	return mask;
}

/* Adds the event (mask, id at t) to its group in w, made when add. */
static void
to_group(struct window *w, uint64_t mask, int64_t t, uint64_t id, bool add)
{
	struct group *g;
	bool created = false;

	if (add)
		g = ecs_map_put(w->groups, run.frag.p, run.frag.len, &created);
	else if ((g = ecs_map_get(w->groups, run.frag.p, run.frag.len)) == NULL)
		return;
	if (created) {
		g->lv = ecs_xcalloc(opt.nsteps, sizeof(*g->lv));
		g->by_len = (uint32_t)run.by_len;
		g->key_len = (uint32_t)run.key_len;
		g->cur = t;
	} else if (t > g->cur) {
		flush_pending(g);
		g->cur = t;
	}
	if (!g->done || (mask & EXCLUDED))
		pend(g, mask, id);
	if (opt.emit_update)
		update(w, g, run.frag.p, run.frag.len);
	ckpt.dirty = true;
}

/*
 * The windows whose attempts the event at t, of the steps in mask, may
 * touch, latest first: a window holds the attempts whose step 1 is in it,
 * and the events of their --within after it; a step 1 after a window is
 * not seen there (it starts an attempt of its own window). Starts with
 * *s = INT64_MAX; false after the last.
 */
static bool
next_window(int64_t t, uint64_t mask, int64_t *s, struct window **w,
    bool *add)
{
	int64_t e;

	if (opt.window_ms == NO_WINDOW) {
		if (*s != INT64_MAX)
			return false;
		*s = NO_WINDOW;
		/* A group is made by an event of a step, not by others. */
		*add = (mask & ~EXCLUDED) != 0;
		*w = window_at(NO_WINDOW, *add);
		return true;
	}
	for (;;) {
		*s = ecs_window_floor(&run.ws, *s == INT64_MAX ? t : *s - 1,
		    opt.window_ms);
		e = ecs_window_end(&run.ws, *s, opt.window_ms);
		if (e <= t - opt.within_ms)
			return false;
		*add = t < e && (mask & ~EXCLUDED) != 0;
		if ((t < e || !(mask & 1)) &&
		    (*w = window_at(*s, *add)) != NULL)
			return true;
	}
}

/*
 * The event, in each window it touches; refused (false, reported) when it
 * is before the previous event of its key in one of them.
 */
static bool
to_windows(struct ecs_reader *rd, uint64_t mask, int64_t t)
{
	uint64_t id = ++run.nrecords;
	struct window *w;
	struct group *g;
	int64_t s = INT64_MAX;
	bool add;

	while (next_window(t, mask, &s, &w, &add))
		if (w != NULL && (g = ecs_map_get(w->groups, run.frag.p,
		    run.frag.len)) != NULL && t < g->cur) {
			run.nunordered++;
			ecs_reader_bad(rd, "%s is before the previous event of "
			    "its key (ecs-funnel needs each key's events in "
			    "time order)", run.fields.path[run.ts_slot]->text);
			return false;
		}
	s = INT64_MAX;
	while (next_window(t, mask, &s, &w, &add))
		if (w != NULL)
			to_group(w, mask, t, id, add);
	return true;
}

static void
process(struct ecs_reader *rd, const struct ecs_field *f)
{
	const struct ecs_field *key = &f[run.key_slot];
	const char *why;
	uint64_t mask;
	int64_t t;
	char shown[ECS_SHOWN_SIZE];
	bool untimed;

	if (!ecs_event_time(&run.clock, &f[run.ts_slot], &t, &untimed)) {
		ecs_reader_bad(rd, "field '%s' is not a time%s",
		    run.fields.path[run.ts_slot]->text,
		    ecs_field_shown(&f[run.ts_slot], shown));
		return;
	}
	if (t < 0) {
		ecs_reader_bad(rd, "field '%s' is before 1970 (windowFunnel's "
		    "times are unsigned)", run.fields.path[run.ts_slot]->text);
		return;
	}
	(void)ecs_expr_take_error();
	mask = steps_of(f);
	if (opt.exclude != NULL && ecs_expr_match_fields(opt.exclude, f))
		mask |= EXCLUDED;
	/* A step that could not be decided: the line is bad, not "no step". */
	if ((why = ecs_expr_take_error()) != NULL) {
		ecs_reader_bad(rd, "%s", why);
		return;
	}
	/*
	 * An event of no step matters only under strict_order, and only to
	 * its key: without one it is no one's (a stock snapshot).
	 */
	if (mask != 0 && key->type != ECS_F_NUMBER &&
	    key->type != ECS_F_STRING) {
		ecs_reader_bad(rd, "field '%s' is %s%s",
		    run.fields.path[run.key_slot]->text,
		    key->type == ECS_F_MISSING ? "missing" :
		    "not a number or string", ecs_field_shown(key, shown));
		return;
	}
	if (mask != 0 || ((opt.modes & M_STRICT_ORDER) &&
	    (key->type == ECS_F_NUMBER || key->type == ECS_F_STRING))) {
		if (t < run.closed_upto) {
			run.nlate++;
			ecs_reader_bad(rd, "late: a window its %s falls in was "
			    "written", run.fields.path[run.ts_slot]->text);
			return;
		}
		group_key(f);
		if ((why = ecs_expr_take_error()) != NULL) {	/* a -b key */
			ecs_reader_bad(rd, "%s", why);
			return;
		}
		if (!to_windows(rd, mask, t))
			return;
	}
	ecs_event_clock_take(&run.clock, t, untimed);
	if (!untimed)
		advance(t);
}

/* The latest event time is t (or later): windows whose attempts are over. */
static void
advance(int64_t t)
{
	if (t > run.clock.latest)
		run.clock.latest = t;
	if (opt.window_ms != NO_WINDOW && run.clock.latest != INT64_MIN)
		close_windows(run.clock.latest - opt.lateness_ms);
}

/* State */

/* What the shape of the state depends on; owned by the caller. */
static char *
options_signature(void)
{
	struct ecs_buf b = ECS_BUF_INIT;
	size_t i;

	for (i = 0; i < opt.nsteps; i++) {
		ecs_buf_puts(&b, "-s ");
		ecs_buf_puts(&b, opt.steps[i].spec);
		ecs_buf_putc(&b, ' ');
	}
	ecs_buf_puts(&b, "within=");
	ecs_buf_int(&b, opt.within_ms);
	ecs_buf_puts(&b, " modes=");
	ecs_buf_uint(&b, opt.modes);
	ecs_buf_puts(&b, " key=");
	ecs_buf_puts(&b, opt.key);
	for (i = 0; i < opt.nby; i++) {
		ecs_buf_puts(&b, i == 0 ? " by=" : ",");
		ecs_buf_puts(&b, opt.by[i].spec);
	}
	ecs_buf_puts(&b, " same=");
	ecs_buf_puts(&b, opt.same != NULL ? opt.same : "");
	ecs_buf_puts(&b, " exclude=");
	ecs_buf_puts(&b, opt.exclude_src != NULL ? opt.exclude_src : "");
	ecs_buf_puts(&b, " window=");
	ecs_buf_int(&b, opt.window_ms);
	ecs_buf_puts(&b, opt.window_months > 0 ? "mo" : "ms");
	return b.p;
}

static struct json_object *
ints_to_json(const int64_t *v, size_t n)
{
	struct json_object *a = json_object_new_array_ext((int)n);
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_int64(v[i]));
	return a;
}

/* {"w":START,"g":KEY,"cur":T,"pend":[M,ID,...],"lv":[[...],...],...} */
static void
save_group(const struct window *w, const struct group *g, const char *frag,
    size_t len)
{
	struct json_object *rec = json_object_new_object(), *lv, *p;
	size_t k;
	uint32_t i;

	json_object_object_add(rec, "w", json_object_new_int64(w->start));
	json_object_object_add(rec, "g",
	    json_object_new_string_len(frag, (int)len));
	json_object_object_add(rec, "by_len",
	    json_object_new_int64(g->by_len));
	json_object_object_add(rec, "key_len",
	    json_object_new_int64(g->key_len));
	json_object_object_add(rec, "cur", json_object_new_int64(g->cur));
	p = json_object_new_array();
	for (i = 0; i < g->npend; i++) {
		json_object_array_add(p,
		    json_object_new_int64((int64_t)g->pend[i].mask));
		json_object_array_add(p,
		    json_object_new_int64((int64_t)g->pend[i].id));
	}
	json_object_object_add(rec, "pend", p);
	lv = json_object_new_array();
	for (k = 0; k < opt.nsteps; k++)
		json_object_array_add(lv, ints_to_json(g->lv[k].e,
		    g->lv[k].n * stride(k)));
	json_object_object_add(rec, "lv", lv);
	json_object_object_add(rec, "first",
	    json_object_new_boolean(g->has_first));
	json_object_object_add(rec, "done", json_object_new_boolean(g->done));
	json_object_object_add(rec, "level", json_object_new_int(g->level));
	json_object_object_add(rec, "shown", json_object_new_int(g->shown));
	json_object_object_add(rec, "best", ints_to_json(g->best_times,
	    g->best));
	ecs_checkpoint_put(&ckpt, rec);
	json_object_put(rec);
}

static void
save_state(void)
{
	struct json_object *head = json_object_new_object();
	const struct group *g;
	const char *frag;
	size_t i, iter, len;

	json_object_object_add(head, "options",
	    json_object_new_string(run.signature));
	json_object_object_add(head, "max_time",
	    json_object_new_int64(run.clock.latest));
	json_object_object_add(head, "closed_upto",
	    json_object_new_int64(run.closed_upto));
	json_object_object_add(head, "records",
	    json_object_new_int64((int64_t)run.nrecords));
	if (!ecs_checkpoint_begin(&ckpt, head))
		return;
	for (i = 0; i < run.nw; i++)
		for (iter = 0; (g = ecs_map_next(run.w[i].groups, &iter, &frag,
		    &len)) != NULL;)
			save_group(&run.w[i], g, frag, len);
	ecs_checkpoint_commit(&ckpt);
}

/* An array of n integers of a state line, or corrupt. */
static struct json_object *
state_ints(const struct ecs_state_reader *sr, struct json_object *a, size_t n)
{
	size_t i;

	if (!json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) != n)
		ecs_state_corrupt(sr, "a list of the wrong length");
	for (i = 0; i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(a, i),
		    json_type_int))
			ecs_state_corrupt(sr, "a list of other than integers");
	return a;
}

/*
 * A saved window's start: none without -w, else the start of a window of
 * -w not yet written (one written would be written again); or corrupt.
 */
static int64_t
load_window_start(const struct ecs_state_reader *sr, struct json_object *rec)
{
	int64_t s = ecs_state_int(sr, rec, "w");

	if (!is_window_start(s) || (s != NO_WINDOW &&
	    run.closed_upto != INT64_MIN && ecs_window_end(&run.ws, s,
	    opt.window_ms) + opt.within_ms <= run.closed_upto))
		ecs_state_corrupt(sr, "'w' is not the start of a window open");
	return s;
}

/*
 * Whether times t[0..n) can be those of a chain's steps: in order, within
 * --within of the first, none after the group's time cur.
 */
static bool
chain_times_ok(const int64_t *t, size_t n, int64_t cur)
{
	size_t j;

	for (j = 0; j < n; j++)
		if (!is_time(t[j]) || t[j] > cur || (j > 0 && (t[j] < t[j - 1] ||
		    t[j] - t[0] > opt.within_ms)))
			return false;
	return true;
}

/*
 * A loaded group holds what a run makes, or the state is corrupt: the
 * level of a scan that returned is that of its chains (its times are
 * read), each chain's step 1 is in its window and its times are a chain's.
 */
static void
check_group(const struct ecs_state_reader *sr, const struct window *w,
    const struct group *g)
{
	const int64_t *c;
	size_t k;
	uint32_t i;

	if (!is_time(g->cur) || g->level != (g->done ? levels_held(g) : 0) ||
	    (g->best > 0 && !chain_times_ok(g->best_times, g->best, g->cur)))
		ecs_state_corrupt(sr, "impossible values");
	for (k = 0; k < opt.nsteps; k++)
		for (i = 0; i < g->lv[k].n; i++) {
			c = g->lv[k].e + (size_t)i * stride(k);
			if (c[0] < w->start || c[0] >= w->end ||
			    !chain_times_ok(c, k + 1, g->cur))
				ecs_state_corrupt(sr, "a chain of impossible "
				    "times");
		}
}

static void
load_group(const struct ecs_state_reader *sr, struct json_object *rec)
{
	struct json_object *gk, *p, *lv, *a;
	struct window *w;
	struct group *g;
	int64_t *c;
	size_t k, i, j, n;
	bool created;

	w = window_at(load_window_start(sr, rec), true);
	gk = ecs_state_field(sr, rec, "g", json_type_string);
	g = ecs_map_put(w->groups, json_object_get_string(gk),
	    (size_t)json_object_get_string_len(gk), &created);
	if (!created)
		ecs_state_corrupt(sr, "a group twice");
	g->lv = ecs_xcalloc(opt.nsteps, sizeof(*g->lv));
	g->by_len = (uint32_t)ecs_state_int(sr, rec, "by_len");
	g->key_len = (uint32_t)ecs_state_int(sr, rec, "key_len");
	g->cur = ecs_state_int(sr, rec, "cur");
	g->has_first = ecs_state_bool(sr, rec, "first");
	g->done = ecs_state_bool(sr, rec, "done");
	g->level = (uint8_t)ecs_state_int(sr, rec, "level");
	g->shown = (uint8_t)ecs_state_int(sr, rec, "shown");
	if (opt.emit_update && !opt.per_key && g->shown > 0)
		live_add(w, json_object_get_string(gk), g);
	a = ecs_state_field(sr, rec, "best", json_type_array);
	n = json_object_array_length(a);
	if (n > opt.nsteps)
		ecs_state_corrupt(sr, "impossible values");
	state_ints(sr, a, n);
	g->best = (uint8_t)n;
	if (n > 0)
		g->best_times = ecs_xcalloc(opt.nsteps,
		    sizeof(*g->best_times));
	for (i = 0; i < n; i++)
		g->best_times[i] = json_object_get_int64(
		    json_object_array_get_idx(a, i));
	p = ecs_state_field(sr, rec, "pend", json_type_array);
	n = json_object_array_length(p);
	state_ints(sr, p, n);
	for (i = 0; i + 1 < n; i += 2)
		pend(g, (uint64_t)json_object_get_int64(
		    json_object_array_get_idx(p, i)), (uint64_t)
		    json_object_get_int64(json_object_array_get_idx(p, i + 1)));
	lv = ecs_state_field(sr, rec, "lv", json_type_array);
	if (json_object_array_length(lv) != opt.nsteps || n % 2 != 0 ||
	    g->by_len > g->key_len ||
	    g->key_len > (uint32_t)json_object_get_string_len(gk) ||
	    g->level > opt.nsteps || g->shown > opt.nsteps)
		ecs_state_corrupt(sr, "impossible values");
	for (k = 0; k < opt.nsteps; k++) {
		a = json_object_array_get_idx(lv, k);
		if (!json_object_is_type(a, json_type_array) ||
		    json_object_array_length(a) % stride(k) != 0)
			ecs_state_corrupt(sr, "a level of the wrong length");
		n = json_object_array_length(a);
		state_ints(sr, a, n);
		for (i = 0; i < n; i += stride(k)) {
			c = level_add(&g->lv[k], k, INT64_MIN);
			for (j = 0; j < stride(k); j++)
				c[j] = json_object_get_int64(
				    json_object_array_get_idx(a, i + j));
		}
	}
	check_group(sr, w, g);
}

static void
load_state(void)
{
	struct ecs_state_reader sr;
	struct json_object *head, *rec, *v;

	if (!ecs_checkpoint_open(&ckpt, &sr, &head))
		return;
	if (!json_object_object_get_ex(head, "options", &v) ||
	    strcmp(json_object_get_string(v), run.signature) != 0)
		ecs_state_corrupt(&sr, "saved by a run with other options "
		    "(steps, --within, modes, key, breakdown and windows must "
		    "stay the same)");
	run.clock.latest = ecs_state_int(&sr, head, "max_time");
	run.closed_upto = ecs_state_int(&sr, head, "closed_upto");
	if ((run.clock.latest != INT64_MIN && !is_time(run.clock.latest)) ||
	    (run.closed_upto != INT64_MIN && !is_time(run.closed_upto)))
		ecs_state_corrupt(&sr, "'max_time' or 'closed_upto' is not a "
		    "time");
	run.nrecords = (uint64_t)ecs_state_int(&sr, head, "records");
	while ((rec = ecs_state_next(&sr)) != NULL) {
		load_group(&sr, rec);
	}
	ecs_state_close(&sr);
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
	ecs_checkpoint_maybe(arg);
}

/* Setup */

/* The slot of field name (option opt's), whose path is kept in *path. */
static size_t
add_field(const char *opt_name, const char *name, struct ecs_path **path)
{
	const char *why;

	if ((*path = ecs_path_compile(name, &why)) == NULL)
		errx(ECS_EXIT_USAGE, "%s '%s': %s", opt_name, name, why);
	ecs_path_apply_map(*path);
	return ecs_fields_add(&run.fields, *path);
}

static void
setup(void)
{
	size_t i;

	ecs_fields_init(&run.fields, (const char *const[]){ "ts" }, 1);
	run.ts_slot = 0;
	/* The key and --same are canonical names too: --map applies. */
	run.key_slot = add_field("-k", opt.key, &run.key_path);
	if (opt.same != NULL)
		run.same_slot = add_field("--same", opt.same, &run.same_path);
	run.by_slot = ecs_xcalloc(opt.nby + 1, sizeof(*run.by_slot));
	for (i = 0; i < opt.nby; i++) {
		if (opt.by[i].expr != NULL) {
			ecs_expr_bind(opt.by[i].expr, &run.fields);
			continue;
		}
		ecs_path_apply_map(opt.by[i].path);
		run.by_slot[i] = ecs_fields_add(&run.fields, opt.by[i].path);
	}
	for (i = 0; i < opt.nsteps; i++)
		ecs_expr_bind(opt.steps[i].expr, &run.fields);
	if (opt.exclude != NULL)
		ecs_expr_bind(opt.exclude, &run.fields);
	ecs_metric_parse(&run.q50, "--internal", "median_s=quantile(t,0.5)");
	ecs_metric_parse(&run.q90, "--internal", "p90_s=quantile(t,0.9)");
	run.ws.size_ms = opt.window_ms;
	run.ws.months = opt.window_months;
	run.signature = options_signature();
	if (opt.dropouts_path != NULL && (run.dropouts_fd = open(
	    opt.dropouts_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0666)) == -1)
		err(ECS_EXIT_DATA, "%s", opt.dropouts_path);
}

static void
free_all(void)
{
	size_t i;

	for (i = 0; i < run.nw; i++) {
		ecs_map_destroy(run.w[i].groups);
		ecs_map_destroy(run.w[i].live);
	}
	free(run.w);
	for (i = 0; i < opt.nsteps; i++) {
		free(opt.steps[i].name);
		ecs_expr_free(opt.steps[i].expr);
	}
	ecs_keys_free(opt.by, opt.nby);
	ecs_expr_free(opt.exclude);
	free(run.by_slot);
	ecs_metric_finish(&run.q50);
	ecs_metric_finish(&run.q90);
	ecs_fields_finish(&run.fields);
	ecs_path_free(run.key_path);
	ecs_path_free(run.same_path);
	ecs_buf_free(&run.frag);
	ecs_buf_free(&run.out);
	ecs_buf_free(&run.drop);
	free(run.signature);
}

/* For --stats and SIGUSR1: windows open, late events. */
static void
count(struct ecs_counters *c)
{
	c->open = run.nw;
	c->late = run.nlate;
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
	if (run.dropouts_fd != -1)
		ecs_reader_check_output(&rd, run.dropouts_fd, "--dropouts");
	if (opt.idle_ms > 0) {
		rd.idle_ms = (int)opt.idle_ms;
		rd.on_idle = on_idle;
		rd.on_idle_arg = &ckpt;
	}
	ecs_checkpoint_init(&ckpt, &rd);
	while (ecs_reader_line(&rd)) {
		if (opt.merge)
			merge_line(&rd);
		else if (ecs_fields_read(&run.fields, &rd, f))
			process(&rd, f);
		ecs_checkpoint_tick(&ckpt);
	}
	if (opt.merge)
		write_merged();
	/*
	 * Without --state the stream is over: every window is written. With
	 * it, they stay open in the state for the next run.
	 */
	if (ckpt.path == NULL)
		close_windows(INT64_MAX);
	if (run.nlate > 0 && !ecs_config.quiet)
		warnx("%llu late event%s (a window they fall in was written)",
		    run.nlate, run.nlate == 1 ? "" : "s");
	ecs_event_clock_summary(&run.clock);
	status = ecs_checkpoint_finish(&ckpt, &rd);
	status |= ecs_out_close();
	if (run.dropouts_fd != -1 && close(run.dropouts_fd) == -1) {
		warn("%s", opt.dropouts_path);
		status = ECS_EXIT_DATA;
	}
	free(f);
	free_all();
	return status;
}
