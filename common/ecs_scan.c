/* SPDX-License-Identifier: ISC */
/*
 * ecs_scan.c -- a validating scan of one NDJSON line, several times faster
 * than building json-c objects. It answers "certainly one valid object" for
 * the plain subset of JSON that real event streams are written in, and
 * "ask json-c" for everything else, so json-c stays the only judge of bad
 * lines and the fast path can never change a decision. What json-c lets
 * through that RFC 8259 does not allow (NaN, single quotes, ...) is caught
 * by ecs_json_not_rfc8259, at the end of this file; the scan never accepts
 * any of it.
 *
 * The scan runs in two passes over the line, both in blocks where the CPU
 * allows: the whole line is first checked to be valid UTF-8 (bytes >= 0x80
 * are only allowed inside strings, and a line that is valid UTF-8 is valid
 * in every piece cut at an ASCII byte, so this equals checking each string;
 * a block of ASCII costs one test), then a walk over the grammar skips the
 * inside of each string by looking for a quote, a backslash or a control
 * byte 16 or 32 bytes at a time, and each run of digits by looking for a
 * byte that is not one. Three paths do this: portable C (8 bytes
 * at a time for ASCII), SSE2 (the x86-64 baseline) and AVX2 (chosen at run
 * time when the CPU has it; its UTF-8 check is simdjson's lookup algorithm
 * of Keiser and Lemire, a 32-byte block at once, ASCII or not). They give
 * the same answers and the same captured fields: tests/unit-scan and the
 * fuzz-scan target run every path on each input and compare them.
 * ECS_SCAN=portable|sse2|avx2 in the environment, or ecs_scan_use(),
 * forces one.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SCAN_X86	1
#include <immintrin.h>
#define AVX2		__attribute__((target("avx2")))
#endif

#define SCAN_DEPTH	32		/* json-c is given 64 */
#define INLINE		static inline __attribute__((always_inline))

INLINE const unsigned char *
skip_ws(const unsigned char *p, const unsigned char *e)
{
	while (p < e && *p <= ' ' &&
	    (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *e)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if (*p >= 0xe0 && *p <= 0xef) {
		n = 3;
		if (*p == 0xe0)
			lo = 0xa0;
		else if (*p == 0xed)
			hi = 0x9f;	/* no UTF-16 surrogates */
	} else if (*p >= 0xf0 && *p <= 0xf4) {
		n = 4;
		if (*p == 0xf0)
			lo = 0x90;
		else if (*p == 0xf4)
			hi = 0x8f;	/* nothing above U+10FFFF */
	} else
		return 0;
	if ((size_t)(e - p) < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/*
 * Past the valid UTF-8 from p, which starts a character, to the first
 * ASCII byte at or after stop (or e); NULL if invalid. The block paths
 * call it for a block that is not all ASCII.
 */
static const unsigned char *
utf8_run(const unsigned char *p, const unsigned char *e,
    const unsigned char *stop)
{
	size_t n;

	while (p < e) {
		if (*p < 0x80) {
			if (p >= stop)
				return p;
			p++;
		} else if ((n = utf8_len(p, e)) == 0)
			return NULL;
		else
			p += n;
	}
	return p;
}

/* Whether s[0..e) is valid UTF-8, 8 bytes at a time while they are ASCII. */
static bool
utf8_portable(const unsigned char *s, const unsigned char *e)
{
	const unsigned char *p = s;
	uint64_t w;

	while (p < e) {
		if (e - p >= 8) {
			memcpy(&w, p, sizeof(w));
			if ((w & 0x8080808080808080ULL) == 0) {
				p += 8;
				continue;
			}
		}
		if ((p = utf8_run(p, e, p + 8)) == NULL)
			return false;
	}
	return true;
}

/*
 * What the searches of a path know of the line: where it starts (the
 * SIMD searches read its last 16 bytes as one block) and, on x86, the
 * bytes they compare with, repeated over a vector once a line (as
 * constants, gcc built each anew, in two or three instructions, for every
 * string and number).
 */
struct line {
	const unsigned char *s;
#ifdef SCAN_X86
	__m128i		 quote, backslash, below_space, zero, nine;
	__m256i		 quote32, backslash32, below_space32;
#endif
};

/*
 * A path's search for the end of a run (string_stop_*, digits_end_*): the
 * first byte at or after p that ends it, or e.
 */
typedef const unsigned char *run_end_fn(const struct line *ln,
    const unsigned char *p, const unsigned char *e);

/*
 * The first quote, backslash or control byte from p, or e: where the
 * string whose inside starts at p ends, or why it is not plain.
 */
INLINE const unsigned char *
string_stop_portable(const struct line *ln, const unsigned char *p,
    const unsigned char *e)
{
	(void)ln;
	while (p < e && *p != '"' && *p != '\\' && *p >= 0x20)
		p++;
	return p;
}

INLINE const unsigned char *
digits_end_portable(const struct line *ln, const unsigned char *p,
    const unsigned char *e)
{
	(void)ln;
	while (p < e && *p >= '0' && *p <= '9')
		p++;
	return p;
}

#ifdef SCAN_X86
/* The bytes that are not digits in the 16 bytes at p, as bits. */
INLINE unsigned
non_digits16(const struct line *ln, const unsigned char *p)
{
	__m128i x = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)p),
	    ln->zero);

	return ~(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
	    _mm_min_epu8(x, ln->nine), x)) & 0xffff;
}

