/*
 * Reading the Flat File connection manager (flatfile.h).  Attributes are
 * in the DTS namespace and use the format's _xHHHH_ escapes for control
 * characters; absent ones take the defaults SSIS uses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "dataflow/flatfile.h"

#define NS_DTS "www.microsoft.com/SqlServer/Dts"

static char *
dts(const xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetNsProp(n, (const xmlChar *)name,
                              (const xmlChar *)NS_DTS);
    char *s;

    if (!v)
        return NULL;
    s = xstrdup((const char *)v);
    xmlFree(v);
    return s;
}

static long
dts_int(const xmlNode *n, const char *name, long dflt)
{
    char *s = dts(n, name), *end;
    long v = dflt;

    if (s && *s) {
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || *end)
            v = dflt;
    }
    free(s);
    return v;
}

static bool
dts_bool(const xmlNode *n, const char *name)
{
    char *s = dts(n, name);
    bool v = s && (!strcasecmp(s, "true") || !strcmp(s, "-1") ||
                   !strcmp(s, "1"));

    free(s);
    return v;
}

static void
put_utf8(char **o, unsigned cp)
{
    unsigned char *p = (unsigned char *)*o;

    if (cp < 0x80) {
        *p++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *p++ = (unsigned char)(0xC0 | (cp >> 6));
        *p++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        *p++ = (unsigned char)(0xE0 | (cp >> 12));
        *p++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *p++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    *o = (char *)p;
}

char *
df_ff_unescape(const char *s)
{
    char *out = xmalloc(strlen(s) * 3 + 1), *o = out;

    while (*s) {
        unsigned cp = 0;
        bool esc = s[0] == '_' && s[1] == 'x';
        for (int i = 0; esc && i < 4; i++) {
            char c = s[2 + i];
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (d < 0)
                esc = false;
            cp = cp * 16 + (unsigned)(d < 0 ? 0 : d);
        }
        if (esc && s[6] == '_') {
            put_utf8(&o, cp);
            s += 7;
        } else {
            *o++ = *s++;
        }
    }
    *o = '\0';
    return out;
}

static int
read_column(const xmlNode *n, struct df_ff_column *c, const char *cm,
            struct werr *err)
{
    char *s = dts(n, "ColumnType");
    char *d = dts(n, "ColumnDelimiter");

    c->name = dts(n, "ObjectName");
    if (!c->name)
        c->name = xstrdup("");
    c->fixed = s && !strcasecmp(s, "FixedWidth");
    free(s);
    c->delim = df_ff_unescape(d ? d : "");
    c->delim_len = strlen(c->delim);
    free(d);
    c->width = (int)dts_int(n, "ColumnWidth", 0);
    c->type.dt = (enum expr_dt)dts_int(n, "DataType", EXPR_DT_STR);
    c->type.length = (int32_t)dts_int(n, "MaximumWidth", 50);
    c->type.precision = (uint8_t)dts_int(n, "DataPrecision", 0);
    c->type.scale = (uint8_t)dts_int(n, "DataScale", 0);
    c->qualified = true;
    if ((s = dts(n, "TextQualified"))) {
        c->qualified = !strcasecmp(s, "true") || !strcmp(s, "-1");
        free(s);
    }
    if (!c->fixed && !c->delim_len && !c->width)
        return werr_set(err, WERR_INVALID,
                        "flat file connection manager '%s': column '%s' "
                        "has neither a delimiter nor a width",
                        cm, c->name);
    return 0;
}

static const xmlNode *
inner(const struct pkg_connection *cm)
{
    return cm->object_data;
}

static void
read_format(const xmlNode *n, struct df_ff *ff)
{
    char *s = dts(n, "Format"), *q;

    ff->format = !s || !strcasecmp(s, "Delimited") ? DF_FF_DELIMITED
                 : !strcasecmp(s, "FixedWidth")     ? DF_FF_FIXED
                                                    : DF_FF_RAGGED;
    free(s);
    ff->codepage = (int)dts_int(n, "CodePage", 1252);
    ff->unicode = dts_bool(n, "Unicode");
    ff->names_first = dts_bool(n, "ColumnNamesInFirstDataRow");
    s = dts(n, "HeaderRowDelimiter");
    ff->header_delim = df_ff_unescape(s ? s : "\r\n");
    free(s);
    ff->header_rows_skip = dts_int(n, "HeaderRowsToSkip", 0);
    ff->data_rows_skip = dts_int(n, "DataRowsToSkip", 0);
    s = dts(n, "TextQualifier");
    q = df_ff_unescape(s ? s : "");
    ff->qualifier = strlen(q) == 1 ? q[0] : 0;
    free(q);
    free(s);
}

int
df_ff_read(const struct pkg_connection *cm, struct df_ff *ff,
           struct werr *err)
{
    const xmlNode *n = inner(cm), *list = NULL;
    size_t k = 0;

    memset(ff, 0, sizeof(*ff));
    if (!n)
        return werr_set(err, WERR_INVALID,
                        "connection manager '%s' has no flat file "
                        "definition (is it a Flat File manager?)",
                        cm->name);
    read_format(n, ff);
    for (const xmlNode *c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE &&
            !strcmp((const char *)c->name, "FlatFileColumns"))
            list = c;
    for (const xmlNode *c = list ? list->children : NULL; c; c = c->next)
        k += c->type == XML_ELEMENT_NODE;
    ff->cols = xcalloc(k + 1, sizeof(*ff->cols));
    for (const xmlNode *c = list ? list->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (read_column(c, &ff->cols[ff->ncols++], cm->name, err) < 0) {
            df_ff_release(ff);
            return -1;
        }
    }
    if (!ff->ncols) {
        df_ff_release(ff);
        return werr_set(err, WERR_INVALID,
                        "flat file connection manager '%s' has no columns",
                        cm->name);
    }
    return 0;
}

void
df_ff_release(struct df_ff *ff)
{
    for (size_t i = 0; i < ff->ncols; i++) {
        free(ff->cols[i].name);
        free(ff->cols[i].delim);
    }
    free(ff->cols);
    free(ff->header_delim);
    memset(ff, 0, sizeof(*ff));
}

int
df_ff_find(const struct df_ff *ff, const char *name)
{
    for (size_t i = 0; i < ff->ncols; i++)
        if (!strcmp(ff->cols[i].name, name))
            return (int)i;
    for (size_t i = 0; i < ff->ncols; i++)
        if (!strcasecmp(ff->cols[i].name, name))
            return (int)i;
    return -1;
}
