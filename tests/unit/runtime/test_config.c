/* Unit tests for legacy package configurations and weir exec --set:
 * packages and .dtsConfig files written to a temporary folder, run in
 * process through rt_exec_run with --events-fd on a file; the packages
 * write their variables to files the tests read back. */
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
#include "package/package.h"
#include "runtime/conn.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

#include "pkgrun.h"


#define HEAD_CFG(name, configs)                                               \
    "<?xml version=\"1.0\"?>\n"                                               \
    "<DTS:Executable xmlns:DTS=\"www.microsoft.com/SqlServer/Dts\"\n"         \
    "  DTS:refId=\"Package\" DTS:CreationName=\"Microsoft.Package\"\n"        \
    "  DTS:EnableConfig=\"True\" DTS:ExecutableType=\"Microsoft.Package\" "   \
    "DTS:ObjectName=\"" name "\">\n"                                          \
    "<DTS:Property DTS:Name=\"PackageFormatVersion\">8</DTS:Property>\n"      \
    "<DTS:Configurations>" configs "</DTS:Configurations>\n"
#define CONFIG(name, type, string, target)                                    \
    "<DTS:Configuration DTS:ObjectName=\"" name "\" DTS:ConfigurationType=\"" \
    type "\" DTS:ConfigurationString=\"" string "\" "                         \
    "DTS:ConfigurationVariable=\"" target "\"/>"
#define VAR_PATH(name) "\\Package.Variables[User::" name "].Properties[Value]"
/* Two variables, written as "Greeting N" to out.txt. */
#define BODY                                                                  \
    VARS(VAR("Greeting", "8", "design") VAR("N", "3", "1"))                   \
    "<DTS:ConnectionManagers><DTS:ConnectionManager "                         \
    "DTS:refId=\"Package.ConnectionManagers[Db]\" DTS:ObjectName=\"Db\" "     \
    "DTS:CreationName=\"ODBC\"><DTS:ObjectData><DTS:ConnectionManager "       \
    "DTS:ConnectionString=\"DSN=design\"/></DTS:ObjectData>"                  \
    "</DTS:ConnectionManager></DTS:ConnectionManagers>"                       \
    EXES(SH_EXPR("Write", "\"-c \\\"echo \" + @[User::Greeting] + \" \" + "   \
                          "(DT_WSTR, 12) @[User::N] + \" &gt; out.txt\\\"\""))\
    TAIL
#define DTSCONFIG(entries)                                                    \
    "<?xml version=\"1.0\"?>\n<DTSConfiguration><DTSConfigurationHeading/>"  \
    entries "</DTSConfiguration>\n"
#define ENTRY(path, type, value)                                              \
    "<Configuration ConfiguredType=\"Property\" Path=\"" path "\" "           \
    "ValueType=\"" type "\"><ConfiguredValue>" value "</ConfiguredValue>"     \
    "</Configuration>"

static void
xml_file_sets_variables_and_warns_about_bad_paths(void **state)
{
    struct run r;

    run_setup(&r);
    /* A Windows path: found by its file name in the package's folder. */
    put_file(&r, "P.dtsx",
        HEAD_CFG("P", CONFIG("File", "1", "C:\\Configs\\p.dtsConfig", ""))
            BODY);
    put_file(&r, "p.dtsConfig",
        DTSCONFIG(ENTRY(VAR_PATH("Greeting"), "String", "hello")
                      ENTRY(VAR_PATH("N"), "Int32", "42")
                      ENTRY(VAR_PATH("Nope"), "String", "x")
                      ENTRY("\\Package.Properties[MaxErrorCount]", "Int32",
                            "3")));
    assert_int_equal(exec_args(&r, "P.dtsx", NULL), 0);
    assert_file(&r, "out.txt", "hello 42\n");
    /* SSIS warns about what it cannot apply, names it, and goes on. */
    assert_true(message_has(&r, "OnWarning", "'\\Package.Variables[User::Nope]"
                                ".Properties[Value]' is not applied"));
    assert_true(message_has(&r, "OnWarning", "'\\Package.Properties[MaxErrorCount]' is "
                                "not applied"));
    run_free(&r);
}

