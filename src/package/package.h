/*
 * The package model: a .dtsx loaded into an immutable tree of executables,
 * precedence constraints, variables, parameters and connection managers.
 */
#ifndef WEIR_PACKAGE_H
#define WEIR_PACKAGE_H

#include <stddef.h>

#include "base/wbuf.h"
#include "base/werr.h"

struct pkg;

/* Parses a .dtsx held in memory; `name` (e.g. "Extract.dtsx") is used in
 * messages.  Malformed XML or an unsupported format is WERR_INVALID with a
 * message naming the file and line: "'Extract.dtsx' line 7: ...". */
struct pkg *pkg_load_memory(const char *name, const void *xml, size_t len,
                            struct werr *err);
/* Reads and parses a .dtsx file (WERR_NOTFOUND if it does not exist). */
struct pkg *pkg_load_file(const char *path, struct werr *err);
void pkg_free(struct pkg *p);

/* Validates the package before anything runs: unsupported task types,
 * missing connection managers, cycles...  Appends one line per problem,
 * "\Package\Seq\Task: message\n", to `problems`; returns the number found. */
int pkg_validate(const struct pkg *p, struct wbuf *problems);

#endif
