/*
 * The database sources: OLE DB Source, ADO.NET Source (the managed
 * DataReaderSourceAdapter) and ODBC Source.  All three run one query
 * through ODBC and fetch its rows a buffer at a time (db_odbc.c).
 *
 * The query is the table's "SELECT * FROM table" (its name put in the
 * target's quoting), a table name or SQL text held in a variable, or the
 * SQL command; OLE DB parameters (ParameterMapping) are read from their
 * variables when the query starts.  Each output column takes the result
 * column with the name of its external metadata column (or its own),
 * compared without case, converted by the driver to the column's type.
 *
 * Values that do not fit their column take its dispositions: a string
 * longer than the column its truncation disposition, an integer out of
 * the column's range (the cursor fetches such columns wider and lists
 * the values, db_range.c) its error disposition.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "dataflow/db.h"
#include "base/banned.h"

/* An output column whose values may be longer than its length. */
struct src_check {
    const struct df_column *col;
    bool bytes; /* binary: length in bytes, else in characters */
};

struct src_state {
    struct df_odbc *db;
    struct warena arena;
    char *sql;
    const char *odbc;
    struct src_check *checks;
    size_t nchecks;
    const struct df_column **by_result; /* output column of each result
                                         * column, or NULL */
    int32_t *errs, *cols; /* per row of a buffer */
    size_t scratch_rows;
};

/* The first output that is not an error output. */
static struct df_output *
main_output(struct df_component *c)
{
    for (size_t i = 0; i < c->noutputs; i++)
        if (!c->outputs[i].is_error)
            return &c->outputs[i];
    return NULL;
}

static char *
select_all(const char *odbc, const char *table)
{
    char *name = df_db_table_name(df_db_kind_of(odbc), table);
    char *sql = xasprintf("SELECT * FROM %s", name);

    free(name);
    return sql;
}

/* The query of component `c`, or NULL with `err`. */
static char *
src_sql(struct df_exec *x, struct df_component *c, const char *odbc,
        struct werr *err)
{
    const struct df_property *p = c->props;
    size_t n = c->nprops;
    int64_t mode = df_prop_int(p, n, "AccessMode", 0);
    const char *cls = c->class_id, *table = NULL, *text = NULL;
    char *owned = NULL, *sql;

    if (!strcmp(cls, "Microsoft.OLEDBSource")) {
        if (mode == 0)
            table = df_prop(p, n, "OpenRowset");
        else if (mode == 1)
            table = owned =
                df_db_var_text(x, df_prop(p, n, "OpenRowsetVariable"), err);
        else if (mode == 2)
            text = df_prop(p, n, "SqlCommand");
        else if (mode == 3)
            text = owned =
                df_db_var_text(x, df_prop(p, n, "SqlCommandVariable"), err);
    } else if (!strcmp(cls, "Microsoft.DataReaderSourceAdapter")) {
        if (mode == 0)
            table = df_prop(p, n, "TableOrViewName");
        else
            text = df_prop(p, n, "SqlCommand");
    } else {
        if (mode == 0)
            table = df_prop(p, n, "TableName");
        else
            text = df_prop(p, n, "SqlCommand");
    }
    if (!table && !text) {
        if (!owned && err->code == WERR_OK)
            werr_set(err, WERR_INVALID,
                     "access mode %lld has no table or SQL command",
                     (long long)mode);
        free(owned);
        return NULL;
    }
    if (!*(table ? table : text)) {
        werr_set(err, WERR_INVALID, "the %s is empty",
                 table ? "table name" : "SQL command");
        free(owned);
        return NULL;
    }
    sql = table ? select_all(odbc, table) : xstrdup(text);
    free(owned);
    return sql;
}

static int
src_pre_execute(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct src_state *s = xcalloc(1, sizeof(*s));

    c->state = s;
    warena_init(&s->arena);
    werr_clear(err);
    if (df_db_conn(x, c, &s->odbc, err) < 0)
        return -1;
    s->sql = src_sql(x, c, s->odbc, err);
    if (!s->sql)
        return werr_prefix(err, "component '%s'", c->name);
    s->db = df_odbc_connect(s->odbc, err);
    if (!s->db)
        return werr_prefix(err, "component '%s': connection '%s'", c->name,
                           c->connections[0].name);
    return 0;
}

/* ---- values longer than their column ---- */

static bool
is_bytes(enum expr_dt dt)
{
    return dt == EXPR_DT_BYTES || dt == EXPR_DT_IMAGE;
}

static bool
is_bounded_string(const struct expr_type *t)
{
    return t->length > 0 && (t->dt == EXPR_DT_STR || t->dt == EXPR_DT_WSTR ||
                             t->dt == EXPR_DT_BYTES);
}

/* Column `col` may receive longer values than its length when the
 * result column is unbounded or longer. */
