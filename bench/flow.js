#!/usr/bin/env node
// `npm run bench` (after `npm run build`): `dappmesh run` of a 3-transition flow (filter, join,
// aggregate: test/fixtures/run-shop) over BENCH_FLOW_ROWS sales rows (default 1M; 10M is
// `BENCH_FLOW_ROWS=10000000`) and 100k customers from Parquet, against a plain script running the
// same SQL on @duckdb/node-api (bench/lib/flow-baseline.js). Wall time and peak RSS come from GNU
// time; runs are interleaved and summarised by medians. dappmesh's extra work (schema checks on every
// write, contract checks, publishing from its in-memory engine into the file) is the difference.
// Goals (issue 11): wall ≤ 1.3× the script's, peak RSS ≤ 1.5× + 100 MiB. Writes bench/results-flow.json.
import {spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {DuckDBInstance} from '@duckdb/node-api'

import {BenchError, median} from './lib/measure.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const cli = path.join(root, 'bin/run.js')
const ROWS = Number.parseInt(process.env.BENCH_FLOW_ROWS ?? '1000000', 10)
const RUNS = Math.max(1, Number.parseInt(process.env.BENCH_FLOW_RUNS ?? '3', 10))
const CUSTOMERS = 100_000
const GOALS = {wall: 1.3, rssFactor: 1.5, rssExtraMiB: 100}
const log = (line) => process.stderr.write(`${line}\n`)

if (!existsSync('/usr/bin/time')) throw new BenchError('GNU time (/usr/bin/time) is needed for peak RSS: apt-get install time')

const work = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-bench-flow-'))
const project = path.join(work, 'shop')
cpSync(path.join(root, 'test/fixtures/run-shop'), project, {recursive: true})
rmSync(path.join(project, 'data'), {recursive: true})
const data = path.join(work, 'data')
cpSync(path.join(root, 'test/fixtures/run-shop/data'), data, {recursive: true})
const sales = path.join(data, 'sales.parquet')
const customers = path.join(data, 'customers.parquet')

log(`generating ${ROWS} sales and ${CUSTOMERS} customers as Parquet`)
{
  const db = await DuckDBInstance.create(':memory:')
  const c = await db.connect()
  await c.run(`COPY (SELECT 's' || i AS id, 'c' || (i % ${CUSTOMERS}) AS customer, CAST(((i % 1000) - 50) / 10 AS DECIMAL(38,9)) AS amount,
    CAST(i % 5 AS INTEGER) AS qty, TIMESTAMP '2026-01-01' + to_seconds(i % 1000000) AS placed_at FROM range(${ROWS}) t(i)) TO '${sales}' (FORMAT parquet)`)
  await c.run(`COPY (SELECT 'c' || i AS id, CASE WHEN i % 2 = 0 THEN 'eu' ELSE 'us' END AS region FROM range(${CUSTOMERS}) t(i)) TO '${customers}' (FORMAT parquet)`)
  c.closeSync()
  db.closeSync()
}

/** Runs a command under GNU time: wall ms and peak RSS MiB. */
function measured(args, cleanup) {
  cleanup()
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', ...args], {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: {...process.env, NO_COLOR: '1'}})
  if (r.status !== 0) throw new BenchError(`${args.join(' ')} exited ${r.status}\n${r.stdout.slice(0, 2000)}\n${r.stderr.slice(-2000)}`)
  const [seconds, kib] = r.stderr.trim().split('\n').pop().split(' ').map(Number)
  return {ms: seconds * 1000, rssMiB: kib / 1024, stdout: r.stdout}
}

const dataDir = path.join(work, 'dappmesh-data')
const dbFile = path.join(work, 'baseline.duckdb')
const cases = {
  'plain @duckdb/node-api script': () => measured([process.execPath, path.join(root, 'bench/lib/flow-baseline.js'), sales, customers, dbFile], () => rmSync(dbFile, {force: true})),
  'dappmesh run': () =>
    measured([process.execPath, cli, 'run', project, '--json', '--data-dir', dataDir, '--input', `sales-in=${sales}`, '--input', `customers-in=${customers}`], () => rmSync(dataDir, {recursive: true, force: true})),
}

const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
let report
try {
  for (let round = -1; round < RUNS; round++) {
    for (const [name, run] of round % 2 === 0 ? Object.entries(cases) : Object.entries(cases).reverse()) {
      const m = run()
      if (name === 'dappmesh run') {
        const result = JSON.parse(m.stdout)
        if (!result.ok) throw new BenchError(`dappmesh run did not pass: ${JSON.stringify(result.error ?? result.contracts)}`)
        report = result
      }
      if (round >= 0) samples[name].push(m)
      log(`${round < 0 ? 'warm-up' : `round ${round + 1}`}: ${name} ${Math.round(m.ms)} ms, ${Math.round(m.rssMiB)} MiB`)
    }
  }
} finally {
  rmSync(work, {recursive: true, force: true})
}

const stat = (name) => ({wallMs: Math.round(median(samples[name].map((s) => s.ms))), peakRssMiB: Math.round(median(samples[name].map((s) => s.rssMiB)))})
const base = stat('plain @duckdb/node-api script')
const ours = stat('dappmesh run')
const steps = Object.fromEntries(report.runs.flatMap((r) => r.transitions.map((t) => [t.name, t.ms])))
const results = {
  rows: ROWS,
  customers: CUSTOMERS,
  runs: RUNS,
  baseline: base,
  dappmesh: ours,
  wallRatio: Math.round((ours.wallMs / base.wallMs) * 100) / 100,
  rssLimitMiB: Math.round(base.peakRssMiB * GOALS.rssFactor + GOALS.rssExtraMiB),
  goals: {wallRatio: GOALS.wall, rss: `≤ ${GOALS.rssFactor}× + ${GOALS.rssExtraMiB} MiB`},
  dappmeshStepsMs: steps,
}
results.wallGoalMet = results.wallRatio <= GOALS.wall
results.rssGoalMet = ours.peakRssMiB <= results.rssLimitMiB
writeFileSync(path.join(root, 'bench/results-flow.json'), `${JSON.stringify(results, null, 2)}\n`)
console.log(`flow of ${ROWS} rows (filter, join, aggregate) from Parquet, median of ${RUNS}`)
console.log(`  plain script   ${base.wallMs} ms   ${base.peakRssMiB} MiB`)
console.log(`  dappmesh run   ${ours.wallMs} ms   ${ours.peakRssMiB} MiB`)
console.log(`  wall ${results.wallRatio}× (goal ≤ ${GOALS.wall}×: ${results.wallGoalMet ? 'met' : 'missed'}); peak RSS limit ${results.rssLimitMiB} MiB (${results.rssGoalMet ? 'met' : 'missed'})`)
console.log(`  dappmesh steps (ms): ${Object.entries(steps).map(([k, v]) => `${k} ${v}`).join(', ')}`)
