/*
 * The expression language over the variable store (vars.h): the expr
 * host that resolves @[NS::Name] references, the conversions between
 * runtime values (VARIANT typed) and expression values (DT_ typed), and
 * expression variables.
 *
 * A resolved reference is an rt_xref kept on the store's list until the
 * store is released, because the compiled expression holds its address as
 * the binding's handle.  It remembers the name and the scope of the
 * expression, so each read goes through rt_vars_get and sees the current
 * value (and evaluates expression variables again, as SSIS does).  The
 * value read last is kept in the xref: strings handed to the evaluator
 * are borrowed until the evaluation returns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "expr/expr.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

struct rt_xref {
    struct rt_xref *next;
    char *name; /* "NS::Name" */
    const struct pkg_executable *scope;
    struct rt_value last;
    int vt;
};

/* The DT_ type an expression sees for a VARIANT type; -1 if none. */
static int
vt_to_type(int vt, struct expr_type *t)
{
    if (vt == RT_VT_BINARY) {
        memset(t, 0, sizeof(*t));
        t->dt = EXPR_DT_BYTES;
        return 0;
    }
    return pkg_vt_expr_type(vt, t);
}

/* The VARIANT type of a name seen from `scope`, and whether it can be
 * assigned; -1 if the name is unknown. */
static int
name_type(struct rt_vars *vs, const struct pkg_executable *scope,
          const char *name, int *vt, bool *read_only)
{
    const struct rt_param *p;
    struct rt_var *v;

    if (!strncmp(name, "$Package::", 10) || !strncmp(name, "$Project::", 10)) {
        if (!vs->params || !(p = rt_params_find(vs->params, name)))
            return -1;
        *vt = p->def->data_type;
        *read_only = true;
        return 0;
    }
    if (!strncmp(name, "System::", 8) &&
        rt_sys_type(vs, scope, name + 8, vt, read_only) == 0) {
        *read_only = !*read_only; /* rt_sys_type says writable */
        return 0;
    }
    if (!(v = rt_vars_find(vs, scope, name)))
        return -1;
    *vt = v->def->data_type;
    *read_only = v->def->read_only;
    return 0;
}

static int
host_resolve(void *ctx, const struct expr_ref *ref, struct expr_binding *out,
             struct werr *err)
{
    struct rt_vars *vs = ctx;
    const struct pkg_executable *scope = vs->compiling;
    char *name;
    struct rt_xref *x;
    int vt;
    bool ro;

    if (ref->kind != EXPR_REF_VARIABLE || !ref->name)
        return werr_set(err, WERR_INVALID,
                        "columns cannot be used in the control flow");
    name =
        ref->ns ? xasprintf("%s::%s", ref->ns, ref->name) : xstrdup(ref->name);
    if (name_type(vs, scope, name, &vt, &ro) < 0) {
        werr_set(err, WERR_NOTFOUND,
                 "there is no variable or parameter '%s' visible from '%s'",
                 name, scope->path);
        free(name);
        return -1;
    }
    if (vt_to_type(vt, &out->type) < 0) {
        werr_set(err, WERR_INVALID,
                 "variable '%s' is of type %s, which expressions cannot use",
                 name, rt_vt_name(vt));
        free(name);
        return -1;
    }
    x = xcalloc(1, sizeof(*x));
    x->name = name;
    x->scope = scope;
    x->vt = vt;
    x->next = vs->xrefs;
    vs->xrefs = x;
    out->index = -1;
    out->handle = x;
    out->read_only = ro;
    return 0;
}

/* `in` (a runtime value of VARIANT type `vt`) as an expression value of
 * type `t`; strings borrowed from `in`. */
