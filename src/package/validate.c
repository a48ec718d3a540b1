/*
 * Package validation: everything that can be known about a package
 * without running it or looking at the machine it will run on (the master
 * validates on deploy).  Problems are collected, one line each, so a user
 * fixes them all in one round.
 *
 * Disabled executables are skipped with everything inside them, as SSIS
 * does: a package may keep a disabled Script task around.  Event handlers
 * are validated like the containers they are.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "expr/expr.h"
#include "package/package_int.h"

struct validator {
    const struct pkg *p;
    struct wbuf *out;
    int count;
};

static void __attribute__((format(printf, 3, 4)))
problem(struct validator *v, const struct pkg_executable *e, const char *fmt,
        ...)
{
    va_list ap;

    v->count++;
    if (!v->out)
        return;
    /* A full buffer drops the text, never the count. */
    wbuf_addf(v->out, NULL, "%s: ", e->path);
    va_start(ap, fmt);
    wbuf_vaddf(v->out, NULL, fmt, ap);
    va_end(ap);
    wbuf_addch(v->out, '\n', NULL);
}

static void
check_process(struct validator *v, const struct pkg_executable *e)
{
    const struct pkg_process *pr = e->process;

    if (!pr || !*pr->executable) {
        problem(v, e, "the Execute Process task has no executable");
        return;
    }
    if (pkg_program_is_windows(pr->executable))
        problem(v, e,
                "'%s' is a Windows program: weir runs Linux programs "
                "(for example /bin/sh with Arguments -c \"...\")",
                pr->executable);
    if (pkg_path_is_windows(pr->working_directory))
        problem(v, e,
                "working directory '%s' is a Windows path: use a "
                "Linux path, relative to the package's folder",
                pr->working_directory);
}

/* What can be known of a Foreach Loop's enumerator without running it;
 * its variables and folder are checked by the runtime. */
static void
check_foreach(struct validator *v, const struct pkg_executable *e)
{
    const struct pkg_foreach *f = e->foreach;
    const char *t = f->ado_enum_type;

    if (!f->present) {
        problem(v, e, "the Foreach Loop has no enumerator "
                      "(DTS:ForEachEnumerator)");
        return;
    }
    if (f->kind > PKG_ENUM_VARIABLE) {
        problem(v, e,
                "the Foreach Loop's %s enumerator ('%s') is not supported: "
                "weir runs the File, Item, ADO and From Variable "
                "enumerators",
                f->kind_name, f->creation_name);
        return;
    }
    if ((f->kind == PKG_ENUM_ADO || f->kind == PKG_ENUM_VARIABLE) &&
        !*f->variable)
        problem(v, e, "the Foreach Loop's %s enumerator names no object "
                      "variable",
                f->kind_name);
    if (f->kind == PKG_ENUM_ADO && *t &&
        strcasecmp(t, "EnumerateRowsInFirstTable") &&
        strcasecmp(t, "EnumerateAllRows"))
        problem(v, e,
                "the ADO enumerator's mode '%s' is not supported: weir "
                "enumerates the rows of a result set "
                "(EnumerateRowsInFirstTable)",
                t);
}

static void
check_type(struct validator *v, const struct pkg_executable *e)
{
    const struct pkg_type_info *ti = pkg_type_info(e->type);

    if (!ti) {
        problem(v, e, "unsupported task type '%s'", e->type);
        return;
    }
    if (!strcmp(ti->type, "Microsoft.Package") != !e->parent) {
        if (e->parent)
            problem(v, e, "a package cannot contain a package");
        else
            problem(v, e, "the root is a %s, not a package", ti->label);
        return;
    }
    if (!ti->runnable) {
        if (ti->why_not)
            problem(v, e, "%s", ti->why_not);
        else
            problem(v, e,
                    "unsupported task type '%s': this version of weir "
                    "cannot run %ss yet",
                    ti->type, ti->label);
        return;
    }
    if (!strcmp(ti->type, "Microsoft.ExecuteProcess"))
        check_process(v, e);
    if (e->foreach)
        check_foreach(v, e);
}

static void
check_names(struct validator *v, const struct pkg_executable *e)
{
    for (size_t i = 0; i < e->nchildren; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(e->children[i]->ref_id, e->children[j]->ref_id)) {
                problem(v, e->children[i],
                        "a second executable with the "
                        "same path");
                break;
            }
}

