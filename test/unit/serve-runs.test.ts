import assert from 'node:assert/strict'
import {type ChildProcess, spawn} from 'node:child_process'
import {rename, rm} from 'node:fs/promises'
import path from 'node:path'

import {BIN} from '../helpers/cli.js'
import {type ShopRuntime, call, copyShop, ndjson, orders, push, runWorkflow, startShop} from '../helpers/runtime.js'

async function tables(shop: ShopRuntime): Promise<string[]> {
  const rows = await shop.handle.runtime.store.rows<{t: string}>(`SELECT table_name AS t FROM duckdb_tables() WHERE database_name = 'analytics' ORDER BY 1`)
  return rows.map((r) => r.t)
}

describe('serve: workflow runs', function () {
  this.timeout(120_000)
  let shop: ShopRuntime
  let base: string

  beforeEach(async () => {
    shop = await startShop()
    base = shop.url
  })
  afterEach(async () => shop?.stop())

  it('runs the activities in dependsOn order and publishes their states, with contract results', async () => {
    await push(base, 'orders-in', ndjson(orders(1, 30)))
    const run = await runWorkflow(base, 'nightly')
    assert.equal(run.status, 'succeeded', run.error)
    assert.deepEqual(run.activities.map((a: any) => [a.name, a.status, a.attempts]), [['clean', 'succeeded', 1], ['daily', 'succeeded', 1], ['log', 'succeeded', 1]])
    assert.deepEqual(run.result.contracts.map((c: any) => [c.port, c.passed]), [['orders-api', true], ['orders-daily', true], ['orders-log', true]])
    const daily = await call(`${base}/v1/ports/orders-daily`)
    assert.deepEqual(daily.json.rows.map((r: any) => r.orders), [23, 7])
  })

  it('answers 202 with a Location to poll, and 404 for an unknown run', async () => {
    const res = await call(`${base}/v1/workflows/nightly/runs`, {method: 'POST'})
    assert.equal(res.status, 202)
    assert.equal(res.headers.get('location'), `/v1/runs/${res.json.id}`)
    await shop.handle.runtime.runs.settle()
    assert.equal((await call(`${base}/v1/runs/nope`)).status, 404)
  })

  it('retries a failing activity up to retry.maxAttempts, then fails the run and skips its dependents', async () => {
    // A transition whose SQL fails at run time: the clean state no longer matches its SQL.
    shop.handle.runtime.model.flows.get('orders')!.transitions.find((t) => t.name === 'clean')!.sql = 'SELECT 1 / 0 AS id'
    const run = await runWorkflow(base, 'nightly')
    assert.equal(run.status, 'failed')
    assert.equal(run.activities[0].attempts, 2)
    assert.equal(run.activities[0].status, 'failed')
    assert.match(run.activities[0].error, /does not match state orders@1.0.0\/clean: missing columns customer, amount, placed_at/)
    assert.deepEqual(run.activities.slice(1).map((a: any) => a.status), ['skipped', 'skipped'])
  })

  it('stops an activity at its timeout and leaves every published state as it was', async () => {
    await push(base, 'orders-in', ndjson(orders(1, 5)))
    assert.equal((await runWorkflow(base, 'nightly')).status, 'succeeded')
    const before = (await call(`${base}/v1/ports/orders-api`)).json.rows
    await push(base, 'orders-in', ndjson(orders(6, 9)))
    const run = await runWorkflow(base, 'hurried')
    assert.equal(run.status, 'timed-out')
    assert.match(run.error, /activity heavy timed out after 1s/)
    assert.deepEqual((await call(`${base}/v1/ports/orders-api`)).json.rows, before)
    assert.ok(!(await tables(shop)).includes('orders__heavy'))
  })

  it('refuses a second run while one is going (409) and an unknown workflow (404)', async () => {
    await push(base, 'orders-in', ndjson(orders(1, 5)))
    const first = await call(`${base}/v1/workflows/hurried/runs`, {method: 'POST'})
    const second = await call(`${base}/v1/workflows/nightly/runs`, {method: 'POST'})
    assert.equal(second.status, 409)
    assert.match(second.json.error.message, new RegExp(`run ${first.json.id} is still going`))
    await shop.handle.runtime.runs.settle()
    const unknown = await call(`${base}/v1/workflows/nope/runs`, {method: 'POST'})
    assert.equal(unknown.status, 404)
    assert.match(unknown.json.error.message, /its workflows are nightly, slow, hurried/)
  })

  it("confines the product's SQL to the runtime's own files: a transition cannot read the pod's token or environment", async () => {
    await push(base, 'orders-in', ndjson(orders(1, 5)))
    shop.handle.runtime.model.flows.get('orders')!.transitions.find((t) => t.name === 'clean')!.sql = "SELECT content AS id FROM read_text('/proc/self/environ')"
    const run = await runWorkflow(base, 'nightly')
    assert.equal(run.status, 'failed')
    assert.match(run.activities[0].error, /Permission Error: Cannot access file "\/proc\/self\/environ"/)
    assert.ok(!(await tables(shop)).includes('orders__clean'))
  })

  it('publishes nothing when a contract rule fails', async () => {
    await push(base, 'orders-in', ndjson(orders(1, 5)))
    const contract = shop.handle.runtime.model.ports.get('orders-daily')!.contract!.document as any
    contract.schema[0].quality = [{type: 'sql', description: 'at least 100 days', query: 'SELECT count(*) FROM daily', mustBeGreaterThan: 100}]
    const run = await runWorkflow(base, 'nightly')
    assert.equal(run.status, 'failed')
    assert.match(run.error, /contract checks failed: orders-daily/)
    assert.equal(run.result.contracts.find((c: any) => c.port === 'orders-daily').passed, false)
    assert.deepEqual((await tables(shop)).filter((t) => t !== 'orders__raw' && !t.startsWith('__dappmesh_')), [])
  })
})

