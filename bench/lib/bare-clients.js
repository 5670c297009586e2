// The references of bench/client.js: what the leanest Node clients do for one request to the
// Kubernetes API server, and no more. `bareClient` is HTTP/1.1 over node:https with a keep-alive
// agent (one connection per request in flight, so one per open watch); `bareH2Client` is one
// HTTP/2 session (node:http2, ALPN h2) on which every request and watch is a stream.
import http2 from 'node:http2'
import https from 'node:https'

/** Hands each complete line of a text stream to `onLine`, JSON-parsed. */
function lines(onEvent) {
  let pending = ''
  return (text) => {
    let start = 0
    let newline
    while ((newline = text.indexOf('\n', start)) >= 0) {
      const line = pending + text.slice(start, newline)
      pending = ''
      if (line) onEvent(JSON.parse(line))
      start = newline + 1
    }
    pending += text.slice(start)
  }
}

const applyQuery = '?fieldManager=bench&force=true&fieldValidation=Strict'

/** HTTP/1.1: node:https, a keep-alive agent, `tls` (ca, cert, key) and `headers` on every request. */
export function bareClient(server, tls, headers) {
  const url = new URL(server)
  const agent = new https.Agent({keepAlive: true, ...tls})
  const request = (method, pathAndQuery, body, contentType) =>
    new Promise((resolve, reject) => {
      const h = body === undefined ? headers : {...headers, 'content-type': contentType, 'content-length': Buffer.byteLength(body)}
      const req = https.request({host: url.hostname, port: url.port, path: pathAndQuery, method, agent, headers: h}, (res) => {
        const chunks = []
        res.on('data', (chunk) => chunks.push(chunk))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          if (res.statusCode >= 300) reject(new Error(`HTTP ${res.statusCode} ${text.slice(0, 200)}`))
          else resolve(JSON.parse(text))
        })
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(body)
    })
  return {
    get: (p) => request('GET', p),
    apply: (p, object) => request('PATCH', `${p}${applyQuery}`, JSON.stringify(object), 'application/apply-patch+yaml'),
    /** Resolves once the server answered the watch (`started`), then streams until `signal` aborts. */
    watch: (p, query, onEvent, signal, started) =>
      new Promise((resolve, reject) => {
        const qs = new URLSearchParams({...query, watch: 'true', allowWatchBookmarks: 'true'})
        const req = https.request({host: url.hostname, port: url.port, path: `${p}?${qs}`, method: 'GET', agent, headers, signal}, (res) => {
          started?.()
          res.setEncoding('utf8')
          res.on('data', lines(onEvent))
          res.on('end', resolve)
          res.on('error', (error) => (signal.aborted ? resolve() : reject(error)))
        })
        req.on('error', (error) => (signal.aborted ? resolve() : reject(error)))
        req.end()
      }),
    close: () => agent.destroy(),
  }
}

/**
 * HTTP/2: one node:http2 session (TLS with `tls`, ALPN h2), each request a stream on it. The
 * session is made at once; `protocol()` says what ALPN agreed once it is connected.
 */
export function bareH2Client(server, tls, headers) {
  const session = http2.connect(server, tls)
  // A session error fails the streams in flight; the bench fails on those.
  session.on('error', () => {})
  const stream = (method, pathAndQuery, body, contentType, signal) => {
    const h = {':method': method, ':path': pathAndQuery, ...headers}
    if (body !== undefined) Object.assign(h, {'content-type': contentType, 'content-length': Buffer.byteLength(body)})
    return session.request(h, {endStream: body === undefined, ...(signal ? {signal} : {})})
  }
  const request = (method, pathAndQuery, body, contentType) =>
    new Promise((resolve, reject) => {
      const s = stream(method, pathAndQuery, body, contentType)
      let status = 0
      s.on('response', (h) => (status = h[':status']))
      const chunks = []
      s.on('data', (chunk) => chunks.push(chunk))
      s.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        if (status >= 300) reject(new Error(`HTTP ${status} ${text.slice(0, 200)}`))
        else resolve(JSON.parse(text))
      })
      s.on('error', reject)
      if (body !== undefined) s.end(body)
    })
  return {
    protocol: () =>
      new Promise((resolve, reject) => {
        if (session.alpnProtocol !== undefined) resolve(session.alpnProtocol)
        else session.once('connect', () => resolve(session.alpnProtocol)).once('error', reject)
      }),
    get: (p) => request('GET', p),
    apply: (p, object) => request('PATCH', `${p}${applyQuery}`, JSON.stringify(object), 'application/apply-patch+yaml'),
    watch: (p, query, onEvent, signal, started) =>
      new Promise((resolve, reject) => {
        const qs = new URLSearchParams({...query, watch: 'true', allowWatchBookmarks: 'true'})
        const s = stream('GET', `${p}?${qs}`, undefined, undefined, signal)
        s.on('response', (h) => {
          if (h[':status'] >= 300) reject(new Error(`watch: HTTP ${h[':status']}`))
          else started?.()
        })
        s.setEncoding('utf8')
        s.on('data', lines(onEvent))
        s.on('end', resolve)
        s.on('error', (error) => (signal.aborted ? resolve() : reject(error)))
      }),
    close: () => session.close(),
  }
}
