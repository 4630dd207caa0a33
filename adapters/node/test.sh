#!/usr/bin/env bash
# Runs @poolpilot/pg's tests: installs Node and npm from Debian when they are
# missing, the locked dependencies with `npm ci`, then `node --test` (the
# tests start their own PostgreSQL from /usr/lib/postgresql/*/bin).
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  dpkg --configure -a || true
  apt-get update
  apt-get install -y --no-install-recommends nodejs npm
fi
npm ci --no-audit --no-fund
exec node --test --test-timeout=120000 test/
