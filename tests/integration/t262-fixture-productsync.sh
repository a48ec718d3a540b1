#!/bin/bash
# atifkisla-productsync: a product table compared across two databases.
# Two OLE DB Sources -> Sort -> Merge Join (full outer on ProductID) ->
# Derived Column (DiffType) -> Conditional Split -> OLE DB Destination
# (new products) and two parameterised OLE DB Commands (DELETE, UPDATE),
# after an Execute SQL task that empties the target.  The three tables
# live in a PostgreSQL server started here; the package's T-SQL
# (IF OBJECT_ID(...) ... ELSE PRINT) is replaced by its PostgreSQL
# equivalent in a copy made by the test.  The copy also drops TABLOCK
# from the destination's FastLoadOptions: the table lock of its single
# transaction (FastLoadMaxInsertCommitSize 2147483647) would make the
# DELETE and UPDATE commands on the same table, in the same data flow,
# wait for the end of that data flow forever (on SQL Server too, whose
# bulk-load table lock blocks other writers).
#   Run 1, as the author wrote it: the target is emptied, so it ends up
#     holding exactly B's rows whose ProductID is not in A.
#   Run 2, the Execute SQL task a no-op and the target seeded with A's
#     rows: deletes, updates and inserts make it equal to B (rows whose
#     name and price agree keep A's LastUpdate: "No Change" is dropped).
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/pg-lib.sh"
. "$(dirname "$0")/sql-lib.sh"

FX=${WEIR_DTSX_FIXTURES:-$SRC/../shared/fixtures/dtsx}
PKG=$FX/atifkisla-productsync/Package.dtsx
if ! pg_available; then
    echo "1..0 # SKIP PostgreSQL or its ODBC driver (odbc-postgresql) is not installed"
    finish
    exit 0
fi
if [ ! -f "$PKG" ]; then
    echo "1..0 # SKIP the shared fixtures ($FX) are not here"
    finish
    exit 0
fi
pg_start
ok "PostgreSQL started on port $PG_PORT"

# The DDL is not in the repository: the column types are the package's
# external metadata.  A few hand-written rows (non-ASCII names, a price
# change, a name change, keys on one side only) and 1,000 generated ones
# on each side overlapping by half, every seventh shared one repriced.
pg_sql "CREATE SCHEMA dbo;
CREATE TABLE dbo.ServerA_Products (ProductID int, ProductName varchar(100),
  Price numeric(10,2), LastUpdate timestamp);
CREATE TABLE dbo.ServerB_Products (LIKE dbo.ServerA_Products);
CREATE TABLE dbo.DW_ProductSync (ProductID int, ProductName varchar(100),
  Price numeric(18,2), LastUpdate timestamp);
INSERT INTO dbo.ServerA_Products VALUES
  (1, 'Kalem', 10.50, '2025-01-01 10:00:00'),
  (2, 'Defter', 25.00, '2025-01-02 10:00:00'),
  (3, 'Silgi', 3.75, '2025-01-03 10:00:00'),
  (5, 'Cetvel', 7.20, '2025-01-05 10:00:00'),
  (7, 'Makas', 9.90, '2025-01-07 10:00:00'),
  (8, 'Çanta', 150.00, '2025-01-08 10:00:00');
INSERT INTO dbo.ServerB_Products VALUES
  (1, 'Kalem', 10.50, '2025-01-01 10:00:00'),
  (2, 'Defter', 27.50, '2025-02-02 11:30:00'),
  (3, 'Silgi Beyaz', 3.75, '2025-02-03 12:00:00'),
  (4, 'Kalemtıraş', 5.00, '2025-02-04 09:15:00'),
  (6, 'Boya', 42.10, '2025-02-06 08:00:00'),
  (7, 'Makas', 9.90, '2025-02-07 10:00:00'),
  (9, 'Çay Bardağı', 12.00, '2025-02-09 17:45:30');
INSERT INTO dbo.ServerA_Products SELECT i, 'Ürün ' || i, i * 1.25,
  timestamp '2025-03-01' + i * interval '1 minute'
  FROM generate_series(1000, 1999) i;
INSERT INTO dbo.ServerB_Products SELECT i, 'Ürün ' || i,
  CASE WHEN i % 7 = 0 THEN i * 1.25 + 1 ELSE i * 1.25 END,
  timestamp '2025-03-01' + i * interval '1 minute'
  FROM generate_series(1500, 2499) i;
INSERT INTO dbo.DW_ProductSync VALUES (777, 'stale', 1, now())" >/dev/null

CM='LAPTOP-CPG9G0OG\SQLEXPRESS.ERP_Integration'
sed -e 's/SqlStatementSource="IF OBJECT_ID[^"]*"/SqlStatementSource="TRUNCATE TABLE dbo.DW_ProductSync;"/' \
    -e 's/>TABLOCK,CHECK_CONSTRAINTS</>CHECK_CONSTRAINTS</' \
    "$PKG" >"$T/Package.dtsx"
