import net from 'node:net'
import tls from 'node:tls'

/**
 * HTTP/1.1 to one server over kept-alive connections, as lean as the API server's traffic allows.
 *
 * Why not node:http: for each request it builds a ClientRequest and an IncomingMessage (streams,
 * event emitters, an agent's bookkeeping, several ticks), which costs ~3x the CPU of the bytes'
 * own work. Measured (this machine, 3,000 sequential PATCHes of 1 KB answered with 2.5 KB of JSON
 * over TLS, the server in another process): node:https 220-290 µs of client CPU per request, a
 * request written as one string on a tls socket and its answer framed by hand 58-78 µs; undici's
 * Pool 220-260 µs and +15-22 MiB RSS. The operator spends most of its CPU on requests and watch
 * events, so this is where its energy goes.
 *
 * What it does: one request per connection at a time (no pipelining); bodies framed by
 * Content-Length, chunked transfer coding or the connection's close; 1xx answers skipped; a
 * connection kept for the next request only when both sides said nothing against it and the answer
 * ended cleanly. What it does not: compression (never asked for), proxies, upgrades, trailers (read
 * and dropped).
 */

/** How a server is reached: TLS when `secureContext` is given. */
export interface Http1Endpoint {
  host: string
  port: number
  secure: boolean
  secureContext?: tls.SecureContext
  rejectUnauthorized?: boolean
  /** the TLS server name (SNI and the certificate's check); by default the host when it is a name */
  servername?: string
}

export interface Http1Request {
  method: string
  /** the request target: path and query, already encoded */
  target: string
  headers: Readonly<Record<string, string | readonly string[]>>
  body?: string
  signal?: AbortSignal
  /** the connection's idle time (no byte either way) after which the exchange fails with ETIMEDOUT */
  timeoutMs?: number
  /** the message of that ETIMEDOUT error */
  timeoutMessage?: string
  /**
   * An exchange that lasts as long as the server lets it (a watch): it gets a connection even when
   * the pool is at its cap, and does not count against it while it runs, so neither waits for the other.
   */
  long?: boolean
}

/** Where an answer's body goes; given once, after the head has arrived. */
export interface BodySink {
  data(chunk: Buffer): void
  end(): void
  error(error: Error): void
}

/** The head of an answer, and its body on demand (chunks that arrived before `read` wait for it). */
export interface Http1Response {
  readonly statusCode: number
  /** header names in lower case; repeated headers joined by ', ' */
  readonly headers: Readonly<Record<string, string>>
  /** the connection fell silent for the request's timeout (the body then fails) */
  readonly timedOut: boolean
  read(sink: BodySink): void
  /** Gives up on the answer: the connection is closed. */
  destroy(error?: Error): void
}

const MAX_HEAD_BYTES = 64 * 1024
const CRLF_CRLF = Buffer.from('\r\n\r\n')
// RFC 9110's token for names; field values without control characters but tab.
const TOKEN = /^[!#$%&'*+\-.^`|~\w]+$/
function badValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true
  }
  return false
}

export class Http1Pool {
  private readonly idle: Connection[] = []
  private readonly waiting: Array<(connection: Connection | Error) => void> = []
  private readonly all = new Set<Connection>()
  private open = 0
  /** connections carrying a long exchange now: outside the cap */
  private long = 0
  private closed = false
  private readonly hostHeader: string

  constructor(
    private readonly endpoint: Http1Endpoint,
    /** connections open at once, busy or idle, besides those of long exchanges (watches) */
    private readonly maxSockets = Number.POSITIVE_INFINITY,
  ) {
    const host = net.isIPv6(endpoint.host) ? `[${endpoint.host}]` : endpoint.host
    const usual = endpoint.secure ? 443 : 80
    this.hostHeader = endpoint.port === usual ? host : `${host}:${endpoint.port}`
  }

  /** Sends the request; resolves with the answer's head, rejects on a connection that fails before it. */
  async request(request: Http1Request): Promise<Http1Response> {
    const head = requestHead(request, this.hostHeader)
    if (request.signal?.aborted) throw abortError(request.signal)
    const long = request.long === true
    const connection = await this.acquire(long)
    const reused = connection.served > 0
    try {
      return await connection.exchange(head, request, long)
    } catch (error) {
      // The server may close a kept connection just as a request is written on it (its idle
      // timeout): nothing of the request was answered, so an idempotent one is sent once more on
      // a new connection, as Go's and client-go's transport do.
      if (!reused || !replayable(request) || !isHangUp(error) || request.signal?.aborted) throw error
      return (await this.acquire(long, true)).exchange(head, request, long)
    }
  }

