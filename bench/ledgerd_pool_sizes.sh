#!/usr/bin/env bash
# ledgerd throughput by pool size: ledgerd at DB_POOL_MAX 2, 4, 8, 32, 200,
# each driven by poolpilot's checking ledger workload in the closed model
# (fixed concurrency), same duration; reports achieved rate, latency,
# errors, violations and the pool's acquire-wait p95 from ledgerd's /healthz.
#
#   bench/ledgerd_pool_sizes.sh               # from the repo root; ~1.5 minutes
#   SIZES="2 8 200" CONCURRENCY=64 DURATION=10s bench/ledgerd_pool_sizes.sh
cd "$(dirname "$0")/.."
. bench/lib.sh

SIZES=${SIZES:-"2 4 8 32 200"}
CONCURRENCY=${CONCURRENCY:-64}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}

build
start_pg 300
machine
echo "ledger workload over HTTP (post 40%, balance 45%, trial balance 10%, isolation 5%; 50 tenants), closed model, concurrency $CONCURRENCY, warm-up $WARMUP, $DURATION measured per size"
printf '%-9s | %10s %9s %9s %9s %7s %10s %14s %9s\n' pool_max achieved p50_ms p95_ms p99_ms errors violations healthz_wait95 util
mid=$(awk -v w="$WARMUP" -v d="$DURATION" 'BEGIN { sub(/s$/, "", w); sub(/s$/, "", d); print w + d / 2 }')
for size in $SIZES; do
	start_ledgerd "$size" "$((size < 4 ? size : 4))"
	# ledgerd's own view of its pool, read in the middle of the measured window
	(sleep "$mid"; curl -fsS "$LEDGERD_URL/healthz" >"$BENCH_TMP/health.json" 2>/dev/null || echo '{}' >"$BENCH_TMP/health.json") &
	probe=$!
	timeout 300 "$POOLPILOT" load http --url "$LEDGERD_URL" --workload ledger --concurrency "$CONCURRENCY" \
		--warmup "$WARMUP" --duration "$DURATION" --json "$BENCH_TMP/pp.json" >/dev/null 2>&1 || true
	wait "$probe" || true
	stop_ledgerd
	read -r ach p50 p95 p99 err viol < <(jq -r '"\(.achieved_rate) \(.latency_ms.p50) \(.latency_ms.p95) \(.latency_ms.p99) \(.errors) \(.violations)"' "$BENCH_TMP/pp.json")
	read -r wait util < <(jq -r '"\(.pool.wait_p95_ms // "n/a") \(.pool.utilization // "n/a")"' "$BENCH_TMP/health.json")
	printf '%-9s | %10.1f %9.3f %9.3f %9.3f %7s %10s %14s %9s\n' "$size" "$ach" "$p50" "$p95" "$p99" "$err" "$viol" "$wait" "$util"
done
echo "healthz_wait95 / util: ledgerd's own /healthz in the middle of each run: pool acquire-wait p95 (ms, over its window) and utilization at that instant"
