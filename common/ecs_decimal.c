/* SPDX-License-Identifier: ISC */
/*
 * ecs_decimal.c -- exact decimal numbers for money: a 128-bit integer
 * mantissa and a decimal scale, parsed from a number's text, so that
 * 19.99 + 0.01 is 20.00 and a million prices sum to the cent. Only when a
 * result would not fit (or a value has no exact decimal text, as after a
 * division) does a number fall back to a double, and it says so (exact is
 * false).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"

#define MAX_SCALE	18

static const ecs_i128 ten = 10;

/* 10^n for n <= 38. */
static ecs_i128
pow10_i128(int n)
{
	ecs_i128 p = 1;

	while (n-- > 0)
		p *= ten;
	return p;
}

void
ecs_dec_from_double(struct ecs_dec *d, double v)
{
	d->exact = false;
	d->m = 0;
	d->scale = 0;
	d->d = v;
}

void
ecs_dec_from_int(struct ecs_dec *d, int64_t v)
{
	d->exact = true;
	d->m = v;
	d->scale = 0;
	d->d = (double)v;
}

bool
ecs_dec_parse(const char *s, size_t len, struct ecs_dec *d)
{
	struct ecs_num n;
	ecs_i128 m = 0;
	size_t i = 0;
	int scale = 0, exp = 0, digits = 0, esign = 1;
	bool neg = false, frac = false;

	if (!ecs_num_parse(s, len, &n))
		return false;
	d->d = n.d;
	if (s[i] == '-') {
		neg = true;
		i++;
	}
	for (; i < len && s[i] != 'e' && s[i] != 'E'; i++) {
		if (s[i] == '.') {
			frac = true;
			continue;
		}
		if (m == 0 && s[i] == '0' && !frac)
			continue;
		if (++digits > 38)
			goto inexact;
		m = m * ten + (s[i] - '0');
		scale += frac;
	}
	if (i < len) {			/* an exponent */
		i++;
		if (s[i] == '+' || s[i] == '-')
			esign = s[i++] == '-' ? -1 : 1;
		for (; i < len; i++)
			if ((exp = exp * 10 + (s[i] - '0')) > 99)
				goto inexact;
		scale -= esign * exp;
	}
	if (scale < 0) {		/* 1.5e3: scale it back to 0 */
		if (digits - scale > 38)
			goto inexact;
		m *= pow10_i128(-scale);
		scale = 0;
	}
	if (scale > MAX_SCALE)
		goto inexact;
	d->m = neg ? -m : m;
	d->scale = scale;
	d->exact = true;
	return true;
inexact:
	ecs_dec_from_double(d, n.d);
	return true;
}

/* Brings a to scale (>= a->scale); false when it would not fit. */
static bool
rescale(struct ecs_dec *a, int scale)
{
	ecs_i128 p = pow10_i128(scale - a->scale), r;

	if (__builtin_mul_overflow(a->m, p, &r))
		return false;
	a->m = r;
	a->scale = scale;
	return true;
}

/* a without the zeros at the end of its fraction: 2.50 is 2.5. */
static void
trim_zeros(struct ecs_dec *a)
{
	while (a->scale > 0 && a->m % ten == 0) {
		a->m /= ten;
		a->scale--;
	}
}

/*
 * a and b brought to one scale, without the zeros that end their
 * fractions when they would not fit with them (so that 2.000000000000000000
 * divides a number of 23 digits); false when one would still not fit.
 */
static bool
common_scale(struct ecs_dec *a, struct ecs_dec *b)
{
	if ((a->scale >= b->scale || rescale(a, b->scale)) &&
	    (b->scale >= a->scale || rescale(b, a->scale)))
		return true;
	trim_zeros(a);
	trim_zeros(b);
	return (a->scale >= b->scale || rescale(a, b->scale)) &&
	    (b->scale >= a->scale || rescale(b, a->scale));
}

void
ecs_dec_add(struct ecs_dec *acc, const struct ecs_dec *v)
{
	struct ecs_dec b = *v;
	ecs_i128 r;

	acc->d += v->d;
	if (!acc->exact || !v->exact || !common_scale(acc, &b))
		goto inexact;
	if (__builtin_add_overflow(acc->m, b.m, &r))
		goto inexact;
	acc->m = r;
	return;
inexact:
	acc->exact = false;
}

void
ecs_dec_mul(struct ecs_dec *acc, const struct ecs_dec *v)
{
	struct ecs_dec b = *v;
	ecs_i128 r;
	int scale;

	acc->d *= v->d;
	/* 12345678901234567890123 * 1.000000000000000000 fits as * 1. */
	if (acc->exact && b.exact && __builtin_mul_overflow(acc->m, b.m, &r)) {
		trim_zeros(acc);
		trim_zeros(&b);
	}
	if (!acc->exact || !b.exact ||
	    __builtin_mul_overflow(acc->m, b.m, &r)) {
		acc->exact = false;
		return;
	}
	scale = acc->scale + b.scale;
	/* 0.000000001 * 0.0000000010 needs 19 places, but 18 say it. */
	while (scale > MAX_SCALE && r % ten == 0) {
		r /= ten;
		scale--;
	}
	acc->m = r;
	acc->scale = scale;
	acc->exact = scale <= MAX_SCALE;
}


