#!/usr/bin/env node
// `npm run bench` (after `npm run build`; run with `node --import tsx` for the test helper that
// starts Postgres): how fast the postgresql storage driver publishes the states of a 3-transition
// flow (filter, join, aggregate) against `psql \copy` of the same rows into the same tables, the
// fastest way to load CSV into Postgres. Both on a real Postgres started for the bench
// (Debian's postgresql, durability off as in the tests), interleaved, medians.
//
// What is timed for dappmesh: `writeStates` of every state of the run (the input state and the
// three results) in one transaction: DuckDB writes each as CSV, COPY streams it in, the new tables
// take the states' names, primary keys are built. For psql: one `psql -1` process that \copy's the
// same CSV files (already written, so it pays no export) into empty tables in one transaction;
// then, as a second reference, the same plus the primary keys dappmesh builds on the states.
//
// Then the whole `dappmesh run` of that flow (test/fixtures/run-shop, inputs from Parquet) with its
// states in Postgres, against the same run with the embedded DuckDB storage: rows written per
// second of the whole run, and what Postgres adds to it.
//
// Knobs: BENCH_PG_ROWS (sales rows, default 1000000), BENCH_PG_RUNS (default 3), BENCH_PG_RUN=0
// skips the whole-run comparison.
// Writes bench/storage-results.json.
import {spawnSync} from 'node:child_process'
import {cpSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {summarize} from './lib/measure.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const intEnv = (name, fallback) => (process.env[name] ? Math.max(1, Number.parseInt(process.env[name], 10)) : fallback)
const ROWS = intEnv('BENCH_PG_ROWS', 1_000_000)
const RUNS = intEnv('BENCH_PG_RUNS', 3)
const log = (line) => process.stderr.write(`${line}\n`)

const {Engine} = await import(path.join(root, 'dist/core/engine/session.js'))
const {stateTable} = await import(path.join(root, 'dist/core/engine/types.js'))
const {postgresqlDriver} = await import(path.join(root, 'dist/core/storage/postgresql.js'))
const {postgresBinDir, startPostgres} = await import(path.join(root, 'test/helpers/postgres.ts'))

const f = (name, type, extra = {}) => ({name, type, ...extra})
// The states of test/fixtures/run-shop (the flow bench/flow.js times on DuckDB): sales raw → clean
// (filter) → enriched (join with customers) → totals (aggregate), and the customers' raw state.
const STATES = {
  sales__raw: ['sales', 'raw', [f('id', 'string', {primaryKey: true}), f('customer', 'string'), f('amount', 'decimal'), f('qty', 'integer'), f('placed_at', 'timestamp')]],
  sales__clean: ['sales', 'clean', [f('id', 'string', {primaryKey: true}), f('customer', 'string'), f('amount', 'decimal'), f('qty', 'integer'), f('placed_at', 'timestamp')]],
  sales__enriched: ['sales', 'enriched', [f('id', 'string', {primaryKey: true}), f('region', 'string'), f('amount', 'decimal')]],
  sales__totals: ['sales', 'totals', [f('region', 'string', {primaryKey: true}), f('orders', 'long'), f('revenue', 'decimal')]],
  customers__raw: ['customers', 'raw', [f('id', 'string', {primaryKey: true}), f('region', 'string')]],
}
const tables = Object.fromEntries(Object.entries(STATES).map(([table, [schema, state, fields]]) => [table, stateTable({schema, version: '1.0.0', state}, {name: state, fields}, schema)]))
const CUSTOMERS = 100_000

// The flow's SQL (as in run-shop), on the same generated rows as bench/flow.js.
const FLOW = [
  `CREATE TABLE sales__raw AS SELECT 's' || i AS id, 'c' || (i % ${CUSTOMERS}) AS customer, CAST(((i % 1000) - 50) / 10 AS DECIMAL(38,9)) AS amount,
     CAST(i % 5 AS INTEGER) AS qty, TIMESTAMP '2026-01-01' + to_seconds(i % 1000000) AS placed_at FROM range(${ROWS}) t(i)`,
  `CREATE TABLE customers__raw AS SELECT 'c' || i AS id, CASE WHEN i % 2 = 0 THEN 'eu' ELSE 'us' END AS region FROM range(${CUSTOMERS}) t(i)`,
  'CREATE TABLE sales__clean AS SELECT * FROM sales__raw WHERE amount > 0',
  'CREATE TABLE sales__enriched AS SELECT c.id, k.region, c.amount FROM sales__clean AS c JOIN customers__raw AS k ON c.customer = k.id',
  'CREATE TABLE sales__totals AS SELECT region, count(*)::BIGINT AS orders, sum(amount)::DECIMAL(38,9) AS revenue FROM sales__enriched GROUP BY region',
]

/** `dappmesh run` of run-shop with its states in Postgres, then in the embedded DuckDB, interleaved. */
async function endToEnd(pg, engine) {
  const work = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-bench-storage-'))
  try {
    const sales = path.join(work, 'sales.parquet')
    const customers = path.join(work, 'customers.parquet')
    await engine.run(`COPY sales__raw TO '${sales}' (FORMAT parquet)`)
    await engine.run(`COPY customers__raw TO '${customers}' (FORMAT parquet)`)
    const projects = {}
    for (const storage of ['postgres', 'duckdb']) {
      projects[storage] = path.join(work, storage, 'shop')
      cpSync(path.join(root, 'test/fixtures/run-shop'), projects[storage], {recursive: true})
      rmSync(path.join(projects[storage], 'data'), {recursive: true})
    }

    writeFileSync(path.join(projects.postgres, 'storage.yaml'),
      'apiVersion: dappmesh.io/v1alpha1\nkind: DataStorage\nmetadata:\n  name: operational\nspec:\n  class: operational\n  engine: postgresql\n')
    const args = (dir) => [path.join(root, 'bin/run.js'), 'run', dir, '--json', '--input', `sales-in=${sales}`, '--input', `customers-in=${customers}`,
      '--data-dir', path.join(path.dirname(dir), 'data')]
    const env = {...process.env, NO_COLOR: '1', DAPPMESH_STORAGE_OPERATIONAL_URL: pg.url}
    const samples = {postgres: [], duckdb: []}
    let rowsWritten = 0
    for (let i = 0; i < RUNS; i++) {
      for (const storage of i % 2 === 0 ? ['postgres', 'duckdb'] : ['duckdb', 'postgres']) {
        const start = process.hrtime.bigint()
        const r = spawnSync(process.execPath, args(projects[storage]), {encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024})
        samples[storage].push(Number(process.hrtime.bigint() - start) / 1e6)
        if (r.status !== 0) throw new Error(`dappmesh run (${storage}) exited ${r.status}: ${r.stdout.slice(0, 2000)} ${r.stderr.slice(-2000)}`)
        const report = JSON.parse(r.stdout)
        if (storage === 'postgres') rowsWritten = report.runs.flatMap((run) => run.transitions).reduce((sum, t) => sum + (t.stateRows ?? 0) + (t.rowsRejected ?? 0), 0)
      }

      log(`  run ${i + 1}: dappmesh run, states in Postgres ${samples.postgres.at(-1).toFixed(0)} ms, in DuckDB ${samples.duckdb.at(-1).toFixed(0)} ms`)
    }

    const postgresMs = Math.round(summarize(samples.postgres).median)
    const duckdbMs = Math.round(summarize(samples.duckdb).median)
    return {rowsWritten, postgresMs, duckdbMs, rowsPerSecond: Math.round(rowsWritten / (postgresMs / 1000))}
  } finally {
    rmSync(work, {recursive: true, force: true})
  }
}

function psqlArgs(pg) {
  return ['-h', '127.0.0.1', '-p', String(pg.port), '-U', pg.user, '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qAtX']
}

function psql(pg, bin, args) {
  const start = process.hrtime.bigint()
  const r = spawnSync(path.join(bin, 'psql'), [...psqlArgs(pg), ...args], {encoding: 'utf8', env: {...process.env, PGPASSWORD: pg.password}})
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  if (r.status !== 0) throw new Error(`psql ${args.join(' ')}: ${r.stderr}`)
  return ms
}

async function main() {
  const bin = postgresBinDir()
  if (!bin) throw new Error('Postgres is not installed: run scripts/install-system-deps.sh')
  log(`postgres storage: ${ROWS} orders, ${RUNS} runs of each, interleaved`)
  const pg = await startPostgres()
  const engine = await Engine.open()
  try {
    for (const sql of FLOW) await engine.run(sql)
    const counts = {}
    for (const state of Object.keys(STATES)) counts[state] = Number((await engine.rows(`SELECT count(*)::BIGINT AS n FROM ${state}`))[0].n)
    const total = Object.values(counts).reduce((a, b) => a + b, 0)
    log(`rows per run: ${JSON.stringify(counts)} = ${total}`)

    // The reference's input: the same rows as CSV, written once, outside the timing.
    const files = {}
    for (const state of Object.keys(STATES)) {
      files[state] = path.join(engine.scratchDir, `ref-${state}.csv`)
      await engine.run(`COPY ${state} TO '${files[state]}' (FORMAT csv, HEADER false)`)
    }

    const {postgresColumns, engineColumns} = await import(path.join(root, 'dist/core/storage/postgres-copy.js'))
    const ddl = []
    for (const state of Object.keys(STATES)) ddl.push(`CREATE TABLE ref.${state} (${postgresColumns(await engineColumns(engine, state))});`)
    const copies = Object.keys(STATES).map((s) => `\\copy ref.${s} FROM '${files[s]}' WITH (FORMAT csv)`)
    // The primary keys dappmesh builds on the published tables (for lookups by key), built the same way.
    const keys = Object.keys(STATES).filter((s) => tables[s].primaryKey.length > 0)
      .map((s) => `ALTER TABLE ref.${s} ADD PRIMARY KEY (${tables[s].primaryKey.join(', ')});`)

    const driver = postgresqlDriver({
      storage: {name: 'bench', engine: 'postgresql'},
      product: 'shop',
      dataDir: engine.scratchDir,
      engine,
      env: {DAPPMESH_STORAGE_BENCH_URL: pg.url},
    })
    await driver.open()
    const samples = {dappmesh: [], psql: [], keys: []}
    for (let i = 0; i < RUNS; i++) {
      const start = process.hrtime.bigint()
      await driver.writeStates(Object.keys(STATES).map((s) => ({state: tables[s], staged: s, mode: 'replace'})), {id: `bench${i}`, startedAt: new Date()})
      samples.dappmesh.push(Number(process.hrtime.bigint() - start) / 1e6)

      psql(pg, bin, ['-c', `DROP SCHEMA IF EXISTS ref CASCADE; CREATE SCHEMA ref; ${ddl.join(' ')}`])
      const script = path.join(engine.scratchDir, 'ref.sql')
      writeFileSync(script, copies.join('\n') + '\n')
      samples.psql.push(psql(pg, bin, ['-1', '-f', script]))
      samples.keys.push(psql(pg, bin, ['-1', '-c', `SET LOCAL maintenance_work_mem = '256MB'; ${keys.join(' ')}`]))
      log(`  run ${i + 1}: dappmesh ${samples.dappmesh.at(-1).toFixed(0)} ms, psql \\copy ${samples.psql.at(-1).toFixed(0)} ms + primary keys ${samples.keys.at(-1).toFixed(0)} ms`)
    }

    await driver.close()
    const whole = process.env.BENCH_PG_RUN === '0' ? undefined : endToEnd(pg, engine)
    const d = summarize(samples.dappmesh)
    const p = summarize(samples.psql)
    const pk = summarize(samples.psql.map((ms, i) => ms + samples.keys[i]))
    const result = {
      rows: total,
      states: counts,
      runs: RUNS,
      dappmesh: {medianMs: Math.round(d.median), rowsPerSecond: Math.round(total / (d.median / 1000))},
      psqlCopy: {medianMs: Math.round(p.median), rowsPerSecond: Math.round(total / (p.median / 1000))},
      ratio: Math.round((d.median / p.median) * 100) / 100,
      psqlCopyAndKeys: {medianMs: Math.round(pk.median), rowsPerSecond: Math.round(total / (pk.median / 1000))},
      ratioWithKeys: Math.round((d.median / pk.median) * 100) / 100,
      run: await whole,
    }
    writeFileSync(path.join(root, 'bench/storage-results.json'), JSON.stringify(result, null, 2) + '\n')
    process.stdout.write([
      `postgres storage, ${total} rows per run (${RUNS} runs, medians)`,
      `  dappmesh writeStates  ${result.dappmesh.medianMs} ms  ${result.dappmesh.rowsPerSecond} rows/s`,
      `  psql \\copy            ${result.psqlCopy.medianMs} ms  ${result.psqlCopy.rowsPerSecond} rows/s`,
      `  ratio (time)          ${result.ratio}x`,
      `  psql \\copy + keys     ${result.psqlCopyAndKeys.medianMs} ms  ${result.psqlCopyAndKeys.rowsPerSecond} rows/s (the primary keys dappmesh builds too)`,
      `  ratio (time)          ${result.ratioWithKeys}x`,
      ...(result.run ? [
        `dappmesh run of the flow, ${result.run.rowsWritten} rows written per run (medians)`,
        `  states in Postgres    ${result.run.postgresMs} ms  ${result.run.rowsPerSecond} rows/s`,
        `  states in DuckDB      ${result.run.duckdbMs} ms  (Postgres adds ${result.run.postgresMs - result.run.duckdbMs} ms)`,
      ] : []),
      '',
    ].join('\n'))
  } finally {
    await engine.close()
    await pg.stop()
  }
}

main().catch((error) => {
  log(String(error?.stack ?? error))
  process.exitCode = 1
})