/* The stop bytes of string_stop_portable in the 16 bytes at p, as bits. */
INLINE unsigned
stops16(const struct line *ln, const unsigned char *p)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i m = _mm_or_si128(
	    _mm_or_si128(_mm_cmpeq_epi8(x, ln->quote),
	    _mm_cmpeq_epi8(x, ln->backslash)),
	    _mm_cmpeq_epi8(_mm_min_epu8(x, ln->below_space), x));

	return (unsigned)_mm_movemask_epi8(m);
}

/* The bytes of the 16 at p that end a run (stops16, non_digits16). */
typedef unsigned mask16_fn(const struct line *ln, const unsigned char *p);

/*
 * The first byte from p that mask marks in the last bytes of a line, or
 * e: the 16 bytes that end at e are read and those before
 * p dropped, so that nothing past the line is ever read; a line shorter
 * than 16 goes to the portable search.
 */
INLINE const unsigned char *
end_in_tail(const struct line *ln, const unsigned char *p,
    const unsigned char *e, mask16_fn *mask, run_end_fn *portable)
{
	unsigned bits;

	if (p == e)
		return e;
	if (e - ln->s < 16)
		return portable(ln, p, e);
	bits = mask(ln, e - 16) >> (16 - (e - p));
	return bits != 0 ? p + __builtin_ctz(bits) : e;
}

/* The first byte from p that mask marks, or e, 16 bytes at a time. */
INLINE const unsigned char *
end16(const struct line *ln, const unsigned char *p, const unsigned char *e,
    mask16_fn *mask, run_end_fn *portable)
{
	unsigned bits;

	for (; e - p >= 16; p += 16)
		if ((bits = mask(ln, p)) != 0)
			return p + __builtin_ctz(bits);
	return end_in_tail(ln, p, e, mask, portable);
}

INLINE const unsigned char *
string_stop_sse2(const struct line *ln, const unsigned char *p,
    const unsigned char *e)
{
	return end16(ln, p, e, stops16, string_stop_portable);
}

/* Numbers are short: one block of 16, read as strings are. */
INLINE const unsigned char *
digits_end_sse2(const struct line *ln, const unsigned char *p,
    const unsigned char *e)
{
	return end16(ln, p, e, non_digits16, digits_end_portable);
}

/* Whether s[0..e) is valid UTF-8, 16 bytes at a time while ASCII. */
static bool
utf8_sse2(const unsigned char *s, const unsigned char *e)
{
	const unsigned char *p = s;

	while (p < e) {
		if (e - p >= 16 && _mm_movemask_epi8(_mm_loadu_si128(
		    (const __m128i *)(const void *)p)) == 0) {
			p += 16;
			continue;
		}
		if ((p = utf8_run(p, e, p + 16)) == NULL)
			return false;
	}
	return true;
}

AVX2 INLINE const unsigned char *
string_stop_avx2(const struct line *ln, const unsigned char *p,
    const unsigned char *e)
{
	__m256i x, m;
	unsigned bits;

	for (; e - p >= 32; p += 32) {
		x = _mm256_loadu_si256((const __m256i *)(const void *)p);
		m = _mm256_or_si256(
		    _mm256_or_si256(_mm256_cmpeq_epi8(x, ln->quote32),
		    _mm256_cmpeq_epi8(x, ln->backslash32)),
		    _mm256_cmpeq_epi8(_mm256_min_epu8(x, ln->below_space32),
		    x));
		if ((bits = (unsigned)_mm256_movemask_epi8(m)) != 0)
			return p + __builtin_ctz(bits);
	}
	if (e - p >= 16) {
		if ((bits = stops16(ln, p)) != 0)
			return p + __builtin_ctz(bits);
		p += 16;
	}
	return end_in_tail(ln, p, e, stops16, string_stop_portable);
}

