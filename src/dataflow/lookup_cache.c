/*
 * Lookup from a Cache connection manager (ConnectionType 1): the
 * reference rows are the cache's (cache.h), filled by a Cache Transform
 * earlier in the run or loaded from the manager's file, and the join
 * columns are its index columns.  As in SSIS this is always a full
 * cache: the rows are in memory before the first input row.
 *
 * Every index column must be joined by exactly one input column, and no
 * other column may be; join and copied columns must have their cache
 * column's type (the values are compared and copied as they are).
 * Copied columns read the cache's buffers directly, so nothing is
 * copied when the Lookup starts.
 */
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "dataflow/cache.h"
#include "dataflow/lookup_int.h"
#include "base/banned.h"

static int
type_error(const struct df_cache_col *cc, const struct expr_type *t,
           const char *what, const char *name, struct werr *err)
{
    char want[64], got[64];

    expr_type_format(&cc->type, want, sizeof(want));
    expr_type_format(t, got, sizeof(got));
    return werr_set(err, WERR_INVALID, "%s '%s' is %s, cache column '%s' "
                    "is %s", what, name, got, cc->name, want);
}

/* The cache column reference column `ref` names, or -1 with `err`. */
static int
cache_column(const struct df_cache_def *d, const char *ref,
             struct werr *err)
{
    int i = df_cache_def_find(d, ref);

    if (i < 0)
        werr_set(err, WERR_INVALID, "reference column '%s' is not a column "
                 "of the cache", ref);
    return i;
}

static int
bind_keys(const struct df_cache_def *d, struct lk_state *s, struct werr *err)
{
    s->cache_keys = xmalloc(d->nindex * sizeof(*s->cache_keys));
    for (size_t i = 0; i < d->nindex; i++)
        s->cache_keys[i] = -1;
    for (size_t k = 0; k < s->nkeys; k++) {
        const struct lk_col *key = &s->keys[k];
        const struct expr_type *t = &s->ref_layout.types[key->ref_slot];
        int i = cache_column(d, key->ref_name, err);
        if (i < 0)
            return -1;
        if (!d->cols[i].index)
            return werr_set(err, WERR_INVALID, "reference column '%s' is "
                            "not an index column of the cache: a Lookup "
                            "from a cache joins on its index columns",
                            d->cols[i].name);
        if (!df_cache_type_ok(&d->cols[i], t))
            return type_error(&d->cols[i], t, "join column",
                              key->ref_name, err);
        if (s->cache_keys[d->cols[i].index - 1] >= 0)
            return werr_set(err, WERR_INVALID, "index column '%s' is "
                            "joined twice", d->cols[i].name);
        s->cache_keys[d->cols[i].index - 1] = key->slot;
    }
    for (size_t i = 0; i < d->ncols; i++)
        if (d->cols[i].index && s->cache_keys[d->cols[i].index - 1] < 0)
            return werr_set(err, WERR_INVALID, "index column '%s' of the "
                            "cache is joined to no input column",
                            d->cols[i].name);
    return 0;
}

/* Copied columns read the cache's buffers: their ref_slot becomes the
 * cache column's. */
static int
bind_copies(const struct df_cache_def *d, struct lk_state *s,
            struct werr *err)
{
    for (size_t k = 0; k < s->ncopies; k++) {
        struct lk_col *cp = &s->copies[k];
        const struct expr_type *t = &s->ref_layout.types[cp->ref_slot];
        int i = cache_column(d, cp->ref_name, err);
        if (i < 0)
            return -1;
        if (!df_cache_type_ok(&d->cols[i], t))
            return type_error(&d->cols[i], t, "copied column",
                              cp->ref_name, err);
        cp->ref_slot = i;
    }
    return 0;
}

/* The Lookup's cache, its columns bound (see lk_cache_check). */
static struct df_cache *
bind(struct df_exec *x, struct df_component *c, struct lk_state *s,
     const char **file, struct werr *err)
{
    const struct df_cache_def *def;
    int64_t type = df_prop_int(c->props, c->nprops, "CacheType", 0);
    struct df_cache *k;

    if (type != 0)
        return werr_set(err, WERR_INVALID, "a Lookup from a cache "
                        "connection manager must use the full cache "
                        "(CacheType 0, not %lld)", (long long)type), NULL;
    if (!(k = df_cache_of(x, c, &def, file, err)) ||
        bind_keys(def, s, err) < 0 || bind_copies(def, s, err) < 0)
        return NULL;
    return k;
}

int
lk_cache_check(struct df_exec *x, struct df_component *c, struct lk_state *s,
               struct werr *err)
{
    const char *file;

    return bind(x, c, s, &file, err) ? 0 : -1;
}

int
lk_cache_open(struct df_exec *x, struct df_component *c, struct lk_state *s,
              struct werr *err)
{
    const char *file;
    struct df_cache *k = bind(x, c, s, &file, err);

    if (!k || df_cache_read_begin(k, file, err) < 0)
        return -1; /* s->cache stays NULL: nothing to end */
    s->cache = k;
    df_event(x, c, DF_EV_INFORMATION, "%zu reference rows in the cache "
             "'%s'", df_cache_rows(k), df_cache_name(k));
    return 0;
}

void
lk_cache_close(struct lk_state *s)
{
    if (s->cache)
        df_cache_read_end(s->cache);
    s->cache = NULL;
    free(s->cache_keys);
    s->cache_keys = NULL;
}
