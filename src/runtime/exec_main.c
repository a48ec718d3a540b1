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
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
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
    bool validate_external;
    char **params;
    char *params_file;
    int64_t events_fd;
    char *project_dir;
    char **connections;
    char *package;
    int64_t execution_id;
    char **sets;
    bool child_process;
};

static const struct wopt exec_options[] = {
    {"validate", WOPT_BOOL, offsetof(struct exec_conf, validate), "false", 0, 0,
     "load and validate only (dtexec /Validate); list every problem", 0},
    {"validate-external", WOPT_BOOL,
     offsetof(struct exec_conf, validate_external), "true", 0, 0,
     "with --validate, connect to the databases of data flow components "
     "and check their tables and columns (SSIS's ValidateExternalMetadata)",
     0},
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
    {"set", WOPT_LIST, offsetof(struct exec_conf, sets), NULL, 0, 0,
     "set a property by its path, as dtexec /Set does: "
     "'\\Package.Variables[User::X].Properties[Value];VALUE' (or "
     ".Connections[NAME].Properties[ConnectionString]); applied after the "
     "package's configurations and --param; repeatable",
     0},
    {"package", WOPT_STR, offsetof(struct exec_conf, package), NULL, 0, 0,
     "the package to run when the argument is a project (an .ispac or a "
     "project folder): NAME.dtsx",
     0},
    {"execution-id", WOPT_INT, offsetof(struct exec_conf, execution_id), "0",
     0, INT64_MAX,
     "the catalog's execution id, which System::ServerExecutionID gives "
     "(0: not run by a server)",
     0},
    {"child-process", WOPT_BOOL, offsetof(struct exec_conf, child_process),
     "false", 0, 0,
     "run as an Execute Package task's out-of-process child: the events "
     "this package's handlers let go on (System::Propagate) are sent on "
     "--events-fd for the parent package's handlers, errors are not "
     "repeated on stderr (the parent does it), and parent package variable "
     "configurations are skipped (the parent gives their values with "
     "--set)",
     0},
    WOPT_END,
};

#define USAGE                                                                  \
    "usage: weir exec [options] PACKAGE.dtsx\n"                                \
    "       weir exec [options] --package NAME.dtsx PROJECT.ispac|FOLDER\n\n"    \
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

    *ev = (struct rt_events){.fd = -1, .text = stdout, .errs = stderr};
    if (fd < 0 && conf->child_process)
        return werr_set(err, WERR_INVALID,
                        "--child-process needs --events-fd");
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
    ev->handlers_up = conf->child_process;
    if (conf->child_process)
        ev->errs = NULL;
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
    run->validate_external = conf->validate && conf->validate_external;
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

/* What `weir exec` runs: the package, its project and where they are. */
struct target {
    struct pkg *p;
    struct pkg_project *pr;
    struct pkg_archive *ar;
    char *pkgdir, *projdir, *key;
    char *arpath; /* the .ispac's absolute path, when it is one */
};

static void
target_release(struct target *t)
{
    pkg_project_free(t->pr);
    pkg_free(t->p);
    pkg_archive_free(t->ar);
    free(t->pkgdir);
    free(t->projdir);
    free(t->key);
    free(t->arpath);
}

static bool
has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && !strcasecmp(s + n - k, suffix);
}

static bool
is_folder(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A package file, or --package NAME in a project folder. */
static int
load_dtsx(const struct exec_conf *conf, const char *path,
          struct rt_events *ev, struct target *t)
{
    struct werr err;
    char *file = NULL;
    const char *base;
    int rc = EXIT_LOAD;

    if (is_folder(path)) {
        if (!conf->package) {
            early_error(ev, path, RT_E_LOAD,
                        "a project folder needs --package NAME.dtsx");
            return EXIT_USAGE;
        }
        file = xasprintf("%s/%s", path, conf->package);
        if (!conf->project_dir && !(t->projdir = realpath(path, NULL)))
            t->projdir = xstrdup(path);
        path = file;
    } else if (conf->package) {
        early_error(ev, path, RT_E_LOAD,
                    "--package picks a package of a project (an .ispac or "
                    "a folder), not of a .dtsx");
        return EXIT_USAGE;
    }
    base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (!(t->p = pkg_load_file(path, &err))) {
        early_error(ev, base, RT_E_LOAD, err.msg);
        rc = err.code == WERR_NOTFOUND ? EXIT_NOTFOUND : EXIT_LOAD;
        goto out;
    }
    t->pkgdir = folder_of(path);
    if (!(t->key = realpath(path, NULL)))
        t->key = xstrdup(path);
    rc = 0;
out:
    free(file);
    return rc;
}

/* --package NAME of an .ispac read into memory. */
static int
load_ispac(const struct exec_conf *conf, const char *path,
           struct rt_events *ev, struct target *t)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const struct pkg_archive_file *f = NULL;
    struct werr err;
    struct wbuf list;
    int rc;

    if (!(t->ar = pkg_archive_load_file(path, &err))) {
        early_error(ev, base, RT_E_LOAD, err.msg);
        return err.code == WERR_NOTFOUND ? EXIT_NOTFOUND : EXIT_LOAD;
    }
    if (conf->package && (f = pkg_archive_find(t->ar, conf->package)) &&
        !pkg_archive_is_package(f))
        f = NULL;
    if (!f) {
        wbuf_init(&list, WBUF_NOLIMIT);
        pkg_archive_list_packages(t->ar, &list);
        snprintf(err.msg, sizeof(err.msg), "%s%s%s: '%s' holds %s",
                 conf->package ? "no package '" : "which package? use "
                                                  "--package NAME.dtsx",
                 conf->package ? conf->package : "",
                 conf->package ? "'" : "", base,
                 list.len ? list.buf : "no package");
        early_error(ev, base, RT_E_LOAD, err.msg);
        wbuf_release(&list);
        return conf->package ? EXIT_NOTFOUND : EXIT_USAGE;
    }
    if (!(t->p = pkg_load_memory(f->path, f->data, f->len, &err))) {
        early_error(ev, f->path, RT_E_LOAD, err.msg);
        return EXIT_LOAD;
    }
    t->pkgdir = folder_of(path);
    t->key = xstrdup(f->path);
    if (!(t->arpath = realpath(path, NULL)))
        t->arpath = xstrdup(path);
    if ((f = pkg_archive_find(t->ar, "Project.params")) &&
        !(t->pr = pkg_project_load_memory(f->path, f->data, f->len, &err))) {
        early_error(ev, pkg_name(t->p), RT_E_LOAD, err.msg);
        return EXIT_LOAD;
    }
    rc = 0;
    return rc;
}

