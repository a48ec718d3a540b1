/*
 * Unit tests of the data flow engine with its Flat File source and
 * destination, Row Count, Multicast and Union All: exact rows written,
 * error outputs (ErrorCode, ErrorColumn), dispositions, the CSV edge
 * cases of real files (qualifiers, embedded delimiters and newlines,
 * short rows, byte order marks, LF where CR LF is declared, code pages,
 * UTF-16, fixed width, ragged right), validation messages, failures and
 * cancel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/xalloc.h"
#include "harness.h"

/* Id i4, Name wstr(20), Amount numeric(10,2). */
static const struct hcol orders[] = {
    {.name = "Id", .ff_type = 3, .type = "i4"},
    {.name = "Name", .ff_type = 130, .width = 20, .type = "wstr",
     .length = 20},
    {.name = "Amount", .ff_type = 131, .type = "numeric", .precision = 10,
     .scale = 2},
};

#define CSV_ATTRS                                                          \
    "DTS:Format=\"Delimited\" DTS:CodePage=\"65001\" "                     \
    "DTS:TextQualifier=\"_x0022_\" DTS:ColumnNamesInFirstDataRow=\"True\""

/* Runs `spec` over `input` (the file In) and checks Out. */
static void
run_expect(const struct hspec *spec, const char *input, size_t len,
           const char *expect)
{
    char *xml = h_package(spec), *out;
    struct hrun r;
    struct werr err = {0};

    h_init(&r, xml);
    h_write(&r, "in.txt", input, len);
    if (h_run(&r, &err) < 0)
        fail_msg("%s\nevents:\n%s", err.msg, r.events.buf);
    out = h_read(&r, "out.txt");
    assert_non_null(out);
    assert_string_equal(out, expect);
    free(out);
    h_release(&r);
    free(xml);
}

static void
csv_qualifiers_and_embedded(void **state)
{
    static const char in[] =
        "Id,Name,Amount\r\n"
        "1,\"Smith, \"\"J\"\"\",12.5\r\n"
        "2,\"two\r\nlines\",3\r\n"
        "3,Plain,-0.75\r\n"
        "4,,";
    struct hspec s = {.cm_attrs = CSV_ATTRS, .cols = orders, .ncols = 3};

    run_expect(&s, in, sizeof(in) - 1,
               "1|Smith, \"J\"|12.50\n"
               "2|two\r\nlines|3.00\n"
               "3|Plain|-0.75\n"
               "4||\n");
}

static void
csv_lf_where_crlf_declared(void **state)
{
    static const char in[] = "Id,Name,Amount\n1,a,1\n2,b,2\n";
    struct hspec s = {.cm_attrs = CSV_ATTRS, .cols = orders, .ncols = 3};
    char *xml = h_package(&s), *out;
    struct hrun r;
    struct werr err;

    h_init(&r, xml);
    h_write(&r, "in.txt", in, sizeof(in) - 1);
    assert_int_equal(h_run(&r, &err), 0);
    out = h_read(&r, "out.txt");
    assert_string_equal(out, "1|a|1.00\n2|b|2.00\n");
    assert_non_null(strstr(r.events.buf, "LF accepted"));
    free(out);
    h_release(&r);
    free(xml);
}

static void
csv_bom_and_short_rows(void **state)
{
    /* A UTF-8 BOM; row 2 ends early (Amount missing); row 3 has an
     * extra delimiter, which stays in the last column. */
    static const char in[] = "\xEF\xBB\xBFId,Name,Amount\r\n"
                             "1,caf\xC3\xA9,1\r\n"
                             "2,short\r\n"
                             "3,x,4,5\r\n";
    static const struct hcol cols[] = {
        {.name = "Id", .ff_type = 3, .type = "i4"},
        {.name = "Name", .ff_type = 130, .width = 20, .type = "wstr",
         .length = 20},
        {.name = "Rest", .ff_type = 130, .width = 20, .type = "wstr",
         .length = 20},
    };
    struct hspec s = {.cm_attrs = CSV_ATTRS, .cols = cols, .ncols = 3};

    run_expect(&s, in, sizeof(in) - 1,
               "1|caf\xC3\xA9|1\n2|short|\n3|x|4,5\n");
}

static void
csv_code_page_1252(void **state)
{
    static const char in[] = "Id;Name\r\n1;caf\xE9 \x80\r\n";
    static const struct hcol cols[] = {
        {.name = "Id", .ff_type = 3, .type = "i4", .delim = "_x003B_"},
        {.name = "Name", .ff_type = 129, .width = 10, .type = "str",
         .length = 10},
    };
    struct hspec s = {
        .cm_attrs = "DTS:Format=\"Delimited\" DTS:CodePage=\"1252\" "
                    "DTS:ColumnNamesInFirstDataRow=\"True\"",
        .cols = cols, .ncols = 2};

    run_expect(&s, in, sizeof(in) - 1,
               "1|caf\xC3\xA9 \xE2\x82\xAC\n");
}

