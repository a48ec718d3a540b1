/*
 * Merge Join (Microsoft.MergeJoin): joins two inputs sorted on their
 * first NumKeyColumns sort keys, as a merge: JoinType 2 inner, 1 left
 * outer, 0 full outer.  Output columns copy the left or right input
 * column their InputColumnID names; the side without a match gives NULL.
 * Rows whose keys are equal on both sides are joined as a cross product
 * of the two groups.  A NULL key matches nothing, unless
 * TreatNullsAsEqual.
 *
 * Both inputs arrive on their own schedule: each keeps a queue of the
 * buffers it has received, and the merge advances whenever both sides
 * have rows, waiting only when a group of equal keys reaches the end of
 * what a side has received so far.  A buffer is released once the merge
 * has passed it, so memory holds what one side is ahead of the other.
 *
 * The sort keys are the upstream output's columns with sortKeyPosition
 * (looked up through synchronous components, whose outputs share the
 * sorted output's buffers); validation fails when an input is not
 * sorted, has fewer keys than NumKeyColumns, or the two sides' key types
 * differ.
 */
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "dataflow/xform.h"
#include "base/banned.h"

enum { MJ_FULL = 0, MJ_LEFT = 1, MJ_INNER = 2 };

struct mj_key {
    int slot;
    enum expr_dt dt;
    bool desc;
};

struct mj_side {
    struct mj_key *keys;
    struct df_buffer **q;
    size_t nq, capq, row; /* the head is row `row` of q[0] */
    bool ended;
};

struct mj_col {
    int side, slot, out_slot;
    size_t width;
    bool var;
};

struct mj {
    struct mj_side s[2];
    size_t nkeys;
    int join;
    bool nulls_equal;
    struct mj_col *cols;
    size_t ncols;
    struct df_output *out;
    struct df_buffer *ob;
};

struct mj_pos {
    size_t bi, row;
};

static void
mj_free(struct mj *m)
{
    size_t i, k;

    if (!m)
        return;
    for (k = 0; k < 2; k++) {
        for (i = 0; i < m->s[k].nq; i++)
            df_buffer_unref(m->s[k].q[i]);
        free(m->s[k].q);
        free(m->s[k].keys);
    }
    if (m->ob)
        df_buffer_unref(m->ob);
    free(m->cols);
    free(m);
}

/* The column with sort key position ±k on the output feeding `in` or,
 * through synchronous components, above it; *sorted tells whether an
 * output on the way says isSorted. */
static const struct df_column *
find_key(const struct df_input *in, int k, bool *sorted)
{
    const struct df_output *o = in ? in->from : NULL;
    size_t i;

    for (; o; o = o->sync_input ? o->sync_input->from : NULL) {
        *sorted = *sorted || o->is_sorted;
        for (i = 0; i < o->ncolumns; i++)
            if (o->columns[i].sort_key == k || o->columns[i].sort_key == -k)
                return &o->columns[i];
    }
    return NULL;
}

static int
find_keys(struct mj *m, struct df_component *c, int side, struct werr *err)
{
    const struct df_input *in = &c->inputs[side];
    size_t k;

    m->s[side].keys = xcalloc(m->nkeys + 1, sizeof(struct mj_key));
    for (k = 0; k < m->nkeys; k++) {
        bool sorted = false;
        const struct df_column *col = find_key(in, (int)k + 1, &sorted);
        if (!sorted || !col)
            return werr_set(err, WERR_INVALID,
                            "input '%s' is not sorted on %zu key "
                            "column(s) (IsSorted and sortKeyPosition "
                            "upstream)",
                            in->name, m->nkeys);
        m->s[side].keys[k].slot = col->slot;
        m->s[side].keys[k].dt = col->type.dt;
        m->s[side].keys[k].desc = col->sort_key < 0;
    }
    return 0;
}

