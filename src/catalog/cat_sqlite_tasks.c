/*
 * SQLite backend: the worker protocol — claim, heartbeat, events,
 * completion — and the reaper.
 *
 * A task is held by one worker incarnation while it is running; every call
 * from a worker proves it still holds the task (same worker id, same
 * incarnation, task running) before anything changes, so a worker whose
 * lease expired cannot complete or log into an attempt that has moved on.
 * Each attempt is one row of task_attempts, whose claimed_ms and ended_ms
 * are the exact history of what ran where.
 */
#include "catalog/cat_sqlite_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/banned.h"
#include "base/wlog.h"
#include "base/xalloc.h"

/* A task row and its execution's status (TASK_COLS). */
struct task_row {
    bool running, held, cancel;
    int64_t attempt, max_attempts, exec_id;
    int exec_status;
};

static bool
col_is(sqlite3_stmt *st, int i, const char *s)
{
    const char *v = (const char *)sqlite3_column_text(st, i);

    return v && s && strcmp(v, s) == 0;
}

/* Reads task `id`; `held` says whether worker/incarnation hold it. */
static int
task_get(struct cat_sqlite *s, int64_t id, const char *worker,
         const char *inc, struct task_row *t, struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_TASK_GET, err);
    int rc;

    if (!st)
        return -1;
    sq_bind_int(st, 1, id);
    if ((rc = sq_row(s, st, err)) <= 0)
        return rc < 0 ? -1 : werr_set(err, WERR_NOTFOUND, "no task %lld",
                                      (long long)id);
    t->running = col_is(st, 0, "running");
    t->held = t->running && col_is(st, 1, worker) && col_is(st, 2, inc);
    t->attempt = sqlite3_column_int64(st, 3);
    t->max_attempts = sqlite3_column_int64(st, 4);
    t->exec_id = sqlite3_column_int64(st, 5);
    t->cancel = sqlite3_column_int(st, 6) != 0;
    t->exec_status = sqlite3_column_int(st, 7);
    sq_reset(st);
    return 0;
}

static int
not_held(int64_t id, const struct task_row *t, const char *worker,
         struct werr *err)
{
    if (!t->running)
        return werr_set(err, WERR_CONFLICT, "task %lld is not running",
                        (long long)id);
    return werr_set(err, WERR_CONFLICT, "task %lld is not held by this "
                    "incarnation of worker '%s'", (long long)id, worker);
}

/* Runs statement `id` with ?1 = a, ?2 = b. */
static int
update2(struct cat_sqlite *s, enum sq_id id, int64_t a, int64_t b,
        struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, id, err);

    if (!st)
        return -1;
    sq_bind_int(st, 1, a);
    if (sqlite3_bind_parameter_count(st) > 1)
        sq_bind_int(st, 2, b);
    return sq_done(s, st, err);
}

static int
end_attempt(struct cat_sqlite *s, int64_t task_id, int64_t attempt,
            int64_t now, const char *result, const int *exit_code,
            struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_ATTEMPT_END, err);

    if (!st)
        return -1;
    sq_bind_int(st, 1, task_id);
    sq_bind_int(st, 2, attempt);
    sq_bind_int(st, 3, now);
    sq_bind_text(st, 4, result);
    if (exit_code)
        sq_bind_int(st, 5, *exit_code);
    return sq_done(s, st, err);
}

static int
end_execution(struct cat_sqlite *s, int64_t exec_id, int status, int64_t now,
              struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_EXEC_END, err);

    if (!st)
        return -1;
    sq_bind_int(st, 1, exec_id);
    sq_bind_int(st, 2, status);
    sq_bind_int(st, 3, now);
    return sq_done(s, st, err);
}

