/*
 * Inside the data flow engine: the pipeline model, the columnar buffers,
 * and the interface every component implements.
 *
 * The pipeline (pipeline.c) is parsed from the task's <pipeline> element
 * into an arena: components with their properties, connections, inputs
 * and outputs, and their columns; paths join one output to one input.
 *
 * Buffers are columnar: one typed vector per column with a NULL byte per
 * row, laid out as src/expr/expr.h's `struct expr_col` so expressions are
 * evaluated over a whole buffer without copying.  An *execution tree*
 * starts at a source's output or at an asynchronous output; all its
 * buffers share one layout: the tree's root columns plus every column the
 * synchronous components below it add (Derived Column, Data Conversion,
 * Lookup, the ErrorCode/ErrorColumn of their error outputs).  Each
 * column of the tree has a `slot` in that layout, set by the planner
 * (plan.c) before anything runs; components find their columns' data
 * through those slots, never by name at run time.
 *
 * Ownership of buffers: a buffer is reference counted.  A component that
 * receives a buffer in process() owns one reference: it passes it on
 * with df_send() (which consumes the reference) or drops it with
 * df_buffer_unref().  Synchronous components work in place and send the
 * same buffer on; components with several synchronous outputs that split
 * rows (Conditional Split, error redirection) build buffers of the same
 * layout holding the rows of each output (df_buffer_new_like +
 * df_buffer_copy_rows); Multicast sends one reference per output, and a
 * component that writes into a buffer it shares calls df_buffer_own()
 * first (copy on write).  Asynchronous components (Sort, Aggregate,
 * Union All, Merge Join) fill new buffers of their output's layout with
 * df_buffer_new().
 *
 * Threads: the engine runs execution trees on a pool of at most
 * EngineThreads threads with bounded queues between them (memory is
 * bounded by the buffers in flight).  It never calls one component's
 * process/end_of_input/produce from two threads at once, so a
 * component's state needs no lock; successive calls may come from
 * different threads, so nothing may be kept per thread.  Components must not call
 * the host directly: use df_event()/df_error() and the df_var_* helpers,
 * which take the needed lock.
 */
#ifndef WEIR_DATAFLOW_DF_INT_H
#define WEIR_DATAFLOW_DF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/warena.h"
#include "base/wbuf.h"
#include "base/werr.h"
#include "dataflow/dataflow.h"
#include "expr/expr.h"

/* ---- the pipeline model (pipeline.c) ---- */

/* errorRowDisposition / truncationRowDisposition. */
enum df_disposition {
    DF_DISP_NOT_USED = 0, /* also: absent */
    DF_DISP_FAIL,         /* FailComponent */
    DF_DISP_IGNORE,       /* IgnoreFailure: the value becomes NULL */
    DF_DISP_REDIRECT,     /* RedirectRow: the row goes to the error output */
};

/* specialFlags on error output columns. */
enum df_special {
    DF_SPECIAL_NONE = 0,
    DF_SPECIAL_ERROR_CODE = 1,
    DF_SPECIAL_ERROR_COLUMN = 2,
};

struct df_property {
    const char *name;
    const char *value; /* text as written ("" if empty) */
    bool expression;   /* expressionType="Notify": holds an expression */
};

struct df_component;
struct df_input;
struct df_output;

/*
 * A column: an output column, an input column, or an external metadata
 * column.  For an input column, `lineage` names the upstream output
 * column it reads and `type` is its cached type; `source` is that output
 * column once the planner resolved it.
 */
struct df_column {
    const char *ref_id; /* "" if absent */
    const char *name;
    const char *lineage;     /* lineageId; NULL on external columns */
    const char *external_id; /* externalMetadataColumnId, or NULL */
    struct expr_type type;
    int id;                   /* the numeric id SSIS reports in ErrorColumn */
    bool read_write;          /* input: usageType="readWrite" */
    int sort_key;             /* sortKeyPosition / NewSortKeyPosition */
    enum df_special special;  /* error output columns */
    enum df_disposition error_disp, trunc_disp;
    const struct df_property *props;
    size_t nprops;
    int line;
    /* Set by the planner: the column's slot in its tree's buffer layout
     * (-1 for external columns), and an input column's source. */
    int slot;
    const struct df_column *source;
};

