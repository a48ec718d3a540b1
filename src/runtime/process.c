/*
 * The Execute Process task: runs a program and watches it.
 *
 * The child is started with posix_spawn in weir exec's own process group,
 * so the worker's kill of the group on cancel reaches it too.  It gets
 * /dev/null as input, a pipe for each of stdout and stderr, the default
 * signal dispositions and an empty signal mask (weir exec blocks SIGTERM
 * and SIGINT and ignores SIGPIPE, which children must not inherit).  Every
 * other descriptor of weir exec is close-on-exec.
 *
 * The wait is one poll(2) over the two pipes, a pidfd of the child (it
 * becomes readable when the child ends) and the run's cancel descriptor,
 * without the run lock, so other branches run meanwhile and a cancel
 * wakes every task's wait at once; no signal is involved.  Without
 * pidfd_open (Linux before 5.3) the wait wakes every 20 ms to reap the
 * child instead.  Output lines become OnInformation (stdout) and
 * OnWarning (stderr) events, bounded: a line is cut at 4 KiB and after
 * 1,000 lines the rest is read and dropped, with one note saying so.
 *
 * StandardInputVariable: the variable's value is written to a pipe on the
 * child's standard input from the same poll loop (so a child that does
 * not read cannot block weir), which is closed once all is written; a
 * child that exits without reading it all is not an error.
 * StandardOutputVariable and StandardErrorVariable receive the whole
 * stream, up to CAPTURE_MAX bytes each (past it, one OnWarning says the
 * rest is not stored), when the process has ended; the events are
 * emitted as without them.
 *
 * Stopping (cancel or TimeOut) sends SIGTERM, then SIGKILL after the
 * grace period.  Once the child has exited, what is already in the pipes
 * is read; a grandchild that keeps them open is not waited for.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/wtime.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

#define LINE_BYTES 4096
#define MAX_LINES 1000
#define DRAIN_READS 64
#define CAPTURE_MAX (1u << 20)
/* How often a wait without a pidfd looks for the child's end. */
#define REAP_TICK_MS 20

extern char **environ;

struct stream {
    int fd; /* -1 once at end of file */
    bool is_err;
    bool skipping; /* dropping the rest of a line that was cut */
    bool capture;  /* kept whole in `all` for a variable */
    bool capped;   /* `all` reached CAPTURE_MAX */
    struct wbuf all;
    size_t len;
    char buf[LINE_BYTES];
};

struct proc {
    struct rt_run *run;
    const struct pkg_executable *e;
    pid_t pid;
    int pidfd; /* -1: none, poll with REAP_TICK_MS */
    int status;
    int lines;
    int64_t deadline_ns; /* TimeOut; 0 = none */
    int64_t kill_ns;     /* when to send SIGKILL, once stopping */
    bool stopping, killed, timed_out;
    struct stream out, err;
    int in_fd; /* the child's standard input, -1 when not a pipe */
    const char *in_data;
    size_t in_len, in_off;
};

/* A folder relative to the package's folder, or absolute; NULL for a
 * Windows path; the caller frees. */
