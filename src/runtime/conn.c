/*
 * Connection managers resolved to ODBC connection strings (conn.h).
 *
 * OLE DB and ADO.NET strings are `key=value;` lists whose values may be
 * quoted with ' or " (a doubled quote inside stands for itself).  Only
 * the keys every SQL Server provider shares are mapped; the rest (Provider,
 * Auto Translate, Application Name...) has no meaning for an ODBC driver
 * and is dropped.  Anything else a user needs comes through an override,
 * which is the mechanism that matters on Linux: the stored string names
 * the author's server and its password is encrypted away.
 *
 * Project connection managers are read from the project folder's
 * NAME.conmgr files with libxml2 (no network, no entities), once per run.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "base/wfile.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "package/xml.h"
#include "dataflow/dataflow.h"
#include "runtime/conn.h"

#define NS_DTS "www.microsoft.com/SqlServer/Dts"
#define CONMGR_MAX (4u << 20)
#define SQLSERVER_DRIVER "{ODBC Driver 18 for SQL Server}"

/* ---- parsing key=value; lists ---- */

struct kv {
    char *key, *value;
};

static void
kv_free(struct kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

static char *
trimmed(const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return xstrndup(p, n);
}

/* A value starting at *s: quoted or up to the next ';'. */
static char *
read_value(const char **s)
{
    const char *p = *s;
    struct wbuf b;

    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '"' && *p != '\'') {
        size_t n = strcspn(p, ";");
        *s = p + n;
        return trimmed(p, n);
    }
    wbuf_init(&b, WBUF_NOLIMIT);
    for (char q = *p++; *p; p++) {
        if (*p == q && p[1] == q)
            p++;
        else if (*p == q) {
            p++;
            break;
        }
        wbuf_addch(&b, *p, NULL);
    }
    *s = p + strcspn(p, ";");
    return wbuf_detach(&b, NULL);
}

static struct kv *
parse_pairs(const char *s, size_t *n)
{
    struct kv *kv = NULL;
    size_t cap = 0;

    *n = 0;
    while (*s) {
        size_t klen = strcspn(s, "=;");
        if (s[klen] != '=') {
            s += klen + (s[klen] == ';');
            continue;
        }
        XGROW(kv, *n + 1, cap);
        kv[*n].key = trimmed(s, klen);
        s += klen + 1;
        kv[*n].value = read_value(&s);
        (*n)++;
        if (*s == ';')
            s++;
    }
    return kv;
}

static const char *
kv_get(const struct kv *kv, size_t n, const char *const *keys)
{
    for (; *keys; keys++)
        for (size_t i = 0; i < n; i++)
            if (!strcasecmp(kv[i].key, *keys))
                return kv[i].value;
    return NULL;
}

/* ---- mapping ---- */

/* key=value; with the value in braces when it needs them. */
static void
add_odbc(struct wbuf *b, const char *key, const char *value)
{
    if (!value || !*value)
        return;
    wbuf_addf(b, NULL, "%s=", key);
    if (!strpbrk(value, ";{}") && value[0] != ' ') {
        wbuf_addf(b, NULL, "%s;", value);
        return;
    }
    wbuf_addch(b, '{', NULL);
    for (const char *p = value; *p; p++) {
        wbuf_addch(b, *p, NULL);
        if (*p == '}')
            wbuf_addch(b, '}', NULL);
    }
    wbuf_adds(b, "};", NULL);
}

static bool
truthy(const char *v)
{
    return v && (!strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
                 !strcasecmp(v, "sspi"));
}

static char *
map_sqlserver(const struct kv *kv, size_t n)
{
    static const char *const server[] = {
        "Data Source", "Server", "Address", "Addr", "Network Address", NULL};
    static const char *const db[] = {"Initial Catalog", "Database", NULL};
    static const char *const user[] = {"User ID", "UID", "User", NULL};
    static const char *const pwd[] = {"Password", "PWD", NULL};
    static const char *const trusted[] = {"Integrated Security",
                                          "Trusted_Connection", NULL};
    static const char *const tsc[] = {"TrustServerCertificate",
                                      "Trust Server Certificate", NULL};
    const char *host = kv_get(kv, n, server);
    struct wbuf b;

    if (host && (!strcmp(host, ".") || !strcasecmp(host, "(local)")))
        host = "localhost";
    wbuf_init(&b, WBUF_NOLIMIT);
    wbuf_adds(&b, "Driver=" SQLSERVER_DRIVER ";", NULL);
    add_odbc(&b, "Server", host);
    add_odbc(&b, "Database", kv_get(kv, n, db));
    add_odbc(&b, "UID", kv_get(kv, n, user));
    add_odbc(&b, "PWD", kv_get(kv, n, pwd));
    if (truthy(kv_get(kv, n, trusted)))
        wbuf_adds(&b, "Trusted_Connection=yes;", NULL);
    if (truthy(kv_get(kv, n, tsc)))
        wbuf_adds(&b, "TrustServerCertificate=yes;", NULL);
    return wbuf_detach(&b, NULL);
}

