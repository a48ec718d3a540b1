/*
 * Conversions between types: the cast operator and every implicit
 * conversion the checker inserts.  One function per target family; each
 * handles every legal source.  Rules ("Cast (SSIS Expression)", "Data
 * Truncation", "Integration Services Data Types"):
 *   - numbers to integers round half away from zero (SSIS rounds:
 *     (DT_I4)3.57 is 4) and fail when out of range;
 *   - TRUE is -1 as a number ("the expression language converts True to
 *     -1"), any non-zero number is TRUE;
 *   - strings convert to numbers, dates, Booleans and GUIDs by parsing,
 *     and fail on text that does not parse;
 *   - a cast to a shorter string truncates silently, as SSIS does at run
 *     time, unless EXPR_TRUNCATE_ERROR asks for a row error (the data
 *     flow); implicit conversions never truncate;
 *   - a DT_DBTIMESTAMPOFFSET converted to another date type goes to UTC,
 *     and a time converted to a date type takes today's date.
 * Where SSIS's behaviour is not documented the choice is written down in
 * docs/expressions.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/banned.h"
#include "expr/expr_int.h"

#define TICKS_PER_MS INT64_C(10000)
/* Days from 0001-01-01 to 1899-12-30, day 0 of DT_DATE (OLE dates). */
#define OLE_EPOCH_DAYS INT64_C(693593)

static const char *
dtn(const struct expr_type *t)
{
    return expr_dt_name(t->dt);
}

/* ------------------------------------------------------------- legality */

static int
family(enum expr_dt dt)
{
    if (expr_dt_is_numeric(dt))
        return 1;
    if (dt == EXPR_DT_BOOL)
        return 2;
    if (expr_dt_is_text(dt))
        return 3;
    if (expr_dt_is_date(dt))
        return 4;
    if (dt == EXPR_DT_GUID)
        return 5;
    if (expr_dt_is_binary(dt))
        return 6;
    return 0;
}

bool
expr_cast_legal(enum expr_dt from, enum expr_dt to)
{
    int f = family(from), t = family(to);

    if (!f || !t)
        return false;
    if (f == t || f == 3 || t == 3)
        return !(from == EXPR_DT_IMAGE && t == 3 && to != EXPR_DT_IMAGE);
    if ((f == 1 && t == 2) || (f == 2 && t == 1))
        return true;
    /* DT_DATE is a number of days underneath; the other date types are
     * structures and do not convert to or from numbers. */
    if ((f == 1 && to == EXPR_DT_DATE) || (from == EXPR_DT_DATE && t == 1))
        return true;
    if ((f == 5 && to == EXPR_DT_BYTES) || (from == EXPR_DT_BYTES && t == 5))
        return true;
    return false;
}

/* ------------------------------------------------------------- helpers */

static int
out_of_range(struct ectx *cx, const struct expr_node *n,
             const struct expr_value *in, const struct expr_type *to)
{
    return expr_fail(cx, n, EXPR_ROW_ERROR,
                     "the %s value is out of the range of %s", dtn(&in->type),
                     dtn(to));
}

