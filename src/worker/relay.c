/*
 * Events: from a child's pipe to the master, without losing a line.
 *
 * The path of a line: wk_lines splits the bytes read from the pipe (a line
 * longer than WK_LINE_MAX is cut and marked); wk_event_from_line keeps a
 * JSON object as it is and wraps anything else in an event, so every spool
 * line is one JSON object; wk_relay_append numbers it and writes it to the
 * task's spool file (events.jsonl) before anything is sent.  wk_relay_pump
 * then sends what the master has not acknowledged, read back from the
 * spool, in batches: when a batch is full, when its oldest line has waited
 * 100 ms, or at once when the child has ended.  One batch per task is in
 * flight at a time; the reply's acked_seq moves the acknowledged mark.
 *
 * When the master cannot be reached the lines simply stay in the spool and
 * are sent later from the first one not acknowledged; the master stores
 * each sequence number once, so sending a batch again is harmless.
 *
 * The spool is not fsync'ed: it guards against the master going away, not
 * against the worker's own crash, after which the master requeues the task
 * anyway.
 */
#include "worker/worker_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/wtime.h"
#include "base/xalloc.h"

/* Bytes of events per request, well under the master's 1 MiB body limit. */
#define BATCH_BYTES (512u * 1024)
/* How long the first unsent line may wait for company. */
#define BATCH_DELAY_NS (100 * WTIME_MS_NS)
#define EVENTS_TIMEOUT_MS 30000L
#define READ_CHUNK (64u * 1024)

/* ---- lines ---- */

void
wk_lines_init(struct wk_lines *l)
{
    memset(l, 0, sizeof(*l));
    wbuf_init(&l->buf, WBUF_NOLIMIT);
}

void
wk_lines_release(struct wk_lines *l)
{
    wbuf_release(&l->buf);
}

void
wk_lines_feed(struct wk_lines *l, const void *p, size_t n)
{
    /* Drop the lines already handed out once they are half the buffer, so
     * consuming a line never moves the rest. */
    if (l->start && l->start >= l->buf.len / 2) {
        wbuf_consume(&l->buf, l->start);
        l->scanned = l->scanned > l->start ? l->scanned - l->start : 0;
        l->start = 0;
    }
    if (wbuf_add(&l->buf, p, n, NULL) < 0)
        W_BUG("unbounded buffer refused %zu bytes", n);
}

size_t
wk_lines_pending(const struct wk_lines *l)
{
    return l->buf.len - l->start;
}

/* Passes over the rest of a cut line; returns false if its end has not
 * arrived yet. */
static bool
skip_cut(struct wk_lines *l)
{
    char *b = l->buf.buf + l->start;
    char *nl = memchr(b, '\n', l->buf.len - l->start);

    if (!nl) {
        wbuf_reset(&l->buf);
        l->start = l->scanned = 0;
        return false;
    }
    l->start += (size_t)(nl - b) + 1;
    l->scanned = l->start;
    l->discarding = false;
    return true;
}

int
wk_lines_peek(struct wk_lines *l, bool eof, const char **line, size_t *len,
              bool *cut)
{
    const char *b, *nl;
    size_t n, end;

    if (l->discarding && !skip_cut(l))
        return 0;
    b = l->buf.buf + l->start;
    n = l->buf.len - l->start;
    if (l->scanned < l->start)
        l->scanned = l->start;
    nl = memchr(l->buf.buf + l->scanned, '\n', l->buf.len - l->scanned);
    if (!nl)
        l->scanned = l->buf.len;
    end = nl ? (size_t)(nl - b) : n;
    *line = b;
    *cut = false;
    l->take_cut = false;
    if (nl && end <= WK_LINE_MAX) {
        *len = end;
        l->take = end + 1;
    } else if (end > WK_LINE_MAX) {
        /* Too long: hand out its start and pass over the rest. */
        *len = WK_LINE_MAX;
        *cut = true;
        l->take = nl ? end + 1 : n;
        l->take_cut = !nl;
    } else if (eof && n) {
        *len = n;
        l->take = n;
    } else {
        return 0;
    }
    return 1;
}

