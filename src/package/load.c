/*
 * The .dtsx loader: walks the libxml2 tree once and builds the package
 * model in the package's arena.
 *
 * The package, its containers, its tasks and its event handlers share one
 * element shape (DTS:Executable with DTS:Variables, DTS:Executables,
 * DTS:PrecedenceConstraints, DTS:EventHandlers, DTS:ObjectData...), so one
 * recursive function reads them all.  Attributes that are absent take the
 * format's defaults (DTSX.md).  The first thing that cannot be understood
 * stops the load with "'FILE' line N: <element> ...": what can be read but
 * not run is left to pkg_validate, which lists every problem.
 *
 * The xmlDoc is kept with the package so tasks whose payload this module
 * does not parse can read their DTS:ObjectData later.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "base/wfile.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "package/package_int.h"

struct loader {
    struct pkg *p;
    struct warena *a;
    struct werr *err;
    size_t cap; /* of p->all */
};

static struct pkg_executable *parse_executable(struct loader *l,
                                               const xmlNode *n,
                                               struct pkg_executable *parent,
                                               bool handler);

static int __attribute__((format(printf, 3, 4)))
fail(struct loader *l, const xmlNode *n, const char *fmt, ...)
{
    char msg[224];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return werr_set(l->err, WERR_INVALID, "'%s' line %d: %s", l->p->file,
                    pkg_xml_line(n), msg);
}

static const char *
dts(struct loader *l, const xmlNode *n, const char *name)
{
    return pkg_xml_attr(l->a, n, PKG_NS_DTS, name);
}

/* "DTS:Name" or "Name", for messages. */
static const char *
qname(const char *ns, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s", ns && !strcmp(ns, PKG_NS_DTS) ? "DTS:" : "",
             name);
    return buf;
}

static int
parse_bool(const char *v, bool *out)
{
    if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "-1"))
        *out = true;
    else if (!strcasecmp(v, "false") || !strcmp(v, "0"))
        *out = false;
    else
        return -1;
    return 0;
}

static int
get_bool(struct loader *l, const xmlNode *n, const char *ns, const char *name,
         bool def, bool *out)
{
    const char *v = pkg_xml_attr(l->a, n, ns, name);
    char q[64];

    *out = def;
    if (!v || !*v)
        return 0;
    if (parse_bool(v, out) < 0)
        return fail(l, n, "%s must be True or False, not '%s'",
                    qname(ns, name, q, sizeof(q)), v);
    return 0;
}

