/* The harness of the runtime tests that run whole packages in process
 * (test_config.c, test_execpkg*.c, test_fs.c, test_mail.c,
 * test_streams.c): package-building macros, a temporary folder per test,
 * `weir exec --events-fd` through rt_exec_run with the events on a file,
 * and readers of those events (each checked for the fields every event
 * has).  Static functions: each test includes it
 * once, after cmocka.h. */
#ifndef WEIR_TESTS_RUNTIME_PKGRUN_H
#define WEIR_TESTS_RUNTIME_PKGRUN_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <jansson.h>

#include "base/wbuf.h"
#include "base/wfile.h"
#include "base/wtime.h"
#include "base/xalloc.h"
#include "runtime/runtime_int.h"

#define HEAD(name)                                                            \
    "<?xml version=\"1.0\"?>\n"                                               \
    "<DTS:Executable xmlns:DTS=\"www.microsoft.com/SqlServer/Dts\"\n"         \
    "  DTS:refId=\"Package\" DTS:CreationName=\"Microsoft.Package\"\n"        \
    "  DTS:ExecutableType=\"Microsoft.Package\" DTS:ObjectName=\"" name "\">" \
    "\n  <DTS:Property DTS:Name=\"PackageFormatVersion\">8</DTS:Property>\n"
/* HEAD with more attributes (DTS:MaxErrorCount=\"3\"). */
#define HEAD_ATTRS(name, attrs)                                               \
    "<?xml version=\"1.0\"?>\n"                                               \
    "<DTS:Executable xmlns:DTS=\"www.microsoft.com/SqlServer/Dts\"\n"         \
    "  DTS:refId=\"Package\" DTS:CreationName=\"Microsoft.Package\"\n"        \
    "  DTS:ExecutableType=\"Microsoft.Package\" DTS:ObjectName=\"" name "\" " \
    attrs ">\n  <DTS:Property DTS:Name=\"PackageFormatVersion\">8"            \
    "</DTS:Property>\n"
#define TAIL "</DTS:Executable>\n"
#define EXES(x) "<DTS:Executables>" x "</DTS:Executables>\n"
#define VARS(x) "<DTS:Variables>" x "</DTS:Variables>\n"
#define VAR(name, type, value)                                                \
    "<DTS:Variable DTS:Namespace=\"User\" DTS:ObjectName=\"" name "\">"       \
    "<DTS:VariableValue DTS:DataType=\"" type "\">" value                     \
    "</DTS:VariableValue></DTS:Variable>"
#define PARAMS(x) "<DTS:PackageParameters>" x "</DTS:PackageParameters>\n"
#define PARAM(name, type, attrs, value)                                       \
    "<DTS:PackageParameter DTS:ObjectName=\"" name "\" DTS:DataType=\"" type  \
    "\" " attrs "><DTS:Property DTS:DataType=\"" type "\" "                   \
    "DTS:Name=\"ParameterValue\">" value "</DTS:Property>"                    \
    "</DTS:PackageParameter>"
/* An Execute Process task running /bin/sh with Arguments from an
 * expression (EXPR is the expression text, XML-escaped). */
#define SH_EXPR(name, expr)                                                   \
    "<DTS:Executable DTS:refId=\"Package\\" name "\" DTS:ObjectName=\"" name  \
    "\" DTS:ExecutableType=\"Microsoft.ExecuteProcess\">"                     \
    "<DTS:PropertyExpression DTS:Name=\"Arguments\">" expr                    \
    "</DTS:PropertyExpression><DTS:ObjectData><ExecuteProcessData "           \
    "Executable=\"/bin/sh\" Arguments=\"\" /></DTS:ObjectData>"               \
    "</DTS:Executable>\n"
#define SH(name, script)                                                      \
    "<DTS:Executable DTS:refId=\"Package\\" name "\" DTS:ObjectName=\"" name  \
    "\" DTS:ExecutableType=\"Microsoft.ExecuteProcess\"><DTS:ObjectData>"     \
    "<ExecuteProcessData Executable=\"/bin/sh\" Arguments=\"-c &quot;"        \
    script "&quot;\" /></DTS:ObjectData></DTS:Executable>\n"
