/* Unit tests for the worker's pure parts: line splitting, events, the
 * spool, path safety, backoff, options, and spawning a child. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/wfile.h"
#include "base/xalloc.h"
#include "worker/worker_int.h"

/* ---- helpers ---- */

static char *
temp_dir(void)
{
    char tmpl[] = "/tmp/weir-wk-test.XXXXXX";

    assert_non_null(mkdtemp(tmpl));
    return xstrdup(tmpl);
}

static void
remove_dir(char *dir)
{
    struct werr err;

    assert_int_equal(wfile_rmtree(dir, &err), 0);
    free(dir);
}

/* Feeds `s` and expects the lines in `want` (NULL-terminated) to come out. */
static void
expect_lines(struct wk_lines *l, bool eof, const char *const *want)
{
    const char *line;
    size_t len;
    bool cut;

    for (; *want; want++) {
        assert_int_equal(wk_lines_peek(l, eof, &line, &len, &cut), 1);
        assert_false(cut);
        assert_int_equal(len, strlen(*want));
        assert_memory_equal(line, *want, len);
        wk_lines_consume(l);
    }
    assert_int_equal(wk_lines_peek(l, eof, &line, &len, &cut), 0);
}

static json_t *
parse_json(const char *s, size_t len)
{
    json_error_t je;
    json_t *j = json_loadb(s, len, 0, &je);

    assert_non_null(j);
    return j;
}

/* ---- lines ---- */

static void
lines_split_across_reads(void **state)
{
    struct wk_lines l;
    const char *line;
    size_t len;
    bool cut;

    wk_lines_init(&l);
    wk_lines_feed(&l, "one\ntw", 6);
    /* Peeking twice gives the same line until it is consumed. */
    assert_int_equal(wk_lines_peek(&l, false, &line, &len, &cut), 1);
    assert_int_equal(wk_lines_peek(&l, false, &line, &len, &cut), 1);
    assert_int_equal(len, 3);
    wk_lines_consume(&l);
    assert_int_equal(wk_lines_peek(&l, false, &line, &len, &cut), 0);
    wk_lines_feed(&l, "o\n\nthree\r\nfour", 14);
    expect_lines(&l, false, (const char *const[]){"two", "", "three\r", NULL});
    assert_int_equal(wk_lines_pending(&l), 4);
    /* At the end of the pipe, a last line without '\n' still counts. */
    expect_lines(&l, true, (const char *const[]){"four", NULL});
    assert_int_equal(wk_lines_pending(&l), 0);
    wk_lines_release(&l);
}

static void
lines_many_small_reads(void **state)
{
    struct wk_lines l;
    char want[32];
    int got = 0;

    wk_lines_init(&l);
    for (int i = 0; i < 5000; i++) {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "line %d\n", i);
        const char *line;
        size_t len;
        bool cut;

        /* Byte by byte for some, to exercise the partial scan. */
        for (int k = 0; k < n; k += (i % 3) + 1)
            wk_lines_feed(&l, buf + k, (size_t)((k + (i % 3) + 1 <= n)
                                                    ? (i % 3) + 1 : n - k));
        while (wk_lines_peek(&l, false, &line, &len, &cut)) {
            snprintf(want, sizeof(want), "line %d", got++);
            assert_int_equal(len, strlen(want));
            assert_memory_equal(line, want, len);
            wk_lines_consume(&l);
        }
    }
    assert_int_equal(got, 5000);
    wk_lines_release(&l);
}

