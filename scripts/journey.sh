#!/usr/bin/env bash
# The main job, end to end, on a fresh machine: install, build, scaffold a product, validate it,
# draw its lineage, bring up a local cluster (kwok without Docker) with the CRDs installed, check
# it with doctor, and take it down again.
#
# Then: build and push the images to a local registry, bring up a local cluster, apply the product
# twice (the second apply must change nothing), run the operator until the product is Ready, and
# show its status. Any failing step stops the script with its exit code.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local

step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }

step "install and build"
# DAPPMESH_SKIP_INSTALL=1 reuses node_modules and system packages (a second run on one machine).
if [ -z "${DAPPMESH_SKIP_INSTALL:-}" ]; then
  scripts/install-system-deps.sh
  npm ci --no-audit --no-fund
fi
npm run build

work=$(mktemp -d)
name="journey-$$"
kubeconfig="$work/kubeconfig"
repo=$(pwd)
dm() { node "$repo/bin/run.js" "$@"; }
registry_pid=""
operator_pid=""
cleanup() {
  status=$?
  if [ "$status" -ne 0 ] && [ -s "$work/operator.log" ]; then
    echo "--- the operator's last log lines ---" >&2
    tail -n 30 "$work/operator.log" >&2
  fi
  [ -z "$operator_pid" ] || kill "$operator_pid" 2>/dev/null || true
  [ -z "$registry_pid" ] || kill "$registry_pid" 2>/dev/null || true
  dm cluster delete --name "$name" --kubeconfig "$kubeconfig" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

step "dappmesh init"
dm init "$work/orders" --name orders --domain sales --mesh acme --owner sales-team@example.com \
  --entity orders --storage operational=postgresql --storage analytics=duckdb --yes

step "dappmesh validate"
dm validate "$work/orders"

step "dappmesh run (the flows on the sample rows in data/, embedded DuckDB)"
dm run "$work/orders"

step "dappmesh test (the data tests in tests/)"
dm test "$work/orders"

step "dappmesh lineage"
dm lineage "$work/orders" -o mermaid

step "a local image registry on 127.0.0.1 (Debian's docker-registry)"
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
mkdir -p "$work/registry"
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$work/registry" "$port" > "$work/registry.yml"
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.2; done

step "dappmesh build --push (buildah, tagged by content, pinned by digest)"
export DAPPMESH_STORAGE_ROOT="$work/containers/root" DAPPMESH_STORAGE_RUNROOT="$work/containers/run" DAPPMESH_STORAGE_DRIVER=vfs
dm build "$work/orders" --push --registry "127.0.0.1:$port/sales" --insecure-registry

step "dappmesh cluster create (kwok; builds the control plane from source on first use)"
dm cluster create --provider kwok --name "$name" --kubeconfig "$kubeconfig"

step "dappmesh doctor"
dm doctor --kubeconfig "$kubeconfig" || echo "(doctor reports what is not there yet, such as the operator)" >&2

step "the CRDs in the cluster"
kubectl --kubeconfig "$kubeconfig" get crd -l app.kubernetes.io/part-of=dappmesh

step "dappmesh apply (server-side, field manager dappmesh)"
dm apply "$work/orders" --kubeconfig "$kubeconfig"

step "dappmesh apply again: nothing changes"
dm apply "$work/orders" --kubeconfig "$kubeconfig" --json > "$work/apply-again.json"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
  const changed = r.objects.filter((o) => o.action !== "unchanged")
  if (changed.length > 0) { console.error("a second apply changed:", changed.map((o) => `${o.kind}/${o.name} ${o.action}`).join(", ")); process.exit(1) }
  console.error(`${r.objects.length} objects, all unchanged`)' "$work/apply-again.json"

if dm operator run --help >/dev/null 2>&1; then
  step "dappmesh operator run (the reconcile loops, in the background) and apply --wait"
  dm operator run --kubeconfig "$kubeconfig" >"$work/operator.log" 2>&1 &
  operator_pid=$!
  dm apply "$work/orders" --kubeconfig "$kubeconfig" --wait --timeout 3m
fi

step "dappmesh status"
(cd "$work/orders" && dm status --kubeconfig "$kubeconfig")

step "dappmesh cluster delete"
dm cluster delete --name "$name" --kubeconfig "$kubeconfig"
echo "journey done" >&2
