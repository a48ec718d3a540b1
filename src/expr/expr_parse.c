/*
 * Recursive descent with precedence climbing over the token array, SSIS's
 * precedence (DTSX.md 11.2, "Operator Precedence and Associativity"):
 * unary and casts bind tightest (right to left), then * / %, + -,
 * relational, equality, & ^ | && || and finally ?: (right to left).
 * Both the friendly form (`[Col]`, `LEN(...)`) and the data flow's stored
 * form (`#{Package\...}`, `#38`, `[LEN](...)`) are accepted.  The parser
 * decodes literals into typed values; names are resolved and types
 * checked afterwards by expr_check.  Parsing stops at the first syntax
 * error: what follows it cannot be trusted.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/banned.h"
#include "expr/expr_int.h"

static struct expr_node *parse_expr(struct expr_compiler *c);

static struct token *
tok(struct expr_compiler *c)
{
    return &c->toks[c->pos];
}

static struct token *
tok_at(struct expr_compiler *c, long k)
{
    long i = (long)c->pos + k;

    if (i < 0)
        i = 0;
    return &c->toks[(size_t)i < c->ntoks ? (size_t)i : c->ntoks - 1];
}

/* Reports nesting past EXPR_MAX_DEPTH, as WERR_LIMIT. */
static int
too_deep(struct expr_compiler *c, uint32_t off)
{
    bool first = c->nerr == 0;

    expr_diag(c, off, false,
              "expression is nested too deeply (more than "
              "%d levels)",
              EXPR_MAX_DEPTH);
    if (first && c->err)
        c->err->code = WERR_LIMIT;
    return -1;
}

/* Sets a new node's height in the tree, which bounds the recursion of
 * every later pass. */
static int
grow(struct expr_compiler *c, struct expr_node *n)
{
    int h = 0;

    for (int i = 0; i < n->nargs; i++)
        if (n->a[i]->height > h)
            h = n->a[i]->height;
    n->height = h + 1;
    return n->height > EXPR_MAX_DEPTH ? too_deep(c, n->pos) : 0;
}

static const char *
tok_text(struct expr_compiler *c, const struct token *t)
{
    return c->text + t->off;
}

/* Fails with "expected WHAT but found 'TOKEN'". */
static struct expr_node *
expected(struct expr_compiler *c, const char *what)
{
    struct token *t = tok(c);

    if (t->kind == T_EOF)
        expr_diag(c, t->off, false, "expected %s but the expression ends",
                  what);
    else
        expr_diag(c, t->off, false, "expected %s but found '%.*s'", what,
                  (int)(t->len > 40 ? 40 : t->len), tok_text(c, t));
    return NULL;
}

static bool
accept(struct expr_compiler *c, enum tok_kind k)
{
    if (tok(c)->kind != k)
        return false;
    c->pos++;
    return true;
}

static bool
ident_is(struct expr_compiler *c, const struct token *t, const char *word)
{
    return t->kind == T_IDENT && t->len == strlen(word) &&
           strncasecmp(tok_text(c, t), word, t->len) == 0;
}

static struct expr_node *
node_for(struct expr_compiler *c, enum node_kind k, const struct token *t)
{
    return expr_node_new(c, k, t->off, t->len);
}

/* Widens a node's span to end where token `t` ends. */
static void
span_to(struct expr_node *n, const struct token *t)
{
    if (t->off + t->len > n->off)
        n->len = t->off + t->len - n->off;
}

/* ------------------------------------------------------------- literals */

/* Integer literal types in the order they are tried: SSIS gives DT_I4
 * (DT_UI4 with U, DT_I8 with L, DT_UI8 with UL); weir widens a value
 * that does not fit to the next type instead of letting it overflow. */
