/*
 * Helpers the transformations share.  Conversions are expressions: a
 * cast `(DT_X, ...)[v]` compiled once over a one-column batch, so Data
 * Conversion and Derived Column's declared types follow exactly the cast
 * rules src/expr implements, evaluated a buffer at a time.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "dataflow/xform.h"
#include "base/banned.h"

bool
df_type_equal(const struct expr_type *a, const struct expr_type *b)
{
    return a->dt == b->dt && a->length == b->length &&
           a->precision == b->precision && a->scale == b->scale &&
           (a->dt != EXPR_DT_STR || a->codepage == b->codepage);
}

/* How a cast is done: most through a compiled expression; two common
 * ones that change no value skip it (a string into a longer string of
 * the same kind, a number into a wider precision at the same scale), the
 * second checking only that each value fits. */
enum cast_kind { CAST_EXPR, CAST_SAME, CAST_PRECISION };

struct df_cast {
    struct expr *e;
    struct expr_type from, to;
    enum cast_kind kind;
    uint8_t *nulls; /* CAST_PRECISION: the result's NULL bytes */
    size_t cap;
};

static enum cast_kind
cast_kind(const struct expr_type *f, const struct expr_type *t)
{
    bool str = f->dt == EXPR_DT_WSTR ||
               (f->dt == EXPR_DT_STR && f->codepage == t->codepage);
    bool num = f->dt == EXPR_DT_NUMERIC || f->dt == EXPR_DT_DECIMAL;

    if (f->dt != t->dt)
        return CAST_EXPR;
    if (str && t->length > 0 && f->length > 0 && f->length <= t->length)
        return CAST_SAME;
    if (num && f->scale == t->scale)
        return f->dt == EXPR_DT_NUMERIC && f->precision > t->precision
                   ? CAST_PRECISION
                   : CAST_SAME;
    return CAST_EXPR;
}

static int
cast_resolve(void *ctx, const struct expr_ref *ref, struct expr_binding *out,
             struct werr *err)
{
    struct df_cast *c = ctx;

    if (ref->kind != EXPR_REF_COLUMN)
        return werr_set(err, WERR_INTERNAL, "cast reads a variable");
    out->type = c->from;
    out->index = 0;
    out->handle = NULL;
    out->read_only = true;
    return 0;
}

struct df_cast *
df_cast_new(const struct expr_type *from, const struct expr_type *to,
            struct werr *err)
{
    struct df_cast *c = xcalloc(1, sizeof(*c));
    struct expr_host host = {cast_resolve, NULL, NULL, c};
    struct expr_opts opts = {EXPR_COLUMNS | EXPR_TRUNCATE_ERROR, &host, 0};
    char tname[64], fname[64], text[96];

    c->from = *from;
    c->to = *to;
    c->kind = cast_kind(from, to);
    expr_type_format(to, tname, sizeof(tname));
    snprintf(text, sizeof(text), "(%s)[v]", tname);
    c->e = expr_compile(text, strlen(text), &opts, NULL, err);
    if (!c->e) {
        expr_type_format(from, fname, sizeof(fname));
        werr_set(err, WERR_INVALID, "cannot convert %s to %s", fname, tname);
        free(c);
        return NULL;
    }
    return c;
}

void
df_cast_free(struct df_cast *c)
{
    if (!c)
        return;
    expr_free(c->e);
    free(c->nulls);
    free(c);
}

/* A numeric value into a smaller precision at the same scale: rows whose
 * value does not fit are errors (and NULL), the others unchanged. */
static int
check_precision(struct df_cast *c, const struct expr_col *in, size_t nrows,
                struct expr_col *out, uint8_t *row_errs)
{
    const expr_i128 *v = in->data;
    expr_i128 lim = 1;
    size_t i;

    for (i = 0; i < c->to.precision; i++)
        lim *= 10;
    XGROW(c->nulls, nrows, c->cap);
    for (i = 0; i < nrows; i++) {
        bool bad =
            !(in->nulls && in->nulls[i]) && (v[i] >= lim || v[i] <= -lim);
        c->nulls[i] = (in->nulls && in->nulls[i]) || bad;
        row_errs[i] = bad ? EXPR_ROW_ERROR : EXPR_ROW_OK;
    }
    out->type = c->to;
    out->data = in->data;
    out->nulls = c->nulls;
    return 0;
}

int
df_cast_run(struct df_cast *c, const struct expr_col *in, size_t nrows,
            struct expr_col *out, uint8_t *row_errs, struct werr *err)
{
    if (c->kind == CAST_SAME) {
        *out = *in;
        out->type = c->to;
        memset(row_errs, 0, nrows);
        return 0;
    }
    if (c->kind == CAST_PRECISION)
        return check_precision(c, in, nrows, out, row_errs);
    return expr_eval_batch(c->e, in, 1, nrows, out, row_errs, err);
}

