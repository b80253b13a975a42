/* SPDX-License-Identifier: ISC */
/*
 * ecs_buf.h -- the one builder of output lines (git's strbuf): a growable
 * byte buffer with the writers every program needs, so that JSON string
 * escaping, exact decimals, numbers in fixed notation, times and ids
 * written as they came each exist once.
 *
 * Ownership: the buffer owns p; p is NUL-terminated after every call (so
 * it can be printed), and stays allocated across ecs_buf_reset for the
 * next line. ecs_buf_free releases it; a zeroed struct is an empty buffer.
 */
#ifndef ECS_BUF_H
#define ECS_BUF_H

#include "ecs.h"

struct ecs_buf {
	char	*p;
	size_t	 len, cap;
};

#define ECS_BUF_INIT	{ NULL, 0, 0 }

void	 ecs_buf_add(struct ecs_buf *, const void *s, size_t n);
void	 ecs_buf_puts(struct ecs_buf *, const char *s);
void	 ecs_buf_putc(struct ecs_buf *, char c);
/* s[0..n) as a JSON string, quoted and escaped (ecs_json_escape). */
void	 ecs_buf_json_string(struct ecs_buf *, const char *s, size_t n);
void	 ecs_buf_int(struct ecs_buf *, int64_t v);
void	 ecs_buf_uint(struct ecs_buf *, uint64_t v);
/* An exact decimal with all its digits (ecs_dec_format). */
void	 ecs_buf_dec(struct ecs_buf *, const struct ecs_dec *);
/*
 * A double in fixed notation (ecs_format_double): places decimals at most,
 * trailing zeros dropped, or with places -1 the shortest that reads back.
 */
void	 ecs_buf_double(struct ecs_buf *, double v, int places);
/* A time as a JSON string: "2026-11-01T10:00:00Z" (ecs_time_format). */
void	 ecs_buf_time(struct ecs_buf *, int64_t ms);
/*
 * A field's value as its JSON text, an id as it came: a string quoted and
 * escaped, a number or boolean as written, an object or array compact,
 * null when null or missing.
 */
void	 ecs_buf_field(struct ecs_buf *, const struct ecs_field *);
/* Empties the buffer, keeping its memory for the next line. */
void	 ecs_buf_reset(struct ecs_buf *);
void	 ecs_buf_free(struct ecs_buf *);
/* Writes the buffer to standard output (ecs_out_write). */
void	 ecs_buf_out(const struct ecs_buf *);

/*
 * The JSON escaping of s[0..n), without the quotes, given to put in runs
 * (arg is put's): '"' and '\\' backslashed, control bytes as \u00XX, all
 * else (UTF-8 included) as it is. ecs_buf and ecs_out both write with it.
 */
void	 ecs_json_escape(const char *s, size_t n,
	    void (*put)(void *arg, const char *, size_t), void *arg);

#endif /* ECS_BUF_H */
