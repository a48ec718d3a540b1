/* Unit tests for the catalog: opening and migrations, projects, executions
 * and their validation.  The worker protocol is in test_tasks.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/wbuf.h"
#include "base/werr.h"
#include "base/wfile.h"
#include "catalog/catalog.h"
#include "catalog/cat_sqlite_int.h"
#include "catalog/catalog_int.h"
#include "helpers.h"

static void
migrations_apply_once(void **state)
{
    struct fixture *f = *state;
    struct stat sb;

    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(cat_schema_version(f->c), 1);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM schema_version"), 1);
    fx_reopen(f);
    fx_reopen(f);
    assert_int_equal(cat_schema_version(f->c), 1);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM schema_version"), 1);
    assert_int_equal(sql_int(f, "SELECT journal_mode = 'wal' FROM "
                                "pragma_journal_mode"), 1);
    /* Migrations are numbered in ascending order. */
    for (size_t i = 1; i < cat_sqlite_migrations_count; i++)
        assert_true(cat_sqlite_migrations[i - 1].version <
                    cat_sqlite_migrations[i].version);
}

static void
newer_schema_is_refused(void **state)
{
    struct fixture *f = *state;
    struct werr err;
    sqlite3 *db;

    cat_close(f->c);
    f->c = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "INSERT INTO schema_version VALUES "
                                  "(999, '999_future', 0)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_null(cat_open(f->path, &err));
    assert_int_equal(err.code, WERR_DB);
    assert_non_null(strstr(err.msg, "newer"));
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_exec(db, "DELETE FROM schema_version WHERE version = 999", NULL,
                 NULL, NULL);
    sqlite3_close(db);
    fx_reopen(f);
}

static void
open_errors_are_clear(void **state)
{
    struct fixture *f = *state;
    struct werr err;
    char path[192];

    assert_null(cat_open("", &err));
    assert_int_equal(err.code, WERR_INVALID);
    assert_null(cat_open("postgres://db/weir", &err));
    assert_non_null(strstr(err.msg, "PostgreSQL"));
    assert_null(cat_open("redis://x", &err));
    assert_int_equal(err.code, WERR_INVALID);
    assert_null(cat_open("sqlite:", &err));
    assert_int_equal(err.code, WERR_INVALID);
    snprintf(path, sizeof(path), "%s/no/such/dir/c.db", f->dir);
    assert_null(cat_open(path, &err));
    assert_int_equal(err.code, WERR_DB);
    assert_non_null(strstr(err.msg, path));
    snprintf(path, sizeof(path), "%s/junk", f->dir);
    assert_int_equal(wfile_write(path, "not a database at all, no no no no "
                                 "no no no no no no no no no no no no no no "
                                 "no no no no no no no no no no no", 100,
                                 0644, 0, &err), 0);
    assert_null(cat_open(path, &err));
    assert_int_equal(err.code, WERR_DB);
    /* The sqlite: prefix works as well as a plain path. */
    snprintf(path, sizeof(path), "sqlite:%s/other.db", f->dir);
    struct cat *c = cat_open(path, &err);
    assert_non_null(c);
    cat_close(c);
    cat_close(NULL);
}

