/*
 * SQLite backend: worker registration and the worker list.
 *
 * A worker keeps its id for life and gets a new incarnation at each start.
 * Registering with an incarnation other than the stored one means the old
 * process is gone, so whatever it held is given up at once, in the same
 * transaction, rather than when its leases run out.
 */
#include "catalog/cat_sqlite_int.h"

#include <stdlib.h>

#include "base/banned.h"
#include "base/xalloc.h"

/* The tags as JSON text (the caller frees). */
static char *
tags_text(const char *const *tags)
{
    json_t *arr = json_array();
    char *text;

    for (size_t i = 0; tags && tags[i]; i++)
        json_array_append_new(arr, json_string(tags[i]));
    text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return text ? text : xstrdup("[]");
}

static int
bind_reg(sqlite3_stmt *st, const struct cat_worker_reg *reg,
         const char *tags)
{
    const char *machine = reg->machine ? reg->machine : "";
    const char *name = reg->name && *reg->name ? reg->name : machine;

    sq_bind_text(st, 1, reg->id);
    sq_bind_text(st, 2, reg->incarnation);
    sq_bind_text(st, 3, name);
    sq_bind_text(st, 4, machine);
    sq_bind_text(st, 5, tags);
    return 6;
}

/* Inserts or updates the worker row; *enabled gets its enabled flag. */
static int
upsert_worker(struct cat_sqlite *s, const struct cat_worker_reg *reg,
              const char *tags, int64_t now, bool *enabled, struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_WORKER_REG, err);
    int rc, i;

    if (!st)
        return -1;
    sq_bind_text(st, 1, reg->id);
    if ((rc = sq_row(s, st, err)) < 0)
        return -1;
    if (rc > 0) {
        *enabled = sqlite3_column_int(st, 0) != 0;
        sq_reset(st);
        if (!(st = sq_stmt(s, SQ_WORKER_UPDATE, err)))
            return -1;
        i = bind_reg(st, reg, tags);
        sq_bind_int(st, i++, reg->max_tasks);
        sq_bind_int(st, i, now);
        return sq_done(s, st, err);
    }
    *enabled = reg->auto_enable;
    if (!(st = sq_stmt(s, SQ_WORKER_ADD, err)))
        return -1;
    i = bind_reg(st, reg, tags);
    sq_bind_int(st, i++, reg->auto_enable);
    sq_bind_int(st, i++, reg->max_tasks);
    sq_bind_int(st, i, now);
    return sq_done(s, st, err);
}

/* Gives up every task held by an incarnation other than `reg`'s. */
static int
release_old_tasks(struct cat_sqlite *s, const struct cat_worker_reg *reg,
                  int64_t now, int *requeued, struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_WORKER_OLD_TASKS, err);
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc, ended = 0;

    if (!st)
        return -1;
    sq_bind_text(st, 1, reg->id);
    sq_bind_text(st, 2, reg->incarnation);
    while ((rc = sq_row(s, st, err)) > 0) {
        XGROW(ids, n + 1, cap);
        ids[n++] = sqlite3_column_int64(st, 0);
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = cat_sqlite_task_lose(s, ids[i], now, requeued, &ended, err);
    free(ids);
    return rc < 0 ? -1 : 0;
}

int
cat_sqlite_worker_register(struct cat *c, const struct cat_worker_reg *reg,
                           int64_t now, bool *enabled, int *requeued,
                           struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);
    char *tags = tags_text(reg->tags);
    int rc = -1;

    *requeued = 0;
    if (sq_begin(s, err) < 0)
        goto out;
    if (upsert_worker(s, reg, tags, now, enabled, err) < 0 ||
        release_old_tasks(s, reg, now, requeued, err) < 0) {
        sq_rollback(s);
        goto out;
    }
    rc = sq_commit(s, err);
out:
    free(tags);
    return rc;
}

/* A worker of docs/api.md from a row of WORKER_COLS. */
static json_t *
worker_json(sqlite3_stmt *st, int64_t now, int64_t online_ms)
{
    bool online = sqlite3_column_type(st, 7) != SQLITE_NULL &&
                  sqlite3_column_int64(st, 7) > now - online_ms;

    return json_pack("{s:o,s:o,s:o,s:o,s:b,s:o,s:o,s:o,s:o,s:b}",
                     "id", sq_col_str(st, 0),
                     "name", sq_col_str(st, 1),
                     "machine", sq_col_str(st, 2),
                     "tags", sq_col_parsed(st, 3),
                     "enabled", sqlite3_column_int(st, 4) != 0,
                     "max_tasks", sq_col_int(st, 5),
                     "running", sq_col_int(st, 6),
                     "last_heartbeat_ms", sq_col_int(st, 7),
                     "registered_ms", sq_col_int(st, 8),
                     "online", online);
}

json_t *
cat_sqlite_worker_list(struct cat *c, int64_t now, int64_t online_ms,
                       struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);
    sqlite3_stmt *st = sq_stmt(s, SQ_WORKER_LIST, err);
    json_t *obj, *arr;
    int rc;

    if (!st)
        return NULL;
    obj = sq_list_object("workers", &arr);
    while ((rc = sq_row(s, st, err)) > 0)
        sq_push(arr, worker_json(st, now, online_ms));
    if (rc < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

json_t *
cat_sqlite_worker_get(struct cat *c, const char *id, int64_t now,
                      int64_t online_ms, struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);
    sqlite3_stmt *st = sq_stmt(s, SQ_WORKER_GET, err);
    json_t *obj;
    int rc;

    if (!st)
        return NULL;
    sq_bind_text(st, 1, id);
    if ((rc = sq_row(s, st, err)) <= 0) {
        if (rc == 0)
            werr_set(err, WERR_NOTFOUND, "no worker '%s'", id);
        return NULL;
    }
    obj = worker_json(st, now, online_ms);
    sq_reset(st);
    return obj;
}

int
cat_sqlite_worker_set_enabled(struct cat *c, const char *id, bool enabled,
                              struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);
    sqlite3_stmt *st = sq_stmt(s, SQ_WORKER_ENABLE, err);

    if (!st)
        return -1;
    sq_bind_text(st, 1, id);
    sq_bind_int(st, 2, enabled);
    if (sq_done(s, st, err) < 0)
        return -1;
    if (sqlite3_changes(s->db) == 0)
        return werr_set(err, WERR_NOTFOUND, "no worker '%s'", id);
    return 0;
}
