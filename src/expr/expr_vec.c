/*
 * Typed vector loops for the batch evaluator's common cases.  Each loop
 * computes every row (inactive and NULL rows too, on initialized data),
 * notes whether any live row went wrong (overflow, division by zero), and
 * if one did hands the whole node to expr_batch_generic, whose scalar
 * kernels produce the exact results and error messages.  Errors are rare,
 * so the loops stay branch-free and vectorizable.  Loop bounds and
 * operators are copied into locals first: a store through a uint8_t
 * pointer may alias anything, and the compiler would otherwise reload
 * them every row and give up vectorizing.
 */
#include <math.h>
#include <string.h>

#include "base/banned.h"
#include "expr/expr_int.h"

#define BK_ARGS                                                                \
    struct bctx *bx, const struct expr_node *n, struct bvec *const *args,      \
        const uint8_t *act, struct bvec *out

const uint8_t *
expr_vec_live(struct bctx *bx, const uint8_t *act)
{
    return act ? act : bx->cx.e->ones;
}

uint8_t *
expr_vec_or_nulls(struct bctx *bx, const struct expr_node *n, struct bvec *const *args,
         struct bvec *out)
{
    uint8_t *on = out->owned_nulls;
    const uint8_t *x = args[0]->nulls;
    size_t nr = bx->nrows;

    if (n->nargs == 1) {
        memcpy(on, x, nr);
    } else {
        const uint8_t *y = args[1]->nulls;

        for (size_t i = 0; i < nr; i++)
            on[i] = x[i] | y[i];
    }
    out->nulls = on;
    return on;
}

/* ------------------------------------------------- integer arithmetic */

/* Division and modulo (`op` hoisted: stores to `o` could alias the node,
 * so the compiler would reload n->op every row). */
#define DIV_LOOP(T, TMIN, SIGNED)                                              \
    for (size_t i = 0; i < nr; i++) {                                          \
        T d = y[i];                                                            \
        /* Zero and MIN / -1 would trap: flag, compute nothing. */             \
        int z = d == 0 || (SIGNED && d == (T)-1 && x[i] == TMIN);              \
        bad |= (uint8_t)(z & ac[i] & !on[i]);                                  \
        o[i] = z ? 0 : op == OP_DIV ? (T)(x[i] / d) : (T)(x[i] % d);           \
    }

/* One loop of an operation whose result `r` and overflow flag `f` EXPR
 * computes; kept free of branches so it vectorizes. */
#define ARITH_LOOP(T, STMT)                                                    \
    for (size_t i = 0; i < nr; i++) {                                          \
        uint8_t f;                                                             \
        T r;                                                                   \
        STMT;                                                                  \
        bad |= (uint8_t)(f & ac[i] & !on[i]);                                  \
        o[i] = r;                                                              \
    }

/*
 * One kernel for integer + - * / %: the prologue, the switch and the
 * fall-back are shared; ADD, SUB and MUL are ARITH_LOOP statements that
 * compute `r` and the overflow flag `f` for row i, so each width picks the
 * cheapest check that still vectorizes.
 */
#define INT_ARITH(NAME, T, TMIN, SIGNED, ADD, SUB, MUL)                        \
    static int NAME(BK_ARGS)                                                   \
    {                                                                          \
        const T *x = args[0]->data, *y = args[1]->data;                        \
        T *o = out->data;                                                      \
        const uint8_t *ac = expr_vec_live(bx, act);                                \
        uint8_t *on = expr_vec_or_nulls(bx, n, args, out);                              \
        size_t nr = bx->nrows;                                                 \
        int op = n->op;                                                        \
        uint8_t bad = 0;                                                       \
                                                                               \
        switch (op) {                                                          \
        case OP_ADD:                                                           \
            ARITH_LOOP(T, ADD)                                                 \
            break;                                                             \
        case OP_SUB:                                                           \
            ARITH_LOOP(T, SUB)                                                 \
            break;                                                             \
        case OP_MUL:                                                           \
            ARITH_LOOP(T, MUL)                                                 \
            break;                                                             \
        default:                                                               \
            DIV_LOOP(T, TMIN, SIGNED)                                          \
            break;                                                             \
        }                                                                      \
        return bad ? expr_batch_generic(bx, n, act, args, out) : 0;            \
    }

