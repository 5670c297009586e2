#!/usr/bin/env bash
# Creates a kwok cluster with the binary runtime: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and the kwok controller run as local
# processes (no Docker, no root), built by build.sh. Nodes are simulated by kwok.
#
# Usage: cluster/up.sh NAME KUBECONFIG_PATH
#   Writes an admin kubeconfig (context kwok-NAME) to KUBECONFIG_PATH; ~/.kube/config is never touched.
# Environment:
#   DAPPMESH_CACHE         cache root (default ~/.cache/dappmesh)
#   DAPPMESH_KWOK_WORKDIR  kwokctl's workdir (default $DAPPMESH_CACHE/kwok)
#   DAPPMESH_KWOK_NODES    number of fake nodes (default 3)
#   DAPPMESH_KWOK_TAINT_NODES  1: taint the fake nodes kwok.x-k8s.io/node=fake:NoSchedule (local-up.sh,
#                          beside a real node: a pod there would look Running and run nothing)
#   DAPPMESH_KWOK_WAIT     how long to wait for the control plane (default 2m)
#   DAPPMESH_KWOK_LOG      kwokctl's log level: DEBUG, INFO, WARN (default), ERROR
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$here/lib.sh"

dappmesh_want_args 2 "NAME KUBECONFIG_PATH" "$@"
name="$1"
kubeconfig="$(dappmesh_absolute "$2")"
nodes="${DAPPMESH_KWOK_NODES:-3}"
wait="${DAPPMESH_KWOK_WAIT:-2m}"
log() { echo "dappmesh-cluster-up: $*" >&2; }

if [[ ! "$name" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]]; then
  echo "cluster name '$name' is not a DNS-1123 label (lower case letters, digits, '-')" >&2
  exit 2
fi

bin_dir="$("$here/build.sh")"
workdir="$(dappmesh_kwok_workdir)"
export KWOK_WORKDIR="$workdir"
mkdir -p "$workdir" "$(dirname "$kubeconfig")"

# Every binary is named, so kwokctl never downloads one.
config="$("$here/kwokctl-config.sh" "$bin_dir")"
kwokctl=("$bin_dir/kwokctl" --config "$config" -v "${DAPPMESH_KWOK_LOG:-WARN}")

if [[ -d "$workdir/clusters/$name" ]]; then
  echo "a kwok cluster named '$name' already exists; delete it first: $here/down.sh $name" >&2
  exit 1
fi

created=0
cleanup() {
  if [[ $created -eq 0 ]]; then dappmesh_undo_creation "$workdir/clusters/$name/logs" 20 "$here/down.sh" "$name"; fi
}
trap cleanup EXIT

started=$SECONDS
log "creating kwok cluster $name (Kubernetes $KUBE_VERSION)"
# kwokctl picks each component's port by probing from 32764 down for a free one, so two clusters
# created at once can pick the same ports. Creations take turns (flock, when there is one):
# once one cluster's components listen, the next creation sees those ports taken. -o keeps the
# lock out of the detached components, which would otherwise hold it for their lifetime.
create=("${kwokctl[@]}" create cluster --name "$name" --kubeconfig "$kubeconfig" --wait "$wait")
if command -v flock >/dev/null 2>&1; then
  flock -o -w 900 "$workdir/.create.lock" "${create[@]}" >&2
else
  "${create[@]}" >&2
fi
if (( nodes > 0 )); then
  "${kwokctl[@]}" --name "$name" scale node --replicas "$nodes" >&2
  if [[ "${DAPPMESH_KWOK_TAINT_NODES:-0}" == 1 ]]; then
    # Before anything is scheduled: only pods that tolerate the taint (none of dappmesh's) go there.
    "$bin_dir/kubectl" --kubeconfig "$kubeconfig" taint nodes -l type=kwok kwok.x-k8s.io/node=fake:NoSchedule --overwrite >/dev/null
  fi
  "$bin_dir/kubectl" --kubeconfig "$kubeconfig" wait --for=condition=Ready node --all --timeout="$wait" >/dev/null
fi
# The ServiceAccount controller makes each namespace's default account a moment after the API
# server answers; until then the API server refuses every pod that does not name another account.
"$bin_dir/kubectl" --kubeconfig "$kubeconfig" wait --for=create serviceaccount/default -n default --timeout="$wait" >/dev/null
created=1
log "cluster $name is up with $nodes nodes in $((SECONDS - started))s; kubeconfig: $kubeconfig"
