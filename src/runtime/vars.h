/*
 * Runtime values and variables: what tasks write into and read from.
 *
 * A value is typed by its COM VARIANT code, the code DTS:Variable and
 * package parameters use (shared DTSX.md §4.1): 0 empty, 2 I2, 3 I4, 4 R4,
 * 5 R8, 6 currency, 7 date, 8 string, 11 bool, 13 object, 14 decimal,
 * 16..21 I1, UI1, UI2, UI4, I8, UI8; plus RT_VT_BINARY for bytes read from
 * a database.  Representation:
 *   - integers in `n.i` (signed) or `n.u` (UI1..UI8), range-checked;
 *   - R4 and R8 in `n.r`; bool in `n.b`;
 *   - string, currency and decimal as text in `s` (decimal kept as text,
 *     so no precision is lost on the way from the database to a variable);
 *   - date as ISO text "YYYY-MM-DD HH:MM:SS[.fffffff]" in `s` (what ODBC
 *     drivers return for timestamps; the design-time US form
 *     "2/28/2014 12:29:00 PM" is converted to it on load);
 *   - binary as `len` bytes in `s`;
 *   - object: a result set in `rows` (shared, reference counted) or
 *     nothing (an empty object, as Object variables are at design time).
 * `null` marks a database NULL (DBNull) of any type.
 *
 * Variables belong to the container that declares them; a lookup walks
 * from the asking executable outward, so an inner variable shadows an
 * outer one.  Names are "Namespace::Name" or a bare "Name" (namespace
 * User first, then any), optionally written "@[User::Name]".  Parameters
 * ($Package::Name, $Project::Name) read through the same calls and are
 * read-only.  A variable with EvaluateAsExpression evaluates its
 * expression (src/expr) on every read; the expression is compiled on the
 * first read and kept for the run.  A cycle between expression variables
 * is an error naming them.
 */
#ifndef WEIR_RUNTIME_VARS_H
#define WEIR_RUNTIME_VARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/wbuf.h"
#include "base/werr.h"
#include "package/package.h"

#define RT_VT_EMPTY 0
#define RT_VT_I2 2
#define RT_VT_I4 3
#define RT_VT_R4 4
#define RT_VT_R8 5
#define RT_VT_CY 6
#define RT_VT_DATE 7
#define RT_VT_STR 8
#define RT_VT_BOOL 11
#define RT_VT_OBJECT 13
#define RT_VT_DECIMAL 14
#define RT_VT_I1 16
#define RT_VT_UI1 17
#define RT_VT_UI2 18
#define RT_VT_UI4 19
#define RT_VT_I8 20
#define RT_VT_UI8 21
/* Not a VARIANT code weir reads from packages: bytes from a database. */
#define RT_VT_BINARY 8209 /* VT_ARRAY | VT_UI1 */

struct rt_rowset;

struct rt_value {
    int vt;
    bool null;
    union {
        int64_t i;
        uint64_t u;
        double r;
        bool b;
    } n;
    char *s;                /* owned; text or bytes (see above), else NULL */
    size_t len;             /* bytes in s */
    struct rt_rowset *rows; /* owned reference, or NULL */
};

/* A result set: names and VARIANT types of the columns, and the rows.
 * Cells are row-major: cell(r, c) = cells[r * ncols + c]. */
struct rt_rowset {
    int refs;
    size_t ncols, nrows, cap;
    char **names;
    int *types;
    struct rt_value *cells;
};

/* The name of a VARIANT code for messages ("Int32", "String"...). */
const char *rt_vt_name(int vt);

/* Frees what `v` holds and makes it empty. */
void rt_value_release(struct rt_value *v);
/* A deep copy (object values share the rowset by reference). */
void rt_value_copy(struct rt_value *dst, const struct rt_value *src);
/* Setters that release the old content first; strings are copied. */
void rt_value_set_int(struct rt_value *v, int64_t i);
void rt_value_set_str(struct rt_value *v, const char *s, size_t len);
/* The value as text for messages and string conversion; binary becomes
 * hex, an object "System.Object".  The caller frees. */
char *rt_value_text(const struct rt_value *v);
/* Converts `in` to VARIANT type `vt` into `out` (released first).  NULL
 * converts only to Object and Empty, as in SSIS, where assigning DBNull to
 * a typed variable fails.  Impossible conversions are WERR_INVALID naming
 * both types. */
