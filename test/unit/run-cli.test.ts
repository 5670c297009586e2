import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, renameSync} from 'node:fs'

import {readStateRows} from '../../src/core/run/read-state.js'
import {type RunResult, runResultSchema} from '../../src/core/run/result-schema.js'
import {compile} from '../../src/core/validate/ajv.js'
import {BIN, STACK_TRACE, cli, flat} from '../helpers/cli.js'
import {RunProject} from '../helpers/run-project.js'

const validResult = compile(runResultSchema)

describe('dappmesh run (command)', () => {
  let p: RunProject
  beforeEach(() => {
    p = new RunProject()
  })
  afterEach(() => p.remove())

  it('prints a table per flow and exits 0 when every check passes', () => {
    const r = cli(['run', p.dir])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /flow sales \(storage embedded, duckdb\)\nTRANSITION +STATE +STATUS +IN +OUT +REJECTED +ROWS +TIME\ningest:sales-in +raw +ok +4 +4 +0 +4 +\d+ ms/)
    assert.match(r.stdout, /contract sales-totals \(port sales-totals\): passed, 8 rules checked/)
    assert.match(r.stdout, /\nrun \S+: published\n$/)
  })

  it('gives --json output that matches its documented schema', () => {
    const r = cli(['run', p.dir, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout) as RunResult
    assert.ok(validResult(result), JSON.stringify(validResult.errors))
    assert.equal(result.ok, true)
  })

  it('prints the --json result and exits 1 when a contract rule fails', () => {
    p.write('data/customers-in.csv', 'id,region\nc1,mars\nc2,eu\nc3,eu\n')
    const r = cli(['run', p.dir, '--json'])
    assert.equal(r.code, 1)
    const result = JSON.parse(r.stdout) as RunResult
    assert.ok(validResult(result), JSON.stringify(validResult.errors))
    assert.deepEqual([result.ok, result.published, result.contracts[0]?.passed], [false, false, false])
  })

  it('exits 2 with a clear message and no stack trace for a source it cannot read', () => {
    p.edit('services/sales/ports.yaml', 'type: http\n    uri: http://127.0.0.1:9/sales.csv', 'type: product\n    product: billing\n    port: invoices')
    renameSync(p.path('data/sales-in.csv'), p.path('data/sales-in.csv.bak'))
    const r = cli(['run', p.dir])
    assert.equal(r.code, 2)
    assert.match(flat(r.stderr), /input port sales-in reads product billing port invoices: a local run needs the producer runtime's URL/)
    assert.doesNotMatch(r.stderr, STACK_TRACE)
  })

  it('exits 2 on a malformed --input', () => {
    const r = cli(['run', p.dir, '--input', 'sales-in'])
    assert.equal(r.code, 2)
    assert.match(flat(r.stderr), /--input sales-in: expected PORT=FILE or PORT=URL/)
  })

  /** Publishes once, then makes the next run slow (and gives it a new row): the clean state as published. */
  async function publishThenSlowDown(): Promise<Awaited<ReturnType<typeof readStateRows>>> {
    assert.equal(cli(['run', p.dir]).code, 0)
    const before = await readStateRows({dir: p.dir, state: 'sales@1.0.0/clean'})
    // A transition slow enough to be interrupted: DuckDB sums 20 billion numbers first.
    p.edit('model/sales/flow.yaml', 'SELECT * FROM raw WHERE amount > 0', 'SELECT raw.* FROM raw, (SELECT sum(range % 7) AS n FROM range(20000000000)) WHERE amount > 0 AND n > 0')
    p.write('data/sales-in.csv', 'id,customer,amount,qty,placed_at\ns9,c1,1,1,2026-11-09 10:00:00\n')
    return before
  }

  it('exits 130 on Ctrl-C in the middle of a run and leaves every state as it was', async function () {
    this.timeout(120_000)
    const before = await publishThenSlowDown()
    const child = spawn(process.execPath, [BIN, 'run', p.dir], {env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (chunk) => (stderr += chunk))
    await new Promise((done) => setTimeout(done, 3000))
    const started = Date.now()
    child.kill('SIGINT')
    const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)))
    assert.equal(code, 130, stderr)
    assert.ok(Date.now() - started < 10_000, 'DuckDB stops the running statement instead of finishing it')
    assert.match(stderr, /interrupted: nothing was published/)
    assert.deepEqual(await readStateRows({dir: p.dir, state: 'sales@1.0.0/clean'}), before)
    assert.equal((await readStateRows({dir: p.dir, state: 'sales@1.0.0/raw'})).rows.some((r) => r.id === 's9'), false)
  })

  async function storeTables(): Promise<string[]> {
    const {DuckDBInstance} = await import('@duckdb/node-api')
    const db = await DuckDBInstance.create(p.path('.dappmesh/data/embedded.duckdb'))
    const connection = await db.connect()
    const tables = (await connection.runAndReadAll('SELECT table_name FROM duckdb_tables() ORDER BY 1')).getRows().map((r) => String(r[0]))
    connection.closeSync()
    db.closeSync()
    return tables
  }

  it('leaves every state as it was when the process is killed mid-run, and the next open of the store drops the tables it had built', async function () {
    this.timeout(120_000)
    // The ingestion has committed its staging tables to the store file by the time the slow transition runs.
    const before = await publishThenSlowDown()
    const child = spawn(process.execPath, [BIN, 'run', p.dir], {env: {...process.env, NO_COLOR: '1'}, stdio: 'ignore'})
    // The store's write-ahead log appears once the run has committed a staging table to the file.
    const wal = p.path('.dappmesh/data/embedded.duckdb.wal')
    for (let waited = 0; !existsSync(wal) && waited < 60_000; waited += 100) await new Promise((done) => setTimeout(done, 100))
    await new Promise((done) => setTimeout(done, 500))
    child.kill('SIGKILL')
    await new Promise((done) => child.on('exit', done))
    assert.ok((await storeTables()).some((t) => t.startsWith('_dm_stage_')), 'the killed run had staging tables in the file')
    assert.deepEqual(await readStateRows({dir: p.dir, state: 'sales@1.0.0/clean'}), before)
    assert.equal((await readStateRows({dir: p.dir, state: 'sales@1.0.0/raw'})).rows.some((r) => r.id === 's9'), false)
    const tables = await storeTables()
    assert.deepEqual(tables, ['customers__raw', 'sales__clean', 'sales__enriched', 'sales__raw', 'sales__totals'])
  })
})
