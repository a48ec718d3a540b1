/*
 * The Cache connection manager (CreationName "CACHE"): its definition,
 * read from the manager's DTS:ObjectData, and the rows a Cache Transform
 * puts into it for Lookups (ConnectionType 1) to read, in the same data
 * flow's later components or in later data flows of the package.
 *
 * The rows live as long as the package's run: the host keeps the
 * `struct df_cache` in the slot df_conn.cache points to, and frees it
 * when the run ends (dataflow.h).  Within the run a cache is empty,
 * being filled (by one Cache Transform: a failed fill leaves it empty) or
 * filled (read by any number of Lookups, never filled again); the
 * transitions are made under one lock, so data flows that
 * run at the same time cannot fill a cache while another reads it.
 *
 * The index columns (IndexPosition 1, 2, ...) are the key: a cache holds
 * each key once, and a Lookup joins on all of them.  Values are stored
 * in the cache columns' types; NULL is a key value like any other (a
 * NULL key matches a NULL key, as in the Lookup's full cache).
 *
 * With UseFile the cache is also a file (the manager's connection
 * string): the Cache Transform writes it when its data flow ends, and a
 * Lookup reading a cache that is empty in memory loads it first.  The
 * file is weir's own format (docs/dataflow.md, "Cache files"): SSIS's
 * .caw format is undocumented, and weir refuses a file it did not write.
 */
#ifndef WEIR_DATAFLOW_CACHE_H
#define WEIR_DATAFLOW_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "dataflow/df_int.h"

struct df_cache_col {
    char *name;
    struct expr_type type;
    int index; /* IndexPosition: 0 not a key, else 1-based key order */
};

struct df_cache_def {
    struct df_cache_col *cols;
    size_t ncols, nindex;
    bool use_file;  /* UseFile */
    bool read_only; /* ReadOnly: only read from the file, never written */
};

/* Reads manager `cm`'s definition; -1 with WERR_INVALID naming the
 * manager (and the column) when it has none, no column, no index column,
 * a bad type, an index position twice or a BLOB type (DT_TEXT, DT_NTEXT,
 * DT_IMAGE: the Cache manager does not take them, as in SSIS). */
int df_cache_def_read(const struct pkg_connection *cm,
                      struct df_cache_def *d, struct werr *err);
void df_cache_def_release(struct df_cache_def *d);
/* The column called `name` (exact, then ignoring case), or -1. */
int df_cache_def_find(const struct df_cache_def *d, const char *name);
/* Whether a pipeline column of type `t` can be stored in or read from
 * cache column `c` as is: same type code, and for numbers the same scale
 * (strings of any length: they are compared and copied whole). */
bool df_cache_type_ok(const struct df_cache_col *c, const struct expr_type *t);

/* The cache of component `c`'s first connection, with its definition
 * (borrowed from the cache) and its file ("" if none).  The cache is
 * made on first use in the slot the host keeps; -1 with `err` when the
 * component has no connection, it is not a CACHE manager, or the host
 * keeps no cache. */
struct df_cache *df_cache_of(struct df_exec *x, struct df_component *c,
                             const struct df_cache_def **def,
                             const char **file, struct werr *err);

/* Filling (the Cache Transform).  df_cache_fill_begin marks an empty
 * cache being filled by `who`; -1 if another component fills or reads
 * it, or it was filled already (a cache is written once per run).  df_cache_fill_row adds row `row` of `b`, taking cache
 * column i from slot slots[i] of `b` (-1: NULL); -1 with `err` saying
 * the cache already contains its key.  df_cache_fill_end marks it filled
 * (`ok`) or empties it. */
int df_cache_fill_begin(struct df_cache *k, const char *who,
                        struct werr *err);
int df_cache_fill_row(struct df_cache *k, const struct df_buffer *b,
                      size_t row, const int *slots, struct werr *err);
void df_cache_fill_end(struct df_cache *k, bool ok);
/* The rows the cache holds; the name of its connection manager. */
size_t df_cache_rows(const struct df_cache *k);
const char *df_cache_name(const struct df_cache *k);

/* Writes the cache to `path` (a temporary file renamed over it); -1 with
 * `err` naming the file. */
int df_cache_write(const struct df_cache *k, const char *path,
                   struct werr *err);

/* Reading (Lookup).  df_cache_read_begin counts a reader of a filled
 * cache; an empty one is first loaded from `path` when the manager uses
 * a file (`path` non-empty), else it is an error saying no Cache
 * Transform filled it.  Every successful begin needs one end. */
int df_cache_read_begin(struct df_cache *k, const char *path,
                        struct werr *err);
void df_cache_read_end(struct df_cache *k);
/* The cache row whose key equals the values of slots keys[0..nindex) of
 * row `row` of `b` (in index position order): true with *rb, *rr set. */
bool df_cache_find(const struct df_cache *k, const struct df_buffer *b,
                   size_t row, const int *keys,
                   const struct df_buffer **rb, size_t *rr);

#endif
