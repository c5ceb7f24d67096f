#!/usr/bin/env bash
# Sync benchmark, PostgreSQL → PostgreSQL: a realistic 10-column table of
# ROWS rows (default 1,000,000), an initial load, a 1% incremental upsert and
# a run with no changes, each timed for Tidemark and, in the same run, for
# the raw limit of the same work done by hand with psql: binary \copy out,
# binary \copy into an unlogged staging table, one INSERT … ON CONFLICT.
#
# Needs a local PostgreSQL that trusts user postgres on 127.0.0.1:5432 (see
# scripts/services.sh), psql and /usr/bin/time. Builds the release binary if
# it is missing. Creates and drops databases tm_bench_src, tm_bench_dst and
# tm_bench_raw.
#
#   bash bench/sync_pg.sh            # 1,000,000 rows
#   ROWS=200000 bash bench/sync_pg.sh
set -euo pipefail

ROWS=${ROWS:-1000000}
BATCH=${BATCH:-10000}
HOST=${PGHOST:-127.0.0.1}
PORT=${PGPORT:-5432}
USER_NAME=${PGUSER:-postgres}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/tidemark/target}
BIN=${TIDEMARK_BIN:-$CARGO_TARGET_DIR/release/tidemark}
WORK=$(mktemp -d)
WS="$WORK/bench.tmdb"

psql_db() { psql -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U "$USER_NAME" -d "$1" "${@:2}"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

cleanup() {
  for db in tm_bench_src tm_bench_dst tm_bench_raw; do
    psql_db postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ ! -x "$BIN" ]; then
  echo "==> building the release binary"
  (cd "$ROOT" && cargo build --release -p tidemark-cli)
fi

echo "==> creating $ROWS rows"
cleanup 2>/dev/null || true
WORK=$(mktemp -d); WS="$WORK/bench.tmdb"
for db in tm_bench_src tm_bench_dst tm_bench_raw; do
  psql_db postgres -c "CREATE DATABASE $db"
done
TABLE_DDL="CREATE TABLE orders (
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
)"
psql_db tm_bench_src -c "$TABLE_DDL" -c "
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
psql_db tm_bench_raw -c "$TABLE_DDL" -c "CREATE UNLOGGED TABLE stage (LIKE orders)"

UPSERT="INSERT INTO orders SELECT * FROM stage ON CONFLICT (id) DO UPDATE SET
  customer_id = EXCLUDED.customer_id, status = EXCLUDED.status, amount = EXCLUDED.amount,
  currency = EXCLUDED.currency, quantity = EXCLUDED.quantity, note = EXCLUDED.note,
  is_paid = EXCLUDED.is_paid, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at"

# The raw limit: copy the rows out, copy them into a staging table, merge.
raw_sync() { # $1 = WHERE clause
  psql_db tm_bench_src -c "\\copy (SELECT * FROM orders $1) TO '$WORK/orders.bin' WITH (FORMAT binary)"
  psql_db tm_bench_raw -c "TRUNCATE stage" \
    -c "\\copy stage FROM '$WORK/orders.bin' WITH (FORMAT binary)" \
    -c "$UPSERT"
}

tidemark_run() { # $1 = label; prints seconds, records peak RSS
  /usr/bin/time -v -o "$WORK/time.$1" "$BIN" --workspace "$WS" sync run orders >"$WORK/out.$1"
  [ -z "${BENCH_VERBOSE:-}" ] || grep -E "User time|System time|Elapsed|Maximum resident" "$WORK/time.$1" >&2
}
elapsed_of() { # /usr/bin/time's wall clock as seconds
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.3f", s }' "$WORK/time.$1"
}
rss_of() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$WORK/time.$1"; }

"$BIN" --workspace "$WS" connection add src --url "postgres://$USER_NAME@$HOST:$PORT/tm_bench_src" >/dev/null
"$BIN" --workspace "$WS" connection add dst --url "postgres://$USER_NAME@$HOST:$PORT/tm_bench_dst" >/dev/null
"$BIN" --workspace "$WS" sync add orders --source src --table orders --target dst \
  --detect timestamp --column updated_at --merge upsert --batch-size "$BATCH" >/dev/null

echo "==> initial load"
t0=$(now); raw_sync ""; t1=$(now)
raw_initial=$(secs "$t0" "$t1")
tidemark_run initial
tm_initial=$(elapsed_of initial)
rss_initial=$(rss_of initial)

echo "==> 1% incremental upsert"
CHANGED=$(( ROWS / 100 ))
MARK=$(psql_db tm_bench_src -At -c "SELECT max(updated_at) FROM orders")
psql_db tm_bench_src -c "UPDATE orders SET status = 'refunded', amount = amount + 1,
  updated_at = clock_timestamp() WHERE id % 100 = 0"
t0=$(now); raw_sync "WHERE updated_at > '$MARK'"; t1=$(now)
raw_incr=$(secs "$t0" "$t1")
tidemark_run incremental
tm_incr=$(elapsed_of incremental)
rss_incr=$(rss_of incremental)

echo "==> no-change run"
tidemark_run nochange
tm_none=$(elapsed_of nochange)

# The target must equal the source.
src_sum=$(psql_db tm_bench_src -At -c "SELECT count(*), sum(amount), md5(string_agg(id::text || status || updated_at::text, ',' ORDER BY id)) FROM orders")
dst_sum=$(psql_db tm_bench_dst -At -c "SELECT count(*), sum(amount), md5(string_agg(id::text || status || updated_at::text, ',' ORDER BY id)) FROM orders")
[ "$src_sum" = "$dst_sum" ] && same=yes || same=NO

echo
printf '%-22s %10s %12s %12s %8s %10s\n' "" "rows" "raw rows/s" "tm rows/s" "ratio" "peak RSS"
printf '%-22s %10s %12s %12s %8s %9sMB\n' "initial load" "$ROWS" "$(rate "$ROWS" "$raw_initial")" "$(rate "$ROWS" "$tm_initial")" "$(ratio "$raw_initial" "$tm_initial")" "$rss_initial"
printf '%-22s %10s %12s %12s %8s %9sMB\n' "1% incremental upsert" "$CHANGED" "$(rate "$CHANGED" "$raw_incr")" "$(rate "$CHANGED" "$tm_incr")" "$(ratio "$raw_incr" "$tm_incr")" "$rss_incr"
echo "times (s): raw initial $raw_initial, tidemark initial $tm_initial; raw incremental $raw_incr, tidemark incremental $tm_incr"
echo "no-change run (whole process, one table): $(awk -v s="$tm_none" 'BEGIN { printf "%.0f", s * 1000 }') ms"
echo "target equals source: $same"
[ "$same" = yes ]
