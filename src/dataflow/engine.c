/*
 * The run of a pipeline: threads, bounded queues, end of input, failure,
 * cancel, and the host calls components make.
 *
 * Threads.  The run's sources and execution trees are work items for a
 * pool of at most EngineThreads threads, the calling thread among them
 * (sched.c, which says how bounded queues and a thread that sends into a
 * full queue keep the pool from deadlocking).  Delivering a buffer to a
 * tree calls each synchronous component of the tree in turn, in place;
 * sources' df_send()s, like those of asynchronous outputs (Sort, Union
 * All...), push into the queue of the output's tree, so the memory of a
 * run is bounded by the buffers in flight whatever the size of the input.
 * A component with several inputs fed by different trees (Union All,
 * Merge Join) is called under its own mutex, so no component is ever
 * called from two threads at once.
 *
 * End of input.  When a source's produce() returns, or when a tree's
 * queue is empty and ended, the thread calls end_of_input on the tree's
 * inputs, parents first.  A component whose inputs have all ended has
 * finished: its asynchronous outputs' queues end in turn.
 *
 * Failure and cancel.  The first df_error() marks the run failed and wakes
 * every waiting thread: sources stop at their next df_send(), trees at
 * their next buffer, and every thread returns.  A watcher thread, from before
 * pre_execute to after post_execute, asks the host's canceled() every
 * DF_TICK_MS and fails the run the same way.  A thread blocked inside a
 * database call sees none of this: while the run is stopping, the
 * watcher interrupts the calls registered with df_blocking_begin()
 * (df_int.h), so the blocked thread returns an error and stops too.
 * post_execute and cleanup always run, in the thread that called
 * df_run().
 *
 * Progress.  The calling thread reports the phases as SSIS does
 * ("Pre-Execute" and "Post Execute", at 0 and 100 percent), and while the
 * rows flow the watcher reports, every DF_PROGRESS_MS, each path whose
 * row count moved since it last said so; the data statistics at the end
 * give the totals.
 *
 * Locking with the host.  df_run() is called with the control flow's run
 * lock held.  It releases it at once (blocking_begin) and retakes it
 * before returning (blocking_end).  Every host call from any thread of
 * the run, the calling one included, takes the run's host mutex, then
 * the run lock (blocking_end), calls the host, releases the run lock
 * (blocking_begin) and the mutex.  The order is always host mutex, then
 * run lock, and nothing holding the run lock waits for the data flow's
 * threads, so the two cannot deadlock; the host is called one call at a
 * time, as dataflow.h promises.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/wtime.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "dataflow/df_core.h"

#define DF_TICK_MS 50
/* How often a blocked call is interrupted again while the run stops. */
#define DF_BLOCKING_REPEAT_MS 500
/* How often the rows along each path are reported while they flow. */
#define DF_PROGRESS_MS 1000
/* The OnError code of a component's failure (docs/exec.md). */
#define DF_CODE_COMPONENT 70

struct df_comp_rt {
    pthread_mutex_t mu;
    int pending; /* inputs not ended yet */
    bool locked; /* several inputs: calls take mu */
    bool tried;  /* pre_execute was called: cleanup will be */
    bool pre;    /* pre_execute succeeded */
};

struct df_exec {
    const struct df_host *h;
    struct df_pipeline *p;
    struct df_plan plan;
    char prefix[512];
    pthread_mutex_t host_mu;
    pthread_mutex_t mu; /* failed, err, watch_stop */
    pthread_cond_t cv;
    int failed, canceled; /* atomic reads */
    struct werr err;
    struct df_sched *sched; /* while the rows flow */
    struct df_comp_rt *crt;  /* by component */
    /* Calls blocked in a database (df_blocking_begin), under blk_mu. */
    pthread_mutex_t blk_mu;
    struct df_blocking *blocked;
    /* The watcher thread; watch_stop is under mu. */
    pthread_t watcher;
    bool watching, watch_stop;
    /* The watcher's: rows last reported, by output in plan order. */
    int64_t *reported;
    int64_t next_progress_ns;
};

/* The run the calling thread works for: set in the run's threads and,
 * for the duration of df_run(), in the calling thread. */
static _Thread_local struct df_exec *cur_run;

/* ---- host calls ---- */

static void
host_enter(struct df_exec *x)
{
    pthread_mutex_lock(&x->host_mu);
    if (x->h->blocking_end)
        x->h->blocking_end(x->h->ctx);
}

