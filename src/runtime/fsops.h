/*
 * File operations for the File System task (task_fs.c), kept apart from
 * the task so they can be tested on their own.
 *
 * Every path is a full Linux path; the caller has decided whether a
 * destination folder means "inside it".  Errors are WERR_IO (WERR_CONFLICT
 * for a destination that exists and may not be replaced, WERR_NOTFOUND
 * for a missing source) naming the path and the errno text; the caller
 * adds the operation.  Copies keep the mode bits; they go through a
 * temporary file in the destination's folder that is renamed into place,
 * so a failed or canceled copy leaves no partial file under the
 * destination's name.
 */
#ifndef WEIR_RUNTIME_FSOPS_H
#define WEIR_RUNTIME_FSOPS_H

#include <stdbool.h>

#include "base/werr.h"

struct rt_fs_opts {
    bool overwrite; /* replace an existing destination file */
    /* Asked between chunks of large copies; true stops the copy
     * (WERR_UNAVAILABLE).  May be NULL. */
    bool (*stop)(void *arg);
    void *arg;
};

/* Copies the regular file `src` to the file `dst`.  Uses
 * copy_file_range, then sendfile where the file systems do not support
 * it.  Copying a file onto itself is refused. */
int rt_fs_copy_file(const char *src, const char *dst,
                    const struct rt_fs_opts *o, struct werr *err);
/* Copies the folder `src` to `dst` (created, with its parents, if
 * missing; merged into if it exists): files, sub-folders and symbolic
 * links (copied as links).  An existing file inside is replaced only with
 * `overwrite`. */
int rt_fs_copy_dir(const char *src, const char *dst, const struct rt_fs_opts *o,
                   struct werr *err);
/* Moves a file or folder with rename(2); across file systems, copies and
 * then deletes the source.  Without `overwrite` an existing destination
 * is refused; with it, a file replaces a file (a folder is never
 * replaced). */
int rt_fs_move(const char *src, const char *dst, const struct rt_fs_opts *o,
               struct werr *err);
/* Deletes a folder and everything in it (`keep_top`: only what is in
 * it).  Symbolic links are removed, never followed. */
int rt_fs_remove_tree(const char *path, bool keep_top, struct werr *err);

#endif