/* An Execute Package task; BODY goes inside <ExecutePackageTask>, INNER
 * (event handlers) inside the executable. */
#define EXECPKGX(name, attrs, body, inner)                                    \
    "<DTS:Executable DTS:refId=\"Package\\" name "\" DTS:ObjectName=\"" name  \
    "\" DTS:ExecutableType=\"Microsoft.ExecutePackageTask\" " attrs ">"       \
    "<DTS:ObjectData><ExecutePackageTask>" body "</ExecutePackageTask>"       \
    "</DTS:ObjectData>" inner "</DTS:Executable>\n"
#define EXECPKG(name, attrs, body) EXECPKGX(name, attrs, body, "")
/* Event handlers: HANDLER(OWNER, EVENT, VARS, BODY) is the handler for
 * EVENT on the executable whose refId is OWNER; TRACE(PARENT, NAME,
 * EXPR) a task under refId PARENT appending the value of the string
 * expression EXPR (XML- and C-escaped) as one line to the file "trace"
 * in the package's folder; TRACING a handler made of one TRACE of
 * "LABEL " + EXPR. */
#define HANDLERS(x) "<DTS:EventHandlers>" x "</DTS:EventHandlers>"
#define HANDLER_REF(owner, event) owner ".EventHandlers[" event "]"
#define HANDLER(owner, event, vars, body)                                     \
    "<DTS:EventHandler DTS:refId=\"" HANDLER_REF(owner, event) "\" "          \
    "DTS:EventName=\"" event "\">" vars EXES(body) "</DTS:EventHandler>"
#define TRACE(parent, name, expr)                                             \
    "<DTS:Executable DTS:refId=\"" parent "\\" name "\" DTS:ObjectName=\""    \
    name "\" DTS:ExecutableType=\"Microsoft.ExecuteProcess\">"                \
    "<DTS:PropertyExpression DTS:Name=\"Arguments\">\"-c \\\"echo \" + "    \
    expr " + \" &gt;&gt; trace\\\"\"</DTS:PropertyExpression>"              \
    "<DTS:ObjectData><ExecuteProcessData Executable=\"/bin/sh\" "             \
    "Arguments=\"-c true\" /></DTS:ObjectData></DTS:Executable>\n"
#define TRACING(owner, event, label, expr)                                    \
    HANDLER(owner, event, "",                                                 \
            TRACE(HANDLER_REF(owner, event), "T", "\"" label " \" + " expr))
#define EXPR_TASK(parent, name, expr)                                         \
    "<DTS:Executable DTS:refId=\"" parent "\\" name "\" DTS:ObjectName=\""    \
    name "\" DTS:ExecutableType=\"Microsoft.ExpressionTask\">"                \
    "<DTS:ObjectData><ExpressionTask Expression=\"" expr "\"/>"               \
    "</DTS:ObjectData></DTS:Executable>\n"
/* The handler's own System::Propagate, for EXPR_TASKs to set. */
#define PROPAGATE_VAR                                                         \
    VARS("<DTS:Variable DTS:Namespace=\"System\" DTS:ObjectName=\"Propagate\"" \
         "><DTS:VariableValue DTS:DataType=\"11\">-1</DTS:VariableValue>"      \
         "</DTS:Variable>")
#define REF(pkg)                                                              \
    "<UseProjectReference>True</UseProjectReference><PackageName>" pkg        \
    "</PackageName>"
#define BIND(param, source)                                                   \
    "<ParameterAssignment><ParameterName>" param "</ParameterName>"           \
    "<BindedVariableOrParameterName>" source                                  \
    "</BindedVariableOrParameterName></ParameterAssignment>"