bool
ecs_dec_div(struct ecs_dec *acc, const struct ecs_dec *v)
{
	struct ecs_dec b = *v;
	ecs_i128 num;
	int k;

	if (v->exact ? v->m == 0 : v->d == 0)
		return false;
	acc->d /= v->d;
	if (!acc->exact || !v->exact || !common_scale(acc, &b))
		goto inexact;
	/* The fewest places, up to 18, at which the quotient ends. */
	for (k = 0, num = acc->m; k <= MAX_SCALE; k++) {
		if (num % b.m == 0) {
			acc->m = num / b.m;
			acc->scale = k;
			return true;
		}
		if (__builtin_mul_overflow(num, ten, &num))
			break;
	}
inexact:
	acc->exact = false;
	return true;
}

__extension__ typedef unsigned __int128 ecs_u128;

/* (x + y) mod m, for x and y below m (below 2^127: the sum fits). */
static ecs_u128
add_mod(ecs_u128 x, ecs_u128 y, ecs_u128 m)
{
	ecs_u128 s = x + y;

	return s >= m ? s - m : s;
}

/*
 * acc % b when acc has fewer places than b and does not fit at b's: its
 * remainder by b's digits, times 10 per missing place, reduced at each
 * step, so that no product is larger than 10 times b.
 */
static void
mod_rescaled(struct ecs_dec *acc, const struct ecs_dec *b)
{
	ecs_u128 ua, ub, r, r2, r5;
	int k;

	ua = acc->m < 0 ? -(ecs_u128)acc->m :
	    (ecs_u128)acc->m;
	ub = b->m < 0 ? -(ecs_u128)b->m : (ecs_u128)b->m;
	for (r = ua % ub, k = acc->scale; k < b->scale; k++) {
		r2 = add_mod(r, r, ub);
		r5 = add_mod(add_mod(r2, r2, ub), r, ub);
		r = add_mod(r5, r5, ub);
	}
	acc->m = acc->m < 0 ? -(ecs_i128)r : (ecs_i128)r;
	acc->scale = b->scale;
}

bool
ecs_dec_mod(struct ecs_dec *acc, const struct ecs_dec *v)
{
	struct ecs_dec b = *v;

	if (v->exact ? v->m == 0 : v->d == 0)
		return false;
	acc->d = fmod(acc->d, v->d);
	if (!acc->exact || !v->exact) {
		acc->exact = false;
		return true;
	}
	/*
	 * When one side does not fit at the other's places the remainder is
	 * still exact: b too large at acc's places is beyond acc, which is
	 * then its own remainder; acc too large at b's is reduced by steps.
	 */
	if (acc->scale > b.scale && !rescale(&b, acc->scale))
		return true;
	if (acc->scale < b.scale && !rescale(acc, b.scale)) {
		mod_rescaled(acc, &b);
		return true;
	}
	acc->m %= b.m;
	return true;
}

void
ecs_dec_neg(struct ecs_dec *a)
{
	ecs_i128 r;

	a->d = -a->d;
	if (__builtin_sub_overflow((ecs_i128)0, a->m, &r))
		a->exact = false;
	else
		a->m = r;
}

int
ecs_dec_cmp(const struct ecs_dec *a, const struct ecs_dec *b)
{
	ecs_i128 pa, pb, qa, qb, ra, rb;
	int scale;

	if (!a->exact || !b->exact)
		return (a->d > b->d) - (a->d < b->d);
	if (a->scale == b->scale)
		return (a->m > b->m) - (a->m < b->m);
	/*
	 * Integer parts first, then the fractions at one scale: each is
	 * below 10^18, so 10^18 times it fits where a whole rescale might not.
	 */
	pa = pow10_i128(a->scale);
	pb = pow10_i128(b->scale);
	qa = a->m / pa;
	qb = b->m / pb;
	if (qa != qb)
		return (qa > qb) - (qa < qb);
	scale = a->scale > b->scale ? a->scale : b->scale;
	ra = a->m % pa * pow10_i128(scale - a->scale);
	rb = b->m % pb * pow10_i128(scale - b->scale);
	return (ra > rb) - (ra < rb);
}

