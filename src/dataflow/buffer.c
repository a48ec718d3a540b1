/*
 * Columnar buffers (df_int.h): one allocation per buffer holding its
 * vectors and NULL bytes, recycled through a pool per layout, and string
 * bytes in reference-counted blocks shared by the buffers that copy rows
 * from one another.
 *
 * A block is written only by the buffer that created it (its `cur`);
 * others that share it only read bytes already written, so appending
 * needs no lock.  Block and buffer reference counts are atomic: buffers
 * cross threads through the engine's queues.  A pool is freed when it is
 * detached and its last buffer came back, so a buffer a component keeps
 * too long is still returned safely.
 *
 * Freed blocks of string bytes are kept for reuse (a few, SPARE_BYTES in
 * all): a source fills about a megabyte of them per buffer, and blocks
 * shared with the buffers downstream are freed by whichever thread drops
 * them last, so the source's own buffer rarely gets its block back.
 * Without the spares each buffer wrote into freshly mapped memory and
 * paid a page fault every 4 KiB.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "dataflow/df_core.h"

#define BLOCK_MIN (64u * 1024)
#define BLOCK_WANT_MAX (16u << 20) /* past it, a buffer uses several */
#define POOL_KEEP 64 /* free buffers a pool keeps */
#define SPARE_MAX 16
#define SPARE_BYTES (32u << 20)

struct df_block {
    int refs;
    size_t size, used;
    char data[];
};

struct df_bytes {
    struct df_block **v;
    size_t n, cap;
    struct df_block *cur; /* the block this buffer appends to */
    size_t made;          /* bytes asked for since the last reset */
    size_t want;          /* size of the next block: what a use needed */
};

/* Freed blocks for reuse, shared by every thread and run. */
static struct {
    pthread_mutex_t mu;
    struct df_block *v[SPARE_MAX];
    size_t n, bytes;
} spare = {.mu = PTHREAD_MUTEX_INITIALIZER};

struct df_pool {
    pthread_mutex_t mu;
    struct df_buffer **free;
    size_t nfree;
    size_t live; /* buffers allocated and not freed */
    bool detached;
};

size_t
df_type_width(enum expr_dt dt)
{
    switch (dt) {
    case EXPR_DT_BOOL:
    case EXPR_DT_I1:
    case EXPR_DT_UI1:
        return 1;
    case EXPR_DT_I2:
    case EXPR_DT_UI2:
        return 2;
    case EXPR_DT_I4:
    case EXPR_DT_UI4:
    case EXPR_DT_R4:
        return 4;
    case EXPR_DT_NUMERIC:
    case EXPR_DT_DECIMAL:
        return sizeof(expr_i128);
    case EXPR_DT_DBTIMESTAMPOFFSET:
        return sizeof(struct expr_dto);
    case EXPR_DT_GUID:
        return sizeof(struct expr_guid);
    case EXPR_DT_BYTES:
    case EXPR_DT_STR:
    case EXPR_DT_WSTR:
    case EXPR_DT_IMAGE:
    case EXPR_DT_TEXT:
    case EXPR_DT_NTEXT:
        return sizeof(struct expr_sv);
    default: /* I8, UI8, R8, CY, dates and times */
        return 8;
    }
}

static bool
is_bytes(enum expr_dt dt)
{
    return df_type_width(dt) == sizeof(struct expr_sv) &&
           dt != EXPR_DT_NUMERIC && dt != EXPR_DT_DECIMAL &&
           dt != EXPR_DT_GUID;
}

static size_t
align16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

static struct df_buffer *
alloc_buffer(const struct df_layout *l)
{
    size_t head = align16(sizeof(struct df_buffer)) +
                  align16(sizeof(struct df_bytes)) +
                  align16(l->nslots * sizeof(struct df_vec));
    size_t size = head;
    struct df_buffer *b;
    char *p;

    for (size_t i = 0; i < l->nslots; i++)
        size += align16(df_type_width(l->types[i].dt) * l->max_rows) +
                align16(l->max_rows);
    p = xmalloc(size);
    b = (struct df_buffer *)p;
    memset(b, 0, sizeof(*b));
    b->layout = l;
    b->bytes = (struct df_bytes *)(p + align16(sizeof(*b)));
    memset(b->bytes, 0, sizeof(*b->bytes));
    b->cols = (struct df_vec *)(p + align16(sizeof(*b)) +
                                align16(sizeof(struct df_bytes)));
    p += head;
    for (size_t i = 0; i < l->nslots; i++) {
        b->cols[i].type = l->types[i];
        b->cols[i].data = p;
        p += align16(df_type_width(l->types[i].dt) * l->max_rows);
        b->cols[i].nulls = (uint8_t *)p;
        p += align16(l->max_rows);
    }
    return b;
}

