/*
 * One task attempt, from the claim to the completion:
 *
 *   FETCHING  the project's files are fetched into the cache, then copied
 *             into the task folder, params.json written, `weir exec` started
 *   RUNNING   its events are read from the pipe into the spool and relayed;
 *             a cancel sends SIGTERM to its process group and SIGKILL after
 *             the grace period
 *   ENDED     the child is reaped and its pipe drained: once the master has
 *             every event, the result is reported (POST /worker/complete)
 *   DONE      reported (or refused): the folder goes, the task is freed
 *   LOST      the master gave the task away: SIGKILL, no result, no events
 *
 * A task that cannot start (bad claim, missing file, exec failure) ends as
 * failed with the reason as an OnError event, so the person looking at the
 * execution sees why.
 *
 * Project files are copied, not hard-linked, so a package that writes to a
 * project file cannot change the cache; the copy is a reflink where the
 * file system can, else copy_file_range.
 */
#include "worker/worker_int.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/wjson.h"
#include "base/wtime.h"
#include "base/xalloc.h"

/* After the child exits, how long its pipe may stay open (a process that
 * left its group still holds it) before the worker stops reading. */
#define EOF_WAIT_NS (2000 * WTIME_MS_NS)
#define SPOOL_RETRY_NS (1000 * WTIME_MS_NS)
#define COMPLETE_TIMEOUT_MS 30000L
#define READS_PER_TURN 16
#define LOG_TAIL 2048
/* Largest project file; it is held in memory while it is checked. */
#define FILE_MAX (INT64_C(1) << 30)

static const char *const result_names[] = {"succeeded", "failed",
                                           "canceled"};
/* The worker's own files in a task folder; no project file may be one. */
static const char *const own_files[] = {"params.json", "exec.log",
                                        "events.jsonl"};

static void
lower(int64_t *next, int64_t at)
{
    if (at < *next)
        *next = at;
}

