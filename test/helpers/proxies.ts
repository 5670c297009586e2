import http from 'node:http'
import https from 'node:https'
import net from 'node:net'

/**
 * Proxies between a client under test and the real API server, for faults a real network has:
 * a TCP proxy whose connections can be made to stall (bytes stop in both directions, the sockets
 * stay open: a dead NAT entry, a hung load balancer), and an HTTP proxy that forwards every request
 * to the API server but can hold the requests of one path (a partial partition) or delay every
 * write (a distant API server), and records when each write arrived and when it was answered.
 * Neither answers anything itself: every answer is the API server's.
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

export interface HttpProxy {
  url: string
  /** requests not answered for this path pattern (held until close) */
  hold: (pattern: RegExp | undefined) => void
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
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/'
    const forwarded: Forwarded = {method: req.method ?? '', path, at: Date.now()}
    const write = req.method !== 'GET'
    if (write) writes.push(forwarded)
    if (held?.test(path)) {
      heldRequests.push(forwarded)
      return // never answered: the client must give up on its own
    }
    res.on('finish', () => (forwarded.answered = Date.now()))
    const forward = () => {
      const headers = {...req.headers, host: base.host}
      const upstream = https.request({protocol: base.protocol, hostname: base.hostname, port: base.port, path, method: req.method, headers, agent}, (answer) => {
        forwarded.status = answer.statusCode
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      })
      upstream.on('error', () => res.destroy())
      req.pipe(upstream)
      res.on('close', () => upstream.destroy())
    }
    // The body waits in the request's stream (paused until piped) meanwhile.
    if (write && writeDelayMs > 0) setTimeout(forward, writeDelayMs)
    else forward()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    hold: (pattern) => (held = pattern),
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
