/* SPDX-License-Identifier: ISC */
/*
 * ecs.h -- the small library every ecs program links: buffered output that
 * flushes before blocking, the line reader with its bad-line accounting, the
 * options all programs share, field paths, JSON values and numbers, exact
 * decimals, the fast scanner and fields, maps, state files and time. The
 * engines have headers of their own: ecs_expr.h (the expression language)
 * and ecs_sketch.h (distinct counts, quantiles, heavy hitters).
 *
 * Ownership rule, as in jq's jv.h: a function that returns a pointer says
 * in its comment who owns the result; anything "borrowed" lives at most
 * until the next call on the object it came from (for records, until the
 * reader moves to the next line).
 */
#ifndef ECS_H
#define ECS_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <json-c/json.h>

enum ecs_exit {
	ECS_EXIT_OK = 0,
	ECS_EXIT_DATA = 1,	/* runtime or data error, bad lines skipped */
	ECS_EXIT_USAGE = 2,
};

/* ecs_util.c -- allocation that dies on failure, signals, exit */

void	*ecs_xmalloc(size_t);
void	*ecs_xcalloc(size_t, size_t);
void	*ecs_xrealloc(void *, size_t);
char	*ecs_xstrdup(const char *);
char	*ecs_xstrndup(const char *, size_t);

/* Set by SIGINT/SIGTERM: the reader stops at the next read. */
extern volatile int ecs_stop_signal;

/*
 * Ignores SIGPIPE (a closed stdout is seen as EPIPE by ecs_out, which ends
 * the program quietly) and makes SIGINT/SIGTERM stop reading instead of
 * killing the program, so what was read is processed and flushed.
 */
void	 ecs_signals_init(void);

/* ecs_out.c -- stdout with a large buffer, flushed before input blocks */

void	 ecs_out_write(const void *, size_t);
void	 ecs_out_puts(const char *);
void	 ecs_out_putc(char);
/* Writes the line p[0..n), which holds no newline, and a newline. */
void	 ecs_out_line(const char *p, size_t n);
struct ecs_scan_tops;
/*
 * ecs_out_line of a line whose top-level members the scan found (tops,
 * borrowed; NULL, or tops->line other than p, when it did not): -o csv
 * and tsv then write its row from them.
 */
void	 ecs_out_line_tops(const char *p, size_t n,
	    const struct ecs_scan_tops *tops);
/* Writes everything buffered; a write error ends the program (EPIPE with 0). */
void	 ecs_out_flush(void);
/*
 * Flushes and closes stdout; 0, or 1 after reporting a late write error or
 * an output record that -o could not convert.
 */
int	 ecs_out_close(void);
/*
 * Writes all of buf[0..n) to fd (standard output, a --reject or --late
 * file), again after a signal interrupts or while fd would block; a write
 * error ends the program (exit 1), EPIPE on standard output quietly (0).
 */
void	 ecs_write_all(int fd, const void *buf, size_t n, const char *name);

/*
 * ecs_table.c -- NDJSON output lines as CSV, TSV or an aligned table (-o),
 * as Miller 6 writes them; ecs_out sends its lines through it.
 */

enum ecs_output_format {
	ECS_OUTPUT_NDJSON,
	ECS_OUTPUT_CSV,
	ECS_OUTPUT_TSV,
	ECS_OUTPUT_TABLE,
};

struct ecs_table;

/* A converter that hands what it writes to write(); owned by the caller. */
struct ecs_table *ecs_table_create(enum ecs_output_format,
	    void (*write)(const void *, size_t));
/*
 * Converts one line (a JSON object, without its newline). A line that is
 * not one is reported and left out: false, and destroy returns 1.
 */
bool	 ecs_table_line(struct ecs_table *, const char *line, size_t len);
/*
 * ecs_table_line given the line's top-level members as the scan found
 * them (tops, borrowed, or NULL): a CSV or TSV row under the current
 * header is written from them, without a second walk over the line.
 */
bool	 ecs_table_line_tops(struct ecs_table *, const char *line, size_t len,
	    const struct ecs_scan_tops *tops);
/* For a table: writes the rows held, so a live pipeline sees them. */
void	 ecs_table_flush(struct ecs_table *);
/* Writes what is held and frees t; 0, or 1 when a line was left out. */
int	 ecs_table_destroy(struct ecs_table *);

/* ecs_opt.c -- the options every program takes */

struct ecs_path;

struct ecs_field_map {
	char		*canon;		/* canonical name, e.g. "user_id" */
	struct ecs_path	*path;		/* where it is in the input */
};

struct ecs_action_alias {
	char	*input;			/* e.g. "view" */
	char	*canon;			/* e.g. "browse" */
};

enum ecs_input_format {
	ECS_INPUT_NDJSON,
	ECS_INPUT_CSV,
	ECS_INPUT_TSV,
};

struct ecs_config {
	bool			 quiet;		/* -q */
	enum ecs_input_format	 input_format;	/* -i */
	enum ecs_output_format	 output_format;	/* -o */
	long long		 max_errors;	/* --max-errors; -1 unlimited */
	const char		*reject_path;	/* --reject */
	size_t			 max_line;	/* --max-line */
	struct ecs_field_map	*fields;	/* --map */
	size_t			 nfields;
	struct ecs_action_alias	*actions;	/* --map-action */
	size_t			 nactions;
	bool			 progress;	/* --progress */
	const char		*stats_path;	/* --stats */
};

