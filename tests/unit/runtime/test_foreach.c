/* Unit tests for the Foreach Loop container: packages written into a
 * temporary folder run in process through rt_exec_run, events to a file;
 * an Execute Process task in the loop appends each iteration's values to
 * a file whose exact content the tests check. */
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
#include "runtime/foreach.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

#include "pkgrun.h"

/* The package (named T) with attributes ATTRS on its element. */
#define PKG_ATTRS(attrs) HEAD_ATTRS("T", attrs)
#define PKG HEAD("T")
#define INT_VAR(name, value) VAR(name, "3", value)
#define OBJ_VAR(name)                                                         \
    "<DTS:Variable DTS:Namespace=\"User\" DTS:ObjectName=\"" name "\">"       \
    "<DTS:VariableValue DTS:DataType=\"13\" /></DTS:Variable>"

/* An Execute Process task PATH (e.g. "Package\\Loop\\Rec") appending the
 * string expression X to the file "out" in the package's folder. */
#define REC_ATTRS(path, attrs, x)                                             \
    "<DTS:Executable DTS:refId=\"" path "\" DTS:ObjectName=\"Rec\" "          \
    "DTS:ExecutableType=\"Microsoft.ExecuteProcess\" " attrs ">"              \
    "<DTS:PropertyExpression DTS:Name=\"Arguments\">\"-c \\\"echo '\" + "     \
    x " + \"' &gt;&gt; out\\\"\"</DTS:PropertyExpression>"                    \
    "<DTS:ObjectData><ExecuteProcessData Executable=\"/bin/sh\" "             \
    "Arguments=\"-c false\" /></DTS:ObjectData></DTS:Executable>\n"
#define REC(path, x) REC_ATTRS(path, "", x)

/* A Foreach Loop PATH with enumerator ENUM (its CreationName's class),
 * enumerator content INNER, mappings MAPS and children BODY. */
#define LOOP_ATTRS(path, attrs, cls, inner, maps, body)                       \
    "<DTS:Executable DTS:refId=\"" path "\" DTS:ObjectName=\"Loop\" "         \
    "DTS:ExecutableType=\"STOCK:FOREACHLOOP\" " attrs ">"                     \
    "<DTS:ForEachEnumerator DTS:CreationName=\"Microsoft." cls "\">" inner    \
    "</DTS:ForEachEnumerator>" EXES(body)                                     \
    "<DTS:ForEachVariableMappings>" maps "</DTS:ForEachVariableMappings>"     \
    "</DTS:Executable>\n"
#define LOOP(path, cls, inner, maps, body)                                    \
    LOOP_ATTRS(path, "", cls, inner, maps, body)
#define MAP(index, var)                                                       \
    "<DTS:ForEachVariableMapping DTS:ValueIndex=\"" index "\" "               \
    "DTS:VariableName=\"" var "\" />"
#define DATA(x) "<DTS:ObjectData>" x "</DTS:ObjectData>"
#define ITEM(x) "<FEIEItem>" x "</FEIEItem>"
#define VAL(type, value) "<FEIEItemValue Type=\"" type "\" Value=\"" value "\"/>"
#define ITEMS(x) DATA("<FEIEItems>" x "</FEIEItems>")

static void
write_file(const char *dir, const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", dir, name);
    struct werr e;

    if (wfile_write(path, text, strlen(text), 0644, 0, &e) < 0)
        fail_msg("%s", e.msg);
    free(path);
}

/* The content of the file "out" (then removed); "" if there is none. */
static char *
take_out(struct run *r)
{
    char *path = xasprintf("%s/out", r->dir);
    struct wbuf b;
    struct werr e;

    wbuf_init(&b, WBUF_NOLIMIT);
    if (wfile_read(path, &b, &e) < 0)
        wbuf_reset(&b);
    unlink(path);
    free(path);
    return wbuf_detach(&b, NULL);
}

static void
assert_out(struct run *r, const char *want)
{
    char *got = take_out(r);

    assert_string_equal(got, want);
    free(got);
}

/* ---- wildcards ---- */

