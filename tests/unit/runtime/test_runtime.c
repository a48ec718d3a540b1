/* Unit tests for src/runtime: packages run in a temporary folder, in
 * process through rt_exec_run with --events-fd on a file, and as the real
 * `weir exec` binary (exit codes, cancel). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/wbuf.h"
#include "base/wfile.h"
#include "base/wtime.h"
#include "base/xalloc.h"
#include "package/package.h"
#include "runtime/runtime_int.h"

#include "pkgrun.h"

#define PCS(x) "<DTS:PrecedenceConstraints>" x "</DTS:PrecedenceConstraints>"

/* The package (named T) with attributes ATTRS on its element. */
#define PKG_ATTRS(attrs) HEAD_ATTRS("T", attrs)
#define PKG HEAD("T")
/* An Execute Process task under refId PARENT running /bin/sh -c SCRIPT. */
#define SH_IN(parent, name, attrs, script)                                       \
    "<DTS:Executable DTS:refId=\"" parent "\\" name "\" DTS:ObjectName=\""    \
    name "\" DTS:ExecutableType=\"Microsoft.ExecuteProcess\" " attrs ">"      \
    "<DTS:ObjectData><ExecuteProcessData Executable=\"/bin/sh\" Arguments=\"" \
    "-c &quot;" script "&quot;\" /></DTS:ObjectData></DTS:Executable>\n"
#define OK(name) SH_IN("Package", name, "", "exit 0")
#define BAD(name) SH_IN("Package", name, "", "exit 1")
#define SEQ(name, attrs, body)                                                \
    "<DTS:Executable DTS:refId=\"Package\\" name "\" DTS:ObjectName=\"" name  \
    "\" DTS:ExecutableType=\"STOCK:SEQUENCE\" " attrs ">" body                \
    "</DTS:Executable>\n"
/* A constraint between two children of container OWNER. */
#define PC_IN(owner, from, to, attrs)                                         \
    "<DTS:PrecedenceConstraint DTS:ObjectName=\"" from "-" to "\" DTS:From=\"" \
    owner "\\" from "\" DTS:To=\"" owner "\\" to "\" " attrs " />\n"
#define PC(from, to, attrs) PC_IN("Package", from, to, attrs)
#define AND "DTS:LogicalAnd=\"True\""
#define ON_FAILURE "DTS:Value=\"1\" DTS:LogicalAnd=\"True\""
#define ON_COMPLETION "DTS:Value=\"2\" DTS:LogicalAnd=\"True\""

static int
run_xml(struct run *r, const char *xml, const char *const *extra)
{
    run_setup(r);
    return run_pkg(r, xml, extra);
}

static bool
ran(const struct run *r, const char *path)
{
    return find_event(r, "OnPreExecute", path) != NULL;
}

/* ---- pure pieces ---- */

static void
arguments_split_like_windows(void **state)
{
    static const struct {
        const char *in;
        const char *out[5];
    } cases[] = {
        {"a b\t c", {"a", "b", "c"}},
        {"\"a b\" c", {"a b", "c"}},
        {"-c \"echo 'hi there'\"", {"-c", "echo 'hi there'"}},
        {"a\\b c\\\\d", {"a\\b", "c\\\\d"}},
        {"\\\"x\\\"", {"\"x\""}},
        {"\"a\"\"b\"", {"a\"b"}},
        {"a\\\\\"b c\"", {"a\\b c"}},
        {"\"\" x", {"", "x"}},
        {"  ", {NULL}},
        {"'a b'", {"'a", "b'"}},
        {"\"unterminated arg", {"unterminated arg"}},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char **argv = rt_args_split("prog", cases[i].in);
        size_t n = 0;
        assert_string_equal(argv[0], "prog");
        while (cases[i].out[n]) {
            if (!argv[n + 1] || strcmp(argv[n + 1], cases[i].out[n]))
                fail_msg("case %zu: argument %zu is '%s', not '%s'", i, n,
                         argv[n + 1] ? argv[n + 1] : "(none)",
                         cases[i].out[n]);
            n++;
        }
        assert_null(argv[n + 1]);
        rt_args_free(argv);
    }
}

static void
utf8_is_cleaned(void **state)
{
    struct wbuf b;

    wbuf_init(&b, WBUF_NOLIMIT);
    rt_utf8_clean("ok \xc3\xa9 \xff x\0y \xe2\x82", 14, &b);
    assert_string_equal(b.buf, "ok \xc3\xa9 \xef\xbf\xbd x\xef\xbf\xbdy "
                               "\xef\xbf\xbd\xef\xbf\xbd");
    wbuf_release(&b);
}

static void
every_runnable_type_has_an_implementation(void **state)
{
    static const char *const types[] = {
        "Microsoft.Package", "STOCK:SEQUENCE", "Microsoft.ExecuteProcess",
        "STOCK:FORLOOP", "STOCK:FOREACHLOOP", "Microsoft.Pipeline",
        "Microsoft.ScriptTask", "Microsoft.ExecuteSQLTask",
        "Microsoft.ExecutePackageTask", "Microsoft.ExpressionTask",
        "Microsoft.FileSystemTask", "Microsoft.SendMailTask",
        "Microsoft.XMLTask",
    };

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        const struct pkg_type_info *ti = pkg_type_info(types[i]);
        assert_non_null(ti);
        if (ti->runnable && !rt_ops_for(types[i]))
            fail_msg("'%s' is runnable but has no implementation", types[i]);
        if (!ti->runnable && rt_ops_for(types[i]))
            fail_msg("'%s' has an implementation but is not runnable",
                     types[i]);
    }
}

/* ---- control flow ---- */

