/* Unit tests for Execute Package tasks with ExecuteOutOfProcess: the
 * child runs in a `weir exec` process of its own (the binary $WEIR, given
 * to the runtime as WEIR_EXEC_BINARY), its parameters bound, its events
 * relayed into the parent's stream and handlers, its failure and its
 * cancel.  Parents run in process through rt_exec_run, except for cancel,
 * where the parent is the weir binary that the test sends SIGTERM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "base/wbuf.h"
#include "base/wfile.h"
#include "base/wtime.h"
#include "base/xalloc.h"
#include "runtime/runtime_int.h"

#include "pkgrun.h"

#define OOP "<ExecuteOutOfProcess>True</ExecuteOutOfProcess>"
#define SOURCE "@[System::SourceName]"

static int
setup_binary(void **state)
{
    const char *weir = getenv("WEIR");

    if (!weir)
        return -1;
    return setenv("WEIR_EXEC_BINARY", weir, 1);
}

/* The child runs in another process (its tasks' parent is not this
 * one), gets its bound parameter and the project parameter set on the
 * parent's command line, and its events come back under the task. */
static void
runs_in_a_process_of_its_own(void **state)
{
    static const char *const args[] = {"--param", "$Project::Tag=fromcli",
                                       NULL};
    struct run r;
    json_t *o;
    pid_t child;

    run_setup(&r);
    put_file(&r, "Project.params", PROJECT_PARAMS);
    put_file(&r, "Child.dtsx",
        HEAD("Child") PARAMS(PARAM("N", "3", "DTS:Required=\"True\"", "0"))
            EXES(SH_EXPR("Write", "\"-c \\\"echo $PPID &gt; child.pid; "
                                  "echo \" + (DT_WSTR, 12) @[$Package::N] + "
                                  "\" \" + @[$Project::Tag] + \" &gt;&gt; "
                                  "child.txt\\\"\"")) TAIL);
    put_file(&r, "Parent.dtsx",
        HEAD("Parent") VARS(VAR("Count", "8", "42"))
            EXES(EXECPKG("Run child", "",
                         REF("Child.dtsx") OOP BIND("N", "User::Count"))) TAIL);
    assert_int_equal(exec_args(&r, "Parent.dtsx", args), 0);
    assert_file(&r, "child.txt", "42 fromcli\n");
    child = pid_in(&r, "child.pid");
    assert_true(child > 0);
    assert_int_not_equal(child, getpid());
    /* It was our child, reaped: gone. */
    assert_int_equal(kill(child, 0), -1);
    o = find_event(&r, "OnPostExecute", "\\Package\\Run child\\Package\\Write");
    assert_non_null(o);
    assert_string_equal(member(o, "package"), "Child.dtsx");
    assert_int_equal(result_of(&r, "\\Package\\Run child\\Package"), 0);
    assert_int_equal(result_of(&r, "\\Package\\Run child"), 0);
    assert_null(find_event(&r, "OnInformation", "\\Package\\Run child"));
    run_free(&r);
}

/* A failing child fails the task; its error is relayed, counted, and
 * runs the parent's OnError handler naming the child's task. */
static void
a_failing_child_fails_the_task(void **state)
{
    struct run r;

    run_setup(&r);
    put_file(&r, "Bad.dtsx", HEAD("Bad") EXES(SH("Boom", "exit 3")) TAIL);
    put_file(&r, "Parent.dtsx",
        HEAD("Parent") EXES(EXECPKG("Run bad", "", REF("Bad.dtsx") OOP))
            HANDLERS(TRACING("Package", "OnError", "error",
                             SOURCE " + \" \" + (DT_WSTR, 12) "
                                    "@[System::ErrorCode]")) TAIL);
    assert_int_equal(exec_args(&r, "Parent.dtsx", NULL), 1);
    assert_true(error_has(&r, "\\Package\\Run bad\\Package\\Boom",
                          "exited with code 3"));
    assert_int_equal(count_events(&r, "OnError", NULL), 1);
    assert_file(&r, "trace", "error Boom 11\n");
    assert_int_equal(result_of(&r, "\\Package\\Run bad\\Package\\Boom"), 1);
    assert_int_equal(result_of(&r, "\\Package\\Run bad"), 1);
    assert_int_equal(result_of(&r, "\\Package"), 1);
    run_free(&r);
}

/* A binary that cannot start fails the task, saying which. */
static void
a_child_of_a_missing_binary_fails_clearly(void **state)
{
    struct run r;

    run_setup(&r);
    put_file(&r, "Fine.dtsx", HEAD("Fine") EXES(SH("Ok", "true")) TAIL);
    put_file(&r, "Parent.dtsx",
        HEAD("Parent") EXES(EXECPKG("Run", "", REF("Fine.dtsx") OOP)) TAIL);
    setenv("WEIR_EXEC_BINARY", "/nonexistent/weir", 1);
    assert_int_equal(exec_args(&r, "Parent.dtsx", NULL), 1);
    setup_binary(NULL);
    assert_true(
        error_has(&r, "\\Package\\Run", "cannot start '/nonexistent/weir'"));
    assert_int_equal(count_events(&r, "OnError", NULL), 1);
    run_free(&r);
}