static int
int_literal(struct expr_compiler *c, struct expr_node *n, uint64_t v, bool u,
            bool l)
{
    static const enum expr_dt plain[] = {EXPR_DT_I4, EXPR_DT_I8, EXPR_DT_UI8},
                              uns[] = {EXPR_DT_UI4, EXPR_DT_UI8},
                              lng[] = {EXPR_DT_I8, EXPR_DT_UI8};
    const enum expr_dt *list = u ? (l ? uns + 1 : uns) : (l ? lng : plain);
    size_t count = u ? (l ? 1 : 2) : (l ? 2 : 3);

    for (size_t i = 0; i < count; i++) {
        int64_t min;
        uint64_t max;

        expr_dt_int_range(list[i], &min, &max);
        if (v <= max) {
            n->type = expr_type_of(list[i]);
            n->lit.type = n->type;
            if (expr_dt_is_unsigned_int(list[i]))
                n->lit.v.u = v;
            else
                n->lit.v.i = (int64_t)v;
            return 0;
        }
    }
    return expr_diag(c, n->off, false, "integer literal is too large");
}

static int
real_literal(struct expr_compiler *c, struct expr_node *n, const char *s,
             size_t len, bool f)
{
    char buf[128];
    double d;
    char *end;

    if (len >= sizeof(buf))
        return expr_diag(c, n->off, false, "numeric literal is too long");
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    d = strtod(buf, &end);
    if (*end)
        return expr_diag(c, n->off, false, "malformed number '%s'", buf);
    if (!isfinite(d) || (f && fabs(d) > 3.4028234663852886e38))
        return expr_diag(c, n->off, false,
                         "numeric literal '%s' is out of range", buf);
    n->type = expr_type_of(f ? EXPR_DT_R4 : EXPR_DT_R8);
    n->lit.type = n->type;
    n->lit.v.r = f ? (double)(float)d : d;
    return 0;
}

/* Strips the suffix letters (U, L, F in any order and case, each once)
 * off a number; returns the length of what is left, or -1. */
static long
number_suffix(const char *s, size_t len, bool hex, bool *u, bool *l, bool *f)
{
    size_t body = len;

    *u = *l = *f = false;
    while (body > 0 && strchr("uUlLfF", s[body - 1]) &&
           !(hex && strchr("fF", s[body - 1]))) {
        char ch = s[--body];
        bool *flag = ch == 'u' || ch == 'U'   ? u
                     : ch == 'l' || ch == 'L' ? l
                                              : f;

        if (*flag)
            return -1;
        *flag = true;
    }
    return (long)body;
}

static int
integer_literal(struct expr_compiler *c, struct expr_node *n, const char *s,
                size_t body, bool hex, bool u, bool l)
{
    char buf[64];
    char *end;
    unsigned long long v;

    if (body >= sizeof(buf))
        return expr_diag(c, n->off, false, "integer literal is too large");
    memcpy(buf, s, body);
    buf[body] = '\0';
    errno = 0;
    v = strtoull(hex ? buf + 2 : buf, &end, hex ? 16 : 10);
    if (errno == ERANGE || *end)
        return expr_diag(c, n->off, false, "integer literal is too large");
    return int_literal(c, n, v, u, l);
}

static int
number_literal(struct expr_compiler *c, struct expr_node *n,
               const struct token *t)
{
    const char *s = tok_text(c, t);
    size_t len = t->len, body;
    bool u, l, f, hex, frac, exp;
    long b;

    hex = len > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    b = number_suffix(s, len, hex, &u, &l, &f);
    if (b < 0)
        return expr_diag(c, t->off, false, "bad numeric suffix in '%.*s'",
                         (int)len, s);
    body = (size_t)b;
    frac = !hex && memchr(s, '.', body);
    exp = !hex && (memchr(s, 'e', body) || memchr(s, 'E', body));
    for (size_t i = hex ? 2 : 0; i < body; i++)
        if (!strchr(hex ? "0123456789abcdefABCDEF" : "0123456789.eE+-", s[i]))
            return expr_diag(c, t->off, false, "malformed number '%.*s'",
                             (int)len, s);
    if (hex && body == 2)
        return expr_diag(c, t->off, false, "'0x' needs hexadecimal digits");
    n->kind = N_LIT;
    n->constant = true;
    if ((f || (l && (frac || exp))) && u)
        return expr_diag(c, t->off, false, "bad numeric suffix in '%.*s'",
                         (int)len, s);
    if (f || exp || (l && frac))
        return real_literal(c, n, s, body, f);
    if (frac) {
        int scale, prec;

        if (expr_dec_parse(s, body, &n->lit.v.dec, &scale, &prec) < 0)
            return expr_diag(c, t->off, false,
                             "numeric literal has more than 38 digits");
        n->type = expr_type_of(EXPR_DT_NUMERIC);
        n->type.precision = (uint8_t)prec;
        n->type.scale = (uint8_t)scale;
        n->lit.type = n->type;
        return 0;
    }
    return integer_literal(c, n, s, body, hex, u, l);
}

