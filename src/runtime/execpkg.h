/*
 * The Execute Package task's child run in a process of its own
 * (ExecuteOutOfProcess, execpkg_proc.c), for task_execpkg.c.
 */
#ifndef WEIR_RUNTIME_EXECPKG_H
#define WEIR_RUNTIME_EXECPKG_H

#include "runtime/conn.h"
#include "runtime/runtime_int.h"

/* What the child process runs, all borrowed from the task's child as it
 * was set up in this process (loaded, bound, validated). */
struct rt_child_proc {
    const char *target;             /* the .dtsx, or the .ispac holding it */
    const char *package;            /* the package of the .ispac, else NULL */
    const char *project_dir;        /* its project folder, or NULL */
    const struct pkg *pkg;          /* the child, to name its executables */
    const struct rt_params *params; /* its parameter values */
    const struct rt_conns *conns;   /* its connections (project ones
                                     * carry the overrides) */
    struct rt_events *events;       /* the child's events: under the task */
    char *const *sets; /* --set PATH;VALUE for the child, NULL-terminated
                        * (its parent package variable configurations) */
};

/* Runs `weir exec` on the child with its parameter values and connection
 * overrides, relays each event it writes as the child's (into the stream
 * under the task's path, and on to the handlers from task `e` up, its
 * errors counted there), stops it on cancel (SIGTERM, SIGKILL after the
 * run's grace), and returns its result; `errors` receives how many
 * OnError events it relayed.  Called with the run lock held. */
enum rt_result rt_execpkg_proc(struct rt_run *run,
                               const struct pkg_executable *e,
                               const struct rt_child_proc *cp, int *errors);

#endif