static void
host_leave(struct df_exec *x)
{
    if (x->h->blocking_begin)
        x->h->blocking_begin(x->h->ctx);
    pthread_mutex_unlock(&x->host_mu);
}

static void
emit(struct df_exec *x, const struct df_event *ev)
{
    if (!x->h->emit)
        return;
    host_enter(x);
    x->h->emit(x->h->ctx, ev);
    host_leave(x);
}

const struct df_host *
df_exec_host(const struct df_exec *x)
{
    return x->h;
}

const struct df_pipeline *
df_exec_pipeline(const struct df_exec *x)
{
    return x->p;
}

const char *
df_exec_prefix(const struct df_exec *x)
{
    return x->prefix;
}

static bool
failing(struct df_exec *x)
{
    return __atomic_load_n(&x->failed, __ATOMIC_ACQUIRE);
}

/* Marks the run failed (the first message is kept) and wakes every
 * thread that waits (for room in a queue, for work). */
static void
fail_run(struct df_exec *x, enum werr_code code, const char *msg)
{
    pthread_mutex_lock(&x->mu);
    if (!x->failed) {
        werr_set(&x->err, code, "%s", msg);
        __atomic_store_n(&x->failed, 1, __ATOMIC_RELEASE);
    }
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
    if (x->sched)
        df_sched_wake(x->sched);
}

/* ---- blocked calls ---- */

void
df_blocking_begin(struct df_blocking *b, void (*fn)(void *arg), void *arg)
{
    struct df_exec *x = cur_run;

    memset(b, 0, sizeof(*b));
    b->fn = fn;
    b->arg = arg;
    b->x = x;
    if (!x)
        return;
    pthread_mutex_lock(&x->blk_mu);
    b->next = x->blocked;
    if (x->blocked)
        x->blocked->prev = b;
    x->blocked = b;
    pthread_mutex_unlock(&x->blk_mu);
}

void
df_blocking_end(struct df_blocking *b)
{
    struct df_exec *x = b->x;

    if (!x)
        return;
    pthread_mutex_lock(&x->blk_mu);
    if (b->prev)
        b->prev->next = b->next;
    else
        x->blocked = b->next;
    if (b->next)
        b->next->prev = b->prev;
    pthread_mutex_unlock(&x->blk_mu);
    b->x = NULL;
}

bool
df_stopping(void)
{
    return cur_run && failing(cur_run);
}

/* The run is stopping: interrupts the blocked calls, each at once and
 * again every DF_BLOCKING_REPEAT_MS.  fn is called under blk_mu, so
 * df_blocking_end() waits for it. */
static void
interrupt_blocked(struct df_exec *x)
{
    int64_t now = wtime_mono_ns();

    pthread_mutex_lock(&x->blk_mu);
    for (struct df_blocking *b = x->blocked; b; b = b->next) {
        if (b->fired_ns &&
            now - b->fired_ns < DF_BLOCKING_REPEAT_MS * WTIME_MS_NS)
            continue;
        b->fired_ns = now;
        b->fn(b->arg);
    }
    pthread_mutex_unlock(&x->blk_mu);
}

static void
vevent(struct df_exec *x, const struct df_component *c,
       enum df_event_kind kind, int code, const char *fmt, va_list ap)
{
    struct df_event ev = {.kind = kind, .component = c ? c->name : NULL,
                          .code = code};
    char *msg = NULL;

    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    ev.message = msg ? msg : "";
    emit(x, &ev);
    if (kind == DF_EV_ERROR) {
        char full[sizeof(x->err.msg)];
        snprintf(full, sizeof(full), "component '%s': %s",
                 c ? c->name : "?", ev.message);
        fail_run(x, WERR_INVALID, full);
    }
    free(msg);
}

void
df_event(struct df_exec *x, const struct df_component *c,
         enum df_event_kind kind, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vevent(x, c, kind, 0, fmt, ap);
    va_end(ap);
}

void
df_error(struct df_exec *x, const struct df_component *c, int code,
         const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vevent(x, c, DF_EV_ERROR, code ? code : DF_CODE_COMPONENT, fmt, ap);
    va_end(ap);
}

/* A component's callback failed: raises its error unless the run is
 * already failing (then the -1 is only the consequence). */
