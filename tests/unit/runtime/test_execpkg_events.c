/* Unit tests for a child package's events in its parent: the events an
 * Execute Package task's child raises reach the parent's event handlers
 * (from the task up), unless the child's handlers stop them with
 * System::Propagate, and the child's errors count toward the parent's
 * MaximumErrorCount.  Packages run in process through rt_exec_run; the
 * handlers' tasks append lines to the file "trace" that the tests read.
 * Every test runs twice: with the child in process, and with it in a
 * process of its own (ExecuteOutOfProcess, the weir binary in
 * WEIR_EXEC_BINARY), where the same must hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/wbuf.h"
#include "base/wfile.h"
#include "base/xalloc.h"
#include "runtime/runtime_int.h"

#include "pkgrun.h"

#define SOURCE "@[System::SourceName]"
#define CODE "(DT_WSTR, 12) @[System::ErrorCode]"
#define PKG_REF "Package"
#define TASK_REF "Package\\Run bad"

/* A child whose task Boom fails (exit 3: OnError code 11 from Boom). */
#define BAD_CHILD HEAD("Bad") EXES(SH("Boom", "exit 3")) TAIL

/* The same child, with an OnError handler on its package that traces
 * the error and sets System::Propagate to False. */
#define STOPPING_CHILD                                                         \
    HEAD("Bad")                                                                \
    EXES(SH("Boom", "exit 3")) HANDLERS(HANDLER(                               \
        PKG_REF, "OnError", PROPAGATE_VAR,                                     \
        TRACE(HANDLER_REF(PKG_REF, "OnError"), "T", "\"child \" + " SOURCE)    \
            EXPR_TASK(HANDLER_REF(PKG_REF, "OnError"), "Stop",                 \
                      "@[System::Propagate] = false"))) TAIL

/* The parent: OnError handlers on the Execute Package task and on the
 * package, an OnTaskFailed one on the package. */
#define PARENT                                                                 \
    HEAD("Parent")                                                             \
    EXES(EXECPKGX("Run bad", "", REF("Bad.dtsx"),                              \
                  HANDLERS(TRACING(TASK_REF, "OnError", "task",                \
                                   SOURCE " + \" \" + " CODE))))               \
    HANDLERS(TRACING(PKG_REF, "OnError", "pkg", SOURCE)                        \
                 TRACING(PKG_REF, "OnTaskFailed", "failed", SOURCE))           \
    TAIL

/* Writes a parent package; `state` says whether its Execute Package
 * tasks run their children out of process. */
static void
put_parent(struct run *r, const char *name, const char *xml, void **state)
{
    static const char task[] = "<ExecutePackageTask>";
    struct wbuf b;
    const char *p = xml, *hit;
    char *text;
    const char *weir = getenv("WEIR_EXEC_BINARY");

    /* Without it the child would be this test binary. */
    if (*(bool *)*state && (!weir || !*weir))
        skip();
    wbuf_init(&b, WBUF_NOLIMIT);
    while (*(bool *)*state && (hit = strstr(p, task))) {
        wbuf_add(&b, p, (size_t)(hit - p) + strlen(task), NULL);
        wbuf_adds(&b, "<ExecuteOutOfProcess>True</ExecuteOutOfProcess>",
                  NULL);
        p = hit + strlen(task);
    }
    wbuf_adds(&b, p, NULL);
    text = wbuf_detach(&b, NULL);
    put_file(r, name, text);
    free(text);
}

/* The child's error runs the task's handler, then the package's, with
 * System::SourceName naming the child's task; its OnTaskFailed reaches
 * the parent's handler before the Execute Package task's own. */
static void
child_errors_reach_the_parent_handlers(void **state)
{
    struct run r;

    run_setup(&r);
    put_file(&r, "Bad.dtsx", BAD_CHILD);
    put_parent(&r, "Parent.dtsx", PARENT, state);
    assert_int_equal(exec_args(&r, "Parent.dtsx", NULL), 1);
    assert_file(&r, "trace",
                "task Boom 11\n"
                "pkg Boom\n"
                "failed Boom\n"
                "failed Run bad\n");
    /* One error, the child's: the task adds none of its own. */
    assert_int_equal(count_events(&r, "OnError", NULL), 1);
    assert_true(error_has(&r, "\\Package\\Run bad\\Package\\Boom", "exit"));
    assert_int_equal(result_of(&r, "\\Package\\Run bad"), 1);
    assert_int_equal(result_of(&r, "\\Package"), 1);
    run_free(&r);
}

/* System::Propagate set False by the child's own handler keeps the error
 * from the parent's handlers; other events still go up. */
