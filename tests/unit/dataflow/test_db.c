/*
 * The data flow's database layer against real SQLite databases: names
 * and connection strings, block fetches into buffers over ODBC (types,
 * NULLs, long text, partial blocks), and the loader's SQLite fast path
 * and ODBC parameter arrays (rows read back with libsqlite3), with its
 * errors (bad SQL, a missing table, a refused row).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "base/xalloc.h"
#include "dataflow/db.h"

struct fx {
    char dir[64], db[96], odbc[160];
};

static void
sq(const char *path, const char *sql)
{
    sqlite3 *db;
    char *msg = NULL;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

/* The rows of a query, "a|b|c" joined by newlines (NULL as "NULL"). */
static char *
sq_rows(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    struct wbuf b;

    wbuf_init(&b, WBUF_NOLIMIT);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (b.len)
            wbuf_addch(&b, '\n', NULL);
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const char *t = (const char *)sqlite3_column_text(st, i);
            wbuf_addf(&b, NULL, "%s%s", i ? "|" : "", t ? t : "NULL");
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return wbuf_detach(&b, NULL);
}

static int
setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/weir-test-db-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/t.db", f->dir);
    snprintf(f->odbc, sizeof(f->odbc), "Driver=SQLite3;Database=%s;", f->db);
    sq(f->db, "CREATE TABLE items (id INTEGER, name VARCHAR(20), "
              "note TEXT, amount NUMERIC(10,2), day TIMESTAMP, ok BIT);"
              "INSERT INTO items VALUES (1, 'one', 'a long note', 1.25, "
              "'2024-02-29 10:30:00', 1);"
              "INSERT INTO items VALUES (2, 'två', NULL, NULL, NULL, 0);"
              "INSERT INTO items VALUES (3, NULL, 'x', 3.5, "
              "'1999-12-31 23:59:59', NULL);");
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void
test_names(void **state)
{
    char *s;

    (void)state;
    s = df_db_table_name(DF_DB_POSTGRES, "[stg].[FileValues]");
    assert_string_equal(s, "stg.FileValues");
    free(s);
    s = df_db_table_name(DF_DB_SQLITE, "[dbo].[Client]");
    assert_string_equal(s, "\"Client\"");
    free(s);
    s = df_db_table_name(DF_DB_SQLSERVER, "dbo.Odd]Name");
    assert_string_equal(s, "[dbo].[Odd]]Name]");
    free(s);
    s = df_db_table_name(DF_DB_POSTGRES, "[staging].[alpha-2]");
    assert_string_equal(s, "staging.\"alpha-2\"");
    free(s);
    s = df_db_table_name(DF_DB_POSTGRES, "\"a\"\"b\"");
    assert_string_equal(s, "\"a\"\"b\"");
    free(s);
    assert_int_equal(df_db_kind_of("DRIVER={PostgreSQL Unicode};Server=x"),
                     DF_DB_POSTGRES);
    assert_int_equal(df_db_kind_of("Driver=SQLite3;Database=a.db"),
                     DF_DB_SQLITE);
    assert_int_equal(df_db_kind_of("DSN=x"), DF_DB_OTHER);
    s = df_db_key("Driver={a;b};Database = x.db ;", "database");
    assert_string_equal(s, "x.db ");
    free(s);
    s = df_db_key("Driver={a;b};Database=x.db", "Driver");
    assert_string_equal(s, "a;b");
    free(s);
}

static void
test_civil(void **state)
{
    struct df_civil c = {2024, 2, 29, 10, 30, 5, 1234567}, d;
    int64_t t = df_civil_to_ticks(&c);

    (void)state;
    /* 2024-02-29 10:30:05 UTC is Unix time 1709202605. */
    assert_int_equal(t, EXPR_TICKS_UNIX_EPOCH +
                            INT64_C(1709202605) * EXPR_TICKS_PER_SEC +
                            1234567);
    df_ticks_to_civil(t, &d);
    assert_memory_equal(&c, &d, sizeof(c));
    c = (struct df_civil){1, 1, 1, 0, 0, 0, 0};
    assert_int_equal(df_civil_to_ticks(&c), 0);
}

