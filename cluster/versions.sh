# Pinned versions of the kwok binary-runtime cluster. Sourced by lib.sh (which the other cluster
# scripts source), kwokctl-config.sh and registry.sh; src/core/cluster/binaries.ts reads the same values
# (keep them in sync with cluster/go.mod).
KUBE_VERSION="v1.36.3"
ETCD_VERSION="v3.6.8"
KWOK_VERSION="v0.8.0"
GO_MIN_VERSION="1.26"
# The real node of `cluster create --provider local` (cluster/build-node.sh): kubelet and kube-proxy
# of KUBE_VERSION, containerd built from its module (Debian's 1.6 is older than kubelet 1.36 accepts),
# CoreDNS for Service names, and our own pause (sandbox) image.
CONTAINERD_VERSION="v2.2.9"
COREDNS_VERSION="v1.14.7" # keep in sync with cluster/coredns/go.mod
PAUSE_IMAGE="registry.k8s.io/pause:3.10-dappmesh"

dappmesh_cache_dir() {
  echo "${DAPPMESH_CACHE:-$HOME/.cache/dappmesh}"
}

# One directory per combination of versions, so bumping any pin rebuilds.
dappmesh_bin_dir() {
  echo "$(dappmesh_cache_dir)/bin/kube-${KUBE_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}"
}

dappmesh_node_bin_dir() {
  echo "$(dappmesh_cache_dir)/bin/node-kube-${KUBE_VERSION}_containerd-${CONTAINERD_VERSION}_coredns-${COREDNS_VERSION}"
}

# kwokctl's home for our clusters (instead of ~/.kwok): config, cluster state, pid files, logs.
dappmesh_kwok_workdir() {
  echo "${DAPPMESH_KWOK_WORKDIR:-$(dappmesh_cache_dir)/kwok}"
}

# The local image registry of `cluster create --provider local` (Debian's docker-registry). Its
# containerd uses it as the mirror of docker.io, so manifests keep the names users see. The
# storage lives in the cache, not in a cluster's directory: images survive `cluster delete`.
# src/core/cluster/registry.ts reads the same defaults.
DAPPMESH_REGISTRY_DEFAULT_ADDR="127.0.0.1:5001"
dappmesh_registry_addr() {
  echo "${DAPPMESH_REGISTRY_ADDR:-$DAPPMESH_REGISTRY_DEFAULT_ADDR}"
}
dappmesh_registry_dir() {
  echo "${DAPPMESH_REGISTRY_DIR:-$(dappmesh_cache_dir)/registry}"
}

# `cluster create --provider local`: kwokctl's workdir for its control planes (apart from the kwok
# provider's, so each lists only its own clusters) and each real node's own directory, which holds
# containerd's root and state, kubelet's root, the CNI state, the logs, pid files and the volumes.
dappmesh_local_workdir() {
  echo "${DAPPMESH_LOCAL_WORKDIR:-$(dappmesh_cache_dir)/local}"
}
dappmesh_local_node_dir() {
  echo "$(dappmesh_local_workdir)/nodes/$1"
}
# The node's network: one bridge and pod subnet (a single node per machine: kube-proxy's iptables
# chains have fixed names, so two nodes on one host would overwrite each other's rules).
DAPPMESH_LOCAL_BRIDGE="${DAPPMESH_LOCAL_BRIDGE:-dappmesh0}"
DAPPMESH_LOCAL_POD_CIDR="${DAPPMESH_LOCAL_POD_CIDR:-10.213.0.0/24}"
DAPPMESH_LOCAL_GATEWAY="${DAPPMESH_LOCAL_GATEWAY:-10.213.0.1}"
# Service ClusterIPs: away from the 10.0.0.0/24 that kube-apiserver would pick (a common LAN range:
# kube-proxy's rules would catch the host's own traffic to it).
DAPPMESH_LOCAL_SERVICE_CIDR="${DAPPMESH_LOCAL_SERVICE_CIDR:-10.214.0.0/24}"
DAPPMESH_LOCAL_SERVICE_IP="${DAPPMESH_LOCAL_SERVICE_IP:-10.214.0.1}"
# Service ClusterIPs of a kwok cluster without a real node (cluster/up.sh): nothing routes them, so
# the range is only sized, for 65,534 Services (thousands of products of several Services each).
DAPPMESH_KWOK_SIM_SERVICE_CIDR="${DAPPMESH_KWOK_SIM_SERVICE_CIDR:-10.96.0.0/16}"

# Builds one binary of the k8s.io/kubernetes module (cluster/go.mod), its version stamped as the
# release's (kwokctl and kubelet read it), unless OUT_DIR already has it. Atomic: built to a temp
# name and renamed, so an interrupted build never leaves a half-written binary taken as cached.
# Usage: dappmesh_build_kube OUT_DIR NAME PACKAGE JOBS
dappmesh_build_kube() {
  local dir="$1" name="$2" pkg="$3" jobs="$4"
  local out="$dir/$name" here
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  if [[ -x "$out" ]]; then return 0; fi
  echo "dappmesh-build: building $name $KUBE_VERSION (first run on this machine; this takes a while)" >&2
  local minor="${KUBE_VERSION#v}"; minor="${minor#*.}"; minor="${minor%%.*}"
  local major="${KUBE_VERSION#v}"; major="${major%%.*}"
  local ldflags="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$here" && go build -mod=mod -p "$jobs" -trimpath -ldflags "$ldflags" -o "$out.tmp" "$pkg")
  mv -f "$out.tmp" "$out"
}
