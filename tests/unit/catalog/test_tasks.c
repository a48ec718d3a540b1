/* Unit tests for the worker protocol in the catalog: registration, claims,
 * heartbeats, events, completion, the reaper and stopping running
 * executions.  Times are driven by the test, as the scheduler drives them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/werr.h"
#include "catalog/catalog.h"
#include "helpers.h"

#define CAT_TEST_MANY 1025

static void
lifecycle_create_claim_complete(void **state)
{
    struct fixture *f = *state;
    struct cat_exec_req req = { .retries = 1, .logging_level = 1,
                                .start = true };
    struct werr err;
    json_t *tasks, *t, *e;
    int64_t id, task;
    int st;

    deploy_sample(f->c, NULL);
    req.parameters = json_pack("{s:s}", "Rows", "100");
    id = new_exec_req(f->c, &req, 100);
    json_decref(req.parameters);
    assert_int_equal(exec_status(f->c, id), CAT_PENDING);
    reg_worker(f->c, W1, I1, NULL, 2, 150);

    tasks = cat_task_claim(f->c, W1, I1, 3, 200, LEASE, &err);
    assert_non_null(tasks);
    assert_int_equal(json_array_size(tasks), 1);
    t = json_array_get(tasks, 0);
    task = json_integer_value(json_object_get(t, "task_id"));
    assert_int_equal(json_integer_value(json_object_get(t, "execution_id")),
                     id);
    assert_int_equal(json_integer_value(json_object_get(t, "attempt")), 1);
    assert_string_equal(json_string_value(json_object_get(t, "folder")),
                        "demo");
    assert_string_equal(json_string_value(json_object_get(t, "package")),
                        "Extract.dtsx");
    assert_int_equal(json_integer_value(json_object_get(t, "version")), 1);
    assert_int_equal(json_integer_value(json_object_get(t, "lease_ms")),
                     LEASE);
    assert_int_equal(json_integer_value(json_object_get(t, "logging_level")),
                     1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(
        t, "parameters"), "Rows")), "100");
    assert_int_equal(json_array_size(json_object_get(t, "files")), 3);
    json_decref(tasks);

    e = cat_exec_get(f->c, id, &err);
    assert_int_equal(json_integer_value(json_object_get(e, "status")), 2);
    assert_int_equal(json_integer_value(json_object_get(e, "started_ms")),
                     200);
    assert_string_equal(json_string_value(json_object_get(e, "worker_id")),
                        W1);
    assert_string_equal(json_string_value(json_object_get(e, "worker_name")),
                        "w");
    assert_int_equal(json_integer_value(json_object_get(e, "attempts")), 1);
    json_decref(e);
    assert_int_equal(cat_task_next_expiry(f->c), 200 + LEASE);
    assert_false(cat_task_any_pending(f->c));

    assert_int_equal(send_events(f->c, W1, I1, task, 1, 2, 250), 2);
    assert_int_equal(cat_task_complete(f->c, W1, I1, task,
                                       CAT_RESULT_SUCCEEDED, 0, 2, 300, &st,
                                       &err), 0);
    assert_int_equal(st, CAT_SUCCEEDED);
    assert_int_equal(exec_status(f->c, id), CAT_SUCCEEDED);
    assert_int_equal(exec_int(f->c, id, "ended_ms"), 300);
    assert_int_equal(cat_task_next_expiry(f->c), 0);
    assert_int_equal(sql_int(f, "SELECT claimed_ms FROM task_attempts"), 200);
    assert_int_equal(sql_int(f, "SELECT ended_ms FROM task_attempts"), 300);
    assert_int_equal(sql_int(f, "SELECT exit_code FROM task_attempts"), 0);
    /* Survives a restart of the master. */
    fx_reopen(f);
    assert_int_equal(exec_status(f->c, id), CAT_SUCCEEDED);
}

static void
results_map_to_statuses(void **state)
{
    struct fixture *f = *state;
    enum cat_result r[] = { CAT_RESULT_FAILED, CAT_RESULT_CANCELED };
    int want[] = { CAT_FAILED, CAT_CANCELED };
    struct werr err;
    int64_t id, task;
    int st;

    deploy_sample(f->c, NULL);
    reg_worker(f->c, W1, I1, NULL, 1, 1);
    for (int i = 0; i < 2; i++) {
        id = new_exec(f->c, 3, 10);
        assert_int_equal(claim(f->c, W1, I1, 1, 20, &task), 1);
        assert_int_equal(cat_task_complete(f->c, W1, I1, task, r[i], 1, 0,
                                           30, &st, &err), 0);
        assert_int_equal(st, want[i]);
        assert_int_equal(exec_status(f->c, id), want[i]);
    }
}

