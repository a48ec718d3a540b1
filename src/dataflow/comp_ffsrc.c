/*
 * The Flat File source (Microsoft.FlatFileSource): reads the file its
 * Flat File connection manager describes and converts each field to its
 * output column's type.
 *
 * The file is read in large blocks (converted to UTF-8 by iconv when its
 * code page is not UTF-8, and from UTF-16LE when the manager says
 * Unicode) into one window; rows are scanned in place for the stop
 * bytes of each column (its delimiter's first byte, the row delimiter's,
 * LF), sixteen bytes at a time with SSE2 where the machine has it, else
 * through a table.  A row's text is copied once into the buffer's bytes
 * and its string values point into that copy.  A row that does not fit
 * the window grows it, up to FF_MAX_ROW.
 *
 * Rules (shared DTSX.md §3.4): the last column's delimiter is the row
 * delimiter; a row delimiter before the last column ends the row and the
 * missing columns are empty; extra delimiters in a row stay in its last
 * column; a lone LF where CR LF is declared ends the row too (files that
 * went through git), which is reported once; a doubled qualifier inside
 * a qualified field is one qualifier; an empty field is an empty string,
 * or NULL with RetainNulls, and NULL for non-string columns.
 */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/xalloc.h"
#include "base/banned.h"
#include "dataflow/df_core.h"
#include "dataflow/flatfile.h"

#define FF_BLOCK (1u << 20)
#define FF_MAX_ROW (64u << 20)

struct span {
    const char *p;
    size_t len;
    bool doubled; /* holds doubled qualifiers to undo */
};

/* The bytes that may start a column's stop (at most three distinct:
 * its delimiter's, the row delimiter's, LF), for the SIMD scan. */
struct stopset {
    uint8_t b[3];
    int n;
};

struct map {
    int ff;   /* column of the manager */
    int slot; /* in the output's buffers */
    const struct df_column *col;
};

struct ffsrc {
    struct df_ff ff;
    char *path;
    int fd;
    iconv_t cd; /* (iconv_t)-1: the file is UTF-8 */
    char *raw;
    size_t nraw;
    char *buf;
    size_t cap, pos, end;
    bool eof, started, lf_seen, lf_ok, retain_nulls;
    size_t maxdelim;
    uint8_t (*stop)[256]; /* per manager column */
    struct stopset *sets; /* per manager column */
    bool has_strings;     /* a string column is mapped */
    struct span *f;
    struct map *map;
    size_t nmap;
    int fname_slot;
    struct df_output *out, *eout;
    int e_text, e_code, e_col;
    int64_t rows;
};

/* ---- reading ---- */

static int
read_raw(struct ffsrc *s, char *dst, size_t room, size_t *got,
         struct werr *err)
{
    ssize_t n;

    do
        n = read(s->fd, dst, room);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return werr_set(err, WERR_IO, "reading '%s': %s", s->path,
                        strerror(errno));
    *got = (size_t)n;
    return 0;
}

/* Converts what is in s->raw into the window. */
static int
convert(struct ffsrc *s, bool at_eof, struct werr *err)
{
    char *in = s->raw, *out = s->buf + s->end;
    size_t inleft = s->nraw, outleft = s->cap - s->end;

    if (iconv(s->cd, &in, &inleft, &out, &outleft) == (size_t)-1 &&
        errno != E2BIG && (errno != EINVAL || at_eof))
        return werr_set(err, WERR_INVALID,
                        "'%s' is not valid text in code page %d near "
                        "byte %zu of a block",
                        s->path, s->ff.unicode ? 1200 : s->ff.codepage,
                        (size_t)(in - s->raw));
    s->end = (size_t)(out - s->buf);
    memmove(s->raw, in, inleft);
    s->nraw = inleft;
    return 0;
}