/*
 * Integers of 1 and 2 bytes: the operation in 32 bits (W int32_t or
 * uint32_t, where it cannot overflow; unsigned differences wrap to huge
 * values) and one unsigned range check.  32-bit lanes vectorize even with
 * plain SSE2, unlike __builtin_*_overflow.  4-byte integers multiply the
 * same way through 64 bits (W).
 */
#define IN_WIDER(OPR, T, W, CK, TMIN, TMAX)                                       \
    W w = (W)x[i] OPR(W) y[i];                                                 \
    f = (CK)(w - (W)TMIN) > (CK)((W)TMAX - (W)TMIN);                           \
    r = (T)w
#define SMALL_ARITH(NAME, T, W, TMIN, TMAX, SIGNED)                            \
    INT_ARITH(NAME, T, TMIN, SIGNED, IN_WIDER(+, T, W, uint32_t, TMIN, TMAX),     \
              IN_WIDER(-, T, W, uint32_t, TMIN, TMAX),                            \
              IN_WIDER(*, T, W, uint32_t, TMIN, TMAX))

/*
 * 4- and 8-byte integers: add and subtract wrap in the unsigned type U of
 * BITS bits and check the carry or the sign bits (vectorizable).
 */
#define WRAP_ADD(T, U, BITS, SIGNED)                                           \
    U u = (U)x[i] + (U)y[i];                                                   \
    f = SIGNED ? (uint8_t)((((U)x[i] ^ u) & ((U)y[i] ^ u)) >> (BITS - 1))      \
               : u < (U)x[i];                                                  \
    r = (T)u
#define WRAP_SUB(T, U, BITS, SIGNED)                                           \
    U u = (U)x[i] - (U)y[i];                                                   \
    f = SIGNED ? (uint8_t)((((U)x[i] ^ (U)y[i]) & ((U)x[i] ^ u)) >>            \
                           (BITS - 1))                                         \
               : (U)x[i] < (U)y[i];                                            \
    r = (T)u
#define MID_ARITH(NAME, T, W, TMIN, TMAX, SIGNED)                              \
    INT_ARITH(NAME, T, TMIN, SIGNED, WRAP_ADD(T, uint32_t, 32, SIGNED),        \
              WRAP_SUB(T, uint32_t, 32, SIGNED),                               \
              IN_WIDER(*, T, W, uint64_t, TMIN, TMAX))
/* 64-bit multiplication needs the builtin. */
#define WIDE_ARITH(NAME, T, TMIN, SIGNED)                                      \
    INT_ARITH(NAME, T, TMIN, SIGNED, WRAP_ADD(T, uint64_t, 64, SIGNED),        \
              WRAP_SUB(T, uint64_t, 64, SIGNED),                               \
              f = __builtin_mul_overflow(x[i], y[i], &r))

SMALL_ARITH(arith_i1, int8_t, int32_t, INT8_MIN, INT8_MAX, 1)
SMALL_ARITH(arith_i2, int16_t, int32_t, INT16_MIN, INT16_MAX, 1)
SMALL_ARITH(arith_u1, uint8_t, uint32_t, 0, UINT8_MAX, 0)
SMALL_ARITH(arith_u2, uint16_t, uint32_t, 0, UINT16_MAX, 0)
MID_ARITH(arith_i4_rows, int32_t, int64_t, INT32_MIN, INT32_MAX, 1)

/* The literal operand of a DT_I4 node (index k), if there is one. */
static bool
i4_literal(const struct expr_node *n, int k, int32_t *v)
{
    const struct expr_node *a = n->a[k];

    if (a->kind != N_LIT || a->lit.null)
        return false;
    *v = (int32_t)a->lit.v.i;
    return true;
}

