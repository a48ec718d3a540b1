/*
 * Sort (Microsoft.Sort): an asynchronous component that holds every row,
 * orders them by the input columns' NewSortKeyPosition (1, 2, ...;
 * negative for descending) and emits them on its output, whose columns
 * copy the input columns their SortColumnId names.  EliminateDuplicates
 * keeps the first row of each set of rows with equal sort keys.  The
 * sort is stable: rows with equal keys leave in the order they arrived.
 *
 * Rows are encoded as records (the key fields first, then the output
 * fields: a NULL byte, then the value, strings as a length and bytes), so
 * input buffers are released at once and memory is counted exactly.
 * Once the records pass the memory budget (WEIR_DF_SORT_MEMORY bytes,
 * 256 MiB by default) they are sorted and written to a temporary file as
 * a run; at the end the runs and the rows still in memory are merged
 * through a heap.  NULL sorts before every value, as in SSIS.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "dataflow/sortrec.h"
#include "dataflow/xform.h"
#include "base/banned.h"

#define SORT_DEFAULT_MEMORY ((size_t)256 << 20)

struct sort_run {
    FILE *f;
};

struct sort_src {
    FILE *f;         /* NULL for the in-memory run */
    char *buf;       /* a file run's current record */
    size_t cap, pos; /* in-memory run: the next index in offs */
    const char *cur; /* the current record's fields, NULL at the end */
    size_t idx;      /* for stability: runs in arrival order */
};

struct sort {
    struct df_sortrec rec;
    bool dedup;
    struct df_output *out;
    size_t budget;
    char *mem;
    size_t len, cap;
    size_t *offs;
    size_t noffs, offcap;
    struct sort_run *runs;
    size_t nruns;
};

static size_t
sort_budget(void)
{
    const char *s = getenv("WEIR_DF_SORT_MEMORY");
    char *end;
    unsigned long long v;

    if (!s || !*s)
        return SORT_DEFAULT_MEMORY;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s)
        return SORT_DEFAULT_MEMORY;
    if (*end == 'k' || *end == 'K')
        v <<= 10;
    else if (*end == 'm' || *end == 'M')
        v <<= 20;
    else if (*end == 'g' || *end == 'G')
        v <<= 30;
    return v ? (size_t)v : 1;
}

static void
sort_free(struct sort *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; i < s->nruns; i++)
        if (s->runs[i].f)
            fclose(s->runs[i].f);
    free(s->runs);
    free(s->mem);
    free(s->offs);
    df_sortrec_release(&s->rec);
    free(s);
}

static struct sort *
sort_build(struct df_component *c, struct werr *err)
{
    struct sort *s = xcalloc(1, sizeof(*s));

    if (c->ninputs != 1 || !(s->out = df_main_output(c))) {
        werr_set(err, WERR_INVALID, "expects one input and one output");
        goto fail;
    }
    if (df_sortrec_init(&s->rec, &c->inputs[0], s->out, "SortColumnId", err) <
        0)
        goto fail;
    if (s->rec.nkeys == 0) {
        werr_set(err, WERR_INVALID, "no input column has a NewSortKeyPosition");
        goto fail;
    }
    s->dedup = df_prop_bool(c->props, c->nprops, "EliminateDuplicates", false);
    s->budget = sort_budget();
    return s;
fail:
    sort_free(s);
    return NULL;
}

static int
sort_validate(struct df_exec *x, struct df_component *c, struct wbuf *problems)
{
    struct werr err = {0};
    struct sort *s = sort_build(c, &err);

    (void)x;
    if (!s)
        return df_problem(problems, c, "%s", err.msg);
    sort_free(s);
    return 0;
}

static int
sort_pre_execute(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct sort *s = sort_build(c, err);

    (void)x;
    if (!s)
        return werr_prefix(err, "component '%s'", c->name);
    c->state = s;
    return 0;
}

/* Orders two in-memory records; equal keys keep arrival order. */
static int
cmp_offsets(const void *a, const void *b, void *arg)
{
    const struct sort *s = arg;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = df_sortrec_cmp(&s->rec, s->mem + x + 4, s->mem + y + 4);

    return c ? c : (x > y) - (x < y);
}

