/*
 * The catalog's front: status names, the choice of backend from a URL, and
 * the checks every argument passes before a backend sees it.
 *
 * Validation lives here rather than in the backends so that SQLite and
 * PostgreSQL reject exactly the same input with exactly the same messages,
 * and so that a backend can trust what it receives (names are names, ids
 * are ids, ranges are in range).  Nothing here knows about SQL.
 */
#include "catalog/catalog.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/banned.h"
#include "base/wbuf.h"
#include "base/wid.h"
#include "base/wjson.h"
#include "base/xalloc.h"
#include "catalog/catalog_int.h"

static const char *const status_names[] = {
    [CAT_CREATED] = "created",
    [CAT_RUNNING] = "running",
    [CAT_CANCELED] = "canceled",
    [CAT_FAILED] = "failed",
    [CAT_PENDING] = "pending",
    [CAT_ENDED_UNEXPECTEDLY] = "ended unexpectedly",
    [CAT_SUCCEEDED] = "succeeded",
    [CAT_STOPPING] = "stopping",
    [CAT_COMPLETED] = "completed",
};

const char *
cat_status_name(int status)
{
    if (status < CAT_CREATED || status > CAT_COMPLETED)
        return "unknown";
    return status_names[status];
}

bool
cat_status_is_final(int status)
{
    return status == CAT_CANCELED || status == CAT_FAILED ||
           status == CAT_ENDED_UNEXPECTEDLY || status == CAT_SUCCEEDED ||
           status == CAT_COMPLETED;
}

const char *
cat_result_name(enum cat_result r)
{
    switch (r) {
    case CAT_RESULT_SUCCEEDED: return "succeeded";
    case CAT_RESULT_FAILED: return "failed";
    case CAT_RESULT_CANCELED: return "canceled";
    }
    return "unknown";
}

/* ---- opening ---- */

/* A URL scheme is letters, digits, '+', '-' or '.' followed by "://";
 * anything else (including "C:" style names) is a path. */
static bool
has_scheme(const char *url)
{
    size_t n = strspn(url, "abcdefghijklmnopqrstuvwxyz"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");

    return n > 0 && strncmp(url + n, "://", 3) == 0;
}

struct cat *
cat_open(const char *url, struct werr *err)
{
    const char *path = url;

    if (!url || !*url) {
        werr_set(err, WERR_INVALID, "empty catalog URL");
        return NULL;
    }
    if (strncmp(url, "sqlite:", 7) == 0) {
        path = url + 7;
        if (strncmp(path, "//", 2) == 0)
            path += 2;
    } else if (strncmp(url, "postgres://", 11) == 0 ||
               strncmp(url, "postgresql://", 13) == 0) {
        werr_set(err, WERR_INVALID, "catalog '%s': PostgreSQL catalogs are "
                 "not supported by this build yet", url);
        return NULL;
    } else if (has_scheme(url)) {
        werr_set(err, WERR_INVALID, "catalog '%s': unknown kind of catalog "
                 "(expected sqlite:PATH or a file path)", url);
        return NULL;
    }
    if (!*path) {
        werr_set(err, WERR_INVALID, "catalog '%s': empty path", url);
        return NULL;
    }
    return cat_sqlite_open(path, err);
}

void
cat_close(struct cat *c)
{
    if (c)
        c->ops->close(c);
}

int
cat_schema_version(struct cat *c)
{
    return c->schema_version;
}

int
cat_batch_begin(struct cat *c, struct werr *err)
{
    return c->ops->batch_begin(c, err);
}

int
cat_batch_commit(struct cat *c, struct werr *err)
{
    return c->ops->batch_commit(c, err);
}

void
cat_batch_rollback(struct cat *c)
{
    c->ops->batch_rollback(c);
}

/* ---- checks shared by several calls ---- */

/* Names end up in JSON answers, which must be valid UTF-8. */
static bool
is_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        unsigned c = *p++;
        int more = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1
                 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3
                 : -1;

        if (more < 0)
            return false;
        /* Overlong forms, surrogates and code points past U+10FFFF. */
        if ((c == 0xe0 && *p < 0xa0) || (c == 0xed && *p > 0x9f) ||
            (c == 0xf0 && *p < 0x90) || (c == 0xf4 && *p > 0x8f))
            return false;
        for (; more > 0; more--)
            if ((*p++ & 0xc0) != 0x80)
                return false;
    }
    return true;
}

