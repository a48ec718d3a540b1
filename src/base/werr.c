#include "base/werr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int http;
    int exit;
} codes[] = {
    [WERR_OK] = {"ok", 200, 0},
    [WERR_INVALID] = {"invalid", 400, 2},
    [WERR_AUTH] = {"forbidden", 403, 3},
    [WERR_NOTFOUND] = {"not_found", 404, 4},
    [WERR_CONFLICT] = {"conflict", 409, 5},
    [WERR_LIMIT] = {"too_large", 413, 6},
    [WERR_IO] = {"io", 500, 7},
    [WERR_DB] = {"catalog", 500, 8},
    [WERR_UNAVAILABLE] = {"unavailable", 503, 9},
    [WERR_INTERNAL] = {"internal", 500, 10},
};
#define NCODES (sizeof(codes) / sizeof(codes[0]))

void
werr_clear(struct werr *e)
{
    if (!e)
        return;
    e->code = WERR_OK;
    e->msg[0] = '\0';
}

int
werr_vset(struct werr *e, enum werr_code code, const char *fmt, va_list ap)
{
    if (!e)
        return -1;
    e->code = code;
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    return -1;
}

int
werr_set(struct werr *e, enum werr_code code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    werr_vset(e, code, fmt, ap);
    va_end(ap);
    return -1;
}

int
werr_prefix(struct werr *e, const char *fmt, ...)
{
    char ctx[sizeof(e->msg)], old[sizeof(e->msg)];
    va_list ap;

    if (!e)
        return -1;
    va_start(ap, fmt);
    vsnprintf(ctx, sizeof(ctx), fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof(old));
    snprintf(e->msg, sizeof(e->msg), "%s: %s", ctx, old);
    return -1;
}

const char *
werr_code_name(enum werr_code code)
{
    if ((size_t)code >= NCODES)
        return "internal";
    return codes[code].name;
}

enum werr_code
werr_code_from_name(const char *name)
{
    for (size_t i = 0; i < NCODES; i++)
        if (name && strcmp(codes[i].name, name) == 0)
            return (enum werr_code)i;
    return WERR_INTERNAL;
}

int
werr_http_status(enum werr_code code)
{
    if ((size_t)code >= NCODES)
        return 500;
    return codes[code].http;
}

enum werr_code
werr_code_from_http(int status)
{
    switch (status) {
    case 400: return WERR_INVALID;
    case 401: case 403: return WERR_AUTH;
    case 404: return WERR_NOTFOUND;
    case 409: return WERR_CONFLICT;
    case 413: return WERR_LIMIT;
    case 503: return WERR_UNAVAILABLE;
    default: return status >= 200 && status < 300 ? WERR_OK : WERR_INTERNAL;
    }
}

int
werr_exit_code(enum werr_code code)
{
    if ((size_t)code >= NCODES)
        return 10;
    return codes[code].exit;
}

void
werr_bug(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "BUG: %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}