int
cat_sqlite_task_lose(struct cat_sqlite *s, int64_t task_id, int64_t now,
                     int *requeued, int *ended, struct werr *err)
{
    struct task_row t;
    int status;

    if (task_get(s, task_id, NULL, NULL, &t, err) < 0 ||
        end_attempt(s, task_id, t.attempt, now, "lost", NULL, err) < 0)
        return -1;
    if (t.exec_status != CAT_STOPPING && t.attempt < t.max_attempts) {
        (*requeued)++;
        if (update2(s, SQ_TASK_REQUEUE, task_id, 0, err) < 0)
            return -1;
        return update2(s, SQ_EXEC_REQUEUED, t.exec_id, 0, err);
    }
    /* A stopping execution was going to end canceled anyway. */
    status = t.exec_status == CAT_STOPPING ? CAT_CANCELED
                                           : CAT_ENDED_UNEXPECTEDLY;
    (*ended)++;
    if (update2(s, SQ_TASK_DONE, task_id, 0, err) < 0)
        return -1;
    return end_execution(s, t.exec_id, status, now, err);
}

/* ---- claim ---- */

/* What a claim needs to know about the worker. */
struct claimer {
    bool enabled;
    int64_t max_tasks, running;
    char *tags;     /* JSON array text, owned */
};

/* Checks that `worker` is registered as incarnation `inc` and reads it. */
static int
worker_check(struct cat_sqlite *s, const char *worker, const char *inc,
             struct claimer *w, struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_CLAIM_WORKER, err);
    const char *tags;
    int rc;

    if (!st)
        return -1;
    sq_bind_text(st, 1, worker);
    if ((rc = sq_row(s, st, err)) <= 0)
        return rc < 0 ? -1 : werr_set(err, WERR_CONFLICT, "unknown worker "
                                      "'%s'; it must register first",
                                      worker);
    if (!col_is(st, 0, inc)) {
        sq_reset(st);
        return werr_set(err, WERR_CONFLICT, "worker '%s' is registered with "
                        "another incarnation; it must register again",
                        worker);
    }
    w->enabled = sqlite3_column_int(st, 1) != 0;
    w->max_tasks = sqlite3_column_int64(st, 2);
    tags = (const char *)sqlite3_column_text(st, 3);
    w->tags = xstrdup(tags ? tags : "[]");
    w->running = sqlite3_column_int64(st, 4);
    sq_reset(st);
    return 0;
}

struct candidate {
    int64_t task_id, exec_id, attempt;
};

/* Up to `n` pending tasks `worker` may run, oldest first. */
static struct candidate *
candidates(struct cat_sqlite *s, const char *worker, const char *tags,
           int64_t n, size_t *count, struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_CLAIM_CANDIDATES, err);
    struct candidate *c;
    int rc;

    if (!st)
        return NULL;
    c = xcalloc((size_t)n, sizeof(*c));
    *count = 0;
    sq_bind_text(st, 1, worker);
    sq_bind_text(st, 2, tags);
    sq_bind_int(st, 3, n);
    while ((rc = sq_row(s, st, err)) > 0 && *count < (size_t)n) {
        c[*count].task_id = sqlite3_column_int64(st, 0);
        c[*count].exec_id = sqlite3_column_int64(st, 1);
        c[*count].attempt = sqlite3_column_int64(st, 2);
        (*count)++;
    }
    if (rc > 0)
        sq_reset(st);
    if (rc < 0) {
        free(c);
        return NULL;
    }
    return c;
}

