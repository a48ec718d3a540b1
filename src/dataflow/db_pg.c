/*
 * The PostgreSQL fast path of the loader (db.h): when the connection
 * string names psqlODBC, its Server/Port/Database/Uid/Pwd keys become a
 * libpq conninfo and rows go through COPY ... FROM STDIN in text format,
 * one COPY per transaction of commit_rows rows.  A table lock
 * (FastLoadOptions TABLOCK) is LOCK TABLE ... IN SHARE ROW EXCLUSIVE MODE
 * at the start of each transaction: other writers wait, readers do not.
 * Every call that waits for the server runs inside df_blocking_begin/_end
 * (df_int.h): when the run stops while the server makes us wait (a lock
 * held by another session), the engine's watcher sends PQcancel with the
 * PGcancel taken at connection, and the COPY fails and is rolled back.
 *
 * Ids kept in serial and identity columns (FastLoadKeepIdentity, or any
 * mode that writes them) do not move the column's sequence, so the next
 * INSERT without an id would take one already used; SQL Server moves its
 * identity seed.  So before each commit the sequence is set past the
 * column's greatest value (df_db_pg_advance_sql), over libpq here and
 * over ODBC for a PostgreSQL database without the fast path (db_load.c).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>

#include "base/xalloc.h"
#include "dataflow/db.h"
#include "base/banned.h"

/* Bytes of COPY text gathered before each PQputCopyData. */
#define COPY_CHUNK ((size_t)256 << 10)

struct pg_loader {
    PGconn *pg;
    PGcancel *cancel; /* for the engine's watcher */
    char *copy_sql, *lock_sql;
    char *defaults_sql; /* no column left: INSERT ... DEFAULT VALUES */
    bool in_copy; /* in a transaction of ours */
    bool copying; /* the COPY is open */
    size_t ncols;
    char **advance; /* df_db_pg_advance_sql of each written identity */
    size_t nadvance;
    struct wbuf line, cell;
};

/* Appends key='value' with conninfo quoting. */
static void
add_conninfo(struct wbuf *b, const char *key, const char *value)
{
    if (!value || !*value)
        return;
    wbuf_addf(b, NULL, "%s='", key);
    for (const char *p = value; *p; p++) {
        if (*p == '\'' || *p == '\\')
            wbuf_addch(b, '\\', NULL);
        wbuf_addch(b, *p, NULL);
    }
    wbuf_adds(b, "' ", NULL);
}

/* The libpq conninfo for an ODBC string (caller frees). */
static char *
conninfo(const char *odbc)
{
    static const char *const map[][4] = {
        {"host", "Server", "Servername", "Host"},
        {"port", "Port", NULL, NULL},
        {"dbname", "Database", NULL, NULL},
        {"user", "Uid", "Username", "User"},
        {"password", "Pwd", "Password", NULL},
        {"sslmode", "SSLmode", "SSLMode", NULL},
    };
    struct wbuf b;

    wbuf_init(&b, WBUF_NOLIMIT);
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        for (size_t k = 1; k < 4 && map[i][k]; k++) {
            char *v = df_db_key(odbc, map[i][k]);
            add_conninfo(&b, map[i][0], v);
            bool found = v != NULL;
            free(v);
            if (found)
                break;
        }
    wbuf_adds(&b, "client_encoding='UTF8'", NULL);
    return wbuf_detach(&b, NULL);
}

static int
pg_fail(struct pg_loader *p, struct werr *err, const char *what,
        const PGresult *res)
{
    const char *msg = res ? PQresultErrorMessage(res) : "";

    if (!msg || !*msg)
        msg = PQerrorMessage(p->pg);
    werr_set(err, WERR_IO, "%s: %.*s", what, (int)strcspn(msg, "\n"), msg);
    return -1;
}

static void
pg_rollback(void *impl)
{
    struct pg_loader *p = impl;
    PGresult *res;

    if (!p->in_copy)
        return;
    if (p->copying)
        PQputCopyEnd(p->pg, "rolled back");
    p->copying = false;
    while ((res = PQgetResult(p->pg)))
        PQclear(res);
    PQclear(PQexec(p->pg, "ROLLBACK"));
    p->in_copy = false;
    wbuf_reset(&p->line);
}

