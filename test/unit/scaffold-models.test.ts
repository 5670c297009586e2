import assert from 'node:assert/strict'

import {type DuckDBConnection, DuckDBInstance} from '@duckdb/node-api'

import {type EntityModel, type Field, type Row, allModels, entityModel, knownModel} from '../../src/core/scaffold/entity-model.js'
import {duckdbType} from '../../src/core/engine/types.js'

const q = (name: string) => `"${name.replaceAll('"', '""')}"`
const lit = (v: string | null) => (v === null ? 'NULL' : `'${v.replaceAll("'", "''")}'`)

/** Rows as typed values rendered back to text by DuckDB, so '25.50' and '25.5' compare equal as decimals. */
async function typedRows(c: DuckDBConnection, fields: Field[], rows: Row[]): Promise<string[]> {
  if (rows.length === 0) return []
  const casts = fields.map((f, i) => `CAST(CAST(col${i} AS ${duckdbType(f.type)}) AS VARCHAR)`).join(', ')
  const values = rows.map((r) => `(${r.map(lit).join(', ')})`).join(', ')
  const reader = await c.runAndReadAll(`SELECT ${casts} FROM (VALUES ${values}) AS t(${fields.map((_, i) => `col${i}`).join(', ')})`)
  return reader.getRows().map((r) => JSON.stringify(r))
}

describe('scaffolded entity models', () => {
  let instance: DuckDBInstance
  let c: DuckDBConnection
  before(async () => {
    instance = await DuckDBInstance.create(':memory:')
    c = await instance.connect()
  })
  after(() => {
    c.closeSync()
    instance.closeSync()
  })

  for (const [name, model] of allModels()) {
    describe(name, () => {
      it('has sample rows that fit the raw state: every value casts, required fields are set, the primary key is unique', async () => {
        assert.ok(model.rows.length >= 3)
        for (const row of model.rows) assert.equal(row.length, model.raw.length)
        await typedRows(c, model.raw, model.rows) // throws when a value does not cast
        for (const [i, f] of model.raw.entries()) {
          if (f.required || f.primaryKey) assert.ok(model.rows.every((r) => r[i] !== null), `${f.name} is required`)
          if (f.primaryKey) assert.equal(new Set(model.rows.map((r) => r[i])).size, model.rows.length, `${f.name} is unique`)
        }
      })

      it('makes exactly its expected clean rows from them with its SQL, which keeps some and drops some', async () => {
        await c.run('BEGIN TRANSACTION')
        try {
          await c.run(`CREATE TABLE raw (${model.raw.map((f) => `${q(f.name)} ${duckdbType(f.type)}`).join(', ')})`)
          await c.run(`INSERT INTO raw SELECT * FROM (VALUES ${model.rows.map((r) => `(${r.map(lit).join(', ')})`).join(', ')})`)
          const made = await c.runAndReadAll(`SELECT ${model.clean.map((f) => `CAST(CAST(${q(f.name)} AS ${duckdbType(f.type)}) AS VARCHAR)`).join(', ')} FROM (${model.sql})`)
          const actual = made.getRows().map((r) => JSON.stringify(r)).sort()
          assert.deepEqual(actual, (await typedRows(c, model.clean, model.expected)).sort())
          assert.ok(model.expected.length > 0 && model.expected.length < model.rows.length, 'the transition visibly filters')
          for (const [i, f] of model.clean.entries()) {
            if (f.required || f.primaryKey) assert.ok(model.expected.every((r) => r[i] !== null), `${f.name} is required in clean`)
          }
        } finally {
          await c.run('ROLLBACK')
        }
      })

      it('classifies every pii field', () => {
        for (const f of [...model.raw, ...model.clean]) if (f.pii) assert.ok(f.classification, f.name)
      })
    })
  }

  describe('picks a model by name', () => {
    const fields = (m: EntityModel) => m.raw.map((f) => f.name).join(',')
    it('in the plural and the singular, and by the last part of a dashed name', () => {
      assert.equal(fields(entityModel('orders')), fields(entityModel('order')))
      assert.equal(fields(entityModel('web-orders')), fields(entityModel('orders')))
      assert.equal(fields(entityModel('categories')), fields(entityModel('widgets')))
    })
    it('by a synonym (items are products, accounts are users)', () => {
      assert.equal(knownModel('items'), knownModel('products'))
      assert.equal(knownModel('accounts'), knownModel('users'))
    })
    it('not for a name it does not know, which gets the generic record', () => {
      assert.equal(knownModel('widgets'), undefined)
      assert.deepEqual(entityModel('widgets').raw.map((f) => f.name), ['id', 'name', 'quantity', 'recorded_at'])
    })
    it('differently for different entities', () => {
      const known = ['orders', 'customers', 'products', 'payments', 'events', 'invoices', 'users'].map((e) => fields(entityModel(e)))
      assert.equal(new Set(known).size, known.length)
    })
  })
})
