/*
 * The SQLite backend: connection, schema migrations, the statement cache
 * and the helpers the other cat_sqlite_*.c files share.
 *
 * The catalog is one file in WAL mode with synchronous=NORMAL: a commit is
 * durable against the process dying (kill -9) the moment COMMIT returns,
 * and against power loss from the next checkpoint on; see
 * docs/decisions.md.  Every statement is prepared once, when the catalog
 * is opened, so a broken statement fails cat_open instead of a request,
 * and the hot path only resets and re-binds.
 *
 * Migrations are the files of schema/sqlite/, embedded at build time by
 * embed.sh.  Those newer than the version recorded in `schema_version`
 * run in order inside one write transaction, so two processes opening a
 * new catalog at once cannot both apply them, and a failure leaves the
 * catalog at its old version.
 */
#include "catalog/cat_sqlite_int.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/banned.h"
#include "base/wbuf.h"
#include "base/wtime.h"
#include "base/xalloc.h"

#define BUSY_TIMEOUT_MS 5000

int
sq_error(struct cat_sqlite *s, int rc, struct werr *err)
{
    int prim = rc & 0xff;
    enum werr_code code = WERR_DB;

    if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
        code = WERR_UNAVAILABLE;
    return werr_set(err, code, "catalog: %s", sqlite3_errmsg(s->db));
}

sqlite3_stmt *
sq_stmt(struct cat_sqlite *s, enum sq_id id, struct werr *err)
{
    sqlite3_stmt *st = s->st[id];
    int rc;

    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    rc = sqlite3_prepare_v3(s->db, cat_sqlite_sql[id], -1,
                            SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        sq_error(s, rc, err);
        werr_prefix(err, "preparing statement %d", (int)id);
        return NULL;
    }
    s->st[id] = st;
    return st;
}

int
sq_row(struct cat_sqlite *s, sqlite3_stmt *st, struct werr *err)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return 0;
    }
    sq_error(s, rc, err);
    sqlite3_reset(st);
    return -1;
}

int
sq_done(struct cat_sqlite *s, sqlite3_stmt *st, struct werr *err)
{
    int rc;

    while ((rc = sq_row(s, st, err)) > 0)
        ;
    return rc;
}

void
sq_reset(sqlite3_stmt *st)
{
    sqlite3_reset(st);
}

int
sq_int_query(struct cat_sqlite *s, enum sq_id id, int64_t arg, int64_t def,
             int64_t *out, struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, id, err);
    int rc;

    if (!st)
        return -1;
    if (sqlite3_bind_parameter_count(st) > 0)
        sqlite3_bind_int64(st, 1, arg);
    rc = sq_row(s, st, err);
    if (rc < 0)
        return -1;
    *out = def;
    if (rc > 0) {
        if (sqlite3_column_type(st, 0) != SQLITE_NULL)
            *out = sqlite3_column_int64(st, 0);
        sq_reset(st);
    }
    return 0;
}

void
sq_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

void
sq_bind_int(sqlite3_stmt *st, int i, int64_t v)
{
    sqlite3_bind_int64(st, i, v);
}

static int
run(struct cat_sqlite *s, enum sq_id id, struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, id, err);

    return st ? sq_done(s, st, err) : -1;
}

/* Inside a batch, each call is a savepoint of the batch's transaction. */
static int
savepoint(struct cat_sqlite *s, struct werr *err)
{
    /* SQLite ends the whole transaction by itself on some errors (disk
     * full, I/O): what the batch did is gone, and what follows must not
     * commit on its own as if it were still inside it. */
    if (sqlite3_get_autocommit(s->db))
        return werr_set(err, WERR_DB, "catalog: the batch was rolled back "
                        "by an earlier error");
    return run(s, SQ_SAVEPOINT, err);
}

int
sq_begin(struct cat_sqlite *s, struct werr *err)
{
    return s->batch ? savepoint(s, err) : run(s, SQ_BEGIN, err);
}

int
sq_begin_read(struct cat_sqlite *s, struct werr *err)
{
    return s->batch ? savepoint(s, err) : run(s, SQ_BEGIN_READ, err);
}

int
sq_commit(struct cat_sqlite *s, struct werr *err)
{
    if (run(s, s->batch ? SQ_RELEASE : SQ_COMMIT, err) < 0)
        return sq_rollback(s);
    return 0;
}