static void
store_bytes(struct df_buffer *b, struct df_vec *v, const struct expr_col *src)
{
    const struct expr_sv *in = src->data;
    struct expr_sv *out = v->data;
    size_t i, total = 0, n = b->nrows;
    char *p;

    for (i = 0; i < n; i++)
        if (!v->nulls[i])
            total += in[i].len;
    p = total ? df_buffer_bytes(b, total) : NULL;
    for (i = 0; i < n; i++) {
        if (v->nulls[i] || in[i].len == 0) {
            out[i].p = "";
            out[i].len = 0;
            continue;
        }
        memcpy(p, in[i].p, in[i].len);
        out[i].p = p;
        out[i].len = in[i].len;
        p += in[i].len;
    }
}

static bool
is_bytes_type(enum expr_dt dt)
{
    return dt == EXPR_DT_STR || dt == EXPR_DT_WSTR || dt == EXPR_DT_TEXT ||
           dt == EXPR_DT_NTEXT || dt == EXPR_DT_BYTES || dt == EXPR_DT_IMAGE;
}

void
df_store_col(struct df_buffer *b, int slot, const struct expr_col *src)
{
    struct df_vec *v = &b->cols[slot];
    size_t n = b->nrows;

    if (src->nulls)
        memcpy(v->nulls, src->nulls, n);
    else
        memset(v->nulls, 0, n);
    if (is_bytes_type(v->type.dt))
        store_bytes(b, v, src);
    else
        memcpy(v->data, src->data, n * df_type_width(v->type.dt));
}

void
df_rowerr_reserve(struct df_rowerr *re, size_t rows)
{
    if (rows <= re->cap)
        return;
    W_ASSERT(re->n == 0);
    free(re->codes);
    free(re->cols);
    free(re->disp);
    free(re->errs);
    re->codes = xcalloc(rows, sizeof(*re->codes));
    re->cols = xcalloc(rows, sizeof(*re->cols));
    re->disp = xcalloc(rows, sizeof(*re->disp));
    re->errs = xcalloc(rows, sizeof(*re->errs));
    re->cap = rows;
}

void
df_rowerr_release(struct df_rowerr *re)
{
    free(re->codes);
    free(re->cols);
    free(re->disp);
    free(re->errs);
    memset(re, 0, sizeof(*re));
}

void
df_rowerr_add(struct df_rowerr *re, size_t row, int32_t code, int32_t col,
              enum df_disposition disp)
{
    W_ASSERT(row < re->cap);
    if (re->codes[row])
        return;
    re->codes[row] = code;
    re->cols[row] = col;
    re->disp[row] = disp == DF_DISP_NOT_USED ? DF_DISP_FAIL : disp;
    re->n++;
}

void
df_rowerr_add_batch(struct df_rowerr *re, const uint8_t *row_errs, size_t nrows,
                    int32_t code, int32_t col, enum df_disposition disp,
                    enum df_disposition trunc)
{
    size_t i;

    for (i = 0; i < nrows; i++) {
        if (row_errs[i] == EXPR_ROW_OK)
            continue;
        if (row_errs[i] == EXPR_ROW_TRUNCATED)
            df_rowerr_add(re, i, DF_E_TRUNCATION, col, trunc);
        else
            df_rowerr_add(re, i, code, col, disp);
    }
}

/* Keeps in `codes` only the rows whose disposition is `d`; returns how
 * many there are. */
static size_t
keep_only(struct df_rowerr *re, size_t nrows, enum df_disposition d,
          int32_t *codes)
{
    size_t i, k = 0;

    for (i = 0; i < nrows; i++) {
        codes[i] = re->disp[i] == d ? re->codes[i] : 0;
        k += codes[i] != 0;
    }
    return k;
}

void
df_rowerr_clear(struct df_rowerr *re, size_t nrows)
{
    if (re->n == 0)
        return;
    memset(re->codes, 0, nrows * sizeof(*re->codes));
    memset(re->disp, 0, nrows);
    re->n = 0;
}

int
df_rowerr_apply(struct df_rowerr *re, struct df_exec *x, struct df_component *c,
                struct df_buffer **b, struct werr *err)
{
    size_t n = (*b)->nrows;
    int32_t *codes;
    int rc = 0;

    if (re->n == 0)
        return 0;
    codes = xmalloc(n * sizeof(*codes));
    if (keep_only(re, n, DF_DISP_FAIL, codes))
        rc = df_row_errors(x, c, b, codes, re->cols, DF_DISP_FAIL, err);
    else if (keep_only(re, n, DF_DISP_REDIRECT, codes))
        rc = df_row_errors(x, c, b, codes, re->cols, DF_DISP_REDIRECT, err);
    free(codes);
    df_rowerr_clear(re, n);
    return rc;
}

