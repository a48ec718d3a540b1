/*
 * The Flat File connection manager's definition (shared DTSX.md §3.4),
 * read from the manager's DTS:ObjectData: the file's format, encoding,
 * header and qualifier settings, and its columns.  Used by the Flat File
 * source and destination.
 */
#ifndef WEIR_DATAFLOW_FLATFILE_H
#define WEIR_DATAFLOW_FLATFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/werr.h"
#include "expr/expr.h"
#include "package/package.h"

enum df_ff_format { DF_FF_DELIMITED, DF_FF_FIXED, DF_FF_RAGGED };

struct df_ff_column {
    char *name;
    bool fixed;  /* ColumnType="FixedWidth" */
    char *delim; /* decoded ColumnDelimiter, "" if none */
    size_t delim_len;
    int width;   /* ColumnWidth, characters */
    struct expr_type type;
    bool qualified; /* TextQualified */
};

struct df_ff {
    enum df_ff_format format;
    int codepage;  /* 65001 UTF-8, 1252... */
    bool unicode;  /* UTF-16LE, CodePage ignored */
    bool names_first;
    char *header_delim; /* decoded HeaderRowDelimiter, CR LF by default */
    long header_rows_skip, data_rows_skip;
    char qualifier; /* 0: none */
    struct df_ff_column *cols;
    size_t ncols;
};

/* Reads the definition of Flat File manager `cm` (WERR_INVALID naming the
 * manager when it has none or it cannot be read). */
int df_ff_read(const struct pkg_connection *cm, struct df_ff *ff,
               struct werr *err);
void df_ff_release(struct df_ff *ff);
/* The index of the column called `name`, or -1. */
int df_ff_find(const struct df_ff *ff, const char *name);
/* Decodes the _xHHHH_ escapes of the format ("_x000D__x000A_" is CR LF);
 * the caller frees. */
char *df_ff_unescape(const char *s);

#endif
