/*
 * Inside the Lookup (comp_lookup.c): what its full cache and its
 * per-row query modes (lookup_query.c: partial and no cache) share.
 *
 * The reference layout holds the join keys first (in the input columns'
 * types) then the copied columns (in their destination columns' types);
 * both modes read reference rows into buffers of that layout and copy
 * values from them with lk_copy_row().
 */
#ifndef WEIR_DATAFLOW_LOOKUP_INT_H
#define WEIR_DATAFLOW_LOOKUP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataflow/db.h"

/* A reference column: join key or copied value. */
struct lk_col {
    const char *ref_name;
    int slot;        /* in the input buffers */
    int ref_slot;    /* in the reference buffers */
    int id;          /* the input column's id (keys, for ErrorColumn) */
    bool over_input; /* a copy over a read-write input column */
};

struct lk_query; /* lookup_query.c */

struct lk_state {
    struct lk_col *keys, *copies;
    size_t nkeys, ncopies;
    struct df_layout ref_layout;
    /* Full cache: the reference rows and a hash table over them. */
    struct df_buffer **bufs;
    size_t nbufs;
    uint64_t *table; /* (buffer << 32 | row) + 1; 0 is empty */
    size_t cap;      /* a power of two */
    /* Partial and no cache: one query per row (NULL in full cache). */
    struct lk_query *query;
    /* A Cache connection manager (ConnectionType 1, lookup_cache.c): the
     * cache being read (NULL otherwise), and the input slots of its index
     * columns in key order. */
    struct df_cache *cache;
    int *cache_keys;
    struct df_output *match, *nomatch;
    bool to_nomatch;
    enum df_disposition disp;
    uint8_t *miss;
    int32_t *errs, *cols;
    size_t scratch_rows;
};

/* Copies the copied columns of reference row `rr` of `rb` into row `row`
 * of `b`. */
void lk_copy_row(const struct lk_state *s, struct df_buffer *b, size_t row,
                 const struct df_buffer *rb, size_t rr);

/* Binds the reference columns `cols` to the result columns of the same
 * name (case-insensitive); -1 with `err` naming a missing one and `sql`. */
int lk_bind_ref(struct df_cursor *cur, const struct lk_col *cols, size_t n,
                const struct df_layout *l, const char *sql,
                struct werr *err);

/*
 * Partial cache (CacheType 1) and no cache (2): opens the component's
 * connection and builds the parameterised reference query.  The query is
 * SqlCommandParam when the package changed it from the designer's
 * "select * from (SqlCommand) [refTable] where [refTable].[k] = ?" (its
 * brackets rewritten for the target, its markers bound from ParameterMap),
 * else that statement built anew from SqlCommand for the target.  Partial
 * cache keeps matches in a cache bounded by MaxMemoryUsage64 (MB), misses
 * in NoMatchCachePercentage of it, least recently used out first.
 */
int lk_query_open(struct df_exec *x, struct df_component *c,
                  struct lk_state *s, int cache_type, struct werr *err);

/* Looks up row `row` of `b`: 1 matched (the copied values are set), 0 no
 * match, -1 with `err`.  A NULL key matches nothing, as the database's
 * "=" does. */
int lk_query_row(struct lk_state *s, struct df_buffer *b, size_t row,
                 struct werr *err);

/* "N queries, M answered from the cache" for the end of the run. */
void lk_query_report(struct df_exec *x, struct df_component *c,
                     const struct lk_query *q);

/* Closes the connection and frees the cache; NULL is a no-op. */
void lk_query_free(struct lk_query *q);

/*
 * Lookup from a Cache connection manager (lookup_cache.c).  lk_cache_check
 * binds the join columns to the cache's index columns (each joined once)
 * and the copied columns to its columns (ref_slot becomes the cache
 * column), checking their types; -1 with `err` naming the column.
 * lk_cache_open does the same then starts reading the cache (loading its
 * file if the manager has one and no Cache Transform filled it);
 * lk_cache_close ends that and frees what the binding allocated.
 */
int lk_cache_check(struct df_exec *x, struct df_component *c,
                   struct lk_state *s, struct werr *err);
int lk_cache_open(struct df_exec *x, struct df_component *c,
                  struct lk_state *s, struct werr *err);
void lk_cache_close(struct lk_state *s);

#endif
