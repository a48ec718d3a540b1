/*
 * weir log ID [--follow]: an execution's messages as readable lines, in
 * the layout `weir exec` prints locally:
 *
 *   12:00:01.456 OnPreExecute   \Package                       Extract
 *
 * Pages are fetched with ?after=SEQ.  --follow polls until the execution
 * is final and every message has been printed.  The master stores all of
 * a task's events before it accepts the completion, but the status comes
 * with a page, so a final status only proves that the *next* request will
 * see every message: the loop stops after one more short page.
 */
#include "cli/cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"
#include "base/wtime.h"

#define PAGE 1000
#define RETRY_MAX_MS 2000

struct log_opts {
    struct cli_common common;
    bool follow;
};

static const struct wopt log_table[] = {
    CLI_COMMON_OPTS(struct log_opts),
    {"follow", WOPT_BOOL, offsetof(struct log_opts, follow), "false", 0, 0,
     "keep printing new messages until the execution has ended", 'f'},
    WOPT_END,
};

static const char log_usage[] =
    "usage: weir log ID [--follow]\n\nPrints an execution's messages.";

struct follower {
    struct whttp *h;
    int64_t id;
    int64_t after;   /* the highest seq printed */
    int64_t attempt; /* of the last message printed, 0 before any */
    int64_t status;
    json_t *all;     /* with --json: every message, printed at the end */
};

/* Appends the cleaned `s` padded to `width` columns and a space; returns
 * the columns added. */
static size_t
add_cell(struct wbuf *b, const char *s, size_t width)
{
    size_t w = cli_text_clean(b, s, false);

    for (; w < width; w++)
        wbuf_addch(b, ' ', NULL);
    wbuf_addch(b, ' ', NULL);
    return w + 1;
}

/* Appends the text, with continuation lines indented by `indent`. */
static void
add_text(struct wbuf *b, const char *p, size_t indent)
{
    struct wbuf part;

    wbuf_init(&part, WBUF_NOLIMIT);
    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);

        if (n && p[n - 1] == '\r')
            n--;
        wbuf_reset(&part);
        wbuf_add(&part, p, n, NULL);
        cli_text_clean(b, part.buf, false);
        if (!nl || !nl[1])
            break;
        p = nl + 1;
        wbuf_addch(b, '\n', NULL);
        for (size_t i = 0; i < indent; i++)
            wbuf_addch(b, ' ', NULL);
    }
    wbuf_release(&part);
}

/* Prints one message as `weir exec` does: time, event, path, text. */
static void
print_message(struct follower *f, const json_t *m, int64_t now)
{
    struct wbuf line;
    char when[CLI_FMT_MAX];
    int64_t attempt = cli_jint(m, "attempt", 1);
    size_t indent;

    if (attempt != f->attempt && (f->attempt || attempt > 1))
        printf("--- attempt %" PRId64 " ---\n", attempt);
    f->attempt = attempt;
    wbuf_init(&line, WBUF_NOLIMIT);
    cli_format_time(cli_jint(m, "time_ms", 0), now, true, when, sizeof(when));
    indent = add_cell(&line, when, 0);
    indent += add_cell(&line, cli_jstr(m, "event", "?"), 14);
    indent += add_cell(&line, cli_jstr(m, "path", ""), 29);
    add_text(&line, cli_jstr(m, "message", ""), indent);
    while (line.len && line.buf[line.len - 1] == ' ')
        line.buf[--line.len] = '\0';
    puts(line.buf);
    wbuf_release(&line);
}

/* Fetches and handles one page; *count gets its length. */
static int
fetch_page(struct follower *f, size_t *count, struct werr *err)
{
    json_t *j, *arr, *m;
    int64_t now = wtime_real_ms();
    size_t i;

    j = cli_call(f->h, "GET", NULL, err,
                 "/api/v1/executions/%" PRId64 "/messages?after=%" PRId64
                 "&limit=%d", f->id, f->after, PAGE);
    if (!j)
        return -1;
    arr = json_object_get(j, "messages");
    if (!json_is_array(arr)) {
        json_decref(j);
        return werr_set(err, WERR_IO, "the master's answer has no 'messages'");
    }
    f->status = cli_jint(j, "status", 0);
    json_array_foreach(arr, i, m) {
        int64_t seq = cli_jint(m, "seq", 0);

        if (seq <= f->after) /* already printed: never twice */
            continue;
        f->after = seq;
        if (f->all)
            json_array_append(f->all, m);
        else
            print_message(f, m, now);
    }
    *count = json_array_size(arr);
    json_decref(j);
    fflush(stdout);
    return 0;
}

static int
follow_loop(struct follower *f, bool follow, struct werr *err)
{
    int64_t delay = CLI_POLL_MS;
    bool was_final = false, warned = false;
    size_t count = 0;

    for (;;) {
        if (fetch_page(f, &count, err) < 0) {
            if (!follow || err->code != WERR_UNAVAILABLE)
                return -1;
            if (!warned)
                fprintf(stderr, "weir: %s; retrying\n", err->msg);
            warned = true;
            delay = delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : delay * 2;
            cli_sleep_ms(delay);
            continue;
        }
        delay = CLI_POLL_MS;
        warned = false;
        if (count >= PAGE)
            continue;
        if (!follow || was_final)
            return 0;
        was_final = cli_status_is_final(f->status);
        if (!was_final)
            cli_sleep_ms(delay);
    }
}

static int
run_log(const struct log_opts *o, const char *arg, struct werr *err)
{
    struct follower f = {0};
    int rc = -1;

    if (cli_parse_id("execution id", arg, &f.id, err) < 0 ||
        !(f.h = cli_connect(&o->common, err)))
        goto out;
    if (o->common.json)
        f.all = json_array();
    if (follow_loop(&f, o->follow, err) < 0)
        goto out;
    if (o->common.json) {
        json_t *j = json_pack("{s:O,s:I}", "messages", f.all, "status",
                              (json_int_t)f.status);

        cli_print_json(j);
        json_decref(j);
    }
    rc = 0;
out:
    json_decref(f.all);
    whttp_free(f.h);
    return rc;
}

int
cli_log_main(int argc, char **argv)
{
    struct log_opts o = {0};
    struct werr err = {0};
    char **pos = NULL;
    int rc;

    rc = cli_parse(log_table, &o, log_usage, argc, argv, 1, 1, &pos, &err);
    if (rc == 0)
        rc = run_log(&o, pos[0], &err);
    else if (rc > 0)
        rc = 0;
    if (rc < 0)
        rc = cli_fail(&err);
    free(pos);
    wopt_release(log_table, &o);
    return rc;
}
