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
 */
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

struct sqlite_loader {
    sqlite3 *db;
    sqlite3_stmt *st;
    char *path;
    bool in_tx;
    int64_t busy_since; /* monotonic ns of the current wait */
    size_t ncols;
    struct wbuf text;
};

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
    if (s->db && s->in_tx)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(s->db);
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
step(struct sqlite_loader *s)
{
    struct df_blocking b;
    int rc;

    df_blocking_begin(&b, interrupt, s->db);
    rc = sqlite3_step(s->st);
    df_blocking_end(&b);
    return rc;
}

static void *
sq_open(const struct df_db_target *t, enum df_db_kind kind, const char *table,
        struct werr *err)
{
    struct sqlite_loader *s = xcalloc(1, sizeof(*s));
    char *sql = NULL;

    wbuf_init(&s->text, WBUF_NOLIMIT);
    s->ncols = t->ncols;
    s->path = df_db_key(t->odbc, "Database");
    if (!s->path || !*s->path) {
        werr_set(err, WERR_INVALID,
                 "the SQLite connection string has no Database=");
        goto fail;
    }
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
bind_one(struct sqlite_loader *s, int i, const struct df_vec *v, size_t row)
{
    const void *d = v->data;

    if (v->nulls[row])
        return sqlite3_bind_null(s->st, i);
    switch (v->type.dt) {
    case EXPR_DT_BOOL:
    case EXPR_DT_UI1: return sqlite3_bind_int(s->st, i, ((uint8_t *)d)[row]);
    case EXPR_DT_I1: return sqlite3_bind_int(s->st, i, ((int8_t *)d)[row]);
    case EXPR_DT_I2: return sqlite3_bind_int(s->st, i, ((int16_t *)d)[row]);
    case EXPR_DT_UI2: return sqlite3_bind_int(s->st, i, ((uint16_t *)d)[row]);
    case EXPR_DT_I4: return sqlite3_bind_int(s->st, i, ((int32_t *)d)[row]);
    case EXPR_DT_UI4:
        return sqlite3_bind_int64(s->st, i, ((uint32_t *)d)[row]);
    case EXPR_DT_I8: return sqlite3_bind_int64(s->st, i, ((int64_t *)d)[row]);
    case EXPR_DT_R4: return sqlite3_bind_double(s->st, i, ((float *)d)[row]);
    case EXPR_DT_R8: return sqlite3_bind_double(s->st, i, ((double *)d)[row]);
    case EXPR_DT_STR:
    case EXPR_DT_WSTR:
    case EXPR_DT_TEXT:
    case EXPR_DT_NTEXT: {
        const struct expr_sv *sv = &((const struct expr_sv *)d)[row];
        return sqlite3_bind_text(s->st, i, sv->p ? sv->p : "", (int)sv->len,
                                 SQLITE_STATIC);
    }
    case EXPR_DT_BYTES:
    case EXPR_DT_IMAGE: {
        const struct expr_sv *sv = &((const struct expr_sv *)d)[row];
        return sqlite3_bind_blob(s->st, i, sv->p ? sv->p : "", (int)sv->len,
                                 SQLITE_STATIC);
    }
    default:
        /* UI8 past INT64_MAX, decimals, dates, GUIDs: their text, copied
         * because s->text is reused for the next column. */
        wbuf_reset(&s->text);
        df_db_value_text(v, row, false, &s->text);
        return sqlite3_bind_text(s->st, i, s->text.buf, (int)s->text.len,
                                 SQLITE_TRANSIENT);
    }
}

static int
sq_write(void *impl, const struct df_buffer *b, const int *slots,
         const uint32_t *rows, size_t n, struct werr *err)
{
    struct sqlite_loader *s = impl;

    if (!s->in_tx) {
        if (exec_sql(s, "BEGIN IMMEDIATE") != SQLITE_OK)
            return sq_fail(s, err, "cannot begin a transaction");
        s->in_tx = true;
    }
    for (size_t r = 0; r < n; r++) {
        for (size_t i = 0; i < s->ncols; i++)
            if (bind_one(s, (int)i + 1, &b->cols[slots[i]], rows[r]) !=
                SQLITE_OK)
                return sq_fail(s, err, "cannot bind a value");
        int rc = step(s);
        sqlite3_reset(s->st);
        if (rc != SQLITE_DONE)
            return sq_fail(s, err, "INSERT failed");
    }
    return 0;
}

static int
sq_commit(void *impl, struct werr *err)
{
    struct sqlite_loader *s = impl;

    if (!s->in_tx)
        return 0;
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
