/*
 * The Data Flow task (Microsoft.Pipeline): runs the task's pipeline with
 * the data flow engine (src/dataflow), which it gives a `struct df_host`
 * made of this run: events become the task's events (errors through
 * rt_error, so they count), variables are the run's store seen from the
 * task, connections the run's managers with overrides and ConnectionString
 * expressions applied, and cancel is the run's.
 *
 * The engine calls the host one call at a time (dataflow.h), each with
 * the run lock taken back (blocking_end/begin are rt_blocking_end/begin).
 * Variables read by expressions evaluated in the engine's threads go
 * through `vars`, which the engine does not wrap: its calls take the run
 * lock themselves.  Those are made by the engine's threads, which never
 * hold the lock otherwise, so taking it there cannot deadlock.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "dataflow/dataflow.h"
#include "runtime/conn.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

struct bridge {
    struct rt_run *run;
    const struct pkg_executable *e;
    struct df_host host;
    struct expr_host vars;
    struct rt_value last; /* the value get_var returned last */
    int errors;
    /* Managers of the project, which have no pkg_connection: made up
     * for the engine from the run's, freed with the bridge. */
    struct pkg_connection *stubs[64];
    size_t nstubs;
    /* File paths handed to the engine, as weir opens them. */
    char **paths;
    size_t npaths, cap_paths;
};

static void
b_emit(void *ctx, const struct df_event *ev)
{
    struct bridge *b = ctx;
    const char *who = ev->component ? ev->component : b->e->name;

    switch (ev->kind) {
    case DF_EV_ERROR:
        b->errors++;
        rt_error(b->run, b->e, ev->code, "%s: %s", who, ev->message);
        break;
    case DF_EV_WARNING:
        rt_emit(b->run, b->e, RT_EV_WARNING, "%s: %s", who, ev->message);
        break;
    case DF_EV_PROGRESS:
        rt_progress(b->run, b->e, ev->percent, "%s", ev->message);
        break;
    case DF_EV_ROWS:
        rt_emit(b->run, b->e, RT_EV_INFORMATION, "%s", ev->message);
        break;
    default:
        rt_emit(b->run, b->e, RT_EV_INFORMATION, "%s: %s", who, ev->message);
    }
}

/* A runtime value as an expression value (strings borrowed from `v`). */
static int
to_expr(const struct rt_value *v, struct expr_value *out, struct werr *err)
{
    memset(out, 0, sizeof(*out));
    out->null = v->null;
    switch (v->vt) {
    case RT_VT_I2: case RT_VT_I4: case RT_VT_I1: case RT_VT_I8:
        out->type.dt = EXPR_DT_I8;
        out->v.i = v->n.i;
        return 0;
    case RT_VT_UI1: case RT_VT_UI2: case RT_VT_UI4: case RT_VT_UI8:
        out->type.dt = EXPR_DT_UI8;
        out->v.u = v->n.u;
        return 0;
    case RT_VT_R4: case RT_VT_R8:
        out->type.dt = EXPR_DT_R8;
        out->v.r = v->n.r;
        return 0;
    case RT_VT_BOOL:
        out->type.dt = EXPR_DT_BOOL;
        out->v.b = v->n.b;
        return 0;
    case RT_VT_OBJECT: case RT_VT_EMPTY:
        return werr_set(err, WERR_INVALID, "an %s variable has no value "
                        "the data flow can use", rt_vt_name(v->vt));
    default:
        out->type.dt = EXPR_DT_WSTR;
        out->v.s.p = v->s ? v->s : "";
        out->v.s.len = v->len;
        return 0;
    }
}

static int
b_get_var(void *ctx, const char *name, struct expr_value *out,
          struct werr *err)
{
    struct bridge *b = ctx;

    if (!b->run->vars)
        return werr_set(err, WERR_NOTFOUND, "no variables in this run");
    rt_value_release(&b->last);
    if (rt_vars_get(b->run->vars, b->e, name, &b->last, err) < 0)
        return -1;
    return to_expr(&b->last, out, err);
}