static void
windows_wildcards(void **state)
{
    assert_true(rt_fe_wildcard("*.csv", "a.csv"));
    assert_true(rt_fe_wildcard("*.csv", "B.CSV"));
    assert_false(rt_fe_wildcard("*.csv", "a.csv.bak"));
    assert_true(rt_fe_wildcard("Sales_??.txt", "sales_01.txt"));
    assert_false(rt_fe_wildcard("Sales_??.txt", "Sales_1.txt"));
    assert_false(rt_fe_wildcard("Sales_??.txt", "Sales_001.txt"));
    assert_true(rt_fe_wildcard("*.*", "README"));
    assert_true(rt_fe_wildcard("*.*", "x.y"));
    assert_true(rt_fe_wildcard("data.*", "data"));
    assert_true(rt_fe_wildcard("", "anything"));
    /* Brackets and backslashes are literal, as on Windows. */
    assert_true(rt_fe_wildcard("[a].txt", "[a].txt"));
    assert_false(rt_fe_wildcard("[a].txt", "a.txt"));
    assert_true(rt_fe_wildcard("a\\b", "a\\b"));
}

/* ---- the File enumerator ---- */

static void
make_tree(const char *dir)
{
    char *p = xasprintf("%s/in/sub/deep", dir);
    struct werr e;

    if (wfile_mkdirs(p, &e) < 0)
        fail_msg("%s", e.msg);
    free(p);
}

static char *
file_package(const char *folder_attr, const char *spec, const char *retrieval,
             const char *recurse, const char *extra)
{
    return xasprintf(
        PKG VARS(STR_VAR("F", "")) EXES(
            LOOP("Package\\Loop", "ForEachFileEnumerator",
                 "%s" DATA("<ForEachFileEnumeratorProperties>"
                           "<FEFEProperty Folder=\"%s\"/>"
                           "<FEFEProperty FileSpec=\"%s\"/>"
                           "<FEFEProperty FileNameRetrievalType=\"%s\"/>"
                           "<FEFEProperty Recurse=\"%s\"/>"
                           "</ForEachFileEnumeratorProperties>"),
                 MAP("0", "User::F"), REC("Package\\Loop\\Rec", "@[User::F]")))
            TAIL,
        extra, folder_attr, spec, retrieval, recurse);
}

static void
file_enumerator(void **state)
{
    struct run r;
    char *xml, *in, *want;

    run_setup(&r);
    make_tree(r.dir);
    in = xasprintf("%s/in", r.dir);
    write_file(in, "b.csv", "");
    write_file(in, "A.csv", "");
    write_file(in, "c.txt", "");
    write_file(in, "Sales_01.txt", "");
    write_file(in, "Sales_1.txt", "");
    write_file(in, "sub/d.csv", "");
    write_file(in, "sub/deep/e.CSV", "");

    /* Names with extension, sorted ignoring case, no sub-folders. */
    xml = file_package(in, "*.csv", "1", "0", "");
    assert_int_equal(run_pkg(&r, xml, NULL), 0);
    assert_out(&r, "A.csv\nb.csv\n");
    free(xml);

    /* Full paths with recursion: a folder's files, then its sub-folders. */
    xml = file_package(in, "*.csv", "0", "1", "");
    assert_int_equal(run_pkg(&r, xml, NULL), 0);
    want = xasprintf("%s/A.csv\n%s/b.csv\n%s/sub/d.csv\n%s/sub/deep/e.CSV\n",
                     in, in, in, in);
    assert_out(&r, want);
    free(want);
    free(xml);

    /* ? is one character; names without extension. */
    xml = file_package(in, "sales_??.TXT", "2", "0", "");
    assert_int_equal(run_pkg(&r, xml, NULL), 0);
    assert_out(&r, "Sales_01\n");
    free(xml);

    /* Directory and FileSpec from property expressions (a Windows
     * separator appended to a Linux path becomes a slash). */
    xml = xasprintf(
        PKG VARS(STR_VAR("F", "") STR_VAR("Root", "%s")) EXES(LOOP(
            "Package\\Loop", "ForEachFileEnumerator",
            "<DTS:PropertyExpression DTS:Name=\"Directory\">@[User::Root] + "
            "\"\\\\sub\"</DTS:PropertyExpression>"
            "<DTS:PropertyExpression DTS:Name=\"FileSpec\">\"*.\" + "
            "\"csv\"</DTS:PropertyExpression>"
            DATA("<ForEachFileEnumeratorProperties>"
                 "<FEFEProperty Folder=\"C:\\Nowhere\"/>"
                 "<FEFEProperty FileSpec=\"*.none\"/>"
                 "<FEFEProperty FileNameRetrievalType=\"1\"/>"
                 "<FEFEProperty Recurse=\"-1\"/>"
                 "</ForEachFileEnumeratorProperties>"),
            MAP("0", "User::F"), REC("Package\\Loop\\Rec", "@[User::F]")))
            TAIL,
        in);
    assert_int_equal(run_pkg(&r, xml, NULL), 0);
    assert_out(&r, "d.csv\ne.CSV\n");
    free(xml);
    free(in);
    run_free(&r);
}

