#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing (apt-get, go), then
# go vet and go test -race over every package, integration tests included.
# Tests start their own PostgreSQL clusters (and PgBouncer, Prometheus) from
# the local binaries; POOLPILOT_TEST_DATABASE_URL points them at an existing
# server instead.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_go
ensure_postgres
apt_install pgbouncer prometheus chromium fonts-dejavu-core

log "go vet ./..."
go vet ./...

log "go test -race ./..."
go test -race -count=1 -timeout 60m "$@" ./...