/*
 * UTF-8 a block at a time: the lookup algorithm of J. Keiser and D.
 * Lemire, "Validating UTF-8 in less than one instruction per byte"
 * (Software: Practice and Experience, 2021), as simdjson has it. Three
 * table lookups on the nibbles of each byte and of the byte before it
 * flag every error of a 2-byte window; a third or fourth byte must be a
 * continuation, which the bytes two and three back tell.
 */
#define TOO_SHORT	(1 << 0)	/* lead or ASCII, then continuation */
#define TOO_LONG	(1 << 1)	/* ASCII, then continuation */
#define OVERLONG_3	(1 << 2)	/* e0 80..9f */
#define TOO_LARGE	(1 << 3)	/* f4 90..bf, f5.. */
#define SURROGATE	(1 << 4)	/* ed a0..bf */
#define OVERLONG_2	(1 << 5)	/* c0, c1 */
#define TOO_LARGE_1000	(1 << 6)	/* f5.. 80..8f */
#define OVERLONG_4	(1 << 6)	/* f0 80..8f */
#define TWO_CONTS	(1 << 7)	/* continuation, then continuation */
#define CARRY		(TOO_SHORT | TOO_LONG | TWO_CONTS)
/* A 16-byte table in both lanes, for _mm256_shuffle_epi8. */
#define TABLE(...) _mm256_broadcastsi128_si256(_mm_loadu_si128( \
	(const __m128i *)(const void *)(const unsigned char [16]){ __VA_ARGS__ }))
/* The bytes of in, each moved n later, the first n from prev's end. */
#define PREV(in, prev, n) _mm256_alignr_epi8((in), \
	_mm256_permute2x128_si256((prev), (in), 0x21), 16 - (n))

AVX2 INLINE __m256i
utf8_block_errors(__m256i in, __m256i prev)
{
	const __m256i nib = _mm256_set1_epi8(0x0f);
	__m256i prev1 = PREV(in, prev, 1), prev2, prev3, b1h, b1l, b2h, must23;

	b1h = _mm256_shuffle_epi8(TABLE(TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
	    TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
	    TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,
	    TOO_SHORT | OVERLONG_2, TOO_SHORT,
	    TOO_SHORT | OVERLONG_3 | SURROGATE,
	    TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4),
	    _mm256_and_si256(_mm256_srli_epi16(prev1, 4), nib));
	b1l = _mm256_shuffle_epi8(TABLE(
	    CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4, CARRY | OVERLONG_2,
	    CARRY, CARRY, CARRY | TOO_LARGE,
	    CARRY | TOO_LARGE | TOO_LARGE_1000,
	    CARRY | TOO_LARGE | TOO_LARGE_1000,
	    CARRY | TOO_LARGE | TOO_LARGE_1000,
	    CARRY | TOO_LARGE | TOO_LARGE_1000,
	    CARRY | TOO_LARGE | TOO_LARGE_1000,
	    CARRY | TOO_LARGE | TOO_LARGE_1000,
	    CARRY | TOO_LARGE | TOO_LARGE_1000,
	    CARRY | TOO_LARGE | TOO_LARGE_1000,
	    CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
	    CARRY | TOO_LARGE | TOO_LARGE_1000,
	    CARRY | TOO_LARGE | TOO_LARGE_1000),
	    _mm256_and_si256(prev1, nib));
	b2h = _mm256_shuffle_epi8(TABLE(TOO_SHORT, TOO_SHORT, TOO_SHORT,
	    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
	    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 |
	    OVERLONG_4,
	    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
	    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
	    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
	    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT),
	    _mm256_and_si256(_mm256_srli_epi16(in, 4), nib));
	prev2 = PREV(in, prev, 2);
	prev3 = PREV(in, prev, 3);
	/* Bit 7 where the byte two back is e0.. or the one three back f0.. */
	must23 = _mm256_and_si256(_mm256_or_si256(
	    _mm256_subs_epu8(prev2, _mm256_set1_epi8((char)(0xe0 - 0x80))),
	    _mm256_subs_epu8(prev3, _mm256_set1_epi8((char)(0xf0 - 0x80)))),
	    _mm256_set1_epi8((char)0x80));
	return _mm256_xor_si256(must23,
	    _mm256_and_si256(_mm256_and_si256(b1h, b1l), b2h));
}

