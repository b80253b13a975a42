/* SPDX-License-Identifier: ISC */
/*
 * ecs-filter -- keep the events for which an expression holds, and write
 * them as they came, projected to some fields, or as text from a template.
 * Several -e rules may each carry a -t template: a line takes the first
 * rule it matches, as an awk pattern would. With --unique, only the first
 * event of each key within an event-time horizon is written, which makes
 * a replayed stream exactly-once.
 */
#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ecs.h"
#include "ecs_buf.h"
#include "ecs_expr.h"

#define STATE_VERSION	1

/* A template: literal text, {path} and {=expr} placeholders. */
struct tpl_part {
	char		*text;		/* literal, or NULL */
	size_t		 len;
	struct ecs_path	*path;		/* NULL with text and expr NULL: {.} */
	struct ecs_expr	*expr;		/* {=expr}, or NULL */
	size_t		 slot;		/* {path}: its captured field */
};

/*
 * A placeholder's text for the line being written from captured fields:
 * an {=expr}'s, or where a {path} object or array is in compacted.
 */
struct tpl_text {
	const char	*text;
	size_t		 len;
	bool		 found;
	char		 buf[64];
	size_t		 at;
};

struct template {
	struct tpl_part	*part;
	size_t		 npart;
	bool		 may_give_up;	/* an {=expr} with a regex */
	struct tpl_text	*got;		/* [npart], with fast_output */
	char		*scratch;	/* while compiled: literal and name */
};

struct rule {
	struct ecs_expr	*expr;
	struct template	*tpl;		/* NULL: the default output */
};

/* A -f field: read through --map, written under the name as given. */
struct field {
	struct ecs_path	*in;
	struct ecs_path	*out;
	size_t		 slot;		/* in's captured field */
	size_t		 at, len;	/* an object or array: in compacted */
};

static struct rule	*rules;
static size_t		 nrules;
static struct template	*default_tpl;		/* -t before any -e */
static struct field	*fields;		/* -f */
static size_t		 nfields;
static bool		 count_only;		/* -c */
static bool		 invert;		/* -v */
static unsigned long long limit;		/* -n */
static bool		 has_limit;
static bool		 can_skip_unparsed;	/* every rule has a pre-check */
/* What the rules read of each line, captured without json-c when it can be. */
static struct ecs_fieldset rule_fields;
/* The members of a line kept whole, for -o csv and tsv to write from. */
static struct ecs_scan_tops row_members;
static struct ecs_field	*values;
/* -f, templates and --unique read their fields there too (bind_output). */
static bool		 fast_output;
/* The objects and arrays of the line to write, as json-c writes them. */
static struct ecs_buf	 compacted;

/*
 * --unique: the keys kept within --within of the latest event time, in a
 * map (encoded key -> its event time) and a queue in the order they were
 * kept, which forgets them as the time moves on.
 */
struct seen {
	size_t		 pos;		/* in keys (ecs_map_find) */
	int64_t		 t;
};

static struct {
	struct ecs_path	**path;		/* the key fields, via --map */
	struct ecs_path	**raw;		/* the same, without --map-action */
	size_t		*slot;		/* raw's captured fields */
	size_t		 npath;
	int64_t		 within_ms;	/* --within */
	const char	*dupes_path;	/* --dupes */
	int		 dupes_fd;
	struct ecs_buf	 dupes;		/* lines for --dupes not yet written */
	struct ecs_path	*ts;		/* the event time field */
	size_t		 ts_slot;	/* its captured field */
	struct ecs_event_clock clock;
	/*
	 * What keys are forgotten by: the latest event time, or the clock's
	 * in a stream whose events have no time (INT64_MIN: none yet).
	 */
	int64_t		 now;
	struct ecs_map	*keys;		/* encoded key -> int64_t time kept */
	struct seen	*queue;		/* a ring, oldest first */
	size_t		 head, count, cap;
	struct ecs_buf	 key;		/* the key being encoded */
	unsigned long long ndupes, nkeyless;
} unique = {
	.dupes_fd = -1, .clock = ECS_EVENT_CLOCK_INIT, .now = INT64_MIN,
};

static void		 save_state(void);
static struct ecs_checkpoint ckpt = {		/* --state, --checkpoint */
	.program = "ecs-filter", .version = STATE_VERSION,
	.interval_ms = 30000, .save = save_state,
};

enum {
	OPT_CHECKPOINT = ECS_OPT_TOOL,
	OPT_DUPES,
	OPT_STATE,
	OPT_TZ,
	OPT_UNIQUE,
	OPT_WITHIN,
};

static const struct option longopts[] = {
	ECS_COMMON_LONGOPTS,
	{ "checkpoint",	required_argument,	NULL, OPT_CHECKPOINT },
	{ "count",	no_argument,		NULL, 'c' },
	{ "dupes",	required_argument,	NULL, OPT_DUPES },
	{ "expr",	required_argument,	NULL, 'e' },
	{ "fields",	required_argument,	NULL, 'f' },
	{ "invert",	no_argument,		NULL, 'v' },
	{ "limit",	required_argument,	NULL, 'n' },
	{ "state",	required_argument,	NULL, OPT_STATE },
	{ "template",	required_argument,	NULL, 't' },
	{ "tz",		required_argument,	NULL, OPT_TZ },
	{ "unique",	required_argument,	NULL, OPT_UNIQUE },
	{ "within",	required_argument,	NULL, OPT_WITHIN },
	{ NULL,		0,			NULL, 0 }
};