static int
check_name(const char *what, const char *s, struct werr *err)
{
    if (!s || !*s)
        return werr_set(err, WERR_INVALID, "missing %s name", what);
    if (!is_utf8(s))
        return werr_set(err, WERR_INVALID, "%s name is not valid UTF-8",
                        what);
    if (strlen(s) > 128)
        return werr_set(err, WERR_INVALID, "%s name is longer than 128 "
                        "bytes", what);
    if (!wid_is_name(s))
        return werr_set(err, WERR_INVALID, "invalid %s name '%s'", what, s);
    return 0;
}

static int
check_uuid(const char *what, const char *s, struct werr *err)
{
    if (!s || !*s)
        return werr_set(err, WERR_INVALID, "missing %s", what);
    if (!wid_is_uuid(s))
        return werr_set(err, WERR_INVALID, "invalid %s '%.64s' (expected a "
                        "UUID)", what, s);
    return 0;
}

static int
check_worker_call(const char *worker_id, const char *incarnation,
                  struct werr *err)
{
    if (check_uuid("worker id", worker_id, err) < 0 ||
        check_uuid("incarnation", incarnation, err) < 0)
        return -1;
    return 0;
}

static bool
is_hash(const char *s)
{
    if (!s || strlen(s) != WFILE_SHA256_HEX)
        return false;
    return strspn(s, "0123456789abcdef") == WFILE_SHA256_HEX;
}

/* ---- projects ---- */

/* A project file path: relative, '/'-separated, each part a safe name. */
static int
check_path(const char *path, bool is_package, struct werr *err)
{
    const char *p = path;
    size_t n;

    if (!path || !*path)
        return werr_set(err, WERR_INVALID, "file with an empty path");
    n = strlen(path);
    if (n > CAT_MAX_PATH)
        return werr_set(err, WERR_LIMIT, "file path '%.64s...' is longer "
                        "than %d bytes", path, CAT_MAX_PATH);
    if (!is_utf8(path))
        return werr_set(err, WERR_INVALID, "file path is not valid UTF-8");
    while (*p) {
        size_t len = strcspn(p, "/");
        char part[CAT_MAX_PATH + 1];

        memcpy(part, p, len);
        part[len] = '\0';
        if (!wid_is_name(part))
            return werr_set(err, WERR_INVALID, "invalid file path '%.200s'",
                            path);
        p += len;
        if (*p == '/' && !*++p)
            return werr_set(err, WERR_INVALID, "invalid file path '%.200s'",
                            path);
    }
    if (is_package && (strchr(path, '/') || n < 6 ||
                       strcasecmp(path + n - 5, ".dtsx") != 0))
        return werr_set(err, WERR_INVALID, "package '%.200s' is not a .dtsx "
                        "file at the project's top level", path);
    return 0;
}

static int
cmp_hashed_path(const void *a, const void *b)
{
    const struct cat_file_hashed *x = a, *y = b;

    return strcmp(x->file->path, y->file->path);
}

/* Checks every file and hashes its content into a new array (the caller
 * frees), sorted by path so that duplicates sit side by side. */
static struct cat_file_hashed *
hash_files(const struct cat_file *files, size_t nfiles, struct werr *err)
{
    struct cat_file_hashed *h;

    if (nfiles == 0) {
        werr_set(err, WERR_INVALID, "a project needs at least one file");
        return NULL;
    }
    if (nfiles > CAT_MAX_FILES) {
        werr_set(err, WERR_LIMIT, "a project may have at most %d files",
                 CAT_MAX_FILES);
        return NULL;
    }
    h = xcalloc(nfiles, sizeof(*h));
    for (size_t i = 0; i < nfiles; i++) {
        if (check_path(files[i].path, files[i].is_package, err) < 0)
            goto fail;
        if (files[i].len > 0 && !files[i].data) {
            werr_set(err, WERR_INVALID, "file '%s' has no content",
                     files[i].path);
            goto fail;
        }
        h[i].file = &files[i];
        wfile_sha256_hex(files[i].data ? files[i].data : "", files[i].len,
                         h[i].sha256);
    }
    qsort(h, nfiles, sizeof(*h), cmp_hashed_path);
    for (size_t i = 1; i < nfiles; i++) {
        if (strcmp(h[i - 1].file->path, h[i].file->path) == 0) {
            werr_set(err, WERR_INVALID, "file '%s' appears twice",
                     h[i].file->path);
            goto fail;
        }
    }
    return h;
fail:
    free(h);
    return NULL;
}

