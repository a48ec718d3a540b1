#include "client/whttp.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/wjson.h"
#include "base/xalloc.h"

struct whttp {
    CURL *curl;
    char *base;
};

static void
global_init(void)
{
    static int done;

    if (!done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        done = 1;
    }
}

struct whttp *
whttp_new(const char *base_url)
{
    struct whttp *h = xcalloc(1, sizeof(*h));
    size_t n = strlen(base_url);

    global_init();
    while (n && base_url[n - 1] == '/')
        n--;
    h->base = xstrndup(base_url, n);
    h->curl = curl_easy_init();
    if (!h->curl)
        W_BUG("curl_easy_init failed");
    return h;
}

void
whttp_free(struct whttp *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    free(h->base);
    free(h);
}

const char *
whttp_base_url(const struct whttp *h)
{
    return h->base;
}

struct sink {
    struct wbuf *out;
    struct werr *err;
    int failed;
};

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
    struct sink *s = arg;

    if (wbuf_add(s->out, p, size * n, s->err) < 0) {
        s->failed = 1;
        return 0;
    }
    return size * n;
}

int
whttp_request(struct whttp *h, const char *method, const char *path,
              const char *ctype, const void *body, size_t len,
              long timeout_ms, int *status, struct wbuf *resp,
              struct werr *err)
{
    struct curl_slist *hdrs = NULL;
    struct sink s = {resp, err, 0};
    char *url = xasprintf("%s%s", h->base, path), *ct = NULL;
    CURLcode rc;
    long code = 0;

    curl_easy_reset(h->curl);
    curl_easy_setopt(h->curl, CURLOPT_URL, url);
    curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h->curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout_ms < 5000 ? timeout_ms : 5000L);
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &s);
    /* Never send "Expect: 100-continue": it costs a round trip per upload. */
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (body) {
        ct = xasprintf("Content-Type: %s", ctype ? ctype : "application/json");
        hdrs = curl_slist_append(hdrs, ct);
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)len);
    }
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs);
    rc = curl_easy_perform(h->curl);
    curl_slist_free_all(hdrs);
    free(ct);
    if (s.failed) {
        free(url);
        return werr_prefix(err, "response from '%s'", h->base);
    }
    if (rc != CURLE_OK) {
        werr_set(err, WERR_UNAVAILABLE, "cannot reach the master at '%s': %s",
                 h->base, curl_easy_strerror(rc));
        free(url);
        return -1;
    }
    free(url);
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
    *status = (int)code;
    return 0;
}

json_t *
whttp_json(struct whttp *h, const char *method, const char *path,
           json_t *body, long timeout_ms, struct werr *err)
{
    struct wbuf resp;
    char *text = NULL;
    json_t *j = NULL;
    json_error_t je;
    int status = 0;

    wbuf_init(&resp, 256u << 20);
    if (body)
        text = json_dumps(body, JSON_COMPACT);
    if (whttp_request(h, method, path, "application/json", text,
                      text ? strlen(text) : 0, timeout_ms, &status, &resp,
                      err) < 0)
        goto out;
    j = resp.len ? json_loadb(resp.buf, resp.len, 0, &je) : json_object();
    if (status < 200 || status >= 300) {
        wjson_error_read(j, status, err);
        json_decref(j);
        j = NULL;
        goto out;
    }
    if (!j)
        werr_set(err, WERR_IO, "the master sent invalid JSON for %s %s: %s",
                 method, path, je.text);
out:
    free(text);
    wbuf_release(&resp);
    return j;
}
