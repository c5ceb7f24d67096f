#!/usr/bin/env bash
# Iceberg append benchmark: ROWS rows (default 1,000,000) of a realistic
# 10-column table appended to an Iceberg table as one snapshot, by Tidemark
# and by PyIceberg, into the same embedded SQL catalog.
#
# - Tidemark: `tidemark sync run` of a PostgreSQL → `iceberg:bench.orders`
#   job — the whole process: extraction from PostgreSQL, Parquet writing,
#   the commit. Peak RSS is reported.
# - PyIceberg: `table.append(arrow_table)` of the very same rows (read back
#   from Tidemark's table beforehand; only the append is timed), into a new
#   table with the same schema.
#
# - Like for like: the same rows are written to a Parquet file (not timed);
#   PyIceberg's `table.append` of them (in memory) and Tidemark's
#   `Warehouse::append` of the same file's rows (in memory, the
#   `append_bench` example of crates/iceberg) are each timed alone, each
#   into a new table; both rows/s and the ratio Tidemark / PyIceberg are
#   printed.
#
# All tables are checked for ROWS rows through PyIceberg afterwards.
#
# Needs a local PostgreSQL that trusts user postgres on 127.0.0.1:5432,
# psql, /usr/bin/time and python3 (the PyIceberg venv under
# ~/.cache/tidemark/pyiceberg-venv is created if missing). Builds the
# release binary if it is missing. Creates and drops database tm_bench_ice.
#
#   bash bench/iceberg_append.sh
#   ROWS=200000 bash bench/iceberg_append.sh
set -euo pipefail

ROWS=${ROWS:-1000000}
BATCH=${BATCH:-10000}
HOST=${PGHOST:-127.0.0.1}
PORT=${PGPORT:-5432}
USER_NAME=${PGUSER:-postgres}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/tidemark/target}
BIN=${TIDEMARK_BIN:-$CARGO_TARGET_DIR/release/tidemark}
VENV=${PYICEBERG_VENV:-$HOME/.cache/tidemark/pyiceberg-venv}
WORK=$(mktemp -d)
WS="$WORK/bench.tmdb"
CAT="$WORK/bench-iceberg"

