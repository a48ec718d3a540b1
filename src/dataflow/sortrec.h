/*
 * Rows as records (sortrec.c): how Sort holds rows without holding their
 * buffers, and writes them to its run files.  A record is a 4-byte length
 * then one field per column: the key columns first (in key order), then
 * the columns the output copies.  A field is a NULL byte and, when not
 * NULL, the value: its fixed-width bytes, or for strings and binaries a
 * 4-byte length and the bytes.
 */
#ifndef WEIR_DATAFLOW_SORTREC_H
#define WEIR_DATAFLOW_SORTREC_H

#include <stdbool.h>
#include <stddef.h>

#include "dataflow/df_int.h"

struct df_sortfield {
    const struct df_column *col; /* the input column */
    int slot;                    /* in the input's buffers */
    int out_slot;                /* in the output's; -1 for keys */
    enum expr_dt dt;
    size_t width;
    bool var; /* strings and binaries */
    bool desc;
    unsigned flags; /* enum df_cmp_flags */
};

struct df_sortrec {
    struct df_sortfield *f;
    size_t nf, nkeys;
};

/* Keys from `in`'s NewSortKeyPosition (and NewComparisonFlags); output
 * columns of `out` from the input column their property `colprop`
 * names (SortColumnId), else the input column of the same name.  -1 with
 * `err` naming the column that cannot be mapped. */
int df_sortrec_init(struct df_sortrec *r, struct df_input *in,
                    const struct df_output *out, const char *colprop,
                    struct werr *err);
void df_sortrec_release(struct df_sortrec *r);
/* Appends row `row` of `b` to (*mem, *len, *cap), growing it. */
void df_sortrec_encode(const struct df_sortrec *r, const struct df_buffer *b,
                       size_t row, char **mem, size_t *len, size_t *cap);
/* Orders two records' fields (after their length) by the keys. */
int df_sortrec_cmp(const struct df_sortrec *r, const char *a, const char *b);
/* The bytes the key fields of `a` take. */
size_t df_sortrec_key_len(const struct df_sortrec *r, const char *a);
/* Writes the output fields of `a` into row `row` of `b`. */
void df_sortrec_decode(const struct df_sortrec *r, const char *a,
                       struct df_buffer *b, size_t row);

#endif
