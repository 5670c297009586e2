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
