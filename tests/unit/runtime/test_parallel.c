/* Unit tests for the control-flow scheduler (container.c): independent
 * branches run at the same time, MaxConcurrentExecutables bounds them,
 * constraints and failure rules hold under concurrency, cancel stops every
 * branch, and DelayValidation validates a task right before it runs.
 *
 * Overlap is proven with facts, not durations: the tasks are shell scripts
 * that leave markers in the package's folder (a branch waits, bounded, for
 * the other's marker; a slot is a directory only one process can make). */
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


/* Scripts the tasks run, with `sh NAME.sh ARGS` in the package folder. */

/* pair.sh ME OTHER: says ME is running, then waits (10 s at most) for
 * OTHER to say so; fails if it never does. */
static const char pair_sh[] =
    "touch \"$1.on\"\n"
    "i=0\n"
    "while [ ! -e \"$2.on\" ] && [ $i -lt 400 ]; do\n"
    "    sleep 0.025; i=$((i + 1))\n"
    "done\n"
    "[ -e \"$2.on\" ]\n";

/* mutex.sh: fails, leaving 'overlap', if another copy runs meanwhile. */
static const char mutex_sh[] =
    "mkdir busy 2>/dev/null || { touch overlap; exit 1; }\n"
    "sleep 0.1\n"
    "rmdir busy\n";

/* slots.sh: takes token t1 or t2 (a third runner leaves 'overflow' and
 * fails); until some runner has seen both tokens taken ('paired'), waits
 * for that to happen, 10 s at most. */
static const char slots_sh[] =
    "if mkdir t1 2>/dev/null; then t=t1\n"
    "elif mkdir t2 2>/dev/null; then t=t2\n"
    "else touch overflow; exit 1; fi\n"
    "i=0\n"
    "while [ ! -e paired ] && [ $i -lt 400 ]; do\n"
    "    if [ -d t1 ] && [ -d t2 ]; then touch paired; fi\n"
    "    sleep 0.025; i=$((i + 1))\n"
    "done\n"
    "sleep 0.1\n"
    "rmdir $t\n";

/* waitfor.sh FILE CODE: waits (10 s at most) for FILE, exits CODE. */
static const char waitfor_sh[] =
    "i=0\n"
    "while [ ! -e \"$1\" ] && [ $i -lt 400 ]; do\n"
    "    sleep 0.025; i=$((i + 1))\n"
    "done\n"
    "exit $2\n";

/* sleeper.sh NAME: writes its pid to NAME.pid and sleeps 30 s. */
static const char sleeper_sh[] = "echo $$ > \"$1.pid\"\nexec sleep 30\n";

/* A fresh folder with the scripts; the package will be T.dtsx. */
static void
setup(struct run *p)
{
    run_setup(p);
    put_file(p, "pair.sh", pair_sh);
    put_file(p, "mutex.sh", mutex_sh);
    put_file(p, "slots.sh", slots_sh);
    put_file(p, "waitfor.sh", waitfor_sh);
    put_file(p, "sleeper.sh", sleeper_sh);
    p->package = xasprintf("%s/T.dtsx", p->dir);
}

/* An Execute Process task NAME running `sh ARGS` in the package folder,
 * a child of container PARENT ("" for the package, "S" for \Package\S). */
static void
task_in(struct wbuf *b, const char *parent, const char *name,
        const char *attrs, const char *args)
{
    wbuf_addf(b, NULL,
              "<DTS:Executable DTS:refId=\"Package%s%s\\%s\" "
              "DTS:ObjectName=\"%s\" "
              "DTS:ExecutableType=\"Microsoft.ExecuteProcess\" %s>"
              "<DTS:ObjectData><ExecuteProcessData Executable=\"/bin/sh\" "
              "Arguments=\"%s\"/></DTS:ObjectData></DTS:Executable>\n",
              *parent ? "\\" : "", parent, name, name, attrs, args);
}

static void
task(struct wbuf *b, const char *name, const char *attrs, const char *args)
{
    task_in(b, "", name, attrs, args);
}

/* Opens and closes Sequence \Package\NAME; its constraints (`pcs`, may
 * be NULL) come after its children. */