static int
get_int(struct loader *l, const xmlNode *n, const char *ns, const char *name,
        long def, long min, long max, int *out)
{
    const char *v = pkg_xml_attr(l->a, n, ns, name);
    char *end, q[64];
    long x;

    *out = (int)def;
    if (!v || !*v)
        return 0;
    errno = 0;
    x = strtol(v, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    if (end == v || *end || errno || x < min || x > max)
        return fail(l, n, "%s must be an integer from %ld to %ld, not '%s'",
                    qname(ns, name, q, sizeof(q)), min, max, v);
    *out = (int)x;
    return 0;
}

static size_t
count_elements(const xmlNode *parent, const char *ns, const char *local)
{
    size_t n = 0;

    for (const xmlNode *c = parent->children; c; c = c->next)
        n += pkg_xml_is(c, ns, local);
    return n;
}

/* The element child `local` of `parent`, if exactly one; -1 with an error
 * if there are several. */
static int
only_child(struct loader *l, const xmlNode *parent, const char *local,
           const xmlNode **out)
{
    *out = NULL;
    for (const xmlNode *c = parent->children; c; c = c->next) {
        if (!pkg_xml_is(c, PKG_NS_DTS, local))
            continue;
        if (*out)
            return fail(l, c, "a second <DTS:%s> in the same element", local);
        *out = c;
    }
    return 0;
}

static void
add_to_all(struct loader *l, struct pkg_executable *e)
{
    XGROW(l->p->all, l->p->nall + 1, l->cap);
    e->index = l->p->nall;
    l->p->all[l->p->nall++] = e;
}

static int
read_variable(struct loader *l, const xmlNode *n, struct pkg_variable *v)
{
    const xmlNode *val = NULL;

    v->ns = dts(l, n, "Namespace");
    v->name = dts(l, n, "ObjectName");
    if (!v->name || !*v->name)
        return fail(l, n, "<DTS:Variable> has no DTS:ObjectName");
    if (!v->ns)
        v->ns = "User";
    v->dtsid = dts(l, n, "DTSID");
    v->expression = dts(l, n, "Expression");
    v->line = pkg_xml_line(n);
    if (get_bool(l, n, PKG_NS_DTS, "EvaluateAsExpression", false,
                 &v->evaluate_as_expression) < 0 ||
        get_bool(l, n, PKG_NS_DTS, "ReadOnly", false, &v->read_only) < 0 ||
        get_bool(l, n, PKG_NS_DTS, "RaiseChangedEvent", false,
                 &v->raise_changed_event) < 0 ||
        only_child(l, n, "VariableValue", &val) < 0)
        return -1;
    v->value = "";
    if (!val)
        return 0;
    v->value = pkg_xml_text(l->a, val);
    return get_int(l, val, PKG_NS_DTS, "DataType", 0, 0, 0xffff, &v->data_type);
}

static int
read_variables(struct loader *l, const xmlNode *list, struct pkg_executable *e)
{
    size_t n = count_elements(list, PKG_NS_DTS, "Variable"), i = 0;
    struct pkg_variable *vars;

    if (!n)
        return 0;
    vars = warena_alloc(l->a, n * sizeof(*vars));
    for (const xmlNode *c = list->children; c; c = c->next)
        if (pkg_xml_is(c, PKG_NS_DTS, "Variable") &&
            read_variable(l, c, &vars[i++]) < 0)
            return -1;
    e->variables = vars;
    e->nvariables = n;
    return 0;
}

static int
read_children(struct loader *l, const xmlNode *list, struct pkg_executable *e)
{
    size_t n = count_elements(list, PKG_NS_DTS, "Executable"), i = 0;
    struct pkg_executable **kids;

    if (!n)
        return 0;
    kids = warena_alloc(l->a, n * sizeof(*kids));
    for (const xmlNode *c = list->children; c; c = c->next) {
        if (!pkg_xml_is(c, PKG_NS_DTS, "Executable"))
            continue;
        if (!(kids[i++] = parse_executable(l, c, e, false)))
            return -1;
    }
    e->children = (const struct pkg_executable *const *)kids;
    e->nchildren = n;
    return 0;
}

/* The child of `owner` that a constraint's From or To names: by refId, then
 * by refId ignoring case, then by DTSID (GUIDs compare ignoring case). */
static const struct pkg_executable *
find_child(const struct pkg_executable *owner, const char *ref)
{
    for (size_t i = 0; i < owner->nchildren; i++)
        if (!strcmp(owner->children[i]->ref_id, ref))
            return owner->children[i];
    for (size_t i = 0; i < owner->nchildren; i++)
        if (!strcasecmp(owner->children[i]->ref_id, ref))
            return owner->children[i];
    for (size_t i = 0; i < owner->nchildren; i++)
        if (*owner->children[i]->dtsid &&
            !strcasecmp(owner->children[i]->dtsid, ref))
            return owner->children[i];
    return NULL;
}

static int
read_constraint(struct loader *l, const xmlNode *n,
                const struct pkg_executable *owner, struct pkg_constraint *c)
{
    int value, op;

    c->name = dts(l, n, "ObjectName");
    if (!c->name)
        c->name = "";
    c->line = pkg_xml_line(n);
    c->from_ref = dts(l, n, "From");
    c->to_ref = dts(l, n, "To");
    if (!c->from_ref || !*c->from_ref)
        return fail(l, n, "<DTS:PrecedenceConstraint> '%s' has no DTS:From",
                    c->name);
    if (!c->to_ref || !*c->to_ref)
        return fail(l, n, "<DTS:PrecedenceConstraint> '%s' has no DTS:To",
                    c->name);
    if (get_int(l, n, PKG_NS_DTS, "Value", PKG_SUCCESS, 0, 2, &value) < 0 ||
        get_int(l, n, PKG_NS_DTS, "EvalOp", PKG_EVAL_CONSTRAINT, 1, 4, &op) <
            0 ||
        get_bool(l, n, PKG_NS_DTS, "LogicalAnd", false, &c->logical_and) < 0)
        return -1;
    c->value = (enum pkg_outcome)value;
    c->eval_op = (enum pkg_eval_op)op;
    c->expression = dts(l, n, "Expression");
    c->from = find_child(owner, c->from_ref);
    c->to = find_child(owner, c->to_ref);
    return 0;
}

static int
read_constraints(struct loader *l, const xmlNode *list,
                 struct pkg_executable *e)
{
    size_t n = count_elements(list, PKG_NS_DTS, "PrecedenceConstraint");
    struct pkg_constraint *cs;
    size_t i = 0;

    if (!n)
        return 0;
    cs = warena_alloc(l->a, n * sizeof(*cs));
    for (const xmlNode *c = list->children; c; c = c->next)
        if (pkg_xml_is(c, PKG_NS_DTS, "PrecedenceConstraint") &&
            read_constraint(l, c, e, &cs[i++]) < 0)
            return -1;
    e->constraints = cs;
    e->nconstraints = n;
    return 0;
}

static int
read_handlers(struct loader *l, const xmlNode *list, struct pkg_executable *e)
{
    size_t n = count_elements(list, PKG_NS_DTS, "EventHandler"), i = 0;
    struct pkg_event_handler *hs;

    if (!n)
        return 0;
    hs = warena_alloc(l->a, n * sizeof(*hs));
    for (const xmlNode *c = list->children; c; c = c->next) {
        if (!pkg_xml_is(c, PKG_NS_DTS, "EventHandler"))
            continue;
        hs[i].event = dts(l, c, "EventName");
        if (!hs[i].event || !*hs[i].event)
            return fail(l, c, "<DTS:EventHandler> has no DTS:EventName");
        if (!(hs[i++].container = parse_executable(l, c, e, true)))
            return -1;
    }
    e->handlers = hs;
    e->nhandlers = n;
    return 0;
}

static int
read_expression_list(struct loader *l, const xmlNode *n,
                     const struct pkg_property_expression **out, size_t *nout)
{
    size_t count = count_elements(n, PKG_NS_DTS, "PropertyExpression");
    struct pkg_property_expression *xs;
    size_t i = 0;

    if (!count)
        return 0;
    xs = warena_alloc(l->a, count * sizeof(*xs));
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (!pkg_xml_is(c, PKG_NS_DTS, "PropertyExpression"))
            continue;
        xs[i].property = dts(l, c, "Name");
        if (!xs[i].property || !*xs[i].property)
            return fail(l, c, "<DTS:PropertyExpression> has no DTS:Name");
        xs[i++].expression = pkg_xml_text(l->a, c);
    }
    *out = xs;
    *nout = count;
    return 0;
}

