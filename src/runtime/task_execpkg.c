/*
 * The Execute Package task (Microsoft.ExecutePackageTask, shared DTSX.md
 * §5.2): runs another package of the project, or a .dtsx named by a File
 * connection manager, as a child of this run.
 *
 * The child runs in this process, with its own state, variables and
 * package parameters; the project's parameters and connection managers
 * are shared with the parent (values and overrides included), as SSIS
 * shares them.  Parameter assignments bind child package parameters to
 * the parent's variables or parameters, converted to the child
 * parameter's type when the task executes.  With ExecuteOutOfProcess the
 * child, set up and validated here all the same, runs in a `weir exec`
 * process of its own (execpkg_proc.c).
 *
 * Child packages are loaded once per execution (struct rt_project caches
 * them by file) and validated when the parent is (unless the task has
 * DelayValidation), then validated again when they run, as dtexec does.
 * A package that executes itself, directly or through others, is refused
 * by name, and RT_MAX_PACKAGE_DEPTH bounds the nesting anyway.
 *
 * The child's events go to the parent's stream, with paths under the
 * task's ("\Package\Run child\Package\Task") and a "package" member
 * naming the child's file.  Those its own handlers let go on reach the
 * parent's handlers from this task up, and its errors count here and in
 * every container above (handlers.c), as in SSIS; so the task raises no
 * error of its own for a child that failed with errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <strings.h>
#include <unistd.h>

#include <libxml/tree.h>

#include "base/wbuf.h"
#include "base/wfile.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "runtime/conn.h"
#include "runtime/execpkg.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

/* Packages executing packages, the top one included. */
#define RT_MAX_PACKAGE_DEPTH 16

/* A child package loaded once per execution. */
struct rt_child_pkg {
    char *key;   /* the archive entry or the file's absolute path */
    char *dir;   /* the child's folder (processes' working folder) */
    struct pkg *pkg;
    char *error; /* why it did not load, when pkg is NULL */
};

struct binding {
    char *param, *source;
    int line;
};

/* The task's settings (ExecutePackageTask in its ObjectData). */
struct settings {
    bool project_ref, out_of_process;
    char *package_name, *connection;
    struct binding *b;
    size_t nb, cap;
};

/* ---- settings ---- */