static void
claim_respects_max_tasks(void **state)
{
    struct fixture *f = *state;
    struct werr err;
    int64_t ids[8];
    json_t *w;
    int st;

    deploy_sample(f->c, NULL);
    for (int i = 0; i < 5; i++)
        new_exec(f->c, 0, 10 + i);
    reg_worker(f->c, W1, I1, NULL, 2, 1);
    assert_int_equal(claim(f->c, W1, I1, 8, 100, ids), 2);
    /* Oldest first. */
    assert_true(ids[0] < ids[1]);
    assert_int_equal(claim(f->c, W1, I1, 8, 101, NULL), 0);
    assert_false(cat_task_any_pending(f->c));   /* W1 is full */
    w = cat_worker_get(f->c, W1, 101, 1000, &err);
    assert_int_equal(json_integer_value(json_object_get(w, "running")), 2);
    json_decref(w);
    assert_int_equal(cat_task_complete(f->c, W1, I1, ids[0],
                                       CAT_RESULT_SUCCEEDED, 0, 0, 102, &st,
                                       &err), 0);
    assert_int_equal(claim(f->c, W1, I1, 8, 103, NULL), 1);
    assert_int_equal(claim(f->c, W1, I1, 0, 103, NULL), 0);
    /* Slots limit as well as max_tasks. */
    reg_worker(f->c, W2, I2, NULL, 10, 1);
    assert_int_equal(claim(f->c, W2, I2, 1, 104, NULL), 1);
    assert_int_equal(claim(f->c, W2, I2, 5, 104, NULL), 1);
    assert_int_equal(claim(f->c, W2, I2, 5, 104, NULL), 0);
    /* The history never shows one worker over its limit. */
    assert_int_equal(sql_int(f, "SELECT max(n) FROM (SELECT count(*) AS n "
                                "FROM task_attempts a JOIN task_attempts b "
                                "ON a.worker_id = b.worker_id "
                                "AND b.claimed_ms <= a.claimed_ms "
                                "AND (b.ended_ms IS NULL OR "
                                "b.ended_ms > a.claimed_ms) "
                                "WHERE a.worker_id = '" W1 "' "
                                "GROUP BY a.task_id, a.attempt)"), 2);
}

static void
claim_respects_workers_and_tags(void **state)
{
    struct fixture *f = *state;
    const char *only_w2[] = { W2, NULL };
    const char *linux_tags[] = { "linux", "big", NULL };
    struct cat_exec_req req = { .workers = only_w2, .start = true };
    int64_t task;
    int64_t restricted, tagged;

    deploy_sample(f->c, NULL);
    reg_worker(f->c, W1, I1, NULL, 4, 1);
    reg_worker(f->c, W2, I2, linux_tags, 4, 1);
    restricted = new_exec_req(f->c, &req, 10);
    assert_int_equal(claim(f->c, W1, I1, 4, 20, NULL), 0);
    assert_true(cat_task_any_pending(f->c));
    assert_int_equal(claim(f->c, W2, I2, 4, 21, &task), 1);
    assert_int_equal(exec_status(f->c, restricted), CAT_RUNNING);

    struct cat_exec_req treq = { .tag = "linux", .start = true };
    tagged = new_exec_req(f->c, &treq, 30);
    assert_int_equal(claim(f->c, W1, I1, 4, 40, NULL), 0);
    assert_int_equal(claim(f->c, W2, I2, 4, 41, NULL), 1);
    assert_int_equal(exec_status(f->c, tagged), CAT_RUNNING);
    /* Untagged executions go to anyone, tagged workers included. */
    new_exec(f->c, 0, 50);
    assert_int_equal(claim(f->c, W2, I2, 4, 60, NULL), 1);
}

