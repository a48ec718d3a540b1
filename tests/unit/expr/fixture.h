/*
 * A host for the expression tests: a fixed set of variables and
 * parameters, a one-row batch of columns, and a fixed clock (local time
 * 2024-03-15 10:20:30.123, one hour ahead of UTC).
 */
#ifndef WEIR_TEST_EXPR_FIXTURE_H
#define WEIR_TEST_EXPR_FIXTURE_H

#include <stddef.h>

#include "expr/expr.h"

/* The host; its resolve() knows the variables below and, with
 * EXPR_COLUMNS, the columns. */
extern const struct expr_host fx_host;
/* The fixture's columns (one row) for expr_eval. */
extern const struct expr_col fx_cols[];
extern const size_t fx_ncols;

enum fx_phase { FX_OK, FX_COMPILE, FX_RUNTIME };

/* Compiles and evaluates `text` with `flags`; on success writes
 * "VALUE (TYPE)" into buf.  Returns the phase that failed (message in
 * err) or FX_OK. */
enum fx_phase fx_eval(const char *text, unsigned flags, char *buf, size_t size,
                      struct werr *err);

#endif