static void
raise_failure(struct df_exec *x, const struct df_component *c,
              const struct werr *err)
{
    if (!failing(x))
        df_error(x, c, DF_CODE_COMPONENT, "%s",
                 err->msg[0] ? err->msg : "failed");
}

int
df_var_get(struct df_exec *x, const char *name, struct expr_value *out,
           struct werr *err)
{
    int rc;

    if (!x->h->get_var)
        return werr_set(err, WERR_NOTFOUND, "no variables in this run");
    host_enter(x);
    rc = x->h->get_var(x->h->ctx, name, out, err);
    host_leave(x);
    return rc;
}

int
df_var_set(struct df_exec *x, const char *name, const struct expr_value *v,
           struct werr *err)
{
    int rc;

    if (!x->h->set_var)
        return werr_set(err, WERR_NOTFOUND, "no variables in this run");
    host_enter(x);
    rc = x->h->set_var(x->h->ctx, name, v, err);
    host_leave(x);
    return rc;
}

int
df_var_set_rowset(struct df_exec *x, const char *name,
                  const struct df_rowset *rows, struct werr *err)
{
    int rc;

    if (!x->h->set_rowset)
        return werr_set(err, WERR_NOTFOUND,
                        "this run has no Object variables for rows");
    host_enter(x);
    rc = x->h->set_rowset(x->h->ctx, name, rows, err);
    host_leave(x);
    return rc;
}

int
df_connection(struct df_exec *x, const struct df_component *c,
              const char *name, struct df_conn *out, struct werr *err)
{
    const struct df_connection_ref *r = NULL;
    int rc;

    for (size_t i = 0; i < c->nconnections && !r; i++)
        if (!strcmp(c->connections[i].name, name))
            r = &c->connections[i];
    if (!r || !r->cm_ref || !*r->cm_ref)
        return werr_set(err, WERR_INVALID, "it has no connection '%s'",
                        name);
    if (!x->h->connection)
        return werr_set(err, WERR_NOTFOUND, "no connections in this run");
    host_enter(x);
    rc = x->h->connection(x->h->ctx, r->cm_ref, out, err);
    host_leave(x);
    if (rc < 0)
        werr_prefix(err, "connection '%s'", name);
    return rc;
}

/* ---- moving rows ---- */

static struct df_tree *
tree_of(struct df_exec *x, const struct df_output *out)
{
    return df_plan_tree_of(&x->plan, out);
}

static struct df_comp_rt *
crt_of(struct df_exec *x, const struct df_component *c)
{
    return &x->crt[c - x->p->components];
}

static int
deliver(struct df_exec *x, struct df_input *in, struct df_buffer *b,
        struct werr *err)
{
    struct df_component *c = in->comp;
    struct df_comp_rt *r = crt_of(x, c);
    int rc;

    if (!c->ops->process) {
        df_buffer_unref(b);
        return 0;
    }
    if (r->locked)
        pthread_mutex_lock(&r->mu);
    rc = c->ops->process(x, c, in, b, err);
    if (r->locked)
        pthread_mutex_unlock(&r->mu);
    if (rc < 0)
        raise_failure(x, c, err);
    return rc;
}

static int
stopped(struct df_exec *x, struct werr *err)
{
    if (__atomic_load_n(&x->canceled, __ATOMIC_ACQUIRE))
        return werr_set(err, WERR_UNAVAILABLE, "canceled");
    return werr_set(err, WERR_UNAVAILABLE, "the data flow is failing");
}

int
df_send(struct df_exec *x, struct df_output *out, struct df_buffer *b,
        struct werr *err)
{
    if (failing(x)) {
        df_buffer_unref(b);
        return stopped(x, err);
    }
    __atomic_add_fetch(&out->rows, (int64_t)b->nrows, __ATOMIC_RELAXED);
    if (!out->to || !b->nrows) {
        df_buffer_unref(b);
        return 0;
    }
    if (!out->sync_input)
        return df_sched_push(x->sched, tree_of(x, out), b) < 0
                   ? stopped(x, err)
                   : 0;
    return deliver(x, out->to, b, err);
}

/* Component `c` has no more input: its asynchronous outputs end. */
static void
finished(struct df_exec *x, struct df_component *c)
{
    for (size_t i = 0; i < c->noutputs; i++)
        if (!c->outputs[i].sync_input && c->outputs[i].layout)
            df_sched_end(x->sched, tree_of(x, &c->outputs[i]));
}

