/*
 * The worker agent: one thread, one loop.
 *
 * Each turn, agent_tick() advances everything whose time has come and
 * returns the nearest deadline: registering (again), the next heartbeat, a
 * claim when slots are free, file fetches, each task (spawn, cancel grace,
 * event batches, completion), the shutdown.  Then wk_http_wait() sleeps in
 * curl_multi_poll() on curl's sockets plus the signalfd (SIGTERM, SIGINT,
 * SIGCHLD) and the children's event pipes, until one is ready or the
 * deadline passes, and runs the callbacks of the requests that finished.
 * Nothing blocks: the claim long-poll waits on its own connection while
 * heartbeats and events go on.
 *
 * The master may go away at any time.  Every call that fails for want of
 * it is retried on its own backoff (100 ms doubling to 5 s, jittered)
 * while the children keep running and their events keep going to the
 * spool.  A 409 to a claim or heartbeat means the master does not know
 * this incarnation (a fresh catalog): the worker registers again and
 * carries on; the heartbeat then says which tasks are lost.
 */
#include "worker/worker.h"
#include "worker/worker_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "base/wjson.h"
#include "base/wtime.h"
#include "base/xalloc.h"

/* The loop wakes at least this often, whatever the deadlines say. */
#define IDLE_NS (1000 * WTIME_MS_NS)
#define CALL_TIMEOUT_MS 10000L
/* A claim waits up to claim-wait at the master, plus this for the trip. */
#define CLAIM_SLACK_MS 15000
/* After the last deadline of a shutdown, before giving up on everything. */
#define STOP_SLACK_NS (10000 * WTIME_MS_NS)

static void
lower(int64_t *next, int64_t at)
{
    if (at < *next)
        *next = at;
}

/* ---- backoff ---- */

