import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {pipeline} from 'node:stream/promises'

import {HttpError} from '../errors.js'
import type {ServedPort} from '../model.js'
import {type Cursor, type PortQuery, csvHeader, encodeCursor, mediaType, parsePortQuery, portSelect} from '../port-query.js'
import type {RequestContext} from '../server.js'
import {quoteLiteral} from '../store.js'
import {writeChunk} from '../stream.js'

/** Trailer carrying the next page's cursor on streamed CSV, NDJSON and Parquet answers. */
export const NEXT_CURSOR_TRAILER = 'Dappmesh-Next-Cursor'

export function findPort(ctx: RequestContext, name: string): ServedPort {
  const port = ctx.runtime.model.ports.get(name)
  if (!port) {
    const known = [...ctx.runtime.model.ports.keys()]
    throw new HttpError(404, `no output port "${name}" in product ${ctx.runtime.model.product}; its ports are ${known.join(', ') || '(none)'}`, {port: name})
  }
  return port
}

/** GET /v1/ports: each output port with its contract, schema, row count and last run. */
export async function listPorts(ctx: RequestContext): Promise<void> {
  const {runtime} = ctx
  const ports = []
  for (const port of runtime.model.ports.values()) {
    if (!(await ctx.allowed({outputPort: port.name, storage: runtime.storageOf(port.state.ref), access: 'read'}))) continue
    ports.push({
      name: port.name,
      type: port.type,
      schema: port.schema,
      contract: port.contract ? {name: port.contract.name, id: port.contract.id, version: port.contract.version} : null,
      rows: await runtime.rowCount(port.state),
      lastRun: runtime.runs.lastOf(port.state.ref),
      links: {rows: `/v1/ports/${port.name}`, contract: `/v1/ports/${port.name}/contract`, schema: `/v1/ports/${port.name}/schema`},
    })
  }
  ctx.json(200, {product: runtime.model.product, ports})
}

export async function portContract(ctx: RequestContext, name: string): Promise<void> {
  const port = findPort(ctx, name)
  await ctx.require({outputPort: port.name, storage: ctx.runtime.storageOf(port.state.ref), access: 'read'})
  if (!port.contract) throw new HttpError(404, `output port ${port.name} has no contract`, {port: port.name})
  ctx.json(200, port.contract.document)
}

export async function portSchema(ctx: RequestContext, name: string): Promise<void> {
  const port = findPort(ctx, name)
  await ctx.require({outputPort: port.name, storage: ctx.runtime.storageOf(port.state.ref), access: 'read'})
  ctx.json(200, {port: port.name, schema: port.schema, primaryKey: port.state.primaryKey, fields: port.state.columns})
}

/**
 * GET /v1/ports/<port>: one page of the served state, streamed from DuckDB chunk by chunk (a page
 * of 100,000 rows, or a client reading slowly, never holds more than a chunk in memory here).
 */
export async function portRows(ctx: RequestContext, name: string): Promise<void> {
  const {runtime, req, res, url} = ctx
  const port = findPort(ctx, name)
  const storage = runtime.storageOf(port.state.ref)
  await ctx.require({outputPort: port.name, storage, access: 'read'})
  const query = parsePortQuery(port, url.searchParams, req.headers.accept)
  const version = runtime.store.version(storage)
  if (query.cursor && 'offset' in query.cursor && query.cursor.version !== version) {
    throw new HttpError(409, `the data of port ${port.name} changed since this cursor was issued (port has no primary key, so pages are positions in one version of the data); start again without cursor`, {port: port.name})
  }
  const etag = `"${createHash('sha1').update(`${version}\0${port.name}\0${query.format}\0${url.search}`).digest('base64url')}"`
  res.setHeader('ETag', etag)
  res.setHeader('Cache-Control', 'no-cache')
  if (matches(req.headers['if-none-match'], etag)) {
    res.writeHead(304)
    res.end()
    return
  }
  const relation = runtime.relationOf(port.state)
  if (!(await runtime.tableExists(port.state))) {
    // Never published: an empty page, not an error (a fresh product has ports before data).
    await sendEmpty(ctx, query)
    return
  }
  const select = portSelect(port, query, relation)
  res.setHeader('Content-Type', mediaType(query.format))
  if (query.format === 'parquet') {
    await sendParquet(ctx, port, query, select.sql, relation, version)
    return
  }
  res.setHeader('Trailer', NEXT_CURSOR_TRAILER)
  let count = 0
  let lastKey: string[] | undefined
  await runtime.store.with(async (c) => {
    // The first chunk is fetched before the status goes out: DuckDB reports a bad cast (a filter
    // value of the wrong type) only when rows are fetched, and that must still be a 400.
    let result
    let chunk
    try {
      result = await c.stream(select.sql)
      chunk = await result.fetchChunk()
    } catch (error) {
      throw queryError(error)
    }
    res.writeHead(200)
    if (query.format === 'json') await writeChunk(res, '{"rows":[')
    if (query.format === 'csv') await writeChunk(res, `${csvHeader(query.columns)}\n`)
    const separator = query.format === 'json' ? ',' : '\n'
    for (; chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      if (res.destroyed) return
      const lines = chunk.getColumnValues(0) as string[]
      const text = lines.join(separator)
      await writeChunk(res, count > 0 && query.format === 'json' ? `,${text}` : query.format === 'json' ? text : `${text}\n`)
      count += chunk.rowCount
      if (select.keyColumns > 0) {
        lastKey = []
        for (let i = 1; i <= select.keyColumns; i++) lastKey.push(String(chunk.getColumnVector(i).getItem(chunk.rowCount - 1)))
      }
    }
  })
  if (res.destroyed) return
  const next = nextCursor(port, query, count, lastKey, version)
  runtime.metrics.rowsServed.inc({port: port.name}, count)
  if (query.format === 'json') await writeChunk(res, `],"next":${next ? JSON.stringify(next) : 'null'}}`)
  if (next) res.addTrailers({[NEXT_CURSOR_TRAILER]: next})
  res.end()
}