static int
end_input(struct df_exec *x, struct df_input *in)
{
    struct df_component *c = in->comp;
    struct df_comp_rt *r = crt_of(x, c);
    struct werr err = {0};
    int rc = 0;

    if (c->ops->end_of_input) {
        if (r->locked)
            pthread_mutex_lock(&r->mu);
        rc = c->ops->end_of_input(x, c, in, &err);
        if (r->locked)
            pthread_mutex_unlock(&r->mu);
        if (rc < 0) {
            raise_failure(x, c, &err);
            return -1;
        }
    }
    if (__atomic_sub_fetch(&r->pending, 1, __ATOMIC_ACQ_REL) == 0)
        finished(x, c);
    return 0;
}

/* ---- what the pool's threads run (sched.c) ---- */

bool
df_exec_failing(struct df_exec *x)
{
    return failing(x);
}

void
df_exec_thread_enter(struct df_exec *x)
{
    cur_run = x;
}

void
df_exec_deliver(struct df_exec *x, struct df_tree *t, struct df_buffer *b)
{
    struct werr err;

    deliver(x, t->root->to, b, &err);
}

void
df_exec_end_tree(struct df_exec *x, struct df_tree *t)
{
    for (size_t i = 0; i < t->ninputs && !failing(x); i++)
        if (end_input(x, t->inputs[i]) < 0)
            return;
}

void
df_exec_produce(struct df_exec *x, struct df_component *c)
{
    struct werr err = {0};

    if (c->ops->produce(x, c, &err) < 0)
        raise_failure(x, c, &err);
    else if (!failing(x))
        finished(x, c);
}

/* ---- the run ---- */

static struct df_exec *
exec_new(const struct pkg_executable *task, const struct df_host *h)
{
    struct df_exec *x = xcalloc(1, sizeof(*x));

    x->h = h;
    snprintf(x->prefix, sizeof(x->prefix), "%s: ", task->path);
    pthread_mutex_init(&x->host_mu, NULL);
    pthread_mutex_init(&x->mu, NULL);
    pthread_mutex_init(&x->blk_mu, NULL);
    pthread_cond_init(&x->cv, NULL);
    return x;
}

static void
exec_free(struct df_exec *x)
{
    if (x->sched) {
        /* The buffers left in queues go back to their pools first. */
        df_sched_free(x->sched);
        for (size_t i = 0; i < x->plan.ntrees; i++)
            df_pool_detach(&x->plan.trees[i].layout);
    }
    for (size_t i = 0; x->crt && i < x->p->ncomponents; i++)
        pthread_mutex_destroy(&x->crt[i].mu);
    free(x->crt);
    free(x->reported);
    df_pipeline_free(x->p);
    pthread_mutex_destroy(&x->host_mu);
    pthread_mutex_destroy(&x->mu);
    pthread_mutex_destroy(&x->blk_mu);
    pthread_cond_destroy(&x->cv);
    free(x);
}

/* Prefixes each line of `in` with `prefix` into `out`. */
static void
prefix_lines(struct wbuf *out, const char *prefix, const struct wbuf *in)
{
    const char *s = in->buf;

    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        wbuf_addf(out, NULL, "%s%.*s\n", prefix, (int)len, s);
        s += len + (nl != NULL);
    }
}

/* Parses and plans; 0, or the number of problems appended. */
static int
load(struct df_exec *x, const struct pkg_executable *task,
     struct wbuf *problems)
{
    struct werr err;

    if (!(x->p = df_pipeline_parse(task, &err))) {
        if (!strncmp(err.msg, task->path, strlen(task->path)))
            wbuf_addf(problems, NULL, "%s\n", err.msg);
        else
            wbuf_addf(problems, NULL, "%s%s\n", x->prefix, err.msg);
        return 1;
    }
    for (const char *const *o = x->h->overrides; o && o[0] && o[1]; o += 2)
        if (df_pipeline_override(x->p, o[0], o[1], &err) < 0) {
            wbuf_addf(problems, NULL, "%s%s\n", x->prefix, err.msg);
            return 1;
        }
    return df_plan_build(x->p, &x->plan, x->prefix, problems);
}

static int
validate_components(struct df_exec *x, struct wbuf *problems)
{
    struct wbuf mine;
    int n = 0;

    wbuf_init(&mine, WBUF_NOLIMIT);
    for (size_t i = 0; i < x->plan.ncomponents; i++) {
        struct df_component *c = x->plan.order[i];
        if (c->ops->validate)
            n += c->ops->validate(x, c, &mine);
    }
    prefix_lines(problems, x->prefix, &mine);
    wbuf_release(&mine);
    return n;
}

