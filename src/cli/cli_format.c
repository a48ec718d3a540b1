/*
 * Formatting for people: durations, local times, and text from the master
 * made safe for a terminal.
 *
 * Widths are counted in code points.  East Asian wide characters would
 * need wcwidth() and a UTF-8 locale, which the CLI does not set up; names
 * in SSIS projects are overwhelmingly narrow, so the simple count wins.
 */
#include "cli/cli.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "base/banned.h"

void
cli_format_duration(int64_t ms, char *out, size_t len)
{
    int64_t s = ms / 1000;

    if (ms < 0)
        snprintf(out, len, "-");
    else if (ms < 1000)
        snprintf(out, len, "%" PRId64 "ms", ms);
    else if (ms < 60000)
        snprintf(out, len, "%" PRId64 ".%" PRId64 "s", s, ms % 1000 / 100);
    else if (s < 3600)
        snprintf(out, len, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, len, "%" PRId64 "h%02" PRId64 "m", s / 3600,
                 s % 3600 / 60);
    else
        snprintf(out, len, "%" PRId64 "d%02" PRId64 "h", s / 86400,
                 s % 86400 / 3600);
}

void
cli_format_time(int64_t ms, int64_t now_ms, bool with_ms, char *out,
                size_t len)
{
    time_t t = (time_t)(ms / 1000), now = (time_t)(now_ms / 1000);
    struct tm tm, today;
    char stamp[32];
    const char *fmt = "%Y-%m-%d %H:%M:%S";

    if (ms <= 0 || !localtime_r(&t, &tm)) {
        snprintf(out, len, "-");
        return;
    }
    if (localtime_r(&now, &today) && tm.tm_year == today.tm_year &&
        tm.tm_yday == today.tm_yday)
        fmt = "%H:%M:%S";
    strftime(stamp, sizeof(stamp), fmt, &tm);
    if (with_ms)
        snprintf(out, len, "%s.%03d", stamp, (int)(ms % 1000));
    else
        snprintf(out, len, "%s", stamp);
}

void
cli_format_run_time(int64_t started_ms, int64_t ended_ms, int64_t now_ms,
                    char *out, size_t len)
{
    if (started_ms <= 0) {
        snprintf(out, len, "-");
        return;
    }
    if (ended_ms <= 0)
        ended_ms = now_ms;
    cli_format_duration(ended_ms >= started_ms ? ended_ms - started_ms : 0,
                        out, len);
}

/* The length of the valid UTF-8 sequence at `s`, or 0 if it is not one.
 * Overlong forms, surrogates and values past U+10FFFF are invalid. */
static size_t
utf8_len(const unsigned char *s)
{
    size_t n;
    uint32_t c;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, c = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, c = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, c = s[0] & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
        (n == 4 && (c < 0x10000 || c > 0x10ffff)))
        return 0;
    /* C1 controls (U+0080-U+009F) act like escapes on some terminals. */
    if (n == 2 && c < 0xa0)
        return 0;
    return n;
}

size_t
cli_text_clean(struct wbuf *b, const char *s, bool keep_newlines)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t width = 0, n;

    while (*p) {
        if (*p == '\n' && keep_newlines) {
            wbuf_addch(b, '\n', NULL);
            p++;
            continue;
        }
        if (*p == '\t' || *p == '\n' || *p == '\r') {
            wbuf_addch(b, ' ', NULL);
            p++;
        } else if (*p < 0x20 || *p == 0x7f || !(n = utf8_len(p))) {
            wbuf_addch(b, '?', NULL);
            p++;
        } else {
            wbuf_add(b, p, n, NULL);
            p += n;
        }
        width++;
    }
    return width;
}
