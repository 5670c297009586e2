import {readFile} from 'node:fs/promises'
import tls from 'node:tls'

import {ClusterUnreachableError} from '../errors.js'
import {type Authentication, Credentials} from './credentials.js'
import {Http1Pool, type Http1Response} from './http1.js'
import type {LoadedKubeConfig} from './kubeconfig.js'
import type {KubeList, KubeObject, KubeStatus, WatchEvent} from './objects.js'
import {TokenBucket} from './rate-limit.js'
import {unreachable} from './unreachable.js'

export type {WatchEvent} from './objects.js'

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly body: KubeStatus | string | undefined,
  ) {
    super(message)
    this.name = 'KubeApiError'
  }
}

/** A watch that received nothing, not even a bookmark, for its idle timeout: the connection is presumed dead. */
export class WatchIdleError extends Error {
  constructor(readonly idleMs: number) {
    super(`the watch received nothing for ${Math.round(idleMs / 1000)}s`)
    this.name = 'WatchIdleError'
  }
}

/** A write refused by the client itself: this process may not write now (it is not, or no longer surely, the leader). */
export class WriteRefusedError extends Error {
  constructor(reason: string) {
    super(`write refused: ${reason}`)
    this.name = 'WriteRefusedError'
  }
}

/**
 * Asked before every write (any method but GET) and before each retry of one: how many ms the
 * write may still take, or throw WriteRefusedError. A leader answers the time left until its
 * renew deadline, so no write of its can land after it may have lost the lease.
 */
export type WriteGate = () => number

export interface RequestOptions {
  body?: unknown
  contentType?: string
  query?: Record<string, string | number | boolean | undefined>
  signal?: AbortSignal
  /** how long the connection may stay silent before the request fails (exit 3) */
  timeoutMs?: number
  /** how often a "try again" answer (429, 503) is retried (default 12, about 30 s) */
  retries?: number
}

export interface KubeRestOptions {
  /** connections for requests at once (default 16); each watch has one of its own beside them */
  maxSockets?: number
  /** a client-side limit on requests: `qps` a second on average, `burst` at once (default: none) */
  rateLimit?: {qps: number; burst: number}
}

/**
 * How long one request may wait for the API server: a server that accepts connections and never
 * answers (overloaded, half-dead, a wrong port) must not hang a command for ever.
 * $DAPPMESH_REQUEST_TIMEOUT (seconds) overrides the default.
 */
export function requestTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const seconds = Number(env.DAPPMESH_REQUEST_TIMEOUT)
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 30_000
}

/**
 * How long a watch may receive nothing before it is presumed dead and restarted from its
 * resourceVersion. The API server sends a bookmark about every minute to a watch that asks for
 * them, so a live watch is never silent for long. $DAPPMESH_WATCH_IDLE_TIMEOUT (seconds) overrides it.
 */
export function watchIdleTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const seconds = Number(env.DAPPMESH_WATCH_IDLE_TIMEOUT)
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 150_000
}

/** Items per page of a list: a cluster with thousands of objects is read in pieces, not one huge answer. */
export const LIST_PAGE_SIZE = 500

const TIMEOUT_CODE = 'ETIMEDOUT'

interface Tls {
  ca?: Buffer
  rejectUnauthorized: boolean
  servername?: string
}

/** Where requests go, taken apart once from the kubeconfig's server URL. */
interface Endpoint {
  secure: boolean
  host: string
  port: number
  /** the server URL's path, without a trailing slash (usually empty) */
  prefix: string
}

/**
 * What the client and its gated views share and change: the connection pool for the client
 * certificate in use, and the headers made from the last credentials.
 */
interface Pool {
  current?: {cert: Buffer | undefined; connections: Http1Pool}
  /** pools of certificates no longer in use, closed when the client is */
  retired: Http1Pool[]
  auth?: Authentication
  headers?: Record<string, string | string[]>
}

const TIMEOUT_HINT = ' (set DAPPMESH_REQUEST_TIMEOUT to wait longer)'

/**
 * The one client dappmesh has for the Kubernetes REST API: credentials from the kubeconfig applied
 * per request (token files re-read, exec plugins re-run when their credential expires, one retry
 * after a 401), TLS from the kubeconfig, one kept-alive connection pool, a timeout on every
 * request, an idle timeout on watches, an optional client-side rate limit and write gate, JSON in
 * and out. dappmesh knows the paths of everything it touches, so it needs no discovery round-trips.
 */
export class KubeRest {
  /** set on a view made by `gated` */
  protected gate?: WriteGate

  private readonly pool: Pool = {retired: []}

  private constructor(
    readonly loaded: LoadedKubeConfig,
    readonly credentials: Credentials,
    private readonly endpoint: Endpoint,
    private readonly tls: Tls,
    private readonly maxSockets: number,
    private readonly limiter?: TokenBucket,
  ) {}

