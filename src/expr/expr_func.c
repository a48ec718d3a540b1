/*
 * The function library: one table of names and arities, the typing of each
 * function (which converts its arguments to the types its kernel reads:
 * strings to DT_WSTR, counts to DT_I8, dates to DT_DBTIMESTAMP2), and the
 * scalar kernels.  Each function's rules come from its page in the SSIS
 * documentation ("LEFT (SSIS Expression)"...); docs/expressions.md lists
 * them, with the choices weir makes where a page is silent.
 */
#include <math.h>
#include <string.h>
#include <strings.h>

#include "base/banned.h"
#include "expr/expr_int.h"

static const struct func_def funcs[] = {
    {"ABS", F_ABS, 1, 1},
    {"CEILING", F_CEILING, 1, 1},
    {"EXP", F_EXP, 1, 1},
    {"FLOOR", F_FLOOR, 1, 1},
    {"LN", F_LN, 1, 1},
    {"LOG", F_LOG, 1, 1},
    {"POWER", F_POWER, 2, 2},
    {"ROUND", F_ROUND, 2, 2},
    {"SIGN", F_SIGN, 1, 1},
    {"SQUARE", F_SQUARE, 1, 1},
    {"SQRT", F_SQRT, 1, 1},
    {"CODEPOINT", F_CODEPOINT, 1, 1},
    {"FINDSTRING", F_FINDSTRING, 3, 3},
    {"HEX", F_HEX, 1, 1},
    {"LEFT", F_LEFT, 2, 2},
    {"LEN", F_LEN, 1, 1},
    {"LOWER", F_LOWER, 1, 1},
    {"LTRIM", F_LTRIM, 1, 1},
    {"REPLACE", F_REPLACE, 3, 3},
    {"REPLICATE", F_REPLICATE, 2, 2},
    {"REVERSE", F_REVERSE, 1, 1},
    {"RIGHT", F_RIGHT, 2, 2},
    {"RTRIM", F_RTRIM, 1, 1},
    {"SUBSTRING", F_SUBSTRING, 3, 3},
    {"TOKEN", F_TOKEN, 3, 3},
    {"TOKENCOUNT", F_TOKENCOUNT, 2, 2},
    {"TRIM", F_TRIM, 1, 1},
    {"UPPER", F_UPPER, 1, 1},
    {"DATEADD", F_DATEADD, 3, 3},
    {"DATEDIFF", F_DATEDIFF, 3, 3},
    {"DATEPART", F_DATEPART, 2, 2},
    {"DAY", F_DAY, 1, 1},
    {"GETDATE", F_GETDATE, 0, 0},
    {"GETUTCDATE", F_GETUTCDATE, 0, 0},
    {"MONTH", F_MONTH, 1, 1},
    {"YEAR", F_YEAR, 1, 1},
    {"ISNULL", F_ISNULL, 1, 1},
    {"REPLACENULL", F_REPLACENULL, 2, 2},
};
#define NFUNCS (sizeof(funcs) / sizeof(funcs[0]))

const struct func_def *
expr_func_find(const char *name, size_t len)
{
    for (size_t i = 0; i < NFUNCS; i++)
        if (strlen(funcs[i].name) == len &&
            strncasecmp(funcs[i].name, name, len) == 0)
            return &funcs[i];
    return NULL;
}

/* ------------------------------------------------------------ helpers */

static int
arg_error(struct ectx *cx, const struct expr_node *n, const char *fmt,
          long long v)
{
    return expr_fail(cx, n, EXPR_ROW_ERROR, fmt, v);
}

static int
overflow(struct ectx *cx, const struct expr_node *n, const char *fn)
{
    return expr_fail(cx, n, EXPR_ROW_ERROR, "%s overflows %s", fn,
                     expr_dt_name(n->type.dt));
}

static void
set_str(struct expr_value *out, const char *p, size_t len)
{
    out->v.s.p = p;
    out->v.s.len = len;
}

static void
set_null(struct expr_value *out)
{
    out->null = true;
}

/* ---------------------------------------------------------------- math */

static int
k_abs(struct ectx *cx, const struct expr_node *n, const struct expr_value *a,
      struct expr_value *out)
{
    enum expr_dt dt = n->type.dt;

    out->v = a->v;
    if (expr_dt_is_signed_int(dt) || dt == EXPR_DT_CY) {
        int64_t min;
        uint64_t max;

        expr_dt_int_range(dt == EXPR_DT_CY ? EXPR_DT_I8 : dt, &min, &max);
        if (a->v.i < 0 && (a->v.i == min))
            return overflow(cx, n, "ABS");
        out->v.i = a->v.i < 0 ? -a->v.i : a->v.i;
    } else if (dt == EXPR_DT_R4 || dt == EXPR_DT_R8) {
        out->v.r = fabs(a->v.r);
    } else if (expr_dt_is_decimal(dt)) {
        out->v.dec = a->v.dec < 0 ? -a->v.dec : a->v.dec;
    }
    return 0;
}