/* SIGTERM to the parent reaches the child process, which stops its own
 * task; all of them end, and the parent reports the cancel (exit 3). */
static void
cancel_reaches_the_child(void **state)
{
    const char *weir = getenv("WEIR");
    char *parent;
    struct run r;
    pid_t pid, child, sh;
    int status;

    run_setup(&r);
    put_file(&r, "Slow.dtsx",
        HEAD("Slow") EXES(SH("Sleep", "echo $$ &gt; sh.pid; echo $PPID "
                                      "&gt; child.pid; exec sleep 30")) TAIL);
    put_file(&r, "Parent.dtsx",
        HEAD("Parent") EXES(EXECPKG("Run", "", REF("Slow.dtsx") OOP)) TAIL);
    parent = xasprintf("%s/Parent.dtsx", r.dir);
    pid = start_weir(&r, weir, parent);
    child = pid_in(&r, "child.pid");
    sh = pid_in(&r, "sh.pid");
    assert_true(child > 0 && sh > 0);
    assert_int_not_equal(child, pid);
    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 3);
    assert_int_equal(kill(child, 0), -1);
    assert_int_equal(errno, ESRCH);
    assert_int_equal(kill(sh, 0), -1);
    assert_int_equal(errno, ESRCH);
    read_events(&r, "events.jsonl");
    assert_int_equal(result_of(&r, "\\Package\\Run\\Package\\Sleep"), 3);
    assert_int_equal(result_of(&r, "\\Package\\Run"), 3);
    assert_int_equal(result_of(&r, "\\Package"), 3);
    free(parent);
    run_free(&r);
}

/* The child's configurations apply in its process (an environment
 * variable there sets User::N); one that cannot apply warns once. */
static void
configurations_apply_in_the_child(void **state)
{
    struct run r;

    run_setup(&r);
    setenv("WEIR_TEST_OOP_N", "7", 1);
    unsetenv("WEIR_TEST_OOP_UNSET");
    put_file(&r, "Child.dtsx",
        HEAD_ATTRS("Child", "DTS:EnableConfig=\"True\"")
        "<DTS:Configurations>"
        "<DTS:Configuration DTS:ObjectName=\"N\" DTS:ConfigurationType=\"2\" "
        "DTS:ConfigurationString=\"WEIR_TEST_OOP_N\" "
        "DTS:ConfigurationVariable=\"\\Package.Variables[User::N]."
        "Properties[Value]\"/>"
        "<DTS:Configuration DTS:ObjectName=\"Gone\" "
        "DTS:ConfigurationType=\"2\" "
        "DTS:ConfigurationString=\"WEIR_TEST_OOP_UNSET\" "
        "DTS:ConfigurationVariable=\"\\Package.Variables[User::N]."
        "Properties[Value]\"/></DTS:Configurations>"
        VARS(VAR("N", "3", "1"))
        EXES(SH_EXPR("Write", "\"-c \\\"echo \" + (DT_WSTR, 12) @[User::N] "
                              "+ \" &gt; n.txt\\\"\"")) TAIL);
    put_file(&r, "Parent.dtsx",
        HEAD("Parent") EXES(EXECPKG("Run", "", REF("Child.dtsx") OOP)) TAIL);
    assert_int_equal(exec_args(&r, "Parent.dtsx", NULL), 0);
    assert_file(&r, "n.txt", "7\n");
    assert_int_equal(count_messages(&r, "OnWarning",
                                    "'WEIR_TEST_OOP_UNSET' is not set"),
                     1);
    unsetenv("WEIR_TEST_OOP_N");
    run_free(&r);
}

/* The weir binary, with an out-of-process child that fails: the error
 * shows once on stderr, under its full path, and the exit code is 1. */
static void
errors_show_once_on_stderr(void **state)
{
    const char *weir = getenv("WEIR");
    char *parent;
    struct run r;
    pid_t pid;
    int status;

    run_setup(&r);
    put_file(&r, "Bad.dtsx", HEAD("Bad") EXES(SH("Boom", "exit 3")) TAIL);
    put_file(&r, "Parent.dtsx",
        HEAD("Parent") EXES(EXECPKG("Run bad", "", REF("Bad.dtsx") OOP)) TAIL);
    parent = xasprintf("%s/Parent.dtsx", r.dir);
    pid = start_weir(&r, weir, parent);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_file(&r, "stderr.txt",
                "weir exec: error: \\Package\\Run bad\\Package\\Boom: "
                "process '/bin/sh' exited with code 3, not the success "
                "value 0\n");
    free(parent);
    run_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(runs_in_a_process_of_its_own),
        cmocka_unit_test(a_failing_child_fails_the_task),
        cmocka_unit_test(a_child_of_a_missing_binary_fails_clearly),
        cmocka_unit_test(cancel_reaches_the_child),
        cmocka_unit_test(errors_show_once_on_stderr),
        cmocka_unit_test(configurations_apply_in_the_child),
    };

    if (setup_binary(NULL) < 0) {
        fprintf(stderr, "WEIR is not set: the weir binary is needed\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
