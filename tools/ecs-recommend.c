/* SPDX-License-Identifier: ISC */
/*
 * ecs-recommend -- recommend products to each user as their events arrive,
 * learned continuously from everyone's behaviour in one pass with bounded
 * memory: sequential rules (what is looked at next), co-occurrence within
 * sessions (what goes together), the session's own items placed among
 * them by hit rates learned from its own lists, and time-decayed
 * popularity for a cold start; session neighbours (V-STAN)
 * as a model of their own. Purchased, carted, out-of-stock and blocked
 * products are left out, and every recommendation says why.
 * --evaluate measures it prequentially: recommend, then learn.
 */
#include <err.h>
#include <float.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "ecs.h"
#include "ecs_buf.h"
#include "ecs_sketch.h"
#include "ecs_vstan.h"

/* 2: one set of carted or bought items; 3: the session neighbour index */
#define STATE_VERSION	4
#define HIST		12		/* session items kept per user */
/*
 * The carted or bought items of the users kept, in all, at most this many
 * times --max-users: past it the least recently active users are evicted.
 * One user alone is never cut short, so exclusions never depend on a
 * per-user table size.
 */
#define TAKEN_PER_USER	32
#define MAX_K		100
#define CAND_MAX	2048		/* candidates per recommendation */

enum {
	OPT_ALGO = ECS_OPT_TOOL,
	OPT_CATALOG,
	OPT_CHECKPOINT,
	OPT_EMIT,
	OPT_EVAL_FROM,
	OPT_EVALUATE,
	OPT_EXCLUDE_REPEATS,
	OPT_AS_SHOWN,
	OPT_FREEZE_AFTER,
	OPT_HALF_LIFE,
	OPT_MAX_ITEMS,
	OPT_MAX_USERS,
	OPT_NEIGHBORS,
	OPT_SAME_CATEGORY,
	OPT_SESSION_GAP,
	OPT_SIM,
	OPT_STATE,
	OPT_STEPS,
	OPT_WEIGHTS,
};

enum action { A_BROWSE, A_CART, A_PURCHASE, NACTIONS };
static const char *const action_names[NACTIONS] = { "browse", "add_to_cart",
    "purchase" };

enum algo { ALGO_POP, ALGO_SPOP, ALGO_SR, ALGO_VSTAN, ALGO_HYBRID, NALGOS };
static const char *const algo_names[NALGOS] = { "pop", "spop", "sr", "vstan",
    "hybrid" };

enum sim { SIM_COSINE, SIM_JACCARD, SIM_COUNT, SIM_LLR };
static const char *const sim_names[] = { "cosine", "jaccard", "count", "llr" };

enum reason { R_NEXT, R_BOUGHT_WITH, R_VIEWED_WITH, R_SESSION, R_SIMILAR,
    R_TRENDING };
static const char *const reason_names[] = { "next_in_session",
    "bought_together", "viewed_together", "viewed_in_session",
    "similar_sessions", "trending" };

/* A weighted link to another item, kept in a bounded list per item. */
struct edge {
	uint32_t	 item;
	float		 w;
};

/*
 * The links of an item, in the order that gather and the state read:
 * cap edges and, in the same allocation, a byte of hash (fingerprint)
 * per edge, so that finding a link is a memchr of n bytes, not a loop
 * over n edges (half of learning's instructions went there). Weights
 * only grow, so the weakest link stays known from one replacement to
 * the next: min is its place (the first of the weakest) and nmin how
 * many links share its weight; nmin 0 means unknown until the next scan.
 */
struct edges {
	struct edge	*e;		/* owned; grows up to --neighbors */
	uint16_t	 n, cap;
	uint16_t	 min, nmin;
};

struct item {
	double		 pop;		/* decayed action weight */
	int64_t		 pop_at;
	float		 sessions;	/* sessions it was in, for similarity */
	int32_t		 category;	/* into categories, or -1 */
	bool		 out;		/* out of stock */
	bool		 blocked;	/* --catalog */
	bool		 is_string;	/* its id is a JSON string */
	uint16_t	 trend_rank;	/* 1 + place in run.trending, or 0 */
	struct edges	 next;		/* sequential rules: item -> next */
	struct edges	 with;		/* co-occurrence in sessions */
};

struct user {
	int64_t		 last_ts;
	uint64_t	 session;	/* hash of session_id, or a counter */
	uint64_t	 vsession;	/* in run.vstan, or 0 */
	uint32_t	 hist[HIST];	/* this session's items, oldest first */
	uint8_t		 hist_action[HIST];
	uint8_t		 nhist;
	uint8_t		 nrecs;
	/* The session's steps from an event to the next, and those back. */
	uint8_t		 nsteps, nreturns;
	/* Of the last list: its rules' strength, its items of strong rules. */
	uint8_t		 list_strength;
	uint16_t	 list_strong;
	uint32_t	*taken;		/* items carted or bought, sorted; owned */
	uint32_t	 ntaken, taken_cap;
	uint32_t	*recs;		/* the last list made, until the next event */
	uint32_t	 lru_prev, lru_next;	/* map positions + 1 */
};

/*
 * How often a place in the hybrid's lists was the next click, kept for
 * each kind of list: the kind of its session (session_kind; on YOOCHOOSE
 * the next click is the item on screen again after 11% of the steps of
 * sessions that never went back to one of their items, and after 51% of
 * those of sessions that always did) and the strength of its strongest
 * rule to a new item (rule_strength: a strong rule makes a new item
 * likelier than a step back). A session's own item is also told by
 * whether a rule of its own is strong; the new items past the first
 * AHEAD_RANKS ranks share one rate.
 */
#define SESSION_KINDS	6
#define STRENGTHS	11
#define NKINDS		(SESSION_KINDS * STRENGTHS)
#define AHEAD_RANKS	20
struct hit_rate {
	double		 cases, hits;
};

/* --evaluate */
struct eval_counts {
	unsigned long long cases, hits;
	double		   rr;		/* sum of reciprocal ranks */
};

/* A candidate of one recommendation, in a table cleared after each. */
struct cand {
	uint32_t	 item;		/* + 1; 0 is an empty slot */
	float		 next, with, again, near;	/* the four signals */
	uint32_t	 near_n;		/* neighbours that have it */
	uint32_t	 next_from, with_from;	/* strongest source + 1 */
	float		 next_best, with_best;
	bool		 with_bought;
	bool		 shown;			/* allowed, and not skipped */
	float		 pop;			/* hybrid: trend_signal */
};

/* The options, as parsed; then only read. */
static struct {
	size_t		 top_k;			/* -k */
	bool		 emit[NACTIONS];	/* --emit */
	int64_t		 session_gap;		/* --session-gap */
	int		 steps;			/* --steps */
	double		 weight[NACTIONS];	/* --weights */
	enum sim	 sim;			/* --sim */
	enum algo	 algo;			/* --algo */
	int64_t		 half_life;		/* --half-life */
	size_t		 max_items;		/* --max-items */
	size_t		 max_users;		/* --max-users */
	uint16_t	 neighbors;		/* --neighbors */
	bool		 same_category;		/* --same-category */
	bool		 evaluate;		/* --evaluate */
	bool		 exclude_repeats;	/* --exclude-repeats */
	bool		 as_shown;		/* --as-shown */
	int64_t		 eval_from;		/* --eval-from */
	int64_t		 freeze_after;		/* --freeze-after */
	const char	*catalog_path;		/* --catalog */
	bool		 verbose;		/* -v */
} opt = {
	.top_k = 10, .emit = { true, true, true }, .session_gap = 30 * 60000,
	.steps = 5, .weight = { 1, 6, 3 }, .sim = SIM_JACCARD,
	.algo = ALGO_HYBRID, .half_life = 86400000, .max_items = 75000,
	.max_users = 100000, .neighbors = 100, .eval_from = INT64_MIN,
	.freeze_after = INT64_MAX,
};

static void		 save_state(void);
static struct ecs_checkpoint ckpt = {		/* --state, --checkpoint */
	.program = "ecs-recommend", .version = STATE_VERSION,
	.interval_ms = 30000, .save = save_state,
};

/* How the hybrid weighs its parts against the sequential rules (1). */
/*
 * The hybrid's mix of the items new to the session, tuned by --evaluate
 * on YOOCHOOSE (see the man page): rules from the last RULE_ITEMS session
 * items, the older weighing 1/distance^3; co-occurrence with every
 * session item, weighing 1/distance; both signals and the place of each
 * candidate in the trending list scaled to their largest value, then
 * weighed against the rules (1). The session's own items are not in this
 * mix: fuse() places them among the new ones by hit rates. W_TOGETHER
 * and W_TRENDING were chosen
 * on the day before YOOCHOOSE's test day (train.ndjson judged from
 * 2014-04-06T00:49:53Z) and checked on the same kind of cut of Taobao
 * and UCI; other levers measured there (step weights of the rules, their
 * time decay, a minimum support, rules scaled by their sum) lost on that
 * day or elsewhere (see the man page). The session neighbours are
 * not in it: no blend of them tried (weighed sums of 0.25 to 1, adding
 * candidates or not, sum-scaled, rank fusion) gained more than 0.0007 of
 * HR@20 on YOOCHOOSE, and each lost MRR@20 somewhere, at half the speed.
 */
#define RULE_ITEMS	2
#define W_TOGETHER	0.4
#define W_TRENDING	0.08

/* session-rec's vstan.py: its weights, and the neighbours that score. */
#define VSTAN_K		100
static const struct ecs_vstan_params vstan_params = {
	.spw = 1.02, .snh_ms = 5 * 86400000.0, .inh = 2.05, .idf = 5,
};

enum { F_USER, F_PRODUCT, F_ACTION, F_TS, F_SESSION, F_CATEGORY, F_QUANTITY,
    F_ALERT, F_QUERY, NFIELDS };
static const char *const field_names[NFIELDS] = { "user_id", "product_id",
    "action", "ts", "session_id", "category", "quantity", "alert", "query" };

/* The state of the run. */
static struct {
	struct ecs_map	*items;			/* product id -> its index */
	/*
	 * The items by index, apart from the map so that reading one in the
	 * hot loops is an array access (a third of the cost of a line was
	 * the map's lookup of the co-occurring items).
	 */
	struct item	*item;
	size_t		 item_cap;
	struct ecs_map	*users;			/* user id -> struct user */
	struct ecs_map	*categories;		/* category text -> nothing */
	struct ecs_vstan *vstan;		/* the session neighbours */
	/* The hybrid's hit rates, by kind of list (list_kind). */
	struct hit_rate	 back[NKINDS][HIST][2];	/* own item: recency, strong */
	struct hit_rate	 ahead[NKINDS][AHEAD_RANKS + 1];	/* new item: rank */
	/* The last list's, for keep_recs. */
	uint8_t		 list_strength;
	uint16_t	 list_strong;
	struct ecs_map	*unknown_actions;	/* each reported once */
	uint32_t	 lru_head, lru_tail;	/* most, least recent user + 1 */
	unsigned long long seq;			/* events and queries so far */
	unsigned long long evicted_users;	/* --max-users */
	unsigned long long evicted_for_taken;	/* of evicted_users */
	unsigned long long items_refused;	/* --max-items */
	size_t		 ntaken_all;		/* sum of the users' ntaken */
	double		 nsessions_seen;	/* sessions started, for llr */
	/* The latest event time seen, and the events without one. */
	struct ecs_event_clock clock;
	/* --evaluate: the counts, and the items ever in a list (coverage). */
	struct eval_counts eval_all, eval_by_action[NACTIONS], eval_new,
	    eval_again;
	unsigned long long eval_events;
	bool		*recommended;
	size_t		 recommended_cap;
	struct ecs_buf	 out;			/* the line being written */
	/* Trending: the most popular items, refreshed at trending_seq. */
	uint32_t	*trending;
	size_t		 ntrending;
	unsigned long long trending_seq;
} run = {
	.clock = ECS_EVENT_CLOCK_INIT, .trending_seq = ~0ULL,
};