static void
plan_check(struct src_state *s, const struct df_column *col,
           const struct df_odbc_col *rc)
{
    if (col->slot < 0 || !is_bounded_string(&col->type))
        return;
    if (rc->size != 0 && rc->size <= (size_t)col->type.length)
        return;
    s->checks = xrealloc(s->checks, (s->nchecks + 1) * sizeof(*s->checks));
    s->checks[s->nchecks++] =
        (struct src_check){col, is_bytes(col->type.dt)};
}

/* Marks the rows of `b` whose value of `k` is too long (ignored ones are
 * cut); returns how many were marked. */
static size_t
check_column(struct src_state *s, const struct src_check *k,
             struct df_buffer *b)
{
    const struct df_column *col = k->col;
    struct df_vec *v = &b->cols[col->slot];
    size_t max = (size_t)col->type.length, marked = 0;

    for (size_t r = 0; r < b->nrows; r++) {
        struct expr_sv *sv = &((struct expr_sv *)v->data)[r];
        if (v->nulls[r] ||
            (k->bytes ? sv->len : df_utf16_units(sv->p, sv->len)) <= max)
            continue;
        if (col->trunc_disp == DF_DISP_IGNORE) {
            sv->len = k->bytes ? max : df_utf16_cut(sv->p, sv->len, max);
        } else if (!s->errs[r]) {
            s->errs[r] = DF_E_TRUNCATION;
            s->cols[r] = col->id;
            marked++;
        }
    }
    return marked;
}

/* Marks the rows with a value out of its column's range (the cursor
 * made it NULL, which IgnoreFailure keeps); fails the component for a
 * column whose error disposition is not RedirectRow.  Returns how many
 * rows were marked, -1 with `err`. */
static long
mark_bad(struct df_exec *x, struct df_component *c, struct src_state *s,
         struct df_cursor *cur, struct werr *err)
{
    const struct df_cursor_bad *bad;
    size_t n = df_cursor_bad(cur, &bad);
    long marked = 0;

    for (size_t i = 0; i < n; i++) {
        const struct df_column *col = s->by_result[bad[i].col];
        if (col->error_disp == DF_DISP_IGNORE)
            continue;
        if (col->error_disp != DF_DISP_REDIRECT) {
            const char *t = expr_dt_name(col->type.dt);
            df_error(x, c, 0,
                     "column '%s': the value %s does not fit %s, "
                     "and its disposition is FailComponent",
                     col->name, bad[i].text, t);
            return werr_set(err, WERR_INVALID,
                            "component '%s': column "
                            "'%s': the value %s does not fit %s",
                            c->name, col->name, bad[i].text, t);
        }
        if (!s->errs[bad[i].row]) {
            s->errs[bad[i].row] = DF_E_CONVERSION;
            s->cols[bad[i].row] = col->id;
            marked++;
        }
    }
    return marked;
}

/* Applies the columns' dispositions to the rows of *b: a value out of
 * its integer column's range (error disposition), a value longer than
 * its column (truncation disposition) fail the component, go to the
 * error output, or are NULL and cut (IgnoreFailure), as in the Flat
 * File source. */
static int
check_rows(struct df_exec *x, struct df_component *c, struct src_state *s,
           struct df_cursor *cur, struct df_buffer **b, struct werr *err)
{
    enum df_disposition disp = DF_DISP_REDIRECT;
    const struct df_cursor_bad *bad;
    long marked = 0;

    if (!s->nchecks && !df_cursor_bad(cur, &bad))
        return 0;
    if ((*b)->nrows > s->scratch_rows) {
        s->scratch_rows = (*b)->nrows;
        s->errs = xrealloc(s->errs, s->scratch_rows * sizeof(*s->errs));
        s->cols = xrealloc(s->cols, s->scratch_rows * sizeof(*s->cols));
    }
    memset(s->errs, 0, (*b)->nrows * sizeof(*s->errs));
    memset(s->cols, 0, (*b)->nrows * sizeof(*s->cols));
    if ((marked = mark_bad(x, c, s, cur, err)) < 0)
        return -1;
    for (size_t i = 0; i < s->nchecks; i++) {
        size_t n = check_column(s, &s->checks[i], *b);
        if (n && s->checks[i].col->trunc_disp != DF_DISP_REDIRECT)
            disp = DF_DISP_FAIL;
        marked += (long)n;
    }
    if (!marked)
        return 0;
    return df_row_errors(x, c, b, s->errs, s->cols, disp, err);
}

