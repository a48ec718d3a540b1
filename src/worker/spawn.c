/*
 * Starting processes (git run-command): the one function the worker uses
 * to start a task's `weir exec`, and the reaper.
 *
 * Between fork and exec the child calls only async-signal-safe functions,
 * since libcurl may have started resolver threads.  A failed exec is
 * reported through a close-on-exec pipe: the parent reads either nothing
 * (the program runs) or the child's errno.
 *
 * The child leads its own process group, so a cancel reaches everything
 * the package started (SIGTERM, then SIGKILL to the group).  PDEATHSIG
 * kills the child if the worker dies, but not the child's own children.
 * The reaper covers them: a process forked at start that holds the read
 * end of a pipe only the worker writes to; when the worker is gone, however
 * it went, the pipe reads end-of-file and the reaper SIGKILLs every task
 * process group it was told about.  A group is announced before its leader
 * can exit and withdrawn while the leader is still a zombie, so the reaper
 * never signals a group id that could have been reused.
 */
#include "worker/worker_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/xalloc.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Descriptors the child moves its inputs to before placing them at 0-3. */
#define HIGH_FD 10

static _Noreturn void
child_fail(int errfd, int e)
{
    ssize_t n = write(errfd, &e, sizeof(e));

    (void)n;
    _exit(127);
}

