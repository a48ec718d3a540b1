/* Unit tests for the Execute Package task and for running a package of an
 * .ispac: parent and child packages written to a temporary project
 * folder, run in process through rt_exec_run with --events-fd on a file;
 * children write what they received to files the tests read back. */
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

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "base/wbuf.h"
#include "base/wfile.h"
#include "base/xalloc.h"
#include "runtime/runtime_int.h"

#include "pkgrun.h"

/* ---- bindings, sharing, events ---- */

static void
binds_converts_and_shares_project_parameters(void **state)
{
    static const char *const args[] = {"--param", "$Project::Tag=fromcli",
                                       NULL};
    struct run r;
    json_t *o;

    run_setup(&r);
    put_file(&r, "Project.params", PROJECT_PARAMS);
    put_file(&r, "Child.dtsx", CHILD);
    /* A String variable "42" bound to the Int32 parameter: converted. */
    put_file(&r, "Parent.dtsx",
        HEAD("Parent") VARS(VAR("Count", "8", "42"))
            EXES(EXECPKG("Run child", "",
                         REF("Child.dtsx") BIND("N", "User::Count"))) TAIL);
    assert_int_equal(exec_args(&r, "Parent.dtsx", args), 0);
    assert_file(&r, "child.txt", "42 fromcli\n");
    /* The child's events are in the stream, under the task's path and
     * naming the child's file. */
    o = find_event(&r, "OnPostExecute", "\\Package\\Run child\\Package\\Write");
    assert_non_null(o);
    assert_string_equal(member(o, "package"), "Child.dtsx");
    assert_int_equal(result_of(&r, "\\Package\\Run child\\Package"), 0);
    assert_int_equal(result_of(&r, "\\Package\\Run child"), 0);
    o = find_event(&r, "OnPreExecute", "\\Package");
    assert_string_equal(member(o, "package"), "");
    run_free(&r);
}

static void
a_value_that_does_not_convert_fails_the_task(void **state)
{
    struct run r;

    run_setup(&r);
    put_file(&r, "Project.params", PROJECT_PARAMS);
    put_file(&r, "Child.dtsx", CHILD);
    put_file(&r, "Parent.dtsx",
        HEAD("Parent") VARS(VAR("Count", "8", "many"))
            EXES(EXECPKG("Run child", "",
                         REF("Child.dtsx") BIND("N", "User::Count"))) TAIL);
    assert_int_equal(exec_args(&r, "Parent.dtsx", NULL), 1);
    assert_true(error_has(&r, "\\Package\\Run child",
                          "binding 'User::Count' to child parameter 'N'"));
    assert_int_equal(result_of(&r, "\\Package\\Run child"), 1);
    assert_false(exists(&r, "child.txt"));
    run_free(&r);
}

static void
child_failure_fails_the_task(void **state)
{
    struct run r;

    run_setup(&r);
    put_file(&r, "Bad.dtsx", HEAD("Bad") EXES(SH("Boom", "exit 3")) TAIL);
    put_file(&r, "Parent.dtsx",
        HEAD("Parent") EXES(EXECPKG("Run bad", "", REF("Bad.dtsx"))) TAIL);
    assert_int_equal(exec_args(&r, "Parent.dtsx", NULL), 1);
    assert_int_equal(result_of(&r, "\\Package\\Run bad\\Package\\Boom"), 1);
    assert_int_equal(result_of(&r, "\\Package\\Run bad\\Package"), 1);
    assert_int_equal(result_of(&r, "\\Package\\Run bad"), 1);
    /* The child's error is the one error: the task adds none. */
    assert_true(error_has(&r, "\\Package\\Run bad\\Package\\Boom", "exit"));
    assert_false(error_has(&r, "\\Package\\Run bad", ""));
    assert_non_null(find_event(&r, "OnTaskFailed", "\\Package\\Run bad"));
    assert_int_equal(result_of(&r, "\\Package"), 1);
    run_free(&r);
}

/* ---- validation ---- */