static void
trim_spaces(const char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

static int
bad_text(struct ectx *cx, const struct expr_node *n, struct expr_sv s,
         const struct expr_type *to)
{
    return expr_fail(cx, n, EXPR_ROW_ERROR, "cannot convert \"%.*s\" to %s",
                     (int)(s.len > 60 ? 60 : s.len), s.p, dtn(to));
}

/* A value as an exact decimal (mantissa and scale); -1 for non-numbers. */
static int
to_decimal(const struct expr_value *in, expr_i128 *m, int *scale)
{
    enum expr_dt dt = in->type.dt;

    *scale = 0;
    if (expr_dt_is_signed_int(dt)) {
        *m = in->v.i;
    } else if (expr_dt_is_unsigned_int(dt)) {
        *m = (expr_i128)in->v.u;
    } else if (dt == EXPR_DT_CY) {
        *m = in->v.i;
        *scale = 4;
    } else if (expr_dt_is_decimal(dt)) {
        *m = in->v.dec;
        *scale = in->type.scale;
    } else if (dt == EXPR_DT_BOOL) {
        *m = in->v.b ? -1 : 0;
    } else {
        return -1;
    }
    return 0;
}

/* OLE automation date (days since 1899-12-30, the fraction the time of
 * day even for negative days) <-> ticks. */
static int
ole_to_ticks(double d, int64_t *ticks)
{
    double days, frac;

    if (!isfinite(d) || d < -657434.0 || d >= 2958466.0)
        return -1;
    days = trunc(d);
    frac = fabs(d - days);
    *ticks = (OLE_EPOCH_DAYS + (int64_t)days) * EXPR_TICKS_PER_DAY +
             (int64_t)llround(frac * (double)EXPR_TICKS_PER_DAY);
    return 0;
}

static double
ticks_to_ole(int64_t ticks)
{
    int64_t days = ticks / EXPR_TICKS_PER_DAY;
    double frac =
        (double)(ticks % EXPR_TICKS_PER_DAY) / (double)EXPR_TICKS_PER_DAY;

    days -= OLE_EPOCH_DAYS;
    return days < 0 ? (double)days - frac : (double)days + frac;
}

/* ------------------------------------------------------------ integers */

static int
int_from_i128(struct ectx *cx, const struct expr_node *n,
              const struct expr_value *in, expr_i128 m,
              const struct expr_type *to, struct expr_value *out)
{
    int64_t min;
    uint64_t max;

    expr_dt_int_range(to->dt, &min, &max);
    if (m < (expr_i128)min || m > (expr_i128)max)
        return out_of_range(cx, n, in, to);
    if (expr_dt_is_unsigned_int(to->dt))
        out->v.u = (uint64_t)m;
    else
        out->v.i = (int64_t)m;
    return 0;
}

static int
int_from_double(struct ectx *cx, const struct expr_node *n,
                const struct expr_value *in, double d,
                const struct expr_type *to, struct expr_value *out)
{
    d = round(d); /* half away from zero */
    /* 2^64 and 2^63 are exact doubles; compare before converting, since
     * an out-of-range conversion is undefined in C. */
    if (!isfinite(d) || d <= -9223372036854775809.0 ||
        d >= 18446744073709551616.0)
        return out_of_range(cx, n, in, to);
    if (d < 0)
        return int_from_i128(cx, n, in, (expr_i128)(int64_t)d, to, out);
    return int_from_i128(cx, n, in, (expr_i128)(uint64_t)d, to, out);
}

static int
to_int(struct ectx *cx, const struct expr_node *n, const struct expr_value *in,
       const struct expr_type *to, struct expr_value *out)
{
    enum expr_dt dt = in->type.dt;
    expr_i128 m;
    int scale;

    if (dt == EXPR_DT_R4 || dt == EXPR_DT_R8)
        return int_from_double(cx, n, in, in->v.r, to, out);
    if (dt == EXPR_DT_DATE)
        return int_from_double(cx, n, in, ticks_to_ole(in->v.t), to, out);
    if (expr_dt_is_text(dt)) {
        struct expr_sv s = in->v.s;

        trim_spaces(&s.p, &s.len);
        if (expr_dec_parse(s.p, s.len, &m, &scale, NULL) < 0)
            return bad_text(cx, n, in->v.s, to);
    } else if (to_decimal(in, &m, &scale) < 0) {
        return out_of_range(cx, n, in, to);
    }
    if (expr_dec_rescale(m, scale, 0, &m) < 0)
        return out_of_range(cx, n, in, to);
    return int_from_i128(cx, n, in, m, to, out);
}

/* --------------------------------------------------------------- reals */

static double
value_to_double(const struct expr_value *in)
{
    switch (in->type.dt) {
    case EXPR_DT_R4:
    case EXPR_DT_R8:
        return in->v.r;
    case EXPR_DT_CY:
        return (double)in->v.i / 10000.0;
    case EXPR_DT_NUMERIC:
    case EXPR_DT_DECIMAL:
        return expr_dec_to_double(in->v.dec, in->type.scale);
    case EXPR_DT_BOOL:
        return in->v.b ? -1.0 : 0.0;
    case EXPR_DT_DATE:
        return ticks_to_ole(in->v.t);
    default:
        return expr_dt_is_unsigned_int(in->type.dt) ? (double)in->v.u
                                                    : (double)in->v.i;
    }
}

static int
to_real(struct ectx *cx, const struct expr_node *n, const struct expr_value *in,
        const struct expr_type *to, struct expr_value *out)
{
    double d;

    if (expr_dt_is_text(in->type.dt)) {
        struct expr_sv s = in->v.s;
        char buf[128], *end;

        trim_spaces(&s.p, &s.len);
        if (s.len == 0 || s.len >= sizeof(buf) ||
            strspn(s.p, "0123456789+-.eE") < s.len)
            return bad_text(cx, n, in->v.s, to);
        memcpy(buf, s.p, s.len);
        buf[s.len] = '\0';
        d = strtod(buf, &end);
        if (*end)
            return bad_text(cx, n, in->v.s, to);
    } else {
        d = value_to_double(in);
    }
    if (!isfinite(d) ||
        (to->dt == EXPR_DT_R4 && fabs(d) > 3.4028234663852886e38))
        return out_of_range(cx, n, in, to);
    out->v.r = to->dt == EXPR_DT_R4 ? (double)(float)d : d;
    return 0;
}

/* ------------------------------------------------------------ decimals */

static int
to_dec(struct ectx *cx, const struct expr_node *n, const struct expr_value *in,
       const struct expr_type *to, struct expr_value *out)
{
    enum expr_dt dt = in->type.dt;
    int target = to->dt == EXPR_DT_CY ? 4 : to->scale, scale;
    expr_i128 m;

    if (dt == EXPR_DT_R4 || dt == EXPR_DT_R8 || dt == EXPR_DT_DATE) {
        if (expr_dec_from_double(value_to_double(in), target, &m) < 0)
            return out_of_range(cx, n, in, to);
        scale = target;
    } else if (expr_dt_is_text(dt)) {
        struct expr_sv s = in->v.s;

        trim_spaces(&s.p, &s.len);
        if (expr_dec_parse(s.p, s.len, &m, &scale, NULL) < 0)
            return bad_text(cx, n, in->v.s, to);
    } else if (to_decimal(in, &m, &scale) < 0) {
        return out_of_range(cx, n, in, to);
    }
    if (expr_dec_rescale(m, scale, target, &m) < 0)
        return out_of_range(cx, n, in, to);
    if (to->dt == EXPR_DT_CY) {
        if (m < INT64_MIN || m > INT64_MAX)
            return out_of_range(cx, n, in, to);
        out->v.i = (int64_t)m;
        return 0;
    }
    if (to->dt == EXPR_DT_DECIMAL ? (m < 0 ? -m : m) >= ((expr_i128)1 << 96)
                                  : !expr_dec_fits(m, to->precision))
        return out_of_range(cx, n, in, to);
    out->v.dec = m;
    return 0;
}

/* ------------------------------------------------------------- Boolean */

static int
to_bool(struct ectx *cx, const struct expr_node *n, const struct expr_value *in,
        const struct expr_type *to, struct expr_value *out)
{
    expr_i128 m;
    int scale;

    if (expr_dt_is_text(in->type.dt)) {
        struct expr_sv s = in->v.s;

        trim_spaces(&s.p, &s.len);
        if (s.len == 4 && strncasecmp(s.p, "true", 4) == 0) {
            out->v.b = true;
        } else if (s.len == 5 && strncasecmp(s.p, "false", 5) == 0) {
            out->v.b = false;
        } else if (expr_dec_parse(s.p, s.len, &m, &scale, NULL) == 0) {
            out->v.b = m != 0;
        } else {
            return bad_text(cx, n, in->v.s, to);
        }
        return 0;
    }
    if (in->type.dt == EXPR_DT_R4 || in->type.dt == EXPR_DT_R8) {
        out->v.b = in->v.r != 0;
        return 0;
    }
    if (to_decimal(in, &m, &scale) < 0)
        return out_of_range(cx, n, in, to);
    out->v.b = m != 0;
    return 0;
}

/* --------------------------------------------------------------- dates */

/* Truncates ticks to `digits` fractional-second digits (0-7). */
static int64_t
trunc_frac(int64_t t, int digits)
{
    static const int64_t unit[8] = {10000000, 1000000, 100000, 10000,
                                    1000,     100,     10,     1};
    int64_t u = unit[digits < 0 ? 0 : digits > 7 ? 7 : digits];

    return t - t % u;
}

static int
date_from_date(struct ectx *cx, const struct expr_node *n,
               const struct expr_value *in, const struct expr_type *to,
               int64_t *ticks, int *offset)
{
    enum expr_dt from = in->type.dt;
    int64_t t = from == EXPR_DT_DBTIMESTAMPOFFSET ? in->v.dto.ticks : in->v.t;

    *offset = 0;
    if (from == EXPR_DT_DBTIMESTAMPOFFSET) {
        if (to->dt == EXPR_DT_DBTIMESTAMPOFFSET)
            *offset = in->v.dto.offset;
        else
            t -= (int64_t)in->v.dto.offset * 60 * EXPR_TICKS_PER_SEC;
    }
    if (expr_dt_is_time(from) && !expr_dt_is_time(to->dt)) {
        int64_t utc, local;

        expr_now(cx, &utc, &local);
        t += local - local % EXPR_TICKS_PER_DAY;
    }
    *ticks = t;
    return 0;
}

static int
to_date(struct ectx *cx, const struct expr_node *n, const struct expr_value *in,
        const struct expr_type *to, struct expr_value *out)
{
    int64_t t;
    int offset = 0, min_year = 1;
    bool has = false;

    if (expr_dt_is_text(in->type.dt)) {
        if (expr_date_parse(in->v.s.p, in->v.s.len, to->dt, &t, &offset, &has) <
            0)
            return bad_text(cx, n, in->v.s, to);
        if (has && to->dt != EXPR_DT_DBTIMESTAMPOFFSET) {
            t -= (int64_t)offset * 60 * EXPR_TICKS_PER_SEC; /* to UTC */
            offset = 0;
        }
    } else if (expr_dt_is_date(in->type.dt)) {
        date_from_date(cx, n, in, to, &t, &offset);
    } else if (ole_to_ticks(value_to_double(in), &t) < 0) {
        return out_of_range(cx, n, in, to);
    }
    switch (to->dt) {
    case EXPR_DT_DBDATE:
        t -= t % EXPR_TICKS_PER_DAY;
        break;
    case EXPR_DT_DBTIME:
    case EXPR_DT_DBTIME2:
        t %= EXPR_TICKS_PER_DAY;
        t = trunc_frac(t, to->dt == EXPR_DT_DBTIME ? 0 : to->scale);
        break;
    case EXPR_DT_DBTIMESTAMP:
        t = trunc_frac(t, 3);
        break;
    case EXPR_DT_FILETIME:
        t = trunc_frac(t, 3);
        min_year = 1601;
        break;
    case EXPR_DT_DATE:
        min_year = 100;
        break;
    default: /* DBTIMESTAMP2, DBTIMESTAMPOFFSET */
        t = trunc_frac(t, to->scale);
        break;
    }
    if (t < 0 || t > EXPR_TICKS_MAX ||
        (min_year > 1 &&
         t < expr_days_from_civil(min_year, 1, 1) * EXPR_TICKS_PER_DAY))
        return out_of_range(cx, n, in, to);
    if (to->dt == EXPR_DT_DBTIMESTAMPOFFSET) {
        out->v.dto.ticks = t;
        out->v.dto.offset = (int16_t)offset;
    } else {
        out->v.t = t;
    }
    return 0;
}

/* ---------------------------------------------------------------- GUID */

static int
hexdig(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
        return (ch | 0x20) - 'a' + 10;
    return -1;
}

static int
parse_guid(struct expr_sv s, struct expr_guid *g)
{
    static const int dash[] = {8, 13, 18, 23};
    int k = 0;

    trim_spaces(&s.p, &s.len);
    if (s.len == 38 && s.p[0] == '{' && s.p[37] == '}') {
        s.p++;
        s.len -= 2;
    }
    if (s.len != 36)
        return -1;
    for (int i = 0; i < 36;) {
        int hi, lo;

        if (k < 4 && i == dash[k]) {
            if (s.p[i] != '-')
                return -1;
            i++;
            k++;
            continue;
        }
        hi = hexdig(s.p[i]);
        lo = hexdig(s.p[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        g->b[(i - k) / 2] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return 0;
}

/* A Windows GUID in memory keeps its first three fields little-endian;
 * DT_BYTES of a GUID are those memory bytes. */
static void
guid_swap(const uint8_t *in, uint8_t *out)
{
    static const int order[16] = {3, 2, 1,  0,  5,  4,  7,  6,
                                  8, 9, 10, 11, 12, 13, 14, 15};

    for (int i = 0; i < 16; i++)
        out[i] = in[order[i]];
}

static int
to_guid(struct ectx *cx, const struct expr_node *n, const struct expr_value *in,
        const struct expr_type *to, struct expr_value *out)
{
    if (in->type.dt == EXPR_DT_GUID) {
        out->v.guid = in->v.guid;
        return 0;
    }
    if (expr_dt_is_binary(in->type.dt)) {
        if (in->v.s.len != 16)
            return expr_fail(cx, n, EXPR_ROW_ERROR,
                             "a GUID needs 16 bytes, not %zu", in->v.s.len);
        guid_swap((const uint8_t *)in->v.s.p, out->v.guid.b);
        return 0;
    }
    if (parse_guid(in->v.s, &out->v.guid) < 0)
        return bad_text(cx, n, in->v.s, to);
    return 0;
}

/* -------------------------------------------------------------- binary */

/* The byte a windows-1252 (or Latin-1, ASCII) character is written as;
 * '?' when it has none. */
static unsigned char
cp_byte(int codepage, uint32_t cp)
{
    static const uint16_t hi[32] = {
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    };

    if (cp < 0x80)
        return (unsigned char)cp;
    if (codepage == 20127)
        return '?';
    if (codepage == 1252) {
        for (int i = 0; i < 32; i++)
            if (hi[i] == cp)
                return (unsigned char)(0x80 + i);
        if (cp >= 0x80 && cp < 0xA0)
            return '?';
    }
    return cp < 0x100 ? (unsigned char)cp : '?';
}

/* Text as bytes: DT_WSTR and DT_NTEXT as UTF-16LE, DT_STR and DT_TEXT in
 * their code page (UTF-8 for 65001 and the code pages weir does not
 * translate). */
static int
text_to_bytes(struct ectx *cx, const struct expr_node *n,
              const struct expr_value *in, struct expr_sv *out)
{
    const char *s = in->v.s.p;
    size_t len = in->v.s.len, i = 0, o = 0;
    int cpid = in->type.codepage;
    bool wide = in->type.dt == EXPR_DT_WSTR || in->type.dt == EXPR_DT_NTEXT;
    bool single = cpid == 1252 || cpid == 28591 || cpid == 20127;
    char *p;

    if (!wide && !single) {
        *out = in->v.s;
        return 0;
    }
    p = expr_scratch_str(cx, n, wide ? len * 2 : len);
    if (!p)
        return -1;
    while (i < len) {
        uint32_t cp = expr_utf8_next(s, len, &i);

        if (!wide) {
            p[o++] = (char)cp_byte(cpid, cp);
        } else if (cp >= 0x10000) {
            uint32_t v = cp - 0x10000, h = 0xD800 + (v >> 10),
                     l = 0xDC00 + (v & 0x3FF);

            p[o++] = (char)(h & 0xFF);
            p[o++] = (char)(h >> 8);
            p[o++] = (char)(l & 0xFF);
            p[o++] = (char)(l >> 8);
        } else {
            p[o++] = (char)(cp & 0xFF);
            p[o++] = (char)(cp >> 8);
        }
    }
    out->p = p;
    out->len = o;
    return 0;
}

static int
truncated(struct ectx *cx, const struct expr_node *n,
          const struct expr_type *to)
{
    if (cx->e->flags & EXPR_TRUNCATE_ERROR)
        return expr_fail(cx, n, EXPR_ROW_TRUNCATED,
                         "the value is truncated by the cast to %s of "
                         "length %d",
                         dtn(to), (int)to->length);
    cx->truncated = true;
    return 0;
}

static int
to_binary(struct ectx *cx, const struct expr_node *n,
          const struct expr_value *in, const struct expr_type *to,
          struct expr_value *out)
{
    struct expr_sv b;

    if (in->type.dt == EXPR_DT_GUID) {
        char *p = expr_scratch(cx, 16);

        guid_swap(in->v.guid.b, (uint8_t *)p);
        b.p = p;
        b.len = 16;
    } else if (expr_dt_is_text(in->type.dt)) {
        if (text_to_bytes(cx, n, in, &b) < 0)
            return -1;
    } else {
        b = in->v.s;
    }
    if (to->dt == EXPR_DT_BYTES && n && n->explicit_cast && to->length &&
        b.len > (size_t)to->length) {
        if (truncated(cx, n, to) < 0)
            return -1;
        b.len = (size_t)to->length;
    }
    out->v.s = b;
    return 0;
}

/* ---------------------------------------------------------------- text */

static int
hex_text(struct ectx *cx, const struct expr_node *n, struct expr_sv in,
         struct expr_sv *out)
{
    static const char digs[] = "0123456789ABCDEF";
    char *p = expr_scratch_str(cx, n, in.len * 2);

    if (!p)
        return -1;
    for (size_t i = 0; i < in.len; i++) {
        p[2 * i] = digs[(unsigned char)in.p[i] >> 4];
        p[2 * i + 1] = digs[(unsigned char)in.p[i] & 15];
    }
    out->p = p;
    out->len = in.len * 2;
    return 0;
}

/* Formats a real as VARIANT conversion does: 15 significant digits for
 * DT_R8, 7 for DT_R4, exponent form for large and small numbers. */
static size_t
fmt_real(double d, bool r4, char *buf, size_t size)
{
    if (d == 0)
        d = 0; /* no "-0" */
    return (size_t)snprintf(buf, size, "%.*G", r4 ? 7 : 15, d);
}

/* DT_CY without trailing zeros: 12.5, 3. */
static size_t
fmt_cy(int64_t v, char *buf)
{
    size_t n = expr_dec_format(v, 4, buf);

    while (buf[n - 1] == '0')
        n--;
    if (buf[n - 1] == '.')
        n--;
    buf[n] = '\0';
    return n;
}

static size_t
fmt_guid(const struct expr_guid *g, char *buf)
{
    static const char digs[] = "0123456789ABCDEF";
    size_t o = 0;

    buf[o++] = '{';
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            buf[o++] = '-';
        buf[o++] = digs[g->b[i] >> 4];
        buf[o++] = digs[g->b[i] & 15];
    }
    buf[o++] = '}';
    buf[o] = '\0';
    return o;
}

/* Formats a fixed-size value; returns its length or 0 if not one. */
/* An integer's decimal digits (without snprintf, which costs more than
 * the rest of a data flow's formatting); buf holds at least 21 bytes. */
static size_t
fmt_int(bool neg, uint64_t mag, char *buf)
{
    char tmp[24];
    size_t k = sizeof(tmp), n;

    do {
        tmp[--k] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag);
    if (neg)
        tmp[--k] = '-';
    n = sizeof(tmp) - k;
    memcpy(buf, tmp + k, n);
    buf[n] = '\0';
    return n;
}

static size_t
fmt_small(const struct expr_value *v, char *buf, size_t size)
{
    enum expr_dt dt = v->type.dt;

    if (expr_dt_is_signed_int(dt))
        return fmt_int(v->v.i < 0, v->v.i < 0 ? 0 - (uint64_t)v->v.i
                                              : (uint64_t)v->v.i,
                       buf);
    if (expr_dt_is_unsigned_int(dt))
        return fmt_int(false, v->v.u, buf);
    if (dt == EXPR_DT_R4 || dt == EXPR_DT_R8)
        return fmt_real(v->v.r, dt == EXPR_DT_R4, buf, size);
    if (dt == EXPR_DT_CY)
        return fmt_cy(v->v.i, buf);
    if (expr_dt_is_decimal(dt))
        return expr_dec_format(v->v.dec, v->type.scale, buf);
    if (dt == EXPR_DT_BOOL)
        return (size_t)snprintf(buf, size, "%s", v->v.b ? "True" : "False");
    if (expr_dt_is_date(dt))
        return expr_date_format(v, buf);
    if (dt == EXPR_DT_GUID)
        return fmt_guid(&v->v.guid, buf);
    return 0;
}

int
expr_to_text(struct ectx *cx, const struct expr_node *n,
             const struct expr_value *v, struct expr_sv *out)
{
    char buf[96];
    size_t len;
    char *p;

    if (expr_dt_is_text(v->type.dt)) {
        *out = v->v.s;
        return 0;
    }
    if (expr_dt_is_binary(v->type.dt))
        return hex_text(cx, n, v->v.s, out);
    len = fmt_small(v, buf, sizeof(buf));
    p = expr_scratch(cx, len + 1);
    memcpy(p, buf, len + 1);
    out->p = p;
    out->len = len;
    return 0;
}

/* The byte length that keeps at most `max` units of `to`'s length measure:
 * UTF-16 code units for DT_WSTR, bytes for a UTF-8 DT_STR, characters for
 * the single-byte code pages. */
static size_t
fit_length(const struct expr_type *to, struct expr_sv s, size_t max)
{
    size_t i;

    if (to->dt == EXPR_DT_WSTR || to->codepage != 65001)
        return expr_utf16_offset(s.p, s.len, max);
    if (s.len <= max)
        return s.len;
    /* UTF-8 bytes: cut at a character boundary. */
    i = max;
    while (i > 0 && ((unsigned char)s.p[i] & 0xC0) == 0x80)
        i--;
    return i;
}

static int
to_text(struct ectx *cx, const struct expr_node *n, const struct expr_value *in,
        const struct expr_type *to, struct expr_value *out)
{
    struct expr_sv s;
    size_t keep;

    if (expr_to_text(cx, n, in, &s) < 0)
        return -1;
    if ((to->dt == EXPR_DT_STR || to->dt == EXPR_DT_TEXT) && to->codepage &&
        !expr_is_ascii(s.p, s.len)) {
        size_t i = 0;

        while (i < s.len) {
            uint32_t cp = expr_utf8_next(s.p, s.len, &i);

            if (!expr_codepage_has(to->codepage, cp))
                return expr_fail(cx, n, EXPR_ROW_ERROR,
                                 "character U+%04X cannot be represented in "
                                 "code page %d",
                                 (unsigned)cp, (int)to->codepage);
        }
    }
    if (expr_dt_is_string(to->dt) && to->length > 0 && n && n->explicit_cast) {
        keep = fit_length(to, s, (size_t)to->length);
        if (keep < s.len) {
            if (truncated(cx, n, to) < 0)
                return -1;
            s.len = keep;
        }
    }
    out->v.s = s;
    return 0;
}

/* ------------------------------------------------------------- dispatch */

int
expr_convert(struct ectx *cx, const struct expr_node *n,
             const struct expr_value *in, const struct expr_type *to,
             struct expr_value *out)
{
    enum expr_dt dt = to->dt;

    out->type = *to;
    out->null = in->null;
    if (in->null)
        return 0;
    if (expr_type_equal(&in->type, to)) {
        out->v = in->v;
        return 0;
    }
    if (!expr_cast_legal(in->type.dt, dt))
        return expr_fail(cx, n, EXPR_ROW_ERROR, "%s cannot be cast to %s",
                         dtn(&in->type), dtn(to));
    if (expr_dt_is_int(dt))
        return to_int(cx, n, in, to, out);
    if (dt == EXPR_DT_R4 || dt == EXPR_DT_R8)
        return to_real(cx, n, in, to, out);
    if (dt == EXPR_DT_CY || expr_dt_is_decimal(dt))
        return to_dec(cx, n, in, to, out);
    if (dt == EXPR_DT_BOOL)
        return to_bool(cx, n, in, to, out);
    if (expr_dt_is_date(dt))
        return to_date(cx, n, in, to, out);
    if (dt == EXPR_DT_GUID)
        return to_guid(cx, n, in, to, out);
    if (expr_dt_is_binary(dt))
        return to_binary(cx, n, in, to, out);
    return to_text(cx, n, in, to, out);
}

int
expr_kern_cast(struct ectx *cx, const struct expr_node *n,
               const struct expr_value *a, struct expr_value *out)
{
    return expr_convert(cx, n, a, &n->type, out);
}

/* ------------------------------------------------------ public helpers */

/* ---- fast paths of expr_value_parse: the plain forms of data files
 * (flat file sources parse every field through it).  Each accepts only
 * text whose value the full conversion gives the same way, and declines
 * (false) anything else: signs and spaces it does not expect, too many
 * digits, rounding, overflow.  The full conversion then decides, with its
 * messages. */

/* [-+]digits[.digits], at most 18 digits in all and at least one: the
 * digits as an integer and the count after the point. */
static bool
plain_number(const char *s, size_t len, int64_t *v, int *frac)
{
    size_t i = 0;
    int digits = 0, after = -1;
    uint64_t u = 0;
    bool neg = false;

    if (len && (s[0] == '-' || s[0] == '+'))
        neg = s[i++] == '-';
    for (; i < len; i++) {
        unsigned d = (unsigned char)s[i] - '0';

        if (s[i] == '.' && after < 0) {
            after = 0;
            continue;
        }
        if (d > 9 || ++digits > 18)
            return false;
        u = u * 10 + d;
        after += after >= 0;
    }
    if (!digits)
        return false;
    *v = neg ? -(int64_t)u : (int64_t)u;
    *frac = after < 0 ? 0 : after;
    return true;
}

static bool
fast_int(const char *s, size_t len, const struct expr_type *t,
         struct expr_value *out)
{
    int64_t v, min;
    uint64_t max;
    int frac;

    if (!expr_dt_is_signed_int(t->dt) || !plain_number(s, len, &v, &frac) ||
        memchr(s, '.', len))
        return false;
    expr_dt_int_range(t->dt, &min, &max);
    if (v < min || (v > 0 && (uint64_t)v > max))
        return false;
    out->v.i = v;
    return true;
}

static bool
fast_decimal(const char *s, size_t len, const struct expr_type *t,
             struct expr_value *out)
{
    int64_t v;
    int frac;
    expr_i128 m;

    if (!expr_dt_is_decimal(t->dt) || t->scale > EXPR_DEC_MAXP - 18 ||
        !plain_number(s, len, &v, &frac) || frac > t->scale)
        return false;
    /* Below 10^18 * 10^20: no overflow, and no rounding (frac <= scale). */
    m = (expr_i128)v * expr_pow10[t->scale - frac];
    if (t->dt == EXPR_DT_DECIMAL ? (m < 0 ? -m : m) >= ((expr_i128)1 << 96)
                                 : !expr_dec_fits(m, t->precision))
        return false;
    out->v.dec = m;
    return true;
}

/* YYYY-MM-DD into the whole-day types. */
static bool
fast_date(const char *s, size_t len, const struct expr_type *t,
          struct expr_value *out)
{
    int y = 0, m, d;

    if ((t->dt != EXPR_DT_DBDATE && t->dt != EXPR_DT_DBTIMESTAMP &&
         t->dt != EXPR_DT_DBTIMESTAMP2) ||
        len != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (unsigned)(s[i] - '0') > 9)
            return false;
    for (int i = 0; i < 4; i++)
        y = y * 10 + (s[i] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (!expr_date_valid(y, m, d))
        return false;
    out->v.t = expr_days_from_civil(y, m, d) * EXPR_TICKS_PER_DAY;
    return true;
}

static bool
parse_fast(const char *text, size_t len, const struct expr_type *t,
           struct expr_value *out)
{
    memset(out, 0, sizeof(*out));
    out->type = *t;
    return fast_int(text, len, t, out) || fast_decimal(text, len, t, out) ||
           fast_date(text, len, t, out);
}

int
expr_value_parse(const char *text, size_t len, const struct expr_type *t,
                 struct expr_value *out, struct werr *err)
{
    struct expr e;
    struct ectx cx;
    struct expr_value in;

    if (parse_fast(text, len, t, out))
        return 0;
    memset(&e, 0, sizeof(e));
    memset(&cx, 0, sizeof(cx));
    memset(&in, 0, sizeof(in));
    warena_init(&e.scratch);
    e.max_string = EXPR_DEFAULT_MAX_STRING;
    cx.e = &e;
    cx.err = err;
    in.type = expr_type_of(EXPR_DT_WSTR);
    in.v.s.p = text;
    in.v.s.len = len;
    if (expr_dt_is_text(t->dt)) {
        *out = in;
        out->type = *t;
        return 0;
    }
    if (!expr_cast_legal(EXPR_DT_WSTR, t->dt) || expr_dt_is_binary(t->dt))
        return werr_set(err, WERR_INVALID,
                        "%s values cannot be given as "
                        "text",
                        expr_dt_name(t->dt));
    if (expr_convert(&cx, NULL, &in, t, out) < 0) {
        warena_release(&e.scratch);
        return werr_set(err, WERR_INVALID, "\"%.*s\" is not a valid %s value",
                        (int)(len > 60 ? 60 : len), text, expr_dt_name(t->dt));
    }
    warena_release(&e.scratch);
    return 0;
}

size_t
expr_value_format(const struct expr_value *v, char *buf, size_t size)
{
    char small[96];
    size_t len;

    if (size == 0)
        return 0;
    if (v->null) {
        snprintf(buf, size, "NULL");
        return 4;
    }
    if (expr_dt_is_text(v->type.dt)) {
        len = v->v.s.len;
        snprintf(buf, size, "%.*s", (int)(len > INT32_MAX ? INT32_MAX : len),
                 v->v.s.p);
        return len;
    }
    if (expr_dt_is_binary(v->type.dt)) {
        static const char digs[] = "0123456789ABCDEF";
        size_t o = 0;

        for (size_t i = 0; i < v->v.s.len && o + 2 < size; i++) {
            buf[o++] = digs[(unsigned char)v->v.s.p[i] >> 4];
            buf[o++] = digs[(unsigned char)v->v.s.p[i] & 15];
        }
        buf[o] = '\0';
        return v->v.s.len * 2;
    }
    len = fmt_small(v, small, sizeof(small));
    memcpy(buf, small, len < size ? len : size - 1);
    buf[len < size ? len : size - 1] = '\0';
    return len;
}
