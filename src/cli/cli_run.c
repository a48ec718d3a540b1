/*
 * weir run FOLDER/PROJECT/PACKAGE.dtsx [options]
 *
 * Creates (and by default starts) executions with one POST, prints their
 * ids, and with --wait follows them to the end.  Everything the master
 * would reject for its form (names, parameters, worker ids, levels) is
 * checked here first, so the error names the option the user typed.
 */
#include "cli/cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"
#include "base/wid.h"
#include "base/wtime.h"
#include "base/xalloc.h"

struct run_opts {
    struct cli_common common;
    char **param;
    char **worker;
    char *tag;
    int64_t retries;
    char *logging_level;
    int64_t count;
    bool wait;
    bool start;
};

#define RUN_OPT(name, type, field, def, min, max, help) \
    {name, type, offsetof(struct run_opts, field), def, min, max, help, 0}

static const struct wopt run_table[] = {
    CLI_COMMON_OPTS(struct run_opts),
    RUN_OPT("param", WOPT_LIST, param, NULL, 0, 0,
            "set a parameter, NAME=VALUE (Name, $Project::Name or "
            "$Package::Name); repeatable"),
    RUN_OPT("worker", WOPT_LIST, worker, NULL, 0, 0,
            "only this worker (id) may run it; repeatable"),
    RUN_OPT("tag", WOPT_STR, tag, NULL, 0, 0,
            "only workers with this tag may run it"),
    RUN_OPT("retries", WOPT_INT, retries, "0", 0, 100,
            "attempts after the first when a worker is lost"),
    RUN_OPT("logging-level", WOPT_STR, logging_level, "basic", 0, 0,
            "none, basic, performance or verbose (or 0-3)"),
    RUN_OPT("count", WOPT_INT, count, "1", 1, 10000,
            "create this many identical executions"),
    RUN_OPT("wait", WOPT_BOOL, wait, "false", 0, 0,
            "show progress until all end, then a summary; exit 1 if any "
            "did not succeed"),
    RUN_OPT("start", WOPT_BOOL, start, "true", 0, 0,
            "start the executions (--no-start leaves them created)"),
    WOPT_END,
};

static const char run_usage[] =
    "usage: weir run FOLDER/PROJECT/PACKAGE.dtsx [options]\n\n"
    "Creates executions of a deployed package and prints their ids.";

static int
add_params(json_t *req, char **list, struct werr *err)
{
    json_t *params = json_object();

    json_object_set_new(req, "parameters", params);
    for (char **p = list; p && *p; p++)
        if (cli_param_add(params, *p, err) < 0)
            return -1;
    return 0;
}

static int
add_workers(json_t *req, char **list, struct werr *err)
{
    json_t *workers = json_array();

    json_object_set_new(req, "workers", workers);
    for (char **p = list; p && *p; p++) {
        if (!wid_is_uuid(*p))
            return werr_set(err, WERR_INVALID,
                            "--worker '%s' is not a worker id (a UUID; see "
                            "'weir workers')", *p);
        json_array_append_new(workers, json_string(*p));
    }
    return 0;
}

/* The POST body from the options; NULL with `err` set on bad input. */
static json_t *
build_request(const struct run_opts *o, const char *target, struct werr *err)
{
    struct cli_target t;
    int64_t level;
    json_t *req;

    if (cli_target_parse(&t, target, true, err) < 0 ||
        cli_parse_logging_level(o->logging_level, &level, err) < 0)
        return NULL;
    if (o->wait && !o->start) {
        werr_set(err, WERR_INVALID, "--wait needs the executions started; "
                 "drop --no-start");
        return NULL;
    }
    req = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:b}", "folder", t.folder,
                    "project", t.project, "package", t.package, "retries",
                    (json_int_t)o->retries, "logging_level",
                    (json_int_t)level, "count", (json_int_t)o->count,
                    "start", o->start);
    if (!req) {
        werr_set(err, WERR_INVALID, "'%s' is not valid UTF-8", target);
        return NULL;
    }
    if (o->tag && json_object_set_new(req, "tag", json_string(o->tag)) < 0)
        werr_set(err, WERR_INVALID, "--tag '%s' is not valid UTF-8", o->tag);
    else if (add_params(req, o->param, err) == 0 &&
             add_workers(req, o->worker, err) == 0)
        return req;
    json_decref(req);
    return NULL;
}