static void
recursion_is_refused(void **state)
{
    static const char *const validate[] = {"--validate", NULL};
    struct run r;

    run_setup(&r);
    put_file(&r, "Self.dtsx",
        HEAD("Self") EXES(EXECPKG("Again", "", REF("Self.dtsx"))) TAIL);
    put_file(&r, "A.dtsx", HEAD("A") EXES(EXECPKG("To B", "", REF("B.dtsx"))) TAIL);
    put_file(&r, "B.dtsx", HEAD("B") EXES(EXECPKG("To A", "", REF("A.dtsx"))) TAIL);
    assert_int_equal(exec_args(&r, "Self.dtsx", validate), 1);
    assert_true(error_has(&r, "\\Package\\Again",
                          "package 'Self.dtsx' would execute itself"));
    assert_int_equal(exec_args(&r, "A.dtsx", NULL), 1);
    assert_true(error_has(&r, "\\Package\\To B\\Package\\To A",
                          "'A.dtsx' would execute itself through other"));
    assert_true(error_has(&r, "\\Package\\To B", "1 validation problem"));
    /* Validation failed: nothing ran. */
    assert_null(find_event(&r, "OnPreExecute", NULL));
    run_free(&r);
}

static void
required_parameters_need_a_binding(void **state)
{
    struct run r;

    run_setup(&r);
    put_file(&r, "Project.params", PROJECT_PARAMS);
    put_file(&r, "Child.dtsx", CHILD);
    put_file(&r, "Parent.dtsx",
        HEAD("Parent") EXES(EXECPKG("Run child", "", REF("Child.dtsx"))) TAIL);
    assert_int_equal(exec_args(&r, "Parent.dtsx", NULL), 1);
    assert_true(error_has(&r, "\\Package\\Run child",
                          "requires parameter 'N': the task binds no value"));
    put_file(&r, "Parent.dtsx",
        HEAD("Parent") EXES(EXECPKG("Run child", "",
                                    REF("Child.dtsx") BIND("N", "User::Nope")
                                        BIND("Missing", "User::Nope"))) TAIL);
    assert_int_equal(exec_args(&r, "Parent.dtsx", NULL), 1);
    assert_true(error_has(&r, "\\Package\\Run child", "'User::Nope'"));
    assert_false(exists(&r, "child.txt"));
    run_free(&r);
}

static void
missing_child_and_delay_validation(void **state)
{
    static const char *const validate[] = {"--validate", NULL};
    struct run r;

    run_setup(&r);
    put_file(&r, "Parent.dtsx",
        HEAD("Parent") EXES(EXECPKG("Run", "", REF("Gone.dtsx"))) TAIL);
    assert_int_equal(exec_args(&r, "Parent.dtsx", validate), 1);
    assert_true(error_has(&r, "\\Package\\Run", "Gone.dtsx"));
    /* DelayValidation: validation passes, the execution fails. */
    put_file(&r, "Parent.dtsx",
        HEAD("Parent")
            EXES(EXECPKG("Run", "DTS:DelayValidation=\"True\"",
                         REF("Gone.dtsx")) SH("After", "touch after.txt"))
                TAIL);
    assert_int_equal(exec_args(&r, "Parent.dtsx", validate), 0);
    assert_int_equal(exec_args(&r, "Parent.dtsx", NULL), 1);
    assert_int_equal(result_of(&r, "\\Package\\Run"), 1);
    assert_true(error_has(&r, "\\Package\\Run", "Gone.dtsx"));
    /* A child that does not validate fails its parent's validation. */
    put_file(&r, "Odd.dtsx",
        HEAD("Odd") EXES("<DTS:Executable DTS:refId=\"Package\\S\" "
                         "DTS:ObjectName=\"S\" DTS:ExecutableType=\""
                         "Microsoft.ScriptTask\"/>") TAIL);
    put_file(&r, "Parent.dtsx",
        HEAD("Parent") EXES(EXECPKG("Run", "", REF("Odd.dtsx"))) TAIL);
    assert_int_equal(exec_args(&r, "Parent.dtsx", validate), 1);
    assert_true(error_has(&r, "\\Package\\Run\\Package\\S", ".NET"));
    assert_true(error_has(&r, "\\Package\\Run", "'Odd.dtsx' has 1 validation"));
    run_free(&r);
}

