#!/bin/bash
# The data flow's database components through `weir exec` against SQLite: its ODBC driver for sources,
# Lookup and OLE DB Command, libsqlite3 for the destinations' fast path
# (df-db-lib.sh has the scenarios).
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/pg-lib.sh"
. "$(dirname "$0")/sql-lib.sh"
. "$(dirname "$0")/df-db-lib.sh"

if ! odbcinst -q -d -n SQLite3 >/dev/null 2>&1; then
    echo "1..0 # SKIP SQLite's ODBC driver (libsqliteodbc) is not installed"
    finish
    exit 0
fi
# The same driver under a name weir does not know (ODBCSYSINI) takes the
# destinations' ODBC path.  (A DSN would too, but SQLite's driver leaks
# what it reads of a DSN, which LeakSanitizer reports.)
mkdir -p "$T/odbcsys"
{ cat /etc/odbcinst.ini; printf '\n[WeirLite]\nDriver=libsqlite3odbc.so\n'; } \
    >"$T/odbcsys/odbcinst.ini"
export ODBCSYSINI=$T/odbcsys
round sqlite "Driver=SQLite3;Database=$T/db.sqlite;" \
    "Driver=WeirLite;Database=$T/db.sqlite;"
done_testing
