/*
 * Reading a task's settings element (shared DTSX.md §5.2): the element
 * under DTS:ObjectData that each task type writes (FileSystemData,
 * SendMailTaskData, ExpressionTask...), and its attributes.
 */
#include <string.h>

#include <libxml/tree.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "runtime/runtime_int.h"

const struct _xmlNode *
rt_payload(const struct pkg_executable *e, const char *name)
{
    for (const xmlNode *c = e->object_data ? e->object_data->children : NULL; c;
         c = c->next)
        if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
            return c;
    return NULL;
}

char *
rt_xml_attr(const struct _xmlNode *n, const char *name)
{
    xmlChar *v = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
    char *s = xstrdup(v ? (const char *)v : "");

    xmlFree(v);
    return s;
}