/*
 * The candidates of the recommendation being made, cleared after each.
 * Apart from run, whose initialiser would put their 100 kB in .data.
 */
static struct {
	/*
	 * By item, the index + 1 of its candidate in the dense array, or 0
	 * (owned, as long as run.item): the scoring reads the candidates in
	 * sequence, and finding one is an array access.
	 */
	uint16_t	*at;
	struct cand	 cand[CAND_MAX];
	size_t		 n;
} cands;

static const struct option longopts[] = {
	ECS_COMMON_LONGOPTS,
	{ "algo",	required_argument,	NULL, OPT_ALGO },
	{ "catalog",	required_argument,	NULL, OPT_CATALOG },
	{ "checkpoint",	required_argument,	NULL, OPT_CHECKPOINT },
	{ "emit",	required_argument,	NULL, OPT_EMIT },
	{ "eval-from",	required_argument,	NULL, OPT_EVAL_FROM },
	{ "evaluate",	no_argument,		NULL, OPT_EVALUATE },
	{ "exclude-repeats", no_argument,	NULL, OPT_EXCLUDE_REPEATS },
	{ "as-shown",	no_argument,		NULL, OPT_AS_SHOWN },
	{ "freeze-after", required_argument,	NULL, OPT_FREEZE_AFTER },
	{ "half-life",	required_argument,	NULL, OPT_HALF_LIFE },
	{ "max-items",	required_argument,	NULL, OPT_MAX_ITEMS },
	{ "max-users",	required_argument,	NULL, OPT_MAX_USERS },
	{ "neighbors",	required_argument,	NULL, OPT_NEIGHBORS },
	{ "same-category", no_argument,		NULL, OPT_SAME_CATEGORY },
	{ "session-gap", required_argument,	NULL, OPT_SESSION_GAP },
	{ "sim",	required_argument,	NULL, OPT_SIM },
	{ "state",	required_argument,	NULL, OPT_STATE },
	{ "steps",	required_argument,	NULL, OPT_STEPS },
	{ "top",	required_argument,	NULL, 'k' },
	{ "verbose",	no_argument,		NULL, 'v' },
	{ "weights",	required_argument,	NULL, OPT_WEIGHTS },
	{ NULL,		0,			NULL, 0 }
};

static _Noreturn void
usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fprintf(fp,
"usage: ecs-recommend [-hqVv] [-i format] [-k count] [-o format] [--algo name]\n"
"                     [--catalog file] [--emit which] [--evaluate]\n"
"                     [--eval-from time] [--exclude-repeats] [--as-shown]\n"
"                     [--freeze-after time]\n"
"                     [--half-life duration] [--max-items n] [--max-users n]\n"
"                     [--neighbors n] [--same-category] [--session-gap duration]\n"
"                     [--sim name] [--state file] [--checkpoint duration]\n"
"                     [--steps n] [--weights list] [file ...]\n");
	if (status != 0)
		exit(status);
	fprintf(fp,
"Recommend products to each user as events arrive (see ecs-recommend(1)).\n"
"  -k, --top K              recommendations per line (default 10)\n"
"      --emit all|purchase|cart|none  events that get a line (default all)\n"
"      --algo hybrid|vstan|sr|spop|pop  the model (default hybrid)\n"
"      --sim jaccard|cosine|count|llr  co-occurrence measure (jaccard)\n"
"      --weights browse=1,add_to_cart=6,purchase=3  action weights\n"
"      --steps N            session items the rules look back (default 5)\n"
"      --session-gap DURATION  a new session after this quiet (30m)\n"
"      --half-life DURATION of trending popularity (default 24h)\n"
"      --max-items N        items learned (default 75000)\n"
"      --max-users N        users kept, least recent evicted (100000)\n"
"      --neighbors N        links kept per item and kind (default 100)\n"
"      --catalog FILE       product_id, category, in_stock, blocked\n"
"      --same-category      only products of the trigger's category\n"
"      --evaluate           recommend, then learn; write HR@K and MRR@K\n"
"      --eval-from TIME     judge only events from TIME on\n"
"      --exclude-repeats    judge only products new to the session\n"
"      --as-shown           judge lists without the event's product\n"
"      --freeze-after TIME  stop learning after TIME\n"
"      --state FILE         load and save the learned model\n"
"      --checkpoint DURATION save the state this often (default 30s)\n"
"  -v, --verbose            state the memory budget at start\n");
	ecs_common_usage(fp);
	exit(0);
}

static int
name_arg(const char *opt, const char *arg, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(arg, names[i]) == 0)
			return i;
	errx(ECS_EXIT_USAGE, "%s '%s': not one of the choices (see --help)",
	    opt, arg);
}

/* browse=1,add_to_cart=6,purchase=3 */
static void
parse_weights(const char *arg)
{
	char *copy = ecs_xstrdup(arg), *item, *save = NULL, *eq, *end;
	int a;

	for (item = strtok_r(copy, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(item, '=')) == NULL)
			errx(ECS_EXIT_USAGE, "--weights '%s': expected "
			    "ACTION=WEIGHT,...", arg);
		*eq = '\0';
		a = name_arg("--weights", item, action_names, NACTIONS);
		opt.weight[a] = strtod(eq + 1, &end);
		if (end == eq + 1 || *end != '\0' || !(opt.weight[a] >= 0 &&
		    opt.weight[a] <= 1e6))
			errx(ECS_EXIT_USAGE, "--weights '%s': bad weight", arg);
	}
	free(copy);
}

static void
parse_emit(const char *arg)
{
	int which = name_arg("--emit", arg, (const char *const[]){ "all",
	    "purchase", "cart", "none" }, 4);

	opt.emit[A_BROWSE] = which == 0;
	opt.emit[A_CART] = which == 0 || which == 2;
	opt.emit[A_PURCHASE] = which == 0 || which == 1;
}