/* The project's connection managers: the folder's .conmgr files, or the
 * archive's. */
static int
load_conns(struct target *t, struct rt_conns *conns, struct werr *err)
{
    const struct pkg_archive_file *f;
    size_t n;

    if (!t->ar)
        return rt_conns_init(conns, t->p, t->projdir, err);
    if (rt_conns_init(conns, t->p, NULL, err) < 0)
        return -1;
    f = pkg_archive_files(t->ar, &n);
    for (size_t i = 0; i < n; i++)
        if (!strchr(f[i].path, '/') && has_suffix(f[i].path, ".conmgr") &&
            rt_conns_add_conmgr(conns, f[i].path, f[i].data, f[i].len, err) <
                0)
            return -1;
    return 0;
}

/* The project folder and Project.params of a package file. */
static int
load_project(const struct exec_conf *conf, struct rt_events *ev,
             struct target *t)
{
    struct werr err;

    if (conf->project_dir &&
        !(t->projdir = realpath(conf->project_dir, NULL))) {
        snprintf(err.msg, sizeof(err.msg), "project folder '%s': %s",
                 conf->project_dir, strerror(errno));
        early_error(ev, pkg_name(t->p), RT_E_LOAD, err.msg);
        return EXIT_USAGE;
    }
    if (!t->projdir)
        t->projdir = xstrdup(t->pkgdir);
    if (!(t->pr = pkg_project_load_dir(t->projdir, &err))) {
        early_error(ev, pkg_name(t->p), RT_E_LOAD, err.msg);
        return EXIT_LOAD;
    }
    return 0;
}

static int
load_target(const struct exec_conf *conf, const char *path,
            struct rt_events *ev, struct target *t)
{
    int rc;

    if (has_suffix(path, ".ispac") && !is_folder(path))
        return load_ispac(conf, path, ev, t);
    if ((rc = load_dtsx(conf, path, ev, t)) != 0)
        return rc;
    return load_project(conf, ev, t);
}

/* The package's configurations, then the execution's values (--param,
 * --params-file, --connection, --set), as dtexec applies them. */
static int
configure(const struct exec_conf *conf, struct rt_run *run,
          struct rt_params *ps, struct werr *err)
{
    struct wbuf errors;
    int n;

    wbuf_init(&errors, WBUF_NOLIMIT);
    if ((n = rt_configs_apply(run, ps, &errors)) > 0) {
        size_t len = strcspn(errors.buf, "\n");
        werr_set(err, WERR_INVALID, "%.*s", (int)len, errors.buf);
    }
    wbuf_release(&errors);
    if (n > 0)
        return -2;
    if (apply_params(conf, ps, err) < 0)
        return -1;
    for (char **a = conf->sets; a && *a; a++)
        if (rt_property_set_arg(run, ps, *a, err) < 0)
            return -1;
    return 0;
}

static int
run_target(const struct exec_conf *conf, struct target *t,
           struct rt_events *ev)
{
    struct werr err;
    struct rt_params ps = {0};
    struct rt_conns conns = {0};
    struct rt_vars vars;
    struct rt_project project = {.dir = t->projdir, .archive = t->ar,
                                 .archive_path = t->arpath,
                                 .params = t->pr};
    struct rt_run run = {.events = ev,
                         .params = &ps,
                         .project = &project,
                         .parent_elsewhere = conf->child_process};
    int rc = EXIT_LOAD;

    if (load_conns(t, &conns, &err) < 0) {
        early_error(ev, pkg_name(t->p), RT_E_LOAD, err.msg);
        goto out;
    }
    rt_params_init(&ps, t->p, t->pr);
    ps.conns = &conns;
    run.pkg = t->p;
    run.package_dir = t->pkgdir;
    run.project_dir = t->projdir;
    run.key = t->key;
    rt_vars_init(&vars, t->p, &ps);
    vars.sys.server_execution_id = conf->execution_id;
    run.vars = &vars;
    run.conns = &conns;
    if ((rc = configure(conf, &run, &ps, &err)) < 0) {
        early_error(ev, pkg_name(t->p), rc == -2 ? RT_E_CONFIG : RT_E_PARAMETER,
                    err.msg);
        rc = rc == -2 ? EXIT_FAILED : EXIT_USAGE;
    } else {
        rc = run_loaded(conf, &run);
    }
    rt_vars_release(&vars);
out:
    rt_project_release(&project);
    rt_conns_release(&conns);
    rt_params_release(&ps);
    return rc;
}

static int
run_file(const struct exec_conf *conf, const char *path, struct rt_events *ev)
{
    struct target t = {0};
    int rc = load_target(conf, path, ev, &t);

    if (rc == 0)
        rc = run_target(conf, &t, ev);
    target_release(&t);
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