static void
pg_free(void *impl)
{
    struct pg_loader *p = impl;

    if (p->pg)
        pg_rollback(p);
    PQfreeCancel(p->cancel);
    PQfinish(p->pg);
    free(p->copy_sql);
    free(p->lock_sql);
    free(p->defaults_sql);
    for (size_t i = 0; i < p->nadvance; i++)
        free(p->advance[i]);
    free(p->advance);
    wbuf_release(&p->line);
    wbuf_release(&p->cell);
    free(p);
}

static char *
copy_sql(const struct df_db_target *t, enum df_db_kind kind,
         const char *table, const bool *use)
{
    struct wbuf b;
    size_t n = 0;

    wbuf_init(&b, WBUF_NOLIMIT);
    wbuf_addf(&b, NULL, "COPY %s (", table);
    for (size_t i = 0; i < t->ncols; i++) {
        if (use && !use[i])
            continue;
        char *q = df_db_quote(kind, t->names[i]);
        wbuf_addf(&b, NULL, "%s%s", n++ ? ", " : "", q);
        free(q);
    }
    wbuf_adds(&b, ") FROM STDIN", NULL);
    return wbuf_detach(&b, NULL);
}

static void *
pg_open(const struct df_db_target *t, enum df_db_kind kind, const char *table,
        struct werr *err)
{
    struct pg_loader *p = xcalloc(1, sizeof(*p));
    char *ci = conninfo(t->odbc);

    wbuf_init(&p->line, WBUF_NOLIMIT);
    wbuf_init(&p->cell, WBUF_NOLIMIT);
    p->ncols = t->ncols;
    p->copy_sql = copy_sql(t, kind, table, NULL);
    if (t->table_lock)
        p->lock_sql =
            xasprintf("LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE", table);
    p->pg = PQconnectdb(ci);
    free(ci);
    if (PQstatus(p->pg) != CONNECTION_OK) {
        pg_fail(p, err, "cannot connect to PostgreSQL", NULL);
        pg_free(p);
        return NULL;
    }
    p->cancel = PQgetCancel(p->pg);
    return p;
}

/* The engine's watcher: asks the server to stop what it is doing. */
static void
cancel_query(void *arg)
{
    struct pg_loader *p = arg;
    char why[256];

    if (p->cancel)
        PQcancel(p->cancel, why, sizeof(why));
}

static int
exec_ok(struct pg_loader *p, const char *sql, ExecStatusType want,
        struct werr *err)
{
    struct df_blocking b;
    PGresult *res;
    int rc = 0;

    df_blocking_begin(&b, cancel_query, p);
    res = PQexec(p->pg, sql);
    df_blocking_end(&b);

    if (PQresultStatus(res) != want)
        rc = pg_fail(p, err, sql, res);
    PQclear(res);
    return rc;
}

/* Starts our transaction (and the table lock) if none is open, then
 * the COPY unless no column is left. */
static int
begin_copy(struct pg_loader *p, struct werr *err)
{
    if (!p->in_copy) {
        if (exec_ok(p, "BEGIN", PGRES_COMMAND_OK, err) < 0)
            return -1;
        p->in_copy = true; /* from here on, free rolls back */
        if (p->lock_sql &&
            exec_ok(p, p->lock_sql, PGRES_COMMAND_OK, err) < 0)
            return -1;
    }
    if (p->ncols == 0)
        return 0;
    if (exec_ok(p, p->copy_sql, PGRES_COPY_IN, err) < 0)
        return -1;
    p->copying = true;
    return 0;
}

/* Ends the open COPY; the transaction goes on. */
static int
end_copy(struct pg_loader *p, struct werr *err)
{
    struct df_blocking b;
    PGresult *res;
    int rc = 0;

    if (!p->copying)
        return 0;
    p->copying = false;
    df_blocking_begin(&b, cancel_query, p);
    if (PQputCopyEnd(p->pg, NULL) != 1) {
        rc = pg_fail(p, err, "COPY failed", NULL);
        goto out;
    }
    while ((res = PQgetResult(p->pg))) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0)
            rc = pg_fail(p, err, "COPY failed", res);
        PQclear(res);
    }
