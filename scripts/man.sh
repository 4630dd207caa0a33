#!/usr/bin/env bash
# Writes poolpilot's man pages (one per command, section 1) into DIR
# (default dist/man), from the commands' own help (cobra/doc):
#   scripts/man.sh [DIR] && man -l dist/man/poolpilot-run.1
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_go
out=${1:-dist/man}
# Only the pages this script writes are replaced: DIR may hold other files.
mkdir -p "$out"
rm -f "$out"/poolpilot*.1
go run -tags man ./cmd/poolpilot __man "$out"
