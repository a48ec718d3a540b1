/*
 * Runtime values (vars.h): parsing text into a VARIANT type, converting
 * between types with SSIS's rules, and result sets.
 *
 * Conversions are strict where precision or meaning would be lost: a
 * fraction never silently becomes an integer, a number out of a type's
 * range is an error, and NULL only goes into Object (or Empty)
 * variables.  Numbers and dates convert to strings in an invariant form
 * (no locale), so a package behaves the same on every machine.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "runtime/vars.h"

/* Bigger than any real result; keeps a runaway query from taking all
 * memory one row at a time. */
#define ROWSET_MAX_ROWS (50u * 1000 * 1000)

const char *
rt_vt_name(int vt)
{
    switch (vt) {
    case RT_VT_EMPTY:
        return "Empty";
    case RT_VT_I2:
        return "Int16";
    case RT_VT_I4:
        return "Int32";
    case RT_VT_R4:
        return "Single";
    case RT_VT_R8:
        return "Double";
    case RT_VT_CY:
        return "Currency";
    case RT_VT_DATE:
        return "DateTime";
    case RT_VT_STR:
        return "String";
    case RT_VT_BOOL:
        return "Boolean";
    case RT_VT_OBJECT:
        return "Object";
    case RT_VT_DECIMAL:
        return "Decimal";
    case RT_VT_I1:
        return "SByte";
    case RT_VT_UI1:
        return "Byte";
    case RT_VT_UI2:
        return "UInt16";
    case RT_VT_UI4:
        return "UInt32";
    case RT_VT_I8:
        return "Int64";
    case RT_VT_UI8:
        return "UInt64";
    case RT_VT_BINARY:
        return "Byte[]";
    }
    return "an unknown type";
}

void
rt_value_release(struct rt_value *v)
{
    free(v->s);
    rt_rowset_unref(v->rows);
    memset(v, 0, sizeof(*v));
}

void
rt_value_copy(struct rt_value *dst, const struct rt_value *src)
{
    struct rt_value tmp = *src;

    if (src->s) {
        tmp.s = xmalloc(src->len + 1);
        memcpy(tmp.s, src->s, src->len);
        tmp.s[src->len] = '\0';
    }
    if (src->rows)
        tmp.rows = rt_rowset_ref(src->rows);
    rt_value_release(dst);
    *dst = tmp;
}

void
rt_value_set_int(struct rt_value *v, int64_t i)
{
    rt_value_release(v);
    v->vt = RT_VT_I8;
    v->n.i = i;
}

void
rt_value_set_str(struct rt_value *v, const char *s, size_t len)
{
    rt_value_release(v);
    v->vt = RT_VT_STR;
    v->s = xstrndup(s, len);
    v->len = strlen(v->s);
}

static bool
is_unsigned(int vt)
{
    return vt == RT_VT_UI1 || vt == RT_VT_UI2 || vt == RT_VT_UI4 ||
           vt == RT_VT_UI8;
}

static bool
is_integer(int vt)
{
    return vt == RT_VT_I1 || vt == RT_VT_I2 || vt == RT_VT_I4 ||
           vt == RT_VT_I8 || is_unsigned(vt);
}

static bool
is_text(int vt)
{
    return vt == RT_VT_STR || vt == RT_VT_CY || vt == RT_VT_DECIMAL ||
           vt == RT_VT_DATE;
}

static char *
hex_of(const char *p, size_t n)
{
    char *out = xmalloc(2 * n + 3);

    memcpy(out, "0x", 2);
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 + 2 * i, 3, "%02X", (unsigned char)p[i]);
    out[2 * n + 2] = '\0';
    return out;
}

char *
rt_value_text(const struct rt_value *v)
{
    if (v->null)
        return xstrdup("NULL");
    if (is_unsigned(v->vt))
        return xasprintf("%" PRIu64, v->n.u);
    if (is_integer(v->vt))
        return xasprintf("%" PRId64, v->n.i);
    switch (v->vt) {
    case RT_VT_R4:
        return xasprintf("%.9g", v->n.r);
    case RT_VT_R8:
        return xasprintf("%.17g", v->n.r);
    case RT_VT_BOOL:
        return xstrdup(v->n.b ? "True" : "False");
    case RT_VT_OBJECT:
        return xstrdup("System.Object");
    case RT_VT_BINARY:
        return hex_of(v->s, v->len);
    case RT_VT_EMPTY:
        return xstrdup("");
    }
    return xstrdup(v->s ? v->s : "");
}

/* ---- parsing ---- */

