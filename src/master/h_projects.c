/*
 * Routes for folders, projects and their stored files, and deployment.
 *
 * A deployment arrives whole in the request body (bounded by --max-deploy):
 * a zip (an .ispac or a folder packed by the CLI) or a single .dtsx.  Every
 * package is loaded and validated before the catalog sees anything, so a
 * bad project never becomes a version.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/wtime.h"
#include "base/xalloc.h"
#include "catalog/catalog.h"
#include "master/master_int.h"

#include "base/banned.h"

/* Uncompressed, a project may be this many times --max-deploy. */
#define DEPLOY_INFLATE_FACTOR 4
#define DEPLOY_MAX_ENTRIES 20000

static int
check_name(const char *s, const char *what, struct werr *err)
{
    if (!wid_is_name(s))
        return werr_set(err, WERR_INVALID, "%s name '%.128s' is not allowed "
                        "(1 to 128 bytes, no '/', no control characters)",
                        what, s);
    return 0;
}

enum body_kind { BODY_ZIP, BODY_XML, BODY_UNKNOWN };

/* The media type without parameters, compared case-insensitively. */
static bool
media_is(const char *ctype, const char *want)
{
    size_t n = strlen(want);

    return strncasecmp(ctype, want, n) == 0 &&
           (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ');
}

/* Decides from Content-Type, or from the first bytes when it says
 * nothing useful (curl sends application/x-www-form-urlencoded). */
static enum body_kind
body_kind(struct mreq *r)
{
    const char *ct = mreq_header(r, "Content-Type");
    const char *p = r->body.buf;

    if (ct && (media_is(ct, "application/zip") ||
               media_is(ct, "application/x-zip-compressed")))
        return BODY_ZIP;
    if (ct && (media_is(ct, "application/xml") || media_is(ct, "text/xml")))
        return BODY_XML;
    if (r->body.len >= 4 && p[0] == 'P' && p[1] == 'K')
        return BODY_ZIP;
    if (!strncmp(p, "\xEF\xBB\xBF", 3))
        p += 3;
    while (isspace((unsigned char)*p))
        p++;
    return *p == '<' ? BODY_XML : BODY_UNKNOWN;
}

static int
read_dtsx(struct mreq *r, struct deploy *d, const struct deploy_limits *lim,
          struct werr *err)
{
    const char *name = mreq_query(r, "package");
    size_t n;

    if (!name || !*name)
        name = "Package.dtsx";
    n = strlen(name);
    if (!wid_is_name(name) || n <= 5 || strcasecmp(name + n - 5, ".dtsx"))
        return werr_set(err, WERR_INVALID, "query argument 'package' must "
                        "be a file name ending in .dtsx, not '%.128s'", name);
    if (deploy_add(d, name, r->body.buf, r->body.len, lim, err) < 0)
        return -1;
    return deploy_finish(d, false, err);
}

static int
read_project(struct mreq *r, struct deploy *d, struct werr *err)
{
    const struct master_conf *c = &r->m->conf;
    struct deploy_limits lim = {
        .max_entries = DEPLOY_MAX_ENTRIES,
        .max_total = (size_t)c->max_deploy * DEPLOY_INFLATE_FACTOR,
    };

    if (r->body.len == 0)
        return werr_set(err, WERR_INVALID, "the request body is empty: send "
                        "the project as a zip (application/zip) or a .dtsx "
                        "(application/xml)");
    switch (body_kind(r)) {
    case BODY_ZIP:
        return deploy_read_zip(d, r->body.buf, r->body.len, &lim, err);
    case BODY_XML:
        return read_dtsx(r, d, &lim, err);
    default:
        return werr_set(err, WERR_INVALID, "unsupported Content-Type '%.64s':"
                        " send application/zip or application/xml",
                        mreq_header(r, "Content-Type"));
    }
}

static int
store(struct mreq *r, const struct deploy *d, int64_t *version,
      struct werr *err)
{
    struct cat_file *files = xcalloc(d->n, sizeof(*files));
    int rc;

    for (size_t i = 0; i < d->n; i++)
        files[i] = (struct cat_file){.path = d->files[i].path,
                                     .data = d->files[i].data,
                                     .len = d->files[i].len,
                                     .is_package = d->files[i].is_package};
    rc = cat_project_deploy(r->m->cat, r->params[0], r->params[1], files,
                            d->n, wtime_real_ms(), version, err);
    free(files);
    return rc;
}

static json_t *
deployed(struct mreq *r, const struct deploy *d, int64_t version)
{
    json_t *pkgs = json_array();

    for (size_t i = 0; i < d->n; i++)
        if (d->files[i].is_package)
            json_array_append_new(pkgs, json_string(d->files[i].path));
    return json_pack("{s:s,s:s,s:I,s:o,s:I}", "folder", r->params[0],
                     "project", r->params[1], "version", (json_int_t)version,
                     "packages", pkgs, "files", (json_int_t)d->n);
}

int
h_deploy(struct mreq *r, struct werr *err)
{
    struct deploy d;
    int64_t version;
    int rc = -1;

    if (check_name(r->params[0], "folder", err) < 0 ||
        check_name(r->params[1], "project", err) < 0)
        return -1;
    deploy_init(&d);
    if (read_project(r, &d, err) < 0 || deploy_validate(&d, err) < 0 ||
        store(r, &d, &version, err) < 0)
        goto out;
    wlog(WLOG_INFO, "deployed %s/%s version %lld: %zu package%s, %zu file%s",
         r->params[0], r->params[1], (long long)version, d.npackages,
         d.npackages == 1 ? "" : "s", d.n, d.n == 1 ? "" : "s");
    mreq_answer(r, MHD_HTTP_CREATED, deployed(r, &d, version));
    rc = 0;
out:
    deploy_release(&d);
    return rc;
}

/* Answers 200 with `j`, or fails with `err` when it is NULL. */
static int
answer_json(struct mreq *r, json_t *j)
{
    if (!j)
        return -1;
    mreq_answer(r, MHD_HTTP_OK, j);
    return 0;
}

int
h_folders(struct mreq *r, struct werr *err)
{
    return answer_json(r, cat_folder_list(r->m->cat, err));
}

int
h_projects(struct mreq *r, struct werr *err)
{
    return answer_json(r, cat_project_list(r->m->cat, err));
}

int
h_project_get(struct mreq *r, struct werr *err)
{
    if (check_name(r->params[0], "folder", err) < 0 ||
        check_name(r->params[1], "project", err) < 0)
        return -1;
    return answer_json(r, cat_project_get(r->m->cat, r->params[0],
                                          r->params[1], err));
}

/* Checks a SHA-256 in hex and lower-cases it, as the catalog stores it. */
static bool
is_sha256_hex(char *s)
{
    size_t n = 0;

    for (; s[n]; n++) {
        if (!isxdigit((unsigned char)s[n]))
            return false;
        s[n] = (char)tolower((unsigned char)s[n]);
    }
    return n == 64;
}

int
h_blob_get(struct mreq *r, struct werr *err)
{
    struct wbuf b;
    char *data;
    size_t len;

    if (!is_sha256_hex(r->params[0]))
        return werr_set(err, WERR_INVALID, "'%.80s' is not a SHA-256 (64 hex "
                        "digits)", r->params[0]);
    wbuf_init(&b, WBUF_NOLIMIT);
    if (cat_blob_get(r->m->cat, r->params[0], &b, err) < 0) {
        wbuf_release(&b);
        return -1;
    }
    data = wbuf_detach(&b, &len);
    mreq_answer_raw(r, MHD_HTTP_OK, data, len);
    return 0;
}
