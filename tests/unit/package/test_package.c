/* Unit tests for src/package: loading, the model's defaults, type names,
 * validation and Project.params. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/wbuf.h"
#include "base/werr.h"
#include "base/xalloc.h"
#include "package/package.h"

#define HEAD                                                                  \
    "<?xml version=\"1.0\"?>\n"                                               \
    "<DTS:Executable xmlns:DTS=\"www.microsoft.com/SqlServer/Dts\"\n"         \
    "  DTS:refId=\"Package\" DTS:CreationName=\"Microsoft.Package\"\n"        \
    "  DTS:DTSID=\"{00000000-0000-0000-0000-0000000000A1}\"\n"                \
    "  DTS:ExecutableType=\"Microsoft.Package\" DTS:ObjectName=\"T\">\n"      \
    "  <DTS:Property DTS:Name=\"PackageFormatVersion\">8</DTS:Property>\n"
#define TAIL "</DTS:Executable>\n"

/* An Execute Process task named NAME inside container path PARENT. */
#define PROC(parent, name, attrs, data)                                       \
    "<DTS:Executable DTS:refId=\"" parent "\\" name "\" DTS:ObjectName=\""    \
    name "\" DTS:ExecutableType=\"Microsoft.ExecuteProcess\" " attrs ">"      \
    "<DTS:ObjectData><ExecuteProcessData " data " /></DTS:ObjectData>"        \
    "</DTS:Executable>\n"
#define TRUE_TASK(parent, name) PROC(parent, name, "", "Executable=\"/bin/true\"")
#define PC(from, to, attrs)                                                   \
    "<DTS:PrecedenceConstraint DTS:refId=\"Package.PrecedenceConstraints["    \
    from "-" to "]\" DTS:ObjectName=\"" from "-" to "\" DTS:From=\"Package\\" \
    from "\" DTS:To=\"Package\\" to "\" " attrs " />\n"

static struct pkg *
load(const char *xml, struct werr *e)
{
    return pkg_load_memory("T.dtsx", xml, strlen(xml), e);
}

/* Validates `xml`, which must load; returns the problems (caller frees). */
static char *
problems_of(const char *xml, int *count)
{
    struct werr e;
    struct wbuf b;
    struct pkg *p = load(xml, &e);

    if (!p)
        fail_msg("load failed: %s", e.msg);
    wbuf_init(&b, WBUF_NOLIMIT);
    *count = pkg_validate(p, &b);
    pkg_free(p);
    return wbuf_detach(&b, NULL);
}

static const char *
fixtures_dir(void)
{
    const char *d = getenv("WEIR_DTSX_FIXTURES");
    struct stat st;

    return d && stat(d, &st) == 0 ? d : NULL;
}

static void
collect_dtsx(const char *dir, char ***list, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (!d)
        return;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *path = xasprintf("%s/%s", dir, de->d_name);
        struct stat st;
        size_t len = strlen(de->d_name);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            collect_dtsx(path, list, n);
            free(path);
        } else if (len > 5 && !strcmp(de->d_name + len - 5, ".dtsx")) {
            *list = xrealloc(*list, (*n + 1) * sizeof(char *));
            (*list)[(*n)++] = path;
        } else {
            free(path);
        }
    }
    closedir(d);
}

static void
every_shared_fixture_loads(void **state)
{
    const char *dir = fixtures_dir();
    char **list = NULL;
    size_t n = 0;

    if (!dir)
        skip();
    collect_dtsx(dir, &list, &n);
    assert_true(n >= 8);
    for (size_t i = 0; i < n; i++) {
        struct werr e;
        struct wbuf b;
        struct pkg *p = pkg_load_file(list[i], &e);
        if (!p)
            fail_msg("%s: %s", list[i], e.msg);
        assert_true(pkg_format_version(p) == 6 || pkg_format_version(p) == 8);
        assert_string_equal(pkg_root(p)->path, "\\Package");
        assert_string_equal(pkg_root(p)->type, "Microsoft.Package");
        wbuf_init(&b, WBUF_NOLIMIT);
        pkg_validate(p, &b); /* may report data flows: only must not crash */
        wbuf_release(&b);
        pkg_free(p);
        free(list[i]);
    }
    free(list);
}

