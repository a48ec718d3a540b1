#!/bin/bash
# kill -9 of the master mid-run, restarted on the same catalog: every
# execution finishes; none is lost, none completes twice, no event line is
# lost or stored twice (workers spool them while the master is down).
. "$(dirname "$0")/test-lib.sh"

start_master --lease 4s
start_worker a --max-tasks 4
start_worker b --max-tasks 4
deploy_test_project

ids=$(submit Sleep '"count":40,"retries":2')
some_done() {
    [ "$(sql "SELECT COUNT(*) FROM executions WHERE status = 7")" -ge 5 ]
}
wait_until 60 some_done || not_ok "some executions finish before the kill"
kill9 "$MASTER_PID"
ok "master killed mid-run"
sleep 2
start_master --lease 4s
ok "master restarted on the same catalog"

wait_until 180 all_final $ids || not_ok "all executions end in time"
is "$(sql "SELECT COUNT(*) FROM executions WHERE status = 7")" 40 \
    "all 40 executions succeeded"
is "$(sql "SELECT COUNT(*) FROM task_attempts WHERE result = 'succeeded'")" 40 \
    "exactly one successful attempt per execution: none completed twice"
is "$(sql "SELECT COUNT(*) FROM (SELECT execution_id, attempt, seq, COUNT(*) c
          FROM messages GROUP BY execution_id, attempt, seq HAVING c > 1)")" 0 \
    "no event stored twice"
# Every execution's successful attempt has its package's OnPostExecute: the
# last line of each run reached the catalog.
is "$(sql "SELECT COUNT(DISTINCT execution_id) FROM messages
          WHERE event = 'OnPostExecute' AND path = '\\Package'")" 40 \
    "every execution's final event reached the catalog"
gaps=$(sql "SELECT COUNT(*) FROM (SELECT execution_id, attempt,
           MAX(seq) m, COUNT(*) c FROM messages GROUP BY execution_id, attempt
           HAVING m != c)")
is "$gaps" 0 "no gap in any attempt's event sequence"

stop_daemon "$PID_a" "worker a"
stop_daemon "$PID_b" "worker b"
stop_daemon "$MASTER_PID" "master"
done_testing
