/* Event handlers and system variables: packages run in process through
 * rt_exec_run in a temporary folder; each handler's task appends a line
 * to the file "trace" there (an Execute Process task whose Arguments are
 * a property expression), so the tests assert what ran, in which order,
 * and what the handler's System variables said. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/wbuf.h"
#include "base/wfile.h"
#include "base/xalloc.h"
#include "runtime/runtime_int.h"

#include "pkgrun.h"

#define PC(owner, from, to)                                                   \
    "<DTS:PrecedenceConstraint DTS:ObjectName=\"" from "-" to "\" DTS:From=\"" \
    owner "\\" from "\" DTS:To=\"" owner "\\" to "\" />\n"
#define PCS(x) "<DTS:PrecedenceConstraints>" x "</DTS:PrecedenceConstraints>"

/* An Execute Process task under refId PARENT running /bin/sh -c SCRIPT,
 * with more elements (event handlers) inside. */
#define SHX(parent, name, script, inner)                                      \
    "<DTS:Executable DTS:refId=\"" parent "\\" name "\" DTS:ObjectName=\""    \
    name "\" DTS:ExecutableType=\"Microsoft.ExecuteProcess\">"                \
    "<DTS:ObjectData><ExecuteProcessData Executable=\"/bin/sh\" Arguments=\"" \
    "-c &quot;" script "&quot;\" /></DTS:ObjectData>" inner                   \
    "</DTS:Executable>\n"
#define SH_IN(parent, name, script) SHX(parent, name, script, "")
#define SOURCE "@[System::SourceName]"
/* The package (named P) with attributes ATTRS on its element. */
#define PKG_ATTRS(attrs) HEAD_ATTRS("P", attrs)
#define PKG HEAD("P")

/* Runs the package again in its folder, the trace emptied first. */
static int
exec_again(struct run *r, const char *const *extra)
{
    char *trace = xasprintf("%s/trace", r->dir);

    unlink(trace);
    free(trace);
    return exec_args(r, "T.dtsx", extra);
}

/* Runs the package `xml` in a fresh folder. */
static int
run_xml(struct run *r, const char *xml, const char *const *extra)
{
    run_setup(r);
    write_pkg(r, xml);
    return exec_again(r, extra);
}

/* The lines of the trace that end with " SUFFIX", in order, each
 * followed by a newline. */
static char *
lines_ending(const struct run *r, const char *suffix)
{
    struct wbuf b;
    size_t sl = strlen(suffix);

    wbuf_init(&b, WBUF_NOLIMIT);
    for (const char *p = r->trace, *nl; *p; p = nl + 1) {
        size_t len;
        if (!(nl = strchr(p, '\n')))
            break;
        len = (size_t)(nl - p);
        if (len > sl && p[len - sl - 1] == ' ' &&
            !memcmp(p + len - sl, suffix, sl))
            wbuf_addf(&b, NULL, "%.*s\n", (int)len, p);
    }
    return wbuf_detach(&b, NULL);
}

static void
assert_lines_ending(const struct run *r, const char *suffix,
                    const char *want)
{
    char *got = lines_ending(r, suffix);

    if (strcmp(got, want))
        fail_msg("trace lines ending in '%s':\n%s\nwanted:\n%s\nwhole "
                 "trace:\n%s",
                 suffix, got, want, r->trace);
    free(got);
}

/* ---- the events of a failing task, in SSIS's order ---- */

static void
failing_task_raises_error_then_task_failed_then_post_execute(void **state)
{
    struct run r;

    run_xml(&r, PKG EXES(SHX("Package", "A", "exit 1", HANDLERS(
                    TRACING("Package\\A", "OnPreExecute", "pre", SOURCE)
                    TRACING("Package\\A", "OnError", "error",
                            "(DT_WSTR, 12) @[System::ErrorCode] + \" \" + "
                            "@[System::ErrorDescription] + \" \" + " SOURCE)
                    TRACING("Package\\A", "OnTaskFailed", "failed", SOURCE)
                    TRACING("Package\\A", "OnPostExecute", "post", SOURCE))))
                TAIL, NULL);
    assert_int_equal(r.rc, 1);
    assert_lines_ending(&r, "A",
                        "pre A\n"
                        "error 11 process /bin/sh exited with code 1, not "
                        "the success value 0 A\n"
                        "failed A\n"
                        "post A\n");
    /* The handlers' own executables raise events too, which the handlers
     * of A (their parent) see; but a handler never runs for itself. */
    assert_true(strstr(r.trace, "pre OnError\n"));
    assert_true(strstr(r.trace, "post OnTaskFailed\n"));
    assert_null(strstr(r.trace, "pre OnPreExecute\n"));
    assert_null(strstr(r.trace, "post OnPostExecute\n"));
    assert_int_equal(result_of(&r, "\\Package\\A"), 1);
    run_free(&r);
}

