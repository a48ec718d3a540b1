/*
 * Values given on the command line: run targets, parameters, logging
 * levels, statuses and ids.  Each parser names the offending argument in
 * its error, since that is all a user has to go on.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/banned.h"
#include "base/wid.h"

static const char *status_names[] = {
    [1] = "created",   [2] = "running",
    [3] = "canceled",  [4] = "failed",
    [5] = "pending",   [6] = "ended unexpectedly",
    [7] = "succeeded", [8] = "stopping",
    [9] = "completed",
};
#define NSTATUS (sizeof(status_names) / sizeof(status_names[0]))

static const char *level_names[] = {"none", "basic", "performance",
                                    "verbose"};
#define NLEVEL (sizeof(level_names) / sizeof(level_names[0]))

/* Copies the slice [p, p+n) into `out` if it is a valid name. */
static int
take_name(char *out, const char *p, size_t n, const char *what,
          const char *arg, struct werr *err)
{
    if (n == 0)
        return werr_set(err, WERR_INVALID, "'%s': the %s name is empty", arg,
                        what);
    if (n > CLI_NAME_MAX)
        return werr_set(err, WERR_INVALID,
                        "'%s': the %s name is longer than %d bytes", arg,
                        what, CLI_NAME_MAX);
    memcpy(out, p, n);
    out[n] = '\0';
    if (!wid_is_name(out))
        return werr_set(err, WERR_INVALID,
                        "'%s': '%s' is not a valid %s name", arg, out, what);
    return 0;
}

static bool
has_dtsx_suffix(const char *s)
{
    size_t n = strlen(s);

    return n > 5 && strcasecmp(s + n - 5, ".dtsx") == 0;
}

int
cli_target_parse(struct cli_target *t, const char *s, bool want_package,
                 struct werr *err)
{
    const char *form = want_package ? "FOLDER/PROJECT/PACKAGE.dtsx"
                                    : "FOLDER/PROJECT";
    const char *a = strchr(s, '/'), *b = a ? strchr(a + 1, '/') : NULL;
    size_t plen;

    memset(t, 0, sizeof(*t));
    if (!a || (want_package ? !b || strchr(b + 1, '/') : b != NULL))
        return werr_set(err, WERR_INVALID, "'%s' is not of the form %s", s,
                        form);
    if (take_name(t->folder, s, (size_t)(a - s), "folder", s, err) < 0 ||
        take_name(t->project, a + 1,
                  b ? (size_t)(b - a - 1) : strlen(a + 1), "project", s,
                  err) < 0)
        return -1;
    if (!want_package)
        return 0;
    if (take_name(t->package, b + 1, strlen(b + 1), "package", s, err) < 0)
        return -1;
    if (has_dtsx_suffix(t->package))
        return 0;
    /* "demo/sample/Extract" means Extract.dtsx, as in SSMS's tree. */
    plen = strlen(t->package);
    if (plen + 5 > CLI_NAME_MAX)
        return werr_set(err, WERR_INVALID,
                        "'%s': the package name is longer than %d bytes", s,
                        CLI_NAME_MAX);
    memcpy(t->package + plen, ".dtsx", 6);
    return 0;
}

/* `$Project::Name`, `$Package::Name` or a plain `Name`. */
static bool
valid_param_name(const char *name, size_t n)
{
    static const char *scopes[] = {"$Project::", "$Package::"};

    if (name[0] == '$') {
        size_t i;

        for (i = 0; i < 2; i++)
            if (n > strlen(scopes[i]) &&
                strncmp(name, scopes[i], strlen(scopes[i])) == 0)
                break;
        if (i == 2)
            return false;
        name += strlen(scopes[i]);
        n -= strlen(scopes[i]);
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f ||
            name[i] == ':' || name[i] == '$')
            return false;
    return n > 0;
}

int
cli_param_add(json_t *params, const char *arg, struct werr *err)
{
    const char *eq = strchr(arg, '=');
    char name[256];
    size_t n;

    if (!eq)
        return werr_set(err, WERR_INVALID,
                        "parameter '%s' is not of the form NAME=VALUE", arg);
    n = (size_t)(eq - arg);
    if (n == 0 || n >= sizeof(name) || !valid_param_name(arg, n))
        return werr_set(err, WERR_INVALID,
                        "parameter '%.*s': the name must be Name, "
                        "$Project::Name or $Package::Name",
                        (int)(n < 200 ? n : 200), arg);
    memcpy(name, arg, n);
    name[n] = '\0';
    if (json_object_get(params, name))
        return werr_set(err, WERR_INVALID, "parameter '%s' is given twice",
                        name);
    if (json_object_set_new(params, name, json_string(eq + 1)) < 0)
        return werr_set(err, WERR_INVALID,
                        "parameter '%s' is not valid UTF-8", name);
    return 0;
}

/* Parses a whole decimal number in [min, max]; -1 if it is not one. */
static int
parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    long long v;

    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int
cli_parse_logging_level(const char *s, int64_t *out, struct werr *err)
{
    if (parse_int(s, 0, (int64_t)NLEVEL - 1, out) == 0)
        return 0;
    for (size_t i = 0; i < NLEVEL; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (int64_t)i;
            return 0;
        }
    }
    return werr_set(err, WERR_INVALID,
                    "logging level '%s': use none, basic, performance, "
                    "verbose or 0-3", s);
}

/* Compares a status name with user input, where '-' or '_' may stand for
 * the space in "ended unexpectedly". */
static bool
status_matches(const char *name, const char *s)
{
    for (; *name && *s; name++, s++) {
        char c = *s == '-' || *s == '_' ? ' ' : *s;

        if ((c | 0x20) != (*name | 0x20))
            return false;
    }
    return !*name && !*s;
}

int
cli_parse_status(const char *s, int64_t *out, struct werr *err)
{
    if (parse_int(s, 1, (int64_t)NSTATUS - 1, out) == 0)
        return 0;
    for (size_t i = 1; i < NSTATUS; i++) {
        if (status_matches(status_names[i], s)) {
            *out = (int64_t)i;
            return 0;
        }
    }
    return werr_set(err, WERR_INVALID,
                    "status '%s': use created, running, canceled, failed, "
                    "pending, ended-unexpectedly, succeeded, stopping, "
                    "completed or 1-9", s);
}

int
cli_parse_id(const char *what, const char *s, int64_t *out, struct werr *err)
{
    if (parse_int(s, 1, INT64_MAX, out) < 0)
        return werr_set(err, WERR_INVALID,
                        "'%s' is not a valid %s (a positive integer)", s,
                        what);
    return 0;
}

const char *
cli_status_name(int64_t status)
{
    if (status < 1 || (size_t)status >= NSTATUS)
        return "unknown";
    return status_names[status];
}

bool
cli_status_is_final(int64_t status)
{
    return status == 3 || status == 4 || status == 6 || status == 7 ||
           status == 9;
}

bool
cli_status_is_success(int64_t status)
{
    return status == 7 || status == 9;
}

int
cli_url_escape(struct wbuf *b, const char *s, struct werr *err)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        int rc;

        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            (*p >= '0' && *p <= '9') || strchr("-._~", *p))
            rc = wbuf_addch(b, (char)*p, err);
        else
            rc = wbuf_add(b, enc, 3, err);
        if (rc < 0)
            return -1;
    }
    return 0;
}
