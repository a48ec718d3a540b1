/*
 * Reading XML documents safely: what the .dtsx, Project.params and
 * .conmgr parsers share.
 */
#ifndef WEIR_PACKAGE_XML_H
#define WEIR_PACKAGE_XML_H

#include <stddef.h>

#include <libxml/tree.h>

#include "base/werr.h"

/* A parsed XML document with its first error collected instead of printed
 * (libxml2 prints nothing, whatever the input).  Returns NULL with
 * WERR_INVALID "'NAME' line N: message" on malformed input, WERR_LIMIT if
 * it is too large for libxml2, and refuses documents with a DOCTYPE
 * (packages never have one); nothing is fetched, no entity expands.  The
 * caller frees the document with xmlFreeDoc(). */
xmlDocPtr pkg_xml_read(const char *name, const void *xml, size_t len,
                       struct werr *err);

#endif
