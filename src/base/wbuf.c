#include "base/wbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

static char empty[1];

void
wbuf_init(struct wbuf *b, size_t max)
{
    b->buf = empty;
    b->len = b->cap = 0;
    b->max = max;
}

void
wbuf_release(struct wbuf *b)
{
    if (b->cap)
        free(b->buf);
    wbuf_init(b, b->max);
}

void
wbuf_reset(struct wbuf *b)
{
    b->len = 0;
    if (b->cap)
        b->buf[0] = '\0';
}

char *
wbuf_detach(struct wbuf *b, size_t *len)
{
    char *p = b->cap ? b->buf : xstrdup("");

    if (len)
        *len = b->len;
    wbuf_init(b, b->max);
    return p;
}

static int
reserve(struct wbuf *b, size_t n, struct werr *err)
{
    size_t need, cap;

    if (n > b->max || b->len > b->max - n)
        return werr_set(err, WERR_LIMIT, "more than %zu bytes", b->max);
    need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->buf = b->cap ? xrealloc(b->buf, cap) : xmalloc(cap);
    if (!b->cap)
        b->buf[0] = '\0';
    b->cap = cap;
    return 0;
}

int
wbuf_add(struct wbuf *b, const void *p, size_t n, struct werr *err)
{
    if (reserve(b, n, err) < 0)
        return -1;
    if (n)
        memcpy(b->buf + b->len, p, n);
    b->len += n;
    if (b->cap)
        b->buf[b->len] = '\0';
    return 0;
}

int
wbuf_adds(struct wbuf *b, const char *s, struct werr *err)
{
    return wbuf_add(b, s, strlen(s), err);
}

int
wbuf_addch(struct wbuf *b, char c, struct werr *err)
{
    return wbuf_add(b, &c, 1, err);
}

int
wbuf_vaddf(struct wbuf *b, struct werr *err, const char *fmt, va_list ap)
{
    va_list cp;
    int n;

    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return werr_set(err, WERR_INTERNAL, "bad format '%s'", fmt);
    if (reserve(b, (size_t)n, err) < 0)
        return -1;
    vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int
wbuf_addf(struct wbuf *b, struct werr *err, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = wbuf_vaddf(b, err, fmt, ap);
    va_end(ap);
    return rc;
}

void
wbuf_consume(struct wbuf *b, size_t n)
{
    if (n >= b->len) {
        wbuf_reset(b);
        return;
    }
    memmove(b->buf, b->buf + n, b->len - n);
    b->len -= n;
    b->buf[b->len] = '\0';
}
