/*
 * Cache Transform (Microsoft.Cache): puts its input's rows into the Cache
 * connection manager of its connection (cache.h), for Lookups with
 * ConnectionType 1 to read later in the package's run.
 *
 * Each input column feeds one cache column: the one its external
 * metadata column names (as SSIS writes the mapping), else the one its
 * CacheColumnName property names, else the one of its own name.  As in
 * SSIS every cache column must be fed, and types must be the cache
 * column's (validation says which differ).
 *
 * As in SSIS a cache is written once per run: only an empty cache can be
 * filled (a second Cache Transform, or the same one run again in a loop,
 * fails).  It holds the rows once the data flow ended well; a row whose
 * index values the cache already holds fails the component, as in SSIS,
 * and leaves the cache empty.  With UseFile the rows are also
 * written to the manager's file when the data flow ends (ReadOnly
 * managers are never written).
 */
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "dataflow/cache.h"
#include "base/banned.h"

struct cache_state {
    struct df_cache *cache;
    const struct df_cache_def *def;
    const char *file; /* borrowed from the host, valid during the run */
    int *slots;       /* per cache column: the input slot, or -1 */
    bool filling;
    size_t rows;
};

/* The cache column input column `col` of `in` feeds, or -1. */
static int
target(const struct df_cache_def *d, const struct df_input *in,
       const struct df_column *col)
{
    const char *v;

    for (size_t i = 0; col->external_id && i < in->nexternals; i++)
        if (!strcmp(in->externals[i].ref_id, col->external_id))
            return df_cache_def_find(d, in->externals[i].name);
    v = df_prop(col->props, col->nprops, "CacheColumnName");
    return df_cache_def_find(d, v && *v ? v : col->name);
}

/* Maps input columns to cache columns in `slots` (one per cache column,
 * -1 when none); -1 with `err` naming the first problem. */
static int
map_columns(const struct df_cache_def *d, const struct df_input *in,
            int *slots, struct werr *err)
{
    for (size_t i = 0; i < d->ncols; i++)
        slots[i] = -1;
    for (size_t i = 0; i < in->ncolumns; i++) {
        const struct df_column *col = &in->columns[i];
        int t = target(d, in, col);
        char want[64], got[64];
        if (t < 0)
            return werr_set(err, WERR_INVALID, "input column '%s' feeds no "
                            "column of the cache", col->name);
        if (slots[t] >= 0)
            return werr_set(err, WERR_INVALID, "two input columns feed "
                            "cache column '%s'", d->cols[t].name);
        if (!df_cache_type_ok(&d->cols[t], &col->type)) {
            expr_type_format(&d->cols[t].type, want, sizeof(want));
            expr_type_format(&col->type, got, sizeof(got));
            return werr_set(err, WERR_INVALID, "input column '%s' is %s, "
                            "cache column '%s' is %s", col->name, got,
                            d->cols[t].name, want);
        }
        slots[t] = col->slot;
    }
    for (size_t i = 0; i < d->ncols; i++)
        if (slots[i] < 0)
            return werr_set(err, WERR_INVALID, "no input column feeds cache "
                            "column '%s' (each cache column needs one, as "
                            "in SSIS)", d->cols[i].name);
    return 0;
}

static int
cache_validate(struct df_exec *x, struct df_component *c,
               struct wbuf *problems)
{
    const struct df_cache_def *def;
    const char *file;
    struct werr err = {0};
    int *slots = NULL;
    int rc = 0;

    if (c->ninputs != 1) {
        werr_set(&err, WERR_INVALID, "it needs one input");
    } else if (df_cache_of(x, c, &def, &file, &err)) {
        slots = xcalloc(def->ncols, sizeof(*slots));
        if (map_columns(def, &c->inputs[0], slots, &err) == 0)
            goto out;
    } else if (err.code == WERR_UNAVAILABLE) {
        goto out; /* a host without caches: checked when it runs */
    }
    wbuf_addf(problems, NULL, "component '%s': %s\n", c->name, err.msg);
    rc = 1;
out:
    free(slots);
    return rc;
}

static int
cache_pre_execute(struct df_exec *x, struct df_component *c,
                  struct werr *err)
{
    struct cache_state *s = xcalloc(1, sizeof(*s));
    int rc = -1;

    c->state = s;
    if (c->ninputs != 1) {
        werr_set(err, WERR_INVALID, "it needs one input");
        goto out;
    }
    if (!(s->cache = df_cache_of(x, c, &s->def, &s->file, err)))
        goto out;
    s->slots = xcalloc(s->def->ncols, sizeof(*s->slots));
    if (map_columns(s->def, &c->inputs[0], s->slots, err) < 0)
        goto out;
    /* A file that cannot be written fails now, not after the rows. */
    if (s->def->use_file && !s->def->read_only && *s->file &&
        pkg_path_is_windows(s->file)) {
        werr_set(err, WERR_INVALID, "the cache file '%s' is a Windows "
                 "path: give its Linux path with --connection NAME=PATH",
                 s->file);
        goto out;
    }
    if (df_cache_fill_begin(s->cache, c->name, err) < 0)
        goto out;
    s->filling = true;
    rc = 0;
out:
    return rc < 0 ? werr_prefix(err, "component '%s'", c->name) : 0;
}

static int
cache_process(struct df_exec *x, struct df_component *c, struct df_input *in,
              struct df_buffer *b, struct werr *err)
{
    struct cache_state *s = c->state;
    int rc = 0;

    for (size_t r = 0; r < b->nrows && rc == 0; r++)
        rc = df_cache_fill_row(s->cache, b, r, s->slots, err);
    s->rows += b->nrows;
    df_buffer_unref(b);
    return rc < 0 ? werr_prefix(err, "component '%s'", c->name) : 0;
}

/* The rows stay in the cache only when the whole data flow went well. */
static int
cache_post_execute(struct df_exec *x, struct df_component *c, bool failed,
                   struct werr *err)
{
    struct cache_state *s = c->state;

    if (!s || !s->filling)
        return 0;
    s->filling = false;
    df_cache_fill_end(s->cache, !failed);
    if (failed)
        return 0;
    df_event(x, c, DF_EV_INFORMATION, "cached %zu rows in '%s'",
             df_cache_rows(s->cache), df_cache_name(s->cache));
    if (!s->def->use_file || s->def->read_only || !*s->file)
        return 0;
    if (df_cache_write(s->cache, s->file, err) < 0)
        return werr_prefix(err, "component '%s'", c->name);
    df_event(x, c, DF_EV_INFORMATION, "wrote the cache to '%s'", s->file);
    return 0;
}

static void
cache_cleanup(struct df_exec *x, struct df_component *c)
{
    struct cache_state *s = c->state;

    if (!s)
        return;
    if (s->filling)
        df_cache_fill_end(s->cache, false);
    free(s->slots);
    free(s);
    c->state = NULL;
}

const struct df_component_ops df_cache_ops = {
    .class_id = "Microsoft.Cache",
    .validate = cache_validate,
    .pre_execute = cache_pre_execute,
    .process = cache_process,
    .post_execute = cache_post_execute,
    .cleanup = cache_cleanup,
};
