/*
 * Containers (the package, Sequence, each For Loop iteration): the
 * scheduler that runs their children, independent branches at the same
 * time, as SSIS does.
 *
 * The container's thread holds the run lock (runtime_int.h).  It starts,
 * in document order, every child whose precedence constraints are
 * satisfied, each on a thread of its own, then sleeps on `run->changed`
 * until a child ends; it then evaluates that child's outgoing constraints
 * and starts what became ready.  A child whose constraints can no longer
 * be satisfied is dead and never runs, and neither does anything that
 * waits on it under AND.  Each child thread takes the lock to run and
 * gives it up only around blocking work, so at most one thread runs
 * runtime code at any time; the parallelism is in the waits (processes,
 * statements), which is where a control flow spends its time.
 *
 * MaxConcurrentExecutables bounds the tasks running at once in the whole
 * package (-1: processors + 2); containers take no slot, as in SSIS,
 * where a container's children are what run.  A child that cannot get a
 * slot waits, and the ones after it in document order wait behind it.
 * Executables started from inside a running task (an event handler run
 * for the task's error) never wait for a slot, which would deadlock.
 *
 * Determinism where it is free: the container waits until a child it has
 * started first releases the lock (it blocks or ends) before starting the
 * next, so executables begin in document order and their first events
 * come in that order.  A container with one ready child and none running
 * runs it on its own thread, so a chain of steps takes no thread at all.
 *
 * Results follow SSIS: a disabled child is skipped and counts as success
 * for its constraints; a container fails when the errors raised inside it
 * (from all branches) reach its MaximumErrorCount (0 = no limit), when a
 * child with FailParentOnFailure fails (it starts nothing more; running
 * children finish), or when a child with FailPackageOnFailure fails (no
 * container starts anything more and the package fails once the running
 * executables end).  A failure that a Failure constraint handles still
 * counts its errors: raise MaximumErrorCount to tolerate it, as in SSIS.
 * On cancel nothing more starts; the running executables, which were told
 * to stop through the run's cancel descriptor, are waited for.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "expr/expr.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

enum child_status { PENDING, RUNNING, FINISHED, DONE, DEAD };
enum readiness { WAIT, READY, NEVER };

struct container_run;

/* A child running on a thread of its own. */
struct child {
    struct rt_run *run;
    struct container_run *cr;
    size_t i;
    pthread_t th;
    bool threaded; /* to be joined */
    bool started;  /* its thread has taken the lock */
};

struct container_run {
    const struct pkg_executable *c;
    enum child_status *status; /* by child */
    enum rt_result *result;    /* by child, once FINISHED */
    bool *pc_ok; /* by constraint: satisfied once its source finished */
    struct child *kids;
    size_t running; /* children RUNNING or FINISHED */
    bool stop;      /* start nothing more */
    bool failed;    /* a FailParentOnFailure child failed */
    bool canceled;
};

static size_t
child_pos(const struct pkg_executable *c, const struct pkg_executable *x)
{
    for (size_t i = 0; i < c->nchildren; i++)
        if (c->children[i] == x)
            return i;
    return c->nchildren;
}

static bool
outcome_matches(enum pkg_outcome want, enum rt_result got)
{
    switch (want) {
    case PKG_SUCCESS:
        return got == RT_SUCCESS;
    case PKG_FAILURE:
        return got == RT_FAILURE;
    case PKG_COMPLETION:
        return got == RT_SUCCESS || got == RT_FAILURE || got == RT_COMPLETION;
    }
    return false;
}

/* Whether child i may run now, must wait, or never will.  Constraints into
 * one child combine with AND only if all of them say LogicalAnd="True"
 * (the designer writes one setting for all; absent means OR).  A source
 * still running satisfies nothing yet. */