static void
success_failure_and_completion(void **state)
{
    struct run r;

    run_xml(&r, PKG EXES(OK("A") BAD("B") OK("OnA") OK("FailA")
                          OK("DoneA") OK("OnB") OK("FailB") OK("DoneB"))
                PCS(PC("A", "OnA", AND) PC("A", "FailA", ON_FAILURE)
                    PC("A", "DoneA", ON_COMPLETION) PC("B", "OnB", AND)
                    PC("B", "FailB", ON_FAILURE)
                    PC("B", "DoneB", ON_COMPLETION)) TAIL,
            NULL);
    assert_true(ran(&r, "\\Package\\OnA"));
    assert_false(ran(&r, "\\Package\\FailA"));
    assert_true(ran(&r, "\\Package\\DoneA"));
    assert_false(ran(&r, "\\Package\\OnB"));
    assert_true(ran(&r, "\\Package\\FailB"));
    assert_true(ran(&r, "\\Package\\DoneB"));
    assert_int_equal(result_of(&r, "\\Package\\B"), 1);
    /* B's error reaches the package's MaximumErrorCount of 1. */
    assert_int_equal(result_of(&r, "\\Package"), 1);
    assert_int_equal(r.rc, 1);
    run_free(&r);
}

static void
and_versus_or(void **state)
{
    struct run r;

    /* Into Both (AND): A failed, so it never runs.  Into Either (absent
     * LogicalAnd = OR): B succeeded, so it runs. */
    run_xml(&r, PKG_ATTRS("DTS:MaxErrorCount=\"0\"")
                EXES(BAD("A") OK("B") OK("Both") OK("Either"))
                PCS(PC("A", "Both", AND) PC("B", "Both", AND)
                    PC("A", "Either", "") PC("B", "Either", "")) TAIL,
            NULL);
    assert_false(ran(&r, "\\Package\\Both"));
    assert_true(ran(&r, "\\Package\\Either"));
    assert_int_equal(r.rc, 0); /* MaxErrorCount 0: no limit */
    run_free(&r);
}

/* EvalOp 1 (Expression), 3 (ExpressionAndConstraint) and 4
 * (ExpressionOrConstraint), evaluated when the source finishes; a NULL
 * result is false with a warning. */
#define EXPR_PC(from, to, op, value, expr)                                    \
    PC(from, to, AND " DTS:EvalOp=\"" op "\" DTS:Value=\"" value "\" "        \
       "DTS:Expression=\"" expr "\"")

static void
constraint_expressions(void **state)
{
    struct run r;

    run_xml(&r, PKG_ATTRS("DTS:MaxErrorCount=\"0\"")
                "<DTS:Variables><DTS:Variable DTS:Namespace=\"User\" "
                "DTS:ObjectName=\"N\"><DTS:VariableValue DTS:DataType=\"3\">"
                "5</DTS:VariableValue></DTS:Variable></DTS:Variables>"
                EXES(OK("A") BAD("B") OK("E1") OK("E2") OK("E3") OK("E4")
                     OK("E5") OK("E6") OK("E7"))
                PCS(EXPR_PC("A", "E1", "1", "0", "@N == 5")
                    EXPR_PC("A", "E2", "1", "0", "@[User::N] &gt; 5")
                    EXPR_PC("A", "E3", "3", "0", "@N == 5")
                    EXPR_PC("B", "E4", "3", "0", "@N == 5")
                    EXPR_PC("B", "E5", "4", "0", "@N == 5")
                    EXPR_PC("A", "E6", "4", "1", "@N == 0")
                    EXPR_PC("A", "E7", "1", "0", "NULL(DT_BOOL)")) TAIL,
            NULL);
    assert_true(ran(&r, "\\Package\\E1"));
    assert_false(ran(&r, "\\Package\\E2"));
    assert_true(ran(&r, "\\Package\\E3"));
    assert_false(ran(&r, "\\Package\\E4"));
    assert_true(ran(&r, "\\Package\\E5"));
    assert_false(ran(&r, "\\Package\\E6"));
    assert_false(ran(&r, "\\Package\\E7"));
    assert_true(message_has(&r, "OnWarning", "is NULL, which counts as false"));
    assert_int_equal(r.rc, 0);
    run_free(&r);

    /* A bad expression or a non-Boolean one fails validation, naming the
     * constraint and the position. */
    run_xml(&r, PKG EXES(OK("A") OK("B"))
                PCS(EXPR_PC("A", "B", "1", "0", "@N + ")) TAIL, NULL);
    assert_int_not_equal(r.rc, 0);
    assert_false(ran(&r, "\\Package\\A"));
    assert_true(message_has(&r, "OnError", "precedence constraint 'A-B'"));
    assert_true(message_has(&r, "OnError", "at 1:"));
    run_free(&r);
    run_xml(&r, PKG EXES(OK("A") OK("B"))
                PCS(EXPR_PC("A", "B", "1", "0", "1 + 1")) TAIL, NULL);
    assert_int_not_equal(r.rc, 0);
    assert_true(message_has(&r, "OnError", "not Boolean"));
    run_free(&r);
    /* Project parameters and System variables are known to the runtime. */
    run_xml(&r, PKG EXES(OK("A") OK("B"))
                PCS(EXPR_PC("A", "B", "1", "0",
                            "@[System::PackageName] == &quot;T&quot;")) TAIL,
            NULL);
    assert_true(ran(&r, "\\Package\\B"));
    run_free(&r);
    run_xml(&r, PKG EXES(OK("A") OK("B"))
                PCS(EXPR_PC("A", "B", "1", "0", "@[System::Nope] == 1")) TAIL,
            NULL);
    assert_int_not_equal(r.rc, 0);
    assert_true(message_has(&r, "OnError", "System::Nope"));
    run_free(&r);
}

/* An Expression Task under the package assigning EXPR (XML-escaped). */
#define ASSIGN(name, expr) EXPR_TASK("Package", name, expr)
#define INT_VAR(name, attrs, value)                                           \
    "<DTS:Variable DTS:Namespace=\"User\" DTS:ObjectName=\"" name "\" "       \
    attrs "><DTS:VariableValue DTS:DataType=\"3\">" value                    \
    "</DTS:VariableValue></DTS:Variable>"

