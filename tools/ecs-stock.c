/* SPDX-License-Identifier: ISC */
/*
 * ecs-stock -- fold inventory snapshots and stock movements into a level
 * per product, and alert when a product becomes low, out of stock or
 * oversold, when it is back in stock, and when its sales velocity says it
 * will run out within --cover-hours. The levels survive restarts through
 * --state; --report writes them all at the end of input.
 */
#include <err.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecs.h"
#include "ecs_buf.h"

#define STATE_VERSION	1

enum {
	OPT_CHECKPOINT = ECS_OPT_TOOL,
	OPT_COVER_HOURS,
	OPT_HALF_LIFE,
	OPT_INITIAL,
	OPT_MAX_PRODUCTS,
	OPT_REPORT,
	OPT_STATE,
	OPT_THRESHOLDS,
};

/* The canonical fields read from each record, in this order. */
enum { F_PRODUCT, F_ACTION, F_QUANTITY, F_DELTA, F_THRESHOLD, F_TS, NFIELDS };
static const char *const field_names[NFIELDS] = {
	"product_id", "action", "quantity", "delta", "threshold", "ts",
};

enum status { ST_UNKNOWN, ST_OK, ST_LOW, ST_OUT, ST_OVERSOLD };
static const char *const status_names[] = {
	"unknown", "ok", "low", "out", "oversold",
};
/* The alert for entering each status. */
static const char *const alert_names[] = {
	NULL, "back_in_stock", "low_stock", "out_of_stock", "oversold",
};

/* What is kept per product: 40 bytes, plus the key and the map's 16. */
struct product {
	int64_t		 quantity;
	int64_t		 threshold;	/* -1: the default (--threshold) */
	double		 sold;		/* units sold, decayed to sold_at */
	int64_t		 sold_at;	/* ms */
	uint8_t		 status;	/* enum status */
	bool		 has_level;	/* a snapshot (or --initial) set it */
	bool		 at_risk;	/* a stockout_risk alert stands */
	bool		 id_is_string;
	bool		 threshold_from_event;	/* beats --thresholds */
};

/* The options, as parsed; then only read. */
static struct {
	int64_t		 threshold;		/* -t */
	bool		 every;			/* -e */
	int64_t		 half_life_ms;		/* --half-life */
	double		 cover_hours;		/* --cover-hours; 0: off */
	int64_t		 initial;		/* --initial; -1: unknown */
	unsigned long long max_products;	/* --max-products */
	bool		 report;		/* --report */
	const char	*thresholds_path;	/* --thresholds */
} opt = {
	.threshold = 10, .half_life_ms = 86400000, .initial = -1,
	.max_products = 10000000,
};

static void		 save_state(void);
static struct ecs_checkpoint ckpt = {		/* --state, --checkpoint */
	.program = "ecs-stock", .version = STATE_VERSION,
	.interval_ms = 30000, .save = save_state,
};

/* The state of the run. */
static struct {
	struct ecs_map	*products;		/* id -> struct product */
	struct ecs_map	*unknown_actions;	/* each reported once */
	struct ecs_map	*file_thresholds;	/* --thresholds: id -> int64 */
	/* The latest event time seen, and the events without one. */
	struct ecs_event_clock clock;
	struct ecs_buf	 out;			/* the line being written */
} run = {
	.clock = ECS_EVENT_CLOCK_INIT,
};

static const struct option longopts[] = {
	ECS_COMMON_LONGOPTS,
	{ "checkpoint",	required_argument,	NULL, OPT_CHECKPOINT },
	{ "cover-hours", required_argument,	NULL, OPT_COVER_HOURS },
	{ "every",	no_argument,		NULL, 'e' },
	{ "half-life",	required_argument,	NULL, OPT_HALF_LIFE },
	{ "initial",	required_argument,	NULL, OPT_INITIAL },
	{ "max-products", required_argument,	NULL, OPT_MAX_PRODUCTS },
	{ "report",	no_argument,		NULL, OPT_REPORT },
	{ "state",	required_argument,	NULL, OPT_STATE },
	{ "threshold",	required_argument,	NULL, 't' },
	{ "thresholds",	required_argument,	NULL, OPT_THRESHOLDS },
	{ NULL,		0,			NULL, 0 }
};

