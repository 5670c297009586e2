import {mkdir} from 'node:fs/promises'
import {join} from 'node:path'

import {quoteIdent, quoteLiteral} from '../engine/types.js'
import type {DriverFactory, DriverOptions, RunInfo, StateWrite, StorageDriver} from './driver.js'

/** The alias the store's file is attached under in the run's engine. */
const STORE = 'dappmesh_store'

/**
 * The embedded default (§7): states are tables in one DuckDB file, `<dataDir>/<storage>.duckdb`.
 * The file is attached to the run's engine, so reading a state copies nothing, and publishing
 * is one transaction on that file: a crash before COMMIT leaves the previous states.
 */
class DuckdbDriver implements StorageDriver {
  private attached = false

  constructor(private readonly options: DriverOptions) {}

  get file(): string {
    return join(this.options.dataDir, `${this.options.storage.name}.duckdb`)
  }

  async open(): Promise<void> {
    await mkdir(this.options.dataDir, {recursive: true})
    await this.options.engine.run(`ATTACH ${quoteLiteral(this.file)} AS ${STORE}`)
    this.attached = true
  }

  async readState(state: {table: string}): Promise<string | undefined> {
    const found = await this.options.engine.rows(
      `SELECT 1 FROM duckdb_tables() WHERE database_name = ${quoteLiteral(STORE)} AND schema_name = 'main' AND table_name = ${quoteLiteral(state.table)}`,
    )
    return found.length > 0 ? `${STORE}.main.${quoteIdent(state.table)}` : undefined
  }

  async writeStates(writes: StateWrite[], _run: RunInfo): Promise<void> {
    const {engine} = this.options
    await engine.run('BEGIN TRANSACTION')
    try {
      for (const w of writes) {
        const target = `${STORE}.main.${quoteIdent(w.state.table)}`
        if (w.mode === 'replace') {
          await engine.run(`CREATE OR REPLACE TABLE ${target} AS SELECT * FROM ${w.staged}`)
        } else {
          await engine.run(`CREATE TABLE IF NOT EXISTS ${target} AS SELECT * FROM ${w.staged} LIMIT 0`)
          await engine.run(`INSERT INTO ${target} BY NAME SELECT * FROM ${w.staged}`)
        }
      }
      await engine.run('COMMIT')
    } catch (error) {
      await engine.run('ROLLBACK').catch(() => {})
      throw error
    }
  }

  async close(): Promise<void> {
    if (!this.attached) return
    this.attached = false
    await this.options.engine.run(`DETACH ${STORE}`).catch(() => {})
  }
}

export const duckdbDriver: DriverFactory = (options) => new DuckdbDriver(options)
