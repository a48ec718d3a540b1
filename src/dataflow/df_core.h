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

/*
 * The pool of threads of a run (sched.c): sources and trees as work items
 * for at most EngineThreads threads, a bounded queue of buffers in front
 * of each tree.  sched.c's opening comment says why it cannot deadlock.
 */
struct df_sched;

/* The scheduler of a planned run (queues empty, nothing started); the
 * plan is borrowed for its life.  df_sched_free() drops the buffers left
 * in its queues; NULL is a no-op. */
struct df_sched *df_sched_new(struct df_exec *x, const struct df_plan *plan);
void df_sched_free(struct df_sched *s);
/* The threads a run takes for EngineThreads `engine_threads`: one per
 * work item (sources, trees with a path), at most engine_threads (below
 * 1: 1), at least 1. */
size_t df_sched_threads(const struct df_sched *s, int engine_threads);
/* Queues buffer `b` (consumed) for tree `t`.  While the queue is full,
 * delivers its oldest buffer in this thread if no thread runs the tree,
 * else waits for room.  -1 once the run fails (b dropped). */
int df_sched_push(struct df_sched *s, struct df_tree *t, struct df_buffer *b);
/* No more buffers will come for tree `t`: once its queue is empty its end
 * is delivered (df_exec_end_tree). */
void df_sched_end(struct df_sched *s, struct df_tree *t);
/* The run is failing: wakes every thread that waits, so each returns. */
void df_sched_wake(struct df_sched *s);
/* Runs every source and tree on `nthreads` threads, the calling one
 * among them, until all ended or the run failed; fills `stats` when not
 * NULL (all but engine_threads). */
void df_sched_run(struct df_sched *s, size_t nthreads,
                  struct df_run_stats *stats);

/* What the pool's threads call in engine.c.  df_exec_thread_enter makes
 * the calling thread one of the run's (df_stopping, blocked calls);
 * df_exec_deliver sends `b` (consumed) down tree `t`; df_exec_end_tree
 * ends the inputs fed from `t`, parents first; df_exec_produce runs
 * source `c` to its end.  Failures go to the run (df_exec_failing). */
bool df_exec_failing(struct df_exec *x);
void df_exec_thread_enter(struct df_exec *x);
void df_exec_deliver(struct df_exec *x, struct df_tree *t,
                     struct df_buffer *b);
void df_exec_end_tree(struct df_exec *x, struct df_tree *t);
void df_exec_produce(struct df_exec *x, struct df_component *c);

#endif