struct df_input {
    const char *ref_id, *name;
    struct df_component *comp;
    int index; /* in comp->inputs */
    struct df_column *columns, *externals;
    size_t ncolumns, nexternals;
    const struct df_property *props;
    size_t nprops;
    enum df_disposition error_disp;
    bool has_side_effects;
    /* The path into this input (NULL if none: validation says so). */
    struct df_output *from;
    const char *path_name;
    int line;
};

struct df_output {
    const char *ref_id, *name;
    struct df_component *comp;
    int index; /* in comp->outputs */
    struct df_column *columns, *externals;
    size_t ncolumns, nexternals;
    const struct df_property *props;
    size_t nprops;
    bool is_error, is_sorted, dangling;
    int exclusion_group;
    /* errorRowDisposition: Lookup writes its no match disposition on
     * its match output. */
    enum df_disposition error_disp;
    /* synchronousInputId resolved; NULL for asynchronous outputs. */
    struct df_input *sync_input;
    /* The path out of this output, or NULL: rows are discarded. */
    struct df_input *to;
    const char *path_name;
    /* Set by the planner: the layout of the buffers on this output (the
     * tree it belongs to), and rows counted along its path. */
    struct df_layout *layout;
    int64_t rows;
    int line;
};

struct df_connection_ref {
    const char *name;   /* "FlatFileConnection", "OleDbConnection"... */
    const char *cm_ref; /* connectionManagerID (refId or DTSID) */
};

struct df_component {
    const char *ref_id; /* "Package\Load\Read orders" */
    const char *name;
    const char *class_id;         /* canonical: df_class_normalize() */
    const char *class_written;    /* componentClassID as written */
    const char *user_type;        /* UserComponentTypeName, or NULL */
    const struct df_property *props;
    size_t nprops;
    struct df_connection_ref *connections;
    size_t nconnections;
    struct df_input *inputs;
    struct df_output *outputs;
    size_t ninputs, noutputs;
    int line;
    const struct df_component_ops *ops; /* NULL: not runnable */
    void *state;                        /* the component's own, at run */
};

struct df_pipeline {
    struct warena arena; /* everything in the model lives here */
    const struct pkg_executable *task;
    struct df_component *components;
    size_t ncomponents;
    int64_t default_buffer_max_rows; /* DefaultBufferMaxRows, 10000 */
    int64_t default_buffer_size;     /* DefaultBufferSize, 10 MiB */
    int engine_threads;              /* EngineThreads, 10 */
};

/* Parses the <pipeline> of `task`.  Errors name the package file, line and
 * element; the model is checked for shape (paths resolve, one path per
 * input) but not planned. */
struct df_pipeline *df_pipeline_parse(const struct pkg_executable *task,
                                      struct werr *err);
void df_pipeline_free(struct df_pipeline *p);
/* Sets property `name` ("[Component].[Property]", or DefaultBufferMaxRows,
 * DefaultBufferSize, EngineThreads) to `value`, as a property expression
 * of the task does; -1 with `err` naming what is not there or does not
 * fit. */
int df_pipeline_override(struct df_pipeline *p, const char *name,
                         const char *value, struct werr *err);

/* "Microsoft.DerivedColumn" for any spelling (GUID, ProgID, short name);
 * the written string when unknown. */
const char *df_class_normalize(const char *written);

/* Property lookups (case-sensitive, as written); NULL/`dflt` if absent.
 * df_prop_int and df_prop_bool parse "123"/"true"/"True"/"-1". */
