/* SPDX-License-Identifier: ISC */
/*
 * ecs_expr.c -- the expression language of ecs-filter, shared with --where
 * and metrics of the other programs:
 *
 *	expr   := or
 *	or     := and { ("or" | "||") and }
 *	and    := not { ("and" | "&&") not }
 *	not    := ("not" | "!") not | cmp
 *	cmp    := sum [ ("==" | "!=" | "<" | "<=" | ">" | ">=") sum
 *	                | "in" ( "[" [ sum { "," sum } ] "]" | sum )
 *	                | ("=~" | "!~") string ]
 *	sum    := prod { ("+" | "-") prod }
 *	prod   := unary { ("*" | "/" | "%") unary }
 *	unary  := "-" unary | primary
 *	primary:= number | string | "true" | "false" | "null" | path
 *	        | name "(" [ expr { "," expr } ] ")" | "(" expr ")"
 *	        | "."				(in any/all: the element)
 *	path   := ["."] seg { "." seg | "[" digits "]" }
 *	seg    := ident | digits | string
 *
 * A comparison with a missing field is false (so is its "!="); a number
 * written as a string compares as that number. Lexing, parsing, evaluation
 * and the literal pre-check that lets ecs-filter skip lines without parsing
 * them are all here.
 */
#include <ctype.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wctype.h>

#include "ecs.h"
#include "ecs_buf.h"
#include "ecs_expr.h"
#include "ecs_regex.h"

/* Lexer */

enum tok {
	T_END, T_NUM, T_STR, T_PATH, T_NAME, T_LPAREN, T_RPAREN, T_LBRACK,
	T_RBRACK, T_COMMA, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_MATCH,
	T_NMATCH, T_AND, T_OR, T_NOT, T_IN, T_PLUS, T_MINUS, T_STAR, T_SLASH,
	T_PERCENT, T_TRUE, T_FALSE, T_NULL, T_DOT, T_ERROR
};

struct lexer {
	const char	*src;
	const char	*p;		/* next character */
	const char	*tok_start;	/* where the current token starts */
	enum tok	 tok;
	char		*str;		/* T_STR, T_NAME: owned while current */
	size_t		 len;
	struct ecs_num	 num;		/* T_NUM */
	struct ecs_path	*path;		/* T_PATH: owned while current */
	char		*err;		/* first error, "line:col: reason" */
	size_t		 errlen;
	bool		 failed;
	int		 depth;		/* parser recursion, see deeper() */
	int		 elem_depth;	/* in the condition of any/all */
	bool		 dotted;	/* T_PATH: with a leading dot */
};

static const struct {
	const char	*text;
	enum tok	 tok;
} operators[] = {
	{ "==", T_EQ }, { "!=", T_NE }, { "<=", T_LE }, { ">=", T_GE },
	{ "=~", T_MATCH }, { "!~", T_NMATCH }, { "&&", T_AND }, { "||", T_OR },
	{ "<", T_LT }, { ">", T_GT }, { "!", T_NOT }, { "(", T_LPAREN },
	{ ")", T_RPAREN }, { "[", T_LBRACK }, { "]", T_RBRACK },
	{ ",", T_COMMA }, { "+", T_PLUS }, { "-", T_MINUS }, { "*", T_STAR },
	{ "/", T_SLASH }, { "%", T_PERCENT },
};

static const struct {
	const char	*word;
	enum tok	 tok;
} keywords[] = {
	{ "and", T_AND }, { "or", T_OR }, { "not", T_NOT }, { "in", T_IN },
	{ "true", T_TRUE }, { "false", T_FALSE }, { "null", T_NULL },
};

