import assert from 'node:assert/strict'

import {type Key, keysKeptBy} from '../../src/core/engine/keys.js'
import {Engine} from '../../src/core/engine/session.js'

/** Tables a transition reads whose keys this run checked: raw (key id), customers (key id, unique email). */
const CHECKED = new Map<string, Key[]>([
  ['raw', [['id']]],
  ['customers__raw', [['id'], ['email']]],
])

describe('keys a transition keeps unique by construction (keysKeptBy)', () => {
  let engine: Engine
  before(async () => {
    engine = await Engine.open()
  })
  after(() => engine.close())

  const kept = (sql: string, wanted: Key[] = [['id']], sources = CHECKED) => keysKeptBy(engine, sql, sources, wanted)
  const keepsNothing = async (statements: string[]) => {
    for (const sql of statements) assert.deepEqual(await kept(sql), [], sql)
  }

  it('keeps the key of a checked table through a filter, a projection, DISTINCT, ORDER BY and LIMIT', async () => {
    assert.deepEqual(await kept('SELECT * FROM raw WHERE amount > 0'), [['id']])
    assert.deepEqual(await kept('SELECT DISTINCT r.id, amount * 2 AS amount FROM raw AS r ORDER BY amount LIMIT 10'), [['id']])
  })

  it('keeps a key selected under another name, and a composite key that holds a checked one', async () => {
    assert.deepEqual(await kept('SELECT id AS order_id, amount FROM raw', [['order_id']]), [['order_id']])
    assert.deepEqual(await kept('SELECT id, amount FROM raw', [['id', 'amount']]), [['id', 'amount']])
  })

  it('keeps the key of the other side through an INNER or LEFT join on every column of the joined side\'s key', async () => {
    const join = (kind: string, on: string) => `SELECT c.id, k.region FROM raw AS c ${kind} JOIN customers__raw AS k ON ${on}`
    assert.deepEqual(await kept(join('', 'c.customer = k.id')), [['id']])
    assert.deepEqual(await kept(join('LEFT', 'k.email = c.email AND c.amount > 0')), [['id']])
  })

  it('keeps nothing when the join may meet several rows: not on a key, a RIGHT or FULL join, or through USING', async () => {
    await keepsNothing([
      'SELECT c.id FROM raw AS c JOIN customers__raw AS k ON c.customer = k.region',
      'SELECT c.id FROM raw AS c JOIN customers__raw AS k ON c.customer = k.id OR c.id = k.id',
      'SELECT c.id FROM raw AS c RIGHT JOIN customers__raw AS k ON c.customer = k.id',
      'SELECT c.id FROM raw AS c FULL JOIN customers__raw AS k ON c.customer = k.id',
      'SELECT c.id FROM raw AS c JOIN customers__raw AS k USING (id)',
      'SELECT c.id FROM raw AS c, customers__raw AS k WHERE c.customer = k.id',
    ])
  })

  it('keeps nothing for a table this run did not check', async () => {
    assert.deepEqual(await kept('SELECT * FROM raw', [['id']], new Map([['other', [['id']]]])), [])
    assert.deepEqual(await kept('SELECT * FROM clean'), [])
  })

  it('keeps nothing when rows may be made or merged: GROUP BY, UNION, UNNEST, a CTE, a subquery', async () => {
    await keepsNothing([
      'SELECT id, sum(amount) AS amount FROM raw GROUP BY id',
      'SELECT id FROM raw UNION ALL SELECT id FROM raw',
      'SELECT id, unnest([1, 2]) AS n FROM raw',
      'WITH r AS (SELECT * FROM raw) SELECT * FROM r',
      'SELECT * FROM (SELECT * FROM raw) AS r',
    ])
  })

  it('keeps nothing when the key column is computed, ambiguous, or not named by its table in a join', async () => {
    await keepsNothing([
      "SELECT id || 'x' AS id FROM raw",
      'SELECT *, customer AS id FROM raw',
      'SELECT * EXCLUDE (id), customer AS id FROM raw',
      'SELECT id FROM raw AS c JOIN customers__raw AS k ON c.customer = k.id',
      'SELECT * FROM raw AS c JOIN customers__raw AS k ON c.customer = k.id',
    ])
  })

  it('keeps nothing for SQL the parser rejects', async () => {
    assert.deepEqual(await kept('SELEC * FROM raw'), [])
  })
})
