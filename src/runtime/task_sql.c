/*
 * The Execute SQL task (Microsoft.ExecuteSQLTask, shared DTSX.md §5.2).
 *
 * The payload (SQLTask:SqlTaskData) is read from the task's ObjectData
 * each time it is needed: it is small, and the package model stays free
 * of task-specific structures.  The statement text comes from the task
 * (DirectInput), a string variable (Variable) or a .sql file named by a
 * FILE connection manager (FileConnection, relative to the project
 * folder).  It is split into T-SQL batches at GO lines, which run in
 * order on one connection.  Parameters are bound in order to the `?`
 * markers of the batches: bindings are sorted by their ordinal
 * ParameterName ("0", "1"...).  ADO.NET connections use named markers
 * instead; each "@Name" in the text that matches a binding's
 * ParameterName becomes a `?` bound to that binding, in order of
 * appearance, so one name may be used several times; with IsStoredProc
 * the text is a procedure name, called through the ODBC escape.  Input
 * values are converted to the binding's declared DataType; Output and
 * ReturnValue values are stored into their variables after the batches.
 *
 * Results: None ignores result sets; SingleRow binds the first row of the
 * first result set to variables by column name or ordinal (no row is an
 * error, as in SSIS); Rowset (full result set) stores the first result
 * set in an Object variable bound with ResultName "0".  XML results are
 * refused at validation.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "base/wfile.h"
#include "base/wtime.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "runtime/conn.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

#define NS_SQLTASK "www.microsoft.com/sqlserver/dts/tasks/sqltask"
#define SQL_FILE_MAX (16u << 20)
#define LOGIN_TIMEOUT_S 30

enum source_type { SRC_DIRECT, SRC_FILE, SRC_VARIABLE };
enum result_type { RES_NONE, RES_SINGLE, RES_ROWSET, RES_XML };
enum direction { DIR_INPUT, DIR_OUTPUT, DIR_RETURN };

struct binding {
    char *name, *var;
    enum direction dir;
    long ordinal;  /* -1 when the name is not a number */
    int data_type; /* DataType as written; -1 when absent */
};

struct sqltask {
    char *connection, *source;
    enum source_type source_type;
    enum result_type result_type;
    int timeout_s;
    bool stored_proc; /* IsStoredProc (ADO.NET) */
    struct binding *params, *results;
    size_t nparams, nresults;
    char *problem; /* the payload could not be read */
};

static char *
attr(const xmlNode *n, const char *name)
{
    xmlChar *v =
        xmlGetNsProp(n, (const xmlChar *)name, (const xmlChar *)NS_SQLTASK);
    char *s = xstrdup(v ? (const char *)v : "");

    xmlFree(v);
    return s;
}

static bool
is_sql(const xmlNode *n, const char *local)
{
    return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           !strcmp((const char *)n->ns->href, NS_SQLTASK) &&
           !strcmp((const char *)n->name, local);
}

static int
pick(const char *v, const char *const *names, int def)
{
    if (!*v)
        return def;
    for (int i = 0; names[i]; i++)
        if (!strcasecmp(v, names[i]))
            return i;
    return -1;
}

static void
add_binding(struct binding **v, size_t *n, const xmlNode *c, bool param)
{
    static const char *const dirs[] = {"Input", "Output", "ReturnValue", NULL};
    struct binding *b;
    char *dir, *end;

    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    b = &(*v)[(*n)++];
    b->name = attr(c, param ? "ParameterName" : "ResultName");
    b->var = attr(c, "DtsVariableName");
    dir = attr(c, "ParameterDirection");
    b->dir = param ? (enum direction)pick(dir, dirs, DIR_INPUT) : DIR_INPUT;
    errno = 0;
    b->ordinal = strtol(b->name, &end, 10);
    if (!*b->name || *end || errno || b->ordinal < 0)
        b->ordinal = -1;
    free(dir);
    dir = attr(c, "DataType");
    errno = 0;
    b->data_type = *dir ? (int)strtol(dir, &end, 10) : -1;
    if (!*dir || *end || errno)
        b->data_type = -1;
    free(dir);
}

