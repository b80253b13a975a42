/* SPDX-License-Identifier: ISC */
/*
 * ecs_topk.c -- the Space-Saving heavy hitters of ecs_sketch.h: a hash
 * table and a min-heap, with a merge and a JSON form. The heap is ordered
 * by a total order, so that what can be observed (counts, JSON, future
 * evictions) depends only on what was added and never on the order of the
 * internal tables: a summary read back from its JSON behaves exactly as
 * the one that wrote it.
 */
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "ecs_sketch.h"
#include "ecs_sketch_util.h"

/* Byte strings in memcmp order, a proper prefix first. */
static int
key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int r = n == 0 ? 0 : memcmp(a, b, n);

	if (r != 0)
		return r < 0 ? -1 : 1;
	return alen < blen ? -1 : alen > blen;
}

/*
 * ecs_topk (Space-Saving). Counters c[0..n) own their keys; slots is an
 * open-addressing table (linear probing, deletion by backward shift) from
 * key to counter number + 1, at most half full; heap is a min-heap of
 * counter numbers ordered by count, then by key bytes descending. The heap
 * order is total, so the counter evicted (the one ecs_topk_list puts
 * last) depends only on the summary's contents, not on its history.
 *
 * Why the merge keeps the guarantees. Let min_i be summary i's smallest
 * count when it is full, else 0. Each summary satisfies, for every key x
 * with true count f_i(x): monitored, c_i(x) - e_i(x) <= f_i(x) <= c_i(x);
 * not monitored, f_i(x) <= min_i; and the counts sum to at most N_i. Take
 * c'_i(x) = c_i(x) and e'_i(x) = e_i(x) when monitored, else both min_i:
 * then c'_i - e'_i <= f_i <= c'_i always, and the sums c = c'_1 + c'_2,
 * e = e'_1 + e'_2 bound f = f_1 + f_2 the same way. Every key in the union
 * has c >= min_1 + min_2, which bounds f for keys in neither, and a key
 * dropped from the union had c <= every kept count, so an unmonitored key
 * has f <= the merged minimum. Swapping each kept key not in summary i for
 * a distinct unkept key of summary i (count >= min_i) shows the kept c'_i
 * sum to at most N_i, so the kept counts sum to at most N = N_1 + N_2, the
 * minimum is at most N / m, and adds keep all of this as Space-Saving does.
 */
struct counter {
	char		*key;		/* owned, NUL-terminated */
	size_t		 len, cap;
	uint64_t	 hash;
	uint64_t	 count, error;
	uint32_t	 heap;		/* its index in heap */
};

struct ecs_topk {
	size_t		 m;		/* counters */
	struct counter	*c;
	size_t		 n, cap;	/* counters used, allocated (<= m) */
	uint32_t	*heap;		/* n counter numbers, cap allocated */
	uint32_t	*slots;		/* counter number + 1; 0 is empty */
	size_t		 nslots;	/* a power of two >= 2 * cap */
	uint64_t	 total;
};

static void
counter_set_key(struct counter *c, const char *key, size_t len)
{
	if (c->key == NULL || c->cap < len + 1) {
		free(c->key);
		c->cap = (len + 16) & ~(size_t)15;
		c->key = ecs_xmalloc(c->cap);
	}
	if (len > 0)
		memcpy(c->key, key, len);
	c->key[len] = '\0';
	c->len = len;
}

/* The slot of key in t, or the empty slot where it would go. */
static size_t
topk_find(const struct ecs_topk *t, const char *key, size_t len, uint64_t h)
{
	size_t mask = t->nslots - 1, i = (size_t)h & mask;
	const struct counter *c;

	for (; t->slots[i] != 0; i = (i + 1) & mask) {
		c = &t->c[t->slots[i] - 1];
		if (c->hash == h && c->len == len &&
		    (len == 0 || memcmp(c->key, key, len) == 0))
			break;
	}
	return i;
}

/* Empties slot i, moving later entries of its probe run back. */
static void
topk_unlink(struct ecs_topk *t, size_t i)
{
	size_t mask = t->nslots - 1, j = i, home;

	for (;;) {
		t->slots[i] = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (t->slots[j] == 0)
				return;
			home = (size_t)t->c[t->slots[j] - 1].hash & mask;
			/* It may move unless home is cyclically in (i, j]. */
			if (i <= j ? home <= i || home > j :
			    home <= i && home > j)
				break;
		}
		t->slots[i] = t->slots[j];
		i = j;
	}
}

static void
topk_rehash(struct ecs_topk *t, size_t nslots)
{
	size_t i;

	free(t->slots);
	t->nslots = nslots;
	t->slots = ecs_xcalloc(nslots, sizeof(*t->slots));
	for (i = 0; i < t->n; i++)
		t->slots[topk_find(t, t->c[i].key, t->c[i].len,
		    t->c[i].hash)] = (uint32_t)(i + 1);
}

