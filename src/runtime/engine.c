/*
 * The control-flow engine: validation, the events around each executable,
 * and containers (the package itself and Sequence).
 *
 * A container runs its children one at a time.  After each one finishes,
 * the first child in document order whose precedence constraints are
 * satisfied runs next; a child whose constraints can no longer be
 * satisfied is dead and never runs, and neither does anything that waits
 * on it under AND.  That order is a topological order of the constraint
 * graph (validation has refused cycles), and it is deterministic, which
 * the tests rely on.  Running independent branches at the same time is
 * the full engine's job.
 *
 * Results follow SSIS: a disabled child is skipped and counts as success
 * for its constraints; a container fails when the errors raised inside it
 * reach its MaximumErrorCount (0 = no limit), when a child with
 * FailParentOnFailure fails, or when a child with FailPackageOnFailure
 * fails (then the whole package stops and fails).  A failure that a
 * Failure constraint handles still counts its errors: raise
 * MaximumErrorCount to tolerate it, as in SSIS.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/wtime.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "expr/expr.h"
#include "runtime/conn.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

static const struct rt_task_ops *const all_ops[] = {
    &rt_package_ops,
    &rt_sequence_ops,
    &rt_process_ops,
    &rt_sql_ops,
    &rt_expr_task_ops,
    &rt_forloop_ops,
    &rt_fs_ops,
};

const struct rt_task_ops *
rt_ops_for(const char *type)
{
    for (size_t i = 0; type && i < sizeof(all_ops) / sizeof(all_ops[0]); i++)
        if (!strcmp(all_ops[i]->type, type))
            return all_ops[i];
    return NULL;
}

static void
emit_v(struct rt_run *run, const struct pkg_executable *e,
       enum rt_event_kind kind, int code, const char *fmt, va_list ap)
{
    struct rt_event ev = {
        .kind = kind, .source = e->name, .path = e->path, .code = code};
    char *msg = NULL;

    if (fmt && vasprintf(&msg, fmt, ap) < 0)
        W_BUG("out of memory formatting an event");
    ev.message = msg;
    rt_events_emit(run->events, &ev);
    free(msg);
}

void
rt_emit(struct rt_run *run, const struct pkg_executable *e,
        enum rt_event_kind kind, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emit_v(run, e, kind, 0, fmt, ap);
    va_end(ap);
}

void
rt_error(struct rt_run *run, const struct pkg_executable *e, int code,
         const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emit_v(run, e, RT_EV_ERROR, code, fmt, ap);
    va_end(ap);
    for (const struct pkg_executable *x = e; x; x = x->parent)
        run->state[x->index].errors++;
}

volatile sig_atomic_t rt_signal_received;

bool
rt_canceled(struct rt_run *run)
{
    static const struct timespec zero = {0, 0};
    sigset_t stop;
    int sig;

    if (run->cancel_reported)
        return true;
    sig = rt_signal_received;
    if (!sig) {
        /* Outside waits the signals are blocked: take a pending one. */
        sigemptyset(&stop);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGINT);
        sig = sigtimedwait(&stop, NULL, &zero);
    }
    if (sig <= 0)
        return false;
    run->cancel_reported = true;
    rt_emit(run, pkg_root(run->pkg), RT_EV_WARNING,
            "canceled: %s received, stopping the package",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    return true;
}

/* The executable a problem line "\\Package\\Seq\\Task: message" is about
 * (names may contain ": ", so the longest path that exists wins), and
 * where its message starts.  Lines about no executable go to the root. */
static const struct pkg_executable *
problem_source(const struct pkg *p, const char *line, size_t len,
               size_t *msg_at)
{
    const struct pkg_executable *best = pkg_root(p), *e;
    char *ref;

    *msg_at = 0;
    if (len < 2 || line[0] != '\\')
        return best;
    for (size_t i = 1; i + 1 < len; i++) {
        if (line[i] != ':' || line[i + 1] != ' ')
            continue;
        ref = xstrndup(line + 1, i - 1);
        if ((e = pkg_find(p, ref))) {
            best = e;
            *msg_at = i + 2;
        }
        free(ref);
    }
    return best;
}

/* Each problem line becomes an OnError event from its executable. */
static void
report_problems(struct rt_run *run, const char *lines)
{
    const char *p = lines, *nl;

    for (; *p; p = nl ? nl + 1 : p + strlen(p)) {
        size_t len, at;
        nl = strchr(p, '\n');
        len = nl ? (size_t)(nl - p) : strlen(p);
        if (!len)
            continue;
        const struct pkg_executable *e = problem_source(run->pkg, p, len, &at);
        rt_error(run, e, RT_E_VALIDATION, "%.*s", (int)(len - at), p + at);
    }
}

