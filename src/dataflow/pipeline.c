/*
 * The pipeline model from the Data Flow task's <pipeline> element (shared
 * DTSX.md §10): components with their properties, connections, inputs,
 * outputs and columns, and the paths between outputs and inputs.
 *
 * Everything is copied into the pipeline's arena, so the model does not
 * depend on the XML after parsing.  Elements of the pipeline have no
 * namespace.  Parsing refuses what cannot be understood (a column type
 * weir does not know, a path naming no output) with the package file,
 * the line and the element; planning (plan.c) checks the graph.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "dataflow/df_int.h"

struct parser {
    struct df_pipeline *p;
    struct werr *err;
    int next_id; /* ids given to columns without an `id` attribute */
};

static const char *
file_of(const xmlNode *n)
{
    const char *url = n->doc && n->doc->URL ? (const char *)n->doc->URL : "";
    const char *slash = strrchr(url, '/');

    return slash ? slash + 1 : url;
}

__attribute__((format(printf, 3, 4))) static int
fail(struct parser *ps, const xmlNode *n, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return werr_set(ps->err, WERR_INVALID, "'%s' line %d: <%s>: %s",
                    file_of(n), (int)xmlGetLineNo(n), (const char *)n->name,
                    msg);
}

static bool
is_elem(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static const xmlNode *
child(const xmlNode *n, const char *name)
{
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (is_elem(c, name))
            return c;
    return NULL;
}

static size_t
count(const xmlNode *list, const char *name)
{
    size_t k = 0;

    for (const xmlNode *c = list ? list->children : NULL; c; c = c->next)
        k += is_elem(c, name);
    return k;
}

/* Attribute `name` copied into the arena, or NULL. */
static const char *
attr(struct parser *ps, const xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    char *s;

    if (!v)
        return NULL;
    s = warena_strdup(&ps->p->arena, (const char *)v);
    xmlFree(v);
    return s;
}

static long long
attr_int(struct parser *ps, const xmlNode *n, const char *name,
         long long dflt)
{
    const char *s = attr(ps, n, name);
    char *end;
    long long v;

    if (!s || !*s)
        return dflt;
    errno = 0;
    v = strtoll(s, &end, 10);
    return errno || *end ? dflt : v;
}

static bool
truthy(const char *s)
{
    return s && (!strcasecmp(s, "true") || !strcmp(s, "-1") ||
                 !strcmp(s, "1"));
}

static int
read_props(struct parser *ps, const xmlNode *owner,
           const struct df_property **out, size_t *nout)
{
    const xmlNode *list = child(owner, "properties");
    size_t n = count(list, "property"), i = 0;
    struct df_property *v;

    *out = NULL;
    *nout = 0;
    if (!n)
        return 0;
    v = warena_alloc(&ps->p->arena, n * sizeof(*v));
    for (const xmlNode *c = list->children; c; c = c->next) {
        xmlChar *text;
        const char *et;
        if (!is_elem(c, "property"))
            continue;
        if (!(v[i].name = attr(ps, c, "name")))
            return fail(ps, c, "a property without a name");
        text = xmlNodeGetContent(c);
        v[i].value = warena_strdup(&ps->p->arena, text ? (char *)text : "");
        xmlFree(text);
        et = attr(ps, c, "expressionType");
        v[i].expression = et && !strcmp(et, "Notify");
        i++;
    }
    *out = v;
    *nout = n;
    return 0;
}

static enum df_disposition
disposition(const char *s)
{
    if (!s)
        return DF_DISP_NOT_USED;
    if (!strcmp(s, "FailComponent"))
        return DF_DISP_FAIL;
    if (!strcmp(s, "IgnoreFailure"))
        return DF_DISP_IGNORE;
    if (!strcmp(s, "RedirectRow"))
        return DF_DISP_REDIRECT;
    return DF_DISP_NOT_USED;
}

/* The column's type: attributes `dataType`, `length`... or, on input
 * columns, `cachedDataType`, `cachedLength`... */
static int
read_type(struct parser *ps, const xmlNode *n, bool cached,
          struct expr_type *t)
{
    const char *dt = attr(ps, n, cached ? "cachedDataType" : "dataType");
    enum expr_dt code;

    memset(t, 0, sizeof(*t));
    if (!dt) {
        if (cached) /* the planner takes the upstream column's type */
            return 0;
        return fail(ps, n, "a column without a dataType");
    }
    if (expr_dt_from_pipeline(dt, &code) < 0)
        return fail(ps, n, "unknown data type '%s'", dt);
    t->dt = code;
    t->length = (int32_t)attr_int(ps, n, cached ? "cachedLength" : "length",
                                  0);
    t->precision =
        (uint8_t)attr_int(ps, n, cached ? "cachedPrecision" : "precision", 0);
    t->scale = (uint8_t)attr_int(ps, n, cached ? "cachedScale" : "scale", 0);
    t->codepage =
        (uint16_t)attr_int(ps, n, cached ? "cachedCodepage" : "codePage", 0);
    return 0;
}

static int
read_column(struct parser *ps, const xmlNode *n, bool input, bool external,
            struct df_column *col)
{
    const char *s;

    memset(col, 0, sizeof(*col));
    col->slot = -1;
    col->line = (int)xmlGetLineNo(n);
    col->ref_id = attr(ps, n, "refId");
    if (!col->ref_id)
        col->ref_id = "";
    col->name = attr(ps, n, "name");
    if (!col->name && input)
        col->name = attr(ps, n, "cachedName");
    if (!col->name)
        col->name = "";
    if (!external) {
        col->lineage = attr(ps, n, "lineageId");
        if (!col->lineage)
            col->lineage = col->ref_id;
    }
    col->external_id = attr(ps, n, "externalMetadataColumnId");
    col->id = (int)attr_int(ps, n, "id", ++ps->next_id);
    s = attr(ps, n, "usageType");
    col->read_write = s && !strcmp(s, "readWrite");
    col->sort_key = (int)attr_int(ps, n, "sortKeyPosition", 0);
    col->special = (enum df_special)attr_int(ps, n, "specialFlags", 0);
    col->error_disp = disposition(attr(ps, n, "errorRowDisposition"));
    col->trunc_disp = disposition(attr(ps, n, "truncationRowDisposition"));
    if (read_type(ps, n, input, &col->type) < 0 ||
        read_props(ps, n, &col->props, &col->nprops) < 0)
        return -1;
    if (!col->sort_key)
        col->sort_key = (int)df_prop_int(col->props, col->nprops,
                                         "NewSortKeyPosition", 0);
    return 0;
}

static int
read_columns(struct parser *ps, const xmlNode *owner, const char *list_name,
             const char *name, bool input, bool external,
             struct df_column **out, size_t *nout)
{
    const xmlNode *list = child(owner, list_name);
    size_t n = count(list, name), i = 0;
    struct df_column *v;

    *out = NULL;
    *nout = 0;
    if (!n)
        return 0;
    v = warena_alloc(&ps->p->arena, n * sizeof(*v));
    for (const xmlNode *c = list->children; c; c = c->next)
        if (is_elem(c, name) &&
            read_column(ps, c, input, external, &v[i++]) < 0)
            return -1;
    *out = v;
    *nout = n;
    return 0;
}

static int
read_input(struct parser *ps, const xmlNode *n, struct df_input *in)
{
    in->ref_id = attr(ps, n, "refId");
    in->name = attr(ps, n, "name");
    if (!in->ref_id || !in->name)
        return fail(ps, n, "an input needs a refId and a name");
    in->line = (int)xmlGetLineNo(n);
    in->error_disp = disposition(attr(ps, n, "errorRowDisposition"));
    in->has_side_effects = truthy(attr(ps, n, "hasSideEffects"));
    return read_columns(ps, n, "inputColumns", "inputColumn", true, false,
                        &in->columns, &in->ncolumns) < 0 ||
                   read_columns(ps, n, "externalMetadataColumns",
                                "externalMetadataColumn", false, true,
                                &in->externals, &in->nexternals) < 0 ||
                   read_props(ps, n, &in->props, &in->nprops) < 0
               ? -1
               : 0;
}

/* Outputs keep their synchronousInputId in `path_name` until the
 * component's inputs are known (resolve_sync). */
static int
read_output(struct parser *ps, const xmlNode *n, struct df_output *out)
{
    out->ref_id = attr(ps, n, "refId");
    out->name = attr(ps, n, "name");
    if (!out->ref_id || !out->name)
        return fail(ps, n, "an output needs a refId and a name");
    out->line = (int)xmlGetLineNo(n);
    out->is_error = truthy(attr(ps, n, "isErrorOut"));
    out->error_disp = disposition(attr(ps, n, "errorRowDisposition"));
    out->is_sorted = truthy(attr(ps, n, "isSorted"));
    out->dangling = truthy(attr(ps, n, "dangling"));
    out->exclusion_group = (int)attr_int(ps, n, "exclusionGroup", 0);
    out->path_name = attr(ps, n, "synchronousInputId");
    return read_columns(ps, n, "outputColumns", "outputColumn", false, false,
                        &out->columns, &out->ncolumns) < 0 ||
                   read_columns(ps, n, "externalMetadataColumns",
                                "externalMetadataColumn", false, true,
                                &out->externals, &out->nexternals) < 0 ||
                   read_props(ps, n, &out->props, &out->nprops) < 0
               ? -1
               : 0;
}

static int
resolve_sync(struct parser *ps, const xmlNode *n, struct df_component *c)
{
    for (size_t i = 0; i < c->noutputs; i++) {
        struct df_output *o = &c->outputs[i];
        const char *sync = o->path_name;
        o->path_name = NULL;
        if (!sync || !*sync)
            continue;
        /* 2012+ writes the input's refId; older files a numeric id. */
        for (size_t j = 0; j < c->ninputs && !o->sync_input; j++)
            if (!strcmp(c->inputs[j].ref_id, sync))
                o->sync_input = &c->inputs[j];
        if (!o->sync_input && c->ninputs == 1)
            o->sync_input = &c->inputs[0];
        if (!o->sync_input)
            return fail(ps, n,
                        "output '%s' of '%s' is synchronous to '%s', which "
                        "is no input of the component",
                        o->name, c->name, sync);
    }
    return 0;
}

static int
read_connections(struct parser *ps, const xmlNode *n, struct df_component *c)
{
    const xmlNode *list = child(n, "connections");
    size_t k = count(list, "connection"), i = 0;

    if (!k)
        return 0;
    c->connections = warena_alloc(&ps->p->arena, k * sizeof(*c->connections));
    c->nconnections = k;
    for (const xmlNode *e = list->children; e; e = e->next) {
        struct df_connection_ref *r;
        if (!is_elem(e, "connection"))
            continue;
        r = &c->connections[i++];
        r->name = attr(ps, e, "name");
        r->cm_ref = attr(ps, e, "connectionManagerID");
        if (!r->cm_ref || !*r->cm_ref)
            r->cm_ref = attr(ps, e, "connectionManagerRefId");
        if (!r->name)
            r->name = "";
    }
    return 0;
}

static int
read_ports(struct parser *ps, const xmlNode *n, struct df_component *c)
{
    const xmlNode *ins = child(n, "inputs"), *outs = child(n, "outputs");
    size_t i = 0;

    c->ninputs = count(ins, "input");
    c->noutputs = count(outs, "output");
    c->inputs = warena_alloc(&ps->p->arena, c->ninputs * sizeof(*c->inputs) + 1);
    c->outputs =
        warena_alloc(&ps->p->arena, c->noutputs * sizeof(*c->outputs) + 1);
    for (const xmlNode *e = ins ? ins->children : NULL; e; e = e->next)
        if (is_elem(e, "input")) {
            c->inputs[i].comp = c;
            c->inputs[i].index = (int)i;
            if (read_input(ps, e, &c->inputs[i++]) < 0)
                return -1;
        }
    i = 0;
    for (const xmlNode *e = outs ? outs->children : NULL; e; e = e->next)
        if (is_elem(e, "output")) {
            c->outputs[i].comp = c;
            c->outputs[i].index = (int)i;
            if (read_output(ps, e, &c->outputs[i++]) < 0)
                return -1;
        }
    return resolve_sync(ps, n, c);
}

static int
read_component(struct parser *ps, const xmlNode *n, struct df_component *c)
{
    c->ref_id = attr(ps, n, "refId");
    c->name = attr(ps, n, "name");
    c->class_written = attr(ps, n, "componentClassID");
    c->line = (int)xmlGetLineNo(n);
    if (!c->ref_id || !c->name)
        return fail(ps, n, "a component needs a refId and a name");
    if (!c->class_written)
        return fail(ps, n, "component '%s' has no componentClassID", c->name);
    c->class_id = df_class_normalize(c->class_written);
    if (read_props(ps, n, &c->props, &c->nprops) < 0 ||
        read_connections(ps, n, c) < 0 || read_ports(ps, n, c) < 0)
        return -1;
    c->user_type = df_prop(c->props, c->nprops, "UserComponentTypeName");
    if (!strcmp(c->class_id, "Microsoft.ManagedComponentHost") && c->user_type)
        c->class_id = df_class_normalize(c->user_type);
    return 0;
}

static struct df_output *
find_output(struct df_pipeline *p, const char *ref)
{
    for (size_t i = 0; i < p->ncomponents; i++)
        for (size_t j = 0; j < p->components[i].noutputs; j++)
            if (!strcmp(p->components[i].outputs[j].ref_id, ref))
                return &p->components[i].outputs[j];
    return NULL;
}

static struct df_input *
find_input(struct df_pipeline *p, const char *ref)
{
    for (size_t i = 0; i < p->ncomponents; i++)
        for (size_t j = 0; j < p->components[i].ninputs; j++)
            if (!strcmp(p->components[i].inputs[j].ref_id, ref))
                return &p->components[i].inputs[j];
    return NULL;
}

static int
read_path(struct parser *ps, const xmlNode *e)
{
    const char *start = attr(ps, e, "startId"), *end = attr(ps, e, "endId");
    const char *name = attr(ps, e, "name");
    struct df_output *o;
    struct df_input *in;

    if (!start || !end)
        return fail(ps, e, "a path needs a startId and an endId");
    if (!(o = find_output(ps->p, start)))
        return fail(ps, e, "path '%s' starts at '%s', which is no output",
                    name ? name : "", start);
    if (!(in = find_input(ps->p, end)))
        return fail(ps, e, "path '%s' ends at '%s', which is no input",
                    name ? name : "", end);
    if (o->to)
        return fail(ps, e, "output '%s' has two paths", o->ref_id);
    if (in->from)
        return fail(ps, e, "input '%s' has two paths", in->ref_id);
    o->to = in;
    in->from = o;
    o->path_name = in->path_name = name ? name : o->name;
    return 0;
}

/* The designer always leaves Union All one more input than it has paths,
 * with no path and no columns, ready for the next connection: SSIS runs
 * without it, and so does weir.  Removing it from the array moves the
 * inputs after it, so the pointers to them are set again. */
static void
drop_spare_inputs(struct df_component *c)
{
    size_t n = 0, connected = 0;

    for (size_t i = 0; i < c->ninputs; i++)
        connected += c->inputs[i].from != NULL;
    for (size_t i = 0; connected && i < c->ninputs; i++) {
        struct df_input *in = &c->inputs[i];
        if (!in->from && !in->ncolumns)
            continue;
        if (n != i) {
            c->inputs[n] = *in;
            if (c->inputs[n].from)
                c->inputs[n].from->to = &c->inputs[n];
            for (size_t j = 0; j < c->noutputs; j++)
                if (c->outputs[j].sync_input == in)
                    c->outputs[j].sync_input = &c->inputs[n];
        }
        c->inputs[n].index = (int)n;
        n++;
    }
    if (connected)
        c->ninputs = n;
}

static int
read_pipeline(struct parser *ps, const xmlNode *pl)
{
    const xmlNode *comps = child(pl, "components"), *paths = child(pl, "paths");
    struct df_pipeline *p = ps->p;
    size_t i = 0;
    long long threads;

    p->default_buffer_max_rows = attr_int(ps, pl, "defaultBufferMaxRows",
                                          10000);
    p->default_buffer_size = attr_int(ps, pl, "defaultBufferSize",
                                      10 * 1024 * 1024);
    /* Above 1000 is as good as no cap: a run never starts more threads
     * than it has sources and trees (docs/dataflow.md). */
    threads = attr_int(ps, pl, "engineThreads", 10);
    p->engine_threads = threads < 1 ? 0 : threads > 1000 ? 1000 : (int)threads;
    if (p->default_buffer_max_rows < 1 || p->default_buffer_size < 1)
        return fail(ps, pl, "buffer sizes must be positive");
    if (p->engine_threads < 1)
        return fail(ps, pl, "engineThreads must be at least 1, not %lld",
                    threads);
    p->ncomponents = count(comps, "component");
    p->components =
        warena_alloc(&p->arena, p->ncomponents * sizeof(*p->components) + 1);
    for (const xmlNode *e = comps ? comps->children : NULL; e; e = e->next)
        if (is_elem(e, "component") &&
            read_component(ps, e, &p->components[i++]) < 0)
            return -1;
    for (const xmlNode *e = paths ? paths->children : NULL; e; e = e->next)
        if (is_elem(e, "path") && read_path(ps, e) < 0)
            return -1;
    for (i = 0; i < p->ncomponents; i++)
        if (!strcmp(p->components[i].class_id, "Microsoft.UnionAll"))
            drop_spare_inputs(&p->components[i]);
    return 0;
}

struct df_pipeline *
df_pipeline_parse(const struct pkg_executable *task, struct werr *err)
{
    const xmlNode *pl = child(task->object_data, "pipeline");
    struct parser ps = {.err = err};

    if (!pl)
        return werr_set(err, WERR_INVALID,
                        "%s: the data flow task has no <pipeline>",
                        task->path),
               NULL;
    ps.p = xcalloc(1, sizeof(*ps.p));
    warena_init(&ps.p->arena);
    ps.p->task = task;
    if (read_pipeline(&ps, pl) < 0) {
        df_pipeline_free(ps.p);
        return NULL;
    }
    return ps.p;
}

/* A pipeline property's new value: a whole number from 1 to `max`. */
static int
override_int(const char *name, const char *value, int64_t max, int64_t *out,
             struct werr *err)
{
    char *end;
    long long x;

    errno = 0;
    x = strtoll(value, &end, 10);
    if (errno || end == value || *end || x < 1 || x > max)
        return werr_set(err, WERR_INVALID,
                        "the property expression on %s gives '%s': it "
                        "must be a whole number from 1 to %lld",
                        name, value, (long long)max);
    *out = x;
    return 0;
}

/* "[Component].[Property]": sets the component's custom property. */
static int
override_component(struct df_pipeline *p, const char *name,
                   const char *value, struct werr *err)
{
    const char *mid = strstr(name, "].["), *end = name + strlen(name);
    struct df_component *c = NULL;
    struct df_property *v;
    size_t len;

    if (name[0] != '[' || !mid || end[-1] != ']' || end - 1 < mid + 3)
        return werr_set(err, WERR_INVALID,
                        "the property expression on %s: not a property "
                        "of the data flow ([Component].[Property])",
                        name);
    len = (size_t)(mid - name - 1);
    for (size_t i = 0; !c && i < p->ncomponents; i++)
        if (strlen(p->components[i].name) == len &&
            !memcmp(p->components[i].name, name + 1, len))
            c = &p->components[i];
    if (!c)
        return werr_set(err, WERR_NOTFOUND,
                        "the property expression on %s: the data flow has "
                        "no component '%.*s'",
                        name, (int)len, name + 1);
    len = (size_t)(end - 1 - (mid + 3));
    /* The model is the parser's, in its arena: this is its last word. */
    v = (struct df_property *)c->props;
    for (size_t i = 0; i < c->nprops; i++)
        if (strlen(v[i].name) == len && !memcmp(v[i].name, mid + 3, len)) {
            v[i].value = warena_strdup(&p->arena, value);
            return 0;
        }
    return werr_set(err, WERR_NOTFOUND,
                    "the property expression on %s: component '%s' has no "
                    "property '%.*s'",
                    name, c->name, (int)len, mid + 3);
}

int
df_pipeline_override(struct df_pipeline *p, const char *name,
                     const char *value, struct werr *err)
{
    int64_t x = 0;

    if (!strcasecmp(name, "DefaultBufferMaxRows"))
        return override_int(name, value, INT32_MAX, &p->default_buffer_max_rows,
                            err);
    if (!strcasecmp(name, "DefaultBufferSize"))
        return override_int(name, value, INT32_MAX, &p->default_buffer_size,
                            err);
    if (!strcasecmp(name, "EngineThreads")) {
        if (override_int(name, value, INT32_MAX, &x, err) < 0)
            return -1;
        p->engine_threads = x > 1000 ? 1000 : (int)x;
        return 0;
    }
    return override_component(p, name, value, err);
}

void
df_pipeline_free(struct df_pipeline *p)
{
    if (!p)
        return;
    warena_release(&p->arena);
    free(p);
}

/* ---- classes ---- */

static const struct {
    const char *guid, *progid, *canonical;
} classes[] = {
    {"{165A526D-D5DE-47FF-96A6-F8274C19826B}", "DTSAdapter.OLEDBSource",
     "Microsoft.OLEDBSource"},
    {"{4ADA7EAA-136C-4215-8098-D7A7C27FC0D1}", "DTSAdapter.OLEDBDestination",
     "Microsoft.OLEDBDestination"},
    {"{D23FD76B-F51D-420F-BBCB-19CBF6AC1AB4}", "DTSAdapter.FlatFileSource",
     "Microsoft.FlatFileSource"},
    {"{8DA75FED-1B7C-407D-B2AD-2B24209CCCA4}",
     "DTSAdapter.FlatFileDestination", "Microsoft.FlatFileDestination"},
    {"{49928E82-9C4E-49F0-AABE-3812B82707EC}", "DTSTransform.DerivedColumn",
     "Microsoft.DerivedColumn"},
    {"{7F88F654-4E20-4D14-84F4-AF9C925D3087}",
     "DTSTransform.ConditionalSplit", "Microsoft.ConditionalSplit"},
    {"{671046B0-AA63-4C9F-90E4-C06E0B710CE3}", "DTSTransform.Lookup",
     "Microsoft.Lookup"},
    {"{62B1106C-7DB8-4EC8-ADD6-4C664DFFC54A}", "DTSTransform.DataConvert",
     "Microsoft.DataConvert"},
    {"{5B1A3FF5-D366-4D75-AD1F-F19A36FCBEDB}", "DTSTransform.Sort",
     "Microsoft.Sort"},
    {"{5B201335-B360-485C-BB93-75C34E09B3D3}", "DTSTransform.Aggregate",
     "Microsoft.Aggregate"},
    {"{B594E9A8-4351-4939-891C-CFE1AB93E925}", "DTSTransform.UnionAll",
     "Microsoft.UnionAll"},
    {"{14D43A4F-D7BD-489D-829E-6DE35750CFE4}", "DTSTransform.MergeJoin",
     "Microsoft.MergeJoin"},
    {"{EC139FBC-694E-490B-8EA7-35690FB0F445}", "DTSTransform.Multicast",
     "Microsoft.Multicast"},
    {"{E2697D8C-70DA-42B2-8208-A19CE3A9FE41}", "DTSTransform.RowCount",
     "Microsoft.RowCount"},
    {"{93FFEC66-CBC8-4C7F-9C6A-CB1C17A7567D}", "DTSTransform.OLEDBCommand",
     "Microsoft.OLEDBCommand"},
    {"{8C084929-27D1-479F-9641-ABB7CDADF1AC}", "DTSAdapter.ExcelSource",
     "Microsoft.ExcelSource"},
    {"{1F5D5712-2FBA-4CB9-A95A-86C1F336E1DA}", "DTSAdapter.ExcelDestination",
     "Microsoft.ExcelDestination"},
    {"{4FCE8297-9C65-40A9-9D60-00C5CC6BC283}", "DTSTransform.Lineage",
     "Microsoft.Lineage"},
    {"{25BBB0C5-369B-4303-B3DF-D0DC741DEE58}", "DTSTransform.SCD",
     "Microsoft.SCD"},
    {"{F452EAF3-5EF0-43F1-8067-09DDF0BC6316}",
     "DTSAdapter.SQLServerDestination", "Microsoft.SQLServerDestination"},
    {"{874F7595-FB5F-40FF-96AF-FBFF8250E3EF}", "DTS.ManagedComponentWrapper",
     "Microsoft.ManagedComponentHost"},
    {NULL, "DTSAdapter.RawSource", "Microsoft.RawSource"},
    {NULL, "DTSAdapter.RawDestination", "Microsoft.RawDestination"},
    {NULL, "DTSAdapter.RecordsetDestination",
     "Microsoft.RecordsetDestination"},
    {NULL, "DTSTransform.Merge", "Microsoft.Merge"},
    {NULL, "DTSTransform.CopyMap", "Microsoft.CopyColumn"},
    {NULL, "DTSTransform.CharacterMap", "Microsoft.CharacterMap"},
    {NULL, "DTSTransform.RowSampling", "Microsoft.RowSampling"},
    {NULL, "DTSTransform.Pivot", "Microsoft.Pivot"},
    {NULL, "DTSTransform.UnPivot", "Microsoft.UnPivot"},
    {NULL, "DTSTransform.Cache", "Microsoft.Cache"},
    /* The class ids SSIS 2012+ writes for these two. */
    {NULL, "DTSTransform.PctSampling", "Microsoft.PercentageSampling"},
    {NULL, "Microsoft.PctSampling", "Microsoft.PercentageSampling"},
    {NULL, "Microsoft.CopyMap", "Microsoft.CopyColumn"},
};

/* Managed components, by the start of UserComponentTypeName. */
static const struct {
    const char *prefix, *canonical;
} managed[] = {
    {"Microsoft.ScriptComponentHost", "Microsoft.ScriptComponentHost"},
    {"Microsoft.SqlServer.Dts.Pipeline.ScriptComponentHost",
     "Microsoft.ScriptComponentHost"},
    {"Microsoft.DataReaderSourceAdapter", "Microsoft.DataReaderSourceAdapter"},
    {"Microsoft.SqlServer.Dts.Pipeline.DataReaderSourceAdapter",
     "Microsoft.DataReaderSourceAdapter"},
    {"Microsoft.ADONETDestination", "Microsoft.ADONETDestination"},
    {"Microsoft.SqlServer.Dts.Pipeline.ADONETDestination",
     "Microsoft.ADONETDestination"},
};

const char *
df_class_normalize(const char *w)
{
    size_t n = sizeof(classes) / sizeof(classes[0]);

    for (size_t i = 0; i < n; i++) {
        size_t pl = strlen(classes[i].progid);
        if ((classes[i].guid && !strcasecmp(w, classes[i].guid)) ||
            !strcasecmp(w, classes[i].canonical))
            return classes[i].canonical;
        /* "DTSAdapter.FlatFileSource.3": any version. */
        if (!strncasecmp(w, classes[i].progid, pl) &&
            (w[pl] == '\0' || w[pl] == '.'))
            return classes[i].canonical;
    }
    for (size_t i = 0; i < sizeof(managed) / sizeof(managed[0]); i++) {
        size_t pl = strlen(managed[i].prefix);
        if (!strncmp(w, managed[i].prefix, pl) &&
            (w[pl] == '\0' || w[pl] == ',' || w[pl] == ' '))
            return managed[i].canonical;
    }
    return w;
}

/* ---- properties ---- */

const char *
df_prop(const struct df_property *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].name, name))
            return v[i].value;
    return NULL;
}

int64_t
df_prop_int(const struct df_property *v, size_t n, const char *name,
            int64_t dflt)
{
    const char *s = df_prop(v, n, name);
    char *end;
    long long x;

    if (!s || !*s)
        return dflt;
    errno = 0;
    x = strtoll(s, &end, 10);
    return errno || *end ? dflt : (int64_t)x;
}

bool
df_prop_bool(const struct df_property *v, size_t n, const char *name,
             bool dflt)
{
    const char *s = df_prop(v, n, name);

    if (!s || !*s)
        return dflt;
    if (truthy(s))
        return true;
    if (!strcasecmp(s, "false") || !strcmp(s, "0"))
        return false;
    return dflt;
}
