/* SPDX-License-Identifier: ISC */
/*
 * ecs_opt.c -- the options every ecs program takes, parsed in one place:
 * the input and output formats (-i, -o), bad-line handling (--strict,
 * --max-errors, --reject, -q, --max-line), the renaming of canonical fields
 * and actions (--map, --map-action), and what a run reports (--progress,
 * --stats).
 */
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"

struct ecs_config ecs_config = {
	.max_errors = -1,
	.max_line = 16 * 1024 * 1024,
};

bool
ecs_parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v, mult = 1;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return false;
	switch (*end) {
	case 'k': case 'K': mult = 1ULL << 10; end++; break;
	case 'm': case 'M': mult = 1ULL << 20; end++; break;
	case 'g': case 'G': mult = 1ULL << 30; end++; break;
	}
	if (*end != '\0' || v > ~0ULL / mult)
		return false;
	*out = v * mult;
	return true;
}

/* Splits "A=B" at the first '='; both sides must be non-empty. */
static bool
split_pair(const char *arg, char **left, const char **right)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg || eq[1] == '\0')
		return false;
	*left = ecs_xstrndup(arg, (size_t)(eq - arg));
	*right = eq + 1;
	return true;
}

static void
add_field_map(const char *arg)
{
	struct ecs_field_map *f;
	const char *to, *why;
	char *canon;

	if (!split_pair(arg, &canon, &to))
		errx(ECS_EXIT_USAGE, "--map '%s': expected CANON=PATH", arg);
	ecs_config.fields = ecs_xrealloc(ecs_config.fields,
	    (ecs_config.nfields + 1) * sizeof(*ecs_config.fields));
	f = &ecs_config.fields[ecs_config.nfields++];
	f->canon = canon;
	if ((f->path = ecs_path_compile(to, &why)) == NULL)
		errx(ECS_EXIT_USAGE, "--map '%s': %s", arg, why);
}

static void
add_action_alias(const char *arg)
{
	struct ecs_action_alias *a;
	const char *canon;
	char *input;

	if (!split_pair(arg, &input, &canon))
		errx(ECS_EXIT_USAGE, "--map-action '%s': expected INPUT=CANON",
		    arg);
	ecs_config.actions = ecs_xrealloc(ecs_config.actions,
	    (ecs_config.nactions + 1) * sizeof(*ecs_config.actions));
	a = &ecs_config.actions[ecs_config.nactions++];
	a->input = input;
	a->canon = ecs_xstrdup(canon);
}

const char *
ecs_action_canon(const char *value, size_t len, size_t *canon_len)
{
	size_t i;

	for (i = 0; i < ecs_config.nactions; i++) {
		if (strlen(ecs_config.actions[i].input) == len &&
		    memcmp(ecs_config.actions[i].input, value, len) == 0) {
			*canon_len = strlen(ecs_config.actions[i].canon);
			return ecs_config.actions[i].canon;
		}
	}
	return NULL;
}

bool
ecs_common_option(int ch, const char *arg)
{
	unsigned long long n;

	switch (ch) {
	case 'i':
		if (strcmp(arg, "ndjson") == 0)
			ecs_config.input_format = ECS_INPUT_NDJSON;
		else if (strcmp(arg, "csv") == 0)
			ecs_config.input_format = ECS_INPUT_CSV;
		else if (strcmp(arg, "tsv") == 0)
			ecs_config.input_format = ECS_INPUT_TSV;
		else
			errx(ECS_EXIT_USAGE, "-i '%s': expected ndjson, csv or "
			    "tsv", arg);
		return true;
	case 'o':
		if (strcmp(arg, "ndjson") == 0)
			ecs_config.output_format = ECS_OUTPUT_NDJSON;
		else if (strcmp(arg, "csv") == 0)
			ecs_config.output_format = ECS_OUTPUT_CSV;
		else if (strcmp(arg, "tsv") == 0)
			ecs_config.output_format = ECS_OUTPUT_TSV;
		else if (strcmp(arg, "table") == 0)
			ecs_config.output_format = ECS_OUTPUT_TABLE;
		else
			errx(ECS_EXIT_USAGE, "-o '%s': expected ndjson, csv, "
			    "tsv or table", arg);
		return true;
	case 'q':
		ecs_config.quiet = true;
		return true;
	case 'V':
		ecs_version_print(stdout);
		exit(ECS_EXIT_OK);
	case ECS_OPT_STRICT:
		ecs_config.max_errors = 0;
		return true;
	case ECS_OPT_MAX_ERRORS:
		if (!ecs_parse_size(arg, &n) || n > (unsigned long long)LLONG_MAX)
			errx(ECS_EXIT_USAGE, "--max-errors '%s': not a count", arg);
		ecs_config.max_errors = (long long)n;
		return true;
	case ECS_OPT_REJECT:
		ecs_config.reject_path = arg;
		return true;
	case ECS_OPT_MAX_LINE:
		if (!ecs_parse_size(arg, &n) || n == 0 || n > (1ULL << 30))
			errx(ECS_EXIT_USAGE,
			    "--max-line '%s': expected a size from 1 to 1G", arg);
		ecs_config.max_line = (size_t)n;
		return true;
	case ECS_OPT_MAP:
		add_field_map(arg);
		return true;
	case ECS_OPT_MAP_ACTION:
		add_action_alias(arg);
		return true;
	case ECS_OPT_PROGRESS:
		ecs_config.progress = true;
		return true;
	case ECS_OPT_STATS:
		ecs_config.stats_path = arg;
		return true;
	default:
		return false;
	}
}