static const char *
skip_space(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

/* strtoll/strtoull over the whole string (spaces around allowed). */
static bool
parse_i64(const char *s, int64_t *out)
{
    char *end;

    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (end == s || errno)
        return false;
    *out = x;
    return !*skip_space(end);
}

static bool
parse_u64(const char *s, uint64_t *out)
{
    char *end;

    if (strchr(s, '-'))
        return false;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (end == s || errno)
        return false;
    *out = x;
    return !*skip_space(end);
}

static bool
parse_double(const char *s, double *out)
{
    char *end;

    errno = 0;
    double d = strtod(s, &end);
    if (end == s || errno || !isfinite(d))
        return false;
    *out = d;
    return !*skip_space(end);
}

static bool
int_range(int vt, int64_t x)
{
    switch (vt) {
    case RT_VT_I1:
        return x >= INT8_MIN && x <= INT8_MAX;
    case RT_VT_I2:
        return x >= INT16_MIN && x <= INT16_MAX;
    case RT_VT_I4:
        return x >= INT32_MIN && x <= INT32_MAX;
    }
    return true;
}

static bool
uint_range(int vt, uint64_t x)
{
    switch (vt) {
    case RT_VT_UI1:
        return x <= UINT8_MAX;
    case RT_VT_UI2:
        return x <= UINT16_MAX;
    case RT_VT_UI4:
        return x <= UINT32_MAX;
    }
    return true;
}

/* Day-month-year sanity, not calendar exactness (the database checked). */
static bool
date_ok(int y, int mo, int d, int h, int mi, int sec)
{
    return y >= 1 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 &&
           h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && sec >= 0 && sec <= 60;
}

/* ISO "YYYY-MM-DD[ T]HH:MM[:SS[.frac]]" (a trailing Z or offset is
 * dropped) or a date alone. */
static char *
parse_iso_date(const char *s)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0, k;
    char frac[16] = "";

    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
        return NULL;
    s += n;
    if ((*s == ' ' || *s == 'T') &&
        sscanf(s + 1, "%2d:%2d%n", &h, &mi, &n) == 2) {
        s += 1 + n;
        if (sscanf(s, ":%2d%n", &sec, &k) == 1) {
            s += k;
            if (*s == '.' && sscanf(s + 1, "%15[0-9]%n", frac, &k) == 1)
                s += 1 + k;
        }
    }
    if (*s && *s != 'Z' && *s != '+' && *s != '-' && *skip_space(s))
        return NULL;
    if (!date_ok(y, mo, d, h, mi, sec))
        return NULL;
    return xasprintf("%04d-%02d-%02d %02d:%02d:%02d%s%s", y, mo, d, h, mi, sec,
                     *frac ? "." : "", frac);
}

/* The design-time form "2/28/2014 12:29:00 PM" (US month/day order). */
static char *
parse_us_date(const char *s)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    char ampm[3] = "";

    if (sscanf(s, "%2d/%2d/%4d%n", &mo, &d, &y, &n) != 3)
        return NULL;
    s = skip_space(s + n);
    if (*s && sscanf(s, "%2d:%2d:%2d %2[AaPpMm]", &h, &mi, &sec, ampm) < 3)
        return NULL;
    if (*ampm && (h < 1 || h > 12))
        return NULL;
    if (toupper((unsigned char)ampm[0]) == 'P' && h != 12)
        h += 12;
    else if (toupper((unsigned char)ampm[0]) == 'A' && h == 12)
        h = 0;
    if (!date_ok(y, mo, d, h, mi, sec))
        return NULL;
    return xasprintf("%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, sec);
}

static int
parse_fail(const char *s, int vt, struct werr *err)
{
    return werr_set(err, WERR_INVALID, "'%.60s' is not a valid %s", s,
                    rt_vt_name(vt));
}

static int
parse_number(const char *s, int vt, struct rt_value *v, struct werr *err)
{
    if (is_unsigned(vt)) {
        if (!parse_u64(s, &v->n.u) || !uint_range(vt, v->n.u))
            return parse_fail(s, vt, err);
    } else if (is_integer(vt)) {
        if (!parse_i64(s, &v->n.i) || !int_range(vt, v->n.i))
            return parse_fail(s, vt, err);
    } else if (vt == RT_VT_R4 || vt == RT_VT_R8) {
        if (!parse_double(s, &v->n.r))
            return parse_fail(s, vt, err);
    } else {
        double d;
        const char *t = skip_space(s);
        size_t len = strlen(t);
        if (!parse_double(t, &d))
            return parse_fail(s, vt, err);
        while (len && isspace((unsigned char)t[len - 1]))
            len--;
        v->s = xstrndup(t, len);
        v->len = len;
    }
    return 0;
}

