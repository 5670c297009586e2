#!/usr/bin/env node
// The operator under load, on a real control plane (a kwok cluster this script starts and stops):
// BENCH_PRODUCTS (default 100) copies of examples/orders applied at once with `dappmesh operator
// run` watching; measured: wall time from the start of the apply until every DataProduct is
// Ready, the operator's CPU-seconds and peak RSS over that time, then its CPU and its API writes
// over BENCH_SETTLE_SECONDS (default 90) after that, while the last events arrive and V8 shrinks
// its heap, and over BENCH_IDLE_SECONDS (default 60) of steady state after those. Writes its result
// into bench/operator-results.json, one entry per number of products, operator arguments and NODE_OPTIONS (a
// run of 1,000 products leaves the entry of 100 in place).
// BENCH_PRODUCTS_PER_DOMAIN (default 1) products share each domain.
// BENCH_OPERATOR_NODE_ARGS (space-separated) go to the operator's node, e.g. `--cpu-prof
// --cpu-prof-dir=/tmp/prof` to see where its CPU goes (the profile is written when it stops);
// BENCH_OPERATOR_ARGS to `operator run`, e.g. `--leader-elect` (the lease renewals at idle).
// BENCH_HEAP_SNAPSHOT_AT_READY=N sends the operator SIGUSR2 once N products are Ready: with
// BENCH_OPERATOR_NODE_ARGS='--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=/tmp/x' it writes a heap
// snapshot there, to see what holds the memory (the snapshot itself raises the peak: not for figures).
// The operator runs with the environment of its Deployment (NODE_OPTIONS, MALLOC_ARENA_MAX: see
// dist/core/reconcile/footprint.js); BENCH_OPERATOR_NODE_OPTIONS replaces NODE_OPTIONS ('' for V8's defaults).
// DAPPMESH_OPERATOR_API_CONNECTIONS (a number, or 'unlimited') sets the cap on the operator's request connections (footprint.ts).
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {readyProducts, startCluster, startOperator, teardown} from './lib/kwok-bench.js'
import {CLK_TCK, cpuSeconds, peakRssMiB, residentMiB, run} from './lib/proc.js'

import {orderCopies} from './lib/products.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const cli = path.join(root, 'bin/run.js')
const PRODUCTS = Math.max(1, Number.parseInt(process.env.BENCH_PRODUCTS ?? '100', 10))
// By default each product has a domain of its own (the domain loop's work counts fully per product);
// issue 14's reference run had 10 products per domain (50 in 5).
const PER_DOMAIN = Math.max(1, Number.parseInt(process.env.BENCH_PRODUCTS_PER_DOMAIN ?? '1', 10))
const IDLE_SECONDS = Math.max(1, Number.parseInt(process.env.BENCH_IDLE_SECONDS ?? '60', 10))
const SETTLE_SECONDS = Math.max(1, Number.parseInt(process.env.BENCH_SETTLE_SECONDS ?? '90', 10))
const OPERATOR_ARGS = (process.env.BENCH_OPERATOR_ARGS ?? '').split(' ').filter(Boolean)
const NODE_ARGS = (process.env.BENCH_OPERATOR_NODE_ARGS ?? '').split(' ').filter(Boolean)
const RESULTS = path.join(root, 'bench/operator-results.json')
const SNAPSHOT_AT_READY = Number.parseInt(process.env.BENCH_HEAP_SNAPSHOT_AT_READY ?? '0', 10)
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
  // A kept-alive connection the operator's server closes (after 5 s idle) just as fetch reuses it
  // fails the request: ask again on a new one.
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${url}/metrics`)
      return await res.text()
    } catch (error) {
      if (attempt === 3) throw error
    }
  }
}

/** Writes of the leader election (the lease renewed every 2 s), which a leader makes however idle. */
function leaseWrites(text) {
  return Object.entries(Object.fromEntries(breakdown(text, 'dappmesh_api_writes_total')))
    .filter(([labels]) => labels.includes('controller="leader-election"'))
    .reduce((n, [, value]) => n + value, 0)
}

/** One series of a gauge or counter, by its exact label set (e.g. 'use="requests"'). */
function series(text, name, labels) {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `))
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1))
}

