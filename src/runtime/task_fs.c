/*
 * The File System task (Microsoft.FileSystemTask, shared DTSX.md §5.2):
 * <FileSystemData TaskOperationType="MoveFile" TaskSourcePath="User::Src"
 * TaskIsSourceVariable="True" TaskDestinationPath="Archive"
 * TaskIsDestinationVariable="False" TaskOverwriteDestFile="True"/>.
 *
 * A source or destination is either a variable (its value is the path)
 * or a FILE connection manager (its ConnectionString is the path, which
 * --connection and CM.<Name>.ConnectionString replace).  Relative paths
 * are relative to the package's folder, as for Execute Process, and
 * backslashes are separators (pkg_path_linux).  Windows paths cannot be
 * guessed into Linux ones: they fail, saying how to set the path.  The file work itself is in fsops.c; this file reads the
 * settings, resolves the paths and applies SSIS's rules (a destination
 * folder means "inside it", overwrite only when asked).
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/tree.h>

#include "base/wfile.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "runtime/conn.h"
#include "runtime/fsops.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

enum fs_op {
    FS_COPY_FILE,
    FS_MOVE_FILE,
    FS_DELETE_FILE,
    FS_RENAME_FILE,
    FS_SET_ATTRIBUTES,
    FS_CREATE_DIR,
    FS_COPY_DIR,
    FS_MOVE_DIR,
    FS_DELETE_DIR,
    FS_DELETE_DIR_CONTENT,
};

static const struct {
    const char *name;
    enum fs_op op;
    bool needs_destination;
} operations[] = {
    {"CopyFile", FS_COPY_FILE, true},
    {"MoveFile", FS_MOVE_FILE, true},
    {"DeleteFile", FS_DELETE_FILE, false},
    {"RenameFile", FS_RENAME_FILE, true},
    {"SetAttributes", FS_SET_ATTRIBUTES, false},
    {"CreateDirectory", FS_CREATE_DIR, false},
    {"CopyDirectory", FS_COPY_DIR, true},
    {"MoveDirectory", FS_MOVE_DIR, true},
    {"DeleteDirectory", FS_DELETE_DIR, false},
    {"DeleteDirectoryContent", FS_DELETE_DIR_CONTENT, false},
};

#define NOPS (sizeof(operations) / sizeof(operations[0]))

/* File attributes (System.IO.FileAttributes names). */
enum fs_attr {
    FA_READONLY = 1 << 0,
    FA_IGNORED = 1 << 1, /* Hidden, Archive, System: no Linux meaning */
};

struct fstask {
    size_t op;                  /* index in operations[] */
    char *source, *destination; /* variable names or connection refs */
    bool source_var, destination_var, overwrite, use_existing_dir;
    unsigned attrs;
    char *problem; /* why the settings cannot be used, or NULL */
};

static bool
attr_bool(const xmlNode *n, const char *name)
{
    char *v = rt_xml_attr(n, name);
    bool b = !strcasecmp(v, "True") || !strcmp(v, "1");

    free(v);
    return b;
}

/* "ReadOnly, Hidden" (how .NET writes a flags enum); -1 for an unknown
 * name, which goes into `bad`. */
static int
parse_attrs(const char *s, unsigned *out, char **bad)
{
    char *copy = xstrdup(s), *save = NULL;
    int rc = 0;

    *out = 0;
    for (char *w = strtok_r(copy, ", |", &save); w && !rc;
         w = strtok_r(NULL, ", |", &save)) {
        if (!strcasecmp(w, "ReadOnly"))
            *out |= FA_READONLY;
        else if (!strcasecmp(w, "Hidden") || !strcasecmp(w, "Archive") ||
                 !strcasecmp(w, "System"))
            *out |= FA_IGNORED;
        else if (strcasecmp(w, "Normal")) {
            *bad = xstrdup(w);
            rc = -1;
        }
    }
    free(copy);
    return rc;
}