static void
file_enumerator_failures(void **state)
{
    struct run r;
    char *xml, *empty, *missing;

    run_setup(&r);
    empty = xasprintf("%s/empty", r.dir);
    assert_int_equal(mkdir(empty, 0755), 0);
    missing = xasprintf("%s/missing", r.dir);

    /* Nothing matches: a warning, no iteration, success. */
    xml = file_package(empty, "*.csv", "0", "0", "");
    assert_int_equal(run_pkg(&r, xml, NULL), 0);
    assert_true(message_has(&r, "OnWarning",
                            "the For Each File enumerator is empty"));
    assert_int_equal(count_events(&r, "OnPreExecute", "\\Package\\Loop\\Rec"),
                     0);
    assert_out(&r, "");
    free(xml);

    /* A missing folder fails the loop, naming the folder. */
    xml = file_package(missing, "*.csv", "0", "0", "");
    assert_int_equal(run_pkg(&r, xml, NULL), 1);
    assert_true(message_has(&r, "OnError", missing));
    assert_true(message_has(&r, "OnError", "does not exist"));
    free(xml);

    /* A Windows folder is a validation error suggesting how to set it. */
    xml = file_package("C:\\Data\\In", "*.csv", "0", "0", "");
    assert_int_equal(run_pkg(&r, xml, NULL), 1);
    assert_true(message_has(&r, "OnError", "is a Windows path"));
    assert_true(message_has(&r, "OnError", "'C:\\Data\\In'"));
    assert_true(message_has(&r, "OnError", "property expression on Directory"));
    assert_int_equal(count_events(&r, "OnPreExecute", "\\Package\\Loop"), 0);
    free(xml);

    /* The folder can be given per execution, as an SSISDB property
     * override. */
    write_file(empty, "x.csv", "");
    xml = file_package("C:\\Data\\In", "*.csv", "1", "0", "");
    {
        char *set = xasprintf("\\Package\\Loop.ForEachEnumerator."
                              "Properties[Directory]=%s",
                              empty);
        const char *extra[] = {"--param", set, NULL};
        assert_int_equal(run_pkg(&r, xml, extra), 0);
        assert_out(&r, "x.csv\n");
        free(set);
    }
    free(xml);
    free(empty);
    free(missing);
    run_free(&r);
}

/* ---- the Item enumerator, mappings, nesting, errors ---- */

