/*
 * weir master: start, the event loop, signals and shutdown.
 *
 * One thread owns everything.  libmicrohttpd runs without a thread of its
 * own (MHD_USE_EPOLL, external polling): its epoll fd sits in our epoll set
 * next to a signalfd and the sockets of parked claims.  Each turn of the
 * loop waits for the earliest of: network activity, a signal, MHD's own
 * timeout, or the scheduler's next deadline (a claim's wait, a lease);
 * then runs MHD (which calls the route handlers) and then the scheduler's
 * tick.  Nothing blocks except the catalog calls, which are short
 * transactions on the same thread: that keeps every state change in one
 * order without locks.
 *
 * Shutdown (SIGTERM, SIGINT): stop accepting, answer parked claims with
 * 503, let requests in flight finish for up to two seconds, then stop MHD
 * and close the catalog.  Workers ride through a restart: their leases are
 * extended at start (cat_task_extend_leases) so they can reconnect before
 * their tasks are given away.
 */
#include <errno.h>
#include <locale.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "base/wfile.h"
#include "base/wtime.h"
#include "catalog/catalog.h"
#include "master/master.h"
#include "master/master_int.h"

#include "base/banned.h"

#define DRAIN_MS 2000
#define IDLE_TIMEOUT_S 300
#define LISTEN_BACKLOG 511

/* epoll tags: a parked claim's tag is its struct sched_claim. */
static char tag_mhd, tag_signal;

int
master_watch_fd(struct master *m, int fd, void *tag)
{
    struct epoll_event ev = {.events = EPOLLRDHUP, .data.ptr = tag};

    if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        wlog(WLOG_WARN, "cannot watch a parked claim's socket: %s",
             strerror(errno));
        return -1;
    }
    return 0;
}

void
master_unwatch_fd(struct master *m, int fd)
{
    epoll_ctl(m->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    size_t n;

    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = '\0';
    wlog(WLOG_WARN, "http: %s", line);
}

/* Binds the listening socket ourselves, for a clear error message, and
 * writes the port it got to *port. */
static int
open_listener(const char *listen_at, int *port, struct werr *err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, one = 1;

    if (master_parse_listen(listen_at, &ss, &len, err) < 0)
        return -1;
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return werr_set(err, WERR_IO, "socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
        listen(fd, LISTEN_BACKLOG) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        werr_set(err, WERR_IO, "cannot listen on %s: %s", listen_at,
                 strerror(errno));
        close(fd);
        return -1;
    }
    *port = ntohs(ss.ss_family == AF_INET6
                      ? ((struct sockaddr_in6 *)&ss)->sin6_port
                      : ((struct sockaddr_in *)&ss)->sin_port);
    if (!master_addr_is_loopback((struct sockaddr *)&ss))
        wlog(WLOG_WARN, "listening on %s over plain HTTP: anyone who can "
             "reach it can deploy and run packages; plain HTTP is for "
             "loopback only", listen_at);
    return fd;
}

static int
start_http(struct master *m, int *port, struct werr *err)
{
    int fd = open_listener(m->conf.listen, port, err);

    if (fd < 0)
        return -1;
    m->mhd = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, http_on_request, m,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, m,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        MHD_OPTION_NOTIFY_COMPLETED, http_on_completed, m,
        MHD_OPTION_NOTIFY_CONNECTION, http_on_connection, m,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
        MHD_OPTION_END);
    if (!m->mhd) {
        close(fd);
        return werr_set(err, WERR_IO, "cannot start the HTTP server on %s",
                        m->conf.listen);
    }
    return 0;
}

static int
watch(struct master *m, int fd, void *tag, struct werr *err)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};

    if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return werr_set(err, WERR_IO, "epoll_ctl: %s", strerror(errno));
    return 0;
}

/* Our epoll set: MHD's epoll fd and a signalfd (the signals are blocked so
 * that they arrive only there). */
static int
start_loop(struct master *m, int *sigfd, sigset_t *old, struct werr *err)
{
    const union MHD_DaemonInfo *di;
    sigset_t set;

    m->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (m->epfd < 0)
        return werr_set(err, WERR_IO, "epoll_create1: %s", strerror(errno));
    di = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (!di || watch(m, di->epoll_fd, &tag_mhd, err) < 0)
        return werr_set(err, WERR_INTERNAL, "no epoll fd from libmicrohttpd");
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, old);
    signal(SIGPIPE, SIG_IGN);
    *sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (*sigfd < 0)
        return werr_set(err, WERR_IO, "signalfd: %s", strerror(errno));
    return watch(m, *sigfd, &tag_signal, err);
}

