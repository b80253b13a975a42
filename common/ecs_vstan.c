/* SPDX-License-Identifier: ISC */
/*
 * ecs_vstan.c -- session-based nearest neighbours (V-STAN) in one pass:
 * see ecs_vstan.h. Memory is bounded by the ring of sessions and the
 * per-item lists; the cost of a scoring by the lists of the session's
 * items (at most ECS_VSTAN_CANDIDATES sessions are compared) and by k.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ecs_vstan.h"

#define POS_MAX		255		/* positions kept in a uint8_t */
#define CURRENT_MAX	64		/* current items looked at, the latest */
/*
 * Sessions become candidates through the latest FINDERS distinct items of
 * the current session only; older items, weighing exp(-3/1.02) = 0.05 or
 * less, still add to the similarity of the candidates found.
 */
#define FINDERS		3

/* A session of the ring: its distinct items and their last positions. */
struct vsession {
	uint64_t	 sid;		/* 0: an empty slot */
	int64_t		 t;		/* its latest event */
	uint32_t	 item[ECS_VSTAN_ITEMS];
	uint8_t		 pos[ECS_VSTAN_ITEMS];	/* last position, from 1 */
	uint8_t		 n;		/* distinct items */
	uint8_t		 events;	/* positions used */
};

/* The recent sessions of an item: a ring, newest at head - 1. */
struct vitem {
	uint64_t	*sid;		/* owned; grows up to PER_ITEM */
	uint32_t	 sessions;	/* sessions it was ever in */
	float		 log_sessions;	/* ln(sessions), for the IDF */
	uint16_t	 n, cap, head;
};

/*
 * What a scoring reads of every session it meets, apart from the ring so
 * that it stays in the cache: the id of the session in the slot, and the
 * similarity sum of the scoring under way, valid when stamp is its epoch.
 */
struct vslot {
	uint64_t	 sid;
	float		 acc;
	uint32_t	 stamp;
};

/* A neighbour being chosen. */
struct near {
	float		 sim;
	uint32_t	 slot;
};

struct ecs_vstan {
	struct ecs_vstan_params p;
	unsigned	 k;		/* neighbours that score */
	struct vsession	*ring;		/* ECS_VSTAN_RING, by sid % RING */
	struct vitem	*items;		/* by item number */
	size_t		 nitems;
	uint64_t	 next_sid;	/* the id of the next session */
	struct vslot	*slot;		/* ECS_VSTAN_RING, as the ring */
	uint32_t	 epoch;		/* of the scoring under way */
	uint32_t	 touched[ECS_VSTAN_CANDIDATES];
	struct near	*heap;		/* the best k, weakest first */
	float		 spw[CURRENT_MAX], inh[POS_MAX + 1];
};

struct ecs_vstan *
ecs_vstan_create(const struct ecs_vstan_params *p, unsigned k)
{
	struct ecs_vstan *v = ecs_xcalloc(1, sizeof(*v));
	int d;

	v->p = *p;
	v->ring = ecs_xcalloc(ECS_VSTAN_RING, sizeof(*v->ring));
	v->slot = ecs_xcalloc(ECS_VSTAN_RING, sizeof(*v->slot));
	v->k = k;
	v->heap = ecs_xcalloc(k ? k : 1, sizeof(*v->heap));
	v->next_sid = 1;
	/* The weights of a distance, in positions, computed once. */
	for (d = 0; d < CURRENT_MAX; d++)
		v->spw[d] = (float)exp(-d / p->spw);
	for (d = 0; d <= POS_MAX; d++)
		v->inh[d] = (float)exp(-d / p->inh);
	return v;
}

void
ecs_vstan_destroy(struct ecs_vstan *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->nitems; i++)
		free(v->items[i].sid);
	free(v->items);
	free(v->ring);
	free(v->slot);
	free(v->heap);
	free(v);
}

static struct vitem *
vitem(struct ecs_vstan *v, uint32_t item)
{
	size_t cap;

	if (item >= v->nitems) {
		cap = v->nitems ? v->nitems : 1024;
		while (cap <= item)
			cap *= 2;
		v->items = ecs_xrealloc(v->items, cap * sizeof(*v->items));
		memset(v->items + v->nitems, 0,
		    (cap - v->nitems) * sizeof(*v->items));
		v->nitems = cap;
	}
	return &v->items[item];
}

