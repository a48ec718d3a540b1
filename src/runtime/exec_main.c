/*
 * `weir exec`: load one package, set its parameters, validate it, run it,
 * and exit with dtexec's codes (docs/exec.md).  The worker runs every task
 * this way, with --events-fd and --params-file.
 *
 * Signals: SIGTERM and SIGINT mean cancel.  They stay blocked in every
 * thread; one thread reads them from a signalfd and raises the run's
 * cancel (runtime_int.h), which wakes every wait of every branch at once.
 * The engine stops starting executables, running processes get SIGTERM
 * then SIGKILL, running statements are canceled, and the exit code is 3.
 * SIGPIPE is ignored so a vanished events reader is an error to report,
 * not a death.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "base/wopt.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "runtime/runtime.h"
#include "runtime/conn.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

enum {
    EXIT_OK = 0,
    EXIT_FAILED = 1,
    EXIT_CANCELED = 3,
    EXIT_NOTFOUND = 4,
    EXIT_LOAD = 5,
    EXIT_USAGE = 6,
};

struct exec_conf {
    bool validate;
    char **params;
    char *params_file;
    int64_t events_fd;
    char *project_dir;
    char **connections;
};

static const struct wopt exec_options[] = {
    {"validate", WOPT_BOOL, offsetof(struct exec_conf, validate), "false", 0, 0,
     "load and validate only (dtexec /Validate); list every problem", 0},
    {"param", WOPT_LIST, offsetof(struct exec_conf, params), NULL, 0, 0,
     "set a parameter: NAME=VALUE, where NAME is Name, $Package::Name or "
     "$Project::Name; repeatable",
     0},
    {"params-file", WOPT_STR, offsetof(struct exec_conf, params_file), NULL, 0,
     0, "read parameters from a JSON object {\"Name\": \"value\"}", 0},
    {"events-fd", WOPT_INT, offsetof(struct exec_conf, events_fd), "-1", -1,
     INT_MAX,
     "write events as JSON lines to this file descriptor instead of "
     "text on stdout (-1: text)",
     0},
    {"project-dir", WOPT_STR, offsetof(struct exec_conf, project_dir), NULL, 0,
     0,
     "the project's folder (Project.params); default: the package's "
     "folder",
     0},
    {"connection", WOPT_LIST, offsetof(struct exec_conf, connections), NULL, 0,
     0,
     "replace a connection manager's connection string: NAME=ODBC-STRING "
     "(the parameter CM.NAME.ConnectionString does the same); repeatable",
     0},
    WOPT_END,
};

#define USAGE                                                                  \
    "usage: weir exec [options] PACKAGE.dtsx\n\n"                              \
    "Runs one SSIS package, as dtexec does.  Exit codes: 0 success, 1 "        \
    "failure or\nvalidation problems, 3 canceled, 4 package not found, 5 "     \
    "package not loadable,\n6 bad command line."

struct saved_signals {
    sigset_t mask;
    struct sigaction pipe;
};

/* The thread that turns SIGTERM/SIGINT into the run's cancel. */
struct sig_watch {
    struct rt_cancel *cancel;
    int sfd;  /* signalfd of SIGTERM and SIGINT */
    int quit; /* eventfd: the run is over */
    pthread_t th;
    bool started;
};

static void *
sig_main(void *arg)
{
    struct sig_watch *w = arg;
    struct pollfd fds[2] = {{w->sfd, POLLIN, 0}, {w->quit, POLLIN, 0}};
    struct signalfd_siginfo si;

    for (;;) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            break;
        if (fds[0].revents && read(w->sfd, &si, sizeof(si)) == sizeof(si))
            rt_cancel_raise(w->cancel, (int)si.ssi_signo);
    }
    return NULL;
}

/* Blocks the stop signals (threads started later inherit that) and starts
 * the thread that watches for them.  Without the thread, the run still
 * works but cannot be canceled; say so. */
