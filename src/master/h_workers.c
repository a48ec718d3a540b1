/*
 * Routes for workers: the list people read (and enable/disable), and the
 * worker protocol (register, claim, heartbeat, events, complete).
 *
 * Every protocol call names the worker and its incarnation; both must be
 * UUIDs.  Whether the incarnation is current is the catalog's decision
 * (WERR_CONFLICT, 409, makes the worker register again).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/wjson.h"
#include "base/wtime.h"
#include "base/xalloc.h"
#include "catalog/catalog.h"
#include "master/master_int.h"

#include "base/banned.h"

#define MAX_TAGS 64
#define MAX_SLOTS 1024
#define MAX_HEARTBEAT_TASKS 4096

static int
uuid_member(json_t *body, const char *key, const char **out,
            struct werr *err)
{
    if (wjson_str(body, key, true, NULL, out, err) < 0)
        return -1;
    if (!wid_is_uuid(*out))
        return werr_set(err, WERR_INVALID, "member '%s': '%.64s' is not a "
                        "UUID", key, *out);
    return 0;
}

static int
worker_ids(json_t *body, const char **id, const char **inc,
           struct werr *err)
{
    if (uuid_member(body, "worker_id", id, err) < 0 ||
        uuid_member(body, "incarnation", inc, err) < 0)
        return -1;
    return 0;
}

/* "tags": a NULL-terminated array of strings borrowed from `body`. */
static int
tags_member(json_t *body, const char ***out, struct werr *err)
{
    json_t *t = json_object_get(body, "tags"), *v;
    size_t i;

    *out = NULL;
    if (!t || json_is_null(t))
        return 0;
    if (!json_is_array(t) || json_array_size(t) > MAX_TAGS)
        return werr_set(err, WERR_INVALID, "member 'tags' must be an array "
                        "of at most %d names", MAX_TAGS);
    json_array_foreach(t, i, v) {
        if (!json_is_string(v) || !wid_is_name(json_string_value(v)))
            return werr_set(err, WERR_INVALID, "member 'tags': item %zu is "
                            "not a valid tag", i);
    }
    *out = xcalloc(json_array_size(t) + 1, sizeof(**out));
    json_array_foreach(t, i, v)
        (*out)[i] = json_string_value(v);
    return 0;
}

static int
worker_reg(json_t *body, struct cat_worker_reg *reg, struct werr *err)
{
    const char **tags = NULL;
    int64_t max_tasks;

    if (worker_ids(body, &reg->id, &reg->incarnation, err) < 0 ||
        wjson_str(body, "name", false, NULL, &reg->name, err) < 0 ||
        wjson_str(body, "machine", false, "", &reg->machine, err) < 0 ||
        wjson_int(body, "max_tasks", false, 1, 1, MAX_SLOTS, &max_tasks,
                  err) < 0 ||
        tags_member(body, &tags, err) < 0)
        return -1;
    if (!reg->name)
        reg->name = reg->id;
    if (!wid_is_name(reg->name))
        return werr_set(err, WERR_INVALID, "member 'name': '%.128s' is not a "
                        "valid name", reg->name);
    if (strlen(reg->machine) > 255)
        return werr_set(err, WERR_INVALID, "member 'machine' is longer than "
                        "255 bytes");
    reg->tags = tags;
    reg->max_tasks = (int)max_tasks;
    return 0;
}

int
h_register(struct mreq *r, struct werr *err)
{
    struct master *m = r->m;
    struct cat_worker_reg reg = {.auto_enable = m->conf.auto_enable_workers};
    json_t *body = mreq_json(r, err);
    int requeued = 0, rc = -1;
    bool enabled;

    if (!body || worker_reg(body, &reg, err) < 0 ||
        cat_worker_register(m->cat, &reg, wtime_real_ms(), &enabled,
                            &requeued, err) < 0)
        goto out;
    wlog(WLOG_INFO, "worker %s (%s%s%s) registered: incarnation %s, "
         "%d task%s at once, %s", reg.name, reg.id, *reg.machine ? " on " : "",
         reg.machine, reg.incarnation, reg.max_tasks,
         reg.max_tasks == 1 ? "" : "s", enabled ? "enabled" : "disabled");
    if (requeued) {
        wlog(WLOG_INFO, "worker %s restarted: %d task%s of its previous "
             "incarnation requeued", reg.name, requeued,
             requeued == 1 ? "" : "s");
        sched_wake(&m->sched);
    }
    mreq_answer(r, MHD_HTTP_OK,
                json_pack("{s:b,s:I,s:I}", "enabled", enabled, "lease_ms",
                          (json_int_t)m->conf.lease_ms, "heartbeat_ms",
                          (json_int_t)m->conf.heartbeat_ms));
    rc = 0;
out:
    free((void *)reg.tags);
    json_decref(body);
    return rc;
}

