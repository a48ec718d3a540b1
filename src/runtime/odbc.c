/*
 * The ODBC layer (conn.h): connect, run one batch with bound input
 * parameters, fetch a typed result set, and turn diagnostics into text.
 *
 * Values are read with SQLGetData in a loop, so long text and binary
 * columns of any length are read whole (bounded by the rowset limits).
 * Column types come from SQLDescribeCol: integers as Int64 (or UInt64 for
 * unsigned columns), floats as Double, decimals and numerics as text (no
 * precision lost), bit as Boolean, dates and times as ISO text, binary as
 * bytes, everything else as text.  Parameters are bound by the value's
 * type (SQL_C_SBIGINT, SQL_C_DOUBLE, SQL_C_BIT, text for the rest), which
 * every driver tested converts to the column's type.
 *
 * One environment per connection keeps the layer free of global state;
 * connections are opened per task.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sql.h>
#include <sqlext.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "odbc/odbc_diag.h"
#include "runtime/conn.h"

/* Bytes of cell data a result set may hold; a full result set lives in
 * memory (an Object variable), so it must be bounded. */
#define ROWSET_MAX_BYTES ((size_t)512 << 20)
#define NO_DIAG "the ODBC driver gave no diagnostic"
/* get_long's answer for a cell past the limits (not an ODBC code). */
#define TOO_BIG ((SQLRETURN)-100)

struct rt_odbc {
    SQLHENV env;
    SQLHDBC dbc;
    /* The statement running now, for rt_odbc_cancel from another thread
     * (SQLCancel is the one ODBC call made for that). */
    pthread_mutex_t mu;
    SQLHSTMT running;
};

/* The handle's records after what `diag` holds; a message saying there
 * are none rather than an empty one. */
static void
diag_add(SQLSMALLINT type, SQLHANDLE h, struct wbuf *diag)
{
    if (!odbc_diag_append(type, h, "; ", diag) && !diag->len)
        wbuf_adds(diag, NO_DIAG, NULL);
}

struct rt_odbc *
rt_odbc_connect(const char *odbc, int login_timeout_s, struct wbuf *diag)
{
    struct rt_odbc *c = xcalloc(1, sizeof(*c));
    SQLRETURN r;

    pthread_mutex_init(&c->mu, NULL);
    if (!SQL_SUCCEEDED(
            SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &c->env)) ||
        !SQL_SUCCEEDED(SQLSetEnvAttr(c->env, SQL_ATTR_ODBC_VERSION,
                                     (SQLPOINTER)SQL_OV_ODBC3, 0)) ||
        !SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_DBC, c->env, &c->dbc))) {
        wbuf_adds(diag, "cannot initialise the ODBC driver manager", NULL);
        goto fail;
    }
    if (login_timeout_s > 0)
        SQLSetConnectAttr(c->dbc, SQL_ATTR_LOGIN_TIMEOUT,
                          (SQLPOINTER)(intptr_t)login_timeout_s, 0);
    r = SQLDriverConnect(c->dbc, NULL, (SQLCHAR *)odbc, SQL_NTS, NULL, 0, NULL,
                         SQL_DRIVER_NOPROMPT);
    if (!SQL_SUCCEEDED(r)) {
        diag_add(SQL_HANDLE_DBC, c->dbc, diag);
        SQLFreeHandle(SQL_HANDLE_DBC, c->dbc);
        c->dbc = NULL;
        goto fail;
    }
    return c;
fail:
    rt_odbc_close(c);
    return NULL;
}

