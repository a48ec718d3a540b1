/*
 * File operations for the File System task (fsops.h).
 *
 * A file copy goes to a temporary "NAME.weir-XXXXXX" in the destination's
 * folder and is then renamed over the destination (overwrite) or linked
 * to it (no overwrite: link(2) fails with EEXIST when the name is taken,
 * so there is no window between a check and the copy).  The data moves in
 * the kernel: copy_file_range first (reflinks on file systems that can,
 * server-side copies on NFS), sendfile when the pair of file systems does
 * not support it.  Chunks are 16 MiB, and the stop callback is asked
 * between them, so cancelling a large copy takes effect quickly.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/wfile.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "runtime/fsops.h"

#define CHUNK (16 << 20)

static int
io_error(struct werr *err, const char *what, const char *path)
{
    int e = errno;

    return werr_set(err, e == ENOENT ? WERR_NOTFOUND : WERR_IO,
                    "cannot %s '%s': %s", what, path, strerror(e));
}

static bool
stopped(const struct rt_fs_opts *o)
{
    return o && o->stop && o->stop(o->arg);
}

/* Moves the bytes of `in` to `out`. */
static int
copy_data(int in, int out, const struct rt_fs_opts *o, const char *src,
          struct werr *err)
{
    bool use_sendfile = false;

    for (;;) {
        ssize_t n;
        if (stopped(o))
            return werr_set(err, WERR_UNAVAILABLE,
                            "the copy of '%s' was stopped: the package was "
                            "canceled",
                            src);
        if (!use_sendfile)
            n = copy_file_range(in, NULL, out, NULL, CHUNK, 0);
        else
            n = sendfile(out, in, NULL, CHUNK);
        if (n == 0)
            return 0;
        if (n > 0)
            continue;
        if (errno == EINTR)
            continue;
        if (!use_sendfile && (errno == EXDEV || errno == ENOSYS ||
                              errno == EINVAL || errno == EOPNOTSUPP)) {
            use_sendfile = true;
            continue;
        }
        return io_error(err, "copy", src);
    }
}

/* Puts the finished temporary file under its final name. */
static int
place(const char *tmp, const char *dst, bool overwrite, struct werr *err)
{
    if (overwrite) {
        if (rename(tmp, dst) == 0)
            return 0;
        return io_error(err, "write", dst);
    }
    if (link(tmp, dst) == 0) {
        unlink(tmp);
        return 0;
    }
    if (errno == EEXIST)
        return werr_set(err, WERR_CONFLICT,
                        "'%s' already exists (set OverwriteDestination to "
                        "True to replace it)",
                        dst);
    return io_error(err, "write", dst);
}

static int
same_file(const struct stat *a, const char *dst, struct werr *err)
{
    struct stat b;

    if (stat(dst, &b) == 0 && a->st_dev == b.st_dev && a->st_ino == b.st_ino)
        return werr_set(err, WERR_INVALID,
                        "'%s' is the source itself: a file cannot be copied "
                        "onto itself",
                        dst);
    return 0;
}

int
rt_fs_copy_file(const char *src, const char *dst, const struct rt_fs_opts *o,
                struct werr *err)
{
    char *tmp = xasprintf("%s.weir-XXXXXX", dst);
    int in = -1, out = -1, rc = -1;
    bool made = false;
    struct stat st;

    if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0 || fstat(in, &st) < 0) {
        io_error(err, "read", src);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        werr_set(err, WERR_INVALID, "'%s' is not a file", src);
        goto out;
    }
    if (same_file(&st, dst, err) < 0)
        goto out;
    if ((out = mkostemp(tmp, O_CLOEXEC)) < 0) {
        io_error(err, "create", dst);
        goto out;
    }
    made = true;
    if (copy_data(in, out, o, src, err) < 0)
        goto out;
    if (fchmod(out, st.st_mode & 07777) < 0 || close(out) < 0) {
        out = -1;
        io_error(err, "write", dst);
        goto out;
    }
    out = -1;
    rc = place(tmp, dst, o && o->overwrite, err);
out:
    if (out >= 0)
        close(out);
    if (in >= 0)
        close(in);
    if (rc < 0 && made)
        unlink(tmp);
    free(tmp);
    return rc;
}

static int copy_entry(const char *src, const char *dst,
                      const struct rt_fs_opts *o, struct werr *err);

static int
copy_link(const char *src, const char *dst, bool overwrite, struct werr *err)
{
    char target[PATH_MAX];
    ssize_t n = readlink(src, target, sizeof(target) - 1);

    if (n < 0)
        return io_error(err, "read", src);
    target[n] = '\0';
    if (overwrite)
        unlink(dst);
    if (symlink(target, dst) == 0)
        return 0;
    if (errno == EEXIST)
        return werr_set(err, WERR_CONFLICT,
                        "'%s' already exists (set OverwriteDestination to "
                        "True to replace it)",
                        dst);
    return io_error(err, "create", dst);
}