/* SIGHUP: re-reads the options (file, environment, flags) and applies
 * the log level; the rest needs a restart. */
static void
reload(struct master *m)
{
    struct master_conf c = {0};
    char **pos = NULL;
    struct werr err;

    if (wopt_parse(master_options, &c, MASTER_ENV_PREFIX, master_usage,
                   m->argc, m->argv, &pos, &err) == 0) {
        wlog_threshold = m->conf.log_level = c.log_level;
        wlog(WLOG_INFO, "SIGHUP: log level is %s",
             wlog_level_name(c.log_level));
    } else {
        wlog(WLOG_WARN, "SIGHUP: options not re-read: %s", err.msg);
    }
    free(pos);
    wopt_release(master_options, &c);
}

static void
on_signals(struct master *m, int sigfd)
{
    struct signalfd_siginfo si;

    while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            reload(m);
        } else if (!m->stopping) {
            wlog(WLOG_INFO, "%s: shutting down", strsignal(si.ssi_signo));
            m->stopping = true;
        }
    }
}

static int
loop_timeout(struct master *m, int64_t sched_ms)
{
    MHD_UNSIGNED_LONG_LONG t;
    int64_t ms = sched_ms;

    if (MHD_get_timeout(m->mhd, &t) == MHD_YES &&
        (ms < 0 || (int64_t)t < ms))
        ms = (int64_t)t;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Group commit: every catalog change of one turn (all the requests MHD
 * read, then the scheduler's tick) goes into one transaction. */
static void
batch_begin(struct master *m)
{
    struct werr err;

    if (cat_batch_begin(m->cat, &err) == 0)
        m->batch_open = true;
    else
        wlog(WLOG_ERROR, "catalog batch: %s", err.msg);
}

/* Commits the turn's batch and lets its answers go; returns how many
 * requests were resumed (they are answered at the next MHD_run). */
static size_t
batch_end(struct master *m)
{
    struct werr err;

    if (!m->batch_open)
        return http_batch_release(m, NULL);
    m->batch_open = false;
    if (cat_batch_commit(m->cat, &err) == 0)
        return http_batch_release(m, NULL);
    wlog(WLOG_ERROR, "catalog commit failed, its requests are answered with "
         "errors: %s", err.msg);
    sched_rollback(&m->sched);
    return http_batch_release(m, &err);
}

/* One turn: wait, handle what arrived, run MHD and the scheduler inside
 * one catalog batch, commit it.  Returns how long the next wait may be,
 * or -2 on a failure of epoll itself. */
static int64_t
turn(struct master *m, int sigfd, int timeout_ms)
{
    struct epoll_event ev[64];
    int n = epoll_wait(m->epfd, ev, 64, timeout_ms);
    int64_t next;

    if (n < 0 && errno != EINTR) {
        wlog(WLOG_ERROR, "epoll_wait: %s", strerror(errno));
        return -2;
    }
    for (int i = 0; i < n; i++) {
        if (ev[i].data.ptr == &tag_signal)
            on_signals(m, sigfd);
        else if (ev[i].data.ptr != &tag_mhd)
            sched_hangup(&m->sched, ev[i].data.ptr);
    }
    batch_begin(m);
    MHD_run(m->mhd);
    next = sched_tick(&m->sched);
    if (batch_end(m) > 0)
        next = 0;
    return next;
}

static int
run(struct master *m, int sigfd)
{
    int64_t sched_ms = 0;

    while (!m->stopping) {
        sched_ms = turn(m, sigfd, loop_timeout(m, sched_ms));
        if (sched_ms == -2)
            return -1;
    }
    return 0;
}

/* Stops accepting, answers parked claims, lets requests in flight end. */
static void
drain(struct master *m, int sigfd)
{
    int64_t until = wtime_mono_ns() + DRAIN_MS * WTIME_MS_NS, next = 0;
    MHD_socket lfd = MHD_quiesce_daemon(m->mhd);

    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    sched_shutdown(&m->sched);
    while (m->nrequests > 0 && wtime_mono_ns() < until) {
        next = turn(m, sigfd, loop_timeout(m, next < 0 || next > 10 ? 10
                                                                   : next));
        if (next == -2)
            break;
        sched_shutdown(&m->sched);
    }
    if (m->nrequests > 0)
        wlog(WLOG_WARN, "%zu request%s still in flight at shutdown",
             m->nrequests, m->nrequests == 1 ? "" : "s");
}

static int
write_port_file(const char *path, int port, struct werr *err)
{
    char text[16];
    int n = snprintf(text, sizeof(text), "%d\n", port);

    if (wfile_write(path, text, (size_t)n, 0644, 0, err) < 0)
        return werr_prefix(err, "port file '%s'", path);
    return 0;
}

static int
parse_options(struct master *m, int argc, char **argv, struct werr *err)
{
    char **pos = NULL;
    int rc = wopt_parse(master_options, &m->conf, MASTER_ENV_PREFIX,
                        master_usage, argc, argv, &pos, err);

    if (rc == 0 && pos && pos[0])
        rc = werr_set(err, WERR_INVALID, "unexpected argument '%s' (see "
                      "weir master --help)", pos[0]);
    free(pos);
    if (rc == 0 && master_conf_check(&m->conf, err) < 0)
        rc = -1;
    m->argc = argc;
    m->argv = argv;
    return rc;
}

/* Opens the catalog and gives running tasks a full lease: their workers
 * may not have reached this master yet. */
static int
open_catalog(struct master *m, struct werr *err)
{
    m->cat = cat_open(m->conf.catalog, err);
    if (!m->cat)
        return -1;
    if (cat_task_extend_leases(m->cat, wtime_real_ms(), m->conf.lease_ms,
                               err) < 0)
        return werr_prefix(err, "catalog '%s'", m->conf.catalog);
    return 0;
}

static int
start(struct master *m, int *sigfd, sigset_t *old, struct werr *err)
{
    int port = 0;

    if (open_catalog(m, err) < 0 || start_http(m, &port, err) < 0 ||
        start_loop(m, sigfd, old, err) < 0)
        return -1;
    if (m->conf.port_file) {
        if (write_port_file(m->conf.port_file, port, err) < 0)
            return -1;
        m->port_file_written = true;
    }
    sched_start(&m->sched);
    wlog(WLOG_INFO, "listening on %s (port %d), catalog %s, lease %lldms, "
         "heartbeat %lldms", m->conf.listen, port, m->conf.catalog,
         (long long)m->conf.lease_ms, (long long)m->conf.heartbeat_ms);
    return 0;
}

static void
stop(struct master *m, int sigfd, const sigset_t *old)
{
    if (m->mhd) {
        /* MHD must not be stopped with suspended connections. */
        sched_shutdown(&m->sched);
        MHD_stop_daemon(m->mhd);
    }
    cat_close(m->cat);
    if (m->epfd >= 0)
        close(m->epfd);
    if (sigfd >= 0) {
        close(sigfd);
        sigprocmask(SIG_SETMASK, old, NULL);
    }
    if (m->port_file_written)
        unlink(m->conf.port_file);
    wopt_release(master_options, &m->conf);
}

int
master_main(int argc, char **argv)
{
    struct master m = {.epfd = -1};
    struct werr err;
    int sigfd = -1, rc;
    sigset_t old;

    wlog_set_ident("weir-master");
    /* Zip entries flagged UTF-8 (.ispac files made by current tools) have
     * their names converted by libarchive, which needs a UTF-8 locale to
     * do it; C.UTF-8 is always present on Debian. */
    setlocale(LC_CTYPE, "C.UTF-8");
    werr_clear(&err);
    sched_init(&m.sched, &m);
    rc = parse_options(&m, argc, argv, &err);
    if (rc == 1) {
        wopt_release(master_options, &m.conf);
        return 0;
    }
    if (rc == 0) {
        wlog_threshold = m.conf.log_level;
        rc = start(&m, &sigfd, &old, &err);
    }
    if (rc == 0 && (rc = run(&m, sigfd)) == 0)
        drain(&m, sigfd);
    if (rc < 0 && err.code != WERR_OK)
        wlog(WLOG_ERROR, "%s", err.msg);
    stop(&m, sigfd, &old);
    if (rc == 0)
        wlog(WLOG_INFO, "stopped");
    return rc == 0 ? 0 : werr_exit_code(err.code ? err.code : WERR_INTERNAL);
}
