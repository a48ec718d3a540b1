/*
 * weir executions, weir execution ID, weir stop ID: listing, showing and
 * stopping executions.
 */
#include "cli/cli.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"
#include "base/wtime.h"

struct list_opts {
    struct cli_common common;
    char *status;
    int64_t limit;
};

static const struct wopt list_table[] = {
    CLI_COMMON_OPTS(struct list_opts),
    {"status", WOPT_STR, offsetof(struct list_opts, status), NULL, 0, 0,
     "only executions with this status (a name such as failed, or 1-9)", 0},
    {"limit", WOPT_INT, offsetof(struct list_opts, limit), "20", 1, 10000,
     "show at most this many, newest first", 'n'},
    WOPT_END,
};

static const char list_usage[] =
    "usage: weir executions [--status STATUS] [--limit N]\n\n"
    "Lists the newest executions.";

/* Options of the verbs that take only the common ones and a --wait. */
struct one_opts {
    struct cli_common common;
    bool wait;
};

static const struct wopt show_table[] = {
    CLI_COMMON_OPTS(struct one_opts),
    WOPT_END,
};

static const struct wopt stop_table[] = {
    CLI_COMMON_OPTS(struct one_opts),
    {"wait", WOPT_BOOL, offsetof(struct one_opts, wait), "false", 0, 0,
     "wait until the execution has ended", 0},
    WOPT_END,
};

static const char show_usage[] =
    "usage: weir execution ID\n\nShows one execution.";
static const char stop_usage[] =
    "usage: weir stop ID [--wait]\n\n"
    "Stops an execution: a pending one is canceled at once, a running one\n"
    "is stopped by its worker (SIGTERM, then SIGKILL after a grace period).";

static const struct cli_column list_cols[] = {
    {"ID", CLI_RIGHT, 0},
    {"PACKAGE", CLI_LEFT, 60},
    {"STATUS", CLI_LEFT, 0},
    {"WORKER", CLI_LEFT, 24},
    {"STARTED", CLI_LEFT, 0},
    {"DURATION", CLI_RIGHT, 0},
};

static void
print_list(const json_t *execs)
{
    struct cli_table t;
    const json_t *e;
    char when[CLI_FMT_MAX], took[CLI_FMT_MAX];
    int64_t now = wtime_real_ms();
    size_t i;

    if (json_array_size(execs) == 0) {
        printf("no executions\n");
        return;
    }
    cli_table_init(&t, list_cols, 6);
    json_array_foreach(execs, i, e) {
        int64_t started = cli_jint(e, "started_ms", 0);

        cli_table_addf(&t, "%" PRId64, cli_jint(e, "id", 0));
        cli_table_addf(&t, "%s/%s/%s", cli_jstr(e, "folder", "?"),
                       cli_jstr(e, "project", "?"),
                       cli_jstr(e, "package", "?"));
        cli_table_add(&t, cli_status_name(cli_jint(e, "status", 0)));
        cli_table_add(&t, cli_jstr(e, "worker_name", "-"));
        cli_format_time(started, now, false, when, sizeof(when));
        cli_table_add(&t, when);
        cli_format_run_time(started, cli_jint(e, "ended_ms", 0), now, took,
                            sizeof(took));
        cli_table_add(&t, took);
    }
    cli_table_print(&t, stdout);
    cli_table_release(&t);
}

static int
list(const struct list_opts *o, struct werr *err)
{
    struct whttp *h = NULL;
    json_t *j = NULL;
    char filter[32] = "";
    int64_t status;
    int rc = -1;

    if (o->status) {
        if (cli_parse_status(o->status, &status, err) < 0)
            return -1;
        snprintf(filter, sizeof(filter), "&status=%" PRId64, status);
    }
    if (!(h = cli_connect(&o->common, err)) ||
        !(j = cli_call(h, "GET", NULL, err,
                       "/api/v1/executions?limit=%" PRId64 "%s", o->limit,
                       filter)))
        goto out;
    if (o->common.json)
        cli_print_json(j);
    else
        print_list(json_object_get(j, "executions"));
    rc = 0;
out:
    json_decref(j);
    whttp_free(h);
    return rc;
}

int
cli_executions_main(int argc, char **argv)
{
    struct list_opts o = {0};
    struct werr err = {0};
    char **pos = NULL;
    int rc;

    rc = cli_parse(list_table, &o, list_usage, argc, argv, 0, 0, &pos, &err);
    if (rc == 0)
        rc = list(&o, &err);
    else if (rc > 0)
        rc = 0;
    if (rc < 0)
        rc = cli_fail(&err);
    free(pos);
    wopt_release(list_table, &o);
    return rc;
}

/* Prints "  Name:  value" with the value made safe for the terminal. */
static void __attribute__((format(printf, 2, 3)))
field(const char *name, const char *fmt, ...)
{
    struct wbuf value;
    va_list ap;

    wbuf_init(&value, WBUF_NOLIMIT);
    va_start(ap, fmt);
    wbuf_vaddf(&value, NULL, fmt, ap);
    va_end(ap);
    cli_print_line("  %-15s %s", name, value.buf);
    wbuf_release(&value);
}

static void
time_field(const char *name, int64_t ms, int64_t now)
{
    char when[CLI_FMT_MAX];

    cli_format_time(ms, now, true, when, sizeof(when));
    field(name, "%s", when);
}

