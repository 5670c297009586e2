import assert from 'node:assert/strict'
import {once} from 'node:events'
import net from 'node:net'

import {type Http1Response, Http1Pool} from '../../src/core/kube/http1.js'

/**
 * A TCP server whose answers each test writes byte for byte: `answer` gets every request's head
 * (and body, by content-length) and the socket, and writes what it likes.
 */
async function rawServer(answer: (request: string, socket: net.Socket, index: number) => void): Promise<{port: number; connections: () => number; mostOpen: () => number; close: () => Promise<void>}> {
  let connections = 0
  let mostOpen = 0
  let index = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    connections++
    sockets.add(socket)
    mostOpen = Math.max(mostOpen, sockets.size)
    socket.on('close', () => sockets.delete(socket))
    let buffer = ''
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1')
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n')
        if (end < 0) return
        const length = Number(/content-length: *(\d+)/i.exec(buffer.slice(0, end))?.[1] ?? 0)
        if (buffer.length < end + 4 + length) return
        const request = buffer.slice(0, end + 4 + length)
        buffer = buffer.slice(end + 4 + length)
        answer(request, socket, index++)
      }
    })
    socket.on('error', () => {})
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    /** the most connections open at once */
    mostOpen: () => mostOpen,
    async close() {
      for (const socket of sockets) socket.destroy()
      server.close()
      await once(server, 'close')
    },
  }
}

/** Runs `test` with a pool of connections to `server`, then closes both, whatever happened. */
async function withPool(server: {port: number; close: () => Promise<void>}, test: (client: Http1Pool) => Promise<void>, maxSockets?: number): Promise<void> {
  const client = new Http1Pool({host: '127.0.0.1', port: server.port, secure: false}, maxSockets)
  try {
    await test(client)
  } finally {
    client.destroy()
    await server.close()
  }
}

function text(res: Http1Response): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    res.read({data: (c) => chunks.push(c), end: () => resolve(Buffer.concat(chunks).toString('utf8')), error: reject})
  })
}

/** Turns a promise's rejection into its value (and a fulfilment into undefined), to look at the error. */
const failedWith = [() => undefined, (error: unknown) => error as Error & {code?: string}] as const

const json = (body: string) => `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`

