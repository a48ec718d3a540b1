#!/bin/sh
# Runs every test: installs missing Debian packages, checks that the tree
# builds warning-free with gcc, then builds with clang under AddressSanitizer
# and UndefinedBehaviorSanitizer and runs the unit and integration tests
# there (leaks fail the run), then runs each libFuzzer target in fuzz/ for
# a minute.  Extra arguments go to `meson test` (and skip the fuzzers), e.g.
# `scripts/test.sh --suite unit` or `scripts/test.sh integration/t020-hundred`.
set -eu
cd "$(dirname "$0")/.."
. scripts/deps.sh
deps_install $WEIR_TEST_PACKAGES

# A release build: -O3 finds warnings (maybe-uninitialized) -O2 does not.
[ -d build-gcc ] || meson setup build-gcc --buildtype=release -Dwerror=true >/dev/null
ninja -C build-gcc

[ -d build-asan ] || CC=clang meson setup build-asan -Dwerror=true \
    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
ninja -C build-asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions="$PWD/tests/lsan.supp":print_suppressions=0
rc=0
meson test -C build-asan --print-errorlogs "$@" || rc=$?
# One closing line that any CI reader understands.
log=build-asan/meson-logs/testlog.json
passed=$(jq -s '[.[] | select(.result == "OK")] | length' "$log")
failed=$(jq -s '[.[] | select(.result != "OK" and .result != "SKIP")] | length' "$log")
skipped=$(jq -s '[.[] | select(.result == "SKIP")] | length' "$log")

# Every fuzz target for a bounded time (WEIR_FUZZ_SECONDS, default 60; 0
# skips them), only for a full run.
if [ $# -eq 0 ] && [ "${WEIR_FUZZ_SECONDS:-60}" -gt 0 ]; then
    for f in fuzz/fuzz-*.c; do
        [ -f "$f" ] || continue
        t=${f#fuzz/fuzz-}; t=${t%.c}
        if fuzz/run.sh "$t" "${WEIR_FUZZ_SECONDS:-60}"; then
            echo "fuzz/$t: OK"; passed=$((passed + 1))
        else
            echo "fuzz/$t: FAILED"; failed=$((failed + 1)); rc=1
        fi
    done
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit $rc