static _Noreturn void
usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fprintf(fp,
"usage: ecs-filter [-chqVv] [-f fields] [-i format] [-n count] [-o format]\n"
"                  [-t template] [--tz zone]\n"
"                  [--unique keys --within duration [--dupes file]\n"
"                  [--state file [--checkpoint duration]]]\n"
"                  [-e expr [-t template]]... [expr] [file ...]\n");
	if (status != 0)
		exit(status);
	fprintf(fp,
"Keep the NDJSON events for which EXPR holds (see ecs-filter(1)).\n"
"  -c, --count              print only the number of matching events\n"
"  -e, --expr EXPR          a rule; several are tried in order (first wins)\n"
"  -f, --fields A,B.C       write only these fields\n"
"  -n, --limit N            stop after N matching events\n"
"  -t, --template TEXT      write TEXT with {field} and {=expr} replaced ({.}\n"
"                           is the line as read), for the rule before it (or\n"
"                           for every rule without one)\n"
"      --tz ZONE            date, hour, trunc... in ZONE's calendar, not UTC\n"
"  -v, --invert             keep the events that match no rule\n"
"      --unique A,B.C       of the events kept, only the first of each key\n"
"                           (these fields) within --within; drop the rest\n"
"      --within DURATION    how long, in event time (ts), a key is kept\n"
"      --dupes FILE         write the dropped duplicates to FILE\n"
"      --state FILE         keep the keys seen in FILE across restarts\n"
"      --checkpoint DURATION save the state this often (default 30s; 0:\n"
"                           at exit only)\n"
"Expressions: action == \"purchase\" and price * quantity > 100,\n"
"  user.city in [\"Oslo\", \"Bergen\"], name =~ \"^Red\", exists(coupon),\n"
"  time(ts) >= time(\"2026-11-01\"), not (a or b), + - * / %%\n"
"Functions: lower upper contains starts_with ends_with substr length replace\n"
"  split concat round floor ceil abs min max to_number to_string coalesce\n"
"  if any all time now date hour weekday week month year trunc exists\n"
"Numbers are exact decimals: 0.1 + 0.2 == 0.3 (see Numbers in ecs-filter(1)).\n");
	ecs_common_usage(fp);
	exit(0);
}

/* Template parsing and rendering */

static void
tpl_push(struct template *t, char *text, size_t len, struct ecs_path *path,
    struct ecs_expr *expr)
{
	t->part = ecs_xrealloc(t->part, (t->npart + 1) * sizeof(*t->part));
	t->part[t->npart++] = (struct tpl_part){ text, len, path, expr, 0 };
	if (expr != NULL && ecs_expr_may_give_up(expr))
		t->may_give_up = true;
}

/* The placeholder {name}: a field path, an expression after '=', or {.}. */
static void
tpl_placeholder(struct template *t, const char *src, const char *name)
{
	struct ecs_path *path;
	struct ecs_expr *expr;
	const char *why;
	char msg[256];

	if (strcmp(name, ".") == 0) {
		tpl_push(t, NULL, 0, NULL, NULL);
		return;
	}
	if (name[0] == '=') {
		if ((expr = ecs_expr_compile(name + 1, msg, sizeof(msg))) == NULL)
			errx(ECS_EXIT_USAGE, "template '%s': expression:%s",
			    src, msg);
		tpl_push(t, NULL, 0, NULL, expr);
		return;
	}
	if ((path = ecs_path_compile(name, &why)) == NULL)
		errx(ECS_EXIT_USAGE, "template '%s': field '%s': %s", src, name,
		    why);
	ecs_path_apply_map(path);
	tpl_push(t, NULL, 0, path, NULL);
}

/*
 * Compiles "User {user_id} bought {product_id}\n" into t: {{ and }} stand
 * for braces, \n \t \\ for what C means by them, {.} for the whole line
 * as read. Exits 2 on a bad template; what it allocated hangs from t,
 * which its caller holds, so that the exit leaks nothing.
 */
static void
tpl_compile(struct template *t, const char *src)
{
	size_t n = 0, srclen = strlen(src);
	char *lit, *name;
	const char *s = src, *close;

	t->scratch = ecs_xmalloc(2 * srclen + 2);
	lit = t->scratch;
	name = t->scratch + srclen + 1;

	for (; *s != '\0'; s++) {
		if ((s[0] == '{' && s[1] == '{') || (s[0] == '}' && s[1] == '}'))
			lit[n++] = *s++;
		else if (s[0] == '\\' && (s[1] == 'n' || s[1] == 't' ||
		    s[1] == '\\')) {
			s++;
			lit[n++] = *s == 'n' ? '\n' : *s == 't' ? '\t' : '\\';
		} else if (*s == '}')
			errx(ECS_EXIT_USAGE, "template '%s': '}' without '{' "
			    "(write }} for a brace)", src);
		else if (*s != '{')
			lit[n++] = *s;
		else {
			if ((close = strchr(s, '}')) == NULL)
				errx(ECS_EXIT_USAGE, "template '%s': '{' without "
				    "'}' (write {{ for a brace)", src);
			if (n > 0)
				tpl_push(t, ecs_xstrndup(lit, n), n, NULL, NULL);
			memcpy(name, s + 1, (size_t)(close - s - 1));
			name[close - s - 1] = '\0';
			tpl_placeholder(t, src, name);
			n = 0;
			s = close;
		}
	}
	if (n > 0)
		tpl_push(t, ecs_xstrndup(lit, n), n, NULL, NULL);
	free(t->scratch);
	t->scratch = NULL;
}

static void
tpl_free(struct template *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->npart; i++) {
		free(t->part[i].text);
		ecs_path_free(t->part[i].path);
		ecs_expr_free(t->part[i].expr);
	}
	free(t->part);
	free(t->got);
	free(t->scratch);
	free(t);
}

/*
 * The canonical action (--map-action) of the value v at path, a new
 * reference; NULL when path is not the action or v has no alias.
 */
static struct json_object *
canon_action(const struct ecs_path *path, struct json_object *v)
{
	const char *canon;
	size_t len;

	if (!path->is_action || !json_object_is_type(v, json_type_string) ||
	    (canon = ecs_action_canon(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v), &len)) == NULL)
		return NULL;
	return json_object_new_string_len(canon, (int)len);
}

/*
 * The texts of t's placeholders for the captured fields, kept in t->got:
 * an object or array compacted as json-c writes it. False when one repeats
 * a key (json-c writes it once): the line takes json-c. Why an expression
 * gave up is left for ecs_expr_take_error.
 */
static bool
tpl_eval_fields(const struct template *t, const struct ecs_field *values)
{
	const struct tpl_part *p;
	struct tpl_text *got;
	size_t i;

	ecs_buf_reset(&compacted);
	for (i = 0; i < t->npart; i++) {
		p = &t->part[i];
		got = &t->got[i];
		if (p->path != NULL && values[p->slot].type == ECS_F_OTHER) {
			got->at = compacted.len;
			if (!ecs_field_compact(&values[p->slot], &compacted))
				return false;
			got->len = compacted.len - got->at;
		}
		if (p->expr == NULL)
			continue;
		got->found = ecs_expr_text_fields(p->expr, values, got->buf,
		    &got->text, &got->len);
	}
	return true;
}