static void
set_and_param_come_after_configurations(void **state)
{
    static const char *const args[] = {
        "--set", "\\Package.Variables[User::Greeting].Properties[Value];bye",
        NULL};
    static const char *const bad[] = {"--set", "no separator", NULL};
    static const char *const unknown[] = {
        "--set", "\\Package.Variables[User::Nope].Properties[Value];1", NULL};
    struct run r;

    run_setup(&r);
    put_file(&r, "P.dtsx",
        HEAD_CFG("P", CONFIG("File", "1", "p.dtsConfig", "")) BODY);
    put_file(&r, "p.dtsConfig",
        DTSCONFIG(ENTRY(VAR_PATH("Greeting"), "String", "hello")));
    assert_int_equal(exec_args(&r, "P.dtsx", args), 0);
    assert_file(&r, "out.txt", "bye 1\n");
    assert_int_equal(exec_args(&r, "P.dtsx", bad), 6);
    assert_true(error_has(&r, NULL, "--set wants PATH;VALUE"));
    assert_int_equal(exec_args(&r, "P.dtsx", unknown), 6);
    assert_true(error_has(&r, NULL, "User::Nope"));
    run_free(&r);
}

static void
environment_variables_direct_and_indirect(void **state)
{
    struct run r;
    char *cfg;

    run_setup(&r);
    put_file(&r, "P.dtsx",
        HEAD_CFG("P", CONFIG("Where", "5", "WEIR_TEST_CFG_FILE", "")
                          CONFIG("N", "2", "WEIR_TEST_CFG_N", VAR_PATH("N")))
            BODY);
    put_file(&r, "other.dtsConfig",
        DTSCONFIG(ENTRY(VAR_PATH("Greeting"), "String", "indirect")));
    cfg = xasprintf("%s/other.dtsConfig", r.dir);
    setenv("WEIR_TEST_CFG_FILE", cfg, 1);
    setenv("WEIR_TEST_CFG_N", "9", 1);
    assert_int_equal(exec_args(&r, "P.dtsx", NULL), 0);
    assert_file(&r, "out.txt", "indirect 9\n");
    /* Unset: warnings, the design values stay. */
    unsetenv("WEIR_TEST_CFG_FILE");
    setenv("WEIR_TEST_CFG_N", "not a number", 1);
    assert_int_equal(exec_args(&r, "P.dtsx", NULL), 0);
    assert_file(&r, "out.txt", "design 1\n");
    assert_true(message_has(&r, "OnWarning", "'WEIR_TEST_CFG_FILE' is not set"));
    assert_true(message_has(&r, "OnWarning", "User::N"));
    unsetenv("WEIR_TEST_CFG_N");
    free(cfg);
    run_free(&r);
}

static void
disabled_missing_and_unsupported(void **state)
{
    struct run r;

    run_setup(&r);
    /* EnableConfig absent: the configurations are not applied. */
    put_file(&r, "Off.dtsx",
        HEAD("Off") "<DTS:Configurations>"
        CONFIG("File", "1", "p.dtsConfig", "") "</DTS:Configurations>" BODY);
    put_file(&r, "p.dtsConfig",
        DTSCONFIG(ENTRY(VAR_PATH("Greeting"), "String", "hello")));
    assert_int_equal(exec_args(&r, "Off.dtsx", NULL), 0);
    assert_file(&r, "out.txt", "design 1\n");
    /* A missing file and a registry key are warnings. */
    put_file(&r, "P.dtsx",
        HEAD_CFG("P", CONFIG("Gone", "1", "gone.dtsConfig", "")
                          CONFIG("Reg", "3", "HKCU\\Software\\X",
                                 VAR_PATH("N"))) BODY);
    assert_int_equal(exec_args(&r, "P.dtsx", NULL), 0);
    assert_true(message_has(&r, "OnWarning", "gone.dtsConfig"));
    assert_true(message_has(&r, "OnWarning", "registry configurations cannot be read"));
    /* A malformed file names itself and its line. */
    put_file(&r, "bad.dtsConfig", "<DTSConfiguration><Configuration>");
    put_file(&r, "P.dtsx",
        HEAD_CFG("P", CONFIG("Bad", "1", "bad.dtsConfig", "")) BODY);
    assert_int_equal(exec_args(&r, "P.dtsx", NULL), 0);
    assert_true(message_has(&r, "OnWarning", "'bad.dtsConfig' line 1"));
    /* SQL Server tables are refused: the run does not start. */
    put_file(&r, "P.dtsx",
        HEAD_CFG("P", CONFIG("Sql", "7",
                             "&quot;Db&quot;;&quot;[dbo].[SSIS "
                             "Configurations]&quot;;&quot;F&quot;;",
                             "")) BODY);
    put_file(&r, "out.txt", "");
    assert_int_equal(exec_args(&r, "P.dtsx", NULL), 1);
    assert_true(error_has(&r, NULL, "SQL Server table configurations are "
                                    "not supported"));
    assert_file(&r, "out.txt", "");
    run_free(&r);
}

