/*
 * Private declarations of the master, shared by its files:
 *
 *   config.c    the option table and the --listen address
 *   master.c    the event loop, signals, start and shutdown
 *   http.c      one HTTP request: body, limits, answers (struct mreq)
 *   routes.c    the route table and path matching
 *   h_*.c       the route handlers
 *   deploy.c    a deployment's files: zip reading, path checks, validation
 *   sched.c     parked claims, waking them, the lease reaper
 *
 * Everything here runs on the one thread that owns the master's state.
 */
#ifndef WEIR_MASTER_INT_H
#define WEIR_MASTER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>
#include <microhttpd.h>

#include "base/wbuf.h"
#include "base/werr.h"
#include "base/wid.h"
#include "base/wlog.h"
#include "base/wopt.h"

struct cat;
struct mreq;

/* ---- config.c ---- */

struct master_conf {
    char *listen;              /* "host:port" */
    char *catalog;             /* catalog URL */
    int64_t lease_ms;          /* a task's lease without heartbeat */
    int64_t heartbeat_ms;      /* told to workers at registration */
    int64_t claim_wait_max_ms; /* cap on a claim's wait_ms */
    int64_t max_body;          /* bytes, JSON request bodies */
    int64_t max_deploy;        /* bytes, deployment bodies */
    bool auto_enable_workers;
    enum wlog_level log_level;
    char *port_file;           /* NULL: none */
    int64_t online_window_ms;  /* 0 until master_conf_check: 3 heartbeats */
};

#define MASTER_ENV_PREFIX "WEIR_MASTER"
extern const struct wopt master_options[];
extern const char master_usage[];

/* Fills the derived defaults and checks that the options agree with each
 * other (a heartbeat shorter than the lease, ...). */
int master_conf_check(struct master_conf *c, struct werr *err);

/* Parses --listen: "HOST:PORT", "[IPV6]:PORT" or ":PORT" (all IPv4
 * interfaces); HOST may be a name, resolved once.  Fills `ss` and `len`. */
int master_parse_listen(const char *s, struct sockaddr_storage *ss,
                        socklen_t *len, struct werr *err);
/* True for 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
bool master_addr_is_loopback(const struct sockaddr *sa);

/* ---- sched.c: parked claims and the reaper ---- */

/* One parked claim; lives inside its request (struct mreq). */
struct sched_claim {
    struct sched_claim *prev, *next; /* FIFO: oldest at the head */
    struct mreq *req;
    char worker_id[WID_UUID_LEN + 1];
    char incarnation[WID_UUID_LEN + 1];
    int slots;
    int64_t deadline_ns;             /* monotonic */
    int fd;                          /* the client's socket, watched */
    bool parked;
};

struct sched {
    struct master *m;
    struct sched_claim *head, *tail;
    size_t nparked;
    bool wake;                  /* tasks may be pending: walk the claims */
    bool resumed;               /* claims were answered since the tick */
    int64_t next_expiry_ms;     /* <= the earliest lease expiry; 0: none */
    int64_t reap_backoff_ms;    /* after a failed reap, wait until then */
    int64_t sweep_ns;           /* next periodic wake (other masters) */
};

void sched_init(struct sched *s, struct master *m);
/* Reads the earliest lease from the catalog (after the leases were
 * extended at start). */
void sched_start(struct sched *s);
/* Parks the claim of request `r` (suspending its connection) until a task
 * is pending for it or `wait_ms` passed. */
void sched_park(struct sched *s, struct mreq *r, const char *worker_id,
                const char *incarnation, int slots, int64_t wait_ms);
/* Forgets a parked claim whose request is being freed. */
void sched_forget(struct sched *s, struct sched_claim *c);
/* The client of a parked claim hung up: drop it without giving it tasks. */
void sched_hangup(struct sched *s, struct sched_claim *c);
/* Claims up to `slots` tasks for a worker now (the claim route's first
 * try, and each parked claim's); notes the leases and logs the starts.
 * Returns the "tasks" array (possibly empty) or NULL with `err` set. */
json_t *sched_claim_now(struct sched *s, const char *worker_id,
                        const char *incarnation, int slots,
                        struct werr *err);
/* Tasks may have become pending: parked claims are tried at the next
 * tick. */
