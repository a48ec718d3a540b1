/*
 * System variables (vars.h): System::PackageName, StartTime,
 * ExecutionInstanceGUID... and, inside event handlers, ErrorCode,
 * SourceName, Propagate...
 *
 * None is stored: each read computes the value from the package, the run
 * (start times, the GUID, the server's execution id) or the running
 * handler's frame, so a value can never go stale.  One table gives each
 * name its VARIANT type, which is also what expressions type-check with,
 * and where it exists: everywhere, in any handler, or only in handlers of
 * the events that carry it (as in SSIS, ErrorCode exists in OnError,
 * OnWarning and OnInformation handlers only).  Names are matched without
 * regard to case.
 *
 * Dates are local time, as SSIS gives them, in the store's text form
 * "YYYY-MM-DD HH:MM:SS.fff".
 */
#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/wid.h"
#include "base/wtime.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

/* Where a system variable exists. */
enum where {
    EVERYWHERE,
    IN_HANDLER,     /* any event handler */
    IN_MSG_HANDLER, /* OnError, OnWarning, OnInformation handlers */
    IN_VAR_HANDLER, /* OnVariableValueChanged handlers */
    IN_PROGRESS_HANDLER, /* OnProgress handlers */
};

struct sysctx {
    struct rt_vars *vs;
    const struct pkg_executable *scope;
    const struct rt_hframe *f; /* NULL outside handlers */
    struct rt_value *out;
};

typedef void (*sys_get)(const struct sysctx *c);

struct sysvar {
    const char *name;
    int vt;
    enum where where;
    sys_get get;
};

static void
put_str(const struct sysctx *c, const char *s)
{
    s = s ? s : "";
    rt_value_set_str(c->out, s, strlen(s));
}

static void
put_int(const struct sysctx *c, int vt, int64_t i)
{
    rt_value_set_int(c->out, i);
    c->out->vt = vt;
}

static void
put_bool(const struct sysctx *c, bool b)
{
    rt_value_release(c->out);
    c->out->vt = RT_VT_BOOL;
    c->out->n.b = b;
}

/* Epoch milliseconds as a local DateTime value. */
static void
put_date_ms(const struct sysctx *c, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[64];

    localtime_r(&t, &tm);
    snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d.%03d",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    rt_value_set_str(c->out, buf, strlen(buf));
    c->out->vt = RT_VT_DATE;
}

static const struct pkg_about *
about(const struct sysctx *c)
{
    return pkg_about(c->vs->pkg);
}

static void
g_package_name(const struct sysctx *c)
{
    put_str(c, pkg_name(c->vs->pkg));
}

static void
g_package_id(const struct sysctx *c)
{
    put_str(c, pkg_id(c->vs->pkg));
}

static void
g_task_name(const struct sysctx *c)
{
    put_str(c, c->scope->name);
}

static void
g_task_id(const struct sysctx *c)
{
    put_str(c, c->scope->dtsid);
}

static void
g_parent_guid(const struct sysctx *c)
{
    const struct pkg_executable *p = c->scope->parent;

    put_str(c, p ? p->dtsid : "");
}

static void
g_start_time(const struct sysctx *c)
{
    put_date_ms(c, c->vs->sys.start_ms);
}

/* The start of the asking executable, or of the nearest one above it that
 * has started (a container that asks before it runs: its parent's). */
static void
g_container_start(const struct sysctx *c)
{
    const struct rt_sys *s = &c->vs->sys;

    for (const struct pkg_executable *e = c->scope; e; e = e->parent)
        if (e->index < s->nstarted && s->started_ms[e->index]) {
            put_date_ms(c, s->started_ms[e->index]);
            return;
        }
    put_date_ms(c, s->start_ms);
}

static void
g_creation_date(const struct sysctx *c)
{
    struct werr err;

    if (!*about(c)->creation_date ||
        rt_value_parse(about(c)->creation_date, RT_VT_DATE, c->out, &err) < 0)
        put_date_ms(c, 0); /* absent or unreadable: 1970, not an error */
    c->out->vt = RT_VT_DATE;
}

static void
g_guid(const struct sysctx *c)
{
    put_str(c, c->vs->sys.guid);
}

