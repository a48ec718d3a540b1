/*
 * The For Loop container (STOCK:FORLOOP, shared DTSX.md §5.3): the
 * InitExpression runs once, then while the EvalExpression is true the
 * children run as a Sequence's do and the AssignExpression runs after
 * each iteration.  The three expressions are compiled once per run, at
 * validation.  An iteration that fails fails the loop, which stops, as a
 * Sequence stops; an expression that fails to evaluate is an error of the
 * loop.  There is no bound on iterations (SSIS has none), so the loop
 * checks for cancel before each iteration: SIGTERM stops an endless loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "expr/expr.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

enum loop_part { INIT, EVAL, ASSIGN };

static const char *const part_names[] = {"InitExpression", "EvalExpression",
                                         "AssignExpression"};

static const char *
part_text(const struct pkg_executable *e, enum loop_part part, const void **key)
{
    const char *const *field = part == INIT   ? &e->init_expression
                               : part == EVAL ? &e->eval_expression
                                              : &e->assign_expression;

    *key = field; /* the field's address: one key per loop and part */
    return *field && **field ? *field : NULL;
}

/* The compiled part, NULL with `err` unset when the part is empty (an
 * empty EvalExpression is an error), NULL with `err` set on error. */
static struct expr *
part_expr(struct rt_run *run, const struct pkg_executable *e,
          enum loop_part part, struct werr *err)
{
    const void *key;
    const char *text = part_text(e, part, &key);
    struct expr *x;

    err->code = 0;
    if (!text) {
        if (part == EVAL)
            werr_set(err, WERR_INVALID, "the For Loop has no EvalExpression");
        return NULL;
    }
    if (!run->vars) {
        werr_set(err, WERR_INVALID, "no variables in this run");
        return NULL;
    }
    x = rt_vars_expr(run->vars, key, e, text, part == EVAL ? 0 : EXPR_ASSIGN,
                     err);
    if (!x)
        werr_prefix(err, "%s \"%s\"", part_names[part], text);
    else if (part == EVAL && expr_result_type(x)->dt != EXPR_DT_BOOL) {
        werr_set(err, WERR_INVALID,
                 "EvalExpression \"%s\" is %s: it must be Boolean", text,
                 expr_dt_name(expr_result_type(x)->dt));
        x = NULL;
    }
    return x;
}

static int
forloop_validate(struct rt_run *run, const struct pkg_executable *e,
                 struct wbuf *problems)
{
    struct werr err;
    int n = 0;

    for (int part = INIT; part <= ASSIGN; part++)
        if (!part_expr(run, e, (enum loop_part)part, &err) && err.code) {
            wbuf_addf(problems, NULL, "%s: %s\n", e->path, err.msg);
            n++;
        }
    return n;
}

/* Evaluates a part; for EVAL, `*more` gets its value (NULL is false, with
 * a warning).  Errors are raised from the loop. */
static int
run_part(struct rt_run *run, const struct pkg_executable *e,
         enum loop_part part, bool *more)
{
    struct rt_value v = {0};
    struct werr err;
    struct expr *x = part_expr(run, e, part, &err);
    int rc = -1;

    if (!x && !err.code)
        return 0;
    if (x && rt_expr_eval(run->vars, e, x, &v, &err) == 0) {
        rc = 0;
        if (part == EVAL && v.null)
            rt_emit(run, e, RT_EV_WARNING,
                    "EvalExpression \"%s\" is NULL, which ends the loop",
                    e->eval_expression);
        if (part == EVAL)
            *more = !v.null && v.vt == RT_VT_BOOL && v.n.b;
    } else
        rt_error(run, e, RT_E_EXPRESSION, "%s", err.msg);
    rt_value_release(&v);
    return rc;
}

static enum rt_result
forloop_execute(struct rt_run *run, const struct pkg_executable *e)
{
    enum rt_result r = RT_SUCCESS;
    bool more = false;

    if (run_part(run, e, INIT, NULL) < 0)
        return RT_FAILURE;
    for (;;) {
        if (rt_canceled(run))
            return RT_CANCELED;
        if (run_part(run, e, EVAL, &more) < 0)
            return RT_FAILURE;
        if (!more)
            break;
        r = rt_container_run(run, e);
        if (r != RT_SUCCESS || run->package_failed)
            break;
        if (run_part(run, e, ASSIGN, NULL) < 0)
            return RT_FAILURE;
    }
    return r;
}

const struct rt_task_ops rt_forloop_ops = {
    .type = "STOCK:FORLOOP",
    .execute = forloop_execute,
    .validate = forloop_validate,
};