static void
seq_begin(struct wbuf *b, const char *name, const char *attrs)
{
    wbuf_addf(b, NULL,
              "<DTS:Executable DTS:refId=\"Package\\%s\" "
              "DTS:ObjectName=\"%s\" DTS:ExecutableType=\"STOCK:SEQUENCE\" "
              "%s><DTS:Executables>",
              name, name, attrs);
}

static void
seq_end(struct wbuf *b, const char *pcs)
{
    wbuf_addf(b, NULL,
              "</DTS:Executables><DTS:PrecedenceConstraints>%s"
              "</DTS:PrecedenceConstraints></DTS:Executable>\n",
              pcs ? pcs : "");
}

/* A constraint FROM -> TO between children of container OWNER ("" for
 * the package); VALUE 0 success, 1 failure, 2 completion. */
static void
pc_in(struct wbuf *b, const char *owner, const char *from, const char *to,
      int value, bool and)
{
    const char *sep = *owner ? "\\" : "";

    wbuf_addf(b, NULL,
              "<DTS:PrecedenceConstraint DTS:ObjectName=\"%s-%s\" "
              "DTS:From=\"Package%s%s\\%s\" DTS:To=\"Package%s%s\\%s\" "
              "DTS:Value=\"%d\" DTS:LogicalAnd=\"%s\"/>\n",
              from, to, sep, owner, from, sep, owner, to, value,
              and ? "True" : "False");
}

static void
pc(struct wbuf *b, const char *from, const char *to, int value, bool and)
{
    pc_in(b, "", from, to, value, and);
}

static void
write_package_defs(const struct run *p, const char *attrs, const char *defs,
                   const char *exes, const char *pcs)
{
    char *xml = xasprintf(
        "<?xml version=\"1.0\"?>\n"
        "<DTS:Executable xmlns:DTS=\"www.microsoft.com/SqlServer/Dts\" "
        "DTS:refId=\"Package\" DTS:CreationName=\"Microsoft.Package\" "
        "DTS:ExecutableType=\"Microsoft.Package\" DTS:ObjectName=\"T\" %s>\n"
        "<DTS:Property DTS:Name=\"PackageFormatVersion\">8</DTS:Property>\n"
        "%s<DTS:Executables>%s</DTS:Executables>\n"
        "<DTS:PrecedenceConstraints>%s</DTS:PrecedenceConstraints>\n"
        "</DTS:Executable>\n",
        attrs, defs ? defs : "", exes, pcs ? pcs : "");

    put_file(p, "T.dtsx", xml);
    free(xml);
}

static void
write_package(const struct run *p, const char *attrs, const char *exes,
              const char *pcs)
{
    write_package_defs(p, attrs, NULL, exes, pcs);
}

/* Every event of a task lies between its OnPreExecute and OnPostExecute,
 * each of which it has once. */
static void
assert_enclosed(const struct run *p, const char *path)
{
    int pre = event_at(p, "OnPreExecute", path);
    int post = event_at(p, "OnPostExecute", path);
    size_t i, n = 0;
    json_t *o;

    assert_true(pre >= 0 && post > pre);
    json_array_foreach(p->events, i, o) {
        if (strcmp(member(o, "path"), path))
            continue;
        assert_true((int)i >= pre && (int)i <= post);
        if (!strcmp(member(o, "event"), "OnPreExecute") ||
            !strcmp(member(o, "event"), "OnPostExecute"))
            n++;
    }
    assert_int_equal(n, 2);
}

/* ---- tests ---- */