int
sq_rollback(struct cat_sqlite *s)
{
    /* SQLite may already have rolled back on its own (SQLITE_FULL, I/O
     * errors); ROLLBACK would then fail for lack of a transaction. */
    if (sqlite3_get_autocommit(s->db))
        return -1;
    if (s->batch) {
        run(s, SQ_ROLLBACK_TO, NULL);
        run(s, SQ_RELEASE, NULL);
    } else {
        run(s, SQ_ROLLBACK, NULL);
    }
    return -1;
}

static int
sqlite_batch_begin(struct cat *c, struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);

    if (s->batch)
        return werr_set(err, WERR_INTERNAL, "a catalog batch is already "
                        "open");
    if (run(s, SQ_BEGIN, err) < 0)
        return -1;
    s->batch = true;
    return 0;
}

static int
sqlite_batch_commit(struct cat *c, struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);

    if (!s->batch)
        return werr_set(err, WERR_INTERNAL, "no catalog batch is open");
    s->batch = false;
    if (sqlite3_get_autocommit(s->db))
        return werr_set(err, WERR_DB, "catalog: the batch was rolled back "
                        "by an earlier error");
    return sq_commit(s, err);
}

static void
sqlite_batch_rollback(struct cat *c)
{
    struct cat_sqlite *s = sq_of(c);

    if (!s->batch)
        return;
    s->batch = false;
    sq_rollback(s);
}

json_t *
sq_col_int(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return json_null();
    return json_integer(sqlite3_column_int64(st, i));
}

json_t *
sq_col_str(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    json_t *v;

    if (!t)
        return json_null();
    v = json_stringn(t, (size_t)sqlite3_column_bytes(st, i));
    return v ? v : json_null();
}

json_t *
sq_col_parsed(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    json_t *v;

    if (!t)
        return json_null();
    v = json_loadb(t, (size_t)sqlite3_column_bytes(st, i), JSON_DECODE_ANY,
                   NULL);
    return v ? v : json_null();
}

void
sq_push(json_t *arr, json_t *v)
{
    json_array_append_new(arr, v);
}

json_t *
sq_list_object(const char *key, json_t **arr)
{
    json_t *obj = json_object();

    *arr = json_array();
    json_object_set_new(obj, key, *arr);
    return obj;
}

/* ---- opening and migrating ---- */

