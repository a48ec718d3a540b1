/*
 * Vector loops for exact decimals (DT_NUMERIC, DT_DECIMAL): + - * between
 * decimals, comparisons, and casts from integers and decimals to a
 * decimal.  The scalar kernels (expr_ops.c, expr_conv.c) rescale and check
 * each value through generic helpers and a 128-bit division per product;
 * these loops hoist the scale factors out of the row loop and skip the
 * division when both factors fit 64 bits (their product is then below
 * 2^126 < 10^38, so it cannot overflow).
 *
 * As in expr_vec.c, a loop only flags a live row that may go wrong
 * (overflow past the precision, a rescale that rounds); if any did, the
 * whole node goes to expr_batch_generic, which gives the exact results and
 * messages.  A false alarm costs time, never a different answer.  Values
 * are made absolute in unsigned arithmetic, so whatever bytes a NULL row
 * holds cannot trigger undefined behaviour.
 */
#include <string.h>

#include "base/banned.h"
#include "expr/expr_int.h"

typedef unsigned __int128 u128;

static u128
mag(expr_i128 m)
{
    return m < 0 ? (u128)0 - (u128)m : (u128)m;
}

/* |m| < 2^63: the value is a product factor that needs no check. */
static int
small(expr_i128 m)
{
    return mag(m) < ((u128)1 << 63);
}

/* 10^d for 0 <= d <= 38, else 0 (callers check the range first). */
static expr_i128
p10(int d)
{
    return d >= 0 && d <= EXPR_DEC_MAXP ? expr_pow10[d] : 0;
}

/* 10^precision, the bound of a result as expr_dec_fits() checks it (0,
 * so every row falls back, for a precision that makes no sense). */
static u128
prec_bound(int precision)
{
    int p = precision > EXPR_DEC_MAXP ? EXPR_DEC_MAXP : precision;

    return p < 0 ? 0 : (u128)expr_pow10[p];
}

/* The bound of a cast's result: as to_dec checks it, 2^96 for DT_DECIMAL
 * and the precision for DT_NUMERIC. */
static u128
cast_bound(const struct expr_type *t)
{
    return t->dt == EXPR_DT_DECIMAL ? (u128)1 << 96 : prec_bound(t->precision);
}

/* Raises row values by `up` (10^k, k >= 0) where they stay below 10^38;
 * flags the rows where they would not. */
static void
raise_scale(const expr_i128 *x, size_t nr, expr_i128 up, expr_i128 *o,
            uint8_t *over)
{
    u128 lim = (u128)expr_pow10[EXPR_DEC_MAXP] / (u128)up;

    for (size_t i = 0; i < nr; i++) {
        uint8_t f = mag(x[i]) >= lim;

        over[i] = f;
        o[i] = f ? 0 : x[i] * up;
    }
}

/* ------------------------------------------------------------ + - * */

static uint8_t
add_sub(struct bctx *bx, const struct expr_node *n, const expr_i128 *x,
        const expr_i128 *y, const uint8_t *ac, const uint8_t *on, expr_i128 *o)
{
    int sa = n->a[0]->type.scale, sb = n->a[1]->type.scale;
    int s = sa > sb ? sa : sb;
    size_t nr = bx->nrows;
    expr_i128 *xs = expr_scratch(&bx->cx, nr * sizeof(*xs));
    expr_i128 *ys = expr_scratch(&bx->cx, nr * sizeof(*ys));
    uint8_t *fx = expr_scratch(&bx->cx, nr), *fy = expr_scratch(&bx->cx, nr);
    u128 lim = prec_bound(n->type.precision);
    u128 half = (u128)expr_pow10[EXPR_DEC_MAXP] / 2;
    bool sub = n->op == OP_SUB;
    uint8_t bad = 0;

    if (n->type.scale != s)
        return 1; /* a rounding result scale: the scalar kernel */
    raise_scale(x, nr, p10(s - sa), xs, fx);
    raise_scale(y, nr, p10(s - sb), ys, fy);
    for (size_t i = 0; i < nr; i++) {
        /* Each below 10^38 / 2 (else flagged): the sum fits; it is
         * computed unsigned so a flagged row cannot overflow. */
        u128 ux = (u128)xs[i], uy = (u128)ys[i];
        expr_i128 r = (expr_i128)(sub ? ux - uy : ux + uy);
        uint8_t f = fx[i] | fy[i] | (mag(xs[i]) >= half) |
                    (mag(ys[i]) >= half) | (mag(r) >= lim);

        bad |= (uint8_t)(f & ac[i] & !on[i]);
        o[i] = r;
    }
    return bad;
}