/* A block of at least `size` bytes: a spare one not much larger, or a
 * new one. */
static struct df_block *
block_get(size_t size)
{
    struct df_block *k = NULL;

    pthread_mutex_lock(&spare.mu);
    for (size_t i = spare.n; i-- > 0 && !k;) {
        if (spare.v[i]->size < size || spare.v[i]->size / 2 > size)
            continue;
        k = spare.v[i];
        spare.v[i] = spare.v[--spare.n];
        spare.bytes -= k->size;
    }
    pthread_mutex_unlock(&spare.mu);
    if (!k) {
        k = xmalloc(sizeof(*k) + size);
        k->size = size;
    }
    k->refs = 1;
    k->used = 0;
    return k;
}

/* Keeps `k` among the spares (the lock held), in place of the smallest
 * when they are full: the blocks of a buffer's first use are small, and
 * must not crowd out the sizes it settles on.  Returns the block to
 * free, or NULL. */
static struct df_block *
spare_put(struct df_block *k)
{
    size_t small = 0;

    for (size_t i = 1; i < spare.n; i++)
        if (spare.v[i]->size < spare.v[small]->size)
            small = i;
    while (spare.n && (spare.n == SPARE_MAX ||
                       spare.bytes + k->size > SPARE_BYTES)) {
        struct df_block *out = spare.v[small];
        if (out->size >= k->size)
            return k;
        spare.v[small] = spare.v[--spare.n];
        spare.bytes -= out->size;
        free(out);
        small = 0;
        for (size_t i = 1; i < spare.n; i++)
            if (spare.v[i]->size < spare.v[small]->size)
                small = i;
    }
    if (k->size > SPARE_BYTES)
        return k;
    spare.v[spare.n++] = k;
    spare.bytes += k->size;
    return NULL;
}

