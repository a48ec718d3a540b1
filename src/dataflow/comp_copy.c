/*
 * Copy Column (Microsoft.CopyColumn): each output column is a copy of
 * the input column its copyColumnId property names.  The copy shares
 * the buffer's string bytes (the values are views into the same
 * buffer), so a copy is two memcpy calls per column and buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "dataflow/xform.h"
#include "base/banned.h"

struct copy_col {
    int from, to;
    size_t width;
};

struct copycol {
    struct copy_col *cols;
    size_t ncols;
    struct df_output *out;
};

static void
copycol_free(struct copycol *k)
{
    if (!k)
        return;
    free(k->cols);
    free(k);
}

static struct copycol *
copycol_build(struct df_component *c, struct werr *err)
{
    struct copycol *k = xcalloc(1, sizeof(*k));
    size_t i;

    if (c->ninputs != 1 || !(k->out = df_main_output(c))) {
        werr_set(err, WERR_INVALID, "expects one input and one output");
        goto fail;
    }
    k->cols = xcalloc(k->out->ncolumns + 1, sizeof(*k->cols));
    for (i = 0; i < k->out->ncolumns; i++) {
        const struct df_column *oc = &k->out->columns[i];
        const char *ref = df_prop(oc->props, oc->nprops, "copyColumnId");
        const struct df_column *ic = df_input_column_by_ref(&c->inputs[0], ref);
        if (!ic) {
            werr_set(err, WERR_INVALID,
                     "column '%s': copyColumnId '%s' names no input column",
                     oc->name, ref ? ref : "");
            goto fail;
        }
        if (ic->type.dt != oc->type.dt) {
            werr_set(err, WERR_INVALID, "column '%s' is %s, its source %s",
                     oc->name, expr_dt_name(oc->type.dt),
                     expr_dt_name(ic->type.dt));
            goto fail;
        }
        k->cols[k->ncols].from = ic->slot;
        k->cols[k->ncols].to = oc->slot;
        k->cols[k->ncols++].width = df_type_width(ic->type.dt);
    }
    return k;
fail:
    copycol_free(k);
    return NULL;
}

static int
copycol_validate(struct df_exec *x, struct df_component *c,
                 struct wbuf *problems)
{
    struct werr err = {0};
    struct copycol *k = copycol_build(c, &err);

    (void)x;
    if (!k)
        return df_problem(problems, c, "%s", err.msg);
    copycol_free(k);
    return 0;
}

static int
copycol_pre_execute(struct df_exec *x, struct df_component *c, struct werr *err)
{
    (void)x;
    c->state = copycol_build(c, err);
    return c->state ? 0 : werr_prefix(err, "component '%s'", c->name);
}

static int
copycol_process(struct df_exec *x, struct df_component *c, struct df_input *in,
                struct df_buffer *b, struct werr *err)
{
    struct copycol *k = c->state;
    size_t i;

    (void)in;
    df_buffer_own(&b);
    for (i = 0; i < k->ncols; i++) {
        const struct df_vec *f = &b->cols[k->cols[i].from];
        struct df_vec *t = &b->cols[k->cols[i].to];
        memcpy(t->data, f->data, b->nrows * k->cols[i].width);
        memcpy(t->nulls, f->nulls, b->nrows);
    }
    return df_send(x, k->out, b, err);
}

static void
copycol_cleanup(struct df_exec *x, struct df_component *c)
{
    (void)x;
    copycol_free(c->state);
    c->state = NULL;
}

const struct df_component_ops df_copycolumn_ops = {
    .class_id = "Microsoft.CopyColumn",
    .validate = copycol_validate,
    .pre_execute = copycol_pre_execute,
    .process = copycol_process,
    .cleanup = copycol_cleanup,
};
