/*
 * The option parser.  Values are applied in precedence order, each source
 * overwriting the previous one; lists are the exception: a list given by a
 * higher source replaces the lower one's list as a whole, then appends.
 */
#include "base/wopt.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/wbuf.h"
#include "base/wfile.h"
#include "base/wlog.h"
#include "base/wtime.h"
#include "base/xalloc.h"

#define FIELD(conf, o, T) ((T *)((char *)(conf) + (o)->offset))

static const char *type_names[] = {"string", "integer", "boolean", "duration",
                                   "list", "level"};

static const struct wopt *
find(const struct wopt *table, const char *name, size_t len)
{
    for (const struct wopt *o = table; o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

static void
list_free(char **l)
{
    for (char **p = l; p && *p; p++)
        free(*p);
    free(l);
}

static void
list_append(char ***lp, const char *v)
{
    size_t n = 0;

    while (*lp && (*lp)[n])
        n++;
    *lp = xrealloc(*lp, (n + 2) * sizeof(char *));
    (*lp)[n] = xstrdup(v);
    (*lp)[n + 1] = NULL;
}

static int
parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
        !strcasecmp(v, "on"))
        *out = true;
    else if (!strcmp(v, "0") || !strcasecmp(v, "false") ||
             !strcasecmp(v, "no") || !strcasecmp(v, "off"))
        *out = false;
    else
        return -1;
    return 0;
}

/* Applies one value; `fresh` marks the first use of a list in a source. */
static int
apply(const struct wopt *o, void *conf, const char *v, bool fresh,
      const char *where, struct werr *err)
{
    char *end;
    int64_t n;

    switch (o->type) {
    case WOPT_STR:
        free(*FIELD(conf, o, char *));
        *FIELD(conf, o, char *) = v && *v ? xstrdup(v) : NULL;
        return 0;
    case WOPT_LIST:
        if (fresh) {
            list_free(*FIELD(conf, o, char **));
            *FIELD(conf, o, char **) = NULL;
        }
        if (v && *v)
            list_append(FIELD(conf, o, char **), v);
        return 0;
    case WOPT_BOOL:
        if (parse_bool(v, FIELD(conf, o, bool)) < 0)
            return werr_set(err, WERR_INVALID,
                            "%s: '%s' wants true or false, not '%s'", where,
                            o->name, v);
        return 0;
    case WOPT_LEVEL:
        if (wlog_parse_level(v, FIELD(conf, o, enum wlog_level)) < 0)
            return werr_set(err, WERR_INVALID,
                            "%s: '%s' wants error, warn, info or debug, "
                            "not '%s'", where, o->name, v);
        return 0;
    case WOPT_INT:
        errno = 0;
        n = strtoll(v, &end, 10);
        if (end == v || *end || errno)
            return werr_set(err, WERR_INVALID,
                            "%s: '%s' wants an integer, not '%s'", where,
                            o->name, v);
        break;
    case WOPT_DURATION:
        if (wtime_parse_duration_ms(v, &n) < 0)
            return werr_set(err, WERR_INVALID,
                            "%s: '%s' wants a duration such as 500ms, 5s or "
                            "2m, not '%s'", where, o->name, v);
        break;
    default:
        W_BUG("option type %d", o->type);
    }
    if (n < o->min || n > o->max)
        return werr_set(err, WERR_INVALID,
                        "%s: '%s' must be between %lld and %lld, not '%s'",
                        where, o->name, (long long)o->min, (long long)o->max,
                        v);
    *FIELD(conf, o, int64_t) = n;
    return 0;
}

static char *
trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static int
read_config(const struct wopt *table, void *conf, const char *path,
            struct werr *err)
{
    struct wbuf b;
    char *line, *next, where[300];
    const struct wopt *seen_list[64] = {0};
    int lineno = 0, rc = -1;
    size_t nseen = 0;

