/* Unit tests for the pure pieces of src/master: route matching, ids,
 * --listen parsing, option checks, archive paths and zip limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "master/master_int.h"

/* ---- routes ---- */

static int
dummy(struct mreq *r, struct werr *err)
{
    return 0;
}

static const struct route table[] = {
    {"PUT", "/api/v1/folders/{folder}/projects/{project}", dummy, 0},
    {"GET", "/api/v1/folders/{folder}/projects/{project}", dummy, 0},
    {"GET", "/api/v1/folders", dummy, 0},
    {"GET", "/api/v1/executions/{id}", dummy, 0},
    {"POST", "/api/v1/executions/{id}/stop", dummy, 0},
    {NULL, NULL, NULL, 0},
};

static void
route_matches_literals_and_params(void **state)
{
    char *p[ROUTE_MAX_PARAMS] = {0}, allow[32];
    const struct route *r;

    r = route_find(table, "GET", "/api/v1/folders", p, allow, sizeof(allow));
    assert_ptr_equal(r, &table[2]);
    assert_null(p[0]);
    assert_string_equal(allow, "");

    r = route_find(table, "PUT", "/api/v1/folders/demo/projects/sample", p,
                   allow, sizeof(allow));
    assert_ptr_equal(r, &table[0]);
    assert_string_equal(p[0], "demo");
    assert_string_equal(p[1], "sample");
    route_params_free(p);
    assert_null(p[0]);

    r = route_find(table, "POST", "/api/v1/executions/42/stop", p, allow,
                   sizeof(allow));
    assert_ptr_equal(r, &table[4]);
    assert_string_equal(p[0], "42");
    assert_null(p[1]);
    route_params_free(p);
}

static void
route_ignores_one_trailing_slash(void **state)
{
    char *p[ROUTE_MAX_PARAMS] = {0}, allow[32];

    assert_ptr_equal(route_find(table, "GET", "/api/v1/folders/", p, allow,
                                sizeof(allow)), &table[2]);
    assert_ptr_equal(route_find(table, "GET", "/api/v1/executions/7/", p,
                                allow, sizeof(allow)), &table[3]);
    assert_string_equal(p[0], "7");
    route_params_free(p);
}

static void
route_unknown_paths_are_404(void **state)
{
    static const char *paths[] = {
        "/", "", "/api", "/api/v1/folder", "/api/v1/folders/x",
        "/api/v1/executions//stop", "/api/v1/executions/1/stop/now",
        "/api/v1/folders//projects/p", "//api/v1/folders",
        "/api/v1/executions/1//", "/API/v1/folders",
    };
    char *p[ROUTE_MAX_PARAMS] = {0}, allow[32];

    for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
        assert_null(route_find(table, "GET", paths[i], p, allow,
                               sizeof(allow)));
        assert_string_equal(allow, "");
        assert_null(p[0]);
    }
}

static void
route_wrong_method_lists_allowed(void **state)
{
    char *p[ROUTE_MAX_PARAMS] = {0}, allow[32];

    assert_null(route_find(table, "DELETE", "/api/v1/folders/a/projects/b",
                           p, allow, sizeof(allow)));
    assert_string_equal(allow, "PUT, GET");
    assert_null(route_find(table, "GET", "/api/v1/executions/3/stop", p,
                           allow, sizeof(allow)));
    assert_string_equal(allow, "POST");
    assert_null(p[0]);
}

