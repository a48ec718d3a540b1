/*
 * Character Map through weir exec (tests/fixtures/dataflow/charmap): a
 * readWrite column lowercased in place, new columns uppercased and made
 * full width from the original value, non-ASCII letters, NULLs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cmocka.h>

#include "xf_harness.h"

static void
maps(void **state)
{
    static const char *const cms[] = {"In", "Out", NULL};
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", "id,name\n1,Ann B\n2,\n3,Ærø\n");
    assert_int_equal(xf_run(&t, "charmap/charmap.dtsx", cms, false), 0);
    XF_FILE_IS(&t, "out.csv",
               "\"id\",\"name\",\"upper\",\"wide\"\n"
               "\"1\",\"ann b\",\"ANN B\",\"Ａｎｎ　Ｂ\"\n"
               "\"2\",\"\",\"\",\"\"\n"
               "\"3\",\"ærø\",\"ÆRØ\",\"Æｒø\"\n");
    xf_release(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(maps),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
