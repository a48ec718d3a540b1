#!/bin/bash
# The data flow's database components through `weir exec` against PostgreSQL (a server started here):
# psqlODBC for sources, Lookup and OLE DB Command, COPY through libpq for
# the destinations' fast path
# (df-db-lib.sh has the scenarios).
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/pg-lib.sh"
. "$(dirname "$0")/sql-lib.sh"
. "$(dirname "$0")/df-db-lib.sh"

if ! pg_available; then
    echo "1..0 # SKIP PostgreSQL or its ODBC driver (odbc-postgresql) is not installed"
    finish
    exit 0
fi
pg_start
ok "PostgreSQL started on port $PG_PORT"
# The packages name [dbo] tables, SQL Server's default schema; in
# PostgreSQL the test makes dbo its first schema.
pg_sql "CREATE SCHEMA dbo; ALTER ROLE weir SET search_path = dbo, public" \
    >/dev/null
# A DSN (ODBCINI) takes the destinations' ODBC path.
printf '[weirpg]\nDriver=PostgreSQL Unicode\nServername=127.0.0.1\nPort=%s\nDatabase=weirtest\nUsername=weir\n' \
    "$PG_PORT" >"$T/odbc.ini"
export ODBCINI=$T/odbc.ini
round pg "$PG_ODBC" "DSN=weirpg;"
pg_stop
done_testing
