/*
 * Waiting for executions to end, for `run --wait` and `stop --wait`.
 *
 * Each round lists the executions from the oldest one still unfinished
 * (GET /api/v1/executions?after=ID, ascending, paged by the last id seen),
 * so a thousand executions cost one request a round rather than a
 * thousand, and finished ones stop being fetched.  An id the listing did
 * not return (another master's numbering may leave gaps, or the listing
 * may be capped) is fetched by itself.
 */
#include "cli/cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/banned.h"
#include "base/wtime.h"
#include "base/xalloc.h"

#define PAGE 1000
#define RETRY_MAX_MS 2000
/* Without a terminal: a line when the counts change, at most every
 * second, and one every half minute even when nothing changes, so a log
 * shows the wait is alive. */
#define LINE_EVERY_NS (1000 * WTIME_MS_NS)
#define QUIET_NS (30000 * WTIME_MS_NS)

struct waiter {
    struct whttp *h;
    int64_t *ids;  /* ascending */
    size_t n;
    json_t **execs; /* the latest copy of each, or NULL */
    bool *seen;     /* in this round */
    bool progress, tty;
    int64_t start_ns, line_ns;
    char line[256]; /* the counts last shown */
};

static int
cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

static json_t **
slot(struct waiter *w, int64_t id)
{
    int64_t *p = bsearch(&id, w->ids, w->n, sizeof(*w->ids), cmp_id);

    return p ? &w->execs[p - w->ids] : NULL;
}

static bool
is_final(const json_t *e)
{
    return e && cli_status_is_final(cli_jint(e, "status", 0));
}

static void
store(struct waiter *w, json_t *e)
{
    json_t **s = slot(w, cli_jint(e, "id", 0));

    if (!s)
        return;
    json_decref(*s);
    *s = json_incref(e);
    w->seen[s - w->execs] = true;
}

/* One page of the listing after `after`; sets *last to the highest id in
 * it (or `after`) and *count to its length. */
static int
fetch_page(struct waiter *w, int64_t after, int64_t *last, size_t *count,
           struct werr *err)
{
    json_t *j, *arr, *e;
    size_t i;

    j = cli_call(w->h, "GET", NULL, err,
                 "/api/v1/executions?after=%" PRId64 "&limit=%d", after,
                 PAGE);
    if (!j)
        return -1;
    arr = json_object_get(j, "executions");
    if (!json_is_array(arr)) {
        json_decref(j);
        return werr_set(err, WERR_IO,
                        "the master's execution list has no 'executions'");
    }
    *last = after;
    json_array_foreach(arr, i, e) {
        store(w, e);
        if (cli_jint(e, "id", 0) > *last)
            *last = cli_jint(e, "id", 0);
    }
    *count = json_array_size(arr);
    json_decref(j);
    return 0;
}

/* Fetches every unfinished execution once. */
static int
poll_round(struct waiter *w, struct werr *err)
{
    size_t first = 0, count = PAGE;
    int64_t after, last = 0;

    memset(w->seen, 0, w->n * sizeof(*w->seen));
    while (first < w->n && is_final(w->execs[first]))
        first++;
    if (first == w->n)
        return 0;
    after = w->ids[first] - 1;
    while (w->n - first > 1 && count == PAGE && after < w->ids[w->n - 1]) {
        if (fetch_page(w, after, &last, &count, err) < 0)
            return -1;
        if (last <= after)
            break;
        after = last;
    }
    for (size_t i = first; i < w->n; i++) {
        json_t *e;

        if (w->seen[i] || is_final(w->execs[i]))
            continue;
        e = cli_call(w->h, "GET", NULL, err, "/api/v1/executions/%" PRId64,
                     w->ids[i]);
        if (!e)
            return werr_prefix(err, "execution %" PRId64, w->ids[i]);
        store(w, e);
        json_decref(e);
    }
    return 0;
}

static bool
all_final(const struct waiter *w)
{
    for (size_t i = 0; i < w->n; i++)
        if (!is_final(w->execs[i]))
            return false;
    return true;
}

