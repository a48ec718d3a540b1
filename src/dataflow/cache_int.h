/*
 * Inside the cache (cache.c, the rows; cache_file.c, the file): the
 * store itself and what the file code needs of it.
 */
#ifndef WEIR_DATAFLOW_CACHE_INT_H
#define WEIR_DATAFLOW_CACHE_INT_H

#include "dataflow/cache.h"

#define DF_CACHE_ROWS 4096 /* rows per buffer of a cache */

enum df_cache_state { DF_CACHE_EMPTY, DF_CACHE_FILLING, DF_CACHE_FILLED };

struct df_cache {
    char *name; /* the manager's, for messages */
    struct df_cache_def def;
    struct df_layout layout; /* the columns' types; no pool */
    int *keys;               /* the index columns' slots, in key order */
    struct df_buffer **bufs;
    size_t nbufs, cap_bufs;
    uint64_t *table; /* (buffer << 32 | row) + 1; 0 is free */
    size_t cap;      /* a power of two, or 0 */
    size_t nrows;
    enum df_cache_state state;
    bool from_file; /* filled by a Lookup loading the file */
    int readers;  /* Lookups between read_begin and read_end */
    char *writer; /* the component filling it, or NULL */
};

/* Strings and binaries: stored as views, compared by their bytes. */
bool df_cache_is_var(enum expr_dt dt);
/* A new empty buffer at the end of k->bufs. */
struct df_buffer *df_cache_append(struct df_cache *k);
/* Indexes the last row of the last buffer: -1 (and it is not counted)
 * when its key is there already. */
int df_cache_index_last(struct df_cache *k);
/* Fills an empty cache from the file at `path` (cache_file.c); on error
 * the cache is left empty. */
int df_cache_load(struct df_cache *k, const char *path, struct werr *err);

#endif