/*
 * tpl_render from the captured fields, after tpl_eval_fields: a scalar's
 * text is json-c's (ecs_fields_capture), a string's its bytes, which hold
 * no escape in a plain line, a --map-action name as given.
 */
static void
tpl_render_fields(const struct template *t, const struct ecs_field *values,
    const struct ecs_reader *rd)
{
	const struct tpl_part *p;
	const struct ecs_field *f;
	size_t i;

	for (i = 0; i < t->npart; i++) {
		p = &t->part[i];
		if (p->text != NULL)
			ecs_out_write(p->text, p->len);
		else if (p->expr != NULL) {
			if (t->got[i].found)
				ecs_out_write(t->got[i].text, t->got[i].len);
		} else if (p->path == NULL)
			ecs_out_write(rd->line, rd->len);
		else if ((f = &values[p->slot])->type == ECS_F_OTHER)
			ecs_out_write(compacted.p + t->got[i].at, t->got[i].len);
		else if (f->type != ECS_F_MISSING)
			ecs_out_write(f->text, f->len);
	}
	ecs_out_putc('\n');
}

/*
 * A missing field renders as nothing, a JSON null as null, {.} as the
 * line as it was read (the kept line of the default output).
 */
static void
tpl_render(const struct template *t, struct json_object *rec,
    const struct ecs_reader *rd)
{
	const struct tpl_part *p;
	struct json_object *v, *canon;
	const char *text;
	char buf[64];
	size_t i, len;

	for (i = 0; i < t->npart; i++) {
		p = &t->part[i];
		if (p->text != NULL)
			ecs_out_write(p->text, p->len);
		else if (p->expr != NULL) {
			if (ecs_expr_text(p->expr, rec, buf, &text, &len))
				ecs_out_write(text, len);
		}
		else if (p->path == NULL)
			ecs_out_write(rd->line, rd->len);
		else if (!ecs_path_find(p->path, rec, &v))
			continue;
		else if (v == NULL)
			ecs_out_puts("null");
		else if ((canon = canon_action(p->path, v)) != NULL) {
			ecs_out_value(canon);
			json_object_put(canon);
		} else
			ecs_out_value(v);
	}
	ecs_out_putc('\n');
}

/* Projection */