static void
propagate_false_in_the_child_stops_it(void **state)
{
    struct run r;

    run_setup(&r);
    put_file(&r, "Bad.dtsx", STOPPING_CHILD);
    put_parent(&r, "Parent.dtsx", PARENT, state);
    assert_int_equal(exec_args(&r, "Parent.dtsx", NULL), 1);
    assert_file(&r, "trace",
                "child Boom\n"
                "failed Boom\n"
                "failed Run bad\n");
    /* The error still counts in the parent, whatever Propagate says: the
     * package fails on its MaximumErrorCount of 1. */
    assert_int_equal(result_of(&r, "\\Package"), 1);
    run_free(&r);
}

/* The child's two errors count in the parent package: under a
 * MaximumErrorCount of 3 it succeeds (the failed task is not
 * FailPackageOnFailure), at 2 it fails. */
static void
child_errors_count_in_the_parent(void **state)
{
    struct run r;

    run_setup(&r);
    put_file(&r, "Two.dtsx",
        HEAD_ATTRS("Two", "DTS:MaxErrorCount=\"5\"")
            EXES(SH("One", "exit 3") SH("Two", "exit 4")) TAIL);
    put_parent(&r, "P3.dtsx",
        HEAD_ATTRS("P3", "DTS:MaxErrorCount=\"3\"")
            EXES(EXECPKG("Run", "", REF("Two.dtsx"))) TAIL, state);
    put_parent(&r, "P2.dtsx",
        HEAD_ATTRS("P2", "DTS:MaxErrorCount=\"2\"")
            EXES(EXECPKG("Run", "", REF("Two.dtsx"))) TAIL, state);
    assert_int_equal(exec_args(&r, "P3.dtsx", NULL), 0);
    /* The child itself succeeds (2 < 5), but its errors fail the Execute
     * Package task (MaximumErrorCount 1), which counts them too. */
    assert_int_equal(result_of(&r, "\\Package\\Run\\Package"), 0);
    assert_int_equal(result_of(&r, "\\Package\\Run"), 1);
    assert_int_equal(result_of(&r, "\\Package"), 0);
    assert_int_equal(count_events(&r, "OnError", NULL), 2);
    assert_int_equal(exec_args(&r, "P2.dtsx", NULL), 1);
    assert_int_equal(result_of(&r, "\\Package"), 1);
    run_free(&r);
}

/* Two children failing at the same time on parallel branches: each error
 * runs the parent's handler once (one run at a time). */
static void
parallel_children_take_turns(void **state)
{
    struct run r;

    run_setup(&r);
    put_file(&r, "Bad.dtsx", HEAD("Bad") EXES(SH("Boom", "sleep 0.2; exit 3")) TAIL);
    put_parent(&r, "Parent.dtsx",
        HEAD_ATTRS("Parent", "DTS:MaxErrorCount=\"0\"") EXES(
            EXECPKG("A", "", REF("Bad.dtsx")) EXECPKG("B", "", REF("Bad.dtsx")))
            HANDLERS(TRACING(PKG_REF, "OnError", "pkg", SOURCE)) TAIL, state);
    assert_int_equal(exec_args(&r, "Parent.dtsx", NULL), 0);
    assert_file(&r, "trace", "pkg Boom\npkg Boom\n");
    assert_int_equal(result_of(&r, "\\Package\\A"), 1);
    assert_int_equal(result_of(&r, "\\Package\\B"), 1);
    run_free(&r);
}

/* A child that fails without an error (ForceExecutionResult) gets one
 * from the task, so the parent's log says why. */
static void
a_silent_failure_is_explained(void **state)
{
    struct run r;

    run_setup(&r);
    put_file(&r, "Quiet.dtsx",
        HEAD_ATTRS("Quiet", "DTS:ForceExecutionResult=\"1\"")
            EXES(SH("Fine", "true")) TAIL);
    put_parent(&r, "Parent.dtsx",
        HEAD("Parent") EXES(EXECPKG("Run", "", REF("Quiet.dtsx"))) TAIL, state);
    assert_int_equal(exec_args(&r, "Parent.dtsx", NULL), 1);
    assert_true(error_has(&r, "\\Package\\Run",
                          "'Quiet.dtsx' failed without raising an error"));
    assert_int_equal(count_events(&r, "OnError", NULL), 1);
    run_free(&r);
}

int
main(void)
{
    static bool in_process = false, out_of_process = true;
    const struct CMUnitTest tests[] = {
#define BOTH(f)                                                                \
    cmocka_unit_test_prestate(f, &in_process),                                 \
        cmocka_unit_test_prestate(f, &out_of_process)
        BOTH(child_errors_reach_the_parent_handlers),
        BOTH(propagate_false_in_the_child_stops_it),
        BOTH(child_errors_count_in_the_parent),
        BOTH(parallel_children_take_turns),
        BOTH(a_silent_failure_is_explained),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
