# df-db-lib.sh: the database components' scenarios, run by
# t251-df-db-sqlite.sh and t252-df-db-pg.sh (sourced after test-lib.sh,
# pg-lib.sh and sql-lib.sh).  `round KIND ODBC-STRING` creates the
# tables, runs the packages tests/fixtures/dataflow/db-*.dtsx (and edited
# copies) with `weir exec --connection Db=ODBC-STRING`, and checks the
# rows in the tables: OLE DB Source with a parameter and from a variable,
# full-cache Lookup with its no match output and its fail / ignore
# dispositions, OLE DB Command, OLE DB Destination with commit sizes,
# NULLs and refused rows redirected to an error output, ADO.NET and ODBC
# sources and destinations; bad SQL, a missing table and a wrong column
# mapping.

PKG=$SRC/tests/fixtures/dataflow

sqlite_sql() { sqlite3 -batch "$T/db.sqlite" "$1"; }

# db_sql SQL: runs SQL on the database of this round, rows as a|b.
db_sql() {
    if [ "$KIND" = sqlite ]; then sqlite_sql "$1"; else pg_sql "$1"; fi
}

setup_tables() {
    db_sql "CREATE TABLE orders (id integer, code varchar(10), qty integer);
INSERT INTO orders VALUES (1, 'A', 5);
INSERT INTO orders VALUES (2, 'B', 7);
INSERT INTO orders VALUES (3, 'Z', 1);
INSERT INTO orders VALUES (4, NULL, 2);
INSERT INTO orders VALUES (5, 'A', 3);
CREATE TABLE codes (code varchar(10), label varchar(20));
INSERT INTO codes VALUES ('A', 'Apples');
INSERT INTO codes VALUES ('B', 'Bananas');
INSERT INTO codes VALUES ('A', 'Again');
CREATE TABLE matched (id integer, code varchar(10), qty integer,
  label varchar(20));
CREATE TABLE unmatched (id integer, code varchar(10));
CREATE TABLE stock (code varchar(10), qty integer);
INSERT INTO stock VALUES ('A', 100);
INSERT INTO stock VALUES ('B', 100);
CREATE TABLE taken (id integer, code varchar(10));
CREATE TABLE failed (id integer, ErrorCode integer);
CREATE TABLE people (id integer, name varchar(20));
INSERT INTO people VALUES (1, 'Ann');
INSERT INTO people VALUES (2, NULL);
INSERT INTO people VALUES (3, 'Cid');
CREATE TABLE strict (id integer NOT NULL, name varchar(20) NOT NULL);
CREATE TABLE rejects (id integer, name varchar(20), code integer);
CREATE TABLE stock_copy (code varchar(10), qty integer);
CREATE TABLE longnames (id integer, name varchar(40));
INSERT INTO longnames VALUES (1, 'Al');
INSERT INTO longnames VALUES (2, 'Bartholomew');
INSERT INTO longnames VALUES (3, NULL);
INSERT INTO longnames VALUES (4, 'Åsa');
CREATE TABLE short_names (id integer, name varchar(40));
CREATE TABLE trunc_err (id integer, name varchar(40), code integer);
CREATE TABLE keep_src (id integer, name varchar(20), qty integer);
INSERT INTO keep_src VALUES (10, 'a', 1);
INSERT INTO keep_src VALUES (20, NULL, 2);
INSERT INTO keep_src VALUES (30, 'c', NULL);
INSERT INTO keep_src VALUES (40, NULL, NULL);
CREATE TABLE wide_src (id integer, big bigint, amt numeric(12,2));
INSERT INTO wide_src VALUES (1, 5, 12.9);
INSERT INTO wide_src VALUES (2, 3000000000, 7);
INSERT INTO wide_src VALUES (3, NULL, 70000);
INSERT INTO wide_src VALUES (4, -7, -1);
CREATE TABLE wide_dst (id integer, big integer, amt integer);
CREATE TABLE wide_err (id integer, big integer, code integer);
CREATE TABLE split_low (id integer, name varchar(20), qty integer);
CREATE TABLE split_high (id integer, name varchar(20), qty integer);" \
        >/dev/null
}