/* "Provider=MSDASQL;DSN=x" is an ODBC string behind OLE DB: keep the
 * rest. */
static char *
strip_provider(const struct kv *kv, size_t n)
{
    struct wbuf b;

    wbuf_init(&b, WBUF_NOLIMIT);
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(kv[i].key, "Provider"))
            add_odbc(&b, kv[i].key, kv[i].value);
    return wbuf_detach(&b, NULL);
}

static char *
map_oledb(const char *written, char **why)
{
    static const char *const prov[] = {"Provider", NULL};
    size_t n;
    struct kv *kv = parse_pairs(written, &n);
    const char *p = kv_get(kv, n, prov);
    char *out = NULL;

    if (!p || !strncasecmp(p, "SQLNCLI", 7) ||
        !strncasecmp(p, "MSOLEDBSQL", 10) || !strncasecmp(p, "SQLOLEDB", 8))
        out = map_sqlserver(kv, n);
    else if (!strncasecmp(p, "MSDASQL", 7))
        out = strip_provider(kv, n);
    else
        *why = xasprintf("the OLE DB provider '%s' has no ODBC equivalent", p);
    kv_free(kv, n);
    return out;
}

char *
rt_conn_map(const char *type, const char *written, char **why)
{
    *why = NULL;
    if (!*written) {
        *why = xstrdup("it has no connection string");
        return NULL;
    }
    if (!strcasecmp(type, "ODBC") || strstr(type, "Odbc"))
        return xstrdup(written);
    if (!strcasecmp(type, "OLEDB") || strstr(type, "OleDb"))
        return map_oledb(written, why);
    if (!strncasecmp(type, "ADO.NET:", 8) &&
        (!strcasecmp(type + 8, "SQL") || strstr(type, "SqlClient"))) {
        size_t n;
        struct kv *kv = parse_pairs(written, &n);
        char *out = map_sqlserver(kv, n);
        kv_free(kv, n);
        return out;
    }
    if (!strncasecmp(type, "ADO.NET:", 8))
        *why = xasprintf("the ADO.NET provider '%.80s' has no ODBC "
                         "equivalent",
                         type + 8);
    else
        *why = xasprintf("a %s connection manager is not a database "
                         "connection",
                         *type ? type : "typeless");
    return NULL;
}

/* ---- the set of a run ---- */

static void
resolve(struct rt_conn *c)
{
    free(c->odbc);
    free(c->why_not);
    c->odbc = NULL;
    c->why_not = NULL;
    if (c->expression_property) {
        c->why_not = xasprintf("its %s is set by a property expression, "
                               "which weir does not apply to %s connection "
                               "managers",
                               c->expression_property,
                               *c->creation_name ? c->creation_name
                                                 : "typeless");
        return;
    }
    if (c->nexprs) {
        c->why_not = xstrdup("its property expressions have not been "
                             "evaluated");
        return;
    }
    c->odbc = rt_conn_map(c->creation_name, c->written, &c->why_not);
}

static struct rt_conn *
add(struct rt_conns *cs, size_t *cap, const char *name, const char *dtsid,
    const char *type, const char *written)
{
    struct rt_conn *c;

    XGROW(cs->v, cs->n + 1, *cap);
    c = &cs->v[cs->n++];
    memset(c, 0, sizeof(*c));
    c->name = xstrdup(name);
    c->dtsid = xstrdup(dtsid ? dtsid : "");
    c->creation_name = xstrdup(type ? type : "");
    c->written = xstrdup(written ? written : "");
    c->stored = xstrdup(c->written);
    return c;
}

/* Whether weir applies property `prop` of a manager of type `type`: 1
 * applied, 0 ignored (it does not change the connection), -1 not
 * applied (the manager cannot be used). */