/* Compiles the constraint expressions of container `c` for this run,
 * now that project parameters and System variables are known.  What
 * pkg_validate reported already is not reported twice. */
static int
validate_constraints(struct rt_run *run, const struct pkg_executable *c,
                     struct wbuf *problems)
{
    int n = 0;

    for (size_t k = 0; run->vars && k < c->nconstraints; k++) {
        const struct pkg_constraint *pc = &c->constraints[k];
        struct werr err;
        struct expr *e;
        char *head;
        if (pc->eval_op == PKG_EVAL_CONSTRAINT || !pc->from || !pc->to)
            continue;
        e = rt_vars_expr(run->vars, pc, c, pc->expression ? pc->expression : "",
                         0, &err);
        if (e && expr_result_type(e)->dt == EXPR_DT_BOOL)
            continue;
        head = xasprintf("%s: precedence constraint '%s' (%s -> %s):", c->path,
                         pc->name, pc->from->name, pc->to->name);
        if (!problems->buf || !strstr(problems->buf, head)) {
            wbuf_addf(problems, NULL, "%s %s\n", head,
                      e ? "the expression is not Boolean" : err.msg);
            n++;
        }
        free(head);
    }
    return n;
}

/* Connection strings set by expressions, evaluated for the tasks'
 * checks (and again before each task that uses one). */
static int
eval_connections(struct rt_run *run, struct wbuf *problems)
{
    struct werr err;
    int n = 0;

    for (size_t i = 0; run->conns && run->vars && i < run->conns->n; i++)
        if (rt_conn_eval_expression(&run->conns->v[i], run->vars,
                                    pkg_root(run->pkg), &err) < 0) {
            wbuf_addf(problems, NULL, "%s: %s\n", pkg_root(run->pkg)->path,
                      err.msg);
            n++;
        }
    return n;
}

static int
validate_tree(struct rt_run *run, const struct pkg_executable *e,
              struct wbuf *problems)
{
    const struct rt_task_ops *ops = rt_ops_for(e->type);
    int n = 0;

    if (e->disabled)
        return 0;
    n += validate_constraints(run, e, problems);
    n += rt_props_validate(run, e, problems);
    if (ops && ops->validate && !e->delay_validation)
        n += ops->validate(run, e, problems);
    for (size_t i = 0; i < e->nchildren; i++)
        n += validate_tree(run, e->children[i], problems);
    return n;
}

/* Event handlers are loaded but not run yet: say so once per handler, so
 * nobody counts on an OnError handler that never fires. */
static void
warn_handlers(struct rt_run *run, const struct pkg_executable *e)
{
    if (e->disabled)
        return;
    for (size_t i = 0; i < e->nhandlers; i++)
        rt_emit(run, e, RT_EV_WARNING,
                "the %s event handler is not run: "
                "this version of weir does not run "
                "event handlers yet",
                e->handlers[i].event);
    for (size_t i = 0; i < e->nchildren; i++)
        warn_handlers(run, e->children[i]);
}

int
rt_problem(struct wbuf *out, const struct pkg_executable *e, const char *fmt,
           ...)
{
    va_list ap;

    wbuf_addf(out, NULL, "%s: ", e->path);
    va_start(ap, fmt);
    wbuf_vaddf(out, NULL, fmt, ap);
    va_end(ap);
    wbuf_addch(out, '\n', NULL);
    return 1;
}

int
rt_validate(struct rt_run *run)
{
    const struct pkg_executable *root = pkg_root(run->pkg);
    struct wbuf problems;
    int n;

    wbuf_init(&problems, 1 << 20);
    rt_emit(run, root, RT_EV_PRE_VALIDATE, NULL);
    n = pkg_validate(run->pkg, &problems);
    n += eval_connections(run, &problems);
    n += validate_tree(run, root, &problems);
    if (run->params)
        n += rt_params_check(run->params, &problems);
    report_problems(run, problems.buf);
    warn_handlers(run, root);
    rt_emit(run, root, RT_EV_POST_VALIDATE, NULL);
    wbuf_release(&problems);
    return n;
}