static void
csv_utf16(void **state)
{
    /* "Id,Name\r\n7,Zoë\r\n" in UTF-16LE with its BOM. */
    static const char text[] = "Id,Name\r\n7,Zo\xC3\xAB\r\n";
    static const struct hcol cols[] = {
        {.name = "Id", .ff_type = 3, .type = "i4"},
        {.name = "Name", .ff_type = 130, .width = 10, .type = "wstr",
         .length = 10},
    };
    struct hspec s = {
        .cm_attrs = "DTS:Format=\"Delimited\" DTS:Unicode=\"True\" "
                    "DTS:CodePage=\"1252\" "
                    "DTS:ColumnNamesInFirstDataRow=\"True\"",
        .cols = cols, .ncols = 2};
    char in[64];
    size_t n = 0;

    in[n++] = '\xFF';
    in[n++] = '\xFE';
    for (const char *p = text; *p; p++) {
        if ((unsigned char)*p == 0xC3) { /* ë is U+00EB */
            in[n++] = '\xEB';
            in[n++] = 0;
            p++;
            continue;
        }
        in[n++] = *p;
        in[n++] = 0;
    }
    run_expect(&s, in, n, "7|Zo\xC3\xAB\n");
}

static void
fixed_width_and_ragged_right(void **state)
{
    static const char fixed_in[] = "0001Ann  0002Bob  ";
    static const char ragged_in[] = "HEADER LINE\r\n0001Ann  x\r\n"
                                    "0002Bo   longer tail\r\n";
    static const struct hcol fixed[] = {
        {.name = "Id", .ff_type = 3, .width = 4, .type = "i4", .fixed = true},
        {.name = "Name", .ff_type = 130, .width = 5, .type = "wstr",
         .length = 5, .fixed = true},
    };
    static const struct hcol ragged[] = {
        {.name = "Id", .ff_type = 3, .width = 4, .type = "i4", .fixed = true},
        {.name = "Name", .ff_type = 130, .width = 5, .type = "wstr",
         .length = 5, .fixed = true},
        {.name = "Tail", .ff_type = 130, .width = 20, .type = "wstr",
         .length = 20, .delim = "_x000D__x000A_"},
    };
    struct hspec f = {.cm_attrs = "DTS:Format=\"FixedWidth\" "
                                  "DTS:CodePage=\"65001\"",
                      .cols = fixed, .ncols = 2};
    struct hspec g = {.cm_attrs = "DTS:Format=\"RaggedRight\" "
                                  "DTS:CodePage=\"65001\" "
                                  "DTS:HeaderRowsToSkip=\"1\" "
                                  "DTS:DataRowsToSkip=\"0\"",
                      .cols = ragged, .ncols = 3};

    run_expect(&f, fixed_in, sizeof(fixed_in) - 1,
               "1|Ann  \n2|Bob  \n");
    run_expect(&g, ragged_in, sizeof(ragged_in) - 1,
               "1|Ann  |x\n2|Bo   |longer tail\n");
}

static void
data_rows_to_skip_and_file_name(void **state)
{
    static const char in[] = "1,a,1\r\n2,b,2\r\n3,c,3\r\n";
    struct hspec s = {
        .cm_attrs = "DTS:Format=\"Delimited\" DTS:CodePage=\"65001\" "
                    "DTS:DataRowsToSkip=\"2\"",
        .cols = orders, .ncols = 3, .file_name_column = "File"};
    char *xml = h_package(&s), *out, *expect, *path;
    struct hrun r;
    struct werr err;

    h_init(&r, xml);
    h_write(&r, "in.txt", in, sizeof(in) - 1);
    assert_int_equal(h_run(&r, &err), 0);
    path = h_path(&r, "in.txt");
    expect = xasprintf("3|c|3.00|%s\n", path);
    out = h_read(&r, "out.txt");
    assert_string_equal(out, expect);
    free(out);
    free(expect);
    free(path);
    h_release(&r);
    free(xml);
}

/* Conversion errors redirected, truncations redirected, an ignored
 * failure (NULL), and the Row Count of what got through. */
static void
error_output_redirect_and_ignore(void **state)
{
    static const char in[] = "Id,Name,Amount\r\n"
                             "1,ok,1\r\n"
                             "x2,bad id,2\r\n"
                             "3,a name longer than twenty,3\r\n"
                             "4,ignored,abc\r\n";
    static const struct hcol cols[] = {
        {.name = "Id", .ff_type = 3, .type = "i4", .error = "RedirectRow"},
        {.name = "Name", .ff_type = 130, .width = 20, .type = "wstr",
         .length = 20, .trunc = "RedirectRow"},
        {.name = "Amount", .ff_type = 131, .type = "numeric", .precision = 10,
         .scale = 2, .error = "IgnoreFailure"},
    };
    struct hspec s = {.cm_attrs = CSV_ATTRS, .cols = cols, .ncols = 3,
                      .error_output = true, .row_count = true};
    char *xml = h_package(&s), *out, *errs;
    struct hrun r;
    struct werr err;

    h_init(&r, xml);
    h_write(&r, "in.txt", in, sizeof(in) - 1);
    assert_int_equal(h_run(&r, &err), 0);
    out = h_read(&r, "out.txt");
    errs = h_read(&r, "err.txt");
    assert_string_equal(out, "1|ok|1.00\n4|ignored|\n");
    /* ErrorColumn is the id of the failing output column (1, 2). */
    assert_string_equal(errs, "x2,bad id,2|-1071607676|1\n"
                              "3,a name longer than twenty,3|-1071607675|2\n");
    assert_true(r.rows_set);
    assert_int_equal(r.rows_var, 2);
    assert_non_null(strstr(r.events.buf, "ROWS Source: 2\n"));
    assert_non_null(strstr(r.events.buf, "ROWS Errors: 2\n"));
    assert_non_null(strstr(r.events.buf, "INFO Write: wrote 2 rows"));
    free(out);
    free(errs);
    h_release(&r);
    free(xml);
}