static void
parse_options(int argc, char *argv[], int *first_operand)
{
	int ch;

	while ((ch = getopt_long(argc, argv, ECS_COMMON_SHORTOPTS "k:v",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(0);
		case 'k':
			opt.top_k = ecs_opt_count("--top", optarg, 1, MAX_K);
			break;
		case 'v':
			opt.verbose = true;
			break;
		case OPT_ALGO:
			opt.algo = (enum algo)name_arg("--algo", optarg, algo_names,
			    NALGOS);
			break;
		case OPT_CATALOG:
			opt.catalog_path = optarg;
			break;
		case OPT_CHECKPOINT:
			ecs_checkpoint_option(&ckpt, optarg);
			break;
		case OPT_EMIT:
			parse_emit(optarg);
			break;
		case OPT_EVAL_FROM:
			opt.eval_from = ecs_opt_time("--eval-from", optarg);
			break;
		case OPT_EVALUATE:
			opt.evaluate = true;
			break;
		case OPT_EXCLUDE_REPEATS:
			opt.exclude_repeats = true;
			break;
		case OPT_AS_SHOWN:
			opt.as_shown = true;
			break;
		case OPT_FREEZE_AFTER:
			opt.freeze_after = ecs_opt_time("--freeze-after",
			    optarg);
			break;
		case OPT_HALF_LIFE:
			opt.half_life = ecs_opt_duration("--half-life", optarg);
			break;
		case OPT_MAX_ITEMS:
			opt.max_items = ecs_opt_count("--max-items", optarg, 1,
			    UINT32_MAX / 2);
			break;
		case OPT_MAX_USERS:
			opt.max_users = ecs_opt_count("--max-users", optarg, 1,
			    UINT32_MAX / 2);
			break;
		case OPT_NEIGHBORS:
			opt.neighbors = (uint16_t)ecs_opt_count("--neighbors", optarg, 1,
			    1000);
			break;
		case OPT_SAME_CATEGORY:
			opt.same_category = true;
			break;
		case OPT_SESSION_GAP:
			opt.session_gap = ecs_opt_duration("--session-gap",
			    optarg);
			break;
		case OPT_SIM:
			opt.sim = (enum sim)name_arg("--sim", optarg, sim_names,
			    4);
			break;
		case OPT_STATE:
			ckpt.path = optarg;
			break;
		case OPT_STEPS:
			opt.steps = (int)ecs_opt_count("--steps", optarg, 1, HIST - 1);
			break;
		case OPT_WEIGHTS:
			parse_weights(optarg);
			break;
		default:
			if (!ecs_common_option(ch, optarg))
				usage(ECS_EXIT_USAGE);
		}
	}
	if (opt.exclude_repeats && !opt.evaluate)
		errx(ECS_EXIT_USAGE, "--exclude-repeats: only with --evaluate");
	if (opt.as_shown && !opt.evaluate)
		errx(ECS_EXIT_USAGE, "--as-shown: only with --evaluate");
	*first_operand = optind;
}

/* Items */

/* The item of index idx (borrowed; moved by the next item added). */
static struct item *
item_at(uint32_t idx)
{
	return &run.item[idx];
}

/*
 * The index of the item an id field names, added when add is set and the
 * table has room; -1 otherwise. Indices never change: items stay.
 */
static int64_t
item_index(const struct ecs_field *id, bool add)
{
	struct item *it;
	size_t pos, n = ecs_map_count(run.items);
	bool created;

	if (id->type != ECS_F_NUMBER && id->type != ECS_F_STRING)
		return -1;
	if (ecs_map_find(run.items, id->text, id->len, &pos) != NULL)
		return (int64_t)pos;
	if (!add)
		return -1;
	if (ecs_map_count(run.items) >= opt.max_items) {
		if (run.items_refused++ == 0 && !ecs_config.quiet)
			warnx("more than %zu items (--max-items): new items are "
			    "not learned", opt.max_items);
		return -1;
	}
	if (n == run.item_cap) {	/* never beyond --max-items */
		run.item_cap = n == 0 ? 1024 : 2 * n;
		if (run.item_cap > opt.max_items)
			run.item_cap = opt.max_items;
		run.item = ecs_xrealloc(run.item,
		    run.item_cap * sizeof(*run.item));
		cands.at = ecs_xrealloc(cands.at,
		    run.item_cap * sizeof(*cands.at));
		memset(cands.at + n, 0, (run.item_cap - n) * sizeof(*cands.at));
	}
	ecs_map_put(run.items, id->text, id->len, &created);
	it = memset(&run.item[n], 0, sizeof(*it));
	it->category = -1;
	it->is_string = id->type == ECS_F_STRING;
	return (int64_t)n;
}

/* An item's id as it came: a string, or a number's text. */
static void
put_item_id(uint32_t idx)
{
	const char *key;
	size_t len;
	const struct item *it = item_at(idx);

	ecs_map_at(run.items, idx, &key, &len);
	ecs_buf_field(&run.out, &(struct ecs_field){ it->is_string ?
	    ECS_F_STRING : ECS_F_NUMBER, key, len, NULL });
}

/*
 * The index of the category f names, added if new, or -1; known is the
 * item's category so far, or -1: an item's events name the same category
 * again and again, and comparing its bytes costs less than a lookup.
 */
static int32_t
category_index(const struct ecs_field *f, int32_t known)
{
	const char *key;
	size_t pos, len;
	bool created;

	if (f->type != ECS_F_STRING && f->type != ECS_F_NUMBER)
		return -1;
	if (known >= 0 && ecs_map_at(run.categories, (size_t)known, &key,
	    &len) != NULL && len == f->len && memcmp(key, f->text, len) == 0)
		return known;
	if (ecs_map_find(run.categories, f->text, f->len, &pos) != NULL)
		return (int32_t)pos;
	if (ecs_map_count(run.categories) >= 1000000)
		return -1;
	ecs_map_put(run.categories, f->text, f->len, &created);
	return (int32_t)ecs_map_count(run.categories) - 1;
}

/* Popularity decayed to time t. */
static double
pop_at(const struct item *it, int64_t t)
{
	return ecs_decay_at(it->pop, it->pop_at, t, opt.half_life);
}

/* The fingerprints of the links, after their cap edges. */
static uint8_t *
edge_fp(const struct edges *es)
{
	return (uint8_t *)(es->e + es->cap);
}

static uint8_t
fingerprint(uint32_t item)
{
	return (uint8_t)((item * 0x9e3779b1U) >> 24);
}

/* The place of the link to item `to`, or -1. */
static int
find_edge(const struct edges *es, uint32_t to)
{
	const uint8_t *fp, *at, *end;
	uint8_t want = fingerprint(to);

	if (es->n == 0)		/* es->e may be NULL: no pointer made from it */
		return -1;
	fp = at = edge_fp(es);
	end = fp + es->n;
	while (at < end && (at = memchr(at, want, (size_t)(end - at))) != NULL) {
		if (es->e[at - fp].item == to)
			return (int)(at - fp);
		at++;
	}
	return -1;
}

/* Makes room for cap links, their fingerprints moved after them. */
static void
grow_edges(struct edges *es, uint16_t cap)
{
	es->e = ecs_xrealloc(es->e, cap * (sizeof(*es->e) + 1));
	memmove((uint8_t *)(es->e + cap), (uint8_t *)(es->e + es->cap), es->n);
	es->cap = cap;
}

#ifdef __SSE2__
/*
 * scan_min with SSE2, four weights at a time: the least weight, then the
 * first link of that weight and their count, as the loop below finds
 * them. A weight that is NaN (only a state file could hold one) would
 * compare otherwise: then it answers false and the loop decides.
 */
static bool
scan_min_sse2(struct edges *es)
{
	const float *f = (const float *)es->e;	/* item, weight, item, ... */
	size_t i, n4 = es->n & ~(size_t)3, n = es->n, min = SIZE_MAX, nmin = 0;
	__m128 w, least4 = _mm_set1_ps(INFINITY), nan = _mm_setzero_ps();
	float least = INFINITY;
	int eq;

	for (i = 0; i < n4; i += 4) {
		w = _mm_shuffle_ps(_mm_loadu_ps(f + 2 * i),
		    _mm_loadu_ps(f + 2 * i + 4), _MM_SHUFFLE(3, 1, 3, 1));
		least4 = _mm_min_ps(least4, w);
		nan = _mm_or_ps(nan, _mm_cmpunord_ps(w, w));
	}
	for (; i < n; i++) {
		nan = _mm_or_ps(nan, _mm_cmpunord_ss(_mm_set_ss(es->e[i].w),
		    _mm_set_ss(es->e[i].w)));
		least4 = _mm_min_ps(least4, _mm_set1_ps(es->e[i].w));
	}
	if (_mm_movemask_ps(nan) != 0)
		return false;
	least4 = _mm_min_ps(least4, _mm_shuffle_ps(least4, least4,
	    _MM_SHUFFLE(1, 0, 3, 2)));
	least4 = _mm_min_ps(least4, _mm_shuffle_ps(least4, least4,
	    _MM_SHUFFLE(2, 3, 0, 1)));
	least = _mm_cvtss_f32(least4);
	for (i = 0; i < n4; i += 4) {
		w = _mm_shuffle_ps(_mm_loadu_ps(f + 2 * i),
		    _mm_loadu_ps(f + 2 * i + 4), _MM_SHUFFLE(3, 1, 3, 1));
		if ((eq = _mm_movemask_ps(_mm_cmpeq_ps(w, least4))) == 0)
			continue;
		if (min == SIZE_MAX)
			min = i + (size_t)__builtin_ctz((unsigned)eq);
		nmin += (size_t)((eq & 1) + (eq >> 1 & 1) + (eq >> 2 & 1) +
		    (eq >> 3 & 1));
	}
	for (; i < n; i++)
		if (es->e[i].w == least) {
			if (min == SIZE_MAX)
				min = i;
			nmin++;
		}
	es->min = (uint16_t)min;
	es->nmin = (uint16_t)nmin;
	return true;
}
#endif

/* Finds the first of the weakest links and how many share its weight. */
static void
scan_min(struct edges *es)
{
	const struct edge *e = es->e;
	float least = e[0].w, w;
	size_t i, n = es->n, min = 0, nmin = 1;

#ifdef __SSE2__
	if (scan_min_sse2(es))
		return;
#endif
	/* In locals: stores to es in the loop would be redone each time. */
	for (i = 1; i < n; i++) {
		w = e[i].w;
		if (w < least) {
			least = w;
			min = i;
			nmin = 1;
		} else
			nmin += w == least;
	}
	es->min = (uint16_t)min;
	es->nmin = (uint16_t)nmin;
}

/*
 * Adds w (>= 0) to the link to item `to`; a full list replaces its
 * weakest link, which passes its weight on (Space-Saving), so a strong
 * newcomer is not shut out and old weights are never overestimated by
 * more than the min.
 */
static void
add_edge(struct edges *es, uint32_t to, float w)
{
	struct edge t;
	float old, least;
	int i;

	if ((i = find_edge(es, to)) >= 0) {
		old = es->e[i].w;
		es->e[i].w += w;
		if (es->nmin > 0) {
			/* Only the weakest, or a swap beside it, moves it. */
			if (i == es->min || i - 1 == es->min)
				es->nmin = 0;
			else if (old == es->e[es->min].w && es->e[i].w != old)
				es->nmin--;
		}
		/* Links in use drift forward, so the scan ends sooner. */
		if (i > 0 && es->e[i].w >= es->e[i - 1].w) {
			t = es->e[i - 1];
			es->e[i - 1] = es->e[i];
			es->e[i] = t;
			edge_fp(es)[i - 1] = fingerprint(es->e[i - 1].item);
			edge_fp(es)[i] = fingerprint(es->e[i].item);
		}
		return;
	}
	if (es->n == es->cap && es->cap < opt.neighbors)
		grow_edges(es, es->cap == 0 ? 4 : es->cap * 2 < opt.neighbors ?
		    (uint16_t)(es->cap * 2) : opt.neighbors);
	if (es->n < opt.neighbors) {
		edge_fp(es)[es->n] = fingerprint(to);
		es->e[es->n++] = (struct edge){ to, w };
		es->nmin = 0;
		return;
	}
	if (es->nmin == 0)
		scan_min(es);
	i = es->min;
	least = es->e[i].w;
	es->e[i] = (struct edge){ to, least + w };
	edge_fp(es)[i] = fingerprint(to);
	if (es->e[i].w == least)
		return;			/* still the first of the weakest */
	/*
	 * The next of the same weight (the links before it weigh more), or
	 * a scan at the next replacement.
	 */
	if (--es->nmin == 0)
		return;
	while (++i < es->n && es->e[i].w != least)
		;
	if (i < es->n)
		es->min = (uint16_t)i;
	else
		es->nmin = 0;
}

/* Users, least recently active first out */

static struct user *
user_at(uint32_t pos1)
{
	return ecs_map_at(run.users, pos1 - 1, NULL, NULL);
}

static void
lru_unlink(struct user *u)
{
	if (u->lru_prev != 0)
		user_at(u->lru_prev)->lru_next = u->lru_next;
	else
		run.lru_head = u->lru_next;
	if (u->lru_next != 0)
		user_at(u->lru_next)->lru_prev = u->lru_prev;
	else
		run.lru_tail = u->lru_prev;
	u->lru_prev = u->lru_next = 0;
}

static void
lru_push(struct user *u, uint32_t pos1)
{
	u->lru_prev = 0;
	u->lru_next = run.lru_head;
	if (run.lru_head != 0)
		user_at(run.lru_head)->lru_prev = pos1;
	run.lru_head = pos1;
	if (run.lru_tail == 0)
		run.lru_tail = pos1;
}

static void
evict_user(void)
{
	uint32_t pos1 = run.lru_tail;
	struct user *u = user_at(pos1);
	const char *key;
	size_t len;

	lru_unlink(u);
	run.ntaken_all -= u->ntaken;
	ecs_map_at(run.users, pos1 - 1, &key, &len);
	ecs_map_del(run.users, key, len);
	run.evicted_users++;
}

/* The user of an id field, made most recent; added (evicting) if new. */
static struct user *
get_user(const struct ecs_field *id, uint32_t *pos1)
{
	struct user *u;
	size_t pos;
	bool created;

	if ((u = ecs_map_find(run.users, id->text, id->len, &pos)) == NULL) {
		if (ecs_map_count(run.users) >= opt.max_users)
			evict_user();
		u = ecs_map_put(run.users, id->text, id->len, &created);
		ecs_map_find(run.users, id->text, id->len, &pos);
	} else
		lru_unlink(u);
	*pos1 = (uint32_t)pos + 1;
	lru_push(u, *pos1);
	return u;
}

static bool
in_list(const uint32_t *list, size_t n, uint32_t item)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] == item)
			return true;
	return false;
}