static void
parse_fields(const char *list)
{
	char *copy = ecs_xstrdup(list), *item, *save = NULL;
	const char *why;
	struct field *f;

	for (item = strtok_r(copy, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		fields = ecs_xrealloc(fields, (nfields + 1) * sizeof(*fields));
		f = &fields[nfields++];
		if ((f->out = ecs_path_compile(item, &why)) == NULL ||
		    (f->in = ecs_path_compile(item, &why)) == NULL)
			errx(ECS_EXIT_USAGE, "--fields: '%s': %s", item, why);
		ecs_path_apply_map(f->in);
	}
	free(copy);
	if (nfields == 0)
		errx(ECS_EXIT_USAGE, "--fields: no field named");
}

/*
 * The member seg of container, or NULL; *fits is false when the container
 * is not of seg's kind: an array for [N], an object for a key.
 */
static struct json_object *
member(struct json_object *container, const struct ecs_seg *seg, bool *fits)
{
	struct json_object *child = NULL;

	*fits = json_object_is_type(container, seg->bracket ? json_type_array :
	    json_type_object);
	if (!*fits)
		return NULL;
	if (seg->bracket)
		return (size_t)seg->index < json_object_array_length(container) ?
		    json_object_array_get_idx(container, (size_t)seg->index) :
		    NULL;
	json_object_object_get_ex(container, seg->key, &child);
	return child;
}

/* Puts child (a reference taken over) as the member seg of container. */
static void
put_member(struct json_object *container, const struct ecs_seg *seg,
    struct json_object *child)
{
	if (seg->bracket)		/* json-c pads with nulls, as jq does */
		json_object_array_put_idx(container, (size_t)seg->index, child);
	else
		json_object_object_add(container, seg->key, child);
}

/*
 * Puts a new reference to v at path in obj, making objects (and arrays
 * for [N]) on the way. A place already taken, or of the other kind, is
 * left alone: the path given first decides (-f a,a.b).
 */
static void
put_at(struct json_object *obj, const struct ecs_path *path,
    struct json_object *v)
{
	struct json_object *child;
	size_t i;
	bool fits;

	for (i = 0; i + 1 < path->nseg; i++) {
		child = member(obj, &path->seg[i], &fits);
		if (!fits)
			return;
		if (child == NULL) {
			child = path->seg[i + 1].bracket ?
			    json_object_new_array() : json_object_new_object();
			put_member(obj, &path->seg[i], child);
		}
		obj = child;
	}
	if (member(obj, &path->seg[i], &fits) == NULL && fits)
		put_member(obj, &path->seg[i], json_object_get(v));
}

static void
write_projection(struct json_object *rec)
{
	struct json_object *out = json_object_new_object(), *v, *canon;
	size_t i;

	for (i = 0; i < nfields; i++) {
		if (!ecs_path_find(fields[i].in, rec, &v))
			continue;
		canon = canon_action(fields[i].in, v);
		put_at(out, fields[i].out, canon != NULL ? canon : v);
		json_object_put(canon);
	}
	ecs_out_json(out);
	ecs_out_putc('\n');
	json_object_put(out);
}

/*
 * -f from the captured fields: the object put_at builds, as a tree of
 * nodes made anew for each line in the order the fields are found, so
 * that its members come in json-c's order (a field missing from the line
 * moves its parent after the next one found: -f a.x,b,a.y).
 */
struct pnode {
	const struct ecs_seg *key;	/* NULL for the object written */
	size_t		 field;		/* a leaf: its index in fields */
	size_t		 first, last;	/* members, in the order put; 0: none */
	size_t		 next;		/* the next member of its parent */
};

#define NOT_A_LEAF	SIZE_MAX

static struct pnode	*pnodes;	/* [0]: the object; see bind_output */
static size_t		 npnodes;

static bool
same_seg(const struct ecs_seg *a, const struct ecs_seg *b)
{
	return a->len == b->len && a->bracket == b->bracket &&
	    memcmp(a->key, b->key, a->len) == 0;
}

/* The member key of node parent, added last if new. */
static size_t
pnode_member(size_t parent, const struct ecs_seg *key)
{
	size_t c;

	for (c = pnodes[parent].first; c != 0; c = pnodes[c].next)
		if (same_seg(pnodes[c].key, key))
			return c;
	c = npnodes++;
	pnodes[c] = (struct pnode){ key, NOT_A_LEAF, 0, 0, 0 };
	if (pnodes[parent].first == 0)
		pnodes[parent].first = c;
	else
		pnodes[pnodes[parent].last].next = c;
	pnodes[parent].last = c;
	return c;
}

/* A key or string json-c would write with an escape. */
static bool
needs_escape(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\')
			return true;
	return false;
}

/*
 * Whether the fields -f writes can be written from their bytes (strings
 * of a plain line hold no escape), an object or array compacted into
 * compacted as json-c writes it: not when one repeats a key, nor for a
 * --map-action name that json-c would escape.
 */
static bool
projection_fits_line(const struct ecs_field *values)
{
	const struct ecs_field *f;
	struct field *fd;
	size_t i;

	ecs_buf_reset(&compacted);
	for (i = 0; i < nfields; i++) {
		fd = &fields[i];
		f = &values[fd->slot];
		if (f->type == ECS_F_OTHER) {
			fd->at = compacted.len;
			if (!ecs_field_compact(f, &compacted))
				return false;
			fd->len = compacted.len - fd->at;
		} else if (f->type == ECS_F_STRING && fd->in->is_action &&
		    needs_escape(f->text, f->len))
			return false;
	}
	return true;
}

static void
write_pnode(size_t n, const struct ecs_field *values)
{
	const struct ecs_field *f;
	size_t c;

	if (pnodes[n].field != NOT_A_LEAF) {
		f = &values[fields[pnodes[n].field].slot];
		if (f->type == ECS_F_OTHER) {
			ecs_out_write(compacted.p + fields[pnodes[n].field].at,
			    fields[pnodes[n].field].len);
			return;
		}
		if (f->type == ECS_F_STRING)
			ecs_out_putc('"');
		ecs_out_write(f->text, f->len);
		if (f->type == ECS_F_STRING)
			ecs_out_putc('"');
		return;
	}
	ecs_out_putc('{');
	for (c = pnodes[n].first; c != 0; c = pnodes[c].next) {
		if (c != pnodes[n].first)
			ecs_out_putc(',');
		ecs_out_putc('"');
		ecs_out_write(pnodes[c].key->key, pnodes[c].key->len);
		ecs_out_write("\":", 2);
		write_pnode(c, values);
	}
	ecs_out_putc('}');
}

/* write_projection from the captured fields, after projection_fits_line. */
static void
write_projection_fields(const struct ecs_field *values)
{
	const struct ecs_path *out;
	size_t i, k, n;

	pnodes[0] = (struct pnode){ NULL, NOT_A_LEAF, 0, 0, 0 };
	npnodes = 1;
	for (i = 0; i < nfields; i++) {
		if (values[fields[i].slot].type == ECS_F_MISSING)
			continue;
		out = fields[i].out;
		for (n = 0, k = 0; k < out->nseg; k++)
			n = pnode_member(n, &out->seg[k]);
		pnodes[n].field = i;
	}
	write_pnode(0, values);
	ecs_out_putc('\n');
}

/* Whether a is b or a path above it (a.b of a.b.c). */
static bool
path_is_prefix(const struct ecs_path *a, const struct ecs_path *b)
{
	size_t i;

	if (a->nseg > b->nseg)
		return false;
	for (i = 0; i < a->nseg; i++)
		if (!same_seg(&a->seg[i], &b->seg[i]))
			return false;
	return true;
}

/*
 * Whether -f's names make an object write_projection_fields writes as
 * json-c would: no [N] (json-c pads arrays with nulls), no name that
 * another repeats or goes below (with -f a,a.b, put_at puts b into the
 * record's own a), no name json-c would escape.
 */
static bool
projection_fits(void)
{
	const struct ecs_path *out;
	size_t i, k;

	for (i = 0; i < nfields; i++) {
		out = fields[i].out;
		for (k = 0; k < out->nseg; k++)
			if (out->seg[k].bracket || needs_escape(out->seg[k].key,
			    out->seg[k].len))
				return false;
		for (k = 0; k < nfields; k++)
			if (k != i && path_is_prefix(out, fields[k].out))
				return false;
	}
	return true;
}

/* Rules */

static void
add_rule(const char *src)
{
	char msg[256];
	struct ecs_expr *e;

	if ((e = ecs_expr_compile(src, msg, sizeof(msg))) == NULL)
		errx(ECS_EXIT_USAGE, "expression:%s", msg);
	rules = ecs_xrealloc(rules, (nrules + 1) * sizeof(*rules));
	rules[nrules++] = (struct rule){ e, NULL };
}

/* -t belongs to the -e before it, or to all rules when none came yet. */
static void
add_template(const char *src)
{
	struct template **slot = nrules > 0 ? &rules[nrules - 1].tpl :
	    &default_tpl;

	if (*slot != NULL)
		errx(ECS_EXIT_USAGE, "two --template options for one %s",
		    nrules > 0 ? "--expr" : "set of rules");
	*slot = ecs_xcalloc(1, sizeof(**slot));
	tpl_compile(*slot, src);
}

/* Lines kept (or, with -v, left out): for --stats and SIGUSR1. */
static unsigned long long matched;

static void
count(struct ecs_counters *c)
{
	c->kept = matched;
}

/*
 * The first rule the line matches, or NULL, judged on its fields captured
 * in values (ecs_fields_read). A rule that cannot be decided (a regular
 * expression gave up) sets *why: the line is then bad.
 */
static const struct rule *
first_match(const struct ecs_field *values, const char **why)
{
	size_t i;
	bool holds;

	*why = NULL;
	(void)ecs_expr_take_error();
	for (i = 0; i < nrules; i++) {
		holds = ecs_expr_match_fields(rules[i].expr, values);
		if ((*why = ecs_expr_take_error()) != NULL)
			return NULL;
		if (holds)
			return &rules[i];
	}
	return NULL;
}

/*
 * True when the line cannot match any rule, known without json-c: it is a
 * plain valid object and lacks a literal each rule requires.
 */
static bool
cannot_match(const char *line, size_t len)
{
	size_t i;

	if (!can_skip_unparsed)
		return false;
	for (i = 0; i < nrules; i++)
		if (ecs_expr_may_match(rules[i].expr, line, len))
			return false;
	return ecs_scan_plain_object(line, len);
}

/* --unique */

static void
parse_unique(const char *list)
{
	char *copy = ecs_xstrdup(list), *item, *save = NULL;
	struct ecs_path *path, *raw;
	const char *why;

	for (item = strtok_r(copy, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		if ((path = ecs_path_compile(item, &why)) == NULL ||
		    (raw = ecs_path_compile(item, &why)) == NULL)
			errx(ECS_EXIT_USAGE, "--unique: '%s': %s", item, why);
		ecs_path_apply_map(path);
		/* The key is the value as the line has it, not its alias. */
		ecs_path_apply_map(raw);
		raw->is_action = false;
		unique.path = ecs_xrealloc(unique.path,
		    (unique.npath + 1) * sizeof(*unique.path));
		unique.raw = ecs_xrealloc(unique.raw,
		    (unique.npath + 1) * sizeof(*unique.raw));
		unique.slot = ecs_xrealloc(unique.slot,
		    (unique.npath + 1) * sizeof(*unique.slot));
		unique.raw[unique.npath] = raw;
		unique.path[unique.npath++] = path;
	}
	free(copy);
	if (unique.npath == 0)
		errx(ECS_EXIT_USAGE, "--unique: no field named");
}

/*
 * Encodes the key of rec, or of the captured fields when rec is NULL, in
 * unique.key: each field's kind and its text with its length, so that no
 * two keys share an encoding. Strings and numbers are compared by text,
 * as ecs-join compares keys ("7" and 7 are one id). False when the event
 * lacks one of the fields.
 */
static bool
encode_key(struct json_object *rec, const struct ecs_field *captured)
{
	struct json_object *v;
	struct ecs_field f;
	size_t i;

	ecs_buf_reset(&unique.key);
	for (i = 0; i < unique.npath; i++) {
		if (rec == NULL) {
			if ((f = captured[unique.slot[i]]).type == ECS_F_MISSING)
				return false;
		} else if (!ecs_path_find(unique.path[i], rec, &v))
			return false;
		else
			ecs_field_from_json(v, true, &f);
		ecs_buf_putc(&unique.key, f.type == ECS_F_STRING ||
		    f.type == ECS_F_NUMBER ? 'v' : f.type == ECS_F_NULL ? 'z' :
		    f.type == ECS_F_BOOL ? 'b' : 'o');
		ecs_buf_uint(&unique.key, f.len);
		ecs_buf_putc(&unique.key, ':');
		ecs_buf_add(&unique.key, f.text, f.len);
	}
	return true;
}

/* Queues the key at pos of unique.keys, kept at time t. */
static void
push_seen(size_t pos, int64_t t)
{
	struct seen *q;
	size_t i, cap;

	if (unique.count == unique.cap) {
		cap = unique.cap ? unique.cap * 2 : 1024;
		q = ecs_xmalloc(cap * sizeof(*q));
		for (i = 0; i < unique.count; i++)
			q[i] = unique.queue[(unique.head + i) % unique.cap];
		free(unique.queue);
		unique.queue = q;
		unique.cap = cap;
		unique.head = 0;
	}
	unique.queue[(unique.head + unique.count++) % unique.cap] =
	    (struct seen){ pos, t };
}

/* Whether a key kept at time t is past --within of unique.now. */
static bool
expired(int64_t t)
{
	return unique.now != INT64_MIN && t <= unique.now - unique.within_ms;
}

/*
 * Forgets the keys kept --within or longer before the latest event time,
 * oldest first. The queue holds each key once, at the time it was first
 * queued: a key kept again since (see first_of_key) goes back to the end
 * at its new time, and a key kept late (at an earlier time than one kept
 * before it) goes when those before it have gone; first_of_key does not
 * take it for a duplicate meanwhile.
 */
static void
forget_old(void)
{
	struct seen s;
	const char *key;
	size_t len;
	int64_t *kept;

	while (unique.count > 0 && expired(unique.queue[unique.head].t)) {
		s = unique.queue[unique.head];
		unique.head = (unique.head + 1) % unique.cap;
		unique.count--;
		ckpt.dirty = true;
		kept = ecs_map_at(unique.keys, s.pos, &key, &len);
		if (!expired(*kept)) {
			push_seen(s.pos, *kept);
			continue;
		}
		/* A copy: ecs_map_del may move the keys. */
		ecs_buf_reset(&unique.key);
		ecs_buf_add(&unique.key, key, len);
		ecs_map_del(unique.keys, unique.key.p, unique.key.len);
	}
}

/*
 * Keeps the key in unique.key as kept at time t; a key still known (kept
 * again once past --within) keeps its place in the queue, at which
 * forget_old finds its new time.
 */
static void
remember(int64_t t)
{
	int64_t *kept;
	size_t pos;
	bool created;

	kept = ecs_map_put(unique.keys, unique.key.p, unique.key.len, &created);
	*kept = t;
	if (created) {
		ecs_map_find(unique.keys, unique.key.p, unique.key.len, &pos);
		push_seen(pos, t);
	}
	ckpt.dirty = true;
}

static void
write_dupe(const struct ecs_reader *rd)
{
	unique.ndupes++;
	if (unique.dupes_fd == -1)
		return;
	ecs_buf_add(&unique.dupes, rd->line, rd->len);
	ecs_buf_putc(&unique.dupes, '\n');
	if (unique.dupes.len >= 65536) {
		ecs_write_all(unique.dupes_fd, unique.dupes.p, unique.dupes.len,
		    unique.dupes_path);
		ecs_buf_reset(&unique.dupes);
	}
}

/*
 * Whether the event rec (or its captured fields when rec is NULL), of the
 * current line of rd, is the first of its key within --within: true when
 * it is to be written. A duplicate is counted and goes to --dupes; an
 * event without every key field is written, and counted; a bad time
 * reports the line (false).
 */
static bool
first_of_key(struct json_object *rec, const struct ecs_field *captured,
    struct ecs_reader *rd)
{
	struct json_object *v;
	struct ecs_field ts;
	char shown[ECS_SHOWN_SIZE];
	int64_t t, *kept;
	bool untimed;

	ecs_field_from_json(NULL, false, &ts);
	if (rec == NULL)
		ts = captured[unique.ts_slot];
	else if (ecs_path_find(unique.ts, rec, &v))
		ecs_field_from_json(v, true, &ts);
	if (!ecs_event_time(&unique.clock, &ts, &t, &untimed)) {
		ecs_reader_bad(rd, "field 'ts' is not a time%s",
		    ecs_field_shown(&ts, shown));
		return false;
	}
	ecs_event_clock_take(&unique.clock, t, untimed);
	unique.now = unique.clock.latest != INT64_MIN ? unique.clock.latest : t;
	forget_old();
	if (!encode_key(rec, captured)) {
		unique.nkeyless++;
		return true;
	}
	if ((kept = ecs_map_get(unique.keys, unique.key.p, unique.key.len)) !=
	    NULL && !expired(*kept)) {
		write_dupe(rd);
		return false;
	}
	remember(t);
	return true;
}

/* The --unique fields as given, for the state's header. */
static struct json_object *
unique_names(void)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < unique.npath; i++)
		json_object_array_add(a,
		    json_object_new_string(unique.path[i]->text));
	return a;
}

