/*
 * Test harness for the data flow: builds small packages (a Flat File
 * source into Flat File destinations, written as SSDT writes them) and
 * runs their data flow in process with a host that records events,
 * holds variables and maps connection managers to files in a temporary
 * folder.
 */
#ifndef WEIR_TEST_DATAFLOW_HARNESS_H
#define WEIR_TEST_DATAFLOW_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/wbuf.h"
#include "dataflow/dataflow.h"
#include "package/package.h"

/* A column of the source's flat file and of its output. */
struct hcol {
    const char *name;
    int ff_type;       /* DTS:DataType of the manager's column */
    int width;         /* MaximumWidth, or ColumnWidth when fixed */
    const char *type;  /* pipeline dataType ("i4", "wstr"...) */
    int length, precision, scale;
    const char *delim; /* escaped ColumnDelimiter; NULL: "," or row end */
    const char *error, *trunc; /* dispositions; NULL: FailComponent */
    bool fixed;        /* ColumnType="FixedWidth" */
    bool unqualified;  /* TextQualified="False" */
};

struct hspec {
    const char *cm_attrs; /* attributes of the source's manager */
    const struct hcol *cols;
    int ncols;
    bool retain_nulls;
    const char *file_name_column; /* FileNameColumnName, or NULL */
    /* The source's error output goes to "err.txt" (Line|Code|Column). */
    bool error_output;
    /* A Row Count into User::Rows after the source. */
    bool row_count;
    /* A Recordset destination into User::Result instead of the file. */
    bool recordset;
};

/* The package XML for `s` (caller frees). */
char *h_package(const struct hspec *s);

struct hrun {
    char dir[64];          /* the temporary folder */
    struct pkg *pkg;
    struct wbuf events;    /* "KIND component: message\n" lines */
    int64_t rows_var;      /* User::Rows */
    bool rows_set;
    int cancel_after;      /* canceled() true after that many calls; 0 never */
    int cancel_calls;
    const char *out_path; /* where "Out" writes; NULL: out.txt */
    const char *in_path;  /* every other manager's file, if set */
    struct wbuf rowset;   /* User::Result: "v|NULL|v\n" per row */
    struct df_host host;
};

/* Sets up a run of `xml` (owned by the caller) in a new folder. */
void h_init(struct hrun *r, const char *xml);
void h_release(struct hrun *r);
/* A file of the run's folder, written or read. */
void h_write(struct hrun *r, const char *name, const void *data, size_t len);
char *h_read(struct hrun *r, const char *name); /* NULL if absent */
char *h_path(struct hrun *r, const char *name); /* caller frees */
/* Validates then runs the data flow task "Package\Flow". */
int h_validate(struct hrun *r, struct wbuf *problems);
int h_run(struct hrun *r, struct werr *err);
/* Runs the data flow task `ref` ("Package\\Seq\\Load"). */
int h_run_task(struct hrun *r, const char *ref, struct werr *err);
/* The peak resident set of this process so far, in KiB (VmHWM), for
 * the memory tests. */
long h_peak_kib(void);

#endif
