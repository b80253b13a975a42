/* SPDX-License-Identifier: ISC */
/*
 * ecs_state.c -- state files of the stateful programs (ecs-stock,
 * ecs-sales, ecs-recommend). A state file is NDJSON: a header line
 * {"ecs_state":PROGRAM,"version":N,...}, one line per record, and an end
 * line {"end":RECORDS} that proves the save finished. It is written to a
 * temporary file beside the target, flushed to disk and renamed over it,
 * so a crash or a full disk leaves the previous state intact. A file that
 * does not check out is an error, never silently replaced. One process at
 * a time owns a state file: it holds an flock on PATH.lock (the state file
 * itself is replaced by each save, and a lock on the old inode would not
 * stop a process that opens the new one).
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ecs.h"

#define STATE_FLAGS	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

bool
ecs_state_begin(struct ecs_state_writer *w, const char *path,
    const char *program, int version, struct json_object *header)
{
	struct json_object *head;
	int fd;

	memset(w, 0, sizeof(*w));
	w->path = path;
	if (asprintf(&w->tmp, "%s.tmp.%ld", path, (long)getpid()) == -1)
		err(ECS_EXIT_DATA, "out of memory");
	if ((fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0666)) == -1 || (w->fp = fdopen(fd, "w")) == NULL) {
		warn("cannot save state: %s", w->tmp);
		if (fd != -1)
			close(fd);
		free(w->tmp);
		return false;
	}
	head = json_object_new_object();
	json_object_object_add(head, "ecs_state", json_object_new_string(program));
	json_object_object_add(head, "version", json_object_new_int(version));
	json_object_object_foreach(header, key, val)
		json_object_object_add(head, key, json_object_get(val));
	fprintf(w->fp, "%s\n", json_object_to_json_string_ext(head, STATE_FLAGS));
	json_object_put(head);
	return true;
}

void
ecs_state_put(struct ecs_state_writer *w, struct json_object *rec)
{
	fputs(json_object_to_json_string_ext(rec, STATE_FLAGS), w->fp);
	fputc('\n', w->fp);
	w->nrecords++;
}

/* fsync of the directory, so the rename itself survives a power cut. */
static void
sync_dir(const char *path)
{
	char *copy = ecs_xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd != -1) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

bool
ecs_state_commit(struct ecs_state_writer *w)
{
	bool ok;

	fprintf(w->fp, "{\"end\":%llu}\n", w->nrecords);
	ok = fflush(w->fp) == 0 && fsync(fileno(w->fp)) == 0;
	ok = (fclose(w->fp) == 0) && ok;
	if (ok && rename(w->tmp, w->path) == 0)
		sync_dir(w->path);
	else {
		warn("cannot save state to %s (the previous state is kept)",
		    w->path);
		unlink(w->tmp);
		ok = false;
	}
	free(w->tmp);
	return ok;
}

_Noreturn void
ecs_state_corrupt(const struct ecs_state_reader *r, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s:%llu: corrupt state: ",
	    program_invocation_short_name, r->path, r->lineno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (fix or remove the file; it is not replaced)\n");
	exit(ECS_EXIT_DATA);
}

/*
 * Checks, before any input is read, that a save to path can work (its
 * directory is there and writable) and takes the lock that makes this
 * process the only one using it. Usage errors (exit 2) otherwise. The lock
 * file is left in place: removing it would race with the next taker. The
 * descriptor stays open, and the lock held, until the process exits.
 */
static void
lock_state(const char *path)
{
	static char *locked;		/* the path this process holds */
	char *copy, *dir, *lock_path;
	struct stat st;
	int fd;

	if (locked != NULL && strcmp(locked, path) == 0)
		return;
	copy = ecs_xstrdup(path);
	dir = dirname(copy);
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode))
		errx(ECS_EXIT_USAGE, "--state %s: directory %s does not exist",
		    path, dir);
	if (access(dir, W_OK | X_OK) == -1)
		errx(ECS_EXIT_USAGE, "--state %s: directory %s is not writable",
		    path, dir);
	free(copy);
	if (asprintf(&lock_path, "%s.lock", path) == -1)
		err(ECS_EXIT_DATA, "out of memory");
	if ((fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0666)) == -1)
		err(ECS_EXIT_USAGE, "--state %s: %s", path, lock_path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			errx(ECS_EXIT_USAGE, "state file %s is in use by another "
			    "process (it holds %s)", path, lock_path);
		err(ECS_EXIT_USAGE, "--state %s: cannot lock %s", path,
		    lock_path);
	}
	free(lock_path);
	free(locked);
	locked = ecs_xstrdup(path);
}

