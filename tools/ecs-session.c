/* SPDX-License-Identifier: ISC */
/*
 * ecs-session -- cut each key's events (user_id by default) into sessions
 * by an inactivity gap in event time (30 minutes, as GA4 and Snowplow) and
 * a longest duration, merge two sessions when a late event bridges them
 * (Flink's session windows), and write one line per closed session with its
 * depth, conversion, exact revenue and the cart value left behind. With
 * --abandon it alerts once on a cart left quiet that long, and on each
 * purchase that later recovers an item of it. Memory holds the open
 * sessions and the carts being watched, never the events.
 */
#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ecs.h"
#include "ecs_buf.h"

#define STATE_VERSION	1
/* Durations are capped so that a time plus any of them never overflows. */
#define MAX_DURATION_MS	(INT64_C(1000) * 86400000)
/* Event times are within this of 1970 (273,000 years), for the same reason. */
#define MAX_TIME_MS	(MAX_DURATION_MS * 100)

enum {
	OPT_ABANDON = ECS_OPT_TOOL,
	OPT_CHECKPOINT,
	OPT_EMIT,
	OPT_GAP,
	OPT_IDLE,
	OPT_KEY,
	OPT_LATE,
	OPT_LATENESS,
	OPT_MAX_DURATION,
	OPT_MAX_OPEN,
	OPT_RECOVER,
	OPT_STATE,
};

/* The canonical fields read from each record, in this order; then --key. */
enum { F_ACTION, F_PRODUCT, F_TS, F_PRICE, F_QUANTITY, F_ORDER, NFIELDS };
static const char *const field_names[NFIELDS] = {
	"action", "product_id", "ts", "price", "quantity", "order_id",
};

enum action { A_BROWSE, A_CART, A_REMOVE, A_PURCHASE, A_OTHER, NACTIONS };
static const char *const action_names[NACTIONS] = {
	"browse", "add_to_cart", "remove_from_cart", "purchase", "other",
};

enum closed { C_GAP, C_MAX_DURATION, C_MAX_OPEN, C_END };
static const char *const closed_names[] = {
	"gap", "max_duration", "max_open", "end",
};

/*
 * A session or a cart waits in a heap for the watermark to pass its due
 * time; ties go to the one made first, so that output is deterministic.
 */
struct due {
	int64_t		 at;
	uint64_t	 seq;
	size_t		 pos;		/* in the heap */
};

struct heap {
	struct due	**v;
	size_t		  n, cap;
};

/*
 * An id as it came: the bytes of a string or a number's text, in place
 * when they are few (most ids), else owned on the heap; see id_text.
 */
#define ID_INLINE	8
struct id {
	union {
		char	*heap;
		char	 small[ID_INLINE];
	} u;
	uint32_t	 len;		/* lines are at most --max-line */
	bool		 is_string;
};

/* A product a session touched: 24 bytes, and its id. */
struct prod {
	struct id	 id;
	bool		 viewed;
	int32_t		 cart;		/* its index in pcarts, or -1 */
};

/* What a session carted, removed and bought of a product. */
struct pcart {
	int64_t		 carted, removed, bought;	/* units */
	/* The price of the latest add_to_cart (time, then arrival). */
	struct ecs_dec	 price;
	bool		 has_price;
	int64_t		 price_t;
	uint64_t	 price_seq;
};

/*
 * An open session: about 250 bytes, its key, 24 bytes and the id per
 * product it touched, 100 per product it carted or bought, 16 and the id
 * per order (see MEMORY in ecs-session(1)).
 */
struct session {
	struct due	 due;		/* first: the heap holds its address */
	struct id	 key;
	int64_t		 start, end;
	uint64_t	 start_seq, end_seq;	/* arrival of the first, last */
	long		 landing, exit;	/* index in prods, or -1 */
	uint64_t	 events, count[NACTIONS];
	struct prod	*prods;
	uint32_t	 nprods, capprods;
	struct pcart	*pcarts;
	uint32_t	 npcarts, cappcarts;
	struct id	*orders;	/* distinct order_id of purchases */
	size_t		 norders, caporders;
	uint64_t	 unnumbered;	/* purchases without an order_id */
	struct ecs_dec	 revenue;
	bool		 revenue_unknown;	/* a purchase had no price */
	bool		 cut;		/* closed by --max-open */
};

struct cart_item {
	struct id	 id;
	int64_t		 quantity;
	struct ecs_dec	 price;
	bool		 has_price;
	int64_t		 alerted;	/* units in the alert; not recovered */
};

/* A key's cart, watched for --abandon. */
struct cart {
	struct due	 due;		/* first: the heap holds its address */
	struct id	 key;
	struct cart_item *items;
	size_t		 nitems, cap;
	int64_t		 last;		/* the latest cart activity */
	int64_t		 session_start;	/* of the session of that activity */
	int64_t		 alert_at;	/* INT64_MIN: not alerted */
	bool		 armed;		/* changed since the last alert */
};

/* A key's open sessions, by start, and its cart; the map's values. */
struct user {
	struct session	**open;
	uint32_t	  n, cap;
	struct cart	 *cart;
};

/* The options, as parsed; then only read. */
static struct {
	const char	*key;			/* --key */
	int64_t		 gap_ms;		/* --gap */
	int64_t		 max_duration_ms;	/* --max-duration */
	int64_t		 lateness_ms;		/* --lateness */
	int64_t		 idle_ms;		/* --idle */
	int64_t		 abandon_ms;		/* --abandon; 0: off */
	int64_t		 recover_ms;		/* --recover */
	unsigned long long max_open;		/* --max-open */
	bool		 emit_update;		/* --emit update */
	const char	*late_path;		/* --late */
} opt = {
	.key = "user_id", .gap_ms = 1800000, .max_duration_ms = 86400000,
	.recover_ms = 7 * 86400000LL, .max_open = 10000000,
};

static void		 save_state(void);
static struct ecs_checkpoint ckpt = {		/* --state, --checkpoint */
	.program = "ecs-session", .version = STATE_VERSION,
	.interval_ms = 30000, .save = save_state,
};

/* The state of the run. */
static struct {
	struct ecs_map	*users;			/* key -> struct user */
	struct heap	 sessions, carts;	/* by due time */
	size_t		 nopen;
	struct ecs_event_clock clock;
	int64_t		 watermark;
	uint64_t	 seq;			/* arrivals, for ties */
	unsigned long long nlate, nlate_run, ncut;
	int		 late_fd;
	struct ecs_map	*unknown_actions;	/* each reported once */
	size_t		 key_slot;		/* --key among the fields */
	struct ecs_buf	 out;			/* the line being written */
	struct ecs_buf	 id;			/* a session id being made */
} run = {
	.clock = ECS_EVENT_CLOCK_INIT, .watermark = INT64_MIN, .late_fd = -1,
};

static const struct option longopts[] = {
	ECS_COMMON_LONGOPTS,
	{ "abandon",	required_argument,	NULL, OPT_ABANDON },
	{ "checkpoint",	required_argument,	NULL, OPT_CHECKPOINT },
	{ "emit",	required_argument,	NULL, OPT_EMIT },
	{ "gap",	required_argument,	NULL, OPT_GAP },
	{ "idle",	required_argument,	NULL, OPT_IDLE },
	{ "key",	required_argument,	NULL, OPT_KEY },
	{ "late",	required_argument,	NULL, OPT_LATE },
	{ "lateness",	required_argument,	NULL, OPT_LATENESS },
	{ "max-duration", required_argument,	NULL, OPT_MAX_DURATION },
	{ "max-open",	required_argument,	NULL, OPT_MAX_OPEN },
	{ "recover",	required_argument,	NULL, OPT_RECOVER },
	{ "state",	required_argument,	NULL, OPT_STATE },
	{ NULL,		0,			NULL, 0 }
};

