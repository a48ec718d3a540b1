/*
 * Row errors (df_int.h, df_row_errors): a component that found rows it
 * cannot process applies the failing column's disposition to all of them
 * in one call.
 *
 * Redirected rows go to the component's error output with ErrorCode and
 * ErrorColumn set.  A synchronous error output shares the input's tree,
 * so the rows are copied whole; an asynchronous one (a source's) has its
 * own layout, where columns are matched by name and the others are NULL.
 * An error output without a path discards the rows, as in SSIS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "dataflow/df_core.h"

static const char *
code_text(int32_t code)
{
    switch (code) {
    case DF_E_CONVERSION:
        return "the value could not be converted";
    case DF_E_TRUNCATION:
        return "the value would be truncated";
    case DF_E_EXPRESSION:
        return "the expression failed";
    case DF_E_NO_MATCH:
        return "the row has no match";
    case DF_E_CONDITION:
        return "the condition could not be evaluated";
    default:
        return "the row failed";
    }
}

/* The column of `c` with numeric id `id`, searched in its outputs and
 * inputs. */
static const struct df_column *
column_by_id(const struct df_component *c, int id)
{
    for (size_t i = 0; i < c->noutputs; i++)
        for (size_t j = 0; j < c->outputs[i].ncolumns; j++)
            if (c->outputs[i].columns[j].id == id)
                return &c->outputs[i].columns[j];
    for (size_t i = 0; i < c->ninputs; i++)
        for (size_t j = 0; j < c->inputs[i].ncolumns; j++)
            if (c->inputs[i].columns[j].id == id)
                return &c->inputs[i].columns[j];
    return NULL;
}

static int
fail_rows(struct df_exec *x, struct df_component *c,
          const struct df_buffer *b, size_t row, int32_t code, int32_t id,
          struct werr *err)
{
    const struct df_column *col = column_by_id(c, id);
    char value[160] = "";

    if (col && col->slot >= 0 && (size_t)col->slot < b->layout->nslots) {
        struct expr_col ec = df_buffer_col(b, col->slot);
        struct expr_value v;
        char text[120];
        expr_col_value(&ec, row, &v);
        if (!v.null) {
            expr_value_format(&v, text, sizeof(text));
            snprintf(value, sizeof(value), " (value \"%s\")", text);
        }
    }
    df_error(x, c, 0, "column '%s'%s: %s, and its disposition is "
             "FailComponent", col ? col->name : "?", value, code_text(code));
    return werr_set(err, WERR_INVALID, "component '%s': column '%s': %s",
                    c->name, col ? col->name : "?", code_text(code));
}

/* The slot in `b` of the column named `name` (case-insensitive) of an
 * output of `eo`'s component whose buffers `b` has the layout of; -1 if
 * none. */
static int
slot_by_name(const struct df_output *eo, const struct df_buffer *b,
             const char *name)
{
    const struct df_component *c = eo->comp;

    for (size_t i = 0; i < c->noutputs; i++) {
        const struct df_output *o = &c->outputs[i];
        if (o->is_error || o->layout != b->layout)
            continue;
        for (size_t j = 0; j < o->ncolumns; j++)
            if (o->columns[j].slot >= 0 &&
                !strcasecmp(o->columns[j].name, name))
                return o->columns[j].slot;
    }
    return -1;
}

/* Fills the columns of an asynchronous error output (a source's) from
 * the columns of the same name of rows rows[0..n) of `b`: whole when the
 * types match (a value too long for its column arrives whole, so the
 * error output shows what failed), else cast, NULL when that fails. */
static void
copy_by_name(struct df_output *eo, struct df_buffer *e,
             const struct df_buffer *b, const uint32_t *rows, size_t n)
{
    for (size_t j = 0; j < eo->ncolumns; j++) {
        const struct df_column *col = &eo->columns[j];
        int from = col->special ? -1 : slot_by_name(eo, b, col->name);
        if (col->slot < 0 || from < 0)
            continue;
        struct expr_col src = df_buffer_col(b, from);
        for (size_t i = 0; i < n; i++) {
            struct expr_value v;
            struct werr ignored;
            expr_col_value(&src, rows[i], &v);
            if (!v.null && v.type.dt == col->type.dt &&
                (src.type.dt == EXPR_DT_STR || src.type.dt == EXPR_DT_WSTR ||
                 src.type.dt == EXPR_DT_BYTES)) {
                df_buffer_set_str(e, col->slot, i, v.v.s.p, v.v.s.len);
                e->cols[col->slot].nulls[i] = 0;
            } else if (df_buffer_set_value(e, col->slot, i, &v,
                                           &ignored) < 0) {
                df_buffer_set_null(e, col->slot, i);
            }
        }
    }
}

/* Copies the bad rows of `b` into a buffer of error output `eo`. */
static struct df_buffer *
error_rows(struct df_output *eo, const struct df_buffer *b,
           const int32_t *errs, const int32_t *cols)
{
    struct df_buffer *e = df_buffer_new(eo->layout);
    int code_slot = df_special_slot(eo, DF_SPECIAL_ERROR_CODE);
    int col_slot = df_special_slot(eo, DF_SPECIAL_ERROR_COLUMN);
    uint32_t *rows = xmalloc((b->nrows + 1) * sizeof(*rows));
    size_t n = 0;

    for (size_t i = 0; i < b->nrows; i++)
        if (errs[i])
            rows[n++] = (uint32_t)i;
    if (eo->layout == b->layout) {
        df_buffer_copy_rows(e, b, rows, n);
    } else {
        for (size_t s = 0; s < eo->layout->nslots; s++)
            memset(e->cols[s].nulls, 1, n);
        e->nrows = n;
        copy_by_name(eo, e, b, rows, n);
    }
    for (size_t i = 0; i < n; i++) {
        if (code_slot >= 0) {
            ((int32_t *)e->cols[code_slot].data)[i] = errs[rows[i]];
            e->cols[code_slot].nulls[i] = 0;
        }
        if (col_slot >= 0) {
            ((int32_t *)e->cols[col_slot].data)[i] = cols[rows[i]];
            e->cols[col_slot].nulls[i] = 0;
        }
    }
    free(rows);
    return e;
}

int
df_row_errors(struct df_exec *x, struct df_component *c,
              struct df_buffer **b, const int32_t *errs, const int32_t *cols,
              enum df_disposition disp, struct werr *err)
{
    struct df_output *eo = df_error_output(c);
    size_t first = (*b)->nrows;
    uint8_t *drop;
    int rc = 0;

    for (size_t i = 0; i < (*b)->nrows && first == (*b)->nrows; i++)
        if (errs[i])
            first = i;
    if (first == (*b)->nrows || disp == DF_DISP_IGNORE)
        return 0;
    if (disp != DF_DISP_REDIRECT)
        return fail_rows(x, c, *b, first, errs[first], cols[first], err);
    if (eo && eo->layout && eo->to)
        rc = df_send(x, eo, error_rows(eo, *b, errs, cols), err);
    df_buffer_own(b);
    drop = xmalloc((*b)->nrows + 1);
    for (size_t i = 0; i < (*b)->nrows; i++)
        drop[i] = errs[i] != 0;
    df_buffer_drop_rows(*b, drop);
    free(drop);
    return rc;
}
