/* SPDX-License-Identifier: ISC */
/*
 * ecs_reader.c -- NDJSON input for every ecs program. Lines of any length up
 * to --max-line come from the file operands in order ("-" is stdin), with
 * CRLF, blank lines and a missing final newline accepted. An input that
 * starts with the gzip magic bytes is decompressed as it is read (zlib),
 * its members one after another as zcat does. Output is flushed just before
 * a read that would block, so a live pipeline sees results at once. Every
 * bad line is reported as file:line: reason, counted, and with --reject
 * appended verbatim to a dead-letter file: nothing is lost. With -i csv|tsv
 * the lines are rows that ecs_csv.c turns into NDJSON lines.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "ecs.h"

#define READ_BUFSIZE	(128 * 1024)
#define ZIN_BUFSIZE	READ_BUFSIZE	/* holds the first buffer read */
#define JSON_DEPTH	64

static char *stdin_operand[] = { "-" };

/*
 * Bytes a line may occupy in the buffer: --max-line, a CR and the newline.
 * The buffer holds one more, for the NUL after a last line.
 */
static size_t
max_buffered(void)
{
	return ecs_config.max_line + 2;
}

void
ecs_reader_check_output(const struct ecs_reader *rd, int fd, const char *name)
{
	struct stat out, in;
	const char *file;
	int i;

	if (fstat(fd, &out) == -1 || !S_ISREG(out.st_mode))
		return;
	for (i = 0; i < rd->nfiles; i++) {
		file = rd->files[i];
		if (strcmp(file, "-") == 0 ? fstat(STDIN_FILENO, &in) :
		    stat(file, &in))
			continue;	/* reported when it is opened */
		if (in.st_dev == out.st_dev && in.st_ino == out.st_ino)
			errx(ECS_EXIT_USAGE, "%s: %s is also an input (it would "
			    "read what it writes)", name,
			    strcmp(file, "-") == 0 ? "<stdin>" : file);
	}
}