void
wk_lines_consume(struct wk_lines *l)
{
    l->start += l->take;
    l->take = 0;
    if (l->take_cut)
        l->discarding = true;
    l->take_cut = false;
    if (l->start == l->buf.len) {
        wbuf_reset(&l->buf);
        l->start = l->scanned = 0;
    }
}

/* ---- events ---- */

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
    size_t len;
    unsigned c = p[0], min;

    if (c >= 0x01 && c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    unsigned v = c & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    return len;
}

/* Copies `text` into `out` as valid UTF-8 without NULs: anything else
 * becomes U+FFFD, so the text always fits in a JSON string. */
static void
add_utf8(struct wbuf *out, const char *text, size_t n)
{
    const unsigned char *p = (const unsigned char *)text;

    for (size_t i = 0; i < n;) {
        size_t k = utf8_len(p + i, n - i);

        if (k) {
            wbuf_add(out, p + i, k, NULL);
            i += k;
        } else {
            wbuf_adds(out, "\xef\xbf\xbd", NULL);
            i++;
        }
    }
}

static const char *
event_name(int type)
{
    switch (type) {
    case 110:
        return "OnWarning";
    case 120:
        return "OnError";
    default:
        return "OnInformation";
    }
}

static void
add_event(int type, const char *text, size_t n, const char *suffix,
          int64_t now_ms, struct wbuf *out)
{
    struct wbuf msg;
    json_t *ev;
    char *s;

    wbuf_init(&msg, WBUF_NOLIMIT);
    add_utf8(&msg, text, n);
    wbuf_adds(&msg, suffix, NULL);
    ev = json_pack("{s:I, s:i, s:s, s:s, s:s, s:s}", "time_ms",
                   (json_int_t)now_ms, "type", type, "event",
                   event_name(type), "source", "weir worker", "path",
                   "\\Package", "message", msg.buf);
    if (!ev || !(s = json_dumps(ev, JSON_COMPACT)))
        W_BUG("cannot build an event");
    wbuf_adds(out, s, NULL);
    free(s);
    json_decref(ev);
    wbuf_release(&msg);
}

void
wk_event_make(int type, const char *text, int64_t now_ms, struct wbuf *out)
{
    add_event(type, text, strlen(text), "", now_ms, out);
}

void
wk_event_from_line(const char *line, size_t len, bool cut, int64_t now_ms,
                   struct wbuf *out)
{
    char note[64];
    json_error_t je;
    json_t *j;

    if (!cut) {
        /* Only what the master will take as an event passes as it is. */
        j = json_loadb(line, len, 0, &je);
        if (json_is_object(j) &&
            json_is_integer(json_object_get(j, "type")) &&
            json_is_string(json_object_get(j, "event"))) {
            json_decref(j);
            wbuf_add(out, line, len, NULL);
            return;
        }
        json_decref(j);
        add_event(70, line, len, "", now_ms, out);
        return;
    }
    snprintf(note, sizeof(note), " [line cut at %d bytes]", WK_LINE_MAX);
    add_event(110, line, len, note, now_ms, out);
}

/* ---- the spool ---- */

static int
spool_read(struct wk_relay *r, off_t off, size_t n, struct wbuf *b,
           struct werr *err)
{
    char *chunk = xmalloc(READ_CHUNK);
    int rc = 0;

    while (n && rc == 0) {
        ssize_t k = pread(r->fd, chunk, n < READ_CHUNK ? n : READ_CHUNK, off);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            rc = werr_set(err, WERR_IO, "cannot read the event spool: %s",
                          k ? strerror(errno) : "it is shorter than expected");
            break;
        }
        rc = wbuf_add(b, chunk, (size_t)k, err);
        off += k;
        n -= (size_t)k;
    }
    free(chunk);
    return rc;
}