/* A layout made by hand, as the planner would make it. */
static struct df_layout *
layout_new(const struct expr_type *types, size_t n, size_t max_rows)
{
    struct df_layout *l = xcalloc(1, sizeof(*l));

    l->types = xmalloc(n * sizeof(*types));
    memcpy(l->types, types, n * sizeof(*types));
    l->nslots = n;
    l->max_rows = max_rows;
    return l;
}

static void
layout_free(struct df_layout *l)
{
    free(l->types);
    free(l);
}

static const struct expr_type item_types[] = {
    {.dt = EXPR_DT_I4},
    {.dt = EXPR_DT_WSTR, .length = 20},
    {.dt = EXPR_DT_NTEXT},
    {.dt = EXPR_DT_NUMERIC, .precision = 10, .scale = 2},
    {.dt = EXPR_DT_DBTIMESTAMP},
    {.dt = EXPR_DT_BOOL},
    {.dt = EXPR_DT_I8}, /* not fetched: stays NULL */
};

static char *
cell(const struct df_buffer *b, int slot, size_t row)
{
    struct expr_col col = df_buffer_col(b, slot);
    struct expr_value v;
    char buf[128];

    expr_col_value(&col, row, &v);
    expr_value_format(&v, buf, sizeof(buf));
    return xstrdup(buf);
}

static void
assert_cell(const struct df_buffer *b, int slot, size_t row, const char *want)
{
    char *got = cell(b, slot, row);

    assert_string_equal(got, want);
    free(got);
}

static void
test_fetch(void **state)
{
    struct fx *f = *state;
    struct werr err = {0};
    struct df_odbc *c = df_odbc_connect(f->odbc, &err);
    struct df_layout *l = layout_new(item_types, 7, 2);
    struct df_cursor *cur;
    struct df_buffer *b;

    assert_non_null(c);
    cur = df_cursor_open(c, "SELECT * FROM items ORDER BY id", NULL, 0, 0,
                         &err);
    assert_non_null(cur);
    assert_int_equal(df_cursor_ncols(cur), 6);
    assert_string_equal(df_cursor_col(cur, 1)->name, "name");
    for (size_t i = 0; i < 6; i++)
        df_cursor_bind(cur, i, (int)i, &item_types[i]);
    /* Two rows per buffer: three rows take two buffers. */
    b = df_buffer_new(l);
    assert_int_equal(df_cursor_fetch(cur, b, &err), 2);
    assert_cell(b, 0, 0, "1");
    assert_cell(b, 1, 0, "one");
    assert_cell(b, 2, 0, "a long note");
    assert_cell(b, 3, 0, "1.25");
    assert_cell(b, 4, 0, "2024-02-29 10:30:00");
    assert_cell(b, 5, 0, "True");
    assert_cell(b, 1, 1, "två");
    assert_true(b->cols[2].nulls[1] && b->cols[3].nulls[1] &&
                b->cols[4].nulls[1]);
    assert_true(b->cols[6].nulls[0] && b->cols[6].nulls[1]);
    df_buffer_unref(b);
    b = df_buffer_new(l);
    assert_int_equal(df_cursor_fetch(cur, b, &err), 1);
    assert_true(b->cols[1].nulls[0] && b->cols[5].nulls[0]);
    assert_cell(b, 4, 0, "1999-12-31 23:59:59");
    assert_int_equal(df_cursor_fetch(cur, b, &err), 0);
    df_buffer_unref(b);
    df_cursor_free(cur);
    df_odbc_close(c);
    layout_free(l);
}

static void
test_fetch_params_and_errors(void **state)
{
    struct fx *f = *state;
    struct werr err = {0};
    struct df_odbc *c = df_odbc_connect(f->odbc, &err);
    struct df_layout *l = layout_new(item_types, 2, 100);
    struct expr_value p = {.type = {.dt = EXPR_DT_I4}, .v.i = 2};
    struct df_cursor *cur;
    struct df_buffer *b;

    cur = df_cursor_open(c, "SELECT id, name FROM items WHERE id >= ?", &p, 1,
                         0, &err);
    assert_non_null(cur);
    df_cursor_bind(cur, 0, 0, &item_types[0]);
    df_cursor_bind(cur, 1, 1, &item_types[1]);
    b = df_buffer_new(l);
    assert_int_equal(df_cursor_fetch(cur, b, &err), 2);
    assert_cell(b, 0, 1, "3");
    df_buffer_unref(b);
    df_cursor_free(cur);
    /* Bad SQL: the driver's text comes back. */
    cur = df_cursor_open(c, "SELEC nothing", NULL, 0, 0, &err);
    assert_null(cur);
    assert_non_null(strstr(err.msg, "syntax error"));
    df_odbc_close(c);
    layout_free(l);
    /* No such database file (the driver refuses to create it here). */
    assert_null(df_odbc_connect("Driver=NoSuchDriver;Database=x", &err));
    assert_non_null(strstr(err.msg, "cannot connect"));
}

