/*
 * Raw File source and destination (Microsoft.RawSource,
 * Microsoft.RawDestination): rows kept on disk between data flows in
 * weir's own format.  SSIS's raw format is undocumented, so files are not
 * exchanged with SSIS: a raw file written by SSIS cannot be read here and
 * the other way round.  docs/dataflow.md describes the format:
 *
 *   "WEIRRAW1"; u32 column count; per column: u16 name length, the name,
 *   u16 DT code, i32 length, u8 precision, u8 scale, u16 code page;
 *   then blocks: u32 row count, and per column its NULL bytes (one per
 *   row) then its values: strings and binaries as u32 length + bytes,
 *   everything else in its buffer width.  Integers are little-endian.
 *
 * Properties: AccessMode (0 the FileName property, 1 the variable named
 * by FileNameVariable); the destination's WriteOption (0 create always,
 * 1 create once: fails if the file exists, 2 append: the columns must be
 * the file's, 3 truncate and append).  Columns match by name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "dataflow/df_core.h"

#define RAW_MAGIC "WEIRRAW1"

struct rawcol {
    char *name;
    struct expr_type type;
    int slot; /* in the component's buffers, -1: skipped */
};

struct raw {
    FILE *f;
    char *path;
    struct rawcol *cols;
    size_t ncols;
    int64_t rows;
};

static bool
bytes_type(enum expr_dt dt)
{
    return dt == EXPR_DT_STR || dt == EXPR_DT_WSTR || dt == EXPR_DT_TEXT ||
           dt == EXPR_DT_NTEXT || dt == EXPR_DT_BYTES || dt == EXPR_DT_IMAGE;
}

static void
raw_free(struct raw *r)
{
    if (!r)
        return;
    if (r->f)
        fclose(r->f);
    for (size_t i = 0; i < r->ncols; i++)
        free(r->cols[i].name);
    free(r->cols);
    free(r->path);
    free(r);
}

/* The file the component names (FileName or FileNameVariable). */
static char *
file_name(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct expr_value v;
    const char *var;

    if (df_prop_int(c->props, c->nprops, "AccessMode", 0) != 1) {
        const char *f = df_prop(c->props, c->nprops, "FileName");
        if (!f || !*f)
            return werr_set(err, WERR_INVALID, "no FileName"), NULL;
        return xstrdup(f);
    }
    var = df_prop(c->props, c->nprops, "FileNameVariable");
    if (!var || !*var)
        return werr_set(err, WERR_INVALID, "no FileNameVariable"), NULL;
    if (df_var_get(x, var, &v, err) < 0)
        return NULL;
    if (v.null || (v.type.dt != EXPR_DT_WSTR && v.type.dt != EXPR_DT_STR))
        return werr_set(err, WERR_INVALID, "'%s' holds no file name", var),
               NULL;
    return xstrndup(v.v.s.p, v.v.s.len);
}

static int
io_error(struct raw *r, const char *what, struct werr *err)
{
    return werr_set(err, WERR_IO, "%s '%s': %s", what, r->path,
                    errno ? strerror(errno) : "unexpected end of file");
}

/* ---- writing ---- */

static void
put(struct raw *r, const void *p, size_t n)
{
    if (n)
        fwrite(p, 1, n, r->f);
}

static void
write_header(struct raw *r)
{
    uint32_t n = (uint32_t)r->ncols;

    put(r, RAW_MAGIC, 8);
    put(r, &n, 4);
    for (size_t i = 0; i < r->ncols; i++) {
        const struct rawcol *c = &r->cols[i];
        uint16_t len = (uint16_t)strlen(c->name), dt = (uint16_t)c->type.dt;
        put(r, &len, 2);
        put(r, c->name, len);
        put(r, &dt, 2);
        put(r, &c->type.length, 4);
        put(r, &c->type.precision, 1);
        put(r, &c->type.scale, 1);
        put(r, &c->type.codepage, 2);
    }
}

static int
rawdst_pre_execute(struct df_exec *x, struct df_component *c,
                   struct werr *err)
{
    static const char *const modes[] = {"wb", "wbx", "ab", "wb"};
    struct raw *r = xcalloc(1, sizeof(*r));
    struct df_input *in = c->ninputs ? &c->inputs[0] : NULL;
    int64_t opt = df_prop_int(c->props, c->nprops, "WriteOption", 0);
    long size;