static enum readiness
readiness(const struct container_run *cr, size_t i)
{
    const struct pkg_executable *c = cr->c;
    size_t incoming = 0, yes = 0, no = 0;
    bool all_and = true;

    for (size_t k = 0; k < c->nconstraints; k++) {
        const struct pkg_constraint *pc = &c->constraints[k];
        if (!pc->from || pc->to != c->children[i])
            continue;
        size_t j = child_pos(c, pc->from);
        incoming++;
        all_and = all_and && pc->logical_and;
        if (cr->status[j] == DEAD)
            no++;
        else if (cr->status[j] == DONE && cr->pc_ok[k])
            yes++;
        else if (cr->status[j] == DONE)
            no++;
    }
    if (!incoming)
        return READY;
    if (all_and)
        return no ? NEVER : yes == incoming ? READY : WAIT;
    return yes ? READY : no == incoming ? NEVER : WAIT;
}

/* The first ready child in document order (nchildren when none), marking
 * the dead ones; `*nready` gets how many are ready. */
static size_t
next_child(struct container_run *cr, size_t *nready)
{
    size_t n = cr->c->nchildren, first = n;
    bool changed = true;

    while (changed) {
        changed = false;
        first = n;
        *nready = 0;
        for (size_t i = 0; i < n; i++) {
            if (cr->status[i] != PENDING)
                continue;
            enum readiness r = readiness(cr, i);
            if (r == READY && !(*nready)++)
                first = i;
            if (r == NEVER) {
                cr->status[i] = DEAD;
                changed = true;
            }
        }
    }
    return first;
}

/* The value of a constraint's expression; an error or NULL is false. */
static bool
constraint_expr(struct rt_run *run, const struct pkg_executable *c,
                const struct pkg_constraint *pc)
{
    const char *text = pc->expression ? pc->expression : "";
    struct rt_value v = {0};
    struct werr err;
    struct expr *e;
    bool ok = false;

    if (!run->vars) {
        werr_set(&err, WERR_INVALID, "no variables in this run");
        goto fail;
    }
    if (!(e = rt_vars_expr(run->vars, pc, c, text, 0, &err)) ||
        rt_expr_eval(run->vars, c, e, &v, &err) < 0)
        goto fail;
    if (v.null)
        rt_emit(run, c, RT_EV_WARNING,
                "precedence constraint '%s': expression \"%s\" is NULL, "
                "which counts as false",
                pc->name, text);
    else
        ok = v.vt == RT_VT_BOOL && v.n.b;
    rt_value_release(&v);
    return ok;
fail:
    rt_error(run, c, RT_E_EXPRESSION,
             "precedence constraint '%s': expression \"%s\": %s", pc->name,
             text, err.msg);
    return false;
}

/* Evaluates the constraints leaving child i, which has just finished. */
static void
eval_constraints(struct rt_run *run, struct container_run *cr, size_t i)
{
    const struct pkg_executable *c = cr->c;

    for (size_t k = 0; k < c->nconstraints; k++) {
        const struct pkg_constraint *pc = &c->constraints[k];
        bool outcome;
        if (pc->from != c->children[i])
            continue;
        outcome = outcome_matches(pc->value, cr->result[i]);
        switch (pc->eval_op) {
        case PKG_EVAL_EXPRESSION:
            cr->pc_ok[k] = constraint_expr(run, c, pc);
            break;
        case PKG_EVAL_EXPR_AND_CONSTRAINT:
            cr->pc_ok[k] = outcome && constraint_expr(run, c, pc);
            break;
        case PKG_EVAL_EXPR_OR_CONSTRAINT:
            cr->pc_ok[k] = outcome || constraint_expr(run, c, pc);
            break;
        default:
            cr->pc_ok[k] = outcome;
        }
    }
}

/* Containers take no slot of MaxConcurrentExecutables; tasks do, except
 * in event handlers, which run while the executable that raised their
 * event holds its slot (waiting for one there could wait forever). */
static bool
takes_slot(const struct pkg_executable *x)
{
    return !x->in_handler && strncmp(x->type, "STOCK:", 6) != 0 &&
           strcmp(x->type, "Microsoft.Package") != 0;
}

