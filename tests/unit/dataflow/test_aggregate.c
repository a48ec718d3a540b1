/*
 * Aggregate through weir exec (tests/fixtures/dataflow/aggregate): one
 * output grouped by city with every aggregation type, another with no
 * group-by column; NULLs skipped by count, sum, average, minimum and
 * maximum, counted by count all, grouped together; an empty input gives
 * no groups but one row of totals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "xf_harness.h"

static const char *const cms[] = {"In", "Out", "Totals", NULL};

static const char header[] =
    "\"city\",\"rows\",\"names\",\"distinct_names\",\"total_qty\","
    "\"avg_qty\",\"avg_price\",\"min_name\",\"max_price\"\n";

static void
groups_and_null_rules(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv",
             "city,name,qty,price\n"
             "Oslo,ann,2,1.50\n"
             "Bergen,bob,3,2.00\n"
             "Oslo,ann,,2.25\n"
             "Oslo,cid,4,\n"
             ",dan,1,0.10\n"
             "Bergen,,5,3.00\n");
    assert_int_equal(xf_run(&t, "aggregate/aggregate.dtsx", cms, false), 0);
    char *out = xf_read(&t, "out.csv");
    assert_non_null(strstr(out, header));
    /* Groups in order of first appearance. */
    assert_string_equal(
        out + strlen(header),
        "\"Oslo\",\"3\",\"3\",\"2\",\"6\",\"3\",\"1.8750\",\"ann\","
        "\"2.25\"\n"
        "\"Bergen\",\"2\",\"1\",\"1\",\"8\",\"4\",\"2.5000\",\"bob\","
        "\"3.00\"\n"
        "\"\",\"1\",\"1\",\"1\",\"1\",\"1\",\"0.1000\",\"dan\",\"0.10\"\n");
    free(out);
    XF_FILE_IS(&t, "totals.csv", "\"rows\",\"sum_price\"\n\"6\",\"8.85\"\n");
    xf_release(&t);
}

static void
empty_input(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", "city,name,qty,price\n");
    assert_int_equal(xf_run(&t, "aggregate/aggregate.dtsx", cms, false), 0);
    XF_FILE_IS(&t, "out.csv", header);
    XF_FILE_IS(&t, "totals.csv", "\"rows\",\"sum_price\"\n\"0\",\"\"\n");
    xf_release(&t);
}

/* Sums of 38-digit decimals pass what 128 bits hold: an error naming the
 * overflow, not a wrapped value (the fixture with price as numeric(38,2)). */
static void
exact_sum_overflow_fails(void **state)
{
    const char *fixtures = getenv("WEIR_DF_FIXTURES");
    char *pkg = xf_fixture("aggregate/aggregate.dtsx"), *xml, *p, *dir;
    char *saved = fixtures ? xstrdup(fixtures) : NULL;
    struct wbuf b;
    struct werr err;
    struct xf t;

    (void)state;
    xf_init(&t);
    wbuf_init(&b, WBUF_NOLIMIT);
    assert_int_equal(wfile_read(pkg, &b, &err), 0);
    xml = wbuf_detach(&b, NULL);
    while ((p = strstr(xml, "recision=\"10\"")))
        memcpy(p, "recision=\"38\"", 13);
    dir = xf_path(&t, "aggregate");
    assert_int_equal(mkdir(dir, 0755), 0);
    free(dir);
    xf_write(&t, "aggregate/aggregate.dtsx", xml);
    setenv("WEIR_DF_FIXTURES", t.dir, 1);
    xf_write(&t, "in.csv",
             "city,name,qty,price\n"
             "Oslo,ann,2,999999999999999999999999999999999999.99\n"
             "Oslo,bob,3,999999999999999999999999999999999999.99\n");
    assert_int_equal(xf_run(&t, "aggregate/aggregate.dtsx", cms, false), 1);
    assert_non_null(strstr(t.out.buf, "overflows DT_NUMERIC"));
    if (saved)
        setenv("WEIR_DF_FIXTURES", saved, 1);
    else
        unsetenv("WEIR_DF_FIXTURES");
    free(saved);
    free(xml);
    free(pkg);
    xf_release(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(groups_and_null_rules),
        cmocka_unit_test(empty_input),
        cmocka_unit_test(exact_sum_overflow_fails),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
