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
 *	                | "in" "[" [ sum { "," sum } ] "]"
 *	                | ("=~" | "!~") string ]
 *	sum    := prod { ("+" | "-") prod }
 *	prod   := unary { ("*" | "/" | "%") unary }
 *	unary  := "-" unary | primary
 *	primary:= number | string | "true" | "false" | "null" | path
 *	        | name "(" [ expr { "," expr } ] ")" | "(" expr ")"
 *	path   := ["."] seg { "." seg }   seg := ident | digits | string
 *
 * A comparison with a missing field is false (so is its "!="); a number
 * written as a string compares as that number. Lexing, parsing, evaluation
 * and the literal pre-check that lets ecs-filter skip lines without parsing
 * them are all here.
 */
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"

/* Lexer */

enum tok {
	T_END, T_NUM, T_STR, T_PATH, T_NAME, T_LPAREN, T_RPAREN, T_LBRACK,
	T_RBRACK, T_COMMA, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_MATCH,
	T_NMATCH, T_AND, T_OR, T_NOT, T_IN, T_PLUS, T_MINUS, T_STAR, T_SLASH,
	T_PERCENT, T_TRUE, T_FALSE, T_NULL, T_ERROR
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
	const char *s = lx->p;
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
	lx->path = ecs_path_new("");
	if (dotted)
		lx->p++;
	for (;;) {
		if (!lex_segment(lx, lx->path)) {
			lx->tok = T_ERROR;
			return;
		}
		if (*lx->p != '.')
			break;
		lx->p++;
	}
	free(lx->path->text);
	lx->path->text = ecs_xstrndup(s, (size_t)(lx->p - s));
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
	N_MATCH, N_EXISTS, N_TIME
};

enum vtype { V_MISSING, V_NULL, V_BOOL, V_NUM, V_STR, V_JSON };

struct value {
	enum vtype		 type;
	bool			 b;
	struct ecs_num		 n;
	const char		*s;	/* V_STR; borrowed */
	size_t			 len;
	struct json_object	*j;	/* the record's value, when from one */
	const char		*text;	/* a field's text (V_NUM, V_JSON) */
	size_t			 tlen;
};

/* Where paths are looked up: captured fields by slot, else the record. */
struct ctx {
	struct json_object	*rec;
	const struct ecs_field	*fields;
};

struct node {
	enum kind	 kind;
	enum tok	 op;		/* N_CMP, N_ARITH, N_MATCH */
	struct node	*a, *b;
	struct node	**items;	/* N_IN */
	size_t		 nitems;
	struct ecs_path	*path;		/* N_PATH, N_EXISTS */
	struct value	 lit;		/* N_LIT */
	char		*str;		/* owns lit.s */
	regex_t		 re;		/* N_MATCH */
	bool		 has_re;
	int		 slot;		/* N_PATH, N_EXISTS: field, or -1 */
};

/*
 * The pre-check: clauses that must all hold for a match, each a set of
 * needles of which a matching line contains at least one.
 */
struct clause {
	char	**needle;
	size_t	 nneedle;
};

struct ecs_expr {
	struct node	*root;
	struct clause	*clause;
	size_t		 nclause;
};

static struct node *
new_node(enum kind kind)
{
	struct node *n = ecs_xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->slot = -1;
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
	if (n->has_re)
		regfree(&n->re);
	free(n);
}

/* Parser: each function returns an owned subtree or NULL after fail_at. */

static struct node *parse_or(struct lexer *);
static struct node *parse_not(struct lexer *);

static struct node *
binary(enum kind kind, enum tok op, struct node *a, struct node *b)
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
	return n;
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