int
rt_fs_copy_dir(const char *src, const char *dst, const struct rt_fs_opts *o,
               struct werr *err)
{
    struct stat st;
    DIR *d;
    struct dirent *de;
    int rc = 0;

    if (stat(src, &st) < 0)
        return io_error(err, "read", src);
    if (!S_ISDIR(st.st_mode))
        return werr_set(err, WERR_INVALID, "'%s' is not a folder", src);
    if (mkdir(dst, st.st_mode & 07777) < 0 && errno != EEXIST &&
        wfile_mkdirs(dst, err) < 0)
        return -1;
    if (!(d = opendir(src)))
        return io_error(err, "read", src);
    while (rc == 0 && (errno = 0, de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *s = xasprintf("%s/%s", src, de->d_name);
        char *t = xasprintf("%s/%s", dst, de->d_name);
        rc = copy_entry(s, t, o, err);
        free(s);
        free(t);
    }
    if (rc == 0 && errno)
        rc = io_error(err, "read", src);
    closedir(d);
    return rc;
}

static int
copy_entry(const char *src, const char *dst, const struct rt_fs_opts *o,
           struct werr *err)
{
    struct stat st;

    if (lstat(src, &st) < 0)
        return io_error(err, "read", src);
    if (S_ISDIR(st.st_mode))
        return rt_fs_copy_dir(src, dst, o, err);
    if (S_ISLNK(st.st_mode))
        return copy_link(src, dst, o && o->overwrite, err);
    if (S_ISREG(st.st_mode))
        return rt_fs_copy_file(src, dst, o, err);
    return werr_set(err, WERR_INVALID,
                    "'%s' is neither a file, a folder nor a symbolic link",
                    src);
}

/* rename(2) without replacing: renameat2's RENAME_NOREPLACE, or link and
 * unlink for files where the file system lacks it. */
static int
rename_noreplace(const char *src, const char *dst)
{
    struct stat st;

    if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    if (lstat(src, &st) == 0 && !S_ISDIR(st.st_mode)) {
        if (link(src, dst) < 0)
            return -1;
        return unlink(src);
    }
    if (lstat(dst, &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename(src, dst);
}

static int
move_across(const char *src, const char *dst, const struct rt_fs_opts *o,
            struct werr *err)
{
    struct stat st;

    if (lstat(src, &st) < 0)
        return io_error(err, "move", src);
    if (S_ISDIR(st.st_mode)) {
        if (rt_fs_copy_dir(src, dst, o, err) < 0)
            return -1;
        return rt_fs_remove_tree(src, false, err);
    }
    if (copy_entry(src, dst, o, err) < 0)
        return -1;
    if (unlink(src) < 0)
        return io_error(err, "delete", src);
    return 0;
}

int
rt_fs_move(const char *src, const char *dst, const struct rt_fs_opts *o,
           struct werr *err)
{
    struct stat st;
    int rc;

    if (lstat(src, &st) < 0)
        return io_error(err, "move", src);
    if (o && o->overwrite && !S_ISDIR(st.st_mode))
        rc = rename(src, dst);
    else
        rc = rename_noreplace(src, dst);
    if (rc == 0)
        return 0;
    if (errno == EEXIST || errno == ENOTEMPTY)
        return werr_set(err, WERR_CONFLICT, "'%s' already exists%s", dst,
                        S_ISDIR(st.st_mode)
                            ? ""
                            : " (set OverwriteDestination to True to "
                              "replace it)");
    if (errno == EXDEV)
        return move_across(src, dst, o, err);
    return io_error(err, "move", src);
}

int
rt_fs_remove_tree(const char *path, bool keep_top, struct werr *err)
{
    struct stat st;
    DIR *d;
    struct dirent *de;
    int rc = 0;

    if (lstat(path, &st) < 0)
        return io_error(err, "delete", path);
    if (!S_ISDIR(st.st_mode))
        return werr_set(err, WERR_INVALID, "'%s' is not a folder", path);
    if (!(d = opendir(path)))
        return io_error(err, "read", path);
    while (rc == 0 && (errno = 0, de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *p = xasprintf("%s/%s", path, de->d_name);
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rc = rt_fs_remove_tree(p, false, err);
        else if (unlink(p) < 0)
            rc = io_error(err, "delete", p);
        free(p);
    }
    if (rc == 0 && errno)
        rc = io_error(err, "read", path);
    closedir(d);
    if (rc == 0 && !keep_top && rmdir(path) < 0)
        rc = io_error(err, "delete", path);
    return rc;
}
