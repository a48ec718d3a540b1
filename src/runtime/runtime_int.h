/*
 * Private declarations of the package runtime.
 *
 * One run of one package is a `struct rt_run`: the loaded package, where
 * its events go, the parameter values, and per-executable state indexed by
 * pkg_executable.index.  Each executable type is implemented by an ops
 * table (`struct rt_task_ops`, curl's vtls style) found by its canonical
 * type name, so new tasks and containers are added without touching the
 * engine.
 *
 * Concurrency (container.c).  A container starts every child whose
 * precedence constraints are satisfied, each on its own thread, up to the
 * package's MaxConcurrentExecutables running tasks.  All runtime code runs
 * under ONE lock, `run->lock`, which the scheduler holds on behalf of
 * whoever runs an executable; so the variable store, events, expression
 * caches, per-executable state and constraints need no locking of their
 * own, and a task is safe by default.  The rule for tasks: release the
 * lock with rt_blocking_begin() around anything that blocks (waiting on a
 * process, a socket, a database statement, a sleep) and take it back
 * with rt_blocking_end() before touching the run again (events,
 * variables, rt_error...).  Code between the two calls must not use the
 * run at all, except rt_cancel_fd() and rt_cancel_requested().  Tasks that
 * start threads of their own (Data Flow) follow the same rule: only a
 * thread holding the lock may call into the runtime.  Executables that a
 * running task starts itself (an event handler for an error it raised)
 * run under the lock it holds and never wait for a slot, since the task
 * keeps its own until they end.
 *
 * Cancel: a `struct rt_cancel` (weir exec's SIGTERM/SIGINT) is raised from
 * any thread; every wait polls rt_cancel_fd() so that it wakes at once,
 * then calls rt_canceled() under the lock.  A task that runs a package of
 * its own (Execute Package) gives it its own `struct rt_run` (and so its
 * own MaxConcurrentExecutables) sharing `cancel`, and runs it with the
 * parent's lock released.
 */
#ifndef WEIR_RUNTIME_INT_H
#define WEIR_RUNTIME_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/wbuf.h"
#include "base/werr.h"
#include "package/package.h"

/* The result of an executable, as OnPostExecute's `result` reports it
 * (DTSExecResult plus canceled). */
enum rt_result {
    RT_SUCCESS = 0,
    RT_FAILURE = 1,
    RT_COMPLETION = 2,
    RT_CANCELED = 3,
};

/* Events, with their SSISDB message types (docs/exec.md). */
enum rt_event_kind {
    RT_EV_PRE_VALIDATE,
    RT_EV_POST_VALIDATE,
    RT_EV_PRE_EXECUTE,
    RT_EV_POST_EXECUTE,
    RT_EV_PROGRESS,
    RT_EV_INFORMATION,
    RT_EV_WARNING,
    RT_EV_ERROR,
    RT_EV_TASK_FAILED,
};

/* Codes carried by OnError events (docs/exec.md lists them). */
enum rt_error_code {
    RT_E_VALIDATION = 1,       /* the package failed validation */
    RT_E_PARAMETER = 2,        /* a parameter value is missing or invalid */
    RT_E_LOAD = 3,             /* the package could not be loaded */
    RT_E_PROCESS_START = 10,   /* a process could not be started */
    RT_E_PROCESS_EXIT = 11,    /* a process ended with the wrong exit code */
    RT_E_PROCESS_TIMEOUT = 12, /* a process ran past its TimeOut */
    RT_E_PROCESS_SIGNAL = 13,  /* a process was killed by a signal */
    RT_E_SQL_CONNECT = 20,     /* a database connection failed */
    RT_E_SQL = 21,             /* a statement failed */
    RT_E_SQL_RESULT = 22,      /* a result or parameter binding failed */
    RT_E_EXPRESSION = 30,      /* an expression failed when evaluated */
    RT_E_FILE = 40,            /* a File System task operation failed */
    RT_E_MAIL = 50,            /* a Send Mail task could not send */
    RT_E_FOREACH = 60,         /* a Foreach enumerator or mapping failed */
    RT_E_DATAFLOW = 70,        /* a data flow component failed */
    RT_E_CHILD = 80,           /* a child package failed or did not load */
    RT_E_CONFIG = 81,          /* a package configuration cannot apply */
};

