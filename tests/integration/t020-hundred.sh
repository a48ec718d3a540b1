#!/bin/bash
# 100 executions across 2 workers with --max-tasks 4 each: all succeed, and
# the catalog's task history shows no worker ever ran more than 4 at once.
. "$(dirname "$0")/test-lib.sh"

start_master
start_worker a --max-tasks 4
start_worker b --max-tasks 4
deploy_test_project

ids=$(submit Sleep '"count":100')
is "$(echo "$ids" | wc -l)" 100 "100 executions created"
wait_until 240 all_final $ids || not_ok "all executions end in time"
is "$(sql "SELECT COUNT(*) FROM executions WHERE status = 7")" 100 \
    "all 100 succeeded"
is "$(sql "SELECT COUNT(*) FROM task_attempts")" 100 \
    "one attempt each: nothing was retried"

# For each attempt, how many attempts of the same worker were running at
# the moment it was claimed (itself included).
overlap="SELECT a.worker_id, (SELECT COUNT(*) FROM task_attempts b
          WHERE b.worker_id = a.worker_id AND b.claimed_ms <= a.claimed_ms
            AND (b.ended_ms IS NULL OR b.ended_ms > a.claimed_ms)) AS n
         FROM task_attempts a"
max=$(sql "SELECT MAX(n) FROM ($overlap)")
diag "most tasks one worker ran at once: $max"
check "no worker ever ran more than 4 at once" [ "$max" -le 4 ]
check "workers did run tasks in parallel" [ "$max" -ge 2 ]
is "$(sql "SELECT COUNT(DISTINCT worker_id) FROM task_attempts")" 2 \
    "both workers took tasks"
is "$(sql "SELECT COUNT(*) FROM task_attempts WHERE ended_ms IS NULL")" 0 \
    "every attempt has ended"

stop_daemon "$PID_a" "worker a"
stop_daemon "$PID_b" "worker b"
stop_daemon "$MASTER_PID" "master"
done_testing
