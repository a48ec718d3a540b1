/*
 * The data flow's ODBC access (db.h): connections, columnar fetches into
 * df_buffers, statements executed over parameter arrays.
 *
 * Fetches bind one array per column (column-wise binding) and ask for
 * CURSOR_ROWS rows per SQLFetch; each block is then copied into the
 * buffer's vectors, converting dates from ODBC's structs to ticks and
 * parsing decimals, GUIDs and times with expr.h's rules.  A column
 * without a bounded size (text, bytea, varchar(max)) cannot be bound in
 * an array of fixed-width cells: then the cursor falls back to one row
 * per fetch and SQLGetData for every column, which reads values of any
 * length.
 *
 * Statements run, fetch and end inside df_blocking_begin/_end (df_int.h):
 * when the run stops while the driver waits (a lock held elsewhere, a
 * busy database), the engine's watcher calls SQLCancel on the statement,
 * which ODBC allows from another thread for exactly this.
 *
 * The control flow has its own ODBC layer (src/runtime/odbc.c) for rowsets
 * of variants; the data flow sits below the runtime library and keeps
 * its own, typed by the columns of the pipeline.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sql.h>
#include <sqlext.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "dataflow/db.h"
#include "odbc/odbc_diag.h"

#define CURSOR_ROWS 1024
/* Widest cell bound in an array; wider columns are read with
 * SQLGetData. */
#define MAX_BOUND_BYTES 8192
/* Bytes of each cell df_odbc_rows reads (longer values are cut). */
#define ROW_CELL_BYTES 512
/* Longest value read with SQLGetData. */
#define MAX_VALUE_BYTES ((size_t)256 << 20)

struct df_odbc {
    SQLHENV env;
    SQLHDBC dbc;
    enum df_db_kind kind;
};

int
df_odbc_diag(short type, void *h, struct werr *err, const char *fmt, ...)
{
    char msg[256];
    struct wbuf b;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    wbuf_init(&b, 4096);
    wbuf_adds(&b, msg, NULL);
    odbc_diag_append(type, h, ": ", &b);
    werr_set(err, WERR_IO, "%s", b.buf);
    wbuf_release(&b);
    return -1;
}

struct df_odbc *
df_odbc_connect(const char *odbc, struct werr *err)
{
    struct df_odbc *c;

    if (df_db_kind_of(odbc) == DF_DB_SQLITE && df_db_sqlite_wait(odbc, err))
        return NULL;
    c = xcalloc(1, sizeof(*c));
    c->kind = df_db_kind_of(odbc);
    if (!SQL_SUCCEEDED(
            SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &c->env)) ||
        !SQL_SUCCEEDED(SQLSetEnvAttr(c->env, SQL_ATTR_ODBC_VERSION,
                                     (SQLPOINTER)SQL_OV_ODBC3, 0)) ||
        !SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_DBC, c->env, &c->dbc))) {
        werr_set(err, WERR_IO, "cannot initialise the ODBC driver manager");
        goto fail;
    }
    if (!SQL_SUCCEEDED(SQLDriverConnect(c->dbc, NULL, (SQLCHAR *)odbc,
                                        SQL_NTS, NULL, 0, NULL,
                                        SQL_DRIVER_NOPROMPT))) {
        df_odbc_diag(SQL_HANDLE_DBC, c->dbc, err, "cannot connect");
        SQLFreeHandle(SQL_HANDLE_DBC, c->dbc);
        c->dbc = NULL;
        goto fail;
    }
    return c;
fail:
    df_odbc_close(c);
    return NULL;
}

void
df_odbc_close(struct df_odbc *c)
{
    if (!c)
        return;
    if (c->dbc) {
        SQLDisconnect(c->dbc);
        SQLFreeHandle(SQL_HANDLE_DBC, c->dbc);
    }
    if (c->env)
        SQLFreeHandle(SQL_HANDLE_ENV, c->env);
    free(c);
}

int
df_odbc_autocommit(struct df_odbc *c, bool on, struct werr *err)
{
    SQLPOINTER v = (SQLPOINTER)(uintptr_t)(on ? SQL_AUTOCOMMIT_ON
                                               : SQL_AUTOCOMMIT_OFF);

    if (!SQL_SUCCEEDED(SQLSetConnectAttr(c->dbc, SQL_ATTR_AUTOCOMMIT, v, 0)))
        return df_odbc_diag(SQL_HANDLE_DBC, c->dbc, err,
                            "cannot set autocommit");
    return 0;
}

int
df_odbc_end(struct df_odbc *c, bool commit, struct werr *err)
{
    if (!SQL_SUCCEEDED(SQLEndTran(SQL_HANDLE_DBC, c->dbc,
                                  commit ? SQL_COMMIT : SQL_ROLLBACK)))
        return df_odbc_diag(SQL_HANDLE_DBC, c->dbc, err, "cannot %s",
                            commit ? "commit" : "roll back");
    return 0;
}