/* The slot of session sid, or NULL when it left the ring. */
static struct vsession *
session(struct ecs_vstan *v, uint64_t sid)
{
	struct vsession *s = &v->ring[sid % ECS_VSTAN_RING];

	return s->sid == sid ? s : NULL;
}

uint64_t
ecs_vstan_open(struct ecs_vstan *v, int64_t t)
{
	uint64_t sid = v->next_sid++;
	struct vsession *s = &v->ring[sid % ECS_VSTAN_RING];

	/* The oldest session gives way; item lists skip it from now on. */
	memset(s, 0, sizeof(*s));
	s->sid = sid;
	s->t = t;
	v->slot[sid % ECS_VSTAN_RING].sid = sid;
	return sid;
}

/* Puts sid at the head of the item's list, over its oldest session. */
static void
list_push(struct vitem *it, uint64_t sid)
{
	if (it->n < ECS_VSTAN_PER_ITEM) {
		if (it->n == it->cap) {
			it->cap = it->cap == 0 ? 4 : it->cap * 2 <
			    ECS_VSTAN_PER_ITEM ? (uint16_t)(it->cap * 2) :
			    ECS_VSTAN_PER_ITEM;
			it->sid = ecs_xrealloc(it->sid, it->cap * sizeof(*it->sid));
		}
		it->sid[it->n++] = sid;
		it->head = it->n % ECS_VSTAN_PER_ITEM;
		return;
	}
	it->sid[it->head] = sid;
	it->head = (uint16_t)((it->head + 1) % ECS_VSTAN_PER_ITEM);
}

void
ecs_vstan_add(struct ecs_vstan *v, uint64_t sid, uint32_t item, int64_t t)
{
	struct vsession *s = session(v, sid);
	struct vitem *it;
	uint8_t i;

	if (s == NULL || s->events == POS_MAX)
		return;
	if (t > s->t)
		s->t = t;
	for (i = 0; i < s->n && s->item[i] != item; i++)
		;
	if (i < s->n) {			/* a repeat: it moves on */
		s->pos[i] = ++s->events;
		return;
	}
	if (s->n == ECS_VSTAN_ITEMS)
		return;
	s->item[s->n] = item;
	s->pos[s->n++] = ++s->events;
	it = vitem(v, item);
	it->sessions++;
	it->log_sessions = logf((float)it->sessions);
	list_push(it, sid);
}

/* Whether neighbour a is stronger than b: similarity, then recency. */
static bool
stronger(const struct ecs_vstan *v, const struct near *a, const struct near *b)
{
	if (a->sim != b->sim)
		return a->sim > b->sim;
	return v->slot[a->slot].sid > v->slot[b->slot].sid;
}

/* Sifts heap[i] down in a heap of n, weakest at the root. */
static void
sift_down(struct ecs_vstan *v, size_t i, size_t n)
{
	struct near t;
	size_t c;

	for (; (c = 2 * i + 1) < n; i = c) {
		if (c + 1 < n && stronger(v, &v->heap[c], &v->heap[c + 1]))
			c++;
		if (!stronger(v, &v->heap[i], &v->heap[c]))
			break;
		t = v->heap[i];
		v->heap[i] = v->heap[c];
		v->heap[c] = t;
	}
}

/* Offers a neighbour to the best k; returns their count. */
static size_t
keep_near(struct ecs_vstan *v, size_t n, const struct near *x)
{
	struct near t;
	size_t i, up;

	if (n < v->k) {
		v->heap[n] = *x;
		for (i = n; i > 0 && stronger(v, &v->heap[(i - 1) / 2],
		    &v->heap[i]); i = up) {
			up = (i - 1) / 2;
			t = v->heap[up];
			v->heap[up] = v->heap[i];
			v->heap[i] = t;
		}
		return n + 1;
	}
	if (n > 0 && stronger(v, x, &v->heap[0])) {
		v->heap[0] = *x;
		sift_down(v, 0, n);
	}
	return n;
}

/* The current session's distinct items, with their position weights. */
struct current {
	uint32_t	 item[CURRENT_MAX];
	float		 w[CURRENT_MAX];
	size_t		 n;
	float		 norm;		/* of the weights */
};

