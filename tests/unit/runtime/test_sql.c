/*
 * Unit tests of the Execute SQL task's parts: connection string mapping
 * and overrides, T-SQL batches and markers, values and their conversions,
 * the variable store's scoping, and the ODBC layer against SQLite's ODBC
 * driver (no server needed; skipped when the driver is not installed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/xalloc.h"
#include "runtime/conn.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

/* ---- connection strings ---- */

static void
map_expect(const char *type, const char *in, const char *want)
{
    char *why = NULL, *got = rt_conn_map(type, in, &why);

    if (!got)
        fail_msg("'%s' did not map: %s", in, why);
    assert_string_equal(got, want);
    free(got);
}

static void
map_refused(const char *type, const char *in, const char *why_part)
{
    char *why = NULL, *got = rt_conn_map(type, in, &why);

    assert_null(got);
    assert_non_null(why);
    if (!strstr(why, why_part))
        fail_msg("'%s' does not say '%s'", why, why_part);
    free(why);
}

static void
oledb_and_adonet_map_to_sql_server(void **state)
{
    map_expect("OLEDB",
               "Data Source=.;Initial Catalog=Sales;Provider=SQLNCLI11.1;"
               "Integrated Security=SSPI;Auto Translate=False;",
               "Driver={ODBC Driver 18 for SQL Server};Server=localhost;"
               "Database=Sales;Trusted_Connection=yes;");
    map_expect("OLEDB",
               "Provider=MSOLEDBSQL.1;Server=db,1433;Database=x;"
               "User ID=sa;Password='p;w\"d'",
               "Driver={ODBC Driver 18 for SQL Server};Server=db,1433;"
               "Database=x;UID=sa;PWD={p;w\"d};");
    map_expect("ADO.NET:System.Data.SqlClient.SqlConnection, System.Data",
               "Data Source=h\\SQLEXPRESS;Initial Catalog=D;"
               "Integrated Security=True;TrustServerCertificate=True",
               "Driver={ODBC Driver 18 for SQL Server};Server=h\\SQLEXPRESS;"
               "Database=D;Trusted_Connection=yes;"
               "TrustServerCertificate=yes;");
    map_expect("ODBC", "Dsn=Sales;uid=u", "Dsn=Sales;uid=u");
    map_expect("OLEDB", "Provider=MSDASQL;DSN=Sales;UID=u", "DSN=Sales;UID=u;");
    map_expect("ADO.NET:System.Data.Odbc.OdbcConnection, System.Data",
               "Driver={SQLite3};Database=/x.db",
               "Driver={SQLite3};Database=/x.db");
}

static void
other_connections_are_refused(void **state)
{
    map_refused("OLEDB", "Provider=Microsoft.ACE.OLEDB.12.0;Data Source=a.xlsx",
                "the OLE DB provider 'Microsoft.ACE.OLEDB.12.0'");
    map_refused("ADO.NET:System.Data.OracleClient.OracleConnection",
                "Data Source=ora", "the ADO.NET provider");
    map_refused("FLATFILE", "/data/in.csv",
                "a FLATFILE connection manager is not a database");
    map_refused("OLEDB", "", "no connection string");
}

