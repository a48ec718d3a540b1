/*
 * Data Conversion (Microsoft.DataConvert): each output column converts
 * the input column its SourceInputColumnLineageID names to the output
 * column's type, with the cast rules of the expression language, a
 * buffer at a time.  A value that cannot be converted is a conversion
 * row error, a string that does not fit a truncation; each takes the
 * output column's disposition.  FastParse is accepted and ignored: the
 * one parser weir has is locale-independent already, which is what
 * FastParse asks for.
 */
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "dataflow/xform.h"
#include "base/banned.h"

struct conv_col {
    const struct df_column *out, *in;
    struct df_cast *cast; /* NULL: same type, a copy */
};

struct convert {
    struct conv_col *cols;
    size_t ncols;
    struct df_output *out;
    struct df_rowerr re;
};

static void
convert_free(struct convert *v)
{
    size_t i;

    if (!v)
        return;
    for (i = 0; i < v->ncols; i++)
        df_cast_free(v->cols[i].cast);
    free(v->cols);
    df_rowerr_release(&v->re);
    free(v);
}

static int
prepare(struct df_component *c, const struct df_column *oc, struct conv_col *cc,
        struct werr *err)
{
    const char *ref =
        df_prop(oc->props, oc->nprops, "SourceInputColumnLineageID");

    cc->out = oc;
    if (!ref || !*ref)
        return werr_set(err, WERR_INVALID,
                        "column '%s' has no SourceInputColumnLineageID",
                        oc->name);
    cc->in = df_input_column_by_ref(&c->inputs[0], ref);
    if (!cc->in)
        return werr_set(err, WERR_INVALID,
                        "column '%s': source '%s' is not an input column",
                        oc->name, ref);
    if (df_type_equal(&cc->in->type, &oc->type))
        return 0;
    cc->cast = df_cast_new(&cc->in->type, &oc->type, err);
    if (!cc->cast)
        return werr_prefix(err, "column '%s'", oc->name);
    return 0;
}

static struct convert *
convert_build(struct df_component *c, struct werr *err)
{
    struct convert *v = xcalloc(1, sizeof(*v));
    size_t i;

    if (c->ninputs != 1 || !(v->out = df_main_output(c))) {
        werr_set(err, WERR_INVALID, "expects one input and one output");
        goto fail;
    }
    v->cols = xcalloc(v->out->ncolumns + 1, sizeof(*v->cols));
    for (i = 0; i < v->out->ncolumns; i++, v->ncols++)
        if (prepare(c, &v->out->columns[i], &v->cols[i], err) < 0)
            goto fail;
    return v;
fail:
    convert_free(v);
    return NULL;
}

static int
convert_validate(struct df_exec *x, struct df_component *c,
                 struct wbuf *problems)
{
    struct werr err = {0};
    struct convert *v = convert_build(c, &err);

    (void)x;
    if (!v)
        return df_problem(problems, c, "%s", err.msg);
    convert_free(v);
    return 0;
}

static int
convert_pre_execute(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct convert *v = convert_build(c, err);

    (void)x;
    if (!v)
        return werr_prefix(err, "component '%s'", c->name);
    c->state = v;
    return 0;
}

static int
convert_one(struct convert *v, struct df_buffer *b, struct conv_col *cc,
            struct werr *err)
{
    struct expr_col in = df_buffer_col(b, cc->in->slot), res;
    const struct df_column *oc = cc->out;

    if (!cc->cast) {
        df_store_col(b, oc->slot, &in);
        return 0;
    }
    if (df_cast_run(cc->cast, &in, b->nrows, &res, v->re.errs, err) < 0)
        return -1;
    df_rowerr_add_batch(&v->re, v->re.errs, b->nrows, DF_E_CONVERSION, oc->id,
                        oc->error_disp, oc->trunc_disp);
    df_store_col(b, oc->slot, &res);
    return 0;
}

static int
convert_process(struct df_exec *x, struct df_component *c, struct df_input *in,
                struct df_buffer *b, struct werr *err)
{
    struct convert *v = c->state;
    size_t i;

    (void)in;
    df_buffer_own(&b);
    df_rowerr_reserve(&v->re, b->nrows);
    for (i = 0; i < v->ncols; i++) {
        if (convert_one(v, b, &v->cols[i], err) < 0) {
            df_rowerr_clear(&v->re, b->nrows);
            df_buffer_unref(b);
            return -1;
        }
    }
    if (df_rowerr_apply(&v->re, x, c, &b, err) < 0) {
        df_buffer_unref(b);
        return -1;
    }
    return df_send(x, v->out, b, err);
}

static void
convert_cleanup(struct df_exec *x, struct df_component *c)
{
    (void)x;
    convert_free(c->state);
    c->state = NULL;
}

const struct df_component_ops df_convert_ops = {
    .class_id = "Microsoft.DataConvert",
    .validate = convert_validate,
    .pre_execute = convert_pre_execute,
    .process = convert_process,
    .cleanup = convert_cleanup,
};