static _Noreturn void
usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fprintf(fp,
"usage: ecs-session [-hqV] [-i format] [-o format] [--key path]\n"
"                   [--gap duration] [--max-duration duration]\n"
"                   [--lateness duration] [--late file]\n"
"                   [--emit final|update] [--idle duration]\n"
"                   [--max-open count] [--abandon duration]\n"
"                   [--recover duration] [--state file]\n"
"                   [--checkpoint duration] [file ...]\n");
	if (status != 0)
		exit(status);
	fprintf(fp,
"Cut events into sessions by inactivity; alert on abandoned carts\n"
"(see ecs-session(1)).\n"
"      --key PATH           the field sessions are kept by (user_id)\n"
"      --gap DURATION       a session ends after this without events\n"
"                           of its key (default 30m)\n"
"      --max-duration DURATION  and at this length (default 24h)\n"
"      --lateness DURATION  the watermark trails the latest event time\n"
"      --late FILE          append late events, verbatim, to FILE\n"
"      --emit final|update  sessions when they close, or also after\n"
"                           every event\n"
"      --idle DURATION      with no input for this long, advance event\n"
"                           time by the time that passed\n"
"      --max-open N         close the open session due first early past\n"
"                           N open sessions (default 10000000)\n"
"      --abandon DURATION   alert on a cart left this long unbought\n"
"      --recover DURATION   purchases this long after the alert count as\n"
"                           recovered (default 7d)\n"
"      --state FILE         load and save the open sessions in FILE\n"
"      --checkpoint DURATION save the state this often (default 30s; 0:\n"
"                           at exit only)\n");
	ecs_common_usage(fp);
	exit(0);
}

/* Heap of due times */

