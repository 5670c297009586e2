#!/usr/bin/env node
// Products of one domain that use the same local names, on a real control plane (a kwok cluster
// this script starts and stops): BENCH_PRODUCTS (default 50) products scaffolded by `dappmesh init`
// with the same entity (`item`, so every one has a storage `operational` and a port
// `item-table`), spread over BENCH_DOMAINS (default 5) domains, applied at once with `dappmesh
// operator run` watching. Measured: how many become Ready (issue #14 measured 5 of 50 before names
// were qualified by product), the time until all are, the operator's CPU-seconds and peak RSS.
// Writes bench/shared-names-results.json.
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {cpuSeconds, peakRssMiB, run} from './lib/proc.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const cli = path.join(root, 'bin/run.js')
const PRODUCTS = Math.max(2, Number.parseInt(process.env.BENCH_PRODUCTS ?? '50', 10))
const DOMAINS = Math.max(1, Number.parseInt(process.env.BENCH_DOMAINS ?? '5', 10))
const READY_TIMEOUT_MS = Number.parseInt(process.env.BENCH_READY_TIMEOUT_MS ?? `${10 * 60_000}`, 10)
// Each product runs 2 pods (its postgres StatefulSet and its runtime); a kwok node takes 110.
const NODES = Math.max(3, Math.ceil((PRODUCTS * 2) / 100))
const log = (line) => process.stderr.write(`${line}\n`)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const work = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-bench-names-'))
const cluster = `bench-names-${process.pid}`
const kubeconfig = path.join(work, 'kubeconfig')




let lastWaiting = ''
function readyCount() {
  const list = JSON.parse(run('kubectl', ['--kubeconfig', kubeconfig, 'get', 'dataproducts', '-A', '-o', 'json']).stdout)
  const ready = (p) => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True' && p.status.observedGeneration === p.metadata.generation)
  const waiting = list.items.find((p) => !ready(p))
  lastWaiting = waiting ? `${waiting.metadata.namespace}/${waiting.metadata.name}: ${(waiting.status?.conditions ?? []).find((c) => c.type === 'Ready')?.message ?? 'no status yet'}` : ''
  return list.items.filter(ready).length
}

let operator
try {
  log(`scaffolding ${PRODUCTS} products with entity item in ${DOMAINS} domains`)
  const dirs = []
  for (let i = 0; i < PRODUCTS; i++) {
    const dir = path.join(work, 'products', `p${String(i).padStart(3, '0')}`)
    const domain = `names-${i % DOMAINS}`
    run(process.execPath, [cli, 'init', dir, '--domain', domain, '--mesh', 'names', '--owner', 'team@example.com', '--entity', 'item', '--storage', 'operational=postgresql', '--storage', 'analytics=duckdb', '--yes'])
    dirs.push(dir)
  }

  log('starting a kwok cluster (cluster/up.sh)')
  run('bash', [path.join(root, 'cluster/up.sh'), cluster, kubeconfig], {stdio: ['ignore', 'ignore', 'inherit'], env: {...process.env, DAPPMESH_KWOK_NODES: String(NODES)}})
  const crds = path.join(work, 'crds.yaml')
  writeFileSync(crds, run(process.execPath, [cli, 'crds']).stdout)
  run('kubectl', ['--kubeconfig', kubeconfig, 'apply', '--server-side', '--field-manager', 'dappmesh', '-f', crds])
  run('kubectl', ['--kubeconfig', kubeconfig, 'wait', '--for=condition=Established', 'crd', '-l', 'app.kubernetes.io/part-of=dappmesh', '--timeout=120s'])
  // Two claims per product (postgres, the runtime's duckdb volume): kwok has no provisioner.
  const {loadKubeConfig} = await import(path.join(root, 'dist/core/kube/kubeconfig.js'))
  const {KubeRest} = await import(path.join(root, 'dist/core/kube/rest.js'))
  const {installLocalStorage} = await import(path.join(root, 'dist/core/cluster/local-storage.js'))
  const rest = await KubeRest.create(await loadKubeConfig({kubeconfig}))
  await installLocalStorage(rest, cluster, PRODUCTS * 2 + 10)
  rest.close()

  log('starting dappmesh operator run')
  operator = spawn(process.execPath, [cli, 'operator', 'run', '--kubeconfig', kubeconfig, '--health-port', '0'], {stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
  let operatorLog = ''
  const url = await new Promise((resolve, reject) => {
    operator.stderr.on('data', (chunk) => {
      operatorLog += chunk
      const m = /health endpoints on (http:\/\/\S+)/.exec(operatorLog)
      if (m) resolve(m[1])
    })
    operator.once('exit', (code) => reject(new Error(`the operator exited (${code}):\n${operatorLog.slice(-2000)}`)))
  })
  for (let i = 0; !(await fetch(`${url}/readyz`).then((r) => r.ok).catch(() => false)); i++) {
    if (i > 600) throw new Error('the operator did not become ready within 60 s')
    await sleep(100)
  }
  const cpuAtStart = cpuSeconds(operator.pid)

  log(`applying ${PRODUCTS} products and waiting until every one is Ready`)
  const started = Date.now()
  const apply = run(process.execPath, [cli, 'apply', ...dirs, '--kubeconfig', kubeconfig, '--json'])
  let ready = 0
  while ((ready = readyCount()) < PRODUCTS && Date.now() - started < READY_TIMEOUT_MS) await sleep(1000)
  const wallMs = Date.now() - started
  const cpu = cpuSeconds(operator.pid) - cpuAtStart
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    products: PRODUCTS,
    domains: DOMAINS,
    ready,
    allReady: ready === PRODUCTS,
    ...(ready === PRODUCTS ? {} : {waitingExample: lastWaiting}),
    objectsApplied: JSON.parse(apply.stdout).products.reduce((n, p) => n + p.objects.length, 0),
    applySeconds: Math.round(apply.ms / 100) / 10,
    applyToReadySeconds: Math.round(wallMs / 100) / 10,
    operator: {cpuSecondsToReady: Math.round(cpu * 100) / 100, cpuMillisecondsPerProduct: Math.round((cpu * 1000) / PRODUCTS), peakRssMiB: peakRssMiB(operator.pid)},
    reference: 'issue #14, before product-qualified names: 5 of 50 Ready (45 never, "missing: OutputPort item-api, DataStorage operational ..."), same scaffold, 5 domains',
  }
  writeFileSync(path.join(root, 'bench/shared-names-results.json'), JSON.stringify(result, null, 2) + '\n')
  process.stdout.write(
    `dappmesh shared-names bench — ${result.date}, ${result.cpus} cores, load ${result.loadAverage.join(' ')}\n` +
      `${ready} of ${PRODUCTS} products (entity item, ${DOMAINS} domains) Ready ${result.applyToReadySeconds} s after the apply began (reference: 5 of 50 before)\n` +
      `operator: ${result.operator.cpuSecondsToReady} CPU-s (${result.operator.cpuMillisecondsPerProduct} ms per product), peak RSS ${result.operator.peakRssMiB} MiB\n`,
  )
  if (!result.allReady) process.exitCode = 1
} finally {
  if (operator && operator.exitCode === null) {
    operator.kill('SIGTERM')
    await new Promise((resolve) => {
      const timer = setTimeout(() => {
        operator.kill('SIGKILL')
        resolve()
      }, 20_000)
      operator.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
  spawnSync('bash', [path.join(root, 'cluster/down.sh'), cluster], {stdio: ['ignore', 'ignore', 'inherit']})
  rmSync(work, {recursive: true, force: true})
}