/* x * c for a literal c: overflow is a comparison with precomputed bounds
 * and the product a wrapping 32-bit multiplication, both vectorizable. */
static int
i4_mul_const(BK_ARGS, int k, int32_t c)
{
    const int32_t *x = args[k]->data;
    int32_t *o = out->data;
    const uint8_t *ac = expr_vec_live(bx, act);
    uint8_t *on = expr_vec_or_nulls(bx, n, args, out);
    size_t nr = bx->nrows;
    int32_t lo = INT32_MIN, hi = INT32_MAX;
    uint8_t bad = 0;

    if (c > 0) {
        lo = INT32_MIN / c;
        hi = INT32_MAX / c;
    } else if (c == -1) {
        lo = -INT32_MAX;
    } else if (c < 0) {
        lo = INT32_MAX / c;
        hi = INT32_MIN / c;
    }
    for (size_t i = 0; i < nr; i++) {
        bad |= (uint8_t)((x[i] < lo || x[i] > hi) & ac[i] & !on[i]);
        o[i] = (int32_t)((uint32_t)x[i] * (uint32_t)c);
    }
    return bad ? expr_batch_generic(bx, n, act, args, out) : 0;
}

/*
 * x / d and x % d for a literal d (|d| >= 2), in doubles: for 32-bit
 * values the correctly rounded quotient x / d never crosses an integer
 * (its error is below 2^-21 / |d|, while a non-integer x / d is at least
 * 1 / |d| from one), so truncating it is C's integer division, and
 * x - q * d is exact.  Packed double division beats a scalar idiv per row.
 */
static int
i4_div_const(BK_ARGS, int32_t d)
{
    const int32_t *x = args[0]->data;
    int32_t *o = out->data;
    size_t nr = bx->nrows;
    double dd = d;

    expr_vec_or_nulls(bx, n, args, out);
    if (n->op == OP_DIV) {
        for (size_t i = 0; i < nr; i++)
            o[i] = (int32_t)((double)x[i] / dd);
    } else {
        for (size_t i = 0; i < nr; i++) {
            double q = (double)(int32_t)((double)x[i] / dd);

            o[i] = (int32_t)((double)x[i] - q * dd);
        }
    }
    return 0;
}

static int
arith_i4(BK_ARGS)
{
    int32_t c;

    if (n->op == OP_MUL && (i4_literal(n, 1, &c) || i4_literal(n, 0, &c)))
        return i4_mul_const(bx, n, args, act, out,
                            n->a[1]->kind == N_LIT ? 0 : 1, c);
    if ((n->op == OP_DIV || n->op == OP_MOD) && i4_literal(n, 1, &c) &&
        c != 0 && c != 1 && c != -1)
        return i4_div_const(bx, n, args, act, out, c);
    return arith_i4_rows(bx, n, args, act, out);
}
MID_ARITH(arith_u4, uint32_t, uint64_t, 0, UINT32_MAX, 0)
WIDE_ARITH(arith_i8, int64_t, INT64_MIN, 1)
WIDE_ARITH(arith_u8, uint64_t, 0, 0)

/* ---------------------------------------------------- real arithmetic */

/* The result in double, then checked against the type's range before it
 * is narrowed: a double out of float's range converted to float is
 * undefined behaviour in C, and an infinite result is an overflow. */
#define REAL_RESULT(T, TMAX, EXPR)                                             \
    double w = (EXPR);                                                         \
    f = !(w <= (TMAX) && w >= -(TMAX));                                        \
    r = f ? 0 : (T)w