static void
deploy_stores_content_once(void **state)
{
    struct fixture *f = *state;
    struct werr err;
    struct wbuf b;
    json_t *p, *files;
    const char *hash;

    assert_int_equal(deploy_sample(f->c, NULL), 1);
    assert_int_equal(deploy_sample(f->c, NULL), 2);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM blobs"), 3);
    assert_int_equal(deploy_sample(f->c, "x,y\n"), 3);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM blobs"), 4);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM version_files"), 9);

    p = cat_project_get(f->c, "demo", "sample", &err);
    assert_non_null(p);
    assert_int_equal(json_integer_value(json_object_get(p, "version")), 3);
    assert_int_equal(json_array_size(json_object_get(p, "packages")), 2);
    files = json_object_get(p, "files");
    assert_int_equal(json_array_size(files), 3);
    /* Sorted by path: Extract.dtsx, Load.dtsx, data/in.csv. */
    assert_string_equal(json_string_value(json_object_get(
        json_array_get(files, 2), "path")), "data/in.csv");
    assert_int_equal(json_integer_value(json_object_get(
        json_array_get(files, 2), "size")), 4);
    hash = json_string_value(json_object_get(json_array_get(files, 2),
                                             "hash"));
    wbuf_init(&b, WBUF_NOLIMIT);
    assert_int_equal(cat_blob_get(f->c, hash, &b, &err), 0);
    assert_string_equal(b.buf, "x,y\n");
    wbuf_release(&b);
    json_decref(p);

    wbuf_init(&b, 2);
    assert_int_equal(cat_blob_get(f->c, "0000000000000000000000000000000000"
                                  "000000000000000000000000000000", &b,
                                  &err), -1);
    assert_int_equal(err.code, WERR_NOTFOUND);
    assert_int_equal(cat_blob_get(f->c, "../etc/passwd", &b, &err), -1);
    assert_int_equal(err.code, WERR_INVALID);
    wbuf_release(&b);

    assert_null(cat_project_get(f->c, "demo", "nope", &err));
    assert_int_equal(err.code, WERR_NOTFOUND);
    assert_string_equal(err.msg, "no project 'demo/nope'");
}

static void
lists_show_folders_and_projects(void **state)
{
    struct fixture *f = *state;
    struct cat_file file = { "P.dtsx", "<x/>", 4, true };
    struct werr err;
    json_t *l;

    deploy_sample(f->c, NULL);
    assert_int_equal(cat_project_deploy(f->c, "alpha", "one", &file, 1, 5,
                                        NULL, &err), 0);
    l = cat_folder_list(f->c, &err);
    assert_int_equal(json_array_size(json_object_get(l, "folders")), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(
        json_object_get(l, "folders"), 0), "name")), "alpha");
    json_decref(l);
    l = cat_project_list(f->c, &err);
    assert_int_equal(json_array_size(json_object_get(l, "projects")), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(
        json_object_get(l, "projects"), 1), "folder")), "demo");
    json_decref(l);
}

static void
deploy_rejects_bad_input(void **state)
{
    struct fixture *f = *state;
    struct cat_file ok = { "P.dtsx", "<x/>", 4, true };
    struct cat_file bad[][2] = {
        { { "../x", "a", 1, false }, ok },
        { { "/abs", "a", 1, false }, ok },
        { { "a//b", "a", 1, false }, ok },
        { { "a/", "a", 1, false }, ok },
        { { "a/./b", "a", 1, false }, ok },
        { { "a\nb", "a", 1, false }, ok },
        { { "sub/P.dtsx", "a", 1, true }, ok },
        { { "P.txt", "a", 1, true }, ok },
        { { "P.dtsx", "a", 1, true }, ok },
        { { "", "a", 1, false }, ok },
        { { "x", NULL, 3, false }, ok },
    };
    struct werr err;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cat_project_deploy(f->c, "demo", "p", bad[i], 2, 1,
                                            NULL, &err), -1);
        assert_int_equal(err.code, WERR_INVALID);
        assert_true(strlen(err.msg) > 0);
    }
    assert_int_equal(cat_project_deploy(f->c, "demo", "p", &ok, 0, 1, NULL,
                                        &err), -1);
    assert_int_equal(cat_project_deploy(f->c, "de/mo", "p", &ok, 1, 1, NULL,
                                        &err), -1);
    assert_string_equal(err.msg, "invalid folder name 'de/mo'");
    assert_int_equal(cat_project_deploy(f->c, "demo", "..", &ok, 1, 1, NULL,
                                        &err), -1);
    assert_int_equal(cat_project_deploy(f->c, "demo", NULL, &ok, 1, 1, NULL,
                                        &err), -1);
    assert_string_equal(err.msg, "missing project name");
    /* Nothing of the rejected deployments was stored. */
    assert_int_equal(sql_int(f, "SELECT count(*) FROM projects"), 0);
    /* Names are UTF-8 (they end up in JSON). */
    assert_int_equal(cat_project_deploy(f->c, "d\xff", "p", &ok, 1, 1, NULL,
                                        &err), -1);
    assert_string_equal(err.msg, "folder name is not valid UTF-8");
    assert_int_equal(cat_project_deploy(f->c, "d\xed\xa0\x80", "p", &ok, 1,
                                        1, NULL, &err), -1);
    char long_name[200];
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    assert_int_equal(cat_project_deploy(f->c, "demo", long_name, &ok, 1, 1,
                                        NULL, &err), -1);
    assert_string_equal(err.msg, "project name is longer than 128 bytes");
    assert_int_equal(cat_project_deploy(f->c, "d\xc3\xa9mo", "p", &ok, 1, 1,
                                        NULL, &err), 0);
    json_t *l = cat_folder_list(f->c, &err);
    assert_string_equal(json_string_value(json_object_get(json_array_get(
        json_object_get(l, "folders"), 0), "name")), "d\xc3\xa9mo");
    json_decref(l);
    /* An empty file is fine. */
    struct cat_file empty[] = { ok, { "empty.txt", NULL, 0, false } };
    assert_int_equal(cat_project_deploy(f->c, "demo", "p", empty, 2, 1, NULL,
                                        &err), 0);
}