static int
to_expr(const struct rt_value *in, const struct expr_type *t,
        struct expr_value *out, struct werr *err)
{
    memset(out, 0, sizeof(*out));
    out->type = *t;
    if (in->null) {
        out->null = true;
        return 0;
    }
    switch (t->dt) {
    case EXPR_DT_I1:
    case EXPR_DT_I2:
    case EXPR_DT_I4:
    case EXPR_DT_I8:
        out->v.i = in->n.i;
        return 0;
    case EXPR_DT_UI1:
    case EXPR_DT_UI2:
    case EXPR_DT_UI4:
    case EXPR_DT_UI8:
        out->v.u = in->n.u;
        return 0;
    case EXPR_DT_R4:
    case EXPR_DT_R8:
        out->v.r = in->n.r;
        return 0;
    case EXPR_DT_BOOL:
        out->v.b = in->n.b;
        return 0;
    case EXPR_DT_WSTR:
    case EXPR_DT_BYTES:
        out->v.s.p = in->s ? in->s : "";
        out->v.s.len = in->len;
        return 0;
    default: /* dates, currency, decimal: kept as text */
        return expr_value_parse(in->s ? in->s : "", in->len, t, out, err);
    }
}

static int
host_get(void *ctx, void *handle, struct expr_value *out, struct werr *err)
{
    struct rt_vars *vs = ctx;
    struct rt_xref *x = handle;
    struct rt_value conv = {0};
    struct expr_type t;

    rt_value_release(&x->last);
    if (rt_vars_get(vs, x->scope, x->name, &x->last, err) < 0)
        return -1;
    /* A variable written with another type (an Object variable's rowset
     * aside) reads as its declared one. */
    if (x->last.vt != x->vt && !x->last.null) {
        if (rt_value_convert(&x->last, x->vt, &conv, err) < 0)
            return werr_prefix(err, "'%s'", x->name);
        rt_value_release(&x->last);
        x->last = conv;
    }
    vt_to_type(x->vt, &t);
    if (to_expr(&x->last, &t, out, err) < 0)
        return werr_prefix(err, "'%s'", x->name);
    return 0;
}

static const struct expr_host rt_host_proto = {
    .resolve = host_resolve,
    .get = host_get,
};

const struct expr_host *
rt_vars_expr_host(void)
{
    return &rt_host_proto;
}

struct expr *
rt_expr_compile(struct rt_vars *vs, const struct pkg_executable *scope,
                const char *text, unsigned flags, struct werr *err)
{
    struct expr_host host = rt_host_proto;
    struct expr_opts o = {.flags = flags, .host = &host};
    const struct pkg_executable *saved = vs->compiling;
    struct expr *e;

    host.ctx = vs;
    vs->compiling = scope;
    e = expr_compile(text, strlen(text), &o, NULL, err);
    vs->compiling = saved;
    return e;
}

/* An expression result as a runtime value of the closest VARIANT type. */
static void
from_expr(const struct expr_value *in, struct rt_value *out)
{
    char small[128], *big = NULL;
    size_t n;

    rt_value_release(out);
    if (in->null) {
        out->null = true;
        return;
    }
    switch (in->type.dt) {
    case EXPR_DT_I1:
    case EXPR_DT_I2:
    case EXPR_DT_I4:
    case EXPR_DT_I8:
        rt_value_set_int(out, in->v.i);
        return;
    case EXPR_DT_UI1:
    case EXPR_DT_UI2:
    case EXPR_DT_UI4:
    case EXPR_DT_UI8:
        out->vt = RT_VT_UI8;
        out->n.u = in->v.u;
        return;
    case EXPR_DT_R4:
    case EXPR_DT_R8:
        out->vt = RT_VT_R8;
        out->n.r = in->v.r;
        return;
    case EXPR_DT_BOOL:
        out->vt = RT_VT_BOOL;
        out->n.b = in->v.b;
        return;
    case EXPR_DT_STR:
    case EXPR_DT_WSTR:
    case EXPR_DT_TEXT:
    case EXPR_DT_NTEXT:
        rt_value_set_str(out, in->v.s.p, in->v.s.len);
        return;
    default:
        break;
    }
    /* Everything else through its text, as a cast to DT_WSTR gives it. */
    n = expr_value_format(in, small, sizeof(small));
    if (n >= sizeof(small)) {
        big = xmalloc(n + 1);
        expr_value_format(in, big, n + 1);
    }
    rt_value_set_str(out, big ? big : small, n);
    free(big);
}