extern struct ecs_config ecs_config;

enum {
	ECS_OPT_STRICT = 0x100,
	ECS_OPT_REJECT,
	ECS_OPT_MAX_ERRORS,
	ECS_OPT_MAX_LINE,
	ECS_OPT_MAP,
	ECS_OPT_MAP_ACTION,
	ECS_OPT_PROGRESS,
	ECS_OPT_STATS,
	ECS_OPT_TOOL		/* first value free for a tool's long options */
};

#define ECS_COMMON_SHORTOPTS	"hi:o:qV"
#define ECS_COMMON_LONGOPTS						\
	{ "help",	no_argument,		NULL, 'h' },		\
	{ "input-format", required_argument,	NULL, 'i' },		\
	{ "map",	required_argument,	NULL, ECS_OPT_MAP },	\
	{ "map-action",	required_argument,	NULL, ECS_OPT_MAP_ACTION }, \
	{ "max-errors",	required_argument,	NULL, ECS_OPT_MAX_ERRORS }, \
	{ "max-line",	required_argument,	NULL, ECS_OPT_MAX_LINE }, \
	{ "output-format", required_argument,	NULL, 'o' },		\
	{ "progress",	no_argument,		NULL, ECS_OPT_PROGRESS }, \
	{ "quiet",	no_argument,		NULL, 'q' },		\
	{ "reject",	required_argument,	NULL, ECS_OPT_REJECT },	\
	{ "stats",	required_argument,	NULL, ECS_OPT_STATS },	\
	{ "strict",	no_argument,		NULL, ECS_OPT_STRICT },	\
	{ "version",	no_argument,		NULL, 'V' }

/*
 * Handles one of the shared options (all but -h, which each program answers
 * with its own usage). Returns false when ch is not a shared option. A bad
 * value is a usage error: the program exits 2 with a message.
 */
bool	 ecs_common_option(int ch, const char *arg);
/* The shared options' lines for a program's --help. */
void	 ecs_common_usage(FILE *);
/*
 * Prints "PROGRAM VERSION" and, built from a git checkout, " (git
 * DESCRIBE)" for -V/--version; the one place every program's version is.
 */
void	 ecs_version_print(FILE *);
/* git describe --always --dirty of the build's checkout, or "". */
extern const char ecs_git_describe[];
/* Canonical action name for an input action value (--map-action), or NULL. */
const char *ecs_action_canon(const char *value, size_t len, size_t *canon_len);
/* Parses "16M"-style sizes; false when s is not one. */
bool	 ecs_parse_size(const char *s, unsigned long long *out);
/* An option's count from lo to hi, or a usage error (exit 2). */
unsigned long long ecs_opt_count(const char *opt, const char *arg,
	    unsigned long long lo, unsigned long long hi);
/* An option's time (as ecs_time_parse), or a usage error (exit 2). */
int64_t	 ecs_opt_time(const char *opt, const char *arg);
/* An option's duration in ms (as ecs_duration_parse), or a usage error. */
int64_t	 ecs_opt_duration(const char *opt, const char *arg);
/* An option's percentage, above 0 (and below 10^6), or a usage error. */
double	 ecs_opt_percent(const char *opt, const char *arg);

/*
 * ecs_path.c -- field paths: user_id, user.address.city, items.0,
 * items[0].price, a."b c"
 */

struct ecs_seg {
	char	*key;			/* owned; may hold NUL bytes */
	size_t	 len;
	long	 index;			/* array index, or -1 if not all digits */
	bool	 bracket;		/* written [N]: indexes arrays only */
};

struct ecs_path {
	struct ecs_seg	*seg;
	size_t		 nseg;
	char		*text;		/* as written, for messages */
	bool		 is_action;	/* the canonical "action": aliases apply */
};

/* A new empty path; owned by the caller (ecs_path_free). */
struct ecs_path	*ecs_path_new(const char *text);
/* Appends a copy of key[0..len) as the last segment. */
void	 ecs_path_push(struct ecs_path *, const char *key, size_t len);
/*
 * Appends the array index "[N]" at *sp (on its '[') and moves *sp past it;
 * false with *err set (static text) when it is not one.
 */
bool	 ecs_path_push_index(struct ecs_path *, const char **sp,
	    const char **err);
/*
 * Compiles an option's path ("a.b", "a.\"b.c\".0", "items[0].price");
 * NULL with *err set (static text) when it is not one. Owned by the caller.
 */
struct ecs_path	*ecs_path_compile(const char *text, const char **err);
/* Rewrites the first segment through --map, and marks "action". */
void	 ecs_path_apply_map(struct ecs_path *);
/*
 * Finds the value at path in rec: false when missing; else *val is the
 * value borrowed from rec, NULL for a JSON null (json-c's representation).
 */
bool	 ecs_path_find(const struct ecs_path *, struct json_object *rec,
	    struct json_object **val);