static void
disabled_workers_get_nothing(void **state)
{
    struct fixture *f = *state;
    struct cat_worker_reg reg = {
        .id = W1, .incarnation = I1, .name = "w1", .machine = "m1",
        .max_tasks = 2, .auto_enable = false,
    };
    struct werr err;
    bool enabled = true;
    int requeued = -1;
    json_t *hb, *list, *w;
    int64_t task;

    deploy_sample(f->c, NULL);
    assert_int_equal(cat_worker_register(f->c, &reg, 5, &enabled, &requeued,
                                         &err), 0);
    assert_false(enabled);
    assert_int_equal(requeued, 0);
    new_exec(f->c, 0, 10);
    assert_int_equal(claim(f->c, W1, I1, 2, 20, NULL), 0);
    assert_int_equal(cat_worker_set_enabled(f->c, W1, true, &err), 0);
    assert_int_equal(claim(f->c, W1, I1, 2, 21, &task), 1);
    /* Disabled, it keeps its running task but gets no new one. */
    assert_int_equal(cat_worker_set_enabled(f->c, W1, false, &err), 0);
    new_exec(f->c, 0, 22);
    assert_int_equal(claim(f->c, W1, I1, 2, 23, NULL), 0);
    assert_false(cat_task_any_pending(f->c));
    hb = cat_task_heartbeat(f->c, W1, I1, &task, 1, 24, LEASE, &err);
    assert_non_null(hb);
    assert_false(json_is_true(json_object_get(hb, "enabled")));
    assert_int_equal(json_array_size(json_object_get(hb, "lost")), 0);
    json_decref(hb);
    /* Registering again keeps the flag a person set. */
    reg.auto_enable = true;
    assert_int_equal(cat_worker_register(f->c, &reg, 25, &enabled, &requeued,
                                         &err), 0);
    assert_false(enabled);

    list = cat_worker_list(f->c, 30, 1000, &err);
    w = json_array_get(json_object_get(list, "workers"), 0);
    assert_string_equal(json_string_value(json_object_get(w, "id")), W1);
    assert_string_equal(json_string_value(json_object_get(w, "name")), "w1");
    assert_string_equal(json_string_value(json_object_get(w, "machine")),
                        "m1");
    assert_int_equal(json_integer_value(json_object_get(w, "max_tasks")), 2);
    assert_int_equal(json_integer_value(json_object_get(w, "running")), 1);
    assert_int_equal(json_integer_value(json_object_get(w,
                     "last_heartbeat_ms")), 25);
    assert_true(json_is_true(json_object_get(w, "online")));
    assert_true(json_is_array(json_object_get(w, "tags")));
    json_decref(list);
    w = cat_worker_get(f->c, W1, 5000, 1000, &err);
    assert_false(json_is_true(json_object_get(w, "online")));
    json_decref(w);
}

static void
unknown_workers_must_register(void **state)
{
    struct fixture *f = *state;
    struct werr err;
    int64_t task = 1;

    assert_null(cat_task_claim(f->c, W1, I1, 1, 1, LEASE, &err));
    assert_int_equal(err.code, WERR_CONFLICT);
    reg_worker(f->c, W1, I1, NULL, 1, 1);
    assert_null(cat_task_claim(f->c, W1, I2, 1, 1, LEASE, &err));
    assert_int_equal(err.code, WERR_CONFLICT);
    assert_null(cat_task_heartbeat(f->c, W1, I2, &task, 1, 1, LEASE, &err));
    assert_int_equal(err.code, WERR_CONFLICT);
    assert_null(cat_task_claim(f->c, "not-a-uuid", I1, 1, 1, LEASE, &err));
    assert_int_equal(err.code, WERR_INVALID);
    assert_null(cat_task_claim(f->c, W1, I1, -1, 1, LEASE, &err));
    assert_int_equal(err.code, WERR_INVALID);
    struct cat_worker_reg reg = { .id = W2, .incarnation = I2,
                                  .max_tasks = 0 };
    assert_int_equal(cat_worker_register(f->c, &reg, 1, NULL, NULL, &err),
                     -1);
    assert_int_equal(err.code, WERR_INVALID);
}

static void
heartbeat_renews_cancels_and_loses(void **state)
{
    struct fixture *f = *state;
    struct werr err;
    int64_t ids[2], list[4];
    json_t *hb;
    int64_t e1;
    int st, rq, en;

    deploy_sample(f->c, NULL);
    reg_worker(f->c, W1, I1, NULL, 4, 1);
    e1 = new_exec(f->c, 0, 10);
    new_exec(f->c, 0, 11);
    assert_int_equal(claim(f->c, W1, I1, 4, 100, ids), 2);
    assert_int_equal(cat_task_next_expiry(f->c), 100 + LEASE);

    assert_int_equal(cat_exec_stop(f->c, e1, 200, &st, &err), 0);
    assert_int_equal(st, CAT_STOPPING);
    list[0] = ids[0];
    list[1] = ids[1];
    list[2] = 999;
    list[3] = -5;
    hb = cat_task_heartbeat(f->c, W1, I1, list, 4, 5000, LEASE, &err);
    assert_non_null(hb);
    assert_int_equal(json_array_size(json_object_get(hb, "cancel")), 1);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(
        hb, "cancel"), 0)), ids[0]);
    assert_int_equal(json_array_size(json_object_get(hb, "lost")), 2);
    assert_true(json_is_true(json_object_get(hb, "enabled")));
    json_decref(hb);
    assert_int_equal(cat_task_next_expiry(f->c), 5000 + LEASE);
    /* Renewed: nothing expires at the old deadline. */
    assert_int_equal(cat_task_reap(f->c, 100 + LEASE + 1, &rq, &en, &err), 0);
    assert_int_equal(rq + en, 0);
    /* A task only renewed by the heartbeat that lists it. */
    hb = cat_task_heartbeat(f->c, W1, I1, &ids[1], 1, 9000, LEASE, &err);
    json_decref(hb);
    assert_int_equal(cat_task_reap(f->c, 5000 + LEASE + 1, &rq, &en, &err),
                     0);
    assert_int_equal(en, 1);        /* the stopping one: canceled */
    assert_int_equal(exec_status(f->c, e1), CAT_CANCELED);
    hb = cat_task_heartbeat(f->c, W1, I1, ids, 2, 9100, LEASE, &err);
    assert_int_equal(json_array_size(json_object_get(hb, "lost")), 1);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(
        hb, "lost"), 0)), ids[0]);
    json_decref(hb);
    /* An empty heartbeat still counts as a sign of life. */
    hb = cat_task_heartbeat(f->c, W1, I1, NULL, 0, 9200, LEASE, &err);
    assert_non_null(hb);
    json_decref(hb);
    hb = cat_worker_get(f->c, W1, 9200, 1000, &err);
    assert_int_equal(json_integer_value(json_object_get(hb,
                     "last_heartbeat_ms")), 9200);
    json_decref(hb);
}

