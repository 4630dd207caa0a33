# Shared helpers of the benchmark scripts (sourced, not run). Everything
# listens on 127.0.0.1 only and is stopped by the EXIT trap.
set -euo pipefail

BENCH_TMP=$(mktemp -d /tmp/poolpilot-bench.XXXXXX)
BENCH_PIDS=()
log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

cleanup() {
	local pid
	for pid in "${BENCH_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${BENCH_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	exec 9>&- 2>/dev/null || true
	rm -rf "$BENCH_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need() { command -v "$1" >/dev/null || die "$1 is needed: $2"; }
need go "install Go (https://go.dev/dl/)"
need jq "apt-get install jq"

# build compiles poolpilot, ledgerd and the pgup helper into $BENCH_TMP/bin.
build() {
	log "building poolpilot, ledgerd, pgup, poolloop"
	mkdir -p "$BENCH_TMP/bin"
	go build -o "$BENCH_TMP/bin/" ./cmd/poolpilot ./cmd/ledgerd ./bench/pgup ./bench/poolloop
	POOLPILOT=$BENCH_TMP/bin/poolpilot
	LEDGERD=$BENCH_TMP/bin/ledgerd
}

# start_pg starts an ephemeral cluster; sets PG_URL and PG_PORT. It stops
# when fd 9 (its stdin) closes, i.e. when this script exits.
start_pg() {
	local fifo=$BENCH_TMP/pg.in out=$BENCH_TMP/pg.out
	mkfifo "$fifo"
	${PG_PIN:+taskset -c "$PG_PIN"} "$BENCH_TMP/bin/pgup" -max-connections "${1:-300}" <"$fifo" >"$out" 2>"$BENCH_TMP/pg.err" &
	BENCH_PIDS+=($!)
	exec 9>"$fifo"
	local i
	for i in $(seq 1 600); do
		grep -q '^port=' "$out" 2>/dev/null && break
		sleep 0.1
	done
	PG_URL=$(sed -n 's/^url=//p' "$out")
	PG_PORT=$(sed -n 's/^port=//p' "$out")
	[ -n "$PG_URL" ] || die "PostgreSQL did not start: $(cat "$BENCH_TMP/pg.err")"
	log "PostgreSQL on 127.0.0.1:$PG_PORT"
}

# start_ledgerd POOL_MAX POOL_MIN: starts ledgerd on a free port; sets
# LEDGERD_URL and LEDGERD_PID.
start_ledgerd() {
	local out=$BENCH_TMP/ledgerd.$1.out
	DATABASE_URL=$PG_URL DB_POOL_MAX=$1 DB_POOL_MIN=$2 LEDGERD_ADDR=127.0.0.1:0 LEDGERD_LOG_LEVEL=error \
		"$LEDGERD" >"$out" 2>"$BENCH_TMP/ledgerd.$1.err" &
	LEDGERD_PID=$!
	BENCH_PIDS+=($LEDGERD_PID)
	local i
	for i in $(seq 1 300); do
		grep -q '^listening addr=' "$out" 2>/dev/null && break
		kill -0 "$LEDGERD_PID" 2>/dev/null || die "ledgerd exited: $(cat "$BENCH_TMP/ledgerd.$1.err")"
		sleep 0.1
	done
	LEDGERD_URL=http://$(sed -n 's/^listening addr=//p' "$out")
	[ "$LEDGERD_URL" != http:// ] || die "ledgerd did not start"
}

stop_ledgerd() {
	kill "$LEDGERD_PID" 2>/dev/null || true
	wait "$LEDGERD_PID" 2>/dev/null || true
}

# cpu_run CPUFILE CMD…: runs CMD and writes the user+system CPU seconds
# that CMD (and its children) used into CPUFILE. Returns CMD's status.
cpu_run() {
	local f=$1
	shift
	(
		set +e
		"$@"
		rc=$?
		times >"$f.times"
		tail -1 "$f.times" | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.3f\n", u[1]*60+u[2]+s[1]*60+s[2] }' >"$f"
		exit $rc
	)
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }

machine() {
	echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(go version | cut -d' ' -f3-4), $("$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/postgres" --version), load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
