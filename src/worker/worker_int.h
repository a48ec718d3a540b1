/*
 * The worker's private declarations, shared by its files:
 *
 *   config.c   the option table and the parsed configuration
 *   wk_http.c  asynchronous requests to the master over libcurl's multi API
 *   agent.c    the loop: register, claim, heartbeat, backoff, shutdown
 *   cache.c    project files fetched by content hash and kept on disk
 *   task.c     one task attempt: folder, files, child process, cancel, result
 *   spawn.c    the one way the worker starts processes, and the reaper that
 *              kills task process groups if the worker itself is killed
 *   relay.c    line splitting, the event spool and batched sending
 *
 * Everything runs on one thread.  Objects that have a request in flight
 * cancel it when they are freed, so no completion callback ever sees a freed
 * object.
 */
#ifndef WEIR_WORKER_INT_H
#define WEIR_WORKER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "base/wbuf.h"
#include "base/werr.h"
#include "base/wfile.h"
#include "base/wid.h"
#include "base/wlog.h"
#include "base/wopt.h"

struct wk_agent;
struct wk_task;

/* ---- config.c ---- */

struct wk_config {
    char **master;           /* as given: each item may hold commas */
    char *state_dir;
    char *name;              /* NULL: the host name */
    char **tag;
    int64_t max_tasks;
    int64_t claim_wait_ms;
    int64_t grace_ms;        /* SIGTERM to SIGKILL when canceling */
    int64_t shutdown_grace_ms;
    int64_t flush_timeout_ms;
    int64_t batch;           /* events per request at most */
    int64_t task_memory_mb;  /* RLIMIT_AS of a task; 0 leaves it */
    int64_t task_nofile;     /* RLIMIT_NOFILE of a task; 0 leaves it */
    bool keep_task_dirs;
    char *exec_path;         /* NULL: the weir binary running the worker */
    char *cacert, *cert, *key;
    enum wlog_level log_level;
};

extern const struct wopt wk_options[];

/* Parses options into `c` (released by wk_config_release even on failure).
 * Returns 1 when --help printed the usage, 0 on success, -1 with `err`. */
int wk_config_parse(struct wk_config *c, int argc, char **argv,
                    struct werr *err);
void wk_config_release(struct wk_config *c);
/* The master URLs, split at commas, trailing '/' removed: a new
 * NULL-terminated list the caller frees with wk_strv_free.  Fails when a
 * URL is not http:// or https://. */
char **wk_config_masters(char *const *given, struct werr *err);
void wk_strv_free(char **v);

/* ---- agent.c: backoff ---- */

/* Retry delays: 100 ms doubling to 5 s, each drawn at random from the upper
 * quarter below the nominal delay (so concurrent workers spread out and no
 * delay passes the cap). */
#define WK_BACKOFF_MIN_MS 100
#define WK_BACKOFF_MAX_MS 5000

struct wk_backoff {
    int64_t nominal_ms; /* 0 before the first failure */
    uint64_t rng;       /* xorshift state, never 0 */
};

void wk_backoff_init(struct wk_backoff *b, uint64_t seed);
/* Forgets past failures: the next delay is the shortest again. */
void wk_backoff_reset(struct wk_backoff *b);
/* The delay before the next attempt, in milliseconds. */
int64_t wk_backoff_next(struct wk_backoff *b);

/* ---- wk_http.c ---- */

enum wk_outcome {
    WK_OK,       /* 2xx */
    WK_RETRY,    /* no answer, timed out, 5xx, 408 or 429: try again later */
    WK_CONFLICT, /* 409 */
    WK_REJECTED, /* any other 4xx: the master refused the request */
};

struct wk_resp {
    enum wk_outcome outcome;
    int status;             /* 0 when no answer came */
    json_t *json;           /* the parsed body of a 2xx JSON answer */
    const struct wbuf *body;
    struct werr err;        /* why, for anything but WK_OK */
};

/* Called once per request, unless the request was canceled.  `r` and what
 * it points to are borrowed for the duration of the call. */
typedef void wk_http_cb(void *arg, const struct wk_resp *r);

struct wk_http;
struct wk_req;

struct wk_tls {
    const char *cacert, *cert, *key; /* any may be NULL */
};

/* A client for the masters in `urls` (borrowed; must outlive it); the
 * first is tried first and a transport failure moves to the next. */
struct wk_http *wk_http_new(char **urls, const struct wk_tls *tls);
/* Cancels every request still in flight (without callbacks). */
void wk_http_free(struct wk_http *h);
/* The master URL requests go to now. */
const char *wk_http_url(const struct wk_http *h);

/* Starts POST `path` with the JSON text `body` (taken: freed by the
 * request).  The returned handle stays valid until the callback has run or
 * wk_http_cancel is called. */
