/*
 * Type checking: resolves names through the host, gives every node its
 * type with SSIS's rules ("Integration Services Data Types in
 * Expressions"), makes every implicit conversion an explicit N_CAST node
 * so the kernels only ever see operands of the types they expect, and
 * folds constant subtrees.  Folding also finds what SSIS reports at
 * design time, such as a division by a constant zero.
 *
 * Every error is recorded and checking goes on with the node marked as
 * failed (type DT_EMPTY), which its parents accept silently, so one bad
 * operand gives one message rather than a cascade.
 *
 * The numeric result grid is drawn as an image in the SSIS documentation;
 * weir's rules, which docs/expressions.md lists, follow its stated
 * principles: same type gives that type (two DT_DECIMAL give DT_NUMERIC);
 * a signed and an unsigned integer give a signed integer wide enough for
 * both; DT_UI8 with a signed integer needs a cast; a real absorbs
 * integers (DT_R4 only those of 1 or 2 bytes, others give DT_R8 so no
 * digits are lost, "the smallest numeric data type that can hold the
 * result without loss"); exact decimals absorb integers and DT_CY.
 */
#include <stdio.h>
#include <string.h>

#include "base/banned.h"
#include "expr/expr_int.h"

#define FAILED EXPR_DT_EMPTY

static int check_node(struct expr_compiler *c, struct expr_node *n, int mode);
static int fold(struct expr_compiler *c, struct expr_node *n);

/* Where a node sits: the whole expression, the operand of a cast, or
 * anywhere else (DT_STR is only allowed at the top). */
enum { M_INNER, M_ROOT, M_CAST };

static const char *
op_name(int op)
{
    static const char *names[] = {
        [OP_NEG] = "-",    [OP_NOT] = "!",    [OP_BITNOT] = "~",
        [OP_ADD] = "+",    [OP_SUB] = "-",    [OP_MUL] = "*",
        [OP_DIV] = "/",    [OP_MOD] = "%",    [OP_CONCAT] = "+",
        [OP_LT] = "<",     [OP_GT] = ">",     [OP_LE] = "<=",
        [OP_GE] = ">=",    [OP_EQ] = "==",    [OP_NE] = "!=",
        [OP_BITAND] = "&", [OP_BITXOR] = "^", [OP_BITOR] = "|",
    };

    return op > 0 && op < (int)(sizeof(names) / sizeof(names[0])) && names[op]
               ? names[op]
               : "?";
}

static int fail(struct expr_compiler *c, struct expr_node *n, const char *fmt,
                ...) __attribute__((format(printf, 3, 4)));

static int
fail(struct expr_compiler *c, struct expr_node *n, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    n->type = expr_type_of(FAILED);
    return expr_diag(c, n->pos, false, "%s", msg);
}

static int
incompatible(struct expr_compiler *c, struct expr_node *n, const char *op)
{
    return fail(c, n,
                "the data types %s and %s are incompatible for operator "
                "'%s'; cast one of them",
                expr_dt_name(n->a[0]->type.dt), expr_dt_name(n->a[1]->type.dt),
                op);
}

/* ------------------------------------------------------------ coercion */

void
expr_coerce(struct expr_compiler *c, struct expr_node *n, int i,
            const struct expr_type *t)
{
    struct expr_node *a = n->a[i], *cast;

    if (expr_type_equal(&a->type, t))
        return;
    cast = expr_node_new(c, N_CAST, a->off, a->len);
    cast->type = *t;
    cast->a[0] = a;
    cast->nargs = 1;
    cast->constant = a->constant;
    cast->height = a->height + 1;
    cast->kern = expr_kern_cast;
    n->a[i] = cast;
    if (a->kind == N_LIT)
        fold(c, cast); /* a failure is recorded as a diagnostic */
}

/* ------------------------------------------------------- numeric types */

/* The exact-decimal form of a numeric type: DT_NUMERIC with the
 * precision and scale that hold every value of it. */