static void
signals_setup(struct saved_signals *s, struct sig_watch *w,
              struct rt_cancel *cancel)
{
    struct sigaction sa;
    sigset_t block;

    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &s->mask);
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &s->pipe);
    *w = (struct sig_watch){.cancel = cancel, .sfd = -1, .quit = -1};
    w->sfd = signalfd(-1, &block, SFD_CLOEXEC | SFD_NONBLOCK);
    w->quit = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->sfd >= 0 && w->quit >= 0)
        w->started = pthread_create(&w->th, NULL, sig_main, w) == 0;
    if (!w->started)
        fprintf(stderr,
                "weir exec: warning: cannot watch for SIGTERM "
                "(%s): the run cannot be canceled\n",
                strerror(errno));
}

/* Stops the watch and drops stop signals still pending (a second
 * SIGTERM) so that unblocking them does not kill us on the way out. */
static void
signals_restore(struct saved_signals *s, struct sig_watch *w)
{
    static const struct timespec zero = {0, 0};
    uint64_t one = 1;
    sigset_t stop;

    if (w->started && write(w->quit, &one, sizeof(one)) == sizeof(one))
        pthread_join(w->th, NULL);
    if (w->sfd >= 0)
        close(w->sfd);
    if (w->quit >= 0)
        close(w->quit);
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    while (sigtimedwait(&stop, NULL, &zero) > 0)
        ;
    sigaction(SIGPIPE, &s->pipe, NULL);
    pthread_sigmask(SIG_SETMASK, &s->mask, NULL);
}

/* An error before the package runs: an OnError event from the package, so
 * that the execution's log says why. */
static void
early_error(struct rt_events *ev, const char *source, int code, const char *msg)
{
    struct rt_event e = {.kind = RT_EV_ERROR,
                         .source = source,
                         .path = "\\Package",
                         .message = msg,
                         .code = code};

    rt_events_emit(ev, &e);
}

static int
setup_events(const struct exec_conf *conf, struct rt_events *ev,
             struct werr *err)
{
    int fd = (int)conf->events_fd;

    ev->fd = -1;
    ev->text = stdout;
    ev->errs = stderr;
    ev->broken = false;
    if (fd < 0)
        return 0;
    if (fcntl(fd, F_GETFD) < 0)
        return werr_set(err, WERR_INVALID,
                        "--events-fd %d is not an open "
                        "file descriptor",
                        fd);
    /* The package's processes must not inherit the events pipe. */
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    ev->fd = fd;
    ev->text = NULL;
    return 0;
}

/* The absolute folder of a file; the caller frees. */
static char *
folder_of(const char *path)
{
    char *real = realpath(path, NULL), *copy, *dir;

    if (!real)
        real = xstrdup(path);
    copy = xstrdup(real);
    dir = xstrdup(dirname(copy));
    free(copy);
    free(real);
    return dir;
}

static int
apply_params(const struct exec_conf *conf, struct rt_params *ps,
             struct werr *err)
{
    if (conf->params_file && rt_params_set_file(ps, conf->params_file, err) < 0)
        return -1;
    for (char **a = conf->params; a && *a; a++)
        if (rt_params_set_arg(ps, *a, err) < 0)
            return -1;
    for (char **a = conf->connections; a && *a; a++)
        if (rt_conns_override_arg(ps->conns, *a, err) < 0)
            return -1;
    return 0;
}

static int
exit_code(enum rt_result r)
{
    switch (r) {
    case RT_SUCCESS:
    case RT_COMPLETION:
        return EXIT_OK;
    case RT_CANCELED:
        return EXIT_CANCELED;
    default:
        return EXIT_FAILED;
    }
}

static int
run_loaded(const struct exec_conf *conf, struct rt_run *run)
{
    struct saved_signals saved;
    struct sig_watch watch;
    struct rt_cancel cancel;
    struct werr err;
    int rc, problems;

    if (rt_cancel_init(&cancel, &err) < 0) {
        early_error(run->events, pkg_name(run->pkg), RT_E_LOAD, err.msg);
        return EXIT_FAILED;
    }
    run->cancel = &cancel;
    run->state =
        xcalloc(pkg_executable_count(run->pkg) + 1, sizeof(*run->state));
    run->kill_grace_s = 5;
    signals_setup(&saved, &watch, &cancel);
    problems = rt_validate(run);
    if (conf->validate || problems)
        rc = problems ? EXIT_FAILED : EXIT_OK;
    else if (rt_canceled(run))
        rc = EXIT_CANCELED;
    else
        rc = exit_code(rt_run_package(run));
    signals_restore(&saved, &watch);
    free(run->state);
    run->cancel = NULL;
    rt_cancel_release(&cancel);
    return rc;
}