static void
external_reference_through_a_file_connection(void **state)
{
    struct run r;

    run_setup(&r);
    char *sub = xasprintf("%s/lib", r.dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    free(sub);
    put_file(&r, "lib/Leaf.dtsx",
        HEAD("Leaf") EXES(SH("Mark", "echo leaf > leaf.txt")) TAIL);
    put_file(&r, "Parent.dtsx",
        HEAD("Parent")
        "<DTS:ConnectionManagers><DTS:ConnectionManager "
        "DTS:refId=\"Package.ConnectionManagers[Leaf]\" DTS:ObjectName=\"Leaf\" "
        "DTS:DTSID=\"{22222222-2222-2222-2222-222222222222}\" "
        "DTS:CreationName=\"FILE\"><DTS:ObjectData><DTS:ConnectionManager "
        "DTS:ConnectionString=\"lib/Leaf.dtsx\"/></DTS:ObjectData>"
        "</DTS:ConnectionManager></DTS:ConnectionManagers>"
        EXES(EXECPKG("Run leaf", "",
                     "<UseProjectReference>False</UseProjectReference>"
                     "<Connection>{22222222-2222-2222-2222-222222222222}"
                     "</Connection><ExecuteOutOfProcess>True"
                     "</ExecuteOutOfProcess>")) TAIL);
    assert_int_equal(exec_args(&r, "Parent.dtsx", NULL), 0);
    /* The child, run out of process from its file, runs its processes
     * in its own folder. */
    assert_file(&r, "lib/leaf.txt", "leaf\n");
    assert_int_equal(result_of(&r, "\\Package\\Run leaf\\Package\\Mark"),
                     0);
    run_free(&r);
}

/* ---- .ispac ---- */

static void
add_entry(struct archive *a, const char *name, const char *text)
{
    struct archive_entry *e = archive_entry_new();

    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)strlen(text));
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    assert_int_equal(archive_write_data(a, text, strlen(text)),
                     (la_ssize_t)strlen(text));
    archive_entry_free(e);
}

/* Writes NAME in the run's folder: a zip of `n` (name, text) pairs. */
static void
write_zip(struct run *r, const char *name, const char *const *files, size_t n)
{
    char *path = xasprintf("%s/%s", r->dir, name);
    struct archive *a = archive_write_new();

    archive_write_set_format_zip(a);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++)
        add_entry(a, files[2 * i], files[2 * i + 1]);
    archive_write_close(a);
    archive_write_free(a);
    free(path);
}

#define CONMGR                                                                \
    "<?xml version=\"1.0\"?>\n<DTS:ConnectionManager "                        \
    "xmlns:DTS=\"www.microsoft.com/SqlServer/Dts\" DTS:ObjectName=\"Src\" "   \
    "DTS:DTSID=\"{33333333-3333-3333-3333-333333333333}\" "                   \
    "DTS:CreationName=\"FILE\"><DTS:ObjectData><DTS:ConnectionManager "       \
    "DTS:ConnectionString=\"in.txt\"/></DTS:ObjectData>"                      \
    "</DTS:ConnectionManager>\n"