static void
save_state(void)
{
	struct json_object *head = json_object_new_object(), *rec;
	const struct seen *s;
	const char *key;
	size_t i, len;
	int64_t *kept;

	json_object_object_add(head, "now",
	    json_object_new_int64(unique.clock.latest));
	json_object_object_add(head, "unique", unique_names());
	if (!ecs_checkpoint_begin(&ckpt, head))
		return;
	for (i = 0; i < unique.count; i++) {
		s = &unique.queue[(unique.head + i) % unique.cap];
		kept = ecs_map_at(unique.keys, s->pos, &key, &len);
		rec = json_object_new_object();
		json_object_object_add(rec, "key",
		    json_object_new_string_len(key, (int)len));
		json_object_object_add(rec, "t", json_object_new_int64(*kept));
		ecs_checkpoint_put(&ckpt, rec);
		json_object_put(rec);
	}
	ecs_checkpoint_commit(&ckpt);
}

/* Whether a time read from a state is one an event can have. */
static bool
state_time(int64_t ms)
{
	return ms >= -ECS_TIME_MAX_MS && ms <= ECS_TIME_MAX_MS;
}

/* The keys kept by the last run, in the order it kept them. */
static void
load_state(void)
{
	struct ecs_state_reader sr;
	struct json_object *head, *rec, *names, *k, *mine = unique_names();
	int64_t t;

	if (!ecs_checkpoint_open(&ckpt, &sr, &head)) {
		json_object_put(mine);
		return;
	}
	unique.clock.latest = ecs_state_int(&sr, head, "now");
	names = ecs_state_field(&sr, head, "unique", json_type_array);
	if (!json_object_equal(names, mine)) {
		warnx("%s: the state of --unique %s, not of --unique %s",
		    ckpt.path,
		    json_object_to_json_string_ext(names, JSON_C_TO_STRING_PLAIN),
		    json_object_to_json_string_ext(mine, JSON_C_TO_STRING_PLAIN));
		/* Only the stack held it: LeakSanitizer saw a leak (clang). */
		json_object_put(mine);
		exit(ECS_EXIT_DATA);
	}
	json_object_put(mine);
	if (unique.clock.latest != INT64_MIN && !state_time(unique.clock.latest))
		ecs_state_corrupt(&sr, "'now' is not an event time");
	while ((rec = ecs_state_next(&sr)) != NULL) {
		k = ecs_state_field(&sr, rec, "key", json_type_string);
		ecs_buf_reset(&unique.key);
		ecs_buf_add(&unique.key, json_object_get_string(k),
		    (size_t)json_object_get_string_len(k));
		if (ecs_map_get(unique.keys, unique.key.p, unique.key.len) !=
		    NULL)
			ecs_state_corrupt(&sr, "a key saved twice");
		if (!state_time(t = ecs_state_int(&sr, rec, "t")))
			ecs_state_corrupt(&sr, "'t' is not an event time");
		remember(t);
	}
	ecs_state_close(&sr);
	ckpt.dirty = false;
}