int
df_validate(const struct pkg_executable *task, const struct df_host *h,
            struct wbuf *problems)
{
    struct df_exec *x = exec_new(task, h);
    int n;

    if (h->blocking_begin)
        h->blocking_begin(h->ctx);
    if (!(n = load(x, task, problems)))
        n = validate_components(x, problems);
    if (h->blocking_end)
        h->blocking_end(h->ctx);
    exec_free(x);
    return n;
}

static void
setup_run(struct df_exec *x)
{
    x->sched = df_sched_new(x, &x->plan);
    for (size_t i = 0; i < x->plan.ntrees; i++)
        df_pool_attach(&x->plan.trees[i].layout);
    x->crt = xcalloc(x->p->ncomponents + 1, sizeof(*x->crt));
    for (size_t i = 0; i < x->p->ncomponents; i++) {
        struct df_component *c = &x->p->components[i];
        pthread_mutex_init(&x->crt[i].mu, NULL);
        x->crt[i].pending = (int)c->ninputs;
        x->crt[i].locked = c->ninputs > 1;
    }
}

static int
pre_execute(struct df_exec *x)
{
    for (size_t i = 0; i < x->plan.ncomponents && !failing(x); i++) {
        struct df_component *c = x->plan.order[i];
        struct werr err = {0};
        crt_of(x, c)->tried = true;
        if (c->ops->pre_execute && c->ops->pre_execute(x, c, &err) < 0) {
            raise_failure(x, c, &err);
            return -1;
        }
        crt_of(x, c)->pre = true;
    }
    return failing(x) ? -1 : 0;
}

static void
check_cancel(struct df_exec *x)
{
    bool c;

    if (!x->h->canceled || failing(x))
        return;
    host_enter(x);
    c = x->h->canceled(x->h->ctx);
    host_leave(x);
    if (c) {
        __atomic_store_n(&x->canceled, 1, __ATOMIC_RELEASE);
        fail_run(x, WERR_UNAVAILABLE, "canceled");
    }
}

/* A phase of the run, as SSIS reports it ("Pre-Execute", 50: "50 percent
 * complete"). */
static void
phase(struct df_exec *x, const char *name, int percent)
{
    struct df_event ev = {.kind = DF_EV_PROGRESS, .message = name,
                          .percent = percent};

    emit(x, &ev);
}

/* Every DF_PROGRESS_MS: each path whose rows moved since the last report,
 * with its rows so far (percent -1: the total is not known). */
static void
report_progress(struct df_exec *x)
{
    int64_t now = wtime_mono_ns();
    size_t k = 0, n = 0;

    if (now < x->next_progress_ns)
        return;
    x->next_progress_ns = now + DF_PROGRESS_MS * WTIME_MS_NS;
    if (!x->reported) {
        for (size_t i = 0; i < x->plan.ncomponents; i++)
            n += x->plan.order[i]->noutputs;
        x->reported = xcalloc(n + 1, sizeof(*x->reported));
    }
    for (size_t i = 0; i < x->plan.ncomponents; i++) {
        struct df_component *c = x->plan.order[i];
        for (size_t j = 0; j < c->noutputs; j++, k++) {
            struct df_output *o = &c->outputs[j];
            int64_t rows = __atomic_load_n(&o->rows, __ATOMIC_RELAXED);
            struct df_event ev = {.kind = DF_EV_PROGRESS, .component = c->name,
                                  .path = o->path_name, .rows = rows,
                                  .percent = -1};
            char msg[600];
            if (!o->to || rows == x->reported[k])
                continue;
            x->reported[k] = rows;
            snprintf(msg, sizeof(msg), "%lld rows so far along path '%s'",
                     (long long)rows, o->path_name);
            ev.message = msg;
            emit(x, &ev);
        }
    }
}

/* One tick of the watcher: cancel, blocked calls, progress. */
static void
tick(struct df_exec *x)
{
    check_cancel(x);
    if (failing(x))
        interrupt_blocked(x);
    else
        report_progress(x);
}

/* The watcher thread: ticks every DF_TICK_MS, and at once when the run
 * fails (fail_run broadcasts x->cv), until watch_stop. */