static int
hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    return (ch | 0x20) - 'a' + 10;
}

/* Decodes the escape sequence after the backslash at s[*i - 1] (the lexer
 * has checked it) into a UTF-16 code unit; \x0000 gives 0. */
static uint32_t
escape(const char *s, size_t len, size_t *pi)
{
    static const char from[] = "abfnrtv\"\\";
    static const char to[] = "\a\b\f\n\r\t\v\"\\";
    size_t i = *pi + 1;
    uint32_t cu = 0;

    if (s[*pi] != 'x' && s[*pi] != 'X') {
        *pi = i;
        return (unsigned char)to[strchr(from, s[i - 1]) - from];
    }
    for (int nd = 0;
         i < len && nd < 4 && s[i] && strchr("0123456789abcdefABCDEF", s[i]);
         i++, nd++)
        cu = cu * 16 + (uint32_t)hexval(s[i]);
    *pi = i;
    return cu;
}

/* Decodes a string literal's escapes into UTF-8; \xhhhh is a UTF-16 code
 * unit, and two of them may form a surrogate pair.  A lone surrogate has
 * no UTF-8 form and becomes U+FFFD. */
static int
string_literal(struct expr_compiler *c, struct expr_node *n,
               const struct token *t)
{
    const char *s = c->text + t->voff;
    size_t len = t->vlen, i = 0, o = 0;
    char *out = warena_alloc_uninit(&c->e->arena, len + 1);
    uint32_t pending = 0; /* a high surrogate waiting for its pair */

    while (i < len) {
        uint32_t cu;

        if (s[i] != '\\') {
            if (pending)
                o += (size_t)expr_utf8_put(0xFFFD, out + o), pending = 0;
            out[o++] = s[i++];
            continue;
        }
        i++; /* past the backslash */
        cu = escape(s, len, &i);
        if (cu == 0)
            return expr_diag(c, t->off, false,
                             "\\x0000 cannot appear in a string");
        if (pending && cu >= 0xDC00 && cu <= 0xDFFF) {
            o += (size_t)expr_utf8_put(
                0x10000 + ((pending - 0xD800) << 10) + (cu - 0xDC00), out + o);
            pending = 0;
            continue;
        }
        if (pending)
            o += (size_t)expr_utf8_put(0xFFFD, out + o), pending = 0;
        if (cu >= 0xD800 && cu <= 0xDBFF)
            pending = cu;
        else
            o += (size_t)expr_utf8_put(cu, out + o);
    }
    if (pending)
        o += (size_t)expr_utf8_put(0xFFFD, out + o);
    out[o] = '\0';
    n->kind = N_LIT;
    n->constant = true;
    n->type = expr_type_of(EXPR_DT_WSTR);
    n->type.length = (int32_t)expr_utf16_len(out, o);
    n->lit.type = n->type;
    n->lit.v.s.p = out;
    n->lit.v.s.len = o;
    return 0;
}

/* ------------------------------------------------------------ type spec */

static int
spec_int(struct expr_compiler *c, int *out)
{
    struct token *t = tok(c);
    const char *s = tok_text(c, t);
    long v = 0;

    if (t->kind != T_NUMBER) {
        expected(c, "a number");
        return -1;
    }
    for (uint32_t i = 0; i < t->len; i++) {
        if (s[i] < '0' || s[i] > '9' || v > 1000000)
            return expr_diag(c, t->off, false,
                             "type parameter '%.*s' is not a whole number",
                             (int)t->len, s);
        v = v * 10 + (s[i] - '0');
    }
    *out = (int)v;
    c->pos++;
    return 0;
}

