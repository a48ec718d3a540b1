/*
 * Pivot (Microsoft.Pivot): rows that share a set key become one row
 * whose columns hold the pivot value of each pivot key.
 *
 * Input columns say their role in PivotUsage: 0 pass-through, 1 set key,
 * 2 pivot key (exactly one), 3 pivot value.  Each output column names the
 * input column it reads in SourceColumn (a lineage reference; -1 or none:
 * the input column of its name); one that reads a pivot value column
 * also has a PivotKeyValue, the pivot key value whose value it takes,
 * converted to the pivot key's type.
 *
 * As in SSIS, the input is expected sorted on the set key: an output row
 * starts whenever the set key differs from the previous row's (NULLs
 * equal), so an unsorted input gives several rows for one set key.  Set
 * key and pass-through columns take the group's first row's values;
 * pivot values not seen in a group are NULL.  A row is in error when its
 * pivot key value is no output column's PivotKeyValue (a NULL one never
 * is) or when its group already had that value (a duplicate row); it
 * then takes the input's error disposition: fail the component, ignore
 * the row, or redirect it to the error output.  With
 * PassThroughUnmatchedPivotKeys, rows with an unknown pivot key value are
 * ignored and the values listed in an information event at the end.
 *
 * Memory: the row being built lives in the output buffer; pivot key
 * values are matched through a hash map (aggmap.h) of their bytes, which
 * also collects the unknown values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "dataflow/aggmap.h"
#include "dataflow/xform.h"
#include "dataflow/xfrow.h"
#include "base/banned.h"

#define E_BAD_KEY (-1071636336)   /* DTS_E_TXPIVOTBADPIVOTKEYVALUE */
#define E_DUPLICATE (-1071636273) /* ..RUNTIMEDUPLICATEPIVOTKEYVALUE */
#define MAX_REPORTED 100          /* unknown values listed at the end */

enum usage { U_PASS = 0, U_SETKEY = 1, U_PIVOTKEY = 2, U_VALUE = 3 };

struct pv_copy {
    int in_slot, out_slot;
    size_t key; /* pivoted cells: the pivot key value's index */
};

struct pivot {
    struct df_input *in;
    struct df_output *out;
    const struct df_column *pkey;
    int *setkeys;
    size_t nsetkeys;
    struct pv_copy *copies, *cells; /* group columns, pivoted cells */
    size_t ncopies, ncells;
    struct df_aggmap keys; /* the PivotKeyValues first, then unknowns */
    size_t nkeys;
    bool pass_unmatched;
    enum df_disposition disp;
    struct wbuf gkey, rkey; /* set key of the group, of the row */
    bool open;
    size_t row;
    uint8_t *seen; /* per pivot key value, in the open group */
    struct df_emitter em;
    int32_t *errs, *cols;
    size_t errcap;
    char first[200]; /* the first row error of a buffer */
};

static void
pivot_free(struct pivot *p)
{
    if (!p)
        return;
    free(p->setkeys);
    free(p->copies);
    free(p->cells);
    df_aggmap_release(&p->keys);
    wbuf_release(&p->gkey);
    wbuf_release(&p->rkey);
    free(p->seen);
    df_emit_release(&p->em);
    free(p->errs);
    free(p->cols);
    free(p);
}

/* The role of each input column; the pivot key and set keys. */
static int
read_usages(struct pivot *p, struct werr *err)
{
    for (size_t i = 0; i < p->in->ncolumns; i++) {
        const struct df_column *ic = &p->in->columns[i];
        int64_t u = df_prop_int(ic->props, ic->nprops, "PivotUsage", 0);
        if (u < U_PASS || u > U_VALUE)
            return werr_set(err, WERR_INVALID,
                            "input column '%s': "
                            "PivotUsage %lld is not 0 to 3",
                            ic->name, (long long)u);
        if (u == U_PIVOTKEY && p->pkey)
            return werr_set(err, WERR_INVALID,
                            "input columns '%s' and "
                            "'%s' are both the pivot key (PivotUsage 2)",
                            p->pkey->name, ic->name);
        if (u == U_PIVOTKEY)
            p->pkey = ic;
        if (u == U_SETKEY)
            p->setkeys[p->nsetkeys++] = ic->slot;
    }
    if (!p->pkey)
        return werr_set(err, WERR_INVALID,
                        "no pivot key: one input column "
                        "needs PivotUsage 2");
    return 0;
}

