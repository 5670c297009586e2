# Pinned versions of the kwok binary-runtime cluster. Sourced by build.sh,
# up.sh and down.sh; src/core/cluster/binaries.ts reads the same values
# (keep them in sync with cluster/go.mod).
KUBE_VERSION="v1.36.3"
ETCD_VERSION="v3.6.8"
KWOK_VERSION="v0.8.0"
GO_MIN_VERSION="1.26"

dappmesh_cache_dir() {
  echo "${DAPPMESH_CACHE:-$HOME/.cache/dappmesh}"
}

# One directory per combination of versions, so bumping any pin rebuilds.
dappmesh_bin_dir() {
  echo "$(dappmesh_cache_dir)/bin/kube-${KUBE_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}"
}

# kwokctl's home for our clusters (instead of ~/.kwok): config, cluster state, pid files, logs.
dappmesh_kwok_workdir() {
  echo "${DAPPMESH_KWOK_WORKDIR:-$(dappmesh_cache_dir)/kwok}"
}