static struct pkg *
load_fixture(const char *rel)
{
    const char *dir = fixtures_dir();
    struct werr e;
    struct pkg *p;
    char *path;

    if (!dir)
        return NULL;
    path = xasprintf("%s/%s", dir, rel);
    p = pkg_load_file(path, &e);
    if (!p)
        fail_msg("%s: %s", path, e.msg);
    free(path);
    return p;
}

/* In alimardani-import-csv two constraints without DTS:LogicalAnd lead
 * into the Foreach loop: only OR makes that package work. */
static void
absent_logical_and_means_or(void **state)
{
    struct pkg *p = load_fixture("alimardani-import-csv/src/FirstSample/"
                                 "ImportCSV.dtsx");
    const struct pkg_executable *root;
    int into_loop = 0;

    if (!p)
        skip();
    root = pkg_root(p);
    assert_int_equal(root->nconstraints, 3);
    for (size_t i = 0; i < root->nconstraints; i++) {
        const struct pkg_constraint *c = &root->constraints[i];
        assert_non_null(c->from);
        assert_non_null(c->to);
        if (!strcmp(c->to->name, "Foreach Loop Over CSV Files")) {
            into_loop++;
            assert_false(c->logical_and);
        }
    }
    assert_int_equal(into_loop, 2);
    /* A nested constraint that says True keeps it. */
    const struct pkg_executable *loop =
        pkg_find(p, "Package\\Foreach Loop Over CSV Files");
    assert_non_null(loop);
    assert_int_equal(loop->nconstraints, 1);
    assert_true(loop->constraints[0].logical_and);
    assert_int_equal(loop->constraints[0].value, PKG_SUCCESS);
    pkg_free(p);
}

static void
constraint_defaults_and_values(void **state)
{
    struct werr e;
    struct pkg *p = load(HEAD "<DTS:Executables>" TRUE_TASK("Package", "A")
                             TRUE_TASK("Package", "B") TRUE_TASK("Package", "C")
                         "</DTS:Executables><DTS:PrecedenceConstraints>"
                         PC("A", "B", "")
                         PC("B", "C", "DTS:Value=\"1\" DTS:LogicalAnd=\"True\"")
                         PC("A", "C", "DTS:Value=\"2\" DTS:EvalOp=\"3\" "
                                      "DTS:Expression=\"1 &gt; 0\"")
                         "</DTS:PrecedenceConstraints>" TAIL, &e);
    const struct pkg_executable *r;

    if (!p)
        fail_msg("%s", e.msg);
    r = pkg_root(p);
    assert_int_equal(r->nchildren, 3);
    assert_int_equal(r->nconstraints, 3);
    assert_int_equal(r->constraints[0].value, PKG_SUCCESS);
    assert_int_equal(r->constraints[0].eval_op, PKG_EVAL_CONSTRAINT);
    assert_false(r->constraints[0].logical_and);
    assert_ptr_equal(r->constraints[0].from, r->children[0]);
    assert_ptr_equal(r->constraints[0].to, r->children[1]);
    assert_int_equal(r->constraints[1].value, PKG_FAILURE);
    assert_true(r->constraints[1].logical_and);
    assert_int_equal(r->constraints[2].value, PKG_COMPLETION);
    assert_int_equal(r->constraints[2].eval_op, PKG_EVAL_EXPR_AND_CONSTRAINT);
    assert_string_equal(r->constraints[2].expression, "1 > 0");
    pkg_free(p);
}

static void
malformed_xml_names_file_and_line(void **state)
{
    struct werr e;
    const char *xml = "<?xml version=\"1.0\"?>\n"
                      "<DTS:Executable xmlns:DTS=\"www.microsoft.com/"
                      "SqlServer/Dts\">\n"
                      "  <DTS:Executables>\n"
                      "  </DTS:Executable>\n";

    assert_null(load(xml, &e));
    assert_int_equal(e.code, WERR_INVALID);
    assert_non_null(strstr(e.msg, "'T.dtsx' line 4: "));
    assert_null(load("not xml at all", &e));
    assert_non_null(strstr(e.msg, "'T.dtsx' line 1: "));
    assert_null(load("", &e));
    assert_non_null(strstr(e.msg, "'T.dtsx' is empty"));
}

