/**
 * The postgresql driver (§7): a product's states are tables in a schema named after the product
 * (`"orders"."orders__clean"`), written with COPY. Connection: `DAPPMESH_STORAGE_<NAME>_URL`
 * (`postgres://user:password@host:port/database`), else libpq's PGHOST, PGPORT, PGUSER,
 * PGPASSWORD, PGDATABASE.
 *
 * A run publishes in one transaction: each replaced state is COPY'd into a new table that then
 * takes the state's name (DROP + RENAME), each appended one (quarantine) gets its rows added, and
 * COMMIT makes all of it visible at once. A failure, a Ctrl-C or a killed process before COMMIT
 * leaves every state as it was (Postgres rolls back a transaction whose connection is gone);
 * readers never wait on the COPY, only on the short swap at the end.
 */
import {join} from 'node:path'

import type {Client} from 'pg'

import {ExitCode, UserError} from '../errors.js'
import {quoteIdent, quoteLiteral, type StateTable} from '../engine/types.js'
import {
  type DriverFactory,
  type DriverOptions,
  type RunInfo,
  type StateWrite,
  type StorageDriver,
  StorageUnreachableError,
} from './driver.js'
import {storageEnv, storageEnvName} from './env.js'
import {copyEngineToPostgres, copyPostgresToEngine, engineColumns, postgresColumns} from './postgres-copy.js'
import {connectPostgres, postgresError, type PostgresSubject, type PostgresTarget, postgresTarget} from './postgres-connect.js'

/** For the sort that builds a state's primary key, for this transaction only. */
const MAINTENANCE_WORK_MEM = '256MB'

/** Postgres truncates identifiers longer than this many bytes; we refuse rather than collide. */
const MAX_IDENTIFIER = 63

class PostgresqlDriver implements StorageDriver {
  private client?: Client
  private readonly target: PostgresTarget
  private readonly subject: PostgresSubject
  private loaded = 0

  constructor(private readonly options: DriverOptions) {
    const {name} = options.storage
    this.target = postgresTarget(storageEnv(options.env, name, 'URL'), options.env)
    this.subject = {
      label: `storage "${name}"`,
      fix: `Set ${storageEnvName(name, 'URL')}=postgres://USER:PASSWORD@HOST:PORT/DATABASE (or PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE).`,
      unreachable: (where, cause) => new StorageUnreachableError(name, where, cause),
    }
  }

  private get schema(): string {
    return quoteIdent(this.options.product)
  }

  private qualified(table: string): string {
    return `${this.schema}.${quoteIdent(table)}`
  }

  private get db(): Client {
    if (!this.client) throw new Error('postgresql driver used before open()')
    return this.client
  }

  /** A query whose connection-level failure (the server went away) becomes the typed error. */
  private async query(sql: string, values?: unknown[]): Promise<{rows: Record<string, unknown>[]}> {
    try {
      return await this.db.query(sql, values)
    } catch (error) {
      throw postgresError(error, this.target, this.subject)
    }
  }

