/*
 * Lookup (Microsoft.Lookup).  Full cache: the reference query (SqlCommand)
 * is read once, before the first row, into columnar buffers of the
 * component's own, and a hash table over its join columns answers every
 * input row.
 *
 * Join columns are the input columns with JoinToReferenceColumn; the
 * reference's join columns are fetched in the input columns' types, so
 * keys compare as typed values, bytes for bytes (strings are compared
 * exactly, with case and trailing spaces, as SSIS's full cache does).
 * In the full cache a NULL key matches a NULL reference key, as in SSIS.
 * When the reference holds a key twice, the first row read wins (SSIS
 * warns; with TreatDuplicateKeysAsError it fails).
 *
 * A matching row gets the CopyFromReferenceColumn values, into the match
 * output's new columns or over read-write input columns.  A row without
 * a match goes to the No Match output (NoMatchBehavior 1) or is a row
 * error (NoMatchBehavior 0) handled by the match output's error
 * disposition: fail, ignore (the row goes on with NULLs) or redirect.
 *
 * Partial and no cache (CacheType 1, 2) query the database for each row
 * instead (lookup_query.c).  With the cache connection manager
 * (ConnectionType 1) the reference is a cache a Cache Transform filled
 * (lookup_cache.c).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "dataflow/cache.h"
#include "dataflow/lookup_int.h"
#include "base/banned.h"

#define REF_ROWS 4096

/* The match output is the Lookup's first output that is not its error
 * output, the no match output its second (the order SSIS writes). */
static void
find_outputs(struct df_component *c, struct lk_state *s)
{
    for (size_t i = 0; i < c->noutputs; i++) {
        struct df_output *o = &c->outputs[i];
        if (o->is_error)
            continue;
        if (!s->match)
            s->match = o;
        else if (!s->nomatch)
            s->nomatch = o;
    }
}

/* ---- hashing typed values ---- */

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;

    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * UINT64_C(1099511628211);
    return h;
}

static bool
is_var(enum expr_dt dt)
{
    return dt == EXPR_DT_STR || dt == EXPR_DT_WSTR || dt == EXPR_DT_TEXT ||
           dt == EXPR_DT_NTEXT || dt == EXPR_DT_BYTES || dt == EXPR_DT_IMAGE;
}

static uint64_t
hash_cell(uint64_t h, const struct df_vec *v, size_t row)
{
    if (v->nulls[row])
        return fnv(h, "\0N", 2);
    if (is_var(v->type.dt)) {
        const struct expr_sv *s = &((const struct expr_sv *)v->data)[row];
        h = fnv(h, &s->len, sizeof(s->len));
        return fnv(h, s->p, s->len);
    }
    size_t w = df_type_width(v->type.dt);
    return fnv(h, (const char *)v->data + row * w, w);
}

static bool
cell_equal(const struct df_vec *a, size_t ra, const struct df_vec *b,
           size_t rb)
{
    if (a->nulls[ra] || b->nulls[rb])
        return a->nulls[ra] && b->nulls[rb];
    if (is_var(a->type.dt)) {
        const struct expr_sv *x = &((const struct expr_sv *)a->data)[ra];
        const struct expr_sv *y = &((const struct expr_sv *)b->data)[rb];
        return x->len == y->len && !memcmp(x->p, y->p, x->len);
    }
    size_t w = df_type_width(a->type.dt);
    return !memcmp((const char *)a->data + ra * w,
                   (const char *)b->data + rb * w, w);
}

static uint64_t
row_hash(const struct lk_state *s, const struct df_buffer *b, size_t row,
         bool ref)
{
    uint64_t h = UINT64_C(14695981039346656037);

    for (size_t k = 0; k < s->nkeys; k++)
        h = hash_cell(h, &b->cols[ref ? s->keys[k].ref_slot : s->keys[k].slot],
                      row);
    return h;
}

