/*
 * Aggregate (Microsoft.Aggregate): each output is one aggregation.  Its
 * columns carry AggregationType (0 group by, 1 count, 2 count all,
 * 3 count distinct, 4 sum, 5 average, 6 minimum, 7 maximum) and
 * AggregationColumnId, the input column read.  Rows are grouped by the
 * group-by columns' values (NULLs form one group); at the end of the
 * input each output gets one row per group, in the order the groups
 * first appeared, and one row when it has no group-by column (also for
 * an empty input: counts 0, the other aggregates NULL).
 *
 * NULL rules as in SSIS and SQL: count, count distinct, sum, average,
 * minimum and maximum skip NULLs (all NULL gives NULL, or 0 for counts);
 * count all counts rows.  Sums of integers are exact (128-bit) and given
 * as DT_I8 / DT_UI8, of DT_CY, DT_NUMERIC and DT_DECIMAL exact at their
 * scale, of floats DT_R8; averages of integers and floats are DT_R8, of
 * exact types exact at the output column's scale; counts are DT_UI8.
 * Each result is then cast to the output column's declared type (a
 * value that does not fit fails the component).
 */
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "dataflow/aggmap.h"
#include "base/banned.h"
#include "dataflow/xform.h"

enum agg_type {
    AGG_GROUP = 0,
    AGG_COUNT = 1,
    AGG_COUNT_ALL = 2,
    AGG_COUNT_DISTINCT = 3,
    AGG_SUM = 4,
    AGG_AVG = 5,
    AGG_MIN = 6,
    AGG_MAX = 7,
};

struct agg_col {
    enum agg_type type;
    const struct df_column *out, *in; /* in: NULL for count all */
    size_t width;
    bool var;
};

/* One aggregate of one group. */
struct acc {
    int64_t n; /* non-NULL values (rows for count all) */
    bool overflow; /* an exact sum passed what 128 bits hold */
    union {
        expr_i128 i;
        double r;
    } sum;
    union {
        unsigned char raw[16];
        struct expr_sv sv; /* its bytes: `str` */
    } val;
    char *str;
    size_t str_cap;
};

struct agg_out {
    struct df_output *out;
    struct agg_col *cols;
    size_t ncols, nkeys; /* group-by columns first */
    struct df_aggmap groups, distinct;
    struct acc *accs; /* ngroups * ncols */
    size_t acc_cap;
};

struct agg {
    struct agg_out *outs;
    size_t nouts;
    struct wbuf key; /* scratch */
};

static bool
is_var(enum expr_dt dt)
{
    return dt == EXPR_DT_STR || dt == EXPR_DT_WSTR || dt == EXPR_DT_TEXT ||
           dt == EXPR_DT_NTEXT || dt == EXPR_DT_BYTES || dt == EXPR_DT_IMAGE;
}

static void
agg_out_release(struct agg_out *o)
{
    size_t i, n = o->groups.n * o->ncols;

    for (i = 0; o->accs && i < n; i++)
        free(o->accs[i].str);
    free(o->accs);
    free(o->cols);
    df_aggmap_release(&o->groups);
    df_aggmap_release(&o->distinct);
}

static void
agg_free(struct agg *a)
{
    size_t i;

    if (!a)
        return;
    for (i = 0; i < a->nouts; i++)
        agg_out_release(&a->outs[i]);
    free(a->outs);
    wbuf_release(&a->key);
    free(a);
}

static bool
summable(enum expr_dt dt)
{
    switch (dt) {
    case EXPR_DT_I1:
    case EXPR_DT_I2:
    case EXPR_DT_I4:
    case EXPR_DT_I8:
    case EXPR_DT_UI1:
    case EXPR_DT_UI2:
    case EXPR_DT_UI4:
    case EXPR_DT_UI8:
    case EXPR_DT_R4:
    case EXPR_DT_R8:
    case EXPR_DT_CY:
    case EXPR_DT_NUMERIC:
    case EXPR_DT_DECIMAL:
        return true;
    default:
        return false;
    }
}

static int
agg_col_init(struct df_component *c, const struct df_column *oc,
             struct agg_col *ac, struct werr *err)
{
    const char *ref = df_prop(oc->props, oc->nprops, "AggregationColumnId");

