#!/bin/bash
# The demo: a master and two workers side by side on loopback with the
# embedded catalog, the sample project deployed, 24 executions of its
# packages run in parallel, and a summary table at the end.  Installs the
# Debian packages it needs and builds weir first.
set -eu
cd "$(dirname "$0")/.."
. scripts/deps.sh
deps_install curl jq libsqliteodbc  # Orders.dtsx writes to SQLite over ODBC

[ -d build ] || meson setup build -Dtests=false >/dev/null
ninja -C build >/dev/null
WEIR=$PWD/build/src/cli/weir

dir=$(mktemp -d /tmp/weir-demo.XXXXXX)
port=8391
while (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$((port + 1)); done
export WEIR_MASTER=http://127.0.0.1:$port
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo "logs and catalog kept in $dir"
}
trap cleanup EXIT

echo "== starting a master on $WEIR_MASTER and two workers (4 task slots each)"
"$WEIR" master --listen 127.0.0.1:$port --catalog "sqlite:$dir/catalog.db" \
    2>"$dir/master.log" &
pids+=($!)
for i in $(seq 100); do
    curl -sf "$WEIR_MASTER/api/v1/workers" >/dev/null && break
    sleep 0.1
done
for w in worker-1 worker-2; do
    "$WEIR" worker --name $w --max-tasks 4 --state-dir "$dir/$w" \
        2>"$dir/$w.log" &
    pids+=($!)
done
sleep 1
"$WEIR" workers

echo
echo "== deploying examples/sample"
"$WEIR" deploy examples/sample --folder demo --project sample

echo
echo "== submitting 24 executions"
first=""
for pkg in $(cd examples/sample && ls *.dtsx); do
    ids=$("$WEIR" run "demo/sample/$pkg" --count $((24 / $(ls examples/sample/*.dtsx | wc -l))))
    first=${first:-$(echo "$ids" | head -1)}
done

echo
echo "== running (workers' busy slots every half second)"
while :; do
    line=$("$WEIR" workers --json | jq -r \
        '[.workers[] | "\(.name): \(.running)/\(.max_tasks) running"] | join("   ")')
    left=$("$WEIR" executions --json --limit 1000 | jq \
        '[.executions[] | select(.status == 1 or .status == 2 or .status == 5 or .status == 8)] | length')
    echo "  $line   ($left not finished)"
    [ "$left" -eq 0 ] && break
    sleep 0.5
done

echo
echo "== summary"
"$WEIR" executions --limit 1000