/* Where it may run: any worker, the listed ones, those with the tag. */
static void
print_placement(const json_t *e)
{
    const json_t *workers = json_object_get(e, "workers"), *w;
    const char *tag = cli_jstr(e, "tag", NULL);
    size_t i;

    json_array_foreach(workers, i, w)
        field(i ? "" : "Runs on:", "worker %s",
              json_string_value(w) ? json_string_value(w) : "?");
    if (tag)
        field(json_array_size(workers) ? "" : "Runs on:",
              "%s tagged '%s'", json_array_size(workers) ? "if" : "workers",
              tag);
    else if (json_array_size(workers) == 0)
        field("Runs on:", "any worker");
}

static void
print_params(const json_t *e)
{
    const json_t *params = json_object_get(e, "parameters"), *v;
    const char *name;
    bool first = true;

    json_object_foreach((json_t *)params, name, v) {
        field(first ? "Parameters:" : "", "%s = %s", name,
              json_is_string(v) ? json_string_value(v) : "?");
        first = false;
    }
}

static void
print_execution(const json_t *e)
{
    static const char *levels[] = {"none", "basic", "performance",
                                   "verbose", "runtime lineage"};
    int64_t now = wtime_real_ms(), level = cli_jint(e, "logging_level", -1);
    char took[CLI_FMT_MAX];

    printf("Execution %" PRId64 "\n", cli_jint(e, "id", 0));
    field("Package:", "%s/%s/%s (version %" PRId64 ")",
          cli_jstr(e, "folder", "?"), cli_jstr(e, "project", "?"),
          cli_jstr(e, "package", "?"), cli_jint(e, "version", 0));
    field("Status:", "%s", cli_status_name(cli_jint(e, "status", 0)));
    if (cli_jstr(e, "worker_id", NULL))
        field("Worker:", "%s (%s)", cli_jstr(e, "worker_name", "?"),
              cli_jstr(e, "worker_id", "?"));
    else
        field("Worker:", "-");
    field("Attempts:", "%" PRId64 " of %" PRId64, cli_jint(e, "attempts", 0),
          cli_jint(e, "max_attempts", 0));
    field("Logging level:", "%s",
          level >= 0 && level <= 4 ? levels[level] : "?");
    print_placement(e);
    time_field("Created:", cli_jint(e, "created_ms", 0), now);
    time_field("Started:", cli_jint(e, "started_ms", 0), now);
    time_field("Ended:", cli_jint(e, "ended_ms", 0), now);
    cli_format_run_time(cli_jint(e, "started_ms", 0),
                        cli_jint(e, "ended_ms", 0), now, took, sizeof(took));
    field("Duration:", "%s", took);
    print_params(e);
}

static int
show(const struct one_opts *o, const char *arg, struct werr *err)
{
    struct whttp *h = NULL;
    json_t *j = NULL;
    int64_t id;
    int rc = -1;

    if (cli_parse_id("execution id", arg, &id, err) < 0 ||
        !(h = cli_connect(&o->common, err)) ||
        !(j = cli_call(h, "GET", NULL, err, "/api/v1/executions/%" PRId64,
                       id)))
        goto out;
    if (o->common.json)
        cli_print_json(j);
    else
        print_execution(j);
    rc = 0;
out:
    json_decref(j);
    whttp_free(h);
    return rc;
}

static void
print_status(const json_t *e)
{
    printf("execution %" PRId64 ": %s\n", cli_jint(e, "id", 0),
           cli_status_name(cli_jint(e, "status", 0)));
    fflush(stdout);
}

static int
stop(const struct one_opts *o, const char *arg, struct werr *err)
{
    struct whttp *h = NULL;
    json_t *j = NULL, *done = NULL;
    int64_t id;
    int rc = -1;

    if (cli_parse_id("execution id", arg, &id, err) < 0 ||
        !(h = cli_connect(&o->common, err)) ||
        !(j = cli_call(h, "POST", NULL, err,
                       "/api/v1/executions/%" PRId64 "/stop", id)))
        goto out;
    if (!o->common.json)
        print_status(j);
    if (o->wait && !cli_status_is_final(cli_jint(j, "status", 0))) {
        if (!(done = cli_wait(h, &id, 1, false, err)))
            goto out;
        if (!o->common.json)
            print_status(json_array_get(done, 0));
    }
    if (o->common.json)
        cli_print_json(done ? json_array_get(done, 0) : j);
    rc = 0;
out:
    json_decref(done);
    json_decref(j);
    whttp_free(h);
    return rc;
}

/* Runs `body` for the single ID argument of `execution` and `stop`. */
static int
one_main(const struct wopt *table, const char *usage,
         int (*body)(const struct one_opts *, const char *, struct werr *),
         int argc, char **argv)
{
    struct one_opts o = {0};
    struct werr err = {0};
    char **pos = NULL;
    int rc;

    rc = cli_parse(table, &o, usage, argc, argv, 1, 1, &pos, &err);
    if (rc == 0)
        rc = body(&o, pos[0], &err);
    else if (rc > 0)
        rc = 0;
    if (rc < 0)
        rc = cli_fail(&err);
    free(pos);
    wopt_release(table, &o);
    return rc;
}

int
cli_execution_main(int argc, char **argv)
{
    return one_main(show_table, show_usage, show, argc, argv);
}

int
cli_stop_main(int argc, char **argv)
{
    return one_main(stop_table, stop_usage, stop, argc, argv);
}
