/*
 * Unpivot (Microsoft.UnPivot): each input row becomes one output row per
 * pivot key value.
 *
 * An input column with DestinationColumn (a lineage reference to an
 * output column) and a PivotKeyValue is unpivoted: its value goes to
 * that destination column in the output row of that pivot key value,
 * which the output column marked PivotKey receives (converted to its
 * type).  An input column with a DestinationColumn and no PivotKeyValue
 * is passed through to every row; so is the input column named like an
 * output column that nothing else feeds.  With several destination
 * columns every one must have the same set of pivot key values, as SSIS
 * checks.  Rows come out per input row, pivot key values in the order
 * their first input column has them.
 *
 * NULL values produce no row, as in SSIS: a pivot key value whose
 * destination values are all NULL is left out (with several destinations,
 * a row with some values keeps the others NULL).  An input row whose
 * values are all NULL still gives one row, with the first pivot key
 * value and NULL values, as SSIS gives one.  The output is asynchronous.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "dataflow/xform.h"
#include "dataflow/xfrow.h"
#include "base/banned.h"

struct up_pass {
    int in_slot, out_slot;
};

struct unpivot {
    struct df_input *in;
    struct df_output *out;
    const struct df_column *keycol; /* the output column marked PivotKey */
    struct up_pass *pass;
    size_t npass;
    const struct df_column **dests;
    size_t ndests;
    const char **kv; /* the pivot key values, in order */
    size_t nkv;
    const struct df_column **src; /* nkv * ndests input columns, or NULL */
    struct expr_type ktype;
    struct df_layout klayout;
    struct df_buffer *kvals; /* row i: kv[i] in the key column's type */
    struct df_emitter em;
};

static void
unpivot_free(struct unpivot *u)
{
    if (!u)
        return;
    free(u->pass);
    free(u->dests);
    free(u->kv);
    free(u->src);
    if (u->kvals)
        df_buffer_unref(u->kvals);
    df_emit_release(&u->em);
    free(u);
}

static int
find_key_column(struct unpivot *u, struct werr *err)
{
    for (size_t i = 0; i < u->out->ncolumns; i++) {
        const struct df_column *oc = &u->out->columns[i];
        if (!df_prop_bool(oc->props, oc->nprops, "PivotKey", false))
            continue;
        if (u->keycol)
            return werr_set(err, WERR_INVALID,
                            "output columns '%s' and "
                            "'%s' are both marked PivotKey",
                            u->keycol->name, oc->name);
        u->keycol = oc;
    }
    if (!u->keycol)
        return werr_set(err, WERR_INVALID,
                        "no output column is marked as "
                        "the PivotKey");
    return 0;
}

static const struct df_column *
output_column(const struct unpivot *u, const char *ref)
{
    for (size_t i = 0; i < u->out->ncolumns; i++)
        if (df_ref_names(ref, &u->out->columns[i]))
            return &u->out->columns[i];
    return NULL;
}

static size_t
index_of(const void **v, size_t *n, const void *x, bool text)
{
    size_t i;

    for (i = 0; i < *n; i++)
        if (text ? !strcmp(v[i], x) : v[i] == x)
            return i;
    v[(*n)++] = x;
    return i;
}

/* Unpivoted input column `ic` into destination `oc` for key `pkv`. */
static int
add_value(struct unpivot *u, const struct df_column *ic,
          const struct df_column *oc, const char *pkv, struct werr *err)
{
    size_t j = index_of((const void **)u->dests, &u->ndests, oc, false);
    size_t i = index_of((const void **)u->kv, &u->nkv, pkv, true);
    const struct df_column **at = &u->src[i * u->in->ncolumns + j];

    if (*at)
        return werr_set(err, WERR_INVALID,
                        "input columns '%s' and '%s' "
                        "both give PivotKeyValue '%s' to output column "
                        "'%s'",
                        (*at)->name, ic->name, pkv, oc->name);
    *at = ic;
    return 0;
}

static int
map_input_column(struct unpivot *u, const struct df_column *ic,
                 struct werr *err)
{
    const char *dref = df_prop(ic->props, ic->nprops, "DestinationColumn");
    const char *pkv = df_prop(ic->props, ic->nprops, "PivotKeyValue");
    bool none = !dref || !*dref || !strcmp(dref, "-1");
    const struct df_column *oc = none ? NULL : output_column(u, dref);