static bool
due_before(const struct due *a, const struct due *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void
heap_set(struct heap *h, size_t i, struct due *d)
{
	h->v[i] = d;
	d->pos = i;
}

static void
heap_up(struct heap *h, size_t i)
{
	struct due *d = h->v[i];

	while (i > 0 && due_before(d, h->v[(i - 1) / 2])) {
		heap_set(h, i, h->v[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(h, i, d);
}

static void
heap_down(struct heap *h, size_t i)
{
	struct due *d = h->v[i];
	size_t c;

	while ((c = 2 * i + 1) < h->n) {
		if (c + 1 < h->n && due_before(h->v[c + 1], h->v[c]))
			c++;
		if (!due_before(h->v[c], d))
			break;
		heap_set(h, i, h->v[c]);
		i = c;
	}
	heap_set(h, i, d);
}

static void
heap_push(struct heap *h, struct due *d)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->v = ecs_xrealloc(h->v, h->cap * sizeof(*h->v));
	}
	h->v[h->n] = d;
	heap_up(h, h->n++);
}

/* After d->at changed. */
static void
heap_fix(struct heap *h, struct due *d)
{
	heap_up(h, d->pos);
	heap_down(h, d->pos);
}

static void
heap_remove(struct heap *h, struct due *d)
{
	size_t i = d->pos;

	if (--h->n == i)
		return;
	heap_set(h, i, h->v[h->n]);
	heap_fix(h, h->v[i]);
}

/* Ids */

static void
id_set(struct id *id, const char *text, size_t len, bool is_string)
{
	if (len <= ID_INLINE)
		memcpy(id->u.small, text, len);
	else
		id->u.heap = ecs_xstrndup(text, len);
	id->len = (uint32_t)len;
	id->is_string = is_string;
}

/* The id's bytes, borrowed (not NUL-terminated). */
static const char *
id_text(const struct id *id)
{
	return id->len <= ID_INLINE ? id->u.small : id->u.heap;
}

static void
id_free(struct id *id)
{
	if (id->len > ID_INLINE)
		free(id->u.heap);
}

static bool
id_equals(const struct id *id, const struct ecs_field *f)
{
	return id->len == f->len && memcmp(id_text(id), f->text, f->len) == 0;
}

static void
put_id(const struct id *id)
{
	ecs_buf_field(&run.out, &(struct ecs_field){ id->is_string ?
	    ECS_F_STRING : ECS_F_NUMBER, id_text(id), id->len, NULL });
}

/* Sessions */

/* Whether (t, seq) comes before (u, useq): time, then arrival. */
static bool
earlier(int64_t t, uint64_t seq, int64_t u, uint64_t useq)
{
	return t < u || (t == u && seq < useq);
}

static int64_t
session_due(const struct session *s)
{
	int64_t by_gap = s->end + opt.gap_ms;
	int64_t by_length = s->start + opt.max_duration_ms;

	return by_gap < by_length ? by_gap : by_length;
}

static struct session *
session_new(const struct ecs_field *key, int64_t t, uint64_t seq)
{
	struct session *s = ecs_xcalloc(1, sizeof(*s));

	id_set(&s->key, key->text, key->len, key->type == ECS_F_STRING);
	s->start = s->end = t;
	s->start_seq = s->end_seq = seq;
	s->landing = s->exit = -1;
	ecs_dec_from_int(&s->revenue, 0);
	s->due.seq = seq;
	s->due.at = session_due(s);
	heap_push(&run.sessions, &s->due);
	run.nopen++;
	return s;
}

static void
session_free(struct session *s)
{
	size_t i;

	for (i = 0; i < s->nprods; i++)
		id_free(&s->prods[i].id);
	for (i = 0; i < s->norders; i++)
		id_free(&s->orders[i]);
	free(s->prods);
	free(s->pcarts);
	free(s->orders);
	id_free(&s->key);
	free(s);
}

/* The session's entry for a product, added when new; its index. */
static size_t
session_prod(struct session *s, const char *text, size_t len, bool is_string)
{
	struct prod *p;
	size_t i;

	for (i = 0; i < s->nprods; i++)
		if (s->prods[i].id.len == len &&
		    memcmp(id_text(&s->prods[i].id), text, len) == 0)
			return i;
	if (s->nprods == s->capprods) {
		s->capprods = s->capprods ? s->capprods * 2 : 4;
		s->prods = ecs_xrealloc(s->prods,
		    s->capprods * sizeof(*s->prods));
	}
	p = &s->prods[s->nprods];
	memset(p, 0, sizeof(*p));
	id_set(&p->id, text, len, is_string);
	p->cart = -1;
	return s->nprods++;
}

/* The cart record of the session's product i, added when new; borrowed. */
static struct pcart *
session_pcart(struct session *s, size_t i)
{
	struct pcart *c;

	if (s->prods[i].cart >= 0)
		return &s->pcarts[s->prods[i].cart];
	if (s->npcarts == s->cappcarts) {
		s->cappcarts = s->cappcarts ? s->cappcarts * 2 : 2;
		s->pcarts = ecs_xrealloc(s->pcarts,
		    s->cappcarts * sizeof(*s->pcarts));
	}
	c = &s->pcarts[s->npcarts];
	memset(c, 0, sizeof(*c));
	s->prods[i].cart = (int32_t)s->npcarts;
	return &s->pcarts[s->npcarts++];
}

/*
 * Adds n (>= 0) units to a sum of units that stops at UNITS_UNKNOWN: past
 * 2^63 - 1 units (9.2 million lines of 10^12) the sum is not known, and
 * the figures made from it are null.
 */
#define UNITS_UNKNOWN	INT64_MAX
static void
add_units(int64_t *sum, int64_t n)
{
	if (__builtin_add_overflow(*sum, n, sum))
		*sum = UNITS_UNKNOWN;
}

/* Takes up to n units from a sum of units; an unknown sum stays unknown. */
static void
take_units(int64_t *sum, int64_t n)
{
	if (*sum != UNITS_UNKNOWN)
		*sum -= n < *sum ? n : *sum;
}

/* Adds b's carting of a product to a's, the latest price winning. */
static void
pcart_merge(struct pcart *a, const struct pcart *b)
{
	add_units(&a->carted, b->carted);
	add_units(&a->removed, b->removed);
	add_units(&a->bought, b->bought);
	if (b->has_price && (!a->has_price || !earlier(b->price_t,
	    b->price_seq, a->price_t, a->price_seq))) {
		a->price = b->price;
		a->has_price = true;
		a->price_t = b->price_t;
		a->price_seq = b->price_seq;
	}
}

static void
session_order(struct session *s, const char *text, size_t len, bool is_string)
{
	size_t i;

	for (i = 0; i < s->norders; i++)
		if (s->orders[i].len == len &&
		    memcmp(id_text(&s->orders[i]), text, len) == 0)
			return;
	if (s->norders == s->caporders) {
		s->caporders = s->caporders ? s->caporders * 2 : 2;
		s->orders = ecs_xrealloc(s->orders,
		    s->caporders * sizeof(*s->orders));
	}
	id_set(&s->orders[s->norders++], text, len, is_string);
}

/* One event, as the step has checked it. */
struct event {
	enum action	 action;
	int64_t		 t;
	uint64_t	 seq;
	const struct ecs_field *product, *order;	/* may be missing */
	int64_t		 quantity;
	struct ecs_dec	 price;
	bool		 has_price;
};

static bool
has_id(const struct ecs_field *f)
{
	return f->type == ECS_F_NUMBER || f->type == ECS_F_STRING;
}

/* The price times the quantity into *sum. */
static void
add_value(struct ecs_dec *sum, const struct ecs_dec *price, int64_t quantity)
{
	struct ecs_dec v = *price, q;

	ecs_dec_from_int(&q, quantity);
	ecs_dec_mul(&v, &q);
	ecs_dec_add(sum, &v);
}

static void
session_add(struct session *s, const struct event *e)
{
	long pi = -1;
	struct pcart *p = NULL;

	if (has_id(e->product))
		pi = (long)session_prod(s, e->product->text, e->product->len,
		    e->product->type == ECS_F_STRING);
	if (s->events == 0 || earlier(e->t, e->seq, s->start, s->start_seq)) {
		s->start = e->t;
		s->start_seq = e->seq;
		s->landing = pi;
	}
	if (s->events == 0 || !earlier(e->t, e->seq, s->end, s->end_seq)) {
		s->end = e->t;
		s->end_seq = e->seq;
		s->exit = pi;
	}
	s->events++;
	s->count[e->action]++;
	if (pi >= 0 && e->action != A_BROWSE && e->action != A_OTHER)
		p = session_pcart(s, (size_t)pi);
	switch (e->action) {
	case A_BROWSE:
		if (pi >= 0)
			s->prods[pi].viewed = true;
		break;
	case A_CART:
		if (p == NULL)
			break;
		add_units(&p->carted, e->quantity);
		if (e->has_price && (!p->has_price ||
		    !earlier(e->t, e->seq, p->price_t, p->price_seq))) {
			p->price = e->price;
			p->has_price = true;
			p->price_t = e->t;
			p->price_seq = e->seq;
		}
		break;
	case A_REMOVE:
		if (p != NULL)
			add_units(&p->removed, e->quantity);
		break;
	case A_PURCHASE:
		if (p != NULL)
			add_units(&p->bought, e->quantity);
		if (has_id(e->order))
			session_order(s, e->order->text, e->order->len,
			    e->order->type == ECS_F_STRING);
		else
			s->unnumbered++;
		if (e->has_price)
			add_value(&s->revenue, &e->price, e->quantity);
		else
			s->revenue_unknown = true;
		break;
	default:
		break;
	}
	s->due.at = session_due(s);
	heap_fix(&run.sessions, &s->due);
}

/* Moves everything of b (freed) into a. */
static void
session_merge(struct session *a, struct session *b)
{
	const struct prod *q;
	size_t i, j;
	long map_landing = -1, map_exit = -1;

	for (i = 0; i < b->nprods; i++) {
		q = &b->prods[i];
		j = session_prod(a, id_text(&q->id), q->id.len, q->id.is_string);
		a->prods[j].viewed |= q->viewed;
		if (q->cart >= 0)
			pcart_merge(session_pcart(a, j), &b->pcarts[q->cart]);
		if ((long)i == b->landing)
			map_landing = (long)j;
		if ((long)i == b->exit)
			map_exit = (long)j;
	}
	for (i = 0; i < b->norders; i++)
		session_order(a, id_text(&b->orders[i]), b->orders[i].len,
		    b->orders[i].is_string);
	if (earlier(b->start, b->start_seq, a->start, a->start_seq)) {
		a->start = b->start;
		a->start_seq = b->start_seq;
		a->landing = map_landing;
	}
	if (!earlier(b->end, b->end_seq, a->end, a->end_seq)) {
		a->end = b->end;
		a->end_seq = b->end_seq;
		a->exit = map_exit;
	}
	a->events += b->events;
	for (i = 0; i < NACTIONS; i++)
		a->count[i] += b->count[i];
	a->unnumbered += b->unnumbered;
	ecs_dec_add(&a->revenue, &b->revenue);
	a->revenue_unknown |= b->revenue_unknown;
	a->due.at = session_due(a);
	heap_fix(&run.sessions, &a->due);
	heap_remove(&run.sessions, &b->due);
	run.nopen--;
	session_free(b);
}

/* Milliseconds (0 or more) as seconds, exactly: 480, 1799.999, 0.25. */
static void
put_seconds(int64_t ms)
{
	char frac[5];
	int64_t f = ms % 1000;

	ecs_buf_int(&run.out, ms / 1000);
	if (f == 0)
		return;
	frac[0] = '.';
	frac[1] = (char)('0' + f / 100);
	frac[2] = (char)('0' + f / 10 % 10);
	frac[3] = (char)('0' + f % 10);
	frac[4] = '\0';
	if (frac[3] == '0')
		frac[frac[2] == '0' ? 2 : 3] = '\0';
	ecs_buf_puts(&run.out, frac);
}

/* An exact sum, or null when unknown or past the 38 digits of exact. */
static void
put_dec(const struct ecs_dec *d, bool unknown)
{
	if (unknown || !d->exact)
		ecs_buf_puts(&run.out, "null");
	else
		ecs_buf_dec(&run.out, d);
}

static void
put_product(const struct session *s, long i)
{
	if (i < 0)
		ecs_buf_puts(&run.out, "null");
	else
		put_id(&s->prods[i].id);
}

/* "KEY@START": the same session keeps it, whenever it is written. */
static void
put_session_id(const struct id *key, int64_t start)
{
	char t[32];

	ecs_buf_reset(&run.id);
	ecs_buf_add(&run.id, id_text(key), key->len);
	ecs_buf_putc(&run.id, '@');
	ecs_buf_add(&run.id, t, ecs_time_format(start, t));
	ecs_buf_json_string(&run.out, run.id.p, run.id.len);
}

/*
 * The value carted in the session and neither removed nor bought in it:
 * per product, the units left at the latest price it was carted at.
 */
static void
cart_left(const struct session *s, struct ecs_dec *left, bool *unknown)
{
	const struct pcart *p;
	int64_t units;
	size_t i;

	ecs_dec_from_int(left, 0);
	*unknown = false;
	for (i = 0; i < s->npcarts; i++) {
		p = &s->pcarts[i];
		if (p->carted == UNITS_UNKNOWN || p->removed == UNITS_UNKNOWN ||
		    p->bought == UNITS_UNKNOWN) {
			*unknown = true;
			continue;
		}
		/* In two steps: no difference of these overflows. */
		if (p->carted - p->removed <= p->bought)
			continue;
		units = p->carted - p->removed - p->bought;
		if (p->has_price)
			add_value(left, &p->price, units);
		else
			*unknown = true;
	}
}

/* Writes the session; closed is NULL for an update of an open one. */
static void
session_write(const struct session *s, const char *closed)
{
	struct ecs_dec left;
	size_t i;
	uint64_t viewed = 0;
	bool left_unknown;

	cart_left(s, &left, &left_unknown);
	for (i = 0; i < s->nprods; i++)
		viewed += s->prods[i].viewed;
	ecs_buf_reset(&run.out);
	ecs_buf_puts(&run.out, "{\"session\":");
	put_session_id(&s->key, s->start);
	ecs_buf_putc(&run.out, ',');
	ecs_buf_json_string(&run.out, opt.key, strlen(opt.key));
	ecs_buf_putc(&run.out, ':');
	put_id(&s->key);
	ecs_buf_puts(&run.out, ",\"start\":");
	ecs_buf_time(&run.out, s->start);
	ecs_buf_puts(&run.out, ",\"end\":");
	ecs_buf_time(&run.out, s->end);
	ecs_buf_puts(&run.out, ",\"duration_s\":");
	put_seconds(s->end - s->start);
	ecs_buf_puts(&run.out, ",\"events\":");
	ecs_buf_uint(&run.out, s->events);
	for (i = 0; i < NACTIONS; i++) {
		ecs_buf_puts(&run.out, ",\"");
		ecs_buf_puts(&run.out, action_names[i]);
		ecs_buf_puts(&run.out, "\":");
		ecs_buf_uint(&run.out, s->count[i]);
	}
	ecs_buf_puts(&run.out, ",\"products\":");
	ecs_buf_uint(&run.out, viewed);
	ecs_buf_puts(&run.out, ",\"landing_product\":");
	put_product(s, s->landing);
	ecs_buf_puts(&run.out, ",\"exit_product\":");
	put_product(s, s->exit);
	ecs_buf_puts(&run.out, ",\"depth\":\"");
	ecs_buf_puts(&run.out, s->count[A_PURCHASE] > 0 ? "purchase" :
	    s->count[A_CART] > 0 ? "cart" : "browse");
	ecs_buf_puts(&run.out, "\",\"converted\":");
	ecs_buf_puts(&run.out, s->count[A_PURCHASE] > 0 ? "true" : "false");
	ecs_buf_puts(&run.out, ",\"orders\":");
	ecs_buf_uint(&run.out, s->norders + s->unnumbered);
	ecs_buf_puts(&run.out, ",\"revenue\":");
	put_dec(&s->revenue, s->revenue_unknown);
	ecs_buf_puts(&run.out, ",\"cart_left\":");
	put_dec(&left, left_unknown);
	ecs_buf_puts(&run.out, ",\"bounced\":");
	ecs_buf_puts(&run.out, s->events == 1 ? "true" : "false");
	ecs_buf_puts(&run.out, ",\"closed\":");
	if (closed == NULL)
		ecs_buf_puts(&run.out, "null");
	else {
		ecs_buf_putc(&run.out, '"');
		ecs_buf_puts(&run.out, closed);
		ecs_buf_putc(&run.out, '"');
	}
	ecs_buf_puts(&run.out, "}\n");
	ecs_buf_out(&run.out);
}

/* The key's user, borrowed until the next ecs_map_put; NULL when absent. */
static struct user *
user_of(const struct id *key)
{
	return ecs_map_get(run.users, id_text(key), key->len);
}

/* Forgets a key that holds nothing, so memory follows what is open. */
static void
user_drop_if_empty(const struct id *key)
{
	struct user *u = user_of(key);

	if (u != NULL && u->n == 0 && u->cart == NULL) {
		free(u->open);
		ecs_map_del(run.users, id_text(key), key->len);
	}
}

static void
user_remove_session(struct user *u, const struct session *s)
{
	uint32_t i;

	for (i = 0; i < u->n && u->open[i] != s; i++)
		continue;
	if (i == u->n)
		errx(ECS_EXIT_DATA, "internal error: an open session is lost");
	memmove(&u->open[i], &u->open[i + 1],
	    (u->n - i - 1) * sizeof(*u->open));
	u->n--;
}

/* Writes and frees the session, which leaves its heap and its key. */
static void
session_close(struct session *s, enum closed why)
{
	struct user *u = user_of(&s->key);
	struct cart *c;

	heap_remove(&run.sessions, &s->due);
	run.nopen--;
	if (why == C_GAP && s->end + opt.gap_ms > s->start +
	    opt.max_duration_ms)
		why = C_MAX_DURATION;
	session_write(s, closed_names[why]);
	if (u != NULL) {
		user_remove_session(u, s);
		c = u->cart;
		if (c != NULL && c->last >= s->start && c->last <= s->end)
			c->session_start = s->start;
	}
	user_drop_if_empty(&s->key);
	session_free(s);
	ckpt.dirty = true;
}

/* Carts (--abandon) */

static void
cart_free(struct cart *c)
{
	size_t i;

	for (i = 0; i < c->nitems; i++)
		id_free(&c->items[i].id);
	free(c->items);
	id_free(&c->key);
	free(c);
}

/* Whether units are left in the cart (not their sum, which may not fit). */
static bool
cart_has_units(const struct cart *c)
{
	size_t i;

	for (i = 0; i < c->nitems; i++)
		if (c->items[i].quantity > 0)
			return true;
	return false;
}

/*
 * When the cart is next due: its alert when armed and not empty, the end
 * of its recovery watch when alerted (a millisecond after --recover, which
 * a purchase may still reach: a watermark at it does not end the watch);
 * INT64_MAX when nothing is due (the cart is then dropped).
 */
static int64_t
cart_due(const struct cart *c)
{
	if (c->armed && cart_has_units(c))
		return c->last + opt.abandon_ms;
	if (c->alert_at != INT64_MIN)
		return c->alert_at + opt.recover_ms + 1;
	return INT64_MAX;
}

static void
cart_drop(struct cart *c)
{
	struct user *u = user_of(&c->key);

	heap_remove(&run.carts, &c->due);
	if (u != NULL)
		u->cart = NULL;
	user_drop_if_empty(&c->key);
	cart_free(c);
}

/* The item's value as "items" and "value" of an alert. */
static void
put_items(const struct cart *c, bool alerted_only)
{
	const struct cart_item *it;
	struct ecs_dec value;
	bool unknown = false, first = true;
	size_t i;

	ecs_dec_from_int(&value, 0);
	ecs_buf_puts(&run.out, ",\"items\":[");
	for (i = 0; i < c->nitems; i++) {
		it = &c->items[i];
		if ((alerted_only ? it->alerted : it->quantity) <= 0)
			continue;
		ecs_buf_puts(&run.out, first ? "{" : ",{");
		first = false;
		ecs_buf_puts(&run.out, "\"product_id\":");
		put_id(&it->id);
		ecs_buf_puts(&run.out, ",\"quantity\":");
		if (it->quantity == UNITS_UNKNOWN)
			ecs_buf_puts(&run.out, "null");
		else
			ecs_buf_int(&run.out, it->quantity);
		ecs_buf_puts(&run.out, ",\"price\":");
		put_dec(&it->price, !it->has_price);
		ecs_buf_putc(&run.out, '}');
		if (it->has_price && it->quantity != UNITS_UNKNOWN)
			add_value(&value, &it->price, it->quantity);
		else
			unknown = true;
	}
	ecs_buf_puts(&run.out, "],\"value\":");
	put_dec(&value, unknown);
}

static void
put_alert_head(const char *kind, const struct cart *c)
{
	ecs_buf_reset(&run.out);
	ecs_buf_puts(&run.out, "{\"alert\":\"");
	ecs_buf_puts(&run.out, kind);
	ecs_buf_puts(&run.out, "\",");
	ecs_buf_json_string(&run.out, opt.key, strlen(opt.key));
	ecs_buf_putc(&run.out, ':');
	put_id(&c->key);
}

/* The start of the session that holds time t of the cart's key. */
static int64_t
session_start_at(const struct cart *c, int64_t t)
{
	const struct user *u = user_of(&c->key);
	uint32_t i;

	for (i = 0; u != NULL && i < u->n; i++)
		if (u->open[i]->start <= t && t <= u->open[i]->end)
			return u->open[i]->start;
	return c->session_start;
}

static void
cart_alert(struct cart *c)
{
	size_t i;

	c->alert_at = c->last + opt.abandon_ms;
	c->armed = false;
	for (i = 0; i < c->nitems; i++)
		c->items[i].alerted = c->items[i].quantity;
	put_alert_head("abandoned_cart", c);
	put_items(c, false);
	ecs_buf_puts(&run.out, ",\"last_activity\":");
	ecs_buf_time(&run.out, c->last);
	ecs_buf_puts(&run.out, ",\"session\":");
	put_session_id(&c->key, session_start_at(c, c->last));
	ecs_buf_puts(&run.out, "}\n");
	ecs_buf_out(&run.out);
}

/* A purchase of units of an item the alert named. */
static void
cart_recovered(const struct cart *c, const struct cart_item *it,
    int64_t units, const struct event *e)
{
	struct ecs_dec value;

	put_alert_head("cart_recovered", c);
	ecs_buf_puts(&run.out, ",\"items\":[{\"product_id\":");
	put_id(&it->id);
	ecs_buf_puts(&run.out, ",\"quantity\":");
	ecs_buf_int(&run.out, units);
	ecs_buf_puts(&run.out, ",\"price\":");
	put_dec(&it->price, !it->has_price);
	ecs_buf_puts(&run.out, "}],\"value\":");
	ecs_dec_from_int(&value, 0);
	if (it->has_price)
		add_value(&value, &it->price, units);
	put_dec(&value, !it->has_price);
	ecs_buf_puts(&run.out, ",\"ts\":");
	ecs_buf_time(&run.out, e->t);
	ecs_buf_puts(&run.out, ",\"after_s\":");
	put_seconds(e->t - c->alert_at);
	ecs_buf_puts(&run.out, ",\"session\":");
	put_session_id(&c->key, session_start_at(c, e->t));
	ecs_buf_puts(&run.out, "}\n");
	ecs_buf_out(&run.out);
}

static struct cart_item *
cart_item(struct cart *c, const struct ecs_field *product, bool add)
{
	struct cart_item *it;
	size_t i;

	for (i = 0; i < c->nitems; i++)
		if (id_equals(&c->items[i].id, product))
			return &c->items[i];
	if (!add)
		return NULL;
	if (c->nitems == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 4;
		c->items = ecs_xrealloc(c->items, c->cap * sizeof(*c->items));
	}
	it = &c->items[c->nitems++];
	memset(it, 0, sizeof(*it));
	id_set(&it->id, product->text, product->len,
	    product->type == ECS_F_STRING);
	return it;
}

/*
 * A cart event of the key: add_to_cart, remove_from_cart or purchase, in
 * arrival order. The cart is made by an add_to_cart; a purchase of an
 * item the standing alert named is a recovery.
 */
static void
cart_event(const struct ecs_field *key, const struct event *e,
    int64_t session_start)
{
	struct user *u = ecs_map_get(run.users, key->text, key->len);
	struct cart *c = u != NULL ? u->cart : NULL;
	struct cart_item *it;
	int64_t units;

	if ((e->action != A_CART && e->action != A_REMOVE &&
	    e->action != A_PURCHASE) || !has_id(e->product) ||
	    (c == NULL && e->action != A_CART))
		return;
	if (c == NULL) {
		c = ecs_xcalloc(1, sizeof(*c));
		id_set(&c->key, key->text, key->len,
		    key->type == ECS_F_STRING);
		c->alert_at = INT64_MIN;
		c->last = INT64_MIN;
		c->due.seq = e->seq;
		c->due.at = INT64_MAX;
		heap_push(&run.carts, &c->due);
		u->cart = c;
	}
	it = cart_item(c, e->product, e->action == A_CART);
	if (it == NULL)
		return;
	switch (e->action) {
	case A_CART:
		add_units(&it->quantity, e->quantity);
		if (e->has_price) {
			it->price = e->price;
			it->has_price = true;
		}
		c->armed = true;
		break;
	case A_REMOVE:
		take_units(&it->quantity, e->quantity);
		break;
	default:			/* A_PURCHASE */
		units = e->quantity < it->alerted ? e->quantity : it->alerted;
		if (units > 0 && c->alert_at != INT64_MIN &&
		    e->t - c->alert_at <= opt.recover_ms) {
			cart_recovered(c, it, units, e);
			take_units(&it->alerted, units);
		}
		take_units(&it->quantity, e->quantity);
		break;
	}
	if (e->t >= c->last) {
		c->last = e->t;
		c->session_start = session_start;
	}
	if ((c->due.at = cart_due(c)) == INT64_MAX)
		cart_drop(c);		/* empty and not alerted */
	else
		heap_fix(&run.carts, &c->due);
}

/* The watermark */

/* Closes the sessions and alerts on the carts the watermark has passed. */
static void
close_due(void)
{
	struct cart *c;

	while (run.sessions.n > 0 && run.sessions.v[0]->at <= run.watermark)
		session_close((struct session *)run.sessions.v[0], C_GAP);
	while (run.carts.n > 0 && run.carts.v[0]->at <= run.watermark) {
		c = (struct cart *)run.carts.v[0];
		if (c->armed && cart_has_units(c))
			cart_alert(c);
		c->due.at = cart_due(c);
		if (c->due.at <= run.watermark || c->due.at == INT64_MAX)
			cart_drop(c);
		else
			heap_fix(&run.carts, &c->due);
		ckpt.dirty = true;
	}
}

static void
advance(int64_t t)
{
	if (t > run.clock.latest)
		run.clock.latest = t;
	if (run.clock.latest - opt.lateness_ms > run.watermark)
		run.watermark = run.clock.latest - opt.lateness_ms;
	close_due();
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

/* The step */

/*
 * The session of key that event e joins: the one within the gap that it
 * does not stretch past --max-duration, or the two it bridges merged (the
 * earlier alone when merged they would pass it); else a new one.
 * Borrowed.
 */
static struct session *
place(const struct ecs_field *key, const struct event *e)
{
	struct user *u;
	struct session *before = NULL, *after = NULL, *s;
	uint32_t i;
	bool created;

	u = ecs_map_put(run.users, key->text, key->len, &created);
	for (i = 0; i < u->n; i++) {
		s = u->open[i];
		if (s->start <= e->t && e->t <= s->end) {
			before = s;
			after = NULL;
			break;
		}
		if (s->end < e->t && e->t - s->end < opt.gap_ms &&
		    e->t - s->start < opt.max_duration_ms)
			before = s;
		else if (s->start > e->t && s->start - e->t < opt.gap_ms &&
		    s->end - e->t < opt.max_duration_ms && after == NULL)
			after = s;
	}
	if (before != NULL && after != NULL) {
		if (after->end - before->start < opt.max_duration_ms) {
			user_remove_session(u, after);
			session_merge(before, after);
		}
		return before;
	}
	if (before != NULL || after != NULL)
		return before != NULL ? before : after;
	s = session_new(key, e->t, e->seq);
	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 2;
		u->open = ecs_xrealloc(u->open, u->cap * sizeof(*u->open));
	}
	for (i = u->n; i > 0 && u->open[i - 1]->start > e->t; i--)
		u->open[i] = u->open[i - 1];
	u->open[i] = s;
	u->n++;
	return s;
}

static enum action
action_of(const struct ecs_field *a)
{
	size_t i;

	for (i = 0; i < A_OTHER; i++)
		if (ecs_field_equals(a, action_names[i]))
			return (enum action)i;
	return A_OTHER;
}

/* Warns once for each action value that is none of the four. */
static void
unknown_action(struct ecs_reader *rd, const struct ecs_field *a)
{
	bool created;

	ecs_map_put(run.unknown_actions, a->text, a->len, &created);
	if (created && !ecs_config.quiet)
		warnx("%s:%llu: action '%.*s' is counted as other (not "
		    "reported again)", rd->name, rd->lineno,
		    (int)(a->len > 64 ? 64 : a->len), a->text);
}

/* The quantity and price of a cart or purchase event; false when bad. */
static bool
amounts(struct ecs_reader *rd, const struct ecs_field *f, struct event *e)
{
	char shown[ECS_SHOWN_SIZE];

	e->quantity = 1;
	e->has_price = false;
	if (e->action != A_CART && e->action != A_REMOVE &&
	    e->action != A_PURCHASE)
		return true;
	if (f[F_QUANTITY].type != ECS_F_MISSING &&
	    f[F_QUANTITY].type != ECS_F_NULL &&
	    (!ecs_field_int64(&f[F_QUANTITY], &e->quantity) ||
	    e->quantity < 0 || e->quantity > INT64_C(1000000000000))) {
		ecs_reader_bad(rd, "field 'quantity' is not a whole number of "
		    "units (0 to 10^12)%s", ecs_field_shown(&f[F_QUANTITY],
		    shown));
		return false;
	}
	if (f[F_PRICE].type == ECS_F_MISSING || f[F_PRICE].type == ECS_F_NULL)
		return true;
	if ((f[F_PRICE].type != ECS_F_NUMBER &&
	    f[F_PRICE].type != ECS_F_STRING) ||
	    !ecs_dec_parse(f[F_PRICE].text, f[F_PRICE].len, &e->price) ||
	    !e->price.exact || e->price.d > 1e15 || e->price.d < -1e15) {
		ecs_reader_bad(rd, "field 'price' is not an exact decimal "
		    "(at most 15 digits before the point, 18 after)%s",
		    ecs_field_shown(&f[F_PRICE], shown));
		return false;
	}
	e->has_price = true;
	return true;
}

static void
record(struct ecs_reader *rd, const struct ecs_field *f)
{
	struct event e = { .product = &f[F_PRODUCT], .order = &f[F_ORDER] };
	const struct ecs_field *key = &f[run.key_slot];
	struct session *s;
	char shown[ECS_SHOWN_SIZE];
	bool untimed;

	if (!has_id(key)) {
		ecs_reader_bad(rd, "field '%s' is %s%s", opt.key,
		    key->type == ECS_F_MISSING ? "missing" :
		    "not a number or string", ecs_field_shown(key, shown));
		return;
	}
	if (f[F_ACTION].type != ECS_F_STRING) {
		ecs_reader_bad(rd, "field 'action' is %s%s",
		    f[F_ACTION].type == ECS_F_MISSING ? "missing" :
		    "not a string", ecs_field_shown(&f[F_ACTION], shown));
		return;
	}
	e.action = action_of(&f[F_ACTION]);
	if (!amounts(rd, f, &e))
		return;
	/* The time last, so that a bad line is never counted as untimed. */
	if (!ecs_event_time(&run.clock, &f[F_TS], &e.t, &untimed)) {
		ecs_reader_bad(rd, "field 'ts' is not a time%s",
		    ecs_field_shown(&f[F_TS], shown));
		return;
	}
	if (e.t < -MAX_TIME_MS || e.t > MAX_TIME_MS) {
		ecs_reader_bad(rd, "field 'ts' is out of range%s",
		    ecs_field_shown(&f[F_TS], shown));
		return;
	}
	ecs_event_clock_take(&run.clock, e.t, untimed);
	if (!untimed && e.t < run.watermark) {
		write_late(rd);
		return;
	}
	if (e.action == A_OTHER)
		unknown_action(rd, &f[F_ACTION]);
	e.seq = run.seq++;
	s = place(key, &e);
	session_add(s, &e);
	if (opt.abandon_ms > 0)
		cart_event(key, &e, s->start);
	if (opt.emit_update)
		session_write(s, NULL);
	if (run.nopen > opt.max_open) {
		run.ncut++;
		session_close((struct session *)run.sessions.v[0],
		    C_MAX_OPEN);
	}
	if (!untimed)
		advance(e.t);
	ckpt.dirty = true;
}

/* State: a header, then one line per open session and per watched cart. */

static struct json_object *
id_json(const struct id *id)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "text",
	    json_object_new_string_len(id_text(id), (int)id->len));
	json_object_object_add(o, "string",
	    json_object_new_boolean(id->is_string));
	return o;
}