/* CEILING and FLOOR keep the argument's type: for exact decimals the
 * value is moved to a whole number at the same scale. */
static int
k_ceilfloor(struct ectx *cx, const struct expr_node *n,
            const struct expr_value *a, struct expr_value *out)
{
    enum expr_dt dt = n->type.dt;
    bool ceil_ = n->op == F_CEILING;
    expr_i128 m, p, q, r;
    int scale;

    out->v = a->v;
    if (dt == EXPR_DT_R4 || dt == EXPR_DT_R8) {
        out->v.r = ceil_ ? ceil(a->v.r) : floor(a->v.r);
        return 0;
    }
    if (dt != EXPR_DT_CY && !expr_dt_is_decimal(dt))
        return 0;
    m = dt == EXPR_DT_CY ? a->v.i : a->v.dec;
    scale = dt == EXPR_DT_CY ? 4 : n->type.scale;
    p = expr_pow10[scale];
    q = m / p;
    r = m % p;
    if (r != 0 && ceil_ && m > 0)
        q++;
    else if (r != 0 && !ceil_ && m < 0)
        q--;
    if (dt == EXPR_DT_CY) {
        if (q > INT64_MAX / 10000 || q < INT64_MIN / 10000)
            return overflow(cx, n, ceil_ ? "CEILING" : "FLOOR");
        out->v.i = (int64_t)(q * p);
        return 0;
    }
    if (!expr_dec_fits(q, n->type.precision - scale))
        return overflow(cx, n, ceil_ ? "CEILING" : "FLOOR");
    out->v.dec = q * p;
    return 0;
}

static int
k_sign(struct ectx *cx, const struct expr_node *n, const struct expr_value *a,
       struct expr_value *out)
{
    enum expr_dt dt = a->type.dt;

    if (expr_dt_is_signed_int(dt) || dt == EXPR_DT_CY)
        out->v.i = (a->v.i > 0) - (a->v.i < 0);
    else if (expr_dt_is_unsigned_int(dt))
        out->v.i = a->v.u > 0;
    else if (dt == EXPR_DT_R4 || dt == EXPR_DT_R8)
        out->v.i = (a->v.r > 0) - (a->v.r < 0);
    else
        out->v.i = (a->v.dec > 0) - (a->v.dec < 0);
    return 0;
}

static double
round_real(double x, int64_t digits)
{
    double p, r;

    if (digits > 15 || x == 0 || !isfinite(x))
        return x;
    p = pow(10.0, (double)digits);
    r = round(x * p) / p;
    return isfinite(r) ? r : x;
}

static int
k_round(struct ectx *cx, const struct expr_node *n, const struct expr_value *a,
        struct expr_value *out)
{
    enum expr_dt dt = n->type.dt;
    int64_t len = a[1].v.i;
    int scale;
    expr_i128 m;

    if (len < 0)
        return arg_error(cx, n, "ROUND length %lld must not be negative",
                         (long long)len);
    out->v = a[0].v;
    if (dt == EXPR_DT_R4 || dt == EXPR_DT_R8) {
        out->v.r = round_real(a[0].v.r, len);
        if (dt == EXPR_DT_R4)
            out->v.r = (double)(float)out->v.r;
        return 0;
    }
    if (dt != EXPR_DT_CY && !expr_dt_is_decimal(dt))
        return 0;
    scale = dt == EXPR_DT_CY ? 4 : n->type.scale;
    if (len >= scale)
        return 0;
    m = dt == EXPR_DT_CY ? a[0].v.i : a[0].v.dec;
    if (expr_dec_rescale(m, scale, (int)len, &m) < 0 ||
        expr_dec_rescale(m, (int)len, scale, &m) < 0)
        return overflow(cx, n, "ROUND");
    if (dt == EXPR_DT_CY) {
        if (m > INT64_MAX || m < INT64_MIN)
            return overflow(cx, n, "ROUND");
        out->v.i = (int64_t)m;
    } else {
        if (!expr_dec_fits(m, n->type.precision))
            return overflow(cx, n, "ROUND");
        out->v.dec = m;
    }
    return 0;
}

static int
k_real1(struct ectx *cx, const struct expr_node *n, const struct expr_value *a,
        struct expr_value *out)
{
    double x = a->v.r, r;

    switch (n->op) {
    case F_SQUARE:
        r = x * x;
        break;
    case F_SQRT:
        if (x < 0)
            return expr_fail(cx, n, EXPR_ROW_ERROR,
                             "SQRT of a negative number");
        r = sqrt(x);
        break;
    case F_EXP:
        r = exp(x);
        break;
    default: /* LN and LOG: zero or negative gives NULL */
        if (x <= 0) {
            set_null(out);
            return 0;
        }
        r = n->op == F_LN ? log(x) : log10(x);
        break;
    }
    if (!isfinite(r))
        return overflow(cx, n, n->op == F_EXP ? "EXP" : "SQUARE");
    out->v.r = r;
    return 0;
}

static int
k_power(struct ectx *cx, const struct expr_node *n, const struct expr_value *a,
        struct expr_value *out)
{
    double x = a[0].v.r, y = a[1].v.r, r;

