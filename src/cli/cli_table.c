/*
 * The one table printer every verb uses.
 *
 * Cells are cleaned when added (cli_text_clean), so rendering only has to
 * pad and truncate: a cell's width is its number of code points, and a
 * cell wider than its column's max_width keeps max_width - 1 code points
 * followed by "…".  Widths come from the content so that a table of short
 * names stays narrow; the last column is not padded, so lines carry no
 * trailing blanks.
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"
#include "base/xalloc.h"

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, one column wide */
#define GAP "  "

void
cli_table_init(struct cli_table *t, const struct cli_column *cols,
               size_t ncols)
{
    W_ASSERT(ncols > 0);
    memset(t, 0, sizeof(*t));
    t->cols = cols;
    t->ncols = ncols;
}

void
cli_table_release(struct cli_table *t)
{
    for (size_t i = 0; i < t->ncells; i++)
        free(t->cells[i].text);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}

void
cli_table_add(struct cli_table *t, const char *text)
{
    struct wbuf b;
    struct cli_cell *c;

    wbuf_init(&b, WBUF_NOLIMIT);
    XGROW(t->cells, t->ncells + 1, t->cap);
    c = &t->cells[t->ncells++];
    c->width = cli_text_clean(&b, text, false);
    c->text = wbuf_detach(&b, NULL);
}

void
cli_table_addf(struct cli_table *t, const char *fmt, ...)
{
    struct wbuf b;
    va_list ap;

    wbuf_init(&b, WBUF_NOLIMIT);
    va_start(ap, fmt);
    wbuf_vaddf(&b, NULL, fmt, ap);
    va_end(ap);
    cli_table_add(t, b.buf);
    wbuf_release(&b);
}

size_t
cli_table_rows(const struct cli_table *t)
{
    return (t->ncells + t->ncols - 1) / t->ncols;
}

/* The byte length of the first `cols` code points of the clean text `s`. */
static size_t
prefix_bytes(const char *s, size_t cols)
{
    size_t i = 0;

    while (s[i] && cols--) {
        i++;
        while (((unsigned char)s[i] & 0xc0) == 0x80)
            i++;
    }
    return i;
}

static void
put_cell(struct wbuf *out, const struct cli_column *c, const char *text,
         size_t width, size_t colw, bool last)
{
    size_t shown = width > colw ? colw : width;

    if (c->align == CLI_RIGHT)
        for (size_t i = shown; i < colw; i++)
            wbuf_addch(out, ' ', NULL);
    if (width > colw) {
        wbuf_add(out, text, prefix_bytes(text, colw - 1), NULL);
        wbuf_adds(out, ELLIPSIS, NULL);
    } else {
        wbuf_adds(out, text, NULL);
    }
    if (c->align == CLI_LEFT && !last)
        for (size_t i = shown; i < colw; i++)
            wbuf_addch(out, ' ', NULL);
}

/* Column widths: the widest cell or title, capped at max_width. */
static size_t *
column_widths(const struct cli_table *t)
{
    size_t *w = xcalloc(t->ncols, sizeof(*w));

    for (size_t c = 0; c < t->ncols; c++)
        w[c] = strlen(t->cols[c].title);
    for (size_t i = 0; i < t->ncells; i++)
        if (t->cells[i].width > w[i % t->ncols])
            w[i % t->ncols] = t->cells[i].width;
    for (size_t c = 0; c < t->ncols; c++)
        if (t->cols[c].max_width && w[c] > t->cols[c].max_width)
            w[c] = t->cols[c].max_width;
    return w;
}

static void
end_line(struct wbuf *out)
{
    while (out->len && out->buf[out->len - 1] == ' ')
        out->buf[--out->len] = '\0';
    wbuf_addch(out, '\n', NULL);
}

void
cli_table_render(const struct cli_table *t, struct wbuf *out)
{
    static const struct cli_cell empty = {"", 0};
    size_t *w = column_widths(t), rows = cli_table_rows(t);

    for (size_t c = 0; c < t->ncols; c++) {
        const char *title = t->cols[c].title;

        if (c)
            wbuf_adds(out, GAP, NULL);
        put_cell(out, &t->cols[c], title, strlen(title), w[c],
                 c + 1 == t->ncols);
    }
    end_line(out);
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            size_t i = r * t->ncols + c;
            const struct cli_cell *cell = i < t->ncells ? &t->cells[i]
                                                        : &empty;

            if (c)
                wbuf_adds(out, GAP, NULL);
            put_cell(out, &t->cols[c], cell->text, cell->width, w[c],
                     c + 1 == t->ncols);
        }
        end_line(out);
    }
    free(w);
}

void
cli_table_print(const struct cli_table *t, FILE *f)
{
    struct wbuf b;

    wbuf_init(&b, WBUF_NOLIMIT);
    cli_table_render(t, &b);
    fwrite(b.buf, 1, b.len, f);
    wbuf_release(&b);
}