static int
prop_applied(const char *type, const char *prop)
{
    static const char *const parts[] = {"ServerName", "InitialCatalog",
                                        "UserName", "Password", NULL};
    static const char *const ignored[] = {"Description",
                                          "RetainSameConnection", NULL};
    bool db = !strcasecmp(type, "OLEDB") || strstr(type, "OleDb") ||
              (!strncasecmp(type, "ADO.NET:", 8) &&
               (!strcasecmp(type + 8, "SQL") || strstr(type, "SqlClient")));

    if (!strcasecmp(prop, "ConnectionString"))
        return 1;
    for (const char *const *k = parts; db && *k; k++)
        if (!strcasecmp(prop, *k))
            return 1;
    for (const char *const *k = ignored; *k; k++)
        if (!strcasecmp(prop, *k))
            return 0;
    return -1;
}

/* Records a property expression of `c`, or why it blocks the manager. */
static void
add_expr(struct rt_conn *c, const char *prop, const char *text)
{
    static const char *const names[] = {
        "ConnectionString", "ServerName", "InitialCatalog",
        "UserName",         "Password",   NULL};
    int applied = prop_applied(c->creation_name, prop);

    if (applied < 0 && !c->expression_property) {
        /* A static name: the property text belongs to the XML. */
        c->expression_property = "a property";
        for (const char *const *k = names; *k; k++)
            if (!strcasecmp(prop, *k))
                c->expression_property = *k;
    }
    if (applied <= 0)
        return;
    c->exprs = xrealloc(c->exprs, (c->nexprs + 1) * sizeof(*c->exprs));
    c->exprs[c->nexprs].property = xstrdup(prop);
    c->exprs[c->nexprs++].expression = xstrdup(text ? text : "");
    if (!strcasecmp(prop, "ConnectionString") && !c->expression)
        c->expression = xstrdup(text ? text : "");
}

static const char *
xml_dts(const xmlNode *n, const char *name)
{
    return (const char *)xmlGetNsProp(n, (const xmlChar *)name,
                                      (const xmlChar *)NS_DTS);
}

static bool
is_dts(const xmlNode *n, const char *local)
{
    return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           !strcmp((const char *)n->ns->href, NS_DTS) &&
           !strcmp((const char *)n->name, local);
}

/* What a .conmgr's root says: the connection string and the first
 * property expression's property. */
/* The property expressions of a .conmgr's root, once `c` exists. */
static void
read_conmgr_exprs(const xmlNode *root, struct rt_conn *c)
{
    for (const xmlNode *k = root->children; k; k = k->next) {
        xmlChar *prop, *text;
        if (!is_dts(k, "PropertyExpression"))
            continue;
        prop = (xmlChar *)xml_dts(k, "Name");
        text = xmlNodeGetContent(k);
        if (prop)
            add_expr(c, (const char *)prop, (const char *)text);
        xmlFree(prop);
        xmlFree(text);
    }
}

static int
read_conmgr_root(const xmlNode *root, struct rt_conns *cs, size_t *cap,
                 const char *file, struct werr *err)
{
    char *name = NULL, *id = NULL, *type = NULL, *str = NULL;
    char *usage = NULL;
    struct rt_conn *c;

    if (!root || !is_dts(root, "ConnectionManager") ||
        !(name = (char *)xml_dts(root, "ObjectName")))
        return werr_set(err, WERR_INVALID,
                        "'%s' is not a connection manager (no "
                        "DTS:ConnectionManager with a DTS:ObjectName)",
                        file);
    id = (char *)xml_dts(root, "DTSID");
    type = (char *)xml_dts(root, "CreationName");
    for (const xmlNode *k = root->children; k; k = k->next)
        for (const xmlNode *in = k->children; is_dts(k, "ObjectData") && in;
             in = in->next)
            if (is_dts(in, "ConnectionManager") && !str) {
                str = (char *)xml_dts(in, "ConnectionString");
                usage = (char *)xml_dts(in, "FileUsageType");
            }
    c = add(cs, cap, name, id, type, str);
    c->project = true;
    if (usage && usage[0] >= '0' && usage[0] <= '3' && !usage[1])
        c->file_usage = usage[0] - '0';
    read_conmgr_exprs(root, c);
    xmlFree(name);
    xmlFree(id);
    xmlFree(type);
    xmlFree(str);
    xmlFree(usage);
    return 0;
}

