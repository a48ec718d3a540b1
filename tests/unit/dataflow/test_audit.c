/*
 * Audit through weir exec (tests/fixtures/dataflow/audit): the package
 * name, the task name and the execution's GUID on every row, the GUID
 * the same on each row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cmocka.h>

#include "xf_harness.h"

static void
run_columns(void **state)
{
    static const char *const cms[] = {"In", "Out", NULL};
    struct xf t;
    char *out, *l1, *l2, *l3;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", "id,name\n1,a\n2,b\n");
    assert_int_equal(xf_run(&t, "audit/audit.dtsx", cms, false), 0);
    out = xf_read(&t, "out.csv");
    l1 = strtok_r(out, "\n", &l3);
    assert_string_equal(l1, "\"id\",\"name\",\"Package\",\"Task\",\"Run\"");
    l1 = strtok_r(NULL, "\n", &l3);
    l2 = strtok_r(NULL, "\n", &l3);
    assert_non_null(l1);
    assert_non_null(l2);
    assert_true(!strncmp(l1, "\"1\",\"a\",\"audit\",\"Data Flow Task\",", 33));
    assert_true(!strncmp(l2, "\"2\",\"b\",\"audit\",\"Data Flow Task\",", 33));
    /* "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}", the same on both rows. */
    assert_int_equal(strlen(l1 + 33), 40);
    assert_int_equal(l1[34], '{');
    assert_string_equal(l1 + 33, l2 + 33);
    free(out);
    xf_release(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_columns),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
