# pg-lib.sh: a throwaway PostgreSQL server for the tests (sourced after
# test-lib.sh).
#
# pg_start makes a cluster in $T/pg with initdb and starts it on a free
# loopback port (TCP on 127.0.0.1 only, its socket in $T/pg), trusting
# local connections for the user "weir", and creates the database
# "weirtest".  As root the server runs as the "postgres" user, which
# PostgreSQL requires.  The postmaster's pid joins $DAEMONS, so a test
# that bails out still kills it; pg_stop stops it cleanly.
#
# After pg_start: PG_PORT, PG_ODBC (an ODBC connection string for the
# PostgreSQL Unicode driver), pg_sql SQL (runs SQL, prints unaligned rows).

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V |
    tail -1)}

# pg_available: true when the server binaries and the ODBC driver exist.
pg_available() {
    [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] &&
        odbcinst -q -d -n "PostgreSQL Unicode" >/dev/null 2>&1
}

pg_as() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_start() {
    PG_DIR=$T/pg
    PG_PORT=$(free_port)
    mkdir -p "$PG_DIR"
    if [ "$(id -u)" -eq 0 ]; then
        chmod 711 "$T"
        chown postgres "$PG_DIR"
    fi
    pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U weir -A trust -E UTF8 \
        --locale=C --no-sync >"$T/pg-initdb.log" 2>&1 ||
        bail "initdb failed: $(tail -5 "$T/pg-initdb.log")"
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
        -t 60 -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR \
        -c fsync=off -c full_page_writes=off" start >"$T/pg-ctl.log" 2>&1 ||
        bail "PostgreSQL did not start: $(tail -5 "$PG_DIR/server.log")"
    PG_PID=$(head -1 "$PG_DIR/data/postmaster.pid")
    DAEMONS="$DAEMONS $PG_PID"
    pg_psql postgres -c "CREATE DATABASE weirtest" >/dev/null ||
        bail "cannot create the test database"
    PG_ODBC="Driver=PostgreSQL Unicode;Server=127.0.0.1;Port=$PG_PORT;Database=weirtest;Uid=weir;Pwd=;"
}

pg_psql() {
    db=$1; shift
    psql -X -h 127.0.0.1 -p "$PG_PORT" -U weir -d "$db" -v ON_ERROR_STOP=1 \
        "$@"
}

# pg_sql SQL: prints the rows, fields separated by '|'.
pg_sql() { pg_psql weirtest -Atq -c "$1"; }

pg_stop() {
    [ -n "${PG_PID:-}" ] || return 0
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop \
        >>"$T/pg-ctl.log" 2>&1
    DAEMONS=$(echo "$DAEMONS" | sed "s/ $PG_PID\b//")
    PG_PID=""
}
