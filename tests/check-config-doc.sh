#!/bin/sh
# docs/config.md must be what scripts/gen-config-doc.sh makes from the
# binary: an option added without regenerating the reference fails here.
set -eu
root=${WEIR_SOURCE_ROOT:?}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$root/scripts/gen-config-doc.sh" "${WEIR:?}" >"$tmp"
if diff -u "$root/docs/config.md" "$tmp"; then
    echo "docs/config.md is up to date"
else
    echo "docs/config.md is stale: run scripts/gen-config-doc.sh build/src/cli/weir > docs/config.md" >&2
    exit 1
fi
