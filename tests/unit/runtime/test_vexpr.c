/*
 * Unit tests of the expression language over the variable store:
 * references to variables, parameters and System variables with their
 * types, expression variables (evaluated on every read, cycles named),
 * and assignments (read-only targets refused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <signal.h>

#include "base/xalloc.h"
#include "expr/expr.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

#define VAR(name, attrs, dt, value)                                            \
    " <DTS:Variable DTS:Namespace=\"User\" DTS:ObjectName=\"" name "\" " attrs \
    "><DTS:VariableValue DTS:DataType=\"" dt "\">" value                       \
    "</DTS:VariableValue></DTS:Variable>\n"
#define EXPRVAR(name, dt, expr)                                                \
    VAR(name, "DTS:EvaluateAsExpression=\"True\" DTS:Expression=\"" expr "\"", \
        dt, "")

static const char pkg_xml[] =
    "<?xml version=\"1.0\"?>\n"
    "<DTS:Executable xmlns:DTS=\"www.microsoft.com/SqlServer/Dts\" "
    " DTS:refId=\"Package\" DTS:CreationName=\"Microsoft.Package\" "
    " DTS:DTSID=\"{P}\" DTS:ExecutableType=\"Microsoft.Package\" "
    " DTS:ObjectName=\"P\">\n"
    "<DTS:Property DTS:Name=\"PackageFormatVersion\">8</DTS:Property>\n"
    "<DTS:PackageParameters>\n"
    " <DTS:PackageParameter DTS:ObjectName=\"Batch\" DTS:DataType=\"3\">"
    "<DTS:Property DTS:Name=\"ParameterValue\">7</DTS:Property>"
    "</DTS:PackageParameter>\n"
    "</DTS:PackageParameters>\n"
    "<DTS:Variables>\n"
    /* clang-format off */
    VAR("N", "", "3", "5")
    VAR("Name", "", "8", "world")
    VAR("Ro", "DTS:ReadOnly=\"True\"", "3", "1")
    VAR("When", "", "7", "2/28/2014 12:29:00 PM")
    VAR("Obj", "", "13", "")
    EXPRVAR("Twice", "3", "@[User::N] * 2")
    EXPRVAR("Greet", "8", "&quot;hello &quot; + @Name + (DT_WSTR, 10) @Twice")
    EXPRVAR("WithParam", "20", "@[$Package::Batch] + @N")
    EXPRVAR("Year", "3", "YEAR(@[User::When])")
    EXPRVAR("Pkg", "8", "@[System::PackageName]")
    EXPRVAR("A", "3", "@B + 1")
    EXPRVAR("B", "3", "@A + 1")
    EXPRVAR("Self", "3", "@Self")
    EXPRVAR("Broken", "3", "1 +")
    EXPRVAR("Div", "3", "@N / (@N - 5)")
    /* clang-format on */
    "</DTS:Variables>\n"
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

struct fx {
    struct pkg *p;
    struct rt_params ps;
    struct rt_vars vs;
    const struct pkg_executable *root;
};

static int
fx_setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));

    f->p = load_pkg();
    f->root = pkg_root(f->p);
    rt_params_init(&f->ps, f->p, NULL);
    rt_vars_init(&f->vs, f->p, &f->ps);
    *state = f;
    return 0;
}

static int
fx_teardown(void **state)
{
    struct fx *f = *state;

    rt_vars_release(&f->vs);
    rt_params_release(&f->ps);
    pkg_free(f->p);
    free(f);
    return 0;
}

static void
get_ok(struct fx *f, const char *name, struct rt_value *v)
{
    struct werr err;

    if (rt_vars_get(&f->vs, f->root, name, v, &err) < 0)
        fail_msg("%s: %s", name, err.msg);
}

static void
expression_variables_evaluate_on_every_read(void **state)
{
    struct fx *f = *state;
    struct rt_value v = {0}, in = {0};
    struct werr err;

    get_ok(f, "User::Twice", &v);
    assert_int_equal(v.vt, RT_VT_I4);
    assert_int_equal(v.n.i, 10);
    get_ok(f, "Greet", &v);
    assert_int_equal(v.vt, RT_VT_STR);
    assert_string_equal(v.s, "hello world10");
    /* A new value of N shows through both expressions. */
    rt_value_set_int(&in, 21);
    assert_int_equal(rt_vars_set(&f->vs, f->root, "N", &in, &err), 0);
    get_ok(f, "@[User::Twice]", &v);
    assert_int_equal(v.n.i, 42);
    get_ok(f, "Greet", &v);
    assert_string_equal(v.s, "hello world42");
    get_ok(f, "WithParam", &v);
    assert_int_equal(v.vt, RT_VT_I8);
    assert_int_equal(v.n.i, 28);
    get_ok(f, "Year", &v);
    assert_int_equal(v.n.i, 2014);
    get_ok(f, "Pkg", &v);
    assert_string_equal(v.s, "P");
    rt_value_release(&v);
    rt_value_release(&in);
}

