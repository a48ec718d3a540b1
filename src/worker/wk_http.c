/*
 * Asynchronous requests to the master over libcurl's multi interface.
 *
 * Every request is one easy handle with its own body and response buffer
 * and a completion callback; the multi handle keeps the connections, so a
 * long-poll claim parks one connection while heartbeats and events use
 * others.  wk_http_wait() is the loop's only blocking point: it polls
 * curl's sockets together with the caller's descriptors (signalfd, the
 * children's pipes).
 *
 * A request that gets no answer (or 5xx) moves the client to the next
 * master URL, so a list of masters is tried in turn.
 */
#include "worker/worker_int.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/wjson.h"
#include "base/xalloc.h"

/* Largest JSON answer accepted (a claim lists every file of a project). */
#define JSON_MAX (16u << 20)
#define CONNECT_TIMEOUT_MS 3000L

struct wk_req {
    struct wk_http *h;
    CURL *easy;
    struct curl_slist *hdrs;
    char *body;
    char *what; /* "POST /api/v1/worker/claim" for messages */
    struct wbuf resp;
    bool json, too_big;
    size_t url_idx;
    wk_http_cb *cb;
    void *arg;
    char errbuf[CURL_ERROR_SIZE];
    struct wk_req *prev, *next;
};

struct wk_http {
    CURLM *multi;
    char **urls;
    size_t nurls, cur;
    struct wk_tls tls;
    struct wk_req *reqs;
};

struct wk_http *
wk_http_new(char **urls, const struct wk_tls *tls)
{
    struct wk_http *h = xcalloc(1, sizeof(*h));

    h->multi = curl_multi_init();
    if (!h->multi)
        W_BUG("curl_multi_init failed");
    h->urls = urls;
    while (urls[h->nurls])
        h->nurls++;
    W_ASSERT(h->nurls > 0);
    if (tls)
        h->tls = *tls;
    return h;
}

static void
req_free(struct wk_req *r)
{
    struct wk_http *h = r->h;

    if (r->prev)
        r->prev->next = r->next;
    else
        h->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    curl_multi_remove_handle(h->multi, r->easy);
    curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->hdrs);
    wbuf_release(&r->resp);
    free(r->body);
    free(r->what);
    free(r);
}

void
wk_http_free(struct wk_http *h)
{
    if (!h)
        return;
    while (h->reqs)
        req_free(h->reqs);
    curl_multi_cleanup(h->multi);
    free(h);
}

const char *
wk_http_url(const struct wk_http *h)
{
    return h->urls[h->cur];
}

void
wk_http_cancel(struct wk_http *h, struct wk_req *r)
{
    if (r)
        req_free(r);
}

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
    struct wk_req *r = arg;

    if (wbuf_add(&r->resp, p, size * n, NULL) < 0) {
        r->too_big = true;
        return 0;
    }
    return size * n;
}

static void
set_tls(struct wk_http *h, CURL *e)
{
    if (h->tls.cacert)
        curl_easy_setopt(e, CURLOPT_CAINFO, h->tls.cacert);
    if (h->tls.cert)
        curl_easy_setopt(e, CURLOPT_SSLCERT, h->tls.cert);
    if (h->tls.key)
        curl_easy_setopt(e, CURLOPT_SSLKEY, h->tls.key);
}

/* Makes a request for `path` on the current master and starts it. */
static struct wk_req *
req_start(struct wk_http *h, const char *method, const char *path,
          size_t max, long timeout_ms, wk_http_cb *cb, void *arg)
{
    struct wk_req *r = xcalloc(1, sizeof(*r));
    char *url = xasprintf("%s%s", h->urls[h->cur], path);
    CURL *e = curl_easy_init();

    if (!e)
        W_BUG("curl_easy_init failed");
    r->h = h;
    r->easy = e;
    r->cb = cb;
    r->arg = arg;
    r->url_idx = h->cur;
    r->what = xasprintf("%s %s", method, path);
    wbuf_init(&r->resp, max);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout_ms < CONNECT_TIMEOUT_MS ? timeout_ms
                                                     : CONNECT_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    set_tls(h, e);
    /* Never "Expect: 100-continue": it costs a round trip per request. */
    r->hdrs = curl_slist_append(NULL, "Expect:");
    free(url);
    r->next = h->reqs;
    if (h->reqs)
        h->reqs->prev = r;
    h->reqs = r;
    return r;
}

static struct wk_req *
req_add(struct wk_req *r)
{
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->hdrs);
    if (curl_multi_add_handle(r->h->multi, r->easy) != CURLM_OK)
        W_BUG("curl_multi_add_handle failed");
    return r;
}

