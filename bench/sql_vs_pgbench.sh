#!/usr/bin/env bash
# SQL: poolpilot load sql (select 1 through the instrumented pool) against
# pgbench running the same query, on one ephemeral PostgreSQL:
#   - closed model at equal concurrency: pgbench -c N -j 2 -T D -M prepared
#     vs poolpilot --concurrency N --pool-max N; goal: >= 0.8x pgbench's
#     throughput;
#   - fixed rate: pgbench -R R -c 8 vs poolpilot --rate R --pool-max 8.
# Both report the generator's CPU per transaction. A third column,
# bench/poolloop (goroutines calling pgpool.Exec back to back, no generator),
# separates the generator's cost from the Go driver's.
#
#   bench/sql_vs_pgbench.sh                    # from the repo root; ~2 minutes
#   CONC="1 8 32" SQL_RATES="1000 5000" DURATION=10 bench/sql_vs_pgbench.sh
cd "$(dirname "$0")/.."
. bench/lib.sh

CONC=${CONC:-"1 8 32"}
SQL_RATES=${SQL_RATES:-"1000 5000"}
DURATION=${DURATION:-10}
PGBENCH=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -V | tail -1)
[ -x "$PGBENCH" ] || die "pgbench not found: apt-get install postgresql-contrib (or postgresql-client)"

build
start_pg 300
echo 'select 1;' >"$BENCH_TMP/select1.sql"
pgb() { timeout $((DURATION + 60)) "$PGBENCH" -n -M prepared -h 127.0.0.1 -p "$PG_PORT" -U postgres -f "$BENCH_TMP/select1.sql" -T "$DURATION" "$@" postgres; }
ppl() { timeout $((DURATION + 60)) env PGURL="$PG_URL" "$POOLPILOT" load sql --dsn-env PGURL --workload select1 --duration "${DURATION}s" --json "$BENCH_TMP/pp.json" "$@"; }
tps_of() { sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$1" | head -1; }

machine
echo "query: select 1; pgbench -M prepared (one round trip per query, like pgx's statement cache); ${DURATION}s per step"
echo "closed model, equal concurrency:"
printf '%-6s | %12s %12s | %12s %12s %10s %10s | %12s | %s\n' conc pgbench_tps cpu_us/tx poolpilot cpu_us/tx p99_ms wait_p95 poolloop_tps "ratio poolpilot/pgbench (goal >= 0.80), poolpilot/poolloop"
for c in $CONC; do
	cpu_run "$BENCH_TMP/pg.cpu" pgb -c "$c" -j "$((c < 2 ? 1 : 2))" >"$BENCH_TMP/pgb.out" 2>&1 || die "pgbench failed: $(cat "$BENCH_TMP/pgb.out")"
	pg_tps=$(tps_of "$BENCH_TMP/pgb.out")
	pg_cpu=$(awk -v c="$(cat "$BENCH_TMP/pg.cpu")" -v t="$pg_tps" -v d="$DURATION" 'BEGIN { printf "%.1f", c * 1e6 / (t * d) }')
	cpu_run "$BENCH_TMP/pp.cpu" ppl --concurrency "$c" --pool-max "$c" >/dev/null 2>&1 || true
	read -r pp_tps pp_req pp_p99 pp_wait < <(jq -r '"\(.achieved_rate) \(.requests) \(.latency_ms.p99) \(.pool.wait_p95_ms)"' "$BENCH_TMP/pp.json")
	pp_cpu=$(awk -v c="$(cat "$BENCH_TMP/pp.cpu")" -v n="$pp_req" 'BEGIN { printf "%.1f", n ? c * 1e6 / n : 0 }')
	loop_tps=$(timeout $((DURATION + 60)) "$BENCH_TMP/bin/poolloop" -url "$PG_URL" -c "$c" -d "${DURATION}s" | sed -n 's/^tps=\([0-9.]*\).*/\1/p')
	printf '%-6s | %12.1f %12s | %12.1f %12s %10.3f %10.3f | %12.1f | %s, %s\n' "$c" "$pg_tps" "$pg_cpu" "$pp_tps" "$pp_cpu" "$pp_p99" "$pp_wait" "$loop_tps" "$(ratio "$pp_tps" "$pg_tps")" "$(ratio "$pp_tps" "$loop_tps")"
done
echo "fixed rate (-R), 8 clients / pool of 8:"
printf '%-6s | %12s %12s | %12s %12s %10s %10s\n' rate pgbench_tps lat_avg_ms poolpilot mean_ms p99_ms lag_p95_ms
for r in $SQL_RATES; do
	pgb -c 8 -j 2 -R "$r" >"$BENCH_TMP/pgb.out" 2>&1 || die "pgbench failed: $(cat "$BENCH_TMP/pgb.out")"
	pg_tps=$(tps_of "$BENCH_TMP/pgb.out")
	pg_lat=$(sed -n 's/^latency average = \([0-9.]*\).*/\1/p' "$BENCH_TMP/pgb.out")
	ppl --rate "$r" --pool-max 8 >/dev/null 2>&1 || true
	read -r pp_tps pp_mean pp_p99 pp_lag < <(jq -r '"\(.achieved_rate) \(.latency_ms.mean) \(.latency_ms.p99) \(.lag_ms.p95)"' "$BENCH_TMP/pp.json")
	printf '%-6s | %12.1f %12s | %12.1f %12.3f %10.3f %10.3f\n' "$r" "$pg_tps" "$pg_lat" "$pp_tps" "$pp_mean" "$pp_p99" "$pp_lag"
done
