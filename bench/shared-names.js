#!/usr/bin/env node
// Products of one domain that use the same local names, on a real control plane (a kwok cluster
// this script starts and stops): BENCH_PRODUCTS (default 50) products scaffolded by `dappmesh init`
// with the same entity (`item`, so every one has a storage `operational` and a port
// `item-table`), spread over BENCH_DOMAINS (default 5) domains, applied at once with `dappmesh
// operator run` watching. Measured: how many become Ready (issue #14 measured 5 of 50 before names
// were qualified by product), the time until all are, the operator's CPU-seconds and peak RSS.
// Writes bench/shared-names-results.json.
import {mkdtempSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {readyProducts, startCluster, startOperator, teardown} from './lib/kwok-bench.js'
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
  const {ready, waiting} = readyProducts(kubeconfig)
  lastWaiting = waiting
  return ready
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
  // Two claims per product (postgres, the runtime's duckdb volume).
  await startCluster({root, cli, work, cluster, kubeconfig, nodes: NODES, volumes: PRODUCTS * 2 + 10})

  log('starting dappmesh operator run')
  ;({operator} = await startOperator({cli, kubeconfig}))
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
  await teardown({root, operator, cluster, work})
}