static int
read_expressions(struct loader *l, const xmlNode *n, struct pkg_executable *e)
{
    return read_expression_list(l, n, &e->expressions, &e->nexpressions);
}

static const char *
attr_or_empty(struct loader *l, const xmlNode *n, const char *name)
{
    const char *v = pkg_xml_attr(l->a, n, NULL, name);

    return v ? v : "";
}

static struct pkg_process *
new_process(struct loader *l)
{
    struct pkg_process *pr = warena_alloc(l->a, sizeof(*pr));

    pr->executable = pr->arguments = pr->working_directory = "";
    pr->stdin_variable = pr->stdout_variable = pr->stderr_variable = "";
    pr->fail_on_return_code = pr->require_full_file_name = true;
    return pr;
}

/* ExecuteProcessData: attributes without a namespace, defaults omitted. */
static int
read_process(struct loader *l, const xmlNode *data, struct pkg_executable *e)
{
    struct pkg_process *pr = new_process(l);
    const xmlNode *n = NULL;

    e->process = pr;
    for (const xmlNode *c = data->children; c && !n; c = c->next)
        if (c->type == XML_ELEMENT_NODE &&
            !strcmp((const char *)c->name, "ExecuteProcessData"))
            n = c;
    if (!n)
        return 0;
    pr->executable = attr_or_empty(l, n, "Executable");
    pr->arguments = attr_or_empty(l, n, "Arguments");
    pr->working_directory = attr_or_empty(l, n, "WorkingDirectory");
    pr->stdin_variable = attr_or_empty(l, n, "StandardInputVariable");
    pr->stdout_variable = attr_or_empty(l, n, "StandardOutputVariable");
    pr->stderr_variable = attr_or_empty(l, n, "StandardErrorVariable");
    if (get_int(l, n, NULL, "SuccessValue", 0, INT_MIN, INT_MAX,
                &pr->success_value) < 0 ||
        get_int(l, n, NULL, "TimeOut", 0, 0, INT_MAX, &pr->timeout_s) < 0 ||
        get_bool(l, n, NULL, "FailTaskIfReturnCodeIsNotSuccessValue", true,
                 &pr->fail_on_return_code) < 0 ||
        get_bool(l, n, NULL, "RequireFullFileName", true,
                 &pr->require_full_file_name) < 0)
        return -1;
    return 0;
}

