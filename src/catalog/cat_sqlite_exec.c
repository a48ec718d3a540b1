/*
 * SQLite backend: executions, their log and statistics, and stopping them.
 *
 * An execution is created against its project's current version and keeps
 * that version for good.  Starting it adds its one task, pending; the task
 * then carries it through claims, retries and its end (cat_sqlite_tasks.c).
 * An execution that is never started has no task.
 */
#include "catalog/cat_sqlite_int.h"

#include <stdlib.h>

#include "base/banned.h"

static int
no_execution(int64_t id, struct werr *err)
{
    return werr_set(err, WERR_NOTFOUND, "no execution %lld", (long long)id);
}

/* *version_id and *version of the current version, checking the package. */
static int
resolve_package(struct cat_sqlite *s, const struct cat_exec_req *req,
                int64_t *version_id, int64_t *version, struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_VERSION_CURRENT, err);
    int rc;

    if (!st)
        return -1;
    sq_bind_text(st, 1, req->folder);
    sq_bind_text(st, 2, req->project);
    if ((rc = sq_row(s, st, err)) <= 0)
        return rc < 0 ? -1 : werr_set(err, WERR_NOTFOUND, "no project "
                                      "'%s/%s'", req->folder, req->project);
    *version_id = sqlite3_column_int64(st, 0);
    *version = sqlite3_column_int64(st, 1);
    sq_reset(st);
    if (!(st = sq_stmt(s, SQ_PACKAGE_HAS, err)))
        return -1;
    sq_bind_int(st, 1, *version_id);
    sq_bind_text(st, 2, req->package);
    if ((rc = sq_row(s, st, err)) <= 0)
        return rc < 0 ? -1 : werr_set(err, WERR_NOTFOUND, "no package '%s' "
                                      "in project '%s/%s'", req->package,
                                      req->folder, req->project);
    sq_reset(st);
    return 0;
}

/* Every worker an execution is restricted to must be known: a typo would
 * otherwise leave the execution pending for ever. */
static int
check_workers(struct cat_sqlite *s, const char *const *workers,
              struct werr *err)
{
    for (size_t i = 0; workers && workers[i]; i++) {
        sqlite3_stmt *st = sq_stmt(s, SQ_WORKER_HAS, err);
        int rc;

        if (!st)
            return -1;
        sq_bind_text(st, 1, workers[i]);
        if ((rc = sq_row(s, st, err)) <= 0)
            return rc < 0 ? -1 : werr_set(err, WERR_NOTFOUND, "no worker "
                                          "'%s'", workers[i]);
        sq_reset(st);
    }
    return 0;
}

static int
add_task(struct cat_sqlite *s, int64_t exec_id, int64_t max_attempts,
         int64_t now, struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_TASK_ADD, err);

    if (!st)
        return -1;
    sq_bind_int(st, 1, exec_id);
    sq_bind_int(st, 2, max_attempts);
    sq_bind_int(st, 3, now);
    return sq_done(s, st, err);
}

static int
add_execution(struct cat_sqlite *s, const struct cat_exec_req *req,
              int64_t version_id, int64_t version, const char *params,
              int64_t now, int64_t *id, struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_EXEC_ADD, err);
    bool any = !req->workers || !req->workers[0];

    if (!st)
        return -1;
    sq_bind_text(st, 1, req->folder);
    sq_bind_text(st, 2, req->project);
    sq_bind_int(st, 3, version_id);
    sq_bind_int(st, 4, version);
    sq_bind_text(st, 5, req->package);
    sq_bind_int(st, 6, req->start ? CAT_PENDING : CAT_CREATED);
    sq_bind_int(st, 7, now);
    sq_bind_int(st, 8, req->retries);
    sq_bind_int(st, 9, req->retries + 1);
    sq_bind_int(st, 10, req->logging_level);
    sq_bind_text(st, 11, req->tag);
    sq_bind_text(st, 12, params);
    sq_bind_int(st, 13, any);
    if (sq_done(s, st, err) < 0)
        return -1;
    *id = sqlite3_last_insert_rowid(s->db);
    for (size_t i = 0; !any && req->workers[i]; i++) {
        if (!(st = sq_stmt(s, SQ_EXEC_WORKER_ADD, err)))
            return -1;
        sq_bind_int(st, 1, *id);
        sq_bind_text(st, 2, req->workers[i]);
        if (sq_done(s, st, err) < 0)
            return -1;
    }
    if (req->start)
        return add_task(s, *id, req->retries + 1, now, err);
    return 0;
}

static int
exec_create_tx(struct cat_sqlite *s, const struct cat_exec_req *req,
               const char *params, int64_t now, int64_t *ids,
               struct werr *err)
{
    int64_t version_id = 0, version = 0;

    if (resolve_package(s, req, &version_id, &version, err) < 0 ||
        check_workers(s, req->workers, err) < 0)
        return -1;
    for (int i = 0; i < req->count; i++)
        if (add_execution(s, req, version_id, version, params, now, &ids[i],
                          err) < 0)
            return -1;
    return 0;
}

