/*
 * The Foreach Loop container (STOCK:FOREACHLOOP, shared DTSX.md 5.3).
 *
 * When the loop starts, its enumerator produces the whole collection as a
 * result set (foreach.h): the File enumerator the matching files, the
 * Item enumerator its items, the ADO and From Variable enumerators the
 * rows of the result set an Object variable holds.  Each row is one
 * iteration: the ForEachVariableMappings store the row's values by
 * ValueIndex into their variables (converted to the variables' types),
 * then the children run as a Sequence's do, as in the For Loop.
 *
 * An iteration whose result is not success stops the loop, whose result
 * it becomes; errors count across iterations against MaximumErrorCount,
 * so a loop allowed more errors goes on past a failing child.  A mapping
 * that cannot be applied is an error of the loop, which then fails.  The
 * loop checks for cancel before each iteration.
 *
 * Property expressions on the enumerator (Directory, FileSpec,
 * FileNameRetrieval, Recurse) are compiled at validation and evaluated
 * when the loop starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "expr/expr.h"
#include "runtime/foreach.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

/* ---- the enumerator's property expressions ---- */

static bool
prop_applied(const struct pkg_foreach *f, const char *property)
{
    static const char *const file_props[] = {"Directory", "FileSpec",
                                             "FileNameRetrieval", "Recurse"};

    for (size_t i = 0; f->kind == PKG_ENUM_FILE && i < 4; i++)
        if (!strcasecmp(property, file_props[i]))
            return true;
    return false;
}

static struct expr *
prop_expr(struct rt_run *run, const struct pkg_executable *e,
          const struct pkg_property_expression *pe, struct werr *err)
{
    struct expr *x = rt_vars_expr(run->vars, pe, e,
                                  pe->expression ? pe->expression : "", 0,
                                  err);

    if (!x)
        werr_prefix(err, "the enumerator's property expression on %s (\"%s\")",
                    pe->property, pe->expression ? pe->expression : "");
    return x;
}

/* Evaluates the enumerator's expression on `property` into `out`: 1 when
 * there is one, 0 when none, -1 with `err` set. */
static int
prop_value(struct rt_run *run, const struct pkg_executable *e,
           const char *property, struct rt_value *out, struct werr *err)
{
    const struct pkg_foreach *f = e->foreach;
    const struct pkg_property_expression *pe = NULL;
    struct expr *x;

    for (size_t i = 0; i < f->nexpressions && !pe; i++)
        if (!strcasecmp(f->expressions[i].property, property))
            pe = &f->expressions[i];
    if (!pe)
        return 0;
    if (!(x = prop_expr(run, e, pe, err)))
        return -1;
    if (rt_expr_eval(run->vars, e, x, out, err) < 0)
        return werr_prefix(err, "the enumerator's property expression on %s",
                           pe->property);
    if (out->null)
        return werr_set(err, WERR_INVALID,
                        "the enumerator's property expression on %s (\"%s\") "
                        "is NULL",
                        pe->property, pe->expression);
    return 1;
}

/* ---- the File enumerator ---- */

struct fe_file {
    char *folder, *spec;
    int retrieval;
    bool recurse;
};

static int
file_prop_int(struct rt_run *run, const struct pkg_executable *e,
              const char *property, int vt, struct rt_value *out,
              struct werr *err)
{
    struct rt_value v = {0};
    int rc = prop_value(run, e, property, &v, err);

    if (rc > 0 && rt_value_convert(&v, vt, out, err) < 0)
        rc = werr_prefix(err, "the enumerator's property %s", property);
    rt_value_release(&v);
    return rc;
}

static int
folder_setting(struct rt_run *run, const struct pkg_executable *e,
               struct fe_file *fs, struct werr *err)
{
    const char *given = rt_override_get(run->params, e, "ForEachEnumerator",
                                        "Directory");
    struct rt_value v = {0};
    char *text;
    int rc = given ? 0 : prop_value(run, e, "Directory", &v, err);

