/*
 * The variable store of one run (vars.h).
 *
 * Variables are few (tens), so the store is a flat array searched
 * linearly; scoping is done by walking from the asking executable to the
 * root and taking the first variable declared on that chain.  Parameters
 * stay in rt_params as text and are parsed on each read, so a value set
 * by the execution is always the one read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

static void
add_var(struct rt_vars *vs, size_t *cap, const struct pkg_executable *e,
        const struct pkg_variable *def)
{
    struct rt_var *v;
    struct werr err;

    XGROW(vs->v, vs->n + 1, *cap);
    v = &vs->v[vs->n++];
    memset(v, 0, sizeof(*v));
    v->owner = e;
    v->def = def;
    if (rt_value_parse(def->value ? def->value : "", def->data_type, &v->v,
                       &err) < 0)
        v->bad = xasprintf("variable '%s::%s' (line %d): its value %s",
                           def->ns ? def->ns : "User", def->name, def->line,
                           err.msg);
    v->v.vt = def->data_type;
}

static void
collect(struct rt_vars *vs, size_t *cap, const struct pkg_executable *e)
{
    for (size_t i = 0; i < e->nvariables; i++)
        add_var(vs, cap, e, &e->variables[i]);
    for (size_t i = 0; i < e->nchildren; i++)
        collect(vs, cap, e->children[i]);
    for (size_t i = 0; i < e->nhandlers; i++)
        collect(vs, cap, e->handlers[i].container);
}

void
rt_vars_init(struct rt_vars *vs, const struct pkg *p,
             const struct rt_params *params)
{
    size_t cap = 0;

    memset(vs, 0, sizeof(*vs));
    rt_sys_init(&vs->sys, p);
    vs->pkg = p;
    vs->params = params;
    collect(vs, &cap, pkg_root(p));
}

void
rt_vars_release(struct rt_vars *vs)
{
    rt_vars_free_exprs(vs);
    for (size_t i = 0; i < vs->n; i++) {
        rt_value_release(&vs->v[i].v);
        free(vs->v[i].bad);
    }
    free(vs->v);
    rt_sys_release(&vs->sys);
    memset(vs, 0, sizeof(*vs));
}

/* "@[User::X]" -> "User::X" into `buf`. */
static const char *
strip_brackets(const char *name, char *buf, size_t size)
{
    size_t len = strlen(name);

    if (len >= 3 && name[0] == '@' && name[1] == '[' && name[len - 1] == ']') {
        snprintf(buf, size, "%.*s", (int)(len - 3), name + 2);
        return buf;
    }
    return name;
}

static bool
matches(const struct pkg_variable *d, const char *ns, size_t nslen,
        const char *name)
{
    const char *dns = d->ns ? d->ns : "User";

    if (strcmp(d->name, name))
        return false;
    return !ns || (strlen(dns) == nslen && !strncmp(dns, ns, nslen));
}

/* The variable declared on `e` itself, namespace User preferred when the
 * name has none. */
static struct rt_var *
declared_on(struct rt_vars *vs, const struct pkg_executable *e, const char *ns,
            size_t nslen, const char *name)
{
    struct rt_var *any = NULL;

    for (size_t i = 0; i < vs->n; i++) {
        struct rt_var *v = &vs->v[i];
        if (v->owner != e || !matches(v->def, ns, nslen, name))
            continue;
        if (ns || matches(v->def, "User", 4, name))
            return v;
        if (!any)
            any = v;
    }
    return any;
}

struct rt_var *
rt_vars_find(struct rt_vars *vs, const struct pkg_executable *scope,
             const char *name)
{
    char buf[512];
    const char *n = strip_brackets(name, buf, sizeof(buf)), *sep;
    const char *ns = NULL;
    size_t nslen = 0;
    struct rt_var *v;

    if ((sep = strstr(n, "::"))) {
        ns = n;
        nslen = (size_t)(sep - n);
        n = sep + 2;
    }
    for (const struct pkg_executable *e = scope; e; e = e->parent)
        if ((v = declared_on(vs, e, ns, nslen, n)))
            return v;
    return NULL;
}

static bool
is_param_name(const char *name)
{
    return !strncasecmp(name, "$Package::", 10) ||
           !strncasecmp(name, "$Project::", 10);
}

static bool
sys_exists(struct rt_vars *vs, const struct pkg_executable *scope,
           const char *name)
{
    int vt;
    bool w;

    return rt_sys_type(vs, scope, name, &vt, &w) == 0;
}