static struct json_object *
dec_json(const struct ecs_dec *d, bool known)
{
	char buf[96];

	if (!known)
		return NULL;
	return json_object_new_string_len(buf,
	    (int)ecs_dec_format(d, buf, sizeof(buf)));
}

/* A saved time, or INT64_MIN (none) when may_be_none; else corrupt. */
static int64_t
load_time(const struct ecs_state_reader *sr, struct json_object *rec,
    const char *name, bool may_be_none)
{
	int64_t t = ecs_state_int(sr, rec, name);

	if ((t < -MAX_TIME_MS || t > MAX_TIME_MS) &&
	    !(may_be_none && t == INT64_MIN))
		ecs_state_corrupt(sr, "'%s' is not a time", name);
	return t;
}

static void
add_int(struct json_object *o, const char *name, int64_t v)
{
	json_object_object_add(o, name, json_object_new_int64(v));
}

static struct json_object *
pcart_json(const struct pcart *c)
{
	struct json_object *o = json_object_new_object();

	add_int(o, "carted", c->carted);
	add_int(o, "removed", c->removed);
	add_int(o, "bought", c->bought);
	json_object_object_add(o, "price", dec_json(&c->price, c->has_price));
	add_int(o, "price_t", c->price_t);
	add_int(o, "price_seq", (int64_t)c->price_seq);
	return o;
}