/* Bytes the declared encoding cannot convert: the error says so, on one
 * line, and libxml2 prints nothing on stderr (its encoding errors have no
 * parser context). */
static void
encoding_errors_are_collected_not_printed(void **state)
{
    static const char sjis[] = "<?xml version=\"1.0\" encoding=\"Shift_JIS\"?>"
                               "<a b=\"\x81\xff\x82\"/>";
    static const char bad_utf8[] = "<?xml version=\"1.0\"?><a b=\"\xff\xfe\"/>";
    char path[] = "/tmp/weir-test-stderr-XXXXXX";
    int fd = mkstemp(path), saved = dup(2);
    struct werr e1, e2;
    struct stat st;

    assert_true(fd >= 0 && saved >= 0);
    unlink(path);
    fflush(stderr);
    assert_int_equal(dup2(fd, 2), 2);
    assert_null(pkg_load_memory("T.dtsx", sjis, sizeof(sjis) - 1, &e1));
    assert_null(pkg_load_memory("T.dtsx", bad_utf8, sizeof(bad_utf8) - 1,
                                &e2));
    fflush(stderr);
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
    assert_int_equal(fstat(fd, &st), 0);
    close(fd);
    assert_int_equal(st.st_size, 0);
    assert_non_null(strstr(e1.msg, "'T.dtsx': input conversion failed"));
    assert_non_null(strstr(e2.msg, "'T.dtsx' line 1: input is not proper "
                                   "UTF-8"));
    assert_null(strchr(e2.msg, '\n'));
}

static void
doctype_and_entities_are_refused(void **state)
{
    struct werr e;
    const char *xml = "<?xml version=\"1.0\"?>\n"
                      "<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\">"
                      "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>\n"
                      "<x>&b;</x>\n";
    const char *ext = "<?xml version=\"1.0\"?>\n"
                      "<!DOCTYPE x [<!ENTITY f SYSTEM \"/etc/passwd\">]>\n"
                      "<x>&f;</x>\n";

    assert_null(load(xml, &e));
    assert_non_null(strstr(e.msg, "DOCTYPE"));
    assert_null(load(ext, &e));
    assert_non_null(strstr(e.msg, "DOCTYPE"));
}

static void
old_formats_are_refused(void **state)
{
    struct werr e;
    const char *v3 = "<?xml version=\"1.0\"?>\n"
                     "<DTS:Executable xmlns:DTS=\"www.microsoft.com/"
                     "SqlServer/Dts\" DTS:ExecutableType=\"SSIS.Package.2\">\n"
                     "<DTS:Property DTS:Name=\"PackageFormatVersion\">3"
                     "</DTS:Property>\n</DTS:Executable>\n";
    const char *v2 = "<DTS:Executable xmlns:DTS=\"www.microsoft.com/SqlServer/"
                     "Dts\"><DTS:Property DTS:Name=\"PackageFormatVersion\">2"
                     "</DTS:Property></DTS:Executable>";
    const char *v9 = "<DTS:Executable xmlns:DTS=\"www.microsoft.com/SqlServer/"
                     "Dts\" DTS:refId=\"Package\"><DTS:Property DTS:Name=\""
                     "PackageFormatVersion\">9</DTS:Property></DTS:Executable>";
    const char *none = "<DTS:Executable xmlns:DTS=\"www.microsoft.com/"
                       "SqlServer/Dts\"/>";

    assert_null(load(v3, &e));
    assert_string_equal(e.msg, "'T.dtsx' line 3: package format 3 (SSIS "
                               "2008): upgrade it in SSDT");
    assert_null(load(v2, &e));
    assert_non_null(strstr(e.msg, "package format 2 (SSIS 2005)"));
    assert_null(load(v9, &e));
    assert_non_null(strstr(e.msg, "package format 9 is not supported"));
    assert_null(load(none, &e));
    assert_non_null(strstr(e.msg, "no PackageFormatVersion"));
}