#define PROJECT_PARAMS                                                        \
    "<?xml version=\"1.0\"?>\n"                                               \
    "<SSIS:Parameters xmlns:SSIS=\"www.microsoft.com/SqlServer/SSIS\">"       \
    "<SSIS:Parameter SSIS:Name=\"Tag\"><SSIS:Properties>"                     \
    "<SSIS:Property SSIS:Name=\"DataType\">18</SSIS:Property>"                \
    "<SSIS:Property SSIS:Name=\"Value\">design</SSIS:Property>"               \
    "</SSIS:Properties></SSIS:Parameter></SSIS:Parameters>\n"

/* The child: writes "N Tag" (its Int32 parameter N and the project
 * parameter Tag) to child.txt. */
#define CHILD                                                                 \
    HEAD("Child") PARAMS(PARAM("N", "3", "DTS:Required=\"True\"", "0"))       \
    EXES(SH_EXPR("Write", "\"-c \\\"echo \" + (DT_WSTR, 12) @[$Package::N] "  \
                          "+ \" \" + @[$Project::Tag] + \" &gt;&gt; "         \
                          "child.txt\\\"\"")) TAIL

#define STR_VAR(name, value)                                                  \
    "<DTS:Variable DTS:Namespace=\"User\" DTS:ObjectName=\"" name "\">"       \
    "<DTS:VariableValue DTS:DataType=\"8\">" value "</DTS:VariableValue>"     \
    "</DTS:Variable>"
#define CMS(x) "<DTS:ConnectionManagers>" x "</DTS:ConnectionManagers>"
/* A connection manager of type TYPE holding STRING. */
#define CM(name, type, string)                                                \
    "<DTS:ConnectionManager DTS:refId=\"Package.ConnectionManagers[" name     \
    "]\" DTS:ObjectName=\"" name "\" DTS:DTSID=\"{" name "-ID}\" "            \
    "DTS:CreationName=\"" type "\"><DTS:ObjectData><DTS:ConnectionManager "   \
    "DTS:ConnectionString=\"" string "\"/></DTS:ObjectData>"                  \
    "</DTS:ConnectionManager>"
#define TASK(name, type, body)                                                \
    "<DTS:Executable DTS:refId=\"Package\\" name "\" DTS:ObjectName=\"" name  \
    "\" DTS:ExecutableType=\"" type "\">" body "</DTS:Executable>\n"

struct run {
    char dir[64];
    char *package; /* the last package run_pkg wrote */
    json_t *events; /* array of event objects */
    char *trace; /* DIR/trace after the run ("" if none): TRACE's lines */
    int rc;
};

static inline void
run_setup(struct run *r)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->dir, sizeof(r->dir), "/tmp/weir-run-XXXXXX");
    if (!mkdtemp(r->dir))
        fail_msg("mkdtemp: %s", strerror(errno));
}

/* Writes `text` to DIR/name. */
static inline void
put_file(const struct run *r, const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", r->dir, name);
    struct werr e;

    if (wfile_write(path, text, strlen(text), 0644, 0, &e) < 0)
        fail_msg("%s", e.msg);
    free(path);
}

/* DIR/name's content, or NULL if it cannot be read (caller frees). */
static inline char *
get_file(const struct run *r, const char *name)
{
    char *path = xasprintf("%s/%s", r->dir, name);
    struct wbuf b;
    struct werr e;
    char *s = NULL;

    wbuf_init(&b, WBUF_NOLIMIT);
    if (wfile_read(path, &b, &e) == 0)
        s = wbuf_detach(&b, NULL);
    wbuf_release(&b);
    free(path);
    return s;
}

static inline bool
exists(const struct run *r, const char *name)
{
    char *path = xasprintf("%s/%s", r->dir, name);
    bool yes = access(path, F_OK) == 0;

    free(path);
    return yes;
}

/* Fails unless DIR/name exists and holds exactly `want`. */
static inline void
assert_file(const struct run *r, const char *name, const char *want)
{
    char *got = get_file(r, name);

    if (!got)
        fail_msg("'%s' is missing", name);
    if (strcmp(got, want))
        fail_msg("%s holds '%s', not '%s'", name, got, want);
    free(got);
}