static void
expression_tasks_assign(void **state)
{
    struct run r;

    run_xml(&r, PKG "<DTS:Variables>" INT_VAR("Total", "", "1")
                "</DTS:Variables>"
                EXES(ASSIGN("Add", "@[User::Total] = @[User::Total] + 40")
                     ASSIGN("Again", "@[User::Total] := @Total + 1")
                     OK("Check"))
                PCS(PC("Add", "Again", AND)
                    EXPR_PC("Again", "Check", "1", "0", "@Total == 42")) TAIL,
            NULL);
    assert_int_equal(r.rc, 0);
    assert_true(ran(&r, "\\Package\\Check"));
    run_free(&r);

    /* A read-only target and a non-assignment fail validation, named. */
    run_xml(&r, PKG "<DTS:Variables>"
                INT_VAR("Ro", "DTS:ReadOnly=\"True\"", "1") "</DTS:Variables>"
                EXES(ASSIGN("Set", "@[User::Ro] = 2")
                     ASSIGN("NoAssign", "1 + 1")) TAIL, NULL);
    assert_int_not_equal(r.rc, 0);
    assert_false(ran(&r, "\\Package\\Set"));
    assert_true(message_has(&r, "OnError", "Ro"));
    assert_true(message_has(&r, "OnError", "read-only"));
    assert_true(message_has(&r, "OnError", "does not assign a variable"));
    run_free(&r);

    /* An error while evaluating fails the task (code 30). */
    run_xml(&r, PKG "<DTS:Variables>" INT_VAR("Z", "", "0")
                "</DTS:Variables>" EXES(ASSIGN("Div", "@Z = 1 / @Z")) TAIL,
            NULL);
    assert_int_equal(r.rc, 1);
    assert_int_equal(result_of(&r, "\\Package\\Div"), 1);
    assert_true(message_has(&r, "OnError", "@Z = 1 / @Z"));
    run_free(&r);
}

/* A For Loop container around BODY (whose children use the path
 * Package\Loop). */
#define FORLOOP(init, eval, assign, body)                                     \
    "<DTS:Executable DTS:refId=\"Package\\Loop\" DTS:ObjectName=\"Loop\" "    \
    "DTS:ExecutableType=\"STOCK:FORLOOP\" DTS:InitExpression=\"" init "\" "   \
    "DTS:EvalExpression=\"" eval "\" DTS:AssignExpression=\"" assign "\">"    \
    EXES(body) "</DTS:Executable>\n"

static void
for_loop_counts_to_n(void **state)
{
    struct run r;
    char *path;
    struct wbuf b;
    struct werr e;

    run_xml(&r, PKG "<DTS:Variables>" INT_VAR("I", "", "99")
                INT_VAR("N", "", "5") "</DTS:Variables>"
                EXES(FORLOOP("@I = 0", "@I &lt; @[User::N]", "@I = @I + 1",
                             SH_IN("Package\\Loop", "Tick", "",
                                "echo x &gt;&gt; ticks"))
                     OK("Done"))
                PCS(EXPR_PC("Loop", "Done", "3", "0", "@I == @N")) TAIL,
            NULL);
    assert_int_equal(r.rc, 0);
    assert_true(ran(&r, "\\Package\\Done"));
    path = xasprintf("%s/ticks", r.dir);
    wbuf_init(&b, WBUF_NOLIMIT);
    assert_int_equal(wfile_read(path, &b, &e), 0);
    assert_string_equal(b.buf, "x\nx\nx\nx\nx\n");
    wbuf_release(&b);
    unlink(path);
    free(path);
    run_free(&r);

    /* A false condition from the start runs nothing; a failing child
     * stops the loop and fails it, as a Sequence. */
    run_xml(&r, PKG "<DTS:Variables>" INT_VAR("I", "", "0")
                "</DTS:Variables>"
                EXES(FORLOOP("", "@I &gt; 0", "", BAD("Never"))) TAIL, NULL);
    assert_int_equal(r.rc, 0);
    assert_false(ran(&r, "\\Package\\Loop\\Never"));
    run_free(&r);
    run_xml(&r, PKG "<DTS:Variables>" INT_VAR("I", "", "0")
                "</DTS:Variables>"
                EXES(FORLOOP("@I = 0", "@I &lt; 3", "@I = @I + 1",
                             SH_IN("Package\\Loop", "Bad", "",
                                "echo y &gt;&gt; fails; exit 1"))) TAIL,
            NULL);
    assert_int_equal(r.rc, 1);
    assert_int_equal(result_of(&r, "\\Package\\Loop"), 1);
    path = xasprintf("%s/fails", r.dir);
    wbuf_init(&b, WBUF_NOLIMIT);
    assert_int_equal(wfile_read(path, &b, &e), 0);
    assert_string_equal(b.buf, "y\n");
    wbuf_release(&b);
    unlink(path);
    free(path);
    run_free(&r);

    /* The condition must be Boolean, and assignments name variables that
     * exist. */
    run_xml(&r, PKG "<DTS:Variables>" INT_VAR("I", "", "0")
                "</DTS:Variables>"
                EXES(FORLOOP("@Nope = 1", "@I + 1", "", OK("T"))) TAIL, NULL);
    assert_int_not_equal(r.rc, 0);
    assert_true(message_has(&r, "OnError", "it must be Boolean"));
    assert_true(message_has(&r, "OnError", "InitExpression \"@Nope = 1\""));
    run_free(&r);
}

/* An Execute Process task running /bin/sh with property expressions
 * PROPS (DTS:PropertyExpression elements). */
#define SH_PROPS(name, props, script)                                         \
    "<DTS:Executable DTS:refId=\"Package\\" name "\" DTS:ObjectName=\""       \
    name "\" DTS:ExecutableType=\"Microsoft.ExecuteProcess\">" props          \
    "<DTS:ObjectData><ExecuteProcessData Executable=\"/bin/sh\" Arguments=\"" \
    "-c &quot;" script "&quot;\" /></DTS:ObjectData></DTS:Executable>\n"
#define PROP(name, expr)                                                      \
    "<DTS:PropertyExpression DTS:Name=\"" name "\">" expr                     \
    "</DTS:PropertyExpression>"

