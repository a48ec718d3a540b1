/* Whole-file helpers and content hashes. */
#ifndef WEIR_BASE_WFILE_H
#define WEIR_BASE_WFILE_H

#include <stddef.h>

#include "base/wbuf.h"
#include "base/werr.h"

/* Reads a whole file into `out` (appending); fails with WERR_LIMIT past
 * `out->max`, WERR_NOTFOUND if it does not exist. */
int wfile_read(const char *path, struct wbuf *out, struct werr *err);
/* Writes `len` bytes to `path` atomically: a temporary file in the same
 * folder, fsync'ed when `sync` is set, then renamed over `path`. */
int wfile_write(const char *path, const void *data, size_t len, int mode,
                int sync, struct werr *err);
/* Creates a folder and its parents (mode 0755); existing ones are fine. */
int wfile_mkdirs(const char *path, struct werr *err);
/* Removes a folder tree; a missing one is fine. */
int wfile_rmtree(const char *path, struct werr *err);

#define WFILE_SHA256_HEX 64
/* The SHA-256 of `data` as 64 lower-case hex digits into `out` (65 bytes). */
void wfile_sha256_hex(const void *data, size_t len,
                      char out[WFILE_SHA256_HEX + 1]);

#endif