static void
route_master_table_is_complete(void **state)
{
    static const char *calls[][2] = {
        {"PUT", "/api/v1/folders/f/projects/p"},
        {"GET", "/api/v1/folders/f/projects/p"},
        {"GET", "/api/v1/folders"},
        {"GET", "/api/v1/projects"},
        {"GET", "/api/v1/blobs/abc"},
        {"POST", "/api/v1/executions"},
        {"GET", "/api/v1/executions"},
        {"GET", "/api/v1/executions/1"},
        {"POST", "/api/v1/executions/1/start"},
        {"POST", "/api/v1/executions/1/stop"},
        {"GET", "/api/v1/executions/1/messages"},
        {"GET", "/api/v1/executions/1/statistics"},
        {"GET", "/api/v1/workers"},
        {"POST", "/api/v1/workers/w/enable"},
        {"POST", "/api/v1/workers/w/disable"},
        {"POST", "/api/v1/worker/register"},
        {"POST", "/api/v1/worker/claim"},
        {"POST", "/api/v1/worker/heartbeat"},
        {"POST", "/api/v1/worker/events"},
        {"POST", "/api/v1/worker/complete"},
    };
    char *p[ROUTE_MAX_PARAMS] = {0}, allow[32];

    for (size_t i = 0; i < sizeof(calls) / sizeof(*calls); i++) {
        const struct route *r = route_find(master_routes, calls[i][0],
                                           calls[i][1], p, allow,
                                           sizeof(allow));
        assert_non_null(r);
        assert_string_equal(r->method, calls[i][0]);
        route_params_free(p);
    }
    assert_int_equal(route_find(master_routes, "PUT",
                                "/api/v1/folders/f/projects/p", p, allow,
                                sizeof(allow))->body, ROUTE_BODY_DEPLOY);
    route_params_free(p);
}

/* ---- ids, listen, options ---- */

static void
ids_are_positive_integers(void **state)
{
    static const char *bad[] = {"0", "-1", "abc", "12a", "", " 5", "+5",
                                "99999999999999999999", "1.5", "0x10"};
    struct werr e;
    int64_t id;

    assert_int_equal(master_parse_id("12", "execution", &id, &e), 0);
    assert_int_equal(id, 12);
    assert_int_equal(master_parse_id("9223372036854775807", "task", &id, &e),
                     0);
    assert_int_equal(id, INT64_MAX);
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        assert_int_equal(master_parse_id(bad[i], "execution", &id, &e), -1);
        assert_int_equal(e.code, WERR_INVALID);
        assert_non_null(strstr(e.msg, "execution id"));
    }
}

