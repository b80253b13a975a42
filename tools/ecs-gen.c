/* SPDX-License-Identifier: ISC */
/*
 * ecs-gen -- a deterministic, realistic e-commerce event stream. Users
 * arrive in sessions at a day/night rhythm, browse long-tailed (Zipf)
 * products that come in categories and affinity groups, some add to cart
 * and fewer buy; with --inventory the stream also carries opening stock,
 * and restocks when stock runs low. The same seed gives the same bytes on
 * every machine: only integer arithmetic and correctly rounded double
 * additions and divisions decide what is written.
 */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecs.h"

#define GROUP_SIZE	5		/* products per affinity group */
#define MAX_CART	4
#define MAX_VIEWS	40

enum {
	OPT_CART_RATE = ECS_OPT_TOOL,
	OPT_BUY_RATE,
	OPT_OVERSELL,
	OPT_WEEKLY,
	OPT_OUTAGE,
	OPT_SURGE,
	OPT_LABELS,
	OPT_UNTIL,
};

static const char *const categories[] = {
	"electronics", "fashion", "shoes", "home", "kitchen", "beauty", "toys",
	"sports", "books", "garden", "grocery", "pets", "health", "jewelry",
	"automotive", "office", "music", "games", "baby", "outdoor",
};
#define NCATEGORIES	(sizeof(categories) / sizeof(categories[0]))

/* Relative session arrivals per UTC hour: quiet nights, busy evenings. */
static const int hour_weight[24] = {
	3, 2, 1, 1, 1, 2, 4, 6, 8, 9, 10, 10,
	10, 10, 10, 11, 12, 13, 14, 14, 12, 9, 6, 4,
};

/* With --weekly, relative arrivals per UTC day, Monday first: weekends
 * are quieter. */
static const int day_weight[7] = { 10, 10, 10, 10, 9, 6, 7 };

/* An injected anomaly: an outage writes no shopper events, a surge
 * multiplies the arrivals. */
struct anomaly {
	int64_t		 start, end;
	double		 factor;		/* 0: an outage */
};

struct product {
	uint32_t	 id;
	uint32_t	 category;
	uint32_t	 price_cents;
	int64_t		 stock;
	int64_t		 opening;
	bool		 restock_pending;
};

enum step { S_VIEW, S_CART, S_PURCHASE };

struct session {
	uint64_t	 id;
	uint32_t	 user;
	uint32_t	 product;	/* index of the product in view */
	bool		 viewed;	/* product is set */
	enum step	 step;
	int		 views_left;
	int		 cart_at;	/* views left when the next cart happens */
	bool		 buys;
	uint32_t	 cart[MAX_CART];
	uint8_t		 cart_qty[MAX_CART];
	int		 ncart;
	int		 paid;		/* cart items handled at checkout */
	uint64_t	 order_id;
	int		 next_free;	/* free list link while unused */
};

enum actor_kind { A_ARRIVAL, A_SESSION, A_RESTOCK };

/* Something that happens at a time; ties go in the order of scheduling. */
struct actor {
	int64_t		 time;
	uint64_t	 seq;
	enum actor_kind	 kind;
	uint32_t	 index;		/* session slot or product index */
};

/* The options, as parsed; then only read. */
static struct {
	unsigned long long max_events;		/* --events; 0: no end */
	uint64_t	 seed;			/* --seed */
	uint32_t	 nusers;		/* --users */
	uint32_t	 nproducts;		/* --products */
	int64_t		 start_ms;		/* --start */
	double		 rate;			/* --rate; 0 when not given */
	bool		 inventory;		/* --inventory */
	uint64_t	 cart_threshold;	/* --cart-rate, of 2^32 */
	uint64_t	 buy_threshold;		/* --buy-rate */
	uint64_t	 oversell_threshold;	/* --oversell */
	bool		 weekly;		/* --weekly */
	struct anomaly	*anomalies;		/* --outage, --surge */
	size_t		 nanomalies;
	const char	*labels_path;		/* --labels */
	int64_t		 until_ms;		/* --until; INT64_MAX: none */
} opt = {
	.max_events = 10000, .seed = 1, .nusers = 10000, .nproducts = 1000,
	.until_ms = INT64_MAX,
};