static const char pkg_xml[] =
    "<?xml version=\"1.0\"?>\n"
    "<DTS:Executable xmlns:DTS=\"www.microsoft.com/SqlServer/Dts\" "
    " DTS:refId=\"Package\" DTS:CreationName=\"Microsoft.Package\" "
    " DTS:DTSID=\"{P}\" DTS:ExecutableType=\"Microsoft.Package\" "
    " DTS:ObjectName=\"P\">\n"
    "<DTS:Property DTS:Name=\"PackageFormatVersion\">8</DTS:Property>\n"
    "<DTS:PackageParameters>\n"
    " <DTS:PackageParameter DTS:ObjectName=\"Secret\" DTS:DataType=\"7\" "
    "  DTS:Sensitive=\"True\"><DTS:Property "
    "DTS:Name=\"ParameterValue\">hunter2</DTS:Property>"
    "</DTS:PackageParameter>\n"
    " <DTS:PackageParameter DTS:ObjectName=\"Batch\" DTS:DataType=\"3\">"
    "<DTS:Property DTS:Name=\"ParameterValue\">7</DTS:Property>"
    "</DTS:PackageParameter>\n"
    "</DTS:PackageParameters>\n"
    "<DTS:ConnectionManagers>\n"
    " <DTS:ConnectionManager DTS:refId=\"Package.ConnectionManagers[Db]\" "
    "  DTS:CreationName=\"OLEDB\" DTS:DTSID=\"{C1}\" DTS:ObjectName=\"Db\">\n"
    "  <DTS:ObjectData><DTS:ConnectionManager "
    "   DTS:ConnectionString=\"Data Source=h;Provider=SQLOLEDB\"/>"
    "  </DTS:ObjectData></DTS:ConnectionManager>\n"
    " <DTS:ConnectionManager DTS:refId=\"Package.ConnectionManagers[Expr]\" "
    "  DTS:CreationName=\"OLEDB\" DTS:DTSID=\"{C2}\" DTS:ObjectName=\"Expr\">\n"
    "  <DTS:PropertyExpression DTS:Name=\"ConnectionString\">"
    "@[$Project::Cs]</DTS:PropertyExpression>\n"
    "  <DTS:ObjectData><DTS:ConnectionManager "
    "   DTS:ConnectionString=\"Data Source=h\"/>"
    "  </DTS:ObjectData></DTS:ConnectionManager>\n"
    " <DTS:ConnectionManager DTS:refId=\"Package.ConnectionManagers[Ex2]\" "
    "  DTS:CreationName=\"ODBC\" DTS:DTSID=\"{C3}\" DTS:ObjectName=\"Ex2\">\n"
    "  <DTS:PropertyExpression DTS:Name=\"ConnectionString\">"
    "&quot;Dsn=&quot; + @[User::Ro]</DTS:PropertyExpression>\n"
    "  <DTS:ObjectData><DTS:ConnectionManager "
    "   DTS:ConnectionString=\"Dsn=design\"/>"
    "  </DTS:ObjectData></DTS:ConnectionManager>\n"
    "</DTS:ConnectionManagers>\n"
    "<DTS:Variables>\n"
    " <DTS:Variable DTS:Namespace=\"User\" DTS:ObjectName=\"X\">"
    "<DTS:VariableValue DTS:DataType=\"3\">1</DTS:VariableValue>"
    "</DTS:Variable>\n"
    " <DTS:Variable DTS:Namespace=\"User\" DTS:ObjectName=\"Ro\" "
    "  DTS:ReadOnly=\"True\">"
    "<DTS:VariableValue DTS:DataType=\"8\">fixed</DTS:VariableValue>"
    "</DTS:Variable>\n"
    " <DTS:Variable DTS:Namespace=\"User\" DTS:ObjectName=\"When\">"
    "<DTS:VariableValue DTS:DataType=\"7\">2/28/2014 12:29:00 PM"
    "</DTS:VariableValue></DTS:Variable>\n"
    " <DTS:Variable DTS:Namespace=\"User\" DTS:ObjectName=\"Bad\">"
    "<DTS:VariableValue DTS:DataType=\"3\">abc</DTS:VariableValue>"
    "</DTS:Variable>\n"
    "</DTS:Variables>\n"
    "<DTS:Executables>\n"
    " <DTS:Executable DTS:refId=\"Package\\Seq\" "
    "  DTS:CreationName=\"STOCK:SEQUENCE\" DTS:DTSID=\"{S}\" "
    "  DTS:ExecutableType=\"STOCK:SEQUENCE\" DTS:ObjectName=\"Seq\">\n"
    "  <DTS:Variables>\n"
    "   <DTS:Variable DTS:Namespace=\"User\" DTS:ObjectName=\"X\">"
    "<DTS:VariableValue DTS:DataType=\"8\">inner</DTS:VariableValue>"
    "</DTS:Variable>\n"
    "  </DTS:Variables>\n"
    " </DTS:Executable>\n"
    "</DTS:Executables>\n"
    "</DTS:Executable>\n";

