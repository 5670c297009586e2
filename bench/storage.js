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
// same CSV files (already written, so it pays no export) into empty tables in one transaction.
//
// Knobs: BENCH_PG_ROWS (orders, default 1000000), BENCH_PG_RUNS (default 3).
// Writes bench/storage-results.json.
import {spawnSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
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
const STATES = {
  raw: [f('id', 'long', {primaryKey: true}), f('customer_id', 'integer'), f('amount', 'decimal'), f('status', 'string'), f('placed_at', 'timestamp')],
  clean: [f('id', 'long', {primaryKey: true}), f('customer_id', 'integer'), f('amount', 'decimal'), f('placed_at', 'timestamp')],
  enriched: [f('id', 'long', {primaryKey: true}), f('customer_id', 'integer'), f('region', 'string'), f('amount', 'decimal'), f('placed_at', 'timestamp')],
  daily: [f('region', 'string', {primaryKey: true}), f('day', 'date', {primaryKey: true}), f('orders', 'long'), f('revenue', 'decimal')],
}
const tables = Object.fromEntries(Object.entries(STATES).map(([state, fields]) => [state, stateTable({schema: 'orders', version: 'v1', state}, {name: state, fields}, 'orders')]))

// The flow's SQL, as a project would write it, run by the engine into staged tables.
const FLOW = [
  `CREATE TABLE customers AS SELECT i::INTEGER AS customer_id, 'region-' || (i % 20) AS region FROM range(10000) t(i)`,
  `CREATE TABLE raw AS SELECT i::BIGINT AS id, (i * 7919 % 10000)::INTEGER AS customer_id, ((i % 100000) / 100.0)::DECIMAL(38,9) AS amount,
     CASE WHEN i % 10 = 0 THEN 'cancelled' ELSE 'placed' END AS status, TIMESTAMP '2026-01-01' + to_seconds(i * 3) AS placed_at FROM range(${ROWS}) t(i)`,
  `CREATE TABLE clean AS SELECT id, customer_id, amount, placed_at FROM raw WHERE status <> 'cancelled'`,
  `CREATE TABLE enriched AS SELECT c.id, c.customer_id, k.region, c.amount, c.placed_at FROM clean c JOIN customers k USING (customer_id)`,
  `CREATE TABLE daily AS SELECT region, placed_at::DATE AS day, count(*)::BIGINT AS orders, sum(amount)::DECIMAL(38,9) AS revenue FROM enriched GROUP BY ALL`,
]

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

    const driver = postgresqlDriver({
      storage: {name: 'bench', engine: 'postgresql'},
      product: 'orders',
      dataDir: engine.scratchDir,
      engine,
      env: {DAPPMESH_STORAGE_BENCH_URL: pg.url},
    })
    await driver.open()
    const samples = {dappmesh: [], psql: []}
    for (let i = 0; i < RUNS; i++) {
      const start = process.hrtime.bigint()
      await driver.writeStates(Object.keys(STATES).map((s) => ({state: tables[s], staged: s, mode: 'replace'})), {id: `bench${i}`, startedAt: new Date()})
      samples.dappmesh.push(Number(process.hrtime.bigint() - start) / 1e6)

      psql(pg, bin, ['-c', `DROP SCHEMA IF EXISTS ref CASCADE; CREATE SCHEMA ref; ${ddl.join(' ')}`])
      const script = path.join(engine.scratchDir, 'ref.sql')
      writeFileSync(script, copies.join('\n') + '\n')
      samples.psql.push(psql(pg, bin, ['-1', '-f', script]))
      log(`  run ${i + 1}: dappmesh ${samples.dappmesh.at(-1).toFixed(0)} ms, psql \\copy ${samples.psql.at(-1).toFixed(0)} ms`)
    }

    await driver.close()
    const d = summarize(samples.dappmesh)
    const p = summarize(samples.psql)
    const result = {
      rows: total,
      states: counts,
      runs: RUNS,
      dappmesh: {medianMs: Math.round(d.median), rowsPerSecond: Math.round(total / (d.median / 1000))},
      psqlCopy: {medianMs: Math.round(p.median), rowsPerSecond: Math.round(total / (p.median / 1000))},
      ratio: Math.round((d.median / p.median) * 100) / 100,
    }
    writeFileSync(path.join(root, 'bench/storage-results.json'), JSON.stringify(result, null, 2) + '\n')
    process.stdout.write([
      `postgres storage, ${total} rows per run (${RUNS} runs, medians)`,
      `  dappmesh writeStates  ${result.dappmesh.medianMs} ms  ${result.dappmesh.rowsPerSecond} rows/s`,
      `  psql \\copy            ${result.psqlCopy.medianMs} ms  ${result.psqlCopy.rowsPerSecond} rows/s`,
      `  ratio (time)          ${result.ratio}x`,
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
