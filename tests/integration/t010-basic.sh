#!/bin/bash
# The basic lifecycle: deploy, run, succeed and fail, read the log and the
# statistics, list executions and workers, through the CLI and the API.
. "$(dirname "$0")/test-lib.sh"

start_master --lease 5s
start_worker w1 --max-tasks 2
deploy_test_project
ok "a folder of packages deploys"

ids=$(submit Quick '"count":3')
is "$(echo "$ids" | wc -l)" 3 "count 3 creates three executions"
fail=$(submit Fail)
wait_until 30 all_final $ids $fail || not_ok "executions end in time"
for id in $ids; do
    is "$(exec_status "$id")" 7 "execution $id succeeded"
done
is "$(exec_status "$fail")" 4 "a failing package ends failed (4)"

first=$(echo "$ids" | head -1)
msgs=$(api GET "/api/v1/executions/$first/messages")
has_pre_post() {
    echo "$msgs" | jq -e '[.messages[].event] |
        (index("OnPreExecute") != null) and (index("OnPostExecute") != null)' \
        >/dev/null
}
check "messages include the package's pre and post execute" has_pre_post
is "$(echo "$msgs" | jq '[.messages[].seq] | . == (sort | unique)')" true \
    "message sequence numbers are unique and ordered"
is "$(api GET "/api/v1/executions/$first/statistics" |
      jq '[.statistics[] | select(.path == "\\Package")] | length')" 1 \
    "one executable statistic for the package"
log_has_error() { "$WEIR" log "$fail" | grep -q OnError; }
check "the failed execution's log has an error" log_has_error

"$WEIR" executions --json >"$T/list.json"
is "$(jq '.executions | length' "$T/list.json")" 4 "weir executions lists all four"
"$WEIR" executions >"$T/list.txt"
check "weir executions prints a table with statuses" \
    grep -q succeeded "$T/list.txt"
is "$(api GET /api/v1/executions/$first | jq -r .worker_name)" w1 \
    "the execution records its worker"

"$WEIR" run t/p/Quick.dtsx --count 2 --wait >"$T/run.out" 2>&1
is "$?" 0 "weir run --wait exits 0 when all succeed"
"$WEIR" run t/p/Fail.dtsx --wait >"$T/run2.out" 2>&1
check "weir run --wait exits non-zero when one fails" [ $? -ne 0 ]

lists_w1() { "$WEIR" workers | grep -q w1; }
check "weir workers lists w1" lists_w1

stop_daemon "$WORKER_PID" "worker"
stop_daemon "$MASTER_PID" "master"
done_testing
