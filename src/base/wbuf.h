/*
 * Growable byte buffers (git strbuf, curl dynbuf).
 *
 * `buf` is never NULL and always NUL-terminated, so a wbuf can be handed to
 * any function that wants a C string.  Growth is capped at `max` bytes of
 * content: an append that would pass it fails with WERR_LIMIT and leaves the
 * buffer unchanged.  That cap is how sizes that come from input (request
 * bodies, event lines, files) are bounded.
 */
#ifndef WEIR_BASE_WBUF_H
#define WEIR_BASE_WBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "base/werr.h"

struct wbuf {
    char *buf;
    size_t len, cap, max;
};

/* A buffer with no limit beyond memory. */
#define WBUF_NOLIMIT ((size_t)-1)

/* Initializes an empty buffer that may hold up to `max` bytes. */
void wbuf_init(struct wbuf *b, size_t max);
/* Frees the content; the buffer can be initialized again. */
void wbuf_release(struct wbuf *b);
/* Empties the buffer, keeping its memory. */
void wbuf_reset(struct wbuf *b);
/* Hands the content to the caller (who frees it) and empties the buffer. */
char *wbuf_detach(struct wbuf *b, size_t *len);

int wbuf_add(struct wbuf *b, const void *p, size_t n, struct werr *err);
int wbuf_adds(struct wbuf *b, const char *s, struct werr *err);
int wbuf_addch(struct wbuf *b, char c, struct werr *err);
int wbuf_addf(struct wbuf *b, struct werr *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int wbuf_vaddf(struct wbuf *b, struct werr *err, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Removes the first `n` bytes. */
void wbuf_consume(struct wbuf *b, size_t n);

#endif
