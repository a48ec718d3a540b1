/*
 * The SQLite fast path of the loader (db.h): when the connection string
 * names SQLite3's ODBC driver, its Database= file is opened with
 * libsqlite3 itself, one INSERT is prepared and reused for every row, and
 * rows go in transactions of commit_rows rows (BEGIN IMMEDIATE takes
 * the write lock up front, which is also what a table lock would give).
 * Values are bound in their own types: integers, reals, text, blobs;
 * dates, decimals and GUIDs as the ISO text SQLite's date functions and
 * the ODBC driver read back.
 *
 * Waiting for another process's lock is our own busy handler, not
 * sqlite3_busy_timeout's: it gives up when the run stops (df_stopping),
 * as well as after BUSY_TIMEOUT_MS.  A statement that runs long without
 * waiting is stopped by the engine's watcher with sqlite3_interrupt
 * (df_blocking_begin, df_int.h).
 *
 * Two destinations of one data flow on the same database file (a split's
 * outputs into two tables) would deadlock on SQLite's one write lock:
 * the first holds it until its commit, which may be the end of its
 * input, while the second waits, and so may the flow feeding both.  So a
 * loader that finds another loader of this process open on its file
 * stages its rows: each transaction's rows go into a private temporary
 * database (ATTACHed as weir_stage, which takes no lock on the file),
 * and at the commit they move into the table in one short write
 * transaction (BEGIN IMMEDIATE; INSERT ... SELECT per run of columns, in
 * order; COMMIT).  What is committed when is what it would be without
 * staging: each loader's own transactions of commit_rows rows, whole or
 * not at all; only the database's refusal of a row comes at the commit
 * instead of at the row.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sqlite3.h>

#include "base/wtime.h"
#include "base/xalloc.h"
#include "dataflow/db.h"
#include "base/banned.h"

#define BUSY_TIMEOUT_MS 30000
#define BUSY_SLEEP_MS 10

/* A run of staged rows that write the same columns: its move into the
 * table ("INSERT INTO t (...) SELECT ... WHERE run = N"), or with no
 * column, the INSERT of a row of defaults made once per staged row. */
struct stage_run {
    char *move;
    bool defaults;
};

struct sqlite_loader {
    sqlite3 *db;
    sqlite3_stmt *st;
    char *path, *key; /* the file, and its registry key */
    bool in_tx;
    int64_t busy_since; /* monotonic ns of the current wait */
    size_t ncols, all;  /* columns written now, of the target */
    struct wbuf text;
    /* Staging (shared file): decided at the first write. */
    bool decided, staged;
    sqlite3_stmt *stage; /* INSERT INTO weir_stage.rows */
    char *next_move;     /* the current columns' move, with %zu run */
    bool next_defaults, new_run;
    struct stage_run *runs;
    size_t nruns;
};

/* Open loaders per database file in this process. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char *key;
    int n;
} *registry;
static size_t nregistry;

/* Counts one more (`d` 1) or one less (-1) loader on `key`; returns how
 * many are open now. */
static int
registry_add(const char *key, int d)
{
    int n = 0;
    size_t i;

    pthread_mutex_lock(&registry_lock);
    for (i = 0; i < nregistry && strcmp(registry[i].key, key); i++)
        ;
    if (i == nregistry && d > 0) {
        registry = xrealloc(registry, (nregistry + 1) * sizeof(*registry));
        registry[nregistry].key = xstrdup(key);
        registry[nregistry++].n = 0;
    }
    if (i < nregistry) {
        n = registry[i].n += d;
        if (n == 0) {
            free(registry[i].key);
            registry[i] = registry[--nregistry];
            if (nregistry == 0) {
                free(registry);
                registry = NULL;
            }
        }
    }
    pthread_mutex_unlock(&registry_lock);
    return n;
}

static void
runs_clear(struct sqlite_loader *s)
{
    for (size_t i = 0; i < s->nruns; i++)
        free(s->runs[i].move);
    free(s->runs);
    s->runs = NULL;
    s->nruns = 0;
    s->new_run = true;
}

