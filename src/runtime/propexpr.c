/*
 * Property expressions on executables (DTS:PropertyExpression), evaluated
 * before each execution of their owner, in its scope: Disable on any
 * executable, Executable, Arguments and WorkingDirectory on Execute
 * Process tasks, SqlStatementSource on Execute SQL tasks, Source,
 * Destination and OverwriteDestination on File System tasks, the mail
 * fields of Send Mail tasks, and on Data Flow tasks DefaultBufferMaxRows,
 * DefaultBufferSize, EngineThreads and the components' properties
 * ("[OLE DB Source].[SqlCommand]", given to the engine).  Expressions
 * are compiled once per run (at validation); an expression on a property
 * weir does not apply is a warning at validation, not an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "expr/expr.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

bool
rt_prop_applied(const struct pkg_executable *e, const char *property)
{
    if (!strcasecmp(property, "Disable"))
        return true;
    if (!strcmp(e->type, "Microsoft.ExecuteProcess"))
        return !strcasecmp(property, "Executable") ||
               !strcasecmp(property, "Arguments") ||
               !strcasecmp(property, "WorkingDirectory");
    if (!strcmp(e->type, "Microsoft.ExecuteSQLTask"))
        return !strcasecmp(property, "SqlStatementSource");
    if (!strcmp(e->type, "Microsoft.FileSystemTask"))
        return !strcasecmp(property, "Source") ||
               !strcasecmp(property, "Destination") ||
               !strcasecmp(property, "OverwriteDestination");
    if (!strcmp(e->type, "Microsoft.Pipeline"))
        return property[0] == '[' ||
               !strcasecmp(property, "DefaultBufferMaxRows") ||
               !strcasecmp(property, "DefaultBufferSize") ||
               !strcasecmp(property, "EngineThreads");
    if (!strcmp(e->type, "Microsoft.SendMailTask"))
        return !strcasecmp(property, "FromLine") ||
               !strcasecmp(property, "ToLine") ||
               !strcasecmp(property, "CCLine") ||
               !strcasecmp(property, "BCCLine") ||
               !strcasecmp(property, "Subject") ||
               !strcasecmp(property, "MessageSource") ||
               !strcasecmp(property, "FileAttachments");
    return false;
}

static const struct pkg_property_expression *
find(const struct pkg_executable *e, const char *property)
{
    for (size_t i = 0; i < e->nexpressions; i++)
        if (!strcasecmp(e->expressions[i].property, property))
            return &e->expressions[i];
    return NULL;
}

static struct expr *
compiled(struct rt_run *run, const struct pkg_executable *e,
         const struct pkg_property_expression *pe, struct werr *err)
{
    struct expr *x;

    if (!run->vars) {
        werr_set(err, WERR_INVALID, "no variables in this run");
        return NULL;
    }
    x = rt_vars_expr(run->vars, pe, e, pe->expression ? pe->expression : "", 0,
                     err);
    if (!x)
        werr_prefix(err, "the property expression on %s (\"%s\")", pe->property,
                    pe->expression ? pe->expression : "");
    return x;
}

int
rt_props_validate(struct rt_run *run, const struct pkg_executable *e,
                  struct wbuf *problems)
{
    struct werr err;
    int n = 0;

    for (size_t i = 0; i < e->nexpressions; i++) {
        const struct pkg_property_expression *pe = &e->expressions[i];
        if (!rt_prop_applied(e, pe->property)) {
            rt_emit(run, e, RT_EV_WARNING,
                    "the property expression on %s is ignored: weir does "
                    "not apply that property of a %s",
                    pe->property, e->type);
            continue;
        }
        if (compiled(run, e, pe, &err))
            continue;
        if (!problems->buf || !strstr(problems->buf, err.msg)) {
            wbuf_addf(problems, NULL, "%s: %s\n", e->path, err.msg);
            n++;
        }
    }
    return n;
}

int
rt_prop_value(struct rt_run *run, const struct pkg_executable *e,
              const char *property, struct rt_value *out)
{
    const struct pkg_property_expression *pe = find(e, property);
    struct werr err;
    struct expr *x;

    if (!pe)
        return 0;
    if (!(x = compiled(run, e, pe, &err)))
        goto fail;
    if (rt_expr_eval(run->vars, e, x, out, &err) < 0) {
        werr_prefix(&err, "the property expression on %s (\"%s\")",
                    pe->property, pe->expression);
        goto fail;
    }
    if (out->null) {
        werr_set(&err, WERR_INVALID,
                 "the property expression on %s (\"%s\") is NULL", pe->property,
                 pe->expression);
        goto fail;
    }
    return 1;
fail:
    rt_error(run, e, RT_E_EXPRESSION, "%s", err.msg);
    return -1;
}

int
rt_prop_text(struct rt_run *run, const struct pkg_executable *e,
             const char *property, char **out)
{
    struct rt_value v = {0};
    int rc = rt_prop_value(run, e, property, &v);

    *out = rc > 0 ? rt_value_text(&v) : NULL;
    rt_value_release(&v);
    return rc;
}

int
rt_prop_disabled(struct rt_run *run, const struct pkg_executable *e,
                 bool *disabled)
{
    struct rt_value v = {0}, b = {0};
    struct werr err;
    int rc = rt_prop_value(run, e, "Disable", &v);

    *disabled = e->disabled;
    if (rc > 0) {
        if (rt_value_convert(&v, RT_VT_BOOL, &b, &err) < 0) {
            rt_error(run, e, RT_E_EXPRESSION,
                     "the property expression on Disable: %s", err.msg);
            rc = -1;
        } else
            *disabled = b.n.b;
    }
    rt_value_release(&v);
    rt_value_release(&b);
    return rc < 0 ? -1 : 0;
}