/* Makes room for want (<= m) counters. */
static void
topk_reserve(struct ecs_topk *t, size_t want)
{
	size_t cap = t->cap ? t->cap : 8, nslots = t->nslots ? t->nslots : 16;

	if (want <= t->cap)
		return;
	while (cap < want)
		cap *= 2;
	if (cap > t->m)
		cap = t->m;
	t->c = ecs_xrealloc(t->c, cap * sizeof(*t->c));
	memset(t->c + t->cap, 0, (cap - t->cap) * sizeof(*t->c));
	t->heap = ecs_xrealloc(t->heap, cap * sizeof(*t->heap));
	t->cap = cap;
	while (nslots < 2 * cap)
		nslots *= 2;
	if (nslots != t->nslots)
		topk_rehash(t, nslots);
}

/* The heap order: a before b. */
static bool
heap_less(const struct ecs_topk *t, uint32_t a, uint32_t b)
{
	const struct counter *x = &t->c[a], *y = &t->c[b];

	if (x->count != y->count)
		return x->count < y->count;
	return key_cmp(x->key, x->len, y->key, y->len) > 0;
}

static void
heap_put(struct ecs_topk *t, size_t pos, uint32_t ci)
{
	t->heap[pos] = ci;
	t->c[ci].heap = (uint32_t)pos;
}

static void
heap_down(struct ecs_topk *t, size_t pos)
{
	uint32_t ci = t->heap[pos];
	size_t child;

	for (; (child = 2 * pos + 1) < t->n; pos = child) {
		if (child + 1 < t->n &&
		    heap_less(t, t->heap[child + 1], t->heap[child]))
			child++;
		if (!heap_less(t, t->heap[child], ci))
			break;
		heap_put(t, pos, t->heap[child]);
	}
	heap_put(t, pos, ci);
}

static void
heap_up(struct ecs_topk *t, size_t pos)
{
	uint32_t ci = t->heap[pos];

	for (; pos > 0 && heap_less(t, ci, t->heap[(pos - 1) / 2]);
	    pos = (pos - 1) / 2)
		heap_put(t, pos, t->heap[(pos - 1) / 2]);
	heap_put(t, pos, ci);
}

/* Rebuilds slots and heap from c[0..n). */
static void
topk_rebuild(struct ecs_topk *t)
{
	size_t i;

	topk_rehash(t, t->nslots);
	for (i = 0; i < t->n; i++)
		heap_put(t, i, (uint32_t)i);
	for (i = t->n / 2; i-- > 0;)
		heap_down(t, i);
}

struct ecs_topk *
ecs_topk_create(size_t counters)
{
	struct ecs_topk *t;

	if (counters == 0 || counters > ECS_TOPK_MAX_COUNTERS)
		return NULL;
	t = ecs_xcalloc(1, sizeof(*t));
	t->m = counters;
	topk_reserve(t, 1);
	return t;
}

static void
topk_free_counters(struct ecs_topk *t)
{
	size_t i;

	for (i = 0; i < t->cap; i++)
		free(t->c[i].key);
	free(t->c);
	free(t->heap);
	free(t->slots);
}

void
ecs_topk_destroy(struct ecs_topk *t)
{
	if (t == NULL)
		return;
	topk_free_counters(t);
	free(t);
}

void
ecs_topk_add(struct ecs_topk *t, const char *key, size_t len, uint64_t weight)
{
	uint64_t h;
	uint32_t ci;
	size_t i;
	struct counter *c;

	if (weight == 0)
		return;
	t->total = sat_add(t->total, weight);
	h = ecs_sketch_hash(key, len);
	i = topk_find(t, key, len, h);
	if (t->slots[i] != 0) {
		ci = t->slots[i] - 1;
		t->c[ci].count = sat_add(t->c[ci].count, weight);
		heap_down(t, t->c[ci].heap);
		return;
	}
	if (t->n < t->m) {
		if (t->n == t->cap) {
			topk_reserve(t, t->n + 1);
			i = topk_find(t, key, len, h);
		}
		ci = (uint32_t)t->n++;
		c = &t->c[ci];
		counter_set_key(c, key, len);
		c->hash = h;
		c->count = weight;
		c->error = 0;
		t->slots[i] = ci + 1;
		heap_put(t, ci, ci);
		heap_up(t, ci);
		return;
	}
	/* Full: the smallest counter takes the key, its count as error. */
	ci = t->heap[0];
	c = &t->c[ci];
	topk_unlink(t, topk_find(t, c->key, c->len, c->hash));
	counter_set_key(c, key, len);
	c->hash = h;
	c->error = c->count;
	c->count = sat_add(c->count, weight);
	t->slots[topk_find(t, key, len, h)] = ci + 1;
	heap_down(t, 0);
}

