import assert from 'node:assert/strict'

import {Engine} from '../../src/core/engine/session.js'
import {type StateTable, stateTable} from '../../src/core/engine/types.js'
import {duckdbDriver} from '../../src/core/storage/duckdb.js'
import {runInfo, withDriver as withStorageDriver} from '../helpers/storage.js'
import type {StorageDriver} from '../../src/core/storage/driver.js'

const clean: StateTable = stateTable(
  {schema: 'orders', version: 'v1', state: 'clean'},
  {name: 'clean', fields: [{name: 'id', type: 'long', primaryKey: true}, {name: 'note', type: 'string'}]} as never,
  'orders',
)

const withDriver = <T>(engine: Engine, body: (driver: StorageDriver) => Promise<T>): Promise<T> =>
  withStorageDriver(duckdbDriver, {name: 'embedded', engine: 'duckdb'}, engine, {}, body)

/** The tables of the store file, as the engine sees them while the driver has it attached. */
async function storeTables(engine: Engine): Promise<string[]> {
  const rows = await engine.rows<{t: string}>("SELECT table_name AS t FROM duckdb_tables() WHERE database_name = 'dappmesh_store' ORDER BY t")
  return rows.map((r) => r.t)
}

describe('duckdb storage driver', () => {
  let engine: Engine
  beforeEach(async () => {
    engine = await Engine.open()
  })
  afterEach(async () => engine.close())

  it('publishes a table built in its workspace by renaming it: the state is that very table, no copy is left behind', async () => {
    await withDriver(engine, async (driver) => {
      const staged = driver.workspace!().table('clean')
      await engine.run(`CREATE TABLE ${staged} AS SELECT range::BIGINT AS id, 'n' || range AS note FROM range(1000)`)
      const [{oid}] = await engine.rows<{oid: number}>(`SELECT table_oid AS oid FROM duckdb_tables() WHERE database_name = 'dappmesh_store' AND table_name LIKE '%clean'`)
      await driver.writeStates([{state: clean, staged, mode: 'replace'}], runInfo('r1'))
      assert.deepEqual(await storeTables(engine), ['orders__clean'])
      const [after] = await engine.rows<{oid: number}>(`SELECT table_oid AS oid FROM duckdb_tables() WHERE database_name = 'dappmesh_store' AND table_name = 'orders__clean'`)
      assert.equal(after.oid, oid, 'the published state is the staged table, renamed')
      assert.equal(Number((await engine.rows<{n: bigint}>(`SELECT count(*) AS n FROM ${await driver.readState(clean)}`))[0].n), 1000)
    })
  })

  it('drops the workspace tables a run did not publish when it closes, and leaves the states as they were', async () => {
    await withDriver(engine, async (driver) => {
      await engine.run(`CREATE TABLE x AS SELECT 1::BIGINT AS id, 'old' AS note`)
      await driver.writeStates([{state: clean, staged: 'x', mode: 'replace'}], runInfo('r1'))
    })
    await withDriver(engine, async (driver) => {
      await engine.run(`CREATE TABLE ${driver.workspace!().table('clean')} AS SELECT 2::BIGINT AS id, 'new' AS note`)
    })
    await withDriver(engine, async (driver) => {
      assert.deepEqual(await storeTables(engine), ['orders__clean'])
      assert.deepEqual(await engine.rows(`SELECT note FROM ${await driver.readState(clean)}`), [{note: 'old'}])
    })
  })

  it('drops at open the workspace tables of a run whose process died before it could', async () => {
    await withDriver(engine, async () => {
      // What a killed run leaves: a committed staging table under the workspace's prefix.
      await engine.run(`CREATE TABLE dappmesh_store.main._dm_stage_dead0000_chk_clean AS SELECT 1 AS id`)
    })
    await withDriver(engine, async () => {
      assert.deepEqual(await storeTables(engine), [])
    })
  })

  it('publishes nothing when one write of the run fails: a renamed table goes back to its staging name', async () => {
    await withDriver(engine, async (driver) => {
      await engine.run(`CREATE TABLE x AS SELECT 1::BIGINT AS id, 'old' AS note`)
      await driver.writeStates([{state: clean, staged: 'x', mode: 'replace'}], runInfo('r1'))
      const staged = driver.workspace!().table('clean')
      await engine.run(`CREATE TABLE ${staged} AS SELECT 2::BIGINT AS id, 'new' AS note`)
      const other = {...clean, table: 'orders__other'}
      await assert.rejects(
        driver.writeStates([{state: clean, staged, mode: 'replace'}, {state: other, staged: 'no_such_table', mode: 'replace'}], runInfo('r2')),
        /no_such_table/,
      )
      assert.deepEqual(await engine.rows(`SELECT note FROM ${await driver.readState(clean)}`), [{note: 'old'}])
    })
  })
})