static void
read_settings(struct sqltask *t, const xmlNode *d)
{
    static const char *const srcs[] = {"DirectInput", "FileConnection",
                                       "Variable", NULL};
    static const char *const res[] = {
        "ResultSetType_None", "ResultSetType_SingleRow", "ResultSetType_Rowset",
        "ResultSetType_XML", NULL};
    char *st = attr(d, "SqlStmtSourceType"), *rt = attr(d, "ResultType");
    char *to = attr(d, "TimeOut"), *end;
    long timeout;
    int s = pick(st, srcs, SRC_DIRECT), r = pick(rt, res, RES_NONE);

    errno = 0;
    timeout = *to ? strtol(to, &end, 10) : 0;
    if (s < 0)
        t->problem = xasprintf("unknown SqlStmtSourceType '%.60s'", st);
    else if (r < 0)
        t->problem = xasprintf("unknown ResultType '%.60s'", rt);
    else if ((*to && (*end || errno)) || timeout < 0 || timeout > 86400 * 365)
        t->problem =
            xasprintf("TimeOut '%.60s' is not a number of seconds", to);
    t->source_type = s < 0 ? SRC_DIRECT : (enum source_type)s;
    t->result_type = r < 0 ? RES_NONE : (enum result_type)r;
    t->timeout_s = (int)timeout;
    free(to);
    to = attr(d, "IsStoredProc");
    t->stored_proc = !strcasecmp(to, "True");
    free(st);
    free(rt);
    free(to);
}

static bool
has_property(const struct pkg_executable *e, const char *property)
{
    for (size_t i = 0; i < e->nexpressions; i++)
        if (!strcasecmp(e->expressions[i].property, property))
            return true;
    return false;
}

static void
sqltask_read(struct sqltask *t, const struct pkg_executable *e)
{
    const xmlNode *d = NULL;

    memset(t, 0, sizeof(*t));
    for (const xmlNode *c = e->object_data ? e->object_data->children : NULL;
         c && !d; c = c->next)
        if (is_sql(c, "SqlTaskData"))
            d = c;
    if (!d) {
        t->problem = xstrdup("the task has no SQLTask:SqlTaskData settings");
        t->connection = xstrdup("");
        t->source = xstrdup("");
        return;
    }
    t->connection = attr(d, "Connection");
    t->source = attr(d, "SqlStatementSource");
    read_settings(t, d);
    for (const xmlNode *c = d->children; c; c = c->next) {
        if (is_sql(c, "ParameterBinding"))
            add_binding(&t->params, &t->nparams, c, true);
        else if (is_sql(c, "ResultBinding"))
            add_binding(&t->results, &t->nresults, c, false);
    }
}

static void
bindings_free(struct binding *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].var);
    }
    free(v);
}

static void
sqltask_release(struct sqltask *t)
{
    free(t->connection);
    free(t->source);
    free(t->problem);
    bindings_free(t->params, t->nparams);
    bindings_free(t->results, t->nresults);
}

/* ---- validation ---- */

static bool
is_adonet(const struct rt_conn *c)
{
    return !strncasecmp(c->creation_name, "ADO.NET:", 8);
}

static int
check_driver(const struct pkg_executable *e, const struct rt_conn *c,
             struct wbuf *out)
{
    struct wbuf why;
    int n = 0;

    wbuf_init(&why, 1024);
    if (rt_odbc_check_driver(c->odbc, &why) < 0)
        n = rt_problem(out, e,
                    "connection manager '%s'%s: %s; install it or give "
                    "another connection string with --connection '%s=...' "
                    "or the parameter CM.%s.ConnectionString",
                    c->name,
                    c->overridden ? "" : " (its stored string, mapped to ODBC)",
                    why.buf, c->name, c->name);
    wbuf_release(&why);
    return n;
}

static int
check_connection(struct rt_run *run, const struct pkg_executable *e,
                 const struct sqltask *t, struct wbuf *out)
{
    const struct rt_conn *c;

    if (!*t->connection)
        return rt_problem(out, e, "the task has no connection manager");
    if (!(c = rt_conns_find(run->conns, t->connection)))
        return rt_problem(out, e,
                       "connection manager '%s' is not in the package or "
                       "the project",
                       t->connection);
    if (!c->odbc)
        return rt_problem(out, e,
                       "connection manager '%s' cannot be used: %s; give "
                       "its ODBC connection string with --connection "
                       "'%s=...' or the parameter CM.%s.ConnectionString",
                       c->name, c->why_not, c->name, c->name);
    if (check_driver(e, c, out))
        return 1;
    if (t->source_type == SRC_FILE) {
        const struct rt_conn *f = rt_conns_find(run->conns, t->source);
        if (!f)
            return rt_problem(out, e,
                           "the SQL file connection manager '%s' is not in "
                           "the package or the project",
                           t->source);
        if (strcasecmp(f->creation_name, "FILE"))
            return rt_problem(out, e,
                           "connection manager '%s' is a %s connection "
                           "manager, not a FILE one naming a .sql file",
                           f->name, f->creation_name);
        if (pkg_path_is_windows(f->written))
            return rt_problem(out, e,
                           "the SQL file '%s' of connection manager '%s' is "
                           "a Windows path: give a Linux path with "
                           "--connection '%s=PATH'",
                           f->written, f->name, f->name);
    }
    return 0;
}

