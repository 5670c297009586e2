import assert from 'node:assert/strict'
import {rm, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {type ServeHandle, startServe} from '../../src/core/runtime/serve.js'
import {postgresBinDir, requireOrSkip, startPostgres, type TestPostgres} from '../helpers/postgres.js'
import {call, copyShop, ndjson, orders, push} from '../helpers/runtime.js'

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
    pg.psql(`CREATE ROLE runtime LOGIN PASSWORD 'runtime-secret';
      GRANT CREATE, CONNECT ON DATABASE ${pg.database} TO runtime;
      GRANT USAGE ON SCHEMA shop TO runtime;
      ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO runtime;
      GRANT SELECT ON ALL TABLES IN SCHEMA shop TO runtime;`)
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

  it('refuses a push into the Postgres storage with 501 saying why, rather than losing it at the next refresh', async () => {
    const res = await push(base, 'orders-in', ndjson(orders(1, 2)))
    assert.equal(res.status, 501)
    assert.match(res.json.error.message, /analytics.*postgresql.*read-only/)
  })

  it('refuses a workflow run over the Postgres storage with 501', async () => {
    const res = await call(`${base}/v1/workflows/nightly/runs`, {method: 'POST'})
    assert.equal(res.status, 501)
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
      assert.equal((await call(`${base}/v1/ports/orders-api?limit=1000`)).json.rows.length, 40)
    } finally {
      pg.psql(`ALTER ROLE runtime LOGIN`)
    }
    await refresh()
    assert.equal((await call(`${base}/readyz`)).status, 200)
  })
})