struct expr_type
df_odbc_type(short sqltype, size_t size, short digits, bool is_unsigned)
{
    struct expr_type t = {0};
    int32_t len = size > 0 && size < 0x7fffffff ? (int32_t)size : 0;

    switch (sqltype) {
    case SQL_BIT: t.dt = EXPR_DT_BOOL; break;
    case SQL_TINYINT: t.dt = is_unsigned ? EXPR_DT_UI1 : EXPR_DT_I1; break;
    case SQL_SMALLINT: t.dt = is_unsigned ? EXPR_DT_UI2 : EXPR_DT_I2; break;
    case SQL_INTEGER: t.dt = is_unsigned ? EXPR_DT_UI4 : EXPR_DT_I4; break;
    case SQL_BIGINT: t.dt = is_unsigned ? EXPR_DT_UI8 : EXPR_DT_I8; break;
    case SQL_REAL: t.dt = EXPR_DT_R4; break;
    case SQL_FLOAT:
    case SQL_DOUBLE: t.dt = EXPR_DT_R8; break;
    case SQL_DECIMAL:
    case SQL_NUMERIC:
        t.dt = EXPR_DT_NUMERIC;
        t.precision = size > 0 && size <= 38 ? (uint8_t)size : 38;
        t.scale = digits >= 0 && digits <= t.precision ? (uint8_t)digits : 0;
        break;
    case SQL_TYPE_DATE: t.dt = EXPR_DT_DBDATE; break;
    case SQL_TYPE_TIME: t.dt = EXPR_DT_DBTIME; break;
    case SQL_TYPE_TIMESTAMP:
    case SQL_DATETIME: t.dt = EXPR_DT_DBTIMESTAMP; break;
    case SQL_GUID: t.dt = EXPR_DT_GUID; break;
    case SQL_BINARY:
    case SQL_VARBINARY: t.dt = EXPR_DT_BYTES, t.length = len; break;
    case SQL_LONGVARBINARY: t.dt = EXPR_DT_IMAGE; break;
    case SQL_CHAR:
    case SQL_VARCHAR: t.dt = EXPR_DT_STR, t.length = len; break;
    case SQL_LONGVARCHAR: t.dt = EXPR_DT_TEXT; break;
    case SQL_WLONGVARCHAR: t.dt = EXPR_DT_NTEXT; break;
    default: t.dt = EXPR_DT_WSTR, t.length = len; break;
    }
    if (t.dt == EXPR_DT_STR || t.dt == EXPR_DT_TEXT)
        t.codepage = 1252;
    return t;
}

enum df_db_kind
df_odbc_dbms(struct df_odbc *c)
{
    char name[64] = "";
    SQLSMALLINT len = 0;

    if (c->kind != DF_DB_OTHER)
        return c->kind;
    if (!SQL_SUCCEEDED(
            SQLGetInfo(c->dbc, SQL_DBMS_NAME, name, sizeof(name), &len)))
        return DF_DB_OTHER;
    if (!strncasecmp(name, "SQLite", 6))
        return DF_DB_SQLITE;
    if (!strncasecmp(name, "PostgreSQL", 10))
        return DF_DB_POSTGRES;
    if (strstr(name, "SQL Server"))
        return DF_DB_SQLSERVER;
    return DF_DB_OTHER;
}

/* ---- calls that may block ---- */

static void
cancel_stmt(void *st)
{
    SQLCancel((SQLHSTMT)st);
}

static SQLRETURN
exec_direct(SQLHSTMT st, const char *sql)
{
    struct df_blocking b;
    SQLRETURN r;

    df_blocking_begin(&b, cancel_stmt, st);
    r = SQLExecDirect(st, (SQLCHAR *)sql, SQL_NTS);
    df_blocking_end(&b);
    return r;
}

/* SQLExecute, SQLFetch or SQLMoreResults on `st`, which the engine may
 * cancel while the run stops. */
static SQLRETURN
interruptible(SQLRETURN (*call)(SQLHSTMT), SQLHSTMT st)
{
    struct df_blocking b;
    SQLRETURN r;

    df_blocking_begin(&b, cancel_stmt, st);
    r = call(st);
    df_blocking_end(&b);
    return r;
}

/* ---- binding by data flow type ---- */

/* How values of a type travel through ODBC; VIA_WIDE_INT and
 * VIA_WIDE_TEXT fetch integers wider than their column and check them
 * (db_range.c). */
enum via {
    VIA_NATIVE,
    VIA_TIMESTAMP,
    VIA_TEXT,
    VIA_STRING,
    VIA_BINARY,
    VIA_WIDE_INT,
    VIA_WIDE_TEXT,
};

static enum via
via_of(enum expr_dt dt, SQLSMALLINT *ctype)
{
    switch (dt) {
    case EXPR_DT_BOOL: *ctype = SQL_C_BIT; return VIA_NATIVE;
    case EXPR_DT_I1: *ctype = SQL_C_STINYINT; return VIA_NATIVE;
    case EXPR_DT_I2: *ctype = SQL_C_SSHORT; return VIA_NATIVE;
    case EXPR_DT_I4: *ctype = SQL_C_SLONG; return VIA_NATIVE;
    case EXPR_DT_I8: *ctype = SQL_C_SBIGINT; return VIA_NATIVE;
    case EXPR_DT_UI1: *ctype = SQL_C_UTINYINT; return VIA_NATIVE;
    case EXPR_DT_UI2: *ctype = SQL_C_USHORT; return VIA_NATIVE;
    case EXPR_DT_UI4: *ctype = SQL_C_ULONG; return VIA_NATIVE;
    case EXPR_DT_UI8: *ctype = SQL_C_UBIGINT; return VIA_NATIVE;
    case EXPR_DT_R4: *ctype = SQL_C_FLOAT; return VIA_NATIVE;
    case EXPR_DT_R8: *ctype = SQL_C_DOUBLE; return VIA_NATIVE;
    case EXPR_DT_DATE:
    case EXPR_DT_DBDATE:
    case EXPR_DT_DBTIMESTAMP:
    case EXPR_DT_DBTIMESTAMP2:
    case EXPR_DT_FILETIME:
        *ctype = SQL_C_TYPE_TIMESTAMP;
        return VIA_TIMESTAMP;
    case EXPR_DT_STR:
    case EXPR_DT_WSTR:
    case EXPR_DT_TEXT:
    case EXPR_DT_NTEXT: *ctype = SQL_C_CHAR; return VIA_STRING;
    case EXPR_DT_BYTES:
    case EXPR_DT_IMAGE: *ctype = SQL_C_BINARY; return VIA_BINARY;
    default: *ctype = SQL_C_CHAR; return VIA_TEXT;
    }
}

