/*
 * Derived Column (Microsoft.DerivedColumn): each new output column, and
 * each input column marked readWrite, carries an Expression property; its
 * value is computed for the whole buffer at once and, when the
 * expression's type differs from the column's declared type, cast to it
 * (a string that does not fit is a truncation).
 *
 * Every expression reads the row as it arrived: all columns are computed
 * before any is stored, so replacing column A does not change what
 * another expression reading A sees.  Row errors take the column's error
 * or truncation disposition; the first failing column of a row is the
 * one reported in ErrorColumn.
 */
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "dataflow/xform.h"
#include "base/banned.h"

struct derived_col {
    const struct df_column *col;
    struct df_expr *e;
    struct df_cast *cast; /* NULL when the result has the column's type */
    struct expr_col res;
};

struct derived {
    struct derived_col *cols;
    size_t ncols;
    struct df_output *out;
    struct df_rowerr re; /* its `errs` serves each evaluation */
};

static const char *
expression_of(const struct df_column *col)
{
    const char *s = df_prop(col->props, col->nprops, "Expression");

    if (!s || !*s)
        s = df_prop(col->props, col->nprops, "FriendlyExpression");
    return s && *s ? s : NULL;
}

/* Calls `fn` for each column the component computes. */
static int
each_target(struct df_component *c,
            int (*fn)(struct df_component *, const struct df_column *, void *),
            void *arg)
{
    struct df_output *out = df_main_output(c);
    size_t i;

    for (i = 0; c->ninputs && i < c->inputs[0].ncolumns; i++) {
        const struct df_column *col = &c->inputs[0].columns[i];
        if (col->read_write && fn(c, col, arg) < 0)
            return -1;
    }
    for (i = 0; out && i < out->ncolumns; i++)
        if (fn(c, &out->columns[i], arg) < 0)
            return -1;
    return 0;
}

static int
prepare_col(struct df_exec *x, struct df_component *c,
            const struct df_column *col, struct derived_col *dc,
            struct werr *err)
{
    const char *text = expression_of(col);
    const struct expr_type *rt;

    dc->col = col;
    if (!text)
        return werr_set(err, WERR_INVALID, "column '%s' has no Expression",
                        col->name);
    dc->e =
        df_expr_compile(x, c, &c->inputs[0], text, EXPR_TRUNCATE_ERROR, err);
    if (!dc->e)
        return werr_prefix(err, "column '%s'", col->name);
    rt = expr_result_type(dc->e->expr);
    if (df_type_equal(rt, &col->type))
        return 0;
    dc->cast = df_cast_new(rt, &col->type, err);
    if (!dc->cast)
        return werr_prefix(err, "column '%s'", col->name);
    return 0;
}

static void
derived_free(struct derived *d)
{
    size_t i;

    if (!d)
        return;
    for (i = 0; i < d->ncols; i++) {
        df_expr_free(d->cols[i].e);
        df_cast_free(d->cols[i].cast);
    }
    free(d->cols);
    df_rowerr_release(&d->re);
    free(d);
}

struct build_arg {
    struct df_exec *x;
    struct derived *d;
    struct werr *err;
};

static int
add_target(struct df_component *c, const struct df_column *col, void *arg)
{
    struct build_arg *ba = arg;
    struct derived *d = ba->d;

    d->cols = xrealloc(d->cols, (d->ncols + 1) * sizeof(*d->cols));
    memset(&d->cols[d->ncols], 0, sizeof(d->cols[0]));
    return prepare_col(ba->x, c, col, &d->cols[d->ncols++], ba->err);
}

static struct derived *
derived_build(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct derived *d = xcalloc(1, sizeof(*d));
    struct build_arg ba = {x, d, err};

    if (c->ninputs != 1) {
        werr_set(err, WERR_INVALID, "expects one input");
        goto fail;
    }
    d->out = df_main_output(c);
    if (each_target(c, add_target, &ba) < 0)
        goto fail;
    return d;
fail:
    derived_free(d);
    return NULL;
}

static int
derived_validate(struct df_exec *x, struct df_component *c,
                 struct wbuf *problems)
{
    struct werr err = {0};
    struct derived *d = derived_build(x, c, &err);

    if (!d)
        return df_problem(problems, c, "%s", err.msg);
    derived_free(d);
    return 0;
}

static int
derived_pre_execute(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct derived *d = derived_build(x, c, err);

    if (!d)
        return werr_prefix(err, "component '%s'", c->name);
    c->state = d;
    return 0;
}

/* Computes column `dc` over `b` into dc->res, noting its row errors. */
static int
compute(struct derived *d, struct df_exec *x, struct derived_col *dc,
        const struct df_buffer *b, struct werr *err)
{
    const struct expr_col *cols = df_expr_cols(x, b);
    const struct df_column *col = dc->col;
    struct expr_col tmp;

    if (expr_eval_batch(dc->e->expr, cols, b->layout->nslots, b->nrows,
                        &dc->res, d->re.errs, err) < 0)
        return -1;
    df_rowerr_add_batch(&d->re, d->re.errs, b->nrows, DF_E_EXPRESSION, col->id,
                        col->error_disp, col->trunc_disp);
    if (!dc->cast)
        return 0;
    tmp = dc->res;
    if (df_cast_run(dc->cast, &tmp, b->nrows, &dc->res, d->re.errs, err) < 0)
        return -1;
    df_rowerr_add_batch(&d->re, d->re.errs, b->nrows, DF_E_CONVERSION, col->id,
                        col->error_disp, col->trunc_disp);
    return 0;
}

static int
derived_process(struct df_exec *x, struct df_component *c, struct df_input *in,
                struct df_buffer *b, struct werr *err)
{
    struct derived *d = c->state;
    size_t i;

    (void)in;
    df_buffer_own(&b);
    df_rowerr_reserve(&d->re, b->nrows);
    for (i = 0; i < d->ncols; i++)
        if (compute(d, x, &d->cols[i], b, err) < 0)
            goto fail;
    for (i = 0; i < d->ncols; i++)
        df_store_col(b, d->cols[i].col->slot, &d->cols[i].res);
    if (df_rowerr_apply(&d->re, x, c, &b, err) < 0)
        goto fail;
    if (!d->out) {
        df_buffer_unref(b);
        return 0;
    }
    return df_send(x, d->out, b, err);
fail:
    df_rowerr_clear(&d->re, b->nrows);
    df_buffer_unref(b);
    return -1;
}

static void
derived_cleanup(struct df_exec *x, struct df_component *c)
{
    (void)x;
    derived_free(c->state);
    c->state = NULL;
}

const struct df_component_ops df_derived_ops = {
    .class_id = "Microsoft.DerivedColumn",
    .validate = derived_validate,
    .pre_execute = derived_pre_execute,
    .process = derived_process,
    .cleanup = derived_cleanup,
};