static void
fstask_read(struct fstask *t, const struct pkg_executable *e)
{
    const xmlNode *d = rt_payload(e, "FileSystemData");
    char *op = rt_xml_attr(d, "TaskOperationType"), *attrs, *bad = NULL;

    memset(t, 0, sizeof(*t));
    t->source = rt_xml_attr(d, "TaskSourcePath");
    t->destination = rt_xml_attr(d, "TaskDestinationPath");
    t->source_var = attr_bool(d, "TaskIsSourceVariable");
    t->destination_var = attr_bool(d, "TaskIsDestinationVariable");
    t->overwrite = attr_bool(d, "TaskOverwriteDestFile");
    t->use_existing_dir = attr_bool(d, "TaskUseDirectoryIfExists") ||
                          attr_bool(d, "UseDirectoryIfExists");
    attrs = rt_xml_attr(d, "TaskFileAttributes");
    /* CopyFile is the default, so SSIS leaves it out. */
    t->op = NOPS;
    for (size_t i = 0; i < NOPS; i++)
        if (!*op ? i == 0 : !strcasecmp(op, operations[i].name))
            t->op = i;
    if (!d)
        t->problem = xstrdup("the task has no FileSystemData settings");
    else if (t->op == NOPS)
        t->problem = xasprintf("unknown TaskOperationType '%s'", op);
    else if (parse_attrs(attrs, &t->attrs, &bad) < 0)
        t->problem = xasprintf("unknown file attribute '%s' in "
                               "TaskFileAttributes (Normal, ReadOnly, "
                               "Hidden, Archive, System)",
                               bad);
    free(bad);
    free(attrs);
    free(op);
}

static void
fstask_release(struct fstask *t)
{
    free(t->source);
    free(t->destination);
    free(t->problem);
}

/* ---- validation ---- */

static int
check_end(struct rt_run *run, const struct pkg_executable *e, const char *role,
          const char *ref, bool is_var, struct wbuf *out)
{
    const struct rt_conn *c;

    if (!*ref)
        return rt_problem(out, e, "the task has no %s", role);
    if (is_var) {
        if (!rt_vars_exists(run->vars, e, ref))
            return rt_problem(out, e, "%s: there is no variable '%s' in scope",
                              role, ref);
        return 0;
    }
    if (!(c = rt_conns_find(run->conns, ref)))
        return rt_problem(out, e, "%s: there is no connection manager '%s'",
                          role, ref);
    if (strcasecmp(c->creation_name, "FILE"))
        return rt_problem(out, e,
                          "%s: connection manager '%s' is a %s connection "
                          "manager, not a File one",
                          role, c->name, c->creation_name);
    if (pkg_path_is_windows(c->written))
        return rt_problem(out, e,
                          "%s: connection manager '%s' holds the Windows "
                          "path '%s': give it a Linux path with --connection "
                          "'%s=/path' or the parameter "
                          "CM.%s.ConnectionString",
                          role, c->name, c->written, c->name, c->name);
    return 0;
}

static int
fs_validate(struct rt_run *run, const struct pkg_executable *e,
            struct wbuf *problems)
{
    struct fstask t;
    int n = 0;

    if (!run->conns || !run->vars)
        return rt_problem(problems, e, "this run has no connections set up");
    fstask_read(&t, e);
    if (t.problem) {
        n += rt_problem(problems, e, "%s", t.problem);
        goto out;
    }
    n += check_end(run, e, "source", t.source, t.source_var, problems);
    if (operations[t.op].needs_destination)
        n += check_end(run, e, "destination", t.destination, t.destination_var,
                       problems);
out:
    fstask_release(&t);
    return n;
}

/* ---- paths ---- */

/* The text a Source or Destination names; caller frees. */
static char *
end_text(struct rt_run *run, const struct pkg_executable *e, const char *ref,
         bool is_var, struct werr *err)
{
    struct rt_value v = {0};
    struct rt_conn *c;
    char *s = NULL;

    if (is_var) {
        if (rt_vars_get(run->vars, e, ref, &v, err) == 0)
            s = v.null ? xstrdup("") : rt_value_text(&v);
        rt_value_release(&v);
        return s;
    }
    if (!(c = rt_conns_find(run->conns, ref))) {
        werr_set(err, WERR_NOTFOUND, "there is no connection manager '%s'",
                 ref);
        return NULL;
    }
    if (rt_conn_eval_expression(c, run->vars, pkg_root(run->pkg), err) < 0)
        return NULL;
    return xstrdup(c->written);
}

