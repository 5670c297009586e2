#!/usr/bin/env node
// CPU per request of dappmesh's Kubernetes client (src/core/kube/rest.ts) against the leanest
// Node client doing the same requests: a bare node:https keep-alive agent (the reference, measured
// in the same run, interleaved with the client under test so load from other work on the machine
// falls on both alike). On a kwok control plane this script starts and stops, each client does
//   get:   BENCH_CLIENT_REQUESTS (default 2000) GETs of one ConfigMap, the answer parsed;
//   apply: as many server-side applies of a small ConfigMap that change nothing;
//   watch: BENCH_CLIENT_EVENTS (default 250) watch events a round, made by a writer in another process
//          (so its CPU is not counted) while the client watches.
// Clients: `bare` (client certificate, as the kwok kubeconfig has) against `kubeRest` (the same
// kubeconfig); `bareToken` (a bearer token read once) against `operator` (KubeRest as the operator
// runs in a pod: a token file, the client-side rate limit, the leader's write gate and the write
// counter of /metrics); `bareH2`: the bare client over HTTP/2 (one node:http2 session, ALPN h2, the
// same client certificate), what a client of HTTP/2 would at best pay (bench/lib/bare-clients.js).
// CPU is process.cpuUsage() (user + system) around each phase, summed over BENCH_CLIENT_ROUNDS
// (default 8) rounds whose client order rotates.
//   watches: the operator's case, BENCH_CLIENT_WATCHES (default 15) watches held open at once by a
//          process of their own (bench/lib/client-watchers.js), bare https (a connection each)
//          against bare http2 (a stream each on one session), BENCH_CLIENT_WATCH_ROUNDS (default 3)
//          processes of each: resident memory idle and watching, CPU to open them and per event.
// Writes bench/client-results.json.
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import {fileURLToPath} from 'node:url'

import {bareClient, bareH2Client} from './lib/bare-clients.js'
import {teardown} from './lib/kwok-bench.js'
import {run} from './lib/proc.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const REQUESTS = Math.max(10, Number.parseInt(process.env.BENCH_CLIENT_REQUESTS ?? '2000', 10))
const EVENTS = Math.max(10, Number.parseInt(process.env.BENCH_CLIENT_EVENTS ?? '250', 10))
const ROUNDS = Math.max(1, Number.parseInt(process.env.BENCH_CLIENT_ROUNDS ?? '8', 10))
// BENCH_CLIENT_BASELINE: the root of another build of dappmesh (with dist/), e.g. the commit before a
// change: its KubeRest runs as two more clients, kubeRestBaseline and operatorBaseline, in the same run.
const BASELINE = process.env.BENCH_CLIENT_BASELINE
// BENCH_CLIENT_PHASES: a comma-separated subset of get,apply,watch (all by default).
const PHASES = (process.env.BENCH_CLIENT_PHASES ?? 'get,apply,watch,watches').split(',').filter((phase) => ['get', 'apply', 'watch', 'watches'].includes(phase))
const WATCHES = Math.max(1, Number.parseInt(process.env.BENCH_CLIENT_WATCHES ?? '15', 10))
const WATCH_ROUNDS = Math.max(1, Number.parseInt(process.env.BENCH_CLIENT_WATCH_ROUNDS ?? '3', 10))
// Writer phases per watches process: its events are spread over the watches, EVENTS a phase.
const WATCHES_WRITES = 4
const WARMUP = 100
const log = (line) => process.stderr.write(`${line}\n`)
const work = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-bench-client-'))
const cluster = `bench-client-${process.pid}`
// BENCH_CLIENT_KUBECONFIG: an existing cluster to use instead (only its namespace is made and removed).
const existing = process.env.BENCH_CLIENT_KUBECONFIG
const kubeconfig = existing ?? path.join(work, 'kubeconfig')
const namespace = `bench-client-${process.pid}`
const configmaps = `/api/v1/namespaces/${namespace}/configmaps`
const kubectl = (...args) => run('kubectl', ['--kubeconfig', kubeconfig, ...args]).stdout.trim()

