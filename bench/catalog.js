#!/usr/bin/env node
// The mesh catalog at BENCH_CATALOG_PORTS (default 10,000) output ports: 5 ports per product in
// 20 domains, each product reading 2 ports of others (test/helpers/catalog-state.ts). In-process,
// no cluster: what the mesh loop computes and would write. Measured:
// - the reference, in the same run: format 1, the whole catalog as one ConfigMap (pretty-printed
//   JSON, as the previous version wrote it), which every change rewrote whole;
// - format 2: how many shards, the largest, and the bytes written per product change (a port
//   added to one product, over BENCH_CATALOG_CHANGES products): the changed shards plus the index
//   when it changed, as the mesh loop applies only ConfigMaps whose content differs;
// - CPU time to build the desired catalog from the caches (median of 5), both formats; for format 2
//   with the applied hashes the mesh loop compares, from scratch (the operator's first reconcile;
//   a little dearer than the whole build every reconcile paid before it was incremental, for the
//   bookkeeping it keeps) and after one port changes (CatalogBuilder keeping the previous build:
//   median over the BENCH_CATALOG_CHANGES changes).
// `npm run bench` (after `npm run build`; run with `node --import tsx` for the test helper).
// Writes bench/catalog-results.json.
import {writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {buildCatalog} = await import(path.join(root, 'dist/core/reconcile/mesh/catalog.js'))
const {CatalogBuilder, shardOf, SHARD_TARGET_BYTES} = await import(path.join(root, 'dist/core/reconcile/mesh/catalog-shards.js'))
const {generatedState} = await import(path.join(root, 'test/helpers/catalog-state.ts'))

const PORTS = Number.parseInt(process.env.BENCH_CATALOG_PORTS ?? '10000', 10)
const CHANGES = Number.parseInt(process.env.BENCH_CATALOG_CHANGES ?? '50', 10)
const MiB = 1024 * 1024
const log = (line) => process.stderr.write(`${line}\n`)

/** CPU milliseconds (user + system) of one call of `fn`, and its result. */
function cpuOnce(fn) {
  const start = process.cpuUsage()
  const result = fn()
  const used = process.cpuUsage(start)
  return {ms: (used.user + used.system) / 1000, result}
}
const median = (times) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]

/** CPU milliseconds of `fn`, median of `runs`, and its last result. */
function cpuMs(fn, runs = 5) {
  const runsDone = Array.from({length: runs}, () => cpuOnce(fn))
  return {ms: Math.round(median(runsDone.map((r) => r.ms))), result: runsDone.at(-1).result}
}

/** The desired catalog of `state` with the applied hashes of its ConfigMaps, as the mesh loop computes them. */
function meshLoopBuild(builder, state, options) {
  const desired = builder.build(state, options)
  for (const map of [desired.index, ...desired.shards]) builder.applied(map)
  return desired
}

const state = generatedState({ports: PORTS})
const format1 = cpuMs(() => `${JSON.stringify(buildCatalog(state), null, 2)}\n`)
const format2 = cpuMs(() => meshLoopBuild(new CatalogBuilder(), state))
const desired = format2.result
const shards = desired.names.length
const shardBytes = desired.shards.map((s) => Buffer.byteLength(s.data['catalog.json']))
const sizeOf = (map) => Object.values(map.data).reduce((sum, text) => sum + Buffer.byteLength(text), 0)

// One product changes at a time (it gains a port); the live catalog is the one before the change.
// The builder keeps its previous build, as the mesh loop's does, and goes back to `state` after each.
const builder = new CatalogBuilder()
meshLoopBuild(builder, state)
const written = []
const incremental = []
const remade = []
const step = Math.max(1, Math.floor(state.products.length / CHANGES))
for (let i = 0; i < CHANGES && i * step < state.products.length; i++) {
  const product = state.products[i * step].metadata
  const port = {metadata: {name: `${product.name}.extra-api`, namespace: product.namespace, labels: product.labels, resourceVersion: `bench-${i}`}, spec: {entity: 'extra', type: 'api', schema: 'extra@1.0.0/api'}}
  const changed = {...state, outputPorts: [...state.outputPorts, port]}
  const {ms, result: after} = cpuOnce(() => meshLoopBuild(builder, changed, {currentShards: shards}))
  incremental.push(ms)
  remade.push(builder.remade)
  meshLoopBuild(builder, state, {currentShards: shards})
  const rewritten = after.shards.filter((s, j) => s.data['catalog.json'] !== desired.shards[j].data['catalog.json'])
  if (rewritten.length !== 1 || rewritten[0].metadata.name !== desired.names[shardOf(product.name, shards)]) throw new Error(`a change to ${product.name} rewrote ${rewritten.map((s) => s.metadata.name).join(', ')}`)
  written.push(rewritten.reduce((sum, s) => sum + sizeOf(s), 0) + (after.index.data['index.json'] === desired.index.data['index.json'] ? 0 : sizeOf(after.index)))
}
const meanWritten = Math.round(written.reduce((a, b) => a + b, 0) / written.length)
const format1Bytes = Buffer.byteLength(format1.result)

const results = {
  ports: PORTS,
  products: state.products.length,
  format1: {configMaps: 1, bytes: format1Bytes, fitsConfigMap: format1Bytes <= MiB, bytesWrittenPerChange: format1Bytes, rebuildCpuMs: format1.ms},
  format2: {
    targetShardBytes: SHARD_TARGET_BYTES,
    shards,
    bytes: desired.bytes,
    largestShardBytes: Math.max(...shardBytes),
    smallestShardBytes: Math.min(...shardBytes),
    bytesWrittenPerChange: meanWritten,
    changesMeasured: written.length,
    rebuildCpuMs: format2.ms,
    incrementalCpuMs: Number(median(incremental).toFixed(1)),
    entriesRemadePerChange: median(remade),
  },
  writtenRatio: Number((meanWritten / format1Bytes).toFixed(4)),
  rssMiB: Math.round(process.memoryUsage().rss / MiB),
}
log(
  `catalog, ${PORTS} ports: format 1 one ConfigMap of ${(format1Bytes / MiB).toFixed(2)} MiB (over the 1 MiB limit: ${!results.format1.fitsConfigMap}), rebuilt in ${format1.ms} ms CPU; ` +
    `format 2 ${shards} shards of ${Math.min(...shardBytes)}-${Math.max(...shardBytes)} bytes, ${meanWritten} bytes written per product change (${(results.writtenRatio * 100).toFixed(1)}% of format 1), rebuilt in ${format2.ms} ms CPU from scratch, ${results.format2.incrementalCpuMs} ms after one port changes (${results.format2.entriesRemadePerChange} entry made again); RSS ${results.rssMiB} MiB`,
)
writeFileSync(path.join(root, 'bench/catalog-results.json'), `${JSON.stringify({date: new Date().toISOString(), cpus: os.cpus().length, loadAverage: os.loadavg()[0], results}, null, 2)}\n`)
