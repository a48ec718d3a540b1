/*
 * Expressions over a component's input: the data flow's expr_host.
 *
 * A column reference resolves, at compile time, to the buffer slot of one
 * of the input's columns, so evaluation indexes the buffer's vectors
 * directly (df_expr_cols() is the buffer's own column array, which has
 * expr_col's layout).  A variable reference keeps the variable's name;
 * its value is read through df_var_get() when the evaluator asks, which
 * takes whatever lock the host needs.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "dataflow/df_int.h"
#include "base/banned.h"

_Static_assert(sizeof(struct df_vec) == sizeof(struct expr_col),
               "df_vec has expr_col's layout");
_Static_assert(offsetof(struct df_vec, data) == offsetof(struct expr_col, data),
               "df_vec has expr_col's layout");
_Static_assert(offsetof(struct df_vec, nulls) ==
                   offsetof(struct expr_col, nulls),
               "df_vec has expr_col's layout");

/* The component part of a lineage id "Package\Flow\Comp.Outputs[O]...":
 * the text between the last backslash before ".Outputs[" and it. */
static int
lineage_component_is(const char *lineage, const char *comp)
{
    const char *end = lineage ? strstr(lineage, ".Outputs[") : NULL;
    const char *p;
    size_t n = strlen(comp);

    if (!end)
        return 0;
    for (p = end; p > lineage && p[-1] != '\\'; p--)
        ;
    return (size_t)(end - p) == n && strncasecmp(p, comp, n) == 0;
}

static int
column_matches(const struct df_column *col, const struct expr_ref *ref)
{
    if (ref->lineage)
        return col->lineage && strcmp(col->lineage, ref->lineage) == 0;
    if (!ref->name || strcasecmp(col->name, ref->name) != 0)
        return 0;
    return !ref->component ||
           lineage_component_is(col->lineage, ref->component);
}

static int
resolve_column(const struct df_input *in, const struct expr_ref *ref,
               struct expr_binding *out, struct werr *err)
{
    const struct df_column *found = NULL;
    size_t i;

    for (i = 0; in && i < in->ncolumns; i++) {
        if (!column_matches(&in->columns[i], ref))
            continue;
        if (found)
            return werr_set(err, WERR_INVALID, "column name '%s' is ambiguous",
                            ref->name);
        found = &in->columns[i];
    }
    if (!found) {
        if (ref->lineage)
            return werr_set(err, WERR_NOTFOUND,
                            "no input column has lineage '%s'", ref->lineage);
        return werr_set(err, WERR_NOTFOUND, "unknown input column '%s'",
                        ref->name);
    }
    if (found->slot < 0)
        return werr_set(err, WERR_INTERNAL,
                        "input column '%s' has no buffer slot", found->name);
    out->type = found->type;
    out->index = found->slot;
    out->handle = NULL;
    out->read_only = true;
    return 0;
}

static int
resolve_variable(struct df_expr *de, const struct expr_ref *ref,
                 struct expr_binding *out, struct werr *err)
{
    struct expr_value v;
    char *name =
        ref->ns ? xasprintf("%s::%s", ref->ns, ref->name) : xstrdup(ref->name);

    if (df_var_get(de->x, name, &v, err) < 0) {
        free(name);
        return -1;
    }
    de->vars = xrealloc(de->vars, (de->nvars + 1) * sizeof(*de->vars));
    de->vars[de->nvars++] = name;
    out->type = v.type;
    out->index = -1;
    out->handle = name;
    out->read_only = true;
    return 0;
}

static int
host_resolve(void *ctx, const struct expr_ref *ref, struct expr_binding *out,
             struct werr *err)
{
    struct df_expr *de = ctx;

    if (ref->kind == EXPR_REF_COLUMN)
        return resolve_column(de->in, ref, out, err);
    return resolve_variable(de, ref, out, err);
}

static int
host_get(void *ctx, void *handle, struct expr_value *out, struct werr *err)
{
    struct df_expr *de = ctx;

    return df_var_get(de->x, handle, out, err);
}

/* GETDATE() in a data flow reads the host's clock (tests fix it). */
static void
host_now(void *ctx, int64_t *utc_ticks, int64_t *local_ticks)
{
    struct df_expr *de = ctx;
    const struct expr_host *vars = df_exec_host(de->x)->vars;

    vars->now(vars->ctx, utc_ticks, local_ticks);
}

struct df_expr *
df_expr_compile(struct df_exec *x, struct df_component *c, struct df_input *in,
                const char *text, unsigned flags, struct werr *err)
{
    struct df_expr *de = xcalloc(1, sizeof(*de));
    struct expr_host host = {host_resolve, host_get, NULL, de};
    struct expr_opts opts = {flags | EXPR_COLUMNS, &host, 0};
    const struct df_host *h = x ? df_exec_host(x) : NULL;

    (void)c;
    de->x = x;
    de->in = in;
    if (h && h->vars && h->vars->now)
        host.now = host_now;
    de->expr = expr_compile(text, strlen(text), &opts, NULL, err);
    if (!de->expr) {
        werr_prefix(err, "expression \"%s\"", text);
        df_expr_free(de);
        return NULL;
    }
    return de;
}

void
df_expr_free(struct df_expr *de)
{
    size_t i;

    if (!de)
        return;
    expr_free(de->expr);
    for (i = 0; i < de->nvars; i++)
        free(de->vars[i]);
    free(de->vars);
    free(de);
}

const struct expr_col *
df_expr_cols(struct df_exec *x, const struct df_buffer *b)
{
    (void)x;
    return (const struct expr_col *)(const void *)b->cols;
}
