/*
 * The weir command: a table of verbs, each handed argv from its own name
 * on.  The daemons (master, worker) and the package runtime (exec) live in
 * their modules; the client verbs in cli_*.c.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/werr.h"
#include "base/xalloc.h"
#include "cli/cli.h"
#include "expr/expr.h"
#include "master/master.h"
#include "runtime/runtime.h"
#include "worker/worker.h"

static int
master_verb(int argc, char **argv)
{
    return master_main(argc, argv);
}

/*
 * The worker runs every package through `weir-exec`, installed beside this
 * binary: it links only what running a package needs, so it starts in about
 * half the time this binary does (which loads libcurl, libmicrohttpd and
 * SQLite with their dependencies), and a process starts for every task.
 * Without it, this very binary's `exec` does the same job.
 */
static int
worker_verb(int argc, char **argv)
{
    char self[PATH_MAX], *lean = NULL;
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    int rc;

    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        lean = xasprintf("%.*s/weir-exec", (int)(slash - self), self);
        if (access(lean, X_OK) < 0) {
            free(lean);
            lean = NULL;
        }
    }
    rc = wk_main(argc, argv, lean ? lean : "/proc/self/exe");
    free(lean);
    return rc;
}

static int
exec_verb(int argc, char **argv)
{
    return rt_exec_main(argc, argv);
}

static const struct verb {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *summary;
} verbs[] = {
    {"master", master_verb, "run the master: HTTP API, catalog, scheduler"},
    {"worker", worker_verb, "run a worker that takes tasks from the master"},
    {"exec", exec_verb, "run one package here (as dtexec does)"},
    {"expr", expr_main, "evaluate an SSIS expression; print its value and type"},
    {"deploy", cli_deploy_main,
     "deploy a project (.ispac, folder or .dtsx) to a folder"},
    {"run", cli_run_main, "create and start executions of a package"},
    {"executions", cli_executions_main, "list executions"},
    {"execution", cli_execution_main, "show one execution"},
    {"log", cli_log_main, "print (or follow) an execution's messages"},
    {"stop", cli_stop_main, "stop an execution"},
    {"workers", cli_workers_main, "list, enable or disable workers"},
    {"projects", cli_projects_main, "list deployed projects"},
    {"packages", cli_packages_main, "list the packages of a project"},
};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static void
usage(FILE *f)
{
    fprintf(f, "usage: weir COMMAND [options]\n\nCommands:\n");
    for (size_t i = 0; i < NVERBS; i++)
        fprintf(f, "  %-12s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(f, "\n'weir COMMAND --help' describes a command's options.  The "
               "client commands\nfind the master with --master or "
               "WEIR_MASTER (default %s).\n", CLI_DEFAULT_MASTER);
}

static const struct verb *
find_verb(const char *name)
{
    for (size_t i = 0; i < NVERBS; i++)
        if (strcmp(verbs[i].name, name) == 0)
            return &verbs[i];
    return NULL;
}

int
main(int argc, char **argv)
{
    const struct verb *v;
    char *help[] = {NULL, "--help", NULL};

    if (argc < 2) {
        usage(stderr);
        return werr_exit_code(WERR_INVALID);
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("weir %s\n", WEIR_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        (!strcmp(argv[1], "help") && argc == 2)) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "help") && (v = find_verb(argv[2]))) {
        help[0] = argv[2]; /* weir help VERB: weir VERB --help */
        return v->main(2, help);
    }
    if (!(v = find_verb(argv[1]))) {
        fprintf(stderr, "weir: unknown command '%s'; see 'weir --help'\n",
                !strcmp(argv[1], "help") ? argv[2] : argv[1]);
        return werr_exit_code(WERR_INVALID);
    }
    return v->main(argc - 1, argv + 1);
}