/* Parses one .conmgr held in memory into `cs` (not yet resolved). */
static int
parse_conmgr(struct rt_conns *cs, size_t *cap, const char *file,
             const void *data, size_t len, struct werr *err)
{
    xmlDocPtr doc;
    int rc;

    if (len > CONMGR_MAX)
        return werr_set(err, WERR_LIMIT, "'%s' is larger than %u bytes", file,
                        CONMGR_MAX);
    if (!(doc = pkg_xml_read(file, data, len, err)))
        return -1;
    rc = read_conmgr_root(xmlDocGetRootElement(doc), cs, cap, file, err);
    xmlFreeDoc(doc);
    return rc;
}

static int
load_conmgr(struct rt_conns *cs, size_t *cap, const char *dir, const char *file,
            struct werr *err)
{
    char *path = xasprintf("%s/%s", dir, file);
    struct wbuf b;
    int rc = -1;

    wbuf_init(&b, CONMGR_MAX);
    if (wfile_read(path, &b, err) == 0)
        rc = parse_conmgr(cs, cap, file, b.buf, b.len, err);
    wbuf_release(&b);
    free(path);
    return rc;
}

int
rt_conns_add_conmgr(struct rt_conns *cs, const char *file, const void *data,
                    size_t len, struct werr *err)
{
    size_t cap = cs->n;

    if (parse_conmgr(cs, &cap, file, data, len, err) < 0)
        return -1;
    resolve(&cs->v[cs->n - 1]);
    return 0;
}

static char *
dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void
rt_conns_share_project(struct rt_conns *dst, const struct rt_conns *src)
{
    size_t cap = dst->n;

    for (size_t i = 0; src && i < src->n; i++) {
        const struct rt_conn *from = &src->v[i];
        struct rt_conn *c;
        if (!from->project)
            continue;
        c = add(dst, &cap, from->name, from->dtsid, from->creation_name,
                from->written);
        c->odbc = dup_or_null(from->odbc);
        c->why_not = dup_or_null(from->why_not);
        c->expression = dup_or_null(from->expression);
        c->expression_property = from->expression_property;
        free(c->stored);
        c->stored = xstrdup(from->stored);
        c->exprs = xcalloc(from->nexprs + 1, sizeof(*c->exprs));
        for (size_t k = 0; k < from->nexprs; k++) {
            c->exprs[k].property = xstrdup(from->exprs[k].property);
            c->exprs[k].expression = xstrdup(from->exprs[k].expression);
        }
        c->nexprs = from->nexprs;
        c->project = true;
        c->overridden = from->overridden;
    }
}

static int
load_project(struct rt_conns *cs, size_t *cap, const char *dir,
             struct werr *err)
{
    struct dirent **list = NULL;
    int n = scandir(dir, &list, NULL, alphasort), rc = 0;

    for (int i = 0; i < n; i++) {
        const char *f = list[i]->d_name;
        size_t len = strlen(f);
        if (rc == 0 && len > 7 && !strcasecmp(f + len - 7, ".conmgr"))
            rc = load_conmgr(cs, cap, dir, f, err);
        free(list[i]);
    }
    free(list);
    return rc;
}

int
rt_conns_init(struct rt_conns *cs, const struct pkg *p, const char *project_dir,
              struct werr *err)
{
    const struct pkg_connection *pcs;
    size_t n, cap = 0;

    memset(cs, 0, sizeof(*cs));
    pcs = pkg_connections(p, &n);
    for (size_t i = 0; i < n; i++) {
        struct rt_conn *c = add(cs, &cap, pcs[i].name, pcs[i].dtsid,
                                pcs[i].creation_name, pcs[i].connection_string);
        c->file_usage = pcs[i].file_usage;
        for (size_t k = 0; k < pcs[i].nexpressions; k++)
            add_expr(c, pcs[i].expressions[k].property,
                     pcs[i].expressions[k].expression);
    }
    if (project_dir && load_project(cs, &cap, project_dir, err) < 0)
        return -1;
    for (size_t i = 0; i < cs->n; i++)
        resolve(&cs->v[i]);
    return 0;
}

void
rt_conns_release(struct rt_conns *cs)
{
    for (size_t i = 0; i < cs->n; i++) {
        struct rt_conn *c = &cs->v[i];
        free(c->name);
        free(c->dtsid);
        free(c->creation_name);
        free(c->written);
        free(c->odbc);
        free(c->why_not);
        free(c->expression);
        free(c->stored);
        for (size_t k = 0; k < c->nexprs; k++) {
            free(c->exprs[k].property);
            free(c->exprs[k].expression);
        }
        free(c->exprs);
        df_cache_free(c->cache);
    }
    free(cs->v);
    memset(cs, 0, sizeof(*cs));
}