describe('serve: health and readiness', function () {
  this.timeout(60_000)
  let shop: ShopRuntime

  before(async () => (shop = await startShop()))
  after(async () => shop?.stop())

  it('answers /readyz 503 while its storage is gone and 200 again once it is back', async () => {
    assert.equal((await call(`${shop.url}/readyz`)).status, 200)
    const file = path.join(shop.dir, '.dappmesh', 'data', 'analytics.duckdb')
    await rename(file, `${file}.away`)
    const down = await call(`${shop.url}/readyz`)
    assert.equal(down.status, 503)
    assert.match(down.json.error.message, /storage "analytics": .*analytics.duckdb is gone/)
    assert.equal((await call(`${shop.url}/healthz`)).status, 200)
    await rename(`${file}.away`, file)
    assert.equal((await call(`${shop.url}/readyz`)).status, 200)
  })

  it('serves an OpenAPI 3 document naming every endpoint and the product\'s ports', async () => {
    const doc = (await call(`${shop.url}/v1/openapi.json`)).json
    assert.equal(doc.openapi, '3.0.3')
    assert.deepEqual(Object.keys(doc.paths).sort(), ['/healthz', '/metrics', '/readyz', '/v1/inputs/{port}', '/v1/openapi.json', '/v1/ports', '/v1/ports/{port}', '/v1/ports/{port}/contract', '/v1/ports/{port}/schema', '/v1/runs/{id}', '/v1/workflows/{workflow}/runs'])
    assert.deepEqual(doc.paths['/v1/ports/{port}'].get.parameters[0].schema.enum, ['orders-api', 'orders-daily', 'orders-log'])
  })

  it('exposes request counts and latency, run durations and contract results in /metrics', async () => {
    await push(shop.url, 'orders-in', ndjson(orders(1, 3)))
    await runWorkflow(shop.url, 'nightly')
    const text = (await call(`${shop.url}/metrics`)).text
    assert.match(text, /dappmesh_http_request_duration_seconds_bucket\{route="\/v1\/inputs\/\{port\}",le="0\.005"\}/)
    assert.match(text, /dappmesh_runs_total\{result="succeeded",workflow="nightly"\} 1/)
    assert.match(text, /dappmesh_run_duration_seconds_count\{workflow="nightly"\} 1/)
    assert.match(text, /dappmesh_contract_checks_total\{port="orders-api",result="passed"\} 1/)
  })
})