/* The reference entry matching row `row` of input buffer `b`, or 0. */
static uint64_t
probe(const struct lk_state *s, const struct df_buffer *b, size_t row)
{
    for (size_t i = row_hash(s, b, row, false) & (s->cap - 1);;
         i = (i + 1) & (s->cap - 1)) {
        uint64_t e = s->table[i];
        if (!e)
            return 0;
        const struct df_buffer *rb = s->bufs[(e - 1) >> 32];
        size_t rr = (uint32_t)(e - 1), k = 0;
        while (k < s->nkeys &&
               cell_equal(&b->cols[s->keys[k].slot], row,
                          &rb->cols[s->keys[k].ref_slot], rr))
            k++;
        if (k == s->nkeys)
            return e;
    }
}

/* Adds reference row `row` of buffer `bi`; false if its key is there. */
static bool
insert(struct lk_state *s, size_t bi, size_t row)
{
    const struct df_buffer *b = s->bufs[bi];

    for (size_t i = row_hash(s, b, row, true) & (s->cap - 1);;
         i = (i + 1) & (s->cap - 1)) {
        uint64_t e = s->table[i];
        if (!e) {
            s->table[i] = ((uint64_t)bi << 32 | row) + 1;
            return true;
        }
        const struct df_buffer *rb = s->bufs[(e - 1) >> 32];
        size_t rr = (uint32_t)(e - 1), k = 0;
        while (k < s->nkeys &&
               cell_equal(&b->cols[s->keys[k].ref_slot], row,
                          &rb->cols[s->keys[k].ref_slot], rr))
            k++;
        if (k == s->nkeys)
            return false;
    }
}

/* ---- setting up ---- */

static const char *
col_prop(const struct df_column *col, const char *name)
{
    const char *v = df_prop(col->props, col->nprops, name);

    return v && *v ? v : NULL;
}

/* Collects join and copy columns; the reference layout holds the keys
 * (input types) then the copies (output types). */
static int
collect_columns(struct df_component *c, struct lk_state *s, struct werr *err)
{
    struct df_input *in = &c->inputs[0];
    size_t n = in->ncolumns + (s->match ? s->match->ncolumns : 0);
    const char *v;

    s->keys = xcalloc(n + 1, sizeof(*s->keys));
    s->copies = xcalloc(n + 1, sizeof(*s->copies));
    s->ref_layout.types = xcalloc(n + 1, sizeof(struct expr_type));
    for (size_t i = 0; i < in->ncolumns; i++) {
        struct df_column *col = &in->columns[i];
        if ((v = col_prop(col, "JoinToReferenceColumn")))
            s->keys[s->nkeys++] =
                (struct lk_col){v, col->slot, 0, col->id, false};
    }
    if (s->nkeys == 0)
        return werr_set(err, WERR_INVALID, "no input column is joined to a "
                                           "reference column");
    /* The reference keys take the types of the join columns. */
    for (size_t i = 0, k = 0; i < in->ncolumns; i++)
        if (col_prop(&in->columns[i], "JoinToReferenceColumn")) {
            s->keys[k].ref_slot = (int)k;
            s->ref_layout.types[k++] = in->columns[i].type;
        }
    for (size_t i = 0; i < in->ncolumns; i++) {
        struct df_column *col = &in->columns[i];
        if ((v = col_prop(col, "CopyFromReferenceColumn"))) {
            s->ref_layout.types[s->nkeys + s->ncopies] = col->type;
            s->copies[s->ncopies] = (struct lk_col){
                v, col->slot, (int)(s->nkeys + s->ncopies), col->id, true};
            s->ncopies++;
        }
    }
    for (size_t i = 0; s->match && i < s->match->ncolumns; i++) {
        struct df_column *col = &s->match->columns[i];
        if (!(v = col_prop(col, "CopyFromReferenceColumn")))
            return werr_set(err, WERR_INVALID,
                            "output column '%s' has no "
                            "CopyFromReferenceColumn",
                            col->name);
        s->ref_layout.types[s->nkeys + s->ncopies] = col->type;
        s->copies[s->ncopies] = (struct lk_col){
            v, col->slot, (int)(s->nkeys + s->ncopies), col->id, false};
        s->ncopies++;
    }
    s->ref_layout.nslots = s->nkeys + s->ncopies;
    s->ref_layout.max_rows = REF_ROWS;
    return 0;
}

