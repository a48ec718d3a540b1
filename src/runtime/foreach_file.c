/*
 * The Foreach File enumerator's listing (foreach.h).
 *
 * Windows wildcards are matched with fnmatch(3) after escaping what is
 * special to it but not to Windows (brackets), with FNM_CASEFOLD: NTFS
 * names compare ignoring case, and packages written on Windows say
 * "*.CSV" for "data.csv".  Names are sorted ignoring case (ties by
 * bytes), the order NTFS returns them in, so runs are reproducible.
 * Symbolic links to folders are not followed, so recursion ends.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/wbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "runtime/foreach.h"

static bool
match_one(const char *spec, size_t len, const char *name)
{
    struct wbuf pat;
    bool hit;

    wbuf_init(&pat, WBUF_NOLIMIT);
    for (size_t i = 0; i < len; i++) {
        if (spec[i] == '[')
            wbuf_adds(&pat, "[[]", NULL);
        else
            wbuf_addch(&pat, spec[i], NULL);
    }
    hit = fnmatch(pat.buf, name, FNM_NOESCAPE | FNM_CASEFOLD) == 0;
    wbuf_release(&pat);
    return hit;
}

bool
rt_fe_wildcard(const char *spec, const char *name)
{
    size_t len = strlen(spec);

    if (!len)
        spec = "*", len = 1;
    if (match_one(spec, len, name))
        return true;
    /* "name.*" also matches "name": Windows sees an empty extension. */
    return len >= 2 && spec[len - 2] == '.' && spec[len - 1] == '*' &&
           !strchr(name, '.') && match_one(spec, len - 2, name);
}

static int
by_name(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int c = strcasecmp(x, y);

    return c ? c : strcmp(x, y);
}

/* The entries of `dir` (without . and ..), sorted; NULL on error. */
static char **
sorted_entries(const char *dir, size_t *n, struct werr *err)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t cap = 0;

    *n = 0;
    if (!d) {
        werr_set(err, errno == ENOENT ? WERR_NOTFOUND : WERR_IO,
                 "folder '%s': %s", dir, strerror(errno));
        return NULL;
    }
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        XGROW(names, *n + 2, cap);
        names[(*n)++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (!names)
        names = xcalloc(1, sizeof(*names));
    qsort(names, *n, sizeof(*names), by_name);
    return names;
}

static void
free_entries(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

struct lister {
    const char *spec;
    bool recurse;
    int retrieval;
    struct rt_rowset *rows;
    struct werr *err;
};

static int
add_file(struct lister *l, const char *path, const char *name)
{
    struct rt_value *row;
    const char *dot;

    if (l->rows->nrows >= RT_FE_MAX_FILES ||
        !(row = rt_rowset_add_row(l->rows)))
        return werr_set(l->err, WERR_LIMIT,
                        "more than %d files match: narrow the FileSpec",
                        RT_FE_MAX_FILES);
    if (l->retrieval == 0)
        rt_value_set_str(row, path, strlen(path));
    else if (l->retrieval == 1 || !(dot = strrchr(name, '.')))
        rt_value_set_str(row, name, strlen(name));
    else
        rt_value_set_str(row, name, (size_t)(dot - name));
    return 0;
}

static int
list_folder(struct lister *l, const char *dir)
{
    size_t n, ndirs = 0;
    char **names = sorted_entries(dir, &n, l->err);
    char **dirs;
    int rc = 0;

    if (!names)
        return -1;
    dirs = xcalloc(n + 1, sizeof(*dirs));
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *path = xasprintf("%s%s%s", dir,
                               dir[strlen(dir) - 1] == '/' ? "" : "/",
                               names[i]);
        struct stat st, lst;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (rt_fe_wildcard(l->spec, names[i]))
                rc = add_file(l, path, names[i]);
        } else if (l->recurse && lstat(path, &lst) == 0 &&
                   S_ISDIR(lst.st_mode)) {
            dirs[ndirs++] = path;
            path = NULL;
        }
        free(path);
    }
    for (size_t i = 0; i < ndirs; i++) {
        if (rc == 0)
            rc = list_folder(l, dirs[i]);
        free(dirs[i]);
    }
    free(dirs);
    free_entries(names, n);
    return rc;
}

struct rt_rowset *
rt_fe_files(const char *folder, const char *spec, bool recurse, int retrieval,
            struct werr *err)
{
    struct lister l = {.spec = spec, .recurse = recurse,
                       .retrieval = retrieval, .err = err};
    struct stat st;

    if (stat(folder, &st) < 0) {
        werr_set(err, errno == ENOENT ? WERR_NOTFOUND : WERR_IO,
                 "the folder '%s' %s", folder,
                 errno == ENOENT ? "does not exist" : strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        werr_set(err, WERR_INVALID, "'%s' is not a folder", folder);
        return NULL;
    }
    l.rows = rt_rowset_new(1);
    rt_rowset_set_column(l.rows, 0, "File", RT_VT_STR);
    if (list_folder(&l, folder) < 0) {
        rt_rowset_unref(l.rows);
        return NULL;
    }
    return l.rows;
}