bool
rt_vars_exists(struct rt_vars *vs, const struct pkg_executable *scope,
               const char *name)
{
    char buf[512];
    const char *n = strip_brackets(name, buf, sizeof(buf));

    if (is_param_name(n))
        return vs->params && rt_params_find(vs->params, n);
    if (!strncmp(n, "System::", 8) && sys_exists(vs, scope, n + 8))
        return true;
    return rt_vars_find(vs, scope, n) != NULL;
}

static int
get_param(struct rt_vars *vs, const char *name, struct rt_value *out,
          struct werr *err)
{
    const struct rt_param *p =
        vs->params ? rt_params_find(vs->params, name) : NULL;

    if (!p)
        return werr_set(err, WERR_NOTFOUND, "there is no parameter '%s'", name);
    if (!p->value)
        return werr_set(err, WERR_INVALID, "parameter '%s' has no value", name);
    if (rt_value_parse(p->value, p->def->data_type, out, err) == 0)
        return 0;
    if (p->def->sensitive) /* the message would quote the value */
        return werr_set(err, WERR_INVALID,
                        "sensitive parameter '%s': its value is not a "
                        "valid %s",
                        name, rt_vt_name(p->def->data_type));
    return werr_prefix(err, "parameter '%s'", name);
}

int
rt_vars_get(struct rt_vars *vs, const struct pkg_executable *scope,
            const char *name, struct rt_value *out, struct werr *err)
{
    char buf[512];
    const char *n = strip_brackets(name, buf, sizeof(buf));
    struct rt_var *v;

    if (is_param_name(n))
        return get_param(vs, n, out, err);
    /* System variables the runtime provides win over declared ones: a
     * handler declares System::Propagate, whose value is the frame's. */
    if (!strncmp(n, "System::", 8) &&
        (sys_exists(vs, scope, n + 8) || !rt_vars_find(vs, scope, n)))
        return rt_sys_get(vs, scope, n + 8, out, err);
    if (!(v = rt_vars_find(vs, scope, n)))
        return werr_set(err, WERR_NOTFOUND,
                        "there is no variable '%s' visible from '%s'", n,
                        scope->path);
    if (v->def->evaluate_as_expression)
        return rt_vars_eval_var(vs, v, out, err);
    if (v->bad)
        return werr_set(err, WERR_INVALID, "%s", v->bad);
    rt_value_copy(out, &v->v);
    return 0;
}

/* Whether a new value differs from the old one (OnVariableValueChanged):
 * compared as text, NULL apart, object values by their result set. */
static bool
differs(const struct rt_value *a, const struct rt_value *b)
{
    char *ta, *tb;
    bool d;

    if (a->null != b->null || a->rows != b->rows)
        return true;
    ta = rt_value_text(a);
    tb = rt_value_text(b);
    d = strcmp(ta, tb) != 0;
    free(ta);
    free(tb);
    return d;
}

int
rt_vars_set(struct rt_vars *vs, const struct pkg_executable *scope,
            const char *name, const struct rt_value *val, struct werr *err)
{
    char buf[512];
    const char *n = strip_brackets(name, buf, sizeof(buf));
    struct rt_var *v;
    struct rt_value conv = {0};
    bool changed;

    if (is_param_name(n))
        return werr_set(err, WERR_CONFLICT, "'%s' is read-only", n);
    if (!strncmp(n, "System::", 8))
        return rt_sys_set(vs, scope, n + 8, val, err);
    if (!(v = rt_vars_find(vs, scope, n)))
        return werr_set(err, WERR_NOTFOUND,
                        "there is no variable '%s' visible from '%s'", n,
                        scope->path);
    if (v->def->read_only)
        return werr_set(err, WERR_CONFLICT, "variable '%s' is read-only", n);
    if (rt_value_convert(val, v->def->data_type, &conv, err) < 0)
        return werr_prefix(err, "variable '%s' (%s)", n,
                           rt_vt_name(v->def->data_type));
    changed = v->def->raise_changed_event && differs(&v->v, &conv);
    rt_value_release(&v->v);
    v->v = conv;
    if (v->def->data_type != RT_VT_EMPTY && v->def->data_type != RT_VT_OBJECT)
        v->v.vt = v->def->data_type;
    free(v->bad);
    v->bad = NULL;
    if (changed && vs->sys.changed)
        vs->sys.changed(vs->sys.changed_ctx, v, scope);
    return 0;
}

bool
rt_vars_is_sensitive(struct rt_vars *vs, const char *name)
{
    char buf[512];
    const char *n = strip_brackets(name, buf, sizeof(buf));
    const struct rt_param *p;

    if (!is_param_name(n) || !vs->params)
        return false;
    p = rt_params_find(vs->params, n);
    return p && p->def->sensitive;
}
