import assert from 'node:assert/strict'

import {ExitCode} from '../../src/core/errors.js'
import {runProduct} from '../../src/core/run/run.js'
import {postgresBinDir, requireOrSkip, startPostgres, type TestPostgres} from '../helpers/postgres.js'
import {RunProject} from '../helpers/run-project.js'
import {rejection} from '../helpers/storage.js'

const STORAGE = 'apiVersion: dappmesh.io/v1alpha1\nkind: DataStorage\nmetadata:\n  name: operational\nspec:\n  class: operational\n  engine: postgresql\n'


describe('dappmesh run with states in Postgres (a real Postgres)', function () {
  this.timeout(120_000)
  let pg: TestPostgres
  let p: RunProject
  const env = () => ({DAPPMESH_STORAGE_OPERATIONAL_URL: pg.url})
  const lines = (sql: string) => pg.psql(sql).trim().split('\n').filter((l) => l !== '')

  before(async function () {
    if (!postgresBinDir()) requireOrSkip(this, 'Postgres (scripts/install-system-deps.sh)')
    pg = await startPostgres()
  })

  after(async () => {
    await pg?.stop()
  })

  beforeEach(() => {
    pg.psql('DROP SCHEMA IF EXISTS shop CASCADE; DROP SCHEMA IF EXISTS source CASCADE')
    p = new RunProject()
    p.write('storage.yaml', STORAGE)
  })

  afterEach(() => p.remove())

  it('publishes every state as a table in the schema "shop", the product\'s name', async () => {
    const result = await runProduct({dir: p.dir, env: env()})
    assert.equal(result.ok, true, JSON.stringify(result.error))
    assert.deepEqual(result.runs.map((r) => r.storage), [{name: 'operational', engine: 'postgresql'}, {name: 'operational', engine: 'postgresql'}])
    assert.deepEqual(lines("SELECT tablename FROM pg_tables WHERE schemaname = 'shop' ORDER BY 1"), [
      'customers__raw', 'sales__clean', 'sales__enriched', 'sales__raw', 'sales__totals',
    ])
    assert.deepEqual(lines('SELECT region, orders, revenue::float8 FROM shop.sales__totals ORDER BY region'), ['eu|2|17.75', 'us|1|20'])
  })

  it('accumulates ingested rows over two runs and recomputes the states downstream', async () => {
    assert.equal((await runProduct({dir: p.dir, env: env()})).ok, true)
    // s2 is sent again with a new amount (same key: replaced), s9 is new.
    p.write('data/sales-in.csv', 'id,customer,amount,qty,placed_at\ns2,c2,30,2,2026-11-01 11:00:00\ns9,c3,1,1,2026-11-03 10:00:00\n')
    const second = await runProduct({dir: p.dir, env: env()})
    assert.equal(second.ok, true, JSON.stringify(second.error))
    assert.deepEqual(lines('SELECT id, amount::float8 FROM shop.sales__raw ORDER BY id'), ['s1|10.5', 's2|30', 's3|-5', 's4|7.25', 's9|1'])
    assert.deepEqual(lines('SELECT region, orders, revenue::float8 FROM shop.sales__totals ORDER BY region'), ['eu|3|18.75', 'us|1|30'])
  })

  it('leaves every state in Postgres as it was when a contract fails', async () => {
    assert.equal((await runProduct({dir: p.dir, env: env()})).ok, true)
    const before = pg.psql('SELECT * FROM shop.sales__raw ORDER BY id') + pg.psql('SELECT * FROM shop.sales__totals ORDER BY region')
    // A customer in a region the contract does not allow (validValues: eu, us) fails the run.
    p.write('data/customers-in.csv', 'id,region\nc1,eu\nc2,us\nc3,apac\n')
    p.write('data/sales-in.csv', 'id,customer,amount,qty,placed_at\ns9,c3,1,1,2026-11-03 10:00:00\n')
    const failed = await runProduct({dir: p.dir, env: env()})
    assert.equal(failed.ok, false)
    assert.equal(failed.contracts.some((c) => !c.passed), true)
    assert.equal(pg.psql('SELECT * FROM shop.sales__raw ORDER BY id') + pg.psql('SELECT * FROM shop.sales__totals ORDER BY region'), before)
    assert.deepEqual(lines("SELECT region FROM shop.customers__raw WHERE id = 'c3'"), ['eu'])
  })

  it('exits 3 naming the user and the server when Postgres refuses the password', async () => {
    const error = await rejection(runProduct({dir: p.dir, env: {DAPPMESH_STORAGE_OPERATIONAL_URL: pg.url.replace(encodeURIComponent(pg.password), 'wrong')}}))
    assert.equal(error.exit, ExitCode.unreachable)
    assert.ok(error.message.includes(`refused user "${pg.user}"`) && error.message.includes(`127.0.0.1:${pg.port}`), error.message)
  })

  it('reads a postgres input source: a table, with the password from DAPPMESH_INPUT_<PORT>_PASSWORD', async () => {
    pg.psql(`CREATE SCHEMA source; CREATE TABLE source.sales (id text, customer text, amount numeric, qty int, placed_at timestamp);
      INSERT INTO source.sales VALUES ('p1', 'c1', 3.5, 1, '2026-11-05 08:00:00'), ('p2', 'c2', 4, NULL, '2026-11-05 09:00:00')`)
    p.edit('services/sales/ports.yaml', 'type: http\n    uri: http://127.0.0.1:9/sales.csv', `type: postgres\n    uri: postgres://${pg.user}@127.0.0.1:${pg.port}/postgres?table=source.sales`)
    const {rmSync} = await import('node:fs')
    rmSync(p.path('data/sales-in.csv'))
    const result = await runProduct({dir: p.dir, env: {...env(), DAPPMESH_INPUT_SALES_IN_PASSWORD: pg.password}})
    assert.equal(result.ok, true, JSON.stringify(result.error))
    assert.deepEqual(lines('SELECT id, customer, qty FROM shop.sales__raw ORDER BY id'), ['p1|c1|1', 'p2|c2|'])
  })

  it('reads a postgres input source given as a query with --input', async () => {
    pg.psql(`CREATE SCHEMA source; CREATE TABLE source.orders (ref text, who text, total numeric, at timestamp);
      INSERT INTO source.orders VALUES ('q1', 'c3', 9, '2026-11-06 08:00:00'), ('q2', 'c3', -1, '2026-11-06 09:00:00')`)
    const query = encodeURIComponent('SELECT ref AS id, who AS customer, total AS amount, 1 AS qty, at AS placed_at FROM source.orders WHERE total > 0')
    const result = await runProduct({dir: p.dir, env: env(), inputs: [`sales-in=${pg.url}?query=${query}`]})
    assert.equal(result.ok, true, JSON.stringify(result.error))
    assert.deepEqual(lines('SELECT id FROM shop.sales__raw ORDER BY id'), ['q1'])
  })

  it('says which input could not be read when a postgres source names a missing table', async () => {
    const result = await runProduct({dir: p.dir, env: env(), inputs: [`sales-in=${pg.url}?table=source.nothing`]})
    assert.equal(result.ok, false)
    assert.match(result.error?.message ?? '', /input port sales-in: Postgres at 127\.0\.0\.1:\d+ could not read "source"\."nothing": relation "source\.nothing" does not exist/)
  })
})

describe('dappmesh run with states in Postgres (Postgres down)', function () {
  this.timeout(60_000)

  it('exits 3 naming the storage, host and port', async function () {
    if (!postgresBinDir()) requireOrSkip(this, 'Postgres (scripts/install-system-deps.sh)')
    const pg = await startPostgres()
    await pg.stop()
    const p = new RunProject()
    try {
      p.write('storage.yaml', STORAGE)
      const error = await rejection(runProduct({dir: p.dir, env: {DAPPMESH_STORAGE_OPERATIONAL_URL: pg.url}}))
      assert.equal(error.exit, ExitCode.unreachable)
      assert.ok(error.message.includes(`storage "operational" is unreachable at 127.0.0.1:${pg.port}`), error.message)
    } finally {
      p.remove()
    }
  })
})
