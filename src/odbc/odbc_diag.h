/*
 * ODBC diagnostics as one line of text: what the control flow's Execute
 * SQL task (src/runtime/odbc.c) and the data flow's database components
 * (src/dataflow/db_odbc.c) both put in their error messages.
 */
#ifndef WEIR_ODBC_DIAG_H
#define WEIR_ODBC_DIAG_H

#include <sql.h>

#include "base/wbuf.h"

/* Appends the diagnostic records of handle `h` of ODBC handle type `type`
 * (the first eight) to `out`, each as "[SQLSTATE] (native N) text", with
 * "; " between records and `lead` before the first when `out` is not
 * empty.  Drivers' line breaks become spaces and trailing blanks go, so
 * the result is one line.  Returns how many records were appended; none
 * when `h` is SQL_NULL_HANDLE or has none. */
int odbc_diag_append(SQLSMALLINT type, SQLHANDLE h, const char *lead,
                     struct wbuf *out);

#endif
