#!/usr/bin/env bash
# Creates a local cluster with a REAL node on this machine: the kwok binary-runtime control plane
# (up.sh) bound to a bridge address the pods can reach, plus containerd, runc, the bridge CNI,
# kubelet, kube-proxy (iptables) and CoreDNS as host processes, and a pool of directory-backed
# PersistentVolumes under the node's directory. Images come from the local registry
# (registry.sh), which containerd uses as the mirror of docker.io. Needs root.
# Pod traffic stays on this machine: the pods' bridge is not masqueraded, and a FORWARD rule drops
# anything from it that would be routed elsewhere.
#
# Usage: cluster/local-up.sh NAME KUBECONFIG_PATH
# Environment: DAPPMESH_KWOK_NODES (simulated kwok nodes beside the real one, default 0; tainted
#              kwok.x-k8s.io/node=fake:NoSchedule so that pods land on the real node only),
#              DAPPMESH_KWOK_WAIT (default 2m), DAPPMESH_LOCAL_VOLUMES (default 32).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$here/lib.sh"

dappmesh_want_args 2 "NAME KUBECONFIG_PATH" "$@"
name="$1"
kubeconfig="$(dappmesh_absolute "$2")"
wait="${DAPPMESH_KWOK_WAIT:-2m}"
volumes="${DAPPMESH_LOCAL_VOLUMES:-32}"
log() { echo "dappmesh-local-up: $*" >&2; }

# Exit 2 (usage) naming everything missing, before anything is started.
"$here/local-check.sh"

workdir="$(dappmesh_local_workdir)"
node_dir="$(dappmesh_local_node_dir "$name")"
bridge="$DAPPMESH_LOCAL_BRIDGE"
gateway="$DAPPMESH_LOCAL_GATEWAY"
pod_cidr="$DAPPMESH_LOCAL_POD_CIDR"
prefix="${pod_cidr#*/}"
node_name="$name-node"

if [[ -d "$workdir/nodes" ]] && [[ -n "$(ls -A "$workdir/nodes" 2>/dev/null)" ]]; then
  other="$(ls "$workdir/nodes" | head -n 1)"
  echo "a local cluster ($other) already runs a real node on this machine, and there can be only one; delete it first: dappmesh cluster delete --name $other" >&2
  exit 1
fi

started=$SECONDS
node_bin="$("$here/build-node.sh")"
mkdir -p "$node_dir"/{logs,pids,containerd/certs.d,cni/net.d,cni/ipam,kubelet,volumes,runc}

created=0
cleanup() {
  if [[ $created -eq 0 ]]; then dappmesh_undo_creation "$node_dir/logs" 15 "$here/local-down.sh" "$name"; fi
}
trap cleanup EXIT

# --- network: the bridge first, so the control plane can listen on its gateway address ---------
if ! ip link show "$bridge" >/dev/null 2>&1; then
  ip link add "$bridge" type bridge
fi
ip addr replace "$gateway/$prefix" dev "$bridge"
ip link set "$bridge" up
# Bridged pod traffic must pass iptables, or a pod reaching a Service backed by a pod on the same
# bridge never gets its reply un-NATed.
echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || log "br_netfilter is not loaded; pod-to-Service-to-pod traffic on one node may fail"
tag="dappmesh-local-$name"
iptables -C FORWARD -i "$bridge" ! -o "$bridge" -m comment --comment "$tag" -j DROP 2>/dev/null \
  || iptables -I FORWARD 1 -i "$bridge" ! -o "$bridge" -m comment --comment "$tag" -j DROP

# --- the image registry (shared, in the cache) --------------------------------------------------
"$here/registry.sh" start
registry="$(dappmesh_registry_addr)"

# --- control plane ----------------------------------------------------------------------------
log "starting the control plane on $gateway"
DAPPMESH_KWOK_WORKDIR="$workdir" DAPPMESH_KWOK_ADVERTISE_ADDRESS="$gateway" DAPPMESH_KWOK_PKI_DIR="$workdir/clusters/$name/pki" \
  DAPPMESH_KWOK_SERVICE_CIDR="$DAPPMESH_LOCAL_SERVICE_CIDR" DAPPMESH_KWOK_SERVICE_IP="$DAPPMESH_LOCAL_SERVICE_IP" DAPPMESH_KWOK_NODES="${DAPPMESH_KWOK_NODES:-0}" DAPPMESH_KWOK_TAINT_NODES=1 \
  "$here/up.sh" "$name" "$kubeconfig"
pki="$workdir/clusters/$name/pki"
# The API server listens on every address (see kwokctl-config.sh); only the host itself and the
# pods may connect.
apiserver_port="$(sed -n 's#^ *server: https://[^:]*:\([0-9]*\).*#\1#p' "$kubeconfig" | head -n 1)"
echo "$apiserver_port" >"$node_dir/apiserver-port"
iptables -I INPUT 1 -p tcp --dport "$apiserver_port" -i lo -m comment --comment "$tag" -j ACCEPT
iptables -I INPUT 2 -p tcp --dport "$apiserver_port" -i "$bridge" -m comment --comment "$tag" -j ACCEPT
iptables -I INPUT 3 -p tcp --dport "$apiserver_port" -m comment --comment "$tag" -j DROP
kubectl=("$(dappmesh_bin_dir)/kubectl" --kubeconfig "$kubeconfig")

# --- containerd -------------------------------------------------------------------------------
sock="$node_dir/containerd/containerd.sock"
# docker.io (and so unqualified names such as postgres:16) are pulled from the local registry.
mkdir -p "$node_dir/containerd/certs.d/docker.io"
cat >"$node_dir/containerd/certs.d/docker.io/hosts.toml" <<TOML
server = "http://$registry"