struct wk_req *wk_http_post(struct wk_http *h, const char *path, char *body,
                            long timeout_ms, wk_http_cb *cb, void *arg);
/* POST of a JSON value (borrowed). */
struct wk_req *wk_http_post_json(struct wk_http *h, const char *path,
                                 json_t *body, long timeout_ms, wk_http_cb *cb,
                                 void *arg);
/* Starts GET `path` for raw bytes: a body longer than `max` fails the
 * request with WK_REJECTED and WERR_LIMIT. */
struct wk_req *wk_http_get(struct wk_http *h, const char *path, size_t max,
                           long timeout_ms, wk_http_cb *cb, void *arg);
/* Aborts a request; its callback will not run.  NULL is a no-op. */
void wk_http_cancel(struct wk_http *h, struct wk_req *r);

/* Waits for network activity, one of the `n` extra descriptors (their
 * revents are filled in) or `timeout_ms`, then makes progress and runs the
 * callbacks of the requests that finished. */
int wk_http_wait(struct wk_http *h, void *extra_fds, unsigned n,
                 int timeout_ms, struct werr *err);

/* ---- relay.c: lines ---- */

/* Longest event line kept whole; longer ones are cut and marked. */
#define WK_LINE_MAX (64 * 1024)

/* Splits the bytes a child writes into lines.  Memory stays bounded: at
 * most WK_LINE_MAX plus one read's worth of bytes are buffered. */
struct wk_lines {
    struct wbuf buf;
    size_t start;    /* the next line begins here; earlier bytes are done */
    size_t scanned;  /* buf[start..scanned) is known to hold no '\n' */
    size_t take;     /* bytes wk_lines_consume will pass over */
    bool discarding; /* dropping the rest of a cut line */
    bool take_cut;   /* the peeked line was cut: discard up to its end */
};

void wk_lines_init(struct wk_lines *l);
void wk_lines_release(struct wk_lines *l);
void wk_lines_feed(struct wk_lines *l, const void *p, size_t n);
/* Returns 1 with the next line (without its '\n'; borrowed until the next
 * call on `l`) and *cut set when the line was longer than WK_LINE_MAX and
 * only its start is given, or 0 when no whole line is buffered.  With
 * `eof`, trailing bytes without a '\n' make a last line.  The same line is
 * returned again until wk_lines_consume. */
int wk_lines_peek(struct wk_lines *l, bool eof, const char **line,
                  size_t *len, bool *cut);
void wk_lines_consume(struct wk_lines *l);
/* Bytes waiting in the buffer. */
size_t wk_lines_pending(const struct wk_lines *l);

/* ---- relay.c: events ---- */

/* Appends to `out` the event to spool for a line a child wrote: the line
 * itself when it is a JSON object with an integer "type" and a string
 * "event", else (plain text, other JSON, a cut line) an
 * OnInformation or OnWarning event from "weir worker" whose message holds
 * the text, made valid UTF-8. */
void wk_event_from_line(const char *line, size_t len, bool cut,
                        int64_t now_ms, struct wbuf *out);
/* Appends an event the worker itself reports (type 70, 110 or 120). */
void wk_event_make(int type, const char *text, int64_t now_ms,
                   struct wbuf *out);

/* ---- relay.c: the spool ---- */

/* One task attempt's events, numbered from 1, one JSON object per line in
 * a file.  The file is written before anything is sent and is the source
 * of truth: a batch is read back from it from the first line the master has
 * not acknowledged. */
struct wk_relay {
    int fd;
    int64_t seq;          /* lines in the spool: the last sequence number */
    off_t size;           /* bytes in the spool */
    int64_t acked;        /* the master stored 1..acked */
    off_t acked_off;      /* where line acked+1 starts */
    int64_t sent;         /* the batch in flight ends here (== acked if none) */
    off_t sent_off;
    int64_t unsent_since; /* monotonic ns when a line first waited, or 0 */
    size_t limit;         /* events per batch now: shrinks on refusal */
    size_t max_limit;     /* events per batch normally */
    int64_t stand_in;     /* send a placeholder for this refused line, or 0 */
};

/* Opens the spool at `path`, creating it, or resuming one that exists: its
 * lines are counted (a torn last line is cut off) and nothing counts as
 * acknowledged. */
int wk_relay_open(struct wk_relay *r, const char *path, size_t limit,
                  struct werr *err);
void wk_relay_close(struct wk_relay *r);
/* Appends one event (no '\n' inside) as line seq+1 with a single write; on
 * failure the spool is left as it was. */
int wk_relay_append(struct wk_relay *r, const char *ev, size_t len,
                    int64_t now_ns, struct werr *err);
