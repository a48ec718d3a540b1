/*
 * The catalog: folders, projects (versions, files stored once by content
 * hash), packages, parameters, executions, tasks, workers, messages and
 * executable statistics.
 *
 * One interface, several backends (SQLite now, PostgreSQL next), chosen by
 * the URL given to cat_open.  Every call that changes state is one
 * transaction: it happens whole or not at all, so a master killed at any
 * moment restarts on a consistent catalog.
 *
 * Results meant for the API come back as jansson objects shaped exactly as
 * docs/api.md shows them; the caller owns the returned reference.  Times are
 * milliseconds since the epoch, passed in by the caller (`now`) so that the
 * scheduler's clock is the only clock and tests can drive it.
 *
 * A struct cat is used by one thread at a time.
 */
#ifndef WEIR_CATALOG_H
#define WEIR_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/werr.h"

struct cat;

/* Execution status codes (SSISDB's). */
enum cat_status {
    CAT_CREATED = 1,
    CAT_RUNNING = 2,
    CAT_CANCELED = 3,
    CAT_FAILED = 4,
    CAT_PENDING = 5,
    CAT_ENDED_UNEXPECTEDLY = 6,
    CAT_SUCCEEDED = 7,
    CAT_STOPPING = 8,
    CAT_COMPLETED = 9,
};

/* "succeeded", "ended unexpectedly", ...; "unknown" for other values. */
const char *cat_status_name(int status);
/* True for 3, 4, 6, 7 and 9: the execution will not change again. */
bool cat_status_is_final(int status);

/* Opens (creating and migrating if needed) the catalog at `url`:
 * "sqlite:PATH" or a plain PATH for the embedded SQLite catalog. */
struct cat *cat_open(const char *url, struct werr *err);
/* Closes it; NULL is a no-op. */
void cat_close(struct cat *c);
/* The schema version the catalog is at after migration. */
int cat_schema_version(struct cat *c);

/* Group commit (optional).  Between cat_batch_begin and cat_batch_commit
 * every call runs inside one enclosing transaction: each call is still
 * all-or-nothing (a failed call undoes only its own changes), but N state
 * changes cost one commit.  Nothing done inside a batch is durable, or
 * visible to other connections, until cat_batch_commit returns 0, so
 * answer the requests it served only then; if it fails, everything since
 * cat_batch_begin is undone.  Batches do not nest (WERR_INTERNAL).
 * cat_batch_rollback undoes an open batch (no-op if none is open). */
int cat_batch_begin(struct cat *c, struct werr *err);
int cat_batch_commit(struct cat *c, struct werr *err);
void cat_batch_rollback(struct cat *c);

/* ---- projects ---- */

/* One file of a project being deployed. */
struct cat_file {
    const char *path;     /* relative, '/'-separated, e.g. "data/in.csv" */
    const void *data;     /* borrowed */
    size_t len;
    bool is_package;      /* a .dtsx at the project's top level */
};

/* Stores a new version of FOLDER/PROJECT made of `files` (the folder is
 * created if missing).  Content already stored (same SHA-256) is not stored
 * again.  Returns the new version number in *version. */
int cat_project_deploy(struct cat *c, const char *folder, const char *project,
                       const struct cat_file *files, size_t nfiles,
                       int64_t now, int64_t *version, struct werr *err);
json_t *cat_folder_list(struct cat *c, struct werr *err);
json_t *cat_project_list(struct cat *c, struct werr *err);
/* The current version with "packages" and "files"; WERR_NOTFOUND if none. */
json_t *cat_project_get(struct cat *c, const char *folder,
                        const char *project, struct werr *err);
/* Appends the content stored under `hash` to `out` (WERR_NOTFOUND if none). */
struct wbuf;
int cat_blob_get(struct cat *c, const char *hash, struct wbuf *out,
                 struct werr *err);

/* ---- executions ---- */

struct cat_exec_req {
    const char *folder, *project, *package;
    json_t *parameters;       /* object of name -> string value; may be NULL */
    const char *const *workers; /* NULL-terminated worker ids, or NULL: any */
    const char *tag;          /* NULL: any */
    int retries;              /* attempts = retries + 1 */
    int logging_level;
    int count;                /* >= 1 identical executions */
    bool start;               /* false: leave them created (1) */
};

/* Creates req->count executions of the project's current version (and, when
 * started, one pending task each).  WERR_NOTFOUND if the folder, project or
 * package does not exist.  Writes the ids to `ids` (room for req->count). */
int cat_exec_create(struct cat *c, const struct cat_exec_req *req,
                    int64_t now, int64_t *ids, struct werr *err);
/* Starts a created execution; WERR_CONFLICT if it is not created (1). */
int cat_exec_start(struct cat *c, int64_t id, int64_t now, struct werr *err);
json_t *cat_exec_get(struct cat *c, int64_t id, struct werr *err);
/* Newest first, or ascending ids above `after` when after > 0; status 0 is
 * any; limit <= 0 means 100. */
