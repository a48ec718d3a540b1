/*
 * The database destinations: OLE DB Destination, ADO.NET Destination
 * (managed ADONETDestination) and ODBC Destination.  Rows go through a
 * loader (db_load.c), which takes PostgreSQL's COPY or SQLite's own
 * library when the connection string names their drivers and ODBC
 * parameter arrays otherwise.
 *
 * Each input column with an external metadata column is inserted into
 * the destination column of that name; the others are not inserted, and
 * destination columns nobody maps get their defaults, as in SSIS.
 *
 * Transactions: fast load (OLE DB access modes 3 and 4) commits every
 * FastLoadMaxInsertCommitSize rows (0: once at the end); the other modes,
 * and the ADO.NET and ODBC destinations, commit each buffer.  With the
 * input's error disposition set to redirect or ignore, each buffer is
 * committed on its own; a buffer that fails is rolled back and inserted
 * again a row at a time, so only the rows the database refuses go to the
 * error output (SSIS's fast load redirects the whole batch).
 */
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "dataflow/db.h"
#include "base/banned.h"

/* DTS_E_OLEDBERROR: what SSIS puts in ErrorCode for a row the database
 * refused. */
#define DB_E_INSERT (-1071636471)

struct dest_state {
    struct df_db_loader *l;
    struct df_db_target t;
    int *slots;
    char *table;
    bool per_buffer; /* commit each buffer */
    int64_t rows;
};

/* The destination table, or NULL with `err`; `fast` says whether the
 * access mode is a fast load. */
static char *
dest_table(struct df_exec *x, struct df_component *c, bool *fast,
           struct werr *err)
{
    const struct df_property *p = c->props;
    size_t n = c->nprops;
    int64_t mode = df_prop_int(p, n, "AccessMode", 3);
    const char *t = NULL;

    *fast = false;
    if (!strcmp(c->class_id, "Microsoft.OLEDBDestination")) {
        *fast = mode == 3 || mode == 4;
        if (mode == 0 || mode == 3)
            t = df_prop(p, n, "OpenRowset");
        else if (mode == 1 || mode == 4)
            return df_db_var_text(x, df_prop(p, n, "OpenRowsetVariable"),
                                  err);
        else {
            werr_set(err, WERR_INVALID,
                     "access mode 2 (SQL command) is not supported by the "
                     "OLE DB Destination in weir: name the table");
            return NULL;
        }
    } else if (!strcmp(c->class_id, "Microsoft.ADONETDestination"))
        t = df_prop(p, n, "TableOrViewName");
    else
        t = df_prop(p, n, "TableName");
    if (!t || !*t) {
        werr_set(err, WERR_INVALID, "no destination table is named");
        return NULL;
    }
    return xstrdup(t);
}

/* Fills the target's columns from the input's mapped columns. */
static int
map_columns(struct df_component *c, struct df_input *in,
            struct dest_state *s, struct werr *err)
{
    size_t n = in->ncolumns;
    const char **names = xcalloc(n ? n : 1, sizeof(*names));
    struct expr_type *types = xcalloc(n ? n : 1, sizeof(*types));

    s->slots = xcalloc(n ? n : 1, sizeof(int));
    s->t.names = names;
    s->t.types = types;
    for (size_t i = 0; i < n; i++) {
        struct df_column *col = &in->columns[i];
        if (!col->external_id)
            continue;
        const char *name = NULL;
        for (size_t k = 0; k < in->nexternals && !name; k++)
            if (!strcmp(in->externals[k].ref_id, col->external_id))
                name = in->externals[k].name;
        if (!name)
            return werr_set(err, WERR_INVALID,
                            "input column '%s' maps to '%s', which is not "
                            "an external column of the input",
                            col->name, col->external_id);
        names[s->t.ncols] = name;
        types[s->t.ncols] = col->type;
        s->slots[s->t.ncols++] = col->slot;
    }
    if (s->t.ncols == 0)
        return werr_set(err, WERR_INVALID,
                        "no input column is mapped to a destination column");
    return 0;
}

static void
read_options(struct df_component *c, bool fast, struct dest_state *s)
{
    const struct df_property *p = c->props;
    size_t n = c->nprops;
    const char *opts = df_prop(p, n, "FastLoadOptions");

    s->per_buffer = !fast;
    /* Row by row, SSIS inserts NULLs and identity values as they come;
     * the KeepNulls and KeepIdentity options are fast load's. */
    s->t.keep_nulls = s->t.keep_identity = true;
    if (fast) {
        s->t.commit_rows =
            df_prop_int(p, n, "FastLoadMaxInsertCommitSize", 0);
        s->t.keep_nulls = df_prop_bool(p, n, "FastLoadKeepNulls", false);
        s->t.keep_identity = df_prop_bool(p, n, "FastLoadKeepIdentity", false);
        s->t.table_lock = opts && strstr(opts, "TABLOCK");
    }
    if (c->ninputs && c->inputs[0].error_disp != DF_DISP_FAIL &&
        c->inputs[0].error_disp != DF_DISP_NOT_USED)
        s->per_buffer = true;
    if (s->per_buffer)
        s->t.commit_rows = 0;
}

