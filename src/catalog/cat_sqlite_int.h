/*
 * Private to the SQLite backend: the handle, the statement ids (their SQL
 * is in cat_sqlite_sql.c) and the small helpers every part of the backend
 * uses to run a cached statement, run a transaction and turn columns into
 * JSON.
 *
 * Statement discipline: sq_stmt() hands out the cached statement, reset
 * and unbound; whoever steps it calls sq_row/sq_done, which reset it when
 * it is finished or fails, or sq_reset when it stops reading early.  A
 * statement left un-reset would hold a read snapshot open.
 */
#ifndef WEIR_CATALOG_CAT_SQLITE_INT_H
#define WEIR_CATALOG_CAT_SQLITE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "catalog/catalog_int.h"

enum sq_id {
    SQ_BEGIN,
    SQ_BEGIN_READ,
    SQ_COMMIT,
    SQ_ROLLBACK,
    SQ_SAVEPOINT,
    SQ_RELEASE,
    SQ_ROLLBACK_TO,
    SQ_FOLDER_ID,
    SQ_FOLDER_ADD,
    SQ_PROJECT_ID,
    SQ_PROJECT_ADD,
    SQ_VERSION_NEXT,
    SQ_VERSION_ADD,
    SQ_BLOB_HAS,
    SQ_BLOB_ADD,
    SQ_FILE_ADD,
    SQ_FOLDER_LIST,
    SQ_PROJECT_LIST,
    SQ_VERSION_CURRENT,
    SQ_VERSION_FILES,
    SQ_BLOB_GET,
    SQ_PACKAGE_HAS,
    SQ_EXEC_ADD,
    SQ_EXEC_WORKER_ADD,
    SQ_WORKER_HAS,
    SQ_TASK_ADD,
    SQ_EXEC_STATUS,
    SQ_EXEC_SET_STATUS,
    SQ_EXEC_END,
    SQ_EXEC_TASK,
    SQ_EXEC_GET,
    SQ_EXEC_NEWEST,
    SQ_EXEC_AFTER,
    SQ_MESSAGES,
    SQ_STATISTICS,
    SQ_WORKER_REG,
    SQ_WORKER_ADD,
    SQ_WORKER_UPDATE,
    SQ_WORKER_OLD_TASKS,
    SQ_WORKER_LIST,
    SQ_WORKER_GET,
    SQ_WORKER_ENABLE,
    SQ_CLAIM_WORKER,
    SQ_CLAIM_CANDIDATES,
    SQ_TASK_CLAIM,
    SQ_EXEC_CLAIMED,
    SQ_ATTEMPT_ADD,
    SQ_CLAIM_INFO,
    SQ_TASK_GET,
    SQ_TASK_RENEW,
    SQ_TASK_CANCEL,
    SQ_TASK_DONE,
    SQ_TASK_REQUEUE,
    SQ_EXEC_REQUEUED,
    SQ_WORKER_BEAT,
    SQ_ATTEMPT_ACKED,
    SQ_ATTEMPT_SET_ACKED,
    SQ_ATTEMPT_END,
    SQ_MSG_LAST,
    SQ_MSG_ADD,
    SQ_MSG_HAS,
    SQ_STAT_ADD,
    SQ_REAP_EXPIRED,
    SQ_NEXT_EXPIRY,
    SQ_EXTEND_LEASES,
    SQ_ANY_PENDING,
    SQ__COUNT
};

extern const char *const cat_sqlite_sql[SQ__COUNT];

struct cat_sqlite {
    struct cat base;
    sqlite3 *db;
    char *path;                     /* for messages */
    sqlite3_stmt *st[SQ__COUNT];    /* prepared on first use */
    bool batch;                     /* inside cat_batch_begin */
};

static inline struct cat_sqlite *
sq_of(struct cat *c)
{
    return (struct cat_sqlite *)c;
}

/* The cached statement `id`, ready to bind; NULL (err set) if it cannot be
 * prepared. */
sqlite3_stmt *sq_stmt(struct cat_sqlite *s, enum sq_id id, struct werr *err);
/* Steps `st`: 1 when a row is ready (the statement stays active), 0 when
 * done and -1 on error (reset in both cases). */
int sq_row(struct cat_sqlite *s, sqlite3_stmt *st, struct werr *err);
/* Steps a statement that returns no row to the end and resets it. */
int sq_done(struct cat_sqlite *s, sqlite3_stmt *st, struct werr *err);
/* Resets `st` after reading only part of its rows. */
void sq_reset(sqlite3_stmt *st);
/* Sets `err` from the connection's last error; returns -1. */
int sq_error(struct cat_sqlite *s, int rc, struct werr *err);
/* Runs statement `id` binding one integer (`?1`, if it has one),
 * expecting a single integer column: *out gets it, or `def` when there is
 * no row or it is NULL. */
int sq_int_query(struct cat_sqlite *s, enum sq_id id, int64_t arg,
                 int64_t def, int64_t *out, struct werr *err);

/* Binds text (NULL binds SQL NULL) or an integer. */
void sq_bind_text(sqlite3_stmt *st, int i, const char *v);
void sq_bind_int(sqlite3_stmt *st, int i, int64_t v);