static struct node *
parse_call(struct lexer *lx)
{
	char *name = lx->str;
	const char *at = lx->tok_start;
	struct node *n = NULL;

	lx->str = NULL;
	next(lx);			/* the '(' */
	next(lx);
	if (strcmp(name, "exists") == 0) {
		if (lx->tok != T_PATH)
			fail_at(lx, lx->tok_start, "exists() takes a field path");
		else {
			n = new_node(N_EXISTS);
			n->path = lx->path;
			lx->path = NULL;
			next(lx);
		}
	} else if (strcmp(name, "time") == 0) {
		if (operand_follows(lx, "time(") &&
		    (n = parse_or(lx)) != NULL) {
			struct node *t = new_node(N_TIME);
			t->a = n;
			n = t;
		}
	} else
		fail_at(lx, at, "unknown function '%s' (there are exists and "
		    "time)", name);
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
		if (!operand_follows(lx, "(") || (n = parse_or(lx)) == NULL)
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
		n = new_node(N_PATH);
		n->path = lx->path;
		lx->path = NULL;
		break;
	default:
		n = new_node(N_LIT);
		if (lx->tok == T_NUM) {
			n->lit.type = V_NUM;
			n->lit.n = lx->num;
			/* The text, for exact decimal arithmetic. */
			n->str = ecs_xstrndup(lx->tok_start,
			    (size_t)(lx->p - lx->tok_start));
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
	struct node *n;

	if (lx->tok != T_MINUS)
		return parse_primary(lx);
	next(lx);
	if (!operand_follows(lx, "-") || (n = parse_unary(lx)) == NULL)
		return NULL;
	struct node *neg = new_node(N_NEG);
	neg->a = n;
	return neg;
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
		n = binary(N_ARITH, op, n, parse_unary(lx));
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
		n = binary(N_ARITH, op, n, parse_prod(lx));
	}
	return n;
}

static struct node *
parse_in(struct lexer *lx, struct node *lhs)
{
	struct node *n = new_node(N_IN), *item;

	n->a = lhs;
	next(lx);
	if (!expect(lx, T_LBRACK, "'[' after 'in'"))
		goto fail;
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
	return n;
fail:
	free_node(n);
	return NULL;
}

