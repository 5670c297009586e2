#!/usr/bin/env bash
# Writes the KwokctlConfiguration that points kwokctl at the binaries built by
# build.sh (so it downloads nothing) and prints its path.
#
# Usage: cluster/kwokctl-config.sh BIN_DIR
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
source "$here/versions.sh"

bin_dir="$1"
workdir="$(dappmesh_kwok_workdir)"
mkdir -p "$workdir"
config="$workdir/kwokctl-dappmesh.yaml"

tmp="$(mktemp "$config.XXXXXX")"
cat >"$tmp" <<YAML
kind: KwokctlConfiguration
apiVersion: config.kwok.x-k8s.io/v1alpha1
options:
  runtime: binary
  kubeVersion: $KUBE_VERSION
  bindAddress: 127.0.0.1
  cacheDir: $workdir/cache
  kubeApiserverBinary: $bin_dir/kube-apiserver
  kubeControllerManagerBinary: $bin_dir/kube-controller-manager
  kubeSchedulerBinary: $bin_dir/kube-scheduler
  etcdBinary: $bin_dir/etcd
  kwokControllerBinary: $bin_dir/kwok
  kubectlBinary: $bin_dir/kubectl
YAML
mv -f "$tmp" "$config"
echo "$config"