static void
conversion_failure_names_row_and_column(void **state)
{
    static const char in[] = "Id,Name,Amount\r\n1,a,1\r\n2,b,x9\r\n";
    struct hspec s = {.cm_attrs = CSV_ATTRS, .cols = orders, .ncols = 3};
    char *xml = h_package(&s);
    struct hrun r;
    struct werr err;

    h_init(&r, xml);
    h_write(&r, "in.txt", in, sizeof(in) - 1);
    assert_int_equal(h_run(&r, &err), -1);
    assert_non_null(strstr(r.events.buf, "ERROR Read: data row 2 of '"));
    assert_non_null(strstr(r.events.buf, "column 'Amount': the value \"x9\" "
                                         "does not convert to DT_NUMERIC"));
    assert_non_null(strstr(err.msg, "component 'Read'"));
    h_release(&r);
    free(xml);
}

static void
missing_file_fails_naming_it(void **state)
{
    struct hspec s = {.cm_attrs = CSV_ATTRS, .cols = orders, .ncols = 3};
    char *xml = h_package(&s);
    struct hrun r;
    struct werr err;

    h_init(&r, xml);
    assert_int_equal(h_run(&r, &err), -1);
    assert_non_null(strstr(r.events.buf, "ERROR Read: cannot open '"));
    assert_non_null(strstr(r.events.buf, "/in.txt': No such file"));
    h_release(&r);
    free(xml);
}

static void
cancel_stops_the_run(void **state)
{
    struct hspec s = {.cm_attrs = CSV_ATTRS, .cols = orders, .ncols = 3};
    char *xml = h_package(&s);
    struct hrun r;
    struct werr err;
    struct wbuf big;

    wbuf_init(&big, WBUF_NOLIMIT);
    wbuf_adds(&big, "Id,Name,Amount\r\n", NULL);
    for (int i = 0; i < 400000; i++)
        wbuf_addf(&big, NULL, "%d,name %d,%d.5\r\n", i, i, i % 1000);
    h_init(&r, xml);
    h_write(&r, "in.txt", big.buf, big.len);
    r.cancel_after = 1;
    assert_int_equal(h_run(&r, &err), -1);
    assert_int_equal(err.code, WERR_UNAVAILABLE);
    assert_string_equal(err.msg, "canceled");
    wbuf_release(&big);
    h_release(&r);
    free(xml);
}

static char *
replace(const char *s, const char *a, const char *b)
{
    const char *p = strstr(s, a);

    assert_non_null(p);
    return xasprintf("%.*s%s%s", (int)(p - s), s, b, p + strlen(a));
}

static void
validation_messages(void **state)
{
    struct hspec s = {.cm_attrs = CSV_ATTRS, .cols = orders, .ncols = 3,
                      .row_count = true};
    char *xml = h_package(&s);
    char *script = replace(xml, "componentClassID=\"DTSTransform.RowCount.3\""
                                " name=\"Count\"><properties>",
                           "componentClassID=\"Microsoft.ManagedComponent"
                           "Host\" name=\"Count\"><properties><property "
                           "name=\"UserComponentTypeName\">Microsoft."
                           "SqlServer.Dts.Pipeline.ScriptComponentHost, "
                           "Microsoft.SqlServer.TxScript</property>");
    char *lineage = replace(xml, "lineageId=\"Package\\Flow\\Read.Outputs["
                                 "Flat File Source Output].Columns[Name]\" "
                                 "cachedName",
                            "lineageId=\"nowhere\" cachedName");
    struct hrun r;
    struct wbuf p;

    wbuf_init(&p, WBUF_NOLIMIT);
    h_init(&r, xml);
    assert_int_equal(h_validate(&r, &p), 0);
    h_release(&r);
    h_init(&r, script);
    assert_int_equal(h_validate(&r, &p), 1);
    assert_string_equal(p.buf, "\\Package\\Flow: component 'Count': script "
                               "components cannot run: they need .NET\n");
    h_release(&r);
    wbuf_reset(&p);
    h_init(&r, lineage);
    assert_int_equal(h_validate(&r, &p), 1);
    assert_non_null(strstr(p.buf, "component 'Write': input column 'Name'"));
    assert_non_null(strstr(p.buf, "reads 'nowhere', which is not a column"));
    h_release(&r);
    wbuf_release(&p);
    free(lineage);
    free(script);
    free(xml);
}

/* Empty fields and short rows: strings are "" unless RetainNulls, other
 * types NULL; the missing columns of a short row are NULL.  Checked in
 * the rows a Recordset destination stores. */