static struct json_object *
session_json(const struct session *s)
{
	struct json_object *o = json_object_new_object(), *a, *p;
	const struct prod *q;
	size_t i;

	json_object_object_add(o, "session", id_json(&s->key));
	add_int(o, "start", s->start);
	add_int(o, "end", s->end);
	add_int(o, "start_seq", (int64_t)s->start_seq);
	add_int(o, "end_seq", (int64_t)s->end_seq);
	add_int(o, "seq", (int64_t)s->due.seq);
	add_int(o, "landing", s->landing);
	add_int(o, "exit", s->exit);
	a = json_object_new_array();
	for (i = 0; i < NACTIONS; i++)
		json_object_array_add(a, json_object_new_int64(
		    (int64_t)s->count[i]));
	json_object_object_add(o, "count", a);
	add_int(o, "unnumbered", (int64_t)s->unnumbered);
	json_object_object_add(o, "revenue",
	    dec_json(&s->revenue, !s->revenue_unknown));
	a = json_object_new_array();
	for (i = 0; i < s->norders; i++)
		json_object_array_add(a, id_json(&s->orders[i]));
	json_object_object_add(o, "orders", a);
	a = json_object_new_array();
	for (i = 0; i < s->nprods; i++) {
		q = &s->prods[i];
		p = json_object_new_object();
		json_object_object_add(p, "id", id_json(&q->id));
		json_object_object_add(p, "viewed",
		    json_object_new_boolean(q->viewed));
		if (q->cart >= 0)
			json_object_object_add(p, "cart",
			    pcart_json(&s->pcarts[q->cart]));
		json_object_array_add(a, p);
	}
	json_object_object_add(o, "products", a);
	return o;
}