/* The state of the run. */
static struct {
	uint64_t	 rng[4];		/* xoshiro256** state */
	struct product	*products;
	uint32_t	*by_rank;		/* popularity rank -> product */
	double		*zipf_cdf;		/* by rank */
	/* Session slots; free_session heads the list of unused ones. */
	struct session	*sessions;
	int		 nsessions, session_cap, free_session;
	struct actor	*heap;			/* what happens next, first */
	size_t		 heap_len, heap_cap;
	uint64_t	 heap_seq, next_session_id, next_order_id;
	unsigned long long written;		/* lines */
	struct ecs_pace	 pace;			/* --rate */
	/* The line being written, and the date of the last time in it. */
	char		 line[512];
	size_t		 line_len;
	int64_t		 cached_day;
	char		 day_prefix[16];	/* "2026-11-01T" */
} run = {
	.free_session = -1, .next_session_id = 1, .next_order_id = 1,
	.cached_day = INT64_MIN,
};

/* No input, so none of the shared input options but what a run reports. */
static const struct option longopts[] = {
	{ "buy-rate",	required_argument,	NULL, OPT_BUY_RATE },
	{ "cart-rate",	required_argument,	NULL, OPT_CART_RATE },
	{ "events",	required_argument,	NULL, 'n' },
	{ "help",	no_argument,		NULL, 'h' },
	{ "inventory",	no_argument,		NULL, 'i' },
	{ "labels",	required_argument,	NULL, OPT_LABELS },
	{ "outage",	required_argument,	NULL, OPT_OUTAGE },
	{ "oversell",	required_argument,	NULL, OPT_OVERSELL },
	{ "products",	required_argument,	NULL, 'p' },
	{ "progress",	no_argument,		NULL, ECS_OPT_PROGRESS },
	{ "rate",	required_argument,	NULL, 'r' },
	{ "seed",	required_argument,	NULL, 's' },
	{ "start",	required_argument,	NULL, 'S' },
	{ "stats",	required_argument,	NULL, ECS_OPT_STATS },
	{ "surge",	required_argument,	NULL, OPT_SURGE },
	{ "until",	required_argument,	NULL, OPT_UNTIL },
	{ "users",	required_argument,	NULL, 'u' },
	{ "version",	no_argument,		NULL, 'V' },
	{ "weekly",	no_argument,		NULL, OPT_WEEKLY },
	{ NULL,		0,			NULL, 0 }
};

static _Noreturn void
usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fprintf(fp,
"usage: ecs-gen [-hiV] [-n events] [-p products] [-r rate] [-S start]\n"
"               [-s seed] [-u users] [--buy-rate p] [--cart-rate p]\n"
"               [--oversell p] [--until time] [--weekly]\n"
"               [--outage start,duration]... [--surge start,duration,x]...\n"
"               [--labels file] [--progress] [--stats file]\n");
	if (status != 0)
		exit(status);
	fprintf(fp,
"Write a deterministic, realistic e-commerce event stream (ecs-gen(1)).\n"
"  -n, --events N       lines to write (default 10000; 0: no end)\n"
"  -i, --inventory      add opening stock snapshots and restocks\n"
"  -p, --products P     products (default 1000)\n"
"  -r, --rate R         write R lines per second of wall time\n"
"  -S, --start TIME     time of the first event (default\n"
"                       2026-11-01T00:00:00Z; 'now' for the clock)\n"
"  -s, --seed S         random seed (default 1): same seed, same bytes\n"
"  -u, --users U        users (default 10000)\n"
"      --cart-rate P    share of sessions that add to cart (default 0.08)\n"
"      --buy-rate P     share of carting sessions that buy (default 0.3)\n"
"      --oversell P     with --inventory, chance that a purchase of a\n"
"                       product out of stock goes through (default 0)\n"
"      --until TIME     stop before the first event at TIME or later\n"
"      --weekly         arrivals also follow a weekly rhythm (quieter\n"
"                       weekends)\n"
"      --outage START,DURATION  no shopper events in that time\n"
"      --surge START,DURATION,X  X times the arrivals in that time\n"
"      --labels FILE    write the outages and surges there, as NDJSON\n"
"      --progress       lines written, lines/s, percent and ETA on stderr\n"
"      --stats FILE     at the end, the run's counters as one JSON object\n"
"                       (SIGUSR1 prints them on stderr at any time)\n"
"  -h, --help           show this help and exit\n"
"  -V, --version        show the version and exit\n");
	exit(0);
}

