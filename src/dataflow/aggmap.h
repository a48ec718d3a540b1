/*
 * A map from byte strings to dense indexes 0, 1, 2... in insertion order
 * (aggmap.c): Aggregate's groups and its count-distinct sets.  Keys are
 * copied into the map's own pool.
 */
#ifndef WEIR_DATAFLOW_AGGMAP_H
#define WEIR_DATAFLOW_AGGMAP_H

#include <stddef.h>
#include <stdint.h>

struct df_aggmap {
    char *pool;
    size_t plen, pcap;
    size_t *koff; /* per index: the key's offset in pool */
    uint32_t *klen;
    uint64_t *khash;
    size_t n, kcap;
    uint32_t *slots; /* index + 1; 0 is empty */
    size_t nslots;   /* a power of two, or 0 */
};

/* The index of `key`, added when absent (then m->n grows by one). */
size_t df_aggmap_put(struct df_aggmap *m, const void *key, size_t len);
/* The key at index `i` (borrowed until the next put). */
const char *df_aggmap_key(const struct df_aggmap *m, size_t i, size_t *len);
/* Frees the map's memory; a zeroed struct is an empty map. */
void df_aggmap_release(struct df_aggmap *m);

#endif