static _Noreturn void
usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fprintf(fp,
"usage: ecs-stock [-ehqV] [-i format] [-o format] [-t threshold]\n"
"                 [--checkpoint duration] [--cover-hours hours]\n"
"                 [--half-life duration] [--initial quantity]\n"
"                 [--max-products count] [--report]\n"
"                 [--state file] [--thresholds file] [file ...]\n");
	if (status != 0)
		exit(status);
	fprintf(fp,
"Keep stock levels from snapshots and movements; alert on low stock,\n"
"stock-outs and the risk of one (see ecs-stock(1)).\n"
"  -e, --every              an alert for every record that leaves a product\n"
"                           low, out or oversold (default: on changes)\n"
"  -t, --threshold N        low at N units or fewer (default 10)\n"
"      --thresholds FILE    per-product thresholds, NDJSON\n"
"                           {\"product_id\":..,\"threshold\":..}\n"
"      --cover-hours H      alert stockout_risk below H hours of cover\n"
"      --half-life DURATION half-life of the sales velocity (default 24h)\n"
"      --initial N          level of a product first seen in a movement\n"
"                           (default: unknown until a snapshot)\n"
"      --max-products N     stop with an error past N products (10000000)\n"
"      --report             at the end, write every product's level\n"
"      --state FILE         load and save the levels in FILE\n"
"      --checkpoint DURATION save the state this often (default 30s; 0:\n"
"                           at exit only)\n");
	ecs_common_usage(fp);
	exit(0);
}

/* Products */

/* A --thresholds entry for the product, unless its events set one. */
static void
apply_file_threshold(struct product *p, const char *key, size_t len)
{
	const int64_t *thr;

	if (p->threshold_from_event)
		return;
	thr = run.file_thresholds != NULL ?
	    ecs_map_get(run.file_thresholds, key, len) : NULL;
	p->threshold = thr != NULL ? *thr : -1;
}

/*
 * The product of an id field, added when absent (false when the table is
 * full); NULL in *p when the field is no id. Borrowed until the next add.
 */
static bool
find_product(const struct ecs_field *id, bool add, struct product **p)
{
	bool created;

	*p = NULL;
	if (id->type != ECS_F_NUMBER && id->type != ECS_F_STRING)
		return true;
	if (!add) {
		*p = ecs_map_get(run.products, id->text, id->len);
		return true;
	}
	if (ecs_map_count(run.products) >= opt.max_products &&
	    ecs_map_get(run.products, id->text, id->len) == NULL)
		return false;
	*p = ecs_map_put(run.products, id->text, id->len, &created);
	if (created) {
		apply_file_threshold(*p, id->text, id->len);
		(*p)->id_is_string = id->type == ECS_F_STRING;
		if (opt.initial >= 0) {
			(*p)->quantity = opt.initial;
			(*p)->has_level = true;
			(*p)->status = ST_OK;
		}
	}
	return true;
}

static int64_t
threshold_of(const struct product *p)
{
	return p->threshold >= 0 ? p->threshold : opt.threshold;
}

static enum status
status_of(const struct product *p)
{
	if (!p->has_level)
		return ST_UNKNOWN;
	if (p->quantity < 0)
		return ST_OVERSOLD;
	if (p->quantity == 0)
		return ST_OUT;
	return p->quantity <= threshold_of(p) ? ST_LOW : ST_OK;
}

/*
 * Units per hour: the decayed sum of units sold is rate * half-life / ln 2
 * for a steady rate, so this is an exponentially weighted moving rate.
 */
static double
velocity(const struct product *p, int64_t t)
{
	return ecs_decay_at(p->sold, p->sold_at, t, opt.half_life_ms) * M_LN2 /
	    ((double)opt.half_life_ms / 3600000.0);
}

/* Output */