static void
item_enumerator(void **state)
{
    struct run r;

    /* Typed columns, converted into the mapped variables. */
    run_setup(&r);
    assert_int_equal(
        run_pkg(&r,
                 PKG VARS(INT_VAR("N", "0") STR_VAR("S", "")) EXES(LOOP(
                     "Package\\Loop", "ForEachItemEnumerator",
                     ITEMS(ITEM(VAL("3", "1") VAL("8", "one"))
                               ITEM(VAL("3", "20") VAL("8", "twenty"))
                                   ITEM(VAL("20", "-3") VAL("8", "minus"))),
                     MAP("1", "User::S") MAP("0", "User::N"),
                     REC("Package\\Loop\\Rec",
                         "(DT_WSTR, 12) (@[User::N] * 10) + @[User::S]")))
                     TAIL,
                 NULL),
        0);
    assert_out(&r, "10one\n200twenty\n-30minus\n");

    /* Nested loops: the inner one runs fully for each outer item. */
    assert_int_equal(
        run_pkg(&r,
                 PKG VARS(STR_VAR("A", "") STR_VAR("B", "")) EXES(LOOP(
                     "Package\\Loop", "ForEachItemEnumerator",
                     ITEMS(ITEM(VAL("8", "a")) ITEM(VAL("8", "b"))),
                     MAP("0", "User::A"),
                     LOOP("Package\\Loop\\Loop", "ForEachItemEnumerator",
                          ITEMS(ITEM(VAL("8", "1")) ITEM(VAL("8", "2"))),
                          MAP("0", "User::B"),
                          REC("Package\\Loop\\Loop\\Rec",
                              "@[User::A] + @[User::B]"))))
                     TAIL,
                 NULL),
        0);
    assert_out(&r, "a1\na2\nb1\nb2\n");
    run_free(&r);
}

static void
mapping_errors(void **state)
{
    struct run r;

    /* A value that does not convert stops the loop at that iteration,
     * naming the variable and the value index. */
    run_setup(&r);
    assert_int_equal(
        run_pkg(&r,
                 PKG VARS(INT_VAR("N", "0")) EXES(LOOP(
                     "Package\\Loop", "ForEachItemEnumerator",
                     ITEMS(ITEM(VAL("8", "7")) ITEM(VAL("8", "seven"))
                               ITEM(VAL("8", "8"))),
                     MAP("0", "User::N"),
                     REC("Package\\Loop\\Rec", "(DT_WSTR, 12) @[User::N]")))
                     TAIL,
                 NULL),
        1);
    assert_out(&r, "7\n");
    assert_true(message_has(&r, "OnError", "(ValueIndex 0) into 'User::N'"));
    assert_true(message_has(&r, "OnError", "iteration 2"));

    /* Unknown variables, read-only ones, indexes past the item and item
     * values that do not parse are validation errors. */
    assert_int_equal(
        run_pkg(&r,
                 PKG VARS(INT_VAR("N", "0")) EXES(LOOP(
                     "Package\\Loop", "ForEachItemEnumerator",
                     ITEMS(ITEM(VAL("3", "x"))),
                     MAP("0", "User::Nope") MAP("1", "User::N")
                         MAP("0", "System::PackageName"),
                     REC("Package\\Loop\\Rec", "\"x\""))) TAIL,
                 NULL),
        1);
    assert_true(message_has(&r, "OnError", "no variable 'User::Nope'"));
    assert_true(message_has(&r, "OnError", "ValueIndex 1 is past the 1"));
    assert_int_equal(count_events(&r, "OnPreExecute", "\\Package\\Loop"), 0);
    assert_int_equal(
        run_pkg(&r,
                 PKG VARS(INT_VAR("N", "0")) EXES(LOOP(
                     "Package\\Loop", "ForEachItemEnumerator",
                     ITEMS(ITEM(VAL("3", "x"))), MAP("0", "User::N"),
                     REC("Package\\Loop\\Rec", "\"x\""))) TAIL,
                 NULL),
        1);
    assert_true(message_has(&r, "OnError", "Item enumerator's item 0, value 0"));
    assert_out(&r, "");
    run_free(&r);
}