out:
    df_blocking_end(&b);
    return rc;
}

/* COPY's text format: backslash escapes for the separators. */
static void
add_escaped(struct wbuf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        const char *e = c == '\\' ? "\\\\"
                        : c == '\t' ? "\\t"
                        : c == '\n' ? "\\n"
                        : c == '\r' ? "\\r"
                                    : NULL;
        if (e)
            wbuf_add(out, e, 2, NULL);
        else
            wbuf_addch(out, c, NULL);
    }
}

static void
add_cell(struct pg_loader *p, const struct df_vec *v, size_t row)
{
    static const char hex[] = "0123456789abcdef";

    if (v->nulls[row]) {
        wbuf_add(&p->line, "\\N", 2, NULL);
        return;
    }
    if (v->type.dt == EXPR_DT_BYTES || v->type.dt == EXPR_DT_IMAGE) {
        const struct expr_sv *sv = &((const struct expr_sv *)v->data)[row];
        wbuf_adds(&p->line, "\\\\x", NULL);
        for (size_t i = 0; i < sv->len; i++) {
            unsigned char c = (unsigned char)sv->p[i];
            wbuf_addch(&p->line, hex[c >> 4], NULL);
            wbuf_addch(&p->line, hex[c & 15], NULL);
        }
        return;
    }
    wbuf_reset(&p->cell);
    df_db_value_text(v, row, true, &p->cell);
    add_escaped(&p->line, p->cell.buf, p->cell.len);
}

static int
flush(struct pg_loader *p, struct werr *err)
{
    if (p->line.len &&
        PQputCopyData(p->pg, p->line.buf, (int)p->line.len) != 1)
        return pg_fail(p, err, "COPY failed", NULL);
    wbuf_reset(&p->line);
    return 0;
}

static int
pg_write(void *impl, const struct df_buffer *b, const int *slots,
         const uint32_t *rows, size_t n, struct werr *err)
{
    struct pg_loader *p = impl;

    if ((!p->in_copy || (p->ncols && !p->copying)) && begin_copy(p, err) < 0)
        return -1;
    for (size_t r = 0; p->ncols == 0 && r < n; r++)
        if (exec_ok(p, p->defaults_sql, PGRES_COMMAND_OK, err) < 0)
            return -1;
    for (size_t r = 0; p->ncols && r < n; r++) {
        for (size_t i = 0; i < p->ncols; i++) {
            if (i)
                wbuf_addch(&p->line, '\t', NULL);
            add_cell(p, &b->cols[slots[i]], rows[r]);
        }
        wbuf_addch(&p->line, '\n', NULL);
        if (p->line.len >= COPY_CHUNK && flush(p, err) < 0)
            return -1;
    }
    return flush(p, err);
}

static int
pg_commit(void *impl, struct werr *err)
{
    struct pg_loader *p = impl;
    int rc;

    if (!p->in_copy)
        return 0;
    rc = end_copy(p, err);
    for (size_t i = 0; rc == 0 && i < p->nadvance; i++)
        rc = exec_ok(p, p->advance[i], PGRES_TUPLES_OK, err);
    if (rc == 0)
        rc = exec_ok(p, "COMMIT", PGRES_COMMAND_OK, err);
    else
        PQclear(PQexec(p->pg, "ROLLBACK"));
    p->in_copy = false;
    return rc;
}

/* A string literal for PostgreSQL (standard_conforming_strings, on by
 * default since 9.1) (caller frees). */
static char *
literal(const char *text)
{
    struct wbuf b;

    wbuf_init(&b, WBUF_NOLIMIT);
    wbuf_addch(&b, '\'', NULL);
    for (const char *c = text; *c; c++) {
        if (*c == '\'')
            wbuf_addch(&b, '\'', NULL);
        wbuf_addch(&b, *c, NULL);
    }
    wbuf_addch(&b, '\'', NULL);
    return wbuf_detach(&b, NULL);
}

