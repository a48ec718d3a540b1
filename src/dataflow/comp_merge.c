/*
 * Merge (Microsoft.Merge): merges inputs sorted on the same keys into one
 * sorted output.  Each input column feeds the output column its
 * OutputColumnLineageID names; the keys are the output columns with a
 * sortKeyPosition (negative: descending).  Rows with equal keys leave in
 * input order (the first input's first).
 *
 * Like Merge Join, each input keeps a queue of the buffers it received and
 * the merge emits rows while every input that has not ended has rows, so
 * memory holds what one input is ahead of the others.  Validation fails
 * when an input is not sorted (IsSorted upstream) or when the output has
 * no sort key.
 */
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "dataflow/xform.h"
#include "base/banned.h"

struct merge_key {
    int out; /* index in the output's columns */
    enum expr_dt dt;
    bool desc;
};

struct merge_in {
    int *slots; /* per output column: the slot feeding it, -1 for NULL */
    struct df_buffer **q;
    size_t nq, capq, row;
    bool ended;
};

struct merge {
    struct merge_in *ins;
    size_t nins;
    struct merge_key *keys;
    size_t nkeys;
    struct df_output *out;
    struct df_buffer *ob;
};

static void
merge_free(struct merge *m)
{
    size_t i, k;

    if (!m)
        return;
    for (i = 0; i < m->nins; i++) {
        for (k = 0; k < m->ins[i].nq; k++)
            df_buffer_unref(m->ins[i].q[k]);
        free(m->ins[i].q);
        free(m->ins[i].slots);
    }
    if (m->ob)
        df_buffer_unref(m->ob);
    free(m->ins);
    free(m->keys);
    free(m);
}

static int
map_input(struct merge *m, struct df_input *in, struct merge_in *mi,
          struct werr *err)
{
    const struct df_output *o = m->out, *up = in->from;
    size_t i, k;

    while (up && !up->is_sorted && up->sync_input)
        up = up->sync_input->from;
    if (!up || !up->is_sorted)
        return werr_set(err, WERR_INVALID,
                        "input '%s' is not sorted (IsSorted upstream)",
                        in->name);
    mi->slots = xmalloc((o->ncolumns + 1) * sizeof(int));
    for (k = 0; k < o->ncolumns; k++)
        mi->slots[k] = -1;
    for (i = 0; i < in->ncolumns; i++) {
        const struct df_column *ic = &in->columns[i];
        const char *ref =
            df_prop(ic->props, ic->nprops, "OutputColumnLineageID");
        for (k = 0; ref && k < o->ncolumns; k++)
            if (df_ref_names(ref, &o->columns[k]))
                mi->slots[k] = ic->slot;
    }
    for (k = 0; k < m->nkeys; k++)
        if (mi->slots[m->keys[k].out] < 0)
            return werr_set(err, WERR_INVALID,
                            "input '%s' feeds no column to sort key '%s'",
                            in->name, o->columns[m->keys[k].out].name);
    return 0;
}

static void
find_keys(struct merge *m)
{
    const struct df_output *o = m->out;
    size_t i;
    int k;

    m->keys = xcalloc(o->ncolumns + 1, sizeof(*m->keys));
    for (k = 1;; k++) {
        size_t before = m->nkeys;
        for (i = 0; i < o->ncolumns; i++) {
            int p = o->columns[i].sort_key;
            if (p != k && p != -k)
                continue;
            m->keys[m->nkeys].out = (int)i;
            m->keys[m->nkeys].dt = o->columns[i].type.dt;
            m->keys[m->nkeys++].desc = p < 0;
        }
        if (m->nkeys == before)
            return;
    }
}

static struct merge *
merge_build(struct df_component *c, struct werr *err)
{
    struct merge *m = xcalloc(1, sizeof(*m));
    size_t i;

    if (c->ninputs < 1 || !(m->out = df_main_output(c))) {
        werr_set(err, WERR_INVALID, "expects inputs and one output");
        goto fail;
    }
    find_keys(m);
    if (m->nkeys == 0) {
        werr_set(err, WERR_INVALID,
                 "output '%s' has no column with a sortKeyPosition",
                 m->out->name);
        goto fail;
    }
    m->ins = xcalloc(c->ninputs, sizeof(*m->ins));
    for (i = 0; i < c->ninputs; i++, m->nins++)
        if (map_input(m, &c->inputs[i], &m->ins[i], err) < 0)
            goto fail;
    return m;
fail:
    merge_free(m);
    return NULL;
}

static int
merge_validate(struct df_exec *x, struct df_component *c, struct wbuf *problems)
{
    struct werr err = {0};
    struct merge *m = merge_build(c, &err);

    (void)x;
    if (!m)
        return df_problem(problems, c, "%s", err.msg);
    merge_free(m);
    return 0;
}

static int
merge_pre_execute(struct df_exec *x, struct df_component *c, struct werr *err)
{
    (void)x;
    c->state = merge_build(c, err);
    return c->state ? 0 : werr_prefix(err, "component '%s'", c->name);
}