/* Stores an assignment's value into its target. */
static int
assign(struct rt_vars *vs, const struct pkg_executable *scope,
       const struct expr_binding *b, const struct rt_value *v, struct werr *err)
{
    const struct rt_xref *x = b->handle;

    (void)scope;
    if (b->read_only)
        return werr_set(err, WERR_CONFLICT, "'%s' is read-only", x->name);
    return rt_vars_set(vs, x->scope, x->name, v, err);
}

int
rt_expr_eval(struct rt_vars *vs, const struct pkg_executable *scope,
             struct expr *e, struct rt_value *out, struct werr *err)
{
    const struct expr_binding *b;
    struct expr_value r;

    if (expr_eval(e, NULL, 0, 0, &r, err) < 0)
        return -1;
    from_expr(&r, out);
    if ((b = expr_assign_target(e, NULL)))
        return assign(vs, scope, b, out, err);
    return 0;
}

/* Called by rt_vars_get for a variable with EvaluateAsExpression. */
int
rt_vars_eval_var(struct rt_vars *vs, struct rt_var *v, struct rt_value *out,
                 struct werr *err)
{
    const char *ns = v->def->ns ? v->def->ns : "User";
    struct rt_value r = {0};
    int rc = -1;

    if (v->evaluating)
        return werr_set(err, WERR_INVALID,
                        "expression variable '%s::%s' depends on itself", ns,
                        v->def->name);
    if (!v->expr &&
        !(v->expr = rt_expr_compile(
              vs, v->owner, v->def->expression ? v->def->expression : "", 0,
              err)))
        goto out;
    v->evaluating = true;
    rc = rt_expr_eval(vs, v->owner, v->expr, &r, err);
    v->evaluating = false;
    if (rc == 0 &&
        (rc = rt_value_convert(&r, v->def->data_type, out, err)) == 0 &&
        v->def->data_type != RT_VT_EMPTY && v->def->data_type != RT_VT_OBJECT)
        out->vt = v->def->data_type;
out:
    rt_value_release(&r);
    if (rc < 0)
        werr_prefix(err, "variable '%s::%s' (line %d), expression \"%s\"", ns,
                    v->def->name, v->def->line,
                    v->def->expression ? v->def->expression : "");
    return rc;
}

struct rt_xcache {
    const void *key;
    struct expr *e;
};

struct expr *
rt_vars_expr(struct rt_vars *vs, const void *key,
             const struct pkg_executable *scope, const char *text,
             unsigned flags, struct werr *err)
{
    struct expr *e;

    for (size_t i = 0; i < vs->ncache; i++)
        if (vs->cache[i].key == key)
            return vs->cache[i].e;
    if (!(e = rt_expr_compile(vs, scope, text, flags, err)))
        return NULL;
    XGROW(vs->cache, vs->ncache + 1, vs->cache_cap);
    vs->cache[vs->ncache].key = key;
    vs->cache[vs->ncache++].e = e;
    return e;
}

void
rt_vars_free_exprs(struct rt_vars *vs)
{
    struct rt_xref *x, *next;

    for (size_t i = 0; i < vs->ncache; i++)
        expr_free(vs->cache[i].e);
    free(vs->cache);
    vs->cache = NULL;
    vs->ncache = vs->cache_cap = 0;

    for (size_t i = 0; i < vs->n; i++) {
        expr_free(vs->v[i].expr);
        vs->v[i].expr = NULL;
    }
    for (x = vs->xrefs; x; x = next) {
        next = x->next;
        rt_value_release(&x->last);
        free(x->name);
        free(x);
    }
    vs->xrefs = NULL;
}