/* Makes room and reads more into the window; sets eof at the end. */
static int
fill(struct ffsrc *s, struct werr *err)
{
    size_t got = 0;

    if (s->pos) {
        memmove(s->buf, s->buf + s->pos, s->end - s->pos);
        s->end -= s->pos;
        s->pos = 0;
    }
    if (s->cap - s->end < FF_BLOCK / 4) {
        if (s->cap >= FF_MAX_ROW)
            return werr_set(err, WERR_LIMIT,
                            "'%s': a row is longer than %u MiB", s->path,
                            FF_MAX_ROW >> 20);
        s->cap *= 2;
        s->buf = xrealloc(s->buf, s->cap + 1);
    }
    if (s->cd == (iconv_t)-1) {
        if (read_raw(s, s->buf + s->end, s->cap - s->end, &got, err) < 0)
            return -1;
        s->end += got;
    } else {
        if (read_raw(s, s->raw + s->nraw, FF_BLOCK - s->nraw, &got, err) <
            0)
            return -1;
        s->nraw += got;
        if (convert(s, got == 0, err) < 0)
            return -1;
    }
    if (got == 0)
        s->eof = true;
    if (!s->started && (s->end >= 3 || s->eof)) {
        s->started = true;
        if (s->end >= 3 && !memcmp(s->buf, "\xEF\xBB\xBF", 3))
            s->pos = 3; /* a byte order mark */
    }
    return 0;
}

/* ---- scanning ---- */

enum { ROW_MORE = 0, ROW_OK = 1, ROW_END = -1 };

static bool
at(const char *p, const char *e, const char *d, size_t n)
{
    if (n == 1)
        return p < e && *p == *d;
    return (size_t)(e - p) >= n && !memcmp(p, d, n);
}

/* The first byte in [p, e) that may start a stop of the column whose
 * stop bytes are `ss` and `stop`, or e. */
static const char *
next_stop(const struct stopset *ss, const uint8_t *stop, const char *p,
          const char *e)
{
#ifdef __SSE2__
    if (ss->n) {
        __m128i a = _mm_set1_epi8((char)ss->b[0]);
        __m128i b = _mm_set1_epi8((char)ss->b[1]);
        __m128i c = _mm_set1_epi8((char)ss->b[2]);

        for (; e - p >= 16; p += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i hit = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, a), _mm_cmpeq_epi8(v, b)),
                _mm_cmpeq_epi8(v, c));
            int m = _mm_movemask_epi8(hit);

            if (m)
                return p + __builtin_ctz((unsigned)m);
        }
    }
#else
    (void)ss;
#endif
    while (p < e && !stop[(unsigned char)*p])
        p++;
    return p;
}

/* The first stop of column `i` in [p, e): its delimiter, the row
 * delimiter, or a lone LF where CR LF is declared.  Sets *row when the
 * row ends there and *skip to the stop's length.  Returns NULL when there
 * is none in the window, and sets *more when more data could hold it. */
static const char *
find_stop(struct ffsrc *s, size_t i, const char *p, const char *e, bool *row,
          size_t *skip)
{
    const struct df_ff_column *c = &s->ff.cols[i];
    const struct df_ff_column *last = &s->ff.cols[s->ff.ncols - 1];
    const uint8_t *stop = s->stop[i];

    for (; (p = next_stop(&s->sets[i], stop, p, e)) < e; p++) {
        if ((size_t)(e - p) < s->maxdelim && !s->eof)
            return NULL; /* a delimiter may be cut by the window */
        if (c->delim_len && at(p, e, c->delim, c->delim_len)) {
            *row = c == last;
            *skip = c->delim_len;
            return p;
        }
        if (at(p, e, last->delim, last->delim_len)) {
            *row = true;
            *skip = last->delim_len;
            return p;
        }
        if (*p == '\n' && s->lf_ok) {
            *row = true;
            *skip = 1;
            s->lf_seen = true;
            return p;
        }
    }
    return NULL;
}

/* The end of a qualified field starting after its opening qualifier at
 * p; NULL if the window ends first. */
static const char *
close_quote(struct ffsrc *s, const char *p, const char *e, bool *doubled)
{
    char q = s->ff.qualifier;

    while ((p = memchr(p, q, (size_t)(e - p)))) {
        if (p + 1 == e && !s->eof)
            return NULL;
        if (p + 1 < e && p[1] == q) {
            *doubled = true;
            p += 2;
            continue;
        }
        return p;
    }
    return NULL;
}