/* "6/11 done: 3 pending, 2 running, 5 succeeded, 1 failed" */
static void
format_counts(const struct waiter *w, char *out, size_t len)
{
    static const int order[] = {1, 5, 2, 8, 7, 9, 4, 3, 6};
    size_t counts[10] = {0}, done = 0, used;

    for (size_t i = 0; i < w->n; i++) {
        int64_t st = w->execs[i] ? cli_jint(w->execs[i], "status", 0) : 0;

        counts[st >= 0 && st < 10 ? st : 0]++;
        done += cli_status_is_final(st);
    }
    used = (size_t)snprintf(out, len, "%zu/%zu done:", done, w->n);
    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
        int st = order[k];

        if (counts[st] && used < len)
            used += (size_t)snprintf(out + used, len - used, " %zu %s,",
                                     counts[st], cli_status_name(st));
    }
    if (used < len && out[used - 1] == ',')
        out[used - 1] = '\0';
}

static void
show(struct waiter *w, const char *note, bool final)
{
    char counts[sizeof(w->line)], took[CLI_FMT_MAX];
    int64_t now = wtime_mono_ns();

    if (!w->progress)
        return;
    format_counts(w, counts, sizeof(counts));
    cli_format_duration((now - w->start_ns) / WTIME_MS_NS, took,
                        sizeof(took));
    if (w->tty) {
        printf("\r\033[K%s  %s%s%s", took, counts, note ? "  " : "",
               note ? note : "");
        if (final)
            putchar('\n');
    } else if (strcmp(counts, w->line) != 0 ?
                   final || now - w->line_ns >= LINE_EVERY_NS :
                   now - w->line_ns >= QUIET_NS) {
        printf("%s  %s\n", took, counts);
        w->line_ns = now;
        snprintf(w->line, sizeof(w->line), "%s", counts);
    }
    fflush(stdout);
}

/* One round; a master that cannot be reached is not an error, just a
 * note on the status line, and the next round waits longer. */
static int
round_or_retry(struct waiter *w, int64_t *delay_ms, bool *warned,
               struct werr *err)
{
    if (poll_round(w, err) == 0) {
        *delay_ms = CLI_POLL_MS;
        *warned = false;
        show(w, NULL, false);
        return 0;
    }
    if (err->code != WERR_UNAVAILABLE)
        return -1;
    if (w->progress && w->tty) {
        show(w, "(master unreachable, retrying)", false);
    } else if (!*warned) {
        fprintf(stderr, "weir: %s; retrying\n", err->msg);
        *warned = true;
    }
    *delay_ms = *delay_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : *delay_ms * 2;
    return 0;
}

static json_t *
collect(struct waiter *w)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < w->n; i++)
        json_array_append(arr, w->execs[i]);
    return arr;
}

json_t *
cli_wait(struct whttp *h, const int64_t *ids, size_t n, bool progress,
         struct werr *err)
{
    struct waiter w = {.h = h, .n = n, .progress = progress};
    int64_t delay_ms = CLI_POLL_MS;
    bool warned = false;
    json_t *result = NULL;

    W_ASSERT(n > 0);
    w.ids = xmalloc(n * sizeof(*w.ids));
    memcpy(w.ids, ids, n * sizeof(*w.ids));
    qsort(w.ids, n, sizeof(*w.ids), cmp_id);
    w.execs = xcalloc(n, sizeof(*w.execs));
    w.seen = xcalloc(n, sizeof(*w.seen));
    w.tty = isatty(STDOUT_FILENO);
    w.start_ns = wtime_mono_ns();
    w.line_ns = w.start_ns - LINE_EVERY_NS;
    for (;;) {
        if (round_or_retry(&w, &delay_ms, &warned, err) < 0)
            goto out;
        if (all_final(&w))
            break;
        cli_sleep_ms(delay_ms);
    }
    show(&w, NULL, true);
    result = collect(&w);
out:
    for (size_t i = 0; i < n; i++)
        json_decref(w.execs[i]);
    free(w.execs);
    free(w.seen);
    free(w.ids);
    return result;
}
