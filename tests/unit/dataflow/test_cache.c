/*
 * Cache Transform, the Cache connection manager and Lookup from a cache
 * (ConnectionType 1) through weir exec (tests/fixtures/dataflow/cache):
 * a data flow fills the cache, a second one of the same package looks
 * rows up in it; the cache's file written by one package and read by
 * another; and the errors: duplicate keys, NULL keys, types that differ,
 * an empty cache, files weir did not write or that were cut.
 *
 * The cache's key is (id DT_I4, code DT_WSTR 10); it holds name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cmocka.h>

#include "xf_harness.h"

static const char *const all_cms[] = {"Ref", "In", "Out", "Miss", NULL};
static const char *const file_cms[] = {"Ref", "In", "Out", "Miss", "Cache",
                                       NULL};

#define REF "id,code,name\n1,a,ann\n2,b,bob\n3,,null code\n,c,null id\n"
#define IN "id,code\n1,a\n2,b\n2,x\n3,\n,c\n9,z\n1,a\n"
#define FOUND                                                                  \
    "\"id\",\"code\",\"name\"\n"                                               \
    "\"1\",\"a\",\"ann\"\n"                                                    \
    "\"2\",\"b\",\"bob\"\n"                                                    \
    "\"3\",\"\",\"null code\"\n"                                               \
    "\"\",\"c\",\"null id\"\n"                                                 \
    "\"1\",\"a\",\"ann\"\n"
#define MISSING "\"id\",\"code\"\n\"2\",\"x\"\n\"9\",\"z\"\n"

/* Runs PACKAGE (only validating it when `validate`) with REF and IN as
 * its inputs, and checks that it fails, saying `want`. */
static void
assert_refused(const char *package, const char *const *cms, bool validate,
               const char *want)
{
    struct xf t;

    xf_init(&t);
    xf_write(&t, "ref.csv", REF);
    xf_write(&t, "in.csv", IN);
    assert_int_not_equal(xf_run(&t, package, cms, validate), 0);
    XF_OUTPUT_HAS(&t, want);
    xf_release(&t);
}

/* One package: Fill (Ref -> Cache Transform), then Look up (In -> Lookup
 * -> Out, no match -> Miss).  NULL keys match NULL keys. */
static void
fill_then_lookup(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "ref.csv", REF);
    xf_write(&t, "in.csv", IN);
    assert_int_equal(xf_run(&t, "cache/cache-lookup.dtsx", all_cms, false),
                     0);
    XF_FILE_IS(&t, "out.csv", FOUND);
    XF_FILE_IS(&t, "miss.csv", MISSING);
    XF_OUTPUT_HAS(&t, "Cache ref: cached 4 rows in 'Cache'");
    XF_OUTPUT_HAS(&t, "Find name: 4 reference rows in the cache 'Cache'");
    xf_release(&t);
}

/* Many rows: several cache buffers, the table grown several times. */
static void
many_rows(void **state)
{
    struct wbuf ref, in, want;
    struct xf t;
    char *got;

    (void)state;
    xf_init(&t);
    wbuf_init(&ref, WBUF_NOLIMIT);
    wbuf_init(&in, WBUF_NOLIMIT);
    wbuf_init(&want, WBUF_NOLIMIT);
    wbuf_adds(&ref, "id,code,name\n", NULL);
    wbuf_adds(&in, "id,code\n", NULL);
    wbuf_adds(&want, "\"id\",\"code\",\"name\"\n", NULL);
    for (int i = 0; i < 20000; i++)
        wbuf_addf(&ref, NULL, "%d,k%d,n%d\n", i, i % 7, i);
    for (int i = 19999; i >= 0; i -= 3) {
        wbuf_addf(&in, NULL, "%d,k%d\n", i, i % 7);
        wbuf_addf(&want, NULL, "\"%d\",\"k%d\",\"n%d\"\n", i, i % 7, i);
    }
    xf_write(&t, "ref.csv", ref.buf);
    xf_write(&t, "in.csv", in.buf);
    assert_int_equal(xf_run(&t, "cache/cache-lookup.dtsx", all_cms, false),
                     0);
    got = xf_read(&t, "out.csv");
    assert_string_equal(got, want.buf);
    free(got);
    XF_FILE_IS(&t, "miss.csv", "\"id\",\"code\"\n");
    wbuf_release(&ref);
    wbuf_release(&in);
    wbuf_release(&want);
    xf_release(&t);
}

/* A key twice fails the Cache Transform, naming the values; the second
 * data flow does not run. */