#define REAL_ARITH(NAME, T, TMAX)                                              \
    static int NAME(BK_ARGS)                                                   \
    {                                                                          \
        const T *x = args[0]->data, *y = args[1]->data;                        \
        T *o = out->data;                                                      \
        const uint8_t *ac = expr_vec_live(bx, act);                                \
        uint8_t *on = expr_vec_or_nulls(bx, n, args, out);                              \
        size_t nr = bx->nrows;                                                 \
        int op = n->op;                                                        \
        uint8_t bad = 0;                                                       \
                                                                               \
        switch (op) {                                                          \
        case OP_ADD:                                                           \
            ARITH_LOOP(T, REAL_RESULT(T, TMAX, (double)x[i] + (double)y[i]))   \
            break;                                                             \
        case OP_SUB:                                                           \
            ARITH_LOOP(T, REAL_RESULT(T, TMAX, (double)x[i] - (double)y[i]))   \
            break;                                                             \
        case OP_MUL:                                                           \
            ARITH_LOOP(T, REAL_RESULT(T, TMAX, (double)x[i] * (double)y[i]))   \
            break;                                                             \
        default:                                                               \
            /* Division by zero is an error, not an infinity. */               \
            ARITH_LOOP(T, double b = y[i] == 0 ? 1 : (double)y[i];             \
                       REAL_RESULT(T, TMAX, (double)x[i] / b); f |= y[i] == 0) \
            break;                                                             \
        }                                                                      \
        return bad ? expr_batch_generic(bx, n, act, args, out) : 0;            \
    }

REAL_ARITH(arith_r4, float, 3.4028234663852886e38)
REAL_ARITH(arith_r8, double, 1.7976931348623157e308)

/* --------------------------------------------------------- comparisons */

#define CMP_LOOP(OP)                                                           \
    for (size_t i = 0; i < nr; i++)                                            \
        o[i] = x[i] OP y[i];

#define NUM_CMP(NAME, T)                                                       \
    static int NAME(BK_ARGS)                                                   \
    {                                                                          \
        const T *x = args[0]->data, *y = args[1]->data;                        \
        uint8_t *o = out->data;                                                \
        size_t nr = bx->nrows;                                                 \
                                                                               \
        expr_vec_or_nulls(bx, n, args, out);                                            \
        switch (n->op) {                                                       \
        case OP_LT:                                                            \
            CMP_LOOP(<)                                                        \
            break;                                                             \
        case OP_GT:                                                            \
            CMP_LOOP(>)                                                        \
            break;                                                             \
        case OP_LE:                                                            \
            CMP_LOOP(<=)                                                       \
            break;                                                             \
        case OP_GE:                                                            \
            CMP_LOOP(>=)                                                       \
            break;                                                             \
        case OP_EQ:                                                            \
            CMP_LOOP(==)                                                       \
            break;                                                             \
        default:                                                               \
            CMP_LOOP(!=)                                                       \
            break;                                                             \
        }                                                                      \
        return 0;                                                              \
    }

NUM_CMP(cmp_i1, int8_t)
NUM_CMP(cmp_i2, int16_t)
NUM_CMP(cmp_i4, int32_t)
NUM_CMP(cmp_i8, int64_t)
NUM_CMP(cmp_u1, uint8_t)
NUM_CMP(cmp_u2, uint16_t)
NUM_CMP(cmp_u4, uint32_t)
NUM_CMP(cmp_u8, uint64_t)
NUM_CMP(cmp_r4, float)
NUM_CMP(cmp_r8, double)

/* Booleans compare as truth values: a host byte that is neither 0 nor 1
 * still counts as TRUE. */
static int
cmp_bool(BK_ARGS)
{
    size_t nr = bx->nrows;
    const uint8_t *x = args[0]->data, *y = args[1]->data;
    uint8_t *o = out->data;
    bool eq = n->op == OP_EQ;

    expr_vec_or_nulls(bx, n, args, out);
    for (size_t i = 0; i < nr; i++)
        o[i] = ((x[i] != 0) == (y[i] != 0)) == eq;
    return 0;
}

