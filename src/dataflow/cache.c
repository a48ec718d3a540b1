/*
 * The Cache connection manager's definition and rows (cache.h).
 *
 * Rows are kept in columnar buffers of the cache's own layout (no pool:
 * they outlive the data flow that filled them), CACHE_ROWS rows each, and
 * an open-addressing hash table over the index columns points at them as
 * (buffer << 32 | row) + 1, 0 marking a free entry.  The table is built
 * while the rows arrive, so a duplicate key is refused at the row that
 * brings it.
 *
 * The definition is read leniently: attributes in the DTS namespace or
 * none, or DTS:Property children, for the manager (UseFile, ReadOnly) and
 * for each CacheColumn element (Name, DataType as a DT code or name,
 * Length, Precision, Scale, CodePage, IndexPosition) at any depth below
 * the manager's ObjectData element.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "base/xalloc.h"
#include "dataflow/cache_int.h"
#include "base/banned.h"

#define NS_DTS "www.microsoft.com/SqlServer/Dts"

/* Slot creation and every state change of every cache. */
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- the definition ---- */

/* Attribute `name` of `n` (DTS namespace or none), or the text of a
 * DTS:Property child called `name`; caller frees. */
static char *
attr(const xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetNsProp(n, (const xmlChar *)name,
                              (const xmlChar *)NS_DTS);
    char *s;

    if (!v)
        v = xmlGetNoNsProp(n, (const xmlChar *)name);
    for (const xmlNode *c = n->children; !v && c; c = c->next) {
        xmlChar *pn;
        if (c->type != XML_ELEMENT_NODE ||
            strcmp((const char *)c->name, "Property"))
            continue;
        pn = xmlGetNsProp(c, (const xmlChar *)"Name",
                          (const xmlChar *)NS_DTS);
        if (pn && !strcmp((const char *)pn, name))
            v = xmlNodeGetContent(c);
        xmlFree(pn);
    }
    if (!v)
        return NULL;
    s = xstrdup((const char *)v);
    xmlFree(v);
    return s;
}

/* -1 absent; 0/1 for false/true; -2 anything else. */
static int
attr_bool(const xmlNode *n, const char *name)
{
    char *s = attr(n, name);
    int v = !s                                                   ? -1
            : !strcasecmp(s, "true") || !strcmp(s, "-1") ||
                      !strcmp(s, "1")                            ? 1
            : !strcasecmp(s, "false") || !strcmp(s, "0") || !*s ? 0
                                                                 : -2;

    free(s);
    return v;
}

/* Integer attribute `name`: `dflt` when absent; -1 with `err` when it is
 * not a number in [lo, hi]. */
static int
attr_int(const xmlNode *n, const char *name, long lo, long hi, long dflt,
         long *out, struct werr *err)
{
    char *s = attr(n, name), *end;
    long v = dflt;

    if (s && *s) {
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || *end || v < lo || v > hi) {
            werr_set(err, WERR_INVALID, "%s '%s' is not a number from %ld "
                     "to %ld", name, s, lo, hi);
            free(s);
            return -1;
        }
    }
    free(s);
    *out = v;
    return 0;
}