static void
structural_errors_name_the_element(void **state)
{
    struct werr e;

    assert_null(load(HEAD "<DTS:Executables>\n"
                          "<DTS:Executable DTS:ObjectName=\"X\" "
                          "DTS:ExecutableType=\"STOCK:SEQUENCE\"/>\n"
                          "</DTS:Executables>" TAIL, &e));
    assert_string_equal(e.msg, "'T.dtsx' line 8: <DTS:Executable> has no "
                               "DTS:refId");
    assert_null(load(HEAD "<DTS:Executables>\n"
                          "<DTS:Executable DTS:refId=\"Package\\X\"/>\n"
                          "</DTS:Executables>" TAIL, &e));
    assert_non_null(strstr(e.msg, "'Package\\X' has no DTS:ExecutableType"));
    assert_null(load(HEAD "<DTS:Executables>"
                          PROC("Package", "A", "DTS:Disabled=\"maybe\"", "")
                          "</DTS:Executables>" TAIL, &e));
    assert_non_null(strstr(e.msg, "DTS:Disabled must be True or False, not "
                                  "'maybe'"));
    assert_null(load("<root/>", &e));
    assert_non_null(strstr(e.msg, "not an SSIS package"));
    assert_null(load(HEAD "<DTS:PrecedenceConstraints><DTS:PrecedenceConstraint"
                          " DTS:To=\"Package\\A\"/></DTS:PrecedenceConstraints>"
                          TAIL, &e));
    assert_non_null(strstr(e.msg, "has no DTS:From"));
}

static void
nesting_is_limited(void **state)
{
    struct wbuf b;
    struct werr e;

    wbuf_init(&b, WBUF_NOLIMIT);
    wbuf_adds(&b, HEAD, NULL);
    for (int i = 0; i < PKG_MAX_DEPTH + 1; i++)
        wbuf_addf(&b, NULL, "<DTS:Executables><DTS:Executable DTS:refId=\"S%d\""
                            " DTS:ExecutableType=\"STOCK:SEQUENCE\">", i);
    for (int i = 0; i < PKG_MAX_DEPTH + 1; i++)
        wbuf_adds(&b, "</DTS:Executable></DTS:Executables>", NULL);
    wbuf_adds(&b, TAIL, NULL);
    assert_null(load(b.buf, &e));
    assert_int_equal(e.code, WERR_LIMIT);
    wbuf_release(&b);
}

