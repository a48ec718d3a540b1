/* Unit tests for the Execute Process task's standard streams
 * (StandardInputVariable, StandardOutputVariable, StandardErrorVariable)
 * with real processes: what one process writes is captured into a
 * variable, and a second process receives it on its standard input and
 * writes it to a file the test reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pkgrun.h"

/* An Execute Process task running /bin/sh -c SCRIPT, with more
 * ExecuteProcessData attributes ATTRS. */
#define SH_ATTRS(name, attrs, script)                                         \
    TASK(name, "Microsoft.ExecuteProcess",                                    \
         "<DTS:ObjectData><ExecuteProcessData Executable=\"/bin/sh\" "        \
         "Arguments=\"-c &quot;" script "&quot;\" " attrs                     \
         " /></DTS:ObjectData>")
#define PCS(x) "<DTS:PrecedenceConstraints>" x "</DTS:PrecedenceConstraints>"
#define PC(from, to)                                                          \
    "<DTS:PrecedenceConstraint DTS:ObjectName=\"" from "-" to "\" "           \
    "DTS:From=\"Package\\" from "\" DTS:To=\"Package\\" to "\" />\n"
/* A task that writes the variable VAR to the file FILE. */
#define SAVE(name, var, file)                                                 \
    SH_ATTRS(name, "StandardInputVariable=\"" var "\"", "cat &gt; " file)

static void
output_and_error_into_variables_and_back(void **state)
{
    struct run r;

    (void)state;
    run_setup(&r);
    assert_int_equal(
        run_pkg(&r,
                HEAD("T") VARS(STR_VAR("Out", "") STR_VAR("Err", "old"))
                EXES(SH_ATTRS("Talk",
                        "StandardOutputVariable=\"User::Out\" "
                        "StandardErrorVariable=\"User::Err\"",
                        "printf 'hello\\nworld\\n'; printf oops &gt;&amp;2")
                     SAVE("SaveOut", "User::Out", "out.txt")
                     SAVE("SaveErr", "Err", "err.txt"))
                PCS(PC("Talk", "SaveOut") PC("SaveOut", "SaveErr")) TAIL,
                NULL),
        0);
    assert_file(&r, "out.txt", "hello\nworld\n");
    assert_file(&r, "err.txt", "oops");
    /* The events are emitted as without the variables. */
    assert_true(message_has(&r, "OnInformation", "world"));
    assert_true(message_has(&r, "OnWarning", "oops"));

    /* An empty output empties the variable. */
    assert_int_equal(
        run_pkg(&r,
                HEAD("T") VARS(STR_VAR("Out", "stale"))
                EXES(SH_ATTRS("Quiet", "StandardOutputVariable=\"User::Out\"",
                        "true")
                     SAVE("SaveOut", "User::Out", "out.txt"))
                PCS(PC("Quiet", "SaveOut")) TAIL,
                NULL),
        0);
    assert_file(&r, "out.txt", "");
    run_free(&r);
}

static void
large_input_and_bounded_capture(void **state)
{
    struct run r;
    size_t n = 300000;
    char *big = xmalloc(n + 1), *xml;

    (void)state;
    memset(big, 'y', n);
    big[n] = '\0';
    run_setup(&r);
    /* More than a pipe holds goes in whole; a process that never reads
     * its input does not hang the task; output past 1 MiB is not
     * stored, with a warning. */
    xml = xasprintf(
        HEAD("T") VARS(STR_VAR("In", "%s") STR_VAR("Out", ""))
        EXES(SH_ATTRS("Count", "StandardInputVariable=\"User::In\"",
                "wc -c &gt; n.txt")
             SH_ATTRS("Ignore", "StandardInputVariable=\"User::In\"", "exit 0")
             SH_ATTRS("Flood", "StandardOutputVariable=\"User::Out\"",
                "head -c 1500000 /dev/zero | tr '\\0' x")
             SH_ATTRS("Measure", "StandardInputVariable=\"User::Out\"",
                "wc -c &gt; m.txt"))
        PCS(PC("Count", "Ignore") PC("Ignore", "Flood") PC("Flood", "Measure"))
        TAIL,
        big);
    if (run_pkg(&r, xml, NULL))
        dump_events(&r);
    assert_int_equal(r.rc, 0);
    assert_file(&r, "n.txt", "300000\n");
    assert_file(&r, "m.txt", "1048576\n");
    assert_true(message_has(&r, "OnWarning",
                            "standard output beyond 1048576 bytes is not "
                            "stored in 'User::Out'"));
    free(xml);
    free(big);
    run_free(&r);
}

static void
stream_variables_are_validated(void **state)
{
    struct run r;

    (void)state;
    run_setup(&r);
    assert_int_not_equal(
        run_pkg(&r,
                HEAD("T") VARS("<DTS:Variable DTS:Namespace=\"User\" "
                          "DTS:ObjectName=\"Fixed\" DTS:ReadOnly=\"True\">"
                          "<DTS:VariableValue DTS:DataType=\"8\">x"
                          "</DTS:VariableValue></DTS:Variable>")
                EXES(SH_ATTRS("NoIn", "StandardInputVariable=\"User::Nope\"",
                        "cat &gt; never.txt")
                     SH_ATTRS("ReadOnly", "StandardOutputVariable=\"User::Fixed\"",
                        "echo hi &gt; never.txt"))
                TAIL,
                NULL),
        0);
    assert_true(message_has(&r, "OnError",
                            "StandardInputVariable: there is no variable "
                            "'User::Nope' in scope"));
    assert_true(message_has(&r, "OnError",
                            "StandardOutputVariable: 'User::Fixed' is "
                            "read-only"));
    assert_false(exists(&r, "never.txt"));
    run_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(output_and_error_into_variables_and_back),
        cmocka_unit_test(large_input_and_bounded_capture),
        cmocka_unit_test(stream_variables_are_validated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