/* One child element of an executable; unknown ones (layout, logging,
 * checkpoints...) are skipped. */
static int
read_part(struct loader *l, const xmlNode *c, struct pkg_executable *e)
{
    if (pkg_xml_is(c, PKG_NS_DTS, "Variables"))
        return e->variables ? fail(l, c, "a second <DTS:Variables>")
                            : read_variables(l, c, e);
    if (pkg_xml_is(c, PKG_NS_DTS, "Executables"))
        return e->children ? fail(l, c, "a second <DTS:Executables>")
                           : read_children(l, c, e);
    if (pkg_xml_is(c, PKG_NS_DTS, "EventHandlers"))
        return e->handlers ? fail(l, c, "a second <DTS:EventHandlers>")
                           : read_handlers(l, c, e);
    if (pkg_xml_is(c, PKG_NS_DTS, "ObjectData")) {
        if (e->object_data)
            return fail(l, c, "a second <DTS:ObjectData>");
        e->object_data = c;
        if (!strcmp(e->type, "Microsoft.ExecuteProcess"))
            return read_process(l, c, e);
    }
    return 0;
}

/* A Foreach Loop's enumerator and variable mappings (load_foreach.c). */
static int
read_foreach(struct loader *l, const xmlNode *n, struct pkg_executable *e)
{
    const xmlNode *en = NULL, *maps = NULL;

    if (only_child(l, n, "ForEachEnumerator", &en) < 0 ||
        only_child(l, n, "ForEachVariableMappings", &maps) < 0)
        return -1;
    e->foreach = pkg_read_foreach(l->a, l->p->file, n, en, maps, l->err);
    return e->foreach ? 0 : -1;
}

/* Constraints name children, so they are read after all the parts. */
static int
read_body(struct loader *l, const xmlNode *n, struct pkg_executable *e)
{
    const xmlNode *constraints = NULL;

    for (const xmlNode *c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && read_part(l, c, e) < 0)
            return -1;
    if (read_expressions(l, n, e) < 0 ||
        only_child(l, n, "PrecedenceConstraints", &constraints) < 0)
        return -1;
    if (constraints && read_constraints(l, constraints, e) < 0)
        return -1;
    if (!e->process && !strcmp(e->type, "Microsoft.ExecuteProcess"))
        e->process = new_process(l);
    if (!strcmp(e->type, "STOCK:FOREACHLOOP"))
        return read_foreach(l, n, e);
    return 0;
}

