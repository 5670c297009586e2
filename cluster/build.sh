#!/usr/bin/env bash
# Builds the binaries (and a matching kubectl) of a kwok "binary runtime" cluster from source and caches
# them, keyed by version, under ${DAPPMESH_CACHE:-$HOME/.cache/dappmesh}/bin/<version>/.
# Official release binaries cannot be downloaded on our machines; the Go module
# proxy can be reached. A second run finds everything cached and takes seconds.
#
# Usage: cluster/build.sh            builds what is missing, prints the bin dir
#        cluster/build.sh --print-dir prints the bin dir only (no build)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$here/lib.sh"

log() { echo "dappmesh-cluster-build: $*" >&2; }
bin_dir="$(dappmesh_bin_dir)"
dappmesh_build_start "$bin_dir" "$@"

build_kube() { dappmesh_build_kube "$bin_dir" "$1" "$2" "$jobs"; }

build_etcd() {
  local out="$bin_dir/etcd"
  if [[ -x "$out" ]]; then return 0; fi
  log "building etcd $ETCD_VERSION"
  local ldflags="-s -w"
  (cd "$here" && go build -mod=mod -p "$jobs" -trimpath -ldflags "$ldflags" -o "$out.tmp" go.etcd.io/etcd/server/v3)
  mv -f "$out.tmp" "$out"
}

build_kwok() {
  if [[ -x "$bin_dir/kwok" && -x "$bin_dir/kwokctl" ]]; then return 0; fi
  log "building kwok and kwokctl $KWOK_VERSION"
  dappmesh_go_install "$bin_dir" "$jobs" "" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
}

build_kwok
build_etcd
build_kube kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build_kube kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
build_kube kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler
# A kubectl of the same version: up.sh waits with it, and no kubectl on PATH is needed.
build_kube kubectl k8s.io/kubernetes/cmd/kubectl

dappmesh_build_done "$bin_dir"