static int
check_var(struct rt_run *run, const struct pkg_executable *e, const char *what,
          const char *var, struct wbuf *out)
{
    if (!*var)
        return rt_problem(out, e, "%s names no variable", what);
    if (!rt_vars_exists(run->vars, e, var))
        return rt_problem(out, e, "%s: there is no variable '%s' in scope", what,
                       var);
    return 0;
}

static int
check_params(struct rt_run *run, const struct pkg_executable *e,
             const struct sqltask *t, struct wbuf *out)
{
    int n = 0;

    for (size_t i = 0; i < t->nparams; i++) {
        const struct binding *b = &t->params[i];
        char what[300];
        snprintf(what, sizeof(what), "parameter binding '%s'", b->name);
        const struct rt_var *v;
        if ((int)b->dir < 0)
            n += rt_problem(out, e,
                         "%s: ParameterDirection is not Input, Output or "
                         "ReturnValue",
                         what);
        if (check_var(run, e, what, b->var, out)) {
            n++;
            continue;
        }
        v = rt_vars_find(run->vars, e, b->var);
        if (b->dir != DIR_INPUT && (!v || v->def->read_only))
            n += rt_problem(out, e,
                         "%s: the output goes to '%s', which is not a "
                         "writable variable",
                         what, b->var);
    }
    return n;
}

static int
check_results(struct rt_run *run, const struct pkg_executable *e,
              const struct sqltask *t, struct wbuf *out)
{
    int n = 0;

    if (t->result_type == RES_XML)
        return rt_problem(out, e, "the XML result type is not supported");
    if (t->result_type != RES_NONE && !t->nresults)
        return rt_problem(out, e,
                       "the result type is %s but there is no result "
                       "binding",
                       t->result_type == RES_SINGLE ? "single row"
                                                    : "full result set");
    for (size_t i = 0; i < t->nresults; i++) {
        const struct binding *b = &t->results[i];
        char what[300];
        snprintf(what, sizeof(what), "result binding '%s'", b->name);
        if (check_var(run, e, what, b->var, out)) {
            n++;
            continue;
        }
        const struct rt_var *v = rt_vars_find(run->vars, e, b->var);
        if (t->result_type == RES_ROWSET &&
            (strcmp(b->name, "0") || (v && v->def->data_type != RT_VT_OBJECT)))
            n += rt_problem(out, e,
                         "a full result set is bound with ResultName \"0\" "
                         "to an Object variable, not '%s' to '%s'",
                         b->name, b->var);
    }
    return n;
}

static int
sql_validate(struct rt_run *run, const struct pkg_executable *e,
             struct wbuf *out)
{
    struct sqltask t;
    int n = 0;

    if (!run->conns || !run->vars)
        return rt_problem(out, e, "this run has no connections set up");
    sqltask_read(&t, e);
    if (t.problem)
        n += rt_problem(out, e, "%s", t.problem);
    else {
        n += check_connection(run, e, &t, out);
        if (t.source_type == SRC_VARIABLE)
            n += check_var(run, e, "SqlStatementSource", t.source, out);
        else if (t.source_type == SRC_DIRECT && !*t.source &&
                 !has_property(e, "SqlStatementSource"))
            n += rt_problem(out, e, "the task has no SQL statement");
        n += check_params(run, e, &t, out);
        n += check_results(run, e, &t, out);
    }
    sqltask_release(&t);
    return n;
}

/* ---- the statement ---- */

