#!/bin/bash
# Execute SQL tasks against SQLite through its ODBC driver (libsqliteodbc):
# GO batches, input parameters, single-row and full result sets into
# variables, SQL errors, validation, connection overrides (--connection,
# CM.<Name>.ConnectionString) and a project .conmgr connection.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/sql-lib.sh"

if ! odbcinst -q -d -n SQLite3 >/dev/null 2>&1; then
    echo "1..0 # SKIP the SQLite3 ODBC driver (libsqliteodbc) is not installed"
    finish
    exit 0
fi

DB=$T/test.db
LITE="Driver=SQLite3;Database=$DB"
# The stored string points at the author's SQL Server, as real packages do.
OLEDB="Data Source=.;Initial Catalog=Sales;Provider=SQLNCLI11.1;Integrated Security=SSPI;"

# ---- DDL, GO batches, input parameters ----
sql_reset
sql_cm Db OLEDB "$OLEDB"
sql_var Id 3 7
sql_var Name 8 "O'Brien & co"
sql_var When 7 "2/28/2014 12:29:00 PM"
sql_var Flag 11 -1
sql_var Price 5 2.5
sql_task Create "{CM-Db}" "CREATE TABLE t (id INTEGER, name TEXT, d TIMESTAMP, flag BOOLEAN, price REAL, note TEXT);
GO
INSERT INTO t VALUES (1, 'one', '2024-01-02 03:04:05', 0, 1.25, NULL);
  go
INSERT INTO t VALUES (2, 'two', '2024-05-06 00:00:00', 1, 3, 'x')"
sql_task Insert "{CM-Db}" "INSERT INTO t (id, name, d, flag, price) VALUES (?, ?, ?, ?, ?)" "" \
    "$(sql_in 0 User::Id)$(sql_in 1 User::Name)$(sql_in 2 User::When)$(sql_in 3 User::Flag)$(sql_in 4 User::Price)"
sql_package "$T/load.dtsx"
run_pkg "$T/load.dtsx" --connection "Db=$LITE"
is "$RC" 0 "GO batches and parameters: the package succeeds"
is "$(sqlite3 "$DB" 'SELECT count(*) FROM t')" 3 "three rows were inserted"
is "$(sqlite3 "$DB" 'SELECT name || "|" || d || "|" || flag || "|" || price FROM t WHERE id = 7')" \
    "O'Brien & co|2014-02-28 12:29:00|1|2.5" "input parameters of five types arrive as given"

# ---- a binding's DataType converts the variable's value (OLE DB codes) ----
sql_reset
sql_cm Db OLEDB "$OLEDB"
sql_var S 8 "42"
sql_var Word 8 "abc"
sql_task Typed "{CM-Db}" "CREATE TABLE ty AS SELECT typeof(?) AS a, typeof(?) AS b, typeof(?) AS c" "" \
    "$(sql_in 0 User::S 3)$(sql_in 1 User::S 130)$(sql_in 2 User::S 5)"
sql_task Wrong "{CM-Db}" "SELECT ?" "" "$(sql_in 0 User::Word 3)"
sql_package "$T/typed.dtsx"
run_pkg "$T/typed.dtsx" --connection "Db=$LITE"
is "$(sqlite3 "$DB" 'SELECT a || "|" || b || "|" || c FROM ty')" "integer|text|real" \
    "a String variable is bound as the DataType declares (LONG, NVARCHAR, DOUBLE)"
is "$RC" 1 "a value that does not fit the declared DataType fails"
check "the error names the parameter, the variable and the types" \
    has "$T/err" "\\Package\\Wrong: parameter '0': variable 'User::Word' as the declared DataType 3: a String value ('abc') cannot be converted to Int32"

# ---- single row into variables, written back by a second task ----
sql_reset
sql_cm Db OLEDB "$OLEDB"
sql_var N 3 0
sql_var S 8 ""
sql_var D 7 "1/1/2000 12:00:00 AM"
sql_var B 11 0
sql_var R 5 0
sql_var Big 20 0
sql_var Rows 13 ""
sql_task Read "{CM-Db}" "SELECT count(*) AS n, max(name) AS s, max(d) AS d, max(flag) AS b, sum(price) AS r, 9000000000 AS big FROM t" \
    ResultSetType_SingleRow \
    "$(sql_out n User::N)$(sql_out 1 User::S)$(sql_out d User::D)$(sql_out b User::B)$(sql_out r User::R)$(sql_out big User::Big)"
