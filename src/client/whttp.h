/*
 * A small blocking HTTP client over libcurl for the CLI and the worker.
 *
 * One struct whttp keeps one curl handle, so connections to the master are
 * reused between calls.  Transport failures (refused, reset, timed out) are
 * WERR_UNAVAILABLE, so callers can tell "the master is down, retry" from
 * "the master said no" (whose code comes from the JSON error body).
 */
#ifndef WEIR_CLIENT_WHTTP_H
#define WEIR_CLIENT_WHTTP_H

#include <stddef.h>

#include <jansson.h>

#include "base/wbuf.h"
#include "base/werr.h"

struct whttp;

/* A client for the master at `base_url` ("http://127.0.0.1:8391").  The
 * string is copied. */
struct whttp *whttp_new(const char *base_url);
void whttp_free(struct whttp *h);
const char *whttp_base_url(const struct whttp *h);

/* Sends METHOD base_url+path with `body` (may be NULL) of type `ctype`,
 * waiting at most `timeout_ms`.  The status goes to *status and the
 * response body is appended to `resp` (bounded by resp->max).  Returns -1
 * only when no HTTP answer came. */
int whttp_request(struct whttp *h, const char *method, const char *path,
                  const char *ctype, const void *body, size_t len,
                  long timeout_ms, int *status, struct wbuf *resp,
                  struct werr *err);

/* JSON in, JSON out: sends `body` (may be NULL) and parses the answer.  A
 * non-2xx answer sets `err` from its error body and returns NULL.  The
 * caller owns the result. */
json_t *whttp_json(struct whttp *h, const char *method, const char *path,
                   json_t *body, long timeout_ms, struct werr *err);

#endif
