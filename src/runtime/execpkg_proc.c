/*
 * ExecuteOutOfProcess: an Execute Package task's child package in a
 * `weir exec` process of its own, as SSIS runs it in a DtsDebugHost.
 *
 * The task has set the child up in this process as for an in-process run
 * (loaded, parameters bound and converted, validated), so a problem is
 * reported before any process starts.  Then it starts the same binary
 * (/proc/self/exe; WEIR_EXEC_BINARY names another, for tests) as
 * `weir exec --events-fd 3 --params-file /dev/fd/4 ... CHILD`: the bound
 * parameter values, the project parameters' values and the project
 * connection managers' overrides go in a JSON object in a memfd, so no
 * value (sensitive ones included) appears in a process list.  The child
 * runs in this process group (a worker's cancel reaches it), with the
 * default signal dispositions and mask, /dev/null as stdin and stdout,
 * and our stderr.
 *
 * Its JSON-lines events are read back as they come and raised again here
 * as the child's: into the stream under the task's path, and to the
 * handlers from the task up, with System::SourceName naming the child's
 * executable (found by path in the child as loaded here); its errors
 * count in the task and above.  The child's own handlers run in the
 * child; with --child-process it sends each event they let go on
 * (System::Propagate) as a {"raise": EVENT} line, which runs the
 * handlers here from the task up, as an in-process child's would.
 *
 * The wait is one poll(2) over the events pipe, a pidfd of the child and
 * the run's cancel descriptor, without the run lock.  On cancel the child
 * gets SIGTERM (it stops its own work and reports it), then SIGKILL after
 * the run's grace period.  Nesting across processes is bounded by
 * WEIR_EXEC_PACKAGE_DEPTH, which each child gets one more of.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "base/wtime.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "runtime/execpkg.h"
#include "runtime/vars.h"

extern char **environ;

/* Packages running packages across processes, as RT_MAX_PACKAGE_DEPTH
 * in process. */
#define MAX_DEPTH 16
#define DEPTH_ENV "WEIR_EXEC_PACKAGE_DEPTH"
/* An event line longer than this is dropped (with a warning). */
#define LINE_MAX_BYTES (1u << 20)
/* How often a wait without a pidfd looks for the child's end. */
#define REAP_TICK_MS 20

struct relay {
    struct rt_run *run;
    const struct pkg_executable *e;
    const struct rt_child_proc *cp;
    pid_t pid;
    int pidfd; /* -1: none, poll every REAP_TICK_MS */
    int fd;    /* the events pipe, -1 at its end */
    int status;
    bool exited, stopping, killed, skipping;
    int64_t kill_ns;
    int errors;
    struct wbuf line;
};

/* ---- the command line ---- */

static char *
self_binary(void)
{
    const char *env = getenv("WEIR_EXEC_BINARY");
    char buf[PATH_MAX];
    ssize_t n;

    if (env && *env)
        return xstrdup(env);
    if ((n = readlink("/proc/self/exe", buf, sizeof(buf) - 1)) <= 0)
        return NULL;
    buf[n] = '\0';
    return xstrdup(buf);
}

/* The nesting of this process's package (0 at the top). */
static int
depth_here(const struct rt_run *run)
{
    const char *env = getenv(DEPTH_ENV);
    int d = env ? (int)strtol(env, NULL, 10) : 0;

    for (; run; run = run->parent)
        d++;
    return d < 0 ? 0 : d;
}

/* The child's environment: ours, with its depth. */
static char **
child_env(int depth, char **owned)
{
    size_t n = 0, k = 0;
    char **env;

    while (environ[n])
        n++;
    env = xcalloc(n + 2, sizeof(*env));
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], DEPTH_ENV "=", sizeof(DEPTH_ENV)))
            env[k++] = environ[i];
    *owned = xasprintf(DEPTH_ENV "=%d", depth);
    env[k] = *owned;
    return env;
}

/* The values the child gets, as a --params-file object. */
static char *
values_json(const struct rt_child_proc *cp, struct werr *err)
{
    json_t *o = json_object(), *v;
    char *text = NULL, *key;

    for (size_t i = 0; i < cp->params->n; i++) {
        const struct rt_param *p = &cp->params->v[i];
        if (!p->set || !p->value)
            continue;
        if (!(v = json_string(p->value))) {
            werr_set(err, WERR_INVALID,
                     "parameter '%s' holds text that is not UTF-8",
                     p->def->name);
            goto out;
        }
        key = xasprintf("$%s::%s", p->project ? "Project" : "Package",
                        p->def->name);
        json_object_set_new(o, key, v);
        free(key);
    }
    for (size_t i = 0; i < cp->conns->n; i++) {
        const struct rt_conn *c = &cp->conns->v[i];
        const char *s = c->odbc ? c->odbc : c->written;
        if (!c->project || !c->overridden || !s || !(v = json_string(s)))
            continue;
        key = xasprintf("CM.%s.ConnectionString", c->name);
        json_object_set_new(o, key, v);
        free(key);
    }
    text = json_dumps(o, JSON_COMPACT);
out:
    json_decref(o);
    return text;
}