    if (!none && !oc)
        return werr_set(err, WERR_INVALID,
                        "input column '%s': "
                        "DestinationColumn '%s' names no output column",
                        ic->name, dref);
    if (!oc)
        return pkv && *pkv ? werr_set(err, WERR_INVALID,
                                      "input column "
                                      "'%s' has a PivotKeyValue but no "
                                      "DestinationColumn",
                                      ic->name)
                           : 0;
    if (oc == u->keycol)
        return werr_set(err, WERR_INVALID,
                        "input column '%s' goes to the "
                        "PivotKey column '%s'",
                        ic->name, oc->name);
    if (ic->type.dt != oc->type.dt)
        return werr_set(err, WERR_INVALID,
                        "input column '%s' is %s, its "
                        "output column '%s' %s",
                        ic->name, expr_dt_name(ic->type.dt), oc->name,
                        expr_dt_name(oc->type.dt));
    if (pkv && *pkv)
        return add_value(u, ic, oc, pkv, err);
    u->pass[u->npass++] = (struct up_pass){ic->slot, oc->slot};
    return 0;
}

static bool
is_fed(const struct unpivot *u, const struct df_column *oc)
{
    if (oc == u->keycol)
        return true;
    for (size_t j = 0; j < u->ndests; j++)
        if (u->dests[j] == oc)
            return true;
    for (size_t k = 0; k < u->npass; k++)
        if (u->pass[k].out_slot == oc->slot)
            return true;
    return false;
}

/* Output columns nothing feeds pass the input column of their name. */
static int
pass_by_name(struct unpivot *u, struct werr *err)
{
    for (size_t i = 0; i < u->out->ncolumns; i++) {
        const struct df_column *oc = &u->out->columns[i], *ic = NULL;
        for (size_t k = 0; !is_fed(u, oc) && k < u->in->ncolumns; k++)
            if (!strcasecmp(u->in->columns[k].name, oc->name))
                ic = &u->in->columns[k];
        if (is_fed(u, oc))
            continue;
        if (!ic || ic->type.dt != oc->type.dt)
            return werr_set(err, WERR_INVALID,
                            "output column '%s' is fed "
                            "by no input column",
                            oc->name);
        u->pass[u->npass++] = (struct up_pass){ic->slot, oc->slot};
    }
    return 0;
}

static int
check_key_sets(const struct unpivot *u, struct werr *err)
{
    if (u->ndests == 0)
        return werr_set(err, WERR_INVALID,
                        "no input column is unpivoted "
                        "(DestinationColumn with a PivotKeyValue)");
    for (size_t i = 0; i < u->nkv; i++)
        for (size_t j = 0; j < u->ndests; j++)
            if (!u->src[i * u->in->ncolumns + j])
                return werr_set(err, WERR_INVALID,
                                "output column '%s' "
                                "has no input column with PivotKeyValue "
                                "'%s': with several destination columns "
                                "each needs the same pivot key values",
                                u->dests[j]->name, u->kv[i]);
    return 0;
}

/* The pivot key values as values of the key column's type. */
static int
key_values(struct unpivot *u, struct werr *err)
{
    u->ktype = u->keycol->type;
    u->klayout = (struct df_layout){&u->ktype, 1, u->nkv, NULL};
    u->kvals = df_buffer_new(&u->klayout);
    for (size_t i = 0; i < u->nkv; i++) {
        struct expr_value v = {.type = {.dt = EXPR_DT_WSTR}};
        v.type.length = (int32_t)strlen(u->kv[i]);
        v.v.s = (struct expr_sv){u->kv[i], strlen(u->kv[i])};
        if (df_buffer_set_value(u->kvals, 0, i, &v, err) < 0)
            return werr_prefix(err,
                               "PivotKeyValue '%s' into output "
                               "column '%s'",
                               u->kv[i], u->keycol->name);
    }
    u->kvals->nrows = u->nkv;
    return 0;
}