static json_t *
post_execute(int64_t start, int64_t end, int result)
{
    return json_pack("{s:I,s:i,s:s,s:s,s:s,s:s,s:i,s:I}",
                     "time_ms", (json_int_t)end, "type", 40,
                     "event", "OnPostExecute", "source", "Sort",
                     "path", "\\Package\\Sort", "message", "",
                     "result", result, "start_ms", (json_int_t)start);
}

static void
events_are_stored_once(void **state)
{
    struct fixture *f = *state;
    struct werr err;
    json_t *evs, *m, *arr, *stats;
    int64_t id, task, acked;

    deploy_sample(f->c, NULL);
    reg_worker(f->c, W1, I1, NULL, 1, 1);
    id = new_exec(f->c, 0, 10);
    assert_int_equal(claim(f->c, W1, I1, 1, 20, &task), 1);

    evs = json_pack("[{s:I,s:i,s:s,s:s,s:s,s:s},o]",
                    "time_ms", (json_int_t)30, "type", 30,
                    "event", "OnPreExecute", "source", "Sort",
                    "path", "\\Package\\Sort", "message", "",
                    post_execute(30, 45, 0));
    json_array_append_new(evs, json_pack("{s:i,s:s,s:s,s:i}", "type", 120,
                                         "event", "OnError", "message",
                                         "boom", "code", -1071607767));
    assert_int_equal(cat_task_events(f->c, W1, I1, task, 1, evs, 50, &acked,
                                     &err), 0);
    assert_int_equal(acked, 3);
    /* The same batch again, after a lost reply: stored once. */
    assert_int_equal(cat_task_events(f->c, W1, I1, task, 1, evs, 51, &acked,
                                     &err), 0);
    assert_int_equal(acked, 3);
    json_decref(evs);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), 3);
    stats = cat_exec_statistics(f->c, id, &err);
    arr = json_object_get(stats, "statistics");
    assert_int_equal(json_array_size(arr), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(
        arr, 0), "path")), "\\Package\\Sort");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(
        arr, 0), "start_ms")), 30);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(
        arr, 0), "end_ms")), 45);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(
        arr, 0), "attempt")), 1);
    json_decref(stats);

    /* A batch ahead of a gap is kept, but acknowledged only once the gap
     * is filled. */
    assert_int_equal(send_events(f->c, W1, I1, task, 5, 2, 60), 3);
    assert_int_equal(send_events(f->c, W1, I1, task, 4, 1, 61), 6);
    assert_int_equal(send_events(f->c, W1, I1, task, 2, 4, 62), 6);

    m = cat_exec_messages(f->c, id, 0, 0, &err);
    assert_non_null(m);
    assert_int_equal(json_integer_value(json_object_get(m, "status")), 2);
    arr = json_object_get(m, "messages");
    assert_int_equal(json_array_size(arr), 6);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(
        arr, 0), "seq")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(
        arr, 0), "event")), "OnPreExecute");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(
        arr, 2), "code")), -1071607767);
    /* Missing time_ms takes the time it arrived. */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(
        arr, 2), "time_ms")), 50);
    assert_null(json_object_get(json_array_get(arr, 1), "code"));
    json_decref(m);
    m = cat_exec_messages(f->c, id, 4, 1, &err);
    arr = json_object_get(m, "messages");
    assert_int_equal(json_array_size(arr), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(
        arr, 0), "seq")), 5);
    json_decref(m);
}

