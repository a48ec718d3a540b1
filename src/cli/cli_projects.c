/*
 * weir projects, weir packages FOLDER/PROJECT: what is deployed.
 */
#include "cli/cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"
#include "base/wtime.h"

/* Shown of a content hash: enough to tell versions apart, as git does. */
#define SHORT_HASH 12

struct plain_opts {
    struct cli_common common;
};

static const struct wopt plain_table[] = {
    CLI_COMMON_OPTS(struct plain_opts),
    WOPT_END,
};

static const char projects_usage[] =
    "usage: weir projects\n\nLists the deployed projects (current versions).";
static const char packages_usage[] =
    "usage: weir packages FOLDER/PROJECT\n\n"
    "Lists the packages of a project's current version.";

static const struct cli_column project_cols[] = {
    {"FOLDER", CLI_LEFT, 40},
    {"PROJECT", CLI_LEFT, 40},
    {"VERSION", CLI_RIGHT, 0},
    {"DEPLOYED", CLI_LEFT, 0},
};

static const struct cli_column package_cols[] = {
    {"PACKAGE", CLI_LEFT, 60},
    {"HASH", CLI_LEFT, 0},
};

static void
print_projects(const json_t *projects)
{
    struct cli_table t;
    const json_t *p;
    char when[CLI_FMT_MAX];
    int64_t now = wtime_real_ms();
    size_t i;

    if (json_array_size(projects) == 0) {
        printf("no projects\n");
        return;
    }
    cli_table_init(&t, project_cols, 4);
    json_array_foreach(projects, i, p) {
        cli_table_add(&t, cli_jstr(p, "folder", "?"));
        cli_table_add(&t, cli_jstr(p, "name", "?"));
        cli_table_addf(&t, "%" PRId64, cli_jint(p, "version", 0));
        cli_format_time(cli_jint(p, "deployed_ms", 0), now, false, when,
                        sizeof(when));
        cli_table_add(&t, when);
    }
    cli_table_print(&t, stdout);
    cli_table_release(&t);
}

static void
print_packages(const json_t *proj)
{
    struct cli_table t;
    const json_t *p;
    char when[CLI_FMT_MAX];
    size_t i;

    cli_format_time(cli_jint(proj, "deployed_ms", 0), wtime_real_ms(), false,
                    when, sizeof(when));
    cli_print_line("%s/%s version %" PRId64 ", deployed %s",
                   cli_jstr(proj, "folder", "?"), cli_jstr(proj, "name", "?"),
                   cli_jint(proj, "version", 0), when);
    cli_table_init(&t, package_cols, 2);
    json_array_foreach(json_object_get(proj, "packages"), i, p) {
        cli_table_add(&t, cli_jstr(p, "name", "?"));
        cli_table_addf(&t, "%.*s", SHORT_HASH, cli_jstr(p, "hash", "-"));
    }
    cli_table_print(&t, stdout);
    cli_table_release(&t);
}

static int
projects(const struct plain_opts *o, char **pos, struct werr *err)
{
    struct whttp *h = cli_connect(&o->common, err);
    json_t *j;

    if (!h)
        return -1;
    j = cli_call(h, "GET", NULL, err, "/api/v1/projects");
    whttp_free(h);
    if (!j)
        return -1;
    if (o->common.json)
        cli_print_json(j);
    else
        print_projects(json_object_get(j, "projects"));
    json_decref(j);
    return 0;
}

static int
packages(const struct plain_opts *o, char **pos, struct werr *err)
{
    struct cli_target t;
    struct wbuf folder, project;
    struct whttp *h = NULL;
    json_t *j = NULL;
    int rc = -1;

    wbuf_init(&folder, WBUF_NOLIMIT);
    wbuf_init(&project, WBUF_NOLIMIT);
    if (cli_target_parse(&t, pos[0], false, err) < 0 ||
        !(h = cli_connect(&o->common, err)))
        goto out;
    cli_url_escape(&folder, t.folder, NULL);
    cli_url_escape(&project, t.project, NULL);
    if (!(j = cli_call(h, "GET", NULL, err,
                       "/api/v1/folders/%s/projects/%s", folder.buf,
                       project.buf)))
        goto out;
    if (o->common.json)
        cli_print_json(j);
    else
        print_packages(j);
    rc = 0;
out:
    json_decref(j);
    whttp_free(h);
    wbuf_release(&folder);
    wbuf_release(&project);
    return rc;
}

static int
plain_main(const char *usage, size_t npos,
           int (*body)(const struct plain_opts *, char **, struct werr *),
           int argc, char **argv)
{
    struct plain_opts o = {0};
    struct werr err = {0};
    char **pos = NULL;
    int rc;

    rc = cli_parse(plain_table, &o, usage, argc, argv, npos, npos, &pos,
                   &err);
    if (rc == 0)
        rc = body(&o, pos, &err);
    else if (rc > 0)
        rc = 0;
    if (rc < 0)
        rc = cli_fail(&err);
    free(pos);
    wopt_release(plain_table, &o);
    return rc;
}

int
cli_projects_main(int argc, char **argv)
{
    return plain_main(projects_usage, 0, projects, argc, argv);
}

int
cli_packages_main(int argc, char **argv)
{
    return plain_main(packages_usage, 1, packages, argc, argv);
}
