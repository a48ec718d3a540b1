/*
 * Database access for the data flow's database components (OLE DB,
 * ADO.NET and ODBC sources and destinations, Lookup, OLE DB Command).
 *
 * Every database is reached through an ODBC connection string, the one
 * the host resolves for the component's connection manager.  Reading is
 * columnar: a cursor binds one array per column (SQL_ATTR_ROW_ARRAY_SIZE)
 * and fills a whole df_buffer per fetch.  Writing goes through a loader,
 * which picks a fast path from the driver the string names: PostgreSQL's
 * COPY through libpq, SQLite's own library with one prepared INSERT in
 * large transactions, and ODBC parameter arrays (SQL_ATTR_PARAMSET_SIZE)
 * for every other driver.
 *
 * Values travel in the types of the component's columns: the driver
 * converts between them and the database's types.  Connection strings
 * carry passwords: no message here contains one.
 */
#ifndef WEIR_DATAFLOW_DB_H
#define WEIR_DATAFLOW_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/wbuf.h"
#include "base/werr.h"
#include "dataflow/df_int.h"
#include "expr/expr.h"

/* ---- connection strings and names (db_name.c) ---- */

/* The database family a connection string's driver belongs to. */
enum df_db_kind {
    DF_DB_OTHER = 0,
    DF_DB_SQLITE,    /* Driver=SQLite3 (libsqliteodbc) */
    DF_DB_POSTGRES,  /* Driver=PostgreSQL Unicode / ANSI (psqlODBC) */
    DF_DB_SQLSERVER, /* Microsoft's ODBC Driver NN for SQL Server */
};

enum df_db_kind df_db_kind_of(const char *odbc);

/* The value of `key` (case-insensitive) in an ODBC connection string,
 * braces removed; NULL if absent.  The caller frees. */
char *df_db_key(const char *odbc, const char *key);

/* A table name as the package writes it ("[stg].[FileValues]",
 * "dbo.Orders", "\"x\"") in the quoting of `kind` (df_db_quote for
 * each part): stg.FileValues for PostgreSQL, "stg"."FileValues" for
 * SQLite, [stg].[FileValues] for SQL Server.  SQLite has no schemas: a
 * "dbo" or "main" schema is dropped, any other is kept (an attached
 * database).  The caller frees. */
char *df_db_table_name(enum df_db_kind kind, const char *written);

/* One identifier quoted for `kind` (caller frees): [x] for SQL Server,
 * "x" for the others, but PostgreSQL gets plain names (letters, digits,
 * underscores) unquoted, so it folds them to lower case as it does the
 * names of T-SQL DDL run against it. */
char *df_db_quote(enum df_db_kind kind, const char *ident);

/* ---- ODBC (db_odbc.c) ---- */

struct df_odbc;

/* Connects; -1-style NULL with the driver's diagnostics in `err`. */
struct df_odbc *df_odbc_connect(const char *odbc, struct werr *err);
void df_odbc_close(struct df_odbc *c);

/* Sets `err` to "MESSAGE: [STATE] text; ..." from the diagnostics of the
 * handle (SQL_HANDLE_STMT, _DBC...); returns -1. */
