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

int
df_emit_end(struct df_emitter *em, struct werr *err)
{
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
