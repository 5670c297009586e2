#!/usr/bin/env bash
# Writes the KwokctlConfiguration that points kwokctl at the binaries built by
# build.sh (so it downloads nothing) and prints its path.
#
# Usage: cluster/kwokctl-config.sh BIN_DIR
# Environment:
#   DAPPMESH_KWOK_ADVERTISE_ADDRESS  for a real node (local-up.sh): the address its pods reach the
#     API server at (the pods' bridge gateway). The API server then listens on all addresses (kwokctl
#     writes 127.0.0.1 into every kubeconfig, so it must keep answering there too), advertises that
#     one as the `kubernetes` Service's endpoint, and its certificate names it. The other
#     components stay on 127.0.0.1.
#   DAPPMESH_KWOK_PKI_DIR  with the above: where kwokctl writes the cluster's certificates.
#   DAPPMESH_KWOK_SERVICE_CIDR, DAPPMESH_KWOK_SERVICE_IP  with the above: the Services' range and
#     its first address (the \`kubernetes\` Service's).
#   DAPPMESH_KWOK_SIM_SERVICE_CIDR  without a real node: the Services' range (default
#     $DAPPMESH_KWOK_SIM_SERVICE_CIDR from versions.sh). Nothing routes it, so it only has to be large.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
source "$here/versions.sh"

bin_dir="$1"
workdir="$(dappmesh_kwok_workdir)"
mkdir -p "$workdir"

tmp="$(mktemp "$workdir/kwokctl-dappmesh.yaml.XXXXXX")"
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
if [[ -n "${DAPPMESH_KWOK_ADVERTISE_ADDRESS:-}" ]]; then
  cat >>"$tmp" <<YAML
  kubeApiserverCertSANs:
  - $DAPPMESH_KWOK_ADVERTISE_ADDRESS
  - $DAPPMESH_KWOK_SERVICE_IP
componentsPatches:
- name: kube-apiserver
  extraArgs:
  # Pods reach the API server as the \`kubernetes\` Service, whose ClusterIP its certificate names.
  - key: service-cluster-ip-range
    value: $DAPPMESH_KWOK_SERVICE_CIDR
  - key: bind-address
    value: 0.0.0.0
  - key: advertise-address
    value: $DAPPMESH_KWOK_ADVERTISE_ADDRESS
  # logs, exec and port-forward reach the kubelet at the node's address (its name resolves nowhere).
  - key: kubelet-preferred-address-types
    value: InternalIP
  # ... with a client certificate the kubelet accepts (kwokctl's admin certificate, system:masters).
  - key: kubelet-client-certificate
    value: $DAPPMESH_KWOK_PKI_DIR/admin.crt
  - key: kubelet-client-key
    value: $DAPPMESH_KWOK_PKI_DIR/admin.key
# kwok must leave the real node and its pods alone: only nodes kwokctl made are simulated.
- name: kwok-controller
  extraArgs:
  - key: manage-all-nodes
    value: "false"
  - key: manage-nodes-with-annotation-selector
    value: kwok.x-k8s.io/node=fake
YAML
else
  cat >>"$tmp" <<YAML
componentsPatches:
- name: kube-apiserver
  extraArgs:
  # kube-apiserver's default range is a /24 (254 ClusterIPs) and each product makes several
  # Services: the operator bench's 100 products and more must fit.
  - key: service-cluster-ip-range
    value: $DAPPMESH_KWOK_SIM_SERVICE_CIDR
YAML
fi
# Named by its content: clusters created at once from checkouts or variants that write a different
# configuration into one workdir never read each other's.
config="$workdir/kwokctl-dappmesh-$(sha256sum "$tmp" | cut -c1-12).yaml"
mv -f "$tmp" "$config"
echo "$config"
