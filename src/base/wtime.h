/* Time: monotonic nanoseconds for deadlines, wall-clock milliseconds for
 * what is stored and shown. */
#ifndef WEIR_BASE_WTIME_H
#define WEIR_BASE_WTIME_H

#include <stddef.h>
#include <stdint.h>

#define WTIME_MS_NS INT64_C(1000000)

/* CLOCK_MONOTONIC in nanoseconds: for deadlines and durations. */
int64_t wtime_mono_ns(void);
/* CLOCK_REALTIME in milliseconds since the epoch: for the catalog. */
int64_t wtime_real_ms(void);
/* Formats epoch milliseconds as "2026-11-26T01:02:03.456Z" into `out`
 * (at least 32 bytes); 0 or negative gives "". */
void wtime_format_ms(int64_t ms, char *out, size_t outlen);
/* Parses a duration such as "250ms", "5s", "2m", "1h" or a bare number of
 * seconds into milliseconds; returns -1 if malformed. */
int wtime_parse_duration_ms(const char *s, int64_t *out_ms);

#endif
