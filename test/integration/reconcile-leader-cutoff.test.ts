import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {requireCluster} from '../helpers/cluster.js'
import {eventually} from '../helpers/operator-child.js'
import {type OperatorProcess, spawnOperator} from '../helpers/operator-process.js'
import type {ProductCopy} from '../helpers/product.js'
import {proxiedOrderProduct} from '../helpers/proxy-kubeconfig.js'
import type {HttpProxy} from '../helpers/proxies.js'

const RENEW_DEADLINE_MS = 10_000
const LEASE_DURATION_MS = 15_000
const LEASES = /\/leases(\/|\?|$)/

/**
 * A leader cut off from the API server for its lease only (a partial partition: its other requests
 * still reach the server) must stop writing before anyone else may take the lease. The operator
 * talks to the real API server through an HTTP proxy of the test's that can hold Lease requests and
 * records when each write arrives.
 */
describe('operator run --leader-elect: a leader that cannot renew (real control plane)', function () {
  let kubeconfig: string
  let p: ProductCopy
  let proxy: HttpProxy
  let remove: (() => void) | undefined
  let operator: OperatorProcess | undefined
  const leaseNamespace = `cut-${randomBytes(3).toString('hex')}`
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-cutoff-'))

  before(async function () {
    kubeconfig = await requireCluster(this)
    const made = await proxiedOrderProduct(kubeconfig, 'cut', leaseNamespace, path.join(dir, 'kubeconfig'))
    p = made.product
    proxy = made.proxy
    remove = made.remove
  })

  after(async () => {
    await operator?.kill('SIGKILL')
    await proxy?.close()
    remove?.()
    rmSync(dir, {recursive: true, force: true})
  })

  it('stops writing at its renew deadline, before the lease can expire, never answers /healthz with 200 after it, and exits 1', async () => {
    operator = spawnOperator(['--only', 'product', '-n', p.namespace, '--leader-elect', '--leader-election-namespace', leaseNamespace, '--kubeconfig', path.join(dir, 'kubeconfig'), '--health-port', '0', '--kube-qps', '2', '--kube-burst', '2'])
    await operator.waitFor(/became the leader/)
    // Mid-work: its first Deployment written (the log says what a reconcile did only once it ends,
    // and at 2 requests a second the first reconcile of a product with three storages takes a while).
    await eventually(() => proxy.writes.some((w) => /\/deployments\//.test(w.path)), 'the leader writing a Deployment')
    const health = `${operator.url()}/healthz`
    assert.equal((await fetch(health)).status, 200)

    const blockedAt = Date.now()
    proxy.hold(LEASES)
    const renewals = proxy.writes.filter((w) => LEASES.test(w.path) && w.at < blockedAt)
    assert.ok(renewals.length > 0, 'the leader renewed its lease through the proxy')
    const lastRenewal = renewals.at(-1)!.at
    const deadline = lastRenewal + RENEW_DEADLINE_MS

    // Give the leader work all along: its Deployments keep disappearing. (At 2 requests a second,
    // a reconcile is still writing when the deadline comes: only the write gate can stop it.) (kubectl runs
    // asynchronously: the proxy in this process must stamp each write when it arrives.)
    const statuses: Array<{at: number; status: number}> = []
    while (operator.alive() && Date.now() < blockedAt + 30_000) {
      await promisify(execFile)('kubectl', ['--kubeconfig', kubeconfig, 'delete', 'deployments', '--all', '-n', p.namespace, '--wait=false']).catch(() => {})
      const status = await fetch(health).then((r) => r.status, () => 0)
      statuses.push({at: Date.now(), status})
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    const code = await operator.kill()
    const exitedAt = Date.now()

    const writes = proxy.writes.filter((w) => !LEASES.test(w.path))
    const during = writes.filter((w) => w.at > blockedAt && w.at <= deadline)
    const late = writes.filter((w) => w.at > deadline)
    assert.ok(during.length > 0, 'the leader still wrote while it surely held the lease')
    assert.deepEqual(late.map((w) => `${w.method} ${w.path} ${w.at - deadline} ms after the deadline`), [], 'no write reached the API server after the renew deadline')
    assert.equal(code, 1, operator.log())
    assert.match(operator.log(), /lost leadership: could not renew the lease/)
    assert.ok(exitedAt < lastRenewal + LEASE_DURATION_MS + 5000, `exited ${exitedAt - lastRenewal} ms after its last renewal`)
    const afterDeadline = statuses.filter((s) => s.at > deadline + 200 && s.status !== 0)
    assert.ok(afterDeadline.every((s) => s.status === 500), `/healthz after the deadline: ${JSON.stringify(afterDeadline)}`)
    assert.ok(statuses.some((s) => s.at < deadline && s.status === 200), '/healthz was fine before the deadline')
  })
})
