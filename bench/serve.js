#!/usr/bin/env node
// `npm run bench:serve` (part of `npm run bench`, after `npm run build`): the product runtime
// (`dappmesh serve`) against the limits a bare implementation sets, measured in the same run:
//   1. serving: GET /v1/ports/<port>?limit=1000 with 16 concurrent clients (autocannon) on a 1M-row
//      state, against a bare node:http handler that runs the same DuckDB query and writes its rows;
//   2. ingestion: rows/s of POST /v1/inputs with NDJSON batches of 10,000 rows, against DuckDB's own
//      read_json of the same file into a table;
//   3. footprint: the runtime's RSS when idle with the 1M-row product, and its CPU over an idle window,
//      against `node -e` idle and the bare handler idle after one request (the floor any Node process
//      that embeds DuckDB starts from). RSS counts the pages of the node binary and libduckdb that the
//      process touched (file-backed, shared by every runtime on a node that runs the same image); the
//      anonymous part is what each runtime adds of its own, and PSS splits shared pages among sharers.
// Each server runs in its own process, one at a time (a DuckDB file has one writer). The runtime and
// the bare handler run with the runtime pod's NODE_OPTIONS (src/core/runtime/footprint.ts).
// Knobs: BENCH_SERVE_SECONDS (default 20 per side, split in BENCH_SERVE_ROUNDS alternating rounds,
// default 2; the goal is stated for 60), BENCH_SERVE_ROWS
// (1000000), BENCH_IDLE_SECONDS (60), BENCH_INGEST_BATCHES (20). Writes bench/serve-results.json.
import {spawn} from 'node:child_process'
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import autocannon from 'autocannon'
import {DuckDBInstance} from '@duckdb/node-api'

import {RUNTIME_NODE_OPTIONS} from '../dist/core/runtime/footprint.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const cli = path.join(root, 'bin/run.js')
const intEnv = (name, fallback) => (process.env[name] ? Math.max(1, Number.parseInt(process.env[name], 10)) : fallback)
const SECONDS = intEnv('BENCH_SERVE_SECONDS', 20)
const ROUNDS = intEnv('BENCH_SERVE_ROUNDS', 2)
const ROUND_SECONDS = Math.max(1, Math.round(SECONDS / ROUNDS))
const ROWS = intEnv('BENCH_SERVE_ROWS', 1_000_000)
const IDLE_SECONDS = intEnv('BENCH_IDLE_SECONDS', 60)
const BATCHES = intEnv('BENCH_INGEST_BATCHES', 20)
const BATCH = 10_000
const GOALS = {throughput: 0.8, p99: 2, idleRssMiB: 80, idleCpuPercent: 0.3}
const log = (line) => process.stderr.write(`${line}\n`)
const ratio = (a, b) => Math.round((a / b) * 100) / 100

const work = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-bench-serve-'))
const dir = path.join(work, 'shop')
cpSync(path.join(root, 'test/fixtures/serve/shop'), dir, {recursive: true})
const dataDir = path.join(dir, '.dappmesh', 'data')
const file = path.join(dataDir, 'analytics.duckdb')
const children = new Set()
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL')
  rmSync(work, {recursive: true, force: true})
})

async function makeData() {
  const {mkdirSync} = await import('node:fs')
  mkdirSync(dataDir, {recursive: true})
  const db = await DuckDBInstance.create(file)
  const c = await db.connect()
  await c.run(`CREATE TABLE orders__clean AS SELECT range::BIGINT AS id, 'customer-' || (range % 997) AS customer, CAST((range % 10000) / 100.0 AS DECIMAL(38,9)) AS amount, TIMESTAMP '2024-01-01' + INTERVAL (range) SECOND AS placed_at FROM range(${ROWS})`)
  c.closeSync()
  db.closeSync()
}

function startProcess(args, ready, nodeOptions = RUNTIME_NODE_OPTIONS) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NODE_OPTIONS: nodeOptions}})
    children.add(child)
    let out = ''
    const onData = (d) => {
      out += d
      const m = ready.exec(out)
      if (m) resolve({child, url: m[1]})
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)))
  })
}

async function stop(child) {
  const exited = new Promise((resolve) => child.on('exit', resolve))
  child.kill('SIGTERM')
  await exited
  children.delete(child)
}

function load(url, duration) {
  return new Promise((resolve, reject) => {
    autocannon({url, connections: 16, duration}, (error, result) => (error ? reject(error) : resolve(result)))
  })
}

