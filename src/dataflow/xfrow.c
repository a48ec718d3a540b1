/*
 * Rows built one at a time into an asynchronous output (xfrow.h).
 */
#include <string.h>
#include <strings.h>

#include "dataflow/xfrow.h"
#include "base/banned.h"

bool
df_dt_is_var(enum expr_dt dt)
{
    return dt == EXPR_DT_STR || dt == EXPR_DT_WSTR || dt == EXPR_DT_TEXT ||
           dt == EXPR_DT_NTEXT || dt == EXPR_DT_BYTES || dt == EXPR_DT_IMAGE;
}

void
df_copy_cell(struct df_buffer *dst, int dslot, size_t drow,
             const struct df_buffer *src, int sslot, size_t srow)
{
    const struct df_vec *s = &src->cols[sslot];
    struct df_vec *d = &dst->cols[dslot];
    size_t w = df_type_width(s->type.dt);

    if (s->nulls[srow]) {
        df_buffer_set_null(dst, dslot, drow);
    } else if (df_dt_is_var(s->type.dt)) {
        const struct expr_sv *sv = &((const struct expr_sv *)s->data)[srow];
        df_buffer_set_str(dst, dslot, drow, sv->p, sv->len);
    } else {
        memcpy((char *)d->data + drow * w, (const char *)s->data + srow * w, w);
        d->nulls[drow] = 0;
    }
}

void
df_key_add(struct wbuf *k, const struct df_buffer *b, int slot, size_t row)
{
    const struct df_vec *v = &b->cols[slot];
    size_t w = df_type_width(v->type.dt);

    wbuf_addch(k, v->nulls[row] ? 1 : 0, NULL);
    if (v->nulls[row])
        return;
    if (df_dt_is_var(v->type.dt)) {
        const struct expr_sv *sv = &((const struct expr_sv *)v->data)[row];
        uint32_t n = (uint32_t)sv->len;
        wbuf_add(k, &n, 4, NULL);
        wbuf_add(k, sv->p, sv->len, NULL);
    } else {
        wbuf_add(k, (const char *)v->data + row * w, w, NULL);
    }
}

static const struct df_column *
named(const struct df_column *cols, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(cols[i].name, name))
            return &cols[i];
    return NULL;
}

const struct df_column *
df_visible_column(const struct df_input *in, const char *name)
{
    const struct df_column *col = named(in->columns, in->ncolumns, name);
    const struct df_output *o = in->from;

    /* Up through synchronous components: their outputs' columns are in
     * the same buffers (a guard bounds a malformed cycle). */
    for (int guard = 0; !col && o && guard < 1000; guard++) {
        col = named(o->columns, o->ncolumns, name);
        if (col && col->slot < 0)
            col = NULL;
        o = o->sync_input ? o->sync_input->from : NULL;
    }
    return col;
}

size_t
df_emit_begin(struct df_emitter *em)
{
    size_t row;

    if (!em->b)
        em->b = df_buffer_new(em->out->layout);
    row = em->b->nrows;
    for (size_t s = 0; s < em->b->layout->nslots; s++)
        df_buffer_set_null(em->b, (int)s, row);
    return row;
}

/* Whether a value of column `col` may exceed its length: bounded
 * strings (characters) and binaries (bytes). */
static bool
is_bounded(const struct df_column *col)
{
    enum expr_dt dt = col->type.dt;

    return col->slot >= 0 && col->type.length > 0 &&
           (dt == EXPR_DT_STR || dt == EXPR_DT_WSTR || dt == EXPR_DT_BYTES);
}

/* Checks row `row` of em->b against the lengths of the output's
 * columns.  A longer value is cut when the column's truncation
 * disposition is IgnoreFailure; otherwise it fails the component:
 * these components have no error output for their output columns, as
 * in SSIS, where their output columns' lengths are those of the input. */
static int
fit_row(struct df_emitter *em, size_t row, struct werr *err)
{
    const struct df_output *out = em->out;
    const struct df_component *c = out->comp;

    for (size_t i = 0; i < out->ncolumns; i++) {
        const struct df_column *col = &out->columns[i];
        if (!is_bounded(col) || em->b->cols[col->slot].nulls[row])
            continue;
        struct expr_sv *sv =
            &((struct expr_sv *)em->b->cols[col->slot].data)[row];
        bool bytes = col->type.dt == EXPR_DT_BYTES;
        size_t max = (size_t)col->type.length;
        if (sv->len <= max ||
            (!bytes && df_utf16_units(sv->p, sv->len) <= max))
            continue;
        if (col->trunc_disp == DF_DISP_IGNORE) {
            sv->len = bytes ? max : df_utf16_cut(sv->p, sv->len, max);
            continue;
        }
        const char *what = bytes ? "bytes" : "characters";
        int shown = sv->len > 60 || bytes ? 0 : (int)sv->len;
        df_error(em->x, c, 0,
                 "column '%s': the value \"%.*s\" is longer than its %zu "
                 "%s, and its truncation disposition is not IgnoreFailure",
                 col->name, shown, sv->p, max, what);
        return werr_set(err, WERR_INVALID,
                        "component '%s': column '%s': a value is longer "
                        "than its %zu %s",
                        c->name, col->name, max, what);
    }
    return 0;
}

int
df_emit_end(struct df_emitter *em, struct werr *err)
{
    if (fit_row(em, em->b->nrows, err) < 0)
        return -1;
    em->b->nrows++;
    if (df_buffer_room(em->b) > 0)
        return 0;
    return df_emit_flush(em, err);
}

int
df_emit_flush(struct df_emitter *em, struct werr *err)
{
    struct df_buffer *b = em->b;

    em->b = NULL;
    if (!b)
        return 0;
    if (b->nrows == 0) {
        df_buffer_unref(b);
        return 0;
    }
    return df_send(em->x, em->out, b, err);
}

void
df_emit_release(struct df_emitter *em)
{
    if (em->b)
        df_buffer_unref(em->b);
    em->b = NULL;
}
