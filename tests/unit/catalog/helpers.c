/* Shared fixtures of the catalog tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/werr.h"
#include "base/wfile.h"
#include "base/xalloc.h"
#include "helpers.h"

int
fx_setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    struct werr err;

    snprintf(f->dir, sizeof(f->dir), "/tmp/weir-cat-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/catalog.db", f->dir);
    f->c = cat_open(f->path, &err);
    if (!f->c) {
        fprintf(stderr, "cat_open: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

int
fx_teardown(void **state)
{
    struct fixture *f = *state;
    struct werr err;

    cat_close(f->c);
    wfile_rmtree(f->dir, &err);
    free(f);
    return 0;
}

void
fx_reopen(struct fixture *f)
{
    struct werr err;

    cat_close(f->c);
    f->c = cat_open(f->path, &err);
    if (!f->c)
        fail_msg("reopen: %s", err.msg);
}

int64_t
deploy_sample(struct cat *c, const char *extra)
{
    const char *csv = extra ? extra : "a,b\n1,2\n";
    struct cat_file files[] = {
        { "Extract.dtsx", "<DTS:Executable/>", 17, true },
        { "Load.dtsx", "<DTS:Executable id='load'/>", 27, true },
        { "data/in.csv", csv, strlen(csv), false },
    };
    struct werr err;
    int64_t v = 0;

    if (cat_project_deploy(c, "demo", "sample", files, 3, 1000, &v, &err))
        fail_msg("deploy: %s", err.msg);
    return v;
}

void
reg_worker(struct cat *c, const char *id, const char *inc,
           const char *const *tags, int max_tasks, int64_t now)
{
    struct cat_worker_reg reg = {
        .id = id, .incarnation = inc, .name = "w", .machine = "host",
        .tags = tags, .max_tasks = max_tasks, .auto_enable = true,
    };
    struct werr err;
    bool enabled;
    int requeued;

    if (cat_worker_register(c, &reg, now, &enabled, &requeued, &err))
        fail_msg("register: %s", err.msg);
}

int64_t
new_exec_req(struct cat *c, struct cat_exec_req *req, int64_t now)
{
    struct werr err;
    int64_t id = 0;

    req->folder = "demo";
    req->project = "sample";
    if (!req->package)
        req->package = "Extract.dtsx";
    if (!req->count)
        req->count = 1;
    if (cat_exec_create(c, req, now, &id, &err))
        fail_msg("exec_create: %s", err.msg);
    return id;
}

int64_t
new_exec(struct cat *c, int retries, int64_t now)
{
    struct cat_exec_req req = { .retries = retries, .logging_level = 1,
                                .start = true };

    return new_exec_req(c, &req, now);
}

size_t
claim(struct cat *c, const char *w, const char *inc, int slots, int64_t now,
      int64_t *ids)
{
    struct werr err;
    json_t *tasks = cat_task_claim(c, w, inc, slots, now, LEASE, &err);
    size_t n;

    if (!tasks)
        fail_msg("claim: %s", err.msg);
    n = json_array_size(tasks);
    for (size_t i = 0; ids && i < n; i++)
        ids[i] = json_integer_value(
            json_object_get(json_array_get(tasks, i), "task_id"));
    json_decref(tasks);
    return n;
}

int64_t
exec_int(struct cat *c, int64_t id, const char *key)
{
    struct werr err;
    json_t *e = cat_exec_get(c, id, &err), *v;
    int64_t r;

    if (!e)
        fail_msg("exec_get: %s", err.msg);
    v = json_object_get(e, key);
    r = json_is_integer(v) ? json_integer_value(v) : -1;
    json_decref(e);
    return r;
}

int
exec_status(struct cat *c, int64_t id)
{
    return (int)exec_int(c, id, "status");
}

int64_t
sql_int(struct fixture *f, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t v = -1;

    if (sqlite3_open(f->path, &db) != SQLITE_OK)
        fail_msg("open %s", f->path);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

void
sql_exec(struct fixture *f, const char *sql)
{
    sqlite3 *db;
    char *msg = NULL;

    if (sqlite3_open(f->path, &db) != SQLITE_OK)
        fail_msg("open %s", f->path);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

int64_t
send_events(struct cat *c, const char *w, const char *inc, int64_t task,
            int64_t first, int n, int64_t now)
{
    json_t *evs = json_array();
    struct werr err;
    int64_t acked = -1;

    for (int i = 0; i < n; i++)
        json_array_append_new(evs, json_pack(
            "{s:I,s:i,s:s,s:s,s:s,s:s}", "time_ms", (json_int_t)(now + i),
            "type", 70, "event", "OnInformation", "source", "Extract",
            "path", "\\Package", "message", "hello"));
    if (cat_task_events(c, w, inc, task, first, evs, now, &acked, &err))
        fail_msg("events: %s", err.msg);
    json_decref(evs);
    return acked;
}