/** A ConfigMap of about the size of a small child object, the same on every apply. */
const configMap = (name, payload = 'x') => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {name, namespace, labels: {'app.kubernetes.io/part-of': 'bench-client', 'bench/kind': 'target'}},
  data: {'settings.json': JSON.stringify({payload, endpoints: Array.from({length: 8}, (_, i) => `http://svc-${i}.${namespace}.svc:8080`)})},
})

/** KubeRest behind the same three calls. */
function kubeRestClient(rest) {
  return {
    get: (p) => rest.get(p),
    apply: (p, object) => rest.apply(p, object, {fieldManager: 'bench', force: true}),
    watch: (p, query, onEvent, signal) => rest.watch(p, query, onEvent, signal),
    close: () => rest.close(),
  }
}

/**
 * A process that makes watch events on demand: for each line "<phase>" on its stdin it applies
 * EVENTS ConfigMaps (creating them the first time, changing them after), one at a time, and
 * prints "done". ConfigMap i is labelled shard i % WATCHES, for the watches phase. Its CPU is its
 * own, not this process's.
 */
function startWriter(server, tls) {
  const source = `
    const https = require('node:https')
    const readline = require('node:readline')
    const [server, tlsJson, events, ns, shards] = process.argv.slice(1)
    const tls = JSON.parse(tlsJson)
    const url = new URL(server)
    const agent = new https.Agent({keepAlive: true, ca: tls.ca, cert: tls.cert, key: tls.key})
    const apply = (name, phase, shard) => new Promise((resolve, reject) => {
      const body = JSON.stringify({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name, namespace: ns, labels: {'bench/kind': 'event', 'bench/shard': String(shard)}}, data: {phase, payload: 'y'.repeat(600)}})
      const req = https.request({host: url.hostname, port: url.port, method: 'PATCH', agent, path: '/api/v1/namespaces/' + ns + '/configmaps/' + name + '?fieldManager=writer&force=true',
        headers: {'content-type': 'application/apply-patch+yaml', 'content-length': Buffer.byteLength(body)}}, (res) => {
        res.resume()
        res.on('end', () => (res.statusCode < 300 ? resolve() : reject(new Error('HTTP ' + res.statusCode))))
      })
      req.on('error', reject)
      req.end(body)
    })
    readline.createInterface({input: process.stdin}).on('line', async (phase) => {
      for (let i = 0; i < Number(events); i++) await apply('event-' + i, phase, i % Number(shards))
      process.stdout.write('done\\n')
    })
  `
  const child = spawn(process.execPath, ['-e', source, server, JSON.stringify(tls), String(EVENTS), namespace, String(WATCHES)], {stdio: ['pipe', 'pipe', 'inherit']})
  let waiting
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', () => waiting?.())
  return {
    write: (phase) =>
      new Promise((resolve) => {
        waiting = resolve
        child.stdin.write(`${phase}\n`)
      }),
    stop: () => child.kill(),
  }
}

/**
 * One process holding WATCHES watches open with the bare client of `protocol` (https or h2), fed
 * EVENTS * WATCHES_WRITES events by the writer: its resident memory before and while watching, the
 * CPU it took to open them, and its CPU per event (the steps bench/lib/client-watchers.js reports).
 */
