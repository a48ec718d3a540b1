/*
 * Copy Column through weir exec (tests/fixtures/dataflow/copy): a string
 * and an integer column copied, NULLs included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cmocka.h>

#include "xf_harness.h"

static void
copies(void **state)
{
    static const char *const cms[] = {"In", "Out", NULL};
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", "id,name\n1,ann\n2,\n,bob\n");
    assert_int_equal(xf_run(&t, "copy/copy.dtsx", cms, false), 0);
    XF_FILE_IS(&t, "out.csv",
               "\"id\",\"name\",\"Copy of name\",\"Copy of id\"\n"
               "\"1\",\"ann\",\"ann\",\"1\"\n"
               "\"2\",\"\",\"\",\"2\"\n"
               "\"\",\"bob\",\"bob\",\"\"\n");
    xf_release(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(copies),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