  static async create(loaded: LoadedKubeConfig, options: KubeRestOptions = {}): Promise<KubeRest> {
    const base = new URL(loaded.server)
    const cluster = loaded.cluster
    let ca: Buffer | undefined
    try {
      if (cluster['certificate-authority-data']) ca = Buffer.from(cluster['certificate-authority-data'], 'base64')
      else if (cluster['certificate-authority']) ca = await readFile(cluster['certificate-authority'])
    } catch (error) {
      throw new ClusterUnreachableError(`cannot read the certificate authority of context ${loaded.context}: ${(error as Error).message}`, ['fix certificate-authority of that cluster in the kubeconfig'], error)
    }
    const tls: Tls = {ca, rejectUnauthorized: !cluster['insecure-skip-tls-verify'], servername: cluster['tls-server-name']}
    const secure = base.protocol === 'https:'
    const endpoint: Endpoint = {
      secure,
      // An IPv6 literal is bracketed in a URL and bare in a connection's options.
      host: base.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: base.port ? Number(base.port) : secure ? 443 : 80,
      prefix: base.pathname.replace(/\/$/, ''),
    }
    const limiter = options.rateLimit ? new TokenBucket(options.rateLimit.qps, options.rateLimit.burst) : undefined
    return new KubeRest(loaded, new Credentials(loaded), endpoint, tls, options.maxSockets ?? 16, limiter)
  }

  /**
   * The same client (one pool, one rate limit) whose writes first ask `gate`: the way a leader
   * keeps every write of its loops inside the time it surely holds the lease.
   */
  gated(gate: WriteGate): this {
    const view = Object.create(this) as this
    view.gate = gate
    return view
  }

  /** Requests waiting for the client-side rate limit. */
  get throttled(): number {
    return this.limiter?.waiting ?? 0
  }

  close(): void {
    this.pool.current?.connections.destroy()
    for (const connections of this.pool.retired) connections.destroy()
    this.pool.retired = []
  }

  /** The request target: the server URL's path, the API path and the query, encoded once. */
  private target(path: string, query?: RequestOptions['query']): string {
    let target = this.endpoint.prefix + path
    if (query) {
      let separator = path.includes('?') ? '&' : '?'
      for (const key in query) {
        const value = query[key]
        if (value === undefined) continue
        target += `${separator}${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`
        separator = '&'
      }
    }
    return target
  }

  /**
   * The kept-alive connections for the credentials' client certificate (http1.ts). Its TLS context
   * (CA, certificate, key) is made once, not per connection. A new certificate (an exec plugin's)
   * gets new connections, and the old ones close as their requests end.
   */
  private connectionsFor(auth: Authentication): Http1Pool {
    const pool = this.pool
    if (pool.current && pool.current.cert === auth.cert) return pool.current.connections
    let secureContext: tls.SecureContext | undefined
    if (this.endpoint.secure) {
      try {
        secureContext = tls.createSecureContext({ca: this.tls.ca, cert: auth.cert, key: auth.key})
      } catch (error) {
        throw unreachable(this.loaded, error)
      }
    }
    const {secure, host, port} = this.endpoint
    const connections = new Http1Pool({secure, host, port, secureContext, rejectUnauthorized: this.tls.rejectUnauthorized, servername: this.tls.servername}, this.maxSockets)
    if (pool.current) {
      pool.current.connections.retire()
      pool.retired.push(pool.current.connections)
    }
    pool.current = {cert: auth.cert, connections}
    return connections
  }

  /** The headers every request carries, made once per credentials. */
  private headersFor(auth: Authentication): Record<string, string | string[]> {
    const pool = this.pool
    if (pool.auth !== auth || !pool.headers) {
      pool.auth = auth
      pool.headers = {...auth.headers, accept: 'application/json'}
    }
    return pool.headers
  }

  /** Open connections to the API server: those of watches, and the others (requests, idle ones). */
  get connections(): {watches: number; requests: number} {
    let watches = 0
    let requests = 0
    for (const pool of [this.pool.current?.connections, ...this.pool.retired]) {
      if (!pool) continue
      watches += pool.connections.long
      requests += pool.connections.capped
    }
    return {watches, requests}
  }