    if (rc < 0)
        goto out;
    text = given  ? xstrdup(given)
           : rc > 0 ? rt_value_text(&v)
                    : xstrdup(e->foreach->folder);
    rc = 0;
    if (!*text)
        rc = werr_set(err, WERR_INVALID,
                      "the File enumerator has no folder: set Folder, or a "
                      "property expression on Directory");
    else if (!(fs->folder = pkg_path_linux(text, run->package_dir)))
        /* The folder goes last: a long one is what gets cut. */
        rc = werr_set(err, WERR_INVALID,
                      "the File enumerator's folder is a Windows path: give "
                      "it with the parameter '%s.ForEachEnumerator."
                      "Properties[Directory]' or a property expression on "
                      "Directory: '%s'",
                      e->path, text);
    free(text);
out:
    rt_value_release(&v);
    return rc;
}

static int
file_settings(struct rt_run *run, const struct pkg_executable *e,
              struct fe_file *fs, struct werr *err)
{
    const struct pkg_foreach *f = e->foreach;
    struct rt_value v = {0};
    const char *given;
    int rc;

    memset(fs, 0, sizeof(*fs));
    fs->retrieval = f->retrieval;
    fs->recurse = f->recurse;
    if (folder_setting(run, e, fs, err) < 0)
        return -1;
    given = rt_override_get(run->params, e, "ForEachEnumerator", "FileSpec");
    if ((rc = given ? 0 : prop_value(run, e, "FileSpec", &v, err)) < 0)
        goto out;
    fs->spec = given    ? xstrdup(given)
               : rc > 0 ? rt_value_text(&v)
                        : xstrdup(f->file_spec);
    rt_value_release(&v);
    if ((rc = file_prop_int(run, e, "FileNameRetrieval", RT_VT_I4, &v,
                            err)) < 0)
        goto out;
    if (rc > 0 && (v.n.i < 0 || v.n.i > 2)) {
        rc = werr_set(err, WERR_INVALID,
                      "FileNameRetrieval is %lld: it must be 0, 1 or 2",
                      (long long)v.n.i);
        goto out;
    }
    if (rc > 0)
        fs->retrieval = (int)v.n.i;
    rt_value_release(&v);
    if ((rc = file_prop_int(run, e, "Recurse", RT_VT_BOOL, &v, err)) > 0)
        fs->recurse = v.n.b;
out:
    rt_value_release(&v);
    return rc < 0 ? -1 : 0;
}

static void
file_settings_release(struct fe_file *fs)
{
    free(fs->folder);
    free(fs->spec);
}

static struct rt_rowset *
enumerate_files(struct rt_run *run, const struct pkg_executable *e,
                struct werr *err)
{
    struct fe_file fs;
    struct rt_rowset *rows = NULL;

    if (file_settings(run, e, &fs, err) < 0)
        goto out;
    /* Listing a large or network folder blocks: other branches run. */
    rt_blocking_begin(run);
    rows = rt_fe_files(fs.folder, fs.spec, fs.recurse, fs.retrieval, err);
    rt_blocking_end(run);
    if (rows && !rows->nrows)
        rt_emit(run, e, RT_EV_WARNING,
                "the For Each File enumerator is empty: no file in '%s' "
                "matches '%s'%s",
                fs.folder, fs.spec, fs.recurse ? " (sub-folders included)" : "");
out:
    file_settings_release(&fs);
    return rows;
}

/* ---- the Item, ADO and From Variable enumerators ---- */

static size_t
item_width(const struct pkg_foreach *f)
{
    size_t w = 0;

    for (size_t i = 0; i < f->nitems; i++)
        if (f->items[i].nvalues > w)
            w = f->items[i].nvalues;
    return w;
}

static struct rt_rowset *
enumerate_items(const struct pkg_executable *e, struct werr *err)
{
    const struct pkg_foreach *f = e->foreach;
    struct rt_rowset *rows = rt_rowset_new(item_width(f));

    for (size_t i = 0; i < f->nitems; i++) {
        struct rt_value *row = rt_rowset_add_row(rows);
        for (size_t k = 0; row && k < f->items[i].nvalues; k++) {
            const struct pkg_foreach_value *fv = &f->items[i].values[k];
            if (rt_value_parse(fv->value, fv->type, &row[k], err) == 0)
                continue;
            werr_prefix(err, "item %zu, value %zu (%s)", i, k,
                        rt_vt_name(fv->type));
            rt_rowset_unref(rows);
            return NULL;
        }
    }
    return rows;
}

