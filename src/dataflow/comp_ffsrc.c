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
#define FF_BATCH 1024u /* rows scanned before they are converted */

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
    /* The batch: rows scanned in the window and not yet converted.  Field
     * spans are by column (`f` + i * FF_BATCH + row), so conversion runs
     * down a column; the rows' text is [start, stop) of each. */
    struct span *f;
    const char **row_start, **row_stop;
    size_t nb;
    int64_t nb_first;        /* data row number of the batch's first row */
    int32_t *errs, *errmap;  /* per batch row: DF_E_* and the map index */
    uint8_t *drop;           /* per buffer row, for redirected rows */
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

/* The span of column i in the batch row being scanned. */
static struct span *
field(struct ffsrc *s, size_t i)
{
    return &s->f[i * FF_BATCH + s->nb];
}

/* Delimited and ragged-right fields of column i from *pp. */
static int
scan_delimited(struct ffsrc *s, size_t i, const char **pp, const char *e,
               bool *row)
{
    const char *p = *pp, *stop;
    struct span *f = field(s, i);
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
    field(s, i)->p = p;
    field(s, i)->len = (size_t)(q - p);
    field(s, i)->doubled = false;
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
        *stop = row ? field(s, i)->p + field(s, i)->len : p;
        (void)before;
        if (!row && p == e && s->eof)
            row = true;
    }
    for (; i < n; i++) { /* a short row: the rest are empty */
        field(s, i)->p = NULL;
        field(s, i)->len = 0;
        field(s, i)->doubled = false;
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

/* ---- converting, a column of the batch at a time ---- */

static bool
is_string(enum expr_dt dt)
{
    return dt == EXPR_DT_STR || dt == EXPR_DT_WSTR || dt == EXPR_DT_TEXT ||
           dt == EXPR_DT_NTEXT;
}

/* Where the batch was copied into the buffer's bytes: a field at p in
 * the window is at copy + (p - start). */
struct rowcopy {
    const char *start;
    char *copy; /* NULL: not copied */
};

/* What converting a column of the batch needs: where its rows go
 * (buffer rows base..), its spans, and where failures are recorded. */
struct colconv {
    struct ffsrc *s;
    struct df_buffer *b;
    const struct map *m;
    size_t mi;   /* index of m in s->map */
    size_t base; /* buffer row of batch row 0 */
    const struct span *f;
    const struct rowcopy *rc;
};

/* Batch row j failed with `code`: an ignored failure makes the value
 * NULL at once; otherwise the row's first failure is kept for
 * apply_errors() (later columns of a failed row do not matter). */
static void
failed(const struct colconv *cc, size_t j, int32_t code)
{
    const struct df_column *col = cc->m->col;
    enum df_disposition d =
        code == DF_E_TRUNCATION ? col->trunc_disp : col->error_disp;

    if (d == DF_DISP_IGNORE) {
        df_buffer_set_null(cc->b, cc->m->slot, cc->base + j);
    } else if (!cc->s->errs[j]) {
        cc->s->errs[j] = code;
        cc->s->errmap[j] = (int32_t)cc->mi;
    }
}

/* A field with doubled qualifiers, undone into the buffer's bytes. */
static struct expr_sv
undouble(const struct colconv *cc, const struct span *f, size_t len)
{
    char *d = df_buffer_bytes(cc->b, len + 1), q = cc->s->ff.qualifier;
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        d[n++] = f->p[i];
        if (f->p[i] == q && i + 1 < len && f->p[i + 1] == q)
            i++;
    }
    return (struct expr_sv){d, n};
}

/* A string column: values point into the batch's copy.  An empty field
 * is NULL with RetainNulls or when the row ended before it. */
static void
conv_strings(const struct colconv *cc)
{
    const struct expr_type *t = &cc->m->col->type;
    struct df_vec *v = &cc->b->cols[cc->m->slot];
    struct expr_sv *sv = (struct expr_sv *)v->data + cc->base;
    uint8_t *nl = v->nulls + cc->base;
    size_t limit = t->length > 0 ? (size_t)t->length : SIZE_MAX;

    for (size_t j = 0; j < cc->s->nb; j++) {
        const struct span *f = &cc->f[j];
        size_t len = f->len;
        if (!len) {
            sv[j] = (struct expr_sv){"", 0};
            nl[j] = cc->s->retain_nulls || !f->p;
            continue;
        }
        /* A byte is at most two units: short values need no count. */
        if (len > limit / 2 && df_utf16_units(f->p, len) > limit) {
            if (cc->m->col->trunc_disp != DF_DISP_IGNORE) {
                sv[j] = (struct expr_sv){"", 0};
                failed(cc, j, DF_E_TRUNCATION);
                continue;
            }
            len = df_utf16_cut(f->p, len, limit);
        }
        if (f->doubled)
            sv[j] = undouble(cc, f, len);
        else
            sv[j] = (struct expr_sv){cc->rc->copy + (f->p - cc->rc->start),
                                     len};
        nl[j] = 0;
    }
}

