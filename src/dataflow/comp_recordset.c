/*
 * The Recordset destination (Microsoft.RecordsetDestination): keeps the
 * rows of its input and stores them, when the data flow ends, into the
 * Object variable its VariableName property names, as the runtime's
 * result set (which a Foreach ADO enumerator then reads).
 *
 * The rows are held in memory, as SSIS holds an ADO recordset: values in
 * one growing array, string bytes in an arena.  Columns are the input
 * columns in their order, named as the input names them.
 */
#include <stdlib.h>
#include <string.h>

#include "base/warena.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "dataflow/df_core.h"

struct recordset {
    struct warena bytes;
    struct expr_value *cells;
    size_t nrows, cap; /* cap in rows */
    const char **names;
    struct expr_type *types;
};

static bool
holds_bytes(enum expr_dt dt)
{
    return dt == EXPR_DT_STR || dt == EXPR_DT_WSTR || dt == EXPR_DT_TEXT ||
           dt == EXPR_DT_NTEXT || dt == EXPR_DT_BYTES || dt == EXPR_DT_IMAGE;
}

static int
rs_validate(struct df_exec *x, struct df_component *c, struct wbuf *problems)
{
    const char *v = df_prop(c->props, c->nprops, "VariableName");

    if (v && *v && c->ninputs == 1)
        return 0;
    wbuf_addf(problems, NULL,
              "component '%s': the Recordset destination needs one input "
              "and a VariableName\n",
              c->name);
    return 1;
}

static int
rs_pre_execute(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct recordset *s = xcalloc(1, sizeof(*s));
    struct df_input *in = &c->inputs[0];

    warena_init(&s->bytes);
    s->names = xcalloc(in->ncolumns + 1, sizeof(*s->names));
    s->types = xcalloc(in->ncolumns + 1, sizeof(*s->types));
    for (size_t i = 0; i < in->ncolumns; i++) {
        s->names[i] = in->columns[i].name;
        s->types[i] = in->columns[i].type;
    }
    c->state = s;
    return 0;
}

static int
rs_process(struct df_exec *x, struct df_component *c, struct df_input *in,
           struct df_buffer *b, struct werr *err)
{
    struct recordset *s = c->state;
    size_t n = in->ncolumns;

    if (s->nrows + b->nrows > s->cap) {
        s->cap = (s->nrows + b->nrows) * 2;
        s->cells = xrealloc(s->cells, s->cap * (n ? n : 1) *
                                          sizeof(*s->cells));
    }
    for (size_t j = 0; j < n; j++) {
        struct expr_col col = df_buffer_col(b, in->columns[j].slot);
        for (size_t r = 0; r < b->nrows; r++) {
            struct expr_value *v = &s->cells[(s->nrows + r) * n + j];
            expr_col_value(&col, r, v);
            if (!v->null && holds_bytes(v->type.dt)) {
                char *p = warena_alloc_uninit(&s->bytes, v->v.s.len + 1);
                memcpy(p, v->v.s.p, v->v.s.len);
                v->v.s.p = p;
            }
        }
    }
    s->nrows += b->nrows;
    df_buffer_unref(b);
    return 0;
}

static int
rs_post_execute(struct df_exec *x, struct df_component *c, bool failed,
                struct werr *err)
{
    struct recordset *s = c->state;
    const char *name = df_prop(c->props, c->nprops, "VariableName");
    struct df_rowset rows = {
        .ncols = c->inputs[0].ncolumns,
        .nrows = s->nrows,
        .names = s->names,
        .types = s->types,
        .cells = s->cells,
    };

    if (failed)
        return 0;
    if (df_var_set_rowset(x, name, &rows, err) < 0)
        return werr_prefix(err, "storing %zu rows into '%s'", s->nrows,
                           name);
    df_event(x, c, DF_EV_INFORMATION, "stored %zu rows into '%s'", s->nrows,
             name);
    return 0;
}

static void
rs_cleanup(struct df_exec *x, struct df_component *c)
{
    struct recordset *s = c->state;

    if (!s)
        return;
    warena_release(&s->bytes);
    free(s->cells);
    free(s->names);
    free(s->types);
    free(s);
    c->state = NULL;
}

const struct df_component_ops df_recordset_ops = {
    .class_id = "Microsoft.RecordsetDestination",
    .validate = rs_validate,
    .pre_execute = rs_pre_execute,
    .process = rs_process,
    .post_execute = rs_post_execute,
    .cleanup = rs_cleanup,
};