static struct expr_type
as_numeric(const struct expr_type *t)
{
    struct expr_type r = expr_type_of(EXPR_DT_NUMERIC);

    switch (t->dt) {
    case EXPR_DT_NUMERIC:
        return *t;
    case EXPR_DT_DECIMAL:
        r.precision = 29;
        r.scale = t->scale;
        return r;
    case EXPR_DT_CY:
        r.precision = 19;
        r.scale = 4;
        return r;
    case EXPR_DT_I1:
    case EXPR_DT_UI1:
        r.precision = 3;
        return r;
    case EXPR_DT_I2:
    case EXPR_DT_UI2:
        r.precision = 5;
        return r;
    case EXPR_DT_I4:
    case EXPR_DT_UI4:
        r.precision = 10;
        return r;
    case EXPR_DT_UI8:
        r.precision = 20;
        return r;
    default:
        r.precision = 19;
        return r;
    }
}

static enum expr_dt
int_of_width(int width, bool is_signed)
{
    switch (width) {
    case 1:
        return is_signed ? EXPR_DT_I1 : EXPR_DT_UI1;
    case 2:
        return is_signed ? EXPR_DT_I2 : EXPR_DT_UI2;
    case 4:
        return is_signed ? EXPR_DT_I4 : EXPR_DT_UI4;
    default:
        return is_signed ? EXPR_DT_I8 : EXPR_DT_UI8;
    }
}

/* The common integer type, or FAILED for DT_UI8 with a signed one. */
static enum expr_dt
int_common(enum expr_dt a, enum expr_dt b)
{
    int wa = expr_dt_int_width(a), wb = expr_dt_int_width(b);
    bool sa = expr_dt_is_signed_int(a), sb = expr_dt_is_signed_int(b);

    if (sa == sb)
        return int_of_width(wa > wb ? wa : wb, sa);
    if (!sa) { /* make a the signed one */
        int tw = wa;

        wa = wb;
        wb = tw;
    }
    if (wb == 8)
        return FAILED;
    return int_of_width(wa > 2 * wb ? wa : 2 * wb, true);
}

/* The type both numeric operands convert to (for decimals, each keeps its
 * own precision and scale: see operand_type). */
static enum expr_dt
numeric_common(const struct expr_type *a, const struct expr_type *b)
{
    enum expr_dt x = a->dt, y = b->dt;

    if (x == EXPR_DT_R8 || y == EXPR_DT_R8)
        return EXPR_DT_R8;
    if (x == EXPR_DT_R4 || y == EXPR_DT_R4) {
        enum expr_dt o = x == EXPR_DT_R4 ? y : x;

        if (o == EXPR_DT_R4 || (expr_dt_is_int(o) && expr_dt_int_width(o) <= 2))
            return EXPR_DT_R4;
        return EXPR_DT_R8;
    }
    if (expr_dt_is_decimal(x) || expr_dt_is_decimal(y))
        return EXPR_DT_NUMERIC;
    if (x == EXPR_DT_CY || y == EXPR_DT_CY)
        return EXPR_DT_CY;
    return int_common(x, y);
}

/* Caps a computed decimal type at 38 digits the way SQL Server does:
 * integer digits are kept, the scale gives way down to 6. */
static struct expr_type
numeric_cap(int p, int s)
{
    struct expr_type t = expr_type_of(EXPR_DT_NUMERIC);

    if (p > EXPR_DEC_MAXP) {
        int whole = p - s, keep = s < 6 ? s : 6;

        s = EXPR_DEC_MAXP - whole > keep ? EXPR_DEC_MAXP - whole : keep;
        p = EXPR_DEC_MAXP;
    }
    if (s > p)
        s = p;
    t.precision = (uint8_t)(p < 1 ? 1 : p);
    t.scale = (uint8_t)(s < 0 ? 0 : s);
    return t;
}

static struct expr_type
numeric_result(int op, const struct expr_type *a, const struct expr_type *b)
{
    int p1 = a->precision, s1 = a->scale, p2 = b->precision, s2 = b->scale;
    int s, p;

    switch (op) {
    case OP_MUL:
        return numeric_cap(p1 + p2 + 1, s1 + s2);
    case OP_DIV:
        s = 6 > s1 + p2 + 1 ? 6 : s1 + p2 + 1;
        return numeric_cap(p1 - s1 + s2 + s, s);
    default: /* + - */
        s = s1 > s2 ? s1 : s2;
        p = (p1 - s1 > p2 - s2 ? p1 - s1 : p2 - s2) + s + 1;
        return numeric_cap(p, s);
    }
}