struct rt_event {
    enum rt_event_kind kind;
    const char *source;    /* the executable's name */
    const char *path;      /* its package path */
    const char *message;   /* may be NULL for "" */
    enum rt_result result; /* OnPostExecute only */
    int64_t start_ms;      /* OnPostExecute only */
    int code;              /* OnError only */
};

/* Where events go: JSON lines on a descriptor (the worker's pipe), or
 * readable lines on `text` (stdout).  Errors are also written to `errs`
 * (stderr) when it is set, so they are seen in either mode. */
struct rt_events {
    int fd;      /* -1 for text */
    FILE *text;  /* used when fd is -1; NULL drops text output */
    FILE *errs;  /* NULL: errors are not repeated */
    bool broken; /* a write to fd failed; later events are dropped */
    /* A child package's events (task_execpkg.c): `path_prefix` (the
     * Execute Package task's full path) goes before every path, and
     * `package` (the child's file name) is the JSON member "package".
     * Both NULL in the top package. */
    const char *path_prefix, *package;
    /* An ExecuteOutOfProcess child (--child-process): each event its
     * handlers let go on is written as a {"raise": EVENT} line for the
     * parent process to raise there (rt_events_raise_up). */
    bool handlers_up;
};

/* The SSISDB type (30 for OnPreExecute...) and the name of a kind. */
int rt_event_type(enum rt_event_kind kind);
const char *rt_event_name(enum rt_event_kind kind);
/* Writes one event (one write(2) per JSON line).  Invalid UTF-8 in the
 * message is replaced with U+FFFD. */
void rt_events_emit(struct rt_events *ev, const struct rt_event *e);
/* Appends `n` bytes of `s` to `out` as valid UTF-8: invalid sequences and
 * NUL bytes become U+FFFD. */
void rt_utf8_clean(const char *s, size_t n, struct wbuf *out);

/* Parameter values for one run: the package's and the project's
 * parameters, their design defaults, and what the execution set. */
struct rt_param {
    const struct pkg_parameter *def;
    bool project; /* $Project:: rather than $Package:: */
    char *value;  /* NULL when unset (no default, or an encrypted one) */
    bool set;     /* given by the execution */
};

struct rt_params {
    struct rt_param *v;
    size_t n;
    /* When set, names "CM.<Name>.ConnectionString" set that connection
     * manager's string instead (conn.h). */
    struct rt_conns *conns;
    /* Property overrides given by property path (overrides.c). */
    const struct pkg *pkg;
    struct rt_override *overrides;
    size_t noverrides;
};

/* A property override, as SSISDB's execution property overrides and
 * dtexec /Set name them: "\Package\Loop.ForEachEnumerator.Properties[
 * Directory]" (the package path, the object, the property). */
struct rt_override {
    char *path, *value;
};

/* True if a parameter name is a property path (it starts with "\"). */
bool rt_override_is_path(const char *name);
/* Records an override; WERR_INVALID when the path names no executable of
 * the package or a property weir does not override (today a Foreach
 * Loop's enumerator's Directory and FileSpec). */
int rt_override_set(struct rt_params *ps, const char *path, const char *value,
                    struct werr *err);
/* The value given for `object` ("ForEachEnumerator") property `property`
 * of `e`, or NULL; borrowed from `ps` (which may be NULL). */
const char *rt_override_get(const struct rt_params *ps,
                            const struct pkg_executable *e, const char *object,
                            const char *property);
void rt_overrides_release(struct rt_params *ps);

/* Lists the parameters of `p` and of the project `pr` (may be NULL) with
 * their design defaults. */
void rt_params_init(struct rt_params *ps, const struct pkg *p,
                    const struct pkg_project *pr);