/* Where item is, or would go, in the user's sorted taken items. */
static uint32_t
taken_pos(const struct user *u, uint32_t item)
{
	uint32_t lo = 0, hi = u->ntaken, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (u->taken[mid] < item)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Whether the user carted or bought the item: it is never shown again. */
static bool
taken(const struct user *u, uint32_t item)
{
	uint32_t pos = taken_pos(u, item);

	return pos < u->ntaken && u->taken[pos] == item;
}

static void
take(struct user *u, uint32_t item)
{
	uint32_t pos = taken_pos(u, item);

	if (pos < u->ntaken && u->taken[pos] == item)
		return;
	if (u->ntaken == u->taken_cap) {
		u->taken_cap = u->taken_cap ? u->taken_cap * 2 : 4;
		u->taken = ecs_xrealloc(u->taken,
		    u->taken_cap * sizeof(*u->taken));
	}
	memmove(u->taken + pos + 1, u->taken + pos,
	    (u->ntaken - pos) * sizeof(*u->taken));
	u->taken[pos] = item;
	u->ntaken++;
	run.ntaken_all++;
}

/*
 * Keeps the taken items of all users within TAKEN_PER_USER * --max-users
 * by evicting the least recently active users, never the current one.
 */
static void
bound_taken(const struct user *current)
{
	while (run.ntaken_all > TAKEN_PER_USER * opt.max_users &&
	    run.lru_tail != 0 && user_at(run.lru_tail) != current) {
		evict_user();
		run.evicted_for_taken++;
	}
}

/* Learning */

/* Whether (user, time, session field) starts a new session. */
static bool
new_session(struct user *u, int64_t t, const struct ecs_field *sid)
{
	uint64_t h = 0;
	bool fresh;

	if (sid->type == ECS_F_STRING || sid->type == ECS_F_NUMBER) {
		h = ecs_sketch_hash(sid->text, sid->len) | 1;
		fresh = h != u->session;
	} else
		fresh = u->nhist == 0 || t - u->last_ts > opt.session_gap ||
		    t < u->last_ts - opt.session_gap;
	if (fresh) {
		run.nsessions_seen += 1;
		u->session = h;
		u->vsession = 0;
		u->nhist = 0;
		u->nrecs = 0;
		u->nsteps = u->nreturns = 0;
	}
	u->last_ts = t;
	return fresh;
}

static void
learn(struct user *u, enum action a, uint32_t i, int64_t t)
{
	struct item *it = item_at(i), *p;
	float w = (float)opt.weight[a];
	int d;

	ecs_decay_add(&it->pop, &it->pop_at, opt.weight[a], t, opt.half_life);
	if (u->vsession == 0)
		u->vsession = ecs_vstan_open(run.vstan, t);
	ecs_vstan_add(run.vstan, u->vsession, i, t);
	if (!in_list(u->hist, u->nhist, i)) {
		it->sessions += 1;
		/* With the items of the last --steps views: enough, and cheap. */
		for (d = u->nhist > opt.steps ? u->nhist - opt.steps : 0;
		    d < u->nhist; d++) {
			/* Each pair once: skip i and repeats of an item. */
			if (u->hist[d] == i || in_list(u->hist + d + 1,
			    (size_t)(u->nhist - d - 1), u->hist[d]))
				continue;
			add_edge(&item_at(i)->with, u->hist[d], 1);
			p = item_at(u->hist[d]);
			add_edge(&p->with, i, 1);
		}
	}
	/* Re-views count: an item often follows itself (a third of clicks). */
	for (d = 1; d <= opt.steps && d <= u->nhist; d++)
		add_edge(&item_at(u->hist[u->nhist - d])->next, i, w / d);
}

/* Remembers the event in the user's session, cart and purchases. */
static void
remember(struct user *u, enum action a, uint32_t i)
{
	if (u->nhist > 0 && u->nsteps < UINT8_MAX) {
		u->nsteps++;
		u->nreturns += in_list(u->hist, u->nhist, i);
	}
	if (u->nhist == HIST) {
		memmove(u->hist, u->hist + 1, (HIST - 1) * sizeof(*u->hist));
		memmove(u->hist_action, u->hist_action + 1, HIST - 1);
		u->nhist--;
	}
	u->hist[u->nhist] = i;
	u->hist_action[u->nhist++] = (uint8_t)a;
	if (a == A_CART || a == A_PURCHASE) {
		take(u, i);
		bound_taken(u);
	}
}

/* Recommending */

struct rec {
	uint32_t	 item;
	double		 score;
	enum reason	 reason;
	int64_t		 because;	/* an item, or -1 */
	uint32_t	 neighbors;	/* for R_SIMILAR */
};

/* The candidate of item, taken when it is new; NULL when full. */
static struct cand *
cand(uint32_t item)
{
	if (cands.at[item] == 0) {
		if (cands.n >= CAND_MAX)
			return NULL;		/* enough candidates */
		/* Zeroed here, where it is written anyway, not all at the end. */
		cands.cand[cands.n] = (struct cand){ .item = item + 1 };
		cands.at[item] = (uint16_t)++cands.n;
	}
	return &cands.cand[cands.at[item] - 1];
}

static void
clear_cands(void)
{
	size_t i;

	for (i = 0; i < cands.n; i++)
		cands.at[cands.cand[i].item - 1] = 0;
	cands.n = 0;
}

/* x ln x, with 0 ln 0 = 0. */
static double
xlogx(double x)
{
	return x > 0 ? x * log(x) : 0;
}

/*
 * Dunning's log-likelihood ratio of a and b appearing together in count
 * of all sessions: how surprising the pair is, not how frequent.
 */
static float
llr(const struct item *a, const struct item *b, float count)
{
	double k11 = count, k12 = a->sessions - count, k21 = b->sessions - count;
	double k22 = run.nsessions_seen - k11 - k12 - k21;
	double n = run.nsessions_seen;
	double rows, cols, all;

	if (k12 < 0 || k21 < 0 || k22 < 0 || n <= 0)
		return 0;
	rows = xlogx(k11 + k12) + xlogx(k21 + k22);
	cols = xlogx(k11 + k21) + xlogx(k12 + k22);
	all = xlogx(k11) + xlogx(k12) + xlogx(k21) + xlogx(k22);
	return (float)fmax(0, 2 * (all - rows - cols + xlogx(n)));
}

static float
similarity(const struct item *a, const struct item *b, float count)
{
	float d;

	switch (opt.sim) {
	case SIM_COSINE:
		d = sqrtf(a->sessions * b->sessions);
		break;
	case SIM_JACCARD:
		d = a->sessions + b->sessions - count;
		break;
	case SIM_LLR:
		return llr(a, b, count);
	default:
		return count;
	}
	return d > 0 ? count / d : 0;
}

/* ecs_vstan_score_fn: a neighbour's part in the score of item. */
static void
near_signal(void *ctx, uint32_t item, float score)
{
	struct cand *c;

	(void)ctx;
	if ((c = cand(item)) != NULL) {
		c->near += score;
		c->near_n++;
	}
}

/* The signals of the user's session around its latest items. */
static void
gather(const struct user *u, int64_t now)
{
	const struct item *p;
	struct cand *c;
	float w;
	int d, k, last_step = opt.algo == ALGO_SR ? 1 : RULE_ITEMS;

	if (opt.algo == ALGO_VSTAN) {
		ecs_vstan_score(run.vstan, u->hist, u->nhist, u->vsession, now,
		    near_signal, NULL);
		return;
	}
	for (d = 1; d <= u->nhist; d++) {
		p = item_at(u->hist[u->nhist - d]);
		if (opt.algo == ALGO_SPOP || opt.algo == ALGO_HYBRID) {
			if ((c = cand(u->hist[u->nhist - d])) != NULL)
				c->again += 1.0f / (float)d;
		}
		if (opt.algo == ALGO_SPOP)
			continue;
		for (k = 0; d <= last_step && k < p->next.n; k++) {
			if ((c = cand(p->next.e[k].item)) == NULL)
				continue;
			w = p->next.e[k].w / (float)(d * d * d);
			c->next += w;
			if (w > c->next_best) {
				c->next_best = w;
				c->next_from = u->hist[u->nhist - d] + 1;
			}
		}
		for (k = 0; opt.algo == ALGO_HYBRID && d <= opt.steps &&
		    k < p->with.n; k++) {
			if ((c = cand(p->with.e[k].item)) == NULL)
				continue;
			w = similarity(p, item_at(p->with.e[k].item),
			    p->with.e[k].w) / (float)d;
			c->with += w;
			if (w > c->with_best) {
				c->with_best = w;
				c->with_from = u->hist[u->nhist - d] + 1;
				c->with_bought =
				    u->hist_action[u->nhist - d] != A_BROWSE;
			}
		}
	}
}

/* Whether the user may be shown the item at all. */
static bool
allowed(const struct user *u, uint32_t i, int32_t category)
{
	const struct item *it = item_at(i);

	if (it->out || it->blocked || taken(u, i))
		return false;
	/* --exclude-repeats: a product of the session is never a case. */
	if (opt.exclude_repeats && in_list(u->hist, u->nhist, i))
		return false;
	return !opt.same_category || category < 0 || it->category == category;
}

static int
by_score(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return (x->item > y->item) - (x->item < y->item);
}

/*
 * Keeps out[0..n) the best (by_score) of at most k, adding r; returns the
 * new count. Candidates are many and k is small: no full sort.
 */
static size_t
keep_best(struct rec *out, size_t n, size_t k, const struct rec *r)
{
	size_t i;

	if (n == k && by_score(r, &out[n - 1]) >= 0)
		return n;
	i = n < k ? n++ : n - 1;
	for (; i > 0 && by_score(r, &out[i - 1]) < 0; i--)
		out[i] = out[i - 1];
	out[i] = *r;
	return n;
}

/* Marks the items of the trending list with their place in it, or not. */
static void
mark_trending(bool on)
{
	size_t i;

	for (i = 0; i < run.ntrending; i++)
		item_at(run.trending[i])->trend_rank = on ? (uint16_t)(i + 1) : 0;
}

/*
 * The hybrid's popularity signal of an item: 400 for the first of the
 * trending list down to 1 for its last, 0 off it. A place, not the
 * popularity decayed to now, which measured the same but cost an exp2 a
 * candidate (28% more instructions a line against 8%); and the list is
 * in the state, so a split run scores as one run does.
 */
static float
trend_signal(const struct item *it)
{
	return it->trend_rank == 0 ? 0 :
	    (float)(4 * MAX_K + 1 - it->trend_rank);
}

/* Trending: the most popular items, refreshed now and then. */
static void
refresh_trending(int64_t now)
{
	struct rec *all;
	size_t i, n = ecs_map_count(run.items), keep = 4 * MAX_K;

	/* Often while the catalogue is young, then every 2000 events. */
	if (run.trending_seq != ~0ULL && run.seq - run.trending_seq < 2000 &&
	    (run.ntrending >= 4 * MAX_K || run.seq - run.trending_seq < 50 ||
	    run.ntrending == ecs_map_count(run.items)))
		return;
	run.trending_seq = run.seq;
	mark_trending(false);
	all = ecs_xcalloc(n ? n : 1, sizeof(*all));
	for (i = 0; i < n; i++)
		all[i] = (struct rec){ (uint32_t)i, pop_at(item_at((uint32_t)i),
		    now), R_TRENDING, -1, 0 };
	qsort(all, n, sizeof(*all), by_score);
	while (n > 0 && all[n - 1].score <= 0)	/* never sold or seen */
		n--;
	run.ntrending = n < keep ? n : keep;
	run.trending = ecs_xrealloc(run.trending,
	    (run.ntrending ? run.ntrending : 1) * sizeof(*run.trending));
	for (i = 0; i < run.ntrending; i++)
		run.trending[i] = all[i].item;
	mark_trending(true);
	free(all);
}

/* The parts of a score: the scaled and weighed signals. */
struct parts {
	double		 next, with, near, again, pop;
};

/*
 * The score of candidate c, its signals scaled by their largest values
 * max: the hybrid's weighed sum, or the one signal of another model;
 * its parts are left in p for give_reason.
 */
static struct rec
score_cand(const struct cand *c, const struct cand *max, struct parts *p)
{
	p->next = max->next > 0 ? c->next / max->next : 0;
	p->with = max->with > 0 ? W_TOGETHER * c->with / max->with : 0;
	p->near = max->near > 0 ? (double)c->near / max->near : 0;
	p->again = max->again > 0 ? c->again / max->again : 0;
	p->pop = max->pop > 0 ? W_TRENDING * (double)c->pop / max->pop : 0;
	return (struct rec){ c->item - 1, p->next + p->with + p->near +
	    p->again + p->pop, R_NEXT, (int64_t)c->next_from - 1, 0 };
}

/*
 * The reason of r, scored from c with parts p: its largest part (the
 * rules first on a tie, then the co-occurrence, the neighbours, the
 * reminders). Only for the candidates that make the list.
 */
static void
give_reason(struct rec *r, const struct cand *c, const struct parts *p)
{
	if (p->with > p->next && p->with >= p->near && p->with >= p->again) {
		r->reason = c->with_bought ? R_BOUGHT_WITH : R_VIEWED_WITH;
		r->because = (int64_t)c->with_from - 1;
	} else if (p->near > p->next && p->near > p->with &&
	    p->near >= p->again) {
		r->reason = R_SIMILAR;
		r->because = -1;
		r->neighbors = c->near_n;
	} else if (p->again > p->next && p->again > p->with &&
	    p->again > p->near) {
		r->reason = R_SESSION;
		r->because = -1;
	}
}

/*
 * The session's distinct items, the latest first, into items[HIST];
 * returns how many.
 */
static size_t
session_items(const struct user *u, uint32_t *items)
{
	size_t n = 0;
	int d;

	for (d = u->nhist - 1; d >= 0; d--)
		if (!in_list(items, n, u->hist[d]))
			items[n++] = u->hist[d];
	return n;
}

/*
 * The kind of the user's session so far, for its hit rates: no step yet;
 * one step, or more, none back to an item of the session; one, or more,
 * all back; some back and some not.
 */
static int
session_kind(const struct user *u)
{
	if (u->nsteps == 0)
		return 0;
	if (u->nreturns == 0)
		return u->nsteps == 1 ? 1 : 2;
	if (u->nreturns == u->nsteps)
		return u->nsteps == 1 ? 3 : 4;
	return 5;
}

/*
 * The strength of a list's rules: 0 when no new item has one, else 1 for
 * a strongest (scored, see gather) up to 0.5, 2 up to 1, and so on by
 * powers of two, to STRENGTHS - 1.
 */
static int
rule_strength(double strongest)
{
	int s = 1;

	if (!(strongest > 0))
		return 0;
	for (; strongest > 0.5 && s < STRENGTHS - 1; s++)
		strongest /= 2;
	return s;
}

/* The kind of a list for the user's session, of rules of that strength. */
static int
list_kind(const struct user *u, int strength)
{
	return session_kind(u) * STRENGTHS + strength;
}

/*
 * A hit rate, starting from a guess worth one case, so that a place
 * never yet judged has a rate: on YOOCHOOSE a quarter of the next clicks
 * go back to the latest item, and a tenth to the first new one.
 */
static double
rate_of(const struct hit_rate *h, double guess)
{
	return (h->hits + guess) / (h->cases + 1);
}

/* The bit of item among the session's items, by recency; 0 if not one. */
static uint16_t
strong_bit(const uint32_t *items, size_t nitems, uint32_t item)
{
	size_t d;

	for (d = 0; d < nitems && items[d] != item; d++)
		;
	return d < nitems ? (uint16_t)(1u << d) : 0;
}

static size_t
ahead_place(size_t rank)
{
	return rank < AHEAD_RANKS ? rank : AHEAD_RANKS;
}

/*
 * The hybrid's list, from the new items out[0..m) in the order of its mix:
 * each of them, and each of the session's own items[0..nitems) (latest
 * first; strong: the bits of those with a strong rule), scored by how often
 * its place was the next click in lists of this kind, and the k best
 * kept. A new item never scores above a better ranked one, so that its
 * rank in the list still says its rank in the mix (learn_hit_rates); of
 * two own items of the same rate, the more recent comes first. Returns
 * how many are in out.
 */
static size_t
fuse(const struct user *u, const uint32_t *items, size_t nitems,
    struct rec *out, size_t m, size_t k, uint16_t strong, int32_t category,
    int64_t skip)
{
	struct rec ahead[MAX_K], back[HIST], r;
	size_t nback = 0, i, j, a = 0, b = 0, n;
	int kind = list_kind(u, run.list_strength);
	double cap = 1, p;

	for (i = 0; i < m; i++) {
		ahead[i] = out[i];
		p = rate_of(&run.ahead[kind][ahead_place(i)],
		    0.1 / (double)(i + 1));
		ahead[i].score = cap = p < cap ? p : cap;
	}
	for (i = 0; i < nitems; i++) {
		if (!allowed(u, items[i], category) || (int64_t)items[i] == skip)
			continue;
		r = (struct rec){ items[i], rate_of(&run.back[kind][i][strong >>
		    i & 1], 0.3 / (double)(i + 1)), R_SESSION, -1, 0 };
		for (j = nback++; j > 0 && back[j - 1].score < r.score; j--)
			back[j] = back[j - 1];
		back[j] = r;
	}
	for (n = 0; n < k && (a < m || b < nback); n++)
		out[n] = b == nback || (a < m &&
		    ahead[a].score >= back[b].score) ? ahead[a++] : back[b++];
	return n;
}

/*
 * Learns from the next click, item (UINT32_MAX: one not learned), how
 * often each place of the list made after the user's last event was
 * right: the session's own items by recency, and the new items by rank
 * among them. The user's session is still the one that list was made
 * for. Only a list that was made teaches: learning alone (no line for
 * that action, no query) leaves the rates as they are; and only a list
 * of the hybrid, whose places they are (another model's lists, on a
 * state the hybrid then loads, would teach it the places of theirs).
 */
static void
learn_hit_rates(struct user *u, uint32_t item)
{
	uint32_t items[HIST];
	size_t nitems, i, rank = 0;
	int kind = list_kind(u, u->list_strength);
	struct hit_rate *h;

	if (u->nrecs == 0 || opt.algo != ALGO_HYBRID)
		return;
	nitems = session_items(u, items);
	for (i = 0; i < nitems; i++) {
		h = &run.back[kind][i][u->list_strong >> i & 1];
		h->cases++;
		h->hits += items[i] == item;
	}
	for (i = 0; i < u->nrecs; i++) {
		if (in_list(items, nitems, u->recs[i]))
			continue;
		h = &run.ahead[kind][ahead_place(rank++)];
		h->cases++;
		h->hits += u->recs[i] == item;
	}
}

/*
 * The top k for the user now: the signals of the model, each scaled to
 * its largest value, weighed and summed (the hybrid then places the
 * session's own items by fuse); then trending to fill. Returns how many
 * were written to out.
 */
static size_t
recommend(const struct user *u, int32_t category, int64_t now, int64_t skip,
    struct rec *out, size_t k)
{
	struct cand *c, max = { 0 };
	struct parts part;
	struct rec r;
	uint32_t items[HIST];
	size_t i, m = 0, nitems = opt.algo == ALGO_HYBRID ?
	    session_items(u, items) : 0;
	float ahead = 0;	/* the strongest rule to a new item shown */
	uint16_t strong = 0;	/* session items of strong rules, by recency */

	/* First: the hybrid scores by the places in the list it fills from. */
	refresh_trending(now);
	if (opt.algo != ALGO_POP)
		gather(u, now);
	/* Scaled among what may be shown: an excluded item sets no maximum. */
	for (i = 0; i < cands.n; i++) {
		c = &cands.cand[i];
		c->shown = allowed(u, c->item - 1, category) &&
		    (int64_t)c->item - 1 != skip;
		if (!c->shown)
			continue;
		/* Not fmaxf, a call to libm: the signals are never NaN. */
		max.next = c->next > max.next ? c->next : max.next;
		max.with = c->with > max.with ? c->with : max.with;
		max.near = c->near > max.near ? c->near : max.near;
		max.again = c->again > max.again ? c->again : max.again;
		if (opt.algo == ALGO_HYBRID) {
			c->pop = trend_signal(item_at(c->item - 1));
			max.pop = c->pop > max.pop ? c->pop : max.pop;
			if (c->again == 0 && c->next > ahead)
				ahead = c->next;
		}
	}
	for (i = 0; i < cands.n; i++) {
		c = &cands.cand[i];
		/*
		 * The hybrid places the session's own items in fuse(), told
		 * by a rule of their own of more than half the strongest:
		 * shown or not, the place is learned from either.
		 */
		if (opt.algo == ALGO_HYBRID && c->again > 0) {
			if (c->next > 0.5f * max.next)
				strong |= strong_bit(items, nitems, c->item - 1);
			continue;
		}
		if (!c->shown)
			continue;
		r = score_cand(c, &max, &part);
		if (r.score <= 0 || (m == k && by_score(&r, &out[m - 1]) >= 0))
			continue;		/* as keep_best would */
		give_reason(&r, c, &part);
		m = keep_best(out, m, k, &r);
	}
	clear_cands();
	if (opt.algo == ALGO_HYBRID) {
		run.list_strength = (uint8_t)rule_strength(ahead);
		run.list_strong = strong;
		m = fuse(u, items, nitems, out, m, k, strong, category, skip);
	}
	for (i = 0; i < run.ntrending && m < k; i++) {
		uint32_t t = run.trending[i];
		size_t j;
		for (j = 0; j < m && out[j].item != t; j++)
			;
		if (j == m && allowed(u, t, category) && (int64_t)t != skip)
			out[m++] = (struct rec){ t, 0, R_TRENDING, -1, 0 };
	}
	return m;
}

/* Output */

/*
 * v with three decimals, the digits "%.3f" writes, without the cost of
 * printf (a tenth of a line). v * 1000 is off by less than 1e-7 for v
 * below 1e6, so its rounding agrees with that of v unless it is within
 * 1e-6 of a tie: printf decides those, and any v out of range.
 */
static void
put_score(double v)
{
	double y = v * 1000, r = floor(y);
	char buf[32];
	uint64_t n;

	if (!(v >= 0 && v < 1e6) || fabs(y - r - 0.5) < 1e-6) {
		snprintf(buf, sizeof(buf), "%.3f", v);
		ecs_buf_puts(&run.out, buf);
		return;
	}
	n = (uint64_t)r + (y - r > 0.5);
	ecs_buf_uint(&run.out, n / 1000);
	buf[0] = '.';
	buf[1] = (char)('0' + n / 100 % 10);
	buf[2] = (char)('0' + n / 10 % 10);
	buf[3] = (char)('0' + n % 10);
	ecs_buf_add(&run.out, buf, 4);
}

static void
out_line(unsigned long long n, const struct ecs_field *user, int64_t ts,
    const char *action, const struct ecs_field *trigger,
    const struct rec *recs, size_t nrecs)
{
	size_t i;

	ecs_buf_reset(&run.out);
	ecs_buf_puts(&run.out, "{\"seq\":");
	ecs_buf_uint(&run.out, n);
	ecs_buf_puts(&run.out, ",\"user_id\":");
	ecs_buf_field(&run.out, user);
	ecs_buf_puts(&run.out, ",\"ts\":");
	ecs_buf_time(&run.out, ts);
	ecs_buf_puts(&run.out, ",\"trigger\":");
	if (trigger != NULL) {
		ecs_buf_puts(&run.out, "{\"action\":\"");
		ecs_buf_puts(&run.out, action);
		ecs_buf_puts(&run.out, "\",\"product_id\":");
		ecs_buf_field(&run.out, trigger);
		ecs_buf_putc(&run.out, '}');
	} else
		ecs_buf_puts(&run.out, "null");
	ecs_buf_puts(&run.out, ",\"recommendations\":[");
	for (i = 0; i < nrecs; i++) {
		ecs_buf_puts(&run.out, i > 0 ? ",{\"product_id\":" :
		    "{\"product_id\":");
		put_item_id(recs[i].item);
		ecs_buf_puts(&run.out, ",\"score\":");
		put_score(recs[i].score > 0 ? recs[i].score : 0);
		ecs_buf_puts(&run.out, ",\"reason\":\"");
		ecs_buf_puts(&run.out, reason_names[recs[i].reason]);
		ecs_buf_putc(&run.out, '"');
		if (recs[i].reason == R_SIMILAR) {
			ecs_buf_puts(&run.out, ",\"neighbors\":");
			ecs_buf_uint(&run.out, recs[i].neighbors);
		}
		if (recs[i].because >= 0) {
			ecs_buf_puts(&run.out, ",\"because\":");
			put_item_id((uint32_t)recs[i].because);
		}
		ecs_buf_putc(&run.out, '}');
	}
	ecs_buf_puts(&run.out, "]}\n");
	ecs_buf_out(&run.out);
}

/* Evaluation: the list made after the previous event, judged by this one. */
static void
judge(struct user *u, enum action a, uint32_t item, bool again)
{
	struct eval_counts *c[] = { &run.eval_all, &run.eval_by_action[a],
	    again ? &run.eval_again : &run.eval_new };
	size_t rank, k;

	for (rank = 0; rank < u->nrecs && u->recs[rank] != item; rank++)
		;
	for (k = 0; k < 3; k++) {
		c[k]->cases++;
		if (rank < u->nrecs) {
			c[k]->hits++;
			c[k]->rr += 1.0 / (double)(rank + 1);
		}
	}
}

static void
keep_recs(struct user *u, const struct rec *recs, size_t n)
{
	size_t i;

	if (u->recs == NULL)
		u->recs = ecs_xcalloc(opt.top_k, sizeof(*u->recs));
	for (i = 0; i < n; i++)
		u->recs[i] = recs[i].item;
	u->nrecs = (uint8_t)n;
	u->list_strength = run.list_strength;
	u->list_strong = run.list_strong;
}

/* --evaluate: marks the items of a list as recommended (coverage). */
static void
mark_recommended(const struct rec *recs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (recs[i].item >= run.recommended_cap) {
			size_t cap = run.recommended_cap ?
			    run.recommended_cap : 1024;
			while (cap <= recs[i].item)
				cap *= 2;
			run.recommended = ecs_xrealloc(run.recommended, cap);
			memset(run.recommended + run.recommended_cap, 0,
			    cap - run.recommended_cap);
			run.recommended_cap = cap;
		}
		run.recommended[recs[i].item] = true;
	}
}

