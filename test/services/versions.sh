# Pinned versions of the data services the storage tests run. Sourced by build-s3.sh; test/helpers/s3.ts
# asks build-s3.sh --print-bin for the binary. Keep SEAWEEDFS_VERSION in sync with s3/go.mod.
# SeaweedFS tags its releases with non-semver names (e.g. 4.01), so the Go module proxy knows it by
# pseudo-version: this is the commit of 2026-11-09 (go.mod: go 1.26.6).
SEAWEEDFS_VERSION="v0.0.0-20261109003541-7506e5f91cd6"

dappmesh_services_bin_dir() {
  echo "${DAPPMESH_CACHE:-$HOME/.cache/dappmesh}/bin/seaweedfs-${SEAWEEDFS_VERSION}"
}