    ac->out = oc;
    ac->type = (enum agg_type)df_prop_int(oc->props, oc->nprops,
                                          "AggregationType", AGG_GROUP);
    if (ac->type > AGG_MAX)
        return werr_set(err, WERR_INVALID,
                        "output column '%s': AggregationType %d", oc->name,
                        (int)ac->type);
    if (ac->type == AGG_COUNT_ALL)
        return 0;
    ac->in = df_input_column_by_ref(&c->inputs[0], ref);
    if (!ac->in)
        return werr_set(err, WERR_INVALID,
                        "output column '%s': AggregationColumnId '%s' names "
                        "no input column",
                        oc->name, ref ? ref : "");
    ac->width = df_type_width(ac->in->type.dt);
    ac->var = is_var(ac->in->type.dt);
    if ((ac->type == AGG_SUM || ac->type == AGG_AVG) &&
        !summable(ac->in->type.dt))
        return werr_set(err, WERR_INVALID,
                        "output column '%s': cannot sum or average %s",
                        oc->name, expr_dt_name(ac->in->type.dt));
    return 0;
}

static int
by_group_first(const void *a, const void *b)
{
    const struct agg_col *x = a, *y = b;

    return (x->type != AGG_GROUP) - (y->type != AGG_GROUP);
}

static int
agg_out_init(struct df_component *c, struct df_output *out, struct agg_out *o,
             struct werr *err)
{
    size_t i;

    o->out = out;
    o->cols = xcalloc(out->ncolumns + 1, sizeof(*o->cols));
    for (i = 0; i < out->ncolumns; i++, o->ncols++)
        if (agg_col_init(c, &out->columns[i], &o->cols[i], err) < 0)
            return werr_prefix(err, "output '%s'", out->name);
    /* A stable order is not needed: group-by columns are equals. */
    qsort(o->cols, o->ncols, sizeof(*o->cols), by_group_first);
    while (o->nkeys < o->ncols && o->cols[o->nkeys].type == AGG_GROUP)
        o->nkeys++;
    return 0;
}

static struct agg *
agg_build(struct df_component *c, struct werr *err)
{
    struct agg *a = xcalloc(1, sizeof(*a));
    size_t i;

    wbuf_init(&a->key, WBUF_NOLIMIT);
    if (c->ninputs != 1 || c->noutputs == 0) {
        werr_set(err, WERR_INVALID, "expects one input and outputs");
        goto fail;
    }
    a->outs = xcalloc(c->noutputs, sizeof(*a->outs));
    for (i = 0; i < c->noutputs; i++) {
        if (c->outputs[i].is_error)
            continue;
        if (agg_out_init(c, &c->outputs[i], &a->outs[a->nouts++], err) < 0)
            goto fail;
    }
    return a;
fail:
    agg_free(a);
    return NULL;
}

static int
agg_validate(struct df_exec *x, struct df_component *c, struct wbuf *problems)
{
    struct werr err = {0};
    struct agg *a = agg_build(c, &err);

    (void)x;
    if (!a)
        return df_problem(problems, c, "%s", err.msg);
    agg_free(a);
    return 0;
}

static int
agg_pre_execute(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct agg *a = agg_build(c, err);

    (void)x;
    if (!a)
        return werr_prefix(err, "component '%s'", c->name);
    c->state = a;
    return 0;
}

static const void *
elem(const struct df_buffer *b, const struct df_column *col, size_t row)
{
    return (const char *)b->cols[col->slot].data +
           row * df_type_width(col->type.dt);
}

/* Appends a NULL byte and the value of `col` at `row` to `k`. */
static void
key_add(struct wbuf *k, const struct df_buffer *b, const struct df_column *col,
        size_t row)
{
    bool null = b->cols[col->slot].nulls[row];

    wbuf_addch(k, null ? 1 : 0, NULL);
    if (null)
        return;
    if (is_var(col->type.dt)) {
        const struct expr_sv *sv = elem(b, col, row);
        uint32_t n = (uint32_t)sv->len;
        wbuf_add(k, &n, 4, NULL);
        wbuf_add(k, sv->p, sv->len, NULL);
    } else {
        wbuf_add(k, elem(b, col, row), df_type_width(col->type.dt), NULL);
    }
}

/* The group of row `row` of `b` in `o`, created when new. */
static size_t
group_of(struct agg *a, struct agg_out *o, const struct df_buffer *b,
         size_t row)
{
    size_t i, g, before = o->groups.n;

    wbuf_reset(&a->key);
    for (i = 0; i < o->nkeys; i++)
        key_add(&a->key, b, o->cols[i].in, row);
    g = df_aggmap_put(&o->groups, a->key.buf, a->key.len);
    if (o->groups.n > before) {
        XGROW(o->accs, o->groups.n * o->ncols, o->acc_cap);
        memset(&o->accs[g * o->ncols], 0, o->ncols * sizeof(*o->accs));
    }
    return g;
}

