/*
 * Pivot through weir exec (tests/fixtures/dataflow/pivot): cust is the
 * set key, product the pivot key (Ham, Soda, Milk), qty the pivot value,
 * region passed through from each group's first row (and price a second
 * pivot value column in pivot-price).  Sorted and unsorted input, NULL set keys
 * and values, an unknown pivot key value and a duplicate row under each error
 * disposition (fail, redirect with ErrorCode and ErrorColumn, ignore),
 * PassThroughUnmatchedPivotKeys, and the validation of a missing pivot key and
 * a repeated PivotKeyValue; the class ids of Pivot, Unpivot and the sampling
 * components.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cmocka.h>

#include "xf_harness.h"

static const char *const cms[] = {"In", "Out", "Errors", NULL};

static const char out_header[] = "cust,region,ham_qty,soda_qty,milk_qty\n";
static const char err_header[] = "cust,product,qty,ErrorCode,ErrorColumn\n";

static void
groups_and_nulls(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    /* An empty cust or qty is NULL (RetainNulls). */
    xf_write(&t, "in.csv",
             "cust,product,qty,region\n"
             ",Milk,4,none\n"
             ",Ham,1,other\n"
             "ann,Ham,2,north\n"
             "ann,Soda,3,south\n"
             "ann,Milk,,east\n"
             "bob,Soda,5,west\n");
    assert_int_equal(xf_run(&t, "pivot/pivot.dtsx", cms, false), 0);
    char *want =
        xasprintf("%s,none,1,,4\nann,north,2,3,\nbob,west,,5,\n", out_header);
    XF_FILE_IS(&t, "out.csv", want);
    free(want);
    XF_FILE_IS(&t, "errors.csv", err_header);
    xf_release(&t);
}

static void
unsorted_input(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv",
             "cust,product,qty,region\n"
             "ann,Ham,2,north\n"
             "bob,Soda,5,west\n"
             "ann,Milk,6,east\n");
    assert_int_equal(xf_run(&t, "pivot/pivot.dtsx", cms, false), 0);
    char *want =
        xasprintf("%sann,north,2,,\nbob,west,,5,\nann,east,,,6\n", out_header);
    XF_FILE_IS(&t, "out.csv", want);
    free(want);
    xf_release(&t);
}

/* 30,000 rows in groups of three: groups and output rows cross the
 * boundaries of 10,000-row buffers. */
static void
groups_across_buffers(void **state)
{
    struct xf t;
    struct wbuf in, want;

    (void)state;
    xf_init(&t);
    wbuf_init(&in, WBUF_NOLIMIT);
    wbuf_init(&want, WBUF_NOLIMIT);
    wbuf_adds(&in, "cust,product,qty,region\n", NULL);
    wbuf_adds(&want, out_header, NULL);
    for (int i = 0; i < 30000; i++) {
        static const char *const products[] = {"Ham", "Soda", "Milk"};
        wbuf_addf(&in, NULL, "c%05d,%s,%d,r%d\n", i / 3, products[i % 3], i, i);
        if (i % 3 == 0)
            wbuf_addf(&want, NULL, "c%05d,r%d,%d,%d,%d\n", i / 3, i, i, i + 1,
                      i + 2);
    }
    xf_write(&t, "in.csv", in.buf);
    assert_int_equal(xf_run(&t, "pivot/pivot.dtsx", cms, false), 0);
    XF_FILE_IS(&t, "out.csv", want.buf);
    wbuf_release(&in);
    wbuf_release(&want);
    xf_release(&t);
}

/* Two pivot value columns: each pivot key value has a qty and a price
 * column. */
static void
two_value_columns(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv",
             "cust,product,qty,region,price\n"
             "ann,Ham,2,north,20\n"
             "ann,Milk,,east,5\n"
             "bob,Soda,5,west,\n");
    assert_int_equal(xf_run(&t, "pivot/pivot-price.dtsx", cms, false), 0);
    XF_FILE_IS(&t, "out.csv",
               "cust,region,ham_qty,soda_qty,milk_qty,ham_price,soda_price,"
               "milk_price\n"
               "ann,north,2,,,20,,5\n"
               "bob,west,,5,,,,\n");
    xf_release(&t);
}

static const char bad_rows[] = "cust,product,qty,region\n"
                               "ann,Ham,2,north\n"
                               "ann,Bread,9,x\n"
                               "ann,Ham,8,y\n"
                               "bob,,1,q\n"
                               "bob,Soda,5,west\n";

static void
failures_fail(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", bad_rows);
    assert_int_equal(xf_run(&t, "pivot/pivot.dtsx", cms, false), 1);
    XF_OUTPUT_HAS(&t, "Pivot: the pivot key value \"Bread\" is no output "
                      "column's PivotKeyValue, and the input's disposition "
                      "is FailComponent");
    xf_write(&t, "in.csv",
             "cust,product,qty,region\nann,Ham,2,north\nann,Ham,8,y\n");
    assert_int_equal(xf_run(&t, "pivot/pivot.dtsx", cms, false), 1);
    XF_OUTPUT_HAS(&t, "Pivot: duplicate pivot key value \"Ham\" in one set "
                      "key");
    xf_release(&t);
}

