/*
 * Planning a parsed pipeline: the order components run in, the execution
 * trees, the slots of every column in its tree's buffer layout, the
 * output column each input column reads, and how many rows a buffer
 * holds.
 *
 * A tree is rooted at each asynchronous output (no synchronousInputId);
 * a synchronous output belongs to the tree of the path feeding its input,
 * so rows flow through it in the same buffer and the columns it declares
 * are added to that tree's layout.  An input column names by lineage the
 * upstream output column it reads; that column must be in the tree of
 * the input's path, which is what makes a destination three synchronous
 * components downstream able to read a source's column directly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "dataflow/df_core.h"

struct planner {
    struct df_pipeline *p;
    struct df_plan *plan;
    const char *prefix;
    struct wbuf *problems;
    int n;
};

__attribute__((format(printf, 3, 4))) static void
problem(struct planner *pl, const struct df_component *c, const char *fmt,
        ...)
{
    va_list ap;

    wbuf_addf(pl->problems, NULL, "%scomponent '%s': ", pl->prefix, c->name);
    va_start(ap, fmt);
    wbuf_vaddf(pl->problems, NULL, fmt, ap);
    va_end(ap);
    wbuf_addch(pl->problems, '\n', NULL);
    pl->n++;
}

/* Kahn's algorithm over the components; a cycle leaves some unplaced. */
static void
order_components(struct planner *pl)
{
    struct df_pipeline *p = pl->p;
    size_t n = p->ncomponents, done = 0;
    int *indeg = xcalloc(n + 1, sizeof(*indeg));
    struct df_component **order = warena_alloc(&p->arena,
                                               (n + 1) * sizeof(*order));

    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < p->components[i].ninputs; j++)
            indeg[i] += p->components[i].inputs[j].from != NULL;
    for (size_t i = 0; i < n; i++)
        if (!indeg[i])
            order[done++] = &p->components[i];
    for (size_t k = 0; k < done; k++)
        for (size_t j = 0; j < order[k]->noutputs; j++) {
            struct df_input *to = order[k]->outputs[j].to;
            size_t ci;
            if (!to)
                continue;
            ci = (size_t)(to->comp - p->components);
            if (--indeg[ci] == 0)
                order[done++] = to->comp;
        }
    for (size_t i = 0; i < n; i++)
        if (indeg[i] > 0)
            problem(pl, &p->components[i],
                    "is part of a cycle of paths (a data flow must not "
                    "loop back on itself)");
    free(indeg);
    pl->plan->order = order;
    pl->plan->ncomponents = done;
}

/* Estimated bytes per row of a layout, as SSIS sizes buffers: fixed
 * widths, a NULL byte, and the declared length of strings. */
static size_t
row_width(const struct df_layout *l)
{
    size_t w = 0;

    for (size_t i = 0; i < l->nslots; i++) {
        const struct expr_type *t = &l->types[i];
        size_t extra = 0;
        if (t->dt == EXPR_DT_STR || t->dt == EXPR_DT_BYTES)
            extra = (size_t)t->length;
        else if (t->dt == EXPR_DT_WSTR)
            extra = 2 * (size_t)t->length;
        w += df_type_width(t->dt) + 1 + (extra > 8000 ? 8000 : extra);
    }
    return w ? w : 1;
}

static struct df_tree *
tree_of_layout(const struct df_layout *l)
{
    return (struct df_tree *)((char *)l - offsetof(struct df_tree, layout));
}

struct df_tree *
df_plan_tree_of(const struct df_plan *plan, const struct df_output *out)
{
    (void)plan;
    return out->layout ? tree_of_layout(out->layout) : NULL;
}

/* Assigns trees to outputs in component order and slots to their
 * columns; counts slots per tree in layout.nslots. */
static void
assign_trees(struct planner *pl)
{
    struct df_plan *plan = pl->plan;
    size_t ntrees = 0;

    for (size_t k = 0; k < plan->ncomponents; k++)
        for (size_t j = 0; j < plan->order[k]->noutputs; j++)
            ntrees += plan->order[k]->outputs[j].sync_input == NULL;
    plan->trees = warena_alloc(&pl->p->arena,
                               (ntrees + 1) * sizeof(*plan->trees));
    for (size_t k = 0; k < plan->ncomponents; k++) {
        struct df_component *c = plan->order[k];
        for (size_t j = 0; j < c->noutputs; j++) {
            struct df_output *o = &c->outputs[j];
            struct df_tree *t;
            if (!o->sync_input) {
                t = &plan->trees[plan->ntrees];
                t->index = (int)plan->ntrees++;
                t->root = o;
            } else if (o->sync_input->from && o->sync_input->from->layout) {
                t = tree_of_layout(o->sync_input->from->layout);
            } else {
                continue; /* its input has no path: reported below */
            }
            o->layout = &t->layout;
            for (size_t i = 0; i < o->ncolumns; i++)
                o->columns[i].slot = (int)t->layout.nslots++;
        }
    }
}

