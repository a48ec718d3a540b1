/*
 * The batch evaluator: every node computes its value for the whole batch
 * into a vector before its parent runs, so the tree is walked once per
 * batch, not once per row.  A node's vector holds the node's type in the
 * layout of struct expr_col, with a byte per row for NULL; a column node
 * borrows the caller's vector without copying, a literal is filled once
 * and kept across batches.
 *
 * Which rows a node must compute is given by an activity mask: the
 * branches of ?: and the right side of && and || only run for the rows
 * that need them, so a failure on a row that does not use the result (a
 * division by zero in the branch not taken) is not reported, exactly as
 * in the row evaluator.  Rows outside the mask are "don't care", but every
 * row of every vector is written, so no kernel ever reads uninitialized
 * memory.
 *
 * Common cases (integer and real arithmetic and comparisons, logical
 * operators, integer and real casts, ISNULL, LEN, UPPER, LOWER, LEFT,
 * TRIM, concatenation) have typed loops in expr_vec.c; every other node
 * runs its scalar kernel row by row, which keeps the two evaluators in
 * agreement.
 */
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"
#include "base/xalloc.h"
#include "expr/expr_int.h"

static int
number_slots(struct expr_node *n, int next)
{
    n->slot = next++;
    n->bkern = expr_bkern_for(n);
    for (int i = 0; i < n->nargs; i++)
        next = number_slots(n->a[i], next);
    return next;
}

static void
size_vectors(struct expr *e, size_t nrows)
{
    size_t cap = e->vcap ? e->vcap : 256;

    if (!e->vecs) {
        e->nslots = number_slots(e->root, 0);
        e->vecs = xcalloc((size_t)e->nslots, sizeof(*e->vecs));
    }
    if (nrows <= e->vcap)
        return;
    while (cap < nrows)
        cap *= 2;
    free(e->zeros);
    free(e->ones);
    e->zeros = xcalloc(cap, 1);
    e->ones = xmalloc(cap);
    memset(e->ones, 1, cap);
    e->vcap = cap;
}

/* The node's own storage for at least nrows elements, zeroed when new. */
static void
own_vector(struct expr *e, struct bvec *v, const struct expr_node *n)
{
    size_t size = expr_dt_size(n->type.dt);

    if (v->cap >= e->vcap)
        return;
    if (v->cap)
        free(v->data);
    free(v->owned_nulls);
    v->data = xcalloc(e->vcap, size ? size : 1);
    v->owned_nulls = xcalloc(e->vcap, 1);
    v->cap = e->vcap;
    v->filled = 0;
}

int
expr_batch_row_fail(struct bctx *bx, size_t row)
{
    if (!bx->failed) {
        bx->failed = true;
        *bx->first = *bx->cx.err;
    }
    if (!bx->row_errs)
        return -1;
    if (!bx->row_errs[row])
        bx->row_errs[row] = (uint8_t)bx->cx.kind;
    return 0;
}

static const uint8_t *
all_active(struct bctx *bx, const uint8_t *act)
{
    return act ? act : bx->cx.e->ones;
}

/* ------------------------------------------------------ leaves and walk */

static int eval_vec(struct bctx *bx, const struct expr_node *n,
                    const uint8_t *act);

static void
fill(struct bctx *bx, struct bvec *v, const struct expr_value *val)
{
    for (size_t i = v->filled; i < bx->nrows; i++)
        expr_vec_store(v->data, v->owned_nulls, i, val);
    if (bx->nrows > v->filled)
        v->filled = bx->nrows;
    v->nulls = v->owned_nulls;
}