static void
failures_redirected(void **state)
{
    struct xf t;
    int col = xf_column_id("pivot/pivot-redirect.dtsx", "Pivot", "product");
    char *want;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", bad_rows);
    assert_int_equal(xf_run(&t, "pivot/pivot-redirect.dtsx", cms, false), 0);
    want = xasprintf("%sann,north,2,,\nbob,west,,5,\n", out_header);
    XF_FILE_IS(&t, "out.csv", want);
    free(want);
    want = xasprintf("%sann,Bread,9,-1071636336,%d\n"
                     "ann,Ham,8,-1071636273,%d\n"
                     "bob,,1,-1071636336,%d\n",
                     err_header, col, col, col);
    XF_FILE_IS(&t, "errors.csv", want);
    free(want);
    xf_release(&t);
}

static void
failures_ignored(void **state)
{
    struct xf t;
    char *want;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", bad_rows);
    assert_int_equal(xf_run(&t, "pivot/pivot-ignore.dtsx", cms, false), 0);
    want = xasprintf("%sann,north,2,,\nbob,west,,5,\n", out_header);
    XF_FILE_IS(&t, "out.csv", want);
    free(want);
    XF_FILE_IS(&t, "errors.csv", err_header);
    xf_release(&t);
}

static void
unmatched_keys_passed_over(void **state)
{
    struct xf t;
    char *want;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv",
             "cust,product,qty,region\n"
             "ann,Tea,1,x\n"
             "ann,Ham,2,north\n"
             "ann,Bread,1,x\n"
             "ann,Tea,1,x\n"
             "bob,Soda,5,west\n");
    assert_int_equal(xf_run(&t, "pivot/pivot-unmatched.dtsx", cms, false), 0);
    want = xasprintf("%sann,north,2,,\nbob,west,,5,\n", out_header);
    XF_FILE_IS(&t, "out.csv", want);
    free(want);
    XF_OUTPUT_HAS(&t, "Pivot: un-matched pivot key values: \"Tea\", "
                      "\"Bread\"");
    xf_release(&t);
}

static void
bad_configuration(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", "cust,product,qty,region\n");
    assert_int_not_equal(xf_run(&t, "pivot/pivot-nokey.dtsx", cms, true), 0);
    XF_OUTPUT_HAS(&t, "component 'Pivot': no pivot key: one input column "
                      "needs PivotUsage 2");
    assert_int_not_equal(xf_run(&t, "pivot/pivot-dupkey.dtsx", cms, true), 0);
    XF_OUTPUT_HAS(&t, "component 'Pivot': output column 'ham_again': "
                      "PivotKeyValue 'Ham' is another column's too");
    xf_release(&t);
}

/* The class ids packages write for these components, 2008 ProgIDs
 * included, all reach a runnable component. */
static void
class_names(void **state)
{
    static const char *const names[][2] = {
        {"Microsoft.Pivot", "Microsoft.Pivot"},
        {"DTSTransform.Pivot.2", "Microsoft.Pivot"},
        {"Microsoft.UnPivot", "Microsoft.UnPivot"},
        {"DTSTransform.UnPivot.3", "Microsoft.UnPivot"},
        {"Microsoft.RowSampling", "Microsoft.RowSampling"},
        {"DTSTransform.RowSampling.2", "Microsoft.RowSampling"},
        {"Microsoft.PctSampling", "Microsoft.PercentageSampling"},
        {"DTSTransform.PctSampling.3", "Microsoft.PercentageSampling"},
        {"Microsoft.CopyMap", "Microsoft.CopyColumn"},
        {"DTSTransform.Cache.2", "Microsoft.Cache"},
        {"DTSTransform.CharacterMap.3", "Microsoft.CharacterMap"},
        {"DTSTransform.Merge.3", "Microsoft.Merge"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *c = df_class_normalize(names[i][0]);
        assert_string_equal(c, names[i][1]);
        assert_non_null(df_ops_for(c));
    }
}

/* A set key longer than its output column (cust: 3 characters):
 * IgnoreFailure cuts it, the default fails the component naming the
 * column (it used to be copied whole). */
static void
long_strings(void **state)
{
    struct xf t;
    char *want;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv",
             "cust,product,qty,region\n"
             "barbara,Ham,2,north\n"
             "ann,Soda,3,south\n");
    assert_int_equal(xf_run(&t, "pivot/pivot-cut.dtsx", cms, false), 0);
    want = xasprintf("%sbar,north,2,,\nann,south,,3,\n", out_header);
    XF_FILE_IS(&t, "out.csv", want);
    free(want);
    assert_int_not_equal(xf_run(&t, "pivot/pivot-trunc.dtsx", cms, false), 0);
    XF_OUTPUT_HAS(&t, "column 'cust': the value \"barbara\" is longer "
                      "than its 3 characters");
    xf_release(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(groups_and_nulls),
        cmocka_unit_test(unsorted_input),
        cmocka_unit_test(groups_across_buffers),
        cmocka_unit_test(two_value_columns),
        cmocka_unit_test(failures_fail),
        cmocka_unit_test(failures_redirected),
        cmocka_unit_test(failures_ignored),
        cmocka_unit_test(unmatched_keys_passed_over),
        cmocka_unit_test(bad_configuration),
        cmocka_unit_test(class_names),
        cmocka_unit_test(long_strings),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
