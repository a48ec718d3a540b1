/*
 * Unpivot through weir exec (tests/fixtures/dataflow/unpivot): the
 * columns ham, soda and milk become rows of (cust, product, qty), NULL
 * values making no row, but a row of NULLs one row (as in SSIS); two
 * destination columns (qty and price) per pivot key value, a row kept when one
 * of them is not NULL; validation of a missing PivotKey column, a PivotKeyValue
 * given twice to one destination, and destinations with different pivot key
 * values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cmocka.h>

#include "xf_harness.h"

static const char *const cms[] = {"In", "Out", NULL};

static void
one_destination(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv",
             "cust,ham,soda,milk\n"
             "ann,1,2,3\n"
             "bob,,5,\n"
             ",7,,\n"
             "cid,,,\n");
    assert_int_equal(xf_run(&t, "unpivot/unpivot.dtsx", cms, false), 0);
    XF_FILE_IS(&t, "out.csv",
               "cust,product,qty\n"
               "ann,Ham,1\n"
               "ann,Soda,2\n"
               "ann,Milk,3\n"
               "bob,Soda,5\n"
               ",Ham,7\n"
               "cid,Ham,\n");
    xf_release(&t);
}

/* 12,000 input rows make 36,000 output rows: several full buffers. */
static void
many_rows(void **state)
{
    struct xf t;
    struct wbuf in, want;

    (void)state;
    xf_init(&t);
    wbuf_init(&in, WBUF_NOLIMIT);
    wbuf_init(&want, WBUF_NOLIMIT);
    wbuf_adds(&in, "cust,ham,soda,milk\n", NULL);
    wbuf_adds(&want, "cust,product,qty\n", NULL);
    for (int i = 0; i < 12000; i++) {
        wbuf_addf(&in, NULL, "c%05d,%d,%d,%d\n", i, i, i + 1, i + 2);
        wbuf_addf(&want, NULL, "c%05d,Ham,%d\nc%05d,Soda,%d\nc%05d,Milk,%d\n",
                  i, i, i, i + 1, i, i + 2);
    }
    xf_write(&t, "in.csv", in.buf);
    assert_int_equal(xf_run(&t, "unpivot/unpivot.dtsx", cms, false), 0);
    XF_FILE_IS(&t, "out.csv", want.buf);
    wbuf_release(&in);
    wbuf_release(&want);
    xf_release(&t);
}

static void
two_destinations(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv",
             "cust,ham_qty,ham_price,soda_qty,soda_price\n"
             "ann,1,10,2,20\n"
             "bob,,,5,\n"
             "cid,,30,,\n"
             "dan,,,,\n");
    assert_int_equal(xf_run(&t, "unpivot/unpivot-multi.dtsx", cms, false), 0);
    XF_FILE_IS(&t, "out.csv",
               "cust,product,qty,price\n"
               "ann,Ham,1,10\n"
               "ann,Soda,2,20\n"
               "bob,Soda,5,\n"
               "cid,Ham,,30\n"
               "dan,Ham,,\n");
    xf_release(&t);
}

static void
bad_configuration(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", "cust,ham,soda,milk\n");
    assert_int_not_equal(xf_run(&t, "unpivot/unpivot-nokey.dtsx", cms, true),
                         0);
    XF_OUTPUT_HAS(&t, "component 'Unpivot': no output column is marked as "
                      "the PivotKey");
    assert_int_not_equal(xf_run(&t, "unpivot/unpivot-dupkey.dtsx", cms, true),
                         0);
    XF_OUTPUT_HAS(&t, "component 'Unpivot': input columns 'ham' and 'soda' "
                      "both give PivotKeyValue 'Ham' to output column 'qty'");
    assert_int_not_equal(xf_run(&t, "unpivot/unpivot-badkeys.dtsx", cms, true),
                         0);
    XF_OUTPUT_HAS(&t, "component 'Unpivot': output column 'price' has no "
                      "input column with PivotKeyValue 'Soda'");
    xf_release(&t);
}

/* A pass-through value longer than its output column (cust: 3
 * characters): IgnoreFailure cuts it, the default fails the component
 * naming the column (it used to be copied whole). */
static void
long_strings(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv",
             "cust,ham,soda,milk\n"
             "barbara,1,,\n"
             "ann,,2,\n");
    assert_int_equal(xf_run(&t, "unpivot/unpivot-cut.dtsx", cms, false), 0);
    XF_FILE_IS(&t, "out.csv", "cust,product,qty\nbar,Ham,1\nann,Soda,2\n");
    assert_int_not_equal(xf_run(&t, "unpivot/unpivot-trunc.dtsx", cms, false),
                         0);
    XF_OUTPUT_HAS(&t, "column 'cust': the value \"barbara\" is longer "
                      "than its 3 characters");
    xf_release(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_destination),
        cmocka_unit_test(many_rows),
        cmocka_unit_test(two_destinations),
        cmocka_unit_test(bad_configuration),
        cmocka_unit_test(long_strings),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