static void
independent_branches_run_at_once(void **state)
{
    struct wbuf x;
    struct run p;

    setup(&p);
    wbuf_init(&x, WBUF_NOLIMIT);
    task(&x, "A", "", "pair.sh A B");
    task(&x, "B", "", "pair.sh B A");
    write_package(&p, "", x.buf, NULL);
    assert_int_equal(exec_file(&p, p.package, NULL), 0);
    /* Each waited for the other's marker: both ran at the same time. */
    assert_int_equal(result_of(&p, "\\Package\\A"), 0);
    assert_int_equal(result_of(&p, "\\Package\\B"), 0);
    assert_enclosed(&p, "\\Package\\A");
    assert_enclosed(&p, "\\Package\\B");
    /* Started in document order; the package encloses both. */
    assert_true(event_at(&p, "OnPreExecute", "\\Package\\A") <
                event_at(&p, "OnPreExecute", "\\Package\\B"));
    assert_true(event_at(&p, "OnPostExecute", "\\Package") >
                event_at(&p, "OnPostExecute", "\\Package\\B"));
    assert_true(event_at(&p, "OnPostExecute", "\\Package") >
                event_at(&p, "OnPostExecute", "\\Package\\A"));
    wbuf_release(&x);
    run_free(&p);
}

static void
one_at_a_time_never_overlaps(void **state)
{
    struct wbuf x;
    struct run p;

    setup(&p);
    wbuf_init(&x, WBUF_NOLIMIT);
    task(&x, "A", "", "mutex.sh");
    task(&x, "B", "", "mutex.sh");
    task(&x, "C", "", "mutex.sh");
    write_package(&p, "DTS:MaxConcurrentExecutables=\"1\"", x.buf, NULL);
    assert_int_equal(exec_file(&p, p.package, NULL), 0);
    assert_false(exists(&p, "overlap"));
    /* One at a time: each ends before the next begins. */
    assert_true(event_at(&p, "OnPostExecute", "\\Package\\A") <
                event_at(&p, "OnPreExecute", "\\Package\\B"));
    assert_true(event_at(&p, "OnPostExecute", "\\Package\\B") <
                event_at(&p, "OnPreExecute", "\\Package\\C"));
    wbuf_release(&x);
    run_free(&p);
}

/* Four branches, two slots: two run together (they see each other's
 * token), a third never joins them; containers take no slot. */
static void
two_slots_for_four_branches(void **state)
{
    struct wbuf x;
    struct run p;

    setup(&p);
    wbuf_init(&x, WBUF_NOLIMIT);
    task(&x, "A", "", "slots.sh");
    task(&x, "B", "", "slots.sh");
    seq_begin(&x, "S", "");
    task_in(&x, "S", "C", "", "slots.sh");
    task_in(&x, "S", "D", "", "slots.sh");
    seq_end(&x, NULL);
    write_package(&p, "DTS:MaxConcurrentExecutables=\"2\"", x.buf, NULL);
    assert_int_equal(exec_file(&p, p.package, NULL), 0);
    assert_false(exists(&p, "overflow"));
    assert_true(exists(&p, "paired"));
    assert_int_equal(result_of(&p, "\\Package\\S\\C"), 0);
    assert_int_equal(result_of(&p, "\\Package\\S\\D"), 0);
    wbuf_release(&x);
    run_free(&p);
}

/* A and B run together, B fails; AND, OR and Failure constraints still
 * decide what follows, and a dead branch stays dead. */