  /** Open connections: those of long exchanges (watches), and the others (requests and idle ones, within the cap). */
  get connections(): {long: number; capped: number} {
    return {long: this.long, capped: this.open - this.long}
  }

  /**
   * No new requests: idle connections close now, busy ones when their answer ends (a client
   * certificate replaced: its old pool's watches run on until they end).
   */
  retire(): void {
    this.closed = true
    for (const connection of this.idle.splice(0)) connection.socket.destroy()
    for (const wake of this.waiting.splice(0)) wake(new Error('the connection pool was closed'))
  }

  /** Closes every connection, busy ones included. */
  destroy(): void {
    this.retire()
    for (const connection of this.all) connection.socket.destroy()
  }

  private hasRoom(): boolean {
    return this.open - this.long < this.maxSockets
  }

  private async acquire(long: boolean, fresh = false): Promise<Connection> {
    if (this.closed) throw new Error('the connection pool was closed')
    if (fresh && (long || this.hasRoom())) return this.connect()
    for (let kept = this.idle.pop(); kept; kept = this.idle.pop()) {
      if (kept.socket.destroyed || !kept.socket.writable) continue
      kept.socket.ref()
      return kept
    }
    if (long || this.hasRoom()) return this.connect()
    const next = await new Promise<Connection | Error>((resolve) => this.waiting.push(resolve))
    if (next instanceof Error) throw next
    return next
  }

  private connect(): Connection {
    const {host, port, secure, secureContext, rejectUnauthorized, servername} = this.endpoint
    const socket = secure
      ? tls.connect({host, port, secureContext, rejectUnauthorized, servername: servername ?? (net.isIP(host) ? undefined : host)})
      : net.connect({host, port})
    socket.setNoDelay(true)
    // TCP keep-alive probes after 30 s of silence: a kept connection or a quiet watch to a peer gone
    // without a word is found dead, without a probe a second (node's agent's 1 s) on every watch.
    socket.setKeepAlive(true, 30_000)
    this.open++
    const connection = new Connection(socket, (long) => (this.long += long ? 1 : -1), (reusable) => this.release(connection, reusable))
    this.all.add(connection)
    socket.once('close', () => {
      this.open--
      this.all.delete(connection)
      const i = this.idle.indexOf(connection)
      if (i >= 0) this.idle.splice(i, 1)
      // A place became free: a waiting request gets a new connection.
      if (!this.closed && this.waiting.length > 0 && this.hasRoom()) this.waiting.shift()!(this.connect())
    })
    return connection
  }

  private release(connection: Connection, reusable: boolean): void {
    // A watch's connection, back among the others when they already fill the cap, is one too many.
    if (!reusable || this.closed || this.open - this.long > this.maxSockets) {
      connection.socket.destroy()
      return
    }
    const wake = this.waiting.shift()
    if (wake) {
      wake(connection)
      return
    }
    // A kept connection does not keep the process alive.
    connection.socket.unref()
    this.idle.push(connection)
  }
}

function requestHead(request: Http1Request, hostHeader: string): string {
  let head = `${request.method} ${request.target} HTTP/1.1\r\nhost: ${hostHeader}\r\n`
  if (!TOKEN.test(request.method) || /[\s]/.test(request.target)) throw new TypeError(`invalid request line: ${request.method} ${request.target}`)
  for (const name in request.headers) {
    const value = request.headers[name]
    if (!TOKEN.test(name)) throw new TypeError(`invalid header name: ${JSON.stringify(name)}`)
    for (const one of typeof value === 'string' ? [value] : value) {
      if (badValue(one)) throw new TypeError(`invalid character in the value of header ${name}`)
      head += `${name}: ${one}\r\n`
    }
  }
  return head + '\r\n'
}

/** Whether a request may be sent twice with the effect of once: server-side apply and merge patches may, JSON patches not. */
function replayable(request: Http1Request): boolean {
  if (request.method === 'PATCH') return !String(request.headers['content-type'] ?? '').includes('json-patch')
  return REPLAYABLE.has(request.method)
}
const REPLAYABLE = new Set(['GET', 'HEAD', 'PUT', 'DELETE'])

function isHangUp(error: unknown): boolean {
  const code = (error as {code?: unknown})?.code
  return code === 'ECONNRESET' || code === 'EPIPE'
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', {cause: signal.reason}), {name: 'AbortError', code: 'ABORT_ERR'})
}

type Framing = {kind: 'length'; left: number} | {kind: 'chunked'; state: 'size' | 'data' | 'data-end' | 'trailer'; left: number} | {kind: 'close'} | {kind: 'none'}

