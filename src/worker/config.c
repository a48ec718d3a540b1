/*
 * The worker's options: one table gives the parser, `weir worker --help`
 * and `--help-markdown` (pasted into docs/worker.md).  Durations are in
 * milliseconds in struct wk_config.
 */
#include "worker/worker_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/wopt.h"
#include "base/xalloc.h"

#define OFF(m) offsetof(struct wk_config, m)
#define DAY_MS INT64_C(86400000)

const struct wopt wk_options[] = {
    {"master", WOPT_LIST, OFF(master), "http://127.0.0.1:8391", 0, 0,
     "URL of the master; repeat it or separate URLs with commas to give "
     "several, tried in turn when one cannot be reached", 0},
    {"state-dir", WOPT_STR, OFF(state_dir), "./weir-worker", 0, 0,
     "folder for the worker id, the file cache and the task folders", 0},
    {"name", WOPT_STR, OFF(name), NULL, 0, 0,
     "display name of this worker (default: the host name)", 0},
    {"tag", WOPT_LIST, OFF(tag), NULL, 0, 0,
     "a tag executions can ask for (repeatable)", 0},
    {"max-tasks", WOPT_INT, OFF(max_tasks), "4", 1, 256,
     "packages this worker runs at once", 0},
    {"claim-wait", WOPT_DURATION, OFF(claim_wait_ms), "30s", 1000, 60000,
     "how long one claim request waits for work at the master", 0},
    {"grace", WOPT_DURATION, OFF(grace_ms), "10s", 0, DAY_MS,
     "time a canceled package gets between SIGTERM and SIGKILL", 0},
    {"shutdown-grace", WOPT_DURATION, OFF(shutdown_grace_ms), "30s", 0,
     DAY_MS,
     "on SIGTERM, time running packages get to finish before they are "
     "canceled", 0},
    {"flush-timeout", WOPT_DURATION, OFF(flush_timeout_ms), "10s", 0, DAY_MS,
     "on SIGTERM, time left to deliver events and results once every "
     "package has ended; what is not delivered stays in the spool", 0},
    {"batch", WOPT_INT, OFF(batch), "500", 1, 10000,
     "events sent to the master in one request at most", 0},
    {"task-memory", WOPT_INT, OFF(task_memory_mb), "0", 0, INT64_C(1) << 30,
     "address space limit of each package process in MiB (RLIMIT_AS); "
     "0 for none", 0},
    {"task-nofile", WOPT_INT, OFF(task_nofile), "0", 0, 1 << 20,
     "open file limit of each package process (RLIMIT_NOFILE); 0 keeps the "
     "worker's", 0},
    {"keep-task-dirs", WOPT_BOOL, OFF(keep_task_dirs), "false", 0, 0,
     "keep each task's folder (files, params.json, exec.log, events.jsonl) "
     "after it completes", 0},
    {"exec-path", WOPT_STR, OFF(exec_path), NULL, 0, 0,
     "program run as `PROGRAM exec ...` for each task (default: this weir "
     "binary)", 0},
    {"cacert", WOPT_STR, OFF(cacert), NULL, 0, 0,
     "CA certificate file to verify an https master with", 0},
    {"cert", WOPT_STR, OFF(cert), NULL, 0, 0,
     "this worker's client certificate (PEM) for an https master", 0},
    {"key", WOPT_STR, OFF(key), NULL, 0, 0,
     "the private key (PEM) of --cert", 0},
    {"log-level", WOPT_LEVEL, OFF(log_level), "info", 0, 0,
     "error, warn, info or debug", 0},
    WOPT_END,
};

static const char usage[] =
    "usage: weir worker [options]\n"
    "\n"
    "Registers with the master, claims executions and runs each as a child\n"
    "`weir exec` process, relaying its events; stops on SIGTERM or SIGINT.";

int
wk_config_parse(struct wk_config *c, int argc, char **argv, struct werr *err)
{
    char **pos = NULL;
    int rc;

    memset(c, 0, sizeof(*c));
    rc = wopt_parse(wk_options, c, "WEIR_WORKER", usage, argc, argv, &pos,
                    err);
    if (rc == 0 && pos && pos[0])
        rc = werr_set(err, WERR_INVALID,
                      "unexpected argument '%s' (weir worker takes options "
                      "only)", pos[0]);
    free(pos);
    return rc;
}

void
wk_config_release(struct wk_config *c)
{
    wopt_release(wk_options, c);
}

void
wk_strv_free(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

/* Checks and appends one URL (a slice of an option value). */
static int
add_url(char ***v, size_t *n, const char *s, size_t len, struct werr *err)
{
    while (len && (s[len - 1] == '/' || s[len - 1] == ' '))
        len--;
    while (len && *s == ' ') {
        s++;
        len--;
    }
    if (!len)
        return 0;
    if (!(len > 7 && !strncmp(s, "http://", 7)) &&
        !(len > 8 && !strncmp(s, "https://", 8)))
        return werr_set(err, WERR_INVALID,
                        "--master: '%.*s' is not an http:// or https:// URL",
                        (int)len, s);
    *v = xrealloc(*v, (*n + 2) * sizeof(char *));
    (*v)[(*n)++] = xstrndup(s, len);
    (*v)[*n] = NULL;
    return 0;
}

char **
wk_config_masters(char *const *given, struct werr *err)
{
    char **v = NULL;
    size_t n = 0;

    for (char *const *g = given; g && *g; g++) {
        const char *s = *g, *comma;

        for (; (comma = strchr(s, ',')); s = comma + 1)
            if (add_url(&v, &n, s, (size_t)(comma - s), err) < 0)
                goto fail;
        if (add_url(&v, &n, s, strlen(s), err) < 0)
            goto fail;
    }
    if (!n) {
        werr_set(err, WERR_INVALID, "--master: no URL given");
        goto fail;
    }
    return v;
fail:
    wk_strv_free(v);
    return NULL;
}