const bare = `
import http from 'node:http'
import {DuckDBInstance} from '@duckdb/node-api'
const db = await DuckDBInstance.create(':memory:', {threads: '2'})
const setup = await db.connect()
await setup.run(\`ATTACH '${file}' AS analytics\`)
const pool = await Promise.all([1, 2, 3, 4].map(() => db.connect()))
const waiting = []
const sql = "SELECT CAST(to_json(struct_pack(id := id, customer := customer, amount := amount, placed_at := placed_at)) AS VARCHAR) AS line FROM (SELECT * FROM analytics.main.orders__clean ORDER BY id LIMIT 1000) ORDER BY id"
const server = http.createServer(async (req, res) => {
  const c = pool.pop() ?? (await new Promise((r) => waiting.push(r)))
  try {
    const result = await c.stream(sql)
    res.writeHead(200, {'content-type': 'application/json'})
    res.write('[')
    let first = true
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      res.write((first ? '' : ',') + chunk.getColumnValues(0).join(','))
      first = false
    }
    res.end(']')
  } finally {
    const next = waiting.shift()
    if (next) next(c)
    else pool.push(c)
  }
})
server.listen(0, '127.0.0.1', () => process.stderr.write('bare on http://127.0.0.1:' + server.address().port + '\\n'))
`

const mib = (kib) => Math.round((kib / 1024) * 10) / 10

function procStats(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (re, text) => Number(re.exec(text)?.[1] ?? Number.NaN)
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return {
    rssMiB: mib(kib(/VmRSS:\s+(\d+)/, status)),
    anonMiB: mib(kib(/RssAnon:\s+(\d+)/, status)),
    fileMiB: mib(kib(/RssFile:\s+(\d+)/, status)),
    pssMiB: mib(kib(/^Pss:\s+(\d+)/m, rollup)),
    cpuSeconds: ticks / 100,
  }
}

const settle = () => new Promise((r) => setTimeout(r, 3000))
const memoryOf = ({rssMiB, anonMiB, fileMiB, pssMiB}) => ({rssMiB, anonMiB, fileMiB, pssMiB})

/** The memory of a process that is up and has answered one request, a few seconds later. */
async function idleMemory(args, ready, request, nodeOptions) {
  const {child, url} = await startProcess(args, ready, nodeOptions)
  if (request) await fetch(`${url}${request}`).then((r) => r.text())
  await settle()
  const memory = memoryOf(procStats(child.pid))
  await stop(child)
  return memory
}

