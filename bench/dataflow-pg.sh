#!/bin/bash
# bench/dataflow-pg: a data flow loading a generated CSV into PostgreSQL
# (Flat File Source -> OLE DB Destination, fast load, which weir runs as
# COPY through libpq) beside `psql \copy` of the same file into the same
# table, in the same run, on a throwaway server started here.  Prints
# rows/s and MB/s of both and weir's ratio to psql.
#
# usage: bench/dataflow-pg.sh [ROWS]   (default 2,000,000)
set -eu
cd "$(dirname "$0")/.."
ROWS=${1:-2000000}
. scripts/deps.sh
deps_install postgresql odbc-postgresql
[ -d build-release ] || meson setup build-release --buildtype=release \
    -Dtests=false >/dev/null
ninja -C build-release >/dev/null
WEIR=$PWD/build-release/src/cli/weir
# The tests' throwaway-server helpers (pg_start, pg_sql, pg_stop).
. tests/integration/test-lib.sh
. tests/integration/pg-lib.sh
trap 'pg_stop; finish' EXIT
pg_start

csv=$T/rows.csv
awk -v n="$ROWS" 'BEGIN {
    print "id,name,amount,day"
    for (i = 1; i <= n; i++)
        printf "%d,customer %d,%d.%02d,2024-%02d-%02d\n", i, i % 9973,
            i % 100000, i % 100, i % 12 + 1, i % 28 + 1
}' >"$csv"
bytes=$(stat -c %s "$csv")
pg_sql "CREATE TABLE rows (id integer, name varchar(40),
  amount numeric(12,2), day date)" >/dev/null

cat >"$T/load.dtsx" <<EOF
<?xml version="1.0"?>
<DTS:Executable xmlns:DTS="www.microsoft.com/SqlServer/Dts"
  DTS:refId="Package" DTS:CreationName="Microsoft.Package"
  DTS:DTSID="{BE000000-0000-0000-0000-000000000001}"
  DTS:ExecutableType="Microsoft.Package" DTS:ObjectName="load">
  <DTS:Property DTS:Name="PackageFormatVersion">8</DTS:Property>
  <DTS:ConnectionManagers>
    <DTS:ConnectionManager DTS:refId="Package.ConnectionManagers[Rows]"
      DTS:CreationName="FLATFILE" DTS:DTSID="{BE000000-0000-0000-0000-0000000000FF}"
      DTS:ObjectName="Rows">
      <DTS:ObjectData>
        <DTS:ConnectionManager DTS:Format="Delimited"
          DTS:HeaderRowDelimiter="_x000A_" DTS:ColumnNamesInFirstDataRow="True"
          DTS:RowDelimiter="" DTS:TextQualifier="_x003C_none_x003E_"
          DTS:CodePage="65001" DTS:ConnectionString="$csv">
          <DTS:FlatFileColumns>
            <DTS:FlatFileColumn DTS:ColumnType="Delimited" DTS:ColumnDelimiter="_x002C_"
              DTS:DataType="3" DTS:ObjectName="id" DTS:DTSID="{BE000000-0000-0000-0000-0000000000C1}" />
            <DTS:FlatFileColumn DTS:ColumnType="Delimited" DTS:ColumnDelimiter="_x002C_"
              DTS:MaximumWidth="40" DTS:DataType="130" DTS:ObjectName="name" DTS:DTSID="{BE000000-0000-0000-0000-0000000000C2}" />
            <DTS:FlatFileColumn DTS:ColumnType="Delimited" DTS:ColumnDelimiter="_x002C_"
              DTS:DataType="131" DTS:DataPrecision="12" DTS:DataScale="2" DTS:ObjectName="amount" DTS:DTSID="{BE000000-0000-0000-0000-0000000000C3}" />
            <DTS:FlatFileColumn DTS:ColumnType="Delimited" DTS:ColumnDelimiter="_x000A_"
              DTS:DataType="133" DTS:ObjectName="day" DTS:DTSID="{BE000000-0000-0000-0000-0000000000C4}" />
          </DTS:FlatFileColumns>
        </DTS:ConnectionManager>
      </DTS:ObjectData>
    </DTS:ConnectionManager>
    <DTS:ConnectionManager DTS:refId="Package.ConnectionManagers[Db]"
      DTS:CreationName="ODBC" DTS:DTSID="{BE000000-0000-0000-0000-0000000000DB}"
      DTS:ObjectName="Db">
      <DTS:ObjectData>
        <DTS:ConnectionManager DTS:ConnectionString="$PG_ODBC" />
      </DTS:ObjectData>
    </DTS:ConnectionManager>
  </DTS:ConnectionManagers>
  <DTS:Executables>
    <DTS:Executable DTS:refId="Package\Load" DTS:CreationName="Microsoft.Pipeline"
      DTS:DTSID="{BE000000-0000-0000-0000-0000000000F1}"
      DTS:ExecutableType="Microsoft.Pipeline" DTS:ObjectName="Load">
      <DTS:ObjectData>
  <pipeline version="1">
    <components>
      <component refId="Package\Load\Read" componentClassID="Microsoft.FlatFileSource" name="Read">
        <connections>
          <connection refId="Package\Load\Read.Connections[FlatFileConnection]"
            connectionManagerID="Package.ConnectionManagers[Rows]"
            connectionManagerRefId="Package.ConnectionManagers[Rows]" name="FlatFileConnection" />
        </connections>
        <outputs>
          <output refId="Package\Load\Read.Outputs[Out]" name="Out">
            <outputColumns>