void
ecs_common_usage(FILE *fp)
{
	fputs(
"Formats and bad lines (shared by every ecs program):\n"
"  -i, --input-format ndjson|csv|tsv\n"
"                           ndjson (default), or csv or tsv with a header\n"
"                           row; gzip input is read as it is, any format\n"
"      --map CANON=PATH     read the canonical field CANON from PATH\n"
"      --map-action IN=CANON  treat action value IN as CANON (view=browse)\n"
"      --max-errors N       stop with exit 1 at the (N+1)th bad line\n"
"      --max-line SIZE      longest accepted line (default 16M)\n"
"  -o, --output-format ndjson|csv|tsv|table\n"
"                           ndjson (default), csv, tsv (a header row, nested\n"
"                           values flattened to a.b) or table (aligned)\n"
"      --progress           lines/s, percent and ETA on stderr as it reads\n"
"  -q, --quiet              no per-line warnings (the summary stays)\n"
"      --reject FILE        append each bad line, verbatim, to FILE\n"
"      --stats FILE         write the run's counters to FILE, one JSON\n"
"                           object, at the end of the input (SIGUSR1 prints\n"
"                           them on stderr at any time)\n"
"      --strict             stop with exit 1 at the first bad line\n"
"  -h, --help               show this help and exit\n"
"  -V, --version            show the version and exit\n", fp);
}

void
ecs_version_print(FILE *fp)
{
	fprintf(fp, "%s %s", program_invocation_short_name, ECS_VERSION);
	if (ecs_git_describe[0] != '\0')
		fprintf(fp, " (git %s)", ecs_git_describe);
	fputc('\n', fp);
}

unsigned long long
ecs_opt_count(const char *opt, const char *arg, unsigned long long lo,
    unsigned long long hi)
{
	unsigned long long n;

	if (!ecs_parse_size(arg, &n) || n < lo || n > hi)
		errx(ECS_EXIT_USAGE, "%s '%s': expected a whole number from "
		    "%llu to %llu", opt, arg, lo, hi);
	return n;
}

int64_t
ecs_opt_time(const char *opt, const char *arg)
{
	int64_t ms;

	if (!ecs_time_parse(arg, strlen(arg), &ms))
		errx(ECS_EXIT_USAGE, "%s '%s': not a time (ISO-8601, "
		    "YYYY-MM-DD or epoch seconds)", opt, arg);
	return ms;
}

int64_t
ecs_opt_duration(const char *opt, const char *arg)
{
	int64_t ms;

	if (!ecs_duration_parse(arg, &ms))
		errx(ECS_EXIT_USAGE, "%s '%s': expected a duration such as "
		    "30s, 5m, 1h or 1d", opt, arg);
	return ms;
}

double
ecs_opt_percent(const char *opt, const char *arg)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end != '\0' || !(v > 0 && v < 1e6))
		errx(ECS_EXIT_USAGE, "%s '%s': expected a percentage above 0",
		    opt, arg);
	return v;
}
