/*
 * The Expression Task (Microsoft.ExpressionTask, shared DTSX.md §5.2):
 * <ExpressionTask Expression="@[User::Total] = @[User::Total] + 1"/> in
 * its ObjectData.  The expression must assign one variable (`=` or
 * `:=`); it is compiled once per run, at validation, and each execution
 * evaluates it and stores the value.  The element has no namespace in
 * the packages seen, so any namespace is accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "expr/expr.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

/* The Expression attribute, or NULL when there is no ExpressionTask
 * element.  The caller frees. */
static char *
expression_of(const struct pkg_executable *e)
{
    const struct _xmlNode *t = rt_payload(e, "ExpressionTask");

    return t ? rt_xml_attr(t, "Expression") : NULL;
}

/* The compiled assignment, or NULL with `err` set. */
static struct expr *
compiled(struct rt_run *run, const struct pkg_executable *e, struct werr *err)
{
    char *text = expression_of(e);
    const struct expr_binding *b;
    const struct expr_ref *ref;
    struct expr *x = NULL;

    if (!text) {
        werr_set(err, WERR_INVALID, "the task has no ExpressionTask settings");
        goto out;
    }
    if (!run->vars) {
        werr_set(err, WERR_INVALID, "no variables in this run");
        goto out;
    }
    if (!(x = rt_vars_expr(run->vars, e, e, text, EXPR_ASSIGN, err))) {
        werr_prefix(err, "expression \"%s\"", text);
        goto out;
    }
    if (!(b = expr_assign_target(x, &ref))) {
        werr_set(err, WERR_INVALID,
                 "expression \"%s\" does not assign a variable: write "
                 "@[User::Name] = value",
                 text);
        x = NULL;
    } else if (b->read_only) {
        werr_set(err, WERR_CONFLICT,
                 "expression \"%s\" assigns '%s%s%s', which is read-only", text,
                 ref->ns ? ref->ns : "", ref->ns ? "::" : "", ref->name);
        x = NULL;
    }
out:
    free(text);
    return x;
}

static int
expr_task_validate(struct rt_run *run, const struct pkg_executable *e,
                   struct wbuf *problems)
{
    struct werr err;

    if (compiled(run, e, &err))
        return 0;
    wbuf_addf(problems, NULL, "%s: %s\n", e->path, err.msg);
    return 1;
}

static enum rt_result
expr_task_execute(struct rt_run *run, const struct pkg_executable *e)
{
    struct rt_value v = {0};
    struct werr err;
    struct expr *x;
    int rc = -1;

    if ((x = compiled(run, e, &err)))
        rc = rt_expr_eval(run->vars, e, x, &v, &err);
    rt_value_release(&v);
    if (rc == 0)
        return RT_SUCCESS;
    rt_error(run, e, RT_E_EXPRESSION, "%s", err.msg);
    return RT_FAILURE;
}

const struct rt_task_ops rt_expr_task_ops = {
    .type = "Microsoft.ExpressionTask",
    .validate = expr_task_validate,
    .execute = expr_task_execute,
};