static void
listen_addresses(void **state)
{
    struct sockaddr_storage ss;
    socklen_t len;
    struct werr e;

    assert_int_equal(master_parse_listen("127.0.0.1:8391", &ss, &len, &e), 0);
    assert_true(master_addr_is_loopback((struct sockaddr *)&ss));
    assert_int_equal(master_parse_listen("[::1]:80", &ss, &len, &e), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_true(master_addr_is_loopback((struct sockaddr *)&ss));
    assert_int_equal(master_parse_listen(":8080", &ss, &len, &e), 0);
    assert_false(master_addr_is_loopback((struct sockaddr *)&ss));
    assert_int_equal(master_parse_listen("10.1.2.3:0", &ss, &len, &e), 0);
    assert_false(master_addr_is_loopback((struct sockaddr *)&ss));

    assert_int_equal(master_parse_listen("8391", &ss, &len, &e), -1);
    assert_int_equal(e.code, WERR_INVALID);
    assert_int_equal(master_parse_listen("1.2.3.4:99999", &ss, &len, &e), -1);
    assert_non_null(strstr(e.msg, "99999"));
    assert_int_equal(master_parse_listen("1.2.3.4:", &ss, &len, &e), -1);
    assert_int_equal(master_parse_listen("[::1:80", &ss, &len, &e), -1);
}

static void
options_are_checked_together(void **state)
{
    struct master_conf c = {0};
    char *argv[] = {"master", "--lease", "2s", "--heartbeat", "3s", NULL};
    char **pos = NULL;
    struct werr e;

    assert_int_equal(wopt_parse(master_options, &c, "WEIR_TEST_MASTER", "",
                                5, argv, &pos, &e), 0);
    free(pos);
    assert_int_equal(master_conf_check(&c, &e), -1);
    assert_non_null(strstr(e.msg, "heartbeat"));
    c.lease_ms = 15000;
    assert_int_equal(master_conf_check(&c, &e), 0);
    assert_int_equal(c.online_window_ms, 9000);
    assert_string_equal(c.listen, "127.0.0.1:8391");
    assert_int_equal(c.max_body, 1 << 20);
    assert_int_equal(c.max_deploy, 64 << 20);
    assert_true(c.auto_enable_workers);
    wopt_release(master_options, &c);
}

/* ---- archive paths ---- */

static void
clean_paths(void **state)
{
    static const char *good[][3] = {
        /* input, decode?, output */
        {"a/b.csv", "", "a/b.csv"},
        {"./a//b/./c", "", "a/b/c"},
        {"dir\\sub\\f.txt", "", "dir/sub/f.txt"},
        {"Package%201.dtsx", "", "Package%201.dtsx"},
        {"Package%201.dtsx", "d", "Package 1.dtsx"},
        {"a/", "", "a"},
        {"..a/b..", "", "..a/b.."},
    };
    static const char *bad[][2] = {
        {"/etc/passwd", ""}, {"\\etc\\passwd", ""}, {"../x", ""},
        {"a/../../x", ""}, {"a/..", ""}, {"C:/x", ""}, {"c:x", ""},
        {"%2e%2e/x", "d"}, {"a\tb", ""}, {"a%0Ab", "d"}, {".", ""},
        {"", ""}, {"./", ""}, {"%zz", "d"}, {"%4", "d"},
    };
    char out[1100], longname[300];
    struct werr e;

    for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
        assert_int_equal(deploy_clean_path(good[i][0], good[i][1][0], out,
                                           sizeof(out), &e), 0);
        assert_string_equal(out, good[i][2]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        assert_int_equal(deploy_clean_path(bad[i][0], bad[i][1][0], out,
                                           sizeof(out), &e), -1);
        assert_int_equal(e.code, WERR_INVALID);
    }
    memset(longname, 'x', 256);
    longname[256] = '\0';
    assert_int_equal(deploy_clean_path(longname, false, out, sizeof(out),
                                       &e), -1);
    longname[255] = '\0';
    assert_int_equal(deploy_clean_path(longname, false, out, sizeof(out),
                                       &e), 0);
}

/* ---- zip archives ---- */

struct zip {
    struct archive *a;
    char *buf;
    size_t cap, used;
};

static void
zip_begin(struct zip *z, size_t cap)
{
    z->a = archive_write_new();
    z->cap = cap;
    z->buf = xmalloc(cap);
    assert_int_equal(archive_write_set_format_zip(z->a), ARCHIVE_OK);
    assert_int_equal(archive_write_open_memory(z->a, z->buf, z->cap,
                                               &z->used), ARCHIVE_OK);
}

static void
zip_add(struct zip *z, const char *path, int type, const char *data,
        size_t len)
{
    struct archive_entry *e = archive_entry_new();

    archive_entry_set_pathname(e, path);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, 0644);
    if (type == AE_IFLNK)
        archive_entry_set_symlink(e, "/etc/passwd");
    archive_entry_set_size(e, type == AE_IFREG ? (la_int64_t)len : 0);
    assert_int_equal(archive_write_header(z->a, e), ARCHIVE_OK);
    if (type == AE_IFREG && len)
        assert_int_equal(archive_write_data(z->a, data, len), (la_ssize_t)len);
    archive_entry_free(e);
}

static void
zip_end(struct zip *z)
{
    assert_int_equal(archive_write_close(z->a), ARCHIVE_OK);
    archive_write_free(z->a);
}

static const struct deploy_limits big = {100, 1 << 20};