static int
check_key_types(struct mj *m, struct werr *err)
{
    size_t k;

    for (k = 0; k < m->nkeys; k++)
        if (m->s[0].keys[k].dt != m->s[1].keys[k].dt ||
            m->s[0].keys[k].desc != m->s[1].keys[k].desc)
            return werr_set(err, WERR_INVALID,
                            "key %zu is %s on the left, %s on the right", k + 1,
                            expr_dt_name(m->s[0].keys[k].dt),
                            expr_dt_name(m->s[1].keys[k].dt));
    return 0;
}

static int
map_column(struct mj *m, struct df_component *c, const struct df_column *oc,
           struct werr *err)
{
    const char *ref = df_prop(oc->props, oc->nprops, "InputColumnID");
    struct mj_col *mc = &m->cols[m->ncols++];
    const struct df_column *ic = NULL;
    int side;

    for (side = 0; side < 2 && !ic; side++)
        ic = df_input_column_by_ref(&c->inputs[side], ref);
    if (!ic)
        return werr_set(err, WERR_INVALID,
                        "output column '%s': InputColumnID '%s' names no "
                        "input column",
                        oc->name, ref ? ref : "");
    mc->side = side - 1;
    mc->slot = ic->slot;
    mc->out_slot = oc->slot;
    mc->width = df_type_width(ic->type.dt);
    mc->var = mc->width == sizeof(struct expr_sv) &&
              (ic->type.dt == EXPR_DT_STR || ic->type.dt == EXPR_DT_WSTR ||
               ic->type.dt == EXPR_DT_TEXT || ic->type.dt == EXPR_DT_NTEXT ||
               ic->type.dt == EXPR_DT_BYTES || ic->type.dt == EXPR_DT_IMAGE);
    if (ic->type.dt != oc->type.dt)
        return werr_set(
            err, WERR_INVALID, "output column '%s' is %s, its input column %s",
            oc->name, expr_dt_name(oc->type.dt), expr_dt_name(ic->type.dt));
    return 0;
}

static struct mj *
mj_build(struct df_component *c, struct werr *err)
{
    struct mj *m = xcalloc(1, sizeof(*m));
    size_t i;

    if (c->ninputs != 2 || !(m->out = df_main_output(c))) {
        werr_set(err, WERR_INVALID, "expects two inputs and one output");
        goto fail;
    }
    m->join = (int)df_prop_int(c->props, c->nprops, "JoinType", MJ_INNER);
    m->nkeys = (size_t)df_prop_int(c->props, c->nprops, "NumKeyColumns", 1);
    m->nulls_equal =
        df_prop_bool(c->props, c->nprops, "TreatNullsAsEqual", true);
    if (m->join < MJ_FULL || m->join > MJ_INNER || m->nkeys < 1) {
        werr_set(err, WERR_INVALID, "JoinType %d / NumKeyColumns %zu", m->join,
                 m->nkeys);
        goto fail;
    }
    if (find_keys(m, c, 0, err) < 0 || find_keys(m, c, 1, err) < 0 ||
        check_key_types(m, err) < 0)
        goto fail;
    m->cols = xcalloc(m->out->ncolumns + 1, sizeof(*m->cols));
    for (i = 0; i < m->out->ncolumns; i++)
        if (map_column(m, c, &m->out->columns[i], err) < 0)
            goto fail;
    return m;
fail:
    mj_free(m);
    return NULL;
}

static int
mj_validate(struct df_exec *x, struct df_component *c, struct wbuf *problems)
{
    struct werr err = {0};
    struct mj *m = mj_build(c, &err);

    (void)x;
    if (!m)
        return df_problem(problems, c, "%s", err.msg);
    mj_free(m);
    return 0;
}

static int
mj_pre_execute(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct mj *m = mj_build(c, err);

    (void)x;
    if (!m)
        return werr_prefix(err, "component '%s'", c->name);
    c->state = m;
    return 0;
}

static const void *
elem(const struct df_buffer *b, int slot, size_t row)
{
    const struct df_vec *v = &b->cols[slot];

    return (const char *)v->data + row * df_type_width(v->type.dt);
}