    if (x == 0 && y < 0)
        return expr_fail(cx, n, EXPR_ROW_ERROR,
                         "POWER of zero to a negative power");
    r = pow(x, y);
    if (isnan(r)) { /* indeterminate: NULL, as the POWER page says */
        set_null(out);
        return 0;
    }
    if (!isfinite(r))
        return overflow(cx, n, "POWER");
    out->v.r = r;
    return 0;
}

/* ------------------------------------------------------------- strings */

static int
k_len(struct ectx *cx, const struct expr_node *n, const struct expr_value *a,
      struct expr_value *out)
{
    enum expr_dt dt = a->type.dt;

    /* Strings count UTF-16 code units; BLOBs count bytes as SSIS stores
     * them: two per unit for DT_NTEXT, one per character for DT_TEXT in a
     * single-byte code page. */
    if (expr_dt_is_string(dt) ||
        (dt == EXPR_DT_TEXT && a->type.codepage != 65001))
        out->v.i = (int64_t)expr_utf16_len(a->v.s.p, a->v.s.len);
    else if (dt == EXPR_DT_NTEXT)
        out->v.i = 2 * (int64_t)expr_utf16_len(a->v.s.p, a->v.s.len);
    else
        out->v.i = (int64_t)a->v.s.len;
    if (out->v.i > INT32_MAX)
        return overflow(cx, n, "LEN");
    return 0;
}

static int
k_codepoint(struct ectx *cx, const struct expr_node *n,
            const struct expr_value *a, struct expr_value *out)
{
    size_t i = 0;
    uint32_t cp;

    if (a->v.s.len == 0) {
        set_null(out);
        return 0;
    }
    cp = expr_utf8_next(a->v.s.p, a->v.s.len, &i);
    /* The first UTF-16 unit: a high surrogate outside the BMP. */
    out->v.u = cp >= 0x10000 ? 0xD800 + ((cp - 0x10000) >> 10) : cp;
    return 0;
}

static int
k_case(struct ectx *cx, const struct expr_node *n, const struct expr_value *a,
       struct expr_value *out)
{
    const char *s = a->v.s.p;
    size_t len = a->v.s.len, i = 0, o = 0;
    bool up = n->op == F_UPPER;
    char *p;

    if (expr_is_ascii(s, len)) {
        p = expr_scratch_str(cx, n, len);
        if (!p)
            return -1;
        for (i = 0; i < len; i++) {
            char ch = s[i];

            if (up && ch >= 'a' && ch <= 'z')
                ch = (char)(ch - 32);
            else if (!up && ch >= 'A' && ch <= 'Z')
                ch = (char)(ch + 32);
            p[i] = ch;
        }
        set_str(out, p, len);
        return 0;
    }
    /* A simple case mapping stays in its plane, and a character of at
     * most 3 bytes maps to at most 3: 1.5 times is enough. */
    p = expr_scratch_str(cx, n, len + len / 2 + 4);
    if (!p)
        return -1;
    while (i < len) {
        uint32_t cp = expr_utf8_next(s, len, &i);

        o += (size_t)expr_utf8_put(up ? expr_toupper(cp) : expr_tolower(cp),
                                   p + o);
    }
    set_str(out, p, o);
    return 0;
}

static int
k_trim(struct ectx *cx, const struct expr_node *n, const struct expr_value *a,
       struct expr_value *out)
{
    const char *s = a->v.s.p;
    size_t b = 0, e = a->v.s.len;

    /* Only U+0020, as the TRIM page says; tabs stay. */
    if (n->op != F_RTRIM)
        while (b < e && s[b] == ' ')
            b++;
    if (n->op != F_LTRIM)
        while (e > b && s[e - 1] == ' ')
            e--;
    set_str(out, s + b, e - b);
    return 0;
}

static int
k_left_right(struct ectx *cx, const struct expr_node *n,
             const struct expr_value *a, struct expr_value *out)
{
    const char *s = a[0].v.s.p;
    size_t len = a[0].v.s.len, units, cut;
    int64_t k = a[1].v.i;

    if (k < 0)
        return arg_error(cx, n,
                         n->op == F_LEFT
                             ? "LEFT count %lld must not be negative"
                             : "RIGHT count %lld must not be negative",
                         (long long)k);
    if (n->op == F_LEFT) {
        set_str(out, s, expr_utf16_offset(s, len, (size_t)k));
        return 0;
    }
    units = expr_is_ascii(s, len) ? len : expr_utf16_len(s, len);
    if ((uint64_t)k >= units) {
        set_str(out, s, len);
        return 0;
    }
    cut = expr_utf16_offset(s, len, units - (size_t)k);
    set_str(out, s + cut, len - cut);
    return 0;
}

