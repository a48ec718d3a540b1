/*
 * The engine's own declarations, shared by plan.c, engine.c, buffer.c and
 * errors.c only (components use df_int.h).
 *
 * The plan: execution trees.  A tree starts at an asynchronous output (a
 * source's, or one of Sort, Union All...) and holds every output that is
 * synchronous to an input fed from the tree; all its buffers share one
 * layout.  `inputs` lists the inputs fed from the tree in the order rows
 * reach them (parents first), which is the order end_of_input is called.
 */
#ifndef WEIR_DATAFLOW_DF_CORE_H
#define WEIR_DATAFLOW_DF_CORE_H

#include <pthread.h>

#include "dataflow/df_int.h"

struct df_tree {
    int index;
    struct df_output *root;
    struct df_layout layout;
    struct df_input **inputs; /* fed from this tree, parents first */
    size_t ninputs;
};

struct df_plan {
    struct df_tree *trees;
    size_t ntrees;
    struct df_component **order; /* sources first, then downstream */
    size_t ncomponents;
};

/* Plans `p` (trees, layouts, slots, input column sources, cycles).  The
 * plan lives in p's arena.  Each problem is appended to `problems` as
 * "component 'NAME': message\n" (prefixed with `prefix`); returns how
 * many.  A plan with problems must not run. */
int df_plan_build(struct df_pipeline *p, struct df_plan *plan,
                  const char *prefix, struct wbuf *problems);

/* The tree whose buffers flow on `out` (planned pipelines only). */
struct df_tree *df_plan_tree_of(const struct df_plan *plan,
                                const struct df_output *out);

/* Pools (buffer.c): one per layout of a run, freed with the run once
 * every buffer came back. */
void df_pool_attach(struct df_layout *layout);
void df_pool_detach(struct df_layout *layout);

/* Error output columns: the slots of ErrorCode and ErrorColumn in the
 * output `out`'s layout, -1 when it has none. */
int df_special_slot(const struct df_output *out, enum df_special which);

/* Removes the rows marked non-zero in `drop` from `b` (in place; `b` must
 * be private to the caller). */
void df_buffer_drop_rows(struct df_buffer *b, const uint8_t *drop);
/* Lets `dst` keep the string bytes of `src` alive (after copying string
 * views from src into dst by hand). */
void df_buffer_share_bytes(struct df_buffer *dst, const struct df_buffer *src);

/* The first output of `c` flagged as an error output, or NULL. */
struct df_output *df_error_output(const struct df_component *c);

/* The problem prefix of the task, for messages. */
const char *df_exec_prefix(const struct df_exec *x);

#endif
