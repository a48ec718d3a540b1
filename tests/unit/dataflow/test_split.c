/*
 * Conditional Split through weir exec (tests/fixtures/dataflow/split):
 * cases in EvaluationOrder (not in the order written), the default
 * output, and a condition that is NULL: redirected to the error output
 * with its ErrorCode, or failing the component.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cmocka.h>

#include "xf_harness.h"

static const char *const cms[] = {"In",     "Many",   "Zero",
                                  "Others", "Errors", NULL};

/* Many: qty > 1 (order 1); Zero: qty == 0 || name == "zero" (order 0). */
static const char input[] = "id,name,qty\n"
                            "1,a,2\n"
                            "2,zero,5\n"
                            "3,c,0\n"
                            "4,d,1\n"
                            "5,e,\n"
                            "6,f,3\n";

static void
rows_by_evaluation_order(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", input);
    assert_int_equal(xf_run(&t, "split/split-ok.dtsx", cms, false), 0);
    XF_FILE_IS(&t, "many.csv",
               "\"id\",\"name\",\"qty\"\n\"1\",\"a\",\"2\"\n"
               "\"6\",\"f\",\"3\"\n");
    /* Row 2 matches both cases: Zero is evaluated first. */
    XF_FILE_IS(&t, "zero.csv",
               "\"id\",\"name\",\"qty\"\n\"2\",\"zero\",\"5\"\n"
               "\"3\",\"c\",\"0\"\n");
    XF_FILE_IS(&t, "others.csv",
               "\"id\",\"name\",\"qty\"\n\"4\",\"d\",\"1\"\n");
    /* qty NULL: NULL || FALSE is NULL, a row error (ErrorColumn 0). */
    XF_FILE_IS(&t, "errors.csv",
               "\"id\",\"name\",\"qty\",\"ErrorCode\",\"ErrorColumn\"\n"
               "\"5\",\"e\",\"\",\"-1071607711\",\"0\"\n");
    XF_OUTPUT_HAS(&t, "2 rows went along path 'Many'");
    xf_release(&t);
}

static void
all_rows_one_way(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", "id,name,qty\n1,a,7\n2,b,8\n");
    assert_int_equal(xf_run(&t, "split/split-ok.dtsx", cms, false), 0);
    XF_FILE_IS(&t, "many.csv",
               "\"id\",\"name\",\"qty\"\n\"1\",\"a\",\"7\"\n"
               "\"2\",\"b\",\"8\"\n");
    XF_FILE_IS(&t, "zero.csv", "\"id\",\"name\",\"qty\"\n");
    XF_FILE_IS(&t, "errors.csv",
               "\"id\",\"name\",\"qty\",\"ErrorCode\",\"ErrorColumn\"\n");
    xf_release(&t);
}

static void
null_condition_fails(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", input);
    assert_int_equal(xf_run(&t, "split/split-fail.dtsx", cms, false), 1);
    XF_OUTPUT_HAS(&t, "Conditional Split");
    xf_release(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_by_evaluation_order),
        cmocka_unit_test(all_rows_one_way),
        cmocka_unit_test(null_condition_fails),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