/* An OnPreExecute handler runs before the task's work. */
static void
pre_execute_handler_runs_before_the_work(void **state)
{
    struct run r;

    run_xml(&r, PKG EXES(SHX("Package", "A", "echo work A >> trace",
                              HANDLERS(TRACING("Package\\A", "OnPreExecute",
                                               "pre", SOURCE))))
                TAIL, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.trace, "pre A\nwork A\n");
    run_free(&r);
}

/* ---- propagation ---- */

#define NESTED(seq_handler_vars, seq_handler_extra)                           \
    PKG EXES("<DTS:Executable DTS:refId=\"Package\\Seq\" DTS:ObjectName="    \
              "\"Seq\" DTS:ExecutableType=\"STOCK:SEQUENCE\">"                \
              EXES(SH_IN("Package\\Seq", "B", "exit 1"))                         \
              HANDLERS(HANDLER("Package\\Seq", "OnError", seq_handler_vars,   \
                  TRACE(HANDLER_REF("Package\\Seq", "OnError"), "T",          \
                        "\"seq \" + " SOURCE) seq_handler_extra))             \
              "</DTS:Executable>")                                            \
    HANDLERS(TRACING("Package", "OnError", "pkg", SOURCE)) TAIL

static void
error_bubbles_up_two_levels(void **state)
{
    struct run r;

    run_xml(&r, NESTED("", ""), NULL);
    assert_int_equal(r.rc, 1);
    assert_string_equal(r.trace, "seq B\npkg B\n");
    run_free(&r);
}

static void
propagate_false_stops_the_event(void **state)
{
    struct run r;

    run_xml(&r, NESTED(PROPAGATE_VAR,
                       EXPR_TASK(HANDLER_REF("Package\\Seq", "OnError"), "Stop",
                                 "@[System::Propagate] = false")),
            NULL);
    assert_int_equal(r.rc, 1);
    assert_string_equal(r.trace, "seq B\n");
    run_free(&r);
}

/* The package's OnError handler sees errors from every task below it. */
static void
package_handler_sees_every_error(void **state)
{
    struct run r;

    run_xml(&r, PKG_ATTRS("DTS:MaxErrorCount=\"0\"")
                EXES(SH_IN("Package", "A", "exit 1") SH_IN("Package", "B", "exit 2")
                     SH_IN("Package", "C", "exit 0"))
                HANDLERS(TRACING("Package", "OnError", "error",
                                 "(DT_WSTR, 12) @[System::ErrorCode] + "
                                 "\" \" + " SOURCE))
                TAIL, NULL);
    assert_int_equal(r.rc, 0); /* MaxErrorCount 0: no limit */
    /* A and B run in parallel: either order. */
    assert_int_equal(strlen(r.trace), strlen("error 11 A\nerror 11 B\n"));
    assert_non_null(strstr(r.trace, "error 11 A\n"));
    assert_non_null(strstr(r.trace, "error 11 B\n"));
    run_free(&r);
}

/* ---- failing handlers ---- */

static void
failing_pre_execute_handler_fails_the_task_unrun(void **state)
{
    struct run r;

    run_xml(&r, PKG EXES(SHX("Package", "A", "touch worked", HANDLERS(
                    HANDLER("Package\\A", "OnPreExecute", "",
                            SH_IN(HANDLER_REF("Package\\A", "OnPreExecute"),
                               "Bad", "exit 3")))))
                TAIL, NULL);
    assert_int_equal(r.rc, 1);
    assert_false(exists(&r, "worked"));
    assert_int_equal(result_of(&r, "\\Package\\A"), 1);
    assert_int_equal(
        result_of(&r, "\\" HANDLER_REF("Package\\A", "OnPreExecute")), 1);
    assert_true(message_has(&r, "OnTaskFailed", ""));
    run_free(&r);
}

