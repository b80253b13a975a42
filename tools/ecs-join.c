/* SPDX-License-Identifier: ISC */
/*
 * ecs-join -- enrich events with the row of a table (a catalogue) that has
 * the same key, as a stream-table join: the table is NDJSON or CSV, held
 * in memory, reloaded whole when its file changes (built beside the old
 * one, then swapped, so no event ever sees half a table), and updated row
 * by row from --table-stream. Events keep their own text; the row's
 * fields are added after them.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ecs.h"
#include "ecs_buf.h"
#include "ecs_lookup.h"

enum {
	OPT_INNER = ECS_OPT_TOOL,
	OPT_LEFT,
	OPT_ON,
	OPT_OVERWRITE,
	OPT_PREFIX,
	OPT_TABLE_STREAM,
	OPT_UNMATCHED,
};

/* Lines between two looks at the table file (and at each wait). */
#define WATCH_EVERY	1024
/* While the input is quiet, a look this often (ms). */
#define IDLE_MS		1000
/*
 * A TABLE changed in place is read only when its last change (ctime) is
 * at least this old (ms). File times come from a coarse clock (a tick of
 * up to 10 ms), so a table rewritten in place within the tick of the stat
 * made before the read would look unchanged after it: with the old change
 * a tick or more behind, every later write shows. A file renamed over
 * TABLE is whole already, and is read at once, however often it comes.
 */
#define SETTLE_MS	50

/* The options, as parsed; then only read. */
static struct {
	char		*event_key;		/* --on FIELD, owned */
	const char	*table_key;		/* --on ...=TABLEFIELD */
	bool		 inner;			/* --inner */
	bool		 overwrite;		/* --overwrite */
	const char	*prefix;		/* --prefix */
	const char	*unmatched_path;	/* --unmatched */
	const char	*stream_path;		/* --table-stream */
	const char	*table_path;		/* TABLE */
	enum ecs_input_format table_format;	/* by TABLE's name */
} opt = {
	.prefix = "",
};

/* The state of the run. */
static struct {
	struct ecs_lookup *table;		/* the table events see */
	struct ecs_path	*key;			/* the events' key, via --map */
	struct ecs_fieldset fields;		/* reads key, from the bytes */
	struct stat	 loaded;		/* TABLE as it was read */
	struct stat	 refused;		/* TABLE as it was refused */
	bool		 watch;			/* TABLE is a regular file */
	unsigned long long nreloads, nrefused;
	unsigned long long nevents, nunmatched;
	int		 unmatched_fd;		/* --unmatched, or -1 */
	struct ecs_buf	 unmatched;		/* its lines not yet written */
	struct ecs_buf	 out;
	/* --table-stream: its fd, the bytes of a line not yet ended. */
	int		 stream_fd;
	struct ecs_buf	 stream_buf;
	unsigned long long stream_lineno, stream_bad;
	bool		 skip_line;		/* in a line over --max-line */
	struct json_tokener *stream_tok;
	unsigned	 ticks;
} run = {
	.unmatched_fd = -1, .stream_fd = -1,
};

static const struct option longopts[] = {
	ECS_COMMON_LONGOPTS,
	{ "inner",	no_argument,		NULL, OPT_INNER },
	{ "left",	no_argument,		NULL, OPT_LEFT },
	{ "on",		required_argument,	NULL, OPT_ON },
	{ "overwrite",	no_argument,		NULL, OPT_OVERWRITE },
	{ "prefix",	required_argument,	NULL, OPT_PREFIX },
	{ "table-stream", required_argument,	NULL, OPT_TABLE_STREAM },
	{ "unmatched",	required_argument,	NULL, OPT_UNMATCHED },
	{ NULL,		0,			NULL, 0 }
};

