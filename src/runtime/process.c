/*
 * The Execute Process task: runs a program and watches it.
 *
 * The child is started with posix_spawn in weir exec's own process group,
 * so the worker's kill of the group on cancel reaches it too.  It gets
 * /dev/null as input, a pipe for each of stdout and stderr, the default
 * signal dispositions and an empty signal mask (weir exec blocks SIGTERM,
 * SIGINT and SIGCHLD and ignores SIGPIPE, which children must not
 * inherit).  Every other descriptor of weir exec is close-on-exec.
 *
 * The wait is one ppoll over the two pipes with the run's wait mask, which
 * unblocks SIGTERM/SIGINT (cancel) and SIGCHLD (the child ended) only for
 * the duration of the call, so neither can slip in between a check and
 * the sleep.  Output lines become OnInformation (stdout) and OnWarning
 * (stderr) events, bounded: a line is cut at 4 KiB and after 1,000 lines
 * the rest is read and dropped, with one note saying so.
 *
 * Stopping (cancel or TimeOut) sends SIGTERM, then SIGKILL after the
 * grace period.  Once the child has exited, what is already in the pipes
 * is read; a grandchild that keeps them open is not waited for.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/wtime.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "runtime/runtime_int.h"

#define LINE_BYTES 4096
#define MAX_LINES 1000
#define DRAIN_READS 64

extern char **environ;

struct stream {
    int fd; /* -1 once at end of file */
    bool is_err;
    bool skipping; /* dropping the rest of a line that was cut */
    size_t len;
    char buf[LINE_BYTES];
};

struct proc {
    struct rt_run *run;
    const struct pkg_executable *e;
    pid_t pid;
    int status;
    int lines;
    int64_t deadline_ns; /* TimeOut; 0 = none */
    int64_t kill_ns;     /* when to send SIGKILL, once stopping */
    bool stopping, killed, timed_out;
    struct stream out, err;
};

/* A folder relative to the package's folder, or absolute; the caller
 * frees. */
static char *
resolve_dir(const struct rt_run *run, const char *dir)
{
    if (!*dir)
        return xstrdup(run->package_dir);
    if (dir[0] == '/')
        return xstrdup(dir);
    return xasprintf("%s/%s", run->package_dir, dir);
}

/* A bare name is looked up in PATH by posix_spawnp; a relative path with
 * a slash is relative to the package's folder. */
static char *
resolve_program(const struct rt_run *run, const char *exe)
{
    if (!strchr(exe, '/') || exe[0] == '/')
        return xstrdup(exe);
    return xasprintf("%s/%s", run->package_dir, exe);
}

static bool
in_path(const char *name)
{
    const char *path = getenv("PATH");
    char *copy, *dir, *save = NULL;
    bool found = false;

    copy = xstrdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
    for (dir = strtok_r(copy, ":", &save); dir && !found;
         dir = strtok_r(NULL, ":", &save)) {
        char *full = xasprintf("%s/%s", *dir ? dir : ".", name);
        struct stat st;
        found = stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
                access(full, X_OK) == 0;
        free(full);
    }
    free(copy);
    return found;
}

static int
process_validate(struct rt_run *run, const struct pkg_executable *e,
                 struct wbuf *problems)
{
    const struct pkg_process *pr = e->process;
    struct stat st;
    char *prog, *dir;
    int n = 0;

    if (!pr || !*pr->executable || pkg_program_is_windows(pr->executable) ||
        pkg_path_is_windows(pr->working_directory))
        return 0; /* pkg_validate has said why */
    prog = resolve_program(run, pr->executable);
    if (!strchr(prog, '/') && !in_path(prog))
        n += rt_problem(problems, e, "program '%s' is not found in PATH", prog);
    else if (strchr(prog, '/') && access(prog, X_OK) < 0)
        n += rt_problem(problems, e, "cannot run '%s': %s", prog, strerror(errno));
    dir = resolve_dir(run, pr->working_directory);
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        n += rt_problem(problems, e,
                     "working directory '%s' does not exist "
                     "(set DelayValidation if an earlier step "
                     "creates it)",
                     dir);
    free(prog);
    free(dir);
    return n;
}

/* ---- output ---- */

static void
emit_line(struct proc *p, struct stream *s, const char *text, size_t n,
          bool cut)
{
    struct wbuf msg;

    if (n && text[n - 1] == '\r')
        n--;
    if (p->lines == MAX_LINES) {
        rt_emit(p->run, p->e, RT_EV_WARNING,
                "output truncated: only the "
                "first %d lines are logged",
                MAX_LINES);
        p->lines++;
    }
    if (p->lines > MAX_LINES)
        return;
    p->lines++;
    wbuf_init(&msg, WBUF_NOLIMIT);
    rt_utf8_clean(text, n, &msg);
    if (cut)
        wbuf_adds(&msg, " [line cut at 4 KiB]", NULL);
    rt_emit(p->run, p->e, s->is_err ? RT_EV_WARNING : RT_EV_INFORMATION, "%s",
            msg.buf);
    wbuf_release(&msg);
}