static int
k_substring(struct ectx *cx, const struct expr_node *n,
            const struct expr_value *a, struct expr_value *out)
{
    const char *s = a[0].v.s.p;
    size_t len = a[0].v.s.len, from, to;
    int64_t pos = a[1].v.i, count = a[2].v.i;

    if (pos < 1)
        return arg_error(cx, n, "SUBSTRING position %lld must be 1 or more",
                         (long long)pos);
    if (count < 0)
        return arg_error(cx, n, "SUBSTRING length %lld must not be negative",
                         (long long)count);
    from = expr_utf16_offset(s, len, (size_t)(pos - 1));
    to = from + expr_utf16_offset(s + from, len - from, (size_t)count);
    set_str(out, s + from, to - from);
    return 0;
}

/* Byte offset of the next occurrence of `f` in s at or after `from`. */
static const char *
find(const char *s, size_t len, size_t from, struct expr_sv f)
{
    if (f.len > len || from > len - f.len)
        return NULL;
    return memmem(s + from, len - from, f.p, f.len);
}

static int
k_findstring(struct ectx *cx, const struct expr_node *n,
             const struct expr_value *a, struct expr_value *out)
{
    const char *s = a[0].v.s.p, *hit = NULL;
    size_t len = a[0].v.s.len, from = 0;
    int64_t occ = a[2].v.i;

    if (occ < 1)
        return arg_error(cx, n,
                         "FINDSTRING occurrence %lld must be 1 or "
                         "more",
                         (long long)occ);
    out->v.i = 0;
    if (a[1].v.s.len == 0)
        return 0;
    /* Occurrences may overlap: the next search starts one character
     * after the previous match, as a wcsstr loop would. */
    while (occ-- > 0) {
        hit = find(s, len, from, a[1].v.s);
        if (!hit)
            return 0;
        from = (size_t)(hit - s) + 1;
        while (from < len && ((unsigned char)s[from] & 0xC0) == 0x80)
            from++;
    }
    out->v.i = (int64_t)expr_utf16_len(s, (size_t)(hit - s)) + 1;
    return 0;
}

static int
k_replace(struct ectx *cx, const struct expr_node *n,
          const struct expr_value *a, struct expr_value *out)
{
    struct expr_sv s = a[0].v.s, f = a[1].v.s, r = a[2].v.s;
    size_t count = 0, from = 0, o = 0;
    const char *hit;
    char *p;

    if (f.len == 0)
        return expr_fail(cx, n, EXPR_ROW_ERROR,
                         "REPLACE needs a search string that is not empty");
    while ((hit = find(s.p, s.len, from, f))) {
        count++;
        from = (size_t)(hit - s.p) + f.len;
    }
    if (count == 0) {
        out->v.s = s;
        return 0;
    }
    if (r.len > f.len &&
        count > (cx->e->max_string - s.len) / (r.len - f.len + 1))
        return expr_fail(cx, n, EXPR_ROW_ERROR,
                         "REPLACE result is larger than the %zu-byte limit",
                         cx->e->max_string);
    p = expr_scratch_str(cx, n, s.len - count * f.len + count * r.len);
    if (!p)
        return -1;
    from = 0;
    while ((hit = find(s.p, s.len, from, f))) {
        size_t k = (size_t)(hit - s.p);

        memcpy(p + o, s.p + from, k - from);
        o += k - from;
        if (r.len)
            memcpy(p + o, r.p, r.len);
        o += r.len;
        from = k + f.len;
    }
    memcpy(p + o, s.p + from, s.len - from);
    set_str(out, p, o + s.len - from);
    return 0;
}

static int
k_replicate(struct ectx *cx, const struct expr_node *n,
            const struct expr_value *a, struct expr_value *out)
{
    struct expr_sv s = a[0].v.s;
    int64_t times = a[1].v.i;
    char *p;

    if (times < 0)
        return arg_error(cx, n, "REPLICATE count %lld must not be negative",
                         (long long)times);
    if (s.len && (uint64_t)times > cx->e->max_string / s.len)
        return expr_fail(cx, n, EXPR_ROW_ERROR,
                         "REPLICATE result is larger than the %zu-byte limit",
                         cx->e->max_string);
    if (s.len == 0 || times == 0) {
        set_str(out, "", 0);
        return 0;
    }
    p = expr_scratch_str(cx, n, s.len * (size_t)times);
    if (!p)
        return -1;
    for (int64_t i = 0; i < times; i++)
        memcpy(p + (size_t)i * s.len, s.p, s.len);
    set_str(out, p, s.len * (size_t)times);
    return 0;
}

/* Reverses by characters, so a surrogate pair stays a pair. */
static int
k_reverse(struct ectx *cx, const struct expr_node *n,
          const struct expr_value *a, struct expr_value *out)
{
    const char *s = a->v.s.p;
    size_t len = a->v.s.len, i = 0;
    char *p = expr_scratch_str(cx, n, len);

    if (!p)
        return -1;
    while (i < len) {
        size_t start = i;

        if ((unsigned char)s[i] < 0x80)
            i++;
        else
            expr_utf8_next(s, len, &i);
        memcpy(p + len - i, s + start, i - start);
    }
    set_str(out, p, len);
    return 0;
}

