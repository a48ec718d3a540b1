/*
 * Row Count, Multicast and Union All: components that move rows without
 * looking into their values.
 *
 * Row Count counts the rows of its input and sets its VariableName
 * variable in post_execute (as SSIS does, only once the data flow ends).
 * Multicast sends every buffer to each of its outputs that has a path:
 * one reference each, no copy (a component downstream that writes into
 * the buffer copies it first, df_buffer_own).  Union All is asynchronous:
 * each input column names in OutputColumnLineageID the output column it
 * feeds, and output columns an input does not feed are NULL for its rows.
 */
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "dataflow/df_core.h"

/* ---- Row Count ---- */

struct rowcount {
    int64_t rows;
};

static int
rowcount_validate(struct df_exec *x, struct df_component *c,
                  struct wbuf *problems)
{
    const char *v = df_prop(c->props, c->nprops, "VariableName");

    if (v && *v)
        return 0;
    wbuf_addf(problems, NULL,
              "component '%s': the Row Count has no VariableName\n",
              c->name);
    return 1;
}

static int
rowcount_pre_execute(struct df_exec *x, struct df_component *c,
                     struct werr *err)
{
    c->state = xcalloc(1, sizeof(struct rowcount));
    return 0;
}

static int
rowcount_process(struct df_exec *x, struct df_component *c,
                 struct df_input *in, struct df_buffer *b, struct werr *err)
{
    struct rowcount *s = c->state;

    s->rows += (int64_t)b->nrows;
    for (size_t i = 0; i < c->noutputs; i++)
        if (c->outputs[i].sync_input == in && !c->outputs[i].is_error)
            return df_send(x, &c->outputs[i], b, err);
    df_buffer_unref(b);
    return 0;
}

static int
rowcount_post_execute(struct df_exec *x, struct df_component *c, bool failed,
                      struct werr *err)
{
    struct rowcount *s = c->state;
    const char *name = df_prop(c->props, c->nprops, "VariableName");
    struct expr_value v = {.type = {.dt = EXPR_DT_I8}};

    v.v.i = s->rows;
    if (df_var_set(x, name, &v, err) < 0)
        return werr_prefix(err, "setting '%s'", name);
    return 0;
}

static void
free_state(struct df_exec *x, struct df_component *c)
{
    free(c->state);
    c->state = NULL;
}

const struct df_component_ops df_rowcount_ops = {
    .class_id = "Microsoft.RowCount",
    .validate = rowcount_validate,
    .pre_execute = rowcount_pre_execute,
    .process = rowcount_process,
    .post_execute = rowcount_post_execute,
    .cleanup = free_state,
};

/* ---- Multicast ---- */

static int
multicast_process(struct df_exec *x, struct df_component *c,
                  struct df_input *in, struct df_buffer *b, struct werr *err)
{
    int rc = 0;

    for (size_t i = 0; i < c->noutputs && rc == 0; i++) {
        if (!c->outputs[i].to)
            continue;
        df_buffer_ref(b);
        rc = df_send(x, &c->outputs[i], b, err);
    }
    df_buffer_unref(b);
    return rc;
}

const struct df_component_ops df_multicast_ops = {
    .class_id = "Microsoft.Multicast",
    .process = multicast_process,
};

/* ---- Union All ---- */

struct ua_input {
    int *src, *dst; /* slots: input column -> output column */
    size_t n;
    bool *fed;      /* by output column */
};

struct unionall {
    struct df_output *out;
    struct ua_input *in;
    struct df_buffer *cur;
    size_t ended;
};

