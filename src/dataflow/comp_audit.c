/*
 * Audit (Microsoft.Lineage): adds columns describing the run, chosen by
 * each output column's LineageItemSelected: 0 ExecutionInstanceGUID,
 * 1 PackageID, 2 PackageName, 3 VersionID, 4 ExecutionStartTime,
 * 5 MachineName, 6 UserName, 7 TaskName, 8 TaskId — the System variables
 * of the same meaning, read once before the first row and converted to
 * the column's type.  Every row of a buffer shares one copy of a string
 * value.
 *
 * Where the run does not provide the System variable, Audit gives its
 * own: a GUID made once per process for ExecutionInstanceGUID (weir exec
 * runs one execution per process), the time of the first Audit row set
 * for ExecutionStartTime, gethostname() and the effective user's name;
 * VersionID and TaskId are then NULL.
 */
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/wid.h"
#include "base/xalloc.h"
#include "dataflow/xform.h"
#include "base/banned.h"

static const char *const audit_vars[] = {
    "System::ExecutionInstanceGUID",
    "System::PackageID",
    "System::PackageName",
    "System::VersionID",
    "System::StartTime",
    "System::MachineName",
    "System::UserName",
    "System::TaskName",
    "System::TaskID",
};
#define NAUDIT (sizeof(audit_vars) / sizeof(audit_vars[0]))

struct audit_col {
    const struct df_column *col;
    struct expr_value v; /* strings point to `text` */
    char *text;
};

struct audit {
    struct audit_col *cols;
    size_t ncols;
    struct df_output *out;
};

static void
audit_free(struct audit *a)
{
    size_t i;

    if (!a)
        return;
    for (i = 0; i < a->ncols; i++)
        free(a->cols[i].text);
    free(a->cols);
    free(a);
}

/* What the process gives when the run has no such variable. */
static char fb_guid[WID_UUID_LEN + 3];
static int64_t fb_start; /* local ticks */
static pthread_once_t fb_once = PTHREAD_ONCE_INIT;

static void
fallback_init(void)
{
    char u[WID_UUID_LEN + 1];
    time_t now = time(NULL);
    struct tm tm;

    wid_uuid(u);
    snprintf(fb_guid, sizeof(fb_guid), "{%s}", u);
    localtime_r(&now, &tm);
    fb_start = EXPR_TICKS_UNIX_EPOCH +
               ((int64_t)now + tm.tm_gmtoff) * EXPR_TICKS_PER_SEC;
}

static void
set_text(struct audit_col *ac, const char *s)
{
    ac->text = xstrdup(s);
    ac->v.type.dt = EXPR_DT_WSTR;
    ac->v.v.s.p = ac->text;
    ac->v.v.s.len = strlen(s);
}

static int
fallback(struct audit_col *ac, int64_t item, struct werr *err)
{
    char host[256];
    struct passwd *pw;

    pthread_once(&fb_once, fallback_init);
    memset(&ac->v, 0, sizeof(ac->v));
    switch (item) {
    case 0:
        ac->v.type.dt = EXPR_DT_GUID;
        return expr_value_parse(fb_guid, strlen(fb_guid), &ac->v.type, &ac->v,
                                err);
    case 4:
        ac->v.type.dt = EXPR_DT_DBTIMESTAMP;
        ac->v.v.t = fb_start;
        return 0;
    case 5:
        if (gethostname(host, sizeof(host)) < 0)
            snprintf(host, sizeof(host), "localhost");
        host[sizeof(host) - 1] = 0;
        set_text(ac, host);
        return 0;
    case 6:
        pw = getpwuid(geteuid());
        set_text(ac, pw ? pw->pw_name : "");
        return 0;
    default:
        ac->v.type.dt = EXPR_DT_WSTR;
        ac->v.null = true;
        return 0;
    }
}