static bool
is_named(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static char *
text_of(const xmlNode *n)
{
    xmlChar *t = xmlNodeGetContent(n);
    char *s = xstrdup(t ? (const char *)t : "");

    xmlFree(t);
    return s;
}

static bool
is_true(const xmlNode *n)
{
    char *t = text_of(n);
    bool yes = !strcasecmp(t, "True") || !strcmp(t, "1");

    free(t);
    return yes;
}

static void
read_assignment(struct settings *s, const xmlNode *a)
{
    struct binding *b;

    XGROW(s->b, s->nb + 1, s->cap);
    b = &s->b[s->nb++];
    memset(b, 0, sizeof(*b));
    b->line = (int)xmlGetLineNo(a);
    for (const xmlNode *c = a->children; c; c = c->next) {
        if (is_named(c, "ParameterName") && !b->param)
            b->param = text_of(c);
        else if (is_named(c, "BindedVariableOrParameterName") && !b->source)
            b->source = text_of(c);
    }
}

static void
settings_release(struct settings *s)
{
    for (size_t i = 0; i < s->nb; i++) {
        free(s->b[i].param);
        free(s->b[i].source);
    }
    free(s->b);
    free(s->package_name);
    free(s->connection);
    memset(s, 0, sizeof(*s));
}

static int
settings_read(const struct pkg_executable *e, struct settings *s,
              struct werr *err)
{
    const xmlNode *t = e->object_data ? e->object_data->children : NULL;

    memset(s, 0, sizeof(*s));
    while (t && !is_named(t, "ExecutePackageTask"))
        t = t->next;
    if (!t)
        return werr_set(err, WERR_INVALID,
                        "the task has no ExecutePackageTask settings");
    for (const xmlNode *c = t->children; c; c = c->next) {
        if (is_named(c, "UseProjectReference"))
            s->project_ref = is_true(c);
        else if (is_named(c, "ExecuteOutOfProcess"))
            s->out_of_process = is_true(c);
        else if (is_named(c, "PackageName") && !s->package_name)
            s->package_name = text_of(c);
        else if (is_named(c, "Connection") && !s->connection)
            s->connection = text_of(c);
        else if (is_named(c, "ParameterAssignment"))
            read_assignment(s, c);
    }
    if (s->project_ref && (!s->package_name || !*s->package_name))
        return werr_set(err, WERR_INVALID,
                        "the task refers to a package of the project but "
                        "names none (PackageName)");
    if (!s->project_ref && (!s->connection || !*s->connection))
        return werr_set(err, WERR_INVALID,
                        "the task names no package: neither a package of "
                        "the project nor a File connection manager");
    for (size_t i = 0; i < s->nb; i++)
        if (!s->b[i].param || !*s->b[i].param || !s->b[i].source ||
            !*s->b[i].source)
            return werr_set(err, WERR_INVALID,
                            "line %d: a parameter assignment without a "
                            "ParameterName or a "
                            "BindedVariableOrParameterName",
                            s->b[i].line);
    return 0;
}

/* ---- finding and loading the child ---- */

static const char *
base_name(const char *path)
{
    const char *slash = strrchr(path, '/'), *back = strrchr(path, '\\');

    if (back && (!slash || back > slash))
        slash = back;
    return slash ? slash + 1 : path;
}

/* The .dtsx a File connection manager names, as a path on this machine:
 * a Linux path as it is (relative to the parent's folder); a Windows
 * path ("C:\Packages\Child.dtsx") by its file name, in the parent's
 * folder, then the project's. */
static char *
external_path(struct rt_run *run, const char *ref, struct werr *err)
{
    const struct rt_conn *c = run->conns ? rt_conns_find(run->conns, ref)
                                         : NULL;
    const char *w;
    char *p;

    if (!c) {
        werr_set(err, WERR_INVALID, "no connection manager '%s'", ref);
        return NULL;
    }
    if (strcasecmp(c->creation_name, "FILE") || !*(w = c->written)) {
        werr_set(err, WERR_INVALID,
                 "connection manager '%s' is not a File connection manager "
                 "naming a package",
                 c->name);
        return NULL;
    }
    if (!pkg_path_is_windows(w))
        return pkg_path_linux(w, run->package_dir);
    p = xasprintf("%s/%s", run->package_dir, base_name(w));
    if (access(p, F_OK) == 0 || !run->project_dir)
        return p;
    free(p);
    return xasprintf("%s/%s", run->project_dir, base_name(w));
}

/* What identifies the child file: its archive entry, or its real path. */
static char *
child_key(struct rt_run *run, const struct settings *s, struct werr *err)
{
    char *path, *real;

    if (s->project_ref && run->project->archive)
        return xstrdup(s->package_name);
    if (s->project_ref)
        path = xasprintf("%s/%s",
                         run->project_dir ? run->project_dir
                                          : run->package_dir,
                         s->package_name);
    else if (!(path = external_path(run, s->connection, err)))
        return NULL;
    if ((real = realpath(path, NULL))) {
        free(path);
        return real;
    }
    return path;
}

static void
load_child(struct rt_run *run, struct rt_child_pkg *c, bool from_archive)
{
    const struct pkg_archive_file *f;
    struct werr err;
    char *slash;

    if (!from_archive) {
        c->pkg = pkg_load_file(c->key, &err);
        c->dir = xstrdup(c->key);
        if ((slash = strrchr(c->dir, '/')))
            *slash = '\0';
    } else if (!(f = pkg_archive_find(run->project->archive, c->key))) {
        werr_set(&err, WERR_NOTFOUND, "the project has no package '%s'",
                 c->key);
    } else {
        c->pkg = pkg_load_memory(f->path, f->data, f->len, &err);
        c->dir = xstrdup(run->package_dir);
    }
    if (!c->pkg)
        c->error = xstrdup(err.msg);
}

/* The project's cache is shared by every package of the execution, and
 * children run with their parent's lock released (runtime_int.h), so two
 * branches may load at once: this lock guards every project's cache.
 * Entries are never moved or freed before the execution ends. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* The child package, loaded on first use; NULL with `err` set. */
static struct rt_child_pkg *
child_pkg(struct rt_run *run, const struct settings *s, struct werr *err)
{
    struct rt_project *pj = run->project;
    struct rt_child_pkg *c = NULL;
    char *key = child_key(run, s, err);

    if (!key)
        return NULL;
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < pj->nchildren && !c; i++)
        if (!strcmp(pj->children[i]->key, key))
            c = pj->children[i];
    if (c) {
        free(key);
    } else {
        XGROW(pj->children, pj->nchildren + 1, pj->cap);
        c = pj->children[pj->nchildren++] = xcalloc(1, sizeof(*c));
        c->key = key;
        load_child(run, c, s->project_ref && pj->archive);
    }
    pthread_mutex_unlock(&cache_lock);
    if (!c->pkg) {
        werr_set(err, WERR_INVALID, "%s", c->error);
        return NULL;
    }
    return c;
}

