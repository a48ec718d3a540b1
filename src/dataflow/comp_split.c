/*
 * Conditional Split (Microsoft.ConditionalSplit): each case output has a
 * Boolean Expression and an EvaluationOrder; a row goes to the first case,
 * in that order, whose expression is true, else to the default output
 * (IsDefaultOut).  A case that evaluates to NULL or fails is a row error
 * (DF_E_CONDITION), handled with the input's error disposition; a row
 * whose error is ignored goes to the default output.
 *
 * Every case is evaluated over the whole buffer (one batch per case, no
 * per-row calls); routing then makes one row list per output and copies
 * those rows into a buffer of the same layout per output, except when all
 * rows go one way, where the buffer itself moves on.
 */
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "dataflow/xform.h"
#include "base/banned.h"

struct split_case {
    struct df_output *out;
    struct df_expr *e;
    int64_t order;
    struct expr_col res;
    uint8_t *errs;
};

struct split {
    struct split_case *cases;
    size_t ncases;
    struct df_output *dflt;   /* may be NULL: unmatched rows vanish */
    enum df_disposition disp; /* for condition errors */
    uint32_t **rows;          /* per case, then the default output */
    size_t *nrows;
    size_t cap;
    struct df_rowerr re;
};

static void
split_free(struct split *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; i < s->ncases; i++) {
        df_expr_free(s->cases[i].e);
        free(s->cases[i].errs);
    }
    for (i = 0; s->rows && i <= s->ncases; i++)
        free(s->rows[i]);
    free(s->rows);
    free(s->nrows);
    free(s->cases);
    df_rowerr_release(&s->re);
    free(s);
}

static int
by_order(const void *a, const void *b)
{
    const struct split_case *x = a, *y = b;

    return (x->order > y->order) - (x->order < y->order);
}

static int
add_case(struct df_exec *x, struct df_component *c, struct split *s,
         struct df_output *o, struct werr *err)
{
    const char *text = df_prop(o->props, o->nprops, "Expression");
    struct split_case *k;

    if (!text || !*text)
        text = df_prop(o->props, o->nprops, "FriendlyExpression");
    if (!text || !*text)
        return werr_set(err, WERR_INVALID, "output '%s' has no Expression",
                        o->name);
    k = &s->cases[s->ncases++];
    k->out = o;
    k->order =
        df_prop_int(o->props, o->nprops, "EvaluationOrder", (int64_t)s->ncases);
    k->e = df_expr_compile(x, c, &c->inputs[0], text, 0, err);
    if (!k->e)
        return werr_prefix(err, "output '%s'", o->name);
    if (expr_result_type(k->e->expr)->dt != EXPR_DT_BOOL)
        return werr_set(err, WERR_INVALID,
                        "output '%s': expression \"%s\" is not Boolean",
                        o->name, text);
    return 0;
}

static struct split *
split_build(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct split *s = xcalloc(1, sizeof(*s));
    size_t i;

    if (c->ninputs != 1) {
        werr_set(err, WERR_INVALID, "expects one input");
        goto fail;
    }
    s->disp = c->inputs[0].error_disp;
    s->cases = xcalloc(c->noutputs ? c->noutputs : 1, sizeof(*s->cases));
    for (i = 0; i < c->noutputs; i++) {
        struct df_output *o = &c->outputs[i];
        if (o->is_error)
            continue;
        if (df_prop_bool(o->props, o->nprops, "IsDefaultOut", false))
            s->dflt = o;
        else if (add_case(x, c, s, o, err) < 0)
            goto fail;
    }
    qsort(s->cases, s->ncases, sizeof(*s->cases), by_order);
    s->rows = xcalloc(s->ncases + 1, sizeof(*s->rows));
    s->nrows = xcalloc(s->ncases + 1, sizeof(*s->nrows));
    return s;
fail:
    split_free(s);
    return NULL;
}

static int
split_validate(struct df_exec *x, struct df_component *c, struct wbuf *problems)
{
    struct werr err = {0};
    struct split *s = split_build(x, c, &err);

    if (!s)
        return df_problem(problems, c, "%s", err.msg);
    split_free(s);
    return 0;
}

static int
split_pre_execute(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct split *s = split_build(x, c, err);

    if (!s)
        return werr_prefix(err, "component '%s'", c->name);
    c->state = s;
    return 0;
}