/* Random numbers: xoshiro256**, seeded through splitmix64. */

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
next_random(void)
{
	uint64_t result = rotl(run.rng[1] * 5, 7) * 9, t = run.rng[1] << 17;

	run.rng[2] ^= run.rng[0];
	run.rng[3] ^= run.rng[1];
	run.rng[1] ^= run.rng[2];
	run.rng[0] ^= run.rng[3];
	run.rng[2] ^= t;
	run.rng[3] = rotl(run.rng[3], 45);
	return result;
}

/* Uniform in [lo, hi]. */
static int64_t
uniform(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(next_random() % (uint64_t)(hi - lo + 1));
}

/* True with probability threshold / 2^32 (so 2^32 is certain). */
static bool
chance(uint64_t threshold)
{
	return (next_random() >> 32) < threshold;
}

static uint64_t
probability(const char *opt, const char *arg)
{
	char *end;
	double p = strtod(arg, &end);

	if (end == arg || *end != '\0' || !(p >= 0 && p <= 1))
		errx(ECS_EXIT_USAGE, "%s '%s': expected a probability from 0 "
		    "to 1", opt, arg);
	return (uint64_t)(p * 4294967296.0);
}

/* Catalogue */

/* A product's stable price: mostly cheap, some mid-range, a few dear. */
static uint32_t
price_of(uint64_t h)
{
	static const uint32_t endings[] = { 99, 49, 0, 95 };
	uint32_t whole, tier = (uint32_t)(h % 10);

	h /= 10;
	if (tier < 6)
		whole = 1 + (uint32_t)(h % 30);
	else if (tier < 9)
		whole = 30 + (uint32_t)(h % 120);
	else
		whole = 150 + (uint32_t)(h % 850);
	return whole * 100 + endings[(h >> 16) % 4];
}

static void
make_catalogue(void)
{
	uint32_t i, j, tmp;
	uint32_t ngroups = (opt.nproducts + GROUP_SIZE - 1) / GROUP_SIZE;
	uint32_t ncat = ngroups < NCATEGORIES ? ngroups : NCATEGORIES;
	uint64_t h = opt.seed ^ 0x5eedULL;
	double sum = 0;

	run.products = ecs_xcalloc(opt.nproducts, sizeof(*run.products));
	run.by_rank = ecs_xcalloc(opt.nproducts, sizeof(*run.by_rank));
	run.zipf_cdf = ecs_xcalloc(opt.nproducts, sizeof(*run.zipf_cdf));
	for (i = 0; i < opt.nproducts; i++) {
		run.products[i].id = 1001 + i;
		run.products[i].category = (i / GROUP_SIZE) % ncat;
		run.products[i].price_cents = price_of(splitmix64(&h));
		run.by_rank[i] = i;
	}
	/* Fisher-Yates: popularity does not follow the ids. */
	for (i = opt.nproducts - 1; i > 0; i--) {
		j = (uint32_t)uniform(0, i);
		tmp = run.by_rank[i];
		run.by_rank[i] = run.by_rank[j];
		run.by_rank[j] = tmp;
	}
	/* Zipf with s = 1: the product of rank k is chosen in proportion to 1/k. */
	for (i = 0; i < opt.nproducts; i++)
		run.zipf_cdf[i] = (sum += 1.0 / (double)(i + 1));
	for (i = 0; i < opt.nproducts; i++) {
		run.zipf_cdf[i] /= sum;
		/* Opening stock follows popularity. */
		run.products[run.by_rank[i]].opening =
		    11 + 100 / (int64_t)(i + 1);
		run.products[run.by_rank[i]].stock =
		    run.products[run.by_rank[i]].opening;
	}
}

