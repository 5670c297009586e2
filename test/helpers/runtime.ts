import {cp, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {type ServeHandle, type ServeOptions, startServe} from '../../src/core/runtime/serve.js'
import {fixture} from './cli.js'

/** The fixture product of the runtime tests, copied to a temp dir so each suite has its own data. */
export async function copyShop(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dappmesh-serve-'))
  await cp(fixture('serve', 'shop'), dir, {recursive: true})
  return dir
}

export interface ShopRuntime {
  dir: string
  url: string
  handle: ServeHandle
  stop(): Promise<void>
}

/** A runtime of the fixture product in this process, on a free port of 127.0.0.1, with its real DuckDB. */
export async function startShop(options: Partial<ServeOptions> = {}): Promise<ShopRuntime> {
  const dir = await copyShop()
  const handle = await startServe({dir, host: '127.0.0.1', port: 0, auth: false, maxBody: 1024 * 1024, ...options})
  return {
    dir,
    url: handle.url,
    handle,
    async stop() {
      await handle.stop()
      await rm(dir, {recursive: true, force: true})
    },
  }
}

export interface Answer {
  status: number
  headers: Headers
  text: string
  json: any
}

export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init)
  const text = await res.text()
  let json: any
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  return {status: res.status, headers: res.headers, text, json}
}

export function ndjson(rows: Array<Record<string, unknown>>): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n'
}

export function push(base: string, port: string, body: string | Uint8Array, type = 'application/x-ndjson', headers: Record<string, string> = {}): Promise<Answer> {
  return call(`${base}/v1/inputs/${port}`, {method: 'POST', headers: {'content-type': type, ...headers}, body: body as BodyInit})
}

/** Orders with ids `from`..`to`, one per hour from 2024-01-01, amount = id. */
export function orders(from: number, to: number): Array<Record<string, unknown>> {
  const rows = []
  for (let id = from; id <= to; id++) {
    rows.push({id, customer: `c${id % 7}`, amount: id, placed_at: new Date(Date.UTC(2024, 0, 1) + id * 3_600_000).toISOString().replace('T', ' ').slice(0, 19)})
  }
  return rows
}

/** Starts a workflow run and waits for it to finish; returns the run record. */
export async function runWorkflow(base: string, workflow: string, timeoutMs = 60_000): Promise<any> {
  const started = await call(`${base}/v1/workflows/${workflow}/runs`, {method: 'POST'})
  if (started.status !== 202) throw new Error(`run of ${workflow}: ${started.status} ${started.text}`)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const run = await call(`${base}/v1/runs/${started.json.id}`)
    if (run.json.status !== 'running') return run.json
    if (Date.now() > deadline) throw new Error(`run ${started.json.id} still running after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
