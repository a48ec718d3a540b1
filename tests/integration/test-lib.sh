# test-lib.sh: shared setup for the integration tests (sourced).
#
# Each test is a TAP script that starts real daemons (weir master, weir
# worker) on loopback ports in a temporary folder, drives them with the weir
# CLI and curl, and checks the catalog directly with sqlite3.  Daemons are
# stopped with SIGTERM at the end and must exit 0: under AddressSanitizer a
# leak or a sanitizer report makes that exit non-zero, and the test fails.
#
# Environment: WEIR (the binary, set by meson), WEIR_SOURCE_ROOT,
# WEIR_KEEP=1 keeps the temporary folder for inspection.

set -u
WEIR=${WEIR:?WEIR must name the weir binary}
SRC=${WEIR_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /tmp/weir-test.XXXXXX)
TEST_N=0
TEST_FAILED=0
DAEMONS=""

# ---- TAP ----
ok() { TEST_N=$((TEST_N + 1)); echo "ok $TEST_N - $*"; }
not_ok() {
    TEST_N=$((TEST_N + 1)); TEST_FAILED=$((TEST_FAILED + 1))
    echo "not ok $TEST_N - $*"
}
diag() { echo "$*" | sed 's/^/# /'; }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
    d=$1; shift
    if "$@"; then ok "$d"; else not_ok "$d"; fi
}
# is ACTUAL EXPECTED DESCRIPTION
is() {
    if [ "$1" = "$2" ]; then ok "$3"
    else not_ok "$3"; diag "got:      '$1'"; diag "expected: '$2'"; fi
}
bail() { echo "Bail out! $*"; finish; exit 1; }

# ---- processes ----
# A port below Linux's ephemeral range (32768-60999), so that no client
# connection of the test itself can be holding it.
free_port() {
    while :; do
        p=$(( (RANDOM << 15 | RANDOM) % 22000 + 10000 ))
        (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }
    done
}

# wait_until SECONDS SHELL-CONDITION: polls every 50 ms.
wait_until() {
    limit=$(( $1 * 20 )); shift
    i=0
    while [ $i -lt $limit ]; do
        eval "$@" && return 0
        sleep 0.05; i=$((i + 1))
    done
    return 1
}

MASTER_PORT=$(free_port)
MASTER_URL="http://127.0.0.1:$MASTER_PORT"
CATALOG="$T/catalog.db"
export WEIR_MASTER="$MASTER_URL"

# start_master [extra options]: starts the master and waits until it
# answers.  The first start moves to another port if the chosen one was
# taken meanwhile; a restart keeps the port the workers know.
MASTER_STARTS=0
start_master() {
    for try in 1 2 3; do
        rm -f "$T/master.port"
        "$WEIR" master --listen "127.0.0.1:$MASTER_PORT" \
            --port-file "$T/master.port" \
            --catalog "sqlite:$CATALOG" "$@" >>"$T/master.log" 2>&1 &
        MASTER_PID=$!
        DAEMONS="$DAEMONS $MASTER_PID"
        # Listening (it wrote its port) or dead: nothing else answers for it.
        wait_until 20 '[ -s "$T/master.port" ] || ! kill -0 $MASTER_PID 2>/dev/null'
        [ -s "$T/master.port" ] && break
        [ "$MASTER_STARTS" -eq 0 ] &&
            tail -1 "$T/master.log" | grep -q "Address already in use" || break
        MASTER_PORT=$(free_port)
        MASTER_URL="http://127.0.0.1:$MASTER_PORT"
        export WEIR_MASTER="$MASTER_URL"
    done
    [ -s "$T/master.port" ] &&
        wait_until 20 'curl -sf "$MASTER_URL/api/v1/workers" >/dev/null' ||
        bail "master did not start: $(tail -5 "$T/master.log")"
    MASTER_STARTS=$((MASTER_STARTS + 1))
}

# start_worker NAME [extra options]: sets WORKER_PID; state in $T/NAME.
start_worker() {
    name=$1; shift
    "$WEIR" worker --master "$MASTER_URL" --name "$name" \
        --state-dir "$T/$name" "$@" >>"$T/$name.log" 2>&1 &
    WORKER_PID=$!
    eval "PID_$name=$WORKER_PID"
    DAEMONS="$DAEMONS $WORKER_PID"
    wait_until 20 "[ -s '$T/$name/worker-id' ] && api GET /api/v1/workers |
        jq -e --arg n '$name' '.workers[] | select(.name == \$n and .online)' \
        >/dev/null" || bail "worker $name did not register: $(tail -5 "$T/$name.log")"
}

worker_id() { cat "$T/$1/worker-id"; }

