/**
 * Binds a transition's SQL in embedded DuckDB against empty tables of its input states, without
 * running it: DuckDB's parser and binder find syntax errors, unknown tables and columns, and give
 * the result's column names and types, which are compared with the target state's fields.
 *
 * DuckDB (a native library of about 70 MB) is loaded only when a project has SQL that the cache
 * (cache.ts) has not seen, so plain validation keeps its start-up. It is reached through its C API
 * (@duckdb/node-bindings), not the @duckdb/node-api wrapper the engine uses: binding needs a handful
 * of calls, and loading the wrapper's 180 modules took more CPU than opening DuckDB itself.
 */
import type * as Duckdb from '@duckdb/node-bindings'
import {existsSync} from 'node:fs'
import {createRequire} from 'node:module'

import {quoteIdent} from '../../engine/types.js'
import {type Bindings, columnTypeName} from './type-name.js'

export interface ColumnSpec {
  name: string
  /** A DuckDB type, e.g. `VARCHAR` or `DECIMAL(38,9)`. */
  type: string
}

export interface TableSpec {
  /** The name the SQL uses: the state's name, or `<schema>__<state>` for another schema's state. */
  name: string
  columns: ColumnSpec[]
}

export interface BindRequest {
  sql: string
  tables: TableSpec[]
  /** The state the transition writes, and its fields as DuckDB columns. */
  target: {state: string; columns: ColumnSpec[]}
}

export interface SqlProblem {
  severity: 'error' | 'warning'
  message: string
}

/**
 * Settings for a binder that must never reach outside: no extension is installed or loaded (these
 * machines and air-gapped clusters cannot download one), and no file or URL is read, so binding
 * `read_csv('/etc/passwd')` is a finding instead of a read.
 */
const CONFIG = {
  enable_external_access: 'false',
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
  threads: '1',
}

/**
 * DuckDB's message without its excerpt of the query (`LINE 1: …` and a caret, which point into
 * the SQL rather than the YAML), on one line: `Binder Error: Referenced column "x" not found in
 * FROM clause! Candidate bindings: "a", "b"`.
 */
export function duckdbMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  const lines = text.split('\n')
  const end = lines.findIndex((l) => l.trim() === '' || /^LINE \d+:/.test(l))
  return (end === -1 ? lines : lines.slice(0, end)).map((l) => l.trim()).filter((l) => l !== '').join(' ')
}

function list(names: string[]): string {
  return names.map((n) => `"${n}"`).join(', ')
}

/** The dynamic loader of musl Linux, by Node's name of the architecture. */
const MUSL_LOADER: Partial<Record<string, string>> = {x64: '/lib/ld-musl-x86_64.so.1', arm64: '/lib/ld-musl-aarch64.so.1'}

/**
 * Loads DuckDB's native library (the costly part: mapping and relocating it). The package's entry
 * asks detect-libc whether Linux's C library is glibc or musl, and detect-libc loads Node's
 * child_process to be able to ask `ldd`: about 10 ms of CPU, a tenth of Node's own start-up, on
 * every first validate. Where there is no musl loader, the glibc build is loaded by the name the
 * entry would pick; anywhere else, or when that build is not installed, the entry decides.
 */
export async function loadDuckdb(): Promise<Bindings> {
  const musl = MUSL_LOADER[process.arch]
  if (process.platform === 'linux' && musl && !existsSync(musl)) {
    try {
      return createRequire(import.meta.url)(`@duckdb/node-bindings-linux-${process.arch}/duckdb.node`) as Bindings
    } catch {
      // not installed here: the entry knows what is
    }
  }
  return (await import('@duckdb/node-bindings')).default
}

export class SqlBinder {
  private constructor(
    private readonly duckdb: Bindings,
    private readonly database: Duckdb.Database,
    private readonly connection: Duckdb.Connection,
  ) {}

  static async open(): Promise<SqlBinder> {
    return (await SqlBinder.start()).binder
  }