static int
run_file(const struct exec_conf *conf, const char *path, struct rt_events *ev)
{
    struct werr err;
    struct pkg *p;
    struct pkg_project *pr = NULL;
    struct rt_params ps = {0};
    struct rt_conns conns = {0};
    struct rt_vars vars;
    struct rt_run run = {.events = ev, .params = &ps};
    char *pkgdir = NULL, *projdir = NULL;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int rc = EXIT_LOAD;

    if (!(p = pkg_load_file(path, &err))) {
        early_error(ev, base, RT_E_LOAD, err.msg);
        return err.code == WERR_NOTFOUND ? EXIT_NOTFOUND : EXIT_LOAD;
    }
    pkgdir = folder_of(path);
    if (conf->project_dir && !(projdir = realpath(conf->project_dir, NULL))) {
        snprintf(err.msg, sizeof(err.msg), "project folder '%s': %s",
                 conf->project_dir, strerror(errno));
        early_error(ev, pkg_name(p), RT_E_LOAD, err.msg);
        rc = EXIT_USAGE;
        goto out;
    }
    if (!projdir)
        projdir = xstrdup(pkgdir);
    if (!(pr = pkg_project_load_dir(projdir, &err))) {
        early_error(ev, pkg_name(p), RT_E_LOAD, err.msg);
        goto out;
    }
    if (rt_conns_init(&conns, p, projdir, &err) < 0) {
        early_error(ev, pkg_name(p), RT_E_LOAD, err.msg);
        goto out;
    }
    rt_params_init(&ps, p, pr);
    ps.conns = &conns;
    if (apply_params(conf, &ps, &err) < 0) {
        early_error(ev, pkg_name(p), RT_E_PARAMETER, err.msg);
        rc = EXIT_USAGE;
        goto out;
    }
    run.pkg = p;
    run.package_dir = pkgdir;
    run.project_dir = projdir;
    rt_vars_init(&vars, p, &ps);
    run.vars = &vars;
    run.conns = &conns;
    rc = run_loaded(conf, &run);
    rt_vars_release(&vars);
out:
    rt_conns_release(&conns);
    rt_params_release(&ps);
    pkg_project_free(pr);
    pkg_free(p);
    free(pkgdir);
    free(projdir);
    return rc;
}

int
rt_exec_run(int argc, char **argv)
{
    struct exec_conf conf;
    struct rt_events ev;
    struct werr err;
    char **pos = NULL;
    int rc;

    memset(&conf, 0, sizeof(conf));
    rc = wopt_parse(exec_options, &conf, "WEIR_EXEC", USAGE, argc, argv, &pos,
                    &err);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "weir exec: %s (see weir exec --help)\n", err.msg);
        rc = rc < 0 ? EXIT_USAGE : EXIT_OK;
        goto out;
    }
    if (!pos[0] || pos[1]) {
        fprintf(stderr, "weir exec: %s\n%s\n",
                pos[0] ? "one package at a time" : "which package?", USAGE);
        rc = EXIT_USAGE;
        goto out;
    }
    if (setup_events(&conf, &ev, &err) < 0) {
        fprintf(stderr, "weir exec: %s\n", err.msg);
        rc = EXIT_USAGE;
        goto out;
    }
    rc = run_file(&conf, pos[0], &ev);
out:
    free(pos);
    wopt_release(exec_options, &conf);
    return rc;
}

int
rt_exec_main(int argc, char **argv)
{
    int rc = rt_exec_run(argc, argv);

    xmlCleanupParser();
    return rc;
}
