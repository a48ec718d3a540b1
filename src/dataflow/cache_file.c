/*
 * Cache files (UseFile): weir's own format, because SSIS's .caw format is
 * undocumented.  A file SSIS wrote is refused with a message naming it;
 * docs/dataflow.md ("Cache files") describes the format:
 *
 *   "WEIRCAW1"; u32 column count; per column: u16 name length, the UTF-8
 *   name, u16 DT code, i32 length, u8 precision, u8 scale, u16 code page,
 *   u16 IndexPosition (0: not an index column); then blocks of at most
 *   4096 rows: u32 row count, then per column its NULL bytes (one per
 *   row) followed by its values (strings and binaries as u32 length and
 *   bytes, UTF-8 for strings; other types in their buffer width); then a
 *   u32 0 and the u64 count of rows, so a cut file is noticed.  Integers
 *   are little-endian.
 *
 * The file is written to NAME.tmp-PID and renamed over NAME, so readers
 * never see half a file.  Reading checks every length against what is
 * left of the file before allocating.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "dataflow/cache_int.h"
#include "base/banned.h"

#define CAW_MAGIC "WEIRCAW1"

struct cfile {
    FILE *f;
    const char *path;
    uint64_t left; /* bytes not read yet */
};

/* A path still written for Windows cannot be opened here. */
static int
check_path(const char *path, struct werr *err)
{
    if (!pkg_path_is_windows(path))
        return 0;
    return werr_set(err, WERR_INVALID, "the cache file '%s' is a Windows "
                    "path: give its Linux path with --connection NAME=PATH",
                    path);
}

static int
io_error(const struct cfile *cf, const char *what, struct werr *err)
{
    return werr_set(err, WERR_IO, "%s cache file '%s': %s", what, cf->path,
                    errno ? strerror(errno) : "unexpected end of file");
}

/* ---- writing ---- */

static void
put(FILE *f, const void *p, size_t n)
{
    if (n)
        fwrite(p, 1, n, f);
}

static void
write_header(FILE *f, const struct df_cache_def *d)
{
    uint32_t n = (uint32_t)d->ncols;

    put(f, CAW_MAGIC, 8);
    put(f, &n, 4);
    for (size_t i = 0; i < d->ncols; i++) {
        const struct df_cache_col *c = &d->cols[i];
        uint16_t len = (uint16_t)strlen(c->name), dt = (uint16_t)c->type.dt;
        uint16_t index = (uint16_t)c->index;
        put(f, &len, 2);
        put(f, c->name, len);
        put(f, &dt, 2);
        put(f, &c->type.length, 4);
        put(f, &c->type.precision, 1);
        put(f, &c->type.scale, 1);
        put(f, &c->type.codepage, 2);
        put(f, &index, 2);
    }
}

static void
write_block(FILE *f, const struct df_buffer *b)
{
    uint32_t n = (uint32_t)b->nrows;

    put(f, &n, 4);
    for (size_t c = 0; c < b->layout->nslots; c++) {
        const struct df_vec *v = &b->cols[c];
        put(f, v->nulls, n);
        if (!df_cache_is_var(v->type.dt)) {
            put(f, v->data, n * df_type_width(v->type.dt));
            continue;
        }
        for (size_t r = 0; r < n; r++) {
            const struct expr_sv *s = &((const struct expr_sv *)v->data)[r];
            uint32_t len = v->nulls[r] ? 0 : (uint32_t)s->len;
            put(f, &len, 4);
            put(f, s->p, len);
        }
    }
}

