#include "base/wfile.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base/xalloc.h"

int
wfile_read(const char *path, struct wbuf *out, struct werr *err)
{
    char chunk[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return werr_set(err, errno == ENOENT ? WERR_NOTFOUND : WERR_IO,
                        "cannot open '%s': %s", path, strerror(errno));
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            werr_set(err, WERR_IO, "cannot read '%s': %s", path,
                     strerror(errno));
            close(fd);
            return -1;
        }
        if (wbuf_add(out, chunk, (size_t)n, err) < 0) {
            close(fd);
            return werr_prefix(err, "'%s'", path);
        }
    }
    close(fd);
    return 0;
}

int
wfile_write(const char *path, const void *data, size_t len, int mode,
            int sync, struct werr *err)
{
    char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
    const char *p = data;
    int fd, rc = -1;

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        werr_set(err, WERR_IO, "cannot create '%s': %s", tmp, strerror(errno));
        goto out;
    }
    while (len) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            werr_set(err, WERR_IO, "cannot write '%s': %s", tmp,
                     strerror(errno));
            goto out;
        }
        p += n;
        len -= (size_t)n;
    }
    if (sync && fsync(fd) < 0) {
        werr_set(err, WERR_IO, "cannot sync '%s': %s", tmp, strerror(errno));
        goto out;
    }
    if (rename(tmp, path) < 0) {
        werr_set(err, WERR_IO, "cannot rename '%s': %s", tmp, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

int
wfile_mkdirs(const char *path, struct werr *err)
{
    char *p = xstrdup(path);
    int rc = 0;

    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST) {
            rc = werr_set(err, WERR_IO, "cannot create folder '%s': %s", p,
                          strerror(errno));
            break;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    return rc;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int
wfile_rmtree(const char *path, struct werr *err)
{
    if (access(path, F_OK) < 0)
        return 0;
    if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
        return werr_set(err, WERR_IO, "cannot remove '%s': %s", path,
                        strerror(errno));
    return 0;
}

void
wfile_sha256_hex(const void *data, size_t len, char out[WFILE_SHA256_HEX + 1])
{
    unsigned char md[32];
    unsigned int mdlen = 0;

    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}