static void
zip_project_reads_sorted(void **state)
{
    struct deploy d;
    struct werr e;
    struct zip z;

    zip_begin(&z, 1 << 16);
    zip_add(&z, "data/", AE_IFDIR, NULL, 0);
    zip_add(&z, "data/in.csv", AE_IFREG, "a,b\n1,2\n", 8);
    zip_add(&z, "Load.dtsx", AE_IFREG, "<x/>", 4);
    zip_add(&z, "Extract.dtsx", AE_IFREG, "<y/>", 4);
    zip_add(&z, "sub/Inner.dtsx", AE_IFREG, "<z/>", 4);
    zip_end(&z);
    deploy_init(&d);
    assert_int_equal(deploy_read_zip(&d, z.buf, z.used, &big, &e), 0);
    assert_int_equal(d.n, 4);
    assert_int_equal(d.npackages, 2);
    assert_string_equal(d.files[0].path, "Extract.dtsx");
    assert_true(d.files[0].is_package);
    assert_string_equal(d.files[1].path, "Load.dtsx");
    assert_string_equal(d.files[2].path, "data/in.csv");
    assert_false(d.files[2].is_package);
    assert_int_equal(d.files[2].len, 8);
    assert_memory_equal(d.files[2].data, "a,b\n1,2\n", 8);
    assert_string_equal(d.files[3].path, "sub/Inner.dtsx");
    assert_false(d.files[3].is_package);
    assert_int_equal(d.total, 20);
    deploy_release(&d);
    free(z.buf);
}

static void
zip_ispac_names_are_decoded(void **state)
{
    struct deploy d;
    struct werr e;
    struct zip z;

    zip_begin(&z, 1 << 16);
    zip_add(&z, "[Content_Types].xml", AE_IFREG, "<Types/>", 8);
    zip_add(&z, "My%20Package.dtsx", AE_IFREG, "<x/>", 4);
    zip_add(&z, "@Project.manifest", AE_IFREG, "<m/>", 4);
    zip_end(&z);
    deploy_init(&d);
    assert_int_equal(deploy_read_zip(&d, z.buf, z.used, &big, &e), 0);
    assert_int_equal(d.npackages, 1);
    assert_string_equal(d.files[1].path, "My Package.dtsx");
    deploy_release(&d);
    free(z.buf);
}

/* Builds a zip of `n` files named f0.dtsx, f1.dtsx... of `size` bytes. */
static void
zip_of(struct zip *z, int n, size_t size)
{
    char name[32], *data = xcalloc(1, size + 1);

    memset(data, 'x', size);
    zip_begin(z, size * (size_t)n + 65536);
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "f%d.dtsx", i);
        zip_add(z, name, AE_IFREG, data, size);
    }
    zip_end(z);
    free(data);
}

static void
zip_limits_are_enforced(void **state)
{
    struct deploy_limits few = {3, 1 << 20}, small = {100, 10000};
    struct deploy d;
    struct werr e;
    struct zip z;

    zip_of(&z, 4, 10);
    deploy_init(&d);
    assert_int_equal(deploy_read_zip(&d, z.buf, z.used, &few, &e), -1);
    assert_int_equal(e.code, WERR_LIMIT);
    assert_non_null(strstr(e.msg, "3 entries"));
    deploy_release(&d);
    free(z.buf);

    /* 3 x 4000 bytes of 'x': a tiny zip that inflates past the limit. */
    zip_of(&z, 3, 4000);
    assert_true(z.used < 2000);
    deploy_init(&d);
    assert_int_equal(deploy_read_zip(&d, z.buf, z.used, &small, &e), -1);
    assert_int_equal(e.code, WERR_LIMIT);
    assert_non_null(strstr(e.msg, "f2.dtsx"));
    deploy_release(&d);
    free(z.buf);
}

/* A zip with one bad entry besides a package: `msg` must be reported. */
static void
zip_refused(const char *path, int type, const char *msg, int code)
{
    struct deploy d;
    struct werr e;
    struct zip z;

    zip_begin(&z, 1 << 16);
    zip_add(&z, "Good.dtsx", AE_IFREG, "<x/>", 4);
    if (path)
        zip_add(&z, path, type, "data", 4);
    zip_end(&z);
    deploy_init(&d);
    assert_int_equal(deploy_read_zip(&d, z.buf, z.used, &big, &e), -1);
    assert_int_equal(e.code, code);
    if (!strstr(e.msg, msg))
        fail_msg("'%s' does not mention '%s'", e.msg, msg);
    deploy_release(&d);
    free(z.buf);
}