static const char *
last_segment(const char *ref)
{
    const char *s = strrchr(ref, '\\');

    return s ? s + 1 : ref;
}

static int
read_identity(struct loader *l, const xmlNode *n, struct pkg_executable *e,
              bool handler)
{
    const char *ref = dts(l, n, "refId"), *type, *norm;
    char *path;

    if (!ref || !*ref)
        return fail(l, n, "<DTS:%s> has no DTS:refId",
                    handler ? "EventHandler" : "Executable");
    e->ref_id = ref;
    path = warena_alloc(l->a, strlen(ref) + 2);
    path[0] = '\\';
    memcpy(path + 1, ref, strlen(ref) + 1);
    e->path = path;
    e->name = dts(l, n, "ObjectName");
    if (!e->name || !*e->name)
        e->name = handler ? dts(l, n, "EventName") : last_segment(ref);
    e->dtsid = dts(l, n, "DTSID");
    if (!e->dtsid)
        e->dtsid = "";
    e->description = dts(l, n, "Description");
    if (!e->description)
        e->description = "";
    if (handler) {
        e->type = e->type_written = "EventHandler";
        return 0;
    }
    type = dts(l, n, "ExecutableType");
    if (!type || !*type)
        type = dts(l, n, "CreationName");
    if (!type || !*type)
        return fail(l, n, "<DTS:Executable> '%s' has no DTS:ExecutableType",
                    ref);
    e->type_written = type;
    norm = pkg_type_normalize(type);
    if (norm)
        e->type = norm;
    else {
        const char *comma = strchr(type, ',');
        e->type = comma ? warena_strndup(l->a, type, (size_t)(comma - type))
                        : type;
    }
    return 0;
}

static int
read_flags(struct loader *l, const xmlNode *n, struct pkg_executable *e)
{
    const char *ns = PKG_NS_DTS;

    if (get_bool(l, n, ns, "Disabled", false, &e->disabled) < 0 ||
        get_bool(l, n, ns, "DelayValidation", false, &e->delay_validation) <
            0 ||
        get_bool(l, n, ns, "FailPackageOnFailure", false,
                 &e->fail_package_on_failure) < 0 ||
        get_bool(l, n, ns, "FailParentOnFailure", false,
                 &e->fail_parent_on_failure) < 0 ||
        get_int(l, n, ns, "MaxErrorCount", 1, 0, INT_MAX, &e->max_error_count) <
            0 ||
        get_int(l, n, ns, "ForceExecutionResult", -1, -1, 2,
                &e->force_execution_result) < 0)
        return -1;
    e->init_expression = dts(l, n, "InitExpression");
    e->eval_expression = dts(l, n, "EvalExpression");
    e->assign_expression = dts(l, n, "AssignExpression");
    return 0;
}

static struct pkg_executable *
parse_executable(struct loader *l, const xmlNode *n,
                 struct pkg_executable *parent, bool handler)
{
    struct pkg_executable *e = warena_alloc(l->a, sizeof(*e));

    e->parent = parent;
    e->depth = parent ? parent->depth + 1 : 0;
    e->in_handler = handler || (parent && parent->in_handler);
    e->line = pkg_xml_line(n);
    if (e->depth > PKG_MAX_DEPTH) {
        werr_set(l->err, WERR_LIMIT,
                 "'%s' line %d: containers are nested more than %d deep",
                 l->p->file, e->line, PKG_MAX_DEPTH);
        return NULL;
    }
    add_to_all(l, e);
    if (read_identity(l, n, e, handler) < 0 || read_flags(l, n, e) < 0 ||
        read_body(l, n, e) < 0)
        return NULL;
    return e;
}