static int
read_item(struct df_exec *x, struct audit_col *ac, struct werr *err)
{
    const struct df_column *oc = ac->col;
    int64_t item =
        df_prop_int(oc->props, oc->nprops, "LineageItemSelected", -1);

    if (item < 0 || (size_t)item >= NAUDIT)
        return werr_set(err, WERR_INVALID,
                        "column '%s': LineageItemSelected %lld is not an "
                        "audit item (0-8)",
                        oc->name, (long long)item);
    if (!x)
        return 0;
    if (df_var_get(x, audit_vars[item], &ac->v, err) < 0) {
        if (err->code != WERR_NOTFOUND || fallback(ac, item, err) < 0)
            return werr_prefix(err, "column '%s'", oc->name);
        return 0;
    }
    if (!ac->v.null &&
        (ac->v.type.dt == EXPR_DT_WSTR || ac->v.type.dt == EXPR_DT_STR)) {
        ac->text = xstrndup(ac->v.v.s.p, ac->v.v.s.len);
        ac->v.v.s.p = ac->text;
    }
    return 0;
}

static struct audit *
audit_build(struct df_exec *x, struct df_component *c, struct werr *err)
{
    struct audit *a = xcalloc(1, sizeof(*a));
    size_t i;

    if (c->ninputs != 1 || !(a->out = df_main_output(c))) {
        werr_set(err, WERR_INVALID, "expects one input and one output");
        goto fail;
    }
    a->cols = xcalloc(a->out->ncolumns + 1, sizeof(*a->cols));
    for (i = 0; i < a->out->ncolumns; i++) {
        a->cols[a->ncols].col = &a->out->columns[i];
        if (read_item(x, &a->cols[a->ncols++], err) < 0)
            goto fail;
    }
    return a;
fail:
    audit_free(a);
    return NULL;
}

static int
audit_validate(struct df_exec *x, struct df_component *c, struct wbuf *problems)
{
    struct werr err = {0};
    struct audit *a = audit_build(NULL, c, &err);

    (void)x;
    if (!a)
        return df_problem(problems, c, "%s", err.msg);
    audit_free(a);
    return 0;
}

static int
audit_pre_execute(struct df_exec *x, struct df_component *c, struct werr *err)
{
    c->state = audit_build(x, c, err);
    return c->state ? 0 : werr_prefix(err, "component '%s'", c->name);
}

/* Fills the column for every row: the first row through the buffer's
 * conversion, the others copies of its element (string bytes shared). */
static int
fill(struct df_buffer *b, const struct audit_col *ac, struct werr *err)
{
    int slot = ac->col->slot;
    struct df_vec *v = &b->cols[slot];
    size_t w = df_type_width(v->type.dt), r;

    if (b->nrows == 0)
        return 0;
    if (df_buffer_set_value(b, slot, 0, &ac->v, err) < 0)
        return werr_prefix(err, "column '%s'", ac->col->name);
    for (r = 1; r < b->nrows; r++)
        memcpy((char *)v->data + r * w, v->data, w);
    memset(v->nulls, v->nulls[0], b->nrows);
    return 0;
}

static int
audit_process(struct df_exec *x, struct df_component *c, struct df_input *in,
              struct df_buffer *b, struct werr *err)
{
    struct audit *a = c->state;
    size_t i;

    (void)in;
    df_buffer_own(&b);
    for (i = 0; i < a->ncols; i++) {
        if (fill(b, &a->cols[i], err) < 0) {
            df_buffer_unref(b);
            return -1;
        }
    }
    return df_send(x, a->out, b, err);
}

static void
audit_cleanup(struct df_exec *x, struct df_component *c)
{
    (void)x;
    audit_free(c->state);
    c->state = NULL;
}

const struct df_component_ops df_audit_ops = {
    .class_id = "Microsoft.Lineage",
    .validate = audit_validate,
    .pre_execute = audit_pre_execute,
    .process = audit_process,
    .cleanup = audit_cleanup,
};
