#!/usr/bin/env bash
# The main job, end to end, on a fresh machine: install, build, scaffold a product, validate it,
# draw its lineage, bring up a local cluster (kwok without Docker) with the CRDs installed, check
# it with doctor, and take it down again.
#
# Not yet part of the journey, because the commands do not exist yet: `operator run`
# (reconcile). It is an open issue; this script grows with it.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local

step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }

step "install and build"
# DAPPMESH_SKIP_INSTALL=1 reuses node_modules (for a second run on the same machine).
[ -n "${DAPPMESH_SKIP_INSTALL:-}" ] || npm ci --no-audit --no-fund
npm run build

work=$(mktemp -d)
name="journey-$$"
kubeconfig="$work/kubeconfig"
repo=$(pwd)
dm() { node "$repo/bin/run.js" "$@"; }
cleanup() {
  dm cluster delete --name "$name" --kubeconfig "$kubeconfig" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

step "dappmesh init"
dm init "$work/orders" --name orders --domain sales --mesh acme --owner sales-team@example.com \
  --entity orders --storage operational=postgresql --storage analytics=duckdb --yes

step "dappmesh validate"
dm validate "$work/orders"

step "dappmesh lineage"
dm lineage "$work/orders" -o mermaid

step "dappmesh cluster create (kwok; builds the control plane from source on first use)"
dm cluster create --provider kwok --name "$name" --kubeconfig "$kubeconfig"

step "dappmesh doctor"
dm doctor --kubeconfig "$kubeconfig" || echo "(doctor reports what is not there yet, such as the operator)" >&2

step "the CRDs in the cluster"
kubectl --kubeconfig "$kubeconfig" get crd -l app.kubernetes.io/part-of=dappmesh

step "dappmesh apply (server-side, field manager dappmesh)"
dm apply "$work/orders" --kubeconfig "$kubeconfig"

step "dappmesh apply again: nothing changes"
dm apply "$work/orders" --kubeconfig "$kubeconfig"

if node bin/run.js status --help >/dev/null 2>&1; then
  step "dappmesh status"
  (cd "$work/orders" && dm status --kubeconfig "$kubeconfig")
fi

step "dappmesh cluster delete"
dm cluster delete --name "$name" --kubeconfig "$kubeconfig"
echo "journey done" >&2