cp "$FX/atifkisla-productsync/Project.params" "$T/"
is "$(grep -c 'TRUNCATE TABLE dbo.DW_ProductSync;"' "$T/Package.dtsx")" 1 \
    "the Execute SQL statement is rewritten in the copy"
is "$(grep -c 'TABLOCK' "$T/Package.dtsx")" 0 "TABLOCK is dropped in the copy"

# ---- run 1: as written ----
run_pkg "$T/Package.dtsx" --connection "$CM=$PG_ODBC"
is "$RC" 0 "run 1: the package succeeds"
[ "$RC" = 0 ] || diag "$(tail -5 "$T/err")"
want=$(pg_sql "SELECT count(*) FROM dbo.ServerB_Products b WHERE NOT EXISTS
  (SELECT 1 FROM dbo.ServerA_Products a WHERE a.ProductID = b.ProductID)")
is "$(pg_sql 'SELECT count(*) FROM dbo.DW_ProductSync')" "$want" \
    "run 1: one row per product only in B ($want), the stale row gone"
is "$(pg_sql "SELECT count(*) FROM (
  (SELECT * FROM dbo.DW_ProductSync EXCEPT ALL
   SELECT * FROM dbo.ServerB_Products b WHERE b.ProductID NOT IN
     (SELECT ProductID FROM dbo.ServerA_Products))
  UNION ALL
  (SELECT * FROM dbo.ServerB_Products b WHERE b.ProductID NOT IN
     (SELECT ProductID FROM dbo.ServerA_Products) EXCEPT ALL
   SELECT * FROM dbo.DW_ProductSync)) d")" 0 \
    "run 1: the rows are B's, every column equal"
is "$(pg_sql "SELECT ProductID, ProductName, Price, LastUpdate FROM dbo.DW_ProductSync WHERE ProductID < 1000 ORDER BY 1" | tr '\n' ' ')" \
    "4|Kalemtıraş|5.00|2025-02-04 09:15:00 6|Boya|42.10|2025-02-06 08:00:00 9|Çay Bardağı|12.00|2025-02-09 17:45:30 " \
    "run 1: the hand-written new products, non-ASCII names intact"
is "$(pg_sql 'SELECT min(ProductID), max(ProductID), sum(Price) FROM dbo.DW_ProductSync WHERE ProductID >= 1000')" \
    "2000|2499|$(awk 'BEGIN { for (i = 2000; i <= 2499; i++)
        s += i * 1.25 + (i % 7 == 0); printf "%.2f", s }')" \
    "run 1: the generated new products, with their prices"

# ---- run 2: the target starts as a copy of A ----
sed 's/SqlStatementSource="TRUNCATE TABLE dbo.DW_ProductSync;"/SqlStatementSource="SELECT 1"/' \
    "$T/Package.dtsx" >"$T/Sync.dtsx"
pg_sql "TRUNCATE dbo.DW_ProductSync;
INSERT INTO dbo.DW_ProductSync SELECT * FROM dbo.ServerA_Products" >/dev/null
run_pkg "$T/Sync.dtsx" --connection "$CM=$PG_ODBC"
is "$RC" 0 "run 2: the package succeeds"
[ "$RC" = 0 ] || diag "$(tail -5 "$T/err")"
is "$(pg_sql "SELECT count(*) FROM (
  (SELECT ProductID, ProductName, Price FROM dbo.DW_ProductSync EXCEPT ALL
   SELECT ProductID, ProductName, Price FROM dbo.ServerB_Products)
  UNION ALL
  (SELECT ProductID, ProductName, Price FROM dbo.ServerB_Products EXCEPT ALL
   SELECT ProductID, ProductName, Price FROM dbo.DW_ProductSync)) d")" 0 \
    "run 2: the target holds B's products, names and prices"
is "$(pg_sql 'SELECT count(*) FROM dbo.DW_ProductSync')" \
    "$(pg_sql 'SELECT count(*) FROM dbo.ServerB_Products')" \
    "run 2: A-only products deleted (DELETE with ProductID_A)"
is "$(pg_sql "SELECT ProductID, ProductName, Price, LastUpdate FROM dbo.DW_ProductSync WHERE ProductID IN (2, 3, 7) ORDER BY 1" | tr '\n' ' ')" \
    "2|Defter|27.50|2025-02-02 11:30:00 3|Silgi Beyaz|3.75|2025-02-03 12:00:00 7|Makas|9.90|2025-01-07 10:00:00 " \
    "run 2: UPDATE sets B's name, price and LastUpdate; a row equal in name and price keeps A's date"
is "$(pg_sql "SELECT count(*) FROM dbo.DW_ProductSync d JOIN dbo.ServerB_Products b USING (ProductID) WHERE d.LastUpdate = b.LastUpdate AND ProductID BETWEEN 1500 AND 1999 AND ProductID % 7 = 0")" \
    "$(awk 'BEGIN { for (i = 1500; i <= 1999; i++) n += (i % 7 == 0); print n }')" \
    "run 2: every repriced shared product updated"

pg_stop
done_testing
