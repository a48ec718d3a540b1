/*
 * Errors: a code plus a fixed-size message, so reporting never allocates.
 *
 * A function that can fail returns 0 or -1 (or NULL) and takes a
 * `struct werr *err` as its last argument.  Each code maps to exactly one
 * HTTP status and one process exit code, so the master and the CLI agree on
 * what went wrong without translating messages.
 */
#ifndef WEIR_BASE_WERR_H
#define WEIR_BASE_WERR_H

#include <stdarg.h>

enum werr_code {
    WERR_OK = 0,
    WERR_INVALID,     /* bad input: 400, exit 2 */
    WERR_AUTH,        /* not allowed: 403, exit 3 */
    WERR_NOTFOUND,    /* unknown id or name: 404, exit 4 */
    WERR_CONFLICT,    /* state does not allow it: 409, exit 5 */
    WERR_LIMIT,       /* input larger than a limit: 413, exit 6 */
    WERR_IO,          /* file system or network: 500/502, exit 7 */
    WERR_DB,          /* catalog failure: 500, exit 8 */
    WERR_UNAVAILABLE, /* try again later: 503, exit 9 */
    WERR_INTERNAL,    /* a bug: 500, exit 10 */
};

struct werr {
    enum werr_code code;
    char msg[256];
};

/* Clears `e` (code WERR_OK, empty message); `e` may be NULL. */
void werr_clear(struct werr *e);

/* Sets code and message; returns -1 so callers can `return werr_set(...)`.
 * `e` may be NULL, then only -1 is returned. */
int werr_set(struct werr *e, enum werr_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int werr_vset(struct werr *e, enum werr_code code, const char *fmt,
              va_list ap) __attribute__((format(printf, 3, 0)));

/* Prepends "context: " to the message, keeping the code; returns -1. */
int werr_prefix(struct werr *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The stable lower-case name of a code, as used in JSON error bodies. */
const char *werr_code_name(enum werr_code code);
/* Parses a name produced by werr_code_name; unknown names give WERR_INTERNAL. */
enum werr_code werr_code_from_name(const char *name);
int werr_http_status(enum werr_code code);
/* Maps an HTTP status back to the nearest code (for clients). */
enum werr_code werr_code_from_http(int status);
int werr_exit_code(enum werr_code code);

/* Aborts with a message when an invariant is broken; on in release builds. */
#define W_BUG(...) werr_bug(__FILE__, __LINE__, __VA_ARGS__)
#define W_ASSERT(cond) \
    do { if (!(cond)) W_BUG("assertion failed: %s", #cond); } while (0)
_Noreturn void werr_bug(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