static int
read_type(const xmlNode *n, struct expr_type *t, struct werr *err)
{
    char *s = attr(n, "DataType"), *end;
    long v, len, prec, scale, cp;
    enum expr_dt dt;
    int rc = -1;

    if (!s || !*s) {
        werr_set(err, WERR_INVALID, "it has no DataType");
        goto out;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (!errno && !*end && v > 0 && v < 1000 && strcmp(expr_dt_name(
                                     (enum expr_dt)v), "DT_?"))
        dt = (enum expr_dt)v;
    else if (expr_dt_from_name(s, strlen(s), &dt) < 0 &&
             expr_dt_from_pipeline(s, &dt) < 0) {
        werr_set(err, WERR_INVALID, "DataType '%s' is not a type", s);
        goto out;
    }
    if (dt == EXPR_DT_TEXT || dt == EXPR_DT_NTEXT || dt == EXPR_DT_IMAGE) {
        werr_set(err, WERR_INVALID, "%s cannot be cached (the Cache "
                 "connection manager takes no BLOB types)", expr_dt_name(dt));
        goto out;
    }
    if (attr_int(n, "Length", 0, INT32_MAX, 0, &len, err) < 0 ||
        attr_int(n, "Precision", 0, 38, 0, &prec, err) < 0 ||
        attr_int(n, "Scale", 0, 38, 0, &scale, err) < 0 ||
        attr_int(n, "CodePage", 0, 65535, 0, &cp, err) < 0)
        goto out;
    *t = (struct expr_type){dt, (int32_t)len, (uint8_t)prec, (uint8_t)scale,
                            (uint16_t)cp};
    rc = 0;
out:
    free(s);
    return rc;
}

static int
read_column(const xmlNode *n, struct df_cache_col *c, struct werr *err)
{
    long index;

    if (!(c->name = attr(n, "Name")) && !(c->name = attr(n, "ObjectName")) &&
        !(c->name = attr(n, "ColumnName")))
        return werr_set(err, WERR_INVALID, "a column has no Name");
    if (read_type(n, &c->type, err) < 0 ||
        attr_int(n, "IndexPosition", 0, 4096, 0, &index, err) < 0)
        return werr_prefix(err, "column '%s'", c->name);
    c->index = (int)index;
    return 0;
}

static bool
is_column(const xmlNode *n)
{
    return n->type == XML_ELEMENT_NODE &&
           !strcmp((const char *)n->name, "CacheColumn");
}

/* Reads the CacheColumn elements below `n`, depth first. */
static int
read_columns(const xmlNode *n, struct df_cache_def *d, size_t *cap,
             struct werr *err)
{
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!is_column(c)) {
            if (read_columns(c, d, cap, err) < 0)
                return -1;
            continue;
        }
        XGROW(d->cols, d->ncols + 1, *cap);
        memset(&d->cols[d->ncols], 0, sizeof(d->cols[0]));
        if (read_column(c, &d->cols[d->ncols++], err) < 0)
            return -1;
    }
    return 0;
}

/* Index positions must be 1..nindex, each once. */
static int
check_index(struct df_cache_def *d, struct werr *err)
{
    for (size_t i = 0; i < d->ncols; i++)
        d->nindex += d->cols[i].index > 0;
    if (!d->nindex)
        return werr_set(err, WERR_INVALID, "no column has an IndexPosition "
                        "(the index columns are the lookup's keys)");
    for (size_t i = 0; i < d->ncols; i++) {
        if ((size_t)d->cols[i].index > d->nindex)
            return werr_set(err, WERR_INVALID, "column '%s' has "
                            "IndexPosition %d but there are %zu index "
                            "columns", d->cols[i].name, d->cols[i].index,
                            d->nindex);
        for (size_t k = 0; k < i; k++)
            if (d->cols[i].index && d->cols[k].index == d->cols[i].index)
                return werr_set(err, WERR_INVALID, "columns '%s' and '%s' "
                                "have the same IndexPosition %d",
                                d->cols[k].name, d->cols[i].name,
                                d->cols[i].index);
    }
    return 0;
}

int
df_cache_def_read(const struct pkg_connection *cm, struct df_cache_def *d,
                  struct werr *err)
{
    const xmlNode *n = cm->object_data;
    size_t cap = 0;
    int rc = -1;

    memset(d, 0, sizeof(*d));
    if (!n) {
        werr_set(err, WERR_INVALID, "it has no cache definition "
                 "(DTS:ObjectData)");
        goto out;
    }
    d->use_file = attr_bool(n, "UseFile") == 1;
    d->read_only = attr_bool(n, "ReadOnly") == 1;
    if (read_columns(n, d, &cap, err) < 0)
        goto out;
    if (!d->ncols) {
        werr_set(err, WERR_INVALID, "it has no columns");
        goto out;
    }
    rc = check_index(d, err);
out:
    if (rc < 0) {
        df_cache_def_release(d);
        werr_prefix(err, "cache connection manager '%s'", cm->name);
    }
    return rc;
}

void
df_cache_def_release(struct df_cache_def *d)
{
    for (size_t i = 0; i < d->ncols; i++)
        free(d->cols[i].name);
    free(d->cols);
    memset(d, 0, sizeof(*d));
}

int
df_cache_def_find(const struct df_cache_def *d, const char *name)
{
    for (size_t i = 0; i < d->ncols; i++)
        if (!strcmp(d->cols[i].name, name))
            return (int)i;
    for (size_t i = 0; i < d->ncols; i++)
        if (!strcasecmp(d->cols[i].name, name))
            return (int)i;
    return -1;
}

