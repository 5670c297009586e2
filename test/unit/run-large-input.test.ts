import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, statSync} from 'node:fs'

import {BIN} from '../helpers/cli.js'
import {RunProject} from '../helpers/run-project.js'

// The issue asks for a 2 GB input; that takes minutes on a 2-core CI machine, so this test streams
// ~620 MiB instead (3.6M rows of wide ids: long rows keep the row count, and so the time, small).
// What it proves is the same: with --memory-limit the process's peak RSS is the engine's limit plus
// a fixed overhead (Node, the DuckDB library, its caches and allocator), not the input's size.
// Measured here at --memory-limit 128MB: 345-367 MiB for a 620 MiB input, and 340-450 for a 206 MiB
// one (490 once under CI load), against 726-731 MiB for the 620 MiB input with no limit: the input
// is large enough that the bound and the unbounded case lie well apart.
const ROWS = 3_600_000
const LIMIT_MIB = 128
/** Node + the native DuckDB library + allocator slack, above the engine's memory_limit. */
const OVERHEAD_MIB = 400

describe('dappmesh run on a large input', function () {
  this.timeout(300_000)
  let p: RunProject
  let input: string

  before(async function () {
    if (!existsSync('/usr/bin/time')) this.skip()
    p = new RunProject()
    input = p.path('big-sales.csv')
    const {DuckDBInstance} = await import('@duckdb/node-api')
    const db = await DuckDBInstance.create(':memory:')
    const c = await db.connect()
    await c.run(`COPY (SELECT 's' || i || '-' || repeat('x', 140) AS id, 'c' || (1 + i % 3) AS customer,
      CAST(1 + (i % 997) / 10 AS DECIMAL(10,2)) AS amount, i % 5 AS qty, TIMESTAMP '2026-01-01' + to_seconds(i % 1000000) AS placed_at
      FROM range(${ROWS}) t(i)) TO '${input}' (HEADER, DELIMITER ',')`)
    c.closeSync()
    db.closeSync()
  })
  after(() => p?.remove())

  it('streams it with peak memory bounded by --memory-limit, not by the input size', () => {
    const inputMiB = statSync(input).size / 2 ** 20
    const r = spawnSync('/usr/bin/time', ['-f', 'peak-rss-kib %M', process.execPath, BIN, 'run', p.dir, '--json', '--input', `sales-in=${input}`, '--memory-limit', `${LIMIT_MIB}MB`], {
      encoding: 'utf8',
      env: {...process.env, NO_COLOR: '1'},
      maxBuffer: 16 * 2 ** 20,
    })
    assert.equal(r.status, 0, r.stderr.slice(-2000))
    const result = JSON.parse(r.stdout) as {ok: boolean; runs: {flow: string; transitions: {name: string; rowsOut: number}[]}[]}
    assert.equal(result.ok, true)
    const ingest = result.runs.find((run) => run.flow === 'sales')?.transitions.find((t) => t.name === 'ingest:sales-in')
    assert.equal(ingest?.rowsOut, ROWS)
    const peakMiB = Number(/peak-rss-kib (\d+)/.exec(r.stderr)?.[1]) / 1024
    assert.ok(inputMiB > 600, `the input is ${inputMiB.toFixed(0)} MiB`)
    assert.ok(peakMiB < LIMIT_MIB + OVERHEAD_MIB, `peak RSS ${peakMiB.toFixed(0)} MiB for a ${inputMiB.toFixed(0)} MiB input at --memory-limit ${LIMIT_MIB}MB`)
  })

  it('holds no second copy of the states in memory: a flow over 1M rows peaks well below the in-memory size of its states', async () => {
    // Built in the store file, a state's rows can leave memory once written; built in memory and
    // copied into the file at the end (as before), this flow peaked at ~470 MiB against ~320 now.
    const sales = p.path('sales.parquet')
    const {DuckDBInstance} = await import('@duckdb/node-api')
    const db = await DuckDBInstance.create(':memory:')
    const c = await db.connect()
    await c.run(`COPY (SELECT 's' || i AS id, 'c' || (1 + i % 3) AS customer, CAST(((i % 1000) - 50) / 10 AS DECIMAL(38,9)) AS amount,
      CAST(i % 5 AS INTEGER) AS qty, TIMESTAMP '2026-01-01' + to_seconds(i % 1000000) AS placed_at FROM range(1000000) t(i)) TO '${sales}' (FORMAT parquet)`)
    c.closeSync()
    db.closeSync()
    const r = spawnSync('/usr/bin/time', ['-f', 'peak-rss-kib %M', process.execPath, BIN, 'run', p.dir, '--json', '--input', `sales-in=${sales}`, '--data-dir', p.path('rss-data')], {
      encoding: 'utf8',
      env: {...process.env, NO_COLOR: '1'},
      maxBuffer: 16 * 2 ** 20,
    })
    assert.equal(r.status, 0, r.stderr.slice(-2000))
    const peakMiB = Number(/peak-rss-kib (\d+)/.exec(r.stderr)?.[1]) / 1024
    assert.ok(peakMiB < 400, `peak RSS ${peakMiB.toFixed(0)} MiB`)
  })
})