/* Any type, a value at a time through the cast rules. */
static void
conv_value(const struct colconv *cc, size_t j)
{
    const struct span *f = &cc->f[j];
    struct expr_value v;
    struct werr err;

    if (expr_value_parse(f->p, f->len, &cc->m->col->type, &v, &err) < 0 ||
        df_buffer_set_value(cc->b, cc->m->slot, cc->base + j, &v, &err) < 0)
        failed(cc, j, DF_E_CONVERSION);
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

/* A signed integer column: plain digits in one loop per width, the rest
 * through conv_value; an empty field is NULL. */
static void
conv_ints(const struct colconv *cc)
{
    struct df_vec *v = &cc->b->cols[cc->m->slot];
    uint8_t *nl = v->nulls + cc->base;
    int64_t x;

#define LOOP(T, MIN, MAX)                                                  \
    for (size_t j = 0; j < cc->s->nb; j++) {                               \
        const struct span *f = &cc->f[j];                                  \
        if (!f->len)                                                       \
            df_buffer_set_null(cc->b, cc->m->slot, cc->base + j);          \
        else if (fast_int(f->p, f->len, &x) && x >= (MIN) && x <= (MAX))   \
            ((T *)v->data)[cc->base + j] = (T)x, nl[j] = 0;                \
        else                                                               \
            conv_value(cc, j);                                             \
    }
    switch (v->type.dt) {
    case EXPR_DT_I1: LOOP(int8_t, INT8_MIN, INT8_MAX) break;
    case EXPR_DT_I2: LOOP(int16_t, INT16_MIN, INT16_MAX) break;
    case EXPR_DT_I4: LOOP(int32_t, INT32_MIN, INT32_MAX) break;
    default: LOOP(int64_t, INT64_MIN, INT64_MAX) break;
    }
#undef LOOP
}

/* Decimals and whole-day dates: expr_value_parse's fast paths give the
 * column's own representation, stored without a conversion. */
static void
conv_parsed(const struct colconv *cc)
{
    const struct expr_type *t = &cc->m->col->type;
    struct df_vec *v = &cc->b->cols[cc->m->slot];
    bool dec = t->dt == EXPR_DT_NUMERIC || t->dt == EXPR_DT_DECIMAL;
    struct expr_value x;
    struct werr err;

    for (size_t j = 0; j < cc->s->nb; j++) {
        const struct span *f = &cc->f[j];
        size_t row = cc->base + j;
        if (!f->len) {
            df_buffer_set_null(cc->b, cc->m->slot, row);
        } else if (expr_value_parse(f->p, f->len, t, &x, &err) < 0) {
            failed(cc, j, DF_E_CONVERSION);
        } else {
            if (dec)
                ((expr_i128 *)v->data)[row] = x.v.dec;
            else
                ((int64_t *)v->data)[row] = x.v.t;
            v->nulls[row] = 0;
        }
    }
}

/* Converts the batch's fields of map column `mi`. */
static void
conv_column(struct ffsrc *s, struct df_buffer *b, size_t mi,
            const struct rowcopy *rc)
{
    const struct map *m = &s->map[mi];
    struct colconv cc = {s, b, m, mi, b->nrows, &s->f[m->ff * FF_BATCH], rc};

    switch (m->col->type.dt) {
    case EXPR_DT_STR:
    case EXPR_DT_WSTR:
    case EXPR_DT_TEXT:
    case EXPR_DT_NTEXT:
        conv_strings(&cc);
        break;
    case EXPR_DT_I1:
    case EXPR_DT_I2:
    case EXPR_DT_I4:
    case EXPR_DT_I8:
        conv_ints(&cc);
        break;
    case EXPR_DT_NUMERIC:
    case EXPR_DT_DECIMAL:
    case EXPR_DT_DBDATE:
    case EXPR_DT_DBTIMESTAMP:
    case EXPR_DT_DBTIMESTAMP2:
        conv_parsed(&cc);
        break;
    default:
        for (size_t j = 0; j < s->nb; j++) {
            if (!cc.f[j].len)
                df_buffer_set_null(b, m->slot, b->nrows + j);
            else
                conv_value(&cc, j);
        }
    }
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
    s->f = xcalloc(n * FF_BATCH, sizeof(*s->f));
    s->row_start = xcalloc(FF_BATCH, sizeof(*s->row_start));
    s->row_stop = xcalloc(FF_BATCH, sizeof(*s->row_stop));
    s->errs = xcalloc(FF_BATCH, sizeof(*s->errs));
    s->errmap = xcalloc(FF_BATCH, sizeof(*s->errmap));
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
    free(s->row_start);
    free(s->row_stop);
    free(s->errs);
    free(s->errmap);
    free(s->drop);
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
};

/* Batch row j goes to the error output, its text as read. */
static int
redirect(struct df_exec *x, struct ffsrc *s, struct rowctx *r, size_t j,
         struct werr *err)
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
        df_buffer_set_str(e, s->e_text, row, s->row_start[j],
                          (size_t)(s->row_stop[j] - s->row_start[j]));
    if (s->e_code >= 0)
        ((int32_t *)e->cols[s->e_code].data)[row] = s->errs[j];
    if (s->e_col >= 0)
        ((int32_t *)e->cols[s->e_col].data)[row] =
            s->map[s->errmap[j]].col->id;
    return df_buffer_room(e) ? 0 : flush(x, s->eout, &r->eb, err);
}

