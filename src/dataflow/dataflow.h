/*
 * The data flow engine: runs the pipeline of a Data Flow task
 * (Microsoft.Pipeline).
 *
 * The engine knows nothing of the control flow.  Whoever runs a data flow
 * (src/runtime/task_dataflow.c) hands it a `struct df_host`: where events
 * go, how variables are read and written, how a connection manager
 * resolves to a connection string, whether the run was canceled, and how
 * to release the control flow's run lock around long work.  The pipeline
 * itself is the task's DTS:ObjectData/<pipeline> element, kept by the
 * package loader (pkg_executable.object_data).
 */
#ifndef WEIR_DATAFLOW_H
#define WEIR_DATAFLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "base/wbuf.h"
#include "base/werr.h"
#include "expr/expr.h"
#include "package/package.h"

/* What the data flow reports.  DF_EV_ROWS is the data statistics of one
 * path: `rows` rows went along it (sent once per path at the end).
 * DF_EV_PROGRESS is a phase (`message` "Pre-Execute", `percent` 0..100) or,
 * with `path` set and `percent` -1, the rows so far along a path while
 * they flow. */
enum df_event_kind {
    DF_EV_INFORMATION,
    DF_EV_WARNING,
    DF_EV_ERROR,
    DF_EV_PROGRESS,
    DF_EV_ROWS,
};

struct df_event {
    enum df_event_kind kind;
    const char *component; /* the component's name, NULL for the task */
    const char *path;      /* DF_EV_ROWS, path progress: the path's name */
    const char *message;
    int code;      /* DF_EV_ERROR: a RT_E_* style code (runtime_int.h) */
    int64_t rows;  /* DF_EV_ROWS, path progress */
    int percent;   /* DF_EV_PROGRESS: 0..100, or -1 for path progress */
};

/* A connection manager as the data flow needs it: its definition (for the
 * Flat File manager's columns, read from cm->object_data) and its
 * connection string with overrides and property expressions applied:
 * a file path for FLATFILE/FILE managers, an ODBC connection string for
 * OLEDB/ADO.NET/ODBC managers. */
struct df_conn {
    const struct pkg_connection *cm;
    const char *string; /* owned by the host, valid during the run */
    /* CACHE managers: where the run keeps the cache's rows from one data
     * flow to the next (a Cache Transform fills it, Lookups read it), NULL
     * when the host keeps none.  The engine creates the cache on first
     * use; the host frees it with df_cache_free() when the run ends.
     * `string` is then the cache file's path ("" if none). */
    struct df_cache **cache;
};

/* A Cache connection manager's rows (cache.c); df_cache_free(NULL) is a
 * no-op.  Called by the host once no data flow of the run uses it. */
struct df_cache;
void df_cache_free(struct df_cache *c);

/* Rows for an Object variable (the Recordset destination): `ncols` named
 * and typed columns and `nrows` rows of values, row-major
 * (cells[r * ncols + c]); everything borrowed for the call. */
struct df_rowset {
    size_t ncols, nrows;
    const char *const *names;
    const struct expr_type *types;
    const struct expr_value *cells;
};

/* How a run used its threads, for tests and diagnostics (df_host.stats):
 * the EngineThreads it read, the threads that ran sources and trees (the
 * calling thread included; the watcher thread, which checks for cancel
 * and reports progress, is not counted), the most of them that ran work
 * at once, and how many buffers a thread that found a queue full
 * delivered itself. */
struct df_run_stats {
    int engine_threads;
    size_t threads;
    size_t peak_busy;
    size_t inline_deliveries;
};

/*
 * The host.  Every callback is called with the run lock held (the engine
 * calls blocking_begin/blocking_end around its own waits), from any of
 * the engine's threads, one at a time.
 *   emit        reports an event.
 *   vars        resolves @[NS::Name] in expressions (its ctx is the
 *               host's); the values are read at evaluation.
 *   get_var     reads a variable or parameter by name ("User::Count").
 *   set_var     writes one (Row Count, Recordset destination); the value
 *               is converted to the variable's type, -1 with `err` if it
 *               does not fit or the variable is read-only.
 *   set_rowset  stores rows into an Object variable as the runtime's
 *               result set (what a Foreach ADO enumerator reads); NULL
 *               when the host has none.
 *   connection  resolves a connection manager by its refId
 *               ("Package.ConnectionManagers[Orders CSV]") or DTSID
 *               ("{...}"), as components write connectionManagerID.
 *   canceled    true once the run is being stopped.
 *   blocking_begin/_end  release and retake the control flow's run lock.
 */
struct df_host {
    void *ctx;
    void (*emit)(void *ctx, const struct df_event *ev);
    const struct expr_host *vars;
    int (*get_var)(void *ctx, const char *name, struct expr_value *out,
                   struct werr *err);
    int (*set_var)(void *ctx, const char *name, const struct expr_value *v,
                   struct werr *err);
    int (*connection)(void *ctx, const char *ref, struct df_conn *out,
                      struct werr *err);
    int (*set_rowset)(void *ctx, const char *name,
                      const struct df_rowset *rows, struct werr *err);
    bool (*canceled)(void *ctx);
    void (*blocking_begin)(void *ctx);
    void (*blocking_end)(void *ctx);
    /* Validation connects to databases and checks that the tables and
     * columns the components name exist (weir exec --validate). */
    bool validate_external;
    /* When not NULL, df_run() fills it as it returns (after the rows
     * moved, whether the run succeeded or not). */
    struct df_run_stats *stats;
    /* The task's property expressions as evaluated for this execution:
     * name, value, name, value..., then NULL.  "[Component].[Property]"
     * replaces a component's custom property; DefaultBufferMaxRows,
     * DefaultBufferSize and EngineThreads the pipeline's.  NULL: none
     * (validation checks the package as written). */
    const char *const *overrides;
};

/* Checks the data flow of `task` before anything runs: the pipeline's
 * shape (paths, lineage references, cycles), component classes weir runs
 * (Script Components cannot run: they need .NET), each component's
 * properties and columns.  Appends "PATH: component 'NAME': message\n"
 * lines to `problems` (PATH is task->path); returns how many. */
int df_validate(const struct pkg_executable *task, const struct df_host *h,
                struct wbuf *problems);

/* Runs the data flow of `task` to its end.  Returns 0, or -1 with `err`
 * set after the failing component raised its error event (the caller only
 * fails the task).  When the host says the run is canceled, the engine
 * stops reading its sources, drains nothing more and returns -1 with
 * WERR_UNAVAILABLE ("canceled"). */
int df_run(const struct pkg_executable *task, const struct df_host *h,
           struct werr *err);

#endif