static void
constraints_hold_under_concurrency(void **state)
{
    struct wbuf x, c;
    struct run p;

    setup(&p);
    wbuf_init(&x, WBUF_NOLIMIT);
    wbuf_init(&c, WBUF_NOLIMIT);
    task(&x, "A", "", "pair.sh A B");
    task(&x, "B", "", "-c &quot;touch B.on; exit 1&quot;");
    task(&x, "Both", "", "-c &quot;exit 0&quot;");   /* A and B: never */
    task(&x, "Either", "", "-c &quot;exit 0&quot;"); /* A or B */
    task(&x, "OnFail", "", "-c &quot;exit 0&quot;"); /* B failed */
    task(&x, "AfterBoth", "", "-c &quot;exit 0&quot;");
    task(&x, "Last", "", "-c &quot;exit 0&quot;"); /* after OnFail */
    pc(&c, "A", "Both", 0, true);
    pc(&c, "B", "Both", 0, true);
    pc(&c, "A", "Either", 0, false);
    pc(&c, "B", "Either", 0, false);
    pc(&c, "B", "OnFail", 1, true);
    pc(&c, "Both", "AfterBoth", 2, true);
    pc(&c, "OnFail", "Last", 0, true);
    write_package(&p, "DTS:MaxErrorCount=\"9\"", x.buf, c.buf);
    assert_int_equal(exec_file(&p, p.package, NULL), 0);
    assert_int_equal(result_of(&p, "\\Package\\A"), 0);
    assert_int_equal(result_of(&p, "\\Package\\B"), 1);
    assert_int_equal(result_of(&p, "\\Package\\Both"), -1);
    assert_int_equal(result_of(&p, "\\Package\\AfterBoth"), -1);
    assert_int_equal(result_of(&p, "\\Package\\Either"), 0);
    assert_int_equal(result_of(&p, "\\Package\\OnFail"), 0);
    assert_true(event_at(&p, "OnPostExecute", "\\Package\\OnFail") <
                event_at(&p, "OnPreExecute", "\\Package\\Last"));
    assert_true(event_at(&p, "OnPostExecute", "\\Package\\A") <
                event_at(&p, "OnPreExecute", "\\Package\\Either") ||
                event_at(&p, "OnPostExecute", "\\Package\\B") <
                event_at(&p, "OnPreExecute", "\\Package\\Either"));
    wbuf_release(&x);
    wbuf_release(&c);
    run_free(&p);
}

/* A fails with FailPackageOnFailure while B runs: B is not stopped and
 * ends, nothing starts after it, the package fails. */
static void
fail_package_lets_running_branches_end(void **state)
{
    struct wbuf x, c;
    struct run p;

    setup(&p);
    wbuf_init(&x, WBUF_NOLIMIT);
    wbuf_init(&c, WBUF_NOLIMIT);
    task(&x, "A", "DTS:FailPackageOnFailure=\"True\"", "waitfor.sh B.on 1");
    task(&x, "B", "",
         "-c &quot;touch B.on; sleep 0.5; touch B.done&quot;");
    task(&x, "C", "", "-c &quot;exit 0&quot;");
    pc(&c, "B", "C", 0, true);
    write_package(&p, "DTS:MaxErrorCount=\"9\"", x.buf, c.buf);
    assert_int_equal(exec_file(&p, p.package, NULL), 1);
    assert_int_equal(result_of(&p, "\\Package\\A"), 1);
    assert_int_equal(result_of(&p, "\\Package\\B"), 0);
    assert_true(exists(&p, "B.done"));
    assert_int_equal(result_of(&p, "\\Package\\C"), -1);
    assert_int_equal(result_of(&p, "\\Package"), 1);
    assert_true(message_has(&p, "OnWarning", "FailPackageOnFailure"));
    wbuf_release(&x);
    wbuf_release(&c);
    run_free(&p);
}

/* Bad fails with FailParentOnFailure while its sibling Slow runs: Slow
 * ends normally, nothing more starts in the Sequence, which fails; the
 * branch beside the Sequence is not affected. */
static void
fail_parent_stops_only_its_container(void **state)
{
    struct wbuf x, c;
    struct run p;

    setup(&p);
    wbuf_init(&x, WBUF_NOLIMIT);
    wbuf_init(&c, WBUF_NOLIMIT);
    seq_begin(&x, "S", "");
    task_in(&x, "S", "Bad", "DTS:FailParentOnFailure=\"True\"",
            "waitfor.sh Slow.on 1");
    task_in(&x, "S", "Slow", "",
            "-c &quot;touch Slow.on; sleep 0.3; touch Slow.done&quot;");
    task_in(&x, "S", "After", "", "-c &quot;exit 0&quot;");
    pc_in(&c, "S", "Slow", "After", 0, true);
    seq_end(&x, c.buf);
    task(&x, "Other", "", "waitfor.sh Slow.done 0");
    write_package(&p, "DTS:MaxErrorCount=\"9\"", x.buf, NULL);
    assert_int_equal(exec_file(&p, p.package, NULL), 0);
    assert_int_equal(result_of(&p, "\\Package\\S\\Bad"), 1);
    assert_int_equal(result_of(&p, "\\Package\\S\\Slow"), 0);
    assert_true(exists(&p, "Slow.done"));
    assert_int_equal(result_of(&p, "\\Package\\S\\After"), -1);
    assert_int_equal(result_of(&p, "\\Package\\S"), 1);
    assert_int_equal(result_of(&p, "\\Package\\Other"), 0);
    assert_enclosed(&p, "\\Package\\S");
    wbuf_release(&x);
    wbuf_release(&c);
    run_free(&p);
}

