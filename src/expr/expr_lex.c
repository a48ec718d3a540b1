/*
 * The lexer turns the whole text into an array of tokens before parsing,
 * reporting every lexical problem it finds (SQLite's tokenizer keeps going
 * the same way), so one compile lists all the bad characters and
 * unterminated strings at once.  Tokens only record positions; literal
 * values are decoded by the parser.
 */
#include <string.h>

#include "base/banned.h"
#include "base/xalloc.h"
#include "expr/expr_int.h"

static bool
is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

static bool
is_alpha(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static bool
is_hex(int ch)
{
    return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* Identifier characters after the first: letters, digits, _ @ $ # (the
 * SSIS rule), and any non-ASCII character (taken as a letter). */
static bool
is_ident(int ch)
{
    return is_alpha(ch) || is_digit(ch) || ch == '@' || ch == '$' ||
           ch == '#' || ch >= 0x80;
}

struct lexer {
    struct expr_compiler *c;
    const unsigned char *s;
    size_t len, i;
};

static int
at(struct lexer *lx, size_t k)
{
    return lx->i + k < lx->len ? lx->s[lx->i + k] : -1;
}

static void
emit(struct lexer *lx, enum tok_kind k, size_t start, size_t vstart,
     size_t vend)
{
    struct expr_compiler *c = lx->c;
    struct token *t;

    /* Doubling: a megabyte of one-character tokens stays linear. */
    XGROW(c->toks, c->ntoks + 1, c->tokcap);
    t = &c->toks[c->ntoks++];
    t->kind = k;
    t->off = (uint32_t)start;
    t->len = (uint32_t)(lx->i - start);
    t->voff = (uint32_t)vstart;
    t->vlen = (uint32_t)(vend - vstart);
}

/* Checks that s[from, to) is valid UTF-8. */
static int
check_utf8(struct lexer *lx, size_t from, size_t to)
{
    const char *s = (const char *)lx->s;
    size_t i = from;

    while (i < to) {
        size_t at_i = i;

        if (lx->s[i] < 0x80) {
            i++;
            continue;
        }
        /* A real U+FFFD takes 3 bytes; an invalid byte decodes as one. */
        if (expr_utf8_next(s, to, &i) == 0xFFFD && i == at_i + 1)
            return expr_diag(lx->c, (uint32_t)at_i, false,
                             "invalid UTF-8 byte 0x%02X", lx->s[at_i]);
    }
    return 0;
}

static int
lex_number(struct lexer *lx)
{
    size_t start = lx->i;

    if (at(lx, 0) == '0' && (at(lx, 1) == 'x' || at(lx, 1) == 'X')) {
        lx->i += 2;
        while (is_hex(at(lx, 0)))
            lx->i++;
    } else {
        while (is_digit(at(lx, 0)))
            lx->i++;
        if (at(lx, 0) == '.') {
            lx->i++;
            while (is_digit(at(lx, 0)))
                lx->i++;
        }
        if ((at(lx, 0) == 'e' || at(lx, 0) == 'E') &&
            (is_digit(at(lx, 1)) ||
             ((at(lx, 1) == '+' || at(lx, 1) == '-') && is_digit(at(lx, 2))))) {
            lx->i += 2;
            while (is_digit(at(lx, 0)))
                lx->i++;
        }
    }
    while (is_alpha(at(lx, 0)) || is_digit(at(lx, 0)))
        lx->i++; /* suffixes; the parser checks them */
    emit(lx, T_NUMBER, start, start, lx->i);
    return 0;
}

static int
lex_string(struct lexer *lx)
{
    size_t start = lx->i++;
    int rc = 0;

    while (lx->i < lx->len && lx->s[lx->i] != '"') {
        if (lx->s[lx->i] == '\\') {
            size_t esc = lx->i++;
            int ch = at(lx, 0), n = 0;

            if (ch == 'x' || ch == 'X') {
                lx->i++;
                while (n < 4 && is_hex(at(lx, 0))) {
                    lx->i++;
                    n++;
                }
                if (n == 0)
                    rc = expr_diag(lx->c, (uint32_t)esc, false,
                                   "\\x needs hexadecimal digits");
                continue;
            }
            if (ch < 0 || !strchr("abfnrtv\"\\", ch))
                rc = expr_diag(lx->c, (uint32_t)esc, false,
                               "unknown escape sequence '\\%c' in a string",
                               ch < 0x20 || ch >= 0x7f ? '?' : ch);
            if (ch >= 0)
                lx->i++;
            continue;
        }
        lx->i++;
    }
    if (lx->i >= lx->len)
        return expr_diag(lx->c, (uint32_t)start, false,
                         "string is not terminated: a '\"' is missing");
    if (check_utf8(lx, start + 1, lx->i) < 0)
        rc = -1;
    lx->i++;
    emit(lx, T_STRING, start, start + 1, lx->i - 1);
    return rc;
}

/* [name]: anything but ']' inside. */
static int
lex_bracket(struct lexer *lx, enum tok_kind k, size_t start)
{
    size_t open = lx->i++;
    const unsigned char *end;

    end = memchr(lx->s + lx->i, ']', lx->len - lx->i);
    if (!end)
        return expr_diag(lx->c, (uint32_t)open, false,
                         "'[' is not closed: a ']' is missing");
    lx->i = (size_t)(end - lx->s) + 1;
    if (lx->i - open == 2)
        return expr_diag(lx->c, (uint32_t)open, false, "empty name '[]'");
    emit(lx, k, start, open + 1, lx->i - 1);
    return check_utf8(lx, open + 1, lx->i - 1);
}

static int
lex_variable(struct lexer *lx)
{
    size_t start = lx->i++;

    if (at(lx, 0) == '[')
        return lex_bracket(lx, T_VARIABLE, start);
    if (!is_alpha(at(lx, 0)) && at(lx, 0) < 0x80)
        return expr_diag(lx->c, (uint32_t)start, false,
                         "'@' must be followed by a variable name");
    while (is_ident(at(lx, 0)))
        lx->i++;
    emit(lx, T_VARIABLE, start, start + 1, lx->i);
    return check_utf8(lx, start + 1, lx->i);
}

static int
lex_lineage(struct lexer *lx)
{
    size_t start = lx->i++;
    const unsigned char *end;

    if (at(lx, 0) == '{') {
        end = memchr(lx->s + lx->i, '}', lx->len - lx->i);
        if (!end)
            return expr_diag(lx->c, (uint32_t)start, false,
                             "'#{' is not closed: a '}' is missing");
        lx->i = (size_t)(end - lx->s) + 1;
        if (lx->i - start == 3)
            return expr_diag(lx->c, (uint32_t)start, false,
                             "empty lineage reference '#{}'");
        emit(lx, T_LINEAGE, start, start + 2, lx->i - 1);
        return check_utf8(lx, start + 2, lx->i - 1);
    }
    if (!is_digit(at(lx, 0)))
        return expr_diag(lx->c, (uint32_t)start, false,
                         "'#' must be followed by a lineage number");
    while (is_digit(at(lx, 0)))
        lx->i++;
    emit(lx, T_LINEAGE, start, start + 1, lx->i);
    return 0;
}

static const struct {
    char text[3];
    enum tok_kind kind;
} ops[] = {
    {"&&", T_ANDAND}, {"||", T_OROR},   {"<=", T_LE},      {">=", T_GE},
    {"==", T_EQ},     {"!=", T_NE},     {":=", T_ASSIGN},  {"(", T_LPAREN},
    {")", T_RPAREN},  {",", T_COMMA},   {"?", T_QUESTION}, {":", T_COLON},
    {".", T_DOT},     {"+", T_PLUS},    {"-", T_MINUS},    {"*", T_STAR},
    {"/", T_SLASH},   {"%", T_PERCENT}, {"<", T_LT},       {">", T_GT},
    {"&", T_AMP},     {"^", T_CARET},   {"|", T_PIPE},     {"!", T_BANG},
    {"~", T_TILDE},   {"=", T_ASSIGN},
};

static int
lex_operator(struct lexer *lx)
{
    size_t start = lx->i;

    for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
        size_t n = strlen(ops[k].text);

        if (lx->len - lx->i >= n &&
            memcmp(lx->s + lx->i, ops[k].text, n) == 0) {
            lx->i += n;
            emit(lx, ops[k].kind, start, start, lx->i);
            return 0;
        }
    }
    lx->i++;
    if (lx->s[start] >= 0x20 && lx->s[start] < 0x7f)
        return expr_diag(lx->c, (uint32_t)start, false,
                         "unexpected character '%c'", lx->s[start]);
    return expr_diag(lx->c, (uint32_t)start, false,
                     "unexpected character 0x%02X", lx->s[start]);
}

