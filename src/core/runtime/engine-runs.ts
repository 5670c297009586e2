import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {ROW_COLUMN, compareColumns, describeMismatch, enforceSchema} from '../engine/enforce.js'
import {Engine} from '../engine/session.js'
import {quoteIdent, quoteLiteral, rejectedStateTable} from '../engine/types.js'
import {type Pulled, pullUrl} from '../ingest/http.js'
import {type ProductSource, pullProductPort} from '../ingest/product.js'
import {relationOfFile} from '../ingest/read.js'
import type {DataWorkflow} from '../model/types.js'
import {checkContract} from '../quality/contract-checks.js'
import type {StateWrite} from '../storage/driver.js'
import type {StorageMirror} from './mirror.js'
import type {IngestPort, RuntimeModel, RuntimeState} from './model.js'
import type {RunSession, RunSessionFactory} from './runs.js'
import type {RuntimeStore} from './store.js'

interface EngineRunsOptions {
  model: () => RuntimeModel
  store: RuntimeStore
  /** The copy of Postgres/S3 storages' states: a run's writes into one are also published there. */
  mirror?: StorageMirror
  /** Where a `product` input source's producer runtime is (the mesh catalog in the cluster); none locally. */
  locate?: ProducerLocator
}

/** The producer runtime of a `product` input source, or undefined when it cannot be located. */
export type ProducerLocator = (input: IngestPort) => Promise<ProductSource | undefined>

const slug = (name: string) => name.replaceAll(/[^A-Za-z0-9_]/g, '_')

/**
 * Runs a workflow inside the runtime's own DuckDB, which holds the storage files attached (a
 * second database on the same file in this process would corrupt it), with the engine's schema
 * enforcement and contract checks, as `dappmesh run` does. Each activity's transition computes
 * into tables of the run; only `commit` publishes, every state and its rejected rows in one
 * transaction, and only when every contract of the flow's output ports holds. A failed,
 * timed-out or abandoned run leaves every published state as it was.
 */
export function engineRuns(options: EngineRunsOptions): RunSessionFactory {
  return async (workflow: DataWorkflow, runId: string) => {
    const model = options.model()
    const connection = await options.store.acquire()
    const scratch = await mkdtemp(path.join(tmpdir(), 'dappmesh-serve-run-'))
    return new StoreRunSession(model, options.store, Engine.borrow(connection, scratch), workflow, runId, options.mirror, options.locate)
  }
}

interface Staged {
  state: RuntimeState
  storage: string
  ok: string
  rejected: string
  rowsRejected: number
}

class StoreRunSession implements RunSession {
  private readonly staged = new Map<string, Staged>()
  private readonly transitions: Array<{name: string; state: string; rowsIn: number; rowsOut: number; rowsRejected: number; ms: number; note?: string; source?: string}> = []
  private readonly tag: string
  private readonly created: string[] = []
  private released = false

  constructor(
    private readonly model: RuntimeModel,
    private readonly store: RuntimeStore,
    private readonly engine: Engine,
    private readonly workflow: DataWorkflow,
    private readonly runId: string,
    private readonly mirror?: StorageMirror,
    private readonly locate?: ProducerLocator,
  ) {
    this.tag = runId.replaceAll(/[^A-Za-z0-9]/g, '_')
  }

