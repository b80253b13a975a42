/* SPDX-License-Identifier: ISC */
/*
 * ecs_stats.c -- what a run has done, for the person watching it and for
 * monitoring: --progress (lines per second and, when every input is a
 * regular file, percent and ETA), SIGUSR1 (the counters on standard error,
 * as dd prints its own) and --stats FILE (the same counters as one JSON
 * object at the end of the input). The reader drives all three, so every
 * program that reads has them; ecs-gen, which has no input, drives them
 * itself. A program adds its own counters (kept, written, late, keys,
 * windows or sessions open) through ecs_stats_hook.
 *
 * The signal handler only sets a flag: the reader prints, between lines or
 * while it waits for input (a blocked read returns EINTR, as for SIGINT).
 * Nothing is written to standard output.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ecs.h"
#include "ecs_buf.h"

/* --progress: how often the line is drawn again, in ms. */
#define PROGRESS_TTY_MS		500
#define PROGRESS_LINE_MS	5000

volatile sig_atomic_t ecs_stats_signal;

static void	(*fill_hook)(struct ecs_counters *);
static const struct ecs_reader *stream;	/* whose lines are counted */
static unsigned long long total_lines;	/* of a program without input, or 0 */
static int	 stats_fd = -1;		/* --stats */
static struct timespec started;

/* --progress */
static bool	 on_tty;
static bool	 drawn;			/* a tty line is showing */
static int64_t	 last_draw_ms;
static unsigned long long last_lines;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double
seconds_since_start(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - started.tv_sec) +
	    (double)(ts.tv_nsec - started.tv_nsec) / 1e9;
}

static void
on_usr1(int sig)
{
	(void)sig;
	ecs_stats_signal = 1;
}

void
ecs_stats_hook(void (*fill)(struct ecs_counters *))
{
	fill_hook = fill;
}

