/*
 * Row Sampling through weir exec (tests/fixtures/dataflow/rowsample):
 * SamplingValue 10 with SamplingSeed 7 picks exactly 10 of 1,000 rows,
 * in input order, the other 990 go to the unselected output, every row
 * once, the same rows on a second run; fewer rows than SamplingValue are
 * all selected (NULLs kept); an empty input selects nothing; outputs
 * declared synchronous give the same rows; SamplingSeed 0 picks other
 * rows on each run; a negative SamplingValue fails validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cmocka.h>

#include "xf_harness.h"

static const char *const cms[] = {"In", "Selected", "Unselected", NULL};

/* in.csv: "id,name", then the rows 0,n0 to 999,n999. */
static void
write_input(struct xf *t)
{
    struct wbuf in;

    wbuf_init(&in, WBUF_NOLIMIT);
    wbuf_adds(&in, "id,name\n", NULL);
    for (int i = 0; i < 1000; i++)
        wbuf_addf(&in, NULL, "%d,n%d\n", i, i);
    xf_write(t, "in.csv", in.buf);
    wbuf_release(&in);
}

/* The ids of a written file (after its header), in order; returns how
 * many, marking each in `seen` (asserting none twice). */
static size_t
ids(const char *text, int *out, size_t max, unsigned char *seen)
{
    const char *p = strchr(text, '\n');
    size_t n = 0;

    while (p && p[1]) {
        int id = (int)strtol(p + 1, NULL, 10);
        assert_true(n < max);
        assert_in_range(id, 0, 999);
        assert_false(seen[id]);
        seen[id] = 1;
        out[n++] = id;
        p = strchr(p + 1, '\n');
    }
    return n;
}

static void
exactly_n_rows(void **state)
{
    struct xf t;
    unsigned char seen[1000] = {0};
    int sel[1000], unsel[1000];
    char *s, *u, *again;
    size_t ns, nu, i;

    (void)state;
    xf_init(&t);
    write_input(&t);
    assert_int_equal(xf_run(&t, "rowsample/rowsample.dtsx", cms, false), 0);
    s = xf_read(&t, "selected.csv");
    u = xf_read(&t, "unselected.csv");
    ns = ids(s, sel, 1000, seen);
    nu = ids(u, unsel, 1000, seen);
    assert_int_equal(ns, 10);
    assert_int_equal(nu, 990);
    for (i = 1; i < ns; i++)
        assert_true(sel[i - 1] < sel[i]);
    assert_true(sel[ns - 1] >= 10); /* not simply the first rows */
    XF_OUTPUT_HAS(&t, "10 rows went along path 'Write selected'");
    assert_int_equal(xf_run(&t, "rowsample/rowsample.dtsx", cms, false), 0);
    again = xf_read(&t, "selected.csv");
    assert_string_equal(s, again);
    free(s);
    free(u);
    free(again);
    xf_release(&t);
}

/* The Data Flow task's property expressions set SamplingValue (25, from
 * User::N, where the package says 10) and DefaultBufferMaxRows (7: rows
 * cross many buffers; 0 is refused); one naming a component the data
 * flow does not have fails the task, saying so. */
static void
property_expressions(void **state)
{
    struct xf t;
    unsigned char seen[1000] = {0};
    int sel[1000], unsel[1000];
    char *s, *u;

    (void)state;
    xf_init(&t);
    write_input(&t);
    assert_int_equal(xf_run(&t, "rowsample/rowsample-expr.dtsx", cms, false),
                     0);
    s = xf_read(&t, "selected.csv");
    u = xf_read(&t, "unselected.csv");
    assert_int_equal(ids(s, sel, 1000, seen), 25);
    assert_int_equal(ids(u, unsel, 1000, seen), 975);
    XF_OUTPUT_HAS(&t, "25 rows went along path 'Write selected'");
    assert_int_not_equal(
        xf_run(&t, "rowsample/rowsample-expr-bad.dtsx", cms, false), 0);
    XF_OUTPUT_HAS(&t, "the property expression on [Row Sampler]."
                      "[SamplingValue]: the data flow has no component "
                      "'Row Sampler'");
    /* DefaultBufferMaxRows from an expression reaches the pipeline: 0
     * is refused there. */
    assert_int_not_equal(
        xf_run(&t, "rowsample/rowsample-expr-rows.dtsx", cms, false), 0);
    XF_OUTPUT_HAS(&t, "the property expression on DefaultBufferMaxRows "
                      "gives '0': it must be a whole number from 1 to");
    free(s);
    free(u);
    xf_release(&t);
}

