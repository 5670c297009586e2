/**
 * Moving whole tables between the run's DuckDB and a Postgres with COPY, streamed through a CSV
 * file in the run's scratch dir (memory stays bounded whatever the size). CSV is the one format
 * both sides read and write natively and fast; the few types whose text forms differ are
 * converted on the way (bytea as `\x<hex>`, nested values as JSON). Text values are quoted on the
 * way out, so an empty string ("") and NULL (nothing) stay distinct.
 */
import {spawnSync} from 'node:child_process'
import {createReadStream, createWriteStream} from 'node:fs'
import {open, rm} from 'node:fs/promises'
import {pipeline} from 'node:stream/promises'

import type {Client} from 'pg'

import {quoteIdent, quoteLiteral} from '../engine/types.js'
import type {EngineSession} from './driver.js'

export interface EngineColumn {
  name: string
  /** A DuckDB type as DESCRIBE spells it: `VARCHAR`, `DECIMAL(38,9)`, `INTEGER[]`, `STRUCT(...)`. */
  type: string
}

const SIMPLE: Record<string, string> = {
  VARCHAR: 'text',
  BOOLEAN: 'boolean',
  TINYINT: 'smallint',
  SMALLINT: 'smallint',
  INTEGER: 'integer',
  BIGINT: 'bigint',
  UTINYINT: 'smallint',
  USMALLINT: 'integer',
  UINTEGER: 'bigint',
  UBIGINT: 'numeric(20,0)',
  HUGEINT: 'numeric(39,0)',
  UHUGEINT: 'numeric(39,0)',
  FLOAT: 'real',
  DOUBLE: 'double precision',
  DATE: 'date',
  TIME: 'time',
  TIMESTAMP: 'timestamp',
  'TIMESTAMP WITH TIME ZONE': 'timestamptz',
  TIMESTAMP_S: 'timestamp',
  TIMESTAMP_MS: 'timestamp',
  TIMESTAMP_NS: 'timestamp',
  INTERVAL: 'interval',
  UUID: 'uuid',
  BLOB: 'bytea',
  // json, not jsonb: it keeps the text as written, so a state reads back exactly as published.
  JSON: 'json',
}

