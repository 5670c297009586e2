import {createWriteStream} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import {join} from 'node:path'

import {ExitCode, UserError} from '../errors.js'
import type {Pulled} from './http.js'

/** What an InputPort of source type `product` asks for, and what the consumer expects of it. */
export interface ProductSource {
  /** The input port being fed (for messages and the scratch file name). */
  input: string
  /** The producer runtime's base URL, e.g. http://127.0.0.1:8080 or http://orders-runtime.sales.svc:8080. */
  baseUrl: string
  product?: string
  /** The producer's output port. */
  port: string
  /** `source.contract`: the name of the producer's DataContract the consumer was written against. */
  contract?: string
  /** The id and version of that contract as the consumer knows it (its own copy), when it has one. */
  expected?: {id: string | null; version: string | null}
  token?: string
  /** Rows per page pulled (default: the runtime's largest page). */
  pageSize?: number
}

/** Rows per page pulled: the runtime's largest page. */
const PAGE = 100_000
const TRAILER = 'dappmesh-next-cursor'

function major(version: string | null | undefined): string | undefined {
  return version ? /^v?(\d+)/.exec(version)?.[1] : undefined
}

/**
 * Reads another product's output port through its runtime (DESIGN §7): checks first that the port
 * serves the contract the consumer names (and, when the consumer has its own copy, the same
 * contract id and major version), then pulls every page as NDJSON into the run's scratch
 * directory, following the runtime's cursor, streaming (no page is held in memory).
 */
export async function pullProductPort(source: ProductSource, scratchDir: string, signal?: AbortSignal): Promise<Pulled> {
  const base = source.baseUrl.replace(/\/+$/, '')
  const label = `input ${source.input} (product ${source.product ?? '?'} port ${source.port} at ${base})`
  // What the producer's runtime answers (GET /v1/ports); read as it says it is.
  const listed = (await getJson(`${base}/v1/ports`, source, label, signal)) as {ports?: Array<{name: string; contract: {name: string; id: string | null; version: string | null} | null}>}
  const port = listed.ports?.find((p) => p.name === source.port)
  if (!port) {
    // A runtime lists only the ports its caller may read: a port missing may be one not granted.
    const access = source.token ? ' that this consumer may read' : ''
    throw new UserError(`${label}: the producer serves no port ${source.port}${access}`, {
      suggestions: [
        `Its ports${access}: ${(listed.ports ?? []).map((p) => p.name).join(', ') || 'none'}. Fix source.port of InputPort ${source.input}.`,
        ...(source.token ? [`Or ask the producer for a DataRole that grants this consumer's ServiceAccount read on ${source.port}.`] : []),
      ],
    })
  }
  checkProducerContract(label, port.contract, source)
  const file = join(scratchDir, `${source.input}.ndjson`)
  const out = createWriteStream(file)
  try {
    let cursor: string | undefined
    do {
      const url = `${base}/v1/ports/${encodeURIComponent(source.port)}?format=ndjson&limit=${source.pageSize ?? PAGE}${cursor ? `&cursor=${cursor}` : ''}`
      cursor = await pageInto(url, out, source, label, signal)
    } while (cursor)
  } finally {
    await new Promise<void>((resolve) => out.end(() => resolve()))
  }
  return {file, format: 'ndjson'}
}

/**
 * Refuses a producer port that does not serve `source.contract` or, when the consumer keeps its
 * own copy of it, serves another contract id or major version (what the port lists, or what the
 * mesh catalog says of it).
 */
export function checkProducerContract(label: string, got: {name: string; id: string | null; version: string | null} | null, source: Pick<ProductSource, 'contract' | 'expected' | 'input'>): void {
  if (source.contract === undefined) return
  if (!got || got.name !== source.contract) {
    throw new UserError(`${label}: the port serves contract ${got ? `${got.name} (${got.id}@${got.version})` : 'none'}, not ${source.contract}`, {suggestions: [`Set source.contract of InputPort ${source.input} to the producer's contract, or ask the producer to serve ${source.contract}.`]})
  }
  const want = source.expected
  if (want && ((want.id !== null && want.id !== got.id) || (major(want.version) !== undefined && major(want.version) !== major(got.version)))) {
    throw new UserError(`${label}: the producer's contract ${got.name} is ${got.id}@${got.version}, the consumer expects ${want.id}@${want.version} (same id and major version)`, {
      suggestions: ['Update the consumer to the producer\'s contract version (a new major version breaks consumers), or read an older port.'],
    })
  }
}

function request(url: string, source: ProductSource, label: string, signal: AbortSignal | undefined): Promise<http.IncomingMessage> {
  const parsed = new URL(url)
  const transport = parsed.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const req = transport.get(parsed, {headers: {accept: 'application/json', ...(source.token ? {authorization: `Bearer ${source.token}`} : {})}, signal}, resolve)
    req.on('error', (error) => {
      if (signal?.aborted) return reject(error)
      reject(new UserError(`${label}: the producer's runtime is unreachable (${(error as NodeJS.ErrnoException).code ?? error.message})`, {
        exit: ExitCode.unreachable,
        suggestions: ['Start the producer\'s runtime (dappmesh serve), or give its URL with --input PORT=http://HOST:PORT.'],
      }))
    })
  })
}

async function refused(res: http.IncomingMessage, label: string): Promise<UserError> {
  let text = ''
  for await (const chunk of res) text += chunk
  let message = text.slice(0, 300)
  try {
    message = JSON.parse(text).error?.message ?? message
  } catch {
    // not JSON: the text itself
  }
  return new UserError(`${label}: the producer answered ${res.statusCode}: ${message}`, {
    suggestions: res.statusCode === 401 || res.statusCode === 403 ? ['The producer checks tokens: a DataRole of it must grant this consumer read on the port.'] : [],
  })
}

async function getJson(url: string, source: ProductSource, label: string, signal: AbortSignal | undefined): Promise<unknown> {
  const res = await request(url, source, label, signal)
  if (res.statusCode !== 200) throw await refused(res, label)
  let text = ''
  for await (const chunk of res) text += chunk
  return JSON.parse(text)
}

/** Appends one NDJSON page to `out`; returns the next page's cursor (from the trailer), if any. */
async function pageInto(url: string, out: NodeJS.WritableStream, source: ProductSource, label: string, signal: AbortSignal | undefined): Promise<string | undefined> {
  const res = await request(url, source, label, signal)
  if (res.statusCode !== 200) throw await refused(res, label)
  for await (const chunk of res) {
    if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve))
  }
  return res.trailers[TRAILER] || undefined
}
