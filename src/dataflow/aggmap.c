/*
 * Open addressing with linear probing over a power-of-two table kept at
 * most half full; slots hold index + 1, and each key's hash is kept so
 * growing rehashes without reading the keys.
 */
#include <stdlib.h>
#include <string.h>

#include "base/werr.h"
#include "base/xalloc.h"
#include "dataflow/aggmap.h"
#include "base/banned.h"

static uint64_t
hash_bytes(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h ^ (h >> 29);
}

static void
grow(struct df_aggmap *m)
{
    size_t i, ns = m->nslots ? m->nslots * 2 : 64;
    uint32_t *slots = xcalloc(ns, sizeof(*slots));

    for (i = 0; i < m->n; i++) {
        size_t s = m->khash[i] & (ns - 1);
        while (slots[s])
            s = (s + 1) & (ns - 1);
        slots[s] = (uint32_t)(i + 1);
    }
    free(m->slots);
    m->slots = slots;
    m->nslots = ns;
}

static size_t
add(struct df_aggmap *m, const void *key, size_t len, uint64_t h)
{
    size_t i = m->n++;

    if (m->n >= UINT32_MAX)
        W_BUG("more than 2^32 keys");
    if (m->n > m->kcap) {
        m->kcap = m->kcap ? m->kcap * 2 : 64;
        m->koff = xrealloc(m->koff, m->kcap * sizeof(*m->koff));
        m->klen = xrealloc(m->klen, m->kcap * sizeof(*m->klen));
        m->khash = xrealloc(m->khash, m->kcap * sizeof(*m->khash));
    }
    XGROW(m->pool, m->plen + len + 1, m->pcap);
    memcpy(m->pool + m->plen, key, len);
    m->koff[i] = m->plen;
    m->klen[i] = (uint32_t)len;
    m->khash[i] = h;
    m->plen += len;
    return i;
}

size_t
df_aggmap_put(struct df_aggmap *m, const void *key, size_t len)
{
    uint64_t h = hash_bytes(key, len);
    size_t s, i;

    if (2 * (m->n + 1) > m->nslots)
        grow(m);
    for (s = h & (m->nslots - 1); m->slots[s]; s = (s + 1) & (m->nslots - 1)) {
        i = m->slots[s] - 1;
        if (m->khash[i] == h && m->klen[i] == len &&
            memcmp(m->pool + m->koff[i], key, len) == 0)
            return i;
    }
    i = add(m, key, len, h);
    m->slots[s] = (uint32_t)(i + 1);
    return i;
}

const char *
df_aggmap_key(const struct df_aggmap *m, size_t i, size_t *len)
{
    *len = m->klen[i];
    return m->pool + m->koff[i];
}

void
df_aggmap_release(struct df_aggmap *m)
{
    free(m->pool);
    free(m->koff);
    free(m->klen);
    free(m->khash);
    free(m->slots);
    memset(m, 0, sizeof(*m));
}
