#!/bin/bash
# Lookup's partial cache (CacheType 1) past its memory budget, against
# SQLite through its ODBC driver: tests/fixtures/dataflow/db-lookup.dtsx
# with MaxMemoryUsage64 1 (MB) and NoMatchCachePercentage 10 looks up
# 400 codes (4,000-character labels: about 230 answers fit), then the
# same codes in reverse order, then 100 unknown codes twice.  The rows
# must be exact although answers were evicted; the answers the cache
# gave must be those it could hold (the reverse pass finds exactly the
# ones still there, the unknown codes' second round comes from the miss
# cache), and what it held must stay within the budget.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/pg-lib.sh"
. "$(dirname "$0")/sql-lib.sh"
. "$(dirname "$0")/df-db-lib.sh"

if ! odbcinst -q -d -n SQLite3 >/dev/null 2>&1; then
    echo "1..0 # SKIP SQLite's ODBC driver (libsqliteodbc) is not installed"
    finish
    exit 0
fi
KIND=sqlite
ODBC="Driver=SQLite3;Database=$T/db.sqlite;"

db_sql "CREATE TABLE orders (id integer, code varchar(10), qty integer);
CREATE TABLE codes (code varchar(10), label varchar(4000));
CREATE TABLE matched (id integer, code varchar(10), qty integer,
  label varchar(4000));
CREATE TABLE unmatched (id integer, code varchar(10));
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
INSERT INTO codes SELECT printf('C%04d', i),
  printf('L%04d', i) || substr(hex(zeroblob(2000)), 1, 3995) FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
INSERT INTO orders SELECT 9 + i, printf('C%04d', i), i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
INSERT INTO orders SELECT 409 + i, printf('C%04d', 401 - i), i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
INSERT INTO orders SELECT 809 + i, printf('X%03d', (i - 1) % 100 + 1), 0
  FROM n;"

# Matched commits each buffer (AccessMode 0): a fast load's open
# transaction would hold SQLite's write lock against Unmatched.
f=$(sub db-lookup.dtsx 's/"AccessMode">3/"AccessMode">0/;
    s|<property name="CacheType">0</property>|<property name="CacheType">1</property><property name="MaxMemoryUsage64">1</property><property name="NoMatchCachePercentage">10</property>|;
    /Columns\[label\]/s/ength="20"/ength="4000"/g')
run_pkg "$f" --connection "Db=$ODBC"
is "$RC" 0 "lookup with a 1 MB partial cache succeeds"
[ "$RC" = 0 ] || diag "$(tail -3 "$T/out")"

is "$(db_sql 'SELECT count(*) FROM matched')" 800 "every known code matched"
is "$(db_sql 'SELECT count(*) FROM matched m JOIN codes c
    ON m.code = c.code AND m.label = c.label')" 800 \
    "... each with its own label, evicted or not"
is "$(db_sql 'SELECT count(*), count(DISTINCT code) FROM unmatched')" \
    "200|100" "the unknown codes went to the no match output, both times"

report=$(grep -o '[0-9]* reference queries, .* bytes' "$T/out")
diag "$report"
read -r queries answered hits hbytes hbudget misses mbytes mbudget <<<"$(
    echo "$report" | sed -E 's/^([0-9]+) reference queries, ([0-9]+) rows answered from the cache; it held at most ([0-9]+) matches in ([0-9]+) of ([0-9]+) bytes and ([0-9]+) misses in ([0-9]+) of ([0-9]+) bytes$/\1 \2 \3 \4 \5 \6 \7 \8/')"
is "$hbudget $mbudget" "943726 104850" \
    "budgets: 90% and 10% of MaxMemoryUsage64's 1 MB"
check "matches were evicted (at most $hits of 400 held)" \
    test "${hits:-0}" -gt 100 -a "${hits:-400}" -lt 400
check "the matches stayed within their budget ($hbytes bytes)" \
    test "${hbytes:-1}" -le "${hbudget:-0}"
check "the misses stayed within theirs ($mbytes bytes)" \
    test "${mbytes:-1}" -le "${mbudget:-0}"
is "$misses" 100 "the 100 unknown codes fit the miss cache"
is "$answered" "$((hits + 100))" \
    "the reverse pass found exactly the answers held, the misses' second round all"
is "$((queries + answered))" 1000 "every other row was a query"

done_testing