/* Writes |m| in decimal with scale digits after the point. */
static size_t
format_i128(ecs_i128 m, int scale, char *buf, size_t size)
{
	char digits[48];
	size_t n = 0, o = 0;
	bool neg = m < 0;

	do {
		int r = (int)(m % ten);
		digits[n++] = (char)('0' + (r < 0 ? -r : r));
		m /= ten;
	} while (m != 0);
	while (n <= (size_t)scale)
		digits[n++] = '0';
	if (neg)
		buf[o++] = '-';
	while (n > 0 && o + 2 < size) {
		if (n == (size_t)scale)
			buf[o++] = '.';
		buf[o++] = digits[--n];
	}
	buf[o] = '\0';
	return o;
}

/*
 * The digits of v (at most 17) that read back as v: "d.ddde[+-]x" split
 * into digits[] (no point) and the decimal exponent of the first digit.
 */
static int
shortest_digits(double v, char digits[static 24], int *exp10)
{
	char try[40], *e;
	int prec, n = 0;

	for (prec = 0; prec < 17; prec++) {
		snprintf(try, sizeof(try), "%.*e", prec, fabs(v));
		if (strtod(try, NULL) == fabs(v))
			break;
	}
	for (e = try; *e != 'e'; e++)
		if (*e != '.')
			digits[n++] = *e;
	while (n > 1 && digits[n - 1] == '0')
		n--;
	digits[n] = '\0';
	*exp10 = atoi(e + 1);
	return n;
}

size_t
ecs_format_double(double v, int places, char *buf, size_t size)
{
	char digits[24], out[400], alt[400];
	int n, x, i, o = 0;

	if (!isfinite(v))
		return (size_t)snprintf(buf, size, "null");
	if (v == 0)
		return (size_t)snprintf(buf, size, "0");
	n = shortest_digits(v, digits, &x);
	/* More decimals than asked for: round there (%f has no exponent). */
	if (places >= 0 && n - 1 - x > places) {
		o = snprintf(out, sizeof(out), "%.*f", places, v);
		while (places > 0 && out[o - 1] == '0')
			o--;
		if (out[o - 1] == '.')
			o--;
		out[o] = '\0';
		if (strcmp(out, "-0") == 0)
			strcpy(out, "0");
	} else {
		if (v < 0)
			out[o++] = '-';
		if (x < 0) {			/* 0.000ddd */
			out[o++] = '0';
			out[o++] = '.';
			for (i = x + 1; i < 0; i++)
				out[o++] = '0';
			for (i = 0; i < n; i++)
				out[o++] = digits[i];
		} else {			/* ddd000 or dd.ddd */
			for (i = 0; i <= x || i < n; i++) {
				if (i == x + 1)
					out[o++] = '.';
				out[o++] = i < n ? digits[i] : '0';
			}
		}
		out[o] = '\0';
	}
	if (strlen(out) < size)
		return (size_t)snprintf(buf, size, "%s", out);
	/* Only a number far too long for buf: its shortest exponent form. */
	snprintf(alt, sizeof(alt), "%s%c%s%se%d", v < 0 ? "-" : "", digits[0],
	    n > 1 ? "." : "", digits + 1, x);
	return (size_t)snprintf(buf, size, "%s", alt);
}

size_t
ecs_dec_format(const struct ecs_dec *d, char *buf, size_t size)
{
	if (d->exact)
		return format_i128(d->m, d->scale, buf, size);
	return ecs_format_double(d->d, -1, buf, size);
}

size_t
ecs_dec_format_ratio(const struct ecs_dec *sum, uint64_t count, int places,
    char *buf, size_t size)
{
	ecs_i128 q, r, num, divisor = (ecs_i128)count;
	struct ecs_dec x = *sum;
	size_t n;

	if (count == 0)
		return (size_t)snprintf(buf, size, "null");
	/*
	 * More places than asked for: divide by count * 10^(the extra
	 * places), which fits (at most 2^64 * 10^18), so that the rounding
	 * is exact; in double, 1.0000075 rounded to 1.000007.
	 */
	if (x.exact && x.scale > places) {
		divisor = (ecs_i128)count * pow10_i128(x.scale - places);
		x.scale = places;
	}
	if (!x.exact || !rescale(&x, places)) {
		struct ecs_dec f;
		double v = sum->d / (double)count, p = pow(10, places);

		ecs_dec_from_double(&f, round(v * p) / p);
		return ecs_dec_format(&f, buf, size);
	}
	/* Round half away from zero at the last place. */
	num = x.m;
	q = num / divisor;
	r = num % divisor;
	if ((r < 0 ? -r : r) * 2 >= divisor)
		q += num < 0 ? -1 : 1;
	n = format_i128(q, places, buf, size);
	/* Trailing zeros say nothing here: 12.500000 is 12.5. */
	while (n > 1 && places > 0 && buf[n - 1] == '0')
		buf[--n] = '\0', places--;
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
	return n;
}

double
ecs_dec_to_double(const struct ecs_dec *d)
{
	char buf[64];

	if (!d->exact)
		return d->d;
	/* Through the decimal text: the nearest double, however it was summed. */
	ecs_dec_format(d, buf, sizeof(buf));
	return strtod(buf, NULL);
}
