/*
 * The scheduler: parked claims and the lease reaper.
 *
 * A worker's claim that finds nothing to run is parked: its connection is
 * suspended and the claim goes to the tail of a FIFO.  When tasks may have
 * become pending (an execution was created or started, a lease expired, a
 * worker came back with a new incarnation, a task completed and freed a
 * slot), sched_wake only sets a flag; the next tick walks the parked claims
 * oldest first and asks the catalog for tasks for each, until no pending
 * task is left.  So each new task goes to exactly one waiter (the oldest one
 * allowed to run it), and a burst of submissions costs one walk, not one per
 * request.  Claims past their deadline are answered with an empty list.
 *
 * A parked client that hangs up is noticed through its socket, watched for
 * EPOLLRDHUP in the master's epoll set (MHD does not poll suspended
 * connections), and checked once more right before it is given tasks, so a
 * task is not handed to a connection nobody reads.
 *
 * The reaper keeps `next_expiry_ms` at or below the earliest lease in the
 * catalog: claims lower it, heartbeats only push leases later, so it only
 * has to be read back when it is reached.  Once a second (the sweep) it is
 * read back anyway and the parked claims are tried once, in case another
 * master sharing the catalog granted leases or created tasks this one did
 * not hear about.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/wjson.h"
#include "base/wtime.h"
#include "catalog/catalog.h"
#include "master/master_int.h"

#include "base/banned.h"

#define SWEEP_NS (1000 * WTIME_MS_NS)
#define REAP_RETRY_MS 1000

void
sched_init(struct sched *s, struct master *m)
{
    *s = (struct sched){.m = m};
}

void
sched_start(struct sched *s)
{
    s->next_expiry_ms = cat_task_next_expiry(s->m->cat);
    s->sweep_ns = wtime_mono_ns() + SWEEP_NS;
    s->wake = true;
}

static void
unlink_claim(struct sched *s, struct sched_claim *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        s->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        s->tail = c->prev;
    c->prev = c->next = NULL;
    c->parked = false;
    s->nparked--;
    if (c->fd >= 0)
        master_unwatch_fd(s->m, c->fd);
    c->fd = -1;
}

void
sched_park(struct sched *s, struct mreq *r, const char *worker_id,
           const char *incarnation, int slots, int64_t wait_ms)
{
    struct sched_claim *c = &r->claim;
    const union MHD_ConnectionInfo *ci;

    snprintf(c->worker_id, sizeof(c->worker_id), "%s", worker_id);
    snprintf(c->incarnation, sizeof(c->incarnation), "%s", incarnation);
    c->slots = slots;
    c->deadline_ns = wtime_mono_ns() + wait_ms * WTIME_MS_NS;
    c->prev = s->tail;
    c->next = NULL;
    if (s->tail)
        s->tail->next = c;
    else
        s->head = c;
    s->tail = c;
    s->nparked++;
    c->parked = true;
    r->parked = true;
    ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    c->fd = ci ? ci->connect_fd : -1;
    if (c->fd >= 0 && master_watch_fd(s->m, c->fd, c) < 0)
        c->fd = -1;
    MHD_suspend_connection(r->conn);
}

void
sched_forget(struct sched *s, struct sched_claim *c)
{
    if (c->parked)
        unlink_claim(s, c);
}

/* Answers a parked claim and lets MHD send it (once the batch that gave
 * it tasks is committed). */
static void
answer(struct sched *s, struct sched_claim *c, int status, json_t *json)
{
    unlink_claim(s, c);
    mreq_answer(c->req, status, json);
    mreq_resume(c->req);
    s->resumed = true;
}

/* Answers a parked claim with something that changed no state. */
static void
answer_stateless(struct sched *s, struct sched_claim *c, int status,
                 json_t *json)
{
    unlink_claim(s, c);
    mreq_answer_stateless(c->req, status, json);
    mreq_resume(c->req);
    s->resumed = true;
}

static json_t *
no_tasks(void)
{
    return json_pack("{s:[]}", "tasks");
}

void
sched_hangup(struct sched *s, struct sched_claim *c)
{
    if (!c->parked)
        return;
    wlog(WLOG_DEBUG, "worker %s hung up while its claim waited",
         c->worker_id);
    /* Resumed so that MHD notices the closed socket and ends the request. */
    answer_stateless(s, c, MHD_HTTP_OK, no_tasks());
}