    c->state = r;
    if (!in)
        return werr_set(err, WERR_INVALID, "the destination has no input");
    if (!(r->path = file_name(x, c, err)))
        return -1;
    if (opt < 0 || opt > 3)
        return werr_set(err, WERR_INVALID, "WriteOption %lld is not 0-3",
                        (long long)opt);
    r->cols = xcalloc(in->ncolumns + 1, sizeof(*r->cols));
    for (size_t i = 0; i < in->ncolumns; i++)
        r->cols[r->ncols++] = (struct rawcol){
            .name = xstrdup(in->columns[i].name),
            .type = in->columns[i].type, .slot = in->columns[i].slot};
    errno = 0;
    if (!(r->f = fopen(r->path, modes[opt])))
        return io_error(r, opt == 1 ? "creating (it must not exist)"
                                    : "opening",
                        err);
    fseek(r->f, 0, SEEK_END);
    size = ftell(r->f);
    if (size <= 0)
        write_header(r);
    return 0;
}

static void
write_column(struct raw *r, const struct rawcol *c, const struct df_buffer *b)
{
    const struct df_vec *v = &b->cols[c->slot];

    put(r, v->nulls, b->nrows);
    if (!bytes_type(c->type.dt)) {
        put(r, v->data, b->nrows * df_type_width(c->type.dt));
        return;
    }
    for (size_t i = 0; i < b->nrows; i++) {
        const struct expr_sv *s = &((const struct expr_sv *)v->data)[i];
        uint32_t len = v->nulls[i] ? 0 : (uint32_t)s->len;
        put(r, &len, 4);
        put(r, s->p, len);
    }
}

static int
rawdst_process(struct df_exec *x, struct df_component *c, struct df_input *in,
               struct df_buffer *b, struct werr *err)
{
    struct raw *r = c->state;
    uint32_t n = (uint32_t)b->nrows;

    put(r, &n, 4);
    for (size_t i = 0; i < r->ncols; i++)
        write_column(r, &r->cols[i], b);
    r->rows += b->nrows;
    df_buffer_unref(b);
    errno = 0;
    return ferror(r->f) ? io_error(r, "writing", err) : 0;
}

static int
rawdst_post_execute(struct df_exec *x, struct df_component *c, bool failed,
                    struct werr *err)
{
    struct raw *r = c->state;
    int rc;

    errno = 0;
    rc = fclose(r->f);
    r->f = NULL;
    if (rc != 0)
        return io_error(r, "closing", err);
    df_event(x, c, DF_EV_INFORMATION, "wrote %lld rows to '%s'",
             (long long)r->rows, r->path);
    return 0;
}

static void
raw_cleanup(struct df_exec *x, struct df_component *c)
{
    raw_free(c->state);
    c->state = NULL;
}

const struct df_component_ops df_raw_destination_ops = {
    .class_id = "Microsoft.RawDestination",
    .pre_execute = rawdst_pre_execute,
    .process = rawdst_process,
    .post_execute = rawdst_post_execute,
    .cleanup = raw_cleanup,
};

/* ---- reading ---- */

static int
get(struct raw *r, void *p, size_t n, struct werr *err)
{
    errno = 0;
    if (n && fread(p, 1, n, r->f) != n)
        return io_error(r, "reading", err);
    return 0;
}

static int
read_header(struct raw *r, struct werr *err)
{
    char magic[8];
    uint32_t n;

    if (get(r, magic, 8, err) < 0 || memcmp(magic, RAW_MAGIC, 8))
        return werr_set(err, WERR_INVALID,
                        "'%s' is not a weir raw file (SSIS's raw files "
                        "cannot be read)",
                        r->path);
    if (get(r, &n, 4, err) < 0 || n > 4096)
        return werr_set(err, WERR_INVALID, "'%s': bad header", r->path);
    r->cols = xcalloc(n + 1, sizeof(*r->cols));
    for (uint32_t i = 0; i < n; i++) {
        struct rawcol *c = &r->cols[r->ncols++];
        uint16_t len, dt;
        c->slot = -1;
        if (get(r, &len, 2, err) < 0)
            return -1;
        c->name = xmalloc(len + 1u);
        c->name[len] = '\0';
        if (get(r, c->name, len, err) < 0 || get(r, &dt, 2, err) < 0 ||
            get(r, &c->type.length, 4, err) < 0 ||
            get(r, &c->type.precision, 1, err) < 0 ||
            get(r, &c->type.scale, 1, err) < 0 ||
            get(r, &c->type.codepage, 2, err) < 0)
            return -1;
        c->type.dt = (enum expr_dt)dt;
    }
    return 0;
}