static void
out_counts(const char *name, const struct eval_counts *c, bool comma)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s\"%s\":{\"cases\":%llu,\"hr@%zu\":%.4f,"
	    "\"mrr@%zu\":%.4f}", comma ? "," : "", name, c->cases, opt.top_k,
	    c->cases ? (double)c->hits / (double)c->cases : 0, opt.top_k,
	    c->cases ? c->rr / (double)c->cases : 0);
	ecs_out_puts(buf);
}

static void
write_evaluation(double seconds)
{
	char buf[256];
	size_t i, covered = 0;
	int a;

	for (i = 0; i < run.recommended_cap; i++)
		covered += run.recommended[i];
	snprintf(buf, sizeof(buf), "{\"algo\":\"%s\",\"k\":%zu,\"events\":%llu,"
	    "\"cases\":%llu,\"hr@%zu\":%.4f,\"mrr@%zu\":%.4f,\"coverage\":%.4f",
	    algo_names[opt.algo], opt.top_k, run.eval_events,
	    run.eval_all.cases, opt.top_k, run.eval_all.cases ?
	    (double)run.eval_all.hits / (double)run.eval_all.cases : 0,
	    opt.top_k, run.eval_all.cases ?
	    run.eval_all.rr / (double)run.eval_all.cases : 0,
	    ecs_map_count(run.items) ? (double)covered /
	    (double)ecs_map_count(run.items) : 0);
	ecs_out_puts(buf);
	ecs_out_puts(",\"by_action\":{");
	for (a = 0; a < NACTIONS; a++)
		out_counts(action_names[a], &run.eval_by_action[a], a > 0);
	ecs_out_puts("},\"by_item\":{");
	out_counts("new", &run.eval_new, false);
	out_counts("seen_in_session", &run.eval_again, true);
	snprintf(buf, sizeof(buf), "},\"events_per_second\":%.0f}\n",
	    seconds > 0 ? (double)run.seq / seconds : 0);
	ecs_out_puts(buf);
}