/* The absolute path a Source or Destination names, or NULL with `err`. */
static char *
end_path(struct rt_run *run, const struct pkg_executable *e, const char *role,
         const char *ref, bool is_var, struct werr *err)
{
    char *s = end_text(run, e, ref, is_var, err), *path = NULL;
    size_t n;

    if (!s)
        return NULL;
    if (!*s)
        werr_set(err, WERR_INVALID, "the %s %s '%s' is empty", role,
                 is_var ? "variable" : "connection manager", ref);
    else if (!(path = pkg_path_linux(s, run->package_dir)))
        werr_set(err, WERR_INVALID,
                 "the %s '%s' is a Windows path: give a Linux path (%s)", role,
                 s,
                 is_var ? "set the variable with a parameter, an expression "
                          "or a configuration"
                        : "with --connection NAME=/path or the parameter "
                          "CM.NAME.ConnectionString");
    free(s);
    if (!path)
        return NULL;
    n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        path[--n] = '\0';
    return path;
}

static bool
is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* SSIS's rule: a destination that is a folder receives the source inside
 * it under the source's name. */
static char *
into_folder(const char *src, const char *dst)
{
    char *copy, *p;

    if (!is_dir(dst))
        return xstrdup(dst);
    copy = xstrdup(src);
    p = xasprintf("%s/%s", dst, basename(copy));
    free(copy);
    return p;
}

/* ---- the operations ---- */

struct fsrun {
    struct rt_run *run;
    const struct pkg_executable *e;
    const struct fstask *t;
    const char *src, *dst;
    /* The destination's FILE manager says it is a folder: FileUsageType
     * 2 (existing) or 3 (create); 0 otherwise. */
    int dst_folder;
    struct rt_fs_opts o;
};

/* Asked between chunks of a copy, without the run lock. */
static bool
canceled(void *arg)
{
    return rt_cancel_requested(arg);
}

static int
need_kind(const char *path, bool dir, struct werr *err)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return werr_set(err, errno == ENOENT ? WERR_NOTFOUND : WERR_IO,
                        "cannot read '%s': %s", path, strerror(errno));
    if (dir && !S_ISDIR(st.st_mode))
        return werr_set(err, WERR_INVALID, "'%s' is not a folder", path);
    if (!dir && S_ISDIR(st.st_mode))
        return werr_set(err, WERR_INVALID,
                        "'%s' is a folder (use the Directory operations)",
                        path);
    return 0;
}

/* Refuses copying or moving a folder into itself, which would never end.
 * `dst` is the target path; its parent exists (or the copy fails
 * anyway). */
static int
not_inside(const char *src, const char *dst, struct werr *err)
{
    char *copy = xstrdup(dst), *parent = dirname(copy);
    char *rs = realpath(src, NULL), *rp = realpath(parent, NULL);
    int rc = 0;

    if (rs && rp) {
        size_t n = strlen(rs);
        if (!strncmp(rp, rs, n) && (rp[n] == '/' || rp[n] == '\0'))
            rc = werr_set(err, WERR_INVALID,
                          "'%s' is inside the folder '%s' itself", dst, src);
    }
    free(rs);
    free(rp);
    free(copy);
    return rc;
}

/* A destination manager of folder usage must be a folder: "create
 * folder" creates it, "existing folder" fails naming it. */
static int
need_folder(struct fsrun *f, struct werr *err)
{
    if (!f->dst_folder || is_dir(f->dst))
        return 0;
    if (f->dst_folder == 3)
        return wfile_mkdirs(f->dst, err);
    return werr_set(err, WERR_NOTFOUND,
                    "the destination folder '%s' does not exist (its "
                    "connection manager's FileUsageType is Existing folder)",
                    f->dst);
}