/* The ecs_topk_list order: count descending, then key bytes ascending. */
static int
counter_order(const struct counter *x, const struct counter *y)
{
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return key_cmp(x->key, x->len, y->key, y->len);
}

static int
counter_cmp(const void *a, const void *b)
{
	return counter_order(*(const struct counter *const *)a,
	    *(const struct counter *const *)b);
}

/* Pointers to c[0..n) in list order, in an array owned by the caller. */
static const struct counter **
counters_sorted(const struct counter *c, size_t n)
{
	const struct counter **v = ecs_xmalloc((n + 1) * sizeof(*v));
	size_t i;

	for (i = 0; i < n; i++)
		v[i] = &c[i];
	qsort(v, n, sizeof(*v), counter_cmp);
	return v;
}

/* Sifts v[pos] down a heap of n whose root is the last in list order. */
static void
worst_down(const struct counter **v, size_t n, size_t pos)
{
	const struct counter *x = v[pos];
	size_t child;

	while ((child = 2 * pos + 1) < n) {
		if (child + 1 < n && counter_order(v[child + 1], v[child]) > 0)
			child++;
		if (counter_order(v[child], x) <= 0)
			break;
		v[pos] = v[child];
		pos = child;
	}
	v[pos] = x;
}

/*
 * Pointers to the first k of c[0..n) in list order, in an array owned by
 * the caller: a heap of the k best so far, O(n log k), so that a short
 * list of many counters (a row after every event) does not sort them all.
 */
static const struct counter **
counters_first(const struct counter *c, size_t n, size_t k)
{
	const struct counter **v;
	size_t i;

	if (k >= n / 2)
		return counters_sorted(c, n);
	v = ecs_xmalloc((k + 1) * sizeof(*v));
	for (i = 0; i < k; i++)
		v[i] = &c[i];
	for (i = k / 2; i-- > 0;)
		worst_down(v, k, i);
	for (i = k; i < n; i++)
		if (counter_order(&c[i], v[0]) < 0) {
			v[0] = &c[i];
			worst_down(v, k, 0);
		}
	qsort(v, k, sizeof(*v), counter_cmp);
	return v;
}

size_t
ecs_topk_list(const struct ecs_topk *t, size_t k,
    struct ecs_topk_item *out)
{
	const struct counter **v;
	size_t i;

	if (k > t->n)
		k = t->n;
	if (k == 0)
		return 0;
	v = counters_first(t->c, t->n, k);
	for (i = 0; i < k; i++) {
		out[i].key = v[i]->key;
		out[i].len = v[i]->len;
		out[i].count = v[i]->count;
		out[i].error = v[i]->error;
	}
	free(v);
	return k;
}

uint64_t
ecs_topk_total(const struct ecs_topk *t)
{
	return t->total;
}

/*
 * An eviction leaves an error of at least 1 (every count is at least 1),
 * and only a counter with an error takes its place next time; a merge that
 * drops keys loses their counts from the sum, and one that charges a floor
 * charges it as error too. So either trace is there for good.
 */
bool
ecs_topk_is_exact(const struct ecs_topk *t)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (t->c[i].error != 0)
			return false;
		sum = sat_add(sum, t->c[i].count);
	}
	return sum == t->total;
}

/* The most an unmonitored key can have been counted: 0 unless full. */
static uint64_t
topk_floor(const struct ecs_topk *t)
{
	return t->n == t->m ? t->c[t->heap[0]].count : 0;
}

bool
ecs_topk_merge(struct ecs_topk *into, const struct ecs_topk *from)
{
	struct counter *all, *c;
	const struct counter *o, **v;
	uint64_t floor_into, floor_from;
	size_t i, j, n = 0;

	if (into->m != from->m)
		return false;
	into->total = sat_add(into->total, from->total);
	if (from->n == 0)
		return true;
	floor_into = topk_floor(into);
	floor_from = topk_floor(from);
	/* The union, keys borrowed from either summary. */
	all = ecs_xcalloc(into->n + from->n, sizeof(*all));
	for (i = 0; i < into->n; i++) {
		c = &all[n++];
		*c = into->c[i];
		j = topk_find(from, c->key, c->len, c->hash);
		o = from->slots[j] != 0 ? &from->c[from->slots[j] - 1] : NULL;
		c->count = sat_add(c->count, o ? o->count : floor_from);
		c->error = sat_add(c->error, o ? o->error : floor_from);
	}
	for (i = 0; i < from->n; i++) {
		o = &from->c[i];
		if (into->slots[topk_find(into, o->key, o->len, o->hash)] != 0)
			continue;
		c = &all[n++];
		*c = *o;
		c->count = sat_add(c->count, floor_into);
		c->error = sat_add(c->error, floor_into);
	}
	/* Keep the heaviest m, each key copied before the old ones go. */
	v = counters_sorted(all, n);
	if (n > into->m)
		n = into->m;
	c = ecs_xcalloc(n, sizeof(*c));
	for (i = 0; i < n; i++) {
		counter_set_key(&c[i], v[i]->key, v[i]->len);
		c[i].hash = v[i]->hash;
		c[i].count = v[i]->count;
		c[i].error = v[i]->error;
	}
	free(v);
	free(all);
	topk_free_counters(into);
	into->c = c;
	into->n = into->cap = n;
	into->heap = ecs_xmalloc(n * sizeof(*into->heap));
	into->slots = NULL;
	for (into->nslots = 16; into->nslots < 2 * n; into->nslots *= 2)
		;
	topk_rebuild(into);
	return true;
}