/* Rows of `sql` fetched in collect mode into columns of `types`: each
 * row's cells joined by '|', rows by ' ', and the listed bad values as
 * "row:col=text" after " / ". */
static char *
fetch_all(struct fx *f, const char *sql, const struct expr_type *types,
          size_t n)
{
    struct werr err = {0};
    struct df_odbc *c = df_odbc_connect(f->odbc, &err);
    struct df_layout *l = layout_new(types, n, 100);
    struct df_buffer *b = df_buffer_new(l);
    const struct df_cursor_bad *bad;
    struct df_cursor *cur;
    struct wbuf out;

    assert_non_null(c);
    cur = df_cursor_open(c, sql, NULL, 0, 0, &err);
    assert_non_null(cur);
    df_cursor_collect(cur, true);
    for (size_t i = 0; i < n; i++)
        df_cursor_bind(cur, i, (int)i, &types[i]);
    assert_true(df_cursor_fetch(cur, b, &err) > 0);
    wbuf_init(&out, WBUF_NOLIMIT);
    for (size_t r = 0; r < b->nrows; r++)
        for (size_t i = 0; i < n; i++) {
            char *t = cell(b, (int)i, r);
            wbuf_addf(&out, NULL, "%s%s", i ? "|" : r ? " " : "", t);
            free(t);
        }
    wbuf_adds(&out, " /", NULL);
    for (size_t i = 0, k = df_cursor_bad(cur, &bad); i < k; i++)
        wbuf_addf(&out, NULL, " %zu:%zu=%s", bad[i].row, bad[i].col,
                  bad[i].text);
    df_buffer_unref(b);
    df_cursor_free(cur);
    df_odbc_close(c);
    layout_free(l);
    return wbuf_detach(&out, NULL);
}

/* Integers that do not fit a narrower output column are NULL and listed
 * in collect mode, and fail the fetch otherwise (before, the driver
 * wrapped 3000000000 into -1294967296). */
static void
test_fetch_range(void **state)
{
    static const struct expr_type narrow[] = {
        {.dt = EXPR_DT_I4},  {.dt = EXPR_DT_I2},    {.dt = EXPR_DT_BOOL},
        {.dt = EXPR_DT_UI1}, {.dt = EXPR_DT_NTEXT}, {.dt = EXPR_DT_UI8},
    };
    struct fx *f = *state;
    struct werr err = {0};
    struct df_odbc *c;
    struct df_cursor *cur;
    struct df_layout *l;
    struct df_buffer *b;
    char *got;

    sq(f->db, "CREATE TABLE wide (id INTEGER, big BIGINT, num NUMERIC(12,2),"
              " flag INTEGER, small SMALLINT, note TEXT);"
              "INSERT INTO wide VALUES (1, 3000000000, 12.75, 2, 255, 'a');"
              "INSERT INTO wide VALUES (2, -5, 70000, 0, 256, 'b');"
              "INSERT INTO wide VALUES (3, NULL, -1e3, NULL, -1, NULL);"
              "INSERT INTO wide VALUES (4, -2147483648, 'abc', -1, 0, 'd');");
    /* Blocks of rows (no unbounded column), checked a column at a
     * time. */
    got = fetch_all(f, "SELECT big, num, flag, small FROM wide ORDER BY id",
                    narrow, 4);
    assert_string_equal(got, "NULL|12|True|255 -5|NULL|False|NULL "
                             "NULL|-1000|NULL|NULL "
                             "-2147483648|NULL|True|0 / "
                             "0:0=3000000000 1:1=70000 3:1=abc 1:3=256 "
                             "2:3=-1");
    free(got);
    /* A row at a time (TEXT is unbounded); unsigned 64 bits. */
    got = fetch_all(f,
                    "SELECT id, big, num, flag, note, big FROM wide "
                    "ORDER BY id",
                    narrow, 6);
    assert_string_equal(got, "1|NULL|True|2|a|3000000000 "
                             "2|-5|True|0|b|NULL 3|NULL|True|NULL|NULL|NULL "
                             "4|NULL|NULL|NULL|d|NULL / "
                             "0:1=3000000000 1:5=-5 3:1=-2147483648 "
                             "3:2=abc 3:3=-1 3:5=-2147483648");
    free(got);
    /* Without collect mode the value fails the fetch, named. */
    c = df_odbc_connect(f->odbc, &err);
    l = layout_new(narrow, 1, 10);
    b = df_buffer_new(l);
    cur =
        df_cursor_open(c, "SELECT big FROM wide ORDER BY id", NULL, 0, 0, &err);
    assert_non_null(cur);
    df_cursor_bind(cur, 0, 0, &narrow[0]);
    assert_int_equal(df_cursor_fetch(cur, b, &err), -1);
    assert_string_equal(
        err.msg, "column 'big': the value 3000000000 does not fit DT_I4");
    df_buffer_unref(b);
    df_cursor_free(cur);
    df_odbc_close(c);
    layout_free(l);
}

