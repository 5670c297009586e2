#!/usr/bin/env bash
# Builds the real S3-compatible server the storage tests use (SeaweedFS's `weed`, Apache-2.0) from its
# Go module and caches it, keyed by version, under ${DAPPMESH_CACHE:-$HOME/.cache/dappmesh}/bin/.
# A second run finds it cached and takes milliseconds. `.ci/run` calls it after the cluster build.
#
# Usage: test/services/build-s3.sh              builds if missing, prints the binary's path
#        test/services/build-s3.sh --print-bin  prints the binary's path only (no build)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
source "$here/versions.sh"

bin_dir="$(dappmesh_services_bin_dir)"
out="$bin_dir/weed"
if [[ "${1:-}" == "--print-bin" ]]; then
  echo "$out"
  exit 0
fi
if [[ -x "$out" ]]; then
  echo "$out"
  exit 0
fi

log() { echo "dappmesh-s3-build: $*" >&2; }
if ! command -v go >/dev/null 2>&1; then
  log "go is not on PATH; install Go 1.26 or later (https://go.dev/doc/install)"
  exit 1
fi

export GOTOOLCHAIN=local CGO_ENABLED=0
jobs="${DAPPMESH_BUILD_JOBS:-2}"
mkdir -p "$bin_dir"
started=$SECONDS
log "building SeaweedFS $SEAWEEDFS_VERSION (first run on this machine; this takes a while)"
# Build to a temp name and rename, so an interrupted build never leaves a binary a later run takes as cached.
(cd "$here/s3" && go build -mod=mod -p "$jobs" -trimpath -ldflags "-s -w" -o "$out.tmp" github.com/seaweedfs/seaweedfs/weed)
mv -f "$out.tmp" "$out"
log "built in $((SECONDS - started))s"
echo "$out"
