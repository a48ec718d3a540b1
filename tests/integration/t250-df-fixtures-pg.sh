#!/bin/bash
# Real packages with data flows that load PostgreSQL (a server started
# here), run with `weir exec --connection` pointing their connection
# managers at it; the rows in the tables are checked against the input
# files, with counts and values computed independently (awk over the
# files, psql).
#   bartekr-70-flatfile-to-table: Flat File -> OLE DB Destination (fast
#     load: COPY), then Execute SQL updates; the author's expected rows.
#   andreyqc-load-countries: quoted UTF-8 CSV, a project connection
#     manager fed by a project parameter, 249 rows with non-ASCII text.
#   packt-cascading-lookup: UTF-16 file, two cascaded full-cache Lookups
#     (no match output; fail on no match), Union All; 19,905 rows.
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

# ---- bartekr-70-flatfile-to-table ----
# The DDL is the fixture's (T-SQL brackets become PostgreSQL quotes).
B70=$FX/bartekr-70-flatfile-to-table
pg_sql "$(sed -e '1s/^\xEF\xBB\xBF//' -e 's/\[\([^]]*\)\]/\1/g' \
    "$B70/ssisUnitLearningDB/Schemas/stg.sql")" >/dev/null
pg_sql "$(sed -e '1s/^\xEF\xBB\xBF//' -e 's/\[\([^]]*\)\]/\1/g' \
    "$B70/ssisUnitLearningDB/Tables/stg.FileValues.sql")" >/dev/null
pg_sql "INSERT INTO stg.FileValues VALUES ('stale', 1)"
# Values.txt has LF line endings where the package declares CR LF: the
# file is used as it is.
run_pkg "$B70/ssisUnitLearning/70_IntegrationTest.dtsx" \
    --connection "ssisUnitLearningDB=$PG_ODBC" \
    --connection "FF_Values_txt=$B70/Assets/Files/txt/Values.txt"
is "$RC" 0 "bartekr-70: the package succeeds"
[ "$RC" = 0 ] || diag "$(tail -5 "$T/err")"
is "$(pg_sql 'SELECT name, value FROM stg.FileValues ORDER BY name' | tr '\n' ' ')" \
    "Name1|34 Name2|54 Name3|74 Name4|94 Name5|114 " \
    "bartekr-70: (value + 7) * 2 for the five rows of the file, the stale row truncated"
want=$(awk -F';' 'NR > 1 { s += ($2 + 7) * 2 } END { print NR - 1 "|" s }' \
    "$B70/Assets/Files/txt/Values.txt")
is "$(pg_sql 'SELECT count(*), sum(value) FROM stg.FileValues')" "$want" \
    "bartekr-70: count and sum agree with the file"
run_pkg "$B70/ssisUnitLearning/70_IntegrationTest.dtsx" \
    --connection "ssisUnitLearningDB=$PG_ODBC" \
    --connection "FF_Values_txt=$B70/Assets/Files/txt/Values.txt" \
    --param Threshold=1
is "$(pg_sql 'SELECT sum(value) FROM stg.FileValues')" \
    "$(awk -F';' 'NR > 1 { s += ($2 + 7) * 5 } END { print s }' \
        "$B70/Assets/Files/txt/Values.txt")" \
    "bartekr-70: Threshold 1 multiplies by 5"

# ---- andreyqc-load-countries ----
ACO=$FX/andreyqc-load-countries
cols='"name" varchar(255), "alpha-2" varchar(255), "alpha-3" varchar(255),
  "country-code" varchar(255), "iso_3166-2" varchar(255),
  "region" varchar(255), "sub-region" varchar(255),
  "intermediate-region" varchar(255), "region-code" varchar(255),
  "sub-region-code" varchar(255), "intermediate-region-code" varchar(255)'
pg_sql "CREATE SCHEMA staging; CREATE TABLE staging.Country_untyped ($cols,
  sysETLrunId int, sysCreatedAt timestamp DEFAULT now(),
  sysChangedAt timestamp, sysCreatedBy int, sysChangedBy int)" >/dev/null
# Both connection strings come from project parameters through property
# expressions; the flat file's is a Windows path (backslashes), so both
# are overridden.
csv=$ACO/CrimeStat.Sources/CrimeStat.Source.Countries/ISOcountries.csv
# The package's Execute SQL task is T-SQL ("TRUNCATE TABLE [staging].[...]"):
# a copy of the project folder gets the brackets removed.
cp -r "$ACO" "$T/aco"
sed -i 's/TRUNCATE TABLE \[staging\]\.\[Country_untyped\]/TRUNCATE TABLE staging.Country_untyped/' \
    "$T/aco/Staging_Load_Countries.dtsx"
run_pkg "$T/aco/Staging_Load_Countries.dtsx" \
    --connection "FFC_ISOCountries=$csv" \
    --connection "CrimeStatDWH=$PG_ODBC"
is "$RC" 0 "andreyqc-load-countries: the package succeeds"
[ "$RC" = 0 ] || diag "$(tail -5 "$T/err")"
# 250 lines, no final newline: a header and 249 rows.
is "$(pg_sql 'SELECT count(*) FROM staging.Country_untyped')" \
    "$(awk 'END { print NR - 1 }' "$csv")" \
    "andreyqc-load-countries: one row per data line of the file"
