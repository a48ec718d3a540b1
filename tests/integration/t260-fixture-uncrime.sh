#!/bin/bash
# andreyqc-load-uncrime: a Foreach Loop (file enumerator, folder from a
# project parameter through a property expression) maps each file name
# into a variable; the flat file connection manager's ConnectionString is
# an expression over it; a Derived Column tags every row with the file
# name; OLE DB Destination (fast load) into PostgreSQL (a server started
# here). The rows are checked against the six CSV files with counts and
# values computed independently (awk over the files, psql).
# The variable the loop maps into has EvaluateAsExpression="True", which
# hides the mapped value (as in SSIS): the package as written loads the
# expression's one file once per pass; a copy with the expression turned
# off loads each file, 7,802 rows.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/pg-lib.sh"
. "$(dirname "$0")/sql-lib.sh"

FX=${WEIR_DTSX_FIXTURES:-$SRC/../shared/fixtures/dtsx}
if ! pg_available; then
    echo "1..0 # SKIP PostgreSQL or its ODBC driver (odbc-postgresql) is not installed"
    finish
    exit 0
fi
if [ ! -d "$FX" ]; then
    echo "1..0 # SKIP the shared fixtures ($FX) are not here"
    finish
    exit 0
fi
pg_start
ok "PostgreSQL started on port $PG_PORT"

UNC=$FX/andreyqc-load-uncrime
DIR=$UNC/CrimeStat.Sources/CrimeStat.Source.UNCrime/ConvertedToCSV
cols='FileName varchar(255), Region varchar(255), SubRegion varchar(255),
  Country varchar(255), Count varchar(255), Year varchar(255),
  Rate varchar(255)'
pg_sql "CREATE SCHEMA staging; CREATE TABLE staging.UNCrime_untyped ($cols,
  sysETLrunId int, sysCreatedAt timestamp DEFAULT now(),
  sysChangedAt timestamp, sysCreatedBy int, sysChangedBy int)" >/dev/null
pg_sql "INSERT INTO staging.UNCrime_untyped (FileName) VALUES ('stale')"
# The Execute SQL task is T-SQL ("TRUNCATE TABLE [staging].[...]"): a
# copy of the project folder gets the brackets removed.
cp -r "$UNC" "$T/unc"
sed -i 's/TRUNCATE TABLE \[staging\]\.\[UNCrime_untyped\]/TRUNCATE TABLE staging.UNCrime_untyped/' \
    "$T/unc/Staging_Load_UNCrime.dtsx"
# The first run is the package as it is.  currentUNCrimeFileName has
# EvaluateAsExpression="True": SSIS (and weir) return the expression's
# value on every read, so the loop's mapping of the current file into it
# has no effect and every pass reads the expression's file, burglary.csv,
# which is a Windows path here and so is given with --connection.
run_pkg "$T/unc/Staging_Load_UNCrime.dtsx" \
    --connection "CrimeStatDWH=$PG_ODBC" \
    --connection "FFC_UNCrime=$DIR/burglary.csv" \
    --param "CrimeStatETLWorkingFolder=$UNC/CrimeStat.Sources"
is "$RC" 0 "as written: the package succeeds"
[ "$RC" = 0 ] || diag "$(tail -5 "$T/err")"
nfiles=$(ls "$DIR" | wc -l)
f="$UNC/CrimeStat.Sources\\CrimeStat.Source.UNCrime\\ConvertedToCSV\\burglary.csv"
is "$(pg_sql 'SELECT FileName, count(*) FROM staging.UNCrime_untyped GROUP BY FileName')" \
    "$f|$(awk -v n="$nfiles" 'END { print (NR - 1) * n }' "$DIR/burglary.csv")" \
    "as written: burglary.csv once per file in the folder, the stale row truncated"

# The second run is the author's intent: a copy of the package where the
# variable is a plain one, so that each pass reads the file the loop maps
# into it, through the flat file connection's property expression.
sed -i 's/DTS:EvaluateAsExpression="True"/DTS:EvaluateAsExpression="False"/' \
    "$T/unc/Staging_Load_UNCrime.dtsx"
run_pkg "$T/unc/Staging_Load_UNCrime.dtsx" \
    --connection "CrimeStatDWH=$PG_ODBC" \
    --param "CrimeStatETLWorkingFolder=$UNC/CrimeStat.Sources"
is "$RC" 0 "loop variable: the package succeeds"
[ "$RC" = 0 ] || diag "$(tail -5 "$T/err")"
# Rows per file, from the files: the header line is not a row.
want=$(for c in "$DIR"/*; do
    echo "$c|$(awk 'END { print NR - 1 }' "$c")"
done | sort)
is "$(pg_sql 'SELECT FileName, count(*) FROM staging.UNCrime_untyped GROUP BY FileName' | sort)" \
    "$want" "loop variable: each file's rows tagged with its full Linux path"
is "$(pg_sql 'SELECT count(*) FROM staging.UNCrime_untyped')" \
    "$(awk 'FNR > 1 { n++ } END { print n }' "$DIR"/*)" \
    "loop variable: one row per data line of the six files, nothing else"

# Columns are mapped by name to the table (Sub Region -> SubRegion).
is "$(pg_sql "SELECT Region, SubRegion, Count, Rate, Year FROM staging.UNCrime_untyped WHERE FileName = '$DIR/burglary.csv' AND Country = 'Mauritius' AND Year = '2003'")" \
    "$(awk -F, '$3 == "Mauritius" && $6 == "2003" { print $1 "|" $2 "|" $4 "|" $5 "|" $6 }' "$DIR/burglary.csv")" \
    "loop variable: a burglary row, column for column"
# serious_assault.csv puts Year before Rate although its header says so:
# the flat file's columns are positional, as in SSIS, so its years land
# in Rate.  A quoted count keeps its comma and its spaces.
is "$(pg_sql "SELECT Country || '|' || Count || '|' || Rate || '|' || Year FROM staging.UNCrime_untyped WHERE FileName = '$DIR/serious_assault.csv' AND Country = 'Uganda' AND Rate = '2003'")" \
    "$(awk -F'"' '/^Africa,Eastern Africa,Uganda,".*",2003,/ { split($1, a, ","); split($3, b, ","); print a[3] "|" $2 "|" b[2] "|" b[3] }' "$DIR/serious_assault.csv")" \
    "loop variable: a quoted count with a comma and spaces, fields by position"

pg_stop
done_testing
