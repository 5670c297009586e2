import {createWriteStream} from 'node:fs'
import {mkdtemp, open, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {ROW_COLUMN, compareColumns, enforceSchema} from '../../engine/enforce.js'
import {Engine} from '../../engine/session.js'
import {rejectedStateTable} from '../../engine/types.js'
import type {StateWrite} from '../../storage/driver.js'
import {HttpError} from '../errors.js'
import type {IngestPort} from '../model.js'
import {newRunId} from '../runs.js'
import type {RequestContext} from '../server.js'
import {type RuntimeStore, quoteIdent, quoteLiteral} from '../store.js'
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
  /** The first rejected rows (1-based row of the push; null when the reason is the push's columns). */
  rejections: Array<{row: number | null; reason: string}>
}

/** The pushes tables this process made sure exist, per store (never dropped while it serves). */
const madeTables = new WeakMap<RuntimeStore, Set<string>>()

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
    // Once per storage and process: a push is a few dozen milliseconds, each statement counts.
    const existing = madeTables.get(runtime.store) ?? new Set<string>()
    madeTables.set(runtime.store, existing)
    if (!existing.has(pushes)) {
      await c.run(`CREATE TABLE IF NOT EXISTS ${pushes} (key VARCHAR PRIMARY KEY, port VARCHAR, status INTEGER, body VARCHAR, pushed_at TIMESTAMP)`)
      existing.add(pushes)
    }
    if (key !== undefined) {
      const seen = (await c.runAndReadAll(`SELECT port, status, body FROM ${pushes} WHERE key = ${quoteLiteral(key)}`)).getRowObjectsJS() as Array<{port: string; status: number; body: string}>
      if (seen.length > 0) {
        if (seen[0].port !== port.name) throw new HttpError(422, `Idempotency-Key "${key}" was already used for a push to input port ${seen[0].port}; use a new key for each push`)
        return {status: seen[0].status, body: JSON.parse(seen[0].body), replayed: true}
      }
    }
    const id = newRunId()
    const name = `push_${id.replaceAll('-', '_')}`
    const engine = Engine.borrow(c, path.dirname(file))
    const made: string[] = []
    try {
      try {
        await engine.run(`CREATE TEMP TABLE ${name} AS SELECT row_number() OVER () AS ${ROW_COLUMN}, * FROM ${await reader(format, file)}`)
        made.push(`TABLE ${name}`)
      } catch (error) {
        // DuckDB's first lines say what and where (CSV: the line number and the line itself).
        const detail = (error as Error).message.split('\n').filter((l) => l.trim()).slice(0, 3).join('; ').replaceAll(file, 'the body')
        throw new HttpError(400, `the ${format} body cannot be read: ${detail}`)
      }
      const result = await check(engine, port, name, id, made)
      const status = result.accepted === 0 ? 422 : 200
      const body = status === 200 ? result : {error: {message: `no row of the push was accepted (${result.rejected} rejected); the first reasons are listed in rejections`, status, ...result}}
      await engine.run('BEGIN TRANSACTION')
      try {
        if (result.staged) {
          await publish(engine, runtime.relationOf(port.state), port, result.staged)
          // A Postgres or S3 storage gets the state as upserted here, before the copy commits it.
          const {mirror} = runtime.options
          if (mirror?.mirrors(storage)) {
            const writes: StateWrite[] = [{state: port.state.engine, staged: runtime.relationOf(port.state), mode: 'replace'}]
            if (result.staged.rowsRejected > 0) writes.push({state: rejectedStateTable(port.state.engine), staged: result.staged.rejected, mode: 'append'})
            await mirror.writeThrough(engine, storage, writes, id)
          }
        }
        if (key !== undefined) await engine.run(`INSERT INTO ${pushes} VALUES (${quoteLiteral(key)}, ${quoteLiteral(port.name)}, ${status}, ${quoteLiteral(JSON.stringify(body))}, now())`)
        await engine.run('COMMIT')
      } catch (error) {
        await engine.run('ROLLBACK').catch(() => {})
        throw error
      }
      runtime.dataChanged(storage)
      runtime.metrics.rowsIngested.inc({port: port.name}, result.accepted)
      if (result.rejected > 0) runtime.metrics.rowsRejected.inc({port: port.name}, result.rejected)
      return {status, body, replayed: false}
    } finally {
      for (const m of made.reverse()) await engine.run(`DROP ${m.replace(' ', ' IF EXISTS ')}`).catch(() => {})
    }
  })
}

