#!/bin/bash
# Execute SQL tasks against a real PostgreSQL server (started here) through
# the PostgreSQL Unicode ODBC driver: GO batches, parameters, typed single
# rows (integer, text, date, boolean, numeric, NULL), a full result set,
# server errors, a statement timeout and a server that is down.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/pg-lib.sh"
. "$(dirname "$0")/sql-lib.sh"

if ! pg_available; then
    echo "1..0 # SKIP PostgreSQL or its ODBC driver (odbc-postgresql) is not installed"
    finish
    exit 0
fi
pg_start
ok "PostgreSQL started on port $PG_PORT"

# A stored ADO.NET SqlClient string, as the designer writes it.
ADO="Data Source=dbhost;Initial Catalog=Sales;Integrated Security=True;"
ADO_TYPE="ADO.NET:System.Data.SqlClient.SqlConnection, System.Data, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089"

# ---- DDL and inserts in batches, parameters ----
sql_reset
sql_cm Pg OLEDB "Data Source=.;Initial Catalog=x;Provider=MSOLEDBSQL.1;"
sql_var Id 3 3
sql_var Name 8 "trois é"
sql_var Day 7 "2024-02-29"
sql_var Amount 14 "12.50"
sql_var Ok 11 True
sql_task Create "{CM-Pg}" "CREATE TABLE items (id integer PRIMARY KEY, name text, day date, ok boolean, amount numeric(10,2), note text);
GO
INSERT INTO items VALUES (1, 'one', '2024-01-01', true, 1.25, NULL);
INSERT INTO items VALUES (2, 'two', '2024-01-02', false, 2.50, 'n')
GO"
sql_task Insert "{CM-Pg}" "INSERT INTO items (id, name, day, ok, amount) VALUES (?, ?, ?, ?, ?)" "" \
    "$(sql_in 0 User::Id)$(sql_in 1 User::Name)$(sql_in 2 User::Day)$(sql_in 3 User::Ok)$(sql_in 4 User::Amount)"
sql_package "$T/load.dtsx"
run_pkg "$T/load.dtsx" --connection "Pg=$PG_ODBC"
is "$RC" 0 "batches and parameters on PostgreSQL: the package succeeds"
is "$(pg_sql 'SELECT count(*) FROM items')" 3 "three rows"
is "$(pg_sql "SELECT name || '|' || day || '|' || ok || '|' || amount FROM items WHERE id = 3")" \
    "trois é|2024-02-29|true|12.50" "parameters of five types, UTF-8 text intact"

# ---- typed single row, full result set, written back ----
sql_reset
sql_cm Pg "$ADO_TYPE" "$ADO"
sql_var N 20 0
sql_var S 8 ""
sql_var D 7 "1/1/2000 12:00:00 AM"
sql_var B 11 0
sql_var M 14 0
sql_var Note 13 ""
sql_var Rows 13 ""
sql_task Read "{CM-Pg}" "SELECT count(*) AS n, max(name) AS s, max(day) AS d, bool_and(ok) AS b, sum(amount) AS m, NULL::text AS note FROM items" \
    ResultSetType_SingleRow \
    "$(sql_out n User::N)$(sql_out s User::S)$(sql_out d User::D)$(sql_out b User::B)$(sql_out m User::M)$(sql_out note User::Note)"
sql_task All "{CM-Pg}" "SELECT * FROM items ORDER BY id" ResultSetType_Rowset \
    "$(sql_out 0 User::Rows)"
# ADO.NET: named @markers, mapped in order of appearance.
sql_task Write "{CM-Pg}" "CREATE TABLE out (n bigint, s text, d timestamp, b boolean, m numeric(10,2));
GO
INSERT INTO out VALUES (@n, @s, @d, @b, @m)" "" \
    "$(sql_in @s User::S)$(sql_in @n User::N)$(sql_in @d User::D)$(sql_in @b User::B)$(sql_in @m User::M)"
sql_package "$T/read.dtsx"
run_pkg "$T/read.dtsx" --connection "Pg=$PG_ODBC"
is "$RC" 0 "single row and full result set on PostgreSQL"
is "$(pg_sql "SELECT n || '|' || s || '|' || d || '|' || b || '|' || m FROM out")" \
    "3|two|2024-02-29 00:00:00|false|16.25" \
    "bigint, text, date, boolean and numeric values made the round trip"
check "the full result set has 3 rows of 6 columns" \
    has "$T/out" "the full result set has 3 rows and 6 columns"