void
rt_odbc_close(struct rt_odbc *c)
{
    if (!c)
        return;
    if (c->dbc) {
        SQLDisconnect(c->dbc);
        SQLFreeHandle(SQL_HANDLE_DBC, c->dbc);
    }
    if (c->env)
        SQLFreeHandle(SQL_HANDLE_ENV, c->env);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void
rt_odbc_cancel(struct rt_odbc *c)
{
    pthread_mutex_lock(&c->mu);
    if (c->running)
        SQLCancel(c->running);
    pthread_mutex_unlock(&c->mu);
}

static void
set_running(struct rt_odbc *c, SQLHSTMT st)
{
    pthread_mutex_lock(&c->mu);
    c->running = st;
    pthread_mutex_unlock(&c->mu);
}

/* The value of `key` in an ODBC connection string (braces removed), or
 * NULL; the caller frees. */
static char *
odbc_key(const char *s, const char *key)
{
    size_t klen = strlen(key);

    while (*s) {
        while (*s == ' ' || *s == ';')
            s++;
        const char *eq = strchr(s, '=');
        if (!eq)
            return NULL;
        bool hit = (size_t)(eq - s) == klen && !strncasecmp(s, key, klen);
        const char *v = eq + 1, *end;
        if (*v == '{') {
            end = strchr(v + 1, '}');
            end = end ? end : v + strlen(v);
            if (hit)
                return xstrndup(v + 1, (size_t)(end - v - 1));
            s = *end ? end + 1 : end;
        } else {
            end = v + strcspn(v, ";");
            if (hit)
                return xstrndup(v, (size_t)(end - v));
            s = end;
        }
        s += *s == ';';
    }
    return NULL;
}

/* True if the driver manager lists the driver `name`. */
static bool
driver_listed(SQLHENV env, const char *name)
{
    SQLCHAR desc[256], attrs[2048];
    SQLSMALLINT dlen, alen;
    SQLUSMALLINT dir = SQL_FETCH_FIRST;

    while (SQL_SUCCEEDED(SQLDrivers(env, dir, desc, sizeof(desc), &dlen, attrs,
                                    sizeof(attrs), &alen))) {
        if (!strcasecmp((char *)desc, name))
            return true;
        dir = SQL_FETCH_NEXT;
    }
    return false;
}

int
rt_odbc_check_driver(const char *odbc, struct wbuf *why)
{
    char *driver = odbc_key(odbc, "Driver");
    SQLHENV env = NULL;
    int rc = 0;

    /* A DSN or a driver given by its library path is the driver
     * manager's business at connect time. */
    if (!driver || strchr(driver, '/'))
        goto out;
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env)) ||
        !SQL_SUCCEEDED(SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION,
                                     (SQLPOINTER)SQL_OV_ODBC3, 0)))
        goto out;
    if (!driver_listed(env, driver)) {
        wbuf_addf(why, NULL,
                  "the ODBC driver '%s' is not installed (odbcinst -q -d "
                  "lists those that are)",
                  driver);
        rc = -1;
    }
out:
    if (env)
        SQLFreeHandle(SQL_HANDLE_ENV, env);
    free(driver);
    return rc;
}

/* ---- parameters ---- */

struct bound {
    SQLLEN ind;
    union {
        SQLBIGINT i;
        double d;
        unsigned char b;
    } n;
    char *text; /* input text, or the output buffer */
};

/* Output parameters come back as text into a buffer of this size. */
#define OUT_BYTES 8000
/* The output buffer starts with this byte and the indicator at 0: a
 * driver that sets the parameter overwrites the buffer (at least its
 * NUL).  The indicator cannot hold a sentinel: drivers read negative
 * values as data-at-execution lengths. */
#define OUT_UNSET '\x01'

static SQLRETURN
bind_output(SQLHSTMT st, SQLUSMALLINT i, struct bound *b)
{
    SQLRETURN r;

    b->text = xcalloc(1, OUT_BYTES + 1);
    b->text[0] = OUT_UNSET;
    b->ind = 0;
    r = SQLBindParameter(st, i, SQL_PARAM_OUTPUT, SQL_C_CHAR, SQL_VARCHAR,
                         OUT_BYTES, 0, b->text, OUT_BYTES + 1, &b->ind);
    return r;
}

/* After the statement's results are read, output values are final.  A
 * driver without output parameters leaves them alone: that is an error,
 * not an empty value. */
static int
read_outputs(struct rt_value *params, const bool *is_out, size_t n,
             const struct bound *b, struct wbuf *diag)
{
    for (size_t i = 0; is_out && i < n; i++) {
        if (!is_out[i])
            continue;
        if (b[i].ind == 0 && b[i].text[0] == OUT_UNSET) {
            wbuf_addf(diag, NULL,
                      "the driver set no value for output parameter %zu "
                      "(the %zuth marker): it may not support output "
                      "parameters",
                      i, i + 1);
            return -1;
        }
        if (b[i].ind == SQL_NULL_DATA) {
            rt_value_release(&params[i]);
            params[i].vt = RT_VT_STR;
            params[i].null = true;
            continue;
        }
        size_t len = b[i].ind < 0 || b[i].ind > OUT_BYTES ? strlen(b[i].text)
                                                          : (size_t)b[i].ind;
        rt_value_set_str(&params[i], b[i].text, len);
    }
    return 0;
}

