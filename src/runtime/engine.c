/*
 * The control-flow engine: validation, and the events around each
 * executable.  Containers and their scheduler are in container.c.
 *
 * Validation runs every check before anything executes, except the
 * machine checks (a task's `validate`) of executables with
 * DelayValidation: those run right before the executable does, between the
 * OnPreValidate and OnPostValidate every executable raises then, and a
 * problem then is an OnError from it that fails it without running it, as
 * in SSIS.
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
    &rt_mail_ops,
    &rt_foreach_ops,
    &rt_dataflow_ops,
    &rt_execpkg_ops,
    &rt_handler_ops,
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
    rt_handlers_raise(run, e,
                      &(struct rt_hevent){.event = rt_event_name(kind),
                                          .code = code,
                                          .message = msg});
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
    if (run->parent)
        rt_handlers_count_error(run);
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
    for (size_t i = 0; i < e->nhandlers; i++)
        n += validate_tree(run, e->handlers[i].container, problems);
    return n;
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
    rt_handlers_validate(run, root);
    rt_emit(run, root, RT_EV_POST_VALIDATE, NULL);
    wbuf_release(&problems);
    return n;
}

/* SSIS validates each executable again right before it executes, between
 * an OnPreValidate and an OnPostValidate from it (their handlers run).
 * Only DelayValidation brings the task's own checks here, skipped by
 * rt_validate; the package itself was validated just before it started.
 * Returns how many problems (each an OnError from its executable). */
static int
execution_validation(struct rt_run *run, const struct pkg_executable *e,
                     const struct rt_task_ops *ops)
{
    struct wbuf problems;
    int n = 0;

    if (!e->parent)
        return 0;
    wbuf_init(&problems, 1 << 20);
    rt_emit(run, e, RT_EV_PRE_VALIDATE, NULL);
    if (e->delay_validation && ops->validate)
        n = ops->validate(run, e, &problems);
    report_problems(run, problems.buf);
    rt_emit(run, e, RT_EV_POST_VALIDATE, NULL);
    wbuf_release(&problems);
    return n;
}

/* Emits OnPostExecute with the result and runs its handlers; a failing
 * one makes the result a failure. */
static enum rt_result
post_execute(struct rt_run *run, const struct pkg_executable *e,
             enum rt_result r)
{
    struct rt_state *st = &run->state[e->index];
    struct rt_event post = {.kind = RT_EV_POST_EXECUTE,
                            .source = e->name,
                            .path = e->path,
                            .result = r,
                            .start_ms = st->start_ms};

    rt_events_emit(run->events, &post);
    rt_handlers_raise(run, e, &(struct rt_hevent){.event = "OnPostExecute"});
    return st->handler_failed ? RT_FAILURE : r;
}

enum rt_result
rt_execute(struct rt_run *run, const struct pkg_executable *e)
{
    const struct rt_task_ops *ops = rt_ops_for(e->type);
    struct rt_state *st = &run->state[e->index];
    enum rt_result r;

    if (!ops)
        W_BUG("no implementation of '%s' (validation let it through)", e->type);
    st->start_ms = wtime_real_ms();
    st->ran = true;
    st->handler_failed = false;
    if (run->vars)
        rt_sys_started(run->vars, e, st->start_ms);
    if (!e->parent)
        rt_handlers_begin(run);
    rt_handlers_starting(run, e);
    rt_emit(run, e, RT_EV_PRE_EXECUTE, NULL);
    /* A failing OnPreExecute handler fails the executable unrun, and one
     * that canceled the run (System::Cancel) cancels it. */
    if (st->handler_failed || execution_validation(run, e, ops))
        r = RT_FAILURE;
    else if (rt_cancel_requested(run) && rt_canceled(run))
        r = RT_CANCELED;
    else
        r = ops->execute(run, e);
    rt_handlers_status(run, e);
    if (r != RT_CANCELED && st->handler_failed)
        r = RT_FAILURE;
    if (r != RT_CANCELED && e->force_execution_result >= 0) {
        rt_emit(run, e, RT_EV_INFORMATION,
                "ForceExecutionResult makes the "
                "result %d, whatever happened",
                e->force_execution_result);
        r = (enum rt_result)e->force_execution_result;
    }
    if (r == RT_FAILURE && e->parent && strcmp(e->type, "EventHandler"))
        rt_emit(run, e, RT_EV_TASK_FAILED, NULL);
    r = post_execute(run, e, r);
    st->result = r;
    if (!e->parent)
        rt_handlers_end(run);
    return r;
}