/* A memfd holding `text`, at or above descriptor 5 (so that moving the
 * child's descriptors to 3 and 4 cannot clobber it); -1 with `err`. */
static int
memfd_with(const char *text, struct werr *err)
{
    int fd = memfd_create("weir-params", MFD_CLOEXEC), high;
    size_t len = strlen(text), off = 0;

    if (fd < 0)
        return werr_set(err, WERR_IO, "memfd_create: %s", strerror(errno));
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            return werr_set(err, WERR_IO, "memfd: %s", strerror(errno));
        }
        off += (size_t)n;
    }
    high = fcntl(fd, F_DUPFD_CLOEXEC, 5);
    close(fd);
    if (high < 0)
        return werr_set(err, WERR_IO, "fcntl: %s", strerror(errno));
    return high;
}

/* ---- starting ---- */

static int
spawn(struct relay *r, char **argv, char **env, int events_w, int params)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, defaults;
    int rc;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, events_w, 3);
    posix_spawn_file_actions_adddup2(&fa, params, 4);
    posix_spawnattr_init(&at);
    sigemptyset(&none);
    sigfillset(&defaults);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &defaults);
    posix_spawnattr_setflags(&at,
                             POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    rc = posix_spawn(&r->pid, argv[0], &fa, &at, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return rc;
}

/* Starts the child process; -1 with `err`. */
static int
start(struct relay *r, struct werr *err)
{
    const struct rt_child_proc *cp = r->cp;
    char *self = self_binary(), *json = NULL, *depth_var = NULL;
    char id[32], **env = NULL, **argv;
    size_t nsets = 0;
    int argc = 0, p[2] = {-1, -1}, params = -1, depth = depth_here(r->run);
    int rc = -1, high;

    while (cp->sets && cp->sets[nsets])
        nsets++;
    argv = xcalloc(16 + 2 * nsets, sizeof(char *));
    argv[argc++] = self;
    argv[argc++] = "exec";
    argv[argc++] = "--events-fd";
    argv[argc++] = "3";
    argv[argc++] = "--params-file";
    argv[argc++] = "/dev/fd/4";
    argv[argc++] = "--execution-id";
    argv[argc++] = id;
    argv[argc++] = "--child-process";
    for (size_t i = 0; i < nsets; i++) {
        argv[argc++] = "--set";
        argv[argc++] = cp->sets[i];
    }

    snprintf(
        id, sizeof(id), "%lld",
        (long long)(r->run->vars ? r->run->vars->sys.server_execution_id : 0));
    if (cp->project_dir) {
        argv[argc++] = "--project-dir";
        argv[argc++] = (char *)cp->project_dir;
    }
    if (cp->package) {
        argv[argc++] = "--package";
        argv[argc++] = (char *)cp->package;
    }
    argv[argc++] = (char *)cp->target;
    if (!self) {
        werr_set(err, WERR_IO, "cannot find the weir binary: %s",
                 strerror(errno));
        goto out;
    }
    if (depth >= MAX_DEPTH) {
        werr_set(err, WERR_LIMIT,
                 "packages would run %d deep across processes; at most %d "
                 "are allowed",
                 depth + 1, MAX_DEPTH);
        goto out;
    }
    if (!(json = values_json(cp, err)) || (params = memfd_with(json, err)) < 0)
        goto out;
    if (pipe2(p, O_CLOEXEC) < 0 ||
        (high = fcntl(p[1], F_DUPFD_CLOEXEC, 5)) < 0) {
        werr_set(err, WERR_IO, "cannot make a pipe: %s", strerror(errno));
        goto out;
    }
    close(p[1]);
    p[1] = high;
    env = child_env(depth + 1, &depth_var);
    if ((rc = spawn(r, argv, env, p[1], params))) {
        werr_set(err, WERR_IO, "cannot start '%s': %s", self, strerror(rc));
        rc = -1;
        goto out;
    }
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    r->fd = p[0];
    p[0] = -1;
    r->pidfd = pidfd_open(r->pid, 0);
out:
    for (int i = 0; i < 2; i++)
        if (p[i] >= 0)
            close(p[i]);
    if (params >= 0)
        close(params);
    free(env);
    free(depth_var);
    free(json);
    free(self);
    free(argv);
    return rc;
}

/* ---- relaying events ---- */

static const struct pkg_executable *
find_path(const struct pkg_executable *e, const char *path, size_t len)
{
    const struct pkg_executable *hit;

    if (strlen(e->path) == len && !strncmp(e->path, path, len))
        return e;
    for (size_t i = 0; i < e->nchildren; i++)
        if ((hit = find_path(e->children[i], path, len)))
            return hit;
    for (size_t i = 0; i < e->nhandlers; i++)
        if ((hit = find_path(e->handlers[i].container, path, len)))
            return hit;
    return NULL;
}

/* The child's executable an event's path names: the longest prefix of it
 * that is one (a grandchild's event names the task that ran it). */
static const struct pkg_executable *
source_of(const struct pkg *p, const char *path)
{
    const struct pkg_executable *hit;
    size_t len = strlen(path);

    while (len) {
        if ((hit = find_path(pkg_root(p), path, len)))
            return hit;
        while (len && path[len - 1] != '\\')
            len--;
        if (len)
            len--;
    }
    return pkg_root(p);
}

static bool
kind_of(const char *name, enum rt_event_kind *kind)
{
    for (int k = RT_EV_PRE_VALIDATE; k <= RT_EV_TASK_FAILED; k++)
        if (!strcmp(rt_event_name((enum rt_event_kind)k), name)) {
            *kind = (enum rt_event_kind)k;
            return true;
        }
    return false;
}

static const char *
member(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

/* The event errors count for, in the task and every container above it,
 * package by package. */
static void
count_error(struct relay *r)
{
    for (const struct pkg_executable *x = r->e; x; x = x->parent)
        r->run->state[x->index].errors++;
    if (r->run->parent)
        rt_handlers_count_error(r->run);
    r->errors++;
}

/* An event the child's handlers let go on: to the handlers here, from
 * the task up, with System::SourceName naming the child's executable. */
static void
raise_here(struct relay *r, json_t *o)
{
    rt_handlers_raise(
        r->run, r->e,
        &(struct rt_hevent){
            .event = member(o, "raise"),
            .code = (int)json_integer_value(json_object_get(o, "code")),
            .message = member(o, "message"),
            .percent = (int)json_integer_value(json_object_get(o, "percent")),
            .source = source_of(r->cp->pkg, member(o, "path"))});
}

/* Writes one event of the child's into the stream here, under the task's
 * path (the lock held); errors are repeated on our stderr here, with
 * that path, not in the child. */
static void
emit_here(struct relay *r, json_t *o, enum rt_event_kind kind)
{
    struct rt_events evs = *r->cp->events;
    struct rt_event ev = {.kind = kind};

    ev.source = member(o, "source");
    ev.path = member(o, "path");
    ev.message = member(o, "message");
    ev.result =
        (enum rt_result)json_integer_value(json_object_get(o, "result"));
    ev.start_ms = json_integer_value(json_object_get(o, "start_ms"));
    ev.code = (int)json_integer_value(json_object_get(o, "code"));
    if (*member(o, "package"))
        evs.package = member(o, "package");
    rt_events_emit(&evs, &ev);
    r->run->events->broken |= evs.broken;
    if (ev.kind == RT_EV_ERROR)
        count_error(r);
}

/* Handles one line of the child's (the lock held): an event for the
 * stream, or one for the handlers here. */
static void
relay_line(struct relay *r, const char *text, size_t len)
{
    json_error_t je;
    json_t *o = json_loadb(text, len, 0, &je);
    enum rt_event_kind kind;

    if (o && json_is_object(o) && *member(o, "raise"))
        raise_here(r, o);
    else if (o && json_is_object(o) && kind_of(member(o, "event"), &kind))
        emit_here(r, o, kind);
    else
        rt_emit(r->run, r->e, RT_EV_WARNING,
                "the child process wrote a line that is not an event: %.*s",
                (int)(len > 200 ? 200 : len), text);
    json_decref(o);
}

/* Relays the complete lines read so far. */
static void
relay_lines(struct relay *r)
{
    char *nl;

    while ((nl = memchr(r->line.buf, '\n', r->line.len))) {
        size_t n = (size_t)(nl - r->line.buf);
        if (!r->skipping)
            relay_line(r, r->line.buf, n);
        r->skipping = false;
        wbuf_consume(&r->line, n + 1);
    }
    if (r->line.len > LINE_MAX_BYTES) {
        rt_emit(r->run, r->e, RT_EV_WARNING,
                "the child process wrote an event line longer than %u "
                "bytes; it is dropped",
                LINE_MAX_BYTES);
        wbuf_reset(&r->line);
        r->skipping = true;
    }
}

/* Reads what the pipe holds (without the lock); closes it at its end. */
static void
read_events(struct relay *r)
{
    char buf[65536];

    while (r->fd >= 0) {
        ssize_t n = read(r->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            close(r->fd);
            r->fd = -1;
            return;
        }
        wbuf_add(&r->line, buf, (size_t)n, NULL);
        if (r->line.len > LINE_MAX_BYTES)
            return;
    }
}

/* ---- waiting ---- */

static void
reap(struct relay *r)
{
    if (!r->exited && waitpid(r->pid, &r->status, WNOHANG) == r->pid)
        r->exited = true;
}

static void
check_stop(struct relay *r)
{
    if (r->exited)
        return;
    if (!r->stopping && rt_canceled(r->run)) {
        r->stopping = true;
        r->kill_ns =
            wtime_mono_ns() + (int64_t)r->run->kill_grace_s * 1000000000;
        kill(r->pid, SIGTERM);
    } else if (r->stopping && !r->killed && wtime_mono_ns() >= r->kill_ns) {
        kill(r->pid, SIGKILL);
        r->killed = true;
    }
}

static int
poll_timeout(const struct relay *r)
{
    int64_t left;

    if (r->stopping && !r->killed) {
        left = (r->kill_ns - wtime_mono_ns()) / WTIME_MS_NS + 1;
        return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
    }
    return r->pidfd < 0 && !r->exited ? REAP_TICK_MS : -1;
}

/* One wait for output, the child's end, cancel or the kill deadline. */
static void
wait_once(struct relay *r)
{
    struct pollfd pf[3] = {
        {.fd = r->fd, .events = POLLIN},
        {.fd = r->exited ? -1 : r->pidfd, .events = POLLIN},
        {.fd = r->stopping ? -1 : rt_cancel_fd(r->run), .events = POLLIN},
    };
    int timeout = poll_timeout(r);

    rt_blocking_begin(r->run);
    if (poll(pf, 3, timeout) > 0 || r->fd >= 0)
        read_events(r);
    reap(r);
    rt_blocking_end(r->run);
}

/* The child's end: its events pipe is read to its end unless something
 * the child started keeps it open, then no longer. */
static void
drain(struct relay *r)
{
    for (int i = 0; i < 64 && r->fd >= 0; i++) {
        struct pollfd pf = {.fd = r->fd, .events = POLLIN};
        if (poll(&pf, 1, i ? 0 : 100) <= 0)
            break;
        read_events(r);
        relay_lines(r);
    }
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

static enum rt_result
outcome(struct relay *r)
{
    if (r->stopping)
        return RT_CANCELED;
    if (WIFSIGNALED(r->status)) {
        rt_error(r->run, r->e, RT_E_CHILD,
                 "the child package's process was killed by signal %d (%s)",
                 WTERMSIG(r->status), strsignal(WTERMSIG(r->status)));
        r->errors++;
        return RT_FAILURE;
    }
    switch (WEXITSTATUS(r->status)) {
    case 0:
        return RT_SUCCESS;
    case 3:
        return RT_CANCELED;
    default:
        return RT_FAILURE;
    }
}

enum rt_result
rt_execpkg_proc(struct rt_run *run, const struct pkg_executable *e,
                const struct rt_child_proc *cp, int *errors)
{
    struct relay r = {.run = run, .e = e, .cp = cp, .pidfd = -1, .fd = -1};
    struct werr err;
    enum rt_result res;

    *errors = 0;
    wbuf_init(&r.line, WBUF_NOLIMIT);
    if (start(&r, &err) < 0) {
        rt_error(run, e, RT_E_CHILD, "%s", err.msg);
        *errors = 1;
        wbuf_release(&r.line);
        return RT_FAILURE;
    }
    while (!r.exited) {
        wait_once(&r);
        relay_lines(&r);
        check_stop(&r);
    }
    drain(&r);
    if (r.pidfd >= 0)
        close(r.pidfd);
    res = outcome(&r);
    *errors = r.errors;
    wbuf_release(&r.line);
    return res;
}