/* The product's id as it came: a string, or a number's text. */
static void
put_product_id(const struct product *p, const char *key, size_t len)
{
	ecs_buf_field(&run.out, &(struct ecs_field){ p->id_is_string ?
	    ECS_F_STRING : ECS_F_NUMBER, key, len, NULL });
}

/*
 * A rate or a number of hours, to three decimals without trailing zeros,
 * never with an exponent: a cover of ages or the velocity of absurd
 * quantities is written out in full (see "Velocity" in ecs-stock(1)).
 */
static void
put_decimal(double v)
{
	ecs_buf_double(&run.out, v, 3);
}

static void
alert(const char *kind, const struct product *p, const char *key, size_t len,
    int64_t t, bool with_cover)
{
	double v;

	ecs_buf_reset(&run.out);
	ecs_buf_puts(&run.out, "{\"alert\":\"");
	ecs_buf_puts(&run.out, kind);
	ecs_buf_puts(&run.out, "\",\"product_id\":");
	put_product_id(p, key, len);
	ecs_buf_puts(&run.out, ",\"quantity\":");
	ecs_buf_int(&run.out, p->quantity);
	ecs_buf_puts(&run.out, ",\"threshold\":");
	ecs_buf_int(&run.out, threshold_of(p));
	if (with_cover) {
		v = velocity(p, t);
		ecs_buf_puts(&run.out, ",\"velocity_per_hour\":");
		put_decimal(v);
		ecs_buf_puts(&run.out, ",\"hours_of_cover\":");
		put_decimal((double)p->quantity / v);
	}
	ecs_buf_puts(&run.out, ",\"ts\":");
	ecs_buf_time(&run.out, t);
	ecs_buf_puts(&run.out, "}\n");
	ecs_buf_out(&run.out);
}

/*
 * After a product changed at time t: the alerts its new level calls for.
 * By default only changes of status are alerts; with --every each record
 * that leaves the product low, out or oversold is one.
 */
static void
check(struct product *p, const char *key, size_t len, int64_t t)
{
	enum status old = p->status, now = status_of(p);
	bool risk = false;
	double v;

	p->status = (uint8_t)now;
	if (now != ST_UNKNOWN && now != ST_OK && (opt.every || now != old))
		alert(alert_names[now], p, key, len, t, false);
	else if (now == ST_OK && old != ST_OK && old != ST_UNKNOWN)
		alert(alert_names[now], p, key, len, t, false);
	if (opt.cover_hours > 0 && p->has_level && p->quantity > 0) {
		v = velocity(p, t);
		risk = v > 0 && (double)p->quantity / v < opt.cover_hours;
		if (risk && (opt.every || !p->at_risk))
			alert("stockout_risk", p, key, len, t, true);
	}
	p->at_risk = risk;
}

/* Records */

/* A quantity field: a whole number of units, at least 0 unless signed. */
static bool
units(struct ecs_reader *rd, const struct ecs_field *f, const char *name,
    int64_t dflt, bool is_signed, int64_t *out)
{
	char shown[ECS_SHOWN_SIZE];

	if (f->type == ECS_F_MISSING && dflt >= 0) {
		*out = dflt;
		return true;
	}
	if (!ecs_field_int64(f, out) || (!is_signed && *out < 0) ||
	    *out > INT64_MAX / 4 || *out < -INT64_MAX / 4) {
		ecs_reader_bad(rd, "field '%s' is %s%s", name,
		    f->type == ECS_F_MISSING ? "missing" : is_signed ?
		    "not a whole number" : "not a whole number of units (>= 0)",
		    ecs_field_shown(f, shown));
		return false;
	}
	return true;
}

enum movement { M_SNAPSHOT, M_PURCHASE, M_RESTOCK, M_RETURN, M_ADJUST,
    M_NONE, M_UNKNOWN, M_BAD };

