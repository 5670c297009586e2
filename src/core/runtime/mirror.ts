import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {Engine} from '../engine/session.js'
import {quoteIdent} from '../engine/types.js'
import {UserError} from '../errors.js'
import type {EngineSession, StateWrite, StorageDriver} from '../storage/driver.js'
import {createDriver} from '../storage/registry.js'
import type {RuntimeModel, RuntimeState} from './model.js'
import type {RuntimeStore} from './store.js'

/** How often a mirror looks for states another process (dappmesh run, a runtime elsewhere) published. */
export const DEFAULT_REFRESH_MS = 30_000

export interface MirrorOptions {
  model: () => RuntimeModel
  store: RuntimeStore
  dataDir: string
  env: NodeJS.ProcessEnv
  refreshMs?: number
}

/** Storages whose states the runtime serves from a local copy: every engine but duckdb. */
export function mirroredStorages(model: RuntimeModel): Set<string> {
  return new Set([...model.storages].filter(([, engine]) => engine !== 'duckdb').map(([name]) => name))
}

/**
 * Serves the states of a storage that is not a local DuckDB file (Postgres, S3) from a copy in the
 * runtime's own DuckDB, so a page is the same fast local query whatever the engine. The copy is
 * made through the storage's driver (the only code that knows the engine: what `dappmesh run`
 * reads with) at start and every `refreshMs`; a state is replaced (one transaction: a reader sees
 * the old rows or the new, never a mix) only when its rows changed, and only then does the data
 * version move, so ETags and cursors stay valid while nothing changes. A storage that cannot be
 * read makes the runtime not ready (503 on /readyz) until a later refresh reads it again.
 */
export class StorageMirror {
  private readonly fingerprints = new Map<string, string>()
  /** The driver's version of each state when it was last read (drivers that have one). */
  private readonly versions = new Map<string, string>()
  private timer?: NodeJS.Timeout
  private running?: Promise<void>
  private stopped = false

  constructor(private readonly options: MirrorOptions) {}

  /** The first copy (errors other than an unreachable storage are the user's to fix: thrown), then the timer. */
  async start(): Promise<void> {
    await this.refresh({throwUserErrors: true})
    const every = this.options.refreshMs ?? DEFAULT_REFRESH_MS
    this.timer = setInterval(() => void this.refresh(), every)
    // An idle runtime must not be kept alive (nor woken more than this) by its mirror.
    this.timer.unref()
  }

  /** Copies every mirrored storage's states that changed; one refresh at a time. */
  async refresh(options: {throwUserErrors?: boolean} = {}): Promise<void> {
    if (this.running) return this.running
    this.running = this.refreshAll(options).finally(() => {
      this.running = undefined
    })
    return this.running
  }

  /** Whether `storage` is served from a copy (its writes must also reach the storage itself). */
  mirrors(storage: string): boolean {
    const engine = this.options.model().storages.get(storage)
    return engine !== undefined && engine !== 'duckdb'
  }