/* The value at path in rec, borrowed; NULL when missing or null. */
struct json_object *ecs_path_get(const struct ecs_path *, struct json_object *rec);
void	 ecs_path_free(struct ecs_path *);

/* ecs_json.c -- numbers, typed getters, rendering */

/* Writes s[0..len) as a JSON string, quoted and escaped. */
void	 ecs_out_json_string(const char *s, size_t len);

struct ecs_num {
	bool	 is_int;
	int64_t	 i;			/* when is_int */
	double	 d;			/* always set */
};

/*
 * Reads the string literal at s (on its " or ' quote) with JSON escapes.
 * On success *out (owned by the caller, NUL-terminated, may hold NULs) and
 * *outlen are set and *end points past the closing quote; on failure *end
 * points at the offending character.
 */
bool	 ecs_unquote(const char *s, const char **end, char **out, size_t *outlen);
/* Parses s[0..len) if it is exactly one JSON number. */
bool	 ecs_num_parse(const char *s, size_t len, struct ecs_num *);
/* A JSON number, or a string that is exactly a JSON number. */
bool	 ecs_num_from_json(struct json_object *, struct ecs_num *);
/* -1, 0 or 1; exact for two integers. NaN compares unordered: returns 2. */
int	 ecs_num_cmp(const struct ecs_num *, const struct ecs_num *);
/*
 * json-c clamps an integer beyond 64 bits to the nearest limit, so two
 * 30-digit ids would read as one. For rec, just parsed from the valid JSON
 * line[0..len) with tok (reset), returns rec or, when the line holds such
 * integers, a new parse (rec released) in which each is a double that keeps
 * its text as written (json-c keeps a double's source text). Owned by the
 * caller.
 */
struct json_object *ecs_json_exact_ints(struct json_tokener *tok,
	    const char *line, size_t len, struct json_object *rec);
/* Writes v as text: strings raw, others as compact JSON, NULL as nothing. */
void	 ecs_out_value(struct json_object *v);
/* Writes v as compact JSON (no slash escaping) and nothing else. */
void	 ecs_out_json(struct json_object *v);

/* ecs_decimal.c -- exact decimal arithmetic for money */

__extension__ typedef __int128 ecs_i128;

/* m / 10^scale when exact; d always holds the value as a double. */
struct ecs_dec {
	ecs_i128	 m;
	int		 scale;
	bool		 exact;
	double		 d;
};

/* A JSON number's text, exactly when it has at most 38 digits and scale 18. */
bool	 ecs_dec_parse(const char *s, size_t len, struct ecs_dec *);
void	 ecs_dec_from_int(struct ecs_dec *, int64_t);
void	 ecs_dec_from_double(struct ecs_dec *, double);
/* acc += v and acc *= v; inexact (double) past 38 digits or 18 places. */
void	 ecs_dec_add(struct ecs_dec *acc, const struct ecs_dec *v);
void	 ecs_dec_mul(struct ecs_dec *acc, const struct ecs_dec *v);
void	 ecs_dec_neg(struct ecs_dec *);
/*
 * acc /= v, exact when the quotient ends within 18 places (7.5 / 2.5,
 * 1 / 8), else a double; acc %= v, exact (the sign of acc, as fmod).
 * False, acc unchanged, when v is zero.
 */
bool	 ecs_dec_div(struct ecs_dec *acc, const struct ecs_dec *v);
bool	 ecs_dec_mod(struct ecs_dec *acc, const struct ecs_dec *v);
/* The nearest double to the exact value (so it does not depend on order). */
double	 ecs_dec_to_double(const struct ecs_dec *);
/* -1, 0 or 1: exact for two exact values, else by their doubles. */
int	 ecs_dec_cmp(const struct ecs_dec *, const struct ecs_dec *);
/*
 * v in fixed notation, never with an exponent: rounded to places decimals
 * (trailing zeros dropped), or with places -1 the shortest text that reads
 * back as v (1e17 is 100000000000000000, 1e-7 is 0.0000001). "null" when
 * not finite, never "-0". Only when that does not fit in size (beyond
 * about 1e90 with a 96-byte buffer) is it the shortest exponent form.
 * Returns the length written.
 */
size_t	 ecs_format_double(double v, int places, char *buf, size_t size);
/* Exact: all its digits (19.90 stays 19.90); else ecs_format_double. */
size_t	 ecs_dec_format(const struct ecs_dec *, char *buf, size_t size);
/* sum / count rounded half away from zero to places, zeros trimmed. */
size_t	 ecs_dec_format_ratio(const struct ecs_dec *sum, uint64_t count,
	    int places, char *buf, size_t size);

/* ecs_scan.c -- the fast path in front of json-c */

/*
 * True only if line[0..len) is one JSON object that json-c also accepts,
 * written in the plain subset ecs can check quickly: strict RFC 8259, no
 * backslash escapes, no control bytes, valid UTF-8, depth at most 32.
 * False means "ask json-c", not "invalid".
 */
bool	 ecs_scan_plain_object(const char *line, size_t len);

/*
 * For a line json-c accepted: NULL when it is RFC 8259 JSON, else the
 * reason (static, or why[0..whylen)) and *col, the 1-based column. json-c
 * 0.16 lets NaN, Infinity, single-quoted names, raw control characters in
 * strings and numbers such as -01 or 1. through even in strict mode.
 */
