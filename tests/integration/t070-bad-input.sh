#!/bin/bash
# Bad input never crashes the master: each case gets the right 4xx status
# and a JSON error body naming what is wrong.
. "$(dirname "$0")/test-lib.sh"

start_master
deploy_test_project

# expect STATUS CODE PATTERN DESCRIPTION: checks the last answer.
expect() {
    is "$(status)" "$1" "$4: status $1"
    is "$(jq -r .error.code "$T/body" 2>/dev/null)" "$2" "$4: error code $2"
    if grep -q -- "$3" "$T/body"; then ok "$4: message mentions '$3'"
    else not_ok "$4: message mentions '$3'"; diag "$(cat "$T/body")"; fi
}

printf '<?xml version="1.0"?>\n<DTS:Executable xmlns:DTS="www.microsoft.com/SqlServer/Dts">\n  <DTS:Executables>\n  </DTS:Executable>\n' >"$T/bad.dtsx"
curl -s -o "$T/body" -w '%{http_code}' -X PUT -H 'Content-Type: application/xml' \
    --data-binary @"$T/bad.dtsx" \
    "$MASTER_URL/api/v1/folders/t/projects/bad?package=Bad.dtsx" >"$T/status"
expect 400 invalid "line 4" "malformed .dtsx on deploy"
check "the message names the package" grep -q "Bad.dtsx" "$T/body"

make_package "$T/odd.dtsx" Odd /bin/true ""
sed -i 's/Microsoft.ExecuteProcess/Microsoft.XMLTask/g' "$T/odd.dtsx"
curl -s -o "$T/body" -w '%{http_code}' -X PUT -H 'Content-Type: application/xml' \
    --data-binary @"$T/odd.dtsx" \
    "$MASTER_URL/api/v1/folders/t/projects/odd?package=Odd.dtsx" >"$T/status"
expect 400 invalid "Microsoft.XMLTask" "an unsupported task type on deploy"
check "the message names the task's path" grep -q 'Package\\\\Odd step' "$T/body"

api GET /api/v1/executions/987654 >/dev/null
expect 404 not_found 987654 "unknown execution"
api GET /api/v1/executions/abc >/dev/null
check "a non-numeric id is refused with 400 or 404" \
    [ "$(status)" = 400 -o "$(status)" = 404 ]
api POST /api/v1/executions/987654/stop >/dev/null
expect 404 not_found 987654 "stop of an unknown execution"
api GET /api/v1/no/such/route >/dev/null
expect 404 not_found "" "unknown route"

api POST /api/v1/executions '{"folder": "t", "project": ' >/dev/null
expect 400 invalid "JSON" "invalid JSON"
api POST /api/v1/executions '[1, 2]' >/dev/null
expect 400 invalid "object" "JSON that is not an object"
api POST /api/v1/executions '{"folder":"t","project":"p"}' >/dev/null
expect 400 invalid "package" "a missing member"
api POST /api/v1/executions '{"folder":"t","project":"p","package":7}' >/dev/null
expect 400 invalid "package" "a member of the wrong type"
api POST /api/v1/executions '{"folder":"t","project":"p","package":"Nope.dtsx"}' >/dev/null
expect 404 not_found "Nope.dtsx" "an unknown package"
api POST /api/v1/executions '{"folder":"t","project":"p","package":"Quick.dtsx","retries":-1}' >/dev/null
expect 400 invalid "retries" "retries out of range"

head -c 3000000 /dev/zero | tr '\0' 'x' >"$T/big"
curl -s -o "$T/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary @"$T/big" "$MASTER_URL/api/v1/executions" >"$T/status"
expect 413 too_large "" "oversized JSON body"

api POST /api/v1/worker/claim '{"worker_id":"x","incarnation":"y","slots":1}' >/dev/null
check "a claim from a malformed worker id is refused" \
    [ "$(status)" = 400 -o "$(status)" = 409 ]

check "the master is still alive" kill -0 "$MASTER_PID"
api GET /api/v1/workers >/dev/null
is "$(status)" 200 "and still answers"

stop_daemon "$MASTER_PID" "master"
done_testing
