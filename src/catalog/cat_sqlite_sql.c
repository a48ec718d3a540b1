/*
 * Every SQL statement of the SQLite backend, in one place, indexed by
 * enum sq_id.  Each is prepared once per connection on first use and then
 * reset and re-bound per call (cat_sqlite.c sq_stmt), because the master
 * runs them on its hot path.  The schema itself is in schema/sqlite/.
 */
#include "catalog/cat_sqlite_int.h"

/* The columns cat_sqlite_exec.c exec_json reads, in this order. */
#define EXEC_COLS \
    "e.id, e.folder, e.project, e.version, e.package, e.status, " \
    "e.created_ms, e.started_ms, e.ended_ms, e.worker_id, w.name, " \
    "(SELECT count(*) FROM task_attempts a JOIN tasks t " \
    "  ON a.task_id = t.id WHERE t.execution_id = e.id), " \
    "e.max_attempts, e.retries, e.logging_level, " \
    "(SELECT json_group_array(x.worker_id) FROM execution_workers x " \
    "  WHERE x.execution_id = e.id), " \
    "e.tag, e.parameters " \
    "FROM executions e LEFT JOIN workers w ON w.id = e.worker_id "

/* The columns cat_sqlite_tasks.c worker_json reads, in this order. */
#define WORKER_COLS \
    "w.id, w.name, w.machine, w.tags, w.enabled, w.max_tasks, " \
    "(SELECT count(*) FROM tasks t WHERE t.state = 'running' " \
    "  AND t.worker_id = w.id), " \
    "w.last_heartbeat_ms, w.registered_ms FROM workers w "

/* A task with what deciding its fate needs (cat_sqlite_tasks.c). */
#define TASK_COLS \
    "t.state, t.worker_id, t.incarnation, t.attempt, t.max_attempts, " \
    "t.execution_id, t.cancel_requested, e.status " \
    "FROM tasks t JOIN executions e ON e.id = t.execution_id "