static inline void
parse_events(struct run *r, const char *text)
{
    const char *p = text;

    r->events = json_array();
    while (*p) {
        const char *nl = strchr(p, '\n');
        json_error_t je;
        json_t *o;
        if (!nl)
            fail_msg("event line without a newline: %s", p);
        o = json_loadb(p, (size_t)(nl - p), 0, &je);
        if (!o || !json_is_object(o))
            fail_msg("not a JSON object: %.*s", (int)(nl - p), p);
        assert_true(json_is_integer(json_object_get(o, "time_ms")));
        assert_true(json_is_integer(json_object_get(o, "type")));
        assert_true(json_is_string(json_object_get(o, "event")));
        assert_true(json_is_string(json_object_get(o, "source")));
        assert_true(json_is_string(json_object_get(o, "path")));
        assert_true(json_is_string(json_object_get(o, "message")));
        json_array_append_new(r->events, o);
        p = nl + 1;
    }
}

/* Reads the events in DIR/name (those read before are dropped) and the
 * trace. */
static inline void
read_events(struct run *r, const char *name)
{
    char *text = get_file(r, name);

    if (!text)
        fail_msg("no events file '%s'", name);
    json_decref(r->events);
    parse_events(r, text);
    free(text);
    free(r->trace);
    if (!(r->trace = get_file(r, "trace")))
        r->trace = xstrdup("");
}

/* Runs `weir exec --events-fd N [extra...] FILE` in process and reads
 * its events (those of an earlier run are dropped) and the trace;
 * returns the exit code. */
static inline int
exec_file(struct run *r, const char *file, const char *const *extra)
{
    char *path = xasprintf("%s/events.jsonl", r->dir), fdtext[16];
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    char *argv[32] = {"exec", "--events-fd", fdtext};
    int argc = 3;

    free(path);
    assert_true(fd >= 0);
    snprintf(fdtext, sizeof(fdtext), "%d", fd);
    for (; extra && *extra; extra++)
        argv[argc++] = (char *)*extra;
    argv[argc++] = (char *)file;
    r->rc = rt_exec_run(argc, argv);
    close(fd);
    read_events(r, "events.jsonl");
    return r->rc;
}

/* exec_file on DIR/target. */
static inline int
exec_args(struct run *r, const char *target, const char *const *extra)
{
    char *file = xasprintf("%s/%s", r->dir, target);
    int rc = exec_file(r, file, extra);

    free(file);
    return rc;
}

/* Writes the package `xml` to DIR/T.dtsx (r->package). */
static inline void
write_pkg(struct run *r, const char *xml)
{
    free(r->package);
    r->package = xasprintf("%s/T.dtsx", r->dir);
    put_file(r, "T.dtsx", xml);
}

/* Writes the package `xml` to DIR/T.dtsx and runs it like exec_args. */
static inline int
run_pkg(struct run *r, const char *xml, const char *const *extra)
{
    write_pkg(r, xml);
    return exec_file(r, r->package, extra);
}

static inline void
run_free(struct run *r)
{
    struct werr e;

    json_decref(r->events);
    if (getenv("WEIR_KEEP"))
        fprintf(stderr, "kept %s\n", r->dir);
    else
        wfile_rmtree(r->dir, &e);
    free(r->package);
    free(r->trace);
}