static void
connection_strings_from_a_configuration(void **state)
{
    static const char *const set[] = {
        "--set",
        "\\Package.Connections[Db].Properties[ConnectionString];DSN=fromset",
        "--validate", NULL};
    struct werr err;
    struct pkg *p;
    struct rt_params ps;
    struct rt_conns conns;
    struct rt_vars vars;
    struct rt_run run = {0};
    struct wbuf errors;
    struct rt_events ev = {.fd = -1};
    struct run r;
    char *path;

    run_setup(&r);
    put_file(&r, "P.dtsx",
        HEAD_CFG("P", CONFIG("File", "1", "p.dtsConfig", "")) BODY);
    put_file(&r, "p.dtsConfig",
        DTSCONFIG(ENTRY("\\Package.Connections[Db].Properties["
                        "ConnectionString]",
                        "String", "DSN=configured;UID=u")));
    path = xasprintf("%s/P.dtsx", r.dir);
    p = pkg_load_file(path, &err);
    assert_non_null(p);
    assert_int_equal(rt_conns_init(&conns, p, NULL, &err), 0);
    rt_params_init(&ps, p, NULL);
    rt_vars_init(&vars, p, &ps);
    run = (struct rt_run){.pkg = p, .package_dir = r.dir, .events = &ev,
                          .params = &ps, .vars = &vars, .conns = &conns};
    wbuf_init(&errors, WBUF_NOLIMIT);
    assert_int_equal(rt_configs_apply(&run, &ps, &errors), 0);
    assert_string_equal(rt_conns_find(&conns, "Db")->written,
                        "DSN=configured;UID=u");
    assert_string_equal(rt_conns_find(&conns, "Db")->odbc,
                        "DSN=configured;UID=u");
    assert_int_equal(rt_property_set_arg(&run, &ps, set[1], &err), 0);
    assert_string_equal(rt_conns_find(&conns, "Db")->odbc, "DSN=fromset");
    assert_int_equal(rt_property_set_arg(&run, &ps,
                                         "\\Package.Connections[Nope]."
                                         "Properties[ConnectionString];x",
                                         &err),
                     -1);
    assert_non_null(strstr(err.msg, "Connections[Nope]"));
    wbuf_release(&errors);
    rt_vars_release(&vars);
    rt_params_release(&ps);
    rt_conns_release(&conns);
    pkg_free(p);
    free(path);
    /* Through weir exec too. */
    assert_int_equal(exec_args(&r, "P.dtsx", set), 0);
    run_free(&r);
}

/* An OLE DB manager whose ServerName follows a variable: a configured
 * connection string replaces the package's, and the expression then sets
 * its server, as in SSIS. */
static void
expressions_apply_over_a_configured_string(void **state)
{
    static const char xml[] =
        HEAD("P") VARS(VAR("Host", "8", "fromexpr"))
        "<DTS:ConnectionManagers><DTS:ConnectionManager "
        "DTS:refId=\"Package.ConnectionManagers[Ole]\" DTS:ObjectName=\"Ole\" "
        "DTS:CreationName=\"OLEDB\"><DTS:PropertyExpression "
        "DTS:Name=\"ServerName\">@[User::Host]</DTS:PropertyExpression>"
        "<DTS:ObjectData><DTS:ConnectionManager DTS:ConnectionString=\""
        "Data Source=design;Initial Catalog=designdb;Provider=SQLOLEDB.1;\"/>"
        "</DTS:ObjectData></DTS:ConnectionManager></DTS:ConnectionManagers>"
        TAIL;
    struct werr err;
    struct pkg *p = pkg_load_memory("P.dtsx", xml, sizeof(xml) - 1, &err);
    struct rt_params ps;
    struct rt_conns conns;
    struct rt_vars vars;
    struct rt_run run = {0};
    struct rt_conn *c;

    assert_non_null(p);
    assert_int_equal(rt_conns_init(&conns, p, NULL, &err), 0);
    rt_params_init(&ps, p, NULL);
    rt_vars_init(&vars, p, &ps);
    run = (struct rt_run){.pkg = p, .params = &ps, .vars = &vars,
                          .conns = &conns};
    assert_int_equal(
        rt_property_set_arg(&run, &ps,
                            "\\Package.Connections[Ole].Properties["
                            "ConnectionString];Data Source=fromset;"
                            "Initial Catalog=setdb;Provider=SQLOLEDB.1;",
                            &err),
        0);
    c = rt_conns_find(&conns, "Ole");
    assert_int_equal(rt_conn_eval_expression(c, &vars, pkg_root(p), &err), 0);
    assert_non_null(strstr(c->odbc, "Server=fromexpr;"));
    assert_non_null(strstr(c->odbc, "Database=setdb;"));
    rt_vars_release(&vars);
    rt_params_release(&ps);
    rt_conns_release(&conns);
    pkg_free(p);
}