is "$(pg_sql "SELECT name, \"alpha-3\", \"country-code\", region FROM staging.Country_untyped WHERE \"alpha-2\" = 'AX'")" \
    "$(awk -F, '$2 == "AX" { print $1 "|" $3 "|" $4 "|" $6 }' "$csv")" \
    "andreyqc-load-countries: Åland's row, non-ASCII name and leading zeros intact"
is "$(pg_sql "SELECT coalesce(\"intermediate-region\", 'NULL') || '|' || coalesce(\"intermediate-region-code\", 'NULL') FROM staging.Country_untyped WHERE \"alpha-2\" = 'AF'")" \
    "|" "andreyqc-load-countries: empty quoted fields are empty strings, not NULL"
is "$(pg_sql "SELECT name FROM staging.Country_untyped WHERE \"alpha-2\" = 'KR'")" \
    "$(grep ',KR,' "$csv" | cut -d'"' -f2)" \
    "andreyqc-load-countries: a quoted name with a comma"

# ---- packt-cascading-lookup ----
# AdventureWorks is not here: the test seeds Person.Person with the
# clients written "Last, First" (split at the first ", ") and
# Purchasing.Vendor with the others, so every client matches one lookup;
# the T-SQL of the two reference queries (+, N'', NVARCHAR, BIT) is
# rewritten for PostgreSQL in a copy of the package.
PCL=$FX/packt-cascading-lookup/Chapter06
iconv -f UTF-16 -t UTF-8 "$PCL/Files/Clients.csv" | tr -d '\r' |
    sed -e '1s/^\xEF\xBB\xBF//' | awk 'NR > 1' >"$T/clients.txt"
awk -v OFS='\t' 'index($0, ", ") { i = index($0, ", ");
    print NR, substr($0, 1, i - 1), substr($0, i + 2) }' "$T/clients.txt" \
    >"$T/person.tsv"
awk -v OFS='\t' '!index($0, ", ") { print NR, $0 }' "$T/clients.txt" \
    >"$T/vendor.tsv"
pg_sql "CREATE SCHEMA Person; CREATE SCHEMA Purchasing; CREATE SCHEMA dbo;
CREATE TABLE Person.Person (BusinessEntityID int, LastName varchar(100),
  FirstName varchar(100), MiddleName varchar(100));
CREATE TABLE Purchasing.Vendor (BusinessEntityID int, Name varchar(100));
CREATE TABLE dbo.ResolvedClient (ClientName varchar(256),
  BusinessEntityID int, IsPerson boolean)" >/dev/null
pg_psql weirtest -q -c "\\copy Person.Person (BusinessEntityID, LastName, FirstName) FROM '$T/person.tsv'"
pg_psql weirtest -q -c "\\copy Purchasing.Vendor FROM '$T/vendor.tsv'"
sed -e "s/ + COALESCE(N' ' + Person.MiddleName, N'') + N', ' + / || COALESCE(' ' || Person.MiddleName, '') || ', ' || /" \
    -e 's/AS NVARCHAR(256)/AS VARCHAR(256)/' \
    -e 's/CAST(1 AS BIT)/true/; s/CAST(0 AS BIT)/false/' \
    "$PCL/Solution/AdventureWorksETL/CascadingLookup.dtsx" >"$T/CascadingLookup.dtsx"
cp "$PCL/Solution/AdventureWorksETL/Project.params" "$T/"
run_pkg "$T/CascadingLookup.dtsx" \
    --connection "cmgr_SourceFile=$PCL/Files/Clients.csv" \
    --connection "cmgr_Reference=$PG_ODBC"
is "$RC" 0 "packt-cascading-lookup: the package succeeds"
[ "$RC" = 0 ] || diag "$(tail -5 "$T/err")"
is "$(pg_sql 'SELECT IsPerson, count(*) FROM dbo.ResolvedClient GROUP BY IsPerson ORDER BY 1' | tr '\n' ' ')" \
    "f|$(wc -l <"$T/vendor.tsv") t|$(wc -l <"$T/person.tsv") " \
    "packt-cascading-lookup: persons found by the first lookup, the others by the second"
is "$(pg_sql "SELECT count(*) FROM dbo.ResolvedClient r JOIN Person.Person p ON p.BusinessEntityID = r.BusinessEntityID AND r.IsPerson AND r.ClientName = p.LastName || ', ' || p.FirstName")" \
    "$(wc -l <"$T/person.tsv")" \
    "packt-cascading-lookup: each person row carries its own BusinessEntityID"
is "$(pg_sql "SELECT BusinessEntityID, IsPerson FROM dbo.ResolvedClient WHERE ClientName = 'Anderson''s Custom Bikes'")" \
    "$(awk '$0 == "Anderson'"'"'s Custom Bikes" { print NR "|f" }' "$T/clients.txt")" \
    "packt-cascading-lookup: a company with a quote in its name"

pg_stop
done_testing
