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

static unsigned long long max_events = 10000;	/* --events; 0: no end */
static uint64_t		 seed = 1;		/* --seed */
static uint32_t		 nusers = 10000;	/* --users */
static uint32_t		 nproducts = 1000;	/* --products */
static int64_t		 start_ms;		/* --start */
static double		 rate;			/* --rate; 0 when not given */
static bool		 inventory;		/* --inventory */
static uint64_t		 cart_threshold;	/* --cart-rate, of 2^32 */
static uint64_t		 buy_threshold;		/* --buy-rate */
static uint64_t		 oversell_threshold;	/* --oversell */

static uint64_t		 rng[4];		/* xoshiro256** state */
static struct product	*products;
static uint32_t		*by_rank;		/* popularity rank -> product */
static double		*zipf_cdf;
static struct session	*sessions;
static int		 nsessions, session_cap, free_session = -1;
static struct actor	*heap;
static size_t		 heap_len, heap_cap;
static uint64_t		 heap_seq, next_session_id = 1, next_order_id = 1;
static unsigned long long written;
static struct ecs_pace	 pace;

/* No input, so none of the shared input options. */
static const struct option longopts[] = {
	{ "buy-rate",	required_argument,	NULL, OPT_BUY_RATE },
	{ "cart-rate",	required_argument,	NULL, OPT_CART_RATE },
	{ "events",	required_argument,	NULL, 'n' },
	{ "help",	no_argument,		NULL, 'h' },
	{ "inventory",	no_argument,		NULL, 'i' },
	{ "oversell",	required_argument,	NULL, OPT_OVERSELL },
	{ "products",	required_argument,	NULL, 'p' },
	{ "rate",	required_argument,	NULL, 'r' },
	{ "seed",	required_argument,	NULL, 's' },
	{ "start",	required_argument,	NULL, 'S' },
	{ "users",	required_argument,	NULL, 'u' },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

static _Noreturn void
usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fprintf(fp,
"usage: ecs-gen [-hiV] [-n events] [-p products] [-r rate] [-S start]\n"
"               [-s seed] [-u users] [--buy-rate p] [--cart-rate p]\n"
"               [--oversell p]\n");
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
	uint64_t result = rotl(rng[1] * 5, 7) * 9, t = rng[1] << 17;

	rng[2] ^= rng[0];
	rng[3] ^= rng[1];
	rng[1] ^= rng[2];
	rng[0] ^= rng[3];
	rng[2] ^= t;
	rng[3] = rotl(rng[3], 45);
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
	uint32_t i, j, tmp, ngroups = (nproducts + GROUP_SIZE - 1) / GROUP_SIZE;
	uint32_t ncat = ngroups < NCATEGORIES ? ngroups : NCATEGORIES;
	uint64_t h = seed ^ 0x5eedULL;
	double sum = 0;

	products = ecs_xcalloc(nproducts, sizeof(*products));
	by_rank = ecs_xcalloc(nproducts, sizeof(*by_rank));
	zipf_cdf = ecs_xcalloc(nproducts, sizeof(*zipf_cdf));
	for (i = 0; i < nproducts; i++) {
		products[i].id = 1001 + i;
		products[i].category = (i / GROUP_SIZE) % ncat;
		products[i].price_cents = price_of(splitmix64(&h));
		by_rank[i] = i;
	}
	/* Fisher-Yates: popularity does not follow the ids. */
	for (i = nproducts - 1; i > 0; i--) {
		j = (uint32_t)uniform(0, i);
		tmp = by_rank[i];
		by_rank[i] = by_rank[j];
		by_rank[j] = tmp;
	}
	/* Zipf with s = 1: the product of rank k is chosen in proportion to 1/k. */
	for (i = 0; i < nproducts; i++)
		zipf_cdf[i] = (sum += 1.0 / (double)(i + 1));
	for (i = 0; i < nproducts; i++) {
		zipf_cdf[i] /= sum;
		/* Opening stock follows popularity. */
		products[by_rank[i]].opening = 11 + 100 / (int64_t)(i + 1);
		products[by_rank[i]].stock = products[by_rank[i]].opening;
	}
}