static void
current_items(const struct ecs_vstan *v, const uint32_t *items, size_t n,
    struct current *c)
{
	size_t i, j, from = n > CURRENT_MAX ? n - CURRENT_MAX : 0;
	float sum = 0;

	c->n = 0;
	/* From the latest back: an item's weight is that of its last place. */
	for (i = n; i-- > from;) {
		for (j = 0; j < c->n && c->item[j] != items[i]; j++)
			;
		if (j < c->n)
			continue;
		c->item[c->n] = items[i];
		c->w[c->n] = v->spw[n - 1 - i];
		sum += c->w[c->n] * c->w[c->n];
		c->n++;
	}
	c->norm = sqrtf(sum);
}

/*
 * Sums, for each recent session that shares items with the current one,
 * the weights of the items shared; returns the sessions touched.
 */
static size_t
gather_sessions(struct ecs_vstan *v, const struct current *c, uint64_t self)
{
	const struct vitem *it;
	struct vslot *sl;
	size_t i, j, nt = 0;
	bool finder;

	if (++v->epoch == 0) {		/* wrapped: all stamps are stale */
		for (j = 0; j < ECS_VSTAN_RING; j++)
			v->slot[j].stamp = 0;
		v->epoch = 1;
	}
	for (i = 0; i < c->n; i++) {
		if (c->item[i] >= v->nitems)
			continue;
		finder = i < FINDERS;
		it = &v->items[c->item[i]];
		for (j = 0; j < it->n; j++) {
			uint64_t sid = it->sid[(it->head + it->n - 1 - j) % it->n];
			sl = &v->slot[sid % ECS_VSTAN_RING];
			if (sl->sid != sid || sid == self)
				continue;
			if (sl->stamp != v->epoch) {
				if (!finder || nt == ECS_VSTAN_CANDIDATES)
					continue;	/* enough candidates */
				sl->stamp = v->epoch;
				sl->acc = 0;
				v->touched[nt++] = (uint32_t)(sid % ECS_VSTAN_RING);
			}
			sl->acc += c->w[i];
		}
	}
	return nt;
}

/* Calls fn for each item of neighbour nb, weighed as V-STAN does. */
static void
score_neighbour(const struct ecs_vstan *v, const struct current *c,
    const struct near *nb, float log_total, ecs_vstan_score_fn *fn, void *ctx)
{
	const struct vsession *s = &v->ring[nb->slot];
	const struct vitem *it;
	float ipw = 0, w, idf;
	uint8_t star = 0;
	size_t i, j;

	/* The last shared item in the neighbour, the latest in the session. */
	for (i = 0; i < s->n; i++)
		for (j = 0; j < c->n; j++)
			if (c->item[j] == s->item[i]) {
				if (s->pos[i] > star)
					star = s->pos[i];
				if (c->w[j] > ipw)
					ipw = c->w[j];
				break;
			}
	for (i = 0; i < s->n; i++) {
		it = &v->items[s->item[i]];
		idf = log_total - it->log_sessions;
		w = nb->sim * ipw * v->inh[abs((int)s->pos[i] - (int)star)] *
		    (1 + (float)v->p.idf * (idf > 0 ? idf : 0));
		fn(ctx, s->item[i], w);
	}
}

size_t
ecs_vstan_score(struct ecs_vstan *v, const uint32_t *items, size_t n,
    uint64_t self, int64_t now, ecs_vstan_score_fn *fn, void *ctx)
{
	struct current c;
	struct near x;
	const struct vsession *s;
	size_t i, nt, nn = 0;
	float log_total;

	if (n == 0 || v->k == 0)
		return 0;
	current_items(v, items, n, &c);
	nt = gather_sessions(v, &c, self);
	for (i = 0; i < nt; i++) {
		s = &v->ring[v->touched[i]];
		x.slot = v->touched[i];
		x.sim = v->slot[x.slot].acc / (c.norm * sqrtf((float)s->n));
		if (now > s->t)
			x.sim *= expf(-(float)(now - s->t) / (float)v->p.snh_ms);
		nn = keep_near(v, nn, &x);
	}
	/* Sessions opened so far: the N of the IDF. */
	log_total = logf((float)(v->next_sid - 1));
	for (i = 0; i < nn; i++)
		score_neighbour(v, &c, &v->heap[i], log_total, fn, ctx);
	return nn;
}

