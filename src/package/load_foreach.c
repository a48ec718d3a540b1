/*
 * A Foreach Loop's enumerator and variable mappings (DTSX.md 5.3).
 *
 * The enumerator's CreationName comes in several spellings (the short
 * "Microsoft.ForEachFileEnumerator", the older ProgID
 * "DTS.ForEachFileEnumerator.3", an assembly-qualified class name), so
 * the kind is found by the class's last name.  Its ObjectData has one
 * element per kind: ForEachFileEnumeratorProperties with FEFEProperty
 * children (one attribute each), FEIEItems with FEIEItem/FEIEItemValue
 * (Type, Value), FEEADO (EnumType, VarName), FEEFVE (VariableName).
 * Kinds weir does not run are still read, so validation names them.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/banned.h"
#include "package/package_int.h"

struct fe_reader {
    struct warena *a;
    const char *file;
    struct werr *err;
};

static int __attribute__((format(printf, 3, 4)))
fe_fail(struct fe_reader *r, const xmlNode *n, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return werr_set(r->err, WERR_INVALID, "'%s' line %d: %s", r->file,
                    pkg_xml_line(n), msg);
}

static const struct {
    const char *suffix, *name;
    enum pkg_enum_kind kind;
} kinds[] = {
    {"ForEachFileEnumerator", "File", PKG_ENUM_FILE},
    {"ForEachItemEnumerator", "Item", PKG_ENUM_ITEM},
    {"ForEachADOEnumerator", "ADO", PKG_ENUM_ADO},
    {"ForEachFromVarEnumerator", "FromVariable", PKG_ENUM_VARIABLE},
    {"ForEachFromVariableEnumerator", "FromVariable", PKG_ENUM_VARIABLE},
    {"ForEachNodeListEnumerator", "NodeList", PKG_ENUM_NODELIST},
    {"ForEachSMOEnumerator", "SMO", PKG_ENUM_SMO},
    {"ForEachSchemaRowsetEnumerator", "ADO.NET Schema Rowset",
     PKG_ENUM_SCHEMA_ROWSET},
};

/* The kind of a CreationName: its class name is the last dotted part
 * before any ", Assembly..." and any ProgID version (".3"). */
static void
classify(struct pkg_foreach *f, const char *written)
{
    size_t n = strcspn(written, ",");
    const char *end, *start;

    while (n && isspace((unsigned char)written[n - 1]))
        n--;
    end = written + n;
    while (end > written && isdigit((unsigned char)end[-1]))
        end--;
    if (end > written && end < written + n && end[-1] == '.')
        n = (size_t)(end - 1 - written);
    end = written + n;
    start = end;
    while (start > written && start[-1] != '.')
        start--;
    f->kind = PKG_ENUM_OTHER;
    f->kind_name = written;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strlen(kinds[i].suffix) == (size_t)(end - start) &&
            !strncasecmp(start, kinds[i].suffix, (size_t)(end - start))) {
            f->kind = kinds[i].kind;
            f->kind_name = kinds[i].name;
            return;
        }
    if (strstr(written, "Blob") || strstr(written, "DataLake") ||
        strstr(written, "Azure")) {
        f->kind = PKG_ENUM_AZURE;
        f->kind_name = "Azure";
    }
}

static bool
named(const xmlNode *n, const char *local)
{
    return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, local);
}

/* The first element called `local` under `n`, at any depth. */
static const xmlNode *
find_element(const xmlNode *n, const char *local)
{
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next) {
        const xmlNode *hit;
        if (named(c, local))
            return c;
        if (c->type == XML_ELEMENT_NODE && (hit = find_element(c, local)))
            return hit;
    }
    return NULL;
}

static int
parse_int(struct fe_reader *r, const xmlNode *n, const char *what,
          const char *v, long min, long max, int *out)
{
    char *end;
    long x;

    errno = 0;
    x = strtol(v, &end, 10);
    if (end == v || *end || errno || x < min || x > max)
        return fe_fail(r, n, "%s must be an integer from %ld to %ld, not '%s'",
                       what, min, max, v);
    *out = (int)x;
    return 0;
}