/* Appends to `out` a JSON array of the events after `acked`: at most
 * r->limit of them and about `max_bytes` (always at least one), marking
 * them in flight.  *first and *count say which; *count is 0 when nothing is
 * waiting. */
int wk_relay_batch(struct wk_relay *r, size_t max_bytes, struct wbuf *out,
                   int64_t *first, size_t *count, struct werr *err);
/* The master has stored 1..acked (clamped to 0..seq); ends the batch in
 * flight. */
int wk_relay_ack(struct wk_relay *r, int64_t acked, struct werr *err);
/* The batch in flight failed: its events wait again. */
void wk_relay_unsend(struct wk_relay *r, int64_t now_ns);
/* The master refused the batch in flight as a whole: retry it in smaller
 * batches, then with a placeholder standing in for one line it refuses on
 * its own, so that one bad line cannot stop the rest. */
void wk_relay_refused(struct wk_relay *r, int64_t now_ns);
static inline bool
wk_relay_in_flight(const struct wk_relay *r)
{
    return r->sent > r->acked;
}
static inline bool
wk_relay_all_acked(const struct wk_relay *r)
{
    return r->acked == r->seq;
}

/* ---- relay.c: sending ---- */

/* Sends the task's waiting events when a batch is full, the oldest has
 * waited 100 ms, or the child has ended; lowers *next to when it wants to
 * run again. */
void wk_relay_pump(struct wk_agent *a, struct wk_task *t, int64_t now,
                   int64_t *next);

/* ---- path safety (task.c) ---- */

/* True if `path` is a relative path that stays inside the folder it is
 * joined to: no empty, "." or ".." component, not absolute, no control
 * characters, at most 1024 bytes. */
bool wk_path_is_safe(const char *path);

/* ---- spawn.c ---- */

struct wk_spawn {
    const char *path;        /* the program */
    char *const *argv;
    const char *cwd;
    int events_fd;           /* becomes descriptor 3 in the child */
    int out_fd;              /* becomes its stdout and stderr */
    int64_t memory_bytes;    /* RLIMIT_AS; 0 leaves it */
    int64_t nofile;          /* RLIMIT_NOFILE; 0 leaves it */
};

/* Starts `s->path` as the leader of a new process group (its pid), with
 * stdin from /dev/null, every other descriptor closed, default signal
 * handling, and SIGKILL on the worker's death.  Fails, with the reason,
 * when the program could not be executed. */
pid_t wk_spawn_start(const struct wk_spawn *s, struct werr *err);

/* The reaper: a small process forked at start that kills (SIGKILL) every
 * task process group it was told about once the worker is gone, however it
 * went.  Grandchildren of the worker (what `weir exec` starts) do not get
 * the worker's PDEATHSIG; this catches them. */
int wk_reaper_start(struct werr *err);
void wk_reaper_add(pid_t pgid);
void wk_reaper_remove(pid_t pgid);
/* Tells the reaper to exit without killing anything and waits for it. */
void wk_reaper_stop(void);

/* ---- cache.c ---- */

enum wk_have { WK_HAVE, WK_MISSING, WK_UNAVAILABLE };

struct wk_cache;

struct wk_cache *wk_cache_new(const char *dir, struct wk_agent *agent);
/* Cancels the fetches in flight. */
void wk_cache_free(struct wk_cache *c, struct wk_http *h);
/* Whether the file `hash` of `size` bytes is in the cache (WK_HAVE); if
 * not, a fetch is queued (WK_MISSING).  WK_UNAVAILABLE, with the reason in
 * `err`, when the master does not have it or sent something else. */
enum wk_have wk_cache_want(struct wk_cache *c, const char *hash, int64_t size,
                           struct werr *err);
/* The cache file for `hash` (a new string). */
char *wk_cache_path(const struct wk_cache *c, const char *hash);
/* Starts queued fetches and retries; lowers *next. */
void wk_cache_tick(struct wk_cache *c, struct wk_http *h, int64_t now,
                   int64_t *next);
/* Changes at every fetch that ends, so waiting tasks know to look again. */
unsigned wk_cache_generation(const struct wk_cache *c);
/* Forgets failed fetches, once every waiting task has seen them. */
void wk_cache_sweep(struct wk_cache *c);

/* ---- task.c ---- */

enum wk_task_state {
    WK_TASK_FETCHING, /* waiting for project files */
    WK_TASK_RUNNING,  /* the child runs, or its pipe is still open */
    WK_TASK_ENDED,    /* result known: deliver events, then complete */
    WK_TASK_LOST,     /* the master gave it away: kill, drop, forget */
    WK_TASK_DONE,     /* over, its folder removed: to be freed */
};