void
rt_project_release(struct rt_project *pj)
{
    for (size_t i = 0; i < pj->nchildren; i++) {
        pkg_free(pj->children[i]->pkg);
        free(pj->children[i]->key);
        free(pj->children[i]->dir);
        free(pj->children[i]->error);
        free(pj->children[i]);
    }
    free(pj->children);
    pj->children = NULL;
    pj->nchildren = pj->cap = 0;
}

/* Refuses a package that is already running above this task, or a
 * nesting past RT_MAX_PACKAGE_DEPTH. */
static int
check_recursion(struct rt_run *run, const struct rt_child_pkg *c,
                struct werr *err)
{
    int depth = 1;

    for (const struct rt_run *r = run; r; r = r->parent, depth++)
        if (r->key && !strcmp(r->key, c->key))
            return werr_set(err, WERR_INVALID,
                            "package '%s' would execute itself%s: "
                            "packages cannot call themselves, directly or "
                            "through others",
                            pkg_file(c->pkg),
                            r == run ? "" : " through other packages");
    if (depth > RT_MAX_PACKAGE_DEPTH)
        return werr_set(err, WERR_LIMIT,
                        "package '%s' would run %d packages deep; at most "
                        "%d are allowed",
                        pkg_file(c->pkg), depth, RT_MAX_PACKAGE_DEPTH);
    return 0;
}

/* ---- the child's run ---- */

struct child {
    struct rt_run run;
    struct rt_params ps;
    struct rt_conns conns;
    struct rt_vars vars;
    struct rt_events events;
    char *prefix;
};

/* The child package parameter `name` (not a project one), or NULL. */
static struct rt_param *
child_param(struct rt_params *ps, const char *name)
{
    for (size_t i = 0; i < ps->n; i++)
        if (!ps->v[i].project && !strcasecmp(ps->v[i].def->name, name))
            return &ps->v[i];
    return NULL;
}

/* The parent's value of binding `b`, converted to the child parameter's
 * type and set. */
static int
bind_value(struct rt_run *run, const struct pkg_executable *e,
           struct rt_param *p, const struct binding *b, struct werr *err)
{
    struct rt_value v = {0}, conv = {0};
    char *text = NULL;
    int rc = -1;

    if (rt_vars_get(run->vars, e, b->source, &v, err) < 0)
        goto out;
    if (rt_value_convert(&v, p->def->data_type, &conv, err) < 0)
        goto out;
    text = rt_value_text(&conv);
    free(p->value);
    p->value = text;
    p->set = true;
    rc = 0;
out:
    if (rc < 0)
        werr_prefix(err, "binding '%s' to child parameter '%s'", b->source,
                    b->param);
    rt_value_release(&v);
    rt_value_release(&conv);
    return rc;
}

/* Binds the child's parameters: at validation only checks that both ends
 * exist (values may change before the task runs), when executing sets
 * the values.  Required child parameters must be bound. */
static int
bind_params(struct rt_run *run, const struct pkg_executable *e,
            const struct settings *s, struct child *ch, bool values,
            struct werr *err)
{
    for (size_t i = 0; i < s->nb; i++) {
        const struct binding *b = &s->b[i];
        struct rt_param *p = child_param(&ch->ps, b->param);
        if (!p)
            return werr_set(err, WERR_INVALID,
                            "the child package '%s' has no package "
                            "parameter '%s'",
                            pkg_file(ch->run.pkg), b->param);
        if (!run->vars || !rt_vars_exists(run->vars, e, b->source))
            return werr_set(err, WERR_INVALID,
                            "parameter '%s' is bound to '%s', which is "
                            "neither a variable nor a parameter here",
                            b->param, b->source);
        p->set = true;
        if (values && bind_value(run, e, p, b, err) < 0)
            return -1;
    }
    for (size_t i = 0; i < ch->ps.n; i++)
        if (ch->ps.v[i].def->required && !ch->ps.v[i].project &&
            !ch->ps.v[i].set)
            return werr_set(err, WERR_INVALID,
                            "the child package '%s' requires parameter "
                            "'%s': the task binds no value to it",
                            pkg_file(ch->run.pkg), ch->ps.v[i].def->name);
    return 0;
}

