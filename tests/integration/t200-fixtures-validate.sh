#!/bin/bash
# Every real package in the shared fixtures loads and validates.  What
# cannot exist on this machine (Microsoft's SQL Server ODBC driver, a
# Windows folder) is given the way the validation errors themselves say
# to: --connection NAME=... (here an SQLite database) and the enumerator
# property parameter (here a folder of the test's).  Nothing runs.
. "$(dirname "$0")/test-lib.sh"

FX=$WEIR_SOURCE_ROOT/../shared/fixtures/dtsx
if [ ! -d "$FX" ]; then
    echo "1..0 # SKIP the shared fixtures ($FX) are not here"
    exit 0
fi
odbcinst -q -d 2>/dev/null | grep -qx '\[SQLite3\]' ||
    { echo "1..0 # SKIP SQLite's ODBC driver (libsqliteodbc) is not installed"; exit 0; }

mkdir -p "$T/in"
n=0
while IFS= read -r -d '' pkg; do
    n=$((n + 1))
    name=${pkg#"$FX"/}
    "$WEIR" exec --validate --no-validate-external "$pkg" >"$T/first.out" 2>&1
    # The advice in the errors: connection managers and folders to give.
    args=()
    for cm in $(grep -o -- "--connection '[^=']*=" "$T/first.out" | sort -u |
                sed -e "s/^--connection '//" -e 's/=$//' | tr ' ' '\001'); do
        cm=$(printf '%s' "$cm" | tr '\001' ' ')
        args+=(--connection "$cm=Driver=SQLite3;Database=$T/db.sqlite")
    done
    while IFS= read -r prop; do
        [ -n "$prop" ] && args+=(--param "$prop=$T/in")
    done < <(grep -o "the parameter '[^']*ForEachEnumerator[^']*'" "$T/first.out" |
             sort -u | sed -e "s/^the parameter '//" -e "s/'\$//")
    "$WEIR" exec --validate --no-validate-external "${args[@]}" "$pkg" >"$T/out" 2>&1
    rc=$?
    is "$rc" 0 "$name validates (${#args[@]} overriding arguments)"
    [ "$rc" = 0 ] || diag "$(grep -i error "$T/out" | head -5)"
done < <(find "$FX" -name '*.dtsx' -print0 | sort -z)
check "the fixtures hold several packages" [ "$n" -ge 8 ]
done_testing