/* Children of two Sequences run at the same time as well. */
static void
nested_containers_run_at_once(void **state)
{
    struct wbuf x;
    struct run p;

    setup(&p);
    wbuf_init(&x, WBUF_NOLIMIT);
    seq_begin(&x, "S1", "");
    task_in(&x, "S1", "A", "", "pair.sh A B");
    seq_end(&x, NULL);
    seq_begin(&x, "S2", "");
    task_in(&x, "S2", "B", "", "pair.sh B A");
    seq_end(&x, NULL);
    write_package(&p, "", x.buf, NULL);
    assert_int_equal(exec_file(&p, p.package, NULL), 0);
    assert_int_equal(result_of(&p, "\\Package\\S1\\A"), 0);
    assert_int_equal(result_of(&p, "\\Package\\S2\\B"), 0);
    /* A container's events enclose those of its children. */
    assert_true(event_at(&p, "OnPreExecute", "\\Package\\S1") <
                event_at(&p, "OnPreExecute", "\\Package\\S1\\A"));
    assert_true(event_at(&p, "OnPostExecute", "\\Package\\S1\\A") <
                event_at(&p, "OnPostExecute", "\\Package\\S1"));
    wbuf_release(&x);
    run_free(&p);
}

/* MaximumErrorCount counts the errors of every branch. */
static void
errors_of_all_branches_count(void **state)
{
    struct wbuf x;
    struct run p;

    setup(&p);
    wbuf_init(&x, WBUF_NOLIMIT);
    task(&x, "A", "", "waitfor.sh B.on 1");
    task(&x, "B", "", "-c &quot;touch B.on; exit 1&quot;");
    write_package(&p, "DTS:MaxErrorCount=\"2\"", x.buf, NULL);
    assert_int_equal(exec_file(&p, p.package, NULL), 1);
    assert_true(message_has(&p, "OnWarning", "number of errors raised (2)"));
    run_free(&p);
    setup(&p);
    write_package(&p, "DTS:MaxErrorCount=\"3\"", x.buf, NULL);
    assert_int_equal(exec_file(&p, p.package, NULL), 0);
    wbuf_release(&x);
    run_free(&p);
}

static void
sigterm_stops_every_branch(void **state)
{
    const char *weir = getenv("WEIR");
    struct wbuf x;
    struct run p;
    pid_t pid, a, b;
    int status;

    if (!weir)
        skip();
    setup(&p);
    wbuf_init(&x, WBUF_NOLIMIT);
    task(&x, "A", "", "sleeper.sh A");
    task(&x, "B", "", "sleeper.sh B");
    write_package(&p, "", x.buf, NULL);
    pid = start_weir(&p, weir, p.package);
    a = pid_in(&p, "A.pid");
    b = pid_in(&p, "B.pid");
    assert_true(a > 0 && b > 0);
    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 3);
    /* weir exec reaped both: they are gone, not orphaned. */
    assert_int_equal(kill(a, 0), -1);
    assert_int_equal(errno, ESRCH);
    assert_int_equal(kill(b, 0), -1);
    assert_int_equal(errno, ESRCH);
    read_events(&p, "events.jsonl");
    assert_int_equal(result_of(&p, "\\Package\\A"), 3);
    assert_int_equal(result_of(&p, "\\Package\\B"), 3);
    assert_int_equal(result_of(&p, "\\Package"), 3);
    assert_true(message_has(&p, "OnWarning", "canceled: SIGTERM"));
    wbuf_release(&x);
    run_free(&p);
}

/* A task whose working directory an earlier task creates: with
 * DelayValidation it is checked when it runs, and succeeds; without, the
 * package fails validation and nothing runs. */
