/*
 * Scalar kernels of the operators.  The checker has already converted
 * both operands to one type (exact decimals keep their own scales), so a
 * kernel only switches on that type.  Integer overflow, division by zero
 * and non-finite real results are runtime errors, never undefined
 * behaviour: arithmetic goes through __builtin_*_overflow and a result is
 * checked against the range of its (possibly narrow) type.
 */
#include <math.h>
#include <string.h>

#include "base/banned.h"
#include "expr/expr_int.h"

static const char *
sym(int op)
{
    switch (op) {
    case OP_ADD:
        return "+";
    case OP_SUB:
    case OP_NEG:
        return "-";
    case OP_MUL:
        return "*";
    case OP_DIV:
        return "/";
    case OP_MOD:
        return "%";
    default:
        return "?";
    }
}

static int
overflow(struct ectx *cx, const struct expr_node *n)
{
    return expr_fail(cx, n, EXPR_ROW_ERROR,
                     "arithmetic overflow in '%s': the result does not fit "
                     "%s",
                     sym(n->op), expr_dt_name(n->type.dt));
}

static int
div_zero(struct ectx *cx, const struct expr_node *n)
{
    return expr_fail(cx, n, EXPR_ROW_ERROR, "division by zero in '%s'",
                     sym(n->op));
}

/* ----------------------------------------------------------- integers */

static int
fits_signed(enum expr_dt dt, int64_t v)
{
    int64_t min;
    uint64_t max;

    expr_dt_int_range(dt, &min, &max);
    return v >= min && (v < 0 || (uint64_t)v <= max);
}

static int
arith_signed(struct ectx *cx, const struct expr_node *n, int64_t a, int64_t b,
             struct expr_value *out)
{
    int64_t r;
    bool ovf = false;

    switch (n->op) {
    case OP_ADD:
        ovf = __builtin_add_overflow(a, b, &r);
        break;
    case OP_SUB:
        ovf = __builtin_sub_overflow(a, b, &r);
        break;
    case OP_MUL:
        ovf = __builtin_mul_overflow(a, b, &r);
        break;
    default: /* / and %: truncation toward zero, as C and SSIS */
        if (b == 0)
            return div_zero(cx, n);
        if (a == INT64_MIN && b == -1) {
            ovf = n->op == OP_DIV;
            r = 0;
        } else {
            r = n->op == OP_DIV ? a / b : a % b;
        }
        break;
    }
    if (ovf || !fits_signed(n->type.dt, r))
        return overflow(cx, n);
    out->v.i = r;
    return 0;
}

static int
arith_unsigned(struct ectx *cx, const struct expr_node *n, uint64_t a,
               uint64_t b, struct expr_value *out)
{
    int64_t min;
    uint64_t max, r;
    bool ovf = false;

    switch (n->op) {
    case OP_ADD:
        ovf = __builtin_add_overflow(a, b, &r);
        break;
    case OP_SUB:
        ovf = __builtin_sub_overflow(a, b, &r);
        break;
    case OP_MUL:
        ovf = __builtin_mul_overflow(a, b, &r);
        break;
    default:
        if (b == 0)
            return div_zero(cx, n);
        r = n->op == OP_DIV ? a / b : a % b;
        break;
    }
    expr_dt_int_range(n->type.dt, &min, &max);
    if (ovf || r > max)
        return overflow(cx, n);
    out->v.u = r;
    return 0;
}

/* -------------------------------------------------------------- reals */

static int
arith_real(struct ectx *cx, const struct expr_node *n, double a, double b,
           struct expr_value *out)
{
    double r;

    switch (n->op) {
    case OP_ADD:
        r = a + b;
        break;
    case OP_SUB:
        r = a - b;
        break;
    case OP_MUL:
        r = a * b;
        break;
    default:
        if (b == 0)
            return div_zero(cx, n);
        r = a / b;
        break;
    }
    /* Out of float's range the conversion would be undefined behaviour:
     * check first. */
    if (!isfinite(r) ||
        (n->type.dt == EXPR_DT_R4 && fabs(r) > 3.4028234663852886e38))
        return overflow(cx, n);
    if (n->type.dt == EXPR_DT_R4)
        r = (double)(float)r;
    if (!isfinite(r))
        return overflow(cx, n);
    out->v.r = r;
    return 0;
}

/* ----------------------------------------------------- currency, decimals */

/* Divides rounding half away from zero. */
static expr_i128
div_round(expr_i128 a, expr_i128 b)
{
    expr_i128 q = a / b, r = a % b;
    expr_i128 ar = r < 0 ? -r : r, ab = b < 0 ? -b : b;

    if (ar >= ab - ar)
        q += (a < 0) != (b < 0) ? -1 : 1;
    return q;
}

/* |a * b| when it stays below 10^38, else -1. */
static int
mul_dec(expr_i128 a, expr_i128 b, expr_i128 *out)
{
    expr_i128 aa = a < 0 ? -a : a, ab = b < 0 ? -b : b;

    if (aa != 0 && ab > (expr_pow10[EXPR_DEC_MAXP] - 1) / aa)
        return -1;
    *out = a * b;
    return 0;
}