/* The bytes of `text` as a value of the pivot key's type, appended to
 * `k` as df_key_add writes them (without the NULL byte). */
static int
key_of_text(const struct pivot *p, const char *text, struct wbuf *k,
            struct werr *err)
{
    struct expr_type t = p->pkey->type;
    struct df_layout l = {&t, 1, 1, NULL};
    struct df_buffer *b = df_buffer_new(&l);
    struct expr_value v;
    int rc = expr_value_parse(text, strlen(text), &t, &v, err);

    if (rc == 0)
        rc = df_buffer_set_value(b, 0, 0, &v, err);
    if (rc == 0) {
        df_key_add(k, b, 0, 0);
        wbuf_consume(k, 1);
    }
    df_buffer_unref(b);
    return rc;
}

static int
add_cell(struct pivot *p, const struct df_column *oc,
         const struct df_column *ic, struct werr *err)
{
    const char *pkv = df_prop(oc->props, oc->nprops, "PivotKeyValue");
    struct wbuf k;
    size_t key;
    int rc;

    if (!pkv || !*pkv)
        return werr_set(err, WERR_INVALID,
                        "output column '%s' takes "
                        "pivoted values but has no PivotKeyValue",
                        oc->name);
    wbuf_init(&k, WBUF_NOLIMIT);
    rc = key_of_text(p, pkv, &k, err);
    key = df_aggmap_put(&p->keys, k.buf, k.len);
    wbuf_release(&k);
    if (rc < 0)
        return werr_prefix(err, "output column '%s': PivotKeyValue", oc->name);
    for (size_t i = 0; i < p->ncells; i++)
        if (p->cells[i].key == key && p->cells[i].in_slot == ic->slot)
            return werr_set(err, WERR_INVALID,
                            "output column '%s': "
                            "PivotKeyValue '%s' is another column's too",
                            oc->name, pkv);
    p->cells[p->ncells++] = (struct pv_copy){ic->slot, oc->slot, key};
    p->nkeys = p->keys.n;
    return 0;
}

/* SourceColumn -1 (a column not pivoted): the input column of the
 * output column's name. */
static const struct df_column *
input_named(const struct df_input *in, const char *name)
{
    for (size_t i = 0; i < in->ncolumns; i++)
        if (!strcasecmp(in->columns[i].name, name))
            return &in->columns[i];
    return NULL;
}

static int
map_output_column(struct pivot *p, const struct df_column *oc, struct werr *err)
{
    const char *src = df_prop(oc->props, oc->nprops, "SourceColumn");
    bool none = !src || !*src || !strcmp(src, "-1");
    const struct df_column *ic = none ? input_named(p->in, oc->name)
                                      : df_input_column_by_ref(p->in, src);
    int64_t u;

    if (!ic)
        return werr_set(err, WERR_INVALID,
                        "output column '%s': "
                        "SourceColumn '%s' names no input column",
                        oc->name, src ? src : "");
    if (ic->type.dt != oc->type.dt)
        return werr_set(err, WERR_INVALID,
                        "output column '%s' is %s, its "
                        "input column '%s' %s",
                        oc->name, expr_dt_name(oc->type.dt), ic->name,
                        expr_dt_name(ic->type.dt));
    u = df_prop_int(ic->props, ic->nprops, "PivotUsage", 0);
    if (u == U_PIVOTKEY)
        return werr_set(err, WERR_INVALID,
                        "output column '%s' reads the "
                        "pivot key '%s'",
                        oc->name, ic->name);
    if (u == U_VALUE)
        return add_cell(p, oc, ic, err);
    p->copies[p->ncopies++] = (struct pv_copy){ic->slot, oc->slot, 0};
    return 0;
}