/* The claim response's task object (docs/api.md). */
static json_t *
claimed_json(struct cat_sqlite *s, const struct candidate *c,
             int64_t lease_ms, struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_CLAIM_INFO, err);
    json_t *obj, *files;
    int64_t version_id;
    int rc;

    if (!st)
        return NULL;
    sq_bind_int(st, 1, c->exec_id);
    if ((rc = sq_row(s, st, err)) <= 0) {
        if (rc == 0)
            werr_set(err, WERR_INTERNAL, "task %lld has no execution",
                     (long long)c->task_id);
        return NULL;
    }
    obj = json_pack("{s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:I}",
                    "task_id", (json_int_t)c->task_id,
                    "execution_id", (json_int_t)c->exec_id,
                    "attempt", (json_int_t)c->attempt,
                    "folder", sq_col_str(st, 0),
                    "project", sq_col_str(st, 1),
                    "version", sq_col_int(st, 2),
                    "package", sq_col_str(st, 3),
                    "logging_level", sq_col_int(st, 4),
                    "parameters", sq_col_parsed(st, 5),
                    "lease_ms", (json_int_t)lease_ms);
    version_id = sqlite3_column_int64(st, 6);
    sq_reset(st);
    files = cat_sqlite_version_files(s, version_id, NULL, err);
    if (!files || !obj) {
        json_decref(files);
        json_decref(obj);
        if (err && err->code == WERR_OK)
            werr_set(err, WERR_INTERNAL, "task %lld cannot be shown",
                     (long long)c->task_id);
        return NULL;
    }
    json_object_set_new(obj, "files", files);
    return obj;
}

static int
bind_holder(sqlite3_stmt *st, int64_t id, const char *worker,
            const char *inc, int64_t when)
{
    sq_bind_int(st, 1, id);
    sq_bind_text(st, 2, worker);
    sq_bind_text(st, 3, inc);
    sq_bind_int(st, 4, when);
    return 0;
}

static json_t *
claim_one(struct cat_sqlite *s, const struct candidate *c,
          const char *worker, const char *inc, int64_t now, int64_t lease_ms,
          struct werr *err)
{
    sqlite3_stmt *st;

    if (!(st = sq_stmt(s, SQ_TASK_CLAIM, err)))
        return NULL;
    bind_holder(st, c->task_id, worker, inc, now + lease_ms);
    if (sq_done(s, st, err) < 0 || !(st = sq_stmt(s, SQ_EXEC_CLAIMED, err)))
        return NULL;
    sq_bind_int(st, 1, c->exec_id);
    sq_bind_int(st, 2, now);
    sq_bind_text(st, 3, worker);
    if (sq_done(s, st, err) < 0 || !(st = sq_stmt(s, SQ_ATTEMPT_ADD, err)))
        return NULL;
    sq_bind_int(st, 1, c->task_id);
    sq_bind_int(st, 2, c->attempt);
    sq_bind_text(st, 3, worker);
    sq_bind_text(st, 4, inc);
    sq_bind_int(st, 5, now);
    if (sq_done(s, st, err) < 0)
        return NULL;
    return claimed_json(s, c, lease_ms, err);
}

static int
claim_tx(struct cat_sqlite *s, const char *worker, const char *inc,
         int slots, int64_t now, int64_t lease_ms, json_t *tasks,
         struct werr *err)
{
    struct claimer w = { 0 };
    struct candidate *c = NULL;
    size_t n = 0;
    int64_t room;
    int rc = -1;

    if (worker_check(s, worker, inc, &w, err) < 0)
        return -1;
    room = w.max_tasks - w.running;
    if (room > slots)
        room = slots;
    if (!w.enabled || room <= 0) {
        rc = 0;
        goto out;
    }
    if (!(c = candidates(s, worker, w.tags, room, &n, err)))
        goto out;
    for (size_t i = 0; i < n; i++) {
        json_t *t = claim_one(s, &c[i], worker, inc, now, lease_ms, err);

        if (!t)
            goto out;
        json_array_append_new(tasks, t);
    }
    rc = 0;
out:
    free(c);
    free(w.tags);
    return rc;
}

json_t *
cat_sqlite_task_claim(struct cat *c, const char *worker_id,
                      const char *incarnation, int slots, int64_t now,
                      int64_t lease_ms, struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);
    json_t *tasks = json_array();

    werr_clear(err);
    if (sq_begin(s, err) < 0)
        goto fail;
    if (claim_tx(s, worker_id, incarnation, slots, now, lease_ms, tasks,
                 err) < 0) {
        sq_rollback(s);
        goto fail;
    }
    if (sq_commit(s, err) < 0)
        goto fail;
    return tasks;
fail:
    json_decref(tasks);
    return NULL;
}