/* From or To of a constraint that names no child of its container. */
static void
check_end(struct validator *v, const struct pkg_executable *owner,
          const struct pkg_constraint *c, const char *ref)
{
    const struct pkg_executable *x = pkg_find(v->p, ref);

    if (x)
        problem(v, owner,
                "precedence constraint '%s' connects '%s' and "
                "'%s', which are not in the same container",
                c->name, c->from_ref, c->to_ref);
    else
        problem(v, owner,
                "precedence constraint '%s' names '%s', which is "
                "not an executable of this package",
                c->name, ref);
}

int
pkg_vt_expr_type(int vt, struct expr_type *t)
{
    memset(t, 0, sizeof(*t));
    switch (vt) {
    case 2: case 3: case 4: case 5: case 6: case 11: /* I2..CY, BOOL */
    case 16: case 17: case 18: case 19: case 20: case 21: /* I1..UI8 */
        t->dt = (enum expr_dt)vt;
        return 0;
    case 7: /* DateTime */
        t->dt = EXPR_DT_DATE;
        return 0;
    case 8: /* String: no length limit */
        t->dt = EXPR_DT_WSTR;
        return 0;
    case 14: /* Decimal: exact, with room on both sides of the point */
        t->dt = EXPR_DT_NUMERIC;
        t->precision = 38;
        t->scale = 10;
        return 0;
    default: /* Empty, Object */
        return -1;
    }
}

/* Compiling an expression against the package alone: variables in scope
 * and package parameters.  Project parameters and System variables are
 * known only to the runtime, which compiles again with them; an
 * expression that names one is left to it (`deferred`). */
struct vhost {
    const struct pkg *p;
    const struct pkg_executable *scope;
    bool deferred;
};

static const struct pkg_variable *
scope_variable(const struct pkg_executable *scope, const char *ns,
               const char *name)
{
    for (const struct pkg_executable *e = scope; e; e = e->parent) {
        const struct pkg_variable *any = NULL;
        for (size_t i = 0; i < e->nvariables; i++) {
            const struct pkg_variable *d = &e->variables[i];
            const char *dns = d->ns ? d->ns : "User";
            if (strcmp(d->name, name) || (ns && strcmp(dns, ns)))
                continue;
            if (ns || !strcmp(dns, "User"))
                return d;
            if (!any)
                any = d;
        }
        if (any)
            return any;
    }
    return NULL;
}

static int
vhost_resolve(void *ctx, const struct expr_ref *ref, struct expr_binding *out,
              struct werr *err)
{
    struct vhost *h = ctx;
    const struct pkg_variable *d;
    int vt = -1;

    if (ref->kind != EXPR_REF_VARIABLE || !ref->name)
        return werr_set(err, WERR_INVALID,
                        "columns cannot be used in the control flow");
    if (ref->ns && (!strcmp(ref->ns, "$Project") || !strcmp(ref->ns, "System"))) {
        h->deferred = true;
        return werr_set(err, WERR_INVALID, "resolved at run time");
    }
    if (ref->ns && !strcmp(ref->ns, "$Package")) {
        for (size_t i = 0; i < h->p->nparameters; i++)
            if (!strcmp(h->p->parameters[i].name, ref->name))
                vt = h->p->parameters[i].data_type;
    } else if ((d = scope_variable(h->scope, ref->ns, ref->name))) {
        vt = d->data_type;
        out->read_only = d->read_only;
    }
    if (vt < 0)
        return werr_set(err, WERR_NOTFOUND,
                        "there is no variable or parameter '%s%s%s' "
                        "visible from '%s'",
                        ref->ns ? ref->ns : "", ref->ns ? "::" : "",
                        ref->name, h->scope->path);
    if (pkg_vt_expr_type(vt, &out->type) < 0)
        return werr_set(err, WERR_INVALID,
                        "'%s' is of a type expressions cannot use (%d)",
                        ref->name, vt);
    out->index = -1;
    return 0;
}

static void
check_constraint_expr(struct validator *v, const struct pkg_executable *owner,
                      const struct pkg_constraint *c)
{
    struct vhost h = {.p = v->p, .scope = owner};
    struct expr_host host = {.resolve = vhost_resolve, .ctx = &h};
    struct expr_opts o = {.host = &host};
    const char *text = c->expression ? c->expression : "";
    struct expr *e;
    struct werr err;

    if (!(e = expr_compile(text, strlen(text), &o, NULL, &err))) {
        if (!h.deferred)
            problem(v, owner,
                    "precedence constraint '%s' (%s -> %s): bad "
                    "expression \"%s\" at %s",
                    c->name, c->from->name, c->to->name, text, err.msg);
        return;
    }
    if (expr_result_type(e)->dt != EXPR_DT_BOOL)
        problem(v, owner,
                "precedence constraint '%s' (%s -> %s): expression "
                "\"%s\" is %s, not Boolean (DT_BOOL)",
                c->name, c->from->name, c->to->name, text,
                expr_dt_name(expr_result_type(e)->dt));
    expr_free(e);
}