const char *df_prop(const struct df_property *v, size_t n, const char *name);
int64_t df_prop_int(const struct df_property *v, size_t n, const char *name,
                    int64_t dflt);
bool df_prop_bool(const struct df_property *v, size_t n, const char *name,
                  bool dflt);

/* ---- buffers (buffer.c) ---- */

/* The layout of the buffers of one execution tree: the types of its
 * slots and the rows a buffer holds (from DefaultBufferMaxRows and
 * DefaultBufferSize, as SSIS sizes them). */
struct df_layout {
    struct expr_type *types;
    size_t nslots;
    size_t max_rows;
    /* The engine's pool of free buffers of this layout (buffer.c); NULL
     * in a layout built by hand: its buffers are allocated and freed one
     * by one. */
    struct df_pool *pool;
};

/* One column of a buffer: `data` holds one element per row of the C type
 * expr.h documents for type.dt; `nulls` one byte per row (never NULL). */
struct df_vec {
    struct expr_type type;
    void *data;
    uint8_t *nulls;
};

struct df_buffer {
    const struct df_layout *layout;
    struct df_vec *cols; /* layout->nslots */
    size_t nrows;        /* rows in use, <= layout->max_rows */
    int refs;
    /* String and binary bytes of this buffer's values, shared with the
     * buffers copied from it (reference counted blocks). */
    struct df_bytes *bytes;
};

/* A new empty buffer of `layout` (refs 1).  Buffers come from a pool per
 * layout, so a steady pipeline allocates nothing per buffer. */
struct df_buffer *df_buffer_new(const struct df_layout *layout);
/* A new empty buffer with the layout of `b`. */
struct df_buffer *df_buffer_new_like(const struct df_buffer *b);
void df_buffer_ref(struct df_buffer *b);
/* Drops a reference; the last one returns the buffer to its pool. */
void df_buffer_unref(struct df_buffer *b);
/* Makes `*b` private to the caller before writing into it: when it is
 * shared, replaces *b by a copy (and drops the caller's reference to the
 * shared one). */
void df_buffer_own(struct df_buffer **b);
/* Appends rows rows[0..n) of `src` to `dst` (same layout), sharing the
 * string bytes; `dst` must have room (df_buffer_room). */
void df_buffer_copy_rows(struct df_buffer *dst, const struct df_buffer *src,
                         const uint32_t *rows, size_t n);
size_t df_buffer_room(const struct df_buffer *b);
/* `n` bytes that live as long as `b` and every buffer sharing them: where
 * components put the text of string values they produce. */
char *df_buffer_bytes(struct df_buffer *b, size_t n);
/* Stores a string value at row `row` of slot `slot`, copying `len` bytes
 * of `s` into the buffer's bytes. */
void df_buffer_set_str(struct df_buffer *b, int slot, size_t row,
                       const char *s, size_t len);
/* DT_WSTR lengths count UTF-16 code units; string bytes are UTF-8.
 * df_utf16_units is the units of `len` bytes at `p` (a four-byte sequence
 * counts two); df_utf16_cut the byte length of its first `max` units,
 * never splitting a character. */
size_t df_utf16_units(const char *p, size_t len);
size_t df_utf16_cut(const char *p, size_t len, size_t max);
/* Stores `v` (of the slot's type; strings and binaries copied into the
 * buffer's bytes) at row `row` of slot `slot`; a NULL value sets the
 * row's NULL byte.  The value is converted with expr.h's cast rules when
 * its type differs; -1 with `err` when it does not fit. */
int df_buffer_set_value(struct df_buffer *b, int slot, size_t row,
                        const struct expr_value *v, struct werr *err);
/* Sets row `row` of slot `slot` NULL with a zero element (an empty
 * string for strings): expression kernels compute every row and apply
 * the NULL bytes after, so a NULL row's element must be a valid value. */
