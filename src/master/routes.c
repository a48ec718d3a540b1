/*
 * The route table of docs/api.md and the path matcher.
 *
 * Patterns are literal segments and {placeholders}, each matching one
 * non-empty segment.  The table is small and matched in order, so a linear
 * scan is both the simplest and, at ~20 routes, the fastest choice.  A path
 * that matches a pattern under another method gives 405 with the methods
 * that would work; a path that matches nothing gives 404.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "master/master_int.h"

#include "base/banned.h"

const struct route master_routes[] = {
    {"PUT", "/api/v1/folders/{folder}/projects/{project}", h_deploy,
     ROUTE_BODY_DEPLOY},
    {"GET", "/api/v1/folders/{folder}/projects/{project}", h_project_get,
     ROUTE_BODY_JSON},
    {"GET", "/api/v1/folders", h_folders, ROUTE_BODY_JSON},
    {"GET", "/api/v1/projects", h_projects, ROUTE_BODY_JSON},
    {"GET", "/api/v1/blobs/{hash}", h_blob_get, ROUTE_BODY_JSON},

    {"POST", "/api/v1/executions", h_exec_create, ROUTE_BODY_JSON},
    {"GET", "/api/v1/executions", h_exec_list, ROUTE_BODY_JSON},
    {"GET", "/api/v1/executions/{id}", h_exec_get, ROUTE_BODY_JSON},
    {"POST", "/api/v1/executions/{id}/start", h_exec_start, ROUTE_BODY_JSON},
    {"POST", "/api/v1/executions/{id}/stop", h_exec_stop, ROUTE_BODY_JSON},
    {"GET", "/api/v1/executions/{id}/messages", h_exec_messages,
     ROUTE_BODY_JSON},
    {"GET", "/api/v1/executions/{id}/statistics", h_exec_statistics,
     ROUTE_BODY_JSON},

    {"GET", "/api/v1/workers", h_workers, ROUTE_BODY_JSON},
    {"GET", "/api/v1/workers/{id}", h_worker_get, ROUTE_BODY_JSON},
    {"POST", "/api/v1/workers/{id}/enable", h_worker_enable, ROUTE_BODY_JSON},
    {"POST", "/api/v1/workers/{id}/disable", h_worker_disable,
     ROUTE_BODY_JSON},

    {"POST", "/api/v1/worker/register", h_register, ROUTE_BODY_JSON},
    {"POST", "/api/v1/worker/claim", h_claim, ROUTE_BODY_JSON},
    {"POST", "/api/v1/worker/heartbeat", h_heartbeat, ROUTE_BODY_JSON},
    {"POST", "/api/v1/worker/events", h_events, ROUTE_BODY_JSON},
    {"POST", "/api/v1/worker/complete", h_complete, ROUTE_BODY_JSON},
    {NULL, NULL, NULL, 0},
};

/* Length of the segment starting at `s` (up to '/' or the end). */
static size_t
seglen(const char *s)
{
    return strcspn(s, "/");
}

/* Matches `path` against `pattern`; on success stores the placeholder
 * segments' positions in `at`/`len` and their count in *n. */
static bool
match(const char *pattern, const char *path, const char *at[],
      size_t len[], size_t *n)
{
    const char *p = pattern, *q = path;

    *n = 0;
    while (*p && *q) {
        if (*p != '/' || *q != '/')
            return false;
        p++, q++;
        size_t pl = seglen(p), ql = seglen(q);
        if (ql == 0)
            return false;
        if (p[0] == '{') {
            if (*n == ROUTE_MAX_PARAMS)
                return false;
            at[*n] = q;
            len[(*n)++] = ql;
        } else if (pl != ql || memcmp(p, q, pl) != 0) {
            return false;
        }
        p += pl, q += ql;
    }
    return !*p && !*q;
}

/* Appends METHOD to the comma-separated list in `allow` unless present. */
static void
allow_add(char *allow, size_t allowlen, const char *method)
{
    size_t used = strlen(allow);

    if (strstr(allow, method))
        return;
    snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "",
             method);
}

const struct route *
route_find(const struct route *table, const char *method, const char *path,
           char *params[ROUTE_MAX_PARAMS], char *allow, size_t allowlen)
{
    const char *at[ROUTE_MAX_PARAMS];
    size_t len[ROUTE_MAX_PARAMS], n, plen = strlen(path);
    char *trimmed = NULL;
    const struct route *found = NULL;

    /* "/api/v1/folders/" means "/api/v1/folders". */
    if (plen > 1 && path[plen - 1] == '/')
        path = trimmed = xstrndup(path, plen - 1);
    if (allowlen)
        allow[0] = '\0';
    for (const struct route *r = table; r->method && !found; r++) {
        if (!match(r->pattern, path, at, len, &n))
            continue;
        if (strcmp(r->method, method) != 0) {
            allow_add(allow, allowlen, r->method);
            continue;
        }
        for (size_t i = 0; i < ROUTE_MAX_PARAMS; i++)
            params[i] = i < n ? xstrndup(at[i], len[i]) : NULL;
        found = r;
    }
    if (found && allowlen)
        allow[0] = '\0';
    free(trimmed);
    return found;
}

void
route_params_free(char *params[ROUTE_MAX_PARAMS])
{
    for (size_t i = 0; i < ROUTE_MAX_PARAMS; i++) {
        free(params[i]);
        params[i] = NULL;
    }
}