/* Converts both operands of a numeric binary node to their common type;
 * returns that type, or FAILED. */
static enum expr_dt
coerce_numeric(struct expr_compiler *c, struct expr_node *n)
{
    enum expr_dt dt = numeric_common(&n->a[0]->type, &n->a[1]->type);

    if (dt == FAILED)
        return FAILED;
    for (int i = 0; i < 2; i++) {
        struct expr_type t = dt == EXPR_DT_NUMERIC ? as_numeric(&n->a[i]->type)
                                                   : expr_type_of(dt);

        expr_coerce(c, n, i, &t);
    }
    return dt;
}

/* ---------------------------------------------------------- date types */

/* The type two date/time operands are compared (or chosen) as, following
 * the order of the comparison rules in the SSIS documentation; FAILED when
 * a time meets a date. */
static struct expr_type
date_common(const struct expr_type *a, const struct expr_type *b)
{
    struct expr_type t;
    int scale = a->scale > b->scale ? a->scale : b->scale;

    if (expr_type_equal(a, b))
        return *a;
    if (expr_dt_is_time(a->dt) != expr_dt_is_time(b->dt))
        return expr_type_of(FAILED);
    if (a->dt == EXPR_DT_DBTIMESTAMPOFFSET ||
        b->dt == EXPR_DT_DBTIMESTAMPOFFSET)
        t = expr_type_of(EXPR_DT_DBTIMESTAMPOFFSET);
    else if (a->dt == EXPR_DT_DBTIMESTAMP2 || b->dt == EXPR_DT_DBTIMESTAMP2)
        t = expr_type_of(EXPR_DT_DBTIMESTAMP2);
    else if (a->dt == EXPR_DT_DBTIME2 || b->dt == EXPR_DT_DBTIME2)
        t = expr_type_of(EXPR_DT_DBTIME2);
    else if (a->dt == b->dt)
        return *a;
    else if (expr_dt_is_time(a->dt))
        t = expr_type_of(EXPR_DT_DBTIME2);
    else
        t = expr_type_of(EXPR_DT_DBTIMESTAMP);
    if (t.dt != EXPR_DT_DBTIMESTAMP)
        t.scale = (uint8_t)(scale ? scale : 7);
    return t;
}

/* ----------------------------------------------------------- operators */

static int
check_unary(struct expr_compiler *c, struct expr_node *n)
{
    enum expr_dt dt = n->a[0]->type.dt;

    switch (n->op) {
    case OP_NEG:
        if (!expr_dt_is_numeric(dt) || expr_dt_is_unsigned_int(dt))
            return fail(c, n,
                        "operator '-' needs a signed numeric operand, not "
                        "%s",
                        expr_dt_name(dt));
        break;
    case OP_NOT:
        if (dt != EXPR_DT_BOOL)
            return fail(c, n, "operator '!' needs a DT_BOOL operand, not %s",
                        expr_dt_name(dt));
        break;
    default:
        if (!expr_dt_is_int(dt))
            return fail(c, n, "operator '~' needs an integer operand, not %s",
                        expr_dt_name(dt));
        break;
    }
    n->type = n->a[0]->type;
    return 0;
}

static int
check_arith(struct expr_compiler *c, struct expr_node *n)
{
    struct expr_type *a = &n->a[0]->type, *b = &n->a[1]->type;
    enum expr_dt dt;

    if (!expr_dt_is_numeric(a->dt) || !expr_dt_is_numeric(b->dt))
        return incompatible(c, n, op_name(n->op));
    if (n->op == OP_MOD && (!expr_dt_is_int(a->dt) || !expr_dt_is_int(b->dt)))
        return fail(c, n,
                    "operator '%%' needs integer operands, not %s and "
                    "%s",
                    expr_dt_name(a->dt), expr_dt_name(b->dt));
    dt = coerce_numeric(c, n);
    if (dt == FAILED)
        return fail(c, n,
                    "DT_UI8 and a signed integer need an explicit cast "
                    "for operator '%s'",
                    op_name(n->op));
    if (dt == EXPR_DT_NUMERIC)
        n->type = numeric_result(n->op, &n->a[0]->type, &n->a[1]->type);
    else
        n->type = expr_type_of(dt);
    return 0;
}