static const struct expr_type load_types[] = {
    {.dt = EXPR_DT_I4},
    {.dt = EXPR_DT_STR, .length = 20, .codepage = 1252},
    {.dt = EXPR_DT_NUMERIC, .precision = 10, .scale = 2},
    {.dt = EXPR_DT_DBTIMESTAMP},
    {.dt = EXPR_DT_BOOL},
};

/* A buffer of n rows: id i+1, name "row<i>" (NULL for i == 1), amount
 * i.50, a day, ok on even rows. */
static struct df_buffer *
load_buffer(struct df_layout *l, size_t n)
{
    struct df_buffer *b = df_buffer_new(l);
    struct werr err;

    for (size_t i = 0; i < n; i++) {
        char name[16], amount[16];
        struct expr_value v;
        snprintf(name, sizeof(name), "row%zu", i);
        snprintf(amount, sizeof(amount), "%zu.50", i);
        ((int32_t *)b->cols[0].data)[i] = (int32_t)(i + 1);
        b->cols[0].nulls[i] = 0;
        df_buffer_set_str(b, 1, i, name, strlen(name));
        b->cols[1].nulls[i] = i == 1;
        assert_int_equal(expr_value_parse(amount, strlen(amount),
                                          &load_types[2], &v, &err), 0);
        assert_int_equal(df_buffer_set_value(b, 2, i, &v, &err), 0);
        assert_int_equal(expr_value_parse("2024-03-15 10:00:00", 19,
                                          &load_types[3], &v, &err), 0);
        assert_int_equal(df_buffer_set_value(b, 3, i, &v, &err), 0);
        ((uint8_t *)b->cols[4].data)[i] = i % 2 == 0;
        b->cols[4].nulls[i] = 0;
    }
    b->nrows = n;
    return b;
}

static void
load_into(struct fx *f, const char *table, bool fast, bool keep,
          int64_t commit_rows, size_t nrows)
{
    static const char *names[] = {"id", "name", "amount", "day", "ok"};
    static const int slots[] = {0, 1, 2, 3, 4};
    struct df_db_target t = {.odbc = f->odbc, .table = table,
                             .names = names, .types = load_types, .ncols = 5,
                             .commit_rows = commit_rows,
                             .keep_nulls = keep, .keep_identity = keep,
                             .no_fast_path = !fast};
    struct df_layout *l = layout_new(load_types, 5, nrows);
    struct df_buffer *b = load_buffer(l, nrows);
    struct werr err = {0};
    struct df_db_loader *ld = df_db_loader_open(&t, &err);

    assert_non_null(ld);
    assert_string_equal(df_db_loader_path(ld), fast ? "SQLite" : "ODBC");
    assert_int_equal(df_db_loader_write(ld, b, slots, NULL, 0, &err), 0);
    assert_int_equal(df_db_loader_finish(ld, &err), 0);
    df_db_loader_free(ld);
    df_buffer_unref(b);
    layout_free(l);
}

