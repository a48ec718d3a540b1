/*
 * Data Conversion through weir exec (tests/fixtures/dataflow/convert):
 * text to i4, dbDate and str(2), i4 to wstr; a bad number redirected
 * (conversion), a bad date ignored (NULL), a long string redirected
 * (truncation), NULL converted to NULL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cmocka.h>

#include "xf_harness.h"

static const char *const cms[] = {"In", "Out", "Errors", NULL};

static void
conversions_and_dispositions(void **state)
{
    struct xf t;
    char want[512];
    const char *pkg = "convert/convert.dtsx";

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv",
             "id,a,b,c\n"
             "1,12,2024-03-15,ab\n"
             "2,x,2024-03-16,cd\n"
             "3,-7,2024-03-17,abc\n"
             "4,,,\n"
             "5,8,notadate,xy\n");
    assert_int_equal(xf_run(&t, pkg, cms, false), 0);
    XF_FILE_IS(&t, "out.csv",
               "\"id\",\"a_int\",\"b_date\",\"c_short\",\"id_text\"\n"
               "\"1\",\"12\",\"2024-03-15\",\"ab\",\"1\"\n"
               "\"4\",\"\",\"\",\"\",\"4\"\n"
               "\"5\",\"8\",\"\",\"xy\",\"5\"\n");
    snprintf(want, sizeof(want),
             "\"id\",\"a\",\"c\",\"ErrorCode\",\"ErrorColumn\"\n"
             "\"2\",\"x\",\"cd\",\"-1071607676\",\"%d\"\n"
             "\"3\",\"-7\",\"abc\",\"-1071607675\",\"%d\"\n",
             xf_column_id(pkg, "Data Conversion", "a_int"),
             xf_column_id(pkg, "Data Conversion", "c_short"));
    XF_FILE_IS(&t, "errors.csv", want);
    xf_release(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conversions_and_dispositions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