/* Nonzero where a block's last bytes start a character it does not end. */
AVX2 INLINE __m256i
utf8_incomplete(__m256i in)
{
	return _mm256_subs_epu8(in, _mm256_setr_epi8(-1, -1, -1, -1, -1, -1,
	    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	    -1, -1, -1, -1, -1, -1, -1, (char)(0xf0 - 1), (char)(0xe0 - 1),
	    (char)(0xc0 - 1)));
}

/* Adds the errors of the block in, after the block *prev, to *err. */
AVX2 INLINE void
utf8_block(__m256i in, __m256i *prev, __m256i *err, __m256i *incomplete)
{
	if (_mm256_movemask_epi8(in) == 0)
		*err = _mm256_or_si256(*err, *incomplete);
	else {
		*err = _mm256_or_si256(*err, utf8_block_errors(in, *prev));
		*incomplete = utf8_incomplete(in);
	}
	*prev = in;
}

/*
 * Whether s[0..e) is valid UTF-8. The last block is read zero-padded,
 * unless the line's last 32 bytes are ASCII: then it is valid as the
 * blocks before it are, with no copy.
 */
AVX2 static bool
utf8_avx2(const unsigned char *s, const unsigned char *e)
{
	__m256i prev = _mm256_setzero_si256(), err = prev, incomplete = prev;
	unsigned char last[32];
	const unsigned char *p;

	for (p = s; e - p >= 32; p += 32)
		utf8_block(_mm256_loadu_si256((const __m256i *)(const void *)p),
		    &prev, &err, &incomplete);
	if (p < e && (e - s < 32 || _mm256_movemask_epi8(_mm256_loadu_si256(
	    (const __m256i *)(const void *)(e - 32))) != 0)) {
		memset(last, 0, sizeof(last));
		memcpy(last, p, (size_t)(e - p));
		utf8_block(_mm256_loadu_si256((const __m256i *)(void *)last),
		    &prev, &err, &incomplete);
	}
	err = _mm256_or_si256(err, incomplete);
	return _mm256_testz_si256(err, err);
}
#endif /* SCAN_X86 */

/* Past the string at p (on its quote); NULL unless plain and valid. */
INLINE const unsigned char *
scan_string(const struct line *ln, const unsigned char *p,
    const unsigned char *e, run_end_fn *stop)
{
	p = stop(ln, p + 1, e);
	return p < e && *p == '"' ? p + 1 : NULL;
}

/* Past the digits at p, NULL if there are none. */
INLINE const unsigned char *
scan_digits(const struct line *ln, const unsigned char *p,
    const unsigned char *e, run_end_fn *digits)
{
	const unsigned char *end = digits(ln, p, e);

	return end == p ? NULL : end;
}

/*
 * Past the RFC 8259 number at p, or NULL. An integer of any length is
 * captured as written: the json-c way keeps it too (ecs_json_exact_ints).
 */
INLINE const unsigned char *
scan_number(const struct line *ln, const unsigned char *p,
    const unsigned char *e, run_end_fn *digits)
{
	if (*p == '-')
		p++;
	if (p < e && *p == '0')
		p++;
	else if ((p = scan_digits(ln, p, e, digits)) == NULL)
		return NULL;
	if (p < e && *p == '.' && (p = scan_digits(ln, p + 1, e, digits)) ==
	    NULL)
		return NULL;
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if ((p = scan_digits(ln, p, e, digits)) == NULL)
			return NULL;
	}
	return p;
}

static const unsigned char *
scan_word(const unsigned char *p, const unsigned char *e, const char *word)
{
	for (; *word != '\0'; word++, p++)
		if (p == e || *p != (unsigned char)*word)
			return NULL;
	return p;
}

/* A scalar value at p; NULL unless valid. */
INLINE const unsigned char *
scan_scalar(const struct line *ln, const unsigned char *p,
    const unsigned char *e, run_end_fn *stop, run_end_fn *digits)
{
	switch (*p) {
	case '"':	return scan_string(ln, p, e, stop);
	case 't':	return scan_word(p, e, "true");
	case 'f':	return scan_word(p, e, "false");
	case 'n':	return scan_word(p, e, "null");
	default:
		if (*p == '-' || (*p >= '0' && *p <= '9'))
			return scan_number(ln, p, e, digits);
		return NULL;
	}
}