static void
malformed_events_are_refused(void **state)
{
    struct fixture *f = *state;
    struct werr err;
    json_t *evs;
    int64_t task, acked;

    deploy_sample(f->c, NULL);
    reg_worker(f->c, W1, I1, NULL, 1, 1);
    new_exec(f->c, 0, 10);
    assert_int_equal(claim(f->c, W1, I1, 1, 20, &task), 1);
    evs = json_pack("[{s:i,s:s},{s:s,s:s}]", "type", 70, "event", "OnInfo",
                    "type", "x", "event", "OnInfo");
    assert_int_equal(cat_task_events(f->c, W1, I1, task, 7, evs, 50, &acked,
                                     &err), -1);
    assert_int_equal(err.code, WERR_INVALID);
    assert_string_equal(err.msg, "event 8: member 'type' must be an "
                        "integer");
    json_decref(evs);
    evs = json_pack("[i]", 3);
    assert_int_equal(cat_task_events(f->c, W1, I1, task, 1, evs, 50, &acked,
                                     &err), -1);
    assert_int_equal(err.code, WERR_INVALID);
    assert_int_equal(cat_task_events(f->c, W1, I1, task, 0, evs, 50, &acked,
                                     &err), -1);
    json_decref(evs);
    evs = json_object();
    assert_int_equal(cat_task_events(f->c, W1, I1, task, 1, evs, 50, &acked,
                                     &err), -1);
    json_decref(evs);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), 0);
    /* Events for a task this worker does not hold. */
    evs = json_array();
    assert_int_equal(cat_task_events(f->c, W1, I1, 99, 1, evs, 50, &acked,
                                     &err), -1);
    assert_int_equal(err.code, WERR_NOTFOUND);
    assert_string_equal(err.msg, "no task 99");
    reg_worker(f->c, W2, I2, NULL, 1, 1);
    assert_int_equal(cat_task_events(f->c, W2, I2, task, 1, evs, 50, &acked,
                                     &err), -1);
    assert_int_equal(err.code, WERR_CONFLICT);
    json_decref(evs);
}

static void
complete_twice_is_a_conflict(void **state)
{
    struct fixture *f = *state;
    struct werr err;
    int64_t id, task;
    int st = 0;

    deploy_sample(f->c, NULL);
    reg_worker(f->c, W1, I1, NULL, 1, 1);
    id = new_exec(f->c, 0, 10);
    assert_int_equal(claim(f->c, W1, I1, 1, 20, &task), 1);
    assert_int_equal(cat_task_complete(f->c, W1, I1, task, CAT_RESULT_FAILED,
                                       1, 0, 30, &st, &err), 0);
    assert_int_equal(st, CAT_FAILED);
    st = 0;
    assert_int_equal(cat_task_complete(f->c, W1, I1, task,
                                       CAT_RESULT_SUCCEEDED, 0, 0, 40, &st,
                                       &err), -1);
    assert_int_equal(err.code, WERR_CONFLICT);
    assert_int_equal(st, 0);
    assert_int_equal(exec_status(f->c, id), CAT_FAILED);
    assert_int_equal(exec_int(f->c, id, "ended_ms"), 30);
    assert_int_equal(sql_int(f, "SELECT ended_ms FROM task_attempts"), 30);
    assert_int_equal(cat_task_complete(f->c, W1, I1, 77, CAT_RESULT_FAILED,
                                       1, 0, 30, &st, &err), -1);
    assert_int_equal(err.code, WERR_NOTFOUND);
    assert_string_equal(err.msg, "no task 77");
}

static void
complete_waits_for_events(void **state)
{
    struct fixture *f = *state;
    struct werr err;
    int64_t id, task;
    int st;

    deploy_sample(f->c, NULL);
    reg_worker(f->c, W1, I1, NULL, 1, 1);
    id = new_exec(f->c, 0, 10);
    assert_int_equal(claim(f->c, W1, I1, 1, 20, &task), 1);
    assert_int_equal(send_events(f->c, W1, I1, task, 1, 3, 25), 3);
    assert_int_equal(cat_task_complete(f->c, W1, I1, task,
                                       CAT_RESULT_SUCCEEDED, 0, 5, 30, &st,
                                       &err), -1);
    assert_int_equal(err.code, WERR_CONFLICT);
    assert_string_equal(err.msg, "task 1: 3 of its 5 events are stored; "
                        "send the rest first");
    assert_int_equal(exec_status(f->c, id), CAT_RUNNING);
    assert_int_equal(send_events(f->c, W1, I1, task, 4, 2, 31), 5);
    assert_int_equal(cat_task_complete(f->c, W1, I1, task,
                                       CAT_RESULT_SUCCEEDED, 0, 5, 32, &st,
                                       &err), 0);
    assert_int_equal(st, CAT_SUCCEEDED);
}

