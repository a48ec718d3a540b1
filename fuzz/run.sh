#!/bin/sh
# Builds a libFuzzer target with clang and runs it for a bounded time,
# starting from its seed corpus (fuzz/corpus/TARGET).  Exits non-zero if
# the fuzzer finds a crash, a sanitizer report, a leak or a timeout; the
# input that did it is written to the build folder as crash-TARGET-*
# (reproduce with: BUILD/fuzz/fuzz-TARGET FILE).
#
# usage: fuzz/run.sh TARGET SECONDS        e.g. fuzz/run.sh expr 60
# FUZZ_BUILD_DIR picks the build folder (default build-fuzz), which is set
# up with CC=clang -Dfuzz=true when it does not exist yet.
set -eu

usage="usage: fuzz/run.sh TARGET SECONDS"
target=${1:?$usage}
secs=${2:?$usage}
case $secs in
*[!0-9]* | '') echo "$usage" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seeds=$root/fuzz/corpus/$target

if [ ! -f "$root/fuzz/fuzz-$target.c" ]; then
    echo "fuzz/run.sh: no target '$target' (fuzz/fuzz-$target.c)" >&2
    exit 2
fi
if [ ! -d "$build" ]; then
    CC=clang meson setup "$build" "$root" -Dfuzz=true -Dtests=false \
        --buildtype=debugoptimized
else
    meson configure "$build" -Dfuzz=true
fi
ninja -C "$build" "fuzz/fuzz-$target"

# New inputs go to a scratch corpus, so the seeds in git stay as they are.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir "$work/corpus"
[ -d "$seeds" ] || seeds=$work/corpus

# Whole packages are tens of KiB; expressions are short.
max_len=4096
case $target in
dtsx)
    max_len=262144
    # The real packages beside the tree (../shared/fixtures/dtsx) are
    # seeds too; they are not copied into git (each keeps its licence
    # where it is).
    shared=$root/../shared/fixtures/dtsx
    if [ -d "$shared" ]; then
        find "$shared" -type f \( -name '*.dtsx' -o -name '*.params' \
            -o -name '*.conmgr' -o -name '*.dtsConfig' \) -size -256k \
            -exec cp {} "$work/corpus/" \;
    fi
    ;;
esac

"$build/fuzz/fuzz-$target" \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=$max_len \
    -print_final_stats=1 -artifact_prefix="$build/crash-$target-" \
    "$work/corpus" "$seeds"