/* What the action field (through --map-action) asks of the stock. */
static enum movement
movement_of(const struct ecs_field *a)
{
	static const struct {
		const char	*name;
		enum movement	 m;
	} names[] = {
		{ "purchase", M_PURCHASE }, { "restock", M_RESTOCK },
		{ "return", M_RETURN }, { "adjust", M_ADJUST },
		{ "browse", M_NONE }, { "add_to_cart", M_NONE },
	};
	size_t i;

	if (a->type == ECS_F_MISSING || a->type == ECS_F_NULL)
		return M_SNAPSHOT;
	if (a->type != ECS_F_STRING)
		return M_BAD;
	/* a is canonical: ecs_fields_read applied --map-action. */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (ecs_field_equals(a, names[i].name))
			return names[i].m;
	return M_UNKNOWN;
}

/* Warns once for each action value that means nothing to stock. */
static void
unknown_action(struct ecs_reader *rd, const struct ecs_field *a)
{
	bool created;

	ecs_map_put(run.unknown_actions, a->text, a->len, &created);
	if (created && !ecs_config.quiet)
		warnx("%s:%llu: action '%.*s' is not a stock movement: passed "
		    "over (not reported again)", rd->name, rd->lineno,
		    (int)(a->len > 64 ? 64 : a->len), a->text);
}

/*
 * The amount a record moves: a snapshot's quantity, a movement's quantity
 * (1 when absent, except for a restock), an adjustment's signed delta.
 * False after reporting the line as bad.
 */
static bool
amount(struct ecs_reader *rd, enum movement m, const struct ecs_field *f,
    int64_t *n, int64_t *thr)
{
	*thr = -1;
	switch (m) {
	case M_SNAPSHOT:
		return units(rd, &f[F_QUANTITY], "quantity", -1, false, n) &&
		    (f[F_THRESHOLD].type == ECS_F_MISSING ||
		    units(rd, &f[F_THRESHOLD], "threshold", -1, false, thr));
	case M_ADJUST:
		return units(rd, &f[F_DELTA], "delta", -1, true, n);
	case M_RESTOCK:
		return units(rd, &f[F_QUANTITY], "quantity", -1, false, n);
	default:
		return units(rd, &f[F_QUANTITY], "quantity", 1, false, n);
	}
}

static void
apply(struct ecs_reader *rd, const struct ecs_field *f)
{
	enum movement m = movement_of(&f[F_ACTION]);
	struct product *p;
	int64_t t, n, thr, level;
	char shown[ECS_SHOWN_SIZE];
	bool untimed;

	if (m == M_NONE)
		return;
	if (m == M_UNKNOWN) {
		unknown_action(rd, &f[F_ACTION]);
		return;
	}
	if (m == M_BAD) {
		ecs_reader_bad(rd, "field 'action' is not a string%s",
		    ecs_field_shown(&f[F_ACTION], shown));
		return;
	}
	if (f[F_PRODUCT].type != ECS_F_NUMBER &&
	    f[F_PRODUCT].type != ECS_F_STRING) {
		ecs_reader_bad(rd, "field 'product_id' is %s%s",
		    f[F_PRODUCT].type == ECS_F_MISSING ? "missing" :
		    "not a number or string",
		    ecs_field_shown(&f[F_PRODUCT], shown));
		return;
	}
	/* The time last, so that a bad line is never counted as untimed. */
	if (!amount(rd, m, f, &n, &thr))
		return;
	if (!ecs_event_time(&run.clock, &f[F_TS], &t, &untimed)) {
		ecs_reader_bad(rd, "field 'ts' is not a time%s",
		    ecs_field_shown(&f[F_TS], shown));
		return;
	}
	if (!find_product(&f[F_PRODUCT], true, &p)) {
		ecs_out_flush();
		errx(ECS_EXIT_DATA, "%s:%llu: more than %llu products "
		    "(--max-products): stopping", rd->name, rd->lineno,
		    opt.max_products);
	}
	if (m == M_PURCHASE && __builtin_sub_overflow(p->quantity, n, &level))
		m = M_BAD;
	else if (m != M_SNAPSHOT && m != M_PURCHASE &&
	    __builtin_add_overflow(p->quantity, n, &level))
		m = M_BAD;
	if (m == M_BAD) {
		ecs_reader_bad(rd, "the level of product '%.*s' would overflow",
		    (int)(f[F_PRODUCT].len > 64 ? 64 : f[F_PRODUCT].len),
		    f[F_PRODUCT].text);
		return;
	}
	ecs_event_clock_take(&run.clock, t, untimed);
	switch (m) {
	case M_SNAPSHOT:
		p->quantity = n;
		p->has_level = true;
		if (thr >= 0) {
			p->threshold = thr;
			p->threshold_from_event = true;
		}
		break;
	case M_PURCHASE:
		p->quantity -= n;
		ecs_decay_add(&p->sold, &p->sold_at, (double)n, t,
		    opt.half_life_ms);
		break;
	default:			/* restock, return, adjust */
		p->quantity += n;
		break;
	}
	/* Movements on an unknown level stay relative until a snapshot. */
	if (p->has_level)
		check(p, f[F_PRODUCT].text, f[F_PRODUCT].len, t);
	ckpt.dirty = true;
}

