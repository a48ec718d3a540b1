/*
 * Legacy package configurations and property paths (dtexec /Set).
 *
 * A package of the package deployment model lists configurations
 * (DTS:Configurations, applied only with DTS:EnableConfig): XML
 * .dtsConfig files, environment variables, parent package variables,
 * registry keys and SQL Server tables.  Each sets properties named by a
 * property path: "\Package.Variables[User::X].Properties[Value]" (a
 * variable, "\Package\Seq.Variables[...]" for one of a container) or
 * "\Package.Connections[Name].Properties[ConnectionString]" (a
 * connection manager's stored string, mapped to ODBC as the package's
 * own is).  Paths weir does not apply are warned about by name and
 * skipped, as SSIS warns and goes on.
 *
 * Order, as dtexec 2012+ applies them: the configurations in the order
 * the package lists them, parent package variables last; then the
 * execution's values (--param, --params-file, --connection, --set), so
 * the execution wins.  dtexec then reloads the configurations with the
 * command line applied, which only matters for configurations whose
 * location a command-line option changes; weir's never do.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/wfile.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "runtime/conn.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

#define CONFIG_FILE_MAX (4u << 20)

/* The text between "[" at `open` and the matching "]", into a new
 * string; NULL if unterminated. */
static char *
bracketed(const char *open, const char **after)
{
    const char *close = strchr(open + 1, ']');

    if (!close)
        return NULL;
    *after = close + 1;
    return xstrndup(open + 1, (size_t)(close - open - 1));
}

static int
set_variable(struct rt_run *run, const char *path, const char *at,
             const char *value, struct werr *err)
{
    const struct pkg_executable *scope;
    const char *after;
    char *ref = xstrndup(path + 1, (size_t)(at - path - 1));
    char *name = bracketed(at + strlen(".Variables"), &after);
    struct rt_value v = {0};
    int rc = -1;

    scope = pkg_find(run->pkg, ref);
    if (!scope || !name || strcasecmp(after, ".Properties[Value]") ||
        !run->vars) {
        werr_set(err, WERR_NOTFOUND, "'%s' names no variable value", path);
        goto out;
    }
    rt_value_set_str(&v, value, strlen(value));
    rc = rt_vars_set(run->vars, scope, name, &v, err);
out:
    rt_value_release(&v);
    free(ref);
    free(name);
    return rc;
}

static int
set_connection(struct rt_run *run, const char *path, const char *value,
               struct werr *err)
{
    const char *after;
    char *name = bracketed(path + strlen("\\Package.Connections"), &after);
    struct rt_conn *c = NULL;
    int rc = -1;

    if (name && run->conns)
        c = rt_conns_find(run->conns, name);
    if (!c || strcasecmp(after, ".Properties[ConnectionString]")) {
        werr_set(err, WERR_NOTFOUND,
                 "'%s' names no connection string weir applies", path);
        goto out;
    }
    free(c->written);
    c->written = xstrdup(value);
    /* Property expressions (ServerName, InitialCatalog...) apply over the
     * configured string, as in SSIS, not over the package's. */
    free(c->stored);
    c->stored = xstrdup(value);
    if (!c->expression) {
        free(c->odbc);
        free(c->why_not);
        c->why_not = NULL;
        c->odbc = rt_conn_map(c->creation_name, c->written, &c->why_not);
    }
    rc = 0;
out:
    free(name);
    return rc;
}

int
rt_property_set(struct rt_run *run, struct rt_params *ps, const char *path,
                const char *value, struct werr *err)
{
    const char *vars = strstr(path, ".Variables[");

    if (strncasecmp(path, "\\Package", 8))
        return werr_set(err, WERR_NOTFOUND,
                        "'%s' is not a property path (\\Package...)", path);
    if (vars)
        return set_variable(run, path, vars, value, err);
    if (!strncasecmp(path, "\\Package.Connections[", 21))
        return set_connection(run, path, value, err);
    if (ps && rt_params_set(ps, path, value, err) == 0)
        return 0;
    return werr_set(err, WERR_NOTFOUND,
                    "'%s' is not a property weir applies (variables' "
                    "values, connection strings and Foreach enumerators' "
                    "Directory and FileSpec)",
                    path);
}