static struct pivot *
pivot_build(struct df_component *c, struct werr *err)
{
    struct pivot *p = xcalloc(1, sizeof(*p));
    size_t n;

    wbuf_init(&p->gkey, WBUF_NOLIMIT);
    wbuf_init(&p->rkey, WBUF_NOLIMIT);
    if (c->ninputs != 1 || !(p->out = df_main_output(c))) {
        werr_set(err, WERR_INVALID, "expects one input and one output");
        goto fail;
    }
    p->in = &c->inputs[0];
    p->disp = p->in->error_disp;
    p->pass_unmatched = df_prop_bool(c->props, c->nprops,
                                     "PassThroughUnmatchedPivotKeys", false);
    n = p->out->ncolumns + 1;
    p->setkeys = xcalloc(p->in->ncolumns + 1, sizeof(*p->setkeys));
    p->copies = xcalloc(n, sizeof(*p->copies));
    p->cells = xcalloc(n, sizeof(*p->cells));
    if (read_usages(p, err) < 0)
        goto fail;
    for (size_t i = 0; i < p->out->ncolumns; i++)
        if (map_output_column(p, &p->out->columns[i], err) < 0)
            goto fail;
    p->seen = xcalloc(p->nkeys + 1, 1);
    return p;
fail:
    pivot_free(p);
    return NULL;
}

static int
pivot_validate(struct df_exec *x, struct df_component *c, struct wbuf *problems)
{
    struct werr err = {0};
    struct pivot *p = pivot_build(c, &err);

    (void)x;
    if (!p)
        return df_problem(problems, c, "%s", err.msg);
    pivot_free(p);
    return 0;
}

static int
pivot_pre_execute(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct pivot *p = pivot_build(c, err);

    if (!p)
        return werr_prefix(err, "component '%s'", c->name);
    p->em.x = x;
    p->em.out = p->out;
    c->state = p;
    return 0;
}

/* The text of pivot key value `key` (an index of p->keys). */
static void
key_text(const struct pivot *p, size_t key, char *buf, size_t size)
{
    size_t len;
    const char *k = df_aggmap_key(&p->keys, key, &len);
    union {
        struct expr_sv sv;
        expr_i128 dec;
        struct expr_dto dto;
        struct expr_guid guid;
        int64_t i;
    } elem;
    struct expr_col col = {p->pkey->type, &elem, NULL};
    struct expr_value v;

    if (df_dt_is_var(p->pkey->type.dt))
        elem.sv = (struct expr_sv){k + 4, len - 4};
    else
        memcpy(&elem, k, len < sizeof(elem) ? len : sizeof(elem));
    expr_col_value(&col, 0, &v);
    expr_value_format(&v, buf, size);
}

/* The index of row `r`'s pivot key value (>= nkeys: unknown), or -1
 * when it is NULL. */
static int64_t
row_key(struct pivot *p, const struct df_buffer *b, size_t r)
{
    if (b->cols[p->pkey->slot].nulls[r])
        return -1;
    wbuf_reset(&p->rkey);
    df_key_add(&p->rkey, b, p->pkey->slot, r);
    return (int64_t)df_aggmap_put(&p->keys, p->rkey.buf + 1, p->rkey.len - 1);
}

static int
open_group(struct pivot *p, const struct df_buffer *b, size_t r,
           struct werr *err)
{
    if (p->open && df_emit_end(&p->em, err) < 0)
        return -1;
    p->row = df_emit_begin(&p->em);
    for (size_t i = 0; i < p->ncopies; i++)
        df_copy_cell(p->em.b, p->copies[i].out_slot, p->row, b,
                     p->copies[i].in_slot, r);
    wbuf_reset(&p->gkey);
    wbuf_add(&p->gkey, p->rkey.buf, p->rkey.len, NULL);
    memset(p->seen, 0, p->nkeys + 1);
    p->open = true;
    return 0;
}

/* Records row `r`'s error (`code`) for the disposition. */
static void
row_error(struct pivot *p, size_t r, int32_t code, int64_t key)
{
    char text[120] = "NULL";

    p->errs[r] = code;
    p->cols[r] = p->pkey->id;
    if (p->first[0])
        return;
    if (key >= 0)
        key_text(p, (size_t)key, text, sizeof(text));
    snprintf(p->first, sizeof(p->first),
             code == E_DUPLICATE
                 ? "duplicate pivot key value \"%s\" in one set key"
                 : "the pivot key value \"%s\" is no output column's "
                   "PivotKeyValue",
             text);
}