/* How many parameters each parameterized type takes: (required, max). */
static void
spec_arity(enum expr_dt dt, int *req, int *max)
{
    *req = *max = 0;
    switch (dt) {
    case EXPR_DT_STR:
    case EXPR_DT_NUMERIC:
        *req = *max = 2;
        break;
    case EXPR_DT_WSTR:
    case EXPR_DT_BYTES:
    case EXPR_DT_DECIMAL:
    case EXPR_DT_TEXT:
        *req = *max = 1;
        break;
    case EXPR_DT_DBTIME2:
    case EXPR_DT_DBTIMESTAMP2:
    case EXPR_DT_DBTIMESTAMPOFFSET:
        *max = 1; /* fractional digits, 7 when left out */
        break;
    default:
        break;
    }
}

static int
spec_check(struct expr_compiler *c, uint32_t off, struct expr_type *t,
           const int *p)
{
    const char *name = expr_dt_name(t->dt);

    switch (t->dt) {
    case EXPR_DT_STR:
    case EXPR_DT_WSTR:
    case EXPR_DT_BYTES: {
        int max = t->dt == EXPR_DT_WSTR ? 4000 : 8000;

        if (p[0] < 1 || p[0] > max)
            return expr_diag(c, off, false, "%s length %d is outside 1..%d",
                             name, p[0], max);
        t->length = p[0];
        if (t->dt == EXPR_DT_STR) {
            if (p[1] < 1 || p[1] > 65535)
                return expr_diag(c, off, false, "code page %d is not valid",
                                 p[1]);
            t->codepage = (uint16_t)p[1];
        }
        return 0;
    }
    case EXPR_DT_NUMERIC:
        if (p[0] < 1 || p[0] > 38 || p[1] > p[0])
            return expr_diag(c, off, false,
                             "DT_NUMERIC needs precision 1..38 and a scale "
                             "no larger than it, not %d, %d",
                             p[0], p[1]);
        t->precision = (uint8_t)p[0];
        t->scale = (uint8_t)p[1];
        return 0;
    case EXPR_DT_DECIMAL:
        if (p[0] > 28)
            return expr_diag(c, off, false,
                             "DT_DECIMAL scale %d is outside 0..28", p[0]);
        t->precision = 29;
        t->scale = (uint8_t)p[0];
        return 0;
    case EXPR_DT_TEXT:
        if (p[0] < 1 || p[0] > 65535)
            return expr_diag(c, off, false, "code page %d is not valid", p[0]);
        t->codepage = (uint16_t)p[0];
        return 0;
    case EXPR_DT_DBTIME2:
    case EXPR_DT_DBTIMESTAMP2:
    case EXPR_DT_DBTIMESTAMPOFFSET:
        if (p[0] > 7)
            return expr_diag(c, off, false, "%s scale %d is outside 0..7", name,
                             p[0]);
        t->scale = (uint8_t)p[0];
        return 0;
    default:
        return 0;
    }
}

/* Parses "DT_xxx[, n[, n]])" after the '(' of a cast or NULL(). */
static int
parse_type_spec(struct expr_compiler *c, struct expr_type *out)
{
    struct token *t = tok(c);
    enum expr_dt dt;
    int p[2] = {0, 0}, n = 0, req, max;

    if (t->kind != T_IDENT ||
        expr_dt_from_name(tok_text(c, t), t->len, &dt) < 0 ||
        dt == EXPR_DT_EMPTY || dt == EXPR_DT_NULL) {
        expected(c, "a data type such as DT_I4");
        return -1;
    }
    c->pos++;
    *out = expr_type_of(dt);
    spec_arity(dt, &req, &max);
    if (max && req == 0)
        p[0] = 7;
    while (accept(c, T_COMMA)) {
        if (n >= max)
            return expr_diag(c, tok_at(c, -1)->off, false,
                             "%s takes %d parameter%s", expr_dt_name(dt), max,
                             max == 1 ? "" : "s");
        if (spec_int(c, &p[n++]) < 0)
            return -1;
    }
    if (n < req)
        return expr_diag(c, t->off, false, "%s needs %d parameter%s",
                         expr_dt_name(dt), req, req == 1 ? "" : "s");
    if (!accept(c, T_RPAREN)) {
        expected(c, "')'");
        return -1;
    }
    return spec_check(c, t->off, out, p);
}

