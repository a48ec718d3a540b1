#!/bin/bash
# Placement: an execution limited to worker B never runs on A; an execution
# for a tag runs only on workers with it; a disabled worker gets no tasks.
. "$(dirname "$0")/test-lib.sh"

start_master
start_worker a --max-tasks 4
start_worker b --max-tasks 4 --tag special
deploy_test_project
wa=$(worker_id a)
wb=$(worker_id b)

only_b=$(submit Quick "\"count\":20,\"workers\":[\"$wb\"]")
tagged=$(submit Quick '"count":10,"tag":"special"')
wait_until 60 all_final $only_b $tagged || not_ok "executions end in time"
for id in $only_b $tagged; do
    [ "$(exec_status "$id")" = 7 ] || not_ok "execution $id succeeded"
done
ok "all limited executions succeeded"
is "$(sql "SELECT COUNT(*) FROM task_attempts WHERE worker_id = '$wa'")" 0 \
    "worker A ran none of the executions limited to B or to tag 'special'"

"$WEIR" workers disable "$wb" >/dev/null
is "$(api GET /api/v1/workers | jq -r --arg id "$wb" \
      '.workers[] | select(.id == $id) | .enabled')" false "worker B is disabled"
never=$(submit Quick "\"workers\":[\"$wb\"]")
any=$(submit Quick '"count":10')
wait_until 60 all_final $any || not_ok "unrestricted executions end"
is "$(sql "SELECT COUNT(*) FROM task_attempts t JOIN tasks k ON k.id = t.task_id
          WHERE t.worker_id = '$wb' AND k.execution_id >= $never")" 0 \
    "the disabled worker got no task"
sleep 1
is "$(exec_status "$never")" 5 "an execution only B may run stays pending"
"$WEIR" workers enable "$wb" >/dev/null
wait_until 30 all_final $never || not_ok "it runs once B is enabled"
is "$(exec_status "$never")" 7 "and succeeds on B once enabled"

api POST /api/v1/executions \
    '{"folder":"t","project":"p","package":"Quick.dtsx","workers":["not-a-uuid"]}' >/dev/null
is "$(status)" 400 "a malformed worker id is refused"

stop_daemon "$PID_a" "worker a"
stop_daemon "$PID_b" "worker b"
stop_daemon "$MASTER_PID" "master"
done_testing