static void
duplicate_key(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "ref.csv", "id,code,name\n1,a,ann\n2,b,bob\n2,b,again\n");
    xf_write(&t, "in.csv", IN);
    assert_int_not_equal(
        xf_run(&t, "cache/cache-lookup.dtsx", all_cms, false), 0);
    XF_OUTPUT_HAS(&t, "component 'Cache ref': the cache 'Cache' already "
                      "contains a row with the index values id = 2, "
                      "code = b");
    XF_FILE_IS(&t, "out.csv", "");
    xf_release(&t);
}

/* NULL is a key value: two rows with the same NULL key are duplicates. */
static void
duplicate_null_key(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "ref.csv", "id,code,name\n,a,one\n,b,two\n,a,three\n");
    xf_write(&t, "in.csv", IN);
    assert_int_not_equal(
        xf_run(&t, "cache/cache-lookup.dtsx", all_cms, false), 0);
    XF_OUTPUT_HAS(&t, "index values id = NULL, code = a");
    xf_release(&t);
}

/* NoMatchBehavior 0 with FailComponent: the first row without a match
 * fails the Lookup. */
static void
no_match_fails(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "ref.csv", REF);
    xf_write(&t, "in.csv", "id,code\n1,a\n9,z\n");
    assert_int_not_equal(
        xf_run(&t, "cache/cache-nomatch-fail.dtsx", all_cms, false), 0);
    XF_OUTPUT_HAS(&t, "Find name");
    XF_OUTPUT_HAS(&t, "the row has no match");
    xf_release(&t);
}

/* NoMatchBehavior 0 with RedirectRow: rows without a match go to the
 * error output with ErrorCode -1071607778. */
static void
no_match_redirects(void **state)
{
    static const char *const cms[] = {"Ref", "In", "Out", "Miss", "Errors",
                                      NULL};
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "ref.csv", REF);
    xf_write(&t, "in.csv", "id,code\n1,a\n9,z\n2,b\n8,y\n");
    assert_int_equal(
        xf_run(&t, "cache/cache-nomatch-redirect.dtsx", cms, false), 0);
    XF_FILE_IS(&t, "out.csv",
               "\"id\",\"code\",\"name\"\n\"1\",\"a\",\"ann\"\n"
               "\"2\",\"b\",\"bob\"\n");
    XF_FILE_IS(&t, "errors.csv",
               "\"id\",\"ErrorCode\"\n\"9\",\"-1071607778\"\n"
               "\"8\",\"-1071607778\"\n");
    xf_release(&t);
}

/* The cache's id is DT_I8, the Lookup joins an i4 column to it: the
 * package does not validate. */
static void
type_mismatch(void **state)
{
    (void)state;
    assert_refused("cache/cache-mismatch.dtsx", all_cms, true,
                   "component 'Find name': join column 'id' is DT_I4, "
                   "cache column 'id' is DT_I8");
}

/* A Lookup from a cache must use the full cache. */
static void
partial_refused(void **state)
{
    (void)state;
    assert_refused("cache/cache-partial.dtsx", all_cms, true,
                   "must use the full cache (CacheType 0, not 1)");
}

/* Nothing filled the cache and it has no file. */
static void
empty_cache(void **state)
{
    (void)state;
    assert_refused("cache/cache-empty.dtsx", all_cms, false,
                   "the cache 'Cache' is empty: no Cache Transform has "
                   "filled it in this run");
}

/* UseFile: one package writes the cache's file, another reads it. */
static void
file_round_trip(void **state)
{
    struct xf t;
    char *caw;

    (void)state;
    xf_init(&t);
    xf_write(&t, "ref.csv", REF);
    xf_write(&t, "in.csv", IN);
    assert_int_equal(
        xf_run(&t, "cache/cache-write.dtsx", file_cms, false), 0);
    XF_OUTPUT_HAS(&t, "wrote the cache to '");
    caw = xf_read(&t, "cache.csv");
    assert_memory_equal(caw, "WEIRCAW1", 8);
    free(caw);
    xf_write(&t, "ref.csv", "id,code,name\n");
    assert_int_equal(
        xf_run(&t, "cache/cache-read.dtsx", file_cms, false), 0);
    XF_FILE_IS(&t, "out.csv", FOUND);
    XF_FILE_IS(&t, "miss.csv", MISSING);
    XF_OUTPUT_HAS(&t, "4 reference rows in the cache 'Cache'");
    xf_release(&t);
}

/* A file weir did not write (an SSIS .caw) is refused, naming it. */
static void
foreign_file(void **state)
{
    struct xf t;
    char *want, *path;

    (void)state;
    xf_init(&t);
    xf_write(&t, "in.csv", IN);
    xf_write(&t, "cache.csv", "\x01\x02\x03\x04 not ours at all");
    assert_int_not_equal(
        xf_run(&t, "cache/cache-read.dtsx", file_cms, false), 0);
    path = xf_path(&t, "cache.csv");
    want = xasprintf("'%s' is not a weir cache file (cache files written "
                     "by SSIS cannot be read", path);
    XF_OUTPUT_HAS(&t, want);
    free(want);
    free(path);
    xf_release(&t);
}