interface Checked extends PushResult {
  /** The engine's views of the accepted and the rejected rows (undefined when the columns are wrong). */
  staged?: {ok: string; rejected: string; rowsRejected: number}
}

/**
 * Checks the pushed rows against the input's state with the engine's schema enforcement (casts,
 * required, primary key and unique: a key repeated within the push keeps its first row). A field
 * the state has and the push omits is empty (NULL), so optional fields may be left out; a field
 * the state does not have rejects every row.
 */
async function check(engine: Engine, port: IngestPort, staged: string, id: string, made: string[]): Promise<Checked> {
  const present = new Set((await engine.rows<{column_name: string}>(`DESCRIBE ${staged}`)).map((d) => d.column_name))
  const extra = compareColumns([...present], port.state.engine)?.extra ?? []
  if (extra.length > 0) {
    const reason = `unknown field${extra.length > 1 ? 's' : ''} ${extra.join(', ')}: input port ${port.name} takes ${port.state.columns.map((c) => c.name).join(', ')}`
    const total = await engine.count(`SELECT count(*) FROM ${staged}`)
    return {port: port.name, push: id, accepted: 0, rejected: total, rejections: [{row: null, reason}]}
  }
  const shaped = `${staged}_shaped`
  const columns = port.state.engine.columns.map((c) => (present.has(c.name) ? quoteIdent(c.name) : `CAST(NULL AS ${c.type}) AS ${quoteIdent(c.name)}`))
  await engine.run(`CREATE TEMP VIEW ${shaped} AS SELECT ${ROW_COLUMN}, ${columns.join(', ')} FROM ${staged}`)
  made.push(`VIEW ${shaped}`)
  const enforced = await enforceSchema(engine, shaped, port.state.engine, staged, {rowLabel: `'row ' || CAST(${ROW_COLUMN} AS VARCHAR)`, transition: `push:${port.name}`, run: id})
  made.push(`TABLE _dm_chk_${staged}`, `VIEW ${enforced.staged}`, `VIEW ${enforced.rejected}`)
  const reasons = enforced.rowsRejected === 0 ? [] : await engine.rows<{r: string}>(`SELECT _reason AS r FROM ${enforced.rejected} LIMIT ${LISTED}`)
  const rejections = reasons.map(({r}) => {
    const m = /^row (\d+): (.*)$/s.exec(r)
    return m ? {row: Number(m[1]), reason: m[2]} : {row: null, reason: r}
  })
  rejections.sort((a, b) => (a.row ?? 0) - (b.row ?? 0))
  return {port: port.name, push: id, accepted: enforced.rowsOut, rejected: enforced.rowsRejected, rejections, staged: {ok: enforced.staged, rejected: enforced.rejected, rowsRejected: enforced.rowsRejected}}
}

/**
 * Ingested rows accumulate (§7): the accepted rows replace the published rows of their primary
 * key and are added; the rejected ones go to `<state>__rejected`.
 */
async function publish(engine: Engine, relation: string, port: IngestPort, staged: NonNullable<Checked['staged']>): Promise<void> {
  const table = port.state.engine
  const names = table.columns.map((col) => quoteIdent(col.name)).join(', ')
  await engine.run(`CREATE TABLE IF NOT EXISTS ${relation} (${table.columns.map((col) => `${quoteIdent(col.name)} ${col.type}`).join(', ')})`)
  const pk = table.primaryKey.map(quoteIdent).join(', ')
  if (pk) await engine.run(`DELETE FROM ${relation} WHERE (${pk}) IN (SELECT (${pk}) FROM ${staged.ok})`)
  await engine.run(`INSERT INTO ${relation} (${names}) SELECT ${names} FROM ${staged.ok}`)
  if (staged.rowsRejected === 0) return
  const rejected = relation.replace(/"$/, '__rejected"')
  await engine.run(`CREATE TABLE IF NOT EXISTS ${rejected} AS SELECT * FROM ${staged.rejected} LIMIT 0`)
  await engine.run(`INSERT INTO ${rejected} BY NAME SELECT * FROM ${staged.rejected}`)
}