static void
nulls_and_recordset(void **state)
{
    static const char in[] = "Id,Name,Amount\r\n"
                             "1,,\r\n"
                             ",b,2.5\r\n"
                             "3\r\n";
    struct hspec s = {.cm_attrs = CSV_ATTRS, .cols = orders, .ncols = 3,
                      .recordset = true};
    struct hrun r;
    struct werr err;
    char *xml;

    for (int retain = 0; retain < 2; retain++) {
        s.retain_nulls = retain;
        xml = h_package(&s);
        h_init(&r, xml);
        h_write(&r, "in.txt", in, sizeof(in) - 1);
        if (h_run(&r, &err) < 0)
            fail_msg("%s", err.msg);
        assert_string_equal(r.rowset.buf,
                            retain ? "1|NULL|NULL\nNULL|b|2.50\n3|NULL|NULL\n"
                                   : "1||NULL\nNULL|b|2.50\n3|NULL|NULL\n");
        assert_non_null(strstr(r.events.buf, "INFO Write: stored 3 rows into "
                                             "'User::Result'"));
        h_release(&r);
        free(xml);
    }
}

/* A package with nothing in it: h_init needs one for the folder it makes
 * when the test runs weir exec on a package of its own. */
static const char empty_package[] =
    "<?xml version=\"1.0\"?><DTS:Executable xmlns:DTS=\"www.microsoft.com/"
    "SqlServer/Dts\" DTS:refId=\"Package\" DTS:ExecutableType=\"Microsoft."
    "Package\" DTS:ObjectName=\"P\"><DTS:Property DTS:Name=\"Package"
    "FormatVersion\">8</DTS:Property></DTS:Executable>";

/* Runs the shell command `cmd`; returns its exit status, its output in
 * `out`. */