  private async send(method: string, path: string, options: RequestOptions, timeoutMs: number | undefined, timeoutHint = '', long = false): Promise<Http1Response> {
    const gated = method !== 'GET' ? this.gate : undefined
    // A refused write fails at once rather than waiting its turn first.
    gated?.()
    const limiter = this.limiter
    if (limiter && !limiter.tryTake()) await limiter.take()
    if (gated) {
      // Asked again after the rate limit's wait, which may have used up the time left.
      const left = gated()
      timeoutMs = timeoutMs === undefined ? left : Math.min(timeoutMs, left)
    }
    const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
    const auth = this.credentials.current() ?? (await this.credentials.authenticate())
    const connections = this.connectionsFor(auth)
    let headers = this.headersFor(auth)
    if (body !== undefined) headers = {...headers, 'content-type': options.contentType ?? 'application/json', 'content-length': String(Buffer.byteLength(body))}
    try {
      return await connections.request({
        method,
        target: this.target(path, options.query),
        headers,
        body,
        signal: options.signal,
        timeoutMs,
        timeoutMessage: timeoutMs === undefined ? undefined : `no answer within ${Math.round(timeoutMs / 1000)}s${timeoutHint}`,
        long,
      })
    } catch (error) {
      throw options.signal?.aborted || error instanceof WatchIdleError ? error : unreachable(this.loaded, error)
    }
  }

  /**
   * One request; a non-2xx answer becomes a KubeApiError carrying the server's own message.
   * "Try again" answers (429, 503: a new CRD's storage initializing, an overloaded server) are
   * retried with exponential backoff, honouring Retry-After, for up to about 30 seconds. A 401 is
   * retried once after the credentials are read again (a token rotated, an exec credential expired).
   */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    let delay = 100
    let reauthenticated = false
    const retries = options.retries ?? 12
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(method, path, options)
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 401) {
          if (!reauthenticated && this.credentials.refreshable) {
            reauthenticated = true
            this.credentials.invalidate()
            continue
          }
          // 401 is a kubeconfig problem (exit 3); 403 is RBAC, and the server's message names the verb and resource.
          throw unreachable(this.loaded, Object.assign(new Error('unauthorized'), {code: 401}))
        }
        const retryable = error instanceof KubeApiError && (error.status === 429 || error.status === 503)
        if (!retryable || attempt >= retries || options.signal?.aborted) throw error
        const body = (error as KubeApiError).body
        const after = Number(typeof body === 'object' ? body?.details?.retryAfterSeconds : undefined)
        await new Promise((resolve) => setTimeout(resolve, Number.isFinite(after) && after > 0 ? Math.min(after * 1000, 5000) : delay))
        delay = Math.min(delay * 2, 5000)
      }
    }
  }

  private async once<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const hint = options.timeoutMs === undefined ? TIMEOUT_HINT : ''
    const timeoutMs = options.timeoutMs ?? requestTimeoutMs()
    const res = await this.send(method, path, options, timeoutMs, hint)
    let data: Buffer
    try {
      data = await readBody(res)
    } catch (error) {
      // The server fell silent (or the connection broke) halfway through its answer.
      if (options.signal?.aborted) throw error
      throw unreachable(this.loaded, res.timedOut ? Object.assign(new Error(`the answer stopped for ${Math.round(timeoutMs / 1000)}s${hint}`), {code: TIMEOUT_CODE}) : ((error as Error).cause ?? error))
    }
    const text = data.toString('utf8')
    let parsed: unknown = text
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      // not JSON: keep the text for the error message
    }
    const status = res.statusCode ?? 0
    if (status >= 200 && status < 300) return parsed as T
    const statusBody = typeof parsed === 'object' && parsed !== null ? (parsed as KubeStatus) : undefined
    const message = statusBody?.message ? statusBody.message : `HTTP ${status} ${text.slice(0, 200)}`
    throw new KubeApiError(status, statusBody?.reason ?? '', message, statusBody ?? text)
  }

  get<T = unknown>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('GET', path, {query})
  }

  /** GET that answers undefined for 404. */
  async find<T = unknown>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path)
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return undefined
      throw error
    }
  }

  /**
   * A whole collection, read in pages of `pageSize` (limit and continue), so neither the server
   * nor this process holds one enormous answer. All pages are one consistent snapshot, at the
   * resourceVersion of the result. A continue token that expired (410, a long pause between pages)
   * makes it read the collection again in one piece, as client-go's pager does.
   */
  async list<T extends KubeObject = KubeObject>(path: string, query: RequestOptions['query'] = {}, pageSize = LIST_PAGE_SIZE): Promise<KubeList<T>> {
    let first: KubeList<T> | undefined
    const items: T[] = []
    let continueToken: string | undefined
    do {
      let page: KubeList<T>
      try {
        page = await this.get<KubeList<T>>(path, {...query, limit: pageSize, continue: continueToken})
      } catch (error) {
        if (continueToken && error instanceof KubeApiError && error.status === 410) return this.get<KubeList<T>>(path, query)
        throw error
      }
      first ??= page
      for (const item of page.items ?? []) items.push(item)
      continueToken = page.metadata?.continue || undefined
    } while (continueToken)
    return {apiVersion: first.apiVersion, kind: first.kind, metadata: {resourceVersion: first.metadata?.resourceVersion}, items}
  }

  /** Server-side apply of one object (field manager, optional dry run and forced ownership). */
  apply<T = unknown>(path: string, object: unknown, options: {fieldManager: string; force?: boolean; dryRun?: boolean}): Promise<T> {
    return this.request<T>('PATCH', path, {
      body: object,
      contentType: 'application/apply-patch+yaml',
      query: {fieldManager: options.fieldManager, force: options.force ? true : undefined, dryRun: options.dryRun ? 'All' : undefined, fieldValidation: 'Strict'},
    })
  }

  /**
   * DELETE with DeleteOptions in the body. The dry run goes in the body too: when a DELETE has a
   * body, the API server reads its options from the body alone and ignores the query string, so
   * `?dryRun=All` next to a body deletes for real.
   */
  delete<T = unknown>(path: string, options: {dryRun?: boolean; propagationPolicy?: 'Foreground' | 'Background' | 'Orphan'} = {}): Promise<T> {
    return this.request<T>('DELETE', path, {
      body: {kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: options.propagationPolicy ?? 'Background', ...(options.dryRun ? {dryRun: ['All']} : {})},
    })
  }

  /**
   * Streams watch events until the signal aborts or the server ends the stream; resolves then.
   * A stream silent for `idleTimeoutMs` (default watchIdleTimeoutMs()) rejects with
   * WatchIdleError: the caller watches again from its last resourceVersion. The caller re-lists
   * (on 410 Gone) as it sees fit. A 401 makes the next request read the credentials again.
   */
  async watch<T extends KubeObject = KubeObject>(path: string, query: RequestOptions['query'], onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal, options: {idleTimeoutMs?: number} = {}): Promise<void> {
    const idleMs = options.idleTimeoutMs ?? watchIdleTimeoutMs()
    let res: Http1Response
    try {
      // A watch holds its connection for minutes: outside the cap on requests' connections, so
      // requests never wait for a watch to end, nor a watch behind a burst of requests.
      res = await this.send('GET', path, {query: {...query, watch: true, allowWatchBookmarks: true}, signal}, idleMs, '', true)
    } catch (error) {
      if (signal.aborted) return
      throw isTimeout(error) ? new WatchIdleError(idleMs) : error
    }
    if ((res.statusCode ?? 0) >= 300) {
      const text = (await readBody(res)).toString('utf8')
      if (res.statusCode === 401 && this.credentials.refreshable) this.credentials.invalidate()
      throw new KubeApiError(res.statusCode ?? 0, '', `watch ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`, text)
    }
    try {
      await streamLines(res, (line) => {
        const text = line.toString('utf8')
        if (text.trim()) onEvent(JSON.parse(text) as WatchEvent<T>)
      })
    } catch (error) {
      if (signal.aborted) return
      throw res.timedOut || isTimeout(error) ? new WatchIdleError(idleMs) : error
    }
  }
}