int
lk_bind_ref(struct df_cursor *cur, const struct lk_col *cols, size_t n,
            const struct df_layout *l, const char *sql, struct werr *err)
{
    for (size_t i = 0; i < n; i++) {
        size_t k = 0, nc = df_cursor_ncols(cur);
        while (k < nc && strcasecmp(df_cursor_col(cur, k)->name,
                                    cols[i].ref_name))
            k++;
        if (k == nc)
            return werr_set(err, WERR_INVALID,
                            "reference column '%s' is not in the result of "
                            "'%s'",
                            cols[i].ref_name, sql);
        df_cursor_bind(cur, k, cols[i].ref_slot, &l->types[cols[i].ref_slot]);
    }
    return 0;
}

/* Reads the reference rows into s->bufs. */
static int
load_reference(struct df_odbc *db, const char *sql, struct lk_state *s,
               struct werr *err)
{
    struct df_cursor *cur = df_cursor_open(db, sql, NULL, 0, 0, err);
    size_t cap = 0;
    long n;
    int rc = -1;

    if (!cur)
        return werr_prefix(err, "reference query '%s'", sql);
    if (lk_bind_ref(cur, s->keys, s->nkeys, &s->ref_layout, sql, err) < 0 ||
        lk_bind_ref(cur, s->copies, s->ncopies, &s->ref_layout, sql, err) < 0)
        goto out;
    for (;;) {
        struct df_buffer *b = df_buffer_new(&s->ref_layout);
        n = df_cursor_fetch(cur, b, err);
        if (n <= 0) {
            df_buffer_unref(b);
            break;
        }
        if (s->nbufs == cap) {
            cap = cap ? cap * 2 : 8;
            s->bufs = xrealloc(s->bufs, cap * sizeof(*s->bufs));
        }
        s->bufs[s->nbufs++] = b;
    }
    rc = n < 0 ? -1 : 0;
out:
    df_cursor_free(cur);
    return rc;
}

static int
build_table(struct df_exec *x, struct df_component *c, struct lk_state *s,
            struct werr *err)
{
    size_t rows = 0, dups = 0;
    bool dup_error = df_prop_bool(c->props, c->nprops,
                                  "TreatDuplicateKeysAsError", false);

    for (size_t i = 0; i < s->nbufs; i++)
        rows += s->bufs[i]->nrows;
    for (s->cap = 16; s->cap < rows * 2; s->cap *= 2)
        ;
    s->table = xcalloc(s->cap, sizeof(*s->table));
    for (size_t i = 0; i < s->nbufs; i++)
        for (size_t r = 0; r < s->bufs[i]->nrows; r++)
            dups += !insert(s, i, r);
    if (dups && dup_error)
        return werr_set(err, WERR_INVALID,
                        "the reference has %zu duplicate keys", dups);
    if (dups)
        df_event(x, c, DF_EV_WARNING,
                 "the reference has %zu duplicate keys: the first row of "
                 "each is used",
                 dups);
    df_event(x, c, DF_EV_INFORMATION, "%zu reference rows cached", rows);
    return 0;
}

/* Full cache: the reference query read once into s->bufs. */
static int
open_full(struct df_exec *x, struct df_component *c, struct lk_state *s,
          const char *sql, struct werr *err)
{
    struct df_odbc *db = NULL;
    const char *odbc;
    int rc = -1;

    if (df_db_conn(x, c, &odbc, err) < 0 ||
        !(db = df_odbc_connect(odbc, err)))
        goto out;
    if (load_reference(db, sql, s, err) < 0 || build_table(x, c, s, err) < 0)
        goto out;
    rc = 0;
out:
    df_odbc_close(db);
    return rc;
}