static bool
names_column(const struct df_column *col, const char *ref, size_t n)
{
    const char *l = col->lineage, *r = col->ref_id;
    char num[24];

    if (l && strlen(l) == n && memcmp(l, ref, n) == 0)
        return true;
    if (r && strlen(r) == n && memcmp(r, ref, n) == 0)
        return true;
    snprintf(num, sizeof(num), "%d", col->id);
    return col->id && strlen(num) == n && memcmp(num, ref, n) == 0;
}

/* The reference inside "#{...}", "#123" or plain text: *n bytes. */
static const char *
ref_body(const char *ref, size_t *n)
{
    if (ref[0] == '#' && ref[1] == '{') {
        *n = strlen(ref + 2);
        if (*n == 0 || ref[2 + *n - 1] != '}')
            return NULL;
        (*n)--;
        return ref + 2;
    }
    ref += ref[0] == '#';
    *n = strlen(ref);
    return ref;
}

bool
df_ref_names(const char *ref, const struct df_column *col)
{
    size_t n;
    const char *body = ref ? ref_body(ref, &n) : NULL;

    return body && names_column(col, body, n);
}

struct df_column *
df_input_column_by_ref(struct df_input *in, const char *ref)
{
    size_t i;

    for (i = 0; i < in->ncolumns; i++)
        if (df_ref_names(ref, &in->columns[i]))
            return &in->columns[i];
    return NULL;
}

struct df_output *
df_main_output(struct df_component *c)
{
    size_t i;

    for (i = 0; i < c->noutputs; i++)
        if (!c->outputs[i].is_error)
            return &c->outputs[i];
    return NULL;
}

int
df_problem(struct wbuf *problems, const struct df_component *c, const char *fmt,
           ...)
{
    va_list ap;

    wbuf_addf(problems, NULL, "component '%s': ", c->name);
    va_start(ap, fmt);
    wbuf_vaddf(problems, NULL, fmt, ap);
    va_end(ap);
    wbuf_addch(problems, '\n', NULL);
    return 1;
}

static int
fold(unsigned char ch)
{
    return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

static int
cmp_str(const struct expr_sv *a, const struct expr_sv *b, unsigned flags)
{
    size_t i, n = a->len < b->len ? a->len : b->len;
    int tie = 0;

    for (i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a->p[i], y = (unsigned char)b->p[i];
        if (x == y)
            continue;
        if (fold(x) != fold(y))
            return fold(x) < fold(y) ? -1 : 1;
        if (!tie)
            tie = x > y ? -1 : 1; /* 'a' (0x61) sorts before 'A' (0x41) */
    }
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return flags & DF_CMP_IGNORE_CASE ? 0 : tie;
}

static int
cmp_bytes(const struct expr_sv *a, const struct expr_sv *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->p, b->p, n) : 0;

    if (c)
        return c < 0 ? -1 : 1;
    return (a->len > b->len) - (a->len < b->len);
}

#define CMP(T)                                                                 \
    do {                                                                       \
        T x_, y_;                                                              \
        memcpy(&x_, a, sizeof(T));                                             \
        memcpy(&y_, b, sizeof(T));                                             \
        return (x_ > y_) - (x_ < y_);                                          \
    } while (0)

static int
cmp_dto(const struct expr_dto *a, const struct expr_dto *b)
{
    int64_t x = a->ticks - (int64_t)a->offset * 60 * EXPR_TICKS_PER_SEC;
    int64_t y = b->ticks - (int64_t)b->offset * 60 * EXPR_TICKS_PER_SEC;

    return (x > y) - (x < y);
}

int
df_cmp_values(enum expr_dt dt, unsigned flags, const void *a, const void *b)
{
    switch (dt) {
    case EXPR_DT_BOOL:
    case EXPR_DT_UI1:
        CMP(uint8_t);
    case EXPR_DT_I1:
        CMP(int8_t);
    case EXPR_DT_I2:
        CMP(int16_t);
    case EXPR_DT_UI2:
        CMP(uint16_t);
    case EXPR_DT_I4:
        CMP(int32_t);
    case EXPR_DT_UI4:
        CMP(uint32_t);
    case EXPR_DT_UI8:
        CMP(uint64_t);
    case EXPR_DT_R4:
        CMP(float);
    case EXPR_DT_R8:
        CMP(double);
    case EXPR_DT_NUMERIC:
    case EXPR_DT_DECIMAL:
        CMP(expr_i128);
    case EXPR_DT_DBTIMESTAMPOFFSET:
        return cmp_dto(a, b);
    case EXPR_DT_GUID:
        return memcmp(a, b, sizeof(struct expr_guid));
    case EXPR_DT_STR:
    case EXPR_DT_WSTR:
    case EXPR_DT_TEXT:
    case EXPR_DT_NTEXT:
        return cmp_str(a, b, flags);
    case EXPR_DT_BYTES:
    case EXPR_DT_IMAGE:
        return cmp_bytes(a, b);
    default: /* DT_I8, DT_CY and the date and time types: int64_t */
        CMP(int64_t);
    }
}