void df_buffer_set_null(struct df_buffer *b, int slot, size_t row);
/* The expr.h view of slot `slot` (for expr_eval_batch); read a single
 * value with expr_col_value(). */
struct expr_col df_buffer_col(const struct df_buffer *b, int slot);
/* Size in bytes of one value of `dt` in a df_vec. */
size_t df_type_width(enum expr_dt dt);

/* ---- the run (engine.c) and what components call ---- */

struct df_exec; /* one run of a pipeline */

/* The host of the run, the pipeline, the task (for event paths). */
const struct df_host *df_exec_host(const struct df_exec *x);
const struct df_pipeline *df_exec_pipeline(const struct df_exec *x);

/* Sends `b` down output `out`'s path (consuming the caller's reference);
 * rows are counted for the path's data statistics.  An output without a
 * path drops the buffer.  Returns -1 with `err` when the run is failing
 * or canceled: the caller stops and returns -1. */
int df_send(struct df_exec *x, struct df_output *out, struct df_buffer *b,
            struct werr *err);

/* Events from component `c`.  df_error also marks the run failed. */
void df_event(struct df_exec *x, const struct df_component *c,
              enum df_event_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void df_error(struct df_exec *x, const struct df_component *c, int code,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Variables through the host, with the locking the host needs. */
int df_var_get(struct df_exec *x, const char *name, struct expr_value *out,
               struct werr *err);
int df_var_set(struct df_exec *x, const char *name,
               const struct expr_value *v, struct werr *err);
/* Stores rows into the Object variable `name` (Recordset destination). */
int df_var_set_rowset(struct df_exec *x, const char *name,
                      const struct df_rowset *rows, struct werr *err);
/* The connection named `name` of component `c` ("FlatFileConnection"),
 * resolved through the host; -1 with `err` naming both if absent. */
int df_connection(struct df_exec *x, const struct df_component *c,
                  const char *name, struct df_conn *out, struct werr *err);

/*
 * Blocked calls.  A call that may wait outside the engine's control (a
 * statement waiting for a lock, a busy database file, a server that does
 * not answer) cannot see the run fail or be canceled.  Around such a
 * call the database layer (db_odbc.c, db_pg.c, db_sqlite.c) registers a
 * `struct df_blocking` on its stack: while the run is failing or
 * canceled, the engine's watcher thread calls fn(arg) at once and then
 * every DF_BLOCKING_REPEAT_MS until the call is over (a call that started
 * just after an interrupt is stopped by the next one).  fn runs in the
 * watcher's thread while the call runs in the caller's: it must be one of
 * the calls made for that (SQLCancel, PQcancel, sqlite3_interrupt) and
 * must not call the engine.  df_blocking_end() returns only once no call
 * of fn is in progress, so what fn uses may be freed after it.  Outside
 * the threads of a run (the database layer's own tests) both do nothing.
 */
struct df_blocking {
    void (*fn)(void *arg);
    void *arg;
    /* The engine's. */
    struct df_exec *x;
    struct df_blocking *prev, *next;
    int64_t fired_ns; /* monotonic; 0: not interrupted yet */
};
void df_blocking_begin(struct df_blocking *b, void (*fn)(void *arg),
                       void *arg);
void df_blocking_end(struct df_blocking *b);
/* True when the calling thread runs for a run that is failing or
 * canceled: for waits that poll (SQLite's busy handler). */
bool df_stopping(void);

/*
 * Row errors (errors.c).  A component that finds rows it cannot process
 * (a conversion fails, a value is truncated, a lookup finds no match)
 * records them, then applies the column's disposition in one call:
 *   DF_DISP_FAIL      raises the error naming the component, the column
 *                     and the first failing row's value; returns -1;
 *   DF_DISP_IGNORE    the row goes on (the component has set the value
 *                     NULL);
 *   DF_DISP_REDIRECT  the row is removed from `*b` and copied to the
 *                     component's error output with ErrorCode and
 *                     ErrorColumn.
 * `errs` is indexed by row: 0 for a good row, else the SSIS error code
 * (DF_E_*), with `cols[row]` the failing column's id.
 */
#define DF_E_CONVERSION (-1071607676)  /* DTS_E_... data conversion */
#define DF_E_TRUNCATION (-1071607675)  /* value truncated */
#define DF_E_EXPRESSION (-1071607712)  /* expression evaluation failed */
#define DF_E_NO_MATCH (-1071607778)    /* lookup: row has no match */
#define DF_E_CONDITION (-1071607711)   /* split: condition failed */
int df_row_errors(struct df_exec *x, struct df_component *c,
                  struct df_buffer **b, const int32_t *errs,
                  const int32_t *cols, enum df_disposition disp,
                  struct werr *err);

/*
 * Expressions over a component's input (expr.c): compiles `text` (the
 * stored form with #{lineage} references, or the friendly form) with
 * column references resolved against `in`'s columns (by name, by
 * [Component].[Name] and by lineage) to their buffer slots, and
 * variables read through df_var_get() at evaluation.  EXPR_COLUMNS is
 * implied.  Evaluate `expr` with expr_eval_batch using df_expr_cols() as
 * the column array.  The wrapper keeps what variable reads need for as
 * long as the expression lives; free both with df_expr_free().  Errors
 * quote the text and give "LINE:COL: message".
 */
struct df_expr {
    struct expr *expr;
    struct df_exec *x;
    const struct df_input *in; /* whose columns references resolve to */
    char **vars; /* "NS::Name" of each variable read; handles point here */
    size_t nvars;
};
struct df_expr *df_expr_compile(struct df_exec *x, struct df_component *c,
                                struct df_input *in, const char *text,
                                unsigned flags, struct werr *err);
void df_expr_free(struct df_expr *e);
/* The buffer's columns as expression inputs (slot order). */
const struct expr_col *df_expr_cols(struct df_exec *x,
                                    const struct df_buffer *b);

/* ---- components ---- */

/*
 * A component type.  Any callback may be NULL when it does nothing.
 *   validate      checks properties and columns before the run (types,
 *                 required properties, expressions compile); appends
 *                 "component 'NAME': message" lines to `problems` and
 *                 returns how many.  Called on a planned pipeline.
 *   pre_execute   opens what it needs (files, statements), compiles
 *                 expressions, allocates c->state.
 *   produce       sources only: fills and df_send()s buffers until the
 *                 input ends (return 0) or fails (-1).
 *   process       a buffer arrived on input `in`.
 *   end_of_input  no more rows will arrive on `in` (asynchronous
 *                 components emit what they hold; destinations flush).
 *   post_execute  after all rows (also after a failure): close, set
 *                 variables (Row Count), report.  `failed` says whether
 *                 the run is failing.
 *   cleanup       frees c->state; always called once if pre_execute ran.
 */
struct df_component_ops {
    const char *class_id; /* canonical, e.g. "Microsoft.DerivedColumn" */
    int (*validate)(struct df_exec *x, struct df_component *c,
                    struct wbuf *problems);
    int (*pre_execute)(struct df_exec *x, struct df_component *c,
                       struct werr *err);
    int (*produce)(struct df_exec *x, struct df_component *c,
                   struct werr *err);
    int (*process)(struct df_exec *x, struct df_component *c,
                   struct df_input *in, struct df_buffer *b,
                   struct werr *err);
    int (*end_of_input)(struct df_exec *x, struct df_component *c,
                        struct df_input *in, struct werr *err);
    int (*post_execute)(struct df_exec *x, struct df_component *c,
                        bool failed, struct werr *err);
    void (*cleanup)(struct df_exec *x, struct df_component *c);
};

/* The implementation of a canonical class id, or NULL (components.c holds
 * the table). */
const struct df_component_ops *df_ops_for(const char *class_id);

#endif