/* Property expressions compile (which properties weir applies is the
 * runtime's business: it warns about the others). */
static void
check_expressions(struct validator *v, const struct pkg_executable *e)
{
    for (size_t i = 0; i < e->nexpressions; i++) {
        const struct pkg_property_expression *pe = &e->expressions[i];
        const char *text = pe->expression ? pe->expression : "";
        struct vhost h = {.p = v->p, .scope = e};
        struct expr_host host = {.resolve = vhost_resolve, .ctx = &h};
        struct expr_opts o = {.host = &host};
        struct werr err;
        struct expr *x = expr_compile(text, strlen(text), &o, NULL, &err);

        if (!x && !h.deferred)
            problem(v, e, "the property expression on %s (\"%s\"): %s",
                    pe->property, text, err.msg);
        expr_free(x);
    }
}

static void
check_constraint(struct validator *v, const struct pkg_executable *owner,
                 const struct pkg_constraint *c)
{
    if (!c->from || !c->to) {
        check_end(v, owner, c, c->from ? c->to_ref : c->from_ref);
        return;
    }
    if (c->eval_op != PKG_EVAL_CONSTRAINT)
        check_constraint_expr(v, owner, c);
}

static size_t
child_pos(const struct pkg_executable *owner, const struct pkg_executable *x)
{
    for (size_t i = 0; i < owner->nchildren; i++)
        if (owner->children[i] == x)
            return i;
    return owner->nchildren;
}

/* Depth-first search for a cycle among the children; `color` is 0 unseen,
 * 1 on the current path, 2 done.  On finding one, `path` holds it from
 * path[start] to path[len - 1], and the function returns true. */
struct cycle_search {
    const struct pkg_executable *owner;
    unsigned char *color;
    size_t *path, len, start;
};

static bool
dfs(struct cycle_search *s, size_t i)
{
    s->color[i] = 1;
    s->path[s->len++] = i;
    for (size_t k = 0; k < s->owner->nconstraints; k++) {
        const struct pkg_constraint *c = &s->owner->constraints[k];
        if (!c->from || !c->to || child_pos(s->owner, c->from) != i)
            continue;
        size_t j = child_pos(s->owner, c->to);
        if (s->color[j] == 1) {
            for (s->start = 0; s->path[s->start] != j; s->start++)
                ;
            return true;
        }
        if (s->color[j] == 0 && dfs(s, j))
            return true;
    }
    s->color[i] = 2;
    s->len--;
    return false;
}

static void
check_cycles(struct validator *v, const struct pkg_executable *owner)
{
    size_t n = owner->nchildren;
    struct cycle_search s = {.owner = owner};
    struct wbuf msg;

    if (!owner->nconstraints || !n)
        return;
    s.color = xcalloc(n, 1);
    s.path = xcalloc(n, sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        if (s.color[i] || !dfs(&s, i))
            continue;
        wbuf_init(&msg, 4096);
        for (size_t k = s.start; k < s.len; k++)
            wbuf_addf(&msg, NULL, "'%s' -> ", owner->children[s.path[k]]->name);
        wbuf_addf(&msg, NULL, "'%s'", owner->children[s.path[s.start]]->name);
        problem(v, owner, "precedence constraints form a cycle: %s", msg.buf);
        wbuf_release(&msg);
        break;
    }
    free(s.color);
    free(s.path);
}

static void
check_executable(struct validator *v, const struct pkg_executable *e)
{
    if (e->disabled)
        return;
    check_type(v, e);
    check_expressions(v, e);
    check_names(v, e);
    for (size_t i = 0; i < e->nconstraints; i++)
        check_constraint(v, e, &e->constraints[i]);
    check_cycles(v, e);
    for (size_t i = 0; i < e->nchildren; i++)
        check_executable(v, e->children[i]);
    for (size_t i = 0; i < e->nhandlers; i++)
        check_executable(v, e->handlers[i].container);
}

int
pkg_validate(const struct pkg *p, struct wbuf *problems)
{
    struct validator v = {.p = p, .out = problems};

    check_executable(&v, p->root);
    return v.count;
}