void sched_wake(struct sched *s);
/* A lease ending at `expiry_ms` was granted. */
void sched_note_lease(struct sched *s, int64_t expiry_ms);
/* Reaps expired leases, hands pending tasks to parked claims and answers
 * the claims that waited long enough.  Returns how many milliseconds the
 * loop may sleep before the next tick is due (at most a second). */
int64_t sched_tick(struct sched *s);
/* Answers every parked claim with 503 (the master is stopping). */
void sched_shutdown(struct sched *s);
/* The catalog batch was rolled back: what the scheduler learned from it
 * (leases, pending tasks) is checked again at the next tick. */
void sched_rollback(struct sched *s);

/* ---- the master ---- */

struct master {
    struct master_conf conf;
    struct cat *cat;
    struct MHD_Daemon *mhd;
    struct sched sched;
    int epfd;                  /* ours: MHD's epoll fd, signals, claims */
    bool stopping;
    bool port_file_written;
    bool batch_open;           /* a catalog batch spans this loop turn */
    struct mreq *batch_head;   /* answers waiting for its commit */
    size_t nrequests;          /* requests begun and not yet completed */
    int argc;                  /* kept to re-read the options on SIGHUP */
    char **argv;
};

/* Adds a parked claim's socket to the loop's epoll set (hang-up only). */
int master_watch_fd(struct master *m, int fd, void *tag);
void master_unwatch_fd(struct master *m, int fd);

/* ---- routes.c ---- */

#define ROUTE_MAX_PARAMS 2

enum route_body {
    ROUTE_BODY_JSON,   /* limited by --max-body */
    ROUTE_BODY_DEPLOY, /* limited by --max-deploy */
};

struct route {
    const char *method;
    const char *pattern; /* "/api/v1/executions/{id}/stop" */
    int (*fn)(struct mreq *r, struct werr *err);
    enum route_body body;
};

extern const struct route master_routes[];

/* Finds the route for METHOD PATH in `table` (ended by a NULL method).
 * On a match, `params` receives malloc'd copies of the {placeholders}'
 * segments, in order (free them with route_params_free).  Without one,
 * returns NULL and writes to `allow` the methods the path does accept,
 * comma-separated ("GET, PUT"), or "" if no pattern matches the path. */
const struct route *route_find(const struct route *table, const char *method,
                               const char *path,
                               char *params[ROUTE_MAX_PARAMS], char *allow,
                               size_t allowlen);
void route_params_free(char *params[ROUTE_MAX_PARAMS]);

/* ---- http.c: one request ---- */

struct mreq {
    struct master *m;
    struct MHD_Connection *conn;
    const struct route *route;
    char *params[ROUTE_MAX_PARAMS];
    const char *method, *url; /* borrowed from MHD for the request */
    int64_t start_ns;
    struct wbuf body;
    struct sched_claim claim;
    bool answered;   /* status and json (or raw) are set */
    bool committed;  /* the answer may go: its batch is committed */
    bool deferred;   /* suspended until its batch is committed */
    bool queued;     /* handed to MHD: nothing more to do */
    bool parked;
    struct mreq *bprev, *bnext; /* answered in the open batch */
    bool in_batch;
    bool too_large;  /* the body passed its limit: answered 413 */
    int status;
    json_t *json;
    char *raw;       /* a raw body (blobs), malloc'd */
    size_t raw_len;
    char allow[32];  /* the Allow header of a 405 answer */
};

/* Callbacks given to libmicrohttpd. */
enum MHD_Result http_on_request(void *cls, struct MHD_Connection *conn,
                                const char *url, const char *method,
                                const char *version, const char *upload,
                                size_t *upload_size, void **ctx);
void http_on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
                       enum MHD_RequestTerminationCode toe);
void http_on_connection(void *cls, struct MHD_Connection *conn,
                        void **socket_ctx,
                        enum MHD_ConnectionNotificationCode toe);

/* Sets the answer: `json` is taken (the request owns it now).  Inside a
 * catalog batch the answer is held until the batch is committed (see
 * http_batch_release). */
void mreq_answer(struct mreq *r, int status, json_t *json);
/* Sets an answer that depends on no catalog state (a claim that waited in
 * vain, a 404): it goes out without waiting for the batch. */
void mreq_answer_stateless(struct mreq *r, int status, json_t *json);
/* Sets an error answer from `err`: its code gives the status. */
void mreq_fail(struct mreq *r, const struct werr *err);
/* Sets a raw answer: `data` (malloc'd) is taken. */
void mreq_answer_raw(struct mreq *r, int status, char *data, size_t len);
/* Resumes a suspended request; MHD then calls back and its answer (once
 * committed) is queued. */