/* An expression value as a runtime value (released first): integers,
 * floats, booleans and strings as such, the rest as their text. */
static void
to_rt(const struct expr_value *v, struct rt_value *out)
{
    struct rt_value rv = {0};
    char text[128];

    rt_value_release(out);
    if (v->null) {
        rv.null = true;
    } else if (v->type.dt == EXPR_DT_I1 || v->type.dt == EXPR_DT_I2 ||
               v->type.dt == EXPR_DT_I4 || v->type.dt == EXPR_DT_I8) {
        rt_value_set_int(&rv, v->v.i);
    } else if (v->type.dt == EXPR_DT_UI1 || v->type.dt == EXPR_DT_UI2 ||
               v->type.dt == EXPR_DT_UI4 || v->type.dt == EXPR_DT_UI8) {
        rv.vt = RT_VT_UI8;
        rv.n.u = v->v.u;
    } else if (v->type.dt == EXPR_DT_R4 || v->type.dt == EXPR_DT_R8) {
        rv.vt = RT_VT_R8;
        rv.n.r = v->v.r;
    } else if (v->type.dt == EXPR_DT_BOOL) {
        rv.vt = RT_VT_BOOL;
        rv.n.b = v->v.b;
    } else if (v->type.dt == EXPR_DT_STR || v->type.dt == EXPR_DT_WSTR ||
               v->type.dt == EXPR_DT_TEXT || v->type.dt == EXPR_DT_NTEXT) {
        rt_value_set_str(&rv, v->v.s.p, v->v.s.len);
    } else {
        size_t n = expr_value_format(v, text, sizeof(text));
        rt_value_set_str(&rv, text, n < sizeof(text) ? n : sizeof(text) - 1);
    }
    *out = rv;
}

static int
b_set_var(void *ctx, const char *name, const struct expr_value *v,
          struct werr *err)
{
    struct bridge *b = ctx;
    struct rt_value rv = {0};
    int rc;

    if (!b->run->vars)
        return werr_set(err, WERR_NOTFOUND, "no variables in this run");
    to_rt(v, &rv);
    rc = rt_vars_set(b->run->vars, b->e, name, &rv, err);
    rt_value_release(&rv);
    return rc;
}

/* The VARIANT type a result set column of type `dt` gets. */
static int
vt_of(enum expr_dt dt)
{
    switch (dt) {
    case EXPR_DT_I1: case EXPR_DT_I2: case EXPR_DT_I4: case EXPR_DT_I8:
        return dt == EXPR_DT_I8 ? RT_VT_I8 : RT_VT_I4;
    case EXPR_DT_UI1: case EXPR_DT_UI2: case EXPR_DT_UI4: case EXPR_DT_UI8:
        return RT_VT_UI8;
    case EXPR_DT_R4: case EXPR_DT_R8:
        return RT_VT_R8;
    case EXPR_DT_BOOL:
        return RT_VT_BOOL;
    case EXPR_DT_DATE: case EXPR_DT_DBDATE: case EXPR_DT_DBTIMESTAMP:
    case EXPR_DT_DBTIMESTAMP2:
        return RT_VT_DATE;
    case EXPR_DT_NUMERIC: case EXPR_DT_DECIMAL:
        return RT_VT_DECIMAL;
    case EXPR_DT_CY:
        return RT_VT_CY;
    default:
        return RT_VT_STR;
    }
}

static int
b_set_rowset(void *ctx, const char *name, const struct df_rowset *rows,
             struct werr *err)
{
    struct bridge *b = ctx;
    struct rt_value v = {.vt = RT_VT_OBJECT};
    int rc;

