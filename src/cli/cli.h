/*
 * The client verbs of the weir command (deploy, run, executions, log, stop,
 * workers, projects, packages) and the pieces they share.
 *
 * Every verb is `int cli_VERB_main(int argc, char **argv)` with argv[0] the
 * verb's name; it parses its own options from a wopt table (environment
 * prefix WEIR, so --master is also WEIR_MASTER), talks to the master over
 * the HTTP API in docs/api.md, prints to stdout, and returns the process's
 * exit code: 0, werr_exit_code() of what went wrong (after printing
 * "weir: <message>" on stderr), or 1 when `run --wait` saw an execution
 * that did not succeed.
 *
 * The pure pieces (tables, formatting, argument parsing, folder packing)
 * are declared here too so that tests/unit/client can test them without a
 * master.  Nothing here is thread-safe; the CLI is single-threaded.
 */
#ifndef WEIR_CLI_CLI_H
#define WEIR_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "base/wbuf.h"
#include "base/werr.h"
#include "base/wopt.h"
#include "client/whttp.h"

/* ---- Verbs --------------------------------------------------------- */

int cli_deploy_main(int argc, char **argv);
int cli_run_main(int argc, char **argv);
int cli_executions_main(int argc, char **argv);
int cli_execution_main(int argc, char **argv);
int cli_log_main(int argc, char **argv);
int cli_stop_main(int argc, char **argv);
int cli_workers_main(int argc, char **argv);
int cli_projects_main(int argc, char **argv);
int cli_packages_main(int argc, char **argv);

/* Polls the executions `ids` (n of them, any order) until every one has a
 * final status, sleeping CLI_POLL_MS between rounds.  With `progress` it
 * keeps a status line on stdout: redrawn in place on a terminal, a new
 * line at most every second when the counts change otherwise.  A master
 * that cannot be reached is retried until it answers (it loses nothing
 * when it restarts).  Returns a new JSON array of the final executions in
 * ascending id order, or NULL with `err` set (cli_wait.c). */
json_t *cli_wait(struct whttp *h, const int64_t *ids, size_t n,
                 bool progress, struct werr *err);

#define CLI_POLL_MS 250

/* ---- Options every verb takes (cli_common.c) ----------------------- */

#define CLI_DEFAULT_MASTER "http://127.0.0.1:8391"
#define CLI_ENV_PREFIX "WEIR"

/* Embedded first in every verb's option struct. */
struct cli_common {
    char *master; /* base URL of the master */
    bool json;    /* print the API's JSON instead of text */
};

/* The wopt entries for struct cli_common, for a verb struct T that embeds
 * it as `common`. */
#define CLI_COMMON_OPTS(T)                                                  \
    {"master", WOPT_STR, offsetof(T, common.master), CLI_DEFAULT_MASTER,    \
     0, 0, "URL of the weir master", 0},                                    \
    {"json", WOPT_BOOL, offsetof(T, common.json), "false", 0, 0,            \
     "print the API's JSON (pretty-printed) instead of text", 0}

/* Parses argv with `table` into `conf` (see wopt_parse) and checks that
 * exactly between `min_pos` and `max_pos` positional arguments came.
 * Returns 1 after --help (printed), 0 on success, -1 with `err` set (then
 * *pos is freed).  The caller frees *pos and releases `conf`. */
int cli_parse(const struct wopt *table, void *conf, const char *usage,
              int argc, char **argv, size_t min_pos, size_t max_pos,
              char ***pos, struct werr *err);

/* Prints "weir: <message>" on stderr and returns the exit code for it. */
int cli_fail(const struct werr *err);

/* A client for the master named by `c`; the caller frees it.  Fails with
 * WERR_INVALID if the URL is not http:// or https://. */
struct whttp *cli_connect(const struct cli_common *c, struct werr *err);

/* Timeouts of one API call, in milliseconds: uploads may be large. */
#define CLI_TIMEOUT_MS 30000L
#define CLI_UPLOAD_TIMEOUT_MS 600000L

/* GET/POST `path` (printf-style, values already URL-escaped) and return
 * the decoded answer (caller owns) or NULL with `err` set. */