static void
exec_create_validates(void **state)
{
    struct fixture *f = *state;
    const char *unknown[] = { W2, NULL }, *bad_id[] = { "w1", NULL };
    struct {
        struct cat_exec_req req;
        enum werr_code code;
        const char *msg;
    } cases[] = {
        { { .retries = 101 }, WERR_INVALID, "retries must be from 0 to 100, "
          "not 101" },
        { { .retries = -1 }, WERR_INVALID, NULL },
        { { .logging_level = 5 }, WERR_INVALID, NULL },
        { { .count = 10001 }, WERR_INVALID, NULL },
        { { .count = -1 }, WERR_INVALID, NULL },
        { { .package = "X.dtsx" }, WERR_NOTFOUND,
          "no package 'X.dtsx' in project 'demo/sample'" },
        { { .package = "data" }, WERR_NOTFOUND, NULL },
        { { .workers = unknown }, WERR_NOTFOUND,
          "no worker '" W2 "'" },
        { { .workers = bad_id }, WERR_INVALID, NULL },
        { { .tag = "a/b" }, WERR_INVALID, NULL },
    };
    struct werr err;
    int64_t id;

    deploy_sample(f->c, NULL);
    reg_worker(f->c, W1, I1, NULL, 1, 1);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cat_exec_req *r = &cases[i].req;

        r->folder = "demo";
        r->project = "sample";
        if (!r->package)
            r->package = "Extract.dtsx";
        if (!r->count)
            r->count = 1;
        assert_int_equal(cat_exec_create(f->c, r, 1, &id, &err), -1);
        assert_int_equal(err.code, cases[i].code);
        if (cases[i].msg)
            assert_string_equal(err.msg, cases[i].msg);
    }
    struct cat_exec_req r = { .folder = "demo", .project = "nope",
                              .package = "Extract.dtsx", .count = 1 };
    assert_int_equal(cat_exec_create(f->c, &r, 1, &id, &err), -1);
    assert_string_equal(err.msg, "no project 'demo/nope'");
    r.project = "sample";
    r.parameters = json_pack("{s:i}", "Rows", 100);
    assert_int_equal(cat_exec_create(f->c, &r, 1, &id, &err), -1);
    assert_string_equal(err.msg, "parameter 'Rows' must be a string");
    json_decref(r.parameters);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM executions"), 0);
}

