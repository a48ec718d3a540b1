/*
 * Bulk loads into a table (db.h): the loader picks its backend from the
 * connection string's driver and cuts the rows into transactions of
 * commit_rows rows (FastLoadMaxInsertCommitSize), whatever the backend.
 *
 * The ODBC backend, for every driver without a fast path, executes one
 * prepared INSERT over parameter arrays in manual-commit mode.
 */
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "dataflow/db.h"
#include "base/banned.h"

struct df_db_loader {
    const struct df_db_backend *be;
    void *impl;
    int64_t commit_rows, in_tx;
};

char *
df_db_insert_sql(const struct df_db_target *t, enum df_db_kind kind,
                 const char *table)
{
    struct wbuf b;

    wbuf_init(&b, WBUF_NOLIMIT);
    wbuf_addf(&b, NULL, "INSERT INTO %s (", table);
    for (size_t i = 0; i < t->ncols; i++) {
        char *q = df_db_quote(kind, t->names[i]);
        wbuf_addf(&b, NULL, "%s%s", i ? ", " : "", q);
        free(q);
    }
    wbuf_adds(&b, ") VALUES (", NULL);
    for (size_t i = 0; i < t->ncols; i++)
        wbuf_adds(&b, i ? ", ?" : "?", NULL);
    wbuf_addch(&b, ')', NULL);
    return wbuf_detach(&b, NULL);
}

struct df_db_loader *
df_db_loader_open(const struct df_db_target *t, struct werr *err)
{
    enum df_db_kind kind = df_db_kind_of(t->odbc);
    struct df_db_loader *l = xcalloc(1, sizeof(*l));
    char *table = df_db_table_name(kind, t->table);

    l->be = &df_db_odbc_backend;
    if (!t->no_fast_path && kind == DF_DB_SQLITE)
        l->be = &df_db_sqlite_backend;
    else if (!t->no_fast_path && kind == DF_DB_POSTGRES)
        l->be = &df_db_pg_backend;
    l->commit_rows = t->commit_rows > 0 ? t->commit_rows : INT64_MAX;
    l->impl = l->be->open(t, kind, table, err);
    free(table);
    if (!l->impl) {
        free(l);
        return NULL;
    }
    return l;
}

const char *
df_db_loader_path(const struct df_db_loader *l)
{
    return l->be->name;
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
    for (size_t done = 0; done < n;) {
        int64_t left = l->commit_rows - l->in_tx;
        size_t k = (int64_t)(n - done) < left ? n - done : (size_t)left;
        if (l->be->write(l->impl, b, slots, rows + done, k, err) < 0)
            goto out;
        done += k;
        l->in_tx += (int64_t)k;
        if (l->in_tx >= l->commit_rows) {
            if (l->be->commit(l->impl, err) < 0)
                goto out;
            l->in_tx = 0;
        }
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
    l->be->free(l->impl);
    free(l);
}

/* ---- the ODBC backend ---- */

struct odbc_loader {
    struct df_odbc *c;
    struct df_odbc_stmt *st;
    char *sql;
    size_t ncols;
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
    free(o->sql);
    free(o);
}

static void *
odbc_open(const struct df_db_target *t, enum df_db_kind kind,
          const char *table, struct werr *err)
{
    struct odbc_loader *o = xcalloc(1, sizeof(*o));

    o->ncols = t->ncols;
    o->sql = df_db_insert_sql(t, kind, table);
    o->c = df_odbc_connect(t->odbc, err);
    if (!o->c || df_odbc_autocommit(o->c, false, err) < 0)
        goto fail;
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

    return df_odbc_exec_rows(o->st, b, slots, o->ncols, rows, n, err);
}

static int
odbc_commit(void *impl, struct werr *err)
{
    struct odbc_loader *o = impl;

    return df_odbc_end(o->c, true, err);
}

static void
odbc_rollback(void *impl)
{
    struct odbc_loader *o = impl;

    df_odbc_end(o->c, false, NULL);
}

const struct df_db_backend df_db_odbc_backend = {
    .name = "ODBC",
    .open = odbc_open,
    .write = odbc_write,
    .commit = odbc_commit,
    .rollback = odbc_rollback,
    .free = odbc_free,
};