static void
zip_bad_entries_are_refused(void **state)
{
    zip_refused("../evil.sh", AE_IFREG, "'..'", WERR_INVALID);
    zip_refused("/etc/cron.d/x", AE_IFREG, "absolute", WERR_INVALID);
    zip_refused("link", AE_IFLNK, "not a regular file", WERR_INVALID);
    zip_refused("./Good.dtsx", AE_IFREG, "twice", WERR_INVALID);
}

static void
zip_without_package_or_garbage(void **state)
{
    struct deploy d;
    struct werr e;
    struct zip z;

    zip_begin(&z, 1 << 16);
    zip_add(&z, "sub/Inner.dtsx", AE_IFREG, "<x/>", 4);
    zip_add(&z, "readme.txt", AE_IFREG, "hi", 2);
    zip_end(&z);
    deploy_init(&d);
    assert_int_equal(deploy_read_zip(&d, z.buf, z.used, &big, &e), -1);
    assert_non_null(strstr(e.msg, "no package"));
    deploy_release(&d);

    /* Truncated: the central directory is gone. */
    deploy_init(&d);
    assert_int_equal(deploy_read_zip(&d, z.buf, z.used / 2, &big, &e), -1);
    assert_int_equal(e.code, WERR_INVALID);
    deploy_release(&d);
    free(z.buf);

    deploy_init(&d);
    assert_int_equal(deploy_read_zip(&d, "hello, world", 12, &big, &e), -1);
    assert_int_equal(e.code, WERR_INVALID);
    deploy_release(&d);
}

static void
single_file_limits(void **state)
{
    struct deploy_limits lim = {1, 10};
    struct deploy d;
    struct werr e;

    deploy_init(&d);
    assert_int_equal(deploy_add(&d, "A.dtsx", "0123456789x", 11, &lim, &e),
                     -1);
    assert_int_equal(e.code, WERR_LIMIT);
    assert_int_equal(deploy_add(&d, "A.dtsx", "<x/>", 4, &lim, &e), -1);
    assert_int_equal(e.code, WERR_LIMIT); /* the first try counted */
    deploy_release(&d);

    lim.max_entries = 5;
    deploy_init(&d);
    assert_int_equal(deploy_add(&d, "A.dtsx", "<x/>", 4, &lim, &e), 0);
    assert_int_equal(deploy_finish(&d, false, &e), 0);
    assert_int_equal(d.npackages, 1);
    assert_string_equal(d.files[0].data, "<x/>");
    deploy_release(&d);
}

static void
validation_names_the_package(void **state)
{
    struct deploy_limits lim = {5, 1 << 20};
    const char *xml = "<?xml version=\"1.0\"?>\n<DTS:Executable "
                      "xmlns:DTS=\"www.microsoft.com/SqlServer/Dts\">\n"
                      "  <DTS:Executables>\n  </DTS:Executable>\n";
    struct deploy d;
    struct werr e;

    deploy_init(&d);
    assert_int_equal(deploy_add(&d, "Bad.dtsx", xml, strlen(xml), &lim, &e),
                     0);
    assert_int_equal(deploy_finish(&d, false, &e), 0);
    assert_int_equal(deploy_validate(&d, &e), -1);
    assert_int_equal(e.code, WERR_INVALID);
    assert_non_null(strstr(e.msg, "Bad.dtsx"));
    deploy_release(&d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(route_matches_literals_and_params),
        cmocka_unit_test(route_ignores_one_trailing_slash),
        cmocka_unit_test(route_unknown_paths_are_404),
        cmocka_unit_test(route_wrong_method_lists_allowed),
        cmocka_unit_test(route_master_table_is_complete),
        cmocka_unit_test(ids_are_positive_integers),
        cmocka_unit_test(listen_addresses),
        cmocka_unit_test(options_are_checked_together),
        cmocka_unit_test(clean_paths),
        cmocka_unit_test(zip_project_reads_sorted),
        cmocka_unit_test(zip_ispac_names_are_decoded),
        cmocka_unit_test(zip_limits_are_enforced),
        cmocka_unit_test(zip_bad_entries_are_refused),
        cmocka_unit_test(zip_without_package_or_garbage),
        cmocka_unit_test(single_file_limits),
        cmocka_unit_test(validation_names_the_package),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