[host."http://$registry"]
  capabilities = ["pull", "resolve"]
TOML
cat >"$node_dir/containerd/config.toml" <<TOML
version = 3
root = "$node_dir/containerd/root"
state = "$node_dir/containerd/state"
# Plugins that would write outside the node's directory.
disabled_plugins = ["io.containerd.nri.v1.nri", "io.containerd.internal.v1.opt"]

[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[debug]
  address = ""

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "$(cat "$node_dir/snapshotter" 2>/dev/null || echo overlayfs)"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "$PAUSE_IMAGE"
  [plugins."io.containerd.cri.v1.images".registry]
    config_path = "$node_dir/containerd/certs.d"

[plugins."io.containerd.cri.v1.runtime"]
  netns_mounts_under_state_dir = true
  # Root may lack CAP_SYS_RESOURCE (as in some VMs and containers), and then no process can lower
  # its OOM score: kubelet's -998 for sandboxes would fail every pod. Keep scores >= containerd's.
  restrict_oom_score_adj = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "${DAPPMESH_RUNC:-$(command -v runc)}"
        Root = "$node_dir/runc"
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "$node_dir/cni/net.d"
    max_conf_num = 1
TOML
cat >"$node_dir/cni/net.d/10-dappmesh.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "dappmesh",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$bridge",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$node_dir/cni/ipam",
        "ranges": [[{"subnet": "$pod_cidr", "gateway": "$gateway"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "loopback"}
  ]
}
JSON

# Processes are detached (own session) and recorded by PID; local-down.sh stops them by PID.
start() {
  local component="$1"; shift
  setsid "$@" </dev/null >>"$node_dir/logs/$component.log" 2>&1 &
  echo $! >"$node_dir/pids/$component.pid"
}
wait_for() {
  local what="$1" tenths="$2"; shift 2
  for _ in $(seq 1 "$tenths"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  log "$what did not come up"
  return 1
}

log "starting containerd $CONTAINERD_VERSION"
PATH="$node_bin:$PATH" start containerd "$node_bin/containerd" --config "$node_dir/containerd/config.toml"
ctr=("$node_bin/ctr" --address "$sock" --namespace k8s.io)
wait_for containerd 300 "${ctr[@]}" version
"${ctr[@]}" images import --no-unpack=false --platform linux/amd64 "$node_bin/pause.tar" >/dev/null

# --- kubelet ----------------------------------------------------------------------------------
: >"$node_dir/resolv.conf" # pods get CoreDNS only: no name server outside this machine
# Kubelet puts pods under this cgroup (cgroupfs driver), so deletion can find and remove them all.
cgroup_root="/dappmesh-$name"
for controller in /sys/fs/cgroup/*/; do
  [[ -f "$controller/cgroup.procs" && "$controller" != */unified/ ]] && mkdir -p "$controller$cgroup_root"
done
cat >"$node_dir/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $gateway
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
cgroupDriver: cgroupfs
cgroupRoot: $cgroup_root
# This machine's cgroups are v1 controllers (hybrid); kubelet 1.35+ refuses them unless told.
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$sock
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: Webhook}
clusterDNS: [$gateway]
clusterDomain: cluster.local
resolvConf: $node_dir/resolv.conf
# A developer's disk is rarely empty: evict only when really full.
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%}
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
serializeImagePulls: false
podLogsDir: $node_dir/pod-logs
YAML
log "starting kubelet $KUBE_VERSION as node $node_name"
start kubelet "$node_bin/kubelet" --config "$node_dir/kubelet/config.yaml" --kubeconfig "$kubeconfig" \
  --root-dir "$node_dir/kubelet/root" --cert-dir "$node_dir/kubelet/pki" \
  --hostname-override "$node_name" --node-ip "$gateway" --v 1

# --- kube-proxy ---------------------------------------------------------------------------------
cat >"$node_dir/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $kubeconfig}
hostnameOverride: $node_name
clusterCIDR: $pod_cidr
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: [$gateway/32]
# 0: leave the host's conntrack sysctls as they are.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: false}
YAML
log "starting kube-proxy (iptables)"
start kube-proxy "$node_bin/kube-proxy" --config "$node_dir/kube-proxy.yaml" --v 1

# --- CoreDNS on the gateway, answering cluster names only (nothing is forwarded outside) ----------
cat >"$node_dir/Corefile" <<COREFILE
.:53 {
  bind $gateway
  errors
  kubernetes cluster.local in-addr.arpa ip6.arpa {
    kubeconfig $kubeconfig
    pods insecure
  }
  cache 5
}
COREFILE
log "starting CoreDNS on $gateway:53"
start coredns "$node_bin/coredns" -conf "$node_dir/Corefile"

log "waiting for node $node_name to be Ready"
wait_for "node $node_name" 300 "${kubectl[@]}" get node "$node_name"
"${kubectl[@]}" wait --for=condition=Ready "node/$node_name" --timeout="$wait" >/dev/null

# --- storage: directories under the node's dir, one PersistentVolume each ------------------------
# Mode 0777 like a local-path provisioner's: the pod's user (e.g. postgres, uid 999) must write.
for i in $(seq 1 "$volumes"); do
  mkdir -p "$node_dir/volumes/volume-$i"
  chmod 0777 "$node_dir/volumes/volume-$i"
done
echo "$node_dir/volumes" >"$node_dir/volumes-dir"

created=1
log "local cluster $name is up with real node $node_name in $((SECONDS - started))s; kubeconfig: $kubeconfig"
