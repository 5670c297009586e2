import {join, resolve} from 'node:path'

import {ROW_COLUMN, compareColumns, describeMismatch, enforceSchema} from '../engine/enforce.js'
import {type Key, keysKeptBy, stateKeys} from '../engine/keys.js'
import {type PlannedState, type PlannedTransition, type RunPlan, planRun} from '../engine/plan.js'
import {Engine, type EngineOptions} from '../engine/session.js'
import {quoteIdent, quoteLiteral, rejectedStateTable} from '../engine/types.js'
import {ExitCode, UsageError, isUserError} from '../errors.js'
import {pullUrl} from '../ingest/http.js'
import {pullProductPort} from '../ingest/product.js'
import {pullRemote} from '../ingest/remote.js'
import {inputError, relationsOfFile} from '../ingest/read.js'
import {type InputSource, parseInputFlags, resolveInputs} from '../ingest/sources.js'
import {checkContract} from '../quality/contract-checks.js'
import type {StateWrite, StorageDriver, StorageTarget, Workspace} from '../storage/driver.js'
import {createDriver, requireDriver} from '../storage/registry.js'
import type {ValidationContext} from '../validate/context.js'
import {loadValidProject} from '../validate/require-valid.js'
import {contractDocument} from '../validate/rules/contract.js'
import {RunInterrupted, isInterruption} from './interrupted.js'
import type {ContractResult, RunResult, TransitionResult} from './result-schema.js'

export interface RunProgress {
  step: 'ingest' | 'transition' | 'contract' | 'publish'
  /** The port, transition or contract being worked on. */
  name: string
}

export interface RunOptions {
  /** The product's directory. */
  dir: string
  /** `port=FILE|URL` values (as `--input` takes them), or a map of them. */
  inputs?: readonly string[] | ReadonlyMap<string, string>
  /**
   * Read only `inputs`: the other input ports contribute no rows (no sample file, no source).
   * A data test's fixtures are all its run reads.
   */
  inputsOnly?: boolean
  /** Where the embedded storage keeps its files (default `<dir>/.dappmesh/data`); a throw-away directory for tests. */
  dataDir?: string
  /** Only these DataFlows (by metadata.name). */
  flows?: readonly string[]
  /** Only these transitions (their states' other inputs are read as last published). */
  transitions?: readonly string[]
  /** Aborting stops the run; nothing is published (`RunInterrupted`). */
  signal?: AbortSignal
  onProgress?: (progress: RunProgress) => void
  /** Directory relative `--input` paths are read from (default process.cwd()). */
  cwd?: string
  env?: NodeJS.ProcessEnv
  engine?: EngineOptions
}

/** Where a run's product lives, for callers that read its states afterwards. */
export function defaultDataDir(dir: string): string {
  return join(resolve(dir), '.dappmesh', 'data')
}

/** Raised inside a run for a failure that ends it with exit 1 and a report (not a usage problem). */
class StepFailed extends Error {
  constructor(
    message: string,
    readonly step: string,
  ) {
    super(message)
  }
}

/**
 * Runs a product's flows once, locally (§7): ingests each input port's rows into its state,
 * runs the transitions in dependency order, checks every written state against its schema and
 * every output port's state against its contract, and only then publishes all states at once.
 * A failed step or contract rule returns `ok: false` and publishes nothing; usage problems
 * (unknown flow, unsupported source or engine) throw a UsageError (exit 2), an unreachable
 * storage or URL exit 3, an aborted signal `RunInterrupted`.
 */