static void
g_server_id(const struct sysctx *c)
{
    put_int(c, RT_VT_I8, c->vs->sys.server_execution_id);
}

static void
g_machine(const struct sysctx *c)
{
    char host[256] = "";

    if (gethostname(host, sizeof(host) - 1) < 0)
        host[0] = '\0';
    put_str(c, host);
}

static void
g_user(const struct sysctx *c)
{
    struct passwd pw, *res = NULL;
    char buf[1024];
    char num[32];

    if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 && res) {
        put_str(c, res->pw_name);
        return;
    }
    snprintf(num, sizeof(num), "%u", (unsigned)geteuid());
    put_str(c, num);
}

static void
g_false(const struct sysctx *c)
{
    put_bool(c, false);
}

static void
g_zero(const struct sysctx *c)
{
    put_int(c, RT_VT_I4, 0);
}

static void
g_empty(const struct sysctx *c)
{
    put_str(c, "");
}

static void
g_locale(const struct sysctx *c)
{
    put_int(c, RT_VT_I4, about(c)->locale_id ? about(c)->locale_id : 1033);
}

static void
g_version_build(const struct sysctx *c)
{
    put_int(c, RT_VT_I4, about(c)->version_build);
}

static void
g_version_major(const struct sysctx *c)
{
    put_int(c, RT_VT_I4, about(c)->version_major);
}

static void
g_version_minor(const struct sysctx *c)
{
    put_int(c, RT_VT_I4, about(c)->version_minor);
}

static void
g_version_guid(const struct sysctx *c)
{
    put_str(c, about(c)->version_guid);
}

static void
g_version_comments(const struct sysctx *c)
{
    put_str(c, about(c)->version_comments);
}

static void
g_creator(const struct sysctx *c)
{
    put_str(c, about(c)->creator_name);
}

static void
g_creator_computer(const struct sysctx *c)
{
    put_str(c, about(c)->creator_computer_name);
}

static void
g_product_version(const struct sysctx *c)
{
    put_str(c, "weir " WEIR_VERSION);
}

static void
g_propagate(const struct sysctx *c)
{
    put_bool(c, c->f->propagate);
}

static void
g_source_name(const struct sysctx *c)
{
    put_str(c, c->f->source->name);
}

static void
g_source_id(const struct sysctx *c)
{
    put_str(c, c->f->source->dtsid);
}

static void
g_source_description(const struct sysctx *c)
{
    put_str(c, c->f->source->description);
}

static void
g_source_parent(const struct sysctx *c)
{
    const struct pkg_executable *p = c->f->source->parent;

    put_str(c, p ? p->dtsid : "");
}

static void
g_cancel(const struct sysctx *c)
{
    put_bool(c, c->f->cancel);
}

static void
g_progress(const struct sysctx *c)
{
    put_int(c, RT_VT_I4, c->f->percent);
}

static void
g_error_code(const struct sysctx *c)
{
    put_int(c, RT_VT_I4, c->f->code);
}

static void
g_error_description(const struct sysctx *c)
{
    put_str(c, c->f->description);
}

static void
g_var_name(const struct sysctx *c)
{
    put_str(c, c->f->var ? c->f->var->def->name : "");
}

static void
g_var_id(const struct sysctx *c)
{
    put_str(c, c->f->var ? c->f->var->def->dtsid : "");
}

/* The new value as text (SSIS gives an Object; text can be used in
 * expressions and written anywhere). */
static void
g_var_value(const struct sysctx *c)
{
    char *s = c->f->var ? rt_value_text(&c->f->var->v) : NULL;

    put_str(c, s);
    free(s);
}

