#!/usr/bin/env bash
# poolpilot's demo on this machine with no setup: an ephemeral PostgreSQL from
# the local server binaries, ledgerd at DB_POOL_MAX=10/DB_POOL_MIN=2, a short
# burst of ledger traffic, /healthz and an integrity check. Flags are passed
# to `poolpilot demo` (see bin/poolpilot demo --help), e.g. --keep or --json.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_go
ensure_postgres

log "go build -o bin/poolpilot ./cmd/poolpilot"
go build -o bin/poolpilot ./cmd/poolpilot
exec bin/poolpilot demo "$@"
