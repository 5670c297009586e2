import {randomBytes} from 'node:crypto'
import {mkdir} from 'node:fs/promises'
import {join} from 'node:path'

import {quoteIdent, quoteLiteral} from '../engine/types.js'
import type {DriverFactory, DriverOptions, RunInfo, StateWrite, StorageDriver, Workspace} from './driver.js'

/** The alias the store's file is attached under in the run's engine. */
const STORE = 'dappmesh_store'
/** Names of workspace tables start with this; no state's table can (states are `<schema>__<state>`). */
const STAGE_PREFIX = '_dm_stage_'

/**
 * The embedded default (§7): states are tables in one DuckDB file, `<dataDir>/<storage>.duckdb`.
 * The file is attached to the run's engine, so reading a state copies nothing.
 *
 * A run builds its states in the file itself (the workspace: tables named `_dm_stage_<token>_…`),
 * so its rows are written once and can leave memory as soon as they are on disk; publishing is
 * one transaction that drops the old tables and renames the new ones to the states' names. A
 * failure or a crash before COMMIT leaves the previous states; staging tables a run did not
 * publish are dropped when it closes, or, when the process died, by the next open.
 */
class DuckdbDriver implements StorageDriver {
  private attached = false
  /** This driver's workspace tables (qualified name → bare name). */
  private readonly staged = new Map<string, string>()
  private readonly token = randomBytes(4).toString('hex')

  constructor(private readonly options: DriverOptions) {}

  get file(): string {
    return join(this.options.dataDir, `${this.options.storage.name}.duckdb`)
  }

  async open(): Promise<void> {
    await mkdir(this.options.dataDir, {recursive: true})
    await this.options.engine.run(`ATTACH ${quoteLiteral(this.file)} AS ${STORE}`)
    this.attached = true
    // A process that died mid-run could not drop its staging tables; nothing else writes them.
    const left = await this.options.engine.rows<{name: string}>(
      `SELECT table_name AS name FROM duckdb_tables() WHERE database_name = ${quoteLiteral(STORE)} AND schema_name = 'main' AND starts_with(table_name, ${quoteLiteral(STAGE_PREFIX)})`,
    )
    for (const {name} of left) await this.options.engine.run(`DROP TABLE IF EXISTS ${STORE}.main.${quoteIdent(name)}`)
  }

  workspace(): Workspace {
    return {
      table: (name: string) => {
        const bare = `${STAGE_PREFIX}${this.token}_${name}`
        const qualified = `${STORE}.main.${quoteIdent(bare)}`
        this.staged.set(qualified, bare)
        return qualified
      },
    }
  }

  async readState(state: {table: string}): Promise<string | undefined> {
    const found = await this.options.engine.rows(
      `SELECT 1 FROM duckdb_tables() WHERE database_name = ${quoteLiteral(STORE)} AND schema_name = 'main' AND table_name = ${quoteLiteral(state.table)}`,
    )
    return found.length > 0 ? `${STORE}.main.${quoteIdent(state.table)}` : undefined
  }

  async writeStates(writes: StateWrite[], _run: RunInfo): Promise<void> {
    const {engine} = this.options
    const renamed: string[] = []
    await engine.run('BEGIN TRANSACTION')
    try {
      for (const w of writes) {
        const target = `${STORE}.main.${quoteIdent(w.state.table)}`
        if (w.mode === 'replace' && this.staged.has(w.staged)) {
          // Built in the file already: the new table takes the state's name, no row moves.
          await engine.run(`DROP TABLE IF EXISTS ${target}`)
          await engine.run(`ALTER TABLE ${w.staged} RENAME TO ${quoteIdent(w.state.table)}`)
          renamed.push(w.staged)
        } else if (w.mode === 'replace') {
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
    for (const name of renamed) this.staged.delete(name)
  }

  async close(): Promise<void> {
    if (!this.attached) return
    this.attached = false
    const {engine} = this.options
    // Tables of a run that failed, or that publishing did not take (rejected rows, replaced versions).
    for (const qualified of this.staged.keys()) await engine.run(`DROP TABLE IF EXISTS ${qualified}`).catch(() => {})
    this.staged.clear()
    await engine.run(`DETACH ${STORE}`).catch(() => {})
  }
}

export const duckdbDriver: DriverFactory = (options) => new DuckdbDriver(options)