/* A cut file, and no file at all. */
static void
damaged_file(void **state)
{
    struct xf t;
    char *path;

    (void)state;
    xf_init(&t);
    xf_write(&t, "ref.csv", REF);
    xf_write(&t, "in.csv", IN);
    assert_int_equal(
        xf_run(&t, "cache/cache-write.dtsx", file_cms, false), 0);
    path = xf_path(&t, "cache.csv");
    /* The magic, the column count and part of the columns. */
    assert_int_equal(truncate(path, 8 + 4 + 30), 0);
    assert_int_not_equal(
        xf_run(&t, "cache/cache-read.dtsx", file_cms, false), 0);
    XF_OUTPUT_HAS(&t, "unexpected end of file");
    XF_FILE_IS(&t, "out.csv", "");
    assert_int_equal(unlink(path), 0);
    assert_int_not_equal(
        xf_run(&t, "cache/cache-read.dtsx", file_cms, false), 0);
    XF_OUTPUT_HAS(&t, "opening cache file");
    free(path);
    xf_release(&t);
}

/* The Cache Transform's input column is DT_I8, the cache's DT_I4. */
static void
fill_type_mismatch(void **state)
{
    (void)state;
    assert_refused("cache/cache-fill-mismatch.dtsx", all_cms, true,
                   "component 'Cache ref': input column 'id' is DT_I8, "
                   "cache column 'id' is DT_I4");
}

/* The Cache manager takes no BLOB columns, as in SSIS. */
static void
blob_refused(void **state)
{
    static const char *const ref_cm[] = {"Ref", NULL};

    (void)state;
    assert_refused("cache/cache-bad-def.dtsx", ref_cm, true,
                   "cache connection manager 'Cache': column 'notes': "
                   "DT_NTEXT cannot be cached");
}

/* A Cache Transform and a Lookup of the same cache in one data flow:
 * whichever starts second fails, and nothing is left half filled. */
static void
same_flow_refused(void **state)
{
    (void)state;
    assert_refused("cache/cache-same-flow.dtsx", all_cms, false,
                   "the cache 'Cache' is being ");
}

/* A cache is written once per run, as in SSIS: a second Cache Transform
 * of the same cache fails. */
static void
filled_twice(void **state)
{
    struct xf t;

    (void)state;
    xf_init(&t);
    xf_write(&t, "ref.csv", REF);
    assert_int_not_equal(
        xf_run(&t, "cache/cache-twice.dtsx", all_cms, false), 0);
    XF_OUTPUT_HAS(&t, "Cache ref: cached 4 rows in 'Cache'");
    XF_OUTPUT_HAS(&t, "\\Package\\Fill again");
    XF_OUTPUT_HAS(&t, "the cache 'Cache' was already filled in this run");
    xf_release(&t);
}

/* The cache's file is the author's Windows path, not overridden: the
 * Cache Transform fails before it reads a row. */
static void
windows_path(void **state)
{
    (void)state;
    assert_refused("cache/cache-winpath.dtsx", all_cms, false,
                   "the cache file 'C:\\caches\\products.caw' is a "
                   "Windows path: give its Linux path with --connection "
                   "NAME=PATH");
}

/* ReadOnly: the Cache Transform fills the cache in memory for the
 * Lookup, and the file is not written. */
static void
read_only_file(void **state)
{
    struct xf t;
    char *caw;

    (void)state;
    xf_init(&t);
    xf_write(&t, "ref.csv", REF);
    xf_write(&t, "in.csv", IN);
    assert_int_equal(
        xf_run(&t, "cache/cache-readonly.dtsx", file_cms, false), 0);
    XF_FILE_IS(&t, "out.csv", FOUND);
    caw = xf_read(&t, "cache.csv");
    assert_string_equal(caw, "");
    free(caw);
    xf_release(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fill_then_lookup),
        cmocka_unit_test(many_rows),
        cmocka_unit_test(duplicate_key),
        cmocka_unit_test(duplicate_null_key),
        cmocka_unit_test(no_match_fails),
        cmocka_unit_test(no_match_redirects),
        cmocka_unit_test(type_mismatch),
        cmocka_unit_test(partial_refused),
        cmocka_unit_test(empty_cache),
        cmocka_unit_test(file_round_trip),
        cmocka_unit_test(foreign_file),
        cmocka_unit_test(damaged_file),
        cmocka_unit_test(fill_type_mismatch),
        cmocka_unit_test(blob_refused),
        cmocka_unit_test(same_flow_refused),
        cmocka_unit_test(filled_twice),
        cmocka_unit_test(windows_path),
        cmocka_unit_test(read_only_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