static int32_t
sat_add(int32_t a, int32_t b)
{
    int64_t s = (int64_t)a + b;

    return s > INT32_MAX ? INT32_MAX : (int32_t)s;
}

/* '+' on strings: the result is DT_WSTR (or the BLOB type), its length the
 * sum.  A date meeting a string is converted to DT_WSTR, as the
 * "+ (Concatenate)" page says; numbers must be cast explicitly. */
static int
check_concat(struct expr_compiler *c, struct expr_node *n)
{
    struct expr_type t = expr_type_of(EXPR_DT_WSTR);
    enum expr_dt x = n->a[0]->type.dt, y = n->a[1]->type.dt;

    n->op = OP_CONCAT;
    if (x == EXPR_DT_IMAGE || y == EXPR_DT_IMAGE || x == EXPR_DT_TEXT ||
        y == EXPR_DT_TEXT || x == EXPR_DT_NTEXT || y == EXPR_DT_NTEXT) {
        enum expr_dt blob =
            x == EXPR_DT_IMAGE || x == EXPR_DT_TEXT || x == EXPR_DT_NTEXT ? x
                                                                          : y;

        if ((blob == EXPR_DT_IMAGE) != (x == y))
            return fail(c, n, "a concatenation can use only one BLOB type");
        t = blob == EXPR_DT_TEXT ? n->a[0]->type : expr_type_of(blob);
        if (blob == EXPR_DT_TEXT && x != y)
            t = expr_type_of(EXPR_DT_NTEXT);
    }
    for (int i = 0; i < 2; i++) {
        struct expr_type *at = &n->a[i]->type;

        if (expr_dt_is_date(at->dt)) {
            struct expr_type w = expr_type_of(EXPR_DT_WSTR);

            w.length = 40;
            expr_coerce(c, n, i, &w);
        } else if (expr_dt_is_string(at->dt) && t.dt == EXPR_DT_WSTR) {
            struct expr_type w = expr_type_of(EXPR_DT_WSTR);

            w.length = at->length;
            expr_coerce(c, n, i, &w);
        }
    }
    if (t.dt == EXPR_DT_WSTR)
        t.length = sat_add(n->a[0]->type.length, n->a[1]->type.length);
    n->type = t;
    return 0;
}

static bool
is_concat_operand(enum expr_dt dt)
{
    return expr_dt_is_text(dt) || dt == EXPR_DT_IMAGE;
}

static int
check_add(struct expr_compiler *c, struct expr_node *n)
{
    enum expr_dt x = n->a[0]->type.dt, y = n->a[1]->type.dt;

    if ((is_concat_operand(x) &&
         (is_concat_operand(y) || expr_dt_is_date(y))) ||
        (expr_dt_is_date(x) && is_concat_operand(y)))
        return check_concat(c, n);
    return check_arith(c, n);
}

static int
check_compare(struct expr_compiler *c, struct expr_node *n)
{
    struct expr_type *a = &n->a[0]->type, *b = &n->a[1]->type;
    bool eq = n->op == OP_EQ || n->op == OP_NE;

    n->type = expr_type_of(EXPR_DT_BOOL);
    if (expr_dt_is_numeric(a->dt) && expr_dt_is_numeric(b->dt)) {
        if (coerce_numeric(c, n) == FAILED)
            return fail(c, n,
                        "DT_UI8 and a signed integer need an explicit "
                        "cast for operator '%s'",
                        op_name(n->op));
        return 0;
    }
    if (expr_dt_is_string(a->dt) && expr_dt_is_string(b->dt))
        return 0;
    if (expr_dt_is_date(a->dt) && expr_dt_is_date(b->dt)) {
        struct expr_type t = date_common(a, b);

        if (t.dt == FAILED)
            return fail(c, n,
                        "a time (%s) cannot be compared with a date "
                        "(%s)",
                        expr_dt_name(a->dt), expr_dt_name(b->dt));
        expr_coerce(c, n, 0, &t);
        expr_coerce(c, n, 1, &t);
        return 0;
    }
    if (eq && a->dt == b->dt &&
        (a->dt == EXPR_DT_BOOL || a->dt == EXPR_DT_GUID ||
         a->dt == EXPR_DT_BYTES || a->dt == EXPR_DT_IMAGE ||
         a->dt == EXPR_DT_NTEXT || a->dt == EXPR_DT_TEXT))
        return 0;
    return incompatible(c, n, op_name(n->op));
}