struct json_object *
ecs_topk_to_json(const struct ecs_topk *t)
{
	struct json_object *o = json_object_new_object(), *items, *it;
	const struct counter **v = counters_sorted(t->c, t->n);
	size_t i;

	items = json_object_new_array_ext((int)t->n);
	for (i = 0; i < t->n; i++) {
		it = json_object_new_array_ext(3);
		json_object_array_add(it,
		    json_object_new_string_len(v[i]->key, (int)v[i]->len));
		json_object_array_add(it, json_object_new_uint64(v[i]->count));
		json_object_array_add(it, json_object_new_uint64(v[i]->error));
		json_object_array_add(items, it);
	}
	free(v);
	json_object_object_add(o, "counters", json_object_new_int64(
	    (int64_t)t->m));
	json_object_object_add(o, "total", json_object_new_uint64(t->total));
	json_object_object_add(o, "items", items);
	return o;
}

/* Reads one ["key",count,error] item into c; a static message on failure. */
static const char *
item_from_json(struct json_object *it, struct counter *c)
{
	struct json_object *key;

	if (!json_object_is_type(it, json_type_array) ||
	    json_object_array_length(it) != 3)
		return "topk item is not [key, count, error]";
	key = json_object_array_get_idx(it, 0);
	if (!json_object_is_type(key, json_type_string))
		return "topk item key is not a string";
	if (!json_u64(json_object_array_get_idx(it, 1), &c->count) ||
	    c->count == 0)
		return "topk item count is not a positive integer";
	if (!json_u64(json_object_array_get_idx(it, 2), &c->error) ||
	    c->error > c->count)
		return "topk item error is not an integer up to its count";
	counter_set_key(c, json_object_get_string(key),
	    (size_t)json_object_get_string_len(key));
	c->hash = ecs_sketch_hash(c->key, c->len);
	return NULL;
}

struct ecs_topk *
ecs_topk_from_json(struct json_object *obj, const char **why)
{
	struct ecs_topk *t;
	struct json_object *counters, *total, *items;
	uint64_t sum = 0;
	int64_t m;
	size_t i, n;

	if (!json_object_is_type(obj, json_type_object) ||
	    json_object_object_length(obj) != 3 ||
	    !json_object_object_get_ex(obj, "counters", &counters) ||
	    !json_object_object_get_ex(obj, "total", &total) ||
	    !json_object_object_get_ex(obj, "items", &items)) {
		*why = "topk sketch is not {\"counters\",\"total\",\"items\"}";
		return NULL;
	}
	if (!json_i64(counters, 1, ECS_TOPK_MAX_COUNTERS, &m)) {
		*why = "topk sketch 'counters' is out of range";
		return NULL;
	}
	if (!json_object_is_type(items, json_type_array) ||
	    (n = json_object_array_length(items)) > (size_t)m) {
		*why = "topk sketch 'items' is not an array of 'counters' at most";
		return NULL;
	}
	t = ecs_topk_create((size_t)m);
	if (!json_u64(total, &t->total)) {
		*why = "topk sketch 'total' is not a count";
		goto fail;
	}
	topk_reserve(t, n);
	for (i = 0; i < n; i++) {
		*why = item_from_json(json_object_array_get_idx(items, i),
		    &t->c[i]);
		if (*why != NULL)
			goto fail;
		if (i > 0 && counter_order(&t->c[i - 1], &t->c[i]) >= 0) {
			*why = "topk sketch items are not in list order";
			goto fail;
		}
		if (sum + t->c[i].count < sum ||
		    sum + t->c[i].count > t->total) {
			*why = "topk sketch counts add up to more than 'total'";
			goto fail;
		}
		sum += t->c[i].count;
	}
	t->n = n;
	topk_rebuild(t);
	return t;
fail:
	ecs_topk_destroy(t);
	return NULL;
}