/* ---- cursors ---- */

struct bound_col {
    int slot; /* -1: not read */
    struct expr_type type;
    enum via via;
    SQLSMALLINT ctype;
    size_t width; /* bytes per cell */
    char *cells;  /* CURSOR_ROWS cells */
    SQLLEN *ind;
};

struct df_cursor {
    SQLHSTMT st;
    enum df_db_kind kind;
    struct df_odbc_col *cols;
    struct bound_col *bound;
    size_t ncols;
    bool started, ended, long_mode, collect;
    struct df_cursor_bad *bad; /* collect mode: the last fetch's */
    size_t nbad, bad_cap;
    SQLULEN have, pos; /* rows in the fetched block, rows copied */
    size_t array;
    struct wbuf scratch;
};

size_t
df_cursor_ncols(const struct df_cursor *cur)
{
    return cur->ncols;
}

const struct df_odbc_col *
df_cursor_col(const struct df_cursor *cur, size_t i)
{
    return &cur->cols[i];
}

void
df_cursor_bind(struct df_cursor *cur, size_t i, int slot,
               const struct expr_type *type)
{
    cur->bound[i].slot = slot;
    cur->bound[i].type = *type;
}

void
df_cursor_collect(struct df_cursor *cur, bool on)
{
    cur->collect = on;
}

size_t
df_cursor_bad(const struct df_cursor *cur, const struct df_cursor_bad **bad)
{
    *bad = cur->bad;
    return cur->nbad;
}

/* Binds one input parameter from a value; `text` keeps its text. */
static SQLRETURN
bind_value(SQLHSTMT st, SQLUSMALLINT i, const struct expr_value *v,
           struct wbuf *text, SQLLEN *ind)
{
    SQLSMALLINT sql = SQL_VARCHAR;

    *ind = 0;
    if (v->null)
        *ind = SQL_NULL_DATA;
    else if (v->type.dt == EXPR_DT_BOOL)
        return SQLBindParameter(st, i, SQL_PARAM_INPUT, SQL_C_BIT, SQL_BIT, 1,
                                0, (SQLPOINTER)&v->v.b, 0, ind);
    else if (v->type.dt == EXPR_DT_R4 || v->type.dt == EXPR_DT_R8)
        return SQLBindParameter(st, i, SQL_PARAM_INPUT, SQL_C_DOUBLE,
                                SQL_DOUBLE, 15, 0, (SQLPOINTER)&v->v.r, 0, ind);
    else if (v->type.dt == EXPR_DT_I1 || v->type.dt == EXPR_DT_I2 ||
             v->type.dt == EXPR_DT_I4 || v->type.dt == EXPR_DT_I8)
        return SQLBindParameter(st, i, SQL_PARAM_INPUT, SQL_C_SBIGINT,
                                SQL_BIGINT, 19, 0, (SQLPOINTER)&v->v.i, 0, ind);
    else {
        /* The value's member has the layout of a one-row vector, but for
         * unsigned integers, which are held in 64 bits. */
        struct expr_type t = v->type;
        if (t.dt == EXPR_DT_UI1 || t.dt == EXPR_DT_UI2 || t.dt == EXPR_DT_UI4)
            t.dt = EXPR_DT_UI8;
        struct df_vec vec = {t, (void *)&v->v, NULL};
        df_db_value_text(&vec, 0, false, text);
        *ind = (SQLLEN)text->len;
    }
    return SQLBindParameter(st, i, SQL_PARAM_INPUT, SQL_C_CHAR, sql,
                            text->len ? text->len : 1, 0, text->buf,
                            (SQLLEN)text->len, ind);
}