static const void *
elem(const struct df_buffer *b, int slot, size_t row)
{
    const struct df_vec *v = &b->cols[slot];

    return (const char *)v->data + row * df_type_width(v->type.dt);
}

/* Orders the heads of inputs a and b (both holding rows). */
static int
cmp_heads(const struct merge *m, size_t a, size_t b)
{
    const struct merge_in *x = &m->ins[a], *y = &m->ins[b];
    size_t k;

    for (k = 0; k < m->nkeys; k++) {
        const struct merge_key *key = &m->keys[k];
        int sx = x->slots[key->out], sy = y->slots[key->out];
        bool xn = x->q[0]->cols[sx].nulls[x->row];
        bool yn = y->q[0]->cols[sy].nulls[y->row];
        int c = xn || yn ? (xn == yn ? 0
                            : xn     ? -1
                                     : 1)
                         : df_cmp_values(key->dt, 0, elem(x->q[0], sx, x->row),
                                         elem(y->q[0], sy, y->row));
        if (c)
            return key->desc ? -c : c;
    }
    return (a > b) - (a < b);
}

static void
copy_row(struct merge *m, const struct merge_in *mi, size_t orow)
{
    const struct df_output *o = m->out;
    const struct df_buffer *b = mi->q[0];
    size_t k;

    for (k = 0; k < o->ncolumns; k++) {
        int s = mi->slots[k], os = o->columns[k].slot;
        struct df_vec *v = &m->ob->cols[os];
        size_t w = df_type_width(v->type.dt);
        if (s < 0 || b->cols[s].nulls[mi->row]) {
            df_buffer_set_null(m->ob, os, orow);
        } else if (v->type.dt == EXPR_DT_STR || v->type.dt == EXPR_DT_WSTR ||
                   v->type.dt == EXPR_DT_TEXT || v->type.dt == EXPR_DT_NTEXT ||
                   v->type.dt == EXPR_DT_BYTES || v->type.dt == EXPR_DT_IMAGE) {
            const struct expr_sv *sv = elem(b, s, mi->row);
            df_buffer_set_str(m->ob, os, orow, sv->p, sv->len);
            v->nulls[orow] = 0;
        } else {
            memcpy((char *)v->data + orow * w, elem(b, s, mi->row), w);
            v->nulls[orow] = 0;
        }
    }
}

static int
emit_head(struct df_exec *x, struct merge *m, struct merge_in *mi,
          struct werr *err)
{
    struct df_buffer *full;

    if (!m->ob)
        m->ob = df_buffer_new(m->out->layout);
    copy_row(m, mi, m->ob->nrows++);
    if (++mi->row >= mi->q[0]->nrows) {
        df_buffer_unref(mi->q[0]);
        memmove(mi->q, mi->q + 1, --mi->nq * sizeof(*mi->q));
        mi->row = 0;
    }
    if (df_buffer_room(m->ob) > 0)
        return 0;
    full = m->ob;
    m->ob = NULL;
    return df_send(x, m->out, full, err);
}

/* Emits rows while every input that has not ended has some. */
static int
advance(struct df_exec *x, struct merge *m, struct werr *err)
{
    for (;;) {
        size_t i, best = m->nins;
        for (i = 0; i < m->nins; i++) {
            if (!m->ins[i].nq) {
                if (!m->ins[i].ended)
                    return 0;
                continue;
            }
            if (best == m->nins || cmp_heads(m, i, best) < 0)
                best = i;
        }
        if (best == m->nins)
            return 0;
        if (emit_head(x, m, &m->ins[best], err) < 0)
            return -1;
    }
}

static int
merge_process(struct df_exec *x, struct df_component *c, struct df_input *in,
              struct df_buffer *b, struct werr *err)
{
    struct merge *m = c->state;
    struct merge_in *mi = &m->ins[in->index];

    if (b->nrows == 0) {
        df_buffer_unref(b);
        return 0;
    }
    XGROW(mi->q, mi->nq + 1, mi->capq);
    mi->q[mi->nq++] = b;
    return advance(x, m, err);
}

static int
merge_end_of_input(struct df_exec *x, struct df_component *c,
                   struct df_input *in, struct werr *err)
{
    struct merge *m = c->state;
    struct df_buffer *last;
    size_t i;

    m->ins[in->index].ended = true;
    if (advance(x, m, err) < 0)
        return -1;
    for (i = 0; i < m->nins; i++)
        if (!m->ins[i].ended)
            return 0;
    if (!m->ob)
        return 0;
    last = m->ob;
    m->ob = NULL;
    return df_send(x, m->out, last, err);
}

static void
merge_cleanup(struct df_exec *x, struct df_component *c)
{
    (void)x;
    merge_free(c->state);
    c->state = NULL;
}

const struct df_component_ops df_merge_ops = {
    .class_id = "Microsoft.Merge",
    .validate = merge_validate,
    .pre_execute = merge_pre_execute,
    .process = merge_process,
    .end_of_input = merge_end_of_input,
    .cleanup = merge_cleanup,
};