static void
lines_cut_at_limit(void **state)
{
    struct wk_lines l;
    char *big = xmalloc(WK_LINE_MAX + 100);
    const char *line;
    size_t len;
    bool cut;

    memset(big, 'x', WK_LINE_MAX + 100);
    wk_lines_init(&l);
    /* Exactly the limit is kept whole. */
    wk_lines_feed(&l, big, WK_LINE_MAX);
    assert_int_equal(wk_lines_peek(&l, false, &line, &len, &cut), 0);
    wk_lines_feed(&l, "\n", 1);
    assert_int_equal(wk_lines_peek(&l, false, &line, &len, &cut), 1);
    assert_false(cut);
    assert_int_equal(len, WK_LINE_MAX);
    wk_lines_consume(&l);
    /* One more byte and no '\n' yet: cut, and the rest is dropped up to
     * the end of the line, which arrives later. */
    wk_lines_feed(&l, big, WK_LINE_MAX + 1);
    assert_int_equal(wk_lines_peek(&l, false, &line, &len, &cut), 1);
    assert_true(cut);
    assert_int_equal(len, WK_LINE_MAX);
    wk_lines_consume(&l);
    wk_lines_feed(&l, big, 100);
    assert_int_equal(wk_lines_peek(&l, false, &line, &len, &cut), 0);
    assert_true(wk_lines_pending(&l) <= 100);
    wk_lines_feed(&l, "yy\nnext\n", 8);
    expect_lines(&l, false, (const char *const[]){"next", NULL});
    /* A long line whose '\n' is already buffered. */
    wk_lines_feed(&l, big, WK_LINE_MAX + 50);
    wk_lines_feed(&l, "\nafter\n", 7);
    assert_int_equal(wk_lines_peek(&l, false, &line, &len, &cut), 1);
    assert_true(cut);
    wk_lines_consume(&l);
    expect_lines(&l, false, (const char *const[]){"after", NULL});
    wk_lines_release(&l);
    free(big);
}

/* ---- events ---- */

static void
events_keep_objects_wrap_the_rest(void **state)
{
    const char *ok = "{\"time_ms\":5,\"type\":30,\"event\":\"OnPreExecute\","
                     "\"source\":\"S\",\"path\":\"\\\\Package\","
                     "\"message\":\"\"}";
    struct wbuf out;
    json_t *j;

    wbuf_init(&out, WBUF_NOLIMIT);
    wk_event_from_line(ok, strlen(ok), false, 99, &out);
    assert_string_equal(out.buf, ok);

    wbuf_reset(&out);
    wk_event_from_line("plain \xff text", 12, false, 99, &out);
    j = parse_json(out.buf, out.len);
    assert_int_equal(json_integer_value(json_object_get(j, "type")), 70);
    assert_int_equal(json_integer_value(json_object_get(j, "time_ms")), 99);
    assert_string_equal(json_string_value(json_object_get(j, "event")),
                        "OnInformation");
    assert_string_equal(json_string_value(json_object_get(j, "message")),
                        "plain \xef\xbf\xbd text");
    json_decref(j);

    /* JSON the master would refuse as an event is wrapped too. */
    wbuf_reset(&out);
    wk_event_from_line("{\"type\":\"x\"}", 12, false, 1, &out);
    j = parse_json(out.buf, out.len);
    assert_string_equal(json_string_value(json_object_get(j, "message")),
                        "{\"type\":\"x\"}");
    json_decref(j);

    /* A cut line is a warning that says so; a NUL and a split UTF-8
     * sequence at the cut do not break the JSON. */
    wbuf_reset(&out);
    wk_event_from_line("ab\0c\xc3", 5, true, 1, &out);
    assert_null(memchr(out.buf, '\n', out.len));
    j = parse_json(out.buf, out.len);
    assert_int_equal(json_integer_value(json_object_get(j, "type")), 110);
    assert_non_null(strstr(json_string_value(json_object_get(j, "message")),
                           "[line cut at 65536 bytes]"));
    json_decref(j);
    wbuf_release(&out);
}

/* ---- the spool ---- */

static void
append_n(struct wk_relay *r, int from, int to)
{
    struct werr err;
    char ev[64];

    for (int i = from; i <= to; i++) {
        int n = snprintf(ev, sizeof(ev), "{\"type\":70,\"event\":\"E\","
                         "\"n\":%d}", i);

        assert_int_equal(wk_relay_append(r, ev, (size_t)n, 1, &err), 0);
    }
}

