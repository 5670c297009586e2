import assert from 'node:assert/strict'
import {cp, mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {isUserError} from '../../src/core/errors.js'
import {pullProductPort} from '../../src/core/ingest/product.js'
import {runProduct} from '../../src/core/run/run.js'
import {fixture} from '../helpers/cli.js'
import {type ShopRuntime, ndjson, orders, push, runWorkflow, startShop} from '../helpers/runtime.js'

describe('product input sources: reading another product\'s port through its runtime', function () {
  this.timeout(120_000)
  let producer: ShopRuntime
  let consumer: string
  let scratch: string

  before(async () => {
    producer = await startShop()
    await push(producer.url, 'orders-in', ndjson(orders(1, 25)))
    assert.equal((await runWorkflow(producer.url, 'nightly')).status, 'succeeded')
  })
  after(async () => producer?.stop())
  beforeEach(async () => {
    consumer = await mkdtemp(path.join(tmpdir(), 'dappmesh-consumer-'))
    await cp(fixture('serve', 'consumer'), consumer, {recursive: true})
    scratch = await mkdtemp(path.join(tmpdir(), 'dappmesh-pull-'))
  })
  afterEach(async () => {
    await rm(consumer, {recursive: true, force: true})
    await rm(scratch, {recursive: true, force: true})
  })

  const source = (overrides = {}) => ({input: 'orders-feed', baseUrl: producer.url, product: 'shop', port: 'orders-api', contract: 'orders-clean', expected: {id: 'urn:test:shop:orders-clean', version: '2.0.0'}, ...overrides})

  it('pulls every page of the port, following the runtime\'s cursor', async () => {
    const pulled = await pullProductPort(source({pageSize: 10}), scratch)
    const ids = (await readFile(pulled.file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).id)
    assert.deepEqual(ids, Array.from({length: 25}, (_, i) => i + 1))
  })

  it('feeds the consumer\'s state in dappmesh run, given the producer runtime\'s URL with --input', async () => {
    const result = await runProduct({dir: consumer, inputs: [`orders-feed=${producer.url}`]})
    assert.equal(result.ok, true, JSON.stringify(result.error))
    const ingest = result.runs[0].transitions[0]
    assert.equal(ingest.rowsOut, 25, JSON.stringify(result))
    assert.equal(ingest.rowsRejected, 0)
  })

  it('refuses a producer whose contract has another major version than the consumer\'s copy', async () => {
    await assert.rejects(pullProductPort(source({expected: {id: 'urn:test:shop:orders-clean', version: '3.0.0'}}), scratch), (error: Error) => {
      assert.ok(isUserError(error))
      assert.match(error.message, /the producer's contract orders-clean is urn:test:shop:orders-clean@2\.1\.0, the consumer expects urn:test:shop:orders-clean@3\.0\.0/)
      return true
    })
  })

  it('refuses a port that serves another contract than source.contract', async () => {
    await assert.rejects(pullProductPort(source({port: 'orders-daily'}), scratch), /serves contract orders-daily \(urn:test:shop:orders-daily@1\.0\.0\), not orders-clean/)
  })

  it('says the producer is unreachable (exit 3) when nothing answers at the URL', async () => {
    await assert.rejects(pullProductPort(source({baseUrl: 'http://127.0.0.1:9'}), scratch), (error: Error & {exit?: number}) => {
      assert.equal(error.exit, 3)
      assert.match(error.message, /unreachable \(ECONNREFUSED\)/)
      return true
    })
  })

  it('makes dappmesh run exit 2 for a product source with no URL given, saying how to give one', async () => {
    await assert.rejects(runProduct({dir: consumer}), (error: Error & {exit?: number}) => {
      assert.equal(error.exit, 2)
      assert.match(error.message, /a local run needs the producer runtime's URL/)
      return true
    })
  })
})
