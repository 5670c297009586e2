import assert from 'node:assert/strict'
import {appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {runDataTests} from '../../src/core/datatest/datatest.js'
import {dataTestsResultSchema} from '../../src/core/datatest/result-schema.js'
import {UsageError} from '../../src/core/errors.js'
import {compile} from '../../src/core/validate/ajv.js'
import {ROOT, STACK_TRACE, cli, flat} from '../helpers/cli.js'

const EXPECT = 'tests/orders/expect/orders__clean.csv'
const INPUT = 'tests/orders/inputs/orders-events.csv'

describe('dappmesh test', () => {
  let tmp: string
  let dir: string
  /** A product made by init: entities orders and customers, each with its data test. */
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-datatest-'))
    const r = cli(['init', path.join(tmp, 'base'), '--yes', '--name', 'shop', '--domain', 'sales', '--owner', 'a@example.com', '--entity', 'orders', '--entity', 'customers'])
    assert.equal(r.code, 0, r.stderr)
  })
  after(() => rmSync(tmp, {recursive: true, force: true}))
  beforeEach(function () {
    dir = path.join(tmp, this.currentTest!.title.replaceAll(/\W+/g, '-').slice(0, 60))
    cpSync(path.join(tmp, 'base'), dir, {recursive: true})
  })
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(dir, file)), {recursive: true})
    writeFileSync(path.join(dir, file), text)
  }
  const edit = (file: string, change: (text: string) => string) => write(file, change(readFileSync(path.join(dir, file), 'utf8')))

  it('passes the tests init wrote, on a throw-away data directory: the project\'s .dappmesh/data is never made', async () => {
    const result = await runDataTests({dir})
    assert.equal(result.ok, true, JSON.stringify(result, null, 1))
    assert.deepEqual(result.tests.map((t) => [t.name, t.passed, t.states.map((s) => [s.state, s.expectedRows, s.actualRows])]), [
      ['customers', true, [['customers@0.1.0/clean', 2, 2]]],
      ['orders', true, [['orders@0.1.0/clean', 3, 3]]],
    ])
    assert.equal(existsSync(path.join(dir, '.dappmesh')), false)
  })

  it('compares typed values: 25.5 is the decimal 25.50, and rows may come in any order', async () => {
    const lines = readFileSync(path.join(dir, EXPECT), 'utf8').trim().split('\n')
    write(EXPECT, [lines[0], ...lines.slice(1).reverse().map((l) => l.replace('25.50', '25.5').replace('2024-05-01 09:15:00', '2024-05-01T09:15:00'))].join('\n') + '\n')
    const result = await runDataTests({dir, tests: ['orders']})
    assert.equal(result.ok, true, JSON.stringify(result.tests[0], null, 1))
  })

  it('compares only the columns the expect file has', async () => {
    write(EXPECT, 'id,currency\no-1001,EUR\no-1002,EUR\no-1004,USD\n')
    const [t] = (await runDataTests({dir, tests: ['orders']})).tests
    assert.equal(t.passed, true, JSON.stringify(t, null, 1))
    assert.deepEqual(t.states[0].columns, ['id', 'currency'])
  })

  it('reports a changed, a missing and an unexpected row by primary key, with a diff of expected and actual rows', async () => {
    write(EXPECT, 'id,currency\no-1001,GBP\no-1002,EUR\no-9999,EUR\n')
    const result = await runDataTests({dir, tests: ['orders']})
    assert.equal(result.ok, false)
    const [s] = result.tests[0].states
    assert.deepEqual([s.passed, s.missing, s.unexpected, s.changed, s.expectedRows, s.actualRows], [false, 1, 1, 1, 3, 3])
    assert.deepEqual(s.diff, [
      `--- expected ${EXPECT}`,
      '+++ actual   orders@0.1.0/clean',
      '  id,currency',
      '- o-1001,GBP',
      '+ o-1001,EUR',
      '  ^ currency: "GBP" → "EUR"',
      '+ o-1004,USD',
      '- o-9999,EUR',
    ])
  })

  it('compares a state without a primary key as a multiset: a duplicate row counts', async () => {
    // Without the key column the rows have no key to pair them by.
    write(EXPECT, 'currency\nEUR\nUSD\nUSD\n')
    const [s] = (await runDataTests({dir, tests: ['orders']})).tests[0].states
    assert.deepEqual([s.passed, s.missing, s.unexpected], [false, 1, 1])
    assert.deepEqual(s.diff.slice(3), ['+ EUR', '- USD'])
  })

  it('fails a test whose state holds no row when rows are expected (the input does not reach it)', async () => {
    write(INPUT, `${readFileSync(path.join(dir, INPUT), 'utf8').split('\n')[0]}\n`)
    const [t] = (await runDataTests({dir, tests: ['orders']})).tests
    assert.equal(t.passed, false)
    assert.deepEqual([t.states[0].missing, t.states[0].actualRows], [3, 0])
  })

  it('reads only the test\'s inputs: the sample file in data/ is not read', async () => {
    appendFileSync(path.join(dir, 'data/orders-events.csv'), 'o-7777,c-7,z@example.com,1.00,EUR,2024-06-01 00:00:00\n')
    assert.equal((await runDataTests({dir, tests: ['orders']})).ok, true)
  })

  it('compares the quarantine <state>__rejected: rows the schema refused', async () => {
    edit(INPUT, (t) => `${t}o-5000,,nobody@example.com,3.00,EUR,2024-06-01 00:00:00\n`) // customer_id is required
    write('tests/orders/expect/orders__raw__rejected.csv', 'id\no-5000\n')
    const [t] = (await runDataTests({dir, tests: ['orders']})).tests
    assert.equal(t.passed, true, JSON.stringify(t, null, 1))
    const rejected = t.states.find((s) => s.state === 'orders@0.1.0/raw__rejected')!
    assert.deepEqual([rejected.expectedRows, rejected.actualRows], [1, 1])
    write('tests/orders/expect/orders__raw__rejected.csv', 'id\no-1001\n')
    assert.equal((await runDataTests({dir, tests: ['orders']})).ok, false)
  })

  describe('bad fixtures fail their test with a message naming the file, and the others still run', () => {
    it('a value that is not of the field\'s type, naming the line and column', async () => {
      write(EXPECT, 'id,amount\no-1001,lots\n')
      const result = await runDataTests({dir})
      const orders = result.tests.find((t) => t.name === 'orders')!
      assert.match(orders.states[0].error ?? '', /^tests\/orders\/expect\/orders__clean\.csv line 2, column amount: "lots" is not a decimal \(DECIMAL\(38,9\)\); fix the value$/)
      assert.equal(result.tests.find((t) => t.name === 'customers')!.passed, true)
    })
    it('a column that is not a field of the state', async () => {
      write(EXPECT, 'id,colour\no-1001,red\n')
      const [t] = (await runDataTests({dir, tests: ['orders']})).tests
      assert.match(t.states[0].error ?? '', /column "colour" is not a field of orders@0\.1\.0\/clean \(it has id, customer_id/)
    })
    it('an expect file for a state no flow has', async () => {
      write('tests/orders/expect/nothing.csv', 'id\n1\n')
      const [t] = (await runDataTests({dir, tests: ['orders']})).tests
      assert.match(t.error ?? '', /^tests\/orders\/expect\/nothing\.csv: no state "nothing" in this product's flows \(states: /)
    })
    it('a state name several schemas have', async () => {
      rmSync(path.join(dir, EXPECT))
      write('tests/orders/expect/clean.csv', 'id\no-1001\n')
      const [t] = (await runDataTests({dir, tests: ['orders']})).tests
      assert.match(t.error ?? '', /"clean" is a state of several schemas; name the file after one of (orders__clean, customers__clean|customers__clean, orders__clean)/)
    })
    it('an input for a port no flow reads', async () => {
      write('tests/orders/inputs/nope.csv', 'id\n1\n')
      const [t] = (await runDataTests({dir, tests: ['orders']})).tests
      assert.match(t.error ?? '', /no flow of this run reads an input port named "nope"/)
    })
    it('a test that expects nothing (it could not fail)', async () => {
      rmSync(path.join(dir, 'tests/orders/expect'), {recursive: true})
      const [t] = (await runDataTests({dir, tests: ['orders']})).tests
      assert.match(t.error ?? '', /tests\/orders\/expect\/ holds no file: a test must expect something/)
    })
    it('a file whose format cannot be told', async () => {
      write('tests/orders/inputs/orders-events.txt', 'x')
      const [t] = (await runDataTests({dir, tests: ['orders']})).tests
      assert.match(t.error ?? '', /orders-events\.txt: cannot tell its format; name it \.csv/)
    })
    it('a malformed CSV input (an unterminated quote), naming the file and line', async () => {
      edit(INPUT, (t) => `${t}o-6000,c-1,"broken,1.00,EUR,2024-06-01 00:00:00\n`)
      const [t] = (await runDataTests({dir, tests: ['orders']})).tests
      assert.equal(t.passed, false)
      assert.match(t.error ?? '', /tests\/orders\/inputs\/orders-events\.csv/)
    })
  })

  it('fails when the flow changes what it makes: an order without a currency is now rejected, and missing', async () => {
    edit('model/orders/flow.yaml', (t) => t.replace("upper(coalesce(currency, 'EUR'))", 'upper(currency)'))
    const [t] = (await runDataTests({dir, tests: ['orders']})).tests
    assert.equal(t.passed, false)
    assert.deepEqual([t.states[0].missing, t.states[0].unexpected, t.states[0].changed], [1, 0, 0])
    assert.ok(t.states[0].diff.includes('- o-1002,c-2,grace@example.com,120.000000000,EUR,2024-05-01 11:42:10'), t.states[0].diff.join('\n'))
  })

  it('refuses a product without tests/ (usage, exit 2), saying how to add one', async () => {
    rmSync(path.join(dir, 'tests'), {recursive: true})
    await assert.rejects(runDataTests({dir}), (e: unknown) => e instanceof UsageError && /no tests\/ directory in .*: the product has no data tests/.test(e.message) && e.suggestions.some((s) => /tests\/<name>\/ holding inputs\/<input-port>\.csv/.test(s)))
  })

  it('refuses an unknown --test, listing the tests', async () => {
    await assert.rejects(runDataTests({dir, tests: ['nope']}), (e: unknown) => e instanceof UsageError && /--test nope: no data test tests\/nope\//.test(e.message) && e.suggestions.includes('Tests: customers, orders.'))
  })

  describe('CLI', () => {
    it('exits 0 and prints a line per test', () => {
      const r = cli(['test', dir])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /^✔ customers {2}1 state, 2 rows as expected {2}\d+ ms$/m)
      assert.match(r.stdout, /^data tests: 2 passed, 0 failed$/m)
    })

    it('exits 1 on a difference and shows the diff', () => {
      write(EXPECT, 'id,currency\no-1001,GBP\no-1002,EUR\no-1004,USD\n')
      const r = cli(['test', dir])
      assert.equal(r.code, 1, r.stderr)
      assert.match(r.stdout, /✘ orders/)
      assert.match(r.stdout, /orders@0\.1\.0\/clean: 1 changed \(expected 3 rows, got 3; tests\/orders\/expect\/orders__clean\.csv\)/)
      assert.match(r.stdout, /^ {4}- o-1001,GBP\n {4}\+ o-1001,EUR$/m)
      assert.match(r.stdout, /data tests: 1 passed, 1 failed/)
    })

    it('--json: the documented result schema, also on failure (exit 1)', () => {
      write(EXPECT, 'id\no-1001\n')
      const r = cli(['test', dir, '--json'])
      assert.equal(r.code, 1, r.stderr)
      const result = JSON.parse(r.stdout)
      const check = compile(dataTestsResultSchema)
      assert.ok(check(JSON.parse(r.stdout)), JSON.stringify(check.errors))
      assert.deepEqual([result.ok, result.passed, result.failed], [false, 1, 1])
    })

    it('-o junit: a testcase per test, the diff in the failure', () => {
      write(EXPECT, 'id,currency\no-1001,GBP\no-1002,EUR\no-1004,USD\n')
      const r = cli(['test', dir, '-o', 'junit'])
      assert.equal(r.code, 1)
      assert.match(r.stdout, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="dappmesh test" tests="2" failures="1">/)
      assert.match(r.stdout, /<testcase classname="dappmesh\.test" name="customers" file="tests\/customers" time="[\d.]+"\/>/)
      assert.match(r.stdout, /<testcase classname="dappmesh\.test" name="orders" [^>]*><failure type="difference" message="orders@0\.1\.0\/clean: 1 changed[^"]*">[^<]*- o-1001,GBP\n\+ o-1001,EUR/)
    })

    it('exits 2 without tests/, saying how to add one, with no stack trace', () => {
      rmSync(path.join(dir, 'tests'), {recursive: true})
      const r = cli(['test', dir])
      assert.equal(r.code, 2)
      assert.match(flat(r.stderr), /no tests\/ directory in .*: the product has no data tests/)
      assert.match(flat(r.stderr), /inputs\/<input-port>\.csv/)
      assert.doesNotMatch(r.stderr, STACK_TRACE)
    })
  })

  it('a fresh project from `init --yes` passes validate, run and test, with nothing else installed', () => {
    const fresh = path.join(tmp, 'fresh')
    const init = cli(['init', fresh, '--yes', '--domain', 'sales', '--owner', 'a@example.com', '--entity', 'orders,customers,products,payments,events,invoices,users,widgets'])
    assert.equal(init.code, 0, init.stderr)
    for (const args of [['validate', fresh], ['run', fresh], ['test', fresh]]) {
      const r = cli(args)
      assert.equal(r.code, 0, `dappmesh ${args[0]}: ${r.stdout}${r.stderr}`)
    }
    assert.match(cli(['test', fresh]).stdout, /data tests: 8 passed, 0 failed/)
  })

  it('examples/orders has a data test that passes', async () => {
    const copy = path.join(tmp, 'example')
    cpSync(path.join(ROOT, 'examples/orders'), copy, {recursive: true})
    const result = await runDataTests({dir: copy})
    assert.equal(result.ok, true, JSON.stringify(result, null, 1))
    assert.ok(result.tests.length > 0)
  })
})