# ---- return value and output parameters through the ODBC call escape ----
sql_reset
sql_cm Pg ODBC "$PG_ODBC"
sql_cm Ado "$ADO_TYPE" "$ADO"
sql_var X 3 41
sql_var Ret 3 0
sql_var Ret2 20 0
sql_var Out 8 ""
sql_task Fn "{CM-Pg}" "CREATE FUNCTION add_one(x integer) RETURNS integer AS 'SELECT x + 1' LANGUAGE sql;
GO
CREATE FUNCTION greet(x text) RETURNS text AS 'SELECT ''hi '' || x' LANGUAGE sql"
sql_task Call "{CM-Pg}" "{? = call add_one(?)}" "" \
    "$(sql_param 0 User::Ret ReturnValue)$(sql_in 1 User::X)"
sql_task Call2 "{CM-Pg}" "{? = call greet('you')}" "" \
    "$(sql_param 0 User::Out Output)"
# ADO.NET's IsStoredProc: the source is the procedure's name.
sql_task Proc "{CM-Ado}" "add_one" "" \
    "$(sql_param @RETURN_VALUE User::Ret2 ReturnValue)$(sql_in @x User::Ret)" \
    'SQLTask:IsStoredProc="True"'
sql_task Keep "{CM-Pg}" "CREATE TABLE rv (r integer, o text, r2 bigint);
GO
INSERT INTO rv VALUES (?, ?, ?)" "" \
    "$(sql_in 0 User::Ret)$(sql_in 1 User::Out)$(sql_in 2 User::Ret2)"
sql_package "$T/call.dtsx"
run_pkg "$T/call.dtsx" --connection "Ado=$PG_ODBC"
is "$RC" 0 "procedure calls with return values and an output parameter"
is "$(pg_sql "SELECT r || '|' || o || '|' || r2 FROM rv")" "42|hi you|43" \
    "the return values (ODBC call escape and ADO.NET IsStoredProc) and the output reached their variables"

# ---- errors ----
sql_reset
sql_cm Pg ODBC "$PG_ODBC"
sql_task Dup "{CM-Pg}" "INSERT INTO items (id, name) VALUES (1, 'again')"
sql_package "$T/dup.dtsx"
run_pkg "$T/dup.dtsx"
is "$RC" 1 "a constraint violation fails the package"
check "OnError carries the path, SQLSTATE 23505 and the server's message" \
    has "$T/err" "\\Package\\Dup: executing the query failed on connection manager 'Pg': [23505]"
check "the server's words are there" has "$T/err" "duplicate key value violates unique constraint"

sql_reset
sql_cm Pg ODBC "$PG_ODBC"
sql_task Slow "{CM-Pg}" "SELECT pg_sleep(30)" "" "" 'SQLTask:TimeOut="1"'
sql_package "$T/slow.dtsx"
start=$(date +%s)
run_pkg "$T/slow.dtsx"
is "$RC" 1 "a statement past its TimeOut fails"
check "within a few seconds" test $(( $(date +%s) - start )) -lt 15
check "the driver says why" grep -qi "cancel" "$T/err"

sql_reset
sql_cm Pg ODBC "$PG_ODBC"
sql_task Long "{CM-Pg}" "SELECT pg_sleep(60)"
sql_task After "{CM-Pg}" "CREATE TABLE never_made (x int)"
sql_package "$T/long.dtsx"
"$WEIR" exec "$T/long.dtsx" >"$T/out" 2>"$T/err" &
pid=$!
wait_until 20 "pg_sql \"SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'\" | grep -q 1" ||
    diag "the statement did not start"
start=$(date +%s)
kill -TERM "$pid"
wait "$pid"
is "$?" 3 "SIGTERM during a statement cancels the package (exit 3)"
check "at once, not after the statement" test $(( $(date +%s) - start )) -lt 10
check "the cancel is reported" has "$T/out" "canceled: SIGTERM received"
check "nothing after it ran" sh -c "! grep -q 'After' '$T/out'"
is "$(pg_sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'")" 0 \
    "the server stopped the query"

pg_stop
start=$(date +%s)
run_pkg "$T/dup.dtsx"
is "$RC" 1 "with the server down the task fails"
check "at once" test $(( $(date +%s) - start )) -lt 15
check "the error names the connection manager" \
    has "$T/err" "cannot connect with connection manager 'Pg'"
check "the password-free message comes from the driver" \
    grep -q "Connection refused\|could not connect" "$T/err"

done_testing
