/*
 * Character Map (Microsoft.CharacterMap): maps the characters of string
 * columns with Windows' LCMapString operations, named by MapFlags: a new
 * output column reads the input column its SourceInputColumnLineageId
 * names, and an input column marked readWrite is changed in place.
 *
 * Supported: lowercase (0x100) and uppercase (0x200) with Unicode's
 * simple case mappings (towlower/towupper in C.UTF-8), byte reversal
 * (0x800, of each UTF-16 unit of the BMP), hiragana (0x100000) and
 * katakana (0x200000), half width (0x400000) and full width (0x800000)
 * for ASCII and the ideographic space; linguistic casing (0x1000000) is
 * accepted and changes nothing more.  Simplified and traditional Chinese
 * (0x2000000, 0x4000000) need Windows' tables: validation says so.
 */
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "base/xalloc.h"
#include "dataflow/xform.h"
#include "base/banned.h"

enum {
    MAP_LOWER = 0x100,
    MAP_UPPER = 0x200,
    MAP_BYTEREV = 0x800,
    MAP_HIRAGANA = 0x100000,
    MAP_KATAKANA = 0x200000,
    MAP_HALF = 0x400000,
    MAP_FULL = 0x800000,
    MAP_LINGUISTIC = 0x1000000,
    MAP_CHINESE = 0x2000000 | 0x4000000,
};

struct map_col {
    const struct df_column *col; /* written: output or readWrite input */
    int from, to;
    unsigned flags;
};

struct charmap {
    struct map_col *cols;
    size_t ncols;
    struct df_output *out;
    locale_t loc;
    struct wbuf tmp;
};

static void
charmap_free(struct charmap *m)
{
    if (!m)
        return;
    if (m->loc)
        freelocale(m->loc);
    wbuf_release(&m->tmp);
    free(m->cols);
    free(m);
}

static int
add_col(struct charmap *m, const struct df_column *col, int from,
        struct werr *err)
{
    int64_t f = df_prop_int(col->props, col->nprops, "MapFlags", 0);
    enum expr_dt dt = col->type.dt;
    struct map_col *mc = &m->cols[m->ncols++];

    if (f & MAP_CHINESE)
        return werr_set(err, WERR_INVALID,
                        "column '%s': MapFlags %#llx asks for a Chinese "
                        "mapping, which weir does not have",
                        col->name, (unsigned long long)f);
    if (dt != EXPR_DT_STR && dt != EXPR_DT_WSTR && dt != EXPR_DT_TEXT &&
        dt != EXPR_DT_NTEXT)
        return werr_set(err, WERR_INVALID, "column '%s' is not a string",
                        col->name);
    mc->col = col;
    mc->from = from;
    mc->to = col->slot;
    mc->flags = (unsigned)f;
    return 0;
}

static int
add_output_col(struct charmap *m, struct df_component *c,
               const struct df_column *oc, struct werr *err)
{
    const char *ref =
        df_prop(oc->props, oc->nprops, "SourceInputColumnLineageId");
    const struct df_column *ic = df_input_column_by_ref(&c->inputs[0], ref);

    if (!ic)
        return werr_set(err, WERR_INVALID,
                        "column '%s': SourceInputColumnLineageId '%s' names "
                        "no input column",
                        oc->name, ref ? ref : "");
    return add_col(m, oc, ic->slot, err);
}

static struct charmap *
charmap_build(struct df_component *c, struct werr *err)
{
    struct charmap *m = xcalloc(1, sizeof(*m));
    struct df_input *in;
    size_t i;

    wbuf_init(&m->tmp, WBUF_NOLIMIT);
    if (c->ninputs != 1 || !(m->out = df_main_output(c))) {
        werr_set(err, WERR_INVALID, "expects one input and one output");
        goto fail;
    }
    in = &c->inputs[0];
    m->cols = xcalloc(in->ncolumns + m->out->ncolumns + 1, sizeof(*m->cols));
    /* New columns first: they read the values before any in-place map. */
    for (i = 0; i < m->out->ncolumns; i++)
        if (add_output_col(m, c, &m->out->columns[i], err) < 0)
            goto fail;
    for (i = 0; i < in->ncolumns; i++)
        if (in->columns[i].read_write &&
            add_col(m, &in->columns[i], in->columns[i].slot, err) < 0)
            goto fail;
    m->loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    return m;
fail:
    charmap_free(m);
    return NULL;
}

static int
charmap_validate(struct df_exec *x, struct df_component *c,
                 struct wbuf *problems)
{
    struct werr err = {0};
    struct charmap *m = charmap_build(c, &err);

    (void)x;
    if (!m)
        return df_problem(problems, c, "%s", err.msg);
    charmap_free(m);
    return 0;
}

