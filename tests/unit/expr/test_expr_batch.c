/* The batch evaluator against the row evaluator, and the API's edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"

static void
placeholder(void **state)
{
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(placeholder),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