static int
h_shell(const char *cmd, struct wbuf *out)
{
    char buf[4096];
    FILE *p = popen(cmd, "r");
    size_t n;
    int status;

    assert_non_null(p);
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
        wbuf_add(out, buf, n, NULL);
    status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs `weir exec` on tests/fixtures/dataflow/CopyOrders.dtsx with its
 * files in r's folder; returns the exit status, stdout in `out`. */
static int
weir_copy_orders(struct hrun *r, const char *input, struct wbuf *out)
{
    const char *weir = getenv("WEIR"), *dir = getenv("WEIR_DF_FIXTURES");
    char *cmd;
    int status;

    assert_non_null(weir);
    assert_non_null(dir);
    cmd = xasprintf("'%s' exec --connection 'Orders In=%s/%s' "
                    "--connection 'Orders Out=%s/out.csv' "
                    "--connection 'Errors Out=%s/errors.txt' "
                    "'%s/CopyOrders.dtsx' 2>&1",
                    weir, r->dir, input, r->dir, r->dir, dir);
    status = h_shell(cmd, out);
    free(cmd);
    return status;
}

/* The Data Flow task through weir exec: connection overrides, events,
 * exit codes. */
static void
weir_exec_runs_a_data_flow(void **state)
{
    static const char in[] = "Id,Name,Amount\r\n1,\"A, B\",1.5\r\n"
                             "x,bad,2\r\n3,C,abc\r\n";
    struct hrun r;
    struct wbuf out;
    char *csv, *errs;

    h_init(&r, empty_package);
    wbuf_init(&out, WBUF_NOLIMIT);
    h_write(&r, "in.csv", in, sizeof(in) - 1);
    assert_int_equal(weir_copy_orders(&r, "in.csv", &out), 0);
    csv = h_read(&r, "out.csv");
    errs = h_read(&r, "errors.txt");
    assert_string_equal(csv, "Id,\"Name\",Amount\n1,\"A, B\",1.50\n3,\"C\",\n");
    assert_string_equal(errs, "x,bad,2|-1071607676|1\n");
    assert_non_null(strstr(out.buf, "Write: wrote 2 rows to '"));
    assert_non_null(strstr(out.buf, "2 rows went along path 'Multicast "
                                    "Output 2'"));
    assert_non_null(strstr(out.buf, "CopyOrders: success"));
    wbuf_reset(&out);
    assert_int_equal(weir_copy_orders(&r, "missing.csv", &out), 1);
    assert_non_null(strstr(out.buf, "Read: cannot open '"));
    assert_non_null(strstr(out.buf, "missing.csv': No such file"));
    free(csv);
    free(errs);
    wbuf_release(&out);
    h_release(&r);
}

/* Progress while rows flow: a source fed through a FIFO sends two
 * buffers of two rows, then waits 2.5 s for the rest; the watcher reports
 * the rows so far along each path in between, and the phases come in
 * SSIS's order. */
static void
progress_while_rows_flow(void **state)
{
    const char *weir = getenv("WEIR"), *dir = getenv("WEIR_DF_FIXTURES");
    struct hrun r;
    struct wbuf out;
    char *cmd, *csv, *so_far, *pre, *post, *stats;

    static const char feed[] =
        "exec >in.csv\n"
        "printf 'Id,Name,Amount\\r\\n1,A,1\\r\\n2,B,2\\r\\n3,C,3\\r\\n"
        "4,D,4\\r\\n5,E,5\\r\\n'\n"
        "sleep 2.5\n"
        "printf '6,F,6\\r\\n'\n";

    h_init(&r, empty_package);
    wbuf_init(&out, WBUF_NOLIMIT);
    h_write(&r, "feed.sh", feed, sizeof(feed) - 1);
    /* The feeder's output is not the pipe we read: if weir never opened
     * the FIFO, the feeder would block, and timeout ends it. */
    cmd = xasprintf("cd '%s' || exit 9; sed 's/<pipeline version=\"1\">/"
                    "<pipeline version=\"1\" defaultBufferMaxRows=\"2\">/' "
                    "'%s/CopyOrders.dtsx' >Slow.dtsx && mkfifo in.csv || "
                    "exit 9; timeout 30 sh feed.sh >/dev/null 2>&1 & "
                    "'%s' exec --connection 'Orders In=in.csv' "
                    "--connection 'Orders Out=out.csv' "
                    "--connection 'Errors Out=errors.txt' Slow.dtsx 2>&1",
                    r.dir, dir, weir);
    assert_int_equal(h_shell(cmd, &out), 0);
    csv = h_read(&r, "out.csv");
    assert_non_null(strstr(csv, "\n6,\"F\",6.00\n"));
    pre = strstr(out.buf, "Pre-Execute: 100% complete");
    so_far = strstr(out.buf, " rows so far along path 'Multicast Output 1'");
    post = strstr(out.buf, "Post Execute: 0% complete");
    stats = strstr(out.buf, "6 rows went along path 'Multicast Output 1'");
    assert_non_null(pre);
    assert_non_null(so_far);
    assert_non_null(post);
    assert_non_null(stats);
    assert_true(pre < so_far && so_far < post && post < stats);
    free(csv);
    free(cmd);
    wbuf_release(&out);
    h_release(&r);
}

/* A flat file's path follows the rule every file path follows
 * (pkg_path_linux): backslashes that an expression or a parameter wrote
 * are separators; a Windows path is refused, naming the manager. */
static void
flat_file_paths_with_backslashes(void **state)
{
    static const char in[] = "Id,Name,Amount\r\n7,G,1\r\n";
    const char *weir = getenv("WEIR"), *dir = getenv("WEIR_DF_FIXTURES");
    struct hrun r;
    struct wbuf out;
    char *cmd, *csv;

    h_init(&r, empty_package);
    wbuf_init(&out, WBUF_NOLIMIT);
    h_write(&r, "in.csv", in, sizeof(in) - 1);
    cmd = xasprintf("'%s' exec --connection 'Orders In=%s\\in.csv' "
                    "--connection 'Orders Out=%s\\out.csv' "
                    "--connection 'Errors Out=%s\\errors.txt' "
                    "'%s/CopyOrders.dtsx' 2>&1",
                    weir, r.dir, r.dir, r.dir, dir);
    assert_int_equal(h_shell(cmd, &out), 0);
    csv = h_read(&r, "out.csv");
    assert_string_equal(csv, "Id,\"Name\",Amount\n7,\"G\",1.00\n");
    free(csv);
    free(cmd);
    wbuf_reset(&out);
    /* The package's own C:\in\orders.csv cannot be read here. */
    cmd = xasprintf("'%s' exec --connection 'Orders Out=%s/out.csv' "
                    "--connection 'Errors Out=%s/errors.txt' "
                    "'%s/CopyOrders.dtsx' 2>&1",
                    weir, r.dir, r.dir, dir);
    assert_int_equal(h_shell(cmd, &out), 1);
    assert_non_null(strstr(out.buf, "Read: the file 'C:\\in\\orders.csv' is "
                                    "a Windows path"));
    free(cmd);
    wbuf_release(&out);
    h_release(&r);
}

/* The flat files of real packages (shared fixtures): each package's Flat
 * File source reads its data file, with the OLE DB destination (a
 * database's, tested elsewhere) replaced by a Multicast without outputs,
 * which discards the rows. */
static void
fixture_flat_files(void **state)
{
    static const struct {
        const char *package, *task, *data;
        const char *path; /* the source output's path name */
        long rows;
    } cases[] = {
        {"bartekr-70-flatfile-to-table/ssisUnitLearning/"
         "70_IntegrationTest.dtsx",
         "Package\\DFT Load data from file",
         "bartekr-70-flatfile-to-table/Assets/Files/txt/Values.txt",
         "Flat File Source Output", 5},
        {"alimardani-import-csv/src/FirstSample/ImportCSV.dtsx",
         "Package\\Foreach Loop Over CSV Files\\Importing the Products",
         "alimardani-import-csv/src/Data/Products.csv",
         "Flat File Source Output", 77},
        {"andreyqc-load-countries/Staging_Load_Countries.dtsx",
         "Package\\SEQC Load data to staging\\DFT Load from File to "
         "staging Country_untyped",
         "andreyqc-load-countries/CrimeStat.Sources/"
         "CrimeStat.Source.Countries/ISOcountries.csv",
         "Flat File Source Output", 249},
    };
    const char *dir = getenv("WEIR_DTSX_FIXTURES");

    if (!dir || access(dir, R_OK) != 0)
        skip();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *file = xasprintf("%s/%s", dir, cases[i].package);
        char *data = xasprintf("%s/%s", dir, cases[i].data);
        char *xml = NULL, *fixed, *want;
        FILE *f = fopen(file, "rb");
        struct wbuf text;
        struct hrun r;
        struct werr err;
        char buf[4096];
        size_t n;

        assert_non_null(f);
        wbuf_init(&text, WBUF_NOLIMIT);
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
            wbuf_add(&text, buf, n, NULL);
        fclose(f);
        xml = wbuf_detach(&text, NULL);
        fixed = strstr(xml, "DTSAdapter.OLEDBDestination.3")
                    ? replace(xml, "DTSAdapter.OLEDBDestination.3",
                              "Microsoft.Multicast")
                    : replace(xml, "Microsoft.OLEDBDestination",
                              "Microsoft.Multicast");
        h_init(&r, fixed);
        r.in_path = data;
        if (h_run_task(&r, cases[i].task, &err) < 0)
            fail_msg("%s: %s\n%s", cases[i].package, err.msg, r.events.buf);
        want = xasprintf("ROWS %s: %ld\n", cases[i].path, cases[i].rows);
        if (!strstr(r.events.buf, want))
            fail_msg("%s: no '%s' in\n%s", cases[i].package, want,
                     r.events.buf);
        free(want);
        h_release(&r);
        free(fixed);
        free(xml);
        free(data);
        free(file);
    }
}

