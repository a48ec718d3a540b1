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
    size_t nr = bx->nrows;
    for (size_t i = v->filled; i < nr; i++)
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

/* Rows of `act` where vector c is non-NULL and TRUE (mt) or FALSE (mf). */
static void
branch_masks(struct bctx *bx, const uint8_t *act, const struct bvec *c,
             uint8_t **mt, uint8_t **mf)
{
    size_t nr = bx->nrows;
    const uint8_t *b = c->data, *cn = c->nulls, *ac = all_active(bx, act);
    uint8_t *t = expr_scratch(&bx->cx, nr ? nr : 1);
    uint8_t *f = expr_scratch(&bx->cx, nr ? nr : 1);

    for (size_t i = 0; i < nr; i++) {
        uint8_t live = ac[i] & !cn[i], yes = b[i] != 0;

        t[i] = live & yes;
        f[i] = live & !yes;
    }
    *mt = t;
    *mf = f;
}

/* Whether evaluating a node can fail on some row: if not, it can run over
 * rows whose result is not used, and needs no mask of its own. */
static bool
may_fail(const struct expr_node *n)
{
    switch (n->kind) {
    case N_LIT:
    case N_COL:
    case N_VAR: /* read once per batch, whatever the mask */
        return false;
    case N_AND:
    case N_OR:
    case N_COND:
        break;
    case N_UNARY:
        if (n->op != OP_NOT)
            return true;
        break;
    case N_BINARY:
        if (n->op < OP_LT || n->op > OP_NE)
            return true;
        break;
    case N_CALL:
        if (n->op != F_ISNULL)
            return true;
        break;
    default:
        return true;
    }
    for (int i = 0; i < n->nargs; i++)
        if (may_fail(n->a[i]))
            return true;
    return false;
}

static int
eval_logic(struct bctx *bx, const struct expr_node *n, const uint8_t *act,
           struct bvec *out)
{
    size_t nr = bx->nrows;
    struct bvec *a = &bx->cx.e->vecs[n->a[0]->slot], *b;
    uint8_t decide = n->kind == N_OR, *rest, *o, *on;
    const uint8_t *x, *y, *an, *bn, *ac = all_active(bx, act);

    if (eval_vec(bx, n->a[0], act) < 0)
        return -1;
    /* The right side runs only where the left one does not decide. */
    rest = expr_scratch(&bx->cx, nr ? nr : 1);
    x = a->data;
    an = a->nulls;
    for (size_t i = 0; i < nr; i++)
        rest[i] = ac[i] & (an[i] | ((x[i] != 0) != decide));
    if (eval_vec(bx, n->a[1], may_fail(n->a[1]) ? rest : act) < 0)
        return -1;
    b = &bx->cx.e->vecs[n->a[1]->slot];
    y = b->data;
    bn = b->nulls;
    o = out->data;
    on = out->owned_nulls;
    for (size_t i = 0; i < nr; i++) {
        uint8_t ad = !an[i] & ((x[i] != 0) == decide);
        uint8_t bd = rest[i] & !bn[i] & ((y[i] != 0) == decide);

        o[i] = (ad | bd) ? decide : !decide;
        on[i] = (uint8_t)((!(ad | bd)) & (an[i] | (rest[i] & bn[i])));
    }
    out->nulls = on;
    return 0;
}

/* out[i] = c[i] ? t[i] : f[i] for elements of `size` bytes. */
static void
select_rows(size_t nr, size_t size, const uint8_t *cv, const void *t,
            const void *f, void *out)
{
    /* Masks instead of a branch, so the common widths vectorize. */
#define SELECT(T)                                                              \
    do {                                                                       \
        const T *x = t, *y = f;                                                \
        T *o = out;                                                            \
        for (size_t i = 0; i < nr; i++) {                                      \
            T m = (T)((T)0 - (T)(cv[i] != 0));                                 \
            o[i] = (T)((x[i] & m) | (y[i] & (T)~m));                           \
        }                                                                      \
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
    default:
        for (size_t i = 0; i < nr; i++)
            memcpy((char *)out + i * size,
                   (const char *)(cv[i] ? t : f) + i * size, size);
        break;
    }
#undef SELECT
}

static int
eval_cond(struct bctx *bx, const struct expr_node *n, const uint8_t *act,
          struct bvec *out)
{
    size_t nr = bx->nrows;
    struct expr *e = bx->cx.e;
    struct bvec *c = &e->vecs[n->a[0]->slot], *t, *f;
    uint8_t *mt = NULL, *mf = NULL, *on = out->owned_nulls;
    const uint8_t *cv, *cn, *tn, *fn;

    if (eval_vec(bx, n->a[0], act) < 0)
        return -1;
    /* A branch that may fail runs only on the rows that choose it. */
    if (may_fail(n->a[1]) || may_fail(n->a[2]))
        branch_masks(bx, act, c, &mt, &mf);
    if (eval_vec(bx, n->a[1], mt ? mt : act) < 0 ||
        eval_vec(bx, n->a[2], mf ? mf : act) < 0)
        return -1;
    t = &e->vecs[n->a[1]->slot];
    f = &e->vecs[n->a[2]->slot];
    cv = c->data;
    cn = c->nulls;
    tn = t->nulls;
    fn = f->nulls;
    for (size_t i = 0; i < nr; i++) {
        uint8_t m = (uint8_t)(0 - (cv[i] != 0));

        on[i] = cn[i] | (tn[i] & m) | (fn[i] & (uint8_t)~m);
    }
    out->nulls = on;
    select_rows(nr, expr_dt_size(n->type.dt), cv, t->data, f->data, out->data);
    return 0;
}

/* Any node without a typed loop: its scalar kernel, row by row. */
int
expr_batch_generic(struct bctx *bx, const struct expr_node *n,
                   const uint8_t *act, struct bvec *const *args,
                   struct bvec *out)
{
    size_t nr = bx->nrows;
    struct expr_value a[EXPR_MAX_ARGS], r;
    const uint8_t *ac = all_active(bx, act);

    for (size_t i = 0; i < nr; i++) {
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
    warena_reset(&e->scratch);
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