/** `dappmesh serve DIR` as its own process, up and answering. */
async function serveProcess(dir: string): Promise<{child: ChildProcess; url: string; stderr: () => string; exit: (signal: NodeJS.Signals) => Promise<number | null>}> {
  const child = spawn(process.execPath, [BIN, 'serve', dir, '--port', '0'], {stdio: ['ignore', 'pipe', 'pipe']})
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', () => {
      const m = /on (http:\/\/\S+)/.exec(stderr)
      if (m) resolve(m[1])
    })
    child.on('exit', () => reject(new Error(`serve exited: ${stderr}`)))
  })
  return {
    child,
    url,
    stderr: () => stderr,
    exit(signal) {
      child.kill(signal)
      return exited
    },
  }
}

/**
 * Starts the slow workflow and waits until its first activity (clean) is done and its second
 * (heavy, which runs for minutes) has started: by then the run log holds clean's result.
 */
async function startSlowRun(url: string): Promise<string> {
  await push(url, 'orders-in', ndjson(orders(1, 5)))
  const started = await call(`${url}/v1/workflows/slow/runs`, {method: 'POST'})
  for (;;) {
    const run = (await call(`${url}/v1/runs/${started.json.id}`)).json
    if (run.activities[1].status === 'running') return started.json.id
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('serve as a process', function () {
  this.timeout(120_000)
  const dirs: string[] = []
  after(async () => Promise.all(dirs.map((d) => rm(d, {recursive: true, force: true}))))

  it('keeps its runs across a restart: GET /v1/runs/<id> and each port\'s last run answer as before', async () => {
    const dir = await copyShop()
    dirs.push(dir)
    let serve = await serveProcess(dir)
    await push(serve.url, 'orders-in', ndjson(orders(1, 30)))
    const run = await runWorkflow(serve.url, 'nightly')
    assert.equal(run.status, 'succeeded', run.error)
    const lastRun = (await call(`${serve.url}/v1/ports`)).json.ports.find((p: any) => p.name === 'orders-daily').lastRun
    assert.equal(await serve.exit('SIGTERM'), 0)

    serve = await serveProcess(dir)
    try {
      const again = await call(`${serve.url}/v1/runs/${run.id}`)
      assert.equal(again.status, 200)
      assert.deepEqual(again.json, run)
      const ports = (await call(`${serve.url}/v1/ports`)).json.ports
      assert.deepEqual(ports.find((p: any) => p.name === 'orders-daily').lastRun, lastRun)
      assert.equal(lastRun.run, run.id)
    } finally {
      await serve.exit('SIGTERM')
    }
  })

  it('records a run the process died in (SIGKILL) as abandoned when it starts again, with nothing of it published', async () => {
    const dir = await copyShop()
    dirs.push(dir)
    let serve = await serveProcess(dir)
    const id = await startSlowRun(serve.url)
    await serve.exit('SIGKILL')

    serve = await serveProcess(dir)
    try {
      const run = (await call(`${serve.url}/v1/runs/${id}`)).json
      assert.equal(run.status, 'abandoned')
      assert.match(run.error, /the runtime stopped during the run/)
      assert.deepEqual(run.activities.map((a: any) => a.status), ['succeeded', 'skipped'])
      assert.equal((await call(`${serve.url}/v1/ports/orders-api`)).json.rows.length, 0)
      // And the runtime runs again: the abandoned run holds nothing.
      assert.equal((await call(`${serve.url}/v1/workflows/nightly/runs`, {method: 'POST'})).status, 202)
    } finally {
      await serve.exit('SIGTERM')
    }
  })

  it('on SIGTERM during a run abandons the run (nothing of it published) and exits 0', async () => {
    const dir = await copyShop()
    dirs.push(dir)
    const serve = await serveProcess(dir)
    const id = await startSlowRun(serve.url)
    assert.equal(await serve.exit('SIGTERM'), 0)
    assert.match(serve.stderr(), new RegExp(`abandoning run ${id}`))
    // The data file holds the pushed rows and nothing of the abandoned run (clean was computed, never published).
    const {DuckDBInstance} = await import('@duckdb/node-api')
    const db = await DuckDBInstance.create(path.join(dir, '.dappmesh', 'data', 'analytics.duckdb'))
    const c = await db.connect()
    const names = (await c.runAndReadAll(`SELECT table_name FROM duckdb_tables() ORDER BY 1`)).getRows().map((r) => r[0])
    c.closeSync()
    db.closeSync()
    assert.deepEqual(names, ['__dappmesh_pushes', '__dappmesh_runs', 'orders__raw'])
  })
})
