import assert from 'node:assert/strict'
import {readFile, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {runProduct} from '../../src/core/run/run.js'
import {type ServeHandle, startServe} from '../../src/core/runtime/serve.js'
import {requireOrSkip} from '../helpers/postgres.js'
import {call, copyShop, ndjson, orders, push, runWorkflow} from '../helpers/runtime.js'
import {s3Binary, startS3, type TestS3} from '../helpers/s3.js'

/** The shop fixture with its one storage moved to S3; an object storage is never a flow's default (§7), so the flow names it. */
async function s3Shop(): Promise<string> {
  const dir = await copyShop()
  await writeFile(path.join(dir, 'storage', 'analytics.yaml'), 'apiVersion: dappmesh.io/v1alpha1\nkind: DataStorage\nmetadata:\n  name: analytics\nspec:\n  class: object\n  engine: s3\n')
  const flow = path.join(dir, 'model', 'orders', 'flow.yaml')
  await writeFile(flow, (await readFile(flow, 'utf8')).replace('  version: 1.0.0\n', '  version: 1.0.0\n  storage: analytics\n'))
  return dir
}

const ids = (answer: {json: {rows: Array<{id: number}>}}) => answer.json.rows.map((r) => r.id)

describe('serve: a product whose states live in S3 (a real S3-compatible server)', function () {
  this.timeout(120_000)
  let s3: TestS3
  let dir: string
  let handle: ServeHandle | undefined
  let base: string
  const bucket = 'shop-lake'
  const env = (): NodeJS.ProcessEnv => ({
    DAPPMESH_STORAGE_ANALYTICS_ENDPOINT: s3.endpoint,
    DAPPMESH_STORAGE_ANALYTICS_BUCKET: bucket,
    DAPPMESH_STORAGE_ANALYTICS_ACCESS_KEY_ID: s3.accessKeyId,
    DAPPMESH_STORAGE_ANALYTICS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  })
  // A refresh far in the future: the tests refresh by hand, so each sees exactly the copy it made.
  const start = async () => {
    handle = await startServe({dir, host: '127.0.0.1', port: 0, auth: false, maxBody: 1024 * 1024, env: env(), refreshMs: 3_600_000})
    base = handle.url
  }

  before(async function () {
    if (!s3Binary()) requireOrSkip(this, 'the S3 test server (test/services/build-s3.sh)')
    s3 = await startS3()
    await s3.createBucket(bucket)
    dir = await s3Shop()
    await start()
  })

  after(async () => {
    await handle?.stop()
    await s3?.stop()
    if (dir) await rm(dir, {recursive: true, force: true})
  })

  it('lands pushes and a workflow run in the bucket as Parquet, and serves what the run published', async () => {
    const pushed = await push(base, 'orders-in', ndjson([...orders(1, 12), {id: 13, customer: 'c6', amount: 'lots', placed_at: '2024-01-01 00:00:00'}]))
    assert.equal(pushed.status, 200, pushed.text)
    assert.equal(pushed.json.accepted, 12)
    const run = await runWorkflow(base, 'nightly')
    assert.equal(run.status, 'succeeded', JSON.stringify(run))
    const states = new Set((await s3.listKeys(bucket, 'shop/')).map((k) => k.split('/')[1]))
    for (const state of ['orders__raw', 'orders__raw__rejected', 'orders__clean', 'orders__daily']) assert.ok(states.has(state), `${state} is in the bucket: ${[...states].join(', ')}`)
    assert.deepEqual(ids(await call(`${base}/v1/ports/orders-api?limit=5`)), [1, 2, 3, 4, 5])
  })

  it('serves the rows from the bucket after a restart with an empty data directory (the local copy is only a copy)', async () => {
    const before = await call(`${base}/v1/ports/orders-api?limit=1000`)
    await handle!.stop()
    handle = undefined
    await rm(path.join(dir, '.dappmesh', 'data'), {recursive: true, force: true})
    await start()
    const after = await call(`${base}/v1/ports/orders-api?limit=1000`)
    assert.equal(after.status, 200, after.text)
    assert.deepEqual(after.json.rows, before.json.rows)
    assert.equal(after.json.rows.length, 12)
  })

  it('serves what another process published to the bucket once the mirror refreshes, with a new ETag', async () => {
    const before = await call(`${base}/v1/ports/orders-api?limit=1000`)
    const input = path.join(dir, 'more.ndjson')
    await writeFile(input, ndjson(orders(20, 24)))
    // `dappmesh run` elsewhere (its own data directory) ingests rows 20..24 into raw (they accumulate
    // with the 12 pushed there before) and publishes clean from it.
    const other = await runProduct({dir, env: env(), inputs: [`orders-in=${input}`], inputsOnly: true, transitions: ['ingest', 'clean'], dataDir: path.join(dir, 'elsewhere')})
    assert.equal(other.ok, true, JSON.stringify(other.error))
    assert.equal((await call(`${base}/v1/ports/orders-api?limit=1000`)).headers.get('etag'), before.headers.get('etag'), 'nothing changes before a refresh')
    await handle!.mirror!.refresh()
    const after = await call(`${base}/v1/ports/orders-api?limit=1000`)
    assert.deepEqual(ids(after), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 20, 21, 22, 23, 24])
    assert.notEqual(after.headers.get('etag'), before.headers.get('etag'))
  })

  it('is not ready once the bucket cannot be read, and still serves its last copy', async () => {
    assert.equal((await call(`${base}/readyz`)).status, 200)
    await s3.stop()
    await handle!.mirror!.refresh()
    const down = await call(`${base}/readyz`)
    assert.equal(down.status, 503)
    assert.match(down.json.error.message, /storage "analytics"/)
    assert.equal((await call(`${base}/v1/ports/orders-api?limit=1000`)).json.rows.length, 17)
  })
})
