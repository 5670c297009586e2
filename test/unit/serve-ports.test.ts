import assert from 'node:assert/strict'
import http from 'node:http'
import {writeFile} from 'node:fs/promises'
import path from 'node:path'

import {type ShopRuntime, call, ndjson, orders, push, runWorkflow, startShop} from '../helpers/runtime.js'

/** GET with node:http, which exposes trailers (fetch does not). */
function getWithTrailers(url: string): Promise<{status: number; body: string; trailers: NodeJS.Dict<string>}> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body, trailers: res.trailers}))
    }).on('error', reject)
  })
}

describe('serve: reading output ports', function () {
  this.timeout(60_000)
  let shop: ShopRuntime
  let base: string

  before(async () => {
    shop = await startShop()
    base = shop.url
    assert.equal((await push(base, 'orders-in', ndjson(orders(1, 25)))).status, 200)
    assert.equal((await runWorkflow(base, 'nightly')).status, 'succeeded')
  })
  after(async () => shop?.stop())

  it('lists each output port with its contract id and version, schema ref, row count and last run', async () => {
    const res = await call(`${base}/v1/ports`)
    assert.equal(res.status, 200)
    const api = res.json.ports.find((p: any) => p.name === 'orders-api')
    assert.deepEqual(api.contract, {name: 'orders-clean', id: 'urn:test:shop:orders-clean', version: '2.1.0'})
    assert.equal(api.schema, 'orders@1.0.0/clean')
    assert.equal(api.rows, 25)
    assert.equal(api.lastRun.status, 'succeeded')
  })

  it('serves a JSON page of at most `limit` rows in primary-key order, with the cursor of the next page', async () => {
    const res = await call(`${base}/v1/ports/orders-api?limit=10`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'application/json')
    assert.deepEqual(res.json.rows.map((r: any) => r.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    assert.deepEqual(res.json.rows[0], {id: 1, customer: 'c1', amount: 1, placed_at: '2024-01-01 01:00:00'})
    assert.equal(typeof res.json.next, 'string')
  })

  it('pages by primary key, so rows added between pages neither repeat nor shift the next page', async () => {
    const first = await call(`${base}/v1/ports/orders-api?limit=10&fields=id`)
    // A new run publishes 100 more rows, some before and some after the first page's last key.
    assert.equal((await push(base, 'orders-in', ndjson(orders(26, 40)))).status, 200)
    assert.equal((await runWorkflow(base, 'nightly')).status, 'succeeded')
    const second = await call(`${base}/v1/ports/orders-api?limit=10&fields=id&cursor=${first.json.next}`)
    assert.deepEqual(second.json.rows.map((r: any) => r.id), [11, 12, 13, 14, 15, 16, 17, 18, 19, 20])
  })

  it('streams NDJSON with the next cursor in a trailer', async () => {
    const res = await getWithTrailers(`${base}/v1/ports/orders-api?format=ndjson&limit=3`)
    const lines = res.body.trim().split('\n').map((l) => JSON.parse(l))
    assert.deepEqual(lines.map((r) => r.id), [1, 2, 3])
    const next = res.trailers['dappmesh-next-cursor']
    assert.equal(typeof next, 'string')
    const page2 = await getWithTrailers(`${base}/v1/ports/orders-api?format=ndjson&limit=3&cursor=${next}`)
    assert.deepEqual(page2.body.trim().split('\n').map((l) => JSON.parse(l).id), [4, 5, 6])
  })

  it('serves CSV with a header line when the client Accepts text/csv', async () => {
    const res = await call(`${base}/v1/ports/orders-daily?limit=2`, {headers: {accept: 'text/csv'}})
    assert.equal(res.headers.get('content-type'), 'text/csv')
    assert.deepEqual(res.text.split('\n').slice(0, 3), ['day,orders,revenue', '2024-01-01,23,276.000000000', '2024-01-02,17,544.000000000'])
  })

  it('quotes CSV values holding commas or quotes (RFC 4180)', async () => {
    assert.equal((await push(base, 'orders-in', ndjson([{id: 900, customer: 'Smith, "J"', amount: 1, placed_at: '2024-03-01 00:00:00'}]))).status, 200)
    assert.equal((await runWorkflow(base, 'nightly')).status, 'succeeded')
    const res = await call(`${base}/v1/ports/orders-api?format=csv&id=900`)
    assert.equal(res.text, 'id,customer,amount,placed_at\n900,"Smith, ""J""",1.000000000,2024-03-01 00:00:00\n')
  })

  it('serves Parquet that DuckDB reads back with the same rows', async () => {
    const res = await fetch(`${base}/v1/ports/orders-api?format=parquet&limit=5&fields=id,amount`)
    assert.equal(res.status, 200)
    const file = path.join(shop.dir, 'page.parquet')
    await writeFile(file, Buffer.from(await res.arrayBuffer()))
    const {DuckDBInstance} = await import('@duckdb/node-api')
    const db = await DuckDBInstance.create(':memory:')
    const c = await db.connect()
    const rows = (await c.runAndReadAll(`SELECT id FROM read_parquet('${file}') ORDER BY id`)).getRowObjectsJS()
    c.closeSync()
    db.closeSync()
    assert.deepEqual(rows.map((r) => Number(r.id)), [1, 2, 3, 4, 5])
  })

  it('filters rows on a field\'s value and projects the fields asked for', async () => {
    const res = await call(`${base}/v1/ports/orders-api?customer=c3&fields=id,customer&limit=3`)
    assert.deepEqual(res.json.rows, [
      {id: 3, customer: 'c3'},
      {id: 10, customer: 'c3'},
      {id: 17, customer: 'c3'},
    ])
  })

  it('answers 304 to If-None-Match with the current ETag, and a new ETag once the data changed', async () => {
    const first = await call(`${base}/v1/ports/orders-daily`)
    const etag = first.headers.get('etag')!
    assert.match(etag, /^".+"$/)
    assert.equal((await call(`${base}/v1/ports/orders-daily`, {headers: {'if-none-match': etag}})).status, 304)
    assert.equal((await runWorkflow(base, 'nightly')).status, 'succeeded')
    const after = await call(`${base}/v1/ports/orders-daily`, {headers: {'if-none-match': etag}})
    assert.equal(after.status, 200)
    assert.notEqual(after.headers.get('etag'), etag)
  })

  it('pages a port without a primary key by position, and refuses (409) a cursor once the data changed', async () => {
    const res = await call(`${base}/v1/ports/orders-log?limit=1`)
    assert.equal(res.json.rows.length, 1)
    assert.equal(typeof res.json.next, 'string')
    assert.equal((await call(`${base}/v1/ports/orders-log?limit=1&cursor=${res.json.next}`)).status, 200)
    assert.equal((await runWorkflow(base, 'nightly')).status, 'succeeded')
    const stale = await call(`${base}/v1/ports/orders-log?limit=1&cursor=${res.json.next}`)
    assert.equal(stale.status, 409)
    assert.match(stale.json.error.message, /changed since this cursor/)
  })

  it('serves the contract document and the schema of a port', async () => {
    const contract = await call(`${base}/v1/ports/orders-api/contract`)
    assert.equal(contract.json.id, 'urn:test:shop:orders-clean')
    const schema = await call(`${base}/v1/ports/orders-api/schema`)
    assert.deepEqual(schema.json.primaryKey, ['id'])
    assert.deepEqual(schema.json.fields.map((f: any) => f.name), ['id', 'customer', 'amount', 'placed_at'])
  })

  describe('bad requests', () => {
    const cases: Array<[string, string, number, RegExp]> = [
      ['an unknown port', '/v1/ports/nope', 404, /no output port "nope".*orders-api/],
      ['an unknown format', '/v1/ports/orders-api?format=xml', 400, /format must be one of json, ndjson, csv, parquet/],
      ['a limit of 0', '/v1/ports/orders-api?limit=0', 400, /limit must be a whole number from 1 to 100000/],
      ['a limit above 100000', '/v1/ports/orders-api?limit=100001', 400, /limit must be/],
      ['a limit that is not a number', '/v1/ports/orders-api?limit=ten', 400, /limit must be/],
      ['a cursor it never issued', '/v1/ports/orders-api?cursor=garbage', 400, /cursor .* is not one this runtime issued/],
      ['a filter on a field that does not exist', '/v1/ports/orders-api?colour=red', 400, /cannot filter on "colour".*fields are id, customer, amount, placed_at/],
      ['a filter value of the wrong type', '/v1/ports/orders-api?id=abc', 400, /does not match its field's type/],
      ['fields naming an unknown field', '/v1/ports/orders-api?fields=id,nope', 400, /has no field "nope"/],
      ['an unknown endpoint', '/v2/things', 404, /no such endpoint/],
    ]
    for (const [what, url, status, message] of cases) {
      it(`answers ${status} with a JSON error for ${what}`, async () => {
        const res = await call(`${base}${url}`)
        assert.equal(res.status, status)
        assert.equal(res.headers.get('content-type'), 'application/json')
        assert.match(res.json.error.message, message)
      })
    }
  })
})