int df_odbc_diag(short handle_type, void *handle, struct werr *err,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The data flow type for an ODBC SQL type (SQLDescribeCol), with the
 * column's size and digits; DT_WSTR of `size` when nothing closer fits. */
struct expr_type df_odbc_type(short sqltype, size_t size, short digits,
                              bool is_unsigned);

/* A result column as the driver describes it. */
struct df_odbc_col {
    char name[128];
    short sqltype;
    size_t size;
    short digits;
    struct expr_type type; /* df_odbc_type() of the above */
    bool auto_unique;      /* numbered by the database (identity) */
};

struct df_cursor;

/* Runs `sql` with `nparams` input parameters bound to its `?` markers in
 * order (NULL values allowed) and opens its first result set.  Statements
 * that return no result set give a cursor with no columns. */
struct df_cursor *df_cursor_open(struct df_odbc *c, const char *sql,
                                 const struct expr_value *params,
                                 size_t nparams, int timeout_s,
                                 struct werr *err);
void df_cursor_free(struct df_cursor *cur);
size_t df_cursor_ncols(const struct df_cursor *cur);
const struct df_odbc_col *df_cursor_col(const struct df_cursor *cur,
                                        size_t i);

/* Before the first fetch: result column `i` goes to slot `slot` of the
 * buffers fetched into, converted to `type` (the slot's type). */
void df_cursor_bind(struct df_cursor *cur, size_t i, int slot,
                    const struct expr_type *type);

/* A value of a result column that its bound type cannot hold: an
 * integer out of the range of a narrower integer type, a number that is
 * none (NaN, Infinity).  `row` is the row of the buffer fetched into,
 * `col` the result column; `text` the value as the database gave it. */
struct df_cursor_bad {
    size_t row, col;
    char text[48];
};

/* Before the first fetch: with `on`, a value that does not fit its type
 * becomes NULL and is listed (df_cursor_bad) instead of failing the
 * fetch, so the caller can apply the column's error disposition. */
void df_cursor_collect(struct df_cursor *cur, bool on);

/* The values the last df_cursor_fetch listed (collect mode), borrowed
 * until the next fetch; returns how many. */
size_t df_cursor_bad(const struct df_cursor *cur,
                     const struct df_cursor_bad **bad);

/* Appends up to df_buffer_room(b) rows to `b` (bound columns only; the
 * other slots of new rows are NULL).  Returns the rows added, 0 at the
 * end of the result set, -1 with `err`. */
long df_cursor_fetch(struct df_cursor *cur, struct df_buffer *b,
                     struct werr *err);

/* A prepared statement run once per row of a buffer: the values of
 * slots params[0..nparams) of rows rows[0..n) (rows NULL: all rows of
 * `b`) are bound to its markers as parameter arrays.  -1 with `err` when
 * the driver fails the statement for any row. */
struct df_odbc_stmt;
struct df_odbc_stmt *df_odbc_prepare(struct df_odbc *c, const char *sql,
                                     struct werr *err);
int df_odbc_exec_rows(struct df_odbc_stmt *s, const struct df_buffer *b,
                      const int *params, size_t nparams,
                      const uint32_t *rows, size_t n, struct werr *err);
void df_odbc_stmt_free(struct df_odbc_stmt *s);

/* The database behind the connection: the kind its connection string
 * names, else the one the driver reports (SQL_DBMS_NAME), so that a DSN
 * reaching SQLite or PostgreSQL is known too. */
enum df_db_kind df_odbc_dbms(struct df_odbc *c);

/* Runs `sql` (a catalog query, small results) and calls `fn` with each
 * row's first n <= DF_ODBC_ROW_MAX cells as text, NULL for NULL, cut at
 * 511 bytes; `fn` returns -1 (with the caller's error) to stop.  -1 with
 * `err` when the statement fails. */
#define DF_ODBC_ROW_MAX 16
int df_odbc_rows(struct df_odbc *c, const char *sql,
                 int (*fn)(void *arg, char **cells, size_t n), void *arg,
                 struct werr *err);

/* Transactions: autocommit off (manual) or on; commit or roll back. */
int df_odbc_autocommit(struct df_odbc *c, bool on, struct werr *err);
int df_odbc_end(struct df_odbc *c, bool commit, struct werr *err);

/* ---- integers from wider database columns (db_range.c) ---- */

/* How a result column must be fetched so that no value wraps into a
 * narrower integer (or DT_BOOL) output column. */
enum df_wide {
    DF_WIDE_NONE, /* every value fits: the driver converts directly */
    DF_WIDE_INT,  /* fetch as SQL_C_SBIGINT, then df_wide_store_int */
    DF_WIDE_TEXT, /* fetch as text, then df_wide_store_text */
};

/* The fetch for a result column of data flow type `db` (df_odbc_type of
 * the driver's description) into an output column of type `out`;
 * SQLite's integer columns count as 64 bits whatever their declared
 * type. */
enum df_wide df_wide_plan(enum expr_dt db, enum df_db_kind kind,
                          enum expr_dt out);

/* Store a value into row `row` of an integer or DT_BOOL vector: -1 when
 * it is out of the type's range (or, for text, not a number).  A
 * fraction is dropped toward zero, as ODBC converts; DT_BOOL takes any
 * number, non-zero being true. */
int df_wide_store_int(struct df_vec *v, size_t row, int64_t x);
int df_wide_store_text(struct df_vec *v, size_t row, const char *p, size_t len);

/* ---- loaders: bulk inserts (db_load.c and its backends) ---- */

struct df_db_target {
    const char *odbc;    /* connection string */
    const char *table;   /* as written in the package */
    const char **names;  /* destination column names, ncols */
    const struct expr_type *types; /* the values' types, ncols */
    size_t ncols;
    int64_t commit_rows; /* rows per transaction; 0: one at the end */
    bool keep_nulls;     /* false: NULL becomes the column's default */
    bool keep_identity;
    bool table_lock;
    bool no_fast_path;   /* ODBC parameter arrays whatever the driver */
};

struct df_db_loader;

struct df_db_loader *df_db_loader_open(const struct df_db_target *t,
                                       struct werr *err);
/* Which path the loader took: "PostgreSQL COPY", "SQLite", "ODBC". */
const char *df_db_loader_path(const struct df_db_loader *l);
/* Inserts the rows rows[0..n) of `b` (rows NULL: all of them); column i
 * takes slot slots[i]. */
int df_db_loader_write(struct df_db_loader *l, const struct df_buffer *b,
                       const int *slots, const uint32_t *rows, size_t n,
                       struct werr *err);
/* Commits what remains; the loader can only be freed afterwards. */
int df_db_loader_finish(struct df_db_loader *l, struct werr *err);
/* Rolls back the rows written since the last commit; the loader can go
 * on writing. */
void df_db_loader_rollback(struct df_db_loader *l);
/* Rolls back what is not committed and closes. */
void df_db_loader_free(struct df_db_loader *l);

/* The backends behind a loader (db_load.c, db_sqlite.c, db_pg.c): each
 * opens its target or returns NULL with `err`; `commit` ends the
 * current transaction (a later write starts the next one). */
struct df_db_backend {
    const char *name;
    void *(*open)(const struct df_db_target *t, enum df_db_kind kind,
                  const char *table, struct werr *err);
    int (*write)(void *impl, const struct df_buffer *b, const int *slots,
                 const uint32_t *rows, size_t n, struct werr *err);
    int (*commit)(void *impl, struct werr *err);
    void (*rollback)(void *impl);
    void (*free)(void *impl); /* rolls back what is not committed */
    /* For FastLoadKeepNulls / KeepIdentity false: marks the target's
     * columns that have a default (an omitted column gets it) and those
     * the database numbers itself (identity, serial, SQLite's rowid
     * alias).  Marking a column with no default costs only speed. */
    int (*describe)(void *impl, const struct df_db_target *t,
                    const char *table, bool *has_default, bool *identity,
                    struct werr *err);
    /* From the next write on, inserts only the columns with use[i] (the
     * slots passed to write() are theirs, in order); none at all inserts
     * rows of defaults.  The transaction goes on. */
    int (*columns)(void *impl, const struct df_db_target *t,
                   const char *table, const bool *use, struct werr *err);
};
extern const struct df_db_backend df_db_odbc_backend;
extern const struct df_db_backend df_db_sqlite_backend;
extern const struct df_db_backend df_db_pg_backend;

/* Waits until the SQLite database of the connection string `odbc` can be
 * read, or the run stops (-1 with `err`); 0 also when the file cannot
 * be opened (connecting will say why).  Called before SQLite's ODBC
 * driver connects, which waits for a lock without a way to stop it. */
int df_db_sqlite_wait(const char *odbc, struct werr *err);

/* SQLite's defaults and identity, from the rows of PRAGMA table_info
 * (db_sqlite.c), for the fast path and for a SQLite database reached
 * through ODBC alike.  The identity is the INTEGER PRIMARY KEY, the
 * rowid's alias, which SQLite numbers when it is left out. */
struct df_sqlite_info {
    const struct df_db_target *t;
    bool *has_default, *identity; /* t->ncols each, filled */
    int pks, rowid;               /* start at 0, -1 */
};
/* "PRAGMA table_info(...)" for a table as quoted for SQLite ("t" or
 * "schema"."t") (caller frees). */
char *df_db_sqlite_info_sql(const char *table);
/* One row: column `name` of declared `type`, with a default or not, its
 * position `pk` in the primary key (0: none). */
void df_db_sqlite_info_row(struct df_sqlite_info *k, const char *name,
                           const char *type, bool dflt, int pk);
/* After the last row: marks the identity. */
void df_db_sqlite_info_end(struct df_sqlite_info *k);

/* PostgreSQL's defaults and identities (db_pg.c), for COPY and for a
 * PostgreSQL database reached through ODBC alike.  The catalog query
 * for `table` (as quoted for PostgreSQL), with the table as the
 * parameter $1 or, without `param`, as a literal; its rows are (name,
 * has a default, is serial or identity) (caller frees). */
char *df_db_pg_describe_sql(const char *table, bool param);
/* One row of that query: sets the flags of the target's column of that
 * name and, when the target keeps identities, appends to *advance the
 * df_db_pg_advance_sql of an identity column (the caller frees each). */
void df_db_pg_describe_row(const struct df_db_target *t, const char *table,
                           char **cells, bool *has_default, bool *identity,
                           char ***advance, size_t *nadvance);
/* Sets the sequence of serial or identity column `attname` (as the
 * catalog names it) of `table` past the column's greatest value, unless
 * it is already there, so that later rows numbered by the database do
 * not take kept ids (caller frees). */
char *df_db_pg_advance_sql(const char *table, const char *attname);

/* "INSERT INTO table (c1, ...) VALUES (?, ...)" with the column names
 * quoted for `kind` (caller frees); the columns with use[i] only when
 * `use` is given, "INSERT INTO table DEFAULT VALUES" when none is. */
char *df_db_insert_sql(const struct df_db_target *t, enum df_db_kind kind,
                       const char *table, const bool *use);

/* ---- what the database components share (comp_db.c) ---- */

/* The ODBC string of the component's connection (its first one: the
 * OLE DB, ADO.NET or ODBC connection), borrowed from the host. */
int df_db_conn(struct df_exec *x, struct df_component *c, const char **odbc,
               struct werr *err);

/* For validation against the database (df_host.validate_external,
 * unless the component says ValidateExternalMetadata false): the
 * component's connection, or NULL when validation does not connect or
 * the database cannot be reached (nothing is checked then; an
 * information event says why).  The caller closes it. */
struct df_odbc *df_db_validation_connect(struct df_exec *x,
                                         struct df_component *c,
                                         const char **odbc);

/* Checks that table `table` (as written) can be read and has the
 * columns names[0..n) (compared without case); appends a line to
 * `problems` for each failure and returns how many. */
int df_db_check_table(struct df_odbc *db, const char *odbc,
                      const struct df_component *c, const char *table,
                      const char *const *names, size_t n,
                      struct wbuf *problems);

/* A variable's value as text (caller frees); -1 with `err` naming it. */
char *df_db_var_text(struct df_exec *x, const char *name, struct werr *err);

/* The name of the external metadata column `col` maps to, else the
 * column's own name. */
const char *df_db_external_name(const struct df_column *col,
                                const struct df_column *externals,
                                size_t nexternals);

/* Parameter values for a ParameterMapping property
 * ("\"Parameter0:Input\",{DTSID};..." or "...,User::Name;"), read from
 * the variables now; strings are copied into `arena`.  *vals is
 * allocated in `arena` too. */
int df_db_params(struct df_exec *x, struct df_component *c,
                 const char *mapping, struct warena *arena,
                 struct expr_value **vals, size_t *n, struct werr *err);

/* ---- value text shared by the backends (db_name.c) ---- */

/* Appends value `row` of `v` as the text a database accepts: numbers as
 * C numbers, dates as ISO 8601 ("2024-03-15 10:00:00.1234567"), booleans
 * as 1/0 (`pgbool`: t/f), GUIDs without braces, strings as they are.
 * NULLs append nothing (the caller checks v->nulls). */
void df_db_value_text(const struct df_vec *v, size_t row, bool pgbool,
                      struct wbuf *out);

/* Civil time from 100 ns ticks, and back. */
struct df_civil {
    int year, month, day, hour, minute, second;
    uint32_t frac; /* 100 ns units */
};
void df_ticks_to_civil(int64_t ticks, struct df_civil *c);
int64_t df_civil_to_ticks(const struct df_civil *c);

#endif