static struct json_object *
cart_json(const struct cart *c)
{
	struct json_object *o = json_object_new_object(), *a, *p;
	const struct cart_item *it;
	size_t i;

	json_object_object_add(o, "cart", id_json(&c->key));
	add_int(o, "last", c->last);
	add_int(o, "session_start", c->session_start);
	add_int(o, "alert_at", c->alert_at);
	add_int(o, "seq", (int64_t)c->due.seq);
	json_object_object_add(o, "armed", json_object_new_boolean(c->armed));
	a = json_object_new_array();
	for (i = 0; i < c->nitems; i++) {
		it = &c->items[i];
		p = json_object_new_object();
		json_object_object_add(p, "id", id_json(&it->id));
		add_int(p, "quantity", it->quantity);
		add_int(p, "alerted", it->alerted);
		json_object_object_add(p, "price",
		    dec_json(&it->price, it->has_price));
		json_object_array_add(a, p);
	}
	json_object_object_add(o, "items", a);
	return o;
}

/*
 * The options that change what the state means: a state saved with
 * others is refused rather than continued with another gap or key.
 */
static char *
options_signature(void)
{
	struct ecs_buf b = ECS_BUF_INIT;

	ecs_buf_puts(&b, "key=");
	ecs_buf_puts(&b, opt.key);
	ecs_buf_puts(&b, " gap=");
	ecs_buf_int(&b, opt.gap_ms);
	ecs_buf_puts(&b, " max-duration=");
	ecs_buf_int(&b, opt.max_duration_ms);
	ecs_buf_puts(&b, " abandon=");
	ecs_buf_int(&b, opt.abandon_ms);
	ecs_buf_puts(&b, " recover=");
	ecs_buf_int(&b, opt.recover_ms);
	return b.p;
}

