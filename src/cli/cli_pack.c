/*
 * Packing a project folder into a zip archive in memory, for `weir deploy
 * FOLDER`.  The master receives the same bytes an .ispac would give it.
 *
 * The walk is depth-first in strcmp order, so the same folder always packs
 * to the same entry order.  Symbolic links are resolved with realpath():
 * one whose target is outside the folder could smuggle any file of the
 * user's (~/.ssh/id_rsa) into a project that other people run, so it is
 * refused rather than skipped, and the user learns which link is wrong.
 * Loops through linked folders are caught by remembering the (device,
 * inode) of every folder on the current path.
 */
#include "cli/cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "base/banned.h"
#include "base/xalloc.h"

/* Deeper than any real project; stops runaway recursion. */
#define MAX_DEPTH 64

struct packer {
    struct archive *a;
    struct wbuf *zip;
    struct werr *err;
    const char *dir;   /* as the user gave it, for messages */
    char *root;        /* realpath of dir */
    size_t root_len;
    size_t nfiles;
    int failed;        /* the write callback set err */
    struct { dev_t dev; ino_t ino; } stack[MAX_DEPTH + 1];
    size_t depth;
};

static la_ssize_t
on_write(struct archive *a, void *arg, const void *buf, size_t n)
{
    struct packer *p = arg;

    if (p->zip->len + n > CLI_PACK_MAX ||
        wbuf_add(p->zip, buf, n, NULL) < 0) {
        p->failed = 1;
        werr_set(p->err, WERR_LIMIT, "'%s' packs to more than %zu MiB",
                 p->dir, CLI_PACK_MAX >> 20);
        archive_set_error(a, EFBIG, "archive too large");
        return -1;
    }
    return (la_ssize_t)n;
}

/* Reports a libarchive failure unless the write callback already did. */
static int
archive_fail(struct packer *p, const char *rel)
{
    if (p->failed)
        return -1;
    return werr_set(p->err, WERR_IO, "cannot pack '%s': %s", rel,
                    archive_error_string(p->a));
}

static int
not_hidden(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Copies the open file `fd` (of `st`) into the archive as `rel`. */
static int
add_file(struct packer *p, int fd, const struct stat *st, const char *rel)
{
    struct archive_entry *e = archive_entry_new();
    char chunk[65536];
    off_t total = 0;
    ssize_t n;
    int rc = -1;

    archive_entry_set_pathname_utf8(e, rel);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, st->st_mode & 0755);
    archive_entry_set_size(e, st->st_size);
    archive_entry_set_mtime(e, st->st_mtim.tv_sec, 0);
    if (archive_write_header(p->a, e) != ARCHIVE_OK) {
        archive_fail(p, rel);
        goto out;
    }
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            werr_set(p->err, WERR_IO, "cannot read '%s': %s", rel,
                     strerror(errno));
            goto out;
        }
        total += n;
        if (total > st->st_size) /* grew while we read it */
            break;
        if (archive_write_data(p->a, chunk, (size_t)n) != n) {
            archive_fail(p, rel);
            goto out;
        }
    }
    if (total != st->st_size) {
        werr_set(p->err, WERR_IO, "'%s' changed while it was being packed",
                 rel);
        goto out;
    }
    p->nfiles++;
    rc = 0;
out:
    archive_entry_free(e);
    return rc;
}

/* Adds the regular file at `path`, which resolved to `st`. */
static int
pack_file(struct packer *p, const char *path, const struct stat *st,
          const char *rel)
{
    struct stat now;
    int fd, rc;

    if (p->nfiles >= CLI_PACK_MAX_FILES)
        return werr_set(p->err, WERR_LIMIT, "'%s' holds more than %d files",
                        p->dir, CLI_PACK_MAX_FILES);
    if ((uint64_t)st->st_size > CLI_PACK_MAX)
        return werr_set(p->err, WERR_LIMIT, "'%s' is larger than %zu MiB",
                        rel, CLI_PACK_MAX >> 20);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return werr_set(p->err, WERR_IO,
                        "cannot open '%s': %s", rel, strerror(errno));
    /* It must still be the file the walk checked. */
    if (fstat(fd, &now) < 0 || now.st_dev != st->st_dev ||
        now.st_ino != st->st_ino) {
        close(fd);
        return werr_set(p->err, WERR_IO,
                        "'%s' changed while it was being packed", rel);
    }
    rc = add_file(p, fd, &now, rel);
    close(fd);
    return rc;
}

static int pack_dir(struct packer *p, const char *path, const char *rel,
                    const struct stat *st);

/* Resolves the link at `path` and checks that it stays inside the root. */
static int
check_link(struct packer *p, const char *path, const char *rel)
{
    char *real = realpath(path, NULL);
    int rc = 0;

    if (!real) {
        if (errno == ELOOP)
            return werr_set(p->err, WERR_INVALID,
                            "symbolic link '%s' loops", rel);
        return werr_set(p->err, WERR_INVALID,
                        "symbolic link '%s' is broken: %s", rel,
                        strerror(errno));
    }
    /* Inside means the root itself or below it ("/a/bc" is not inside
     * "/a/b"); every path is inside "/". */
    if (p->root_len > 1 &&
        (strncmp(real, p->root, p->root_len) != 0 ||
         (real[p->root_len] != '/' && real[p->root_len] != '\0')))
        rc = werr_set(p->err, WERR_INVALID,
                      "symbolic link '%s' points outside '%s' (to '%s')",
                      rel, p->dir, real);
    free(real);
    return rc;
}