const char *ecs_json_not_rfc8259(const char *line, size_t len, size_t *col,
	    char *why, size_t whylen);

/* A field's value as text: strings without quotes, others as written. */
enum ecs_ftype {
	ECS_F_MISSING, ECS_F_NULL, ECS_F_BOOL, ECS_F_NUMBER, ECS_F_STRING,
	ECS_F_OTHER			/* an object or array */
};

struct ecs_field {
	enum ecs_ftype	 type;
	const char	*text;		/* borrowed from the line or record */
	size_t		 len;
	struct json_object *j;		/* the value, when json-c read it */
};

#define ECS_SCAN_KEY_SLOTS	64
struct ecs_scan_keys {
	const char	**key;
	size_t		 *len;
	size_t		  n;
	/*
	 * The keys' hash table when hashed_n == n (ecs_scan_keys_hash), so
	 * that a scan need not build it for every line; else it does.
	 */
	size_t		  hashed_n;
	unsigned char	  slot[ECS_SCAN_KEY_SLOTS];
};

/* Builds want's hash table for its n keys: call it after each change. */
void	 ecs_scan_keys_hash(struct ecs_scan_keys *want);

/*
 * ecs_scan_plain_object that also captures the values of the top-level
 * keys in want into out[0..want->n) (ECS_F_MISSING when absent; for a
 * repeated key the last, as json-c). Meaningful only when it returns true.
 */
bool	 ecs_scan_fields(const char *line, size_t len,
	    const struct ecs_scan_keys *want, struct ecs_field *out);

/*
 * Where the values of a line's top-level members are, as the scan that
 * accepted it found them, in the line's order: val[0..end) as written, a
 * string with its quotes. A writer can then put the line in columns
 * without walking it again, checking the keys in the bytes between one
 * value and the next. n is 0 for a line with a nested value or more than
 * ECS_SCAN_TOPS members, which such a writer leaves to a full walk.
 */
#define ECS_SCAN_TOPS	64
struct ecs_scan_member {
	const char	*val, *end;
};
struct ecs_scan_tops {
	const char		*line;	/* the line scanned, NULL if refused */
	size_t			 len;
	size_t			 n;
	bool			 flat;	/* all members found, none nested */
	struct ecs_scan_member	 m[ECS_SCAN_TOPS];
};

/* ecs_scan_fields that also finds every top-level member into tops. */
bool	 ecs_scan_fields_tops(const char *line, size_t len,
	    const struct ecs_scan_keys *want, struct ecs_field *out,
	    struct ecs_scan_tops *tops);

/*
 * The scan's path: "portable", "sse2" or "avx2" (x86-64), or NULL for the
 * best this CPU has, the default unless ECS_SCAN names one. Returns 0, -1
 * for an unknown name, -2 when this CPU cannot run it. For tests and
 * benchmarks: every path gives the same answers.
 */
int	 ecs_scan_use(const char *name);
/* The name of path i (0 is "portable"), or NULL past the last. */
const char *ecs_scan_path_name(size_t i);

/* ecs_fields.c -- the fields a program needs, fast when it can be */

struct ecs_reader;

struct ecs_fieldset {
	size_t			 n, cap;
	struct ecs_path		**path;	/* canonical names through --map */
	bool			*owned;	/* path[i] is ours to free */
	size_t			*top;	/* path[i]'s first key in tops */
	struct ecs_scan_keys	 tops;	/* the distinct top-level keys */
	struct ecs_field	*topval; /* their values, captured */
	bool			 fast;	/* every path can be read from bytes */
	/*
	 * When the caller sets it (it keeps the storage), a line captured
	 * from its bytes has every top-level member found into it too;
	 * members->line is NULL for a line json-c read.
	 */
	struct ecs_scan_tops	*members;
	struct json_object	*rec;	/* the record when json-c was needed */
};

/* Compiles the canonical field names canon[0..n) through --map. */
void	 ecs_fields_init(struct ecs_fieldset *, const char *const *canon,
	    size_t n);
/* The slot of a compiled path (borrowed; it must outlive fs), added if new. */
size_t	 ecs_fields_add(struct ecs_fieldset *, const struct ecs_path *);
/*
 * The fields of line[0..len) into out[0..n) straight from its bytes,
 * borrowed from line: false when that cannot be (a line outside the plain
 * subset, or fs has a path the bytes cannot serve), and json-c must judge.
 * Nested paths are followed through objects and arrays as ecs_path_find.
 * A scalar's text is the one json-c writes (the integer -0 is "0"); an
 * object or array is its bytes, which json-c would write compacted.
 */
bool	 ecs_fields_capture(struct ecs_fieldset *, const char *line,
	    size_t len, struct ecs_field *out);
/*
 * Reads the current line's fields into out[0..n), borrowed until the next
 * call: ecs_fields_capture, else through json-c (fs->rec, owned by fs).
 * False when the line is bad: the reader has reported it.
 */
bool	 ecs_fields_read(struct ecs_fieldset *, struct ecs_reader *,
	    struct ecs_field *out);
