/*
 * Logging: one line per message on stderr, for journald and for people.
 *
 * The level is checked before the arguments are evaluated (redis
 * serverLog), so a debug line costs one comparison when debug is off.
 * Never pass secrets (passwords, sensitive parameter values) to wlog.
 */
#ifndef WEIR_BASE_WLOG_H
#define WEIR_BASE_WLOG_H

enum wlog_level { WLOG_ERROR, WLOG_WARN, WLOG_INFO, WLOG_DEBUG };

extern enum wlog_level wlog_threshold;

/* Parses "error", "warn", "info" or "debug"; returns -1 if unknown. */
int wlog_parse_level(const char *name, enum wlog_level *out);
/* The name used as the line's prefix, e.g. "warn". */
const char *wlog_level_name(enum wlog_level level);
/* Sets the program name written at the start of each line. */
void wlog_set_ident(const char *ident);

void wlog_write(enum wlog_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define wlog(level, ...) \
    do { if ((level) <= wlog_threshold) wlog_write((level), __VA_ARGS__); } \
    while (0)

#endif