    if (!b->run->vars)
        return werr_set(err, WERR_NOTFOUND, "no variables in this run");
    v.rows = rt_rowset_new(rows->ncols);
    for (size_t c = 0; c < rows->ncols; c++)
        rt_rowset_set_column(v.rows, c, rows->names[c],
                             vt_of(rows->types[c].dt));
    for (size_t r = 0; r < rows->nrows; r++) {
        struct rt_value *row = rt_rowset_add_row(v.rows);
        for (size_t c = 0; c < rows->ncols; c++)
            to_rt(&rows->cells[r * rows->ncols + c], &row[c]);
    }
    rc = rt_vars_set(b->run->vars, b->e, name, &v, err);
    rt_value_release(&v);
    return rc;
}

static const struct pkg_connection *
definition(struct bridge *b, const struct rt_conn *c)
{
    size_t n;
    const struct pkg_connection *v = pkg_connections(b->run->pkg, &n);
    struct pkg_connection *s;

    for (size_t i = 0; !c->project && i < n; i++)
        if (!strcmp(v[i].name, c->name))
            return &v[i];
    for (size_t i = 0; i < b->nstubs; i++)
        if (!strcmp(b->stubs[i]->name, c->name))
            return b->stubs[i];
    if (b->nstubs == sizeof(b->stubs) / sizeof(b->stubs[0]))
        return NULL;
    s = xcalloc(1, sizeof(*s));
    s->name = c->name;
    s->dtsid = c->dtsid;
    s->ref_id = "";
    s->creation_name = c->creation_name;
    s->connection_string = c->written;
    b->stubs[b->nstubs++] = s;
    return s;
}

static bool
is_file(const char *type)
{
    return !strcasecmp(type, "FLATFILE") || !strcasecmp(type, "FILE") ||
           !strcasecmp(type, "MULTIFLATFILE");
}

/* A file manager's path as weir opens it (pkg_path_linux), kept until
 * the bridge goes.  A Windows path is passed on as written: validation
 * may see a loop variable's design-time value, and the component refuses
 * the path if it is still the one when the data flow runs. */
static const char *
file_path(struct bridge *b, const char *written)
{
    char *p;

    if (!(p = pkg_path_linux(written, b->run->package_dir)))
        return written;
    XGROW(b->paths, b->npaths + 1, b->cap_paths);
    return b->paths[b->npaths++] = p;
}

static int
b_connection(void *ctx, const char *ref, struct df_conn *out,
             struct werr *err)
{
    struct bridge *b = ctx;
    struct rt_conn *c;

    if (!b->run->conns || !(c = rt_conns_find(b->run->conns, ref)))
        return werr_set(err, WERR_NOTFOUND,
                        "there is no connection manager '%s'", ref);
    if (b->run->vars &&
        rt_conn_eval_expression(c, b->run->vars, b->e, err) < 0)
        return -1;
    out->cm = definition(b, c);
    if (!out->cm)
        return werr_set(err, WERR_LIMIT, "too many project connection "
                        "managers in one data flow");
    if (!strcasecmp(c->creation_name, "CACHE")) {
        /* The rows live with the run's managers, from one data flow to
         * the next; the string is the cache file, if any. */
        out->cache = &c->cache;
        out->string = *c->written ? file_path(b, c->written) : "";
    } else if (is_file(c->creation_name)) {
        out->string = file_path(b, c->written);
    } else if (!(out->string = c->odbc)) {
        return werr_set(err, WERR_INVALID,
                        "connection manager '%s' cannot be used: %s",
                        c->name, c->why_not ? c->why_not : "no string");
    }
    return 0;
}

static bool
b_canceled(void *ctx)
{
    struct bridge *b = ctx;

    return rt_canceled(b->run);
}

static void
b_blocking_begin(void *ctx)
{
    struct bridge *b = ctx;

    rt_blocking_begin(b->run);
}

static void
b_blocking_end(void *ctx)
{
    struct bridge *b = ctx;

    rt_blocking_end(b->run);
}

/* Variable references in the engine's expressions: resolved as seen from
 * the task, under the run lock (the engine calls these without it). */
static int
v_resolve(void *ctx, const struct expr_ref *ref, struct expr_binding *out,
          struct werr *err)
{
    struct bridge *b = ctx;
    struct rt_vars *vs = b->run->vars;
    const struct pkg_executable *saved;
    int rc;