/** A gauge's value in MiB. */
function gaugeMiB(text, name) {
  return Math.round(counter(text, name) / 104_857.6) / 10
}

/** The largest value of each field seen so far. */
function keepPeaks(peaks, sample) {
  for (const [name, value] of Object.entries(sample)) if (Number.isFinite(value)) peaks[name] = Math.max(peaks[name] ?? 0, value)
}

/** What tells one configuration's result from another's in the results file. */
const configuration = (r) => `${r.products} ${r.productsPerDomain ?? 1} ${(r.operatorArgs ?? []).join(' ')} ${r.operator?.nodeOptions} ${(r.operator?.nodeArgs ?? []).join(' ')} ${r.operator?.apiConnectionsCap ?? 'default'}`

/** The results of earlier runs, but the one of this configuration (which this run replaces). */
function otherResults(result) {
  if (!existsSync(RESULTS)) return []
  const earlier = JSON.parse(readFileSync(RESULTS, 'utf8'))
  // An older file held one result, not a list.
  const list = Array.isArray(earlier) ? earlier : [earlier]
  return list.filter((r) => configuration(r) !== configuration(result))
}


let operator
let nodeOptions = ''
try {
  log('starting a kwok cluster (cluster/up.sh)')
  // Every product has three DataStorages, each a StatefulSet with one volume claim.
  await startCluster({root, cli, work, cluster, kubeconfig, nodes: NODES, volumes: PRODUCTS * 3 + 10})

  log(`generating ${PRODUCTS} products, ${PER_DOMAIN} per domain`)
  const dirs = orderCopies(root, path.join(work, 'products'), 'op', PRODUCTS, PER_DOMAIN)

  log('starting dappmesh operator run')
  const {OPERATOR_ENV} = await import(path.join(root, 'dist/core/reconcile/footprint.js'))
  nodeOptions = process.env.BENCH_OPERATOR_NODE_OPTIONS ?? OPERATOR_ENV.NODE_OPTIONS
  const up = await startOperator({cli, kubeconfig, nodeArgs: NODE_ARGS, args: OPERATOR_ARGS, env: {...OPERATOR_ENV, NODE_OPTIONS: nodeOptions}})
  operator = up.operator
  const url = up.url
  const cpuAtStart = cpuSeconds(operator.pid)
  const rssAtStart = peakRssMiB(operator.pid)
  const residentAtStart = residentMiB(operator.pid)
  // VmHWM is the only true peak, and it counts the node binary's shared pages too: the split,
  // and V8's heap, are sampled while products are applied (their largest samples, not true peaks).
  const peaks = {}
  const connectionPeaks = {}
  const sample = async () => {
    const {anon, file} = residentMiB(operator.pid)
    const text = await metrics(url)
    keepPeaks(peaks, {anonMiB: anon, fileMiB: file, heapUsedMiB: gaugeMiB(text, 'nodejs_heap_used_bytes'), heapTotalMiB: gaugeMiB(text, 'nodejs_heap_total_bytes'), externalMiB: gaugeMiB(text, 'nodejs_external_memory_bytes')})
    // Connections to the API server: the requests' (capped by DAPPMESH_OPERATOR_API_CONNECTIONS) and the watches'.
    keepPeaks(connectionPeaks, {requests: series(text, 'dappmesh_api_connections', 'use="requests"'), watches: series(text, 'dappmesh_api_connections', 'use="watches"')})
  }

  log(`applying ${PRODUCTS} products and waiting until every one is Ready`)
  const started = Date.now()
  const apply = run(process.execPath, [cli, 'apply', ...dirs, '--kubeconfig', kubeconfig, '--json'])
  let ready = 0
  let waiting = ''
  let snapshotTaken = false
  while (({ready, waiting} = readyProducts(kubeconfig)).ready < PRODUCTS) {
    if (SNAPSHOT_AT_READY > 0 && !snapshotTaken && ready >= SNAPSHOT_AT_READY) {
      snapshotTaken = true
      log(`${ready} products Ready: SIGUSR2 to the operator (heap snapshot)`)
      process.kill(operator.pid, 'SIGUSR2')
    }
    if (Date.now() - started > READY_TIMEOUT_MS) throw new Error(`only ${ready} of ${PRODUCTS} products Ready after ${READY_TIMEOUT_MS / 60_000} min; for example ${waiting}`)
    await sample()
    // kubectl reads every product each time: fewer times for more products.
    await sleep(Math.max(500, PRODUCTS * 2))
  }
  await sample()
  const wallMs = Date.now() - started
  const cpuToReady = cpuSeconds(operator.pid) - cpuAtStart
  const peakRss = peakRssMiB(operator.pid)
  const busy = await metrics(url)
  log(`all ${PRODUCTS} Ready after ${(wallMs / 1000).toFixed(1)} s; now ${SETTLE_SECONDS} s of settling and ${IDLE_SECONDS} s of steady state`)

  // The last status writes and events arrive, and V8's memory reducer runs its full collections
  // after the burst of allocations ends: measured on its own, then a quiet window after it.
  const point = async () => {
    const text = await metrics(url)
    const lease = leaseWrites(text)
    return {cpu: cpuSeconds(operator.pid), writes: counter(text, 'dappmesh_api_writes_total') - lease, leaseWrites: lease, reconciles: counter(text, 'dappmesh_reconciles_total')}
  }
  const window = (from, to, seconds) => ({
    seconds,
    cpuSeconds: Math.round((to.cpu - from.cpu) * 100) / 100,
    cpuPercent: Math.round(((to.cpu - from.cpu) / seconds) * 10000) / 100,
    apiWrites: to.writes - from.writes,
    leaseWrites: to.leaseWrites - from.leaseWrites,
    reconciles: to.reconciles - from.reconciles,
  })
  const readyPoint = await point()
  await sleep(SETTLE_SECONDS * 1000)
  const before = await point()
  await sleep(IDLE_SECONDS * 1000)
  const after = await point()
  const residentAtEnd = residentMiB(operator.pid)
  // What the anonymous memory left after idle is: V8's heap, or memory outside it (malloc).
  const endMetrics = await metrics(url)
  const heapAtEnd = {heapUsedMiB: gaugeMiB(endMetrics, 'nodejs_heap_used_bytes'), heapTotalMiB: gaugeMiB(endMetrics, 'nodejs_heap_total_bytes'), externalMiB: gaugeMiB(endMetrics, 'nodejs_external_memory_bytes')}

  const result = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    products: PRODUCTS,
    productsPerDomain: PER_DOMAIN,
    nodes: NODES,
    objectsApplied: JSON.parse(apply.stdout).products.reduce((n, p) => n + p.objects.length, 0),
    applySeconds: Math.round(apply.ms / 100) / 10,
    applyToAllReadySeconds: Math.round(wallMs / 100) / 10,
    operatorArgs: OPERATOR_ARGS,
    operator: {
      nodeOptions,
      nodeArgs: NODE_ARGS,
      cpuSecondsToReady: Math.round(cpuToReady * 100) / 100,
      cpuMillisecondsPerProduct: Math.round((cpuToReady * 1000) / PRODUCTS),
      rssAtStartMiB: rssAtStart,
      peakRssMiB: peakRss,
      residentAtStartMiB: residentAtStart,
      largestSamplesToReadyMiB: peaks,
      apiConnectionsCap: process.env.DAPPMESH_OPERATOR_API_CONNECTIONS ?? 'default',
      largestSamplesToReadyApiConnections: connectionPeaks,
      residentAfterIdleMiB: residentAtEnd,
      heapAfterIdleMiB: heapAtEnd,
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
    settling: window(readyPoint, before, SETTLE_SECONDS),
    idle: window(before, after, IDLE_SECONDS),
    // The goals of issue 14 (item 7), for 100 products; other sizes are reported against them too.
    goals: {},
    reference: 'The original Rust operator is not available on this machine, so it was not measured here. Reported in issue 14 (50 products, beside dappmesh on one kwok cluster, another machine and run): 8 ms CPU per product, 13 MiB peak RSS; it polls every product every 10 s at idle.',
    notes: [
      `CPU from /proc/<pid>/stat (utime + stime, ${CLK_TCK} ticks/s): resolution 10 ms.`,
      'Ready means the DataProduct\'s Ready condition is True for its current generation: every StatefulSet, Deployment and other child exists and reports ready under kwok.',
      'The operator, the control plane and this script share the machine.',
      'Memory: peakRssMiB is VmHWM (the kernel\'s peak); it counts the pages of the node binary the process touched (file, shared with other node processes), which a bare `node` already has ~34 MiB of. anon is the process\'s own memory. largestSamplesToReadyMiB are the largest of samples taken about every second until Ready (heap figures from process.memoryUsage() on /metrics).',
    ],
  }
  const goal = (value, limit, unit) => ({value, goal: `<= ${limit}${unit}`, met: value <= limit})
  result.goals = {
    peakRssMiB: goal(result.operator.peakRssMiB, 64, ' MiB'),
    cpuMillisecondsPerProduct: goal(result.operator.cpuMillisecondsPerProduct, 12, ' ms'),
    idleCpuPercent: goal(result.idle.cpuPercent, 0.3, '% of a core'),
    idleApiWrites: goal(result.idle.apiWrites, 0, ''),
  }
  const results = [...otherResults(result), result].sort((a, b) => a.products - b.products || (a.operatorArgs ?? []).length - (b.operatorArgs ?? []).length)
  writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n')
  const o = result.operator
  const i = result.idle
  process.stdout.write(
    [
      `dappmesh operator bench — ${result.date}, node ${result.node}, ${result.cpus} cores, load ${result.loadAverage.join(' ')}`,
      `${PRODUCTS} products (${PER_DOMAIN} per domain, ${result.objectsApplied} objects) applied in ${result.applySeconds} s; all Ready ${result.applyToAllReadySeconds} s after the apply began`,
      `operator${OPERATOR_ARGS.length > 0 ? ` (${OPERATOR_ARGS.join(' ')})` : ''} to Ready: ${o.cpuSecondsToReady} CPU-s (${o.cpuMillisecondsPerProduct} ms per product), ${o.reconcilesToReady} reconciles, ${o.apiWritesToReady} API writes; RSS ${o.rssAtStartMiB} MiB at start (${o.residentAtStartMiB.anon} anon + ${o.residentAtStartMiB.file} file), peak ${o.peakRssMiB} MiB`,
      `watch events that woke a reconcile, per product: ${Object.entries(o.wakesPerProductByKind).map(([labels, n]) => `${n} ${labels}`).join('; ')}`,
      `per product: ${o.reconcilesPerProduct} reconciles, ${o.apiRequestsPerProduct} API requests (reads included), by verb and resource:`,
      ...Object.entries(o.apiRequestsPerProductByKind).map(([labels, n]) => `  ${n}  ${labels}`),
      `connections to the API server (cap on requests' ${o.apiConnectionsCap}), largest samples to Ready: ${o.largestSamplesToReadyApiConnections.requests} for requests, ${o.largestSamplesToReadyApiConnections.watches} for watches`,
      `largest samples to Ready (MiB): ${Object.entries(o.largestSamplesToReadyMiB).map(([k, v]) => `${k} ${v}`).join(', ')}; after idle: ${o.residentAfterIdleMiB.anon} anon + ${o.residentAfterIdleMiB.file} file (heap ${o.heapAfterIdleMiB.heapUsedMiB} used of ${o.heapAfterIdleMiB.heapTotalMiB}, external ${o.heapAfterIdleMiB.externalMiB})`,
      `settling over ${result.settling.seconds} s after Ready: ${result.settling.cpuSeconds} CPU-s (${result.settling.cpuPercent}% of a core), ${result.settling.apiWrites} API writes, ${result.settling.reconciles} reconciles`,
      `steady state over ${i.seconds} s: ${i.cpuSeconds} CPU-s (${i.cpuPercent}% of a core), ${i.apiWrites} API writes besides ${i.leaseWrites} lease renewals, ${i.reconciles} reconciles`,
      `goals: ${Object.entries(result.goals).map(([name, g]) => `${name} ${g.value} (${g.goal}) ${g.met ? 'met' : 'MISSED'}`).join('; ')}`,
      `reference: ${result.reference}`,
      'wrote bench/operator-results.json',
    ].join('\n') + '\n',
  )
} finally {
  await teardown({root, operator, cluster, work})
}