void	 ecs_fields_finish(struct ecs_fieldset *);
struct ecs_buf;
/*
 * Appends the object or array f, captured from a plain line, to out as
 * json-c writes it (JSON_C_TO_STRING_PLAIN, '/' unescaped): without white
 * space, the integer -0 as 0, every other value as written. False, out
 * as it was, when an object in it repeats a key (json-c keeps one, at the
 * first's place with the last's value) or has keys past a bound: then
 * ask json-c.
 */
bool	 ecs_field_compact(const struct ecs_field *f, struct ecs_buf *out);
/* An integer, also written as a string or as 5.0; false otherwise. */
bool	 ecs_field_int64(const struct ecs_field *, int64_t *);
/* The field is the string s. */
bool	 ecs_field_equals(const struct ecs_field *, const char *s);
/*
 * The field of the value v found (or not) by json-c; its text is
 * borrowed from v.
 */
void	 ecs_field_from_json(struct json_object *v, bool found,
	    struct ecs_field *);

/* A value in a message: its first 40 bytes, escaped (6 bytes at most each). */
#define ECS_SHOWN_BYTES	40
#define ECS_SHOWN_SIZE	(ECS_SHOWN_BYTES * 6 + 8)
/*
 * ": VALUE" for a diagnostic such as "field 'ts' is not a time: \"soon\"":
 * text[0..len), quoted when is_string, control bytes escaped, cut after 40
 * bytes with "...". Returns buf.
 */
const char *ecs_shown(const char *text, size_t len, bool is_string,
	    char buf[static ECS_SHOWN_SIZE]);
/* ecs_shown of a field's value; "" when the field is missing. */
const char *ecs_field_shown(const struct ecs_field *,
	    char buf[static ECS_SHOWN_SIZE]);

/* ecs_map.c -- byte-string keys to fixed-size values, insertion order */

struct ecs_map;

/*
 * A map whose values are value_size bytes each, zero-filled when added;
 * owned by the caller. free_value, when not NULL, releases what a value
 * owns (not the value itself) when its key is deleted or the map destroyed.
 */
struct ecs_map	*ecs_map_create(size_t value_size, void (*free_value)(void *));
void	 ecs_map_destroy(struct ecs_map *);
/*
 * The value of key, or NULL. Value pointers are borrowed and stay valid
 * until the next ecs_map_put.
 */
void	*ecs_map_get(const struct ecs_map *, const char *key, size_t len);
/* ecs_map_get that also gives the key's position (for ecs_map_at). */
void	*ecs_map_find(const struct ecs_map *, const char *key, size_t len,
	    size_t *pos);
/* The value of key, added (zero-filled, *created true) when absent. */
void	*ecs_map_put(struct ecs_map *, const char *key, size_t len,
	    bool *created);
/* Deletes key (freeing its value); false when it was not there. */
bool	 ecs_map_del(struct ecs_map *, const char *key, size_t len);
/* Keys held. */
size_t	 ecs_map_count(const struct ecs_map *);
/*
 * The entry at position pos (from ecs_map_find): its value, and its key
 * borrowed (key and len may be NULL); NULL when that key was deleted.
 */
void	*ecs_map_at(const struct ecs_map *, size_t pos, const char **key,
	    size_t *len);
/*
 * Iterates over the keys held: start with *iter = 0; each call returns the
 * next value and its key (borrowed; key and len may be NULL), or NULL
 * after the last. The order is insertion order, except that a deleted
 * key's place goes to the next key added. Keys may be deleted while
 * iterating; a key added meanwhile may or may not be visited.
 */
void	*ecs_map_next(const struct ecs_map *, size_t *iter, const char **key,
	    size_t *len);

/* ecs_state.c -- state files: NDJSON, saved atomically, checked on load */

struct ecs_state_writer {
	FILE		*fp;
	char		*tmp;		/* the file being written */
	const char	*path;
	unsigned long long nrecords;
};

struct ecs_state_reader {
	FILE		*fp;
	const char	*path;
	unsigned long long lineno, nrecords;
	char		*line;
	size_t		 cap;
	struct json_tokener *tok;
	/*
	 * Owned: the header until ecs_state_close, the last record until the
	 * next; held here, so that a corrupt state's exit leaves nothing that
	 * only a register pointed to (LeakSanitizer under clang saw it).
	 */
	struct json_object *head, *rec;
};

/*
 * Starts a save to path: a temporary file beside it and the header
 * {"ecs_state":program,"version":version} plus header's keys (borrowed).
 * False, after a warning, when the file cannot be made.
 */
bool	 ecs_state_begin(struct ecs_state_writer *, const char *path,
	    const char *program, int version, struct json_object *header);
/* Writes one record (borrowed). */
void	 ecs_state_put(struct ecs_state_writer *, struct json_object *rec);
/*
 * Ends the save: end line, fsync, rename over path. False, after a
 * warning, when any step failed; the previous state file is then intact.
 */
bool	 ecs_state_commit(struct ecs_state_writer *);
/*
 * Opens a saved state: false when path does not exist (a first run). The
 * header is checked and returned in *header (borrowed: valid until
 * ecs_state_close); a file that is not program's state of this version
 * ends the program (exit 1).
 */
bool	 ecs_state_open(struct ecs_state_reader *, const char *path,
	    const char *program, int version, struct json_object **header);