/* The result set in the enumerator's Object variable (a reference). */
static struct rt_rowset *
enumerate_variable(struct rt_run *run, const struct pkg_executable *e,
                   struct werr *err)
{
    const char *name = e->foreach->variable;
    struct rt_value v = {0};
    struct rt_rowset *rows = NULL;

    if (rt_vars_get(run->vars, e, name, &v, err) < 0)
        werr_prefix(err, "the %s enumerator", e->foreach->kind_name);
    else if (!v.rows)
        werr_set(err, WERR_INVALID,
                 "the %s enumerator's variable '%s' holds %s, not a result "
                 "set (an Execute SQL task's full result set)",
                 e->foreach->kind_name, name,
                 v.vt == RT_VT_OBJECT ? "an empty object" : rt_vt_name(v.vt));
    else
        rows = rt_rowset_ref(v.rows);
    rt_value_release(&v);
    return rows;
}

static struct rt_rowset *
enumerate(struct rt_run *run, const struct pkg_executable *e, struct werr *err)
{
    switch (e->foreach->kind) {
    case PKG_ENUM_FILE:
        return enumerate_files(run, e, err);
    case PKG_ENUM_ITEM:
        return enumerate_items(e, err);
    case PKG_ENUM_ADO:
    case PKG_ENUM_VARIABLE:
        return enumerate_variable(run, e, err);
    default:
        werr_set(err, WERR_INVALID, "the %s enumerator cannot run",
                 e->foreach->kind_name);
        return NULL;
    }
}

/* ---- running ---- */

/* Stores row `r`'s mapped values; -1 after raising the error. */
static int
apply_mappings(struct rt_run *run, const struct pkg_executable *e,
               const struct rt_rowset *rows, size_t r)
{
    const struct pkg_foreach *f = e->foreach;
    struct werr err;

    for (size_t i = 0; i < f->nmappings; i++) {
        const struct pkg_foreach_mapping *m = &f->mappings[i];
        if ((size_t)m->value_index >= rows->ncols) {
            rt_error(run, e, RT_E_FOREACH,
                     "variable mapping %zu: ValueIndex %d is past the %zu "
                     "value(s) the %s enumerator gives",
                     i, m->value_index, rows->ncols, f->kind_name);
            return -1;
        }
        if (rt_vars_set(run->vars, e, m->variable,
                        &rows->cells[r * rows->ncols + (size_t)m->value_index],
                        &err) < 0) {
            rt_error(run, e, RT_E_FOREACH,
                     "variable mapping %zu (ValueIndex %d) into '%s', "
                     "iteration %zu: %s",
                     i, m->value_index, m->variable, r + 1, err.msg);
            return -1;
        }
    }
    return 0;
}

static enum rt_result
foreach_execute(struct rt_run *run, const struct pkg_executable *e)
{
    enum rt_result r = RT_SUCCESS;
    struct rt_rowset *rows;
    struct werr err;

    if (!run->vars) {
        rt_error(run, e, RT_E_FOREACH, "no variables in this run");
        return RT_FAILURE;
    }
    if (!(rows = enumerate(run, e, &err))) {
        rt_error(run, e, RT_E_FOREACH, "%s", err.msg);
        return RT_FAILURE;
    }
    for (size_t i = 0; i < rows->nrows; i++) {
        if (rt_canceled(run)) {
            r = RT_CANCELED;
            break;
        }
        if (apply_mappings(run, e, rows, i) < 0) {
            r = RT_FAILURE;
            break;
        }
        r = rt_container_run(run, e);
        if (r != RT_SUCCESS || run->package_failed)
            break;
    }
    rt_rowset_unref(rows);
    return r;
}

/* ---- validation ---- */