enum rt_result
rt_execute(struct rt_run *run, const struct pkg_executable *e)
{
    const struct rt_task_ops *ops = rt_ops_for(e->type);
    struct rt_state *st = &run->state[e->index];
    struct rt_event post = {
        .kind = RT_EV_POST_EXECUTE, .source = e->name, .path = e->path};
    enum rt_result r;

    if (!ops)
        W_BUG("no implementation of '%s' (validation let it through)", e->type);
    st->start_ms = wtime_real_ms();
    st->ran = true;
    rt_emit(run, e, RT_EV_PRE_EXECUTE, NULL);
    r = ops->execute(run, e);
    if (r != RT_CANCELED && e->force_execution_result >= 0) {
        rt_emit(run, e, RT_EV_INFORMATION,
                "ForceExecutionResult makes the "
                "result %d, whatever happened",
                e->force_execution_result);
        r = (enum rt_result)e->force_execution_result;
    }
    if (r == RT_FAILURE && e->parent)
        rt_emit(run, e, RT_EV_TASK_FAILED, NULL);
    st->result = r;
    post.result = r;
    post.start_ms = st->start_ms;
    rt_events_emit(run->events, &post);
    return r;
}

enum rt_result
rt_run_package(struct rt_run *run)
{
    return rt_execute(run, pkg_root(run->pkg));
}

/* ---- containers ---- */

enum child_status { PENDING, DONE, DEAD };
enum readiness { WAIT, READY, NEVER };

struct container_run {
    const struct pkg_executable *c;
    enum child_status *status;
    enum rt_result *result;
    bool *pc_ok; /* by constraint: satisfied once its source finished */
};

static size_t
child_pos(const struct pkg_executable *c, const struct pkg_executable *x)
{
    for (size_t i = 0; i < c->nchildren; i++)
        if (c->children[i] == x)
            return i;
    return c->nchildren;
}

static bool
outcome_matches(enum pkg_outcome want, enum rt_result got)
{
    switch (want) {
    case PKG_SUCCESS:
        return got == RT_SUCCESS;
    case PKG_FAILURE:
        return got == RT_FAILURE;
    case PKG_COMPLETION:
        return got == RT_SUCCESS || got == RT_FAILURE || got == RT_COMPLETION;
    }
    return false;
}

/* Whether child i may run now, must wait, or never will.  Constraints into
 * one child combine with AND only if all of them say LogicalAnd="True"
 * (the designer writes one setting for all; absent means OR). */
static enum readiness
readiness(const struct container_run *cr, size_t i)
{
    const struct pkg_executable *c = cr->c;
    size_t incoming = 0, yes = 0, no = 0;
    bool all_and = true;

    for (size_t k = 0; k < c->nconstraints; k++) {
        const struct pkg_constraint *pc = &c->constraints[k];
        if (!pc->from || pc->to != c->children[i])
            continue;
        size_t j = child_pos(c, pc->from);
        incoming++;
        all_and = all_and && pc->logical_and;
        if (cr->status[j] == DEAD)
            no++;
        else if (cr->status[j] == DONE && cr->pc_ok[k])
            yes++;
        else if (cr->status[j] == DONE)
            no++;
    }
    if (!incoming)
        return READY;
    if (all_and)
        return no ? NEVER : yes == incoming ? READY : WAIT;
    return yes ? READY : no == incoming ? NEVER : WAIT;
}

/* The next child to run, marking the dead ones; nchildren when none. */
static size_t
next_child(struct container_run *cr)
{
    size_t n = cr->c->nchildren;
    bool changed = true;

    while (changed) {
        changed = false;
        for (size_t i = 0; i < n; i++) {
            if (cr->status[i] != PENDING)
                continue;
            enum readiness r = readiness(cr, i);
            if (r == READY)
                return i;
            if (r == NEVER) {
                cr->status[i] = DEAD;
                changed = true;
            }
        }
    }
    return n;
}

/* The value of a constraint's expression; an error or NULL is false. */
static bool
constraint_expr(struct rt_run *run, const struct pkg_executable *c,
                const struct pkg_constraint *pc)
{
    const char *text = pc->expression ? pc->expression : "";
    struct rt_value v = {0};
    struct werr err;
    struct expr *e;
    bool ok = false;

    if (!run->vars) {
        werr_set(&err, WERR_INVALID, "no variables in this run");
        goto fail;
    }
    if (!(e = rt_vars_expr(run->vars, pc, c, text, 0, &err)) ||
        rt_expr_eval(run->vars, c, e, &v, &err) < 0)
        goto fail;
    if (v.null)
        rt_emit(run, c, RT_EV_WARNING,
                "precedence constraint '%s': expression \"%s\" is NULL, "
                "which counts as false",
                pc->name, text);
    else
        ok = v.vt == RT_VT_BOOL && v.n.b;
    rt_value_release(&v);
    return ok;
fail:
    rt_error(run, c, RT_E_EXPRESSION,
             "precedence constraint '%s': expression \"%s\": %s", pc->name,
             text, err.msg);
    return false;
}