/* Whether this thread runs a task (and so holds a slot).  Executables
 * started from inside a task, such as an event handler's for an error the
 * task raised, must not wait for a slot: the task waits for them while
 * holding its own, and with every slot so held nothing would move. */
static _Thread_local bool in_task;

static bool
slot_free(const struct rt_run *run, const struct pkg_executable *x)
{
    return !run->threaded || !takes_slot(x) || in_task ||
           run->slots_used < run->slots_max;
}

/* rt_execute on this thread, which holds a slot while `x` is a task. */
static enum rt_result
execute_here(struct rt_run *run, const struct pkg_executable *x)
{
    bool was = in_task;
    enum rt_result r;

    in_task = was || takes_slot(x);
    r = rt_execute(run, x);
    in_task = was;
    return r;
}

/* A disabled child, or one whose Disable expression failed, is settled
 * without running; returns whether child i was. */
static bool
settle_unrun(struct rt_run *run, struct container_run *cr, size_t i)
{
    bool disabled;
    int rc = rt_prop_disabled(run, cr->c->children[i], &disabled);

    if (rc == 0 && !disabled)
        return false;
    cr->result[i] = rc < 0 ? RT_FAILURE : RT_SUCCESS;
    cr->status[i] = DONE;
    eval_constraints(run, cr, i);
    return true;
}

/* Records the end of child i (lock held) and wakes its container. */
static void
finish(struct rt_run *run, struct container_run *cr, size_t i, enum rt_result r)
{
    cr->result[i] = r;
    cr->status[i] = FINISHED;
    if (run->threaded && takes_slot(cr->c->children[i]))
        run->slots_used--;
    if (run->threaded)
        pthread_cond_broadcast(&run->changed);
}

static void *
child_main(void *arg)
{
    struct child *k = arg;
    struct rt_run *run = k->run;
    enum rt_result r;

    pthread_mutex_lock(&run->lock);
    k->started = true;
    pthread_cond_broadcast(&run->changed);
    r = execute_here(run, k->cr->c->children[k->i]);
    finish(run, k->cr, k->i, r);
    pthread_mutex_unlock(&run->lock);
    return NULL;
}

/* Starts child i: on this thread when `here`, or when no thread can be
 * made (the run is then slower, not wrong). */
static void
start_child(struct rt_run *run, struct container_run *cr, size_t i, bool here)
{
    const struct pkg_executable *x = cr->c->children[i];
    struct child *k = &cr->kids[i];

    cr->status[i] = RUNNING;
    cr->running++;
    if (run->threaded && takes_slot(x))
        run->slots_used++;
    *k = (struct child){.run = run, .cr = cr, .i = i};
    if (!here && run->threaded)
        k->threaded = pthread_create(&k->th, NULL, child_main, k) == 0;
    if (!k->threaded) {
        finish(run, cr, i, execute_here(run, x));
        return;
    }
    while (!k->started)
        pthread_cond_wait(&run->changed, &run->lock);
}

/* Takes in the children that have ended: their constraints, and what
 * their failure means for the container and the package. */
static void
collect(struct rt_run *run, struct container_run *cr)
{
    for (size_t i = 0; i < cr->c->nchildren; i++) {
        const struct pkg_executable *x = cr->c->children[i];
        enum rt_result r = cr->result[i];
        if (cr->status[i] != FINISHED)
            continue;
        if (cr->kids[i].threaded)
            pthread_join(cr->kids[i].th, NULL);
        cr->kids[i].threaded = false;
        cr->status[i] = DONE;
        cr->running--;
        if (r == RT_CANCELED) {
            cr->canceled = cr->stop = true;
            continue;
        }
        eval_constraints(run, cr, i);
        if (r == RT_FAILURE && x->fail_package_on_failure) {
            rt_emit(run, x, RT_EV_WARNING,
                    "FailPackageOnFailure is set: the package stops and "
                    "fails");
            run->package_failed = true;
        }
        if (r == RT_FAILURE && x->fail_parent_on_failure) {
            rt_emit(run, cr->c, RT_EV_WARNING,
                    "'%s' failed and has FailParentOnFailure set", x->name);
            cr->failed = cr->stop = true;
        }
    }
}