void rt_params_release(struct rt_params *ps);
/* Sets a parameter by name: "Name" (package parameter, else project),
 * "$Package::Name" or "$Project::Name".  An unknown name or a value that
 * does not fit the type is WERR_INVALID naming the parameter (never a
 * sensitive value). */
int rt_params_set(struct rt_params *ps, const char *name, const char *value,
                  struct werr *err);
/* Applies "NAME=VALUE". */
int rt_params_set_arg(struct rt_params *ps, const char *arg, struct werr *err);
/* Applies a JSON object {"Name": "value"} read from `path` (numbers and
 * booleans are accepted and converted to text). */
int rt_params_set_file(struct rt_params *ps, const char *path,
                       struct werr *err);
/* Appends one problem line per required parameter without a value;
 * returns how many. */
int rt_params_check(const struct rt_params *ps, struct wbuf *problems);
/* The parameter a name refers to, or NULL. */
const struct rt_param *rt_params_find(const struct rt_params *ps,
                                      const char *name);

/* Per-executable state of a run. */
struct rt_state {
    int errors; /* OnError events raised in it or below it */
    int64_t start_ms;
    enum rt_result result;
    bool ran;
    /* A handler for an event it raised failed during this execution, so
     * it fails (handlers.c). */
    bool handler_failed;
};

/* A cancel request that any thread may raise (a signal-handling thread,
 * a test) and every wait can poll.  Owned by whoever starts the run. */
struct rt_cancel {
    atomic_int sig; /* 0, the signal (SIGTERM, SIGINT) that canceled, or
                     * RT_CANCEL_BY_HANDLER */
    int fd;         /* an eventfd, readable once canceled */
};

/* The cancel an event handler asked for by setting System::Cancel. */
#define RT_CANCEL_BY_HANDLER (-1)

/* Sets `c` up; -1 when no eventfd can be made. */
int rt_cancel_init(struct rt_cancel *c, struct werr *err);
void rt_cancel_release(struct rt_cancel *c);
/* Requests cancel for signal `sig` (the first request wins); safe from any
 * thread and from a signal handler. */
void rt_cancel_raise(struct rt_cancel *c, int sig);

/* What the packages of one execution share (task_execpkg.c): where the
 * project's files are, its parameters, and the child packages Execute
 * Package tasks load, each once per execution. */
struct rt_child_pkg;
struct pkg_archive;
struct rt_project {
    const char *dir;                   /* the project folder, or NULL */
    const struct pkg_archive *archive; /* the .ispac read, or NULL */
    const char *archive_path;          /* and its file, or NULL */
    const struct pkg_project *params;  /* Project.params; may be NULL */
    struct rt_child_pkg **children;    /* loaded so far */
    size_t nchildren, cap;
};

/* Frees the child packages loaded (the rest is borrowed). */
void rt_project_release(struct rt_project *pj);

/* Legacy package configurations and property paths (config_legacy.c).
 * rt_property_set sets what a property path names, "\\Package.Variables[
 * User::X].Properties[Value]", "\\Package.Connections[Name].Properties[
 * ConnectionString]" or an override rt_params_set takes (`ps` may be
 * NULL); WERR_NOTFOUND for a path weir does not apply.
 * rt_property_set_arg applies "PATH;VALUE" (weir exec --set).
 * rt_configs_apply applies the package's configurations to a run whose
 * variables and connections are set up: problems that SSIS only warns
 * about are OnWarning events from the package; those that must stop the
 * run are appended to `errors` as lines, and counted in the result.
 * rt_configs_parent_sets gives, for a child's run set up in its parent's
 * process, "TARGET;VALUE" for each of its parent package variable
 * configurations (NULL-terminated, for --set; warnings as
 * rt_configs_apply gives them), so that a child run out of process gets
 * them; rt_configs_apply skips them in a run whose parent_elsewhere is
 * set. */
struct rt_run;
struct rt_params;
int rt_property_set(struct rt_run *run, struct rt_params *ps, const char *path,
                    const char *value, struct werr *err);
