/*
 * One HTTP request through libmicrohttpd.
 *
 * MHD calls http_on_request several times per request: first with only the
 * headers (we find the route, and refuse at once a Content-Length over the
 * limit, before reading any of the body), then with each piece of the body
 * (kept in a wbuf capped at the limit), then once more with no data, when
 * the handler runs.  Its answer cannot go yet: the handler ran inside the
 * loop turn's catalog batch (group commit), and nothing it did is durable
 * before that batch is committed.  So the connection is suspended, and
 * resumed by http_batch_release after the commit (or with an error if the
 * commit failed); MHD then calls a last time and the answer is queued.  A
 * claim that waits for a task is suspended the same way, by the scheduler,
 * until it is answered.  Answers that depend on no catalog state (404,
 * 405, 413, a claim that waited in vain) go at once.
 *
 * A struct mreq lives from the first call until MHD reports the request
 * completed (http_on_completed), which is the only place it is freed.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/wjson.h"
#include "base/wtime.h"
#include "base/xalloc.h"
#include "master/master_int.h"

#include "base/banned.h"

static struct mreq *
mreq_new(struct master *m, struct MHD_Connection *conn, const char *url,
         const char *method)
{
    struct mreq *r = xcalloc(1, sizeof(*r));

    r->m = m;
    r->conn = conn;
    r->url = url;
    r->method = method;
    r->start_ns = wtime_mono_ns();
    r->claim.req = r;
    r->claim.fd = -1;
    wbuf_init(&r->body, 0);
    m->nrequests++;
    return r;
}

static void
mreq_free(struct mreq *r)
{
    route_params_free(r->params);
    wbuf_release(&r->body);
    json_decref(r->json);
    free(r->raw);
    free(r);
}

static void
batch_unlink(struct master *m, struct mreq *r)
{
    if (r->bprev)
        r->bprev->bnext = r->bnext;
    else
        m->batch_head = r->bnext;
    if (r->bnext)
        r->bnext->bprev = r->bprev;
    r->bprev = r->bnext = NULL;
    r->in_batch = false;
}

/* Holds the answer until the open batch commits, or lets it go now. */
static void
settle(struct mreq *r)
{
    struct master *m = r->m;

    r->answered = true;
    r->committed = !m->batch_open;
    if (!m->batch_open || r->in_batch)
        return;
    r->bprev = NULL;
    r->bnext = m->batch_head;
    if (m->batch_head)
        m->batch_head->bprev = r;
    m->batch_head = r;
    r->in_batch = true;
}

void
mreq_answer(struct mreq *r, int status, json_t *json)
{
    json_decref(r->json);
    r->json = json;
    r->status = status;
    settle(r);
}

void
mreq_answer_stateless(struct mreq *r, int status, json_t *json)
{
    json_decref(r->json);
    r->json = json;
    r->status = status;
    r->answered = r->committed = true;
}

void
mreq_answer_raw(struct mreq *r, int status, char *data, size_t len)
{
    free(r->raw);
    r->raw = data;
    r->raw_len = len;
    r->status = status;
    settle(r);
}

size_t
http_batch_release(struct master *m, const struct werr *failure)
{
    struct mreq *r;
    size_t resumed = 0;

    W_ASSERT(!m->batch_open);
    while ((r = m->batch_head)) {
        batch_unlink(m, r);
        if (failure) {
            free(r->raw);
            r->raw = NULL;
            mreq_fail(r, failure);
        }
        r->committed = true;
        if (r->deferred) {
            r->deferred = false;
            MHD_resume_connection(r->conn);
            resumed++;
        }
    }
    return resumed;
}

void
mreq_fail(struct mreq *r, const struct werr *err)
{
    int status = werr_http_status(err->code);

    if (status >= 500)
        wlog(WLOG_ERROR, "%s %s: %s", r->method, r->url, err->msg);
    mreq_answer(r, status, wjson_error(err));
}

void
mreq_resume(struct mreq *r)
{
    r->parked = false;
    MHD_resume_connection(r->conn);
}