/* Project parameters have one value per execution, whoever reads it. */
static void
share_project_params(struct rt_params *child, const struct rt_params *parent)
{
    for (size_t i = 0; parent && i < child->n; i++)
        for (size_t k = 0; child->v[i].project && k < parent->n; k++)
            if (parent->v[k].def == child->v[i].def) {
                free(child->v[i].value);
                child->v[i].value = parent->v[k].value
                                        ? xstrdup(parent->v[k].value)
                                        : NULL;
                child->v[i].set = parent->v[k].set;
            }
}

static void
child_run_init(struct rt_run *run, const struct pkg_executable *e,
               const struct rt_child_pkg *c, struct child *ch)
{
    struct rt_run *r = &ch->run;

    ch->events = *run->events;
    ch->prefix = xasprintf("%s%s", run->events->path_prefix
                                       ? run->events->path_prefix
                                       : "",
                           e->path);
    ch->events.path_prefix = ch->prefix;
    ch->events.package = pkg_file(c->pkg);
    r->pkg = c->pkg;
    r->package_dir = c->dir;
    r->project_dir = run->project_dir;
    r->events = &ch->events;
    r->params = &ch->ps;
    r->state = xcalloc(pkg_executable_count(c->pkg) + 1, sizeof(*r->state));
    r->cancel = run->cancel;
    r->cancel_reported = run->cancel_reported;
    r->kill_grace_s = run->kill_grace_s;
    r->conns = &ch->conns;
    r->project = run->project;
    r->parent = run;
    r->parent_task = e;
    r->key = c->key;
    /* Set up and validated under the parent's lock; run without it. */
    r->parent_locked = true;
}

static void
child_close(struct rt_run *run, struct child *ch)
{
    if (ch->run.vars)
        rt_vars_release(&ch->vars);
    rt_conns_release(&ch->conns);
    rt_params_release(&ch->ps);
    run->events->broken |= ch->events.broken;
    run->cancel_reported |= ch->run.cancel_reported;
    free(ch->run.state);
    free(ch->prefix);
}

/* The child's own configurations (package deployment model), parent
 * package variables included, before the bound parameters are used.  A
 * child run out of process applies them again in its process and warns
 * there, so here they are applied without a word. */
static int
configure(struct child *ch, bool quiet, struct werr *err)
{
    struct rt_events events = ch->events;
    struct wbuf errors;
    int n;

    if (quiet)
        ch->events = (struct rt_events){.fd = -1};
    wbuf_init(&errors, WBUF_NOLIMIT);
    if ((n = rt_configs_apply(&ch->run, &ch->ps, &errors)) > 0)
        werr_set(err, WERR_INVALID, "%.*s",
                 (int)strcspn(errors.buf, "\n"), errors.buf);
    wbuf_release(&errors);
    ch->events = events;
    return n > 0 ? -1 : 0;
}

/* Loads the child and sets up its run; with `values`, binds the values
 * of the parameters.  On -1 nothing is left to close. */
static int
child_open(struct rt_run *run, const struct pkg_executable *e,
           const struct settings *s, bool values, struct child *ch,
           struct werr *err)
{
    struct rt_child_pkg *c;
    struct werr cerr;

    memset(ch, 0, sizeof(*ch));
    if (!run->project)
        return werr_set(err, WERR_INVALID,
                        "this run has no project to find packages in");
    if (!(c = child_pkg(run, s, err)) || check_recursion(run, c, err) < 0)
        return -1;
    child_run_init(run, e, c, ch);
    rt_params_init(&ch->ps, c->pkg, run->project->params);
    share_project_params(&ch->ps, run->params);
    if (rt_conns_init(&ch->conns, c->pkg, NULL, &cerr) < 0) {
        *err = cerr;
        goto fail;
    }
    rt_conns_share_project(&ch->conns, run->conns);
    ch->ps.conns = &ch->conns;
    if (bind_params(run, e, s, ch, values, err) < 0)
        goto fail;
    rt_vars_init(&ch->vars, c->pkg, &ch->ps);
    /* The child runs in the same server execution (ServerExecutionID). */
    if (run->vars)
        ch->vars.sys.server_execution_id = run->vars->sys.server_execution_id;
    ch->run.vars = &ch->vars;
    if (configure(ch, s->out_of_process, err) < 0)
        goto fail;
    return 0;
fail:
    child_close(run, ch);
    return -1;
}

/* ---- the task ---- */

