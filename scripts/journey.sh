#!/usr/bin/env bash
# The main job, end to end, on a fresh machine: install, build, scaffold a product, validate it,
# run its flows on its sample data (schemas and contracts enforced) and its data tests, draw its
# lineage, build and push the images of entities that bring their own, bring up a local cluster
# with the CRDs installed, apply the product twice (the second apply must change nothing), and
# take the cluster down at the end. The cluster is:
# - a real node (`--provider local`) when this runs as root with runc: the images are built and
#   pushed into the local registry first (test/images/build.sh), the operator is installed in the
#   cluster, `apply --wait` waits for the product's pods, rows are pushed to its input port, its
#   workflow runs as the CronJob's Job, and rows are fetched from its pods through its output
#   port's Service (kubectl port-forward);
# - kwok otherwise (simulated nodes, so no pod really runs): the operator runs on this machine and
#   the product's data is served by `dappmesh serve` on 127.0.0.1, the runtime the cluster would run.
# DAPPMESH_JOURNEY_PROVIDER=kwok|local forces one. Any failing step stops the script with its exit code.
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

provider="${DAPPMESH_JOURNEY_PROVIDER:-}"
if [ -z "$provider" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v runc >/dev/null 2>&1; then provider=local; else provider=kwok; fi
fi
if [ "$provider" = local ]; then
  echo "journey: a real node on this machine (root and runc are here): pods really run" >&2
else
  echo "journey: kwok (simulated nodes; a real node needs root and runc): no pod really runs" >&2
fi

work=$(mktemp -d)
name="journey-$$"
kubeconfig="$work/kubeconfig"
repo=$(pwd)
dm() { node "$repo/bin/run.js" "$@"; }
registry_pid=""
operator_pid=""
serve_pid=""
forward_pid=""
cleanup() {
  status=$?
  if [ "$status" -ne 0 ] && [ -s "$work/operator.log" ]; then
    echo "--- the operator's last log lines ---" >&2
    tail -n 30 "$work/operator.log" >&2
  fi
  [ -z "$operator_pid" ] || kill "$operator_pid" 2>/dev/null || true
  [ -z "$serve_pid" ] || kill "$serve_pid" 2>/dev/null || true
  [ -z "$forward_pid" ] || kill "$forward_pid" 2>/dev/null || true
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

step "dappmesh run (the flows on the sample rows in data/, in embedded DuckDB)"
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

step "dappmesh build --push (entities that bring their own image; buildah, tagged by content, pinned by digest)"
export DAPPMESH_STORAGE_ROOT="$work/containers/root" DAPPMESH_STORAGE_RUNROOT="$work/containers/run" DAPPMESH_STORAGE_DRIVER=vfs
dm build "$work/orders" --push --registry "127.0.0.1:$port/sales" --insecure-registry

if [ "$provider" = local ]; then
  step "the images the node runs (node base, postgres:16, dappmesh), built from Debian packages into the local registry"
  test/images/build.sh
  step "dappmesh cluster create --provider local (a real node; builds its binaries from source on first use)"
  dm cluster create --provider local --name "$name" --kubeconfig "$kubeconfig"
else
  step "dappmesh cluster create (kwok; builds the control plane from source on first use)"
  dm cluster create --provider kwok --name "$name" --kubeconfig "$kubeconfig"
fi

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

if [ "$provider" = local ]; then
  step "dappmesh operator install --wait (the operator runs in the cluster, from the dappmesh image)"
  dm operator install --kubeconfig "$kubeconfig" --wait --timeout 5m
  step "dappmesh apply --wait (until the product and its pods are Ready)"
  dm apply "$work/orders" --kubeconfig "$kubeconfig" --wait --timeout 5m
  kubectl --kubeconfig "$kubeconfig" -n sales get pods -o wide

  k() { kubectl --kubeconfig "$kubeconfig" -n sales "$@"; }
  # forward SERVICE: a kubectl port-forward to it on a free port, printed; stopped by forward_stop.
  forward() {
    local port
    port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
    k port-forward "svc/$1" "$port:8080" >"$work/forward.log" 2>&1 &
    forward_pid=$!
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
    forward_port=$port
  }
  forward_stop() { kill "$forward_pid" 2>/dev/null || true; wait "$forward_pid" 2>/dev/null || true; forward_pid=""; }

  step "rows pushed to the input port by the ServiceAccount its writers' DataRole names"
  k create serviceaccount orders-writers
  forward orders-runtime
  curl -fsS -H "Authorization: Bearer $(k create token orders-writers)" -H "Content-Type: text/csv" \
    --data-binary "@$work/orders/data/orders-events.csv" "http://127.0.0.1:$forward_port/v1/inputs/orders-events"
  echo >&2
  forward_stop

  step "the workflow runs (a Job from its CronJob)"
  k create job journey-run --from=cronjob/orders--orders-pipeline
  k wait --for=condition=Complete job/journey-run --timeout=300s
  k logs job/journey-run

  step "data served by the product's pods: rows fetched through its output port's Service"
  # A consumer: a ServiceAccount added to the readers' DataRole.
  k create serviceaccount orders-reader
  node -e '
    const fs = require("fs"); const file = process.argv[1]
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("      name: orders-readers\n", "      name: orders-readers\n    - kind: ServiceAccount\n      name: orders-reader\n      namespace: sales\n"))' \
    "$work/orders/mesh/roles.yaml"
  dm apply "$work/orders" --kubeconfig "$kubeconfig" --wait --timeout 2m
  forward orders--orders-table
  echo "GET /v1/ports/orders-table?limit=5&format=ndjson (through svc/orders--orders-table)" >&2
  # The runtime follows its product's DataRoles with a watch: the new grant reaches it within moments.
  reader_token=$(k create token orders-reader)
  for attempt in $(seq 60); do
    code=$(curl -sS -o "$work/rows.ndjson" -w '%{http_code}' -H "Authorization: Bearer $reader_token" \
      "http://127.0.0.1:$forward_port/v1/ports/orders-table?limit=5&format=ndjson")
    [ "$code" = 200 ] && break
    sleep 1
  done
  forward_stop
  if [ "$code" != 200 ]; then
    echo "GET answered $code 60s after the grant: $(cat "$work/rows.ndjson")" >&2
    k logs orders-runtime-0 --tail=30 >&2 || true
    exit 1
  fi
  echo "(granted after $attempt attempt(s))" >&2
  cat "$work/rows.ndjson"
  [ -s "$work/rows.ndjson" ] || { echo "no rows served through port orders-table" >&2; exit 1; }
elif dm operator run --help >/dev/null 2>&1; then
  step "dappmesh operator run (the reconcile loops, in the background) and apply --wait"
  dm operator run --kubeconfig "$kubeconfig" >"$work/operator.log" 2>&1 &
  operator_pid=$!
  dm apply "$work/orders" --kubeconfig "$kubeconfig" --wait --timeout 3m
fi

if [ "$provider" = kwok ]; then
step "data served: dappmesh serve (the product runtime) and rows fetched through an output port"
serve_port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
dm serve "$work/orders" --port "$serve_port" >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$serve_port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "http://127.0.0.1:$serve_port/v1/ports" > "$work/ports.json" || { cat "$work/serve.log" >&2; exit 1; }
port_name=$(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
  const ports = r.ports ?? r.items ?? r
  const served = ports.find((p) => (p.rows ?? p.rowCount ?? 0) > 0) ?? ports[0]
  if (!served) { console.error("the runtime serves no output port"); process.exit(1) }
  console.log(served.name ?? served.port)' "$work/ports.json")
echo "GET /v1/ports/$port_name?limit=5&format=ndjson" >&2
curl -fsS "http://127.0.0.1:$serve_port/v1/ports/$port_name?limit=5&format=ndjson" | tee "$work/rows.ndjson"
[ -s "$work/rows.ndjson" ] || { echo "no rows served through port $port_name" >&2; exit 1; }
kill "$serve_pid" 2>/dev/null || true
wait "$serve_pid" 2>/dev/null || true
serve_pid=""
fi

step "dappmesh status"
(cd "$work/orders" && dm status --kubeconfig "$kubeconfig")

step "dappmesh cluster delete"
dm cluster delete --name "$name" --kubeconfig "$kubeconfig"
echo "journey done" >&2