static void
load(struct fx *f, bool fast, int64_t commit_rows, size_t nrows)
{
    load_into(f, "[dbo].[loaded]", fast, false, commit_rows, nrows);
}

/* FastLoadKeepNulls and KeepIdentity false: row 2's NULL name takes the
 * default, and the rowid alias is left to SQLite (after 100), on the
 * SQLite path and over ODBC alike (SQLite's driver reports no identity:
 * the ODBC path asks PRAGMA table_info as the fast path does).  Kept,
 * the rows go in as they are. */
static void
test_load_keep(void **state)
{
    struct fx *f = *state;
    char *rows;

    for (int fast = 0; fast < 2; fast++) {
        sq(f->db, "DROP TABLE IF EXISTS kept;"
                  "CREATE TABLE kept (id INTEGER PRIMARY KEY, name "
                  "VARCHAR(20) DEFAULT 'none', amount NUMERIC(10,2), "
                  "day TIMESTAMP, ok BIT DEFAULT 1);"
                  "INSERT INTO kept (id) VALUES (100)");
        load_into(f, "kept", fast, false, 0, 3);
        rows = sq_rows(f->db, "SELECT id, name, ok FROM kept ORDER BY id");
        assert_string_equal(rows, "100|none|1\n101|row0|1\n"
                                  "102|none|0\n103|row2|1");
        free(rows);
        sq(f->db, "DELETE FROM kept WHERE id <> 100");
        load_into(f, "kept", fast, true, 0, 3);
        rows = sq_rows(f->db, "SELECT id, name, ok FROM kept ORDER BY id");
        assert_string_equal(rows, "1|row0|1\n2|NULL|0\n3|row2|1\n"
                                  "100|none|1");
        free(rows);
    }
}

/* Two fast-load destinations on one SQLite file, each with its own
 * transaction open (commit size 0) at once: both stage their rows and
 * move them at their commit, so neither waits for the other's lock (the
 * second used to wait 30 s and fail with "database is locked").  A
 * refused row rolls back its own loader's transaction only; NULLs of
 * columns with defaults (KeepNulls false) make runs of their own. */
static void
test_load_shared_file(void **state)
{
    static const char *names[] = {"id", "name", "amount", "day", "ok"};
    static const int slots[] = {0, 1, 2, 3, 4};
    struct fx *f = *state;
    struct df_db_target ta = {.odbc = f->odbc, .table = "low",
                              .names = names, .types = load_types,
                              .ncols = 5},
                        tb = ta;
    struct df_layout *l = layout_new(load_types, 5, 4);
    struct df_buffer *b = load_buffer(l, 4);
    struct werr err = {0};
    struct df_db_loader *la, *lb;
    char *rows;

    sq(f->db, "CREATE TABLE low (id INTEGER PRIMARY KEY, name VARCHAR(20) "
              "DEFAULT 'none', amount NUMERIC(10,2), day TIMESTAMP, ok BIT);"
              "CREATE TABLE high (id INTEGER NOT NULL, name VARCHAR(20) "
              "NOT NULL, amount NUMERIC(10,2), day TIMESTAMP, ok BIT);");
    tb.table = "high";
    tb.keep_nulls = tb.keep_identity = true;
    la = df_db_loader_open(&ta, &err);
    lb = df_db_loader_open(&tb, &err);
    assert_non_null(la);
    assert_non_null(lb);
    static const uint32_t even[] = {0, 2}, odd[] = {1, 3}, last[] = {3};
    assert_int_equal(df_db_loader_write(la, b, slots, even, 2, &err), 0);
    assert_int_equal(df_db_loader_write(lb, b, slots, last, 1, &err), 0);
    assert_int_equal(df_db_loader_write(la, b, slots, odd, 2, &err), 0);
    assert_int_equal(df_db_loader_finish(lb, &err), 0);
    assert_int_equal(df_db_loader_finish(la, &err), 0);
    rows = sq_rows(f->db, "SELECT id, name, ok FROM low ORDER BY id");
    assert_string_equal(rows, "1|row0|1\n2|row2|1\n3|none|0\n4|row3|0");
    free(rows);
    rows = sq_rows(f->db, "SELECT id, name FROM high");
    assert_string_equal(rows, "4|row3");
    free(rows);
    /* Row 1's NULL name is refused by high: only lb's transaction goes. */
    assert_int_equal(df_db_loader_write(lb, b, slots, odd, 2, &err), 0);
    assert_int_equal(df_db_loader_write(la, b, slots, last, 1, &err), 0);
    assert_int_equal(df_db_loader_finish(lb, &err), -1);
    assert_non_null(strstr(err.msg, "NOT NULL"));
    df_db_loader_rollback(lb);
    assert_int_equal(df_db_loader_finish(la, &err), 0);
    rows = sq_rows(f->db, "SELECT count(*) FROM high");
    assert_string_equal(rows, "1");
    free(rows);
    rows = sq_rows(f->db, "SELECT count(*), max(id) FROM low");
    assert_string_equal(rows, "5|5");
    free(rows);
    df_db_loader_free(la);
    df_db_loader_free(lb);
    df_buffer_unref(b);
    layout_free(l);
}

