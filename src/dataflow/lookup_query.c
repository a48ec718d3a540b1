/*
 * Lookup partial cache (CacheType 1) and no cache (CacheType 2): the
 * database answers each row with a parameterised query, so rows written
 * to the reference table while the data flow runs are seen, as in SSIS.
 *
 * The statement: SSIS stores "select * from (SqlCommand) [refTable]
 * where [refTable].[k] = ?" as SqlCommandParam.  When the package's is
 * that one (or empty), weir builds it anew from SqlCommand (a trailing
 * ";" removed, which SQL Server tolerates inside the brackets less than
 * one would think) with names quoted for the target; a statement the
 * package changed is kept, its [bracketed] names rewritten for the target
 * and its markers bound to the input columns ParameterMap lists.
 *
 * Partial cache: entries map the encoded key values to the encoded copied
 * values (a NULL byte, then fixed-width bytes or a 4-byte length and the
 * bytes, per column).  Matches and misses live in two lists, each least
 * recently used first out, bounded by MaxMemoryUsage64 megabytes (as the
 * 64-bit runtime reads it) and the NoMatchCachePercentage share of it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "dataflow/lookup_int.h"
#include "base/banned.h"

struct lk_entry {
    struct lk_entry *chain;      /* same hash bucket */
    struct lk_entry *prev, *next; /* its list, most recent first */
    uint64_t hash;
    bool match;
    size_t klen, vlen, size;
    char data[]; /* key bytes, then value bytes */
};

struct lk_list {
    struct lk_entry *head, *tail;
    size_t bytes, budget;
    /* The most the list held, reported at the end: memory stays within
     * the budget whatever the number of keys. */
    size_t entries, peak_entries, peak_bytes;
};

struct lk_query {
    struct df_odbc *db;
    char *sql;
    int *params; /* input slots bound to the markers, in order */
    size_t nparams;
    bool null_misses; /* the built "=" statement: a NULL key cannot match */
    bool caching;     /* partial cache */
    struct df_layout one; /* the reference layout, one row per buffer */
    struct lk_entry **buckets;
    size_t nbuckets, nentries;
    struct lk_list hits, misses;
    struct wbuf key, val;
    uint64_t queries, answered;
};

/* ---- the statement ---- */

/* SqlCommand without trailing blanks and semicolons (caller frees). */
static char *
trimmed_command(const char *sql)
{
    size_t n = strlen(sql);

    while (n && (strchr(" \t\r\n;", sql[n - 1])))
        n--;
    return xstrndup(sql, n);
}

static int
add_quoted(struct wbuf *b, enum df_db_kind kind, const char *name)
{
    char *q = df_db_quote(kind, name);
    int rc = wbuf_adds(b, q, NULL);

    free(q);
    return rc;
}

/* "SELECT * FROM (cmd) refTable WHERE refTable.k1 = ? AND ..." */
static char *
built_statement(enum df_db_kind kind, const char *cmd,
                const struct lk_state *s)
{
    struct wbuf b;
    char *inner = trimmed_command(cmd);

    wbuf_init(&b, WBUF_NOLIMIT);
    wbuf_addf(&b, NULL, "SELECT * FROM (%s) ", inner);
    add_quoted(&b, kind, "refTable");
    for (size_t k = 0; k < s->nkeys; k++) {
        wbuf_adds(&b, k ? " AND " : " WHERE ", NULL);
        add_quoted(&b, kind, "refTable");
        wbuf_addch(&b, '.', NULL);
        add_quoted(&b, kind, s->keys[k].ref_name);
        wbuf_adds(&b, " = ?", NULL);
    }
    free(inner);
    return wbuf_detach(&b, NULL);
}

/* `sql` with each [name] outside quotes written for `kind` (caller
 * frees); "]]" inside brackets is a "]". */
static char *
rewrite_brackets(enum df_db_kind kind, const char *sql)
{
    struct wbuf b, name;
    char quote = 0;

    wbuf_init(&b, WBUF_NOLIMIT);
    wbuf_init(&name, WBUF_NOLIMIT);
    for (const char *p = sql; *p; p++) {
        if (quote) {
            quote = *p == quote ? 0 : quote;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
        } else if (*p == '[' && kind != DF_DB_SQLSERVER) {
            wbuf_reset(&name);
            for (p++; *p && !(*p == ']' && p[1] != ']'); p++)
                wbuf_addch(&name, *p == ']' ? *p++ : *p, NULL);
            add_quoted(&b, kind, name.buf);
            if (!*p)
                break;
            continue;
        }
        wbuf_addch(&b, *p, NULL);
    }
    wbuf_release(&name);
    return wbuf_detach(&b, NULL);
}

