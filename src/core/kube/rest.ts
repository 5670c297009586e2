import http from 'node:http'
import https from 'node:https'

import {type LoadedKubeConfig, unreachable} from './kubeconfig.js'

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly body: any,
  ) {
    super(message)
    this.name = 'KubeApiError'
  }
}

export interface RequestOptions {
  body?: unknown
  contentType?: string
  query?: Record<string, string | number | boolean | undefined>
  signal?: AbortSignal
  /** how long the connection may stay silent before the request fails (exit 3); none for watches */
  timeoutMs?: number
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

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'
  object: any
}

/**
 * A lean client for the Kubernetes REST API: credentials and TLS from the kubeconfig, one
 * kept-alive connection pool, JSON in and out. dappmesh knows the paths of everything it touches,
 * so it needs no discovery round-trips, which is most of what makes apply fast.
 */
export class KubeRest {
  private constructor(
    readonly loaded: LoadedKubeConfig,
    private readonly base: URL,
    private readonly options: https.RequestOptions,
    private readonly agent: http.Agent,
  ) {}

  static async create(loaded: LoadedKubeConfig, options: {maxSockets?: number} = {}): Promise<KubeRest> {
    const base = new URL(loaded.server)
    const opts: https.RequestOptions = {}
    await loaded.kc.applyToHTTPSOptions(opts)
    const secure = base.protocol === 'https:'
    const agentOptions = {keepAlive: true, maxSockets: options.maxSockets ?? 16, ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: opts.rejectUnauthorized}
    const agent = secure ? new https.Agent(agentOptions) : new http.Agent({keepAlive: true, maxSockets: options.maxSockets ?? 16})
    return new KubeRest(loaded, base, opts, agent)
  }

  close(): void {
    this.agent.destroy()
  }

  private url(path: string, query?: RequestOptions['query']): URL {
    const url = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base)
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v))
    return url
  }

  private send(method: string, path: string, options: RequestOptions = {}): Promise<http.IncomingMessage> {
    const url = this.url(path, options.query)
    const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
    const headers: Record<string, string> = {...(this.options.headers as Record<string, string>), accept: 'application/json'}
    if (body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json'
      headers['content-length'] = String(Buffer.byteLength(body))
    }
    const transport = url.protocol === 'https:' ? https : http
    return new Promise((resolve, reject) => {
      const req = transport.request(url, {method, headers, agent: this.agent, signal: options.signal, ...(url.protocol === 'https:' ? {ca: this.options.ca, cert: this.options.cert, key: this.options.key, rejectUnauthorized: this.options.rejectUnauthorized} : {})}, resolve)
      req.on('error', (error) => reject(options.signal?.aborted ? error : unreachable(this.loaded, error)))
      if (options.timeoutMs) {
        const seconds = Math.round(options.timeoutMs / 1000)
        req.setTimeout(options.timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${seconds}s (set DAPPMESH_REQUEST_TIMEOUT to wait longer)`), {code: 'ETIMEDOUT'})))
      }
      if (body !== undefined) req.write(body)
      req.end()
    })
  }

  /**
   * One request; a non-2xx answer becomes a KubeApiError carrying the server's own message.
   * "Try again" answers (429, 503: a new CRD's storage initializing, an overloaded server) are
   * retried with exponential backoff, honouring Retry-After, for up to about 30 seconds.
   */
  async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    let delay = 100
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(method, path, options)
      } catch (error) {
        const retryable = error instanceof KubeApiError && (error.status === 429 || error.status === 503)
        if (!retryable || attempt >= 12 || options.signal?.aborted) throw error
        const after = Number((error as KubeApiError).body?.details?.retryAfterSeconds)
        await new Promise((resolve) => setTimeout(resolve, Number.isFinite(after) && after > 0 ? Math.min(after * 1000, 5000) : delay))
        delay = Math.min(delay * 2, 5000)
      }
    }
  }

  private async once<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const res = await this.send(method, path, {timeoutMs: requestTimeoutMs(), ...options})
    const chunks: Buffer[] = []
    try {
      for await (const chunk of res) chunks.push(chunk as Buffer)
    } catch (error) {
      // The server fell silent (or the connection broke) halfway through its answer.
      throw options.signal?.aborted ? error : unreachable(this.loaded, (error as Error).cause ?? error)
    }
    const text = Buffer.concat(chunks).toString('utf8')
    let parsed: any = text
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      // not JSON: keep the text for the error message
    }
    const status = res.statusCode ?? 0
    if (status >= 200 && status < 300) return parsed as T
    // 401 is a kubeconfig problem (exit 3); 403 is RBAC, and the server's message names the verb and resource.
    if (status === 401) throw unreachable(this.loaded, Object.assign(new Error('unauthorized'), {code: 401}))
    const message = typeof parsed === 'object' && parsed?.message ? parsed.message : `HTTP ${status} ${text.slice(0, 200)}`
    throw new KubeApiError(status, typeof parsed === 'object' ? (parsed?.reason ?? '') : '', message, parsed)
  }

  get<T = any>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('GET', path, {query})
  }

  /** GET that answers undefined for 404. */
  async find<T = any>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path)
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return undefined
      throw error
    }
  }

  /** Server-side apply of one object (field manager, optional dry run and forced ownership). */
  apply<T = any>(path: string, object: unknown, options: {fieldManager: string; force?: boolean; dryRun?: boolean}): Promise<T> {
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
  delete<T = any>(path: string, options: {dryRun?: boolean; propagationPolicy?: 'Foreground' | 'Background' | 'Orphan'} = {}): Promise<T> {
    return this.request<T>('DELETE', path, {
      body: {kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: options.propagationPolicy ?? 'Background', ...(options.dryRun ? {dryRun: ['All']} : {})},
    })
  }

  /**
   * Streams watch events until the signal aborts or the server ends the stream; resolves then.
   * The caller re-lists and re-watches (on 410 Gone or a closed stream) as it sees fit.
   */
  async watch(path: string, query: RequestOptions['query'], onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    let res: http.IncomingMessage
    try {
      res = await this.send('GET', path, {query: {...query, watch: true, allowWatchBookmarks: true}, signal})
    } catch (error) {
      if (signal.aborted) return
      throw error
    }
    if ((res.statusCode ?? 0) >= 300) {
      const chunks: Buffer[] = []
      for await (const chunk of res) chunks.push(chunk as Buffer)
      const text = Buffer.concat(chunks).toString('utf8')
      throw new KubeApiError(res.statusCode ?? 0, '', `watch ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`, text)
    }
    let buffer = ''
    try {
      for await (const chunk of res) {
        buffer += (chunk as Buffer).toString('utf8')
        let newline: number
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline)
          buffer = buffer.slice(newline + 1)
          if (line.trim()) onEvent(JSON.parse(line) as WatchEvent)
        }
      }
    } catch (error) {
      if (!signal.aborted) throw error
    }
  }
}