/*
 * The next record (borrowed: valid until the next call or
 * ecs_state_close); NULL after a verified end line.
 */
struct json_object *ecs_state_next(struct ecs_state_reader *);
/* Reports the current line of the state file as corrupt and exits 1. */
_Noreturn void ecs_state_corrupt(const struct ecs_state_reader *,
	    const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The field name of a state line, of type, borrowed; or corrupt (exit 1). */
struct json_object *ecs_state_field(const struct ecs_state_reader *,
	    struct json_object *rec, const char *name, enum json_type type);
/* ecs_state_field of an integer, a double, a boolean. */
int64_t	 ecs_state_int(const struct ecs_state_reader *, struct json_object *rec,
	    const char *name);
double	 ecs_state_double(const struct ecs_state_reader *,
	    struct json_object *rec, const char *name);
bool	 ecs_state_bool(const struct ecs_state_reader *, struct json_object *rec,
	    const char *name);
void	 ecs_state_close(struct ecs_state_reader *);

/*
 * The state of a stateful program (ecs-stock, ecs-sales, ecs-recommend):
 * loaded at start, saved every --checkpoint when a record made it dirty
 * (at a record or while input is quiet) and at exit. The checkpoint counts
 * the lines read by earlier runs and writes the "lines" of the header.
 */
struct ecs_checkpoint {
	const char	*program;	/* the state's "ecs_state" */
	int		 version;
	const char	*path;		/* --state; NULL: no state */
	int64_t		 interval_ms;	/* --checkpoint; 0: at exit only */
	void		(*save)(void);	/* begin, put the records, commit */
	bool		 dirty;		/* set by the program on a change */
	bool		 failed;	/* a save failed: the run exits 1 */
	unsigned	 ticks;		/* lines, for ecs_checkpoint_tick */
	unsigned long long lines_before;	/* read by earlier runs */
	const struct ecs_reader *input;
	struct ecs_state_writer writer;	/* between begin and commit */
	struct timespec	 last;
};

/*
 * --checkpoint: 0 (at exit only) or a duration (bare numbers are seconds),
 * or a usage error (exit 2).
 */
void	 ecs_checkpoint_option(struct ecs_checkpoint *, const char *arg);
/*
 * Opens the saved state at path: false on a first run. Otherwise the
 * header (borrowed, as from ecs_state_open) is checked as it does and its
 * "lines" restored.
 */
bool	 ecs_checkpoint_open(struct ecs_checkpoint *, struct ecs_state_reader *,
	    struct json_object **header);
/*
 * Starts the clock, reads the line counts of rd and hooks its waits (and
 * its quiet times, unless the program took on_idle).
 */
void	 ecs_checkpoint_init(struct ecs_checkpoint *, struct ecs_reader *);
/* Saves when dirty and due. */
void	 ecs_checkpoint_maybe(struct ecs_checkpoint *);

/* Called after each line: looks at the clock every 1024 lines. */
static inline void
ecs_checkpoint_tick(struct ecs_checkpoint *c)
{
	if ((++c->ticks & 1023) == 0)
		ecs_checkpoint_maybe(c);
}

/*
 * For save: flushes standard output (the state never runs ahead of it)
 * and starts the file with header (taken over) and "lines". False, the
 * save failed, when it cannot be made: save then writes nothing.
 */
bool	 ecs_checkpoint_begin(struct ecs_checkpoint *, struct json_object *header);
/* Writes one record (borrowed) of the state. */
void	 ecs_checkpoint_put(struct ecs_checkpoint *, struct json_object *rec);
/* Ends the save begun; a failure keeps the previous state. */
void	 ecs_checkpoint_commit(struct ecs_checkpoint *);
/*
 * At exit: finishes rd (its summary), then saves when anything was read or
 * changed (a run over no input, cron's --report, leaves the file as it
 * was). Returns the reader's status, or 1 when any save failed.
 */
int	 ecs_checkpoint_finish(struct ecs_checkpoint *, struct ecs_reader *);

/* ecs_time.c -- event times as int64 milliseconds since the epoch, UTC */

/* Every event time is within this many ms of the epoch, either way. */
#define ECS_TIME_MAX_MS	INT64_C(9000000000000000)

/* ISO-8601 with Z or offset, YYYY-MM-DD, or epoch digits; true on success. */
bool	 ecs_time_parse(const char *s, size_t len, int64_t *ms);
/* A duration: 1500ms, 30s, 5m, 1h, 1d, 1w, or bare seconds; > 0. */
bool	 ecs_duration_parse(const char *s, int64_t *ms);
/*
 * Exponential decay in event time: x, a sum decayed to time at (ms), as it
 * stands at t (x itself when t is not later).
 */
double	 ecs_decay_at(double x, int64_t at, int64_t t, int64_t half_life);
/*
 * Adds w at time t to the decayed sum *x of time *at, which moves to t; a
 * late t (before *at) adds w as decayed to *at.
 */
void	 ecs_decay_add(double *x, int64_t *at, double w, int64_t t,
	    int64_t half_life);
/* The wall clock, epoch ms: the time of events that carry none. */
int64_t	 ecs_time_now(void);
/* Epoch seconds, or milliseconds when |v| >= 1e11 (year 5138 in seconds). */
bool	 ecs_time_from_epoch(double v, int64_t *ms);
/* A string as above or a number of epoch seconds or milliseconds. */
bool	 ecs_time_from_json(struct json_object *, int64_t *ms);

/*
 * The event time of a stream. An event without a time field is at the
 * latest event time seen (the wall clock only before any event had one)
 * and is counted; it never moves the stream's time forward, so it can make
 * no later event late. Programs with a watermark leave it alone for such
 * events (untimed). Start from ECS_EVENT_CLOCK_INIT.
 */
struct ecs_event_clock {
	int64_t		 latest;	/* INT64_MIN until an event had a time */
	unsigned long long nuntimed;	/* events without a time, at latest */
	unsigned long long nclock;	/* ... before any time, at the clock */
};

#define ECS_EVENT_CLOCK_INIT	{ .latest = INT64_MIN }

/*
 * The time of an event whose time field is f: false when f is there but
 * not a time (the caller reports the line); *untimed when f is missing:
 * the event is at the latest event time, or at the clock's before any
 * event had a time, and moves no watermark either way. It changes
 * nothing: the caller takes the time once it takes the event.
 */
bool	 ecs_event_time(const struct ecs_event_clock *,
	    const struct ecs_field *f, int64_t *ms, bool *untimed);
/*
 * The event of ecs_event_time's answer is taken: its time is the latest
 * if later, or it is counted as untimed. Only an event taken moves event
 * time on; a line refused after its time was read must not, or the good
 * events after it would be late.
 */
void	 ecs_event_clock_take(struct ecs_event_clock *, int64_t ms,
	    bool untimed);
/*
 * The end-of-run line on standard error, when events without a time came
 * in a stream with times.
 */
void	 ecs_event_clock_summary(const struct ecs_event_clock *);
/* Formats ms as 2026-11-01T10:00:00Z (.mmm when not whole); returns length. */
size_t	 ecs_time_format(int64_t ms, char buf[static 32]);
/*
 * Local calendars (--tz): false when zone is not in the tz database. Sets
 * TZ for the process; without it the calendar functions below are UTC.
 */
bool	 ecs_time_set_zone(const char *zone);
/* The calendar fields of ms in the zone. */
void	 ecs_time_local(int64_t ms, struct tm *);
/* The instant of a (normalised) local calendar time; tm is updated. */
int64_t	 ecs_time_from_local(struct tm *);
/* ms in the zone: 2011-06-01T00:00:00+01:00, or ...Z without a zone. */
size_t	 ecs_time_format_local(int64_t ms, char buf[static 40]);
/*
 * Midnight on the 1st of the month add months after (or before) the month
 * of ms, in the zone's calendar: calendar windows of months and years.
 */
int64_t	 ecs_time_month_start(int64_t ms, int add);

/* ecs_pace.c -- playing output at wall-clock time */

struct ecs_pace {
	int64_t	start_ns;		/* CLOCK_MONOTONIC at the start */
	int64_t	start_wall_ms;		/* CLOCK_REALTIME then, epoch ms */
};

/* Takes now as the start of the schedule. */
void	 ecs_pace_start(struct ecs_pace *);
/* The wall-clock time now, epoch ms, steady against clock changes. */
int64_t	 ecs_pace_wall_ms(const struct ecs_pace *);
/*
 * Waits until offset_ns after the start (at once if that has passed),
 * flushing output first when it must wait. False when SIGINT/SIGTERM
 * arrived: the caller stops.
 */
bool	 ecs_pace_wait(const struct ecs_pace *, int64_t offset_ns);

/* ecs_reader.c -- NDJSON input with diagnostics and --reject */

struct z_stream_s;
struct ecs_csv;

struct ecs_reader {
	char		**files;	/* operands; "-" is stdin */
	int		  nfiles;
	int		  next_file;
	int		  fd;		/* -1 between files */
	const char	 *name;		/* for messages: file or <stdin> */
	bool		  fd_is_regular;	/* never blocks: no poll */
	bool		  at_start;	/* nothing of this input looked at */
	char		 *buf;
	size_t		  cap, start, end;
	bool		  eof;
	/* gzip input: inflate state and the compressed bytes read for it. */
	struct z_stream_s *z;
	unsigned char	 *zin;
	bool		  zmember_end;	/* a gzip member ended: another may follow */
	char		  zerr[96];	/* why the gzip data ended early, or "" */
	char		 *line;		/* current line, NUL-terminated */
	size_t		  len;
	/* With -i csv|tsv: the row's text, for --reject; line is its JSON. */
	const char	 *raw;
	size_t		  rawlen;
	struct ecs_csv	 *csv;
	unsigned long long lineno;	/* in the current file (a row's first) */
	unsigned long long last_line;	/* lines read from the current file */
	unsigned long long nread;	/* lines read from all files */
	unsigned long long nlines;	/* non-blank lines read */
	unsigned long long nbad;
	unsigned long long nparsed;	/* lines json-c parsed (the slow path) */
	unsigned long long nrejected;
	int		  status;	/* ECS_EXIT_DATA after I/O errors */
	int		  reject_fd;
	struct json_tokener *tok;
	/* Called before a read that would wait, after the flush (checkpoints). */
	void		(*on_wait)(void *);
	void		 *on_wait_arg;
	/* With idle_ms > 0, called each time that many ms pass with no input. */
	int		  idle_ms;
	void		(*on_idle)(void *, int ms);
	void		 *on_idle_arg;
	unsigned	  ticks;	/* lines, for --progress */
};

/*
 * Prepares to read files (none: stdin); opens --reject. Exits 2 when
 * --reject or standard output is one of the inputs.
 */
void	 ecs_reader_init(struct ecs_reader *, char **files, int nfiles);
/*
 * As ecs_reader_init, for an input beside the events (a table, a
 * catalogue), which is never the input counted by --stats, --progress and
 * SIGUSR1: a run stopped by a bad table must not report its rows as the
 * events read.
 */
void	 ecs_reader_init_side(struct ecs_reader *, char **files, int nfiles);
/*
 * Exits 2 (usage) when the regular file open on fd, an output called name
 * in the message, is one of the reader's inputs: it would loop until the
 * disk is full.
 */
void	 ecs_reader_check_output(const struct ecs_reader *, int fd,
	    const char *name);
/*
 * Advances to the next non-blank line: rd->line, rd->len (CR and newline
 * removed, NUL-terminated, borrowed until the next call). False at the end
 * of all input or after SIGINT/SIGTERM. Over-long lines are reported here.
 */
bool	 ecs_reader_line(struct ecs_reader *);
/*
 * With -i csv|tsv, ecs_reader_line's work (ecs_csv.c): the next row of
 * the current input as one NDJSON line in rd->line, its text in rd->raw.
 * Bad rows are reported here. False at the end of the input.
 */
bool	 ecs_csv_next(struct ecs_reader *);
/* The row reader for sep ',' (CSV) or '\t' (TSV), owned by the caller. */
struct ecs_csv *ecs_csv_create(char sep);
/* Frees it; NULL is a no-op. */
void	 ecs_csv_free(struct ecs_csv *);
/*
 * For ecs_csv.c: the next line of the current input (CR and newline
 * removed, blank lines included) in rd->line, rd->len, counted in
 * rd->last_line; rd->next_file tells the inputs apart. False at its end.
 */
bool	 ecs_reader_raw_line(struct ecs_reader *);
/* Parses the current line; the object is owned by the caller. NULL when bad. */
struct json_object *ecs_reader_parse(struct ecs_reader *);
/*
 * Reports the current line as bad (file:line: reason), writes it to
 * --reject, counts it, and ends the program under --strict/--max-errors.
 */
void	 ecs_reader_bad(struct ecs_reader *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * Prints the skipped-lines summary and the last --progress line, writes
 * --stats, frees; returns the exit status.
 */
int	 ecs_reader_finish(struct ecs_reader *);

/*
 * ecs_stats.c -- --progress, SIGUSR1 and --stats FILE for every program:
 * the reader counts lines and bad lines, the program adds its counters.
 */

#define ECS_COUNT_NONE	(~0ULL)		/* a counter the program has not */

struct ecs_counters {
	unsigned long long lines;	/* non-blank lines read */
	unsigned long long rejected;	/* bad lines */
	unsigned long long parsed;	/* lines json-c parsed */
	unsigned long long kept;	/* records kept, written or used */
	unsigned long long written;	/* lines made, by a program without input */
	unsigned long long late;	/* events behind the watermark */
	unsigned long long keys;	/* keys held in memory */
	unsigned long long open;	/* windows or sessions open */
	const char	*open_what;	/* "windows" (NULL) or "sessions" */
	unsigned long long resident;	/* bytes, /proc/self/statm */
};

/*
 * The program's counters: fill sets those the program keeps (kept, late,
 * keys, open) and leaves the others ECS_COUNT_NONE, which are then left
 * out. It is called between lines, when a report is made.
 */
void	 ecs_stats_hook(void (*fill)(struct ecs_counters *));
/* Set by SIGUSR1; ecs_stats_poll prints the counters. */
extern volatile sig_atomic_t ecs_stats_signal;
/*
 * For ecs_reader_init: the first reader is the one counted (see
 * ecs_stats_stream); installs SIGUSR1 and creates --stats. A program
 * without input (ecs-gen) passes NULL, calls ecs_stats_poll(NULL) between
 * lines and ecs_stats_finish(NULL) at the end: its lines are the hook's
 * written, and a known total (or 0) gives --progress its percent and ETA.
 */
void	 ecs_stats_start(const struct ecs_reader *);
void	 ecs_stats_total(unsigned long long lines);
/* Counts rd's lines from now on (ecs_checkpoint_init: the event stream). */
void	 ecs_stats_stream(const struct ecs_reader *);
/* For the reader, between lines: SIGUSR1's report and --progress. */
void	 ecs_stats_poll(const struct ecs_reader *);
/* Takes a --progress line off a terminal before a warning is printed. */
void	 ecs_stats_clear(void);
/* For ecs_reader_finish: the last report and --stats; 0 or 1. */
int	 ecs_stats_finish(const struct ecs_reader *);

#endif /* ECS_H */