psql_db() { psql -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U "$USER_NAME" -d "$1" "${@:2}"; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

cleanup() {
  psql_db postgres -c "DROP DATABASE IF EXISTS tm_bench_ice WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

EX=$CARGO_TARGET_DIR/release/examples/append_bench
if [ ! -x "$BIN" ] || [ ! -x "$EX" ]; then
  echo "==> building the release binary and the append example"
  (cd "$ROOT" && cargo build --release -p tidemark-cli -p tidemark-iceberg --example append_bench)
fi
if ! "$VENV/bin/python" -c "import pyiceberg.catalog.sql, pyarrow" 2>/dev/null; then
  echo "==> creating the PyIceberg venv"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "pyiceberg[sql-sqlite,pyarrow]"
fi

echo "==> creating $ROWS rows"
psql_db postgres -c "DROP DATABASE IF EXISTS tm_bench_ice WITH (FORCE)" >/dev/null 2>&1
psql_db postgres -c "CREATE DATABASE tm_bench_ice"
psql_db tm_bench_ice -c "CREATE TABLE orders (
  id          bigint PRIMARY KEY,
  customer_id bigint NOT NULL,
  status      varchar(16) NOT NULL,
  amount      numeric(12,2) NOT NULL,
  currency    char(3) NOT NULL,
  quantity    integer NOT NULL,
  note        text,
  is_paid     boolean NOT NULL,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
)" -c "
INSERT INTO orders
SELECT g,
       (g::bigint * 7919) % 100000,
       (ARRAY['new','paid','shipped','delivered','cancelled'])[1 + g % 5],
       round(((g::bigint * 37) % 100000) / 100.0 + 1, 2),
       (ARRAY['EUR','USD','GBP'])[1 + g % 3],
       1 + g % 9,
       CASE WHEN g % 4 = 0 THEN NULL ELSE 'order note ' || md5(g::text) END,
       g % 3 = 0,
       timestamptz '2024-01-01' + g * interval '1 second',
       timestamptz '2024-01-01' + g * interval '1 second' + (g % 1000) * interval '1 microsecond'
FROM generate_series(1, $ROWS) AS g" \
  -c "CREATE INDEX orders_updated ON orders (updated_at, id)" \
  -c "VACUUM ANALYZE orders"

"$BIN" --workspace "$WS" connection add src --url "postgres://$USER_NAME@$HOST:$PORT/tm_bench_ice" >/dev/null
"$BIN" --workspace "$WS" sync add orders --source src --table orders --target iceberg:bench.orders \
  --detect timestamp --column updated_at --merge append --batch-size "$BATCH" >/dev/null

echo "==> tidemark: PostgreSQL → Iceberg, one snapshot"
/usr/bin/time -v -o "$WORK/time.tm" "$BIN" --workspace "$WS" sync run orders >"$WORK/out.tm"
tm_secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.3f", s }' "$WORK/time.tm")
tm_rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$WORK/time.tm")

echo "==> pyiceberg: table.append of the same rows"
py_out=$("$VENV/bin/python" - "$CAT" "$WORK/orders.parquet" <<'PY'
import sys, time, resource
import pyarrow.parquet as pq
from pyiceberg.catalog.sql import SqlCatalog
d = sys.argv[1]
cat = SqlCatalog("tidemark", uri=f"sqlite:///{d}/catalog.db", warehouse=f"file://{d}/warehouse")
tm = cat.load_table("bench.orders")
data = tm.scan().to_arrow()
pq.write_table(data, sys.argv[2])
data = pq.read_table(sys.argv[2])
py = cat.create_table("bench.py_orders", schema=tm.schema())
t0 = time.perf_counter()
py.append(data)
secs = time.perf_counter() - t0
tm_rows = cat.load_table("bench.orders").scan().to_arrow().num_rows
py_rows = cat.load_table("bench.py_orders").scan().to_arrow().num_rows
snaps = len(cat.load_table("bench.orders").snapshots())
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(f"{secs:.3f} {tm_rows} {py_rows} {snaps} {rss}")
PY
)
read -r py_secs tm_rows py_rows tm_snaps py_rss <<<"$py_out"

echo "==> tidemark: Warehouse::append of the same rows (like for like)"
read -r rs_secs rs_in <<<"$("$EX" "$CAT" "$WORK/orders.parquet" bench.rs_orders id)"
rs_rows=$("$VENV/bin/python" - "$CAT" <<'PY'
import sys
from pyiceberg.catalog.sql import SqlCatalog
d = sys.argv[1]
cat = SqlCatalog("tidemark", uri=f"sqlite:///{d}/catalog.db", warehouse=f"file://{d}/warehouse")
print(cat.load_table("bench.rs_orders").scan().to_arrow().num_rows)
PY
)

echo
printf '%-44s %10s %10s %12s %10s\n' "" "rows" "seconds" "rows/s" "peak RSS"
printf '%-44s %10s %10s %12s %8sMB\n' "tidemark sync run (PG extract + append)" "$ROWS" "$tm_secs" "$(rate "$ROWS" "$tm_secs")" "$tm_rss"
printf '%-44s %10s %10s %12s %8sMB\n' "pyiceberg table.append (Arrow in memory)" "$ROWS" "$py_secs" "$(rate "$ROWS" "$py_secs")" "$py_rss"
printf '%-44s %10s %10s %12s\n' "tidemark Warehouse::append (Arrow in memory)" "$rs_in" "$rs_secs" "$(rate "$rs_in" "$rs_secs")"
echo "like for like (append of the same in-memory rows): tidemark / pyiceberg = $(awk -v a="$py_secs" -v b="$rs_secs" 'BEGIN { printf "%.2f", a / b }')x (goal >= 1.0x)"
echo "rows read back through PyIceberg: tidemark table $tm_rows ($tm_snaps snapshot), pyiceberg table $py_rows, tidemark append table $rs_rows"
[ "$tm_rows" = "$ROWS" ] && [ "$py_rows" = "$ROWS" ] && [ "$rs_rows" = "$ROWS" ] && [ "$tm_snaps" = 1 ]