/* Compares the keys of row `a` of side `sa` and row `b` of side `sb`.
 * `match` asks whether the rows join: a NULL key then joins nothing
 * unless TreatNullsAsEqual (it orders before the other side's row). */
static int
cmp_rows(const struct mj *m, int sa, const struct mj_pos *a, int sb,
         const struct mj_pos *b, bool match)
{
    const struct df_buffer *ba = m->s[sa].q[a->bi], *bb = m->s[sb].q[b->bi];
    size_t k;

    for (k = 0; k < m->nkeys; k++) {
        const struct mj_key *ka = &m->s[sa].keys[k], *kb = &m->s[sb].keys[k];
        bool an = ba->cols[ka->slot].nulls[a->row];
        bool bn = bb->cols[kb->slot].nulls[b->row];
        int c;
        if (an || bn) {
            if (an && bn && match && !m->nulls_equal)
                return -1;
            c = an == bn ? 0 : an ? -1 : 1;
        } else {
            c = df_cmp_values(ka->dt, 0, elem(ba, ka->slot, a->row),
                              elem(bb, kb->slot, b->row));
        }
        if (c)
            return ka->desc ? -c : c;
    }
    return 0;
}

/* Steps `p` to the next row of side `s` (whose queue holds no empty
 * buffer); false past what it holds. */
static bool
step(const struct mj_side *s, struct mj_pos *p)
{
    if (++p->row < s->q[p->bi]->nrows)
        return true;
    if (p->bi + 1 >= s->nq)
        return false;
    p->bi++;
    p->row = 0;
    return true;
}

static void
pop(struct mj_side *s)
{
    if (++s->row < s->q[0]->nrows)
        return;
    df_buffer_unref(s->q[0]);
    memmove(s->q, s->q + 1, --s->nq * sizeof(*s->q));
    s->row = 0;
}

static void
copy_value(struct df_buffer *ob, const struct mj_col *mc, size_t orow,
           const struct df_buffer *ib, size_t irow)
{
    struct df_vec *o = &ob->cols[mc->out_slot];
    bool null = !ib || ib->cols[mc->slot].nulls[irow];

    if (mc->var) {
        const struct expr_sv *sv = null ? NULL : elem(ib, mc->slot, irow);
        df_buffer_set_str(ob, mc->out_slot, orow, sv ? sv->p : "",
                          sv ? sv->len : 0);
    } else if (null) {
        memset((char *)o->data + orow * mc->width, 0, mc->width);
    } else {
        memcpy((char *)o->data + orow * mc->width, elem(ib, mc->slot, irow),
               mc->width);
    }
    o->nulls[orow] = null;
}

/* Emits the join of left row `l` and right row `r` (either NULL). */
static int
emit(struct df_exec *x, struct mj *m, const struct mj_pos *l,
     const struct mj_pos *r, struct werr *err)
{
    size_t i, row;
    struct df_buffer *full;

    if (!m->ob)
        m->ob = df_buffer_new(m->out->layout);
    row = m->ob->nrows++;
    for (i = 0; i < m->ncols; i++) {
        const struct mj_col *mc = &m->cols[i];
        const struct mj_pos *p = mc->side ? r : l;
        copy_value(m->ob, mc, row, p ? m->s[mc->side].q[p->bi] : NULL,
                   p ? p->row : 0);
    }
    if (df_buffer_room(m->ob) > 0)
        return 0;
    full = m->ob;
    m->ob = NULL;
    return df_send(x, m->out, full, err);
}

/* The end of the group of rows equal to side `s`'s head: *end is the
 * first row past it.  0: complete; 1: more rows may still belong. */
static int
group_end(const struct mj *m, int s, struct mj_pos *end, size_t *n)
{
    const struct mj_side *sd = &m->s[s];
    struct mj_pos head = {0, sd->row};

    *end = head;
    *n = 1;
    while (step(sd, end)) {
        if (cmp_rows(m, s, &head, s, end, false) != 0)
            return 0;
        (*n)++;
    }
    return sd->ended ? 0 : 1;
}