/* Moves to the first result set that has columns. */
static int
first_result(struct df_cursor *cur, SQLRETURN r, struct werr *err)
{
    SQLSMALLINT n = 0;

    for (;;) {
        if (r == SQL_NO_DATA)
            return 0;
        if (!SQL_SUCCEEDED(r))
            return df_odbc_diag(SQL_HANDLE_STMT, cur->st, err,
                                "the statement failed");
        if (!SQL_SUCCEEDED(SQLNumResultCols(cur->st, &n)))
            return df_odbc_diag(SQL_HANDLE_STMT, cur->st, err,
                                "cannot describe the result");
        if (n > 0)
            break;
        r = interruptible(SQLMoreResults, cur->st);
    }
    cur->ncols = (size_t)n;
    cur->cols = xcalloc(cur->ncols, sizeof(*cur->cols));
    cur->bound = xcalloc(cur->ncols, sizeof(*cur->bound));
    for (SQLSMALLINT i = 0; i < n; i++) {
        struct df_odbc_col *c = &cur->cols[i];
        SQLSMALLINT nlen, nullable;
        SQLULEN size;
        SQLLEN uns = SQL_FALSE;
        if (!SQL_SUCCEEDED(SQLDescribeCol(cur->st, (SQLUSMALLINT)(i + 1),
                                          (SQLCHAR *)c->name, sizeof(c->name),
                                          &nlen, &c->sqltype, &size,
                                          &c->digits, &nullable)))
            return df_odbc_diag(SQL_HANDLE_STMT, cur->st, err,
                                "cannot describe result column %d", i + 1);
        SQLColAttribute(cur->st, (SQLUSMALLINT)(i + 1), SQL_DESC_UNSIGNED,
                        NULL, 0, NULL, &uns);
        SQLLEN autou = SQL_FALSE;
        SQLColAttribute(cur->st, (SQLUSMALLINT)(i + 1),
                        SQL_DESC_AUTO_UNIQUE_VALUE, NULL, 0, NULL, &autou);
        c->auto_unique = autou == SQL_TRUE;
        c->size = size;
        c->type = df_odbc_type(c->sqltype, size, c->digits, uns == SQL_TRUE);
        cur->bound[i].slot = -1;
    }
    return 0;
}

struct df_cursor *
df_cursor_open(struct df_odbc *c, const char *sql,
               const struct expr_value *params, size_t nparams, int timeout_s,
               struct werr *err)
{
    struct df_cursor *cur = xcalloc(1, sizeof(*cur));
    struct wbuf *texts = xcalloc(nparams ? nparams : 1, sizeof(*texts));
    SQLLEN *inds = xcalloc(nparams ? nparams : 1, sizeof(*inds));
    int rc = -1;

    wbuf_init(&cur->scratch, MAX_VALUE_BYTES);
    cur->kind = c->kind;
    for (size_t i = 0; i < nparams; i++)
        wbuf_init(&texts[i], WBUF_NOLIMIT);
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, c->dbc, &cur->st))) {
        df_odbc_diag(SQL_HANDLE_DBC, c->dbc, err, "cannot make a statement");
        goto out;
    }
    if (timeout_s > 0)
        SQLSetStmtAttr(cur->st, SQL_ATTR_QUERY_TIMEOUT,
                       (SQLPOINTER)(intptr_t)timeout_s, 0);
    for (size_t i = 0; i < nparams; i++)
        if (!SQL_SUCCEEDED(bind_value(cur->st, (SQLUSMALLINT)(i + 1),
                                      &params[i], &texts[i], &inds[i]))) {
            df_odbc_diag(SQL_HANDLE_STMT, cur->st, err,
                         "cannot bind parameter %zu", i);
            goto out;
        }
    rc = first_result(cur, exec_direct(cur->st, sql), err);
    /* The parameters are read at execution: unbind before they go. */
    SQLFreeStmt(cur->st, SQL_RESET_PARAMS);
out:
    for (size_t i = 0; i < nparams; i++)
        wbuf_release(&texts[i]);
    free(texts);
    free(inds);
    if (rc < 0) {
        df_cursor_free(cur);
        return NULL;
    }
    return cur;
}

void
df_cursor_free(struct df_cursor *cur)
{
    if (!cur)
        return;
    if (cur->st) {
        SQLCloseCursor(cur->st);
        SQLFreeHandle(SQL_HANDLE_STMT, cur->st);
    }
    for (size_t i = 0; cur->bound && i < cur->ncols; i++) {
        free(cur->bound[i].cells);
        free(cur->bound[i].ind);
    }
    free(cur->bound);
    free(cur->cols);
    free(cur->bad);
    wbuf_release(&cur->scratch);
    free(cur);
}

/* Chooses each bound column's cell; a column too wide for a cell puts the
 * cursor in long mode (one row per fetch, SQLGetData). */
static void
plan_cells(struct df_cursor *cur)
{
    for (size_t i = 0; i < cur->ncols; i++) {
        struct bound_col *bc = &cur->bound[i];
        const struct df_odbc_col *c = &cur->cols[i];
        if (bc->slot < 0)
            continue;
        bc->via = via_of(bc->type.dt, &bc->ctype);
        switch (df_wide_plan(c->type.dt, cur->kind, bc->type.dt)) {
        case DF_WIDE_INT:
            bc->via = VIA_WIDE_INT, bc->ctype = SQL_C_SBIGINT;
            break;
        case DF_WIDE_TEXT:
            bc->via = VIA_WIDE_TEXT, bc->ctype = SQL_C_CHAR;
            break;
        case DF_WIDE_NONE:
            break;
        }
        switch (bc->via) {
        case VIA_WIDE_INT:
            bc->width = sizeof(int64_t);
            break;
        case VIA_WIDE_TEXT:
            bc->width = 80;
            break;
        case VIA_NATIVE: bc->width = df_type_width(bc->type.dt); break;
        case VIA_TIMESTAMP: bc->width = sizeof(SQL_TIMESTAMP_STRUCT); break;
        case VIA_TEXT: bc->width = 80; break;
        case VIA_STRING:
            /* UTF-8 takes up to 3 bytes per UTF-16 code unit. */
            bc->width = c->size * 3 + 1;
            break;
        case VIA_BINARY: bc->width = c->size; break;
        }
        if ((bc->via == VIA_STRING || bc->via == VIA_BINARY) &&
            (c->size == 0 || bc->width > MAX_BOUND_BYTES))
            cur->long_mode = true;
    }
}