/* Records */

static bool
is_id(const struct ecs_field *f)
{
	return f->type == ECS_F_NUMBER || f->type == ECS_F_STRING;
}

/* Stock news in the stream: a snapshot, or an ecs-stock alert. */
static void
stock_news(struct ecs_reader *rd, const struct ecs_field *f, bool in_stock)
{
	char shown[ECS_SHOWN_SIZE];
	int64_t i;

	if (!is_id(&f[F_PRODUCT])) {
		ecs_reader_bad(rd, "field 'product_id' is missing or not a "
		    "number or string%s", ecs_field_shown(&f[F_PRODUCT], shown));
		return;
	}
	if ((i = item_index(&f[F_PRODUCT], true)) >= 0)
		item_at((uint32_t)i)->out = !in_stock;
	ckpt.dirty = true;
}

/*
 * {"query":"recommend","user_id":..}: an answer, nothing learned; a known
 * user's next event judges it, as a line's list (learn_hit_rates). Not
 * under --evaluate: the list judged there is the one made after the
 * event (with --same-category, without its product under --as-shown).
 */
static void
query(struct ecs_reader *rd, const struct ecs_field *f)
{
	static const struct user nobody;
	struct rec recs[MAX_K];
	struct user *u;
	int64_t now;
	size_t n;

	if (!ecs_field_equals(&f[F_QUERY], "recommend") || !is_id(&f[F_USER])) {
		ecs_reader_bad(rd, "a query is {\"query\":\"recommend\","
		    "\"user_id\":...}");
		return;
	}
	u = ecs_map_get(run.users, f[F_USER].text, f[F_USER].len);
	/* Replayed data is as of its own time, not the clock's. */
	if ((now = run.clock.latest) == INT64_MIN)
		now = ecs_time_now();
	n = recommend(u != NULL ? u : &nobody, -1, now, -1, recs, opt.top_k);
	if (u != NULL && !opt.evaluate)
		keep_recs(u, recs, n);
	out_line(++run.seq, &f[F_USER], now, NULL, NULL, recs, n);
}

/* The canonical action of an event, or -1 (and a warning) for others. */
static int
event_action(struct ecs_reader *rd, const struct ecs_field *a)
{
	bool created;
	int i;

	/* a is canonical: ecs_fields_read applied --map-action. */
	for (i = 0; i < NACTIONS; i++)
		if (ecs_field_equals(a, action_names[i]))
			return i;
	if (ecs_field_equals(a, "restock"))
		return -2;		/* back in stock */
	if (run.unknown_actions == NULL)
		run.unknown_actions = ecs_map_create(0, NULL);
	ecs_map_put(run.unknown_actions, a->text, a->len, &created);
	if (created && !ecs_config.quiet)
		warnx("%s:%llu: action '%.*s' is not browse, add_to_cart or "
		    "purchase: passed over (not reported again)", rd->name,
		    rd->lineno, (int)(a->len > 64 ? 64 : a->len), a->text);
	return -1;
}

static void
process(struct ecs_reader *rd, const struct ecs_field *f)
{
	struct rec recs[MAX_K];
	struct user *u;
	enum action a;
	int64_t t, item;
	uint32_t pos1;
	char shown[ECS_SHOWN_SIZE];
	bool fresh, again, untimed;
	int act;
	size_t n;

	if (f[F_QUERY].type != ECS_F_MISSING) {
		query(rd, f);
		return;
	}
	if (f[F_ALERT].type == ECS_F_STRING) {
		stock_news(rd, f, !ecs_field_equals(&f[F_ALERT], "out_of_stock") &&
		    !ecs_field_equals(&f[F_ALERT], "oversold"));
		return;
	}
	if (f[F_ACTION].type == ECS_F_MISSING || f[F_ACTION].type == ECS_F_NULL) {
		int64_t q;
		if (!ecs_field_int64(&f[F_QUANTITY], &q))
			ecs_reader_bad(rd, "no action, and no quantity of an "
			    "inventory snapshot");
		else
			stock_news(rd, f, q > 0);
		return;
	}
	if (f[F_ACTION].type != ECS_F_STRING) {
		ecs_reader_bad(rd, "field 'action' is not a string%s",
		    ecs_field_shown(&f[F_ACTION], shown));
		return;
	}
	if ((act = event_action(rd, &f[F_ACTION])) == -1)
		return;
	if (act == -2) {
		stock_news(rd, f, true);
		return;
	}
	a = (enum action)act;
	if (!is_id(&f[F_USER]) || !is_id(&f[F_PRODUCT])) {
		ecs_reader_bad(rd, "field '%s' is missing or not a number or "
		    "string%s", is_id(&f[F_USER]) ? "product_id" : "user_id",
		    ecs_field_shown(is_id(&f[F_USER]) ? &f[F_PRODUCT] :
		    &f[F_USER], shown));
		return;
	}
	if (!ecs_event_time(&run.clock, &f[F_TS], &t, &untimed)) {
		ecs_reader_bad(rd, "field 'ts' is not a time%s",
		    ecs_field_shown(&f[F_TS], shown));
		return;
	}
	ecs_event_clock_take(&run.clock, t, untimed);
	item = item_index(&f[F_PRODUCT], t <= opt.freeze_after);
	run.seq++;
	u = get_user(&f[F_USER], &pos1);
	if (item < 0) {
		/* An item not learned (--max-items, frozen) still gets a line. */
		fresh = new_session(u, t, &f[F_SESSION]);
		if (opt.evaluate && t >= opt.eval_from) {
			run.eval_events++;
			if (!fresh && opt.emit[a])
				judge(u, a, UINT32_MAX, false);	/* a miss */
		}
		if (!fresh && t <= opt.freeze_after)
			learn_hit_rates(u, UINT32_MAX);
		u->nrecs = 0;
		if (opt.evaluate || opt.emit[a]) {
			/* From the session alone: the list the next event judges. */
			n = recommend(u, -1, t, -1, recs, opt.top_k);
			keep_recs(u, recs, n);
			if (opt.evaluate)
				mark_recommended(recs, n);
			else
				out_line(run.seq, &f[F_USER], t, action_names[a],
				    &f[F_PRODUCT], recs, n);
		}
		return;
	}
	if (f[F_CATEGORY].type != ECS_F_MISSING)
		item_at((uint32_t)item)->category = category_index(&f[F_CATEGORY],
		    item_at((uint32_t)item)->category);
	fresh = new_session(u, t, &f[F_SESSION]);
	again = in_list(u->hist, u->nhist, (uint32_t)item);
	if (opt.evaluate && t >= opt.eval_from) {
		run.eval_events++;
		if (!fresh && opt.emit[a] && !(again && opt.exclude_repeats))
			judge(u, a, (uint32_t)item, again);
	}
	if (!fresh && t <= opt.freeze_after)
		learn_hit_rates(u, (uint32_t)item);
	u->nrecs = 0;
	if (t <= opt.freeze_after)
		learn(u, a, (uint32_t)item, t);
	remember(u, a, (uint32_t)item);
	if (opt.evaluate || opt.emit[a]) {
		/*
		 * Shown to a shopper, the product on screen is no news; judged
		 * as the next click it may well be one (a re-view).
		 */
		n = recommend(u, opt.same_category ? item_at((uint32_t)item)->category :
		    -1, t, opt.evaluate && !opt.as_shown ? -1 : item, recs,
		    opt.top_k);
		keep_recs(u, recs, n);
		if (opt.evaluate)
			mark_recommended(recs, n);
		else
			out_line(run.seq, &f[F_USER], t, action_names[a], &f[F_PRODUCT],
			    recs, n);
	}
	ckpt.dirty = true;
}