static void
reap_retries_then_ends_unexpectedly(void **state)
{
    struct fixture *f = *state;
    struct werr err;
    json_t *tasks;
    int64_t id, task, task2;
    int st, rq = -1, en = -1;

    deploy_sample(f->c, NULL);
    reg_worker(f->c, W1, I1, NULL, 1, 1);
    reg_worker(f->c, W2, I2, NULL, 1, 1);
    id = new_exec(f->c, 1, 10);
    assert_int_equal(claim(f->c, W1, I1, 1, 100, &task), 1);
    assert_int_equal(cat_task_reap(f->c, 100 + LEASE, &rq, &en, &err), 0);
    assert_int_equal(rq + en, 0);   /* not expired yet: "before now" */
    assert_int_equal(cat_task_reap(f->c, 101 + LEASE, &rq, &en, &err), 0);
    assert_int_equal(rq, 1);
    assert_int_equal(en, 0);
    assert_int_equal(exec_status(f->c, id), CAT_PENDING);
    assert_int_equal(exec_int(f->c, id, "worker_id"), -1);
    assert_int_equal(cat_task_next_expiry(f->c), 0);
    assert_true(cat_task_any_pending(f->c));

    tasks = cat_task_claim(f->c, W2, I2, 1, 20000, LEASE, &err);
    assert_int_equal(json_array_size(tasks), 1);
    task2 = json_integer_value(json_object_get(json_array_get(tasks, 0),
                                               "task_id"));
    assert_int_equal(task2, task);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(
        tasks, 0), "attempt")), 2);
    json_decref(tasks);
    assert_int_equal(exec_int(f->c, id, "started_ms"), 100);
    assert_int_equal(exec_int(f->c, id, "attempts"), 2);
    /* The first worker comes back too late: its completion is refused. */
    assert_int_equal(cat_task_complete(f->c, W1, I1, task,
                                       CAT_RESULT_SUCCEEDED, 0, 0, 20001,
                                       &st, &err), -1);
    assert_int_equal(err.code, WERR_CONFLICT);

    assert_int_equal(cat_task_reap(f->c, 20001 + LEASE, &rq, &en, &err), 0);
    assert_int_equal(rq, 0);
    assert_int_equal(en, 1);
    assert_int_equal(exec_status(f->c, id), CAT_ENDED_UNEXPECTEDLY);
    assert_int_equal(exec_int(f->c, id, "ended_ms"), 20001 + LEASE);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM task_attempts "
                                "WHERE result = 'lost'"), 2);
    assert_int_equal(sql_int(f, "SELECT ended_ms FROM task_attempts "
                                "WHERE attempt = 1"), 101 + LEASE);
    assert_false(cat_task_any_pending(f->c));
}

static void
new_incarnation_requeues(void **state)
{
    struct fixture *f = *state;
    struct cat_worker_reg reg = {
        .id = W1, .incarnation = I1, .name = "w1", .machine = "m",
        .max_tasks = 2, .auto_enable = true,
    };
    struct werr err;
    bool enabled;
    int requeued = -1, st;
    int64_t retry, last, ids[2];

    deploy_sample(f->c, NULL);
    assert_int_equal(cat_worker_register(f->c, &reg, 1, &enabled, &requeued,
                                         &err), 0);
    retry = new_exec(f->c, 1, 10);
    last = new_exec(f->c, 0, 11);
    assert_int_equal(claim(f->c, W1, I1, 2, 20, ids), 2);
    /* The same incarnation registering again (e.g. after a master
     * restart) keeps its tasks. */
    assert_int_equal(cat_worker_register(f->c, &reg, 30, &enabled, &requeued,
                                         &err), 0);
    assert_int_equal(requeued, 0);
    assert_int_equal(exec_status(f->c, retry), CAT_RUNNING);
    /* A new incarnation: the old process died. */
    reg.incarnation = I3;
    assert_int_equal(cat_worker_register(f->c, &reg, 40, &enabled, &requeued,
                                         &err), 0);
    assert_int_equal(requeued, 1);
    assert_int_equal(exec_status(f->c, retry), CAT_PENDING);
    assert_int_equal(exec_status(f->c, last), CAT_ENDED_UNEXPECTEDLY);
    assert_int_equal(exec_int(f->c, last, "ended_ms"), 40);
    /* The old incarnation can no longer act. */
    assert_int_equal(cat_task_complete(f->c, W1, I1, ids[0],
                                       CAT_RESULT_SUCCEEDED, 0, 0, 41, &st,
                                       &err), -1);
    assert_int_equal(err.code, WERR_CONFLICT);
    assert_null(cat_task_claim(f->c, W1, I1, 1, 42, LEASE, &err));
    assert_int_equal(err.code, WERR_CONFLICT);
    assert_int_equal(claim(f->c, W1, I3, 2, 43, NULL), 1);
    assert_int_equal(exec_status(f->c, retry), CAT_RUNNING);
}