int rt_property_set_arg(struct rt_run *run, struct rt_params *ps,
                        const char *arg, struct werr *err);
int rt_configs_apply(struct rt_run *run, struct rt_params *ps,
                     struct wbuf *errors);
char **rt_configs_parent_sets(struct rt_run *run);

struct rt_run {
    const struct pkg *pkg;
    const char *package_dir; /* absolute folder of the .dtsx */
    const char *project_dir;
    struct rt_events *events;
    const struct rt_params *params;
    struct rt_state *state; /* by pkg_executable.index */
    /* Set when an executable with FailPackageOnFailure failed: nothing
     * else starts and the package fails. */
    bool package_failed;
    /* Where cancel comes from; NULL: the run cannot be canceled. */
    struct rt_cancel *cancel;
    bool cancel_reported;
    /* weir exec --validate: validation also connects to the databases
     * of data flow components to check their tables and columns. */
    bool validate_external;
    /* Seconds between SIGTERM and SIGKILL when stopping a process. */
    int kill_grace_s;
    /* Variables (vars.h) and connections (conn.h); NULL in runs that
     * have none set up, where tasks needing them fail validation. */
    struct rt_vars *vars;
    struct rt_conns *conns;
    /* The run lock and the scheduler's state (container.c), set up by
     * rt_run_package; `threaded` is false outside it (validation), where
     * rt_blocking_begin/end do nothing. */
    pthread_mutex_t lock;
    pthread_cond_t changed; /* broadcast when a child ends or a slot frees */
    bool threaded;
    int slots_max;  /* MaxConcurrentExecutables, resolved */
    int slots_used; /* tasks running now */

    /* The project (NULL in runs without one: Execute Package tasks then
     * fail validation).  In a child package's run, `parent` is the run
     * and `parent_task` the Execute Package task that started it (NULL in
     * the top package): the way a child's events are to reach the
     * parent's event handlers.  `key` names the package file, to refuse
     * a package that executes itself. */
    struct rt_project *project;
    struct rt_run *parent;
    const struct pkg_executable *parent_task;
    const char *key;
    /* In a child's run: whether the thread running it holds the parent's
     * lock already (while the Execute Package task sets the child up or
     * validates it), so that events going up do not take it again. */
    bool parent_locked;
    /* Events run event handlers (from the package's start to its end). */
    bool handlers_on;
    /* The top run of an out-of-process child (weir exec --child-process):
     * its parent is in another process, which applies the parent package
     * variable configurations and passes their values with --set. */
    bool parent_elsewhere;
};

/* An executable type's implementation. */
struct rt_task_ops {
    const char *type; /* canonical, as pkg_type_normalize gives it */
    /* Checks what can only be checked on this machine before anything
     * runs (programs on PATH, folders); for executables with
     * DelayValidation, called instead right before they execute.  Appends
     * "path: message" lines; returns how many.  May be NULL. */
    int (*validate)(struct rt_run *run, const struct pkg_executable *e,
                    struct wbuf *problems);
    /* Does the work.  The engine emits OnPreExecute, OnPostExecute and
     * OnTaskFailed around it; the task emits its own information, warning
     * and error events (errors through rt_error, so they are counted). */
    enum rt_result (*execute)(struct rt_run *run,
                              const struct pkg_executable *e);
};

extern const struct rt_task_ops rt_package_ops;
extern const struct rt_task_ops rt_sequence_ops;
extern const struct rt_task_ops rt_process_ops;
extern const struct rt_task_ops rt_sql_ops;
extern const struct rt_task_ops rt_expr_task_ops;
extern const struct rt_task_ops rt_forloop_ops;
extern const struct rt_task_ops rt_fs_ops;
extern const struct rt_task_ops rt_mail_ops;
extern const struct rt_task_ops rt_foreach_ops;
extern const struct rt_task_ops rt_dataflow_ops;
extern const struct rt_task_ops rt_execpkg_ops;
extern const struct rt_task_ops rt_handler_ops;