static const struct sysvar sysvars[] = {
    {"CancelEvent", RT_VT_I4, EVERYWHERE, g_zero},
    {"ContainerStartTime", RT_VT_DATE, EVERYWHERE, g_container_start},
    {"CreationDate", RT_VT_DATE, EVERYWHERE, g_creation_date},
    {"CreatorComputerName", RT_VT_STR, EVERYWHERE, g_creator_computer},
    {"CreatorName", RT_VT_STR, EVERYWHERE, g_creator},
    {"ExecutionInstanceGUID", RT_VT_STR, EVERYWHERE, g_guid},
    {"FailedConfigurations", RT_VT_STR, EVERYWHERE, g_empty},
    {"IgnoreConfigurationsOnLoad", RT_VT_BOOL, EVERYWHERE, g_false},
    {"InteractiveMode", RT_VT_BOOL, EVERYWHERE, g_false},
    {"LocaleID", RT_VT_I4, EVERYWHERE, g_locale},
    {"MachineName", RT_VT_STR, EVERYWHERE, g_machine},
    {"OfflineMode", RT_VT_BOOL, EVERYWHERE, g_false},
    {"PackageID", RT_VT_STR, EVERYWHERE, g_package_id},
    {"PackageName", RT_VT_STR, EVERYWHERE, g_package_name},
    {"ParentContainerGUID", RT_VT_STR, EVERYWHERE, g_parent_guid},
    {"ProductVersion", RT_VT_STR, EVERYWHERE, g_product_version},
    {"ServerExecutionID", RT_VT_I8, EVERYWHERE, g_server_id},
    {"StartTime", RT_VT_DATE, EVERYWHERE, g_start_time},
    {"TaskID", RT_VT_STR, EVERYWHERE, g_task_id},
    {"TaskName", RT_VT_STR, EVERYWHERE, g_task_name},
    {"TaskTransactionOption", RT_VT_I4, EVERYWHERE, g_zero},
    {"UserName", RT_VT_STR, EVERYWHERE, g_user},
    {"VersionBuild", RT_VT_I4, EVERYWHERE, g_version_build},
    {"VersionComments", RT_VT_STR, EVERYWHERE, g_version_comments},
    {"VersionGUID", RT_VT_STR, EVERYWHERE, g_version_guid},
    {"VersionMajor", RT_VT_I4, EVERYWHERE, g_version_major},
    {"VersionMinor", RT_VT_I4, EVERYWHERE, g_version_minor},
    {"Cancel", RT_VT_BOOL, IN_HANDLER, g_cancel},
    {"Propagate", RT_VT_BOOL, IN_HANDLER, g_propagate},
    {"SourceDescription", RT_VT_STR, IN_HANDLER, g_source_description},
    {"SourceID", RT_VT_STR, IN_HANDLER, g_source_id},
    {"SourceName", RT_VT_STR, IN_HANDLER, g_source_name},
    {"SourceParentGUID", RT_VT_STR, IN_HANDLER, g_source_parent},
    {"ErrorCode", RT_VT_I4, IN_MSG_HANDLER, g_error_code},
    {"ErrorDescription", RT_VT_STR, IN_MSG_HANDLER, g_error_description},
    {"ProgressComplete", RT_VT_I4, IN_PROGRESS_HANDLER, g_progress},
    {"ProgressCountHigh", RT_VT_I4, IN_PROGRESS_HANDLER, g_zero},
    {"ProgressCountLow", RT_VT_I4, IN_PROGRESS_HANDLER, g_zero},
    {"ProgressDescription", RT_VT_STR, IN_PROGRESS_HANDLER,
     g_error_description},
    {"VariableDescription", RT_VT_STR, IN_VAR_HANDLER, g_empty},
    {"VariableID", RT_VT_STR, IN_VAR_HANDLER, g_var_id},
    {"VariableName", RT_VT_STR, IN_VAR_HANDLER, g_var_name},
    {"VariableValue", RT_VT_STR, IN_VAR_HANDLER, g_var_value},
};

const struct pkg_executable *
rt_handler_of(const struct pkg_executable *e)
{
    for (; e && e->in_handler; e = e->parent)
        if (!strcmp(e->type, "EventHandler"))
            return e;
    return NULL;
}

const char *
rt_handler_event(const struct pkg_executable *h)
{
    for (size_t i = 0; h && h->parent && i < h->parent->nhandlers; i++)
        if (h->parent->handlers[i].container == h)
            return h->parent->handlers[i].event;
    return "";
}

static bool
exists_in(enum where w, const char *event)
{
    switch (w) {
    case EVERYWHERE:
        return true;
    case IN_HANDLER:
        return event != NULL;
    case IN_MSG_HANDLER:
        return event && (!strcasecmp(event, "OnError") ||
                         !strcasecmp(event, "OnWarning") ||
                         !strcasecmp(event, "OnInformation"));
    case IN_VAR_HANDLER:
        return event && !strcasecmp(event, "OnVariableValueChanged");
    case IN_PROGRESS_HANDLER:
        return event && !strcasecmp(event, "OnProgress");
    }
    return false;
}