void mreq_resume(struct mreq *r);
/* The batch is over: lets the answers given inside it go (`failure` NULL)
 * or replaces them with that error (the batch was rolled back).  Returns
 * how many suspended requests were resumed. */
size_t http_batch_release(struct master *m, const struct werr *failure);

/* The request body parsed as a JSON object (a new reference). */
json_t *mreq_json(struct mreq *r, struct werr *err);
/* A header or query argument; NULL if absent.  Borrowed. */
const char *mreq_header(struct mreq *r, const char *name);
const char *mreq_query(struct mreq *r, const char *name);
/* An integer query argument in [min, max]; `def` when absent. */
int mreq_query_int(struct mreq *r, const char *name, int64_t min,
                   int64_t max, int64_t def, int64_t *out, struct werr *err);

/* Parses a positive decimal id (an execution, a task); `what` names it in
 * the message. */
int master_parse_id(const char *s, const char *what, int64_t *out,
                    struct werr *err);

/* ---- handlers ---- */

int h_deploy(struct mreq *r, struct werr *err);
int h_folders(struct mreq *r, struct werr *err);
int h_projects(struct mreq *r, struct werr *err);
int h_project_get(struct mreq *r, struct werr *err);
int h_blob_get(struct mreq *r, struct werr *err);

int h_exec_create(struct mreq *r, struct werr *err);
int h_exec_list(struct mreq *r, struct werr *err);
int h_exec_get(struct mreq *r, struct werr *err);
int h_exec_start(struct mreq *r, struct werr *err);
int h_exec_stop(struct mreq *r, struct werr *err);
int h_exec_messages(struct mreq *r, struct werr *err);
int h_exec_statistics(struct mreq *r, struct werr *err);

int h_workers(struct mreq *r, struct werr *err);
int h_worker_get(struct mreq *r, struct werr *err);
int h_worker_enable(struct mreq *r, struct werr *err);
int h_worker_disable(struct mreq *r, struct werr *err);
int h_register(struct mreq *r, struct werr *err);
int h_claim(struct mreq *r, struct werr *err);
int h_heartbeat(struct mreq *r, struct werr *err);
int h_events(struct mreq *r, struct werr *err);
int h_complete(struct mreq *r, struct werr *err);

/* ---- deploy.c: a deployment's files ---- */

struct deploy_limits {
    size_t max_entries;   /* files and folders in an archive */
    size_t max_total;     /* bytes, all files uncompressed */
};

struct deploy_file {
    char *path;           /* relative, '/'-separated, clean */
    char *data;
    size_t len;
    bool is_package;      /* a top-level .dtsx */
};

struct deploy {
    struct deploy_file *files;
    size_t n, cap;
    size_t total;         /* bytes of data */
    size_t nentries;      /* archive entries seen, folders included */
    size_t npackages;
};

void deploy_init(struct deploy *d);
void deploy_release(struct deploy *d);
/* Adds one file, copying `path` and `data`; WERR_LIMIT past `lim`.  The
 * path is checked by deploy_finish. */
int deploy_add(struct deploy *d, const char *path, const void *data,
               size_t len, const struct deploy_limits *lim,
               struct werr *err);
/* Cleans every path (see deploy_clean_path), refuses duplicates, sorts the
 * files by path and marks the top-level .dtsx files as packages. */
int deploy_finish(struct deploy *d, bool decode, struct werr *err);
/* Adds every file of a zip archive (an .ispac or a packed folder) and
 * finishes the deployment; an .ispac (it has "[Content_Types].xml") has
 * its names %-decoded. */
int deploy_read_zip(struct deploy *d, const void *zip, size_t len,
                    const struct deploy_limits *lim, struct werr *err);
/* Cleans an archive path into `out`: '\' becomes '/', "." and empty
 * segments go; absolute paths, "..", control characters and overlong
 * names are WERR_INVALID.  With `decode`, %XX escapes are decoded first
 * (an .ispac stores names as URI parts). */
int deploy_clean_path(const char *in, bool decode, char *out, size_t outlen,
                      struct werr *err);
/* Loads and validates every package; the first package with a problem
 * fails the whole deployment with a message naming it. */
int deploy_validate(const struct deploy *d, struct werr *err);

#endif