/* State */

static struct json_object *
u64_array(const uint64_t *a, size_t n)
{
	struct json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_int64((int64_t)a[i]));
	return arr;
}

struct json_object *
ecs_vstan_save_head(const struct ecs_vstan *v)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "next", json_object_new_int64(
	    (int64_t)v->next_sid));
	json_object_object_add(o, "ring", json_object_new_int(ECS_VSTAN_RING));
	json_object_object_add(o, "per_item",
	    json_object_new_int(ECS_VSTAN_PER_ITEM));
	json_object_object_add(o, "items", json_object_new_int(ECS_VSTAN_ITEMS));
	return o;
}

/*
 * One line per item with sessions, {"vitem":N,"sessions":C,"recent":[sid
 * newest first]}, then one per session of the ring, oldest first,
 * {"vsession":sid,"t":ms,"items":[..],"pos":[..],"events":E}.
 */
void
ecs_vstan_save(const struct ecs_vstan *v, struct ecs_checkpoint *ckpt)
{
	struct json_object *rec, *items, *pos;
	const struct vitem *it;
	const struct vsession *s;
	uint64_t recent[ECS_VSTAN_PER_ITEM], sid;
	size_t i, j;

	for (i = 0; i < v->nitems; i++) {
		it = &v->items[i];
		if (it->sessions == 0)
			continue;
		for (j = 0; j < it->n; j++)
			recent[j] = it->sid[(it->head + it->n - 1 - j) % it->n];
		rec = json_object_new_object();
		json_object_object_add(rec, "vitem", json_object_new_int64(
		    (int64_t)i));
		json_object_object_add(rec, "sessions", json_object_new_int64(
		    it->sessions));
		json_object_object_add(rec, "recent", u64_array(recent, it->n));
		ecs_checkpoint_put(ckpt, rec);
		json_object_put(rec);
	}
	sid = v->next_sid > ECS_VSTAN_RING ? v->next_sid - ECS_VSTAN_RING : 1;
	for (; sid < v->next_sid; sid++) {
		s = &v->ring[sid % ECS_VSTAN_RING];
		if (s->sid != sid)
			continue;
		items = json_object_new_array();
		pos = json_object_new_array();
		for (j = 0; j < s->n; j++) {
			json_object_array_add(items,
			    json_object_new_int64(s->item[j]));
			json_object_array_add(pos, json_object_new_int(s->pos[j]));
		}
		rec = json_object_new_object();
		json_object_object_add(rec, "vsession",
		    json_object_new_int64((int64_t)sid));
		json_object_object_add(rec, "t", json_object_new_int64(s->t));
		json_object_object_add(rec, "events",
		    json_object_new_int(s->events));
		json_object_object_add(rec, "items", items);
		json_object_object_add(rec, "pos", pos);
		ecs_checkpoint_put(ckpt, rec);
		json_object_put(rec);
	}
}

void
ecs_vstan_load_head(struct ecs_vstan *v, const struct ecs_state_reader *sr,
    struct json_object *head)
{
	struct json_object *o = ecs_state_field(sr, head, "vstan",
	    json_type_object);

	if (ecs_state_int(sr, o, "ring") != ECS_VSTAN_RING ||
	    ecs_state_int(sr, o, "per_item") != ECS_VSTAN_PER_ITEM ||
	    ecs_state_int(sr, o, "items") != ECS_VSTAN_ITEMS)
		ecs_state_corrupt(sr, "saved with other session neighbour "
		    "limits");
	if ((v->next_sid = (uint64_t)ecs_state_int(sr, o, "next")) < 1)
		ecs_state_corrupt(sr, "bad 'next' session");
}

/* Reads an array of at most max integers from 0 to limit - 1. */
static size_t
load_ints(const struct ecs_state_reader *sr, struct json_object *rec,
    const char *name, int64_t *out, size_t max, int64_t limit)
{
	struct json_object *a = ecs_state_field(sr, rec, name, json_type_array);
	struct json_object *x;
	size_t i, n = json_object_array_length(a);

	if (n > max)
		ecs_state_corrupt(sr, "'%s' too long", name);
	for (i = 0; i < n; i++) {
		x = json_object_array_get_idx(a, i);
		out[i] = json_object_get_int64(x);
		if (!json_object_is_type(x, json_type_int) || out[i] < 0 ||
		    out[i] >= limit)
			ecs_state_corrupt(sr, "bad value in '%s'", name);
	}
	return n;
}