int
cat_sqlite_exec_create(struct cat *c, const struct cat_exec_req *req,
                       int64_t now, int64_t *ids, struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);
    json_t *empty = json_object();
    char *params;
    int rc = -1;

    params = json_dumps(req->parameters ? req->parameters : empty,
                        JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(empty);
    if (!params)
        return werr_set(err, WERR_INVALID, "parameters cannot be stored");
    if (sq_begin(s, err) < 0)
        goto out;
    if (exec_create_tx(s, req, params, now, ids, err) < 0) {
        sq_rollback(s);
        goto out;
    }
    rc = sq_commit(s, err);
out:
    free(params);
    return rc;
}

/* *status and *max_attempts of execution `id` (WERR_NOTFOUND if none). */
static int
exec_status(struct cat_sqlite *s, int64_t id, int *status,
            int64_t *max_attempts, struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_EXEC_STATUS, err);
    int rc;

    if (!st)
        return -1;
    sq_bind_int(st, 1, id);
    if ((rc = sq_row(s, st, err)) <= 0)
        return rc < 0 ? -1 : no_execution(id, err);
    *status = sqlite3_column_int(st, 0);
    if (max_attempts)
        *max_attempts = sqlite3_column_int64(st, 1);
    sq_reset(st);
    return 0;
}

static int
set_status(struct cat_sqlite *s, int64_t id, int status, bool end,
           int64_t now, struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, end ? SQ_EXEC_END : SQ_EXEC_SET_STATUS, err);

    if (!st)
        return -1;
    sq_bind_int(st, 1, id);
    sq_bind_int(st, 2, status);
    if (end)
        sq_bind_int(st, 3, now);
    return sq_done(s, st, err);
}

static int
exec_start_tx(struct cat_sqlite *s, int64_t id, int64_t now,
              struct werr *err)
{
    int status = 0;
    int64_t max_attempts = 0;

    if (exec_status(s, id, &status, &max_attempts, err) < 0)
        return -1;
    if (status != CAT_CREATED)
        return werr_set(err, WERR_CONFLICT, "execution %lld is %s, not "
                        "created", (long long)id, cat_status_name(status));
    if (set_status(s, id, CAT_PENDING, false, now, err) < 0)
        return -1;
    return add_task(s, id, max_attempts, now, err);
}

int
cat_sqlite_exec_start(struct cat *c, int64_t id, int64_t now,
                      struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);

    if (sq_begin(s, err) < 0)
        return -1;
    if (exec_start_tx(s, id, now, err) < 0)
        return sq_rollback(s);
    return sq_commit(s, err);
}

/* The EXECUTION object of docs/api.md from a row of EXEC_COLS. */
static json_t *
exec_json(sqlite3_stmt *st)
{
    int status = sqlite3_column_int(st, 5);

    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:i,s:s,s:o,s:o,s:o,s:o,s:o,"
                     "s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
                     "id", sq_col_int(st, 0),
                     "folder", sq_col_str(st, 1),
                     "project", sq_col_str(st, 2),
                     "version", sq_col_int(st, 3),
                     "package", sq_col_str(st, 4),
                     "status", status,
                     "status_name", cat_status_name(status),
                     "created_ms", sq_col_int(st, 6),
                     "started_ms", sq_col_int(st, 7),
                     "ended_ms", sq_col_int(st, 8),
                     "worker_id", sq_col_str(st, 9),
                     "worker_name", sq_col_str(st, 10),
                     "attempts", sq_col_int(st, 11),
                     "max_attempts", sq_col_int(st, 12),
                     "retries", sq_col_int(st, 13),
                     "logging_level", sq_col_int(st, 14),
                     "workers", sq_col_parsed(st, 15),
                     "tag", sq_col_str(st, 16),
                     "parameters", sq_col_parsed(st, 17));
}

json_t *
cat_sqlite_exec_get(struct cat *c, int64_t id, struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);
    sqlite3_stmt *st = sq_stmt(s, SQ_EXEC_GET, err);
    json_t *obj;
    int rc;

    if (!st)
        return NULL;
    sq_bind_int(st, 1, id);
    if ((rc = sq_row(s, st, err)) <= 0) {
        if (rc == 0)
            no_execution(id, err);
        return NULL;
    }
    obj = exec_json(st);
    sq_reset(st);
    if (!obj)
        werr_set(err, WERR_INTERNAL, "execution %lld cannot be shown",
                 (long long)id);
    return obj;
}