  /**
   * Publishes a runtime's own write (a push, a run) to the storage itself through its driver, from
   * the tables of `engine` (the caller's connection, inside its transaction on the copy: the
   * caller commits the copy only once this returned, and rolls it back if this threw, so copy and
   * storage never disagree about a write the runtime answered for). The runtime is its product's
   * one writer (DESIGN §7): a `replace` carries the whole state as this runtime holds it.
   */
  async writeThrough(engine: EngineSession, storage: string, writes: StateWrite[], runId: string): Promise<void> {
    if (writes.length === 0) return
    const driver = await this.driverFor(this.options.model(), storage, engine)
    try {
      await driver.open()
      await driver.writeStates(writes, {id: runId, startedAt: new Date()})
    } finally {
      await driver.close().catch(() => {})
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    await this.running?.catch(() => {})
  }

  /** Copies one state if its rows differ from the copy's; whether it did. */
  private async copy(engine: Engine, driver: StorageDriver, storage: string, state: RuntimeState, loaded: string[]): Promise<boolean> {
    const relation = await driver.readState(state.engine)
    if (relation === undefined) return false
    if (relation !== quoteIdent(state.table)) loaded.push(relation)
    const key = `${storage}/${state.table}`
    const fingerprint = await fingerprintOf(engine, relation, state)
    if (this.fingerprints.get(key) === fingerprint) return false
    // The copy has the state's own table name, where the routes already look for it.
    await engine.run(`CREATE OR REPLACE TABLE ${quoteIdent(storage)}.main.${quoteIdent(state.table)} AS SELECT * FROM ${relation}`)
    this.fingerprints.set(key, fingerprint)
    return true
  }

  private driverFor(model: RuntimeModel, storage: string, engine: EngineSession): Promise<StorageDriver> {
    return createDriver({
      storage: {name: storage, engine: model.storages.get(storage)!, spec: model.storageSpecs.get(storage)},
      product: model.product,
      dataDir: this.options.dataDir,
      engine,
      env: this.options.env,
    })
  }

  private async refreshAll(options: {throwUserErrors?: boolean}): Promise<void> {
    const model = this.options.model()
    for (const storage of mirroredStorages(model)) {
      if (this.stopped) return
      try {
        await this.refreshStorage(model, storage)
        this.options.store.unreachable.delete(storage)
      } catch (error) {
        this.options.store.unreachable.set(storage, (error as Error).message)
        if (options.throwUserErrors && error instanceof UserError && error.exit !== 3) throw error
      }
    }
  }

  private async refreshStorage(model: RuntimeModel, storage: string): Promise<void> {
    const {store} = this.options
    const states = statesIn(model, storage)
    const connection = await store.acquire()
    const scratch = await mkdtemp(path.join(tmpdir(), 'dappmesh-serve-mirror-'))
    const engine = Engine.borrow(connection, scratch)
    const loaded: string[] = []
    let driver: StorageDriver | undefined
    let changed = false
    try {
      driver = await this.driverFor(model, storage, engine)
      await driver.open()
      for (const state of states) {
        const key = `${storage}/${state.table}`
        // A driver that can tell the state is unchanged saves reading it all (a million rows: seconds).
        const version = await driver.stateVersion?.(state.engine)
        if (version !== undefined && this.versions.get(key) === version) continue
        changed = (await this.copy(engine, driver, storage, state, loaded)) || changed
        // Recorded only once copied: a read that failed is tried again next time.
        if (version !== undefined) this.versions.set(key, version)
      }
    } finally {
      // The driver loaded each state into the engine's own database: the copy is what is served.
      for (const relation of loaded) await engine.run(`DROP TABLE IF EXISTS ${relation}`).catch(() => {})
      await driver?.close().catch(() => {})
      store.release(connection)
      await rm(scratch, {recursive: true, force: true})
      if (changed) store.bump(storage)
    }
  }
}

/** Every state of the model that lives in `storage`, once each (ports, inputs and flows may name the same). */
function statesIn(model: RuntimeModel, storage: string): RuntimeState[] {
  const all = [...model.ports.values(), ...model.inputs.values()].map((p) => p.state)
  for (const flow of model.flows.values()) all.push(...flow.states.values())
  const byTable = new Map<string, RuntimeState>()
  for (const state of all) if (model.stateStorage.get(state.ref) === storage) byTable.set(state.table, state)
  return [...byTable.values()]
}

/** Row count and an order-free hash of every row: equal when the published rows did not change. */
async function fingerprintOf(engine: Engine, relation: string, state: RuntimeState): Promise<string> {
  const columns = state.engine.columns.map((c) => quoteIdent(c.name)).join(', ')
  const [row] = await engine.rows<{n: bigint; h: bigint | null}>(`SELECT count(*) AS n, bit_xor(hash(${columns})) AS h FROM ${relation}`)
  return `${row.n}:${row.h ?? ''}`
}
