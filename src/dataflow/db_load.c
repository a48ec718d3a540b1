/*
 * Bulk loads into a table (db.h): the loader picks its backend from the
 * connection string's driver and cuts the rows into transactions of
 * commit_rows rows (FastLoadMaxInsertCommitSize), whatever the backend.
 *
 * FastLoadKeepIdentity false leaves out the columns the database numbers
 * itself, so it numbers the rows; FastLoadKeepNulls false leaves out of
 * each row its NULL values of columns with a default, so they get it.
 * Rows are written in runs of consecutive rows that leave out the same
 * columns (the backend switches its statement or COPY between runs), so
 * the order of the rows is kept.
 *
 * The ODBC backend, for every driver without a fast path, executes one
 * prepared INSERT over parameter arrays in manual-commit mode.  Drivers
 * say little about defaults and identities, so when the database behind
 * the connection is SQLite or PostgreSQL (a DSN, say) the backend asks
 * its catalog with the fast paths' own rules; for PostgreSQL it also
 * advances the sequences of kept identities before each commit.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "dataflow/db.h"
#include "base/banned.h"

struct df_db_loader {
    const struct df_db_backend *be;
    void *impl;
    int64_t commit_rows, in_tx;
    struct df_db_target t; /* names and types borrowed from the caller */
    char *table;           /* quoted for the target */
    bool *base;            /* columns written at all (identity left out) */
    bool *dflt;            /* columns whose NULLs take the default */
    bool *cur, *want;      /* the backend's columns, the next run's */
    bool any_dflt;
    int *slots;            /* the written columns' slots */
};

char *
df_db_insert_sql(const struct df_db_target *t, enum df_db_kind kind,
                 const char *table, const bool *use)
{
    struct wbuf b;
    size_t n = 0;

    wbuf_init(&b, WBUF_NOLIMIT);
    wbuf_addf(&b, NULL, "INSERT INTO %s (", table);
    for (size_t i = 0; i < t->ncols; i++) {
        if (use && !use[i])
            continue;
        char *q = df_db_quote(kind, t->names[i]);
        wbuf_addf(&b, NULL, "%s%s", n++ ? ", " : "", q);
        free(q);
    }
    if (n == 0) {
        wbuf_reset(&b);
        wbuf_addf(&b, NULL, "INSERT INTO %s DEFAULT VALUES", table);
        return wbuf_detach(&b, NULL);
    }
    wbuf_adds(&b, ") VALUES (", NULL);
    for (size_t i = 0; i < n; i++)
        wbuf_adds(&b, i ? ", ?" : "?", NULL);
    wbuf_addch(&b, ')', NULL);
    return wbuf_detach(&b, NULL);
}

/* Which columns are written, from the database's description. */
static int
plan_columns(struct df_db_loader *l, struct werr *err)
{
    size_t n = l->t.ncols ? l->t.ncols : 1;
    bool *has_default = xcalloc(n, sizeof(bool));
    bool *identity = xcalloc(n, sizeof(bool));
    int rc = 0;

    l->base = xcalloc(n, sizeof(bool));
    l->dflt = xcalloc(n, sizeof(bool));
    l->cur = xcalloc(n, sizeof(bool));
    l->want = xcalloc(n, sizeof(bool));
    for (size_t i = 0; i < l->t.ncols; i++)
        l->base[i] = l->cur[i] = true;
    /* Described even when everything is kept: PostgreSQL's backends
     * learn there which sequences the kept ids must advance. */
    if ((rc = l->be->describe(l->impl, &l->t, l->table, has_default, identity,
                              err)) < 0)
        goto out;
    for (size_t i = 0; i < l->t.ncols; i++) {
        l->base[i] = l->t.keep_identity || !identity[i];
        l->dflt[i] = !l->t.keep_nulls && has_default[i] && l->base[i];
        l->any_dflt |= l->dflt[i];
    }
    if (memcmp(l->base, l->cur, l->t.ncols * sizeof(bool))) {
        rc = l->be->columns(l->impl, &l->t, l->table, l->base, err);
        memcpy(l->cur, l->base, l->t.ncols * sizeof(bool));
    }
out:
    free(has_default);
    free(identity);
    return rc;
}