int
rt_property_set_arg(struct rt_run *run, struct rt_params *ps, const char *arg,
                    struct werr *err)
{
    const char *semi = strchr(arg, ';');
    char *path;
    int rc;

    if (!semi || semi == arg)
        return werr_set(err, WERR_INVALID,
                        "--set wants PATH;VALUE, not '%s'", arg);
    path = xstrndup(arg, (size_t)(semi - arg));
    rc = rt_property_set(run, ps, path, semi + 1, err);
    free(path);
    return rc;
}

/* ---- configurations ---- */

struct apply {
    struct rt_run *run;
    struct rt_params *ps;
    struct wbuf *errors;
    const struct pkg_configuration *c;
    /* Collecting parent package variables' values as "TARGET;VALUE"
     * (rt_configs_parent_sets) instead of applying them. */
    char **sets;
    size_t nsets;
};

static void __attribute__((format(printf, 2, 3)))
warn(struct apply *ap, const char *fmt, ...)
{
    char msg[768];
    va_list va;

    va_start(va, fmt);
    vsnprintf(msg, sizeof(msg), fmt, va);
    va_end(va);
    rt_emit(ap->run, pkg_root(ap->run->pkg), RT_EV_WARNING,
            "configuration '%s': %s", ap->c->name, msg);
}

/* A property set by a configuration: a failure is a warning. */
static void
apply_value(struct apply *ap, const char *path, const char *value)
{
    struct werr err;

    if (rt_property_set(ap->run, ap->ps, path, value, &err) < 0)
        warn(ap, "'%s' is not applied: %s", path, err.msg);
}

/* Where a configuration file is: a Linux path as it is (relative to the
 * package's folder); a Windows path by its file name in the package's
 * folder, then the project's. */
static char *
config_path(struct rt_run *run, const char *written)
{
    const char *base = written;
    char *p;

    if (!pkg_path_is_windows(written))
        return pkg_path_linux(written, run->package_dir);
    for (const char *s = written; *s; s++)
        if (*s == '\\' || *s == '/' || *s == ':')
            base = s + 1;
    p = xasprintf("%s/%s", run->package_dir, base);
    if (access(p, F_OK) == 0 || !run->project_dir)
        return p;
    free(p);
    return xasprintf("%s/%s", run->project_dir, base);
}

static void
apply_file(struct apply *ap, const char *written)
{
    char *path = config_path(ap->run, written);
    struct pkg_config_file *f = NULL;
    const struct pkg_config_entry *e;
    struct wbuf b;
    struct werr err;
    size_t n;

    wbuf_init(&b, CONFIG_FILE_MAX);
    if (wfile_read(path, &b, &err) < 0 ||
        !(f = pkg_config_file_read(written, b.buf, b.len, &err))) {
        warn(ap, "%s", err.msg);
        goto out;
    }
    e = pkg_config_file_entries(f, &n);
    for (size_t i = 0; i < n; i++)
        apply_value(ap, e[i].path, e[i].value);
out:
    pkg_config_file_free(f);
    wbuf_release(&b);
    free(path);
}

/* An environment variable's value, or NULL after a warning. */
static const char *
env_value(struct apply *ap, const char *name)
{
    const char *v = *name ? getenv(name) : NULL;

    if (!v)
        warn(ap, "environment variable '%s' is not set", name);
    return v;
}