void
ecs_reader_init(struct ecs_reader *rd, char **files, int nfiles)
{
	memset(rd, 0, sizeof(*rd));
	rd->files = nfiles > 0 ? files : stdin_operand;
	rd->nfiles = nfiles > 0 ? nfiles : 1;
	rd->fd = -1;
	rd->reject_fd = -1;
	rd->cap = READ_BUFSIZE;
	if (rd->cap > max_buffered() + 1)
		rd->cap = max_buffered() + 1;
	rd->buf = ecs_xmalloc(rd->cap);
	rd->tok = json_tokener_new_ex(JSON_DEPTH);
	if (rd->tok == NULL)
		err(ECS_EXIT_DATA, "out of memory");
	json_tokener_set_flags(rd->tok,
	    JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	if (ecs_config.input_format != ECS_INPUT_NDJSON)
		rd->csv = ecs_csv_create(ecs_config.input_format ==
		    ECS_INPUT_TSV ? '\t' : ',');
	if (ecs_config.reject_path != NULL) {
		rd->reject_fd = open(ecs_config.reject_path,
		    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
		if (rd->reject_fd == -1)
			err(ECS_EXIT_DATA, "%s", ecs_config.reject_path);
		ecs_reader_check_output(rd, rd->reject_fd, "--reject");
	}
	ecs_reader_check_output(rd, STDOUT_FILENO, "<stdout>");
	ecs_stats_start(rd);
}

void
ecs_reader_init_side(struct ecs_reader *rd, char **files, int nfiles)
{
	ecs_reader_init(rd, files, nfiles);
	ecs_stats_stream(NULL);		/* the events' reader will be */
}

/* Opens the next operand that can be opened; false when none is left. */
static bool
open_next(struct ecs_reader *rd)
{
	struct stat st;
	const char *file;

	while (rd->next_file < rd->nfiles) {
		file = rd->files[rd->next_file++];
		if (strcmp(file, "-") == 0) {
			rd->fd = STDIN_FILENO;
			rd->name = "<stdin>";
		} else if ((rd->fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
			warn("%s", file);
			rd->status = ECS_EXIT_DATA;
			continue;
		} else
			rd->name = file;
		rd->fd_is_regular = fstat(rd->fd, &st) == 0 && S_ISREG(st.st_mode);
		rd->lineno = rd->last_line = 0;
		rd->zerr[0] = '\0';
		rd->start = rd->end = 0;
		rd->eof = false;
		rd->at_start = true;
		return true;
	}
	return false;
}

/*
 * At the end of an input: reports gzip data that ended early, with the
 * last line read from it, then closes the input.
 */
static void
close_current(struct ecs_reader *rd)
{
	if (rd->zerr[0] != '\0') {
		if (rd->last_line == 0)
			warnx("%s: %s", rd->name, rd->zerr);
		else
			warnx("%s:%llu: %s after this line", rd->name,
			    rd->last_line, rd->zerr);
		rd->status = ECS_EXIT_DATA;
	}
	if (rd->z != NULL) {
		inflateEnd(rd->z);
		free(rd->z);
		free(rd->zin);
		rd->z = NULL;
		rd->zin = NULL;
	}
	if (rd->fd != STDIN_FILENO)
		close(rd->fd);
	rd->fd = -1;
}

/*
 * Before a read that would block: flushes the output, so a live pipeline
 * sees results at once, and runs the wait and idle hooks.
 */
static void
wait_for_input(struct ecs_reader *rd)
{
	struct pollfd pfd = { rd->fd, POLLIN, 0 };

	int ready;

	if (rd->fd_is_regular || poll(&pfd, 1, 0) != 0)
		return;
	ecs_out_flush();	/* about to wait: show what we have */
	ecs_stats_poll(rd);
	if (rd->on_wait != NULL)
		rd->on_wait(rd->on_wait_arg);
	/*
	 * Quiet input: tell the program each time idle_ms passes. SIGUSR1
	 * is answered at once (and the quiet time counted again).
	 */
	while (rd->idle_ms > 0 && !ecs_stop_signal) {
		ready = poll(&pfd, 1, rd->idle_ms);
		if (ready > 0 || (ready == -1 && errno != EINTR))
			break;
		if (ready == -1) {
			ecs_stats_poll(rd);
			continue;
		}
		rd->on_idle(rd->on_idle_arg, rd->idle_ms);
		ecs_out_flush();
	}
}

/*
 * Reads up to n bytes of the input into p, again after a signal interrupts
 * it. 0 at the end of the input and after SIGINT/SIGTERM; -1 after a read
 * error, which is reported.
 */
static ssize_t
read_input(struct ecs_reader *rd, void *p, size_t n)
{
	ssize_t got;

	wait_for_input(rd);
	for (;;) {
		if (ecs_stop_signal)
			return 0;
		if (ecs_stats_signal)	/* SIGUSR1, during the read below */
			ecs_stats_poll(rd);
		if ((got = read(rd->fd, p, n)) >= 0)
			return got;
		if (errno != EINTR) {
			warn("%s", rd->name);
			rd->status = ECS_EXIT_DATA;
			return -1;
		}
	}
}

/*
 * At the start of an input whose first bytes, buf[start..end), are the
 * gzip magic: moves them to the compressed side and starts inflating.
 */
static void
start_gzip(struct ecs_reader *rd)
{
	size_t n = rd->end - rd->start;

	rd->z = ecs_xcalloc(1, sizeof(*rd->z));
	rd->zin = ecs_xmalloc(ZIN_BUFSIZE);
	/* 16 + MAX_WBITS: a gzip header and trailer, not zlib's. */
	if (inflateInit2(rd->z, 16 + MAX_WBITS) != Z_OK)
		errx(ECS_EXIT_DATA, "out of memory");
	memcpy(rd->zin, rd->buf + rd->start, n);	/* n < ZIN_BUFSIZE */
	rd->z->next_in = rd->zin;
	rd->z->avail_in = (uInt)n;
	rd->zmember_end = false;
	rd->start = rd->end = 0;
}

/*
 * Decompresses up to n bytes into p, reading compressed input as inflate
 * needs it. Returns the bytes written, 0 at the end of the input, or -1
 * when it ends early or is not gzip data (rd->zerr says why; a read error
 * is reported already); what came before an error is returned first. A gzip member may be followed by another, as in
 * "cat a.gz b.gz", which is read as zcat reads it.
 */
static ssize_t
inflate_input(struct ecs_reader *rd, void *p, size_t n)
{
	z_stream *z = rd->z;
	ssize_t got;
	int ret;

	if (rd->zerr[0] != '\0')
		return -1;
	z->next_out = p;
	z->avail_out = (uInt)n;
	while (z->avail_out == n) {
		if (z->avail_in == 0) {
			if ((got = read_input(rd, rd->zin, ZIN_BUFSIZE)) < 0)
				return -1;
			if (got == 0) {
				if (!rd->zmember_end && !ecs_stop_signal)
					snprintf(rd->zerr, sizeof(rd->zerr),
					    "gzip data truncated");
				return rd->zerr[0] != '\0' ? -1 : 0;
			}
			z->next_in = rd->zin;
			z->avail_in = (uInt)got;
		}
		if (rd->zmember_end) {
			if (z->next_in[0] != 0x1f) {
				snprintf(rd->zerr, sizeof(rd->zerr),
				    "bytes that are not gzip data");
				return -1;
			}
			inflateReset(z);
			rd->zmember_end = false;
		}
		ret = inflate(z, Z_NO_FLUSH);
		if (ret == Z_STREAM_END)
			rd->zmember_end = true;
		else if (ret != Z_OK && ret != Z_BUF_ERROR) {
			snprintf(rd->zerr, sizeof(rd->zerr), "corrupt gzip data "
			    "(%s)", z->msg != NULL ? z->msg : "zlib error");
			break;
		}
	}
	return z->avail_out < n ? (ssize_t)(n - z->avail_out) : -1;
}

/*
 * Reads more input behind what is buffered, first making room. Sets eof at
 * the end of the file, on a read error and after SIGINT/SIGTERM.
 */
static void
fill(struct ecs_reader *rd)
{
	ssize_t n;
	size_t room;

	if (rd->start > 0) {
		memmove(rd->buf, rd->buf + rd->start, rd->end - rd->start);
		rd->end -= rd->start;
		rd->start = 0;
	}
	if (rd->end + 1 >= rd->cap) {
		rd->cap = rd->cap * 2 < max_buffered() + 1 ?
		    rd->cap * 2 : max_buffered() + 1;
		rd->buf = ecs_xrealloc(rd->buf, rd->cap);
	}
	/* One byte stays free for the NUL after a last line. */
	room = rd->cap - rd->end - 1;
	n = rd->z != NULL ? inflate_input(rd, rd->buf + rd->end, room) :
	    read_input(rd, rd->buf + rd->end, room);
	if (n <= 0)
		rd->eof = true;
	else
		rd->end += (size_t)n;
}

static void
write_reject(struct ecs_reader *rd, const void *p, size_t n)
{
	ecs_write_all(rd->reject_fd, p, n, ecs_config.reject_path);
}

/*
 * Counts a bad line, warns, and stops the program under --strict or past
 * --max-errors. The line itself has been written to --reject already.
 */
static void
count_bad(struct ecs_reader *rd, const char *fmt, va_list ap)
{
	rd->nbad++;
	if (rd->reject_fd != -1)
		rd->nrejected++;
	if (!ecs_config.quiet) {
		ecs_stats_clear();
		fprintf(stderr, "%s: %s:%llu: ", program_invocation_short_name,
		    rd->name, rd->lineno);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	if (ecs_config.max_errors >= 0 &&
	    rd->nbad > (unsigned long long)ecs_config.max_errors) {
		ecs_out_flush();
		if (ecs_config.max_errors == 0)
			errx(ECS_EXIT_DATA, "stopped at the first bad line "
			    "(--strict)");
		errx(ECS_EXIT_DATA, "stopped after %lld bad lines "
		    "(--max-errors)", ecs_config.max_errors + 1);
	}
}

void
ecs_reader_bad(struct ecs_reader *rd, const char *fmt, ...)
{
	va_list ap;

	if (rd->reject_fd != -1) {
		if (rd->raw != NULL)
			write_reject(rd, rd->raw, rd->rawlen);
		else
			write_reject(rd, rd->line, rd->len);
		write_reject(rd, "\n", 1);
	}
	va_start(ap, fmt);
	count_bad(rd, fmt, ap);
	va_end(ap);
}

static void
report_long(struct ecs_reader *rd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	count_bad(rd, fmt, ap);
	va_end(ap);
}

/*
 * The buffer holds more than --max-line bytes and no newline: stream the
 * rest of the line to --reject (or past it) without holding it in memory.
 */
static void
skip_long_line(struct ecs_reader *rd)
{
	char *nl;
	size_t n;

	rd->lineno = ++rd->last_line;
	rd->nread++;
	rd->nlines++;
	rd->raw = NULL;
	for (;;) {
		nl = memchr(rd->buf + rd->start, '\n', rd->end - rd->start);
		n = nl != NULL ? (size_t)(nl - rd->buf) - rd->start :
		    rd->end - rd->start;
		if (rd->reject_fd != -1)
			write_reject(rd, rd->buf + rd->start, n);
		if (nl != NULL) {
			rd->start += n + 1;
			break;
		}
		rd->start = rd->end = 0;
		if (rd->eof)
			break;
		fill(rd);
	}
	if (rd->reject_fd != -1)
		write_reject(rd, "\n", 1);
	report_long(rd, "line longer than %zu bytes (--max-line)",
	    ecs_config.max_line);
}

static bool
is_blank(const char *p, size_t n)
{
	for (; n > 0; n--, p++)
		if (*p != ' ' && *p != '\t')
			return false;
	return true;
}

/*
 * At the start of an input, once two bytes are there or it has ended:
 * gzip data (magic 1f 8b) is read through inflate from here on.
 */
static void
detect_gzip(struct ecs_reader *rd)
{
	const unsigned char *p = (const unsigned char *)rd->buf + rd->start;

	if (rd->end - rd->start < 2 && !rd->eof) {
		fill(rd);
		return;
	}
	rd->at_start = false;
	if (rd->end - rd->start >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
		start_gzip(rd);
		rd->eof = false;
	}
}

bool
ecs_reader_raw_line(struct ecs_reader *rd)
{
	char *p, *nl;
	size_t avail, n;
	bool last;

	for (;;) {
		if (rd->at_start) {
			detect_gzip(rd);
			continue;
		}
		p = rd->buf + rd->start;
		avail = rd->end - rd->start;
		last = false;
		if ((nl = memchr(p, '\n', avail)) != NULL)
			rd->start += (size_t)(nl - p) + 1;
		else if (avail >= max_buffered()) {
			skip_long_line(rd);
			continue;
		} else if (!rd->eof) {
			fill(rd);
			continue;
		} else if (avail == 0)
			return false;
		else {
			nl = p + avail;		/* no final newline */
			rd->start = rd->end;
			last = true;
		}
		n = (size_t)(nl - p);
		*nl = '\0';
		rd->lineno = ++rd->last_line;
		rd->nread++;
		if (n > 0 && p[n - 1] == '\r')
			p[--n] = '\0';
		rd->line = p;
		rd->len = n;
		rd->raw = NULL;
		if (last && rd->zerr[0] != '\0') {
			/* What gzip data that ended early left of a line. */
			rd->nlines++;
			ecs_reader_bad(rd, "line cut short: %s", rd->zerr);
			rd->zerr[0] = '\0';	/* reported */
			rd->status = ECS_EXIT_DATA;
			continue;
		}
		return true;
	}
}

/* The next non-blank line of the current input; false at its end. */
static bool
ndjson_line(struct ecs_reader *rd)
{
	while (ecs_reader_raw_line(rd)) {
		if (is_blank(rd->line, rd->len))
			continue;
		rd->nlines++;
		if (rd->len > ecs_config.max_line) {
			ecs_reader_bad(rd, "line longer than %zu bytes "
			    "(--max-line)", ecs_config.max_line);
			continue;
		}
		return true;
	}
	return false;
}

bool
ecs_reader_line(struct ecs_reader *rd)
{
	for (;;) {
		if (rd->fd == -1 && (ecs_stop_signal || !open_next(rd)))
			return false;
		if (rd->csv != NULL ? ecs_csv_next(rd) : ndjson_line(rd)) {
			/* SIGUSR1, or --progress looking at the clock. */
			if (ecs_stats_signal || (ecs_config.progress &&
			    (++rd->ticks & 1023) == 0))
				ecs_stats_poll(rd);
			return true;
		}
		close_current(rd);
	}
}

static const char *
type_article(enum json_type t)
{
	switch (t) {
	case json_type_array:	return "an array";
	case json_type_string:	return "a string";
	case json_type_int:
	case json_type_double:	return "a number";
	case json_type_boolean:	return "a boolean";
	default:		return "null";
	}
}

struct json_object *
ecs_reader_parse(struct ecs_reader *rd)
{
	struct json_object *rec;
	enum json_tokener_error jerr;
	const char *nul, *not_json;
	char why[80];
	size_t end, col;

	rd->nparsed++;
	/* The NUL after the line tells json-c the input is complete. */
	rec = json_tokener_parse_ex(rd->tok, rd->line, (int)rd->len + 1);
	jerr = json_tokener_get_error(rd->tok);
	end = json_tokener_get_parse_end(rd->tok);
	json_tokener_reset(rd->tok);
	if (rec != NULL && json_object_is_type(rec, json_type_object) &&
	    end >= rd->len) {
		not_json = ecs_json_not_rfc8259(rd->line, rd->len, &col, why,
		    sizeof(why));
		if (not_json == NULL)
			return ecs_json_exact_ints(rd->tok, rd->line, rd->len,
			    rec);
		ecs_reader_bad(rd, "invalid JSON at column %zu: %s", col,
		    not_json);
		json_object_put(rec);
		return NULL;
	}
	/* json-c stops at a NUL as if the line ended there. */
	nul = memchr(rd->line, '\0', rd->len);
	if (nul != NULL && (size_t)(nul - rd->line) <= end)
		ecs_reader_bad(rd, "invalid JSON at column %zu: NUL byte",
		    (size_t)(nul - rd->line) + 1);
	else if (rec != NULL && end < rd->len)
		ecs_reader_bad(rd, "invalid JSON at column %zu: "
		    "unexpected text after the value", end + 1);
	else if (rec != NULL || jerr == json_tokener_success)
		ecs_reader_bad(rd, "not a JSON object (found %s)",
		    type_article(json_object_get_type(rec)));
	else if (jerr == json_tokener_error_depth)
		ecs_reader_bad(rd, "invalid JSON: nested deeper than %d levels",
		    JSON_DEPTH);
	else if (jerr == json_tokener_continue ||
	    jerr == json_tokener_error_parse_eof || end >= rd->len)
		ecs_reader_bad(rd, "invalid JSON: unexpected end of line "
		    "(truncated?)");
	else
		ecs_reader_bad(rd, "invalid JSON at column %zu: %s", end + 1,
		    json_tokener_error_desc(jerr));
	json_object_put(rec);
	return NULL;
}

int
ecs_reader_finish(struct ecs_reader *rd)
{
	int status = rd->status;

	if (rd->fd != -1)
		close_current(rd);
	status |= ecs_stats_finish(rd);
	if (rd->nbad > 0) {
		if (rd->nrejected == rd->nbad)
			warnx("%llu bad line%s of %llu written to %s",
			    rd->nbad, rd->nbad == 1 ? "" : "s", rd->nlines,
			    ecs_config.reject_path);
		else {
			warnx("%llu bad line%s of %llu skipped", rd->nbad,
			    rd->nbad == 1 ? "" : "s", rd->nlines);
			status = ECS_EXIT_DATA;
		}
	}
	if (rd->reject_fd != -1 && close(rd->reject_fd) == -1) {
		warn("write error on %s", ecs_config.reject_path);
		status = ECS_EXIT_DATA;
	}
	json_tokener_free(rd->tok);
	ecs_csv_free(rd->csv);
	free(rd->buf);
	return status;
}
