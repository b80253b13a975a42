/* SPDX-License-Identifier: ISC */
/*
 * ecs_hash.c -- the 64-bit hash of the sketches (ecs_sketch_hash in
 * ecs_sketch.h): XXH64 with seed 0, the same on every machine, because the
 * hashes are saved in state files.
 */
#include <stddef.h>
#include <stdint.h>

#include "ecs_sketch.h"

/*
 * XXH64 (Yann Collet's xxHash, 64-bit), seed 0. Input words are read as
 * little-endian whatever the machine, so hashes saved in state files mean
 * the same everywhere.
 */
#define XXH_P1	0x9e3779b185ebca87ULL
#define XXH_P2	0xc2b2ae3d27d4eb4fULL
#define XXH_P3	0x165667b19e3779f9ULL
#define XXH_P4	0x85ebca77c2b2ae63ULL
#define XXH_P5	0x27d4eb2f165667c5ULL

static uint64_t
rotl64(uint64_t x, int r)
{
	return x << r | x >> (64 - r);
}

static uint64_t
read64le(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	    (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	    (uint64_t)p[7] << 56;
}

static uint64_t
read32le(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24;
}

static uint64_t
xxh_round(uint64_t acc, uint64_t in)
{
	acc += in * XXH_P2;
	return rotl64(acc, 31) * XXH_P1;
}

static uint64_t
xxh_merge(uint64_t h, uint64_t v)
{
	h ^= xxh_round(0, v);
	return h * XXH_P1 + XXH_P4;
}

uint64_t
ecs_sketch_hash(const void *bytes, size_t len)
{
	const unsigned char *p = bytes, *end = len == 0 ? p : p + len;
	uint64_t h, v1, v2, v3, v4;

	if (len >= 32) {
		v1 = XXH_P1 + XXH_P2;
		v2 = XXH_P2;
		v3 = 0;
		v4 = 0 - XXH_P1;
		do {
			v1 = xxh_round(v1, read64le(p));
			v2 = xxh_round(v2, read64le(p + 8));
			v3 = xxh_round(v3, read64le(p + 16));
			v4 = xxh_round(v4, read64le(p + 24));
			p += 32;
		} while (end - p >= 32);
		h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) +
		    rotl64(v4, 18);
		h = xxh_merge(h, v1);
		h = xxh_merge(h, v2);
		h = xxh_merge(h, v3);
		h = xxh_merge(h, v4);
	} else
		h = XXH_P5;
	h += len;
	for (; end - p >= 8; p += 8) {
		h ^= xxh_round(0, read64le(p));
		h = rotl64(h, 27) * XXH_P1 + XXH_P4;
	}
	if (end - p >= 4) {
		h ^= read32le(p) * XXH_P1;
		h = rotl64(h, 23) * XXH_P2 + XXH_P3;
		p += 4;
	}
	for (; p < end; p++) {
		h ^= *p * XXH_P5;
		h = rotl64(h, 11) * XXH_P1;
	}
	h ^= h >> 33;
	h *= XXH_P2;
	h ^= h >> 29;
	h *= XXH_P3;
	h ^= h >> 32;
	return h;
}