static bool
is_delim(struct expr_sv d, uint32_t cp)
{
    size_t i = 0;

    while (i < d.len)
        if (expr_utf8_next(d.p, d.len, &i) == cp)
            return true;
    return false;
}

/* Finds token number `want` (1-based; 0 counts them all) the way strtok
 * splits: runs of delimiters separate tokens and leading ones are
 * skipped.  Returns the number of tokens seen. */
static int64_t
tokens(struct expr_sv s, struct expr_sv d, int64_t want, struct expr_sv *tok)
{
    size_t i = 0;
    int64_t count = 0;

    while (i < s.len) {
        size_t start, prev = i;

        while (i < s.len) {
            prev = i;
            if (!is_delim(d, expr_utf8_next(s.p, s.len, &i))) {
                i = prev;
                break;
            }
        }
        if (i >= s.len)
            break;
        start = i;
        while (i < s.len) {
            prev = i;
            if (is_delim(d, expr_utf8_next(s.p, s.len, &i))) {
                i = prev;
                break;
            }
        }
        if (++count == want) {
            tok->p = s.p + start;
            tok->len = i - start;
            return count;
        }
        if (i < s.len)
            expr_utf8_next(s.p, s.len, &i);
    }
    return count;
}

static int
k_token(struct ectx *cx, const struct expr_node *n, const struct expr_value *a,
        struct expr_value *out)
{
    struct expr_sv t = {"", 0};
    int64_t occ = a[2].v.i;

    if (occ < 1)
        return arg_error(cx, n, "TOKEN occurrence %lld must be 1 or more",
                         (long long)occ);
    /* Past the last token the result is the empty string, as the TOKEN
     * page's example shows (its text says NULL; the example is taken). */
    tokens(a[0].v.s, a[1].v.s, occ, &t);
    out->v.s = t;
    return 0;
}

static int
k_tokencount(struct ectx *cx, const struct expr_node *n,
             const struct expr_value *a, struct expr_value *out)
{
    struct expr_sv t;

    /* A NULL string has no tokens (0, not NULL, per TOKENCOUNT's page). */
    out->null = false;
    if (a[0].null) {
        out->v.i = 0;
        return 0;
    }
    if (a[1].null) {
        out->null = true;
        return 0;
    }
    out->v.i = tokens(a[0].v.s, a[1].v.s, 0, &t);
    return 0;
}

static int
k_hex(struct ectx *cx, const struct expr_node *n, const struct expr_value *a,
      struct expr_value *out)
{
    static const char digs[] = "0123456789ABCDEF";
    int w = expr_dt_int_width(a->type.dt);
    uint64_t v = a->v.u;
    char buf[16];
    size_t k = sizeof(buf), len;
    char *p;

    /* Negative values show their two's complement in the type's width. */
    if (w < 8)
        v &= (UINT64_C(1) << (w * 8)) - 1;
    do {
        buf[--k] = digs[v & 15];
        v >>= 4;
    } while (v);
    len = sizeof(buf) - k;
    p = expr_scratch(cx, len);
    memcpy(p, buf + k, len);
    set_str(out, p, len);
    return 0;
}

/* --------------------------------------------------------------- dates */

static int64_t
date_ticks(const struct expr_value *v)
{
    return v->type.dt == EXPR_DT_DBTIMESTAMPOFFSET ? v->v.dto.ticks : v->v.t;
}

/* The date part of node n: known at compile time or read from the string
 * argument now. */
static int
date_part(struct ectx *cx, const struct expr_node *n,
          const struct expr_value *a)
{
    int part = n->part;

    if (part < 0) {
        part = expr_date_part(a->v.s.p, a->v.s.len);
        if (part < 0)
            return expr_fail(
                cx, n, EXPR_ROW_ERROR, "unknown date part \"%.*s\"",
                (int)(a->v.s.len > 20 ? 20 : a->v.s.len), a->v.s.p);
    }
    return part;
}

static int
k_dateadd(struct ectx *cx, const struct expr_node *n,
          const struct expr_value *a, struct expr_value *out)
{
    int part = date_part(cx, n, &a[0]);
    int64_t t;

    if (part < 0)
        return -1;
    if (expr_date_add(date_ticks(&a[2]), part, a[1].v.i, &t) < 0)
        return expr_fail(cx, n, EXPR_ROW_ERROR,
                         "DATEADD result is outside years 1 to 9999");
    out->v.t = t - t % 10000; /* DT_DBTIMESTAMP keeps milliseconds */
    return 0;
}

static int64_t
utc(const struct expr_value *v)
{
    if (v->type.dt == EXPR_DT_DBTIMESTAMPOFFSET)
        return v->v.dto.ticks -
               (int64_t)v->v.dto.offset * 60 * EXPR_TICKS_PER_SEC;
    return v->v.t;
}

static int
k_datediff(struct ectx *cx, const struct expr_node *n,
           const struct expr_value *a, struct expr_value *out)
{
    int part = date_part(cx, n, &a[0]);

    if (part < 0)
        return -1;
    if (expr_date_diff(utc(&a[1]), utc(&a[2]), part, &out->v.i) < 0)
        return overflow(cx, n, "DATEDIFF");
    return 0;
}