int
cat_project_deploy(struct cat *c, const char *folder, const char *project,
                   const struct cat_file *files, size_t nfiles, int64_t now,
                   int64_t *version, struct werr *err)
{
    struct cat_file_hashed *h;
    int rc;

    if (check_name("folder", folder, err) < 0 ||
        check_name("project", project, err) < 0)
        return -1;
    if (nfiles > 0 && !files)
        return werr_set(err, WERR_INTERNAL, "no file list");
    h = hash_files(files, nfiles, err);
    if (!h)
        return -1;
    rc = c->ops->project_deploy(c, folder, project, h, nfiles, now, version,
                                err);
    free(h);
    if (rc < 0)
        werr_prefix(err, "deploy '%s/%s'", folder, project);
    return rc;
}

json_t *
cat_folder_list(struct cat *c, struct werr *err)
{
    return c->ops->folder_list(c, err);
}

json_t *
cat_project_list(struct cat *c, struct werr *err)
{
    return c->ops->project_list(c, err);
}

json_t *
cat_project_get(struct cat *c, const char *folder, const char *project,
                struct werr *err)
{
    if (check_name("folder", folder, err) < 0 ||
        check_name("project", project, err) < 0)
        return NULL;
    return c->ops->project_get(c, folder, project, err);
}

int
cat_blob_get(struct cat *c, const char *hash, struct wbuf *out,
             struct werr *err)
{
    if (!is_hash(hash))
        return werr_set(err, WERR_INVALID, "invalid content hash '%.80s' "
                        "(expected 64 lower-case hex digits)",
                        hash ? hash : "");
    return c->ops->blob_get(c, hash, out, err);
}

/* ---- executions ---- */

static int
check_parameters(json_t *params, struct werr *err)
{
    const char *key;
    json_t *v;

    if (!params)
        return 0;
    if (!json_is_object(params))
        return werr_set(err, WERR_INVALID, "parameters must be an object of "
                        "names and string values");
    json_object_foreach(params, key, v) {
        if (!*key || strlen(key) > 256)
            return werr_set(err, WERR_INVALID, "invalid parameter name "
                            "'%.64s'", key);
        if (!json_is_string(v))
            return werr_set(err, WERR_INVALID, "parameter '%.64s' must be a "
                            "string", key);
    }
    return 0;
}

static int
check_exec_req(const struct cat_exec_req *req, struct werr *err)
{
    size_t n = 0;

    if (check_name("folder", req->folder, err) < 0 ||
        check_name("project", req->project, err) < 0 ||
        check_name("package", req->package, err) < 0 ||
        check_parameters(req->parameters, err) < 0)
        return -1;
    for (; req->workers && req->workers[n]; n++)
        if (check_uuid("worker id", req->workers[n], err) < 0)
            return -1;
    if (n > CAT_MAX_WORKERS)
        return werr_set(err, WERR_LIMIT, "an execution may name at most %d "
                        "workers", CAT_MAX_WORKERS);
    if (req->tag && check_name("tag", req->tag, err) < 0)
        return -1;
    if (req->retries < 0 || req->retries > CAT_MAX_RETRIES)
        return werr_set(err, WERR_INVALID, "retries must be from 0 to %d, "
                        "not %d", CAT_MAX_RETRIES, req->retries);
    if (req->logging_level < 0 || req->logging_level > CAT_MAX_LOGGING_LEVEL)
        return werr_set(err, WERR_INVALID, "logging level must be from 0 to "
                        "%d, not %d", CAT_MAX_LOGGING_LEVEL,
                        req->logging_level);
    if (req->count < 1 || req->count > CAT_MAX_COUNT)
        return werr_set(err, WERR_INVALID, "count must be from 1 to %d, not "
                        "%d", CAT_MAX_COUNT, req->count);
    return 0;
}

