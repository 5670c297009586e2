/**
 * Binds a transition's SQL in embedded DuckDB against empty tables of its input states, without
 * running it: DuckDB's parser and binder find syntax errors, unknown tables and columns, and give
 * the result's column names and types, which are compared with the target state's fields.
 *
 * DuckDB (a native library of about 70 MB) is loaded only when a project has SQL that the cache
 * (cache.ts) has not seen, so plain validation keeps its start-up.
 */
import type {DuckDBConnection, DuckDBInstance} from '@duckdb/node-api'

import {quoteIdent} from '../../engine/types.js'

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

/** DuckDB's statement type of a SELECT (also for WITH … SELECT, VALUES, FROM-first queries). */
const SELECT_STATEMENT = 1

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

export class SqlBinder {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(): Promise<SqlBinder> {
    const {DuckDBInstance} = await import('@duckdb/node-api')
    const instance = await DuckDBInstance.create(':memory:', CONFIG)
    return new SqlBinder(instance, await instance.connect())
  }

  /** The problems of one transition's SQL; none when it binds and its columns are the target's fields. */
  async bind(request: BindRequest): Promise<SqlProblem[]> {
    const sql = request.sql.trim().replace(/;\s*$/, '')
    let statements: number
    try {
      statements = (await this.connection.extractStatements(sql)).count
    } catch (error) {
      return [{severity: 'error', message: `sql does not parse: ${duckdbMessage(error).replace(/^Failed to extract statements: /, '')}`}]
    }
    if (statements !== 1) {
      return [{severity: 'error', message: `sql holds ${statements} statements; a transition is one query (SELECT … FROM its from[] states) whose result becomes state "${request.target.state}"`}]
    }
    // The input tables exist only inside this transaction: each transition sees its own from[] states.
    await this.connection.run('BEGIN TRANSACTION')
    try {
      for (const t of request.tables) {
        const columns = t.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')
        await this.connection.run(`CREATE TABLE ${quoteIdent(t.name)} (${columns})`)
      }
      return await this.bindQuery(sql, request)
    } finally {
      await this.connection.run('ROLLBACK')
    }
  }

  private async bindQuery(sql: string, request: BindRequest): Promise<SqlProblem[]> {
    const scope = request.tables.length > 0 ? `it reads ${request.tables.map((t) => `${t.name} (${t.columns.map((c) => c.name).join(', ')})`).join('; ')}` : 'it reads no state (its from[] is empty)'
    let prepared
    try {
      prepared = await this.connection.prepare(sql)
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
      if (prepared.statementType !== SELECT_STATEMENT) {
        return [{severity: 'error', message: `sql is not a query: a transition's sql is one SELECT whose rows become state "${request.target.state}"; the engine writes the state itself`}]
      }
      const result: ColumnSpec[] = []
      for (let i = 0; i < prepared.columnCount; i++) {
        const type = prepared.columnType(i)
        result.push({name: prepared.columnName(i), type: type.alias ?? type.toString()})
      }
      return [...this.compareColumns(result, request), ...(await this.compareTypes(sql, result, request))]
    } finally {
      prepared.destroySync()
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
    const reader = await this.connection.runAndReadAll(`SELECT ${checks} FROM (SELECT * FROM (${sql}) LIMIT 0)`)
    const row = reader.getRows()[0] ?? []
    return pairs.flatMap(({field, column}, i) =>
      row[i] === true
        ? []
        : [{
            severity: 'warning' as const,
            message: `column "${field.name}" is ${column.type} but field "${field.name}" of state "${request.target.state}" is ${field.type}, and DuckDB does not convert ${column.type} to ${field.type} implicitly: the run casts each value and rejects rows that do not convert; cast it in the SQL (CAST(… AS ${field.type})) or change the field's type`,
          }],
    )
  }

  close(): void {
    this.connection.closeSync()
    this.instance.closeSync()
  }
}
