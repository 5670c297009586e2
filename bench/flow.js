#!/usr/bin/env node
// `npm run bench` (after `npm run build`): `dappmesh run` of a 3-transition flow (filter, join,
// aggregate: test/fixtures/run-shop) against a plain script running the same SQL on
// @duckdb/node-api into a DuckDB file (bench/lib/flow-baseline.js: the limit), at up to four scales:
//
//   0. 1000 sales rows, BENCH_FLOW_RUNS + 2 rounds: what both cost with next to no data, i.e. the
//      fixed cost of starting (node, oclif, loading and checking the project, DuckDB) that
//      `dappmesh run` pays on top of the script's,
//   1. BENCH_FLOW_ROWS sales rows (default 1M; 0 skips this and 0.) and 100k customers from Parquet, BENCH_FLOW_RUNS
//      interleaved rounds (default 3) after a warm-up; also `dappmesh run` of the same project with
//      the schema rules (required, primaryKey, unique) removed, which prices those checks alone.
//   2. BENCH_FLOW_ROWS_LARGE rows from Parquet (default 10M; 0 skips it),
//   3. a CSV input of BENCH_FLOW_INPUT_GB GiB (default 2; 0 skips it),
//   both with `--memory-limit BENCH_FLOW_MEMORY_LIMIT` (default 512MB; the script gets the same
//   memory_limit), BENCH_FLOW_LARGE_RUNS rounds each (default 1): peak RSS must stay bounded (DuckDB
//   spills to disk) whatever the input's size.
//
// Wall time, CPU seconds (user + system) and peak RSS come from GNU time; medians, with the range
// of the per-round ratios (dappmesh over the script of the same round) as the noise. The share of
// the schema checks comes two ways: from the run's own report (--json: each step's `checkMs`,
// the key checks and any row-by-row pass; casts and required fields are checked as rows are
// written and are not in it), and at 1M as the difference to the run without the rules. The
// report also gives the shares of contract checks and publishing.
// Goals (issue 11): wall ≤ 1.3× the script's, peak RSS ≤ 1.5× + 100 MiB, checks ≤ 20% of the run.
// Writes bench/results-flow.json.
import {spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {DuckDBInstance} from '@duckdb/node-api'

import {BenchError, median} from './lib/measure.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const cli = path.join(root, 'bin/run.js')
const count = (name, fallback) => (process.env[name] === undefined ? fallback : Math.max(0, Number(process.env[name])))
const ROWS = count('BENCH_FLOW_ROWS', 1_000_000)
const RUNS = Math.max(1, count('BENCH_FLOW_RUNS', 3))
const ROWS_LARGE = count('BENCH_FLOW_ROWS_LARGE', 10_000_000)
const INPUT_GIB = count('BENCH_FLOW_INPUT_GB', 2)
const LARGE_RUNS = Math.max(1, count('BENCH_FLOW_LARGE_RUNS', 1))
const MEMORY_LIMIT = process.env.BENCH_FLOW_MEMORY_LIMIT ?? '512MB'
const CUSTOMERS = 100_000
const GOALS = {wall: 1.3, rssFactor: 1.5, rssExtraMiB: 100, checksShare: 0.2}
const BASELINE = 'plain @duckdb/node-api script'
const DAPPMESH = 'dappmesh run'
const NO_RULES = 'dappmesh run, no schema rules'
const log = (line) => process.stderr.write(`${line}\n`)
const round2 = (x) => Math.round(x * 100) / 100

if (!existsSync('/usr/bin/time')) throw new BenchError('GNU time (/usr/bin/time) is needed for peak RSS: apt-get install time')

const work = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-bench-flow-'))
const project = path.join(work, 'shop')
cpSync(path.join(root, 'test/fixtures/run-shop'), project, {recursive: true})
rmSync(path.join(project, 'data'), {recursive: true})
// The same project with no required, primaryKey or unique field: what the run costs without those checks.
const bare = path.join(work, 'shop-no-rules')
cpSync(project, bare, {recursive: true})
for (const entity of readdirSync(path.join(bare, 'model'))) {
  const file = path.join(bare, 'model', entity, 'schema.yaml')
  writeFileSync(file, readFileSync(file, 'utf8').replaceAll(/, (primaryKey|required|unique): true/g, ''))
}

const customers = path.join(work, 'customers.parquet')
/** Sales rows as DuckDB generates them; `wide` pads the id so that a CSV of a given size has fewer rows. */
const salesSelect = (rows, wide) => `SELECT 's' || i${wide ? ` || '-' || repeat('x', 140)` : ''} AS id, 'c' || (i % ${CUSTOMERS}) AS customer,
  CAST(((i % 1000) - 50) / 10 AS DECIMAL(38,9)) AS amount, CAST(i % 5 AS INTEGER) AS qty, TIMESTAMP '2026-01-01' + to_seconds(i % 1000000) AS placed_at FROM range(${rows}) t(i)`

async function generate(statements) {
  const db = await DuckDBInstance.create(':memory:', {memory_limit: '1GB', temp_directory: path.join(work, 'gen-spill')})
  const c = await db.connect()
  for (const sql of statements) await c.run(sql)
  c.closeSync()
  db.closeSync()
}

/** Runs a command under GNU time: wall ms, CPU seconds (user + system) and peak RSS MiB. */
function measured(args, cleanup) {
  cleanup()
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', ...args], {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: {...process.env, NO_COLOR: '1'}})
  if (r.status !== 0) throw new BenchError(`${args.join(' ')} exited ${r.status}\n${r.stdout.slice(0, 2000)}\n${r.stderr.slice(-2000)}`)
  const [seconds, user, system, kib] = r.stderr.trim().split('\n').pop().split(' ').map(Number)
  return {ms: seconds * 1000, cpuS: user + system, rssMiB: kib / 1024, stdout: r.stdout}
}

/** Shares of a run's wall time from its own report. */
function shares(report, ms) {
  const sum = (values) => values.reduce((a, b) => a + (b ?? 0), 0)
  return {
    schemaChecks: sum(report.runs.flatMap((r) => r.transitions.map((t) => t.checkMs))) / ms,
    contracts: sum(report.contracts.map((c) => c.ms)) / ms,
    publish: (report.publishMs ?? 0) / ms,
  }
}

/** One scale: every case `runs` times, interleaved; medians. */
function scale({label, sales, memoryLimit, runs, warmup, noRules, fixed}) {
  const dataDir = path.join(work, 'dappmesh-data')
  const dbFile = path.join(work, 'baseline.duckdb')
  const limit = memoryLimit ? ['--memory-limit', memoryLimit] : []
  const run = (dir) => () =>
    measured([process.execPath, cli, 'run', dir, '--json', '--data-dir', dataDir, '--input', `sales-in=${sales}`, '--input', `customers-in=${customers}`, ...limit], () =>
      rmSync(dataDir, {recursive: true, force: true}))
  const cases = {
    [BASELINE]: () => measured([process.execPath, path.join(root, 'bench/lib/flow-baseline.js'), sales, customers, dbFile, ...(memoryLimit ? [memoryLimit] : [])], () => rmSync(dbFile, {force: true})),
    [DAPPMESH]: run(project),
    ...(noRules && {[NO_RULES]: run(bare)}),
  }
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  let report
  for (let round = -warmup; round < runs; round++) {
    const order = Object.entries(cases)
    for (const [name, go] of round % 2 === 0 ? order : order.reverse()) {
      const m = go()
      if (name !== BASELINE) {
        const result = JSON.parse(m.stdout)
        if (!result.ok) throw new BenchError(`${name} did not pass: ${JSON.stringify(result.error ?? result.contracts)}`)
        m.shares = shares(result, m.ms)
        if (name === DAPPMESH) report = result
      }
      if (round >= 0) samples[name].push(m)
      log(`${label} ${round < 0 ? 'warm-up' : `round ${round + 1}`}: ${name} ${Math.round(m.ms)} ms, ${m.cpuS.toFixed(1)} CPU-s, ${Math.round(m.rssMiB)} MiB`)
    }
  }
  rmSync(dataDir, {recursive: true, force: true})
  rmSync(dbFile, {force: true})

  const stat = (name) => ({
    wallMs: Math.round(median(samples[name].map((s) => s.ms))),
    cpuS: round2(median(samples[name].map((s) => s.cpuS))),
    peakRssMiB: Math.round(median(samples[name].map((s) => s.rssMiB))),
  })
  const base = stat(BASELINE)
  const ours = stat(DAPPMESH)
  const share = (key) => Math.round(median(samples[DAPPMESH].map((s) => s.shares[key])) * 1000) / 1000
  const ratios = samples[DAPPMESH].map((s, i) => s.ms / samples[BASELINE][i].ms)
  const result = {
    label,
    input: {file: path.basename(sales), mib: Math.round(statSync(sales).size / 2 ** 20)},
    ...(memoryLimit && {memoryLimit}),
    runs,
    baseline: base,
    dappmesh: ours,
    wallRatio: round2(ours.wallMs / base.wallMs),
    wallRatioRange: [round2(Math.min(...ratios)), round2(Math.max(...ratios))],
    cpuRatio: round2(ours.cpuS / base.cpuS),
    rssLimitMiB: Math.round(base.peakRssMiB * GOALS.rssFactor + GOALS.rssExtraMiB),
    shareOfRun: {schemaChecks: share('schemaChecks'), contracts: share('contracts'), publish: share('publish')},
    dappmeshStepsMs: Object.fromEntries(report.runs.flatMap((r) => r.transitions.map((t) => [t.name, {ms: t.ms, checkMs: t.checkMs}]))),
  }
  // With next to no data, what is left is the cost of starting.
  if (fixed) result.fixedCost = {wallMs: ours.wallMs - base.wallMs, cpuS: round2(ours.cpuS - base.cpuS)}
  if (noRules) {
    const without = stat(NO_RULES)
    // What required/primaryKey/unique cost on their own: the same run without them.
    result.withoutSchemaRules = without
    result.schemaRulesCost = {wallShare: round2((ours.wallMs - without.wallMs) / ours.wallMs), cpuShare: round2((ours.cpuS - without.cpuS) / ours.cpuS)}
  }
  result.wallGoalMet = result.wallRatio <= GOALS.wall
  result.rssGoalMet = ours.peakRssMiB <= result.rssLimitMiB
  return result
}

const results = {goals: {wallRatio: GOALS.wall, rss: `≤ ${GOALS.rssFactor}× + ${GOALS.rssExtraMiB} MiB`, checksShare: GOALS.checksShare}, scales: []}
try {
  log(`generating ${CUSTOMERS} customers and ${ROWS} sales as Parquet`)
  const sales = path.join(work, 'sales.parquet')
  const tiny = path.join(work, 'sales-tiny.parquet')
  await generate([
    `COPY (SELECT 'c' || i AS id, CASE WHEN i % 2 = 0 THEN 'eu' ELSE 'us' END AS region FROM range(${CUSTOMERS}) t(i)) TO '${customers}' (FORMAT parquet)`,
    `COPY (${salesSelect(ROWS, false)}) TO '${sales}' (FORMAT parquet)`,
    `COPY (${salesSelect(1000, false)}) TO '${tiny}' (FORMAT parquet)`,
  ])
  if (ROWS > 0) {
    results.scales.push(scale({label: '1000 rows', sales: tiny, runs: RUNS + 2, warmup: 1, fixed: true}))
    results.scales.push(scale({label: `${ROWS} rows`, sales, runs: RUNS, warmup: 1, noRules: true}))
  }
  rmSync(sales)

  if (ROWS_LARGE > 0) {
    log(`generating ${ROWS_LARGE} sales as Parquet`)
    const large = path.join(work, 'sales-large.parquet')
    await generate([`COPY (${salesSelect(ROWS_LARGE, false)}) TO '${large}' (FORMAT parquet)`])
    results.scales.push(scale({label: `${ROWS_LARGE} rows`, sales: large, memoryLimit: MEMORY_LIMIT, runs: LARGE_RUNS, warmup: 0}))
    rmSync(large)
  }

  if (INPUT_GIB > 0) {
    // ~187 bytes a row with the padded id.
    const rows = Math.ceil((INPUT_GIB * 2 ** 30) / 187)
    log(`generating a ${INPUT_GIB} GiB CSV (${rows} sales)`)
    const csv = path.join(work, 'sales-big.csv')
    await generate([`COPY (${salesSelect(rows, true)}) TO '${csv}' (HEADER, DELIMITER ',')`])
    results.scales.push(scale({label: `${INPUT_GIB} GiB CSV`, sales: csv, memoryLimit: MEMORY_LIMIT, runs: LARGE_RUNS, warmup: 0}))
    rmSync(csv)
  }
} finally {
  rmSync(work, {recursive: true, force: true})
}

writeFileSync(path.join(root, 'bench/results-flow.json'), `${JSON.stringify(results, null, 2)}\n`)
const pct = (x) => `${(x * 100).toFixed(1)}%`
for (const s of results.scales) {
  console.log(`flow (filter, join, aggregate), ${s.label} (${s.input.mib} MiB input${s.memoryLimit ? `, --memory-limit ${s.memoryLimit}` : ''}), median of ${s.runs}`)
  console.log(`  plain script   ${s.baseline.wallMs} ms   ${s.baseline.cpuS} CPU-s   ${s.baseline.peakRssMiB} MiB`)
  console.log(`  dappmesh run   ${s.dappmesh.wallMs} ms   ${s.dappmesh.cpuS} CPU-s   ${s.dappmesh.peakRssMiB} MiB`)
  if (s.withoutSchemaRules) console.log(`  without rules  ${s.withoutSchemaRules.wallMs} ms   ${s.withoutSchemaRules.cpuS} CPU-s   ${s.withoutSchemaRules.peakRssMiB} MiB`)
  if (s.fixedCost) console.log(`  fixed cost of dappmesh run (its start-up over the script's): ${s.fixedCost.wallMs} ms, ${s.fixedCost.cpuS} CPU-s`)
  console.log(`  wall ${s.wallRatio}× (per round ${s.wallRatioRange.join('–')}×) (goal ≤ ${GOALS.wall}×: ${s.wallGoalMet ? 'met' : 'missed'}), CPU ${s.cpuRatio}×; peak RSS limit ${s.rssLimitMiB} MiB (${s.rssGoalMet ? 'met' : 'missed'})`)
  if (s.schemaRulesCost) console.log(`  share of the run: schema rules (required, primaryKey, unique) ${pct(s.schemaRulesCost.wallShare)} of wall, ${pct(s.schemaRulesCost.cpuShare)} of CPU (goal ≤ ${pct(GOALS.checksShare)})`)
  console.log(`  share of the run (its --json timings): schema checks ${pct(s.shareOfRun.schemaChecks)} (goal ≤ ${pct(GOALS.checksShare)}), contract checks ${pct(s.shareOfRun.contracts)}, publishing ${pct(s.shareOfRun.publish)}`)
  console.log(`  dappmesh steps (ms, of which checks): ${Object.entries(s.dappmeshStepsMs).map(([k, v]) => `${k} ${v.ms} (${v.checkMs ?? 0})`).join(', ')}`)
}
