#!/usr/bin/env bash
# Builds what the real node of `cluster create --provider local` runs, and caches it keyed by
# version under $(dappmesh_node_bin_dir): kubelet and kube-proxy (from the same Kubernetes module as
# the control plane), containerd, its runc shim and ctr, CoreDNS, and the pause (sandbox) image as a
# docker-archive. runc and the CNI plugins are Debian's. Each file is built to a temporary name and
# renamed, so an interrupted build never leaves a half-written file that a later run takes as cached.
#
# Usage: cluster/build-node.sh              builds what is missing, prints the bin dir
#        cluster/build-node.sh --print-dir  prints the bin dir only
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$here/lib.sh"

log() { echo "dappmesh-node-build: $*" >&2; }
bin_dir="$(dappmesh_node_bin_dir)"
dappmesh_build_start "$bin_dir" "$@"

build_kube() { dappmesh_build_kube "$bin_dir" "$1" "$2" "$jobs"; }
go_install() { dappmesh_go_install "$bin_dir" "$jobs" "$@"; }

build_containerd() {
  if [[ -x "$bin_dir/containerd" && -x "$bin_dir/containerd-shim-runc-v2" && -x "$bin_dir/ctr" ]]; then return 0; fi
  log "building containerd $CONTAINERD_VERSION"
  local m=github.com/containerd/containerd/v2/cmd
  go_install "no_btrfs no_devmapper no_zfs no_aufs" \
    "$m/containerd@$CONTAINERD_VERSION" "$m/containerd-shim-runc-v2@$CONTAINERD_VERSION" "$m/ctr@$CONTAINERD_VERSION"
}

build_coredns() {
  if [[ -x "$bin_dir/coredns" ]]; then return 0; fi
  log "building coredns $COREDNS_VERSION (cluster/coredns: the plugins a node needs, not all of them)"
  (cd "$here/coredns" && go build -mod=mod -p "$jobs" -trimpath -ldflags "-s -w" -o "$bin_dir/coredns.tmp" .)
  mv -f "$bin_dir/coredns.tmp" "$bin_dir/coredns"
}

# The sandbox image: our pause binary alone in a scratch image, saved as a docker-archive that
# node-up.sh imports into containerd (no registry involved, so a pod never waits for a pull).
build_pause() {
  local out="$bin_dir/pause.tar"
  if [[ -f "$out" ]]; then return 0; fi
  log "building the pause image $PAUSE_IMAGE"
  local tmp
  tmp="$(mktemp -d "$bin_dir/.pause.XXXXXX")"
  (cd "$here/pause" && go build -trimpath -ldflags "-s -w" -o "$tmp/pause" .)
  local b=(buildah --root "$tmp/root" --runroot "$tmp/runroot" --storage-driver vfs)
  local ctr
  ctr="$("${b[@]}" from scratch)"
  "${b[@]}" copy "$ctr" "$tmp/pause" /pause >/dev/null
  "${b[@]}" config --entrypoint '["/pause"]' --cmd '' --user 65535:65535 "$ctr"
  "${b[@]}" commit -q "$ctr" "$PAUSE_IMAGE" >/dev/null
  "${b[@]}" push -q "$PAUSE_IMAGE" "docker-archive:$tmp/pause.tar:$PAUSE_IMAGE"
  mv -f "$tmp/pause.tar" "$out"
  "${b[@]}" rm -a >/dev/null 2>&1 || true
  rm -rf "$tmp" 2>/dev/null || true
}

build_containerd
build_kube kubelet k8s.io/kubernetes/cmd/kubelet
build_kube kube-proxy k8s.io/kubernetes/cmd/kube-proxy
build_coredns
build_pause

dappmesh_build_done "$bin_dir"
