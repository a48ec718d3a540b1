/*
 * Allocation that cannot fail: on out-of-memory the process aborts with a
 * message (git, redis zmalloc).  Sizes that come from input must be checked
 * against a limit before they reach these functions.
 */
#ifndef WEIR_BASE_XALLOC_H
#define WEIR_BASE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A malloc'd printf; the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grows array `p` of `*cap` elements of size `sz` to hold at least `need`. */
#define XGROW(p, need, cap) \
    do { if ((size_t)(need) > (cap)) { \
        (cap) = (cap) ? (cap) * 2 : 8; \
        if ((cap) < (size_t)(need)) (cap) = (need); \
        (p) = xrealloc((p), (cap) * sizeof(*(p))); } } while (0)

#endif
