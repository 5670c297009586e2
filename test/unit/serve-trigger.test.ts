import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'

import {BIN, flat} from '../helpers/cli.js'
import {type ShopRuntime, ndjson, orders, push, startShop} from '../helpers/runtime.js'

/** The CLI as a child process, without blocking this process (the runtime under test lives here). */
function dappmesh(args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {env: {...process.env, NO_COLOR: '1'}})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('exit', (code) => resolve({code, stdout, stderr}))
  })
}

describe('dappmesh workflow trigger', function () {
  this.timeout(120_000)
  let shop: ShopRuntime

  before(async () => {
    shop = await startShop()
    await push(shop.url, 'orders-in', ndjson(orders(1, 10)))
  })
  after(async () => shop?.stop())

  it('runs the workflow on the runtime, reports each activity, and exits 0 when the run succeeds', async () => {
    const r = await dappmesh(['workflow', 'trigger', 'nightly', '--url', shop.url])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /run \S+: succeeded in \d+ ms/)
    assert.match(r.stderr, /clean: succeeded[\s\S]*daily: succeeded/)
  })

  it('prints the run as JSON with --json', async () => {
    const r = await dappmesh(['workflow', 'trigger', 'nightly', '--url', shop.url, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const run = JSON.parse(r.stdout)
    assert.equal(run.status, 'succeeded')
    assert.equal(run.activities.length, 3)
  })

  it('exits 1 when the run fails', async () => {
    const r = await dappmesh(['workflow', 'trigger', 'hurried', '--url', shop.url])
    assert.equal(r.code, 1)
    assert.match(r.stdout, /timed-out in \d+ ms: activity heavy timed out after 1s/)
  })

  it('exits 4 when the run is still going at --timeout', async () => {
    const r = await dappmesh(['workflow', 'trigger', 'slow', '--url', shop.url, '--timeout', '1s'])
    assert.equal(r.code, 4)
    assert.match(r.stderr, /still running after 1s/)
    await shop.handle.runtime.runs.abandon()
  })

  it('exits 2 for a workflow the product does not have', async () => {
    const r = await dappmesh(['workflow', 'trigger', 'nope', '--url', shop.url])
    assert.equal(r.code, 2)
    assert.match(flat(r.stderr), /no workflow "nope" in product shop/)
  })

  it('exits 3 when no runtime answers at --url', async () => {
    const r = await dappmesh(['workflow', 'trigger', 'nightly', '--url', 'http://127.0.0.1:9'])
    assert.equal(r.code, 3)
    assert.match(r.stderr, /cannot be reached/)
  })
})
