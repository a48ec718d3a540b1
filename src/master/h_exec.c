/*
 * Routes for executions: create, start, stop, list, read one, its messages
 * and its statistics.  Creating or starting an execution makes a task
 * pending, so those wake the parked claims.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/wbuf.h"
#include "base/wjson.h"
#include "base/wtime.h"
#include "base/xalloc.h"
#include "catalog/catalog.h"
#include "master/master_int.h"

#include "base/banned.h"

#define MAX_COUNT 10000
#define MAX_WORKERS 1000
#define MAX_RETRIES 100
#define MAX_PARAM_NAME 256

static int
name_member(json_t *body, const char *key, const char **out,
            struct werr *err)
{
    if (wjson_str(body, key, true, NULL, out, err) < 0)
        return -1;
    if (!wid_is_name(*out))
        return werr_set(err, WERR_INVALID, "member '%s': '%.128s' is not a "
                        "valid name", key, *out);
    return 0;
}

/* "parameters": an object of name -> string; borrowed from `body`. */
static int
parameters_member(json_t *body, json_t **out, struct werr *err)
{
    json_t *p = json_object_get(body, "parameters"), *v;
    const char *k;

    *out = NULL;
    if (!p || json_is_null(p))
        return 0;
    if (!json_is_object(p))
        return werr_set(err, WERR_INVALID, "member 'parameters' must be an "
                        "object of names to string values");
    json_object_foreach(p, k, v) {
        if (!*k || strlen(k) > MAX_PARAM_NAME)
            return werr_set(err, WERR_INVALID, "parameter name '%.64s' must "
                            "have 1 to %d bytes", k, MAX_PARAM_NAME);
        if (!json_is_string(v))
            return werr_set(err, WERR_INVALID, "parameter '%.128s' must have "
                            "a string value", k);
    }
    *out = p;
    return 0;
}

/* "workers": an array of worker ids, as a NULL-terminated array of
 * strings borrowed from `body` (the array is the caller's); NULL: any. */
static int
workers_member(json_t *body, const char ***out, struct werr *err)
{
    json_t *w = json_object_get(body, "workers"), *v;
    size_t i, n;

    *out = NULL;
    if (!w || json_is_null(w))
        return 0;
    if (!json_is_array(w))
        return werr_set(err, WERR_INVALID, "member 'workers' must be an "
                        "array of worker ids");
    if ((n = json_array_size(w)) == 0)
        return 0;
    if (n > MAX_WORKERS)
        return werr_set(err, WERR_INVALID, "member 'workers' lists more than "
                        "%d workers", MAX_WORKERS);
    json_array_foreach(w, i, v) {
        if (!json_is_string(v) || !wid_is_uuid(json_string_value(v)))
            return werr_set(err, WERR_INVALID, "member 'workers': item %zu is "
                            "not a worker id (a UUID)", i);
    }
    *out = xcalloc(n + 1, sizeof(**out));
    json_array_foreach(w, i, v)
        (*out)[i] = json_string_value(v);
    return 0;
}

static int
tag_member(json_t *body, const char **out, struct werr *err)
{
    if (wjson_str(body, "tag", false, NULL, out, err) < 0)
        return -1;
    if (*out && !wid_is_name(*out))
        return werr_set(err, WERR_INVALID, "member 'tag': '%.128s' is not a "
                        "valid tag", *out);
    return 0;
}

static int
int_member(json_t *body, const char *key, int64_t def, int64_t min,
           int64_t max, int *out, struct werr *err)
{
    int64_t v;

    if (wjson_int(body, key, false, def, min, max, &v, err) < 0)
        return -1;
    *out = (int)v;
    return 0;
}

/* Fills `req` from the body; req->workers is the caller's to free. */
static int
exec_req(json_t *body, struct cat_exec_req *req, struct werr *err)
{
    const char **workers = NULL;

    if (name_member(body, "folder", &req->folder, err) < 0 ||
        name_member(body, "project", &req->project, err) < 0 ||
        name_member(body, "package", &req->package, err) < 0 ||
        parameters_member(body, &req->parameters, err) < 0 ||
        tag_member(body, &req->tag, err) < 0 ||
        int_member(body, "retries", 0, 0, MAX_RETRIES, &req->retries,
                   err) < 0 ||
        int_member(body, "logging_level", 1, 0, 4, &req->logging_level,
                   err) < 0 ||
        int_member(body, "count", 1, 1, MAX_COUNT, &req->count, err) < 0 ||
        wjson_bool(body, "start", true, &req->start, err) < 0 ||
        workers_member(body, &workers, err) < 0)
        return -1;
    req->workers = workers;
    return 0;
}

static json_t *
created(const int64_t *ids, int count)
{
    json_t *arr = json_array();

    for (int i = 0; i < count; i++)
        json_array_append_new(arr, json_integer(ids[i]));
    return json_pack("{s:o,s:I}", "ids", arr, "id", (json_int_t)ids[0]);
}

static void
log_created(const struct cat_exec_req *req, const int64_t *ids)
{
    const char *state = req->start ? "pending" : "not started";

    if (req->count == 1)
        wlog(WLOG_INFO, "execution %lld created: %s/%s/%s (%s)",
             (long long)ids[0], req->folder, req->project, req->package,
             state);
    else
        wlog(WLOG_INFO, "executions %lld to %lld created: %s/%s/%s (%s)",
             (long long)ids[0], (long long)ids[req->count - 1], req->folder,
             req->project, req->package, state);
}

