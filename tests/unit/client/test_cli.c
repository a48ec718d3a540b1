/* Unit tests for the pure pieces of the weir command: tables, formatting
 * and the parsing of command-line values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

static const struct cli_column cols[] = {
    {"ID", CLI_RIGHT, 0},
    {"NAME", CLI_LEFT, 0},
    {"NOTE", CLI_LEFT, 0},
};

static char *
render(const struct cli_table *t)
{
    struct wbuf b;

    wbuf_init(&b, WBUF_NOLIMIT);
    cli_table_render(t, &b);
    return wbuf_detach(&b, NULL);
}

static void
table_widths_come_from_content(void **state)
{
    struct cli_table t;
    char *out;

    cli_table_init(&t, cols, 3);
    cli_table_add(&t, "7");
    cli_table_add(&t, "extract");
    cli_table_add(&t, "ok");
    cli_table_addf(&t, "%d", 1234);
    cli_table_add(&t, "x");
    cli_table_add(&t, "");
    assert_int_equal(cli_table_rows(&t), 2);
    out = render(&t);
    assert_string_equal(out, "  ID  NAME     NOTE\n"
                             "   7  extract  ok\n"
                             "1234  x\n");
    free(out);
    cli_table_release(&t);
}

static void
table_pads_a_short_last_row(void **state)
{
    struct cli_table t;
    char *out;

    cli_table_init(&t, cols, 3);
    cli_table_add(&t, "1");
    cli_table_add(&t, NULL);
    out = render(&t);
    assert_string_equal(out, "ID  NAME  NOTE\n"
                             " 1\n");
    free(out);
    cli_table_release(&t);
    cli_table_init(&t, cols, 3);
    out = render(&t);
    assert_string_equal(out, "ID  NAME  NOTE\n");
    free(out);
    cli_table_release(&t);
}

static void
table_truncates_past_max_width(void **state)
{
    static const struct cli_column narrow[] = {
        {"PACKAGE", CLI_LEFT, 10},
        {"N", CLI_RIGHT, 3},
    };
    struct cli_table t;
    char *out;

    cli_table_init(&t, narrow, 2);
    cli_table_add(&t, "demo/sample/Extract.dtsx");
    cli_table_add(&t, "123456");
    cli_table_add(&t, "short");
    cli_table_add(&t, "1");
    out = render(&t);
    assert_string_equal(out, "PACKAGE       N\n"
                             "demo/samp\xe2\x80\xa6  12\xe2\x80\xa6\n"
                             "short         1\n");
    free(out);
    cli_table_release(&t);
}

static void
table_counts_code_points_and_cleans_cells(void **state)
{
    static const struct cli_column two[] = {
        {"A", CLI_LEFT, 0},
        {"B", CLI_LEFT, 0},
    };
    struct cli_table t;
    char *out;

    cli_table_init(&t, two, 2);
    cli_table_add(&t, "\xc3\xa9t\xc3\xa9"); /* "été": 3 columns, 5 bytes */
    cli_table_add(&t, "x");
    cli_table_add(&t, "a\x1b[31mb\tc\nd");
    cli_table_add(&t, "y");
    out = render(&t);
    assert_string_equal(out, "A            B\n"
                             "\xc3\xa9t\xc3\xa9          x\n"
                             "a?[31mb c d  y\n");
    free(out);
    cli_table_release(&t);
}