static int
read_parameter(struct loader *l, const xmlNode *n, struct pkg_parameter *pa)
{
    const xmlNode *val = NULL;

    pa->name = dts(l, n, "ObjectName");
    if (!pa->name || !*pa->name)
        return fail(l, n, "<DTS:PackageParameter> has no DTS:ObjectName");
    pa->dtsid = dts(l, n, "DTSID");
    pa->description = dts(l, n, "Description");
    pa->line = pkg_xml_line(n);
    if (get_int(l, n, PKG_NS_DTS, "DataType", 8, 0, 0xffff, &pa->data_type) <
            0 ||
        get_bool(l, n, PKG_NS_DTS, "Required", false, &pa->required) < 0 ||
        get_bool(l, n, PKG_NS_DTS, "Sensitive", false, &pa->sensitive) < 0)
        return -1;
    for (const xmlNode *c = n->children; c && !val; c = c->next) {
        const char *name;
        if (pkg_xml_is(c, PKG_NS_DTS, "Property") &&
            (name = dts(l, c, "Name")) && !strcmp(name, "ParameterValue"))
            val = c;
    }
    if (!val)
        return 0;
    /* An encrypted value is an element inside the property (DPAPI blob
     * with Encrypted="1", or XML-Encryption EncryptedData). */
    for (const xmlNode *c = val->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            pa->encrypted = true;
    if (!pa->encrypted)
        pa->value = pkg_xml_text(l->a, val);
    return 0;
}

static int
read_parameters(struct loader *l, const xmlNode *list)
{
    size_t n = count_elements(list, PKG_NS_DTS, "PackageParameter"), i = 0;
    struct pkg_parameter *ps;

    if (!n)
        return 0;
    ps = warena_alloc(l->a, n * sizeof(*ps));
    for (const xmlNode *c = list->children; c; c = c->next)
        if (pkg_xml_is(c, PKG_NS_DTS, "PackageParameter") &&
            read_parameter(l, c, &ps[i++]) < 0)
            return -1;
    l->p->parameters = ps;
    l->p->nparameters = n;
    return 0;
}

/* A Cache manager's file (its connection string) may be written on the
 * outer element or, as ConnectionString or FileName, on its definition
 * element; the first found is kept. */
static void
read_cache_file(struct loader *l, const xmlNode *n, struct pkg_connection *cm)
{
    const xmlNode *d = cm->object_data;
    const char *s = NULL;

    if (*cm->connection_string)
        return;
    if (!(s = dts(l, n, "ConnectionString")) && d &&
        !(s = pkg_xml_attr(l->a, d, NULL, "ConnectionString")) &&
        !(s = pkg_xml_attr(l->a, d, PKG_NS_DTS, "ConnectionString")))
        s = pkg_xml_attr(l->a, d, NULL, "FileName");
    if (s)
        cm->connection_string = s;
}

static int
read_connection(struct loader *l, const xmlNode *n, struct pkg_connection *cm)
{
    const xmlNode *data = NULL;

    cm->name = dts(l, n, "ObjectName");
    if (!cm->name || !*cm->name)
        return fail(l, n, "<DTS:ConnectionManager> has no DTS:ObjectName");
    cm->dtsid = dts(l, n, "DTSID");
    cm->ref_id = dts(l, n, "refId");
    cm->creation_name = dts(l, n, "CreationName");
    cm->line = pkg_xml_line(n);
    if (!cm->creation_name)
        cm->creation_name = "";
    cm->connection_string = "";
    if (only_child(l, n, "ObjectData", &data) < 0 ||
        read_expression_list(l, n, &cm->expressions, &cm->nexpressions) < 0)
        return -1;
    for (const xmlNode *c = data ? data->children : NULL; c; c = c->next) {
        const char *s;
        /* Other managers (CACHE) keep their definition in an element of
         * their own: the first one is theirs. */
        if (c->type == XML_ELEMENT_NODE && !cm->object_data)
            cm->object_data = c;
        if (!pkg_xml_is(c, PKG_NS_DTS, "ConnectionManager"))
            continue;
        cm->object_data = c;
        if ((s = dts(l, c, "ConnectionString")))
            cm->connection_string = s;
        if (pkg_xml_is(c, PKG_NS_DTS, "ConnectionManager") &&
            (s = dts(l, c, "FileUsageType")))
            cm->file_usage =
                s[0] >= '0' && s[0] <= '3' && !s[1] ? s[0] - '0' : 0;
    }
    if (!strcasecmp(cm->creation_name, "CACHE"))
        read_cache_file(l, n, cm);
    return 0;
}

static int
read_connections(struct loader *l, const xmlNode *list)
{
    size_t n = count_elements(list, PKG_NS_DTS, "ConnectionManager"), i = 0;
    struct pkg_connection *cs;

    if (!n)
        return 0;
    cs = warena_alloc(l->a, n * sizeof(*cs));
    for (const xmlNode *c = list->children; c; c = c->next)
        if (pkg_xml_is(c, PKG_NS_DTS, "ConnectionManager") &&
            read_connection(l, c, &cs[i++]) < 0)
            return -1;
    l->p->connections = cs;
    l->p->nconnections = n;
    return 0;
}

/* PackageFormatVersion: 6 (SSIS 2012/2014) and 8 (2016 and later) share
 * one schema; 2 and 3 are a different one that is refused by name. */
static int
check_format(struct loader *l, const xmlNode *root)
{
    const xmlNode *prop = NULL;
    char *end;
    long v;

    for (const xmlNode *c = root->children; c && !prop; c = c->next) {
        const char *name;
        if (pkg_xml_is(c, PKG_NS_DTS, "Property") &&
            (name = dts(l, c, "Name")) && !strcmp(name, "PackageFormatVersion"))
            prop = c;
    }
    if (!prop) {
        if (!dts(l, root, "refId"))
            return fail(l, root,
                        "no PackageFormatVersion: not a package in "
                        "the SSIS 2012 or later format");
        l->p->format_version = 8;
        return 0;
    }
    const char *text = pkg_xml_text(l->a, prop);
    errno = 0;
    v = strtol(text, &end, 10);
    if (end == text || errno || (*end && !isspace((unsigned char)*end)))
        return fail(l, prop, "PackageFormatVersion '%s' is not a number", text);
    if (v == 2 || v == 3)
        return fail(l, prop,
                    "package format %ld (SSIS %s): upgrade it in "
                    "SSDT",
                    v, v == 2 ? "2005" : "2008");
    if (v < 6 || v > 8)
        return fail(l, prop,
                    "package format %ld is not supported: weir "
                    "reads formats 6 and 8 (SSIS 2012 and later)",
                    v);
    l->p->format_version = (int)v;
    return 0;
}

/* ProtectionLevel 3 and 4 encrypt the whole package. */
static int
check_protection(struct loader *l, const xmlNode *root)
{
    int level;

    if (get_int(l, root, PKG_NS_DTS, "ProtectionLevel", 1, 0, 5, &level) < 0)
        return -1;
    if (level == 3)
        return fail(l, root,
                    "the package is encrypted with a password "
                    "(ProtectionLevel 3), which weir cannot read "
                    "yet: save it with DontSaveSensitive");
    if (level == 4)
        return fail(l, root,
                    "the package is encrypted with its author's "
                    "Windows key (ProtectionLevel 4): save it with "
                    "DontSaveSensitive");
    return 0;
}

/* The root's attributes behind System::CreationDate, VersionBuild... */
static int
read_about(struct loader *l, const xmlNode *root)
{
    struct pkg_about *a = &l->p->about;
    const char *ns = PKG_NS_DTS;
    const char **strs[] = {&a->creation_date,    &a->creator_name,
                           &a->creator_computer_name, &a->version_guid,
                           &a->version_comments, &a->description};
    const char *names[] = {"CreationDate", "CreatorName",
                           "CreatorComputerName", "VersionGUID",
                           "VersionComments", "Description"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!(*strs[i] = dts(l, root, names[i])))
            *strs[i] = "";
    if (get_int(l, root, ns, "VersionBuild", 0, INT_MIN, INT_MAX,
                &a->version_build) < 0 ||
        get_int(l, root, ns, "VersionMajor", 0, INT_MIN, INT_MAX,
                &a->version_major) < 0 ||
        get_int(l, root, ns, "VersionMinor", 0, INT_MIN, INT_MAX,
                &a->version_minor) < 0 ||
        get_int(l, root, ns, "LocaleID", 0, INT_MIN, INT_MAX,
                &a->locale_id) < 0)
        return -1;
    return 0;
}

static int
read_root(struct loader *l, const xmlNode *root)
{
    const xmlNode *params = NULL, *conns = NULL;

    if (!pkg_xml_is(root, PKG_NS_DTS, "Executable"))
        return fail(l, root,
                    "the root element is <%s>, not <DTS:Executable>:"
                    " this is not an SSIS package",
                    (const char *)root->name);
    if (check_format(l, root) < 0 || check_protection(l, root) < 0 ||
        get_int(l, root, PKG_NS_DTS, "MaxConcurrentExecutables", -1, -1,
                INT_MAX, &l->p->max_concurrent) < 0 ||
        read_about(l, root) < 0)
        return -1;
    if (!(l->p->root = parse_executable(l, root, NULL, false)))
        return -1;
    if (only_child(l, root, "PackageParameters", &params) < 0 ||
        only_child(l, root, "ConnectionManagers", &conns) < 0)
        return -1;
    if ((params && read_parameters(l, params) < 0) ||
        (conns && read_connections(l, conns) < 0))
        return -1;
    l->p->name = l->p->root->name;
    l->p->id = l->p->root->dtsid;
    return 0;
}

struct pkg *
pkg_load_memory(const char *name, const void *xml, size_t len, struct werr *err)
{
    struct pkg *p = xcalloc(1, sizeof(*p));
    struct loader l = {.p = p, .err = err};

    p->arena = l.a = warena_new();
    p->file = warena_strdup(p->arena, name ? name : "package");
    p->doc = pkg_xml_read(p->file, xml, len, err);
    if (!p->doc || read_root(&l, xmlDocGetRootElement(p->doc)) < 0) {
        pkg_free(p);
        return NULL;
    }
    return p;
}

struct pkg *
pkg_load_file(const char *path, struct werr *err)
{
    struct wbuf b;
    struct pkg *p = NULL;
    const char *base = strrchr(path, '/');

    base = base ? base + 1 : path;
    wbuf_init(&b, PKG_MAX_FILE);
    if (wfile_read(path, &b, err) == 0)
        p = pkg_load_memory(base, b.buf, b.len, err);
    wbuf_release(&b);
    return p;
}

void
pkg_free(struct pkg *p)
{
    if (!p)
        return;
    if (p->doc)
        xmlFreeDoc(p->doc);
    free(p->all);
    warena_free(p->arena);
    free(p);
}

const char *
pkg_file(const struct pkg *p)
{
    return p->file;
}

const char *
pkg_name(const struct pkg *p)
{
    return p->name;
}

const char *
pkg_id(const struct pkg *p)
{
    return p->id;
}

int
pkg_format_version(const struct pkg *p)
{
    return p->format_version;
}

const struct pkg_about *
pkg_about(const struct pkg *p)
{
    return &p->about;
}

int
pkg_max_concurrent(const struct pkg *p)
{
    return p->max_concurrent;
}

const struct pkg_executable *
pkg_root(const struct pkg *p)
{
    return p->root;
}

size_t
pkg_executable_count(const struct pkg *p)
{
    return p->nall;
}

const struct pkg_parameter *
pkg_parameters(const struct pkg *p, size_t *n)
{
    *n = p->nparameters;
    return p->parameters;
}

const struct pkg_connection *
pkg_connections(const struct pkg *p, size_t *n)
{
    *n = p->nconnections;
    return p->connections;
}

const struct pkg_executable *
pkg_find(const struct pkg *p, const char *ref_id)
{
    for (size_t i = 0; i < p->nall; i++)
        if (!strcmp(p->all[i]->ref_id, ref_id))
            return p->all[i];
    for (size_t i = 0; i < p->nall; i++)
        if (!strcasecmp(p->all[i]->ref_id, ref_id))
            return p->all[i];
    return NULL;
}