int
cat_exec_create(struct cat *c, const struct cat_exec_req *req, int64_t now,
                int64_t *ids, struct werr *err)
{
    if (!req || !ids)
        return werr_set(err, WERR_INTERNAL, "no execution request or no "
                        "room for its ids");
    if (check_exec_req(req, err) < 0)
        return -1;
    return c->ops->exec_create(c, req, now, ids, err);
}

static int
no_execution(int64_t id, struct werr *err)
{
    return werr_set(err, WERR_NOTFOUND, "no execution %lld", (long long)id);
}

int
cat_exec_start(struct cat *c, int64_t id, int64_t now, struct werr *err)
{
    if (id <= 0)
        return no_execution(id, err);
    return c->ops->exec_start(c, id, now, err);
}

json_t *
cat_exec_get(struct cat *c, int64_t id, struct werr *err)
{
    if (id <= 0) {
        no_execution(id, err);
        return NULL;
    }
    return c->ops->exec_get(c, id, err);
}

static int
clamp_limit(int limit)
{
    if (limit <= 0)
        return 100;
    return limit > CAT_MAX_LIST ? CAT_MAX_LIST : limit;
}

json_t *
cat_exec_list(struct cat *c, int status, int64_t after, int limit,
              struct werr *err)
{
    if (status != 0 && !strcmp(cat_status_name(status), "unknown")) {
        werr_set(err, WERR_INVALID, "unknown execution status %d", status);
        return NULL;
    }
    return c->ops->exec_list(c, status, after < 0 ? 0 : after,
                             clamp_limit(limit), err);
}

json_t *
cat_exec_messages(struct cat *c, int64_t id, int64_t after, int limit,
                  struct werr *err)
{
    if (id <= 0) {
        no_execution(id, err);
        return NULL;
    }
    return c->ops->exec_messages(c, id, after < 0 ? 0 : after,
                                 limit <= 0 ? 1000 : clamp_limit(limit), err);
}

json_t *
cat_exec_statistics(struct cat *c, int64_t id, struct werr *err)
{
    if (id <= 0) {
        no_execution(id, err);
        return NULL;
    }
    return c->ops->exec_statistics(c, id, err);
}

int
cat_exec_stop(struct cat *c, int64_t id, int64_t now, int *status,
              struct werr *err)
{
    if (id <= 0)
        return no_execution(id, err);
    return c->ops->exec_stop(c, id, now, status, err);
}

/* ---- workers ---- */

/* Display names and machine names: empty is allowed, otherwise a name. */
static int
check_label(const char *what, const char *s, struct werr *err)
{
    if (s && !is_utf8(s))
        return werr_set(err, WERR_INVALID, "%s is not valid UTF-8", what);
    if (s && *s && !wid_is_name(s))
        return werr_set(err, WERR_INVALID, "invalid %s '%.128s'", what, s);
    return 0;
}

static int
check_worker_reg(const struct cat_worker_reg *reg, struct werr *err)
{
    size_t n = 0;

    if (check_worker_call(reg->id, reg->incarnation, err) < 0 ||
        check_label("worker name", reg->name, err) < 0 ||
        check_label("machine name", reg->machine, err) < 0)
        return -1;
    for (; reg->tags && reg->tags[n]; n++)
        if (check_name("tag", reg->tags[n], err) < 0)
            return -1;
    if (n > CAT_MAX_TAGS)
        return werr_set(err, WERR_LIMIT, "a worker may have at most %d tags",
                        CAT_MAX_TAGS);
    if (reg->max_tasks < 1 || reg->max_tasks > CAT_MAX_TASKS)
        return werr_set(err, WERR_INVALID, "max_tasks must be from 1 to %d, "
                        "not %d", CAT_MAX_TASKS, reg->max_tasks);
    return 0;
}