/** One connection and the exchange in progress on it. */
class Connection {
  private current?: Exchange
  /** answers this connection has carried: a kept connection the server closed meanwhile fails the next request */
  served = 0

  constructor(
    readonly socket: net.Socket,
    /** told when a long exchange starts (true) and when it ends (false), before `release` */
    private readonly countLong: (long: boolean) => void,
    private readonly release: (reusable: boolean) => void,
  ) {
    socket.on('data', (chunk: Buffer) => {
      if (!this.current) {
        // A server speaks only when asked.
        socket.destroy()
        return
      }
      this.current.receive(chunk)
    })
    socket.on('end', () => this.current?.ended())
    socket.on('error', (error) => this.current?.fail(error))
    socket.on('close', () => this.current?.fail(Object.assign(new Error('socket hang up'), {code: 'ECONNRESET'})))
    socket.on('timeout', () => this.current?.timeout())
  }

  exchange(head: string, request: Http1Request, long: boolean): Promise<Http1Response> {
    return new Promise((resolve, reject) => {
      if (long) this.countLong(true)
      const exchange = new Exchange(this, request, resolve, reject, (reusable) => {
        this.current = undefined
        this.served++
        this.socket.setTimeout(0)
        if (long) this.countLong(false)
        this.release(reusable)
      })
      this.current = exchange
      if (request.timeoutMs !== undefined) this.socket.setTimeout(Math.max(1, request.timeoutMs))
      this.socket.write(request.body === undefined ? head : head + request.body)
    })
  }
}

/** One request and its answer on a connection. */
class Exchange implements Http1Response {
  statusCode = 0
  headers: Record<string, string> = {}
  timedOut = false

  private head?: Buffer
  private framing: Framing = {kind: 'none'}
  private keepAlive = true
  private sink?: BodySink
  private queued: Buffer[] = []
  private finished = false
  private bodyEnded = false
  private failure?: Error
  private answered = false
  private readonly onAbort?: () => void

  constructor(
    private readonly connection: Connection,
    private readonly request: Http1Request,
    private readonly resolve: (response: Http1Response) => void,
    private readonly reject: (error: Error) => void,
    private readonly done: (reusable: boolean) => void,
  ) {
    const {signal} = request
    if (signal) {
      this.onAbort = () => this.destroy(abortError(signal))
      signal.addEventListener('abort', this.onAbort, {once: true})
    }
  }

  read(sink: BodySink): void {
    this.sink = sink
    for (const chunk of this.queued.splice(0)) sink.data(chunk)
    if (this.failure) sink.error(this.failure)
    else if (this.bodyEnded) sink.end()
  }

  destroy(error: Error = new Error('aborted')): void {
    this.fail(error)
  }

  receive(chunk: Buffer): void {
    if (this.finished) return
    try {
      if (!this.answered) {
        const rest = this.readHead(chunk)
        if (rest === undefined || rest.length === 0) return
        chunk = rest
      }
      this.readBody(chunk)
    } catch (error) {
      this.fail(error as Error)
    }
  }

  /** The server closed its side: the end of a close-delimited body, or a broken exchange. */
  ended(): void {
    if (this.finished) return
    if (this.answered && this.framing.kind === 'close') {
      this.keepAlive = false
      this.endBody()
    } else {
      this.fail(Object.assign(new Error('socket hang up'), {code: 'ECONNRESET'}))
    }
  }

  timeout(): void {
    if (this.finished) return
    this.timedOut = true
    const seconds = Math.round((this.request.timeoutMs ?? 0) / 1000)
    this.fail(Object.assign(new Error(this.request.timeoutMessage ?? `no answer within ${seconds}s`), {code: 'ETIMEDOUT'}))
  }

  fail(error: Error): void {
    if (this.finished) return
    this.finish(false)
    this.connection.socket.destroy()
    if (!this.answered) {
      this.reject(error)
      return
    }
    this.failure = error
    this.sink?.error(error)
  }

