/*
 * The threads of a data flow run: a pool of at most EngineThreads threads
 * runs the run's work items, its sources and its execution trees, with a
 * bounded queue of buffers in front of each tree.
 *
 * Work items.  A source is one call to produce(), which one thread runs
 * from start to end.  A tree is runnable when its queue holds a buffer,
 * or has ended and the end was not delivered yet, and no thread runs it;
 * the thread that takes it (its `running` flag, under the pool's mutex)
 * delivers buffers down the tree until the queue is empty, then the end
 * if it came.  So a tree's components are called from one thread at a
 * time, though not always the same one.  An idle thread takes the most
 * downstream runnable tree first, then a source not started yet: draining
 * before reading more keeps fewer buffers in flight.
 *
 * Backpressure without a thread per tree.  A queue holds at most
 * DF_QUEUE_BUFFERS buffers.  A thread that sends into a full queue never
 * waits for a pool thread to come free: when no thread runs the tree, it
 * takes the tree itself for one buffer (pops the oldest, delivers it down
 * the tree, lets the tree go) and tries again; only while another thread
 * runs the tree does it wait, and that thread is emptying the queue.
 *
 * Why this cannot deadlock.  A thread waits in three places: idle, for
 * work, holding nothing; for room in the queue of a tree another thread
 * runs; for the mutex of a component with several inputs (engine.c) that
 * another thread is calling.  Order trees by their root component and
 * mutexes by their component, in the topological order of the paths.  A
 * thread waits only for a tree or component strictly downstream of what
 * it is running (sends go down the paths), and the thread it waits for
 * waits in turn only for something strictly downstream of that; the
 * paths have no cycle, so every chain of waits ends at a thread that is
 * running a component.  No thread waits for the pool to have a free
 * thread, so any pool size, one included, makes progress.
 *
 * Failure.  df_sched_wake() (the run failed or was canceled) wakes every
 * waiting thread: senders return -1, idle threads return, and a thread
 * running a tree stops at its next buffer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "dataflow/df_core.h"

#define DF_QUEUE_BUFFERS 4

struct df_queue {
    pthread_cond_t not_full;
    struct df_buffer *v[DF_QUEUE_BUFFERS];
    size_t head, n;
    bool ended;   /* no more buffers will come */
    bool running; /* a thread delivers this tree's buffers */
    bool done;    /* the end was delivered (or the tree has no path) */
};

struct df_sched {
    struct df_exec *x;
    const struct df_plan *plan;
    pthread_mutex_t mu;
    pthread_cond_t work; /* idle threads wait here */
    struct df_queue *q;  /* by tree index */
    struct df_component **srcs;
    size_t nsrcs, next_src;
    size_t left; /* work items not finished */
    size_t nthreads;
    /* Statistics for df_run_stats. */
    size_t busy, peak_busy, inline_deliveries;
};

struct df_sched *
df_sched_new(struct df_exec *x, const struct df_plan *plan)
{
    struct df_sched *s = xcalloc(1, sizeof(*s));

    s->x = x;
    s->plan = plan;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work, NULL);
    s->q = xcalloc(plan->ntrees + 1, sizeof(*s->q));
    for (size_t i = 0; i < plan->ntrees; i++) {
        pthread_cond_init(&s->q[i].not_full, NULL);
        s->q[i].done = plan->trees[i].root->to == NULL;
        s->left += !s->q[i].done;
    }
    s->srcs = xcalloc(plan->ncomponents + 1, sizeof(*s->srcs));
    for (size_t i = 0; i < plan->ncomponents; i++)
        if (plan->order[i]->ops->produce)
            s->srcs[s->nsrcs++] = plan->order[i];
    s->left += s->nsrcs;
    return s;
}

void
df_sched_free(struct df_sched *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->plan->ntrees; i++) {
        struct df_queue *q = &s->q[i];
        for (; q->n; q->n--, q->head = (q->head + 1) % DF_QUEUE_BUFFERS)
            df_buffer_unref(q->v[q->head]);
        pthread_cond_destroy(&q->not_full);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->work);
    free(s->q);
    free(s->srcs);
    free(s);
}

size_t
df_sched_threads(const struct df_sched *s, int engine_threads)
{
    size_t n = s->left, cap = engine_threads > 0 ? (size_t)engine_threads : 1;

    return n < cap ? (n ? n : 1) : cap;
}

void
df_sched_wake(struct df_sched *s)
{
    pthread_mutex_lock(&s->mu);
    pthread_cond_broadcast(&s->work);
    for (size_t i = 0; i < s->plan->ntrees; i++)
        pthread_cond_broadcast(&s->q[i].not_full);
    pthread_mutex_unlock(&s->mu);
}

/* An item finished (under mu): when it was the last, idle threads
 * return. */
static void
item_done(struct df_sched *s)
{
    if (--s->left == 0)
        pthread_cond_broadcast(&s->work);
}

