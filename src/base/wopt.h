/*
 * Options: one table per command gives name, type, default, bounds and help
 * (redis static_configs).  From it come the parser for flags, the
 * environment and the config file, the --help text, and docs/config.md.
 *
 * Precedence: default < config file < environment < flag.  The config file
 * holds `name = value` lines ('#' starts a comment); its path comes from
 * --config or the environment variable PREFIX_CONFIG.  Environment variables
 * are PREFIX_NAME in upper case with '-' as '_' (WEIR_MASTER_LISTEN).
 */
#ifndef WEIR_BASE_WOPT_H
#define WEIR_BASE_WOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/werr.h"

enum wopt_type {
    WOPT_STR,      /* char *, malloc'd, NULL if unset */
    WOPT_INT,      /* int64_t within [min, max] */
    WOPT_BOOL,     /* bool; a flag without value sets it, --no-NAME clears */
    WOPT_DURATION, /* int64_t milliseconds; "250ms", "5s", "2m" */
    WOPT_LIST,     /* char **, NULL-terminated, each use appends */
    WOPT_LEVEL,    /* enum wlog_level, from "error|warn|info|debug" */
};

struct wopt {
    const char *name;
    enum wopt_type type;
    size_t offset; /* where the value lives in the config struct */
    const char *def;
    int64_t min, max;
    const char *help;
    char shortname; /* 0 for none */
};

#define WOPT_END {0}

/* Sets defaults, reads the config file, the environment, then argv.
 * Arguments that are not options are collected, in order, into a
 * NULL-terminated array stored in *positional (caller frees the array, not
 * the strings, which belong to argv).  "--" ends the options.  Returns 1 if
 * --help was given (after printing usage to stdout), 0 on success, -1 with
 * `err` set on a bad option or value. */
int wopt_parse(const struct wopt *table, void *conf, const char *env_prefix,
               const char *usage, int argc, char **argv, char ***positional,
               struct werr *err);
/* Frees the strings and lists in `conf`. */
void wopt_release(const struct wopt *table, void *conf);
/* Prints the option list (for --help). */
void wopt_print_help(FILE *f, const struct wopt *table, const char *env_prefix,
                     const char *usage);
/* Prints the table as Markdown (for docs/config.md). */
void wopt_print_markdown(FILE *f, const struct wopt *table,
                         const char *env_prefix);

#endif