/* The SQL text, or NULL after an OnError. */
static char *
statement(struct rt_run *run, const struct pkg_executable *e,
          const struct sqltask *t)
{
    struct rt_value v = {0};
    struct werr err;
    struct wbuf b;
    const char *written;
    char *path, *text = NULL;

    if (t->source_type == SRC_DIRECT)
        return xstrdup(t->source);
    if (t->source_type == SRC_VARIABLE) {
        if (rt_vars_get(run->vars, e, t->source, &v, &err) < 0 ||
            rt_value_convert(&v, RT_VT_STR, &v, &err) < 0)
            rt_error(run, e, RT_E_SQL, "SqlStatementSource '%s': %s", t->source,
                     err.msg);
        else
            text = xstrdup(v.s);
        rt_value_release(&v);
        return text;
    }
    written = rt_conns_find(run->conns, t->source)->written;
    path = pkg_path_linux(written, run->project_dir ? run->project_dir
                                                    : run->package_dir);
    wbuf_init(&b, SQL_FILE_MAX);
    if (!path)
        rt_error(run, e, RT_E_SQL,
                 "the SQL file '%s' of connection manager '%s' is a Windows "
                 "path", written, t->source);
    else if (wfile_read(path, &b, &err) < 0)
        rt_error(run, e, RT_E_SQL,
                 "the SQL file of connection manager "
                 "'%s': %s",
                 t->source, err.msg);
    else
        text = wbuf_detach(&b, NULL);
    wbuf_release(&b);
    free(path);
    return text;
}

static int
cmp_ordinal(const void *a, const void *b)
{
    const struct binding *x = *(const struct binding *const *)a;
    const struct binding *y = *(const struct binding *const *)b;

    return (x->ordinal > y->ordinal) - (x->ordinal < y->ordinal);
}

/* The VARIANT type a binding's DataType declares, or -1 (bind by the
 * variable's type).  OLE DB's DBTYPE codes 2..21 are the VARIANT codes;
 * 129/130 are strings, 131 numeric, 133/135 dates.  ADO.NET writes
 * System.Data.DbType numbers instead. */
static int
declared_vt(const struct rt_conn *c, int dt)
{
    static const int dbtype[] = {
        [0] = RT_VT_STR,     [2] = RT_VT_UI1,  [3] = RT_VT_BOOL,
        [4] = RT_VT_CY,      [5] = RT_VT_DATE, [6] = RT_VT_DATE,
        [7] = RT_VT_DECIMAL, [8] = RT_VT_R8,   [10] = RT_VT_I2,
        [11] = RT_VT_I4,     [12] = RT_VT_I8,  [14] = RT_VT_I1,
        [15] = RT_VT_R4,     [16] = RT_VT_STR, [18] = RT_VT_UI2,
        [19] = RT_VT_UI4,    [20] = RT_VT_UI8, [22] = RT_VT_STR,
        [23] = RT_VT_STR};

    if (dt < 0)
        return -1;
    if (is_adonet(c))
        return dt < (int)(sizeof(dbtype) / sizeof(dbtype[0])) && dbtype[dt]
                   ? dbtype[dt]
                   : -1;
    if (strcasecmp(c->creation_name, "OLEDB"))
        return -1; /* ODBC: SQL type codes; bind by the variable's type */
    if ((dt >= 2 && dt <= 7) || dt == 11 || (dt >= 16 && dt <= 21) || dt == 8 ||
        dt == 14)
        return dt;
    if (dt == 129 || dt == 130 || dt == 134)
        return RT_VT_STR;
    if (dt == 131)
        return RT_VT_DECIMAL;
    return dt == 133 || dt == 135 ? RT_VT_DATE : -1;
}

/* A binding's value, converted to its declared type. */
static int
input_value(struct rt_run *run, const struct pkg_executable *e,
            const struct rt_conn *c, const struct binding *b,
            struct rt_value *out, struct werr *err)
{
    int vt;

    if (rt_vars_get(run->vars, e, b->var, out, err) < 0)
        return -1;
    vt = declared_vt(c, b->data_type);
    if (vt < 0 || out->null || vt == out->vt)
        return 0;
    if (rt_value_convert(out, vt, out, err) == 0)
        return 0;
    if (rt_vars_is_sensitive(run->vars, b->var)) /* never quote it */
        return werr_set(err, WERR_INVALID,
                        "sensitive parameter '%s' does not convert to the "
                        "declared DataType %d",
                        b->var, b->data_type);
    return werr_prefix(err, "variable '%s' as the declared DataType %d", b->var,
                       b->data_type);
}