static void
save_state(void)
{
	struct json_object *head = json_object_new_object(), *rec;
	const struct user *u;
	char *sig = options_signature();
	size_t iter = 0;
	uint32_t i;

	json_object_object_add(head, "options", json_object_new_string(sig));
	free(sig);
	add_int(head, "now", run.clock.latest);
	add_int(head, "watermark", run.watermark);
	add_int(head, "seq", (int64_t)run.seq);
	add_int(head, "late", (int64_t)run.nlate);
	if (!ecs_checkpoint_begin(&ckpt, head))
		return;
	while ((u = ecs_map_next(run.users, &iter, NULL, NULL)) != NULL) {
		for (i = 0; i < u->n; i++) {
			rec = session_json(u->open[i]);
			ecs_checkpoint_put(&ckpt, rec);
			json_object_put(rec);
		}
		if (u->cart != NULL) {
			rec = cart_json(u->cart);
			ecs_checkpoint_put(&ckpt, rec);
			json_object_put(rec);
		}
	}
	ecs_checkpoint_commit(&ckpt);
}

static void
load_id(const struct ecs_state_reader *sr, struct json_object *o,
    struct id *id)
{
	struct json_object *t;
	struct ecs_num n;

	if (!json_object_is_type(o, json_type_object))
		ecs_state_corrupt(sr, "an id is not an object");
	t = ecs_state_field(sr, o, "text", json_type_string);
	/* Written as it is: a number's text must be one JSON number. */
	if (!ecs_state_bool(sr, o, "string") && !ecs_num_parse(
	    json_object_get_string(t), (size_t)json_object_get_string_len(t),
	    &n))
		ecs_state_corrupt(sr, "an id is not a number's text");
	id_set(id, json_object_get_string(t),
	    (size_t)json_object_get_string_len(t),
	    ecs_state_bool(sr, o, "string"));
}

/* A saved decimal: false for null (unknown). */
static bool
load_dec(const struct ecs_state_reader *sr, struct json_object *rec,
    const char *name, struct ecs_dec *d)
{
	struct json_object *v;

	if (!json_object_object_get_ex(rec, name, &v))
		ecs_state_corrupt(sr, "no '%s'", name);
	if (v == NULL) {
		ecs_dec_from_int(d, 0);
		return false;
	}
	if (!json_object_is_type(v, json_type_string) ||
	    !ecs_dec_parse(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v), d) || !d->exact)
		ecs_state_corrupt(sr, "'%s' is not a decimal", name);
	return true;
}

/* A saved count or number of units: a whole number from 0, or corrupt. */
static int64_t
load_count(const struct ecs_state_reader *sr, struct json_object *rec,
    const char *name)
{
	int64_t n = ecs_state_int(sr, rec, name);

	if (n < 0)
		ecs_state_corrupt(sr, "'%s' is below 0", name);
	return n;
}

static struct json_object *
load_array(const struct ecs_state_reader *sr, struct json_object *rec,
    const char *name)
{
	return ecs_state_field(sr, rec, name, json_type_array);
}

static struct user *
load_user(const struct ecs_state_reader *sr, const struct id *key)
{
	bool created;

	if (ecs_map_count(run.users) >= UINT32_MAX - 2)
		ecs_state_corrupt(sr, "too many keys");
	return ecs_map_put(run.users, id_text(key), key->len, &created);
}

static void
load_session(const struct ecs_state_reader *sr, struct json_object *rec)
{
	struct session *s = ecs_xcalloc(1, sizeof(*s));
	struct json_object *a, *p, *c;
	struct user *u;
	struct prod *q;
	struct pcart *pc;
	size_t i, n;

	load_id(sr, json_object_object_get(rec, "session"), &s->key);
	s->start = load_time(sr, rec, "start", false);
	s->end = load_time(sr, rec, "end", false);
	s->start_seq = (uint64_t)ecs_state_int(sr, rec, "start_seq");
	s->end_seq = (uint64_t)ecs_state_int(sr, rec, "end_seq");
	s->due.seq = (uint64_t)ecs_state_int(sr, rec, "seq");
	s->landing = (long)ecs_state_int(sr, rec, "landing");
	s->exit = (long)ecs_state_int(sr, rec, "exit");
	a = load_array(sr, rec, "count");
	if (json_object_array_length(a) != NACTIONS)
		ecs_state_corrupt(sr, "'count' has not %d numbers", NACTIONS);
	for (i = 0; i < NACTIONS; i++) {
		c = json_object_array_get_idx(a, i);
		if (!json_object_is_type(c, json_type_int) ||
		    json_object_get_int64(c) < 0 ||
		    (uint64_t)json_object_get_int64(c) > UINT64_MAX - s->events)
			ecs_state_corrupt(sr, "'count' has not %d numbers "
			    "from 0", NACTIONS);
		s->count[i] = (uint64_t)json_object_get_int64(c);
		s->events += s->count[i];
	}
	s->unnumbered = (uint64_t)load_count(sr, rec, "unnumbered");
	s->revenue_unknown = !load_dec(sr, rec, "revenue", &s->revenue);
	a = load_array(sr, rec, "orders");
	n = json_object_array_length(a);
	for (i = 0; i < n; i++) {
		s->orders = ecs_xrealloc(s->orders, (i + 1) * sizeof(*s->orders));
		load_id(sr, json_object_array_get_idx(a, i), &s->orders[i]);
		s->norders = s->caporders = i + 1;
	}
	a = load_array(sr, rec, "products");
	n = json_object_array_length(a);
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(a, i);
		s->prods = ecs_xrealloc(s->prods, (i + 1) * sizeof(*s->prods));
		q = &s->prods[i];
		memset(q, 0, sizeof(*q));
		s->nprods = s->capprods = (uint32_t)(i + 1);
		load_id(sr, json_object_object_get(p, "id"), &q->id);
		q->viewed = ecs_state_bool(sr, p, "viewed");
		q->cart = -1;
		if (!json_object_object_get_ex(p, "cart", &c))
			continue;
		if (!json_object_is_type(c, json_type_object))
			ecs_state_corrupt(sr, "'cart' is not an object");
		pc = session_pcart(s, i);
		pc->carted = load_count(sr, c, "carted");
		pc->removed = load_count(sr, c, "removed");
		pc->bought = load_count(sr, c, "bought");
		pc->has_price = load_dec(sr, c, "price", &pc->price);
		pc->price_t = load_time(sr, c, "price_t", false);
		pc->price_seq = (uint64_t)ecs_state_int(sr, c, "price_seq");
	}
	/* Each purchase has an order_id, or counts in unnumbered. */
	if (s->events == 0 || s->count[A_PURCHASE] < s->norders ||
	    s->count[A_PURCHASE] - s->norders < s->unnumbered ||
	    s->end < s->start || s->landing < -1 ||
	    s->exit < -1 || s->landing >= (long)s->nprods ||
	    s->exit >= (long)s->nprods ||
	    s->end - s->start >= opt.max_duration_ms)
		ecs_state_corrupt(sr, "impossible values");
	u = load_user(sr, &s->key);
	/* A key's sessions are saved by start, and never overlap. */
	if (u->n > 0 && u->open[u->n - 1]->end >= s->start)
		ecs_state_corrupt(sr, "a session that overlaps the one before");
	s->due.at = session_due(s);
	heap_push(&run.sessions, &s->due);
	run.nopen++;
	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 2;
		u->open = ecs_xrealloc(u->open, u->cap * sizeof(*u->open));
	}
	u->open[u->n++] = s;	/* saved in order of start */
}

static void
load_cart(const struct ecs_state_reader *sr, struct json_object *rec)
{
	struct cart *c = ecs_xcalloc(1, sizeof(*c));
	struct json_object *a, *p;
	struct cart_item *it;
	struct user *u;
	size_t i, n;

	load_id(sr, json_object_object_get(rec, "cart"), &c->key);
	c->last = load_time(sr, rec, "last", false);
	c->session_start = load_time(sr, rec, "session_start", false);
	c->alert_at = load_time(sr, rec, "alert_at", true);
	c->due.seq = (uint64_t)ecs_state_int(sr, rec, "seq");
	c->armed = ecs_state_bool(sr, rec, "armed");
	a = load_array(sr, rec, "items");
	n = json_object_array_length(a);
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(a, i);
		c->items = ecs_xrealloc(c->items, (i + 1) * sizeof(*c->items));
		it = &c->items[i];
		memset(it, 0, sizeof(*it));
		c->nitems = c->cap = i + 1;
		load_id(sr, json_object_object_get(p, "id"), &it->id);
		it->quantity = ecs_state_int(sr, p, "quantity");
		it->alerted = ecs_state_int(sr, p, "alerted");
		it->has_price = load_dec(sr, p, "price", &it->price);
		if (it->quantity < 0 || it->alerted < 0)
			ecs_state_corrupt(sr, "impossible values");
	}
	u = load_user(sr, &c->key);
	if (u->cart != NULL)
		ecs_state_corrupt(sr, "a second cart of one key");
	u->cart = c;
	c->due.at = cart_due(c);
	heap_push(&run.carts, &c->due);
}