static int
k_datepart(struct ectx *cx, const struct expr_node *n,
           const struct expr_value *a, struct expr_value *out)
{
    int part;

    switch (n->op) {
    case F_DAY:
        out->v.i = expr_date_get_part(date_ticks(a), DP_DAY);
        return 0;
    case F_MONTH:
        out->v.i = expr_date_get_part(date_ticks(a), DP_MONTH);
        return 0;
    case F_YEAR:
        out->v.i = expr_date_get_part(date_ticks(a), DP_YEAR);
        return 0;
    default:
        part = date_part(cx, n, &a[0]);
        if (part < 0)
            return -1;
        out->v.i = expr_date_get_part(date_ticks(&a[1]), part);
        return 0;
    }
}

static int
k_getdate(struct ectx *cx, const struct expr_node *n,
          const struct expr_value *a, struct expr_value *out)
{
    int64_t u, l, t;

    expr_now(cx, &u, &l);
    t = n->op == F_GETDATE ? l : u;
    out->v.t = t - t % 10000;
    return 0;
}

/* --------------------------------------------------------------- NULLs */

static int
k_isnull(struct ectx *cx, const struct expr_node *n, const struct expr_value *a,
         struct expr_value *out)
{
    out->null = false;
    out->v.b = a->null;
    return 0;
}

static int
k_replacenull(struct ectx *cx, const struct expr_node *n,
              const struct expr_value *a, struct expr_value *out)
{
    *out = a[0].null ? a[1] : a[0];
    out->type = n->type;
    return 0;
}

/* --------------------------------------------------------------- typing */

static int
bad_arg(struct expr_compiler *c, struct expr_node *n, int i, const char *need)
{
    n->type = expr_type_of(EXPR_DT_EMPTY);
    return expr_diag(c, n->a[i]->off, false,
                     "argument %d of %s must be %s, not %s", i + 1, n->name,
                     need, expr_dt_name(n->a[i]->type.dt));
}

/* A string argument: DT_STR and DT_WSTR become DT_WSTR. */
static int
want_string(struct expr_compiler *c, struct expr_node *n, int i)
{
    struct expr_type t = expr_type_of(EXPR_DT_WSTR);

    if (!expr_dt_is_string(n->a[i]->type.dt))
        return bad_arg(c, n, i, "a string (DT_WSTR or DT_STR)");
    t.length = n->a[i]->type.length;
    expr_coerce(c, n, i, &t);
    return 0;
}

static int
want_int(struct expr_compiler *c, struct expr_node *n, int i)
{
    struct expr_type t = expr_type_of(EXPR_DT_I8);

    if (!expr_dt_is_int(n->a[i]->type.dt))
        return bad_arg(c, n, i, "an integer");
    expr_coerce(c, n, i, &t);
    return 0;
}

static int
want_numeric(struct expr_compiler *c, struct expr_node *n, int i)
{
    if (!expr_dt_is_numeric(n->a[i]->type.dt))
        return bad_arg(c, n, i, "numeric");
    return 0;
}

static int
want_real(struct expr_compiler *c, struct expr_node *n, int i)
{
    struct expr_type t = expr_type_of(EXPR_DT_R8);

    if (want_numeric(c, n, i) < 0)
        return -1;
    expr_coerce(c, n, i, &t);
    return 0;
}

/* A date argument: DT_DBTIMESTAMPOFFSET as it is (its local time is
 * read), every other date type and date strings as DT_DBTIMESTAMP2. */
static int
want_date(struct expr_compiler *c, struct expr_node *n, int i, bool offset)
{
    enum expr_dt dt = n->a[i]->type.dt;
    struct expr_type t =
        expr_type_of(offset ? EXPR_DT_DBTIMESTAMPOFFSET : EXPR_DT_DBTIMESTAMP2);

    if (!expr_dt_is_date(dt) && !expr_dt_is_string(dt))
        return bad_arg(c, n, i, "a date");
    if (dt == EXPR_DT_DBTIMESTAMPOFFSET && !offset)
        return 0;
    t.scale = 7;
    expr_coerce(c, n, i, &t);
    return 0;
}

/* The date part argument: a string, resolved now when it is constant. */
static int
want_part(struct expr_compiler *c, struct expr_node *n)
{
    struct expr_node *a;

    if (want_string(c, n, 0) < 0)
        return -1;
    a = n->a[0];
    if (a->kind == N_CAST && a->a[0]->kind == N_LIT)
        a = a->a[0];
    if (a->kind == N_LIT && !a->lit.null) {
        n->part = expr_date_part(a->lit.v.s.p, a->lit.v.s.len);
        if (n->part < 0) {
            n->type = expr_type_of(EXPR_DT_EMPTY);
            return expr_diag(c, a->off, false,
                             "unknown date part \"%.*s\" (year, quarter, "
                             "month, dayofyear, day, week, weekday, hour, "
                             "minute, second, millisecond or their "
                             "abbreviations)",
                             (int)(a->lit.v.s.len > 20 ? 20 : a->lit.v.s.len),
                             a->lit.v.s.p);
        }
    }
    return 0;
}

