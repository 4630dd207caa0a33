#!/usr/bin/env bash
# Proves that go.mod's go directive is a release that builds poolpilot:
# builds every package (tests included, through go vet's type check) with
# exactly that toolchain, fetched through the module proxy
# (golang.org/toolchain), whatever Go is installed.
#
# The directive is the oldest release the code and its dependencies need:
# the dependencies' own go.mod files ask for go 1.26.0
# (go list -m -f '{{.Path}} {{.GoVersion}}' all), and the code uses no API
# newer than 1.26 (patch releases add none).
#
# Usage: scripts/check-go-directive.sh   (about 3–6 minutes on a busy
# 2-core machine: the first build with a toolchain compiles everything)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_go
want=$(awk '$1 == "go" { print $2; exit }' go.mod)
[ -n "$want" ] || { echo "check-go-directive: no go directive in go.mod" >&2; exit 2; }
case "$want" in
*.*.*) ;;
*) echo "check-go-directive: go $want: write the directive as a full release (go 1.X.Y)" >&2; exit 2 ;;
esac
export GOTOOLCHAIN="go$want"
got=$(go env GOVERSION)
if [ "$got" != "go$want" ]; then
	echo "check-go-directive: GOTOOLCHAIN=go$want runs $got" >&2
	exit 1
fi
log "GOTOOLCHAIN=go$want go build ./..."
go build ./...
log "GOTOOLCHAIN=go$want go vet ./... (type-checks the tests too)"
go vet ./...
log "go $want builds poolpilot"