async function watchesProcess(protocol, config, writeEvents) {
  // After every earlier write: the watches see only the events written for them.
  const {resourceVersion} = (await clients.bare.get(`${configmaps}?limit=1`)).metadata
  const events = EVENTS * WATCHES_WRITES
  // The operator's own V8 flags (src/core/reconcile/footprint.ts), and a GC before each reading.
  const child = spawn(process.execPath, ['--expose-gc', '--max-semi-space-size=1', '--optimize-for-size', path.join(root, 'bench/lib/client-watchers.js')], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {...process.env, BENCH_WATCHERS: JSON.stringify({protocol, ...config, path: configmaps, watches: WATCHES, resourceVersion, events})},
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const steps = readline.createInterface({input: child.stdout})[Symbol.asyncIterator]()
  const next = async () => {
    const {value, done} = await steps.next()
    if (done) throw new Error(`the ${protocol} watches process ended early`)
    return JSON.parse(value)
  }
  try {
    const started = await next()
    const watching = await next()
    await writeEvents()
    // Every event is made by now: one that never comes would otherwise hang the bench.
    let timer
    const late = new Promise((resolve) => (timer = setTimeout(resolve, 60_000)))
    const after = await Promise.race([next(), late])
    clearTimeout(timer)
    // It says on stderr which watches missed events when it saw too few.
    child.stdin.write('stop\n')
    await exited
    if (!after) throw new Error(`the ${protocol} watches process did not see its ${events} events within 60 s`)
    const mib = (kib) => Math.round(kib / 102.4) / 10
    return {
      alpn: watching.alpn,
      anonMiB: {started: mib(started.anonKiB), watching: mib(watching.anonKiB), afterEvents: mib(after.anonKiB)},
      rssMiB: {started: mib(started.rssKiB), watching: mib(watching.rssKiB), afterEvents: mib(after.rssKiB)},
      openCpuMicroseconds: watching.cpuMicros - started.cpuMicros,
      cpuMicrosecondsPerEvent: Math.round((after.cpuMicros - watching.cpuMicros) / events),
    }
  } finally {
    child.kill()
  }
}

const cpuMicros = () => {
  const {user, system} = process.cpuUsage()
  return user + system
}

async function requests(client, count, phase) {
  const target = `${configmaps}/target`
  if (phase === 'get') for (let i = 0; i < count; i++) await client.get(target)
  else for (let i = 0; i < count; i++) await client.apply(target, configMap('target'))
}

let writer
const clients = {}
try {
  if (!existing) {
    log('starting a kwok cluster (cluster/up.sh)')
    run('bash', [path.join(root, 'cluster/up.sh'), cluster, kubeconfig], {stdio: ['ignore', 'ignore', 'inherit'], env: {...process.env, DAPPMESH_KWOK_NODES: '0'}})
  }
  kubectl('create', 'namespace', namespace)
  kubectl('create', 'serviceaccount', 'bench', '-n', namespace)
  kubectl('create', 'rolebinding', 'bench', '--clusterrole=edit', `--serviceaccount=${namespace}:bench`, '-n', namespace)
  const token = kubectl('create', 'token', 'bench', '-n', namespace, '--duration', '2h')
  const tokenFile = path.join(work, 'token')
  writeFileSync(tokenFile, token)

  const {loadKubeConfig} = await import(path.join(root, 'dist/core/kube/kubeconfig.js'))
  const loaded = await loadKubeConfig({kubeconfig})
  const file = (data, name) => (data ? Buffer.from(data, 'base64') : name ? readFileSync(name) : undefined)
  const tls = {
    ca: file(loaded.cluster['certificate-authority-data'], loaded.cluster['certificate-authority']),
    cert: file(loaded.user['client-certificate-data'], loaded.user['client-certificate']),
    key: file(loaded.user['client-key-data'], loaded.user['client-key']),
  }
  const ca = tls.ca

  clients.bare = bareClient(loaded.server, tls, {accept: 'application/json'})
  clients.bareH2 = bareH2Client(loaded.server, tls, {accept: 'application/json'})
  const alpn = await clients.bareH2.protocol()
  if (alpn !== 'h2') throw new Error(`the API server answered ALPN ${alpn}, not h2: the HTTP/2 reference would measure nothing`)
  clients.bareToken = bareClient(loaded.server, {ca}, {accept: 'application/json', authorization: `Bearer ${token}`})
  for (const [suffix, build] of [['', root], ...(BASELINE ? [['Baseline', path.resolve(BASELINE)]] : [])]) {
    const {KubeRest} = await import(path.join(build, 'dist/core/kube/rest.js'))
    const {Metrics, countingWrites} = await import(path.join(build, 'dist/core/reconcile/metrics.js'))
    clients[`kubeRest${suffix}`] = kubeRestClient(await KubeRest.create(loaded))
    // As operator.ts makes it in a pod: a token file, a rate limit (high enough never to wait here:
    // the cost of asking it is measured, not its pacing), the leader's write gate and the write counter.
    const inPod = await KubeRest.create({...loaded, user: {tokenFile}}, {maxSockets: Number.POSITIVE_INFINITY, rateLimit: {qps: 1e6, burst: 1e6}})
    clients[`operator${suffix}`] = kubeRestClient(countingWrites(inPod.gated(() => 15_000), new Metrics(), 'bench'))
  }
  const names = Object.keys(clients)

  const pem = (b) => b?.toString('utf8')
  writer = startWriter(loaded.server, {ca: pem(tls.ca), cert: pem(tls.cert), key: pem(tls.key)})
  await clients.bare.apply(`${configmaps}/target`, configMap('target'))
  log(`warming up each client (${WARMUP} GETs and applies)`)
  for (const name of names) {
    await requests(clients[name], WARMUP, 'get')
    await requests(clients[name], WARMUP, 'apply')
  }
  log('making the ConfigMaps the watch phases change')
  await writer.write('create')

  const cpu = Object.fromEntries(PHASES.filter((p) => p !== 'watches').map((phase) => [phase, Object.fromEntries(names.map((n) => [n, []]))]))
  const perRound = Math.ceil(REQUESTS / ROUNDS)
  let watchPhase = 0
  for (let round = 0; round < ROUNDS; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length])
    log(`round ${round + 1}/${ROUNDS}: ${order.join(', ')}`)
    for (const phase of PHASES.filter((p) => p === 'get' || p === 'apply')) {
      for (const name of order) {
        const before = cpuMicros()
        await requests(clients[name], perRound, phase)
        cpu[phase][name].push((cpuMicros() - before) / perRound)
      }
    }
    for (const name of PHASES.includes('watch') ? order : []) {
      const abort = new AbortController()
      const {resourceVersion} = await clients.bare.get(`${configmaps}?limit=1`).then((list) => list.metadata)
      let seen = 0
      let done
      const all = new Promise((resolve) => (done = resolve))
      const before = cpuMicros()
      const watching = clients[name].watch(configmaps, {labelSelector: 'bench/kind=event', resourceVersion}, (event) => {
        if (event.type === 'MODIFIED' && ++seen === EVENTS) done()
      }, abort.signal)
      await writer.write(`phase-${++watchPhase}`)
      await all
      const used = cpuMicros() - before
      abort.abort()
      await watching
      cpu.watch[name].push(used / EVENTS)
    }
  }

  // The operator's case: WATCHES watches open at once, on connections of their own or streams of one session.
  const many = {https: [], h2: []}
  for (let round = 0; PHASES.includes('watches') && round < WATCH_ROUNDS; round++) {
    for (const protocol of round % 2 ? ['h2', 'https'] : ['https', 'h2']) {
      log(`watches round ${round + 1}/${WATCH_ROUNDS}: ${WATCHES} ${protocol} watches, ${EVENTS * WATCHES_WRITES} events`)
      const config = {server: loaded.server, tls: {ca: pem(tls.ca), cert: pem(tls.cert), key: pem(tls.key)}}
      many[protocol].push(
        await watchesProcess(protocol, config, async () => {
          for (let i = 0; i < WATCHES_WRITES; i++) await writer.write(`phase-${++watchPhase}`)
        }),
      )
    }
  }

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length
  const us = (x) => Math.round(x)
  const phases = {}
  for (const [phase, byClient] of Object.entries(cpu)) {
    const m = Object.fromEntries(names.map((n) => [n, mean(byClient[n])]))
    phases[phase] = {
      cpuMicrosecondsPerOperation: Object.fromEntries(names.map((n) => [n, {mean: us(m[n]), median: us(median(byClient[n])), rounds: byClient[n].map(us)}])),
      ratio: Object.fromEntries(
        [['bareH2', 'bare'], ['kubeRest', 'bare'], ['operator', 'bareToken'], ...(BASELINE ? [['kubeRestBaseline', 'bare'], ['operatorBaseline', 'bareToken']] : [])].map(([a, b]) => [`${a}To${b[0].toUpperCase()}${b.slice(1)}`, Math.round((m[a] / m[b]) * 100) / 100]),
      ),
    }
  }
  // Medians over the processes of each protocol; the watches' memory is watching minus started.
  const watches = many.https.length === 0 ? undefined : {
    watches: WATCHES,
    eventsPerProcess: EVENTS * WATCHES_WRITES,
    processesPerProtocol: WATCH_ROUNDS,
    ...Object.fromEntries(
      Object.entries(many).map(([protocol, runs]) => [
        protocol,
        {
          anonMiBStarted: median(runs.map((r) => r.anonMiB.started)),
          anonMiBOfTheWatches: Math.round(median(runs.map((r) => r.anonMiB.watching - r.anonMiB.started)) * 10) / 10,
          anonMiBAfterEvents: median(runs.map((r) => r.anonMiB.afterEvents)),
          rssMiBWatching: median(runs.map((r) => r.rssMiB.watching)),
          openCpuMicroseconds: median(runs.map((r) => r.openCpuMicroseconds)),
          cpuMicrosecondsPerEvent: median(runs.map((r) => r.cpuMicrosecondsPerEvent)),
          runs,
        },
      ]),
    ),
  }
  if (watches) watches.h2ToHttpsCpuPerEvent = Math.round((watches.h2.cpuMicrosecondsPerEvent / watches.https.cpuMicrosecondsPerEvent) * 100) / 100
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    requestsPerClientAndPhase: perRound * ROUNDS,
    watchEventsPerClient: EVENTS * ROUNDS,
    rounds: ROUNDS,
    // BENCH_CLIENT_BASELINE_LABEL says what the baseline build is (e.g. its commit).
    ...(BASELINE ? {baseline: process.env.BENCH_CLIENT_BASELINE_LABEL ?? BASELINE} : {}),
    phases,
    ...(watches ? {watches} : {}),
    goal: 'each ratio <= 1.3 (issue 14 item 7: a request costs about what the leanest Node client pays)',
    notes: [
      'CPU is this process\'s user + system time (process.cpuUsage) around each phase, divided by its operations; the API server, etcd and the watch writer run in other processes.',
      'bare: node:https with a keep-alive agent and the kubeconfig\'s client certificate, the answer read and JSON-parsed; kubeRest: KubeRest.create(kubeconfig) doing the same.',
      'bareToken: the same with a bearer token read once; operator: KubeRest with that token in a file (read as in a pod), a rate limit that never waits, the leader write gate and the write counter of /metrics.',
      'Requests go one at a time; watch events come from another process applying ConfigMaps one at a time (one MODIFIED event each).',
      'bareH2: the bare client over one node:http2 session (ALPN h2 checked), the same client certificate; each request or watch a stream.',
      'watches: a process of its own (the operator\'s V8 flags) opens that many watches at once with bare https (a connection each) or bare h2 (a stream each on one session), each watch on its shard of the events; memory is /proc RssAnon after a full GC, before opening (started) and once all answered.',
    ],
  }
  writeFileSync(path.join(root, 'bench/client-results.json'), JSON.stringify(result, null, 2) + '\n')
  const line = (phase) => `${phase.padEnd(6)} ${names.map((n) => `${n} ${phases[phase].cpuMicrosecondsPerOperation[n].mean} µs`).join(', ')}; ratios ${Object.entries(phases[phase].ratio).map(([k, v]) => `${k} ${v}`).join(', ')}`
  process.stdout.write(`client CPU per operation (${REQUESTS} requests, ${EVENTS * ROUNDS} watch events per client):\n${Object.keys(phases).map(line).join('\n')}\n`)
  if (watches) {
    const w = (p) => `${p} ${watches[p].anonMiBOfTheWatches} MiB anon for the watches (${watches[p].anonMiBStarted} MiB before), ${watches[p].openCpuMicroseconds} µs CPU to open them, ${watches[p].cpuMicrosecondsPerEvent} µs per event`
    process.stdout.write(`${WATCHES} watches open at once: ${w('https')}; ${w('h2')}\n`)
  }
} finally {
  writer?.stop()
  for (const client of Object.values(clients)) client.close()
  if (existing) {
    spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'delete', 'namespace', namespace, '--wait=false'], {stdio: 'ignore'})
    rmSync(work, {recursive: true, force: true})
  } else {
    await teardown({root, cluster, work})
  }
}
