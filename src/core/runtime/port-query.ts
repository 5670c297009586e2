import {duckdbType} from '../engine/types.js'
import {HttpError} from './errors.js'
import type {RuntimeColumn, ServedPort} from './model.js'
import {quoteIdent, quoteLiteral} from './store.js'

export const FORMATS = ['json', 'ndjson', 'csv', 'parquet'] as const
export type Format = (typeof FORMATS)[number]
export const DEFAULT_LIMIT = 1000
export const MAX_LIMIT = 100_000

const MEDIA: Record<Format, string> = {
  json: 'application/json',
  ndjson: 'application/x-ndjson',
  csv: 'text/csv',
  parquet: 'application/vnd.apache.parquet',
}

export function mediaType(format: Format): string {
  return MEDIA[format]
}

/** Query parameters that are not filters. */
const RESERVED = new Set(['format', 'limit', 'cursor', 'fields'])

/**
 * Where the next page starts. `key`: after this primary key (keyset paging: a row added or removed
 * elsewhere never shifts a page). `offset`: for a state without a primary key, a position in a
 * snapshot, valid only while the data version it was issued for is current.
 */
export type Cursor = {key: string[]} | {offset: number; version: string}

export interface PortQuery {
  format: Format
  limit: number
  columns: RuntimeColumn[]
  filters: Array<{column: RuntimeColumn; value: string}>
  cursor?: Cursor
}

/** Reads and checks a GET /v1/ports/<port> request: every mistake is a 400 that says what is allowed. */
export function parsePortQuery(port: ServedPort, params: URLSearchParams, accept: string | undefined): PortQuery {
  const byName = new Map(port.state.columns.map((c) => [c.name, c]))
  const known = port.state.columns.map((c) => c.name).join(', ')
  const format = parseFormat(params.get('format'), accept)
  const limitText = params.get('limit')
  let limit = DEFAULT_LIMIT
  if (limitText !== null) {
    limit = Number(limitText)
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > MAX_LIMIT) throw new HttpError(400, `limit must be a whole number from 1 to ${MAX_LIMIT}, not "${limitText}"`)
  }
  let columns = port.state.columns
  const fieldsText = params.get('fields')
  if (fieldsText !== null) {
    const names = fieldsText.split(',').map((s) => s.trim()).filter(Boolean)
    if (names.length === 0) throw new HttpError(400, `fields must name at least one field of port ${port.name}: ${known}`)
    columns = names.map((n) => {
      const c = byName.get(n)
      if (!c) throw new HttpError(400, `fields: port ${port.name} has no field "${n}"; its fields are ${known}`)
      return c
    })
  }
  const filters: PortQuery['filters'] = []
  for (const [name, value] of params) {
    if (RESERVED.has(name)) continue
    const column = byName.get(name)
    if (!column) throw new HttpError(400, `cannot filter on "${name}": port ${port.name} has no such field; its fields are ${known} (other parameters: format, limit, cursor, fields)`)
    filters.push({column, value})
  }
  const cursorText = params.get('cursor')
  const cursor = cursorText === null ? undefined : decodeCursor(cursorText, port)
  return {format, limit, columns, filters, cursor}
}

function parseFormat(text: string | null, accept: string | undefined): Format {
  if (text !== null) {
    if ((FORMATS as readonly string[]).includes(text)) return text as Format
    throw new HttpError(400, `format must be one of ${FORMATS.join(', ')}, not "${text}"`)
  }
  // Accept: the first listed type we produce wins; */* and anything unknown fall back to JSON.
  for (const part of (accept ?? '').split(',')) {
    const type = part.split(';')[0].trim().toLowerCase()
    const found = (Object.entries(MEDIA) as Array<[Format, string]>).find(([, media]) => media === type)
    if (found) return found[0]
    if (type === 'application/parquet') return 'parquet'
  }
  return 'json'
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url')
}

function decodeCursor(text: string, port: ServedPort): Cursor {
  const bad = () => new HttpError(400, `cursor "${text.slice(0, 40)}" is not one this runtime issued; use the "next" cursor of the previous page, or leave cursor out to start at the first page`)
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
  } catch {
    throw bad()
  }
  if (parsed === null || typeof parsed !== 'object') throw bad()
  const c = parsed as Record<string, unknown>
  if (port.state.primaryKey.length > 0) {
    if (!Array.isArray(c.key) || c.key.length !== port.state.primaryKey.length || !c.key.every((v) => typeof v === 'string')) throw bad()
    return {key: c.key as string[]}
  }
  if (typeof c.offset !== 'number' || !Number.isInteger(c.offset) || c.offset < 0 || typeof c.version !== 'string') throw bad()
  return {offset: c.offset, version: c.version}
}