static uint32_t
popular_product(void)
{
	double u = (double)(next_random() >> 11) * 0x1.0p-53;
	uint32_t lo = 0, hi = nproducts - 1, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (zipf_cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return by_rank[lo];
}

/* What a shopper looks at next: the same group, the category, or anything. */
static uint32_t
next_product(uint32_t current)
{
	uint32_t group = current / GROUP_SIZE, ngroups, ncat, g;
	int64_t roll = uniform(0, 99);

	ngroups = (nproducts + GROUP_SIZE - 1) / GROUP_SIZE;
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
	    1 < nproducts - 1 ? g * GROUP_SIZE + GROUP_SIZE - 1 : nproducts - 1);
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
	struct actor a = { time, heap_seq++, kind, index };
	size_t i, parent;

	if (heap_len == heap_cap) {
		heap_cap = heap_cap ? heap_cap * 2 : 256;
		heap = ecs_xrealloc(heap, heap_cap * sizeof(*heap));
	}
	for (i = heap_len++; i > 0; i = parent) {
		parent = (i - 1) / 2;
		if (!before(&a, &heap[parent]))
			break;
		heap[i] = heap[parent];
	}
	heap[i] = a;
}

static struct actor
next_actor(void)
{
	struct actor top = heap[0], last = heap[--heap_len];
	size_t i = 0, child;

	for (;;) {
		child = 2 * i + 1;
		if (child >= heap_len)
			break;
		if (child + 1 < heap_len && before(&heap[child + 1], &heap[child]))
			child++;
		if (!before(&heap[child], &last))
			break;
		heap[i] = heap[child];
		i = child;
	}
	if (heap_len > 0)
		heap[i] = last;
	return top;
}

/* Output: one line built by hand, since formatting is the hot path. */

static char	 line[512];
static size_t	 line_len;
static int64_t	 cached_day = INT64_MIN;
static char	 day_prefix[16];	/* "2026-11-01T" */

static void
put(const char *s)
{
	size_t n = strlen(s);

	memcpy(line + line_len, s, n);
	line_len += n;
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
		line[line_len++] = buf[--n];
}

static void
put_digits(unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		line[line_len + (size_t)i] = (char)('0' + v % 10);
	line_len += (size_t)width;
}

/* "ts":"2026-11-01T10:00:03.120Z", the date part formatted once a day. */
static void
put_ts(int64_t ms)
{
	int64_t day = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
	int64_t rem = ms - day * 86400000;
	char buf[32];

	if (day != cached_day) {
		ecs_time_format(day * 86400000, buf);
		memcpy(day_prefix, buf, 11);
		cached_day = day;
	}
	put("\"ts\":\"");
	memcpy(line + line_len, day_prefix, 11);
	line_len += 11;
	put_digits((unsigned)(rem / 3600000), 2);
	line[line_len++] = ':';
	put_digits((unsigned)(rem / 60000 % 60), 2);
	line[line_len++] = ':';
	put_digits((unsigned)(rem / 1000 % 60), 2);
	line[line_len++] = '.';
	put_digits((unsigned)(rem % 1000), 3);
	put("Z\"");
}

static void
put_price(uint32_t cents)
{
	put_uint(cents / 100);
	line[line_len++] = '.';
	put_digits(cents % 100, 2);
}

/* Paces (--rate) and writes the line; false when the run is over. */
static bool
write_line(void)
{
	line[line_len++] = '\n';
	if (rate > 0 && !ecs_pace_wait(&pace,
	    (int64_t)((double)written * 1e9 / rate)))
		return false;
	ecs_out_write(line, line_len);
	line_len = 0;
	written++;
	return !ecs_stop_signal && (max_events == 0 || written < max_events);
}

static bool
write_snapshot(const struct product *p, int64_t now)
{
	put("{\"product_id\":");
	put_uint(p->id);
	put(",\"quantity\":");
	put_uint((uint64_t)p->stock);
	line[line_len++] = ',';
	put_ts(now);
	line[line_len++] = '}';
	return write_line();
}

static bool
write_restock(const struct product *p, int64_t quantity, int64_t now)
{
	put("{\"action\":\"restock\",\"product_id\":");
	put_uint(p->id);
	put(",\"quantity\":");
	put_uint((uint64_t)quantity);
	line[line_len++] = ',';
	put_ts(now);
	line[line_len++] = '}';
	return write_line();
}

