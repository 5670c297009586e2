import assert from 'node:assert/strict'
import {existsSync, rmSync} from 'node:fs'
import {type Server, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'

import {ExitCode, type UserError} from '../../src/core/errors.js'
import {readStateRows} from '../../src/core/run/read-state.js'
import {runProduct} from '../../src/core/run/run.js'
import {RunProject} from '../helpers/run-project.js'

async function rejection(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise
  } catch (error) {
    return error as UserError
  }
  throw new Error('expected a rejection')
}

/** The listed keys of an object, to compare a part of it. */
function pick(object: object | undefined, like: object): Record<string, unknown> {
  return Object.fromEntries(Object.keys(like).map((k) => [k, (object as Record<string, unknown> | undefined)?.[k]]))
}

const SALES_HEADER = 'id,customer,amount,qty,placed_at\n'

describe('dappmesh run (core)', () => {
  let p: RunProject
  beforeEach(() => {
    p = new RunProject()
  })
  afterEach(() => p.remove())

  const rows = async (state: string) => (await readStateRows({dir: p.dir, state})).rows

  describe('engine', () => {
    it('runs the transitions in dependency order across flows, whatever order they are declared in', async () => {
      const result = await runProduct({dir: p.dir})
      assert.equal(result.ok, true, JSON.stringify(result.error))
      const sales = result.runs.find((r) => r.flow === 'sales')!
      assert.deepEqual(sales.transitions.map((t) => t.name), ['ingest:sales-in', 'clean', 'enrich', 'totals'])
      assert.deepEqual(result.runs.find((r) => r.flow === 'customers')!.transitions.map((t) => t.name), ['ingest-customers'])
    })

    it('names a state of another schema <schema>__<state> in SQL, and publishes the join', async () => {
      await runProduct({dir: p.dir})
      const totals = await rows('totals')
      assert.deepEqual(totals.map((r) => [r.region, Number(r.orders), Number(r.revenue)]).sort(), [
        ['eu', 2, 17.75],
        ['us', 1, 20],
      ])
    })

    it('keeps the states in .dappmesh/data/embedded.duckdb when the product has no analytics or operational storage', async () => {
      await runProduct({dir: p.dir})
      assert.equal(existsSync(p.path('.dappmesh/data/embedded.duckdb')), true)
    })

    it('reports rows in, out and rejected per transition', async () => {
      const result = await runProduct({dir: p.dir})
      const clean = result.runs.find((r) => r.flow === 'sales')!.transitions.find((t) => t.name === 'clean')!
      assert.deepEqual({rowsIn: clean.rowsIn, rowsOut: clean.rowsOut, rowsRejected: clean.rowsRejected, status: clean.status}, {rowsIn: 4, rowsOut: 3, rowsRejected: 0, status: 'ok'})
    })

    it('reports the time of each contract check and of publishing', async () => {
      const result = await runProduct({dir: p.dir})
      assert.deepEqual(result.contracts.map((c) => typeof c.ms), ['number'])
      assert.equal(typeof result.publishMs, 'number')
    })

    it('skips an image transition as cluster only and lists it', async () => {
      p.edit('model/sales/flow.yaml', 'sql: SELECT region, count(*) AS orders, sum(amount) AS revenue FROM enriched GROUP BY region', 'image: registry.local/totals:1')
      const result = await runProduct({dir: p.dir})
      const totals = result.runs.find((r) => r.flow === 'sales')!.transitions.find((t) => t.name === 'totals')!
      assert.equal(totals.status, 'skipped')
      assert.match(totals.note ?? '', /cluster only/)
    })

    it('runs only the transitions named by --transition, reading the other states as last published', async () => {
      await runProduct({dir: p.dir})
      p.write('data/sales-in.csv', `${SALES_HEADER}s9,c2,1000,1,2026-11-03 10:00:00\n`)
      const result = await runProduct({dir: p.dir, transitions: ['totals']})
      assert.deepEqual(result.runs.flatMap((r) => r.transitions.map((t) => t.name)), ['totals'])
      // Nothing was ingested: totals are computed from the published enriched state.
      assert.equal((await rows('sales__raw')).length, 4)
    })

    it('refuses a memory limit that is not a size with exit 2', async () => {
      const error = await rejection(runProduct({dir: p.dir, engine: {memoryLimit: 'lots'}}))
      assert.deepEqual([error.exit, error.message], [ExitCode.usage, 'memory limit "lots" is not a size; write it like 512MB or 2GB'])
    })

    it('refuses an unknown flow or transition with exit 2, listing the known ones', async () => {
      const flow = await rejection(runProduct({dir: p.dir, flows: ['nope']}))
      assert.equal(flow.exit, ExitCode.usage)
      assert.ok(flow.suggestions.join(' ').includes('customers, sales'))
      const transition = await rejection(runProduct({dir: p.dir, transitions: ['nope']}))
      assert.equal(transition.exit, ExitCode.usage)
    })
  })

  describe('schema enforcement', () => {
    it('rejects a value that does not cast, naming the file, line and column, into <state>__rejected', async () => {
      p.write('data/sales-in.csv', `${SALES_HEADER}s1,c1,ten,1,2026-11-01 10:00:00\ns2,c2,20,2,2026-11-01 11:00:00\n`)
      const result = await runProduct({dir: p.dir})
      const ingest = result.runs.find((r) => r.flow === 'sales')!.transitions[0]
      assert.equal(ingest.rowsRejected, 1)
      assert.deepEqual(ingest.reasons, ['data/sales-in.csv line 2: amount: "ten" is not a valid DECIMAL(38,9)'])
      const rejected = await rows('sales__raw__rejected')
      assert.equal(rejected.length, 1)
      assert.deepEqual(pick(rejected[0], {id: 's1', amount: 'ten', _transition: 'ingest:sales-in', _run: result.run}), {id: 's1', amount: 'ten', _transition: 'ingest:sales-in', _run: result.run})
      assert.deepEqual((await rows('sales__raw')).map((r) => r.id), ['s2'])
    })

    it('keeps every digit of a decimal wider than 18 digits', async () => {
      p.write('data/sales-in.csv', `${SALES_HEADER}s1,c1,12345678901234567890.123456789,1,2026-11-01 10:00:00\n`)
      await runProduct({dir: p.dir})
      assert.equal((await rows('sales__raw'))[0].amount, '12345678901234567890.123456789')
    })

    it('rejects a row with NULL in a required field', async () => {
      p.write('data/sales-in.csv', `${SALES_HEADER}s1,,10,1,2026-11-01 10:00:00\n`)
      const result = await runProduct({dir: p.dir})
      assert.deepEqual(result.runs.find((r) => r.flow === 'sales')!.transitions[0].reasons, ['data/sales-in.csv line 2: customer: required, but empty'])
    })

    it('rejects a later row repeating a primary key and keeps the first', async () => {
      p.write('data/sales-in.csv', `${SALES_HEADER}s1,c1,10,1,2026-11-01 10:00:00\ns1,c2,99,1,2026-11-01 10:00:00\n`)
      const result = await runProduct({dir: p.dir})
      assert.deepEqual(result.runs.find((r) => r.flow === 'sales')!.transitions[0].reasons, ['data/sales-in.csv line 3: duplicate primary key (id=s1)'])
      assert.deepEqual((await rows('sales__raw')).map((r) => r.customer), ['c1'])
    })

    it('rejects a later row repeating the value of a unique field, but not rows where it is empty', async () => {
      p.edit('model/sales/schema.yaml', '{name: qty, type: integer}', '{name: qty, type: integer, unique: true}')
      p.write('data/sales-in.csv', `${SALES_HEADER}s1,c1,10,1,2026-11-01 10:00:00\ns2,c2,20,1,2026-11-01 11:00:00\ns3,c1,30,,2026-11-02 09:00:00\ns4,c3,40,,2026-11-02 12:00:00\n`)
      const result = await runProduct({dir: p.dir})
      assert.deepEqual(result.runs.find((r) => r.flow === 'sales')!.transitions[0].reasons, ['data/sales-in.csv line 3: qty: duplicate value 1 of a unique field'])
      assert.deepEqual((await rows('sales__raw')).map((r) => r.id).sort(), ['s1', 's3', 's4'])
    })

    it('rejects rows of a transition\'s result that repeat a primary key, into <state>__rejected', async () => {
      p.edit('model/sales/flow.yaml', 'SELECT * FROM raw WHERE amount > 0', "SELECT 'same' AS id, customer, amount, qty, placed_at FROM raw WHERE amount > 0")
      const result = await runProduct({dir: p.dir})
      const clean = result.runs.find((r) => r.flow === 'sales')!.transitions.find((t) => t.name === 'clean')!
      assert.deepEqual(pick(clean, {rowsOut: 1, rowsRejected: 2}), {rowsOut: 1, rowsRejected: 2})
      assert.deepEqual(clean.reasons, ['duplicate primary key (id=same)', 'duplicate primary key (id=same)'])
      assert.equal((await rows('sales__clean__rejected')).length, 2)
    })

    it('checks a key its SQL keeps but a cast may merge: distinct text ids that are one number are a duplicate', async () => {
      p.edit('model/sales/schema.yaml', '- name: clean\n          fields:\n            - {name: id, type: string, primaryKey: true}', '- name: clean\n          fields:\n            - {name: id, type: long, primaryKey: true}')
      p.write('data/sales-in.csv', `${SALES_HEADER}1,c1,10,1,2026-11-01 10:00:00\n01,c2,20,2,2026-11-01 11:00:00\n`)
      const result = await runProduct({dir: p.dir})
      const clean = result.runs.find((r) => r.flow === 'sales')!.transitions.find((t) => t.name === 'clean')!
      assert.deepEqual(pick(clean, {rowsOut: 1, rowsRejected: 1, reasons: ['duplicate primary key (id=1)']}), {rowsOut: 1, rowsRejected: 1, reasons: ['duplicate primary key (id=1)']})
    })

    it('accumulates ingested rows across runs: a row with a known primary key replaces the old one', async () => {
      await runProduct({dir: p.dir})
      p.write('data/sales-in.csv', `${SALES_HEADER}s1,c1,99,1,2026-11-01 10:00:00\ns5,c2,1,1,2026-11-05 10:00:00\n`)
      const second = await runProduct({dir: p.dir})
      assert.equal(second.runs.find((r) => r.flow === 'sales')!.transitions[0].stateRows, 5)
      const raw = await rows('sales__raw')
      assert.deepEqual(raw.map((r) => r.id).sort(), ['s1', 's2', 's3', 's4', 's5'])
      assert.equal(Number(raw.find((r) => r.id === 's1')!.amount), 99)
    })

    it('fails a transition whose result has extra or missing columns, naming them and where the sql is, and publishes nothing', async () => {
      await runProduct({dir: p.dir})
      p.edit('model/sales/flow.yaml', 'SELECT * FROM raw WHERE amount > 0', 'SELECT id, customer, amount, placed_at, 1 AS extra FROM raw')
      p.write('data/sales-in.csv', `${SALES_HEADER}s7,c1,1,1,2026-11-07 10:00:00\n`)
      const result = await runProduct({dir: p.dir})
      assert.equal(result.ok, false)
      assert.equal(result.published, false)
      assert.match(result.error!.message, /^transition clean \(model\/sales\/flow\.yaml:\d+\): its result does not match state sales@1\.0\.0\/clean: missing column qty and extra column extra$/)
      assert.ok(!(await rows('sales__raw')).map((r) => r.id).includes('s7'))
    })

    it('fails on SQL that fails at run time (a bad cast) and leaves every state as it was', async () => {
      await runProduct({dir: p.dir})
      const before = await rows('totals')
      p.edit('model/sales/flow.yaml', 'SELECT * FROM raw WHERE amount > 0', "SELECT * FROM raw WHERE amount > CAST('x' || id AS INTEGER)")
      const result = await runProduct({dir: p.dir})
      assert.equal(result.ok, false)
      assert.match(result.error!.message, /transition clean .*Conversion Error: Could not convert string 'xs\d' to INT32/)
      assert.deepEqual(await rows('totals'), before)
    })

    it('turns a division by zero into NULL, which a required field then rejects', async () => {
      p.edit('model/sales/flow.yaml', 'sum(amount) AS revenue', 'sum(amount) / 0 AS revenue')
      const result = await runProduct({dir: p.dir})
      const totals = result.runs.find((r) => r.flow === 'sales')!.transitions.find((t) => t.name === 'totals')!
      assert.equal(totals.rowsRejected, 2)
      assert.equal(totals.reasons![0], 'revenue: required, but empty')
    })
  })

  describe('inputs', () => {
    it('fails on a CSV with an unbalanced quote, naming the file and line, and publishes nothing', async () => {
      await runProduct({dir: p.dir})
      p.write('data/sales-in.csv', `${SALES_HEADER}s8,c1,1,1,2026-11-01 10:00:00\ns9,"c1,1,1,2026-11-01 10:00:00\n`)
      const result = await runProduct({dir: p.dir})
      assert.equal(result.ok, false)
      assert.match(result.error!.message, /^data\/sales-in\.csv line 3: Value with unterminated quote found\./)
      assert.ok(!(await rows('sales__raw')).map((r) => r.id).includes('s8'))
    })

    it('fails on a CSV with a ragged row, naming the line and the column counts', async () => {
      p.write('data/sales-in.csv', `${SALES_HEADER}s8,c1,1,1,2026-11-01 10:00:00,extra\n`)
      const result = await runProduct({dir: p.dir})
      assert.equal(result.error!.message, 'data/sales-in.csv line 2: Expected Number of Columns: 5 Found: 6 (s8,c1,1,1,2026-11-01 10:00:00,extra)')
    })

    it('fails on an empty input file, saying it is empty', async () => {
      p.write('data/sales-in.csv', '')
      const result = await runProduct({dir: p.dir})
      assert.equal(result.error!.message, 'data/sales-in.csv is empty: it holds no header and no rows')
    })

    it('ingests nothing from a CSV with only its header, keeping what the state holds', async () => {
      await runProduct({dir: p.dir})
      p.write('data/sales-in.csv', SALES_HEADER)
      const result = await runProduct({dir: p.dir})
      assert.equal(result.ok, true)
      assert.deepEqual(pick(result.runs.find((r) => r.flow === 'sales')!.transitions[0], {rowsIn: 0, stateRows: 4}), {rowsIn: 0, stateRows: 4})
    })

    it('fails on an input whose columns are not the state\'s fields, naming them', async () => {
      p.write('data/sales-in.csv', 'id,customer,price\ns1,c1,1\n')
      const result = await runProduct({dir: p.dir})
      assert.equal(result.error!.message, 'input sales-in (data/sales-in.csv) does not match state sales@1.0.0/raw: missing columns amount, qty, placed_at and extra column price')
    })

    it('reads NDJSON, a JSON array and Parquet given with --input', async () => {
      const ndjson = p.write('in.ndjson', '{"id":"n1","customer":"c1","amount":1.5,"qty":1,"placed_at":"2026-11-01T10:00:00"}\n')
      const json = p.write('in.json', '[{"id":"j1","customer":"c2","amount":2,"qty":null,"placed_at":"2026-11-01 10:00:00"}]')
      await runProduct({dir: p.dir, inputs: [`sales-in=${ndjson}`]})
      await runProduct({dir: p.dir, inputs: [`sales-in=${json}`]})
      const {Engine} = await import('../../src/core/engine/session.js')
      const engine = await Engine.open()
      await engine.run(`COPY (SELECT 'p1' AS id, 'c3' AS customer, 3.25 AS amount, 3 AS qty, TIMESTAMP '2026-11-01 10:00:00' AS placed_at) TO '${p.path('in.parquet')}' (FORMAT parquet)`)
      await engine.close()
      const result = await runProduct({dir: p.dir, inputs: [`sales-in=${p.path('in.parquet')}`]})
      assert.equal(result.ok, true)
      assert.deepEqual((await rows('sales__raw')).map((r) => r.id).sort(), ['j1', 'n1', 'p1'])
    })

    it('refuses --input for a port the run does not read, and a file it cannot find, with exit 2', async () => {
      assert.equal((await rejection(runProduct({dir: p.dir, inputs: ['nope=x.csv']}))).exit, ExitCode.usage)
      assert.equal((await rejection(runProduct({dir: p.dir, inputs: ['sales-in=missing.csv']}))).message, '--input sales-in: no file missing.csv')
      assert.equal((await rejection(runProduct({dir: p.dir, inputs: ['sales-in']}))).exit, ExitCode.usage)
    })

    it('refuses a kafka source with exit 2 unless --input gives the rows', async () => {
      p.edit('services/customers/ports.yaml', 'type: http\n    uri: http://127.0.0.1:9/customers.csv', 'type: kafka\n    uri: kafka://127.0.0.1:9/customers')
      const customers = p.path('data/customers-in.csv')
      p.write('customers.csv', 'id,region\nc1,eu\n')
      rmSync(customers)
      const error = await rejection(runProduct({dir: p.dir}))
      assert.equal(error.exit, ExitCode.usage)
      assert.match(error.message, /reads kafka .* which dappmesh run does not support yet/)
      assert.equal((await runProduct({dir: p.dir, inputs: [`customers-in=${p.path('customers.csv')}`]})).ok, true)
    })
  })

  describe('http sources', () => {
    let server: Server
    let base: string
    const served = new Map<string, {type: string; body: string}>()
    before(async () => {
      server = createServer((req, res) => {
        const found = served.get(req.url ?? '')
        if (!found) {
          res.writeHead(404).end('not found')
          return
        }
        res.writeHead(200, {'content-type': found.type}).end(found.body)
      })
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    })
    after(() => server.close())

    it('pulls an http source\'s uri at each run, telling the format by content type', async () => {
      served.set('/customers', {type: 'application/x-ndjson', body: '{"id":"c1","region":"eu"}\n{"id":"c2","region":"us"}\n{"id":"c3","region":"us"}\n'})
      rmSync(p.path('data/customers-in.csv'))
      p.edit('services/customers/ports.yaml', 'http://127.0.0.1:9/customers.csv', `${base}/customers`)
      const result = await runProduct({dir: p.dir})
      assert.equal(result.ok, true, JSON.stringify(result.error))
      assert.deepEqual((await rows('customers__raw')).map((r) => r.region).sort(), ['eu', 'us', 'us'])
    })

    it('fails the run when the source answers with an error status', async () => {
      const result = await runProduct({dir: p.dir, inputs: [`sales-in=${base}/missing.csv`]})
      assert.equal(result.error?.message, `input sales-in: GET ${base}/missing.csv answered 404 Not Found`)
    })

    it('exits 3 naming host and port when the source is unreachable', async () => {
      const closed = createServer()
      await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done))
      const {port} = closed.address() as AddressInfo
      await new Promise((done) => closed.close(done))
      rmSync(p.path('data/customers-in.csv'))
      p.edit('services/customers/ports.yaml', 'http://127.0.0.1:9/customers.csv', `http://127.0.0.1:${port}/customers.csv`)
      const error = await rejection(runProduct({dir: p.dir}))
      assert.equal(error.exit, ExitCode.unreachable)
      assert.equal(error.message, `input customers-in: 127.0.0.1:${port} is unreachable (ECONNREFUSED)`)
    })
  })

  describe('contracts', () => {
    it('checks library, sql and required/unique/primaryKey rules; lists custom rules as not checked and leaves text rules out', async () => {
      const result = await runProduct({dir: p.dir})
      const [contract] = result.contracts
      assert.deepEqual(pick(contract, {port: 'sales-totals', contract: 'sales-totals', passed: true}), {port: 'sales-totals', contract: 'sales-totals', passed: true})
      const rules = contract.rules.map((r) => r.rule)
      for (const rule of [
        'totals.region required (nullValues mustBe 0)',
        'totals.region primaryKey (duplicateValues mustBe 0)',
        'totals rowCount mustBeGreaterThan 0',
        'totals.region invalidValues mustBe 0',
        'totals.revenue nullValues mustBe 0',
        'totals.revenue sql mustBe 0',
      ]) assert.ok(rules.includes(rule), rule)
      assert.deepEqual(pick(contract.rules.find((r) => r.rule.startsWith('totals custom')), {passed: null}), {passed: null})
      assert.equal(rules.some((r) => r.includes('recomputed')), false)
    })

    it('fails the run (nothing published) when a rule fails, with the measured value', async () => {
      await runProduct({dir: p.dir})
      const before = await rows('totals')
      p.write('data/customers-in.csv', 'id,region\nc1,mars\n')
      const result = await runProduct({dir: p.dir})
      assert.equal(result.ok, false)
      assert.equal(result.published, false)
      const failed = result.contracts[0].rules.filter((r) => r.passed === false)
      assert.deepEqual(failed, [{rule: 'totals.region invalidValues mustBe 0', passed: false, value: 1, message: '1 does not satisfy mustBe 0'}])
      assert.deepEqual(await rows('totals'), before)
    })
  })

  describe('storage', () => {
    it('refuses with exit 2 a flow stored in an engine without a driver', async () => {
      p.write('storage.yaml', 'apiVersion: dappmesh.io/v1alpha1\nkind: DataStorage\nmetadata:\n  name: warehouse\nspec:\n  class: analytics\n  engine: clickhouse\n')
      const error = await rejection(runProduct({dir: p.dir}))
      assert.equal(error.exit, ExitCode.usage)
      assert.equal(error.message, 'the states of this run live in DataStorage "warehouse" (engine clickhouse), which has no driver yet')
    })

    it('puts a flow\'s states in the DataStorage named by spec.storage', async () => {
      p.write('storage.yaml', 'apiVersion: dappmesh.io/v1alpha1\nkind: DataStorage\nmetadata:\n  name: lake\nspec:\n  class: analytics\n  engine: duckdb\n')
      p.edit('model/customers/flow.yaml', 'version: 1.0.0', 'version: 1.0.0\n  storage: lake')
      const result = await runProduct({dir: p.dir})
      assert.deepEqual(result.runs.find((r) => r.flow === 'customers')!.storage, {name: 'lake', engine: 'duckdb'})
      assert.equal(existsSync(p.path('.dappmesh/data/lake.duckdb')), true)
    })
  })

  describe('interruption', () => {
    it('publishes nothing when its signal is aborted mid-run', async () => {
      await runProduct({dir: p.dir})
      const before = await rows('sales__raw')
      p.write('data/sales-in.csv', `${SALES_HEADER}s7,c1,1,1,2026-11-07 10:00:00\n`)
      const controller = new AbortController()
      const error = await rejection(runProduct({dir: p.dir, signal: controller.signal, onProgress: (s) => s.step === 'transition' && controller.abort()}))
      assert.equal(error.name, 'RunInterrupted')
      assert.deepEqual(await rows('sales__raw'), before)
    })
  })
})
