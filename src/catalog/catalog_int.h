/*
 * Private to the catalog module: the backend interface.
 *
 * catalog.c validates every argument that comes from outside (names, paths,
 * ranges, event objects) and then calls the backend through `struct
 * cat_ops`, so a backend receives only well-formed input and holds nothing
 * but storage: its SQL, its connection, its transactions.  Each backend
 * embeds `struct cat` at the start of its own handle.
 */
#ifndef WEIR_CATALOG_INT_H
#define WEIR_CATALOG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/werr.h"
#include "base/wfile.h"
#include "catalog/catalog.h"

/* Limits on what callers may ask for. */
#define CAT_MAX_FILES 100000
#define CAT_MAX_PATH 1024
#define CAT_MAX_COUNT 10000
#define CAT_MAX_RETRIES 100
#define CAT_MAX_LOGGING_LEVEL 4
#define CAT_MAX_WORKERS 1000    /* allowed-worker list of an execution */
#define CAT_MAX_TAGS 64
#define CAT_MAX_TASKS 1024      /* max_tasks of a worker, and claim slots */
#define CAT_MAX_EVENTS 100000   /* events in one batch */
#define CAT_MAX_LIST 10000      /* rows in one list answer */

/* One migration step: `sql` is run whole, then `version` is recorded. */
struct cat_migration {
    int version;
    const char *name;
    const char *sql;
};

/* One event of a batch, checked by catalog.c; strings borrowed from the
 * JSON batch. */
struct cat_event {
    int64_t time_ms, type, start_ms, result, code;
    bool has_code;
    const char *event, *source, *path, *message;
};

/* A file of a deployment with its content hash computed. */
struct cat_file_hashed {
    const struct cat_file *file;
    char sha256[WFILE_SHA256_HEX + 1];
};

/* The execution request after validation: parameters is an object (never
 * NULL) and workers/tag point at checked ids. */
struct cat_ops {
    const char *name;
    void (*close)(struct cat *c);
    int (*batch_begin)(struct cat *c, struct werr *err);
    int (*batch_commit)(struct cat *c, struct werr *err);
    void (*batch_rollback)(struct cat *c);

    int (*project_deploy)(struct cat *c, const char *folder,
                          const char *project,
                          const struct cat_file_hashed *files, size_t nfiles,
                          int64_t now, int64_t *version, struct werr *err);
    json_t *(*folder_list)(struct cat *c, struct werr *err);
    json_t *(*project_list)(struct cat *c, struct werr *err);
    json_t *(*project_get)(struct cat *c, const char *folder,
                           const char *project, struct werr *err);
    int (*blob_get)(struct cat *c, const char *hash, struct wbuf *out,
                    struct werr *err);

    int (*exec_create)(struct cat *c, const struct cat_exec_req *req,
                       int64_t now, int64_t *ids, struct werr *err);
    int (*exec_start)(struct cat *c, int64_t id, int64_t now,
                      struct werr *err);
    json_t *(*exec_get)(struct cat *c, int64_t id, struct werr *err);
    json_t *(*exec_list)(struct cat *c, int status, int64_t after, int limit,
                         struct werr *err);
    json_t *(*exec_messages)(struct cat *c, int64_t id, int64_t after,
                             int limit, struct werr *err);
    json_t *(*exec_statistics)(struct cat *c, int64_t id, struct werr *err);
    int (*exec_stop)(struct cat *c, int64_t id, int64_t now, int *status,
                     struct werr *err);

    int (*worker_register)(struct cat *c, const struct cat_worker_reg *reg,
                           int64_t now, bool *enabled, int *requeued,
                           struct werr *err);
    json_t *(*worker_list)(struct cat *c, int64_t now, int64_t online_ms,
                           struct werr *err);
    json_t *(*worker_get)(struct cat *c, const char *id, int64_t now,
                          int64_t online_ms, struct werr *err);
    int (*worker_set_enabled)(struct cat *c, const char *id, bool enabled,
                              struct werr *err);

    json_t *(*task_claim)(struct cat *c, const char *worker_id,
                          const char *incarnation, int slots, int64_t now,
                          int64_t lease_ms, struct werr *err);
    bool (*task_any_pending)(struct cat *c);
    json_t *(*task_heartbeat)(struct cat *c, const char *worker_id,
                              const char *incarnation, const int64_t *tasks,
                              size_t ntasks, int64_t now, int64_t lease_ms,
                              struct werr *err);
    int (*task_events)(struct cat *c, const char *worker_id,
                       const char *incarnation, int64_t task_id,
                       int64_t first_seq, const struct cat_event *events,
                       size_t nevents, int64_t now, int64_t *acked,
                       struct werr *err);
    int (*task_complete)(struct cat *c, const char *worker_id,
                         const char *incarnation, int64_t task_id,
                         enum cat_result result, int exit_code,
                         int64_t events_seq, int64_t now, int *status,
                         struct werr *err);
    int (*task_reap)(struct cat *c, int64_t now, int *requeued, int *ended,
                     struct werr *err);
    int64_t (*task_next_expiry)(struct cat *c);
    int (*task_extend_leases)(struct cat *c, int64_t now, int64_t lease_ms,
                              struct werr *err);
};

struct cat {
    const struct cat_ops *ops;
    int schema_version;     /* set by the backend once migrated */
};

/* The name a task attempt's result is stored under. */
const char *cat_result_name(enum cat_result r);

/* SQLite backend (cat_sqlite*.c). */
extern const struct cat_ops cat_sqlite_ops;
struct cat *cat_sqlite_open(const char *path, struct werr *err);
/* Built from the files of schema/sqlite/ by embed.sh, in ascending order. */
extern const struct cat_migration cat_sqlite_migrations[];
extern const size_t cat_sqlite_migrations_count;

#endif