static void
property_expressions(void **state)
{
    struct run r;
    char *path;
    struct wbuf b;
    struct werr e;

    /* Arguments come from an expression over a variable, evaluated
     * before each execution (the loop changes the variable); Disable
     * skips a task; an unknown property is only a warning. */
    run_xml(&r, PKG "<DTS:Variables>" INT_VAR("I", "", "0")
                "</DTS:Variables>"
                EXES(FORLOOP("@I = 1", "@I &lt;= 3", "@I = @I + 1",
                             "<DTS:Executable DTS:refId=\"Package\\Loop\\Echo\""
                             " DTS:ObjectName=\"Echo\" DTS:ExecutableType="
                             "\"Microsoft.ExecuteProcess\">"
                             PROP("Arguments", "&quot;-c \\&quot;echo n"
                                  "&quot; + (DT_WSTR, 5) @I + &quot; "
                                  "&gt;&gt; out\\&quot;&quot;")
                             PROP("Description", "&quot;x&quot;")
                             "<DTS:ObjectData><ExecuteProcessData Executable"
                             "=\"/bin/sh\" Arguments=\"-c false\" />"
                             "</DTS:ObjectData></DTS:Executable>")
                     SH_PROPS("Off", PROP("Disable", "@I &gt; 3"),
                              "touch off"))
                PCS(PC("Loop", "Off", AND)) TAIL,
            NULL);
    assert_int_equal(r.rc, 0);
    assert_true(message_has(&r, "OnWarning",
                            "property expression on Description is ignored"));
    path = xasprintf("%s/out", r.dir);
    wbuf_init(&b, WBUF_NOLIMIT);
    assert_int_equal(wfile_read(path, &b, &e), 0);
    assert_string_equal(b.buf, "n1\nn2\nn3\n");
    wbuf_release(&b);
    free(path);
    path = xasprintf("%s/off", r.dir);
    assert_int_not_equal(access(path, F_OK), 0);
    assert_false(ran(&r, "\\Package\\Off"));
    free(path);
    run_free(&r);

    /* A bad expression is a validation error naming the property. */
    run_xml(&r, PKG EXES(SH_PROPS("T", PROP("Arguments", "@[User::Nope]"),
                                   "exit 0")) TAIL, NULL);
    assert_int_not_equal(r.rc, 0);
    assert_false(ran(&r, "\\Package\\T"));
    assert_true(message_has(&r, "OnError",
                            "the property expression on Arguments"));
    assert_true(message_has(&r, "OnError", "User::Nope"));
    run_free(&r);

    /* An error while evaluating fails the task before it starts. */
    run_xml(&r, PKG "<DTS:Variables>" INT_VAR("Z", "", "0")
                "</DTS:Variables>"
                EXES(SH_PROPS("T", PROP("WorkingDirectory",
                                        "(DT_WSTR, 5) (1 / @Z)"),
                              "touch ran")) TAIL, NULL);
    assert_int_equal(r.rc, 1);
    assert_int_equal(result_of(&r, "\\Package\\T"), 1);
    assert_true(message_has(&r, "OnError", "WorkingDirectory"));
    run_free(&r);
}

static void
disabled_counts_as_success(void **state)
{
    struct run r;

    run_xml(&r, PKG EXES(SH_IN("Package", "Off", "DTS:Disabled=\"True\"",
                             "touch off") OK("Next") OK("OnFail"))
                PCS(PC("Off", "Next", AND) PC("Off", "OnFail", ON_FAILURE))
                TAIL,
            NULL);
    assert_false(ran(&r, "\\Package\\Off"));
    assert_true(ran(&r, "\\Package\\Next"));
    assert_false(ran(&r, "\\Package\\OnFail"));
    assert_int_equal(r.rc, 0);
    char *off = xasprintf("%s/off", r.dir);
    assert_int_equal(access(off, F_OK), -1);
    free(off);
    run_free(&r);
}

static void
dead_branches_never_run(void **state)
{
    struct run r;

    run_xml(&r, PKG_ATTRS("DTS:MaxErrorCount=\"5\"")
                EXES(BAD("A") OK("B") OK("C") OK("D") OK("Free"))
                PCS(PC("A", "B", AND) PC("B", "C", AND)
                    PC("B", "D", ON_COMPLETION)) TAIL,
            NULL);
    assert_true(ran(&r, "\\Package\\A"));
    assert_false(ran(&r, "\\Package\\B"));
    assert_false(ran(&r, "\\Package\\C"));
    assert_false(ran(&r, "\\Package\\D"));
    assert_true(ran(&r, "\\Package\\Free"));
    assert_int_equal(r.rc, 0); /* one error, five allowed */
    run_free(&r);
}

static void
order_is_topological_and_deterministic(void **state)
{
    struct run r;
    const char *expect[] = {"\\Package", "\\Package\\Last", "\\Package\\Mid",
                            "\\Package\\First"};
    size_t i, k = 0;
    json_t *o;

    /* Document order is Last, Mid, First; the constraints force
     * First -> Mid -> Last. */
    run_xml(&r, PKG EXES(OK("Last") OK("Mid") OK("First"))
                PCS(PC("Mid", "Last", AND) PC("First", "Mid", AND)) TAIL,
            NULL);
    json_array_foreach(r.events, i, o) {
        if (strcmp(json_string_value(json_object_get(o, "event")),
                   "OnPreExecute"))
            continue;
        assert_true(k < 4);
        const char *p = json_string_value(json_object_get(o, "path"));
        if (k == 0)
            assert_string_equal(p, expect[0]);
        else
            assert_string_equal(p, expect[4 - k]);
        k++;
    }
    assert_int_equal(k, 4);
    run_free(&r);
}

static void
sequences_and_fail_parent(void **state)
{
    struct run r;

    run_xml(&r, PKG_ATTRS("DTS:MaxErrorCount=\"9\"") EXES(
                SEQ("S1", "", EXES(SH_IN("Package\\S1", "X", "", "echo one > f1")
                                   SH_IN("Package\\S1", "Y", "", "cat f1"))
                    PCS(PC_IN("Package\\S1", "X", "Y", AND)))
                SEQ("S2", "DTS:MaxErrorCount=\"9\"",
                    EXES(SH_IN("Package\\S2", "Bad",
                            "DTS:FailParentOnFailure=\"True\"", "exit 3")
                         SH_IN("Package\\S2", "After", "", "exit 0"))
                    /* Unconnected, After would run beside Bad. */
                    PCS(PC_IN("Package\\S2", "Bad", "After", ON_COMPLETION)))
                OK("WhenS2Fails"))
                PCS(PC("S1", "S2", AND) PC("S2", "WhenS2Fails", ON_FAILURE))
                TAIL,
            NULL);
    assert_int_equal(result_of(&r, "\\Package\\S1\\Y"), 0);
    assert_true(message_has(&r, "OnInformation", "one"));
    assert_int_equal(result_of(&r, "\\Package\\S2\\Bad"), 1);
    assert_false(ran(&r, "\\Package\\S2\\After"));
    assert_int_equal(result_of(&r, "\\Package\\S2"), 1);
    assert_non_null(find_event(&r, "OnTaskFailed", "\\Package\\S2"));
    assert_true(ran(&r, "\\Package\\WhenS2Fails"));
    assert_int_equal(r.rc, 0);
    run_free(&r);
}