static void
failing_post_execute_handler_fails_the_task(void **state)
{
    struct run r;

    run_xml(&r, PKG EXES(SHX("Package", "A", "touch worked", HANDLERS(
                              HANDLER("Package\\A", "OnPostExecute", "",
                                      SH_IN(HANDLER_REF("Package\\A",
                                                     "OnPostExecute"),
                                         "Bad", "exit 3"))))
                          SH_IN("Package", "Next", "touch next"))
                "<DTS:PrecedenceConstraints>" PC("Package", "A", "Next")
                "</DTS:PrecedenceConstraints>" TAIL,
            NULL);
    assert_int_equal(r.rc, 1);
    assert_true(exists(&r, "worked"));
    /* A's work succeeded, then its handler failed: the constraint on
     * success does not let Next run. */
    assert_false(exists(&r, "next"));
    run_free(&r);
}

/* A handler's errors count toward the containers above the source. */
static void
errors_in_a_handler_count_toward_the_package(void **state)
{
    struct run r;

    run_xml(&r, PKG EXES(SH_IN("Package", "A", "exit 0"))
                HANDLERS(HANDLER("Package", "OnInformation", "",
                                 SH_IN(HANDLER_REF("Package", "OnInformation"),
                                    "Bad", "exit 4")))
                TAIL, NULL);
    assert_int_equal(r.rc, 1);
    assert_true(message_has(&r, "OnError", "exited with code 4"));
    run_free(&r);
}

/* ---- OnWarning, OnInformation ---- */

static void
warning_and_information_handlers_get_the_message(void **state)
{
    struct run r;

    run_xml(&r, PKG EXES(SHX("Package", "W", "echo hello; echo oops >&amp;2",
                              HANDLERS(
                    TRACING("Package\\W", "OnInformation", "info",
                            "@[System::ErrorDescription] + \" \" + " SOURCE)
                    TRACING("Package\\W", "OnWarning", "warning",
                            "(DT_WSTR, 12) @[System::ErrorCode] + \" \" + "
                            "@[System::ErrorDescription] + \" \" + "
                            SOURCE))))
                TAIL, NULL);
    assert_int_equal(r.rc, 0);
    assert_lines_ending(&r, "W",
                        "info hello W\n"
                        "warning 0 oops W\n"
                        "info process exited with code 0 W\n");
    run_free(&r);
}

/* ---- OnVariableValueChanged ---- */

static void
variable_value_changed_runs_for_real_changes(void **state)
{
    struct run r;

    run_xml(&r, PKG VARS(
                    "<DTS:Variable DTS:Namespace=\"User\" DTS:ObjectName=\"X\" "
                    "DTS:RaiseChangedEvent=\"True\" DTS:DTSID=\"{X-ID}\">"
                    "<DTS:VariableValue DTS:DataType=\"3\">0"
                    "</DTS:VariableValue></DTS:Variable>"
                    "<DTS:Variable DTS:Namespace=\"User\" DTS:ObjectName=\"Y\">"
                    "<DTS:VariableValue DTS:DataType=\"3\">0"
                    "</DTS:VariableValue></DTS:Variable>")
                EXES(EXPR_TASK("Package", "S1", "@[User::X] = 5")
                     EXPR_TASK("Package", "S2", "@[User::X] = 5")
                     EXPR_TASK("Package", "S3", "@[User::Y] = 1")
                     EXPR_TASK("Package", "S4", "@[User::X] = 6"))
                PCS(PC("Package", "S1", "S2") PC("Package", "S2", "S3")
                    PC("Package", "S3", "S4"))
                HANDLERS(TRACING("Package", "OnVariableValueChanged", "changed",
                                 "@[System::VariableName] + \" \" + "
                                 "@[System::VariableID] + \" \" + "
                                 "@[System::VariableValue] + \" \" + "
                                 SOURCE))
                TAIL, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.trace, "changed X {X-ID} 5 P\nchanged X {X-ID} 6 P\n");
    run_free(&r);
}

