/*
 * Arenas: memory for things that share one lifetime (a parsed package, a
 * compiled expression, a request), freed all at once (SQLite lookaside,
 * git mem-pool).  Allocation cannot fail: it aborts on out-of-memory like
 * xmalloc.  Memory comes back aligned for any type, and zeroed unless
 * asked otherwise.
 *
 * Embed a `struct warena` and use warena_init/warena_release, or take one
 * from warena_new/warena_free.
 */
#ifndef WEIR_BASE_WARENA_H
#define WEIR_BASE_WARENA_H

#include <stddef.h>

struct warena_chunk;

struct warena {
    struct warena_chunk *head;
};

void warena_init(struct warena *a);
/* Frees every allocation; the arena is empty and usable again. */
void warena_release(struct warena *a);
/* Forgets every allocation but keeps one chunk's memory, for arenas
 * refilled over and over (per-evaluation scratch). */
void warena_reset(struct warena *a);
struct warena *warena_new(void);
/* Frees the arena and everything in it; NULL is a no-op. */
void warena_free(struct warena *a);

/* `n` zeroed bytes, valid until the arena is released or reset. */
void *warena_alloc(struct warena *a, size_t n);
/* The same, not zeroed: for buffers about to be filled. */
void *warena_alloc_uninit(struct warena *a, size_t n);
/* Copies of a string (NULL gives NULL) and of `n` elements of `size`
 * bytes (n == 0 gives NULL). */
char *warena_strdup(struct warena *a, const char *s);
char *warena_strndup(struct warena *a, const char *s, size_t n);
void *warena_memdup(struct warena *a, const void *p, size_t n, size_t size);

#endif