static void *
watch_main(void *arg)
{
    struct df_exec *x = arg;

    pthread_mutex_lock(&x->mu);
    while (!x->watch_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += DF_TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&x->cv, &x->mu, &ts);
        if (x->watch_stop)
            break;
        pthread_mutex_unlock(&x->mu);
        tick(x);
        pthread_mutex_lock(&x->mu);
    }
    pthread_mutex_unlock(&x->mu);
    return NULL;
}

static void
watch_start(struct df_exec *x)
{
    /* A run shorter than that says nothing until its statistics. */
    x->next_progress_ns = wtime_mono_ns() + DF_PROGRESS_MS * WTIME_MS_NS;
    if (pthread_create(&x->watcher, NULL, watch_main, x) != 0)
        W_BUG("pthread_create: %s", strerror(errno));
    x->watching = true;
}

static void
watch_stop(struct df_exec *x)
{
    if (!x->watching)
        return;
    pthread_mutex_lock(&x->mu);
    x->watch_stop = true;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
    pthread_join(x->watcher, NULL);
    x->watching = false;
}

/* Moves the rows: the pool of threads runs the sources and trees to
 * their end, or until the run fails. */
static void
run_threads(struct df_exec *x)
{
    size_t n = df_sched_threads(x->sched, x->p->engine_threads);

    /* Components without inputs that produce nothing end at once. */
    for (size_t i = 0; i < x->plan.ncomponents; i++)
        if (!x->plan.order[i]->ninputs && !x->plan.order[i]->ops->produce)
            finished(x, x->plan.order[i]);
    df_sched_run(x->sched, n, x->h->stats);
    if (x->h->stats)
        x->h->stats->engine_threads = x->p->engine_threads;
}

static void
post_execute(struct df_exec *x)
{
    bool failed = failing(x);

    for (size_t i = 0; i < x->plan.ncomponents; i++) {
        struct df_component *c = x->plan.order[i];
        struct werr err = {0};
        if (!crt_of(x, c)->pre || !c->ops->post_execute)
            continue;
        if (c->ops->post_execute(x, c, failed, &err) < 0)
            raise_failure(x, c, &err);
    }
    for (size_t i = 0; i < x->plan.ncomponents; i++) {
        struct df_component *c = x->plan.order[i];
        if (crt_of(x, c)->tried && c->ops->cleanup)
            c->ops->cleanup(x, c);
    }
}

/* Data statistics: rows along each path. */
static void
report_rows(struct df_exec *x)
{
    for (size_t i = 0; i < x->plan.ncomponents; i++) {
        struct df_component *c = x->plan.order[i];
        for (size_t j = 0; j < c->noutputs; j++) {
            struct df_output *o = &c->outputs[j];
            struct df_event ev = {.kind = DF_EV_ROWS, .component = c->name};
            char msg[600];
            if (!o->to)
                continue;
            ev.path = o->path_name;
            ev.rows = o->rows;
            snprintf(msg, sizeof(msg), "%lld rows went along path '%s'",
                     (long long)o->rows, o->path_name);
            ev.message = msg;
            emit(x, &ev);
        }
    }
}

int
df_run(const struct pkg_executable *task, const struct df_host *h,
       struct werr *err)
{
    struct df_exec *x = exec_new(task, h);
    struct df_exec *outer = cur_run;
    struct wbuf problems;
    int rc = -1;

    cur_run = x;
    wbuf_init(&problems, 64 * 1024);
    if (h->blocking_begin)
        h->blocking_begin(h->ctx);
    if (load(x, task, &problems)) {
        char *nl = strchr(problems.buf, '\n');
        werr_set(err, WERR_INVALID, "%.*s",
                 nl ? (int)(nl - problems.buf) : (int)problems.len,
                 problems.buf);
        goto out;
    }
    setup_run(x);
    watch_start(x);
    phase(x, "Pre-Execute", 0);
    if (pre_execute(x) == 0) {
        phase(x, "Pre-Execute", 100);
        run_threads(x);
    }
    phase(x, "Post Execute", 0);
    post_execute(x);
    watch_stop(x);
    phase(x, "Post Execute", 100);
    report_rows(x);
    rc = failing(x) ? -1 : 0;
    if (rc < 0)
        *err = x->err;
out:
    if (h->blocking_end)
        h->blocking_end(h->ctx);
    wbuf_release(&problems);
    exec_free(x);
    cur_run = outer;
    return rc;
}