/* Delimited and ragged-right fields of column i from *pp. */
static int
scan_delimited(struct ffsrc *s, size_t i, const char **pp, const char *e,
               bool *row)
{
    const char *p = *pp, *stop;
    struct span *f = &s->f[i];
    size_t skip = 0;

    f->doubled = false;
    if (s->ff.qualifier && s->ff.cols[i].qualified && p < e &&
        *p == s->ff.qualifier) {
        const char *q = close_quote(s, p + 1, e, &f->doubled);
        if (!q) {
            if (!s->eof)
                return ROW_MORE;
            q = e; /* an unterminated qualifier runs to the end */
        }
        f->p = p + 1;
        f->len = (size_t)(q - p - 1);
        p = q < e ? q + 1 : e;
        if (!(stop = find_stop(s, i, p, e, row, &skip))) {
            if (!s->eof)
                return ROW_MORE;
            stop = e;
            *row = true;
        }
    } else {
        if (!(stop = find_stop(s, i, p, e, row, &skip))) {
            if (!s->eof)
                return ROW_MORE;
            stop = e;
            *row = true;
        }
        f->p = p;
        f->len = (size_t)(stop - p);
    }
    *pp = stop + skip;
    return ROW_OK;
}

/* `w` characters of UTF-8 from p. */
static const char *
chars(const char *p, const char *e, int w)
{
    while (p < e && w > 0) {
        p++;
        while (p < e && ((unsigned char)*p & 0xC0) == 0x80)
            p++;
        w--;
    }
    return w > 0 ? NULL : p;
}

static int
scan_fixed(struct ffsrc *s, size_t i, const char **pp, const char *e)
{
    const char *p = *pp, *q = chars(p, e, s->ff.cols[i].width);

    if (!q) {
        if (!s->eof)
            return ROW_MORE;
        q = e;
    }
    s->f[i].p = p;
    s->f[i].len = (size_t)(q - p);
    s->f[i].doubled = false;
    *pp = q;
    return ROW_OK;
}

/* Scans one row at s->pos into s->f; the row's text is [*start, *stop). */
static int
scan_row(struct ffsrc *s, const char **start, const char **stop)
{
    const char *p = s->buf + s->pos, *e = s->buf + s->end;
    size_t n = s->ff.ncols, i = 0;
    bool row = false;

    if (p == e)
        return s->eof ? ROW_END : ROW_MORE;
    *start = p;
    for (; i < n && !row; i++) {
        const char *before = p;
        int rc = s->ff.cols[i].fixed && s->ff.format != DF_FF_DELIMITED
                     ? scan_fixed(s, i, &p, e)
                     : scan_delimited(s, i, &p, e, &row);
        if (rc != ROW_OK)
            return rc;
        *stop = row ? s->f[i].p + s->f[i].len : p;
        (void)before;
        if (!row && p == e && s->eof)
            row = true;
    }
    for (; i < n; i++) { /* a short row: the rest are empty */
        s->f[i].p = NULL;
        s->f[i].len = 0;
        s->f[i].doubled = false;
    }
    s->pos = (size_t)(p - s->buf);
    return ROW_OK;
}