int
h_claim(struct mreq *r, struct werr *err)
{
    struct master *m = r->m;
    json_t *body = mreq_json(r, err), *tasks = NULL;
    const char *id, *inc;
    int64_t slots, wait_ms;
    int rc = -1;

    if (!body || worker_ids(body, &id, &inc, err) < 0 ||
        wjson_int(body, "slots", false, 1, 1, MAX_SLOTS, &slots, err) < 0 ||
        wjson_int(body, "wait_ms", false, 0, 0, INT64_MAX / WTIME_MS_NS,
                  &wait_ms, err) < 0)
        goto out;
    if (m->stopping) {
        werr_set(err, WERR_UNAVAILABLE, "the master is shutting down");
        goto out;
    }
    if (wait_ms > m->conf.claim_wait_max_ms)
        wait_ms = m->conf.claim_wait_max_ms;
    tasks = sched_claim_now(&m->sched, id, inc, (int)slots, err);
    if (!tasks)
        goto out;
    if (json_array_size(tasks) > 0 || wait_ms == 0)
        mreq_answer(r, MHD_HTTP_OK, json_pack("{s:O}", "tasks", tasks));
    else
        sched_park(&m->sched, r, id, inc, (int)slots, wait_ms);
    rc = 0;
out:
    json_decref(tasks);
    json_decref(body);
    return rc;
}

/* "tasks": task ids, copied into a malloc'd array. */
static int
task_ids(json_t *body, int64_t **out, size_t *n, struct werr *err)
{
    json_t *t = json_object_get(body, "tasks"), *v;
    size_t i;

    *out = NULL;
    *n = 0;
    if (!t || json_is_null(t))
        return 0;
    if (!json_is_array(t) || json_array_size(t) > MAX_HEARTBEAT_TASKS)
        return werr_set(err, WERR_INVALID, "member 'tasks' must be an array "
                        "of at most %d task ids", MAX_HEARTBEAT_TASKS);
    *out = xcalloc(json_array_size(t) + 1, sizeof(**out));
    json_array_foreach(t, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return werr_set(err, WERR_INVALID, "member 'tasks': item %zu is "
                            "not a task id (a positive integer)", i);
        (*out)[i] = json_integer_value(v);
    }
    *n = json_array_size(t);
    return 0;
}

int
h_heartbeat(struct mreq *r, struct werr *err)
{
    struct master *m = r->m;
    json_t *body = mreq_json(r, err), *res = NULL;
    const char *id = NULL, *inc = NULL;
    int64_t *tasks = NULL;
    size_t n;

    if (body && worker_ids(body, &id, &inc, err) == 0 &&
        task_ids(body, &tasks, &n, err) == 0)
        res = cat_task_heartbeat(m->cat, id, inc, tasks, n, wtime_real_ms(),
                                 m->conf.lease_ms, err);
    if (res && json_array_size(json_object_get(res, "lost")) > 0)
        wlog(WLOG_INFO, "worker %s still runs %zu task%s it lost to the "
             "reaper: told to drop them", id,
             json_array_size(json_object_get(res, "lost")),
             json_array_size(json_object_get(res, "lost")) == 1 ? "" : "s");
    free(tasks);
    json_decref(body);
    if (!res)
        return -1;
    mreq_answer(r, MHD_HTTP_OK, res);
    return 0;
}

int
h_events(struct mreq *r, struct werr *err)
{
    json_t *body = mreq_json(r, err), *events;
    const char *id, *inc;
    int64_t task, first, acked;
    int rc = -1;

    if (!body || worker_ids(body, &id, &inc, err) < 0 ||
        wjson_int(body, "task_id", true, 0, 1, INT64_MAX, &task, err) < 0 ||
        wjson_int(body, "first_seq", true, 0, 1, INT64_MAX, &first,
                  err) < 0)
        goto out;
    events = json_object_get(body, "events");
    if (!json_is_array(events)) {
        werr_set(err, WERR_INVALID, "member 'events' must be an array of "
                 "events");
        goto out;
    }
    if (cat_task_events(r->m->cat, id, inc, task, first, events,
                        wtime_real_ms(), &acked, err) < 0)
        goto out;
    mreq_answer(r, MHD_HTTP_OK,
                json_pack("{s:I}", "acked_seq", (json_int_t)acked));
    rc = 0;
out:
    json_decref(body);
    return rc;
}