/* The next line as a JSON object, or NULL at the end of the file. */
static struct json_object *
read_object(struct ecs_state_reader *r)
{
	struct json_object *obj;
	ssize_t n;

	if ((n = getline(&r->line, &r->cap, r->fp)) == -1) {
		if (ferror(r->fp))
			err(ECS_EXIT_DATA, "%s", r->path);
		return NULL;
	}
	r->lineno++;
	if (r->line[n - 1] != '\n')
		ecs_state_corrupt(r, "truncated line");
	r->line[--n] = '\0';
	obj = json_tokener_parse_ex(r->tok, r->line, (int)n + 1);
	if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
	    json_tokener_get_parse_end(r->tok) < (size_t)n) {
		json_object_put(obj);
		ecs_state_corrupt(r, "not a JSON object");
	}
	json_tokener_reset(r->tok);
	return ecs_json_exact_ints(r->tok, r->line, (size_t)n, obj);
}

bool
ecs_state_open(struct ecs_state_reader *r, const char *path,
    const char *program, int version, struct json_object **header)
{
	struct json_object *head, *v = NULL;

	struct stat st;

	memset(r, 0, sizeof(*r));
	r->path = path;
	lock_state(path);
	if ((r->fp = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return false;
		err(ECS_EXIT_DATA, "%s", path);
	}
	/* As `touch STATE` leaves it: no state yet, like a missing file. */
	if (fstat(fileno(r->fp), &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size == 0) {
		fclose(r->fp);
		r->fp = NULL;
		return false;
	}
	r->tok = json_tokener_new();
	if ((head = r->head = read_object(r)) == NULL)
		ecs_state_corrupt(r, "empty file");
	if (!json_object_object_get_ex(head, "ecs_state", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), program) != 0)
		ecs_state_corrupt(r, "not a state file of %s", program);
	if (!json_object_object_get_ex(head, "version", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int(v) != version)
		ecs_state_corrupt(r, "version %s, expected %d",
		    v != NULL ? json_object_to_json_string(v) : "missing", version);
	*header = head;
	return true;
}

struct json_object *
ecs_state_next(struct ecs_state_reader *r)
{
	struct json_object *rec, *end;

	json_object_put(r->rec);
	rec = r->rec = read_object(r);
	if (rec == NULL)
		ecs_state_corrupt(r, "no end line: the save did not finish");
	if (json_object_object_length(rec) == 1 &&
	    json_object_object_get_ex(rec, "end", &end)) {
		if (json_object_get_int64(end) != (int64_t)r->nrecords)
			ecs_state_corrupt(r, "%llu records, the end line says "
			    "%s", r->nrecords, json_object_get_string(end));
		json_object_put(rec);
		if ((r->rec = read_object(r)) != NULL)
			ecs_state_corrupt(r, "data after the end line");
		return NULL;
	}
	r->nrecords++;
	return rec;
}

struct json_object *
ecs_state_field(const struct ecs_state_reader *r, struct json_object *rec,
    const char *name, enum json_type type)
{
	struct json_object *v;

	if (!json_object_object_get_ex(rec, name, &v) ||
	    !json_object_is_type(v, type))
		ecs_state_corrupt(r, "field '%s' missing or of the wrong type",
		    name);
	return v;
}

int64_t
ecs_state_int(const struct ecs_state_reader *r, struct json_object *rec,
    const char *name)
{
	return json_object_get_int64(ecs_state_field(r, rec, name,
	    json_type_int));
}

double
ecs_state_double(const struct ecs_state_reader *r, struct json_object *rec,
    const char *name)
{
	return json_object_get_double(ecs_state_field(r, rec, name,
	    json_type_double));
}

bool
ecs_state_bool(const struct ecs_state_reader *r, struct json_object *rec,
    const char *name)
{
	return json_object_get_boolean(ecs_state_field(r, rec, name,
	    json_type_boolean));
}

void
ecs_state_close(struct ecs_state_reader *r)
{
	if (r->fp != NULL)
		fclose(r->fp);
	if (r->tok != NULL)
		json_tokener_free(r->tok);
	free(r->line);
	json_object_put(r->rec);
	json_object_put(r->head);
}

static int64_t
elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - since->tv_sec) * 1000 +
	    (now.tv_nsec - since->tv_nsec) / 1000000;
}

