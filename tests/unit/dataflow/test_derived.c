/*
 * Derived Column through weir exec (tests/fixtures/dataflow/derived):
 * new columns cast to their declared types, a readWrite column replaced,
 * NULLs carried through the expressions, and each disposition: a
 * division by zero ignored (NULL), a truncation redirected with its
 * ErrorCode and ErrorColumn, the same truncation failing the component,
 * and a bad expression named at validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cmocka.h>

#include "xf_harness.h"

static const char *const cms[] = {"In", "Out", "Errors", NULL};

static const char input[] = "id,name,qty,price\n"
                            "1,al,2,1.50\n"
                            "2,bob,0,3.00\n"
                            "3,christopher,1,2.25\n"
                            "4,,3,0.10\n";

static void
rows_and_dispositions(void **state)
{
    struct xf t;
    char want[256];

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", input);
    assert_int_equal(xf_run(&t, "derived/derived-ok.dtsx", cms, false), 0);
    /* Ratio = 100 / qty is ignored (NULL) for qty 0; name is replaced
     * by TRIM(name) + "!", NULL stays NULL; Total is qty * price at
     * numeric(12,2). */
    XF_FILE_IS(&t, "out.csv",
               "\"id\",\"name\",\"Total\",\"Short\",\"Ratio\"\n"
               "\"1\",\"al!\",\"3.00\",\"AL\",\"50\"\n"
               "\"2\",\"bob!\",\"0.00\",\"BOB\",\"\"\n"
               "\"4\",\"\",\"0.30\",\"\",\"33\"\n");
    /* UPPER(name) does not fit Short (wstr 3): redirected. */
    snprintf(
        want, sizeof(want),
        "\"id\",\"name\",\"ErrorCode\",\"ErrorColumn\"\n"
        "\"3\",\"christopher!\",\"-1071607675\",\"%d\"\n",
        xf_column_id("derived/derived-ok.dtsx", "Derived Column", "Short"));
    XF_FILE_IS(&t, "errors.csv", want);
    xf_release(&t);
}

static void
truncation_fails_the_component(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", input);
    assert_int_equal(xf_run(&t, "derived/derived-fail.dtsx", cms, false), 1);
    XF_OUTPUT_HAS(&t, "Derived Column");
    XF_OUTPUT_HAS(&t, "'Short'");
    XF_OUTPUT_HAS(&t, "truncated");
    xf_release(&t);
}

static void
bad_expression_fails_validation(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", input);
    assert_int_equal(xf_run(&t, "derived/derived-badexpr.dtsx", cms, true), 1);
    XF_OUTPUT_HAS(&t, "component 'Derived Column': column 'Short'");
    XF_OUTPUT_HAS(&t, "1:90: unknown input column 'nosuch'");
    xf_release(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_and_dispositions),
        cmocka_unit_test(truncation_fails_the_component),
        cmocka_unit_test(bad_expression_fails_validation),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
