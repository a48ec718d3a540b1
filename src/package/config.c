/*
 * Legacy package configurations (the package deployment model of SSIS
 * 2005-2008, still honoured by SSIS 2012+): the DTS:Configurations list
 * of a package, and the .dtsConfig XML files they point at.
 *
 * Both are read into one arena per call, independent of the package's
 * (which is immutable): the runtime reads them once per run.  The list is
 * read from the package's document, which the package keeps.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "package/package_int.h"

struct pkg_configs {
    struct warena *arena;
    bool enabled;
    struct pkg_configuration *v;
    size_t n;
};

struct pkg_config_file {
    struct warena *arena;
    struct pkg_config_entry *v;
    size_t n;
};

static bool
is_true(const char *v)
{
    return v && (!strcasecmp(v, "true") || !strcmp(v, "1") ||
                 !strcmp(v, "-1"));
}

static int
read_configuration(struct warena *a, const xmlNode *n,
                   struct pkg_configuration *c)
{
    const char *type = pkg_xml_attr(a, n, PKG_NS_DTS, "ConfigurationType");
    char *end;
    long t;

    c->name = pkg_xml_attr(a, n, PKG_NS_DTS, "ObjectName");
    c->string = pkg_xml_attr(a, n, PKG_NS_DTS, "ConfigurationString");
    c->target = pkg_xml_attr(a, n, PKG_NS_DTS, "ConfigurationVariable");
    c->line = pkg_xml_line(n);
    if (!c->name)
        c->name = "";
    if (!c->string)
        c->string = "";
    if (!c->target)
        c->target = "";
    t = type ? strtol(type, &end, 10) : -1;
    c->type = type && *type && !*end && t >= 0 && t < 100 ? (int)t : -1;
    return 0;
}

struct pkg_configs *
pkg_configs_read(const struct pkg *p)
{
    struct pkg_configs *cs = xcalloc(1, sizeof(*cs));
    const xmlNode *root = xmlDocGetRootElement(p->doc), *list = NULL;
    size_t i = 0;

    cs->arena = warena_new();
    cs->enabled = is_true(pkg_xml_attr(cs->arena, root, PKG_NS_DTS,
                                       "EnableConfig"));
    for (const xmlNode *c = root->children; c && !list; c = c->next)
        if (pkg_xml_is(c, PKG_NS_DTS, "Configurations"))
            list = c;
    for (const xmlNode *c = list ? list->children : NULL; c; c = c->next)
        cs->n += pkg_xml_is(c, PKG_NS_DTS, "Configuration");
    if (cs->n)
        cs->v = warena_alloc(cs->arena, cs->n * sizeof(*cs->v));
    for (const xmlNode *c = list ? list->children : NULL; c; c = c->next)
        if (pkg_xml_is(c, PKG_NS_DTS, "Configuration"))
            read_configuration(cs->arena, c, &cs->v[i++]);
    return cs;
}

void
pkg_configs_free(struct pkg_configs *cs)
{
    if (!cs)
        return;
    warena_free(cs->arena);
    free(cs);
}

const struct pkg_configuration *
pkg_configs_list(const struct pkg_configs *cs, size_t *n, bool *enabled)
{
    *n = cs->n;
    *enabled = cs->enabled;
    return cs->v;
}

/* ---- .dtsConfig files ---- */

static bool
is_named(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static int __attribute__((format(printf, 4, 5)))
fail(struct werr *err, const char *file, const xmlNode *n, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return werr_set(err, WERR_INVALID, "'%s' line %d: %s", file,
                    pkg_xml_line(n), msg);
}

static int
read_entry(struct pkg_config_file *f, const char *name, const xmlNode *n,
           struct pkg_config_entry *e, struct werr *err)
{
    const xmlNode *val = NULL;

    e->path = pkg_xml_attr(f->arena, n, NULL, "Path");
    e->value_type = pkg_xml_attr(f->arena, n, NULL, "ValueType");
    e->type = pkg_xml_attr(f->arena, n, NULL, "ConfiguredType");
    e->line = pkg_xml_line(n);
    if (!e->path || !*e->path)
        return fail(err, name, n, "a <Configuration> without a Path");
    for (const xmlNode *c = n->children; c && !val; c = c->next)
        if (is_named(c, "ConfiguredValue"))
            val = c;
    if (!val)
        return fail(err, name, n, "configuration '%.100s' has no "
                    "<ConfiguredValue>", e->path);
    e->value = pkg_xml_text(f->arena, val);
    if (!e->value_type)
        e->value_type = "String";
    if (!e->type)
        e->type = "Property";
    return 0;
}

struct pkg_config_file *
pkg_config_file_read(const char *name, const void *xml, size_t len,
                     struct werr *err)
{
    struct pkg_config_file *f = xcalloc(1, sizeof(*f));
    xmlDocPtr doc;
    const xmlNode *root;
    size_t i = 0;

    f->arena = warena_new();
    if (!(doc = pkg_xml_read(name, xml, len, err)))
        goto fail;
    root = xmlDocGetRootElement(doc);
    if (!is_named(root, "DTSConfiguration")) {
        fail(err, name, root, "the root element is <%s>, not "
             "<DTSConfiguration>", (const char *)root->name);
        goto fail;
    }
    for (const xmlNode *c = root->children; c; c = c->next)
        f->n += is_named(c, "Configuration");
    if (f->n)
        f->v = warena_alloc(f->arena, f->n * sizeof(*f->v));
    for (const xmlNode *c = root->children; c; c = c->next)
        if (is_named(c, "Configuration") &&
            read_entry(f, name, c, &f->v[i++], err) < 0)
            goto fail;
    xmlFreeDoc(doc);
    return f;
fail:
    if (doc)
        xmlFreeDoc(doc);
    pkg_config_file_free(f);
    return NULL;
}

void
pkg_config_file_free(struct pkg_config_file *f)
{
    if (!f)
        return;
    warena_free(f->arena);
    free(f);
}

const struct pkg_config_entry *
pkg_config_file_entries(const struct pkg_config_file *f, size_t *n)
{
    *n = f->n;
    return f->v;
}