static void
block_unref(struct df_block *k)
{
    if (__atomic_sub_fetch(&k->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    pthread_mutex_lock(&spare.mu);
    k = spare_put(k);
    pthread_mutex_unlock(&spare.mu);
    free(k);
}

/* Drops the buffer's blocks but keeps its own block when nobody else
 * holds it, so a recycled buffer does not allocate again.  A buffer that
 * needed more than its block gets one block of what it needed next time
 * (a source copying whole rows needs about a megabyte), instead of
 * allocating and freeing 64 KiB blocks on every use. */
static void
reset_bytes(struct df_bytes *h)
{
    struct df_block *keep = NULL;
    bool grow = h->made > (h->cur ? h->cur->size : 0);

    /* A quarter more, so a slightly longer next use still fits. */
    if (grow)
        h->want = h->made < BLOCK_WANT_MAX ? h->made + h->made / 4
                                           : BLOCK_WANT_MAX;
    h->made = 0;
    for (size_t i = 0; i < h->n; i++) {
        struct df_block *k = h->v[i];
        if (k == h->cur && !grow &&
            __atomic_load_n(&k->refs, __ATOMIC_ACQUIRE) == 1)
            keep = k;
        else
            block_unref(k);
    }
    h->n = 0;
    h->cur = keep;
    if (keep) {
        keep->used = 0;
        h->v[h->n++] = keep;
    }
}

static void
free_buffer(struct df_buffer *b)
{
    reset_bytes(b->bytes);
    if (b->bytes->cur)
        block_unref(b->bytes->cur);
    free(b->bytes->v);
    free(b);
}

static void
clear_rows(struct df_buffer *b)
{
    b->nrows = 0;
    b->refs = 1;
    for (size_t i = 0; i < b->layout->nslots; i++)
        memset(b->cols[i].nulls, 0, b->layout->max_rows);
}

struct df_buffer *
df_buffer_new(const struct df_layout *layout)
{
    struct df_pool *pool = layout->pool;
    struct df_buffer *b = NULL;

    if (pool) {
        pthread_mutex_lock(&pool->mu);
        if (pool->nfree)
            b = pool->free[--pool->nfree];
        else
            pool->live++;
        pthread_mutex_unlock(&pool->mu);
    }
    if (!b)
        b = alloc_buffer(layout);
    clear_rows(b);
    return b;
}

struct df_buffer *
df_buffer_new_like(const struct df_buffer *b)
{
    return df_buffer_new(b->layout);
}

void
df_buffer_ref(struct df_buffer *b)
{
    __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
}

static void
pool_free(struct df_pool *pool)
{
    for (size_t i = 0; i < pool->nfree; i++)
        free_buffer(pool->free[i]);
    free(pool->free);
    pthread_mutex_destroy(&pool->mu);
    free(pool);
}

void
df_buffer_unref(struct df_buffer *b)
{
    struct df_pool *pool;
    bool gone = false;

    if (!b || __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    if (!(pool = b->layout->pool)) {
        free_buffer(b);
        return;
    }
    reset_bytes(b->bytes);
    pthread_mutex_lock(&pool->mu);
    if (!pool->detached && pool->nfree < POOL_KEEP) {
        pool->free[pool->nfree++] = b;
        b = NULL;
    } else {
        pool->live--;
        gone = pool->detached && pool->live == 0;
    }
    pthread_mutex_unlock(&pool->mu);
    if (b)
        free_buffer(b);
    if (gone)
        pool_free(pool);
}

void
df_pool_attach(struct df_layout *layout)
{
    struct df_pool *pool = xcalloc(1, sizeof(*pool));

    pthread_mutex_init(&pool->mu, NULL);
    pool->free = xmalloc(POOL_KEEP * sizeof(*pool->free));
    layout->pool = pool;
}

void
df_pool_detach(struct df_layout *layout)
{
    struct df_pool *pool = layout->pool;
    bool gone;

    if (!pool)
        return;
    pthread_mutex_lock(&pool->mu);
    pool->detached = true;
    pool->live -= pool->nfree;
    gone = pool->live == 0;
    pthread_mutex_unlock(&pool->mu);
    /* Buffers still out will free the pool when they come back. */
    if (gone) {
        pool_free(pool);
    } else {
        for (size_t i = 0; i < pool->nfree; i++)
            free_buffer(pool->free[i]);
        pool->nfree = 0;
    }
}

/* ---- string bytes ---- */

static void
hold_block(struct df_bytes *h, struct df_block *k)
{
    XGROW(h->v, h->n + 1, h->cap);
    h->v[h->n++] = k;
}

char *
df_buffer_bytes(struct df_buffer *b, size_t n)
{
    struct df_bytes *h = b->bytes;
    struct df_block *k = h->cur;
    char *p;

    h->made += n;
    if (!k || k->size - k->used < n) {
        size_t size = n > BLOCK_MIN ? n : BLOCK_MIN;

        if (size < h->want)
            size = h->want;
        k = block_get(size);
        hold_block(h, k);
        h->cur = k;
    }
    p = k->data + k->used;
    k->used += n;
    return p;
}

void
df_buffer_share_bytes(struct df_buffer *dst, const struct df_buffer *src)
{
    struct df_bytes *d = dst->bytes;

    for (size_t i = 0; i < src->bytes->n; i++) {
        struct df_block *k = src->bytes->v[i];
        bool held = false;
        for (size_t j = d->n; j-- > 0 && !held;)
            held = d->v[j] == k;
        if (held)
            continue;
        __atomic_add_fetch(&k->refs, 1, __ATOMIC_RELAXED);
        hold_block(d, k);
    }
}

void
df_buffer_set_str(struct df_buffer *b, int slot, size_t row, const char *s,
                  size_t len)
{
    struct expr_sv *v = b->cols[slot].data;
    char *p = len ? df_buffer_bytes(b, len) : NULL;

    if (len)
        memcpy(p, s, len);
    v[row].p = p ? p : "";
    v[row].len = len;
    b->cols[slot].nulls[row] = 0;
}

/* ---- rows ---- */

size_t
df_buffer_room(const struct df_buffer *b)
{
    return b->layout->max_rows - b->nrows;
}

static void
copy_cell(char *dst, const char *src, size_t w)
{
    switch (w) {
    case 1:
        *dst = *src;
        break;
    case 2:
        memcpy(dst, src, 2);
        break;
    case 4:
        memcpy(dst, src, 4);
        break;
    case 8:
        memcpy(dst, src, 8);
        break;
    case 16:
        memcpy(dst, src, 16);
        break;
    default:
        memcpy(dst, src, w);
    }
}

void
df_buffer_copy_rows(struct df_buffer *dst, const struct df_buffer *src,
                    const uint32_t *rows, size_t n)
{
    const struct df_layout *l = dst->layout;
    bool strings = false;

    W_ASSERT(src->layout->nslots == l->nslots && n <= df_buffer_room(dst));
    for (size_t s = 0; s < l->nslots; s++) {
        size_t w = df_type_width(l->types[s].dt);
        char *dd = (char *)dst->cols[s].data + dst->nrows * w;
        const char *sd = src->cols[s].data;
        uint8_t *dn = dst->cols[s].nulls + dst->nrows;
        strings |= is_bytes(l->types[s].dt);
        for (size_t i = 0; i < n; i++) {
            copy_cell(dd + i * w, sd + (size_t)rows[i] * w, w);
            dn[i] = src->cols[s].nulls[rows[i]];
        }
    }
    dst->nrows += n;
    if (strings)
        df_buffer_share_bytes(dst, src);
}

void
df_buffer_own(struct df_buffer **bp)
{
    struct df_buffer *b = *bp, *c;
    uint32_t *rows;

    if (__atomic_load_n(&b->refs, __ATOMIC_ACQUIRE) == 1)
        return;
    c = df_buffer_new_like(b);
    rows = xmalloc((b->nrows + 1) * sizeof(*rows));
    for (size_t i = 0; i < b->nrows; i++)
        rows[i] = (uint32_t)i;
    df_buffer_copy_rows(c, b, rows, b->nrows);
    free(rows);
    df_buffer_unref(b);
    *bp = c;
}

void
df_buffer_drop_rows(struct df_buffer *b, const uint8_t *drop)
{
    const struct df_layout *l = b->layout;
    size_t kept = 0;

    for (size_t s = 0; s < l->nslots; s++) {
        size_t w = df_type_width(l->types[s].dt);
        char *d = b->cols[s].data;
        uint8_t *nl = b->cols[s].nulls;
        kept = 0;
        for (size_t i = 0; i < b->nrows; i++) {
            if (drop[i])
                continue;
            if (kept != i) {
                memcpy(d + kept * w, d + i * w, w);
                nl[kept] = nl[i];
            }
            kept++;
        }
    }
    if (!l->nslots)
        for (size_t i = 0; i < b->nrows; i++)
            kept += !drop[i];
    b->nrows = kept;
}

struct expr_col
df_buffer_col(const struct df_buffer *b, int slot)
{
    struct expr_col c = {
        .type = b->cols[slot].type,
        .data = b->cols[slot].data,
        .nulls = b->cols[slot].nulls,
    };
    return c;
}

/* ---- values ---- */

size_t
df_utf16_units(const char *p, size_t len)
{
    size_t n = 0, i = 0;

    /* ASCII eight bytes at a time: each byte is one unit. */
    for (uint64_t w; i + 8 <= len; i += 8) {
        memcpy(&w, p + i, 8);
        if (w & UINT64_C(0x8080808080808080))
            break;
        n += 8;
    }
    for (; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        n += (c & 0xC0) != 0x80;
        n += c >= 0xF0;
    }
    return n;
}

size_t
df_utf16_cut(const char *p, size_t len, size_t max)
{
    size_t n = 0, i = 0;

    for (; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c & 0xC0) != 0x80 && (n += 1 + (c >= 0xF0)) > max)
            break;
    }
    return i;
}

/* Whether string `v` fits the slot's declared length. */
static int
check_length(const struct expr_type *t, const struct expr_sv *v,
             struct werr *err)
{
    size_t n;

    if (t->length <= 0 || (t->dt != EXPR_DT_STR && t->dt != EXPR_DT_WSTR &&
                           t->dt != EXPR_DT_BYTES))
        return 0;
    n = t->dt == EXPR_DT_WSTR ? df_utf16_units(v->p, v->len) : v->len;
    if (n <= (size_t)t->length)
        return 0;
    return werr_set(err, WERR_INVALID,
                    "the value is %zu long and the column holds %d", n,
                    (int)t->length);
}

static void
store(struct df_buffer *b, int slot, size_t row, const struct expr_value *v)
{
    struct df_vec *c = &b->cols[slot];

    switch (c->type.dt) {
    case EXPR_DT_BOOL: ((uint8_t *)c->data)[row] = v->v.b; break;
    case EXPR_DT_I1: ((int8_t *)c->data)[row] = (int8_t)v->v.i; break;
    case EXPR_DT_I2: ((int16_t *)c->data)[row] = (int16_t)v->v.i; break;
    case EXPR_DT_I4: ((int32_t *)c->data)[row] = (int32_t)v->v.i; break;
    case EXPR_DT_I8:
    case EXPR_DT_CY: ((int64_t *)c->data)[row] = v->v.i; break;
    case EXPR_DT_UI1: ((uint8_t *)c->data)[row] = (uint8_t)v->v.u; break;
    case EXPR_DT_UI2: ((uint16_t *)c->data)[row] = (uint16_t)v->v.u; break;
    case EXPR_DT_UI4: ((uint32_t *)c->data)[row] = (uint32_t)v->v.u; break;
    case EXPR_DT_UI8: ((uint64_t *)c->data)[row] = v->v.u; break;
    case EXPR_DT_R4: ((float *)c->data)[row] = (float)v->v.r; break;
    case EXPR_DT_R8: ((double *)c->data)[row] = v->v.r; break;
    case EXPR_DT_NUMERIC:
    case EXPR_DT_DECIMAL: ((expr_i128 *)c->data)[row] = v->v.dec; break;
    case EXPR_DT_DBTIMESTAMPOFFSET:
        ((struct expr_dto *)c->data)[row] = v->v.dto;
        break;
    case EXPR_DT_GUID: ((struct expr_guid *)c->data)[row] = v->v.guid; break;
    default:
        if (is_bytes(c->type.dt))
            df_buffer_set_str(b, slot, row, v->v.s.p, v->v.s.len);
        else
            ((int64_t *)c->data)[row] = v->v.t;
    }
    c->nulls[row] = 0;
}

static bool
same_repr(const struct expr_type *a, const struct expr_type *b)
{
    if (a->dt != b->dt)
        return is_bytes(a->dt) && is_bytes(b->dt);
    return (a->dt != EXPR_DT_NUMERIC && a->dt != EXPR_DT_DECIMAL) ||
           a->scale == b->scale;
}

int
df_buffer_set_value(struct df_buffer *b, int slot, size_t row,
                    const struct expr_value *v, struct werr *err)
{
    const struct expr_type *t = &b->cols[slot].type;
    struct expr_value conv;
    char text[128], *big = NULL;
    size_t n;
    int rc;

    if (v->null) {
        df_buffer_set_null(b, slot, row);
        return 0;
    }
    if (same_repr(&v->type, t)) {
        if (is_bytes(t->dt) && check_length(t, &v->v.s, err) < 0)
            return -1;
        store(b, slot, row, v);
        return 0;
    }
    /* Another type: through its text, with the rules of a cast. */
    if (is_bytes(v->type.dt) && v->type.dt != EXPR_DT_BYTES &&
        v->type.dt != EXPR_DT_IMAGE) {
        rc = expr_value_parse(v->v.s.p, v->v.s.len, t, &conv, err);
    } else {
        n = expr_value_format(v, text, sizeof(text));
        if (n >= sizeof(text)) {
            big = xmalloc(n + 1);
            expr_value_format(v, big, n + 1);
        }
        rc = expr_value_parse(big ? big : text, n, t, &conv, err);
    }
    if (rc == 0 && is_bytes(t->dt))
        rc = check_length(t, &conv.v.s, err);
    if (rc == 0)
        store(b, slot, row, &conv);
    free(big);
    return rc;
}

void
df_buffer_set_null(struct df_buffer *b, int slot, size_t row)
{
    struct df_vec *v = &b->cols[slot];
    size_t w = df_type_width(v->type.dt);

    if (is_bytes(v->type.dt)) {
        struct expr_sv *sv = &((struct expr_sv *)v->data)[row];
        sv->p = "";
        sv->len = 0;
    } else {
        memset((char *)v->data + row * w, 0, w);
    }
    v->nulls[row] = 1;
}
