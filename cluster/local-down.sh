#!/usr/bin/env bash
# Deletes a cluster made by local-up.sh and leaves nothing behind: no process (kubelet, kube-proxy,
# CoreDNS, containerd, its shims, the containers, the control plane, the registry when no local
# cluster is left), no mount (container root filesystems, volumes, network namespaces), no
# cgroup, no network interface, no iptables rule or chain of its own.
#
# Usage: cluster/local-down.sh NAME
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$here/lib.sh"

dappmesh_want_args 1 NAME "$@"
name="$1"
log() { echo "dappmesh-local-down: $*" >&2; }
workdir="$(dappmesh_local_workdir)"
node_dir="$(dappmesh_local_node_dir "$name")"
node_bin="$(dappmesh_node_bin_dir)"
bridge="$DAPPMESH_LOCAL_BRIDGE"
failed=0

# The PIDs of live processes whose command line names the node's directory: kubelet, kube-proxy,
# CoreDNS, containerd and the shims (their -address is the node's socket). A recycled PID never
# matches, and the containers themselves are handled through runc below.
node_pids() {
  local f pid
  for f in /proc/[0-9]*/cmdline; do
    pid="${f#/proc/}"; pid="${pid%/cmdline}"
    [[ "$pid" == "$$" || "$pid" == "$BASHPID" ]] && continue
    if tr '\0' ' ' 2>/dev/null <"$f" | grep -qF "$node_dir/"; then
      grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null || echo "$pid"
    fi
  done
}
stop_pid() {
  local pid="$1" signal
  for signal in TERM KILL; do
    kill "-$signal" "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 50); do
      [[ -e "/proc/$pid" ]] || return 0
      grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && return 0
      sleep 0.1
    done
  done
  log "process $pid did not stop"
  failed=1
}
stop_component() {
  local component="$1" file="$node_dir/pids/$1.pid" pid
  [[ -f "$file" ]] || return 0
  pid="$(tr -dc '0-9' <"$file")"
  if [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$node_dir/"; then
    stop_pid "$pid"
  fi
  rm -f "$file"
}

if [[ -d "$node_dir" ]]; then
  # Kubelet first, so it does not restart what is being removed.
  stop_component kubelet
  # The containers: kill and delete each through runc's state (its root is the node's).
  # (containerd gives each of its namespaces, k8s.io here, its own runc root below the node's.)
  if command -v runc >/dev/null 2>&1; then
    for root in "$node_dir"/runc/*/; do
      [[ -d "$root" ]] || continue
      for id in $(runc --root "$root" list -q 2>/dev/null); do
        runc --root "$root" kill "$id" KILL >/dev/null 2>&1 || true
        runc --root "$root" delete --force "$id" >/dev/null 2>&1 || true
      done
    done
  fi
  # Whatever still runs in the pods' cgroup is a container process too (e.g. runc's state was lost).
  for _ in 1 2 3; do
    pids="$(find /sys/fs/cgroup/pids/"dappmesh-$name" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)"
    [[ -n "$pids" ]] || break
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.3
  done
  stop_component containerd
  stop_component coredns
  stop_component kube-proxy
  for pid in $(node_pids); do stop_pid "$pid"; done

  # kube-proxy removes its own chains (iptables and ip6tables).
  if [[ -x "$node_bin/kube-proxy" ]]; then
    "$node_bin/kube-proxy" --cleanup >/dev/null 2>&1 || true
  fi

  # Mounts under the node's directory, deepest first: overlay root filesystems, kubelet's volumes
  # (tmpfs, bind), network namespaces.
  for _ in 1 2 3; do
    mapfile -t mounts < <(awk -v dir="$node_dir/" 'index($5, dir) == 1 {print $5}' /proc/self/mountinfo | sort -r)
    (( ${#mounts[@]} == 0 )) && break
    for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  done
  if awk -v dir="$node_dir/" 'index($5, dir) == 1 {found=1} END {exit !found}' /proc/self/mountinfo; then
    log "mounts under $node_dir remain"
    failed=1
  fi
fi

# Pods' cgroups (kubelet's cgroupRoot), in every v1 controller, leaves first.
for dir in /sys/fs/cgroup/*/"dappmesh-$name" /sys/fs/cgroup/unified/"dappmesh-$name"; do
  [[ -d "$dir" ]] || continue
  find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
  if [[ -d "$dir" ]]; then log "cgroup $dir remains"; failed=1; fi
done

# iptables: our FORWARD rule, then kubelet's and kube-proxy's chains if any survived --cleanup.
tag="dappmesh-local-$name"
# Our rules carry the comment $tag; delete each, whatever its chain.
iptables -S 2>/dev/null | grep -F -- "--comment $tag" | while read -r rule; do
  eval "iptables ${rule/-A/-D}" 2>/dev/null || true
done
for cmd in iptables ip6tables; do
  command -v "$cmd" >/dev/null 2>&1 || continue
  for table in filter nat mangle; do
    chains="$("$cmd" -t "$table" -S 2>/dev/null | awk '$1 == "-N" && ($2 ~ /^KUBE-/ || $2 ~ /^CNI-/) {print $2}')"
    [[ -n "$chains" ]] || continue
    # Rules that jump to those chains first (from built-in chains), then the chains.
    "$cmd" -t "$table" -S 2>/dev/null | grep -E '^-A [A-Z]+ .*-j (KUBE-|CNI-)' | grep -vE '^-A (KUBE-|CNI-)' \
      | while read -r rule; do eval "$cmd -t $table ${rule/-A/-D}" 2>/dev/null || true; done
    for chain in $chains; do "$cmd" -t "$table" -F "$chain" 2>/dev/null || true; done
    for chain in $chains; do "$cmd" -t "$table" -X "$chain" 2>/dev/null || true; done
  done
done

if ip link show "$bridge" >/dev/null 2>&1; then
  ip link del "$bridge" || failed=1
fi

# The control plane.
DAPPMESH_KWOK_WORKDIR="$workdir" "$here/down.sh" "$name" || failed=1

# Never remove through a mount that is still there.
if ! awk -v dir="$node_dir/" 'index($5, dir) == 1 {found=1} END {exit !found}' /proc/self/mountinfo; then
  rm -rf "$node_dir"
fi
# The registry goes with the last local cluster (its storage, in the cache, stays).
if [[ -z "$(ls -A "$workdir/nodes" 2>/dev/null)" ]]; then
  "$here/registry.sh" stop || true
fi

if (( failed )); then
  log "cluster $name deleted, but something above was left behind"
  exit 1
fi
log "cluster $name deleted"