static struct unpivot *
unpivot_build(struct df_component *c, struct werr *err)
{
    struct unpivot *u = xcalloc(1, sizeof(*u));
    size_t n;

    if (c->ninputs != 1 || !(u->out = df_main_output(c))) {
        werr_set(err, WERR_INVALID, "expects one input and one output");
        goto fail;
    }
    u->in = &c->inputs[0];
    n = u->in->ncolumns + u->out->ncolumns + 1;
    u->pass = xcalloc(n, sizeof(*u->pass));
    u->dests = xcalloc(n, sizeof(*u->dests));
    u->kv = xcalloc(n, sizeof(*u->kv));
    u->src = xcalloc(n * (u->in->ncolumns + 1), sizeof(*u->src));
    if (find_key_column(u, err) < 0)
        goto fail;
    for (size_t i = 0; i < u->in->ncolumns; i++)
        if (map_input_column(u, &u->in->columns[i], err) < 0)
            goto fail;
    if (check_key_sets(u, err) < 0 || pass_by_name(u, err) < 0 ||
        key_values(u, err) < 0)
        goto fail;
    return u;
fail:
    unpivot_free(u);
    return NULL;
}

static int
unpivot_validate(struct df_exec *x, struct df_component *c,
                 struct wbuf *problems)
{
    struct werr err = {0};
    struct unpivot *u = unpivot_build(c, &err);

    (void)x;
    if (!u)
        return df_problem(problems, c, "%s", err.msg);
    unpivot_free(u);
    return 0;
}

static int
unpivot_pre_execute(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct unpivot *u = unpivot_build(c, err);

    if (!u)
        return werr_prefix(err, "component '%s'", c->name);
    u->em.x = x;
    u->em.out = u->out;
    c->state = u;
    return 0;
}

/* Whether every destination value of pivot key value `i` in row `r` is
 * NULL. */
static bool
all_null(const struct unpivot *u, const struct df_buffer *b, size_t r, size_t i)
{
    const struct df_column **src = &u->src[i * u->in->ncolumns];

    for (size_t j = 0; j < u->ndests; j++)
        if (!b->cols[src[j]->slot].nulls[r])
            return false;
    return true;
}

/* The output row of input row `r` and pivot key value `i`. */
static int
emit_row(struct unpivot *u, const struct df_buffer *b, size_t r, size_t i,
         struct werr *err)
{
    const struct df_column **src = &u->src[i * u->in->ncolumns];
    size_t row = df_emit_begin(&u->em);

    for (size_t k = 0; k < u->npass; k++)
        df_copy_cell(u->em.b, u->pass[k].out_slot, row, b, u->pass[k].in_slot,
                     r);
    for (size_t j = 0; j < u->ndests; j++)
        df_copy_cell(u->em.b, u->dests[j]->slot, row, b, src[j]->slot, r);
    df_copy_cell(u->em.b, u->keycol->slot, row, u->kvals, 0, i);
    return df_emit_end(&u->em, err);
}

/* A row per pivot key value with a value; a row whose values are all
 * NULL still gives one row (the first pivot key value's), as SSIS
 * does. */
static int
unpivot_row(struct unpivot *u, const struct df_buffer *b, size_t r,
            struct werr *err)
{
    size_t made = 0;

    for (size_t i = 0; i < u->nkv; i++) {
        if (all_null(u, b, r, i))
            continue;
        if (emit_row(u, b, r, i, err) < 0)
            return -1;
        made++;
    }
    return made ? 0 : emit_row(u, b, r, 0, err);
}

static int
unpivot_process(struct df_exec *x, struct df_component *c, struct df_input *in,
                struct df_buffer *b, struct werr *err)
{
    struct unpivot *u = c->state;
    int rc = 0;

    (void)x;
    (void)in;
    if (u->out->to)
        for (size_t r = 0; rc == 0 && r < b->nrows; r++)
            rc = unpivot_row(u, b, r, err);
    df_buffer_unref(b);
    return rc;
}

static int
unpivot_end_of_input(struct df_exec *x, struct df_component *c,
                     struct df_input *in, struct werr *err)
{
    struct unpivot *u = c->state;

    (void)x;
    (void)in;
    return df_emit_flush(&u->em, err);
}

static void
unpivot_cleanup(struct df_exec *x, struct df_component *c)
{
    (void)x;
    unpivot_free(c->state);
    c->state = NULL;
}

const struct df_component_ops df_unpivot_ops = {
    .class_id = "Microsoft.UnPivot",
    .validate = unpivot_validate,
    .pre_execute = unpivot_pre_execute,
    .process = unpivot_process,
    .end_of_input = unpivot_end_of_input,
    .cleanup = unpivot_cleanup,
};