/* State */

/* The product id as a JSON value of the kind it came as; the caller's. */
static struct json_object *
id_object(const struct product *p, const char *key, size_t len)
{
	struct ecs_num n;
	char *text;
	struct json_object *v;

	if (p->id_is_string || !ecs_num_parse(key, len, &n))
		return json_object_new_string_len(key, (int)len);
	if (n.is_int)
		return json_object_new_int64(n.i);
	text = ecs_xstrndup(key, len);
	v = json_object_new_double_s(n.d, text);
	free(text);
	return v;
}

static void
save_state(void)
{
	struct json_object *head = json_object_new_object(), *rec;
	const struct product *p;
	const char *key;
	size_t iter = 0, len;

	json_object_object_add(head, "now",
	    json_object_new_int64(run.clock.latest));
	if (!ecs_checkpoint_begin(&ckpt, head))
		return;
	while ((p = ecs_map_next(run.products, &iter, &key, &len)) != NULL) {
		rec = json_object_new_object();
		json_object_object_add(rec, "product_id", id_object(p, key, len));
		json_object_object_add(rec, "quantity",
		    json_object_new_int64(p->quantity));
		json_object_object_add(rec, "known",
		    json_object_new_boolean(p->has_level));
		json_object_object_add(rec, "threshold",
		    json_object_new_int64(p->threshold_from_event ?
		    p->threshold : -1));
		json_object_object_add(rec, "sold", json_object_new_double(p->sold));
		json_object_object_add(rec, "sold_at",
		    json_object_new_int64(p->sold_at));
		json_object_object_add(rec, "status",
		    json_object_new_string(status_names[p->status]));
		json_object_object_add(rec, "at_risk",
		    json_object_new_boolean(p->at_risk));
		ecs_checkpoint_put(&ckpt, rec);
		json_object_put(rec);
	}
	ecs_checkpoint_commit(&ckpt);
}

/*
 * A time of the state: within the bounds of event times, so that the
 * decay's differences of times cannot overflow.
 */
static bool
is_time(int64_t ms)
{
	return ms >= -ECS_TIME_MAX_MS && ms <= ECS_TIME_MAX_MS;
}

