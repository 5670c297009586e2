# What the cluster scripts share (sourced, never run): the pinned versions and paths of
# versions.sh, and the steps the kwok scripts (build.sh, up.sh, down.sh) and the real node's
# (build-node.sh, local-up.sh, local-down.sh) take alike. Each script defines log() (its own
# prefix) before calling these.

# shellcheck source=versions.sh
source "$(dirname "${BASH_SOURCE[0]}")/versions.sh"

# Exits 2 (usage) unless the script got exactly COUNT arguments.
# Usage: dappmesh_want_args COUNT "NAME KUBECONFIG_PATH" "$@"
dappmesh_want_args() {
  local count="$1" usage="$2"
  shift 2
  if [[ $# -ne $count ]]; then
    echo "usage: $0 $usage" >&2
    exit 2
  fi
}

# PATH, absolute against the working directory.
dappmesh_absolute() {
  case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac
}

# A failed creation: the last LINES lines of each component's log in LOG_DIR (for CI logs, since
# the logs go with the cluster), then DOWN_SCRIPT NAME removes what was started.
# Usage: dappmesh_undo_creation LOG_DIR LINES DOWN_SCRIPT NAME
dappmesh_undo_creation() {
  local logs="$1" lines="$2" down="$3" name="$4" f
  for f in "$logs"/*.log; do
    [[ -f "$f" ]] || continue
    log "last lines of $(basename "$f"):"
    tail -n "$lines" "$f" >&2 || true
  done
  log "creation failed; removing what was started"
  "$down" "$name" >&2 || true
}

# The start of a build script: `--print-dir` prints BIN_DIR and exits; else Go is checked and set
# up for reproducible, static builds, BIN_DIR is made, and `jobs` and `started` are set.
# Usage: dappmesh_build_start BIN_DIR "$@"
dappmesh_build_start() {
  local bin_dir="$1"
  if [[ "${2:-}" == "--print-dir" ]]; then
    echo "$bin_dir"
    exit 0
  fi
  export GOTOOLCHAIN=local
  export CGO_ENABLED=0
  # Two cores: keep the compiler from over-subscribing them.
  jobs="${DAPPMESH_BUILD_JOBS:-2}"
  if ! command -v go >/dev/null 2>&1; then
    log "go is not on PATH; install Go ${GO_MIN_VERSION} or later (https://go.dev/doc/install)"
    exit 1
  fi
  mkdir -p "$bin_dir"
  started=$SECONDS
}

# The end of a build script: how long it took (when it built anything), and BIN_DIR on stdout.
dappmesh_build_done() {
  local bin_dir="$1" elapsed=$((SECONDS - started))
  if (( elapsed > 5 )); then log "built in ${elapsed}s into $bin_dir"; fi
  echo "$bin_dir"
}

# go install of PACKAGES (path@version) into BIN_DIR, outside any module so that each project's
# own go.mod decides its dependencies, unless BIN_DIR has every binary already. Installed into a
# temporary directory and moved, so an interrupted build never leaves a binary taken as cached.
# Usage: dappmesh_go_install BIN_DIR JOBS TAGS PACKAGE...
dappmesh_go_install() {
  local bin_dir="$1" jobs="$2" tags="$3"
  shift 3
  local names=("$@") missing=0 name tmp
  for name in "${names[@]}"; do
    name="${name##*/}"
    [[ -x "$bin_dir/${name%@*}" ]] || missing=1
  done
  [[ $missing -eq 1 ]] || return 0
  tmp="$(mktemp -d "$bin_dir/.install.XXXXXX")"
  (cd "$tmp" && GOBIN="$tmp" GOFLAGS=-buildvcs=false go install -p "$jobs" -trimpath -tags "$tags" -ldflags "-s -w" "${names[@]}")
  for name in "${names[@]}"; do
    name="${name##*/}"; name="${name%@*}"
    mv -f "$tmp/$name" "$bin_dir/$name"
  done
  rm -rf "$tmp"
}
