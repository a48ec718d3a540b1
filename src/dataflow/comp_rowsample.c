/*
 * Row Sampling (Microsoft.RowSampling): exactly SamplingValue rows,
 * chosen uniformly at random, go to the selected output (the output whose
 * Selected property is true), every other row to the unselected one;
 * fewer rows than SamplingValue all go to the selected output.
 *
 * Reservoir sampling (Vitter's algorithm R): the first N rows fill the
 * reservoir; row i (0-based) after them replaces a random one of the N
 * with probability N / (i + 1).  A row that does not enter the
 * reservoir, or that a later row evicts, is unselected for good, so it
 * leaves at once: memory holds N rows whatever the input's size.  The
 * selected rows leave at the end of the input, in input order; the
 * unselected ones in the order they were decided, which is not the
 * input's.  Both outputs are asynchronous, as in SSIS: their columns
 * copy the input columns of the same name (or the column their
 * InputColumnLineageId property names).
 *
 * With a SamplingSeed other than 0 the choice is the same on every run
 * (weir's generator, splitmix64, is not SSIS's: the same seed picks
 * other rows than SSIS would); without one, or with 0 (SSIS's default),
 * the clock seeds it.  Rows are held as
 * sortrec.h records of the columns the outputs copy.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "dataflow/sortrec.h"
#include "dataflow/xform.h"
#include "dataflow/xfrow.h"
#include "base/banned.h"

enum { SEL = 0, UNSEL = 1 };

struct kept {
    char *rec; /* a record with its 4-byte length first */
    uint64_t index;
};

struct rowsample {
    struct df_output *out[2];
    struct df_sortrec rec[2]; /* the same fields, each output's slots */
    uint64_t want, seen, state;
    struct kept *res;
    size_t nres, cap;
    char *scratch;
    size_t scratch_cap;
    struct df_emitter em[2];
};

static void
rowsample_free(struct rowsample *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nres; i++)
        free(s->res[i].rec);
    free(s->res);
    free(s->scratch);
    df_sortrec_release(&s->rec[SEL]);
    df_sortrec_release(&s->rec[UNSEL]);
    df_emit_release(&s->em[SEL]);
    df_emit_release(&s->em[UNSEL]);
    free(s);
}