static int
eval_leaf(struct bctx *bx, const struct expr_node *n, struct bvec *v)
{
    struct expr *e = bx->cx.e;
    struct expr_value val;
    const struct expr_col *col;

    switch (n->kind) {
    case N_LIT:
        own_vector(e, v, n);
        fill(bx, v, &n->lit);
        return 0;
    case N_VAR:
        /* A variable does not change during a batch: read it once. */
        if (expr_eval_node(&bx->cx, n, &val) < 0) {
            bx->failed = true;
            *bx->first = *bx->cx.err;
            return -1;
        }
        own_vector(e, v, n);
        v->filled = 0;
        fill(bx, v, &val);
        v->filled = 0; /* strings of the value live in scratch */
        return 0;
    default: /* N_COL */
        if (n->bind.index < 0 || (size_t)n->bind.index >= bx->cx.ncols ||
            bx->cx.cols[n->bind.index].type.dt != n->type.dt) {
            bx->cx.row = 0;
            expr_eval_node(&bx->cx, n, &val); /* for its message */
            bx->failed = true;
            *bx->first = *bx->cx.err;
            return -1;
        }
        col = &bx->cx.cols[n->bind.index];
        v->data = (void *)col->data;
        v->nulls = col->nulls ? (uint8_t *)col->nulls : e->zeros;
        return 0;
    }
}

/* Rows of `act` where vector c is non-NULL and (not) `want`. */
static uint8_t *
mask_where(struct bctx *bx, const uint8_t *act, const struct bvec *c, bool want)
{
    uint8_t *m = expr_scratch(&bx->cx, bx->nrows);
    const uint8_t *b = c->data;

    act = all_active(bx, act);
    for (size_t i = 0; i < bx->nrows; i++)
        m[i] = act[i] & !c->nulls[i] & ((b[i] != 0) == want);
    return m;
}

static int
eval_logic(struct bctx *bx, const struct expr_node *n, const uint8_t *act,
           struct bvec *out)
{
    struct bvec *a = &bx->cx.e->vecs[n->a[0]->slot], *b;
    uint8_t decide = n->kind == N_OR, *rest, *o, *on;
    const uint8_t *x, *y;

    if (eval_vec(bx, n->a[0], act) < 0)
        return -1;
    /* The right side runs only where the left one does not decide. */
    rest = expr_scratch(&bx->cx, bx->nrows);
    x = a->data;
    {
        const uint8_t *ac = all_active(bx, act);

        for (size_t i = 0; i < bx->nrows; i++)
            rest[i] = ac[i] & (a->nulls[i] | (x[i] != decide));
    }
    if (eval_vec(bx, n->a[1], rest) < 0)
        return -1;
    b = &bx->cx.e->vecs[n->a[1]->slot];
    y = b->data;
    o = out->data;
    on = out->owned_nulls;
    for (size_t i = 0; i < bx->nrows; i++) {
        uint8_t ad = !a->nulls[i] & (x[i] == decide);
        uint8_t bd = rest[i] & !b->nulls[i] & (y[i] == decide);

        o[i] = (ad | bd) ? decide : !decide;
        on[i] =
            (uint8_t)((!(ad | bd)) & (a->nulls[i] | (rest[i] & b->nulls[i])));
    }
    out->nulls = on;
    return 0;
}

static int
eval_cond(struct bctx *bx, const struct expr_node *n, const uint8_t *act,
          struct bvec *out)
{
    struct expr *e = bx->cx.e;
    struct bvec *c = &e->vecs[n->a[0]->slot], *t, *f;
    uint8_t *mt, *mf;
    size_t size = expr_dt_size(n->type.dt);
    const uint8_t *cv;

    if (eval_vec(bx, n->a[0], act) < 0)
        return -1;
    mt = mask_where(bx, act, c, true);
    mf = mask_where(bx, act, c, false);
    if (eval_vec(bx, n->a[1], mt) < 0 || eval_vec(bx, n->a[2], mf) < 0)
        return -1;
    t = &e->vecs[n->a[1]->slot];
    f = &e->vecs[n->a[2]->slot];
    cv = c->data;
    for (size_t i = 0; i < bx->nrows; i++)
        out->owned_nulls[i] = c->nulls[i] | (cv[i] ? t->nulls[i] : f->nulls[i]);
    out->nulls = out->owned_nulls;
    /* A select per element size, so the common widths become a plain
     * (vectorizable) loop instead of a memcpy call per row. */
#define SELECT(T)                                                              \
    do {                                                                       \
        const T *x = t->data, *y = f->data;                                    \
        T *o = out->data;                                                      \
        for (size_t i = 0; i < bx->nrows; i++)                                 \
            o[i] = cv[i] ? x[i] : y[i];                                        \
    } while (0)
    switch (size) {
    case 1:
        SELECT(uint8_t);
        break;
    case 2:
        SELECT(uint16_t);
        break;
    case 4:
        SELECT(uint32_t);
        break;
    case 8:
        SELECT(uint64_t);
        break;
    case sizeof(struct expr_sv):
        SELECT(struct expr_sv);
        break;
    default:
        for (size_t i = 0; i < bx->nrows; i++)
            memcpy((char *)out->data + i * size,
                   (const char *)(cv[i] ? t : f)->data + i * size, size);
        break;
    }
#undef SELECT
    return 0;
}