# stop_daemon PID WHAT: SIGTERM, then checks it exited 0 within 60 s.
stop_daemon() {
    kill -TERM "$1" 2>/dev/null
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 1200 ]; do
        sleep 0.05; i=$((i + 1))
    done
    if kill -0 "$1" 2>/dev/null; then
        not_ok "$2 stops on SIGTERM"; kill -KILL "$1"; return
    fi
    wait "$1"; rc=$?
    is "$rc" 0 "$2 exits cleanly on SIGTERM (no sanitizer report)"
    DAEMONS=$(echo "$DAEMONS" | sed "s/ $1\b//")
}

# kill9 PID: kills a daemon the hard way and forgets it.
kill9() {
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    DAEMONS=$(echo "$DAEMONS" | sed "s/ $1\b//")
}

# ---- API ----
# api METHOD PATH [JSON]: prints the body; the status goes to $T/status.
api() {
    if [ $# -ge 3 ]; then
        curl -s -o "$T/body" -w '%{http_code}' -X "$1" \
            -H 'Content-Type: application/json' --data-binary "$3" \
            "$MASTER_URL$2" >"$T/status"
    else
        curl -s -o "$T/body" -w '%{http_code}' -X "$1" "$MASTER_URL$2" \
            >"$T/status"
    fi
    cat "$T/body"
}
status() { cat "$T/status"; }
exec_status() { api GET "/api/v1/executions/$1" | jq -r .status; }
sql() { sqlite3 -batch -noheader "$CATALOG" "$@"; }

# ---- the end ----
finish() {
    for p in $DAEMONS; do kill -KILL "$p" 2>/dev/null; done
    if [ "$TEST_FAILED" -ne 0 ] || [ "${WEIR_KEEP:-0}" = 1 ]; then
        for f in "$T"/*.log; do
            [ -f "$f" ] || continue
            diag "---- $(basename "$f") (last 30 lines) ----"
            diag "$(tail -30 "$f")"
        done
    fi
    [ "${WEIR_KEEP:-0}" = 1 ] && diag "kept $T" || rm -rf "$T"
}
done_testing() {
    finish
    echo "1..$TEST_N"
    [ "$TEST_FAILED" -eq 0 ]
}
trap 'finish' INT TERM

# make_package FILE NAME EXECUTABLE ARGUMENTS: writes a one-task package
# (an Execute Process task) in the 2016+ format.
make_package() {
    cat >"$1" <<XML
<?xml version="1.0"?>
<DTS:Executable xmlns:DTS="www.microsoft.com/SqlServer/Dts"
  DTS:refId="Package" DTS:CreationName="Microsoft.Package"
  DTS:DTSID="{6A1B2C3D-0000-4000-8000-00000000A001}"
  DTS:ExecutableType="Microsoft.Package" DTS:LocaleID="1033"
  DTS:ObjectName="$2" DTS:ProtectionLevel="0">
  <DTS:Property DTS:Name="PackageFormatVersion">8</DTS:Property>
  <DTS:Executables>
    <DTS:Executable DTS:refId="Package\\$2 step"
      DTS:CreationName="Microsoft.ExecuteProcess"
      DTS:DTSID="{6A1B2C3D-0000-4000-8000-00000000A002}"
      DTS:ExecutableType="Microsoft.ExecuteProcess"
      DTS:ObjectName="$2 step">
      <DTS:Variables />
      <DTS:ObjectData>
        <ExecuteProcessData Executable="$3" Arguments="$4" />
      </DTS:ObjectData>
    </DTS:Executable>
  </DTS:Executables>
</DTS:Executable>
XML
}

# deploy_test_project: a project "t/p" with Quick.dtsx (true), Fail.dtsx
# (false), Sleep.dtsx (sleep 0.5), Long.dtsx (sleep 60, marked so that
# tests can find its processes).
deploy_test_project() {
    mkdir -p "$T/proj"
    make_package "$T/proj/Quick.dtsx" Quick /bin/true ""
    make_package "$T/proj/Fail.dtsx" Fail /bin/false ""
    make_package "$T/proj/Sleep.dtsx" Sleep /bin/sleep "0.5"
    make_package "$T/proj/Long.dtsx" Long /bin/bash \
        "-c &quot;exec -a weir-long-$$ sleep 60&quot;"
    "$WEIR" deploy "$T/proj" --folder t --project p >"$T/deploy.out" 2>&1 ||
        bail "deploy failed: $(cat "$T/deploy.out")"
}
LONG_MARK="weir-long-$$"

# submit PACKAGE [json members]: creates executions, prints the ids.
submit() {
    pkg=$1; shift
    extra=${1:-}
    api POST /api/v1/executions \
        "{\"folder\":\"t\",\"project\":\"p\",\"package\":\"$pkg.dtsx\"${extra:+,$extra}}" |
        jq -r '.ids[]'
}

# all_final ID...: true when every execution has a final status.
all_final() {
    for id in "$@"; do
        case $(exec_status "$id") in 3|4|6|7|9) ;; *) return 1;; esac
    done
}