static int
bind_output(struct raw *r, struct df_output *o, struct werr *err)
{
    for (size_t i = 0; i < o->ncolumns; i++) {
        const struct df_column *col = &o->columns[i];
        size_t k = 0;
        while (k < r->ncols && strcmp(r->cols[k].name, col->name))
            k++;
        if (k == r->ncols)
            return werr_set(err, WERR_INVALID,
                            "'%s' has no column '%s'", r->path, col->name);
        if (df_type_width(r->cols[k].type.dt) !=
                df_type_width(col->type.dt) ||
            bytes_type(r->cols[k].type.dt) != bytes_type(col->type.dt))
            return werr_set(err, WERR_INVALID,
                            "column '%s' of '%s' is %s, the output's is %s",
                            col->name, r->path,
                            expr_dt_name(r->cols[k].type.dt),
                            expr_dt_name(col->type.dt));
        r->cols[k].slot = col->slot;
    }
    return 0;
}

static int
rawsrc_pre_execute(struct df_exec *x, struct df_component *c,
                   struct werr *err)
{
    struct raw *r = xcalloc(1, sizeof(*r));

    c->state = r;
    if (!c->noutputs)
        return werr_set(err, WERR_INVALID, "the source has no output");
    if (!(r->path = file_name(x, c, err)))
        return -1;
    errno = 0;
    if (!(r->f = fopen(r->path, "rb")))
        return io_error(r, "cannot open", err);
    return read_header(r, err) < 0 ? -1 : bind_output(r, &c->outputs[0], err);
}

static int
read_column(struct raw *r, const struct rawcol *c, struct df_buffer *b,
            size_t n, struct werr *err)
{
    size_t w = df_type_width(c->type.dt);
    uint8_t scratch[4096];

    if (c->slot < 0) { /* not an output column: skip its bytes */
        if (get(r, scratch, n, err) < 0)
            return -1;
        for (size_t i = 0; !bytes_type(c->type.dt) && i < n; i++)
            if (get(r, scratch, w, err) < 0)
                return -1;
        for (size_t i = 0; bytes_type(c->type.dt) && i < n; i++) {
            uint32_t len;
            if (get(r, &len, 4, err) < 0 || fseek(r->f, len, SEEK_CUR) != 0)
                return io_error(r, "reading", err);
        }
        return 0;
    }
    if (get(r, b->cols[c->slot].nulls, n, err) < 0)
        return -1;
    if (!bytes_type(c->type.dt))
        return get(r, b->cols[c->slot].data, n * w, err);
    for (size_t i = 0; i < n; i++) {
        struct expr_sv *s = &((struct expr_sv *)b->cols[c->slot].data)[i];
        uint32_t len;
        char *p;
        if (get(r, &len, 4, err) < 0)
            return -1;
        p = len ? df_buffer_bytes(b, len) : NULL;
        if (get(r, p, len, err) < 0)
            return -1;
        s->p = p ? p : "";
        s->len = len;
    }
    return 0;
}

static int
rawsrc_produce(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct raw *r = c->state;
    struct df_output *o = &c->outputs[0];
    uint32_t n;

    while (fread(&n, 1, 4, r->f) == 4) {
        struct df_buffer *b = df_buffer_new(o->layout);
        if (n > o->layout->max_rows) {
            df_buffer_unref(b);
            return werr_set(err, WERR_INVALID,
                            "'%s' holds a block of %u rows, more than a "
                            "buffer's %zu: write it again with this layout",
                            r->path, n, o->layout->max_rows);
        }
        for (size_t i = 0; i < r->ncols; i++)
            if (read_column(r, &r->cols[i], b, n, err) < 0) {
                df_buffer_unref(b);
                return -1;
            }
        b->nrows = n;
        r->rows += n;
        if (df_send(x, o, b, err) < 0)
            return -1;
    }
    if (ferror(r->f))
        return io_error(r, "reading", err);
    df_event(x, c, DF_EV_INFORMATION, "read %lld rows from '%s'",
             (long long)r->rows, r->path);
    return 0;
}

const struct df_component_ops df_raw_source_ops = {
    .class_id = "Microsoft.RawSource",
    .pre_execute = rawsrc_pre_execute,
    .produce = rawsrc_produce,
    .cleanup = raw_cleanup,
};
