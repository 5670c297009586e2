import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {DuckDBConnection, DuckDBInstance} from '@duckdb/node-api'

import {UsageError} from '../errors.js'
import {parseSize} from '../size.js'
import {loadDuckDB} from './load-duckdb.js'
import type {EngineSession} from '../storage/driver.js'

export interface EngineOptions {
  /** Where DuckDB may spill when a state does not fit in memory (default: the scratch dir). */
  tempDir?: string
  /** DuckDB's memory_limit, e.g. `2GB` (default: DuckDB's own, 80% of RAM). */
  memoryLimit?: string
  /** DuckDB threads (default: DuckDB's own, one per core). */
  threads?: number
}

/** The run's embedded DuckDB: an in-memory database that spills to disk, and its scratch dir. */
export class Engine implements EngineSession {
  private constructor(
    /** Undefined for a borrowed engine: the database belongs to someone else. */
    private readonly instance: DuckDBInstance | undefined,
    readonly connection: DuckDBConnection,
    readonly scratchDir: string,
  ) {}

  /**
   * An engine over a connection of a database someone else owns (the runtime's, which holds the
   * storage files attached: a second database on the same file in one process would corrupt it).
   * close() then leaves the connection and the database open and the scratch dir in place.
   */
  static borrow(connection: DuckDBConnection, scratchDir: string): Engine {
    return new Engine(undefined, connection, scratchDir)
  }

  static async open(options: EngineOptions = {}): Promise<Engine> {
    // Loaded here, not at the top of a module: the native library costs ~100 ms to load and
    // only commands that touch data should pay it.
    const {DuckDBInstance} = loadDuckDB()
    const scratchDir = await mkdtemp(join(tmpdir(), 'dappmesh-run-'))
    const config: Record<string, string> = {
      // Only built-in extensions (parquet, json, icu): nothing is downloaded at run time (§7).
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      temp_directory: options.tempDir ?? join(scratchDir, 'spill'),
      // Division by zero gives NULL, not Infinity: a required field then rejects the row, and
      // no state holds a value other engines (Postgres DECIMAL, Parquet readers) cannot take.
      ieee_floating_point_ops: 'false',
      // Freed memory goes back to the system from a thread of the allocator's own, not only when
      // a query's thread gets round to it: a lower, steadier peak RSS at no measurable CPU.
      allocator_background_threads: 'true',
    }
    if (options.memoryLimit !== undefined) {
      if (!/^\d+(\.\d+)?\s*(k|m|g|t)?i?b$/i.test(options.memoryLimit)) throw new UsageError(`memory limit "${options.memoryLimit}" is not a size; write it like 512MB or 2GB`)
      config.memory_limit = options.memoryLimit
      // DuckDB hands freed memory back to the system after a task that allocated more than this
      // (default 128 MiB, the whole of a small limit): a quarter of the limit keeps the process's
      // peak near the limit. With the background thread above, a run over a 206 MiB CSV at 128MB
      // peaked at 339-349 MiB in 8 runs, against 358-414 in 8 with neither (both beside two busy loops).
      config.allocator_flush_threshold = `${Math.floor(Math.min(parseSize(options.memoryLimit) / 4, 128 * 2 ** 20))}B`
    }
    if (options.threads) config.threads = String(options.threads)
    const instance = await DuckDBInstance.create(':memory:', config)
    const connection = await instance.connect()
    return new Engine(instance, connection, scratchDir)
  }

  async run(sql: string): Promise<void> {
    await this.connection.run(sql)
  }

  async rows<T extends Record<string, unknown> = Record<string, unknown>>(sql: string): Promise<T[]> {
    const reader = await this.connection.runAndReadAll(sql)
    return reader.getRowObjectsJson() as T[]
  }

  /** A single number from a query such as `SELECT count(*) …`. */
  async count(sql: string): Promise<number> {
    const reader = await this.connection.runAndReadAll(sql)
    const value = reader.getRows()[0]?.[0]
    return Number(value ?? 0)
  }

  /** Stops a running query (SIGINT): the statement fails with an interruption error. */
  interrupt(): void {
    this.connection.interrupt()
  }

  async close(): Promise<void> {
    if (!this.instance) return
    this.connection.closeSync()
    this.instance.closeSync()
    await rm(this.scratchDir, {recursive: true, force: true})
  }
}