json_t *cli_call(struct whttp *h, const char *method, json_t *body,
                 struct werr *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Decodes the answer to METHOD `path` that whttp_request got: the JSON of
 * a 2xx answer (an empty body gives {}), or NULL with `err` set from an
 * error body.  The caller owns the result. */
json_t *cli_decode(int status, const struct wbuf *resp, const char *method,
                   const char *path, struct werr *err);

/* Prints one line on stdout, formatted, then cleaned as by cli_text_clean
 * (so values from the master cannot break it), then a newline. */
void cli_print_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints `j` to stdout pretty-printed with a final newline. */
void cli_print_json(const json_t *j);

/* Sleeps `ms` milliseconds (restarting after signals). */
void cli_sleep_ms(int64_t ms);

/* Borrowed views of JSON members that tolerate a missing or ill-typed
 * member: "" (or `def`) for strings, `def` for integers. */
const char *cli_jstr(const json_t *obj, const char *key, const char *def);
int64_t cli_jint(const json_t *obj, const char *key, int64_t def);

/* ---- Values on the command line (cli_args.c) ------------------------ */

/* wid_is_name's limit on folder, project and package names. */
#define CLI_NAME_MAX 128

/* What `weir run` and `weir packages` name: FOLDER/PROJECT[/PACKAGE]. */
struct cli_target {
    char folder[CLI_NAME_MAX + 1];
    char project[CLI_NAME_MAX + 1];
    char package[CLI_NAME_MAX + 1];
};

/* Parses "FOLDER/PROJECT/PACKAGE.dtsx" (want_package) or "FOLDER/PROJECT"
 * into `t`.  Each part must be a valid name (wid_is_name); a package
 * without the ".dtsx" extension gets it appended. */
int cli_target_parse(struct cli_target *t, const char *s, bool want_package,
                     struct werr *err);

/* Adds "NAME=VALUE" to the JSON object `params` as a string member.
 * NAME is `Name`, `$Project::Name` or `$Package::Name`; VALUE is everything
 * after the first '=' and may be empty.  A name given twice is an error. */
int cli_param_add(json_t *params, const char *arg, struct werr *err);

/* Parses a logging level: none, basic, performance, verbose (any case) or
 * 0-3. */
int cli_parse_logging_level(const char *s, int64_t *out, struct werr *err);

/* Parses an execution status: a name from cli_status_name (any case, '-'
 * or '_' for the space) or 1-9. */
int cli_parse_status(const char *s, int64_t *out, struct werr *err);

/* Parses a positive integer id; `what` names it in the error
 * ("execution id"). */
int cli_parse_id(const char *what, const char *s, int64_t *out,
                 struct werr *err);

/* The SSISDB name of an execution status ("ended unexpectedly"), or
 * "unknown". */
const char *cli_status_name(int64_t status);
/* Canceled, failed, ended unexpectedly, succeeded or completed. */
bool cli_status_is_final(int64_t status);
/* Succeeded or completed (SSIS's succeeded-with-warnings). */
bool cli_status_is_success(int64_t status);

/* Appends `s` percent-encoded as one URL path segment or query value
 * (everything but A-Z a-z 0-9 - . _ ~ is escaped). */
int cli_url_escape(struct wbuf *b, const char *s, struct werr *err);

/* ---- Formatting (cli_format.c) -------------------------------------- */

/* Big enough for any result of the formatters below. */
#define CLI_FMT_MAX 40

/* A duration for people: "850ms", "12.3s", "4m05s", "2h03m", "3d04h";
 * a negative one gives "-". */
void cli_format_duration(int64_t ms, char *out, size_t len);

/* Epoch milliseconds as local time: "HH:MM:SS" when on the same local day
 * as `now_ms`, else "YYYY-MM-DD HH:MM:SS"; with_ms adds ".mmm".  0 or a
 * negative time gives "-". */
void cli_format_time(int64_t ms, int64_t now_ms, bool with_ms, char *out,
                     size_t len);

/* How long an execution ran (or has been running, at `now_ms`), formatted
 * as by cli_format_duration; "-" if it has not started. */
void cli_format_run_time(int64_t started_ms, int64_t ended_ms, int64_t now_ms,
                         char *out, size_t len);

/* Appends `s` made safe for a terminal: control characters and invalid
 * UTF-8 become '?', tabs (and newlines unless keep_newlines) become a
 * space, so text from the master cannot move the cursor or change colors.
 * Returns the width in columns of what was appended (one per code
 * point). */
size_t cli_text_clean(struct wbuf *b, const char *s, bool keep_newlines);

/* ---- Tables (cli_table.c) ------------------------------------------- */

enum cli_align { CLI_LEFT, CLI_RIGHT };

struct cli_column {
    const char *title;
    enum cli_align align;
    size_t max_width; /* in columns; longer cells end in "…"; 0 = no limit */
};

/* A table filled cell by cell, row after row, then rendered with column
 * widths taken from the content. */
struct cli_cell {
    char *text;   /* a cleaned copy, owned by the table */
    size_t width; /* in columns */
};

struct cli_table {
    const struct cli_column *cols; /* borrowed; titles are plain ASCII */
    size_t ncols;
    struct cli_cell *cells; /* row after row */
    size_t ncells, cap;
};

void cli_table_init(struct cli_table *t, const struct cli_column *cols,
                    size_t ncols);
void cli_table_release(struct cli_table *t);
/* Appends the next cell (a copy of `text`, cleaned as by cli_text_clean;
 * NULL is ""); after the last column the next cell starts a new row. */
void cli_table_add(struct cli_table *t, const char *text);
void cli_table_addf(struct cli_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The number of complete or started rows. */
size_t cli_table_rows(const struct cli_table *t);
/* Renders the header and the rows: columns separated by two spaces, no
 * trailing blanks, one '\n' per line.  A short last row is padded with
 * empty cells. */
void cli_table_render(const struct cli_table *t, struct wbuf *out);
/* Renders to `f`. */
void cli_table_print(const struct cli_table *t, FILE *f);

/* ---- Folder packing (cli_pack.c) ------------------------------------ */

/* The largest project the CLI packs or uploads. */
#define CLI_PACK_MAX ((size_t)1 << 30)
/* The most files one packed project may hold. */
#define CLI_PACK_MAX_FILES 100000

/* Packs every regular file under `dir` into a zip archive appended to
 * `zip`, with paths relative to `dir` ('/'-separated, sorted).  Hidden
 * files and folders (names starting with '.') are skipped, as are sockets,
 * FIFOs and devices.  A symbolic link is followed when it resolves inside
 * `dir`; one that leaves it, dangles, or loops is an error.  The number of
 * files packed goes to *nfiles. */
int cli_pack_folder(const char *dir, struct wbuf *zip, size_t *nfiles,
                    struct werr *err);

#endif