struct df_db_loader *
df_db_loader_open(const struct df_db_target *t, struct werr *err)
{
    enum df_db_kind kind = df_db_kind_of(t->odbc);
    struct df_db_loader *l = xcalloc(1, sizeof(*l));

    l->t = *t;
    l->table = df_db_table_name(kind, t->table);
    l->slots = xcalloc(t->ncols ? t->ncols : 1, sizeof(*l->slots));
    l->be = &df_db_odbc_backend;
    if (!t->no_fast_path && kind == DF_DB_SQLITE)
        l->be = &df_db_sqlite_backend;
    else if (!t->no_fast_path && kind == DF_DB_POSTGRES)
        l->be = &df_db_pg_backend;
    l->commit_rows = t->commit_rows > 0 ? t->commit_rows : INT64_MAX;
    l->impl = l->be->open(t, kind, l->table, err);
    if (!l->impl || plan_columns(l, err) < 0) {
        df_db_loader_free(l);
        return NULL;
    }
    return l;
}

const char *
df_db_loader_path(const struct df_db_loader *l)
{
    return l->be->name;
}

/* The columns row `row` of `b` writes into l->want; true if they differ
 * from the backend's. */
static bool
row_columns(struct df_db_loader *l, const struct df_buffer *b,
            const int *slots, uint32_t row)
{
    for (size_t i = 0; i < l->t.ncols; i++)
        l->want[i] = l->base[i] &&
                     !(l->dflt[i] && b->cols[slots[i]].nulls[row]);
    return memcmp(l->want, l->cur, l->t.ncols * sizeof(bool)) != 0;
}

/* Writes rows[0..n), which all write the backend's columns, cutting
 * transactions at commit_rows. */
static int
write_run(struct df_db_loader *l, const struct df_buffer *b,
          const int *slots, const uint32_t *rows, size_t n, struct werr *err)
{
    size_t k = 0;

    for (size_t i = 0; i < l->t.ncols; i++)
        if (l->cur[i])
            l->slots[k++] = slots[i];
    for (size_t done = 0; done < n;) {
        int64_t left = l->commit_rows - l->in_tx;
        size_t m = (int64_t)(n - done) < left ? n - done : (size_t)left;
        if (l->be->write(l->impl, b, l->slots, rows + done, m, err) < 0)
            return -1;
        done += m;
        l->in_tx += (int64_t)m;
        if (l->in_tx >= l->commit_rows) {
            if (l->be->commit(l->impl, err) < 0)
                return -1;
            l->in_tx = 0;
        }
    }
    return 0;
}

int
df_db_loader_write(struct df_db_loader *l, const struct df_buffer *b,
                   const int *slots, const uint32_t *rows, size_t n,
                   struct werr *err)
{
    uint32_t *all = NULL;
    int rc = -1;

    if (!rows) {
        n = b->nrows;
        all = xmalloc((n ? n : 1) * sizeof(*all));
        for (size_t r = 0; r < n; r++)
            all[r] = (uint32_t)r;
        rows = all;
    }
    for (size_t start = 0, end; start < n; start = end) {
        end = n;
        if (l->any_dflt) {
            if (row_columns(l, b, slots, rows[start])) {
                if (l->be->columns(l->impl, &l->t, l->table, l->want,
                                   err) < 0)
                    goto out;
                memcpy(l->cur, l->want, l->t.ncols * sizeof(bool));
            }
            for (end = start + 1;
                 end < n && !row_columns(l, b, slots, rows[end]); end++)
                ;
        }
        if (write_run(l, b, slots, rows + start, end - start, err) < 0)
            goto out;
    }
    rc = 0;
out:
    free(all);
    return rc;
}