static int
bind_cells(struct df_cursor *cur, struct werr *err)
{
    plan_cells(cur);
    cur->array = cur->long_mode ? 1 : CURSOR_ROWS;
    if (cur->long_mode)
        return 0;
    if (!SQL_SUCCEEDED(SQLSetStmtAttr(cur->st, SQL_ATTR_ROW_BIND_TYPE,
                                      (SQLPOINTER)SQL_BIND_BY_COLUMN, 0)) ||
        !SQL_SUCCEEDED(SQLSetStmtAttr(cur->st, SQL_ATTR_ROW_ARRAY_SIZE,
                                      (SQLPOINTER)(uintptr_t)cur->array, 0)) ||
        !SQL_SUCCEEDED(SQLSetStmtAttr(cur->st, SQL_ATTR_ROWS_FETCHED_PTR,
                                      &cur->have, 0)))
        return df_odbc_diag(SQL_HANDLE_STMT, cur->st, err,
                            "cannot fetch rows in blocks");
    for (size_t i = 0; i < cur->ncols; i++) {
        struct bound_col *bc = &cur->bound[i];
        if (bc->slot < 0)
            continue;
        bc->cells = xmalloc(bc->width * cur->array);
        bc->ind = xcalloc(cur->array, sizeof(SQLLEN));
        if (!SQL_SUCCEEDED(SQLBindCol(cur->st, (SQLUSMALLINT)(i + 1),
                                      bc->ctype, bc->cells,
                                      (SQLLEN)bc->width, bc->ind)))
            return df_odbc_diag(SQL_HANDLE_STMT, cur->st, err,
                                "cannot bind column '%s'", cur->cols[i].name);
    }
    return 0;
}

static int64_t
ts_ticks(const SQL_TIMESTAMP_STRUCT *ts)
{
    struct df_civil c = {ts->year, ts->month, ts->day, ts->hour,
                         ts->minute, ts->second, ts->fraction / 100};

    return df_civil_to_ticks(&c);
}

/* A value of column `i` that its type cannot hold (text `p`, `len`
 * bytes): NULL and listed in collect mode, else an error. */
static int
bad_value(struct df_cursor *cur, size_t i, struct df_buffer *b, size_t row,
          const char *p, size_t len, struct werr *err)
{
    struct bound_col *bc = &cur->bound[i];
    struct df_cursor_bad *k;
    char tname[32];

    if (!cur->collect) {
        expr_type_format(&bc->type, tname, sizeof(tname));
        return werr_set(
            err, WERR_INVALID, "column '%s': the value %.*s does not fit %s",
            cur->cols[i].name, (int)(len < 40 ? len : 40), p, tname);
    }
    b->cols[bc->slot].nulls[row] = 1;
    if (cur->nbad == cur->bad_cap) {
        cur->bad_cap = cur->bad_cap ? 2 * cur->bad_cap : 16;
        cur->bad = xrealloc(cur->bad, cur->bad_cap * sizeof(*cur->bad));
    }
    k = &cur->bad[cur->nbad++];
    k->row = row, k->col = i;
    if (len >= sizeof(k->text))
        len = sizeof(k->text) - 1;
    memcpy(k->text, p, len);
    k->text[len] = '\0';
    return 0;
}

/* Stores a value fetched wider than its column (VIA_WIDE_*). */
static int
store_wide(struct df_cursor *cur, size_t i, struct df_buffer *b, size_t row,
           const char *p, SQLLEN len, struct werr *err)
{
    struct bound_col *bc = &cur->bound[i];
    struct df_vec *v = &b->cols[bc->slot];
    char text[24];
    int64_t x;

    if (bc->via == VIA_WIDE_TEXT) {
        /* No number is that long: a cut text is not parsed. */
        if (len > (SQLLEN)bc->width - 1)
            len = (SQLLEN)bc->width - 1;
        else if (df_wide_store_text(v, row, p, (size_t)len) == 0)
            return 0;
        return bad_value(cur, i, b, row, p, (size_t)len, err);
    }
    memcpy(&x, p, sizeof(x));
    if (df_wide_store_int(v, row, x) == 0)
        return 0;
    snprintf(text, sizeof(text), "%lld", (long long)x);
    return bad_value(cur, i, b, row, text, strlen(text), err);
}

/* Stores one cell (`p`, `len` bytes, or SQL_NULL_DATA) at row `row`. */
static int
store(struct df_cursor *cur, size_t i, struct df_buffer *b, size_t row,
      const char *p, SQLLEN len, struct werr *err)
{
    struct bound_col *bc = &cur->bound[i];
    struct df_vec *v = &b->cols[bc->slot];
    size_t w = df_type_width(bc->type.dt);
    struct expr_value val;

    v->nulls[row] = len == SQL_NULL_DATA;
    if (len == SQL_NULL_DATA)
        return 0;
    switch (bc->via) {
    case VIA_NATIVE:
        memcpy((char *)v->data + row * w, p, w);
        return 0;
    case VIA_WIDE_INT:
    case VIA_WIDE_TEXT:
        return store_wide(cur, i, b, row, p, len, err);
    case VIA_TIMESTAMP: {
        int64_t t = ts_ticks((const SQL_TIMESTAMP_STRUCT *)p);
        if (bc->type.dt == EXPR_DT_DBDATE)
            t -= t % (INT64_C(86400) * EXPR_TICKS_PER_SEC);
        ((int64_t *)v->data)[row] = t;
        return 0;
    }
    case VIA_STRING:
    case VIA_BINARY:
        df_buffer_set_str(b, bc->slot, row, p, (size_t)len);
        return 0;
    case VIA_TEXT:
        if (expr_value_parse(p, (size_t)len, &bc->type, &val, err) < 0)
            return werr_prefix(err, "column '%s'", cur->cols[i].name);
        return df_buffer_set_value(b, bc->slot, row, &val, err);
    }
    return 0;
}