static int
cmp_str(BK_ARGS)
{
    size_t nr = bx->nrows;
    const struct expr_sv *x = args[0]->data, *y = args[1]->data;
    uint8_t *o = out->data;
    bool eq = n->op == OP_EQ || n->op == OP_NE;

    expr_vec_or_nulls(bx, n, args, out);
    for (size_t i = 0; i < nr; i++) {
        if (eq) {
            bool same =
                x[i].len == y[i].len &&
                (x[i].len == 0 || memcmp(x[i].p, y[i].p, x[i].len) == 0);

            o[i] = same == (n->op == OP_EQ);
        } else {
            o[i] = expr_cmp_holds(
                n->op, expr_str_cmp(x[i].p, x[i].len, y[i].p, y[i].len));
        }
    }
    return 0;
}

/* ----------------------------------------------------- logic and casts */

static int
not_bool(BK_ARGS)
{
    size_t nr = bx->nrows;
    const uint8_t *x = args[0]->data;
    uint8_t *o = out->data;

    expr_vec_or_nulls(bx, n, args, out);
    for (size_t i = 0; i < nr; i++)
        o[i] = !x[i];
    return 0;
}

const int64_t *
expr_vec_as_i64(struct bctx *bx, enum expr_dt dt, const void *data)
{
    int64_t *r = expr_scratch(&bx->cx, bx->nrows * sizeof(*r));
    size_t nr = bx->nrows;

#define WIDEN(T)                                                               \
    do {                                                                       \
        const T *s = data;                                                     \
        for (size_t i = 0; i < nr; i++)                                        \
            r[i] = s[i];                                                       \
    } while (0)
    switch (dt) {
    case EXPR_DT_I1:
        WIDEN(int8_t);
        break;
    case EXPR_DT_I2:
        WIDEN(int16_t);
        break;
    case EXPR_DT_I4:
        WIDEN(int32_t);
        break;
    case EXPR_DT_UI1:
        WIDEN(uint8_t);
        break;
    case EXPR_DT_UI2:
        WIDEN(uint16_t);
        break;
    case EXPR_DT_UI4:
        WIDEN(uint32_t);
        break;
    default:
        WIDEN(int64_t);
        break;
    }
#undef WIDEN
    return r;
}

static int
cast_int(BK_ARGS)
{
    const int64_t *x = expr_vec_as_i64(bx, n->a[0]->type.dt, args[0]->data);
    const uint8_t *ac = expr_vec_live(bx, act);
    uint8_t *on = expr_vec_or_nulls(bx, n, args, out);
    size_t nr = bx->nrows;
    int64_t min;
    uint64_t max;
    int bad = 0;

    expr_dt_int_range(n->type.dt, &min, &max);
    for (size_t i = 0; i < nr; i++)
        bad |=
            (x[i] < min || (x[i] > 0 && (uint64_t)x[i] > max)) & ac[i] & !on[i];
    if (bad)
        return expr_batch_generic(bx, n, act, args, out);
#define NARROW(T)                                                              \
    do {                                                                       \
        T *o = out->data;                                                      \
        for (size_t i = 0; i < nr; i++)                                        \
            o[i] = (T)x[i];                                                    \
    } while (0)
    switch (n->type.dt) {
    case EXPR_DT_I1:
        NARROW(int8_t);
        break;
    case EXPR_DT_I2:
        NARROW(int16_t);
        break;
    case EXPR_DT_I4:
        NARROW(int32_t);
        break;
    case EXPR_DT_UI1:
        NARROW(uint8_t);
        break;
    case EXPR_DT_UI2:
        NARROW(uint16_t);
        break;
    case EXPR_DT_UI4:
        NARROW(uint32_t);
        break;
    case EXPR_DT_R8:
        NARROW(double);
        break;
    case EXPR_DT_R4:
        NARROW(float);
        break;
    default:
        NARROW(int64_t);
        break;
    }
#undef NARROW
    return 0;
}

/* Integers to DT_WSTR or DT_STR: decimal digits written straight into the
 * batch's buffer (snprintf per row would cost more than everything
 * else).  A value longer than the target's length goes to the generic
 * path, which truncates or fails as the flags say. */
