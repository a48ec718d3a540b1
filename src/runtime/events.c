/*
 * Events out of `weir exec`.
 *
 * With --events-fd each event is one JSON object on one line, written with
 * one write(2) so a reader never sees half a line from us (the worker
 * relays lines as they come).  A write interrupted after some bytes is
 * completed, never restarted.  If the descriptor breaks (the worker went
 * away), later events are dropped and the run goes on: the package's own
 * work matters more than its log, and the worker's death also kills us.
 *
 * Without it, events are printed for people, one line each, and errors are
 * repeated on stderr so `weir exec ... >/dev/null` still shows them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/wtime.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "runtime/runtime_int.h"

static const struct {
    const char *name;
    int type;
} kinds[] = {
    [RT_EV_PRE_VALIDATE] = {"OnPreValidate", 10},
    [RT_EV_POST_VALIDATE] = {"OnPostValidate", 20},
    [RT_EV_PRE_EXECUTE] = {"OnPreExecute", 30},
    [RT_EV_POST_EXECUTE] = {"OnPostExecute", 40},
    [RT_EV_PROGRESS] = {"OnProgress", 60},
    [RT_EV_INFORMATION] = {"OnInformation", 70},
    [RT_EV_WARNING] = {"OnWarning", 110},
    [RT_EV_ERROR] = {"OnError", 120},
    [RT_EV_TASK_FAILED] = {"OnTaskFailed", 130},
};

static const char *const result_names[] = {"success", "failure", "completion",
                                           "canceled"};

int
rt_event_type(enum rt_event_kind kind)
{
    return kinds[kind].type;
}

const char *
rt_event_name(enum rt_event_kind kind)
{
    return kinds[kind].name;
}

/* The length of the valid UTF-8 sequence at `s` (at most `n` bytes), or 0
 * if it is not one.  Overlong forms, surrogates and code points past
 * U+10FFFF are invalid, as jansson requires. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return len;
}

void
rt_utf8_clean(const char *s, size_t n, struct wbuf *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, k;

    while (i < n) {
        if (p[i] && (k = utf8_len(p + i, n - i))) {
            wbuf_add(out, p + i, k, NULL);
            i += k;
        } else {
            wbuf_adds(out, "\xef\xbf\xbd", NULL);
            i++;
        }
    }
}

/* Writes all of `len` bytes, finishing a write cut short by a signal. */
static int
write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Names come from the package (valid UTF-8, libxml2 checks) or from a
 * file name (any bytes): jansson refuses invalid UTF-8, so clean it. */
static json_t *
clean_string(const char *s)
{
    struct wbuf b;
    json_t *j;

    wbuf_init(&b, WBUF_NOLIMIT);
    rt_utf8_clean(s ? s : "", s ? strlen(s) : 0, &b);
    j = json_string(b.buf);
    wbuf_release(&b);
    return j;
}

/* Writes `o` as one line with one write(2); takes the reference. */
static void
write_line(struct rt_events *ev, json_t *o)
{
    char *line = json_dumps(o, JSON_COMPACT);
    size_t len;

    json_decref(o);
    if (!line)
        W_BUG("cannot encode an event");
    len = strlen(line);
    line[len] = '\n'; /* replaces the NUL: one write for the whole line */
    if (!ev->broken && write_all(ev->fd, line, len + 1) < 0) {
        ev->broken = true;
        if (ev->errs)
            fprintf(ev->errs,
                    "weir exec: cannot write events to descriptor "
                    "%d: %s; later events are lost\n",
                    ev->fd, strerror(errno));
    }
    free(line);
}

static void
emit_json(struct rt_events *ev, const struct rt_event *e, const char *msg)
{
    json_t *o = json_object();

    if (ev->package)
        json_object_set_new(o, "package", clean_string(ev->package));
    json_object_set_new(o, "time_ms", json_integer(wtime_real_ms()));
    json_object_set_new(o, "type", json_integer(kinds[e->kind].type));
    json_object_set_new(o, "event", json_string(kinds[e->kind].name));
    json_object_set_new(o, "source", clean_string(e->source));
    json_object_set_new(o, "path", clean_string(e->path));
    json_object_set_new(o, "message", json_string(msg));
    if (e->kind == RT_EV_POST_EXECUTE) {
        json_object_set_new(o, "result", json_integer(e->result));
        json_object_set_new(o, "start_ms", json_integer(e->start_ms));
    }
    if (e->kind == RT_EV_ERROR)
        json_object_set_new(o, "code", json_integer(e->code));
    write_line(ev, o);
}

void
rt_events_raise_up(struct rt_events *ev, const char *path,
                   const struct rt_hevent *h)
{
    json_t *o;

    if (ev->fd < 0)
        return;
    o = json_object();
    json_object_set_new(o, "raise", json_string(h->event));
    json_object_set_new(o, "path", clean_string(path));
    json_object_set_new(o, "code", json_integer(h->code));
    json_object_set_new(o, "message", clean_string(h->message));
    json_object_set_new(o, "percent", json_integer(h->percent));
    write_line(ev, o);
}

static void
emit_text(struct rt_events *ev, const struct rt_event *e, const char *msg)
{
    char stamp[16] = "";
    int64_t ms = wtime_real_ms();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (!ev->text)
        return;
    if (localtime_r(&t, &tm))
        snprintf(stamp, sizeof(stamp), "%02d:%02d:%02d.%03d", tm.tm_hour,
                 tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    fprintf(ev->text, "%s %-14s %-29s ", stamp, kinds[e->kind].name, e->path);
    if (e->kind <= RT_EV_POST_EXECUTE) /* validate and execute */
        fprintf(ev->text, "%s%s", e->source, *msg ? ": " : "");
    fprintf(ev->text, "%s\n", msg);
    fflush(ev->text);
}

void
rt_events_emit(struct rt_events *ev, const struct rt_event *e)
{
    struct wbuf msg;
    const char *m = e->message ? e->message : "";
    struct rt_event prefixed;
    char *path = NULL;

    if (ev->path_prefix) {
        /* A child package's event: its path under the Execute Package
         * task's, "\Package\Run child\Package\Task". */
        path = xasprintf("%s%s", ev->path_prefix, e->path ? e->path : "");
        prefixed = *e;
        prefixed.path = path;
        e = &prefixed;
    }
    wbuf_init(&msg, WBUF_NOLIMIT);
    if (e->kind == RT_EV_POST_EXECUTE && !*m)
        m = result_names[e->result];
    rt_utf8_clean(m, strlen(m), &msg);
    if (ev->fd >= 0)
        emit_json(ev, e, msg.buf);
    else
        emit_text(ev, e, msg.buf);
    if (e->kind == RT_EV_ERROR && ev->errs) {
        fprintf(ev->errs, "weir exec: error: %s: %s\n", e->path, msg.buf);
        fflush(ev->errs);
    }
    wbuf_release(&msg);
    free(path);
}
