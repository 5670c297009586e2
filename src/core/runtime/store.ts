import {randomBytes} from 'node:crypto'
import {mkdirSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import type {DuckDBConnection, DuckDBInstance, DuckDBValue} from '@duckdb/node-api'

import {loadDuckDB} from '../engine/load-duckdb.js'
import {quoteIdent, quoteLiteral} from '../engine/types.js'
import {UserError} from '../errors.js'

export {quoteIdent, quoteLiteral} from '../engine/types.js'

/** A query the store could not run because of what the caller asked (a value that does not cast…). */
export class QueryInputError extends Error {}

/**
 * The runtime's DuckDB: one in-process database attached to each storage file, shared by every
 * request. Connections are pooled (DuckDB runs one query per connection at a time; a handful lets
 * concurrent requests overlap without a connection per request). A data version per storage
 * changes whenever this process writes to it: ETags and snapshot cursors are made from it.
 */
export class RuntimeStore {
  private readonly idle: DuckDBConnection[] = []
  private readonly waiting: Array<(c: DuckDBConnection) => void> = []
  private created = 0
  private readonly versions = new Map<string, number>()
  /** Distinguishes this process's versions from a previous one's (its counters restart at 0). */
  private readonly epoch = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
  private closed = false
  /** Storages the mirror could not read last time it tried, with why: not ready until it can again. */
  readonly unreachable = new Map<string, string>()

  private constructor(
    private readonly instance: DuckDBInstance,
    readonly files: Map<string, string>,
    private readonly poolSize: number,
  ) {}

  /**
   * Opens an in-memory DuckDB and attaches `<dataDir>/<storage>.duckdb` for each storage under
   * the storage's name, creating the files that do not exist yet. A `mirrored` storage (one that
   * lives elsewhere: Postgres, S3) gets `<dataDir>/<storage>.mirror.duckdb` instead: the local
   * copy its states are served from (see mirror.ts), never mistaken for a duckdb storage's file.
   */
  static async open(dataDir: string, storages: string[], options: {poolSize?: number; mirrored?: ReadonlySet<string>} = {}): Promise<RuntimeStore> {
    const {DuckDBInstance} = loadDuckDB()
    mkdirSync(dataDir, {recursive: true})
    // Threads: DuckDB defaults to one per core; the runtime shares its node with others, and a
    // serving query of 1000 rows gains nothing from more than two.
    const instance = await DuckDBInstance.create(':memory:', {threads: '2'})
    const files = new Map(storages.map((s) => [s, path.join(dataDir, options.mirrored?.has(s) ? `${s}.mirror.duckdb` : `${s}.duckdb`)]))
    const store = new RuntimeStore(instance, files, options.poolSize ?? 4)
    for (const [name, file] of files) {
      try {
        await store.run(`ATTACH ${quoteLiteral(file)} AS ${quoteIdent(name)}`)
      } catch (error) {
        throw new UserError(`cannot open the data of storage "${name}" at ${file}: ${(error as Error).message}`, {
          suggestions: ['Another process (dappmesh run or serve) may hold the file: stop it, or pass another --data-dir.'],
          cause: error,
        })
      }
    }
    // The product's SQL runs in this database, and in the cluster its author need not be someone
    // who may read the pod's token or its storages' credentials (/var/run/secrets, /proc/self/environ).
    // Confine DuckDB to the data directory and the temp files the runtime writes itself; DuckDB
    // refuses to widen either setting again.
    const allowed = [dataDir, tmpdir()].map((dir) => quoteLiteral(path.resolve(dir) + path.sep))
    await store.run(`SET allowed_directories = [${allowed.join(', ')}]`)
    await store.run('SET enable_external_access = false')
    return store
  }

  /** The data version of a storage: part of every ETag and snapshot cursor over it. */
  version(storage: string): string {
    return `${this.epoch}.${this.versions.get(storage) ?? 0}`
  }

  /** Records that the data of a storage changed (after an ingest or a run committed). */
  bump(storage: string): void {
    this.versions.set(storage, (this.versions.get(storage) ?? 0) + 1)
  }

  async acquire(): Promise<DuckDBConnection> {
    if (this.closed) throw new Error('store closed')
    const c = this.idle.pop()
    if (c) return c
    if (this.created < this.poolSize) {
      this.created++
      return this.instance.connect()
    }
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  release(c: DuckDBConnection): void {
    const next = this.waiting.shift()
    if (next) next(c)
    else this.idle.push(c)
  }

  /** Runs `work` on a pooled connection, giving it back however `work` ends. */
  async with<T>(work: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const c = await this.acquire()
    try {
      return await work(c)
    } finally {
      this.release(c)
    }
  }

  async run(sql: string, values?: DuckDBValue[]): Promise<void> {
    await this.with((c) => c.run(sql, values))
  }

  /** A small result as JS objects (counts, keys): never for rows served to a client. */
  async rows<T = Record<string, unknown>>(sql: string, values?: DuckDBValue[]): Promise<T[]> {
    return this.with(async (c) => (await c.runAndReadAll(sql, values)).getRowObjectsJS() as T[])
  }

  /**
   * Readiness: every storage file still where it was attached from, and the database answering.
   * A volume that went away (unmounted, deleted) fails here, and passes again once it is back.
   */
  async check(): Promise<{ok: boolean; reason?: string}> {
    for (const [name, reason] of this.unreachable) return {ok: false, reason: `storage "${name}": ${reason}`}
    for (const [name, file] of this.files) {
      try {
        statSync(file)
      } catch {
        return {ok: false, reason: `storage "${name}": ${file} is gone`}
      }
    }
    try {
      await this.run('SELECT 1')
      return {ok: true}
    } catch (error) {
      return {ok: false, reason: (error as Error).message}
    }
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    for (const c of this.idle) c.closeSync()
    this.instance.closeSync()
  }
}