bool
df_cache_type_ok(const struct df_cache_col *c, const struct expr_type *t)
{
    if (c->type.dt != t->dt)
        return false;
    if (t->dt == EXPR_DT_NUMERIC || t->dt == EXPR_DT_DECIMAL ||
        t->dt == EXPR_DT_DBTIME2 || t->dt == EXPR_DT_DBTIMESTAMP2 ||
        t->dt == EXPR_DT_DBTIMESTAMPOFFSET)
        return c->type.scale == t->scale;
    return true;
}

/* ---- the store ---- */

static struct df_cache *
cache_new(const struct pkg_connection *cm, struct werr *err)
{
    struct df_cache *k = xcalloc(1, sizeof(*k));

    if (df_cache_def_read(cm, &k->def, err) < 0) {
        free(k);
        return NULL;
    }
    k->name = xstrdup(cm->name);
    k->layout.nslots = k->def.ncols;
    k->layout.max_rows = DF_CACHE_ROWS;
    k->layout.types = xcalloc(k->def.ncols, sizeof(*k->layout.types));
    k->keys = xcalloc(k->def.nindex, sizeof(*k->keys));
    for (size_t i = 0; i < k->def.ncols; i++) {
        k->layout.types[i] = k->def.cols[i].type;
        if (k->def.cols[i].index)
            k->keys[k->def.cols[i].index - 1] = (int)i;
    }
    return k;
}

/* Drops the rows (the cache becomes empty). */
static void
clear(struct df_cache *k)
{
    for (size_t i = 0; i < k->nbufs; i++)
        df_buffer_unref(k->bufs[i]);
    free(k->bufs);
    free(k->table);
    k->bufs = NULL;
    k->table = NULL;
    k->nbufs = k->cap_bufs = k->cap = k->nrows = 0;
    k->state = DF_CACHE_EMPTY;
    k->from_file = false;
}

void
df_cache_free(struct df_cache *k)
{
    if (!k)
        return;
    clear(k);
    df_cache_def_release(&k->def);
    free(k->layout.types);
    free(k->keys);
    free(k->name);
    free(k->writer);
    free(k);
}

size_t
df_cache_rows(const struct df_cache *k)
{
    return k->nrows;
}

const char *
df_cache_name(const struct df_cache *k)
{
    return k->name;
}

struct df_cache *
df_cache_of(struct df_exec *x, struct df_component *c,
            const struct df_cache_def **def, const char **file,
            struct werr *err)
{
    struct df_conn conn = {0};
    struct df_cache *k = NULL;

    if (!c->nconnections)
        return werr_set(err, WERR_INVALID, "it has no cache connection "
                        "manager"), NULL;
    if (df_connection(x, c, c->connections[0].name, &conn, err) < 0)
        return NULL;
    if (strcasecmp(conn.cm->creation_name, "CACHE"))
        return werr_set(err, WERR_INVALID, "connection manager '%s' is a "
                        "%s manager, not a Cache connection manager",
                        conn.cm->name, conn.cm->creation_name), NULL;
    if (!conn.cache)
        return werr_set(err, WERR_UNAVAILABLE, "this run keeps no cache "
                        "for connection manager '%s'", conn.cm->name), NULL;
    pthread_mutex_lock(&cache_mu);
    if (!*conn.cache)
        *conn.cache = cache_new(conn.cm, err);
    k = *conn.cache;
    pthread_mutex_unlock(&cache_mu);
    if (!k)
        return NULL;
    *def = &k->def;
    *file = conn.string ? conn.string : "";
    return k;
}

/* ---- keys ---- */

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;

    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * UINT64_C(1099511628211);
    return h;
}

bool
df_cache_is_var(enum expr_dt dt)
{
    return dt == EXPR_DT_STR || dt == EXPR_DT_WSTR || dt == EXPR_DT_TEXT ||
           dt == EXPR_DT_NTEXT || dt == EXPR_DT_BYTES || dt == EXPR_DT_IMAGE;
}