$(for c in id:i4 name:wstr amount:numeric day:dbDate; do n=${c%%:*} t=${c#*:}
  extra=""; [ "$t" = wstr ] && extra='length="40"'
  [ "$t" = numeric ] && extra='precision="12" scale="2"'
  echo "              <outputColumn refId=\"Package\\Load\\Read.Outputs[Out].Columns[$n]\" dataType=\"$t\" $extra externalMetadataColumnId=\"Package\\Load\\Read.Outputs[Out].ExternalColumns[$n]\" lineageId=\"Package\\Load\\Read.Outputs[Out].Columns[$n]\" name=\"$n\" />"
done)
            </outputColumns>
            <externalMetadataColumns isUsed="True">
$(for c in id:i4 name:wstr amount:numeric day:dbDate; do n=${c%%:*} t=${c#*:}
  extra=""; [ "$t" = wstr ] && extra='length="40"'
  [ "$t" = numeric ] && extra='precision="12" scale="2"'
  echo "              <externalMetadataColumn refId=\"Package\\Load\\Read.Outputs[Out].ExternalColumns[$n]\" dataType=\"$t\" $extra name=\"$n\" />"
done)
            </externalMetadataColumns>
          </output>
        </outputs>
      </component>
      <component refId="Package\Load\Write" componentClassID="Microsoft.OLEDBDestination" name="Write">
        <properties>
          <property name="AccessMode">3</property>
          <property name="OpenRowset">[dbo].[rows]</property>
          <property name="FastLoadOptions">TABLOCK</property>
          <property name="FastLoadMaxInsertCommitSize">0</property>
        </properties>
        <connections>
          <connection refId="Package\Load\Write.Connections[OleDbConnection]"
            connectionManagerID="Package.ConnectionManagers[Db]"
            connectionManagerRefId="Package.ConnectionManagers[Db]" name="OleDbConnection" />
        </connections>
        <inputs>
          <input refId="Package\Load\Write.Inputs[In]" name="In">
            <inputColumns>
$(for c in id:i4 name:wstr amount:numeric day:dbDate; do n=${c%%:*} t=${c#*:}
  echo "              <inputColumn refId=\"Package\\Load\\Write.Inputs[In].Columns[$n]\" cachedDataType=\"$t\" cachedName=\"$n\" externalMetadataColumnId=\"Package\\Load\\Write.Inputs[In].ExternalColumns[$n]\" lineageId=\"Package\\Load\\Read.Outputs[Out].Columns[$n]\" />"
done)
            </inputColumns>
            <externalMetadataColumns isUsed="True">
$(for c in id:i4 name:wstr amount:numeric day:dbDate; do n=${c%%:*} t=${c#*:}
  extra=""; [ "$t" = wstr ] && extra='length="40"'
  [ "$t" = numeric ] && extra='precision="12" scale="2"'
  echo "              <externalMetadataColumn refId=\"Package\\Load\\Write.Inputs[In].ExternalColumns[$n]\" dataType=\"$t\" $extra name=\"$n\" />"
done)
            </externalMetadataColumns>
          </input>
        </inputs>
      </component>
    </components>
    <paths>
      <path refId="Package\Load.Paths[Out]" name="Out"
        startId="Package\Load\Read.Outputs[Out]" endId="Package\Load\Write.Inputs[In]" />
    </paths>
  </pipeline>
      </DTS:ObjectData>
    </DTS:Executable>
  </DTS:Executables>
</DTS:Executable>
EOF

now() { date +%s.%N; }
# PostgreSQL's dbo schema: the package names [dbo].[rows].
pg_sql "CREATE SCHEMA dbo; ALTER TABLE rows SET SCHEMA dbo;
  ALTER ROLE weir SET search_path = dbo, public" >/dev/null

t0=$(now)
"$WEIR" exec "$T/load.dtsx" >"$T/weir.log" 2>&1 || {
    tail -5 "$T/weir.log"; exit 1; }
t1=$(now)
got=$(pg_sql 'SELECT count(*) FROM rows')
[ "$got" = "$ROWS" ] || { echo "weir loaded $got rows of $ROWS"; exit 1; }
pg_sql 'TRUNCATE rows' >/dev/null
t2=$(now)
pg_psql weirtest -q -c "\\copy rows FROM '$csv' WITH (FORMAT csv, HEADER)"
t3=$(now)
[ "$(pg_sql 'SELECT count(*) FROM rows')" = "$ROWS" ]

awk -v r="$ROWS" -v b="$bytes" -v t0="$t0" -v t1="$t1" -v t2="$t2" \
    -v t3="$t3" 'BEGIN {
    w = t1 - t0; p = t3 - t2
    printf "rows: %d, file: %.1f MB\n", r, b / 1e6
    printf "weir data flow (Flat File -> OLE DB Destination, COPY): %.2f s, %.0f rows/s, %.1f MB/s\n", w, r / w, b / 1e6 / w
    printf "psql \\copy of the same file:                           %.2f s, %.0f rows/s, %.1f MB/s\n", p, r / p, b / 1e6 / p
    printf "weir / psql: %.2f\n", p / w
}'
