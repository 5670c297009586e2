import {createWriteStream} from 'node:fs'
import {mkdtemp, open, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import type {DuckDBConnection} from '@duckdb/node-api'

import {HttpError} from '../errors.js'
import type {IngestPort} from '../model.js'
import {castType} from '../port-query.js'
import {newRunId} from '../runs.js'
import type {RequestContext} from '../server.js'
import {quoteIdent, quoteLiteral} from '../store.js'
import {writeChunk} from '../stream.js'

export const PUSH_FORMATS = ['ndjson', 'json', 'csv', 'parquet'] as const
export type PushFormat = (typeof PUSH_FORMATS)[number]

/** Idempotency keys, with the answer they got, kept in the storage beside the rows they landed. */
const PUSHES_TABLE = '__dappmesh_pushes'
/** How many rejected rows a push answer lists (all of them are in `<state>__rejected`). */
const LISTED = 100

const TYPES: Record<string, PushFormat> = {
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'application/json': 'json',
  'text/csv': 'csv',
  'application/vnd.apache.parquet': 'parquet',
  'application/parquet': 'parquet',
}

export interface PushResult {
  port: string
  push: string
  accepted: number
  rejected: number
  rejections: Array<{row: number; reason: string}>
}

/** One push at a time per storage: DuckDB has one writer, and a replayed key must see the first push's record. */
const locks = new Map<string, Promise<unknown>>()
async function serialized<T>(key: string, work: () => Promise<T>): Promise<T> {
  const before = locks.get(key) ?? Promise.resolve()
  const mine = before.catch(() => {}).then(work)
  locks.set(key, mine)
  try {
    return await mine
  } finally {
    if (locks.get(key) === mine) locks.delete(key)
  }
}

/**
 * POST /v1/inputs/<port>: rows pushed by a producer. The body is spooled to a temp file (never held
 * in memory, cut at --max-body), read by DuckDB in its format, checked row by row against the
 * input's state (columns, casts, required), and the rows that pass are upserted into the state
 * (a row whose primary key exists replaces it) in one transaction with the rejected rows and the
 * Idempotency-Key: a retried push lands once.
 */
export async function pushRows(ctx: RequestContext, name: string): Promise<void> {
  const {runtime, req, res} = ctx
  const port = runtime.model.inputs.get(name)
  if (!port) {
    const known = [...runtime.model.inputs.keys()]
    throw new HttpError(404, `no input port "${name}" in product ${runtime.model.product}; its input ports are ${known.join(', ') || '(none)'}`, {port: name})
  }
  const storage = runtime.storageOf(port.state.ref)
  await ctx.require({storage, access: 'write'})
  const format = pushFormat(ctx.url.searchParams.get('format'), req.headers['content-type'])
  const max = runtime.options.maxBody
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > max) {
    throw new HttpError(413, `the push is ${declared} bytes, more than this runtime accepts (${max}); send it in smaller batches, or start serve with a larger --max-body`, {limit: max}, {Connection: 'close'})
  }
  const key = header(req.headers['idempotency-key'])
  if (key !== undefined && (key.length === 0 || key.length > 200)) throw new HttpError(400, 'Idempotency-Key must be 1 to 200 characters')
  const dir = await mkdtemp(path.join(tmpdir(), 'dappmesh-push-'))
  try {
    const file = path.join(dir, `body.${format}`)
    await spool(ctx, file, max)
    const {status, body, replayed} = await serialized(storage, () => land(ctx, port, storage, file, format, key))
    if (replayed) res.setHeader('Idempotency-Replayed', 'true')
    ctx.json(status, body)
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

function pushFormat(param: string | null, contentType: string | undefined): PushFormat {
  if (param !== null) {
    if ((PUSH_FORMATS as readonly string[]).includes(param)) return param as PushFormat
    throw new HttpError(400, `format must be one of ${PUSH_FORMATS.join(', ')}, not "${param}"`)
  }
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase()
  const format = TYPES[type]
  if (!format) {
    throw new HttpError(415, `Content-Type "${type || '(none)'}" is not a format this runtime reads; send ${Object.keys(TYPES).join(', ')}, or add ?format=${PUSH_FORMATS.join('|')}`)
  }
  return format
}

/** Copies the body to `file`, refusing (413) as soon as it passes `max` bytes. */
async function spool(ctx: RequestContext, file: string, max: number): Promise<void> {
  const out = createWriteStream(file)
  let size = 0
  try {
    for await (const chunk of ctx.req) {
      size += (chunk as Buffer).length
      if (size > max) {
        // The rest of the body is not read: the connection closes after the answer.
        throw new HttpError(413, `the push is more than ${max} bytes, the most this runtime accepts; send it in smaller batches, or start serve with a larger --max-body`, {limit: max}, {Connection: 'close'})
      }
      await writeChunk(out, chunk as Buffer)
    }
  } finally {
    await new Promise<void>((resolve) => out.end(() => resolve()))
  }
  if (size === 0) throw new HttpError(422, 'the push has no body: send at least one row')
}

/**
 * The column names of a CSV's header line. DuckDB is then told them, with the dialect fixed
 * (comma, double quotes) rather than sniffed: a sniffer may take an unbalanced quote for data,
 * or drop ragged rows, where a push must fail and say which line is wrong.
 */
async function csvHeaderNames(file: string): Promise<string[]> {
  const handle = await open(file)
  try {
    const {buffer, bytesRead} = await handle.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, 0)
    const text = buffer.subarray(0, bytesRead).toString('utf8')
    const end = text.search(/\r?\n/)
    const line = end < 0 ? text : text.slice(0, end)
    const names: string[] = []
    for (const m of line.matchAll(/(?:^|,)(?:"((?:[^"]|"")*)"|([^,]*))/g)) names.push(m[1] === undefined ? m[2] : m[1].replaceAll('""', '"'))
    return names
  } finally {
    await handle.close()
  }
}

async function reader(format: PushFormat, file: string): Promise<string> {
  const f = quoteLiteral(file)
  switch (format) {
    case 'ndjson':
      return `read_json(${f}, format = 'newline_delimited')`
    case 'json':
      // A JSON array of objects, or a single object: DuckDB tells them apart.
      return `read_json(${f}, format = 'auto')`
    case 'csv': {
      // Every value as text: the checks below cast it, so a bad value is a rejected row, not a failed read.
      const names = await csvHeaderNames(file)
      const columns = names.map((n) => `${quoteLiteral(n)}: 'VARCHAR'`).join(', ')
      return `read_csv(${f}, header = true, auto_detect = false, columns = {${columns}}, delim = ',', quote = '"', escape = '"', strict_mode = true)`
    }
    case 'parquet':
      return `read_parquet(${f})`
  }
}

async function land(ctx: RequestContext, port: IngestPort, storage: string, file: string, format: PushFormat, key: string | undefined): Promise<{status: number; body: unknown; replayed: boolean}> {
  const {runtime} = ctx
  const pushes = `${quoteIdent(storage)}.main.${quoteIdent(PUSHES_TABLE)}`
  return runtime.store.with(async (c) => {
    await c.run(`CREATE TABLE IF NOT EXISTS ${pushes} (key VARCHAR PRIMARY KEY, port VARCHAR, status INTEGER, body VARCHAR, pushed_at TIMESTAMP)`)
    if (key !== undefined) {
      const seen = (await c.runAndReadAll(`SELECT port, status, body FROM ${pushes} WHERE key = ${quoteLiteral(key)}`)).getRowObjectsJS() as Array<{port: string; status: number; body: string}>
      if (seen.length > 0) {
        if (seen[0].port !== port.name) throw new HttpError(422, `Idempotency-Key "${key}" was already used for a push to input port ${seen[0].port}; use a new key for each push`)
        return {status: seen[0].status, body: JSON.parse(seen[0].body), replayed: true}
      }
    }
    const id = newRunId()
    const staged = `__push_${id.replaceAll('-', '_')}`
    try {
      try {
        await c.run(`CREATE TEMP TABLE ${staged} AS SELECT row_number() OVER () AS __row, * FROM ${await reader(format, file)}`)
      } catch (error) {
        // DuckDB's first lines say what and where (CSV: the line number and the line itself).
        const detail = (error as Error).message.split('\n').filter((l) => l.trim()).slice(0, 3).join('; ').replaceAll(file, 'the body')
        throw new HttpError(400, `the ${format} body cannot be read: ${detail}`)
      }
      const result = await check(c, port, staged, id)
      const status = result.accepted === 0 ? 422 : 200
      const body = status === 200 ? result : {error: {message: `no row of the push was accepted (${result.rejected} rejected); the first reasons are listed in rejections`, status, ...result}}
      await c.run('BEGIN TRANSACTION')
      try {
        await publish(c, runtime.relationOf(port.state), port, staged, id)
        if (key !== undefined) await c.run(`INSERT INTO ${pushes} VALUES (${quoteLiteral(key)}, ${quoteLiteral(port.name)}, ${status}, ${quoteLiteral(JSON.stringify(body))}, now())`)
        await c.run('COMMIT')
      } catch (error) {
        await c.run('ROLLBACK').catch(() => {})
        throw error
      }
      runtime.dataChanged(storage)
      runtime.metrics.rowsIngested.inc({port: port.name}, result.accepted)
      if (result.rejected > 0) runtime.metrics.rowsRejected.inc({port: port.name}, result.rejected)
      return {status, body, replayed: false}
    } finally {
      await c.run(`DROP TABLE IF EXISTS ${staged}`).catch(() => {})
      await c.run(`DROP TABLE IF EXISTS ${staged}_checked`).catch(() => {})
    }
  })
}

/**
 * Casts the staged rows to the state's columns and gives each row the first reason it breaks the
 * schema (an unknown or missing column, a value that does not cast, a missing required value),
 * into `<staged>_checked`.
 */
async function check(c: DuckDBConnection, port: IngestPort, staged: string, id: string): Promise<PushResult> {
  const described = (await c.runAndReadAll(`DESCRIBE ${staged}`)).getRowObjectsJS() as Array<{column_name: string; column_type: string}>
  const present = new Map(described.filter((d) => d.column_name !== '__row').map((d) => [d.column_name, d.column_type]))
  const known = new Set(port.state.columns.map((c) => c.name))
  const unknown = [...present.keys()].filter((n) => !known.has(n))
  const reasons: string[] = []
  if (unknown.length > 0) reasons.push(`WHEN true THEN ${quoteLiteral(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: input port ${port.name} takes ${[...known].join(', ')}`)}`)
  const casts: string[] = []
  const raws: string[] = []
  for (const col of port.state.columns) {
    const sourceType = present.get(col.name)
    const raw = sourceType === undefined ? 'CAST(NULL AS VARCHAR)' : quoteIdent(col.name)
    const target = castType(col.type)
    const isJson = col.type === 'object' || col.type === 'json' || col.type === 'array'
    const cast = sourceType === undefined ? `CAST(NULL AS ${isJson ? 'JSON' : target})` : isJson ? (sourceType === 'VARCHAR' ? `TRY_CAST(${raw} AS JSON)` : `to_json(${raw})`) : `TRY_CAST(${raw} AS ${target})`
    casts.push(`${cast} AS ${quoteIdent(col.name)}`)
    raws.push(`CAST(${raw} AS VARCHAR) AS ${quoteIdent(`__raw_${col.name}`)}`)
    if (sourceType !== undefined) reasons.push(`WHEN ${raw} IS NOT NULL AND ${cast} IS NULL THEN ${quoteLiteral(`field ${col.name}: `)} || CAST(${raw} AS VARCHAR) || ${quoteLiteral(` is not a ${col.type}`)}`)
    if (col.required) reasons.push(`WHEN ${cast} IS NULL THEN ${quoteLiteral(sourceType === undefined ? `field ${col.name} is required and the push has no such column` : `field ${col.name} is required`)}`)
  }
  const reason = reasons.length > 0 ? `CASE ${reasons.join(' ')} END` : 'CAST(NULL AS VARCHAR)'
  await c.run(`CREATE TEMP TABLE ${staged}_checked AS SELECT __row, ${casts.join(', ')}, ${raws.join(', ')}, ${reason} AS __reason FROM ${staged}`)
  const [counts] = (await c.runAndReadAll(`SELECT count(*) FILTER (WHERE __reason IS NULL) AS ok, count(*) FILTER (WHERE __reason IS NOT NULL) AS bad FROM ${staged}_checked`)).getRowObjectsJS() as Array<{ok: bigint; bad: bigint}>
  const rejections = (await c.runAndReadAll(`SELECT __row AS row, __reason AS reason FROM ${staged}_checked WHERE __reason IS NOT NULL ORDER BY __row LIMIT ${LISTED}`)).getRowObjectsJS() as Array<{row: bigint; reason: string}>
  return {port: port.name, push: id, accepted: Number(counts.ok), rejected: Number(counts.bad), rejections: rejections.map((r) => ({row: Number(r.row), reason: r.reason}))}
}

/** Upserts the accepted rows (the last row of a key in the push wins) and appends the rejected ones to `<state>__rejected`. */
async function publish(c: DuckDBConnection, relation: string, port: IngestPort, staged: string, id: string): Promise<void> {
  const cols = port.state.columns
  const names = cols.map((col) => quoteIdent(col.name)).join(', ')
  const types = cols.map((col) => `${quoteIdent(col.name)} ${col.type === 'object' || col.type === 'json' || col.type === 'array' ? 'JSON' : castType(col.type)}`).join(', ')
  const rejectedRelation = relation.replace(/"$/, '__rejected"')
  await c.run(`CREATE TABLE IF NOT EXISTS ${relation} (${types})`)
  const pk = port.state.primaryKey.map(quoteIdent)
  const accepted = `SELECT ${names} FROM ${staged}_checked WHERE __reason IS NULL${pk.length > 0 ? ` QUALIFY row_number() OVER (PARTITION BY ${pk.join(', ')} ORDER BY __row DESC) = 1` : ''}`
  if (pk.length > 0) await c.run(`DELETE FROM ${relation} WHERE (${pk.join(', ')}) IN (SELECT (${pk.join(', ')}) FROM ${staged}_checked WHERE __reason IS NULL)`)
  await c.run(`INSERT INTO ${relation} (${names}) ${accepted}`)
  await c.run(`CREATE TABLE IF NOT EXISTS ${rejectedRelation} (${cols.map((col) => `${quoteIdent(col.name)} VARCHAR`).join(', ')}, _reason VARCHAR, _transition VARCHAR, _run VARCHAR)`)
  await c.run(`INSERT INTO ${rejectedRelation} SELECT ${cols.map((col) => quoteIdent(`__raw_${col.name}`)).join(', ')}, __reason, 'push:${port.name.replaceAll("'", "''")}', ${quoteLiteral(id)} FROM ${staged}_checked WHERE __reason IS NOT NULL`)
}