static char *
resolve_dir(const struct rt_run *run, const char *dir)
{
    if (!*dir)
        return xstrdup(run->package_dir);
    return pkg_path_linux(dir, run->package_dir);
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
check_stream_var(struct rt_run *run, const struct pkg_executable *e,
                 const char *what, const char *name, bool output,
                 struct wbuf *problems)
{
    const struct rt_var *v;

    if (!*name)
        return 0;
    if (!run->vars)
        return rt_problem(problems, e, "%s: no variables in this run", what);
    if (!rt_vars_exists(run->vars, e, name))
        return rt_problem(problems, e, "%s: there is no variable '%s' in scope",
                          what, name);
    v = rt_vars_find(run->vars, e, name);
    if (output && (!v || v->def->read_only))
        return rt_problem(problems, e, "%s: '%s' is read-only", what, name);
    return 0;
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
        n += rt_problem(problems, e, "cannot run '%s': %s", prog,
                        strerror(errno));
    dir = resolve_dir(run, pr->working_directory);
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        n += rt_problem(problems, e,
                        "working directory '%s' does not exist "
                        "(set DelayValidation if an earlier step "
                        "creates it)",
                        dir);
    free(prog);
    free(dir);
    n += check_stream_var(run, e, "StandardInputVariable", pr->stdin_variable,
                          false, problems);
    n += check_stream_var(run, e, "StandardOutputVariable", pr->stdout_variable,
                          true, problems);
    n += check_stream_var(run, e, "StandardErrorVariable", pr->stderr_variable,
                          true, problems);
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
capture(struct proc *p, struct stream *s, const char *data, size_t n)
{
    size_t room = CAPTURE_MAX - s->all.len;

    if (!s->capture || s->capped)
        return;
    if (n > room) {
        s->capped = true;
        rt_emit(p->run, p->e, RT_EV_WARNING,
                "standard %s beyond %u bytes is not stored in '%s'",
                s->is_err ? "error" : "output", CAPTURE_MAX,
                s->is_err ? p->e->process->stderr_variable
                          : p->e->process->stdout_variable);
        n = room;
    }
    wbuf_add(&s->all, data, n, NULL);
}

static void
feed(struct proc *p, struct stream *s, const char *data, size_t n)
{
    capture(p, s, data, n);
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
    int out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1}, rc;

    if (make_pipe(out) < 0 || make_pipe(err) < 0 ||
        (p->in_data && pipe2(in, O_CLOEXEC) < 0)) {
        rc = errno;
        goto out;
    }
    /* Our end of the input pipe is written without blocking. */
    if (p->in_data)
        fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
    posix_spawn_file_actions_init(&fa);
    if (p->in_data)
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    else
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
    p->in_fd = rc ? -1 : in[1];
    for (int i = 0; i < 2; i++) {
        if (rc && out[i] >= 0)
            close(out[i]);
        if (rc && err[i] >= 0)
            close(err[i]);
        if (rc && in[i] >= 0)
            close(in[i]);
    }
    if (!rc) {
        close(out[1]);
        close(err[1]);
        if (in[0] >= 0)
            close(in[0]);
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
close_input(struct proc *p)
{
    if (p->in_fd >= 0)
        close(p->in_fd);
    p->in_fd = -1;
}

/* Writes what the pipe takes of the input variable; closes it when all
 * is written or the child stopped reading (EPIPE: SIGPIPE is ignored). */
static void
write_input(struct proc *p)
{
    while (p->in_fd >= 0 && p->in_off < p->in_len) {
        ssize_t n =
            write(p->in_fd, p->in_data + p->in_off, p->in_len - p->in_off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n < 0) {
            close_input(p);
            return;
        }
        p->in_off += (size_t)n;
    }
    close_input(p);
}

/* Waits without the run lock for output, room for input, the child's end,
 * cancel or the next deadline, then handles the streams with the lock
 * back. */
static void
poll_once(struct proc *p)
{
    struct pollfd fds[5];
    struct stream *ss[3];
    int n = 0, rc;
    int64_t ms = next_timeout_ms(p, wtime_mono_ns());

    if (p->out.fd >= 0)
        ss[n] = &p->out, fds[n++] = (struct pollfd){p->out.fd, POLLIN, 0};
    if (p->err.fd >= 0)
        ss[n] = &p->err, fds[n++] = (struct pollfd){p->err.fd, POLLIN, 0};
    if (p->in_fd >= 0)
        ss[n] = NULL, fds[n++] = (struct pollfd){p->in_fd, POLLOUT, 0};
    /* Once stopping, cancel has been seen: stop polling for it. */
    fds[n] =
        (struct pollfd){p->stopping ? -1 : rt_cancel_fd(p->run), POLLIN, 0};
    fds[n + 1] = (struct pollfd){p->pidfd, POLLIN, 0};
    if (p->pidfd < 0 && (ms < 0 || ms > REAP_TICK_MS))
        ms = REAP_TICK_MS;
    rt_blocking_begin(p->run);
    rc = poll(fds, (nfds_t)n + 2, ms < 0 ? -1 : ms > INT_MAX ? INT_MAX : (int)ms);
    rt_blocking_end(p->run);
    for (int i = 0; rc > 0 && i < n; i++)
        if (fds[i].revents && ss[i])
            read_stream(p, ss[i], 4);
        else if (fds[i].revents)
            write_input(p);
}

static void
wait_child(struct proc *p)
{
    p->pidfd = pidfd_open(p->pid, 0);
    for (;;) {
        pid_t r = waitpid(p->pid, &p->status, WNOHANG);
        if (r == p->pid)
            break;
        if (r < 0 && errno != EINTR)
            W_BUG("waitpid(%d): %s", (int)p->pid, strerror(errno));
        check_deadlines(p);
        poll_once(p);
    }
    close_input(p);
    if (p->pidfd >= 0)
        close(p->pidfd);
    p->pidfd = -1;
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

/* ---- the stream variables ---- */

/* Sets up the input and the captures; false after an error (raised).
 * `input` receives the input variable's text (the caller frees). */
static bool
streams_begin(struct proc *p, const struct pkg_process *pr, char **input)
{
    struct rt_value v = {0};
    struct werr err;

    wbuf_init(&p->out.all, WBUF_NOLIMIT);
    wbuf_init(&p->err.all, WBUF_NOLIMIT);
    p->out.capture = *pr->stdout_variable != '\0';
    p->err.capture = *pr->stderr_variable != '\0';
    *input = NULL;
    if (!*pr->stdin_variable)
        return true;
    if (rt_vars_get(p->run->vars, p->e, pr->stdin_variable, &v, &err) < 0) {
        rt_error(p->run, p->e, RT_E_PROCESS_START, "StandardInputVariable: %s",
                 err.msg);
        return false;
    }
    *input = v.null ? xstrdup("") : rt_value_text(&v);
    rt_value_release(&v);
    p->in_data = *input;
    p->in_len = strlen(*input);
    return true;
}

static bool
store(struct proc *p, const char *what, const char *name, struct stream *s)
{
    struct rt_value v = {0};
    struct werr err;
    struct wbuf text;
    int rc;

    if (!s->capture)
        return true;
    /* Variables hold text: invalid UTF-8 becomes U+FFFD, as in events. */
    wbuf_init(&text, WBUF_NOLIMIT);
    rt_utf8_clean(s->all.buf, s->all.len, &text);
    rt_value_set_str(&v, text.buf, text.len);
    rc = rt_vars_set(p->run->vars, p->e, name, &v, &err);
    rt_value_release(&v);
    wbuf_release(&text);
    if (rc < 0)
        rt_error(p->run, p->e, RT_E_PROCESS_EXIT, "%s: %s", what, err.msg);
    return rc == 0;
}

/* Stores the captured streams into their variables; false after an
 * error (raised). */
static bool
streams_end(struct proc *p, const struct pkg_process *pr)
{
    bool ok = store(p, "StandardOutputVariable", pr->stdout_variable, &p->out);

    return store(p, "StandardErrorVariable", pr->stderr_variable, &p->err) &&
           ok;
}

static enum rt_result
process_execute(struct rt_run *run, const struct pkg_executable *e)
{
    struct pkg_process prs = *e->process;
    char *owned[3] = {NULL, NULL, NULL};
    const struct pkg_process *pr = &prs;
    struct proc *p = xcalloc(1, sizeof(*p));
    char *prog = NULL, *dir = NULL, **argv = NULL, *input = NULL;
    enum rt_result r = RT_FAILURE;
    struct stat st;

    p->run = run;
    p->e = e;
    p->out.fd = p->err.fd = p->in_fd = -1;
    p->err.is_err = true;
    if (!streams_begin(p, pr, &input) || !apply_props(run, e, &prs, owned))
        goto out;
    if (pkg_program_is_windows(pr->executable)) {
        rt_error(run, e, RT_E_PROCESS_START,
                 "'%s' is a Windows program: "
                 "weir runs Linux programs",
                 pr->executable);
        goto out;
    }
    prog = resolve_program(run, pr->executable);
    if (!(dir = resolve_dir(run, pr->working_directory))) {
        rt_error(run, e, RT_E_PROCESS_START,
                 "working directory '%s' is a Windows path: use a Linux "
                 "path, relative to the package's folder",
                 pr->working_directory);
        goto out;
    }
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
    if (r != RT_CANCELED && !streams_end(p, pr))
        r = RT_FAILURE;
out:
    wbuf_release(&p->out.all);
    wbuf_release(&p->err.all);
    free(input);
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