int
rt_value_parse(const char *s, int vt, struct rt_value *out, struct werr *err)
{
    struct rt_value v = {.vt = vt};

    if (vt == RT_VT_STR || vt == RT_VT_EMPTY) {
        if (vt == RT_VT_STR) {
            v.s = xstrdup(s);
            v.len = strlen(s);
        }
    } else if (vt == RT_VT_OBJECT) {
        /* A design-time object is an empty object. */
    } else if (vt == RT_VT_BOOL) {
        const char *t = skip_space(s);
        if (!strcasecmp(t, "true") || !strcmp(t, "-1") || !strcmp(t, "1"))
            v.n.b = true;
        else if (strcasecmp(t, "false") && strcmp(t, "0"))
            return parse_fail(s, vt, err);
    } else if (vt == RT_VT_DATE) {
        if (!(v.s = parse_iso_date(skip_space(s))) &&
            !(v.s = parse_us_date(skip_space(s))))
            return parse_fail(s, vt, err);
        v.len = strlen(v.s);
    } else if (is_integer(vt) || vt == RT_VT_R4 || vt == RT_VT_R8 ||
               vt == RT_VT_CY || vt == RT_VT_DECIMAL) {
        if (parse_number(s, vt, &v, err) < 0)
            return -1;
    } else {
        return werr_set(err, WERR_INVALID, "the data type %d is not supported",
                        vt);
    }
    rt_value_release(out);
    *out = v;
    return 0;
}

/* ---- conversion ---- */

static int
conv_fail(const struct rt_value *in, int vt, struct werr *err)
{
    char *t = rt_value_text(in);

    werr_set(err, WERR_INVALID,
             "a %s value ('%.40s') cannot be converted to %s",
             rt_vt_name(in->vt), t, rt_vt_name(vt));
    free(t);
    return -1;
}

/* Integer targets from numbers: exact or nothing. */
static int
to_integer(const struct rt_value *in, int vt, struct rt_value *v,
           struct werr *err)
{
    bool ok;

    if (in->vt == RT_VT_R4 || in->vt == RT_VT_R8) {
        double d = in->n.r;
        ok = d == floor(d) && d >= -9.2e18 && d <= 1.8e19;
        if (ok && is_unsigned(vt))
            ok = d >= 0 && uint_range(vt, v->n.u = (uint64_t)d);
        else if (ok)
            ok = d <= 9.2e18 && int_range(vt, v->n.i = (int64_t)d);
    } else if (in->vt == RT_VT_BOOL) {
        v->n.i = in->n.b; /* the database's bit: 1 or 0 */
        ok = true;
    } else if (is_unsigned(in->vt)) {
        ok = is_unsigned(vt) ? uint_range(vt, v->n.u = in->n.u)
                             : in->n.u <= INT64_MAX &&
                                   int_range(vt, v->n.i = (int64_t)in->n.u);
    } else {
        ok = is_unsigned(vt)
                 ? in->n.i >= 0 && uint_range(vt, v->n.u = (uint64_t)in->n.i)
                 : int_range(vt, v->n.i = in->n.i);
    }
    return ok ? 0 : conv_fail(in, vt, err);
}

/* A number out of text: integers exactly, else through double (a decimal
 * "12.00" into Int32 is fine, "12.5" is not). */
static int
text_to_integer(const struct rt_value *in, int vt, struct rt_value *v,
                struct werr *err)
{
    struct rt_value d = {.vt = RT_VT_R8};

    if (rt_value_parse(in->s, vt, v, NULL) == 0)
        return 0;
    if (!parse_double(in->s, &d.n.r) || to_integer(&d, vt, v, NULL) < 0)
        return conv_fail(in, vt, err);
    return 0;
}

static int
convert_numeric(const struct rt_value *in, int vt, struct rt_value *v,
                struct werr *err)
{
    if (is_text(in->vt) && in->vt != RT_VT_DATE) {
        if (is_integer(vt))
            return text_to_integer(in, vt, v, err);
        if (rt_value_parse(in->s, vt, v, NULL) < 0)
            return conv_fail(in, vt, err);
        return 0;
    }
    if (in->vt == RT_VT_DATE || in->vt == RT_VT_BINARY ||
        in->vt == RT_VT_OBJECT || in->vt == RT_VT_EMPTY)
        return conv_fail(in, vt, err);
    if (is_integer(vt))
        return to_integer(in, vt, v, err);
    if (vt == RT_VT_R4 || vt == RT_VT_R8) {
        v->n.r = in->vt == RT_VT_R4 || in->vt == RT_VT_R8 ? in->n.r
                 : in->vt == RT_VT_BOOL                   ? in->n.b
                 : is_unsigned(in->vt)                    ? (double)in->n.u
                                                          : (double)in->n.i;
        return 0;
    }
    /* Currency and decimal: the number's text. */
    if (in->vt == RT_VT_BOOL)
        return conv_fail(in, vt, err);
    v->s = rt_value_text(in);
    v->len = strlen(v->s);
    return 0;
}