static void
load_item(struct ecs_vstan *v, const struct ecs_state_reader *sr,
    struct json_object *rec, uint32_t nitems)
{
	int64_t i = ecs_state_int(sr, rec, "vitem"), sessions;
	int64_t recent[ECS_VSTAN_PER_ITEM];
	struct vitem *it;
	size_t n, j;

	if (i < 0 || i >= nitems || ((uint64_t)i < v->nitems &&
	    v->items[i].sessions > 0))
		ecs_state_corrupt(sr, "bad 'vitem'");
	sessions = ecs_state_int(sr, rec, "sessions");
	n = load_ints(sr, rec, "recent", recent, ECS_VSTAN_PER_ITEM,
	    (int64_t)v->next_sid);
	if (sessions < (int64_t)n || sessions > UINT32_MAX || n == 0)
		ecs_state_corrupt(sr, "bad 'sessions'");
	it = vitem(v, (uint32_t)i);
	it->sessions = (uint32_t)sessions;
	it->log_sessions = logf((float)it->sessions);
	it->sid = ecs_xcalloc(n, sizeof(*it->sid));
	it->cap = it->n = (uint16_t)n;
	it->head = (uint16_t)(n % ECS_VSTAN_PER_ITEM);
	for (j = 0; j < n; j++)			/* oldest first */
		it->sid[j] = (uint64_t)recent[n - 1 - j];
}

static void
load_session(struct ecs_vstan *v, const struct ecs_state_reader *sr,
    struct json_object *rec, uint32_t nitems)
{
	int64_t sid = ecs_state_int(sr, rec, "vsession"), events;
	int64_t items[ECS_VSTAN_ITEMS], pos[ECS_VSTAN_ITEMS];
	struct vsession *s;
	size_t n, j;

	if (sid < 1 || (uint64_t)sid >= v->next_sid ||
	    v->next_sid - (uint64_t)sid > ECS_VSTAN_RING)
		ecs_state_corrupt(sr, "bad 'vsession'");
	s = &v->ring[(uint64_t)sid % ECS_VSTAN_RING];
	if (s->sid != 0)
		ecs_state_corrupt(sr, "a session twice");
	s->sid = (uint64_t)sid;
	v->slot[(uint64_t)sid % ECS_VSTAN_RING].sid = (uint64_t)sid;
	s->t = ecs_state_int(sr, rec, "t");
	if ((events = ecs_state_int(sr, rec, "events")) < 0 || events > POS_MAX)
		ecs_state_corrupt(sr, "bad 'events'");
	s->events = (uint8_t)events;
	n = load_ints(sr, rec, "items", items, ECS_VSTAN_ITEMS, nitems);
	if (load_ints(sr, rec, "pos", pos, ECS_VSTAN_ITEMS, events + 1) != n)
		ecs_state_corrupt(sr, "items and pos differ");
	for (j = 0; j < n; j++) {
		s->item[j] = (uint32_t)items[j];
		s->pos[j] = (uint8_t)pos[j];
	}
	s->n = (uint8_t)n;
}

bool
ecs_vstan_load_line(struct ecs_vstan *v, const struct ecs_state_reader *sr,
    struct json_object *rec, uint32_t nitems)
{
	if (json_object_object_get_ex(rec, "vitem", NULL))
		load_item(v, sr, rec, nitems);
	else if (json_object_object_get_ex(rec, "vsession", NULL))
		load_session(v, sr, rec, nitems);
	else
		return false;
	return true;
}

double
ecs_vstan_budget(size_t nitems)
{
	/* Item lists grow by doubling: at most PER_ITEM ids each. */
	return (double)ECS_VSTAN_RING * (sizeof(struct vsession) +
	    sizeof(struct vslot)) +
	    (double)nitems * (sizeof(struct vitem) + ECS_VSTAN_PER_ITEM * 8);
}