/* Finds where line `count` after the one starting at `off` begins. */
static int
skip_lines(struct wk_relay *r, off_t off, int64_t count, off_t *out,
           struct werr *err)
{
    struct wbuf b;
    int rc = 0;

    wbuf_init(&b, WBUF_NOLIMIT);
    while (count > 0 && rc == 0) {
        size_t n = (size_t)(r->size - off) < READ_CHUNK
                       ? (size_t)(r->size - off) : READ_CHUNK;

        if (!n) {
            rc = werr_set(err, WERR_IO, "the event spool has fewer lines "
                          "than counted");
            break;
        }
        wbuf_reset(&b);
        rc = spool_read(r, off, n, &b, err);
        for (size_t i = 0; rc == 0 && i < b.len && count > 0; i++)
            if (b.buf[i] == '\n' && --count == 0)
                n = i + 1;
        off += (off_t)n;
    }
    wbuf_release(&b);
    *out = off;
    return rc;
}

/* Counts the lines of an existing spool, cutting off a torn last line. */
static int
resume(struct wk_relay *r, struct werr *err)
{
    struct wbuf b;
    off_t off = 0, last_end = 0;
    int rc = 0;

    wbuf_init(&b, WBUF_NOLIMIT);
    while (off < r->size && rc == 0) {
        size_t n = (size_t)(r->size - off) < READ_CHUNK
                       ? (size_t)(r->size - off) : READ_CHUNK;

        wbuf_reset(&b);
        rc = spool_read(r, off, n, &b, err);
        for (size_t i = 0; rc == 0 && i < b.len; i++) {
            if (b.buf[i] == '\n') {
                r->seq++;
                last_end = off + (off_t)i + 1;
            }
        }
        off += (off_t)n;
    }
    wbuf_release(&b);
    if (rc == 0 && last_end < r->size) {
        if (ftruncate(r->fd, last_end) < 0)
            return werr_set(err, WERR_IO, "cannot cut the torn last line "
                            "of the event spool: %s", strerror(errno));
        r->size = last_end;
    }
    return rc;
}

int
wk_relay_open(struct wk_relay *r, const char *path, size_t limit,
              struct werr *err)
{
    struct stat st;

    memset(r, 0, sizeof(*r));
    r->limit = r->max_limit = limit ? limit : 1;
    r->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (r->fd < 0)
        return werr_set(err, WERR_IO, "cannot open the event spool '%s': %s",
                        path, strerror(errno));
    if (fstat(r->fd, &st) < 0) {
        werr_set(err, WERR_IO, "cannot stat '%s': %s", path, strerror(errno));
        goto fail;
    }
    r->size = st.st_size;
    if (resume(r, err) < 0) {
        werr_prefix(err, "'%s'", path);
        goto fail;
    }
    /* Lines found in the spool have waited long enough. */
    r->unsent_since = r->seq ? 1 : 0;
    return 0;
fail:
    close(r->fd);
    r->fd = -1;
    return -1;
}

void
wk_relay_close(struct wk_relay *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

int
wk_relay_append(struct wk_relay *r, const char *ev, size_t len,
                int64_t now_ns, struct werr *err)
{
    struct iovec iov[2] = {{(void *)ev, len}, {"\n", 1}};
    ssize_t n;

    if (!len || memchr(ev, '\n', len))
        return werr_set(err, WERR_INTERNAL, "an event must be one line");
    do
        n = writev(r->fd, iov, 2);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)len + 1) {
        int e = n < 0 ? errno : ENOSPC;

        /* Leave no partial line behind: the spool stays as it was. */
        if (n > 0 && ftruncate(r->fd, r->size) < 0)
            W_BUG("cannot undo a partial spool write: %s", strerror(errno));
        return werr_set(err, WERR_IO, "cannot write the event spool: %s",
                        strerror(e));
    }
    r->size += (off_t)len + 1;
    r->seq++;
    if (!r->unsent_since)
        r->unsent_since = now_ns;
    return 0;
}