static struct node *
parse_match(struct lexer *lx, struct node *lhs)
{
	struct node *n = new_node(N_MATCH);
	char msg[128];
	int rc;

	n->a = lhs;
	n->op = lx->tok;
	next(lx);
	if (lx->tok != T_STR) {
		fail_at(lx, lx->tok_start, "expected a \"regular expression\" "
		    "after '%s'", n->op == T_MATCH ? "=~" : "!~");
		free_node(n);
		return NULL;
	}
	if ((rc = regcomp(&n->re, lx->str, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, &n->re, msg, sizeof(msg));
		regfree(&n->re);
		fail_at(lx, lx->tok_start, "bad regular expression: %s", msg);
		free_node(n);
		return NULL;
	}
	n->has_re = true;
	next(lx);
	return n;
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
		return binary(N_CMP, op, n, parse_sum(lx));
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
	struct node *n, *a;

	if (lx->tok != T_NOT)
		return parse_cmp(lx);
	next(lx);
	if (!operand_follows(lx, "not") || (a = parse_not(lx)) == NULL)
		return NULL;
	n = new_node(N_NOT);
	n->a = a;
	return n;
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
		n = binary(N_AND, T_AND, n, parse_not(lx));
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
		n = binary(N_OR, T_OR, n, parse_and(lx));
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

/* A captured field as a value; its text is kept for exact arithmetic. */
static void
value_of_field(const struct ecs_field *f, bool is_action, struct value *v)
{
	const char *canon;
	size_t len;

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
		if (is_action &&
		    (canon = ecs_action_canon(v->s, v->len, &len)) != NULL) {
			v->s = canon;
			v->len = len;
		}
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
 * Orders a and b: -1, 0 or 1; 2 when they have no order (different kinds,
 * NaN), 3 when they are unequal but not ordered (booleans, JSON values).
 */
static int
compare(const struct value *a, const struct value *b)
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
		return ecs_num_cmp(&x, &y);
	if (a->type != b->type)
		return 2;
	switch (a->type) {
	case V_NULL:
		return 0;
	case V_BOOL:
		return a->b == b->b ? 0 : 3;
	case V_JSON:
		if (a->j != NULL && b->j != NULL)
			return json_object_equal(a->j, b->j) ? 0 : 3;
		return a->tlen == b->tlen && memcmp(a->text, b->text,
		    a->tlen) == 0 ? 0 : 3;
	default:
		return 2;
	}
}

static bool
compare_op(enum tok op, const struct value *a, const struct value *b)
{
	int c;

	if (a->type == V_MISSING || b->type == V_MISSING)
		return false;
	c = compare(a, b);
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

static void
set_num_double(struct value *v, double d)
{
	v->type = V_NUM;
	v->n.is_int = false;
	v->n.d = d;
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

/* Exact integers when possible, else double; x/0 and x%0 are missing. */
static void
arith(enum tok op, const struct ecs_num *x, const struct ecs_num *y,
    struct value *v)
{
	int64_t r;

	if (x->is_int && y->is_int && int_arith(op, x->i, y->i, &r)) {
		set_num_int(v, r);
		return;
	}
	if ((op == T_SLASH || op == T_PERCENT) && y->d == 0)
		return;
	switch (op) {
	case T_PLUS:
		set_num_double(v, x->d + y->d);
		break;
	case T_MINUS:
		set_num_double(v, x->d - y->d);
		break;
	case T_STAR:
		set_num_double(v, x->d * y->d);
		break;
	case T_SLASH:
		set_num_double(v, x->d / y->d);
		break;
	default:
		set_num_double(v, fmod(x->d, y->d));
		break;
	}
}

static bool
regex_match(const struct node *n, const struct value *v)
{
	char buf[64];
	const char *s;
	regmatch_t m;
	size_t len;

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
		if (v->n.is_int)
			snprintf(buf, sizeof(buf), "%lld", (long long)v->n.i);
		else
			snprintf(buf, sizeof(buf), "%.17g", v->n.d);
		s = buf;
		len = strlen(buf);
	} else
		return false;
	m.rm_so = 0;
	m.rm_eo = (regoff_t)len;
	return regexec(&n->re, s, 1, &m, REG_STARTEND) == 0;
}

static void
eval_time(const struct node *n, const struct ctx *c, struct value *v)
{
	struct value arg;
	int64_t ms;
	bool ok;

	eval(n->a, c, &arg);
	if (arg.type == V_STR)
		ok = ecs_time_parse(arg.s, arg.len, &ms);
	else if (arg.type == V_NUM && arg.j != NULL)
		ok = ecs_time_from_json(arg.j, &ms);
	else if (arg.type == V_NUM)
		ok = ecs_time_from_epoch(arg.n.d, &ms);
	else
		ok = false;
	if (!ok)
		return;
	if (ms % 1000 == 0)
		set_num_int(v, ms / 1000);
	else
		set_num_double(v, (double)ms / 1000.0);
}

/* Evaluates n in c into *v; strings in *v are borrowed. */
static void
eval(const struct node *n, const struct ctx *c, struct value *v)
{
	struct value a, b;
	struct ecs_num x, y;
	struct json_object *j;
	size_t i;

	memset(v, 0, sizeof(*v));
	switch (n->kind) {
	case N_LIT:
		*v = n->lit;
		return;
	case N_PATH:
		if (c->fields != NULL && n->slot >= 0)
			value_of_field(&c->fields[n->slot], n->path->is_action, v);
		else if (c->rec != NULL && ecs_path_find(n->path, c->rec, &j))
			value_of_json(j, n->path->is_action, v);
		return;
	case N_EXISTS:
		/* Present and not null, as SQL's IS NOT NULL: a null user_id
		 * is an anonymous event, not a user's. */
		v->type = V_BOOL;
		if (c->fields != NULL && n->slot >= 0)
			v->b = c->fields[n->slot].type != ECS_F_MISSING &&
			    c->fields[n->slot].type != ECS_F_NULL;
		else
			v->b = c->rec != NULL &&
			    ecs_path_find(n->path, c->rec, &j) && j != NULL;
		return;
	case N_TIME:
		eval_time(n, c, v);
		return;
	case N_NEG:
		eval(n->a, c, &a);
		if (!as_number(&a, &x))
			return;
		if (x.is_int && x.i != INT64_MIN)
			set_num_int(v, -x.i);
		else
			set_num_double(v, -x.d);
		return;
	case N_ARITH:
		eval(n->a, c, &a);
		eval(n->b, c, &b);
		if (as_number(&a, &x) && as_number(&b, &y))
			arith(n->op, &x, &y, v);
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
		v->b = compare_op(n->op, &a, &b);
		return;
	case N_IN:
		eval(n->a, c, &a);
		for (i = 0; i < n->nitems && !v->b; i++) {
			eval(n->items[i], c, &b);
			v->b = compare_op(T_EQ, &a, &b);
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

bool
ecs_expr_match(const struct ecs_expr *e, struct json_object *rec)
{
	struct ctx c = { rec, NULL };
	struct value v;

	eval(e->root, &c, &v);
	return truthy(&v);
}

bool
ecs_expr_match_fields(const struct ecs_expr *e, const struct ecs_field *fields)
{
	struct ctx c = { NULL, fields };
	struct value v;

	eval(e->root, &c, &v);
	return truthy(&v);
}

static void
bind_node(struct node *n, struct ecs_fieldset *fs)
{
	size_t i;

	if (n == NULL)
		return;
	if (n->kind == N_PATH || n->kind == N_EXISTS)
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

/* A value as an exact decimal, from the text of its number. */
static bool
dec_of_value(const struct value *v, const char *lit_text, struct ecs_dec *d)
{
	const char *text;
	size_t len;

	if (lit_text != NULL)
		return ecs_dec_parse(lit_text, strlen(lit_text), d);
	if (v->type == V_STR)
		return ecs_dec_parse(v->s, v->len, d);
	if (v->type != V_NUM)
		return false;
	if (v->text != NULL && ecs_dec_parse(v->text, v->tlen, d))
		return true;
	if (v->j == NULL) {
		if (v->n.is_int)
			ecs_dec_from_int(d, v->n.i);
		else
			ecs_dec_from_double(d, v->n.d);
		return true;
	}
	/* json-c keeps a parsed double's source text: 19.99 stays 19.99. */
	text = json_object_to_json_string_length(v->j, JSON_C_TO_STRING_PLAIN,
	    &len);
	return ecs_dec_parse(text, len, d);
}

/* Exact for + - * over numbers; anything else through a double. */
static bool
eval_dec(const struct node *n, const struct ctx *c, struct ecs_dec *d)
{
	struct ecs_dec b;
	struct value v;

	switch (n->kind) {
	case N_LIT:
		return n->lit.type == V_NUM ? dec_of_value(&n->lit, n->str, d) :
		    dec_of_value(&n->lit, NULL, d);
	case N_PATH:
		eval(n, c, &v);
		return dec_of_value(&v, NULL, d);
	case N_NEG:
		if (!eval_dec(n->a, c, d))
			return false;
		ecs_dec_neg(d);
		return true;
	case N_ARITH:
		if (n->op == T_PLUS || n->op == T_MINUS || n->op == T_STAR) {
			if (!eval_dec(n->a, c, d) || !eval_dec(n->b, c, &b))
				return false;
			if (n->op == T_MINUS)
				ecs_dec_neg(&b);
			if (n->op == T_STAR)
				ecs_dec_mul(d, &b);
			else
				ecs_dec_add(d, &b);
			return true;
		}
		break;
	default:
		break;
	}
	eval(n, c, &v);
	if (v.type != V_NUM)
		return false;
	ecs_dec_from_double(d, v.n.d);
	if (v.n.is_int)
		ecs_dec_from_int(d, v.n.i);
	return true;
}

bool
ecs_expr_eval_dec(const struct ecs_expr *e, const struct ecs_field *fields,
    struct ecs_dec *d)
{
	struct ctx c = { NULL, fields };

	return eval_dec(e->root, &c, d);
}

bool
ecs_expr_eval_double(const struct ecs_expr *e, const struct ecs_field *fields,
    double *d)
{
	struct ctx c = { NULL, fields };
	struct value v;
	struct ecs_num n;

	eval(e->root, &c, &v);
	if (!as_number(&v, &n))
		return false;
	*d = n.d;
	return true;
}

bool
ecs_expr_eval_key(const struct ecs_expr *e, const struct ecs_field *fields,
    char buf[static 64], const char **text, size_t *len, bool *is_string)
{
	struct ctx c = { NULL, fields };
	struct value v;

	eval(e->root, &c, &v);
	*is_string = v.type == V_STR;
	switch (v.type) {
	case V_MISSING:
		return false;
	case V_STR:
		*text = v.s;
		*len = v.len;
		return true;
	case V_NUM:
	case V_JSON:
		if (v.text != NULL) {
			*text = v.text;
			*len = v.tlen;
			return true;
		}
		if (v.type == V_NUM && v.j == NULL) {
			*len = v.n.is_int ?
			    (size_t)snprintf(buf, 64, "%lld", (long long)v.n.i) :
			    (size_t)snprintf(buf, 64, "%.17g", v.n.d);
			*text = buf;
			return true;
		}
		/* FALLTHROUGH */
	default:
		*text = v.j == NULL ? (v.type == V_NULL ? "null" :
		    v.b ? "true" : "false") :
		    json_object_to_json_string_length(v.j,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
		if (v.j == NULL)
			*len = strlen(*text);
		return true;
	}
}

/* Pre-check analysis */

static void
add_needle(struct clause *c, const char *s, size_t len)
{
	char *q = ecs_xmalloc(len + 3);

	q[0] = '"';
	memcpy(q + 1, s, len);
	q[len + 1] = '"';
	q[len + 2] = '\0';
	c->needle = ecs_xrealloc(c->needle, (c->nneedle + 1) * sizeof(char *));
	c->needle[c->nneedle++] = q;
}

static void
free_clause(struct clause *c)
{
	size_t i;

	for (i = 0; i < c->nneedle; i++)
		free(c->needle[i]);
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

/* One clause a true n implies, from a leaf; false if there is none. */
static bool
leaf_clause(const struct node *n, struct clause *c)
{
	const struct ecs_seg *last;
	size_t i;
	bool ok = true;

	switch (n->kind) {
	case N_CMP:
		if (n->op != T_EQ)
			return false;
		ok = equality_needles(n->a, n->b, c) ||
		    equality_needles(n->b, n->a, c);
		break;
	case N_IN:
		for (i = 0; i < n->nitems && ok; i++)
			ok = equality_needles(n->a, n->items[i], c);
		ok = ok && n->nitems > 0;
		break;
	case N_EXISTS:
		last = &n->path->seg[n->path->nseg - 1];
		ok = last->index < 0 && strlen(last->key) == last->len &&
		    plain_string(last->key, last->len);
		if (ok)
			add_needle(c, last->key, last->len);
		break;
	default:
		return false;
	}
	if (!ok)
		free_clause(c);
	return ok;
}

static void
push_clause(struct ecs_expr *e, struct clause *c)
{
	e->clause = ecs_xrealloc(e->clause, (e->nclause + 1) * sizeof(*c));
	e->clause[e->nclause++] = *c;
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
		if (leaf_clause(n, &c))
			push_clause(e, &c);
		return;
	}
	collect_clauses(n->a, &left);
	collect_clauses(n->b, &right);
	if (left.nclause > 0 && right.nclause > 0) {
		c = left.clause[0];
		for (i = 0; i < right.clause[0].nneedle; i++)
			add_needle(&c, right.clause[0].needle[i] + 1,
			    strlen(right.clause[0].needle[i]) - 2);
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

bool
ecs_expr_may_match(const struct ecs_expr *e, const char *line, size_t len)
{
	const struct clause *c;
	size_t i, k;

	for (i = 0; i < e->nclause; i++) {
		c = &e->clause[i];
		for (k = 0; k < c->nneedle; k++)
			if (memmem(line, len, c->needle[k],
			    strlen(c->needle[k])) != NULL)
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
	collect_clauses(root, e);
	return e;
}

void
ecs_expr_free(struct ecs_expr *e)
{
	size_t i;

	if (e == NULL)
		return;
	free_node(e->root);
	for (i = 0; i < e->nclause; i++)
		free_clause(&e->clause[i]);
	free(e->clause);
	free(e);
}