/* ----------------------------------------------------------- references */

static int
variable_ref(struct expr_compiler *c, struct expr_node *n,
             const struct token *t)
{
    const char *s = c->text + t->voff, *sep;
    size_t len = t->vlen;

    n->kind = N_VAR;
    n->ref.kind = EXPR_REF_VARIABLE;
    sep = len >= 2 ? memmem(s, len, "::", 2) : NULL;
    if (sep) {
        n->ref.ns = warena_strndup(&c->e->arena, s, (size_t)(sep - s));
        len -= (size_t)(sep - s) + 2;
        s = sep + 2;
        if (!*n->ref.ns || len == 0)
            return expr_diag(c, t->off, false,
                             "variable name '%.*s' is incomplete", (int)t->vlen,
                             c->text + t->voff);
    }
    n->ref.name = warena_strndup(&c->e->arena, s, len);
    return 0;
}

static struct expr_node *
column_ref(struct expr_compiler *c, struct token *t)
{
    struct expr_node *n = node_for(c, N_COL, t);
    struct token *dot = tok_at(c, 1), *col = tok_at(c, 2);

    n->ref.kind = EXPR_REF_COLUMN;
    c->pos++;
    if (dot->kind == T_DOT &&
        (col->kind == T_IDENT || col->kind == T_BRACKET)) {
        n->ref.component =
            warena_strndup(&c->e->arena, c->text + t->voff, t->vlen);
        t = col;
        c->pos += 2;
        span_to(n, col);
    }
    n->ref.name = warena_strndup(&c->e->arena, c->text + t->voff, t->vlen);
    return n;
}

/* ------------------------------------------------------------- primaries */

static struct expr_node *
parse_call(struct expr_compiler *c, struct token *t)
{
    struct expr_node *n = node_for(c, N_CALL, t);

    n->name = warena_strndup(&c->e->arena, c->text + t->voff, t->vlen);
    c->pos += 2; /* name and '(' */
    if (!accept(c, T_RPAREN)) {
        do {
            struct expr_node *a = parse_expr(c);

            if (!a)
                return NULL;
            if (n->nargs == EXPR_MAX_ARGS)
                return expr_diag(c, a->off, false, "too many arguments to %s",
                                 n->name),
                       NULL;
            n->a[n->nargs++] = a;
        } while (accept(c, T_COMMA));
        if (!accept(c, T_RPAREN))
            return expected(c, "',' or ')'");
    }
    span_to(n, tok_at(c, -1));
    return grow(c, n) < 0 ? NULL : n;
}

static struct expr_node *
parse_null(struct expr_compiler *c, struct token *t)
{
    struct expr_node *n = node_for(c, N_NULL, t);

    c->pos += 2; /* NULL ( */
    if (parse_type_spec(c, &n->type) < 0)
        return NULL;
    span_to(n, tok_at(c, -1));
    return n;
}

static struct expr_node *
parse_ident(struct expr_compiler *c, struct token *t)
{
    struct expr_node *n;

    if (tok_at(c, 1)->kind == T_LPAREN) {
        if (ident_is(c, t, "NULL"))
            return parse_null(c, t);
        return parse_call(c, t);
    }
    if (t->kind == T_IDENT &&
        (ident_is(c, t, "TRUE") || ident_is(c, t, "FALSE"))) {
        n = node_for(c, N_LIT, t);
        n->constant = true;
        n->type = expr_type_of(EXPR_DT_BOOL);
        n->lit.type = n->type;
        n->lit.v.b = ident_is(c, t, "TRUE");
        c->pos++;
        return n;
    }
    if (ident_is(c, t, "NULL"))
        return expr_diag(c, t->off, false,
                         "NULL needs a type, as in NULL(DT_I4)"),
               NULL;
    return column_ref(c, t);
}

