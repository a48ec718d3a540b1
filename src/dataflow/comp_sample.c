/*
 * Percentage Sampling (Microsoft.PercentageSampling): each row goes to
 * the selected output with probability SamplingValue percent, else to the
 * unselected output (both synchronous).  With SamplingSeed the choice is
 * the same on every run (weir's generator, splitmix64, is not SSIS's: the
 * same seed selects other rows than SSIS would); without it, or with 0
 * (SSIS's default), the seed comes from the clock.  The selected output
 * is the one whose Selected property is true, else the first.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/xalloc.h"
#include "dataflow/xform.h"
#include "base/banned.h"

struct sample {
    struct df_output *sel, *unsel;
    uint64_t state;
    uint64_t threshold; /* a row is selected when next() < threshold */
    uint32_t *rows[2];
    size_t cap;
};

static uint64_t
next(struct sample *s)
{
    uint64_t z = (s->state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void
sample_free(struct sample *s)
{
    if (!s)
        return;
    free(s->rows[0]);
    free(s->rows[1]);
    free(s);
}

static void
find_outputs(struct df_component *c, struct sample *s)
{
    size_t i;

    for (i = 0; i < c->noutputs; i++) {
        struct df_output *o = &c->outputs[i];
        if (o->is_error)
            continue;
        if (!s->sel && df_prop_bool(o->props, o->nprops, "Selected", false))
            s->sel = o;
    }
    for (i = 0; i < c->noutputs; i++) {
        struct df_output *o = &c->outputs[i];
        if (o->is_error || o == s->sel)
            continue;
        if (!s->sel)
            s->sel = o;
        else if (!s->unsel)
            s->unsel = o;
    }
}

static struct sample *
sample_build(struct df_component *c, struct werr *err)
{
    struct sample *s = xcalloc(1, sizeof(*s));
    int64_t pct = df_prop_int(c->props, c->nprops, "SamplingValue", 10);
    const char *seed = df_prop(c->props, c->nprops, "SamplingSeed");

    find_outputs(c, s);
    if (c->ninputs != 1 || !s->sel) {
        werr_set(err, WERR_INVALID, "expects one input and an output");
        goto fail;
    }
    if (pct < 0 || pct > 100) {
        werr_set(err, WERR_INVALID, "SamplingValue %lld is not a percentage",
                 (long long)pct);
        goto fail;
    }
    s->threshold = pct == 100 ? UINT64_MAX : (uint64_t)pct * (UINT64_MAX / 100);
    /* 0, SSIS's default, means no seed: the clock gives one. */
    s->state = seed && *seed ? (uint64_t)strtoll(seed, NULL, 10) : 0;
    if (s->state == 0)
        s->state = (uint64_t)time(NULL) ^ (uint64_t)clock();
    return s;
fail:
    sample_free(s);
    return NULL;
}

static int
sample_validate(struct df_exec *x, struct df_component *c,
                struct wbuf *problems)
{
    struct werr err = {0};
    struct sample *s = sample_build(c, &err);

    (void)x;
    if (!s)
        return df_problem(problems, c, "%s", err.msg);
    sample_free(s);
    return 0;
}

static int
sample_pre_execute(struct df_exec *x, struct df_component *c, struct werr *err)
{
    (void)x;
    c->state = sample_build(c, err);
    return c->state ? 0 : werr_prefix(err, "component '%s'", c->name);
}

static int
send_rows(struct df_exec *x, struct df_output *o, const struct df_buffer *b,
          const uint32_t *rows, size_t n, struct werr *err)
{
    struct df_buffer *nb;

    if (!o || !o->to || n == 0)
        return 0;
    nb = df_buffer_new_like(b);
    df_buffer_copy_rows(nb, b, rows, n);
    return df_send(x, o, nb, err);
}

static int
sample_process(struct df_exec *x, struct df_component *c, struct df_input *in,
               struct df_buffer *b, struct werr *err)
{
    struct sample *s = c->state;
    size_t n[2] = {0, 0}, r;
    int rc;

    (void)in;
    if (b->nrows > s->cap) {
        s->cap = b->nrows;
        s->rows[0] = xrealloc(s->rows[0], s->cap * sizeof(uint32_t));
        s->rows[1] = xrealloc(s->rows[1], s->cap * sizeof(uint32_t));
    }
    for (r = 0; r < b->nrows; r++) {
        int k = next(s) < s->threshold ? 0 : 1;
        s->rows[k][n[k]++] = (uint32_t)r;
    }
    rc = send_rows(x, s->sel, b, s->rows[0], n[0], err);
    if (rc == 0)
        rc = send_rows(x, s->unsel, b, s->rows[1], n[1], err);
    df_buffer_unref(b);
    return rc;
}

static void
sample_cleanup(struct df_exec *x, struct df_component *c)
{
    (void)x;
    sample_free(c->state);
    c->state = NULL;
}

const struct df_component_ops df_pctsample_ops = {
    .class_id = "Microsoft.PercentageSampling",
    .validate = sample_validate,
    .pre_execute = sample_pre_execute,
    .process = sample_process,
    .cleanup = sample_cleanup,
};