static int
sq_fail(struct sqlite_loader *s, struct werr *err, const char *what)
{
    return werr_set(err, WERR_IO, "%s: %s", what,
                    s->db ? sqlite3_errmsg(s->db) : "out of memory");
}

static void
sq_free(void *impl)
{
    struct sqlite_loader *s = impl;

    sqlite3_finalize(s->st);
    sqlite3_finalize(s->stage);
    if (s->db && s->in_tx)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(s->db);
    if (s->key)
        registry_add(s->key, -1);
    runs_clear(s);
    free(s->next_move);
    free(s->key);
    free(s->path);
    wbuf_release(&s->text);
    free(s);
}

/* SQLite's busy handler: 1 to wait and try again, 0 to give up
 * (SQLITE_BUSY).  `n` is 0 at the first retry of each wait; `arg` is
 * where the wait's start is kept. */
static int
busy(void *arg, int n)
{
    int64_t *since = arg;
    struct timespec ts = {0, BUSY_SLEEP_MS * 1000000L};
    int64_t now = wtime_mono_ns();

    if (n == 0)
        *since = now;
    if (df_stopping() || now - *since >= BUSY_TIMEOUT_MS * WTIME_MS_NS)
        return 0;
    nanosleep(&ts, NULL);
    return 1;
}

static void
interrupt(void *db)
{
    sqlite3_interrupt(db);
}

/* sqlite3_exec of `sql` (no result rows), interruptible. */
static int
exec_sql(struct sqlite_loader *s, const char *sql)
{
    struct df_blocking b;
    int rc;

    df_blocking_begin(&b, interrupt, s->db);
    rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    df_blocking_end(&b);
    return rc;
}

static int
step(struct sqlite_loader *s, sqlite3_stmt *st)
{
    struct df_blocking b;
    int rc;

    df_blocking_begin(&b, interrupt, s->db);
    rc = sqlite3_step(st);
    df_blocking_end(&b);
    return rc;
}

/* The move of staged rows writing the columns with use[i] (all without
 * `use`) into `table`, but for its run number, which goes last. */
static void
set_move(struct sqlite_loader *s, const struct df_db_target *t,
         const char *table, const bool *use)
{
    char *insert = df_db_insert_sql(t, DF_DB_SQLITE, table, use);
    char *values = strstr(insert, ") VALUES (");
    struct wbuf b;
    size_t k = 0;

    free(s->next_move);
    s->next_defaults = values == NULL;
    s->new_run = true;
    if (!values) {
        s->next_move = insert;
        return;
    }
    wbuf_init(&b, WBUF_NOLIMIT);
    wbuf_add(&b, insert, (size_t)(values - insert), NULL);
    wbuf_adds(&b, ") SELECT ", NULL);
    for (size_t i = 0; i < t->ncols; i++) {
        if (use && !use[i])
            continue;
        wbuf_addf(&b, NULL, "%sc%zu", k ? ", " : "", k);
        k++;
    }
    wbuf_adds(&b, " FROM weir_stage.rows WHERE run = ", NULL);
    s->next_move = wbuf_detach(&b, NULL);
    free(insert);
}

static void *
sq_open(const struct df_db_target *t, enum df_db_kind kind, const char *table,
        struct werr *err)
{
    struct sqlite_loader *s = xcalloc(1, sizeof(*s));
    char *sql = NULL;

    wbuf_init(&s->text, WBUF_NOLIMIT);
    s->ncols = s->all = t->ncols;
    s->new_run = true;
    s->path = df_db_key(t->odbc, "Database");
    if (!s->path || !*s->path) {
        werr_set(err, WERR_INVALID,
                 "the SQLite connection string has no Database=");
        goto fail;
    }
    char real[PATH_MAX];
    s->key = xstrdup(realpath(s->path, real) ? real : s->path);
    registry_add(s->key, 1);
    set_move(s, t, table, NULL);
    if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE, NULL) !=
        SQLITE_OK) {
        sq_fail(s, err, "cannot open the SQLite database");
        goto fail;
    }
    sqlite3_busy_handler(s->db, busy, &s->busy_since);
    sql = df_db_insert_sql(t, kind, table, NULL);
    if (sqlite3_prepare_v2(s->db, sql, -1, &s->st, NULL) != SQLITE_OK) {
        sq_fail(s, err, "cannot prepare the INSERT");
        goto fail;
    }
    free(sql);
    return s;