# lookup_modes: partial and no cache give the full cache's rows; no cache
# sees a reference row an OLE DB Command inserts earlier in the same flow,
# full cache does not; a changed SqlCommandParam is used.
lookup_modes() {
    # Matched commits each buffer: a fast load's open transaction would
    # hold SQLite's write lock against Unmatched.
    one='s/"AccessMode">3/"AccessMode">0/'
    for mode in 2 1; do
        db_sql "DELETE FROM matched; DELETE FROM unmatched" >/dev/null
        f=$(sub db-lookup.dtsx "s/\"CacheType\">0/\"CacheType\">$mode/; $one")
        run_pkg "$f" --connection "Db=$ODBC"
        is "$RC" 0 "$KIND: lookup with CacheType $mode succeeds"
        [ "$RC" = 0 ] || diag "$(tail -3 "$T/out")"
        is "$(db_sql 'SELECT id, code, qty, label FROM matched ORDER BY id' | tr '\n' ' ')" \
            "2|B|7|Bananas 5|A|3|Apples " \
            "$KIND: CacheType $mode: the full cache's matches"
        is "$(db_sql "SELECT id, coalesce(code, 'NULL') FROM unmatched ORDER BY id" | tr '\n' ' ')" \
            "3|Z 4|NULL " "$KIND: CacheType $mode: the full cache's misses"
    done
    check "$KIND: partial cache says what it queried" \
        has "$T/out" "3 reference queries, 0 rows answered from the cache"

    # MinId 0 adds order 1 (code A): answered from the partial cache.
    db_sql "DELETE FROM matched; DELETE FROM unmatched" >/dev/null
    f=$(sub db-lookup.dtsx "$one"'; s/"CacheType">0/"CacheType">1/;
        s/DataType="3">1</DataType="3">0</')
    run_pkg "$f" --connection "Db=$ODBC"
    is "$RC" 0 "$KIND: partial cache with a repeated key succeeds"
    is "$(db_sql 'SELECT id, label FROM matched ORDER BY id' | tr '\n' ' ')" \
        "1|Apples 2|Bananas 5|Apples " "$KIND: partial cache: cached matches copied"
    check "$KIND: the repeated key came from the cache" \
        has "$T/out" "3 reference queries, 1 rows answered from the cache"

    # No cache without a match and the default disposition fails.
    f=$(sub db-lookup.dtsx 's/"CacheType">0/"CacheType">2/;
        s/"NoMatchBehavior">1/"NoMatchBehavior">0/')
    run_pkg "$f" --connection "Db=$ODBC"
    is "$RC" 1 "$KIND: no cache: a row without a match fails the package"
    check "$KIND: ... naming the lookup" has "$T/out" "Codes"
    f=$(sub db-lookup.dtsx 's/"CacheType">0/"CacheType">2/;
        s/FROM codes/FROM nowhere/')
    run_pkg "$f" --connection "Db=$ODBC"
    is "$RC" 1 "$KIND: no cache on a missing table fails"
    check "$KIND: ... naming the query" has "$T/out" "FROM nowhere"

    # A changed SqlCommandParam, with [brackets], bound by ParameterMap.
    db_sql "DELETE FROM matched; DELETE FROM unmatched" >/dev/null
    f=$(sub db-lookup.dtsx "$one"'; s/"CacheType">0/"CacheType">2/;
        s|<property name="ConnectionType">|<property name="SqlCommandParam">SELECT [code], label FROM [codes] WHERE [code] = ? AND label = \x27Again\x27</property><property name="ParameterMap">#{Package\\Flow\\Orders.Outputs[OLE DB Source Output].Columns[code]};</property>&|')
    run_pkg "$f" --connection "Db=$ODBC"
    is "$RC" 0 "$KIND: a changed SqlCommandParam runs"
    [ "$RC" = 0 ] || diag "$(tail -3 "$T/out")"
    is "$(db_sql 'SELECT id, label FROM matched ORDER BY id' | tr '\n' ' ')" \
        "5|Again " "$KIND: ... its rows are the matches"

    # Rows inserted while the flow runs: no cache sees them.
    for mode in 2 0; do
        db_sql "DELETE FROM matched; DELETE FROM unmatched;
DELETE FROM codes WHERE label = 'Late'" >/dev/null
        f=$(sub db-lookup-live.dtsx "s/\"CacheType\">2/\"CacheType\">$mode/")
        run_pkg "$f" --connection "Db=$ODBC"
        is "$RC" 0 "$KIND: live lookup with CacheType $mode succeeds"
        [ "$RC" = 0 ] || diag "$(tail -3 "$T/out")"
        live[$mode]="$(db_sql 'SELECT id, label FROM matched ORDER BY id' | tr '\n' ' ')"
    done
    is "${live[2]}" "2|Bananas 3|Late 5|Apples " \
        "$KIND: no cache sees the row inserted during the run"
    is "${live[0]}" "2|Bananas 5|Apples " \
        "$KIND: full cache does not"
    db_sql "DELETE FROM codes WHERE label = 'Late';
DELETE FROM matched; DELETE FROM unmatched" >/dev/null
}

# source_truncation: a source value longer than its output column (wstr
# 3; 'Åsa' is three characters in four bytes) takes the column's
# truncation disposition.
source_truncation() {
    run_pkg "$PKG/db-source-trunc.dtsx" --connection "Db=$ODBC"
    is "$RC" 0 "$KIND: truncation redirected: the package succeeds"
    [ "$RC" = 0 ] || diag "$(tail -3 "$T/out")"
    is "$(db_sql "SELECT id, coalesce(name, 'NULL') FROM short_names ORDER BY id" | tr '\n' ' ')" \
        "1|Al 3|NULL 4|Åsa " "$KIND: the values that fit go on"
    is "$(db_sql 'SELECT id, name, code FROM trunc_err')" \
        "2|Bartholomew|-1071607675" \
        "$KIND: the long one goes to the error output whole, with its ErrorCode"

    db_sql "DELETE FROM short_names; DELETE FROM trunc_err" >/dev/null
    f=$(sub db-source-trunc.dtsx 's/truncationRowDisposition="RedirectRow"/truncationRowDisposition="IgnoreFailure"/')
    run_pkg "$f" --connection "Db=$ODBC"
    is "$RC" 0 "$KIND: truncation ignored: the package succeeds"
    is "$(db_sql 'SELECT id, name FROM short_names WHERE id = 2')" "2|Bar" \
        "$KIND: ... with the value cut to the column's length"
    is "$(db_sql 'SELECT count(*) FROM trunc_err')" 0 \
        "$KIND: ... and nothing redirected"

    db_sql "DELETE FROM short_names" >/dev/null
    f=$(sub db-source-trunc.dtsx 's/truncationRowDisposition="RedirectRow"/truncationRowDisposition="FailComponent"/')
    run_pkg "$f" --connection "Db=$ODBC"
    is "$RC" 1 "$KIND: truncation fails the component by default"
    check "$KIND: ... naming the column" has "$T/out" "'name'"
    check "$KIND: ... and the source" has "$T/out" "Src"
    db_sql "DELETE FROM short_names" >/dev/null
}

# source_range: a bigint out of the range of its i4 output column
# (redirected) and numerics out of a ui2 column's (ignored: NULL) take
# the column's error disposition instead of wrapping in the driver;
# the fraction of 12.9 is dropped.
source_range() {
    run_pkg "$PKG/db-source-range.dtsx" --connection "Db=$ODBC"
    is "$RC" 0 "$KIND: out of range redirected: the package succeeds"
    [ "$RC" = 0 ] || diag "$(tail -3 "$T/out")"
    is "$(db_sql "SELECT id, coalesce(big, -99), coalesce(amt, -99)
FROM wide_dst ORDER BY id" | tr '\n' ' ')" \
        "1|5|12 3|-99|-99 4|-7|-99 " \
        "$KIND: values in range go on, ignored ones are NULL"
    is "$(db_sql "SELECT id, coalesce(big, -99), code FROM wide_err")" \
        "2|-99|-1071607676" \
        "$KIND: 3000000000 goes to the error output with its ErrorCode"

    db_sql "DELETE FROM wide_dst; DELETE FROM wide_err" >/dev/null
    f=$(sub db-source-range.dtsx 's/errorRowDisposition="RedirectRow"/errorRowDisposition="IgnoreFailure"/')
    run_pkg "$f" --connection "Db=$ODBC"
    is "$RC" 0 "$KIND: out of range ignored: the package succeeds"
    is "$(db_sql "SELECT id, coalesce(big, -99) FROM wide_dst ORDER BY id" | tr '\n' ' ')" \
        "1|5 2|-99 3|-99 4|-7 " "$KIND: ... the value is NULL"

    db_sql "DELETE FROM wide_dst" >/dev/null
    f=$(sub db-source-range.dtsx 's/errorRowDisposition="RedirectRow"/errorRowDisposition="FailComponent"/')
    run_pkg "$f" --connection "Db=$ODBC"
    is "$RC" 1 "$KIND: out of range fails the component by default"
    check "$KIND: ... naming the column, the value and the type" \
        has "$T/out" "column 'big': the value 3000000000 does not fit DT_I4"
    db_sql "DELETE FROM wide_dst; DELETE FROM wide_err" >/dev/null
}

# fast_load_keep [LABEL]: FastLoadKeepNulls and FastLoadKeepIdentity
# false and true into a table with defaults and a column the database
# numbers; a row inserted afterwards without an id takes the next one
# after the kept ids (PostgreSQL's sequence was advanced).  Run with
# ODBC set to the fast path's string, then to one that takes the ODBC
# path.
fast_load_keep() {
    local K="$KIND${1:+ $1}"
    if [ "$KIND" = sqlite ]; then
        ident="id INTEGER PRIMARY KEY"
    else
        ident="id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    fi
    keep_run() {
        db_sql "DROP TABLE IF EXISTS keep_dst;
CREATE TABLE keep_dst ($ident, name varchar(20) DEFAULT 'unnamed',
  qty integer DEFAULT 7, note varchar(10));" >/dev/null
        f=$(sub db-keep.dtsx "$1")
        run_pkg "$f" --connection "Db=$ODBC"
        is "$RC" 0 "$K: fast load ($2) succeeds"
        [ "$RC" = 0 ] || diag "$(tail -3 "$T/out")"
        KEPT=$(db_sql "SELECT id, coalesce(name, 'NULL'), coalesce(qty, -1)
FROM keep_dst ORDER BY id" | tr '\n' ' ')
    }
    keep_run 's/x/x/' 'keep neither'
    is "$KEPT" \
        "1|a|1 2|unnamed|2 3|c|7 4|unnamed|7 " \
        "$K: NULLs take the defaults, the database numbers the rows in order"
    keep_run 's/"FastLoadKeepIdentity">false/"FastLoadKeepIdentity">true/' \
        'keep identity'
    is "$KEPT" \
        "10|a|1 20|unnamed|2 30|c|7 40|unnamed|7 " \
        "$K: KeepIdentity: the input's ids are kept"
    db_sql "INSERT INTO keep_dst (name) VALUES ('next')" >/dev/null
    is "$(db_sql "SELECT id FROM keep_dst WHERE name = 'next'")" 41 \
        "$K: KeepIdentity: the next id the database gives follows them"
    keep_run 's/"FastLoadKeepNulls">false/"FastLoadKeepNulls">true/' \
        'keep nulls'
    is "$KEPT" \
        "1|a|1 2|NULL|2 3|c|-1 4|NULL|-1 " \
        "$K: KeepNulls: NULLs are inserted"
    keep_run 's/"AccessMode">3/"AccessMode">0/' 'row by row'
    is "$KEPT" \
        "10|a|1 20|NULL|2 30|c|-1 40|NULL|-1 " \
        "$K: without fast load, values go in as they come"
    db_sql "INSERT INTO keep_dst (name) VALUES ('next')" >/dev/null
    is "$(db_sql "SELECT id FROM keep_dst WHERE name = 'next'")" 41 \
        "$K: ... and the next id the database gives follows them"
}

# split_two: a Conditional Split feeds two fast-load destinations (one
# transaction each, committed at the end) on the same database: on
# SQLite the second used to wait for the first's write lock and fail.
split_two() {
    run_pkg "$PKG/db-split-two.dtsx" --connection "Db=$ODBC"
    is "$RC" 0 "$KIND: two fast loads into one database succeed"
    [ "$RC" = 0 ] || diag "$(tail -3 "$T/out")"
    is "$(db_sql "SELECT id, coalesce(name, 'NULL'), coalesce(qty, -1)
FROM split_low ORDER BY id" | tr '\n' ' ')" "10|a|1 20|NULL|2 " \
        "$KIND: ... the split's first output in its table"
    is "$(db_sql "SELECT id, coalesce(name, 'NULL'), coalesce(qty, -1)
FROM split_high ORDER BY id" | tr '\n' ' ')" "30|c|-1 40|NULL|-1 " \
        "$KIND: ... the default output in the other"
}

# validate_external: weir exec --validate connects and names a missing
# table or column with its component; --no-validate-external and
# ValidateExternalMetadata false do not.
validate_external() {
    run_pkg "$PKG/db-reject.dtsx" --validate --connection "Db=$ODBC"
    is "$RC" 0 "$KIND: --validate: the tables exist, the package validates"
    [ "$RC" = 0 ] || diag "$(grep -i error "$T/out" | head -3)"
    f=$(sub db-reject.dtsx 's/>strict</>nosuch</')
    run_pkg "$f" --validate --connection "Db=$ODBC"
    is "$RC" 1 "$KIND: --validate: a missing destination table fails"
    check "$KIND: ... naming the table and the component" \
        grep -q "component 'Strict': table 'nosuch' cannot be read" "$T/out"
    run_pkg "$f" --validate --no-validate-external --connection "Db=$ODBC"
    is "$RC" 0 "$KIND: --no-validate-external does not connect"
    f=$(sub db-reject.dtsx 's/ExternalColumns\[name\]" dataType="wstr" length="20" name="name"/ExternalColumns[name]" dataType="wstr" length="20" name="nom"/')
    run_pkg "$f" --validate --connection "Db=$ODBC"
    is "$RC" 1 "$KIND: --validate: a column the table lacks fails"
    check "$KIND: ... naming it" has "$T/out" "has no column 'nom'"
    f=$(sub db-adonet-odbc.dtsx 's/>stock</>nostock</')
    run_pkg "$f" --validate --connection "Db=$ODBC"
    is "$RC" 1 "$KIND: --validate: a missing source table fails"
    check "$KIND: ... naming it" has "$T/out" "table 'nostock'"
    f=$(sub db-adonet-odbc.dtsx 's/>stock</>nostock</;
        s|<properties>|<properties><property name="ValidateExternalMetadata">false</property>|')
    run_pkg "$f" --validate --connection "Db=$ODBC"
    is "$RC" 0 "$KIND: ValidateExternalMetadata false is not checked"
}

# sub FILE SED-EXPRESSION: a copy of package FILE, edited.
sub() { sed -e "$2" "$PKG/$1" >"$T/$1"; echo "$T/$1"; }

# round KIND ODBC-STRING [OTHER-STRING]: the other string reaches the
# same database without naming its driver as weir knows it (a DSN), so
# destinations take the ODBC path.
round() {
    KIND=$1 ODBC=$2
    setup_tables

    # Lookup: no match output; rows with id > MinId (1).
    run_pkg "$PKG/db-lookup.dtsx" --connection "Db=$ODBC"
    is "$RC" 0 "$KIND: lookup package succeeds"
    [ "$RC" = 0 ] || diag "$(tail -3 "$T/err")"
    is "$(db_sql 'SELECT id, code, qty, label FROM matched ORDER BY id' | tr '\n' ' ')" \
        "2|B|7|Bananas 5|A|3|Apples " \
        "$KIND: matched rows carry the first reference row's label"
    is "$(db_sql "SELECT id, coalesce(code, 'NULL') FROM unmatched ORDER BY id" | tr '\n' ' ')" \
        "3|Z 4|NULL " "$KIND: no match output: an unknown code and a NULL code"
    check "$KIND: the duplicate reference key is reported" \
        has "$T/out" "duplicate keys"

    lookup_modes
    source_truncation
    source_range
    fast_load_keep
    if [ -n "${3:-}" ]; then
        ODBC=$3 fast_load_keep "over ODBC"
    fi
    split_two
    validate_external

    # NoMatchBehavior 0 with the match output's disposition.
    db_sql "DELETE FROM matched; DELETE FROM unmatched" >/dev/null
    f=$(sub db-lookup.dtsx 's/"NoMatchBehavior">1/"NoMatchBehavior">0/')
    run_pkg "$f" --connection "Db=$ODBC"
    is "$RC" 1 "$KIND: a lookup without a match fails the package by default"
    check "$KIND: the error names the lookup" has "$T/out" "Codes"
    db_sql "DELETE FROM matched" >/dev/null
    f=$(sub db-lookup.dtsx 's/"NoMatchBehavior">1/"NoMatchBehavior">0/;
        s/\(name="Lookup Match Output"[^>]*errorRowDisposition=\)"FailComponent"/\1"IgnoreFailure"/')
    run_pkg "$f" --connection "Db=$ODBC"
    is "$RC" 0 "$KIND: ignore failure: the package succeeds"
    is "$(db_sql "SELECT id, coalesce(label, 'NULL') FROM matched ORDER BY id" | tr '\n' ' ')" \
        "2|Bananas 3|NULL 4|NULL 5|Apples " \
        "$KIND: ignore failure: unmatched rows go on with a NULL label"

    # Bad reference SQL: the error names the component and the SQL.
    f=$(sub db-lookup.dtsx 's/SELECT code, label FROM codes/SELECT code, label FROM nowhere/')
    run_pkg "$f" --connection "Db=$ODBC"
    is "$RC" 1 "$KIND: a lookup on a missing table fails"
    check "$KIND: ... naming the component and the query" \
        has "$T/out" "SELECT code, label FROM nowhere"

    # OLE DB Command: one UPDATE per row; rows go on to the output.
    run_pkg "$PKG/db-command.dtsx" --connection "Db=$ODBC"
    is "$RC" 0 "$KIND: command package succeeds"
    [ "$RC" = 0 ] || diag "$(tail -3 "$T/err")"
    is "$(db_sql 'SELECT code, qty FROM stock ORDER BY code' | tr '\n' ' ')" \
        "A|92 B|93 " "$KIND: stock decreased once per order row"
    is "$(db_sql 'SELECT count(*) FROM taken')" 5 \
        "$KIND: every row went on to the command's output"

    # Redirected refused rows: NOT NULL refuses row 2.
    run_pkg "$PKG/db-reject.dtsx" --connection "Db=$ODBC"
    is "$RC" 0 "$KIND: reject package succeeds"
    [ "$RC" = 0 ] || diag "$(tail -3 "$T/err")"
    is "$(db_sql 'SELECT id, name FROM strict ORDER BY id' | tr '\n' ' ')" \
        "1|Ann 3|Cid " "$KIND: the good rows are loaded"
    is "$(db_sql "SELECT id, coalesce(name, 'NULL'), code FROM rejects")" \
        "2|NULL|-1071636471" "$KIND: the refused row is redirected with its ErrorCode"

    # Failing it instead: nothing of the buffer stays.
    db_sql "DELETE FROM strict; DELETE FROM rejects" >/dev/null
    f=$(sub db-reject.dtsx 's/errorRowDisposition="RedirectRow"/errorRowDisposition="FailComponent"/')
    run_pkg "$f" --connection "Db=$ODBC"
    is "$RC" 1 "$KIND: a refused row fails the package by default"
    check "$KIND: ... naming the destination and its table" \
        has "$T/out" "'Strict'"
    is "$(db_sql 'SELECT count(*) FROM strict')" 0 \
        "$KIND: the failed load left no rows (one transaction)"

    # A wrong mapping: an external column the table does not have.
    f=$(sub db-reject.dtsx 's/ExternalColumns\[name\]" dataType="wstr" length="20" name="name"/ExternalColumns[name]" dataType="wstr" length="20" name="nom"/')
    run_pkg "$f" --connection "Db=$ODBC"
    is "$RC" 1 "$KIND: a destination column the table lacks fails"
    check "$KIND: ... naming it" has "$T/out" "nom"

    # ADO.NET Source -> ODBC Destination, ODBC Source -> ADO.NET
    # Destination (after the command package: stock is A 92, B 93).
    db_sql "DELETE FROM taken" >/dev/null
    run_pkg "$PKG/db-adonet-odbc.dtsx" --connection "Db=$ODBC"
    is "$RC" 0 "$KIND: ADO.NET and ODBC package succeeds"
    [ "$RC" = 0 ] || diag "$(tail -3 "$T/err")"
    is "$(db_sql 'SELECT id, code FROM taken ORDER BY id' | tr '\n' ' ')" \
        "1|A 2|B 5|A " "$KIND: ADO.NET Source's SQL command into the ODBC Destination"
    is "$(db_sql 'SELECT code, qty FROM stock_copy ORDER BY code' | tr '\n' ' ')" \
        "A|92 B|93 " "$KIND: ODBC Source's table into the ADO.NET Destination"

    # Bad source SQL.
    f=$(sub db-reject.dtsx 's/>SELECT id, name FROM people ORDER BY id</>SELEC 1</')
    run_pkg "$f" --connection "Db=$ODBC"
    is "$RC" 1 "$KIND: bad source SQL fails"
    check "$KIND: ... naming the component and the SQL" \
        has "$T/out" "SELEC 1"
}

