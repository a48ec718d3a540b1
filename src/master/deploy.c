/*
 * A deployment's files: read from a zip held in memory, paths checked and
 * cleaned, packages loaded and validated before anything is stored.
 *
 * Everything in a deployment comes from the network, so every size is
 * bounded (entries, bytes uncompressed: a small zip can inflate to a huge
 * project) and every path is checked before it can reach a worker's disk:
 * no absolute paths, no "..", no control characters, no links.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "master/master_int.h"
#include "package/package.h"

#include "base/banned.h"

#define PATH_MAX_LEN PKG_PATH_MAX

void
deploy_init(struct deploy *d)
{
    *d = (struct deploy){0};
}

void
deploy_release(struct deploy *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->files[i].path);
        free(d->files[i].data);
    }
    free(d->files);
    deploy_init(d);
}

/* Takes `data` (malloc'd, `len` bytes). */
static void
take(struct deploy *d, const char *path, char *data, size_t len)
{
    XGROW(d->files, d->n + 1, d->cap);
    d->files[d->n++] = (struct deploy_file){.path = xstrdup(path),
                                            .data = data, .len = len};
    d->total += len;
}

int
deploy_add(struct deploy *d, const char *path, const void *data, size_t len,
           const struct deploy_limits *lim, struct werr *err)
{
    char *copy;

    if (++d->nentries > lim->max_entries)
        return werr_set(err, WERR_LIMIT, "the project has more than %zu "
                        "files", lim->max_entries);
    if (len > lim->max_total - d->total)
        return werr_set(err, WERR_LIMIT, "'%.200s' brings the project over "
                        "%zu bytes", path, lim->max_total);
    copy = xmalloc(len + 1);
    memcpy(copy, data, len);
    copy[len] = '\0';
    take(d, path, copy, len);
    return 0;
}

int
deploy_clean_path(const char *in, bool decode, char *out, size_t outlen,
                  struct werr *err)
{
    return pkg_path_clean(in, decode, out, outlen, err);
}

static int
by_path(const void *a, const void *b)
{
    return strcmp(((const struct deploy_file *)a)->path,
                  ((const struct deploy_file *)b)->path);
}

static bool
is_package_path(const char *path)
{
    size_t n = strlen(path);

    return !strchr(path, '/') && n > 5 &&
           strcasecmp(path + n - 5, ".dtsx") == 0 && wid_is_name(path);
}

int
deploy_finish(struct deploy *d, bool decode, struct werr *err)
{
    char clean[PATH_MAX_LEN + 1];

    for (size_t i = 0; i < d->n; i++) {
        struct deploy_file *f = &d->files[i];
        if (deploy_clean_path(f->path, decode, clean, sizeof(clean), err) < 0)
            return -1;
        free(f->path);
        f->path = xstrdup(clean);
    }
    qsort(d->files, d->n, sizeof(*d->files), by_path);
    d->npackages = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (i > 0 && strcmp(d->files[i - 1].path, d->files[i].path) == 0)
            return werr_set(err, WERR_INVALID, "'%.200s' appears twice in "
                            "the project", d->files[i].path);
        d->files[i].is_package = is_package_path(d->files[i].path);
        d->npackages += d->files[i].is_package;
    }
    if (d->npackages == 0)
        return werr_set(err, WERR_INVALID, "the project has no package: no "
                        ".dtsx file at its top level");
    return 0;
}

/* Reads the current entry's data into `out` (its max is what is left of
 * the project's `limit`). */
static int
read_data(struct archive *a, const char *name, size_t limit,
          struct wbuf *out, struct werr *err)
{
    char buf[65536];
    la_ssize_t n;

    while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
        if (wbuf_add(out, buf, (size_t)n, NULL) < 0)
            return werr_set(err, WERR_LIMIT, "'%.200s' brings the project "
                            "over %zu bytes uncompressed", name, limit);
    }
    if (n < 0)
        return werr_set(err, WERR_INVALID, "the zip archive is damaged at "
                        "'%.200s': %s", name, archive_error_string(a));
    return 0;
}

