/*
 * Chunks of at least 16 KiB, each allocation rounded up to max_align_t.  A
 * request bigger than a quarter chunk gets a chunk of its own, linked
 * behind the head, so a large string never wastes the rest of a shared
 * chunk.
 */
#include "base/warena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/werr.h"
#include "base/xalloc.h"

#define CHUNK_SIZE (16u << 10)
#define ALIGN alignof(max_align_t)

struct warena_chunk {
    struct warena_chunk *next;
    size_t used, size;
    alignas(max_align_t) unsigned char data[];
};

void
warena_init(struct warena *a)
{
    a->head = NULL;
}

void
warena_release(struct warena *a)
{
    struct warena_chunk *c, *next;

    for (c = a->head; c; c = next) {
        next = c->next;
        free(c);
    }
    a->head = NULL;
}

void
warena_reset(struct warena *a)
{
    struct warena_chunk *c, *next, *keep = NULL;

    /* Keep one ordinary chunk, so that a steady loop of fill and reset
     * (an evaluation's scratch space) does not call malloc at all. */
    for (c = a->head; c; c = next) {
        next = c->next;
        if (!keep && c->size == CHUNK_SIZE) {
            keep = c;
            continue;
        }
        free(c);
    }
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
    a->head = keep;
}

struct warena *
warena_new(void)
{
    return xcalloc(1, sizeof(struct warena));
}

void
warena_free(struct warena *a)
{
    if (!a)
        return;
    warena_release(a);
    free(a);
}

static struct warena_chunk *
chunk_new(size_t size)
{
    struct warena_chunk *c = xmalloc(sizeof(*c) + size);

    c->next = NULL;
    c->used = 0;
    c->size = size;
    return c;
}

void *
warena_alloc_uninit(struct warena *a, size_t n)
{
    struct warena_chunk *c;
    size_t need;

    if (n > SIZE_MAX - ALIGN - sizeof(struct warena_chunk))
        W_BUG("arena request of %zu bytes", n);
    need = (n + ALIGN - 1) & ~(ALIGN - 1);
    if (need == 0)
        need = ALIGN;
    if (need > CHUNK_SIZE / 4) {
        c = chunk_new(need);
        c->used = need;
        if (a->head) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            a->head = c;
        }
        return c->data;
    }
    c = a->head;
    if (!c || c->size - c->used < need) {
        c = chunk_new(CHUNK_SIZE);
        c->next = a->head;
        a->head = c;
    }
    c->used += need;
    return c->data + c->used - need;
}

void *
warena_alloc(struct warena *a, size_t n)
{
    void *p = warena_alloc_uninit(a, n);

    memset(p, 0, n);
    return p;
}

char *
warena_strndup(struct warena *a, const char *s, size_t n)
{
    char *p;

    if (!s)
        return NULL;
    p = warena_alloc_uninit(a, n + 1);
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
warena_strdup(struct warena *a, const char *s)
{
    return s ? warena_strndup(a, s, strlen(s)) : NULL;
}

void *
warena_memdup(struct warena *a, const void *p, size_t n, size_t size)
{
    void *q;

    if (!n)
        return NULL;
    if (size && n > SIZE_MAX / size)
        W_BUG("arena copy of %zu x %zu bytes", n, size);
    q = warena_alloc_uninit(a, n * size);
    memcpy(q, p, n * size);
    return q;
}