/* Binds every column of `out` to its result column. */
static int
bind_outputs(struct df_component *c, struct src_state *s,
             struct df_output *out, struct df_cursor *cur, const char *sql,
             struct werr *err)
{
    free(s->by_result);
    s->by_result = xcalloc(df_cursor_ncols(cur) + 1, sizeof(*s->by_result));
    df_cursor_collect(cur, true);
    for (size_t i = 0; i < out->ncolumns; i++) {
        struct df_column *col = &out->columns[i];
        const char *name =
            df_db_external_name(col, out->externals, out->nexternals);
        size_t k = 0, nc = df_cursor_ncols(cur);
        while (k < nc && strcasecmp(df_cursor_col(cur, k)->name, name))
            k++;
        if (k == nc)
            return werr_set(err, WERR_INVALID,
                            "component '%s': column '%s' is not in the "
                            "result of '%s'",
                            c->name, name, sql);
        if (col->slot >= 0) {
            df_cursor_bind(cur, k, col->slot, &col->type);
            s->by_result[k] = col;
        }
        plan_check(s, col, df_cursor_col(cur, k));
    }
    return 0;
}

static int
src_produce(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct src_state *s = c->state;
    struct df_output *out = main_output(c);
    struct expr_value *params = NULL;
    size_t nparams = 0;
    struct df_cursor *cur = NULL;
    int rc = -1;

    if (!strcmp(c->class_id, "Microsoft.OLEDBSource") &&
        df_db_params(x, c, df_prop(c->props, c->nprops, "ParameterMapping"),
                     &s->arena, &params, &nparams, err) < 0)
        return -1;
    cur = df_cursor_open(s->db, s->sql, params, nparams,
                         (int)df_prop_int(c->props, c->nprops,
                                          "CommandTimeout", 0),
                         err);
    if (!cur) {
        werr_prefix(err, "component '%s': '%s'", c->name, s->sql);
        goto out;
    }
    if (!out || bind_outputs(c, s, out, cur, s->sql, err) < 0)
        goto out;
    for (;;) {
        struct df_buffer *b = df_buffer_new(out->layout);
        long n = df_cursor_fetch(cur, b, err);
        if (n <= 0) {
            df_buffer_unref(b);
            if (n < 0)
                werr_prefix(err, "component '%s'", c->name);
            rc = n < 0 ? -1 : 0;
            break;
        }
        if (check_rows(x, c, s, cur, &b, err) < 0) {
            df_buffer_unref(b);
            break;
        }
        if (b->nrows == 0) {
            df_buffer_unref(b);
            continue;
        }
        if (df_send(x, out, b, err) < 0)
            break;
    }
out:
    df_cursor_free(cur);
    return rc;
}

/* The table a source reads in a table access mode, else NULL. */
static const char *
src_table(struct df_component *c)
{
    const struct df_property *p = c->props;
    size_t n = c->nprops;

    if (df_prop_int(p, n, "AccessMode", 0) != 0)
        return NULL;
    if (!strcmp(c->class_id, "Microsoft.OLEDBSource"))
        return df_prop(p, n, "OpenRowset");
    if (!strcmp(c->class_id, "Microsoft.DataReaderSourceAdapter"))
        return df_prop(p, n, "TableOrViewName");
    return df_prop(p, n, "TableName");
}

/* weir exec --validate: a source reading a table checks that the table
 * exists and has the output's columns.  SQL commands are not run. */
static int
src_validate(struct df_exec *x, struct df_component *c,
             struct wbuf *problems)
{
    struct df_output *out = main_output(c);
    const char *table = src_table(c), *odbc;
    const char **names;
    struct df_odbc *db;
    int n;

    if (!out || !table || !*table ||
        !(db = df_db_validation_connect(x, c, &odbc)))
        return 0;
    names = xcalloc(out->ncolumns + 1, sizeof(*names));
    for (size_t i = 0; i < out->ncolumns; i++)
        names[i] = df_db_external_name(&out->columns[i], out->externals,
                                       out->nexternals);
    n = df_db_check_table(db, odbc, c, table, names, out->ncolumns,
                          problems);
    free(names);
    df_odbc_close(db);
    return n;
}

static void
src_cleanup(struct df_exec *x, struct df_component *c)
{
    struct src_state *s = c->state;

    if (!s)
        return;
    df_odbc_close(s->db);
    free(s->sql);
    free(s->checks);
    free(s->by_result);
    free(s->errs);
    free(s->cols);
    warena_release(&s->arena);
    free(s);
    c->state = NULL;
}

const struct df_component_ops df_oledb_source_ops = {
    .class_id = "Microsoft.OLEDBSource",
    .validate = src_validate,
    .pre_execute = src_pre_execute,
    .produce = src_produce,
    .cleanup = src_cleanup,
};

const struct df_component_ops df_adonet_source_ops = {
    .class_id = "Microsoft.DataReaderSourceAdapter",
    .validate = src_validate,
    .pre_execute = src_pre_execute,
    .produce = src_produce,
    .cleanup = src_cleanup,
};

const struct df_component_ops df_odbc_source_ops = {
    .class_id = "Attunity.SSISODBCSrc",
    .validate = src_validate,
    .pre_execute = src_pre_execute,
    .produce = src_produce,
    .cleanup = src_cleanup,
};