/* --catalog FILE: product_id, category, in_stock, blocked. */
static int
load_catalog(void)
{
	static const char *const names[] = { "product_id", "category",
	    "in_stock", "blocked" };
	struct ecs_fieldset fs;
	struct ecs_field f[4];
	struct ecs_reader rd;
	char *files[] = { (char *)opt.catalog_path };
	char shown[ECS_SHOWN_SIZE];
	struct item *it;
	int64_t i;

	ecs_fields_init(&fs, names, 4);
	ecs_reader_init_side(&rd, files, 1);
	while (ecs_reader_line(&rd)) {
		if (!ecs_fields_read(&fs, &rd, f))
			continue;
		if ((i = item_index(&f[0], true)) < 0) {
			if (!is_id(&f[0]))
				ecs_reader_bad(&rd, "field 'product_id' is missing "
				    "or not a number or string%s",
				    ecs_field_shown(&f[0], shown));
			continue;
		}
		it = item_at((uint32_t)i);
		if (f[1].type != ECS_F_MISSING)
			it->category = category_index(&f[1], it->category);
		if (f[2].type == ECS_F_BOOL)
			it->out = f[2].text[0] == 'f';
		if (f[3].type == ECS_F_BOOL)
			it->blocked = f[3].text[0] == 't';
	}
	ecs_fields_finish(&fs);
	return ecs_reader_finish(&rd);
}

/* State: categories, items with their links, users least recent first */

static struct json_object *
edges_json(const struct edges *es)
{
	struct json_object *a = json_object_new_array(), *pair;
	uint16_t i;

	for (i = 0; i < es->n; i++) {
		pair = json_object_new_array();
		json_object_array_add(pair, json_object_new_int64(es->e[i].item));
		json_object_array_add(pair, json_object_new_double(es->e[i].w));
		json_object_array_add(a, pair);
	}
	return a;
}

static struct json_object *
u32_array(const uint32_t *v, size_t n)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_int64(v[i]));
	return a;
}

/* Hit rates as an array: the cases and the hits of each in turn. */
static struct json_object *
rates_json(const struct hit_rate *h, size_t n)
{
	struct json_object *a = json_object_new_array_ext((int)(2 * n));
	size_t i;

	for (i = 0; i < n; i++) {
		json_object_array_add(a, json_object_new_double(h[i].cases));
		json_object_array_add(a, json_object_new_double(h[i].hits));
	}
	return a;
}

static struct json_object *
u8_array(const uint8_t *v, size_t n)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_int(v[i]));
	return a;
}

static void
save_state(void)
{
	struct json_object *head = json_object_new_object(), *rec, *cats;
	const struct item *it;
	const struct user *u;
	const char *key;
	size_t iter, len;
	uint32_t pos1;

	cats = json_object_new_array();
	for (iter = 0; ecs_map_next(run.categories, &iter, &key, &len) != NULL;)
		json_object_array_add(cats, json_object_new_string_len(key,
		    (int)len));
	json_object_object_add(head, "seq", json_object_new_int64((int64_t)run.seq));
	json_object_object_add(head, "latest",
	    json_object_new_int64(run.clock.latest));
	json_object_object_add(head, "sessions",
	    json_object_new_double(run.nsessions_seen));
	json_object_object_add(head, "neighbors", json_object_new_int(opt.neighbors));
	json_object_object_add(head, "categories", cats);
	/* Trending is refreshed every few thousand events: keep it exact. */
	json_object_object_add(head, "trending_seq",
	    json_object_new_int64((int64_t)run.trending_seq));
	json_object_object_add(head, "trending", u32_array(run.trending, run.ntrending));
	json_object_object_add(head, "vstan", ecs_vstan_save_head(run.vstan));
	json_object_object_add(head, "hit_rates_back",
	    rates_json(&run.back[0][0][0], NKINDS * HIST * 2));
	json_object_object_add(head, "hit_rates_ahead",
	    rates_json(&run.ahead[0][0], NKINDS * (AHEAD_RANKS + 1)));
	if (!ecs_checkpoint_begin(&ckpt, head))
		return;
	for (iter = 0; ecs_map_next(run.items, &iter, &key, &len) != NULL;) {
		it = item_at((uint32_t)(iter - 1));	/* items are never removed */
		rec = json_object_new_object();
		json_object_object_add(rec, "item", json_object_new_string_len(key,
		    (int)len));
		json_object_object_add(rec, "string",
		    json_object_new_boolean(it->is_string));
		json_object_object_add(rec, "pop", json_object_new_double(it->pop));
		json_object_object_add(rec, "pop_at",
		    json_object_new_int64(it->pop_at));
		json_object_object_add(rec, "sessions",
		    json_object_new_double(it->sessions));
		json_object_object_add(rec, "category",
		    json_object_new_int(it->category));
		json_object_object_add(rec, "out", json_object_new_boolean(it->out));
		json_object_object_add(rec, "blocked",
		    json_object_new_boolean(it->blocked));
		json_object_object_add(rec, "next", edges_json(&it->next));
		json_object_object_add(rec, "with", edges_json(&it->with));
		ecs_checkpoint_put(&ckpt, rec);
		json_object_put(rec);
	}
	ecs_vstan_save(run.vstan, &ckpt);
	for (pos1 = run.lru_tail; pos1 != 0; pos1 = u->lru_prev) {
		u = user_at(pos1);
		ecs_map_at(run.users, pos1 - 1, &key, &len);
		rec = json_object_new_object();
		json_object_object_add(rec, "user", json_object_new_string_len(key,
		    (int)len));
		json_object_object_add(rec, "last_ts",
		    json_object_new_int64(u->last_ts));
		json_object_object_add(rec, "session",
		    json_object_new_int64((int64_t)u->session));
		json_object_object_add(rec, "neighbour_session",
		    json_object_new_int64((int64_t)u->vsession));
		json_object_object_add(rec, "hist", u32_array(u->hist, u->nhist));
		json_object_object_add(rec, "hist_action", u8_array(u->hist_action,
		    u->nhist));
		json_object_object_add(rec, "taken", u32_array(u->taken,
		    u->ntaken));
		json_object_object_add(rec, "steps", json_object_new_int(u->nsteps));
		json_object_object_add(rec, "returns",
		    json_object_new_int(u->nreturns));
		json_object_object_add(rec, "list", u32_array(u->recs, u->nrecs));
		json_object_object_add(rec, "list_strength",
		    json_object_new_int(u->list_strength));
		json_object_object_add(rec, "list_strong",
		    json_object_new_int(u->list_strong));
		ecs_checkpoint_put(&ckpt, rec);
		json_object_put(rec);
	}
	ecs_checkpoint_commit(&ckpt);
}

/* Reads n hit rates from the array field name of the head. */
static void
load_rates(const struct ecs_state_reader *sr, struct json_object *head,
    const char *name, struct hit_rate *h, size_t n)
{
	struct json_object *a = ecs_state_field(sr, head, name, json_type_array);
	struct json_object *v;
	double x[2];
	size_t i, j;

	if (json_object_array_length(a) != 2 * n)
		ecs_state_corrupt(sr, "%s: expected %zu numbers", name, 2 * n);
	for (i = 0; i < n; i++) {
		for (j = 0; j < 2; j++) {
			v = json_object_array_get_idx(a, 2 * i + j);
			if (!json_object_is_type(v, json_type_double) &&
			    !json_object_is_type(v, json_type_int))
				ecs_state_corrupt(sr, "%s: not a number", name);
			x[j] = json_object_get_double(v);
		}
		/* No more hits than cases, and no NaN: a rate is in [0, 1]. */
		if (!(x[0] >= 0 && x[0] <= 1e18 && x[1] >= 0 && x[1] <= x[0]))
			ecs_state_corrupt(sr, "%s: a bad hit rate", name);
		h[i] = (struct hit_rate){ x[0], x[1] };
	}
}

/* Reads up to max numbers below limit from the array field name. */
static size_t
load_array(const struct ecs_state_reader *sr, struct json_object *rec,
    const char *name, uint32_t *out, size_t max, int64_t limit)
{
	struct json_object *a = ecs_state_field(sr, rec, name, json_type_array), *v;
	size_t i, n = json_object_array_length(a);
	int64_t x;

	if (n > max)
		ecs_state_corrupt(sr, "'%s' too long", name);
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(a, i);
		x = json_object_get_int64(v);
		if (!json_object_is_type(v, json_type_int) || x < 0 || x >= limit)
			ecs_state_corrupt(sr, "bad value in '%s'", name);
		out[i] = (uint32_t)x;
	}
	return n;
}

/* The user's taken items: distinct, ascending, known items. */
static void
load_taken(const struct ecs_state_reader *sr, struct json_object *rec,
    struct user *u, int64_t nitems)
{
	struct json_object *a = ecs_state_field(sr, rec, "taken",
	    json_type_array), *v;
	size_t i, n = json_object_array_length(a);
	int64_t x;

	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(a, i);
		x = json_object_get_int64(v);
		if (!json_object_is_type(v, json_type_int) || x < 0 ||
		    x >= nitems || (u->ntaken > 0 &&
		    (uint32_t)x <= u->taken[u->ntaken - 1]))
			ecs_state_corrupt(sr, "bad value in 'taken'");
		take(u, (uint32_t)x);
	}
}

/*
 * A weight of the state: a number from 0 to max (a float's range where it
 * is kept in one). NaN, an infinity or a negative weight would reach the
 * scores; json-c reads NaN and Infinity, and 1e300 is infinite as a float.
 */
static double
load_weight(const struct ecs_state_reader *sr, struct json_object *v,
    double max, const char *what)
{
	double x;

	if (!json_object_is_type(v, json_type_double) &&
	    !json_object_is_type(v, json_type_int))
		ecs_state_corrupt(sr, "bad %s", what);
	x = json_object_get_double(v);
	if (!(x >= 0 && x <= max))
		ecs_state_corrupt(sr, "bad %s", what);
	return x;
}

static void
load_edges(const struct ecs_state_reader *sr, struct json_object *rec,
    const char *name, struct edges *es)
{
	struct json_object *a = ecs_state_field(sr, rec, name, json_type_array), *pair;
	size_t i, n = json_object_array_length(a);

	if (n > opt.neighbors)
		ecs_state_corrupt(sr, "more links than --neighbors");
	if (n > 0)
		grow_edges(es, (uint16_t)n);
	for (i = 0; i < n; i++) {
		pair = json_object_array_get_idx(a, i);
		if (!json_object_is_type(pair, json_type_array) ||
		    json_object_array_length(pair) != 2 ||
		    !json_object_is_type(json_object_array_get_idx(pair, 0),
		    json_type_int) ||
		    json_object_get_int64(json_object_array_get_idx(pair, 0)) < 0)
			ecs_state_corrupt(sr, "bad link");
		es->e[i].item = (uint32_t)json_object_get_int64(
		    json_object_array_get_idx(pair, 0));
		es->e[i].w = (float)load_weight(sr,
		    json_object_array_get_idx(pair, 1), FLT_MAX, "link");
		edge_fp(es)[i] = fingerprint(es->e[i].item);
	}
	es->n = (uint16_t)n;
}