static void
max_error_count_spans_iterations(void **state)
{
    struct run r;
    const char *fail_on_b =
        "<DTS:Executable DTS:refId=\"Package\\Loop\\Bad\" DTS:ObjectName=\"Bad\""
        " DTS:ExecutableType=\"Microsoft.ExecuteProcess\">"
        "<DTS:PropertyExpression DTS:Name=\"Arguments\">\"-c \\\"echo \" + "
        "@[User::S] + \" &gt;&gt; out; test \" + @[User::S] + \" != b\\\"\""
        "</DTS:PropertyExpression><DTS:ObjectData><ExecuteProcessData "
        "Executable=\"/bin/sh\" Arguments=\"-c false\"/></DTS:ObjectData>"
        "</DTS:Executable>";
    char *xml;

    /* By default the first failing iteration fails the loop. */
    run_setup(&r);
    xml = xasprintf(PKG VARS(STR_VAR("S", "")) EXES(LOOP(
                        "Package\\Loop", "ForEachItemEnumerator",
                        ITEMS(ITEM(VAL("8", "a")) ITEM(VAL("8", "b"))
                                  ITEM(VAL("8", "c"))),
                        MAP("0", "User::S"), "%s")) TAIL,
                    fail_on_b);
    assert_int_equal(run_pkg(&r, xml, NULL), 1);
    assert_out(&r, "a\nb\n");
    free(xml);

    /* With MaxErrorCount 0 on the loop and the package, it goes on. */
    xml = xasprintf(PKG_ATTRS("DTS:MaxErrorCount=\"0\"") VARS(STR_VAR("S", ""))
                        EXES(LOOP_ATTRS(
                            "Package\\Loop", "DTS:MaxErrorCount=\"0\"",
                            "ForEachItemEnumerator",
                            ITEMS(ITEM(VAL("8", "a")) ITEM(VAL("8", "b"))
                                      ITEM(VAL("8", "c"))),
                            MAP("0", "User::S"), "%s")) TAIL,
                    fail_on_b);
    assert_int_equal(run_pkg(&r, xml, NULL), 0);
    assert_out(&r, "a\nb\nc\n");
    assert_int_equal(count_events(&r, "OnTaskFailed", "\\Package\\Loop\\Bad"),
                     1);
    free(xml);
    run_free(&r);
}

static void
unsupported_enumerators(void **state)
{
    struct run r;

    run_setup(&r);
    assert_int_equal(
        run_pkg(&r,
                 PKG EXES(LOOP("Package\\Loop", "ForEachNodeListEnumerator",
                                "", "", REC("Package\\Loop\\Rec", "\"x\"")))
                     TAIL,
                 NULL),
        1);
    assert_true(message_has(&r, "OnError",
                            "the Foreach Loop's NodeList enumerator "
                            "('Microsoft.ForEachNodeListEnumerator') is not "
                            "supported"));
    assert_true(count_events(&r, "OnError", "\\Package\\Loop") >= 1);
    run_free(&r);
}

/* ---- the ADO and From Variable enumerators over SQLite ---- */

#define SQL_TASK(name, sql, result, bindings)                                 \
    "<DTS:Executable DTS:refId=\"Package\\" name "\" DTS:ObjectName=\"" name  \
    "\" DTS:ExecutableType=\"Microsoft.ExecuteSQLTask\"><DTS:ObjectData>"     \
    "<SQLTask:SqlTaskData xmlns:SQLTask=\"www.microsoft.com/sqlserver/dts/"   \
    "tasks/sqltask\" SQLTask:Connection=\"Db\" SQLTask:SqlStatementSource=\"" \
    sql "\" SQLTask:ResultType=\"" result "\">" bindings                      \
    "</SQLTask:SqlTaskData></DTS:ObjectData></DTS:Executable>"

static char *
ado_package(const char *db, const char *cls, const char *inner)
{
    return xasprintf(
        PKG "<DTS:ConnectionManagers><DTS:ConnectionManager "
             "DTS:ObjectName=\"Db\" DTS:CreationName=\"ODBC\"><DTS:ObjectData>"
             "<DTS:ConnectionManager DTS:ConnectionString=\"Driver=SQLite3;"
             "Database=%s\"/></DTS:ObjectData></DTS:ConnectionManager>"
             "</DTS:ConnectionManagers>"
        VARS(OBJ_VAR("Rows") INT_VAR("Id", "0") STR_VAR("Name", ""))
        EXES(SQL_TASK("Query", "SELECT id, name FROM t ORDER BY id",
                      "ResultSetType_Rowset",
                      "<SQLTask:ResultBinding SQLTask:ResultName=\"0\" "
                      "SQLTask:DtsVariableName=\"User::Rows\"/>")
             LOOP("Package\\Loop", "%s", "%s",
                  MAP("0", "User::Id") MAP("1", "User::Name"),
                  REC("Package\\Loop\\Rec",
                      "(DT_WSTR, 12) @[User::Id] + \"=\" + @[User::Name]")))
        "<DTS:PrecedenceConstraints><DTS:PrecedenceConstraint "
        "DTS:From=\"Package\\Query\" DTS:To=\"Package\\Loop\"/>"
        "</DTS:PrecedenceConstraints>" TAIL,
        db, cls, inner);
}