void
ecs_checkpoint_option(struct ecs_checkpoint *c, const char *arg)
{
	c->interval_ms = strcmp(arg, "0") == 0 ? 0 :
	    ecs_opt_duration("--checkpoint", arg);
}

bool
ecs_checkpoint_open(struct ecs_checkpoint *c, struct ecs_state_reader *r,
    struct json_object **header)
{
	if (!ecs_state_open(r, c->path, c->program, c->version, header))
		return false;
	c->lines_before = (unsigned long long)ecs_state_int(r, *header,
	    "lines");
	return true;
}

/*
 * Saves now, restarting the interval. SIGINT and SIGTERM are held off
 * while the state is written: they are installed without SA_RESTART, and
 * a write they interrupt would fail the save. They are delivered when it
 * is done.
 */
static void
ecs_checkpoint_save(struct ecs_checkpoint *c)
{
	sigset_t stop, old;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, &old);
	clock_gettime(CLOCK_MONOTONIC, &c->last);	/* a failure waits too */
	c->save();
	c->dirty = false;
	sigprocmask(SIG_SETMASK, &old, NULL);
}

bool
ecs_checkpoint_begin(struct ecs_checkpoint *c, struct json_object *header)
{
	struct json_object *head = json_object_new_object();
	bool ok;

	ecs_out_flush();
	json_object_object_add(head, "lines", json_object_new_int64(
	    (int64_t)(c->lines_before + (c->input != NULL ?
	    c->input->nread : 0))));
	json_object_object_foreach(header, key, val)
		json_object_object_add(head, key, json_object_get(val));
	json_object_put(header);
	ok = ecs_state_begin(&c->writer, c->path, c->program, c->version,
	    head);
	json_object_put(head);
	if (!ok)
		c->failed = true;
	return ok;
}

void
ecs_checkpoint_put(struct ecs_checkpoint *c, struct json_object *rec)
{
	ecs_state_put(&c->writer, rec);
}

void
ecs_checkpoint_commit(struct ecs_checkpoint *c)
{
	if (!ecs_state_commit(&c->writer))
		c->failed = true;
}

void
ecs_checkpoint_maybe(struct ecs_checkpoint *c)
{
	if (c->path != NULL && c->interval_ms > 0 && c->dirty &&
	    elapsed_ms(&c->last) >= c->interval_ms)
		ecs_checkpoint_save(c);
}

static void
on_wait(void *arg)
{
	ecs_checkpoint_maybe(arg);
}

static void
on_idle(void *arg, int ms)
{
	(void)ms;
	ecs_checkpoint_maybe(arg);
}

void
ecs_checkpoint_init(struct ecs_checkpoint *c, struct ecs_reader *rd)
{
	clock_gettime(CLOCK_MONOTONIC, &c->last);
	c->input = rd;
	ecs_stats_stream(rd);
	rd->on_wait = on_wait;
	rd->on_wait_arg = c;
	/* While input is quiet the reader wakes us each interval. */
	if (c->path != NULL && c->interval_ms > 0 && rd->on_idle == NULL) {
		rd->idle_ms = (int)(c->interval_ms < 1000000000 ?
		    c->interval_ms : 1000000000);
		rd->on_idle = on_idle;
		rd->on_idle_arg = c;
	}
}

int
ecs_checkpoint_finish(struct ecs_checkpoint *c, struct ecs_reader *rd)
{
	int status = ecs_reader_finish(rd);

	if (c->path != NULL && (c->dirty || rd->nread > 0))
		ecs_checkpoint_save(c);
	return status | (c->failed ? ECS_EXIT_DATA : 0);
}