/* Evaluates the constraints leaving child i, which has just finished. */
static void
eval_constraints(struct rt_run *run, struct container_run *cr, size_t i)
{
    const struct pkg_executable *c = cr->c;

    for (size_t k = 0; k < c->nconstraints; k++) {
        const struct pkg_constraint *pc = &c->constraints[k];
        bool outcome;
        if (pc->from != c->children[i])
            continue;
        outcome = outcome_matches(pc->value, cr->result[i]);
        switch (pc->eval_op) {
        case PKG_EVAL_EXPRESSION:
            cr->pc_ok[k] = constraint_expr(run, c, pc);
            break;
        case PKG_EVAL_EXPR_AND_CONSTRAINT:
            cr->pc_ok[k] = outcome && constraint_expr(run, c, pc);
            break;
        case PKG_EVAL_EXPR_OR_CONSTRAINT:
            cr->pc_ok[k] = outcome || constraint_expr(run, c, pc);
            break;
        default:
            cr->pc_ok[k] = outcome;
        }
    }
}

/* Runs child i; returns false when the container must stop. */
static bool
run_child(struct rt_run *run, struct container_run *cr, size_t i, bool *failed)
{
    const struct pkg_executable *x = cr->c->children[i];
    enum rt_result r;
    bool disabled;

    cr->status[i] = DONE;
    if (rt_prop_disabled(run, x, &disabled) < 0) {
        cr->result[i] = RT_FAILURE;
        eval_constraints(run, cr, i);
        return true;
    }
    if (disabled) {
        cr->result[i] = RT_SUCCESS;
        eval_constraints(run, cr, i);
        return true;
    }
    r = cr->result[i] = rt_execute(run, x);
    if (r == RT_CANCELED)
        return false;
    eval_constraints(run, cr, i);
    if (r == RT_FAILURE && x->fail_package_on_failure) {
        rt_emit(run, x, RT_EV_WARNING,
                "FailPackageOnFailure is set: the "
                "package stops and fails");
        run->package_failed = true;
    }
    if (r == RT_FAILURE && x->fail_parent_on_failure) {
        rt_emit(run, cr->c, RT_EV_WARNING,
                "'%s' failed and has "
                "FailParentOnFailure set",
                x->name);
        *failed = true;
        return false;
    }
    return !run->package_failed;
}

static enum rt_result
container_result(struct rt_run *run, const struct pkg_executable *c,
                 bool failed)
{
    int errors = run->state[c->index].errors;

    if (failed || (run->package_failed && !c->parent))
        return RT_FAILURE;
    if (c->max_error_count > 0 && errors >= c->max_error_count) {
        rt_emit(run, c, RT_EV_WARNING,
                "the number of errors raised (%d) "
                "reached the maximum allowed (%d); "
                "resulting in failure",
                errors, c->max_error_count);
        return RT_FAILURE;
    }
    return run->package_failed ? RT_FAILURE : RT_SUCCESS;
}

enum rt_result
rt_container_run(struct rt_run *run, const struct pkg_executable *c)
{
    struct container_run cr = {.c = c};
    bool failed = false, canceled = false;
    size_t i;

    cr.status = xcalloc(c->nchildren + 1, sizeof(*cr.status));
    cr.result = xcalloc(c->nchildren + 1, sizeof(*cr.result));
    cr.pc_ok = xcalloc(c->nconstraints + 1, sizeof(*cr.pc_ok));
    for (;;) {
        if (rt_canceled(run)) {
            canceled = true;
            break;
        }
        if ((i = next_child(&cr)) == c->nchildren)
            break;
        if (!run_child(run, &cr, i, &failed)) {
            canceled = cr.result[i] == RT_CANCELED;
            break;
        }
    }
    free(cr.status);
    free(cr.result);
    free(cr.pc_ok);
    return canceled ? RT_CANCELED : container_result(run, c, failed);
}

const struct rt_task_ops rt_package_ops = {
    .type = "Microsoft.Package",
    .execute = rt_container_run,
};

const struct rt_task_ops rt_sequence_ops = {
    .type = "STOCK:SEQUENCE",
    .execute = rt_container_run,
};