/* Records the first error at pos as "line:col: reason". */
static void
fail_at(struct lexer *lx, const char *pos, const char *fmt, ...)
{
	const char *q, *line_start = lx->src;
	int line = 1, n;
	va_list ap;

	if (lx->failed)
		return;
	lx->failed = true;
	for (q = lx->src; q < pos; q++)
		if (*q == '\n') {
			line++;
			line_start = q + 1;
		}
	n = snprintf(lx->err, lx->errlen, "%d:%zu: ", line,
	    (size_t)(pos - line_start) + 1);
	if (n < 0 || (size_t)n >= lx->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(lx->err + n, lx->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static bool
is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_ident(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static void
clear_token(struct lexer *lx)
{
	free(lx->str);
	lx->str = NULL;
	ecs_path_free(lx->path);
	lx->path = NULL;
}

/* One path segment at lx->p: an identifier, digits or a quoted string. */
static bool
lex_segment(struct lexer *lx, struct ecs_path *path)
{
	const char *s = lx->p;
	char *key;
	size_t len;

	if (*s == '"' || *s == '\'') {
		if (!ecs_unquote(s, &lx->p, &key, &len)) {
			fail_at(lx, lx->p, "bad quoted field name");
			return false;
		}
		ecs_path_push(path, key, len);
		free(key);
		return true;
	}
	if (!is_ident(*s)) {
		fail_at(lx, s, "expected a field name after '.'");
		return false;
	}
	while (is_ident(*lx->p))
		lx->p++;
	ecs_path_push(path, s, (size_t)(lx->p - s));
	return true;
}

/*
 * A path, keyword or function name. A lone identifier that is a keyword is
 * the keyword; one followed by '(' is a function name.
 */
static void
lex_word(struct lexer *lx)
{
	const char *s = lx->p, *why;
	bool dotted = *s == '.';
	size_t i, n;

	if (!dotted) {
		while (is_ident(*lx->p))
			lx->p++;
		n = (size_t)(lx->p - s);
		if (*lx->p != '.') {
			for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
				if (strlen(keywords[i].word) == n &&
				    strncmp(keywords[i].word, s, n) == 0) {
					lx->tok = keywords[i].tok;
					return;
				}
			if (*lx->p == '(') {
				lx->tok = T_NAME;
				lx->str = ecs_xstrndup(s, n);
				return;
			}
		}
		lx->p = s;
	}
	lx->tok = T_PATH;
	lx->dotted = dotted;
	lx->path = ecs_path_new("");
	if (dotted)
		lx->p++;
	for (;;) {
		if (!lex_segment(lx, lx->path)) {
			lx->tok = T_ERROR;
			return;
		}
		while (*lx->p == '[') {		/* items[0], as in jq */
			if (!ecs_path_push_index(lx->path, &lx->p, &why)) {
				fail_at(lx, lx->p, "%s", why);
				lx->tok = T_ERROR;
				return;
			}
		}
		if (*lx->p != '.')
			break;
		lx->p++;
	}
	free(lx->path->text);
	lx->path->text = ecs_xstrndup(s, (size_t)(lx->p - s));
	if (!(dotted && lx->elem_depth > 0))	/* not an item's */
		ecs_path_apply_map(lx->path);
}

static void
lex_number(struct lexer *lx)
{
	const char *s = lx->p;

	while (*lx->p == '-' || *lx->p == '+' || *lx->p == '.' ||
	    is_ident(*lx->p))
		lx->p++;
	/* 1e-5 needs its sign; 1-5 is a subtraction. */
	for (;;) {
		if (ecs_num_parse(s, (size_t)(lx->p - s), &lx->num)) {
			lx->tok = T_NUM;
			return;
		}
		if (lx->p == s + 1)
			break;
		lx->p--;
	}
	fail_at(lx, s, "bad number");
	lx->tok = T_ERROR;
}

static void
next(struct lexer *lx)
{
	size_t i, n;

	clear_token(lx);
	while (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' ||
	    *lx->p == '\r')
		lx->p++;
	lx->tok_start = lx->p;
	if (*lx->p == '\0') {
		lx->tok = T_END;
		return;
	}
	if (*lx->p == '"' || *lx->p == '\'') {
		if (ecs_unquote(lx->p, &lx->p, &lx->str, &lx->len)) {
			lx->tok = T_STR;
			return;
		}
		fail_at(lx, lx->p, *lx->p == '\0' ? "unterminated string" :
		    "bad escape in string");
		lx->tok = T_ERROR;
		return;
	}
	if (*lx->p >= '0' && *lx->p <= '9') {
		lex_number(lx);
		return;
	}
	if (*lx->p == '.' && lx->elem_depth > 0 && !is_ident(lx->p[1]) &&
	    lx->p[1] != '"' && lx->p[1] != '\'') {
		lx->p++;
		lx->tok = T_DOT;		/* the element of any/all */
		return;
	}
	if (is_ident_start(*lx->p) || (*lx->p == '.' &&
	    (is_ident(lx->p[1]) || lx->p[1] == '"' || lx->p[1] == '\''))) {
		lex_word(lx);
		return;
	}
	for (i = 0; i < sizeof(operators) / sizeof(operators[0]); i++) {
		n = strlen(operators[i].text);
		if (strncmp(lx->p, operators[i].text, n) == 0) {
			lx->p += n;
			lx->tok = operators[i].tok;
			return;
		}
	}
	if (*lx->p == '=')
		fail_at(lx, lx->p, "'=' is not an operator (use ==)");
	else if (*lx->p == '&' || *lx->p == '|')
		fail_at(lx, lx->p, "'%c' is not an operator (use %c%c)",
		    *lx->p, *lx->p, *lx->p);
	else
		fail_at(lx, lx->p, "unexpected character '%c'", *lx->p);
	lx->tok = T_ERROR;
}

/* The current token as text, for messages. */
static const char *
tok_text(const struct lexer *lx, char *buf, size_t size)
{
	size_t n = (size_t)(lx->p - lx->tok_start);

	if (lx->tok == T_END)
		return "end of expression";
	if (n > size - 3)
		n = size - 3;
	snprintf(buf, size, "'%.*s'", (int)n, lx->tok_start);
	return buf;
}

/* Syntax tree */

enum kind {
	N_LIT, N_PATH, N_AND, N_OR, N_NOT, N_CMP, N_ARITH, N_NEG, N_IN,
	N_IN_LIST, N_MATCH, N_EXISTS, N_CALL, N_ELEM
};

/* V_LIST is a computed list (split); JSON arrays from events are V_JSON. */
enum vtype { V_MISSING, V_NULL, V_BOOL, V_NUM, V_STR, V_JSON, V_LIST };

/*
 * A number is exact while it can be: n is its fast view (an int64, or the
 * double nearest to its text), dec its exact decimal, filled for literals
 * and results and read from the text of the others when needed. A result's
 * n.d may be off by rounding (approx): then dec is the value.
 */
struct value {
	enum vtype		 type;
	bool			 b;
	struct ecs_num		 n;
	struct ecs_dec		 dec;	/* when has_dec */
	bool			 has_dec;
	bool			 approx;	/* n.d is not the nearest double */
	const char		*s;	/* V_STR; borrowed */
	size_t			 len;
	struct json_object	*j;	/* the record's value, when from one */
	const char		*text;	/* a field's text (V_NUM, V_JSON) */
	size_t			 tlen;
	struct value		*items;	/* V_LIST, in the scratch */
	size_t			 nitems;
};

/*
 * What one evaluation computes (strings, lists, JSON read from a field's
 * text) lives here until the next evaluation of the same expression.
 */
struct scratch {
	void			**ptr;
	size_t			 nptr, capptr;
	size_t			 bytes;		/* allocated, see SCRATCH_MAX */
	struct json_object	**json;
	size_t			 njson, capjson;
};

/*
 * Where paths are looked up: captured fields by slot, else the record;
 * elem is the element that any/all bind to ".".
 */
struct ctx {
	struct json_object	*rec;
	const struct ecs_field	*fields;
	struct scratch		*sc;
	const struct value	*elem;
};

struct node;
typedef void	 func_eval(const struct node *, const struct ctx *,
		    struct value *);

/* A function: its arity (max -1: any) and how to evaluate a call. */
struct func {
	const char	*name;
	int		 min, max;
	func_eval	*eval;
	bool		 binds_elem;	/* any/all: "." in argument 2 */
	/* Compile-time checks of literal arguments; NULL when none. */
	bool		(*check)(struct lexer *, const struct node *,
			    const char *at);
};

struct node {
	enum kind	 kind;
	enum tok	 op;		/* N_CMP, N_ARITH, N_MATCH */
	struct node	*a, *b;
	struct node	**items;	/* N_IN */
	size_t		 nitems;
	struct ecs_path	*path;		/* N_PATH, N_EXISTS, N_ELEM */
	const struct func *fn;		/* N_CALL, arguments in items */
	bool		 of_elem;	/* N_EXISTS: of the any/all item */
	struct value	 lit;		/* N_LIT */
	char		*str;		/* owns lit.s */
	struct ecs_regex *re;		/* N_MATCH */
	int		 slot;		/* N_PATH, N_EXISTS: field, or -1 */
	int		 height;	/* levels of nodes, itself included */
};

/*
 * The pre-check: clauses that must all hold for a match, each a set of
 * needles of which a matching line contains at least one.
 */
struct needle {
	char	*text;			/* owned */
	size_t	 len;
	size_t	 pivot;			/* its rarest byte, looked for first */
};

struct clause {
	struct needle	*needle;
	size_t		 nneedle;
};

struct ecs_expr {
	struct node	*root;
	struct scratch	*sc;
	struct clause	*clause;
	size_t		 nclause;
};

static struct node *
new_node(enum kind kind)
{
	struct node *n = ecs_xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->slot = -1;
	n->height = 1;
	return n;
}

static void
free_node(struct node *n)
{
	size_t i;

	if (n == NULL)
		return;
	free_node(n->a);
	free_node(n->b);
	for (i = 0; i < n->nitems; i++)
		free_node(n->items[i]);
	free(n->items);
	ecs_path_free(n->path);
	free(n->str);
	ecs_regex_free(n->re);
	free(n);
}

/*
 * Parsing, evaluating and freeing recurse once per level of nesting, so
 * a deeper expression (50,000 parentheses, or a chain of as many
 * operators) would overflow the stack: it is refused instead.
 */
#define MAX_DEPTH	1000

static bool
too_deep(struct lexer *lx, const char *pos)
{
	fail_at(lx, pos, "expression nested too deeply (more than %d levels "
	    "of parentheses, operators and calls)", MAX_DEPTH);
	return false;
}

/* Enters one more level of parser recursion; false when too deep. */
static bool
deeper(struct lexer *lx)
{
	if (++lx->depth <= MAX_DEPTH)
		return true;
	return too_deep(lx, lx->tok_start);
}

/* Sets n's height from its children; frees it and fails when too tall. */
static struct node *
grown(struct lexer *lx, struct node *n, const char *pos)
{
	const struct node *kids[2] = { n->a, n->b };
	size_t i;

	for (i = 0; i < 2; i++)
		if (kids[i] != NULL && kids[i]->height >= n->height)
			n->height = kids[i]->height + 1;
	for (i = 0; i < n->nitems; i++)
		if (n->items[i]->height >= n->height)
			n->height = n->items[i]->height + 1;
	if (n->height <= MAX_DEPTH)
		return n;
	too_deep(lx, pos);
	free_node(n);
	return NULL;
}

/* Parser: each function returns an owned subtree or NULL after fail_at. */

static struct node *parse_or(struct lexer *);
static struct node *parse_not(struct lexer *);

static struct node *
binary(struct lexer *lx, enum kind kind, enum tok op, struct node *a,
    struct node *b)
{
	struct node *n;

	if (a == NULL || b == NULL) {
		free_node(a);
		free_node(b);
		return NULL;
	}
	n = new_node(kind);
	n->op = op;
	n->a = a;
	n->b = b;
	return grown(lx, n, lx->tok_start);
}

static bool
expect(struct lexer *lx, enum tok tok, const char *what)
{
	char buf[48];

	if (lx->tok != tok) {
		fail_at(lx, lx->tok_start, "expected %s, found %s", what,
		    tok_text(lx, buf, sizeof(buf)));
		return false;
	}
	next(lx);
	return true;
}

/* "expected a value after '=='" when an operand is missing. */
static bool
operand_follows(struct lexer *lx, const char *after)
{
	switch (lx->tok) {
	case T_NUM: case T_STR: case T_PATH: case T_NAME: case T_LPAREN:
	case T_TRUE: case T_FALSE: case T_NULL: case T_MINUS: case T_NOT:
	case T_DOT:
		return true;
	case T_ERROR:
		return false;
	default:
		if (after != NULL)
			fail_at(lx, lx->tok_start,
			    "expected a value after '%s'", after);
		else
			fail_at(lx, lx->tok_start, "expected a value");
		return false;
	}
}

static const struct func *find_func(const char *name);

/* "substr takes 2 or 3 arguments" when a call has too few or too many. */
static bool
check_arity(struct lexer *lx, const struct func *f, size_t nargs,
    const char *at)
{
	if ((int)nargs >= f->min && (f->max < 0 || (int)nargs <= f->max))
		return true;
	if (f->max < 0)
		fail_at(lx, at, "%s takes at least %d argument%s", f->name,
		    f->min, f->min == 1 ? "" : "s");
	else if (f->min == f->max)
		fail_at(lx, at, "%s takes %d argument%s", f->name, f->min,
		    f->min == 1 ? "" : "s");
	else
		fail_at(lx, at, "%s takes %d %s %d arguments", f->name, f->min,
		    f->max == f->min + 1 ? "or" : "to", f->max);
	return false;
}

/* exists(path): of the event, or of the any/all element for ".path". */
static struct node *
parse_exists(struct lexer *lx)
{
	struct node *n;

	if (lx->tok != T_PATH) {
		fail_at(lx, lx->tok_start, "exists() takes a field path");
		return NULL;
	}
	n = new_node(N_EXISTS);
	n->of_elem = lx->dotted && lx->elem_depth > 0;
	n->path = lx->path;
	lx->path = NULL;
	next(lx);
	return n;
}

/* The arguments of a call to f, up to and without the ')'. */
static bool
parse_args(struct lexer *lx, const struct func *f, struct node *n)
{
	struct node *arg;
	bool elem;

	while (lx->tok != T_RPAREN) {
		elem = f->binds_elem && n->nitems == 1;
		if (n->nitems > 0) {
			if (lx->tok != T_COMMA)
				return expect(lx, T_COMMA, "',' or ')'");
			lx->elem_depth += elem;
			next(lx);
		}
		if (!operand_follows(lx, n->nitems > 0 ? "," : "(") ||
		    !deeper(lx)) {
			lx->elem_depth -= elem;
			return false;
		}
		arg = parse_or(lx);
		lx->depth--;
		lx->elem_depth -= elem;
		if (arg == NULL)
			return false;
		n->items = ecs_xrealloc(n->items,
		    (n->nitems + 1) * sizeof(*n->items));
		n->items[n->nitems++] = arg;
	}
	return true;
}

static struct node *
parse_call(struct lexer *lx)
{
	char *name = lx->str;
	const char *at = lx->tok_start;
	const struct func *f;
	struct node *n = NULL;

	lx->str = NULL;
	next(lx);			/* the '(' */
	next(lx);
	if (strcmp(name, "exists") == 0)
		n = parse_exists(lx);
	else if ((f = find_func(name)) == NULL)
		fail_at(lx, at, "unknown function '%s' (see FUNCTIONS in "
		    "ecs-filter(1))", name);
	else {
		n = new_node(N_CALL);
		n->fn = f;
		if (!parse_args(lx, f, n) ||
		    !check_arity(lx, f, n->nitems, at) ||
		    (f->check != NULL && !f->check(lx, n, at))) {
			free_node(n);
			n = NULL;
		} else
			n = grown(lx, n, at);
	}
	free(name);
	if (n != NULL && !expect(lx, T_RPAREN, "')'")) {
		free_node(n);
		n = NULL;
	}
	return n;
}

static struct node *
parse_primary(struct lexer *lx)
{
	struct node *n;

	if (!operand_follows(lx, NULL))
		return NULL;
	switch (lx->tok) {
	case T_LPAREN:
		next(lx);
		if (!operand_follows(lx, "(") || !deeper(lx))
			return NULL;
		n = parse_or(lx);
		lx->depth--;
		if (n == NULL)
			return NULL;
		if (!expect(lx, T_RPAREN, "')'")) {
			free_node(n);
			return NULL;
		}
		return n;
	case T_NAME:
		return parse_call(lx);
	case T_NOT:			/* a == !b */
		return parse_not(lx);
	case T_PATH:
		n = new_node(lx->dotted && lx->elem_depth > 0 ? N_ELEM :
		    N_PATH);
		n->path = lx->path;
		lx->path = NULL;
		break;
	case T_DOT:
		n = new_node(N_ELEM);
		break;
	default:
		n = new_node(N_LIT);
		if (lx->tok == T_NUM) {
			n->lit.type = V_NUM;
			n->lit.n = lx->num;
			/* From the text, for exact decimal arithmetic. */
			n->lit.tlen = (size_t)(lx->p - lx->tok_start);
			n->str = ecs_xstrndup(lx->tok_start, n->lit.tlen);
			n->lit.text = n->str;
			n->lit.has_dec = ecs_dec_parse(n->str, n->lit.tlen,
			    &n->lit.dec);
		} else if (lx->tok == T_STR) {
			n->lit.type = V_STR;
			n->str = lx->str;
			n->lit.s = n->str;
			n->lit.len = lx->len;
			lx->str = NULL;
		} else if (lx->tok == T_NULL)
			n->lit.type = V_NULL;
		else {
			n->lit.type = V_BOOL;
			n->lit.b = lx->tok == T_TRUE;
		}
		break;
	}
	next(lx);
	return n;
}

static struct node *
parse_unary(struct lexer *lx)
{
	const char *at = lx->tok_start;
	struct node *n;

	if (lx->tok != T_MINUS)
		return parse_primary(lx);
	next(lx);
	if (!operand_follows(lx, "-") || !deeper(lx))
		return NULL;
	n = parse_unary(lx);
	lx->depth--;
	if (n == NULL)
		return NULL;
	struct node *neg = new_node(N_NEG);
	neg->a = n;
	return grown(lx, neg, at);
}

static struct node *
parse_prod(struct lexer *lx)
{
	struct node *n = parse_unary(lx);
	enum tok op;

	while (n != NULL && (lx->tok == T_STAR || lx->tok == T_SLASH ||
	    lx->tok == T_PERCENT)) {
		op = lx->tok;
		next(lx);
		if (!operand_follows(lx, op == T_STAR ? "*" : op == T_SLASH ?
		    "/" : "%")) {
			free_node(n);
			return NULL;
		}
		n = binary(lx, N_ARITH, op, n, parse_unary(lx));
	}
	return n;
}

static struct node *
parse_sum(struct lexer *lx)
{
	struct node *n = parse_prod(lx);
	enum tok op;

	while (n != NULL && (lx->tok == T_PLUS || lx->tok == T_MINUS)) {
		op = lx->tok;
		next(lx);
		if (!operand_follows(lx, op == T_PLUS ? "+" : "-")) {
			free_node(n);
			return NULL;
		}
		n = binary(lx, N_ARITH, op, n, parse_prod(lx));
	}
	return n;
}

static struct node *
parse_in(struct lexer *lx, struct node *lhs)
{
	struct node *n = new_node(N_IN), *item;

	n->a = lhs;
	next(lx);
	if (lx->tok != T_LBRACK) {	/* a list: in tags, in split() */
		n->kind = N_IN_LIST;
		if (!operand_follows(lx, "in") ||
		    (n->b = parse_sum(lx)) == NULL)
			goto fail;
		return grown(lx, n, lx->tok_start);
	}
	next(lx);
	while (lx->tok != T_RBRACK) {
		if (n->nitems > 0 && !expect(lx, T_COMMA, "',' or ']'"))
			goto fail;
		if (!operand_follows(lx, n->nitems > 0 ? "," : "[") ||
		    (item = parse_sum(lx)) == NULL)
			goto fail;
		n->items = ecs_xrealloc(n->items,
		    (n->nitems + 1) * sizeof(*n->items));
		n->items[n->nitems++] = item;
	}
	next(lx);
	return grown(lx, n, lx->tok_start);
fail:
	free_node(n);
	return NULL;
}

/*
 * Where the pattern's byte off is in the source: exact when the string
 * literal holds no escapes, else its opening quote.
 */
static const char *
pattern_pos(const struct lexer *lx, size_t off)
{
	size_t written = (size_t)(lx->p - lx->tok_start) - 2;	/* quotes */

	if (written != lx->len)
		return lx->tok_start;
	return lx->tok_start + 1 + (off < lx->len ? off : lx->len);
}

static struct node *
parse_match(struct lexer *lx, struct node *lhs)
{
	struct node *n = new_node(N_MATCH);
	char msg[128];
	size_t off;

	n->a = lhs;
	n->op = lx->tok;
	next(lx);
	if (lx->tok != T_STR) {
		fail_at(lx, lx->tok_start, "expected a \"regular expression\" "
		    "after '%s'", n->op == T_MATCH ? "=~" : "!~");
		free_node(n);
		return NULL;
	}
	/* The pattern, kept for the pre-check (its literal prefix). */
	n->str = ecs_xstrndup(lx->str, lx->len);
	n->lit.len = lx->len;
	n->re = ecs_regex_compile(lx->str, lx->len, &off, msg, sizeof(msg));
	if (n->re == NULL) {
		if (off >= lx->len)
			fail_at(lx, pattern_pos(lx, off), "bad regular "
			    "expression, at its end: %s", msg);
		else
			fail_at(lx, pattern_pos(lx, off), "bad regular "
			    "expression, at byte %zu: %s", off + 1, msg);
		free_node(n);
		return NULL;
	}
	next(lx);
	return grown(lx, n, lx->tok_start);
}

static struct node *
parse_cmp(struct lexer *lx)
{
	struct node *n = parse_sum(lx);
	char opbuf[8];
	enum tok op;

	if (n == NULL)
		return NULL;
	switch (lx->tok) {
	case T_EQ: case T_NE: case T_LT: case T_LE: case T_GT: case T_GE:
		op = lx->tok;
		snprintf(opbuf, sizeof(opbuf), "%.*s",
		    (int)(lx->p - lx->tok_start), lx->tok_start);
		next(lx);
		if (!operand_follows(lx, opbuf)) {
			free_node(n);
			return NULL;
		}
		return binary(lx, N_CMP, op, n, parse_sum(lx));
	case T_IN:
		return parse_in(lx, n);
	case T_MATCH: case T_NMATCH:
		return parse_match(lx, n);
	default:
		return n;
	}
}

static struct node *
parse_not(struct lexer *lx)
{
	const char *at = lx->tok_start;
	struct node *n, *a;

	if (lx->tok != T_NOT)
		return parse_cmp(lx);
	next(lx);
	if (!operand_follows(lx, "not") || !deeper(lx))
		return NULL;
	a = parse_not(lx);
	lx->depth--;
	if (a == NULL)
		return NULL;
	n = new_node(N_NOT);
	n->a = a;
	return grown(lx, n, at);
}

static struct node *
parse_and(struct lexer *lx)
{
	struct node *n = parse_not(lx);

	while (n != NULL && lx->tok == T_AND) {
		next(lx);
		if (!operand_follows(lx, "and")) {
			free_node(n);
			return NULL;
		}
		n = binary(lx, N_AND, T_AND, n, parse_not(lx));
	}
	return n;
}

static struct node *
parse_or(struct lexer *lx)
{
	struct node *n = parse_and(lx);

	while (n != NULL && lx->tok == T_OR) {
		next(lx);
		if (!operand_follows(lx, "or")) {
			free_node(n);
			return NULL;
		}
		n = binary(lx, N_OR, T_OR, n, parse_and(lx));
	}
	return n;
}

/* Evaluation */

static void eval(const struct node *, const struct ctx *, struct value *);

static void
value_of_json(struct json_object *j, bool is_action, struct value *v)
{
	const char *canon;
	size_t len;

	memset(v, 0, sizeof(*v));
	v->j = j;
	switch (json_object_get_type(j)) {
	case json_type_null:
		v->type = V_NULL;
		break;
	case json_type_boolean:
		v->type = V_BOOL;
		v->b = json_object_get_boolean(j);
		break;
	case json_type_int:
	case json_type_double:
		v->type = V_NUM;
		ecs_num_from_json(j, &v->n);
		break;
	case json_type_string:
		v->type = V_STR;
		v->s = json_object_get_string(j);
		v->len = (size_t)json_object_get_string_len(j);
		if (is_action &&
		    (canon = ecs_action_canon(v->s, v->len, &len)) != NULL) {
			v->s = canon;
			v->len = len;
			v->j = NULL;
		}
		break;
	default:
		v->type = V_JSON;
		break;
	}
}

/*
 * A captured field as a value; its text is kept for exact arithmetic. An
 * action is already canonical (ecs_fields_read applies --map-action).
 */
static void
value_of_field(const struct ecs_field *f, struct value *v)
{
	memset(v, 0, sizeof(*v));
	v->j = f->j;
	v->text = f->text;
	v->tlen = f->len;
	switch (f->type) {
	case ECS_F_MISSING:
		break;
	case ECS_F_NULL:
		v->type = V_NULL;
		break;
	case ECS_F_BOOL:
		v->type = V_BOOL;
		v->b = f->text[0] == 't';
		break;
	case ECS_F_NUMBER:
		v->type = V_NUM;
		if (!ecs_num_parse(f->text, f->len, &v->n))
			v->n = (struct ecs_num){ false, 0, NAN };  /* NaN, 1e999 */
		if (f->j != NULL)
			ecs_num_from_json(f->j, &v->n);
		break;
	case ECS_F_STRING:
		v->type = V_STR;
		v->s = f->text;
		v->len = f->len;
		break;
	default:
		v->type = V_JSON;
		break;
	}
}

static bool
truthy(const struct value *v)
{
	switch (v->type) {
	case V_MISSING:
	case V_NULL:	return false;
	case V_BOOL:	return v->b;
	default:	return true;
	}
}

/* A number, or a string that is exactly one. */
static bool
as_number(const struct value *v, struct ecs_num *n)
{
	if (v->type == V_NUM) {
		*n = v->n;
		return true;
	}
	return v->type == V_STR && ecs_num_parse(v->s, v->len, n);
}

/*
 * A number value, or a string that is exactly one, as an exact decimal
 * when its text is one (else a double); false when it is no number.
 */
static bool
value_dec(const struct value *v, struct ecs_dec *d)
{
	const char *text;
	size_t len;

	if (v->has_dec) {
		*d = v->dec;
		return true;
	}
	if (v->type == V_STR)
		return ecs_dec_parse(v->s, v->len, d);
	if (v->type != V_NUM)
		return false;
	if (v->text != NULL && ecs_dec_parse(v->text, v->tlen, d))
		return true;
	if (v->j != NULL && json_object_is_type(v->j, json_type_double)) {
		/* json-c keeps a parsed double's source text: 19.99 stays. */
		text = json_object_to_json_string_length(v->j,
		    JSON_C_TO_STRING_PLAIN, &len);
		if (ecs_dec_parse(text, len, d))
			return true;
	}
	if (v->n.is_int)
		ecs_dec_from_int(d, v->n.i);
	else
		ecs_dec_from_double(d, v->n.d);
	return true;
}

/* ecs_dec_cmp, with NaN unordered (2). */
static int
dec_order(const struct ecs_dec *a, const struct ecs_dec *b)
{
	if ((!a->exact && isnan(a->d)) || (!b->exact && isnan(b->d)))
		return 2;
	return ecs_dec_cmp(a, b);
}

/* A plain decimal text: sign, integer digits, fraction digits. */
struct digits {
	bool		 neg;
	const char	*ip, *fp;
	size_t		 ilen, flen;
};

/* Splits s[0..len), leading and trailing zeros off; false if no such text. */
static bool
split_digits(const char *s, size_t len, struct digits *d)
{
	size_t i = 0;

	d->neg = len > 0 && s[0] == '-';
	i = d->neg;
	d->ip = s + i;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	d->ilen = (size_t)(s + i - d->ip);
	d->fp = s + i + 1;
	d->flen = 0;
	if (i < len && s[i] == '.')
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			d->flen++;
	if (i != len || d->ilen == 0)
		return false;
	while (d->ilen > 0 && d->ip[0] == '0') {
		d->ip++;
		d->ilen--;
	}
	while (d->flen > 0 && d->fp[d->flen - 1] == '0')
		d->flen--;
	if (d->ilen == 0 && d->flen == 0)
		d->neg = false;		/* -0 is 0 */
	return true;
}

/* The order of two fractions' digits, the shorter padded with zeros. */
static int
cmp_fraction(const struct digits *x, const struct digits *y)
{
	size_t i, n = x->flen > y->flen ? x->flen : y->flen;
	char a, b;

	for (i = 0; i < n; i++) {
		a = i < x->flen ? x->fp[i] : '0';
		b = i < y->flen ? y->fp[i] : '0';
		if (a != b)
			return a < b ? -1 : 1;
	}
	return 0;
}

/*
 * Orders two numbers by their texts, digit by digit, when both are plain
 * decimals (no exponent) of any length: the ids and amounts too long for
 * an exact decimal. 2 when one is not such a text.
 */
static int
compare_texts(const struct value *a, const struct value *b)
{
	struct digits x, y;
	const char *t[2];
	size_t len[2], i;
	int c;

	for (i = 0; i < 2; i++) {
		const struct value *v = i == 0 ? a : b;

		if (v->type == V_STR) {
			t[i] = v->s;
			len[i] = v->len;
		} else if (v->text != NULL) {
			t[i] = v->text;
			len[i] = v->tlen;
		} else if (v->j != NULL && !v->has_dec)
			t[i] = json_object_to_json_string_length(v->j,
			    JSON_C_TO_STRING_PLAIN, &len[i]);
		else
			return 2;
	}
	if (!split_digits(t[0], len[0], &x) || !split_digits(t[1], len[1], &y))
		return 2;
	if (x.neg != y.neg)
		return x.neg ? -1 : 1;
	if (x.ilen != y.ilen)
		c = x.ilen < y.ilen ? -1 : 1;
	else if ((c = memcmp(x.ip, y.ip, x.ilen)) != 0)
		c = c < 0 ? -1 : 1;
	else
		c = cmp_fraction(&x, &y);
	return x.neg ? -c : c;
}

/*
 * Orders two numbers exactly. Two doubles read from text are each the
 * nearest to their decimal, and rounding keeps order: when they differ
 * they order the decimals, and only a tie needs the decimals themselves.
 */
static int
compare_numbers(const struct value *a, const struct ecs_num *x,
    const struct value *b, const struct ecs_num *y)
{
	struct ecs_dec da, db;
	int c;

	if (x->is_int && y->is_int)
		return (x->i > y->i) - (x->i < y->i);
	if (!a->approx && !b->approx && x->d != y->d && !isnan(x->d) &&
	    !isnan(y->d))
		return ecs_num_cmp(x, y);
	if (value_dec(a, &da) && value_dec(b, &db)) {
		if ((!da.exact || !db.exact) && (c = compare_texts(a, b)) != 2)
			return c;
		return dec_order(&da, &db);
	}
	return ecs_num_cmp(x, y);
}

/*
 * Orders a and b: -1, 0 or 1; 2 when they have no order (different kinds,
 * NaN), 3 when they are unequal but not ordered (booleans, JSON values).
 */
static struct json_object *value_json(const struct value *,
    const struct ctx *);

/*
 * Whether two arrays or objects are equal as json-c sees them: by value,
 * whatever their spacing (a captured field is its text as written).
 */
static bool
json_equal(const struct value *a, const struct value *b, const struct ctx *c)
{
	struct json_object *ja = value_json(a, c), *jb = value_json(b, c);

	return ja != NULL && jb != NULL && json_object_equal(ja, jb);
}

static int
compare(const struct value *a, const struct value *b, const struct ctx *ctx)
{
	struct ecs_num x, y;
	size_t n;
	int c;

	if (a->type == V_STR && b->type == V_STR) {
		n = a->len < b->len ? a->len : b->len;
		c = memcmp(a->s, b->s, n);
		if (c == 0)
			c = (a->len > b->len) - (a->len < b->len);
		return (c > 0) - (c < 0);
	}
	if ((a->type == V_NUM || b->type == V_NUM) && as_number(a, &x) &&
	    as_number(b, &y))
		return compare_numbers(a, &x, b, &y);
	if (a->type != b->type)
		return 2;
	switch (a->type) {
	case V_NULL:
		return 0;
	case V_BOOL:
		return a->b == b->b ? 0 : 3;
	case V_JSON:
		return json_equal(a, b, ctx) ? 0 : 3;
	default:
		return 2;
	}
}

static bool
compare_op(enum tok op, const struct value *a, const struct value *b,
    const struct ctx *ctx)
{
	int c;

	if (a->type == V_MISSING || b->type == V_MISSING)
		return false;
	c = compare(a, b, ctx);
	switch (op) {
	case T_EQ:	return c == 0;
	case T_NE:	return c != 0;
	case T_LT:	return c == -1;
	case T_LE:	return c == -1 || c == 0;
	case T_GT:	return c == 1;
	default:	return c == 1 || c == 0;
	}
}

static void
set_num_int(struct value *v, int64_t i)
{
	v->type = V_NUM;
	v->n.is_int = true;
	v->n.i = i;
	v->n.d = (double)i;
}

/* The result d of arithmetic: exact while it is, and its fast view. */
static void
set_num_dec(struct value *v, const struct ecs_dec *d)
{
	v->type = V_NUM;
	v->dec = *d;
	v->has_dec = true;
	v->approx = true;
	v->n.is_int = d->exact && d->scale == 0 && d->m >= INT64_MIN &&
	    d->m <= INT64_MAX;
	v->n.i = v->n.is_int ? (int64_t)d->m : 0;
	v->n.d = d->d;
}

/* Integer arithmetic; false when the result is not an exact int64. */
static bool
int_arith(enum tok op, int64_t x, int64_t y, int64_t *r)
{
	switch (op) {
	case T_PLUS:
		return !__builtin_add_overflow(x, y, r);
	case T_MINUS:
		return !__builtin_sub_overflow(x, y, r);
	case T_STAR:
		return !__builtin_mul_overflow(x, y, r);
	case T_SLASH:
		if (y == 0 || (x == INT64_MIN && y == -1) || x % y != 0)
			return false;
		*r = x / y;
		return true;
	default:
		if (y == 0)
			return false;
		*r = y == -1 ? 0 : x % y;
		return true;
	}
}

/*
 * a op b: int64 when both are and the result fits, else exact decimals
 * (see ecs_decimal.c for when they fall back to a double); x/0 and x%0
 * are missing.
 */
static void
arith(enum tok op, const struct value *a, const struct ecs_num *x,
    const struct value *b, const struct ecs_num *y, struct value *v)
{
	struct ecs_dec d, e;
	int64_t r;

	if (x->is_int && y->is_int && int_arith(op, x->i, y->i, &r)) {
		set_num_int(v, r);
		return;
	}
	if (!value_dec(a, &d) || !value_dec(b, &e))
		return;
	switch (op) {
	case T_PLUS:
		ecs_dec_add(&d, &e);
		break;
	case T_MINUS:
		ecs_dec_neg(&e);
		ecs_dec_add(&d, &e);
		break;
	case T_STAR:
		ecs_dec_mul(&d, &e);
		break;
	case T_SLASH:
		if (!ecs_dec_div(&d, &e))
			return;
		break;
	default:
		if (!ecs_dec_mod(&d, &e))
			return;
		break;
	}
	set_num_dec(v, &d);
}

/* The value as a double: the nearest to an exact result. */
static double
value_double(const struct value *v, const struct ecs_num *n)
{
	return v->has_dec && v->approx ? ecs_dec_to_double(&v->dec) : n->d;
}

/* A computed number's text into buf[64]: all its digits when exact. */
static size_t
format_number(const struct value *v, char *buf)
{
	if (v->has_dec)
		return ecs_dec_format(&v->dec, buf, 64);
	if (v->n.is_int)
		return (size_t)snprintf(buf, 64, "%lld", (long long)v->n.i);
	return ecs_format_double(v->n.d, -1, buf, 64);
}

/* Why an evaluation since the last ecs_expr_take_error had no answer. */
static const char *gave_up;

const char *
ecs_expr_take_error(void)
{
	const char *why = gave_up;

	gave_up = NULL;
	return why;
}

/*
 * Whether v matches n's pattern. A match that gives up (a limit of
 * ecs_regex.h) is false and leaves its reason for ecs_expr_take_error.
 */
static bool
regex_match(const struct node *n, const struct value *v)
{
	char buf[64];
	const char *s, *why;
	size_t len;
	int rc;

	if (v->type == V_STR) {
		s = v->s;
		len = v->len;
	} else if (v->type == V_NUM && v->text != NULL) {
		s = v->text;
		len = v->tlen;
	} else if (v->type == V_NUM && v->j != NULL) {
		s = json_object_to_json_string_length(v->j,
		    JSON_C_TO_STRING_PLAIN, &len);
	} else if (v->type == V_NUM) {
		len = format_number(v, buf);
		s = buf;
	} else
		return false;
	if ((rc = ecs_regex_match(n->re, s, len, &why)) < 0 &&
	    gave_up == NULL)
		gave_up = why;
	return rc == 1;
}

/* Scratch space of one evaluation */

/*
 * What one evaluation may compute: nested calls could double a string at
 * each level (replace(replace(s, "a", "aa"), "a", "aa")...), so a result
 * beyond this has no value instead of exhausting memory.
 */
#define SCRATCH_MAX	((size_t)256 << 20)

/* size bytes until the next evaluation; NULL past SCRATCH_MAX. */
static void *
scratch_alloc(struct scratch *sc, size_t size)
{
	if (size > SCRATCH_MAX - sc->bytes)
		return NULL;
	sc->bytes += size;
	if (sc->nptr == sc->capptr) {
		sc->capptr = sc->capptr == 0 ? 16 : sc->capptr * 2;
		sc->ptr = ecs_xrealloc(sc->ptr, sc->capptr * sizeof(*sc->ptr));
	}
	return sc->ptr[sc->nptr++] = ecs_xmalloc(size == 0 ? 1 : size);
}

/* Takes over a reference to j until the next evaluation. */
static struct json_object *
scratch_json(struct scratch *sc, struct json_object *j)
{
	if (sc->njson == sc->capjson) {
		sc->capjson = sc->capjson == 0 ? 4 : sc->capjson * 2;
		sc->json = ecs_xrealloc(sc->json,
		    sc->capjson * sizeof(*sc->json));
	}
	return sc->json[sc->njson++] = j;
}

static void
scratch_reset(struct scratch *sc)
{
	sc->bytes = 0;
	while (sc->nptr > 0)
		free(sc->ptr[--sc->nptr]);
	while (sc->njson > 0)
		json_object_put(sc->json[--sc->njson]);
}

/* Results of functions */

static void
set_str(struct value *v, const char *s, size_t len)
{
	v->type = V_STR;
	v->s = s;
	v->len = len;
}

static void
set_bool(struct value *v, bool b)
{
	v->type = V_BOOL;
	v->b = b;
}

static void
arg(const struct node *n, const struct ctx *c, size_t i, struct value *v)
{
	eval(n->items[i], c, v);
}

/* Argument i when it is a string. */
static bool
arg_str(const struct node *n, const struct ctx *c, size_t i, struct value *v)
{
	arg(n, c, i, v);
	return v->type == V_STR;
}

/* d as an int64 when it is a whole number that fits. */
static bool
dec_int(const struct ecs_dec *d, int64_t *out)
{
	ecs_i128 m = d->m;
	int k;

	if (!d->exact)
		return false;
	for (k = 0; k < d->scale; k++) {
		if (m % 10 != 0)
			return false;
		m /= 10;
	}
	if (m < INT64_MIN || m > INT64_MAX)
		return false;
	*out = (int64_t)m;
	return true;
}

/* Argument i when it is a whole number (3, 3.0, "3"). */
static bool
arg_int(const struct node *n, const struct ctx *c, size_t i, int64_t *out)
{
	struct value v;
	struct ecs_dec d;

	arg(n, c, i, &v);
	return (v.type == V_NUM || v.type == V_STR) && value_dec(&v, &d) &&
	    dec_int(&d, out);
}

/*
 * The JSON of an array or object value: the record's own, or parsed from
 * a captured field's text into the scratch; NULL for other values.
 */
static struct json_object *
value_json(const struct value *v, const struct ctx *c)
{
	struct json_tokener *tok;
	struct json_object *j;

	if (v->type != V_JSON)
		return NULL;
	if (v->j != NULL)
		return v->j;
	/* Charged to the scratch, json-c's objects being larger than text. */
	if (v->text == NULL || v->tlen > (SCRATCH_MAX - c->sc->bytes) / 8 ||
	    (tok = json_tokener_new()) == NULL)
		return NULL;
	c->sc->bytes += v->tlen * 8;
	j = json_tokener_parse_ex(tok, v->text, (int)v->tlen);
	json_tokener_reset(tok);
	/* Integers past 64 bits as the reader keeps them (ecs_reader_parse). */
	if (j != NULL)
		j = ecs_json_exact_ints(tok, v->text, v->tlen, j);
	json_tokener_free(tok);
	return j == NULL ? NULL : scratch_json(c->sc, j);
}

/* A list: a computed one, or a JSON array. */
struct list {
	const struct value	*items;
	struct json_object	*array;
	size_t			 n;
};

static bool
list_open(const struct value *v, const struct ctx *c, struct list *l)
{
	struct json_object *j;

	l->items = NULL;
	l->array = NULL;
	l->n = 0;
	if (v->type == V_LIST) {
		l->items = v->items;
		l->n = v->nitems;
		return true;
	}
	if ((j = value_json(v, c)) == NULL ||
	    !json_object_is_type(j, json_type_array))
		return false;
	l->array = j;
	l->n = json_object_array_length(j);
	return true;
}

static void
list_get(const struct list *l, size_t i, struct value *v)
{
	if (l->items != NULL)
		*v = l->items[i];
	else
		value_of_json(json_object_array_get_idx(l->array, i), false, v);
}

/*
 * The text of an array or object captured from the line's bytes, as
 * json-c writes it, so that a line read by json-c (one with an escape)
 * gives the same text: compacted, or through json-c when it repeats a
 * key. False past SCRATCH_MAX.
 */
static bool
compact_text(const struct value *v, const struct ctx *c, const char **text,
    size_t *len)
{
	struct ecs_field f = { ECS_F_OTHER, v->text, v->tlen, NULL };
	struct ecs_buf b = { 0 };
	struct json_object *j;
	char *out;

	if (ecs_field_compact(&f, &b)) {
		out = scratch_alloc(c->sc, b.len);
		if (out != NULL)
			memcpy(out, b.p, b.len);
		*text = out;
		*len = b.len;
		ecs_buf_free(&b);
		return out != NULL;
	}
	ecs_buf_free(&b);
	if ((j = value_json(v, c)) == NULL)
		return false;
	*text = json_object_to_json_string_length(j,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
	return true;
}

/*
 * The text of a value, as templates and group keys write it: a string
 * raw, a number as written, lists and objects as compact JSON. buf holds
 * a computed number; false when the value is missing.
 */
static bool
value_text(const struct value *v, const struct ctx *c, char buf[static 64],
    const char **text, size_t *len)
{
	struct json_object *j, *arr;
	struct list l;
	struct value item;
	size_t i;

	switch (v->type) {
	case V_MISSING:
		return false;
	case V_STR:
		*text = v->s;
		*len = v->len;
		return true;
	case V_NULL:
		*text = "null";
		break;
	case V_BOOL:
		*text = v->b ? "true" : "false";
		break;
	case V_NUM:
		if (v->text != NULL) {
			*text = v->text;
			*len = v->tlen;
			return true;
		}
		if (v->j != NULL)
			break;
		*len = format_number(v, buf);
		*text = buf;
		return true;
	case V_JSON:
		if (v->j == NULL && v->text != NULL)
			return compact_text(v, c, text, len);
		break;
	case V_LIST:
		arr = scratch_json(c->sc, json_object_new_array());
		list_open(v, c, &l);
		for (i = 0; i < l.n; i++) {
			list_get(&l, i, &item);
			j = item.type == V_STR ? json_object_new_string_len(
			    item.s, (int)item.len) : NULL;
			json_object_array_add(arr, j);
		}
		*text = json_object_to_json_string_length(arr,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    len);
		return true;
	}
	if (v->j != NULL) {
		*text = json_object_to_json_string_length(v->j,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
		return true;
	}
	*len = strlen(*text);
	return true;
}

/* UTF-8: functions count characters (code points), not bytes. */

/*
 * The length of the UTF-8 character at s[0..len) and its code point; an
 * invalid byte is a character of its own, with *wc WEOF.
 */
static size_t
utf8_char(const unsigned char *s, size_t len, wint_t *wc)
{
	size_t n, i;
	wint_t w;

	*wc = WEOF;
	if (s[0] < 0x80) {
		*wc = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		w = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		w = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		w = s[0] & 0x07;
	} else
		return 1;
	if (n > len)
		return 1;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 1;
		w = (w << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((n == 3 && w < 0x800) || (n == 4 && (w < 0x10000 ||
	    w > 0x10ffff)) || (w >= 0xd800 && w <= 0xdfff))
		return 1;
	*wc = w;
	return n;
}

static size_t
utf8_put(wint_t w, char *out)
{
	if (w < 0x80) {
		out[0] = (char)w;
		return 1;
	}
	if (w < 0x800) {
		out[0] = (char)(0xc0 | (w >> 6));
		out[1] = (char)(0x80 | (w & 0x3f));
		return 2;
	}
	if (w < 0x10000) {
		out[0] = (char)(0xe0 | (w >> 12));
		out[1] = (char)(0x80 | ((w >> 6) & 0x3f));
		out[2] = (char)(0x80 | (w & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (w >> 18));
	out[1] = (char)(0x80 | ((w >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((w >> 6) & 0x3f));
	out[3] = (char)(0x80 | (w & 0x3f));
	return 4;
}

/* The byte offset of character k of s (len when s is shorter). */
static size_t
utf8_offset(const char *s, size_t len, int64_t k)
{
	size_t i = 0;
	wint_t w;

	while (k-- > 0 && i < len)
		i += utf8_char((const unsigned char *)s + i, len - i, &w);
	return i;
}

static size_t
utf8_length(const char *s, size_t len)
{
	size_t i = 0, n = 0;
	wint_t w;

	for (; i < len; n++)
		i += utf8_char((const unsigned char *)s + i, len - i, &w);
	return n;
}

/* String functions */

/*
 * Case mapping works on UTF-8 characters whatever the caller's locale:
 * C.UTF-8, which glibc always provides. NULL when it is missing.
 */
static locale_t
utf8_locale(void)
{
	static locale_t utf8;

	if (utf8 == (locale_t)0)
		utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	return utf8;
}

/* lower() and upper(): case mapping of C.UTF-8 (ASCII without it). */
static void
map_case(const struct node *n, const struct ctx *c, struct value *v,
    bool upper)
{
	locale_t utf8 = utf8_locale();
	struct value s;
	char *out;
	size_t i = 0, o = 0, k;
	wint_t w;

	if (!arg_str(n, c, 0, &s))
		return;
	if (s.len > SCRATCH_MAX / 4 ||
	    (out = scratch_alloc(c->sc, s.len * 4)) == NULL)
		return;
	while (i < s.len) {
		k = utf8_char((const unsigned char *)s.s + i, s.len - i, &w);
		if (w == WEOF || (utf8 == (locale_t)0 && w >= 0x80)) {
			memcpy(out + o, s.s + i, k);
			o += k;
		} else {
			if (utf8 != (locale_t)0)
				w = upper ? towupper_l(w, utf8) :
				    towlower_l(w, utf8);
			else
				w = upper ? (wint_t)toupper((int)w) :
				    (wint_t)tolower((int)w);
			o += utf8_put(w, out + o);
		}
		i += k;
	}
	set_str(v, out, o);
}

static void
fn_lower(const struct node *n, const struct ctx *c, struct value *v)
{
	map_case(n, c, v, false);
}

static void
fn_upper(const struct node *n, const struct ctx *c, struct value *v)
{
	map_case(n, c, v, true);
}

/* contains, starts_with, ends_with: where s holds t, bytewise. */
static void
find_in(const struct node *n, const struct ctx *c, struct value *v,
    int where)
{
	struct value s, t;

	if (!arg_str(n, c, 0, &s) || !arg_str(n, c, 1, &t))
		return;
	if (t.len > s.len)
		set_bool(v, false);
	else if (where < 0)
		set_bool(v, memcmp(s.s, t.s, t.len) == 0);
	else if (where > 0)
		set_bool(v, memcmp(s.s + s.len - t.len, t.s, t.len) == 0);
	else
		set_bool(v, t.len == 0 ||
		    memmem(s.s, s.len, t.s, t.len) != NULL);
}

static void
fn_contains(const struct node *n, const struct ctx *c, struct value *v)
{
	find_in(n, c, v, 0);
}

static void
fn_starts_with(const struct node *n, const struct ctx *c, struct value *v)
{
	find_in(n, c, v, -1);
}

static void
fn_ends_with(const struct node *n, const struct ctx *c, struct value *v)
{
	find_in(n, c, v, 1);
}

static void
fn_length(const struct node *n, const struct ctx *c, struct value *v)
{
	struct value x;
	struct json_object *j;
	struct list l;

	arg(n, c, 0, &x);
	if (x.type == V_STR)
		set_num_int(v, (int64_t)utf8_length(x.s, x.len));
	else if (list_open(&x, c, &l))
		set_num_int(v, (int64_t)l.n);
	else if ((j = value_json(&x, c)) != NULL)
		set_num_int(v, (int64_t)json_object_object_length(j));
}

/*
 * substr(s, start[, count]): count characters from start, both counted in
 * characters from 0; a negative start counts from the end, as in jq.
 */
static void
fn_substr(const struct node *n, const struct ctx *c, struct value *v)
{
	struct value s;
	int64_t start, count = INT64_MAX, len;
	size_t from, to;

	if (!arg_str(n, c, 0, &s) || !arg_int(n, c, 1, &start) ||
	    (n->nitems > 2 && (!arg_int(n, c, 2, &count) || count < 0)))
		return;
	len = (int64_t)utf8_length(s.s, s.len);
	if (start < 0)
		start = start < -len ? 0 : len + start;
	if (start > len)
		start = len;
	if (count > len - start)
		count = len - start;
	from = utf8_offset(s.s, s.len, start);
	to = from + utf8_offset(s.s + from, s.len - from, count);
	set_str(v, s.s + from, to - from);
}

/* replace(s, from, to): every occurrence of from, left to right. */
static void
fn_replace(const struct node *n, const struct ctx *c, struct value *v)
{
	struct value s, from, to;
	const char *p, *hit;
	char *out;
	size_t hits = 0, o = 0;

	if (!arg_str(n, c, 0, &s) || !arg_str(n, c, 1, &from) ||
	    !arg_str(n, c, 2, &to))
		return;
	if (from.len == 0) {
		*v = s;
		return;
	}
	for (p = s.s; (hit = memmem(p, s.len - (size_t)(p - s.s), from.s,
	    from.len)) != NULL; p = hit + from.len)
		hits++;
	if (to.len > 0 && hits > (SCRATCH_MAX - s.len) / to.len)
		return;			/* longer than SCRATCH_MAX */
	if ((out = scratch_alloc(c->sc, s.len + hits * to.len)) == NULL)
		return;
	for (p = s.s; (hit = memmem(p, s.len - (size_t)(p - s.s), from.s,
	    from.len)) != NULL; p = hit + from.len) {
		memcpy(out + o, p, (size_t)(hit - p));
		o += (size_t)(hit - p);
		memcpy(out + o, to.s, to.len);
		o += to.len;
	}
	memcpy(out + o, p, s.len - (size_t)(p - s.s));
	o += s.len - (size_t)(p - s.s);
	set_str(v, out, o);
}

/*
 * split(s, sep): the list of the parts between the separators, so one more
 * than there are separators ("" gives [""]); sep "" splits characters.
 */
static void
fn_split(const struct node *n, const struct ctx *c, struct value *v)
{
	struct value s, sep, *items;
	const char *p, *end, *hit;
	size_t count = 1, i = 0, k;
	wint_t w;

	if (!arg_str(n, c, 0, &s) || !arg_str(n, c, 1, &sep))
		return;
	end = s.s + s.len;
	if (sep.len == 0)
		count = utf8_length(s.s, s.len);
	else
		for (p = s.s; (hit = memmem(p, (size_t)(end - p), sep.s,
		    sep.len)) != NULL; p = hit + sep.len)
			count++;
	if (count > SCRATCH_MAX / sizeof(*items) ||
	    (items = scratch_alloc(c->sc, count * sizeof(*items))) == NULL)
		return;
	memset(items, 0, count * sizeof(*items));
	for (p = s.s; i < count; i++) {
		if (sep.len == 0)
			k = utf8_char((const unsigned char *)p,
			    (size_t)(end - p), &w);
		else if ((hit = memmem(p, (size_t)(end - p), sep.s,
		    sep.len)) != NULL)
			k = (size_t)(hit - p);
		else
			k = (size_t)(end - p);
		set_str(&items[i], p, k);
		p += k + sep.len;
	}
	v->type = V_LIST;
	v->items = items;
	v->nitems = count;
}

/* concat(a, ...): the texts of the values, as templates write them. */
static void
fn_concat(const struct node *n, const struct ctx *c, struct value *v)
{
	struct value x;
	const char **text = scratch_alloc(c->sc, n->nitems * sizeof(*text));
	size_t *len = scratch_alloc(c->sc, n->nitems * sizeof(*len));
	size_t i, total = 0;
	char *out, *buf;

	if (text == NULL || len == NULL)
		return;
	for (i = 0; i < n->nitems; i++) {
		arg(n, c, i, &x);
		if ((buf = scratch_alloc(c->sc, 64)) == NULL ||
		    x.type == V_NULL ||
		    !value_text(&x, c, buf, &text[i], &len[i]) ||
		    len[i] > SCRATCH_MAX - total)
			return;
		total += len[i];
	}
	if ((out = scratch_alloc(c->sc, total)) == NULL)
		return;
	for (total = 0, i = 0; i < n->nitems; i++) {
		memcpy(out + total, text[i], len[i]);
		total += len[i];
	}
	set_str(v, out, total);
}

/* Numbers */

static ecs_i128
pow10_i128(int k)
{
	ecs_i128 p = 1;

	while (k-- > 0)
		p *= 10;
	return p;
}

enum rounding { R_HALF_EVEN, R_FLOOR, R_CEIL };

/*
 * d to places decimal places (negative: tens, hundreds...). Exact
 * decimals round exactly; a double rounds as a double and stays one.
 */
static void
dec_round(struct ecs_dec *d, int places, enum rounding mode)
{
	ecs_i128 p, q, r;
	double x, f;

	if (!d->exact) {
		f = pow(10, places);
		x = d->d * f;
		x = mode == R_FLOOR ? floor(x) : mode == R_CEIL ? ceil(x) :
		    nearbyint(x);
		d->d = x / f;
		return;
	}
	if (d->scale <= places)
		return;
	p = pow10_i128(d->scale - places);
	q = d->m / p;
	r = d->m % p;
	if (mode == R_FLOOR)
		q -= r < 0;
	else if (mode == R_CEIL)
		q += r > 0;
	else if ((r < 0 ? -r : r) * 2 > p ||
	    ((r < 0 ? -r : r) * 2 == p && q % 2 != 0))
		q += d->m < 0 ? -1 : 1;
	d->m = places >= 0 ? q : q * pow10_i128(-places);
	d->scale = places >= 0 ? places : 0;
	d->d = ecs_dec_to_double(d);
}

/* The number argument i as a decimal; false when it is no number. */
static bool
arg_dec(const struct node *n, const struct ctx *c, size_t i,
    struct value *x, struct ecs_dec *d)
{
	arg(n, c, i, x);
	return (x->type == V_NUM || x->type == V_STR) && value_dec(x, d);
}

static void
set_rounded(struct value *v, const struct value *x, struct ecs_dec *d)
{
	set_num_dec(v, d);
	v->approx = !d->exact || x->approx;
}

#define MAX_PLACES	18

static void
fn_round(const struct node *n, const struct ctx *c, struct value *v)
{
	struct value x;
	struct ecs_dec d;
	int64_t places = 0;

	if (!arg_dec(n, c, 0, &x, &d) || (n->nitems > 1 &&
	    (!arg_int(n, c, 1, &places) || places < -MAX_PLACES ||
	    places > MAX_PLACES)))
		return;
	dec_round(&d, (int)places, R_HALF_EVEN);
	set_rounded(v, &x, &d);
}

static void
fn_floor(const struct node *n, const struct ctx *c, struct value *v)
{
	struct value x;
	struct ecs_dec d;

	if (!arg_dec(n, c, 0, &x, &d))
		return;
	dec_round(&d, 0, R_FLOOR);
	set_rounded(v, &x, &d);
}

static void
fn_ceil(const struct node *n, const struct ctx *c, struct value *v)
{
	struct value x;
	struct ecs_dec d;

	if (!arg_dec(n, c, 0, &x, &d))
		return;
	dec_round(&d, 0, R_CEIL);
	set_rounded(v, &x, &d);
}

static void
fn_abs(const struct node *n, const struct ctx *c, struct value *v)
{
	struct value x;
	struct ecs_dec d;

	if (!arg_dec(n, c, 0, &x, &d))
		return;
	if (d.exact ? d.m < 0 : d.d < 0)
		ecs_dec_neg(&d);
	set_rounded(v, &x, &d);
}

/*
 * min and max of their arguments, skipping null and missing ones as SQL's
 * least and greatest do; no value when two of them have no order.
 */
static void
extremum(const struct node *n, const struct ctx *c, struct value *v, int want)
{
	struct value x;
	size_t i;
	int order;

	for (i = 0; i < n->nitems; i++) {
		arg(n, c, i, &x);
		if (x.type == V_MISSING || x.type == V_NULL)
			continue;
		if (v->type == V_MISSING) {
			*v = x;
			continue;
		}
		order = compare(&x, v, c);
		if (order != -1 && order != 0 && order != 1) {
			memset(v, 0, sizeof(*v));
			return;
		}
		if (order == want)
			*v = x;
	}
}

static void
fn_min(const struct node *n, const struct ctx *c, struct value *v)
{
	extremum(n, c, v, -1);
}

static void
fn_max(const struct node *n, const struct ctx *c, struct value *v)
{
	extremum(n, c, v, 1);
}

/* to_number: a number, or a string that is exactly a JSON number. */
static void
fn_to_number(const struct node *n, const struct ctx *c, struct value *v)
{
	struct value x;

	arg(n, c, 0, &x);
	if (x.type == V_NUM)
		*v = x;
	else if (x.type == V_STR && ecs_num_parse(x.s, x.len, &v->n)) {
		v->type = V_NUM;
		v->text = x.s;
		v->tlen = x.len;
	}
}

/* to_string: the text of a value, as templates write it; null has none. */
static void
fn_to_string(const struct node *n, const struct ctx *c, struct value *v)
{
	struct value x;
	const char *text;
	char *buf = scratch_alloc(c->sc, 64);
	size_t len;

	arg(n, c, 0, &x);
	if (buf != NULL && x.type != V_NULL &&
	    value_text(&x, c, buf, &text, &len))
		set_str(v, text, len);
}

/* Logic */

static void
fn_coalesce(const struct node *n, const struct ctx *c, struct value *v)
{
	size_t i;

	for (i = 0; i < n->nitems; i++) {
		arg(n, c, i, v);
		if (v->type != V_MISSING && v->type != V_NULL)
			return;
	}
}

static void
fn_if(const struct node *n, const struct ctx *c, struct value *v)
{
	struct value cond;

	arg(n, c, 0, &cond);
	arg(n, c, truthy(&cond) ? 1 : 2, v);
}

/* any(list, cond) and all(list, cond), with "." each element in turn. */
static void
quantify(const struct node *n, const struct ctx *c, struct value *v, bool all)
{
	struct value list, item, r;
	struct ctx inner = *c;
	struct list l;
	size_t i;

	arg(n, c, 0, &list);
	if (!list_open(&list, c, &l))
		return;
	inner.elem = &item;
	set_bool(v, all);
	for (i = 0; i < l.n; i++) {
		list_get(&l, i, &item);
		eval(n->items[1], &inner, &r);
		if (truthy(&r) != all) {
			v->b = !all;
			return;
		}
	}
}

static void
fn_any(const struct node *n, const struct ctx *c, struct value *v)
{
	quantify(n, c, v, false);
}

static void
fn_all(const struct node *n, const struct ctx *c, struct value *v)
{
	quantify(n, c, v, true);
}

/* Time */

/* The instant a value stands for, as time() reads it. */
static bool
value_ms(const struct value *x, int64_t *ms)
{
	if (x->type == V_STR)
		return ecs_time_parse(x->s, x->len, ms);
	if (x->type == V_NUM && x->j != NULL)
		return ecs_time_from_json(x->j, ms);
	if (x->type == V_NUM)
		return ecs_time_from_epoch(value_double(x, &x->n), ms);
	return false;
}

/* Seconds since the epoch, with their milliseconds exactly. */
static void
set_seconds(struct value *v, int64_t ms)
{
	if (ms % 1000 == 0) {
		set_num_int(v, ms / 1000);
		return;
	}
	set_num_dec(v, &(struct ecs_dec){ ms, 3, true, (double)ms / 1000.0 });
	v->approx = false;
}

static void
fn_time(const struct node *n, const struct ctx *c, struct value *v)
{
	struct value x;
	int64_t ms;

	arg(n, c, 0, &x);
	if (value_ms(&x, &ms))
		set_seconds(v, ms);
}

static void
fn_now(const struct node *n, const struct ctx *c, struct value *v)
{
	(void)n;
	(void)c;
	set_seconds(v, ecs_time_now());
}

/* The calendar fields of argument 0 in the --tz zone (else UTC). */
static bool
arg_tm(const struct node *n, const struct ctx *c, struct tm *tm,
    int64_t *ms)
{
	struct value x;

	arg(n, c, 0, &x);
	if (!value_ms(&x, ms))
		return false;
	ecs_time_local(*ms, tm);
	return true;
}

static int
iso_weekday(const struct tm *tm)
{
	return tm->tm_wday == 0 ? 7 : tm->tm_wday;
}

/* Which calendar field a date-part function returns. */
enum part { P_YEAR, P_MONTH, P_HOUR, P_WEEKDAY, P_WEEK };

static void
date_part(const struct node *n, const struct ctx *c, struct value *v,
    enum part part)
{
	struct tm tm;
	int64_t ms;
	char buf[8];

	if (!arg_tm(n, c, &tm, &ms))
		return;
	switch (part) {
	case P_YEAR:
		set_num_int(v, (int64_t)tm.tm_year + 1900);
		break;
	case P_MONTH:
		set_num_int(v, tm.tm_mon + 1);
		break;
	case P_HOUR:
		set_num_int(v, tm.tm_hour);
		break;
	case P_WEEKDAY:
		set_num_int(v, iso_weekday(&tm));
		break;
	case P_WEEK:
		strftime(buf, sizeof(buf), "%V", &tm);
		set_num_int(v, atoi(buf));
		break;
	}
}

static void
fn_year(const struct node *n, const struct ctx *c, struct value *v)
{
	date_part(n, c, v, P_YEAR);
}

static void
fn_month(const struct node *n, const struct ctx *c, struct value *v)
{
	date_part(n, c, v, P_MONTH);
}

static void
fn_hour(const struct node *n, const struct ctx *c, struct value *v)
{
	date_part(n, c, v, P_HOUR);
}

static void
fn_weekday(const struct node *n, const struct ctx *c, struct value *v)
{
	date_part(n, c, v, P_WEEKDAY);
}

static void
fn_week(const struct node *n, const struct ctx *c, struct value *v)
{
	date_part(n, c, v, P_WEEK);
}

static void
fn_date(const struct node *n, const struct ctx *c, struct value *v)
{
	struct tm tm;
	int64_t ms;
	char *out;

	if (!arg_tm(n, c, &tm, &ms))
		return;
	if ((out = scratch_alloc(c->sc, 16)) != NULL)
		set_str(v, out, strftime(out, 16, "%Y-%m-%d", &tm));
}

static const char *const trunc_units[] = {
	"hour", "day", "week", "month", "year"
};

/* trunc(ts, unit): the start of its hour, day, ISO week, month or year. */
static void
fn_trunc(const struct node *n, const struct ctx *c, struct value *v)
{
	const struct value *unit = &n->items[1]->lit;
	struct tm tm;
	int64_t ms;
	char *out;

	if (!arg_tm(n, c, &tm, &ms))
		return;
	if (unit->s[0] == 'h')		/* also at offsets like +05:45 */
		ms -= ((int64_t)tm.tm_min * 60 + tm.tm_sec) * 1000 +
		    (ms % 1000 + 1000) % 1000;
	else {
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		if (unit->s[0] == 'w')
			tm.tm_mday -= iso_weekday(&tm) - 1;
		else if (unit->s[0] == 'm')
			tm.tm_mday = 1;
		else if (unit->s[0] == 'y') {
			tm.tm_mday = 1;
			tm.tm_mon = 0;
		}
		ms = ecs_time_from_local(&tm);
	}
	if ((out = scratch_alloc(c->sc, 40)) != NULL)
		set_str(v, out, ecs_time_format_local(ms, out));
}

/* The unit of trunc is a string literal, so that a typo is refused. */
static bool
check_trunc(struct lexer *lx, const struct node *n, const char *at)
{
	const struct node *u = n->items[1];
	size_t i;

	if (u->kind == N_LIT && u->lit.type == V_STR)
		for (i = 0; i < sizeof(trunc_units) / sizeof(*trunc_units); i++)
			if (strlen(trunc_units[i]) == u->lit.len &&
			    strcmp(trunc_units[i], u->lit.s) == 0)
				return true;
	fail_at(lx, at, "trunc takes a unit \"hour\", \"day\", \"week\", "
	    "\"month\" or \"year\"");
	return false;
}

/* round's places, when written as a literal, must be possible. */
static bool
check_round(struct lexer *lx, const struct node *n, const char *at)
{
	const struct node *p = n->nitems > 1 ? n->items[1] : NULL;
	int64_t places;

	if (p == NULL || p->kind != N_LIT || (p->lit.type == V_NUM &&
	    p->lit.has_dec && dec_int(&p->lit.dec, &places) &&
	    places >= -MAX_PLACES && places <= MAX_PLACES))
		return true;
	fail_at(lx, at, "round takes a whole number of places from %d to %d",
	    -MAX_PLACES, MAX_PLACES);
	return false;
}

static const struct func funcs[] = {
	{ "abs",	 1,  1, fn_abs,		false, NULL },
	{ "all",	 2,  2, fn_all,		true,  NULL },
	{ "any",	 2,  2, fn_any,		true,  NULL },
	{ "ceil",	 1,  1, fn_ceil,	false, NULL },
	{ "coalesce",	 1, -1, fn_coalesce,	false, NULL },
	{ "concat",	 1, -1, fn_concat,	false, NULL },
	{ "contains",	 2,  2, fn_contains,	false, NULL },
	{ "date",	 1,  1, fn_date,	false, NULL },
	{ "ends_with",	 2,  2, fn_ends_with,	false, NULL },
	{ "floor",	 1,  1, fn_floor,	false, NULL },
	{ "hour",	 1,  1, fn_hour,	false, NULL },
	{ "if",		 3,  3, fn_if,		false, NULL },
	{ "length",	 1,  1, fn_length,	false, NULL },
	{ "lower",	 1,  1, fn_lower,	false, NULL },
	{ "max",	 1, -1, fn_max,		false, NULL },
	{ "min",	 1, -1, fn_min,		false, NULL },
	{ "month",	 1,  1, fn_month,	false, NULL },
	{ "now",	 0,  0, fn_now,		false, NULL },
	{ "replace",	 3,  3, fn_replace,	false, NULL },
	{ "round",	 1,  2, fn_round,	false, check_round },
	{ "split",	 2,  2, fn_split,	false, NULL },
	{ "starts_with", 2,  2, fn_starts_with,	false, NULL },
	{ "substr",	 2,  3, fn_substr,	false, NULL },
	{ "time",	 1,  1, fn_time,	false, NULL },
	{ "to_number",	 1,  1, fn_to_number,	false, NULL },
	{ "to_string",	 1,  1, fn_to_string,	false, NULL },
	{ "trunc",	 2,  2, fn_trunc,	false, check_trunc },
	{ "upper",	 1,  1, fn_upper,	false, NULL },
	{ "week",	 1,  1, fn_week,	false, NULL },
	{ "weekday",	 1,  1, fn_weekday,	false, NULL },
	{ "year",	 1,  1, fn_year,	false, NULL },
};

static const struct func *
find_func(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		if (strcmp(funcs[i].name, name) == 0)
			return &funcs[i];
	return NULL;
}

/* Whether n is a captured field of c: evaluating it cannot fail. */
static bool
is_field(const struct node *n, const struct ctx *c)
{
	return n->kind == N_PATH && c->fields != NULL && n->slot >= 0;
}

/*
 * Whether the captured field n of c can be no number: missing, null, a
 * boolean, an object or array (a string may be one).
 */
static bool
field_not_number(const struct node *n, const struct ctx *c)
{
	enum ecs_ftype t = c->fields[n->slot].type;

	return t == ECS_F_MISSING || t == ECS_F_NULL || t == ECS_F_BOOL ||
	    t == ECS_F_OTHER;
}

/* Evaluates n in c into *v; strings in *v are borrowed. */
static void
eval(const struct node *n, const struct ctx *c, struct value *v)
{
	struct value a, b, item;
	struct ecs_num x, y;
	struct ecs_dec d;
	struct json_object *j;
	struct list l;
	size_t i;

	memset(v, 0, sizeof(*v));
	switch (n->kind) {
	case N_LIT:
		*v = n->lit;
		return;
	case N_PATH:
		if (c->fields != NULL && n->slot >= 0)
			value_of_field(&c->fields[n->slot], v);
		else if (c->rec != NULL && ecs_path_find(n->path, c->rec, &j))
			value_of_json(j, n->path->is_action, v);
		return;
	case N_EXISTS:
		/* Present and not null, as SQL's IS NOT NULL: a null user_id
		 * is an anonymous event, not a user's. */
		v->type = V_BOOL;
		if (n->of_elem)
			v->b = (j = value_json(c->elem, c)) != NULL &&
			    ecs_path_find(n->path, j, &j) && j != NULL;
		else if (c->fields != NULL && n->slot >= 0)
			v->b = c->fields[n->slot].type != ECS_F_MISSING &&
			    c->fields[n->slot].type != ECS_F_NULL;
		else
			v->b = c->rec != NULL &&
			    ecs_path_find(n->path, c->rec, &j) && j != NULL;
		return;
	case N_CALL:
		n->fn->eval(n, c, v);
		return;
	case N_ELEM:
		if (n->path == NULL)
			*v = *c->elem;
		else if ((j = value_json(c->elem, c)) != NULL &&
		    ecs_path_find(n->path, j, &j))
			value_of_json(j, false, v);
		return;
	case N_NEG:
		eval(n->a, c, &a);
		if (!as_number(&a, &x))
			return;
		if (x.is_int && x.i != INT64_MIN)
			set_num_int(v, -x.i);
		else if (value_dec(&a, &d)) {
			ecs_dec_neg(&d);
			set_num_dec(v, &d);
			v->approx = a.approx;
		}
		return;
	case N_ARITH:
		/*
		 * Missing when a side is no number. When both are fields,
		 * which cannot fail, look at the field types first: then the
		 * number of the other side is not read for nothing (price *
		 * quantity, where most events have no quantity).
		 */
		if (is_field(n->a, c) && is_field(n->b, c) &&
		    (field_not_number(n->a, c) || field_not_number(n->b, c)))
			return;
		eval(n->a, c, &a);
		eval(n->b, c, &b);
		if (as_number(&a, &x) && as_number(&b, &y))
			arith(n->op, &a, &x, &b, &y, v);
		return;
	default:
		break;
	}
	v->type = V_BOOL;
	switch (n->kind) {
	case N_AND:
		eval(n->a, c, &a);
		if (truthy(&a))
			eval(n->b, c, &b);
		v->b = truthy(&a) && truthy(&b);
		return;
	case N_OR:
		eval(n->a, c, &a);
		if (!truthy(&a))
			eval(n->b, c, &b);
		v->b = truthy(&a) || truthy(&b);
		return;
	case N_NOT:
		eval(n->a, c, &a);
		v->b = !truthy(&a);
		return;
	case N_CMP:
		eval(n->a, c, &a);
		eval(n->b, c, &b);
		v->b = compare_op(n->op, &a, &b, c);
		return;
	case N_IN:
		eval(n->a, c, &a);
		for (i = 0; i < n->nitems && !v->b; i++) {
			eval(n->items[i], c, &b);
			v->b = compare_op(T_EQ, &a, &b, c);
		}
		return;
	case N_IN_LIST:
		eval(n->a, c, &a);
		eval(n->b, c, &b);
		if (!list_open(&b, c, &l))
			return;
		for (i = 0; i < l.n && !v->b; i++) {
			list_get(&l, i, &item);
			v->b = compare_op(T_EQ, &a, &item, c);
		}
		return;
	case N_MATCH:
		eval(n->a, c, &a);
		v->b = regex_match(n, &a) == (n->op == T_MATCH);
		if (a.type == V_MISSING)
			v->b = false;
		return;
	default:
		return;
	}
}

/* A context for evaluating e, whose scratch is emptied first. */
static struct ctx
begin(const struct ecs_expr *e, struct json_object *rec,
    const struct ecs_field *fields)
{
	scratch_reset(e->sc);
	return (struct ctx){ rec, fields, e->sc, NULL };
}

bool
ecs_expr_match(const struct ecs_expr *e, struct json_object *rec)
{
	struct ctx c = begin(e, rec, NULL);
	struct value v;

	eval(e->root, &c, &v);
	return truthy(&v);
}

bool
ecs_expr_match_fields(const struct ecs_expr *e, const struct ecs_field *fields)
{
	struct ctx c = begin(e, NULL, fields);
	struct value v;

	eval(e->root, &c, &v);
	return truthy(&v);
}

bool
ecs_expr_text(const struct ecs_expr *e, struct json_object *rec,
    char buf[static 64], const char **text, size_t *len)
{
	struct ctx c = begin(e, rec, NULL);
	struct value v;

	eval(e->root, &c, &v);
	return value_text(&v, &c, buf, text, len);
}

bool
ecs_expr_text_fields(const struct ecs_expr *e, const struct ecs_field *fields,
    char buf[static 64], const char **text, size_t *len)
{
	struct ctx c = begin(e, NULL, fields);
	struct value v;

	eval(e->root, &c, &v);
	return value_text(&v, &c, buf, text, len);
}

static void
bind_node(struct node *n, struct ecs_fieldset *fs)
{
	size_t i;

	if (n == NULL)
		return;
	if (n->kind == N_PATH || (n->kind == N_EXISTS && !n->of_elem))
		n->slot = (int)ecs_fields_add(fs, n->path);
	bind_node(n->a, fs);
	bind_node(n->b, fs);
	for (i = 0; i < n->nitems; i++)
		bind_node(n->items[i], fs);
}

void
ecs_expr_bind(struct ecs_expr *e, struct ecs_fieldset *fs)
{
	bind_node(e->root, fs);
}

/* Values for metrics: exact decimals, doubles and keys */

bool
ecs_expr_eval_dec(const struct ecs_expr *e, const struct ecs_field *fields,
    struct ecs_dec *d)
{
	struct ctx c = begin(e, NULL, fields);
	struct value v;

	eval(e->root, &c, &v);
	return value_dec(&v, d);
}

bool
ecs_expr_eval_double(const struct ecs_expr *e, const struct ecs_field *fields,
    double *d)
{
	struct ctx c = begin(e, NULL, fields);
	struct value v;
	struct ecs_num n;

	eval(e->root, &c, &v);
	if (!as_number(&v, &n))
		return false;
	*d = value_double(&v, &n);
	return true;
}

bool
ecs_expr_eval_key(const struct ecs_expr *e, const struct ecs_field *fields,
    char buf[static 64], const char **text, size_t *len, bool *is_string)
{
	struct ctx c = begin(e, NULL, fields);
	struct value v;

	eval(e->root, &c, &v);
	*is_string = v.type == V_STR;
	return value_text(&v, &c, buf, text, len);
}

void
ecs_expr_eval_field(const struct ecs_expr *e, const struct ecs_field *fields,
    char buf[static 64], struct ecs_field *out)
{
	static const enum ecs_ftype ftype[] = {
		[V_MISSING] = ECS_F_MISSING, [V_NULL] = ECS_F_NULL,
		[V_BOOL] = ECS_F_BOOL, [V_NUM] = ECS_F_NUMBER,
		[V_STR] = ECS_F_STRING, [V_JSON] = ECS_F_OTHER,
		[V_LIST] = ECS_F_OTHER,
	};
	struct ctx c = begin(e, NULL, fields);
	struct value v;

	eval(e->root, &c, &v);
	*out = (struct ecs_field){ .type = ECS_F_MISSING };
	if (value_text(&v, &c, buf, &out->text, &out->len))
		out->type = ftype[v.type];
}

/* Pre-check analysis */

/*
 * The byte of text[0..len) least likely in a line of JSON, by a rough
 * order of how common bytes are in NDJSON events (absent: rarest).
 */
static size_t
rarest_byte(const char *text, size_t len)
{
	static const char common[] = "\":,0123456789_etaionsrdcul-.TZ{}"
	    "pmhgbfywvkxjqz";
	const char *at;
	size_t i, best = 0, rank, best_rank = 0;

	for (i = 0; i < len; i++) {
		at = strchr(common, text[i]);
		rank = at != NULL && text[i] != '\0' ? (size_t)(at - common) :
		    sizeof(common);
		if (rank > best_rank) {
			best = i;
			best_rank = rank;
		}
	}
	return best;
}

/* Adds a copy of text to c's needles. */
static void
add_text(struct clause *c, const char *text, size_t len)
{
	struct needle *n;

	c->needle = ecs_xrealloc(c->needle,
	    (c->nneedle + 1) * sizeof(*c->needle));
	n = &c->needle[c->nneedle++];
	n->text = ecs_xmalloc(len + 1);
	memcpy(n->text, text, len);
	n->text[len] = '\0';
	n->len = len;
	n->pivot = rarest_byte(text, len);
}

/* Adds the needle "s" to c, or "s without its closing quote (a prefix). */
static void
add_quoted(struct clause *c, const char *s, size_t len, bool closed)
{
	char *q = ecs_xmalloc(len + 2);

	q[0] = '"';
	memcpy(q + 1, s, len);
	q[len + 1] = '"';
	add_text(c, q, len + 1 + closed);
	free(q);
}

static void
add_needle(struct clause *c, const char *s, size_t len)
{
	add_quoted(c, s, len, true);
}

static void
free_clause(struct clause *c)
{
	size_t i;

	for (i = 0; i < c->nneedle; i++)
		free(c->needle[i].text);
	free(c->needle);
	c->needle = NULL;
	c->nneedle = 0;
}

/*
 * Whether a string appears in a plain JSON line exactly as "s": it needs
 * no escaping, and is not a number (which a number would also equal).
 */
static bool
plain_string(const char *s, size_t len)
{
	struct ecs_num n;
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\')
			return false;
	return !ecs_num_parse(s, len, &n);
}

/* Adds the needles for "path equals lit" to c; false if none can be. */
static bool
equality_needles(const struct node *path, const struct node *lit,
    struct clause *c)
{
	size_t i;

	if (path->kind != N_PATH || lit->kind != N_LIT ||
	    lit->lit.type != V_STR || !plain_string(lit->lit.s, lit->lit.len))
		return false;
	add_needle(c, lit->lit.s, lit->lit.len);
	if (!path->path->is_action)
		return true;
	/* A raw value that --map-action turns into the literal. */
	for (i = 0; i < ecs_config.nactions; i++)
		if (strlen(ecs_config.actions[i].canon) == lit->lit.len &&
		    memcmp(ecs_config.actions[i].canon, lit->lit.s,
		    lit->lit.len) == 0) {
			if (!plain_string(ecs_config.actions[i].input,
			    strlen(ecs_config.actions[i].input)))
				return false;
			add_needle(c, ecs_config.actions[i].input,
			    strlen(ecs_config.actions[i].input));
		}
	return true;
}

/* Moves c onto e's clauses; c is empty again. */
static void
push_clause(struct ecs_expr *e, struct clause *c)
{
	e->clause = ecs_xrealloc(e->clause, (e->nclause + 1) * sizeof(*c));
	e->clause[e->nclause++] = *c;
	*c = (struct clause){ 0 };
}

/*
 * The clause "the line holds the key of path": a comparison or a match is
 * false when its path is missing. Only for a last key that a plain line
 * writes as "key", not one that could index an array.
 */
static bool
key_needle(const struct node *path, struct clause *c)
{
	const struct ecs_seg *last;

	if (path->kind != N_PATH || path->path->nseg == 0)
		return false;
	last = &path->path->seg[path->path->nseg - 1];
	if (last->index >= 0 || strlen(last->key) != last->len ||
	    !plain_string(last->key, last->len))
		return false;
	add_needle(c, last->key, last->len);
	return true;
}

/*
 * The clause for path =~ "^lit...": a matching string value starts with
 * lit, so a plain line holds "lit. Not when the literal could begin a
 * number (=~ reads numbers by their text), when an alternation could
 * bypass the anchor, or when --map-action may rename the value.
 */
static bool
prefix_needle(const struct node *n, struct clause *c)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ ,:;/=@%&!<>~'-";
	const char *pat = n->str;
	size_t len = n->lit.len, k;

	if (n->op != T_MATCH || n->a->kind != N_PATH || len < 2 ||
	    pat[0] != '^' || memchr(pat, '|', len) != NULL ||
	    (n->a->path->is_action && ecs_config.nactions > 0))
		return false;
	for (k = 1; k < len && pat[k] != '\0' && strchr(safe, pat[k]) != NULL;
	    k++)
		continue;
	/* A quantifier after the run may make its last character optional. */
	if (k < len && strchr("?*{", pat[k]) != NULL)
		k--;
	if (k < 2 || strchr("-0123456789", pat[1]) != NULL)
		return false;
	add_quoted(c, pat + 1, k - 1, false);
	return true;
}

/*
 * Pushes onto e the clauses a true leaf n implies: the values it equals,
 * then the key it needs.
 */
static void
leaf_clauses(const struct node *n, struct ecs_expr *e)
{
	struct clause c = { 0 };
	const struct ecs_seg *last;
	size_t i;
	bool ok = true;

	switch (n->kind) {
	case N_CMP:
		if (n->op == T_EQ && (equality_needles(n->a, n->b, &c) ||
		    equality_needles(n->b, n->a, &c)))
			push_clause(e, &c);
		else
			free_clause(&c);
		if (key_needle(n->a, &c) || key_needle(n->b, &c))
			push_clause(e, &c);
		return;
	case N_IN:
		for (i = 0; i < n->nitems && ok; i++)
			ok = equality_needles(n->a, n->items[i], &c);
		if (ok && n->nitems > 0)
			push_clause(e, &c);
		else
			free_clause(&c);
		if (key_needle(n->a, &c))
			push_clause(e, &c);
		return;
	case N_MATCH:
		if (prefix_needle(n, &c))
			push_clause(e, &c);
		if (key_needle(n->a, &c))
			push_clause(e, &c);
		return;
	case N_EXISTS:
		last = &n->path->seg[n->path->nseg - 1];
		if (last->index < 0 && strlen(last->key) == last->len &&
		    plain_string(last->key, last->len)) {
			add_needle(&c, last->key, last->len);
			push_clause(e, &c);
		}
		return;
	default:
		return;
	}
}


/*
 * Collects into e the clauses that a true n implies. For "or" both sides
 * must give one, and their union is the clause; "not" gives nothing.
 */
static void
collect_clauses(const struct node *n, struct ecs_expr *e)
{
	struct ecs_expr left = { 0 }, right = { 0 };
	struct clause c = { 0 };
	size_t i;

	if (n->kind == N_AND) {
		collect_clauses(n->a, e);
		collect_clauses(n->b, e);
		return;
	}
	if (n->kind != N_OR) {
		leaf_clauses(n, e);
		return;
	}
	collect_clauses(n->a, &left);
	collect_clauses(n->b, &right);
	if (left.nclause > 0 && right.nclause > 0) {
		c = left.clause[0];
		for (i = 0; i < right.clause[0].nneedle; i++)
			add_text(&c, right.clause[0].needle[i].text,
			    right.clause[0].needle[i].len);
		left.clause[0] = (struct clause){ 0 };
		push_clause(e, &c);
	}
	for (i = 0; i < left.nclause; i++)
		free_clause(&left.clause[i]);
	for (i = 0; i < right.nclause; i++)
		free_clause(&right.clause[i]);
	free(left.clause);
	free(right.clause);
}

bool
ecs_expr_has_precheck(const struct ecs_expr *e)
{
	return e->nclause > 0;
}

/*
 * Whether line holds n: memchr for its rarest byte, then a comparison
 * around it (glibc's memmem took a third of a filter's time).
 */
static bool
contains(const char *line, size_t len, const struct needle *n)
{
	const char *p, *end, *q;

	if (len < n->len)
		return false;
	p = line + n->pivot;
	end = line + len - (n->len - n->pivot - 1);	/* past the last start */
	while (p < end && (q = memchr(p, n->text[n->pivot],
	    (size_t)(end - p))) != NULL) {
		if (memcmp(q - n->pivot, n->text, n->len) == 0)
			return true;
		p = q + 1;
	}
	return false;
}

bool
ecs_expr_may_match(const struct ecs_expr *e, const char *line, size_t len)
{
	const struct clause *c;
	size_t i, k;

	for (i = 0; i < e->nclause; i++) {
		c = &e->clause[i];
		for (k = 0; k < c->nneedle; k++)
			if (contains(line, len, &c->needle[k]))
				break;
		if (k == c->nneedle)
			return false;
	}
	return true;
}

/* Public entry points */

struct ecs_expr *
ecs_expr_compile(const char *src, char *err, size_t errlen)
{
	struct lexer lx = { .src = src, .p = src, .err = err, .errlen = errlen };
	struct ecs_expr *e;
	struct node *root;
	char buf[48];

	next(&lx);
	root = parse_or(&lx);
	if (root != NULL && lx.tok != T_END)
		fail_at(&lx, lx.tok_start, "unexpected %s after the expression",
		    tok_text(&lx, buf, sizeof(buf)));
	clear_token(&lx);
	if (lx.failed) {
		free_node(root);
		return NULL;
	}
	e = ecs_xcalloc(1, sizeof(*e));
	e->root = root;
	e->sc = ecs_xcalloc(1, sizeof(*e->sc));
	collect_clauses(root, e);
	return e;
}

static bool
has_match(const struct node *n)
{
	size_t i;

	if (n == NULL)
		return false;
	if (n->kind == N_MATCH || has_match(n->a) || has_match(n->b))
		return true;
	for (i = 0; i < n->nitems; i++)
		if (has_match(n->items[i]))
			return true;
	return false;
}

bool
ecs_expr_may_give_up(const struct ecs_expr *e)
{
	return has_match(e->root);
}

void
ecs_expr_free(struct ecs_expr *e)
{
	size_t i;

	if (e == NULL)
		return;
	free_node(e->root);
	scratch_reset(e->sc);
	free(e->sc->ptr);
	free(e->sc->json);
	free(e->sc);
	for (i = 0; i < e->nclause; i++)
		free_clause(&e->clause[i]);
	free(e->clause);
	free(e);
}

char *
ecs_expr_top_char(char *s, char c)
{
	char quote = 0;
	int depth = 0;

	for (; *s != '\0'; s++) {
		if (quote != 0) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == quote)
				quote = 0;
		} else if (*s == '"' || *s == '\'')
			quote = *s;
		else if (*s == '(' || *s == '[' || *s == '{')
			depth++;
		else if (*s == ')' || *s == ']' || *s == '}')
			depth--;
		else if (*s == c && depth == 0)
			return s;
	}
	return NULL;
}
