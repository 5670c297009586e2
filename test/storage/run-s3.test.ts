import assert from 'node:assert/strict'
import {rmSync} from 'node:fs'

import {Engine} from '../../src/core/engine/session.js'
import {ExitCode} from '../../src/core/errors.js'
import {readStateRows} from '../../src/core/run/read-state.js'
import {runProduct} from '../../src/core/run/run.js'
import {requireOrSkip} from '../helpers/postgres.js'
import {RunProject} from '../helpers/run-project.js'
import {rejection} from '../helpers/storage.js'
import {s3Binary, startS3, type TestS3} from '../helpers/s3.js'

const STORAGE = 'apiVersion: dappmesh.io/v1alpha1\nkind: DataStorage\nmetadata:\n  name: lake\nspec:\n  class: object\n  engine: s3\n'


describe('dappmesh run with states in S3 (a real S3-compatible server)', function () {
  this.timeout(120_000)
  let s3: TestS3
  let p: RunProject
  let bucket: string
  let n = 0
  const env = (b = bucket): NodeJS.ProcessEnv => ({
    DAPPMESH_STORAGE_LAKE_ENDPOINT: s3.endpoint,
    DAPPMESH_STORAGE_LAKE_BUCKET: b,
    DAPPMESH_STORAGE_LAKE_ACCESS_KEY_ID: s3.accessKeyId,
    DAPPMESH_STORAGE_LAKE_SECRET_ACCESS_KEY: s3.secretAccessKey,
  })

  before(async function () {
    if (!s3Binary()) requireOrSkip(this, 'the S3 test server (test/services/build-s3.sh)')
    s3 = await startS3()
  })

  after(async () => {
    await s3?.stop()
  })

  beforeEach(async () => {
    n += 1
    bucket = `lake-${n}`
    await s3.createBucket(bucket)
    p = new RunProject()
    p.write('storage.yaml', STORAGE)
    // An object storage is never a flow's default (§7): both flows name it.
    p.edit('model/sales/flow.yaml', 'version: 1.0.0', 'version: 1.0.0\n  storage: lake')
    p.edit('model/customers/flow.yaml', 'version: 1.0.0', 'version: 1.0.0\n  storage: lake')
  })

  afterEach(() => p.remove())

  it('publishes every state as Parquet under <bucket>/<product>/<state>/, and runs again on them', async () => {
    const first = await runProduct({dir: p.dir, env: env()})
    assert.equal(first.ok, true, JSON.stringify(first.error))
    const keys = await s3.listKeys(bucket)
    assert.deepEqual(keys.map((k) => k.replace(/run=[^/]+/, 'run=ID')), [
      'shop/_manifest.json',
      'shop/customers__raw/run=ID/part-0.parquet',
      'shop/sales__clean/run=ID/part-0.parquet',
      'shop/sales__enriched/run=ID/part-0.parquet',
      'shop/sales__raw/run=ID/part-0.parquet',
      'shop/sales__totals/run=ID/part-0.parquet',
    ])
    p.write('data/sales-in.csv', 'id,customer,amount,qty,placed_at\ns9,c2,5,1,2026-11-03 10:00:00\n')
    const second = await runProduct({dir: p.dir, env: env()})
    assert.equal(second.ok, true, JSON.stringify(second.error))
    const totals = await readStateRows({dir: p.dir, state: 'totals', env: env()})
    assert.deepEqual(totals.rows.map((r) => [r.region, Number(r.orders), Number(r.revenue)]).sort(), [['eu', 2, 17.75], ['us', 2, 25]])
    // The replaced objects are gone: one object per state.
    assert.equal((await s3.listKeys(bucket, 'shop/sales__raw/')).length, 1)
  })

  it('leaves every state in the bucket as it was when a contract fails', async () => {
    assert.equal((await runProduct({dir: p.dir, env: env()})).ok, true)
    const before = await s3.listKeys(bucket)
    p.write('data/customers-in.csv', 'id,region\nc1,eu\nc2,us\nc3,apac\n')
    const failed = await runProduct({dir: p.dir, env: env()})
    assert.equal(failed.ok, false)
    assert.deepEqual(await s3.listKeys(bucket), before)
    const customers = await readStateRows({dir: p.dir, state: 'customers@1.0.0/raw', env: env()})
    assert.deepEqual(customers.rows.find((r) => r.id === 'c3')?.region, 'eu')
  })

  it('exits 3 saying the bucket does not exist and how to create it', async () => {
    const error = await rejection(runProduct({dir: p.dir, env: env('missing-bucket')}))
    assert.equal(error.exit, ExitCode.unreachable)
    assert.ok(error.message.includes('bucket "missing-bucket" does not exist'), error.message)
    assert.ok(error.suggestions.some((s) => s.includes('aws s3 mb s3://missing-bucket')), error.suggestions.join('\n'))
  })

  it('reads an s3 input source: every Parquet object under a prefix', async () => {
    const engine = await Engine.open({threads: 1})
    const files: string[] = []
    try {
      for (const [i, rows] of [["('x1', 'c1', 2.5, 1, TIMESTAMP '2026-11-07 08:00:00')"], ["('x2', 'c2', 3, 2, TIMESTAMP '2026-11-07 09:00:00')"]].entries()) {
        const file = p.path(`part-${i}.parquet`)
         
        await engine.run(`COPY (SELECT * FROM (VALUES ${rows[0]}) AS t(id, customer, amount, qty, placed_at)) TO '${file}' (FORMAT parquet)`)
        files.push(file)
      }
    } finally {
      await engine.close()
    }

    await s3.createBucket(`inbox-${n}`)
    const {S3Client, PutObjectCommand} = await import('@aws-sdk/client-s3')
    const client = new S3Client({endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: {accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey}})
    const {readFileSync} = await import('node:fs')
    for (const [i, file] of files.entries()) {
       
      await client.send(new PutObjectCommand({Bucket: `inbox-${n}`, Key: `sales/2026-11-07/part-${i}.parquet`, Body: readFileSync(file)}))
    }

    client.destroy()
    rmSync(p.path('data/sales-in.csv'))
    p.edit('services/sales/ports.yaml', 'type: http\n    uri: http://127.0.0.1:9/sales.csv', `type: s3\n    uri: s3://inbox-${n}/sales/`)
    const result = await runProduct({
      dir: p.dir,
      env: {...env(), DAPPMESH_INPUT_SALES_IN_ENDPOINT: s3.endpoint, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey},
    })
    assert.equal(result.ok, true, JSON.stringify(result.error))
    const raw = await readStateRows({dir: p.dir, state: 'sales@1.0.0/raw', env: env()})
    assert.deepEqual(raw.rows.map((r) => r.id).sort(), ['x1', 'x2'])
  })

  it('says which input port could not be read when its bucket is missing', async () => {
    const error = await rejection(runProduct({
      dir: p.dir,
      env: {...env(), AWS_ENDPOINT_URL: s3.endpoint, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey},
      inputs: ['sales-in=s3://nowhere/sales.csv'],
    }))
    assert.equal(error.exit, ExitCode.unreachable)
    assert.ok(error.message.startsWith('input port sales-in: bucket "nowhere" does not exist'), error.message)
  })
})