static void
stop_running_ends_canceled(void **state)
{
    struct fixture *f = *state;
    struct werr err;
    int64_t a, b, tasks[2];
    json_t *hb;
    int st;

    deploy_sample(f->c, NULL);
    reg_worker(f->c, W1, I1, NULL, 2, 1);
    a = new_exec(f->c, 0, 10);
    b = new_exec(f->c, 0, 11);
    assert_int_equal(claim(f->c, W1, I1, 2, 20, tasks), 2);
    assert_int_equal(cat_exec_stop(f->c, a, 30, &st, &err), 0);
    assert_int_equal(st, CAT_STOPPING);
    assert_int_equal(cat_exec_stop(f->c, a, 31, &st, &err), 0);
    assert_int_equal(st, CAT_STOPPING);
    assert_int_equal(exec_int(f->c, a, "ended_ms"), -1);
    hb = cat_task_heartbeat(f->c, W1, I1, tasks, 2, 40, LEASE, &err);
    assert_int_equal(json_array_size(json_object_get(hb, "cancel")), 1);
    json_decref(hb);
    /* Killed by the worker, the package reports a failure: still canceled,
     * since a person asked for it. */
    assert_int_equal(cat_task_complete(f->c, W1, I1, tasks[0],
                                       CAT_RESULT_FAILED, 137, 0, 50, &st,
                                       &err), 0);
    assert_int_equal(st, CAT_CANCELED);
    assert_int_equal(exec_status(f->c, a), CAT_CANCELED);
    assert_int_equal(exec_int(f->c, a, "ended_ms"), 50);
    assert_int_equal(cat_exec_stop(f->c, a, 60, &st, &err), -1);
    assert_int_equal(err.code, WERR_CONFLICT);
    assert_int_equal(exec_status(f->c, b), CAT_RUNNING);
}

static void
extend_leases_after_restart(void **state)
{
    struct fixture *f = *state;
    struct werr err;
    int64_t ids[2];
    int rq, en;

    deploy_sample(f->c, NULL);
    reg_worker(f->c, W1, I1, NULL, 2, 1);
    new_exec(f->c, 0, 10);
    new_exec(f->c, 0, 11);
    assert_int_equal(claim(f->c, W1, I1, 1, 100, ids), 1);
    assert_int_equal(claim(f->c, W1, I1, 1, 90000, ids + 1), 1);
    fx_reopen(f);
    assert_int_equal(cat_task_extend_leases(f->c, 50000, LEASE, &err), 0);
    /* Only pushed forward, never back. */
    assert_int_equal(cat_task_next_expiry(f->c), 50000 + LEASE);
    assert_int_equal(sql_int(f, "SELECT max(lease_expiry_ms) FROM tasks"),
                     90000 + LEASE);
    assert_int_equal(cat_task_reap(f->c, 50000, &rq, &en, &err), 0);
    assert_int_equal(rq + en, 0);
    assert_int_equal(cat_task_extend_leases(f->c, 1, 0, &err), -1);
    assert_int_equal(err.code, WERR_INVALID);
}

/* A call that fails half-way leaves nothing behind, alone or in a batch:
 * a trigger makes the claim fail after the task row was already updated. */
static void
failed_call_changes_nothing(void **state)
{
    struct fixture *f = *state;
    struct werr err;
    int64_t a, b;

    deploy_sample(f->c, NULL);
    reg_worker(f->c, W1, I1, NULL, 4, 1);
    reg_worker(f->c, W2, I2, NULL, 4, 1);
    a = new_exec(f->c, 0, 10);
    sql_exec(f, "CREATE TRIGGER no_w2 BEFORE INSERT ON task_attempts "
                "WHEN NEW.worker_id = '" W2 "' "
                "BEGIN SELECT RAISE(ABORT, 'w2 refused'); END");
    assert_null(cat_task_claim(f->c, W2, I2, 1, 20, LEASE, &err));
    assert_int_equal(err.code, WERR_DB);
    assert_non_null(strstr(err.msg, "w2 refused"));
    assert_int_equal(exec_status(f->c, a), CAT_PENDING);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM tasks "
                                "WHERE state = 'pending'"), 1);

    assert_int_equal(cat_batch_begin(f->c, &err), 0);
    b = new_exec(f->c, 0, 30);
    assert_null(cat_task_claim(f->c, W2, I2, 1, 31, LEASE, &err));
    assert_int_equal(claim(f->c, W1, I1, 1, 32, NULL), 1);
    assert_int_equal(cat_batch_commit(f->c, &err), 0);
    assert_int_equal(exec_status(f->c, a), CAT_RUNNING);
    assert_int_equal(exec_status(f->c, b), CAT_PENDING);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM task_attempts"), 1);
}