static void
expression_variable_errors_name_the_variable(void **state)
{
    struct fx *f = *state;
    struct rt_value v = {0};
    struct werr err;

    assert_int_equal(rt_vars_get(&f->vs, f->root, "A", &v, &err), -1);
    assert_non_null(strstr(err.msg, "'User::A' depends on itself"));
    assert_non_null(strstr(err.msg, "'User::B'"));
    assert_int_equal(rt_vars_get(&f->vs, f->root, "Self", &v, &err), -1);
    assert_non_null(strstr(err.msg, "'User::Self' depends on itself"));
    assert_int_equal(rt_vars_get(&f->vs, f->root, "Broken", &v, &err), -1);
    assert_non_null(strstr(err.msg, "variable 'User::Broken'"));
    assert_non_null(strstr(err.msg, "1:"));
    /* A runtime error (division by zero) at the time of the read. */
    assert_int_equal(rt_vars_get(&f->vs, f->root, "Div", &v, &err), -1);
    assert_non_null(strstr(err.msg, "variable 'User::Div'"));
    /* After a failure the variables read again. */
    get_ok(f, "Twice", &v);
    assert_int_equal(v.n.i, 10);
    rt_value_release(&v);
}

static void
expressions_assign_and_refuse_read_only(void **state)
{
    struct fx *f = *state;
    struct rt_value v = {0};
    struct werr err;
    struct expr *e;

    e = rt_expr_compile(&f->vs, f->root, "@[User::N] = @N + 1", EXPR_ASSIGN,
                        &err);
    if (!e)
        fail_msg("%s", err.msg);
    assert_int_equal(rt_expr_eval(&f->vs, f->root, e, &v, &err), 0);
    assert_int_equal(v.n.i, 6);
    assert_int_equal(rt_expr_eval(&f->vs, f->root, e, &v, &err), 0);
    get_ok(f, "N", &v);
    assert_int_equal(v.n.i, 7);
    expr_free(e);

    e = rt_expr_compile(&f->vs, f->root, "@[User::Ro] := 2", EXPR_ASSIGN, &err);
    if (!e) { /* refused when compiled or when run: both name it */
        assert_non_null(strstr(err.msg, "Ro"));
    } else {
        assert_int_equal(rt_expr_eval(&f->vs, f->root, e, &v, &err), -1);
        assert_non_null(strstr(err.msg, "'User::Ro' is read-only"));
        expr_free(e);
    }
    get_ok(f, "Ro", &v);
    assert_int_equal(v.n.i, 1);

    /* Unknown names and Object variables are compile errors. */
    assert_null(rt_expr_compile(&f->vs, f->root, "@[User::Nope] + 1", 0, &err));
    assert_non_null(strstr(err.msg, "'User::Nope'"));
    assert_null(rt_expr_compile(&f->vs, f->root, "ISNULL(@Obj)", 0, &err));
    assert_non_null(strstr(err.msg, "Obj"));
    rt_value_release(&v);
}

/* ---- the shared fixtures, run to their documented results ---- */

struct frun {
    struct pkg *p;
    struct pkg_project *pr;
    struct rt_params ps;
    struct rt_vars vs;
    struct rt_events ev;
    struct rt_run run;
    enum rt_result result;
};

/* Loads FIXTURES/rel (skipping when the fixtures are not there), sets
 * `params` (NAME=VALUE, NULL-terminated) and runs it in process. */
