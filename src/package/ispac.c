/*
 * A project read from an .ispac into memory: the zip's entries, with
 * their names checked and cleaned, held in one arena.
 *
 * An .ispac is an Open Packaging Conventions zip: entry names are URI
 * parts ("My%20Package.dtsx") and "[Content_Types].xml" marks it; a
 * plain zip of a project folder keeps names as they are.  Everything in
 * it may be hostile (it is what a user hands to weir exec and to the
 * master), so entries, sizes and names are bounded and checked before
 * anything else reads them: no absolute paths, no "..", no control
 * characters, no links or devices, no encrypted entries.
 */
#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/wfile.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "package/package_int.h"

struct pkg_archive {
    struct warena *arena;
    struct pkg_archive_file *files;
    size_t n, cap, total, entries;
    bool opc; /* has [Content_Types].xml: names are URI parts */
};

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Copies `in` to `out` with %XX decoded (if `decode`) and '\' as '/'. */
static int
unescape(const char *in, bool decode, char *out, size_t outlen,
         struct werr *err)
{
    size_t o = 0;

    for (const char *p = in; *p; p++) {
        int c = (unsigned char)*p;
        if (decode && c == '%') {
            int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
            if (lo < 0)
                return werr_set(err, WERR_INVALID,
                                "'%.200s': a bad %% escape", in);
            c = hi * 16 + lo;
            p += 2;
        }
        if (c < 0x20 || c == 0x7f)
            return werr_set(err, WERR_INVALID,
                            "'%.200s': control characters are not "
                            "allowed in paths",
                            in);
        if (o + 1 >= outlen)
            return werr_set(err, WERR_INVALID,
                            "'%.200s': the path is longer than %zu bytes", in,
                            outlen - 1);
        out[o++] = c == '\\' ? '/' : (char)c;
    }
    out[o] = '\0';
    return 0;
}

int
pkg_path_clean(const char *in, bool decode, char *out, size_t outlen,
               struct werr *err)
{
    char tmp[PKG_PATH_MAX + 1];
    size_t o = 0;

    if (unescape(in, decode, tmp, sizeof(tmp), err) < 0)
        return -1;
    if (tmp[0] == '/' || (isalpha((unsigned char)tmp[0]) && tmp[1] == ':'))
        return werr_set(err, WERR_INVALID,
                        "'%.200s': absolute paths are not allowed", in);
    for (char *seg = tmp, *end; *seg; seg = end + (*end == '/')) {
        end = seg + strcspn(seg, "/");
        size_t n = (size_t)(end - seg);
        if (n == 0 || (n == 1 && seg[0] == '.'))
            continue;
        if (n == 2 && seg[0] == '.' && seg[1] == '.')
            return werr_set(err, WERR_INVALID,
                            "'%.200s': '..' is not allowed in paths", in);
        if (n > PKG_SEGMENT_MAX)
            return werr_set(err, WERR_INVALID,
                            "'%.200s': a name is longer than %d bytes", in,
                            PKG_SEGMENT_MAX);
        if (o + n + 2 > outlen)
            return werr_set(err, WERR_INVALID, "'%.200s': the path is too long",
                            in);
        if (o)
            out[o++] = '/';
        memcpy(out + o, seg, n);
        o += n;
    }
    if (o == 0)
        return werr_set(err, WERR_INVALID, "'%.200s': an empty path", in);
    out[o] = '\0';
    return 0;
}

/* Reads the current entry's data into `out`, whose max is what is left of
 * the archive's budget. */
static int
read_data(struct archive *a, const char *name, struct wbuf *out,
          struct werr *err)
{
    char buf[65536];
    la_ssize_t n;

    while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
        if (wbuf_add(out, buf, (size_t)n, NULL) < 0)
            return werr_set(err, WERR_LIMIT,
                            "'%.200s' brings the project over %zu bytes "
                            "uncompressed",
                            name, (size_t)PKG_ARCHIVE_MAX_BYTES);
    if (n < 0)
        return werr_set(err, WERR_INVALID,
                        "the zip archive is damaged at '%.200s': %s", name,
                        archive_error_string(a));
    return 0;
}

static int
read_entry(struct pkg_archive *ar, struct archive *a, struct archive_entry *e,
           struct werr *err)
{
    const char *name = archive_entry_pathname_utf8(e);
    size_t budget = PKG_ARCHIVE_MAX_BYTES - ar->total, len;
    struct wbuf b;
    char *data;