/* Whether `param` is the designer's statement around `cmd`. */
static bool
is_designer_statement(const char *param, const char *cmd)
{
    static const char head[] = "select * from (";

    return !param || !*param ||
           (!strncasecmp(param, head, sizeof(head) - 1) &&
            !strncmp(param + sizeof(head) - 1, cmd, strlen(cmd)));
}

/* The input column whose lineage is `name` (`len` bytes), or NULL. */
static const struct df_column *
input_by_lineage(const struct df_input *in, const char *name, size_t len)
{
    for (size_t i = 0; i < in->ncolumns; i++)
        if (in->columns[i].lineage &&
            strlen(in->columns[i].lineage) == len &&
            !strncmp(in->columns[i].lineage, name, len))
            return &in->columns[i];
    return NULL;
}

/* ParameterMap "#{lineage};#{lineage};" (or "#12;"): the input slots
 * bound to the markers. */
static int
map_params(struct df_component *c, const char *map, struct lk_query *q,
           struct werr *err)
{
    const char *p = map;

    q->params = xcalloc(strlen(map) + 1, sizeof(*q->params));
    for (;;) {
        while (*p == ';')
            p++;
        if (!*p)
            return 0;
        const char *end = strchr(p, ';'), *name = p;
        size_t n = end ? (size_t)(end - p) : strlen(p), len = n;
        if (len >= 3 && name[0] == '#' && name[1] == '{' &&
            name[len - 1] == '}')
            name += 2, len -= 3;
        else if (name[0] == '#')
            name++, len--;
        const struct df_column *col = input_by_lineage(&c->inputs[0], name,
                                                       len);
        if (!col)
            return werr_set(err, WERR_INVALID,
                            "ParameterMap names '%.*s', which is not an "
                            "input column",
                            (int)len, name);
        q->params[q->nparams++] = col->slot;
        p += n;
    }
}

static int
make_statement(struct df_component *c, const struct lk_state *s,
               const char *odbc, struct lk_query *q, struct werr *err)
{
    const char *cmd = df_prop(c->props, c->nprops, "SqlCommand");
    const char *param = df_prop(c->props, c->nprops, "SqlCommandParam");
    const char *map = df_prop(c->props, c->nprops, "ParameterMap");
    enum df_db_kind kind = df_db_kind_of(odbc);

    if (is_designer_statement(param, cmd)) {
        /* Built from the keys, so the keys are its markers. */
        q->sql = built_statement(kind, cmd, s);
        q->null_misses = true;
        map = NULL;
    } else {
        q->sql = rewrite_brackets(kind, param);
    }
    if (map && *map)
        return map_params(c, map, q, err);
    q->params = xcalloc(s->nkeys, sizeof(*q->params));
    for (size_t k = 0; k < s->nkeys; k++)
        q->params[q->nparams++] = s->keys[k].slot;
    return 0;
}

/* ---- the cache ---- */

static bool
is_var(enum expr_dt dt)
{
    return dt == EXPR_DT_STR || dt == EXPR_DT_WSTR || dt == EXPR_DT_TEXT ||
           dt == EXPR_DT_NTEXT || dt == EXPR_DT_BYTES || dt == EXPR_DT_IMAGE;
}

static void
encode_cell(struct wbuf *out, const struct df_vec *v, size_t row)
{
    wbuf_addch(out, (char)v->nulls[row], NULL);
    if (v->nulls[row])
        return;
    if (is_var(v->type.dt)) {
        const struct expr_sv *sv = &((const struct expr_sv *)v->data)[row];
        uint32_t len = (uint32_t)sv->len;
        wbuf_add(out, &len, sizeof(len), NULL);
        wbuf_add(out, sv->p, sv->len, NULL);
        return;
    }
    size_t w = df_type_width(v->type.dt);
    wbuf_add(out, (const char *)v->data + row * w, w, NULL);
}

/* Writes the encoded copied values `p` into row `row` of `b`. */
static void
decode_values(const struct lk_state *s, const char *p, struct df_buffer *b,
              size_t row)
{
    for (size_t i = 0; i < s->ncopies; i++) {
        int slot = s->copies[i].slot;
        struct df_vec *dst = &b->cols[slot];
        if ((dst->nulls[row] = (uint8_t)*p++))
            continue;
        if (is_var(dst->type.dt)) {
            uint32_t len;
            memcpy(&len, p, sizeof(len));
            df_buffer_set_str(b, slot, row, p + sizeof(len), len);
            p += sizeof(len) + len;
        } else {
            size_t w = df_type_width(dst->type.dt);
            memcpy((char *)dst->data + row * w, p, w);
            p += w;
        }
    }
}

