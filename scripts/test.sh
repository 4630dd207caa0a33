#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing (apt-get, go), then
# go vet, staticcheck and go test -race over every package, integration tests
# included, then the latency-goal test without -race.
# Tests start their own PostgreSQL clusters (and PgBouncer, Prometheus) from
# the local binaries; POOLPILOT_TEST_DATABASE_URL points them at an existing
# server instead.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_go
ensure_postgres
apt_install pgbouncer prometheus chromium fonts-dejavu-core

# The node-postgres adapter's own tests (node --test, on a PostgreSQL they
# start); they also install node and npm, which the Go end-to-end tests on
# examples/node-ledger need.
log "adapters/node/test.sh (@poolpilot/pg, node --test)"
./adapters/node/test.sh

log "go vet ./..."
go vet ./...

# poolpilot builds for every release target (the harnesses' process
# attributes and the run lock are per platform); go.mod's go directive is
# checked by scripts/check-go-directive.sh in scripts/release.sh instead
# (it compiles everything with another toolchain: far over 2 minutes).
log "GOOS=windows go build ./...; GOOS=darwin go build ./..."
GOOS=windows go build ./...
GOOS=darwin go build ./...

log "staticcheck ./..."
command -v staticcheck >/dev/null 2>&1 || go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
staticcheck ./...

# -p 1: one package at a time. The end-to-end tests (demo, runs, soaks,
# the browser test, the load tests) measure latency and error rates; two
# packages racing for 2 cores would turn their thresholds into noise.
log "go test -race -p 1 ./..."
go test -race -p 1 -count=1 -timeout 75m "$@" ./...

# The latency goals (/healthz and /metrics p99 < 5 ms at 1,000 req/s with a
# saturated pool) are asserted only without the race detector, which costs
# 5–10× CPU: run that test once more, natively.
log "timing: go test -run TestProbesFastWhilePoolSaturated ./tests/reliability/ (without -race: latency goals)"
go test -count=1 -timeout 5m -run 'TestProbesFastWhilePoolSaturated' ./tests/reliability/

log "timing: go test -run TestDemo ./cmd/poolpilot/ (without -race: the demo's acts end with their latency verdicts)"
go test -count=1 -timeout 10m -run 'TestDemo' ./cmd/poolpilot/
