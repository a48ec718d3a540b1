/*
 * JSON helpers over jansson for request bodies: typed getters that report
 * the offending member by name, and the error body every API error uses:
 * {"error": {"code": "not_found", "message": "..."}}.
 */
#ifndef WEIR_BASE_WJSON_H
#define WEIR_BASE_WJSON_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/werr.h"

/* Parses `len` bytes into an object; anything else is WERR_INVALID naming
 * the line and column.  Returns a new reference or NULL. */
json_t *wjson_parse_object(const char *text, size_t len, struct werr *err);

/* Getters: a missing member gives `def` (or fails with WERR_INVALID if
 * `required`); a member of the wrong type always fails.  String results are
 * borrowed from `obj`. */
int wjson_str(json_t *obj, const char *key, bool required, const char *def,
              const char **out, struct werr *err);
int wjson_int(json_t *obj, const char *key, bool required, int64_t def,
              int64_t min, int64_t max, int64_t *out, struct werr *err);
int wjson_bool(json_t *obj, const char *key, bool def, bool *out,
               struct werr *err);

/* {"error": {"code": ..., "message": ...}} as a new reference. */
json_t *wjson_error(const struct werr *e);
/* Reads an error body back into `e` (for clients); returns -1 always. */
int wjson_error_read(json_t *body, int http_status, struct werr *e);

#endif
