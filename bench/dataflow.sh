#!/bin/bash
# bench/dataflow: CSV -> Derived Column -> Conditional Split -> CSV through
# `weir exec` (bench/dataflow.dtsx), beside `cat` of the same file and
# Miller (mlr) doing the same transformation, in the same run:
#   Total = qty * price (numeric 12,2); Label = UPPER(city) + "-" + id;
#   rows with Total > 500 written out (about a quarter).
# The input (ROWS rows, 10M by default: about 1.1 GB with seven typed
# columns) is generated once and kept in $WEIR_BENCH_DIR (default
# /tmp/weir-bench-dataflow) for later runs.  Prints MB/s of input for
# each, weir's peak memory, and weir's ratios to cat and to mlr.
#
# usage: bench/dataflow.sh [ROWS]      (MLR=0 skips Miller, the slow one)
set -eu
cd "$(dirname "$0")/.."
ROWS=${1:-10000000}
. scripts/deps.sh
deps_install miller
[ -d build-release ] || meson setup build-release --buildtype=release \
    -Dtests=false >/dev/null
ninja -C build-release src/cli/weir >/dev/null
WEIR=$PWD/build-release/src/cli/weir
dir=${WEIR_BENCH_DIR:-/tmp/weir-bench-dataflow}
mkdir -p "$dir"
in=$dir/input-$ROWS.csv

if [ ! -s "$in" ]; then
    echo "generating $ROWS rows in $in ..." >&2
    awk -v n="$ROWS" 'BEGIN {
        split("Oslo Bergen Trondheim Stavanger Tromso Alta Bodo Molde", c, " ");
        print "id,name,email,city,qty,price,day";
        srand(7);
        for (i = 1; i <= n; i++) {
            k = int(rand() * 9999999);
            printf "%d,customer %07d of the north-western region,"                  \
                "customer.%07d@example.com,%s,%d,%d.%02d,2024-%02d-%02d\n",
                i, k, k, c[1 + int(rand() * 8)],
                1 + int(rand() * 20), int(rand() * 60), int(rand() * 100),
                1 + int(rand() * 12), 1 + int(rand() * 28);
        }
    }' >"$in.tmp"
    mv "$in.tmp" "$in"
fi
bytes=$(stat -c %s "$in")
mb=$(awk -v b="$bytes" 'BEGIN {print b / 1e6}')
div() { awk -v a="$1" -v b="$2" 'BEGIN {print a / b}'; }

# seconds TIME-OUTPUT: the elapsed time GNU time wrote.
seconds() { awk '/^elapsed/ {print $2}' "$1"; }
cpu() { awk '/^cpu/ {print $2 + $3}' "$1"; }
peak_kb() { awk '/^maxrss/ {print $2}' "$1"; }
run() { # run NAME CMD...: times CMD, output to $dir/NAME.out
    local name=$1
    shift
    /usr/bin/time -f 'elapsed %e
cpu %U %S
maxrss %M' -o "$dir/$name.time" "$@"
}

cat "$in" >/dev/null # warm the page cache
run cat sh -c "cat '$in' > '$dir/cat.out'"
run weir "$WEIR" exec --connection "Input=$in" \
    --connection "Output=$dir/weir.out" bench/dataflow.dtsx >"$dir/weir.log"
if [ "${MLR:-1}" != 0 ]; then
    run mlr mlr --icsv --ocsv put '$Total = fmtnum($qty * $price, "%.2f");
        $Label = toupper($city) . "-" . $id' then filter '$Total > 500' \
        "$in" >"$dir/mlr.out"
    # The same rows, byte for byte, or the comparison means nothing.
    cmp -s "$dir/weir.out" "$dir/mlr.out" ||
        { echo "weir's and mlr's outputs differ" >&2; exit 1; }
fi

rate() { printf '%.0f' "$(div "$mb" "$1")"; }
t_cat=$(seconds "$dir/cat.time")
t_weir=$(seconds "$dir/weir.time")
printf 'input: %s rows, %.0f MB; %s rows out\n' "$ROWS" "$mb" \
    "$(($(wc -l <"$dir/weir.out") - 1))"
echo "        elapsed      MB/s  CPU s (user+sys)"
printf '%-6s %8s s %8s %8s\n' cat "$t_cat" "$(rate "$t_cat")" \
    "$(cpu "$dir/cat.time")"
printf '%-6s %8s s %8s %8s   peak RSS %d MB\n' weir "$t_weir" \
    "$(rate "$t_weir")" "$(cpu "$dir/weir.time")" \
    "$(($(peak_kb "$dir/weir.time") / 1024))"
if [ "${MLR:-1}" != 0 ]; then
    t_mlr=$(seconds "$dir/mlr.time")
    printf '%-6s %8s s %8s %8s   peak RSS %d MB\n' mlr "$t_mlr" \
        "$(rate "$t_mlr")" "$(cpu "$dir/mlr.time")" \
        "$(($(peak_kb "$dir/mlr.time") / 1024))"
    printf 'weir / mlr speed: %.1fx\n' "$(div "$t_mlr" "$t_weir")"
fi
printf 'weir / cat speed: %.2f\n' "$(div "$t_cat" "$t_weir")"
rm -f "$dir/cat.out"
