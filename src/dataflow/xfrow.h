/*
 * Rows built one at a time into an asynchronous output (xfrow.c): what
 * Row Sampling, Pivot and Unpivot share.  Their output buffers have
 * their own layout, so values are copied cell by cell between the
 * input's slots and the output's, and an emitter sends each buffer
 * down the output's path as soon as it is full.
 */
#ifndef WEIR_DATAFLOW_XFROW_H
#define WEIR_DATAFLOW_XFROW_H

#include <stdbool.h>
#include <stddef.h>

#include "base/wbuf.h"
#include "dataflow/df_int.h"

/* Whether values of `dt` are strings or binaries (struct expr_sv). */
bool df_dt_is_var(enum expr_dt dt);

/* Copies the value at (src, sslot, srow) into (dst, dslot, drow); both
 * slots have the same type code.  String bytes are copied into `dst`. */
void df_copy_cell(struct df_buffer *dst, int dslot, size_t drow,
                  const struct df_buffer *src, int sslot, size_t srow);

/* Appends the value at (b, slot, row) to `k` as bytes that compare equal
 * exactly when the values are equal: a NULL byte, then the value (strings
 * and binaries after their 4-byte length). */
void df_key_add(struct wbuf *k, const struct df_buffer *b, int slot,
                size_t row);

/*
 * The column named `name` (compared without case) that the buffers
 * arriving at `in` hold: one of `in`'s input columns, else a column of
 * the output feeding `in` or of the outputs above it in the same
 * execution tree (what SSIS calls the virtual input).  NULL if none.
 */
const struct df_column *df_visible_column(const struct df_input *in,
                                          const char *name);

/*
 * An emitter fills buffers of `out`'s layout row by row.  Zero it, then
 * set x and out.  df_emit_begin returns the row to fill in em->b, with
 * every cell NULL; df_emit_end counts it and sends the buffer once it is
 * full; df_emit_flush sends what is left.  df_emit_release drops an
 * unsent buffer (after a failure).  Sending returns -1 with `err` when
 * the run is failing.  df_emit_end also checks the row's strings and
 * binaries against their output columns' lengths: a longer value is cut
 * when the column's truncation disposition is IgnoreFailure, else it
 * fails the component (-1 with `err`; the row is not counted).
 */
struct df_emitter {
    struct df_exec *x;
    struct df_output *out;
    struct df_buffer *b;
};
size_t df_emit_begin(struct df_emitter *em);
int df_emit_end(struct df_emitter *em, struct werr *err);
int df_emit_flush(struct df_emitter *em, struct werr *err);
void df_emit_release(struct df_emitter *em);

#endif