static void
parent_package_variable_configuration(void **state)
{
    struct run r;

    run_setup(&r);
    /* The child (package deployment model) reads the parent's User::Word
     * into its own User::Greeting. */
    put_file(&r, "Child.dtsx",
        HEAD_CFG("Child", CONFIG("FromParent", "0", "User::Word",
                                 VAR_PATH("Greeting"))) BODY);
    put_file(&r, "Parent.dtsx",
        HEAD("Parent") VARS(VAR("Word", "8", "fromparent"))
        "<DTS:ConnectionManagers><DTS:ConnectionManager "
        "DTS:refId=\"Package.ConnectionManagers[Child]\" "
        "DTS:ObjectName=\"Child\" DTS:CreationName=\"FILE\"><DTS:ObjectData>"
        "<DTS:ConnectionManager DTS:ConnectionString=\"C:\\Pkgs\\Child.dtsx\"/>"
        "</DTS:ObjectData></DTS:ConnectionManager></DTS:ConnectionManagers>"
        EXES(EXECPKG("Run", "", "<Connection>Child</Connection>")) TAIL);
    assert_int_equal(exec_args(&r, "Parent.dtsx", NULL), 0);
    assert_file(&r, "out.txt", "fromparent 1\n");
    /* Out of process, the parent reads the variable and gives the value
     * to the child's process, which does not look for a parent. */
    put_file(&r, "Remote.dtsx",
        HEAD("Remote") VARS(VAR("Word", "8", "fromafar"))
        "<DTS:ConnectionManagers><DTS:ConnectionManager "
        "DTS:refId=\"Package.ConnectionManagers[Child]\" "
        "DTS:ObjectName=\"Child\" DTS:CreationName=\"FILE\"><DTS:ObjectData>"
        "<DTS:ConnectionManager DTS:ConnectionString=\"Child.dtsx\"/>"
        "</DTS:ObjectData></DTS:ConnectionManager></DTS:ConnectionManagers>"
        EXES(EXECPKG("Run", "", "<Connection>Child</Connection>"
                                "<ExecuteOutOfProcess>True"
                                "</ExecuteOutOfProcess>")) TAIL);
    assert_int_equal(exec_args(&r, "Remote.dtsx", NULL), 0);
    assert_file(&r, "out.txt", "fromafar 1\n");
    assert_false(message_has(&r, "OnWarning", "no parent package"));
    /* Run alone, the child has no parent: a warning, the design value. */
    assert_int_equal(exec_args(&r, "Child.dtsx", NULL), 0);
    assert_file(&r, "out.txt", "design 1\n");
    assert_true(message_has(&r, "OnWarning", "no parent package"));
    run_free(&r);
}

/* Out-of-process children run the weir binary: without it they would
 * run this test program. */
static int
need_binary(void **state)
{
    const char *weir = getenv("WEIR_EXEC_BINARY");

    if (weir && *weir)
        return 0;
    fprintf(stderr, "WEIR_EXEC_BINARY must name the weir binary\n");
    return -1;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(xml_file_sets_variables_and_warns_about_bad_paths),
        cmocka_unit_test(set_and_param_come_after_configurations),
        cmocka_unit_test(environment_variables_direct_and_indirect),
        cmocka_unit_test(disabled_missing_and_unsupported),
        cmocka_unit_test(connection_strings_from_a_configuration),
        cmocka_unit_test(expressions_apply_over_a_configured_string),
        cmocka_unit_test(parent_package_variable_configuration),
    };

    return cmocka_run_group_tests(tests, need_binary, NULL);
}