/* The event time field of --unique, through --map. */
static void
unique_ts(void)
{
	const char *why;

	if ((unique.ts = ecs_path_compile("ts", &why)) == NULL)
		errx(ECS_EXIT_USAGE, "ts: %s", why);
	ecs_path_apply_map(unique.ts);
}

/* Sets --unique up before any input: --dupes, --state. */
static void
unique_init(struct ecs_reader *rd)
{
	unique.keys = ecs_map_create(sizeof(int64_t), NULL);
	if (unique.dupes_path != NULL) {
		unique.dupes_fd = open(unique.dupes_path,
		    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
		if (unique.dupes_fd == -1)
			err(ECS_EXIT_DATA, "%s", unique.dupes_path);
		ecs_reader_check_output(rd, unique.dupes_fd, "--dupes");
	}
	if (ckpt.path != NULL)
		load_state();
}

/* At the end: --dupes written and closed, the counts said; 0 or 1. */
static int
unique_finish(void)
{
	int status = 0;

	if (unique.dupes_fd != -1) {
		ecs_write_all(unique.dupes_fd, unique.dupes.p, unique.dupes.len,
		    unique.dupes_path);
		if (close(unique.dupes_fd) == -1) {
			warn("write error on %s", unique.dupes_path);
			status = ECS_EXIT_DATA;
		}
	}
	if (!ecs_config.quiet && unique.ndupes > 0)
		warnx("%llu duplicate event%s dropped (--unique)%s%s",
		    unique.ndupes, unique.ndupes == 1 ? "" : "s",
		    unique.dupes_fd != -1 ? ", written to " : "",
		    unique.dupes_fd != -1 ? unique.dupes_path : "");
	if (!ecs_config.quiet && unique.nkeyless > 0)
		warnx("%llu event%s without every --unique field written, not "
		    "deduplicated", unique.nkeyless,
		    unique.nkeyless == 1 ? "" : "s");
	ecs_event_clock_summary(&unique.clock);
	return status;
}

static void
unique_free(void)
{
	size_t i;

	for (i = 0; i < unique.npath; i++) {
		ecs_path_free(unique.path[i]);
		ecs_path_free(unique.raw[i]);
	}
	free(unique.path);
	free(unique.raw);
	free(unique.slot);
	ecs_path_free(unique.ts);
	ecs_map_destroy(unique.keys);
	free(unique.queue);
	ecs_buf_free(&unique.key);
	ecs_buf_free(&unique.dupes);
}

/* The template a line kept by rule is written with, or NULL. */
static const struct template *
template_of(const struct rule *rule)
{
	if (count_only)
		return NULL;
	return rule != NULL && rule->tpl != NULL ? rule->tpl : default_tpl;
}

/*
 * Why t's {=expr} placeholders cannot be written for rec (a regular
 * expression gave up), or NULL: known before anything of the line is
 * written, so that the line is rejected whole.
 */
static const char *
template_gives_up(const struct template *t, struct json_object *rec)
{
	const char *text;
	char buf[64];
	size_t i, len;

	if (t == NULL || !t->may_give_up)
		return NULL;
	(void)ecs_expr_take_error();
	for (i = 0; i < t->npart; i++)
		if (t->part[i].expr != NULL)
			(void)ecs_expr_text(t->part[i].expr, rec, buf, &text,
			    &len);
	return ecs_expr_take_error();
}

/*
 * Writes the kept line: from rec, else from the captured fields, else
 * whole; tops, when not NULL, holds its members as the scan found them,
 * for -o csv and tsv.
 */
static void
emit(const struct rule *rule, struct json_object *rec,
    const struct ecs_field *captured, const struct ecs_reader *rd,
    const struct ecs_scan_tops *tops)
{
	const struct template *t = template_of(rule);

	if (count_only)
		return;
	if (t != NULL && captured != NULL)
		tpl_render_fields(t, captured, rd);
	else if (t != NULL)
		tpl_render(t, rec, rd);
	else if (nfields > 0 && captured != NULL)
		write_projection_fields(captured);
	else if (nfields > 0)
		write_projection(rec);
	else
		ecs_out_line_tops(rd->line, rd->len, tops);
}

static bool
has_template(void)
{
	size_t i;

	for (i = 0; i < nrules; i++)
		if (rules[i].tpl != NULL)
			return true;
	return default_tpl != NULL;
}

/* --within, --dupes, --state and --checkpoint serve --unique only. */
static void
check_unique_options(bool has_checkpoint)
{
	const char *alone = unique.within_ms > 0 ? "--within" :
	    unique.dupes_path != NULL ? "--dupes" : ckpt.path != NULL ?
	    "--state" : has_checkpoint ? "--checkpoint" : NULL;

	if (unique.npath == 0 && alone != NULL)
		errx(ECS_EXIT_USAGE, "%s: only with --unique", alone);
	if (unique.npath > 0 && unique.within_ms == 0)
		errx(ECS_EXIT_USAGE, "--unique: needs --within, the time a key "
		    "is kept");
	if (has_checkpoint && ckpt.path == NULL)
		errx(ECS_EXIT_USAGE, "--checkpoint: only with --state");
}

static void
parse_options(int argc, char *argv[], int *first_operand)
{
	unsigned long long n;
	bool has_checkpoint = false;
	int ch;

	while ((ch = getopt_long(argc, argv, ECS_COMMON_SHORTOPTS "ce:f:n:t:v",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			count_only = true;
			break;
		case 'e':
			add_rule(optarg);
			break;
		case 'f':
			parse_fields(optarg);
			break;
		case 'h':
			usage(0);
		case 'n':
			if (!ecs_parse_size(optarg, &n))
				errx(ECS_EXIT_USAGE, "--limit '%s': not a count",
				    optarg);
			limit = n;
			has_limit = true;
			break;
		case 't':
			add_template(optarg);
			break;
		case 'v':
			invert = true;
			break;
		case OPT_CHECKPOINT:
			ecs_checkpoint_option(&ckpt, optarg);
			has_checkpoint = true;
			break;
		case OPT_DUPES:
			unique.dupes_path = optarg;
			break;
		case OPT_STATE:
			ckpt.path = optarg;
			break;
		case OPT_UNIQUE:
			parse_unique(optarg);
			break;
		case OPT_WITHIN:
			unique.within_ms = ecs_opt_duration("--within", optarg);
			break;
		case OPT_TZ:
			if (!ecs_time_set_zone(optarg))
				errx(ECS_EXIT_USAGE, "--tz '%s': not a zone of the "
				    "tz database (install tzdata)", optarg);
			break;
		default:
			if (!ecs_common_option(ch, optarg))
				usage(ECS_EXIT_USAGE);
		}
	}
	check_unique_options(has_checkpoint);
	/* A count or a template is text, not records to put in columns. */
	if (ecs_config.output_format != ECS_OUTPUT_NDJSON &&
	    (count_only || has_template()))
		errx(ECS_EXIT_USAGE, "--output-format: not with --count or "
		    "--template, which write text");
	if (nrules == 0) {
		if (optind >= argc) {
			warnx("no expression given (use 'true' to keep all)");
			usage(ECS_EXIT_USAGE);
		}
		add_rule(argv[optind++]);
	}
	*first_operand = optind;
}

static void
free_all(void)
{
	size_t i;

	for (i = 0; i < nrules; i++) {
		ecs_expr_free(rules[i].expr);
		tpl_free(rules[i].tpl);
	}
	free(rules);
	tpl_free(default_tpl);
	for (i = 0; i < nfields; i++) {
		ecs_path_free(fields[i].in);
		ecs_path_free(fields[i].out);
	}
	free(fields);
	unique_free();
	ecs_fields_finish(&rule_fields);
	free(values);
	free(pnodes);
	ecs_buf_free(&compacted);
}

/* The output's paths into fs: -f's, the templates' and --unique's. */
static void
add_output_paths(struct ecs_fieldset *fs)
{
	struct template *t;
	size_t i, k;

	for (i = 0; i < nfields; i++)
		fields[i].slot = ecs_fields_add(fs, fields[i].in);
	for (i = 0; i <= nrules; i++) {
		t = i < nrules ? rules[i].tpl : default_tpl;
		for (k = 0; t != NULL && k < t->npart; k++)
			if (t->part[k].path != NULL)
				t->part[k].slot = ecs_fields_add(fs,
				    t->part[k].path);
			else if (t->part[k].expr != NULL)
				ecs_expr_bind(t->part[k].expr, fs);
	}
	for (i = 0; i < unique.npath; i++)
		unique.slot[i] = ecs_fields_add(fs, unique.raw[i]);
	if (unique.npath > 0)
		unique.ts_slot = ecs_fields_add(fs, unique.ts);
}

/*
 * Kept lines are written (and keyed) from the fields the scan captures
 * along with the rules' when all the output's paths can be captured and
 * -f's names fit (projection_fits): the output is then byte for byte what
 * json-c's record gives, and json-c reads only the kept lines with an
 * object or array to write (output_fits).
 */
static void
bind_output(void)
{
	struct ecs_fieldset trial;
	struct template *t;
	size_t i, nseg = 0;
	bool fits;

	ecs_fields_init(&trial, NULL, 0);
	add_output_paths(&trial);
	fits = trial.fast && projection_fits();
	ecs_fields_finish(&trial);
	if (!fits)
		return;
	add_output_paths(&rule_fields);
	fast_output = true;
	for (i = 0; i < nfields; i++)
		nseg += fields[i].out->nseg;
	pnodes = ecs_xcalloc(nseg + 1, sizeof(*pnodes));
	for (i = 0; i <= nrules; i++)
		if ((t = i < nrules ? rules[i].tpl : default_tpl) != NULL)
			t->got = ecs_xcalloc(t->npart, sizeof(*t->got));
}

/*
 * Whether the kept line can be written from its captured fields (see
 * bind_output): not when a --unique key or the time is an object or
 * array (json-c writes a key compacted with '/' escaped, a time in its
 * message: rare enough to leave to json-c), nor when tpl_eval_fields or
 * projection_fits_line say no. A template's {=expr} are evaluated here,
 * once; *why tells when one gave up.
 */
static bool
output_fits(const struct rule *rule, const struct ecs_field *captured,
    const char **why)
{
	const struct template *t = template_of(rule);
	size_t i;

	*why = NULL;
	for (i = 0; i < unique.npath; i++)
		if (captured[unique.slot[i]].type == ECS_F_OTHER)
			return false;
	if (unique.npath > 0 && captured[unique.ts_slot].type == ECS_F_OTHER)
		return false;
	if (t != NULL) {
		(void)ecs_expr_take_error();
		if (!tpl_eval_fields(t, captured))
			return false;
		*why = ecs_expr_take_error();
		return true;
	}
	return count_only || projection_fits_line(captured);
}

/*
 * Whether a kept line needs more than its bytes (the captured fields, or
 * json-c's record): to be written otherwise than as it came, to be keyed
 * (--unique), or for a template's regular expression, which may reject it.
 */
static bool
needs_record(const struct rule *rule)
{
	const struct template *t = template_of(rule);

	if (unique.npath > 0 || (t != NULL && t->may_give_up))
		return true;
	return !count_only && (t != NULL || nfields > 0);
}

/*
 * What the output of a kept line reads: its captured fields (*captured)
 * when output_fits, else json-c's record (*rec, a reference taken), which
 * json-c made for the rules or makes now. False when the line is bad (the
 * reader has said why); *why is set when a template's expression gave up.
 */
static bool
output_source(const struct rule *rule, struct ecs_reader *rd,
    struct json_object **rec, const struct ecs_field **captured,
    const char **why)
{
	if (rule_fields.rec == NULL && fast_output &&
	    output_fits(rule, values, why)) {
		*captured = values;
		return true;
	}
	*rec = rule_fields.rec != NULL ? json_object_get(rule_fields.rec) :
	    ecs_reader_parse(rd);
	if (*rec == NULL)
		return false;
	*why = template_gives_up(template_of(rule), *rec);
	return true;
}

/*
 * One line: written when a rule (or -v) keeps it and --unique lets it. The
 * rules, templates, -f and --unique read the fields captured from the
 * bytes; json-c reads the lines the scan cannot judge, and the kept lines
 * with an object or array to write (output_fits).
 */
static void
step(struct ecs_reader *rd)
{
	struct json_object *rec = NULL;
	const struct ecs_field *captured = NULL;
	const struct rule *rule;
	const char *why;

	if (cannot_match(rd->line, rd->len)) {
		if (invert) {
			matched++;
			emit(NULL, NULL, NULL, rd, NULL);
		}
		return;
	}
	if (!ecs_fields_read(&rule_fields, rd, values))
		return;
	rule = first_match(values, &why);
	if (why != NULL || (rule != NULL) == invert) {
		if (why != NULL)
			ecs_reader_bad(rd, "%s", why);
		return;
	}
	if (needs_record(rule) &&
	    !output_source(rule, rd, &rec, &captured, &why))
		return;
	if (why != NULL)
		ecs_reader_bad(rd, "%s", why);
	else if (unique.npath == 0 || first_of_key(rec, captured, rd)) {
		matched++;
		emit(rule, rec, captured, rd, rule_fields.members);
	}
	json_object_put(rec);
}

int
main(int argc, char *argv[])
{
	struct ecs_reader rd;
	int first, status;
	size_t i;

	parse_options(argc, argv, &first);
	if (unique.npath > 0)
		unique_ts();
	can_skip_unparsed = true;
	ecs_fields_init(&rule_fields, NULL, 0);
	for (i = 0; i < nrules; i++) {
		can_skip_unparsed &= ecs_expr_has_precheck(rules[i].expr);
		ecs_expr_bind(rules[i].expr, &rule_fields);
	}
	bind_output();
	values = ecs_xcalloc(rule_fields.n + 1, sizeof(*values));
	if ((ecs_config.output_format == ECS_OUTPUT_CSV ||
	    ecs_config.output_format == ECS_OUTPUT_TSV) && nfields == 0)
		rule_fields.members = &row_members;
	/* An inverted, reshaped or deduplicated output needs every record. */
	if (invert && (default_tpl != NULL || nfields > 0 || unique.npath > 0))
		can_skip_unparsed = false;
	ecs_signals_init();
	ecs_stats_hook(count);

	ecs_reader_init(&rd, argv + first, argc - first);
	if (unique.npath > 0)
		unique_init(&rd);
	ecs_checkpoint_init(&ckpt, &rd);
	while (!(has_limit && matched >= limit) && ecs_reader_line(&rd)) {
		step(&rd);
		ecs_checkpoint_tick(&ckpt);
	}
	if (count_only) {
		char buf[32];
		snprintf(buf, sizeof(buf), "%llu\n", matched);
		ecs_out_puts(buf);
	}
	status = unique.npath > 0 ? unique_finish() : 0;
	status |= ecs_checkpoint_finish(&ckpt, &rd);
	status |= ecs_out_close();
	free_all();
	return status;
}