static void
fail_package_on_failure_stops_everything(void **state)
{
    struct run r;

    run_xml(&r, PKG_ATTRS("DTS:MaxErrorCount=\"9\"")
                EXES(SH_IN("Package", "A", "DTS:FailPackageOnFailure=\"True\"",
                        "exit 1") OK("Cleanup"))
                PCS(PC("A", "Cleanup", ON_COMPLETION)) TAIL,
            NULL);
    assert_false(ran(&r, "\\Package\\Cleanup"));
    assert_int_equal(result_of(&r, "\\Package"), 1);
    assert_int_equal(r.rc, 1);
    run_free(&r);
}

static void
force_execution_result(void **state)
{
    struct run r;

    run_xml(&r, PKG EXES(SH_IN("Package", "A", "DTS:ForceExecutionResult=\"1\"",
                             "exit 0") OK("OnFail") OK("OnSuccess"))
                PCS(PC("A", "OnFail", ON_FAILURE) PC("A", "OnSuccess", AND))
                TAIL,
            NULL);
    assert_int_equal(result_of(&r, "\\Package\\A"), 1);
    assert_true(ran(&r, "\\Package\\OnFail"));
    assert_false(ran(&r, "\\Package\\OnSuccess"));
    assert_int_equal(r.rc, 0); /* a forced failure raises no error */
    run_free(&r);
}

/* An OnError handler runs for an error only; one for an event weir never
 * raises is announced at validation. */
static void
event_handlers_run_for_their_event(void **state)
{
    struct run r;

    run_xml(&r, PKG EXES(OK("A"))
                "<DTS:EventHandlers><DTS:EventHandler DTS:refId=\"Package."
                "EventHandlers[OnError]\" DTS:EventName=\"OnError\">"
                "<DTS:Executables>" SH_IN("Package.EventHandlers[OnError]", "Log",
                                       "", "touch handled")
                "</DTS:Executables></DTS:EventHandler>"
                "<DTS:EventHandler DTS:refId=\"Package."
                "EventHandlers[OnBogus]\" DTS:EventName=\"OnBogus\">"
                "</DTS:EventHandler></DTS:EventHandlers>"
                TAIL, NULL);
    assert_int_equal(r.rc, 0);
    assert_true(message_has(&r, "OnWarning", "the OnBogus event handler "
                                             "never runs"));
    assert_false(ran(&r, "\\Package.EventHandlers[OnError]\\Log"));
    run_free(&r);
}

/* ---- events ---- */

static void
events_are_ordered_json_lines(void **state)
{
    struct run r;
    size_t n;
    json_t *first, *last, *o;
    size_t i;

    run_xml(&r, PKG EXES(BAD("A")) TAIL, NULL);
    n = json_array_size(r.events);
    assert_true(n >= 7);
    first = json_array_get(r.events, 0);
    last = json_array_get(r.events, n - 1);
    assert_string_equal(json_string_value(json_object_get(first, "event")),
                        "OnPreValidate");
    assert_int_equal(json_integer_value(json_object_get(first, "type")), 10);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(r.events, 1), "event")),
                        "OnPostValidate");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(r.events, 2), "event")),
                        "OnPreExecute");
    assert_string_equal(json_string_value(json_object_get(last, "event")),
                        "OnPostExecute");
    assert_string_equal(json_string_value(json_object_get(last, "path")),
                        "\\Package");
    assert_string_equal(json_string_value(json_object_get(last, "source")),
                        "T");
    int64_t prev = 0;
    int seen = 0; /* 1 error, 2 task failed, 3 post execute of A */
    json_array_foreach(r.events, i, o) {
        const char *ev = json_string_value(json_object_get(o, "event"));
        int64_t t = json_integer_value(json_object_get(o, "time_ms"));
        assert_true(t >= prev);
        prev = t;
        if (!strcmp(ev, "OnPostExecute")) {
            assert_true(json_is_integer(json_object_get(o, "result")));
            assert_true(json_integer_value(json_object_get(o, "start_ms")) >
                        0);
            assert_true(json_integer_value(json_object_get(o, "start_ms")) <=
                        t);
        }
        if (!strcmp(ev, "OnError")) {
            assert_int_equal(json_integer_value(json_object_get(o, "type")),
                             120);
            assert_int_equal(json_integer_value(json_object_get(o, "code")),
                             RT_E_PROCESS_EXIT);
            assert_int_equal(seen++, 0);
        } else if (!strcmp(ev, "OnTaskFailed")) {
            assert_int_equal(seen++, 1);
        } else if (!strcmp(ev, "OnPostExecute") && seen == 2) {
            assert_string_equal(json_string_value(json_object_get(o, "path")),
                                "\\Package\\A");
            assert_int_equal(json_integer_value(json_object_get(o, "result")),
                             1);
            seen++;
        }
    }
    assert_int_equal(seen, 3);
    run_free(&r);
}

static void
output_becomes_bounded_events(void **state)
{
    struct run r;
    size_t i, info = 0;
    json_t *o;

    run_xml(&r, PKG EXES(SH_IN("Package", "Chatty", "",
                             "echo to-stderr &gt;&amp;2; sleep 0.2; "
                             "head -c 5000 /dev/zero | tr '\\0' x; echo; "
                             "i=0; while [ $i -lt 1100 ]; do echo line $i; "
                             "i=$((i+1)); done")) TAIL,
            NULL);
    assert_int_equal(r.rc, 0);
    assert_true(message_has(&r, "OnWarning", "to-stderr"));
    assert_true(message_has(&r, "OnInformation", "[line cut at 4 KiB]"));
    assert_true(message_has(&r, "OnWarning", "output truncated"));
    assert_true(message_has(&r, "OnInformation", "line 997"));
    assert_false(message_has(&r, "OnInformation", "line 998"));
    json_array_foreach(r.events, i, o) {
        if (!strcmp(json_string_value(json_object_get(o, "event")),
                    "OnInformation")) {
            info++;
            assert_true(strlen(json_string_value(
                            json_object_get(o, "message"))) < 4200);
        }
    }
    /* 999 output lines (1,000 with the stderr one) and the exit code. */
    assert_int_equal(info, 1000);
    run_free(&r);
}