char *
df_db_pg_describe_sql(const char *table, bool param)
{
    char *lit = param ? xstrdup("$1") : literal(table);
    char *sql = xasprintf(
        "SELECT a.attname, a.atthasdef OR a.attidentity <> '', "
        "a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid) "
        "LIKE 'nextval(%%', false) "
        "FROM pg_attribute a LEFT JOIN pg_attrdef d "
        "ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = %s::regclass AND a.attnum > 0 "
        "AND NOT a.attisdropped",
        lit);

    free(lit);
    return sql;
}

char *
df_db_pg_advance_sql(const char *table, const char *attname)
{
    char *lt = literal(table), *lc = literal(attname);
    /* Double quotes keep the catalog's name exact (SQLite's quoting is
     * always PostgreSQL's quoted form). */
    char *col = df_db_quote(DF_DB_SQLITE, attname);
    char *sql = xasprintf(
        "SELECT setval(q.s, q.m) FROM (SELECT "
        "pg_get_serial_sequence(%s, %s)::regclass AS s, "
        "(SELECT max(%s)::bigint FROM %s) AS m) q "
        "WHERE q.s IS NOT NULL AND q.m IS NOT NULL "
        "AND q.m >= (SELECT seqmin FROM pg_sequence WHERE seqrelid = q.s) "
        "AND q.m > coalesce(pg_sequence_last_value(q.s), q.m - 1)",
        lt, lc, col, table);

    free(lt);
    free(lc);
    free(col);
    return sql;
}

void
df_db_pg_describe_row(const struct df_db_target *t, const char *table,
                      char **cells, bool *has_default, bool *identity,
                      char ***advance, size_t *nadvance)
{
    for (size_t i = 0; i < t->ncols; i++) {
        if (strcasecmp(cells[0], t->names[i]))
            continue;
        /* libpq gives booleans as t/f, psqlODBC as 1/0. */
        has_default[i] = *cells[1] == 't' || *cells[1] == '1';
        identity[i] = *cells[2] == 't' || *cells[2] == '1';
        if (!identity[i] || !t->keep_identity)
            continue;
        *advance = xrealloc(*advance, (*nadvance + 1) * sizeof(**advance));
        (*advance)[(*nadvance)++] = df_db_pg_advance_sql(table, cells[0]);
    }
}

/* Defaults and identities from the catalog (df_db_pg_describe_sql);
 * kept identities get their sequence advanced at each commit. */
static int
pg_describe(void *impl, const struct df_db_target *t, const char *table,
            bool *has_default, bool *identity, struct werr *err)
{
    struct pg_loader *p = impl;
    char *sql = df_db_pg_describe_sql(table, true);
    PGresult *res = PQexecParams(p->pg, sql, 1, NULL, &table, NULL, NULL, 0);
    int rc = 0;

    free(sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = pg_fail(p, err, "cannot describe the table", res);
        goto out;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        char *cells[3] = {PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
                          PQgetvalue(res, r, 2)};
        df_db_pg_describe_row(t, table, cells, has_default, identity,
                              &p->advance, &p->nadvance);
    }
out:
    PQclear(res);
    return rc;
}

/* A new column list: the open COPY ends (the transaction goes on) and
 * the next write starts one with these columns. */
static int
pg_columns(void *impl, const struct df_db_target *t, const char *table,
           const bool *use, struct werr *err)
{
    struct pg_loader *p = impl;

    if (end_copy(p, err) < 0)
        return -1;
    free(p->copy_sql);
    p->copy_sql = copy_sql(t, DF_DB_POSTGRES, table, use);
    if (!p->defaults_sql)
        p->defaults_sql = xasprintf("INSERT INTO %s DEFAULT VALUES", table);
    p->ncols = 0;
    for (size_t i = 0; i < t->ncols; i++)
        p->ncols += use[i];
    return 0;
}

const struct df_db_backend df_db_pg_backend = {
    .name = "PostgreSQL COPY",
    .open = pg_open,
    .write = pg_write,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .free = pg_free,
    .describe = pg_describe,
    .columns = pg_columns,
};
