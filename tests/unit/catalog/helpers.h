/* Shared fixtures of the catalog tests: a fresh catalog in a temporary
 * folder per test, a sample project, workers and executions. */
#ifndef WEIR_TEST_CATALOG_HELPERS_H
#define WEIR_TEST_CATALOG_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "catalog/catalog.h"

struct fixture {
    char dir[64];
    char path[128];
    struct cat *c;
};

#define W1 "11111111-1111-4111-8111-111111111111"
#define W2 "22222222-2222-4222-8222-222222222222"
#define I1 "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
#define I2 "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
#define I3 "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
#define LEASE 15000

int fx_setup(void **state);
int fx_teardown(void **state);
/* Closes and reopens the fixture's catalog. */
void fx_reopen(struct fixture *f);

/* Deploys demo/sample (Extract.dtsx, Load.dtsx, data/in.csv); returns
 * the version. */
int64_t deploy_sample(struct cat *c, const char *extra);
/* Registers a worker (enabled on first sight). */
void reg_worker(struct cat *c, const char *id, const char *inc,
                const char *const *tags, int max_tasks, int64_t now);
/* Creates and starts one execution of demo/sample/Extract.dtsx. */
int64_t new_exec(struct cat *c, int retries, int64_t now);
/* One execution with a request the caller fills in (folder etc. preset). */
int64_t new_exec_req(struct cat *c, struct cat_exec_req *req, int64_t now);
/* Claims; returns how many tasks came back, their ids in ids[]. */
size_t claim(struct cat *c, const char *w, const char *inc, int slots,
             int64_t now, int64_t *ids);
/* The execution's status. */
int exec_status(struct cat *c, int64_t id);
/* A member of the execution object as an integer (-1 if null). */
int64_t exec_int(struct cat *c, int64_t id, const char *key);
/* Runs a single-integer query against the catalog file directly. */
int64_t sql_int(struct fixture *f, const char *sql);
/* Runs SQL against the catalog file directly, through its own connection. */
void sql_exec(struct fixture *f, const char *sql);
/* Sends events [first, first+n) of a task: type 70, or 40 when post. */
int64_t send_events(struct cat *c, const char *w, const char *inc,
                    int64_t task, int64_t first, int n, int64_t now);

#endif
