/*
 * Merge Join through weir exec (tests/fixtures/dataflow/mergejoin): two
 * Flat File sources sorted by Sort components, joined inner, left outer
 * and full outer; duplicate keys give the cross product, NULL keys match
 * nothing (TreatNullsAsEqual false); an unsorted input fails validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cmocka.h>

#include "xf_harness.h"

static const char *const cms[] = {"Left", "Right", "Out", NULL};

static void
run(const char *pkg, const char *want)
{
    struct xf t;

    xf_init(&t);
    xf_write(&t, "left.csv",
             "id,name\n3,carol\n1,ann\n2,bob\n5,eve\n"
             ",nobody\n");
    xf_write(&t, "right.csv",
             "cid,amount\n2,20\n1,10\n2,21\n4,40\n1,11\n"
             ",99\n");
    assert_int_equal(xf_run(&t, pkg, cms, false), 0);
    XF_FILE_IS(&t, "out.csv", want);
    xf_release(&t);
}

static void
inner(void **state)
{
    (void)state;
    run("mergejoin/mergejoin-inner.dtsx",
        "\"id\",\"name\",\"amount\"\n"
        "\"1\",\"ann\",\"10\"\n\"1\",\"ann\",\"11\"\n"
        "\"2\",\"bob\",\"20\"\n\"2\",\"bob\",\"21\"\n");
}

static void
left_outer(void **state)
{
    (void)state;
    run("mergejoin/mergejoin-left.dtsx",
        "\"id\",\"name\",\"amount\"\n"
        "\"\",\"nobody\",\"\"\n"
        "\"1\",\"ann\",\"10\"\n\"1\",\"ann\",\"11\"\n"
        "\"2\",\"bob\",\"20\"\n\"2\",\"bob\",\"21\"\n"
        "\"3\",\"carol\",\"\"\n\"5\",\"eve\",\"\"\n");
}

static void
full_outer(void **state)
{
    (void)state;
    run("mergejoin/mergejoin-full.dtsx",
        "\"id\",\"name\",\"amount\"\n"
        "\"\",\"nobody\",\"\"\n\"\",\"\",\"99\"\n"
        "\"1\",\"ann\",\"10\"\n\"1\",\"ann\",\"11\"\n"
        "\"2\",\"bob\",\"20\"\n\"2\",\"bob\",\"21\"\n"
        "\"3\",\"carol\",\"\"\n\"\",\"\",\"40\"\n\"5\",\"eve\",\"\"\n");
}

static void
unsorted_input_fails_validation(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    assert_int_equal(xf_run(&t, "mergejoin/mergejoin-unsorted.dtsx", cms, true),
                     1);
    XF_OUTPUT_HAS(&t, "component 'Merge Join': input 'Merge Join Right "
                      "Input' is not sorted");
    xf_release(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inner),
        cmocka_unit_test(left_outer),
        cmocka_unit_test(full_outer),
        cmocka_unit_test(unsorted_input_fails_validation),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