/* A Raw File source package reading `path` into User::Result. */
static char *
raw_reader(const char *path)
{
#define RS "Package\\Flow\\Raw"
#define RO RS ".Outputs[Raw Source Output]"
#define OC(n, t) "<outputColumn refId=\"" RO ".Columns[" n "]\" lineageId=\"" \
    RO ".Columns[" n "]\" name=\"" n "\" " t " />"
#define IC(n) "<inputColumn refId=\"Package\\Flow\\Write.Inputs[In].Columns[" \
    n "]\" lineageId=\"" RO ".Columns[" n "]\" cachedName=\"" n "\" />"
    return xasprintf(
        "<?xml version=\"1.0\"?><DTS:Executable xmlns:DTS=\"www.microsoft."
        "com/SqlServer/Dts\" DTS:refId=\"Package\" DTS:ExecutableType=\""
        "Microsoft.Package\" DTS:ObjectName=\"P\"><DTS:Property DTS:Name="
        "\"PackageFormatVersion\">8</DTS:Property><DTS:Executables>"
        "<DTS:Executable DTS:refId=\"Package\\Flow\" DTS:ExecutableType="
        "\"Microsoft.Pipeline\" DTS:ObjectName=\"Flow\"><DTS:ObjectData>"
        "<pipeline><components><component refId=\"" RS "\" name=\"Raw\" "
        "componentClassID=\"DTSAdapter.RawSource.3\"><properties><property "
        "name=\"AccessMode\">0</property><property name=\"FileName\">%s"
        "</property></properties><outputs><output refId=\"" RO "\" name="
        "\"Raw Source Output\"><outputColumns>"
        OC("Amount", "dataType=\"numeric\" precision=\"10\" scale=\"2\"")
        OC("Id", "dataType=\"i4\"")
        OC("Name", "dataType=\"wstr\" length=\"20\"")
        "</outputColumns></output></outputs></component>"
        "<component refId=\"Package\\Flow\\Write\" name=\"Write\" "
        "componentClassID=\"Microsoft.RecordsetDestination\"><properties>"
        "<property name=\"VariableName\">User::Result</property></properties>"
        "<inputs><input refId=\"Package\\Flow\\Write.Inputs[In]\" name="
        "\"In\"><inputColumns>" IC("Id") IC("Name") IC("Amount")
        "</inputColumns></input></inputs></component></components><paths>"
        "<path refId=\"Package\\Flow.Paths[P]\" name=\"P\" startId=\"" RO
        "\" endId=\"Package\\Flow\\Write.Inputs[In]\" /></paths></pipeline>"
        "</DTS:ObjectData></DTS:Executable></DTS:Executables>"
        "</DTS:Executable>",
        path);
}

/* Flat file -> Raw File destination, then Raw File source -> rows, with
 * NULLs, strings and decimals intact and columns matched by name. */
static void
raw_file_round_trip(void **state)
{
    static const char in[] = "Id,Name,Amount\r\n1,\"a, b\",1.5\r\n"
                             "2,,\r\n3,c,-7\r\n";
    struct hspec s = {.cm_attrs = CSV_ATTRS, .cols = orders, .ncols = 3,
                      .retain_nulls = true};
    char *path = xasprintf("/tmp/weir-raw-%d.raw", (int)getpid());
    char *props = xasprintf("componentClassID=\"DTSAdapter.RawDestination.3\" "
                            "name=\"Write\"><properties><property name=\""
                            "AccessMode\">0</property><property name=\""
                            "FileName\">%s</property><property name=\""
                            "WriteOption\">0</property>",
                            path);
    char *xml = h_package(&s), *writer, *reader = raw_reader(path);
    struct hrun r;
    struct werr err;

    writer = replace(xml, "componentClassID=\"Microsoft.FlatFileDestination\""
                          " name=\"Write\"><properties><property name=\""
                          "Overwrite\">true</property>",
                     props);
    h_init(&r, writer);
    h_write(&r, "in.txt", in, sizeof(in) - 1);
    if (h_run(&r, &err) < 0)
        fail_msg("%s\n%s", err.msg, r.events.buf);
    h_release(&r);
    h_init(&r, reader);
    if (h_run(&r, &err) < 0)
        fail_msg("%s\n%s", err.msg, r.events.buf);
    assert_string_equal(r.rowset.buf, "1|a, b|1.50\n2|NULL|NULL\n3|c|-7.00\n");
    assert_non_null(strstr(r.events.buf, "INFO Raw: read 3 rows from"));
    h_release(&r);
    unlink(path);
    h_init(&r, reader); /* the file is gone */
    assert_int_equal(h_run(&r, &err), -1);
    assert_non_null(strstr(r.events.buf, "ERROR Raw: cannot open '/tmp/weir-raw-"));
    h_release(&r);
    free(reader);
    free(writer);
    free(xml);
    free(props);
    free(path);
}