/* Reads column `i` of the current row with SQLGetData (long mode). */
static int
get_cell(struct df_cursor *cur, size_t i, struct df_buffer *b, size_t row,
         struct werr *err)
{
    struct bound_col *bc = &cur->bound[i];
    char cell[sizeof(SQL_TIMESTAMP_STRUCT) + 96];
    SQLLEN ind = 0;
    SQLRETURN r;

    if (bc->via != VIA_STRING && bc->via != VIA_BINARY) {
        r = SQLGetData(cur->st, (SQLUSMALLINT)(i + 1), bc->ctype, cell,
                       sizeof(cell), &ind);
        if (!SQL_SUCCEEDED(r))
            return df_odbc_diag(SQL_HANDLE_STMT, cur->st, err,
                                "cannot read column '%s'", cur->cols[i].name);
        if ((bc->via == VIA_TEXT || bc->via == VIA_WIDE_TEXT) &&
            ind >= (SQLLEN)sizeof(cell))
            ind = sizeof(cell) - 1;
        return store(cur, i, b, row, cell, ind, err);
    }
    wbuf_reset(&cur->scratch);
    for (;;) {
        char chunk[4096];
        r = SQLGetData(cur->st, (SQLUSMALLINT)(i + 1), bc->ctype, chunk,
                       sizeof(chunk), &ind);
        if (r == SQL_NO_DATA)
            break;
        if (!SQL_SUCCEEDED(r))
            return df_odbc_diag(SQL_HANDLE_STMT, cur->st, err,
                                "cannot read column '%s'", cur->cols[i].name);
        if (ind == SQL_NULL_DATA)
            return store(cur, i, b, row, NULL, SQL_NULL_DATA, err);
        size_t room = sizeof(chunk) - (bc->via == VIA_STRING);
        size_t got = ind == SQL_NO_TOTAL || (size_t)ind > room ? room
                                                               : (size_t)ind;
        if (wbuf_add(&cur->scratch, chunk, got, err) < 0)
            return werr_prefix(err, "column '%s'", cur->cols[i].name);
        if (r == SQL_SUCCESS)
            break;
    }
    return store(cur, i, b, row, cur->scratch.buf, (SQLLEN)cur->scratch.len,
                 err);
}

/* Sets the slots nobody fetches to NULL in the new rows. */
static void
null_rest(struct df_cursor *cur, struct df_buffer *b, size_t from, size_t n)
{
    for (size_t s = 0; s < b->layout->nslots; s++) {
        bool fetched = false;
        for (size_t i = 0; i < cur->ncols && !fetched; i++)
            fetched = cur->bound[i].slot == (int)s;
        if (!fetched)
            memset(b->cols[s].nulls + from, 1, n);
    }
}

/* Copies rows of the fetched block into `b`. */
static int
copy_block(struct df_cursor *cur, struct df_buffer *b, size_t n,
           struct werr *err)
{
    for (size_t i = 0; i < cur->ncols; i++) {
        struct bound_col *bc = &cur->bound[i];
        if (bc->slot < 0)
            continue;
        for (size_t r = 0; r < n; r++) {
            size_t k = cur->pos + r;
            SQLLEN len = bc->ind[k];
            if (bc->via == VIA_STRING && len > (SQLLEN)bc->width - 1)
                len = (SQLLEN)bc->width - 1;
            if (store(cur, i, b, b->nrows + r, bc->cells + k * bc->width,
                      len, err) < 0)
                return -1;
        }
    }
    null_rest(cur, b, b->nrows, n);
    cur->pos += n;
    b->nrows += n;
    return 0;
}

static int
fetch_long(struct df_cursor *cur, struct df_buffer *b, struct werr *err)
{
    SQLRETURN r = interruptible(SQLFetch, cur->st);

    if (r == SQL_NO_DATA) {
        cur->ended = true;
        return 0;
    }
    if (!SQL_SUCCEEDED(r))
        return df_odbc_diag(SQL_HANDLE_STMT, cur->st, err,
                            "cannot fetch rows");
    for (size_t i = 0; i < cur->ncols; i++)
        if (cur->bound[i].slot >= 0 && get_cell(cur, i, b, b->nrows, err) < 0)
            return -1;
    null_rest(cur, b, b->nrows, 1);
    b->nrows++;
    return 1;
}

