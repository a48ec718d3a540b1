/*
 * OLE DB Command (Microsoft.OLEDBCommand): runs its SqlCommand once per
 * input row, the row's values bound to the `?` markers.  Input columns
 * map to the markers through their external columns Param_0, Param_1...
 * (the number is the marker's position).  The rows go on unchanged to the
 * component's output.
 *
 * With the input's error disposition FailComponent (the default), a whole
 * buffer is executed over ODBC parameter arrays; with redirect or ignore
 * each row is executed on its own, so the rows the statement fails on
 * (ErrorCode DTS_E_OLEDBERROR, ErrorColumn 0) are known exactly.  Every
 * execution commits on its own (autocommit), as SSIS's does.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "dataflow/db.h"
#include "base/banned.h"

#define CMD_E_FAILED (-1071636471)

struct cmd_state {
    struct df_odbc *db;
    struct df_odbc_stmt *st;
    const char *sql;
    int *params; /* slot per marker */
    size_t nparams;
    struct df_output *out;
    int32_t *errs, *cols;
    size_t scratch_rows;
};

/* The marker number of external column "Param_N", or -1. */
static long
param_number(const char *name)
{
    char *end;
    long n;

    if (strncasecmp(name, "Param_", 6))
        return -1;
    n = strtol(name + 6, &end, 10);
    return *end || n < 0 ? -1 : n;
}

static int
map_params(struct df_component *c, struct cmd_state *s, struct werr *err)
{
    struct df_input *in = &c->inputs[0];

    s->params = xcalloc(in->ncolumns + 1, sizeof(int));
    for (size_t i = 0; i < in->ncolumns; i++) {
        struct df_column *col = &in->columns[i];
        if (!col->external_id)
            continue;
        const char *name =
            df_db_external_name(col, in->externals, in->nexternals);
        long n = param_number(name);
        if (n < 0 || (size_t)n >= in->ncolumns)
            return werr_set(err, WERR_INVALID,
                            "input column '%s' maps to '%s', which is not "
                            "a parameter Param_0..Param_%zu",
                            col->name, name, in->ncolumns - 1);
        s->params[n] = col->slot + 1;
        if ((size_t)n + 1 > s->nparams)
            s->nparams = (size_t)n + 1;
    }
    for (size_t i = 0; i < s->nparams; i++) {
        if (!s->params[i])
            return werr_set(err, WERR_INVALID,
                            "no input column is mapped to Param_%zu", i);
        s->params[i]--;
    }
    return 0;
}

static int
cmd_pre_execute(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct cmd_state *s = xcalloc(1, sizeof(*s));
    const char *odbc;

    c->state = s;
    s->sql = df_prop(c->props, c->nprops, "SqlCommand");
    for (size_t i = 0; i < c->noutputs; i++)
        if (!c->outputs[i].is_error && !s->out)
            s->out = &c->outputs[i];
    if (!s->sql || !*s->sql)
        return werr_set(err, WERR_INVALID, "component '%s': SqlCommand is "
                                           "empty",
                        c->name);
    if (c->ninputs != 1 || map_params(c, s, err) < 0 ||
        df_db_conn(x, c, &odbc, err) < 0)
        return werr_prefix(err, "component '%s'", c->name);
    if (!(s->db = df_odbc_connect(odbc, err)) ||
        !(s->st = df_odbc_prepare(s->db, s->sql, err)))
        return werr_prefix(err, "component '%s'", c->name);
    return 0;
}

/* Runs the rows one at a time and hands the failed ones to the input's
 * disposition. */
static int
run_rows(struct df_exec *x, struct df_component *c, struct df_input *in,
         struct df_buffer **b, struct werr *err)
{
    struct cmd_state *s = c->state;
    struct werr row_err;
    size_t n = (*b)->nrows, failed = 0;

    if (n > s->scratch_rows) {
        s->scratch_rows = n;
        s->errs = xrealloc(s->errs, n * sizeof(*s->errs));
        s->cols = xrealloc(s->cols, n * sizeof(*s->cols));
    }
    for (size_t r = 0; r < n; r++) {
        uint32_t row = (uint32_t)r;
        s->cols[r] = 0;
        s->errs[r] = df_odbc_exec_rows(s->st, *b, s->params, s->nparams,
                                       &row, 1, &row_err) < 0
                         ? CMD_E_FAILED
                         : 0;
        if (s->errs[r] && failed++ == 0)
            df_event(x, c, DF_EV_WARNING, "%s", row_err.msg);
    }
    return df_row_errors(x, c, b, s->errs, s->cols, in->error_disp, err);
}

static int
cmd_process(struct df_exec *x, struct df_component *c, struct df_input *in,
            struct df_buffer *b, struct werr *err)
{
    struct cmd_state *s = c->state;
    int rc;

    if (in->error_disp == DF_DISP_IGNORE || in->error_disp == DF_DISP_REDIRECT)
        rc = run_rows(x, c, in, &b, err);
    else if ((rc = df_odbc_exec_rows(s->st, b, s->params, s->nparams, NULL, 0,
                                     err)) < 0)
        werr_prefix(err, "component '%s'", c->name);
    if (rc < 0) {
        df_buffer_unref(b);
        return -1;
    }
    return df_send(x, s->out, b, err);
}

static void
cmd_cleanup(struct df_exec *x, struct df_component *c)
{
    struct cmd_state *s = c->state;

    if (!s)
        return;
    df_odbc_stmt_free(s->st);
    df_odbc_close(s->db);
    free(s->params);
    free(s->errs);
    free(s->cols);
    free(s);
    c->state = NULL;
}

const struct df_component_ops df_oledb_command_ops = {
    .class_id = "Microsoft.OLEDBCommand",
    .pre_execute = cmd_pre_execute,
    .process = cmd_process,
    .cleanup = cmd_cleanup,
};