static uint64_t
next(struct rowsample *s)
{
    uint64_t z = (s->state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A uniform integer in [0, n). */
static uint64_t
below(struct rowsample *s, uint64_t n)
{
    __extension__ typedef unsigned __int128 u128;

    return (uint64_t)(((u128)next(s) * n) >> 64);
}

static int
find_outputs(struct df_component *c, struct rowsample *s)
{
    for (size_t i = 0; i < c->noutputs; i++) {
        struct df_output *o = &c->outputs[i];
        if (!o->is_error && !s->out[SEL] &&
            df_prop_bool(o->props, o->nprops, "Selected", false))
            s->out[SEL] = o;
    }
    for (size_t i = 0; i < c->noutputs; i++) {
        struct df_output *o = &c->outputs[i];
        if (o->is_error || o == s->out[SEL])
            continue;
        if (!s->out[SEL])
            s->out[SEL] = o;
        else if (!s->out[UNSEL])
            s->out[UNSEL] = o;
    }
    return s->out[SEL] && c->ninputs == 1 ? 0 : -1;
}

/* The field of both records reading input slot `slot`, added if new. */
static struct df_sortfield *
field_for(struct rowsample *s, int slot, enum expr_dt dt)
{
    struct df_sortrec *r = &s->rec[SEL];
    size_t i;

    for (i = 0; i < r->nf; i++)
        if (r->f[i].slot == slot)
            return &r->f[i];
    for (int k = SEL; k <= UNSEL; k++) {
        struct df_sortfield *f = &s->rec[k].f[i];
        memset(f, 0, sizeof(*f));
        f->slot = slot;
        f->out_slot = -1;
        f->dt = dt;
        f->width = df_type_width(dt);
        f->var = df_dt_is_var(dt);
        s->rec[k].nf++;
    }
    return &r->f[i];
}

static const struct df_column *
source_of(struct df_input *in, const struct df_column *oc)
{
    static const char *const props[] = {"InputColumnLineageId",
                                        "InputColumnLineageID"};

    for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
        const char *ref = df_prop(oc->props, oc->nprops, props[i]);
        if (ref && *ref)
            return df_input_column_by_ref(in, ref);
    }
    return df_visible_column(in, oc->name);
}

/* Maps output `k`'s columns to fields; a synchronous output (a package
 * written that way) copies every slot of the input's buffers. */
static int
map_output(struct rowsample *s, struct df_input *in, int k, struct werr *err)
{
    struct df_output *o = s->out[k];

    if (o->sync_input) {
        const struct df_layout *l = in->from ? in->from->layout : NULL;
        for (size_t j = 0; l && j < l->nslots; j++) {
            struct df_sortfield *f = field_for(s, (int)j, l->types[j].dt);
            s->rec[k].f[f - s->rec[SEL].f].out_slot = (int)j;
        }
        return 0;
    }
    for (size_t j = 0; j < o->ncolumns; j++) {
        const struct df_column *oc = &o->columns[j];
        const struct df_column *ic = source_of(in, oc);
        struct df_sortfield *f;
        if (!ic || ic->slot < 0)
            return werr_set(err, WERR_INVALID,
                            "output '%s': column '%s' "
                            "reads no input column",
                            o->name, oc->name);
        if (ic->type.dt != oc->type.dt)
            return werr_set(err, WERR_INVALID,
                            "output '%s': column '%s' "
                            "is %s, its input column %s",
                            o->name, oc->name, expr_dt_name(oc->type.dt),
                            expr_dt_name(ic->type.dt));
        f = field_for(s, ic->slot, ic->type.dt);
        s->rec[k].f[f - s->rec[SEL].f].out_slot = oc->slot;
    }
    return 0;
}

/* A seed that differs between runs, even two in the same second. */
static uint64_t
clock_seed(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
           ((uint64_t)getpid() << 40);
}

static int
read_props(struct df_component *c, struct rowsample *s, struct werr *err)
{
    const char *v = df_prop(c->props, c->nprops, "SamplingValue");
    const char *seed = df_prop(c->props, c->nprops, "SamplingSeed");
    char *end;
    long long n = 10;

    if (v && *v) {
        errno = 0;
        n = strtoll(v, &end, 10);
        if (errno || *end || n < 0)
            return werr_set(err, WERR_INVALID,
                            "SamplingValue '%s' is not "
                            "a number of rows",
                            v);
    }
    s->want = (uint64_t)n;
    s->state = 0;
    if (seed && *seed) {
        errno = 0;
        s->state = (uint64_t)strtoll(seed, &end, 10);
        if (errno || *end)
            return werr_set(err, WERR_INVALID,
                            "SamplingSeed '%s' is not "
                            "an integer",
                            seed);
    }
    /* 0, the default, asks for the clock, as in SSIS. */
    if (s->state == 0)
        s->state = clock_seed();
    return 0;
}

static struct rowsample *
rowsample_build(struct df_component *c, struct werr *err)
{
    struct rowsample *s = xcalloc(1, sizeof(*s));
    size_t nf;

    if (find_outputs(c, s) < 0) {
        werr_set(err, WERR_INVALID, "expects one input and an output");
        goto fail;
    }
    if (read_props(c, s, err) < 0)
        goto fail;
    nf = c->inputs[0].ncolumns + 1;
    for (int k = SEL; k <= UNSEL; k++) {
        struct df_output *o = s->out[k];
        nf += o ? o->ncolumns + (o->layout ? o->layout->nslots : 0) : 0;
    }
    if (c->inputs[0].from && c->inputs[0].from->layout)
        nf += c->inputs[0].from->layout->nslots;
    s->rec[SEL].f = xcalloc(nf, sizeof(struct df_sortfield));
    s->rec[UNSEL].f = xcalloc(nf, sizeof(struct df_sortfield));
    for (int k = SEL; k <= UNSEL; k++)
        if (s->out[k] && map_output(s, &c->inputs[0], k, err) < 0)
            goto fail;
    return s;
fail:
    rowsample_free(s);
    return NULL;
}

static int
rowsample_validate(struct df_exec *x, struct df_component *c,
                   struct wbuf *problems)
{
    struct werr err = {0};
    struct rowsample *s = rowsample_build(c, &err);

    (void)x;
    if (!s)
        return df_problem(problems, c, "%s", err.msg);
    rowsample_free(s);
    return 0;
}

static int
rowsample_pre_execute(struct df_exec *x, struct df_component *c,
                      struct werr *err)
{
    struct rowsample *s = rowsample_build(c, err);

    if (!s)
        return werr_prefix(err, "component '%s'", c->name);
    for (int k = SEL; k <= UNSEL; k++) {
        s->em[k].x = x;
        s->em[k].out = s->out[k];
    }
    c->state = s;
    return 0;
}

/* Sends record `rec` (after its length) to output `k`. */
static int
emit(struct rowsample *s, int k, const char *rec, struct werr *err)
{
    size_t row;

    if (!s->out[k] || !s->out[k]->to)
        return 0;
    row = df_emit_begin(&s->em[k]);
    df_sortrec_decode(&s->rec[k], rec, s->em[k].b, row);
    return df_emit_end(&s->em[k], err);
}

static char *
encode(struct rowsample *s, const struct df_buffer *b, size_t row)
{
    char *mem = NULL;
    size_t len = 0, cap = 0;

    df_sortrec_encode(&s->rec[SEL], b, row, &mem, &len, &cap);
    return mem;
}

static int
take_row(struct rowsample *s, const struct df_buffer *b, size_t row,
         struct werr *err)
{
    uint64_t i = s->seen++, j;
    size_t len = 0;
    struct kept old;
    int rc;

    if (i < s->want) {
        XGROW(s->res, s->nres + 1, s->cap);
        s->res[s->nres++] = (struct kept){encode(s, b, row), i};
        return 0;
    }
    j = below(s, i + 1);
    if (j >= s->want) {
        df_sortrec_encode(&s->rec[SEL], b, row, &s->scratch, &len,
                          &s->scratch_cap);
        return emit(s, UNSEL, s->scratch + 4, err);
    }
    old = s->res[j];
    s->res[j] = (struct kept){encode(s, b, row), i};
    rc = emit(s, UNSEL, old.rec + 4, err);
    free(old.rec);
    return rc;
}

static int
rowsample_process(struct df_exec *x, struct df_component *c,
                  struct df_input *in, struct df_buffer *b, struct werr *err)
{
    struct rowsample *s = c->state;
    int rc = 0;

    (void)x;
    (void)in;
    for (size_t r = 0; rc == 0 && r < b->nrows; r++)
        rc = take_row(s, b, r, err);
    df_buffer_unref(b);
    return rc;
}

static int
by_index(const void *a, const void *b)
{
    uint64_t x = ((const struct kept *)a)->index;
    uint64_t y = ((const struct kept *)b)->index;

    return x < y ? -1 : x > y;
}

static int
rowsample_end_of_input(struct df_exec *x, struct df_component *c,
                       struct df_input *in, struct werr *err)
{
    struct rowsample *s = c->state;

    (void)x;
    (void)in;
    if (s->nres)
        qsort(s->res, s->nres, sizeof(*s->res), by_index);
    for (size_t i = 0; i < s->nres; i++)
        if (emit(s, SEL, s->res[i].rec + 4, err) < 0)
            return -1;
    if (df_emit_flush(&s->em[SEL], err) < 0 ||
        df_emit_flush(&s->em[UNSEL], err) < 0)
        return -1;
    return 0;
}

static void
rowsample_cleanup(struct df_exec *x, struct df_component *c)
{
    (void)x;
    rowsample_free(c->state);
    c->state = NULL;
}

const struct df_component_ops df_rowsample_ops = {
    .class_id = "Microsoft.RowSampling",
    .validate = rowsample_validate,
    .pre_execute = rowsample_pre_execute,
    .process = rowsample_process,
    .end_of_input = rowsample_end_of_input,
    .cleanup = rowsample_cleanup,
};
