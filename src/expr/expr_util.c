/*
 * Small shared pieces: diagnostics and positions, and the
 * type helpers (names, classes, vector element sizes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/banned.h"
#include "base/xalloc.h"
#include "expr/expr_int.h"

/* ---------------------------------------------------------- diagnostics */

void
expr_position(const char *text, size_t len, uint32_t off, int *line, int *col)
{
    size_t i;

    *line = 1;
    *col = 1;
    if (off > len)
        off = (uint32_t)len;
    for (i = 0; i < off; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            (*col)++; /* count characters, not continuation bytes */
        }
    }
}

int
expr_diag(struct expr_compiler *c, uint32_t off, bool warning, const char *fmt,
          ...)
{
    struct expr_diag d;
    va_list ap;

    memset(&d, 0, sizeof(d));
    expr_position(c->text, c->len, off, &d.line, &d.col);
    d.warning = warning;
    va_start(ap, fmt);
    vsnprintf(d.msg, sizeof(d.msg), fmt, ap);
    va_end(ap);
    if (!warning) {
        if (c->nerr == 0)
            werr_set(c->err, WERR_INVALID, "%d:%d: %s", d.line, d.col, d.msg);
        c->nerr++;
    }
    if (c->diags && c->diags->n < EXPR_MAX_DIAGS) {
        XGROW(c->diags->v, c->diags->n + 1, c->diags->cap);
        c->diags->v[c->diags->n++] = d;
    }
    return -1;
}

void
expr_diags_release(struct expr_diags *d)
{
    if (!d)
        return;
    free(d->v);
    d->v = NULL;
    d->n = d->cap = 0;
}

struct expr_node *
expr_node_new(struct expr_compiler *c, enum node_kind k, uint32_t off,
              uint32_t len)
{
    struct expr_node *n = warena_alloc(&c->e->arena, sizeof(*n));

    n->kind = k;
    n->off = off;
    n->len = len;
    n->pos = off;
    n->part = -1;
    n->slot = -1;
    return n;
}

/* ---------------------------------------------------------------- types */

static const struct dt_info {
    enum expr_dt dt;
    const char *name;     /* DT_ name */
    const char *pipeline; /* dataType in .dtsx pipeline XML */
    size_t size;          /* vector element size */
} dts[] = {
    {EXPR_DT_EMPTY, "DT_EMPTY", NULL, 0},
    {EXPR_DT_NULL, "DT_NULL", NULL, 0},
    {EXPR_DT_I2, "DT_I2", "i2", sizeof(int16_t)},
    {EXPR_DT_I4, "DT_I4", "i4", sizeof(int32_t)},
    {EXPR_DT_R4, "DT_R4", "r4", sizeof(float)},
    {EXPR_DT_R8, "DT_R8", "r8", sizeof(double)},
    {EXPR_DT_CY, "DT_CY", "cy", sizeof(int64_t)},
    {EXPR_DT_DATE, "DT_DATE", "date", sizeof(int64_t)},
    {EXPR_DT_BOOL, "DT_BOOL", "bool", sizeof(uint8_t)},
    {EXPR_DT_DECIMAL, "DT_DECIMAL", "decimal", sizeof(expr_i128)},
    {EXPR_DT_I1, "DT_I1", "i1", sizeof(int8_t)},
    {EXPR_DT_UI1, "DT_UI1", "ui1", sizeof(uint8_t)},
    {EXPR_DT_UI2, "DT_UI2", "ui2", sizeof(uint16_t)},
    {EXPR_DT_UI4, "DT_UI4", "ui4", sizeof(uint32_t)},
    {EXPR_DT_I8, "DT_I8", "i8", sizeof(int64_t)},
    {EXPR_DT_UI8, "DT_UI8", "ui8", sizeof(uint64_t)},
    {EXPR_DT_FILETIME, "DT_FILETIME", "fileTime", sizeof(int64_t)},
    {EXPR_DT_GUID, "DT_GUID", "guid", sizeof(struct expr_guid)},
    {EXPR_DT_BYTES, "DT_BYTES", "bytes", sizeof(struct expr_sv)},
    {EXPR_DT_STR, "DT_STR", "str", sizeof(struct expr_sv)},
    {EXPR_DT_WSTR, "DT_WSTR", "wstr", sizeof(struct expr_sv)},
    {EXPR_DT_NUMERIC, "DT_NUMERIC", "numeric", sizeof(expr_i128)},
    {EXPR_DT_DBDATE, "DT_DBDATE", "dbDate", sizeof(int64_t)},
    {EXPR_DT_DBTIME, "DT_DBTIME", "dbTime", sizeof(int64_t)},
    {EXPR_DT_DBTIMESTAMP, "DT_DBTIMESTAMP", "dbTimeStamp", sizeof(int64_t)},
    {EXPR_DT_DBTIME2, "DT_DBTIME2", "dbTime2", sizeof(int64_t)},
    {EXPR_DT_DBTIMESTAMPOFFSET, "DT_DBTIMESTAMPOFFSET", "dbTimeStampOffset",
     sizeof(struct expr_dto)},
    {EXPR_DT_IMAGE, "DT_IMAGE", "image", sizeof(struct expr_sv)},
    {EXPR_DT_TEXT, "DT_TEXT", "text", sizeof(struct expr_sv)},
    {EXPR_DT_NTEXT, "DT_NTEXT", "nText", sizeof(struct expr_sv)},
    {EXPR_DT_DBTIMESTAMP2, "DT_DBTIMESTAMP2", "dbTimeStamp2", sizeof(int64_t)},
};
#define NDTS (sizeof(dts) / sizeof(dts[0]))

static const struct dt_info *
dt_info(enum expr_dt dt)
{
    for (size_t i = 0; i < NDTS; i++)
        if (dts[i].dt == dt)
            return &dts[i];
    return NULL;
}

