#!/usr/bin/env bash
# Real-node figures (root, runc and the images of test/images/build.sh needed; not part of
# `npm run bench`, which runs anywhere): cold and warm `cluster create --provider local`, the
# scaffolded product's apply-to-Ready, and the operator's and runtime's CPU and RSS while the runtime
# serves 1,000 requests for rows (read from their pods' processes on the host). The reference in
# the same run: the same 1,000 requests' wall time, and the operator's CPU over an equal idle span.
#
# Usage: bench/node.sh [--cold]   --cold first moves the cached node binaries aside (they are
#                                 rebuilt; the Go build cache stays warm) and puts them back after.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
dm() { node "$repo/bin/run.js" "$@"; }
work=$(mktemp -d)
name="bench-$$"
kc="$work/kubeconfig"
k() { kubectl --kubeconfig "$kc" "$@"; }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
cleanup() { dm cluster delete --name "$name" --kubeconfig "$kc" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

node_bin=$(bash cluster/build-node.sh --print-dir)
if [ "${1:-}" = --cold ] && [ -d "$node_bin" ]; then
  mv "$node_bin" "$node_bin.bench-aside"
  trap 'rm -rf "$node_bin"; mv "$node_bin.bench-aside" "$node_bin"; cleanup' EXIT
fi

t=$(now); dm cluster create --provider local --name "$name" --kubeconfig "$kc" >/dev/null; create1=$(since "$t")
dm cluster delete --name "$name" --kubeconfig "$kc" >/dev/null
t=$(now); dm cluster create --provider local --name "$name" --kubeconfig "$kc" >/dev/null; create2=$(since "$t")
echo "cluster create --provider local: first ${create1}s$([ "${1:-}" = --cold ] && echo ' (cold: node binaries built)'), then warm ${create2}s"

dm init "$work/orders" --name orders --domain sales --mesh acme --owner o@example.com --entity orders \
  --storage operational=postgresql --storage analytics=duckdb --yes >/dev/null
node -e 'const fs=require("fs"),f=process.argv[1];fs.writeFileSync(f,fs.readFileSync(f,"utf8").replace("      name: orders-readers\n","      name: orders-readers\n    - kind: ServiceAccount\n      name: orders-reader\n      namespace: sales\n"))' "$work/orders/mesh/roles.yaml"
dm operator install --kubeconfig "$kc" --wait --timeout 5m >/dev/null
t=$(now); dm apply "$work/orders" --kubeconfig "$kc" --wait --timeout 5m >/dev/null; ready=$(since "$t")
echo "apply --wait to Ready (operator in the cluster, Postgres and runtime pods running): ${ready}s"

k -n sales create serviceaccount orders-writers >/dev/null
k -n sales create serviceaccount orders-reader >/dev/null
ip=$(k -n sales get pod orders-runtime-0 -o jsonpath='{.status.podIP}')
curl -fsS -o /dev/null -H "Authorization: Bearer $(k -n sales create token orders-writers)" -H "Content-Type: text/csv" \
  --data-binary "@$work/orders/data/orders-events.csv" "http://$ip:8080/v1/inputs/orders-events"
k -n sales create job bench-run --from=cronjob/orders-orders-pipeline >/dev/null
k -n sales wait --for=condition=Complete job/bench-run --timeout=300s >/dev/null

# The node process of a pod, by its container's cgroup (the pod's UID is in the cgroup path).
pid_of() {
  local uid
  uid=$(k -n "$1" get pod "$2" -o jsonpath='{.metadata.uid}')
  for p in $(cat /sys/fs/cgroup/pids/dappmesh-"$name"/kubepods/*/pod"$uid"/*/cgroup.procs /sys/fs/cgroup/pids/dappmesh-"$name"/kubepods/pod"$uid"/*/cgroup.procs 2>/dev/null); do
    if tr '\0' ' ' <"/proc/$p/cmdline" | grep -q 'node'; then echo "$p"; return; fi
  done
}
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime, in clock ticks
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)
runtime=$(pid_of sales orders-runtime-0)
operator=$(pid_of dappmesh-system "$(k -n dappmesh-system get pod -o jsonpath='{.items[0].metadata.name}')")

token=$(k -n sales create token orders-reader)
r0=$(cpu "$runtime"); o0=$(cpu "$operator"); t=$(now)
node -e '
  const [url, token] = process.argv.slice(1)
  ;(async () => {
    for (let i = 0; i < 1000; i++) {
      const r = await fetch(url, {headers: {Authorization: `Bearer ${token}`}})
      if (r.status !== 200) throw new Error(`request ${i}: HTTP ${r.status}`)
      await r.arrayBuffer()
    }
  })().catch((e) => { console.error(e.message); process.exit(1) })' "http://$ip:8080/v1/ports/orders-table?format=ndjson" "$token"
serve=$(since "$t"); r1=$(cpu "$runtime"); o1=$(cpu "$operator")
sleep "$serve"
o2=$(cpu "$operator")
echo "1,000 row requests to the runtime pod (sequential, from the host): ${serve}s"
echo "  runtime:  CPU $(echo "scale=2; ($r1 - $r0) / $hz" | bc)s, RSS $(( $(rss "$runtime") / 1024 )) MiB (peak $(( $(hwm "$runtime") / 1024 )) MiB)"
echo "  operator: CPU $(echo "scale=2; ($o1 - $o0) / $hz" | bc)s meanwhile (idle span of equal length after: $(echo "scale=2; ($o2 - $o1) / $hz" | bc)s), RSS $(( $(rss "$operator") / 1024 )) MiB (peak $(( $(hwm "$operator") / 1024 )) MiB)"