int rt_value_convert(const struct rt_value *in, int vt, struct rt_value *out,
                     struct werr *err);
/* Parses the text `s` as type `vt` (design values, parameter values). */
int rt_value_parse(const char *s, int vt, struct rt_value *out,
                   struct werr *err);

/* A new empty result set with `ncols` columns (names copied later with
 * rt_rowset_set_column); refs is 1. */
struct rt_rowset *rt_rowset_new(size_t ncols);
void rt_rowset_set_column(struct rt_rowset *rs, size_t col, const char *name,
                          int vt);
/* Appends a row of ncols empty cells and returns it. */
struct rt_value *rt_rowset_add_row(struct rt_rowset *rs);
struct rt_rowset *rt_rowset_ref(struct rt_rowset *rs);
/* Drops a reference; NULL is a no-op. */
void rt_rowset_unref(struct rt_rowset *rs);

struct rt_params;
struct rt_xref;
struct rt_xcache;
struct expr;
struct expr_host;

struct rt_var {
    const struct pkg_executable *owner;
    const struct pkg_variable *def;
    struct rt_value v;
    /* The design value did not parse as the declared type: reads fail
     * with this message (from the package, so no secret). */
    char *bad;
    struct expr *expr; /* EvaluateAsExpression: compiled on first read */
    bool evaluating;   /* its expression is being evaluated (cycles) */
};

/*
 * System variables (sysvars.c).  Most are computed from the package and
 * the run when read (System::PackageName, StartTime...); the handler ones
 * (ErrorCode, SourceName, Propagate...) come from the innermost running
 * invocation of the event handler the asking executable is in: one
 * `struct rt_hframe`, pushed by handlers.c while the handler runs.
 */
struct rt_hframe {
    struct rt_hframe *next;               /* started before this one */
    const struct pkg_executable *handler; /* the handler's container */
    const char *event;                    /* "OnError"... */
    const struct pkg_executable *source;  /* what raised the event */
    int code;                             /* System::ErrorCode */
    const char *description;              /* ErrorDescription; "" if none */
    const struct rt_var *var;             /* OnVariableValueChanged */
    bool propagate;                       /* System::Propagate */
    bool cancel;                          /* System::Cancel */
    int percent;                          /* ProgressComplete */
};

struct rt_sys {
    int64_t start_ms;            /* System::StartTime, epoch ms */
    char guid[40];               /* ExecutionInstanceGUID, "{...}" */
    int64_t server_execution_id; /* ServerExecutionID; 0 outside a server */
    int64_t *started_ms;         /* by executable index: ContainerStartTime */
    size_t nstarted;
    struct rt_hframe *frames; /* running handlers, the latest first */
    /* Called after a variable with RaiseChangedEvent took a new value,
     * set from `setter` (handlers.c raises OnVariableValueChanged);
     * NULL: nothing. */
    void (*changed)(void *ctx, const struct rt_var *v,
                    const struct pkg_executable *setter);
    void *changed_ctx;
};

struct rt_vars {
    struct rt_sys sys;
    struct rt_var *v;
    size_t n;
    const struct pkg *pkg;
    const struct rt_params *params; /* may be NULL */
    /* References resolved by compiled expressions (vexpr.c), freed with
     * the store; and the scope the expression being compiled sees. */
    struct rt_xref *xrefs;
    const struct pkg_executable *compiling;
    /* Expressions of the package compiled once per run (rt_vars_expr). */
    struct rt_xcache *cache;
    size_t ncache, cache_cap;
};

/* Collects every variable of the package's executables (event handlers
 * included) with its design value. */
void rt_vars_init(struct rt_vars *vs, const struct pkg *p,
                  const struct rt_params *params);
void rt_vars_release(struct rt_vars *vs);
/* The variable `name` seen from `scope`, or NULL.  Parameters are not
 * variables: this finds only DTS:Variable ones. */
struct rt_var *rt_vars_find(struct rt_vars *vs,
                            const struct pkg_executable *scope,
                            const char *name);
/* True if `name` is a variable or a parameter seen from `scope`. */
bool rt_vars_exists(struct rt_vars *vs, const struct pkg_executable *scope,
                    const char *name);
