import assert from 'node:assert/strict'

import {Engine} from '../../src/core/engine/session.js'
import {checkContract} from '../../src/core/quality/contract-checks.js'
import {holds} from '../../src/core/quality/operators.js'

/** An ODCS document with one object, `items`, and the given properties and object-level rules. */
function contract(properties: object[], quality: object[] = []) {
  return {apiVersion: 'v3.1.0', kind: 'DataContract', schema: [{name: 'items', properties, quality}]}
}

describe('contract checks on data', () => {
  let engine: Engine
  before(async () => {
    engine = await Engine.open()
    // 5 rows: one NULL name, one empty name, sku 'b' twice, price -1 once.
    await engine.run(`CREATE TABLE stock AS SELECT * FROM (VALUES
      ('a', 'apple', 1.0), ('b', NULL, 2.0), ('b', 'bean', 3.0), ('c', '', -1.0), ('d', 'date', 5.0)) AS t(sku, name, price)`)
  })
  after(() => engine.close())

  const check = async (doc: object) => checkContract(engine, 'stock', doc, 'items', ['items'])
  const only = async (doc: object) => {
    const results = await check(doc)
    assert.equal(results.length, 1, JSON.stringify(results))
    return results[0]
  }

  it('measures ODCS 3.1 metrics: nullValues, missingValues (with arguments), duplicateValues, rowCount', async () => {
    assert.equal((await only(contract([{name: 'name', quality: [{metric: 'nullValues', mustBe: 1}]}]))).value, 1)
    assert.equal((await only(contract([{name: 'name', quality: [{metric: 'missingValues', arguments: {missingValues: [null, '']}, mustBe: 2}]}]))).value, 2)
    assert.equal((await only(contract([{name: 'sku', quality: [{metric: 'duplicateValues', mustBe: 1}]}]))).value, 1)
    assert.equal((await only(contract([], [{metric: 'rowCount', mustBeBetween: [1, 10]}]))).passed, true)
  })

  it('accepts the ODCS 3.0 names in `rule` (nullCheck, duplicateCount, validValues, countCheck)', async () => {
    const results = await check(contract([{name: 'sku', quality: [{type: 'library', rule: 'duplicateCount', mustBeLessThan: 2}, {rule: 'validValues', validValues: ['a', 'b', 'c']}]}], [{rule: 'countCheck', mustBe: 5}]))
    assert.deepEqual(results.map((r) => [r.value, r.passed]), [[5, true], [1, true], [1, false]])
  })

  it('measures invalidValues against a pattern', async () => {
    const r = await only(contract([{name: 'name', quality: [{metric: 'invalidValues', arguments: {pattern: '[a-z]+'}, mustBeLessOrEqualTo: 0}]}]))
    assert.deepEqual([r.value, r.passed], [1, false])
  })

  it('runs a sql rule with {object} and {property} placeholders', async () => {
    const r = await only(contract([{name: 'price', quality: [{type: 'sql', query: 'SELECT count(*) FROM {object} WHERE {property} < 0', mustBe: 0}]}]))
    assert.deepEqual([r.value, r.passed, r.message], [1, false, '1 does not satisfy mustBe 0'])
  })

  it('reports a sql rule whose query fails as failed, with DuckDB\'s reason', async () => {
    const r = await only(contract([], [{type: 'sql', query: 'SELECT count(*) FROM nowhere', mustBe: 0}]))
    assert.equal(r.passed, false)
    assert.match(r.message ?? '', /^the query failed: Catalog Error: Table with name nowhere does not exist/)
  })

  it('gives a percentage with unit: percent', async () => {
    const r = await only(contract([{name: 'name', quality: [{metric: 'nullValues', unit: 'percent', mustBeLessThan: 25}]}]))
    assert.deepEqual([r.value, r.passed], [20, true])
  })

  it('checks the properties\' required, unique and primaryKey on the data', async () => {
    const results = await check(contract([{name: 'sku', primaryKey: true}, {name: 'name', required: true}]))
    assert.deepEqual(results.map((r) => [r.rule, r.value, r.passed]), [
      ['items.sku required (nullValues mustBe 0)', 0, true],
      ['items.sku primaryKey (duplicateValues mustBe 0)', 1, false],
      ['items.name required (nullValues mustBe 0)', 1, false],
    ])
  })

  it('lists custom rules as not checked and leaves text rules out', async () => {
    const results = await check(contract([], [{type: 'text', description: 'doc only'}, {type: 'custom', engine: 'great-expectations'}]))
    assert.deepEqual(results.map((r) => [r.rule, r.passed]), [['items custom (great-expectations)', null]])
  })

  it('fails a rule whose between operator is not two numbers', async () => {
    const r = await only(contract([], [{metric: 'rowCount', mustBeBetween: [1]}]))
    assert.deepEqual([r.passed, r.message], [false, 'mustBeBetween needs two numbers, [low, high]'])
  })

  it('compares with each operator', () => {
    assert.equal(holds(3, {operator: 'mustNotBe', operand: 3}), false)
    assert.equal(holds(3, {operator: 'mustBeGreaterOrEqualTo', operand: 3}), true)
    assert.equal(holds(3, {operator: 'mustBeGreaterThan', operand: 3}), false)
    assert.equal(holds(3, {operator: 'mustBeLessOrEqualTo', operand: 3}), true)
    assert.equal(holds(3, {operator: 'mustNotBeBetween', operand: [1, 5]}), false)
    assert.equal(holds(6, {operator: 'mustNotBeBetween', operand: [1, 5]}), true)
  })
})
