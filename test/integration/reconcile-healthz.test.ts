import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {type OperatorResult, runOperator} from '../../src/core/reconcile/operator.js'
import {requireCluster} from '../helpers/cluster.js'
import {eventually} from '../helpers/operator-child.js'
import type {ProductCopy} from '../helpers/product.js'
import {proxiedOrderProduct} from '../helpers/proxy-kubeconfig.js'
import type {HttpProxy} from '../helpers/proxies.js'

const STUCK_AFTER_MS = 4000
/** the client's per-request timeout in this test: a held request fails after this, and the loop moves again */
const REQUEST_TIMEOUT_S = 20

/**
 * The operator's /healthz is its liveness probe: a reconcile that never finishes must fail it, so
 * that the kubelet restarts a wedged operator, and it must be healthy again once the loop moves.
 * The operator runs in this process against the real API server through an HTTP proxy of the
 * test's, which holds (never answers) the requests for one kind, Deployments, in one namespace.
 */
describe('operator /healthz while a reconcile hangs (real control plane)', function () {
  let kubeconfig: string
  let p: ProductCopy
  let proxy: HttpProxy
  let remove: (() => void) | undefined
  let operator: {abort: AbortController; done: Promise<OperatorResult | Error>} | undefined
  const saNamespace = `hz-${randomBytes(3).toString('hex')}`
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-healthz-'))
  const previousTimeout = process.env.DAPPMESH_REQUEST_TIMEOUT
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']}).trim()

  before(async function () {
    kubeconfig = await requireCluster(this)
    const made = await proxiedOrderProduct(kubeconfig, 'hz', saNamespace, path.join(dir, 'kubeconfig'))
    p = made.product
    proxy = made.proxy
    remove = made.remove
  })

  after(async () => {
    operator?.abort.abort()
    await proxy?.close()
    await operator?.done
    if (previousTimeout === undefined) delete process.env.DAPPMESH_REQUEST_TIMEOUT
    else process.env.DAPPMESH_REQUEST_TIMEOUT = previousTimeout
    remove?.()
    rmSync(dir, {recursive: true, force: true})
  })

  it(`fails /healthz within ${STUCK_AFTER_MS / 1000} s of a reconcile that hangs, naming the loop, and is healthy again once it moves`, async function () {
    this.timeout(180_000)
    const deployments = new RegExp(`^/apis/apps/v1/namespaces/${p.namespace}/deployments/`)
    proxy.hold(deployments)
    process.env.DAPPMESH_REQUEST_TIMEOUT = String(REQUEST_TIMEOUT_S)
    const log: string[] = []
    const abort = new AbortController()
    let health = ''
    const listening = new Promise<void>((resolve) => {
      const done = runOperator(
        {
          kubeconfig: path.join(dir, 'kubeconfig'),
          only: ['product'],
          scope: {namespaces: [p.namespace]},
          healthPort: 0,
          runtimeImage: 'dappmesh:test',
          stuckAfterMs: STUCK_AFTER_MS,
          installCrds: false,
          log: (level, message) => log.push(`${level} ${message}`),
          onListening: (what, url) => {
            if (what === 'health') {
              health = `${url}/healthz`
              resolve()
            }
          },
        },
        abort.signal,
      ).catch((error: Error) => error)
      operator = {abort, done}
    })
    await listening
    const started = Date.now()

    // /healthz every 200 ms, with its answer, until it fails, and then until it is fine again.
    const statuses: Array<{at: number; status: number; body: string}> = []
    const poll = async () => {
      const answer = await fetch(health).then(async (r) => ({status: r.status, body: await r.text()}), () => ({status: 0, body: ''}))
      statuses.push({at: Date.now(), ...answer})
      return answer
    }
    const pollUntil = async (want: (status: number) => boolean, ms: number, what: string) => {
      const deadline = Date.now() + ms
      while (Date.now() < deadline) {
        const {status} = await poll()
        if (want(status)) return statuses.at(-1)!
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      throw new Error(`${what} within ${ms} ms; /healthz answered ${JSON.stringify(statuses.slice(-3))}; operator log:\n${log.join('\n')}`)
    }

    const failing = await pollUntil((status) => status === 500, STUCK_AFTER_MS + 20_000, '/healthz did not fail')
    const held = proxy.held[0]
    assert.ok(held, `the reconcile reached the held Deployment request; /healthz: ${failing.body}; log:\n${log.join('\n')}`)
    assert.match(failing.body, /^product: no reconcile finished for \d+s with 1 keys waiting/)
    // Not before the threshold (the key was queued after the operator started), and not much after
    // it (the key was queued before its request was held).
    assert.ok(failing.at - started >= STUCK_AFTER_MS, `/healthz failed ${failing.at - started} ms after the start`)
    assert.ok(failing.at - held.at <= STUCK_AFTER_MS + 1500, `/healthz failed ${failing.at - held.at} ms after the held request`)
    assert.ok(statuses.some((s) => s.status === 200 && s.at < failing.at), '/healthz was fine before the loop got stuck')

    assert.equal(kubectl('get', 'deployments', '-n', p.namespace, '-o', 'name'), '', 'no Deployment write got through the hold')

    // Let requests through: the held one times out on the client, the reconcile is retried and finishes.
    const released = Date.now()
    proxy.hold(undefined)
    const healthy = await pollUntil((status) => status === 200, REQUEST_TIMEOUT_S * 1000 + 20_000, '/healthz did not recover')
    assert.ok(healthy.at >= held.at + REQUEST_TIMEOUT_S * 1000 - 1000, 'healthy again only once the held request gave up')
    // Both Deployments (one apply tier) were held at once and gave up together: the retry, a moment later, writes them.
    await eventually(() => kubectl('get', 'deployments', '-n', p.namespace, '-o', 'name') !== '', 'the retried reconcile to write its Deployments', 20_000)
    process.stderr.write(`      (/healthz failed ${((failing.at - held.at) / 1000).toFixed(1)} s after the Deployment request was held (threshold ${STUCK_AFTER_MS / 1000} s); healthy ${((healthy.at - released) / 1000).toFixed(1)} s after the release)\n`)
  })
})