static void
exec_create_stores_request(void **state)
{
    struct fixture *f = *state;
    const char *workers[] = { W1, NULL };
    const char *linux_tag[] = { "linux", NULL };
    struct cat_exec_req req = {
        .folder = "demo", .project = "sample", .package = "Load.dtsx",
        .workers = workers, .tag = "linux", .retries = 2,
        .logging_level = 3, .count = 3, .start = false,
    };
    struct werr err;
    int64_t ids[3];
    json_t *e;

    deploy_sample(f->c, NULL);
    reg_worker(f->c, W1, I1, NULL, 1, 1);
    req.parameters = json_pack("{s:s,s:s}", "Rows", "100",
                               "$Project::Target", "x");
    assert_int_equal(cat_exec_create(f->c, &req, 777, ids, &err), 0);
    json_decref(req.parameters);
    assert_true(ids[0] < ids[1] && ids[1] < ids[2]);
    e = cat_exec_get(f->c, ids[1], &err);
    assert_non_null(e);
    assert_int_equal(json_integer_value(json_object_get(e, "status")), 1);
    assert_string_equal(json_string_value(json_object_get(e, "status_name")),
                        "created");
    assert_string_equal(json_string_value(json_object_get(e, "package")),
                        "Load.dtsx");
    assert_int_equal(json_integer_value(json_object_get(e, "version")), 1);
    assert_int_equal(json_integer_value(json_object_get(e, "created_ms")),
                     777);
    assert_true(json_is_null(json_object_get(e, "started_ms")));
    assert_true(json_is_null(json_object_get(e, "worker_id")));
    assert_int_equal(json_integer_value(json_object_get(e, "max_attempts")),
                     3);
    assert_int_equal(json_integer_value(json_object_get(e, "retries")), 2);
    assert_int_equal(json_integer_value(json_object_get(e, "attempts")), 0);
    assert_int_equal(json_integer_value(json_object_get(e, "logging_level")),
                     3);
    assert_string_equal(json_string_value(json_array_get(json_object_get(
        e, "workers"), 0)), W1);
    assert_string_equal(json_string_value(json_object_get(e, "tag")),
                        "linux");
    assert_string_equal(json_string_value(json_object_get(json_object_get(
        e, "parameters"), "$Project::Target")), "x");
    json_decref(e);
    /* Created executions have no task until started. */
    assert_false(cat_task_any_pending(f->c));
    assert_int_equal(cat_exec_start(f->c, ids[0], 800, &err), 0);
    /* Pending, but only for W1 with tag linux, which it lacks. */
    assert_false(cat_task_any_pending(f->c));
    reg_worker(f->c, W1, I1, linux_tag, 1, 801);
    assert_true(cat_task_any_pending(f->c));
    assert_int_equal(exec_status(f->c, ids[0]), CAT_PENDING);
    assert_int_equal(cat_exec_start(f->c, ids[0], 800, &err), -1);
    assert_int_equal(err.code, WERR_CONFLICT);
    assert_string_equal(err.msg, "execution 1 is pending, not created");
    e = cat_exec_get(f->c, ids[2], &err);
    assert_true(json_is_array(json_object_get(e, "workers")));
    json_decref(e);
}

static void
exec_list_orders_and_filters(void **state)
{
    struct fixture *f = *state;
    struct werr err;
    json_t *l, *arr;
    int64_t ids[5];
    int st;

    deploy_sample(f->c, NULL);
    for (int i = 0; i < 5; i++)
        ids[i] = new_exec(f->c, 0, 10 + i);
    assert_int_equal(cat_exec_stop(f->c, ids[1], 20, &st, &err), 0);
    l = cat_exec_list(f->c, 0, 0, 0, &err);
    arr = json_object_get(l, "executions");
    assert_int_equal(json_array_size(arr), 5);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0),
                                                        "id")), ids[4]);
    json_decref(l);
    l = cat_exec_list(f->c, 0, ids[1], 2, &err);
    arr = json_object_get(l, "executions");
    assert_int_equal(json_array_size(arr), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0),
                                                        "id")), ids[2]);
    json_decref(l);
    l = cat_exec_list(f->c, CAT_CANCELED, 0, 0, &err);
    arr = json_object_get(l, "executions");
    assert_int_equal(json_array_size(arr), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0),
                                                        "id")), ids[1]);
    json_decref(l);
    assert_null(cat_exec_list(f->c, 42, 0, 0, &err));
    assert_int_equal(err.code, WERR_INVALID);
}