  /** Parses the head once it is complete; answers the bytes after it, or undefined while it is not. */
  private readHead(chunk: Buffer): Buffer | undefined {
    const head = this.head ? Buffer.concat([this.head, chunk]) : chunk
    const end = head.indexOf(CRLF_CRLF)
    if (end < 0) {
      if (head.length > MAX_HEAD_BYTES) throw new Error(`the server's answer has a head of more than ${MAX_HEAD_BYTES} bytes`)
      this.head = head
      return undefined
    }
    this.head = undefined
    const lines = head.toString('latin1', 0, end).split('\r\n')
    const status = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0])
    if (!status) throw new Error(`not an HTTP/1.1 answer: ${JSON.stringify(lines[0].slice(0, 40))}`)
    const code = Number(status[2])
    const rest = head.subarray(end + 4)
    // 100 Continue and other interim answers precede the real one.
    if (code >= 100 && code < 200) return rest.length > 0 ? this.readHead(rest) : undefined
    const headers: Record<string, string> = {}
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(':')
      if (colon <= 0) continue
      const name = lines[i].slice(0, colon).trim().toLowerCase()
      const value = lines[i].slice(colon + 1).trim()
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value
    }
    this.statusCode = code
    this.headers = headers
    const connection = headers.connection?.toLowerCase() ?? ''
    this.keepAlive = status[1] === '1' ? !connection.includes('close') : connection.includes('keep-alive')
    if (this.request.method === 'HEAD' || code === 204 || code === 304) this.framing = {kind: 'none'}
    else if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) this.framing = {kind: 'chunked', state: 'size', left: 0}
    else if (headers['content-length'] !== undefined) {
      const left = Number(headers['content-length'])
      if (!Number.isSafeInteger(left) || left < 0) throw new Error(`invalid content-length: ${headers['content-length']}`)
      this.framing = left === 0 ? {kind: 'none'} : {kind: 'length', left}
    } else this.framing = {kind: 'close'}
    this.answered = true
    this.resolve(this)
    if (this.framing.kind === 'none') this.endBody()
    return rest
  }

  private readBody(chunk: Buffer): void {
    const framing = this.framing
    if (framing.kind === 'close') {
      this.deliver(chunk)
      return
    }
    if (framing.kind === 'length') {
      if (chunk.length > framing.left) throw new Error('the server sent more than its content-length')
      framing.left -= chunk.length
      this.deliver(chunk)
      if (framing.left === 0) this.endBody()
      return
    }
    if (framing.kind === 'none') {
      if (chunk.length > 0) throw new Error('the server sent bytes after its answer')
      return
    }
    this.readChunked(framing, chunk)
  }

  /** Transfer-Encoding: chunked — sizes in hex, each chunk followed by CRLF, a last chunk of 0 and trailers. */
  private readChunked(framing: Extract<Framing, {kind: 'chunked'}>, chunk: Buffer): void {
    let at = 0
    while (at < chunk.length && !this.finished) {
      if (framing.state === 'data') {
        const take = Math.min(framing.left, chunk.length - at)
        this.deliver(chunk.subarray(at, at + take))
        at += take
        framing.left -= take
        if (framing.left === 0) framing.state = 'data-end'
        continue
      }
      // The other states read lines: a size line, the CRLF after data, trailer lines.
      const newline = chunk.indexOf(0x0a, at)
      const piece = newline < 0 ? chunk.subarray(at) : chunk.subarray(at, newline + 1)
      const line = this.head ? Buffer.concat([this.head, piece]) : piece
      if (newline < 0) {
        if (line.length > MAX_HEAD_BYTES) throw new Error('a chunk line of the answer is too long')
        this.head = line
        return
      }
      this.head = undefined
      at = newline + 1
      const text = line.toString('latin1').replace(/\r?\n$/, '')
      if (framing.state === 'data-end') {
        if (text !== '') throw new Error('a chunk of the answer does not end with CRLF')
        framing.state = 'size'
      } else if (framing.state === 'size') {
        // The size in hex, then optional chunk extensions after ';' (ignored).
        const hex = text.split(';', 1)[0].trim()
        const size = /^[0-9a-fA-F]{1,12}$/.test(hex) ? Number.parseInt(hex, 16) : Number.NaN
        if (!Number.isSafeInteger(size)) throw new Error(`invalid chunk size in the answer: ${JSON.stringify(text.slice(0, 20))}`)
        if (size === 0) framing.state = 'trailer'
        else {
          framing.state = 'data'
          framing.left = size
        }
      } else if (text === '') {
        // The empty line after the trailers: the answer is complete.
        if (at < chunk.length) throw new Error('the server sent bytes after its answer')
        this.endBody()
      }
    }
  }

  private deliver(chunk: Buffer): void {
    if (chunk.length === 0) return
    if (this.sink) this.sink.data(chunk)
    else this.queued.push(chunk)
  }

  private endBody(): void {
    if (this.bodyEnded) return
    this.bodyEnded = true
    this.finish(this.keepAlive)
    this.sink?.end()
  }

  private finish(reusable: boolean): void {
    if (this.finished) return
    this.finished = true
    if (this.onAbort) this.request.signal?.removeEventListener('abort', this.onAbort)
    this.done(reusable)
  }
}