/* Takes a batch and checks it holds events first..first+count-1. */
static void
expect_batch(struct wk_relay *r, size_t max_bytes, int64_t first,
             size_t count)
{
    struct wbuf out;
    struct werr err;
    int64_t f;
    size_t n;
    json_t *j;

    wbuf_init(&out, WBUF_NOLIMIT);
    assert_int_equal(wk_relay_batch(r, max_bytes, &out, &f, &n, &err), 0);
    assert_int_equal(n, count);
    if (!count) {
        /* Nothing to send: nothing is written. */
        assert_int_equal(out.len, 0);
        wbuf_release(&out);
        return;
    }
    assert_int_equal(f, first);
    j = parse_json(out.buf, out.len);
    assert_int_equal(json_array_size(j), count);
    for (size_t i = 0; i < count; i++)
        assert_int_equal(json_integer_value(json_object_get(
                             json_array_get(j, i), "n")),
                         first + (int64_t)i);
    json_decref(j);
    wbuf_release(&out);
}

static void
spool_batches_and_acks(void **state)
{
    char *dir = temp_dir(), *path = xasprintf("%s/events.jsonl", dir);
    struct wk_relay r;
    struct werr err;

    assert_int_equal(wk_relay_open(&r, path, 10, &err), 0);
    assert_true(wk_relay_all_acked(&r));
    expect_batch(&r, 1 << 20, 1, 0);
    append_n(&r, 1, 25);
    assert_int_equal(r.seq, 25);
    expect_batch(&r, 1 << 20, 1, 10);
    assert_true(wk_relay_in_flight(&r));
    /* Nothing more while a batch is in flight. */
    expect_batch(&r, 1 << 20, 11, 0);
    assert_int_equal(wk_relay_ack(&r, 10, &err), 0);
    expect_batch(&r, 1 << 20, 11, 10);
    /* The reply was lost: the same events go again. */
    wk_relay_unsend(&r, 5);
    expect_batch(&r, 1 << 20, 11, 10);
    /* The master stored only part of it. */
    assert_int_equal(wk_relay_ack(&r, 13, &err), 0);
    expect_batch(&r, 1 << 20, 14, 10);
    assert_int_equal(wk_relay_ack(&r, 23, &err), 0);
    /* A byte limit shorter than two events still sends one. */
    expect_batch(&r, 10, 24, 1);
    assert_int_equal(wk_relay_ack(&r, 24, &err), 0);
    append_n(&r, 26, 26);
    expect_batch(&r, 1 << 20, 25, 2);
    assert_int_equal(wk_relay_ack(&r, 26, &err), 0);
    assert_true(wk_relay_all_acked(&r));
    /* The master lost events: start over from what it says it has. */
    assert_int_equal(wk_relay_ack(&r, 3, &err), 0);
    expect_batch(&r, 1 << 20, 4, 10);
    /* An acknowledgement past the end is clamped. */
    assert_int_equal(wk_relay_ack(&r, 1000, &err), 0);
    assert_int_equal(r.acked, 26);
    wk_relay_close(&r);
    free(path);
    remove_dir(dir);
}

static void
spool_resumes_after_restart(void **state)
{
    char *dir = temp_dir(), *path = xasprintf("%s/events.jsonl", dir);
    struct wk_relay r;
    struct werr err;
    int fd;

    assert_int_equal(wk_relay_open(&r, path, 500, &err), 0);
    append_n(&r, 1, 7);
    expect_batch(&r, 1 << 20, 1, 7);
    assert_int_equal(wk_relay_ack(&r, 5, &err), 0);
    wk_relay_close(&r);
    /* A torn last line, as a crash in the middle of a write leaves. */
    fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"type\":70,\"ev", 14), 14);
    close(fd);

    assert_int_equal(wk_relay_open(&r, path, 500, &err), 0);
    assert_int_equal(r.seq, 7);
    assert_int_equal(r.acked, 0);
    /* Nothing is known to be stored: all is sent again, numbered as
     * before; the master ignores what it has. */
    expect_batch(&r, 1 << 20, 1, 7);
    assert_int_equal(wk_relay_ack(&r, 7, &err), 0);
    append_n(&r, 8, 9);
    expect_batch(&r, 1 << 20, 8, 2);
    wk_relay_close(&r);
    free(path);
    remove_dir(dir);
}