static struct pkg *
load_pkg(void)
{
    struct werr err;
    struct pkg *p =
        pkg_load_memory("t.dtsx", pkg_xml, sizeof(pkg_xml) - 1, &err);

    if (!p)
        fail_msg("%s", err.msg);
    return p;
}

static void
connection_managers_are_found_and_overridden(void **state)
{
    struct pkg *p = load_pkg();
    struct rt_conns cs;
    struct werr err;
    struct rt_conn *c;

    assert_int_equal(rt_conns_init(&cs, p, NULL, &err), 0);
    assert_int_equal(cs.n, 3);
    c = rt_conns_find(&cs, "{C1}");
    assert_non_null(c);
    assert_ptr_equal(rt_conns_find(&cs, "Package.ConnectionManagers[Db]"), c);
    assert_ptr_equal(rt_conns_find(&cs, "{c1}:external"), c);
    assert_ptr_equal(rt_conns_find(&cs, "db"), c);
    assert_null(rt_conns_find(&cs, "{C9}"));
    assert_string_equal(c->odbc, "Driver={ODBC Driver 18 for SQL Server};"
                                 "Server=h;");
    c = rt_conns_find(&cs, "Expr");
    assert_null(c->odbc);
    assert_non_null(strstr(c->why_not, "not been evaluated"));
    /* Evaluated through the variable store: an unknown parameter names
     * the manager; a variable gives the string. */
    struct rt_vars vs;
    rt_vars_init(&vs, p, NULL);
    assert_int_equal(rt_conn_eval_expression(c, &vs, pkg_root(p), &err), -1);
    assert_non_null(strstr(err.msg, "connection manager 'Expr'"));
    assert_non_null(strstr(err.msg, "$Project::Cs"));
    struct rt_conn *c2 = rt_conns_find(&cs, "Ex2");
    assert_int_equal(rt_conn_eval_expression(c2, &vs, pkg_root(p), &err), 0);
    assert_string_equal(c2->odbc, "Dsn=fixed");
    /* An override wins over the expression. */
    assert_int_equal(rt_conns_override_arg(&cs, "Ex2=Dsn=given", &err), 0);
    assert_int_equal(rt_conn_eval_expression(c2, &vs, pkg_root(p), &err), 0);
    assert_string_equal(c2->odbc, "Dsn=given");
    rt_vars_release(&vs);
    assert_true(rt_conns_is_param("CM.Expr.ConnectionString"));
    assert_false(rt_conns_is_param("CM.ConnectionString"));
    assert_int_equal(
        rt_conns_set_param(&cs, "CM.Expr.ConnectionString", "Dsn=x", &err), 0);
    assert_string_equal(c->odbc, "Dsn=x");
    assert_true(c->overridden);
    assert_int_equal(rt_conns_override_arg(&cs, "Nope=Dsn=secret", &err), -1);
    assert_non_null(strstr(err.msg, "'Nope'"));
    assert_null(strstr(err.msg, "secret"));
    assert_int_equal(rt_conns_override_arg(&cs, "=x", &err), -1);
    rt_conns_release(&cs);
    pkg_free(p);
}

/* ---- batches and markers ---- */

static void
go_lines_split_batches(void **state)
{
    char **b = rt_sql_batches("CREATE TABLE a(x int);\nGO\n"
                              "insert into a values (1)\n  go  \r\n"
                              "GOTO x\nGO\n\nGO\n;\n");

    assert_string_equal(b[0], "CREATE TABLE a(x int);\n");
    assert_string_equal(b[1], "insert into a values (1)\n");
    assert_string_equal(b[2], "GOTO x\n");
    assert_null(b[3]);
    rt_sql_batches_free(b);
    b = rt_sql_batches("SELECT 1");
    assert_string_equal(b[0], "SELECT 1");
    assert_null(b[1]);
    rt_sql_batches_free(b);
}

