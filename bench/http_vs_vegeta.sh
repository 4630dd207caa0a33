#!/usr/bin/env bash
# HTTP: poolpilot load against vegeta, at the same target rates, against the
# same ledgerd endpoint (GET a balance: one indexed query through the pool).
# For each rate and tool: achieved rate, p50/p99 latency, errors, and the
# generator's CPU per request; then the highest rate each sustained with p99
# under P99_BOUND_MS (achieved >= 99% of target, errors < 1%).
#
#   bench/http_vs_vegeta.sh                 # from the repo root; ~2 minutes
#   RATES="500 1000 2000" STEP=5s P99_BOUND_MS=50 bench/http_vs_vegeta.sh
#
# vegeta is installed with `go install` into a temporary GOBIN when it is
# not on PATH (never vendored). Loopback only; every step is bounded.
cd "$(dirname "$0")/.."
. bench/lib.sh

RATES=${RATES:-"500 1000 2000 3000 4000 6000"}
STEP=${STEP:-5s}
P99_BOUND_MS=${P99_BOUND_MS:-50}
POOL_MAX=${POOL_MAX:-32}
VEGETA_VERSION=v12.13.0

VEGETA=$(command -v vegeta || true)
if [ -z "$VEGETA" ]; then
	log "installing vegeta $VEGETA_VERSION into a temporary GOBIN"
	GOBIN=$BENCH_TMP/gobin GOFLAGS=-buildvcs=false timeout 300 go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION" >&2
	VEGETA=$BENCH_TMP/gobin/vegeta
fi
build
start_pg 300
start_ledgerd "$POOL_MAX" 8
URL=$LEDGERD_URL/v1/tenants/bench/accounts/cash/balance
curl -fsS -X POST -H 'Content-Type: application/json' "$LEDGERD_URL/v1/tenants/bench/entries" \
	-d '{"description":"bench","lines":[{"account":"cash","amount":1000},{"account":"revenue","amount":-1000}]}' >/dev/null
curl -fsS "$URL" >/dev/null
secs=$(awk -v d="$STEP" 'BEGIN { sub(/s$/, "", d); print d }')

machine
echo "endpoint: GET /v1/tenants/bench/accounts/cash/balance on ledgerd (DB_POOL_MAX=$POOL_MAX), $STEP per step, p99 bound ${P99_BOUND_MS} ms"
printf '%-8s | %-9s %9s %9s %9s %9s %7s %7s %9s | %-9s %9s %9s %9s %7s %9s | %s\n' rate poolpilot achieved p50_ms p99_ms lag_p95 errors dropped cpu_us/req vegeta achieved p50_ms p99_ms errors cpu_us/req "cpu ratio"
best_pp=0
best_vg=0
for rate in $RATES; do
	# poolpilot
	cpu_run "$BENCH_TMP/pp.cpu" timeout 120 "$POOLPILOT" load http --url "$URL" --rate "$rate" --duration "$STEP" \
		--max-inflight 1000 --json "$BENCH_TMP/pp.json" >/dev/null 2>&1 || true
	read -r pp_req pp_err pp_ach pp_p50 pp_p99 pp_lag pp_drop < <(jq -r '"\(.requests) \(.errors) \(.achieved_rate) \(.latency_ms.p50) \(.latency_ms.p99) \(.lag_ms.p95) \(.dropped)"' "$BENCH_TMP/pp.json")
	pp_cpu=$(awk -v c="$(cat "$BENCH_TMP/pp.cpu")" -v n="$pp_req" 'BEGIN { printf "%.1f", n ? c * 1e6 / n : 0 }')
	pp_ok=$(awk -v a="$pp_ach" -v r="$rate" -v p="$pp_p99" -v e="$pp_err" -v n="$pp_req" -v b="$P99_BOUND_MS" \
		'BEGIN { print (a >= 0.99 * r && p < b && e < 0.01 * n) ? 1 : 0 }')
	[ "$pp_ok" = 1 ] && best_pp=$rate
	# vegeta (same keep-alive HTTP/1.1 client model, default workers)
	echo "GET $URL" >"$BENCH_TMP/targets"
	cpu_run "$BENCH_TMP/vg.cpu" timeout 120 "$VEGETA" attack -targets="$BENCH_TMP/targets" -rate="$rate/s" \
		-duration="$STEP" -max-connections=1000 -output="$BENCH_TMP/vg.bin" 2>/dev/null || true
	"$VEGETA" report -type=json "$BENCH_TMP/vg.bin" >"$BENCH_TMP/vg.json"
	read -r vg_req vg_succ vg_p50 vg_p99 < <(jq -r '"\(.requests) \(.success) \(.latencies["50th"] / 1e6) \(.latencies["99th"] / 1e6)"' "$BENCH_TMP/vg.json")
	vg_err=$(awk -v n="$vg_req" -v s="$vg_succ" 'BEGIN { printf "%d", n * (1 - s) + 0.5 }')
	vg_ach=$(awk -v n="$vg_req" -v s="$vg_succ" -v d="$secs" 'BEGIN { printf "%.1f", n * s / d }')
	vg_cpu=$(awk -v c="$(cat "$BENCH_TMP/vg.cpu")" -v n="$vg_req" 'BEGIN { printf "%.1f", n ? c * 1e6 / n : 0 }')
	vg_ok=$(awk -v a="$vg_ach" -v r="$rate" -v p="$vg_p99" -v e="$vg_err" -v n="$vg_req" -v b="$P99_BOUND_MS" \
		'BEGIN { print (a >= 0.99 * r && p < b && e < 0.01 * n) ? 1 : 0 }')
	[ "$vg_ok" = 1 ] && best_vg=$rate
	printf '%-8s | %-9s %9.1f %9.3f %9.3f %9.3f %7s %7s %9s | %-9s %9.1f %9.3f %9.3f %7s %9s | %s\n' "$rate" \
		"$([ "$pp_ok" = 1 ] && echo ok || echo MISS)" "$pp_ach" "$pp_p50" "$pp_p99" "$pp_lag" "$pp_err" "$pp_drop" "$pp_cpu" \
		"$([ "$vg_ok" = 1 ] && echo ok || echo MISS)" "$vg_ach" "$vg_p50" "$vg_p99" "$vg_err" "$vg_cpu" "$(ratio "$pp_cpu" "$vg_cpu")"
done
echo "highest rate sustained (p99 < ${P99_BOUND_MS} ms, >= 99% of target, < 1% errors): poolpilot $best_pp/s, vegeta $best_vg/s, ratio $(ratio "$best_pp" "$best_vg")"
echo "lag_p95: poolpilot's scheduling lag (actual - intended start): high lag = the generator itself was starved or at --max-inflight"
echo "note: poolpilot's latency counts from each request's intended start (coordinated omission corrected); vegeta's from the actual send."
