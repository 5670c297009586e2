import assert from 'node:assert/strict'

import {Engine} from '../../src/core/engine/session.js'
import {stateTable, type StateTable} from '../../src/core/engine/types.js'
import type {StorageDriver} from '../../src/core/storage/driver.js'
import {s3Driver} from '../../src/core/storage/s3.js'
import {freePort, requireOrSkip} from '../helpers/postgres.js'
import {rejection, runInfo, withDriver as withStorageDriver} from '../helpers/storage.js'
import {s3Binary, startS3, type TestS3} from '../helpers/s3.js'


const clean: StateTable = stateTable({schema: 'orders', version: 'v1', state: 'clean'}, {
  name: 'clean',
  fields: [
    {name: 'id', type: 'long', primaryKey: true},
    {name: 'note', type: 'string'},
    {name: 'amount', type: 'decimal'},
    {name: 'day', type: 'date'},
    {name: 'raw', type: 'bytes'},
    {name: 'meta', type: 'json'},
  ],
} as never, 'orders')

const STAGED_CLEAN = `SELECT * FROM (VALUES
  (1::BIGINT, 'a "quoted", comma', 12.5::DECIMAL(38,9), DATE '2026-01-02', '\\x00\\xff'::BLOB, '{"k":[1,2]}'::JSON),
  (2::BIGINT, '', NULL, NULL, NULL, NULL),
  (3::BIGINT, NULL, 0.000000001::DECIMAL(38,9), DATE '1999-12-31', ''::BLOB, 'null'::JSON)
) AS t(id, note, amount, day, raw, meta)`

function env(s3: TestS3, bucket: string, overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    DAPPMESH_STORAGE_OBJECT_ENDPOINT: s3.endpoint,
    DAPPMESH_STORAGE_OBJECT_BUCKET: bucket,
    DAPPMESH_STORAGE_OBJECT_ACCESS_KEY_ID: s3.accessKeyId,
    DAPPMESH_STORAGE_OBJECT_SECRET_ACCESS_KEY: s3.secretAccessKey,
    ...overrides,
  }
}

const withDriver = <T>(engine: Engine, environment: NodeJS.ProcessEnv, body: (driver: StorageDriver) => Promise<T>): Promise<T> =>
  withStorageDriver(s3Driver, {name: 'object', engine: 's3'}, engine, environment, body)