  async open(): Promise<void> {
    checkIdentifier(this.options.product, 'product')
    this.client = await connectPostgres(this.target, this.subject)
    // ISO dates and shortest-exact floats: the text forms DuckDB reads back unchanged.
    await this.query("SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 1; SET IntervalStyle = 'postgres'")
    // In the cluster the runtime connects as the storage's write user, which may not create
    // schemas (Postgres checks that right before IF NOT EXISTS): its schema is made by the root
    // user (postgres-users.ts), and only a missing one is created here (locally, as whoever runs).
    const exists = await this.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [this.options.product])
    if (exists.rows.length > 0) return
    await this.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`).catch(async (error: unknown) => {
      // Two runs creating the schema at once: the loser sees a unique violation; the schema exists.
      if ((error as {code?: string}).code !== '23505') throw error
    })
  }

  async readState(state: StateTable): Promise<string | undefined> {
    const found = await this.query(
      'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
      [this.options.product, state.table],
    )
    if (found.rows.length === 0) return undefined
    const present = new Set(found.rows.map((r) => String(r.column_name)))
    this.loaded += 1
    const local = quoteIdent(`__dappmesh_pg_${this.loaded}_${state.table}`)
    const file = join(this.options.engine.scratchDir, `pg-read-${this.loaded}.csv`)
    try {
      await copyPostgresToEngine(
        this.db,
        this.options.engine,
        {from: this.qualified(state.table), present},
        {table: local, columns: state.columns.map((c) => ({name: c.name, type: c.type}))},
        file,
      )
    } catch (error) {
      throw postgresError(error, this.target, this.subject)
    }

    return local
  }

  /**
   * The table's identity, storage file and row change counters: a replace makes a new table (new
   * oid), a TRUNCATE a new file, an insert, update or delete moves a counter (counted when the
   * writing session commits and flushes its statistics, which it does by the time it ends).
   */
  async stateVersion(state: StateTable): Promise<string> {
    const found = await this.query(
      `SELECT c.oid::text || ':' || c.relfilenode::text || ':' || coalesce(s.n_tup_ins, 0) || ':' || coalesce(s.n_tup_upd, 0) || ':' || coalesce(s.n_tup_del, 0) AS v
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
       WHERE n.nspname = $1 AND c.relname = $2`,
      [this.options.product, state.table],
    )
    return found.rows.length === 0 ? 'absent' : String(found.rows[0].v)
  }

  async writeStates(writes: StateWrite[], run: RunInfo): Promise<void> {
    for (const w of writes) checkIdentifier(w.state.table, 'state table')
    await this.query('BEGIN')
    try {
      // Building a primary key sorts every key: with the default 64MB a million keys sort on disk.
      await this.query(`SET LOCAL maintenance_work_mem = '${MAINTENANCE_WORK_MEM}'`)
      for (const [index, w] of writes.entries()) {
         
        await this.write(w, run, index)
      }

      await this.query('COMMIT')
    } catch (error) {
      await this.db.query('ROLLBACK').catch(() => {})
      throw postgresError(error, this.target, this.subject)
    }
  }

  private async write(w: StateWrite, run: RunInfo, index: number): Promise<void> {
    const {engine} = this.options
    const columns = await engineColumns(engine, w.staged)
    const file = join(engine.scratchDir, `pg-write-${index}.csv`)
    const target = this.qualified(w.state.table)
    if (w.mode === 'append') {
      await this.query(`CREATE TABLE IF NOT EXISTS ${target} (${postgresColumns(columns)})`)
      // A quarantine table outlives schema changes: columns a newer state has are added.
      for (const column of columns) {
         
        await this.query(`ALTER TABLE ${target} ADD COLUMN IF NOT EXISTS ${postgresColumns([column])}`)
      }

      await copyEngineToPostgres(engine, this.db, {relation: w.staged, columns}, target, file)
      return
    }

    // The new table is private to this transaction until COMMIT; its name is unique per run.
    const fresh = `_dm_${run.id.replaceAll(/[^A-Za-z0-9]/g, '').slice(-20)}_${index}`
    await this.query(`CREATE TABLE ${this.qualified(fresh)} (${postgresColumns(columns)})`)
    await copyEngineToPostgres(engine, this.db, {relation: w.staged, columns}, this.qualified(fresh), file, {freeze: true})
    const key = w.state.primaryKey.filter((k) => columns.some((c) => c.name === k))
    if (key.length > 0 && key.length === w.state.primaryKey.length) {
      // The engine has already rejected duplicate keys; the constraint serves lookups by key.
      await this.query(`ALTER TABLE ${this.qualified(fresh)} ADD PRIMARY KEY (${key.map((k) => quoteIdent(k)).join(', ')})`)
    }

    await this.query(`DROP TABLE IF EXISTS ${target}`)
    await this.query(`ALTER TABLE ${this.qualified(fresh)} RENAME TO ${quoteIdent(w.state.table)}`)
    await this.query(`COMMENT ON TABLE ${target} IS ${quoteLiteral(`dappmesh state ${w.state.ref}, run ${run.id}`)}`)
  }

  async close(): Promise<void> {
    const {client} = this
    this.client = undefined
    await client?.end().catch(() => {})
  }
}

function checkIdentifier(name: string, what: string): void {
  if (Buffer.byteLength(name) > MAX_IDENTIFIER) {
    throw new UserError(`${what} name "${name}" is longer than Postgres' ${MAX_IDENTIFIER}-byte limit for names`, {
      exit: ExitCode.usage,
      suggestions: ['Use a shorter schema or state name, or store this flow in another DataStorage.'],
    })
  }
}

export const postgresqlDriver: DriverFactory = (options) => new PostgresqlDriver(options)