/* Replaces every `a` after `from` in `s` by `b` (caller frees). */
static char *
replace_after(const char *s, const char *from, const char *a, const char *b)
{
    const char *start = strstr(s, from), *p;
    struct wbuf out;

    assert_non_null(start);
    wbuf_init(&out, WBUF_NOLIMIT);
    wbuf_add(&out, s, (size_t)(start - s), NULL);
    for (s = start; (p = strstr(s, a)); s = p + strlen(a)) {
        wbuf_add(&out, s, (size_t)(p - s), NULL);
        wbuf_adds(&out, b, NULL);
    }
    wbuf_adds(&out, s, NULL);
    return wbuf_detach(&out, NULL);
}

#define UA "Package\\Flow\\UA"
#define MC "Package\\Flow\\MC"
#define UAI(i, n, feeds)                                                    \
    "<inputColumn refId=\"" UA ".Inputs[In " i "].Columns[" n "]\" "         \
    "lineageId=\"Package\\Flow\\Read.Outputs[Flat File Source Output]."    \
    "Columns[" n "]\" cachedName=\"" n "\"><properties><property "            \
    "name=\"OutputColumnLineageID\" containsID=\"true\">#{" UA                 \
    ".Outputs[Out].Columns[" feeds "]}</property></properties></inputColumn>"
#define UAO(n, t)                                                           \
    "<outputColumn refId=\"" UA ".Outputs[Out].Columns[" n "]\" lineageId="  \
    "\"" UA ".Outputs[Out].Columns[" n "]\" name=\"" n "\" " t " />"
#define PATH(n, from, to)                                                   \
    "<path refId=\"Package\\Flow.Paths[" n "]\" name=\"" n "\" startId=\""  \
    from "\" endId=\"" to "\" />"

/* Source -> Multicast (two outputs) -> Union All (two inputs; the second
 * feeds no Amount, which is NULL for its rows) -> rows. */
static void
union_all_maps_columns(void **state)
{
    static const char in[] = "Id,Name,Amount\r\n1,a,1.5\r\n2,b,2\r\n";
    static const char comps[] =
        "<component refId=\"" MC "\" name=\"MC\" componentClassID=\""
        "Microsoft.Multicast\"><inputs><input refId=\"" MC ".Inputs[In]\" "
        "name=\"In\" /></inputs><outputs><output refId=\"" MC ".Outputs[1]\""
        " name=\"1\" synchronousInputId=\"" MC ".Inputs[In]\" /><output "
        "refId=\"" MC ".Outputs[2]\" name=\"2\" synchronousInputId=\"" MC
        ".Inputs[In]\" /></outputs></component>"
        "<component refId=\"" UA "\" name=\"UA\" componentClassID=\""
        "DTSTransform.UnionAll.3\"><inputs><input refId=\"" UA ".Inputs[In "
        "1]\" name=\"In 1\"><inputColumns>" UAI("1", "Id", "Id")
        UAI("1", "Name", "Name") UAI("1", "Amount", "Amount")
        "</inputColumns></input><input refId=\"" UA ".Inputs[In 2]\" name="
        "\"In 2\"><inputColumns>" UAI("2", "Name", "Name") UAI("2", "Id", "Id")
        "</inputColumns></input></inputs><outputs><output refId=\"" UA
        ".Outputs[Out]\" name=\"Out\"><outputColumns>"
        UAO("Id", "dataType=\"i4\"") UAO("Name", "dataType=\"wstr\" "
        "length=\"20\"") UAO("Amount", "dataType=\"numeric\" precision=\"10\""
        " scale=\"2\"") "</outputColumns></output></outputs></component>"
        "</components>";
    static const char paths[] =
        PATH("Source", "Package\\Flow\\Read.Outputs[Flat File Source Output]",
             MC ".Inputs[In]")
        PATH("1", MC ".Outputs[1]", UA ".Inputs[In 1]")
        PATH("2", MC ".Outputs[2]", UA ".Inputs[In 2]")
        PATH("All", UA ".Outputs[Out]", "Package\\Flow\\Write.Inputs[In]")
        "</paths>";
    struct hspec s = {.cm_attrs = CSV_ATTRS, .cols = orders, .ncols = 3,
                      .recordset = true};
    char *xml = h_package(&s), *a, *b, *c, *p;
    struct hrun r;
    struct werr err;

    a = replace_after(xml, "DTSAdapter.RecordsetDestination.3",
                      "Read.Outputs[Flat File Source Output]",
                      "UA.Outputs[Out]");
    b = replace(a, "</components>", comps);
    p = strstr(b, "<paths>");
    assert_non_null(p);
    c = xasprintf("%.*s<paths>%s</pipeline>%s", (int)(p - b), b, paths,
                  strstr(p, "</pipeline>") + strlen("</pipeline>"));
    h_init(&r, c);
    h_write(&r, "in.txt", in, sizeof(in) - 1);
    if (h_run(&r, &err) < 0)
        fail_msg("%s\n%s", err.msg, r.events.buf);
    assert_string_equal(r.rowset.buf,
                        "1|a|1.50\n2|b|2.00\n1|a|NULL\n2|b|NULL\n");
    assert_non_null(strstr(r.events.buf, "ROWS All: 4\n"));
    h_release(&r);
    free(c);
    free(b);
    free(a);
    free(xml);
}

