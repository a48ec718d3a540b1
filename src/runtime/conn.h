/*
 * Connections of one run: connection managers resolved to ODBC
 * connection strings, and the ODBC layer that uses them.
 *
 * Every connection manager of the package, and every project connection
 * manager (NAME.conmgr in the project folder), becomes a `struct
 * rt_conn`.  OLEDB, ADO.NET:* and ODBC managers get an ODBC connection
 * string (docs/exec.md, "Connections"): ODBC strings are kept as they
 * are; OLE DB and ADO.NET SqlClient strings are mapped to Microsoft's
 * SQL Server ODBC driver as a best effort.  Because stored strings point
 * at the author's machine, the execution can replace them:
 * `weir exec --connection NAME=ODBC-STRING`, or the parameter
 * `CM.NAME.ConnectionString` (the name SSISDB gives connection-manager
 * properties).  Connection strings carry passwords: they are never
 * logged, put in an event or in a message.
 */
#ifndef WEIR_RUNTIME_CONN_H
#define WEIR_RUNTIME_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "base/wbuf.h"
#include "base/werr.h"
#include "package/package.h"
#include "runtime/vars.h"

struct df_cache; /* dataflow/dataflow.h */

struct rt_conn {
    char *name, *dtsid, *creation_name;
    char *written; /* the connection string as stored (FILE: a path) */
    char *odbc;    /* the ODBC connection string, or NULL */
    char *why_not; /* why `odbc` is NULL (no secret in it) */
    int file_usage; /* FILE: DTS:FileUsageType (package.h) */
    bool project;   /* from a .conmgr file */
    bool overridden;
    /* A property expression sets a property weir does not apply (NULL
     * when none does): the manager cannot be used unless overridden. */
    const char *expression_property;
    /* The ConnectionString expression's text, or NULL (owned). */
    char *expression;
    /* The connection string as stored, before expressions (owned). */
    char *stored;
    /* The property expressions weir applies, in the order written
     * (owned): ConnectionString, and for OLE DB and ADO.NET managers
     * ServerName, InitialCatalog, UserName and Password, each replacing
     * its part of the string (Data Source, Initial Catalog, User ID,
     * Password). */
    struct rt_conn_expr *exprs;
    size_t nexprs;
    /* CACHE managers: the rows a Cache Transform put in, kept for the
     * whole run (the data flow makes it; freed with the set). */
    struct df_cache *cache;
};

struct rt_conn_expr {
    char *property, *expression;
};

struct rt_conns {
    struct rt_conn *v;
    size_t n;
};

/* Collects the package's connection managers and those of the project
 * folder `project_dir` (may be NULL).  A .conmgr file that cannot be read
 * is WERR_INVALID naming the file. */
int rt_conns_init(struct rt_conns *cs, const struct pkg *p,
                  const char *project_dir, struct werr *err);
void rt_conns_release(struct rt_conns *cs);
/* Adds the project connection manager of a .conmgr held in memory (an
 * .ispac's); `file` names it in messages. */
int rt_conns_add_conmgr(struct rt_conns *cs, const char *file, const void *data,
                        size_t len, struct werr *err);
/* Adds copies of the project connection managers of `src` (a parent
 * package's, with its overrides applied) to `dst`: a child package of the
 * same project shares them, as in SSIS. */
void rt_conns_share_project(struct rt_conns *dst, const struct rt_conns *src);
/* The connection manager a task refers to: a DTSID ("{...}" or
 * "{...}:external"), a refId ("Package.ConnectionManagers[Name]",
 * "Project.ConnectionManagers[Name]") or a name; NULL if none. */
struct rt_conn *rt_conns_find(const struct rt_conns *cs, const char *ref);
/* Replaces the connection string of the manager called `name` (for a
 * FILE manager, its path); an unknown name is WERR_INVALID naming it.  The
 * string is copied. */
int rt_conns_override(struct rt_conns *cs, const char *name, const char *odbc,
                      struct werr *err);
/* Applies "NAME=ODBC-STRING" (weir exec --connection). */
int rt_conns_override_arg(struct rt_conns *cs, const char *arg,
                          struct werr *err);
/* True if `param` is "CM.<Name>.ConnectionString"; then sets that
 * manager's string (WERR_INVALID if there is no manager <Name>). */
bool rt_conns_is_param(const char *param);
int rt_conns_set_param(struct rt_conns *cs, const char *param,
                       const char *value, struct werr *err);

/* Evaluates the property expressions of `c` (see `exprs`), when it has
 * some and no override replaced the string, in `scope`, over the stored
 * string, and maps the result as a stored string (a FILE manager's
 * becomes its path).  Returns -1 with `err` naming the manager and the
 * property when an expression fails. */
int rt_conn_eval_expression(struct rt_conn *c, struct rt_vars *vs,
                            const struct pkg_executable *scope,
                            struct werr *err);

/* `written` (a key=value; list) with `key`, and any synonym of it
 * ("Server" for "Data Source"...), replaced by key=value (quoted when
 * needed).  The caller frees. */
char *rt_conn_set_key(const char *written, const char *key, const char *value);

/* Maps a stored connection string of type `creation_name` to an ODBC
 * string; NULL with `why` set (caller frees both). */
char *rt_conn_map(const char *creation_name, const char *written, char **why);

/* ---- ODBC (odbc.c) ---- */

struct rt_odbc;

/* Diagnostics are "[STATE] (native N) text" lines, one per record, in
 * `diag` (bounded by its max); the caller adds the connection manager's
 * name and the task path. */
struct rt_odbc *rt_odbc_connect(const char *odbc, int login_timeout_s,
                                struct wbuf *diag);
void rt_odbc_close(struct rt_odbc *c);
/* Checks that the driver a connection string names with Driver= is
 * installed (known to the driver manager); -1 with the reason in `why`.
 * Strings with a DSN or a driver library path pass. */
int rt_odbc_check_driver(const char *odbc, struct wbuf *why);

/* Runs one statement (one batch) with `nparams` parameters bound to its
 * `?` markers in order: inputs from `params`, except those `is_out` marks
 * (is_out may be NULL: all inputs), which are output parameters whose
 * values replace params[i] as String values (or NULL) when the statement
 * succeeds.  With `rows` non-NULL and *rows NULL, the first result set the
 * statement returns is collected into a new rowset (*rows); later ones
 * are read and dropped.  `timeout_s` 0 means none.  Returns 0, or -1 with
 * the driver's diagnostics in `diag`. */
int rt_odbc_exec(struct rt_odbc *c, const char *sql, struct rt_value *params,
                 const bool *is_out, size_t nparams, int timeout_s,
                 struct rt_rowset **rows, struct wbuf *diag);

/* Asks the driver to stop the statement running on `c` now (SQLCancel);
 * safe to call from another thread while rt_odbc_exec runs, a no-op
 * between statements.  The canceled rt_odbc_exec returns -1. */
void rt_odbc_cancel(struct rt_odbc *c);

/* Splits T-SQL batches: a line holding only "GO" (any case, spaces
 * around) ends a batch.  Returns a NULL-terminated array of the
 * non-blank batches; free it with rt_sql_batches_free. */
char **rt_sql_batches(const char *sql);
void rt_sql_batches_free(char **batches);
/* The number of `?` markers outside quotes and comments. */
size_t rt_sql_count_markers(const char *sql);

#endif
