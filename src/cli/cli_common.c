/*
 * What every client verb shares: option parsing, error reporting, the
 * connection to the master and tolerant readers for its JSON.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/banned.h"
#include "base/wjson.h"
#include "base/xalloc.h"

int
cli_parse(const struct wopt *table, void *conf, const char *usage, int argc,
          char **argv, size_t min_pos, size_t max_pos, char ***pos,
          struct werr *err)
{
    size_t n = 0;
    int rc;

    rc = wopt_parse(table, conf, CLI_ENV_PREFIX, usage, argc, argv, pos, err);
    if (rc != 0) {
        free(*pos);
        *pos = NULL;
        return rc;
    }
    while ((*pos)[n])
        n++;
    if (n < min_pos)
        werr_set(err, WERR_INVALID, "missing argument; see 'weir %s --help'",
                 argv[0]);
    else if (n > max_pos)
        werr_set(err, WERR_INVALID,
                 "unexpected argument '%s'; see 'weir %s --help'",
                 (*pos)[max_pos], argv[0]);
    else
        return 0;
    free(*pos);
    *pos = NULL;
    return -1;
}

int
cli_fail(const struct werr *err)
{
    fflush(stdout);
    fprintf(stderr, "weir: %s\n", err->msg);
    return werr_exit_code(err->code == WERR_OK ? WERR_INTERNAL : err->code);
}

struct whttp *
cli_connect(const struct cli_common *c, struct werr *err)
{
    const char *url = c->master ? c->master : CLI_DEFAULT_MASTER;

    if (strncasecmp(url, "http://", 7) != 0 &&
        strncasecmp(url, "https://", 8) != 0) {
        werr_set(err, WERR_INVALID,
                 "master URL '%s' must start with http:// or https://", url);
        return NULL;
    }
    return whttp_new(url);
}

json_t *
cli_call(struct whttp *h, const char *method, json_t *body, struct werr *err,
         const char *fmt, ...)
{
    struct wbuf path;
    va_list ap;
    json_t *j;

    wbuf_init(&path, WBUF_NOLIMIT);
    va_start(ap, fmt);
    wbuf_vaddf(&path, NULL, fmt, ap);
    va_end(ap);
    j = whttp_json(h, method, path.buf, body, CLI_TIMEOUT_MS, err);
    wbuf_release(&path);
    return j;
}

json_t *
cli_decode(int status, const struct wbuf *resp, const char *method,
           const char *path, struct werr *err)
{
    json_error_t je;
    json_t *j;

    j = resp->len ? json_loadb(resp->buf, resp->len, 0, &je) : json_object();
    if (status < 200 || status >= 300) {
        wjson_error_read(j, status, err);
        json_decref(j);
        return NULL;
    }
    if (!j)
        werr_set(err, WERR_IO, "the master sent invalid JSON for %s %s: %s",
                 method, path, je.text);
    return j;
}

void
cli_print_line(const char *fmt, ...)
{
    struct wbuf raw, clean;
    va_list ap;

    wbuf_init(&raw, WBUF_NOLIMIT);
    wbuf_init(&clean, WBUF_NOLIMIT);
    va_start(ap, fmt);
    wbuf_vaddf(&raw, NULL, fmt, ap);
    va_end(ap);
    cli_text_clean(&clean, raw.buf, false);
    puts(clean.buf);
    wbuf_release(&raw);
    wbuf_release(&clean);
}

void
cli_print_json(const json_t *j)
{
    json_dumpf(j, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
}

void
cli_sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

const char *
cli_jstr(const json_t *obj, const char *key, const char *def)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s ? s : def;
}

int64_t
cli_jint(const json_t *obj, const char *key, int64_t def)
{
    const json_t *v = json_object_get(obj, key);

    return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}
