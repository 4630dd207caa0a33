#!/usr/bin/env bash
# Builds poolpilot's release binaries: static (CGO_ENABLED=0), reproducible
# paths (-trimpath), the version and commit linked in (poolpilot version
# prints them; every run records the version in run_opened), one binary per
# target in $DIST (default dist/) and their SHA-256 checksums in
# $DIST/SHA256SUMS (check with: cd dist && sha256sum -c SHA256SUMS).
#
# Usage: scripts/release.sh VERSION            e.g. scripts/release.sh v0.1.0
#   TARGETS="linux/amd64 darwin/arm64"  restrict the targets (space- or
#        comma-separated GOOS/GOARCH; default: linux and darwin on amd64 and
#        arm64, and windows/amd64)
#   DIST=DIR                            where to write (emptied first)
#   CHECK_GO_DIRECTIVE=0                skip scripts/check-go-directive.sh
#        (a release runs it: it builds with go.mod's go release, minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

usage() { echo "usage: scripts/release.sh VERSION (like v1.2.3 or v0.0.0-rc.1)" >&2; exit 2; }
[ $# -eq 1 ] || usage
version=$1
if ! [[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]]; then
	echo "release: VERSION $version: want a semantic version with a leading v (v1.2.3, v0.0.0-test)" >&2
	exit 2
fi
targets=${TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64}
targets=${targets//,/ }
for t in $targets; do
	[[ $t =~ ^[a-z0-9]+/[a-z0-9]+$ ]] || { echo "release: TARGETS: $t is not GOOS/GOARCH" >&2; exit 2; }
done
dist=${DIST:-dist}

ensure_go
if [ "${CHECK_GO_DIRECTIVE:-1}" != 0 ]; then
	scripts/check-go-directive.sh
fi
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	commit="$commit-dirty"
fi

# Only what this script writes is replaced: DIST may hold other files.
mkdir -p "$dist"
rm -f "$dist"/poolpilot_* "$dist"/SHA256SUMS
names=()
for t in $targets; do
	os=${t%/*} arch=${t#*/}
	name="poolpilot_${version}_${os}_${arch}"
	[ "$os" = windows ] && name="$name.exe"
	log "build $name ($commit)"
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath \
		-ldflags "-s -w -X main.version=$version -X main.commit=$commit" \
		-o "$dist/$name" ./cmd/poolpilot
	names+=("$name")
done
if command -v sha256sum >/dev/null 2>&1; then
	(cd "$dist" && sha256sum "${names[@]}" >SHA256SUMS)
else
	(cd "$dist" && shasum -a 256 "${names[@]}" >SHA256SUMS) # macOS
fi
log "wrote $dist/SHA256SUMS:"
cat "$dist/SHA256SUMS"