/* CEILING, FLOOR and ROUND keep an exact decimal's type but may carry
 * into one more digit (CEILING(9.5) is 10.0): give the type room for it. */
static void
carry_digit(struct expr_type *t, bool carry)
{
    if (carry && t->dt == EXPR_DT_NUMERIC && t->precision < EXPR_DEC_MAXP)
        t->precision++;
}

static int
type_math(struct expr_compiler *c, struct expr_node *n)
{
    switch (n->op) {
    case F_ABS:
    case F_CEILING:
    case F_FLOOR:
        if (want_numeric(c, n, 0) < 0)
            return -1;
        n->type = n->a[0]->type;
        carry_digit(&n->type, n->op != F_ABS);
        n->kern = n->op == F_ABS ? k_abs : k_ceilfloor;
        return 0;
    case F_SIGN:
        if (want_numeric(c, n, 0) < 0)
            return -1;
        n->type = expr_type_of(EXPR_DT_I4);
        n->kern = k_sign;
        return 0;
    case F_ROUND:
        if (want_numeric(c, n, 0) < 0 || want_int(c, n, 1) < 0)
            return -1;
        n->type = n->a[0]->type;
        carry_digit(&n->type, true);
        n->kern = k_round;
        return 0;
    case F_POWER:
        if (want_real(c, n, 0) < 0 || want_real(c, n, 1) < 0)
            return -1;
        n->type = expr_type_of(EXPR_DT_R8);
        n->kern = k_power;
        return 0;
    default: /* EXP LN LOG SQUARE SQRT */
        if (want_real(c, n, 0) < 0)
            return -1;
        n->type = expr_type_of(EXPR_DT_R8);
        n->kern = k_real1;
        return 0;
    }
}

static int32_t
str_len_of(struct expr_node *a)
{
    return a->type.length;
}

static int
type_string2(struct expr_compiler *c, struct expr_node *n)
{
    n->type = expr_type_of(EXPR_DT_WSTR);
    switch (n->op) {
    case F_LEFT:
    case F_RIGHT:
    case F_REPLICATE:
        if (want_string(c, n, 0) < 0 || want_int(c, n, 1) < 0)
            return -1;
        n->type.length = str_len_of(n->a[0]);
        if (n->op == F_REPLICATE) {
            /* The length is the product when the count is constant. */
            struct expr_node *k = n->a[1];
            int64_t t = k->kind == N_LIT ? k->lit.v.i : 0;

            n->type.length = t > 0 && t * n->type.length < 4000
                                 ? (int32_t)(t * n->type.length)
                                 : 4000;
            n->kern = k_replicate;
        } else {
            n->kern = k_left_right;
        }
        return 0;
    case F_TOKENCOUNT:
        if (want_string(c, n, 0) < 0 || want_string(c, n, 1) < 0)
            return -1;
        n->type = expr_type_of(EXPR_DT_I4);
        n->nulls_in = true;
        n->kern = k_tokencount;
        return 0;
    default:
        return -1;
    }
}

static int
type_string3(struct expr_compiler *c, struct expr_node *n)
{
    n->type = expr_type_of(EXPR_DT_WSTR);
    switch (n->op) {
    case F_SUBSTRING:
        if (want_string(c, n, 0) < 0 || want_int(c, n, 1) < 0 ||
            want_int(c, n, 2) < 0)
            return -1;
        n->type.length = str_len_of(n->a[0]);
        n->kern = k_substring;
        return 0;
    case F_FINDSTRING:
        if (want_string(c, n, 0) < 0 || want_string(c, n, 1) < 0 ||
            want_int(c, n, 2) < 0)
            return -1;
        n->type = expr_type_of(EXPR_DT_I4);
        n->kern = k_findstring;
        return 0;
    case F_TOKEN:
        if (want_string(c, n, 0) < 0 || want_string(c, n, 1) < 0 ||
            want_int(c, n, 2) < 0)
            return -1;
        n->type.length = str_len_of(n->a[0]);
        n->kern = k_token;
        return 0;
    case F_REPLACE:
        for (int i = 0; i < 3; i++)
            if (want_string(c, n, i) < 0)
                return -1;
        n->type.length = str_len_of(n->a[2]) > str_len_of(n->a[1])
                             ? 4000
                             : str_len_of(n->a[0]);
        if (n->type.length < str_len_of(n->a[0]))
            n->type.length = str_len_of(n->a[0]);
        n->kern = k_replace;
        return 0;
    default:
        return type_string2(c, n);
    }
}