static void
markers_outside_quotes_and_comments(void **state)
{
    assert_int_equal(rt_sql_count_markers("SELECT ? , '?' , \"?\" , [?] -- ?\n"
                                          "/* ? */ , ?"),
                     2);
    assert_int_equal(rt_sql_count_markers("'unterminated ?"), 0);
    assert_int_equal(rt_sql_count_markers(""), 0);
}

/* ---- values ---- */

static void
values_parse_and_convert(void **state)
{
    struct rt_value v = {0}, out = {0};
    struct werr err;

    assert_int_equal(
        rt_value_parse("2/28/2014 12:29:00 PM", RT_VT_DATE, &v, &err), 0);
    assert_string_equal(v.s, "2014-02-28 12:29:00");
    assert_int_equal(
        rt_value_parse("2024-01-02T03:04:05.123Z", RT_VT_DATE, &v, &err), 0);
    assert_string_equal(v.s, "2024-01-02 03:04:05.123");
    assert_int_equal(rt_value_parse("13/45/2020", RT_VT_DATE, &v, &err), -1);
    assert_int_equal(rt_value_parse("70000", RT_VT_I2, &v, &err), -1);
    assert_non_null(strstr(err.msg, "Int16"));
    assert_int_equal(rt_value_parse("-1", RT_VT_BOOL, &v, &err), 0);
    assert_true(v.n.b);

    /* A decimal "12.00" fits an Int32; "12.5" does not. */
    assert_int_equal(rt_value_parse("12.00", RT_VT_DECIMAL, &v, &err), 0);
    assert_int_equal(rt_value_convert(&v, RT_VT_I4, &out, &err), 0);
    assert_int_equal(out.n.i, 12);
    assert_int_equal(rt_value_parse("12.5", RT_VT_DECIMAL, &v, &err), 0);
    assert_int_equal(rt_value_convert(&v, RT_VT_I4, &out, &err), -1);
    assert_non_null(strstr(err.msg, "Decimal"));
    assert_non_null(strstr(err.msg, "Int32"));

    rt_value_set_int(&v, 300);
    assert_int_equal(rt_value_convert(&v, RT_VT_UI1, &out, &err), -1);
    assert_int_equal(rt_value_convert(&v, RT_VT_STR, &out, &err), 0);
    assert_string_equal(out.s, "300");
    assert_int_equal(rt_value_convert(&v, RT_VT_R8, &out, &err), 0);
    assert_true(out.n.r == 300.0);

    rt_value_release(&v);
    v.vt = RT_VT_STR;
    v.null = true;
    assert_int_equal(rt_value_convert(&v, RT_VT_STR, &out, &err), -1);
    assert_non_null(strstr(err.msg, "NULL"));
    assert_int_equal(rt_value_convert(&v, RT_VT_OBJECT, &out, &err), 0);
    assert_true(out.null);
    rt_value_release(&v);
    rt_value_release(&out);
}

static void
rowsets_are_shared(void **state)
{
    struct rt_rowset *rs = rt_rowset_new(2);
    struct rt_value v = {.vt = RT_VT_OBJECT}, copy = {0};
    struct rt_value *row;

    rt_rowset_set_column(rs, 0, "id", RT_VT_I8);
    rt_rowset_set_column(rs, 1, "name", RT_VT_STR);
    for (int i = 0; i < 100; i++) {
        row = rt_rowset_add_row(rs);
        rt_value_set_int(&row[0], i);
        rt_value_set_str(&row[1], "n", 1);
    }
    assert_int_equal(rs->nrows, 100);
    v.rows = rs;
    rt_value_copy(&copy, &v);
    assert_ptr_equal(copy.rows, rs);
    assert_int_equal(rs->refs, 2);
    rt_value_release(&v);
    assert_int_equal(copy.rows->cells[99 * 2].n.i, 99);
    rt_value_release(&copy);
}