sql_task All "{CM-Db}" "SELECT * FROM t ORDER BY id" ResultSetType_Rowset \
    "$(sql_out 0 User::Rows)"
sql_task Write "{CM-Db}" "CREATE TABLE out (n INTEGER, s TEXT, d TEXT, b INTEGER, r REAL, big INTEGER);
GO
INSERT INTO out VALUES (?, ?, ?, ?, ?, ?)" "" \
    "$(sql_in 0 User::N)$(sql_in 1 User::S)$(sql_in 2 User::D)$(sql_in 3 User::B)$(sql_in 4 User::R)$(sql_in 5 User::Big)"
sql_package "$T/read.dtsx"
run_pkg "$T/read.dtsx" --connection "Db=$LITE"
is "$RC" 0 "single row and full result set: the package succeeds"
is "$(sqlite3 "$DB" 'SELECT n || "|" || s || "|" || d || "|" || b || "|" || r || "|" || big FROM out')" \
    "3|two|2024-05-06 00:00:00|1|6.75|9000000000" \
    "single-row values went into Int32, String, DateTime, Boolean, Double and Int64 variables"
check "the full result set's size is reported" \
    has "$T/out" "the full result set has 3 rows and 6 columns"

# ---- NULL and empty results ----
sql_reset
sql_cm Db OLEDB "$OLEDB"
sql_var S 8 ""
sql_task Null "{CM-Db}" "SELECT note FROM t WHERE id = 1" ResultSetType_SingleRow \
    "$(sql_out 0 User::S)"
sql_package "$T/null.dtsx"
run_pkg "$T/null.dtsx" --connection "Db=$LITE"
is "$RC" 1 "NULL into a String variable fails the package"
check "the error names the binding, the variable and NULL" \
    has "$T/err" "\\Package\\Null: result binding '0' (column 'note'): variable 'User::S' (String): NULL cannot be assigned"

sql_reset
sql_cm Db OLEDB "$OLEDB"
sql_var S 8 ""
sql_task Empty "{CM-Db}" "SELECT name FROM t WHERE id = 99" ResultSetType_SingleRow \
    "$(sql_out 0 User::S)"
sql_package "$T/empty.dtsx"
run_pkg "$T/empty.dtsx" --connection "Db=$LITE"
is "$RC" 1 "a single-row query without rows fails"
check "the error says the result set is empty" has "$T/err" "the result set is empty"

# ---- SQL errors ----
sql_reset
sql_cm Db OLEDB "$OLEDB"
sql_task Bad "{CM-Db}" "SELECT * FROM no_such_table"
sql_package "$T/bad.dtsx"
run_pkg "$T/bad.dtsx" --connection "Db=$LITE"
is "$RC" 1 "a SQL error fails the package with exit code 1"
check "OnError names the task path, the connection manager and the driver's message" \
    has "$T/err" "\\Package\\Bad: executing the query failed on connection manager 'Db': [HY000]"
check "the driver's text is there" has "$T/err" "no such table: no_such_table"
check "OnTaskFailed follows" grep -q 'OnTaskFailed.*\\Package\\Bad' "$T/out"
"$WEIR" exec --events-fd 3 --connection "Db=$LITE" "$T/bad.dtsx" 3>"$T/events" \
    >/dev/null 2>&1
is "$(jq -r 'select(.event == "OnError") | "\(.path) \(.code)"' "$T/events")" \
    "\\Package\\Bad 21" "the JSON OnError carries the task path and code 21"

# ---- TimeOut: SQLite's driver ignores the query timeout; weir cancels ----
sql_reset
sql_cm Db OLEDB "$OLEDB"
sql_task Slow "{CM-Db}" "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c" \
    "" "" 'SQLTask:TimeOut="1"'
sql_package "$T/slow.dtsx"
start=$(date +%s)
run_pkg "$T/slow.dtsx" --connection "Db=$LITE"
is "$RC" 1 "a statement past its TimeOut fails"
check "it is stopped within seconds" test $(( $(date +%s) - start )) -lt 10
check "the error says TimeOut" \
    has "$T/err" "\\Package\\Slow: the query ran past its TimeOut of 1 s on connection manager 'Db' and was canceled"