static void
delay_validation_checks_at_run_time(void **state)
{
    static const char *const attrs[] = {"DTS:DelayValidation=\"True\"", ""};
    struct run p;

    for (int k = 0; k < 2; k++) {
        struct wbuf x, c;
        setup(&p);
        wbuf_init(&x, WBUF_NOLIMIT);
        wbuf_init(&c, WBUF_NOLIMIT);
        task(&x, "Make", "", "-c &quot;mkdir made&quot;");
        wbuf_addf(&x, NULL,
                  "<DTS:Executable DTS:refId=\"Package\\Use\" "
                  "DTS:ObjectName=\"Use\" %s "
                  "DTS:ExecutableType=\"Microsoft.ExecuteProcess\">"
                  "<DTS:ObjectData><ExecuteProcessData Executable=\"/bin/pwd\""
                  " WorkingDirectory=\"made\"/></DTS:ObjectData>"
                  "</DTS:Executable>\n",
                  attrs[k]);
        pc(&c, "Make", "Use", 0, true);
        write_package(&p, "", x.buf, c.buf);
        exec_file(&p, p.package, NULL);
        if (k == 0) {
            assert_int_equal(p.rc, 0);
            assert_int_equal(result_of(&p, "\\Package\\Use"), 0);
            assert_true(message_has(&p, "OnInformation", "/made"));
            assert_true(event_at(&p, "OnPreExecute", "\\Package\\Use") <
                        event_at(&p, "OnPreValidate", "\\Package\\Use"));
        } else {
            assert_int_equal(p.rc, 1);
            assert_true(message_has(&p, "OnError", "working directory"));
            assert_int_equal(result_of(&p, "\\Package\\Make"), -1);
        }
        wbuf_release(&x);
        wbuf_release(&c);
        run_free(&p);
    }
}

/* The Parallel.dtsx fixture: both sleeps start before either ends, the
 * join runs after both. */
static void
parallel_fixture_overlaps_its_branches(void **state)
{
    const char *dir = getenv("WEIR_TEST_PACKAGES");
    struct run p;

    setup(&p);
    free(p.package);
    p.package = xasprintf("%s/Parallel.dtsx",
                          dir ? dir : "tests/fixtures/packages");
    assert_int_equal(exec_file(&p, p.package, NULL), 0);
    int left_end = event_at(&p, "OnPostExecute", "\\Package\\Left");
    int right_end = event_at(&p, "OnPostExecute", "\\Package\\Right");
    int first_end = left_end < right_end ? left_end : right_end;
    assert_true(left_end > 0 && right_end > 0);
    assert_true(event_at(&p, "OnPreExecute", "\\Package\\Left") < first_end);
    assert_true(event_at(&p, "OnPreExecute", "\\Package\\Right") <
                first_end);
    assert_true(event_at(&p, "OnPreExecute", "\\Package\\Join") >
                (left_end > right_end ? left_end : right_end));
    assert_int_equal(result_of(&p, "\\Package\\Join"), 0);
    run_free(&p);
}

/* ---- Execute SQL tasks in parallel ---- */

/* A task storing `SELECT COUNT(*) + K` over a slow recursive count into
 * User::VK. */
static void
sql_task(struct wbuf *b, int k)
{
    wbuf_addf(b, NULL,
              "<DTS:Executable DTS:refId=\"Package\\Q%d\" DTS:ObjectName="
              "\"Q%d\" DTS:ExecutableType=\"Microsoft.ExecuteSQLTask\">"
              "<DTS:ObjectData><SQLTask:SqlTaskData xmlns:SQLTask=\"www."
              "microsoft.com/sqlserver/dts/tasks/sqltask\" "
              "SQLTask:Connection=\"{DB}\" SQLTask:ResultType="
              "\"ResultSetType_SingleRow\" SQLTask:SqlStatementSource=\""
              "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c"
              " WHERE x &lt; 100000) SELECT COUNT(*) + %d AS n FROM c\">"
              "<SQLTask:ResultBinding SQLTask:ResultName=\"n\" "
              "SQLTask:DtsVariableName=\"User::V%d\"/>"
              "</SQLTask:SqlTaskData></DTS:ObjectData></DTS:Executable>\n",
              k, k, k, k);
}

