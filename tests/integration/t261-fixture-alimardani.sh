#!/bin/bash
# alimardani-import-csv (ImportCSV.dtsx) against PostgreSQL (a server
# started here): Execute SQL with a single-row result into User::RowCount,
# expression-and-constraint precedence constraints OR-ed into a Foreach
# file loop (no DTS:LogicalAnd), a Flat File -> OLE DB Destination data
# flow (row by row) per *.csv file, and a project connection manager whose
# ServerName and InitialCatalog are property expressions over project
# parameters.  The rows are checked against the CSV with awk.
#
# The File System Task that would move each file to $Project::ProcessedFolder
# is disabled in the package (DTS:Disabled="True"): as in SSIS it does not
# run, and the input file stays where it is.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/pg-lib.sh"
. "$(dirname "$0")/sql-lib.sh"

FX=${WEIR_DTSX_FIXTURES:-$SRC/../shared/fixtures/dtsx}
if ! pg_available; then
    echo "1..0 # SKIP PostgreSQL or its ODBC driver (odbc-postgresql) is not installed"
    finish
    exit 0
fi
if [ ! -d "$FX/alimardani-import-csv" ]; then
    echo "1..0 # SKIP the shared fixtures ($FX) are not here"
    finish
    exit 0
fi
pg_start
ok "PostgreSQL started on port $PG_PORT"

ALI=$FX/alimardani-import-csv/src
# The input is moved by SSIS designs like this one: work on a copy.
mkdir -p "$T/in" "$T/processed"
cp "$ALI/Data/Products.csv" "$T/in/"
csv=$T/in/Products.csv
# Ten VARCHAR(50) columns named as in the CSV header.
pg_sql "CREATE SCHEMA dbo; CREATE TABLE dbo.ImportProducts ($(head -1 "$csv" |
    tr -d '\r' | sed 's/,/ varchar(50), /g; s/$/ varchar(50)/'))" >/dev/null
# The two Execute SQL statements are T-SQL ([dbo].[ImportProducts]): a copy
# of the project folder gets the brackets removed.
mkdir "$T/proj"
cp "$ALI/FirstSample/"* "$T/proj/"
sed -i 's/\[dbo\]\.\[ImportProducts\]/dbo.ImportProducts/g' \
    "$T/proj/ImportCSV.dtsx"
ENUM='\Package\Foreach Loop Over CSV Files.ForEachEnumerator.Properties[Directory]'
# AdvWrk17 is a project connection manager whose ServerName and
# InitialCatalog follow $Project::SourceServer and $Project::SourceDB over
# an OLE DB string for SQL Server: --connection replaces it (and wins over
# the expressions); the parameters are still given, as a deployment would.
run_ali() {
    run_pkg "$T/proj/ImportCSV.dtsx" \
        --connection "AdvWrk17=$PG_ODBC" \
        --param SourceServer=127.0.0.1 --param SourceDB=weirtest \
        --param "ProcessedFolder=$T/processed" \
        --set "\\Package.Variables[User::FileNamePath].Properties[Value];$csv" \
        --param "$ENUM=$T/in"
}
# ran TASK: true when the last run executed TASK (its OnPreExecute).
ran() { grep -q "OnPreExecute  *\\\\Package\\\\$1 " "$T/out"; }
want_count=$(awk 'NR > 1 && NF { n++ } END { print n }' "$csv")
want_sum=$(awk -F, 'NR > 1 && NF { s += $1; p += $6; u += $7 }
    END { print s "|" p "|" u }' "$csv")
check_rows() {
    is "$(pg_sql 'SELECT count(*) FROM dbo.ImportProducts')" "$want_count" \
        "$1: one row per data line of Products.csv ($want_count)"
    is "$(pg_sql 'SELECT sum(ProductID::int), sum(UnitPrice::numeric),
        sum(UnitsInStock::int) FROM dbo.ImportProducts')" "$want_sum" \
        "$1: sums of ProductID, UnitPrice and UnitsInStock agree with the file"
    is "$(pg_sql "SELECT ProductName, QuantityPerUnit, Discontinued
        FROM dbo.ImportProducts WHERE ProductID = '2'")" \
        "$(awk -F, '$1 == "2" { print $2 "|" $5 "|" $10 }' "$csv")" \
        "$1: product 2's row as in the file"
    is "$(pg_sql "SELECT count(*) FROM dbo.ImportProducts
        WHERE ProductID = '1'")" 1 "$1: no row twice"
}

run_ali
is "$RC" 0 "first run: the package succeeds"
[ "$RC" = 0 ] || diag "$(tail -5 "$T/err")"
check "first run: the table was empty: Truncate Table does not run" \
    eval '! ran "Truncate Table"'
check "first run: the loop imports the file" \
    ran "Foreach Loop Over CSV Files\\\\Importing the Products"
is "$(grep -c 'OnPreExecute  *\\Package\\Foreach Loop Over CSV Files\\Importing the Products ' "$T/out")" \
    1 "first run: one iteration (one *.csv file)"
check_rows "first run"
# The File System Task (MoveFile to $Project::ProcessedFolder) is disabled.
check "first run: the disabled File System Task does not run" \
    eval '! ran "Foreach Loop Over CSV Files\\\\File System Task"'
check "the input file stays in place, nothing in the processed folder" \
    eval '[ -f "$csv" ] && [ -z "$(ls -A "$T/processed")" ]'

# Second run: RowCount is 77, so Truncate Table runs first; the loop still
# runs once (the two constraints into it are OR-ed).
run_ali
is "$RC" 0 "second run: the package succeeds"
[ "$RC" = 0 ] || diag "$(tail -5 "$T/err")"
check "second run: Truncate Table runs" ran "Truncate Table"
is "$(grep -c 'OnPreExecute  *\\Package\\Foreach Loop Over CSV Files\\Importing the Products ' "$T/out")" \
    1 "second run: the loop imports the file once, after the truncate"
check_rows "second run"

# A third run with no *.csv file: the table is truncated and stays empty.
mv "$csv" "$T/Products.txt"
run_ali
is "$RC" 0 "no input file: the package succeeds"
is "$(pg_sql 'SELECT count(*) FROM dbo.ImportProducts')" 0 \
    "no input file: the table was truncated and nothing imported"

pg_stop
done_testing