export async function runProduct(options: RunOptions): Promise<RunResult> {
  const {context} = await loadValidProject(options.dir, 'nothing was run')
  const root = resolve(options.dir)
  const plan = selectPlan(planRun(context, root), options)
  const overrides = options.inputs instanceof Map ? options.inputs : parseInputFlags((options.inputs ?? []) as readonly string[])
  const ingesting = options.transitions ? plan.inputs.filter((i) => isIngestionSelected(plan, i.state)) : plan.inputs
  const sources = await resolveInputs(context, root, ingesting, overrides, options.cwd, {only: options.inputsOnly})
  const storages = storagesOf(plan)
  for (const s of storages.values()) requireDriver(s)

  const runId = newRunId()
  const engine = await Engine.open(options.engine)
  const onAbort = () => engine.interrupt()
  options.signal?.addEventListener('abort', onAbort)
  const drivers = new Map<string, StorageDriver>()
  try {
    const dataDir = options.dataDir ?? defaultDataDir(root)
    for (const s of storages.values()) {
      const driver = await createDriver({storage: s, product: plan.product, dataDir, engine, env: options.env ?? process.env})
      drivers.set(s.name, driver)
      await driver.open()
    }
    const run = new RunState(engine, plan, drivers, runId, options)
    const result = await run.execute(sources, context)
    if (options.signal?.aborted) throw new RunInterrupted()
    return result
  } catch (error) {
    if (isInterruption(error, options.signal)) throw new RunInterrupted()
    throw error
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    for (const d of drivers.values()) await d.close().catch(() => {})
    await engine.close()
  }
}

function selectPlan(plan: RunPlan, options: RunOptions): RunPlan {
  let selected = plan
  if (options.flows && options.flows.length > 0) {
    for (const f of options.flows) {
      if (!plan.flows.includes(f)) throw new UsageError(`--flow ${f}: no DataFlow named "${f}"`, [`DataFlows: ${plan.flows.join(', ') || 'none'}.`])
    }
    const flows = new Set(options.flows)
    selected = {
      ...plan,
      flows: plan.flows.filter((f) => flows.has(f)),
      transitions: plan.transitions.filter((t) => flows.has(t.flow)),
      inputs: plan.inputs.filter((i) => flows.has(i.flow)),
      outputs: plan.outputs.filter((o) => flows.has(o.flow)),
    }
  }
  if (options.transitions && options.transitions.length > 0) {
    const known = new Set(selected.transitions.map((t) => t.name))
    for (const t of options.transitions) {
      if (!known.has(t)) throw new UsageError(`--transition ${t}: no transition named "${t}" in the flows of this run`, [`Transitions: ${[...known].join(', ') || 'none'}.`])
    }
    const wanted = new Set(options.transitions)
    const transitions = selected.transitions.filter((t) => wanted.has(t.name))
    const written = new Set(transitions.map((t) => t.to))
    selected = {...selected, transitions, outputs: selected.outputs.filter((o) => written.has(o.state))}
  }
  if (selected.transitions.length === 0 && selected.inputs.length === 0) throw new UsageError('nothing to run: the product has no DataFlow', ['Add a DataFlow with `dappmesh add entity`.'])
  return selected
}

/** With --transition, an input is ingested only when a selected transition is its ingestion (writes its state without sql). */
function isIngestionSelected(plan: RunPlan, state: string): boolean {
  return plan.transitions.some((t) => t.to === state && t.sql === undefined && t.image === undefined)
}

function storagesOf(plan: RunPlan): Map<string, StorageTarget> {
  const out = new Map<string, StorageTarget>()
  const used = new Set([...plan.transitions.flatMap((t) => [...t.from, t.to]), ...plan.inputs.map((i) => i.state), ...plan.outputs.map((o) => o.state)])
  for (const ref of used) {
    const s = plan.states.get(ref)
    if (s) out.set(s.storage.name, s.storage)
  }
  return out
}