int
cat_worker_register(struct cat *c, const struct cat_worker_reg *reg,
                    int64_t now, bool *enabled, int *requeued,
                    struct werr *err)
{
    bool en = false;
    int rq = 0;

    if (!reg)
        return werr_set(err, WERR_INVALID, "no worker registration");
    if (check_worker_reg(reg, err) < 0)
        return -1;
    if (c->ops->worker_register(c, reg, now, &en, &rq, err) < 0)
        return -1;
    if (enabled)
        *enabled = en;
    if (requeued)
        *requeued = rq;
    return 0;
}

json_t *
cat_worker_list(struct cat *c, int64_t now, int64_t online_ms,
                struct werr *err)
{
    return c->ops->worker_list(c, now, online_ms, err);
}

json_t *
cat_worker_get(struct cat *c, const char *id, int64_t now, int64_t online_ms,
               struct werr *err)
{
    if (check_uuid("worker id", id, err) < 0)
        return NULL;
    return c->ops->worker_get(c, id, now, online_ms, err);
}

int
cat_worker_set_enabled(struct cat *c, const char *id, bool enabled,
                       struct werr *err)
{
    if (check_uuid("worker id", id, err) < 0)
        return -1;
    return c->ops->worker_set_enabled(c, id, enabled, err);
}

/* ---- tasks ---- */

json_t *
cat_task_claim(struct cat *c, const char *worker_id, const char *incarnation,
               int slots, int64_t now, int64_t lease_ms, struct werr *err)
{
    if (check_worker_call(worker_id, incarnation, err) < 0)
        return NULL;
    if (slots < 0 || slots > CAT_MAX_TASKS) {
        werr_set(err, WERR_INVALID, "slots must be from 0 to %d, not %d",
                 CAT_MAX_TASKS, slots);
        return NULL;
    }
    if (lease_ms <= 0) {
        werr_set(err, WERR_INVALID, "lease must be positive");
        return NULL;
    }
    return c->ops->task_claim(c, worker_id, incarnation, slots, now,
                              lease_ms, err);
}

bool
cat_task_any_pending(struct cat *c)
{
    return c->ops->task_any_pending(c);
}

json_t *
cat_task_heartbeat(struct cat *c, const char *worker_id,
                   const char *incarnation, const int64_t *tasks,
                   size_t ntasks, int64_t now, int64_t lease_ms,
                   struct werr *err)
{
    if (check_worker_call(worker_id, incarnation, err) < 0)
        return NULL;
    if (ntasks > CAT_MAX_TASKS) {
        werr_set(err, WERR_LIMIT, "a heartbeat may list at most %d tasks",
                 CAT_MAX_TASKS);
        return NULL;
    }
    if (ntasks > 0 && !tasks) {
        werr_set(err, WERR_INVALID, "no task list");
        return NULL;
    }
    if (lease_ms <= 0) {
        werr_set(err, WERR_INVALID, "lease must be positive");
        return NULL;
    }
    return c->ops->task_heartbeat(c, worker_id, incarnation, tasks, ntasks,
                                  now, lease_ms, err);
}

#define EVENT_MAX_TEXT (1 << 20)

static int
event_text(json_t *ev, const char *key, bool required, const char **out,
           struct werr *err)
{
    if (wjson_str(ev, key, required, "", out, err) < 0)
        return -1;
    if (strlen(*out) > EVENT_MAX_TEXT)
        return werr_set(err, WERR_LIMIT, "member '%s' is longer than %d "
                        "bytes", key, EVENT_MAX_TEXT);
    return 0;
}

