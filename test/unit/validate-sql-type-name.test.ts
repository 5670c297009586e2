import assert from 'node:assert/strict'

import {type DuckDBConnection, DuckDBInstance} from '@duckdb/node-api'
import duckdb from '@duckdb/node-bindings'

import {columnTypeName} from '../../src/core/validate/sql/type-name.js'

/**
 * Every type a transition's result column can have, as SQL. The `sql` rule names a column's type
 * from DuckDB's C API; the engine and earlier versions of the rule named it through
 * @duckdb/node-api, and findings (and the bind cache) must not change with that.
 */
const TYPES = [
  'BOOLEAN', 'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'HUGEINT', 'UHUGEINT',
  'FLOAT', 'DOUBLE', 'DECIMAL(10,2)', 'DECIMAL(38,9)', 'BIGNUM',
  'VARCHAR', 'BLOB', 'BIT', 'UUID', 'JSON',
  'DATE', 'TIME', 'TIME_NS', 'TIMETZ', 'INTERVAL', 'TIMESTAMP', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS', 'TIMESTAMPTZ',
  "ENUM('a', 'b''c')", 'INTEGER[]', 'VARCHAR[3]', 'MAP(VARCHAR, DECIMAL(18,3))', 'STRUCT("a b" INTEGER, c VARCHAR[])',
  'UNION(num INTEGER, str VARCHAR)', 'STRUCT(j JSON)[]', 'GEOMETRY', 'VARIANT',
]

describe('validate rule sql: type names', () => {
  let instance: DuckDBInstance
  let api: DuckDBConnection
  let database: duckdb.Database
  let connection: duckdb.Connection
  before(async () => {
    instance = await DuckDBInstance.create(':memory:')
    api = await instance.connect()
    database = await duckdb.open(':memory:')
    connection = await duckdb.connect(database)
  })
  after(() => {
    api.closeSync()
    instance.closeSync()
    duckdb.disconnect_sync(connection)
    duckdb.close_sync(database)
  })

  for (const type of TYPES) {
    it(`names ${type} as @duckdb/node-api does`, async () => {
      const sql = `SELECT NULL::${type} AS x`
      const wrapped = (await api.prepare(sql)).columnType(0)
      const prepared = await duckdb.prepare(connection, sql)
      try {
        assert.equal(columnTypeName(duckdb, duckdb.prepared_statement_column_logical_type(prepared, 0)), wrapped.alias ?? wrapped.toString())
      } finally {
        duckdb.destroy_prepare_sync(prepared)
      }
    })
  }

  it('names a struct\'s members quoted and a nested alias by its structure', async () => {
    const prepared = await duckdb.prepare(connection, 'SELECT NULL::STRUCT(j JSON)[] AS x')
    assert.equal(columnTypeName(duckdb, duckdb.prepared_statement_column_logical_type(prepared, 0)), 'STRUCT("j" VARCHAR)[]')
    duckdb.destroy_prepare_sync(prepared)
  })
})