  /**
   * Pulls the sources of the flow's input ports that name one (as `dappmesh run` does: an `http`
   * uri, a `product`'s port through its runtime), checks their rows against the input's state and
   * stages them on top of the published rows (a pulled row replaces the one with its primary key).
   * They are published with the rest of the run, or not at all. A source this runtime cannot pull
   * (kafka, a product it cannot locate) is left to pushes, and said so in the run's report.
   */
  async ingest(signal: AbortSignal): Promise<void> {
    const refs = new Set(this.model.flowStates.get(this.workflow.spec.flow) ?? [])
    for (const input of this.model.inputs.values()) {
      if (!refs.has(input.state.ref)) continue
      const started = performance.now()
      const name = `ingest:${input.name}`
      const pulled = await this.pull(input, signal)
      if ('skipped' in pulled) {
        this.transitions.push({name, state: input.state.ref, rowsIn: 0, rowsOut: 0, rowsRejected: 0, ms: 0, note: pulled.skipped})
        continue
      }
      const prefix = `${this.tag}_in_${slug(input.name)}`
      const relation = await relationOfFile(this.engine, prefix, pulled.file, pulled.format, pulled.label)
      this.created.push(`VIEW ${relation}`)
      const columns = (await this.engine.rows<{column_name: string}>(`DESCRIBE SELECT * FROM ${relation}`)).map((c) => c.column_name)
      const mismatch = compareColumns(columns, input.state.engine)
      if (mismatch) throw new Error(`input ${input.name} (${pulled.label}) does not match state ${input.state.ref}: ${describeMismatch(mismatch)}`)
      const enforced = await enforceSchema(this.engine, relation, input.state.engine, prefix, {rowLabel: `${quoteLiteral(`${pulled.label} row `)} || CAST(${ROW_COLUMN} AS VARCHAR)`, transition: name, run: this.runId})
      this.created.push(`TABLE _dm_chk_${prefix}`, `VIEW ${enforced.staged}`, `VIEW ${enforced.rejected}`)
      const previous = await this.relationOf(input.state)
      const table = `_dm_serve_${prefix}_acc`
      const names = input.state.engine.columns.map((c) => quoteIdent(c.name)).join(', ')
      const key = input.state.engine.primaryKey.map((k) => quoteIdent(k)).join(', ')
      const kept = key ? `SELECT ${names} FROM ${previous} ANTI JOIN ${enforced.staged} USING (${key})` : `SELECT ${names} FROM ${previous}`
      await this.engine.run(`CREATE OR REPLACE TEMP TABLE ${table} AS ${kept} UNION ALL SELECT ${names} FROM ${enforced.staged}`)
      this.created.push(`TABLE ${table}`)
      this.staged.set(input.state.ref, {state: input.state, storage: this.storageOf(input.state), ok: table, rejected: enforced.rejected, rowsRejected: enforced.rowsRejected})
      this.transitions.push({name, state: input.state.ref, rowsIn: enforced.rowsIn, rowsOut: enforced.rowsOut, rowsRejected: enforced.rowsRejected, ms: Math.round(performance.now() - started), source: pulled.label})
    }
  }

  private async pull(input: IngestPort, signal: AbortSignal): Promise<(Pulled & {label: string}) | {skipped: string}> {
    const {source} = input
    switch (source.type) {
      case 'http': {
        if (!source.uri) return {skipped: 'http source without uri: its rows are pushed'}
        return {...(await pullUrl(source.uri, this.engine.scratchDir, input.name, slug(input.name), signal)), label: source.uri}
      }
      case 'product': {
        const producer = this.locate ? await this.locate(input) : undefined
        if (!producer) return {skipped: `product source ${source.product ?? '?'}/${source.port ?? '?'}: no producer runtime located (a local runtime reads the mesh catalog only in the cluster); its rows are pushed`}
        return {...(await pullProductPort(producer, this.engine.scratchDir, signal)), label: `${producer.baseUrl}/v1/ports/${producer.port}`}
      }
      default:
        return {skipped: `${source.type} source: not pulled by the runtime yet; its rows are pushed`}
    }
  }