/* ---- variables ---- */

static void
variables_scope_types_and_read_only(void **state)
{
    struct pkg *p = load_pkg();
    const struct pkg_executable *root = pkg_root(p),
                                *seq = pkg_find(p, "Package\\Seq");
    struct rt_vars vs;
    struct rt_value v = {0}, in = {0};
    struct werr err;

    rt_vars_init(&vs, p, NULL);
    assert_int_equal(rt_vars_get(&vs, seq, "User::X", &v, &err), 0);
    assert_int_equal(v.vt, RT_VT_STR); /* the inner X shadows */
    assert_string_equal(v.s, "inner");
    assert_int_equal(rt_vars_get(&vs, root, "@[User::X]", &v, &err), 0);
    assert_int_equal(v.vt, RT_VT_I4);
    assert_int_equal(v.n.i, 1);
    assert_int_equal(rt_vars_get(&vs, root, "When", &v, &err), 0);
    assert_string_equal(v.s, "2014-02-28 12:29:00");
    assert_int_equal(rt_vars_get(&vs, root, "Bad", &v, &err), -1);
    assert_non_null(strstr(err.msg, "'abc' is not a valid Int32"));
    assert_int_equal(rt_vars_get(&vs, root, "User::Nope", &v, &err), -1);
    assert_int_equal(err.code, WERR_NOTFOUND);
    assert_int_equal(rt_vars_get(&vs, seq, "System::TaskName", &v, &err), 0);
    assert_string_equal(v.s, "Seq");

    rt_vars_release(&vs);

    /* Parameters read through the store; a sensitive value is never
     * quoted. */
    struct rt_params ps;
    rt_params_init(&ps, p, NULL);
    rt_vars_init(&vs, p, &ps);
    assert_true(rt_vars_exists(&vs, seq, "$Package::Batch"));
    assert_int_equal(rt_vars_get(&vs, seq, "$Package::Batch", &v, &err), 0);
    assert_int_equal(v.n.i, 7);
    assert_true(rt_vars_is_sensitive(&vs, "@[$Package::Secret]"));
    assert_false(rt_vars_is_sensitive(&vs, "$Package::Batch"));
    assert_int_equal(rt_vars_get(&vs, root, "$Package::Secret", &v, &err), -1);
    assert_non_null(strstr(err.msg, "sensitive parameter"));
    assert_null(strstr(err.msg, "hunter2"));

    rt_value_set_str(&in, "42", 2);
    assert_int_equal(rt_vars_set(&vs, root, "User::X", &in, &err), 0);
    assert_int_equal(rt_vars_get(&vs, root, "User::X", &v, &err), 0);
    assert_int_equal(v.vt, RT_VT_I4);
    assert_int_equal(v.n.i, 42);
    rt_value_set_str(&in, "forty", 5);
    assert_int_equal(rt_vars_set(&vs, root, "User::X", &in, &err), -1);
    assert_non_null(strstr(err.msg, "variable 'User::X' (Int32)"));
    assert_int_equal(rt_vars_set(&vs, root, "User::Ro", &in, &err), -1);
    assert_int_equal(err.code, WERR_CONFLICT);
    assert_int_equal(rt_vars_set(&vs, root, "$Package::P", &in, &err), -1);
    rt_value_release(&in);
    rt_value_release(&v);
    rt_vars_release(&vs);
    rt_params_release(&ps);
    pkg_free(p);
}

/* ---- ODBC with SQLite ---- */

static bool
have_sqlite_driver(void)
{
    return access("/etc/odbcinst.ini", R_OK) == 0 &&
           system("odbcinst -q -d -n SQLite3 >/dev/null 2>&1") == 0;
}

