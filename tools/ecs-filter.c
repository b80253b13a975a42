/* SPDX-License-Identifier: ISC */
/*
 * ecs-filter -- keep the events for which an expression holds, and write
 * them as they came, projected to some fields, or as text from a template.
 * Several -e rules may each carry a -t template: a line takes the first
 * rule it matches, as an awk pattern would.
 */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "ecs_expr.h"

/* A template: literal text, {path} and {=expr} placeholders. */
struct tpl_part {
	char		*text;		/* literal, or NULL */
	size_t		 len;
	struct ecs_path	*path;		/* NULL with text and expr NULL: {.} */
	struct ecs_expr	*expr;		/* {=expr}, or NULL */
};

struct template {
	struct tpl_part	*part;
	size_t		 npart;
	bool		 may_give_up;	/* an {=expr} with a regex */
};

struct rule {
	struct ecs_expr	*expr;
	struct template	*tpl;		/* NULL: the default output */
};

/* A -f field: read through --map, written under the name as given. */
struct field {
	struct ecs_path	*in;
	struct ecs_path	*out;
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

enum { OPT_TZ = ECS_OPT_TOOL };

static const struct option longopts[] = {
	ECS_COMMON_LONGOPTS,
	{ "count",	no_argument,		NULL, 'c' },
	{ "expr",	required_argument,	NULL, 'e' },
	{ "fields",	required_argument,	NULL, 'f' },
	{ "invert",	no_argument,		NULL, 'v' },
	{ "limit",	required_argument,	NULL, 'n' },
	{ "template",	required_argument,	NULL, 't' },
	{ "tz",		required_argument,	NULL, OPT_TZ },
	{ NULL,		0,			NULL, 0 }
};

static _Noreturn void
usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fprintf(fp,
"usage: ecs-filter [-chqVv] [-f fields] [-i format] [-n count] [-o format]\n"
"                  [-t template] [--tz zone]\n"
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
	t->part[t->npart++] = (struct tpl_part){ text, len, path, expr };
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
 * Compiles "User {user_id} bought {product_id}\n": {{ and }} stand for
 * braces, \n \t \\ for what C means by them, {.} for the whole line as
 * read. Exits 2 on a bad template.
 */
static struct template *
tpl_compile(const char *src)
{
	struct template *t = ecs_xcalloc(1, sizeof(*t));
	char *lit = ecs_xmalloc(strlen(src) + 1), *name;
	const char *s = src, *close;
	size_t n = 0;

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
			name = ecs_xstrndup(s + 1, (size_t)(close - s - 1));
			tpl_placeholder(t, src, name);
			free(name);
			n = 0;
			s = close;
		}
	}
	if (n > 0)
		tpl_push(t, ecs_xstrndup(lit, n), n, NULL, NULL);
	free(lit);
	return t;
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
	*slot = tpl_compile(src);
}

/*
 * The first rule rec matches, or NULL. A rule that cannot be decided (a
 * regular expression gave up) sets *why: the line is then bad.
 */
/* Lines kept (or, with -v, left out): for --stats and SIGUSR1. */
static unsigned long long matched;

static void
count(struct ecs_counters *c)
{
	c->kept = matched;
}

static const struct rule *
first_match(struct json_object *rec, const char **why)
{
	size_t i;
	bool holds;

	*why = NULL;
	(void)ecs_expr_take_error();
	for (i = 0; i < nrules; i++) {
		holds = ecs_expr_match(rules[i].expr, rec);
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

static void
emit(const struct rule *rule, struct json_object *rec,
    const struct ecs_reader *rd)
{
	const struct template *t = template_of(rule);

	if (count_only)
		return;
	if (t != NULL)
		tpl_render(t, rec, rd);
	else if (nfields > 0)
		write_projection(rec);
	else
		ecs_out_line(rd->line, rd->len);
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

static void
parse_options(int argc, char *argv[], int *first_operand)
{
	unsigned long long n;
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
}

int
main(int argc, char *argv[])
{
	struct ecs_reader rd;
	struct json_object *rec;
	const struct rule *rule;
	const char *why;
	int first, status;
	size_t i;

	parse_options(argc, argv, &first);
	can_skip_unparsed = true;
	for (i = 0; i < nrules; i++)
		can_skip_unparsed &= ecs_expr_has_precheck(rules[i].expr);
	/* An inverted, reshaped output needs every record parsed. */
	if (invert && (default_tpl != NULL || nfields > 0))
		can_skip_unparsed = false;
	ecs_signals_init();
	ecs_stats_hook(count);

	ecs_reader_init(&rd, argv + first, argc - first);
	while (!(has_limit && matched >= limit) && ecs_reader_line(&rd)) {
		if (cannot_match(rd.line, rd.len)) {
			if (invert) {
				matched++;
				emit(NULL, NULL, &rd);
			}
			continue;
		}
		if ((rec = ecs_reader_parse(&rd)) == NULL)
			continue;
		rule = first_match(rec, &why);
		if (why == NULL && (rule != NULL) != invert)
			why = template_gives_up(template_of(rule), rec);
		if (why != NULL)
			ecs_reader_bad(&rd, "%s", why);
		else if ((rule != NULL) != invert) {
			matched++;
			emit(rule, rec, &rd);
		}
		json_object_put(rec);
	}
	if (count_only) {
		char buf[32];
		snprintf(buf, sizeof(buf), "%llu\n", matched);
		ecs_out_puts(buf);
	}
	status = ecs_reader_finish(&rd);
	status |= ecs_out_close();
	free_all();
	return status;
}