static _Noreturn void
usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fprintf(fp,
"usage: ecs-join [-hqV] [-i format] [-o format] [--inner | --left]\n"
"                [--on field[=tablefield]] [--overwrite] [--prefix prefix]\n"
"                [--table-stream file] [--unmatched file] table [file ...]\n");
	if (status != 0)
		exit(status);
	fprintf(fp,
"Add to each event the fields of the TABLE row with the same key (see\n"
"ecs-join(1)). TABLE is NDJSON, or CSV/TSV when named .csv/.tsv (.gz too);\n"
"it is reloaded when the file changes.\n"
"      --on FIELD[=TABLEFIELD] the key: FIELD of the events, TABLEFIELD of\n"
"                           the table (default product_id); compared as text\n"
"      --left               keep events without a row, as they are (default)\n"
"      --inner              drop events without a row\n"
"      --unmatched FILE     write the events without a row to FILE too\n"
"      --prefix P           add the table's fields as P + name\n"
"      --overwrite          the table's fields replace the event's of the\n"
"                           same name (default: the event's own win)\n"
"      --table-stream FILE  rows that update the table while events flow\n"
"                           (a FIFO or a growing file, NDJSON; latest wins)\n");
	ecs_common_usage(fp);
	exit(0);
}

/* The table */

static enum ecs_input_format
format_of(const char *path)
{
	size_t n = strlen(path);

	if (n > 3 && strcmp(path + n - 3, ".gz") == 0)
		n -= 3;
	if (n > 4 && strncmp(path + n - 4, ".csv", 4) == 0)
		return ECS_INPUT_CSV;
	if (n > 4 && strncmp(path + n - 4, ".tsv", 4) == 0)
		return ECS_INPUT_TSV;
	return ECS_INPUT_NDJSON;
}

static bool
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size && same_time(&a->st_mtim, &b->st_mtim) &&
	    same_time(&a->st_ctim, &b->st_ctim);
}

