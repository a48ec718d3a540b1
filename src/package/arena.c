/*
 * The model arena: chunks of at least 16 KiB, each allocation rounded up
 * to max_align_t.  A request bigger than a quarter chunk gets a chunk of
 * its own, so a large string never wastes the rest of a shared chunk.
 */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "package/package_int.h"

#define CHUNK_SIZE (16u << 10)
#define ALIGN alignof(max_align_t)

struct chunk {
    struct chunk *next;
    size_t used, size;
    alignas(max_align_t) unsigned char data[];
};

struct pkg_arena {
    struct chunk *head;
};

struct pkg_arena *
pkg_arena_new(void)
{
    return xcalloc(1, sizeof(struct pkg_arena));
}

void
pkg_arena_free(struct pkg_arena *a)
{
    struct chunk *c, *next;

    if (!a)
        return;
    for (c = a->head; c; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}

static struct chunk *
chunk_new(size_t size)
{
    struct chunk *c = xmalloc(sizeof(*c) + size);

    c->next = NULL;
    c->used = 0;
    c->size = size;
    return c;
}

void *
pkg_arena_alloc(struct pkg_arena *a, size_t n)
{
    struct chunk *c;
    size_t need;

    if (n > SIZE_MAX - ALIGN - sizeof(struct chunk))
        W_BUG("arena request of %zu bytes", n);
    need = (n + ALIGN - 1) & ~(ALIGN - 1);
    if (need == 0)
        need = ALIGN;
    if (need > CHUNK_SIZE / 4) {
        /* Its own chunk, linked behind the head so the head keeps its
         * free space. */
        c = chunk_new(need);
        c->used = need;
        if (a->head) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            a->head = c;
        }
        memset(c->data, 0, need);
        return c->data;
    }
    c = a->head;
    if (!c || c->size - c->used < need) {
        c = chunk_new(CHUNK_SIZE);
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += need;
    memset(p, 0, need);
    return p;
}

char *
pkg_arena_strndup(struct pkg_arena *a, const char *s, size_t n)
{
    char *p;

    if (!s)
        return NULL;
    p = pkg_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
pkg_arena_strdup(struct pkg_arena *a, const char *s)
{
    return s ? pkg_arena_strndup(a, s, strlen(s)) : NULL;
}

void *
pkg_arena_memdup(struct pkg_arena *a, const void *p, size_t n, size_t size)
{
    void *q;

    if (!n)
        return NULL;
    if (size && n > SIZE_MAX / size)
        W_BUG("arena copy of %zu x %zu bytes", n, size);
    q = pkg_arena_alloc(a, n * size);
    memcpy(q, p, n * size);
    return q;
}