static int
op_copy_or_move(struct fsrun *f, bool dir, bool move, struct werr *err)
{
    char *dst = NULL;
    int rc = -1;

    if (need_kind(f->src, dir, err) < 0)
        return -1;
    if (f->t->op != FS_RENAME_FILE && need_folder(f, err) < 0)
        return -1;
    dst = f->t->op == FS_RENAME_FILE ? xstrdup(f->dst)
                                     : into_folder(f->src, f->dst);
    if (dir && not_inside(f->src, dst, err) < 0) {
        free(dst);
        return -1;
    }
    if (dir && is_dir(dst) && !f->o.overwrite) {
        werr_set(err, WERR_CONFLICT,
                 "the folder '%s' already exists (set OverwriteDestination "
                 "to True to copy into it)",
                 dst);
        free(dst);
        return -1;
    }
    /* Copies can be long: other branches run meanwhile. */
    rt_blocking_begin(f->run);
    if (dir && move && is_dir(dst))
        rc = rt_fs_copy_dir(f->src, dst, &f->o, err) < 0
                 ? -1
                 : rt_fs_remove_tree(f->src, false, err);
    else if (move)
        rc = rt_fs_move(f->src, dst, &f->o, err);
    else if (dir)
        rc = rt_fs_copy_dir(f->src, dst, &f->o, err);
    else
        rc = rt_fs_copy_file(f->src, dst, &f->o, err);
    rt_blocking_end(f->run);
    if (rc == 0)
        rt_emit(f->run, f->e, RT_EV_INFORMATION, "%s '%s' to '%s'",
                move ? "moved" : "copied", f->src, dst);
    free(dst);
    return rc;
}

static int
op_create_dir(struct fsrun *f, struct werr *err)
{
    struct stat st;

    if (lstat(f->src, &st) == 0) {
        if (S_ISDIR(st.st_mode) && f->t->use_existing_dir) {
            rt_emit(f->run, f->e, RT_EV_INFORMATION,
                    "the folder '%s' already exists: used as it is", f->src);
            return 0;
        }
        return werr_set(err, WERR_CONFLICT,
                        "'%s' already exists (set UseDirectoryIfExists to "
                        "True to use an existing folder)",
                        f->src);
    }
    if (wfile_mkdirs(f->src, err) < 0)
        return -1;
    rt_emit(f->run, f->e, RT_EV_INFORMATION, "created the folder '%s'", f->src);
    return 0;
}

static int
op_set_attributes(struct fsrun *f, struct werr *err)
{
    struct stat st;
    mode_t m;

    if (stat(f->src, &st) < 0)
        return werr_set(err, errno == ENOENT ? WERR_NOTFOUND : WERR_IO,
                        "cannot read '%s': %s", f->src, strerror(errno));
    if (f->t->attrs & FA_IGNORED)
        rt_emit(f->run, f->e, RT_EV_WARNING,
                "the Hidden, Archive and System attributes do not apply on "
                "Linux: only ReadOnly is applied to '%s'",
                f->src);
    /* ReadOnly removes every write bit; without it the owner may write,
     * as clearing the attribute does on Windows. */
    m = st.st_mode & 07777;
    m = f->t->attrs & FA_READONLY ? m & ~(mode_t)0222 : m | 0200;
    if (chmod(f->src, m) < 0)
        return werr_set(err, WERR_IO, "cannot change the mode of '%s': %s",
                        f->src, strerror(errno));
    return 0;
}

static int
remove_tree(struct fsrun *f, bool keep_top, struct werr *err)
{
    int rc;

    rt_blocking_begin(f->run);
    rc = rt_fs_remove_tree(f->src, keep_top, err);
    rt_blocking_end(f->run);
    if (rc == 0)
        rt_emit(f->run, f->e, RT_EV_INFORMATION,
                keep_top ? "deleted what the folder '%s' held"
                         : "deleted the folder '%s'",
                f->src);
    return rc;
}

