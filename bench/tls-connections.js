#!/usr/bin/env node
// What one kept-alive TLS connection of the operator's HTTP client costs in memory and CPU: the
// client (dist/core/kube/http1.js, the operator's environment and V8 flags from
// dist/core/reconcile/footprint.js) opens 1, then 8, 16, 32 and 64 connections at once to a local
// HTTPS server in another process (RSA 2048, TLS 1.3, like kwok's API server), each carrying one
// request answered with 2.5 KB of JSON, and keeps them idle; after each step its resident memory
// (anonymous: the process's own) is read after a full GC. The reference is the same process with
// one connection: the slope is what each further connection adds. Prints one line per step.
import {spawn, spawnSync} from 'node:child_process'
import {once} from 'node:events'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import https from 'node:https'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const STEPS = [1, 8, 16, 32, 64]
const role = process.argv[2]

/** A field of /proc/self/status in MiB: RssAnon (now, the process's own) or VmHWM (the peak RSS so far). */
function statusMiB(name) {
  const m = new RegExp(`${name}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'))
  return Number(m[1]) / 1024
}
const anonMiB = () => statusMiB('RssAnon')

if (role === 'server') {
  const dir = process.argv[3]
  const body = JSON.stringify({kind: 'ConfigMap', data: {x: 'y'.repeat(2500)}})
  const server = https.createServer({key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')), keepAliveTimeout: 600_000}, (_req, res) => {
    res.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)}).end(body)
  })
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`))
} else if (role === 'client') {
  const [port, dir] = [Number(process.argv[3]), process.argv[4]]
  const {useOperatorV8Flags} = await import(path.join(root, 'dist/core/reconcile/footprint.js'))
  useOperatorV8Flags()
  const {Http1Pool} = await import(path.join(root, 'dist/core/kube/http1.js'))
  const tls = await import('node:tls')
  const secureContext = tls.createSecureContext({ca: readFileSync(path.join(dir, 'cert.pem'))})
  const pool = new Http1Pool({host: '127.0.0.1', port, secure: true, secureContext, servername: 'localhost'})
  const read = (res) => new Promise((resolve, reject) => res.read({data() {}, end: resolve, error: reject}))
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      globalThis.gc()
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
  }
  await settle()
  const start = anonMiB()
  const lines = []
  let reference
  for (const n of STEPS) {
    const cpu = process.cpuUsage()
    const before = pool.connections.capped
    // n requests at once: the pool has no idle connection for the ones beyond those already open.
    await Promise.all(Array.from({length: n}, () => pool.request({method: 'GET', target: '/', headers: {}}).then(read)))
    const used = process.cpuUsage(cpu)
    const opened = pool.connections.capped - before
    await settle()
    const anon = anonMiB()
    reference ??= anon
    const perConnection = n > 1 ? Math.round(((anon - reference) / (n - 1)) * 1024) : undefined
    lines.push({connections: n, anonMiB: Math.round(anon * 10) / 10, peakRssMiB: Math.round(statusMiB('VmHWM') * 10) / 10, kibPerConnectionBeyondTheFirst: perConnection, cpuMsPerNewConnection: opened > 0 ? Math.round(((used.user + used.system) / 1000 / opened) * 10) / 10 : undefined})
  }
  pool.destroy()
  process.stdout.write(JSON.stringify({anonBeforeAnyConnectionMiB: Math.round(start * 10) / 10, steps: lines}) + '\n')
} else {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-bench-tls-'))
  let server
  try {
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], {encoding: 'utf8'})
    if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`)
    server = spawn(process.execPath, [fileURLToPath(import.meta.url), 'server', dir], {stdio: ['ignore', 'pipe', 'inherit']})
    const [chunk] = await once(server.stdout, 'data')
    const port = Number(String(chunk).trim())
    const {OPERATOR_ENV} = await import(path.join(root, 'dist/core/reconcile/footprint.js'))
    const client = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), 'client', String(port), dir], {encoding: 'utf8', env: {...process.env, ...OPERATOR_ENV}})
    if (client.status !== 0) throw new Error(`the client failed: ${client.stderr}`)
    const result = JSON.parse(client.stdout)
    process.stdout.write(`TLS connections of the operator's client (${OPERATOR_ENV.NODE_OPTIONS}, MALLOC_ARENA_MAX=${OPERATOR_ENV.MALLOC_ARENA_MAX}), node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`)
    process.stdout.write(`anon RSS before any connection: ${result.anonBeforeAnyConnectionMiB} MiB\n`)
    for (const s of result.steps) process.stdout.write(`${String(s.connections).padStart(3)} open: anon ${s.anonMiB} MiB (peak RSS so far ${s.peakRssMiB}); ${s.kibPerConnectionBeyondTheFirst === undefined ? '(reference)' : `${s.kibPerConnectionBeyondTheFirst} KiB per connection beyond the first`}; ${s.cpuMsPerNewConnection ?? '-'} ms CPU per new connection\n`)
  } finally {
    server?.kill()
    rmSync(dir, {recursive: true, force: true})
  }
}
