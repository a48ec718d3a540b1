/*
 * libxml2 glue shared by the .dtsx and Project.params parsers.
 *
 * Documents are read with XML_PARSE_NONET and without XML_PARSE_NOENT or
 * XML_PARSE_DTDLOAD, and a document with a DOCTYPE is refused outright, so
 * no entity can expand and nothing is fetched.  The parser's errors go to
 * a structured handler on the parser context that keeps the first error
 * and its line.  Errors libxml2 raises without a parser context (a byte
 * sequence the declared encoding cannot convert) go to its structured
 * handler of the calling thread (libxml2's error globals are per thread),
 * set for the parse and restored after it, so libxml2 prints nothing.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "base/banned.h"
#include "package/package_int.h"

struct first_error {
    bool have;
    int line;
    char msg[160];
};

static void
on_xml_error(void *ctx, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct first_error *fe = ctxt ? ctxt->_private : NULL;
    size_t n;

    if (!fe || fe->have || !e || e->level < XML_ERR_ERROR)
        return;
    fe->have = true;
    fe->line = e->line;
    snprintf(fe->msg, sizeof(fe->msg), "%s",
             e->message ? e->message : "malformed XML");
    /* One line: "...UTF-8, indicate encoding !\nBytes: 0xFF..." */
    for (char *p = fe->msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
    n = strlen(fe->msg);
    while (n > 0 && isspace((unsigned char)fe->msg[n - 1]))
        fe->msg[--n] = '\0';
    fe->msg[0] = (char)tolower((unsigned char)fe->msg[0]);
}

static int
xml_failed(const char *name, const struct first_error *fe, struct werr *err)
{
    if (!fe->have)
        return werr_set(err, WERR_INVALID, "'%s': malformed XML", name);
    if (fe->line > 0)
        return werr_set(err, WERR_INVALID, "'%s' line %d: %s", name, fe->line,
                        fe->msg);
    return werr_set(err, WERR_INVALID, "'%s': %s", name, fe->msg);
}

xmlDocPtr
pkg_xml_read(const char *name, const void *xml, size_t len, struct werr *err)
{
    struct first_error fe = {0};
    xmlParserCtxtPtr ctxt;
    xmlStructuredErrorFunc saved;
    void *saved_ctx;
    xmlDocPtr doc;

    if (len > INT_MAX) {
        werr_set(err, WERR_LIMIT, "'%s' is larger than %d bytes", name,
                 INT_MAX);
        return NULL;
    }
    if (len == 0) {
        werr_set(err, WERR_INVALID, "'%s' is empty", name);
        return NULL;
    }
    ctxt = xmlNewParserCtxt();
    if (!ctxt)
        W_BUG("out of memory creating an XML parser");
    ctxt->_private = &fe;
    ctxt->sax->serror = on_xml_error;
    saved = xmlStructuredError;
    saved_ctx = xmlStructuredErrorContext;
    xmlSetStructuredErrorFunc(ctxt, on_xml_error);
    doc = xmlCtxtReadMemory(ctxt, xml, (int)len, name, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR |
                                XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES);
    xmlSetStructuredErrorFunc(saved_ctx, saved);
    if (doc && (!ctxt->wellFormed || fe.have)) {
        xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(ctxt);
    if (!doc) {
        xml_failed(name, &fe, err);
        return NULL;
    }
    if (doc->intSubset || doc->extSubset) {
        xmlFreeDoc(doc);
        werr_set(err, WERR_INVALID,
                 "'%s' has a DOCTYPE: packages never do, and weir does not "
                 "read DTDs",
                 name);
        return NULL;
    }
    return doc;
}

bool
pkg_xml_is(const xmlNode *n, const char *ns, const char *local)
{
    if (!n || n->type != XML_ELEMENT_NODE ||
        strcmp((const char *)n->name, local))
        return false;
    if (!ns)
        return n->ns == NULL;
    return n->ns && n->ns->href && !strcmp((const char *)n->ns->href, ns);
}

/* Attribute values are text nodes: the document has no DTD, so there are
 * no entity references left in them. */
static const char *
concat_text(struct warena *a, const xmlNode *first)
{
    size_t len = 0;
    char *s, *p;

    for (const xmlNode *c = first; c; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
            c->content)
            len += strlen((const char *)c->content);
    s = p = warena_alloc(a, len + 1);
    for (const xmlNode *c = first; c; c = c->next) {
        if ((c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) ||
            !c->content)
            continue;
        size_t n = strlen((const char *)c->content);
        memcpy(p, c->content, n);
        p += n;
    }
    *p = '\0';
    return s;
}

const char *
pkg_xml_attr(struct warena *a, const xmlNode *n, const char *ns,
             const char *local)
{
    for (const xmlAttr *at = n->properties; at; at = at->next) {
        if (strcmp((const char *)at->name, local))
            continue;
        if (ns ? !(at->ns && at->ns->href &&
                   !strcmp((const char *)at->ns->href, ns))
               : at->ns != NULL)
            continue;
        return concat_text(a, at->children);
    }
    return NULL;
}

const char *
pkg_xml_text(struct warena *a, const xmlNode *n)
{
    return concat_text(a, n->children);
}

int
pkg_xml_line(const xmlNode *n)
{
    long line = xmlGetLineNo(n);

    return line > 0 && line < INT_MAX ? (int)line : 0;
}