static struct df_buffer *
pop(struct df_queue *q)
{
    struct df_buffer *b = q->v[q->head];

    q->head = (q->head + 1) % DF_QUEUE_BUFFERS;
    q->n--;
    pthread_cond_broadcast(&q->not_full);
    return b;
}

/* Lets tree `q` go (under mu): a thread waiting for room may now take it
 * itself, and if it is still runnable an idle thread may. */
static void
release(struct df_sched *s, struct df_queue *q)
{
    q->running = false;
    pthread_cond_broadcast(&q->not_full);
    if (q->n || (q->ended && !q->done))
        pthread_cond_signal(&s->work);
}

/* Takes the oldest buffer of full tree `t` and delivers it in this
 * thread; mu is held on entry and on return. */
static void
deliver_inline(struct df_sched *s, struct df_tree *t)
{
    struct df_queue *q = &s->q[t->index];
    struct df_buffer *b;

    q->running = true;
    b = pop(q);
    s->inline_deliveries++;
    pthread_mutex_unlock(&s->mu);
    df_exec_deliver(s->x, t, b);
    pthread_mutex_lock(&s->mu);
    release(s, q);
}

int
df_sched_push(struct df_sched *s, struct df_tree *t, struct df_buffer *b)
{
    struct df_queue *q = &s->q[t->index];

    pthread_mutex_lock(&s->mu);
    while (q->n == DF_QUEUE_BUFFERS && !df_exec_failing(s->x)) {
        if (!q->running)
            deliver_inline(s, t);
        else
            pthread_cond_wait(&q->not_full, &s->mu);
    }
    if (df_exec_failing(s->x)) {
        pthread_mutex_unlock(&s->mu);
        df_buffer_unref(b);
        return -1;
    }
    q->v[(q->head + q->n++) % DF_QUEUE_BUFFERS] = b;
    if (!q->running)
        pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

void
df_sched_end(struct df_sched *s, struct df_tree *t)
{
    struct df_queue *q = &s->q[t->index];

    pthread_mutex_lock(&s->mu);
    q->ended = true;
    if (!q->running && !q->done)
        pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->mu);
}

/* Runs tree `t`, taken by this thread: its buffers until the queue is
 * empty, then its end if it came.  mu is held on entry and on return. */
static void
run_tree(struct df_sched *s, struct df_tree *t)
{
    struct df_queue *q = &s->q[t->index];

    while (!df_exec_failing(s->x)) {
        if (q->n) {
            struct df_buffer *b = pop(q);
            pthread_mutex_unlock(&s->mu);
            df_exec_deliver(s->x, t, b);
            pthread_mutex_lock(&s->mu);
        } else if (q->ended && !q->done) {
            q->done = true;
            pthread_mutex_unlock(&s->mu);
            df_exec_end_tree(s->x, t);
            pthread_mutex_lock(&s->mu);
            item_done(s);
            break;
        } else {
            break;
        }
    }
    release(s, q);
}

static void
run_source(struct df_sched *s, struct df_component *c)
{
    pthread_mutex_unlock(&s->mu);
    df_exec_produce(s->x, c);
    pthread_mutex_lock(&s->mu);
    item_done(s);
}

/* The most downstream runnable tree (trees are numbered in the order of
 * the components), or NULL. */
static struct df_tree *
runnable_tree(struct df_sched *s)
{
    for (size_t i = s->plan->ntrees; i-- > 0;) {
        struct df_queue *q = &s->q[i];
        if (!q->running && !q->done && (q->n || q->ended))
            return &s->plan->trees[i];
    }
    return NULL;
}

/* One thread of the pool: runs work items until none is left or the run
 * fails. */
static void
work(struct df_sched *s)
{
    pthread_mutex_lock(&s->mu);
    while (s->left && !df_exec_failing(s->x)) {
        struct df_tree *t = runnable_tree(s);
        if (!t && s->next_src == s->nsrcs) {
            pthread_cond_wait(&s->work, &s->mu);
            continue;
        }
        if (++s->busy > s->peak_busy)
            s->peak_busy = s->busy;
        if (t) {
            s->q[t->index].running = true;
            run_tree(s, t);
        } else {
            run_source(s, s->srcs[s->next_src++]);
        }
        s->busy--;
    }
    pthread_mutex_unlock(&s->mu);
}

static void *
thread_main(void *arg)
{
    struct df_sched *s = arg;

    df_exec_thread_enter(s->x);
    work(s);
    return NULL;
}

void
df_sched_run(struct df_sched *s, size_t nthreads, struct df_run_stats *st)
{
    pthread_t *tid = xcalloc(nthreads + 1, sizeof(*tid));

    s->nthreads = nthreads;
    for (size_t i = 1; i < nthreads; i++)
        if (pthread_create(&tid[i], NULL, thread_main, s) != 0)
            W_BUG("pthread_create: %s", strerror(errno));
    work(s);
    for (size_t i = 1; i < nthreads; i++)
        pthread_join(tid[i], NULL);
    free(tid);
    if (st) {
        st->threads = nthreads;
        st->peak_busy = s->peak_busy;
        st->inline_deliveries = s->inline_deliveries;
    }
}