static uint64_t
hash_key(const struct df_buffer *b, size_t row, const int *slots, size_t n)
{
    uint64_t h = UINT64_C(14695981039346656037);

    for (size_t i = 0; i < n; i++) {
        const struct df_vec *v = &b->cols[slots[i]];
        if (v->nulls[row]) {
            h = fnv(h, "\0N", 2);
        } else if (df_cache_is_var(v->type.dt)) {
            const struct expr_sv *s = &((const struct expr_sv *)v->data)[row];
            h = fnv(h, &s->len, sizeof(s->len));
            h = fnv(h, s->p, s->len);
        } else {
            size_t w = df_type_width(v->type.dt);
            h = fnv(h, (const char *)v->data + row * w, w);
        }
    }
    return h;
}

static bool
same_key(const struct df_buffer *a, size_t ra, const int *sa,
         const struct df_buffer *b, size_t rb, const int *sb, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct df_vec *x = &a->cols[sa[i]], *y = &b->cols[sb[i]];
        if (x->nulls[ra] || y->nulls[rb]) {
            if (!(x->nulls[ra] && y->nulls[rb]))
                return false;
        } else if (df_cache_is_var(x->type.dt)) {
            const struct expr_sv *p = &((const struct expr_sv *)x->data)[ra];
            const struct expr_sv *q = &((const struct expr_sv *)y->data)[rb];
            if (p->len != q->len || memcmp(p->p, q->p, p->len))
                return false;
        } else {
            size_t w = df_type_width(x->type.dt);
            if (memcmp((const char *)x->data + ra * w,
                       (const char *)y->data + rb * w, w))
                return false;
        }
    }
    return true;
}

/* The table entry of the key of row `row` of `b` (slots `slots`): the
 * index of the entry holding it, or of the free entry where it goes. */
static size_t
slot_of(const struct df_cache *k, const struct df_buffer *b, size_t row,
        const int *slots)
{
    size_t n = k->def.nindex;

    for (size_t i = hash_key(b, row, slots, n) & (k->cap - 1);;
         i = (i + 1) & (k->cap - 1)) {
        uint64_t e = k->table[i];
        if (!e || same_key(b, row, slots, k->bufs[(e - 1) >> 32],
                           (uint32_t)(e - 1), k->keys, n))
            return i;
    }
}

static void
grow_table(struct df_cache *k)
{
    uint64_t *old = k->table;
    size_t ocap = k->cap;

    k->cap = k->cap ? k->cap * 2 : 1024;
    k->table = xcalloc(k->cap, sizeof(*k->table));
    for (size_t i = 0; i < ocap; i++) {
        uint64_t e = old[i];
        if (e)
            k->table[slot_of(k, k->bufs[(e - 1) >> 32], (uint32_t)(e - 1),
                             k->keys)] = e;
    }
    free(old);
}

bool
df_cache_find(const struct df_cache *k, const struct df_buffer *b,
              size_t row, const int *keys, const struct df_buffer **rb,
              size_t *rr)
{
    uint64_t e;

    if (!k->cap)
        return false;
    if (!(e = k->table[slot_of(k, b, row, keys)]))
        return false;
    *rb = k->bufs[(e - 1) >> 32];
    *rr = (uint32_t)(e - 1);
    return true;
}

int
df_cache_index_last(struct df_cache *k)
{
    struct df_buffer *b = k->bufs[k->nbufs - 1];
    size_t row = b->nrows - 1, i;

    if ((k->nrows + 1) * 2 > k->cap)
        grow_table(k);
    i = slot_of(k, b, row, k->keys);
    if (k->table[i])
        return -1;
    k->table[i] = ((uint64_t)(k->nbufs - 1) << 32 | row) + 1;
    k->nrows++;
    return 0;
}

struct df_buffer *
df_cache_append(struct df_cache *k)
{
    XGROW(k->bufs, k->nbufs + 1, k->cap_bufs);
    return k->bufs[k->nbufs++] = df_buffer_new(&k->layout);
}

/* A buffer with room for one more row, at the end of k->bufs. */
static struct df_buffer *
tail(struct df_cache *k)
{
    if (!k->nbufs || !df_buffer_room(k->bufs[k->nbufs - 1]))
        return df_cache_append(k);
    return k->bufs[k->nbufs - 1];
}

/* ---- filling and reading ---- */

