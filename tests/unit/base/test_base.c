/* Unit tests for src/base. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/warena.h"
#include "base/wbuf.h"
#include "base/werr.h"
#include "base/wfile.h"
#include "base/wid.h"
#include "base/wjson.h"
#include "base/wopt.h"
#include "base/wtime.h"
#include "base/xalloc.h"

static void
wbuf_grows_and_stays_terminated(void **state)
{
    struct wbuf b;
    struct werr e;

    wbuf_init(&b, WBUF_NOLIMIT);
    assert_string_equal(b.buf, "");
    for (int i = 0; i < 1000; i++)
        assert_int_equal(wbuf_addf(&b, &e, "%d,", i % 10), 0);
    assert_int_equal(b.len, 2000);
    assert_int_equal(strlen(b.buf), 2000);
    assert_memory_equal(b.buf, "0,1,2,", 6);
    wbuf_consume(&b, 1998);
    assert_string_equal(b.buf, "9,");
    wbuf_release(&b);
}

static void
wbuf_refuses_past_its_limit(void **state)
{
    struct wbuf b;
    struct werr e;

    wbuf_init(&b, 8);
    assert_int_equal(wbuf_adds(&b, "12345678", &e), 0);
    assert_int_equal(wbuf_addch(&b, 'x', &e), -1);
    assert_int_equal(e.code, WERR_LIMIT);
    assert_string_equal(b.buf, "12345678");
    wbuf_release(&b);
}

static void
werr_prefix_keeps_code(void **state)
{
    struct werr e;

    assert_int_equal(werr_set(&e, WERR_NOTFOUND, "no execution %d", 42), -1);
    werr_prefix(&e, "stop");
    assert_string_equal(e.msg, "stop: no execution 42");
    assert_int_equal(werr_http_status(e.code), 404);
    assert_int_equal(werr_code_from_name(werr_code_name(WERR_LIMIT)),
                     WERR_LIMIT);
    assert_int_equal(werr_code_from_http(413), WERR_LIMIT);
}

static void
uuid_and_names(void **state)
{
    char a[WID_UUID_LEN + 1], b[WID_UUID_LEN + 1];

    wid_uuid(a);
    wid_uuid(b);
    assert_true(wid_is_uuid(a));
    assert_string_not_equal(a, b);
    assert_int_equal(a[14], '4');
    assert_false(wid_is_uuid("not-a-uuid"));
    assert_true(wid_is_name("Extract.dtsx"));
    assert_false(wid_is_name("../etc"));
    assert_false(wid_is_name(".."));
    assert_false(wid_is_name(""));
}

static void
durations_parse(void **state)
{
    int64_t ms;

    assert_int_equal(wtime_parse_duration_ms("250ms", &ms), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(wtime_parse_duration_ms("1.5s", &ms), 0);
    assert_int_equal(ms, 1500);
    assert_int_equal(wtime_parse_duration_ms("2m", &ms), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(wtime_parse_duration_ms("3", &ms), 0);
    assert_int_equal(ms, 3000);
    assert_int_equal(wtime_parse_duration_ms("3 weeks", &ms), -1);
    assert_int_equal(wtime_parse_duration_ms("-1s", &ms), -1);
}

struct conf {
    char *listen;
    int64_t max_tasks;
    bool verbose;
    int64_t lease_ms;
    char **tags;
};

static const struct wopt table[] = {
    {"listen", WOPT_STR, offsetof(struct conf, listen), "127.0.0.1:8391", 0, 0,
     "address", 0},
    {"max-tasks", WOPT_INT, offsetof(struct conf, max_tasks), "4", 1, 64,
     "slots", 'n'},
    {"verbose", WOPT_BOOL, offsetof(struct conf, verbose), "false", 0, 0,
     "more", 0},
    {"lease", WOPT_DURATION, offsetof(struct conf, lease_ms), "15s", 0,
     INT64_MAX, "lease", 0},
    {"tag", WOPT_LIST, offsetof(struct conf, tags), NULL, 0, 0, "tags", 0},
    WOPT_END,
};

static void
options_follow_precedence(void **state)
{
    char path[] = "/tmp/weir-test-conf-XXXXXX";
    const char *text = "# comment\nmax-tasks = 8\nlisten = 0.0.0.0:1\n"
                       "tag = a\ntag = b\n";
    struct werr e;
    struct conf c;
    char **pos;
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    setenv("WTEST_LISTEN", "10.0.0.1:2", 1);
    char *argv[] = {"prog", "--config", path, "run", "-n", "16", "--verbose",
                    "--lease=500ms", "extra", NULL};
    assert_int_equal(wopt_parse(table, &c, "WTEST", "usage", 9, argv, &pos,
                                &e), 0);
    assert_int_equal(c.max_tasks, 16);
    assert_string_equal(c.listen, "10.0.0.1:2");
    assert_true(c.verbose);
    assert_int_equal(c.lease_ms, 500);
    assert_string_equal(c.tags[0], "a");
    assert_string_equal(c.tags[1], "b");
    assert_null(c.tags[2]);
    assert_string_equal(pos[0], "run");
    assert_string_equal(pos[1], "extra");
    assert_null(pos[2]);
    free(pos);
    wopt_release(table, &c);
    unsetenv("WTEST_LISTEN");

    char *neg[] = {"prog", "--verbose", "--no-verbose", "--tag=x", "--", "-n",
                   NULL};
    assert_int_equal(wopt_parse(table, &c, "WTEST", "usage", 6, neg, &pos,
                                &e), 0);
    assert_false(c.verbose);
    assert_string_equal(c.tags[0], "x");
    assert_string_equal(pos[0], "-n");
    free(pos);
    wopt_release(table, &c);

    char *unknown[] = {"prog", "--no-listen", NULL};
    assert_int_equal(wopt_parse(table, &c, "WTEST", "usage", 2, unknown, &pos,
                                &e), -1);
    assert_non_null(strstr(e.msg, "unknown option '--no-listen'"));
    free(pos);
    wopt_release(table, &c);

    char *bad[] = {"prog", "-n", "65", NULL};
    assert_int_equal(wopt_parse(table, &c, "WTEST", "usage", 3, bad, &pos,
                                &e), -1);
    assert_int_equal(e.code, WERR_INVALID);
    assert_non_null(strstr(e.msg, "between 1 and 64"));
    free(pos);
    wopt_release(table, &c);
    unlink(path);
}

static void
json_getters_name_the_member(void **state)
{
    struct werr e;
    const char *s;
    int64_t n;
    json_t *j = wjson_parse_object("{\"a\":\"x\",\"n\":5}", 15, &e);

    assert_non_null(j);
    assert_int_equal(wjson_str(j, "a", true, NULL, &s, &e), 0);
    assert_string_equal(s, "x");
    assert_int_equal(wjson_int(j, "n", true, 0, 0, 4, &n, &e), -1);
    assert_non_null(strstr(e.msg, "'n'"));
    assert_int_equal(wjson_str(j, "n", true, NULL, &s, &e), -1);
    assert_int_equal(wjson_str(j, "zz", true, NULL, &s, &e), -1);
    assert_non_null(strstr(e.msg, "missing member 'zz'"));
    json_decref(j);
    assert_null(wjson_parse_object("{\"a\":", 5, &e));
    assert_non_null(strstr(e.msg, "line 1"));
    assert_null(wjson_parse_object("[1]", 3, &e));
}

static void
files_round_trip_and_hash(void **state)
{
    char dir[] = "/tmp/weir-test-XXXXXX";
    struct werr e;
    struct wbuf b;
    char hex[WFILE_SHA256_HEX + 1];

    assert_non_null(mkdtemp(dir));
    char *sub = xasprintf("%s/a/b/c", dir), *f = xasprintf("%s/f", sub);
    assert_int_equal(wfile_mkdirs(sub, &e), 0);
    assert_int_equal(wfile_write(f, "hello", 5, 0644, 1, &e), 0);
    wbuf_init(&b, 4);
    assert_int_equal(wfile_read(f, &b, &e), -1);
    assert_int_equal(e.code, WERR_LIMIT);
    wbuf_release(&b);
    wbuf_init(&b, 100);
    assert_int_equal(wfile_read(f, &b, &e), 0);
    assert_string_equal(b.buf, "hello");
    wbuf_release(&b);
    wfile_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(wfile_rmtree(dir, &e), 0);
    assert_int_equal(access(dir, F_OK), -1);
    free(sub);
    free(f);
}

static void
arena_allocates_aligned_zeroed_memory(void **state)
{
    struct warena a;
    char *big, *s;

    warena_init(&a);
    for (int i = 0; i < 5000; i++) {
        unsigned char *p = warena_alloc(&a, (size_t)(i % 37) + 1);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        for (int k = 0; k < i % 37 + 1; k++)
            assert_int_equal(p[k], 0);
        p[0] = 0xff;
    }
    big = warena_alloc(&a, 100000);
    assert_int_equal(big[99999], 0);
    s = warena_strndup(&a, "hello world", 5);
    assert_string_equal(s, "hello");
    assert_null(warena_strdup(&a, NULL));
    assert_null(warena_memdup(&a, "x", 0, 1));
    warena_reset(&a);
    assert_int_equal(*(char *)warena_alloc(&a, 8), 0);
    warena_release(&a);
    warena_free(warena_new());
    warena_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wbuf_grows_and_stays_terminated),
        cmocka_unit_test(wbuf_refuses_past_its_limit),
        cmocka_unit_test(werr_prefix_keeps_code),
        cmocka_unit_test(uuid_and_names),
        cmocka_unit_test(durations_parse),
        cmocka_unit_test(options_follow_precedence),
        cmocka_unit_test(json_getters_name_the_member),
        cmocka_unit_test(files_round_trip_and_hash),
        cmocka_unit_test(arena_allocates_aligned_zeroed_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