/* Input values in marker order; NULL after an OnError. */
static struct rt_value *
input_values(struct rt_run *run, const struct pkg_executable *e,
             const struct rt_conn *c, const struct binding *const *order,
             size_t n)
{
    struct rt_value *vals = xcalloc(n + 1, sizeof(*vals));
    struct werr err;

    for (size_t i = 0; i < n; i++)
        if (order[i]->dir == DIR_INPUT &&
            input_value(run, e, c, order[i], &vals[i], &err) < 0) {
            rt_error(run, e, RT_E_SQL_RESULT, "parameter '%s': %s",
                     order[i]->name, err.msg);
            for (size_t k = 0; k <= i; k++)
                rt_value_release(&vals[k]);
            free(vals);
            return NULL;
        }
    return vals;
}

/* ADO.NET: "@Name" markers that match a binding become '?' (outside
 * quotes); `order` gets the binding of each marker. */
static char *
named_to_markers(const char *sql, const struct sqltask *t,
                 const struct binding ***order, size_t *n)
{
    struct wbuf b;
    size_t cap = 0;

    wbuf_init(&b, WBUF_NOLIMIT);
    *order = NULL;
    *n = 0;
    for (const char *s = sql; *s;) {
        if (*s == '\'') {
            size_t k = 1 + strcspn(s + 1, "'");
            k += s[k] == '\'';
            wbuf_add(&b, s, k, NULL);
            s += k;
            continue;
        }
        size_t len = 1;
        const struct binding *hit = NULL;
        if (*s == '@' && s[1] != '@') {
            while (isalnum((unsigned char)s[len]) || s[len] == '_')
                len++;
            for (size_t i = 0; i < t->nparams && !hit; i++) {
                const char *nm = t->params[i].name;
                nm += *nm == '@';
                if (strlen(nm) == len - 1 && !strncasecmp(nm, s + 1, len - 1))
                    hit = &t->params[i];
            }
        }
        if (hit) {
            XGROW(*order, *n + 1, cap);
            (*order)[(*n)++] = hit;
            wbuf_addch(&b, '?', NULL);
        } else {
            wbuf_add(&b, s, len, NULL);
        }
        s += len;
    }
    return wbuf_detach(&b, NULL);
}

struct prepared {
    char *sql;
    const struct binding **order;
    size_t n;
};

/* ADO.NET's IsStoredProc: the source is a procedure name; call it with
 * the ODBC escape, the bindings in their written order, a ReturnValue
 * binding as the result ("{? = call name(?, ?)}"). */
static void
stored_proc_call(const struct sqltask *t, char *name, struct prepared *p)
{
    struct wbuf b;
    const struct binding *ret = NULL;
    size_t k = 0;

    for (size_t i = 0; i < t->nparams; i++)
        if (t->params[i].dir == DIR_RETURN && !ret)
            ret = &t->params[i];
    p->order = xcalloc(t->nparams + 1, sizeof(*p->order));
    wbuf_init(&b, WBUF_NOLIMIT);
    wbuf_addf(&b, NULL, "{%scall %s(", ret ? "? = " : "", name);
    if (ret)
        p->order[k++] = ret;
    for (size_t i = 0; i < t->nparams; i++) {
        if (&t->params[i] == ret)
            continue;
        wbuf_adds(&b, k > (ret != NULL) ? ", ?" : "?", NULL);
        p->order[k++] = &t->params[i];
    }
    wbuf_adds(&b, ")}", NULL);
    p->n = k;
    p->sql = wbuf_detach(&b, NULL);
    free(name);
}

/* Orders the bindings by ordinal; "@Name" markers for ADO.NET. */
static int
prepare(struct rt_run *run, const struct pkg_executable *e,
        const struct sqltask *t, const struct rt_conn *c, char *sql,
        struct prepared *p)
{
    if (is_adonet(c) && t->stored_proc) {
        stored_proc_call(t, sql, p);
        return 0;
    }
    if (is_adonet(c) && t->nparams) {
        p->sql = named_to_markers(sql, t, &p->order, &p->n);
        free(sql);
        return 0;
    }
    p->sql = sql;
    p->n = t->nparams;
    p->order = xcalloc(p->n + 1, sizeof(*p->order));
    for (size_t i = 0; i < p->n; i++) {
        if (t->params[i].ordinal < 0) {
            rt_error(run, e, RT_E_SQL_RESULT,
                     "parameter binding '%s': with ? markers, parameter "
                     "names are their ordinals 0, 1, 2...",
                     t->params[i].name);
            return -1;
        }
        p->order[i] = &t->params[i];
    }
    qsort(p->order, p->n, sizeof(*p->order), cmp_ordinal);
    return 0;
}