static int
read_entry(struct deploy *d, struct archive *a, struct archive_entry *e,
           const struct deploy_limits *lim, bool *opc, struct werr *err)
{
    const char *name = archive_entry_pathname_utf8(e);
    size_t budget = lim->max_total - d->total;
    struct wbuf b;
    size_t len;

    if (!name && !(name = archive_entry_pathname(e)))
        return werr_set(err, WERR_INVALID, "an archive entry has no name");
    if (++d->nentries > lim->max_entries)
        return werr_set(err, WERR_LIMIT, "the archive has more than %zu "
                        "entries", lim->max_entries);
    if (archive_entry_filetype(e) == AE_IFDIR)
        return 0;
    if (archive_entry_filetype(e) != AE_IFREG)
        return werr_set(err, WERR_INVALID, "'%.200s' is not a regular file "
                        "(links and devices are not deployed)", name);
    if (archive_entry_is_encrypted(e))
        return werr_set(err, WERR_INVALID, "'%.200s' is encrypted", name);
    if (archive_entry_size_is_set(e) &&
        (uint64_t)archive_entry_size(e) > budget)
        return werr_set(err, WERR_LIMIT, "'%.200s' brings the project over "
                        "%zu bytes uncompressed", name, lim->max_total);
    if (strcmp(name, "[Content_Types].xml") == 0)
        *opc = true;
    wbuf_init(&b, budget);
    if (read_data(a, name, lim->max_total, &b, err) < 0) {
        wbuf_release(&b);
        return -1;
    }
    char *data = wbuf_detach(&b, &len);
    take(d, name, data, len);
    return 0;
}

int
deploy_read_zip(struct deploy *d, const void *zip, size_t len,
                const struct deploy_limits *lim, struct werr *err)
{
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    bool opc = false;
    int rc = -1, r;

    archive_read_support_format_zip(a);
    if (archive_read_open_memory(a, zip, len) != ARCHIVE_OK) {
        werr_set(err, WERR_INVALID, "not a zip archive: %s",
                 archive_error_string(a));
        goto out;
    }
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK ||
           r == ARCHIVE_WARN) {
        if (read_entry(d, a, e, lim, &opc, err) < 0)
            goto out;
    }
    if (r != ARCHIVE_EOF) {
        werr_set(err, WERR_INVALID, "the zip archive is damaged: %s",
                 archive_error_string(a));
        goto out;
    }
    rc = deploy_finish(d, opc, err);
out:
    archive_read_free(a);
    return rc;
}

/* "'Odd.dtsx': 2 problems: \Package\A: problem; \Package\B: problem". */
static int
problems_error(const char *name, int n, const struct wbuf *problems,
               struct werr *err)
{
    struct wbuf msg;

    wbuf_init(&msg, WBUF_NOLIMIT);
    for (const char *p = problems->buf, *nl; *p; p = nl + (*nl == '\n')) {
        nl = p + strcspn(p, "\n");
        if (nl > p)
            wbuf_addf(&msg, NULL, "%s%.*s", msg.len ? "; " : "",
                      (int)(nl - p), p);
    }
    werr_set(err, WERR_INVALID, "'%s': %d problem%s: %s", name, n,
             n == 1 ? "" : "s", msg.buf);
    wbuf_release(&msg);
    return -1;
}

int
deploy_validate(const struct deploy *d, struct werr *err)
{
    struct wbuf problems;
    struct pkg *p;
    int n;

    for (size_t i = 0; i < d->n; i++) {
        const struct deploy_file *f = &d->files[i];
        if (!f->is_package)
            continue;
        if (!(p = pkg_load_memory(f->path, f->data, f->len, err))) {
            if (!strstr(err->msg, f->path))
                werr_prefix(err, "'%s'", f->path);
            return -1;
        }
        wbuf_init(&problems, WBUF_NOLIMIT);
        n = pkg_validate(p, &problems);
        pkg_free(p);
        if (n > 0) {
            problems_error(f->path, n, &problems, err);
            wbuf_release(&problems);
            return -1;
        }
        wbuf_release(&problems);
    }
    return 0;
}