static void
ado_and_variable_enumerators(void **state)
{
    struct run r;
    char *db, *xml, *cmd;

    if (!have_sqlite_driver())
        skip();
    run_setup(&r);
    db = xasprintf("%s/t.db", r.dir);
    cmd = xasprintf("sqlite3 %s \"CREATE TABLE t(id INTEGER, name TEXT); "
                    "INSERT INTO t VALUES (2, 'two'), (1, 'one'), "
                    "(3, 'three');\"",
                    db);
    if (system(cmd) != 0) {
        free(cmd);
        free(db);
        run_free(&r);
        skip();
    }
    free(cmd);

    xml = ado_package(db, "ForEachADOEnumerator",
                      DATA("<FEEADO EnumType=\"EnumerateRowsInFirstTable\" "
                           "VarName=\"User::Rows\"/>"));
    assert_int_equal(run_pkg(&r, xml, NULL), 0);
    assert_out(&r, "1=one\n2=two\n3=three\n");
    free(xml);

    xml = ado_package(db, "ForEachFromVarEnumerator",
                      DATA("<FEEFVE VariableName=\"User::Rows\"/>"));
    assert_int_equal(run_pkg(&r, xml, NULL), 0);
    assert_out(&r, "1=one\n2=two\n3=three\n");
    free(xml);

    /* EnumerateTables is not something a result set can give. */
    xml = ado_package(db, "ForEachADOEnumerator",
                      DATA("<FEEADO EnumType=\"EnumerateTables\" "
                           "VarName=\"User::Rows\"/>"));
    assert_int_equal(run_pkg(&r, xml, NULL), 1);
    assert_true(message_has(&r, "OnError", "mode 'EnumerateTables'"));
    free(xml);
    free(db);
    run_free(&r);
}

/* An object variable that holds nothing is an error of the loop. */
static void
empty_object_variable(void **state)
{
    struct run r;

    run_setup(&r);
    assert_int_equal(
        run_pkg(&r,
                 PKG VARS(OBJ_VAR("Rows") STR_VAR("S", "")) EXES(LOOP(
                     "Package\\Loop", "ForEachADOEnumerator",
                     DATA("<FEEADO EnumType=\"EnumerateRowsInFirstTable\" "
                          "VarName=\"User::Rows\"/>"),
                     MAP("0", "User::S"), REC("Package\\Loop\\Rec", "\"x\"")))
                     TAIL,
                 NULL),
        1);
    assert_true(message_has(&r, "OnError", "holds an empty object"));
    assert_out(&r, "");
    run_free(&r);
}

/* ---- connection managers driven by expressions ---- */

static const char cm_xml[] =
    PKG "<DTS:ConnectionManagers>"
    "<DTS:ConnectionManager DTS:ObjectName=\"Sql\" DTS:CreationName=\"OLEDB\">"
    "<DTS:PropertyExpression DTS:Name=\"ServerName\">@[User::Srv]"
    "</DTS:PropertyExpression>"
    "<DTS:PropertyExpression DTS:Name=\"InitialCatalog\">@[User::Db]"
    "</DTS:PropertyExpression>"
    "<DTS:PropertyExpression DTS:Name=\"Description\">\"x\""
    "</DTS:PropertyExpression>"
    "<DTS:ObjectData><DTS:ConnectionManager DTS:ConnectionString=\"Data "
    "Source=old;Initial Catalog=olddb;Provider=SQLNCLI11.1;Integrated "
    "Security=SSPI;\"/></DTS:ObjectData></DTS:ConnectionManager>"
    "<DTS:ConnectionManager DTS:ObjectName=\"Odbc\" DTS:CreationName=\"ODBC\">"
    "<DTS:PropertyExpression DTS:Name=\"ServerName\">@[User::Srv]"
    "</DTS:PropertyExpression>"
    "<DTS:ObjectData><DTS:ConnectionManager DTS:ConnectionString=\"Dsn=x\"/>"
    "</DTS:ObjectData></DTS:ConnectionManager>"
    "</DTS:ConnectionManagers>"
    VARS(STR_VAR("Srv", "db1") STR_VAR("Db", "sales")) TAIL;