/* True if the parked client has closed its end. */
static bool
hung_up(const struct sched_claim *c)
{
    struct pollfd p = {.fd = c->fd, .events = POLLRDHUP};

    if (c->fd < 0)
        return false;
    return poll(&p, 1, 0) > 0 &&
           (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

void
sched_wake(struct sched *s)
{
    s->wake = true;
}

void
sched_note_lease(struct sched *s, int64_t expiry_ms)
{
    if (s->next_expiry_ms == 0 || expiry_ms < s->next_expiry_ms)
        s->next_expiry_ms = expiry_ms;
}

/* Logs the tasks a claim received (one line each: a state change). */
static void
log_assigned(const char *worker_id, json_t *tasks)
{
    size_t i;
    json_t *t;

    json_array_foreach(tasks, i, t) {
        wlog(WLOG_INFO, "execution %lld started: task %lld attempt %lld on "
             "worker %s",
             (long long)json_integer_value(json_object_get(t,
                                                           "execution_id")),
             (long long)json_integer_value(json_object_get(t, "task_id")),
             (long long)json_integer_value(json_object_get(t, "attempt")),
             worker_id);
    }
}

json_t *
sched_claim_now(struct sched *s, const char *worker_id,
                const char *incarnation, int slots, struct werr *err)
{
    struct master *m = s->m;
    int64_t now = wtime_real_ms();
    json_t *tasks;

    tasks = cat_task_claim(m->cat, worker_id, incarnation, slots, now,
                           m->conf.lease_ms, err);
    if (tasks && json_array_size(tasks) > 0) {
        sched_note_lease(s, now + m->conf.lease_ms);
        log_assigned(worker_id, tasks);
    }
    return tasks;
}

/* Tries one parked claim; true if it was answered. */
static bool
try_claim(struct sched *s, struct sched_claim *c)
{
    struct werr err;
    json_t *tasks;

    if (hung_up(c)) {
        sched_hangup(s, c);
        return false;
    }
    werr_clear(&err);
    tasks = sched_claim_now(s, c->worker_id, c->incarnation, c->slots, &err);
    if (!tasks) {
        answer(s, c, werr_http_status(err.code), wjson_error(&err));
        return false;
    }
    if (json_array_size(tasks) == 0) {
        json_decref(tasks);
        return false;
    }
    answer(s, c, MHD_HTTP_OK, json_pack("{s:o}", "tasks", tasks));
    return true;
}

/* Hands pending tasks to parked claims, oldest first. */
static void
wake_parked(struct sched *s)
{
    struct sched_claim *c, *next;

    s->wake = false;
    if (!s->head || !cat_task_any_pending(s->m->cat))
        return;
    for (c = s->head; c; c = next) {
        next = c->next;
        if (try_claim(s, c) && !cat_task_any_pending(s->m->cat))
            break;
    }
}

/* Answers the claims that waited long enough; returns the earliest
 * remaining deadline (0 if none). */
static int64_t
expire_parked(struct sched *s, int64_t now_ns)
{
    struct sched_claim *c, *next;
    int64_t first = 0;

    for (c = s->head; c; c = next) {
        next = c->next;
        if (c->deadline_ns <= now_ns)
            answer_stateless(s, c, MHD_HTTP_OK, no_tasks());
        else if (!first || c->deadline_ns < first)
            first = c->deadline_ns;
    }
    return first;
}

static void
reap(struct sched *s, int64_t now_ms)
{
    struct cat *cat = s->m->cat;
    int requeued = 0, ended = 0;
    struct werr err;

    if (s->next_expiry_ms == 0 || now_ms <= s->next_expiry_ms ||
        now_ms < s->reap_backoff_ms)
        return;
    s->next_expiry_ms = cat_task_next_expiry(cat);
    if (s->next_expiry_ms == 0 || now_ms <= s->next_expiry_ms)
        return;
    if (cat_task_reap(cat, now_ms, &requeued, &ended, &err) < 0) {
        wlog(WLOG_ERROR, "reaping expired leases: %s", err.msg);
        s->reap_backoff_ms = now_ms + REAP_RETRY_MS;
        return;
    }
    if (requeued || ended)
        wlog(WLOG_INFO, "leases expired: %d task%s requeued, %d execution%s "
             "ended", requeued, requeued == 1 ? "" : "s", ended,
             ended == 1 ? "" : "s");
    if (requeued)
        s->wake = true;
    s->next_expiry_ms = cat_task_next_expiry(cat);
}

/* Milliseconds from now_ns until deadline_ns, rounded up. */
static int64_t
ms_until(int64_t deadline_ns, int64_t now_ns)
{
    int64_t d = deadline_ns - now_ns;

    return d <= 0 ? 0 : (d + WTIME_MS_NS - 1) / WTIME_MS_NS;
}

int64_t
sched_tick(struct sched *s)
{
    int64_t now_ns = wtime_mono_ns(), now_ms = wtime_real_ms();
    int64_t first, sleep_ms;

    if (now_ns >= s->sweep_ns) {
        s->sweep_ns = now_ns + SWEEP_NS;
        s->next_expiry_ms = cat_task_next_expiry(s->m->cat);
        s->wake = s->wake || s->head != NULL;
    }
    reap(s, now_ms);
    if (s->wake)
        wake_parked(s);
    first = expire_parked(s, now_ns);
    sleep_ms = ms_until(s->sweep_ns, now_ns);
    if (first && ms_until(first, now_ns) < sleep_ms)
        sleep_ms = ms_until(first, now_ns);
    if (s->next_expiry_ms) {
        int64_t due = s->next_expiry_ms + 1;
        if (s->reap_backoff_ms > due)
            due = s->reap_backoff_ms;
        if (due - now_ms < sleep_ms)
            sleep_ms = due - now_ms < 0 ? 0 : due - now_ms;
    }
    /* A resumed connection is only served by the next MHD_run: no sleep. */
    if (s->wake || s->resumed)
        sleep_ms = 0;
    s->resumed = false;
    return sleep_ms;
}

void
sched_shutdown(struct sched *s)
{
    struct werr err;

    werr_set(&err, WERR_UNAVAILABLE, "the master is shutting down");
    while (s->head)
        answer_stateless(s, s->head, MHD_HTTP_SERVICE_UNAVAILABLE,
                         wjson_error(&err));
}

void
sched_rollback(struct sched *s)
{
    s->wake = true;
    /* Below any real expiry: the next tick reads the catalog's. */
    s->next_expiry_ms = 1;
}
