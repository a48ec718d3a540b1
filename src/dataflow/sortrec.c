/*
 * Rows as records for Sort (see sortrec.h for the format).  Fixed-width
 * values are copied through an aligned local before they are compared,
 * since a record's fields have no alignment.
 */
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "dataflow/sortrec.h"
#include "dataflow/xform.h"
#include "base/banned.h"

union sortval {
    struct expr_sv sv;
    expr_i128 dec;
    struct expr_dto dto;
    struct expr_guid guid;
    int64_t i;
};

static bool
is_var(enum expr_dt dt)
{
    return dt == EXPR_DT_STR || dt == EXPR_DT_WSTR || dt == EXPR_DT_TEXT ||
           dt == EXPR_DT_NTEXT || dt == EXPR_DT_BYTES || dt == EXPR_DT_IMAGE;
}

static void
field_init(struct df_sortfield *f, const struct df_column *col, int out_slot)
{
    f->col = col;
    f->slot = col->slot;
    f->out_slot = out_slot;
    f->dt = col->type.dt;
    f->width = df_type_width(col->type.dt);
    f->var = is_var(col->type.dt);
}

static int64_t
key_pos(const struct df_column *col)
{
    return df_prop_int(col->props, col->nprops, "NewSortKeyPosition",
                       col->sort_key);
}

static int
add_keys(struct df_sortrec *r, struct df_input *in)
{
    size_t i, k;

    for (k = 1;; k++) {
        size_t found = 0;
        for (i = 0; i < in->ncolumns; i++) {
            const struct df_column *col = &in->columns[i];
            int64_t p = key_pos(col);
            struct df_sortfield *f = &r->f[r->nf];
            if ((size_t)(p < 0 ? -p : p) != k)
                continue;
            field_init(f, col, -1);
            f->desc = p < 0;
            f->flags =
                df_prop_int(col->props, col->nprops, "NewComparisonFlags", 0) &
                        1
                    ? DF_CMP_IGNORE_CASE
                    : 0;
            r->nf++;
            found++;
        }
        if (!found)
            break;
    }
    r->nkeys = r->nf;
    return 0;
}

static const struct df_column *
column_named(const struct df_input *in, const char *name)
{
    size_t i;

    for (i = 0; i < in->ncolumns; i++)
        if (strcmp(in->columns[i].name, name) == 0)
            return &in->columns[i];
    return NULL;
}

int
df_sortrec_init(struct df_sortrec *r, struct df_input *in,
                const struct df_output *out, const char *colprop,
                struct werr *err)
{
    size_t i;

    memset(r, 0, sizeof(*r));
    r->f = xcalloc(in->ncolumns + out->ncolumns + 1, sizeof(*r->f));
    add_keys(r, in);
    for (i = 0; i < out->ncolumns; i++) {
        const struct df_column *oc = &out->columns[i];
        const char *ref = df_prop(oc->props, oc->nprops, colprop);
        const struct df_column *ic = ref && *ref
                                         ? df_input_column_by_ref(in, ref)
                                         : column_named(in, oc->name);
        if (!ic)
            return werr_set(err, WERR_INVALID,
                            "output column '%s': %s '%s' names no input "
                            "column",
                            oc->name, colprop, ref ? ref : "");
        if (ic->type.dt != oc->type.dt)
            return werr_set(err, WERR_INVALID,
                            "output column '%s' is %s, its input column "
                            "'%s' %s",
                            oc->name, expr_dt_name(oc->type.dt), ic->name,
                            expr_dt_name(ic->type.dt));
        field_init(&r->f[r->nf++], ic, oc->slot);
    }
    return 0;
}

void
df_sortrec_release(struct df_sortrec *r)
{
    free(r->f);
    memset(r, 0, sizeof(*r));
}

void
df_sortrec_encode(const struct df_sortrec *r, const struct df_buffer *b,
                  size_t row, char **mem, size_t *len, size_t *cap)
{
    size_t i, need = 4, start = *len;
    uint32_t n;
    char *p;

    for (i = 0; i < r->nf; i++) {
        const struct df_sortfield *f = &r->f[i];
        const struct df_vec *v = &b->cols[f->slot];
        need += 1;
        if (v->nulls[row])
            continue;
        need +=
            f->var ? 4 + ((const struct expr_sv *)v->data)[row].len : f->width;
    }
    XGROW(*mem, start + need, *cap);
    p = *mem + start;
    n = (uint32_t)(need - 4);
    memcpy(p, &n, 4);
    p += 4;
    for (i = 0; i < r->nf; i++) {
        const struct df_sortfield *f = &r->f[i];
        const struct df_vec *v = &b->cols[f->slot];
        *p++ = v->nulls[row] ? 1 : 0;
        if (v->nulls[row])
            continue;
        if (f->var) {
            const struct expr_sv *sv = &((const struct expr_sv *)v->data)[row];
            uint32_t l = (uint32_t)sv->len;
            memcpy(p, &l, 4);
            if (l)
                memcpy(p + 4, sv->p, l);
            p += 4 + l;
        } else {
            memcpy(p, (const char *)v->data + row * f->width, f->width);
            p += f->width;
        }
    }
    *len = start + need;
}

/* Reads one field at *p into `val`; returns true when it is NULL. */
static bool
read_field(const struct df_sortfield *f, const char **p, union sortval *val)
{
    const char *q = *p;
    bool null = *q++ != 0;

    if (!null && f->var) {
        uint32_t l;
        memcpy(&l, q, 4);
        val->sv.p = q + 4;
        val->sv.len = l;
        q += 4 + l;
    } else if (!null) {
        memcpy(val, q, f->width);
        q += f->width;
    }
    *p = q;
    return null;
}

int
df_sortrec_cmp(const struct df_sortrec *r, const char *a, const char *b)
{
    size_t i;

    for (i = 0; i < r->nkeys; i++) {
        const struct df_sortfield *f = &r->f[i];
        union sortval x, y;
        bool xn = read_field(f, &a, &x), yn = read_field(f, &b, &y);
        int c;
        if (xn || yn)
            c = xn == yn ? 0 : xn ? -1 : 1;
        else
            c = df_cmp_values(f->dt, f->flags, &x, &y);
        if (c)
            return f->desc ? -c : c;
    }
    return 0;
}

size_t
df_sortrec_key_len(const struct df_sortrec *r, const char *a)
{
    const char *p = a;
    union sortval v;
    size_t i;

    for (i = 0; i < r->nkeys; i++)
        read_field(&r->f[i], &p, &v);
    return (size_t)(p - a);
}

void
df_sortrec_decode(const struct df_sortrec *r, const char *a,
                  struct df_buffer *b, size_t row)
{
    const char *p = a;
    union sortval v;
    size_t i;

    for (i = 0; i < r->nf; i++) {
        const struct df_sortfield *f = &r->f[i];
        bool null = read_field(f, &p, &v);
        struct df_vec *o;
        if (f->out_slot < 0)
            continue;
        o = &b->cols[f->out_slot];
        if (f->var)
            df_buffer_set_str(b, f->out_slot, row, null ? "" : v.sv.p,
                              null ? 0 : v.sv.len);
        else if (null)
            memset((char *)o->data + row * f->width, 0, f->width);
        else
            memcpy((char *)o->data + row * f->width, &v, f->width);
        o->nulls[row] = null; /* after df_buffer_set_str, which clears it */
    }
}