static void
batches_commit_together(void **state)
{
    struct fixture *f = *state;
    struct werr err;
    int64_t a, b, task;
    int st;

    deploy_sample(f->c, NULL);
    reg_worker(f->c, W1, I1, NULL, 4, 1);
    assert_int_equal(cat_batch_commit(f->c, &err), -1);
    assert_int_equal(err.code, WERR_INTERNAL);
    assert_int_equal(cat_batch_begin(f->c, &err), 0);
    assert_int_equal(cat_batch_begin(f->c, &err), -1);
    assert_int_equal(err.code, WERR_INTERNAL);
    a = new_exec(f->c, 0, 10);
    assert_int_equal(claim(f->c, W1, I1, 1, 11, &task), 1);
    /* A failed call inside the batch does not end it. */
    assert_int_equal(cat_exec_stop(f->c, 99, 12, &st, &err), -1);
    assert_int_equal(err.code, WERR_NOTFOUND);
    /* Other connections see nothing until the batch commits. */
    assert_int_equal(sql_int(f, "SELECT count(*) FROM executions"), 0);
    assert_int_equal(cat_batch_commit(f->c, &err), 0);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM executions"), 1);
    assert_int_equal(exec_status(f->c, a), CAT_RUNNING);

    assert_int_equal(cat_batch_begin(f->c, &err), 0);
    b = new_exec(f->c, 0, 20);
    assert_int_equal(cat_task_complete(f->c, W1, I1, task,
                                       CAT_RESULT_SUCCEEDED, 0, 0, 21, &st,
                                       &err), 0);
    cat_batch_rollback(f->c);
    cat_batch_rollback(f->c);
    assert_null(cat_exec_get(f->c, b, &err));
    assert_int_equal(exec_status(f->c, a), CAT_RUNNING);
    /* An open batch is undone when the catalog is closed. */
    assert_int_equal(cat_batch_begin(f->c, &err), 0);
    new_exec(f->c, 0, 30);
    fx_reopen(f);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM executions"), 1);
}

static void
registration_updates_the_worker(void **state)
{
    struct fixture *f = *state;
    const char *gpu[] = { "gpu", NULL };
    struct cat_exec_req req = { .tag = "gpu", .start = true };
    struct werr err;
    int64_t many[CAT_TEST_MANY];
    json_t *w;

    deploy_sample(f->c, NULL);
    reg_worker(f->c, W1, I1, NULL, 1, 1);
    new_exec_req(f->c, &req, 10);
    assert_int_equal(claim(f->c, W1, I1, 1, 20, NULL), 0);
    reg_worker(f->c, W1, I1, gpu, 3, 30);
    w = cat_worker_get(f->c, W1, 30, 1000, &err);
    assert_string_equal(json_string_value(json_array_get(json_object_get(
        w, "tags"), 0)), "gpu");
    assert_int_equal(json_integer_value(json_object_get(w, "max_tasks")), 3);
    assert_int_equal(json_integer_value(json_object_get(w,
                     "registered_ms")), 30);
    json_decref(w);
    assert_int_equal(claim(f->c, W1, I1, 1, 40, NULL), 1);
    /* A heartbeat listing more tasks than any worker may run. */
    memset(many, 0, sizeof(many));
    assert_null(cat_task_heartbeat(f->c, W1, I1, many, CAT_TEST_MANY, 50,
                                   LEASE, &err));
    assert_int_equal(err.code, WERR_LIMIT);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(lifecycle_create_claim_complete),
        T(results_map_to_statuses),
        T(claim_respects_max_tasks),
        T(claim_respects_workers_and_tags),
        T(disabled_workers_get_nothing),
        T(unknown_workers_must_register),
        T(heartbeat_renews_cancels_and_loses),
        T(events_are_stored_once),
        T(malformed_events_are_refused),
        T(complete_twice_is_a_conflict),
        T(complete_waits_for_events),
        T(reap_retries_then_ends_unexpectedly),
        T(new_incarnation_requeues),
        T(stop_running_ends_canceled),
        T(extend_leases_after_restart),
        T(failed_call_changes_nothing),
        T(batches_commit_together),
        T(registration_updates_the_worker),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