static void
stop_before_running(void **state)
{
    struct fixture *f = *state;
    struct cat_exec_req req = { .count = 1 };
    struct werr err;
    int64_t created, pending;
    int st;

    deploy_sample(f->c, NULL);
    created = new_exec_req(f->c, &req, 5);
    pending = new_exec(f->c, 0, 6);
    assert_int_equal(cat_exec_stop(f->c, created, 10, &st, &err), 0);
    assert_int_equal(st, CAT_CANCELED);
    assert_int_equal(exec_int(f->c, created, "ended_ms"), 10);
    assert_int_equal(cat_exec_stop(f->c, pending, 11, &st, &err), 0);
    assert_int_equal(st, CAT_CANCELED);
    assert_int_equal(exec_status(f->c, pending), CAT_CANCELED);
    assert_false(cat_task_any_pending(f->c));
    assert_int_equal(cat_exec_stop(f->c, pending, 12, &st, &err), -1);
    assert_int_equal(err.code, WERR_CONFLICT);
    assert_string_equal(err.msg, "execution 2 already ended (canceled)");
    assert_int_equal(cat_exec_start(f->c, created, 13, &err), -1);
    assert_int_equal(err.code, WERR_CONFLICT);
    /* A worker finds nothing to claim. */
    reg_worker(f->c, W1, I1, NULL, 4, 1);
    assert_int_equal(claim(f->c, W1, I1, 4, 20, NULL), 0);
}

static void
not_found_errors_name_the_id(void **state)
{
    struct fixture *f = *state;
    struct werr err;
    int st;

    assert_null(cat_exec_get(f->c, 42, &err));
    assert_int_equal(err.code, WERR_NOTFOUND);
    assert_string_equal(err.msg, "no execution 42");
    assert_int_equal(cat_exec_stop(f->c, 42, 1, &st, &err), -1);
    assert_string_equal(err.msg, "no execution 42");
    assert_int_equal(cat_exec_start(f->c, 42, 1, &err), -1);
    assert_string_equal(err.msg, "no execution 42");
    assert_null(cat_exec_messages(f->c, 42, 0, 0, &err));
    assert_string_equal(err.msg, "no execution 42");
    assert_null(cat_exec_statistics(f->c, 42, &err));
    assert_string_equal(err.msg, "no execution 42");
    assert_null(cat_exec_get(f->c, -3, &err));
    assert_int_equal(err.code, WERR_NOTFOUND);
    assert_null(cat_worker_get(f->c, W1, 0, 1000, &err));
    assert_string_equal(err.msg, "no worker '" W1 "'");
    assert_int_equal(cat_worker_set_enabled(f->c, W1, false, &err), -1);
    assert_int_equal(err.code, WERR_NOTFOUND);
    assert_null(cat_worker_get(f->c, "nope", 0, 1000, &err));
    assert_int_equal(err.code, WERR_INVALID);
}

static void
status_names(void **state)
{
    assert_string_equal(cat_status_name(6), "ended unexpectedly");
    assert_string_equal(cat_status_name(7), "succeeded");
    assert_string_equal(cat_status_name(0), "unknown");
    assert_string_equal(cat_status_name(10), "unknown");
    assert_true(cat_status_is_final(CAT_CANCELED));
    assert_true(cat_status_is_final(CAT_COMPLETED));
    assert_false(cat_status_is_final(CAT_STOPPING));
    assert_false(cat_status_is_final(CAT_PENDING));
}

/* No statement makes SQLite build a temporary index per call: each finds
 * the index it needs in the schema. */
static void
statements_use_schema_indexes(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db;

    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    for (int i = 0; i < SQ__COUNT; i++) {
        char sql[4096];
        sqlite3_stmt *st;

        snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", cat_sqlite_sql[i]);
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
                         SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *d = (const char *)sqlite3_column_text(st, 3);

            if (getenv("WEIR_SHOW_PLANS"))
                printf("%d: %s\n", i, d);
            if (d && strstr(d, "AUTOMATIC"))
                fail_msg("statement %d: %s", i, d);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(migrations_apply_once),
        T(newer_schema_is_refused),
        T(open_errors_are_clear),
        T(deploy_stores_content_once),
        T(lists_show_folders_and_projects),
        T(deploy_rejects_bad_input),
        T(exec_create_validates),
        T(exec_create_stores_request),
        T(exec_list_orders_and_filters),
        T(stop_before_running),
        T(not_found_errors_name_the_id),
        T(statements_use_schema_indexes),
        cmocka_unit_test(status_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