static int
type_string(struct expr_compiler *c, struct expr_node *n)
{
    switch (n->op) {
    case F_LEN:
        if (!expr_dt_is_text(n->a[0]->type.dt) &&
            n->a[0]->type.dt != EXPR_DT_IMAGE)
            return bad_arg(c, n, 0, "a string");
        if (expr_dt_is_string(n->a[0]->type.dt) && want_string(c, n, 0) < 0)
            return -1;
        n->type = expr_type_of(EXPR_DT_I4);
        n->kern = k_len;
        return 0;
    case F_CODEPOINT:
        if (want_string(c, n, 0) < 0)
            return -1;
        n->type = expr_type_of(EXPR_DT_UI2);
        n->kern = k_codepoint;
        return 0;
    case F_HEX:
        if (!expr_dt_is_int(n->a[0]->type.dt))
            return bad_arg(c, n, 0, "an integer");
        n->type = expr_type_of(EXPR_DT_WSTR);
        n->type.length = 2 * expr_dt_int_width(n->a[0]->type.dt);
        n->kern = k_hex;
        return 0;
    case F_LOWER:
    case F_UPPER:
    case F_LTRIM:
    case F_RTRIM:
    case F_TRIM:
    case F_REVERSE:
        if (want_string(c, n, 0) < 0)
            return -1;
        n->type = expr_type_of(EXPR_DT_WSTR);
        n->type.length = str_len_of(n->a[0]);
        n->kern = n->op == F_LOWER || n->op == F_UPPER ? k_case
                  : n->op == F_REVERSE                 ? k_reverse
                                                       : k_trim;
        return 0;
    default:
        return type_string3(c, n);
    }
}

static int
type_date(struct expr_compiler *c, struct expr_node *n)
{
    n->type = expr_type_of(EXPR_DT_I4);
    switch (n->op) {
    case F_GETDATE:
    case F_GETUTCDATE:
        n->type = expr_type_of(EXPR_DT_DBTIMESTAMP);
        n->constant = false;
        n->kern = k_getdate;
        return 0;
    case F_DAY:
    case F_MONTH:
    case F_YEAR:
        if (want_date(c, n, 0, false) < 0)
            return -1;
        n->kern = k_datepart;
        return 0;
    case F_DATEPART:
        if (want_part(c, n) < 0 || want_date(c, n, 1, false) < 0)
            return -1;
        n->kern = k_datepart;
        return 0;
    case F_DATEADD:
        if (want_part(c, n) < 0 || want_int(c, n, 1) < 0 ||
            want_date(c, n, 2, false) < 0)
            return -1;
        n->type = expr_type_of(EXPR_DT_DBTIMESTAMP);
        n->kern = k_dateadd;
        return 0;
    default: { /* DATEDIFF: offsets are compared in UTC */
        bool off = n->a[1]->type.dt == EXPR_DT_DBTIMESTAMPOFFSET ||
                   n->a[2]->type.dt == EXPR_DT_DBTIMESTAMPOFFSET;

        if (want_part(c, n) < 0 || want_date(c, n, 1, off) < 0 ||
            want_date(c, n, 2, off) < 0)
            return -1;
        n->kern = k_datediff;
        return 0;
    }
    }
}

static int
type_null(struct expr_compiler *c, struct expr_node *n)
{
    struct expr_type t;

    if (n->op == F_ISNULL) {
        n->type = expr_type_of(EXPR_DT_BOOL);
        n->nulls_in = true;
        n->kern = k_isnull;
        return 0;
    }
    /* REPLACENULL: the second argument takes the first one's type (two
     * strings give DT_WSTR long enough for either). */
    t = n->a[0]->type;
    if (expr_dt_is_string(t.dt) && expr_dt_is_string(n->a[1]->type.dt)) {
        t = expr_type_of(EXPR_DT_WSTR);
        t.length = n->a[0]->type.length > n->a[1]->type.length
                       ? n->a[0]->type.length
                       : n->a[1]->type.length;
        expr_coerce(c, n, 0, &t);
    } else if (!expr_cast_legal(n->a[1]->type.dt, t.dt) ||
               expr_dt_is_text(t.dt) != expr_dt_is_text(n->a[1]->type.dt)) {
        return bad_arg(c, n, 1, expr_dt_name(t.dt));
    }
    expr_coerce(c, n, 1, &t);
    n->type = t;
    n->nulls_in = true;
    n->kern = k_replacenull;
    return 0;
}

int
expr_func_check(struct expr_compiler *c, struct expr_node *n)
{
    const struct func_def *f = expr_func_find(n->name, strlen(n->name));

    if (!f) {
        n->type = expr_type_of(EXPR_DT_EMPTY);
        return expr_diag(c, n->off, false, "unknown function '%s'", n->name);
    }
    if (n->nargs < f->minargs || n->nargs > f->maxargs) {
        n->type = expr_type_of(EXPR_DT_EMPTY);
        return expr_diag(c, n->off, false, "%s takes %d argument%s, not %d",
                         f->name, f->minargs, f->minargs == 1 ? "" : "s",
                         n->nargs);
    }
    n->op = f->id;
    n->name = f->name;
    n->constant = true;
    if (n->op <= F_SQRT)
        return type_math(c, n);
    if (n->op <= F_UPPER)
        return type_string(c, n);
    if (n->op <= F_YEAR)
        return type_date(c, n);
    return type_null(c, n);
}