static void
load_product(const struct ecs_state_reader *sr, struct json_object *rec)
{
	struct json_object *id = NULL, *st;
	struct ecs_field f;
	struct product *p;
	size_t i, held;

	json_object_object_get_ex(rec, "product_id", &id);
	f.type = json_object_is_type(id, json_type_string) ? ECS_F_STRING :
	    json_object_is_type(id, json_type_int) ||
	    json_object_is_type(id, json_type_double) ? ECS_F_NUMBER :
	    ECS_F_MISSING;
	if (f.type == ECS_F_MISSING)
		ecs_state_corrupt(sr, "no product_id");
	f.text = f.type == ECS_F_STRING ? json_object_get_string(id) :
	    json_object_to_json_string_ext(id, JSON_C_TO_STRING_PLAIN);
	f.len = f.type == ECS_F_STRING ?
	    (size_t)json_object_get_string_len(id) : strlen(f.text);
	held = ecs_map_count(run.products);
	if (!find_product(&f, true, &p))
		errx(ECS_EXIT_DATA, "%s: more than %llu products "
		    "(--max-products)", sr->path, opt.max_products);
	if (ecs_map_count(run.products) == held)
		ecs_state_corrupt(sr, "product_id seen twice");
	p->quantity = ecs_state_int(sr, rec, "quantity");
	p->has_level = ecs_state_bool(sr, rec, "known");
	p->threshold = ecs_state_int(sr, rec, "threshold");
	p->threshold_from_event = p->threshold >= 0;
	p->sold = ecs_state_double(sr, rec, "sold");
	p->sold_at = ecs_state_int(sr, rec, "sold_at");
	p->at_risk = ecs_state_bool(sr, rec, "at_risk");
	st = ecs_state_field(sr, rec, "status", json_type_string);
	for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (strcmp(json_object_get_string(st), status_names[i]) == 0)
			break;
	if (i == sizeof(status_names) / sizeof(status_names[0]) ||
	    p->threshold < -1 || !(p->sold >= 0) || !isfinite(p->sold) ||
	    !is_time(p->sold_at))
		ecs_state_corrupt(sr, "impossible values");
	p->status = (uint8_t)i;
}

static void
load_state(void)
{
	struct ecs_state_reader sr;
	struct json_object *head, *rec;

	if (!ecs_checkpoint_open(&ckpt, &sr, &head))
		return;
	run.clock.latest = ecs_state_int(&sr, head, "now");
	if (run.clock.latest != INT64_MIN && !is_time(run.clock.latest))
		ecs_state_corrupt(&sr, "impossible values");
	while ((rec = ecs_state_next(&sr)) != NULL) {
		load_product(&sr, rec);
	}
	ecs_state_close(&sr);
}

/*
 * --thresholds FILE: {"product_id":..,"threshold":..} lines, bad ones
 * reported. Held apart from the products, so that naming a product there
 * does not make it one; read after the state, so that the file may change
 * between runs, but never over a threshold an event set.
 */
static int
load_thresholds(void)
{
	static const char *const names[] = { "product_id", "threshold" };
	struct ecs_fieldset fs;
	struct ecs_field f[2];
	struct ecs_reader rd;
	struct product *p;
	char *files[] = { (char *)opt.thresholds_path };
	const char *key;
	char shown[ECS_SHOWN_SIZE];
	int64_t thr, *slot;
	size_t iter = 0, len;
	bool created;

	run.file_thresholds = ecs_map_create(sizeof(int64_t), NULL);
	ecs_fields_init(&fs, names, 2);
	ecs_reader_init_side(&rd, files, 1);
	while (ecs_reader_line(&rd)) {
		if (!ecs_fields_read(&fs, &rd, f))
			continue;
		if (f[0].type != ECS_F_NUMBER && f[0].type != ECS_F_STRING)
			ecs_reader_bad(&rd, "field 'product_id' is missing or "
			    "not a number or string%s",
			    ecs_field_shown(&f[0], shown));
		else if (units(&rd, &f[1], "threshold", -1, false, &thr)) {
			slot = ecs_map_put(run.file_thresholds, f[0].text,
			    f[0].len, &created);
			*slot = thr;
		}
	}
	ecs_fields_finish(&fs);
	while ((p = ecs_map_next(run.products, &iter, &key, &len)) != NULL)
		apply_file_threshold(p, key, len);
	return ecs_reader_finish(&rd);
}

/* --report: every product's level, in the order they were first seen. */
static void
write_report(void)
{
	const struct product *p;
	const char *key;
	size_t iter = 0, len;
	double v;

	while ((p = ecs_map_next(run.products, &iter, &key, &len)) != NULL) {
		ecs_buf_reset(&run.out);
		ecs_buf_puts(&run.out, "{\"product_id\":");
		put_product_id(p, key, len);
		ecs_buf_puts(&run.out, ",\"quantity\":");
		if (p->has_level)
			ecs_buf_int(&run.out, p->quantity);
		else
			ecs_buf_puts(&run.out, "null");
		ecs_buf_puts(&run.out, ",\"status\":\"");
		ecs_buf_puts(&run.out, status_names[status_of(p)]);
		ecs_buf_puts(&run.out, "\",\"threshold\":");
		ecs_buf_int(&run.out, threshold_of(p));
		v = velocity(p, run.clock.latest);
		ecs_buf_puts(&run.out, ",\"velocity_per_hour\":");
		put_decimal(v);
		/* No cover where the velocity shows as 0. */
		if (v >= 0.0005 && p->has_level && p->quantity > 0) {
			ecs_buf_puts(&run.out, ",\"hours_of_cover\":");
			put_decimal((double)p->quantity / v);
		}
		ecs_buf_puts(&run.out, "}\n");
		ecs_buf_out(&run.out);
	}
}

