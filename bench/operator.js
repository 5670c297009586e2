#!/usr/bin/env node
// The operator under load, on a real control plane (a kwok cluster this script starts and stops):
// BENCH_PRODUCTS (default 100) copies of examples/orders applied at once with `dappmesh operator
// run` watching; measured: wall time from the start of the apply until every DataProduct is
// Ready, the operator's CPU-seconds and peak RSS over that time, then its CPU and its API writes
// over BENCH_IDLE_SECONDS (default 60) of steady state. Writes bench/operator-results.json.
// BENCH_OPERATOR_NODE_ARGS (space-separated) go to the operator's node, e.g. `--cpu-prof
// --cpu-prof-dir=/tmp/prof` to see where its CPU goes (the profile is written when it stops).
// The operator runs with the environment of its Deployment (NODE_OPTIONS, MALLOC_ARENA_MAX: see
// dist/core/reconcile/footprint.js); BENCH_OPERATOR_NODE_OPTIONS replaces NODE_OPTIONS ('' for V8's defaults).
import {mkdtempSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {readyProducts, startCluster, startOperator, teardown} from './lib/kwok-bench.js'
import {CLK_TCK, cpuSeconds, peakRssMiB, run} from './lib/proc.js'

import {orderCopies} from './lib/products.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const cli = path.join(root, 'bin/run.js')
const PRODUCTS = Math.max(1, Number.parseInt(process.env.BENCH_PRODUCTS ?? '100', 10))
const IDLE_SECONDS = Math.max(1, Number.parseInt(process.env.BENCH_IDLE_SECONDS ?? '60', 10))
// Wall time is reported, not a goal: on a loaded machine the API server's latency decides it.
const READY_TIMEOUT_MS = Math.max(5, Number.parseFloat(process.env.BENCH_READY_TIMEOUT_MINUTES ?? '0') || PRODUCTS / 5) * 60_000
// Each product runs 5 pods (3 StatefulSets, 2 Deployments) and a kwok node takes 110: enough nodes.
const NODES = Math.max(3, Math.ceil((PRODUCTS * 5) / 100))
const log = (line) => process.stderr.write(`${line}\n`)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const work = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-bench-operator-'))
const cluster = `bench-operator-${process.pid}`
const kubeconfig = path.join(work, 'kubeconfig')




/** The sum of a Prometheus counter over all its label sets. */
function counter(text, name) {
  let sum = 0
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  return sum
}

/** A counter's values by label set, largest first: what the writes were. */
function breakdown(text, name) {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`))
    .map((line) => [line.slice(name.length + 1, line.lastIndexOf('}')), Number(line.slice(line.lastIndexOf(' ') + 1))])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
}

async function metrics(url) {
  const res = await fetch(`${url}/metrics`)
  return res.text()
}


let operator
let nodeOptions = ''
try {
  log('starting a kwok cluster (cluster/up.sh)')
  // Every product has three DataStorages, each a StatefulSet with one volume claim.
  await startCluster({root, cli, work, cluster, kubeconfig, nodes: NODES, volumes: PRODUCTS * 3 + 10})

  log(`generating ${PRODUCTS} products`)
  const dirs = orderCopies(root, path.join(work, 'products'), 'op', PRODUCTS)

  log('starting dappmesh operator run')
  const nodeArgs = (process.env.BENCH_OPERATOR_NODE_ARGS ?? '').split(' ').filter(Boolean)
  const {OPERATOR_ENV} = await import(path.join(root, 'dist/core/reconcile/footprint.js'))
  nodeOptions = process.env.BENCH_OPERATOR_NODE_OPTIONS ?? OPERATOR_ENV.NODE_OPTIONS
  const up = await startOperator({cli, kubeconfig, nodeArgs, env: {...OPERATOR_ENV, NODE_OPTIONS: nodeOptions}})
  operator = up.operator
  const url = up.url
  const cpuAtStart = cpuSeconds(operator.pid)
  const rssAtStart = peakRssMiB(operator.pid)

  log(`applying ${PRODUCTS} products and waiting until every one is Ready`)
  const started = Date.now()
  const apply = run(process.execPath, [cli, 'apply', ...dirs, '--kubeconfig', kubeconfig, '--json'])
  let ready = 0
  let waiting = ''
  while (({ready, waiting} = readyProducts(kubeconfig)).ready < PRODUCTS) {
    if (Date.now() - started > READY_TIMEOUT_MS) throw new Error(`only ${ready} of ${PRODUCTS} products Ready after ${READY_TIMEOUT_MS / 60_000} min; for example ${waiting}`)
    await sleep(500)
  }
  const wallMs = Date.now() - started
  const cpuToReady = cpuSeconds(operator.pid) - cpuAtStart
  const peakRss = peakRssMiB(operator.pid)
  const busy = await metrics(url)
  log(`all ${PRODUCTS} Ready after ${(wallMs / 1000).toFixed(1)} s; now ${IDLE_SECONDS} s of steady state`)

  // Let the last status writes and events settle, then measure a quiet minute.
  await sleep(5000)
  const before = {cpu: cpuSeconds(operator.pid), writes: counter(await metrics(url), 'dappmesh_api_writes_total'), reconciles: counter(await metrics(url), 'dappmesh_reconciles_total')}
  await sleep(IDLE_SECONDS * 1000)
  const afterText = await metrics(url)
  const after = {cpu: cpuSeconds(operator.pid), writes: counter(afterText, 'dappmesh_api_writes_total'), reconciles: counter(afterText, 'dappmesh_reconciles_total')}

  const result = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    products: PRODUCTS,
    nodes: NODES,
    objectsApplied: JSON.parse(apply.stdout).products.reduce((n, p) => n + p.objects.length, 0),
    applySeconds: Math.round(apply.ms / 100) / 10,
    applyToAllReadySeconds: Math.round(wallMs / 100) / 10,
    operator: {
      nodeOptions,
      cpuSecondsToReady: Math.round(cpuToReady * 100) / 100,
      cpuMillisecondsPerProduct: Math.round((cpuToReady * 1000) / PRODUCTS),
      rssAtStartMiB: rssAtStart,
      peakRssMiB: peakRss,
      reconcilesToReady: counter(busy, 'dappmesh_reconciles_total'),
      reconcilesPerProduct: Math.round((counter(busy, 'dappmesh_reconciles_total') / PRODUCTS) * 10) / 10,
      reconcilesByController: Object.fromEntries(breakdown(busy, 'dappmesh_reconciles_total')),
      // The watch events that asked for a reconcile (several within the coalescing window make one).
      wakesPerProductByKind: Object.fromEntries(breakdown(busy, 'dappmesh_reconcile_wakes_total').map(([labels, n]) => [labels, Math.round((n / PRODUCTS) * 100) / 100])),
      apiWritesToReady: counter(busy, 'dappmesh_api_writes_total'),
      apiWritesByKind: Object.fromEntries(breakdown(busy, 'dappmesh_api_writes_total')),
      // Every request, reads included (not watches): each costs the operator CPU.
      apiRequestsToReady: counter(busy, 'dappmesh_api_requests_total'),
      apiRequestsPerProduct: Math.round((counter(busy, 'dappmesh_api_requests_total') / PRODUCTS) * 10) / 10,
      apiRequestsPerProductByKind: Object.fromEntries(breakdown(busy, 'dappmesh_api_requests_total').map(([labels, n]) => [labels, Math.round((n / PRODUCTS) * 100) / 100])),
    },
    idle: {
      seconds: IDLE_SECONDS,
      cpuSeconds: Math.round((after.cpu - before.cpu) * 100) / 100,
      cpuPercent: Math.round(((after.cpu - before.cpu) / IDLE_SECONDS) * 10000) / 100,
      apiWrites: after.writes - before.writes,
      reconciles: after.reconciles - before.reconciles,
    },
    // The goals of issue 14 (item 7), for 100 products; other sizes are reported against them too.
    goals: {},
    reference: 'The original Rust operator is not available on this machine, so it was not measured here. Reported in issue 14 (50 products, beside dappmesh on one kwok cluster, another machine and run): 8 ms CPU per product, 13 MiB peak RSS; it polls every product every 10 s at idle.',
    notes: [
      `CPU from /proc/<pid>/stat (utime + stime, ${CLK_TCK} ticks/s): resolution 10 ms.`,
      'Ready means the DataProduct\'s Ready condition is True for its current generation: every StatefulSet, Deployment and other child exists and reports ready under kwok.',
      'The operator, the control plane and this script share the machine.',
    ],
  }
  const goal = (value, limit, unit) => ({value, goal: `<= ${limit}${unit}`, met: value <= limit})
  result.goals = {
    peakRssMiB: goal(result.operator.peakRssMiB, 64, ' MiB'),
    cpuMillisecondsPerProduct: goal(result.operator.cpuMillisecondsPerProduct, 12, ' ms'),
    idleCpuPercent: goal(result.idle.cpuPercent, 0.3, '% of a core'),
    idleApiWrites: goal(result.idle.apiWrites, 0, ''),
  }
  writeFileSync(path.join(root, 'bench/operator-results.json'), JSON.stringify(result, null, 2) + '\n')
  const o = result.operator
  const i = result.idle
  process.stdout.write(
    [
      `dappmesh operator bench — ${result.date}, node ${result.node}, ${result.cpus} cores, load ${result.loadAverage.join(' ')}`,
      `${PRODUCTS} products (${result.objectsApplied} objects) applied in ${result.applySeconds} s; all Ready ${result.applyToAllReadySeconds} s after the apply began`,
      `operator to Ready: ${o.cpuSecondsToReady} CPU-s (${o.cpuMillisecondsPerProduct} ms per product), ${o.reconcilesToReady} reconciles, ${o.apiWritesToReady} API writes; RSS ${o.rssAtStartMiB} MiB at start, peak ${o.peakRssMiB} MiB`,
      `watch events that woke a reconcile, per product: ${Object.entries(o.wakesPerProductByKind).map(([labels, n]) => `${n} ${labels}`).join('; ')}`,
      `per product: ${o.reconcilesPerProduct} reconciles, ${o.apiRequestsPerProduct} API requests (reads included), by verb and resource:`,
      ...Object.entries(o.apiRequestsPerProductByKind).map(([labels, n]) => `  ${n}  ${labels}`),
      `steady state over ${i.seconds} s: ${i.cpuSeconds} CPU-s (${i.cpuPercent}% of a core), ${i.apiWrites} API writes, ${i.reconciles} reconciles`,
      `goals: ${Object.entries(result.goals).map(([name, g]) => `${name} ${g.value} (${g.goal}) ${g.met ? 'met' : 'MISSED'}`).join('; ')}`,
      `reference: ${result.reference}`,
      'wrote bench/operator-results.json',
    ].join('\n') + '\n',
  )
} finally {
  await teardown({root, operator, cluster, work})
}