/* A write in place, not a rename over the file. */
static bool
same_inode(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/*
 * Whether TABLE has been still for SETTLE_MS, by the clock the file
 * times come from. A change time more than a second ahead is another
 * machine's clock (a network file system): its age says nothing, and
 * the look after the read is all there is.
 */
static bool
settled(const struct stat *st)
{
	struct timespec now;
	long long age_ms;

	clock_gettime(CLOCK_REALTIME, &now);
	age_ms = (long long)(now.tv_sec - st->st_ctim.tv_sec) * 1000 +
	    (now.tv_nsec - st->st_ctim.tv_nsec) / 1000000;
	return age_ms >= SETTLE_MS || age_ms < -1000;
}

static void
warn_duplicates(const struct ecs_lookup *t)
{
	unsigned long long n = ecs_lookup_duplicates(t);

	if (n > 0 && !ecs_config.quiet)
		warnx("%s: %llu row%s repeated a key: the last row of each "
		    "key is used", opt.table_path, n, n == 1 ? "" : "s");
}

/*
 * A file read while it is written in place ends early: it is empty, or
 * its last line has no newline yet. Such a TABLE is left alone until it
 * changes again (a rename over it is never seen half-written). gzip data
 * ends with its own check instead, which the reader makes.
 */
static bool
looks_whole(const struct stat *st)
{
	unsigned char head[2] = { 0, 0 }, last = '\n';
	int fd;

	if (st->st_size == 0)
		return false;
	if ((fd = open(opt.table_path, O_RDONLY | O_CLOEXEC)) == -1)
		return true;		/* the load says why */
	if (pread(fd, head, 2, 0) == 2 && !(head[0] == 0x1f && head[1] == 0x8b))
		(void)!pread(fd, &last, 1, st->st_size - 1);
	close(fd);
	return last == '\n';
}

/* Refuses a new TABLE, keeping the old one, until the file changes again. */
static void
refuse(const struct stat *st, const char *why)
{
	run.refused = *st;
	run.nrefused++;
	warnx("%s: not reloaded, %s: the previous table stays in use",
	    opt.table_path, why);
}

/*
 * Whether TABLE changed on disk (a rename over it or a write in it): then
 * the new table is read beside the one in use (after SETTLE_MS still,
 * when written in place), and takes its place only when it is whole, good,
 * and did not change while it was read.
 */
static void
watch_table(void)
{
	struct ecs_lookup *t;
	struct stat before, after;
	unsigned long long nbad;
	char msg[96];

	if (!run.watch || stat(opt.table_path, &before) == -1 ||
	    same_file(&before, &run.loaded) || same_file(&before, &run.refused))
		return;
	if ((same_inode(&before, &run.loaded) && !settled(&before)) ||
	    !looks_whole(&before))
		return;
	/* Quietly first: a file being written is only read again later. */
	t = ecs_lookup_load(opt.table_path, opt.table_format, opt.table_key,
	    opt.prefix, false, &nbad);
	if (stat(opt.table_path, &after) == -1 || !same_file(&before, &after)) {
		ecs_lookup_destroy(t);
		return;
	}
	if (t == NULL) {
		/* It stands still and is bad: read it again to say why. */
		ecs_lookup_destroy(ecs_lookup_load(opt.table_path,
		    opt.table_format, opt.table_key, opt.prefix, true, &nbad));
		snprintf(msg, sizeof(msg), nbad > 0 ? "%llu bad row%s" :
		    "it could not be read", nbad, nbad == 1 ? "" : "s");
		refuse(&before, msg);
		return;
	}
	warn_duplicates(t);
	ecs_lookup_destroy(run.table);
	run.table = t;
	run.loaded = before;
	run.nreloads++;
}

static void
load_table(void)
{
	unsigned long long nbad;
	struct stat st;

	run.watch = stat(opt.table_path, &st) == 0 && S_ISREG(st.st_mode);
	run.table = ecs_lookup_load(opt.table_path, opt.table_format,
	    opt.table_key, opt.prefix, true, &nbad);
	if (run.table == NULL) {
		if (nbad > 0)
			errx(ECS_EXIT_DATA, "%s: %llu bad row%s: no table to "
			    "join with", opt.table_path, nbad,
			    nbad == 1 ? "" : "s");
		exit(ECS_EXIT_DATA);
	}
	warn_duplicates(run.table);
	if (run.watch)
		run.loaded = st;
}

/* --table-stream */

/* The JSON object line[0..len) of the stream, or NULL with *why. */
static struct json_object *
stream_parse(const char *line, size_t len, const char **why)
{
	struct json_object *rec;
	char reason[80];
	size_t col;

	rec = json_tokener_parse_ex(run.stream_tok, line, (int)len);
	if (rec == NULL || !json_object_is_type(rec, json_type_object) ||
	    json_tokener_get_parse_end(run.stream_tok) < len ||
	    ecs_json_not_rfc8259(line, len, &col, reason, sizeof(reason))) {
		json_object_put(rec);
		json_tokener_reset(run.stream_tok);
		*why = "not a JSON object";
		return NULL;
	}
	json_tokener_reset(run.stream_tok);
	/* json-c clamps an integer past 64 bits: its text is kept instead. */
	return ecs_json_exact_ints(run.stream_tok, line, len, rec);
}

/* One row of --table-stream, put in the table in use (the latest wins). */
static void
stream_row(const char *line, size_t len)
{
	struct json_object *rec = NULL;
	const char *why = NULL;

	run.stream_lineno++;
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' ||
	    line[len - 1] == '\t'))
		len--;
	if (len == 0)
		return;
	if (len > ecs_config.max_line) {
		run.stream_bad++;
		warnx("%s:%llu: row skipped: longer than %zu bytes "
		    "(--max-line)", opt.stream_path, run.stream_lineno,
		    ecs_config.max_line);
	} else if (!ecs_scan_plain_object(line, len) &&
	    (rec = stream_parse(line, len, &why)) == NULL) {
		run.stream_bad++;
		warnx("%s:%llu: row skipped: %s", opt.stream_path,
		    run.stream_lineno, why);
	} else if (!ecs_lookup_add(run.table, line, len, rec, &why)) {
		run.stream_bad++;
		warnx("%s:%llu: row skipped: field '%s' %s", opt.stream_path,
		    run.stream_lineno, opt.table_key, why);
	}
	json_object_put(rec);
}

/* Applies the rows --table-stream holds now, without waiting for more. */
static void
poll_stream(void)
{
	char buf[65536], *nl, *p;
	ssize_t n;
	size_t used;

	if (run.stream_fd == -1)
		return;
	while ((n = read(run.stream_fd, buf, sizeof(buf))) > 0 ||
	    (n == -1 && errno == EINTR)) {
		if (n <= 0)
			continue;
		ecs_buf_add(&run.stream_buf, buf, (size_t)n);
		p = run.stream_buf.p;
		while ((nl = memchr(p, '\n', run.stream_buf.len -
		    (size_t)(p - run.stream_buf.p))) != NULL) {
			if (run.skip_line)	/* the end of a long one */
				run.skip_line = false;
			else
				stream_row(p, (size_t)(nl - p));
			p = nl + 1;
		}
		used = (size_t)(p - run.stream_buf.p);
		memmove(run.stream_buf.p, p, run.stream_buf.len - used);
		run.stream_buf.len -= used;
		if (run.stream_buf.len > ecs_config.max_line) {
			run.stream_bad++;
			warnx("%s:%llu: row skipped: longer than %zu bytes "
			    "(--max-line)", opt.stream_path,
			    ++run.stream_lineno, ecs_config.max_line);
			ecs_buf_reset(&run.stream_buf);
			run.skip_line = true;
		}
	}
	if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK)
		err(ECS_EXIT_DATA, "%s", opt.stream_path);
}