static void
parse_options(int argc, char *argv[], int *first_operand)
{
	char *end;
	int ch;

	while ((ch = getopt_long(argc, argv, ECS_COMMON_SHORTOPTS "et:",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'e':
			opt.every = true;
			break;
		case 'h':
			usage(0);
		case 't':
			opt.threshold = (int64_t)ecs_opt_count("--threshold",
			    optarg, 0, INT64_MAX / 4);
			break;
		case OPT_CHECKPOINT:
			ecs_checkpoint_option(&ckpt, optarg);
			break;
		case OPT_COVER_HOURS:
			opt.cover_hours = strtod(optarg, &end);
			if (end == optarg || *end != '\0' ||
			    !(opt.cover_hours > 0 && opt.cover_hours < 1e9))
				errx(ECS_EXIT_USAGE, "--cover-hours '%s': "
				    "expected hours above 0", optarg);
			break;
		case OPT_HALF_LIFE:
			opt.half_life_ms = ecs_opt_duration("--half-life",
			    optarg);
			break;
		case OPT_INITIAL:
			opt.initial = (int64_t)ecs_opt_count("--initial",
			    optarg, 0, INT64_MAX / 4);
			break;
		case OPT_MAX_PRODUCTS:
			opt.max_products = ecs_opt_count(
			    "--max-products", optarg, 0, UINT32_MAX - 2);
			if (opt.max_products == 0)
				errx(ECS_EXIT_USAGE, "--max-products: at least 1");
			break;
		case OPT_REPORT:
			opt.report = true;
			break;
		case OPT_STATE:
			ckpt.path = optarg;
			break;
		case OPT_THRESHOLDS:
			opt.thresholds_path = optarg;
			break;
		default:
			if (!ecs_common_option(ch, optarg))
				usage(ECS_EXIT_USAGE);
		}
	}
	*first_operand = optind;
}

/* For --stats and SIGUSR1: the products held. */
static void
count(struct ecs_counters *c)
{
	c->keys = ecs_map_count(run.products);
}

int
main(int argc, char *argv[])
{
	struct ecs_fieldset fs;
	struct ecs_field f[NFIELDS];
	struct ecs_reader rd;
	int first, status = ECS_EXIT_OK;

	parse_options(argc, argv, &first);
	run.products = ecs_map_create(sizeof(struct product), NULL);
	run.unknown_actions = ecs_map_create(0, NULL);
	if (ckpt.path != NULL)
		load_state();
	if (opt.thresholds_path != NULL)
		status |= load_thresholds();
	ecs_signals_init();
	ecs_stats_hook(count);

	ecs_fields_init(&fs, field_names, NFIELDS);
	ecs_reader_init(&rd, argv + first, argc - first);
	ecs_checkpoint_init(&ckpt, &rd);
	while (ecs_reader_line(&rd)) {
		if (ecs_fields_read(&fs, &rd, f))
			apply(&rd, f);
		ecs_checkpoint_tick(&ckpt);
	}
	if (opt.report)
		write_report();
	ecs_event_clock_summary(&run.clock);
	status |= ecs_checkpoint_finish(&ckpt, &rd);
	status |= ecs_out_close();
	ecs_fields_finish(&fs);
	ecs_map_destroy(run.products);
	ecs_map_destroy(run.unknown_actions);
	ecs_map_destroy(run.file_thresholds);
	ecs_buf_free(&run.out);
	return status;
}