bool
wk_path_is_safe(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    const char *c, *slash;

    if (!n || n > 1024 || path[0] == '/')
        return false;
    for (c = path; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return false;
    for (c = path;; c = slash + 1) {
        slash = strchr(c, '/');
        size_t len = slash ? (size_t)(slash - c) : strlen(c);

        if (!len || len > 255 || (len == 1 && c[0] == '.') ||
            (len == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        if (!slash)
            return true;
    }
}

static bool
is_own_file(const char *path)
{
    size_t len = strcspn(path, "/");

    for (size_t i = 0; i < sizeof(own_files) / sizeof(own_files[0]); i++)
        if (strlen(own_files[i]) == len && !strncmp(path, own_files[i], len))
            return true;
    return false;
}

/* Checks a SHA-256 in hex and lowers its case into `out`. */
static bool
read_hash(const char *s, char out[WFILE_SHA256_HEX + 1])
{
    if (strlen(s) != WFILE_SHA256_HEX)
        return false;
    for (int i = 0; i < WFILE_SHA256_HEX; i++) {
        char c = s[i];

        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
        out[i] = c;
    }
    out[WFILE_SHA256_HEX] = '\0';
    return true;
}

static int
parse_file(struct wk_file *wf, json_t *f, size_t i, struct werr *err)
{
    const char *path, *hash;

    if (!json_is_object(f))
        return werr_set(err, WERR_INVALID, "file %zu of the claim is not an "
                        "object", i + 1);
    if (wjson_str(f, "path", true, NULL, &path, err) < 0 ||
        wjson_str(f, "hash", true, NULL, &hash, err) < 0 ||
        wjson_int(f, "size", true, 0, 0, FILE_MAX, &wf->size, err) < 0)
        return werr_prefix(err, "file %zu of the claim", i + 1);
    if (!wk_path_is_safe(path))
        return werr_set(err, WERR_INVALID, "file %zu of the claim has an "
                        "unsafe path", i + 1);
    if (is_own_file(path))
        return werr_set(err, WERR_INVALID, "project file '%s' has the name "
                        "of a file the worker keeps in the task folder", path);
    if (!read_hash(hash, wf->hash))
        return werr_set(err, WERR_INVALID, "file '%s': '%s' is not a "
                        "SHA-256", path, hash);
    wf->path = xstrdup(path);
    return 0;
}

static int
parse_files(struct wk_task *t, json_t *j, struct werr *err)
{
    json_t *files = json_object_get(j, "files"), *f;
    size_t i;
    bool have_package = false;

    if (!json_is_array(files))
        return werr_set(err, WERR_INVALID, "the claim has no 'files' list");
    t->files = xcalloc(json_array_size(files) + 1, sizeof(*t->files));
    json_array_foreach(files, i, f) {
        if (parse_file(&t->files[t->nfiles], f, i, err) < 0)
            return -1;
        have_package |= !strcmp(t->files[t->nfiles].path, t->package);
        t->nfiles++;
    }
    if (!have_package)
        return werr_set(err, WERR_INVALID, "package '%s' is not among the "
                        "project's files", t->package);
    return 0;
}

static int
parse(struct wk_task *t, json_t *j, struct werr *err)
{
    const char *pkg;
    json_t *params;
    int64_t v;

    if (wjson_int(j, "execution_id", true, 0, 1, INT64_MAX, &v, err) < 0 ||
        wjson_int(j, "attempt", true, 0, 1, INT32_MAX, &v, err) < 0 ||
        wjson_str(j, "package", true, NULL, &pkg, err) < 0)
        return -1;
    if (!wk_path_is_safe(pkg))
        return werr_set(err, WERR_INVALID, "unsafe package path '%s'", pkg);
    t->package = xstrdup(pkg);
    params = json_object_get(j, "parameters");
    if (params && !json_is_object(params) && !json_is_null(params))
        return werr_set(err, WERR_INVALID, "'parameters' is not an object");
    t->params = json_is_object(params) ? json_incref(params) : json_object();
    return parse_files(t, j, err);
}

static int
write_params(struct wk_task *t, struct werr *err)
{
    char *text = json_dumps(t->params, JSON_COMPACT);
    char *path = xasprintf("%s/params.json", t->dir);
    int rc;

    if (!text)
        W_BUG("json_dumps failed");
    /* 0600: parameter values may be sensitive. */
    rc = wfile_write(path, text, strlen(text), 0600, 0, err);
    free(text);
    free(path);
    return rc;
}

/* Makes a fresh task folder with an empty spool. */
static int
setup_dir(struct wk_agent *a, struct wk_task *t, struct werr *err)
{
    char *spool = xasprintf("%s/events.jsonl", t->dir);
    int rc = -1;

    if (wfile_rmtree(t->dir, err) < 0 || wfile_mkdirs(t->dir, err) < 0)
        goto out;
    if (wk_relay_open(&t->relay, spool, (size_t)a->cfg->batch, err) < 0)
        goto out;
    t->spool_open = true;
    rc = 0;
out:
    free(spool);
    return rc;
}

static void
end_early(struct wk_task *t, enum wk_result result)
{
    t->failed_early = true;
    t->result = result;
    t->exit_code = -1;
    t->state = WK_TASK_ENDED;
}

/* The members every task needs before anything else can be said. */
static struct wk_task *
task_alloc(struct wk_agent *a, json_t *j, int64_t id)
{
    struct wk_task *t = xcalloc(1, sizeof(*t));

    t->agent = a;
    t->id = id;
    t->pipe_fd = -1;
    t->relay.fd = -1;
    wk_lines_init(&t->lines);
    wk_backoff_init(&t->events_bo, (uint64_t)id * 7919u + 1);
    wk_backoff_init(&t->complete_bo, (uint64_t)id * 104729u + 1);
    if (wjson_int(j, "execution_id", false, 0, 0, INT64_MAX,
                  &t->execution_id, NULL) < 0)
        t->execution_id = 0;
    if (wjson_int(j, "attempt", false, 1, 1, INT32_MAX, &t->attempt,
                  NULL) < 0)
        t->attempt = 1;
    t->label = xasprintf("task %lld (execution %lld)", (long long)id,
                         (long long)t->execution_id);
    t->dir = xasprintf("%s/%lld-%lld", a->tasks_dir, (long long)id,
                       (long long)t->attempt);
    return t;
}

struct wk_task *
wk_task_new(struct wk_agent *a, json_t *j, struct werr *err)
{
    struct wk_task *t;
    struct werr e;
    int64_t id;

    if (!json_is_object(j) ||
        wjson_int(j, "task_id", true, 0, 1, INT64_MAX, &id, err) < 0) {
        werr_prefix(err, "a task in the claim");
        return NULL;
    }
    t = task_alloc(a, j, id);
    if (setup_dir(a, t, &e) < 0) {
        wlog(WLOG_ERROR, "%s: %s", t->label, e.msg);
        end_early(t, WK_FAILED);
        return t;
    }
    if (parse(t, j, &e) < 0 || write_params(t, &e) < 0) {
        wk_task_note(a, t, 120, "the worker cannot run this task: %s",
                     e.msg);
        end_early(t, WK_FAILED);
        return t;
    }
    t->state = WK_TASK_FETCHING;
    t->cache_gen = wk_cache_generation(a->cache) - 1;
    wlog(WLOG_INFO, "%s: claimed '%s', attempt %lld, %zu file%s", t->label,
         t->package, (long long)t->attempt, t->nfiles,
         t->nfiles == 1 ? "" : "s");
    return t;
}

static void
close_pipe(struct wk_task *t)
{
    if (t->pipe_fd >= 0)
        close(t->pipe_fd);
    t->pipe_fd = -1;
}

void
wk_task_free(struct wk_agent *a, struct wk_task *t)
{
    if (!t)
        return;
    W_ASSERT(t->pid <= 0);
    wk_http_cancel(a->http, t->events_req);
    wk_http_cancel(a->http, t->complete_req);
    close_pipe(t);
    wk_relay_close(&t->relay);
    wk_lines_release(&t->lines);
    for (size_t i = 0; i < t->nfiles; i++)
        free(t->files[i].path);
    free(t->files);
    json_decref(t->params);
    free(t->package);
    free(t->label);
    free(t->dir);
    free(t);
}

/* The task is over: its folder goes now (unless it is to be kept), so a
 * later task with the same folder name cannot lose its own to it. */
static void
task_done(struct wk_agent *a, struct wk_task *t)
{
    struct werr err;

    t->state = WK_TASK_DONE;
    wk_relay_close(&t->relay);
    if (a->cfg->keep_task_dirs || t->undeliverable)
        return;
    if (wfile_rmtree(t->dir, &err) < 0)
        wlog(WLOG_WARN, "%s: %s", t->label, err.msg);
}

void
wk_task_note(struct wk_agent *a, struct wk_task *t, int type,
             const char *fmt, ...)
{
    struct wbuf text, ev;
    struct werr err;
    va_list ap;

    wbuf_init(&text, 8192);
    wbuf_init(&ev, WBUF_NOLIMIT);
    va_start(ap, fmt);
    wbuf_vaddf(&text, NULL, fmt, ap);
    va_end(ap);
    /* The log gets the first line; the event gets all of it. */
    wlog(type >= 110 ? WLOG_WARN : WLOG_INFO, "%s: %.*s", t->label,
         (int)strcspn(text.buf, "\n"), text.buf);
    if (t->spool_open) {
        wk_event_make(type, text.buf, wtime_real_ms(), &ev);
        if (wk_relay_append(&t->relay, ev.buf, ev.len, wtime_mono_ns(),
                            &err) < 0)
            wlog(WLOG_ERROR, "%s: %s", t->label, err.msg);
    }
    wbuf_release(&text);
    wbuf_release(&ev);
}

/* ---- files ---- */

static int
copy_data(int in, int out)
{
    char buf[65536];
    ssize_t n;

    if (ioctl(out, FICLONE, in) == 0)
        return 0;
    while ((n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0)) > 0)
        ;
    if (n == 0)
        return 0;
    if (errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
        errno != EOPNOTSUPP)
        return -1;
    if (lseek(in, 0, SEEK_SET) < 0 || lseek(out, 0, SEEK_SET) < 0 ||
        ftruncate(out, 0) < 0)
        return -1;
    while ((n = read(in, buf, sizeof(buf))) > 0)
        for (ssize_t w, done = 0; done < n; done += w)
            if ((w = write(out, buf + done, (size_t)(n - done))) < 0)
                return -1;
    return n < 0 ? -1 : 0;
}

static int
copy_file(const char *src, const char *dst, struct werr *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;

    if (in < 0) {
        werr_set(err, WERR_IO, "cannot open '%s': %s", src, strerror(errno));
        goto out;
    }
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        werr_set(err, WERR_IO, "cannot create '%s': %s", dst,
                 errno == EEXIST ? "the project lists it twice"
                                 : strerror(errno));
        goto out;
    }
    if (copy_data(in, out) < 0) {
        werr_set(err, WERR_IO, "cannot copy to '%s': %s", dst,
                 strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return rc;
}

static int
materialize(struct wk_agent *a, struct wk_task *t, struct werr *err)
{
    int rc = 0;

    for (size_t i = 0; i < t->nfiles && rc == 0; i++) {
        char *src = wk_cache_path(a->cache, t->files[i].hash);
        char *dst = xasprintf("%s/%s", t->dir, t->files[i].path);
        char *slash = strrchr(dst, '/');

        *slash = '\0';
        rc = wfile_mkdirs(dst, err);
        *slash = '/';
        if (rc == 0)
            rc = copy_file(src, dst, err);
        free(src);
        free(dst);
    }
    return rc;
}

/* ---- the child ---- */

static int
start_child(struct wk_agent *a, struct wk_task *t, struct werr *err)
{
    char *log = xasprintf("%s/exec.log", t->dir);
    char *pkg = xasprintf("%s/%s", t->dir, t->package);
    char id[32];
    /* --execution-id: the package's System::ServerExecutionID. */
    char *argv[] = {a->self,       "exec",        "--events-fd",
                    "3",           "--params-file", "params.json",
                    "--project-dir", t->dir,      "--execution-id",
                    id,            pkg,           NULL};
    struct wk_spawn s = {a->self, argv, t->dir, -1, -1,
                         a->cfg->task_memory_mb << 20, a->cfg->task_nofile};
    int p[2] = {-1, -1}, rc = -1;
    pid_t pid;

    snprintf(id, sizeof(id), "%" PRId64, t->execution_id);
    if (pipe2(p, O_CLOEXEC) < 0) {
        werr_set(err, WERR_IO, "cannot make a pipe: %s", strerror(errno));
        goto out;
    }
    s.events_fd = p[1];
    s.out_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
                    0644);
    if (s.out_fd < 0) {
        werr_set(err, WERR_IO, "cannot create '%s': %s", log,
                 strerror(errno));
        goto out;
    }
    if ((pid = wk_spawn_start(&s, err)) < 0)
        goto out;
    wk_reaper_add(pid);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    t->pipe_fd = p[0];
    p[0] = -1;
    t->pid = pid;
    t->state = WK_TASK_RUNNING;
    wlog(WLOG_INFO, "%s: running '%s' (pid %d)", t->label, t->package,
         (int)pid);
    rc = 0;
out:
    if (p[0] >= 0)
        close(p[0]);
    if (p[1] >= 0)
        close(p[1]);
    if (s.out_fd >= 0)
        close(s.out_fd);
    free(log);
    free(pkg);
    return rc;
}

static void
tick_fetching(struct wk_agent *a, struct wk_task *t)
{
    unsigned gen = wk_cache_generation(a->cache);
    bool waiting = false;
    struct werr err;

    if (t->cancel) {
        wk_task_note(a, t, 70, "canceled before it started");
        end_early(t, WK_CANCELED);
        return;
    }
    if (t->cache_gen == gen)
        return;
    t->cache_gen = gen;
    for (size_t i = 0; i < t->nfiles; i++) {
        struct wk_file *f = &t->files[i];

        switch (wk_cache_want(a->cache, f->hash, f->size, &err)) {
        case WK_HAVE:
            break;
        case WK_MISSING:
            waiting = true;
            break;
        case WK_UNAVAILABLE:
            wk_task_note(a, t, 120, "project file '%s': %s", f->path,
                         err.msg);
            end_early(t, WK_FAILED);
            return;
        }
    }
    if (waiting)
        return;
    if (materialize(a, t, &err) < 0 || start_child(a, t, &err) < 0) {
        wk_task_note(a, t, 120, "the worker cannot run the package: %s",
                     err.msg);
        end_early(t, WK_FAILED);
    }
}

static bool
blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

/* Moves whole lines from the read buffer to the spool. */
static void
drain(struct wk_task *t, int64_t now)
{
    struct wbuf ev;
    struct werr err;
    const char *line;
    size_t len;
    bool cut;

    wbuf_init(&ev, WBUF_NOLIMIT);
    t->pipe_paused = false;
    while (wk_lines_peek(&t->lines, t->pipe_fd < 0, &line, &len, &cut)) {
        if (!blank(line, len)) {
            wbuf_reset(&ev);
            wk_event_from_line(line, len, cut, wtime_real_ms(), &ev);
            if (wk_relay_append(&t->relay, ev.buf, ev.len, now, &err) < 0) {
                wlog(WLOG_ERROR, "%s: %s; trying again in a second",
                     t->label, err.msg);
                t->pipe_paused = true;
                t->resume_at = now + SPOOL_RETRY_NS;
                break;
            }
        }
        wk_lines_consume(&t->lines);
    }
    wbuf_release(&ev);
}

void
wk_task_read(struct wk_agent *a, struct wk_task *t, int64_t now)
{
    char buf[65536];

    for (int i = 0; i < READS_PER_TURN && t->pipe_fd >= 0; i++) {
        ssize_t n;

        if (t->pipe_paused)
            return;
        n = read(t->pipe_fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n > 0) {
            wk_lines_feed(&t->lines, buf, (size_t)n);
        } else {
            if (n < 0)
                wlog(WLOG_ERROR, "%s: cannot read its events: %s", t->label,
                     strerror(errno));
            close_pipe(t);
        }
        drain(t, now);
    }
}

static void
record_exit(struct wk_task *t, int status)
{
    if (WIFSIGNALED(status)) {
        t->signal = WTERMSIG(status);
        t->exit_code = 128 + t->signal;
    } else {
        t->exit_code = WEXITSTATUS(status);
    }
}

bool
wk_task_reap(struct wk_agent *a, struct wk_task *t, int64_t now)
{
    siginfo_t si;
    int status = 0;

    if (t->pid <= 0)
        return false;
    memset(&si, 0, sizeof(si));
    if (waitid(P_PID, (id_t)t->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
        if (errno != ECHILD)
            return false;
        wlog(WLOG_ERROR, "%s: its process %d vanished", t->label,
             (int)t->pid);
        status = 255 << 8;
    } else if (si.si_pid == 0) {
        return false;
    } else {
        /* The leader is a zombie, so its group id is not reused yet: end
         * whatever the package left running in its group. */
        kill(-t->pid, SIGKILL);
        wk_reaper_remove(t->pid);
        while (waitpid(t->pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    record_exit(t, status);
    t->pid = 0;
    t->kill_at = 0;
    t->eof_deadline = now + EOF_WAIT_NS;
    return true;
}

/* The end of exec.log, for a child that failed before it could report. */
static void
note_log_tail(struct wk_agent *a, struct wk_task *t)
{
    char *path = xasprintf("%s/exec.log", t->dir), tail[LOG_TAIL + 1];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
    ssize_t n = 0;

    if (size > 0) {
        off_t from = size > LOG_TAIL ? size - LOG_TAIL : 0;

        n = pread(fd, tail, (size_t)(size - from), from);
    }
    tail[n > 0 ? n : 0] = '\0';
    if (fd >= 0)
        close(fd);
    free(path);
    wk_task_note(a, t, 120, "weir exec exited with code %d%s%s", t->exit_code,
                 n > 0 ? "; the end of its output:\n" : " and no output",
                 tail);
}

static void
finish_run(struct wk_agent *a, struct wk_task *t)
{
    if (t->signal && !t->cancel)
        wk_task_note(a, t, 120, "weir exec was killed by signal %d (%s)",
                     t->signal, strsignal(t->signal));
    else if (!t->signal && t->exit_code != 0 && t->exit_code != 1 &&
             t->exit_code != 3)
        note_log_tail(a, t);
    if (!t->signal && t->exit_code == 0)
        t->result = WK_SUCCEEDED;
    else if (t->cancel || t->exit_code == 3)
        t->result = WK_CANCELED;
    else
        t->result = WK_FAILED;
    t->state = WK_TASK_ENDED;
    wlog(WLOG_INFO, "%s: %s (exit code %d, %lld events)", t->label,
         result_names[t->result], t->exit_code, (long long)t->relay.seq);
}

static void
tick_running(struct wk_agent *a, struct wk_task *t, int64_t now,
             int64_t *next)
{
    if (t->kill_at && t->pid > 0 && now >= t->kill_at) {
        kill(-t->pid, SIGKILL);
        t->kill_at = 0;
        wk_task_note(a, t, 110, "the package did not stop within %lld ms "
                     "of SIGTERM; its processes were killed",
                     (long long)a->cfg->grace_ms);
    } else if (t->kill_at) {
        lower(next, t->kill_at);
    }
    if (t->pipe_paused && now >= t->resume_at)
        drain(t, now);
    if (t->pipe_paused)
        lower(next, t->resume_at);
    if (t->pipe_fd >= 0 && t->pid == 0) {
        if (now < t->eof_deadline) {
            lower(next, t->eof_deadline);
        } else {
            wk_task_read(a, t, now);
            close_pipe(t);
            drain(t, now);
            wlog(WLOG_WARN, "%s: a process outside the package's group "
                 "keeps its events pipe open; no longer reading it",
                 t->label);
        }
    }
    if (t->pid == 0 && t->pipe_fd < 0 && !t->pipe_paused)
        finish_run(a, t);
}

/* ---- completion ---- */

static void
complete_done(void *arg, const struct wk_resp *r)
{
    struct wk_task *t = arg;
    struct wk_agent *a = t->agent;
    struct werr err;

    t->complete_req = NULL;
    wk_agent_master_state(a, r);
    switch (r->outcome) {
    case WK_OK:
        wlog(WLOG_INFO, "%s: reported %s", t->label,
             result_names[t->result]);
        task_done(a, t);
        return;
    case WK_CONFLICT:
        /* Either the task is no longer ours, or the master lacks events it
         * acknowledged: send them all once more (none is stored twice) and
         * try again once; then give up. */
        if (t->complete_conflicts++ == 0 && t->relay.seq > 0 &&
            wk_relay_ack(&t->relay, 0, &err) == 0) {
            wlog(WLOG_INFO, "%s: %s; sending its events again", t->label,
                 r->err.msg);
            return;
        }
        wlog(WLOG_WARN, "%s: the master refused the result: %s; dropping "
             "the task", t->label, r->err.msg);
        task_done(a, t);
        return;
    case WK_REJECTED:
        wlog(WLOG_ERROR, "%s: the master refused the result: %s; keeping "
             "'%s'", t->label, r->err.msg, t->dir);
        t->undeliverable = true;
        task_done(a, t);
        return;
    case WK_RETRY:
        t->complete_at = wtime_mono_ns() +
                         wk_backoff_next(&t->complete_bo) * WTIME_MS_NS;
        return;
    }
}

static void
send_complete(struct wk_agent *a, struct wk_task *t)
{
    json_t *b = wk_agent_body(a);

    json_object_set_new(b, "task_id", json_integer(t->id));
    json_object_set_new(b, "result", json_string(result_names[t->result]));
    json_object_set_new(b, "exit_code", json_integer(t->exit_code));
    json_object_set_new(b, "events_seq", json_integer(t->relay.seq));
    t->complete_req = wk_http_post_json(a->http, "/api/v1/worker/complete",
                                        b, COMPLETE_TIMEOUT_MS,
                                        complete_done, t);
    json_decref(b);
}

static void
tick_ended(struct wk_agent *a, struct wk_task *t, int64_t now, int64_t *next)
{
    if (t->complete_req || t->events_req || !a->registered ||
        !wk_relay_all_acked(&t->relay))
        return;
    if (now < t->complete_at) {
        lower(next, t->complete_at);
        return;
    }
    send_complete(a, t);
}

void
wk_task_tick(struct wk_agent *a, struct wk_task *t, int64_t now,
             int64_t *next)
{
    if (t->state == WK_TASK_FETCHING)
        tick_fetching(a, t);
    if (t->state == WK_TASK_RUNNING)
        tick_running(a, t, now, next);
    if (t->state == WK_TASK_RUNNING || t->state == WK_TASK_ENDED)
        wk_relay_pump(a, t, now, next);
    if (t->state == WK_TASK_ENDED)
        tick_ended(a, t, now, next);
    if (t->state == WK_TASK_LOST && t->pid <= 0)
        task_done(a, t);
}

void
wk_task_cancel(struct wk_agent *a, struct wk_task *t, int64_t now)
{
    if (t->cancel)
        return;
    if (t->state == WK_TASK_FETCHING) {
        t->cancel = true;
        return;
    }
    if (t->state != WK_TASK_RUNNING || t->pid <= 0)
        return;
    t->cancel = true;
    wlog(WLOG_INFO, "%s: canceling: SIGTERM now, SIGKILL in %lld ms",
         t->label, (long long)a->cfg->grace_ms);
    kill(-t->pid, SIGTERM);
    /* With no grace period, the next tick sends SIGKILL. */
    t->kill_at = now + a->cfg->grace_ms * WTIME_MS_NS;
    if (!t->kill_at)
        t->kill_at = 1;
}

/* Renames the folder of a lost task, whose processes may take a moment to
 * die, so that the master may hand out a task with the same folder name. */
static void
move_aside(struct wk_task *t)
{
    char *lost = xasprintf("%s.lost", t->dir);
    struct werr err;

    if (wfile_rmtree(lost, &err) < 0 || rename(t->dir, lost) < 0) {
        wlog(WLOG_WARN, "%s: cannot rename '%s': %s", t->label, t->dir,
             strerror(errno));
        free(lost);
        return;
    }
    free(t->dir);
    t->dir = lost;
}

void
wk_task_lose(struct wk_agent *a, struct wk_task *t)
{
    if (t->state == WK_TASK_LOST || t->state == WK_TASK_DONE)
        return;
    wlog(WLOG_WARN, "%s: the master no longer holds this task; %s", t->label,
         t->pid > 0 ? "killing it" : "dropping it");
    if (t->pid > 0)
        kill(-t->pid, SIGKILL);
    close_pipe(t);
    wk_http_cancel(a->http, t->events_req);
    wk_http_cancel(a->http, t->complete_req);
    t->events_req = t->complete_req = NULL;
    t->state = WK_TASK_LOST;
    move_aside(t);
}