static void
fill_layouts(struct planner *pl)
{
    struct df_plan *plan = pl->plan;
    struct df_pipeline *p = pl->p;

    for (size_t i = 0; i < plan->ntrees; i++)
        plan->trees[i].layout.types = warena_alloc(
            &p->arena,
            (plan->trees[i].layout.nslots + 1) * sizeof(struct expr_type));
    for (size_t k = 0; k < plan->ncomponents; k++)
        for (size_t j = 0; j < plan->order[k]->noutputs; j++) {
            struct df_output *o = &plan->order[k]->outputs[j];
            for (size_t i = 0; o->layout && i < o->ncolumns; i++)
                o->layout->types[o->columns[i].slot] = o->columns[i].type;
        }
    for (size_t i = 0; i < plan->ntrees; i++) {
        struct df_layout *l = &plan->trees[i].layout;
        size_t rows = (size_t)p->default_buffer_size / row_width(l);
        if (rows > (size_t)p->default_buffer_max_rows)
            rows = (size_t)p->default_buffer_max_rows;
        l->max_rows = rows ? rows : 1;
    }
}

/* The output column with lineage `lineage` among the outputs of tree
 * `t`. */
static struct df_column *
find_lineage(struct df_plan *plan, const struct df_layout *t,
             const char *lineage)
{
    for (size_t k = 0; k < plan->ncomponents; k++)
        for (size_t j = 0; j < plan->order[k]->noutputs; j++) {
            struct df_output *o = &plan->order[k]->outputs[j];
            if (o->layout != t)
                continue;
            for (size_t i = 0; i < o->ncolumns; i++)
                if (!strcmp(o->columns[i].lineage, lineage) ||
                    !strcmp(o->columns[i].ref_id, lineage))
                    return &o->columns[i];
        }
    return NULL;
}

static void
resolve_input(struct planner *pl, struct df_input *in)
{
    struct df_component *c = in->comp;

    if (!in->from) {
        problem(pl, c, "input '%s' has no path: connect it or remove the "
                "component", in->name);
        return;
    }
    if (!in->from->layout)
        return; /* upstream already reported */
    for (size_t i = 0; i < in->ncolumns; i++) {
        struct df_column *col = &in->columns[i];
        struct df_column *src =
            col->lineage ? find_lineage(pl->plan, in->from->layout,
                                        col->lineage)
                         : NULL;
        if (!src) {
            problem(pl, c,
                    "input column '%s' (line %d) reads '%s', which is not "
                    "a column upstream of input '%s'",
                    col->name, col->line, col->lineage ? col->lineage : "",
                    in->name);
            continue;
        }
        col->source = src;
        col->slot = src->slot;
        col->type = src->type;
    }
}

/* The inputs fed from tree `t`, parents first (breadth first from the
 * root through synchronous outputs). */
static void
list_inputs(struct planner *pl, struct df_tree *t)
{
    size_t cap = 8;

    t->inputs = xmalloc(cap * sizeof(*t->inputs));
    if (t->root->to)
        t->inputs[t->ninputs++] = t->root->to;
    for (size_t k = 0; k < t->ninputs; k++) {
        struct df_input *in = t->inputs[k];
        for (size_t j = 0; j < in->comp->noutputs; j++) {
            struct df_output *o = &in->comp->outputs[j];
            if (o->sync_input != in || !o->to)
                continue;
            XGROW(t->inputs, t->ninputs + 1, cap);
            t->inputs[t->ninputs++] = o->to;
        }
    }
    /* Keep the list in the arena so the plan frees with the pipeline. */
    struct df_input **v = warena_memdup(&pl->p->arena, t->inputs, t->ninputs
                                        + 1, sizeof(*v));
    free(t->inputs);
    t->inputs = v;
}

static void
check_classes(struct planner *pl)
{
    for (size_t i = 0; i < pl->p->ncomponents; i++) {
        struct df_component *c = &pl->p->components[i];
        c->ops = df_ops_for(c->class_id);
        if (c->ops)
            continue;
        if (!strcmp(c->class_id, "Microsoft.ScriptComponentHost"))
            problem(pl, c, "script components cannot run: they need .NET");
        else
            problem(pl, c, "component class '%s' is not supported",
                    c->class_written);
    }
}

int
df_plan_build(struct df_pipeline *p, struct df_plan *plan, const char *prefix,
              struct wbuf *problems)
{
    struct planner pl = {
        .p = p, .plan = plan, .prefix = prefix, .problems = problems};

    memset(plan, 0, sizeof(*plan));
    check_classes(&pl);
    order_components(&pl);
    if (plan->ncomponents < p->ncomponents)
        return pl.n;
    assign_trees(&pl);
    fill_layouts(&pl);
    for (size_t k = 0; k < plan->ncomponents; k++)
        for (size_t j = 0; j < plan->order[k]->ninputs; j++)
            resolve_input(&pl, &plan->order[k]->inputs[j]);
    for (size_t i = 0; i < plan->ntrees; i++)
        list_inputs(&pl, &plan->trees[i]);
    return pl.n;
}

int
df_special_slot(const struct df_output *out, enum df_special which)
{
    for (size_t i = 0; out && i < out->ncolumns; i++)
        if (out->columns[i].special == which)
            return out->columns[i].slot;
    return -1;
}

struct df_output *
df_error_output(const struct df_component *c)
{
    for (size_t i = 0; i < c->noutputs; i++)
        if (c->outputs[i].is_error)
            return &c->outputs[i];
    return NULL;
}
