/*
 * Merge through weir exec (tests/fixtures/dataflow/merge): two inputs
 * sorted by Sort components merged on id, NULL first, equal keys in
 * input order (the first input's row first).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cmocka.h>

#include "xf_harness.h"

static void
merges_sorted_inputs(void **state)
{
    static const char *const cms[] = {"A", "B", "Out", NULL};
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "a.csv", "id,name\n3,c\n1,a\n5,e\n");
    xf_write(&t, "b.csv", "id,name\n2,b\n3,C\n,n\n4,d\n");
    assert_int_equal(xf_run(&t, "merge/merge.dtsx", cms, false), 0);
    XF_FILE_IS(&t, "out.csv", "\"id\",\"name\"\n"
                              "\"\",\"n\"\n"
                              "\"1\",\"a\"\n"
                              "\"2\",\"b\"\n"
                              "\"3\",\"c\"\n"
                              "\"3\",\"C\"\n"
                              "\"4\",\"d\"\n"
                              "\"5\",\"e\"\n");
    xf_release(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merges_sorted_inputs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