static int
arith_cy(struct ectx *cx, const struct expr_node *n, int64_t a, int64_t b,
         struct expr_value *out)
{
    expr_i128 r;

    switch (n->op) {
    case OP_ADD:
    case OP_SUB:
        return arith_signed(cx, n, a, b, out);
    case OP_MUL:
        r = div_round((expr_i128)a * b, 10000);
        break;
    default:
        if (b == 0)
            return div_zero(cx, n);
        r = div_round((expr_i128)a * 10000, b);
        break;
    }
    if (r < INT64_MIN || r > INT64_MAX)
        return overflow(cx, n);
    out->v.i = (int64_t)r;
    return 0;
}

static int
arith_numeric(struct ectx *cx, const struct expr_node *n,
              const struct expr_value *a, const struct expr_value *b,
              struct expr_value *out)
{
    int sa = a->type.scale, sb = b->type.scale, so = n->type.scale, s;
    expr_i128 x = a->v.dec, y = b->v.dec, r;

    switch (n->op) {
    case OP_ADD:
    case OP_SUB:
        s = sa > sb ? sa : sb;
        if (expr_dec_rescale(x, sa, s, &x) < 0 ||
            expr_dec_rescale(y, sb, s, &y) < 0)
            return overflow(cx, n);
        /* Two 38-digit mantissas can sum past 2^127. */
        if ((n->op == OP_ADD ? __builtin_add_overflow(x, y, &r)
                             : __builtin_sub_overflow(x, y, &r)) ||
            expr_dec_rescale(r, s, so, &r) < 0)
            return overflow(cx, n);
        break;
    case OP_MUL:
        if (mul_dec(x, y, &r) < 0 || expr_dec_rescale(r, sa + sb, so, &r) < 0)
            return overflow(cx, n);
        break;
    default:
        if (y == 0)
            return div_zero(cx, n);
        /* x / y at scale so: scale x up by so - sa + sb digits first. */
        s = so - sa + sb;
        if (s >= 0) {
            if (expr_dec_rescale(x, 0, s, &x) < 0)
                return overflow(cx, n);
        } else if (expr_dec_rescale(y, 0, -s, &y) < 0) {
            return overflow(cx, n);
        }
        r = div_round(x, y);
        break;
    }
    if (!expr_dec_fits(r, n->type.precision))
        return overflow(cx, n);
    out->v.dec = r;
    return 0;
}

static int
kern_arith(struct ectx *cx, const struct expr_node *n,
           const struct expr_value *a, struct expr_value *out)
{
    enum expr_dt dt = n->type.dt;

    if (expr_dt_is_signed_int(dt))
        return arith_signed(cx, n, a[0].v.i, a[1].v.i, out);
    if (expr_dt_is_unsigned_int(dt))
        return arith_unsigned(cx, n, a[0].v.u, a[1].v.u, out);
    if (dt == EXPR_DT_R4 || dt == EXPR_DT_R8)
        return arith_real(cx, n, a[0].v.r, a[1].v.r, out);
    if (dt == EXPR_DT_CY)
        return arith_cy(cx, n, a[0].v.i, a[1].v.i, out);
    return arith_numeric(cx, n, &a[0], &a[1], out);
}

/* ------------------------------------------------------- concatenation */

static int
kern_concat(struct ectx *cx, const struct expr_node *n,
            const struct expr_value *a, struct expr_value *out)
{
    size_t la = a[0].v.s.len, lb = a[1].v.s.len;
    char *p = expr_scratch_str(cx, n, la + lb);

    if (!p)
        return -1;
    if (la)
        memcpy(p, a[0].v.s.p, la);
    if (lb)
        memcpy(p + la, a[1].v.s.p, lb);
    out->v.s.p = p;
    out->v.s.len = la + lb;
    return 0;
}

/* --------------------------------------------------------- comparisons */

int
expr_dec_cmp(expr_i128 a, int sa, expr_i128 b, int sb)
{
    int s = sa > sb ? sa : sb;

    /* When raising a scale overflows, that side is the larger in size. */
    if (expr_dec_rescale(a, sa, s, &a) < 0)
        return a < 0 ? -1 : 1;
    if (expr_dec_rescale(b, sb, s, &b) < 0)
        return b < 0 ? 1 : -1;
    return a < b ? -1 : a > b;
}

static int64_t
utc_ticks(const struct expr_value *v)
{
    if (v->type.dt == EXPR_DT_DBTIMESTAMPOFFSET)
        return v->v.dto.ticks -
               (int64_t)v->v.dto.offset * 60 * EXPR_TICKS_PER_SEC;
    return v->v.t;
}

static int
sv_cmp(struct expr_sv a, struct expr_sv b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int r = n ? memcmp(a.p, b.p, n) : 0;

    return r ? r : (a.len < b.len ? -1 : a.len > b.len);
}