/* The entry for `name` as seen from `scope`, or NULL. */
static const struct sysvar *
lookup(const struct pkg_executable *scope, const char *name)
{
    const struct pkg_executable *h = rt_handler_of(scope);
    const char *event = h ? rt_handler_event(h) : NULL;

    for (size_t i = 0; i < sizeof(sysvars) / sizeof(sysvars[0]); i++)
        if (!strcasecmp(sysvars[i].name, name))
            return exists_in(sysvars[i].where, event) ? &sysvars[i] : NULL;
    return NULL;
}

/* The running invocation of the handler `scope` is in, or NULL. */
static struct rt_hframe *
frame_of(struct rt_vars *vs, const struct pkg_executable *scope)
{
    const struct pkg_executable *h = rt_handler_of(scope);

    for (struct rt_hframe *f = vs->sys.frames; h && f; f = f->next)
        if (f->handler == h)
            return f;
    return NULL;
}

int
rt_sys_type(struct rt_vars *vs, const struct pkg_executable *scope,
            const char *name, int *vt, bool *writable)
{
    const struct sysvar *sv = lookup(scope, name);

    (void)vs;
    if (!sv)
        return -1;
    *vt = sv->vt;
    *writable = sv->get == g_propagate || sv->get == g_cancel;
    return 0;
}

int
rt_sys_get(struct rt_vars *vs, const struct pkg_executable *scope,
           const char *name, struct rt_value *out, struct werr *err)
{
    const struct sysvar *sv = lookup(scope, name);
    struct sysctx c = {.vs = vs, .scope = scope, .out = out};

    if (!sv)
        return werr_set(err, WERR_NOTFOUND,
                        "there is no system variable 'System::%s' in '%s'",
                        name, scope->path);
    if (sv->where != EVERYWHERE && !(c.f = frame_of(vs, scope)))
        return werr_set(err, WERR_INVALID,
                        "'System::%s' has a value only while its event "
                        "handler runs",
                        name);
    sv->get(&c);
    return 0;
}

int
rt_sys_set(struct rt_vars *vs, const struct pkg_executable *scope,
           const char *name, const struct rt_value *v, struct werr *err)
{
    const struct sysvar *sv = lookup(scope, name);
    struct rt_value b = {0};
    struct rt_hframe *f;

    /* Propagate and Cancel are the handler's answers to the event. */
    if (!sv || (sv->get != g_propagate && sv->get != g_cancel))
        return werr_set(err, WERR_CONFLICT, "'System::%s' is read-only", name);
    if (!(f = frame_of(vs, scope)))
        return werr_set(err, WERR_INVALID,
                        "'System::%s' can be set only while its event "
                        "handler runs",
                        sv->name);
    if (rt_value_convert(v, RT_VT_BOOL, &b, err) < 0)
        return werr_prefix(err, "variable 'System::%s' (Boolean)", sv->name);
    if (sv->get == g_cancel)
        f->cancel = !b.null && b.n.b;
    else
        f->propagate = !b.null && b.n.b;
    rt_value_release(&b);
    return 0;
}

void
rt_sys_started(struct rt_vars *vs, const struct pkg_executable *e, int64_t ms)
{
    if (e->index < vs->sys.nstarted)
        vs->sys.started_ms[e->index] = ms;
    if (!e->parent)
        vs->sys.start_ms = ms;
}

/* A random (version 4) GUID in SSIS's form: braces, upper case. */
static void
new_guid(char out[40])
{
    char u[WID_UUID_LEN + 1];

    wid_uuid(u);
    for (char *p = u; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    snprintf(out, 40, "{%s}", u);
}

void
rt_sys_init(struct rt_sys *s, const struct pkg *p)
{
    memset(s, 0, sizeof(*s));
    s->start_ms = wtime_real_ms();
    new_guid(s->guid);
    s->nstarted = pkg_executable_count(p);
    s->started_ms = xcalloc(s->nstarted + 1, sizeof(*s->started_ms));
}

void
rt_sys_release(struct rt_sys *s)
{
    free(s->started_ms);
    memset(s, 0, sizeof(*s));
}