/* Reads one event object (docs/exec.md) into `out`. */
static int
parse_event(json_t *ev, int64_t now, struct cat_event *out, struct werr *err)
{
    json_t *code;

    if (!json_is_object(ev))
        return werr_set(err, WERR_INVALID, "not a JSON object");
    if (wjson_int(ev, "time_ms", false, now, 0, INT64_MAX, &out->time_ms,
                  err) < 0 ||
        wjson_int(ev, "type", true, 0, 0, 1000, &out->type, err) < 0 ||
        event_text(ev, "event", true, &out->event, err) < 0 ||
        event_text(ev, "source", false, &out->source, err) < 0 ||
        event_text(ev, "path", false, &out->path, err) < 0 ||
        event_text(ev, "message", false, &out->message, err) < 0 ||
        wjson_int(ev, "start_ms", false, out->time_ms, 0, INT64_MAX,
                  &out->start_ms, err) < 0 ||
        wjson_int(ev, "result", false, 0, 0, 3, &out->result, err) < 0)
        return -1;
    code = json_object_get(ev, "code");
    out->has_code = code && !json_is_null(code);
    if (out->has_code && wjson_int(ev, "code", true, 0, INT64_MIN, INT64_MAX,
                                   &out->code, err) < 0)
        return -1;
    return 0;
}

int
cat_task_events(struct cat *c, const char *worker_id, const char *incarnation,
                int64_t task_id, int64_t first_seq, json_t *events,
                int64_t now, int64_t *acked, struct werr *err)
{
    struct cat_event *evs = NULL;
    size_t n;
    int64_t ack = 0;
    int rc = -1;

    if (check_worker_call(worker_id, incarnation, err) < 0)
        return -1;
    if (task_id <= 0)
        return werr_set(err, WERR_NOTFOUND, "no task %lld",
                        (long long)task_id);
    if (first_seq < 1 || first_seq > INT64_MAX / 2)
        return werr_set(err, WERR_INVALID, "first_seq must be at least 1");
    if (!json_is_array(events))
        return werr_set(err, WERR_INVALID, "events must be an array");
    n = json_array_size(events);
    if (n > CAT_MAX_EVENTS)
        return werr_set(err, WERR_LIMIT, "a batch may hold at most %d "
                        "events", CAT_MAX_EVENTS);
    evs = xcalloc(n ? n : 1, sizeof(*evs));
    for (size_t i = 0; i < n; i++)
        if (parse_event(json_array_get(events, i), now, &evs[i], err) < 0) {
            werr_prefix(err, "event %lld", (long long)(first_seq + i));
            goto out;
        }
    rc = c->ops->task_events(c, worker_id, incarnation, task_id, first_seq,
                             evs, n, now, &ack, err);
    if (rc == 0 && acked)
        *acked = ack;
out:
    free(evs);
    return rc;
}

int
cat_task_complete(struct cat *c, const char *worker_id,
                  const char *incarnation, int64_t task_id,
                  enum cat_result result, int exit_code, int64_t events_seq,
                  int64_t now, int *status, struct werr *err)
{
    int st = 0;

    if (check_worker_call(worker_id, incarnation, err) < 0)
        return -1;
    if (task_id <= 0)
        return werr_set(err, WERR_NOTFOUND, "no task %lld",
                        (long long)task_id);
    if (result != CAT_RESULT_SUCCEEDED && result != CAT_RESULT_FAILED &&
        result != CAT_RESULT_CANCELED)
        return werr_set(err, WERR_INVALID, "unknown task result %d",
                        (int)result);
    if (events_seq < 0)
        return werr_set(err, WERR_INVALID, "events_seq must not be negative");
    if (c->ops->task_complete(c, worker_id, incarnation, task_id, result,
                              exit_code, events_seq, now, &st, err) < 0)
        return -1;
    if (status)
        *status = st;
    return 0;
}

int
cat_task_reap(struct cat *c, int64_t now, int *requeued, int *ended,
              struct werr *err)
{
    int rq = 0, en = 0;

    if (c->ops->task_reap(c, now, &rq, &en, err) < 0)
        return -1;
    if (requeued)
        *requeued = rq;
    if (ended)
        *ended = en;
    return 0;
}

int64_t
cat_task_next_expiry(struct cat *c)
{
    return c->ops->task_next_expiry(c);
}

int
cat_task_extend_leases(struct cat *c, int64_t now, int64_t lease_ms,
                       struct werr *err)
{
    if (lease_ms <= 0)
        return werr_set(err, WERR_INVALID, "lease must be positive");
    return c->ops->task_extend_leases(c, now, lease_ms, err);
}