/* ---- recursion ---- */

/* Two handlers whose tasks raise each other's event: each runs for the
 * other's tasks once, never for itself, and the nesting stops. */
static void
handlers_raising_each_others_events_stop(void **state)
{
    struct run r;

    run_xml(&r, PKG EXES(SH_IN("Package", "A", "exit 0"))
                HANDLERS(TRACING("Package", "OnPreExecute", "pre", SOURCE)
                         TRACING("Package", "OnPostExecute", "post", SOURCE))
                TAIL, NULL);
    assert_int_equal(r.rc, 0);
    assert_lines_ending(&r, "A", "pre A\npost A\n");
    assert_lines_ending(&r, "P", "pre P\npost P\n");
    assert_true(message_has(&r, "OnWarning", "is already running"));
    assert_true(strlen(r.trace) < 400);
    run_free(&r);
}

/* ---- under concurrency ---- */

/* A handler's tasks take no slot: with MaxConcurrentExecutables 1 the
 * task holding the only slot waits for its handler, which still runs. */
static void
handlers_run_with_one_slot(void **state)
{
    struct run r;

    run_xml(&r, PKG_ATTRS("DTS:MaxConcurrentExecutables=\"1\"")
                EXES(SH_IN("Package", "A", "exit 0") SH_IN("Package", "B", "exit 0"))
                HANDLERS(TRACING("Package", "OnPostExecute", "post", SOURCE))
                TAIL, NULL);
    assert_int_equal(r.rc, 0);
    assert_lines_ending(&r, "A", "post A\n");
    assert_lines_ending(&r, "B", "post B\n");
    run_free(&r);
}

/* Two parallel branches fail while the package's OnError handler is
 * running for the first: the second waits its turn and is handled too,
 * with its own System variables. */
static void
parallel_errors_each_run_the_handler(void **state)
{
    struct run r;
    const char *a, *b;

    run_xml(&r, PKG_ATTRS("DTS:MaxErrorCount=\"0\"")
                EXES(SH_IN("Package", "A", "exit 1") SH_IN("Package", "B", "exit 2"))
                HANDLERS(HANDLER("Package", "OnError", "",
                    SH_IN(HANDLER_REF("Package", "OnError"), "Slow", "sleep 0.3")
                    TRACE(HANDLER_REF("Package", "OnError"), "T",
                          "\"error \" + @[System::ErrorDescription] + "
                          "\" \" + " SOURCE))
                    PCS(PC(HANDLER_REF("Package", "OnError"), "Slow", "T")))
                TAIL, NULL);
    assert_int_equal(r.rc, 0);
    a = strstr(r.trace, "error process /bin/sh exited with code 1, not the "
                        "success value 0 A\n");
    b = strstr(r.trace, "error process /bin/sh exited with code 2, not the "
                        "success value 0 B\n");
    assert_non_null(a);
    assert_non_null(b);
    assert_false(message_has(&r, "OnWarning", "already running"));
    run_free(&r);
}

/* ---- system variables ---- */

