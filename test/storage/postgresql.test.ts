import assert from 'node:assert/strict'

import {Engine} from '../../src/core/engine/session.js'
import {stateTable, type StateTable} from '../../src/core/engine/types.js'
import type {StorageDriver} from '../../src/core/storage/driver.js'
import {postgresqlDriver} from '../../src/core/storage/postgresql.js'
import {rejection, runInfo, withDriver as withStorageDriver} from '../helpers/storage.js'
import {postgresBinDir, requireOrSkip, startPostgres, type TestPostgres} from '../helpers/postgres.js'

const PRODUCT = 'orders'

const clean: StateTable = stateTable({schema: 'orders', version: 'v1', state: 'clean'}, {
  name: 'clean',
  fields: [
    {name: 'id', type: 'long', primaryKey: true},
    {name: 'note', type: 'string'},
    {name: 'amount', type: 'decimal'},
    {name: 'paid', type: 'boolean'},
    {name: 'day', type: 'date'},
    {name: 'placed_at', type: 'timestamp'},
    {name: 'raw', type: 'bytes'},
    {name: 'meta', type: 'json'},
  ],
} as never, 'orders')

const STAGED_CLEAN = `SELECT * FROM (VALUES
  (1::BIGINT, 'a "quoted", comma', 12.5::DECIMAL(38,9), true, DATE '2026-01-02', TIMESTAMP '2026-01-02 03:04:05.25', '\\x00\\xff'::BLOB, '{"k":[1,2]}'::JSON),
  (2::BIGINT, '', NULL, false, NULL, NULL, NULL, NULL),
  (3::BIGINT, NULL, 0.000000001::DECIMAL(38,9), NULL, DATE '1999-12-31', TIMESTAMP '1999-12-31 23:59:59', ''::BLOB, 'null'::JSON)
) AS t(id, note, amount, paid, day, placed_at, raw, meta)`

function env(pg: TestPostgres, overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {DAPPMESH_STORAGE_OPERATIONAL_URL: pg.url, ...overrides}
}

const withDriver = <T>(engine: Engine, environment: NodeJS.ProcessEnv, body: (driver: StorageDriver) => Promise<T>): Promise<T> =>
  withStorageDriver(postgresqlDriver, {name: 'operational', engine: 'postgresql'}, engine, environment, body)