/** A whole answer. A connection that breaks before the answer is complete fails it. */
function readBody(res: Http1Response): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    res.read({
      data: (chunk) => chunks.push(chunk),
      end: () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)),
      error: reject,
    })
  })
}

/**
 * Hands each line of a stream to `onLine` (without its newline) until the stream ends; fails when
 * it breaks or `onLine` throws (the connection is then closed). A large object arrives in many
 * chunks: the pieces of the line being read wait as Buffers and are joined once the line is
 * complete (appending each chunk to a string and searching it from the start again was the
 * operator's costliest function under load).
 */
function streamLines(res: Http1Response, onLine: (line: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let pending: Buffer[] = []
    let failed = false
    const fail = (error: unknown) => {
      if (failed) return
      failed = true
      reject(error)
    }
    res.read({
      data(chunk) {
        if (failed) return
        try {
          let start = 0
          let newline: number
          while ((newline = chunk.indexOf(0x0a, start)) >= 0) {
            const piece = chunk.subarray(start, newline)
            if (pending.length === 0) {
              onLine(piece)
            } else {
              pending.push(piece)
              const line = Buffer.concat(pending)
              pending = []
              onLine(line)
            }
            start = newline + 1
          }
          if (start < chunk.length) pending.push(chunk.subarray(start))
        } catch (error) {
          fail(error)
          res.destroy(error as Error)
        }
      },
      end() {
        if (!failed) resolve()
      },
      error: fail,
    })
  })
}

function isTimeout(error: unknown): boolean {
  for (let current = error as {code?: unknown; cause?: unknown} | undefined, depth = 0; current && depth < 5; current = current.cause as typeof current, depth++) {
    if (current.code === TIMEOUT_CODE) return true
  }
  return false
}