    if (!name && !(name = archive_entry_pathname(e)))
        return werr_set(err, WERR_INVALID, "an archive entry has no name");
    if (++ar->entries > PKG_ARCHIVE_MAX_ENTRIES)
        return werr_set(err, WERR_LIMIT, "the archive has more than %d entries",
                        PKG_ARCHIVE_MAX_ENTRIES);
    if (archive_entry_filetype(e) == AE_IFDIR)
        return 0;
    if (archive_entry_filetype(e) != AE_IFREG)
        return werr_set(err, WERR_INVALID,
                        "'%.200s' is not a regular file (links and devices "
                        "are not read)",
                        name);
    if (archive_entry_is_encrypted(e))
        return werr_set(err, WERR_INVALID, "'%.200s' is encrypted", name);
    if (archive_entry_size_is_set(e) &&
        (uint64_t)archive_entry_size(e) > budget)
        return werr_set(err, WERR_LIMIT,
                        "'%.200s' brings the project over %zu bytes "
                        "uncompressed",
                        name, (size_t)PKG_ARCHIVE_MAX_BYTES);
    if (!strcmp(name, "[Content_Types].xml"))
        ar->opc = true;
    wbuf_init(&b, budget);
    if (read_data(a, name, &b, err) < 0) {
        wbuf_release(&b);
        return -1;
    }
    data = wbuf_detach(&b, &len);
    XGROW(ar->files, ar->n + 1, ar->cap);
    ar->files[ar->n++] = (struct pkg_archive_file){
        .path = warena_strdup(ar->arena, name), .data = data, .len = len};
    ar->total += len;
    return 0;
}

static int
by_path(const void *a, const void *b)
{
    return strcmp(((const struct pkg_archive_file *)a)->path,
                  ((const struct pkg_archive_file *)b)->path);
}

/* Cleans every name (decoding URI parts in an .ispac), sorts them and
 * refuses duplicates. */
static int
finish(struct pkg_archive *ar, struct werr *err)
{
    char clean[PKG_PATH_MAX + 1];

    for (size_t i = 0; i < ar->n; i++) {
        struct pkg_archive_file *f = &ar->files[i];
        if (pkg_path_clean(f->path, ar->opc, clean, sizeof(clean), err) < 0)
            return -1;
        f->path = warena_strdup(ar->arena, clean);
    }
    qsort(ar->files, ar->n, sizeof(*ar->files), by_path);
    for (size_t i = 1; i < ar->n; i++)
        if (!strcasecmp(ar->files[i - 1].path, ar->files[i].path))
            return werr_set(err, WERR_INVALID,
                            "'%.200s' appears twice in the archive",
                            ar->files[i].path);
    return 0;
}

struct pkg_archive *
pkg_archive_read(const char *name, const void *zip, size_t len,
                 struct werr *err)
{
    struct pkg_archive *ar = xcalloc(1, sizeof(*ar));
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    int r;

    ar->arena = warena_new();
    archive_read_support_format_zip(a);
    if (archive_read_open_memory(a, zip, len) != ARCHIVE_OK) {
        werr_set(err, WERR_INVALID, "not a zip archive: %s",
                 archive_error_string(a));
        goto fail;
    }
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK ||
           r == ARCHIVE_WARN)
        if (read_entry(ar, a, e, err) < 0)
            goto fail;
    if (r != ARCHIVE_EOF) {
        werr_set(err, WERR_INVALID, "the zip archive is damaged: %s",
                 archive_error_string(a));
        goto fail;
    }
    if (finish(ar, err) < 0)
        goto fail;
    archive_read_free(a);
    return ar;
fail:
    werr_prefix(err, "'%s'", name);
    archive_read_free(a);
    pkg_archive_free(ar);
    return NULL;
}

struct pkg_archive *
pkg_archive_load_file(const char *path, struct werr *err)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    struct pkg_archive *ar = NULL;
    struct wbuf b;

    wbuf_init(&b, PKG_ARCHIVE_MAX_BYTES);
    if (wfile_read(path, &b, err) == 0)
        ar = pkg_archive_read(base, b.buf, b.len, err);
    wbuf_release(&b);
    return ar;
}

void
pkg_archive_free(struct pkg_archive *ar)
{
    if (!ar)
        return;
    for (size_t i = 0; i < ar->n; i++)
        free((char *)ar->files[i].data);
    warena_free(ar->arena);
    free(ar->files);
    free(ar);
}

const struct pkg_archive_file *
pkg_archive_files(const struct pkg_archive *ar, size_t *n)
{
    *n = ar->n;
    return ar->files;
}

const struct pkg_archive_file *
pkg_archive_find(const struct pkg_archive *ar, const char *path)
{
    for (size_t i = 0; i < ar->n; i++)
        if (!strcmp(ar->files[i].path, path))
            return &ar->files[i];
    /* Windows names are case-insensitive, and so are a project's. */
    for (size_t i = 0; i < ar->n; i++)
        if (!strcasecmp(ar->files[i].path, path))
            return &ar->files[i];
    return NULL;
}

bool
pkg_archive_is_package(const struct pkg_archive_file *f)
{
    size_t n = strlen(f->path);

    return !strchr(f->path, '/') && n > 5 &&
           !strcasecmp(f->path + n - 5, ".dtsx");
}

void
pkg_archive_list_packages(const struct pkg_archive *ar, struct wbuf *out)
{
    for (size_t i = 0; i < ar->n; i++)
        if (pkg_archive_is_package(&ar->files[i]))
            wbuf_addf(out, NULL, "%s%s", out->len ? ", " : "",
                      ar->files[i].path);
}