/* A shopper's event; quantity and order only where they apply. */
static bool
write_event(const struct session *s, const char *action, uint32_t product,
    unsigned quantity, int64_t now)
{
	const struct product *p = &products[product];

	put("{\"user_id\":");
	put_uint(s->user);
	put(",\"session_id\":");
	put_uint(s->id);
	put(",\"action\":\"");
	put(action);
	put("\",\"product_id\":");
	put_uint(p->id);
	line[line_len++] = ',';
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
	struct product *p = &products[product];
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
	struct product *p = &products[product];
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

	if (free_session >= 0) {
		slot = free_session;
		free_session = sessions[slot].next_free;
	} else {
		if (nsessions == session_cap) {
			session_cap = session_cap ? session_cap * 2 : 64;
			sessions = ecs_xrealloc(sessions,
			    (size_t)session_cap * sizeof(*sessions));
		}
		slot = nsessions++;
	}
	s = &sessions[slot];
	memset(s, 0, sizeof(*s));
	s->id = next_session_id++;
	s->user = (uint32_t)uniform(1, nusers);
	/* Views per session: 1 plus a geometric number, mean about 6. */
	for (views = 1; views < MAX_VIEWS && uniform(0, 99) < 83; views++)
		;
	s->views_left = views;
	s->cart_at = chance(cart_threshold) ? (int)uniform(0, views - 1) : -1;
	s->buys = chance(buy_threshold);
	s->step = S_VIEW;
	schedule(now, A_SESSION, (uint32_t)slot);
	return (uint32_t)slot;
}

static void
end_session(uint32_t slot)
{
	sessions[slot].next_free = free_session;
	free_session = (int)slot;
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
		s->order_id = next_order_id++;
		schedule(now + uniform(30000, 300000), A_SESSION, slot);
	} else
		end_session(slot);
}

/* One step of a session: at most one event. */
static bool
step_session(uint32_t slot, int64_t now)
{
	struct session *s = &sessions[slot];
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
		p = &products[s->cart[s->paid]];
		qty = s->cart_qty[s->paid];
		if (!inventory || p->stock >= qty || chance(oversell_threshold)) {
			if (inventory)
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
	mean = 60000 / hour_weight[ms_of_day / 3600000];
	return uniform(1, 2 * mean);
}

static void
run(void)
{
	struct actor a;
	uint32_t i;
	bool more = true;

	if (inventory)
		for (i = 0; i < nproducts && more; i++)
			more = write_snapshot(&products[i], start_ms);
	schedule(start_ms, A_ARRIVAL, 0);
	while (more) {
		a = next_actor();
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

static void
parse_options(int argc, char *argv[])
{
	char *end;
	int ch;

	cart_threshold = probability("--cart-rate", "0.08");
	buy_threshold = probability("--buy-rate", "0.3");
	if (!ecs_time_parse("2026-11-01T00:00:00Z", 20, &start_ms))
		abort();
	while ((ch = getopt_long(argc, argv, "hin:p:r:S:s:u:V", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(0);
		case 'i':
			inventory = true;
			break;
		case 'n':
			max_events = ecs_opt_count("--events", optarg, 0, ~0ULL);
			break;
		case 'p':
			nproducts = (uint32_t)ecs_opt_count("--products", optarg, 0,
			    10000000);
			break;
		case 'r':
			rate = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(rate > 0 &&
			    rate <= 1e9))
				errx(ECS_EXIT_USAGE, "--rate '%s': expected "
				    "lines per second above 0", optarg);
			break;
		case 'S':
			if (strcmp(optarg, "now") == 0)
				start_ms = ecs_time_now();
			else if (!ecs_time_parse(optarg, strlen(optarg),
			    &start_ms))
				errx(ECS_EXIT_USAGE, "--start '%s': not a time",
				    optarg);
			break;
		case 's':
			seed = ecs_opt_count("--seed", optarg, 0, ~0ULL);
			break;
		case 'u':
			nusers = (uint32_t)ecs_opt_count("--users", optarg, 0,
			    UINT32_MAX);
			break;
		case OPT_BUY_RATE:
			buy_threshold = probability("--buy-rate", optarg);
			break;
		case OPT_CART_RATE:
			cart_threshold = probability("--cart-rate", optarg);
			break;
		case OPT_OVERSELL:
			oversell_threshold = probability("--oversell", optarg);
			break;
		case 'V':
			ecs_common_option(ch, optarg);	/* prints, exits */
			break;
		default:
			usage(ECS_EXIT_USAGE);
		}
	}
	if (optind != argc)
		usage(ECS_EXIT_USAGE);
	if (nproducts == 0 || nusers == 0)
		errx(ECS_EXIT_USAGE, "--products and --users must be at least 1");
	if (oversell_threshold > 0 && !inventory)
		errx(ECS_EXIT_USAGE, "--oversell needs --inventory");
}

int
main(int argc, char *argv[])
{
	uint64_t sm;
	int i;

	parse_options(argc, argv);
	sm = seed;
	for (i = 0; i < 4; i++)
		rng[i] = splitmix64(&sm);
	ecs_signals_init();
	make_catalogue();
	if (rate > 0)
		ecs_pace_start(&pace);
	run();
	free(products);
	free(by_rank);
	free(zipf_cdf);
	free(sessions);
	free(heap);
	return ecs_out_close();
}