/* ---- running ---- */

/* ---- cancel and TimeOut ---- */
/*
 * A statement blocks this thread inside the driver; the task runs it
 * without the run lock (rt_blocking_begin), so other branches go on.
 * While the statements run, a watcher thread polls the run's cancel
 * descriptor and the current batch's TimeOut, and stops the statement
 * with rt_odbc_cancel.  The TimeOut watch backs up drivers that ignore
 * SQL_ATTR_QUERY_TIMEOUT (SQLite's).  It wakes every 10 ms, which bounds
 * how late a task ends.
 */

struct watch {
    struct rt_odbc *db;
    int cancel_fd; /* the run's, or -1 */
    const struct rt_run *run;
    pthread_t th;
    bool started;
    atomic_bool stop;
    _Atomic int64_t deadline_ns; /* 0: none */
    atomic_bool timed_out;       /* the current batch's TimeOut passed */
    atomic_bool signaled;        /* the run was canceled: stop the task */
};

static void *
watch_main(void *arg)
{
    struct watch *w = arg;
    struct pollfd pfd = {.fd = w->cancel_fd, .events = POLLIN};

    while (!atomic_load(&w->stop)) {
        poll(&pfd, 1, 10);
        int64_t dl = atomic_load(&w->deadline_ns);
        if (rt_cancel_requested(w->run)) {
            atomic_store(&w->signaled, true);
            rt_odbc_cancel(w->db);
            break;
        }
        if (dl && wtime_mono_ns() >= dl) {
            atomic_store(&w->deadline_ns, 0);
            atomic_store(&w->timed_out, true);
            rt_odbc_cancel(w->db);
        }
    }
    return NULL;
}

static void
watch_start(struct watch *w, const struct rt_run *run, struct rt_odbc *db)
{
    w->db = db;
    w->run = run;
    w->cancel_fd = rt_cancel_fd(run);
    atomic_init(&w->stop, false);
    atomic_init(&w->deadline_ns, 0);
    atomic_init(&w->timed_out, false);
    atomic_init(&w->signaled, false);
    /* Without the thread the task still runs; only cancel waits. */
    w->started = pthread_create(&w->th, NULL, watch_main, w) == 0;
}

static void
watch_stop(struct watch *w)
{
    if (!w->started)
        return;
    atomic_store(&w->stop, true);
    pthread_join(w->th, NULL);
    w->started = false;
}

struct runctx {
    struct rt_run *run;
    const struct pkg_executable *e;
    const struct sqltask *t;
    const struct rt_conn *c;
    struct watch watch;
};

/* Runs one batch under the watch; reports its failure. */
static int
run_batch(struct runctx *x, struct rt_odbc *db, const char *sql,
          struct rt_value *vals, const bool *out, size_t k,
          struct rt_rowset **rows, const char *which)
{
    struct wbuf diag;
    int rc;

    wbuf_init(&diag, 8192);
    atomic_store(&x->watch.timed_out, false);
    if (x->t->timeout_s > 0)
        atomic_store(&x->watch.deadline_ns,
                     wtime_mono_ns() +
                         (int64_t)x->t->timeout_s * 1000 * WTIME_MS_NS);
    rt_blocking_begin(x->run);
    rc = rt_odbc_exec(db, sql, vals, out, k, x->t->timeout_s, rows, &diag);
    rt_blocking_end(x->run);
    atomic_store(&x->watch.deadline_ns, 0);
    if (rc < 0 && atomic_load(&x->watch.signaled))
        ; /* canceled: the engine reports it */
    else if (rc < 0 && atomic_load(&x->watch.timed_out))
        rt_error(x->run, x->e, RT_E_SQL,
                 "the query%s ran past its TimeOut of %d s on connection "
                 "manager '%s' and was canceled: %s",
                 which, x->t->timeout_s, x->c->name, diag.buf);
    else if (rc < 0)
        rt_error(x->run, x->e, RT_E_SQL,
                 "executing the query%s failed on connection manager '%s': "
                 "%s",
                 which, x->c->name, diag.buf);
    wbuf_release(&diag);
    return rc;
}

