/*
 * What the database components share (db.h): their connection, SQL text
 * held in variables, external column names, and parameter mappings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "dataflow/db.h"
#include "base/banned.h"

int
df_db_conn(struct df_exec *x, struct df_component *c, const char **odbc,
           struct werr *err)
{
    struct df_conn conn;

    if (c->nconnections == 0)
        return werr_set(err, WERR_INVALID, "component '%s' has no connection",
                        c->name);
    if (df_connection(x, c, c->connections[0].name, &conn, err) < 0)
        return -1;
    if (!conn.string || !*conn.string)
        return werr_set(err, WERR_INVALID,
                        "connection '%s' of component '%s' has no "
                        "connection string",
                        c->connections[0].name, c->name);
    *odbc = conn.string;
    return 0;
}

char *
df_db_var_text(struct df_exec *x, const char *name, struct werr *err)
{
    struct expr_value v;
    char small[256];

    if (!name || !*name) {
        werr_set(err, WERR_INVALID, "no variable is named");
        return NULL;
    }
    if (df_var_get(x, name, &v, err) < 0)
        return NULL;
    if (v.null) {
        werr_set(err, WERR_INVALID, "variable '%s' is NULL", name);
        return NULL;
    }
    if (v.type.dt == EXPR_DT_STR || v.type.dt == EXPR_DT_WSTR ||
        v.type.dt == EXPR_DT_TEXT || v.type.dt == EXPR_DT_NTEXT)
        return xstrndup(v.v.s.p ? v.v.s.p : "", v.v.s.len);
    expr_value_format(&v, small, sizeof(small));
    return xstrdup(small);
}

const char *
df_db_external_name(const struct df_column *col,
                    const struct df_column *externals, size_t nexternals)
{
    if (col->external_id)
        for (size_t i = 0; i < nexternals; i++)
            if (!strcmp(externals[i].ref_id, col->external_id))
                return externals[i].name;
    return col->name;
}

/* The "NS::Name" of the variable with DTSID `id` in scope of `task`. */
static const char *
var_by_dtsid(const struct pkg_executable *task, const char *id, char *buf,
             size_t size)
{
    for (const struct pkg_executable *e = task; e; e = e->parent)
        for (size_t i = 0; i < e->nvariables; i++) {
            const struct pkg_variable *v = &e->variables[i];
            if (v->dtsid && !strcasecmp(v->dtsid, id)) {
                snprintf(buf, size, "%s::%s", v->ns ? v->ns : "User",
                         v->name);
                return buf;
            }
        }
    return NULL;
}

/* Reads one "\"Parameter0:Input\",REF" entry's variable into *v. */
static int
param_value(struct df_exec *x, const char *ref, struct warena *arena,
            struct expr_value *v, struct werr *err)
{
    const struct df_pipeline *p = df_exec_pipeline(x);
    char name[300];
    const char *var = ref;

    if (*ref == '{' && !(var = var_by_dtsid(p->task, ref, name, sizeof(name))))
        return werr_set(err, WERR_NOTFOUND,
                        "no variable has the DTSID %s", ref);
    if (df_var_get(x, var, v, err) < 0)
        return -1;
    if (!v->null && (v->type.dt == EXPR_DT_STR || v->type.dt == EXPR_DT_WSTR ||
                     v->type.dt == EXPR_DT_TEXT ||
                     v->type.dt == EXPR_DT_NTEXT))
        v->v.s.p = warena_memdup(arena, v->v.s.p ? v->v.s.p : "", v->v.s.len,
                                 1);
    return 0;
}

int
df_db_params(struct df_exec *x, struct df_component *c, const char *mapping,
             struct warena *arena, struct expr_value **vals, size_t *n,
             struct werr *err)
{
    size_t cap = 0;
    const char *s = mapping ? mapping : "";

    for (const char *p = s; *p; p++)
        cap += *p == ';';
    *vals = warena_alloc(arena, (cap + 1) * sizeof(**vals));
    *n = 0;
    while (*s) {
        const char *end = strchr(s, ';'), *comma;
        size_t len = end ? (size_t)(end - s) : strlen(s);
        char *entry = warena_strndup(arena, s, len);
        s += len + (end != NULL);
        if (!*entry)
            continue;
        /* The variable follows the last comma (the name is quoted). */
        comma = strrchr(entry, ',');
        const char *ref = comma ? comma + 1 : entry;
        while (*ref == ' ')
            ref++;
        if (param_value(x, ref, arena, &(*vals)[*n], err) < 0)
            return werr_prefix(err, "component '%s': parameter %zu",
                               c->name, *n);
        (*n)++;
    }
    return 0;
}

/* ---- validation against the database ---- */

struct df_odbc *
df_db_validation_connect(struct df_exec *x, struct df_component *c,
                         const char **odbc)
{
    struct df_odbc *db;
    struct werr err = {0};

    if (!df_exec_host(x)->validate_external ||
        !df_prop_bool(c->props, c->nprops, "ValidateExternalMetadata", true))
        return NULL;
    if (df_db_conn(x, c, odbc, &err) < 0)
        return NULL; /* the component's own checks report it */
    if (!(db = df_odbc_connect(*odbc, &err)))
        df_event(x, c, DF_EV_INFORMATION,
                 "tables and columns not validated: %s", err.msg);
    return db;
}

int
df_db_check_table(struct df_odbc *db, const char *odbc,
                  const struct df_component *c, const char *table,
                  const char *const *names, size_t n, struct wbuf *problems)
{
    char *name = df_db_table_name(df_db_kind_of(odbc), table);
    char *sql = xasprintf("SELECT * FROM %s WHERE 1 = 0", name);
    struct werr err = {0};
    struct df_cursor *cur = df_cursor_open(db, sql, NULL, 0, 0, &err);
    int found = 0;

    free(name);
    free(sql);
    if (!cur) {
        wbuf_addf(problems, NULL, "component '%s': table '%s' cannot be "
                                  "read: %s\n",
                  c->name, table, err.msg);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        size_t k = 0, nc = df_cursor_ncols(cur);
        while (k < nc && strcasecmp(df_cursor_col(cur, k)->name, names[i]))
            k++;
        if (k < nc)
            continue;
        wbuf_addf(problems, NULL,
                  "component '%s': table '%s' has no column '%s'\n", c->name,
                  table, names[i]);
        found++;
    }
    df_cursor_free(cur);
    return found;
}
