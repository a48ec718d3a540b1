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

# An .ispac (a zip as SSDT makes it, names flagged UTF-8) deploys, and its
# files, non-ASCII names included, reach the task folder.
mkdir -p "$T/isp"
make_package "$T/isp/Cat.dtsx" Cat /bin/sh "-c &quot;grep -q bonjour café.txt&quot;"
echo bonjour >"$T/isp/café.txt"
echo '<SSIS:Project xmlns:SSIS="www.microsoft.com/SqlServer/SSIS"/>' \
    >"$T/isp/@Project.manifest"
(cd "$T/isp" && LC_ALL=C.UTF-8 bsdtar --format zip \
    --options zip:hdrcharset=UTF-8 -cf "$T/p.ispac" Cat.dtsx café.txt ./@Project.manifest)
"$WEIR" deploy "$T/p.ispac" --folder t --project isp >"$T/ispac.out" 2>&1
is "$?" 0 "an .ispac with a UTF-8 file name deploys"
is "$(api GET /api/v1/folders/t/projects/isp | jq -r '[.files[].path] | sort | join(",")')" \
    "@Project.manifest,Cat.dtsx,café.txt" "all its files are stored under their names"
cat_id=$(api POST /api/v1/executions '{"folder":"t","project":"isp","package":"Cat.dtsx"}' | jq -r .id)
wait_until 30 all_final "$cat_id" || not_ok "the .ispac's package ends"
is "$(exec_status "$cat_id")" 7 "its package reads the file from the task folder"

# Connection managers' passwords are never shown (CM.<Name>.<Property>
# parameters, as SSISDB names them), inside a connection string or alone.
sec=$(api POST /api/v1/executions '{"folder":"t","project":"p","package":"Quick.dtsx","start":false,
      "parameters":{"CM.Db.ConnectionString":"Driver=PostgreSQL;Server=h; PWD =s3cr3t;Uid=u",
                    "CM.Db.Password":"s3cr3t","Rows":"5"}}' | jq -r .id)
api GET "/api/v1/executions/$sec" >/dev/null
check "a password in a connection string parameter is not shown" \
    bash -c "! grep -q s3cr3t '$T/body'"
is "$(jq -r '.parameters["CM.Db.ConnectionString"]' "$T/body")" \
    "Driver=PostgreSQL;Server=h; PWD =*****;Uid=u" \
    "the rest of the connection string is"
is "$(jq -r '.parameters.Rows' "$T/body")" 5 "other parameters are shown"
api GET "/api/v1/executions?limit=1000" >/dev/null
check "nor in the list of executions" bash -c "! grep -q s3cr3t '$T/body'"

stop_daemon "$WORKER_PID" "worker"
stop_daemon "$MASTER_PID" "master"
done_testing