static void
reserve(struct split *s, size_t rows)
{
    size_t i;

    df_rowerr_reserve(&s->re, rows);
    if (rows <= s->cap)
        return;
    for (i = 0; i <= s->ncases; i++) {
        s->rows[i] = xrealloc(s->rows[i], rows * sizeof(uint32_t));
        if (i < s->ncases)
            s->cases[i].errs = xrealloc(s->cases[i].errs, rows);
    }
    s->cap = rows;
}

/* Routes row `r`: the index of its case, ncases for the default output,
 * or -1 for a row error (recorded). */
static long
route(struct split *s, size_t r)
{
    size_t k;

    for (k = 0; k < s->ncases; k++) {
        const struct split_case *sc = &s->cases[k];
        if (sc->errs[r] || sc->res.nulls[r]) {
            df_rowerr_add(&s->re, r, DF_E_CONDITION, 0, s->disp);
            return s->re.disp[r] == DF_DISP_IGNORE ? (long)s->ncases : -1;
        }
        if (((const uint8_t *)sc->res.data)[r])
            return (long)k;
    }
    return (long)s->ncases;
}

static int
send_rows(struct df_exec *x, struct df_output *o, const struct df_buffer *b,
          const uint32_t *rows, size_t n, struct werr *err)
{
    struct df_buffer *nb;

    if (!o || n == 0 || !o->to)
        return 0;
    nb = df_buffer_new_like(b);
    df_buffer_copy_rows(nb, b, rows, n);
    return df_send(x, o, nb, err);
}

/* Sends each output its rows; `b` stays the caller's. */
static int
distribute(struct split *s, struct df_exec *x, const struct df_buffer *b,
           struct werr *err)
{
    size_t k;

    for (k = 0; k <= s->ncases; k++) {
        struct df_output *o = k < s->ncases ? s->cases[k].out : s->dflt;
        if (send_rows(x, o, b, s->rows[k], s->nrows[k], err) < 0)
            return -1;
    }
    return 0;
}

static int
evaluate(struct split *s, struct df_exec *x, const struct df_buffer *b,
         struct werr *err)
{
    const struct expr_col *cols = df_expr_cols(x, b);
    size_t k, r;

    memset(s->nrows, 0, (s->ncases + 1) * sizeof(*s->nrows));
    for (k = 0; k < s->ncases; k++)
        if (expr_eval_batch(s->cases[k].e->expr, cols, b->layout->nslots,
                            b->nrows, &s->cases[k].res, s->cases[k].errs,
                            err) < 0)
            return -1;
    for (r = 0; r < b->nrows; r++) {
        long d = route(s, r);
        if (d >= 0)
            s->rows[d][s->nrows[d]++] = (uint32_t)r;
    }
    return 0;
}

/* The output all of the buffer's rows go to, or NULL. */
static struct df_output *
single_output(struct split *s, size_t nrows)
{
    size_t k;

    if (s->re.n)
        return NULL;
    for (k = 0; k <= s->ncases; k++)
        if (s->nrows[k] == nrows)
            return k < s->ncases ? s->cases[k].out : s->dflt;
    return NULL;
}

static int
split_process(struct df_exec *x, struct df_component *c, struct df_input *in,
              struct df_buffer *b, struct werr *err)
{
    struct split *s = c->state;
    struct df_output *one;

    (void)in;
    reserve(s, b->nrows);
    if (evaluate(s, x, b, err) < 0)
        goto fail;
    one = b->nrows ? single_output(s, b->nrows) : NULL;
    if (one && one->to)
        return df_send(x, one, b, err);
    if (one || b->nrows == 0) {
        df_buffer_unref(b);
        return 0;
    }
    /* A failing row fails before any row moves on. */
    if (s->re.n && s->disp != DF_DISP_REDIRECT && s->disp != DF_DISP_IGNORE)
        goto errors;
    if (distribute(s, x, b, err) < 0)
        goto fail;
errors:
    if (s->re.n)
        df_buffer_own(&b);
    if (df_rowerr_apply(&s->re, x, c, &b, err) < 0)
        goto fail;
    df_buffer_unref(b);
    return 0;
fail:
    df_rowerr_clear(&s->re, b->nrows);
    df_buffer_unref(b);
    return -1;
}

static void
split_cleanup(struct df_exec *x, struct df_component *c)
{
    (void)x;
    split_free(c->state);
    c->state = NULL;
}

const struct df_component_ops df_split_ops = {
    .class_id = "Microsoft.ConditionalSplit",
    .validate = split_validate,
    .pre_execute = split_pre_execute,
    .process = split_process,
    .cleanup = split_cleanup,
};