json_t *
cat_sqlite_exec_list(struct cat *c, int status, int64_t after, int limit,
                     struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);
    sqlite3_stmt *st = sq_stmt(s, after > 0 ? SQ_EXEC_AFTER : SQ_EXEC_NEWEST,
                               err);
    json_t *obj, *arr;
    int rc, i = 1;

    if (!st)
        return NULL;
    sq_bind_int(st, i++, status);
    if (after > 0)
        sq_bind_int(st, i++, after);
    sq_bind_int(st, i, limit);
    obj = sq_list_object("executions", &arr);
    while ((rc = sq_row(s, st, err)) > 0)
        sq_push(arr, exec_json(st));
    if (rc < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static json_t *
message_json(sqlite3_stmt *st)
{
    json_t *m = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
                          "seq", sq_col_int(st, 0),
                          "time_ms", sq_col_int(st, 1),
                          "type", sq_col_int(st, 2),
                          "event", sq_col_str(st, 3),
                          "source", sq_col_str(st, 4),
                          "path", sq_col_str(st, 5),
                          "message", sq_col_str(st, 6),
                          "attempt", sq_col_int(st, 7));

    if (m && sqlite3_column_type(st, 8) != SQLITE_NULL)
        json_object_set_new(m, "code", sq_col_int(st, 8));
    return m;
}

static json_t *
messages_tx(struct cat_sqlite *s, int64_t id, int64_t after, int limit,
            struct werr *err)
{
    sqlite3_stmt *st;
    json_t *obj, *arr;
    int status = 0, rc;

    if (exec_status(s, id, &status, NULL, err) < 0 ||
        !(st = sq_stmt(s, SQ_MESSAGES, err)))
        return NULL;
    sq_bind_int(st, 1, id);
    sq_bind_int(st, 2, after);
    sq_bind_int(st, 3, limit);
    obj = sq_list_object("messages", &arr);
    json_object_set_new(obj, "status", json_integer(status));
    while ((rc = sq_row(s, st, err)) > 0)
        sq_push(arr, message_json(st));
    if (rc < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

json_t *
cat_sqlite_exec_messages(struct cat *c, int64_t id, int64_t after, int limit,
                         struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);
    json_t *obj;

    /* One read transaction, so that the status matches the messages: a
     * follower that sees a final status has seen every message. */
    if (sq_begin_read(s, err) < 0)
        return NULL;
    obj = messages_tx(s, id, after, limit, err);
    if (!obj) {
        sq_rollback(s);
        return NULL;
    }
    if (sq_commit(s, err) < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

json_t *
cat_sqlite_exec_statistics(struct cat *c, int64_t id, struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);
    sqlite3_stmt *st;
    json_t *obj, *arr;
    int status = 0, rc;

    if (exec_status(s, id, &status, NULL, err) < 0 ||
        !(st = sq_stmt(s, SQ_STATISTICS, err)))
        return NULL;
    sq_bind_int(st, 1, id);
    obj = sq_list_object("statistics", &arr);
    while ((rc = sq_row(s, st, err)) > 0)
        sq_push(arr, json_pack("{s:o,s:o,s:o,s:o,s:o}",
                               "path", sq_col_str(st, 0),
                               "start_ms", sq_col_int(st, 1),
                               "end_ms", sq_col_int(st, 2),
                               "result", sq_col_int(st, 3),
                               "attempt", sq_col_int(st, 4)));
    if (rc < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* The task of execution `id`: *task_id 0 if it has none. */
static int
exec_task(struct cat_sqlite *s, int64_t id, int64_t *task_id,
          struct werr *err)
{
    return sq_int_query(s, SQ_EXEC_TASK, id, 0, task_id, err);
}

static int
task_update(struct cat_sqlite *s, enum sq_id id, int64_t task_id,
            struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, id, err);

    if (!st)
        return -1;
    sq_bind_int(st, 1, task_id);
    return sq_done(s, st, err);
}

static int
stop_tx(struct cat_sqlite *s, int64_t id, int64_t now, int *status,
        struct werr *err)
{
    int64_t task_id;

    if (exec_status(s, id, status, NULL, err) < 0 ||
        exec_task(s, id, &task_id, err) < 0)
        return -1;
    if (cat_status_is_final(*status))
        return werr_set(err, WERR_CONFLICT, "execution %lld already ended "
                        "(%s)", (long long)id, cat_status_name(*status));
    switch (*status) {
    case CAT_CREATED:
    case CAT_PENDING:
        *status = CAT_CANCELED;
        if (task_id && task_update(s, SQ_TASK_DONE, task_id, err) < 0)
            return -1;
        return set_status(s, id, CAT_CANCELED, true, now, err);
    case CAT_RUNNING:
        *status = CAT_STOPPING;
        if (task_id && task_update(s, SQ_TASK_CANCEL, task_id, err) < 0)
            return -1;
        return set_status(s, id, CAT_STOPPING, false, now, err);
    default:
        return 0;
    }
}

int
cat_sqlite_exec_stop(struct cat *c, int64_t id, int64_t now, int *status,
                     struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);
    int st = 0;

    if (sq_begin(s, err) < 0)
        return -1;
    if (stop_tx(s, id, now, &st, err) < 0)
        return sq_rollback(s);
    if (sq_commit(s, err) < 0)
        return -1;
    if (status)
        *status = st;
    return 0;
}