/* Paths travel as JSON strings and show up in logs: they must be UTF-8
 * without control characters, i.e. what cli_text_clean leaves alone. */
static int
check_name(struct packer *p, const char *rel)
{
    struct wbuf clean;
    int rc = 0;

    wbuf_init(&clean, WBUF_NOLIMIT);
    cli_text_clean(&clean, rel, false);
    if (strcmp(clean.buf, rel) != 0)
        rc = werr_set(p->err, WERR_INVALID,
                      "file name '%s' is not valid UTF-8 or holds control "
                      "characters", clean.buf);
    wbuf_release(&clean);
    return rc;
}

/* Packs one directory entry `name` of the folder at `dpath`. */
static int
pack_entry(struct packer *p, const char *dpath, const char *drel,
           const char *name)
{
    char *path = xasprintf("%s/%s", dpath, name);
    char *rel = drel ? xasprintf("%s/%s", drel, name) : xstrdup(name);
    struct stat st;
    int rc = -1;

    if (check_name(p, rel) < 0)
        goto out;
    if (lstat(path, &st) < 0) {
        werr_set(p->err, WERR_IO, "cannot read '%s': %s", rel,
                 strerror(errno));
        goto out;
    }
    if (S_ISLNK(st.st_mode)) {
        if (check_link(p, path, rel) < 0)
            goto out;
        if (stat(path, &st) < 0) {
            werr_set(p->err, WERR_IO, "cannot read '%s': %s", rel,
                     strerror(errno));
            goto out;
        }
    }
    if (S_ISDIR(st.st_mode))
        rc = pack_dir(p, path, rel, &st);
    else if (S_ISREG(st.st_mode))
        rc = pack_file(p, path, &st, rel);
    else
        rc = 0; /* sockets, FIFOs and devices are not project files */
out:
    free(path);
    free(rel);
    return rc;
}

/* Packs the folder at `path` (`rel` inside the root, NULL for the root). */
static int
pack_dir(struct packer *p, const char *path, const char *rel,
         const struct stat *st)
{
    struct dirent **names = NULL;
    int n, i, rc = -1;

    for (size_t k = 0; k < p->depth; k++)
        if (p->stack[k].dev == st->st_dev && p->stack[k].ino == st->st_ino)
            return werr_set(p->err, WERR_INVALID,
                            "symbolic link '%s' loops", rel ? rel : p->dir);
    if (p->depth == MAX_DEPTH)
        return werr_set(p->err, WERR_LIMIT,
                        "'%s' is nested more than %d folders deep", rel,
                        MAX_DEPTH);
    n = scandir(path, &names, not_hidden, by_name);
    if (n < 0)
        return werr_set(p->err, WERR_IO,
                        "cannot list '%s': %s", rel ? rel : p->dir,
                        strerror(errno));
    p->stack[p->depth].dev = st->st_dev;
    p->stack[p->depth++].ino = st->st_ino;
    for (i = 0; i < n; i++)
        if (pack_entry(p, path, rel, names[i]->d_name) < 0)
            goto out;
    rc = 0;
out:
    p->depth--;
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int
open_archive(struct packer *p)
{
    p->a = archive_write_new();
    if (!p->a)
        W_BUG("archive_write_new failed");
    /* Names (checked to be UTF-8) are stored as they are, without the
     * zip's UTF-8 flag: libarchive in the C locale, as the master runs,
     * cannot convert flagged names and drops them, while unflagged bytes
     * pass through unchanged.  No padding after the central directory:
     * readers look for it at the very end of the file. */
    if (archive_write_set_format_zip(p->a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(p->a, 1) != ARCHIVE_OK ||
        archive_write_open(p->a, p, NULL, on_write, NULL) !=
            ARCHIVE_OK)
        return archive_fail(p, p->dir);
    return 0;
}

int
cli_pack_folder(const char *dir, struct wbuf *zip, size_t *nfiles,
                struct werr *err)
{
    struct packer p = {.zip = zip, .err = err, .dir = dir};
    struct stat st;
    int rc = -1;

    *nfiles = 0;
    if (stat(dir, &st) < 0)
        return werr_set(err, errno == ENOENT ? WERR_NOTFOUND : WERR_IO,
                        "cannot read '%s': %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return werr_set(err, WERR_INVALID, "'%s' is not a folder", dir);
    p.root = realpath(dir, NULL);
    if (!p.root)
        return werr_set(err, WERR_IO, "cannot resolve '%s': %s", dir,
                        strerror(errno));
    p.root_len = strlen(p.root);
    if (open_archive(&p) < 0 || pack_dir(&p, dir, NULL, &st) < 0)
        goto out;
    if (archive_write_close(p.a) != ARCHIVE_OK) {
        archive_fail(&p, dir);
        goto out;
    }
    *nfiles = p.nfiles;
    rc = 0;
out:
    if (p.a)
        archive_write_free(p.a);
    free(p.root);
    return rc;
}
