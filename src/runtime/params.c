/*
 * Parameter values for one run.  The execution gives every value as text
 * (command line, the worker's params.json); each is checked against the
 * parameter's type here, so a bad value fails before anything runs and
 * the message names the parameter.  Sensitive values never appear in a
 * message.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "base/wfile.h"
#include "base/wjson.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "runtime/conn.h"
#include "runtime/runtime_int.h"

#define PARAMS_FILE_MAX (4u << 20)

void
rt_params_init(struct rt_params *ps, const struct pkg *p,
               const struct pkg_project *pr)
{
    const struct pkg_parameter *pk, *pj = NULL;
    size_t npk, npj = 0;

    pk = pkg_parameters(p, &npk);
    if (pr)
        pj = pkg_project_parameters(pr, &npj);
    ps->n = npk + npj;
    ps->v = xcalloc(ps->n + 1, sizeof(*ps->v));
    ps->pkg = p;
    ps->overrides = NULL;
    ps->noverrides = 0;
    for (size_t i = 0; i < ps->n; i++) {
        struct rt_param *v = &ps->v[i];
        v->project = i >= npk;
        v->def = v->project ? &pj[i - npk] : &pk[i];
        v->value = v->def->value ? xstrdup(v->def->value) : NULL;
    }
}

void
rt_params_release(struct rt_params *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        free(ps->v[i].value);
    free(ps->v);
    ps->v = NULL;
    ps->n = 0;
    rt_overrides_release(ps);
}

static const char *
type_name(int vt)
{
    static const char *const names[] = {
        [2] = "Int16",    [3] = "Int32",    [4] = "Single",  [5] = "Double",
        [6] = "Currency", [7] = "DateTime", [8] = "String",  [11] = "Boolean",
        [14] = "Decimal", [16] = "SByte",   [17] = "Byte",   [18] = "UInt16",
        [19] = "UInt32",  [20] = "Int64",   [21] = "UInt64",
    };

    if (vt >= 0 && vt < (int)(sizeof(names) / sizeof(names[0])) && names[vt])
        return names[vt];
    return "a value";
}

static bool
int_fits(const char *s, int vt)
{
    static const struct {
        int vt;
        long long min;
        unsigned long long max;
    } ranges[] = {
        {2, INT16_MIN, INT16_MAX},  {3, INT32_MIN, INT32_MAX},
        {16, INT8_MIN, INT8_MAX},   {17, 0, UINT8_MAX},
        {18, 0, UINT16_MAX},        {19, 0, UINT32_MAX},
        {20, INT64_MIN, INT64_MAX}, {21, 0, UINT64_MAX},
    };
    char *end;

    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        if (ranges[i].vt != vt)
            continue;
        errno = 0;
        if (ranges[i].min == 0) {
            if (strchr(s, '-'))
                return false;
            unsigned long long u = strtoull(s, &end, 10);
            return end != s && !*end && !errno && u <= ranges[i].max;
        }
        long long x = strtoll(s, &end, 10);
        return end != s && !*end && !errno && x >= ranges[i].min &&
               (unsigned long long)x <= ranges[i].max;
    }
    return true;
}

/* True if `s` is acceptable text for VARIANT type `vt`. */
static bool
value_fits(const char *s, int vt)
{
    char *end;

    switch (vt) {
    case 4:
    case 5:
    case 6:
    case 14: {
        errno = 0;
        double d = strtod(s, &end);
        return end != s && !*end && !errno && isfinite(d);
    }
    case 11:
        return !strcasecmp(s, "true") || !strcasecmp(s, "false") ||
               !strcmp(s, "1") || !strcmp(s, "0") || !strcmp(s, "-1");
    default:
        return int_fits(s, vt);
    }
}

static const struct rt_param *
find_in(const struct rt_params *ps, const char *name, int project, bool nocase)
{
    for (size_t i = 0; i < ps->n; i++) {
        const struct rt_param *v = &ps->v[i];
        if (project >= 0 && v->project != project)
            continue;
        if (nocase ? !strcasecmp(v->def->name, name)
                   : !strcmp(v->def->name, name))
            return v;
    }
    return NULL;
}