/* A task's settings element: the child of its DTS:ObjectData named
 * `name` (local name, any namespace prefix), or NULL (payload.c). */
struct _xmlNode;
const struct _xmlNode *rt_payload(const struct pkg_executable *e,
                                  const char *name);
/* The value of attribute `name` of `n` (any namespace), "" when it or `n`
 * is absent; the caller frees. */
char *rt_xml_attr(const struct _xmlNode *n, const char *name);

/* The implementation of a canonical type, or NULL. */
const struct rt_task_ops *rt_ops_for(const char *type);

/* Emits an event from executable `e`. */
void rt_emit(struct rt_run *run, const struct pkg_executable *e,
             enum rt_event_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Emits OnError from `e` and counts it in `e` and every container above
 * it (MaximumErrorCount). */
void rt_error(struct rt_run *run, const struct pkg_executable *e, int code,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* True once the run's cancel was raised; the first time, emits the
 * OnWarning "canceled" from the package.  Called with the lock held. */
bool rt_canceled(struct rt_run *run);
/* Whether cancel was raised, without the lock and without an event. */
bool rt_cancel_requested(const struct rt_run *run);
/* The descriptor that becomes readable on cancel, for poll(2) with the
 * other descriptors a task waits on; -1 (which poll ignores) when the run
 * cannot be canceled. */
int rt_cancel_fd(const struct rt_run *run);

/* Release and take back the run lock around blocking work (see the top of
 * this file).  Calls must pair up, in the same thread. */
void rt_blocking_begin(struct rt_run *run);
void rt_blocking_end(struct rt_run *run);
/* Sleeps `ms` milliseconds without the lock; returns -1 early when the
 * run is canceled (rt_canceled then reports it), else 0. */
int rt_sleep_ms(struct rt_run *run, int64_t ms);

/* Validates the package for this run: pkg_validate, the tasks' own
 * checks, required parameters.  Each problem becomes an OnError from the
 * package between OnPreValidate and OnPostValidate; returns how many. */
int rt_validate(struct rt_run *run);
/* Appends the validation problem "PATH: message\n" about `e` to `out`;
 * returns 1, the number of problems it adds, for `n += rt_problem(...)`. */
int rt_problem(struct wbuf *out, const struct pkg_executable *e,
               const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Runs one executable with its OnPreExecute/OnPostExecute events; the
 * caller has checked that it is enabled. */
enum rt_result rt_execute(struct rt_run *run, const struct pkg_executable *e);
/* Property expressions (propexpr.c).  rt_props_validate compiles those of
 * `e`, appending problems (and warning about properties weir does not
 * apply); returns how many.  rt_prop_text evaluates the expression on
 * `property` into text (caller frees): 1 when there is one, 0 when none,
 * -1 after raising the error from `e`.  rt_prop_disabled gives whether
 * `e` is disabled, its Disable expression applied; -1 after an error.
 * rt_prop_applied says whether weir applies `property` of `e` (the others
 * are warned about at validation and left alone). */
struct rt_value;
bool rt_prop_applied(const struct pkg_executable *e, const char *property);
int rt_props_validate(struct rt_run *run, const struct pkg_executable *e,
                      struct wbuf *problems);
int rt_prop_value(struct rt_run *run, const struct pkg_executable *e,
                  const char *property, struct rt_value *out);
int rt_prop_text(struct rt_run *run, const struct pkg_executable *e,
                 const char *property, char **out);
int rt_prop_disabled(struct rt_run *run, const struct pkg_executable *e,
                     bool *disabled);

/* Runs the children of container `c` once, as a Sequence does (the
 * constraints between them, MaximumErrorCount, FailParentOnFailure),
 * independent ones at the same time; returns the container's result.
 * Called with the run lock held (from an executable's execute). */
enum rt_result rt_container_run(struct rt_run *run,
                                const struct pkg_executable *c);
/* Runs the whole package, setting up the run lock and its concurrency
 * limit for the duration; returns its result. */
enum rt_result rt_run_package(struct rt_run *run);

/*
 * Event handlers (handlers.c).  rt_handlers_raise runs the handlers for
 * an event raised by `src`: those on `src`, then on each container above
 * it, until one sets System::Propagate to False; a failing handler sets
 * run->state[src->index].handler_failed.  It does nothing before
 * rt_handlers_begin (called when the package starts) or after
 * rt_handlers_end, nor once the run is canceled.  In a child package's
 * run, an event that the child's handlers let go on goes on to the
 * parent's, from the Execute Package task up (rt_run.parent_task), as
 * in SSIS.  rt_handlers_count_error counts an error raised in a child's
 * run (already counted there) in the Execute Package task and the
 * containers above it, package by package: errors count whatever
 * System::Propagate says.  In the top run of an out-of-process child
 * (rt_events.handlers_up), such an event goes to the parent process
 * instead, as a line on the events descriptor.  rt_handlers_validate
 * warns about handlers that never run (OnPreValidate...).
 */
struct rt_var;
struct rt_hevent {
    const char *event;     /* "OnError", "OnPreExecute"... */
    int code;              /* System::ErrorCode */
    const char *message;   /* System::ErrorDescription; may be NULL */
    const struct rt_var *var; /* OnVariableValueChanged */
    /* The executable whose work raised it, when not `src` (the task that
     * set a variable whose owner raises OnVariableValueChanged); NULL
     * for `src`.  Recursion rules look at it. */
    const struct pkg_executable *raiser;
    /* What System::SourceName and SourceID name, when not `src`: the
     * executable of a child package whose event reached the Execute
     * Package task `src`.  NULL for `src`. */
    const struct pkg_executable *source;
    int percent; /* OnProgress: System::ProgressComplete */
};
/* Writes {"raise": EVENT, "path": PATH, "code", "message", "percent"}
 * as one line: an event from the executable at PATH that this process's
 * handlers let go on to the parent process's (execpkg_proc.c). */
void rt_events_raise_up(struct rt_events *ev, const char *path,
                        const struct rt_hevent *h);
void rt_handlers_raise(struct rt_run *run, const struct pkg_executable *src,
                       const struct rt_hevent *ev);
void rt_handlers_count_error(struct rt_run *run);
/* rt_execute's other events, which only run handlers (they are not in
 * the event stream): OnQueryCancel then OnExecStatusChanged (executing)
 * before `e` starts, OnExecStatusChanged (completed) once its work has
 * ended. */
void rt_handlers_starting(struct rt_run *run, const struct pkg_executable *e);
void rt_handlers_status(struct rt_run *run, const struct pkg_executable *e);
/* Emits OnProgress from `e`, "MESSAGE: N% complete" as SSIS words it, and
 * runs its handlers with System::ProgressComplete `percent` and
 * ProgressDescription MESSAGE.  A negative `percent` is progress without
 * a known total (a data flow's rows so far): MESSAGE alone, and
 * ProgressComplete 0. */
void rt_progress(struct rt_run *run, const struct pkg_executable *e,
                 int percent, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void rt_handlers_begin(struct rt_run *run);
void rt_handlers_end(struct rt_run *run);
void rt_handlers_validate(struct rt_run *run, const struct pkg_executable *e);

/* Splits an Execute Process task's Arguments the way Windows programs
 * split a command line (CommandLineToArgvW): white space separates, double
 * quotes group, a backslash escapes a quote, "" inside quotes is a quote,
 * other backslashes are literal.  Single quotes are not special.  Returns
 * a NULL-terminated array that starts with `argv0`; free it with
 * rt_args_free. */
char **rt_args_split(const char *argv0, const char *args);
void rt_args_free(char **argv);

/* `weir exec` without xmlCleanupParser, for tests that run it in-process
 * more than once.  Same arguments and exit codes as rt_exec_main. */
int rt_exec_run(int argc, char **argv);

#endif