enum step {
    STARTED, /* a child started or was settled: look again */
    BLOCKED, /* the next child waits for a slot */
    IDLE,    /* nothing can start until a child ends (or ever) */
};

/* Starts the next child that can start, if any. */
static enum step
step(struct rt_run *run, struct container_run *cr)
{
    size_t n = cr->c->nchildren, i, nready;

    if (!cr->stop && rt_canceled(run))
        cr->canceled = cr->stop = true;
    if (run->package_failed)
        cr->stop = true;
    if (cr->stop || (i = next_child(cr, &nready)) == n)
        return IDLE;
    if (settle_unrun(run, cr, i))
        return STARTED;
    if (!slot_free(run, cr->c->children[i]))
        return BLOCKED;
    start_child(run, cr, i, nready == 1 && !cr->running);
    return STARTED;
}

static enum rt_result
container_result(struct rt_run *run, const struct container_run *cr)
{
    const struct pkg_executable *c = cr->c;
    int errors = run->state[c->index].errors;

    if (cr->canceled)
        return RT_CANCELED;
    if (cr->failed || (run->package_failed && !c->parent))
        return RT_FAILURE;
    if (c->max_error_count > 0 && errors >= c->max_error_count) {
        rt_emit(run, c, RT_EV_WARNING,
                "the number of errors raised (%d) "
                "reached the maximum allowed (%d); "
                "resulting in failure",
                errors, c->max_error_count);
        return RT_FAILURE;
    }
    return run->package_failed ? RT_FAILURE : RT_SUCCESS;
}

enum rt_result
rt_container_run(struct rt_run *run, const struct pkg_executable *c)
{
    struct container_run cr = {.c = c};
    enum rt_result r;

    cr.status = xcalloc(c->nchildren + 1, sizeof(*cr.status));
    cr.result = xcalloc(c->nchildren + 1, sizeof(*cr.result));
    cr.pc_ok = xcalloc(c->nconstraints + 1, sizeof(*cr.pc_ok));
    cr.kids = xcalloc(c->nchildren + 1, sizeof(*cr.kids));
    for (;;) {
        collect(run, &cr);
        enum step st = step(run, &cr);
        if (st == STARTED)
            continue;
        if (st == IDLE && !cr.running)
            break;
        /* A child's end or a freed slot broadcasts `changed`. */
        pthread_cond_wait(&run->changed, &run->lock);
    }
    r = container_result(run, &cr);
    free(cr.status);
    free(cr.result);
    free(cr.pc_ok);
    free(cr.kids);
    return r;
}

/* MaxConcurrentExecutables: -1 (and 0, which SSIS refuses) is the number
 * of processors plus two. */
static int
slots_for(int max)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    if (max > 0)
        return max;
    return cpus > 0 && cpus < 4096 ? (int)cpus + 2 : 3;
}

enum rt_result
rt_run_package(struct rt_run *run)
{
    enum rt_result r;

    pthread_mutex_init(&run->lock, NULL);
    pthread_cond_init(&run->changed, NULL);
    run->slots_max = slots_for(pkg_max_concurrent(run->pkg));
    run->slots_used = 0;
    run->threaded = true;
    pthread_mutex_lock(&run->lock);
    r = rt_execute(run, pkg_root(run->pkg));
    pthread_mutex_unlock(&run->lock);
    run->threaded = false;
    pthread_cond_destroy(&run->changed);
    pthread_mutex_destroy(&run->lock);
    return r;
}

const struct rt_task_ops rt_package_ops = {
    .type = "Microsoft.Package",
    .execute = rt_container_run,
};

const struct rt_task_ops rt_sequence_ops = {
    .type = "STOCK:SEQUENCE",
    .execute = rt_container_run,
};