/* The kind of the value that starts with c, for a captured field. */
static enum ecs_ftype
kind_of(unsigned char c)
{
	switch (c) {
	case '"':	return ECS_F_STRING;
	case 't':
	case 'f':	return ECS_F_BOOL;
	case 'n':	return ECS_F_NULL;
	case '{':
	case '[':	return ECS_F_OTHER;
	default:	return ECS_F_NUMBER;
	}
}

/*
 * The requested keys of a scan, found by a hash of a key's length, first
 * and last bytes: slot holds the index + 1 of a key, 0 when empty, and
 * collisions go to the next slot, so that of two equal requested keys the
 * first is found, as by a search in order. Up to KEY_SLOTS / 2 keys; more
 * are searched for in order.
 */
#define KEY_SLOTS	ECS_SCAN_KEY_SLOTS
struct key_index {
	const struct ecs_scan_keys *want;
	bool		 hashed;
	const unsigned char *slot;	/* want's own table, or local */
	unsigned char	 local[KEY_SLOTS];
};

INLINE unsigned
key_hash(const unsigned char *key, size_t len)
{
	return len == 0 ? 0 :
	    ((unsigned)len * 7 + key[0] * 3 + key[len - 1]) % KEY_SLOTS;
}

/* The table of want's n keys in slot (n at most KEY_SLOTS / 2). */
static void
hash_keys(const struct ecs_scan_keys *want, unsigned char slot[KEY_SLOTS])
{
	const unsigned char *key;
	size_t i;
	unsigned h;

	memset(slot, 0, KEY_SLOTS);
	for (i = 0; i < want->n; i++) {
		key = (const unsigned char *)want->key[i];
		h = key_hash(key, want->len[i]);
		while (slot[h] != 0)
			h = (h + 1) % KEY_SLOTS;
		slot[h] = (unsigned char)(i + 1);
	}
}

void
ecs_scan_keys_hash(struct ecs_scan_keys *want)
{
	if (want->n > KEY_SLOTS / 2)
		return;		/* searched in order */
	hash_keys(want, want->slot);
	want->hashed_n = want->n;
}

static void
key_index_init(struct key_index *ix, const struct ecs_scan_keys *want)
{
	/* No key wanted: none is hashed or compared. */
	ix->want = want != NULL && want->n > 0 ? want : NULL;
	ix->hashed = ix->want != NULL && want->n <= KEY_SLOTS / 2;
	if (!ix->hashed)
		return;
	if (want->hashed_n == want->n) {	/* built once by its owner */
		ix->slot = want->slot;
		return;
	}
	hash_keys(want, ix->local);
	ix->slot = ix->local;
}

/*
 * Whether a[0..n) and b[0..n) are the same bytes: keys are short, and a
 * call of memcmp costs more than comparing them in two overlapping words.
 */
INLINE bool
same_bytes(const void *a, const void *b, size_t n)
{
	uint64_t x, y, x2, y2;
	uint32_t u, v, u2, v2;

	if (n >= 8 && n <= 16) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		memcpy(&x2, (const char *)a + n - 8, 8);
		memcpy(&y2, (const char *)b + n - 8, 8);
		return ((x ^ y) | (x2 ^ y2)) == 0;
	}
	if (n >= 4 && n < 8) {
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		memcpy(&u2, (const char *)a + n - 4, 4);
		memcpy(&v2, (const char *)b + n - 4, 4);
		return ((u ^ v) | (u2 ^ v2)) == 0;
	}
	if (n < 4) {
		for (; n > 0; n--)
			if (((const char *)a)[n - 1] != ((const char *)b)[n - 1])
				return false;
		return true;
	}
	return memcmp(a, b, n) == 0;
}

INLINE bool
key_is(const struct ecs_scan_keys *want, size_t i, const unsigned char *key,
    size_t len)
{
	return want->len[i] == len && same_bytes(want->key[i], key, len);
}

/* The index of the requested key that key[0..len) is, or -1. */
INLINE int
wanted(const struct key_index *ix, const unsigned char *key, size_t len)
{
	unsigned h;
	size_t i;

	if (ix->want == NULL)
		return -1;
	if (ix->hashed) {
		for (h = key_hash(key, len); ix->slot[h] != 0;
		    h = (h + 1) % KEY_SLOTS)
			if (key_is(ix->want, ix->slot[h] - 1u, key, len))
				return ix->slot[h] - 1;
		return -1;
	}
	for (i = 0; i < ix->want->n; i++)
		if (key_is(ix->want, i, key, len))
			return (int)i;
	return -1;
}