static uint8_t
mul(struct bctx *bx, const struct expr_node *n, const expr_i128 *x,
    const expr_i128 *y, const uint8_t *ac, const uint8_t *on, expr_i128 *o)
{
    int sp = n->a[0]->type.scale + n->a[1]->type.scale;
    u128 lim = prec_bound(n->type.precision);
    size_t nr = bx->nrows;
    uint8_t bad = 0;

    if (n->type.scale != sp)
        return 1;
    for (size_t i = 0; i < nr; i++) {
        uint8_t f = !(small(x[i]) & small(y[i]));
        expr_i128 r = f ? 0 : (expr_i128)(int64_t)x[i] * (int64_t)y[i];

        bad |= (uint8_t)((f | (mag(r) >= lim)) & ac[i] & !on[i]);
        o[i] = r;
    }
    return bad;
}

int
expr_vdec_arith(struct bctx *bx, const struct expr_node *n,
                struct bvec *const *args, const uint8_t *act, struct bvec *out)
{
    const expr_i128 *x = args[0]->data, *y = args[1]->data;
    const uint8_t *ac = expr_vec_live(bx, act);
    uint8_t *on = expr_vec_or_nulls(bx, n, args, out);
    uint8_t bad = n->op == OP_MUL ? mul(bx, n, x, y, ac, on, out->data)
                                  : add_sub(bx, n, x, y, ac, on, out->data);

    return bad ? expr_batch_generic(bx, n, act, args, out) : 0;
}

/* -------------------------------------------------------- comparisons */

int
expr_vdec_cmp(struct bctx *bx, const struct expr_node *n,
              struct bvec *const *args, const uint8_t *act, struct bvec *out)
{
    const expr_i128 *x = args[0]->data, *y = args[1]->data;
    int sa = n->a[0]->type.scale, sb = n->a[1]->type.scale, op = n->op;
    size_t nr = bx->nrows;
    uint8_t *o = out->data;

    (void)act;
    expr_vec_or_nulls(bx, n, args, out);
    if (sa != sb) {
        /* One side raised to the other's scale, in place of both. */
        expr_i128 *t = expr_scratch(&bx->cx, nr * sizeof(*t));
        uint8_t *over = expr_scratch(&bx->cx, nr);
        const expr_i128 *lo = sa < sb ? x : y;

        raise_scale(lo, nr, p10(sa < sb ? sb - sa : sa - sb), t, over);
        for (size_t i = 0; i < nr; i++) {
            int r = over[i]   ? expr_dec_cmp(x[i], sa, y[i], sb)
                    : sa < sb ? (t[i] > y[i]) - (t[i] < y[i])
                              : (x[i] > t[i]) - (x[i] < t[i]);

            o[i] = expr_cmp_holds(op, r);
        }
        return 0;
    }
    for (size_t i = 0; i < nr; i++)
        o[i] = expr_cmp_holds(op, (x[i] > y[i]) - (x[i] < y[i]));
    return 0;
}

/* -------------------------------------------------------------- casts */

/* Rows at scale `from` to `n`'s scale into o; non-zero if a live row
 * overflows or would need rounding (the scalar kernel rounds). */
static uint8_t
rescale_rows(struct bctx *bx, const struct expr_node *n, const expr_i128 *x,
             int from, const uint8_t *ac, const uint8_t *on, expr_i128 *o)
{
    int to = n->type.scale;
    size_t nr = bx->nrows;
    u128 lim = cast_bound(&n->type);
    uint8_t *over = expr_scratch(&bx->cx, nr ? nr : 1), bad = 0;

    if (to < from || to - from > EXPR_DEC_MAXP)
        return 1;
    raise_scale(x, nr, p10(to - from), o, over);
    for (size_t i = 0; i < nr; i++)
        bad |= (uint8_t)((over[i] | (mag(o[i]) >= lim)) & ac[i] & !on[i]);
    return bad;
}

int
expr_vdec_cast(struct bctx *bx, const struct expr_node *n,
               struct bvec *const *args, const uint8_t *act, struct bvec *out)
{
    enum expr_dt from = n->a[0]->type.dt;
    const uint8_t *ac = expr_vec_live(bx, act);
    uint8_t *on = expr_vec_or_nulls(bx, n, args, out);
    const expr_i128 *x = args[0]->data;
    int scale = 0;

    if (expr_dt_is_decimal(from)) {
        scale = n->a[0]->type.scale;
    } else {
        const int64_t *v = expr_vec_as_i64(bx, from, args[0]->data);
        expr_i128 *w = expr_scratch(&bx->cx, bx->nrows * sizeof(*w) + 1);

        for (size_t i = 0; i < bx->nrows; i++)
            w[i] = v[i];
        x = w;
    }
    if (rescale_rows(bx, n, x, scale, ac, on, out->data))
        return expr_batch_generic(bx, n, act, args, out);
    return 0;
}