static int
check_bitwise(struct expr_compiler *c, struct expr_node *n)
{
    enum expr_dt x = n->a[0]->type.dt, y = n->a[1]->type.dt, dt;

    if (!expr_dt_is_int(x) || !expr_dt_is_int(y))
        return incompatible(c, n, op_name(n->op));
    if (expr_dt_is_signed_int(x) != expr_dt_is_signed_int(y))
        return fail(c, n,
                    "operator '%s' needs both operands signed or both "
                    "unsigned, not %s and %s",
                    op_name(n->op), expr_dt_name(x), expr_dt_name(y));
    dt = int_common(x, y);
    n->type = expr_type_of(dt);
    expr_coerce(c, n, 0, &n->type);
    expr_coerce(c, n, 1, &n->type);
    return 0;
}

static int
check_binary(struct expr_compiler *c, struct expr_node *n)
{
    switch (n->op) {
    case OP_ADD:
        return check_add(c, n);
    case OP_SUB:
    case OP_MUL:
    case OP_DIV:
    case OP_MOD:
        return check_arith(c, n);
    case OP_BITAND:
    case OP_BITXOR:
    case OP_BITOR:
        return check_bitwise(c, n);
    default:
        return check_compare(c, n);
    }
}

static int
check_logical(struct expr_compiler *c, struct expr_node *n)
{
    for (int i = 0; i < 2; i++)
        if (n->a[i]->type.dt != EXPR_DT_BOOL)
            return fail(c, n, "operator '%s' needs DT_BOOL operands, not %s",
                        n->kind == N_AND ? "&&" : "||",
                        expr_dt_name(n->a[i]->type.dt));
    n->type = expr_type_of(EXPR_DT_BOOL);
    return 0;
}

/* The type of `a ? x : y` from the two branches (the "? : (Conditional)"
 * page's rules); FAILED if they do not go together. */
static struct expr_type
cond_type(const struct expr_type *x, const struct expr_type *y)
{
    struct expr_type t;

    if (expr_dt_is_numeric(x->dt) && expr_dt_is_numeric(y->dt)) {
        enum expr_dt dt = numeric_common(x, y);

        if (dt != EXPR_DT_NUMERIC)
            return expr_type_of(dt);
        {
            struct expr_type nx = as_numeric(x), ny = as_numeric(y);
            int s = nx.scale > ny.scale ? nx.scale : ny.scale;
            int w = nx.precision - nx.scale > ny.precision - ny.scale
                        ? nx.precision - nx.scale
                        : ny.precision - ny.scale;

            return numeric_cap(w + s, s);
        }
    }
    if (expr_dt_is_string(x->dt) && expr_dt_is_string(y->dt)) {
        t = expr_type_of(EXPR_DT_WSTR);
        t.length = x->length > y->length ? x->length : y->length;
        return t;
    }
    if (expr_dt_is_date(x->dt) && expr_dt_is_date(y->dt))
        return date_common(x, y);
    if (x->dt == y->dt && x->dt == EXPR_DT_BYTES) {
        t = *x;
        t.length = x->length > y->length ? x->length : y->length;
        return t;
    }
    if (x->dt == y->dt &&
        (x->dt != EXPR_DT_TEXT || x->codepage == y->codepage) &&
        !expr_dt_is_numeric(x->dt))
        return *x;
    return expr_type_of(FAILED);
}

static int
check_cond(struct expr_compiler *c, struct expr_node *n)
{
    struct expr_type t;

    if (n->a[0]->type.dt != EXPR_DT_BOOL)
        return fail(c, n, "the condition of '?:' must be DT_BOOL, not %s",
                    expr_dt_name(n->a[0]->type.dt));
    t = cond_type(&n->a[1]->type, &n->a[2]->type);
    if (t.dt == FAILED)
        return fail(c, n,
                    "the branches of '?:' have incompatible types %s "
                    "and %s",
                    expr_dt_name(n->a[1]->type.dt),
                    expr_dt_name(n->a[2]->type.dt));
    n->type = t;
    expr_coerce(c, n, 1, &t);
    expr_coerce(c, n, 2, &t);
    return 0;
}