/* The number written in [p, p+len), or -1. */
static long
number(const char *p, size_t len)
{
    long v = 0;

    if (!len || len > 9)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* The output column an OutputColumnLineageID names: "#{refId}", a
 * lineage id, or a numeric id. */
static const struct df_column *
output_column(const struct df_output *o, const char *ref)
{
    size_t len;

    if (!ref)
        return NULL;
    len = strlen(ref);
    if (len > 3 && ref[0] == '#' && ref[1] == '{' && ref[len - 1] == '}') {
        ref += 2;
        len -= 3;
    } else if (ref[0] == '#') {
        ref++;
        len--;
    }
    for (size_t i = 0; i < o->ncolumns; i++) {
        const struct df_column *c = &o->columns[i];
        if ((strlen(c->lineage) == len && !strncmp(c->lineage, ref, len)) ||
            (strlen(c->ref_id) == len && !strncmp(c->ref_id, ref, len)))
            return c;
        if (number(ref, len) == c->id)
            return c;
    }
    return NULL;
}

static int
ua_bind(struct df_component *c, struct unionall *u, struct werr *err)
{
    u->out = c->noutputs ? &c->outputs[0] : NULL;
    if (!u->out || u->out->sync_input)
        return werr_set(err, WERR_INVALID,
                        "a Union All needs one asynchronous output");
    u->in = xcalloc(c->ninputs + 1, sizeof(*u->in));
    for (size_t i = 0; i < c->ninputs; i++) {
        struct df_input *in = &c->inputs[i];
        struct ua_input *m = &u->in[i];
        m->src = xcalloc(in->ncolumns + 1, sizeof(int));
        m->dst = xcalloc(in->ncolumns + 1, sizeof(int));
        m->fed = xcalloc(u->out->ncolumns + 1, sizeof(bool));
        for (size_t j = 0; j < in->ncolumns; j++) {
            const struct df_column *col = &in->columns[j];
            const char *ref = df_prop(col->props, col->nprops,
                                      "OutputColumnLineageID");
            const struct df_column *oc = output_column(u->out, ref);
            if (!oc)
                return werr_set(err, WERR_INVALID,
                                "input column '%s' of '%s' feeds no output "
                                "column (OutputColumnLineageID '%s')",
                                col->name, in->name, ref ? ref : "");
            m->src[m->n] = col->slot;
            m->dst[m->n++] = oc->slot;
            m->fed[oc - u->out->columns] = true;
        }
    }
    return 0;
}

static void
ua_free(struct unionall *u, size_t ninputs)
{
    if (!u)
        return;
    for (size_t i = 0; u->in && i < ninputs; i++) {
        free(u->in[i].src);
        free(u->in[i].dst);
        free(u->in[i].fed);
    }
    free(u->in);
    df_buffer_unref(u->cur);
    free(u);
}

static int
ua_validate(struct df_exec *x, struct df_component *c, struct wbuf *problems)
{
    struct unionall *u = xcalloc(1, sizeof(*u));
    struct werr err;
    int n = 0;

    if (ua_bind(c, u, &err) < 0) {
        wbuf_addf(problems, NULL, "component '%s': %s\n", c->name, err.msg);
        n = 1;
    }
    ua_free(u, c->ninputs);
    return n;
}

static int
ua_pre_execute(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct unionall *u = xcalloc(1, sizeof(*u));

    c->state = u;
    return ua_bind(c, u, err);
}

/* Copies rows [from, from + n) of `b` into u->cur. */
static void
ua_copy(struct unionall *u, const struct ua_input *m,
        const struct df_buffer *b, size_t from, size_t n)
{
    struct df_buffer *d = u->cur;

    for (size_t k = 0; k < m->n; k++) {
        const struct df_vec *sv = &b->cols[m->src[k]];
        struct df_vec *dv = &d->cols[m->dst[k]];
        size_t w = df_type_width(sv->type.dt);
        if (w != df_type_width(dv->type.dt))
            continue; /* validation of types is the designer's */
        memcpy((char *)dv->data + d->nrows * w,
               (const char *)sv->data + from * w, n * w);
        memcpy(dv->nulls + d->nrows, sv->nulls + from, n);
    }
    for (size_t k = 0; k < u->out->ncolumns; k++)
        if (!m->fed[k])
            memset(d->cols[u->out->columns[k].slot].nulls + d->nrows, 1, n);
    df_buffer_share_bytes(d, b);
    d->nrows += n;
}

static int
ua_process(struct df_exec *x, struct df_component *c, struct df_input *in,
           struct df_buffer *b, struct werr *err)
{
    struct unionall *u = c->state;
    const struct ua_input *m = &u->in[in->index];
    size_t done = 0;
    int rc = 0;

    while (done < b->nrows && rc == 0) {
        size_t n;
        if (!u->cur)
            u->cur = df_buffer_new(u->out->layout);
        n = df_buffer_room(u->cur);
        if (n > b->nrows - done)
            n = b->nrows - done;
        ua_copy(u, m, b, done, n);
        done += n;
        if (!df_buffer_room(u->cur)) {
            struct df_buffer *full = u->cur;
            u->cur = NULL;
            rc = df_send(x, u->out, full, err);
        }
    }
    df_buffer_unref(b);
    return rc;
}

static int
ua_end_of_input(struct df_exec *x, struct df_component *c,
                struct df_input *in, struct werr *err)
{
    struct unionall *u = c->state;
    struct df_buffer *last = u->cur;

    if (++u->ended < c->ninputs || !last)
        return 0;
    u->cur = NULL;
    return df_send(x, u->out, last, err);
}

static void
ua_cleanup(struct df_exec *x, struct df_component *c)
{
    ua_free(c->state, c->ninputs);
    c->state = NULL;
}

const struct df_component_ops df_unionall_ops = {
    .class_id = "Microsoft.UnionAll",
    .validate = ua_validate,
    .pre_execute = ua_pre_execute,
    .process = ua_process,
    .end_of_input = ua_end_of_input,
    .cleanup = ua_cleanup,
};