static int
validate_mappings(struct rt_run *run, const struct pkg_executable *e,
                  struct wbuf *problems)
{
    const struct pkg_foreach *f = e->foreach;
    size_t width = f->kind == PKG_ENUM_FILE   ? 1
                   : f->kind == PKG_ENUM_ITEM ? item_width(f)
                                              : (size_t)-1;
    const struct rt_var *v;
    int n = 0;

    for (size_t i = 0; i < f->nmappings; i++) {
        const struct pkg_foreach_mapping *m = &f->mappings[i];
        if (!(v = rt_vars_find(run->vars, e, m->variable)))
            n += rt_problem(problems, e,
                            "variable mapping %zu: there is no variable "
                            "'%s' visible from the loop",
                            i, m->variable);
        else if (v->def->read_only)
            n += rt_problem(problems, e,
                            "variable mapping %zu: variable '%s' is "
                            "read-only",
                            i, m->variable);
        if (width != (size_t)-1 && (f->kind != PKG_ENUM_ITEM || f->nitems) &&
            (size_t)m->value_index >= width)
            n += rt_problem(problems, e,
                            "variable mapping %zu: ValueIndex %d is past the "
                            "%zu value(s) the %s enumerator gives",
                            i, m->value_index, width, f->kind_name);
    }
    return n;
}

static int
validate_props(struct rt_run *run, const struct pkg_executable *e,
               struct wbuf *problems)
{
    const struct pkg_foreach *f = e->foreach;
    struct werr err;
    int n = 0;

    for (size_t i = 0; i < f->nexpressions; i++) {
        const struct pkg_property_expression *pe = &f->expressions[i];
        if (!prop_applied(f, pe->property))
            rt_emit(run, e, RT_EV_WARNING,
                    "the property expression on the %s enumerator's %s is "
                    "ignored: weir does not apply it",
                    f->kind_name, pe->property);
        else if (!prop_expr(run, e, pe, &err))
            n += rt_problem(problems, e, "%s", err.msg);
    }
    return n;
}

/* The enumerator's own setup: the folder (a Windows one can never
 * work), the items' values, the object variable. */
static int
validate_enumerator(struct rt_run *run, const struct pkg_executable *e,
                    struct wbuf *problems)
{
    const struct pkg_foreach *f = e->foreach;
    const struct rt_var *v;
    struct rt_rowset *rows;
    struct fe_file fs;
    struct werr err;
    int n = 0;

    if (f->kind == PKG_ENUM_FILE) {
        if (file_settings(run, e, &fs, &err) < 0)
            n += rt_problem(problems, e, "%s", err.msg);
        file_settings_release(&fs);
    } else if (f->kind == PKG_ENUM_ITEM) {
        if (!(rows = enumerate_items(e, &err)))
            n += rt_problem(problems, e, "the Item enumerator's %s", err.msg);
        rt_rowset_unref(rows);
    } else if (*f->variable && !(v = rt_vars_find(run->vars, e, f->variable)))
        n += rt_problem(problems, e,
                        "the %s enumerator's variable '%s' does not exist",
                        f->kind_name, f->variable);
    else if (*f->variable && v->def->data_type != RT_VT_OBJECT)
        n += rt_problem(problems, e,
                        "the %s enumerator's variable '%s' is %s: it must be "
                        "an Object holding a result set",
                        f->kind_name, f->variable,
                        rt_vt_name(v->def->data_type));
    return n;
}

static int
foreach_validate(struct rt_run *run, const struct pkg_executable *e,
                 struct wbuf *problems)
{
    int n;

    /* pkg_validate reported a missing or unsupported enumerator. */
    if (!e->foreach || !e->foreach->present ||
        e->foreach->kind > PKG_ENUM_VARIABLE)
        return 0;
    if (!run->vars)
        return rt_problem(problems, e, "no variables in this run");
    n = validate_props(run, e, problems);
    n += validate_mappings(run, e, problems);
    if (!n)
        n += validate_enumerator(run, e, problems);
    return n;
}

const struct rt_task_ops rt_foreach_ops = {
    .type = "STOCK:FOREACHLOOP",
    .execute = foreach_execute,
    .validate = foreach_validate,
};