json_t *cat_exec_list(struct cat *c, int status, int64_t after, int limit,
                      struct werr *err);
/* {"messages": [...], "status": N} with seq > after. */
json_t *cat_exec_messages(struct cat *c, int64_t id, int64_t after,
                          int limit, struct werr *err);
json_t *cat_exec_statistics(struct cat *c, int64_t id, struct werr *err);
/* Created or pending: canceled at once.  Running: stopping (the worker is
 * told at its next heartbeat).  Stopping: unchanged.  Final: WERR_CONFLICT.
 * The new status goes to *status. */
int cat_exec_stop(struct cat *c, int64_t id, int64_t now, int *status,
                  struct werr *err);

/* ---- workers ---- */

struct cat_worker_reg {
    const char *id, *incarnation, *name, *machine;
    const char *const *tags;  /* NULL-terminated, may be NULL */
    int max_tasks;
    bool auto_enable;         /* a worker seen for the first time is enabled */
};

/* Records the worker (inserting it or updating name, machine, tags,
 * max_tasks).  If it comes back with a new incarnation, the tasks the old
 * one held are requeued now (or end their executions as ended unexpectedly
 * when no attempt is left); their count goes to *requeued.  *enabled gets
 * the worker's enabled flag. */
int cat_worker_register(struct cat *c, const struct cat_worker_reg *reg,
                        int64_t now, bool *enabled, int *requeued,
                        struct werr *err);
/* `online_ms`: a worker is online when its last heartbeat is newer. */
json_t *cat_worker_list(struct cat *c, int64_t now, int64_t online_ms,
                        struct werr *err);
json_t *cat_worker_get(struct cat *c, const char *id, int64_t now,
                       int64_t online_ms, struct werr *err);
int cat_worker_set_enabled(struct cat *c, const char *id, bool enabled,
                           struct werr *err);

/* ---- tasks (the worker protocol) ---- */

/* Assigns up to `slots` pending tasks that this worker may run (enabled;
 * allowed by the execution's worker list and tag; fewer than max_tasks of
 * its tasks running), oldest first, setting their lease to now + lease_ms
 * and their executions to running.  Returns the "tasks" array of the claim
 * response (docs/api.md), possibly empty.  WERR_CONFLICT if the worker or
 * incarnation is unknown. */
json_t *cat_task_claim(struct cat *c, const char *worker_id,
                       const char *incarnation, int slots, int64_t now,
                       int64_t lease_ms, struct werr *err);
/* True if any pending task could be claimed by some worker at all (used to
 * decide whether waking parked claims is worth trying). */
bool cat_task_any_pending(struct cat *c);
/* Renews the leases of the listed tasks held by this worker incarnation and
 * updates its last heartbeat.  Returns {"cancel": [...], "lost": [...],
 * "enabled": bool}. */
json_t *cat_task_heartbeat(struct cat *c, const char *worker_id,
                           const char *incarnation, const int64_t *tasks,
                           size_t ntasks, int64_t now, int64_t lease_ms,
                           struct werr *err);
/* Stores events first_seq, first_seq+1, ... of a task's current attempt,
 * ignoring sequence numbers already stored; PostExecute events also become
 * executable statistics.  *acked gets the highest stored sequence number.
 * WERR_CONFLICT if the worker does not hold the task. */
int cat_task_events(struct cat *c, const char *worker_id,
                    const char *incarnation, int64_t task_id,
                    int64_t first_seq, json_t *events, int64_t now,
                    int64_t *acked, struct werr *err);

enum cat_result { CAT_RESULT_SUCCEEDED, CAT_RESULT_FAILED, CAT_RESULT_CANCELED };

/* Ends the task's attempt and its execution (succeeded 7, failed 4,
 * canceled 3).  WERR_CONFLICT if the worker does not hold the task or fewer
 * than `events_seq` events are stored.  *status gets the final status. */
int cat_task_complete(struct cat *c, const char *worker_id,
                      const char *incarnation, int64_t task_id,
                      enum cat_result result, int exit_code,
                      int64_t events_seq, int64_t now, int *status,
                      struct werr *err);
/* Ends every lease that expired before `now`: the task goes back to pending
 * while attempts remain (a stopping execution becomes canceled instead),
 * else its execution ends unexpectedly (6).  *requeued gets the number of
 * tasks made pending again, *ended the number of executions ended. */
int cat_task_reap(struct cat *c, int64_t now, int *requeued, int *ended,
                  struct werr *err);
/* The earliest lease expiry among running tasks, or 0 if none. */
int64_t cat_task_next_expiry(struct cat *c);
/* Pushes every running lease to at least now + lease_ms.  The master calls
 * it at start so that workers have time to reach a restarted master before
 * their tasks are given away. */
int cat_task_extend_leases(struct cat *c, int64_t now, int64_t lease_ms,
                           struct werr *err);

#endif