static void
text_clean_rejects_bad_utf8_and_controls(void **state)
{
    struct wbuf b;

    wbuf_init(&b, WBUF_NOLIMIT);
    /* Overlong '/', a lone continuation byte, a C1 control (CSI), a cut
     * sequence at the end, and DEL. */
    assert_int_equal(cli_text_clean(&b, "a\xc0\xaf" "b\x80" "c\xc2\x9b"
                                        "d\x7f" "e\xe2\x80", false), 13);
    assert_string_equal(b.buf, "a??b?c??d?e??");
    wbuf_reset(&b);
    assert_int_equal(cli_text_clean(&b, "\xf0\x9f\x98\x80|\xed\xa0\x80",
                                    false), 5);
    assert_string_equal(b.buf, "\xf0\x9f\x98\x80|???");
    wbuf_reset(&b);
    cli_text_clean(&b, "one\ntwo\r", true);
    assert_string_equal(b.buf, "one\ntwo ");
    wbuf_reset(&b);
    assert_int_equal(cli_text_clean(&b, NULL, false), 0);
    assert_string_equal(b.buf, "");
    wbuf_release(&b);
}

static void
durations_are_human(void **state)
{
    static const struct {
        int64_t ms;
        const char *want;
    } cases[] = {
        {0, "0ms"},          {850, "850ms"},       {999, "999ms"},
        {1000, "1.0s"},      {12345, "12.3s"},     {59999, "59.9s"},
        {60000, "1m00s"},    {245000, "4m05s"},    {3599999, "59m59s"},
        {3600000, "1h00m"},  {7380000, "2h03m"},   {86399999, "23h59m"},
        {90000000, "1d01h"}, {-1, "-"},
    };
    char out[CLI_FMT_MAX];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cli_format_duration(cases[i].ms, out, sizeof(out));
        assert_string_equal(out, cases[i].want);
    }
    cli_format_run_time(0, 0, 5000, out, sizeof(out));
    assert_string_equal(out, "-");
    cli_format_run_time(1000, 0, 5000, out, sizeof(out));
    assert_string_equal(out, "4.0s");
    cli_format_run_time(1000, 1850, 5000, out, sizeof(out));
    assert_string_equal(out, "850ms");
}

static void
times_are_local_and_short_for_today(void **state)
{
    /* 2026-11-26T01:02:03.456Z */
    const int64_t t = INT64_C(1795654923456);
    char out[CLI_FMT_MAX];

    setenv("TZ", "UTC", 1);
    tzset();
    cli_format_time(t, t + 3600000, false, out, sizeof(out));
    assert_string_equal(out, "01:02:03");
    cli_format_time(t, t + 3600000, true, out, sizeof(out));
    assert_string_equal(out, "01:02:03.456");
    cli_format_time(t, t + 86400000, false, out, sizeof(out));
    assert_string_equal(out, "2026-11-26 01:02:03");
    cli_format_time(0, t, false, out, sizeof(out));
    assert_string_equal(out, "-");
    setenv("TZ", "JST-9", 1); /* UTC+9: already 10:02 there */
    tzset();
    cli_format_time(t, t, true, out, sizeof(out));
    assert_string_equal(out, "10:02:03.456");
    unsetenv("TZ");
    tzset();
}

