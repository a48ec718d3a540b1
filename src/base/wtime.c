#include "base/wtime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t
wtime_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
wtime_real_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
wtime_format_ms(int64_t ms, char *out, size_t outlen)
{
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    char stamp[24];

    if (ms <= 0 || !gmtime_r(&sec, &tm)) {
        snprintf(out, outlen, "%s", "");
        return;
    }
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, outlen, "%s.%03dZ", stamp, (int)(ms % 1000));
}

int
wtime_parse_duration_ms(const char *s, int64_t *out_ms)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (end == s || errno || v < 0)
        return -1;
    if (*end == '\0' || strcmp(end, "s") == 0)
        v *= 1000;
    else if (strcmp(end, "ms") == 0)
        ;
    else if (strcmp(end, "m") == 0)
        v *= 60000;
    else if (strcmp(end, "h") == 0)
        v *= 3600000;
    else
        return -1;
    if (v > 1e15)
        return -1;
    *out_ms = (int64_t)v;
    return 0;
}