fail:
    free(sql);
    sq_free(s);
    return NULL;
}

static int
bind_one(struct sqlite_loader *s, sqlite3_stmt *st, int i,
         const struct df_vec *v, size_t row)
{
    const void *d = v->data;

    if (v->nulls[row])
        return sqlite3_bind_null(st, i);
    switch (v->type.dt) {
    case EXPR_DT_BOOL:
    case EXPR_DT_UI1: return sqlite3_bind_int(st, i, ((uint8_t *)d)[row]);
    case EXPR_DT_I1: return sqlite3_bind_int(st, i, ((int8_t *)d)[row]);
    case EXPR_DT_I2: return sqlite3_bind_int(st, i, ((int16_t *)d)[row]);
    case EXPR_DT_UI2: return sqlite3_bind_int(st, i, ((uint16_t *)d)[row]);
    case EXPR_DT_I4: return sqlite3_bind_int(st, i, ((int32_t *)d)[row]);
    case EXPR_DT_UI4:
        return sqlite3_bind_int64(st, i, ((uint32_t *)d)[row]);
    case EXPR_DT_I8: return sqlite3_bind_int64(st, i, ((int64_t *)d)[row]);
    case EXPR_DT_R4: return sqlite3_bind_double(st, i, ((float *)d)[row]);
    case EXPR_DT_R8: return sqlite3_bind_double(st, i, ((double *)d)[row]);
    case EXPR_DT_STR:
    case EXPR_DT_WSTR:
    case EXPR_DT_TEXT:
    case EXPR_DT_NTEXT: {
        const struct expr_sv *sv = &((const struct expr_sv *)d)[row];
        return sqlite3_bind_text(st, i, sv->p ? sv->p : "", (int)sv->len,
                                 SQLITE_STATIC);
    }
    case EXPR_DT_BYTES:
    case EXPR_DT_IMAGE: {
        const struct expr_sv *sv = &((const struct expr_sv *)d)[row];
        return sqlite3_bind_blob(st, i, sv->p ? sv->p : "", (int)sv->len,
                                 SQLITE_STATIC);
    }
    default:
        /* UI8 past INT64_MAX, decimals, dates, GUIDs: their text, copied
         * because s->text is reused for the next column. */
        wbuf_reset(&s->text);
        df_db_value_text(v, row, false, &s->text);
        return sqlite3_bind_text(st, i, s->text.buf, (int)s->text.len,
                                 SQLITE_TRANSIENT);
    }
}