/* One FEFEProperty: each carries one of the four settings. */
static int
read_file_property(struct fe_reader *r, const xmlNode *p, struct pkg_foreach *f)
{
    const char *v;
    int x = 0;

    if ((v = pkg_xml_attr(r->a, p, NULL, "Folder")))
        f->folder = v;
    if ((v = pkg_xml_attr(r->a, p, NULL, "FileSpec")))
        f->file_spec = v;
    if ((v = pkg_xml_attr(r->a, p, NULL, "FileNameRetrievalType")) &&
        parse_int(r, p, "FileNameRetrievalType", v, 0, 2, &f->retrieval) < 0)
        return -1;
    if ((v = pkg_xml_attr(r->a, p, NULL, "Recurse"))) {
        if (!strcasecmp(v, "true"))
            x = 1;
        else if (!strcasecmp(v, "false"))
            x = 0;
        else if (parse_int(r, p, "Recurse", v, -1, 1, &x) < 0)
            return -1;
        f->recurse = x != 0;
    }
    return 0;
}

static int
read_items(struct fe_reader *r, const xmlNode *list, struct pkg_foreach *f)
{
    size_t n = 0, i = 0;
    struct pkg_foreach_item *items;

    for (const xmlNode *c = list->children; c; c = c->next)
        n += named(c, "FEIEItem");
    if (!n)
        return 0;
    items = warena_alloc(r->a, n * sizeof(*items));
    for (const xmlNode *c = list->children; c; c = c->next) {
        struct pkg_foreach_value *vals;
        size_t m = 0, k = 0;
        if (!named(c, "FEIEItem"))
            continue;
        for (const xmlNode *v = c->children; v; v = v->next)
            m += named(v, "FEIEItemValue");
        vals = warena_alloc(r->a, (m + 1) * sizeof(*vals));
        for (const xmlNode *v = c->children; v; v = v->next) {
            const char *type, *value;
            if (!named(v, "FEIEItemValue"))
                continue;
            type = pkg_xml_attr(r->a, v, NULL, "Type");
            value = pkg_xml_attr(r->a, v, NULL, "Value");
            vals[k].type = 8;
            if (type && parse_int(r, v, "FEIEItemValue Type", type, 0, 0xffff,
                                  &vals[k].type) < 0)
                return -1;
            vals[k++].value = value ? value : "";
        }
        items[i].values = vals;
        items[i++].nvalues = m;
    }
    f->items = items;
    f->nitems = n;
    return 0;
}

static int
read_payload(struct fe_reader *r, const xmlNode *data, struct pkg_foreach *f)
{
    const xmlNode *n;

    switch (f->kind) {
    case PKG_ENUM_FILE:
        if ((n = find_element(data, "ForEachFileEnumeratorProperties")))
            for (const xmlNode *c = n->children; c; c = c->next)
                if (named(c, "FEFEProperty") && read_file_property(r, c, f) < 0)
                    return -1;
        return 0;
    case PKG_ENUM_ITEM:
        return (n = find_element(data, "FEIEItems")) ? read_items(r, n, f) : 0;
    case PKG_ENUM_ADO:
        if ((n = find_element(data, "FEEADO"))) {
            const char *v = pkg_xml_attr(r->a, n, NULL, "VarName");
            const char *t = pkg_xml_attr(r->a, n, NULL, "EnumType");
            f->variable = v ? v : "";
            f->ado_enum_type = t ? t : "";
        }
        return 0;
    case PKG_ENUM_VARIABLE:
        if ((n = find_element(data, "FEEFVE"))) {
            const char *v = pkg_xml_attr(r->a, n, NULL, "VariableName");
            f->variable = v ? v : "";
        }
        return 0;
    default:
        return 0;
    }
}