static SQLRETURN
bind_one(SQLHSTMT st, SQLUSMALLINT i, const struct rt_value *v, struct bound *b)
{
    SQLSMALLINT c = SQL_C_CHAR, sql = SQL_VARCHAR;
    SQLPOINTER p;
    SQLULEN size = 0;

    b->ind = 0;
    if (v->null || v->vt == RT_VT_EMPTY) {
        b->ind = SQL_NULL_DATA;
        return SQLBindParameter(st, i, SQL_PARAM_INPUT, SQL_C_CHAR, SQL_VARCHAR,
                                1, 0, NULL, 0, &b->ind);
    }
    switch (v->vt) {
    case RT_VT_I1:
    case RT_VT_I2:
    case RT_VT_I4:
    case RT_VT_I8:
    case RT_VT_UI1:
    case RT_VT_UI2:
    case RT_VT_UI4:
        b->n.i = v->n.i;
        c = SQL_C_SBIGINT, sql = v->vt == RT_VT_I8 ? SQL_BIGINT : SQL_INTEGER;
        p = &b->n.i;
        break;
    case RT_VT_R4:
    case RT_VT_R8:
        b->n.d = v->n.r;
        c = SQL_C_DOUBLE, sql = SQL_DOUBLE;
        p = &b->n.d;
        break;
    case RT_VT_BOOL:
        b->n.b = v->n.b;
        c = SQL_C_BIT, sql = SQL_BIT;
        p = &b->n.b;
        break;
    default:
        b->text = rt_value_text(v);
        b->ind = (SQLLEN)strlen(b->text);
        size = b->ind ? (SQLULEN)b->ind : 1;
        if (v->vt == RT_VT_DATE)
            sql = SQL_TYPE_TIMESTAMP, size = 27;
        else if (v->vt == RT_VT_DECIMAL || v->vt == RT_VT_CY)
            sql = SQL_NUMERIC, size = 38;
        p = b->text;
    }
    return SQLBindParameter(st, i, SQL_PARAM_INPUT, c, sql, size,
                            sql == SQL_TYPE_TIMESTAMP ? 7 : 0, p,
                            b->ind > 0 ? b->ind : 0, &b->ind);
}

/* ---- results ---- */

static int
vt_of(SQLSMALLINT sqltype, SQLSMALLINT is_unsigned)
{
    switch (sqltype) {
    case SQL_TINYINT:
    case SQL_SMALLINT:
    case SQL_INTEGER:
    case SQL_BIGINT:
        return is_unsigned ? RT_VT_UI8 : RT_VT_I8;
    case SQL_REAL:
    case SQL_FLOAT:
    case SQL_DOUBLE:
        return RT_VT_R8;
    case SQL_DECIMAL:
    case SQL_NUMERIC:
        return RT_VT_DECIMAL;
    case SQL_BIT:
        return RT_VT_BOOL;
    case SQL_TYPE_DATE:
    case SQL_TYPE_TIMESTAMP:
    case SQL_DATE:
    case SQL_TIMESTAMP:
        return RT_VT_DATE;
    case SQL_BINARY:
    case SQL_VARBINARY:
    case SQL_LONGVARBINARY:
        return RT_VT_BINARY;
    }
    return RT_VT_STR;
}

/* Reads a text or binary cell whole, chunk by chunk. */
static SQLRETURN
get_long(SQLHSTMT st, SQLUSMALLINT col, SQLSMALLINT ctype, struct rt_value *v,
         size_t *bytes)
{
    struct wbuf b;
    char chunk[8192];
    SQLLEN ind;
    SQLRETURN r;
    size_t term = ctype == SQL_C_CHAR ? 1 : 0;

    wbuf_init(&b, ROWSET_MAX_BYTES);
    for (;;) {
        r = SQLGetData(st, col, ctype, chunk, sizeof(chunk), &ind);
        if (r == SQL_NO_DATA)
            break;
        if (!SQL_SUCCEEDED(r))
            goto out;
        if (ind == SQL_NULL_DATA) {
            v->null = true;
            break;
        }
        size_t got = ind == SQL_NO_TOTAL || (size_t)ind > sizeof(chunk) - term
                         ? sizeof(chunk) - term
                         : (size_t)ind;
        if (*bytes + got > ROWSET_MAX_BYTES ||
            wbuf_add(&b, chunk, got, NULL) < 0) {
            r = TOO_BIG;
            goto out;
        }
        *bytes += got;
        if (r == SQL_SUCCESS)
            break;
    }
    r = SQL_SUCCESS;
    if (!v->null) {
        v->len = b.len;
        v->s = wbuf_detach(&b, NULL);
    }
out:
    wbuf_release(&b);
    return r;
}

