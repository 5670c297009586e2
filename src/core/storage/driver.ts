/**
 * The one interface between a run and where a product's states live (DESIGN §7).
 *
 * A run always computes in the embedded DuckDB (the engine); a driver only moves whole states in
 * and out of it:
 *
 *   open() → readState(s) for every state the run reads → … engine computes into staged tables …
 *   → writeStates(all writes of the run, atomically) → close()
 *
 * so a driver never sees SQL of the user's and never has to understand a transition. The engine
 * checks every staged table against its schema before it reaches `writeStates`: a driver may
 * trust the columns and types of what it is asked to publish.
 *
 * Atomicity is the driver's promise: after `writeStates` either every write is published or
 * (it threw, or the process died in the middle) none is, and readers never see a mix. DuckDB does
 * it with one transaction on its file; Postgres with one transaction (COPY into staging tables,
 * then swap); object stores by writing new objects under a run id and switching one pointer last.
 *
 * Errors: a storage that cannot be reached throws `StorageUnreachableError` (exit 3) naming host
 * and port; wrong credentials, a missing bucket and the like throw a `UserError` saying how to
 * fix it. Anything else is a bug.
 */
import {ExitCode, UserError} from '../errors.js'
import type {StateTable} from '../engine/types.js'

/** What a driver may ask of the engine: SQL on the run's DuckDB connection. */
export interface EngineSession {
  /** Runs a statement (or several separated by `;`) for its effect. */
  run(sql: string): Promise<void>
  /** Runs a query and returns its rows as JSON-compatible objects (for small results only). */
  rows<T extends Record<string, unknown> = Record<string, unknown>>(sql: string): Promise<T[]>
  /**
   * A directory private to this run, removed when it ends: where a driver puts files it moves
   * through (`COPY … TO '<scratch>/x.parquet'`, then upload; download, then `read_parquet`).
   */
  readonly scratchDir: string
}

/** The DataStorage a flow's states live in, as the driver needs it. */
export interface StorageTarget {
  /** `metadata.name` of the DataStorage, or `embedded` for the default with no DataStorage. */
  name: string
  engine: string
  /** The DataStorage's spec as written (undefined for the embedded default). */
  spec?: Record<string, unknown>
}

export interface DriverOptions {
  storage: StorageTarget
  /** The DataProduct's name: the Postgres schema, the object key prefix. */
  product: string
  /**
   * The local data directory (`<project>/.dappmesh/data` unless a caller chose another, e.g. a
   * throw-away one for `dappmesh test`): where the duckdb driver keeps its file.
   */
  dataDir: string
  engine: EngineSession
  /** Environment to read credentials from (process.env unless a test passes its own). */
  env: NodeJS.ProcessEnv
}

/**
 * Where the engine may build a run's tables inside the storage itself, so that publishing them
 * moves no rows (a DuckDB file: the tables are built in it and publishing renames them). Tables
 * made here are the driver's: it drops those a run did not publish when it closes, and those a
 * killed run left behind when it next opens, so readers never see them as states.
 */
export interface Workspace {
  /** The qualified SQL name of a new workspace table for `name` (a slug: letters, digits, `_`). */
  table(name: string): string
}

/** One state to publish: replace it with (or append to it) the rows of an engine table. */
export interface StateWrite {
  state: StateTable
  /** The engine table (already checked against `state`) holding the rows to publish. */
  staged: string
  /**
   * `replace`: the state becomes exactly the staged rows (states are recomputed in full each run).
   * `append`: the staged rows are added (quarantine tables `<state>__rejected` keep every run's).
   */
  mode: 'replace' | 'append'
}

export interface RunInfo {
  /** The run id, also the `_run` column of rejected rows: a sortable time-based id. */
  id: string
  startedAt: Date
}

export interface StorageDriver {
  /** Connects and makes sure the product's place exists (file, schema, bucket prefix). */
  open(): Promise<void>
  /**
   * Makes the published rows of `state` readable by the engine and returns the SQL name to
   * select them from (a table the driver attached or loaded into the engine), or undefined when
   * the state has never been published. Called before any write of the run.
   */
  readState(state: StateTable): Promise<string | undefined>
  /**
   * Optional: a cheap token that changes whenever the published rows of `state` may have changed
   * ('absent' when never published), so a reader that keeps a copy (the runtime) can skip reading
   * an unchanged state. Drivers without it are read in full each time.
   */
  stateVersion?(state: StateTable): Promise<string>
  /**
   * Optional: a workspace inside the storage (see Workspace). A `replace` write whose staged
   * table is one of its tables is published without copying its rows. Drivers without one get
   * their tables from the engine's memory.
   */
  workspace?(): Workspace
  /** Publishes every write of a run at once, or none of them (see the module comment). */
  writeStates(writes: StateWrite[], run: RunInfo): Promise<void>
  /** Releases connections; safe to call twice and after a failed open(). */
  close(): Promise<void>
}

export type DriverFactory = (options: DriverOptions) => StorageDriver

/** A storage the run cannot reach: exit 3, naming where it looked. */
export class StorageUnreachableError extends UserError {
  constructor(storage: string, where: string, cause?: unknown) {
    const detail = cause instanceof Error ? `: ${cause.message}` : ''
    super(`storage "${storage}" is unreachable at ${where}${detail}`, {
      exit: ExitCode.unreachable,
      suggestions: [`Start the storage, or check the host and port of DataStorage "${storage}" and its Secret.`],
      cause,
    })
    this.name = 'StorageUnreachableError'
  }
}