static int
lk_pre_execute(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct lk_state *s = xcalloc(1, sizeof(*s));
    const char *sql = df_prop(c->props, c->nprops, "SqlCommand");
    int64_t cache = df_prop_int(c->props, c->nprops, "CacheType", 0);
    int64_t conn = df_prop_int(c->props, c->nprops, "ConnectionType", 0);
    int rc = -1;

    c->state = s;
    find_outputs(c, s);
    s->to_nomatch = df_prop_int(c->props, c->nprops, "NoMatchBehavior", 0) == 1;
    s->disp = s->match && s->match->error_disp != DF_DISP_NOT_USED
                  ? s->match->error_disp
                  : DF_DISP_FAIL;
    if (!s->match || (s->to_nomatch && !s->nomatch)) {
        werr_set(err, WERR_INVALID, "the match or no match output is missing");
        goto out;
    }
    if (conn != 0 && conn != 1) {
        werr_set(err, WERR_INVALID, "ConnectionType %lld is neither 0 (OLE "
                 "DB) nor 1 (cache)", (long long)conn);
        goto out;
    }
    if (conn == 0 && (!sql || !*sql)) {
        werr_set(err, WERR_INVALID, "SqlCommand is empty");
        goto out;
    }
    if (c->ninputs != 1 || collect_columns(c, s, err) < 0)
        goto out;
    if (conn == 1)
        rc = lk_cache_open(x, c, s, err);
    else if (cache == 1 || cache == 2)
        rc = lk_query_open(x, c, s, (int)cache, err);
    else
        rc = open_full(x, c, s, sql, err);
out:
    return rc < 0 ? werr_prefix(err, "component '%s'", c->name) : 0;
}

/* ---- rows ---- */

void
lk_copy_row(const struct lk_state *s, struct df_buffer *b, size_t row,
            const struct df_buffer *rb, size_t rr)
{
    for (size_t i = 0; i < s->ncopies; i++) {
        const struct df_vec *src = &rb->cols[s->copies[i].ref_slot];
        struct df_vec *dst = &b->cols[s->copies[i].slot];
        dst->nulls[row] = src->nulls[rr];
        if (src->nulls[rr])
            continue;
        if (is_var(src->type.dt)) {
            const struct expr_sv *sv = &((const struct expr_sv *)src->data)[rr];
            df_buffer_set_str(b, s->copies[i].slot, row, sv->p, sv->len);
        } else {
            size_t w = df_type_width(src->type.dt);
            memcpy((char *)dst->data + row * w,
                   (const char *)src->data + rr * w, w);
        }
    }
}

/* Sends the rows of `b` that `pick` marks with `want` to `out`. */
static int
send_rows(struct df_exec *x, struct df_output *out, const struct df_buffer *b,
          const uint8_t *pick, uint8_t want, struct werr *err)
{
    struct df_buffer *o = df_buffer_new_like(b);
    uint32_t *rows = xmalloc((b->nrows ? b->nrows : 1) * sizeof(*rows));
    size_t n = 0;

    for (size_t r = 0; r < b->nrows; r++)
        if (pick[r] == want)
            rows[n++] = (uint32_t)r;
    df_buffer_copy_rows(o, b, rows, n);
    free(rows);
    if (n == 0) {
        df_buffer_unref(o);
        return 0;
    }
    return df_send(x, out, o, err);
}

static void
grow_scratch(struct lk_state *s, size_t n)
{
    if (n <= s->scratch_rows)
        return;
    s->scratch_rows = n;
    s->miss = xrealloc(s->miss, n);
    s->errs = xrealloc(s->errs, n * sizeof(*s->errs));
    s->cols = xrealloc(s->cols, n * sizeof(*s->cols));
}