function post(url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {method: 'POST', headers: {'content-type': 'application/x-ndjson', 'content-length': Buffer.byteLength(body)}}, (res) => {
      let text = ''
      res.on('data', (d) => (text += d))
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${res.statusCode} ${text}`))))
    })
    req.on('error', reject)
    req.end(body)
  })
}

log(`making a ${ROWS}-row product…`)
await makeData()

const bareArgs = ['--input-type=module', '-e', bare.replace("import {DuckDBInstance} from '@duckdb/node-api'", `import {DuckDBInstance} from '${path.join(root, 'node_modules/@duckdb/node-api/lib/index.js')}'`)]
const serveArgs = [cli, 'serve', dir, '--port', '0']
const served = /on (http:\/\/\S+)/

// 1. Footprint first, on fresh processes: the references, then the runtime idle with the 1M-row product.
log('footprint: node -e, the bare handler, the runtime without its NODE_OPTIONS…')
const references = {
  nodeIdle: await idleMemory(['-e', "process.stderr.write('up\\n'); setInterval(() => {}, 1 << 30)"], /(up)/, undefined, ''),
  bareIdle: await idleMemory(bareArgs, /bare on (http:\/\/\S+)/, '/'),
  runtimeWithoutNodeOptions: await idleMemory(serveArgs, served, '/v1/ports/orders-api?limit=1000', ''),
}
log('runtime: footprint…')
let {child, url} = await startProcess(serveArgs, served)
await fetch(`${url}/v1/ports/orders-api?limit=1000`).then((r) => r.text())
await settle()
const idleStart = procStats(child.pid)
log(`  idle ${IDLE_SECONDS} s…`)
await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000))
const idleEnd = procStats(child.pid)
const footprint = {
  ...memoryOf(idleEnd),
  cpuPercent: Math.round(((idleEnd.cpuSeconds - idleStart.cpuSeconds) / IDLE_SECONDS) * 100 * 1000) / 1000,
  idleSeconds: IDLE_SECONDS,
  nodeOptions: RUNTIME_NODE_OPTIONS,
  references,
}

// 2. Serving, in alternating rounds (the runtime, then the bare handler, again): on a machine shared
// with other work, a slow spell then weighs on both sides instead of on whichever ran in it.
const rounds = []
for (let round = 0; round < ROUNDS; round++) {
  if (round > 0) ({child, url} = await startProcess(serveArgs, served))
  log(`round ${round + 1}/${ROUNDS}: runtime: ${ROUND_SECONDS} s of GET ?limit=1000, 16 clients…`)
  const runtime = await load(`${url}/v1/ports/orders-api?limit=1000`, ROUND_SECONDS)
  await stop(child)
  log(`round ${round + 1}/${ROUNDS}: bare node:http + DuckDB: ${ROUND_SECONDS} s…`)
  ;({child, url} = await startProcess(bareArgs, /bare on (http:\/\/\S+)/))
  const bare = await load(url, ROUND_SECONDS)
  await stop(child)
  rounds.push({runtime, bare})
}
/** The rounds as one: mean throughput and p50, the worst p99. */
const combined = (side) => {
  const r = rounds.map((x) => x[side])
  const mean = (f) => r.reduce((sum, x) => sum + f(x), 0) / r.length
  return {requests: {average: Math.round(mean((x) => x.requests.average) * 100) / 100}, latency: {p50: mean((x) => x.latency.p50), p99: Math.max(...r.map((x) => x.latency.p99))}, errors: r.reduce((n, x) => n + x.errors, 0), non2xx: r.reduce((n, x) => n + x.non2xx, 0)}
}
const runtimeServe = combined('runtime')
const bareServe = combined('bare')

// 3. Ingestion: NDJSON batches of 10,000 rows through the runtime, against read_json of the same file.
log(`ingestion: ${BATCHES} batches of ${BATCH} rows…`)
const batches = []
for (let b = 0; b < BATCHES; b++) {
  const lines = []
  for (let i = 0; i < BATCH; i++) {
    const id = b * BATCH + i
    lines.push(JSON.stringify({id, customer: `c${id % 97}`, amount: (id % 1000) / 10, placed_at: '2024-01-01 00:00:00'}))
  }
  batches.push(`${lines.join('\n')}\n`)
}
;({child, url} = await startProcess(serveArgs, served))
let started = performance.now()
for (const body of batches) {
  const r = await post(`${url}/v1/inputs/orders-in`, body)
  if (r.accepted !== BATCH) throw new Error(`batch: ${JSON.stringify(r).slice(0, 200)}`)
}
const ingestSeconds = (performance.now() - started) / 1000
await stop(child)
const ndjsonFile = path.join(work, 'batch.ndjson')
const reference = await DuckDBInstance.create(':memory:')
const rc = await reference.connect()
await rc.run('CREATE TABLE t (id BIGINT, customer VARCHAR, amount DECIMAL(38,9), placed_at TIMESTAMP)')
started = performance.now()
for (const body of batches) {
  writeFileSync(ndjsonFile, body)
  await rc.run(`INSERT INTO t SELECT * FROM read_json('${ndjsonFile}', format = 'newline_delimited')`)
}
const readJsonSeconds = (performance.now() - started) / 1000
rc.closeSync()
reference.closeSync()

const serving = (r) => ({requestsPerSecond: r.requests.average, rowsPerSecond: r.requests.average * 1000, p50ms: r.latency.p50, p99ms: r.latency.p99, errors: r.errors + r.non2xx})
const results = {
  seconds: SECONDS,
  rows: ROWS,
  serving: {runtime: serving(runtimeServe), bare: serving(bareServe), roundRatios: rounds.map((r) => ratio(r.runtime.requests.average, r.bare.requests.average))},
  ingestion: {rows: BATCH * BATCHES, runtimeRowsPerSecond: Math.round((BATCH * BATCHES) / ingestSeconds), readJsonRowsPerSecond: Math.round((BATCH * BATCHES) / readJsonSeconds)},
  footprint,
}
results.ratios = {
  throughput: ratio(results.serving.runtime.requestsPerSecond, results.serving.bare.requestsPerSecond),
  p99: ratio(results.serving.runtime.p99ms, Math.max(1, results.serving.bare.p99ms)),
  ingestion: ratio(results.ingestion.runtimeRowsPerSecond, results.ingestion.readJsonRowsPerSecond),
}
results.goals = {
  throughput: `${results.ratios.throughput} (goal ≥ ${GOALS.throughput})`,
  p99: `${results.ratios.p99} (goal ≤ ${GOALS.p99})`,
  idleRss: `${footprint.rssMiB} MiB (goal ≤ ${GOALS.idleRssMiB}; bare handler ${references.bareIdle.rssMiB}, node -e ${references.nodeIdle.rssMiB})`,
  idleAnon: `${footprint.anonMiB} MiB of its own (bare handler ${references.bareIdle.anonMiB}, node -e ${references.nodeIdle.anonMiB})`,
  idleCpu: `${footprint.cpuPercent}% (goal ≤ ${GOALS.idleCpuPercent})`,
}
writeFileSync(path.join(root, 'bench/serve-results.json'), `${JSON.stringify(results, null, 2)}\n`)
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
process.exit(0)