static bool
is_unsigned(enum expr_dt dt)
{
    return dt == EXPR_DT_UI1 || dt == EXPR_DT_UI2 || dt == EXPR_DT_UI4 ||
           dt == EXPR_DT_UI8;
}

static bool
is_float(enum expr_dt dt)
{
    return dt == EXPR_DT_R4 || dt == EXPR_DT_R8;
}

/* Adds a summable value to the accumulator. */
static void
sum_add(struct acc *acc, enum expr_dt dt, const void *p)
{
    switch (dt) {
    case EXPR_DT_I1:
        acc->sum.i += *(const int8_t *)p;
        break;
    case EXPR_DT_I2:
        acc->sum.i += *(const int16_t *)p;
        break;
    case EXPR_DT_I4:
        acc->sum.i += *(const int32_t *)p;
        break;
    case EXPR_DT_UI1:
        acc->sum.i += *(const uint8_t *)p;
        break;
    case EXPR_DT_UI2:
        acc->sum.i += *(const uint16_t *)p;
        break;
    case EXPR_DT_UI4:
        acc->sum.i += *(const uint32_t *)p;
        break;
    case EXPR_DT_UI8:
        acc->sum.i += *(const uint64_t *)p;
        break;
    case EXPR_DT_R4:
        acc->sum.r += *(const float *)p;
        break;
    case EXPR_DT_R8:
        acc->sum.r += *(const double *)p;
        break;
    case EXPR_DT_NUMERIC:
    case EXPR_DT_DECIMAL:
        /* 38-digit values: a few of them pass 2^127. */
        if (__builtin_add_overflow(acc->sum.i, *(const expr_i128 *)p,
                                   &acc->sum.i))
            acc->overflow = true;
        break;
    default:
        acc->sum.i += *(const int64_t *)p;
        break; /* I8, CY */
    }
}

static void
keep_value(struct acc *acc, const struct agg_col *ac, const void *p)
{
    if (!ac->var) {
        memcpy(acc->val.raw, p, ac->width);
        return;
    }
    const struct expr_sv *sv = p;
    XGROW(acc->str, sv->len + 1, acc->str_cap);
    if (sv->len)
        memcpy(acc->str, sv->p, sv->len);
    acc->val.sv.p = acc->str;
    acc->val.sv.len = sv->len;
}

static void
min_max(struct acc *acc, const struct agg_col *ac, const void *p)
{
    int c;

    if (acc->n++ == 0) {
        keep_value(acc, ac, p);
        return;
    }
    c = df_cmp_values(ac->in->type.dt, 0, p, acc->val.raw);
    if ((ac->type == AGG_MIN && c < 0) || (ac->type == AGG_MAX && c > 0))
        keep_value(acc, ac, p);
}

static void
count_distinct(struct agg *a, struct agg_out *o, size_t g, size_t ci,
               struct acc *acc, const struct df_buffer *b, size_t row)
{
    size_t before = o->distinct.n;
    uint64_t tag[2] = {g, ci};

    wbuf_reset(&a->key);
    wbuf_add(&a->key, tag, sizeof(tag), NULL);
    key_add(&a->key, b, o->cols[ci].in, row);
    df_aggmap_put(&o->distinct, a->key.buf, a->key.len);
    acc->n += o->distinct.n > before;
}

static void
accumulate(struct agg *a, struct agg_out *o, size_t g, size_t ci,
           const struct df_buffer *b, size_t row)
{
    const struct agg_col *ac = &o->cols[ci];
    struct acc *acc = &o->accs[g * o->ncols + ci];
    const void *p;

    if (ac->type == AGG_COUNT_ALL) {
        acc->n++;
        return;
    }
    if (b->cols[ac->in->slot].nulls[row])
        return;
    p = elem(b, ac->in, row);
    switch (ac->type) {
    case AGG_COUNT:
        acc->n++;
        break;
    case AGG_COUNT_DISTINCT:
        count_distinct(a, o, g, ci, acc, b, row);
        break;
    case AGG_SUM:
    case AGG_AVG:
        acc->n++;
        sum_add(acc, ac->in->type.dt, p);
        break;
    case AGG_MIN:
    case AGG_MAX:
        min_max(acc, ac, p);
        break;
    default:
        break;
    }
}

static int
agg_process(struct df_exec *x, struct df_component *c, struct df_input *in,
            struct df_buffer *b, struct werr *err)
{
    struct agg *a = c->state;
    size_t i, r, k;

