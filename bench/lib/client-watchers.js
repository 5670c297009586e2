// A process of bench/client.js that holds many watches open at once, as the operator does (about
// 15), with one of the bare clients: `https` (one HTTP/1.1 connection per watch) or `h2` (one
// HTTP/2 session, a stream per watch). Its own process, so its resident memory is that of the
// watches alone. Configured by $BENCH_WATCHERS (JSON: protocol, server, tls as PEM, path, watches,
// resourceVersion, events). Watch i sees the ConfigMaps labelled bench/shard=i from
// resourceVersion on. It prints one JSON line per step: "started" (nothing open yet), "watching"
// (every watch answered), "events" once `events` MODIFIED events in all have arrived; each with
// its CPU (process.cpuUsage, µs) and resident memory (/proc/self/status, KiB) after a full GC.
// A line "stop" on its stdin ends it (saying on stderr what each watch saw, when it saw too few).
import {setMaxListeners} from 'node:events'
import {readFileSync} from 'node:fs'
import readline from 'node:readline'

import {bareClient, bareH2Client} from './bare-clients.js'

const config = JSON.parse(process.env.BENCH_WATCHERS)
const report = (step, extra = {}) => {
  globalThis.gc?.()
  const status = readFileSync('/proc/self/status', 'utf8')
  const kib = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1])
  const {user, system} = process.cpuUsage()
  process.stdout.write(`${JSON.stringify({step, cpuMicros: user + system, rssKiB: kib('VmRSS'), anonKiB: kib('RssAnon'), ...extra})}\n`)
}

report('started')
const make = config.protocol === 'h2' ? bareH2Client : bareClient
const client = make(config.server, config.tls, {accept: 'application/json'})
const abort = new AbortController()
// Every watch listens on the one signal.
setMaxListeners(config.watches + 10, abort.signal)
let seen = 0
const byShard = Array.from({length: config.watches}, () => ({}))
const onEvent = (shard) => (event) => {
  byShard[shard][event.type] = (byShard[shard][event.type] ?? 0) + 1
  if (event.type === 'MODIFIED' && ++seen === config.events) report('events', {seen})
}
const started = []
for (let shard = 0; shard < config.watches; shard++) {
  const query = {labelSelector: `bench/kind=event,bench/shard=${shard}`, resourceVersion: config.resourceVersion}
  const ended = () => abort.signal.aborted || process.stderr.write(`watches: the watch of shard ${shard} ended after ${seen} events in all\n`)
  started.push(new Promise((resolve, reject) => client.watch(config.path, query, onEvent(shard), abort.signal, resolve).then(ended, reject)))
}
await Promise.all(started)
report('watching', config.protocol === 'h2' ? {alpn: await client.protocol()} : {})
readline.createInterface({input: process.stdin}).on('line', (line) => {
  if (line !== 'stop') return
  if (seen < config.events) process.stderr.write(`watches: stopped after ${seen} of ${config.events} events; by shard: ${JSON.stringify(byShard)}\n`)
  abort.abort()
  client.close()
  process.exit(0)
})