/* An event's string member, "" when absent. */
static inline const char *
member(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

/* The position of the first EVENT from `path` (from any when NULL), or
 * -1. */
static inline int
event_at(const struct run *r, const char *event, const char *path)
{
    size_t i;
    json_t *o;

    json_array_foreach(r->events, i, o) {
        if (!strcmp(member(o, "event"), event) &&
            (!path || !strcmp(member(o, "path"), path)))
            return (int)i;
    }
    return -1;
}

/* The first EVENT from `path` (from any when NULL), or NULL. */
static inline json_t *
find_event(const struct run *r, const char *event, const char *path)
{
    int at = event_at(r, event, path);

    return at < 0 ? NULL : json_array_get(r->events, (size_t)at);
}

/* The result in an executable's OnPostExecute, -1 if it did not run. */
static inline int
result_of(const struct run *r, const char *path)
{
    json_t *o = find_event(r, "OnPostExecute", path);

    return o ? (int)json_integer_value(json_object_get(o, "result")) : -1;
}

/* How many EVENTs came from `path` (from any when NULL). */
static inline int
count_events(const struct run *r, const char *event, const char *path)
{
    size_t i;
    json_t *o;
    int n = 0;

    json_array_foreach(r->events, i, o) {
        n += !strcmp(member(o, "event"), event) &&
             (!path || !strcmp(member(o, "path"), path));
    }
    return n;
}

/* How many EVENTs have a message containing `text`. */
static inline int
count_messages(const struct run *r, const char *event, const char *text)
{
    size_t i;
    json_t *o;
    int n = 0;

    json_array_foreach(r->events, i, o) {
        n += !strcmp(member(o, "event"), event) &&
             strstr(member(o, "message"), text) != NULL;
    }
    return n;
}

/* Whether an EVENT's message contains `text`. */
static inline bool
message_has(const struct run *r, const char *event, const char *text)
{
    return count_messages(r, event, text) > 0;
}

/* Whether an OnError from `path` (any when NULL) contains `text`. */
static inline bool
error_has(const struct run *r, const char *path, const char *text)
{
    size_t i;
    json_t *o;

    json_array_foreach(r->events, i, o) {
        if (!strcmp(member(o, "event"), "OnError") &&
            (!path || !strcmp(member(o, "path"), path)) &&
            strstr(member(o, "message"), text))
            return true;
    }
    return false;
}

/* Prints the events (to see why an assertion failed). */
static inline void
dump_events(const struct run *r)
{
    size_t i;
    json_t *o;

    json_array_foreach(r->events, i, o) {
        fprintf(stderr, "  %s %s: %s\n", member(o, "event"),
                member(o, "path"), member(o, "message"));
    }
}

/* Starts the weir binary `weir` as `weir exec --events-fd 3 FILE` in a
 * process of its own: events into DIR/events.jsonl (read_events reads
 * them), standard error into DIR/stderr.txt, standard output to
 * /dev/null.  Returns its pid, for the caller to wait for. */
static inline pid_t
start_weir(const struct run *r, const char *weir, const char *file)
{
    char *events = xasprintf("%s/events.jsonl", r->dir);
    char *errors = xasprintf("%s/stderr.txt", r->dir);
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        int ev = open(events, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(errors, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(ev, 3);
        dup2(null, 1);
        dup2(err, 2);
        execl(weir, weir, "exec", "--events-fd", "3", file, (char *)NULL);
        _exit(127);
    }
    free(events);
    free(errors);
    return pid;
}

/* The pid a process wrote into DIR/name, once it is there (10 s at
 * most), or 0. */
static inline pid_t
pid_in(const struct run *r, const char *name)
{
    char *path = xasprintf("%s/%s", r->dir, name);
    int64_t until = wtime_mono_ns() + 10 * INT64_C(1000000000);
    long pid = 0;

    while (wtime_mono_ns() < until) {
        FILE *f = fopen(path, "r");
        int n = f ? fscanf(f, "%ld", &pid) : 0;
        if (f)
            fclose(f);
        if (n == 1 && pid > 0)
            break;
        pid = 0;
        usleep(20 * 1000);
    }
    free(path);
    return (pid_t)pid;
}

/* Whether unixODBC knows SQLite's driver (tests needing it skip
 * otherwise). */
static inline bool
have_sqlite_driver(void)
{
    return access("/usr/bin/odbcinst", X_OK) == 0 &&
           system("odbcinst -q -d -n SQLite3 >/dev/null 2>&1") == 0;
}

#endif