static int
run_batches(struct runctx *x, struct rt_odbc *db, const struct prepared *p,
            struct rt_value *vals, struct rt_rowset **rows)
{
    char **batches = rt_sql_batches(p->sql);
    size_t used = 0, nb = 0;
    bool *out = xcalloc(p->n + 1, sizeof(*out));
    int rc = 0;

    for (size_t i = 0; i < p->n; i++)
        out[i] = p->order[i]->dir != DIR_INPUT;
    for (char **b = batches; *b; b++, nb++)
        used += rt_sql_count_markers(*b);
    if (used != p->n) {
        rt_error(x->run, x->e, RT_E_SQL_RESULT,
                 "the statement has %zu parameter markers but %zu "
                 "parameters are bound",
                 used, p->n);
        rt_sql_batches_free(batches);
        free(out);
        return -1;
    }
    used = 0;
    for (size_t i = 0; i < nb && rc == 0 && !atomic_load(&x->watch.signaled);
         i++) {
        size_t k = rt_sql_count_markers(batches[i]);
        char which[32] = "";
        if (nb > 1)
            snprintf(which, sizeof(which), " batch %zu", i + 1);
        rc = run_batch(x, db, batches[i], k ? vals + used : NULL,
                       k ? out + used : NULL, k,
                       x->t->result_type == RES_NONE ? NULL : rows, which);
        used += k;
        if (rc == 0) {
            /* Its first line, as SSIS's progress shows a query. */
            const char *q = batches[i] + strspn(batches[i], " \t\r\n");
            int len = (int)strcspn(q, "\r\n");
            rt_progress(x->run, x->e, (int)((i + 1) * 100 / nb),
                        "Executing query \"%.*s\"", len > 60 ? 60 : len, q);
        }
    }
    rt_sql_batches_free(batches);
    free(out);
    return rc;
}

/* Output and return values into their variables. */
static int
store_outputs(struct runctx *x, const struct prepared *p,
              const struct rt_value *vals)
{
    struct werr err;

    for (size_t i = 0; i < p->n; i++) {
        const struct binding *b = p->order[i];
        if (b->dir == DIR_INPUT)
            continue;
        if (rt_vars_set(x->run->vars, x->e, b->var, &vals[i], &err) < 0) {
            rt_error(x->run, x->e, RT_E_SQL_RESULT, "output parameter '%s': %s",
                     b->name, err.msg);
            return -1;
        }
    }
    return 0;
}

static int
column_of(const struct rt_rowset *rs, const struct binding *b)
{
    if (b->ordinal >= 0)
        return b->ordinal < (long)rs->ncols ? (int)b->ordinal : -1;
    for (size_t c = 0; c < rs->ncols; c++)
        if (!strcasecmp(rs->names[c], b->name))
            return (int)c;
    return -1;
}

static int
bind_single(struct runctx *x, const struct rt_rowset *rs)
{
    struct werr err;

    if (!rs || !rs->nrows) {
        rt_error(x->run, x->e, RT_E_SQL_RESULT,
                 "single row result set is specified, but no rows were "
                 "returned: the result set is empty");
        return -1;
    }
    for (size_t i = 0; i < x->t->nresults; i++) {
        const struct binding *b = &x->t->results[i];
        int c = column_of(rs, b);
        if (c < 0) {
            rt_error(x->run, x->e, RT_E_SQL_RESULT,
                     "result binding '%s': the result set has no such "
                     "column (it has %zu)",
                     b->name, rs->ncols);
            return -1;
        }
        if (rt_vars_set(x->run->vars, x->e, b->var, &rs->cells[c], &err) < 0) {
            rt_error(x->run, x->e, RT_E_SQL_RESULT,
                     "result binding '%s' (column '%s'): %s", b->name,
                     rs->names[c], err.msg);
            return -1;
        }
    }
    return 0;
}

static int
bind_rowset(struct runctx *x, struct rt_rowset *rs)
{
    struct rt_value v = {.vt = RT_VT_OBJECT};
    struct werr err;
    int rc;

    if (!rs)
        rs = rt_rowset_new(0);
    else
        rt_rowset_ref(rs);
    v.rows = rs;
    rt_emit(x->run, x->e, RT_EV_INFORMATION,
            "the full result set has %zu rows and %zu columns", rs->nrows,
            rs->ncols);
    rc = rt_vars_set(x->run->vars, x->e, x->t->results[0].var, &v, &err);
    if (rc < 0)
        rt_error(x->run, x->e, RT_E_SQL_RESULT, "result binding '0': %s",
                 err.msg);
    rt_value_release(&v);
    return rc;
}

