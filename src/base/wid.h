/* Identifiers. */
#ifndef WEIR_BASE_WID_H
#define WEIR_BASE_WID_H

#include <stdbool.h>

#define WID_UUID_LEN 36

/* Writes a random (version 4) UUID, lower case, into `out` (37 bytes). */
void wid_uuid(char out[WID_UUID_LEN + 1]);
/* True if `s` is a UUID in the 8-4-4-4-12 hex form (either case). */
bool wid_is_uuid(const char *s);
/* True if `s` is a safe name for folders, projects and packages: 1 to 128
 * bytes, no '/', no control characters, not "." or "..". */
bool wid_is_name(const char *s);

#endif