    if (!vs)
        return werr_set(err, WERR_NOTFOUND, "no variables in this run");
    rt_blocking_end(b->run);
    saved = vs->compiling;
    vs->compiling = b->e;
    rc = rt_vars_expr_host()->resolve(vs, ref, out, err);
    vs->compiling = saved;
    rt_blocking_begin(b->run);
    return rc;
}

static int
v_get(void *ctx, void *handle, struct expr_value *out, struct werr *err)
{
    struct bridge *b = ctx;
    int rc;

    rt_blocking_end(b->run);
    rc = rt_vars_expr_host()->get(b->run->vars, handle, out, err);
    rt_blocking_begin(b->run);
    return rc;
}

static void
bridge_init(struct bridge *b, struct rt_run *run,
            const struct pkg_executable *e)
{
    memset(b, 0, sizeof(*b));
    b->run = run;
    b->e = e;
    b->vars.resolve = v_resolve;
    b->vars.get = v_get;
    b->vars.ctx = b;
    b->host = (struct df_host){
        .ctx = b,
        .emit = b_emit,
        .vars = &b->vars,
        .get_var = b_get_var,
        .set_var = b_set_var,
        .connection = b_connection,
        .set_rowset = b_set_rowset,
        .canceled = b_canceled,
        .blocking_begin = b_blocking_begin,
        .blocking_end = b_blocking_end,
        .validate_external = run->validate_external,
    };
}

static void
bridge_release(struct bridge *b)
{
    for (size_t i = 0; i < b->nstubs; i++)
        free(b->stubs[i]);
    for (size_t i = 0; i < b->npaths; i++)
        free(b->paths[i]);
    free(b->paths);
    rt_value_release(&b->last);
}

static int
dataflow_validate(struct rt_run *run, const struct pkg_executable *e,
                  struct wbuf *problems)
{
    struct bridge b;
    int n;

    bridge_init(&b, run, e);
    n = df_validate(e, &b.host, problems);
    bridge_release(&b);
    return n;
}

/* The task's property expressions on the pipeline's properties, evaluated
 * for this execution as df_host.overrides wants them; NULL after an error
 * raised from `e`.  Freed with free_overrides. */
static char **
overrides(struct rt_run *run, const struct pkg_executable *e)
{
    char **o = xcalloc(2 * e->nexpressions + 1, sizeof(char *));
    size_t n = 0;

    for (size_t i = 0; i < e->nexpressions; i++) {
        const char *name = e->expressions[i].property;
        char *value;
        if (!strcasecmp(name, "Disable") || !rt_prop_applied(e, name))
            continue;
        if (rt_prop_text(run, e, name, &value) < 0) {
            for (size_t k = 0; k < n; k++)
                free(o[k]);
            free(o);
            return NULL;
        }
        o[n++] = xstrdup(name);
        o[n++] = value;
    }
    return o;
}

static void
free_overrides(char **o)
{
    for (char **p = o; p && *p; p++)
        free(*p);
    free(o);
}

static enum rt_result
dataflow_execute(struct rt_run *run, const struct pkg_executable *e)
{
    enum rt_result r = RT_SUCCESS;
    struct bridge b;
    struct werr err = {0};
    char **o = overrides(run, e);

    if (!o)
        return RT_FAILURE;
    bridge_init(&b, run, e);
    b.host.overrides = (const char *const *)o;
    if (df_run(e, &b.host, &err) < 0) {
        if (err.code == WERR_UNAVAILABLE && !strcmp(err.msg, "canceled")) {
            r = RT_CANCELED;
        } else {
            if (!b.errors)
                rt_error(run, e, RT_E_DATAFLOW, "%s", err.msg);
            r = RT_FAILURE;
        }
    }
    bridge_release(&b);
    free_overrides(o);
    return r;
}

const struct rt_task_ops rt_dataflow_ops = {
    .type = "Microsoft.Pipeline",
    .validate = dataflow_validate,
    .execute = dataflow_execute,
};
