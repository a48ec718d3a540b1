/*
 * Private declarations of the Foreach Loop container (foreach.c) and its
 * enumerators (foreach_file.c...).
 *
 * An enumerator produces its whole collection when the loop starts, as
 * SSIS's enumerators do (a loop that moves or deletes the files it
 * enumerates still sees each one once): a result set whose rows are the
 * iterations and whose columns are the values a ForEachVariableMapping
 * picks by ValueIndex.
 */
#ifndef WEIR_RUNTIME_FOREACH_H
#define WEIR_RUNTIME_FOREACH_H

#include <stdbool.h>

#include "base/werr.h"
#include "runtime/vars.h"

/* Most files one File enumerator lists (WERR_LIMIT past it). */
#define RT_FE_MAX_FILES 1000000

/* True if `name` matches the Windows wildcard `spec`: `*` any run of
 * characters, `?` one character, everything else literal (brackets
 * included), ignoring ASCII case as Windows file systems do.  A spec
 * ending in ".*" also matches names without an extension ("*.*" matches
 * every name), as on Windows. */
bool rt_fe_wildcard(const char *spec, const char *name);

/* Lists the regular files of `folder` whose names match `spec`, and with
 * `recurse` those of its sub-folders (symbolic links to folders are not
 * followed), into a new one-column String rowset: each folder's files
 * sorted by name, then its sub-folders in that order.  `retrieval` is
 * FileNameRetrievalType: 0 the full path ("folder/sub/a.csv"), 1 the name
 * ("a.csv"), 2 the name without its extension ("a").  A folder that does
 * not exist or cannot be read is WERR_NOTFOUND / WERR_IO naming it. */
struct rt_rowset *rt_fe_files(const char *folder, const char *spec,
                              bool recurse, int retrieval, struct werr *err);

#endif