static void
run_targets_parse(void **state)
{
    struct cli_target t;
    struct werr e;
    char longname[200];

    assert_int_equal(cli_target_parse(&t, "demo/sample/Extract.dtsx", true,
                                      &e), 0);
    assert_string_equal(t.folder, "demo");
    assert_string_equal(t.project, "sample");
    assert_string_equal(t.package, "Extract.dtsx");
    assert_int_equal(cli_target_parse(&t, "demo/sample/Load", true, &e), 0);
    assert_string_equal(t.package, "Load.dtsx");
    assert_int_equal(cli_target_parse(&t, "d/p/Big.DTSX", true, &e), 0);
    assert_string_equal(t.package, "Big.DTSX");
    assert_int_equal(cli_target_parse(&t, "demo/sample", false, &e), 0);
    assert_string_equal(t.project, "sample");
    assert_string_equal(t.package, "");

    assert_int_equal(cli_target_parse(&t, "demo/sample", true, &e), -1);
    assert_int_equal(e.code, WERR_INVALID);
    assert_string_equal(e.msg, "'demo/sample' is not of the form "
                               "FOLDER/PROJECT/PACKAGE.dtsx");
    assert_int_equal(cli_target_parse(&t, "a/b/c/d", true, &e), -1);
    assert_int_equal(cli_target_parse(&t, "a/b/c", false, &e), -1);
    assert_string_equal(e.msg, "'a/b/c' is not of the form FOLDER/PROJECT");
    assert_int_equal(cli_target_parse(&t, "/b/c", true, &e), -1);
    assert_string_equal(e.msg, "'/b/c': the folder name is empty");
    assert_int_equal(cli_target_parse(&t, "a//c", true, &e), -1);
    assert_string_equal(e.msg, "'a//c': the project name is empty");
    assert_int_equal(cli_target_parse(&t, "a/b/", true, &e), -1);
    assert_string_equal(e.msg, "'a/b/': the package name is empty");
    assert_int_equal(cli_target_parse(&t, "../b/c", true, &e), -1);
    assert_string_equal(e.msg, "'../b/c': '..' is not a valid folder name");
    assert_int_equal(cli_target_parse(&t, "a/b\\x/c", true, &e), -1);
    assert_int_equal(cli_target_parse(&t, "a/b/c\x01", true, &e), -1);
    assert_int_equal(cli_target_parse(&t, "", true, &e), -1);

    memset(longname, 'x', sizeof(longname));
    memcpy(longname, "a/b/", 4);
    longname[4 + 129] = '\0';
    assert_int_equal(cli_target_parse(&t, longname, true, &e), -1);
    assert_non_null(strstr(e.msg, "longer than 128 bytes"));
    longname[4 + 125] = '\0'; /* 125 + ".dtsx" is past 128 */
    assert_int_equal(cli_target_parse(&t, longname, true, &e), -1);
    longname[4 + 123] = '\0';
    assert_int_equal(cli_target_parse(&t, longname, true, &e), 0);
    assert_int_equal(strlen(t.package), 128);
}

static void
params_parse(void **state)
{
    json_t *p = json_object();
    struct werr e;

    assert_int_equal(cli_param_add(p, "Rows=100", &e), 0);
    assert_int_equal(cli_param_add(p, "Conn=Server=x;Db=y", &e), 0);
    assert_int_equal(cli_param_add(p, "$Project::Target=", &e), 0);
    assert_int_equal(cli_param_add(p, "$Package::Mode=fast", &e), 0);
    assert_string_equal(json_string_value(json_object_get(p, "Rows")), "100");
    assert_string_equal(json_string_value(json_object_get(p, "Conn")),
                        "Server=x;Db=y");
    assert_string_equal(
        json_string_value(json_object_get(p, "$Project::Target")), "");
    assert_int_equal(json_object_size(p), 4);

    assert_int_equal(cli_param_add(p, "Rows=5", &e), -1);
    assert_string_equal(e.msg, "parameter 'Rows' is given twice");
    assert_int_equal(cli_param_add(p, "novalue", &e), -1);
    assert_string_equal(e.msg,
                        "parameter 'novalue' is not of the form NAME=VALUE");
    assert_int_equal(cli_param_add(p, "=x", &e), -1);
    assert_int_equal(e.code, WERR_INVALID);
    assert_int_equal(cli_param_add(p, "$Other::X=1", &e), -1);
    assert_string_equal(e.msg, "parameter '$Other::X': the name must be "
                               "Name, $Project::Name or $Package::Name");
    assert_int_equal(cli_param_add(p, "$Project::=1", &e), -1);
    assert_int_equal(cli_param_add(p, "a:b=1", &e), -1);
    assert_int_equal(cli_param_add(p, "Bad=\xff", &e), -1);
    assert_string_equal(e.msg, "parameter 'Bad' is not valid UTF-8");
    assert_int_equal(json_object_size(p), 4);
    json_decref(p);
}