/* Emits the cross product of the two groups at the heads, `nl` rows on
 * the left and `nr` on the right, and pops them. */
static int
join_groups(struct df_exec *x, struct mj *m, size_t nl, size_t nr,
            struct werr *err)
{
    struct mj_pos lp = {0, m->s[0].row}, rp;
    size_t i, j;

    for (i = 0; i < nl; i++, step(&m->s[0], &lp)) {
        rp.bi = 0;
        rp.row = m->s[1].row;
        for (j = 0; j < nr; j++, step(&m->s[1], &rp))
            if (emit(x, m, &lp, &rp, err) < 0)
                return -1;
    }
    for (i = 0; i < nl; i++)
        pop(&m->s[0]);
    for (j = 0; j < nr; j++)
        pop(&m->s[1]);
    return 0;
}

/* A head row without a match on the other side: emitted when the join
 * type keeps it, then popped. */
static int
unmatched(struct df_exec *x, struct mj *m, int side, struct werr *err)
{
    struct mj_pos p = {0, m->s[side].row};
    bool keep = side == 0 ? m->join != MJ_INNER : m->join == MJ_FULL;
    int rc = 0;

    if (keep)
        rc = side == 0 ? emit(x, m, &p, NULL, err) : emit(x, m, NULL, &p, err);
    pop(&m->s[side]);
    return rc;
}

/* Merges as far as the rows received allow. */
static int
advance(struct df_exec *x, struct mj *m, struct werr *err)
{
    struct mj_side *l = &m->s[0], *r = &m->s[1];

    for (;;) {
        struct mj_pos lh = {0, l->row}, rh = {0, r->row}, le, re;
        size_t nl, nr;
        int c;
        if ((!l->nq && !l->ended) || (!r->nq && !r->ended) ||
            (!l->nq && !r->nq))
            return 0;
        if (!r->nq || !l->nq)
            c = r->nq ? 1 : -1;
        else
            c = cmp_rows(m, 0, &lh, 1, &rh, true);
        if (c != 0) {
            if (unmatched(x, m, c < 0 ? 0 : 1, err) < 0)
                return -1;
            continue;
        }
        if (group_end(m, 0, &le, &nl) || group_end(m, 1, &re, &nr))
            return 0;
        if (join_groups(x, m, nl, nr, err) < 0)
            return -1;
    }
}

static int
mj_process(struct df_exec *x, struct df_component *c, struct df_input *in,
           struct df_buffer *b, struct werr *err)
{
    struct mj *m = c->state;
    struct mj_side *s = &m->s[in->index ? 1 : 0];

    if (b->nrows == 0) {
        df_buffer_unref(b);
        return 0;
    }
    XGROW(s->q, s->nq + 1, s->capq);
    s->q[s->nq++] = b;
    return advance(x, m, err);
}

static int
mj_end_of_input(struct df_exec *x, struct df_component *c, struct df_input *in,
                struct werr *err)
{
    struct mj *m = c->state;
    struct df_buffer *last;

    m->s[in->index ? 1 : 0].ended = true;
    if (advance(x, m, err) < 0)
        return -1;
    if (!m->s[0].ended || !m->s[1].ended || !m->ob)
        return 0;
    last = m->ob;
    m->ob = NULL;
    return df_send(x, m->out, last, err);
}

static void
mj_cleanup(struct df_exec *x, struct df_component *c)
{
    (void)x;
    mj_free(c->state);
    c->state = NULL;
}

const struct df_component_ops df_mergejoin_ops = {
    .class_id = "Microsoft.MergeJoin",
    .validate = mj_validate,
    .pre_execute = mj_pre_execute,
    .process = mj_process,
    .end_of_input = mj_end_of_input,
    .cleanup = mj_cleanup,
};