static SQLRETURN
get_cell(SQLHSTMT st, SQLUSMALLINT col, int vt, struct rt_value *v,
         size_t *bytes)
{
    SQLLEN ind = 0;
    SQLRETURN r;

    v->vt = vt;
    if (vt == RT_VT_I8)
        r = SQLGetData(st, col, SQL_C_SBIGINT, &v->n.i, 0, &ind);
    else if (vt == RT_VT_UI8)
        r = SQLGetData(st, col, SQL_C_UBIGINT, &v->n.u, 0, &ind);
    else if (vt == RT_VT_R8)
        r = SQLGetData(st, col, SQL_C_DOUBLE, &v->n.r, 0, &ind);
    else if (vt == RT_VT_BOOL) {
        unsigned char bit = 0;
        r = SQLGetData(st, col, SQL_C_BIT, &bit, 0, &ind);
        v->n.b = bit != 0;
    } else
        return get_long(st, col, vt == RT_VT_BINARY ? SQL_C_BINARY : SQL_C_CHAR,
                        v, bytes);
    if (SQL_SUCCEEDED(r) && ind == SQL_NULL_DATA)
        v->null = true;
    *bytes += sizeof(*v);
    return r;
}

static struct rt_rowset *
describe(SQLHSTMT st, SQLSMALLINT ncols)
{
    struct rt_rowset *rs = rt_rowset_new((size_t)ncols);

    for (SQLUSMALLINT c = 1; c <= (SQLUSMALLINT)ncols; c++) {
        SQLCHAR name[256] = "";
        SQLSMALLINT nlen, type = SQL_VARCHAR, digits, nullable;
        SQLULEN size;
        SQLLEN uns = SQL_FALSE;
        SQLDescribeCol(st, c, name, sizeof(name), &nlen, &type, &size, &digits,
                       &nullable);
        SQLColAttribute(st, c, SQL_DESC_UNSIGNED, NULL, 0, NULL, &uns);
        rt_rowset_set_column(rs, c - 1, (char *)name,
                             vt_of(type, uns == SQL_TRUE));
    }
    return rs;
}

static int
fetch_rows(SQLHSTMT st, SQLSMALLINT ncols, struct rt_rowset **out,
           struct wbuf *diag)
{
    struct rt_rowset *rs = describe(st, ncols);
    size_t bytes = 0;
    SQLRETURN r;

    while (SQL_SUCCEEDED(r = SQLFetch(st))) {
        struct rt_value *row = rt_rowset_add_row(rs);
        if (!row)
            goto too_big;
        for (SQLSMALLINT c = 0; c < ncols; c++) {
            r = get_cell(st, (SQLUSMALLINT)(c + 1), rs->types[c], &row[c],
                         &bytes);
            if (r == TOO_BIG)
                goto too_big;
            if (!SQL_SUCCEEDED(r))
                goto fail;
        }
    }
    if (r != SQL_NO_DATA)
        goto fail;
    *out = rs;
    return 0;
too_big:
    wbuf_addf(diag, NULL,
              "the result set is larger than weir keeps in "
              "memory (%zu MiB or %zu rows)",
              ROWSET_MAX_BYTES >> 20, rs->nrows);
    rt_rowset_unref(rs);
    return -1;
fail:
    diag_add(SQL_HANDLE_STMT, st, diag);
    rt_rowset_unref(rs);
    return -1;
}

/* Reads every result of the statement, keeping the first result set. */
static int
drain(SQLHSTMT st, struct rt_rowset **rows, struct wbuf *diag)
{
    SQLRETURN r;

    do {
        SQLSMALLINT ncols = 0;
        SQLNumResultCols(st, &ncols);
        if (ncols > 0 && rows && !*rows) {
            if (fetch_rows(st, ncols, rows, diag) < 0)
                return -1;
        } else if (ncols > 0) {
            while (SQL_SUCCEEDED(r = SQLFetch(st)))
                ;
            if (r != SQL_NO_DATA) {
                diag_add(SQL_HANDLE_STMT, st, diag);
                return -1;
            }
        }
        r = SQLMoreResults(st);
    } while (SQL_SUCCEEDED(r));
    if (r != SQL_NO_DATA) {
        diag_add(SQL_HANDLE_STMT, st, diag);
        return -1;
    }
    return 0;
}