static void
frun_start(struct frun *f, const char *rel, const char *const *params)
{
    const char *dir = getenv("WEIR_DTSX_FIXTURES");
    char *path, *folder;
    struct werr err;

    memset(f, 0, sizeof(*f));
    path = xasprintf("%s/%s", dir ? dir : "", rel);
    if (!dir || access(path, R_OK) != 0) {
        free(path);
        skip();
    }
    if (!(f->p = pkg_load_file(path, &err)))
        fail_msg("%s", err.msg);
    folder = xstrdup(path);
    *strrchr(folder, '/') = '\0';
    if (!(f->pr = pkg_project_load_dir(folder, &err)))
        fail_msg("%s", err.msg);
    rt_params_init(&f->ps, f->p, f->pr);
    for (; params && *params; params++)
        if (rt_params_set_arg(&f->ps, *params, &err) < 0)
            fail_msg("%s", err.msg);
    rt_vars_init(&f->vs, f->p, &f->ps);
    f->ev = (struct rt_events){.fd = -1, .errs = stderr};
    f->run = (struct rt_run){.pkg = f->p, .package_dir = folder,
                             .project_dir = folder, .events = &f->ev,
                             .params = &f->ps, .vars = &f->vs,
                             .kill_grace_s = 5};
    f->run.state = xcalloc(pkg_executable_count(f->p) + 1,
                           sizeof(*f->run.state));
    assert_int_equal(rt_validate(&f->run), 0);
    f->result = rt_run_package(&f->run);
    free(path);
}

static void
frun_end(struct frun *f)
{
    free(f->run.state);
    free((char *)f->run.package_dir);
    rt_vars_release(&f->vs);
    rt_params_release(&f->ps);
    pkg_project_free(f->pr);
    pkg_free(f->p);
}

static int64_t
int_of(struct frun *f, const struct pkg_executable *scope, const char *name)
{
    struct rt_value v = {0};
    struct werr err;
    int64_t i;

    if (rt_vars_get(&f->vs, scope, name, &v, &err) < 0)
        fail_msg("%s: %s", name, err.msg);
    i = v.n.i;
    rt_value_release(&v);
    return i;
}

static void
fixture_for_loop(void **state)
{
    struct frun f;

    (void)state;
    frun_start(&f, "bartekr-60-for-loop/ssisUnitLearning/60_Loops.dtsx", NULL);
    assert_int_equal(f.result, RT_SUCCESS);
    /* Seven iterations of +6; the counter ends one past the bound. */
    assert_int_equal(int_of(&f, pkg_root(f.p), "User::v"), 42);
    assert_int_equal(int_of(&f, pkg_root(f.p), "User::i"), 8);
    frun_end(&f);
}

static char *
str_of(struct frun *f, const struct pkg_executable *scope, const char *name)
{
    struct rt_value v = {0};
    struct werr err;
    char *s;

    if (rt_vars_get(&f->vs, scope, name, &v, &err) < 0)
        fail_msg("%s: %s", name, err.msg);
    s = rt_value_text(&v);
    rt_value_release(&v);
    return s;
}

static void
fixture_params_and_vars(void **state)
{
    static const char *const params[] = {
        "pPackageSensitiveParameter=123qwe!@#", NULL};
    const struct pkg_executable *root, *seq;
    struct frun f;
    struct rt_value v = {0};
    struct werr err;
    char *s;

    (void)state;
    frun_start(&f,
               "bartekr-01-params-vars/ssisUnitLearning/"
               "01_OnlyParametersAndVariables.dtsx",
               params);
    assert_int_equal(f.result, RT_SUCCESS);
    root = pkg_root(f.p);
    seq = pkg_find(f.p, "Package\\SEQC Some container");
    assert_non_null(seq);
    assert_int_equal(int_of(&f, root, "$Package::pPackageParameter"), 10);
    s = str_of(&f, root, "User::GlobalVariable");
    assert_string_equal(s, "G10");
    free(s);
    s = str_of(&f, root, "User::GlobalVariableWithExpression");
    assert_string_equal(s, "E10");
    free(s);
    assert_int_equal(int_of(&f, seq, "User::ContainerVariable"), 42);
    /* Not visible at package scope. */
    assert_int_equal(
        rt_vars_get(&f.vs, root, "User::ContainerVariable", &v, &err), -1);
    s = str_of(&f, root, "$Package::pPackageSensitiveParameter");
    assert_string_equal(s, "123qwe!@#");
    free(s);
    /* The expression follows the parameter. */
    rt_vars_release(&f.vs);
    assert_int_equal(rt_params_set_arg(&f.ps, "pPackageParameter=7", &err), 0);
    rt_vars_init(&f.vs, f.p, &f.ps);
    s = str_of(&f, root, "GlobalVariableWithExpression");
    assert_string_equal(s, "E7");
    free(s);
    frun_end(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            expression_variables_evaluate_on_every_read, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(
            expression_variable_errors_name_the_variable, fx_setup,
            fx_teardown),
        cmocka_unit_test_setup_teardown(expressions_assign_and_refuse_read_only,
                                        fx_setup, fx_teardown),
        cmocka_unit_test(fixture_for_loop),
        cmocka_unit_test(fixture_params_and_vars),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