static void
connection_manager_properties(void **state)
{
    struct werr err;
    struct pkg *p = pkg_load_memory("t.dtsx", cm_xml, sizeof(cm_xml) - 1, &err);
    struct rt_value v = {0};
    struct rt_conns cs;
    struct rt_vars vs;
    struct rt_conn *c;
    char *s;

    assert_non_null(p);
    assert_int_equal(rt_conns_init(&cs, p, NULL, &err), 0);
    rt_vars_init(&vs, p, NULL);
    /* ServerName and InitialCatalog replace their parts of the string;
     * Description does not matter. */
    c = rt_conns_find(&cs, "Sql");
    assert_null(c->odbc);
    assert_int_equal(rt_conn_eval_expression(c, &vs, pkg_root(p), &err), 0);
    assert_string_equal(c->odbc, "Driver={ODBC Driver 18 for SQL Server};"
                                 "Server=db1;Database=sales;"
                                 "Trusted_Connection=yes;");
    /* Evaluated again when a variable changed (a loop's mapping). */
    rt_value_set_str(&v, "db2;x", 5);
    assert_int_equal(rt_vars_set(&vs, pkg_root(p), "User::Srv", &v, &err), 0);
    assert_int_equal(rt_conn_eval_expression(c, &vs, pkg_root(p), &err), 0);
    assert_string_equal(c->odbc, "Driver={ODBC Driver 18 for SQL Server};"
                                 "Server={db2;x};Database=sales;"
                                 "Trusted_Connection=yes;");
    /* ServerName on an ODBC manager is not applied: it says so. */
    c = rt_conns_find(&cs, "Odbc");
    assert_int_equal(rt_conn_eval_expression(c, &vs, pkg_root(p), &err), 0);
    assert_null(c->odbc);
    assert_non_null(strstr(c->why_not, "its ServerName is set by a property "
                                       "expression"));
    rt_value_release(&v);
    rt_vars_release(&vs);
    rt_conns_release(&cs);
    pkg_free(p);

    s = rt_conn_set_key("Server=a;Database=b;Pwd=x", "Password", "p'q");
    assert_string_equal(s, "Server=a;Database=b;Password=\"p'q\";");
    free(s);
}

/* A Foreach Loop sets the variable a FILE connection manager's
 * ConnectionString expression reads: the File System task using the
 * manager copies each enumerated file. */
static void
file_connection_follows_the_loop(void **state)
{
    struct run r;
    char *xml, *in, *path;
    struct stat st;

    run_setup(&r);
    make_tree(r.dir);
    in = xasprintf("%s/in", r.dir);
    write_file(in, "one.dat", "1");
    write_file(in, "two.dat", "22");
    path = xasprintf("%s/out", r.dir);
    assert_int_equal(mkdir(path, 0755), 0);
    free(path);
    xml = xasprintf(
        PKG "<DTS:ConnectionManagers><DTS:ConnectionManager "
             "DTS:ObjectName=\"Src\" DTS:CreationName=\"FILE\">"
             "<DTS:PropertyExpression DTS:Name=\"ConnectionString\">"
             "@[User::Dir] + \"/\" + @[User::Name]</DTS:PropertyExpression>"
             "<DTS:ObjectData><DTS:ConnectionManager "
             "DTS:ConnectionString=\"none.dat\"/></DTS:ObjectData>"
             "</DTS:ConnectionManager></DTS:ConnectionManagers>"
        VARS(STR_VAR("Dir", "%s") STR_VAR("Name", "one.dat")
             STR_VAR("Dst", "%s/out"))
        EXES(LOOP("Package\\Loop", "ForEachFileEnumerator",
                  DATA("<ForEachFileEnumeratorProperties>"
                       "<FEFEProperty Folder=\"%s\"/>"
                       "<FEFEProperty FileSpec=\"*.dat\"/>"
                       "<FEFEProperty FileNameRetrievalType=\"1\"/>"
                       "<FEFEProperty Recurse=\"0\"/>"
                       "</ForEachFileEnumeratorProperties>"),
                  MAP("0", "User::Name"),
                  "<DTS:Executable DTS:refId=\"Package\\Loop\\Copy\" "
                  "DTS:ObjectName=\"Copy\" "
                  "DTS:ExecutableType=\"Microsoft.FileSystemTask\">"
                  "<DTS:ObjectData><FileSystemData TaskOperationType="
                  "\"CopyFile\" TaskSourcePath=\"Src\" TaskIsSourceVariable="
                  "\"False\" TaskDestinationPath=\"User::Dst\" "
                  "TaskIsDestinationVariable=\"True\"/></DTS:ObjectData>"
                  "</DTS:Executable>"))
        TAIL,
        in, r.dir, in);
    assert_int_equal(run_pkg(&r, xml, NULL), 0);
    free(xml);
    path = xasprintf("%s/out/one.dat", r.dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 1);
    free(path);
    path = xasprintf("%s/out/two.dat", r.dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 2);
    free(path);
    free(in);
    run_free(&r);
}