long
df_cursor_fetch(struct df_cursor *cur, struct df_buffer *b, struct werr *err)
{
    size_t start = b->nrows;

    cur->nbad = 0;
    if (!cur->started) {
        cur->started = true;
        if (cur->ncols == 0)
            cur->ended = true;
        else if (bind_cells(cur, err) < 0)
            return -1;
    }
    while (!cur->ended && df_buffer_room(b) > 0) {
        if (cur->long_mode) {
            if (fetch_long(cur, b, err) < 0)
                return -1;
            continue;
        }
        if (cur->pos == cur->have) {
            cur->pos = cur->have = 0;
            SQLRETURN r = interruptible(SQLFetch, cur->st);
            if (r == SQL_NO_DATA) {
                cur->ended = true;
                break;
            }
            if (!SQL_SUCCEEDED(r))
                return df_odbc_diag(SQL_HANDLE_STMT, cur->st, err,
                                    "cannot fetch rows");
        }
        size_t n = cur->have - cur->pos, room = df_buffer_room(b);
        if (copy_block(cur, b, n < room ? n : room, err) < 0)
            return -1;
    }
    return (long)(b->nrows - start);
}

int
df_odbc_rows(struct df_odbc *c, const char *sql,
             int (*fn)(void *arg, char **cells, size_t n), void *arg,
             struct werr *err)
{
    struct df_cursor *cur = df_cursor_open(c, sql, NULL, 0, 0, err);
    char **cells = NULL;
    SQLRETURN r;
    int rc = -1;

    if (!cur)
        return -1;
    cells = xcalloc(cur->ncols + 1, sizeof(*cells));
    for (size_t i = 0; i < cur->ncols; i++)
        cells[i] = xmalloc(ROW_CELL_BYTES);
    while (SQL_SUCCEEDED(r = interruptible(SQLFetch, cur->st))) {
        char *row[DF_ODBC_ROW_MAX];
        size_t n = cur->ncols < DF_ODBC_ROW_MAX ? cur->ncols : DF_ODBC_ROW_MAX;
        for (size_t i = 0; i < n; i++) {
            SQLLEN ind = 0;
            cells[i][0] = '\0';
            if (!SQL_SUCCEEDED(SQLGetData(cur->st, (SQLUSMALLINT)(i + 1),
                                          SQL_C_CHAR, cells[i], ROW_CELL_BYTES,
                                          &ind))) {
                df_odbc_diag(SQL_HANDLE_STMT, cur->st, err,
                             "cannot read column %zu", i + 1);
                goto out;
            }
            row[i] = ind == SQL_NULL_DATA ? NULL : cells[i];
        }
        if (fn(arg, row, n) < 0)
            goto out;
    }
    if (r != SQL_NO_DATA) {
        df_odbc_diag(SQL_HANDLE_STMT, cur->st, err, "cannot fetch rows");
        goto out;
    }
    rc = 0;
out:
    for (size_t i = 0; i < cur->ncols; i++)
        free(cells[i]);
    free(cells);
    df_cursor_free(cur);
    return rc;
}

/* ---- statements over parameter arrays ---- */

#define PARAM_ROWS 1024

struct df_odbc_stmt {
    SQLHSTMT st;
    const char *sql;
};

struct df_odbc_stmt *
df_odbc_prepare(struct df_odbc *c, const char *sql, struct werr *err)
{
    struct df_odbc_stmt *s = xcalloc(1, sizeof(*s));

    s->sql = sql;
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, c->dbc, &s->st))) {
        df_odbc_diag(SQL_HANDLE_DBC, c->dbc, err, "cannot make a statement");
        goto fail;
    }
    if (!SQL_SUCCEEDED(SQLPrepare(s->st, (SQLCHAR *)sql, SQL_NTS))) {
        df_odbc_diag(SQL_HANDLE_STMT, s->st, err, "cannot prepare '%s'", sql);
        goto fail;
    }
    return s;
fail:
    df_odbc_stmt_free(s);
    return NULL;
}

void
df_odbc_stmt_free(struct df_odbc_stmt *s)
{
    if (!s)
        return;
    if (s->st)
        SQLFreeHandle(SQL_HANDLE_STMT, s->st);
    free(s);
}

/* One parameter's array for a chunk of rows. */
struct param_array {
    char *cells;
    size_t width;
    SQLLEN *ind;
};

static SQLSMALLINT
param_sql_type(const struct expr_type *t, SQLULEN *size, SQLSMALLINT *digits)
{
    *digits = 0;
    switch (t->dt) {
    case EXPR_DT_DATE:
    case EXPR_DT_DBTIMESTAMP:
    case EXPR_DT_DBTIMESTAMP2:
    case EXPR_DT_FILETIME:
        *size = 27, *digits = 7;
        return SQL_TYPE_TIMESTAMP;
    case EXPR_DT_DBDATE: *size = 10; return SQL_TYPE_DATE;
    case EXPR_DT_DBTIME: *size = 8; return SQL_TYPE_TIME;
    case EXPR_DT_CY: *size = 19, *digits = 4; return SQL_NUMERIC;
    case EXPR_DT_NUMERIC:
    case EXPR_DT_DECIMAL:
        *size = 38, *digits = t->scale;
        return SQL_NUMERIC;
    case EXPR_DT_GUID: *size = 36; return SQL_GUID;
    default: return SQL_VARCHAR;
    }
}

/* Fills `pa` with the values of `v` at rows[0..n) and binds it as
 * parameter `i`. */
static SQLRETURN
bind_array(SQLHSTMT st, SQLUSMALLINT i, const struct df_vec *v,
           const uint32_t *rows, size_t n, struct param_array *pa,
           struct wbuf *text)
{
    SQLSMALLINT ctype, sql = SQL_VARCHAR, digits = 0;
    enum via via = via_of(v->type.dt, &ctype);
    size_t w = df_type_width(v->type.dt);
    SQLULEN size = 0;
    size_t *ends = NULL;