static void
load_item(const struct ecs_state_reader *sr, struct json_object *rec)
{
	struct json_object *id = ecs_state_field(sr, rec, "item", json_type_string);
	struct ecs_field f = { ecs_state_bool(sr, rec, "string") ?
	    ECS_F_STRING : ECS_F_NUMBER,
	    json_object_get_string(id), (size_t)json_object_get_string_len(id),
	    NULL };
	struct item *it;
	int64_t i, cat;

	if ((i = item_index(&f, true)) != (int64_t)ecs_map_count(run.items) - 1)
		ecs_state_corrupt(sr, "an item twice, or more than --max-items");
	it = item_at((uint32_t)i);
	it->pop = load_weight(sr, ecs_state_field(sr, rec, "pop",
	    json_type_double), DBL_MAX, "pop");
	it->pop_at = ecs_state_int(sr, rec, "pop_at");
	it->sessions = (float)load_weight(sr, ecs_state_field(sr, rec,
	    "sessions", json_type_double), FLT_MAX, "sessions");
	cat = ecs_state_int(sr, rec, "category");
	if (cat < -1 || cat >= (int64_t)ecs_map_count(run.categories))
		ecs_state_corrupt(sr, "bad category");
	it->category = (int32_t)cat;
	it->out = ecs_state_bool(sr, rec, "out");
	it->blocked = ecs_state_bool(sr, rec, "blocked");
	load_edges(sr, rec, "next", &it->next);
	load_edges(sr, rec, "with", &it->with);
}

static void
load_user(const struct ecs_state_reader *sr, struct json_object *rec)
{
	struct json_object *id = ecs_state_field(sr, rec, "user", json_type_string);
	struct ecs_field f = { ECS_F_STRING, json_object_get_string(id),
	    (size_t)json_object_get_string_len(id), NULL };
	uint32_t acts[HIST], list[MAX_K], distinct[HIST], pos1;
	struct user *u = get_user(&f, &pos1);
	int64_t nitems = (int64_t)ecs_map_count(run.items), steps, returns;
	int64_t strength, strong;
	size_t i, nlist;

	u->last_ts = ecs_state_int(sr, rec, "last_ts");
	u->session = (uint64_t)ecs_state_int(sr, rec, "session");
	u->vsession = (uint64_t)ecs_state_int(sr, rec, "neighbour_session");
	u->nhist = (uint8_t)load_array(sr, rec, "hist", u->hist, HIST, nitems);
	if (load_array(sr, rec, "hist_action", acts, HIST, NACTIONS) != u->nhist)
		ecs_state_corrupt(sr, "hist and hist_action differ");
	for (i = 0; i < u->nhist; i++)
		u->hist_action[i] = (uint8_t)acts[i];
	load_taken(sr, rec, u, nitems);
	bound_taken(u);
	steps = ecs_state_int(sr, rec, "steps");
	returns = ecs_state_int(sr, rec, "returns");
	/*
	 * As remember() counts them: a step for each event of the session
	 * after its first (up to 255), and a step back for each repeat of
	 * an item among the 12 kept, as the one before is still there.
	 */
	if (steps < 0 || steps > UINT8_MAX || returns < 0 || returns > steps ||
	    (u->nhist == 0 ? steps > 0 : steps < u->nhist - 1) ||
	    (steps < UINT8_MAX && returns < (int64_t)(u->nhist -
	    session_items(u, distinct))))
		ecs_state_corrupt(sr, "bad steps or returns");
	u->nsteps = (uint8_t)steps;
	u->nreturns = (uint8_t)returns;
	strength = ecs_state_int(sr, rec, "list_strength");
	strong = ecs_state_int(sr, rec, "list_strong");
	if (strength < 0 || strength >= STRENGTHS || strong < 0 ||
	    strong >= 1 << HIST)
		ecs_state_corrupt(sr, "bad list_strength or list_strong");
	u->list_strength = (uint8_t)strength;
	u->list_strong = (uint16_t)strong;
	/* The list of a run with a larger -k: its first -k, a list as good. */
	nlist = load_array(sr, rec, "list", list, MAX_K, nitems);
	for (i = 1; i < nlist; i++)	/* a product twice: a click, two hits */
		if (in_list(list, i, list[i]))
			ecs_state_corrupt(sr, "a product twice in 'list'");
	if (nlist > opt.top_k)
		nlist = opt.top_k;
	if (nlist > 0) {
		if (u->recs == NULL)
			u->recs = ecs_xcalloc(opt.top_k, sizeof(*u->recs));
		memcpy(u->recs, list, nlist * sizeof(*list));
		u->nrecs = (uint8_t)nlist;
	}
}

static void
load_state(void)
{
	struct ecs_state_reader sr;
	struct json_object *head, *rec, *cats, *v;
	const struct item *it;
	size_t i, iter = 0, k;
	bool created;

	if (!ecs_checkpoint_open(&ckpt, &sr, &head))
		return;
	run.seq = (unsigned long long)ecs_state_int(&sr, head, "seq");
	/* Absent from the states of earlier versions: the time is then unknown. */
	if (json_object_object_get_ex(head, "latest", NULL))
		run.clock.latest = ecs_state_int(&sr, head, "latest");
	run.nsessions_seen = load_weight(&sr, ecs_state_field(&sr, head,
	    "sessions", json_type_double), DBL_MAX, "sessions");
	if ((int)ecs_state_int(&sr, head, "neighbors") >
	    opt.neighbors)
		ecs_state_corrupt(&sr, "saved with more --neighbors");
	cats = ecs_state_field(&sr, head, "categories", json_type_array);
	for (i = 0; i < json_object_array_length(cats); i++) {
		v = json_object_array_get_idx(cats, i);
		if (!json_object_is_type(v, json_type_string))
			ecs_state_corrupt(&sr, "bad category");
		ecs_map_put(run.categories, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v), &created);
	}
	run.trending_seq = (unsigned long long)ecs_state_int(&sr, head, "trending_seq");
	ecs_vstan_load_head(run.vstan, &sr, head);
	load_rates(&sr, head, "hit_rates_back", &run.back[0][0][0],
	    NKINDS * HIST * 2);
	load_rates(&sr, head, "hit_rates_ahead", &run.ahead[0][0],
	    NKINDS * (AHEAD_RANKS + 1));
	while ((rec = ecs_state_next(&sr)) != NULL) {
		if (json_object_object_get_ex(rec, "item", &v))
			load_item(&sr, rec);
		else if (!ecs_vstan_load_line(run.vstan, &sr, rec,
		    (uint32_t)ecs_map_count(run.items)))
			load_user(&sr, rec);
	}
	/* The trending list names items: read once they are all there. */
	run.trending = ecs_xrealloc(run.trending,
	    4 * MAX_K * sizeof(*run.trending));
	run.ntrending = load_array(&sr, head, "trending", run.trending,
	    4 * MAX_K, (int64_t)ecs_map_count(run.items));
	mark_trending(true);
	for (iter = 0; iter < ecs_map_count(run.items); iter++) {
		it = item_at((uint32_t)iter);
		for (k = 0; k < it->next.n; k++)
			if (it->next.e[k].item >= ecs_map_count(run.items))
				ecs_state_corrupt(&sr, "a link to no item");
		for (k = 0; k < it->with.n; k++)
			if (it->with.e[k].item >= ecs_map_count(run.items))
				ecs_state_corrupt(&sr, "a link to no item");
	}
	ecs_state_close(&sr);
}

/* What a user owns, for its map. */
static void
free_user(void *v)
{
	struct user *u = v;

	free(u->recs);
	free(u->taken);
}

static void
free_all(void)
{
	size_t i;

	for (i = 0; i < ecs_map_count(run.items); i++) {
		free(run.item[i].next.e);
		free(run.item[i].with.e);
	}
	free(run.item);
	free(cands.at);
	ecs_map_destroy(run.items);
	ecs_map_destroy(run.users);
	ecs_map_destroy(run.categories);
	ecs_map_destroy(run.unknown_actions);
	ecs_vstan_destroy(run.vstan);
	free(run.trending);
	free(run.recommended);
}

static void
memory_budget(void)
{
	/*
	 * An item, its map entry and slot, its candidate index, its links
	 * with their fingerprints.
	 */
	double item_mb = (double)opt.max_items * (sizeof(struct item) + 16 +
	    16 + sizeof(*cands.at) + 2.0 * opt.neighbors *
	    (sizeof(struct edge) + 1)) / 1048576;
	/* The last list made for a user: lines, --evaluate, queries. */
	size_t list_bytes = opt.top_k * 4 + 16;
	double user_mb = (double)opt.max_users * (sizeof(struct user) + 16 +
	    16 + list_bytes) / 1048576;
	/* Arrays grow by doubling from 4: at most 4 + twice their items. */
	double taken_mb = (double)opt.max_users * (4 + 2 * TAKEN_PER_USER) *
	    sizeof(uint32_t) / 1048576;

	double near_mb = ecs_vstan_budget(opt.max_items) / 1048576;

	warnx("memory budget: %.0f MB for %zu items (%zu bytes each with %u "
	    "links of each kind) + %.0f MB for %zu users (%zu bytes each, "
	    "and %zu for a list) + %.0f MB for their carted and bought items (%d a user on "
	    "average) + %.0f MB for the session neighbours (%d sessions, %d "
	    "per item), plus ids", item_mb, opt.max_items,
	    (size_t)(sizeof(struct item) +
	    2 * opt.neighbors * (sizeof(struct edge) + 1)), opt.neighbors, user_mb,
	    opt.max_users, sizeof(struct user), list_bytes, taken_mb,
	    TAKEN_PER_USER,
	    near_mb, ECS_VSTAN_RING, ECS_VSTAN_PER_ITEM);
}

/* For --stats and SIGUSR1: the users and items held. */
static void
count(struct ecs_counters *c)
{
	c->keys = ecs_map_count(run.users) + ecs_map_count(run.items);
}

int
main(int argc, char *argv[])
{
	struct ecs_fieldset fs;
	struct ecs_field f[NFIELDS];
	struct ecs_reader rd;
	struct timespec t0, t1;
	int first, status = ECS_EXIT_OK;

	parse_options(argc, argv, &first);
	run.items = ecs_map_create(0, NULL);
	run.users = ecs_map_create(sizeof(struct user), free_user);
	run.categories = ecs_map_create(0, NULL);
	run.vstan = ecs_vstan_create(&vstan_params, VSTAN_K);
	if (opt.verbose)
		memory_budget();
	if (ckpt.path != NULL)
		load_state();
	if (opt.catalog_path != NULL)
		status |= load_catalog();
	ecs_signals_init();
	ecs_stats_hook(count);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	ecs_fields_init(&fs, field_names, NFIELDS);
	ecs_reader_init(&rd, argv + first, argc - first);
	ecs_checkpoint_init(&ckpt, &rd);
	while (ecs_reader_line(&rd)) {
		if (ecs_fields_read(&fs, &rd, f))
			process(&rd, f);
		ecs_checkpoint_tick(&ckpt);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (opt.evaluate)
		write_evaluation((double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (run.evicted_users > run.evicted_for_taken && !ecs_config.quiet)
		warnx("%llu users evicted, least recently active first "
		    "(--max-users %zu)",
		    run.evicted_users - run.evicted_for_taken, opt.max_users);
	if (run.evicted_for_taken > 0 && !ecs_config.quiet)
		warnx("%llu users evicted, least recently active first, to keep "
		    "the carted and bought items within %d per user on average "
		    "(--max-users %zu)", run.evicted_for_taken, TAKEN_PER_USER,
		    opt.max_users);
	ecs_event_clock_summary(&run.clock);
	status |= ecs_checkpoint_finish(&ckpt, &rd);
	status |= ecs_out_close();
	ecs_fields_finish(&fs);
	free_all();
	ecs_buf_free(&run.out);
	return status;
}