static int
check_cast(struct expr_compiler *c, struct expr_node *n, int mode)
{
    struct expr_type *from = &n->a[0]->type;

    if (!expr_cast_legal(from->dt, n->type.dt))
        return fail(c, n, "%s cannot be cast to %s", expr_dt_name(from->dt),
                    expr_dt_name(n->type.dt));
    /* Inside an expression SSIS works in DT_WSTR: a cast to DT_STR that is
     * not the whole expression is taken as one to DT_WSTR. */
    if (n->type.dt == EXPR_DT_STR && mode != M_ROOT) {
        n->type.dt = EXPR_DT_WSTR;
        n->type.codepage = 0;
    }
    if (expr_dt_is_text(from->dt) && expr_dt_is_string(n->type.dt) &&
        from->length > n->type.length && !n->a[0]->constant)
        expr_diag(c, n->pos, true,
                  "casting %s of length %d to length %d may truncate",
                  expr_dt_name(from->dt), (int)from->length,
                  (int)n->type.length);
    n->kern = expr_kern_cast;
    return 0;
}

/* --------------------------------------------------------- references */

static int
check_ref(struct expr_compiler *c, struct expr_node *n)
{
    const struct expr_host *h = &c->e->host;
    struct werr err;
    const char *what = n->kind == N_VAR ? "variable" : "column";

    if (n->kind == N_COL && !(c->e->flags & EXPR_COLUMNS))
        return fail(c, n,
                    "column '%s' cannot be used here: only data flow "
                    "expressions read columns (variables start with '@')",
                    n->ref.name ? n->ref.name : n->ref.lineage);
    werr_clear(&err);
    if (!h->resolve) {
        return fail(c, n, "unknown %s '%s'", what,
                    n->ref.name ? n->ref.name : n->ref.lineage);
    }
    if (h->resolve(h->ctx, &n->ref, &n->bind, &err) < 0)
        return fail(c, n, "%s", err.msg[0] ? err.msg : "unknown reference");
    if (expr_dt_size(n->bind.type.dt) == 0)
        return fail(c, n, "%s '%s' has an unsupported type %s", what,
                    n->ref.name ? n->ref.name : n->ref.lineage,
                    expr_dt_name(n->bind.type.dt));
    n->type = n->bind.type;
    if (n->type.dt == EXPR_DT_NUMERIC && n->type.precision == 0)
        n->type.precision = EXPR_DEC_MAXP;
    if (n->type.dt == EXPR_DT_DECIMAL)
        n->type.precision = 29;
    return 0;
}

/* ------------------------------------------------------------- folding */

/* Evaluates a node whose arguments are all constants, at compile time, and
 * turns it into a literal.  A failure is a compile error at the node. */
static int
fold(struct expr_compiler *c, struct expr_node *n)
{
    struct expr *e = c->e;
    struct ectx cx;
    struct werr err;
    struct expr_value v;

    memset(&cx, 0, sizeof(cx));
    cx.e = e;
    cx.err = &err;
    cx.folding = true;
    werr_clear(&err);
    if (expr_eval_node(&cx, n, &v) < 0) {
        int rc = expr_diag(c, n->pos, false, "%s", err.msg);

        warena_reset(&e->scratch);
        return rc;
    }
    if (cx.have_now) {
        /* It read the clock (a time converted to a date takes today's
         * date): not a constant after all. */
        warena_reset(&e->scratch);
        n->constant = false;
        return 0;
    }
    if (cx.truncated)
        expr_diag(c, n->pos, true, "the constant is truncated to length %d",
                  (int)n->type.length);
    if (!v.null &&
        (expr_dt_is_text(v.type.dt) || expr_dt_is_binary(v.type.dt))) {
        char *p = warena_alloc_uninit(&e->arena, v.v.s.len + 1);

        if (v.v.s.len)
            memcpy(p, v.v.s.p, v.v.s.len);
        v.v.s.p = p;
    }
    warena_reset(&e->scratch);
    n->kind = N_LIT;
    n->lit = v;
    n->nargs = 0;
    n->kern = NULL;
    return 0;
}