static void
odbc_types_nulls_and_errors(void **state)
{
    char dir[] = "/tmp/weir-sql-XXXXXX", *cs;
    struct wbuf diag;
    struct rt_odbc *c;
    struct rt_rowset *rs = NULL;
    struct rt_value params[3] = {{0}};

    if (!have_sqlite_driver()) {
        skip();
        return;
    }
    assert_non_null(mkdtemp(dir));
    cs = xasprintf("Driver=SQLite3;Database=%s/t.db", dir);
    wbuf_init(&diag, 4096);
    c = rt_odbc_connect(cs, 5, &diag);
    if (!c)
        fail_msg("%s", diag.buf);
    assert_int_equal(rt_odbc_exec(c,
                                  "CREATE TABLE t (i INTEGER, f REAL, "
                                  "s TEXT, b BLOB)",
                                  NULL, NULL, 0, 0, NULL, &diag),
                     0);
    rt_value_set_int(&params[0], 5);
    params[1].vt = RT_VT_R8;
    params[1].n.r = 0.5;
    rt_value_set_str(&params[2], "x", 1);
    assert_int_equal(rt_odbc_exec(c,
                                  "INSERT INTO t VALUES (?, ?, ?, "
                                  "x'00ff')",
                                  params, NULL, 3, 0, NULL, &diag),
                     0);
    params[2].null = true;
    assert_int_equal(rt_odbc_exec(c, "INSERT INTO t VALUES (?, ?, ?, NULL)",
                                  params, NULL, 3, 0, NULL, &diag),
                     0);
    assert_int_equal(rt_odbc_exec(c, "SELECT i, f, s FROM t ORDER BY s", NULL,
                                  NULL, 0, 5, &rs, &diag),
                     0);
    assert_non_null(rs);
    assert_int_equal(rs->nrows, 2);
    assert_string_equal(rs->names[2], "s");
    assert_int_equal(rs->types[0], RT_VT_I8);
    assert_int_equal(rs->cells[0].n.i, 5);
    assert_true(rs->cells[1].n.r == 0.5);
    assert_true(rs->cells[2].null); /* NULL sorts first */
    assert_string_equal(rs->cells[5].s, "x");
    rt_rowset_unref(rs);
    rs = NULL;
    assert_int_equal(
        rt_odbc_exec(c, "SELECT nope FROM t", NULL, NULL, 0, 0, &rs, &diag),
        -1);
    assert_non_null(strstr(diag.buf, "no such column: nope"));
    assert_null(rs);
    rt_odbc_close(c);
    wbuf_reset(&diag);
    assert_null(rt_odbc_connect("Driver=NoSuchDriver", 5, &diag));
    assert_non_null(strstr(diag.buf, "[01000]"));
    wbuf_reset(&diag);
    assert_int_equal(rt_odbc_check_driver(cs, &diag), 0);
    assert_int_equal(rt_odbc_check_driver("Dsn=x;Uid=u", &diag), 0);
    assert_int_equal(rt_odbc_check_driver("Uid=u;DRIVER={sqlite3}", &diag), 0);
    assert_int_equal(rt_odbc_check_driver("Uid={a;b};Driver={No Such};", &diag),
                     -1);
    assert_non_null(strstr(diag.buf, "'No Such' is not installed"));
    for (int i = 0; i < 3; i++)
        rt_value_release(&params[i]);
    wbuf_release(&diag);
    free(cs);
    cs = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cs), 0);
    free(cs);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(oledb_and_adonet_map_to_sql_server),
        cmocka_unit_test(other_connections_are_refused),
        cmocka_unit_test(connection_managers_are_found_and_overridden),
        cmocka_unit_test(go_lines_split_batches),
        cmocka_unit_test(markers_outside_quotes_and_comments),
        cmocka_unit_test(values_parse_and_convert),
        cmocka_unit_test(rowsets_are_shared),
        cmocka_unit_test(variables_scope_types_and_read_only),
        cmocka_unit_test(odbc_types_nulls_and_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