static void
spool_refused_batches_shrink(void **state)
{
    char *dir = temp_dir(), *path = xasprintf("%s/events.jsonl", dir);
    struct wbuf out;
    struct wk_relay r;
    struct werr err;
    int64_t f;
    size_t n;
    json_t *j;

    assert_int_equal(wk_relay_open(&r, path, 8, &err), 0);
    append_n(&r, 1, 8);
    expect_batch(&r, 1 << 20, 1, 8);
    wk_relay_refused(&r, 1);
    expect_batch(&r, 1 << 20, 1, 4);
    wk_relay_refused(&r, 1);
    expect_batch(&r, 1 << 20, 1, 2);
    wk_relay_refused(&r, 1);
    expect_batch(&r, 1 << 20, 1, 1);
    /* One event refused on its own: a placeholder takes its number. */
    wk_relay_refused(&r, 1);
    wbuf_init(&out, WBUF_NOLIMIT);
    assert_int_equal(wk_relay_batch(&r, 1 << 20, &out, &f, &n, &err), 0);
    assert_int_equal(f, 1);
    assert_int_equal(n, 1);
    j = parse_json(out.buf, out.len);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0),
                                                        "type")),
                     110);
    json_decref(j);
    wbuf_release(&out);
    /* Progress restores the full batch size. */
    assert_int_equal(wk_relay_ack(&r, 1, &err), 0);
    expect_batch(&r, 1 << 20, 2, 7);
    wk_relay_close(&r);
    free(path);
    remove_dir(dir);
}

static void
spool_sends_a_long_line_alone(void **state)
{
    char *dir = temp_dir(), *path = xasprintf("%s/events.jsonl", dir);
    size_t big = 300 * 1024;
    char *ev = xmalloc(big + 64);
    struct wk_relay r;
    struct werr err;
    int n;

    /* A wrapped cut line can be several times WK_LINE_MAX once escaped. */
    n = snprintf(ev, 64, "{\"type\":70,\"event\":\"E\",\"n\":2,\"m\":\"");
    memset(ev + n, 'y', big);
    memcpy(ev + n + big, "\"}", 3);
    assert_int_equal(wk_relay_open(&r, path, 500, &err), 0);
    append_n(&r, 1, 1);
    assert_int_equal(wk_relay_append(&r, ev, strlen(ev), 1, &err), 0);
    append_n(&r, 3, 4);
    expect_batch(&r, 64 * 1024, 1, 1);
    assert_int_equal(wk_relay_ack(&r, 1, &err), 0);
    expect_batch(&r, 64 * 1024, 2, 1);
    assert_int_equal(wk_relay_ack(&r, 2, &err), 0);
    expect_batch(&r, 64 * 1024, 3, 2);
    wk_relay_close(&r);
    free(ev);
    free(path);
    remove_dir(dir);
}

