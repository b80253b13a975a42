/* SPDX-License-Identifier: ISC */
/*
 * ecs_map.c -- a hash table from byte-string keys to fixed-size values
 * stored inline, iterated in insertion order (as SQLite's Hash and Miller's
 * lhmslv), so every program's output is deterministic. A deleted entry's
 * place is reused by the next new key (so order is by first insertion
 * only in maps that never delete). Keys live in one
 * arena and entries in one dense array, which keeps the cost per key small
 * and known: 16 bytes of entry header, the value, the key's bytes and two
 * 4-byte index slots at most. The hash is keyed by a per-process random
 * seed, so crafted ids cannot force collisions.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ecs.h"

struct entry {
	uint32_t	 hash;
	uint32_t	 key_len;	/* DEAD for a deleted entry */
	uint64_t	 key_off;	/* into keys; the next free entry if dead */
	/* the value follows, value_size bytes */
};

#define DEAD		UINT32_MAX
#define NO_FREE		UINT64_MAX

struct ecs_map {
	size_t		 value_size;
	void		(*free_value)(void *);	/* or NULL */
	size_t		 entry_size;
	char		*entries;	/* count entries, insertion order */
	size_t		 count, cap;
	uint32_t	*slots;		/* entry number + 1; 0 is empty */
	size_t		 nslots;	/* a power of two, >= 2 * count */
	char		*keys;
	size_t		 keys_len, keys_cap;
	size_t		 live;		/* count less the deleted */
	uint64_t	 free_list;	/* a dead entry to reuse, or NO_FREE */
	size_t		 key_garbage;	/* bytes of dead keys */
	uint64_t	 seed;
};

static struct entry *
entry_at(const struct ecs_map *m, size_t i)
{
	return (struct entry *)(m->entries + i * m->entry_size);
}