describe('postgresql storage driver (a real Postgres)', function () {
  this.timeout(60_000)
  let pg: TestPostgres
  let engine: Engine

  before(async function () {
    if (!postgresBinDir()) requireOrSkip(this, 'Postgres (scripts/install-system-deps.sh)')
    pg = await startPostgres()
  })

  after(async () => {
    await pg?.stop()
  })

  beforeEach(async () => {
    pg.psql(`DROP SCHEMA IF EXISTS ${PRODUCT} CASCADE`)
    engine = await Engine.open({threads: 1})
  })

  afterEach(async () => {
    await engine?.close()
  })

  it('publishes a state as a table in a schema named after the product, every value as written', async () => {
    await engine.run(`CREATE TABLE staged AS ${STAGED_CLEAN}`)
    await withDriver(engine, env(pg), (d) => d.writeStates([{state: clean, staged: 'staged', mode: 'replace'}], runInfo('r1')))
    const rows = pg.psql(
      "SELECT id, coalesce(note, '<null>'), amount, paid, day, placed_at, encode(raw, 'hex'), meta FROM orders.orders__clean ORDER BY id",
    )
    assert.deepEqual(rows.trim().split('\n'), [
      '1|a "quoted", comma|12.500000000|t|2026-01-02|2026-01-02 03:04:05.25|00ff|{"k":[1,2]}',
      '2|||f||||',
      '3|<null>|0.000000001||1999-12-31|1999-12-31 23:59:59||null',
    ])
    assert.equal(pg.psql("SELECT coalesce(note, '<null>') FROM orders.orders__clean WHERE id = 2").trim(), '')
  })

  it('gives a state with a primary key that key in Postgres', async () => {
    await engine.run(`CREATE TABLE staged AS ${STAGED_CLEAN}`)
    await withDriver(engine, env(pg), (d) => d.writeStates([{state: clean, staged: 'staged', mode: 'replace'}], runInfo('r1')))
    const key = pg.psql(`SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = 'orders.orders__clean'::regclass AND i.indisprimary`)
    assert.equal(key.trim(), 'id')
  })

  it('writes a replaced state\'s rows already frozen (COPY FREEZE), so no reader or VACUUM rewrites its pages later', async () => {
    await engine.run(`CREATE TABLE staged AS ${STAGED_CLEAN}`)
    await withDriver(engine, env(pg), (d) => d.writeStates([{state: clean, staged: 'staged', mode: 'replace'}], runInfo('r1')))
    pg.psql('CREATE EXTENSION IF NOT EXISTS pg_visibility')
    assert.equal(pg.psql("SELECT bool_and(all_frozen) FROM pg_visibility_map('orders.orders__clean')").trim(), 't')
  })

  it('reads nothing for a state never published, and reads back exactly what it published', async () => {
    await engine.run(`CREATE TABLE staged AS ${STAGED_CLEAN}`)
    const before = await withDriver(engine, env(pg), (d) => d.readState(clean))
    assert.equal(before, undefined)
    await withDriver(engine, env(pg), (d) => d.writeStates([{state: clean, staged: 'staged', mode: 'replace'}], runInfo('r1')))
    const name = await withDriver(engine, env(pg), (d) => d.readState(clean))
    assert.equal(typeof name, 'string')
    const diff = await engine.rows(`(SELECT * FROM staged EXCEPT ALL SELECT * FROM ${name}) UNION ALL (SELECT * FROM ${name} EXCEPT ALL SELECT * FROM staged)`)
    assert.deepEqual(diff, [])
    const types = await engine.rows<{column_type: string}>(`DESCRIBE SELECT * FROM ${name}`)
    assert.deepEqual(types.map((t) => t.column_type), clean.columns.map((c) => c.type))
  })

  it('replaces a state on the next run and appends to a quarantine table', async () => {
    const rejected = {...clean, table: 'orders__clean__rejected', primaryKey: []}
    await engine.run(`CREATE TABLE staged AS ${STAGED_CLEAN}`)
    await engine.run("CREATE TABLE bad AS SELECT 'x' AS id, 'id does not cast' AS _reason, 'cleanse' AS _transition, 'r1' AS _run")
    await withDriver(engine, env(pg), (d) =>
      d.writeStates([{state: clean, staged: 'staged', mode: 'replace'}, {state: rejected, staged: 'bad', mode: 'append'}], runInfo('r1')))
    await engine.run('CREATE TABLE staged2 AS SELECT * FROM staged WHERE id = 3')
    await engine.run("CREATE TABLE bad2 AS SELECT 'y' AS id, 'again' AS _reason, 'cleanse' AS _transition, 'r2' AS _run")
    await withDriver(engine, env(pg), (d) =>
      d.writeStates([{state: clean, staged: 'staged2', mode: 'replace'}, {state: rejected, staged: 'bad2', mode: 'append'}], runInfo('r2')))
    assert.equal(pg.psql('SELECT id FROM orders.orders__clean').trim(), '3')
    assert.deepEqual(pg.psql('SELECT id, _run FROM orders.orders__clean__rejected ORDER BY _run').trim().split('\n'), ['x|r1', 'y|r2'])
  })

  it('leaves every state as it was when a write of the run fails', async () => {
    await engine.run(`CREATE TABLE staged AS ${STAGED_CLEAN}`)
    await withDriver(engine, env(pg), (d) => d.writeStates([{state: clean, staged: 'staged', mode: 'replace'}], runInfo('r1')))
    const other = {...clean, table: 'orders__other'}
    await engine.run('CREATE TABLE staged2 AS SELECT * FROM staged WHERE id = 1')
    const error = await rejection(withDriver(engine, env(pg), (d) =>
      d.writeStates([{state: clean, staged: 'staged2', mode: 'replace'}, {state: other, staged: 'no_such_table', mode: 'replace'}], runInfo('r2'))))
    assert.match(error.message, /no_such_table/)
    assert.deepEqual(pg.psql('SELECT id FROM orders.orders__clean ORDER BY id').trim().split('\n'), ['1', '2', '3'])
    assert.equal(pg.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'orders'").trim(), '1')
  })

  it('leaves every state as it was when the process dies in the middle of a run', async function () {
    await engine.run(`CREATE TABLE staged AS ${STAGED_CLEAN}`)
    await withDriver(engine, env(pg), (d) => d.writeStates([{state: clean, staged: 'staged', mode: 'replace'}], runInfo('r1')))
    // A child process starts publishing a big state and is killed (SIGKILL) while COPY runs.
    const {spawn} = await import('node:child_process')
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
      const {Engine} = await import(${JSON.stringify(new URL('../../src/core/engine/session.ts', import.meta.url).href)})
      const {postgresqlDriver} = await import(${JSON.stringify(new URL('../../src/core/storage/postgresql.ts', import.meta.url).href)})
      const engine = await Engine.open({threads: 1})
      await engine.run("CREATE TABLE big AS SELECT i::BIGINT AS id, repeat('x', 200) AS note, 1.5::DECIMAL(38,9) AS amount, true AS paid, DATE '2026-01-01' AS day, TIMESTAMP '2026-01-01' AS placed_at, NULL::BLOB AS raw, NULL::JSON AS meta FROM range(500000) t(i)")
      const d = postgresqlDriver({storage: {name: 'operational', engine: 'postgresql'}, product: 'orders', dataDir: engine.scratchDir, engine, env: {DAPPMESH_STORAGE_OPERATIONAL_URL: ${JSON.stringify(pg.url)}}})
      await d.open()
      console.log('writing')
      await d.writeStates([{state: ${JSON.stringify(clean)}, staged: 'big', mode: 'replace'}], {id: 'r2', startedAt: new Date()})
      console.log('done')
    `], {stdio: ['ignore', 'pipe', 'inherit']})
    const exited = new Promise<void>((resolve) => {
      child.on('exit', () => resolve())
    })
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('done')) reject(new Error('the write finished before it could be interrupted'))
      })
      // Kill once Postgres has the COPY running (the row count of the new table grows).
      const timer = setInterval(() => {
        const copying = pg.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY %FROM STDIN%' AND pid <> pg_backend_pid()").trim()
        if (copying !== '0') {
          clearInterval(timer)
          child.kill('SIGKILL')
          resolve()
        }
      }, 50)
      child.on('exit', () => {
        clearInterval(timer)
        resolve()
      })
    })
    await exited
    assert.equal(child.signalCode, 'SIGKILL')
    // The server notices the dead connection and rolls its transaction back.
    for (let i = 0; i < 100 && pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dappmesh'").trim() !== '0'; i++) {
       
      await new Promise((r) => {
        setTimeout(r, 100)
      })
    }

    assert.deepEqual(pg.psql('SELECT id FROM orders.orders__clean ORDER BY id').trim().split('\n'), ['1', '2', '3'])
    assert.equal(pg.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'orders'").trim(), '1')
  })

  it('refuses a wrong password with exit 3, naming the user and the server', async () => {
    const url = pg.url.replace(encodeURIComponent(pg.password), 'not-the-password')
    const error = await rejection(withDriver(engine, {DAPPMESH_STORAGE_OPERATIONAL_URL: url}, async () => {}))
    assert.equal(error.exit, 3)
    assert.ok(error.message.includes(`refused user "${pg.user}"`) && error.message.includes(`127.0.0.1:${pg.port}`), error.message)
    assert.ok(!error.message.includes('not-the-password'), error.message)
  })

  it('names a missing database with exit 3', async () => {
    const url = pg.url.replace(/\/postgres$/, '/nowhere')
    const error = await rejection(withDriver(engine, {DAPPMESH_STORAGE_OPERATIONAL_URL: url}, async () => {}))
    assert.equal(error.exit, 3)
    assert.ok(error.message.includes('database "nowhere" does not exist'), error.message)
  })

  it('reads libpq variables when no URL is set', async () => {
    await engine.run(`CREATE TABLE staged AS ${STAGED_CLEAN}`)
    const libpq = {PGHOST: '127.0.0.1', PGPORT: String(pg.port), PGUSER: pg.user, PGPASSWORD: pg.password, PGDATABASE: 'postgres'}
    await withDriver(engine, libpq, (d) => d.writeStates([{state: clean, staged: 'staged', mode: 'replace'}], runInfo('r1')))
    assert.equal(pg.psql('SELECT count(*) FROM orders.orders__clean').trim(), '3')
  })

  it('refuses a URL that is not a Postgres URL with exit 2', async () => {
    const error = await rejection(withDriver(engine, {DAPPMESH_STORAGE_OPERATIONAL_URL: 'mysql://u:secret@h/db'}, async () => {}))
    assert.equal(error.exit, 2)
    assert.ok(error.message.includes('not a Postgres URL') && !error.message.includes('secret'), error.message)
  })

  it('refuses a state name longer than Postgres allows with exit 2', async () => {
    await engine.run(`CREATE TABLE staged AS ${STAGED_CLEAN}`)
    const long = {...clean, table: `orders__${'x'.repeat(60)}`}
    const error = await rejection(withDriver(engine, env(pg), (d) => d.writeStates([{state: long, staged: 'staged', mode: 'replace'}], runInfo('r1'))))
    assert.equal(error.exit, 2)
    assert.ok(error.message.includes('63-byte limit'), error.message)
  })
})

describe('postgresql storage driver (Postgres down)', function () {
  this.timeout(60_000)

  it('reports a stopped Postgres as unreachable with exit 3, naming host and port', async function () {
    if (!postgresBinDir()) requireOrSkip(this, 'Postgres (scripts/install-system-deps.sh)')
    const pg = await startPostgres()
    await pg.stop()
    const engine = await Engine.open({threads: 1})
    try {
      const error = await rejection(withDriver(engine, env(pg), async () => {}))
      assert.equal(error.exit, 3)
      assert.ok(error.message.includes('storage "operational" is unreachable') && error.message.includes(`127.0.0.1:${pg.port}`), error.message)
    } finally {
      await engine.close()
    }
  })
})