static int
charmap_pre_execute(struct df_exec *x, struct df_component *c, struct werr *err)
{
    (void)x;
    c->state = charmap_build(c, err);
    return c->state ? 0 : werr_prefix(err, "component '%s'", c->name);
}

/* Decodes one UTF-8 character at p (n bytes left); *len gets its size.
 * Invalid bytes decode as themselves, one at a time. */
static uint32_t
utf8_get(const unsigned char *p, size_t n, size_t *len)
{
    uint32_t c = p[0];
    size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    size_t i;

    if (k > n || c >= 0xf8) {
        *len = 1;
        return c;
    }
    c &= k == 1 ? 0x7f : (0xff >> (k + 1));
    for (i = 1; i < k; i++)
        c = (c << 6) | (p[i] & 0x3f);
    *len = k;
    return c;
}

static void
utf8_put(struct wbuf *b, uint32_t c)
{
    char s[4];
    size_t n;

    if (c < 0x80) {
        s[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        s[0] = (char)(0xc0 | (c >> 6));
        s[1] = (char)(0x80 | (c & 0x3f));
        n = 2;
    } else if (c < 0x10000) {
        s[0] = (char)(0xe0 | (c >> 12));
        s[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        s[2] = (char)(0x80 | (c & 0x3f));
        n = 3;
    } else {
        s[0] = (char)(0xf0 | (c >> 18));
        s[1] = (char)(0x80 | ((c >> 12) & 0x3f));
        s[2] = (char)(0x80 | ((c >> 6) & 0x3f));
        s[3] = (char)(0x80 | (c & 0x3f));
        n = 4;
    }
    wbuf_add(b, s, n, NULL);
}

static uint32_t
map_char(uint32_t c, unsigned f, locale_t loc)
{
    if ((f & MAP_LOWER) && loc)
        c = (uint32_t)towlower_l((wint_t)c, loc);
    if ((f & MAP_UPPER) && loc)
        c = (uint32_t)towupper_l((wint_t)c, loc);
    if ((f & MAP_HIRAGANA) && c >= 0x30a1 && c <= 0x30f6)
        c -= 0x60;
    if ((f & MAP_KATAKANA) && c >= 0x3041 && c <= 0x3096)
        c += 0x60;
    if (f & MAP_HALF) {
        if (c >= 0xff01 && c <= 0xff5e)
            c -= 0xfee0;
        else if (c == 0x3000)
            c = 0x20;
    }
    if (f & MAP_FULL) {
        if (c >= 0x21 && c <= 0x7e)
            c += 0xfee0;
        else if (c == 0x20)
            c = 0x3000;
    }
    if ((f & MAP_BYTEREV) && c < 0x10000) {
        c = ((c & 0xff) << 8) | (c >> 8);
        if (c >= 0xd800 && c <= 0xdfff)
            c = 0xfffd;
    }
    return c;
}

static void
map_string(struct charmap *m, const struct expr_sv *in, unsigned flags)
{
    const unsigned char *p = (const unsigned char *)in->p;
    size_t i = 0, k;

    wbuf_reset(&m->tmp);
    while (i < in->len) {
        uint32_t c = utf8_get(p + i, in->len - i, &k);
        utf8_put(&m->tmp, map_char(c, flags, m->loc));
        i += k;
    }
}

static void
map_column(struct charmap *m, struct df_buffer *b, const struct map_col *mc)
{
    const struct df_vec *f = &b->cols[mc->from];
    size_t r;

    for (r = 0; r < b->nrows; r++) {
        if (f->nulls[r]) {
            df_buffer_set_null(b, mc->to, r);
            continue;
        }
        map_string(m, &((const struct expr_sv *)f->data)[r], mc->flags);
        df_buffer_set_str(b, mc->to, r, m->tmp.buf, m->tmp.len);
    }
}

static int
charmap_process(struct df_exec *x, struct df_component *c, struct df_input *in,
                struct df_buffer *b, struct werr *err)
{
    struct charmap *m = c->state;
    size_t i;

    (void)in;
    df_buffer_own(&b);
    for (i = 0; i < m->ncols; i++)
        map_column(m, b, &m->cols[i]);
    return df_send(x, m->out, b, err);
}

static void
charmap_cleanup(struct df_exec *x, struct df_component *c)
{
    (void)x;
    charmap_free(c->state);
    c->state = NULL;
}

const struct df_component_ops df_charmap_ops = {
    .class_id = "Microsoft.CharacterMap",
    .validate = charmap_validate,
    .pre_execute = charmap_pre_execute,
    .process = charmap_process,
    .cleanup = charmap_cleanup,
};