/* Reads a variable or parameter into `out` (a copy the caller releases).
 * Unknown names are WERR_NOTFOUND naming the variable and the scope. */
int rt_vars_get(struct rt_vars *vs, const struct pkg_executable *scope,
                const char *name, struct rt_value *out, struct werr *err);
/* True if `name` is a sensitive parameter: messages about its value must
 * not quote it. */
bool rt_vars_is_sensitive(struct rt_vars *vs, const char *name);
/* Converts `v` to the variable's type and stores it.  Parameters and
 * read-only variables refuse (WERR_CONFLICT); a value that does not
 * convert is WERR_INVALID naming the variable and both types. */
int rt_vars_set(struct rt_vars *vs, const struct pkg_executable *scope,
                const char *name, const struct rt_value *v, struct werr *err);

/* The system variable "System::NAME" seen from `scope` (`name` without
 * the namespace): its VARIANT type and whether it can be written (only
 * Propagate can); -1 if there is none there.  Handler variables exist
 * only inside a handler of an event that has them (ErrorCode in OnError,
 * OnWarning and OnInformation handlers...). */
int rt_sys_type(struct rt_vars *vs, const struct pkg_executable *scope,
                const char *name, int *vt, bool *writable);
/* Reads it into `out` (released first); WERR_NOTFOUND if there is none. */
int rt_sys_get(struct rt_vars *vs, const struct pkg_executable *scope,
               const char *name, struct rt_value *out, struct werr *err);
/* Writes System::Propagate; anything else is WERR_CONFLICT. */
int rt_sys_set(struct rt_vars *vs, const struct pkg_executable *scope,
               const char *name, const struct rt_value *v, struct werr *err);
/* Records that `e` started at `ms` (ContainerStartTime; the package's
 * start is StartTime too). */
void rt_sys_started(struct rt_vars *vs, const struct pkg_executable *e,
                    int64_t ms);
/* Internal to vars.c: set up and free the store's system part. */
void rt_sys_init(struct rt_sys *s, const struct pkg *p);
void rt_sys_release(struct rt_sys *s);
/* The event handler container `e` is in (itself included), or NULL; and
 * the event a handler container runs for. */
const struct pkg_executable *rt_handler_of(const struct pkg_executable *e);
const char *rt_handler_event(const struct pkg_executable *h);

/*
 * Expressions over the store (vexpr.c).  rt_expr_compile compiles `text`
 * as seen from `scope`: variables and parameters resolve through the
 * store with their VARIANT types mapped to DT_ types (strings DT_WSTR
 * without a limit, dates DT_DATE, currency DT_CY, decimal DT_NUMERIC(38,
 * 10)); Object and Empty variables cannot be referenced.  `flags` are
 * enum expr_flags.  Errors are WERR_INVALID "LINE:COL: message"; the
 * caller adds what the expression belongs to.  The result is freed with
 * expr_free, before rt_vars_release.
 */
struct expr *rt_expr_compile(struct rt_vars *vs,
                             const struct pkg_executable *scope,
                             const char *text, unsigned flags,
                             struct werr *err);
/* The expression compiled for `key` (a constraint, a property expression:
 * anything of the package that has one) in this run, compiled now from
 * `text` if it is the first time.  It belongs to the store. */
struct expr *rt_vars_expr(struct rt_vars *vs, const void *key,
                          const struct pkg_executable *scope,
                          const char *text, unsigned flags, struct werr *err);
/* Evaluates `e` into `out` (released first, a copy the caller owns); for
 * an assignment, stores the value into the assigned variable as well. */
int rt_expr_eval(struct rt_vars *vs, const struct pkg_executable *scope,
                 struct expr *e, struct rt_value *out, struct werr *err);
/* Internal to vars.c and vexpr.c: reads an expression variable (its
 * expression evaluated now) and frees the store's compiled expressions. */
int rt_vars_eval_var(struct rt_vars *vs, struct rt_var *v,
                     struct rt_value *out, struct werr *err);
void rt_vars_free_exprs(struct rt_vars *vs);
/* The expr host over the store (its ctx is the store; references resolve
 * as seen from vs->compiling): for hosts that wrap it, the data flow's. */
const struct expr_host *rt_vars_expr_host(void);

#endif