    wbuf_init(&b, 1 << 20);
    if (wfile_read(path, &b, err) < 0)
        goto out;
    for (line = b.buf; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (!*s)
            continue;
        snprintf(where, sizeof(where), "%s:%d", path, lineno);
        char *eq = strchr(s, '=');
        if (!eq) {
            werr_set(err, WERR_INVALID, "%s: expected 'name = value'", where);
            goto out;
        }
        *eq = '\0';
        char *name = trim(s), *val = trim(eq + 1);
        const struct wopt *o = find(table, name, strlen(name));
        if (!o) {
            werr_set(err, WERR_INVALID, "%s: unknown setting '%s'", where,
                     name);
            goto out;
        }
        bool fresh = true;
        for (size_t i = 0; i < nseen; i++)
            fresh = fresh && seen_list[i] != o;
        if (o->type == WOPT_LIST && fresh && nseen < 64)
            seen_list[nseen++] = o;
        if (apply(o, conf, val, fresh, where, err) < 0)
            goto out;
    }
    rc = 0;
out:
    wbuf_release(&b);
    return rc;
}

static void
env_name(char *out, size_t len, const char *prefix, const char *name)
{
    size_t i = 0;

    snprintf(out, len, "%s_%s", prefix, name);
    for (i = 0; out[i]; i++)
        out[i] = out[i] == '-' ? '_' : (char)toupper((unsigned char)out[i]);
}

static int
read_env(const struct wopt *table, void *conf, const char *prefix,
         struct werr *err)
{
    char name[128];

    for (const struct wopt *o = table; o->name; o++) {
        env_name(name, sizeof(name), prefix, o->name);
        const char *v = getenv(name);
        if (!v)
            continue;
        if (o->type == WOPT_LIST) {
            /* A list in the environment is comma-separated. */
            char *copy = xstrdup(v), *save = NULL;
            bool fresh = true;
            for (char *t = strtok_r(copy, ",", &save); t;
                 t = strtok_r(NULL, ",", &save), fresh = false)
                apply(o, conf, trim(t), fresh, name, err);
            free(copy);
        } else if (apply(o, conf, v, true, name, err) < 0) {
            return -1;
        }
    }
    return 0;
}

static void
set_defaults(const struct wopt *table, void *conf)
{
    for (const struct wopt *o = table; o->name; o++) {
        if (o->type == WOPT_STR || o->type == WOPT_LIST)
            *FIELD(conf, o, void *) = NULL;
        if (o->def && apply(o, conf, o->def, true, "default", NULL) < 0)
            W_BUG("bad default for option '%s'", o->name);
    }
}

/* Finds --config FILE (or --config=FILE) in argv before anything else. */
static const char *
config_path(int argc, char **argv, const char *prefix)
{
    char name[128];

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            return argv[i + 1];
        if (!strncmp(argv[i], "--config=", 9))
            return argv[i] + 9;
    }
    env_name(name, sizeof(name), prefix, "config");
    return getenv(name);
}

/* Finds the option `a` names ("-n", "--name", "--name=v", "--no-name");
 * *val gets an inline value or the implied one of a boolean, else NULL. */
static const struct wopt *
match_flag(const struct wopt *table, const char *a, const char **val)
{
    const struct wopt *o = NULL;
    bool negated = false;

    *val = NULL;
    if (a[1] != '-') {
        for (const struct wopt *t = table; t->name; t++)
            if (t->shortname && t->shortname == a[1] && !a[2])
                o = t;
    } else {
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        o = find(table, name, len);
        if (!o && !strncmp(name, "no-", 3)) {
            o = find(table, name + 3, len - 3);
            negated = o && o->type == WOPT_BOOL;
            if (!negated)
                o = NULL;
        }
        if (eq)
            *val = eq + 1;
    }
    if (o && o->type == WOPT_BOOL && !*val)
        *val = negated ? "false" : "true";
    return o;
}