static void
copy_cell(struct df_buffer *dst, int ds, size_t dr,
          const struct df_buffer *src, int ss, size_t sr)
{
    const struct df_vec *v;
    size_t w;

    if (ss < 0 || src->cols[ss].nulls[sr]) {
        df_buffer_set_null(dst, ds, dr);
        return;
    }
    v = &src->cols[ss];
    if (df_cache_is_var(v->type.dt)) {
        const struct expr_sv *s = &((const struct expr_sv *)v->data)[sr];
        df_buffer_set_str(dst, ds, dr, s->p, s->len);
        return;
    }
    w = df_type_width(v->type.dt);
    memcpy((char *)dst->cols[ds].data + dr * w,
           (const char *)v->data + sr * w, w);
    dst->cols[ds].nulls[dr] = 0;
}

/* "id = 7, code = 'x'" for the key of row `row` of `b`. */
static void
key_text(const struct df_cache *k, const struct df_buffer *b, size_t row,
         char *out, size_t size)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < k->def.nindex && used + 1 < size; i++) {
        struct expr_col col = df_buffer_col(b, k->keys[i]);
        struct expr_value v;
        char text[64];
        expr_col_value(&col, row, &v);
        expr_value_format(&v, text, sizeof(text));
        used += (size_t)snprintf(out + used, size - used, "%s%s = %s",
                                 i ? ", " : "",
                                 k->def.cols[k->keys[i]].name, text);
    }
}

int
df_cache_fill_begin(struct df_cache *k, const char *who, struct werr *err)
{
    int rc = 0;

    pthread_mutex_lock(&cache_mu);
    if (k->state == DF_CACHE_FILLING)
        rc = werr_set(err, WERR_INVALID, "the cache '%s' is being filled by "
                      "component '%s'", k->name, k->writer);
    else if (k->readers)
        rc = werr_set(err, WERR_INVALID, "the cache '%s' is being read by "
                      "a Lookup", k->name);
    else if (k->state == DF_CACHE_FILLED)
        rc = werr_set(err, WERR_INVALID, "the cache '%s' was already %s in "
                      "this run (a cache is written once per run, as in "
                      "SSIS)", k->name, k->from_file ? "loaded from its file"
                                                      : "filled");
    if (rc == 0) {
        clear(k);
        k->state = DF_CACHE_FILLING;
        free(k->writer);
        k->writer = xstrdup(who);
    }
    pthread_mutex_unlock(&cache_mu);
    return rc;
}

int
df_cache_fill_row(struct df_cache *k, const struct df_buffer *b, size_t row,
                  const int *slots, struct werr *err)
{
    struct df_buffer *t = tail(k);
    size_t r = t->nrows++;
    char text[200];

    for (size_t i = 0; i < k->def.ncols; i++)
        copy_cell(t, (int)i, r, b, slots[i], row);
    if (df_cache_index_last(k) == 0)
        return 0;
    key_text(k, t, r, text, sizeof(text));
    t->nrows--;
    return werr_set(err, WERR_INVALID, "the cache '%s' already contains a "
                    "row with the index values %s (index values must be "
                    "unique)", k->name, text);
}

void
df_cache_fill_end(struct df_cache *k, bool ok)
{
    pthread_mutex_lock(&cache_mu);
    if (ok) {
        k->state = DF_CACHE_FILLED;
    } else {
        clear(k);
    }
    pthread_mutex_unlock(&cache_mu);
}

int
df_cache_read_begin(struct df_cache *k, const char *path, struct werr *err)
{
    int rc = 0;

    pthread_mutex_lock(&cache_mu);
    if (k->state == DF_CACHE_FILLING)
        rc = werr_set(err, WERR_INVALID, "the cache '%s' is being filled by "
                      "component '%s'", k->name, k->writer);
    else if (k->state == DF_CACHE_EMPTY && (!k->def.use_file || !*path))
        rc = werr_set(err, WERR_INVALID, "the cache '%s' is empty: no Cache "
                      "Transform has filled it in this run%s", k->name,
                      k->def.use_file ? " and it names no file" : "");
    else if (k->state == DF_CACHE_EMPTY &&
             (rc = df_cache_load(k, path, err)) < 0)
        clear(k);
    else if (k->state == DF_CACHE_EMPTY)
        k->from_file = true;
    if (rc == 0) {
        k->state = DF_CACHE_FILLED;
        k->readers++;
    }
    pthread_mutex_unlock(&cache_mu);
    return rc;
}

void
df_cache_read_end(struct df_cache *k)
{
    pthread_mutex_lock(&cache_mu);
    k->readers--;
    pthread_mutex_unlock(&cache_mu);
}