bool
cat_sqlite_task_any_pending(struct cat *c)
{
    struct werr err;
    int64_t any = 1;

    /* On error say yes: a wasted claim attempt reports the error. */
    if (sq_int_query(sq_of(c), SQ_ANY_PENDING, 0, 1, &any, &err) < 0)
        wlog(WLOG_WARN, "%s", err.msg);
    return any != 0;
}

/* ---- heartbeat ---- */

static int
heartbeat_task(struct cat_sqlite *s, const char *worker, const char *inc,
               int64_t id, int64_t expiry, json_t *cancel, json_t *lost,
               struct werr *err)
{
    struct task_row t = { 0 };
    struct werr e;

    if (id > 0 && task_get(s, id, worker, inc, &t, &e) < 0 &&
        e.code != WERR_NOTFOUND) {
        if (err)
            *err = e;
        return -1;
    }
    if (!t.held) {
        json_array_append_new(lost, json_integer(id));
        return 0;
    }
    if (t.cancel)
        json_array_append_new(cancel, json_integer(id));
    return update2(s, SQ_TASK_RENEW, id, expiry, err);
}

static json_t *
heartbeat_tx(struct cat_sqlite *s, const char *worker, const char *inc,
             const int64_t *tasks, size_t ntasks, int64_t now,
             int64_t lease_ms, struct werr *err)
{
    struct claimer w = { 0 };
    json_t *cancel = json_array(), *lost = json_array();
    sqlite3_stmt *st;

    if (worker_check(s, worker, inc, &w, err) < 0 ||
        !(st = sq_stmt(s, SQ_WORKER_BEAT, err)))
        goto fail;
    sq_bind_text(st, 1, worker);
    sq_bind_int(st, 2, now);
    if (sq_done(s, st, err) < 0)
        goto fail;
    for (size_t i = 0; i < ntasks; i++)
        if (heartbeat_task(s, worker, inc, tasks[i], now + lease_ms, cancel,
                           lost, err) < 0)
            goto fail;
    free(w.tags);
    return json_pack("{s:o,s:o,s:b}", "cancel", cancel, "lost", lost,
                     "enabled", w.enabled);
fail:
    free(w.tags);
    json_decref(cancel);
    json_decref(lost);
    return NULL;
}

json_t *
cat_sqlite_task_heartbeat(struct cat *c, const char *worker_id,
                          const char *incarnation, const int64_t *tasks,
                          size_t ntasks, int64_t now, int64_t lease_ms,
                          struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);
    json_t *res;

    werr_clear(err);
    if (sq_begin(s, err) < 0)
        return NULL;
    res = heartbeat_tx(s, worker_id, incarnation, tasks, ntasks, now,
                       lease_ms, err);
    if (!res) {
        sq_rollback(s);
        return NULL;
    }
    if (sq_commit(s, err) < 0) {
        json_decref(res);
        return NULL;
    }
    return res;
}

/* ---- events ---- */

/* Runs a statement keyed by (?1 exec or task, ?2 attempt[, ?3 value]) that
 * returns one integer: *out, or -1 when there is no row. */
static int
attempt_query(struct cat_sqlite *s, enum sq_id id, int64_t key,
              int64_t attempt, int64_t value, int64_t *out,
              struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, id, err);
    int rc;

    if (!st)
        return -1;
    sq_bind_int(st, 1, key);
    sq_bind_int(st, 2, attempt);
    if (sqlite3_bind_parameter_count(st) > 2)
        sq_bind_int(st, 3, value);
    if ((rc = sq_row(s, st, err)) < 0)
        return -1;
    *out = -1;
    if (rc > 0) {
        *out = sqlite3_column_int64(st, 0);
        sq_reset(st);
    }
    return 0;
}