const JSON_TYPES = new Set<RuntimeColumn['type']>(['object', 'json', 'array'])

/**
 * SQL type a text value from a URL is cast to, to compare it with a column: the column's own
 * type (the engine's table), except JSON, which is compared as its text.
 */
function castType(type: RuntimeColumn['type']): string {
  return JSON_TYPES.has(type) ? 'VARCHAR' : duckdbType(type)
}

const NUMERIC = new Set(['integer', 'long', 'number', 'decimal', 'boolean'])

export interface PortSelect {
  /** Values from the request are inlined as quoted literals (COPY … TO takes no parameters). */
  sql: string
  /** How many leading columns of the result are the rendered row (1) before the key columns. */
  keyColumns: number
}

/**
 * The SELECT for one page. Each result row is the client's row already rendered as one text
 * value (a JSON object, or a CSV line) by DuckDB itself, followed by the primary key as text when
 * the port pages by key: the server only concatenates, so a page costs one pass in DuckDB.
 * For parquet the rows are the plain projected columns (DuckDB writes the file).
 */
export function portSelect(port: ServedPort, query: PortQuery, relation: string): PortSelect {
  const where: string[] = []
  for (const f of query.filters) {
    const column = JSON_TYPES.has(f.column.type) ? `CAST(${quoteIdent(f.column.name)} AS VARCHAR)` : quoteIdent(f.column.name)
    where.push(`${column} = CAST(${quoteLiteral(f.value)} AS ${castType(f.column.type)})`)
  }
  const pk = port.state.primaryKey.map((name) => port.state.columns.find((c) => c.name === name)!)
  const order = (pk.length > 0 ? pk : port.state.columns).map((c) => `${quoteIdent(c.name)} ASC NULLS FIRST`).join(', ')
  if (query.cursor && 'key' in query.cursor) where.push(keyAfter(pk, query.cursor.key))
  const offset = query.cursor && 'offset' in query.cursor ? ` OFFSET ${query.cursor.offset}` : ''
  const keys = pk.map((c) => `CAST(${quoteIdent(c.name)} AS VARCHAR) AS ${quoteIdent(`__key_${c.name}`)}`)
  let rendered: string
  if (query.format === 'parquet') rendered = query.columns.map((c) => quoteIdent(c.name)).join(', ')
  else if (query.format === 'csv') rendered = `concat_ws(',', ${query.columns.map(csvCell).join(', ')}) AS line`
  else rendered = `CAST(to_json(struct_pack(${query.columns.map((c) => `${quoteIdent(c.name)} := ${quoteIdent(c.name)}`).join(', ')})) AS VARCHAR) AS line`
  const select = query.format === 'parquet' ? [rendered] : [rendered, ...keys]
  // The page is cut first and rendered after: rendering (to_json, CSV quoting) then costs one
  // page of rows, not the whole state the top-N reads.
  const page = `SELECT * FROM ${relation}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ${query.limit}${offset}`
  const sql = `SELECT ${select.join(', ')} FROM (${page}) AS __page ORDER BY ${order}`
  return {sql, keyColumns: query.format === 'parquet' ? 0 : keys.length}
}

/** `(k1, k2) > (v1, v2)` spelled out, since the cursor values arrive as text and must be cast. */
function keyAfter(pk: RuntimeColumn[], key: string[]): string {
  const terms: string[] = []
  for (let i = 0; i < pk.length; i++) {
    const parts: string[] = []
    for (let j = 0; j < i; j++) {
      parts.push(`${quoteIdent(pk[j].name)} = CAST(${quoteLiteral(key[j])} AS ${castType(pk[j].type)})`)
    }
    parts.push(`${quoteIdent(pk[i].name)} > CAST(${quoteLiteral(key[i])} AS ${castType(pk[i].type)})`)
    terms.push(`(${parts.join(' AND ')})`)
  }
  return `(${terms.join(' OR ')})`
}

/** One CSV cell: empty for NULL, quoted (RFC 4180) only when the text needs it. */
function csvCell(c: RuntimeColumn): string {
  const text = `CAST(${quoteIdent(c.name)} AS VARCHAR)`
  if (NUMERIC.has(c.type)) return `coalesce(${text}, '')`
  return `CASE WHEN ${quoteIdent(c.name)} IS NULL THEN '' WHEN regexp_matches(${text}, '[",\\r\\n]') THEN '"' || replace(${text}, '"', '""') || '"' ELSE ${text} END`
}

export function csvHeader(columns: RuntimeColumn[]): string {
  return columns.map((c) => (/[",\r\n]/.test(c.name) ? `"${c.name.replaceAll('"', '""')}"` : c.name)).join(',')
}