/* A keyed multiply-xorshift hash over 8-byte words. */
static uint32_t
hash_key(const struct ecs_map *m, const char *key, size_t len)
{
	uint64_t h = m->seed ^ (len * 0x9e3779b97f4a7c15ULL), w;
	uint32_t lo, hi;

	for (; len >= 8; key += 8, len -= 8) {
		memcpy(&w, key, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 29;
	}
	/*
	 * The last 1 to 7 bytes, all of them read, in fixed-size loads: a
	 * memcpy of len bytes cost 30 instructions, a third of a lookup.
	 */
	if (len >= 4) {
		memcpy(&lo, key, 4);
		memcpy(&hi, key + len - 4, 4);
		h = (h ^ ((uint64_t)hi << 32 | lo)) * 0xbf58476d1ce4e5b9ULL;
	} else if (len > 0) {
		w = (uint64_t)(unsigned char)key[0] << 16 |
		    (uint64_t)(unsigned char)key[len / 2] << 8 |
		    (unsigned char)key[len - 1];
		h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
	}
	h = (h ^ (h >> 32)) * 0x94d049bb133111ebULL;
	return (uint32_t)(h ^ (h >> 32));
}

struct ecs_map *
ecs_map_create(size_t value_size, void (*free_value)(void *))
{
	struct ecs_map *m = ecs_xcalloc(1, sizeof(*m));

	m->value_size = value_size;
	m->free_value = free_value;
	m->entry_size = (sizeof(struct entry) + value_size + 7) & ~(size_t)7;
	m->nslots = 16;
	m->slots = ecs_xcalloc(m->nslots, sizeof(*m->slots));
	m->free_list = NO_FREE;
	if (getrandom(&m->seed, sizeof(m->seed), 0) != sizeof(m->seed))
		m->seed = (uint64_t)(uintptr_t)m ^ 0x5851f42d4c957f2dULL;
	return m;
}

void
ecs_map_destroy(struct ecs_map *m)
{
	size_t iter = 0;
	void *v;

	if (m == NULL)
		return;
	while (m->free_value != NULL &&
	    (v = ecs_map_next(m, &iter, NULL, NULL)) != NULL)
		m->free_value(v);
	free(m->entries);
	free(m->slots);
	free(m->keys);
	free(m);
}

/* The slot that holds key, or the empty slot where it would go. */
static size_t
find_slot(const struct ecs_map *m, const char *key, size_t len, uint32_t h)
{
	size_t mask = m->nslots - 1, i = h & mask;
	const struct entry *e;

	for (; m->slots[i] != 0; i = (i + 1) & mask) {
		e = entry_at(m, m->slots[i] - 1);
		if (e->hash == h && e->key_len == len &&
		    (len == 0 || memcmp(m->keys + e->key_off, key, len) == 0))
			break;
	}
	return i;
}

void *
ecs_map_find(const struct ecs_map *m, const char *key, size_t len,
    size_t *pos)
{
	size_t i = find_slot(m, key, len, hash_key(m, key, len));

	if (m->slots[i] == 0)
		return NULL;
	*pos = m->slots[i] - 1;
	return (char *)entry_at(m, *pos) + sizeof(struct entry);
}

void *
ecs_map_get(const struct ecs_map *m, const char *key, size_t len)
{
	size_t i = find_slot(m, key, len, hash_key(m, key, len));

	return m->slots[i] == 0 ? NULL :
	    (char *)entry_at(m, m->slots[i] - 1) + sizeof(struct entry);
}

static void
grow_slots(struct ecs_map *m)
{
	size_t i, k, mask;

	free(m->slots);
	m->nslots *= 2;
	m->slots = ecs_xcalloc(m->nslots, sizeof(*m->slots));
	mask = m->nslots - 1;
	for (i = 0; i < m->count; i++) {
		if (entry_at(m, i)->key_len == DEAD)
			continue;
		for (k = entry_at(m, i)->hash & mask; m->slots[k] != 0;
		    k = (k + 1) & mask)
			;
		m->slots[k] = (uint32_t)(i + 1);
	}
}

/* Moves the live keys to the front of the arena, dropping dead ones. */
static void
compact_keys(struct ecs_map *m)
{
	char *keys = ecs_xmalloc(m->keys_cap);
	size_t i, off = 0;
	struct entry *e;

	for (i = 0; i < m->count; i++) {
		e = entry_at(m, i);
		if (e->key_len == DEAD)
			continue;
		memcpy(keys + off, m->keys + e->key_off, e->key_len);
		e->key_off = off;
		off += e->key_len;
	}
	free(m->keys);
	m->keys = keys;
	m->keys_len = off;
	m->key_garbage = 0;
}

void *
ecs_map_put(struct ecs_map *m, const char *key, size_t len, bool *created)
{
	uint32_t h = hash_key(m, key, len);
	size_t i = find_slot(m, key, len, h), n;
	struct entry *e;

	*created = m->slots[i] == 0;
	if (!*created)
		return (char *)entry_at(m, m->slots[i] - 1) + sizeof(*e);
	if (m->count >= UINT32_MAX - 2 || len >= DEAD)
		errx(ECS_EXIT_DATA, "too many keys");
	if (m->key_garbage > 4096 && m->key_garbage > m->keys_len / 2) {
		compact_keys(m);
		i = find_slot(m, key, len, h);
	}
	if (m->free_list == NO_FREE && m->count == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->entries = ecs_xrealloc(m->entries, m->cap * m->entry_size);
	}
	if (m->keys_len + len > m->keys_cap) {
		while (m->keys_len + len > m->keys_cap)
			m->keys_cap = m->keys_cap ? m->keys_cap * 2 : 1024;
		m->keys = ecs_xrealloc(m->keys, m->keys_cap);
	}
	if (len > 0)		/* an empty key may come with NULL */
		memcpy(m->keys + m->keys_len, key, len);
	if (m->free_list != NO_FREE) {
		n = (size_t)m->free_list;
		m->free_list = entry_at(m, n)->key_off;
	} else
		n = m->count++;
	e = entry_at(m, n);
	e->hash = h;
	e->key_len = (uint32_t)len;
	e->key_off = m->keys_len;
	m->keys_len += len;
	if (m->value_size > 0)
		memset((char *)e + sizeof(*e), 0, m->value_size);
	m->slots[i] = (uint32_t)(n + 1);
	m->live++;
	if (m->count * 2 > m->nslots)
		grow_slots(m);
	return (char *)e + sizeof(*e);
}

bool
ecs_map_del(struct ecs_map *m, const char *key, size_t len)
{
	size_t mask = m->nslots - 1, i, j, k, n;
	struct entry *e;

	i = find_slot(m, key, len, hash_key(m, key, len));
	if (m->slots[i] == 0)
		return false;
	n = m->slots[i] - 1;
	e = entry_at(m, n);
	if (m->free_value != NULL)
		m->free_value((char *)e + sizeof(*e));
	m->key_garbage += e->key_len;
	e->key_len = DEAD;
	e->key_off = m->free_list;
	m->free_list = n;
	m->live--;
	/* Backward-shift deletion keeps every probe sequence unbroken. */
	for (j = i;;) {
		m->slots[i] = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (m->slots[j] == 0)
				return true;
			k = entry_at(m, m->slots[j] - 1)->hash & mask;
			/* Move j to i unless its home k lies in (i, j]. */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		m->slots[i] = m->slots[j];
		i = j;
	}
}

size_t
ecs_map_count(const struct ecs_map *m)
{
	return m->live;
}

void *
ecs_map_at(const struct ecs_map *m, size_t i, const char **key, size_t *len)
{
	struct entry *e = entry_at(m, i);

	if (e->key_len == DEAD)
		return NULL;
	if (key != NULL)	/* no arena for empty keys: NULL + 0 is none */
		*key = m->keys != NULL ? m->keys + e->key_off : "";
	if (len != NULL)
		*len = e->key_len;
	return (char *)e + sizeof(*e);
}

void *
ecs_map_next(const struct ecs_map *m, size_t *iter, const char **key,
    size_t *len)
{
	void *v;

	while (*iter < m->count)
		if ((v = ecs_map_at(m, (*iter)++, key, len)) != NULL)
			return v;
	return NULL;
}