    pa->ind = xcalloc(n, sizeof(SQLLEN));
    if (via == VIA_NATIVE) {
        pa->width = w;
        pa->cells = xmalloc(w * n);
        for (size_t r = 0; r < n; r++) {
            memcpy(pa->cells + r * w, (char *)v->data + rows[r] * w, w);
            pa->ind[r] = v->nulls[rows[r]] ? SQL_NULL_DATA : 0;
        }
        sql = ctype == SQL_C_BIT      ? SQL_BIT
              : ctype == SQL_C_FLOAT  ? SQL_REAL
              : ctype == SQL_C_DOUBLE ? SQL_DOUBLE
              : w == 8                ? SQL_BIGINT
                                      : SQL_INTEGER;
        return SQLBindParameter(st, i, SQL_PARAM_INPUT, ctype, sql, 0, 0,
                                pa->cells, (SQLLEN)w, pa->ind);
    }
    /* Everything else as text (binary as bytes): gathered first to learn
     * the widest value of the chunk. */
    wbuf_reset(text);
    ends = xcalloc(n, sizeof(*ends));
    for (size_t r = 0; r < n; r++) {
        if (!v->nulls[rows[r]])
            df_db_value_text(v, rows[r], false, text);
        ends[r] = text->len;
    }
    pa->width = 1;
    for (size_t r = 0, start = 0; r < n; start = ends[r++])
        if (ends[r] - start + 1 > pa->width)
            pa->width = ends[r] - start + 1;
    pa->cells = xcalloc(n, pa->width);
    for (size_t r = 0, start = 0; r < n; start = ends[r++]) {
        memcpy(pa->cells + r * pa->width, text->buf + start, ends[r] - start);
        pa->ind[r] = v->nulls[rows[r]] ? SQL_NULL_DATA
                                        : (SQLLEN)(ends[r] - start);
    }
    free(ends);
    if (via == VIA_BINARY) {
        sql = SQL_VARBINARY, size = pa->width;
        ctype = SQL_C_BINARY;
    } else {
        ctype = SQL_C_CHAR;
        sql = param_sql_type(&v->type, &size, &digits);
        if (sql == SQL_VARCHAR)
            size = pa->width;
    }
    return SQLBindParameter(st, i, SQL_PARAM_INPUT, ctype, sql, size, digits,
                            pa->cells, (SQLLEN)pa->width, pa->ind);
}

static int
exec_chunk(struct df_odbc_stmt *s, const struct df_buffer *b,
           const int *params, size_t nparams, const uint32_t *rows, size_t n,
           struct werr *err)
{
    struct param_array *pa = xcalloc(nparams ? nparams : 1, sizeof(*pa));
    struct wbuf text;
    int rc = -1;

    wbuf_init(&text, WBUF_NOLIMIT);
    SQLFreeStmt(s->st, SQL_RESET_PARAMS);
    if (!SQL_SUCCEEDED(SQLSetStmtAttr(s->st, SQL_ATTR_PARAM_BIND_TYPE,
                                      (SQLPOINTER)SQL_PARAM_BIND_BY_COLUMN,
                                      0)) ||
        !SQL_SUCCEEDED(SQLSetStmtAttr(s->st, SQL_ATTR_PARAMSET_SIZE,
                                      (SQLPOINTER)(uintptr_t)n, 0))) {
        df_odbc_diag(SQL_HANDLE_STMT, s->st, err,
                     "the driver cannot bind parameter arrays");
        goto out;
    }
    for (size_t i = 0; i < nparams; i++)
        if (!SQL_SUCCEEDED(bind_array(s->st, (SQLUSMALLINT)(i + 1),
                                      &b->cols[params[i]], rows, n, &pa[i],
                                      &text))) {
            df_odbc_diag(SQL_HANDLE_STMT, s->st, err,
                         "cannot bind parameter %zu", i + 1);
            goto out;
        }
    SQLRETURN r = interruptible(SQLExecute, s->st);
    if (!SQL_SUCCEEDED(r) && r != SQL_NO_DATA) {
        df_odbc_diag(SQL_HANDLE_STMT, s->st, err, "'%s' failed", s->sql);
        goto out;
    }
    while (SQL_SUCCEEDED(interruptible(SQLMoreResults, s->st)))
        ;
    SQLFreeStmt(s->st, SQL_CLOSE);
    rc = 0;
out:
    SQLFreeStmt(s->st, SQL_RESET_PARAMS);
    for (size_t i = 0; i < nparams; i++) {
        free(pa[i].cells);
        free(pa[i].ind);
    }
    free(pa);
    wbuf_release(&text);
    return rc;
}

int
df_odbc_exec_rows(struct df_odbc_stmt *s, const struct df_buffer *b,
                  const int *params, size_t nparams, const uint32_t *rows,
                  size_t n, struct werr *err)
{
    uint32_t all[PARAM_ROWS];

    if (!rows)
        n = b->nrows;
    for (size_t done = 0; done < n;) {
        size_t k = n - done < PARAM_ROWS ? n - done : PARAM_ROWS;
        const uint32_t *chunk = rows ? rows + done : all;
        if (!rows)
            for (size_t r = 0; r < k; r++)
                all[r] = (uint32_t)(done + r);
        if (exec_chunk(s, b, params, nparams, chunk, k, err) < 0)
            return -1;
        done += k;
    }
    return 0;
}