  /**
   * Loads DuckDB and starts opening a database, which DuckDB does on a thread of libuv's pool:
   * resolves as soon as that is under way, to the binder it will be, so that the caller's own
   * work runs meanwhile. The binder's promise is marked handled: a failure to open surfaces
   * where it is awaited, and nowhere when it never is.
   */
  static async start(): Promise<{binder: Promise<SqlBinder>}> {
    const duckdb = await loadDuckdb()
    const config = duckdb.create_config()
    // What @duckdb/node-api reports to DuckDB as its client, so that DuckDB sees one API either way.
    duckdb.set_config(config, 'duckdb_api', 'node-neo-api')
    for (const [name, value] of Object.entries(CONFIG)) duckdb.set_config(config, name, value)
    const binder = duckdb.open(':memory:', config).then(async (database) => new SqlBinder(duckdb, database, await duckdb.connect(database)))
    binder.catch(() => {})
    return {binder}
  }

  private async run(sql: string): Promise<Duckdb.Result> {
    return this.duckdb.query(this.connection, sql)
  }

  /** The problems of one transition's SQL; none when it binds and its columns are the target's fields. */
  async bind(request: BindRequest): Promise<SqlProblem[]> {
    const sql = request.sql.trim().replace(/;\s*$/, '')
    let statements: number
    try {
      const extracted = await this.duckdb.extract_statements(this.connection, sql)
      statements = extracted.statement_count
      if (statements === 0) throw new Error(this.duckdb.extract_statements_error(extracted.extracted_statements))
    } catch (error) {
      return [{severity: 'error', message: `sql does not parse: ${duckdbMessage(error)}`}]
    }
    if (statements !== 1) {
      return [{severity: 'error', message: `sql holds ${statements} statements; a transition is one query (SELECT … FROM its from[] states) whose result becomes state "${request.target.state}"`}]
    }
    // The input tables exist only inside this transaction: each transition sees its own from[] states.
    await this.run('BEGIN TRANSACTION')
    try {
      for (const t of request.tables) {
        const columns = t.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')
        await this.run(`CREATE TABLE ${quoteIdent(t.name)} (${columns})`)
      }
      return await this.bindQuery(sql, request)
    } finally {
      await this.run('ROLLBACK')
    }
  }

  private async bindQuery(sql: string, request: BindRequest): Promise<SqlProblem[]> {
    const scope = request.tables.length > 0 ? `it reads ${request.tables.map((t) => `${t.name} (${t.columns.map((c) => c.name).join(', ')})`).join('; ')}` : 'it reads no state (its from[] is empty)'
    const duckdb = this.duckdb
    let prepared: Duckdb.PreparedStatement
    try {
      prepared = await duckdb.prepare(this.connection, sql)
    } catch (error) {
      const message = duckdbMessage(error)
      const hint = /^Catalog Error: Table/.test(message)
        ? `; a transition reads only the states in its from[] (${scope}): add the state to from[] or fix the name`
        : /^Parser Error/.test(message)
          ? ''
          : `; ${scope}`
      return [{severity: 'error', message: `sql ${/^Parser Error/.test(message) ? 'does not parse' : 'does not bind'}: ${message}${hint}`}]
    }
    try {
      // SELECT is also the type of WITH … SELECT, VALUES and FROM-first queries.
      if (duckdb.prepared_statement_type(prepared) !== duckdb.StatementType.SELECT) {
        return [{severity: 'error', message: `sql is not a query: a transition's sql is one SELECT whose rows become state "${request.target.state}"; the engine writes the state itself`}]
      }
      const result: ColumnSpec[] = []
      const count = duckdb.prepared_statement_column_count(prepared)
      for (let i = 0; i < count; i++) {
        result.push({name: duckdb.prepared_statement_column_name(prepared, i), type: columnTypeName(duckdb, duckdb.prepared_statement_column_logical_type(prepared, i))})
      }
      return [...this.compareColumns(result, request), ...(await this.compareTypes(sql, result, request))]
    } finally {
      duckdb.destroy_prepare_sync(prepared)
    }
  }