const char *const cat_sqlite_sql[SQ__COUNT] = {
    [SQ_BEGIN] = "BEGIN IMMEDIATE",
    [SQ_BEGIN_READ] = "BEGIN DEFERRED",
    [SQ_COMMIT] = "COMMIT",
    [SQ_ROLLBACK] = "ROLLBACK",
    [SQ_SAVEPOINT] = "SAVEPOINT cat_call",
    [SQ_RELEASE] = "RELEASE cat_call",
    [SQ_ROLLBACK_TO] = "ROLLBACK TO cat_call",

    /* projects */
    [SQ_FOLDER_ID] = "SELECT id FROM folders WHERE name = ?1",
    [SQ_FOLDER_ADD] =
        "INSERT INTO folders (name, created_ms) VALUES (?1, ?2)",
    [SQ_PROJECT_ID] = "SELECT id FROM projects WHERE folder_id = ?1 "
                      "AND name = ?2",
    [SQ_PROJECT_ADD] = "INSERT INTO projects (folder_id, name, created_ms) "
                       "VALUES (?1, ?2, ?3)",
    [SQ_VERSION_NEXT] = "SELECT coalesce(max(version), 0) + 1 "
                        "FROM project_versions WHERE project_id = ?1",
    [SQ_VERSION_ADD] = "INSERT INTO project_versions "
                       "(project_id, version, deployed_ms) "
                       "VALUES (?1, ?2, ?3)",
    [SQ_BLOB_HAS] = "SELECT 1 FROM blobs WHERE sha256 = ?1",
    [SQ_BLOB_ADD] = "INSERT INTO blobs (sha256, size, content) "
                    "VALUES (?1, ?2, ?3)",
    [SQ_FILE_ADD] = "INSERT INTO version_files "
                    "(version_id, path, sha256, is_package) "
                    "VALUES (?1, ?2, ?3, ?4)",
    [SQ_FOLDER_LIST] = "SELECT name, created_ms FROM folders ORDER BY name",
    [SQ_PROJECT_LIST] =
        "SELECT f.name, p.name, v.version, v.deployed_ms "
        "FROM projects p JOIN folders f ON f.id = p.folder_id "
        "JOIN project_versions v ON v.project_id = p.id "
        "AND v.version = (SELECT max(version) FROM project_versions "
        "  WHERE project_id = p.id) "
        "ORDER BY f.name, p.name",
    [SQ_VERSION_CURRENT] =
        "SELECT v.id, v.version, v.deployed_ms "
        "FROM project_versions v JOIN projects p ON p.id = v.project_id "
        "JOIN folders f ON f.id = p.folder_id "
        "WHERE f.name = ?1 AND p.name = ?2 "
        "ORDER BY v.version DESC LIMIT 1",
    [SQ_VERSION_FILES] =
        "SELECT vf.path, vf.sha256, b.size, vf.is_package "
        "FROM version_files vf JOIN blobs b ON b.sha256 = vf.sha256 "
        "WHERE vf.version_id = ?1 ORDER BY vf.path",
    [SQ_BLOB_GET] = "SELECT content FROM blobs WHERE sha256 = ?1",
    [SQ_PACKAGE_HAS] = "SELECT 1 FROM packages WHERE version_id = ?1 "
                       "AND name = ?2",

    /* executions */
    [SQ_EXEC_ADD] =
        "INSERT INTO executions (folder, project, version_id, version, "
        "package, status, created_ms, retries, max_attempts, "
        "logging_level, tag, parameters, any_worker) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    [SQ_EXEC_WORKER_ADD] = "INSERT OR IGNORE INTO execution_workers "
                           "(execution_id, worker_id) VALUES (?1, ?2)",
    [SQ_WORKER_HAS] = "SELECT 1 FROM workers WHERE id = ?1",
    [SQ_TASK_ADD] = "INSERT INTO tasks (execution_id, state, attempt, "
                    "max_attempts, created_ms) "
                    "VALUES (?1, 'pending', 1, ?2, ?3)",
    [SQ_EXEC_STATUS] = "SELECT status, max_attempts FROM executions "
                       "WHERE id = ?1",
    [SQ_EXEC_SET_STATUS] = "UPDATE executions SET status = ?2 WHERE id = ?1",
    [SQ_EXEC_END] = "UPDATE executions SET status = ?2, ended_ms = ?3 "
                    "WHERE id = ?1",
    [SQ_EXEC_TASK] = "SELECT id, state FROM tasks WHERE execution_id = ?1",
    [SQ_EXEC_GET] = "SELECT " EXEC_COLS "WHERE e.id = ?1",
    [SQ_EXEC_NEWEST] = "SELECT " EXEC_COLS
                       "WHERE ?1 = 0 OR e.status = ?1 "
                       "ORDER BY e.id DESC LIMIT ?2",
    [SQ_EXEC_AFTER] = "SELECT " EXEC_COLS
                      "WHERE (?1 = 0 OR e.status = ?1) AND e.id > ?2 "
                      "ORDER BY e.id LIMIT ?3",
    [SQ_MESSAGES] =
        "SELECT exec_seq, time_ms, type, event, source, path, message, "
        "attempt, code FROM messages "
        "WHERE execution_id = ?1 AND exec_seq > ?2 "
        "ORDER BY exec_seq LIMIT ?3",
    [SQ_STATISTICS] =
        "SELECT path, start_ms, end_ms, result, attempt "
        "FROM executable_statistics WHERE execution_id = ?1 ORDER BY id",

    /* workers */
    [SQ_WORKER_REG] = "SELECT enabled FROM workers "
                      "WHERE id = ?1",
    [SQ_WORKER_ADD] =
        "INSERT INTO workers (id, incarnation, name, machine, tags, "
        "enabled, max_tasks, last_heartbeat_ms, registered_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
    [SQ_WORKER_UPDATE] =
        "UPDATE workers SET incarnation = ?2, name = ?3, machine = ?4, "
        "tags = ?5, max_tasks = ?6, last_heartbeat_ms = ?7, "
        "registered_ms = ?7 WHERE id = ?1",
    [SQ_WORKER_OLD_TASKS] =
        "SELECT id FROM tasks WHERE state = 'running' AND worker_id = ?1 "
        "AND incarnation IS NOT ?2 ORDER BY id",
    [SQ_WORKER_LIST] = "SELECT " WORKER_COLS "ORDER BY w.name, w.id",
    [SQ_WORKER_GET] = "SELECT " WORKER_COLS "WHERE w.id = ?1",
    [SQ_WORKER_ENABLE] = "UPDATE workers SET enabled = ?2 WHERE id = ?1",

    /* tasks */
    [SQ_CLAIM_WORKER] =
        "SELECT incarnation, enabled, max_tasks, tags, "
        "(SELECT count(*) FROM tasks WHERE state = 'running' "
        "  AND worker_id = ?1) FROM workers WHERE id = ?1",
    [SQ_CLAIM_CANDIDATES] =
        "SELECT t.id, t.execution_id, t.attempt FROM tasks t "
        "JOIN executions e ON e.id = t.execution_id "
        "WHERE t.state = 'pending' "
        "AND (e.tag IS NULL OR e.tag IN (SELECT value FROM json_each(?2))) "
        "AND (e.any_worker OR EXISTS (SELECT 1 FROM execution_workers x "
        "  WHERE x.execution_id = e.id AND x.worker_id = ?1)) "
        "ORDER BY t.created_ms, t.id LIMIT ?3",
    [SQ_TASK_CLAIM] =
        "UPDATE tasks SET state = 'running', worker_id = ?2, "
        "incarnation = ?3, lease_expiry_ms = ?4, cancel_requested = 0 "
        "WHERE id = ?1 AND state = 'pending'",
    [SQ_EXEC_CLAIMED] =
        "UPDATE executions SET status = 2, "
        "started_ms = coalesce(started_ms, ?2), worker_id = ?3 "
        "WHERE id = ?1",
    [SQ_ATTEMPT_ADD] =
        "INSERT INTO task_attempts (task_id, attempt, worker_id, "
        "incarnation, claimed_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    [SQ_CLAIM_INFO] =
        "SELECT folder, project, version, package, logging_level, "
        "parameters, version_id FROM executions WHERE id = ?1",
    [SQ_TASK_GET] = "SELECT " TASK_COLS "WHERE t.id = ?1",
    [SQ_TASK_RENEW] = "UPDATE tasks SET lease_expiry_ms = ?2 WHERE id = ?1",
    [SQ_TASK_CANCEL] = "UPDATE tasks SET cancel_requested = 1 WHERE id = ?1",
    [SQ_TASK_DONE] = "UPDATE tasks SET state = 'done', "
                     "lease_expiry_ms = NULL WHERE id = ?1",
    [SQ_TASK_REQUEUE] =
        "UPDATE tasks SET state = 'pending', attempt = attempt + 1, "
        "worker_id = NULL, incarnation = NULL, lease_expiry_ms = NULL, "
        "cancel_requested = 0 WHERE id = ?1",
    [SQ_EXEC_REQUEUED] = "UPDATE executions SET status = 5, "
                         "worker_id = NULL WHERE id = ?1",
    [SQ_WORKER_BEAT] = "UPDATE workers SET last_heartbeat_ms = ?2 "
                       "WHERE id = ?1",
    [SQ_ATTEMPT_ACKED] = "SELECT events_acked FROM task_attempts "
                         "WHERE task_id = ?1 AND attempt = ?2",
    [SQ_ATTEMPT_SET_ACKED] = "UPDATE task_attempts SET events_acked = ?3 "
                             "WHERE task_id = ?1 AND attempt = ?2",
    [SQ_ATTEMPT_END] =
        "UPDATE task_attempts SET ended_ms = ?3, result = ?4, "
        "exit_code = ?5 WHERE task_id = ?1 AND attempt = ?2",
    [SQ_MSG_LAST] = "SELECT coalesce(max(exec_seq), 0) FROM messages "
                    "WHERE execution_id = ?1",
    [SQ_MSG_ADD] =
        "INSERT OR IGNORE INTO messages (execution_id, attempt, seq, "
        "exec_seq, time_ms, type, event, source, path, message, code) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [SQ_MSG_HAS] = "SELECT 1 FROM messages WHERE execution_id = ?1 "
                   "AND attempt = ?2 AND seq = ?3",
    [SQ_STAT_ADD] =
        "INSERT INTO executable_statistics (execution_id, attempt, path, "
        "start_ms, end_ms, result) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [SQ_REAP_EXPIRED] = "SELECT id FROM tasks WHERE state = 'running' "
                        "AND lease_expiry_ms < ?1 ORDER BY lease_expiry_ms",
    [SQ_NEXT_EXPIRY] = "SELECT min(lease_expiry_ms) FROM tasks "
                       "WHERE state = 'running'",
    [SQ_EXTEND_LEASES] =
        "UPDATE tasks SET lease_expiry_ms = max(lease_expiry_ms, ?1) "
        "WHERE state = 'running'",
    /* CROSS JOIN keeps SQLite scanning pending tasks first, through their
     * partial index, instead of building an index on every call. */
    [SQ_ANY_PENDING] =
        "SELECT EXISTS (SELECT 1 FROM tasks t "
        "CROSS JOIN executions e ON e.id = t.execution_id "
        "CROSS JOIN workers w ON w.enabled AND w.incarnation IS NOT NULL "
        "WHERE t.state = 'pending' "
        "AND (e.tag IS NULL "
        "  OR e.tag IN (SELECT value FROM json_each(w.tags))) "
        "AND (e.any_worker OR EXISTS (SELECT 1 FROM execution_workers x "
        "  WHERE x.execution_id = e.id AND x.worker_id = w.id)) "
        "AND (SELECT count(*) FROM tasks r WHERE r.state = 'running' "
        "  AND r.worker_id = w.id) < w.max_tasks)",
};