static uint64_t
hash_bytes(const char *p, size_t n)
{
    uint64_t h = UINT64_C(14695981039346656037);

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * UINT64_C(1099511628211);
    return h;
}

static void
list_unlink(struct lk_list *l, struct lk_entry *e)
{
    *(e->prev ? &e->prev->next : &l->head) = e->next;
    *(e->next ? &e->next->prev : &l->tail) = e->prev;
    e->prev = e->next = NULL;
}

static void
list_push(struct lk_list *l, struct lk_entry *e)
{
    e->prev = NULL;
    e->next = l->head;
    *(l->head ? &l->head->prev : &l->tail) = e;
    l->head = e;
}

static struct lk_entry *
cache_find(struct lk_query *q, const char *key, size_t klen, uint64_t h)
{
    struct lk_entry *e = q->buckets[h & (q->nbuckets - 1)];

    while (e && !(e->hash == h && e->klen == klen &&
                  !memcmp(e->data, key, klen)))
        e = e->chain;
    return e;
}

static void
cache_remove(struct lk_query *q, struct lk_entry *e)
{
    struct lk_entry **pp = &q->buckets[e->hash & (q->nbuckets - 1)];
    struct lk_list *l = e->match ? &q->hits : &q->misses;

    while (*pp != e)
        pp = &(*pp)->chain;
    *pp = e->chain;
    list_unlink(l, e);
    l->bytes -= e->size;
    l->entries--;
    q->nentries--;
    free(e);
}