  private compareColumns(result: ColumnSpec[], request: BindRequest): SqlProblem[] {
    const problems: SqlProblem[] = []
    const state = request.target.state
    const wanted = request.target.columns.map((c) => c.name)
    const got = result.map((c) => c.name)
    const twice = got.filter((n, i) => got.indexOf(n) !== i)
    if (twice.length > 0) {
      problems.push({severity: 'error', message: `the result has column ${list([...new Set(twice)])} more than once; give each column of state "${state}" its own alias (… AS name)`})
    }
    const missing = wanted.filter((n) => !got.includes(n))
    const extra = [...new Set(got.filter((n) => !wanted.includes(n)))]
    if (missing.length > 0) {
      problems.push({
        severity: 'error',
        message: `the result lacks field${missing.length === 1 ? '' : 's'} ${list(missing)} of state "${state}" (it has ${list(got)}); select ${missing.length === 1 ? 'it' : 'them'} (… AS ${missing[0]}) or remove ${missing.length === 1 ? 'it' : 'them'} from the state`,
      })
    }
    if (extra.length > 0) {
      const renames = extra.map((n) => [n, wanted.find((w) => w.toLowerCase() === n.toLowerCase() && !got.includes(w))] as const).filter(([, w]) => w !== undefined)
      const hint = renames.length > 0 ? ` (field names are exact: ${renames.map(([n, w]) => `"${n}" is not "${w}"`).join(', ')})` : ''
      problems.push({
        severity: 'error',
        message: `the result has column${extra.length === 1 ? '' : 's'} ${list(extra)} that state "${state}" does not declare${hint}; drop ${extra.length === 1 ? 'it' : 'them'} from the SELECT, rename ${extra.length === 1 ? 'it' : 'them'} (… AS field), or add a field to the state`,
      })
    }
    return problems
  }

  /**
   * A column whose type differs from its field's is a warning when DuckDB cannot convert it
   * implicitly (`can_cast_implicitly`): the run then casts each value and rejects the rows that do
   * not convert, which an explicit CAST in the SQL would make visible.
   */
  private async compareTypes(sql: string, result: ColumnSpec[], request: BindRequest): Promise<SqlProblem[]> {
    const names = result.map((c) => c.name)
    const pairs = request.target.columns.flatMap((field) => {
      const column = result.find((c) => c.name === field.name)
      if (!column || names.indexOf(field.name) !== names.lastIndexOf(field.name) || column.type === field.type) return []
      return [{field, column}]
    })
    if (pairs.length === 0) return []
    const checks = pairs.map(({field}) => `can_cast_implicitly(first(${quoteIdent(field.name)}), NULL::${field.type})`).join(', ')
    const row = await this.firstRowOfBooleans(await this.run(`SELECT ${checks} FROM (SELECT * FROM (${sql}) LIMIT 0)`))
    return pairs.flatMap(({field, column}, i) =>
      row[i] === true
        ? []
        : [{
            severity: 'warning' as const,
            message: `column "${field.name}" is ${column.type} but field "${field.name}" of state "${request.target.state}" is ${field.type}, and DuckDB does not convert ${column.type} to ${field.type} implicitly: the run casts each value and rejects rows that do not convert; cast it in the SQL (CAST(… AS ${field.type})) or change the field's type`,
          }],
    )
  }

  /** The first row of a result of BOOLEAN columns (NULL as null); empty when it has no row. */
  private async firstRowOfBooleans(result: Duckdb.Result): Promise<Array<boolean | null>> {
    const duckdb = this.duckdb
    const chunk = await duckdb.fetch_chunk(result)
    if (!chunk || duckdb.data_chunk_get_size(chunk) === 0) return []
    return Array.from({length: duckdb.data_chunk_get_column_count(chunk)}, (_, i) => {
      const vector = duckdb.data_chunk_get_vector(chunk, i)
      // The validity mask is a bitmap of 64-bit words, absent when every value is valid.
      const validity = duckdb.vector_get_validity(vector, 8)
      if (validity && (validity[0] & 1) === 0) return null
      return duckdb.vector_get_data(vector, duckdb.sizeof_bool)[0] !== 0
    })
  }

  close(): void {
    this.duckdb.disconnect_sync(this.connection)
    this.duckdb.close_sync(this.database)
  }
}
