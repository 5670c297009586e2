import type {DuckDBConnection} from '@duckdb/node-api'

import type {DataWorkflow} from '../model/types.js'
import type {RuntimeModel, RuntimeState} from './model.js'
import {castType} from './port-query.js'
import type {RunSession, RunSessionFactory} from './runs.js'
import {type RuntimeStore, quoteIdent} from './store.js'

interface EngineRunsOptions {
  model: () => RuntimeModel
  store: RuntimeStore
  dataDir: string
}

/**
 * Runs a workflow inside the runtime's own DuckDB (which holds the storage files: a second
 * database on the same file in this process would corrupt it). Each activity's transition
 * computes into a staged table of the run; only `commit` publishes, all states in one
 * transaction, so a failed, timed-out or abandoned run leaves every state as it was.
 */
export function engineRuns(options: EngineRunsOptions): RunSessionFactory {
  return async (workflow: DataWorkflow, runId: string) => {
    const model = options.model()
    const connection = await options.store.acquire()
    return new StoreRunSession(model, options.store, connection, workflow, runId)
  }
}

class StoreRunSession implements RunSession {
  private readonly staged = new Map<string, {state: RuntimeState; table: string; storage: string}>()
  private readonly tag: string
  private readonly views = new Set<string>()
  private released = false

  constructor(
    private readonly model: RuntimeModel,
    private readonly store: RuntimeStore,
    private readonly c: DuckDBConnection,
    private readonly workflow: DataWorkflow,
    runId: string,
  ) {
    this.tag = runId.replaceAll('-', '_')
  }

  async runTransition(name: string, signal: AbortSignal): Promise<void> {
    const flow = this.model.flows.get(this.workflow.spec.flow)
    const transition = flow?.transitions.find((t) => t.name === name)
    if (!flow || !transition) throw new Error(`workflow ${this.workflow.metadata.name}: flow ${this.workflow.spec.flow} has no transition ${name}`)
    if (!transition.sql) {
      if (transition.image) throw new Error(`transition ${name} runs the image ${transition.image}, which this runtime does not start`)
      return // ingestion: its rows are what was pushed or pulled into the state
    }
    const target = flow.states.get(transition.to)
    if (!target) throw new Error(`transition ${name}: state ${transition.to} is not known to the runtime`)
    // Each state under the name the SQL uses: what this run staged for it, else what is published.
    for (const [sqlName, state] of flow.states) {
      const staged = this.staged.get(state.ref)
      const relation = staged ? quoteIdent(staged.table) : `${quoteIdent(this.storageOf(state))}.main.${quoteIdent(state.table)}`
      if (!staged && !(await this.exists(state))) continue
      await this.c.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(sqlName)} AS SELECT * FROM ${relation}`)
      this.views.add(sqlName)
    }
    const table = `__run_${this.tag}_${target.table}`
    const onAbort = () => this.c.interrupt()
    signal.addEventListener('abort', onAbort, {once: true})
    try {
      // The state's columns, cast to their declared types: a missing column or a value that does
      // not cast fails the transition (and so the run) instead of publishing a wrong state.
      const columns = target.columns.map((col) => `CAST(${quoteIdent(col.name)} AS ${col.type === 'object' || col.type === 'json' || col.type === 'array' ? 'JSON' : castType(col.type)}) AS ${quoteIdent(col.name)}`)
      await this.c.run(`CREATE OR REPLACE TEMP TABLE ${quoteIdent(table)} AS SELECT ${columns.join(', ')} FROM (${transition.sql}) AS __t`)
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
    this.staged.set(target.ref, {state: target, table, storage: this.storageOf(target)})
  }

  async commit(): Promise<unknown> {
    const transitions: Array<{state: string; rowsOut: number}> = []
    await this.c.run('BEGIN TRANSACTION')
    try {
      for (const {state, table, storage} of this.staged.values()) {
        await this.c.run(`CREATE OR REPLACE TABLE ${quoteIdent(storage)}.main.${quoteIdent(state.table)} AS SELECT * FROM ${quoteIdent(table)}`)
        const [row] = (await this.c.runAndReadAll(`SELECT count(*) AS n FROM ${quoteIdent(table)}`)).getRowObjectsJS() as Array<{n: bigint}>
        transitions.push({state: state.ref, rowsOut: Number(row.n)})
      }
      await this.c.run('COMMIT')
    } catch (error) {
      await this.c.run('ROLLBACK').catch(() => {})
      throw error
    } finally {
      await this.release()
    }
    return {ok: true, states: transitions}
  }

  async abort(): Promise<void> {
    await this.release()
  }

  private storageOf(state: RuntimeState): string {
    return this.model.stateStorage.get(state.ref) ?? [...this.model.storages.keys()][0]
  }

  private async exists(state: RuntimeState): Promise<boolean> {
    const storage = this.storageOf(state).replaceAll("'", "''")
    const rows = (await this.c.runAndReadAll(`SELECT 1 FROM duckdb_tables() WHERE database_name = '${storage}' AND schema_name = 'main' AND table_name = '${state.table.replaceAll("'", "''")}'`)).getRows()
    return rows.length > 0
  }

  private async release(): Promise<void> {
    if (this.released) return
    this.released = true
    // The connection goes back to the pool: leave nothing of the run on it.
    for (const view of this.views) await this.c.run(`DROP VIEW IF EXISTS ${quoteIdent(view)}`).catch(() => {})
    for (const {table} of this.staged.values()) await this.c.run(`DROP TABLE IF EXISTS ${quoteIdent(table)}`).catch(() => {})
    this.store.release(this.c)
  }
}
