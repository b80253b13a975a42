/* SPDX-License-Identifier: ISC */
/*
 * ecs_time.c -- event times. Every form of ecs(7), TIME FORMATS (the design's
 * "Event schema": RFC 3339 / ISO-8601 with Z or an offset and an optional
 * fraction, a bare YYYY-MM-DD, epoch seconds or milliseconds) becomes int64
 * milliseconds since the epoch, UTC. Durations and decay over event time
 * are here too.
 * Civil dates use Howard Hinnant's days-from-civil arithmetic rather than
 * timegm(3), which is neither POSIX nor free of the TZ environment.
 */
#include <err.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ecs.h"

/* Epoch values at or above this are milliseconds (1e11 s is year 5138). */
#define EPOCH_MS_FROM	1e11

static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
days_in_month(int64_t y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Reads exactly n digits at s[*i]; -1 when they are not there. */
static int
digits(const char *s, size_t len, size_t *i, int n)
{
	int v = 0;

	if (*i + (size_t)n > len)
		return -1;
	for (; n > 0; n--, (*i)++) {
		if (s[*i] < '0' || s[*i] > '9')
			return -1;
		v = v * 10 + (s[*i] - '0');
	}
	return v;
}

/* Reads Z, z, +hh:mm, +hhmm or +hh (or -) into minutes east of UTC. */
static bool
zone(const char *s, size_t len, size_t *i, int *minutes)
{
	int sign, hh, mm = 0;

	*minutes = 0;
	if (*i == len)
		return true;		/* no zone: UTC */
	if (s[*i] == 'Z' || s[*i] == 'z') {
		(*i)++;
		return true;
	}
	if (s[*i] != '+' && s[*i] != '-')
		return false;
	sign = s[(*i)++] == '-' ? -1 : 1;
	if ((hh = digits(s, len, i, 2)) < 0 || hh > 23)
		return false;
	if (*i < len) {
		if (s[*i] == ':')
			(*i)++;
		if ((mm = digits(s, len, i, 2)) < 0 || mm > 59)
			return false;
	}
	*minutes = sign * (hh * 60 + mm);
	return true;
}

/* HH:MM[:SS[.fraction]] into milliseconds of the day (SS may be 60). */
static bool
clock_time(const char *s, size_t len, size_t *i, int64_t *ms)
{
	int hh, mi, ss = 0, scale;
	int64_t frac = 0;

	if ((hh = digits(s, len, i, 2)) < 0 || hh > 23 || *i >= len ||
	    s[(*i)++] != ':' || (mi = digits(s, len, i, 2)) < 0 || mi > 59)
		return false;
	if (*i < len && s[*i] == ':') {
		(*i)++;
		if ((ss = digits(s, len, i, 2)) < 0 || ss > 60)
			return false;
		if (*i < len && (s[*i] == '.' || s[*i] == ',')) {
			(*i)++;
			if (*i >= len || s[*i] < '0' || s[*i] > '9')
				return false;
			/* Milliseconds; finer digits are truncated. */
			for (scale = 100; *i < len && s[*i] >= '0' &&
			    s[*i] <= '9'; (*i)++, scale /= 10)
				frac += (s[*i] - '0') * scale;
		}
	}
	*ms = ((int64_t)hh * 3600 + mi * 60 + ss) * 1000 + frac;
	return true;
}

bool
ecs_time_from_epoch(double v, int64_t *ms)
{
	if (!isfinite(v) || fabs(v) > 9e15)
		return false;
	/* Round seconds: 1.001 is 1000.9999... ms in binary. */
	*ms = fabs(v) >= EPOCH_MS_FROM ? (int64_t)floor(v) : llround(v * 1000.0);
	return true;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The two digits at s as a number, or -1. */
static int
two_digits(const char *s)
{
	return is_digit(s[0]) && is_digit(s[1]) ?
	    (s[0] - '0') * 10 + (s[1] - '0') : -1;
}

/*
 * The shape nearly every event's time has, "2026-11-01T10:00:00Z" or
 * "2026-11-01T10:00:00.123Z", read at fixed places. False for any other
 * text, which the general reader below then judges; for these it gives
 * the same instant (fuzz-time and unit-common compare the two, through
 * the same time written with "+00:00").
 */
/*
 * The first milliseconds of the day "YYYY-MM-DD" at s, false if it is no
 * date. Events come in time order, so most repeat the date of the one
 * before: the last date read is kept, and its digits not read again.
 */
static bool
usual_day(const char *s, int64_t *ms)
{
	static char last[10];
	static int64_t last_ms;
	static bool have_last;
	int cy, yy, m, d;

	if (have_last && memcmp(s, last, sizeof(last)) == 0) {
		*ms = last_ms;
		return true;
	}
	if (s[4] != '-' || s[7] != '-' ||
	    (cy = two_digits(s)) < 0 || (yy = two_digits(s + 2)) < 0 ||
	    (m = two_digits(s + 5)) < 1 || m > 12 ||
	    (d = two_digits(s + 8)) < 1 || d > days_in_month(cy * 100 + yy, m))
		return false;
	*ms = last_ms = days_from_civil(cy * 100 + yy, m, d) * 86400000;
	memcpy(last, s, sizeof(last));
	have_last = true;
	return true;
}

static bool
parse_usual(const char *s, size_t len, int64_t *ms)
{
	int hh, mi, ss, frac = 0;
	int64_t day_ms;

	if ((len != 20 && len != 24) || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[len - 1] != 'Z')
		return false;
	if (len == 24) {
		if (s[19] != '.' || !is_digit(s[20]) || !is_digit(s[21]) ||
		    !is_digit(s[22]))
			return false;
		frac = (s[20] - '0') * 100 + (s[21] - '0') * 10 + (s[22] - '0');
	}
	if ((hh = two_digits(s + 11)) < 0 || hh > 23 ||
	    (mi = two_digits(s + 14)) < 0 || mi > 59 ||
	    (ss = two_digits(s + 17)) < 0 || ss > 60 || !usual_day(s, &day_ms))
		return false;
	*ms = day_ms + ((int64_t)hh * 3600 + mi * 60 + ss) * 1000 + frac;
	return true;
}

bool
ecs_time_parse(const char *s, size_t len, int64_t *ms)
{
	size_t i = 0;
	int y, m, d, offset;
	int64_t day_ms = 0;
	struct ecs_num n;

	if (parse_usual(s, len, ms))
		return true;

	/* "2026-": four digits and a '-' cannot start a JSON number. */
	if (!(len > 4 && s[4] == '-' && is_digit(s[0]) && is_digit(s[1]) &&
	    is_digit(s[2]) && is_digit(s[3])) && ecs_num_parse(s, len, &n))
		return ecs_time_from_epoch(n.d, ms);
	if ((y = digits(s, len, &i, 4)) < 0 || i >= len || s[i++] != '-' ||
	    (m = digits(s, len, &i, 2)) < 1 || m > 12 || i >= len ||
	    s[i++] != '-' || (d = digits(s, len, &i, 2)) < 1 ||
	    d > days_in_month(y, m))
		return false;
	if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
		i++;
		if (!clock_time(s, len, &i, &day_ms))
			return false;
		if (!zone(s, len, &i, &offset))
			return false;
		day_ms -= (int64_t)offset * 60000;
	}
	if (i != len)
		return false;
	*ms = days_from_civil(y, m, d) * 86400000 + day_ms;
	return true;
}

bool
ecs_time_from_json(struct json_object *v, int64_t *ms)
{
	switch (json_object_get_type(v)) {
	case json_type_int:
	case json_type_double:
		return ecs_time_from_epoch(json_object_get_double(v), ms);
	case json_type_string:
		return ecs_time_parse(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v), ms);
	default:
		return false;
	}
}