enum wk_result { WK_SUCCEEDED, WK_FAILED, WK_CANCELED };

struct wk_file {
    char *path;
    char hash[WFILE_SHA256_HEX + 1];
    int64_t size;
};

struct wk_task {
    struct wk_agent *agent;
    int64_t id, execution_id, attempt;
    char *package;
    char *label;             /* "task 7 (execution 12)" for logs */
    struct wk_file *files;
    size_t nfiles;
    json_t *params;
    char *dir;               /* tasks/<id>-<attempt> */
    enum wk_task_state state;
    unsigned cache_gen;      /* generation last checked while fetching */
    bool failed_early;       /* ended before a child ran */
    pid_t pid;               /* the child's pid and pgid, 0 when reaped */
    int pipe_fd;             /* read end of the events pipe, or -1 */
    bool pipe_paused;        /* the spool refused a write: wait */
    int64_t resume_at;       /* when to try the spool again */
    struct wk_lines lines;
    struct wk_relay relay;
    bool spool_open;
    bool cancel;             /* the master or a shutdown asked to stop */
    int64_t kill_at;         /* SIGKILL the group then, 0 if not pending */
    int64_t eof_deadline;    /* stop waiting for the pipe's end then */
    int exit_code;           /* or 128+signal */
    int signal;              /* the signal that ended the child, or 0 */
    enum wk_result result;
    struct wk_req *events_req, *complete_req;
    int64_t events_at, complete_at; /* not before (backoff) */
    struct wk_backoff events_bo, complete_bo;
    int events_conflicts;    /* 409s in a row on events */
    int complete_conflicts;  /* 409s on the completion */
    bool undeliverable;      /* the master refused the completion */
};

/* Makes a task from one element of a claim's "tasks" (borrowed).  NULL
 * when even its id is unusable; a task whose other members are bad comes
 * back already ended as failed, with the reason as its event. */
struct wk_task *wk_task_new(struct wk_agent *a, json_t *j, struct werr *err);
/* Cancels its requests, closes its pipe and spool.  Its folder stays: a
 * task removes it when it is done.  A child must have been reaped.  NULL is
 * a no-op. */
void wk_task_free(struct wk_agent *a, struct wk_task *t);
/* Advances the task; lowers *next to when it wants to run again. */
void wk_task_tick(struct wk_agent *a, struct wk_task *t, int64_t now,
                  int64_t *next);
/* Reads what the child wrote (its pipe is readable or closed). */
void wk_task_read(struct wk_agent *a, struct wk_task *t, int64_t now);
/* Reaps the child if it exited; returns true if it did. */
bool wk_task_reap(struct wk_agent *a, struct wk_task *t, int64_t now);
/* Stop requested: SIGTERM the group now, SIGKILL after the grace period. */
void wk_task_cancel(struct wk_agent *a, struct wk_task *t, int64_t now);
/* The master no longer holds the task: SIGKILL, drop the output. */
void wk_task_lose(struct wk_agent *a, struct wk_task *t);
/* Whether the child is alive (or not yet reaped). */
static inline bool
wk_task_has_child(const struct wk_task *t)
{
    return t->pid > 0;
}
/* Appends an event the worker reports about the task to its spool. */
void wk_task_note(struct wk_agent *a, struct wk_task *t, int type,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- agent.c ---- */

struct wk_agent {
    struct wk_config *cfg;
    struct wk_http *http;
    struct wk_cache *cache;
    char **urls;
    char *self;              /* the program tasks run */
    char *state_dir;         /* absolute */
    char *tasks_dir;
    char worker_id[WID_UUID_LEN + 1];
    char incarnation[WID_UUID_LEN + 1];
    char name[256], machine[256];
    int sigfd, lock_fd;

    bool registered, enabled;
    bool hb_answered;        /* a heartbeat succeeded since registering */
    int64_t heartbeat_ms, lease_ms;
    struct wk_req *reg_req, *claim_req, *hb_req;
    int64_t reg_at, claim_at, hb_at;
    struct wk_backoff reg_bo, claim_bo, hb_bo;
    bool master_down;        /* for logging the outage once */

    struct wk_task **tasks;
    size_t ntasks, cap;

    bool stopping, canceled_all, quit;
    int64_t stop_deadline, flush_deadline, hard_deadline;
};

/* Common members of every worker call. */
json_t *wk_agent_body(struct wk_agent *a);
/* Notes that a request failed for want of the master (logs the outage
 * once) or succeeded (logs the recovery). */
void wk_agent_master_state(struct wk_agent *a, const struct wk_resp *r);
/* The master said 409 to a task's call: check with a heartbeat soon. */
void wk_agent_recheck(struct wk_agent *a);

#endif