/* Overwrite=false appends to the destination's file. */
static void
destination_appends(void **state)
{
    static const char in[] = "Id,Name,Amount\r\n1,a,1\r\n";
    struct hspec s = {.cm_attrs = CSV_ATTRS, .cols = orders, .ncols = 3};
    char *xml = h_package(&s), *app, *out;
    struct hrun r;
    struct werr err;

    app = replace(xml, "<property name=\"Overwrite\">true</property>",
                  "<property name=\"Overwrite\">false</property>");
    h_init(&r, app);
    h_write(&r, "in.txt", in, sizeof(in) - 1);
    h_write(&r, "out.txt", "0|before|0\n", 11);
    assert_int_equal(h_run(&r, &err), 0);
    assert_int_equal(h_run(&r, &err), 0);
    out = h_read(&r, "out.txt");
    assert_string_equal(out, "0|before|0\n1|a|1.00\n1|a|1.00\n");
    free(out);
    h_release(&r);
    free(app);
    free(xml);
}

/* ---- memory bounded by the buffers in flight ---- */

/* Writes `rows` rows "N,nNNN\n" to file In of `r`, a block at a time. */
static void
generate(struct hrun *r, long rows)
{
    char *path = h_path(r, "in.txt"), block[1 << 16];
    FILE *f = fopen(path, "wb");
    size_t n = 0;

    assert_non_null(f);
    for (long i = 0; i < rows; i++) {
        n += (size_t)snprintf(block + n, sizeof(block) - n, "%ld,n%ld\n", i,
                              i % 1000);
        if (n > sizeof(block) - 64) {
            assert_int_equal(fwrite(block, 1, n, f), n);
            n = 0;
        }
    }
    assert_int_equal(fwrite(block, 1, n, f), n);
    fclose(f);
    free(path);
}

static long
run_rows(long rows)
{
    static const struct hcol cols[] = {
        {.name = "Id", .ff_type = 3, .type = "i4"},
        {.name = "Tag", .ff_type = 130, .width = 10, .type = "wstr",
         .length = 10, .delim = "_x000A_"},
    };
    struct hspec s = {.cm_attrs = "DTS:Format=\"Delimited\" "
                                  "DTS:CodePage=\"65001\"",
                      .cols = cols, .ncols = 2, .row_count = true};
    char *xml = h_package(&s);
    struct hrun r;
    struct werr err;
    long peak;

    h_init(&r, xml);
    r.out_path = "/dev/null";
    generate(&r, rows);
    assert_int_equal(h_run(&r, &err), 0);
    assert_int_equal(r.rows_var, rows);
    peak = h_peak_kib();
    h_release(&r);
    free(xml);
    return peak;
}

/* A pipeline over 1M rows, then over 10M rows: the peak memory of the
 * second is within a few MiB of the first's, because a run holds only
 * the buffers in flight.  WEIR_DF_MEMORY_ROWS scales both down (the
 * figures are still printed) for slow machines. */
static void
memory_does_not_grow_with_rows(void **state)
{
    const char *env = getenv("WEIR_DF_MEMORY_ROWS");
    long small = env ? atol(env) : 1000000, large = 10 * small;
    long before = h_peak_kib(), p1 = run_rows(small), p10 = run_rows(large);

    printf("peak RSS: %ld KiB before, %ld KiB after %ld rows, %ld KiB after "
           "%ld rows\n", before, p1, small, p10, large);
    assert_true(p10 - p1 < 16 * 1024);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_qualifiers_and_embedded),
        cmocka_unit_test(csv_lf_where_crlf_declared),
        cmocka_unit_test(csv_bom_and_short_rows),
        cmocka_unit_test(csv_code_page_1252),
        cmocka_unit_test(csv_utf16),
        cmocka_unit_test(fixed_width_and_ragged_right),
        cmocka_unit_test(data_rows_to_skip_and_file_name),
        cmocka_unit_test(error_output_redirect_and_ignore),
        cmocka_unit_test(conversion_failure_names_row_and_column),
        cmocka_unit_test(missing_file_fails_naming_it),
        cmocka_unit_test(cancel_stops_the_run),
        cmocka_unit_test(validation_messages),
        cmocka_unit_test(nulls_and_recordset),
        cmocka_unit_test(fixture_flat_files),
        cmocka_unit_test(raw_file_round_trip),
        cmocka_unit_test(union_all_maps_columns),
        cmocka_unit_test(destination_appends),
        cmocka_unit_test(weir_exec_runs_a_data_flow),
        cmocka_unit_test(flat_file_paths_with_backslashes),
        cmocka_unit_test(progress_while_rows_flow),
        cmocka_unit_test(memory_does_not_grow_with_rows),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