/** Nested DuckDB values (LIST, STRUCT, MAP, arrays) are stored as json. */
function isNested(type: string): boolean {
  return /[[\]]$|^(STRUCT|MAP|UNION)\(/.test(type)
}

/** The Postgres column type that holds a DuckDB column. */
export function postgresType(type: string): string {
  const decimal = /^DECIMAL\((\d+),(\d+)\)$/.exec(type)
  if (decimal) return `numeric(${decimal[1]},${decimal[2]})`
  if (isNested(type)) return 'json'
  return SIMPLE[type] ?? 'text'
}

/** The DuckDB expression that writes a column as Postgres' COPY reads it. */
function exportExpression(column: EngineColumn): string {
  const id = quoteIdent(column.name)
  if (column.type === 'BLOB') return `'\\x' || lower(hex(${id}))`
  if (isNested(column.type)) return `to_json(${id})::VARCHAR`
  return id
}

/** The DuckDB expression that reads a column Postgres wrote (read as VARCHAR) back into its type. */
function importExpression(column: EngineColumn): string {
  const id = quoteIdent(column.name)
  if (column.type === 'BLOB') return `unhex(substr(${id}, 3))`
  if (column.type === 'VARCHAR') return id
  return `CAST(${id} AS ${column.type})`
}

/** The Postgres expression that writes a column for `importExpression` (bytea as `\x<hex>`, booleans as true/false). */
function postgresSelect(column: EngineColumn, present: boolean): string {
  if (!present) return 'NULL'
  const id = quoteIdent(column.name)
  if (column.type === 'BLOB') return `'\\x' || encode(${id}, 'hex')`
  return `${id}::text`
}

/** The columns of an engine table or query, in order. */
export async function engineColumns(engine: EngineSession, relation: string): Promise<EngineColumn[]> {
  const rows = await engine.rows<{column_name: string; column_type: string}>(`DESCRIBE SELECT * FROM ${relation}`)
  return rows.map((r) => ({name: r.column_name, type: r.column_type}))
}

/** `CREATE TABLE` column definitions for Postgres. */
export function postgresColumns(columns: EngineColumn[]): string {
  return columns.map((c) => `${quoteIdent(c.name)} ${postgresType(c.type)}`).join(', ')
}

/**
 * Streams the rows of an engine relation into a Postgres table with COPY FROM STDIN. Returns the
 * number of rows copied. The caller owns the transaction.
 *
 * `file` is made a named pipe when the system allows: DuckDB writes CSV into it while COPY
 * reads from it, so the export and the load overlap and nothing lands on disk. Else (no mkfifo)
 * it is a plain file, written in full first.
 */
export async function copyEngineToPostgres(
  engine: EngineSession,
  client: Client,
  source: {relation: string; columns: EngineColumn[]},
  target: string,
  file: string,
  options: {freeze?: boolean} = {},
): Promise<number> {
  const select = source.columns.map((c) => `${exportExpression(c)} AS ${quoteIdent(c.name)}`).join(', ')
  // Only text can be an empty string: quoting it keeps "" apart from NULL (an unquoted empty
  // field). Numbers, dates and the like are never empty, so they go unquoted: fewer bytes to
  // write and for Postgres to parse.
  const quoted = source.columns.filter((c) => c.type === 'VARCHAR' || c.type === 'JSON').map((c) => quoteIdent(c.name))
  const forceQuote = quoted.length > 0 ? `, FORCE_QUOTE (${quoted.join(', ')})` : ''
  // USE_TMP_FILE false: DuckDB must write the path itself, not a temp file renamed over it.
  const exportSql = `COPY (SELECT ${select} FROM ${source.relation}) TO ${quoteLiteral(file)} (FORMAT csv, HEADER false${forceQuote}, USE_TMP_FILE false)`
  const {from} = await import('pg-copy-streams')
  const names = source.columns.map((c) => quoteIdent(c.name)).join(', ')
  // FREEZE (a table created in this transaction): rows are written already frozen, so the first
  // reader or VACUUM does not rewrite every page to set hint bits.
  const copyIn = () => client.query(from(`COPY ${target} (${names}) FROM STDIN WITH (FORMAT csv${options.freeze ? ', FREEZE' : ''})`))
  // A file left by an earlier write would be written into instead of the pipe; start afresh.
  await rm(file, {force: true})
  if (!makeFifo(file)) {
    await exportUnordered(engine, exportSql)
    const stream = copyIn()
    await pipeline(createReadStream(file), stream)
    return stream.rowCount ?? 0
  }

  const stream = copyIn()
  const loading = pipeline(createReadStream(file), stream)
  try {
    await exportUnordered(engine, exportSql)
  } catch (error) {
    // The reader may still wait for a writer to open the pipe: open and close it so it ends.
    await open(file, 'w').then((h) => h.close()).catch(() => {})
    await loading.catch(() => {})
    throw error
  }

  await loading
  return stream.rowCount ?? 0
}

/**
 * Runs a COPY … TO with DuckDB free to write rows in any order: it then formats the CSV on every
 * thread rather than one (a table has no order, and Postgres keeps none). The setting is the
 * connection's, so it is put back for the queries after this one.
 */
async function exportUnordered(engine: EngineSession, sql: string): Promise<void> {
  await engine.run('SET preserve_insertion_order = false')
  try {
    await engine.run(sql)
  } finally {
    // Inside a caller's transaction that the failed COPY aborted, RESET fails too: the COPY's error is the one to see.
    await engine.run('RESET preserve_insertion_order').catch(() => {})
  }
}

/** Makes `file` a named pipe; false where that is not possible. */
function makeFifo(file: string): boolean {
  return spawnSync('mkfifo', ['-m', '600', file]).status === 0
}

/**
 * Streams a Postgres table (or query) into a new engine table with COPY TO STDOUT, through
 * `file`. `columns` are the engine columns to create; those not in `present` are NULL.
 */
export async function copyPostgresToEngine(
  client: Client,
  engine: EngineSession,
  source: {from: string; present: Set<string>},
  target: {table: string; columns: EngineColumn[]},
  file: string,
): Promise<void> {
  const select = target.columns.map((c) => postgresSelect(c, source.present.has(c.name))).join(', ')
  const {to} = await import('pg-copy-streams')
  const stream = client.query(to(`COPY (SELECT ${select} FROM ${source.from}) TO STDOUT WITH (FORMAT csv, FORCE_QUOTE *)`))
  await pipeline(stream, createWriteStream(file))
  const spec = target.columns.map((c) => `${quoteLiteral(c.name)}: 'VARCHAR'`).join(', ')
  const cast = target.columns.map((c) => `${importExpression(c)} AS ${quoteIdent(c.name)}`).join(', ')
  // allow_quoted_nulls=false: "" is an empty string, only an unquoted empty field is NULL (as Postgres wrote it).
  await engine.run(
    `CREATE OR REPLACE TABLE ${target.table} AS SELECT ${cast} FROM read_csv(${quoteLiteral(file)}, columns = {${spec}}, ` +
      `header = false, quote = '"', escape = '"', delim = ',', allow_quoted_nulls = false, auto_detect = false)`,
  )
}