/* The Name in "Package.ConnectionManagers[Name]" (or Project.), into
 * `buf`; else `ref` itself. */
static const char *
ref_name(const char *ref, bool *project, char *buf, size_t size)
{
    static const char *const pre[] = {"Package.ConnectionManagers[",
                                      "Project.ConnectionManagers["};
    size_t len = strlen(ref);

    *project = false;
    for (int i = 0; i < 2; i++) {
        size_t pl = strlen(pre[i]);
        if (len > pl && !strncasecmp(ref, pre[i], pl) && ref[len - 1] == ']') {
            *project = i == 1;
            snprintf(buf, size, "%.*s", (int)(len - pl - 1), ref + pl);
            return buf;
        }
    }
    return ref;
}

struct rt_conn *
rt_conns_find(const struct rt_conns *cs, const char *ref)
{
    char buf[512];
    bool project;
    const char *name;
    size_t len = strlen(ref);

    /* "{DTSID}:external" names a project manager by its DTSID. */
    if (len > 9 && !strcmp(ref + len - 9, ":external"))
        len -= 9;
    for (size_t i = 0; i < cs->n; i++)
        if (*cs->v[i].dtsid && strlen(cs->v[i].dtsid) == len &&
            !strncasecmp(cs->v[i].dtsid, ref, len))
            return &cs->v[i];
    name = ref_name(ref, &project, buf, sizeof(buf));
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < cs->n; i++) {
            const struct rt_conn *c = &cs->v[i];
            if ((pass == 0 && c->project != project) ||
                (pass == 0 ? strcmp(c->name, name) : strcasecmp(c->name, name)))
                continue;
            return (struct rt_conn *)c;
        }
    return NULL;
}

int
rt_conns_override(struct rt_conns *cs, const char *name, const char *odbc,
                  struct werr *err)
{
    struct rt_conn *hit = NULL;

    /* A package manager shadows a project one with the same name. */
    for (size_t i = 0; i < cs->n && !hit; i++)
        if (!strcmp(cs->v[i].name, name))
            hit = &cs->v[i];
    for (size_t i = 0; i < cs->n && !hit; i++)
        if (!strcasecmp(cs->v[i].name, name))
            hit = &cs->v[i];
    if (!hit)
        return werr_set(err, WERR_INVALID,
                        "there is no connection manager '%s' in the package "
                        "or the project",
                        name);
    if (!strcasecmp(hit->creation_name, "FILE") ||
        !strcasecmp(hit->creation_name, "SMTP") ||
        !strcasecmp(hit->creation_name, "FLATFILE") ||
        !strcasecmp(hit->creation_name, "CACHE")) {
        /* A FILE manager's string is a path (an Execute SQL task's .sql
         * file, a File System task's file), a FLATFILE manager's the
         * data flow's file, a CACHE manager's its cache file, an SMTP
         * manager's names its server: the override replaces it. */
        free(hit->written);
        hit->written = xstrdup(odbc);
        hit->overridden = true;
        return 0;
    }
    free(hit->odbc);
    free(hit->why_not);
    hit->why_not = NULL;
    hit->odbc = xstrdup(odbc);
    hit->overridden = true;
    return 0;
}

int
rt_conns_override_arg(struct rt_conns *cs, const char *arg, struct werr *err)
{
    const char *eq = strchr(arg, '=');
    char *name;
    int rc;

    /* Never echo the argument: the string may hold a password. */
    if (!eq || eq == arg)
        return werr_set(err, WERR_INVALID,
                        "--connection wants NAME=ODBC-STRING");
    name = xstrndup(arg, (size_t)(eq - arg));
    rc = rt_conns_override(cs, name, eq + 1, err);
    free(name);
    return rc;
}

bool
rt_conns_is_param(const char *param)
{
    size_t len = strlen(param);

    return len > 20 && !strncmp(param, "CM.", 3) &&
           !strcmp(param + len - 17, ".ConnectionString");
}

int
rt_conns_set_param(struct rt_conns *cs, const char *param, const char *value,
                   struct werr *err)
{
    size_t len = strlen(param);
    char *name;
    int rc;