static void
check_loaded(struct fx *f, size_t nrows)
{
    char *rows = sq_rows(f->db, "SELECT count(*), sum(id), "
                                "count(name), sum(ok) FROM loaded");
    char want[64];

    snprintf(want, sizeof(want), "%zu|%zu|%zu|%zu", nrows,
             nrows * (nrows + 1) / 2, nrows - 1, (nrows + 1) / 2);
    assert_string_equal(rows, want);
    free(rows);
    rows = sq_rows(f->db, "SELECT id, name, amount, day, ok FROM loaded "
                          "WHERE id <= 2 ORDER BY id");
    assert_string_equal(rows, "1|row0|0.5|2024-03-15 10:00:00|1\n"
                              "2|NULL|1.5|2024-03-15 10:00:00|0");
    free(rows);
}

static void
test_load_sqlite(void **state)
{
    struct fx *f = *state;

    sq(f->db, "CREATE TABLE loaded (id INTEGER NOT NULL, name VARCHAR(20), "
              "amount NUMERIC(10,2), day TIMESTAMP, ok BIT)");
    load(f, true, 3, 10);
    check_loaded(f, 10);
    sq(f->db, "DELETE FROM loaded");
    load(f, false, 0, 2500);
    check_loaded(f, 2500);
}

static void
test_load_errors(void **state)
{
    static const char *names[] = {"id", "nope"};
    static const int slots[] = {0, 1};
    struct fx *f = *state;
    struct df_db_target t = {.odbc = f->odbc, .table = "missing",
                             .names = names, .types = load_types, .ncols = 2};
    struct werr err = {0};
    struct df_layout *l;
    struct df_buffer *b;
    struct df_db_loader *ld;

    assert_null(df_db_loader_open(&t, &err));
    assert_non_null(strstr(err.msg, "no such table"));
    /* The ODBC driver may only find out at the first insert. */
    t.no_fast_path = true;
    l = layout_new(load_types, 5, 3);
    b = load_buffer(l, 3);
    ld = df_db_loader_open(&t, &err);
    if (ld) {
        assert_int_equal(df_db_loader_write(ld, b, slots, NULL, 0, &err), -1);
        df_db_loader_free(ld);
    }
    assert_non_null(strstr(err.msg, "missing"));
    /* A NOT NULL column refuses the row; a rollback keeps what was
     * committed before. */
    sq(f->db, "CREATE TABLE strict (id INTEGER NOT NULL, nope TEXT NOT NULL)");
    t.table = "strict";
    t.no_fast_path = false;
    ld = df_db_loader_open(&t, &err);
    assert_non_null(ld);
    uint32_t first = 0, second = 1;
    assert_int_equal(df_db_loader_write(ld, b, slots, &first, 1, &err), 0);
    assert_int_equal(df_db_loader_finish(ld, &err), 0);
    assert_int_equal(df_db_loader_write(ld, b, slots, &second, 1, &err), -1);
    assert_non_null(strstr(err.msg, "NOT NULL"));
    df_db_loader_rollback(ld);
    df_db_loader_free(ld);
    char *rows = sq_rows(f->db, "SELECT id, nope FROM strict");
    assert_string_equal(rows, "1|row0");
    free(rows);
    df_buffer_unref(b);
    layout_free(l);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_civil),
        cmocka_unit_test_setup_teardown(test_fetch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_params_and_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_sqlite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_keep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_shared_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