static int
execpkg_validate(struct rt_run *run, const struct pkg_executable *e,
                 struct wbuf *problems)
{
    struct settings s;
    struct child ch;
    struct werr err;
    int n = 0, child_problems;

    if (settings_read(e, &s, &err) < 0 ||
        child_open(run, e, &s, false, &ch, &err) < 0) {
        n = rt_problem(problems, e, "%s", err.msg);
        goto out;
    }
    child_problems = rt_validate(&ch.run);
    if (child_problems)
        n = rt_problem(problems, e,
                       "the child package '%s' has %d validation "
                       "problem%s (reported above under %s)",
                       pkg_file(ch.run.pkg), child_problems,
                       child_problems == 1 ? "" : "s", ch.prefix);
    child_close(run, &ch);
out:
    settings_release(&s);
    return n;
}

/* Validates and runs the child with the parent's lock released: the
 * child has a lock of its own, and the parent's other branches go on.
 * Only the child's events going up touch the parent's run, and they take
 * its lock (handlers.c). */
static enum rt_result
run_child(struct child *ch)
{
    ch->run.parent_locked = false;
    if (rt_validate(&ch->run))
        return RT_FAILURE;
    if (rt_canceled(&ch->run))
        return RT_CANCELED;
    return rt_run_package(&ch->run);
}

/* The task is the child's container in SSIS: the child's errors reaching
 * its MaximumErrorCount fail it even when the child succeeded. */
static enum rt_result
count_errors(struct rt_run *run, const struct pkg_executable *e,
             enum rt_result r)
{
    int errors = run->state[e->index].errors;

    if (r != RT_SUCCESS || e->max_error_count <= 0 ||
        errors < e->max_error_count)
        return r;
    rt_emit(run, e, RT_EV_WARNING,
            "the number of errors raised (%d) reached the maximum allowed "
            "(%d); resulting in failure",
            errors, e->max_error_count);
    return RT_FAILURE;
}

/* ExecuteOutOfProcess: the child set up here runs in a process of its
 * own (execpkg_proc.c), found as this process found it. */
static enum rt_result
out_of_process(struct rt_run *run, const struct pkg_executable *e,
               const struct settings *s, struct child *ch, int *errors)
{
    bool archived = s->project_ref && run->project->archive;
    struct rt_child_proc cp = {
        .target = archived ? run->project->archive_path : ch->run.key,
        .package = archived ? s->package_name : NULL,
        .project_dir = archived ? NULL : run->project_dir,
        .pkg = ch->run.pkg,
        .params = &ch->ps,
        .conns = &ch->conns,
        .events = &ch->events,
    };
    enum rt_result result;
    char **sets;

    if (!cp.target) {
        rt_error(run, e, RT_E_CHILD,
                 "the project's .ispac file is not known: the child "
                 "package cannot run out of process");
        *errors = 1;
        return RT_FAILURE;
    }
    cp.sets = sets = rt_configs_parent_sets(&ch->run);
    result = rt_execpkg_proc(run, e, &cp, errors);
    for (char **x = sets; *x; x++)
        free(*x);
    free(sets);
    return result;
}

static enum rt_result
execpkg_execute(struct rt_run *run, const struct pkg_executable *e)
{
    struct settings s;
    struct child ch;
    struct werr err;
    enum rt_result r = RT_FAILURE;
    int errors;

    if (settings_read(e, &s, &err) < 0 ||
        child_open(run, e, &s, true, &ch, &err) < 0) {
        rt_error(run, e, RT_E_CHILD, "%s", err.msg);
        goto out;
    }
    if (s.out_of_process) {
        r = out_of_process(run, e, &s, &ch, &errors);
    } else {
        rt_blocking_begin(run);
        r = run_child(&ch);
        rt_blocking_end(run);
        ch.run.parent_locked = true;
        errors = ch.run.state[pkg_root(ch.run.pkg)->index].errors;
    }
    /* The child's errors reached this task and count here already; a
     * failure without one still needs its cause in the log. */
    if (r == RT_FAILURE && !errors)
        rt_error(run, e, RT_E_CHILD,
                 "the child package '%s' failed without raising an error",
                 pkg_file(ch.run.pkg));
    r = count_errors(run, e, r);
    child_close(run, &ch);
out:
    settings_release(&s);
    return r;
}

const struct rt_task_ops rt_execpkg_ops = {
    .type = "Microsoft.ExecutePackageTask",
    .validate = execpkg_validate,
    .execute = execpkg_execute,
};