static int
row_failed(struct df_exec *x, struct df_component *c, struct ffsrc *s,
           size_t j, struct werr *err)
{
    const struct map *m = &s->map[s->errmap[j]];
    const struct span *f = &s->f[m->ff * FF_BATCH + j];
    char type[64];

    expr_type_format(&m->col->type, type, sizeof(type));
    df_error(x, c, 0,
             "data row %lld of '%s', column '%s': the value \"%.*s\" %s %s",
             (long long)(s->nb_first + (int64_t)j), s->path, m->col->name,
             (int)(f->len > 100 ? 100 : f->len), f->p ? f->p : "",
             s->errs[j] == DF_E_TRUNCATION ? "is too long for"
                                           : "does not convert to",
             type);
    return werr_set(err, WERR_INVALID, "column '%s' failed", m->col->name);
}

/* The batch's failed rows, in order: redirected ones leave the buffer
 * (which holds them at rows base..), a failing one stops the source. */
static int
apply_errors(struct df_exec *x, struct df_component *c, struct ffsrc *s,
             struct rowctx *r, size_t base, struct werr *err)
{
    struct df_buffer *b = r->b;
    size_t dropped = 0;

    for (size_t j = 0; j < s->nb; j++) {
        const struct df_column *col;
        if (!s->errs[j])
            continue;
        col = s->map[s->errmap[j]].col;
        if ((s->errs[j] == DF_E_TRUNCATION ? col->trunc_disp
                                           : col->error_disp) !=
            DF_DISP_REDIRECT)
            return row_failed(x, c, s, j, err);
        if (redirect(x, s, r, j, err) < 0)
            return -1;
        if (!s->drop)
            s->drop = xmalloc(b->layout->max_rows);
        if (!dropped++)
            memset(s->drop, 0, b->layout->max_rows);
        s->drop[base + j] = 1;
    }
    if (dropped)
        df_buffer_drop_rows(b, s->drop);
    return 0;
}

/* Converts the batch into rows of r->b and sends the buffer on when it
 * is full.  The batch's text is copied once for all its strings. */
static int
take_batch(struct df_exec *x, struct df_component *c, struct ffsrc *s,
           struct rowctx *r, struct werr *err)
{
    struct df_buffer *b = r->b;
    size_t base = b->nrows, n = s->nb;
    struct rowcopy rc = {s->row_start[0], NULL};
    size_t len = (size_t)(s->row_stop[n - 1] - s->row_start[0]);

    if (s->has_strings && len) {
        rc.copy = df_buffer_bytes(b, len);
        memcpy(rc.copy, rc.start, len);
    }
    memset(s->errs, 0, n * sizeof(*s->errs));
    for (size_t i = 0; i < s->nmap; i++)
        conv_column(s, b, i, &rc);
    if (s->fname_slot >= 0) {
        char *p = df_buffer_bytes(b, strlen(s->path) + 1);
        memcpy(p, s->path, strlen(s->path) + 1);
        for (size_t j = 0; j < n; j++) {
            ((struct expr_sv *)b->cols[s->fname_slot].data)[base + j] =
                (struct expr_sv){p, strlen(p)};
            b->cols[s->fname_slot].nulls[base + j] = 0;
        }
    }
    b->nrows = base + n;
    if (apply_errors(x, c, s, r, base, err) < 0)
        return -1;
    s->nb = 0;
    return df_buffer_room(r->b) ? 0 : flush(x, s->out, &r->b, err);
}

/* Converts what the batch holds (before the window moves or ends). */
static int
end_batch(struct df_exec *x, struct df_component *c, struct ffsrc *s,
          struct rowctx *r, struct werr *err)
{
    if (!s->nb)
        return 0;
    if (!r->b)
        r->b = df_buffer_new(s->out->layout);
    return take_batch(x, c, s, r, err);
}

static int
read_rows(struct df_exec *x, struct df_component *c, struct ffsrc *s,
          struct rowctx *r, struct werr *err)
{
    long skip = (s->ff.names_first ? 1 : 0) + s->ff.data_rows_skip;
    size_t room;
    int rc;

    for (;;) {
        rc = scan_row(s, &s->row_start[s->nb], &s->row_stop[s->nb]);
        if (rc == ROW_END)
            return end_batch(x, c, s, r, err);
        if (rc == ROW_MORE) {
            if (end_batch(x, c, s, r, err) < 0 || fill(s, err) < 0)
                return -1;
            continue;
        }
        if (skip > 0) {
            skip--;
            continue;
        }
        if (!s->nb++)
            s->nb_first = s->rows + 1;
        s->rows++;
        room = r->b ? df_buffer_room(r->b) : s->out->layout->max_rows;
        if ((s->nb == FF_BATCH || s->nb == room) &&
            end_batch(x, c, s, r, err) < 0)
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