    if (!rt_conns_is_param(param))
        return werr_set(err, WERR_INVALID,
                        "'%s' is not a CM.<Name>.ConnectionString "
                        "parameter",
                        param);
    name = xstrndup(param + 3, len - 3 - 17);
    rc = rt_conns_override(cs, name, value, err);
    free(name);
    return rc;
}

/* The connection-string key a part property replaces. */
static const char *
part_key(const char *prop)
{
    if (!strcasecmp(prop, "ServerName"))
        return "Data Source";
    if (!strcasecmp(prop, "InitialCatalog"))
        return "Initial Catalog";
    if (!strcasecmp(prop, "UserName"))
        return "User ID";
    return "Password";
}

/* Evaluates expression i of `c` into text (caller frees); NULL on error
 * with `err` naming the manager and the property. */
static char *
eval_one(struct rt_conn *c, size_t i, struct rt_vars *vs,
         const struct pkg_executable *scope, struct werr *err)
{
    const struct rt_conn_expr *x = &c->exprs[i];
    struct rt_value v = {0};
    struct expr *e;
    char *text = NULL;

    if (!(e = rt_vars_expr(vs, x, scope, x->expression, 0, err)) ||
        rt_expr_eval(vs, scope, e, &v, err) < 0)
        werr_prefix(err, "connection manager '%s': its %s expression \"%s\"",
                    c->name, x->property, x->expression);
    else
        text = v.null ? xstrdup("") : rt_value_text(&v);
    rt_value_release(&v);
    return text;
}

int
rt_conn_eval_expression(struct rt_conn *c, struct rt_vars *vs,
                        const struct pkg_executable *scope, struct werr *err)
{
    char *s, *value, *next;

    if (!c->nexprs || c->overridden)
        return 0;
    s = xstrdup(c->stored);
    for (size_t i = 0; i < c->nexprs; i++) {
        if (!(value = eval_one(c, i, vs, scope, err))) {
            free(s);
            return -1;
        }
        if (!strcasecmp(c->exprs[i].property, "ConnectionString"))
            next = value;
        else {
            next = rt_conn_set_key(s, part_key(c->exprs[i].property), value);
            free(value);
        }
        free(s);
        s = next;
    }
    free(c->written);
    c->written = s;
    if (c->expression_property)
        return 0; /* still unusable: resolve() said why */
    free(c->odbc);
    free(c->why_not);
    c->why_not = NULL;
    c->odbc = rt_conn_map(c->creation_name, c->written, &c->why_not);
    return 0;
}

static const char *const *
synonyms(const char *key)
{
    static const char *const server[] = {
        "Data Source", "Server", "Address", "Addr", "Network Address", NULL};
    static const char *const db[] = {"Initial Catalog", "Database", NULL};
    static const char *const user[] = {"User ID", "UID", "User", NULL};
    static const char *const pwd[] = {"Password", "PWD", NULL};

    return !strcasecmp(key, "Data Source")       ? server
           : !strcasecmp(key, "Initial Catalog") ? db
           : !strcasecmp(key, "User ID")         ? user
                                                 : pwd;
}

/* key=value; with the value in double quotes when it needs them. */
static void
add_pair(struct wbuf *b, const char *key, const char *value)
{
    wbuf_addf(b, NULL, "%s=", key);
    if (!strpbrk(value, ";'\"") && value[0] != ' ') {
        wbuf_addf(b, NULL, "%s;", value);
        return;
    }
    wbuf_addch(b, '"', NULL);
    for (const char *p = value; *p; p++) {
        wbuf_addch(b, *p, NULL);
        if (*p == '"')
            wbuf_addch(b, '"', NULL);
    }
    wbuf_adds(b, "\";", NULL);
}

char *
rt_conn_set_key(const char *written, const char *key, const char *value)
{
    const char *const *syn = synonyms(key);
    size_t n;
    struct kv *kv = parse_pairs(written, &n);
    struct wbuf b;

    wbuf_init(&b, WBUF_NOLIMIT);
    for (size_t i = 0; i < n; i++) {
        bool hit = false;
        for (const char *const *k = syn; *k && !hit; k++)
            hit = !strcasecmp(kv[i].key, *k);
        if (!hit)
            add_pair(&b, kv[i].key, kv[i].value);
    }
    add_pair(&b, key, value);
    kv_free(kv, n);
    return wbuf_detach(&b, NULL);
}