/*
 * The member of tops at *next, its value starting at val, *next then the
 * one after; NULL when tops is full (then it is not flat: the writer
 * cannot use it). A cursor in a register costs less than tops->n.
 */
INLINE struct ecs_scan_member *
add_member(struct ecs_scan_tops *tops, struct ecs_scan_member **next,
    const unsigned char *val)
{
	struct ecs_scan_member *m = *next;

	if (m == tops->m + ECS_SCAN_TOPS) {
		tops->flat = false;
		return NULL;
	}
	m->val = (const char *)val;
	*next = m + 1;
	return m;
}

/*
 * The walk over the grammar, once the line is known to be valid UTF-8;
 * stop is the path's string search, inlined into each path's copy. An
 * explicit stack of open containers (a bit each: 1 object, 0 array)
 * replaces recursion, so hostile nesting costs nothing. When want is
 * given, the values of those top-level keys are captured in out (the last
 * one wins for a repeated key, as in json-c). When tops is given, every
 * top-level member is found into it too; the paths that do not need it
 * pass a constant NULL, and the compiler leaves that work out of them.
 */
INLINE bool
walk(const struct line *ln, const unsigned char *e,
    const struct ecs_scan_keys *want, struct ecs_field *out,
    struct ecs_scan_tops *tops, run_end_fn *stop, run_end_fn *digits)
{
	const unsigned char *p, *key, *value;
	struct ecs_field *capture = NULL;	/* a top-level value being read */
	struct ecs_scan_member *member = NULL;	/* a top-level scalar, for tops */
	struct ecs_scan_member *next_member = tops != NULL ? tops->m : NULL;
	struct key_index keys;
	uint64_t in_object = 0;
	int depth = 0, k;

	p = skip_ws(ln->s, e);
	if (p == e || *p != '{')
		return false;
	key_index_init(&keys, want);
open:
	if (++depth > SCAN_DEPTH)
		return false;
	in_object = in_object << 1 | (*p == '{');
	p = skip_ws(p + 1, e);
	if (p < e && *p == (in_object & 1 ? '}' : ']')) {
		p++;
		goto close;
	}
element:
	if (in_object & 1) {
		key = p + 1;
		if (p == e || *p != '"' || (p = scan_string(ln, p, e, stop)) ==
		    NULL)
			return false;
		k = depth == 1 ? wanted(&keys, key, (size_t)(p - 1 - key)) :
		    -1;
		if (p == e || *p != ':') {	/* white space before ':' */
			p = skip_ws(p, e);
			if (p == e || *p != ':')
				return false;
		}
		p = skip_ws(p + 1, e);
		if (p < e && k >= 0) {
			capture = &out[k];
			capture->type = kind_of(*p);
			capture->text = (const char *)p;
		}
		if (tops != NULL && depth == 1)
			member = add_member(tops, &next_member, p);
	}
	if (p == e)
		return false;
	if (*p == '{' || *p == '[') {
		if (member != NULL) {
			tops->flat = false;
			member = NULL;
		}
		goto open;
	}
	value = p;
	if ((p = scan_scalar(ln, p, e, stop, digits)) == NULL)
		return false;
	if (capture != NULL && depth == 1) {
		if (capture->type == ECS_F_STRING) {	/* without its quotes */
			capture->text = (const char *)value + 1;
			capture->len = (size_t)(p - value) - 2;
		} else
			capture->len = (size_t)(p - value);
		capture = NULL;
	}
	if (member != NULL) {
		member->end = (const char *)p;
		member = NULL;
	}
next:
	if (p == e || *p <= ' ')
		p = skip_ws(p, e);
	if (p == e)
		return false;
	if (*p == ',') {
		p = skip_ws(p + 1, e);
		goto element;
	}
	if (*p != (in_object & 1 ? '}' : ']'))
		return false;
	p++;
close:
	in_object >>= 1;
	if (--depth == 1 && capture != NULL) {	/* a top-level container */
		capture->len = (size_t)((const char *)p - capture->text);
		capture = NULL;
	}
	if (depth > 0)
		goto next;
	if (tops != NULL)
		tops->n = (size_t)(next_member - tops->m);
	return skip_ws(p, e) == e;
}

