#!/usr/bin/env bash
# Sizing advisor proof: for the ledger and select1 workloads, run
# `poolpilot size` against an ephemeral PostgreSQL, then drive the same
# offered load — CLIENTS closed-model client goroutines (default 256) — through
# a pool of the recommended max and through a pool of 200, side by side in
# one run, alternating A B B A A B … so that drift on a shared machine hits
# both alike. Prints a Markdown table (medians over ROUNDS pairs) for
# docs/benchmarks.md, and the individual runs.
#
#   bench/size.sh                                   # from the repo root; ~8 minutes
#   WORKLOADS=select1 ROUNDS=2 STEP=2s SIZE_ROUNDS=1 bench/size.sh
#   PIN=1 bench/size.sh       # PostgreSQL on the last CPU, poolpilot on the others
#
# PIN=1 models the production layout, where the database has its own
# machine: without it the 256 client goroutines and PostgreSQL share the
# same cores, and the client's CPU throttles the pool of 200 before the
# database thrashes. Needs taskset (util-linux) and at least 2 CPUs.
cd "$(dirname "$0")/.."
. bench/lib.sh

WORKLOADS=${WORKLOADS:-"ledger select1"}
CLIENTS=${CLIENTS:-256}
BIG=${BIG:-200}
ROUNDS=${ROUNDS:-3}
STEP=${STEP:-3s}
SIZE_ROUNDS=${SIZE_ROUNDS:-3}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-2s}
PIN=${PIN:-0}

CLIENT_PIN=()
if [ "$PIN" = 1 ]; then
	need taskset "apt-get install util-linux"
	ncpu=$(nproc)
	[ "$ncpu" -ge 2 ] || die "PIN=1 needs at least 2 CPUs"
	PG_PIN=$((ncpu - 1))
	CLIENT_PIN=(taskset -c "0-$((ncpu - 2))")
	log "pinned: PostgreSQL on CPU $PG_PIN, poolpilot on CPUs 0-$((ncpu - 2))"
fi

build
start_pg 300
export DATABASE_URL=$PG_URL
machine
echo

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# load_run WORKLOAD POOLMAX: one closed-model run; prints "rate p95 wait errors".
load_run() {
	local out=$BENCH_TMP/load.$1.$2.json
	timeout 120 "${CLIENT_PIN[@]}" "$POOLPILOT" load sql --workload "$1" --concurrency "$CLIENTS" --pool-max "$2" --pool-min 1 \
		--warmup "$WARMUP" --duration "$DURATION" --json "$out" >/dev/null 2>"$BENCH_TMP/load.err" || true
	jq -r '"\(.achieved_rate) \(.latency_ms.p95) \(.pool.wait_p95_ms // 0) \(.errors)"' "$out"
}

ROWS=()
declare -A RECS=()
for w in $WORKLOADS; do
	log "poolpilot size --workload $w --max 256 --duration-per-step $STEP --warmup 1s --rounds $SIZE_ROUNDS"
	sj=$BENCH_TMP/size.$w.json
	timeout 900 "${CLIENT_PIN[@]}" "$POOLPILOT" size --workload "$w" --max 256 --duration-per-step "$STEP" --warmup 1s --rounds "$SIZE_ROUNDS" --json --save "$sj" \
		--chart "$BENCH_TMP/size.$w.svg" >/dev/null 2>"$BENCH_TMP/size.$w.err" || true
	[ -s "$sj" ] || die "poolpilot size failed: $(cat "$BENCH_TMP/size.$w.err")"
	echo "### $w: poolpilot size (each step the median of $SIZE_ROUNDS rounds)"
	jq -r '"steps (concurrency:throughput/s:p95 ms): " + ([.steps[] | "\(.concurrency):\(.throughput | floor):\(.p95_ms)"] | join(" "))' "$sj"
	jq -r '"USL: sigma \(.usl.sigma) kappa \(.usl.kappa) lambda \(.usl.lambda) R2 \(.usl.r2) rel_rmse \(.usl.rel_rmse) N* \(.usl.peak_concurrency)"' "$sj"
	jq -r '"recommended: max \(.recommended.max) min \(.recommended.min) refused \(.recommended.refused): \(.recommended.reason)"' "$sj"
	rec=$(jq -r '.recommended.max' "$sj")
	[ "$rec" = 0 ] || RECS[$w]=$rec
	note=""
	if [ "$rec" = 0 ]; then
		rec=$(jq -r '[.steps[]] | max_by(.throughput) | .concurrency' "$sj")
		note=" (no recommendation; compared at the measured peak)"
	fi
	echo "comparing pool max $rec$note with pool max $BIG, $CLIENTS clients each"
	declare -A rate=() p95=() wait=() errs=()
	order=()
	for r in $(seq 1 "$ROUNDS"); do
		if [ $((r % 2)) = 1 ]; then order+=("$rec" "$BIG"); else order+=("$BIG" "$rec"); fi
	done
	for m in "${order[@]}"; do
		read -r a p q e < <(load_run "$w" "$m")
		printf '  pool max %-4s %10.1f req/s  p95 %8.3f ms  pool wait p95 %8.3f ms  errors %s\n' "$m" "$a" "$p" "$q" "$e"
		rate[$m]+="$a "
		p95[$m]+="$p "
		wait[$m]+="$q "
		errs[$m]+="$e "
	done
	med() { tr ' ' '\n' <<<"$1" | grep . | median; }
	rr=$(med "${rate[$rec]}") rb=$(med "${rate[$BIG]}")
	ROWS+=("| $w | $rec$note | $(printf %.0f "$rr") | $(med "${p95[$rec]}") | $(printf %.0f "$rb") | $(med "${p95[$BIG]}") | $(ratio "$rr" "$rb")× |")
	unset rate p95 wait errs
	echo
done

echo "| workload | recommended max | req/s at rec. max | p95 ms at rec. max | req/s at max $BIG | p95 ms at max $BIG | ratio |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "Closed model, $CLIENTS client goroutines sharing one pool, warm-up $WARMUP, $DURATION measured per run, medians of $ROUNDS runs per size, interleaved."

# The database's own curve, with a client that costs almost nothing: pgbench
# (C, one connection per client, select 1, prepared) at the select1
# recommendation and at 200 clients. It bounds what any pool in front of
# this database can show on this machine.
PGBENCH=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -V | tail -1)
if [ -x "$PGBENCH" ]; then
	echo 'select 1;' >"$BENCH_TMP/select1.sql"
	small=${RECS[select1]:-4}
	echo
	echo "reference, pgbench -n -M prepared -j 1 -T ${DURATION%s} (select 1), one connection per client:"
	for c in "$small" "$BIG" "$small" "$BIG"; do
		tps=$(timeout 120 "${CLIENT_PIN[@]}" "$PGBENCH" -n -M prepared -h 127.0.0.1 -p "$PG_PORT" -U postgres -f "$BENCH_TMP/select1.sql" \
			-c "$c" -j 1 -T "${DURATION%s}" postgres 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
		printf '  pgbench -c %-4s %10.0f tps\n' "$c" "${tps:-0}"
	done
fi