const char *
expr_dt_name(enum expr_dt dt)
{
    const struct dt_info *d = dt_info(dt);

    return d ? d->name : "DT_?";
}

int
expr_dt_from_name(const char *name, size_t len, enum expr_dt *out)
{
    for (size_t i = 0; i < NDTS; i++) {
        if (strlen(dts[i].name) == len &&
            strncasecmp(dts[i].name, name, len) == 0) {
            *out = dts[i].dt;
            return 0;
        }
    }
    return -1;
}

int
expr_dt_from_pipeline(const char *name, enum expr_dt *out)
{
    for (size_t i = 0; i < NDTS; i++) {
        if (dts[i].pipeline && strcasecmp(dts[i].pipeline, name) == 0) {
            *out = dts[i].dt;
            return 0;
        }
    }
    return -1;
}

size_t
expr_dt_size(enum expr_dt dt)
{
    const struct dt_info *d = dt_info(dt);

    return d ? d->size : 0;
}

void
expr_type_format(const struct expr_type *t, char *buf, size_t size)
{
    const char *name = expr_dt_name(t->dt);

    switch (t->dt) {
    case EXPR_DT_STR:
        snprintf(buf, size, "%s, %d, %d", name, (int)t->length,
                 (int)t->codepage);
        break;
    case EXPR_DT_WSTR:
    case EXPR_DT_BYTES:
        snprintf(buf, size, "%s, %d", name, (int)t->length);
        break;
    case EXPR_DT_NUMERIC:
        snprintf(buf, size, "%s, %d, %d", name, t->precision, t->scale);
        break;
    case EXPR_DT_DECIMAL:
    case EXPR_DT_DBTIME2:
    case EXPR_DT_DBTIMESTAMP2:
    case EXPR_DT_DBTIMESTAMPOFFSET:
        snprintf(buf, size, "%s, %d", name, t->scale);
        break;
    case EXPR_DT_TEXT:
        snprintf(buf, size, "%s, %d", name, (int)t->codepage);
        break;
    default:
        snprintf(buf, size, "%s", name);
        break;
    }
}

bool
expr_dt_is_signed_int(enum expr_dt dt)
{
    return dt == EXPR_DT_I1 || dt == EXPR_DT_I2 || dt == EXPR_DT_I4 ||
           dt == EXPR_DT_I8;
}

bool
expr_dt_is_unsigned_int(enum expr_dt dt)
{
    return dt == EXPR_DT_UI1 || dt == EXPR_DT_UI2 || dt == EXPR_DT_UI4 ||
           dt == EXPR_DT_UI8;
}

bool
expr_dt_is_int(enum expr_dt dt)
{
    return expr_dt_is_signed_int(dt) || expr_dt_is_unsigned_int(dt);
}

bool
expr_dt_is_decimal(enum expr_dt dt)
{
    return dt == EXPR_DT_NUMERIC || dt == EXPR_DT_DECIMAL;
}

bool
expr_dt_is_numeric(enum expr_dt dt)
{
    return expr_dt_is_int(dt) || dt == EXPR_DT_R4 || dt == EXPR_DT_R8 ||
           dt == EXPR_DT_CY || expr_dt_is_decimal(dt);
}

bool
expr_dt_is_string(enum expr_dt dt)
{
    return dt == EXPR_DT_STR || dt == EXPR_DT_WSTR;
}

bool
expr_dt_is_text(enum expr_dt dt)
{
    return expr_dt_is_string(dt) || dt == EXPR_DT_TEXT || dt == EXPR_DT_NTEXT;
}

bool
expr_dt_is_binary(enum expr_dt dt)
{
    return dt == EXPR_DT_BYTES || dt == EXPR_DT_IMAGE;
}

bool
expr_dt_is_time(enum expr_dt dt)
{
    return dt == EXPR_DT_DBTIME || dt == EXPR_DT_DBTIME2;
}

bool
expr_dt_is_date(enum expr_dt dt)
{
    switch (dt) {
    case EXPR_DT_DATE:
    case EXPR_DT_DBDATE:
    case EXPR_DT_DBTIME:
    case EXPR_DT_DBTIME2:
    case EXPR_DT_DBTIMESTAMP:
    case EXPR_DT_DBTIMESTAMP2:
    case EXPR_DT_DBTIMESTAMPOFFSET:
    case EXPR_DT_FILETIME:
        return true;
    default:
        return false;
    }
}

int
expr_dt_int_width(enum expr_dt dt)
{
    switch (dt) {
    case EXPR_DT_I1:
    case EXPR_DT_UI1:
        return 1;
    case EXPR_DT_I2:
    case EXPR_DT_UI2:
        return 2;
    case EXPR_DT_I4:
    case EXPR_DT_UI4:
        return 4;
    default:
        return 8;
    }
}

void
expr_dt_int_range(enum expr_dt dt, int64_t *min, uint64_t *max)
{
    int bits = expr_dt_int_width(dt) * 8;

    if (expr_dt_is_unsigned_int(dt)) {
        *min = 0;
        *max = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    } else {
        *min = bits == 64 ? INT64_MIN : -(INT64_C(1) << (bits - 1));
        *max =
            bits == 64 ? (uint64_t)INT64_MAX : (UINT64_C(1) << (bits - 1)) - 1;
    }
}

struct expr_type
expr_type_of(enum expr_dt dt)
{
    struct expr_type t;

    memset(&t, 0, sizeof(t));
    t.dt = dt;
    return t;
}

bool
expr_type_equal(const struct expr_type *a, const struct expr_type *b)
{
    return a->dt == b->dt && a->length == b->length &&
           a->precision == b->precision && a->scale == b->scale &&
           a->codepage == b->codepage;
}