static int
convert_other(const struct rt_value *in, int vt, struct rt_value *v,
              struct werr *err)
{
    switch (vt) {
    case RT_VT_STR:
        if (in->vt == RT_VT_BINARY)
            return conv_fail(in, vt, err);
        v->s = rt_value_text(in);
        v->len = strlen(v->s);
        return 0;
    case RT_VT_BOOL:
        if (in->vt == RT_VT_BOOL)
            v->n.b = in->n.b;
        else if (is_integer(in->vt))
            v->n.b = in->n.i != 0;
        else if (in->vt != RT_VT_STR || rt_value_parse(in->s, vt, v, NULL) < 0)
            return conv_fail(in, vt, err);
        return 0;
    case RT_VT_DATE:
        if (!is_text(in->vt) || in->vt == RT_VT_CY || in->vt == RT_VT_DECIMAL ||
            rt_value_parse(in->s, vt, v, NULL) < 0)
            return conv_fail(in, vt, err);
        return 0;
    }
    return convert_numeric(in, vt, v, err);
}

int
rt_value_convert(const struct rt_value *in, int vt, struct rt_value *out,
                 struct werr *err)
{
    struct rt_value v = {.vt = vt};

    if (vt == RT_VT_OBJECT || vt == RT_VT_EMPTY ||
        (in->vt == vt && !in->null)) {
        rt_value_copy(&v, in);
        if (vt == RT_VT_EMPTY || vt == RT_VT_OBJECT)
            v.vt = in->vt;
        if (vt == RT_VT_OBJECT && in->null)
            v.vt = RT_VT_OBJECT;
    } else if (in->null) {
        return werr_set(err, WERR_INVALID,
                        "NULL cannot be assigned to a %s (use ISNULL or "
                        "COALESCE in the query, or an Object variable)",
                        rt_vt_name(vt));
    } else if (in->vt == RT_VT_OBJECT) {
        return conv_fail(in, vt, err);
    } else if (convert_other(in, vt, &v, err) < 0) {
        rt_value_release(&v);
        return -1;
    }
    rt_value_release(out);
    *out = v;
    return 0;
}

/* ---- result sets ---- */

struct rt_rowset *
rt_rowset_new(size_t ncols)
{
    struct rt_rowset *rs = xcalloc(1, sizeof(*rs));

    rs->refs = 1;
    rs->ncols = ncols;
    rs->names = xcalloc(ncols + 1, sizeof(*rs->names));
    rs->types = xcalloc(ncols + 1, sizeof(*rs->types));
    return rs;
}

void
rt_rowset_set_column(struct rt_rowset *rs, size_t col, const char *name, int vt)
{
    W_ASSERT(col < rs->ncols);
    free(rs->names[col]);
    rs->names[col] = xstrdup(name);
    rs->types[col] = vt;
}

struct rt_value *
rt_rowset_add_row(struct rt_rowset *rs)
{
    size_t need = (rs->nrows + 1) * (rs->ncols ? rs->ncols : 1);
    struct rt_value *row;

    if (rs->nrows >= ROWSET_MAX_ROWS)
        return NULL;
    if (need > rs->cap) {
        size_t old = rs->cap;
        XGROW(rs->cells, need, rs->cap);
        memset(rs->cells + old, 0, (rs->cap - old) * sizeof(*rs->cells));
    }
    row = rs->cells + rs->nrows * rs->ncols;
    rs->nrows++;
    return row;
}

struct rt_rowset *
rt_rowset_ref(struct rt_rowset *rs)
{
    rs->refs++;
    return rs;
}

void
rt_rowset_unref(struct rt_rowset *rs)
{
    if (!rs || --rs->refs > 0)
        return;
    for (size_t i = 0; i < rs->nrows * rs->ncols; i++)
        rt_value_release(&rs->cells[i]);
    for (size_t c = 0; c < rs->ncols; c++)
        free(rs->names[c]);
    free(rs->cells);
    free(rs->names);
    free(rs->types);
    free(rs);
}
