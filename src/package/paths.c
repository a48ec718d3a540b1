/*
 * Paths as packages write them.
 *
 * Packages are made on Windows.  A path in one is either a Windows path
 * that means nothing on Linux ("C:\Data\in.csv", "\\server\share",
 * "\Data" on the current drive), or a path weir can read once its
 * separators are slashes: a Linux folder from a parameter joined on by an
 * expression written on Windows (@[$Project::InDir] + "\\in.csv" gives
 * "/data\in.csv"), or a relative path ("in\day1.csv").  Every task, loop
 * and connection reads file paths through these two functions, so one
 * rule holds everywhere.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "package/package.h"

bool
pkg_path_is_windows(const char *path)
{
    if (!path || !*path)
        return false;
    if (isalpha((unsigned char)path[0]) && path[1] == ':')
        return true;
    return path[0] == '\\';
}

char *
pkg_path_linux(const char *path, const char *base)
{
    char *s;

    if (!path || pkg_path_is_windows(path))
        return NULL;
    if (path[0] == '/' || !*path || !base || !*base)
        s = xstrdup(path);
    else
        s = xasprintf("%s/%s", base, path);
    for (char *p = s; *p; p++)
        if (*p == '\\')
            *p = '/';
    return s;
}

static bool
ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && !strcasecmp(s + n - m, suffix);
}

bool
pkg_program_is_windows(const char *program)
{
    static const char *const exts[] = {".exe", ".bat", ".cmd",
                                       ".com", ".ps1", ".vbs"};

    /* A program is named as written, never rewritten: "bin\tool" is a
     * Windows program even though "bin\in.csv" is a readable path. */
    if (pkg_path_is_windows(program) || (program && strchr(program, '\\')))
        return true;
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
        if (ends_with_ci(program, exts[i]))
            return true;
    return false;
}