/* Adds the line with sequence number `seq` to a batch being built. */
static void
batch_add(struct wk_relay *r, int64_t seq, const char *line, size_t len,
          struct wbuf *out)
{
    char text[160];

    if (seq != r->stand_in) {
        wbuf_add(out, line, len, NULL);
        return;
    }
    snprintf(text, sizeof(text), "event %lld was refused by the master; "
             "it is in the worker's event spool", (long long)seq);
    wk_event_make(110, text, wtime_real_ms(), out);
}

/* Reads the spool on from the end of `blk`, which starts at acked_off. */
static int
read_more(struct wk_relay *r, struct wbuf *blk, size_t max_bytes,
          struct werr *err)
{
    off_t at = r->acked_off + (off_t)blk->len;
    size_t want = max_bytes > READ_CHUNK ? max_bytes : READ_CHUNK;

    if (at >= r->size)
        return werr_set(err, WERR_IO, "the event spool ends before line "
                        "%lld", (long long)(r->acked + 1));
    if ((size_t)(r->size - at) < want)
        want = (size_t)(r->size - at);
    return spool_read(r, at, want, blk, err);
}

int
wk_relay_batch(struct wk_relay *r, size_t max_bytes, struct wbuf *out,
               int64_t *first, size_t *count, struct werr *err)
{
    struct wbuf blk;
    size_t pos = 0, n = 0, start = out->len;
    int rc = 0;

    *first = r->acked + 1;
    *count = 0;
    if (wk_relay_in_flight(r) || r->acked >= r->seq)
        return 0;
    wbuf_init(&blk, WBUF_NOLIMIT);
    wbuf_addch(out, '[', NULL);
    while (r->acked + (int64_t)n < r->seq && n < r->limit) {
        char *nl = memchr(blk.buf + pos, '\n', blk.len - pos);

        if (!nl) {
            /* Read on only for a first line longer than one read. */
            if (n || (rc = read_more(r, &blk, max_bytes, err)) < 0)
                break;
            continue;
        }
        size_t len = (size_t)(nl - (blk.buf + pos));
        if (n && out->len - start + len + 2 > max_bytes)
            break;
        if (n)
            wbuf_addch(out, ',', NULL);
        batch_add(r, r->acked + (int64_t)n + 1, blk.buf + pos, len, out);
        pos += len + 1;
        n++;
    }
    wbuf_release(&blk);
    if (rc < 0) {
        out->len = start;
        out->buf[start] = '\0';
        return -1;
    }
    wbuf_addch(out, ']', NULL);
    r->sent = r->acked + (int64_t)n;
    r->sent_off = r->acked_off + (off_t)pos;
    if (r->sent == r->seq)
        r->unsent_since = 0;
    *count = n;
    return 0;
}

int
wk_relay_ack(struct wk_relay *r, int64_t acked, struct werr *err)
{
    off_t off;

    if (acked < 0)
        acked = 0;
    if (acked > r->seq)
        acked = r->seq;
    if (acked == r->sent && wk_relay_in_flight(r)) {
        off = r->sent_off;
    } else if (acked >= r->acked) {
        if (skip_lines(r, r->acked_off, acked - r->acked, &off, err) < 0)
            return -1;
    } else if (skip_lines(r, 0, acked, &off, err) < 0) {
        return -1;
    }
    if (acked > r->acked)
        r->limit = r->max_limit;
    if (acked >= r->stand_in)
        r->stand_in = 0;
    r->acked = r->sent = acked;
    r->acked_off = r->sent_off = off;
    if (r->acked < r->seq && !r->unsent_since)
        r->unsent_since = 1;
    return 0;
}

void
wk_relay_unsend(struct wk_relay *r, int64_t now_ns)
{
    r->sent = r->acked;
    r->sent_off = r->acked_off;
    if (r->acked < r->seq && !r->unsent_since)
        r->unsent_since = now_ns;
}

void
wk_relay_refused(struct wk_relay *r, int64_t now_ns)
{
    int64_t n = r->sent - r->acked;

    if (n > 1)
        r->limit = (size_t)(n / 2);
    else if (n == 1)
        r->stand_in = r->acked + 1;
    wk_relay_unsend(r, now_ns);
}