int
df_db_loader_finish(struct df_db_loader *l, struct werr *err)
{
    if (l->be->commit(l->impl, err) < 0)
        return -1;
    l->in_tx = 0;
    return 0;
}

void
df_db_loader_rollback(struct df_db_loader *l)
{
    l->be->rollback(l->impl);
    l->in_tx = 0;
}

void
df_db_loader_free(struct df_db_loader *l)
{
    if (!l)
        return;
    if (l->impl)
        l->be->free(l->impl);
    free(l->table);
    free(l->base);
    free(l->dflt);
    free(l->cur);
    free(l->want);
    free(l->slots);
    free(l);
}

/* ---- the ODBC backend ---- */

struct odbc_loader {
    struct df_odbc *c;
    struct df_odbc_stmt *st;
    char *sql;
    size_t ncols;
    enum df_db_kind kind; /* the database's, which a DSN does not name */
    char *table;          /* quoted for it: the loader's is not, then */
    bool dirty;           /* rows written since the last commit */
    char **advance; /* PostgreSQL: df_db_pg_advance_sql per kept identity */
    size_t nadvance;
};

static void
odbc_free(void *impl)
{
    struct odbc_loader *o = impl;

    df_odbc_stmt_free(o->st);
    if (o->c) {
        df_odbc_end(o->c, false, NULL);
        df_odbc_close(o->c);
    }
    for (size_t i = 0; i < o->nadvance; i++)
        free(o->advance[i]);
    free(o->advance);
    free(o->table);
    free(o->sql);
    free(o);
}

static void *
odbc_open(const struct df_db_target *t, enum df_db_kind kind,
          const char *table, struct werr *err)
{
    struct odbc_loader *o = xcalloc(1, sizeof(*o));

    o->ncols = t->ncols;
    o->c = df_odbc_connect(t->odbc, err);
    if (!o->c || df_odbc_autocommit(o->c, false, err) < 0)
        goto fail;
    o->kind = df_odbc_dbms(o->c);
    o->table =
        o->kind == kind ? xstrdup(table) : df_db_table_name(o->kind, t->table);
    o->sql = df_db_insert_sql(t, o->kind, o->table, NULL);
    o->st = df_odbc_prepare(o->c, o->sql, err);
    if (!o->st)
        goto fail;
    return o;
fail:
    odbc_free(o);
    return NULL;
}

static int
odbc_write(void *impl, const struct df_buffer *b, const int *slots,
           const uint32_t *rows, size_t n, struct werr *err)
{
    struct odbc_loader *o = impl;

    o->dirty = true;
    if (o->ncols)
        return df_odbc_exec_rows(o->st, b, slots, o->ncols, rows, n, err);
    /* DEFAULT VALUES has no markers to make arrays of: once per row. */
    for (size_t r = 0; r < n; r++)
        if (df_odbc_exec_rows(o->st, b, slots, 0, rows + r, 1, err) < 0)
            return -1;
    return 0;
}

/* Identities as the driver describes a result of the table. */
static int
describe_driver(struct odbc_loader *o, const struct df_db_target *t,
                const char *table, bool *has_default, bool *identity,
                struct werr *err)
{
    char *sql = xasprintf("SELECT * FROM %s WHERE 1 = 0", table);
    struct df_cursor *cur = df_cursor_open(o->c, sql, NULL, 0, 0, err);

    free(sql);
    if (!cur)
        return -1;
    for (size_t i = 0; i < t->ncols; i++) {
        has_default[i] = true;
        for (size_t k = 0; k < df_cursor_ncols(cur); k++)
            if (!strcasecmp(df_cursor_col(cur, k)->name, t->names[i]))
                identity[i] = df_cursor_col(cur, k)->auto_unique;
    }
    df_cursor_free(cur);
    return 0;
}

/* A catalog row of a SQLite or PostgreSQL database (df_odbc_rows). */
struct describe_ctx {
    struct odbc_loader *o;
    const struct df_db_target *t;
    const char *table;
    bool *has_default, *identity;
    struct df_sqlite_info sq;
};

