#!/usr/bin/env bash
# Deletes a kwok cluster made by up.sh and makes sure none of its processes is
# left: each component's PID (from kwokctl's pid files, read before deletion)
# is checked and, if still alive, stopped.
#
# Usage: cluster/down.sh NAME
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$here/lib.sh"

dappmesh_want_args 1 NAME "$@"
name="$1"
log() { echo "dappmesh-cluster-down: $*" >&2; }

bin_dir="$(dappmesh_bin_dir)"
workdir="$(dappmesh_kwok_workdir)"
export KWOK_WORKDIR="$workdir"
cluster_dir="$workdir/clusters/$name"

if [[ ! -d "$cluster_dir" ]]; then
  log "no kwok cluster named '$name' in $workdir"
  exit 0
fi

pids=()
for f in "$cluster_dir"/pids/*.pid; do
  [[ -f "$f" ]] || continue
  pid="$(tr -dc '0-9' <"$f")"
  [[ -n "$pid" ]] && pids+=("$pid")
done

# A PID counts as ours while its command line still names this cluster's directory, so a
# recycled PID is never signalled.
ours() {
  local pid="$1"
  [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$cluster_dir"
}
# Gone means no /proc entry at all: an exited component stays a zombie until its parent (init,
# as kwokctl detaches them) reaps it, and it is only then that its PID is free.
gone() {
  local pid="$1"
  [[ ! -e "/proc/$pid" ]] || { ! ours "$pid" && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null; }
}
wait_gone() {
  local pid="$1" tenths="$2"
  for _ in $(seq 1 "$tenths"); do gone "$pid" && return 0; sleep 0.1; done
  gone "$pid"
}

mine=()
for pid in "${pids[@]}"; do ours "$pid" && mine+=("$pid"); done

if [[ -x "$bin_dir/kwokctl" ]]; then
  "$bin_dir/kwokctl" -v "${DAPPMESH_KWOK_LOG:-WARN}" delete cluster --name "$name" >&2 || log "kwokctl delete cluster failed; stopping the processes directly"
fi

for pid in "${mine[@]}"; do
  wait_gone "$pid" 50 && continue
  if ours "$pid"; then
    log "process $pid still running; sending TERM"
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" 50 && continue
  fi
  if ours "$pid"; then
    log "process $pid still running; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  if ! wait_gone "$pid" 50; then
    log "process $pid did not go away"
    exit 1
  fi
done

rm -rf "$cluster_dir"
log "cluster $name deleted"
