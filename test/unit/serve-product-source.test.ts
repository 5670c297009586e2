import assert from 'node:assert/strict'
import {readFile, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {PRODUCT_LABEL} from '../../src/core/render/render.js'
import {buildCatalog} from '../../src/core/reconcile/mesh/catalog.js'
import type {IngestPort} from '../../src/core/runtime/model.js'
import {producerFromCatalog} from '../../src/core/runtime/producers.js'
import {type ServeHandle, startServe} from '../../src/core/runtime/serve.js'
import {type ShopRuntime, call, copyShop, ndjson, orders, push, runWorkflow, startShop} from '../helpers/runtime.js'

/** The catalog the operator publishes for product shop (namespace `namespace`) serving orders-api under `version`. */
function catalogOf(namespace: string, version = '2.1.0', portSpec: Record<string, unknown> = {}) {
  return buildCatalog({
    meshes: [],
    domains: [],
    products: [{metadata: {name: 'shop', namespace}, spec: {domain: 'sales'}}],
    // Named as render names them (`<product>.<name>`); the port's reference to its contract stays local.
    outputPorts: [{metadata: {name: 'shop.orders-api', namespace, labels: {[PRODUCT_LABEL]: 'shop'}}, spec: {contract: 'orders-clean', ...portSpec}}],
    inputPorts: [],
    contracts: [{metadata: {name: 'shop.orders-clean', namespace}, spec: {document: {id: 'urn:test:shop:orders-clean', version}}}],
  })
}

function input(source: Partial<IngestPort['source']> = {}, expected = {id: 'urn:test:shop:orders-clean', version: '2.0.0'}): IngestPort {
  return {name: 'orders-in', schema: 'orders@1.0.0/raw', state: {} as IngestPort['state'], source: {type: 'product', product: 'shop', port: 'orders-api', contract: 'orders-clean', ...source}, expected}
}

describe('serve: locating the producer of a product input source in the mesh catalog', () => {
  it('points at the producer runtime Service in the namespace the catalog lists', () => {
    const found = producerFromCatalog(catalogOf('sales'), input(), 'analytics', 'tok')
    assert.equal(found.baseUrl, 'http://shop-runtime.sales:8080')
    assert.equal(found.port, 'orders-api')
    assert.equal(found.token, 'tok')
  })

  it('prefers the producer in the consumer\'s own namespace when several namespaces have it', () => {
    const catalog = {outputPorts: [...catalogOf('a').outputPorts, ...catalogOf('b').outputPorts]}
    assert.equal(producerFromCatalog(catalog, input(), 'b').baseUrl, 'http://shop-runtime.b:8080')
    assert.throws(() => producerFromCatalog(catalog, input(), 'c'), /several namespaces \(a, b\)/)
  })

  it('reads the producer at the runtime address its catalog entry names', () => {
    const catalog = catalogOf('sales')
    assert.equal(catalog.outputPorts[0].runtime, 'http://shop-runtime.sales:8080', 'the operator names the runtime Service')
    catalog.outputPorts[0].runtime = 'http://127.0.0.1:18080'
    assert.equal(producerFromCatalog(catalog, input(), 'sales').baseUrl, 'http://127.0.0.1:18080')
  })

  it('refuses a port served by its own service image: no runtime API serves its rows', () => {
    const catalog = catalogOf('sales', '2.1.0', {service: {image: 'shop/custom:1', port: 7000}})
    assert.equal(catalog.outputPorts[0].runtime, null)
    assert.throws(() => producerFromCatalog(catalog, input(), 'sales'), /served by its own service image, not by a dappmesh runtime/)
  })

  it('refuses a port the catalog does not list', () => {
    assert.throws(() => producerFromCatalog(catalogOf('sales'), input({port: 'orders-raw'}), 'sales'), /lists no such output port/)
  })

  it('refuses a producer whose contract has another major version than the consumer\'s copy', () => {
    assert.throws(() => producerFromCatalog(catalogOf('sales', '3.0.0'), input(), 'sales'), /urn:test:shop:orders-clean@3\.0\.0.*expects.*@2\.0\.0/)
  })

  it('refuses a producer serving another contract than source.contract', () => {
    assert.throws(() => producerFromCatalog(catalogOf('sales'), input({contract: 'orders-other'}), 'sales'), /serves contract orders-clean .* not orders-other/)
  })
})

describe('serve: a workflow run pulls a product input source from the producer\'s runtime', function () {
  this.timeout(60_000)
  let producer: ShopRuntime
  let consumer: ServeHandle
  let dir: string

  before(async () => {
    producer = await startShop()
    assert.equal((await push(producer.url, 'orders-in', ndjson(orders(1, 12)))).status, 200)
    assert.equal((await runWorkflow(producer.url, 'nightly')).status, 'succeeded')
    // The consumer: the same product, its input reading the producer's cleaned orders.
    dir = await copyShop()
    const file = path.join(dir, 'services', 'orders', 'input.yaml')
    const text = await readFile(file, 'utf8')
    await writeFile(file, text.replace('type: kafka', 'type: product\n    product: shop\n    port: orders-api\n    contract: orders-clean').replace(/\n\s+uri: .*/, ''))
    // The catalog as in the cluster; the Service's address stands for the producer's local URL.
    const locate = async (i: IngestPort) => ({...producerFromCatalog(catalogOf('sales'), i, 'sales'), baseUrl: producer.url})
    consumer = await startServe({dir, host: '127.0.0.1', port: 0, auth: false, maxBody: 1024 * 1024, locate})
  })

  after(async () => {
    await consumer?.stop()
    await producer?.stop()
    if (dir) await rm(dir, {recursive: true, force: true})
  })

  it('ingests every row of the producer\'s port and publishes what the flow computes from them', async () => {
    const run = await runWorkflow(consumer.url, 'nightly')
    assert.equal(run.status, 'succeeded', JSON.stringify(run))
    const ingest = run.result.transitions.find((t: {name: string}) => t.name === 'ingest:orders-in')
    assert.equal(ingest.rowsOut, 12)
    const served = await call(`${consumer.url}/v1/ports/orders-api?limit=1000`)
    assert.equal(served.json.rows.length, 12)
  })
})