/* A field's time: as ecs_time_parse, or a number of epoch seconds or ms. */
static bool
field_time(const struct ecs_field *f, int64_t *ms)
{
	struct ecs_num n;

	if (f->type == ECS_F_STRING)
		return ecs_time_parse(f->text, f->len, ms);
	return f->type == ECS_F_NUMBER && ecs_num_parse(f->text, f->len, &n) &&
	    ecs_time_from_epoch(n.d, ms);
}

/* v (0 or more) as exactly width digits, zeros in front. */
static void
put_digits(char *p, int v, int width)
{
	while (width-- > 0) {
		p[width] = (char)('0' + v % 10);
		v /= 10;
	}
}

size_t
ecs_time_format(int64_t ms, char buf[static 32])
{
	int64_t days = ms / 86400000, rem = ms % 86400000, y;
	int m, d, n;

	if (rem < 0) {
		rem += 86400000;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		n = snprintf(buf, 32, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d",
		    y, m, d, (int)(rem / 3600000), (int)(rem / 60000 % 60),
		    (int)(rem / 1000 % 60));
		if (rem % 1000 != 0)
			n += snprintf(buf + n, 32 - (size_t)n, ".%03d",
			    (int)(rem % 1000));
		n += snprintf(buf + n, 32 - (size_t)n, "Z");
		return (size_t)n;
	}
	/* The usual years by hand: programs write a time on every line. */
	put_digits(buf, (int)y, 4);
	buf[4] = '-';
	put_digits(buf + 5, m, 2);
	buf[7] = '-';
	put_digits(buf + 8, d, 2);
	buf[10] = 'T';
	put_digits(buf + 11, (int)(rem / 3600000), 2);
	buf[13] = ':';
	put_digits(buf + 14, (int)(rem / 60000 % 60), 2);
	buf[16] = ':';
	put_digits(buf + 17, (int)(rem / 1000 % 60), 2);
	n = 19;
	if (rem % 1000 != 0) {
		buf[n++] = '.';
		put_digits(buf + n, (int)(rem % 1000), 3);
		n += 3;
	}
	buf[n++] = 'Z';
	buf[n] = '\0';
	return (size_t)n;
}