static uint32_t
popular_product(void)
{
	double u = (double)(next_random() >> 11) * 0x1.0p-53;
	uint32_t lo = 0, hi = opt.nproducts - 1, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (run.zipf_cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return run.by_rank[lo];
}

/* What a shopper looks at next: the same group, the category, or anything. */
static uint32_t
next_product(uint32_t current)
{
	uint32_t group = current / GROUP_SIZE, ngroups, ncat, g;
	int64_t roll = uniform(0, 99);

	ngroups = (opt.nproducts + GROUP_SIZE - 1) / GROUP_SIZE;
	ncat = ngroups < NCATEGORIES ? ngroups : NCATEGORIES;
	if (roll < 45) {
		g = group;
	} else if (roll < 65) {
		/* A group of the same category: groups g with g % ncat equal. */
		g = group % ncat + ncat * (uint32_t)uniform(0,
		    (ngroups - 1 - group % ncat) / ncat);
	} else
		return popular_product();
	return (uint32_t)uniform(g * GROUP_SIZE, g * GROUP_SIZE + GROUP_SIZE -
	    1 < opt.nproducts - 1 ? g * GROUP_SIZE + GROUP_SIZE - 1 :
	    opt.nproducts - 1);
}

/* The schedule: a binary heap of actors ordered by (time, seq). */

static bool
before(const struct actor *a, const struct actor *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void
schedule(int64_t time, enum actor_kind kind, uint32_t index)
{
	struct actor a = { time, run.heap_seq++, kind, index };
	size_t i, parent;

	if (run.heap_len == run.heap_cap) {
		run.heap_cap = run.heap_cap ? run.heap_cap * 2 : 256;
		run.heap = ecs_xrealloc(run.heap,
		    run.heap_cap * sizeof(*run.heap));
	}
	for (i = run.heap_len++; i > 0; i = parent) {
		parent = (i - 1) / 2;
		if (!before(&a, &run.heap[parent]))
			break;
		run.heap[i] = run.heap[parent];
	}
	run.heap[i] = a;
}

static struct actor
next_actor(void)
{
	struct actor top = run.heap[0], last = run.heap[--run.heap_len];
	size_t i = 0, child;

	for (;;) {
		child = 2 * i + 1;
		if (child >= run.heap_len)
			break;
		if (child + 1 < run.heap_len &&
		    before(&run.heap[child + 1], &run.heap[child]))
			child++;
		if (!before(&run.heap[child], &last))
			break;
		run.heap[i] = run.heap[child];
		i = child;
	}
	if (run.heap_len > 0)
		run.heap[i] = last;
	return top;
}

/* Output: one line built by hand, since formatting is the hot path. */

static void
put(const char *s)
{
	size_t n = strlen(s);

	memcpy(run.line + run.line_len, s, n);
	run.line_len += n;
}

static void
put_uint(uint64_t v)
{
	char buf[24];
	int n = 0;

	do
		buf[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		run.line[run.line_len++] = buf[--n];
}

static void
put_digits(unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		run.line[run.line_len + (size_t)i] = (char)('0' + v % 10);
	run.line_len += (size_t)width;
}

/* "ts":"2026-11-01T10:00:03.120Z", the date part formatted once a day. */
static void
put_ts(int64_t ms)
{
	int64_t day = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
	int64_t rem = ms - day * 86400000;
	char buf[32];

	if (day != run.cached_day) {
		ecs_time_format(day * 86400000, buf);
		memcpy(run.day_prefix, buf, 11);
		run.cached_day = day;
	}
	put("\"ts\":\"");
	memcpy(run.line + run.line_len, run.day_prefix, 11);
	run.line_len += 11;
	put_digits((unsigned)(rem / 3600000), 2);
	run.line[run.line_len++] = ':';
	put_digits((unsigned)(rem / 60000 % 60), 2);
	run.line[run.line_len++] = ':';
	put_digits((unsigned)(rem / 1000 % 60), 2);
	run.line[run.line_len++] = '.';
	put_digits((unsigned)(rem % 1000), 3);
	put("Z\"");
}

static void
put_price(uint32_t cents)
{
	put_uint(cents / 100);
	run.line[run.line_len++] = '.';
	put_digits(cents % 100, 2);
}

/* Paces (--rate) and writes the line; false when the run is over. */
static bool
write_line(void)
{
	run.line[run.line_len++] = '\n';
	if (opt.rate > 0 && !ecs_pace_wait(&run.pace,
	    (int64_t)((double)run.written * 1e9 / opt.rate)))
		return false;
	ecs_out_write(run.line, run.line_len);
	run.line_len = 0;
	run.written++;
	if (ecs_stats_signal || (ecs_config.progress &&
	    (run.written & 1023) == 0))
		ecs_stats_poll(NULL);
	return !ecs_stop_signal &&
	    (opt.max_events == 0 || run.written < opt.max_events);
}

static bool
write_snapshot(const struct product *p, int64_t now)
{
	put("{\"product_id\":");
	put_uint(p->id);
	put(",\"quantity\":");
	put_uint((uint64_t)p->stock);
	run.line[run.line_len++] = ',';
	put_ts(now);
	run.line[run.line_len++] = '}';
	return write_line();
}

static bool
write_restock(const struct product *p, int64_t quantity, int64_t now)
{
	put("{\"action\":\"restock\",\"product_id\":");
	put_uint(p->id);
	put(",\"quantity\":");
	put_uint((uint64_t)quantity);
	run.line[run.line_len++] = ',';
	put_ts(now);
	run.line[run.line_len++] = '}';
	return write_line();
}

/* Monday 0 to Sunday 6, in UTC: 1970-01-05 was a Monday. */
static int
day_of_week(int64_t ms)
{
	int64_t days = (ms >= 0 ? ms : ms - 86399999) / 86400000;

	return (int)(((days - 4) % 7 + 7) % 7);
}

/* The arrivals' factor at now: that of a surge (1: none). */
static double
surge_factor(int64_t now)
{
	size_t i;

	for (i = 0; i < opt.nanomalies; i++)
		if (opt.anomalies[i].factor > 0 &&
		    now >= opt.anomalies[i].start && now < opt.anomalies[i].end)
			return opt.anomalies[i].factor;
	return 1;
}

/* Whether now is in an outage. */
static bool
in_outage(int64_t now)
{
	size_t i;

	for (i = 0; i < opt.nanomalies; i++)
		if (opt.anomalies[i].factor == 0 &&
		    now >= opt.anomalies[i].start && now < opt.anomalies[i].end)
			return true;
	return false;
}

/* A shopper's event; quantity and order only where they apply. */
static bool
write_event(const struct session *s, const char *action, uint32_t product,
    unsigned quantity, int64_t now)
{
	const struct product *p = &run.products[product];

	if (in_outage(now))	/* the shop is down: nothing is recorded */
		return !ecs_stop_signal;
	put("{\"user_id\":");
	put_uint(s->user);
	put(",\"session_id\":");
	put_uint(s->id);
	put(",\"action\":\"");
	put(action);
	put("\",\"product_id\":");
	put_uint(p->id);
	run.line[run.line_len++] = ',';
	put_ts(now);
	put(",\"price\":");
	put_price(p->price_cents);
	if (quantity > 0) {
		put(",\"quantity\":");
		put_uint(quantity);
	}
	if (s->order_id != 0) {
		put(",\"order_id\":");
		put_uint(s->order_id);
	}
	put(",\"category\":\"");
	put(categories[p->category]);
	put("\"}");
	return write_line();
}

/* The shop's side: stock moves, and low stock is reordered. */

static void
take_stock(uint32_t product, int64_t quantity, int64_t now)
{
	struct product *p = &run.products[product];
	int64_t reorder_at = p->opening / 4 > 3 ? p->opening / 4 : 3;

	p->stock -= quantity;
	if (p->stock <= reorder_at && !p->restock_pending) {
		p->restock_pending = true;
		/* Suppliers deliver in 12 to 96 hours. */
		schedule(now + uniform(12 * 3600000LL, 96 * 3600000LL),
		    A_RESTOCK, product);
	}
}

static bool
restock(uint32_t product, int64_t now)
{
	struct product *p = &run.products[product];
	int64_t quantity = p->opening - p->stock;

	p->restock_pending = false;
	if (quantity <= 0)
		return true;
	p->stock += quantity;
	return write_restock(p, quantity, now);
}

/* Sessions */

static uint32_t
new_session(int64_t now)
{
	struct session *s;
	int slot, views;

	if (run.free_session >= 0) {
		slot = run.free_session;
		run.free_session = run.sessions[slot].next_free;
	} else {
		if (run.nsessions == run.session_cap) {
			run.session_cap = run.session_cap ?
			    run.session_cap * 2 : 64;
			run.sessions = ecs_xrealloc(run.sessions,
			    (size_t)run.session_cap * sizeof(*run.sessions));
		}
		slot = run.nsessions++;
	}
	s = &run.sessions[slot];
	memset(s, 0, sizeof(*s));
	s->id = run.next_session_id++;
	s->user = (uint32_t)uniform(1, opt.nusers);
	/* Views per session: 1 plus a geometric number, mean about 6. */
	for (views = 1; views < MAX_VIEWS && uniform(0, 99) < 83; views++)
		;
	s->views_left = views;
	s->cart_at = chance(opt.cart_threshold) ?
	    (int)uniform(0, views - 1) : -1;
	s->buys = chance(opt.buy_threshold);
	s->step = S_VIEW;
	schedule(now, A_SESSION, (uint32_t)slot);
	return (uint32_t)slot;
}

static void
end_session(uint32_t slot)
{
	run.sessions[slot].next_free = run.free_session;
	run.free_session = (int)slot;
}

static unsigned
cart_quantity(void)
{
	int64_t roll = uniform(0, 99);

	return roll < 80 ? 1 : roll < 95 ? 2 : 3;
}

/* A product carted again adds to its line: one line per product. */
static void
add_to_cart(struct session *s, unsigned qty)
{
	int i;

	for (i = 0; i < s->ncart; i++)
		if (s->cart[i] == s->product) {
			s->cart_qty[i] += (uint8_t)qty;
			return;
		}
	s->cart[s->ncart] = s->product;
	s->cart_qty[s->ncart++] = (uint8_t)qty;
}

/* After the last view: check out if the session buys, else leave. */
static void
after_views(struct session *s, uint32_t slot, int64_t now)
{
	if (s->ncart > 0 && s->buys) {
		s->step = S_PURCHASE;
		s->order_id = run.next_order_id++;
		schedule(now + uniform(30000, 300000), A_SESSION, slot);
	} else
		end_session(slot);
}

/* One step of a session: at most one event. */
static bool
step_session(uint32_t slot, int64_t now)
{
	struct session *s = &run.sessions[slot];
	struct product *p;
	unsigned qty;
	bool more = true;

	switch (s->step) {
	case S_VIEW:
		s->product = s->viewed ? next_product(s->product) :
		    popular_product();
		s->viewed = true;
		s->views_left--;
		more = write_event(s, "browse", s->product, 0, now);
		if (s->views_left == s->cart_at && s->ncart < MAX_CART) {
			s->step = S_CART;
			schedule(now + uniform(5000, 30000), A_SESSION, slot);
		} else if (s->views_left > 0)
			schedule(now + uniform(5000, 90000), A_SESSION, slot);
		else
			after_views(s, slot, now);
		break;
	case S_CART:
		qty = cart_quantity();
		add_to_cart(s, qty);
		more = write_event(s, "add_to_cart", s->product, qty, now);
		/* A third of carts are followed by a cart of the next view. */
		s->cart_at = s->views_left > 0 && uniform(0, 2) == 0 ?
		    s->views_left - 1 : -1;
		s->step = S_VIEW;
		if (s->views_left > 0)
			schedule(now + uniform(5000, 90000), A_SESSION, slot);
		else
			after_views(s, slot, now);
		break;
	case S_PURCHASE:
		p = &run.products[s->cart[s->paid]];
		qty = s->cart_qty[s->paid];
		if (!opt.inventory || p->stock >= qty ||
		    chance(opt.oversell_threshold)) {
			if (opt.inventory)
				take_stock(s->cart[s->paid], qty, now);
			more = write_event(s, "purchase", s->cart[s->paid], qty,
			    now);
		}
		if (++s->paid < s->ncart)
			schedule(now + uniform(0, 2000), A_SESSION, slot);
		else
			end_session(slot);
		break;
	}
	return more;
}

/* Mean gap between session arrivals at this time of day, in ms. */
static int64_t
arrival_gap(int64_t now)
{
	int64_t ms_of_day = now % 86400000;
	int64_t mean;

	if (ms_of_day < 0)
		ms_of_day += 86400000;
	if (!opt.weekly && opt.nanomalies == 0) {	/* the pinned stream */
		mean = 60000 / hour_weight[ms_of_day / 3600000];
		return uniform(1, 2 * mean);
	}
	mean = 600000 / (hour_weight[ms_of_day / 3600000] *
	    (opt.weekly ? day_weight[day_of_week(now)] : 10));
	mean = (int64_t)((double)mean / surge_factor(now));
	return uniform(1, 2 * (mean > 1 ? mean : 1));
}

static void
generate(void)
{
	struct actor a;
	uint32_t i;
	bool more = true;

	if (opt.inventory)
		for (i = 0; i < opt.nproducts && more; i++)
			more = write_snapshot(&run.products[i], opt.start_ms);
	schedule(opt.start_ms, A_ARRIVAL, 0);
	while (more) {
		a = next_actor();
		if (a.time >= opt.until_ms)
			break;
		switch (a.kind) {
		case A_ARRIVAL:
			new_session(a.time);
			schedule(a.time + arrival_gap(a.time), A_ARRIVAL, 0);
			break;
		case A_SESSION:
			more = step_session(a.index, a.time);
			break;
		case A_RESTOCK:
			more = restock(a.index, a.time);
			break;
		}
	}
}

/* --outage START,DURATION or --surge START,DURATION,FACTOR. */
static void
add_anomaly(bool surge, const char *arg)
{
	const char *name = surge ? "--surge" : "--outage";
	char *copy = ecs_xstrdup(arg), *start, *duration, *factor, *end;
	struct anomaly a = { 0 };

	start = strtok(copy, ",");
	duration = strtok(NULL, ",");
	factor = strtok(NULL, ",");
	if (start == NULL || duration == NULL || (factor != NULL) != surge ||
	    strtok(NULL, ",") != NULL)
		errx(ECS_EXIT_USAGE, "%s '%s': expected %s", name, arg, surge ?
		    "START,DURATION,FACTOR" : "START,DURATION");
	a.start = ecs_opt_time(name, start);
	a.end = a.start + ecs_opt_duration(name, duration);
	if (surge && (a.factor = strtod(factor, &end), end == factor ||
	    *end != '\0' || !(a.factor > 0 && a.factor <= 1000)))
		errx(ECS_EXIT_USAGE, "%s '%s': the factor must be above 0, at "
		    "most 1000", name, arg);
	free(copy);
	opt.anomalies = ecs_xrealloc(opt.anomalies,
	    (opt.nanomalies + 1) * sizeof(*opt.anomalies));
	opt.anomalies[opt.nanomalies++] = a;
}

/* --labels: each anomaly, {"anomaly":KIND,"start":T,"end":T[,"factor":X]}. */
static void
write_labels(void)
{
	char t[32];
	FILE *fp;
	size_t i;

	if (opt.labels_path == NULL)
		return;
	if ((fp = fopen(opt.labels_path, "w")) == NULL)
		err(ECS_EXIT_DATA, "%s", opt.labels_path);
	for (i = 0; i < opt.nanomalies; i++) {
		fprintf(fp, "{\"anomaly\":\"%s\"", opt.anomalies[i].factor > 0 ?
		    "surge" : "outage");
		ecs_time_format(opt.anomalies[i].start, t);
		fprintf(fp, ",\"start\":\"%s\"", t);
		ecs_time_format(opt.anomalies[i].end, t);
		fprintf(fp, ",\"end\":\"%s\"", t);
		if (opt.anomalies[i].factor > 0)
			fprintf(fp, ",\"factor\":%g", opt.anomalies[i].factor);
		fputs("}\n", fp);
	}
	if (ferror(fp) | fclose(fp))
		err(ECS_EXIT_DATA, "%s", opt.labels_path);
}

static void
parse_options(int argc, char *argv[])
{
	char *end;
	int ch;

	opt.cart_threshold = probability("--cart-rate", "0.08");
	opt.buy_threshold = probability("--buy-rate", "0.3");
	if (!ecs_time_parse("2026-11-01T00:00:00Z", 20, &opt.start_ms))
		abort();
	while ((ch = getopt_long(argc, argv, "hin:p:r:S:s:u:V", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(0);
		case 'i':
			opt.inventory = true;
			break;
		case 'n':
			opt.max_events = ecs_opt_count("--events", optarg, 0,
			    ~0ULL);
			break;
		case 'p':
			opt.nproducts = (uint32_t)ecs_opt_count("--products",
			    optarg, 0, 10000000);
			break;
		case 'r':
			opt.rate = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(opt.rate > 0 &&
			    opt.rate <= 1e9))
				errx(ECS_EXIT_USAGE, "--rate '%s': expected "
				    "lines per second above 0", optarg);
			break;
		case 'S':
			if (strcmp(optarg, "now") == 0)
				opt.start_ms = ecs_time_now();
			else if (!ecs_time_parse(optarg, strlen(optarg),
			    &opt.start_ms))
				errx(ECS_EXIT_USAGE, "--start '%s': not a time",
				    optarg);
			break;
		case 's':
			opt.seed = ecs_opt_count("--seed", optarg, 0, ~0ULL);
			break;
		case 'u':
			opt.nusers = (uint32_t)ecs_opt_count("--users", optarg,
			    0, UINT32_MAX);
			break;
		case OPT_BUY_RATE:
			opt.buy_threshold = probability("--buy-rate", optarg);
			break;
		case OPT_CART_RATE:
			opt.cart_threshold = probability("--cart-rate", optarg);
			break;
		case OPT_LABELS:
			opt.labels_path = optarg;
			break;
		case OPT_OUTAGE:
		case OPT_SURGE:
			add_anomaly(ch == OPT_SURGE, optarg);
			break;
		case OPT_UNTIL:
			opt.until_ms = ecs_opt_time("--until", optarg);
			break;
		case OPT_WEEKLY:
			opt.weekly = true;
			break;
		case OPT_OVERSELL:
			opt.oversell_threshold = probability("--oversell",
			    optarg);
			break;
		case 'V':		/* prints, exits */
		case ECS_OPT_PROGRESS:
		case ECS_OPT_STATS:
			ecs_common_option(ch, optarg);
			break;
		default:
			usage(ECS_EXIT_USAGE);
		}
	}
	if (optind != argc)
		usage(ECS_EXIT_USAGE);
	if (opt.nproducts == 0 || opt.nusers == 0)
		errx(ECS_EXIT_USAGE, "--products and --users must be at least 1");
	if (opt.oversell_threshold > 0 && !opt.inventory)
		errx(ECS_EXIT_USAGE, "--oversell needs --inventory");
	if (opt.labels_path != NULL && opt.nanomalies == 0)
		errx(ECS_EXIT_USAGE, "--labels needs --outage or --surge");
}

/* For --stats and SIGUSR1. */
static void
count(struct ecs_counters *c)
{
	c->written = run.written;
}

int
main(int argc, char *argv[])
{
	uint64_t sm;
	int i, status;

	parse_options(argc, argv);
	sm = opt.seed;
	for (i = 0; i < 4; i++)
		run.rng[i] = splitmix64(&sm);
	ecs_signals_init();
	ecs_stats_hook(count);
	/* --until may end the run first: then the total is not known. */
	ecs_stats_total(opt.until_ms == INT64_MAX ? opt.max_events : 0);
	ecs_stats_start(NULL);
	write_labels();
	make_catalogue();
	if (opt.rate > 0)
		ecs_pace_start(&run.pace);
	generate();
	free(run.products);
	free(run.by_rank);
	free(run.zipf_cdf);
	free(run.sessions);
	free(run.heap);
	free(opt.anomalies);
	status = ecs_stats_finish(NULL);
	return status | ecs_out_close();
}