static int
dest_pre_execute(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct dest_state *s = xcalloc(1, sizeof(*s));
    bool fast;

    c->state = s;
    werr_clear(err);
    if (c->ninputs != 1)
        return werr_set(err, WERR_INVALID, "component '%s' has no input",
                        c->name);
    if (df_db_conn(x, c, &s->t.odbc, err) < 0)
        return -1;
    s->table = dest_table(x, c, &fast, err);
    if (!s->table)
        return werr_prefix(err, "component '%s'", c->name);
    s->t.table = s->table;
    read_options(c, fast, s);
    if (map_columns(c, &c->inputs[0], s, err) < 0)
        return werr_prefix(err, "component '%s'", c->name);
    s->l = df_db_loader_open(&s->t, err);
    if (!s->l)
        return werr_prefix(err, "component '%s': table '%s'", c->name,
                           s->table);
    df_event(x, c, DF_EV_INFORMATION, "loading '%s' through %s", s->table,
             df_db_loader_path(s->l));
    return 0;
}

/* The buffer failed as a whole: insert it again a row at a time, each in
 * its own transaction, and hand the refused rows to the disposition. */
static int
retry_rows(struct df_exec *x, struct df_component *c, struct df_input *in,
           struct df_buffer *b, struct werr *err)
{
    struct dest_state *s = c->state;
    int32_t *errs = xcalloc(b->nrows ? b->nrows : 1, sizeof(int32_t));
    int32_t *cols = xcalloc(b->nrows ? b->nrows : 1, sizeof(int32_t));
    struct werr row_err;
    int rc;

    for (size_t r = 0; r < b->nrows; r++) {
        uint32_t row = (uint32_t)r;
        werr_clear(&row_err);
        if (df_db_loader_write(s->l, b, s->slots, &row, 1, &row_err) < 0 ||
            df_db_loader_finish(s->l, &row_err) < 0) {
            df_db_loader_rollback(s->l);
            errs[r] = DB_E_INSERT;
            cols[r] = 0;
            df_event(x, c, DF_EV_WARNING, "row refused: %s", row_err.msg);
        } else
            s->rows++;
    }
    rc = df_row_errors(x, c, &b, errs, cols, in->error_disp, err);
    df_buffer_unref(b);
    free(errs);
    free(cols);
    return rc;
}

static int
dest_process(struct df_exec *x, struct df_component *c, struct df_input *in,
             struct df_buffer *b, struct werr *err)
{
    struct dest_state *s = c->state;
    struct werr first;

    werr_clear(&first);
    if (df_db_loader_write(s->l, b, s->slots, NULL, 0, &first) == 0 &&
        (!s->per_buffer || df_db_loader_finish(s->l, &first) == 0)) {
        s->rows += (int64_t)b->nrows;
        df_buffer_unref(b);
        return 0;
    }
    if (in->error_disp == DF_DISP_IGNORE ||
        in->error_disp == DF_DISP_REDIRECT) {
        df_db_loader_rollback(s->l);
        return retry_rows(x, c, in, b, err);
    }
    df_buffer_unref(b);
    *err = first;
    return werr_prefix(err, "component '%s': inserting into '%s'", c->name,
                       s->table);
}

static int
dest_end(struct df_exec *x, struct df_component *c, struct df_input *in,
         struct werr *err)
{
    struct dest_state *s = c->state;

    if (df_db_loader_finish(s->l, err) < 0)
        return werr_prefix(err, "component '%s': committing into '%s'",
                           c->name, s->table);
    return 0;
}

static void
dest_cleanup(struct df_exec *x, struct df_component *c)
{
    struct dest_state *s = c->state;

    if (!s)
        return;
    df_db_loader_free(s->l);
    free((void *)s->t.names);
    free((void *)s->t.types);
    free(s->slots);
    free(s->table);
    free(s);
    c->state = NULL;
}

/* weir exec --validate: the table exists and has the mapped columns. */
static int
dest_validate(struct df_exec *x, struct df_component *c,
              struct wbuf *problems)
{
    struct dest_state s = {0};
    struct werr err = {0};
    const char *odbc;
    struct df_odbc *db;
    char *table = NULL;
    bool fast;
    int n = 0;

    if (c->ninputs != 1 || !(db = df_db_validation_connect(x, c, &odbc)))
        return 0;
    if ((table = dest_table(x, c, &fast, &err)) &&
        map_columns(c, &c->inputs[0], &s, &err) == 0)
        n = df_db_check_table(db, odbc, c, table, s.t.names, s.t.ncols,
                              problems);
    df_odbc_close(db);
    free(table);
    free((void *)s.t.names);
    free((void *)s.t.types);
    free(s.slots);
    return n;
}

const struct df_component_ops df_oledb_dest_ops = {
    .class_id = "Microsoft.OLEDBDestination",
    .validate = dest_validate,
    .pre_execute = dest_pre_execute,
    .process = dest_process,
    .end_of_input = dest_end,
    .cleanup = dest_cleanup,
};

const struct df_component_ops df_adonet_dest_ops = {
    .class_id = "Microsoft.ADONETDestination",
    .validate = dest_validate,
    .pre_execute = dest_pre_execute,
    .process = dest_process,
    .end_of_input = dest_end,
    .cleanup = dest_cleanup,
};

const struct df_component_ops df_odbc_dest_ops = {
    .class_id = "Attunity.SSISODBCDst",
    .validate = dest_validate,
    .pre_execute = dest_pre_execute,
    .process = dest_process,
    .end_of_input = dest_end,
    .cleanup = dest_cleanup,
};