bool
ecs_duration_parse(const char *s, int64_t *ms)
{
	static const struct {
		const char	*unit;
		double		 ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 }, { "w", 604800000 }, { "", 1000 },
	};
	char *end;
	double v;
	size_t i;

	if (*s < '0' || *s > '9')
		return false;
	v = strtod(s, &end);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0]))
		return false;
	v *= units[i].ms;
	if (!(v >= 1 && v < 9e15))
		return false;
	*ms = (int64_t)v;
	return true;
}

double
ecs_decay_at(double x, int64_t at, int64_t t, int64_t half_life)
{
	if (x == 0 || t <= at)
		return x;
	return x * exp2(-(double)(t - at) / (double)half_life);
}

void
ecs_decay_add(double *x, int64_t *at, double w, int64_t t, int64_t half_life)
{
	if (t >= *at) {
		*x = ecs_decay_at(*x, *at, t, half_life) + w;
		*at = t;
	} else			/* a late event counts as it would have */
		*x += w * exp2(-(double)(*at - t) / (double)half_life);
}

int64_t
ecs_time_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * One rule for every program, so that one event without a time cannot
 * take the wall clock and drag a replayed stream's event time to today.
 */
bool
ecs_event_time(const struct ecs_event_clock *c, const struct ecs_field *f,
    int64_t *ms, bool *untimed)
{
	*untimed = f->type == ECS_F_MISSING;
	if (*untimed) {
		*ms = c->latest != INT64_MIN ? c->latest : ecs_time_now();
		return true;
	}
	return field_time(f, ms);
}

void
ecs_event_clock_take(struct ecs_event_clock *c, int64_t ms, bool untimed)
{
	if (untimed && c->latest != INT64_MIN)
		c->nuntimed++;
	else if (untimed)
		c->nclock++;
	else if (ms > c->latest)
		c->latest = ms;
}

/* Silent for a stream without times, which the clock times as it comes. */
void
ecs_event_clock_summary(const struct ecs_event_clock *c)
{
	unsigned long long n = c->nuntimed + c->nclock;

	if (c->latest == INT64_MIN || n == 0)
		return;
	if (c->nclock == 0)
		warnx("%llu event%s without a time, at the latest event time "
		    "before %s", n, n == 1 ? "" : "s", n == 1 ? "it" : "them");
	else
		warnx("%llu event%s without a time, at the latest event time "
		    "before %s (%llu before any time: at the clock's)", n,
		    n == 1 ? "" : "s", n == 1 ? "it" : "them", c->nclock);
}

/* Local calendars: the --tz zone, else UTC. */

static bool local_zone;

bool
ecs_time_set_zone(const char *zone)
{
	char path[512];

	/* glibc takes an unknown name for UTC: check the tz database. */
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
	if (zone[0] == '\0' || strstr(zone, "..") != NULL ||
	    access(path, R_OK) != 0)
		return false;
	setenv("TZ", zone, 1);
	tzset();
	local_zone = true;
	return true;
}

void
ecs_time_local(int64_t ms, struct tm *tm)
{
	time_t secs = (time_t)(ms / 1000 - (ms % 1000 < 0));

	if (local_zone)
		localtime_r(&secs, tm);
	else
		gmtime_r(&secs, tm);
}

int64_t
ecs_time_from_local(struct tm *tm)
{
	int64_t days;

	if (local_zone) {
		tm->tm_isdst = -1;	/* whichever is in force then */
		return (int64_t)mktime(tm) * 1000;
	}
	/* days_from_civil is linear in the day: tm_mday may be out of range. */
	days = days_from_civil((int64_t)tm->tm_year + 1900 + tm->tm_mon / 12,
	    tm->tm_mon % 12 + 1, 1) + tm->tm_mday - 1;
	return ((days * 24 + tm->tm_hour) * 60 + tm->tm_min) * 60000 +
	    (int64_t)tm->tm_sec * 1000;
}

size_t
ecs_time_format_local(int64_t ms, char buf[static 40])
{
	struct tm tm;
	long off;
	int n, frac = (int)((ms % 1000 + 1000) % 1000);

	if (!local_zone)
		return ecs_time_format(ms, buf);
	ecs_time_local(ms, &tm);
	n = (int)strftime(buf, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac != 0)
		n += snprintf(buf + n, 40 - (size_t)n, ".%03d", frac);
	off = tm.tm_gmtoff;
	n += snprintf(buf + n, 40 - (size_t)n, "%c%02ld:%02ld",
	    off < 0 ? '-' : '+', labs(off) / 3600, labs(off) / 60 % 60);
	return (size_t)n;
}

int64_t
ecs_time_month_start(int64_t ms, int add)
{
	struct tm tm;
	int64_t month;

	ecs_time_local(ms, &tm);
	/* Months from year 0, floored: tm_mon stays in 0..11 either way. */
	month = ((int64_t)tm.tm_year + 1900) * 12 + tm.tm_mon + add;
	tm.tm_mon = (int)((month % 12 + 12) % 12);
	tm.tm_year = (int)((month - tm.tm_mon) / 12 - 1900);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return ecs_time_from_local(&tm);
}