static uint64_t
xorshift(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

void
wk_backoff_init(struct wk_backoff *b, uint64_t seed)
{
    b->nominal_ms = 0;
    b->rng = seed ? seed : UINT64_C(0x9e3779b97f4a7c15);
}

void
wk_backoff_reset(struct wk_backoff *b)
{
    b->nominal_ms = 0;
}

int64_t
wk_backoff_next(struct wk_backoff *b)
{
    int64_t quarter;

    if (!b->nominal_ms)
        b->nominal_ms = WK_BACKOFF_MIN_MS;
    else if (b->nominal_ms < WK_BACKOFF_MAX_MS / 2)
        b->nominal_ms *= 2;
    else
        b->nominal_ms = WK_BACKOFF_MAX_MS;
    quarter = b->nominal_ms / 4;
    return b->nominal_ms -
           (int64_t)(xorshift(&b->rng) % (uint64_t)(quarter + 1));
}

static int64_t
backoff_at(struct wk_backoff *b)
{
    return wtime_mono_ns() + wk_backoff_next(b) * WTIME_MS_NS;
}

static uint64_t
random_seed(void)
{
    uint64_t s = 0;

    if (getrandom(&s, sizeof(s), 0) != (ssize_t)sizeof(s))
        s = (uint64_t)wtime_mono_ns() ^ (uint64_t)getpid();
    return s;
}

/* ---- helpers for the other files ---- */

json_t *
wk_agent_body(struct wk_agent *a)
{
    json_t *b = json_pack("{s:s, s:s}", "worker_id", a->worker_id,
                          "incarnation", a->incarnation);

    if (!b)
        W_BUG("json_pack failed");
    return b;
}

void
wk_agent_master_state(struct wk_agent *a, const struct wk_resp *r)
{
    bool down = r->outcome == WK_RETRY;

    if (down && !a->master_down)
        wlog(WLOG_WARN, "%s; retrying with backoff, events stay in the "
             "spool meanwhile", r->err.msg);
    else if (down)
        wlog(WLOG_DEBUG, "%s", r->err.msg);
    else if (a->master_down)
        wlog(WLOG_INFO, "the master at '%s' answers again",
             wk_http_url(a->http));
    a->master_down = down;
}

void
wk_agent_recheck(struct wk_agent *a)
{
    a->hb_at = 0;
}

static struct wk_task *
find_task(struct wk_agent *a, int64_t id)
{
    for (size_t i = 0; i < a->ntasks; i++)
        if (a->tasks[i]->id == id && a->tasks[i]->state != WK_TASK_DONE &&
            a->tasks[i]->state != WK_TASK_LOST)
            return a->tasks[i];
    return NULL;
}

static void
reregister(struct wk_agent *a, const struct wk_resp *r)
{
    wlog(WLOG_INFO, "the master does not know this worker's incarnation "
         "(%s); registering again", r->err.msg);
    a->registered = false;
    a->reg_at = 0;
    wk_http_cancel(a->http, a->claim_req);
    a->claim_req = NULL;
}

/* ---- register ---- */

static int
read_register(struct wk_agent *a, json_t *j, struct werr *err)
{
    bool enabled = true;
    int64_t hb = 3000, lease = 15000;

    if (wjson_bool(j, "enabled", true, &enabled, err) < 0 ||
        wjson_int(j, "heartbeat_ms", false, 3000, 50, 3600000, &hb, err) < 0 ||
        wjson_int(j, "lease_ms", false, 15000, 0, INT64_MAX, &lease, err) < 0)
        return werr_prefix(err, "the master's answer to register");
    a->enabled = enabled;
    a->heartbeat_ms = hb;
    a->lease_ms = lease;
    return 0;
}

static void
register_done(void *arg, const struct wk_resp *r)
{
    struct wk_agent *a = arg;
    struct werr err = r->err;

    a->reg_req = NULL;
    wk_agent_master_state(a, r);
    if (r->outcome != WK_OK || read_register(a, r->json, &err) < 0) {
        if (r->outcome != WK_RETRY)
            wlog(WLOG_ERROR, "cannot register: %s", err.msg);
        a->reg_at = backoff_at(&a->reg_bo);
        return;
    }
    wk_backoff_reset(&a->reg_bo);
    a->registered = true;
    a->hb_answered = false;
    a->hb_at = a->claim_at = 0;
    wlog(WLOG_INFO, "registered with '%s' as '%s'%s; heartbeat every %lld "
         "ms", wk_http_url(a->http), a->name,
         a->enabled ? "" : " (disabled: no new tasks)",
         (long long)a->heartbeat_ms);
}

static void
register_tick(struct wk_agent *a, int64_t now, int64_t *next)
{
    json_t *b, *tags;

    if (a->registered || a->reg_req)
        return;
    if (now < a->reg_at) {
        lower(next, a->reg_at);
        return;
    }
    b = wk_agent_body(a);
    tags = json_array();
    for (char **t = a->cfg->tag; t && *t; t++)
        json_array_append_new(tags, json_string(*t));
    json_object_set_new(b, "name", json_string(a->name));
    json_object_set_new(b, "machine", json_string(a->machine));
    json_object_set_new(b, "tags", tags);
    json_object_set_new(b, "max_tasks", json_integer(a->cfg->max_tasks));
    a->reg_req = wk_http_post_json(a->http, "/api/v1/worker/register", b,
                                   CALL_TIMEOUT_MS, register_done, a);
    json_decref(b);
}

/* ---- heartbeat ---- */

static void
read_heartbeat(struct wk_agent *a, json_t *j)
{
    int64_t now = wtime_mono_ns();
    bool enabled = a->enabled;
    json_t *v;
    size_t i;

    if (wjson_bool(j, "enabled", a->enabled, &enabled, NULL) == 0 &&
        enabled != a->enabled) {
        wlog(WLOG_INFO, "the master %s this worker",
             enabled ? "enabled" : "disabled");
        a->enabled = enabled;
    }
    json_array_foreach(json_object_get(j, "cancel"), i, v) {
        struct wk_task *t = find_task(a, json_integer_value(v));

        if (t)
            wk_task_cancel(a, t, now);
    }
    json_array_foreach(json_object_get(j, "lost"), i, v) {
        struct wk_task *t = find_task(a, json_integer_value(v));

        if (t)
            wk_task_lose(a, t);
    }
}

static void
heartbeat_done(void *arg, const struct wk_resp *r)
{
    struct wk_agent *a = arg;

    a->hb_req = NULL;
    wk_agent_master_state(a, r);
    if (r->outcome == WK_CONFLICT) {
        reregister(a, r);
        return;
    }
    if (r->outcome != WK_OK) {
        if (r->outcome == WK_REJECTED)
            wlog(WLOG_ERROR, "heartbeat refused: %s", r->err.msg);
        a->hb_at = backoff_at(&a->hb_bo);
        return;
    }
    wk_backoff_reset(&a->hb_bo);
    a->hb_answered = true;
    read_heartbeat(a, r->json);
}

static void
heartbeat_tick(struct wk_agent *a, int64_t now, int64_t *next)
{
    json_t *b, *ids;

    if (!a->registered || a->hb_req)
        return;
    if (now < a->hb_at) {
        lower(next, a->hb_at);
        return;
    }
    b = wk_agent_body(a);
    ids = json_array();
    for (size_t i = 0; i < a->ntasks; i++)
        if (a->tasks[i]->state != WK_TASK_LOST &&
            a->tasks[i]->state != WK_TASK_DONE)
            json_array_append_new(ids, json_integer(a->tasks[i]->id));
    json_object_set_new(b, "tasks", ids);
    a->hb_req = wk_http_post_json(a->http, "/api/v1/worker/heartbeat", b,
                                  CALL_TIMEOUT_MS, heartbeat_done, a);
    a->hb_at = now + a->heartbeat_ms * WTIME_MS_NS;
    lower(next, a->hb_at);
    json_decref(b);
}

/* ---- claim ---- */

static void
add_task(struct wk_agent *a, json_t *j)
{
    json_t *id = json_object_get(j, "task_id");
    struct wk_task *t;
    struct werr err;

    if (json_is_integer(id) && find_task(a, json_integer_value(id))) {
        wlog(WLOG_WARN, "the master handed out task %lld again while it "
             "runs here; ignoring the second copy",
             (long long)json_integer_value(id));
        return;
    }
    t = wk_task_new(a, j, &err);
    if (!t) {
        wlog(WLOG_ERROR, "%s", err.msg);
        return;
    }
    XGROW(a->tasks, a->ntasks + 1, a->cap);
    a->tasks[a->ntasks++] = t;
}

static void
claim_done(void *arg, const struct wk_resp *r)
{
    struct wk_agent *a = arg;
    json_t *tasks = json_object_get(r->json, "tasks"), *j;
    size_t i;

    a->claim_req = NULL;
    wk_agent_master_state(a, r);
    if (r->outcome == WK_CONFLICT) {
        reregister(a, r);
        return;
    }
    if (r->outcome != WK_OK || !json_is_array(tasks)) {
        if (r->outcome == WK_REJECTED)
            wlog(WLOG_ERROR, "claim refused: %s", r->err.msg);
        else if (r->outcome == WK_OK)
            wlog(WLOG_ERROR, "the master's answer to a claim has no 'tasks' "
                 "list");
        a->claim_at = backoff_at(&a->claim_bo);
        return;
    }
    wk_backoff_reset(&a->claim_bo);
    json_array_foreach(tasks, i, j) add_task(a, j);
}

static void
claim_tick(struct wk_agent *a, int64_t now, int64_t *next)
{
    int64_t slots = a->cfg->max_tasks - (int64_t)a->ntasks;
    json_t *b;

    /* After registering again, the first heartbeat says which of the
     * running tasks are lost before a claim may hand out their ids anew
     * (a master with a fresh catalog counts from 1 again). */
    if (!a->registered || !a->enabled || a->stopping || a->claim_req ||
        slots <= 0 || (a->ntasks && !a->hb_answered))
        return;
    if (now < a->claim_at) {
        lower(next, a->claim_at);
        return;
    }
    b = wk_agent_body(a);
    json_object_set_new(b, "slots", json_integer(slots));
    json_object_set_new(b, "wait_ms", json_integer(a->cfg->claim_wait_ms));
    a->claim_req = wk_http_post_json(a->http, "/api/v1/worker/claim", b,
                                     a->cfg->claim_wait_ms + CLAIM_SLACK_MS,
                                     claim_done, a);
    json_decref(b);
}

/* ---- shutdown ---- */

static void
begin_stop(struct wk_agent *a, int64_t now, int sig)
{
    const struct wk_config *c = a->cfg;

    if (a->stopping) {
        wlog(WLOG_INFO, "%s again: canceling running packages now",
             sigabbrev_np(sig));
        a->stop_deadline = now;
    } else {
        wlog(WLOG_INFO, "SIG%s: stopping; %zu running task%s get%s %lld "
             "ms to finish", sigabbrev_np(sig), a->ntasks,
             a->ntasks == 1 ? "" : "s", a->ntasks == 1 ? "s" : "",
             (long long)c->shutdown_grace_ms);
        a->stopping = true;
        a->stop_deadline = now + c->shutdown_grace_ms * WTIME_MS_NS;
        wk_http_cancel(a->http, a->claim_req);
        a->claim_req = NULL;
    }
    a->hard_deadline = a->stop_deadline +
                       (c->grace_ms + c->flush_timeout_ms) * WTIME_MS_NS +
                       STOP_SLACK_NS;
}

static bool
any_running(struct wk_agent *a)
{
    for (size_t i = 0; i < a->ntasks; i++)
        if (a->tasks[i]->state == WK_TASK_FETCHING ||
            a->tasks[i]->state == WK_TASK_RUNNING ||
            wk_task_has_child(a->tasks[i]))
            return true;
    return false;
}

static void
stop_tick(struct wk_agent *a, int64_t now, int64_t *next)
{
    if (!a->stopping)
        return;
    if (!a->canceled_all && now >= a->stop_deadline) {
        for (size_t i = 0; i < a->ntasks; i++)
            wk_task_cancel(a, a->tasks[i], now);
        a->canceled_all = true;
    } else if (!a->canceled_all) {
        lower(next, a->stop_deadline);
    }
    if (!a->ntasks) {
        a->quit = true;
        return;
    }
    if (!any_running(a)) {
        if (!a->flush_deadline)
            a->flush_deadline = now + a->cfg->flush_timeout_ms * WTIME_MS_NS;
        lower(next, a->flush_deadline);
        a->quit |= now >= a->flush_deadline;
    }
    lower(next, a->hard_deadline);
    a->quit |= now >= a->hard_deadline;
}

/* ---- the loop ---- */

static void
drop_done(struct wk_agent *a)
{
    for (size_t i = 0; i < a->ntasks;) {
        struct wk_task *t = a->tasks[i];

        if (t->state != WK_TASK_DONE) {
            i++;
            continue;
        }
        wk_task_free(a, t);
        memmove(a->tasks + i, a->tasks + i + 1,
                (a->ntasks - i - 1) * sizeof(*a->tasks));
        a->ntasks--;
    }
}

static int64_t
agent_tick(struct wk_agent *a, int64_t now)
{
    int64_t next = now + IDLE_NS;

    /* The order matters: tasks queue the fetches the cache then starts,
     * and a claim counts free slots after finished tasks are gone. */
    drop_done(a);
    register_tick(a, now, &next);
    heartbeat_tick(a, now, &next);
    for (size_t i = 0; i < a->ntasks; i++)
        wk_task_tick(a, a->tasks[i], now, &next);
    wk_cache_tick(a->cache, a->http, now, &next);
    wk_cache_sweep(a->cache);
    drop_done(a);
    claim_tick(a, now, &next);
    stop_tick(a, now, &next);
    return next;
}

static void
read_signals(struct wk_agent *a, int64_t now)
{
    struct signalfd_siginfo si;
    bool reap = false;

    while (read(a->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGCHLD)
            reap = true;
        else
            begin_stop(a, now, (int)si.ssi_signo);
    }
    for (size_t i = 0; reap && i < a->ntasks; i++)
        wk_task_reap(a, a->tasks[i], now);
}

/* Fills `fds` with the signalfd and the open event pipes; `who` gets the
 * task of each pipe.  Returns how many. */
static unsigned
collect_fds(struct wk_agent *a, struct curl_waitfd **fds,
            struct wk_task ***who, size_t *cap)
{
    unsigned n = 1;

    if (*cap < a->ntasks + 1) {
        *cap = a->ntasks + 1;
        *fds = xrealloc(*fds, *cap * sizeof(**fds));
        *who = xrealloc(*who, *cap * sizeof(**who));
    }
    (*fds)[0] = (struct curl_waitfd){a->sigfd, CURL_WAIT_POLLIN, 0};
    for (size_t i = 0; i < a->ntasks; i++) {
        struct wk_task *t = a->tasks[i];

        if (t->pipe_fd < 0 || t->pipe_paused)
            continue;
        (*who)[n] = t;
        (*fds)[n++] = (struct curl_waitfd){t->pipe_fd, CURL_WAIT_POLLIN, 0};
    }
    return n;
}

static int
agent_loop(struct wk_agent *a, struct werr *err)
{
    struct curl_waitfd *fds = NULL;
    struct wk_task **who = NULL;
    size_t cap = 0;
    int rc = 0;

    while (!a->quit) {
        int64_t now = wtime_mono_ns(), next = agent_tick(a, now);
        unsigned n;

        if (a->quit)
            break;
        n = collect_fds(a, &fds, &who, &cap);
        int64_t ms = next <= now ? 0 : (next - now + WTIME_MS_NS - 1) /
                                            WTIME_MS_NS;
        if ((rc = wk_http_wait(a->http, fds, n, (int)ms, err)) < 0)
            break;
        now = wtime_mono_ns();
        /* A callback may have closed a pipe (a lost task): read only those
         * still open under the same descriptor. */
        for (unsigned i = 1; i < n; i++)
            if (fds[i].revents && who[i]->pipe_fd == fds[i].fd)
                wk_task_read(a, who[i], now);
        if (fds[0].revents)
            read_signals(a, now);
    }
    free(fds);
    free(who);
    return rc;
}

/* ---- start and end ---- */

static int
lock_state(struct wk_agent *a, struct werr *err)
{
    char *path = xasprintf("%s/lock", a->state_dir);

    a->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    free(path);
    if (a->lock_fd < 0)
        return werr_set(err, WERR_IO, "cannot open '%s/lock': %s",
                        a->state_dir, strerror(errno));
    if (flock(a->lock_fd, LOCK_EX | LOCK_NB) < 0)
        return werr_set(err, errno == EWOULDBLOCK ? WERR_CONFLICT : WERR_IO,
                        "another worker uses the state folder '%s'",
                        a->state_dir);
    return 0;
}

static int
load_id(struct wk_agent *a, struct werr *err)
{
    char *path = xasprintf("%s/worker-id", a->state_dir), line[64];
    struct wbuf b;
    int rc = -1;

    wbuf_init(&b, 4096);
    if (wfile_read(path, &b, err) == 0) {
        while (b.len && (b.buf[b.len - 1] == '\n' || b.buf[b.len - 1] == ' '))
            b.buf[--b.len] = '\0';
        if (!wid_is_uuid(b.buf)) {
            werr_set(err, WERR_INVALID, "'%s' does not hold a worker id (a "
                     "UUID); remove it to make a new one", path);
            goto out;
        }
        for (int i = 0; i <= WID_UUID_LEN; i++)
            a->worker_id[i] = (char)tolower((unsigned char)b.buf[i]);
    } else if (err->code == WERR_NOTFOUND) {
        wid_uuid(a->worker_id);
        snprintf(line, sizeof(line), "%s\n", a->worker_id);
        if (wfile_write(path, line, strlen(line), 0644, 1, err) < 0)
            goto out;
        wlog(WLOG_INFO, "new worker id %s, kept in '%s'", a->worker_id,
             path);
    } else {
        goto out;
    }
    rc = 0;
out:
    wbuf_release(&b);
    free(path);
    return rc;
}

static int
open_state(struct wk_agent *a, struct werr *err)
{
    char *abs = NULL, *cache;
    int rc = -1;

    if (wfile_mkdirs(a->cfg->state_dir, err) < 0)
        return werr_prefix(err, "--state-dir");
    if (!(abs = realpath(a->cfg->state_dir, NULL)))
        return werr_set(err, WERR_IO, "--state-dir '%s': %s",
                        a->cfg->state_dir, strerror(errno));
    a->state_dir = abs;
    a->tasks_dir = xasprintf("%s/tasks", abs);
    cache = xasprintf("%s/cache", abs);
    if (lock_state(a, err) < 0 || load_id(a, err) < 0)
        goto out;
    /* Folders left by an earlier run belong to attempts the master has
     * requeued by now: their output is of no use to it. */
    if (!a->cfg->keep_task_dirs && wfile_rmtree(a->tasks_dir, err) < 0)
        goto out;
    if (wfile_mkdirs(a->tasks_dir, err) < 0 || wfile_mkdirs(cache, err) < 0)
        goto out;
    a->cache = wk_cache_new(cache, a);
    rc = 0;
out:
    free(cache);
    return rc;
}

static int
setup_signals(struct wk_agent *a, struct werr *err)
{
    sigset_t set;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return werr_set(err, WERR_INTERNAL, "sigprocmask: %s",
                        strerror(errno));
    a->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (a->sigfd < 0)
        return werr_set(err, WERR_INTERNAL, "signalfd: %s", strerror(errno));
    return 0;
}

static void
names(struct wk_agent *a)
{
    if (gethostname(a->machine, sizeof(a->machine) - 1) < 0)
        snprintf(a->machine, sizeof(a->machine), "localhost");
    a->machine[sizeof(a->machine) - 1] = '\0';
    snprintf(a->name, sizeof(a->name), "%s",
             a->cfg->name ? a->cfg->name : a->machine);
}

/* The master would refuse them at every registration: say so at once. */
static int
check_names(struct wk_agent *a, struct werr *err)
{
    static const char rule[] = "1 to 128 bytes, no '/', no control "
                               "characters";

    if (!wid_is_name(a->name))
        return werr_set(err, WERR_INVALID, "--name '%s' is not a valid name "
                        "(%s)", a->name, rule);
    for (char **t = a->cfg->tag; t && *t; t++)
        if (!wid_is_name(*t))
            return werr_set(err, WERR_INVALID, "--tag '%s' is not a valid "
                            "tag (%s)", *t, rule);
    return 0;
}

static int
agent_init(struct wk_agent *a, struct wk_config *cfg, const char *self,
           struct werr *err)
{
    struct wk_tls tls = {cfg->cacert, cfg->cert, cfg->key};

    memset(a, 0, sizeof(*a));
    a->cfg = cfg;
    a->sigfd = a->lock_fd = -1;
    a->self = xstrdup(cfg->exec_path ? cfg->exec_path : self);
    if (access(a->self, X_OK) < 0)
        return werr_set(err, WERR_INVALID, "cannot run tasks with '%s': %s",
                        a->self, strerror(errno));
    names(a);
    if (check_names(a, err) < 0 ||
        !(a->urls = wk_config_masters(cfg->master, err)) ||
        open_state(a, err) < 0)
        return -1;
    wid_uuid(a->incarnation);
    wk_backoff_init(&a->reg_bo, random_seed());
    wk_backoff_init(&a->claim_bo, random_seed());
    wk_backoff_init(&a->hb_bo, random_seed());
    /* Fork the reaper while this process is small and single-threaded. */
    if (wk_reaper_start(err) < 0 || setup_signals(a, err) < 0)
        return -1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    a->http = wk_http_new(a->urls, &tls);
    return 0;
}

/* Kills what still runs, forgets the tasks, and says what was left. */
static void
agent_finish(struct wk_agent *a)
{
    for (size_t i = 0; i < a->ntasks; i++) {
        struct wk_task *t = a->tasks[i];

        if (t->pid > 0) {
            kill(-t->pid, SIGKILL);
            wk_reaper_remove(t->pid);
            while (waitpid(t->pid, NULL, 0) < 0 && errno == EINTR)
                ;
            t->pid = 0;
        }
        if (t->state != WK_TASK_LOST && t->state != WK_TASK_DONE)
            wlog(WLOG_WARN, "%s: its result was not delivered; the master "
                 "requeues it when its lease ends; events kept in '%s'",
                 t->label, t->dir);
        wk_task_free(a, t);
    }
    a->ntasks = 0;
}

static void
agent_release(struct wk_agent *a)
{
    agent_finish(a);
    free(a->tasks);
    wk_cache_free(a->cache, a->http);
    if (a->http) {
        wk_http_free(a->http);
        curl_global_cleanup();
    }
    wk_reaper_stop();
    if (a->sigfd >= 0)
        close(a->sigfd);
    if (a->lock_fd >= 0)
        close(a->lock_fd);
    wk_strv_free(a->urls);
    free(a->self);
    free(a->state_dir);
    free(a->tasks_dir);
}

int
wk_main(int argc, char **argv, const char *self)
{
    struct wk_config cfg;
    struct wk_agent a;
    struct werr err;
    int rc;

    wlog_set_ident("weir-worker");
    rc = wk_config_parse(&cfg, argc, argv, &err);
    if (rc != 0) {
        if (rc < 0)
            wlog(WLOG_ERROR, "%s", err.msg);
        wk_config_release(&cfg);
        return rc < 0 ? werr_exit_code(err.code) : 0;
    }
    wlog_threshold = cfg.log_level;
    rc = agent_init(&a, &cfg, self, &err);
    if (rc == 0) {
        wlog(WLOG_INFO, "worker %s '%s' starting: master '%s', %lld slots, "
             "state in '%s'", a.worker_id, a.name, a.urls[0],
             (long long)cfg.max_tasks, a.state_dir);
        rc = agent_loop(&a, &err);
    }
    agent_release(&a);
    if (rc < 0)
        wlog(WLOG_ERROR, "%s", err.msg);
    else
        wlog(WLOG_INFO, "stopped");
    wk_config_release(&cfg);
    return rc < 0 ? werr_exit_code(err.code) : 0;
}