  async runTransition(name: string, signal: AbortSignal): Promise<void> {
    const flow = this.model.flows.get(this.workflow.spec.flow)
    const transition = flow?.transitions.find((t) => t.name === name)
    if (!flow || !transition) throw new Error(`workflow ${this.workflow.metadata.name}: flow ${this.workflow.spec.flow} has no transition ${name}`)
    if (!transition.sql) {
      if (transition.image) throw new Error(`transition ${name} runs the image ${transition.image}, which this runtime does not start`)
      return // an ingestion: its rows are what was pushed into the state
    }
    const target = [...flow.states.entries()].find(([sqlName]) => sqlName === transition.to)?.[1]
    if (!target) throw new Error(`transition ${name}: state ${transition.to} is not known to the runtime`)
    const started = performance.now()
    const onAbort = () => this.engine.interrupt()
    signal.addEventListener('abort', onAbort, {once: true})
    try {
      // Each state under the name the SQL uses: what this run staged for it, else what is published.
      let rowsIn = 0
      for (const from of transition.from) {
        const state = flow.states.get(from)
        if (!state) continue
        const relation = await this.relationOf(state)
        await this.engine.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(from)} AS SELECT * FROM ${relation}`)
        this.created.push(`VIEW ${quoteIdent(from)}`)
        rowsIn += await this.engine.count(`SELECT count(*) FROM ${relation}`)
      }
      const view = `_dm_serve_${this.tag}_${name.replaceAll(/[^A-Za-z0-9]/g, '_')}`
      await this.engine.run(`CREATE OR REPLACE TEMP VIEW ${view} AS ${transition.sql.replace(/;\s*$/, '')}`)
      this.created.push(`VIEW ${view}`)
      const columns = (await this.engine.rows<{column_name: string}>(`DESCRIBE SELECT * FROM ${view}`)).map((c) => c.column_name)
      const mismatch = compareColumns(columns, target.engine)
      if (mismatch) throw new Error(`transition ${name}: its result does not match state ${target.ref}: ${describeMismatch(mismatch)}`)
      // Materialised: a later activity, the contract checks and the publish read these rows, and
      // the transition's SQL must not run again (nor see states published meanwhile).
      const table = `${view}_rows`
      await this.engine.run(`CREATE OR REPLACE TEMP TABLE ${table} AS SELECT * FROM ${view}`)
      this.created.push(`TABLE ${table}`)
      const enforced = await enforceSchema(this.engine, table, target.engine, `${this.tag}_${name.replaceAll(/[^A-Za-z0-9]/g, '_')}`, {transition: name, run: this.runId})
      for (const made of [`TABLE _dm_chk_${this.tag}_${name.replaceAll(/[^A-Za-z0-9]/g, '_')}`]) this.created.push(made)
      this.staged.set(target.ref, {state: target, storage: this.storageOf(target), ok: enforced.staged, rejected: enforced.rejected, rowsRejected: enforced.rowsRejected})
      this.transitions.push({name, state: target.ref, rowsIn, rowsOut: enforced.rowsOut, rowsRejected: enforced.rowsRejected, ms: Math.round(performance.now() - started)})
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  async commit(signal: AbortSignal): Promise<unknown> {
    if (signal.aborted) throw signal.reason
    const contracts = await this.contracts()
    const passed = contracts.every((c) => c.passed)
    if (!passed) {
      await this.release()
      const failed = contracts.filter((c) => !c.passed).map((c) => `${c.port} (${c.rules.filter((r) => r.passed === false).map((r) => r.rule).join(', ')})`)
      throw Object.assign(new Error(`contract checks failed: ${failed.join('; ')}; nothing was published`), {result: {ok: false, run: this.runId, transitions: this.transitions, contracts}})
    }
    await this.engine.run('BEGIN TRANSACTION')
    try {
      for (const s of this.staged.values()) {
        const target = `${quoteIdent(s.storage)}.main.${quoteIdent(s.state.table)}`
        await this.engine.run(`CREATE OR REPLACE TABLE ${target} AS SELECT * FROM ${s.ok}`)
        if (s.rowsRejected > 0) {
          const rejected = `${quoteIdent(s.storage)}.main.${quoteIdent(rejectedStateTable(s.state.engine).table)}`
          await this.engine.run(`CREATE TABLE IF NOT EXISTS ${rejected} AS SELECT * FROM ${s.rejected} LIMIT 0`)
          await this.engine.run(`INSERT INTO ${rejected} BY NAME SELECT * FROM ${s.rejected}`)
        }
      }
      await this.writeThrough()
      await this.engine.run('COMMIT')
    } catch (error) {
      await this.engine.run('ROLLBACK').catch(() => {})
      throw error
    } finally {
      await this.release()
    }
    return {ok: true, run: this.runId, published: true, transitions: this.transitions, contracts}
  }

  /**
   * Publishes what the run wrote into a Postgres or S3 storage there too, one atomic write per
   * storage, before the copy commits (a storage that refuses fails the run and leaves the copy).
   */
  private async writeThrough(): Promise<void> {
    const {mirror} = this
    if (!mirror) return
    const byStorage = new Map<string, StateWrite[]>()
    for (const s of this.staged.values()) {
      if (!mirror.mirrors(s.storage)) continue
      const writes = byStorage.get(s.storage) ?? []
      writes.push({state: s.state.engine, staged: s.ok, mode: 'replace'})
      if (s.rowsRejected > 0) writes.push({state: rejectedStateTable(s.state.engine), staged: s.rejected, mode: 'append'})
      byStorage.set(s.storage, writes)
    }
    for (const [storage, writes] of byStorage) await mirror.writeThrough(this.engine, storage, writes, this.runId)
  }

  async abort(): Promise<void> {
    await this.release()
  }

  /** The contracts of the output ports serving a state this run wrote, on the rows it would publish. */
  private async contracts(): Promise<Array<{port: string; contract: string; passed: boolean; rules: Array<{rule: string; passed?: boolean | null}>}>> {
    const out = []
    for (const port of this.model.ports.values()) {
      const staged = this.staged.get(port.state.ref)
      if (!staged || !port.contract) continue
      const rules = await checkContract(this.engine, staged.ok, port.contract.document, port.state.ref.split('/').pop()!, [port.state.ref.split('/').pop()!])
      out.push({port: port.name, contract: port.contract.name, passed: rules.every((r) => r.passed !== false), rules})
    }
    return out
  }

  private async relationOf(state: RuntimeState): Promise<string> {
    const staged = this.staged.get(state.ref)
    if (staged) return staged.ok
    const storage = this.storageOf(state)
    const found = await this.engine.rows(`SELECT 1 FROM duckdb_tables() WHERE database_name = '${storage.replaceAll("'", "''")}' AND schema_name = 'main' AND table_name = '${state.table.replaceAll("'", "''")}'`)
    if (found.length > 0) return `${quoteIdent(storage)}.main.${quoteIdent(state.table)}`
    // Never published: an empty table of the state's columns, so the SQL binds.
    const empty = `_dm_serve_${this.tag}_empty_${state.table.replaceAll(/[^A-Za-z0-9]/g, '_')}`
    await this.engine.run(`CREATE OR REPLACE TEMP TABLE ${empty} (${state.engine.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')})`)
    this.created.push(`TABLE ${empty}`)
    return empty
  }

  private storageOf(state: RuntimeState): string {
    return this.model.stateStorage.get(state.ref) ?? [...this.model.storages.keys()][0]
  }

  private async release(): Promise<void> {
    if (this.released) return
    this.released = true
    // The connection goes back to the pool: leave nothing of the run on it (views first, they read the tables).
    for (const staged of this.staged.values()) {
      await this.engine.run(`DROP VIEW IF EXISTS ${staged.ok}`).catch(() => {})
      await this.engine.run(`DROP VIEW IF EXISTS ${staged.rejected}`).catch(() => {})
    }
    for (const made of this.created.reverse()) await this.engine.run(`DROP ${made.replace(' ', ' IF EXISTS ')}`).catch(() => {})
    this.store.release(this.engine.connection)
    await rm(this.engine.scratchDir, {recursive: true, force: true})
  }
}