    (void)x;
    (void)in;
    (void)err;
    for (i = 0; i < a->nouts; i++) {
        struct agg_out *o = &a->outs[i];
        for (r = 0; r < b->nrows; r++) {
            size_t g = group_of(a, o, b, r);
            for (k = o->nkeys; k < o->ncols; k++)
                accumulate(a, o, g, k, b, r);
        }
    }
    df_buffer_unref(b);
    return 0;
}

static expr_i128
pow10_i128(int n)
{
    expr_i128 v = 1;

    while (n-- > 0)
        v *= 10;
    return v;
}

/* Whether an exact sum is past 38 digits (or past 128 bits). */
static bool
exact_overflow(const struct acc *acc, expr_i128 sum)
{
    expr_i128 max = pow10_i128(38);

    return acc->overflow || sum >= max || sum <= -max;
}

/* The average of an exact type at scale `ts`, rounded half away from
 * zero; -1 if the sum at that scale passes 38 digits. */
static int
exact_avg(const struct acc *acc, int scale, int ts, expr_i128 *out)
{
    expr_i128 sum = acc->sum.i, q, n = acc->n;

    if (exact_overflow(acc, sum))
        return -1;
    if (ts >= scale) {
        if (__builtin_mul_overflow(sum, pow10_i128(ts - scale), &sum) ||
            exact_overflow(acc, sum))
            return -1;
    } else {
        sum /= pow10_i128(scale - ts);
    }
    q = sum / n;
    if ((sum % n) * 2 >= n)
        q++;
    else if ((sum % n) * 2 <= -n)
        q--;
    *out = q;
    return 0;
}

static int
avg_value(const struct agg_col *ac, const struct acc *acc, struct expr_value *v,
          struct werr *err)
{
    enum expr_dt dt = ac->in->type.dt, odt = ac->out->type.dt;
    int scale = dt == EXPR_DT_CY ? 4 : ac->in->type.scale, ts = scale;

    if (is_float(dt) ||
        (dt != EXPR_DT_CY && dt != EXPR_DT_NUMERIC && dt != EXPR_DT_DECIMAL)) {
        v->type.dt = EXPR_DT_R8;
        v->v.r = is_float(dt) ? acc->sum.r / (double)acc->n
                              : (double)acc->sum.i / (double)acc->n;
        return 0;
    }
    if (odt == EXPR_DT_NUMERIC || odt == EXPR_DT_DECIMAL)
        ts = ac->out->type.scale;
    else if (odt == EXPR_DT_CY)
        ts = 4;
    v->type.dt = EXPR_DT_NUMERIC;
    v->type.precision = 38;
    v->type.scale = (uint8_t)ts;
    if (exact_avg(acc, scale, ts, &v->v.dec) < 0)
        return werr_set(err, WERR_INVALID,
                        "the sum for the average overflows DT_NUMERIC");
    return 0;
}

static int
sum_value(const struct agg_col *ac, const struct acc *acc, struct expr_value *v,
          struct werr *err)
{
    enum expr_dt dt = ac->in->type.dt;

    if (is_float(dt)) {
        v->type.dt = EXPR_DT_R8;
        v->v.r = acc->sum.r;
        return 0;
    }
    if (dt == EXPR_DT_NUMERIC || dt == EXPR_DT_DECIMAL) {
        if (exact_overflow(acc, acc->sum.i))
            return werr_set(err, WERR_INVALID, "the sum overflows DT_NUMERIC");
        v->type.dt = EXPR_DT_NUMERIC;
        v->type.precision = 38;
        v->type.scale = ac->in->type.scale;
        v->v.dec = acc->sum.i;
        return 0;
    }
    v->type.dt = dt == EXPR_DT_CY  ? EXPR_DT_CY
                 : is_unsigned(dt) ? EXPR_DT_UI8
                                   : EXPR_DT_I8;
    if (v->type.dt == EXPR_DT_UI8 && acc->sum.i <= (expr_i128)UINT64_MAX) {
        v->v.u = (uint64_t)acc->sum.i;
        return 0;
    }
    if (acc->sum.i >= INT64_MIN && acc->sum.i <= INT64_MAX) {
        v->v.i = (int64_t)acc->sum.i;
        return 0;
    }
    return werr_set(err, WERR_INVALID, "the sum overflows %s",
                    expr_dt_name(v->type.dt));
}

