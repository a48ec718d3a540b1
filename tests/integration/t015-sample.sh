#!/bin/bash
# The sample project (examples/sample, what the README's demo runs) through
# a master and two workers: every package succeeds, several at once, and
# each one's log shows the result it computes.
. "$(dirname "$0")/test-lib.sh"

start_master --lease 10s
start_worker w1 --max-tasks 3
start_worker w2 --max-tasks 3
"$WEIR" deploy "$WEIR_SOURCE_ROOT/examples/sample" --folder demo \
    --project sample >"$T/deploy.out" 2>&1
is "$?" 0 "the sample project deploys"

pkgs=$(cd "$WEIR_SOURCE_ROOT/examples/sample" && ls *.dtsx | sed 's/\.dtsx$//')
ids=""
for p in $pkgs; do
    for id in $("$WEIR" run "demo/sample/$p.dtsx" --count 2); do
        ids="$ids $id"
        echo "$id $p" >>"$T/ids"
    done
done
is "$(echo $ids | wc -w)" $((2 * $(echo $pkgs | wc -w))) \
    "two executions of each package were submitted"
wait_until 120 all_final $ids || not_ok "the executions end in time"
for id in $ids; do
    is "$(exec_status "$id")" 7 "execution $id ($(grep "^$id " "$T/ids" | cut -d' ' -f2)) succeeded"
done

# log_of PACKAGE: the log of its first execution.
log_of() { "$WEIR" log "$(grep " $1\$" "$T/ids" | head -1 | cut -d' ' -f1)"; }
log_of Orders >"$T/orders.log"
check "Orders loads three day files into SQLite and reports their total" \
    grep -q "3 files loaded, orders total 90" "$T/orders.log"
check "Orders' Foreach Loop ran its tasks once per file" \
    [ "$(grep -c 'Record the file.*success' "$T/orders.log")" -eq 3 ]
log_of Recover >"$T/recover.log"
check "Recover imports the input it created after the handled failure" \
    grep -q "3 orders, total 49" "$T/recover.log"

# System::ServerExecutionID: the master's execution id reaches the package
# through the worker (weir exec --execution-id), and a child package run by
# Execute Package sees its parent's.
for id in $(grep ' Hello$' "$T/ids" | cut -d' ' -f1); do
    check "Hello's execution $id sees its catalog id as System::ServerExecutionID" \
        grep -q "running .*, catalog execution $id\$" <("$WEIR" log "$id")
done
batch_id=$(grep ' Batch$' "$T/ids" | head -1 | cut -d' ' -f1)
check "Batch's child Hello runs in the parent's server execution ($batch_id)" \
    grep -q "Run Hello.Package.Say hello.*catalog execution $batch_id\$" \
    <("$WEIR" log "$batch_id")

log_of Batch >"$T/batch.log"
check "Batch runs Orders as a child package (Execute Package) on the worker" \
    grep -q 'Run Orders.Package.Load orders.Print the report.*3 files loaded, orders total 90' \
    "$T/batch.log"
check "Batch's children Hello and WordCount ran" \
    grep -q 'Run WordCount.Package.Count words' "$T/batch.log"

# Both workers took part: the executions were spread over them.
workers=$(for id in $ids; do api GET "/api/v1/executions/$id" | jq -r .worker_name; done |
          sort -u | tr '\n' ' ')
is "$workers" "w1 w2 " "both workers ran executions"
done_testing