/* BEGIN IMMEDIATE (write) or BEGIN DEFERRED (read); inside a batch, a
 * savepoint, so that each call stays all-or-nothing within it. */
int sq_begin(struct cat_sqlite *s, struct werr *err);
int sq_begin_read(struct cat_sqlite *s, struct werr *err);
/* COMMIT; on failure the transaction is rolled back and -1 returned. */
int sq_commit(struct cat_sqlite *s, struct werr *err);
/* ROLLBACK (errors ignored: the transaction is gone either way); returns
 * -1 so that callers can `return sq_rollback(s);`. */
int sq_rollback(struct cat_sqlite *s);

/* Column `i` of the current row as a new JSON value; SQL NULL gives
 * JSON null.  sq_col_parsed parses a column holding JSON text. */
json_t *sq_col_int(sqlite3_stmt *st, int i);
json_t *sq_col_str(sqlite3_stmt *st, int i);
json_t *sq_col_parsed(sqlite3_stmt *st, int i);
/* Appends `v` (stolen; NULL is ignored) to the array `arr`. */
void sq_push(json_t *arr, json_t *v);
/* A new {key: []} object and its array (borrowed) in *arr. */
json_t *sq_list_object(const char *key, json_t **arr);

/* Parts of the backend, each in its own file. */
int cat_sqlite_deploy(struct cat *c, const char *folder, const char *project,
                      const struct cat_file_hashed *files, size_t nfiles,
                      int64_t now, int64_t *version, struct werr *err);
json_t *cat_sqlite_folder_list(struct cat *c, struct werr *err);
json_t *cat_sqlite_project_list(struct cat *c, struct werr *err);
json_t *cat_sqlite_project_get(struct cat *c, const char *folder,
                               const char *project, struct werr *err);
int cat_sqlite_blob_get(struct cat *c, const char *hash, struct wbuf *out,
                        struct werr *err);
/* The files of a project version as [{"path", "hash", "size"}]. */
json_t *cat_sqlite_version_files(struct cat_sqlite *s, int64_t version_id,
                                 json_t **packages, struct werr *err);

int cat_sqlite_exec_create(struct cat *c, const struct cat_exec_req *req,
                           int64_t now, int64_t *ids, struct werr *err);
int cat_sqlite_exec_start(struct cat *c, int64_t id, int64_t now,
                          struct werr *err);
json_t *cat_sqlite_exec_get(struct cat *c, int64_t id, struct werr *err);
json_t *cat_sqlite_exec_list(struct cat *c, int status, int64_t after,
                             int limit, struct werr *err);
json_t *cat_sqlite_exec_messages(struct cat *c, int64_t id, int64_t after,
                                 int limit, struct werr *err);
json_t *cat_sqlite_exec_statistics(struct cat *c, int64_t id,
                                   struct werr *err);
int cat_sqlite_exec_stop(struct cat *c, int64_t id, int64_t now, int *status,
                         struct werr *err);

int cat_sqlite_worker_register(struct cat *c, const struct cat_worker_reg *reg,
                               int64_t now, bool *enabled, int *requeued,
                               struct werr *err);
json_t *cat_sqlite_worker_list(struct cat *c, int64_t now, int64_t online_ms,
                               struct werr *err);
json_t *cat_sqlite_worker_get(struct cat *c, const char *id, int64_t now,
                              int64_t online_ms, struct werr *err);
int cat_sqlite_worker_set_enabled(struct cat *c, const char *id, bool enabled,
                                  struct werr *err);

json_t *cat_sqlite_task_claim(struct cat *c, const char *worker_id,
                              const char *incarnation, int slots, int64_t now,
                              int64_t lease_ms, struct werr *err);
bool cat_sqlite_task_any_pending(struct cat *c);
json_t *cat_sqlite_task_heartbeat(struct cat *c, const char *worker_id,
                                  const char *incarnation,
                                  const int64_t *tasks, size_t ntasks,
                                  int64_t now, int64_t lease_ms,
                                  struct werr *err);
int cat_sqlite_task_events(struct cat *c, const char *worker_id,
                           const char *incarnation, int64_t task_id,
                           int64_t first_seq, const struct cat_event *events,
                           size_t nevents, int64_t now, int64_t *acked,
                           struct werr *err);
int cat_sqlite_task_complete(struct cat *c, const char *worker_id,
                             const char *incarnation, int64_t task_id,
                             enum cat_result result, int exit_code,
                             int64_t events_seq, int64_t now, int *status,
                             struct werr *err);
int cat_sqlite_task_reap(struct cat *c, int64_t now, int *requeued,
                         int *ended, struct werr *err);
int64_t cat_sqlite_task_next_expiry(struct cat *c);
int cat_sqlite_task_extend_leases(struct cat *c, int64_t now,
                                  int64_t lease_ms, struct werr *err);
/* Ends the current attempt of running task `task_id` as lost and decides
 * its fate (canceled, pending again, or ended unexpectedly), counting it
 * in *requeued or *ended.  Runs inside the caller's transaction. */
int cat_sqlite_task_lose(struct cat_sqlite *s, int64_t task_id, int64_t now,
                         int *requeued, int *ended, struct werr *err);

#endif