static void
feed(struct proc *p, struct stream *s, const char *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = data[i];
        if (c == '\n') {
            if (!s->skipping)
                emit_line(p, s, s->buf, s->len, false);
            s->skipping = false;
            s->len = 0;
        } else if (s->skipping) {
            continue;
        } else if (s->len < LINE_BYTES) {
            s->buf[s->len++] = c;
        } else {
            emit_line(p, s, s->buf, s->len, true);
            s->skipping = true;
            s->len = 0;
        }
    }
}

/* Reads what is available (the descriptor is non-blocking); at end of
 * file, emits a last line without a newline and closes. */
static void
read_stream(struct proc *p, struct stream *s, int max_reads)
{
    char chunk[8192];

    for (int i = 0; s->fd >= 0 && i < max_reads; i++) {
        ssize_t n = read(s->fd, chunk, sizeof(chunk));
        if (n > 0) {
            feed(p, s, chunk, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (s->len && !s->skipping)
            emit_line(p, s, s->buf, s->len, false);
        s->len = 0;
        close(s->fd);
        s->fd = -1;
    }
}

/* ---- spawning ---- */

static int
make_pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    return 0;
}

static int
spawn(struct proc *p, const char *prog, char **argv, const char *dir)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, defaults;
    int out[2] = {-1, -1}, err[2] = {-1, -1}, rc;

    if (make_pipe(out) < 0 || make_pipe(err) < 0) {
        rc = errno;
        goto out;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawn_file_actions_addchdir_np(&fa, dir);
    posix_spawnattr_init(&at);
    sigemptyset(&none);
    sigfillset(&defaults);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &defaults);
    posix_spawnattr_setflags(&at,
                             POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    rc = posix_spawnp(&p->pid, prog, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
out:
    p->out.fd = rc ? -1 : out[0];
    p->err.fd = rc ? -1 : err[0];
    for (int i = 0; i < 2; i++) {
        if (rc && out[i] >= 0)
            close(out[i]);
        if (rc && err[i] >= 0)
            close(err[i]);
    }
    if (!rc) {
        close(out[1]);
        close(err[1]);
    }
    errno = rc;
    return rc ? -1 : 0;
}

/* ---- waiting ---- */

static void
stop(struct proc *p)
{
    p->stopping = true;
    p->kill_ns = wtime_mono_ns() + (int64_t)p->run->kill_grace_s * 1000000000;
    kill(p->pid, SIGTERM);
}

/* Milliseconds until the next deadline, or -1 for none. */
static int64_t
next_timeout_ms(const struct proc *p, int64_t now)
{
    int64_t at = 0;

    if (p->stopping && !p->killed)
        at = p->kill_ns;
    else if (!p->stopping && p->deadline_ns)
        at = p->deadline_ns;
    if (!at)
        return -1;
    return at <= now ? 0 : (at - now + WTIME_MS_NS - 1) / WTIME_MS_NS;
}

static void
check_deadlines(struct proc *p)
{
    int64_t now = wtime_mono_ns();

    if (!p->stopping && rt_canceled(p->run)) {
        stop(p);
    } else if (!p->stopping && p->deadline_ns && now >= p->deadline_ns) {
        p->timed_out = true;
        rt_error(p->run, p->e, RT_E_PROCESS_TIMEOUT,
                 "the process ran longer than its TimeOut of %d s and was "
                 "stopped",
                 p->e->process->timeout_s);
        stop(p);
    } else if (p->stopping && !p->killed && now >= p->kill_ns) {
        kill(p->pid, SIGKILL);
        p->killed = true;
    }
}

static void
poll_once(struct proc *p)
{
    struct pollfd fds[2];
    struct stream *ss[2];
    struct timespec ts, *tsp = NULL;
    int n = 0;
    int64_t ms = next_timeout_ms(p, wtime_mono_ns());

    if (p->out.fd >= 0)
        ss[n] = &p->out, fds[n++] = (struct pollfd){p->out.fd, POLLIN, 0};
    if (p->err.fd >= 0)
        ss[n] = &p->err, fds[n++] = (struct pollfd){p->err.fd, POLLIN, 0};
    if (ms >= 0) {
        ts.tv_sec = ms / 1000;
        ts.tv_nsec = (ms % 1000) * 1000000;
        tsp = &ts;
    }
    if (ppoll(fds, (nfds_t)n, tsp, &p->run->wait_mask) <= 0)
        return; /* a signal (child ended, cancel) or a deadline */
    for (int i = 0; i < n; i++)
        if (fds[i].revents)
            read_stream(p, ss[i], 4);
}

static void
wait_child(struct proc *p)
{
    for (;;) {
        pid_t r = waitpid(p->pid, &p->status, WNOHANG);
        if (r == p->pid)
            break;
        if (r < 0 && errno != EINTR)
            W_BUG("waitpid(%d): %s", (int)p->pid, strerror(errno));
        check_deadlines(p);
        poll_once(p);
    }
    read_stream(p, &p->out, DRAIN_READS);
    read_stream(p, &p->err, DRAIN_READS);
    /* A background process may still hold the pipes: flush what we have
     * and stop listening. */
    struct stream *ss[2] = {&p->out, &p->err};
    for (int i = 0; i < 2; i++) {
        if (ss[i]->fd < 0)
            continue;
        if (ss[i]->len && !ss[i]->skipping)
            emit_line(p, ss[i], ss[i]->buf, ss[i]->len, false);
        close(ss[i]->fd);
        ss[i]->fd = -1;
    }
}

static enum rt_result
outcome(struct proc *p, const char *prog)
{
    const struct pkg_process *pr = p->e->process;
    int code;

    if (p->stopping && !p->timed_out)
        return RT_CANCELED;
    if (p->timed_out)
        return RT_FAILURE;
    if (WIFSIGNALED(p->status)) {
        rt_error(p->run, p->e, RT_E_PROCESS_SIGNAL,
                 "process '%s' was killed by signal %d (%s)", prog,
                 WTERMSIG(p->status), strsignal(WTERMSIG(p->status)));
        return RT_FAILURE;
    }
    code = WEXITSTATUS(p->status);
    rt_emit(p->run, p->e, RT_EV_INFORMATION, "process exited with code %d",
            code);
    if (pr->fail_on_return_code && code != pr->success_value) {
        rt_error(p->run, p->e, RT_E_PROCESS_EXIT,
                 "process '%s' exited with code %d, not the success value "
                 "%d",
                 prog, code, pr->success_value);
        return RT_FAILURE;
    }
    return RT_SUCCESS;
}

/* The task's settings with its property expressions applied; false
 * after an error (raised). */
static bool
apply_props(struct rt_run *run, const struct pkg_executable *e,
            struct pkg_process *pr, char **owned)
{
    static const char *const props[] = {"Executable", "Arguments",
                                        "WorkingDirectory"};
    const char **fields[] = {&pr->executable, &pr->arguments,
                             &pr->working_directory};

    for (size_t i = 0; i < 3; i++) {
        int rc = rt_prop_text(run, e, props[i], &owned[i]);
        if (rc < 0)
            return false;
        if (rc > 0)
            *fields[i] = owned[i];
    }
    return true;
}

static enum rt_result
process_execute(struct rt_run *run, const struct pkg_executable *e)
{
    struct pkg_process prs = *e->process;
    char *owned[3] = {NULL, NULL, NULL};
    const struct pkg_process *pr = &prs;
    struct proc *p = xcalloc(1, sizeof(*p));
    char *prog = NULL, *dir = NULL, **argv = NULL;
    enum rt_result r = RT_FAILURE;
    struct stat st;

    p->run = run;
    p->e = e;
    p->out.fd = p->err.fd = -1;
    p->err.is_err = true;
    if (!apply_props(run, e, &prs, owned))
        goto out;
    if (pkg_program_is_windows(pr->executable)) {
        rt_error(run, e, RT_E_PROCESS_START,
                 "'%s' is a Windows program: "
                 "weir runs Linux programs",
                 pr->executable);
        goto out;
    }
    prog = resolve_program(run, pr->executable);
    dir = resolve_dir(run, pr->working_directory);
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        rt_error(run, e, RT_E_PROCESS_START,
                 "working directory '%s' does "
                 "not exist",
                 dir);
        goto out;
    }
    argv = rt_args_split(pr->executable, pr->arguments);
    if (spawn(p, prog, argv, dir) < 0) {
        rt_error(run, e, RT_E_PROCESS_START, "cannot run '%s': %s", prog,
                 strerror(errno));
        goto out;
    }
    if (pr->timeout_s > 0)
        p->deadline_ns = wtime_mono_ns() + (int64_t)pr->timeout_s * 1000000000;
    wait_child(p);
    r = outcome(p, pr->executable);
out:
    rt_args_free(argv);
    free(prog);
    free(dir);
    free(p);
    for (size_t i = 0; i < 3; i++)
        free(owned[i]);
    return r;
}

const struct rt_task_ops rt_process_ops = {
    .type = "Microsoft.ExecuteProcess",
    .validate = process_validate,
    .execute = process_execute,
};
