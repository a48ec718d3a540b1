/*
 * Property overrides by property path (runtime_int.h): how an execution
 * sets a property that a package stores as a Windows value, without an
 * expression in the package.  The path is the one SSISDB's
 * set_execution_property_override_value and dtexec /Set use,
 * "\Package\Loop.ForEachEnumerator.Properties[Directory]"; weir takes it
 * as a parameter name (--param, --params-file, the catalog's parameter
 * values), like "CM.<Name>.ConnectionString".
 *
 * Only the properties weir applies are accepted, so a misspelt path is an
 * error instead of a silent no-op.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "runtime/runtime_int.h"

#define ENUM_PROPS ".ForEachEnumerator.Properties["

static const char *const enum_props[] = {"Directory", "FileSpec", NULL};

bool
rt_override_is_path(const char *name)
{
    return name[0] == '\\';
}

/* Splits "\\Package\\Loop.ForEachEnumerator.Properties[Directory]":
 * the executable and the property; NULL when it is not of that form. */
static const struct pkg_executable *
split(const struct pkg *p, const char *path, const char **property)
{
    const char *at = strstr(path, ENUM_PROPS);
    size_t len = strlen(path);
    const struct pkg_executable *e;
    char *ref;

    if (!p || !at || path[len - 1] != ']')
        return NULL;
    ref = xstrndup(path + 1, (size_t)(at - path - 1));
    e = pkg_find(p, ref);
    free(ref);
    *property = at + strlen(ENUM_PROPS);
    return e;
}

static bool
known_property(const char *prop, size_t len)
{
    for (const char *const *k = enum_props; *k; k++)
        if (strlen(*k) == len && !strncasecmp(*k, prop, len))
            return true;
    return false;
}

int
rt_override_set(struct rt_params *ps, const char *path, const char *value,
                struct werr *err)
{
    const char *prop = NULL;
    const struct pkg_executable *e = split(ps->pkg, path, &prop);
    size_t plen = prop ? strlen(prop) - 1 : 0;

    if (!e || !e->foreach)
        return werr_set(err, WERR_INVALID,
                        "'%s' is no property weir overrides: it takes "
                        "'\\PATH\\TO\\LOOP.ForEachEnumerator.Properties["
                        "Directory]' (or FileSpec) for a Foreach Loop of the "
                        "package",
                        path);
    if (!known_property(prop, plen))
        return werr_set(err, WERR_INVALID,
                        "'%s': weir overrides the enumerator's Directory and "
                        "FileSpec, not '%.*s'",
                        path, (int)plen, prop);
    ps->overrides = xrealloc(ps->overrides,
                             (ps->noverrides + 1) * sizeof(*ps->overrides));
    ps->overrides[ps->noverrides].path = xstrdup(path);
    ps->overrides[ps->noverrides++].value = xstrdup(value);
    return 0;
}

const char *
rt_override_get(const struct rt_params *ps, const struct pkg_executable *e,
                const char *object, const char *property)
{
    const char *hit = NULL;
    char *want;

    if (!ps || !ps->noverrides)
        return NULL;
    want = xasprintf("%s.%s.Properties[%s]", e->path, object, property);
    /* The last one given wins, as for parameters. */
    for (size_t i = 0; i < ps->noverrides; i++)
        if (!strcasecmp(ps->overrides[i].path, want))
            hit = ps->overrides[i].value;
    free(want);
    return hit;
}

void
rt_overrides_release(struct rt_params *ps)
{
    for (size_t i = 0; i < ps->noverrides; i++) {
        free(ps->overrides[i].path);
        free(ps->overrides[i].value);
    }
    free(ps->overrides);
    ps->overrides = NULL;
    ps->noverrides = 0;
}
