#include "base/wlog.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum wlog_level wlog_threshold = WLOG_INFO;
static const char *ident = "weir";
static const char *names[] = {"error", "warn", "info", "debug"};

int
wlog_parse_level(const char *name, enum wlog_level *out)
{
    for (int i = 0; i <= WLOG_DEBUG; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum wlog_level)i;
            return 0;
        }
    }
    return -1;
}

const char *
wlog_level_name(enum wlog_level level)
{
    return names[level];
}

void
wlog_set_ident(const char *name)
{
    ident = name;
}

void
wlog_write(enum wlog_level level, const char *fmt, ...)
{
    char line[2048], stamp[32];
    struct timespec ts;
    struct tm tm;
    va_list ap;
    int n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    n = snprintf(line, sizeof(line), "%s.%03ldZ %s[%d] %s: ", stamp,
                 ts.tv_nsec / 1000000, ident, (int)getpid(), names[level]);
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    n = (int)strlen(line);
    line[n++] = '\n';
    /* One write per line, so lines from several processes never interleave. */
    if (write(STDERR_FILENO, line, (size_t)n) < 0)
        return;
}