struct wk_req *
wk_http_post(struct wk_http *h, const char *path, char *body,
             long timeout_ms, wk_http_cb *cb, void *arg)
{
    struct wk_req *r = req_start(h, "POST", path, JSON_MAX, timeout_ms, cb,
                                 arg);

    r->json = true;
    r->body = body;
    r->hdrs = curl_slist_append(r->hdrs, "Content-Type: application/json");
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)strlen(body));
    return req_add(r);
}

struct wk_req *
wk_http_post_json(struct wk_http *h, const char *path, json_t *body,
                  long timeout_ms, wk_http_cb *cb, void *arg)
{
    char *text = json_dumps(body, JSON_COMPACT);

    if (!text)
        W_BUG("json_dumps failed");
    return wk_http_post(h, path, text, timeout_ms, cb, arg);
}

struct wk_req *
wk_http_get(struct wk_http *h, const char *path, size_t max, long timeout_ms,
            wk_http_cb *cb, void *arg)
{
    return req_add(req_start(h, "GET", path, max, timeout_ms, cb, arg));
}

/* The outcome of a request that got an HTTP answer. */
static void
classify_status(struct wk_req *r, struct wk_resp *out)
{
    json_error_t je;
    json_t *j = NULL;
    int s = out->status;

    if (s >= 200 && s < 300) {
        if (!r->json)
            return;
        out->json = json_loadb(r->resp.buf, r->resp.len, 0, &je);
        if (!out->json) {
            out->outcome = WK_RETRY;
            werr_set(&out->err, WERR_IO, "%s: the master sent invalid JSON: "
                     "%s", r->what, je.text);
        }
        return;
    }
    if (s == 409)
        out->outcome = WK_CONFLICT;
    else if (s >= 500 || s == 408 || s == 429)
        out->outcome = WK_RETRY;
    else
        out->outcome = WK_REJECTED;
    j = json_loadb(r->resp.buf, r->resp.len, 0, &je);
    wjson_error_read(j, s, &out->err);
    werr_prefix(&out->err, "%s: %d", r->what, s);
    json_decref(j);
}

static void
classify(struct wk_req *r, CURLcode rc, struct wk_resp *out)
{
    long code = 0;

    memset(out, 0, sizeof(*out));
    out->body = &r->resp;
    if (r->too_big) {
        out->outcome = WK_REJECTED;
        werr_set(&out->err, WERR_LIMIT, "%s: the answer is over %zu bytes",
                 r->what, r->resp.max);
        return;
    }
    if (rc != CURLE_OK) {
        out->outcome = WK_RETRY;
        werr_set(&out->err, WERR_UNAVAILABLE, "%s: cannot reach the master "
                 "at '%s': %s", r->what, r->h->urls[r->url_idx],
                 r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
        return;
    }
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
    out->status = (int)code;
    classify_status(r, out);
}

static void
finish(struct wk_http *h, struct wk_req *r, CURLcode rc)
{
    struct wk_resp resp;
    wk_http_cb *cb = r->cb;
    void *arg = r->arg;

    classify(r, rc, &resp);
    if (resp.outcome == WK_RETRY && r->url_idx == h->cur && h->nurls > 1) {
        h->cur = (h->cur + 1) % h->nurls;
        wlog(WLOG_DEBUG, "trying the master at '%s' next", h->urls[h->cur]);
    }
    /* The request is unlinked before the callback, which may start new
     * requests or cancel others; the response buffer lives until after. */
    curl_multi_remove_handle(h->multi, r->easy);
    cb(arg, &resp);
    json_decref(resp.json);
    req_free(r);
}

int
wk_http_wait(struct wk_http *h, void *extra_fds, unsigned n, int timeout_ms,
             struct werr *err)
{
    struct curl_waitfd *fds = extra_fds;
    CURLMcode mc;
    CURLMsg *msg;
    int running = 0, left = 0;

    mc = curl_multi_poll(h->multi, fds, n, timeout_ms, NULL);
    if (mc != CURLM_OK)
        return werr_set(err, WERR_INTERNAL, "curl_multi_poll: %s",
                        curl_multi_strerror(mc));
    mc = curl_multi_perform(h->multi, &running);
    if (mc != CURLM_OK)
        return werr_set(err, WERR_INTERNAL, "curl_multi_perform: %s",
                        curl_multi_strerror(mc));
    /* One message at a time: a callback may cancel another request, and
     * curl then drops that request's pending message. */
    while ((msg = curl_multi_info_read(h->multi, &left))) {
        struct wk_req *r = NULL;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        finish(h, r, msg->data.result);
    }
    return 0;
}
