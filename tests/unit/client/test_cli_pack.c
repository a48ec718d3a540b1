/* Unit tests for packing a project folder into a zip (weir deploy DIR):
 * pack a temporary folder, read the archive back with libarchive and
 * compare names and contents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "base/wfile.h"
#include "base/xalloc.h"
#include "cli/cli.h"

struct fixture {
    char dir[64];  /* the project folder */
    char out[128]; /* a sibling outside it */
};

static void
put(const char *dir, const char *rel, const char *content)
{
    char *path = xasprintf("%s/%s", dir, rel);
    struct werr e;

    assert_int_equal(wfile_write(path, content, strlen(content), 0644, 0,
                                 &e), 0);
    free(path);
}

static void
mkdir_in(const char *dir, const char *rel)
{
    char *path = xasprintf("%s/%s", dir, rel);

    assert_int_equal(mkdir(path, 0755), 0);
    free(path);
}

static void
link_in(const char *dir, const char *rel, const char *target)
{
    char *path = xasprintf("%s/%s", dir, rel);

    assert_int_equal(symlink(target, path), 0);
    free(path);
}

static void
unlink_in(const char *dir, const char *rel)
{
    char *path = xasprintf("%s/%s", dir, rel);

    assert_int_equal(unlink(path), 0);
    free(path);
}

static int
setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    char base[] = "/tmp/weir-pack-XXXXXX";
    char *fifo;

    assert_non_null(mkdtemp(base));
    snprintf(f->out, sizeof(f->out), "%s/secret", base);
    snprintf(f->dir, sizeof(f->dir), "%s/proj", base);
    assert_int_equal(mkdir(f->dir, 0755), 0);
    put(base, "secret", "do not ship");
    put(f->dir, "Extract.dtsx", "<DTS:Executable/>");
    put(f->dir, "Project.params", "<params/>");
    put(f->dir, ".hidden", "no");
    mkdir_in(f->dir, ".git");
    put(f->dir, ".git/config", "no");
    mkdir_in(f->dir, "data");
    put(f->dir, "data/in.csv", "a,b\n1,2\n");
    put(f->dir, "data/empty.txt", "");
    mkdir_in(f->dir, "data/.cache");
    put(f->dir, "data/.cache/x", "no");
    fifo = xasprintf("%s/fifo", f->dir);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    free(fifo);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char *base = xstrdup(f->dir);
    struct werr e;

    *strrchr(base, '/') = '\0';
    assert_int_equal(wfile_rmtree(base, &e), 0);
    free(base);
    free(f);
    return 0;
}

/* Reads the zip back as "name=content;" pairs in archive order. */
static char *
unpack(const struct wbuf *zip)
{
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    struct wbuf out;
    char chunk[256];
    la_ssize_t n;

    wbuf_init(&out, WBUF_NOLIMIT);
    archive_read_support_format_zip(a);
    assert_int_equal(archive_read_open_memory(a, zip->buf, zip->len),
                     ARCHIVE_OK);
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        assert_int_equal(archive_entry_filetype(e), AE_IFREG);
        wbuf_addf(&out, NULL, "%s=", archive_entry_pathname(e));
        while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0)
            wbuf_add(&out, chunk, (size_t)n, NULL);
        assert_true(n == 0);
        wbuf_addch(&out, ';', NULL);
    }
    archive_read_free(a);
    return wbuf_detach(&out, NULL);
}

static void
packs_regular_files_sorted_without_hidden(void **state)
{
    struct fixture *f = *state;
    struct wbuf zip;
    struct werr e;
    size_t n = 0;
    char *got;

    wbuf_init(&zip, CLI_PACK_MAX);
    assert_int_equal(cli_pack_folder(f->dir, &zip, &n, &e), 0);
    assert_int_equal(n, 4);
    got = unpack(&zip);
    assert_string_equal(got, "Extract.dtsx=<DTS:Executable/>;"
                             "Project.params=<params/>;"
                             "data/empty.txt=;"
                             "data/in.csv=a,b\n1,2\n;");
    free(got);
    wbuf_release(&zip);
}

static void
follows_links_that_stay_inside(void **state)
{
    struct fixture *f = *state;
    struct wbuf zip;
    struct werr e;
    size_t n = 0;
    char *got;

    link_in(f->dir, "copy.csv", "data/in.csv");
    link_in(f->dir, "more", "data");
    wbuf_init(&zip, CLI_PACK_MAX);
    assert_int_equal(cli_pack_folder(f->dir, &zip, &n, &e), 0);
    assert_int_equal(n, 7);
    got = unpack(&zip);
    assert_string_equal(got, "Extract.dtsx=<DTS:Executable/>;"
                             "Project.params=<params/>;"
                             "copy.csv=a,b\n1,2\n;"
                             "data/empty.txt=;"
                             "data/in.csv=a,b\n1,2\n;"
                             "more/empty.txt=;"
                             "more/in.csv=a,b\n1,2\n;");
    free(got);
    wbuf_release(&zip);
}