# ---- validation ----
sql_reset
sql_cm Db OLEDB "$OLEDB"
sql_var S 8 ""
sql_task Lost "{CM-Missing}" "SELECT 1"
sql_task Xml "{CM-Db}" "SELECT 1" ResultSetType_XML "$(sql_out 0 User::S)"
sql_task NoBind "{CM-Db}" "SELECT 1" ResultSetType_SingleRow
sql_task Out "{CM-Db}" "SELECT 1" "" \
    '<SQLTask:ParameterBinding SQLTask:ParameterName="0" SQLTask:DtsVariableName="User::S" SQLTask:ParameterDirection="Sideways"/>'
sql_task RoOut "{CM-Db}" "SELECT 1" "" "$(sql_param 0 System::PackageName Output)"
sql_package "$T/invalid.dtsx"
run_pkg "$T/invalid.dtsx" --validate --connection "Db=$LITE"
is "$RC" 1 "validation problems give exit code 1"
check "a missing connection manager is named with the task path" \
    has "$T/err" "\\Package\\Lost: connection manager '{CM-Missing}' is not in the package or the project"
check "the XML result type is refused" has "$T/err" "\\Package\\Xml: the XML result type is not supported"
check "missing result bindings are reported" \
    has "$T/err" "\\Package\\NoBind: the result type is single row but there is no result binding"
check "an unknown direction is refused" \
    has "$T/err" "\\Package\\Out: parameter binding '0': ParameterDirection is not Input, Output or ReturnValue"
check "an output into a read-only variable is refused" \
    has "$T/err" "\\Package\\RoOut: parameter binding '0': the output goes to 'System::PackageName', which is not a writable variable"

# SQLite's driver has no output parameters: a clear error, not a silent "".
sql_reset
sql_cm Db OLEDB "$OLEDB"
sql_var S 8 "unchanged"
sql_task NoOut "{CM-Db}" "SELECT 1 WHERE 1 = ?" "" "$(sql_param 0 User::S Output)"
sql_package "$T/noout.dtsx"
run_pkg "$T/noout.dtsx" --connection "Db=$LITE"
is "$RC" 1 "an output parameter the driver does not set fails the task"
check "saying the driver may not support output parameters" \
    has "$T/err" "may not support output parameters"
run_pkg "$T/bad.dtsx"
is "$RC" 1 "without an override, the stored OLE DB string is mapped to SQL Server's ODBC driver"
check "which is not installed here: validation says so" \
    has "$T/err" "\\Package\\Bad: connection manager 'Db' (its stored string, mapped to ODBC): the ODBC driver 'ODBC Driver 18 for SQL Server' is not installed"

# ---- bad connection strings ----
run_pkg "$T/bad.dtsx" --connection "Db=Driver={No Such Driver};Database=x"
is "$RC" 1 "an unknown ODBC driver fails validation"
check "naming the driver and the connection manager" \
    has "$T/err" "connection manager 'Db': the ODBC driver 'No Such Driver' is not installed"
run_pkg "$T/bad.dtsx" --connection "Db=DSN=nosuchdsn"
is "$RC" 1 "an unknown DSN fails the task"
check "the connect error names the connection manager and the driver manager's reason" \
    has "$T/err" "cannot connect with connection manager 'Db': [IM002]"
run_pkg "$T/bad.dtsx" --connection "Nope=Driver=SQLite3;Database=$DB"
is "$RC" 6 "--connection with an unknown name is a bad command line"
check "the message names it" has "$T/err" "there is no connection manager 'Nope'"
check "the connection string is not echoed" sh -c "! grep -q 'Database=' '$T/err'"

# ---- the CM.<Name>.ConnectionString parameter and a project .conmgr ----
mkdir -p "$T/proj"
cat >"$T/proj/Shared.conmgr" <<XML
<?xml version="1.0"?>
<DTS:ConnectionManager xmlns:DTS="www.microsoft.com/SqlServer/Dts"
  DTS:ObjectName="Shared" DTS:DTSID="{5A0E0000-0000-4000-8000-000000000001}"
  DTS:CreationName="ODBC">
  <DTS:ObjectData>
    <DTS:ConnectionManager DTS:ConnectionString="Driver=SQLite3;Database=$DB" />
  </DTS:ObjectData>