/* <0, 0, >0 for two values of comparable types. */
int
expr_value_cmp(const struct expr_value *a, const struct expr_value *b)
{
    enum expr_dt dt = a->type.dt;

    if (expr_dt_is_signed_int(dt) || dt == EXPR_DT_CY)
        return a->v.i < b->v.i ? -1 : a->v.i > b->v.i;
    if (expr_dt_is_unsigned_int(dt))
        return a->v.u < b->v.u ? -1 : a->v.u > b->v.u;
    if (dt == EXPR_DT_R4 || dt == EXPR_DT_R8)
        return a->v.r < b->v.r ? -1 : a->v.r > b->v.r;
    if (expr_dt_is_decimal(dt))
        return expr_dec_cmp(a->v.dec, a->type.scale, b->v.dec, b->type.scale);
    if (expr_dt_is_string(dt))
        return expr_str_cmp(a->v.s.p, a->v.s.len, b->v.s.p, b->v.s.len);
    if (expr_dt_is_date(dt)) {
        int64_t x = utc_ticks(a), y = utc_ticks(b);

        return x < y ? -1 : x > y;
    }
    if (dt == EXPR_DT_BOOL)
        return a->v.b != b->v.b;
    if (dt == EXPR_DT_GUID)
        return memcmp(a->v.guid.b, b->v.guid.b, 16);
    return sv_cmp(a->v.s, b->v.s);
}

bool
expr_cmp_holds(int op, int r)
{
    switch (op) {
    case OP_LT:
        return r < 0;
    case OP_GT:
        return r > 0;
    case OP_LE:
        return r <= 0;
    case OP_GE:
        return r >= 0;
    case OP_EQ:
        return r == 0;
    default:
        return r != 0;
    }
}

static int
kern_compare(struct ectx *cx, const struct expr_node *n,
             const struct expr_value *a, struct expr_value *out)
{
    const struct expr_value *x = &a[0], *y = &a[1];

    /* Equality of strings needs no ordering: compare bytes. */
    if ((n->op == OP_EQ || n->op == OP_NE) && expr_dt_is_string(x->type.dt))
        out->v.b =
            (x->v.s.len == y->v.s.len &&
             (x->v.s.len == 0 ||
              memcmp(x->v.s.p, y->v.s.p, x->v.s.len) == 0)) == (n->op == OP_EQ);
    else
        out->v.b = expr_cmp_holds(n->op, expr_value_cmp(x, y));
    return 0;
}

/* ------------------------------------------------------------- bitwise */

static uint64_t
width_mask(enum expr_dt dt)
{
    int w = expr_dt_int_width(dt);

    return w == 8 ? UINT64_MAX : (UINT64_C(1) << (w * 8)) - 1;
}

static int
kern_bitwise(struct ectx *cx, const struct expr_node *n,
             const struct expr_value *a, struct expr_value *out)
{
    uint64_t x = a[0].v.u, y = a[1].v.u, r;

    /* Signed values are held sign-extended in int64_t, so the bitwise
     * result of two of them stays in range; unsigned ones are masked. */
    r = n->op == OP_BITAND ? x & y : n->op == OP_BITOR ? x | y : x ^ y;
    out->v.u = r;
    return 0;
}

/* --------------------------------------------------------------- unary */

static int
kern_unary(struct ectx *cx, const struct expr_node *n,
           const struct expr_value *a, struct expr_value *out)
{
    enum expr_dt dt = n->type.dt;

    if (n->op == OP_NOT) {
        out->v.b = !a->v.b;
        return 0;
    }
    if (n->op == OP_BITNOT) {
        if (expr_dt_is_signed_int(dt))
            out->v.i = ~a->v.i;
        else
            out->v.u = ~a->v.u & width_mask(dt);
        return 0;
    }
    if (expr_dt_is_signed_int(dt) || dt == EXPR_DT_CY) {
        if (a->v.i == INT64_MIN || !fits_signed(dt, -a->v.i))
            return overflow(cx, n);
        out->v.i = -a->v.i;
    } else if (dt == EXPR_DT_R4 || dt == EXPR_DT_R8) {
        out->v.r = -a->v.r;
    } else {
        out->v.dec = -a->v.dec;
    }
    return 0;
}

int
expr_op_check(struct expr_compiler *c, struct expr_node *n)
{
    (void)c;
    switch (n->kind) {
    case N_UNARY:
        n->kern = kern_unary;
        break;
    case N_BINARY:
        switch (n->op) {
        case OP_ADD:
        case OP_SUB:
        case OP_MUL:
        case OP_DIV:
        case OP_MOD:
            n->kern = kern_arith;
            break;
        case OP_CONCAT:
            n->kern = kern_concat;
            break;
        case OP_BITAND:
        case OP_BITOR:
        case OP_BITXOR:
            n->kern = kern_bitwise;
            break;
        default:
            n->kern = kern_compare;
            break;
        }
        break;
    default:
        break;
    }
    return 0;
}