static struct expr_node *
parse_primary(struct expr_compiler *c)
{
    struct token *t = tok(c);
    struct expr_node *n;

    switch (t->kind) {
    case T_NUMBER:
        n = node_for(c, N_LIT, t);
        c->pos++;
        return number_literal(c, n, t) < 0 ? NULL : n;
    case T_STRING:
        n = node_for(c, N_LIT, t);
        c->pos++;
        return string_literal(c, n, t) < 0 ? NULL : n;
    case T_VARIABLE:
        n = node_for(c, N_VAR, t);
        c->pos++;
        return variable_ref(c, n, t) < 0 ? NULL : n;
    case T_LINEAGE:
        n = node_for(c, N_COL, t);
        n->ref.kind = EXPR_REF_COLUMN;
        n->ref.lineage =
            warena_strndup(&c->e->arena, c->text + t->voff, t->vlen);
        c->pos++;
        return n;
    case T_IDENT:
    case T_BRACKET:
        return parse_ident(c, t);
    case T_LPAREN:
        c->pos++;
        n = parse_expr(c);
        if (!n)
            return NULL;
        if (!accept(c, T_RPAREN))
            return expected(c, "')'");
        return n;
    case T_ASSIGN:
        expr_diag(c, t->off, false,
                  "'=' assigns only at the start (@[User::X] = ...); "
                  "use '==' to compare");
        return NULL;
    default:
        return expected(c, "a value, a name or '('");
    }
}

/* --------------------------------------------------------------- unary */

static bool
is_cast(struct expr_compiler *c)
{
    struct token *t = tok_at(c, 1), *next = tok_at(c, 2);
    enum expr_dt dt;

    return tok(c)->kind == T_LPAREN && t->kind == T_IDENT &&
           (next->kind == T_RPAREN || next->kind == T_COMMA) &&
           expr_dt_from_name(tok_text(c, t), t->len, &dt) == 0;
}

static struct expr_node *
parse_unary(struct expr_compiler *c)
{
    struct token *t = tok(c);
    struct expr_node *n, *a;
    int op = t->kind == T_MINUS   ? OP_NEG
             : t->kind == T_BANG  ? OP_NOT
             : t->kind == T_TILDE ? OP_BITNOT
                                  : OP_NONE;

    if (++c->depth > EXPR_MAX_DEPTH) {
        too_deep(c, t->off);
        return NULL;
    }
    if (op != OP_NONE || is_cast(c)) {
        n = node_for(c, op != OP_NONE ? N_UNARY : N_CAST, t);
        n->op = op;
        if (op != OP_NONE) {
            c->pos++;
        } else {
            c->pos++;
            if (parse_type_spec(c, &n->type) < 0)
                return NULL;
            n->explicit_cast = true;
        }
        a = parse_unary(c);
        if (!a)
            return NULL;
        n->a[0] = a;
        n->nargs = 1;
        n->len = a->off + a->len - n->off;
        if (grow(c, n) < 0)
            return NULL;
    } else {
        n = parse_primary(c);
    }
    c->depth--;
    return n;
}

/* --------------------------------------------------------------- binary */

