#!/bin/bash
# weir stop of a running execution: canceled (3) within the grace period,
# its child processes gone; stop of a pending one cancels it at once; stop
# of a finished one is refused.
. "$(dirname "$0")/test-lib.sh"

start_master --heartbeat 1s
start_worker a --max-tasks 1 --grace 3s
deploy_test_project

long=$(submit Long)
running() { [ "$(exec_status "$long")" = 2 ]; }
wait_until 30 running || not_ok "the long execution starts"
procs() { pgrep -f "$LONG_MARK" >/dev/null; }
wait_until 10 procs || not_ok "its process is running"
queued=$(submit Quick)
is "$(exec_status "$queued")" 5 "a second execution waits (pending) behind it"
"$WEIR" stop "$queued" >/dev/null
is "$(exec_status "$queued")" 3 "stopping a pending execution cancels it at once"

t0=$(date +%s%N)
"$WEIR" stop "$long" >"$T/stop.out" 2>&1
is "$?" 0 "weir stop succeeds"
st=$(exec_status "$long")
check "the running execution is stopping (8) or canceled (3)" \
    [ "$st" = 8 -o "$st" = 3 ]
canceled() { [ "$(exec_status "$long")" = 3 ]; }
wait_until 10 canceled || not_ok "the stopped execution becomes canceled"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
diag "canceled after ${ms} ms"
is "$(exec_status "$long")" 3 "the stopped execution is canceled (3)"
check "within heartbeat + grace period" [ "$ms" -lt 6000 ]
gone() { ! procs; }
wait_until 5 gone
check "its child processes are gone" gone

# A package whose process ignores SIGTERM is killed after the grace period.
make_package "$T/proj/Stubborn.dtsx" Stubborn /bin/bash \
    "-c &quot;trap '' TERM; exec -a weir-stubborn-$$ sleep 60&quot;"
"$WEIR" deploy "$T/proj" --folder t --project p >/dev/null || bail "redeploy"
stubborn=$(submit Stubborn)
running2() { [ "$(exec_status "$stubborn")" = 2 ]; }
wait_until 30 running2 || not_ok "the stubborn execution starts"
sprocs() { pgrep -f "weir-stubborn-$$" >/dev/null; }
wait_until 10 sprocs || not_ok "its process is running"
t0=$(date +%s%N)
"$WEIR" stop "$stubborn" >/dev/null
canceled2() { [ "$(exec_status "$stubborn")" = 3 ]; }
wait_until 15 canceled2 || not_ok "the stubborn execution becomes canceled"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
diag "stubborn execution canceled after ${ms} ms"
is "$(exec_status "$stubborn")" 3 "an execution ignoring SIGTERM is canceled"
check "after the grace period (SIGKILL), not before" [ "$ms" -ge 2500 ]
check "and not long after it" [ "$ms" -lt 8000 ]
sgone() { ! sprocs; }
wait_until 5 sgone
check "its processes are gone" sgone

api POST "/api/v1/executions/$long/stop" >/dev/null
is "$(status)" 409 "stopping a finished execution is a conflict"
is "$(jq -r .error.code "$T/body")" conflict "with a JSON error body"

stop_daemon "$PID_a" "worker a"
stop_daemon "$MASTER_PID" "master"
done_testing