/* The first staged write: the private database and its table. */
static int
stage_open(struct sqlite_loader *s, struct werr *err)
{
    struct wbuf b;
    int rc;

    wbuf_init(&b, WBUF_NOLIMIT);
    wbuf_adds(&b, "ATTACH DATABASE '' AS weir_stage; "
                  "CREATE TABLE weir_stage.rows (run INTEGER", NULL);
    for (size_t i = 0; i < s->all; i++)
        wbuf_addf(&b, NULL, ", c%zu", i);
    wbuf_adds(&b, ")", NULL);
    rc = exec_sql(s, b.buf);
    wbuf_reset(&b);
    wbuf_adds(&b, "INSERT INTO weir_stage.rows VALUES (?", NULL);
    for (size_t i = 0; i < s->all; i++)
        wbuf_adds(&b, ", ?", NULL);
    wbuf_adds(&b, ")", NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(s->db, b.buf, -1, &s->stage, NULL);
    wbuf_release(&b);
    return rc == SQLITE_OK ? 0 : sq_fail(s, err, "cannot stage rows");
}

/* Rows into the staging table, in a transaction of that database only. */
static int
stage_write(struct sqlite_loader *s, const struct df_buffer *b,
            const int *slots, const uint32_t *rows, size_t n,
            struct werr *err)
{
    if (!s->in_tx) {
        if (exec_sql(s, "BEGIN") != SQLITE_OK)
            return sq_fail(s, err, "cannot begin a transaction");
        s->in_tx = true;
    }
    if (s->new_run) {
        s->runs = xrealloc(s->runs, (s->nruns + 1) * sizeof(*s->runs));
        s->runs[s->nruns].defaults = s->next_defaults;
        s->runs[s->nruns].move =
            s->next_defaults ? xstrdup(s->next_move)
                             : xasprintf("%s%zu ORDER BY rowid", s->next_move,
                                         s->nruns);
        s->nruns++;
        s->new_run = false;
    }
    for (size_t r = 0; r < n; r++) {
        sqlite3_clear_bindings(s->stage);
        sqlite3_bind_int64(s->stage, 1, (sqlite3_int64)(s->nruns - 1));
        for (size_t i = 0; i < s->ncols; i++)
            if (bind_one(s, s->stage, (int)i + 2, &b->cols[slots[i]],
                         rows[r]) != SQLITE_OK)
                return sq_fail(s, err, "cannot bind a value");
        int rc = step(s, s->stage);
        sqlite3_reset(s->stage);
        if (rc != SQLITE_DONE)
            return sq_fail(s, err, "cannot stage a row");
    }
    return 0;
}

static int
sq_write(void *impl, const struct df_buffer *b, const int *slots,
         const uint32_t *rows, size_t n, struct werr *err)
{
    struct sqlite_loader *s = impl;

    if (!s->decided) {
        s->decided = true;
        s->staged = registry_add(s->key, 0) > 1;
        if (s->staged && stage_open(s, err) < 0)
            return -1;
    }
    if (s->staged)
        return stage_write(s, b, slots, rows, n, err);
    if (!s->in_tx) {
        if (exec_sql(s, "BEGIN IMMEDIATE") != SQLITE_OK)
            return sq_fail(s, err, "cannot begin a transaction");
        s->in_tx = true;
    }
    for (size_t r = 0; r < n; r++) {
        for (size_t i = 0; i < s->ncols; i++)
            if (bind_one(s, s->st, (int)i + 1, &b->cols[slots[i]],
                         rows[r]) != SQLITE_OK)
                return sq_fail(s, err, "cannot bind a value");
        int rc = step(s, s->st);
        sqlite3_reset(s->st);
        if (rc != SQLITE_DONE)
            return sq_fail(s, err, "INSERT failed");
    }
    return 0;
}

/* The rows of run `i` that write no column: one row of defaults each. */
static int
move_defaults(struct sqlite_loader *s, size_t i)
{
    char *sql = xasprintf("SELECT count(*) FROM weir_stage.rows "
                          "WHERE run = %zu", i);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    int64_t n = 0;

    free(sql);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    for (int64_t k = 0; rc == SQLITE_OK && k < n; k++)
        rc = exec_sql(s, s->runs[i].move);
    return rc;
}

/* Ends the staging transaction, then moves its rows into the table in
 * one write transaction, run by run, and empties the staging table. */
static int
stage_commit(struct sqlite_loader *s, struct werr *err)
{
    int rc = exec_sql(s, "COMMIT");

    s->in_tx = false;
    if (rc == SQLITE_OK)
        rc = exec_sql(s, "BEGIN IMMEDIATE");
    for (size_t i = 0; rc == SQLITE_OK && i < s->nruns; i++)
        rc = s->runs[i].defaults ? move_defaults(s, i)
                                 : exec_sql(s, s->runs[i].move);
    if (rc == SQLITE_OK)
        rc = exec_sql(s, "DELETE FROM weir_stage.rows");
    if (rc == SQLITE_OK)
        rc = exec_sql(s, "COMMIT");
    if (rc != SQLITE_OK) {
        sq_fail(s, err, "INSERT failed");
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_exec(s->db, "DELETE FROM weir_stage.rows", NULL, NULL, NULL);
    }
    runs_clear(s);
    return rc == SQLITE_OK ? 0 : -1;
}

static int
sq_commit(void *impl, struct werr *err)
{
    struct sqlite_loader *s = impl;

    if (!s->in_tx)
        return 0;
    if (s->staged)
        return stage_commit(s, err);
    if (exec_sql(s, "COMMIT") != SQLITE_OK)
        return sq_fail(s, err, "cannot commit");
    s->in_tx = false;
    return 0;
}

static void
sq_rollback(void *impl)
{
    struct sqlite_loader *s = impl;

    if (s->in_tx)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_tx = false;
    if (s->staged)
        runs_clear(s);
}

char *
df_db_sqlite_info_sql(const char *table)
{
    const char *dot = strstr(table, "\".\"");

    if (!dot)
        return xasprintf("PRAGMA table_info(%s)", table);
    return xasprintf("PRAGMA %.*s.table_info(%s)", (int)(dot - table + 1),
                     table, dot + 2);
}

void
df_db_sqlite_info_row(struct df_sqlite_info *k, const char *name,
                      const char *type, bool dflt, int pk)
{
    const struct df_db_target *t = k->t;

    for (size_t i = 0; name && i < t->ncols; i++) {
        if (strcasecmp(name, t->names[i]))
            continue;
        k->has_default[i] = dflt;
        if (pk && type && !strcasecmp(type, "INTEGER"))
            k->rowid = (int)i;
    }
    k->pks += pk > 0;
}

void
df_db_sqlite_info_end(struct df_sqlite_info *k)
{
    if (k->pks == 1 && k->rowid >= 0)
        k->identity[k->rowid] = true;
}

/* Defaults and the identity from PRAGMA table_info (the rules of
 * df_db_sqlite_info_row). */
static int
sq_describe(void *impl, const struct df_db_target *t, const char *table,
            bool *has_default, bool *identity, struct werr *err)
{
    struct sqlite_loader *s = impl;
    char *sql = df_db_sqlite_info_sql(table);
    struct df_sqlite_info k = {t, has_default, identity, 0, -1};
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        free(sql);
        return sq_fail(s, err, "cannot describe the table");
    }
    free(sql);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        df_db_sqlite_info_row(&k, (const char *)sqlite3_column_text(st, 1),
                              (const char *)sqlite3_column_text(st, 2),
                              sqlite3_column_type(st, 4) != SQLITE_NULL,
                              sqlite3_column_int(st, 5));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return sq_fail(s, err, "cannot describe the table");
    df_db_sqlite_info_end(&k);
    return 0;
}

