#!/bin/bash
# Cancel reaches a data flow blocked inside a database call: `weir exec`
# gets SIGTERM while its OLE DB source or destination waits for a lock
# another session holds (PostgreSQL: LOCK TABLE in a psql session;
# SQLite: BEGIN EXCLUSIVE / IMMEDIATE in a sqlite3 process).  It must end
# at once with exit code 3 and "canceled", the server must have stopped
# the statement, and the destination table must hold nothing (one
# transaction, rolled back).  (The Execute SQL task's cancel of a
# statement waiting on PostgreSQL is checked in t110.)
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/pg-lib.sh"
. "$(dirname "$0")/sql-lib.sh"  # run_pkg, has

PKG=$SRC/tests/fixtures/dataflow/db-reject.dtsx

# start_exec ODBC: runs the people -> strict package in the background
# (bounded by `timeout`, so a hang fails the test instead of blocking it).
start_exec() {
    timeout -s KILL 60 "$WEIR" exec --connection "Db=$1" "$PKG" \
        >"$T/out" 2>"$T/err" &
    EXEC_PID=$!
}

# stop_exec WHAT: SIGTERM to weir exec (the child of timeout), then checks
# that it ended promptly as canceled.
stop_exec() {
    child=$(pgrep -P "$EXEC_PID" | head -1)
    start=$(date +%s)
    kill -TERM "${child:-$EXEC_PID}"
    wait "$EXEC_PID"
    rc=$?
    is "$rc" 3 "$1: SIGTERM while blocked: exit 3 (canceled)"
    [ "$rc" = 3 ] || diag "$(tail -5 "$T/err")"
    check "$1: at once, not after the lock" \
        test $(( $(date +%s) - start )) -lt 10
    check "$1: the cancel is reported" has "$T/out" "canceled: SIGTERM received"
    check "$1: the data flow task ends canceled" \
        grep -q "Flow.*canceled" "$T/out"
}

# hold COMMAND...: runs a client that takes a lock and keeps it while its
# input stays open; LOCK_PID is the pipeline's, killed by release.
hold() {
    mkfifo "$T/hold"
    "$@" <"$T/hold" >"$T/hold.out" 2>&1 &
    LOCK_PID=$!
    exec 7>"$T/hold"
}
release() {
    exec 7>&-
    wait "$LOCK_PID" 2>/dev/null
    rm -f "$T/hold"
}

# ---- PostgreSQL ----
if pg_available; then
    pg_start
    pg_sql "CREATE TABLE people (id integer, name varchar(20));
INSERT INTO people SELECT g, 'p' || g FROM generate_series(1, 50) g;
CREATE TABLE strict (id integer NOT NULL, name varchar(20) NOT NULL);
CREATE TABLE rejects (id integer, name varchar(20), code integer);" >/dev/null
    waiting() {
        pg_sql "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '$1%'"
    }

    # The source's SELECT waits for the lock on people.
    hold pg_psql weirtest -q
    echo "BEGIN; LOCK TABLE people IN ACCESS EXCLUSIVE MODE;" >&7
    wait_until 20 "pg_sql \"SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = 'people'::regclass\" | grep -q 1" ||
        diag "the lock was not taken"
    start_exec "$PG_ODBC"
    wait_until 20 "waiting SELECT | grep -q 1"
    is "$?" 0 "pg source: the source's query waits for the lock"
    stop_exec "pg source"
    is "$(waiting SELECT)" 0 "pg source: the server stopped the query"
    release
    is "$(pg_sql 'SELECT count(*) FROM strict')" 0 "pg source: nothing loaded"

    # The destination's COPY waits for the lock on strict.
    hold pg_psql weirtest -q
    echo "BEGIN; LOCK TABLE strict IN ACCESS EXCLUSIVE MODE;" >&7
    wait_until 20 "pg_sql \"SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = 'strict'::regclass\" | grep -q 1" ||
        diag "the lock was not taken"
    start_exec "$PG_ODBC"
    wait_until 20 "waiting COPY | grep -q 1"
    is "$?" 0 "pg destination: the COPY waits for the lock"
    stop_exec "pg destination"
    is "$(waiting COPY)" 0 "pg destination: the server stopped the COPY"
    release
    is "$(pg_sql 'SELECT count(*) FROM strict')" 0 \
        "pg destination: nothing committed"
    is "$(pg_sql 'SELECT count(*) FROM rejects')" 0 \
        "pg destination: nothing redirected"

    # Unblocked, the same package loads every row.
    run_pkg "$PKG" --connection "Db=$PG_ODBC"
    is "$RC" 0 "pg: without the lock the package succeeds"
    is "$(pg_sql 'SELECT count(*) FROM strict')" 50 "pg: 50 rows loaded"
    pg_stop
else
    ok "# SKIP PostgreSQL or its ODBC driver is not installed"
fi

# ---- SQLite ----
if odbcinst -q -d -n SQLite3 >/dev/null 2>&1; then
    DB=$T/db.sqlite
    LITE="Driver=SQLite3;Database=$DB;"
    sqlite3 -batch "$DB" "CREATE TABLE people (id integer, name varchar(20));
WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < 50)
INSERT INTO people SELECT x, 'p' || x FROM g;
CREATE TABLE strict (id integer NOT NULL, name varchar(20) NOT NULL);
CREATE TABLE rejects (id integer, name varchar(20), code integer);"

    # BEGIN EXCLUSIVE: even reading waits (the ODBC driver's busy wait).
    hold sqlite3 -batch "$DB"
    echo "BEGIN EXCLUSIVE;" >&7
    echo "SELECT 'locked';" >&7
    wait_until 20 "grep -q locked '$T/hold.out'" || diag "the lock was not taken"
    start_exec "$LITE"
    sleep 1
    stop_exec "sqlite source"
    release
    is "$(sqlite3 -batch "$DB" 'SELECT count(*) FROM strict')" 0 \
        "sqlite source: nothing loaded"

    # BEGIN IMMEDIATE: reading goes on, the destination's write waits.
    hold sqlite3 -batch "$DB"
    echo "BEGIN IMMEDIATE;" >&7
    echo "SELECT 'locked';" >&7
    wait_until 20 "grep -q locked '$T/hold.out'" || diag "the lock was not taken"
    start_exec "$LITE"
    sleep 1
    stop_exec "sqlite destination"
    release
    is "$(sqlite3 -batch "$DB" 'SELECT count(*) FROM strict')" 0 \
        "sqlite destination: nothing committed"

    run_pkg "$PKG" --connection "Db=$LITE"
    is "$RC" 0 "sqlite: without the lock the package succeeds"
    is "$(sqlite3 -batch "$DB" 'SELECT count(*) FROM strict')" 50 \
        "sqlite: 50 rows loaded"
else
    ok "# SKIP SQLite's ODBC driver is not installed"
fi
done_testing