static int
lex_one(struct lexer *lx)
{
    int ch = lx->s[lx->i];
    size_t start = lx->i;

    if (is_digit(ch) || (ch == '.' && is_digit(at(lx, 1))))
        return lex_number(lx);
    if (ch == '"')
        return lex_string(lx);
    if (ch == '[')
        return lex_bracket(lx, T_BRACKET, start);
    if (ch == '@')
        return lex_variable(lx);
    if (ch == '#')
        return lex_lineage(lx);
    if (is_alpha(ch) || ch >= 0x80) {
        while (lx->i < lx->len && is_ident(lx->s[lx->i]))
            lx->i++;
        emit(lx, T_IDENT, start, start, lx->i);
        return check_utf8(lx, start, lx->i);
    }
    return lex_operator(lx);
}

int
expr_lex(struct expr_compiler *c)
{
    struct lexer lx = {c, (const unsigned char *)c->text, c->len, 0};
    int rc = 0;

    while (lx.i < lx.len) {
        int ch = lx.s[lx.i];

        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
            lx.i++;
            continue;
        }
        if (lex_one(&lx) < 0) {
            rc = -1;
            if (c->nerr >= EXPR_MAX_DIAGS)
                break;
        }
    }
    emit(&lx, T_EOF, lx.len, lx.len, lx.len);
    return rc;
}
