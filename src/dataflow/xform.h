/*
 * Helpers the transformations share (xform.c): casting a result column
 * to a declared type, storing a column into a buffer slot, collecting row
 * errors from several columns before applying their dispositions, and
 * reading the lineage references components keep in properties.
 */
#ifndef WEIR_DATAFLOW_XFORM_H
#define WEIR_DATAFLOW_XFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "dataflow/df_int.h"

/* Whether two types are the same (a cast between them changes nothing). */
bool df_type_equal(const struct expr_type *a, const struct expr_type *b);

/*
 * A compiled conversion from one type to another with SSIS's cast rules
 * (src/expr does the work: this is `(DT_TO)[v]` over one column), where a
 * string that does not fit is a truncation row error.  df_cast_new
 * returns NULL with `err` when the cast is not legal.
 */
struct df_cast;
struct df_cast *df_cast_new(const struct expr_type *from,
                            const struct expr_type *to, struct werr *err);
void df_cast_free(struct df_cast *c);
/* Converts rows [0, nrows) of `in`; `out` is valid until the next run or
 * df_cast_free; `row_errs` gets enum expr_row_err per row (failed rows
 * are NULL). */
int df_cast_run(struct df_cast *c, const struct expr_col *in, size_t nrows,
                struct expr_col *out, uint8_t *row_errs, struct werr *err);

/* Copies column `src` (of the slot's type) into slot `slot` of `b` for
 * rows [0, b->nrows): values, NULL flags and, for strings and binaries,
 * their bytes into the buffer's own storage. */
void df_store_col(struct df_buffer *b, int slot, const struct expr_col *src);

/*
 * Row errors of one buffer gathered from several columns: the first
 * error of each row wins, with its column's disposition.  df_rowerr_apply
 * then fails (if any failing row's disposition is FailComponent or not
 * set), or redirects the rows to redirect (removing them from *b); rows
 * whose disposition is IgnoreFailure stay with the NULL value set.
 */
struct df_rowerr {
    int32_t *codes, *cols;
    uint8_t *disp;
    uint8_t *errs; /* scratch: row_errs for an evaluation */
    size_t cap, n;
};
/* Makes room for `rows` rows (a zeroed struct is an empty one). */
void df_rowerr_reserve(struct df_rowerr *re, size_t rows);
void df_rowerr_release(struct df_rowerr *re);
void df_rowerr_add(struct df_rowerr *re, size_t row, int32_t code, int32_t col,
                   enum df_disposition disp);
/* Records the rows a batch evaluation or cast flagged (enum
 * expr_row_err): errors as `code`, truncations as DF_E_TRUNCATION with
 * `trunc`. */
void df_rowerr_add_batch(struct df_rowerr *re, const uint8_t *row_errs,
                         size_t nrows, int32_t code, int32_t col,
                         enum df_disposition disp, enum df_disposition trunc);
/* Forgets the errors recorded for rows [0, nrows). */
void df_rowerr_clear(struct df_rowerr *re, size_t nrows);
int df_rowerr_apply(struct df_rowerr *re, struct df_exec *x,
                    struct df_component *c, struct df_buffer **b,
                    struct werr *err);

/* The input column of `in` that `ref` names ("#{...}", "#123" or plain):
 * by its lineage, its refId or its numeric id; NULL if none. */
struct df_column *df_input_column_by_ref(struct df_input *in, const char *ref);
/* Whether `ref` (as above) names column `col`. */
bool df_ref_names(const char *ref, const struct df_column *col);
/* The first non-error output of `c`, or NULL. */
struct df_output *df_main_output(struct df_component *c);

/* Appends "component 'NAME': message\n" to `problems`; returns 1. */
int df_problem(struct wbuf *problems, const struct df_component *c,
               const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Ordering of values, shared by Sort, Merge Join, Merge and Aggregate so
 * they agree on what "sorted" and "equal" mean.  `a` and `b` point to one
 * element each of the C type expr.h gives a column of `dt`.  Strings
 * compare by code point ignoring case first, then lowercase before
 * uppercase (unless DF_CMP_IGNORE_CASE, when case never matters): close
 * to Windows' default comparison on ASCII text, without its linguistic
 * rules for punctuation and accents.
 */
enum df_cmp_flags {
    DF_CMP_IGNORE_CASE = 1 << 0, /* NewComparisonFlags bit 0 */
};
int df_cmp_values(enum expr_dt dt, unsigned flags, const void *a,
                  const void *b);

#endif
