#!/bin/bash
# kill -9 of a worker with running tasks: with retries >= 1 its tasks succeed
# on the other worker; with retries 0 they end as 'ended unexpectedly' (6).
. "$(dirname "$0")/test-lib.sh"

start_master --lease 2s --heartbeat 500ms
start_worker a --max-tasks 4
deploy_test_project
wa=$(worker_id a)

# Sleep takes 0.5 s; make the tasks long enough to be caught running.
make_package "$T/proj/Slow.dtsx" Slow /bin/bash \
    "-c &quot;exec -a weir-slow-$$ sleep 3&quot;"
"$WEIR" deploy "$T/proj" --folder t --project p >/dev/null || bail "redeploy"

retry=$(submit Slow '"count":2,"retries":1')
once=$(submit Slow '"count":2,"retries":0')
running() { [ "$(sql "SELECT COUNT(*) FROM executions WHERE status = 2")" = 4 ]; }
wait_until 30 running || not_ok "all four run on worker a"
kill9 "$PID_a"
ok "worker a killed with four running tasks"
gone() { ! pgrep -f "weir-slow-$$" >/dev/null; }
wait_until 2 gone
check "the dead worker's task processes died with it" gone

start_worker b --max-tasks 4
wait_until 60 all_final $retry $once || not_ok "executions end in time"
for id in $retry; do
    is "$(exec_status "$id")" 7 "execution $id (retries 1) succeeded"
    is "$(api GET /api/v1/executions/$id | jq -r .worker_name)" b \
        "execution $id finished on worker b"
    is "$(api GET /api/v1/executions/$id | jq -r .attempts)" 2 \
        "execution $id took two attempts"
done
for id in $once; do
    is "$(exec_status "$id")" 6 "execution $id (retries 0) ended unexpectedly"
done
is "$(sql "SELECT COUNT(*) FROM task_attempts WHERE worker_id = '$wa' AND result = 'lost'")" 4 \
    "the four attempts on the dead worker are recorded as lost"

stop_daemon "$PID_b" "worker b"
stop_daemon "$MASTER_PID" "master"
done_testing
