import http from 'node:http'
import https from 'node:https'
import net from 'node:net'

/**
 * Proxies between a client under test and the real API server, for faults a real network has:
 * a TCP proxy whose connections can be made to stall (bytes stop in both directions, the sockets
 * stay open: a dead NAT entry, a hung load balancer), and an HTTP proxy that forwards every request
 * to the API server but can hold the requests of one path (a partial partition), or let some wait
 * until the test releases them (a slow request, to line up a race), or delay every write (a
 * distant API server), and records when each write arrived and when it was answered. Neither
 * answers anything itself: every answer is the API server's.
 */
export interface TcpProxy {
  port: number
  /** stops every connection open now; new connections flow */
  stall: () => void
  close: () => Promise<void>
}

export async function tcpProxy(target: {host: string; port: number}): Promise<TcpProxy> {
  const open = new Set<{client: net.Socket; upstream: net.Socket}>()
  const all = new Set<{client: net.Socket; upstream: net.Socket}>()
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host)
    const pair = {client, upstream}
    open.add(pair)
    all.add(pair)
    client.pipe(upstream)
    upstream.pipe(client)
    const end = () => {
      open.delete(pair)
      all.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    stall() {
      for (const {client, upstream} of open) {
        client.unpipe(upstream)
        upstream.unpipe(client)
        client.pause()
        upstream.pause()
      }
      open.clear()
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        for (const {client, upstream} of all) {
          client.destroy()
          upstream.destroy()
        }
      }),
  }
}

export interface Forwarded {
  method: string
  path: string
  /** when the request arrived (ms since the epoch) */
  at: number
  /** when its answer was sent back in full (ms since the epoch); undefined while it is not */
  answered?: number
  /** the API server's status code */
  status?: number
}

/** Requests that wait at the proxy, unanswered, until released: then they reach the API server as sent. */
export interface Gate {
  /** the requests waiting (and, after release, those that waited), in arrival order */
  waiting: Forwarded[]
  /** forwards every waiting request, and lets later ones through */
  release: () => void
}

export interface HttpProxy {
  url: string
  /** requests not answered for this path pattern (held until close) */
  hold: (pattern: RegExp | undefined) => void
  /** requests of this method whose path matches wait until the gate is released (one gate at a time) */
  gate: (method: string, pattern: RegExp) => Gate
  /** every write (every request but GET) from now on is forwarded only after this many ms */
  delayWrites: (ms: number) => void
  /** every request but GET, in arrival order, held ones included */
  writes: Forwarded[]
  /** every request held, reads included, in arrival order */
  held: Forwarded[]
  close: () => Promise<void>
}

export async function httpProxy(target: {server: string; ca?: Buffer}): Promise<HttpProxy> {
  const base = new URL(target.server)
  const agent = new https.Agent({keepAlive: true, ca: target.ca})
  let held: RegExp | undefined
  let writeDelayMs = 0
  const writes: Forwarded[] = []
  const heldRequests: Forwarded[] = []
  let gated: {method: string; pattern: RegExp; waiting: Forwarded[]; queue: Array<() => void>} | undefined
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/'
    const forwarded: Forwarded = {method: req.method ?? '', path, at: Date.now()}
    const write = req.method !== 'GET'
    if (write) writes.push(forwarded)
    if (held?.test(path)) {
      heldRequests.push(forwarded)
      return // never answered: the client must give up on its own
    }
    if (gated && gated.method === req.method && gated.pattern.test(path)) {
      // The body waits in the request stream (paused, unread) until forwarded.
      gated.waiting.push(forwarded)
      gated.queue.push(() => forward(req, res, forwarded))
      return
    }
    // The body waits in the request stream (paused, unread) meanwhile.
    if (write && writeDelayMs > 0) setTimeout(() => forward(req, res, forwarded), writeDelayMs)
    else forward(req, res, forwarded)
  })
  const forward = (req: http.IncomingMessage, res: http.ServerResponse, forwarded: Forwarded) => {
    const {path} = forwarded
    if (res.destroyed) return // the client gave up meanwhile
    const headers = {...req.headers, host: base.host}
    res.on('finish', () => (forwarded.answered = Date.now()))
    const upstream = https.request({protocol: base.protocol, hostname: base.hostname, port: base.port, path, method: req.method, headers, agent}, (answer) => {
      forwarded.status = answer.statusCode
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
    res.on('close', () => upstream.destroy())
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    hold: (pattern) => (held = pattern),
    gate(method, pattern) {
      const gate = {method, pattern, waiting: [] as Forwarded[], queue: [] as Array<() => void>}
      gated = gate
      return {
        waiting: gate.waiting,
        release() {
          if (gated === gate) gated = undefined
          for (const go of gate.queue.splice(0)) go()
        },
      }
    },
    delayWrites: (ms) => (writeDelayMs = ms),
    writes,
    held: heldRequests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
        agent.destroy()
      }),
  }
}