/** Sortable and unique enough for one product: `20261129T214500Z-1a2b3c`. */
function newRunId(): string {
  const stamp = new Date().toISOString().replaceAll(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
  return `${stamp}-${Math.random().toString(16).slice(2, 8)}`
}

/** A safe identifier fragment for engine objects named after a state or port. */
const slug = (name: string) => name.replaceAll(/[^A-Za-z0-9_]/g, '_')

/** Where states of a storage without a workspace of its own are built: the engine's memory (spilling to its temp dir). */
const MEMORY: Workspace = {table: (name) => quoteIdent(`_dm_${name}`)}

class RunState {
  /** Where each state's current rows are, by ref: a staged view once written in this run. */
  private readonly current = new Map<string, string>()
  /** States whose current rows this run checked, by ref: their keys hold (what `keysKeptBy` builds on). */
  private readonly checked = new Set<string>()
  private readonly writes = new Map<string, StateWrite[]>()
  private readonly results = new Map<string, TransitionResult[]>()

  constructor(
    private readonly engine: Engine,
    private readonly plan: RunPlan,
    private readonly drivers: Map<string, StorageDriver>,
    private readonly runId: string,
    private readonly options: RunOptions,
  ) {
    for (const flow of plan.flows) this.results.set(flow, [])
  }

  async execute(sources: InputSource[], ctx: ValidationContext): Promise<RunResult> {
    let error: RunResult['error']
    try {
      for (const source of sources) await this.ingest(source)
      for (const t of this.plan.transitions) await this.transition(t)
    } catch (failure) {
      if (!(failure instanceof StepFailed)) throw failure
      error = {message: failure.message, transition: failure.step}
    }
    const contracts = error ? [] : await this.contracts(ctx)
    const ok = !error && contracts.every((c) => c.passed)
    const publishing = performance.now()
    if (ok) await this.publish()
    const publishMs = elapsed(publishing)
    const runs = this.plan.flows.map((flow) => {
      const storage = this.plan.states.get(this.plan.transitions.find((t) => t.flow === flow)?.to ?? this.plan.inputs.find((i) => i.flow === flow)?.state ?? '')?.storage
      return {flow, storage: {name: storage?.name ?? '', engine: storage?.engine ?? ''}, transitions: this.results.get(flow) ?? []}
    })
    return {ok, run: this.runId, published: ok, runs, contracts, ...(ok && {publishMs}), ...(error && {error})}
  }

  private progress(step: RunProgress['step'], name: string): void {
    if (this.options.signal?.aborted) throw new RunInterrupted()
    this.options.onProgress?.({step, name})
  }

  private state(ref: string): PlannedState {
    const s = this.plan.states.get(ref)
    if (!s) throw new Error(`state ${ref} is not planned`)
    return s
  }

  /** The relation holding a state's rows now: staged in this run, else published, else empty. */
  private async rowsOf(ref: string): Promise<string> {
    const known = this.current.get(ref)
    if (known) return known
    const s = this.state(ref)
    let relation = await this.drivers.get(s.storage.name)!.readState(s.table)
    if (!relation) {
      relation = `_dm_empty_${slug(s.table.table)}`
      const columns = s.table.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')
      await this.engine.run(`CREATE OR REPLACE TABLE ${relation} (${columns})`)
    }
    this.current.set(ref, relation)
    return relation
  }

  /** Where a state's new rows are built: in its storage when the driver can publish them from there without a copy. */
  private workspace(s: PlannedState): Workspace {
    return this.drivers.get(s.storage.name)!.workspace?.() ?? MEMORY
  }

  private record(flow: string, result: TransitionResult): void {
    this.results.get(flow)?.push(result)
  }

  private stage(s: PlannedState, write: StateWrite): void {
    const list = this.writes.get(s.storage.name) ?? []
    // A state written twice in a run (two inputs into one state) publishes its last version.
    this.writes.set(s.storage.name, [...list.filter((w) => w.mode === 'append' || w.state.table !== write.state.table), write])
  }

  private async ingest(source: InputSource): Promise<void> {
    this.progress('ingest', source.port)
    const started = performance.now()
    const input = this.plan.inputs.find((i) => i.port === source.port && i.state === source.state)!
    const s = this.state(source.state)
    const ingestion = this.plan.transitions.find((t) => t.to === s.ref && t.sql === undefined && t.image === undefined)
    const name = ingestion?.name ?? `ingest:${source.port}`
    const fail = (message: string): never => {
      this.record(input.flow, {name, state: s.ref, status: 'failed', rowsIn: 0, rowsOut: 0, rowsRejected: 0, ms: elapsed(started), note: message})
      throw new StepFailed(message, name)
    }
    try {
      const pulled =
        source.type === 'url'
          ? await pullUrl(source.url, this.engine.scratchDir, source.port, slug(source.port), this.options.signal)
          : source.type === 'product'
            ? await pullProductPort(source.source, this.engine.scratchDir, this.options.signal)
            : source.type === 'remote'
              ? await pullRemote(source, this.engine, slug(source.port), this.options.env ?? process.env)
              : source
      const {numbered: relation, plain} = await relationsOfFile(this.engine, slug(source.port), pulled.file, pulled.format, source.label)
      const columns = (await this.engine.rows<{column_name: string}>(`DESCRIBE SELECT * FROM ${relation}`)).map((c) => c.column_name)
      const mismatch = compareColumns(columns, s.table)
      if (mismatch) fail(`input ${source.port} (${source.label}) does not match state ${s.ref}: ${describeMismatch(mismatch)}`)
      const line = pulled.format === 'csv' ? `${ROW_COLUMN} + 1` : ROW_COLUMN
      const enforced = await enforceSchema(this.engine, relation, s.table, `in_${slug(source.port)}`, {
        rowLabel: `${quoteLiteral(`${source.label} ${pulled.format === 'csv' ? 'line' : 'row'} `)} || CAST(${line} AS VARCHAR)`,
        transition: name,
        run: this.runId,
        into: this.workspace(s),
        plainSource: plain,
      }).catch((error: unknown) => {
        throw isInterruption(error, this.options.signal) ? error : inputError(error, source.label)
      })
      const accumulated = await this.accumulate(s, enforced.staged)
      const stateRows = await this.engine.count(`SELECT count(*) FROM ${accumulated}`)
      this.current.set(s.ref, accumulated)
      // Rows added to published ones were checked on their own only.
      if (accumulated === enforced.staged) this.checked.add(s.ref)
      this.stage(s, {state: s.table, staged: accumulated, mode: 'replace'})
      if (enforced.rowsRejected > 0) this.stage(s, {state: rejectedStateTable(s.table), staged: enforced.rejected, mode: 'append'})
      this.record(input.flow, {
        name, state: s.ref, status: 'ok', rowsIn: enforced.rowsIn, rowsOut: enforced.rowsOut, rowsRejected: enforced.rowsRejected, stateRows, ms: elapsed(started), checkMs: enforced.checkMs,
        ...(enforced.reasons.length > 0 && {reasons: enforced.reasons}),
      })
    } catch (error) {
      if (error instanceof StepFailed || isInterruption(error, this.options.signal)) throw error
      if (isUserError(error) && error.exit === ExitCode.failed) fail(error.message)
      throw error
    }
  }

  /** Ingested rows accumulate (§7): a new row replaces a published one with the same primary key. */
  private async accumulate(s: PlannedState, fresh: string): Promise<string> {
    const previous = await this.rowsOf(s.ref)
    // Nothing published yet (the first run): the fresh rows are the state, no copy needed.
    if ((await this.engine.count(`SELECT count(*) FROM (SELECT 1 FROM ${previous} LIMIT 1)`)) === 0) return fresh
    const target = this.workspace(s).table(`acc_${slug(s.table.table)}`)
    const columns = s.table.columns.map((c) => quoteIdent(c.name)).join(', ')
    const kept = s.table.primaryKey.length > 0
      ? `SELECT ${columns} FROM ${previous} AS p ANTI JOIN ${fresh} AS f USING (${s.table.primaryKey.map(quoteIdent).join(', ')})`
      : `SELECT ${columns} FROM ${previous}`
    await this.engine.run(`CREATE OR REPLACE TABLE ${target} AS ${kept} UNION ALL SELECT ${columns} FROM ${fresh}`)
    return target
  }

  private async transition(t: PlannedTransition): Promise<void> {
    const s = this.state(t.to)
    const skip = (note: string) => this.record(t.flow, {name: t.name, state: s.ref, status: 'skipped', rowsIn: 0, rowsOut: 0, rowsRejected: 0, ms: 0, note})
    if (t.sql === undefined) {
      if (t.image !== undefined) skip(`cluster only: runs image ${t.image} in the cluster`)
      // Without sql or image it is the ingestion of an input port: reported by its ingest step.
      else if (!this.plan.inputs.some((i) => i.state === t.to)) skip('no sql and no image: nothing to run')
      return
    }
    this.progress('transition', t.name)
    const started = performance.now()
    const fail = (message: string): never => {
      this.record(t.flow, {name: t.name, state: s.ref, status: 'failed', rowsIn: 0, rowsOut: 0, rowsRejected: 0, ms: elapsed(started), note: message})
      throw new StepFailed(`transition ${t.name} (${t.at}): ${message}`, t.name)
    }
    let rowsIn = 0
    const checkedKeys = new Map<string, Key[]>()
    for (const ref of t.from) {
      const from = this.state(ref)
      const relation = await this.rowsOf(ref)
      const name = from.schema === t.flowSchema ? from.state : from.table.table
      await this.engine.run(`CREATE OR REPLACE VIEW ${quoteIdent(name)} AS SELECT * FROM ${relation}`)
      rowsIn += await this.engine.count(`SELECT count(*) FROM ${relation}`)
      if (this.checked.has(ref)) checkedKeys.set(name.toLowerCase(), stateKeys(from.table))
    }
    const view = `_dm_sql_${slug(t.flow)}_${slug(t.name)}`
    const sql = t.sql.replace(/;\s*$/, '')
    try {
      await this.engine.run(`CREATE OR REPLACE VIEW ${view} AS ${sql}`)
    } catch (error) {
      if (isInterruption(error, this.options.signal)) throw error
      fail(duckdbMessage(error))
    }
    const columns = (await this.engine.rows<{column_name: string}>(`DESCRIBE SELECT * FROM ${view}`)).map((c) => c.column_name)
    const mismatch = compareColumns(columns, s.table)
    if (mismatch) fail(`its result does not match state ${s.ref}: ${describeMismatch(mismatch)}`)
    let enforced
    try {
      const provenKeys = await keysKeptBy(this.engine, sql, checkedKeys, stateKeys(s.table))
      enforced = await enforceSchema(this.engine, view, s.table, `${slug(t.flow)}_${slug(t.name)}`, {transition: t.name, run: this.runId, into: this.workspace(s), provenKeys})
    } catch (error) {
      if (isInterruption(error, this.options.signal)) throw error
      return fail(duckdbMessage(error))
    }
    this.current.set(s.ref, enforced.staged)
    this.checked.add(s.ref)
    this.stage(s, {state: s.table, staged: enforced.staged, mode: 'replace'})
    if (enforced.rowsRejected > 0) this.stage(s, {state: rejectedStateTable(s.table), staged: enforced.rejected, mode: 'append'})
    this.record(t.flow, {
      name: t.name, state: s.ref, status: 'ok', rowsIn, rowsOut: enforced.rowsOut, rowsRejected: enforced.rowsRejected, stateRows: enforced.rowsOut, ms: elapsed(started), checkMs: enforced.checkMs,
      ...(enforced.reasons.length > 0 && {reasons: enforced.reasons}),
    })
  }

  private async contracts(ctx: ValidationContext): Promise<ContractResult[]> {
    const out: ContractResult[] = []
    for (const output of this.plan.outputs) {
      const port = ctx.object('OutputPort', output.port)
      const contractName = port?.spec.contract
      const contract = contractName ? ctx.get('DataContract', contractName) : undefined
      if (!contractName || !contract) continue
      this.progress('contract', contractName)
      const started = performance.now()
      const s = this.state(output.state)
      const relation = await this.rowsOf(output.state)
      const rules = await checkContract(this.engine, relation, contractDocument(ctx, contract), s.state, [s.table.sqlName])
      out.push({port: output.port, contract: contractName, state: s.ref, passed: rules.every((r) => r.passed !== false), ms: elapsed(started), rules})
    }
    return out
  }

  private async publish(): Promise<void> {
    for (const [storage, writes] of this.writes) {
      this.progress('publish', storage)
      await this.drivers.get(storage)!.writeStates(writes, {id: this.runId, startedAt: new Date()})
    }
  }
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started)
}

/** A DuckDB error as one line: its first line, without the `LINE 1:` pointer DuckDB adds. */
function duckdbMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n').find((l) => l.trim() !== '') ?? message
}