static void
type_names_are_normalized(void **state)
{
    static const char *const cases[][2] = {
        {"Microsoft.ExecuteSQLTask", "Microsoft.ExecuteSQLTask"},
        {"Microsoft.SqlServer.Dts.Tasks.ExecuteSQLTask.ExecuteSQLTask, "
         "Microsoft.SqlServer.SQLTask, Version=11.0.0.0, Culture=neutral, "
         "PublicKeyToken=89845dcd8080cc91", "Microsoft.ExecuteSQLTask"},
        {"SSIS.Pipeline.3", "Microsoft.Pipeline"},
        {"SSIS.Pipeline.2", "Microsoft.Pipeline"},
        {"{5918251B-2970-45A4-AB5F-01C3C588FE5A}", "Microsoft.Pipeline"},
        {"SSIS.Package.3", "Microsoft.Package"},
        {"Microsoft.Package", "Microsoft.Package"},
        {"STOCK:SEQUENCE", "STOCK:SEQUENCE"},
        {"stock:sequence", "STOCK:SEQUENCE"},
        {"STOCK:FOREACHLOOP", "STOCK:FOREACHLOOP"},
        {"Microsoft.SqlServer.Dts.Tasks.ScriptTask.ScriptTask, "
         "Microsoft.SqlServer.ScriptTask, Version=11.0.0.0", "Microsoft.ScriptTask"},
        {"SSIS.ExecutePackageTask.3", "Microsoft.ExecutePackageTask"},
        {"Microsoft.SqlServer.Dts.Tasks.ExpressionTask.ExpressionTask, "
         "Microsoft.SqlServer.ExpressionTask, Version=11.0.0.0",
         "Microsoft.ExpressionTask"},
        {"Microsoft.SqlServer.Dts.Tasks.ExecuteProcess.ExecuteProcess, "
         "Microsoft.SqlServer.ExecProcTask, Version=11.0.0.0",
         "Microsoft.ExecuteProcess"},
        {"Microsoft.ExecuteProcess", "Microsoft.ExecuteProcess"},
        {"Microsoft.SqlServer.Dts.Tasks.FileSystemTask.FileSystemTask, x",
         "Microsoft.FileSystemTask"},
        {"Microsoft.XMLTask", "Microsoft.XMLTask"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *t = pkg_type_normalize(cases[i][0]);
        if (!t || strcmp(t, cases[i][1]))
            fail_msg("'%s' gave '%s', not '%s'", cases[i][0], t ? t : "NULL",
                     cases[i][1]);
        assert_non_null(pkg_type_info(t));
    }
    assert_null(pkg_type_normalize("Contoso.MagicTask, Contoso"));
    assert_null(pkg_type_normalize(""));
    assert_null(pkg_type_normalize(NULL));
    assert_true(pkg_type_info("Microsoft.ExecuteProcess")->runnable);
    assert_true(pkg_type_info("STOCK:SEQUENCE")->container);
    assert_true(pkg_type_info("Microsoft.Pipeline")->runnable);
}

static void
unknown_types_are_kept_as_written(void **state)
{
    struct werr e;
    struct pkg *p = load(HEAD "<DTS:Executables><DTS:Executable DTS:refId=\""
                              "Package\\M\" DTS:ExecutableType=\"Contoso."
                              "MagicTask, Contoso, Version=1.0\"/>"
                              "</DTS:Executables>" TAIL, &e);

    assert_non_null(p);
    assert_string_equal(pkg_root(p)->children[0]->type, "Contoso.MagicTask");
    pkg_free(p);
}

static void
execute_process_payload_and_defaults(void **state)
{
    struct werr e;
    struct pkg *p = load(HEAD "<DTS:Executables>"
                         PROC("Package", "A", "DTS:MaxErrorCount=\"3\"",
                              "Executable=\"/bin/sh\" Arguments=\"-c &quot;"
                              "exit 2&quot;\" WorkingDirectory=\"out\" "
                              "SuccessValue=\"2\" TimeOut=\"5\" "
                              "FailTaskIfReturnCodeIsNotSuccessValue=\"False\"")
                         PROC("Package", "B", "DTS:Disabled=\"True\"", "")
                         "</DTS:Executables>" TAIL, &e);
    const struct pkg_executable *a, *b;

    if (!p)
        fail_msg("%s", e.msg);
    a = pkg_root(p)->children[0];
    b = pkg_root(p)->children[1];
    assert_string_equal(a->path, "\\Package\\A");
    assert_string_equal(a->name, "A");
    assert_int_equal(a->max_error_count, 3);
    assert_int_equal(a->force_execution_result, -1);
    assert_ptr_equal(a->parent, pkg_root(p));
    assert_string_equal(a->process->executable, "/bin/sh");
    assert_string_equal(a->process->arguments, "-c \"exit 2\"");
    assert_string_equal(a->process->working_directory, "out");
    assert_int_equal(a->process->success_value, 2);
    assert_int_equal(a->process->timeout_s, 5);
    assert_false(a->process->fail_on_return_code);
    assert_true(b->disabled);
    assert_int_equal(b->max_error_count, 1);
    assert_true(b->process->fail_on_return_code);
    assert_int_equal(b->process->success_value, 0);
    assert_string_equal(b->process->executable, "");
    assert_int_equal(pkg_executable_count(p), 3);
    assert_ptr_equal(pkg_find(p, "package\\b"), b);
    pkg_free(p);
}

static void
parameters_variables_and_connections(void **state)
{
    struct pkg *p = load_fixture("bartekr-01-params-vars/ssisUnitLearning/"
                                 "01_OnlyParametersAndVariables.dtsx");
    const struct pkg_parameter *ps;
    const struct pkg_executable *root, *seq;
    size_t n;

    if (!p)
        skip();
    ps = pkg_parameters(p, &n);
    assert_int_equal(n, 2);
    assert_string_equal(ps[0].name, "pPackageParameter");
    assert_int_equal(ps[0].data_type, 3);
    assert_string_equal(ps[0].value, "10");
    assert_false(ps[0].encrypted);
    assert_true(ps[1].sensitive);
    assert_true(ps[1].encrypted);
    assert_null(ps[1].value);
    root = pkg_root(p);
    assert_int_equal(root->nvariables, 2);
    assert_string_equal(root->variables[0].ns, "User");
    assert_string_equal(root->variables[0].value, "G10");
    assert_true(root->variables[1].evaluate_as_expression);
    assert_non_null(strstr(root->variables[1].expression, "$Package::"));
    seq = root->children[0];
    assert_string_equal(seq->type, "STOCK:SEQUENCE");
    assert_int_equal(seq->nvariables, 1);
    assert_string_equal(seq->variables[0].value, "42");
    pkg_free(p);

    p = load_fixture("alimardani-import-csv/src/FirstSample/ImportCSV.dtsx");
    const struct pkg_connection *cs = pkg_connections(p, &n);
    assert_int_equal(n, 1);
    assert_string_equal(cs[0].creation_name, "FLATFILE");
    assert_non_null(strstr(cs[0].connection_string, "Products.csv"));
    pkg_free(p);
}

static void
validation_reports_every_problem(void **state)
{
    int n;
    char *out = problems_of(
        HEAD "<DTS:Executables>"
        "<DTS:Executable DTS:refId=\"Package\\X\" DTS:ObjectName=\"X\" "
        "DTS:ExecutableType=\"Microsoft.XMLTask\"/>"
        "<DTS:Executable DTS:refId=\"Package\\S\" DTS:ObjectName=\"S\" "
        "DTS:ExecutableType=\"Microsoft.ScriptTask\"/>"
        "<DTS:Executable DTS:refId=\"Package\\D\" DTS:ObjectName=\"D\" "
        "DTS:ExecutableType=\"SSIS.Pipeline.3\"/>"
        PROC("Package", "Empty", "", "")
        PROC("Package", "Win", "", "Executable=\"cmd.exe\"")
        "<DTS:Executable DTS:refId=\"Package\\Off\" DTS:ObjectName=\"Off\" "
        "DTS:Disabled=\"True\" DTS:ExecutableType=\"Microsoft.ScriptTask\"/>"
        TRUE_TASK("Package", "A") TRUE_TASK("Package", "B")
        "</DTS:Executables><DTS:PrecedenceConstraints>"
        PC("A", "Nope", "")
        PC("A", "B", "DTS:EvalOp=\"1\" DTS:Expression=\"@x\"")
        "</DTS:PrecedenceConstraints>" TAIL, &n);

    /* The data flow task D is runnable: its pipeline is the runtime's to
     * check. */
    assert_int_equal(n, 6);
    assert_non_null(strstr(out, "\\Package\\X: unsupported task type "
                                "'Microsoft.XMLTask'"));
    assert_non_null(strstr(out, "\\Package\\S: script tasks cannot run: they "
                                "need .NET\n"));
    assert_non_null(strstr(out, "\\Package\\Empty: the Execute Process task "
                                "has no executable\n"));
    assert_non_null(strstr(out, "\\Package\\Win: 'cmd.exe' is a Windows "
                                "program"));
    assert_non_null(strstr(out, "\\Package: precedence constraint 'A-Nope' "
                                "names 'Package\\Nope'"));
    assert_non_null(strstr(out, "\\Package: precedence constraint 'A-B' "
                                "(A -> B): bad expression \"@x\" at 1:"));
    assert_non_null(strstr(out, "there is no variable or parameter 'x'"));
    assert_null(strstr(out, "Off"));
    free(out);
}

static void
validation_finds_cycles_and_cousins(void **state)
{
    int n;
    char *out = problems_of(
        HEAD "<DTS:Executables>" TRUE_TASK("Package", "A")
        TRUE_TASK("Package", "B") TRUE_TASK("Package", "C")
        "<DTS:Executable DTS:refId=\"Package\\Seq\" DTS:ObjectName=\"Seq\" "
        "DTS:ExecutableType=\"STOCK:SEQUENCE\"><DTS:Executables>"
        TRUE_TASK("Package\\Seq", "In") "</DTS:Executables></DTS:Executable>"
        "</DTS:Executables><DTS:PrecedenceConstraints>"
        PC("A", "B", "") PC("B", "C", "") PC("C", "B", "DTS:Value=\"1\"")
        PC("A", "Seq\\In", "")
        "</DTS:PrecedenceConstraints>" TAIL, &n);

    assert_int_equal(n, 2);
    assert_non_null(strstr(out, "\\Package: precedence constraints form a "
                                "cycle: 'B' -> 'C' -> 'B'\n"));
    assert_non_null(strstr(out, "connects 'Package\\A' and 'Package\\Seq\\In'"
                                ", which are not in the same container"));
    free(out);
}

static void
a_clean_package_validates(void **state)
{
    int n;
    char *out = problems_of(
        HEAD "<DTS:Executables>" TRUE_TASK("Package", "A")
        "<DTS:Executable DTS:refId=\"Package\\Seq\" DTS:ObjectName=\"Seq\" "
        "DTS:ExecutableType=\"STOCK:SEQUENCE\"><DTS:Executables>"
        TRUE_TASK("Package\\Seq", "In") "</DTS:Executables></DTS:Executable>"
        "</DTS:Executables><DTS:PrecedenceConstraints>" PC("A", "Seq", "")
        "</DTS:PrecedenceConstraints>" TAIL, &n);

    assert_int_equal(n, 0);
    assert_string_equal(out, "");
    free(out);
}

static void
project_params_load(void **state)
{
    const char *dir = fixtures_dir();
    struct werr e;
    struct pkg_project *pr;
    const struct pkg_parameter *ps;
    size_t n;
    char *path;

    pr = pkg_project_load_dir("/nonexistent-weir-dir", &e);
    assert_non_null(pr);
    pkg_project_parameters(pr, &n);
    assert_int_equal(n, 0);
    pkg_project_free(pr);
    assert_null(pkg_project_load_memory("Project.params", "<a/>", 4, &e));
    assert_non_null(strstr(e.msg, "not <SSIS:Parameters>"));
    if (!dir)
        skip();
    path = xasprintf("%s/alimardani-import-csv/src/FirstSample", dir);
    pr = pkg_project_load_dir(path, &e);
    free(path);
    if (!pr)
        fail_msg("%s", e.msg);
    ps = pkg_project_parameters(pr, &n);
    assert_true(n >= 2);
    assert_string_equal(ps[0].name, "SourceDB");
    assert_string_equal(ps[0].value, "AdvWrk17");
    assert_int_equal(ps[0].data_type, 8); /* TypeCode 18 -> VT_BSTR */
    assert_false(ps[0].required);
    pkg_project_free(pr);
}

static void
event_handlers_are_kept_not_validated(void **state)
{
    struct werr e;
    struct wbuf b;
    struct pkg *p = load(
        HEAD "<DTS:Executables>" TRUE_TASK("Package", "A") "</DTS:Executables>"
        "<DTS:EventHandlers><DTS:EventHandler DTS:refId=\"Package.EventHandlers"
        "[OnError]\" DTS:CreationName=\"OnError\" DTS:EventName=\"OnError\">"
        "<DTS:Variables><DTS:Variable DTS:Namespace=\"System\" "
        "DTS:ObjectName=\"Propagate\"><DTS:VariableValue DTS:DataType=\"11\">"
        "-1</DTS:VariableValue></DTS:Variable></DTS:Variables>"
        "<DTS:Executables><DTS:Executable DTS:refId=\"Package.EventHandlers["
        "OnError]\\Mail\" DTS:ObjectName=\"Mail\" DTS:ExecutableType=\""
        "Microsoft.SendMailTask\"/></DTS:Executables></DTS:EventHandler>"
        "</DTS:EventHandlers>" TAIL, &e);
    const struct pkg_executable *r, *h;

    if (!p)
        fail_msg("%s", e.msg);
    r = pkg_root(p);
    assert_int_equal(r->nhandlers, 1);
    assert_string_equal(r->handlers[0].event, "OnError");
    h = r->handlers[0].container;
    assert_true(h->in_handler);
    assert_ptr_equal(h->parent, r);
    assert_int_equal(h->nvariables, 1);
    assert_string_equal(h->variables[0].ns, "System");
    assert_int_equal(h->nchildren, 1);
    assert_true(h->children[0]->in_handler);
    assert_string_equal(h->children[0]->type, "Microsoft.SendMailTask");
    assert_int_equal(r->nchildren, 1);
    wbuf_init(&b, WBUF_NOLIMIT);
    /* Handlers are validated like containers: the Send Mail task is
     * checked, and so reported if this version cannot run it. */
    assert_int_equal(pkg_validate(p, &b),
                     pkg_type_info("Microsoft.SendMailTask")->runnable ? 0
                                                                       : 1);
    assert_true(pkg_type_info("Microsoft.SendMailTask")->runnable ||
                strstr(b.buf, "\\Package.EventHandlers[OnError]\\Mail: "));
    wbuf_release(&b);
    pkg_free(p);
}

static void
windows_paths_are_recognized(void **state)
{
    assert_true(pkg_program_is_windows("cmd.exe"));
    assert_true(pkg_program_is_windows("C:\\Tools\\bcp"));
    assert_true(pkg_program_is_windows("run.BAT"));
    assert_true(pkg_program_is_windows("\\\\host\\share\\x"));
    assert_false(pkg_program_is_windows("/bin/sh"));
    assert_false(pkg_program_is_windows("sort"));
    assert_false(pkg_program_is_windows("scripts/load.sh"));
    assert_true(pkg_program_is_windows("bin\\tool"));
    assert_true(pkg_path_is_windows("D:\\data"));
    assert_true(pkg_path_is_windows("d:data"));
    assert_true(pkg_path_is_windows("\\\\host\\share\\in.csv"));
    assert_true(pkg_path_is_windows("\\data\\in.csv"));
    assert_false(pkg_path_is_windows("/data\\in.csv"));
    assert_false(pkg_path_is_windows("in\\day1.csv"));
    assert_false(pkg_path_is_windows("out/data"));
    assert_false(pkg_path_is_windows(""));
}

/* One rule for every file path a package gives: backslashes are
 * separators, relative paths start at the base, Windows paths are NULL. */
static void
paths_become_linux_paths(void **state)
{
    static const struct {
        const char *path, *base, *want;
    } cases[] = {
        {"/data\\in\\day1.csv", "/pkg", "/data/in/day1.csv"},
        {"/data/in.csv", "/pkg", "/data/in.csv"},
        {"in\\day1.csv", "/pkg", "/pkg/in/day1.csv"},
        {"out/x.txt", "/pkg", "/pkg/out/x.txt"},
        {"out\\x.txt", NULL, "out/x.txt"},
        {"out", "", "out"},
        {"", "/pkg", ""},
        {"C:\\Data\\in.csv", "/pkg", NULL},
        {"\\\\server\\share", "/pkg", NULL},
        {"\\Data", "/pkg", NULL},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = pkg_path_linux(cases[i].path, cases[i].base);
        if (cases[i].want)
            assert_string_equal(got, cases[i].want);
        else
            assert_null(got);
        free(got);
    }
    assert_null(pkg_path_linux(NULL, "/pkg"));
}

static void
missing_file_is_not_found(void **state)
{
    struct werr e;

    assert_null(pkg_load_file("/nonexistent/Nope.dtsx", &e));
    assert_int_equal(e.code, WERR_NOTFOUND);
    pkg_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_shared_fixture_loads),
        cmocka_unit_test(absent_logical_and_means_or),
        cmocka_unit_test(constraint_defaults_and_values),
        cmocka_unit_test(malformed_xml_names_file_and_line),
        cmocka_unit_test(encoding_errors_are_collected_not_printed),
        cmocka_unit_test(doctype_and_entities_are_refused),
        cmocka_unit_test(old_formats_are_refused),
        cmocka_unit_test(structural_errors_name_the_element),
        cmocka_unit_test(nesting_is_limited),
        cmocka_unit_test(type_names_are_normalized),
        cmocka_unit_test(unknown_types_are_kept_as_written),
        cmocka_unit_test(execute_process_payload_and_defaults),
        cmocka_unit_test(parameters_variables_and_connections),
        cmocka_unit_test(validation_reports_every_problem),
        cmocka_unit_test(validation_finds_cycles_and_cousins),
        cmocka_unit_test(a_clean_package_validates),
        cmocka_unit_test(project_params_load),
        cmocka_unit_test(event_handlers_are_kept_not_validated),
        cmocka_unit_test(windows_paths_are_recognized),
        cmocka_unit_test(paths_become_linux_paths),
        cmocka_unit_test(missing_file_is_not_found),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