static void
cache_grow(struct lk_query *q)
{
    size_t n = q->nbuckets * 2;
    struct lk_entry **b = xcalloc(n, sizeof(*b));

    for (size_t i = 0; i < q->nbuckets; i++)
        for (struct lk_entry *e = q->buckets[i], *next; e; e = next) {
            next = e->chain;
            e->chain = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    free(q->buckets);
    q->buckets = b;
    q->nbuckets = n;
}

/* Keeps the answer for q->key (values in q->val when `match`), evicting
 * the least recently used entries of its list past the list's budget. */
static void
cache_put(struct lk_query *q, uint64_t h, bool match)
{
    struct lk_list *l = match ? &q->hits : &q->misses;
    size_t vlen = match ? q->val.len : 0;
    size_t size = sizeof(struct lk_entry) + q->key.len + vlen +
                  sizeof(void *);
    struct lk_entry *e;

    if (size > l->budget)
        return;
    while (l->bytes + size > l->budget && l->tail)
        cache_remove(q, l->tail);
    e = xmalloc(sizeof(*e) + q->key.len + vlen);
    *e = (struct lk_entry){.hash = h, .match = match, .klen = q->key.len,
                           .vlen = vlen, .size = size};
    memcpy(e->data, q->key.buf, q->key.len);
    memcpy(e->data + q->key.len, q->val.buf, vlen);
    if (q->nentries >= q->nbuckets)
        cache_grow(q);
    e->chain = q->buckets[h & (q->nbuckets - 1)];
    q->buckets[h & (q->nbuckets - 1)] = e;
    list_push(l, e);
    l->bytes += size;
    l->entries++;
    q->nentries++;
    if (l->bytes > l->peak_bytes)
        l->peak_bytes = l->bytes;
    if (l->entries > l->peak_entries)
        l->peak_entries = l->entries;
}

/* ---- opening ---- */

static void
set_budgets(struct df_component *c, struct lk_query *q)
{
    int64_t mb = df_prop_int(c->props, c->nprops, "MaxMemoryUsage64",
                             df_prop_int(c->props, c->nprops,
                                         "MaxMemoryUsage", 25));
    int64_t pct = df_prop_int(c->props, c->nprops, "NoMatchCachePercentage",
                              0);
    size_t total;

    if (mb <= 0)
        mb = 25;
    if (pct < 0 || pct > 100)
        pct = 0;
    total = (size_t)mb << 20;
    q->misses.budget = total / 100 * (size_t)pct;
    q->hits.budget = total - q->misses.budget;
}

int
lk_query_open(struct df_exec *x, struct df_component *c, struct lk_state *s,
              int cache_type, struct werr *err)
{
    struct lk_query *q = xcalloc(1, sizeof(*q));
    const char *odbc;

    s->query = q;
    q->caching = cache_type == 1;
    q->one = s->ref_layout;
    q->one.max_rows = 1;
    q->nbuckets = 64;
    q->buckets = xcalloc(q->nbuckets, sizeof(*q->buckets));
    wbuf_init(&q->key, WBUF_NOLIMIT);
    wbuf_init(&q->val, WBUF_NOLIMIT);
    set_budgets(c, q);
    if (df_db_conn(x, c, &odbc, err) < 0 ||
        make_statement(c, s, odbc, q, err) < 0)
        return -1;
    if (!(q->db = df_odbc_connect(odbc, err)))
        return -1;
    df_event(x, c, DF_EV_INFORMATION, "%s: one query per row: %s",
             q->caching ? "partial cache" : "no cache", q->sql);
    return 0;
}

/* ---- rows ---- */

/* Runs the statement for row `row` of `b` into the one-row buffer `*rb`
 * (NULL when nothing matched). */
static int
run_query(struct lk_state *s, struct lk_query *q, const struct df_buffer *b,
          size_t row, struct df_buffer **rb, struct werr *err)
{
    struct expr_value *vals = xcalloc(q->nparams + 1, sizeof(*vals));
    struct df_cursor *cur = NULL;
    long n = -1;

    *rb = NULL;
    for (size_t i = 0; i < q->nparams; i++) {
        struct expr_col col = df_buffer_col(b, q->params[i]);
        expr_col_value(&col, row, &vals[i]);
    }
    q->queries++;
    if (!(cur = df_cursor_open(q->db, q->sql, vals, q->nparams, 0, err))) {
        werr_prefix(err, "reference query '%s'", q->sql);
        goto out;
    }
    if (lk_bind_ref(cur, s->copies, s->ncopies, &q->one, q->sql, err) < 0)
        goto out;
    *rb = df_buffer_new(&q->one);
    if ((n = df_cursor_fetch(cur, *rb, err)) <= 0) {
        df_buffer_unref(*rb);
        *rb = NULL;
    }
out:
    df_cursor_free(cur);
    free(vals);
    return n < 0 ? -1 : 0;
}

static bool
null_key(const struct lk_query *q, const struct df_buffer *b, size_t row)
{
    for (size_t i = 0; i < q->nparams; i++)
        if (b->cols[q->params[i]].nulls[row])
            return true;
    return false;
}

/* Answers row `row` from the cache: 1 match, 0 miss, -1 not cached. */
static int
from_cache(struct lk_state *s, struct lk_query *q, struct df_buffer *b,
           size_t row, uint64_t *h)
{
    struct lk_entry *e;

    wbuf_reset(&q->key);
    for (size_t i = 0; i < q->nparams; i++)
        encode_cell(&q->key, &b->cols[q->params[i]], row);
    *h = hash_bytes(q->key.buf, q->key.len);
    if (!(e = cache_find(q, q->key.buf, q->key.len, *h)))
        return -1;
    q->answered++;
    list_unlink(e->match ? &q->hits : &q->misses, e);
    list_push(e->match ? &q->hits : &q->misses, e);
    if (e->match)
        decode_values(s, e->data + e->klen, b, row);
    return e->match;
}

int
lk_query_row(struct lk_state *s, struct df_buffer *b, size_t row,
             struct werr *err)
{
    struct lk_query *q = s->query;
    struct df_buffer *rb;
    uint64_t h = 0;
    int hit;

    if (q->null_misses && null_key(q, b, row))
        return 0;
    if (q->caching && (hit = from_cache(s, q, b, row, &h)) >= 0)
        return hit;
    if (run_query(s, q, b, row, &rb, err) < 0)
        return -1;
    if (rb)
        lk_copy_row(s, b, row, rb, 0);
    if (q->caching) {
        wbuf_reset(&q->val);
        for (size_t i = 0; rb && i < s->ncopies; i++)
            encode_cell(&q->val, &rb->cols[s->copies[i].ref_slot], 0);
        cache_put(q, h, rb != NULL);
    }
    hit = rb != NULL;
    df_buffer_unref(rb);
    return hit;
}

void
lk_query_report(struct df_exec *x, struct df_component *c,
                const struct lk_query *q)
{
    if (q->caching)
        df_event(x, c, DF_EV_INFORMATION,
                 "%llu reference queries, %llu rows answered from the "
                 "cache; it held at most %zu matches in %zu of %zu bytes "
                 "and %zu misses in %zu of %zu bytes",
                 (unsigned long long)q->queries,
                 (unsigned long long)q->answered, q->hits.peak_entries,
                 q->hits.peak_bytes, q->hits.budget, q->misses.peak_entries,
                 q->misses.peak_bytes, q->misses.budget);
    else
        df_event(x, c, DF_EV_INFORMATION, "%llu reference queries",
                 (unsigned long long)q->queries);
}

void
lk_query_free(struct lk_query *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->nbuckets; i++)
        for (struct lk_entry *e = q->buckets[i], *next; e; e = next) {
            next = e->chain;
            free(e);
        }
    free(q->buckets);
    df_odbc_close(q->db);
    free(q->sql);
    free(q->params);
    wbuf_release(&q->key);
    wbuf_release(&q->val);
    free(q);
}