static int
take_row(struct pivot *p, const struct df_buffer *b, size_t r, struct werr *err)
{
    int64_t key = row_key(p, b, r);

    if (key < 0 || (size_t)key >= p->nkeys) {
        if (!p->pass_unmatched)
            row_error(p, r, E_BAD_KEY, key);
        return 0;
    }
    wbuf_reset(&p->rkey);
    for (size_t i = 0; i < p->nsetkeys; i++)
        df_key_add(&p->rkey, b, p->setkeys[i], r);
    if (p->open && p->rkey.len == p->gkey.len &&
        !memcmp(p->rkey.buf, p->gkey.buf, p->gkey.len)) {
        if (p->seen[key]) {
            row_error(p, r, E_DUPLICATE, key);
            return 0;
        }
    } else if (open_group(p, b, r, err) < 0) {
        return -1;
    }
    p->seen[key] = 1;
    for (size_t i = 0; i < p->ncells; i++)
        if (p->cells[i].key == (size_t)key)
            df_copy_cell(p->em.b, p->cells[i].out_slot, p->row, b,
                         p->cells[i].in_slot, r);
    return 0;
}

/* Applies the input's disposition to the rows in error. */
static int
dispose(struct df_exec *x, struct df_component *c, struct pivot *p,
        struct df_buffer **b, struct werr *err)
{
    if (!p->first[0] || p->disp == DF_DISP_IGNORE)
        return 0;
    if (p->disp == DF_DISP_REDIRECT)
        return df_row_errors(x, c, b, p->errs, p->cols, p->disp, err);
    df_error(x, c, 0, "%s, and the input's disposition is FailComponent",
             p->first);
    return werr_set(err, WERR_INVALID, "component '%s': %s", c->name, p->first);
}

static int
pivot_process(struct df_exec *x, struct df_component *c, struct df_input *in,
              struct df_buffer *b, struct werr *err)
{
    struct pivot *p = c->state;
    int rc = 0;

    (void)in;
    if (b->nrows > p->errcap) {
        p->errcap = b->nrows;
        p->errs = xrealloc(p->errs, p->errcap * sizeof(*p->errs));
        p->cols = xrealloc(p->cols, p->errcap * sizeof(*p->cols));
    }
    memset(p->errs, 0, b->nrows * sizeof(*p->errs));
    p->first[0] = '\0';
    for (size_t r = 0; rc == 0 && r < b->nrows; r++)
        rc = take_row(p, b, r, err);
    if (rc == 0)
        rc = dispose(x, c, p, &b, err);
    df_buffer_unref(b);
    return rc;
}

static void
report_unmatched(struct df_exec *x, struct df_component *c, struct pivot *p)
{
    struct wbuf list;
    char text[120];
    size_t n = p->keys.n - p->nkeys;

    if (!p->pass_unmatched || n == 0)
        return;
    wbuf_init(&list, WBUF_NOLIMIT);
    for (size_t i = p->nkeys; i < p->keys.n && i < p->nkeys + MAX_REPORTED;
         i++) {
        key_text(p, i, text, sizeof(text));
        wbuf_addf(&list, NULL, "%s\"%s\"", i > p->nkeys ? ", " : "", text);
    }
    if (n > MAX_REPORTED)
        wbuf_addf(&list, NULL, " and %zu more", n - MAX_REPORTED);
    df_event(x, c, DF_EV_INFORMATION, "un-matched pivot key values: %s",
             list.buf);
    wbuf_release(&list);
}

static int
pivot_end_of_input(struct df_exec *x, struct df_component *c,
                   struct df_input *in, struct werr *err)
{
    struct pivot *p = c->state;

    (void)in;
    report_unmatched(x, c, p);
    if (p->open && df_emit_end(&p->em, err) < 0)
        return -1;
    p->open = false;
    return df_emit_flush(&p->em, err);
}

static void
pivot_cleanup(struct df_exec *x, struct df_component *c)
{
    (void)x;
    pivot_free(c->state);
    c->state = NULL;
}

const struct df_component_ops df_pivot_ops = {
    .class_id = "Microsoft.Pivot",
    .validate = pivot_validate,
    .pre_execute = pivot_pre_execute,
    .process = pivot_process,
    .end_of_input = pivot_end_of_input,
    .cleanup = pivot_cleanup,
};