const struct rt_param *
rt_params_find(const struct rt_params *ps, const char *name)
{
    int project = 0;
    const struct rt_param *v;

    if (!strncasecmp(name, "$Package::", 10))
        name += 10;
    else if (!strncasecmp(name, "$Project::", 10))
        name += 10, project = 1;
    else
        project = -1; /* a bare name: the package's first, then the
                       * project's */
    for (int pass = 0; pass < 2; pass++) {
        if (project == -1) {
            if ((v = find_in(ps, name, 0, pass)) ||
                (v = find_in(ps, name, 1, pass)))
                return v;
        } else if ((v = find_in(ps, name, project, pass))) {
            return v;
        }
    }
    return NULL;
}

int
rt_params_set(struct rt_params *ps, const char *name, const char *value,
              struct werr *err)
{
    struct rt_param *v = (struct rt_param *)rt_params_find(ps, name);

    if (!v && ps->conns && rt_conns_is_param(name))
        return rt_conns_set_param(ps->conns, name, value, err);
    if (!v && rt_override_is_path(name))
        return rt_override_set(ps, name, value, err);
    if (!v)
        return werr_set(err, WERR_INVALID,
                        "the package has no parameter "
                        "'%s'",
                        name);
    if (!value_fits(value, v->def->data_type)) {
        if (v->def->sensitive)
            return werr_set(err, WERR_INVALID,
                            "parameter '%s' is %s: the "
                            "value given is not one",
                            v->def->name, type_name(v->def->data_type));
        return werr_set(err, WERR_INVALID,
                        "parameter '%s' is %s: '%s' is "
                        "not one",
                        v->def->name, type_name(v->def->data_type), value);
    }
    free(v->value);
    v->value = xstrdup(value);
    v->set = true;
    return 0;
}

int
rt_params_set_arg(struct rt_params *ps, const char *arg, struct werr *err)
{
    const char *eq = strchr(arg, '=');
    char *name;
    int rc;

    if (!eq || eq == arg)
        return werr_set(err, WERR_INVALID,
                        "--param wants NAME=VALUE, not "
                        "'%s'",
                        arg);
    name = xstrndup(arg, (size_t)(eq - arg));
    rc = rt_params_set(ps, name, eq + 1, err);
    free(name);
    return rc;
}

/* The text of a JSON scalar, or NULL for null, arrays and objects. */
static char *
scalar_text(json_t *v)
{
    if (json_is_string(v))
        return xstrdup(json_string_value(v));
    if (json_is_integer(v))
        return xasprintf("%lld", (long long)json_integer_value(v));
    if (json_is_real(v))
        return xasprintf("%.17g", json_real_value(v));
    if (json_is_boolean(v))
        return xstrdup(json_is_true(v) ? "True" : "False");
    return NULL;
}

int
rt_params_set_file(struct rt_params *ps, const char *path, struct werr *err)
{
    struct wbuf b;
    json_t *obj = NULL, *v;
    const char *key;
    int rc = -1;

    wbuf_init(&b, PARAMS_FILE_MAX);
    if (wfile_read(path, &b, err) < 0)
        goto out;
    if (!(obj = wjson_parse_object(b.buf, b.len, err))) {
        werr_prefix(err, "'%s'", path);
        goto out;
    }
    json_object_foreach(obj, key, v)
    {
        char *text = scalar_text(v);
        if (!text) {
            werr_set(err, WERR_INVALID,
                     "'%s': parameter '%s' must be a "
                     "string",
                     path, key);
            goto out;
        }
        int set = rt_params_set(ps, key, text, err);
        free(text);
        if (set < 0) {
            werr_prefix(err, "'%s'", path);
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(obj);
    wbuf_release(&b);
    return rc;
}

int
rt_params_check(const struct rt_params *ps, struct wbuf *problems)
{
    int n = 0;

    /* Required means the execution must give the value: the design
     * default does not count (SSIS catalog rule). */
    for (size_t i = 0; i < ps->n; i++) {
        const struct rt_param *v = &ps->v[i];
        if (!v->def->required || v->set)
            continue;
        n++;
        wbuf_addf(problems, NULL,
                  "\\Package: %s parameter '%s' is "
                  "required: the execution must set it",
                  v->project ? "project" : "package", v->def->name);
        wbuf_addch(problems, '\n', NULL);
    }
    return n;
}
