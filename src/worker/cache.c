/*
 * The file cache: project files by SHA-256 in <state-dir>/cache/<hash>.
 *
 * A task that needs a file the cache lacks queues a fetch (GET
 * /api/v1/blobs/{hash}); a few fetches run at once, each retried with
 * backoff while the master cannot be reached.  What arrives is checked
 * against the hash and size the claim gave before it is stored
 * atomically, so a cache file is always whole and right, and several tasks
 * waiting for the same file share one fetch.  A file the master does not
 * have, or that arrives different, fails the fetch and the tasks that
 * wanted it.
 *
 * Entries are never evicted; see docs/worker.md.
 */
#include "worker/worker_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/wtime.h"
#include "base/xalloc.h"

#define FETCHES_AT_ONCE 4
#define BLOB_TIMEOUT_MS (10L * 60 * 1000)

struct fetch {
    struct wk_cache *cache;
    char hash[WFILE_SHA256_HEX + 1];
    int64_t size;
    struct wk_req *req;
    int64_t retry_at;
    struct wk_backoff bo;
    bool failed;
    struct werr why;
};

struct wk_cache {
    struct wk_agent *agent;
    char *dir;
    struct fetch **f;
    size_t n, cap;
    unsigned gen;
};

struct wk_cache *
wk_cache_new(const char *dir, struct wk_agent *agent)
{
    struct wk_cache *c = xcalloc(1, sizeof(*c));

    c->dir = xstrdup(dir);
    c->agent = agent;
    return c;
}

void
wk_cache_free(struct wk_cache *c, struct wk_http *h)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        wk_http_cancel(h, c->f[i]->req);
        free(c->f[i]);
    }
    free(c->f);
    free(c->dir);
    free(c);
}

char *
wk_cache_path(const struct wk_cache *c, const char *hash)
{
    return xasprintf("%s/%s", c->dir, hash);
}

unsigned
wk_cache_generation(const struct wk_cache *c)
{
    return c->gen;
}

static struct fetch *
find(struct wk_cache *c, const char *hash)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->f[i]->hash, hash))
            return c->f[i];
    return NULL;
}

static void
drop(struct wk_cache *c, struct fetch *f)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->f[i] == f) {
            c->f[i] = c->f[--c->n];
            break;
        }
    }
    free(f);
}

enum wk_have
wk_cache_want(struct wk_cache *c, const char *hash, int64_t size,
              struct werr *err)
{
    char *path = wk_cache_path(c, hash);
    struct fetch *f;
    struct stat st;
    bool have = stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
                st.st_size == size;

    free(path);
    if (have)
        return WK_HAVE;
    f = find(c, hash);
    if (f && f->failed) {
        *err = f->why;
        return WK_UNAVAILABLE;
    }
    if (!f) {
        f = xcalloc(1, sizeof(*f));
        f->cache = c;
        memcpy(f->hash, hash, sizeof(f->hash));
        f->size = size;
        wk_backoff_init(&f->bo, (uint64_t)wtime_mono_ns());
        XGROW(c->f, c->n + 1, c->cap);
        c->f[c->n++] = f;
    }
    return WK_MISSING;
}

/* Checks and stores what the master sent. */
static int
store(struct fetch *f, const struct wbuf *body, struct werr *err)
{
    char got[WFILE_SHA256_HEX + 1], *path;
    int rc;

    wfile_sha256_hex(body->buf, body->len, got);
    if ((int64_t)body->len != f->size || strcmp(got, f->hash))
        return werr_set(err, WERR_IO, "the master sent %zu bytes with "
                        "SHA-256 %s for file %s of %lld bytes", body->len,
                        got, f->hash, (long long)f->size);
    path = wk_cache_path(f->cache, f->hash);
    rc = wfile_write(path, body->buf, body->len, 0644, 0, err);
    free(path);
    return rc;
}

static void
fetch_done(void *arg, const struct wk_resp *r)
{
    struct fetch *f = arg;
    struct wk_cache *c = f->cache;

    f->req = NULL;
    c->gen++;
    wk_agent_master_state(c->agent, r);
    if (r->outcome == WK_RETRY) {
        f->retry_at = wtime_mono_ns() +
                      wk_backoff_next(&f->bo) * WTIME_MS_NS;
        return;
    }
    if (r->outcome == WK_OK && store(f, r->body, &f->why) == 0) {
        wlog(WLOG_DEBUG, "cached file %s (%lld bytes)", f->hash,
             (long long)f->size);
        drop(c, f);
        return;
    }
    if (r->outcome != WK_OK)
        f->why = r->err;
    werr_prefix(&f->why, "cannot fetch file %s", f->hash);
    wlog(WLOG_WARN, "%s", f->why.msg);
    f->failed = true;
}

void
wk_cache_tick(struct wk_cache *c, struct wk_http *h, int64_t now,
              int64_t *next)
{
    size_t active = 0;
    char path[128];

    for (size_t i = 0; i < c->n; i++)
        active += c->f[i]->req != NULL;
    for (size_t i = 0; i < c->n && active < FETCHES_AT_ONCE; i++) {
        struct fetch *f = c->f[i];

        if (f->req || f->failed)
            continue;
        if (now < f->retry_at) {
            if (f->retry_at < *next)
                *next = f->retry_at;
            continue;
        }
        snprintf(path, sizeof(path), "/api/v1/blobs/%s", f->hash);
        f->req = wk_http_get(h, path, (size_t)f->size, BLOB_TIMEOUT_MS,
                             fetch_done, f);
        active++;
    }
}

void
wk_cache_sweep(struct wk_cache *c)
{
    for (size_t i = 0; i < c->n;) {
        if (c->f[i]->failed)
            drop(c, c->f[i]);
        else
            i++;
    }
}