static enum rt_result
run_task(struct runctx *x, const struct prepared *p)
{
    struct rt_value *vals = NULL;
    struct rt_rowset *rows = NULL;
    struct rt_odbc *db = NULL;
    struct wbuf diag;
    char *odbc;
    bool canceled = false;
    int rc = -1;

    wbuf_init(&diag, 8192);
    if (p->n && !(vals = input_values(x->run, x->e, x->c, p->order, p->n)))
        goto out;
    /* Another task may re-evaluate the connection's expression while
     * this one waits without the lock: connect with a copy. */
    odbc = xstrdup(x->c->odbc);
    rt_blocking_begin(x->run);
    db = rt_odbc_connect(odbc, LOGIN_TIMEOUT_S, &diag);
    rt_blocking_end(x->run);
    free(odbc);
    if (!db) {
        rt_error(x->run, x->e, RT_E_SQL_CONNECT,
                 "cannot connect with connection manager '%s': %s", x->c->name,
                 diag.buf);
        goto out;
    }
    watch_start(&x->watch, x->run, db);
    rc = run_batches(x, db, p, vals, &rows);
    watch_stop(&x->watch);
    canceled = atomic_load(&x->watch.signaled);
    if (rc < 0 || canceled || (rc = store_outputs(x, p, vals)) < 0)
        goto out;
    if (x->t->result_type == RES_SINGLE)
        rc = bind_single(x, rows);
    else if (x->t->result_type == RES_ROWSET)
        rc = bind_rowset(x, rows);
out:
    rt_blocking_begin(x->run);
    rt_odbc_close(db); /* a disconnect may wait on the server */
    rt_blocking_end(x->run);
    rt_rowset_unref(rows);
    for (size_t i = 0; vals && i < p->n; i++)
        rt_value_release(&vals[i]);
    free(vals);
    wbuf_release(&diag);
    if (canceled && rt_canceled(x->run)) /* emits the OnWarning once */
        return RT_CANCELED;
    return rc < 0 ? RT_FAILURE : RT_SUCCESS;
}

static enum rt_result
sql_execute(struct rt_run *run, const struct pkg_executable *e)
{
    struct sqltask t;
    struct prepared p = {0};
    struct runctx x = {.run = run, .e = e, .t = &t};
    enum rt_result r = RT_FAILURE;
    char *sql;

    sqltask_read(&t, e);
    struct wbuf probs;
    wbuf_init(&probs, 1 << 16);
    /* A property expression replaces the statement (or the variable or
     * file connection that holds it), evaluated now. */
    char *from_expr = NULL;
    int prc = rt_prop_text(run, e, "SqlStatementSource", &from_expr);
    if (prc < 0)
        goto out;
    if (prc > 0) {
        free(t.source);
        t.source = from_expr;
    }
    /* The connection string may come from an expression over variables
     * that changed since validation. */
    struct rt_conn *cx = rt_conns_find(run->conns, t.connection);
    struct werr cerr;
    if (cx && run->vars &&
        rt_conn_eval_expression(cx, run->vars, pkg_root(run->pkg), &cerr) < 0) {
        rt_error(run, e, RT_E_EXPRESSION, "%s", cerr.msg);
        goto out;
    }
    /* Validation has run unless DelayValidation: check again here. */
    if (sql_validate(run, e, &probs)) {
        rt_error(run, e, RT_E_VALIDATION, "%.*s", (int)strcspn(probs.buf, "\n"),
                 probs.buf + strlen(e->path) + 2);
        goto out;
    }
    x.c = rt_conns_find(run->conns, t.connection);
    if (!(sql = statement(run, e, &t)) || prepare(run, e, &t, x.c, sql, &p) < 0)
        goto out;
    r = run_task(&x, &p);
out:
    wbuf_release(&probs);
    free(p.sql);
    free(p.order);
    sqltask_release(&t);
    return r;
}

const struct rt_task_ops rt_sql_ops = {
    .type = "Microsoft.ExecuteSQLTask",
    .validate = sql_validate,
    .execute = sql_execute,
};