static int
cast_int_text(BK_ARGS)
{
    const int64_t *x = expr_vec_as_i64(bx, n->a[0]->type.dt, args[0]->data);
    struct expr_sv *o = out->data;
    const uint8_t *ac = expr_vec_live(bx, act);
    uint8_t *on = expr_vec_or_nulls(bx, n, args, out);
    size_t nr = bx->nrows, max = n->type.length ? (size_t)n->type.length : 20;
    char *buf = expr_scratch(&bx->cx, nr * 20 + 1), *p = buf;

    for (size_t i = 0; i < nr; i++) {
        char tmp[24];
        uint64_t v = x[i] < 0 ? 0 - (uint64_t)x[i] : (uint64_t)x[i];
        size_t k = sizeof(tmp);

        do {
            tmp[--k] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        if (x[i] < 0)
            tmp[--k] = '-';
        if (sizeof(tmp) - k > max && ac[i] && !on[i])
            return expr_batch_generic(bx, n, act, args, out);
        memcpy(p, tmp + k, sizeof(tmp) - k);
        o[i].p = p;
        o[i].len = sizeof(tmp) - k;
        p += o[i].len;
    }
    return 0;
}

static int
cast_r4_r8(BK_ARGS)
{
    size_t nr = bx->nrows;
    const float *x = args[0]->data;
    double *o = out->data;

    expr_vec_or_nulls(bx, n, args, out);
    for (size_t i = 0; i < nr; i++)
        o[i] = x[i];
    return 0;
}

/* ------------------------------------------------------------ strings */

static int
f_isnull(BK_ARGS)
{
    uint8_t *o = out->data;

    memcpy(o, args[0]->nulls, bx->nrows);
    memset(out->owned_nulls, 0, bx->nrows);
    out->nulls = out->owned_nulls;
    return 0;
}

static int
f_len(BK_ARGS)
{
    size_t nr = bx->nrows;
    const struct expr_sv *x = args[0]->data;
    int32_t *o = out->data;
    const uint8_t *ac = expr_vec_live(bx, act);
    uint8_t *on = expr_vec_or_nulls(bx, n, args, out);
    int bad = 0;

    for (size_t i = 0; i < nr; i++) {
        size_t len = on[i] ? 0 : expr_utf16_len(x[i].p, x[i].len);

        bad |= (len > INT32_MAX) & ac[i] & !on[i];
        o[i] = (int32_t)(len > INT32_MAX ? 0 : len);
    }
    return bad ? expr_batch_generic(bx, n, act, args, out) : 0;
}

/* Sum of the string lengths of the live, non-NULL rows; -1 when it passes
 * the limit for one value (then the generic path reports the row). */
static size_t
total_len(struct bctx *bx, const struct expr_sv *x, const uint8_t *ac,
          const uint8_t *on, size_t each_extra, bool *too_big)
{
    size_t nr = bx->nrows;
    size_t total = 0;

    *too_big = false;
    for (size_t i = 0; i < nr; i++) {
        if (!ac[i] || on[i])
            continue;
        if (x[i].len + each_extra > bx->cx.e->max_string)
            *too_big = true;
        total += x[i].len + each_extra;
    }
    return total;
}

static int
f_case(BK_ARGS)
{
    size_t nr = bx->nrows;
    const struct expr_sv *x = args[0]->data;
    struct expr_sv *o = out->data;
    const uint8_t *ac = expr_vec_live(bx, act);
    uint8_t *on = expr_vec_or_nulls(bx, n, args, out);
    bool up = n->op == F_UPPER, big;
    size_t total = total_len(bx, x, ac, on, 0, &big), k = 0;
    char *buf;

    if (big)
        return expr_batch_generic(bx, n, act, args, out);
    buf = expr_scratch(&bx->cx, total + 1);
    for (size_t i = 0; i < nr; i++) {
        const char *s = x[i].p;
        size_t len = x[i].len;

        if (!ac[i] || on[i] || !expr_is_ascii(s, len)) {
            o[i].p = "";
            o[i].len = 0;
            continue;
        }
        for (size_t j = 0; j < len; j++) {
            char ch = s[j];

            if (up)
                ch = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
            else
                ch = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
            buf[k + j] = ch;
        }
        o[i].p = buf + k;
        o[i].len = len;
        k += len;
    }
    /* Non-ASCII rows take the scalar kernel (full Unicode case). */
    for (size_t i = 0; i < nr; i++) {
        struct expr_value a, r;

        if (!ac[i] || on[i] || expr_is_ascii(x[i].p, x[i].len))
            continue;
        expr_vec_load(&n->a[0]->type, args[0]->data, args[0]->nulls, i, &a);
        memset(&r, 0, sizeof(r));
        r.type = n->type;
        if (n->kern(&bx->cx, n, &a, &r) < 0) {
            if (expr_batch_row_fail(bx, i) < 0)
                return -1;
            on[i] = 1;
            continue;
        }
        o[i] = r.v.s;
    }
    return 0;
}

static int
f_trim(BK_ARGS)
{
    size_t nr = bx->nrows;
    const struct expr_sv *x = args[0]->data;
    struct expr_sv *o = out->data;

    expr_vec_or_nulls(bx, n, args, out);
    for (size_t i = 0; i < nr; i++) {
        const char *s = x[i].p;
        size_t b = 0, e = x[i].len;

        if (n->op != F_RTRIM)
            while (b < e && s[b] == ' ')
                b++;
        if (n->op != F_LTRIM)
            while (e > b && s[e - 1] == ' ')
                e--;
        o[i].p = s + b;
        o[i].len = e - b;
    }
    return 0;
}

static int
f_left(BK_ARGS)
{
    size_t nr = bx->nrows;
    const struct expr_sv *x = args[0]->data;
    const int64_t *k = args[1]->data;
    struct expr_sv *o = out->data;
    const uint8_t *ac = expr_vec_live(bx, act);
    uint8_t *on = expr_vec_or_nulls(bx, n, args, out);
    int bad = 0;

    for (size_t i = 0; i < nr; i++) {
        size_t take = k[i] < 0 ? 0 : (size_t)k[i];

        bad |= (k[i] < 0) & ac[i] & !on[i];
        o[i].p = x[i].p;
        o[i].len = take >= x[i].len ? x[i].len
                                    : expr_utf16_offset(x[i].p, x[i].len, take);
    }
    return bad ? expr_batch_generic(bx, n, act, args, out) : 0;
}

static int
f_concat(BK_ARGS)
{
    size_t nr = bx->nrows;
    const struct expr_sv *x = args[0]->data, *y = args[1]->data;
    struct expr_sv *o = out->data;
    const uint8_t *ac = expr_vec_live(bx, act);
    uint8_t *on = expr_vec_or_nulls(bx, n, args, out);
    size_t total = 0, k = 0;
    char *buf;

    for (size_t i = 0; i < nr; i++) {
        size_t len = x[i].len + y[i].len;

        if (!ac[i] || on[i])
            continue;
        if (len > bx->cx.e->max_string)
            return expr_batch_generic(bx, n, act, args, out);
        total += len;
    }
    buf = expr_scratch(&bx->cx, total + 1);
    for (size_t i = 0; i < nr; i++) {
        if (!ac[i] || on[i]) {
            o[i].p = "";
            o[i].len = 0;
            continue;
        }
        if (x[i].len)
            memcpy(buf + k, x[i].p, x[i].len);
        if (y[i].len)
            memcpy(buf + k + x[i].len, y[i].p, y[i].len);
        o[i].p = buf + k;
        o[i].len = x[i].len + y[i].len;
        k += o[i].len;
    }
    return 0;
}

/* ---------------------------------------------------------- selection */

static expr_bkern
int_kernel(enum expr_dt dt, const expr_bkern *by_type)
{
    switch (dt) {
    case EXPR_DT_I1:
        return by_type[0];
    case EXPR_DT_I2:
        return by_type[1];
    case EXPR_DT_I4:
        return by_type[2];
    case EXPR_DT_I8:
        return by_type[3];
    case EXPR_DT_UI1:
        return by_type[4];
    case EXPR_DT_UI2:
        return by_type[5];
    case EXPR_DT_UI4:
        return by_type[6];
    case EXPR_DT_UI8:
        return by_type[7];
    case EXPR_DT_R4:
        return by_type[8];
    case EXPR_DT_R8:
        return by_type[9];
    default:
        return NULL;
    }
}

/* Both operands (and so the node's arithmetic) are exact decimals. */
static bool
both_decimal(const struct expr_node *n)
{
    return expr_dt_is_decimal(n->a[0]->type.dt) &&
           expr_dt_is_decimal(n->a[1]->type.dt);
}

static expr_bkern
binary_kernel(const struct expr_node *n)
{
    static const expr_bkern arith[] = {arith_i1, arith_i2, arith_i4, arith_i8,
                                       arith_u1, arith_u2, arith_u4, arith_u8,
                                       arith_r4, arith_r8};
    static const expr_bkern cmp[] = {cmp_i1, cmp_i2, cmp_i4, cmp_i8, cmp_u1,
                                     cmp_u2, cmp_u4, cmp_u8, cmp_r4, cmp_r8};
    enum expr_dt at = n->a[0]->type.dt;

    switch (n->op) {
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
        if (both_decimal(n) && expr_dt_is_decimal(n->type.dt))
            return expr_vdec_arith;
        return int_kernel(n->type.dt, arith);
    case OP_DIV:
    case OP_MOD:
        return int_kernel(n->type.dt, arith);
    case OP_CONCAT:
        return n->type.dt == EXPR_DT_WSTR ? f_concat : NULL;
    case OP_LT:
    case OP_GT:
    case OP_LE:
    case OP_GE:
    case OP_EQ:
    case OP_NE:
        if (expr_dt_is_string(at))
            return cmp_str;
        /* Tick-based dates compare as their int64_t ticks. */
        if (expr_dt_is_date(at) && at != EXPR_DT_DBTIMESTAMPOFFSET)
            return cmp_i8;
        if (at == EXPR_DT_CY)
            return cmp_i8;
        if (at == EXPR_DT_BOOL)
            return cmp_bool;
        if (both_decimal(n))
            return expr_vdec_cmp;
        return int_kernel(at, cmp);
    default:
        return NULL;
    }
}

static expr_bkern
cast_kernel(const struct expr_node *n)
{
    enum expr_dt from = n->a[0]->type.dt, to = n->type.dt;

    if (from == EXPR_DT_R4 && to == EXPR_DT_R8)
        return cast_r4_r8;
    if (expr_dt_is_decimal(to) &&
        (expr_dt_is_decimal(from) ||
         (expr_dt_is_int(from) && from != EXPR_DT_UI8)))
        return expr_vdec_cast;
    if (!expr_dt_is_int(from) || from == EXPR_DT_UI8 || to == EXPR_DT_UI8)
        return NULL;
    if (expr_dt_is_int(to) || to == EXPR_DT_R8 || to == EXPR_DT_R4)
        return cast_int;
    if (to == EXPR_DT_WSTR || to == EXPR_DT_STR)
        return cast_int_text;
    return NULL;
}

static expr_bkern
call_kernel(const struct expr_node *n)
{
    switch (n->op) {
    case F_ISNULL:
        return f_isnull;
    case F_LEN:
        return expr_dt_is_string(n->a[0]->type.dt) ? f_len : NULL;
    case F_UPPER:
    case F_LOWER:
        return f_case;
    case F_TRIM:
    case F_LTRIM:
    case F_RTRIM:
        return f_trim;
    case F_LEFT:
        return f_left;
    default:
        return NULL;
    }
}

expr_bkern
expr_bkern_for(const struct expr_node *n)
{
    switch (n->kind) {
    case N_BINARY:
        return binary_kernel(n);
    case N_UNARY:
        return n->op == OP_NOT ? not_bool : NULL;
    case N_CAST:
        return cast_kernel(n);
    case N_CALL:
        return call_kernel(n);
    default:
        return NULL;
    }
}