static int
route(struct df_exec *x, struct df_component *c, struct lk_state *s,
      struct df_buffer *b, size_t misses, struct werr *err)
{
    if (misses == 0)
        return df_send(x, s->match, b, err);
    if (s->to_nomatch) {
        if (misses == b->nrows)
            return df_send(x, s->nomatch, b, err);
        int rc = send_rows(x, s->match, b, s->miss, 0, err);
        if (rc == 0)
            rc = send_rows(x, s->nomatch, b, s->miss, 1, err);
        df_buffer_unref(b);
        return rc;
    }
    for (size_t r = 0; r < b->nrows; r++) {
        s->errs[r] = s->miss[r] ? DF_E_NO_MATCH : 0;
        s->cols[r] = s->miss[r] ? s->keys[0].id : 0;
    }
    if (df_row_errors(x, c, &b, s->errs, s->cols, s->disp, err) < 0) {
        df_buffer_unref(b);
        return -1;
    }
    return df_send(x, s->match, b, err);
}

static int
lk_process(struct df_exec *x, struct df_component *c, struct df_input *in,
           struct df_buffer *b, struct werr *err)
{
    struct lk_state *s = c->state;
    size_t misses = 0;

    df_buffer_own(&b);
    grow_scratch(s, b->nrows);
    for (size_t r = 0; r < b->nrows; r++) {
        int hit;
        if (s->query) {
            if ((hit = lk_query_row(s, b, r, err)) < 0) {
                df_buffer_unref(b);
                return werr_prefix(err, "component '%s'", c->name);
            }
        } else if (s->cache) {
            const struct df_buffer *rb;
            size_t rr;
            if ((hit = df_cache_find(s->cache, b, r, s->cache_keys, &rb,
                                     &rr)))
                lk_copy_row(s, b, r, rb, rr);
        } else {
            uint64_t e = probe(s, b, r);
            if ((hit = e != 0))
                lk_copy_row(s, b, r, s->bufs[(e - 1) >> 32],
                            (uint32_t)(e - 1));
        }
        s->miss[r] = !hit;
        if (hit)
            continue;
        misses++;
        for (size_t i = 0; i < s->ncopies; i++)
            if (!s->copies[i].over_input)
                b->cols[s->copies[i].slot].nulls[r] = 1;
    }
    return route(x, c, s, b, misses, err);
}

static void
lk_cleanup(struct df_exec *x, struct df_component *c)
{
    struct lk_state *s = c->state;

    if (!s)
        return;
    for (size_t i = 0; i < s->nbufs; i++)
        df_buffer_unref(s->bufs[i]);
    lk_query_free(s->query);
    lk_cache_close(s);
    free(s->bufs);
    free(s->table);
    free(s->keys);
    free(s->copies);
    free(s->ref_layout.types);
    free(s->miss);
    free(s->errs);
    free(s->cols);
    free(s);
    c->state = NULL;
}

static int
lk_post_execute(struct df_exec *x, struct df_component *c, bool failed,
                struct werr *err)
{
    struct lk_state *s = c->state;

    (void)failed;
    (void)err;
    if (s && s->query)
        lk_query_report(x, c, s->query);
    return 0;
}

/* Validation checks a Lookup from a cache connection manager against the
 * cache's columns; database Lookups are checked when they connect. */
static int
lk_validate(struct df_exec *x, struct df_component *c, struct wbuf *problems)
{
    struct lk_state s = {0};
    struct werr err = {0};
    int rc = 0;

    if (df_prop_int(c->props, c->nprops, "ConnectionType", 0) != 1)
        return 0;
    find_outputs(c, &s);
    if (c->ninputs != 1)
        werr_set(&err, WERR_INVALID, "it needs one input");
    else if (collect_columns(c, &s, &err) == 0 &&
             lk_cache_check(x, c, &s, &err) == 0)
        goto out;
    if (err.code != WERR_UNAVAILABLE) { /* a host without caches */
        wbuf_addf(problems, NULL, "component '%s': %s\n", c->name, err.msg);
        rc = 1;
    }
out:
    lk_cache_close(&s);
    free(s.keys);
    free(s.copies);
    free(s.ref_layout.types);
    return rc;
}

const struct df_component_ops df_lookup_ops = {
    .class_id = "Microsoft.Lookup",
    .validate = lk_validate,
    .pre_execute = lk_pre_execute,
    .process = lk_process,
    .post_execute = lk_post_execute,
    .cleanup = lk_cleanup,
};
