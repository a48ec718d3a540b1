/*
 * The Flat File destination (Microsoft.FlatFileDestination): writes its
 * input's rows in the format of its Flat File connection manager.
 *
 * Input columns map to the manager's columns through their external
 * metadata columns (by name), and columns nothing maps to are written
 * empty.  Values are formatted as a cast to DT_WSTR formats them, NULL
 * as an empty field.  With a text qualifier, every column marked
 * TextQualified is enclosed in it and a qualifier inside the value is
 * doubled (SSIS writes it as is, which its own source cannot read back).
 * Fixed-width columns are padded with spaces or cut.  Text is produced in
 * UTF-8 and converted with iconv to the manager's code page, or to
 * UTF-16LE with a byte order mark when the manager says Unicode.
 */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "dataflow/df_core.h"
#include "dataflow/flatfile.h"

#define OUT_FLUSH (1u << 20)

struct ffdst {
    struct df_ff ff;
    char *path;
    int fd;
    iconv_t cd;
    struct wbuf out;
    char *conv;
    size_t conv_cap;
    const struct df_column **cols; /* by manager column, NULL: empty */
    int64_t rows;
};

static int
write_all(struct ffdst *d, const char *p, size_t n, struct werr *err)
{
    while (n) {
        ssize_t w = write(d->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return werr_set(err, WERR_IO, "writing '%s': %s", d->path,
                            strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int
flush_out(struct ffdst *d, struct werr *err)
{
    char *in = d->out.buf, *o;
    size_t inleft = d->out.len, oleft;

    if (d->cd == (iconv_t)-1) {
        if (write_all(d, d->out.buf, d->out.len, err) < 0)
            return -1;
        wbuf_reset(&d->out);
        return 0;
    }
    if (d->conv_cap < 4 * inleft + 16) {
        d->conv_cap = 4 * inleft + 16;
        d->conv = xrealloc(d->conv, d->conv_cap);
    }
    o = d->conv;
    oleft = d->conv_cap;
    if (iconv(d->cd, &in, &inleft, &o, &oleft) == (size_t)-1)
        return werr_set(err, WERR_INVALID,
                        "a value cannot be written in code page %d: %s",
                        d->ff.codepage, strerror(errno));
    wbuf_reset(&d->out);
    return write_all(d, d->conv, (size_t)(o - d->conv), err);
}

static const char *
external_name(const struct df_input *in, const struct df_column *col)
{
    for (size_t i = 0; col->external_id && i < in->nexternals; i++)
        if (!strcmp(in->externals[i].ref_id, col->external_id))
            return in->externals[i].name;
    return col->name;
}

static void
ffdst_free(struct ffdst *d)
{
    if (!d)
        return;
    if (d->fd >= 0)
        close(d->fd);
    if (d->cd != (iconv_t)-1)
        iconv_close(d->cd);
    df_ff_release(&d->ff);
    wbuf_release(&d->out);
    free(d->conv);
    free(d->cols);
    free(d->path);
    free(d);
}

static int
bind_columns(struct df_component *c, struct ffdst *d, struct werr *err)
{
    struct df_input *in = c->ninputs ? &c->inputs[0] : NULL;

    if (!in)
        return werr_set(err, WERR_INVALID, "the destination has no input");
    d->cols = xcalloc(d->ff.ncols + 1, sizeof(*d->cols));
    for (size_t i = 0; i < in->ncolumns; i++) {
        const char *name = external_name(in, &in->columns[i]);
        int k = df_ff_find(&d->ff, name);
        if (k < 0)
            return werr_set(err, WERR_INVALID,
                            "input column '%s' matches no column of the "
                            "connection manager",
                            name);
        d->cols[k] = &in->columns[i];
    }
    return 0;
}

static int
open_encoder(struct ffdst *d, struct werr *err)
{
    char to[32];

    d->cd = (iconv_t)-1;
    if (!d->ff.unicode && (d->ff.codepage == 65001 || d->ff.codepage == 20127))
        return 0;
    if (d->ff.unicode)
        snprintf(to, sizeof(to), "UTF-16LE");
    else
        snprintf(to, sizeof(to), "CP%d", d->ff.codepage);
    if ((d->cd = iconv_open(to, "UTF-8")) == (iconv_t)-1)
        return werr_set(err, WERR_INVALID, "code page %d is not supported",
                        d->ff.codepage);
    return 0;
}

static struct ffdst *
ffdst_setup(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct ffdst *d = xcalloc(1, sizeof(*d));
    struct df_conn conn;

    d->fd = -1;
    d->cd = (iconv_t)-1;
    wbuf_init(&d->out, WBUF_NOLIMIT);
    if (df_connection(x, c, "FlatFileConnection", &conn, err) < 0 ||
        df_ff_read(conn.cm, &d->ff, err) < 0 || bind_columns(c, d, err) < 0 ||
        open_encoder(d, err) < 0) {
        ffdst_free(d);
        return NULL;
    }
    d->path = xstrdup(conn.string ? conn.string : "");
    return d;
}

static int
ffdst_validate(struct df_exec *x, struct df_component *c,
               struct wbuf *problems)
{
    struct werr err;
    struct ffdst *d = ffdst_setup(x, c, &err);

    if (d) {
        ffdst_free(d);
        return 0;
    }
    wbuf_addf(problems, NULL, "component '%s': %s\n", c->name, err.msg);
    return 1;
}

static bool
qualified(const struct ffdst *d, size_t k)
{
    return d->ff.qualifier && d->ff.cols[k].qualified;
}

/* Appends a field: qualified, padded or cut as column k wants. */
static void
put_field(struct ffdst *d, size_t k, const char *p, size_t len)
{
    const struct df_ff_column *fc = &d->ff.cols[k];
    char q = d->ff.qualifier;

    if (fc->fixed && d->ff.format != DF_FF_DELIMITED) {
        size_t w = (size_t)fc->width, n = 0, i = 0;
        for (; i < len; i++) /* cut at `w` characters */
            if (((unsigned char)p[i] & 0xC0) != 0x80 && ++n > w)
                break;
        wbuf_add(&d->out, p, i, NULL);
        for (n = n > w ? w : n; n < w; n++)
            wbuf_addch(&d->out, ' ', NULL);
    } else if (qualified(d, k)) {
        wbuf_addch(&d->out, q, NULL);
        for (const char *e = p + len, *s; p < e; p = s + 1) {
            if (!(s = memchr(p, q, (size_t)(e - p)))) {
                wbuf_add(&d->out, p, (size_t)(e - p), NULL);
                break;
            }
            wbuf_add(&d->out, p, (size_t)(s - p) + 1, NULL);
            wbuf_addch(&d->out, q, NULL);
        }
        wbuf_addch(&d->out, q, NULL);
    } else {
        wbuf_add(&d->out, p, len, NULL);
    }
    if (!fc->fixed || d->ff.format == DF_FF_DELIMITED ||
        k == d->ff.ncols - 1)
        wbuf_add(&d->out, fc->delim, fc->delim_len, NULL);
}

static int
write_header(struct df_component *c, struct ffdst *d, struct werr *err)
{
    const char *h = df_prop(c->props, c->nprops, "Header");

    if (h && *h)
        wbuf_adds(&d->out, h, NULL);
    if (d->ff.names_first)
        for (size_t k = 0; k < d->ff.ncols; k++)
            put_field(d, k, d->ff.cols[k].name, strlen(d->ff.cols[k].name));
    return 0;
}

static int
ffdst_pre_execute(struct df_exec *x, struct df_component *c,
                  struct werr *err)
{
    struct ffdst *d = ffdst_setup(x, c, err);
    bool overwrite = df_prop_bool(c->props, c->nprops, "Overwrite", true);
    struct stat st;

    if (!d)
        return -1;
    c->state = d;
    if (pkg_path_is_windows(d->path))
        return werr_set(err, WERR_INVALID,
                        "the file '%s' is a Windows path: give its Linux "
                        "path with --connection NAME=PATH",
                        d->path);
    d->fd = open(d->path,
                 O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC
                                                             : O_APPEND),
                 0666);
    if (d->fd < 0)
        return werr_set(err, WERR_IO, "cannot open '%s' for writing: %s",
                        d->path, strerror(errno));
    if (fstat(d->fd, &st) == 0 && st.st_size > 0)
        return 0; /* appending: the file has its header already */
    if (d->ff.unicode && write_all(d, "\xFF\xFE", 2, err) < 0)
        return -1;
    return write_header(c, d, err);
}

/* A signed integer's digits, without snprintf; buf holds 21 bytes. */
static size_t
fmt_int(int64_t v, char *buf)
{
    uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    char tmp[24];
    size_t k = sizeof(tmp), n;

    do {
        tmp[--k] = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    if (v < 0)
        tmp[--k] = '-';
    n = sizeof(tmp) - k;
    memcpy(buf, tmp + k, n);
    return n;
}

/* The common integer widths straight from their vectors; false for any
 * other type. */
static bool
int_text(const struct df_vec *v, size_t row, char *buf, size_t *n)
{
    switch (v->type.dt) {
    case EXPR_DT_I2:
        *n = fmt_int(((const int16_t *)v->data)[row], buf);
        return true;
    case EXPR_DT_I4:
        *n = fmt_int(((const int32_t *)v->data)[row], buf);
        return true;
    case EXPR_DT_I8:
        *n = fmt_int(((const int64_t *)v->data)[row], buf);
        return true;
    default:
        return false;
    }
}

static void
put_value(struct ffdst *d, size_t k, const struct df_buffer *b, size_t row)
{
    const struct df_column *col = d->cols[k];
    const struct df_vec *vec;
    struct expr_col ec;
    struct expr_value v;
    char text[256], *big = NULL;
    size_t n;

    if (!col) {
        put_field(d, k, "", 0);
        return;
    }
    vec = &b->cols[col->slot];
    if (vec->nulls && vec->nulls[row]) {
        put_field(d, k, "", 0);
        return;
    }
    if (int_text(vec, row, text, &n)) {
        put_field(d, k, text, n);
        return;
    }
    ec = df_buffer_col(b, col->slot);
    expr_col_value(&ec, row, &v);
    if (v.type.dt == EXPR_DT_STR || v.type.dt == EXPR_DT_WSTR ||
        v.type.dt == EXPR_DT_TEXT || v.type.dt == EXPR_DT_NTEXT) {
        put_field(d, k, v.v.s.p, v.v.s.len);
    } else {
        n = expr_value_format(&v, text, sizeof(text));
        if (n >= sizeof(text)) {
            big = xmalloc(n + 1);
            expr_value_format(&v, big, n + 1);
        }
        put_field(d, k, big ? big : text, n);
        free(big);
    }
}

static int
ffdst_process(struct df_exec *x, struct df_component *c, struct df_input *in,
              struct df_buffer *b, struct werr *err)
{
    struct ffdst *d = c->state;
    int rc = 0;

    for (size_t r = 0; r < b->nrows && rc == 0; r++) {
        for (size_t k = 0; k < d->ff.ncols; k++)
            put_value(d, k, b, r);
        if (d->out.len >= OUT_FLUSH)
            rc = flush_out(d, err);
    }
    d->rows += (int64_t)b->nrows;
    df_buffer_unref(b);
    return rc;
}

static int
ffdst_post_execute(struct df_exec *x, struct df_component *c, bool failed,
                   struct werr *err)
{
    struct ffdst *d = c->state;

    if (flush_out(d, err) < 0)
        return -1;
    if (close(d->fd) < 0) {
        d->fd = -1;
        return werr_set(err, WERR_IO, "closing '%s': %s", d->path,
                        strerror(errno));
    }
    d->fd = -1;
    df_event(x, c, DF_EV_INFORMATION, "wrote %lld rows to '%s'",
             (long long)d->rows, d->path);
    return 0;
}

static void
ffdst_cleanup(struct df_exec *x, struct df_component *c)
{
    ffdst_free(c->state);
    c->state = NULL;
}

const struct df_component_ops df_flatfile_destination_ops = {
    .class_id = "Microsoft.FlatFileDestination",
    .validate = ffdst_validate,
    .pre_execute = ffdst_pre_execute,
    .process = ffdst_process,
    .post_execute = ffdst_post_execute,
    .cleanup = ffdst_cleanup,
};