/* The ids in the master's answer; *n is set, the caller frees. */
static int64_t *
created_ids(const json_t *resp, size_t *n, struct werr *err)
{
    const json_t *arr = json_object_get(resp, "ids");
    int64_t *ids;

    *n = json_array_size(arr);
    if (!json_is_array(arr) || *n == 0) {
        werr_set(err, WERR_IO, "the master's answer lists no execution ids");
        return NULL;
    }
    ids = xmalloc(*n * sizeof(*ids));
    for (size_t i = 0; i < *n; i++) {
        ids[i] = (int64_t)json_integer_value(json_array_get(arr, i));
        if (ids[i] <= 0) {
            free(ids);
            werr_set(err, WERR_IO, "the master sent an invalid execution id");
            return NULL;
        }
    }
    return ids;
}

static const struct cli_column summary_cols[] = {
    {"ID", CLI_RIGHT, 0},
    {"STATUS", CLI_LEFT, 0},
    {"WORKER", CLI_LEFT, 32},
    {"ATTEMPTS", CLI_RIGHT, 0},
    {"DURATION", CLI_RIGHT, 0},
};

static void
print_summary(const json_t *execs)
{
    struct cli_table t;
    const json_t *e;
    char took[CLI_FMT_MAX];
    int64_t now = wtime_real_ms();
    size_t i;

    cli_table_init(&t, summary_cols, 5);
    json_array_foreach(execs, i, e) {
        cli_table_addf(&t, "%" PRId64, cli_jint(e, "id", 0));
        cli_table_add(&t, cli_status_name(cli_jint(e, "status", 0)));
        cli_table_add(&t, cli_jstr(e, "worker_name", "-"));
        cli_table_addf(&t, "%" PRId64, cli_jint(e, "attempts", 0));
        cli_format_run_time(cli_jint(e, "started_ms", 0),
                            cli_jint(e, "ended_ms", 0), now, took,
                            sizeof(took));
        cli_table_add(&t, took);
    }
    cli_table_print(&t, stdout);
    cli_table_release(&t);
}

/* Waits, prints the outcome; returns 0 if all succeeded, 1 if not, -1 on
 * error. */
static int
wait_and_report(struct whttp *h, const int64_t *ids, size_t n, bool json,
                struct werr *err)
{
    json_t *execs = cli_wait(h, ids, n, !json, err), *e;
    int rc = 0;
    size_t i;

    if (!execs)
        return -1;
    json_array_foreach(execs, i, e)
        if (!cli_status_is_success(cli_jint(e, "status", 0)))
            rc = 1;
    if (json) {
        json_t *out = json_pack("{s:O}", "executions", execs);

        cli_print_json(out);
        json_decref(out);
    } else {
        print_summary(execs);
    }
    json_decref(execs);
    return rc;
}

int
cli_run_main(int argc, char **argv)
{
    struct run_opts o = {0};
    struct werr err = {0};
    struct whttp *h = NULL;
    json_t *req = NULL, *resp = NULL;
    int64_t *ids = NULL;
    char **pos = NULL;
    size_t n = 0;
    int rc;

    rc = cli_parse(run_table, &o, run_usage, argc, argv, 1, 1, &pos, &err);
    if (rc != 0) {
        rc = rc > 0 ? 0 : -1; /* 1: --help was printed */
        goto out;
    }
    rc = -1;
    if (!(req = build_request(&o, pos[0], &err)) ||
        !(h = cli_connect(&o.common, &err)) ||
        !(resp = cli_call(h, "POST", req, &err, "/api/v1/executions")) ||
        !(ids = created_ids(resp, &n, &err)))
        goto out;
    if (!o.common.json)
        for (size_t i = 0; i < n; i++)
            printf("%" PRId64 "\n", ids[i]);
    else if (!o.wait)
        cli_print_json(resp);
    fflush(stdout);
    rc = o.wait ? wait_and_report(h, ids, n, o.common.json, &err) : 0;
out:
    if (rc < 0)
        rc = cli_fail(&err);
    free(ids);
    json_decref(req);
    json_decref(resp);
    whttp_free(h);
    free(pos);
    wopt_release(run_table, &o);
    return rc;
}
