import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'

import {requireCluster} from '../helpers/cluster.js'
import {kubectlApply, lightDomain, lightProduct} from '../helpers/light-product.js'
import {eventually} from '../helpers/operator-child.js'
import {type OperatorProcess, counterTotal, spawnOperator} from '../helpers/operator-process.js'

/**
 * Footprint (issue 14): an event re-enqueues a product only when it changes what the reconcile
 * reads. A status the reconcile does not read (a Service's) changing is no work; an edit of the
 * same child's metadata is, and the reconcile that follows writes nothing it need not.
 */
describe('operator run: which changes of a child cause a reconcile (real control plane)', function () {
  let kubeconfig: string
  let operator: OperatorProcess | undefined
  const id = randomBytes(3).toString('hex')
  const namespace = `noise-${id}`
  const domain = `noise-${id}`
  const product = 'quiet'
  const service = `${product}--${product}-api`
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
  const ready = () => JSON.parse(kubectl('get', 'dataproduct', product, '-n', namespace, '-o', 'json')).status?.conditions?.some((c: {type: string; status: string}) => c.type === 'Ready' && c.status === 'True')
  const reconciles = async () => (await counterTotal(operator!.url()!, 'dappmesh_reconciles_total')).total
  const writes = async () => (await counterTotal(operator!.url()!, 'dappmesh_api_writes_total')).total

  /** Waits until neither count has moved for a few seconds, and returns them. */
  async function settled(): Promise<{reconciles: number; writes: number}> {
    let last = {reconciles: await reconciles(), writes: await writes()}
    await eventually(async () => {
      await new Promise((resolve) => setTimeout(resolve, 3000))
      const now = {reconciles: await reconciles(), writes: await writes()}
      const quiet = now.reconciles === last.reconciles && now.writes === last.writes
      last = now
      return quiet
    }, 'the operator to settle', 90_000)
    return last
  }

  before(async function () {
    kubeconfig = await requireCluster(this)
    kubectl('create', 'namespace', namespace)
    operator = spawnOperator(['--kubeconfig', kubeconfig, '--only', 'product', '-n', namespace, '--health-port', '0'])
    await operator.waitFor(/caches synced/)
    kubectlApply(kubeconfig, [lightDomain(domain), ...lightProduct(namespace, product, {domain})])
    await eventually(ready, 'the product Ready', 120_000)
  })

  after(async function () {
    this.timeout(120_000)
    try {
      kubectl('delete', 'dataproduct', product, '-n', namespace, '--wait=false')
      await eventually(() => !kubectl('get', 'dataproducts', '-n', namespace, '-o', 'name').trim(), 'the product deleted', 60_000).catch(() => {})
    } catch {
      // the cluster goes away at the end of the run anyway
    }
    await operator?.kill('SIGTERM')
    try {
      kubectl('delete', 'namespace', namespace, '--wait=false', '--ignore-not-found')
      kubectl('delete', 'datadomain', domain, '--ignore-not-found')
    } catch {
      // the cluster goes away at the end of the run anyway
    }
  })

  it('does not reconcile when only a child\'s unread status changes', async function () {
    this.timeout(120_000)
    const before = await settled()
    kubectl('patch', 'service', service, '-n', namespace, '--subresource=status', '--type=merge', '-p', '{"status":{"conditions":[{"type":"Tested","status":"True","reason":"ByHand","message":"a status nobody reads","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}')
    assert.equal(kubectl('get', 'service', service, '-n', namespace, '-o', 'jsonpath={.status.conditions[0].reason}'), 'ByHand', 'the status changed')
    const after = await settled()
    assert.deepEqual(after, before, 'no reconcile and no write for a status the reconcile does not read')
  })

  it('reconciles when the same child\'s metadata is edited, and writes nothing it need not', async function () {
    this.timeout(120_000)
    const before = await settled()
    kubectl('label', 'service', service, '-n', namespace, 'edited-by=hand')
    const after = await settled()
    assert.ok(after.reconciles > before.reconciles, `a reconcile followed the edit (${before.reconciles} → ${after.reconciles})`)
    // A label of someone else's beside ours: the live Service still holds everything desired.
    assert.equal(after.writes, before.writes, 'the unchanged child was not applied again')
  })
})