static FILE *
temp_file(struct werr *err)
{
    const char *dir = getenv("TMPDIR");
    char *path = xasprintf("%s/weir-sort-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    FILE *f = NULL;

    if (fd < 0) {
        werr_set(err, WERR_IO, "cannot create '%s': %s", path, strerror(errno));
        goto out;
    }
    unlink(path);
    f = fdopen(fd, "w+b");
    if (!f) {
        close(fd);
        werr_set(err, WERR_IO, "fdopen: %s", strerror(errno));
    }
out:
    free(path);
    return f;
}

/* Writes the records in memory, sorted, as a new run. */
static int
spill(struct sort *s, struct werr *err)
{
    FILE *f = temp_file(err);
    size_t i;

    if (!f)
        return -1;
    qsort_r(s->offs, s->noffs, sizeof(*s->offs), cmp_offsets, s);
    for (i = 0; i < s->noffs; i++) {
        const char *r = s->mem + s->offs[i];
        uint32_t n;
        memcpy(&n, r, 4);
        if (fwrite(r, 1, (size_t)n + 4, f) != (size_t)n + 4)
            goto io;
    }
    if (fflush(f) != 0)
        goto io;
    s->runs = xrealloc(s->runs, (s->nruns + 1) * sizeof(*s->runs));
    s->runs[s->nruns++].f = f;
    s->len = 0;
    s->noffs = 0;
    return 0;
io:
    fclose(f);
    return werr_set(err, WERR_IO, "writing a sort run: %s",
                    strerror(errno ? errno : EIO));
}

static int
sort_process(struct df_exec *x, struct df_component *c, struct df_input *in,
             struct df_buffer *b, struct werr *err)
{
    struct sort *s = c->state;
    size_t r;

    (void)x;
    (void)in;
    for (r = 0; r < b->nrows; r++) {
        XGROW(s->offs, s->noffs + 1, s->offcap);
        s->offs[s->noffs++] = s->len;
        df_sortrec_encode(&s->rec, b, r, &s->mem, &s->len, &s->cap);
    }
    df_buffer_unref(b);
    if (s->len + s->noffs * sizeof(size_t) > s->budget && s->noffs)
        return spill(s, err);
    return 0;
}

/* Moves source `src` to its next record; cur is NULL at its end. */
static int
src_next(struct sort *s, struct sort_src *src, struct werr *err)
{
    uint32_t n;

    if (!src->f) {
        src->cur =
            src->pos < s->noffs ? s->mem + s->offs[src->pos++] + 4 : NULL;
        return 0;
    }
    if (fread(&n, 1, 4, src->f) != 4) {
        src->cur = NULL;
        if (ferror(src->f))
            return werr_set(err, WERR_IO, "reading a sort run");
        return 0;
    }
    XGROW(src->buf, (size_t)n + 1, src->cap);
    if (n && fread(src->buf, 1, n, src->f) != n)
        return werr_set(err, WERR_IO, "reading a sort run: truncated");
    src->cur = src->buf;
    return 0;
}

static bool
src_less(const struct sort *s, const struct sort_src *a,
         const struct sort_src *b)
{
    int c = df_sortrec_cmp(&s->rec, a->cur, b->cur);

    return c ? c < 0 : a->idx < b->idx;
}

static void
heap_down(const struct sort *s, struct sort_src **h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        struct sort_src *t;
        if (l < n && src_less(s, h[l], h[m]))
            m = l;
        if (l + 1 < n && src_less(s, h[l + 1], h[m]))
            m = l + 1;
        if (m == i)
            return;
        t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

struct emitter {
    struct df_exec *x;
    struct df_output *out;
    struct df_buffer *b;
    char *last; /* the last row emitted, for EliminateDuplicates */
    size_t last_cap;
    bool have_last;
};

static int
emit(struct sort *s, struct emitter *em, const char *rec, struct werr *err)
{
    struct df_buffer *full;

    if (s->dedup) {
        size_t n = df_sortrec_key_len(&s->rec, rec);
        if (em->have_last && df_sortrec_cmp(&s->rec, em->last, rec) == 0)
            return 0;
        XGROW(em->last, n + 1, em->last_cap);
        memcpy(em->last, rec, n);
        em->have_last = true;
    }
    if (!em->b)
        em->b = df_buffer_new(em->out->layout);
    df_sortrec_decode(&s->rec, rec, em->b, em->b->nrows++);
    if (df_buffer_room(em->b) > 0)
        return 0;
    full = em->b;
    em->b = NULL;
    return df_send(em->x, em->out, full, err);
}

static int
merge(struct sort *s, struct sort_src *srcs, size_t n, struct emitter *em,
      struct werr *err)
{
    struct sort_src **h = xcalloc(n ? n : 1, sizeof(*h));
    size_t i, nh = 0;
    int rc = -1;

    for (i = 0; i < n; i++) {
        if (src_next(s, &srcs[i], err) < 0)
            goto out;
        if (srcs[i].cur)
            h[nh++] = &srcs[i];
    }
    for (i = nh; i-- > 0;)
        heap_down(s, h, nh, i);
    while (nh) {
        if (emit(s, em, h[0]->cur, err) < 0 || src_next(s, h[0], err) < 0)
            goto out;
        if (!h[0]->cur)
            h[0] = h[--nh];
        heap_down(s, h, nh, 0);
    }
    rc = 0;
out:
    free(h);
    return rc;
}

static int
sort_end_of_input(struct df_exec *x, struct df_component *c,
                  struct df_input *in, struct werr *err)
{
    struct sort *s = c->state;
    struct emitter em = {x, s->out, NULL, NULL, 0, false};
    struct sort_src *srcs = xcalloc(s->nruns + 1, sizeof(*srcs));
    size_t i;
    int rc = -1;

    (void)in;
    if (s->nruns)
        df_event(x, c, DF_EV_INFORMATION,
                 "sorted in %zu runs on disk (memory budget %zu bytes)",
                 s->nruns, s->budget);
    qsort_r(s->offs, s->noffs, sizeof(*s->offs), cmp_offsets, s);
    for (i = 0; i < s->nruns; i++) {
        rewind(s->runs[i].f);
        srcs[i].f = s->runs[i].f;
        srcs[i].idx = i;
    }
    srcs[s->nruns].idx = s->nruns;
    if (merge(s, srcs, s->nruns + 1, &em, err) < 0)
        goto out;
    if (em.b && em.b->nrows) {
        rc = df_send(x, s->out, em.b, err);
        em.b = NULL;
        goto out;
    }
    rc = 0;
out:
    if (em.b)
        df_buffer_unref(em.b);
    for (i = 0; i <= s->nruns; i++)
        free(srcs[i].buf);
    free(srcs);
    free(em.last);
    return rc;
}

static void
sort_cleanup(struct df_exec *x, struct df_component *c)
{
    (void)x;
    sort_free(c->state);
    c->state = NULL;
}

const struct df_component_ops df_sort_ops = {
    .class_id = "Microsoft.Sort",
    .validate = sort_validate,
    .pre_execute = sort_pre_execute,
    .process = sort_process,
    .end_of_input = sort_end_of_input,
    .cleanup = sort_cleanup,
};