void
ecs_stats_start(const struct ecs_reader *rd)
{
	struct sigaction sa;

	if (stream != NULL)
		return;		/* a second reader: the first one is counted */
	stream = rd;	/* NULL: a program without input */
	if (started.tv_sec != 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &started);
	last_draw_ms = now_ms();
	on_tty = isatty(STDERR_FILENO);
	/* No SA_RESTART: a blocked read returns EINTR, and the reader prints. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	if (ecs_config.stats_path != NULL) {
		stats_fd = open(ecs_config.stats_path,
		    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (stats_fd == -1)
			err(ECS_EXIT_DATA, "%s", ecs_config.stats_path);
		if (rd != NULL)
			ecs_reader_check_output(rd, stats_fd, "--stats");
	}
}

void
ecs_stats_stream(const struct ecs_reader *rd)
{
	stream = rd;
}

void
ecs_stats_total(unsigned long long lines)
{
	total_lines = lines;
}

/* The counters now: the reader's, the program's, the process's. */
static void
collect(const struct ecs_reader *rd, struct ecs_counters *c)
{
	unsigned long long pages = 0, resident = 0;
	FILE *fp;

	memset(c, 0, sizeof(*c));
	c->kept = c->written = c->late = c->keys = c->open = ECS_COUNT_NONE;
	if (fill_hook != NULL)
		fill_hook(c);
	c->lines = rd != NULL ? rd->nlines : ECS_COUNT_NONE;
	c->rejected = rd != NULL ? rd->nbad : ECS_COUNT_NONE;
	c->parsed = rd != NULL ? rd->nparsed : ECS_COUNT_NONE;
	c->resident = ECS_COUNT_NONE;
	if ((fp = fopen("/proc/self/statm", "re")) != NULL) {
		if (fscanf(fp, "%llu %llu", &pages, &resident) == 2)
			c->resident = resident * (unsigned long long)
			    sysconf(_SC_PAGESIZE);
		fclose(fp);
	}
}

/* Takes a tty progress line off the screen before other text. */
void
ecs_stats_clear(void)
{
	if (drawn) {
		fputs("\r\033[K", stderr);
		drawn = false;
	}
}

/* " 12 kept" etc. for the counters the program keeps. */
static void
print_counter(FILE *fp, unsigned long long v, const char *what)
{
	if (v != ECS_COUNT_NONE)
		fprintf(fp, ", %llu %s", v, what);
}

static void
report(const struct ecs_reader *rd)
{
	struct ecs_counters c;

	collect(rd, &c);
	ecs_stats_clear();
	if (rd != NULL)
		fprintf(stderr, "%s: %llu lines in",
		    program_invocation_short_name, c.lines);
	else
		fprintf(stderr, "%s: %llu lines written",
		    program_invocation_short_name, c.written);
	print_counter(stderr, c.kept, "kept");
	print_counter(stderr, c.rejected, "rejected");
	print_counter(stderr, c.late, "late");
	print_counter(stderr, c.keys, "keys held");
	if (c.open != ECS_COUNT_NONE)
		fprintf(stderr, ", %llu %s open", c.open,
		    c.open_what != NULL ? c.open_what : "windows");
	if (c.resident != ECS_COUNT_NONE)
		fprintf(stderr, ", %.1f MiB resident",
		    (double)c.resident / (1024 * 1024));
	fprintf(stderr, ", %.1f s\n", seconds_since_start());
}

/*
 * Bytes of the regular files among rd's inputs: all of them (*total) and
 * those read so far (*done). False when an input is not a regular file:
 * its size is unknown.
 */
static bool
input_position(const struct ecs_reader *rd, long long *done, long long *total)
{
	struct stat st;
	const char *file;
	off_t pos;
	int i;

	*done = *total = 0;
	for (i = 0; i < rd->nfiles; i++) {
		file = rd->files[i];
		if (strcmp(file, "-") == 0 ? fstat(STDIN_FILENO, &st) :
		    stat(file, &st))
			return false;
		if (!S_ISREG(st.st_mode))
			return false;
		*total += st.st_size;
		/* Those before the current one, or all after the last. */
		if (i < rd->next_file - 1 ||
		    (i < rd->next_file && rd->fd == -1))
			*done += st.st_size;
		else if (i == rd->next_file - 1 && rd->fd != -1 &&
		    (pos = lseek(rd->fd, 0, SEEK_CUR)) != -1)
			*done += pos;	/* ahead by what is buffered */
	}
	return *total > 0;
}

/* Lines read, or written by a program without input. */
static unsigned long long
lines_done(const struct ecs_reader *rd)
{
	struct ecs_counters c;

	if (rd != NULL)
		return rd->nlines;
	collect(NULL, &c);
	return c.written != ECS_COUNT_NONE ? c.written : 0;
}

/*
 * How far the run is, when it is known: bytes of the regular files read,
 * or lines of a known total written.
 */
static bool
position(const struct ecs_reader *rd, unsigned long long lines,
    long long *done, long long *total)
{
	if (rd != NULL)
		return input_position(rd, done, total);
	*done = (long long)lines;
	*total = (long long)total_lines;
	return total_lines > 0;
}

static void
draw(const struct ecs_reader *rd, int64_t now, bool last)
{
	double rate, secs = seconds_since_start(), eta;
	unsigned long long lines = lines_done(rd);
	long long done, total;
	int64_t span = now - last_draw_ms;

	if (last)	/* the average of the whole run */
		rate = secs > 0 ? (double)lines / secs : 0;
	else
		rate = span > 0 ? (double)(lines - last_lines) * 1000 /
		    (double)span : 0;
	if (on_tty)
		fputc('\r', stderr);
	fprintf(stderr, "%s: %llu lines, %.0f lines/s",
	    program_invocation_short_name, lines, rate);
	if (position(rd, lines, &done, &total)) {
		if (done > total)
			done = total;
		fprintf(stderr, ", %.0f%%", 100.0 * (double)done /
		    (double)total);
		if (!last && done > 0) {
			eta = secs * (double)(total - done) / (double)done;
			fprintf(stderr, ", ETA %lld:%02lld", (long long)eta / 60,
			    (long long)eta % 60);
		}
	}
	if (on_tty && !last) {
		fputs("\033[K", stderr);
		drawn = true;
	} else {
		fputs(on_tty ? "\033[K\n" : "\n", stderr);
		drawn = false;
	}
	last_draw_ms = now;
	last_lines = lines;
}

void
ecs_stats_poll(const struct ecs_reader *rd)
{
	int64_t now;

	if (ecs_stats_signal) {
		ecs_stats_signal = 0;
		report(rd);
	}
	if (!ecs_config.progress || rd != stream)
		return;
	now = now_ms();
	if (now - last_draw_ms >= (on_tty ? PROGRESS_TTY_MS : PROGRESS_LINE_MS))
		draw(rd, now, false);
}

/* Writes all of s to --stats, at its start; false after a write error. */
static bool
write_stats(const char *s, size_t len)
{
	ssize_t n;
	size_t off = 0;

	if (ftruncate(stats_fd, 0) == -1)
		return false;
	while (off < len) {
		n = pwrite(stats_fd, s + off, len - off, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		off += (size_t)n;
	}
	return true;
}

static void
json_counter(struct ecs_buf *b, const char *name, unsigned long long v)
{
	if (v == ECS_COUNT_NONE)
		return;
	ecs_buf_putc(b, ',');
	ecs_buf_json_string(b, name, strlen(name));
	ecs_buf_putc(b, ':');
	ecs_buf_uint(b, v);
}

int
ecs_stats_finish(const struct ecs_reader *rd)
{
	struct ecs_counters c;
	struct ecs_buf b = ECS_BUF_INIT;
	int status = 0;

	if (rd != stream)
		return 0;
	stream = NULL;
	if (ecs_stats_signal) {
		ecs_stats_signal = 0;
		report(rd);
	}
	if (ecs_config.progress && lines_done(rd) > 0)
		draw(rd, now_ms(), true);
	if (stats_fd == -1)
		return 0;
	collect(rd, &c);
	ecs_buf_puts(&b, "{\"program\":");
	ecs_buf_json_string(&b, program_invocation_short_name,
	    strlen(program_invocation_short_name));
	json_counter(&b, "lines", c.lines);
	json_counter(&b, "kept", c.kept);
	json_counter(&b, "written", c.written);
	json_counter(&b, "rejected", c.rejected);
	json_counter(&b, "parsed", c.parsed);
	json_counter(&b, "late", c.late);
	json_counter(&b, "keys", c.keys);
	json_counter(&b, c.open_what != NULL ? c.open_what : "windows", c.open);
	json_counter(&b, "resident_bytes", c.resident);
	ecs_buf_puts(&b, ",\"seconds\":");
	ecs_buf_double(&b, seconds_since_start(), 3);
	ecs_buf_puts(&b, "}\n");
	if (!write_stats(b.p, b.len)) {
		warn("write error on %s", ecs_config.stats_path);
		status = ECS_EXIT_DATA;
	}
	ecs_buf_free(&b);
	return status;
}