/* Skips `n` lines ended by the header row delimiter. */
static int
skip_header(struct ffsrc *s, long n, struct werr *err)
{
    const char *d = s->ff.header_delim;
    size_t dl = strlen(d);

    while (n > 0) {
        const char *p = s->buf + s->pos, *e = s->buf + s->end, *hit = NULL;
        size_t skip = dl;
        for (const char *q = p; q < e && !hit; q++) {
            if (dl && at(q, e, d, dl))
                hit = q;
            else if (*q == '\n' && s->lf_ok)
                hit = q, skip = 1;
        }
        if (hit) {
            s->pos = (size_t)(hit + skip - s->buf);
            n--;
        } else if (s->eof) {
            s->pos = s->end;
            return 0;
        } else if (fill(s, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- converting ---- */

static bool
is_string(enum expr_dt dt)
{
    return dt == EXPR_DT_STR || dt == EXPR_DT_WSTR || dt == EXPR_DT_TEXT ||
           dt == EXPR_DT_NTEXT;
}

/* Where the row being taken was copied into the buffer's bytes: a field
 * at p in the window is at copy + (p - start). */
struct rowcopy {
    const char *start;
    char *copy; /* NULL: not copied */
};

/* Stores a string field, undoing doubled qualifiers. */
static void
put_string(struct ffsrc *s, struct df_buffer *b, int slot, size_t row,
           const struct span *f, size_t len, const struct rowcopy *rc)
{
    struct expr_sv *v = b->cols[slot].data;
    char *d, q = s->ff.qualifier;
    size_t n = 0;

    if (!f->doubled && rc->copy) {
        v[row].p = rc->copy + (f->p - rc->start);
        v[row].len = len;
        b->cols[slot].nulls[row] = 0;
        return;
    }
    if (!f->doubled) {
        df_buffer_set_str(b, slot, row, f->p, len);
        return;
    }
    d = df_buffer_bytes(b, len + 1);
    for (size_t i = 0; i < len; i++) {
        d[n++] = f->p[i];
        if (f->p[i] == q && i + 1 < len && f->p[i + 1] == q)
            i++;
    }
    v[row].p = d;
    v[row].len = n;
    b->cols[slot].nulls[row] = 0;
}

/* Fast path for plain decimal integers; false when the text is anything
 * else (the general parser decides). */
static bool
fast_int(const char *p, size_t len, int64_t *out)
{
    bool neg = false;
    uint64_t v = 0;
    size_t i = 0;

    if (len && (*p == '-' || *p == '+'))
        neg = *p == '-', i = 1;
    if (i == len || len - i > 18)
        return false;
    for (; i < len; i++) {
        unsigned d = (unsigned char)p[i] - '0';
        if (d > 9)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

static bool
int_fits(enum expr_dt dt, int64_t v)
{
    switch (dt) {
    case EXPR_DT_I1: return v >= INT8_MIN && v <= INT8_MAX;
    case EXPR_DT_I2: return v >= INT16_MIN && v <= INT16_MAX;
    case EXPR_DT_I4: return v >= INT32_MIN && v <= INT32_MAX;
    case EXPR_DT_I8: return true;
    default: return false;
    }
}

/* Converts field `f` into row `row`; returns 0 or a DF_E_* code. */
static int32_t
put_value(struct ffsrc *s, struct df_buffer *b, const struct map *m,
          size_t row, const struct span *f, const struct rowcopy *rc)
{
    const struct expr_type *t = &m->col->type;
    struct expr_value v;
    struct werr err;
    int64_t i;

    if (!f->len && (s->retain_nulls || !is_string(t->dt) || !f->p)) {
        df_buffer_set_null(b, m->slot, row);
        return 0;
    }
    if (is_string(t->dt)) {
        size_t len = f->len;
        /* A byte is at most two units: short values need no count. */
        if (t->length > 0 && len > (size_t)t->length / 2 &&
            df_utf16_units(f->p, len) > (size_t)t->length) {
            if (m->col->trunc_disp != DF_DISP_IGNORE)
                return DF_E_TRUNCATION;
            len = df_utf16_cut(f->p, len, (size_t)t->length);
        }
        put_string(s, b, m->slot, row, f, len, rc);
        return 0;
    }
    if (fast_int(f->p, f->len, &i) && int_fits(t->dt, i)) {
        v.type = *t;
        v.null = false;
        v.v.i = i;
    } else if (expr_value_parse(f->p, f->len, t, &v, &err) < 0) {
        return DF_E_CONVERSION;
    }
    return df_buffer_set_value(b, m->slot, row, &v, &err) < 0
               ? DF_E_CONVERSION
               : 0;
}

/* ---- the component ---- */

static struct df_output *
main_output(struct df_component *c)
{
    for (size_t i = 0; i < c->noutputs; i++)
        if (!c->outputs[i].is_error)
            return &c->outputs[i];
    return NULL;
}

static const char *
external_name(const struct df_output *o, const struct df_column *col)
{
    for (size_t i = 0; col->external_id && i < o->nexternals; i++)
        if (!strcmp(o->externals[i].ref_id, col->external_id))
            return o->externals[i].name;
    return col->name;
}

/* Maps the output columns to the manager's columns. */
static int
bind_columns(struct df_component *c, struct ffsrc *s, const char *cm,
             struct werr *err)
{
    const char *fname = df_prop(c->props, c->nprops, "FileNameColumnName");
    struct df_output *o = s->out;

    s->map = xcalloc(o->ncolumns + 1, sizeof(*s->map));
    s->fname_slot = -1;
    for (size_t i = 0; i < o->ncolumns; i++) {
        const struct df_column *col = &o->columns[i];
        int k;
        if (fname && *fname && !strcmp(col->name, fname)) {
            s->fname_slot = col->slot;
            continue;
        }
        if ((k = df_ff_find(&s->ff, external_name(o, col))) < 0)
            return werr_set(err, WERR_INVALID,
                            "output column '%s' matches no column of "
                            "connection manager '%s'",
                            col->name, cm);
        s->map[s->nmap++] = (struct map){.ff = k, .slot = col->slot,
                                         .col = col};
        s->has_strings |= is_string(col->type.dt);
    }
    return 0;
}

/* The stop bytes of a table, repeated to fill the three lanes. */
static void
fill_set(struct stopset *ss, const uint8_t *stop)
{
    for (int ch = 0; ch < 256; ch++)
        if (stop[ch] && ss->n < 3)
            ss->b[ss->n++] = (uint8_t)ch;
    for (int k = ss->n; ss->n && k < 3; k++)
        ss->b[k] = ss->b[0];
}

static void
build_stops(struct ffsrc *s)
{
    size_t n = s->ff.ncols;
    const struct df_ff_column *last = &s->ff.cols[n - 1];

    s->stop = xcalloc(n, sizeof(*s->stop));
    s->sets = xcalloc(n, sizeof(*s->sets));
    s->lf_ok = !strcmp(last->delim, "\r\n");
    for (size_t i = 0; i < n; i++) {
        const struct df_ff_column *c = &s->ff.cols[i];
        if (c->delim_len)
            s->stop[i][(unsigned char)c->delim[0]] = 1;
        if (last->delim_len)
            s->stop[i][(unsigned char)last->delim[0]] = 1;
        if (s->lf_ok)
            s->stop[i]['\n'] = 1;
        if (c->delim_len > s->maxdelim)
            s->maxdelim = c->delim_len;
        fill_set(&s->sets[i], s->stop[i]);
    }
    s->f = xcalloc(n, sizeof(*s->f));
}

static int
open_decoder(struct ffsrc *s, struct werr *err)
{
    char from[32];

    s->cd = (iconv_t)-1;
    if (!s->ff.unicode && (s->ff.codepage == 65001 || s->ff.codepage == 20127))
        return 0;
    if (s->ff.unicode)
        snprintf(from, sizeof(from), "UTF-16LE");
    else
        snprintf(from, sizeof(from), "CP%d", s->ff.codepage);
    if ((s->cd = iconv_open("UTF-8", from)) == (iconv_t)-1)
        return werr_set(err, WERR_INVALID, "code page %d is not supported",
                        s->ff.codepage);
    s->raw = xmalloc(FF_BLOCK);
    return 0;
}

static void
ffsrc_free(struct ffsrc *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    if (s->cd != (iconv_t)-1)
        iconv_close(s->cd);
    df_ff_release(&s->ff);
    free(s->path);
    free(s->raw);
    free(s->buf);
    free(s->stop);
    free(s->sets);
    free(s->f);
    free(s->map);
    free(s);
}

/* Everything but opening the file. */
static struct ffsrc *
ffsrc_setup(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct ffsrc *s = xcalloc(1, sizeof(*s));
    struct df_conn conn;

    s->fd = -1;
    s->cd = (iconv_t)-1;
    if (!(s->out = main_output(c))) {
        werr_set(err, WERR_INVALID, "the source has no output");
        goto fail;
    }
    s->eout = df_error_output(c);
    if (df_connection(x, c, "FlatFileConnection", &conn, err) < 0 ||
        df_ff_read(conn.cm, &s->ff, err) < 0 ||
        bind_columns(c, s, conn.cm->name, err) < 0 ||
        open_decoder(s, err) < 0)
        goto fail;
    s->path = xstrdup(conn.string ? conn.string : "");
    s->retain_nulls = df_prop_bool(c->props, c->nprops, "RetainNulls", false);
    build_stops(s);
    return s;
fail:
    ffsrc_free(s);
    return NULL;
}

static int
ffsrc_validate(struct df_exec *x, struct df_component *c,
               struct wbuf *problems)
{
    struct werr err;
    struct ffsrc *s = ffsrc_setup(x, c, &err);

    if (s) {
        ffsrc_free(s);
        return 0;
    }
    wbuf_addf(problems, NULL, "component '%s': %s\n", c->name, err.msg);
    return 1;
}

static int
ffsrc_pre_execute(struct df_exec *x, struct df_component *c,
                  struct werr *err)
{
    struct ffsrc *s = ffsrc_setup(x, c, err);

    if (!s)
        return -1;
    c->state = s;
    if (pkg_path_is_windows(s->path))
        return werr_set(err, WERR_INVALID,
                        "the file '%s' is a Windows path: give its Linux "
                        "path with --connection NAME=PATH",
                        s->path);
    if ((s->fd = open(s->path, O_RDONLY | O_CLOEXEC)) < 0)
        return werr_set(err, errno == ENOENT ? WERR_NOTFOUND : WERR_IO,
                        "cannot open '%s': %s", s->path, strerror(errno));
    s->cap = 4 * FF_BLOCK;
    s->buf = xmalloc(s->cap + 1);
    if (s->eout) {
        s->e_code = df_special_slot(s->eout, DF_SPECIAL_ERROR_CODE);
        s->e_col = df_special_slot(s->eout, DF_SPECIAL_ERROR_COLUMN);
        s->e_text = -1;
        for (size_t i = 0; i < s->eout->ncolumns && s->e_text < 0; i++)
            if (!s->eout->columns[i].special)
                s->e_text = s->eout->columns[i].slot;
    }
    return 0;
}

/* Sends `*b` (if any) on `o` and forgets it. */
static int
flush(struct df_exec *x, struct df_output *o, struct df_buffer **b,
      struct werr *err)
{
    struct df_buffer *t = *b;

    *b = NULL;
    return t ? df_send(x, o, t, err) : 0;
}

struct rowctx {
    struct df_buffer *b, *eb;
    const char *start, *stop;
};

static int
redirect(struct df_exec *x, struct ffsrc *s, struct rowctx *r, int32_t code,
         const struct df_column *col, struct werr *err)
{
    struct df_buffer *e;
    size_t row;

    if (!s->eout || !s->eout->to || !s->eout->layout)
        return 0;
    if (!r->eb)
        r->eb = df_buffer_new(s->eout->layout);
    e = r->eb;
    row = e->nrows++;
    if (s->e_text >= 0)
        df_buffer_set_str(e, s->e_text, row, r->start,
                          (size_t)(r->stop - r->start));
    if (s->e_code >= 0)
        ((int32_t *)e->cols[s->e_code].data)[row] = code;
    if (s->e_col >= 0)
        ((int32_t *)e->cols[s->e_col].data)[row] = col->id;
    return df_buffer_room(e) ? 0 : flush(x, s->eout, &r->eb, err);
}

static int
row_failed(struct df_exec *x, struct df_component *c, struct ffsrc *s,
           const struct map *m, int32_t code, struct werr *err)
{
    const struct span *f = &s->f[m->ff];
    char type[64];

    expr_type_format(&m->col->type, type, sizeof(type));
    df_error(x, c, 0,
             "data row %lld of '%s', column '%s': the value \"%.*s\" %s %s",
             (long long)s->rows, s->path, m->col->name,
             (int)(f->len > 100 ? 100 : f->len), f->p ? f->p : "",
             code == DF_E_TRUNCATION ? "is too long for" : "does not convert to",
             type);
    return werr_set(err, WERR_INVALID, "column '%s' failed", m->col->name);
}

static int
take_row(struct df_exec *x, struct df_component *c, struct ffsrc *s,
         struct rowctx *r, struct werr *err)
{
    struct df_buffer *b = r->b;
    size_t row = b->nrows, n = (size_t)(r->stop - r->start);
    struct rowcopy rc = {r->start, NULL};

    /* One copy of the row for all its strings. */
    if (s->has_strings && n) {
        rc.copy = df_buffer_bytes(b, n);
        memcpy(rc.copy, r->start, n);
    }
    for (size_t i = 0; i < s->nmap; i++) {
        const struct map *m = &s->map[i];
        int32_t code = put_value(s, b, m, row, &s->f[m->ff], &rc);
        enum df_disposition d;
        if (!code)
            continue;
        d = code == DF_E_TRUNCATION ? m->col->trunc_disp
                                    : m->col->error_disp;
        if (d == DF_DISP_IGNORE)
            df_buffer_set_null(b, m->slot, row);
        else if (d == DF_DISP_REDIRECT)
            return redirect(x, s, r, code, m->col, err);
        else
            return row_failed(x, c, s, m, code, err);
    }
    if (s->fname_slot >= 0)
        df_buffer_set_str(b, s->fname_slot, row, s->path, strlen(s->path));
    b->nrows++;
    return df_buffer_room(b) ? 0 : flush(x, s->out, &r->b, err);
}

static int
read_rows(struct df_exec *x, struct df_component *c, struct ffsrc *s,
          struct rowctx *r, struct werr *err)
{
    long skip = (s->ff.names_first ? 1 : 0) + s->ff.data_rows_skip;
    int rc;

    for (;;) {
        rc = scan_row(s, &r->start, &r->stop);
        if (rc == ROW_END)
            return 0;
        if (rc == ROW_MORE) {
            if (fill(s, err) < 0)
                return -1;
            continue;
        }
        if (skip > 0) {
            skip--;
            continue;
        }
        if (!r->b)
            r->b = df_buffer_new(s->out->layout);
        s->rows++;
        if (take_row(x, c, s, r, err) < 0)
            return -1;
    }
}

static int
ffsrc_produce(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct ffsrc *s = c->state;
    struct rowctx r = {0};
    int rc;

    if (fill(s, err) < 0 || skip_header(s, s->ff.header_rows_skip, err) < 0)
        return -1;
    rc = read_rows(x, c, s, &r, err);
    if (rc == 0)
        rc = flush(x, s->out, &r.b, err);
    if (rc == 0)
        rc = flush(x, s->eout, &r.eb, err);
    df_buffer_unref(r.b);
    df_buffer_unref(r.eb);
    if (rc == 0 && s->lf_seen)
        df_event(x, c, DF_EV_INFORMATION,
                 "'%s' ends its rows with LF where the connection manager "
                 "declares CR LF: LF accepted as the row delimiter",
                 s->path);
    return rc;
}

static int
ffsrc_post_execute(struct df_exec *x, struct df_component *c, bool failed,
                   struct werr *err)
{
    struct ffsrc *s = c->state;

    if (!failed)
        df_event(x, c, DF_EV_INFORMATION, "read %lld rows from '%s'",
                 (long long)s->rows, s->path);
    return 0;
}

static void
ffsrc_cleanup(struct df_exec *x, struct df_component *c)
{
    ffsrc_free(c->state);
    c->state = NULL;
}

const struct df_component_ops df_flatfile_source_ops = {
    .class_id = "Microsoft.FlatFileSource",
    .validate = ffsrc_validate,
    .pre_execute = ffsrc_pre_execute,
    .produce = ffsrc_produce,
    .post_execute = ffsrc_post_execute,
    .cleanup = ffsrc_cleanup,
};