static int
sqlite_row(void *arg, char **cells, size_t n)
{
    struct describe_ctx *d = arg;

    if (n >= 6)
        df_db_sqlite_info_row(&d->sq, cells[1], cells[2], cells[4] != NULL,
                              cells[5] ? (int)strtol(cells[5], NULL, 10) : 0);
    return 0;
}

static int
pg_row(void *arg, char **cells, size_t n)
{
    struct describe_ctx *d = arg;

    if (n >= 3 && cells[0] && cells[1] && cells[2])
        df_db_pg_describe_row(d->t, d->table, cells, d->has_default,
                              d->identity, &d->o->advance, &d->o->nadvance);
    return 0;
}

/* Identity columns from the driver's description of the table (the
 * ODBC catalog functions say nothing portable about defaults: every
 * column counts as having one, which is right, only slower).  SQLite
 * and PostgreSQL are asked their own catalogs: SQLite's driver reports
 * no identity, so its ids would go in. */
static int
odbc_describe(void *impl, const struct df_db_target *t, const char *table,
              bool *has_default, bool *identity, struct werr *err)
{
    struct odbc_loader *o = impl;
    struct describe_ctx d = {
        .o = o,
        .t = t,
        .table = o->table,
        .has_default = has_default,
        .identity = identity,
        .sq = {t, has_default, identity, 0, -1},
    };
    enum df_db_kind dbms = o->kind;
    char *sql = NULL;
    int rc = 0;

    table = o->table;
    if (dbms == DF_DB_SQLITE) {
        sql = df_db_sqlite_info_sql(table);
        rc = df_odbc_rows(o->c, sql, sqlite_row, &d, err);
        df_db_sqlite_info_end(&d.sq);
    } else if (dbms == DF_DB_POSTGRES) {
        sql = df_db_pg_describe_sql(table, false);
        rc = df_odbc_rows(o->c, sql, pg_row, &d, err);
    } else {
        rc = describe_driver(o, t, table, has_default, identity, err);
    }
    free(sql);
    /* The catalog query opened a transaction (autocommit is off). */
    if (rc == 0 && dbms != DF_DB_OTHER)
        rc = df_odbc_end(o->c, false, err);
    return rc < 0 ? werr_prefix(err, "cannot describe '%s'", table) : 0;
}

static int
odbc_columns(void *impl, const struct df_db_target *t, const char *table,
             const bool *use, struct werr *err)
{
    struct odbc_loader *o = impl;

    (void)table; /* o->table is quoted for the database */
    df_odbc_stmt_free(o->st);
    free(o->sql);
    o->sql = df_db_insert_sql(t, o->kind, o->table, use);
    o->ncols = 0;
    for (size_t i = 0; i < t->ncols; i++)
        o->ncols += use[i];
    o->st = df_odbc_prepare(o->c, o->sql, err);
    return o->st ? 0 : -1;
}

/* Runs one statement whose result is not read. */
static int
odbc_run(struct odbc_loader *o, const char *sql, struct werr *err)
{
    struct df_cursor *cur = df_cursor_open(o->c, sql, NULL, 0, 0, err);

    if (!cur)
        return -1;
    df_cursor_free(cur);
    return 0;
}

static int
odbc_commit(void *impl, struct werr *err)
{
    struct odbc_loader *o = impl;

    for (size_t i = 0; o->dirty && i < o->nadvance; i++)
        if (odbc_run(o, o->advance[i], err) < 0)
            return -1;
    o->dirty = false;
    return df_odbc_end(o->c, true, err);
}

static void
odbc_rollback(void *impl)
{
    struct odbc_loader *o = impl;

    o->dirty = false;
    df_odbc_end(o->c, false, NULL);
}

const struct df_db_backend df_db_odbc_backend = {
    .name = "ODBC",
    .open = odbc_open,
    .write = odbc_write,
    .commit = odbc_commit,
    .rollback = odbc_rollback,
    .free = odbc_free,
    .describe = odbc_describe,
    .columns = odbc_columns,
};