static int
read_expressions(struct fe_reader *r, const xmlNode *en, struct pkg_foreach *f)
{
    size_t n = 0, i = 0;
    struct pkg_property_expression *xs;

    for (const xmlNode *c = en->children; c; c = c->next)
        n += pkg_xml_is(c, PKG_NS_DTS, "PropertyExpression");
    if (!n)
        return 0;
    xs = warena_alloc(r->a, n * sizeof(*xs));
    for (const xmlNode *c = en->children; c; c = c->next) {
        if (!pkg_xml_is(c, PKG_NS_DTS, "PropertyExpression"))
            continue;
        xs[i].property = pkg_xml_attr(r->a, c, PKG_NS_DTS, "Name");
        if (!xs[i].property || !*xs[i].property)
            return fe_fail(r, c, "<DTS:PropertyExpression> has no DTS:Name");
        xs[i++].expression = pkg_xml_text(r->a, c);
    }
    f->expressions = xs;
    f->nexpressions = n;
    return 0;
}

static int
read_enumerator(struct fe_reader *r, const xmlNode *en, struct pkg_foreach *f)
{
    const char *cn = pkg_xml_attr(r->a, en, PKG_NS_DTS, "CreationName");
    const xmlNode *data = NULL;

    f->present = true;
    f->line = pkg_xml_line(en);
    f->creation_name = cn ? cn : "";
    classify(f, f->creation_name);
    if (read_expressions(r, en, f) < 0)
        return -1;
    for (const xmlNode *c = en->children; c; c = c->next)
        if (pkg_xml_is(c, PKG_NS_DTS, "ObjectData")) {
            if (data)
                return fe_fail(r, c, "a second <DTS:ObjectData> in the "
                                     "enumerator");
            data = c;
        }
    return data ? read_payload(r, data, f) : 0;
}

static int
read_mappings(struct fe_reader *r, const xmlNode *list, struct pkg_foreach *f)
{
    size_t n = 0, i = 0;
    struct pkg_foreach_mapping *ms;

    for (const xmlNode *c = list->children; c; c = c->next)
        n += pkg_xml_is(c, PKG_NS_DTS, "ForEachVariableMapping");
    if (!n)
        return 0;
    ms = warena_alloc(r->a, n * sizeof(*ms));
    for (const xmlNode *c = list->children; c; c = c->next) {
        const char *idx, *var;
        if (!pkg_xml_is(c, PKG_NS_DTS, "ForEachVariableMapping"))
            continue;
        idx = pkg_xml_attr(r->a, c, PKG_NS_DTS, "ValueIndex");
        var = pkg_xml_attr(r->a, c, PKG_NS_DTS, "VariableName");
        ms[i].line = pkg_xml_line(c);
        if (!var || !*var)
            return fe_fail(r, c, "<DTS:ForEachVariableMapping> has no "
                                 "DTS:VariableName");
        ms[i].variable = var;
        if (idx && *idx &&
            parse_int(r, c, "DTS:ValueIndex", idx, 0, INT_MAX,
                      &ms[i].value_index) < 0)
            return -1;
        i++;
    }
    f->mappings = ms;
    f->nmappings = n;
    return 0;
}

struct pkg_foreach *
pkg_read_foreach(struct warena *a, const char *file, const xmlNode *loop,
                 const xmlNode *en, const xmlNode *maps, struct werr *err)
{
    struct fe_reader r = {.a = a, .file = file, .err = err};
    struct pkg_foreach *f = warena_alloc(a, sizeof(*f));

    f->kind = PKG_ENUM_OTHER;
    f->kind_name = f->creation_name = "";
    f->folder = f->variable = f->ado_enum_type = "";
    f->file_spec = "*.*";
    f->line = pkg_xml_line(loop);
    if (en && read_enumerator(&r, en, f) < 0)
        return NULL;
    if (maps && read_mappings(&r, maps, f) < 0)
        return NULL;
    return f;
}