/* Each path twice: without tops (most callers), and with. */
static bool
scan_portable(const unsigned char *s, const unsigned char *e,
    const struct ecs_scan_keys *want, struct ecs_field *out)
{
	struct line ln = { .s = s };

	return utf8_portable(s, e) &&
	    walk(&ln, e, want, out, NULL, string_stop_portable,
	    digits_end_portable);
}

static bool
tops_portable(const unsigned char *s, const unsigned char *e,
    const struct ecs_scan_keys *want, struct ecs_field *out,
    struct ecs_scan_tops *tops)
{
	struct line ln = { .s = s };

	return utf8_portable(s, e) &&
	    walk(&ln, e, want, out, tops, string_stop_portable,
	    digits_end_portable);
}

#ifdef SCAN_X86
/*
 * Hides a vector's value from the compiler, so that it stays in a
 * register for the line instead of being built again at each use.
 */
#define OPAQUE(v)	__asm__("" : "+x"(v))

/* The repeated bytes of the 16-byte searches, in ln. */
INLINE void
splats16(struct line *ln)
{
	ln->quote = _mm_set1_epi8('"');
	ln->backslash = _mm_set1_epi8('\\');
	ln->below_space = _mm_set1_epi8(0x1f);
	ln->zero = _mm_set1_epi8('0');
	ln->nine = _mm_set1_epi8(9);
	OPAQUE(ln->quote);
	OPAQUE(ln->backslash);
	OPAQUE(ln->below_space);
	OPAQUE(ln->zero);
	OPAQUE(ln->nine);
}

static bool
scan_sse2(const unsigned char *s, const unsigned char *e,
    const struct ecs_scan_keys *want, struct ecs_field *out)
{
	struct line ln = { .s = s };

	splats16(&ln);
	return utf8_sse2(s, e) && walk(&ln, e, want, out, NULL,
	    string_stop_sse2, digits_end_sse2);
}

static bool
tops_sse2(const unsigned char *s, const unsigned char *e,
    const struct ecs_scan_keys *want, struct ecs_field *out,
    struct ecs_scan_tops *tops)
{
	struct line ln = { .s = s };

	splats16(&ln);
	return utf8_sse2(s, e) && walk(&ln, e, want, out, tops,
	    string_stop_sse2, digits_end_sse2);
}

/* The repeated bytes of the 16- and 32-byte searches, in ln. */
AVX2 INLINE void
splats32(struct line *ln)
{
	splats16(ln);
	ln->quote32 = _mm256_set1_epi8('"');
	ln->backslash32 = _mm256_set1_epi8('\\');
	ln->below_space32 = _mm256_set1_epi8(0x1f);
	OPAQUE(ln->quote32);
	OPAQUE(ln->backslash32);
	OPAQUE(ln->below_space32);
}

AVX2 static bool
scan_avx2(const unsigned char *s, const unsigned char *e,
    const struct ecs_scan_keys *want, struct ecs_field *out)
{
	struct line ln = { .s = s };

	splats32(&ln);
	return utf8_avx2(s, e) && walk(&ln, e, want, out, NULL,
	    string_stop_avx2, digits_end_sse2);
}

AVX2 static bool
tops_avx2(const unsigned char *s, const unsigned char *e,
    const struct ecs_scan_keys *want, struct ecs_field *out,
    struct ecs_scan_tops *tops)
{
	struct line ln = { .s = s };

	splats32(&ln);
	return utf8_avx2(s, e) && walk(&ln, e, want, out, tops,
	    string_stop_avx2, digits_end_sse2);
}
#endif

/* The paths, best last; has says whether this CPU can run one. */
static bool	 has_always(void) { return true; }
#ifdef SCAN_X86
static bool	 has_avx2(void) { return __builtin_cpu_supports("avx2"); }
#endif

static const struct scan_path {
	const char	*name;
	bool		(*has)(void);
	bool		(*scan)(const unsigned char *, const unsigned char *,
			    const struct ecs_scan_keys *, struct ecs_field *);
	bool		(*scan_tops)(const unsigned char *,
			    const unsigned char *, const struct ecs_scan_keys *,
			    struct ecs_field *, struct ecs_scan_tops *);
} paths[] = {
	{ "portable",	has_always,	scan_portable,	tops_portable },
#ifdef SCAN_X86
	{ "sse2",	has_always,	scan_sse2,	tops_sse2 },
	{ "avx2",	has_avx2,	scan_avx2,	tops_avx2 },
#endif
};
#define NPATHS	(sizeof(paths) / sizeof(paths[0]))