static void
refuses_links_leaving_the_folder(void **state)
{
    struct fixture *f = *state;
    struct wbuf zip;
    struct werr e;
    size_t n = 0;

    wbuf_init(&zip, CLI_PACK_MAX);
    link_in(f->dir, "data/steal", f->out);
    assert_int_equal(cli_pack_folder(f->dir, &zip, &n, &e), -1);
    assert_int_equal(e.code, WERR_INVALID);
    assert_non_null(strstr(e.msg, "symbolic link 'data/steal' points "
                                  "outside"));
    unlink_in(f->dir, "data/steal");
    link_in(f->dir, "up", "..");
    wbuf_reset(&zip);
    assert_int_equal(cli_pack_folder(f->dir, &zip, &n, &e), -1);
    assert_non_null(strstr(e.msg, "symbolic link 'up' points outside"));
    unlink_in(f->dir, "up");
    wbuf_release(&zip);
}

static void
refuses_broken_and_looping_links(void **state)
{
    struct fixture *f = *state;
    struct wbuf zip;
    struct werr e;
    size_t n = 0;

    wbuf_init(&zip, CLI_PACK_MAX);
    link_in(f->dir, "gone", "nowhere.txt");
    assert_int_equal(cli_pack_folder(f->dir, &zip, &n, &e), -1);
    assert_int_equal(e.code, WERR_INVALID);
    assert_non_null(strstr(e.msg, "symbolic link 'gone' is broken"));
    unlink_in(f->dir, "gone");
    link_in(f->dir, "data/self", "..");
    wbuf_reset(&zip);
    assert_int_equal(cli_pack_folder(f->dir, &zip, &n, &e), -1);
    assert_string_equal(e.msg, "symbolic link 'data/self' loops");
    unlink_in(f->dir, "data/self");
    link_in(f->dir, "a", "b");
    link_in(f->dir, "b", "a");
    wbuf_reset(&zip);
    assert_int_equal(cli_pack_folder(f->dir, &zip, &n, &e), -1);
    assert_string_equal(e.msg, "symbolic link 'a' loops");
    wbuf_release(&zip);
}

static void
refuses_what_is_not_a_folder_and_big_archives(void **state)
{
    struct fixture *f = *state;
    struct wbuf zip;
    struct werr e;
    size_t n = 0;
    char *file = xasprintf("%s/Extract.dtsx", f->dir);

    wbuf_init(&zip, CLI_PACK_MAX);
    assert_int_equal(cli_pack_folder(file, &zip, &n, &e), -1);
    assert_int_equal(e.code, WERR_INVALID);
    assert_int_equal(cli_pack_folder("/nonexistent/weir", &zip, &n, &e), -1);
    assert_int_equal(e.code, WERR_NOTFOUND);
    wbuf_release(&zip);
    wbuf_init(&zip, 100); /* smaller than any zip of these files */
    assert_int_equal(cli_pack_folder(f->dir, &zip, &n, &e), -1);
    assert_int_equal(e.code, WERR_LIMIT);
    wbuf_release(&zip);
    free(file);
}

static void
refuses_names_that_are_not_utf8(void **state)
{
    struct fixture *f = *state;
    struct wbuf zip;
    struct werr e;
    size_t n = 0;
    char *got;

    put(f->dir, "data/caf\xc3\xa9.csv", "x");
    wbuf_init(&zip, CLI_PACK_MAX);
    assert_int_equal(cli_pack_folder(f->dir, &zip, &n, &e), 0);
    got = unpack(&zip);
    assert_non_null(strstr(got, ";data/caf\xc3\xa9.csv=x;"));
    free(got);
    put(f->dir, "data/n\xffx.csv", "x");
    wbuf_reset(&zip);
    assert_int_equal(cli_pack_folder(f->dir, &zip, &n, &e), -1);
    assert_int_equal(e.code, WERR_INVALID);
    assert_string_equal(e.msg, "file name 'data/n?x.csv' is not valid UTF-8 "
                               "or holds control characters");
    unlink_in(f->dir, "data/n\xffx.csv");
    put(f->dir, "line\nbreak", "x");
    wbuf_reset(&zip);
    assert_int_equal(cli_pack_folder(f->dir, &zip, &n, &e), -1);
    assert_int_equal(e.code, WERR_INVALID);
    wbuf_release(&zip);
}

static void
packs_an_empty_folder(void **state)
{
    struct fixture *f = *state;
    char *empty = xasprintf("%s/data/.cache", f->dir);
    struct wbuf zip;
    struct werr e;
    size_t n = 1;
    char *got;

    wbuf_init(&zip, CLI_PACK_MAX);
    unlink_in(f->dir, "data/.cache/x");
    assert_int_equal(cli_pack_folder(empty, &zip, &n, &e), 0);
    assert_int_equal(n, 0);
    got = unpack(&zip);
    assert_string_equal(got, "");
    free(got);
    free(empty);
    wbuf_release(&zip);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            packs_regular_files_sorted_without_hidden, setup, teardown),
        cmocka_unit_test_setup_teardown(follows_links_that_stay_inside, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(refuses_links_leaving_the_folder,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_broken_and_looping_links,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            refuses_what_is_not_a_folder_and_big_archives, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_names_that_are_not_utf8,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(packs_an_empty_folder, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
