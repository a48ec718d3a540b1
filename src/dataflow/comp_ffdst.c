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
 *
 * Speed: a buffer is written in chunks of CHUNK rows, column by column
 * first: each column's cells (text and length) are found or formatted in
 * one loop per column, with one test of its type, so numbers are
 * formatted by a tight loop and strings are not copied.  The chunk's
 * bytes are bounded from those lengths, room for all of them is made at
 * once, and the rows are then laid out without any further checks.
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
#define CHUNK 256u
#define NUM_TEXT 48 /* the longest integer or decimal text, and more */

/* The cells of one manager column for a chunk: text and length per row
 * (`off` into the chunk's text while it may still move). */
struct cells {
    const char **p;
    uint32_t *len;
    size_t *off;
};

struct ffdst {
    struct df_ff ff;
    char *path;
    int fd;
    iconv_t cd;
    char *out; /* text to write, UTF-8 */
    size_t len, cap;
    char *conv;
    size_t conv_cap;
    char *text; /* formatted values of the chunk */
    size_t ntext, text_cap;
    struct cells *cells; /* by manager column */
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
    char *in = d->out, *o;
    size_t inleft = d->len, oleft;

    if (d->cd == (iconv_t)-1) {
        if (write_all(d, d->out, d->len, err) < 0)
            return -1;
        d->len = 0;
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
    d->len = 0;
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
    for (size_t k = 0; d->cells && k < d->ff.ncols; k++) {
        free(d->cells[k].p);
        free(d->cells[k].len);
        free(d->cells[k].off);
    }
    free(d->cells);
    df_ff_release(&d->ff);
    free(d->out);
    free(d->conv);
    free(d->text);
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
    if (df_connection(x, c, "FlatFileConnection", &conn, err) < 0 ||
        df_ff_read(conn.cm, &d->ff, err) < 0 || bind_columns(c, d, err) < 0 ||
        open_encoder(d, err) < 0) {
        ffdst_free(d);
        return NULL;
    }
    d->path = xstrdup(conn.string ? conn.string : "");
    d->cap = 64 * 1024;
    d->out = xmalloc(d->cap);
    d->cells = xcalloc(d->ff.ncols + 1, sizeof(*d->cells));
    for (size_t k = 0; k < d->ff.ncols; k++) {
        d->cells[k].p = xmalloc(CHUNK * sizeof(*d->cells[k].p));
        d->cells[k].len = xmalloc(CHUNK * sizeof(*d->cells[k].len));
        d->cells[k].off = xmalloc(CHUNK * sizeof(*d->cells[k].off));
    }
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

static bool
fixed_width(const struct ffdst *d, size_t k)
{
    return d->ff.cols[k].fixed && d->ff.format != DF_FF_DELIMITED;
}

/* Room for `n` more bytes of output at d->out + d->len. */
static char *
reserve(struct ffdst *d, size_t n)
{
    if (d->cap - d->len < n) {
        d->cap = d->len + n > 2 * d->cap ? d->len + n : 2 * d->cap;
        d->out = xrealloc(d->out, d->cap);
    }
    return d->out + d->len;
}

/* Copies a field without a call for the short ones most fields are:
 * two overlapping loads cover 4 to 16 bytes. */
static inline char *
put_bytes(char *o, const char *p, size_t n)
{
    uint64_t a, b;
    uint32_t c, e;

    if (n >= 8 && n <= 16) {
        memcpy(&a, p, 8);
        memcpy(&b, p + n - 8, 8);
        memcpy(o, &a, 8);
        memcpy(o + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        memcpy(&c, p, 4);
        memcpy(&e, p + n - 4, 4);
        memcpy(o, &c, 4);
        memcpy(o + n - 4, &e, 4);
    } else if (n < 4) {
        for (size_t i = 0; i < n; i++)
            o[i] = p[i];
    } else {
        memcpy(o, p, n);
    }
    return o + n;
}

/* The most bytes column k's fields take for `n` fields of `len` bytes of
 * text in all: qualifiers may double every byte, padding adds a width. */
static size_t
fields_bound(const struct ffdst *d, size_t k, size_t n, size_t len)
{
    const struct df_ff_column *fc = &d->ff.cols[k];

    if (fixed_width(d, k))
        return len + n * ((size_t)fc->width + fc->delim_len);
    if (qualified(d, k))
        return 2 * len + n * (2 + fc->delim_len);
    return len + n * fc->delim_len;
}

/* A qualified field: the qualifier around it and doubled inside. */
static char *
put_qualified(char *o, char q, const char *p, size_t len)
{
    const char *e = p + len, *s;

    *o++ = q;
    for (; p < e && (s = memchr(p, q, (size_t)(e - p))); p = s + 1) {
        o = put_bytes(o, p, (size_t)(s - p) + 1);
        *o++ = q;
    }
    o = put_bytes(o, p, (size_t)(e - p));
    *o++ = q;
    return o;
}

/* A fixed-width field: cut at `w` characters or padded with spaces. */
static char *
put_fixed(char *o, size_t w, const char *p, size_t len)
{
    size_t n = 0, i = 0;

    for (; i < len; i++)
        if (((unsigned char)p[i] & 0xC0) != 0x80 && ++n > w)
            break;
    o = put_bytes(o, p, i);
    for (n = n > w ? w : n; n < w; n++)
        *o++ = ' ';
    return o;
}

/* Writes a field at `o` (fields_bound bytes free): qualified, padded or
 * cut as column k wants, then its delimiter. */
static char *
put_field(const struct ffdst *d, size_t k, char *o, const char *p,
          size_t len)
{
    const struct df_ff_column *fc = &d->ff.cols[k];

    if (fixed_width(d, k)) {
        o = put_fixed(o, (size_t)fc->width, p, len);
        if (k + 1 < d->ff.ncols)
            return o;
    } else if (qualified(d, k)) {
        o = put_qualified(o, d->ff.qualifier, p, len);
    } else {
        o = put_bytes(o, p, len);
    }
    if (fc->delim_len == 1)
        *o++ = fc->delim[0];
    else
        o = put_bytes(o, fc->delim, fc->delim_len);
    return o;
}

static int
write_header(struct df_component *c, struct ffdst *d, struct werr *err)
{
    const char *h = df_prop(c->props, c->nprops, "Header");
    size_t n = h ? strlen(h) : 0;

    memcpy(reserve(d, n), h ? h : "", n);
    d->len += n;
    for (size_t k = 0; d->ff.names_first && k < d->ff.ncols; k++) {
        const char *name = d->ff.cols[k].name;
        char *o = reserve(d, fields_bound(d, k, 1, strlen(name)));
        d->len = (size_t)(put_field(d, k, o, name, strlen(name)) - d->out);
    }
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

/* ---- a chunk of rows, column by column ---- */

/* A signed integer's digits, without snprintf; o has 21 bytes. */
static size_t
fmt_int(int64_t v, char *o)
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
    memcpy(o, tmp + k, n);
    return n;
}

/* Room for `n` more bytes of chunk text. */
static void
text_room(struct ffdst *d, size_t n)
{
    if (d->text_cap - d->ntext < n) {
        d->text_cap = d->ntext + n > 2 * d->text_cap ? d->ntext + n
                                                      : 2 * d->text_cap;
        d->text = xrealloc(d->text, d->text_cap);
    }
}

/* Any other type, a value at a time as a cast to DT_WSTR formats it. */
static void
format_values(struct ffdst *d, const struct df_buffer *b, int slot,
              size_t r0, size_t n, struct cells *c)
{
    struct expr_col ec = df_buffer_col(b, slot);
    struct expr_value v;
    char small[256];

    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        c->off[i] = d->ntext;
        if (!ec.nulls[r0 + i]) {
            expr_col_value(&ec, r0 + i, &v);
            len = expr_value_format(&v, small, sizeof(small));
            text_room(d, len + 1);
            if (len < sizeof(small))
                memcpy(d->text + d->ntext, small, len);
            else
                expr_value_format(&v, d->text + d->ntext, len + 1);
        }
        c->len[i] = (uint32_t)len;
        d->ntext += len;
    }
}

/* Rows [r0, r0+n) of a non-string column as text, in one loop per type;
 * NULL is empty.  Returns the bytes of text. */
static size_t
format_column(struct ffdst *d, const struct df_buffer *b, int slot,
              size_t r0, size_t n, struct cells *c)
{
    const struct df_vec *v = &b->cols[slot];
    const uint8_t *nl = v->nulls + r0;
    size_t at0 = d->ntext, at;

    text_room(d, n * NUM_TEXT);
    at = d->ntext;
#define LOOP(T, FMT)                                                       \
    for (size_t i = 0; i < n; i++) {                                       \
        T x = ((const T *)v->data)[r0 + i];                                \
        c->off[i] = at;                                                    \
        c->len[i] = nl[i] ? 0 : (uint32_t)(FMT);                           \
        at += c->len[i];                                                   \
    }
    switch (v->type.dt) {
    case EXPR_DT_I1: LOOP(int8_t, fmt_int(x, d->text + at)) break;
    case EXPR_DT_I2: LOOP(int16_t, fmt_int(x, d->text + at)) break;
    case EXPR_DT_I4: LOOP(int32_t, fmt_int(x, d->text + at)) break;
    case EXPR_DT_I8: LOOP(int64_t, fmt_int(x, d->text + at)) break;
    case EXPR_DT_NUMERIC:
    case EXPR_DT_DECIMAL:
        LOOP(expr_i128, expr_dec_format(x, v->type.scale, d->text + at))
        break;
    default:
        format_values(d, b, slot, r0, n, c);
        return d->ntext - at0;
    }
#undef LOOP
    d->ntext = at;
    return at - at0;
}

static bool
is_text(enum expr_dt dt)
{
    return dt == EXPR_DT_STR || dt == EXPR_DT_WSTR || dt == EXPR_DT_TEXT ||
           dt == EXPR_DT_NTEXT;
}

/* Rows [r0, r0+n) of a string column: its bytes, not copied. */
static size_t
string_cells(const struct df_vec *v, size_t r0, size_t n, struct cells *c)
{
    const struct expr_sv *sv = (const struct expr_sv *)v->data + r0;
    const uint8_t *nl = v->nulls + r0;
    size_t sum = 0;

    for (size_t i = 0; i < n; i++) {
        c->p[i] = sv[i].p;
        c->len[i] = nl[i] ? 0 : (uint32_t)sv[i].len;
        c->off[i] = SIZE_MAX;
        sum += c->len[i];
    }
    return sum;
}

/* The cells of every column for rows [r0, r0+n); returns the most bytes
 * they take written. */
static size_t
chunk_cells(struct ffdst *d, const struct df_buffer *b, size_t r0, size_t n)
{
    size_t bound = 0;

    d->ntext = 0;
    for (size_t k = 0; k < d->ff.ncols; k++) {
        const struct df_column *col = d->cols[k];
        struct cells *c = &d->cells[k];
        size_t sum = 0;
        if (!col) {
            for (size_t i = 0; i < n; i++)
                c->p[i] = "", c->len[i] = 0, c->off[i] = SIZE_MAX;
        } else if (is_text(b->cols[col->slot].type.dt)) {
            sum = string_cells(&b->cols[col->slot], r0, n, c);
        } else {
            sum = format_column(d, b, col->slot, r0, n, c);
        }
        bound += fields_bound(d, k, n, sum);
    }
    /* The chunk's text no longer moves. */
    for (size_t k = 0; k < d->ff.ncols; k++)
        for (size_t i = 0; d->cols[k] && i < n; i++)
            if (d->cells[k].off[i] != SIZE_MAX)
                d->cells[k].p[i] = d->text + d->cells[k].off[i];
    return bound;
}

static void
write_chunk(struct ffdst *d, const struct df_buffer *b, size_t r0, size_t n)
{
    size_t ncols = d->ff.ncols;
    char *o = reserve(d, chunk_cells(d, b, r0, n));

    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < ncols; k++)
            o = put_field(d, k, o, d->cells[k].p[i], d->cells[k].len[i]);
    d->len = (size_t)(o - d->out);
}

static int
ffdst_process(struct df_exec *x, struct df_component *c, struct df_input *in,
              struct df_buffer *b, struct werr *err)
{
    struct ffdst *d = c->state;
    int rc = 0;

    for (size_t r = 0; r < b->nrows && rc == 0; r += CHUNK) {
        write_chunk(d, b, r, b->nrows - r < CHUNK ? b->nrows - r : CHUNK);
        if (d->len >= OUT_FLUSH)
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