static bool
error_on(const struct run *r, const char *path, const char *text)
{
    size_t i;
    json_t *o;

    json_array_foreach(r->events, i, o) {
        if (!strcmp(json_string_value(json_object_get(o, "event")),
                    "OnError") &&
            !strcmp(json_string_value(json_object_get(o, "path")), path) &&
            strstr(json_string_value(json_object_get(o, "message")), text))
            return true;
    }
    return false;
}

/* The shared alimardani-import-csv fixture: its Foreach Loop over a
 * literal "C:\...\Data" validates once the folder is given per
 * execution, and its project connection manager (ServerName and
 * InitialCatalog from project parameters) resolves. */
static void
alimardani_fixture_foreach_validates(void **state)
{
    const char *fixtures = getenv("WEIR_DTSX_FIXTURES");
    const char *loop = "\\Package\\Foreach Loop Over CSV Files";
    const char *params[] = {"--validate", "--param", "SourceServer=db",
                            "--param", "SourceDB=AdvTest", NULL, NULL, NULL};
    struct run r;
    char *dtsx, *set;

    if (!fixtures)
        skip();
    dtsx = xasprintf("%s/alimardani-import-csv/src/FirstSample/ImportCSV.dtsx",
                     fixtures);
    if (access(dtsx, R_OK) != 0) {
        free(dtsx);
        skip();
    }
    run_setup(&r);
    /* Without the folder: a problem on the loop, saying how to give it. */
    exec_file(&r, dtsx, params);
    assert_true(error_on(&r, loop, "is a Windows path"));
    assert_true(error_on(&r, loop, "Properties[Directory]"));
    /* With it, nothing about the loop, its enumerator or AdvWrk17 but
     * the ODBC driver it needs. */
    set = xasprintf("%s.ForEachEnumerator.Properties[Directory]=%s", loop,
                    r.dir);
    params[5] = "--param";
    params[6] = set;
    exec_file(&r, dtsx, params);
    assert_false(error_on(&r, loop, ""));
    assert_false(message_has(&r, "OnError", "Foreach"));
    assert_false(message_has(&r, "OnError", "property expression"));
    assert_false(message_has(&r, "OnError", "'AdvWrk17' cannot be used"));
    free(set);
    free(dtsx);
    run_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(windows_wildcards),
        cmocka_unit_test(file_enumerator),
        cmocka_unit_test(file_enumerator_failures),
        cmocka_unit_test(item_enumerator),
        cmocka_unit_test(mapping_errors),
        cmocka_unit_test(max_error_count_spans_iterations),
        cmocka_unit_test(unsupported_enumerators),
        cmocka_unit_test(ado_and_variable_enumerators),
        cmocka_unit_test(empty_object_variable),
        cmocka_unit_test(connection_manager_properties),
        cmocka_unit_test(file_connection_follows_the_loop),
        cmocka_unit_test(alimardani_fixture_foreach_validates),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