/* Any node without a typed loop: its scalar kernel, row by row. */
int
expr_batch_generic(struct bctx *bx, const struct expr_node *n,
                   const uint8_t *act, struct bvec *const *args,
                   struct bvec *out)
{
    struct expr_value a[EXPR_MAX_ARGS], r;
    const uint8_t *ac = all_active(bx, act);

    for (size_t i = 0; i < bx->nrows; i++) {
        bool null = false;

        if (!ac[i]) {
            out->owned_nulls[i] = 1;
            continue;
        }
        for (int k = 0; k < n->nargs; k++) {
            expr_vec_load(&n->a[k]->type, args[k]->data, args[k]->nulls, i,
                          &a[k]);
            null |= a[k].null;
        }
        memset(&r, 0, sizeof(r));
        r.type = n->type;
        if (null && !n->nulls_in) {
            r.null = true;
        } else if (n->kern(&bx->cx, n, a, &r) < 0) {
            if (expr_batch_row_fail(bx, i) < 0)
                return -1;
            memset(&r, 0, sizeof(r));
            r.type = n->type;
            r.null = true;
        }
        expr_vec_store(out->data, out->owned_nulls, i, &r);
    }
    out->nulls = out->owned_nulls;
    return 0;
}

static int
eval_vec(struct bctx *bx, const struct expr_node *n, const uint8_t *act)
{
    struct expr *e = bx->cx.e;
    struct bvec *out = &e->vecs[n->slot], *args[EXPR_MAX_ARGS];

    if (n->kind == N_LIT || n->kind == N_VAR || n->kind == N_COL)
        return eval_leaf(bx, n, out);
    own_vector(e, out, n);
    if (n->kind == N_AND || n->kind == N_OR)
        return eval_logic(bx, n, act, out);
    if (n->kind == N_COND)
        return eval_cond(bx, n, act, out);
    for (int i = 0; i < n->nargs; i++) {
        if (eval_vec(bx, n->a[i], act) < 0)
            return -1;
        args[i] = &e->vecs[n->a[i]->slot];
    }
    if (n->bkern)
        return n->bkern(bx, n, args, act, out);
    return expr_batch_generic(bx, n, act, args, out);
}

int
expr_eval_batch(struct expr *e, const struct expr_col *cols, size_t ncols,
                size_t nrows, struct expr_col *out, uint8_t *row_errs,
                struct werr *err)
{
    struct bctx bx;
    struct werr scratch_err;
    struct bvec *root;

    werr_clear(err);
    if (row_errs && nrows)
        memset(row_errs, 0, nrows);
    size_vectors(e, nrows ? nrows : 1);
    expr_arena_reset(&e->scratch);
    memset(&bx, 0, sizeof(bx));
    bx.cx.e = e;
    bx.cx.cols = cols;
    bx.cx.ncols = ncols;
    bx.cx.err = &scratch_err;
    bx.first = err;
    bx.nrows = nrows;
    bx.row_errs = row_errs;
    werr_clear(&scratch_err);
    if (eval_vec(&bx, e->root, NULL) < 0)
        return -1;
    root = &e->vecs[e->root->slot];
    out->type = e->root->type;
    out->data = root->data;
    out->nulls = root->nulls;
    return 0;
}