static int
sq_columns(void *impl, const struct df_db_target *t, const char *table,
           const bool *use, struct werr *err)
{
    struct sqlite_loader *s = impl;
    char *sql = df_db_insert_sql(t, DF_DB_SQLITE, table, use);
    int rc;

    sqlite3_finalize(s->st);
    s->st = NULL;
    s->ncols = 0;
    for (size_t i = 0; i < t->ncols; i++)
        s->ncols += use[i];
    set_move(s, t, table, use);
    rc = sqlite3_prepare_v2(s->db, sql, -1, &s->st, NULL);
    free(sql);
    return rc == SQLITE_OK ? 0 : sq_fail(s, err, "cannot prepare the INSERT");
}

const struct df_db_backend df_db_sqlite_backend = {
    .name = "SQLite",
    .open = sq_open,
    .write = sq_write,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .free = sq_free,
    .describe = sq_describe,
    .columns = sq_columns,
};

/* SQLite's ODBC driver reads the schema while it connects, waiting up to
 * its Timeout (100 s by default) when another process holds an exclusive
 * lock, and nothing interrupts that wait: there is no statement yet to
 * SQLCancel.  So before connecting, wait here, where the run's stop is
 * seen, until the schema can be read. */
int
df_db_sqlite_wait(const char *odbc, struct werr *err)
{
    char *path = df_db_key(odbc, "Database");
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t since = 0;
    int rc = 0;

    if (!path || !*path ||
        sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        goto out; /* the driver will say why */
    sqlite3_busy_handler(db, busy, &since);
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1,
                           &st, NULL) == SQLITE_BUSY &&
        df_stopping())
        rc = werr_set(err, WERR_UNAVAILABLE,
                      "stopped while the SQLite database '%s' was locked",
                      path);
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(path);
    return rc;
}
