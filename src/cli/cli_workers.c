/*
 * weir workers [list], weir workers enable ID, weir workers disable ID.
 */
#include "cli/cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"
#include "base/wid.h"
#include "base/wtime.h"

struct workers_opts {
    struct cli_common common;
};

static const struct wopt workers_table[] = {
    CLI_COMMON_OPTS(struct workers_opts),
    WOPT_END,
};

static const char workers_usage[] =
    "usage: weir workers [list]\n"
    "       weir workers enable ID|NAME\n"
    "       weir workers disable ID|NAME\n\n"
    "Lists the workers, or lets one take new tasks again (enable) or not\n"
    "(disable: it finishes the tasks it holds).";

static const struct cli_column cols[] = {
    {"ID", CLI_LEFT, 0},
    {"NAME", CLI_LEFT, 24},
    {"MACHINE", CLI_LEFT, 24},
    {"TAGS", CLI_LEFT, 30},
    {"ENABLED", CLI_LEFT, 0},
    {"RUNNING/MAX", CLI_RIGHT, 0},
    {"LAST HEARTBEAT", CLI_LEFT, 0},
    {"ONLINE", CLI_LEFT, 0},
};

static const char *
yes_no(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    return json_is_boolean(v) ? (json_is_true(v) ? "yes" : "no") : "?";
}

static void
add_tags(struct cli_table *t, const json_t *tags)
{
    struct wbuf b;
    const json_t *tag;
    size_t i;

    wbuf_init(&b, WBUF_NOLIMIT);
    json_array_foreach(tags, i, tag)
        wbuf_addf(&b, NULL, "%s%s", i ? "," : "",
                  json_string_value(tag) ? json_string_value(tag) : "?");
    cli_table_add(t, b.len ? b.buf : "-");
    wbuf_release(&b);
}

static void
print_workers(const json_t *workers)
{
    struct cli_table t;
    const json_t *w;
    char when[CLI_FMT_MAX];
    int64_t now = wtime_real_ms();
    size_t i;

    if (json_array_size(workers) == 0) {
        printf("no workers\n");
        return;
    }
    cli_table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
    json_array_foreach(workers, i, w) {
        cli_table_add(&t, cli_jstr(w, "id", "?"));
        cli_table_add(&t, cli_jstr(w, "name", "-"));
        cli_table_add(&t, cli_jstr(w, "machine", "-"));
        add_tags(&t, json_object_get(w, "tags"));
        cli_table_add(&t, yes_no(w, "enabled"));
        cli_table_addf(&t, "%" PRId64 "/%" PRId64, cli_jint(w, "running", 0),
                       cli_jint(w, "max_tasks", 0));
        cli_format_time(cli_jint(w, "last_heartbeat_ms", 0), now, false,
                        when, sizeof(when));
        cli_table_add(&t, when);
        cli_table_add(&t, yes_no(w, "online"));
    }
    cli_table_print(&t, stdout);
    cli_table_release(&t);
}

static int
list(struct whttp *h, bool json, struct werr *err)
{
    json_t *j = cli_call(h, "GET", NULL, err, "/api/v1/workers");

    if (!j)
        return -1;
    if (json)
        cli_print_json(j);
    else
        print_workers(json_object_get(j, "workers"));
    json_decref(j);
    return 0;
}

/* The id of the worker named `name` (a UUID is taken as it is), copied
 * into `out`. */
static int
resolve(struct whttp *h, const char *name, char out[WID_UUID_LEN + 1],
        struct werr *err)
{
    json_t *j, *w;
    size_t i, found = 0;

    if (wid_is_uuid(name)) {
        snprintf(out, WID_UUID_LEN + 1, "%s", name);
        return 0;
    }
    if (!(j = cli_call(h, "GET", NULL, err, "/api/v1/workers")))
        return -1;
    json_array_foreach(json_object_get(j, "workers"), i, w) {
        if (strcmp(cli_jstr(w, "name", ""), name) == 0 &&
            wid_is_uuid(cli_jstr(w, "id", ""))) {
            snprintf(out, WID_UUID_LEN + 1, "%s", cli_jstr(w, "id", ""));
            found++;
        }
    }
    json_decref(j);
    if (found == 1)
        return 0;
    if (found)
        return werr_set(err, WERR_INVALID,
                        "%zu workers are named '%s'; give the id instead",
                        found, name);
    return werr_set(err, WERR_NOTFOUND, "no worker with id or name '%s'",
                    name);
}

/* POST .../enable or .../disable for the worker `who` (id or name). */
static int
set_enabled(struct whttp *h, const char *action, const char *who, bool json,
            struct werr *err)
{
    char id[WID_UUID_LEN + 1];
    json_t *j;

    if (resolve(h, who, id, err) < 0)
        return -1;
    j = cli_call(h, "POST", NULL, err, "/api/v1/workers/%s/%s", id, action);
    if (!j)
        return -1;
    if (json)
        cli_print_json(j);
    else
        printf("worker %s (%s): %s\n", cli_jstr(j, "name", "?"),
               cli_jstr(j, "id", id),
               json_is_true(json_object_get(j, "enabled")) ? "enabled"
                                                           : "disabled");
    json_decref(j);
    return 0;
}

static int
dispatch(const struct workers_opts *o, char **pos, struct werr *err)
{
    const char *action = pos[0] ? pos[0] : "list";
    bool toggle = !strcmp(action, "enable") || !strcmp(action, "disable");
    struct whttp *h;
    int rc;

    if (!toggle && strcmp(action, "list") != 0)
        return werr_set(err, WERR_INVALID,
                        "unknown action '%s': use list, enable or disable",
                        action);
    if (toggle ? !pos[1] : pos[0] && pos[1])
        return werr_set(err, WERR_INVALID, "%s; see 'weir workers --help'",
                        toggle ? "missing worker id" : "too many arguments");
    if (!(h = cli_connect(&o->common, err)))
        return -1;
    if (toggle)
        rc = set_enabled(h, action, pos[1], o->common.json, err);
    else
        rc = list(h, o->common.json, err);
    whttp_free(h);
    return rc;
}

int
cli_workers_main(int argc, char **argv)
{
    struct workers_opts o = {0};
    struct werr err = {0};
    char **pos = NULL;
    int rc;

    rc = cli_parse(workers_table, &o, workers_usage, argc, argv, 0, 2, &pos,
                   &err);
    if (rc == 0)
        rc = dispatch(&o, pos, &err);
    else if (rc > 0)
        rc = 0;
    if (rc < 0)
        rc = cli_fail(&err);
    free(pos);
    wopt_release(workers_table, &o);
    return rc;
}