static void
levels_statuses_and_ids_parse(void **state)
{
    struct werr e;
    int64_t v;

    assert_int_equal(cli_parse_logging_level("Verbose", &v, &e), 0);
    assert_int_equal(v, 3);
    assert_int_equal(cli_parse_logging_level("none", &v, &e), 0);
    assert_int_equal(v, 0);
    assert_int_equal(cli_parse_logging_level("2", &v, &e), 0);
    assert_int_equal(v, 2);
    assert_int_equal(cli_parse_logging_level("4", &v, &e), -1);
    assert_int_equal(cli_parse_logging_level("loud", &v, &e), -1);
    assert_string_equal(e.msg, "logging level 'loud': use none, basic, "
                               "performance, verbose or 0-3");

    assert_int_equal(cli_parse_status("failed", &v, &e), 0);
    assert_int_equal(v, 4);
    assert_int_equal(cli_parse_status("Ended-Unexpectedly", &v, &e), 0);
    assert_int_equal(v, 6);
    assert_int_equal(cli_parse_status("ended_unexpectedly", &v, &e), 0);
    assert_int_equal(v, 6);
    assert_int_equal(cli_parse_status("9", &v, &e), 0);
    assert_int_equal(v, 9);
    assert_int_equal(cli_parse_status("0", &v, &e), -1);
    assert_int_equal(cli_parse_status("fail", &v, &e), -1);
    assert_int_equal(cli_parse_status("", &v, &e), -1);

    assert_int_equal(cli_parse_id("execution id", "42", &v, &e), 0);
    assert_int_equal(v, 42);
    assert_int_equal(cli_parse_id("execution id", "0", &v, &e), -1);
    assert_string_equal(e.msg, "'0' is not a valid execution id (a positive "
                               "integer)");
    assert_int_equal(cli_parse_id("execution id", "-3", &v, &e), -1);
    assert_int_equal(cli_parse_id("execution id", "12x", &v, &e), -1);
    assert_int_equal(cli_parse_id("execution id", " 1", &v, &e), -1);
    assert_int_equal(cli_parse_id("execution id", "99999999999999999999",
                                  &v, &e), -1);

    assert_string_equal(cli_status_name(6), "ended unexpectedly");
    assert_string_equal(cli_status_name(0), "unknown");
    assert_string_equal(cli_status_name(10), "unknown");
    assert_true(cli_status_is_final(3) && cli_status_is_final(7));
    assert_false(cli_status_is_final(2) || cli_status_is_final(8) ||
                 cli_status_is_final(5) || cli_status_is_final(1));
    assert_true(cli_status_is_success(7) && cli_status_is_success(9));
    assert_false(cli_status_is_success(4));
}

static void
url_escape_keeps_unreserved(void **state)
{
    struct wbuf b;
    struct werr e;

    wbuf_init(&b, WBUF_NOLIMIT);
    assert_int_equal(cli_url_escape(&b, "My Project-1_a.b~/?&=%\xc3\xa9", &e),
                     0);
    assert_string_equal(b.buf, "My%20Project-1_a.b~%2F%3F%26%3D%25%C3%A9");
    wbuf_release(&b);
    wbuf_init(&b, 4);
    assert_int_equal(cli_url_escape(&b, "a b", &e), -1);
    assert_int_equal(e.code, WERR_LIMIT);
    wbuf_release(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_widths_come_from_content),
        cmocka_unit_test(table_pads_a_short_last_row),
        cmocka_unit_test(table_truncates_past_max_width),
        cmocka_unit_test(table_counts_code_points_and_cleans_cells),
        cmocka_unit_test(text_clean_rejects_bad_utf8_and_controls),
        cmocka_unit_test(durations_are_human),
        cmocka_unit_test(times_are_local_and_short_for_today),
        cmocka_unit_test(run_targets_parse),
        cmocka_unit_test(params_parse),
        cmocka_unit_test(levels_statuses_and_ids_parse),
        cmocka_unit_test(url_escape_keeps_unreserved),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