#define SYSVARS_PACKAGE                                                       \
    PKG_ATTRS("DTS:DTSID=\"{PKG-ID}\" DTS:VersionBuild=\"7\" "               \
               "DTS:VersionMajor=\"2\" DTS:VersionMinor=\"3\" "               \
               "DTS:LocaleID=\"1031\" DTS:CreatorName=\"ann\" "               \
               "DTS:CreationDate=\"3/23/2017 9:06:53 PM\"")                   \
    EXES("<DTS:Executable DTS:refId=\"Package\\Seq\" DTS:ObjectName=\"Seq\" " \
         "DTS:DTSID=\"{SEQ-ID}\" DTS:ExecutableType=\"STOCK:SEQUENCE\">"      \
         EXES(TRACE("Package\\Seq", "Show",                                   \
              "@[System::PackageName] + \" \" + @[System::PackageID] + "  \
              "\" \" + @[System::TaskName] + \" \" + "                \
              "@[System::ParentContainerGUID] + \" \" + "                 \
              "(DT_WSTR, 20) (@[System::ServerExecutionID] + 1) + \" \" + " \
              "(DT_WSTR, 12) (@[System::VersionMajor] * 100 + "               \
              "@[System::VersionMinor] * 10 + @[System::VersionBuild]) + "    \
              "\" \" + (DT_WSTR, 12) @[System::LocaleID] + \" \" + "  \
              "@[System::CreatorName] + \" \" + (DT_WSTR, 4) "            \
              "DATEPART(\"yyyy\", @[System::CreationDate]) + \" \" + " \
              "(@[System::InteractiveMode] || @[System::OfflineMode] ? "      \
              "\"on\" : \"off\") + \" \" + (DT_WSTR, 12) "        \
              "@[System::CancelEvent] + \" \" + (DT_WSTR, 12) DATEDIFF("  \
              "\"ss\", @[System::StartTime], GETDATE()) + \" \" + "   \
              "(DT_WSTR, 12) DATEDIFF(\"ss\", @[System::StartTime], "     \
              "@[System::ContainerStartTime]) + \" \" + "                 \
              "@[System::ExecutionInstanceGUID] + \" \" + "               \
              "(@[System::MachineName] == \"\" ? \"nohost\" : "       \
              "\"host\") + \" \" + (LEN(@[System::UserName]) > 0 ? "  \
              "\"user\" : \"nouser\")"))                              \
         "</DTS:Executable>") TAIL

/* Splits the Show line into its fields. */
static int
fields(const char *line, char f[16][64])
{
    int n = 0;

    for (const char *p = line; *p && *p != '\n' && n < 16; n++) {
        size_t len = strcspn(p, " \n");
        snprintf(f[n], 64, "%.*s", (int)len, p);
        p += len;
        if (*p == ' ')
            p++;
    }
    return n;
}