describe('the HTTP/1.1 client of the kube client (http1.ts)', () => {
  it('reads a body framed by content-length and sends the next request on the same connection', async () => {
    const requests: string[] = []
    const server = await rawServer((request, socket) => {
      requests.push(request)
      socket.write(json('{"n":1}'))
    })
    await withPool(server, async (client) => {
      for (let i = 0; i < 3; i++) {
        const res = await client.request({method: 'PATCH', target: '/api/v1/x?a=b', headers: {'content-type': 'application/json', 'content-length': '2'}, body: '{}'})
        assert.equal(res.statusCode, 200)
        assert.equal(res.headers['content-type'], 'application/json')
        assert.equal(await text(res), '{"n":1}')
      }
      assert.equal(server.connections(), 1)
      assert.match(requests[0], /^PATCH \/api\/v1\/x\?a=b HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\ncontent-type: application\/json\r\ncontent-length: 2\r\n\r\n\{\}$/)
    })
  })

  it('reads a chunked body written a few bytes at a time, with chunk extensions and trailers', async () => {
    const server = await rawServer((_request, socket) => {
      const bytes = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n'
      let at = 0
      const drip = () => {
        socket.write(bytes.slice(at, at + 3))
        at += 3
        if (at < bytes.length) setImmediate(drip)
      }
      drip()
    })
    await withPool(server, async (client) => {
      assert.equal(await text(await client.request({method: 'GET', target: '/', headers: {}})), 'hello, world')
      // The connection was kept: the whole answer, trailers included, was read.
      assert.equal(await text(await client.request({method: 'GET', target: '/', headers: {}})), 'hello, world')
      assert.equal(server.connections(), 1)
    })
  })

  it('reads a body that ends with the connection, and does not keep that connection', async () => {
    const server = await rawServer((_request, socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it'))
    await withPool(server, async (client) => {
      assert.equal(await text(await client.request({method: 'GET', target: '/', headers: {}})), 'all of it')
      assert.equal(await text(await client.request({method: 'GET', target: '/', headers: {}})), 'all of it')
      assert.equal(server.connections(), 2)
    })
  })

  it('skips an interim 100 Continue answer, and closes a connection the server said it closes', async () => {
    const server = await rawServer((_request, socket) => socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok'))
    await withPool(server, async (client) => {
      const res = await client.request({method: 'POST', target: '/', headers: {'content-length': '0'}})
      assert.equal(res.statusCode, 201)
      assert.equal(await text(res), 'ok')
      await client.request({method: 'POST', target: '/', headers: {'content-length': '0'}}).then(text)
      assert.equal(server.connections(), 2)
    })
  })

  it('fails with ETIMEDOUT when the server accepts and never answers, and when it stops halfway through the body', async () => {
    const server = await rawServer((request, socket) => {
      if (request.startsWith('GET /half')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome')
    })
    await withPool(server, async (client) => {
      const started = Date.now()
      const error = await client.request({method: 'GET', target: '/never', headers: {}, timeoutMs: 200, timeoutMessage: 'no answer within 0.2s'}).then(...failedWith)
      assert.equal(error?.code, 'ETIMEDOUT')
      assert.equal(error?.message, 'no answer within 0.2s')
      assert.ok(Date.now() - started >= 150 && Date.now() - started <= 2000)
      const res = await client.request({method: 'GET', target: '/half', headers: {}, timeoutMs: 200})
      const failure = await text(res).then(...failedWith)
      assert.equal(failure?.code, 'ETIMEDOUT')
      assert.equal(res.timedOut, true)
    })
  })

  it('gives up at once when its signal aborts, and refuses to start with an aborted one', async () => {
    const server = await rawServer(() => {})
    await withPool(server, async (client) => {
      const controller = new AbortController()
      const pending = client.request({method: 'GET', target: '/', headers: {}, signal: controller.signal})
      setTimeout(() => controller.abort(), 50)
      const error = await pending.then(...failedWith)
      assert.equal(error?.name, 'AbortError')
      const again = await client.request({method: 'GET', target: '/', headers: {}, signal: controller.signal}).then(...failedWith)
      assert.equal(again?.name, 'AbortError')
    })
  })

  it('sends an idempotent request again on a new connection when a kept one is closed under it, but not a POST', async () => {
    // The second request on any connection finds it closed, as when a server's idle timeout strikes just then.
    const perSocket = new WeakMap<net.Socket, number>()
    const server = await rawServer((_request, socket) => {
      const n = (perSocket.get(socket) ?? 0) + 1
      perSocket.set(socket, n)
      if (n === 1) socket.write(json('{}'))
      else socket.destroy()
    })
    await withPool(server, async (client) => {
      await client.request({method: 'GET', target: '/', headers: {}}).then(text)
      const res = await client.request({method: 'PATCH', target: '/', headers: {'content-type': 'application/apply-patch+yaml', 'content-length': '0'}})
      assert.equal(res.statusCode, 200)
      await text(res)
      assert.equal(server.connections(), 2)
      const error = await client.request({method: 'POST', target: '/', headers: {'content-length': '0'}}).then(...failedWith)
      assert.equal(error?.code, 'ECONNRESET')
    })
  })

  it('refuses a header value that would end the header (CR or LF), sending nothing', async () => {
    const server = await rawServer((_request, socket) => socket.write(json('{}')))
    await withPool(server, async (client) => {
      const error = await client.request({method: 'GET', target: '/', headers: {authorization: 'Bearer x\r\nX-Evil: 1'}}).then(...failedWith)
      assert.ok(error instanceof TypeError)
      assert.ok((error?.message ?? '').includes('authorization'))
      assert.ok(!(error?.message ?? '').includes('Bearer'))
      assert.equal(server.connections(), 0)
    })
  })

  it('makes requests beyond maxSockets wait for a connection, on as many connections as allowed', async () => {
    const server = await rawServer((_request, socket) => setTimeout(() => socket.write(json('{}')), 20))
    await withPool(server, async (client) => {
      const all = await Promise.all(Array.from({length: 6}, () => client.request({method: 'GET', target: '/', headers: {}}).then(text)))
      assert.deepEqual(all, Array.from({length: 6}, () => '{}'))
      assert.equal(server.connections(), 2)
    }, 2)
  })

  it('holds no more than maxSockets connections open under three times as many requests at once, and answers them all', async () => {
    const server = await rawServer((_request, socket) => setTimeout(() => socket.write(json('{}')), 10))
    await withPool(server, async (client) => {
      const answers = await Promise.all(Array.from({length: 12}, (_, i) => client.request({method: 'GET', target: `/${i}`, headers: {}}).then(text)))
      assert.equal(answers.length, 12)
      assert.ok(answers.every((a) => a === '{}'))
      // Counted on the server's side: what is open there is what the client holds.
      assert.equal(server.mostOpen(), 4)
      assert.deepEqual(client.connections, {long: 0, capped: 4})
    }, 4)
  })

  it('gives a long exchange (a watch) a connection beside a pool at its cap, and frees it for requests when it ends', async () => {
    let endWatch: (() => void) | undefined
    const server = await rawServer((request, socket) => {
      if (request.startsWith('GET /watch')) {
        socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')
        endWatch = () => socket.write('0\r\n\r\n')
      } else setTimeout(() => socket.write(json('{}')), 30)
    })
    await withPool(server, async (client) => {
      // Both connections of the cap busy with requests, four more waiting for them.
      const requests = Array.from({length: 6}, () => client.request({method: 'GET', target: '/', headers: {}}).then(text))
      const watch = await client.request({method: 'GET', target: '/watch', headers: {}, long: true})
      assert.equal(watch.statusCode, 200)
      assert.deepEqual(client.connections, {long: 1, capped: 2})
      await Promise.all(requests)
      // The requests never took the watch's connection: they had their two.
      assert.equal(server.connections(), 3)
      const watchEnded = text(watch)
      endWatch!()
      await watchEnded
      // Back among the others it would make three for a cap of two: it is closed instead of kept
      // (its socket's close event comes a few ticks after).
      for (let tick = 0; tick < 20 && client.connections.capped > 2; tick++) await new Promise((resolve) => setTimeout(resolve, 5))
      assert.deepEqual(client.connections, {long: 0, capped: 2})
    }, 2)
  })

  it('fails on an answer that is not HTTP/1.1 or has an invalid chunk size', async () => {
    const server = await rawServer((request, socket) => {
      if (request.startsWith('GET /garbage')) socket.write('SSH-2.0-OpenSSH\r\n\r\n')
      else socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')
    })
    await withPool(server, async (client) => {
      const garbage = await client.request({method: 'GET', target: '/garbage', headers: {}}).then(...failedWith)
      assert.ok((garbage?.message ?? '').includes('not an HTTP/1.1 answer'))
      const res = await client.request({method: 'GET', target: '/chunks', headers: {}})
      const bad = await text(res).then(...failedWith)
      assert.ok((bad?.message ?? '').includes('invalid chunk size'))
    })
  })
})