function nextCursor(port: ServedPort, query: PortQuery, count: number, lastKey: string[] | undefined, version: string): string | undefined {
  if (count < query.limit) return undefined
  let cursor: Cursor
  if (port.state.primaryKey.length > 0) {
    if (!lastKey) return undefined
    cursor = {key: lastKey}
  } else {
    cursor = {offset: (query.cursor && 'offset' in query.cursor ? query.cursor.offset : 0) + count, version}
  }
  return encodeCursor(cursor)
}

/** Parquet needs the whole page to write its footer: DuckDB writes it to a temp file, which is streamed. */
async function sendParquet(ctx: RequestContext, port: ServedPort, query: PortQuery, sql: string, relation: string, version: string): Promise<void> {
  const {runtime, res} = ctx
  const dir = await mkdtemp(path.join(tmpdir(), 'dappmesh-page-'))
  try {
    const file = path.join(dir, 'page.parquet')
    let keys: string[][] = []
    try {
      await runtime.store.run(`COPY (${sql}) TO ${quoteLiteral(file)} (FORMAT parquet)`)
      if (port.state.primaryKey.length > 0) {
        const keySelect = portSelect(port, {...query, format: 'ndjson'}, relation)
        const rows = await runtime.store.rows<Record<string, unknown>>(`SELECT * EXCLUDE (line) FROM (${keySelect.sql}) OFFSET ${query.limit - 1}`)
        keys = rows.map((r) => Object.values(r).map(String))
      }
    } catch (error) {
      throw queryError(error)
    }
    const count = port.state.primaryKey.length > 0 ? (keys.length > 0 ? query.limit : 0) : Number((await runtime.store.rows<{n: bigint}>(`SELECT count(*) AS n FROM read_parquet(${quoteLiteral(file)})`))[0].n)
    const next = nextCursor(port, query, count, keys.at(-1), version)
    if (next) res.setHeader(NEXT_CURSOR_TRAILER, next)
    res.writeHead(200)
    await pipeline(createReadStream(file), res)
    runtime.metrics.rowsServed.inc({port: port.name}, count)
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

async function sendEmpty(ctx: RequestContext, query: PortQuery): Promise<void> {
  const {res} = ctx
  res.setHeader('Content-Type', mediaType(query.format))
  if (query.format === 'json') return void res.end('{"rows":[],"next":null}')
  if (query.format === 'csv') return void res.end(`${csvHeader(query.columns)}\n`)
  if (query.format === 'ndjson') return void res.end()
  // An empty Parquet file with the page's columns: DuckDB writes it from a zero-row select.
  const dir = await mkdtemp(path.join(tmpdir(), 'dappmesh-page-'))
  try {
    const file = path.join(dir, 'page.parquet')
    const cols = query.columns.map((c) => `CAST(NULL AS VARCHAR) AS "${c.name.replaceAll('"', '""')}"`).join(', ')
    await ctx.runtime.store.run(`COPY (SELECT ${cols} LIMIT 0) TO ${quoteLiteral(file)} (FORMAT parquet)`)
    res.writeHead(200)
    await pipeline(createReadStream(file), res)
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false
  return header.split(',').some((t) => {
    const v = t.trim()
    return v === '*' || v === etag || v === `W/${etag}`
  })
}

/** A filter or cursor value that does not cast to its column's type is the caller's mistake: 400. */
function queryError(error: unknown): Error {
  const message = (error as Error).message ?? String(error)
  if (/Conversion Error|Could not convert|Invalid Input Error/i.test(message)) {
    return new HttpError(400, `a filter or cursor value does not match its field's type: ${message.split('\n')[0]}`)
  }
  return error as Error
}