/* ---- sending ---- */

static void
lower(int64_t *next, int64_t at)
{
    if (at < *next)
        *next = at;
}

static void
events_done(void *arg, const struct wk_resp *resp)
{
    struct wk_task *t = arg;
    struct wk_agent *a = t->agent;
    int64_t now = wtime_mono_ns(), acked;
    struct werr err;

    t->events_req = NULL;
    wk_agent_master_state(a, resp);
    if (resp->outcome == WK_OK) {
        json_t *v = json_object_get(resp->json, "acked_seq");

        if (json_is_integer(v)) {
            acked = json_integer_value(v);
            if (wk_relay_ack(&t->relay, acked, &err) < 0)
                wlog(WLOG_ERROR, "%s: %s", t->label, err.msg);
            t->events_conflicts = 0;
            wk_backoff_reset(&t->events_bo);
            return;
        }
        wlog(WLOG_WARN, "%s: the master's answer to events has no "
             "acked_seq", t->label);
    } else if (resp->status == 400 || resp->status == 413) {
        /* The batch itself is refused: find the line at fault. */
        wlog(WLOG_WARN, "%s: %s", t->label, resp->err.msg);
        wk_relay_refused(&t->relay, now);
        return;
    } else if (resp->outcome != WK_RETRY) {
        wlog(WLOG_INFO, "%s: %s", t->label, resp->err.msg);
        /* 409 or 404: whether the task is lost or the master lost events,
         * the next heartbeat tells; meanwhile send everything again from
         * the start (stored lines are not stored twice). */
        if (++t->events_conflicts >= 2)
            wk_relay_ack(&t->relay, 0, &err);
        wk_agent_recheck(a);
    }
    wk_relay_unsend(&t->relay, now);
    t->events_at = now + wk_backoff_next(&t->events_bo) * WTIME_MS_NS;
}

static void
send_batch(struct wk_agent *a, struct wk_task *t, int64_t now)
{
    struct wbuf body;
    int64_t first;
    size_t count;
    struct werr err;

    wbuf_init(&body, WBUF_NOLIMIT);
    wbuf_addf(&body, NULL,
              "{\"worker_id\":\"%s\",\"incarnation\":\"%s\",\"task_id\":%lld,"
              "\"first_seq\":%lld,\"events\":",
              a->worker_id, a->incarnation, (long long)t->id,
              (long long)(t->relay.acked + 1));
    if (wk_relay_batch(&t->relay, BATCH_BYTES, &body, &first, &count,
                       &err) < 0) {
        wlog(WLOG_ERROR, "%s: %s", t->label, err.msg);
        t->events_at = now + wk_backoff_next(&t->events_bo) * WTIME_MS_NS;
        wbuf_release(&body);
        return;
    }
    wbuf_addch(&body, '}', NULL);
    wlog(WLOG_DEBUG, "%s: sending events %lld..%lld", t->label,
         (long long)first, (long long)(first + (int64_t)count - 1));
    t->events_req = wk_http_post(a->http, "/api/v1/worker/events",
                                 wbuf_detach(&body, NULL), EVENTS_TIMEOUT_MS,
                                 events_done, t);
}

void
wk_relay_pump(struct wk_agent *a, struct wk_task *t, int64_t now,
              int64_t *next)
{
    struct wk_relay *r = &t->relay;
    int64_t due;

    if (!t->spool_open || !a->registered || t->events_req ||
        wk_relay_in_flight(r) || wk_relay_all_acked(r))
        return;
    if (now < t->events_at) {
        lower(next, t->events_at);
        return;
    }
    due = r->unsent_since + BATCH_DELAY_NS;
    if (t->state == WK_TASK_RUNNING && r->seq - r->acked < (int64_t)r->limit &&
        now < due) {
        lower(next, due);
        return;
    }
    send_batch(a, t, now);
}