describe('s3 storage driver (a real S3-compatible server)', function () {
  this.timeout(90_000)
  let s3: TestS3
  let engine: Engine
  let bucket: string
  let buckets = 0

  before(async function () {
    if (!s3Binary()) requireOrSkip(this, 'the S3 test server (test/services/build-s3.sh)')
    s3 = await startS3()
  })

  after(async () => {
    await s3?.stop()
  })

  beforeEach(async () => {
    buckets += 1
    bucket = `states-${buckets}`
    await s3.createBucket(bucket)
    engine = await Engine.open({threads: 1})
  })

  afterEach(async () => {
    await engine?.close()
  })

  it('publishes a state as Parquet under <bucket>/<product>/<state>/ and a manifest naming it', async () => {
    await engine.run(`CREATE TABLE staged AS ${STAGED_CLEAN}`)
    await withDriver(engine, env(s3, bucket), (d) => d.writeStates([{state: clean, staged: 'staged', mode: 'replace'}], runInfo('r1')))
    assert.deepEqual(await s3.listKeys(bucket), ['orders/_manifest.json', 'orders/orders__clean/run=r1/part-0.parquet'])
  })

  it('reads nothing for a state never published, and reads back exactly what it published', async () => {
    await engine.run(`CREATE TABLE staged AS ${STAGED_CLEAN}`)
    assert.equal(await withDriver(engine, env(s3, bucket), (d) => d.readState(clean)), undefined)
    await withDriver(engine, env(s3, bucket), (d) => d.writeStates([{state: clean, staged: 'staged', mode: 'replace'}], runInfo('r1')))
    const name = await withDriver(engine, env(s3, bucket), (d) => d.readState(clean))
    assert.equal(typeof name, 'string')
    const diff = await engine.rows(`(SELECT * FROM staged EXCEPT ALL SELECT * FROM ${name}) UNION ALL (SELECT * FROM ${name} EXCEPT ALL SELECT * FROM staged)`)
    assert.deepEqual(diff, [])
    const types = await engine.rows<{column_type: string}>(`DESCRIBE SELECT * FROM ${name}`)
    assert.deepEqual(types.map((t) => t.column_type), clean.columns.map((c) => c.type))
  })

  it('replaces a state on the next run, deletes its old objects, and appends to a quarantine state', async () => {
    const rejected = {...clean, table: 'orders__clean__rejected', primaryKey: []}
    await engine.run(`CREATE TABLE staged AS ${STAGED_CLEAN}`)
    await engine.run("CREATE TABLE bad AS SELECT 'x' AS id, 'id does not cast' AS _reason, 'r1' AS _run")
    await withDriver(engine, env(s3, bucket), (d) =>
      d.writeStates([{state: clean, staged: 'staged', mode: 'replace'}, {state: rejected, staged: 'bad', mode: 'append'}], runInfo('r1')))
    await engine.run('CREATE TABLE staged2 AS SELECT * FROM staged WHERE id = 3')
    await engine.run("CREATE TABLE bad2 AS SELECT 'y' AS id, 'again' AS _reason, 'r2' AS _run")
    await withDriver(engine, env(s3, bucket), (d) =>
      d.writeStates([{state: clean, staged: 'staged2', mode: 'replace'}, {state: rejected, staged: 'bad2', mode: 'append'}], runInfo('r2')))
    assert.deepEqual(await s3.listKeys(bucket, 'orders/orders__clean/'), ['orders/orders__clean/run=r2/part-0.parquet'])
    const ids = await withDriver(engine, env(s3, bucket), async (d) => {
      const state = await d.readState(clean)
      const quarantine = await d.readState(rejected)
      return {
        state: (await engine.rows(`SELECT id FROM ${state}`)).map((r) => String(r.id)),
        quarantine: (await engine.rows(`SELECT id FROM ${quarantine} ORDER BY _run`)).map((r) => String(r.id)),
      }
    })
    assert.deepEqual(ids, {state: ['3'], quarantine: ['x', 'y']})
  })

  it('leaves every state as it was when a write of the run fails, and removes the objects it uploaded', async () => {
    const other = {...clean, table: 'orders__other'}
    await engine.run(`CREATE TABLE staged AS ${STAGED_CLEAN}`)
    await withDriver(engine, env(s3, bucket), (d) => d.writeStates([{state: clean, staged: 'staged', mode: 'replace'}], runInfo('r1')))
    await engine.run('CREATE TABLE staged2 AS SELECT * FROM staged WHERE id = 1')
    const error = await rejection(withDriver(engine, env(s3, bucket), (d) =>
      d.writeStates([{state: clean, staged: 'staged2', mode: 'replace'}, {state: other, staged: 'no_such_table', mode: 'replace'}], runInfo('r2'))))
    assert.match(error.message, /no_such_table/)
    assert.deepEqual(await s3.listKeys(bucket), ['orders/_manifest.json', 'orders/orders__clean/run=r1/part-0.parquet'])
    const count = await withDriver(engine, env(s3, bucket), async (d) => engine.rows(`SELECT count(*)::INTEGER AS n FROM ${await d.readState(clean)}`))
    assert.deepEqual(count, [{n: 3}])
  })

  it('says a missing bucket does not exist, with exit 3 and how to create it', async () => {
    const error = await rejection(withDriver(engine, env(s3, 'no-such-bucket'), async () => {}))
    assert.equal(error.exit, 3)
    assert.ok(error.message.includes('bucket "no-such-bucket" does not exist'), error.message)
    assert.ok(error.suggestions?.some((s) => s.includes('aws s3 mb s3://no-such-bucket')), String(error.suggestions))
  })

  it('refuses a wrong secret key with exit 3, naming the access key and the server', async () => {
    const error = await rejection(withDriver(engine, env(s3, bucket, {DAPPMESH_STORAGE_OBJECT_SECRET_ACCESS_KEY: 'wrong-secret'}), async () => {}))
    assert.equal(error.exit, 3)
    assert.ok(error.message.includes(`refused access key "${s3.accessKeyId}"`) && error.message.includes(`127.0.0.1:${s3.port}`), error.message)
    assert.ok(!error.message.includes('wrong-secret'))
  })

  it('asks for credentials with exit 2 when none are set', async () => {
    const error = await rejection(withDriver(engine, {DAPPMESH_STORAGE_OBJECT_ENDPOINT: s3.endpoint}, async () => {}))
    assert.equal(error.exit, 2)
    assert.ok(error.message.includes('no S3 credentials'), error.message)
    assert.ok(error.suggestions?.some((s) => s.includes('DAPPMESH_STORAGE_OBJECT_ACCESS_KEY_ID')), String(error.suggestions))
  })
})

describe('s3 storage driver (server down)', function () {
  this.timeout(60_000)

  it('reports an endpoint nobody listens on as unreachable with exit 3, naming host and port', async () => {
    const port = await freePort()
    const engine = await Engine.open({threads: 1})
    try {
      const error = await rejection(withDriver(engine, {
        DAPPMESH_STORAGE_OBJECT_ENDPOINT: `http://127.0.0.1:${port}`,
        DAPPMESH_STORAGE_OBJECT_ACCESS_KEY_ID: 'k',
        DAPPMESH_STORAGE_OBJECT_SECRET_ACCESS_KEY: 's',
      }, async () => {}))
      assert.equal(error.exit, 3)
      assert.ok(error.message.includes('storage "object" is unreachable') && error.message.includes(`127.0.0.1:${port}`), error.message)
    } finally {
      await engine.close()
    }
  })
})