static const struct binop {
    enum tok_kind tok;
    int level; /* higher binds tighter */
    int op;
    enum node_kind kind;
} binops[] = {
    {T_STAR, 10, OP_MUL, N_BINARY},    {T_SLASH, 10, OP_DIV, N_BINARY},
    {T_PERCENT, 10, OP_MOD, N_BINARY}, {T_PLUS, 9, OP_ADD, N_BINARY},
    {T_MINUS, 9, OP_SUB, N_BINARY},    {T_LT, 8, OP_LT, N_BINARY},
    {T_GT, 8, OP_GT, N_BINARY},        {T_LE, 8, OP_LE, N_BINARY},
    {T_GE, 8, OP_GE, N_BINARY},        {T_EQ, 7, OP_EQ, N_BINARY},
    {T_NE, 7, OP_NE, N_BINARY},        {T_AMP, 6, OP_BITAND, N_BINARY},
    {T_CARET, 5, OP_BITXOR, N_BINARY}, {T_PIPE, 4, OP_BITOR, N_BINARY},
    {T_ANDAND, 3, OP_NONE, N_AND},     {T_OROR, 2, OP_NONE, N_OR},
};

static const struct binop *
binop_for(enum tok_kind k)
{
    for (size_t i = 0; i < sizeof(binops) / sizeof(binops[0]); i++)
        if (binops[i].tok == k)
            return &binops[i];
    return NULL;
}

/* Precedence climbing: every operator here is left-associative. */
static struct expr_node *
parse_binary(struct expr_compiler *c, int min_level)
{
    struct expr_node *lhs = parse_unary(c), *rhs, *n;
    const struct binop *b;

    while (lhs && (b = binop_for(tok(c)->kind)) && b->level >= min_level) {
        struct token *t = tok(c);

        c->pos++;
        if (++c->depth > EXPR_MAX_DEPTH) {
            too_deep(c, t->off);
            return NULL;
        }
        rhs = parse_binary(c, b->level + 1);
        c->depth--;
        if (!rhs)
            return NULL;
        n = expr_node_new(c, b->kind, lhs->off, 0);
        n->pos = t->off;
        n->op = b->op;
        n->a[0] = lhs;
        n->a[1] = rhs;
        n->nargs = 2;
        n->len = rhs->off + rhs->len - n->off;
        if (grow(c, n) < 0)
            return NULL;
        lhs = n;
    }
    return lhs;
}

static struct expr_node *
parse_expr(struct expr_compiler *c)
{
    struct expr_node *cond, *a, *b, *n;

    struct token *q;

    cond = parse_binary(c, 2);
    if (!cond || tok(c)->kind != T_QUESTION)
        return cond;
    q = tok(c);
    c->pos++;
    if (++c->depth > EXPR_MAX_DEPTH) {
        too_deep(c, cond->off);
        return NULL;
    }
    a = parse_expr(c);
    if (!a)
        return NULL;
    if (!accept(c, T_COLON))
        return expected(c, "':' of the conditional operator");
    b = parse_expr(c); /* right to left: a ? b : c ? d : e */
    c->depth--;
    if (!b)
        return NULL;
    n = expr_node_new(c, N_COND, cond->off, 0);
    n->pos = q->off;
    n->a[0] = cond;
    n->a[1] = a;
    n->a[2] = b;
    n->nargs = 3;
    n->len = b->off + b->len - n->off;
    return grow(c, n) < 0 ? NULL : n;
}

int
expr_parse(struct expr_compiler *c)
{
    struct expr *e = c->e;
    struct token *t0 = tok_at(c, 0), *t1 = tok_at(c, 1);

    if (t0->kind == T_EOF)
        return expr_diag(c, 0, false, "the expression is empty");
    if (t0->kind == T_VARIABLE && t1->kind == T_ASSIGN) {
        if (!(e->flags & EXPR_ASSIGN))
            return expr_diag(c, t1->off, false,
                             "assignment is only allowed in Expression "
                             "Tasks and For Loops; use '==' to compare");
        e->target = node_for(c, N_VAR, t0);
        if (variable_ref(c, e->target, t0) < 0)
            return -1;
        e->assign = true;
        c->pos = 2;
    }
    e->root = parse_expr(c);
    if (!e->root)
        return -1;
    if (tok(c)->kind != T_EOF) {
        if (tok(c)->kind == T_ASSIGN)
            return expr_diag(c, tok(c)->off, false,
                             "'=' assigns only at the start (@[User::X] = "
                             "...); use '==' to compare");
        expected(c, "an operator or the end of the expression");
        return -1;
    }
    return 0;
}