static void
load_state(void)
{
	struct ecs_state_reader sr;
	struct json_object *head, *rec;
	char *sig = options_signature();

	if (!ecs_checkpoint_open(&ckpt, &sr, &head)) {
		free(sig);
		return;
	}
	if (strcmp(json_object_get_string(ecs_state_field(&sr, head,
	    "options", json_type_string)), sig) != 0) {
		warnx("%s: saved with other options (%s), not %s", ckpt.path,
		    json_object_get_string(json_object_object_get(head,
		    "options")), sig);
		free(sig);
		exit(ECS_EXIT_USAGE);
	}
	free(sig);
	run.clock.latest = load_time(&sr, head, "now", true);
	run.watermark = load_time(&sr, head, "watermark", true);
	run.seq = (uint64_t)ecs_state_int(&sr, head, "seq");
	run.nlate = (unsigned long long)ecs_state_int(&sr, head, "late");
	while ((rec = ecs_state_next(&sr)) != NULL) {
		if (json_object_object_get_ex(rec, "session", NULL))
			load_session(&sr, rec);
		else if (json_object_object_get_ex(rec, "cart", NULL))
			load_cart(&sr, rec);
		else
			ecs_state_corrupt(&sr, "neither a session nor a cart");
	}
	ecs_state_close(&sr);
}

/* Setup and the end */

static int64_t
duration_option(const char *name, const char *arg)
{
	int64_t ms = ecs_opt_duration(name, arg);

	if (ms > MAX_DURATION_MS)
		errx(ECS_EXIT_USAGE, "%s '%s': at most 1000d", name, arg);
	return ms;
}

static void
parse_options(int argc, char *argv[], int *first_operand)
{
	const char *err;
	struct ecs_path *p;
	int ch;

	while ((ch = getopt_long(argc, argv, ECS_COMMON_SHORTOPTS, longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(0);
		case OPT_ABANDON:
			opt.abandon_ms = duration_option("--abandon", optarg);
			break;
		case OPT_CHECKPOINT:
			ecs_checkpoint_option(&ckpt, optarg);
			break;
		case OPT_EMIT:
			if (strcmp(optarg, "final") != 0 &&
			    strcmp(optarg, "update") != 0)
				errx(ECS_EXIT_USAGE, "--emit '%s': expected "
				    "final or update", optarg);
			opt.emit_update = strcmp(optarg, "update") == 0;
			break;
		case OPT_GAP:
			opt.gap_ms = duration_option("--gap", optarg);
			break;
		case OPT_IDLE:
			opt.idle_ms = ecs_opt_duration("--idle", optarg);
			if (opt.idle_ms > 2000000000)
				errx(ECS_EXIT_USAGE, "--idle: at most about "
				    "23 days");
			break;
		case OPT_KEY:
			if ((p = ecs_path_compile(optarg, &err)) == NULL)
				errx(ECS_EXIT_USAGE, "--key '%s': %s", optarg,
				    err);
			ecs_path_free(p);
			opt.key = optarg;
			break;
		case OPT_LATE:
			opt.late_path = optarg;
			break;
		case OPT_LATENESS:
			opt.lateness_ms = strcmp(optarg, "0") == 0 ? 0 :
			    duration_option("--lateness", optarg);
			break;
		case OPT_MAX_DURATION:
			opt.max_duration_ms = duration_option("--max-duration",
			    optarg);
			break;
		case OPT_MAX_OPEN:
			opt.max_open = ecs_opt_count("--max-open", optarg, 1,
			    UINT32_MAX - 2);
			break;
		case OPT_RECOVER:
			opt.recover_ms = duration_option("--recover", optarg);
			break;
		case OPT_STATE:
			ckpt.path = optarg;
			break;
		default:
			if (!ecs_common_option(ch, optarg))
				usage(ECS_EXIT_USAGE);
		}
	}
	*first_operand = optind;
}

/* The fields, and the key's path compiled through --map. */
static void
fields_init(struct ecs_fieldset *fs, struct ecs_path **key)
{
	const char *err;

	ecs_fields_init(fs, field_names, NFIELDS);
	*key = ecs_path_compile(opt.key, &err);
	ecs_path_apply_map(*key);
	run.key_slot = ecs_fields_add(fs, *key);
}

/* End of input: without --state every open session is written. */
static void
finish_sessions(void)
{
	struct user *u;
	size_t iter = 0;

	if (ckpt.path == NULL)
		while (run.sessions.n > 0)
			session_close((struct session *)run.sessions.v[0],
			    C_END);
	while ((u = ecs_map_next(run.users, &iter, NULL, NULL)) != NULL) {
		while (u->n > 0) {
			heap_remove(&run.sessions, &u->open[u->n - 1]->due);
			session_free(u->open[--u->n]);
		}
		free(u->open);
		if (u->cart != NULL)
			cart_free(u->cart);
	}
	if (run.ncut > 0 && !ecs_config.quiet)
		warnx("%llu session%s closed early (--max-open %llu)",
		    run.ncut, run.ncut == 1 ? "" : "s", opt.max_open);
	if (run.nlate_run > 0 && !ecs_config.quiet)
		warnx("%llu late event%s (before the watermark)%s%s",
		    run.nlate_run, run.nlate_run == 1 ? "" : "s",
		    run.late_fd != -1 ? ", in " : "",
		    run.late_fd != -1 ? opt.late_path : "");
}

/* The run's empty state, before a --state is loaded. */
static void
run_start(void)
{
	memset(&run, 0, sizeof(run));
	run.clock = (struct ecs_event_clock)ECS_EVENT_CLOCK_INIT;
	run.watermark = INT64_MIN;
	run.late_fd = -1;
	run.users = ecs_map_create(sizeof(struct user), NULL);
	run.unknown_actions = ecs_map_create(0, NULL);
}

static void
free_all(void)
{
	ecs_map_destroy(run.users);
	ecs_map_destroy(run.unknown_actions);
	free(run.sessions.v);
	free(run.carts.v);
	ecs_buf_free(&run.out);
	ecs_buf_free(&run.id);
}

/* For --stats and SIGUSR1: keys held, sessions open, late events. */
static void
count(struct ecs_counters *c)
{
	c->keys = ecs_map_count(run.users);
	c->open = run.nopen;
	c->open_what = "sessions";
	c->late = run.nlate;
}

int
main(int argc, char *argv[])
{
	struct ecs_fieldset fs;
	struct ecs_field *f;
	struct ecs_path *key;
	struct ecs_reader rd;
	int first, status;

	parse_options(argc, argv, &first);
	run_start();
	if (ckpt.path != NULL)
		load_state();
	if (opt.late_path != NULL && (run.late_fd = open(opt.late_path,
	    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666)) == -1)
		err(ECS_EXIT_DATA, "%s", opt.late_path);
	ecs_signals_init();
	ecs_stats_hook(count);

	fields_init(&fs, &key);
	f = ecs_xcalloc(fs.n, sizeof(*f));
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
		if (ecs_fields_read(&fs, &rd, f))
			record(&rd, f);
		ecs_checkpoint_tick(&ckpt);
	}
	if (ckpt.path == NULL)
		finish_sessions();
	ecs_event_clock_summary(&run.clock);
	status = ecs_checkpoint_finish(&ckpt, &rd);
	if (ckpt.path != NULL)
		finish_sessions();
	status |= ecs_out_close();
	if (run.late_fd != -1 && close(run.late_fd) == -1)
		status = ECS_EXIT_DATA;
	ecs_fields_finish(&fs);
	ecs_path_free(key);
	free(f);
	free_all();
	return status;
}