/* ---- Execute Process ---- */

static void
working_directory_is_relative_to_the_package(void **state)
{
    struct run r;
    char *sub, *expect, real[PATH_MAX];

    run_setup(&r);
    sub = xasprintf("%s/sub", r.dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    write_pkg(&r, PKG EXES(
        "<DTS:Executable DTS:refId=\"Package\\In sub\" DTS:ObjectName=\"In "
        "sub\" DTS:ExecutableType=\"Microsoft.ExecuteProcess\">"
        "<DTS:ObjectData><ExecuteProcessData Executable=\"pwd\" "
        "WorkingDirectory=\"sub\"/></DTS:ObjectData></DTS:Executable>"
        "<DTS:Executable DTS:refId=\"Package\\Default\" DTS:ObjectName=\""
        "Default\" DTS:ExecutableType=\"Microsoft.ExecuteProcess\">"
        "<DTS:ObjectData><ExecuteProcessData Executable=\"/bin/pwd\" />"
        "</DTS:ObjectData></DTS:Executable>") TAIL);
    assert_int_equal(exec_file(&r, r.package, NULL), 0);
    assert_non_null(realpath(sub, real));
    assert_true(message_has(&r, "OnInformation", real));
    expect = xasprintf("%s", real);
    expect[strlen(expect) - 4] = '\0';
    json_t *o = find_event(&r, "OnInformation", "\\Package\\Default");
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "message")),
                        expect);
    free(expect);
    free(sub);
    run_free(&r);
}