static void
runs_a_package_of_an_ispac(void **state)
{
    static const char *const parent[] = {"--package", "parent.dtsx", NULL};
    static const char *const child[] = {"--package", "Child.dtsx", "--param",
                                        "N=7", NULL};
    static const char *const none[] = {"--package", "Nope.dtsx", NULL};
    static const char *const remote[] = {"--package", "Remote.dtsx", "--param",
                                         "$Project::Tag=cli", NULL};
    const char *files[] = {
        "[Content_Types].xml", "<Types/>",
        "@Project.manifest", "<SSIS:Project/>",
        "Project.params", PROJECT_PARAMS,
        "Src.conmgr", CONMGR,
        "Child.dtsx", CHILD,
        "Parent.dtsx",
        HEAD("Parent") VARS(VAR("Count", "3", "5"))
            EXES(EXECPKG("Run child", "",
                         REF("Child.dtsx") BIND("N", "User::Count"))) TAIL,
        /* The same child out of process: weir exec --package Child.dtsx
         * on the .ispac, with the bound and the project's values. */
        "Remote.dtsx",
        HEAD("Remote") VARS(VAR("Count", "3", "9"))
            EXES(EXECPKG("Run child", "",
                         REF("Child.dtsx") "<ExecuteOutOfProcess>True"
                         "</ExecuteOutOfProcess>" BIND("N", "User::Count")))
            TAIL,
    };
    struct run r;

    run_setup(&r);
    write_zip(&r, "P.ispac", files, sizeof(files) / sizeof(files[0]) / 2);
    /* The package's folder is the .ispac's: processes run there. */
    assert_int_equal(exec_args(&r, "P.ispac", parent), 0);
    assert_int_equal(exec_args(&r, "P.ispac", child), 0);
    assert_file(&r, "child.txt", "5 design\n7 design\n");
    assert_int_equal(exec_args(&r, "P.ispac", remote), 0);
    assert_file(&r, "child.txt", "5 design\n7 design\n9 cli\n");
    assert_non_null(find_event(&r, "OnPostExecute",
                               "\\Package\\Run child\\Package\\Write"));
    assert_int_equal(exec_args(&r, "P.ispac", NULL), 6);
    assert_true(error_has(&r, NULL, "'P.ispac' holds Child.dtsx, Parent.dtsx, "
                                    "Remote.dtsx"));
    assert_int_equal(exec_args(&r, "P.ispac", none), 4);
    assert_true(error_has(&r, NULL, "no package 'Nope.dtsx'"));
    run_free(&r);
}

static void
bad_archives_are_refused(void **state)
{
    static const char *const args[] = {"--package", "A.dtsx", NULL};
    const char *dotdot[] = {"../A.dtsx", CHILD};
    const char *twice[] = {"A.dtsx", CHILD, "a.dtsx", CHILD};
    struct run r;

    run_setup(&r);
    write_zip(&r, "Up.ispac", dotdot, 1);
    assert_int_equal(exec_args(&r, "Up.ispac", args), 5);
    assert_true(error_has(&r, NULL, "'..' is not allowed"));
    write_zip(&r, "Twice.ispac", twice, 2);
    assert_int_equal(exec_args(&r, "Twice.ispac", args), 5);
    assert_true(error_has(&r, NULL, "appears twice"));
    put_file(&r, "Junk.ispac", "not a zip at all");
    assert_int_equal(exec_args(&r, "Junk.ispac", args), 5);
    assert_true(error_has(&r, NULL, "'Junk.ispac'"));
    assert_int_equal(exec_args(&r, "Missing.ispac", args), 4);
    run_free(&r);
}

static void
a_project_folder_with_package(void **state)
{
    static const char *const args[] = {"--package", "Child.dtsx", "--param",
                                       "N=9", NULL};
    struct run r;

    run_setup(&r);
    put_file(&r, "Project.params", PROJECT_PARAMS);
    put_file(&r, "Child.dtsx", CHILD);
    assert_int_equal(exec_args(&r, ".", args), 0);
    assert_file(&r, "child.txt", "9 design\n");
    assert_int_equal(exec_args(&r, ".", NULL), 6);
    run_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(binds_converts_and_shares_project_parameters),
        cmocka_unit_test(a_value_that_does_not_convert_fails_the_task),
        cmocka_unit_test(child_failure_fails_the_task),
        cmocka_unit_test(recursion_is_refused),
        cmocka_unit_test(required_parameters_need_a_binding),
        cmocka_unit_test(missing_child_and_delay_validation),
        cmocka_unit_test(external_reference_through_a_file_connection),
        cmocka_unit_test(runs_a_package_of_an_ispac),
        cmocka_unit_test(bad_archives_are_refused),
        cmocka_unit_test(a_project_folder_with_package),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