int
h_exec_create(struct mreq *r, struct werr *err)
{
    struct cat_exec_req req = {0};
    json_t *body = mreq_json(r, err);
    int64_t *ids = NULL;
    int rc = -1;

    if (!body || exec_req(body, &req, err) < 0)
        goto out;
    ids = xcalloc((size_t)req.count, sizeof(*ids));
    if (cat_exec_create(r->m->cat, &req, wtime_real_ms(), ids, err) < 0)
        goto out;
    log_created(&req, ids);
    if (req.start)
        sched_wake(&r->m->sched);
    mreq_answer(r, MHD_HTTP_CREATED, created(ids, req.count));
    rc = 0;
out:
    free((void *)req.workers);
    free(ids);
    json_decref(body);
    return rc;
}

/* Copies connection-string text, replacing the value of every Password or
 * PWD key ("PWD=x;" becomes "PWD=*****;"). */
static char *
mask_connection_string(const char *cs)
{
    struct wbuf b;

    wbuf_init(&b, WBUF_NOLIMIT);
    while (*cs) {
        size_t len = strcspn(cs, ";"), key = strcspn(cs, "=");
        const char *k = cs;

        while (k < cs + key && isspace((unsigned char)*k))
            k++;
        size_t klen = (size_t)(cs + key - k);
        while (klen && isspace((unsigned char)k[klen - 1]))
            klen--;
        bool secret = key < len &&
                      ((klen == 3 && !strncasecmp(k, "pwd", 3)) ||
                       (klen == 8 && !strncasecmp(k, "password", 8)));
        if (secret) {
            wbuf_add(&b, cs, key + 1, NULL);
            wbuf_adds(&b, "*****", NULL);
        } else {
            wbuf_add(&b, cs, len, NULL);
        }
        cs += len;
        if (*cs == ';')
            wbuf_addch(&b, *cs++, NULL);
    }
    return wbuf_detach(&b, NULL);
}

/*
 * Connection managers' properties arrive as parameters named as SSISDB
 * names them, CM.<Name>.<Property>: a Password is never shown, and neither
 * is a password inside a ConnectionString.  The worker's claim carries the
 * real values; only what people read is masked.
 */
static void
mask_parameters(json_t *exec)
{
    json_t *params = json_object_get(exec, "parameters"), *v;
    const char *name;

    json_object_foreach(params, name, v) {
        size_t n = strlen(name);
        if (strncmp(name, "CM.", 3) || !json_is_string(v))
            continue;
        if (n > 9 && !strcasecmp(name + n - 9, ".Password")) {
            json_object_set_new(params, name, json_string("*****"));
        } else if (n > 17 && !strcasecmp(name + n - 17,
                                          ".ConnectionString")) {
            char *m = mask_connection_string(json_string_value(v));
            json_object_set_new(params, name, json_string(m));
            free(m);
        }
    }
}

/* Answers 200 with execution `id` as it is now. */
static int
answer_exec(struct mreq *r, int64_t id, struct werr *err)
{
    json_t *j = cat_exec_get(r->m->cat, id, err);

    if (!j)
        return -1;
    mask_parameters(j);
    mreq_answer(r, MHD_HTTP_OK, j);
    return 0;
}

int
h_exec_start(struct mreq *r, struct werr *err)
{
    int64_t id;

    if (master_parse_id(r->params[0], "execution", &id, err) < 0 ||
        cat_exec_start(r->m->cat, id, wtime_real_ms(), err) < 0)
        return -1;
    wlog(WLOG_INFO, "execution %lld started by request: pending",
         (long long)id);
    sched_wake(&r->m->sched);
    return answer_exec(r, id, err);
}

int
h_exec_stop(struct mreq *r, struct werr *err)
{
    int64_t id;
    int status;

    if (master_parse_id(r->params[0], "execution", &id, err) < 0 ||
        cat_exec_stop(r->m->cat, id, wtime_real_ms(), &status, err) < 0)
        return -1;
    wlog(WLOG_INFO, "execution %lld stop requested: %s", (long long)id,
         cat_status_name(status));
    return answer_exec(r, id, err);
}

int
h_exec_get(struct mreq *r, struct werr *err)
{
    int64_t id;

    if (master_parse_id(r->params[0], "execution", &id, err) < 0)
        return -1;
    return answer_exec(r, id, err);
}

int
h_exec_list(struct mreq *r, struct werr *err)
{
    int64_t status, limit, after;
    json_t *j;

    if (mreq_query_int(r, "status", 0, 9, 0, &status, err) < 0 ||
        mreq_query_int(r, "limit", 1, 10000, 100, &limit, err) < 0 ||
        mreq_query_int(r, "after", 0, INT64_MAX, 0, &after, err) < 0)
        return -1;
    j = cat_exec_list(r->m->cat, (int)status, after, (int)limit, err);
    if (!j)
        return -1;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(j, "executions"), i, e)
        mask_parameters(e);
    mreq_answer(r, MHD_HTTP_OK, j);
    return 0;
}

int
h_exec_messages(struct mreq *r, struct werr *err)
{
    int64_t id, after, limit;
    json_t *j;

    if (master_parse_id(r->params[0], "execution", &id, err) < 0 ||
        mreq_query_int(r, "after", 0, INT64_MAX, 0, &after, err) < 0 ||
        mreq_query_int(r, "limit", 1, 100000, 1000, &limit, err) < 0)
        return -1;
    j = cat_exec_messages(r->m->cat, id, after, (int)limit, err);
    if (!j)
        return -1;
    mreq_answer(r, MHD_HTTP_OK, j);
    return 0;
}

int
h_exec_statistics(struct mreq *r, struct werr *err)
{
    int64_t id;
    json_t *j;

    if (master_parse_id(r->params[0], "execution", &id, err) < 0)
        return -1;
    j = cat_exec_statistics(r->m->cat, id, err);
    if (!j)
        return -1;
    mreq_answer(r, MHD_HTTP_OK, j);
    return 0;
}