int
df_cache_write(const struct df_cache *k, const char *path, struct werr *err)
{
    char *tmp = xasprintf("%s.tmp-%ld", path, (long)getpid());
    struct cfile cf = {.path = path};
    uint32_t end = 0;
    uint64_t rows = k->nrows;
    int rc = -1;

    if (check_path(path, err) < 0)
        goto out;
    errno = 0;
    if (!(cf.f = fopen(tmp, "wb"))) {
        io_error(&cf, "creating", err);
        goto out;
    }
    write_header(cf.f, &k->def);
    for (size_t i = 0; i < k->nbufs; i++)
        write_block(cf.f, k->bufs[i]);
    put(cf.f, &end, 4);
    put(cf.f, &rows, 8);
    errno = 0;
    if (ferror(cf.f) | fclose(cf.f)) {
        cf.f = NULL;
        io_error(&cf, "writing", err);
        goto out;
    }
    cf.f = NULL;
    errno = 0;
    if (rename(tmp, path) < 0) {
        io_error(&cf, "renaming the new", err);
        goto out;
    }
    rc = 0;
out:
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* ---- reading ---- */

static int
get(struct cfile *cf, void *p, size_t n, struct werr *err)
{
    errno = 0;
    if (n > cf->left || (n && fread(p, 1, n, cf->f) != n)) {
        errno = 0;
        return io_error(cf, "reading", err);
    }
    cf->left -= n;
    return 0;
}

/* Reads one column description and checks it is column `c` of the
 * manager's definition. */
static int
check_column(struct cfile *cf, const struct df_cache_col *c,
             struct werr *err)
{
    uint16_t len, dt, index;
    struct expr_type t = {0};
    char name[1024];

    if (get(cf, &len, 2, err) < 0)
        return -1;
    if (len >= sizeof(name))
        return werr_set(err, WERR_INVALID, "cache file '%s': a column name "
                        "of %u bytes", cf->path, len);
    if (get(cf, name, len, err) < 0 || get(cf, &dt, 2, err) < 0 ||
        get(cf, &t.length, 4, err) < 0 || get(cf, &t.precision, 1, err) < 0 ||
        get(cf, &t.scale, 1, err) < 0 || get(cf, &t.codepage, 2, err) < 0 ||
        get(cf, &index, 2, err) < 0)
        return -1;
    name[len] = '\0';
    t.dt = (enum expr_dt)dt;
    if (strcasecmp(name, c->name) || !df_cache_type_ok(c, &t) ||
        index != c->index)
        return werr_set(err, WERR_INVALID, "cache file '%s' holds column "
                        "'%s' (%s, index %u) where the connection manager "
                        "has '%s' (%s, index %d)", cf->path, name,
                        expr_dt_name(t.dt), index, c->name,
                        expr_dt_name(c->type.dt), c->index);
    return 0;
}

static int
read_header(struct cfile *cf, const struct df_cache_def *d, struct werr *err)
{
    char magic[8];
    uint32_t n;

    if (cf->left < 8 || get(cf, magic, 8, err) < 0 ||
        memcmp(magic, CAW_MAGIC, 8))
        return werr_set(err, WERR_INVALID, "'%s' is not a weir cache file "
                        "(cache files written by SSIS cannot be read: fill "
                        "the cache with a Cache Transform run by weir)",
                        cf->path);
    if (get(cf, &n, 4, err) < 0)
        return -1;
    if (n != d->ncols)
        return werr_set(err, WERR_INVALID, "cache file '%s' has %u columns, "
                        "the connection manager %zu", cf->path, n, d->ncols);
    for (size_t i = 0; i < d->ncols; i++)
        if (check_column(cf, &d->cols[i], err) < 0)
            return -1;
    return 0;
}

static int
read_values(struct cfile *cf, struct df_buffer *b, size_t c, size_t n,
            struct werr *err)
{
    struct df_vec *v = &b->cols[c];

    if (get(cf, v->nulls, n, err) < 0)
        return -1;
    if (!df_cache_is_var(v->type.dt))
        return get(cf, v->data, n * df_type_width(v->type.dt), err);
    for (size_t r = 0; r < n; r++) {
        struct expr_sv *s = &((struct expr_sv *)v->data)[r];
        uint32_t len;
        char *p;
        if (get(cf, &len, 4, err) < 0)
            return -1;
        if (len > cf->left) {
            errno = 0;
            return io_error(cf, "reading", err);
        }
        p = len ? df_buffer_bytes(b, len) : NULL;
        if (get(cf, p, len, err) < 0)
            return -1;
        s->p = p ? p : "";
        s->len = len;
    }
    return 0;
}

/* Reads a block of `n` rows into a new buffer and indexes its rows. */
static int
read_block(struct cfile *cf, struct df_cache *k, uint32_t n,
           struct werr *err)
{
    struct df_buffer *b;

    if (n > DF_CACHE_ROWS)
        return werr_set(err, WERR_INVALID, "cache file '%s': a block of %u "
                        "rows (at most %d)", cf->path, n, DF_CACHE_ROWS);
    b = df_cache_append(k);
    for (size_t c = 0; c < k->def.ncols; c++)
        if (read_values(cf, b, c, n, err) < 0)
            return -1;
    for (uint32_t r = 0; r < n; r++) {
        b->nrows = r + 1;
        if (df_cache_index_last(k) < 0)
            return werr_set(err, WERR_INVALID, "cache file '%s' holds a key "
                            "twice", cf->path);
    }
    return 0;
}

int
df_cache_load(struct df_cache *k, const char *path, struct werr *err)
{
    struct cfile cf = {.path = path};
    struct stat st;
    uint32_t n;
    uint64_t rows;
    int rc = -1;

    if (check_path(path, err) < 0)
        goto out;
    errno = 0;
    if (!(cf.f = fopen(path, "rb")) || fstat(fileno(cf.f), &st) < 0) {
        io_error(&cf, "opening", err);
        goto out;
    }
    cf.left = (uint64_t)st.st_size;
    if (read_header(&cf, &k->def, err) < 0)
        goto out;
    for (;;) {
        if (get(&cf, &n, 4, err) < 0)
            goto out;
        if (n == 0)
            break;
        if (read_block(&cf, k, n, err) < 0)
            goto out;
    }
    if (get(&cf, &rows, 8, err) < 0)
        goto out;
    if (rows != k->nrows || cf.left) {
        werr_set(err, WERR_INVALID, "cache file '%s' is damaged (%llu rows "
                 "announced, %zu read)", path, (unsigned long long)rows,
                 k->nrows);
        goto out;
    }
    rc = 0;
out:
    if (cf.f)
        fclose(cf.f);
    return rc;
}