static int
read_flags(const struct wopt *table, void *conf, int argc, char **argv,
           char ***positional, struct werr *err)
{
    const struct wopt *seen_list[64] = {0};
    size_t nseen = 0, npos = 0;
    bool opts_done = false;

    *positional = xcalloc((size_t)argc + 1, sizeof(char *));
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        const char *val;

        if (opts_done || a[0] != '-' || !a[1]) {
            (*positional)[npos++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            opts_done = true;
            continue;
        }
        if (!strcmp(a, "--config") && i + 1 < argc) {
            i++;
            continue;
        }
        if (!strncmp(a, "--config=", 9))
            continue;
        const struct wopt *o = match_flag(table, a, &val);
        if (!o)
            return werr_set(err, WERR_INVALID, "unknown option '%s'", a);
        if (!val) {
            if (i + 1 >= argc)
                return werr_set(err, WERR_INVALID, "option '%s' needs a value",
                                a);
            val = argv[++i];
        }
        bool fresh = true;
        for (size_t k = 0; k < nseen; k++)
            fresh = fresh && seen_list[k] != o;
        if (o->type == WOPT_LIST && fresh && nseen < 64)
            seen_list[nseen++] = o;
        if (apply(o, conf, val, fresh, "command line", err) < 0)
            return -1;
    }
    return 0;
}

int
wopt_parse(const struct wopt *table, void *conf, const char *env_prefix,
           const char *usage, int argc, char **argv, char ***positional,
           struct werr *err)
{
    const char *cfg;

    *positional = NULL;
    set_defaults(table, conf);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            wopt_print_help(stdout, table, env_prefix, usage);
            return 1;
        }
        if (!strcmp(argv[i], "--help-markdown")) {
            wopt_print_markdown(stdout, table, env_prefix);
            return 1;
        }
    }
    cfg = config_path(argc, argv, env_prefix);
    if (cfg && read_config(table, conf, cfg, err) < 0)
        return -1;
    if (read_env(table, conf, env_prefix, err) < 0)
        return -1;
    return read_flags(table, conf, argc, argv, positional, err);
}

void
wopt_release(const struct wopt *table, void *conf)
{
    for (const struct wopt *o = table; o->name; o++) {
        if (o->type == WOPT_STR) {
            free(*FIELD(conf, o, char *));
            *FIELD(conf, o, char *) = NULL;
        } else if (o->type == WOPT_LIST) {
            list_free(*FIELD(conf, o, char **));
            *FIELD(conf, o, char **) = NULL;
        }
    }
}

void
wopt_print_help(FILE *f, const struct wopt *table, const char *env_prefix,
                const char *usage)
{
    char flag[64];

    fprintf(f, "%s\n\nOptions:\n", usage);
    for (const struct wopt *o = table; o->name; o++) {
        snprintf(flag, sizeof(flag), "%s%c%s--%s%s",
                 o->shortname ? "-" : "", o->shortname ? o->shortname : ' ',
                 o->shortname ? ", " : " ", o->name,
                 o->type == WOPT_BOOL ? "" : " VALUE");
        fprintf(f, "  %-30s %s", flag, o->help);
        if (o->def)
            fprintf(f, " (default: %s)", o->def);
        fputc('\n', f);
    }
    fprintf(f, "  %-30s %s\n", "   --config FILE",
            "read settings from FILE ('name = value' lines)");
    fprintf(f, "\nEvery option can also be set in the environment as %s_NAME.\n",
            env_prefix);
}

void
wopt_print_markdown(FILE *f, const struct wopt *table, const char *env_prefix)
{
    char env[128];

    fprintf(f, "| option | environment | type | default | meaning |\n"
               "| --- | --- | --- | --- | --- |\n");
    for (const struct wopt *o = table; o->name; o++) {
        env_name(env, sizeof(env), env_prefix, o->name);
        fprintf(f, "| `--%s` | `%s` | %s | %s%s%s | %s |\n", o->name, env,
                type_names[o->type], o->def ? "`" : "",
                o->def ? o->def : "", o->def ? "`" : "", o->help);
    }
}