static void
child_signals(void)
{
    static const int sigs[] = {SIGPIPE, SIGTERM, SIGINT, SIGCHLD, SIGHUP,
                               SIGQUIT, SIGUSR1, SIGUSR2};
    struct sigaction sa;
    sigset_t none;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Marks every descriptor from `from` up close-on-exec. */
static void
cloexec_from(int from)
{
    struct rlimit rl;

    if (syscall(SYS_close_range, (unsigned)from, ~0U,
                CLOSE_RANGE_CLOEXEC) == 0)
        return;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur > 65536)
        rl.rlim_cur = 65536;
    for (int fd = from; fd < (int)rl.rlim_cur; fd++)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int
child_limit(int resource, int64_t value)
{
    struct rlimit rl;

    if (value <= 0)
        return 0;
    if (getrlimit(resource, &rl) < 0)
        return -1;
    if (rl.rlim_max == RLIM_INFINITY || (rlim_t)value < rl.rlim_max)
        rl.rlim_max = (rlim_t)value;
    rl.rlim_cur = rl.rlim_max;
    return setrlimit(resource, &rl);
}

static _Noreturn void
child(const struct wk_spawn *s, int errfd, pid_t parent)
{
    int ev, out, null;

    setpgid(0, 0);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        child_fail(errfd, errno);
    if (getppid() != parent)
        _exit(127); /* the worker died already */
    child_signals();
    /* Move everything out of the way of 0-3 first: any of them may sit
     * there if the worker was started with standard descriptors closed. */
    ev = fcntl(errfd, F_DUPFD_CLOEXEC, HIGH_FD);
    if (ev < 0)
        child_fail(errfd, errno);
    errfd = ev;
    ev = fcntl(s->events_fd, F_DUPFD, HIGH_FD);
    out = fcntl(s->out_fd, F_DUPFD, HIGH_FD);
    null = open("/dev/null", O_RDONLY);
    if (ev < 0 || out < 0 || null < 0)
        child_fail(errfd, errno);
    if (dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 ||
        dup2(ev, 3) < 0)
        child_fail(errfd, errno);
    if (chdir(s->cwd) < 0)
        child_fail(errfd, errno);
    if (child_limit(RLIMIT_AS, s->memory_bytes) < 0 ||
        child_limit(RLIMIT_NOFILE, s->nofile) < 0)
        child_fail(errfd, errno);
    cloexec_from(4);
    execv(s->path, s->argv);
    child_fail(errfd, errno);
}

pid_t
wk_spawn_start(const struct wk_spawn *s, struct werr *err)
{
    pid_t pid, parent = getpid();
    int ep[2], e = 0;
    ssize_t n;

    if (pipe2(ep, O_CLOEXEC) < 0)
        return werr_set(err, WERR_IO, "cannot make a pipe: %s",
                        strerror(errno));
    pid = fork();
    if (pid < 0) {
        werr_set(err, WERR_IO, "cannot fork: %s", strerror(errno));
        close(ep[0]);
        close(ep[1]);
        return -1;
    }
    if (pid == 0) {
        close(ep[0]);
        child(s, ep[1], parent);
    }
    close(ep[1]);
    /* Also here, so the group exists before anyone may signal it. */
    setpgid(pid, pid);
    do
        n = read(ep[0], &e, sizeof(e));
    while (n < 0 && errno == EINTR);
    close(ep[0]);
    if (n == (ssize_t)sizeof(e)) {
        waitpid(pid, NULL, 0);
        return werr_set(err, WERR_IO, "cannot run '%s': %s", s->path,
                        strerror(e));
    }
    return pid;
}

/* ---- the reaper ---- */

struct reaper_msg {
    char op; /* '+' add, '-' remove, 'q' quit quietly */
    pid_t pgid;
};

static int reaper_fd = -1;
static pid_t reaper_pid;

static bool
read_msg(int fd, struct reaper_msg *m)
{
    size_t got = 0;

    while (got < sizeof(*m)) {
        ssize_t n = read(fd, (char *)m + got, sizeof(*m) - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        got += (size_t)n;
    }
    return true;
}

static _Noreturn void
reaper_main(int fd)
{
    struct reaper_msg m;
    pid_t *groups = NULL;
    size_t n = 0, cap = 0;

    /* It must outlive the worker, whatever signals the worker's process
     * group or terminal gets; it ends when the pipe says so. */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    prctl(PR_SET_NAME, "weir-reaper");
    while (read_msg(fd, &m)) {
        if (m.op == 'q')
            _exit(0);
        if (m.op == '+') {
            XGROW(groups, n + 1, cap);
            groups[n++] = m.pgid;
        }
        for (size_t i = 0; m.op == '-' && i < n; i++)
            if (groups[i] == m.pgid)
                groups[i] = groups[--n];
    }
    for (size_t i = 0; i < n; i++)
        kill(-groups[i], SIGKILL);
    _exit(0);
}

/* Leaves the reaper only `keep`, moved to 3, and /dev/null as 0-2, so it
 * holds nothing of the worker's open (its log, its sockets). */
static int
quiet(int keep)
{
    int null;

    if (keep != 3) {
        dup2(keep, 3);
        keep = 3;
    }
    null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    if (syscall(SYS_close_range, 4U, ~0U, 0U) < 0)
        for (int fd = 4; fd < 65536; fd++)
            close(fd);
    return keep;
}

int
wk_reaper_start(struct werr *err)
{
    int p[2];
    pid_t pid;

    if (pipe2(p, O_CLOEXEC) < 0)
        return werr_set(err, WERR_IO, "cannot make a pipe: %s",
                        strerror(errno));
    pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return werr_set(err, WERR_IO, "cannot fork the reaper: %s",
                        strerror(errno));
    }
    if (pid == 0) {
        close(p[1]);
        reaper_main(quiet(p[0]));
    }
    close(p[0]);
    reaper_fd = p[1];
    reaper_pid = pid;
    return 0;
}

static void
reaper_send(char op, pid_t pgid)
{
    struct reaper_msg m;
    ssize_t n;

    if (reaper_fd < 0)
        return;
    memset(&m, 0, sizeof(m));
    m.op = op;
    m.pgid = pgid;
    /* Smaller than PIPE_BUF, so one write is atomic. */
    do
        n = write(reaper_fd, &m, sizeof(m));
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(m)) {
        wlog(WLOG_WARN, "the reaper process is gone; task processes may "
             "outlive a killed worker");
        close(reaper_fd);
        reaper_fd = -1;
    }
}

void
wk_reaper_add(pid_t pgid)
{
    reaper_send('+', pgid);
}

void
wk_reaper_remove(pid_t pgid)
{
    reaper_send('-', pgid);
}

void
wk_reaper_stop(void)
{
    if (reaper_pid <= 0)
        return;
    reaper_send('q', 0);
    if (reaper_fd >= 0)
        close(reaper_fd);
    reaper_fd = -1;
    while (waitpid(reaper_pid, NULL, 0) < 0 && errno == EINTR)
        ;
    reaper_pid = 0;
}