/* Serializes the answer and hands it to MHD. */
static enum MHD_Result
queue(struct mreq *r)
{
    struct MHD_Response *resp;
    const char *ctype = "application/json";
    char *text;
    size_t len;
    enum MHD_Result ret;

    if (r->raw) {
        text = r->raw, len = r->raw_len, r->raw = NULL;
        ctype = "application/octet-stream";
    } else {
        text = json_dumps(r->json, JSON_COMPACT);
        if (!text)
            W_BUG("cannot serialize the answer to %s %s", r->method, r->url);
        len = strlen(text);
    }
    r->queued = true;
    resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (r->allow[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    wlog(WLOG_DEBUG, "%s %s %d %.1fms", r->method, r->url, r->status,
         (double)(wtime_mono_ns() - r->start_ns) / 1e6);
    return ret;
}

static size_t
body_limit(const struct mreq *r)
{
    const struct master_conf *c = &r->m->conf;

    return (size_t)(r->route->body == ROUTE_BODY_DEPLOY ? c->max_deploy
                                                        : c->max_body);
}

static void
answer_too_large(struct mreq *r, size_t limit)
{
    struct werr err;

    werr_set(&err, WERR_LIMIT, "the request body is over the limit of %zu "
             "bytes (%s)", limit, r->route->body == ROUTE_BODY_DEPLOY
             ? "--max-deploy" : "--max-body");
    r->too_large = true;
    mreq_answer_stateless(r, werr_http_status(err.code), wjson_error(&err));
}

/* A Content-Length over the limit is refused before the body is read. */
static bool
announced_too_large(struct mreq *r, size_t limit)
{
    const char *cl = mreq_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long n;
    char *end;

    if (!cl)
        return false;
    errno = 0;
    n = strtoull(cl, &end, 10);
    return end != cl && (errno == ERANGE || n > limit);
}

/* True if a body follows the headers. */
static bool
has_body(struct mreq *r)
{
    const char *cl = mreq_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);

    return (cl && strcmp(cl, "0") != 0) ||
           mreq_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* 404 or 405.  Without a body the answer waits for the last call, so the
 * connection stays open; with one it goes now and the body is not read
 * (MHD closes the connection after the answer). */
static enum MHD_Result
no_route(struct mreq *r)
{
    struct werr err;
    int status = MHD_HTTP_NOT_FOUND;

    if (r->allow[0]) {
        werr_set(&err, WERR_INVALID, "method %s is not allowed on '%s' "
                 "(allowed: %s)", r->method, r->url, r->allow);
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
    } else {
        werr_set(&err, WERR_NOTFOUND, "no route %s '%s'", r->method, r->url);
    }
    mreq_answer_stateless(r, status, wjson_error(&err));
    return has_body(r) ? queue(r) : MHD_YES;
}

/* The first call, with the headers only. */
static enum MHD_Result
begin(struct mreq *r)
{
    size_t limit;

    r->route = route_find(master_routes, r->method, r->url, r->params,
                          r->allow, sizeof(r->allow));
    if (!r->route)
        return no_route(r);
    limit = body_limit(r);
    if (announced_too_large(r, limit)) {
        answer_too_large(r, limit);
        return queue(r);
    }
    wbuf_init(&r->body, limit);
    return MHD_YES;
}

/* A piece of the body.  Past the limit the body is dropped and the rest
 * is read and thrown away, so the client still gets the 413. */
static void
take_body(struct mreq *r, const char *data, size_t n)
{
    struct werr err;

    if (r->answered)
        return;
    if (wbuf_add(&r->body, data, n, &err) == 0)
        return;
    wbuf_release(&r->body);
    wbuf_init(&r->body, 0);
    answer_too_large(r, body_limit(r));
}

static void
dispatch(struct mreq *r)
{
    struct werr err;

    werr_clear(&err);
    if (r->route->fn(r, &err) < 0)
        mreq_fail(r, &err);
    else if (!r->answered && !r->parked)
        W_BUG("%s %s: the handler gave no answer", r->method, r->url);
}

enum MHD_Result
http_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                const char *method, const char *version, const char *upload,
                size_t *upload_size, void **ctx)
{
    struct mreq *r = *ctx;

    if (!r) {
        *ctx = r = mreq_new(cls, conn, url, method);
        return begin(r);
    }
    if (*upload_size) {
        take_body(r, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->queued)
        return MHD_YES;
    if (!r->answered)
        dispatch(r);
    if (r->parked)
        return MHD_YES;
    if (!r->committed) {
        /* Not before the batch that made this answer is committed. */
        r->deferred = true;
        MHD_suspend_connection(conn);
        return MHD_YES;
    }
    return queue(r);
}

void
http_on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
                  enum MHD_RequestTerminationCode toe)
{
    struct master *m = cls;
    struct mreq *r = *ctx;

    if (!r)
        return;
    if (r->claim.parked)
        sched_forget(&m->sched, &r->claim);
    if (r->in_batch)
        batch_unlink(m, r);
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        wlog(WLOG_DEBUG, "%s %s: ended before its answer was sent (%d)",
             r->method, r->url, (int)toe);
    mreq_free(r);
    *ctx = NULL;
    m->nrequests--;
}

/* Small requests and answers: send each at once (Nagle would hold a
 * response back for the client's delayed ACK). */
void
http_on_connection(void *cls, struct MHD_Connection *conn,
                   void **socket_ctx, enum MHD_ConnectionNotificationCode toe)
{
    const union MHD_ConnectionInfo *ci;
    int one = 1;

    if (toe != MHD_CONNECTION_NOTIFY_STARTED)
        return;
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci && setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one,
                         sizeof(one)) < 0)
        wlog(WLOG_DEBUG, "TCP_NODELAY: %s", strerror(errno));
}

json_t *
mreq_json(struct mreq *r, struct werr *err)
{
    json_t *j;

    if (r->body.len == 0) {
        werr_set(err, WERR_INVALID, "the request needs a JSON object body");
        return NULL;
    }
    j = wjson_parse_object(r->body.buf, r->body.len, err);
    if (!j)
        werr_prefix(err, "request body");
    return j;
}

const char *
mreq_header(struct mreq *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
mreq_query(struct mreq *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

int
mreq_query_int(struct mreq *r, const char *name, int64_t min, int64_t max,
               int64_t def, int64_t *out, struct werr *err)
{
    const char *v = mreq_query(r, name);
    long long n;
    char *end;

    if (!v || !*v) {
        *out = def;
        return 0;
    }
    errno = 0;
    n = strtoll(v, &end, 10);
    if (*end || errno || n < min || n > max)
        return werr_set(err, WERR_INVALID, "query argument '%s' must be an "
                        "integer from %lld to %lld, not '%s'", name,
                        (long long)min, (long long)max, v);
    *out = n;
    return 0;
}

int
master_parse_id(const char *s, const char *what, int64_t *out,
                struct werr *err)
{
    long long n;
    char *end;

    errno = 0;
    if (s[0] < '0' || s[0] > '9')
        goto bad;
    n = strtoll(s, &end, 10);
    if (*end || errno || n <= 0)
        goto bad;
    *out = n;
    return 0;
bad:
    return werr_set(err, WERR_INVALID, "%s id '%.64s' must be a positive "
                    "integer", what, s);
}