static int
bind_all(SQLHSTMT st, struct rt_value *params, const bool *is_out, size_t n,
         struct bound *b, struct wbuf *diag)
{
    for (size_t i = 0; i < n; i++) {
        SQLUSMALLINT at = (SQLUSMALLINT)(i + 1);
        SQLRETURN r = is_out && is_out[i] ? bind_output(st, at, &b[i])
                                          : bind_one(st, at, &params[i], &b[i]);
        if (!SQL_SUCCEEDED(r)) {
            diag_add(SQL_HANDLE_STMT, st, diag);
            return -1;
        }
    }
    return 0;
}

int
rt_odbc_exec(struct rt_odbc *c, const char *sql, struct rt_value *params,
             const bool *is_out, size_t nparams, int timeout_s,
             struct rt_rowset **rows, struct wbuf *diag)
{
    SQLHSTMT st = NULL;
    struct bound *b = xcalloc(nparams + 1, sizeof(*b));
    SQLRETURN r;
    int rc = -1;

    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, c->dbc, &st))) {
        diag_add(SQL_HANDLE_DBC, c->dbc, diag);
        goto out;
    }
    /* Drivers that cannot time out say so with a warning; the statement
     * then runs without one, as SSIS does. */
    if (timeout_s > 0)
        SQLSetStmtAttr(st, SQL_ATTR_QUERY_TIMEOUT,
                       (SQLPOINTER)(intptr_t)timeout_s, 0);
    if (bind_all(st, params, is_out, nparams, b, diag) < 0)
        goto out;
    set_running(c, st);
    r = SQLExecDirect(st, (SQLCHAR *)sql, SQL_NTS);
    if (r == SQL_NO_DATA)
        rc = 0;
    else if (!SQL_SUCCEEDED(r))
        diag_add(SQL_HANDLE_STMT, st, diag);
    else
        rc = drain(st, rows, diag);
    if (rc == 0)
        rc = read_outputs(params, is_out, nparams, b, diag);
    else if (is_out && memchr(is_out, true, nparams) &&
             !strcmp(diag->buf, NO_DIAG))
        wbuf_adds(diag,
                  " (output parameters are bound: the driver may not "
                  "support output parameters)",
                  NULL);
out:
    if (st) {
        set_running(c, NULL);
        SQLFreeHandle(SQL_HANDLE_STMT, st);
    }
    for (size_t i = 0; i < nparams; i++)
        free(b[i].text);
    free(b);
    return rc;
}

/* ---- batches and markers ---- */

static bool
is_go_line(const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
        n--;
    return n == 2 && (p[0] == 'G' || p[0] == 'g') &&
           (p[1] == 'O' || p[1] == 'o');
}

static bool
is_blank(const char *s)
{
    return !s[strspn(s, " \t\r\n;")];
}

static void
push_batch(char ***v, size_t *n, size_t *cap, const char *p, size_t len)
{
    char *s = xstrndup(p, len);

    if (is_blank(s)) {
        free(s);
        return;
    }
    XGROW(*v, *n + 2, *cap);
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

char **
rt_sql_batches(const char *sql)
{
    char **v = xcalloc(1, sizeof(*v));
    size_t n = 0, cap = 1;
    const char *start = sql, *line = sql;

    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (is_go_line(line, len)) {
            push_batch(&v, &n, &cap, start, (size_t)(line - start));
            start = nl ? nl + 1 : line + len;
        }
        line = nl ? nl + 1 : line + len;
    }
    push_batch(&v, &n, &cap, start, strlen(start));
    return v;
}

void
rt_sql_batches_free(char **batches)
{
    for (char **p = batches; p && *p; p++)
        free(*p);
    free(batches);
}

size_t
rt_sql_count_markers(const char *s)
{
    size_t n = 0;

    while (*s) {
        if (*s == '\'' || *s == '"' || *s == '[') {
            char close = *s == '[' ? ']' : *s;
            for (s++; *s && *s != close; s++)
                ;
            s += *s != '\0';
        } else if (s[0] == '-' && s[1] == '-') {
            s += strcspn(s, "\n");
        } else if (s[0] == '/' && s[1] == '*') {
            const char *end = strstr(s + 2, "*/");
            s = end ? end + 2 : s + strlen(s);
        } else {
            n += *s++ == '?';
        }
    }
    return n;
}