static void
sql_tasks_in_parallel_keep_their_variables(void **state)
{
    struct wbuf x, c, v;
    struct run p;

    if (!have_sqlite_driver())
        skip();
    setup(&p);
    wbuf_init(&x, WBUF_NOLIMIT);
    wbuf_init(&c, WBUF_NOLIMIT);
    wbuf_init(&v, WBUF_NOLIMIT);
    for (int k = 1; k <= 4; k++) {
        sql_task(&x, k);
        wbuf_addf(&v, NULL,
                  "<DTS:Variable DTS:Namespace=\"User\" DTS:ObjectName="
                  "\"V%d\"><DTS:VariableValue DTS:DataType=\"3\">0"
                  "</DTS:VariableValue></DTS:Variable>",
                  k);
    }
    /* Show prints the four values once all four tasks succeeded. */
    wbuf_adds(&x,
              "<DTS:Executable DTS:refId=\"Package\\Show\" DTS:ObjectName="
              "\"Show\" DTS:ExecutableType=\"Microsoft.ExecuteProcess\">"
              "<DTS:PropertyExpression DTS:Name=\"Arguments\">"
              "&quot;-c \\&quot;echo values &quot; + (DT_WSTR, 12) @V1 + "
              "&quot; &quot; + (DT_WSTR, 12) @V2 + &quot; &quot; + "
              "(DT_WSTR, 12) @V3 + &quot; &quot; + (DT_WSTR, 12) @V4 + "
              "&quot;\\&quot;&quot;</DTS:PropertyExpression>"
              "<DTS:ObjectData><ExecuteProcessData Executable=\"/bin/sh\"/>"
              "</DTS:ObjectData></DTS:Executable>\n",
              NULL);
    for (int k = 1; k <= 4; k++) {
        char from[8];
        snprintf(from, sizeof(from), "Q%d", k);
        pc(&c, from, "Show", 0, true);
    }
    char *defs = xasprintf(
        "<DTS:ConnectionManagers><DTS:ConnectionManager "
        "DTS:refId=\"Package.ConnectionManagers[Db]\" DTS:CreationName="
        "\"ODBC\" DTS:DTSID=\"{DB}\" DTS:ObjectName=\"Db\"><DTS:ObjectData>"
        "<DTS:ConnectionManager DTS:ConnectionString=\"Driver=SQLite3;"
        "Database=%s/t.db\"/></DTS:ObjectData></DTS:ConnectionManager>"
        "</DTS:ConnectionManagers><DTS:Variables>%s</DTS:Variables>",
        p.dir, v.buf);
    write_package_defs(&p, "", defs, x.buf, c.buf);
    assert_int_equal(exec_file(&p, p.package, NULL), 0);
    assert_true(message_has(&p, "OnInformation",
                            "values 100001 100002 100003 100004"));
    for (int k = 1; k <= 4; k++) {
        char path[32];
        snprintf(path, sizeof(path), "\\Package\\Q%d", k);
        assert_int_equal(result_of(&p, path), 0);
        assert_enclosed(&p, path);
    }
    free(defs);
    wbuf_release(&x);
    wbuf_release(&c);
    wbuf_release(&v);
    run_free(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(independent_branches_run_at_once),
        cmocka_unit_test(one_at_a_time_never_overlaps),
        cmocka_unit_test(two_slots_for_four_branches),
        cmocka_unit_test(constraints_hold_under_concurrency),
        cmocka_unit_test(fail_package_lets_running_branches_end),
        cmocka_unit_test(fail_parent_stops_only_its_container),
        cmocka_unit_test(nested_containers_run_at_once),
        cmocka_unit_test(errors_of_all_branches_count),
        cmocka_unit_test(sigterm_stops_every_branch),
        cmocka_unit_test(delay_validation_checks_at_run_time),
        cmocka_unit_test(parallel_fixture_overlaps_its_branches),
        cmocka_unit_test(sql_tasks_in_parallel_keep_their_variables),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