static void
system_variables_have_their_values_and_types(void **state)
{
    static const char *const with_id[] = {"--execution-id", "41", NULL};
    char f[16][64], g[16][64];
    regex_t re;
    struct run r;

    assert_int_equal(regcomp(&re,
                             "^\\{[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-"
                             "[89AB][0-9A-F]{3}-[0-9A-F]{12}\\}$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    run_xml(&r, SYSVARS_PACKAGE, with_id);
    assert_int_equal(r.rc, 0);
    if (fields(r.trace, f) != 16)
        fail_msg("%s", r.trace);
    assert_string_equal(f[0], "P");
    assert_string_equal(f[1], "{PKG-ID}");
    assert_string_equal(f[2], "Show");
    assert_string_equal(f[3], "{SEQ-ID}");
    assert_string_equal(f[4], "42"); /* Int64 arithmetic on the id */
    assert_string_equal(f[5], "237");
    assert_string_equal(f[6], "1031");
    assert_string_equal(f[7], "ann");
    assert_string_equal(f[8], "2017");
    assert_string_equal(f[9], "off");
    assert_string_equal(f[10], "0");
    /* StartTime is this run's: seconds ago, and before the task's start. */
    assert_true(atoi(f[11]) >= 0 && atoi(f[11]) < 30);
    assert_true(atoi(f[12]) >= 0 && atoi(f[12]) < 30);
    assert_int_equal(regexec(&re, f[13], 0, NULL, 0), 0);
    assert_string_equal(f[14], "host");
    assert_string_equal(f[15], "user");

    /* A second run has another ExecutionInstanceGUID; no --execution-id
     * means ServerExecutionID 0. */
    exec_again(&r, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(fields(r.trace, g), 16);
    assert_string_equal(g[4], "1");
    assert_int_equal(regexec(&re, g[13], 0, NULL, 0), 0);
    assert_string_not_equal(f[13], g[13]);
    regfree(&re);
    run_free(&r);
}

/* Handler variables exist only in handlers of the events that have them:
 * validation refuses the rest by name. */
static void
handler_variables_outside_their_handlers_fail_validation(void **state)
{
    struct run r;

    run_xml(&r, PKG EXES(TRACE("Package", "Out",
                                "(DT_WSTR, 12) @[System::ErrorCode]"))
                HANDLERS(TRACING("Package", "OnPostExecute", "post",
                                 "@[System::ErrorDescription]"))
                TAIL, NULL);
    assert_int_equal(r.rc, 1);
    assert_true(message_has(&r, "OnError", "System::ErrorCode"));
    assert_true(message_has(&r, "OnError", "System::ErrorDescription"));
    assert_string_equal(r.trace, "");
    run_free(&r);
}

/* System::Propagate is read-only outside a handler, and other system
 * variables are read-only everywhere. */
static void
system_variables_are_read_only(void **state)
{
    struct run r;

    run_xml(&r, PKG EXES(EXPR_TASK("Package", "Set",
                                    "@[System::PackageName] = &quot;x&quot;"))
                TAIL, NULL);
    assert_int_equal(r.rc, 1);
    assert_true(message_has(&r, "OnError", "read-only"));
    run_free(&r);
}

/* ---- validation, progress, query cancel, status ---- */

/* Each executable is validated again right before it runs, between its
 * OnPreValidate and OnPostValidate (after OnPreExecute), as in SSIS; a
 * DelayValidation task's problem fails it there, unrun. */
static void
validate_handlers_run_before_each_executable(void **state)
{
    struct run r;

    run_xml(&r, PKG EXES(SHX("Package", "A", "echo work A >> trace",
                              HANDLERS(TRACING("Package\\A", "OnPreExecute",
                                               "pre", SOURCE)
                                       TRACING("Package\\A", "OnPreValidate",
                                               "prevalidate", SOURCE)
                                       TRACING("Package\\A",
                                               "OnPostValidate",
                                               "postvalidate", SOURCE)))
                          "<DTS:Executable DTS:refId=\"Package\\B\" "
                          "DTS:ObjectName=\"B\" DTS:DelayValidation=\"True\" "
                          "DTS:ExecutableType=\"Microsoft.ExecuteProcess\">"
                          "<DTS:ObjectData><ExecuteProcessData Executable=\""
                          "/nonexistent/prog\" /></DTS:ObjectData>"
                          HANDLERS(TRACING("Package\\B", "OnPreValidate",
                                           "prevalidate", SOURCE)
                                   TRACING("Package\\B", "OnPostValidate",
                                           "postvalidate", SOURCE)
                                   TRACING("Package\\B", "OnError",
                                           "error", SOURCE))
                          "</DTS:Executable>")
                PCS(PC("Package", "A", "B"))
                TAIL, NULL);
    assert_int_equal(r.rc, 1);
    assert_lines_ending(&r, "A",
                        "pre A\nprevalidate A\npostvalidate A\nwork A\n");
    assert_lines_ending(&r, "B", "prevalidate B\nerror B\npostvalidate B\n");
    assert_int_equal(result_of(&r, "\\Package\\B"), 1);
    assert_false(message_has(&r, "OnWarning", "never runs"));
    run_free(&r);
}

/* An Execute SQL task reports progress after each batch; an OnProgress
 * handler sees System::ProgressComplete and ProgressDescription. */
static void
progress_handlers_see_the_progress(void **state)
{
    struct run r;

    if (!have_sqlite_driver()) {
        skip();
        return;
    }
    run_xml(&r, PKG "<DTS:ConnectionManagers><DTS:ConnectionManager "
                "DTS:ObjectName=\"Db\" DTS:CreationName=\"ODBC\">"
                "<DTS:ObjectData><DTS:ConnectionManager "
                "DTS:ConnectionString=\"Driver=SQLite3;Database=:memory:\"/>"
                "</DTS:ObjectData></DTS:ConnectionManager>"
                "</DTS:ConnectionManagers>"
                EXES("<DTS:Executable DTS:refId=\"Package\\Q\" "
                     "DTS:ObjectName=\"Q\" "
                     "DTS:ExecutableType=\"Microsoft.ExecuteSQLTask\">"
                     "<DTS:ObjectData><SQLTask:SqlTaskData xmlns:SQLTask=\""
                     "www.microsoft.com/sqlserver/dts/tasks/sqltask\" "
                     "SQLTask:Connection=\"Db\" SQLTask:SqlStatementSource=\""
                     "SELECT 1&#10;GO&#10;SELECT 2\"/></DTS:ObjectData>"
                     "</DTS:Executable>")
                HANDLERS(TRACING("Package", "OnProgress", "progress",
                                 "(DT_WSTR, 12) @[System::ProgressComplete]"
                                 " + \" \" + REPLACE("
                                 "@[System::ProgressDescription], "
                                 "\"\\\"\", \"\")"))
                TAIL, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.trace, "progress 50 Executing query SELECT 1\n"
                                 "progress 100 Executing query SELECT 2\n");
    assert_true(message_has(&r, "OnProgress", "SELECT 2\": 100% complete"));
    run_free(&r);
}

/* OnQueryCancel runs before each executable (the package too); a handler
 * that sets System::Cancel stops the execution, which ends canceled
 * (exit 3). */
static void
query_cancel_handler_can_cancel(void **state)
{
    struct run r;

    run_xml(&r, PKG EXES(SH_IN("Package", "A", "echo work A >> trace")
                          SHX("Package", "B", "echo work B >> trace",
                              HANDLERS(HANDLER("Package\\B", "OnQueryCancel",
                                  "", EXPR_TASK(HANDLER_REF("Package\\B",
                                                            "OnQueryCancel"),
                                                "Stop",
                                                "@[System::Cancel] = true"))))
                          SH_IN("Package", "C", "echo work C >> trace"))
                PCS(PC("Package", "A", "B") PC("Package", "B", "C"))
                HANDLERS(TRACING("Package", "OnQueryCancel", "query", SOURCE))
                TAIL, NULL);
    assert_int_equal(r.rc, 3);
    assert_lines_ending(&r, "P", "query P\n");
    assert_lines_ending(&r, "A", "query A\nwork A\n");
    /* B's own handler ran first (the package's saw its task Stop) and
     * canceled: nothing runs after it, the package's handler for B's
     * event included. */
    assert_true(strstr(r.trace, "query Stop\n"));
    assert_lines_ending(&r, "B", "");
    assert_lines_ending(&r, "C", "");
    assert_true(message_has(&r, "OnWarning", "an event handler set "
                                             "System::Cancel"));
    assert_int_equal(result_of(&r, "\\Package\\B"), 3);
    assert_int_equal(result_of(&r, "\\Package\\C"), -1);
    run_free(&r);
}

/* OnExecStatusChanged runs when an executable starts executing and when
 * its work is done (before OnPostExecute). */
static void
exec_status_changed_runs_at_start_and_end(void **state)
{
    struct run r;

    run_xml(&r, PKG EXES(SHX("Package", "A", "echo work A >> trace",
                              HANDLERS(TRACING("Package\\A",
                                               "OnExecStatusChanged", "status",
                                               SOURCE)
                                       TRACING("Package\\A", "OnPostExecute",
                                               "post", SOURCE))))
                TAIL, NULL);
    assert_int_equal(r.rc, 0);
    assert_lines_ending(&r, "A", "status A\nwork A\nstatus A\npost A\n");
    run_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            failing_task_raises_error_then_task_failed_then_post_execute),
        cmocka_unit_test(pre_execute_handler_runs_before_the_work),
        cmocka_unit_test(error_bubbles_up_two_levels),
        cmocka_unit_test(propagate_false_stops_the_event),
        cmocka_unit_test(package_handler_sees_every_error),
        cmocka_unit_test(failing_pre_execute_handler_fails_the_task_unrun),
        cmocka_unit_test(failing_post_execute_handler_fails_the_task),
        cmocka_unit_test(errors_in_a_handler_count_toward_the_package),
        cmocka_unit_test(warning_and_information_handlers_get_the_message),
        cmocka_unit_test(variable_value_changed_runs_for_real_changes),
        cmocka_unit_test(handlers_raising_each_others_events_stop),
        cmocka_unit_test(handlers_run_with_one_slot),
        cmocka_unit_test(parallel_errors_each_run_the_handler),
        cmocka_unit_test(system_variables_have_their_values_and_types),
        cmocka_unit_test(
            handler_variables_outside_their_handlers_fail_validation),
        cmocka_unit_test(system_variables_are_read_only),
        cmocka_unit_test(validate_handlers_run_before_each_executable),
        cmocka_unit_test(progress_handlers_see_the_progress),
        cmocka_unit_test(query_cancel_handler_can_cancel),
        cmocka_unit_test(exec_status_changed_runs_at_start_and_end),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