static bool
args_failed(const struct expr_node *n)
{
    for (int i = 0; i < n->nargs; i++)
        if (n->a[i]->type.dt == FAILED)
            return true;
    return false;
}

static bool
args_constant(const struct expr_node *n)
{
    for (int i = 0; i < n->nargs; i++)
        if (n->a[i]->kind != N_LIT)
            return false;
    return true;
}

static int
check_kind(struct expr_compiler *c, struct expr_node *n, int mode)
{
    switch (n->kind) {
    case N_UNARY:
        return check_unary(c, n);
    case N_BINARY:
        return check_binary(c, n);
    case N_AND:
    case N_OR:
        return check_logical(c, n);
    case N_COND:
        return check_cond(c, n);
    case N_CAST:
        return check_cast(c, n, mode);
    case N_CALL:
        return expr_func_check(c, n);
    default:
        return 0;
    }
}

static int
check_node(struct expr_compiler *c, struct expr_node *n, int mode)
{
    int rc = 0;

    switch (n->kind) {
    case N_LIT:
        return 0;
    case N_VAR:
    case N_COL:
        return check_ref(c, n);
    case N_NULL:
        if (n->type.dt == EXPR_DT_STR && mode == M_INNER)
            return fail(c, n,
                        "NULL(DT_STR, ...) can only be the whole "
                        "expression; use NULL(DT_WSTR, ...) inside one");
        n->kind = N_LIT;
        n->constant = true;
        n->lit.type = n->type;
        n->lit.null = true;
        return 0;
    default:
        break;
    }
    for (int i = 0; i < n->nargs; i++)
        if (check_node(c, n->a[i], n->kind == N_CAST ? M_CAST : M_INNER) < 0)
            rc = -1;
    if (rc < 0 || args_failed(n)) {
        n->type = expr_type_of(FAILED);
        return -1;
    }
    if (check_kind(c, n, mode) < 0)
        return -1;
    if (n->kind != N_CALL && n->kind != N_CAST && expr_op_check(c, n) < 0)
        return -1;
    /* A call is constant unless it reads the clock (its checker said). */
    if (n->kind == N_CALL)
        n->constant = n->constant && args_constant(n);
    else
        n->constant = args_constant(n);
    if (n->constant)
        return fold(c, n);
    return 0;
}

/* Checks `@[NS::Name] = value`: the variable must exist, be writable, and
 * take the value's type (converted as a cast would). */
static int
check_assign(struct expr_compiler *c)
{
    struct expr *e = c->e;
    struct expr_node *t = e->target, holder;
    struct expr_type *vt;

    if (check_ref(c, t) < 0)
        return -1;
    if (t->bind.read_only)
        return fail(c, t, "%s%s%s is read-only and cannot be assigned",
                    t->ref.ns ? t->ref.ns : "", t->ref.ns ? "::" : "",
                    t->ref.name);
    if (e->root->type.dt == FAILED)
        return -1;
    vt = &t->type;
    if (!expr_cast_legal(e->root->type.dt, vt->dt) ||
        (expr_dt_is_numeric(vt->dt) != expr_dt_is_numeric(e->root->type.dt)) ||
        (expr_dt_is_text(vt->dt) != expr_dt_is_text(e->root->type.dt)))
        return fail(c, e->root,
                    "a %s value cannot be assigned to %s, which "
                    "is %s",
                    expr_dt_name(e->root->type.dt), t->ref.name,
                    expr_dt_name(vt->dt));
    memset(&holder, 0, sizeof(holder));
    holder.a[0] = e->root;
    holder.nargs = 1;
    expr_coerce(c, &holder, 0, vt);
    e->root = holder.a[0];
    if (e->root->kind == N_CAST && e->root->a[0]->kind == N_LIT)
        return fold(c, e->root);
    return 0;
}

int
expr_check(struct expr_compiler *c)
{
    struct expr *e = c->e;

    if (check_node(c, e->root, M_ROOT) < 0)
        return -1;
    if (e->assign && check_assign(c) < 0)
        return -1;
    return c->nerr ? -1 : 0;
}