static int
dispatch(struct fsrun *f, struct werr *err)
{
    switch (operations[f->t->op].op) {
    case FS_COPY_FILE:
        return op_copy_or_move(f, false, false, err);
    case FS_MOVE_FILE:
    case FS_RENAME_FILE:
        return op_copy_or_move(f, false, true, err);
    case FS_COPY_DIR:
        return op_copy_or_move(f, true, false, err);
    case FS_MOVE_DIR:
        return op_copy_or_move(f, true, true, err);
    case FS_DELETE_FILE:
        if (need_kind(f->src, false, err) < 0)
            return -1;
        if (unlink(f->src) < 0)
            return werr_set(err, WERR_IO, "cannot delete '%s': %s", f->src,
                            strerror(errno));
        rt_emit(f->run, f->e, RT_EV_INFORMATION, "deleted '%s'", f->src);
        return 0;
    case FS_DELETE_DIR:
    case FS_DELETE_DIR_CONTENT:
        return remove_tree(f, operations[f->t->op].op == FS_DELETE_DIR_CONTENT,
                           err);
    case FS_CREATE_DIR:
        return op_create_dir(f, err);
    case FS_SET_ATTRIBUTES:
        return op_set_attributes(f, err);
    }
    W_BUG("unknown file system operation %zu", f->t->op);
}

/* Property expressions on Source, Destination and OverwriteDestination;
 * false after an error (raised). */
static bool
apply_props(struct rt_run *run, const struct pkg_executable *e,
            struct fstask *t)
{
    char **fields[] = {&t->source, &t->destination};
    static const char *const names[] = {"Source", "Destination"};
    char *s;

    for (size_t i = 0; i < 2; i++) {
        int rc = rt_prop_text(run, e, names[i], &s);
        if (rc < 0)
            return false;
        if (rc > 0) {
            free(*fields[i]);
            *fields[i] = s;
        }
    }
    int rc = rt_prop_text(run, e, "OverwriteDestination", &s);
    if (rc > 0)
        t->overwrite =
            !strcasecmp(s, "True") || !strcmp(s, "1") || !strcmp(s, "-1");
    free(s);
    return rc >= 0;
}

static int
folder_usage(struct rt_run *run, const struct fstask *t)
{
    const struct rt_conn *c;

    if (t->destination_var || !operations[t->op].needs_destination ||
        !(c = rt_conns_find(run->conns, t->destination)))
        return 0;
    return c->file_usage >= 2 ? c->file_usage : 0;
}

static enum rt_result
fs_execute(struct rt_run *run, const struct pkg_executable *e)
{
    struct fstask t;
    struct fsrun f = {.run = run, .e = e, .t = &t};
    char *src = NULL, *dst = NULL;
    struct werr err;
    int rc = -1;

    fstask_read(&t, e);
    if (t.problem) {
        werr_set(&err, WERR_INVALID, "%s", t.problem);
        goto out;
    }
    if (!apply_props(run, e, &t))
        goto done;
    if (!(src = end_path(run, e, "source", t.source, t.source_var, &err)))
        goto out;
    if (operations[t.op].needs_destination &&
        !(dst = end_path(run, e, "destination", t.destination,
                         t.destination_var, &err)))
        goto out;
    f.src = src;
    f.dst = dst;
    f.dst_folder = folder_usage(run, &t);
    f.o = (struct rt_fs_opts){t.overwrite, canceled, run};
    rc = dispatch(&f, &err);
out:
    if (rc < 0 && !(err.code == WERR_UNAVAILABLE && rt_canceled(run)))
        rt_error(run, e, RT_E_FILE, "%s: %s",
                 t.op < NOPS ? operations[t.op].name : "File System task",
                 err.msg);
done:
    fstask_release(&t);
    free(src);
    free(dst);
    if (rc == 0)
        return RT_SUCCESS;
    return rt_canceled(run) ? RT_CANCELED : RT_FAILURE;
}

const struct rt_task_ops rt_fs_ops = {
    .type = "Microsoft.FileSystemTask",
    .validate = fs_validate,
    .execute = fs_execute,
};
