/*
 * Sort through weir exec (tests/fixtures/dataflow/sort): two keys, one
 * descending, NULLs first, case as a tie-breaker; EliminateDuplicates
 * with NewComparisonFlags ignoring case, keeping the first row of each
 * key; and 20,000 rows sorted through runs on disk with a tiny memory
 * budget (WEIR_DF_SORT_MEMORY), giving the same file as in memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cmocka.h>

#include "xf_harness.h"

static const char *const cms[] = {"In", "Out", NULL};

static const char input[] = "id,name,city\n"
                            "1,a,Oslo\n"
                            "2,b,bergen\n"
                            "3,c,oslo\n"
                            "4,d,\n"
                            "5,e,Bergen\n"
                            "6,f,Oslo\n"
                            "7,g,\n";

static void
keys_ascending_and_descending(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", input);
    assert_int_equal(xf_run(&t, "sort/sort-keys.dtsx", cms, false), 0);
    /* city ascending (NULL first, lowercase before uppercase), then id
     * descending. */
    XF_FILE_IS(&t, "out.csv",
               "\"id\",\"name\",\"city\"\n"
               "\"7\",\"g\",\"\"\n"
               "\"4\",\"d\",\"\"\n"
               "\"2\",\"b\",\"bergen\"\n"
               "\"5\",\"e\",\"Bergen\"\n"
               "\"3\",\"c\",\"oslo\"\n"
               "\"6\",\"f\",\"Oslo\"\n"
               "\"1\",\"a\",\"Oslo\"\n");
    xf_release(&t);
}

static void
duplicates_removed_ignoring_case(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", input);
    assert_int_equal(xf_run(&t, "sort/sort-dedup.dtsx", cms, false), 0);
    XF_FILE_IS(&t, "out.csv",
               "\"id\",\"name\",\"city\"\n"
               "\"4\",\"d\",\"\"\n"
               "\"2\",\"b\",\"bergen\"\n"
               "\"1\",\"a\",\"Oslo\"\n");
    xf_release(&t);
}

static void
spills_to_disk(void **state)
{
    static const char *const cities[] = {"Oslo", "oslo",   "Bergen", "",
                                         "Alta", "Tromso", "bergen"};
    struct xf t;
    struct wbuf in;
    char *mem, *disk;
    unsigned seed = 4;
    int i;

    (void)state;
    xf_init(&t);
    wbuf_init(&in, WBUF_NOLIMIT);
    wbuf_adds(&in, "id,name,city\n", NULL);
    for (i = 0; i < 20000; i++) {
        seed = seed * 1103515245 + 12345;
        wbuf_addf(&in, NULL, "%d,n%u,%s\n", i, (seed >> 8) % 100,
                  cities[(seed >> 16) % 7]);
    }
    xf_write(&t, "in.csv", in.buf);
    assert_int_equal(xf_run(&t, "sort/sort-keys.dtsx", cms, false), 0);
    mem = xf_read(&t, "out.csv");
    setenv("WEIR_DF_SORT_MEMORY", "8k", 1);
    assert_int_equal(xf_run(&t, "sort/sort-keys.dtsx", cms, false), 0);
    unsetenv("WEIR_DF_SORT_MEMORY");
    XF_OUTPUT_HAS(&t, "runs on disk (memory budget 8192 bytes)");
    disk = xf_read(&t, "out.csv");
    assert_int_equal(strlen(mem), strlen(disk));
    assert_string_equal(mem, disk);
    /* NULL cities first, the largest id first among them. */
    assert_non_null(strstr(mem, "\"id\",\"name\",\"city\"\n\"199"));
    free(mem);
    free(disk);
    wbuf_release(&in);
    xf_release(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_ascending_and_descending),
        cmocka_unit_test(duplicates_removed_ignoring_case),
        cmocka_unit_test(spills_to_disk),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