static void
spool_refuses_multi_line_events(void **state)
{
    char *dir = temp_dir(), *path = xasprintf("%s/events.jsonl", dir);
    struct wk_relay r;
    struct werr err;

    assert_int_equal(wk_relay_open(&r, path, 8, &err), 0);
    assert_int_equal(wk_relay_append(&r, "a\nb", 3, 1, &err), -1);
    assert_int_equal(wk_relay_append(&r, "", 0, 1, &err), -1);
    assert_int_equal(r.seq, 0);
    assert_int_equal(r.size, 0);
    wk_relay_close(&r);
    /* A spool that cannot be opened says where. */
    assert_int_equal(wk_relay_open(&r, "/nonexistent/dir/events.jsonl", 8,
                                   &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/dir/events.jsonl"));
    free(path);
    remove_dir(dir);
}

/* ---- paths ---- */

static void
paths_stay_inside(void **state)
{
    assert_true(wk_path_is_safe("Package.dtsx"));
    assert_true(wk_path_is_safe("data/in.csv"));
    assert_true(wk_path_is_safe("a/b/c..d/.hidden"));
    assert_false(wk_path_is_safe(NULL));
    assert_false(wk_path_is_safe(""));
    assert_false(wk_path_is_safe("/etc/passwd"));
    assert_false(wk_path_is_safe(".."));
    assert_false(wk_path_is_safe("../x"));
    assert_false(wk_path_is_safe("a/../../x"));
    assert_false(wk_path_is_safe("a/.."));
    assert_false(wk_path_is_safe("./a"));
    assert_false(wk_path_is_safe("a//b"));
    assert_false(wk_path_is_safe("a/"));
    assert_false(wk_path_is_safe("a\nb"));
}

/* ---- backoff ---- */

static void
backoff_doubles_to_a_cap(void **state)
{
    struct wk_backoff b;
    int64_t nominal = WK_BACKOFF_MIN_MS;

    wk_backoff_init(&b, 42);
    for (int i = 0; i < 20; i++) {
        int64_t d = wk_backoff_next(&b);

        assert_true(d <= nominal);
        assert_true(d >= nominal - nominal / 4);
        nominal = nominal * 2 > WK_BACKOFF_MAX_MS ? WK_BACKOFF_MAX_MS
                                                  : nominal * 2;
    }
    wk_backoff_reset(&b);
    assert_true(wk_backoff_next(&b) <= WK_BACKOFF_MIN_MS);
}

static void
backoff_jitters(void **state)
{
    struct wk_backoff a, b;
    int differ = 0;

    wk_backoff_init(&a, 1);
    wk_backoff_init(&b, 2);
    for (int i = 0; i < 10; i++)
        differ += wk_backoff_next(&a) != wk_backoff_next(&b);
    assert_true(differ > 0);
}

/* ---- options ---- */

static void
config_defaults_and_masters(void **state)
{
    char *argv[] = {"worker", "--master", "http://a:1, http://b:2/",
                    "--master", "https://c", "--tag", "x", "--tag", "y",
                    NULL};
    struct wk_config c;
    struct werr err;
    char **urls;

    assert_int_equal(wk_config_parse(&c, 9, argv, &err), 0);
    assert_int_equal(c.max_tasks, 4);
    assert_int_equal(c.claim_wait_ms, 30000);
    assert_int_equal(c.grace_ms, 10000);
    assert_int_equal(c.shutdown_grace_ms, 30000);
    assert_int_equal(c.batch, 500);
    assert_string_equal(c.state_dir, "./weir-worker");
    assert_string_equal(c.tag[1], "y");
    urls = wk_config_masters(c.master, &err);
    assert_non_null(urls);
    assert_string_equal(urls[0], "http://a:1");
    assert_string_equal(urls[1], "http://b:2");
    assert_string_equal(urls[2], "https://c");
    assert_null(urls[3]);
    wk_strv_free(urls);
    wk_config_release(&c);
}

static void
config_rejects_bad_values(void **state)
{
    char *bad_max[] = {"worker", "--max-tasks", "0", NULL};
    char *stray[] = {"worker", "extra", NULL};
    char *bad_url[] = {"ftp://x", NULL};
    struct wk_config c;
    struct werr err;

    assert_int_equal(wk_config_parse(&c, 3, bad_max, &err), -1);
    assert_non_null(strstr(err.msg, "max-tasks"));
    wk_config_release(&c);
    assert_int_equal(wk_config_parse(&c, 2, stray, &err), -1);
    assert_non_null(strstr(err.msg, "'extra'"));
    wk_config_release(&c);
    assert_null(wk_config_masters(bad_url, &err));
    assert_non_null(strstr(err.msg, "ftp://x"));
}

/* ---- spawn ---- */

static void
spawn_runs_in_its_own_group(void **state)
{
    char *dir = temp_dir(), *log = xasprintf("%s/exec.log", dir);
    char script[512];
    char *argv[] = {"sh", "-c", script, NULL};
    struct wk_spawn s = {"/bin/sh", argv, dir, -1, -1, 0, 64};
    struct wbuf out;
    struct werr err;
    int p[2], status;
    pid_t pid;
    char buf[256];
    ssize_t n;

    /* The child reports its group, its working folder, whether anything
     * but 0-3 is open, and its open file limit. */
    snprintf(script, sizeof(script),
             "echo \"pgid=$(ps -o pgid= $$ | tr -d ' ') pid=$$\" >&3; "
             "echo \"cwd=$(pwd)\" >&3; "
             "echo \"fds=$(ls /proc/$$/fd | sort -n | tr '\\n' ' ')\" >&3; "
             "echo \"nofile=$(ulimit -n)\" >&3; echo to-log; "
             "read x; echo \"stdin=$?\" >&3");
    assert_int_equal(pipe(p), 0);
    s.events_fd = p[1];
    s.out_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(s.out_fd >= 0);
    pid = wk_spawn_start(&s, &err);
    assert_true(pid > 0);
    close(p[1]);
    close(s.out_fd);
    wbuf_init(&out, WBUF_NOLIMIT);
    while ((n = read(p[0], buf, sizeof(buf))) > 0)
        wbuf_add(&out, buf, (size_t)n, &err);
    close(p[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    snprintf(buf, sizeof(buf), "pgid=%d pid=%d", (int)pid, (int)pid);
    assert_non_null(strstr(out.buf, buf));
    assert_non_null(strstr(out.buf, "nofile=64"));
    assert_non_null(strstr(out.buf, "stdin=1"));
    /* ls itself opens one more descriptor (its directory). */
    assert_true(strstr(out.buf, "fds=0 1 2 3 4 \n") ||
                strstr(out.buf, "fds=0 1 2 3 \n"));
    wbuf_reset(&out);
    assert_int_equal(wfile_read(log, &out, &err), 0);
    assert_string_equal(out.buf, "to-log\n");
    wbuf_release(&out);
    free(log);
    remove_dir(dir);
}

static void
spawn_reports_exec_failure(void **state)
{
    char *argv[] = {"nope", NULL};
    struct wk_spawn s = {"/nonexistent/weir", argv, "/", -1, -1, 0, 0};
    struct werr err;
    int p[2];

    assert_int_equal(pipe(p), 0);
    s.events_fd = p[1];
    s.out_fd = p[1];
    assert_int_equal(wk_spawn_start(&s, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/weir"));
    assert_non_null(strstr(err.msg, "No such file"));
    close(p[0]);
    close(p[1]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines_split_across_reads),
        cmocka_unit_test(lines_many_small_reads),
        cmocka_unit_test(lines_cut_at_limit),
        cmocka_unit_test(events_keep_objects_wrap_the_rest),
        cmocka_unit_test(spool_batches_and_acks),
        cmocka_unit_test(spool_resumes_after_restart),
        cmocka_unit_test(spool_refused_batches_shrink),
        cmocka_unit_test(spool_sends_a_long_line_alone),
        cmocka_unit_test(spool_refuses_multi_line_events),
        cmocka_unit_test(paths_stay_inside),
        cmocka_unit_test(backoff_doubles_to_a_cap),
        cmocka_unit_test(backoff_jitters),
        cmocka_unit_test(config_defaults_and_masters),
        cmocka_unit_test(config_rejects_bad_values),
        cmocka_unit_test(spawn_runs_in_its_own_group),
        cmocka_unit_test(spawn_reports_exec_failure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