static void
fewer_rows_than_asked(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", "id,name\n3,c\n1,\n2,b\n");
    assert_int_equal(xf_run(&t, "rowsample/rowsample.dtsx", cms, false), 0);
    XF_FILE_IS(&t, "selected.csv", "id,name\n3,c\n1,\n2,b\n");
    XF_FILE_IS(&t, "unselected.csv", "id,name\n");
    xf_write(&t, "in.csv", "id,name\n");
    assert_int_equal(xf_run(&t, "rowsample/rowsample.dtsx", cms, false), 0);
    XF_FILE_IS(&t, "selected.csv", "id,name\n");
    XF_FILE_IS(&t, "unselected.csv", "id,name\n");
    xf_release(&t);
}

/* Outputs declared synchronous (no columns of their own) carry the
 * input's columns; the same seed picks the same rows. */
static void
synchronous_outputs(void **state)
{
    struct xf t;
    char *async_sel, *async_unsel;

    (void)state;
    xf_init(&t);
    write_input(&t);
    assert_int_equal(xf_run(&t, "rowsample/rowsample.dtsx", cms, false), 0);
    async_sel = xf_read(&t, "selected.csv");
    async_unsel = xf_read(&t, "unselected.csv");
    assert_int_equal(xf_run(&t, "rowsample/rowsample-sync.dtsx", cms, false),
                     0);
    XF_FILE_IS(&t, "selected.csv", async_sel);
    XF_FILE_IS(&t, "unselected.csv", async_unsel);
    free(async_sel);
    free(async_unsel);
    xf_release(&t);
}

static void
unseeded_differs(void **state)
{
    struct xf t;
    char *first, *second;

    (void)state;
    xf_init(&t);
    write_input(&t);
    /* SamplingSeed 0: the clock seeds each run. */
    assert_int_equal(
        xf_run(&t, "rowsample/rowsample-unseeded.dtsx", cms, false), 0);
    first = xf_read(&t, "selected.csv");
    assert_int_equal(
        xf_run(&t, "rowsample/rowsample-unseeded.dtsx", cms, false), 0);
    second = xf_read(&t, "selected.csv");
    assert_string_not_equal(first, second);
    free(first);
    free(second);
    xf_release(&t);
}

static void
negative_value_fails_validation(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", "id,name\n1,a\n");
    assert_int_not_equal(
        xf_run(&t, "rowsample/rowsample-negative.dtsx", cms, true), 0);
    XF_OUTPUT_HAS(&t, "component 'Row Sampling': SamplingValue '-5' is not "
                      "a number of rows");
    xf_release(&t);
}

/* Values longer than the outputs' name columns (3 characters; "åsa"
 * is three characters in four bytes and fits): IgnoreFailure cuts them,
 * the default fails the component naming the column (they used to be
 * copied whole).  Fewer rows than SamplingValue: all are selected. */
static void
long_strings(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", "id,name\n1,abcdef\n2,xy\n3,åsa\n");
    assert_int_equal(xf_run(&t, "rowsample/rowsample-cut.dtsx", cms, false),
                     0);
    XF_FILE_IS(&t, "selected.csv", "id,name\n1,abc\n2,xy\n3,åsa\n");
    assert_int_not_equal(
        xf_run(&t, "rowsample/rowsample-trunc.dtsx", cms, false), 0);
    XF_OUTPUT_HAS(&t, "column 'name': the value \"abcdef\" is longer than "
                      "its 3 characters");
    xf_release(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exactly_n_rows),
        cmocka_unit_test(fewer_rows_than_asked),
        cmocka_unit_test(property_expressions),
        cmocka_unit_test(synchronous_outputs),
        cmocka_unit_test(unseeded_differs),
        cmocka_unit_test(negative_value_fails_validation),
        cmocka_unit_test(long_strings),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