/* The value of column `ac` from a stored value of its input's type. */
static void
stored_value(const struct agg_col *ac, const void *p, struct expr_value *v)
{
    struct expr_col col = {ac->in->type, p, NULL};

    expr_col_value(&col, 0, v);
}

static int
result(const struct agg_col *ac, const struct acc *acc, struct expr_value *v,
       struct werr *err)
{
    memset(v, 0, sizeof(*v));
    switch (ac->type) {
    case AGG_COUNT:
    case AGG_COUNT_ALL:
    case AGG_COUNT_DISTINCT:
        v->type.dt = EXPR_DT_UI8;
        v->v.u = (uint64_t)acc->n;
        return 0;
    default:
        break;
    }
    if (acc->n == 0) {
        v->type = ac->out->type;
        v->null = true;
        return 0;
    }
    if (ac->type == AGG_SUM)
        return sum_value(ac, acc, v, err);
    if (ac->type == AGG_AVG)
        return avg_value(ac, acc, v, err);
    stored_value(ac, acc->val.raw, v);
    return 0;
}

/* Reads the group-by fields of key `k` into their output columns. */
static int
emit_keys(const struct agg_out *o, const char *k, struct df_buffer *b,
          size_t row, struct werr *err)
{
    size_t i;

    for (i = 0; i < o->nkeys; i++) {
        const struct agg_col *ac = &o->cols[i];
        union {
            unsigned char raw[16];
            struct expr_sv sv;
        } u;
        struct expr_value v;
        bool null = *k++ != 0;
        if (null) {
            memset(&v, 0, sizeof(v));
            v.type = ac->out->type;
            v.null = true;
        } else if (ac->var) {
            uint32_t n;
            memcpy(&n, k, 4);
            u.sv.p = k + 4;
            u.sv.len = n;
            k += 4 + n;
            stored_value(ac, &u, &v);
        } else {
            memcpy(u.raw, k, ac->width);
            k += ac->width;
            stored_value(ac, u.raw, &v);
        }
        if (df_buffer_set_value(b, ac->out->slot, row, &v, err) < 0)
            return werr_prefix(err, "column '%s'", ac->out->name);
    }
    return 0;
}

static int
emit_group(struct agg_out *o, size_t g, struct df_buffer *b, struct werr *err)
{
    size_t row = b->nrows++, len, i;
    const char *k = df_aggmap_key(&o->groups, g, &len);
    struct expr_value v;

    if (emit_keys(o, k, b, row, err) < 0)
        return -1;
    for (i = o->nkeys; i < o->ncols; i++) {
        const struct agg_col *ac = &o->cols[i];
        if (result(ac, &o->accs[g * o->ncols + i], &v, err) < 0 ||
            df_buffer_set_value(b, ac->out->slot, row, &v, err) < 0)
            return werr_prefix(err, "column '%s'", ac->out->name);
    }
    return 0;
}

static int
emit_output(struct df_exec *x, struct agg_out *o, struct werr *err)
{
    struct df_buffer *b = NULL;
    size_t g;

    if (o->nkeys == 0 && o->groups.n == 0) {
        XGROW(o->accs, o->ncols, o->acc_cap);
        memset(o->accs, 0, o->ncols * sizeof(*o->accs));
        df_aggmap_put(&o->groups, "", 0);
    }
    for (g = 0; g < o->groups.n; g++) {
        if (!b)
            b = df_buffer_new(o->out->layout);
        if (emit_group(o, g, b, err) < 0)
            goto fail;
        if (df_buffer_room(b) == 0) {
            struct df_buffer *full = b;
            b = NULL;
            if (df_send(x, o->out, full, err) < 0)
                return -1;
        }
    }
    return b ? df_send(x, o->out, b, err) : 0;
fail:
    df_buffer_unref(b);
    return -1;
}

static int
agg_end_of_input(struct df_exec *x, struct df_component *c, struct df_input *in,
                 struct werr *err)
{
    struct agg *a = c->state;
    size_t i;

    (void)in;
    for (i = 0; i < a->nouts; i++)
        if (emit_output(x, &a->outs[i], err) < 0)
            return werr_prefix(err, "component '%s'", c->name);
    return 0;
}

static void
agg_cleanup(struct df_exec *x, struct df_component *c)
{
    (void)x;
    agg_free(c->state);
    c->state = NULL;
}

const struct df_component_ops df_aggregate_ops = {
    .class_id = "Microsoft.Aggregate",
    .validate = agg_validate,
    .pre_execute = agg_pre_execute,
    .process = agg_process,
    .end_of_input = agg_end_of_input,
    .cleanup = agg_cleanup,
};
