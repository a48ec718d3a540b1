/*
 * Percentage Sampling through weir exec (tests/fixtures/dataflow/sample):
 * with SamplingSeed 42 and 30 percent, 1,000 rows split into about 300
 * selected and the rest unselected, every row exactly once, in order, and
 * the same rows on a second run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cmocka.h>

#include "xf_harness.h"

static size_t
lines(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void
seeded_split(void **state)
{
    static const char *const cms[] = {"In", "Selected", "Unselected", NULL};
    struct xf t;
    struct wbuf in;
    char *sel, *unsel, *again;
    size_t ns, nu;
    int i;

    (void)state;
    xf_init(&t);
    wbuf_init(&in, WBUF_NOLIMIT);
    wbuf_adds(&in, "id,name\n", NULL);
    for (i = 0; i < 1000; i++)
        wbuf_addf(&in, NULL, "%d,n%d\n", i, i);
    xf_write(&t, "in.csv", in.buf);
    assert_int_equal(xf_run(&t, "sample/sample.dtsx", cms, false), 0);
    sel = xf_read(&t, "selected.csv");
    unsel = xf_read(&t, "unselected.csv");
    ns = lines(sel) - 1;
    nu = lines(unsel) - 1;
    assert_int_equal(ns + nu, 1000);
    assert_in_range(ns, 250, 350);
    assert_int_equal(xf_run(&t, "sample/sample.dtsx", cms, false), 0);
    again = xf_read(&t, "selected.csv");
    assert_string_equal(sel, again);
    free(sel);
    free(unsel);
    free(again);
    wbuf_release(&in);
    xf_release(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seeded_split),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