static int
add_statistic(struct cat_sqlite *s, const struct task_row *t,
              const struct cat_event *ev, struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_STAT_ADD, err);

    if (!st)
        return -1;
    sq_bind_int(st, 1, t->exec_id);
    sq_bind_int(st, 2, t->attempt);
    sq_bind_text(st, 3, ev->path);
    sq_bind_int(st, 4, ev->start_ms);
    sq_bind_int(st, 5, ev->time_ms);
    sq_bind_int(st, 6, ev->result);
    return sq_done(s, st, err);
}

/* Stores event `seq` unless it is stored already; *last is the highest
 * exec_seq of the execution. */
static int
add_event(struct cat_sqlite *s, const struct task_row *t, int64_t seq,
          const struct cat_event *ev, int64_t *last, struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_MSG_ADD, err);

    if (!st)
        return -1;
    sq_bind_int(st, 1, t->exec_id);
    sq_bind_int(st, 2, t->attempt);
    sq_bind_int(st, 3, seq);
    sq_bind_int(st, 4, *last + 1);
    sq_bind_int(st, 5, ev->time_ms);
    sq_bind_int(st, 6, ev->type);
    sq_bind_text(st, 7, ev->event);
    sq_bind_text(st, 8, ev->source);
    sq_bind_text(st, 9, ev->path);
    sq_bind_text(st, 10, ev->message);
    if (ev->has_code)
        sq_bind_int(st, 11, ev->code);
    if (sq_done(s, st, err) < 0)
        return -1;
    if (sqlite3_changes(s->db) == 0)
        return 0;           /* sent before: stored once */
    (*last)++;
    return ev->type == 40 ? add_statistic(s, t, ev, err) : 0;
}

/* The highest sequence number up to which every event is stored. */
static int
advance_ack(struct cat_sqlite *s, const struct task_row *t, int64_t first,
            size_t n, int64_t *acked, struct werr *err)
{
    int64_t end = first + (int64_t)n - 1, has = 1;

    if (n > 0 && first <= *acked + 1 && end > *acked)
        *acked = end;
    /* Batches that arrived ahead of a gap now filled. */
    while (has > 0) {
        if (attempt_query(s, SQ_MSG_HAS, t->exec_id, t->attempt,
                          *acked + 1, &has, err) < 0)
            return -1;
        if (has > 0)
            (*acked)++;
    }
    return 0;
}

static int
events_tx(struct cat_sqlite *s, const char *worker, const char *inc,
          int64_t task_id, int64_t first, const struct cat_event *evs,
          size_t n, int64_t *acked, struct werr *err)
{
    struct task_row t;
    int64_t last, before;

    if (task_get(s, task_id, worker, inc, &t, err) < 0)
        return -1;
    if (!t.held)
        return not_held(task_id, &t, worker, err);
    if (attempt_query(s, SQ_ATTEMPT_ACKED, task_id, t.attempt, 0, acked,
                      err) < 0 ||
        sq_int_query(s, SQ_MSG_LAST, t.exec_id, 0, &last, err) < 0)
        return -1;
    if (*acked < 0)
        *acked = 0;
    before = *acked;
    for (size_t i = 0; i < n; i++)
        if (add_event(s, &t, first + (int64_t)i, &evs[i], &last, err) < 0)
            return -1;
    if (advance_ack(s, &t, first, n, acked, err) < 0)
        return -1;
    if (*acked == before)
        return 0;
    return attempt_query(s, SQ_ATTEMPT_SET_ACKED, task_id, t.attempt,
                         *acked, &last, err);
}

int
cat_sqlite_task_events(struct cat *c, const char *worker_id,
                       const char *incarnation, int64_t task_id,
                       int64_t first_seq, const struct cat_event *events,
                       size_t nevents, int64_t now, int64_t *acked,
                       struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);

    if (sq_begin(s, err) < 0)
        return -1;
    if (events_tx(s, worker_id, incarnation, task_id, first_seq, events,
                  nevents, acked, err) < 0)
        return sq_rollback(s);
    return sq_commit(s, err);
}

/* ---- completion and the reaper ---- */