static const struct scan_path *path;	/* NULL until the first scan */

static const struct scan_path *
path_named(const char *name)
{
	size_t i;

	for (i = 0; i < NPATHS; i++)
		if (strcmp(paths[i].name, name) == 0)
			return &paths[i];
	return NULL;
}

int
ecs_scan_use(const char *name)
{
	const struct scan_path *p;
	size_t i;

	if (name == NULL) {			/* the best this CPU has */
		for (i = NPATHS; i-- > 0; )
			if (paths[i].has())
				break;
		path = &paths[i];
		return 0;
	}
	if ((p = path_named(name)) == NULL)
		return -1;
	if (!p->has())
		return -2;
	path = p;
	return 0;
}

const char *
ecs_scan_path_name(size_t i)
{
	return i < NPATHS ? paths[i].name : NULL;
}

/* The first scan: ECS_SCAN, or the best path. */
static void
choose_path(void)
{
	const char *name = getenv("ECS_SCAN");

	if (name == NULL || *name == '\0') {
		ecs_scan_use(NULL);
		return;
	}
	switch (ecs_scan_use(name)) {
	case -1:
		errx(ECS_EXIT_USAGE, "ECS_SCAN: unknown scan path '%s' "
		    "(portable%s)", name, NPATHS > 1 ? ", sse2, avx2" : "");
	case -2:
		errx(ECS_EXIT_USAGE, "ECS_SCAN: this CPU cannot run the '%s' "
		    "scan path", name);
	}
}

bool
ecs_scan_plain_object(const char *line, size_t len)
{
	const unsigned char *p = (const unsigned char *)line;

	if (path == NULL)
		choose_path();
	return path->scan(p, p + len, NULL, NULL);
}

/* Before a scan for fields: the path chosen, every field missing. */
static void
start_fields(const struct ecs_scan_keys *want, struct ecs_field *out)
{
	size_t i;

	if (path == NULL)
		choose_path();
	for (i = 0; i < want->n; i++)
		out[i] = (struct ecs_field){ ECS_F_MISSING, NULL, 0, NULL };
}

bool
ecs_scan_fields(const char *line, size_t len, const struct ecs_scan_keys *want,
    struct ecs_field *out)
{
	const unsigned char *p = (const unsigned char *)line;

	start_fields(want, out);
	return path->scan(p, p + len, want, out);
}

bool
ecs_scan_fields_tops(const char *line, size_t len,
    const struct ecs_scan_keys *want, struct ecs_field *out,
    struct ecs_scan_tops *tops)
{
	const unsigned char *p = (const unsigned char *)line;

	start_fields(want, out);
	tops->line = NULL;
	tops->flat = true;
	if (!path->scan_tops(p, p + len, want, out, tops))
		return false;
	if (!tops->flat)
		tops->n = 0;
	tops->line = line;
	tops->len = len;
	return true;
}

const char *
ecs_json_not_rfc8259(const char *line, size_t len, size_t *col, char *why,
    size_t whylen)
{
	const unsigned char *s = (const unsigned char *)line, *p = s,
	    *e = s + len, *q;
	const char *reason = NULL;

	while (p < e && reason == NULL) {
		if (*p == '"') {
			for (p++; p < e && *p != '"'; p++) {
				if (*p == '\\')
					p++;	/* json-c checked the escape */
				else if (*p < 0x20) {
					snprintf(why, whylen, "unescaped control "
					    "character U+%04X in a string "
					    "(RFC 8259)", *p);
					reason = why;
					break;
				}
			}
			if (reason == NULL)
				p++;
		} else if (*p == '\'')
			reason = "single quotes are not JSON (RFC 8259)";
		else if (*p == 'N')
			reason = "NaN is not a number (RFC 8259)";
		else if (*p == 'I' || (*p == '-' && p + 1 < e && p[1] == 'I'))
			reason = "Infinity is not a number (RFC 8259)";
		else if (*p == '-' || (*p >= '0' && *p <= '9')) {
			if ((q = scan_number(&(struct line){ .s = s }, p, e,
			    digits_end_portable)) == NULL ||
			    (q < e && (*q == '.' || (*q >= '0' && *q <= '9'))))
				reason = "a number has no leading zero and "
				    "digits on both sides of '.' (RFC 8259)";
			else
				p = q;
		} else
			p++;
	}
	if (reason != NULL)
		*col = (size_t)(p - s) + 1;
	return reason;
}