</DTS:ConnectionManager>
XML
cat >"$T/proj/query.sql" <<'SQL'
INSERT INTO t (id, name) VALUES (40, 'from a file')
SQL
sql_reset
sql_cm Db OLEDB "$OLEDB"
sql_cm File FILE "query.sql"
sql_var Stmt 8 "INSERT INTO t (id, name) VALUES (30, 'from a variable')"
sql_task ByGuid "{5A0E0000-0000-4000-8000-000000000001}:external" \
    "INSERT INTO t (id, name) VALUES (10, 'project')"
sql_task ByRef "Project.ConnectionManagers[Shared]" \
    "INSERT INTO t (id, name) VALUES (11, 'project ref')"
sql_task ByParam "{CM-Db}" "INSERT INTO t (id, name) VALUES (20, 'param')"
sql_task FromVar "{CM-Db}" "User::Stmt" "" "" 'SQLTask:SqlStmtSourceType="Variable"'
sql_task FromFile "{CM-Db}" "File" "" "" 'SQLTask:SqlStmtSourceType="FileConnection"'
sql_package "$T/proj/Project.dtsx"
printf '{"CM.Db.ConnectionString": "Driver=SQLite3;Database=%s"}\n' "$DB" \
    >"$T/params.json"
run_pkg "$T/proj/Project.dtsx" --project-dir "$T/proj" --params-file "$T/params.json"
is "$RC" 0 "a project .conmgr and the CM.Db.ConnectionString parameter work"
is "$(sqlite3 "$DB" 'SELECT group_concat(name, ",") FROM (SELECT name FROM t WHERE id >= 10 ORDER BY id)')" \
    "project,project ref,param,from a variable,from a file" \
    "every task ran on the right connection, with SQL from text, a variable and a file"
# A FILE manager with a Windows path: refused, and fixed by an override.
sql_reset
sql_cm Db OLEDB "$OLEDB"
sql_cm File FILE 'C:\etl\query.sql'
sql_task FromFile "{CM-Db}" "File" "" "" 'SQLTask:SqlStmtSourceType="FileConnection"'
sql_package "$T/win.dtsx"
run_pkg "$T/win.dtsx" --connection "Db=$LITE"
is "$RC" 1 "a SQL file with a Windows path fails validation"
check "saying how to give a Linux one" \
    has "$T/err" "the SQL file 'C:\\etl\\query.sql' of connection manager 'File' is a Windows path"
run_pkg "$T/win.dtsx" --connection "Db=$LITE" --connection "File=$T/proj/query.sql"
is "$RC" 0 "--connection gives a FILE manager its path"
is "$(sqlite3 "$DB" 'SELECT count(*) FROM t WHERE id = 40')" 2 "the file's statement ran"

run_pkg "$T/proj/Project.dtsx" --project-dir "$T/proj" \
    --param "CM.Nope.ConnectionString=x"
is "$RC" 6 "a CM parameter for an unknown manager is a bad command line"

# ---- the same through the master and a worker: the execution's parameter
# values carry CM.Db.ConnectionString ----
start_master
start_worker w1
"$WEIR" deploy "$T/proj" --folder t --project p >"$T/deploy.out" 2>&1
is "$?" 0 "the project deploys (Execute SQL tasks pass the master's validation)"
before=$(sqlite3 "$DB" 'SELECT count(*) FROM t WHERE id IN (10, 11, 20, 30, 40)')
id=$(submit Project "\"parameters\":{\"CM.Db.ConnectionString\":\"Driver=SQLite3;Database=$DB\"}")
wait_until 60 "all_final $id" || diag "execution $id did not finish"
is "$(exec_status "$id")" 7 "the execution succeeds on the worker"
is "$(sqlite3 "$DB" 'SELECT count(*) FROM t WHERE id IN (10, 11, 20, 30, 40)')" $((before + 5)) \
    "the worker ran every task again, the project .conmgr and the SQL file included"
stop_daemon "$WORKER_PID" worker
stop_daemon "$MASTER_PID" master

done_testing