static void
success_value_and_exit_code_check(void **state)
{
    struct run r;

    run_xml(&r, PKG EXES(
        "<DTS:Executable DTS:refId=\"Package\\Three\" DTS:ObjectName=\"Three"
        "\" DTS:ExecutableType=\"Microsoft.ExecuteProcess\"><DTS:ObjectData>"
        "<ExecuteProcessData Executable=\"/bin/sh\" Arguments=\"-c &quot;exit"
        " 3&quot;\" SuccessValue=\"3\"/></DTS:ObjectData></DTS:Executable>"
        "<DTS:Executable DTS:refId=\"Package\\Ignored\" DTS:ObjectName=\""
        "Ignored\" DTS:ExecutableType=\"Microsoft.ExecuteProcess\">"
        "<DTS:ObjectData><ExecuteProcessData Executable=\"false\" "
        "FailTaskIfReturnCodeIsNotSuccessValue=\"False\"/></DTS:ObjectData>"
        "</DTS:Executable>") TAIL, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(result_of(&r, "\\Package\\Three"), 0);
    assert_int_equal(result_of(&r, "\\Package\\Ignored"), 0);
    assert_true(message_has(&r, "OnInformation", "exited with code 3"));
    run_free(&r);
}

static void
timeout_stops_the_process(void **state)
{
    struct run r;
    int64_t t0 = wtime_mono_ns();

    run_xml(&r, PKG EXES(
        "<DTS:Executable DTS:refId=\"Package\\Slow\" DTS:ObjectName=\"Slow\" "
        "DTS:ExecutableType=\"Microsoft.ExecuteProcess\"><DTS:ObjectData>"
        "<ExecuteProcessData Executable=\"sleep\" Arguments=\"20\" "
        "TimeOut=\"1\"/></DTS:ObjectData></DTS:Executable>") TAIL, NULL);
    assert_true(wtime_mono_ns() - t0 < 5 * INT64_C(1000000000));
    assert_int_equal(r.rc, 1);
    assert_int_equal(result_of(&r, "\\Package\\Slow"), 1);
    json_t *e = find_event(&r, "OnError", "\\Package\\Slow");
    assert_non_null(e);
    assert_int_equal(json_integer_value(json_object_get(e, "code")),
                     RT_E_PROCESS_TIMEOUT);
    run_free(&r);
}

static void
bad_programs_fail_clearly(void **state)
{
    struct run r;

    run_xml(&r, PKG EXES(
        "<DTS:Executable DTS:refId=\"Package\\Win\" DTS:ObjectName=\"Win\" "
        "DTS:ExecutableType=\"Microsoft.ExecuteProcess\"><DTS:ObjectData>"
        "<ExecuteProcessData Executable=\"cmd.exe\" Arguments=\"/c dir\"/>"
        "</DTS:ObjectData></DTS:Executable>"
        "<DTS:Executable DTS:refId=\"Package\\Typo\" DTS:ObjectName=\"Typo\" "
        "DTS:ExecutableType=\"Microsoft.ExecuteProcess\"><DTS:ObjectData>"
        "<ExecuteProcessData Executable=\"no-such-program-weir\"/>"
        "</DTS:ObjectData></DTS:Executable>") TAIL, NULL);
    assert_int_equal(r.rc, 1);
    assert_false(ran(&r, "\\Package"));
    assert_true(message_has(&r, "OnError", "'cmd.exe' is a Windows program"));
    assert_true(message_has(&r, "OnError", "program 'no-such-program-weir' "
                                           "is not found in PATH"));
    assert_non_null(find_event(&r, "OnError", "\\Package\\Typo"));
    run_free(&r);

    /* With DelayValidation the failure comes when the task runs. */
    run_xml(&r, PKG EXES(
        "<DTS:Executable DTS:refId=\"Package\\Typo\" DTS:ObjectName=\"Typo\" "
        "DTS:DelayValidation=\"True\" "
        "DTS:ExecutableType=\"Microsoft.ExecuteProcess\"><DTS:ObjectData>"
        "<ExecuteProcessData Executable=\"no-such-program-weir\"/>"
        "</DTS:ObjectData></DTS:Executable>") TAIL, NULL);
    assert_int_equal(r.rc, 1);
    json_t *e = find_event(&r, "OnError", "\\Package\\Typo");
    assert_non_null(e);
    assert_int_equal(json_integer_value(json_object_get(e, "code")),
                     RT_E_VALIDATION);
    assert_true(message_has(&r, "OnError", "program 'no-such-program-weir' "
                                           "is not found in PATH"));
    assert_non_null(find_event(&r, "OnPreValidate", "\\Package\\Typo"));
    assert_int_equal(result_of(&r, "\\Package\\Typo"), 1);
    run_free(&r);
}

/* ---- parameters ---- */

#define TWO_PARAMS                                                                \
    "<DTS:PackageParameters>"                                                 \
    "<DTS:PackageParameter DTS:ObjectName=\"Rows\" DTS:DataType=\"3\">"       \
    "<DTS:Property DTS:Name=\"ParameterValue\">5</DTS:Property>"              \
    "</DTS:PackageParameter>"                                                 \
    "<DTS:PackageParameter DTS:ObjectName=\"Key\" DTS:DataType=\"8\" "        \
    "DTS:Required=\"True\" DTS:Sensitive=\"True\">"                           \
    "<DTS:Property DTS:Name=\"ParameterValue\">"                              \
    "<DTS:Property DTS:Name=\"ParameterValue\" Encrypted=\"1\">AQAA"          \
    "</DTS:Property></DTS:Property></DTS:PackageParameter>"                   \
    "</DTS:PackageParameters>"

static void
parameters_are_checked(void **state)
{
    struct run r;
    const char *unknown[] = {"--param", "Nope=1", NULL};
    const char *bad_int[] = {"--param", "Key=k", "--param", "Rows=many", NULL};
    const char *bad_key[] = {"--param", "Key=k", "--param",
                             "$Package::Rows=99999999999", NULL};
    const char *good[] = {"--param", "$Package::Key=secret", "--param",
                          "rows=7", NULL};
    const char *pkg = PKG TWO_PARAMS EXES(OK("A")) TAIL;

    run_xml(&r, pkg, unknown);
    assert_int_equal(r.rc, 6);
    assert_true(message_has(&r, "OnError", "no parameter 'Nope'"));
    run_free(&r);
    run_xml(&r, pkg, bad_int);
    assert_int_equal(r.rc, 6);
    assert_true(message_has(&r, "OnError", "'Rows' is Int32: 'many'"));
    run_free(&r);
    run_xml(&r, pkg, bad_key);
    assert_int_equal(r.rc, 6);
    run_free(&r);
    run_xml(&r, pkg, NULL);
    assert_int_equal(r.rc, 1);
    assert_true(message_has(&r, "OnError", "package parameter 'Key' is "
                                           "required"));
    assert_false(ran(&r, "\\Package"));
    run_free(&r);
    run_xml(&r, pkg, good);
    assert_int_equal(r.rc, 0);
    assert_false(message_has(&r, "OnError", "secret"));
    run_free(&r);
}

static void
parameters_from_a_file(void **state)
{
    struct run r;
    struct werr e;
    char *file;
    const char *args[] = {"--params-file", NULL, NULL};

    run_setup(&r);
    write_pkg(&r, PKG TWO_PARAMS EXES(OK("A")) TAIL);
    file = xasprintf("%s/params.json", r.dir);
    args[1] = file;
    assert_int_equal(wfile_write(file, "{\"Key\": \"k\", \"Rows\": 12}", 24,
                                 0600, 0, &e), 0);
    assert_int_equal(exec_file(&r, r.package, args), 0);
    assert_int_equal(wfile_write(file, "{\"Key\": [1]}", 12, 0600, 0, &e), 0);
    assert_int_equal(exec_file(&r, r.package, args), 6);
    assert_true(message_has(&r, "OnError", "must be a string"));
    assert_int_equal(wfile_write(file, "{\"Key\": ", 8, 0600, 0, &e), 0);
    assert_int_equal(exec_file(&r, r.package, args), 6);
    assert_true(message_has(&r, "OnError", "params.json"));
    free(file);
    run_free(&r);
}

/* ---- the weir binary ---- */

static const char *
weir_binary(void)
{
    return getenv("WEIR");
}

static char *
fixture(const char *name)
{
    const char *dir = getenv("WEIR_TEST_PACKAGES");

    return xasprintf("%s/%s", dir ? dir : "tests/fixtures/packages", name);
}

/* Runs the weir binary with output to /dev/null; returns its exit code. */
static int
run_weir(const char *const *args)
{
    pid_t pid = fork();
    int status;

    assert_true(pid >= 0);
    if (pid == 0) {
        char *argv[16] = {(char *)weir_binary()};
        int n = 1;
        int null = open("/dev/null", O_WRONLY);
        for (; *args; args++)
            argv[n++] = (char *)*args;
        dup2(null, 1);
        dup2(null, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void
exit_codes_of_weir_exec(void **state)
{
    char *quick = fixture("Quick.dtsx"), *fail = fixture("Fail.dtsx");
    char *bad = fixture("Malformed.dtsx"), *odd = fixture("Unsupported.dtsx");

    if (!weir_binary())
        skip();
    assert_int_equal(run_weir((const char *[]){"exec", quick, NULL}), 0);
    assert_int_equal(run_weir((const char *[]){"exec", fail, NULL}), 1);
    assert_int_equal(run_weir((const char *[]){"exec", "/nonexistent/X.dtsx",
                                               NULL}), 4);
    assert_int_equal(run_weir((const char *[]){"exec", bad, NULL}), 5);
    assert_int_equal(run_weir((const char *[]){"exec", odd, NULL}), 1);
    assert_int_equal(run_weir((const char *[]){"exec", "--validate", odd,
                                               NULL}), 1);
    assert_int_equal(run_weir((const char *[]){"exec", "--validate", quick,
                                               NULL}), 0);
    assert_int_equal(run_weir((const char *[]){"exec", "--bogus", quick,
                                               NULL}), 6);
    assert_int_equal(run_weir((const char *[]){"exec", NULL}), 6);
    assert_int_equal(run_weir((const char *[]){"exec", quick, quick, NULL}),
                     6);
    assert_int_equal(run_weir((const char *[]){"exec", "--events-fd", "57",
                                               quick, NULL}), 6);
    free(quick);
    free(fail);
    free(bad);
    free(odd);
}

/* Reads events from `fd` until one contains `needle` (or 10 s pass). */
static bool
wait_for_line(int fd, struct wbuf *got, const char *needle)
{
    int64_t until = wtime_mono_ns() + 10 * INT64_C(1000000000);
    char buf[4096];

    while (!strstr(got->buf, needle) && wtime_mono_ns() < until) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            return false;
        wbuf_add(got, buf, (size_t)n, NULL);
    }
    return strstr(got->buf, needle) != NULL;
}

static void
sigterm_cancels_with_exit_code_3(void **state)
{
    char *sleep30 = fixture("Sleep30.dtsx");
    int fds[2], status;
    struct wbuf got;
    pid_t pid;
    struct run r = {0};
    char buf[4096];
    ssize_t n;

    if (!weir_binary())
        skip();
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(fds[1], 3);
        dup2(null, 1);
        dup2(null, 2);
        execl(weir_binary(), weir_binary(), "exec", "--events-fd", "3",
              sleep30, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    wbuf_init(&got, WBUF_NOLIMIT);
    assert_true(wait_for_line(fds[0], &got, "\"OnPreExecute\",\"source\":"
                                            "\"Sleep\""));
    usleep(200 * 1000); /* let the process start */
    int64_t t0 = wtime_mono_ns();
    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(wtime_mono_ns() - t0 < 4 * INT64_C(1000000000));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 3);
    while ((n = read(fds[0], buf, sizeof(buf))) > 0)
        wbuf_add(&got, buf, (size_t)n, NULL);
    close(fds[0]);
    parse_events(&r, got.buf);
    assert_true(message_has(&r, "OnWarning", "canceled"));
    assert_int_equal(result_of(&r, "\\Package\\Sleep"), 3);
    assert_int_equal(result_of(&r, "\\Package"), 3);
    json_decref(r.events);
    wbuf_release(&got);
    free(sleep30);
}

/* SSIS puts no bound on a For Loop's iterations: SIGTERM must stop an
 * endless one. */
static void
sigterm_stops_an_endless_for_loop(void **state)
{
    struct run r;
    int status;
    pid_t pid;
    char *events;
    struct wbuf got;
    struct werr err;
    int64_t until = wtime_mono_ns() + 10 * INT64_C(1000000000);

    if (!weir_binary())
        skip();
    run_setup(&r);
    write_pkg(&r, PKG "<DTS:Variables>" INT_VAR("I", "", "0")
                      "</DTS:Variables>"
                      EXES(FORLOOP("@I = 0", "true", "@I = @I + 1",
                                   ASSIGN("Loop\\Add", "@I = @I % 1000")))
                      TAIL);
    events = xasprintf("%s/events.jsonl", r.dir);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        int fd = open(events, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 3);
        dup2(null, 1);
        dup2(null, 2);
        execl(weir_binary(), weir_binary(), "exec", "--events-fd", "3",
              r.package, (char *)NULL);
        _exit(127);
    }
    /* Signal once the loop runs (a loaded machine starts slowly). */
    wbuf_init(&got, WBUF_NOLIMIT);
    while (!strstr(got.buf, "\"path\":\"\\\\Package\\\\Loop\\\\Add\"") &&
           wtime_mono_ns() < until) {
        usleep(20 * 1000);
        wbuf_reset(&got);
        wfile_read(events, &got, &err);
    }
    wbuf_release(&got);
    free(events);
    int64_t t0 = wtime_mono_ns();
    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(wtime_mono_ns() - t0 < 4 * INT64_C(1000000000));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 3);
    r.events = json_array();
    run_free(&r);
}

/* The shared For Loop fixture through `weir exec`: seven executions of
 * its Expression Task, success. */
static void
weir_exec_runs_the_for_loop_fixture(void **state)
{
    const char *dir = getenv("WEIR_DTSX_FIXTURES");
    struct run r;
    size_t i, runs = 0;
    json_t *o;

    if (!dir)
        skip();
    run_setup(&r);
    r.package = xasprintf("%s/bartekr-60-for-loop/ssisUnitLearning/"
                          "60_Loops.dtsx", dir);
    if (access(r.package, R_OK) != 0) {
        r.events = json_array();
        run_free(&r);
        skip();
    }
    assert_int_equal(exec_file(&r, r.package, NULL), 0);
    json_array_foreach(r.events, i, o) {
        if (!strcmp(json_string_value(json_object_get(o, "event")),
                    "OnPostExecute") &&
            !strcmp(json_string_value(json_object_get(o, "source")),
                    "EXPR Add 6"))
            runs++;
    }
    assert_int_equal(runs, 7);
    assert_int_equal(result_of(&r, "\\Package"), 0);
    run_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arguments_split_like_windows),
        cmocka_unit_test(utf8_is_cleaned),
        cmocka_unit_test(every_runnable_type_has_an_implementation),
        cmocka_unit_test(success_failure_and_completion),
        cmocka_unit_test(and_versus_or),
        cmocka_unit_test(constraint_expressions),
        cmocka_unit_test(expression_tasks_assign),
        cmocka_unit_test(for_loop_counts_to_n),
        cmocka_unit_test(property_expressions),
        cmocka_unit_test(disabled_counts_as_success),
        cmocka_unit_test(dead_branches_never_run),
        cmocka_unit_test(order_is_topological_and_deterministic),
        cmocka_unit_test(sequences_and_fail_parent),
        cmocka_unit_test(fail_package_on_failure_stops_everything),
        cmocka_unit_test(force_execution_result),
        cmocka_unit_test(event_handlers_run_for_their_event),
        cmocka_unit_test(events_are_ordered_json_lines),
        cmocka_unit_test(output_becomes_bounded_events),
        cmocka_unit_test(working_directory_is_relative_to_the_package),
        cmocka_unit_test(success_value_and_exit_code_check),
        cmocka_unit_test(timeout_stops_the_process),
        cmocka_unit_test(bad_programs_fail_clearly),
        cmocka_unit_test(parameters_are_checked),
        cmocka_unit_test(parameters_from_a_file),
        cmocka_unit_test(exit_codes_of_weir_exec),
        cmocka_unit_test(sigterm_cancels_with_exit_code_3),
        cmocka_unit_test(sigterm_stops_an_endless_for_loop),
        cmocka_unit_test(weir_exec_runs_the_for_loop_fixture),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