static int
final_status(const struct task_row *t, enum cat_result result)
{
    /* Stopping means a person asked for it to end: whatever the process
     * reported on its way out, the execution ends canceled. */
    if (t->exec_status == CAT_STOPPING)
        return CAT_CANCELED;
    switch (result) {
    case CAT_RESULT_SUCCEEDED: return CAT_SUCCEEDED;
    case CAT_RESULT_CANCELED: return CAT_CANCELED;
    case CAT_RESULT_FAILED: break;
    }
    return CAT_FAILED;
}

static int
complete_tx(struct cat_sqlite *s, const char *worker, const char *inc,
            int64_t task_id, enum cat_result result, int exit_code,
            int64_t events_seq, int64_t now, int *status, struct werr *err)
{
    struct task_row t;
    int64_t acked;

    if (task_get(s, task_id, worker, inc, &t, err) < 0)
        return -1;
    if (!t.held)
        return not_held(task_id, &t, worker, err);
    if (attempt_query(s, SQ_ATTEMPT_ACKED, task_id, t.attempt, 0, &acked,
                      err) < 0)
        return -1;
    if (acked < events_seq)
        return werr_set(err, WERR_CONFLICT, "task %lld: %lld of its %lld "
                        "events are stored; send the rest first",
                        (long long)task_id, (long long)(acked < 0 ? 0 : acked),
                        (long long)events_seq);
    *status = final_status(&t, result);
    if (end_attempt(s, task_id, t.attempt, now, cat_result_name(result),
                    &exit_code, err) < 0 ||
        update2(s, SQ_TASK_DONE, task_id, 0, err) < 0)
        return -1;
    return end_execution(s, t.exec_id, *status, now, err);
}

int
cat_sqlite_task_complete(struct cat *c, const char *worker_id,
                         const char *incarnation, int64_t task_id,
                         enum cat_result result, int exit_code,
                         int64_t events_seq, int64_t now, int *status,
                         struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);

    if (sq_begin(s, err) < 0)
        return -1;
    if (complete_tx(s, worker_id, incarnation, task_id, result, exit_code,
                    events_seq, now, status, err) < 0)
        return sq_rollback(s);
    return sq_commit(s, err);
}

static int
reap_tx(struct cat_sqlite *s, int64_t now, int *requeued, int *ended,
        struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_REAP_EXPIRED, err);
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc;

    if (!st)
        return -1;
    sq_bind_int(st, 1, now);
    /* Collect first: the rows change as each task is given up. */
    while ((rc = sq_row(s, st, err)) > 0) {
        XGROW(ids, n + 1, cap);
        ids[n++] = sqlite3_column_int64(st, 0);
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = cat_sqlite_task_lose(s, ids[i], now, requeued, ended, err);
    free(ids);
    return rc < 0 ? -1 : 0;
}

int
cat_sqlite_task_reap(struct cat *c, int64_t now, int *requeued, int *ended,
                     struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);

    if (sq_begin(s, err) < 0)
        return -1;
    if (reap_tx(s, now, requeued, ended, err) < 0) {
        *requeued = *ended = 0;
        return sq_rollback(s);
    }
    if (sq_commit(s, err) < 0) {
        *requeued = *ended = 0;
        return -1;
    }
    return 0;
}

int64_t
cat_sqlite_task_next_expiry(struct cat *c)
{
    struct werr err;
    int64_t next = 0;

    /* On error answer "long expired": the reaper then runs at once and
     * reports the error where it can be handled. */
    if (sq_int_query(sq_of(c), SQ_NEXT_EXPIRY, 0, 0, &next, &err) < 0) {
        wlog(WLOG_WARN, "%s", err.msg);
        return 1;
    }
    return next;
}

int
cat_sqlite_task_extend_leases(struct cat *c, int64_t now, int64_t lease_ms,
                              struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);
    sqlite3_stmt *st = sq_stmt(s, SQ_EXTEND_LEASES, err);

    if (!st)
        return -1;
    sq_bind_int(st, 1, now + lease_ms);
    return sq_done(s, st, err);
}
