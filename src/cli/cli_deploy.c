/*
 * weir deploy PATH --folder F [--project P]
 *
 * PATH is a single .dtsx (sent as XML with its name in ?package=), an
 * .ispac (sent as it is) or a folder (packed into a zip in memory).  The
 * master validates every package and answers with the new version; all
 * the CLI checks first is what it can tell without the master: names, file
 * types, sizes and symbolic links.
 */
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/banned.h"
#include "base/wfile.h"
#include "base/wid.h"
#include "base/wjson.h"
#include "base/xalloc.h"

struct deploy_opts {
    struct cli_common common;
    char *folder;
    char *project;
};

static const struct wopt deploy_table[] = {
    CLI_COMMON_OPTS(struct deploy_opts),
    {"folder", WOPT_STR, offsetof(struct deploy_opts, folder), NULL, 0, 0,
     "catalog folder to deploy into, created if missing (required)", 'f'},
    {"project", WOPT_STR, offsetof(struct deploy_opts, project), NULL, 0, 0,
     "project name (default: PATH's base name without its extension)",
     'p'},
    WOPT_END,
};

static const char deploy_usage[] =
    "usage: weir deploy PATH --folder FOLDER [--project PROJECT]\n\n"
    "Deploys a new version of a project.  PATH is a .dtsx package, an .ispac\n"
    "file or a folder of project files (packed as a zip; hidden files are\n"
    "skipped).";

/* What is being sent. */
struct upload {
    struct wbuf body;
    const char *ctype;
    char package[CLI_NAME_MAX + 1]; /* for a single .dtsx, else "" */
    char name[CLI_NAME_MAX + 1];    /* the default project name */
    size_t nfiles;                  /* for a folder */
};

/* The last component of `path` with trailing slashes ignored, into out. */
static void
base_name(const char *path, char *out, size_t len)
{
    size_t end = strlen(path), start;

    while (end > 1 && path[end - 1] == '/')
        end--;
    start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    snprintf(out, len, "%.*s", (int)(end - start), path + start);
}

static bool
has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);

    return n > e && strcasecmp(name + n - e, ext) == 0;
}

/* The project name a folder gives: its real base name, so "." works. */
static int
folder_name(const char *dir, char *out, size_t len, struct werr *err)
{
    char *real = realpath(dir, NULL);

    if (!real)
        return werr_set(err, WERR_IO, "cannot resolve '%s': %s", dir,
                        strerror(errno));
    base_name(real, out, len);
    free(real);
    return 0;
}

static int
load_file(struct upload *u, const char *path, struct werr *err)
{
    char base[NAME_MAX + 1];
    char *dot;

    base_name(path, base, sizeof(base));
    if (has_ext(base, ".dtsx")) {
        if (!wid_is_name(base))
            return werr_set(err, WERR_INVALID,
                            "'%s' is not a valid package name", base);
        snprintf(u->package, sizeof(u->package), "%s", base);
        u->ctype = "application/xml";
    } else if (has_ext(base, ".ispac") || has_ext(base, ".zip")) {
        u->ctype = "application/zip";
    } else {
        return werr_set(err, WERR_INVALID,
                        "'%s' is not a .dtsx package, an .ispac file or a "
                        "folder", path);
    }
    dot = strrchr(base, '.');
    *dot = '\0';
    snprintf(u->name, sizeof(u->name), "%s", base);
    if (wfile_read(path, &u->body, err) < 0)
        return -1;
    if (u->body.len == 0)
        return werr_set(err, WERR_INVALID, "'%s' is empty", path);
    return 0;
}

static int
load(struct upload *u, const char *path, struct werr *err)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return werr_set(err, errno == ENOENT ? WERR_NOTFOUND : WERR_IO,
                        "cannot read '%s': %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return load_file(u, path, err);
    if (folder_name(path, u->name, sizeof(u->name), err) < 0 ||
        cli_pack_folder(path, &u->body, &u->nfiles, err) < 0)
        return -1;
    if (u->nfiles == 0)
        return werr_set(err, WERR_INVALID, "'%s' holds no files to deploy",
                        path);
    u->ctype = "application/zip";
    return 0;
}

/* PUT the project; returns the master's answer (caller owns) or NULL. */
static json_t *
upload(struct whttp *h, const struct upload *u, const char *folder,
       const char *project, struct werr *err)
{
    struct wbuf path, resp;
    json_t *j = NULL;
    int status = 0;

    wbuf_init(&path, WBUF_NOLIMIT);
    wbuf_init(&resp, 16u << 20);
    wbuf_adds(&path, "/api/v1/folders/", NULL);
    cli_url_escape(&path, folder, NULL);
    wbuf_adds(&path, "/projects/", NULL);
    cli_url_escape(&path, project, NULL);
    if (u->package[0]) {
        wbuf_adds(&path, "?package=", NULL);
        cli_url_escape(&path, u->package, NULL);
    }
    if (whttp_request(h, "PUT", path.buf, u->ctype, u->body.buf, u->body.len,
                      CLI_UPLOAD_TIMEOUT_MS, &status, &resp, err) < 0)
        goto out;
    j = cli_decode(status, &resp, "PUT", path.buf, err);
out:
    wbuf_release(&path);
    wbuf_release(&resp);
    return j;
}

static void
print_result(const json_t *j)
{
    int64_t n = (int64_t)json_array_size(json_object_get(j, "packages"));

    printf("deployed %s/%s version %lld: %lld package%s\n",
           cli_jstr(j, "folder", "?"), cli_jstr(j, "project", "?"),
           (long long)cli_jint(j, "version", 0), (long long)n,
           n == 1 ? "" : "s");
}

static int
check_folder(const struct deploy_opts *o, struct werr *err)
{
    if (!o->folder)
        return werr_set(err, WERR_INVALID,
                        "--folder is required; see 'weir deploy --help'");
    if (!wid_is_name(o->folder))
        return werr_set(err, WERR_INVALID, "'%s' is not a valid folder name",
                        o->folder);
    return 0;
}

/* The project's name: --project, else the one PATH gives. */
static int
project_name(const struct deploy_opts *o, const struct upload *u,
             const char **project, struct werr *err)
{
    *project = o->project ? o->project : u->name;
    if (!wid_is_name(*project))
        return werr_set(err, WERR_INVALID,
                        "'%s' is not a valid project name%s", *project,
                        o->project ? "" : "; name one with --project");
    return 0;
}

int
cli_deploy_main(int argc, char **argv)
{
    struct deploy_opts o = {0};
    struct upload u = {.ctype = NULL};
    struct whttp *h = NULL;
    struct werr err = {0};
    const char *project;
    char **pos = NULL;
    json_t *j = NULL;
    int rc;

    wbuf_init(&u.body, CLI_PACK_MAX);
    rc = cli_parse(deploy_table, &o, deploy_usage, argc, argv, 1, 1, &pos,
                   &err);
    if (rc != 0) {
        rc = rc > 0 ? 0 : -1; /* 1: --help was printed */
        goto out;
    }
    rc = -1;
    if (check_folder(&o, &err) < 0 || load(&u, pos[0], &err) < 0 ||
        project_name(&o, &u, &project, &err) < 0 ||
        !(h = cli_connect(&o.common, &err)) ||
        !(j = upload(h, &u, o.folder, project, &err)))
        goto out;
    if (o.common.json)
        cli_print_json(j);
    else
        print_result(j);
    rc = 0;
out:
    if (rc < 0)
        rc = cli_fail(&err);
    json_decref(j);
    whttp_free(h);
    wbuf_release(&u.body);
    free(pos);
    wopt_release(deploy_table, &o);
    return rc;
}
