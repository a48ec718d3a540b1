#!/bin/bash
# bench/dispatch: N trivial executions through one master (embedded
# catalog) and 2 workers, beside beanstalkd doing put -> reserve -> delete
# of the same N jobs with 2 consumers, in the same run.  Two phases:
#  - burst: all N submitted at once; executions/s, and submit -> start
#    latency (mostly time spent queued);
#  - idle: M submitted one after another, each when the previous ended;
#    submit -> start latency when a worker is waiting (the long-poll path).
# Prints weir's figures, beanstalkd's, and weir's ratios to them.
# Every weir execution is a real package run (`weir exec` of a package with
# one Execute Process task running /bin/true), so the figure includes a
# process spawn per execution; beanstalkd's jobs do no work at all.
#
# usage: bench/dispatch.sh [N] [SLOTS_PER_WORKER]   (defaults 500, 4)
set -eu
cd "$(dirname "$0")/.."
N=${1:-500}
SLOTS=${2:-4}
. scripts/deps.sh
deps_install curl jq sqlite3 beanstalkd
[ -d build-release ] || meson setup build-release --buildtype=release \
    -Dtests=false >/dev/null
ninja -C build-release >/dev/null
WEIR=$PWD/build-release/src/cli/weir
dir=$(mktemp -d /tmp/weir-bench.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill -TERM $p 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$dir"' EXIT

port() {
    p=$1
    while (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; do p=$((p + 1)); done
    echo $p
}

# ---- beanstalkd ----
bport=$(port 11300)
beanstalkd -l 127.0.0.1 -p "$bport" & pids+=($!)
sleep 0.3
ref=$(build-release/bench/beanstalk-dispatch "$bport" "$N" 2)
M=${M:-100}
refidle=$(build-release/bench/beanstalk-dispatch "$bport" "$M" 2 --sequential)

# ---- weir ----
mport=$(port 8391)
export WEIR_MASTER=http://127.0.0.1:$mport
"$WEIR" master --listen 127.0.0.1:$mport --catalog "sqlite:$dir/c.db" \
    --log-level warn 2>"$dir/master.log" & pids+=($!)
until curl -sf "$WEIR_MASTER/api/v1/workers" >/dev/null; do sleep 0.05; done
for w in 1 2; do
    "$WEIR" worker --name w$w --max-tasks "$SLOTS" --state-dir "$dir/w$w" \
        --log-level warn 2>"$dir/w$w.log" & pids+=($!)
done
mkdir "$dir/p"
sed -e 's/@NAME@/Trivial/' bench/trivial.dtsx.in >"$dir/p/Trivial.dtsx"
"$WEIR" deploy "$dir/p" --folder b --project p >/dev/null
until [ "$("$WEIR" workers --json | jq '[.workers[] | select(.online)] | length')" = 2 ]; do
    sleep 0.05
done

echo '{"folder":"b","project":"p","package":"Trivial.dtsx"}' >"$dir/body"
# One curl, N requests over one connection (as a client library would).
for i in $(seq "$N"); do
    printf 'url = "%s/api/v1/executions"\nrequest = "POST"\n' "$WEIR_MASTER"
    printf 'header = "Content-Type: application/json"\n'
    printf 'data = "@%s"\noutput = "/dev/null"\n' "$dir/body"
    [ "$i" -lt "$N" ] && echo next
done >"$dir/curl.conf"
t0=$(date +%s%3N)
curl -s -K "$dir/curl.conf"
until [ "$(sqlite3 "$dir/c.db" "SELECT COUNT(*) FROM executions WHERE status IN (3,4,6,7,9)")" = "$N" ]; do
    sleep 0.05
done
t1=$(sqlite3 "$dir/c.db" "SELECT MAX(ended_ms) FROM executions")
lat=$(sqlite3 "$dir/c.db" "SELECT started_ms - created_ms FROM executions ORDER BY 1")
p50=$(echo "$lat" | sed -n "$(( N / 2 + 1 ))p")
p99=$(echo "$lat" | sed -n "$(( N * 99 / 100 + 1 ))p")
rate=$(awk "BEGIN{printf \"%.0f\", $N / (($t1 - $t0) / 1000)}")

# Idle phase: one at a time; the catalog's created/started stamps give the
# latency (millisecond resolution).
first_idle=$(( N + 1 ))
for i in $(seq "$M"); do
    curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
        --data-binary @"$dir/body" "$WEIR_MASTER/api/v1/executions"
    until [ "$(sqlite3 "$dir/c.db" "SELECT COUNT(*) FROM executions WHERE id >= $first_idle AND status IN (3,4,6,7,9)")" = "$i" ]; do
        sleep 0.01
    done
done
ilat=$(sqlite3 "$dir/c.db" "SELECT started_ms - created_ms FROM executions WHERE id >= $first_idle ORDER BY 1")
ip50=$(echo "$ilat" | sed -n "$(( M / 2 + 1 ))p")
ip99=$(echo "$ilat" | sed -n "$(( M * 99 / 100 + 1 ))p")
failed=$(sqlite3 "$dir/c.db" "SELECT COUNT(*) FROM executions WHERE status != 7")
bip50=$(echo "$refidle" | sed 's/.*p50_ms=\([0-9.]*\).*/\1/')
bip99=$(echo "$refidle" | sed 's/.*p99_ms=\([0-9.]*\).*/\1/')

bref=$(echo "$ref" | sed 's/.*jobs_per_s=\([0-9.]*\).*/\1/')
bp50=$(echo "$ref" | sed 's/.*p50_ms=\([0-9.]*\).*/\1/')
bp99=$(echo "$ref" | sed 's/.*p99_ms=\([0-9.]*\).*/\1/')
echo "dispatch: 2 workers x $SLOTS slots, $(nproc) cores"
echo "burst of N=$N:"
printf "  %-12s %10s %12s %12s\n" "" "per second" "p50 latency" "p99 latency"
printf "  %-12s %10s %10s ms %10s ms\n" "weir" "$rate" "$p50" "$p99"
printf "  %-12s %10s %10s ms %10s ms\n" "beanstalkd" "$bref" "$bp50" "$bp99"
echo "one at a time, M=$M (submit -> start with a worker waiting):"
printf "  %-12s %10s %10s ms %10s ms\n" "weir" "" "$ip50" "$ip99"
printf "  %-12s %10s %10s ms %10s ms\n" "beanstalkd" "" "$bip50" "$bip99"
awk "BEGIN{printf \"ratio weir/beanstalkd: burst throughput %.4f\n\", $rate / $bref}"
[ "$failed" = 0 ] || { echo "  $failed executions did not succeed" >&2; exit 1; }
