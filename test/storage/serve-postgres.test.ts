import assert from 'node:assert/strict'
import {rm, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {type ServeHandle, startServe} from '../../src/core/runtime/serve.js'
import {postgresBinDir, requireOrSkip, startPostgres, type TestPostgres} from '../helpers/postgres.js'
import {call, copyShop, ndjson, orders, push, runWorkflow} from '../helpers/runtime.js'

/** The shop fixture with its one storage moved to Postgres (the flow's states then live there). */
async function postgresShop(): Promise<string> {
  const dir = await copyShop()
  await writeFile(path.join(dir, 'storage', 'analytics.yaml'), [
    'apiVersion: dappmesh.io/v1alpha1',
    'kind: DataStorage',
    'metadata:',
    '  name: analytics',
    'spec:',
    '  class: operational',
    '  engine: postgresql',
    '',
  ].join('\n'))
  return dir
}

/** Publishes rows of `orders__clean` the way the postgresql driver does: a table in the product's schema. */
function publishClean(pg: TestPostgres, from: number, to: number): void {
  pg.psql(`CREATE SCHEMA IF NOT EXISTS shop;
    DROP TABLE IF EXISTS shop.orders__clean;
    CREATE TABLE shop.orders__clean (id BIGINT PRIMARY KEY, customer TEXT, amount NUMERIC(38,9) NOT NULL, placed_at TIMESTAMP NOT NULL);
    INSERT INTO shop.orders__clean SELECT i, 'c' || (i % 7), i, TIMESTAMP '2024-01-01' + i * INTERVAL '1 hour' FROM generate_series(${from}, ${to}) AS i;`)
}

describe('serve: a product whose states live in Postgres (a real Postgres)', function () {
  this.timeout(60_000)
  let pg: TestPostgres
  let dir: string
  let handle: ServeHandle
  let base: string

  before(async function () {
    if (!postgresBinDir()) requireOrSkip(this, 'Postgres (scripts/install-system-deps.sh)')
    pg = await startPostgres()
    publishClean(pg, 1, 25)
    // The runtime logs in as a role of its own, which a test can lock out while the owner stays in.
    pg.psql(`CREATE ROLE runtime SUPERUSER LOGIN PASSWORD 'runtime-secret'`)
    const url = `postgres://runtime:runtime-secret@127.0.0.1:${pg.port}/${pg.database}`
    dir = await postgresShop()
    // A refresh far in the future: the tests refresh by hand, so each sees exactly the copy it made.
    handle = await startServe({dir, host: '127.0.0.1', port: 0, auth: false, maxBody: 1024 * 1024, env: {DAPPMESH_STORAGE_ANALYTICS_URL: url}, refreshMs: 3_600_000})
    base = handle.url
  })

  after(async () => {
    await handle?.stop()
    await pg?.stop()
    if (dir) await rm(dir, {recursive: true, force: true})
  })

  /** The runtime's mirror, refreshed now (what its timer does every refreshMs). */
  async function refresh(): Promise<void> {
    await handle.mirror!.refresh()
  }

  it('serves the rows published in Postgres, with filters and key paging', async () => {
    const first = await call(`${base}/v1/ports/orders-api?limit=10&customer=c3`)
    assert.equal(first.status, 200, first.text)
    assert.deepEqual(first.json.rows.map((r: {id: number}) => r.id), [3, 10, 17, 24])
    const page = await call(`${base}/v1/ports/orders-api?limit=10`)
    assert.deepEqual(page.json.rows.map((r: {id: number}) => r.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    const next = await call(`${base}/v1/ports/orders-api?limit=10&cursor=${page.json.next}`)
    assert.deepEqual(next.json.rows.map((r: {id: number}) => r.id), [11, 12, 13, 14, 15, 16, 17, 18, 19, 20])
  })

  it('serves rows Postgres gets later once the mirror refreshes, with a new ETag', async () => {
    const before = await call(`${base}/v1/ports/orders-api?limit=1000`)
    publishClean(pg, 1, 40)
    await refresh()
    const after = await call(`${base}/v1/ports/orders-api?limit=1000`)
    assert.equal(after.json.rows.length, 40)
    assert.notEqual(after.headers.get('etag'), before.headers.get('etag'))
  })

  it('keeps the ETag when a refresh finds the same rows', async () => {
    const before = await call(`${base}/v1/ports/orders-api?limit=5`)
    publishClean(pg, 1, 40)
    await refresh()
    const again = await call(`${base}/v1/ports/orders-api?limit=5`, {headers: {'If-None-Match': before.headers.get('etag')!}})
    assert.equal(again.status, 304)
  })

  it('lands an accepted push in Postgres too, and its rejected rows in the quarantine table', async () => {
    const rows = [...orders(1, 3), {id: 4, customer: 'c4', amount: 'not a number', placed_at: '2024-01-01 00:00:00'}]
    const res = await push(base, 'orders-in', ndjson(rows))
    assert.equal(res.status, 200, res.text)
    assert.equal(res.json.accepted, 3)
    assert.equal(pg.psql('SELECT string_agg(id::text, \',\' ORDER BY id) FROM shop.orders__raw').trim(), '1,2,3')
    assert.equal(pg.psql('SELECT count(*) FROM shop.orders__raw__rejected').trim(), '1')
  })

  it('upserts a later push by primary key in Postgres', async () => {
    const res = await push(base, 'orders-in', ndjson([{...orders(3, 3)[0], amount: 300}, ...orders(5, 5)]))
    assert.equal(res.status, 200, res.text)
    assert.equal(pg.psql('SELECT string_agg(id || \':\' || amount::int, \',\' ORDER BY id) FROM shop.orders__raw').trim(), '1:1,2:2,3:300,5:5')
  })

  it('publishes a workflow run into Postgres and serves what it published', async () => {
    const run = await runWorkflow(base, 'nightly')
    assert.equal(run.status, 'succeeded', JSON.stringify(run))
    assert.equal(pg.psql('SELECT string_agg(id::text, \',\' ORDER BY id) FROM shop.orders__clean').trim(), '1,2,3,5')
    assert.equal(pg.psql('SELECT count(*) FROM shop.orders__daily').trim(), '1')
    const served = await call(`${base}/v1/ports/orders-api?limit=1000`)
    assert.deepEqual(served.json.rows.map((r: {id: number}) => r.id), [1, 2, 3, 5])
    // A refresh finds in Postgres what the runtime published: the served rows stay the same.
    await refresh()
    assert.deepEqual((await call(`${base}/v1/ports/orders-api?limit=1000`)).json.rows.map((r: {id: number}) => r.id), [1, 2, 3, 5])
  })

  it('publishes nothing of a run when Postgres refuses the write (the run fails, the served rows stay)', async () => {
    await push(base, 'orders-in', ndjson(orders(6, 6)))
    pg.psql('ALTER ROLE runtime NOLOGIN')
    let run
    try {
      run = await runWorkflow(base, 'nightly')
    } finally {
      pg.psql('ALTER ROLE runtime LOGIN')
    }
    assert.equal(run.status, 'failed', JSON.stringify(run))
    assert.equal(pg.psql('SELECT string_agg(id::text, \',\' ORDER BY id) FROM shop.orders__clean').trim(), '1,2,3,5')
    assert.deepEqual((await call(`${base}/v1/ports/orders-api?limit=1000`)).json.rows.map((r: {id: number}) => r.id), [1, 2, 3, 5])
  })

  it('is not ready while Postgres refuses it, and ready again once it lets it in', async () => {
    assert.equal((await call(`${base}/readyz`)).status, 200)
    pg.psql(`ALTER ROLE runtime NOLOGIN`)
    try {
      await refresh()
      const down = await call(`${base}/readyz`)
      assert.equal(down.status, 503)
      assert.match(down.json.error.message, /analytics/)
      // What was copied last is still served meanwhile.
      assert.equal((await call(`${base}/v1/ports/orders-api?limit=1000`)).json.rows.length, 4)
    } finally {
      pg.psql(`ALTER ROLE runtime LOGIN`)
    }
    await refresh()
    assert.equal((await call(`${base}/readyz`)).status, 200)
  })
})