/*
 * At the end of the events: a last row of the stream without its newline
 * was never applied (a row is applied once it is whole), which is said.
 */
static void
stream_unended(void)
{
	const char *p;
	size_t n;

	if (run.stream_fd == -1)
		return;
	poll_stream();
	if (run.skip_line)
		return;		/* reported as too long */
	p = run.stream_buf.p;
	n = run.stream_buf.len;
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' ||
	    p[n - 1] == '\r'))
		n--;
	if (n == 0)
		return;
	run.stream_bad++;
	warnx("%s:%llu: row not applied: no newline at its end",
	    opt.stream_path, run.stream_lineno + 1);
}

/*
 * The stream starts with the rows it holds, so that a table file and a
 * stream file give the same joins whenever the events come.
 */
static void
open_stream(void)
{
	run.stream_fd = open(opt.stream_path,
	    O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (run.stream_fd == -1)
		err(ECS_EXIT_DATA, "%s", opt.stream_path);
	run.stream_tok = json_tokener_new_ex(64);
	if (run.stream_tok == NULL)
		errx(ECS_EXIT_DATA, "out of memory");
	json_tokener_set_flags(run.stream_tok,
	    JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	poll_stream();
}

/* Events */

static void
flush_unmatched(void)
{
	if (run.unmatched_fd == -1 || run.unmatched.len == 0)
		return;
	ecs_write_all(run.unmatched_fd, run.unmatched.p, run.unmatched.len,
	    opt.unmatched_path);
	ecs_buf_reset(&run.unmatched);
}

/* Before input blocks: the table and the stream are looked at. */
static void
on_wait(void *arg)
{
	(void)arg;
	flush_unmatched();
	watch_table();
	poll_stream();
}

/* Each second the input is quiet: a table replaced meanwhile is read. */
static void
on_idle(void *arg, int ms)
{
	(void)ms;
	on_wait(arg);
}

static void
unmatched(const struct ecs_reader *rd)
{
	run.nunmatched++;
	if (!opt.inner)
		ecs_out_line(rd->line, rd->len);
	if (run.unmatched_fd != -1) {
		ecs_buf_add(&run.unmatched, rd->line, rd->len);
		ecs_buf_putc(&run.unmatched, '\n');
		if (run.unmatched.len >= 65536)
			flush_unmatched();
	}
}

/* The event's key is read from its bytes, or by json-c (fields.rec). */
static void
join(struct ecs_reader *rd)
{
	struct ecs_field key;

	if (!ecs_fields_read(&run.fields, rd, &key))
		return;
	run.nevents++;
	if (ecs_lookup_join(run.table, &key, rd->line, rd->len,
	    run.fields.rec, opt.overwrite, &run.out))
		ecs_out_line(run.out.p, run.out.len);
	else
		unmatched(rd);
}

static void
summary(void)
{
	if (ecs_config.quiet || run.nunmatched == 0)
		return;
	warnx("%llu event%s of %llu had no row in %s (%s%s%s)",
	    run.nunmatched, run.nunmatched == 1 ? "" : "s", run.nevents,
	    opt.table_path, opt.inner ? "dropped" : "kept as they were",
	    run.unmatched_fd != -1 ? ", written to " : "",
	    run.unmatched_fd != -1 ? opt.unmatched_path : "");
}

/* --on FIELD[=TABLEFIELD]: the events' key a path, the table's a name. */
static void
parse_on(const char *arg)
{
	const char *eq = strchr(arg, '=');

	free(opt.event_key);
	opt.event_key = eq != NULL ? ecs_xstrndup(arg, (size_t)(eq - arg)) :
	    ecs_xstrdup(arg);
	opt.table_key = eq != NULL ? eq + 1 : NULL;
	if (opt.event_key[0] == '\0' || (eq != NULL && eq[1] == '\0'))
		errx(ECS_EXIT_USAGE, "--on '%s': expected FIELD or "
		    "FIELD=TABLEFIELD", arg);
}

static void
parse_options(int argc, char *argv[], int *first_operand)
{
	const char *why;
	int ch;

	while ((ch = getopt_long(argc, argv, ECS_COMMON_SHORTOPTS, longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(0);
		case OPT_INNER:
			opt.inner = true;
			break;
		case OPT_LEFT:
			opt.inner = false;
			break;
		case OPT_ON:
			parse_on(optarg);
			break;
		case OPT_OVERWRITE:
			opt.overwrite = true;
			break;
		case OPT_PREFIX:
			opt.prefix = optarg;
			break;
		case OPT_TABLE_STREAM:
			opt.stream_path = optarg;
			break;
		case OPT_UNMATCHED:
			opt.unmatched_path = optarg;
			break;
		default:
			if (!ecs_common_option(ch, optarg))
				usage(ECS_EXIT_USAGE);
		}
	}
	if (optind >= argc) {
		warnx("no table given");
		usage(ECS_EXIT_USAGE);
	}
	opt.table_path = argv[optind++];
	if (opt.event_key == NULL)
		opt.event_key = ecs_xstrdup("product_id");
	opt.table_format = format_of(opt.table_path);
	if (opt.table_key == NULL)
		opt.table_key = opt.event_key;
	if ((run.key = ecs_path_compile(opt.event_key, &why)) == NULL)
		errx(ECS_EXIT_USAGE, "--on '%s': %s", opt.event_key, why);
	ecs_path_apply_map(run.key);
	/* Keys are matched as written: the table's rows are not mapped. */
	run.key->is_action = false;
	ecs_fields_init(&run.fields, NULL, 0);
	ecs_fields_add(&run.fields, run.key);
	*first_operand = optind;
}

/* For --stats and SIGUSR1: the events written and the table's rows. */
static void
count(struct ecs_counters *c)
{
	c->kept = run.nevents - (opt.inner ? run.nunmatched : 0);
	c->keys = ecs_lookup_count(run.table);
}

int
main(int argc, char *argv[])
{
	struct ecs_reader rd;
	int first, status;

	parse_options(argc, argv, &first);
	ecs_signals_init();
	load_table();
	if (opt.stream_path != NULL)
		open_stream();
	ecs_reader_init(&rd, argv + first, argc - first);
	ecs_stats_hook(count);
	if (opt.unmatched_path != NULL) {
		run.unmatched_fd = open(opt.unmatched_path,
		    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (run.unmatched_fd == -1)
			err(ECS_EXIT_DATA, "%s", opt.unmatched_path);
		ecs_reader_check_output(&rd, run.unmatched_fd, "--unmatched");
	}
	rd.on_wait = on_wait;
	rd.idle_ms = IDLE_MS;
	rd.on_idle = on_idle;
	while (ecs_reader_line(&rd)) {
		/* An update written before the event is applied before it. */
		poll_stream();
		join(&rd);
		if ((++run.ticks & (WATCH_EVERY - 1)) == 0)
			watch_table();
	}
	flush_unmatched();
	stream_unended();
	summary();
	status = ecs_reader_finish(&rd);
	if (run.nrefused > 0 || run.stream_bad > 0)
		status = ECS_EXIT_DATA;
	status |= ecs_out_close();
	if (run.unmatched_fd != -1 && close(run.unmatched_fd) == -1) {
		warn("write error on %s", opt.unmatched_path);
		status = ECS_EXIT_DATA;
	}
	if (run.stream_fd != -1)
		close(run.stream_fd);
	if (run.stream_tok != NULL)
		json_tokener_free(run.stream_tok);
	ecs_buf_free(&run.stream_buf);
	ecs_buf_free(&run.unmatched);
	ecs_buf_free(&run.out);
	ecs_lookup_destroy(run.table);
	ecs_fields_finish(&run.fields);
	ecs_path_free(run.key);
	free(opt.event_key);
	return status;
}