static int
exec_sql(struct cat_sqlite *s, const char *sql, struct werr *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        werr_set(err, (rc & 0xff) == SQLITE_BUSY ? WERR_UNAVAILABLE : WERR_DB,
                 "%s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int
journal_is_wal(void *arg, int ncol, char **vals, char **names)
{
    *(int *)arg = ncol > 0 && vals[0] && strcmp(vals[0], "wal") == 0;
    return 0;
}

static int
configure(struct cat_sqlite *s, struct werr *err)
{
    int wal = 0, rc;
    char *msg = NULL;

    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    rc = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", journal_is_wal,
                      &wal, &msg);
    if (rc != SQLITE_OK) {
        werr_set(err, WERR_DB, "%s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return -1;
    }
    if (!wal)
        return werr_set(err, WERR_DB, "the file system does not support "
                        "SQLite's write-ahead log");
    return exec_sql(s, "PRAGMA synchronous = NORMAL;"
                       "PRAGMA foreign_keys = ON;", err);
}

static int
apply_migrations(struct cat_sqlite *s, int64_t from, struct werr *err)
{
    const struct cat_migration *m = cat_sqlite_migrations;
    sqlite3_stmt *st = NULL;
    int rc = -1;

    if (sqlite3_prepare_v2(s->db, "INSERT INTO schema_version (version, "
                           "name, applied_ms) VALUES (?1, ?2, ?3)", -1, &st,
                           NULL) != SQLITE_OK)
        return sq_error(s, SQLITE_ERROR, err);
    for (size_t i = 0; i < cat_sqlite_migrations_count; i++) {
        if (m[i].version <= from)
            continue;
        if (exec_sql(s, m[i].sql, err) < 0) {
            werr_prefix(err, "migration %s", m[i].name);
            goto out;
        }
        sqlite3_reset(st);
        sqlite3_bind_int(st, 1, m[i].version);
        sqlite3_bind_text(st, 2, m[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, wtime_real_ms());
        if (sq_done(s, st, err) < 0)
            goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

static int
current_version(struct cat_sqlite *s, int64_t *version, struct werr *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(version), 0) FROM "
                           "schema_version", -1, &st, NULL) != SQLITE_OK)
        return sq_error(s, SQLITE_ERROR, err);
    rc = sq_row(s, st, err);
    if (rc > 0)
        *version = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc > 0 ? 0 : -1;
}

static int
migrate(struct cat_sqlite *s, struct werr *err)
{
    int64_t have = 0;
    int latest = cat_sqlite_migrations[cat_sqlite_migrations_count - 1]
                     .version;

    if (exec_sql(s, "BEGIN IMMEDIATE", err) < 0)
        return -1;
    if (exec_sql(s, "CREATE TABLE IF NOT EXISTS schema_version ("
                    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                    "applied_ms INTEGER NOT NULL)", err) < 0 ||
        current_version(s, &have, err) < 0)
        goto fail;
    if (have > latest) {
        werr_set(err, WERR_DB, "schema version %lld is newer than this "
                 "weir knows (%d); upgrade weir", (long long)have, latest);
        goto fail;
    }
    if (have < latest && apply_migrations(s, have, err) < 0)
        goto fail;
    if (exec_sql(s, "COMMIT", err) < 0)
        goto fail;
    s->base.schema_version = latest;
    return 0;
fail:
    exec_sql(s, "ROLLBACK", NULL);
    return -1;
}

static void
sqlite_close(struct cat *c)
{
    struct cat_sqlite *s = sq_of(c);

    sqlite_batch_rollback(c);
    for (int i = 0; i < SQ__COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

/* Creates a missing catalog file readable by its owner only: it holds
 * parameter values.  SQLite gives its -wal and -shm files the same mode. */
static void
create_private(const char *path)
{
    int fd;

    if (strcmp(path, ":memory:") == 0)
        return;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
}

struct cat *
cat_sqlite_open(const char *path, struct werr *err)
{
    struct cat_sqlite *s = xcalloc(1, sizeof(*s));
    int rc;

    s->base.ops = &cat_sqlite_ops;
    s->path = xstrdup(path);
    create_private(path);
    rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
                         SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        werr_set(err, WERR_DB, "%s", s->db ? sqlite3_errmsg(s->db)
                                           : sqlite3_errstr(rc));
        goto fail;
    }
    if (configure(s, err) < 0 || migrate(s, err) < 0)
        goto fail;
    for (int i = 0; i < SQ__COUNT; i++)
        if (!sq_stmt(s, (enum sq_id)i, err))
            goto fail;
    return &s->base;
fail:
    werr_prefix(err, "catalog '%s'", path);
    sqlite_close(&s->base);
    return NULL;
}

const struct cat_ops cat_sqlite_ops = {
    .name = "sqlite",
    .close = sqlite_close,
    .batch_begin = sqlite_batch_begin,
    .batch_commit = sqlite_batch_commit,
    .batch_rollback = sqlite_batch_rollback,
    .project_deploy = cat_sqlite_deploy,
    .folder_list = cat_sqlite_folder_list,
    .project_list = cat_sqlite_project_list,
    .project_get = cat_sqlite_project_get,
    .blob_get = cat_sqlite_blob_get,
    .exec_create = cat_sqlite_exec_create,
    .exec_start = cat_sqlite_exec_start,
    .exec_get = cat_sqlite_exec_get,
    .exec_list = cat_sqlite_exec_list,
    .exec_messages = cat_sqlite_exec_messages,
    .exec_statistics = cat_sqlite_exec_statistics,
    .exec_stop = cat_sqlite_exec_stop,
    .worker_register = cat_sqlite_worker_register,
    .worker_list = cat_sqlite_worker_list,
    .worker_get = cat_sqlite_worker_get,
    .worker_set_enabled = cat_sqlite_worker_set_enabled,
    .task_claim = cat_sqlite_task_claim,
    .task_any_pending = cat_sqlite_task_any_pending,
    .task_heartbeat = cat_sqlite_task_heartbeat,
    .task_events = cat_sqlite_task_events,
    .task_complete = cat_sqlite_task_complete,
    .task_reap = cat_sqlite_task_reap,
    .task_next_expiry = cat_sqlite_task_next_expiry,
    .task_extend_leases = cat_sqlite_task_extend_leases,
};
