import assert from 'node:assert/strict'
import {readFile, rm, writeFile} from 'node:fs/promises'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'

import {startServe} from '../../src/core/runtime/serve.js'
import {type ShopRuntime, call, copyShop, ndjson, orders, push, runWorkflow} from '../helpers/runtime.js'

/** The input port of the shop fixture pulling from `uri` (an http source) instead of taking pushes only. */
async function pullFrom(dir: string, uri: string): Promise<void> {
  const file = path.join(dir, 'services', 'orders', 'input.yaml')
  const text = await readFile(file, 'utf8')
  await writeFile(file, text.replace('type: kafka', 'type: http').replace(/uri: .*/, `uri: ${uri}`))
}

describe('serve: a workflow run pulls the http source of its input ports', function () {
  this.timeout(60_000)
  let source: http.Server
  let body = ''
  let shop: ShopRuntime

  before(async () => {
    source = http.createServer((req, res) => {
      if (req.url !== '/orders.ndjson') {
        res.writeHead(404).end()
        return
      }
      res.writeHead(200, {'Content-Type': 'application/x-ndjson'}).end(body)
    })
    await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve))
    const {port} = source.address() as AddressInfo
    const dir = await copyShop()
    await pullFrom(dir, `http://127.0.0.1:${port}/orders.ndjson`)
    const handle = await startServe({dir, host: '127.0.0.1', port: 0, auth: false, maxBody: 1024 * 1024})
    shop = {dir, handle, url: handle.url, stop: async () => {
      await handle.stop()
      await rm(dir, {recursive: true, force: true})
    }}
  })

  after(async () => {
    await shop?.stop()
    source?.close()
  })

  it('ingests the rows the source serves at the start of the run, and publishes what the flow computes from them', async () => {
    body = ndjson(orders(1, 5))
    const run = await runWorkflow(shop.url, 'nightly')
    assert.equal(run.status, 'succeeded', JSON.stringify(run))
    const ingest = run.result.transitions.find((t: {name: string}) => t.name === 'ingest:orders-in')
    assert.equal(ingest.rowsOut, 5)
    const served = await call(`${shop.url}/v1/ports/orders-api?limit=1000`)
    assert.deepEqual(served.json.rows.map((r: {id: number}) => r.id), [1, 2, 3, 4, 5])
  })

  it('adds pulled rows to what was pushed and pulled before (a row with the same key replaces it)', async () => {
    assert.equal((await push(shop.url, 'orders-in', ndjson(orders(10, 10)))).status, 200)
    body = ndjson([{...orders(2, 2)[0], amount: 200}, ...orders(6, 6)])
    const run = await runWorkflow(shop.url, 'nightly')
    assert.equal(run.status, 'succeeded', JSON.stringify(run))
    const served = await call(`${shop.url}/v1/ports/orders-api?limit=1000`)
    assert.deepEqual(served.json.rows.map((r: {id: number; amount: number}) => `${r.id}:${Number(r.amount)}`), ['1:1', '2:200', '3:3', '4:4', '5:5', '6:6', '10:10'])
  })

  it('reports pulled rows that break the schema as rejected, and keeps the rest', async () => {
    body = ndjson([...orders(7, 7), {id: 8, customer: 'c1', amount: 'lots', placed_at: '2024-01-01 00:00:00'}])
    const run = await runWorkflow(shop.url, 'nightly')
    assert.equal(run.status, 'succeeded', JSON.stringify(run))
    const ingest = run.result.transitions.find((t: {name: string}) => t.name === 'ingest:orders-in')
    assert.deepEqual([ingest.rowsOut, ingest.rowsRejected], [1, 1])
  })

  it('fails the run, publishing nothing, when the source answers an error', async () => {
    const before = await call(`${shop.url}/v1/ports/orders-api?limit=1000`)
    const {port} = source.address() as AddressInfo
    source.removeAllListeners('request')
    source.on('request', (_req, res) => res.writeHead(500).end('down'))
    try {
      const run = await runWorkflow(shop.url, 'nightly')
      assert.equal(run.status, 'failed')
      assert.match(run.error, new RegExp(`127\\.0\\.0\\.1:${port}/orders\\.ndjson answered 500`))
    } finally {
      source.removeAllListeners('request')
      source.on('request', (_req, res) => res.writeHead(200, {'Content-Type': 'application/x-ndjson'}).end(body))
    }
    const after = await call(`${shop.url}/v1/ports/orders-api?limit=1000`)
    assert.deepEqual(after.json.rows, before.json.rows)
  })
})