static int
result_member(json_t *body, enum cat_result *out, struct werr *err)
{
    const char *s;

    if (wjson_str(body, "result", true, NULL, &s, err) < 0)
        return -1;
    if (!strcmp(s, "succeeded"))
        *out = CAT_RESULT_SUCCEEDED;
    else if (!strcmp(s, "failed"))
        *out = CAT_RESULT_FAILED;
    else if (!strcmp(s, "canceled"))
        *out = CAT_RESULT_CANCELED;
    else
        return werr_set(err, WERR_INVALID, "member 'result' must be "
                        "succeeded, failed or canceled, not '%.32s'", s);
    return 0;
}

int
h_complete(struct mreq *r, struct werr *err)
{
    json_t *body = mreq_json(r, err);
    const char *id, *inc;
    int64_t task, code, seq;
    enum cat_result result = CAT_RESULT_FAILED;
    int status, rc = -1;

    if (!body || worker_ids(body, &id, &inc, err) < 0 ||
        wjson_int(body, "task_id", true, 0, 1, INT64_MAX, &task, err) < 0 ||
        result_member(body, &result, err) < 0 ||
        wjson_int(body, "exit_code", false, 0, INT_MIN, INT_MAX, &code,
                  err) < 0 ||
        wjson_int(body, "events_seq", false, 0, 0, INT64_MAX, &seq, err) < 0)
        goto out;
    if (cat_task_complete(r->m->cat, id, inc, task, result, (int)code, seq,
                          wtime_real_ms(), &status, err) < 0)
        goto out;
    wlog(WLOG_INFO, "task %lld completed on worker %s: execution %s "
         "(exit code %d)", (long long)task, id, cat_status_name(status),
         (int)code);
    /* The worker has a free slot now; a parked claim may use it. */
    sched_wake(&r->m->sched);
    mreq_answer(r, MHD_HTTP_OK, json_pack("{s:i}", "status", status));
    rc = 0;
out:
    json_decref(body);
    return rc;
}

/* ---- workers, for people ---- */

int
h_workers(struct mreq *r, struct werr *err)
{
    const struct master_conf *c = &r->m->conf;
    json_t *j = cat_worker_list(r->m->cat, wtime_real_ms(),
                                c->online_window_ms, err);

    if (!j)
        return -1;
    mreq_answer(r, MHD_HTTP_OK, j);
    return 0;
}

static int
answer_worker(struct mreq *r, const char *id, struct werr *err)
{
    const struct master_conf *c = &r->m->conf;
    json_t *j = cat_worker_get(r->m->cat, id, wtime_real_ms(),
                               c->online_window_ms, err);

    if (!j)
        return -1;
    mreq_answer(r, MHD_HTTP_OK, j);
    return 0;
}

static int
worker_param(struct mreq *r, struct werr *err)
{
    if (!wid_is_uuid(r->params[0]))
        return werr_set(err, WERR_INVALID, "worker id '%.64s' is not a UUID",
                        r->params[0]);
    return 0;
}

int
h_worker_get(struct mreq *r, struct werr *err)
{
    if (worker_param(r, err) < 0)
        return -1;
    return answer_worker(r, r->params[0], err);
}

static int
set_enabled(struct mreq *r, bool enabled, struct werr *err)
{
    if (worker_param(r, err) < 0 ||
        cat_worker_set_enabled(r->m->cat, r->params[0], enabled, err) < 0)
        return -1;
    wlog(WLOG_INFO, "worker %s %s", r->params[0],
         enabled ? "enabled" : "disabled: it gets no new tasks");
    if (enabled)
        sched_wake(&r->m->sched);
    return answer_worker(r, r->params[0], err);
}

int
h_worker_enable(struct mreq *r, struct werr *err)
{
    return set_enabled(r, true, err);
}

int
h_worker_disable(struct mreq *r, struct werr *err)
{
    return set_enabled(r, false, err);
}
