/*
 * Project.params: the project's parameters, in their own XML dialect
 * (namespace www.microsoft.com/SqlServer/SSIS, every setting a
 * <SSIS:Property SSIS:Name="...">).  The DataType there is a
 * System.TypeCode, converted on load to the VARIANT code package
 * parameters use, so the runtime sees one encoding.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "base/wfile.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "package/package_int.h"

static int __attribute__((format(printf, 4, 5)))
fail(struct werr *err, const char *file, const xmlNode *n, const char *fmt, ...)
{
    char msg[224];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return werr_set(err, WERR_INVALID, "'%s' line %d: %s", file,
                    pkg_xml_line(n), msg);
}

static bool
is_encrypted(struct warena *a, const xmlNode *prop)
{
    const char *enc = pkg_xml_attr(a, prop, NULL, "Encrypted");

    if (enc && !strcmp(enc, "1"))
        return true;
    for (const xmlNode *c = prop->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return true;
    return false;
}

/* One <SSIS:Property SSIS:Name="..."> of a parameter. */
static int
read_property(struct warena *a, const char *file, const xmlNode *prop,
              struct pkg_parameter *pa, struct werr *err)
{
    const char *name = pkg_xml_attr(a, prop, PKG_NS_SSIS, "Name");
    const char *text;
    char *end;
    long v;

    if (!name)
        return 0;
    if (!strcmp(name, "Value")) {
        pa->encrypted = is_encrypted(a, prop);
        pa->value = pa->encrypted ? NULL : pkg_xml_text(a, prop);
        return 0;
    }
    text = pkg_xml_text(a, prop);
    if (!strcmp(name, "ID"))
        pa->dtsid = text;
    else if (!strcmp(name, "Description"))
        pa->description = text;
    else if (!strcmp(name, "Required") || !strcmp(name, "Sensitive") ||
             !strcmp(name, "DataType")) {
        errno = 0;
        v = strtol(text, &end, 10);
        if (end == text || *end || errno)
            return fail(err, file, prop,
                        "parameter '%s': %s must be a "
                        "number, not '%s'",
                        pa->name, name, text);
        if (!strcmp(name, "Required"))
            pa->required = v != 0;
        else if (!strcmp(name, "Sensitive"))
            pa->sensitive = v != 0;
        else if ((pa->data_type = pkg_typecode_to_variant((int)v)) < 0)
            return fail(err, file, prop,
                        "parameter '%s': unknown data "
                        "type %ld",
                        pa->name, v);
    }
    return 0;
}

static int
read_parameter(struct warena *a, const char *file, const xmlNode *n,
               struct pkg_parameter *pa, struct werr *err)
{
    pa->name = pkg_xml_attr(a, n, PKG_NS_SSIS, "Name");
    if (!pa->name || !*pa->name)
        return fail(err, file, n, "<SSIS:Parameter> has no SSIS:Name");
    pa->line = pkg_xml_line(n);
    pa->data_type = 8;
    for (const xmlNode *ps = n->children; ps; ps = ps->next) {
        if (!pkg_xml_is(ps, PKG_NS_SSIS, "Properties"))
            continue;
        for (const xmlNode *c = ps->children; c; c = c->next)
            if (pkg_xml_is(c, PKG_NS_SSIS, "Property") &&
                read_property(a, file, c, pa, err) < 0)
                return -1;
    }
    return 0;
}

struct pkg_project *
pkg_project_load_memory(const char *name, const void *xml, size_t len,
                        struct werr *err)
{
    struct pkg_project *pr = xcalloc(1, sizeof(*pr));
    xmlDocPtr doc;
    const xmlNode *root;
    size_t n = 0, i = 0;

    pr->arena = warena_new();
    if (!(doc = pkg_xml_read(name, xml, len, err)))
        goto fail;
    root = xmlDocGetRootElement(doc);
    if (!pkg_xml_is(root, PKG_NS_SSIS, "Parameters")) {
        fail(err, name, root,
             "the root element is <%s>, not "
             "<SSIS:Parameters>",
             (const char *)root->name);
        goto fail;
    }
    for (const xmlNode *c = root->children; c; c = c->next)
        n += pkg_xml_is(c, PKG_NS_SSIS, "Parameter");
    if (n)
        pr->parameters =
            warena_alloc(pr->arena, n * sizeof(struct pkg_parameter));
    for (const xmlNode *c = root->children; c; c = c->next)
        if (pkg_xml_is(c, PKG_NS_SSIS, "Parameter") &&
            read_parameter(pr->arena, name, c, &pr->parameters[i++], err) < 0)
            goto fail;
    pr->nparameters = n;
    xmlFreeDoc(doc);
    return pr;
fail:
    if (doc)
        xmlFreeDoc(doc);
    pkg_project_free(pr);
    return NULL;
}

struct pkg_project *
pkg_project_load_dir(const char *dir, struct werr *err)
{
    struct wbuf b;
    struct werr e2;
    struct pkg_project *pr = NULL;
    char *path = xasprintf("%s/Project.params", dir);

    wbuf_init(&b, PKG_MAX_FILE);
    if (wfile_read(path, &b, &e2) < 0) {
        if (e2.code == WERR_NOTFOUND)
            pr = xcalloc(1, sizeof(*pr));
        else if (err)
            *err = e2;
        if (pr)
            pr->arena = warena_new();
        goto out;
    }
    pr = pkg_project_load_memory("Project.params", b.buf, b.len, err);
out:
    wbuf_release(&b);
    free(path);
    return pr;
}

void
pkg_project_free(struct pkg_project *pr)
{
    if (!pr)
        return;
    warena_free(pr->arena);
    free(pr);
}

const struct pkg_parameter *
pkg_project_parameters(const struct pkg_project *pr, size_t *n)
{
    *n = pr->nparameters;
    return pr->parameters;
}