static void
apply_parent(struct apply *ap, const char *variable)
{
    struct rt_run *parent = ap->run->parent;
    struct rt_value v = {0};
    struct werr err;
    char *text;

    if (!parent || !parent->vars) {
        warn(ap, "there is no parent package to read '%s' from", variable);
        return;
    }
    if (rt_vars_get(parent->vars, ap->run->parent_task, variable, &v, &err) <
        0) {
        warn(ap, "%s", err.msg);
        return;
    }
    text = rt_value_text(&v);
    if (ap->sets) {
        ap->sets = xrealloc(ap->sets, (ap->nsets + 2) * sizeof(char *));
        ap->sets[ap->nsets++] = xasprintf("%s;%s", ap->c->target, text);
        ap->sets[ap->nsets] = NULL;
    } else {
        apply_value(ap, ap->c->target, text);
    }
    free(text);
    rt_value_release(&v);
}

/* Parent package variables come last, as in SSIS. */
static void
apply_parents(struct apply *ap, const struct pkg_configuration *c, size_t n)
{
    const char *s;

    for (size_t i = 0; i < n; i++) {
        ap->c = &c[i];
        if (c[i].type == PKG_CONFIG_PARENT_VARIABLE)
            apply_parent(ap, c[i].string);
        else if (c[i].type == PKG_CONFIG_IPARENT_VARIABLE &&
                 (s = env_value(ap, c[i].string)))
            apply_parent(ap, s);
    }
}

static void
apply_one(struct apply *ap)
{
    const struct pkg_configuration *c = ap->c;
    const char *s;

    switch (c->type) {
    case PKG_CONFIG_FILE:
        apply_file(ap, c->string);
        break;
    case PKG_CONFIG_IFILE:
        if ((s = env_value(ap, c->string)))
            apply_file(ap, s);
        break;
    case PKG_CONFIG_ENV:
        if ((s = env_value(ap, c->string)))
            apply_value(ap, c->target, s);
        break;
    case PKG_CONFIG_REGISTRY:
    case PKG_CONFIG_IREGISTRY:
        warn(ap, "registry configurations cannot be read on Linux; '%s' "
                 "is not applied",
             c->string);
        break;
    case PKG_CONFIG_SQLSERVER:
    case PKG_CONFIG_ISQLSERVER:
        wbuf_addf(ap->errors, NULL,
                  "configuration '%s': SQL Server table configurations are "
                  "not supported by weir; move the values to an XML "
                  "configuration file or to parameters\n",
                  c->name);
        break;
    default:
        warn(ap, "unknown configuration type (%s)",
             c->type < 0 ? "none" : "not one SSIS defines");
    }
}

int
rt_configs_apply(struct rt_run *run, struct rt_params *ps,
                 struct wbuf *errors)
{
    struct pkg_configs *cs = pkg_configs_read(run->pkg);
    struct apply ap = {.run = run, .ps = ps, .errors = errors};
    const struct pkg_configuration *c;
    size_t n, before = errors->len, count = 0;
    bool enabled;

    c = pkg_configs_list(cs, &n, &enabled);
    for (size_t i = 0; enabled && i < n; i++) {
        ap.c = &c[i];
        if (c[i].type != PKG_CONFIG_PARENT_VARIABLE &&
            c[i].type != PKG_CONFIG_IPARENT_VARIABLE)
            apply_one(&ap);
    }
    if (enabled && !run->parent_elsewhere)
        apply_parents(&ap, c, n);
    pkg_configs_free(cs);
    for (size_t i = before; i < errors->len; i++)
        count += errors->buf[i] == '\n';
    return (int)count;
}

char **
rt_configs_parent_sets(struct rt_run *run)
{
    struct pkg_configs *cs = pkg_configs_read(run->pkg);
    struct apply ap = {.run = run, .sets = xcalloc(1, sizeof(char *))};
    const struct pkg_configuration *c;
    size_t n;
    bool enabled;

    c = pkg_configs_list(cs, &n, &enabled);
    if (enabled)
        apply_parents(&ap, c, n);
    pkg_configs_free(cs);
    return ap.sets;
}
