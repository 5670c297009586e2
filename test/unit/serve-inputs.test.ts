import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import path from 'node:path'

import {type ShopRuntime, call, ndjson, orders, push, startShop} from '../helpers/runtime.js'

/** The rows of the raw state, straight from the runtime's DuckDB (not through the API under test). */
async function rawIds(shop: ShopRuntime): Promise<number[]> {
  const rows = await shop.handle.runtime.store.rows<{id: bigint}>('SELECT id FROM analytics.main.orders__raw ORDER BY id')
  return rows.map((r) => Number(r.id))
}

describe('serve: pushes into input ports', function () {
  this.timeout(60_000)
  let shop: ShopRuntime
  let base: string

  beforeEach(async () => {
    shop = await startShop({maxBody: 64 * 1024})
    base = shop.url
  })
  afterEach(async () => shop?.stop())

  it('lands NDJSON rows in the input\'s state and reports each rejected row with its reason', async () => {
    const body = ndjson([...orders(1, 2), {id: 3, amount: 'lots', placed_at: '2024-01-01 00:00:00'}, {id: 4, customer: 'x', placed_at: '2024-01-01 00:00:00'}])
    const res = await push(base, 'orders-in', body)
    assert.equal(res.status, 200)
    assert.equal(res.json.accepted, 2)
    assert.equal(res.json.rejected, 2)
    assert.deepEqual(res.json.rejections, [
      {row: 3, reason: 'amount: ""lots"" is not a valid DECIMAL(38,9)'},
      {row: 4, reason: 'amount: required, but empty'},
    ])
    assert.deepEqual(await rawIds(shop), [1, 2])
    const quarantined = await shop.handle.runtime.store.rows<{id: string; _reason: string}>('SELECT id, _reason FROM analytics.main.orders__raw__rejected ORDER BY id')
    assert.deepEqual(quarantined.map((r) => r.id), ['3', '4'])
  })

  it('reads CSV, a JSON array and Parquet too', async () => {
    assert.equal((await push(base, 'orders-in', 'id,customer,amount,placed_at\n1,a,1.5,2024-01-01 00:00:00\n', 'text/csv')).json.accepted, 1)
    assert.equal((await push(base, 'orders-in', JSON.stringify(orders(2, 3)), 'application/json')).json.accepted, 2)
    // A Parquet file made by DuckDB itself.
    const {DuckDBInstance} = await import('@duckdb/node-api')
    const db = await DuckDBInstance.create(':memory:')
    const c = await db.connect()
    const file = path.join(shop.dir, 'in.parquet')
    await c.run(`COPY (SELECT 4 AS id, 'd' AS customer, 4.0 AS amount, TIMESTAMP '2024-01-01 04:00:00' AS placed_at) TO '${file}' (FORMAT parquet)`)
    c.closeSync()
    db.closeSync()
    const parquet = await push(base, 'orders-in', await readFile(file), 'application/vnd.apache.parquet')
    assert.equal(parquet.status, 200, parquet.text)
    assert.equal(parquet.json.accepted, 1)
    assert.deepEqual(await rawIds(shop), [1, 2, 3, 4])
  })

  it('keeps the first row of a primary key repeated within one push and rejects the others', async () => {
    const res = await push(base, 'orders-in', ndjson([...orders(1, 2), {id: 1, customer: 'again', amount: 5, placed_at: '2024-01-01 00:00:00'}]))
    assert.equal(res.json.accepted, 2)
    assert.deepEqual(res.json.rejections, [{row: 3, reason: 'duplicate primary key (id=1)'}])
  })

  it('replaces a row whose primary key already exists, so pushes accumulate without duplicates', async () => {
    await push(base, 'orders-in', ndjson(orders(1, 3)))
    await push(base, 'orders-in', ndjson([{id: 2, customer: 'changed', amount: 99, placed_at: '2024-02-01 00:00:00'}]))
    assert.deepEqual(await rawIds(shop), [1, 2, 3])
    const [row] = await shop.handle.runtime.store.rows<{customer: string}>('SELECT customer FROM analytics.main.orders__raw WHERE id = 2')
    assert.equal(row.customer, 'changed')
  })

  it('answers 422 when no row is accepted: wrong columns reject every row', async () => {
    const res = await push(base, 'orders-in', ndjson([{order: 1, total: 3}, {order: 2, total: 4}]))
    assert.equal(res.status, 422)
    assert.match(res.json.error.message, /no row of the push was accepted \(2 rejected\)/)
    assert.match(res.json.error.rejections[0].reason, /unknown fields order, total: input port orders-in takes id, customer, amount, placed_at/)
    assert.deepEqual(await rawIds(shop).catch(() => []), [])
  })

  it('answers 413 to a push larger than --max-body, and lands nothing', async () => {
    const big = ndjson(orders(1, 2000))
    assert.ok(big.length > 64 * 1024)
    const res = await push(base, 'orders-in', big)
    assert.equal(res.status, 413)
    assert.match(res.json.error.message, /more than this runtime accepts \(65536\).*--max-body/)
    assert.deepEqual(await rawIds(shop).catch(() => []), [])
  })

  it('answers 413 to a streamed push (no Content-Length) as soon as it passes --max-body', async () => {
    const chunk = ndjson(orders(1, 200))
    let sent = 0
    const body = new ReadableStream({
      pull(controller) {
        if (sent > 10) return controller.close()
        sent++
        controller.enqueue(new TextEncoder().encode(chunk))
      },
    })
    const res = await call(`${base}/v1/inputs/orders-in`, {method: 'POST', headers: {'content-type': 'application/x-ndjson'}, body, duplex: 'half'} as RequestInit)
    assert.equal(res.status, 413)
    assert.match(res.json.error.message, /more than 65536 bytes/)
    assert.deepEqual(await rawIds(shop).catch(() => []), [])
  })

  it('lands a push retried with the same Idempotency-Key once, and replays the first answer', async () => {
    const body = ndjson(orders(1, 5))
    const first = await push(base, 'orders-in', body, undefined, {'idempotency-key': 'batch-1'})
    // Meanwhile the row changes; a replay must not put the old value back.
    await push(base, 'orders-in', ndjson([{id: 1, customer: 'newer', amount: 1, placed_at: '2024-01-01 00:00:00'}]))
    const again = await push(base, 'orders-in', body, undefined, {'idempotency-key': 'batch-1'})
    assert.equal(again.status, 200)
    assert.equal(again.headers.get('idempotency-replayed'), 'true')
    assert.deepEqual(again.json, first.json)
    const [row] = await shop.handle.runtime.store.rows<{customer: string}>('SELECT customer FROM analytics.main.orders__raw WHERE id = 1')
    assert.equal(row.customer, 'newer')
  })

  it('answers 415 to a body in a format it does not read, naming the ones it does', async () => {
    const res = await push(base, 'orders-in', '<rows/>', 'application/xml')
    assert.equal(res.status, 415)
    assert.match(res.json.error.message, /application\/x-ndjson.*text\/csv/)
  })

  it('answers 400 to a CSV body with an unbalanced quote, naming the line', async () => {
    const res = await push(base, 'orders-in', 'id,customer,amount,placed_at\n1,"unclosed,1,2024-01-01\n', 'text/csv')
    assert.equal(res.status, 400)
    assert.match(res.json.error.message, /the csv body cannot be read: .*Line: 2/)
  })

  it('answers 400 to a ragged CSV body (a row with too few fields)', async () => {
    const res = await push(base, 'orders-in', 'id,customer,amount,placed_at\n1,a,1\n', 'text/csv')
    assert.equal(res.status, 400)
    assert.match(res.json.error.message, /Expected Number of Columns: 4 Found: 3/)
  })

  it('answers 404 for an unknown input port and 422 for an empty push', async () => {
    assert.equal((await push(base, 'nope', ndjson(orders(1, 1)))).status, 404)
    const empty = await push(base, 'orders-in', '')
    assert.equal(empty.status, 422)
    assert.match(empty.json.error.message, /no body/)
  })

  it('counts ingested and rejected rows in /metrics', async () => {
    await push(base, 'orders-in', ndjson([...orders(1, 3), {id: 9}]))
    const metrics = await call(`${base}/metrics`)
    assert.match(metrics.text, /dappmesh_rows_ingested_total\{port="orders-in"\} 3/)
    assert.match(metrics.text, /dappmesh_rows_rejected_total\{port="orders-in"\} 1/)
    assert.match(metrics.text, /dappmesh_http_requests_total\{code="200",method="POST",route="\/v1\/inputs\/\{port\}"\} 1/)
  })
})
