import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'

import {requireCluster} from '../helpers/cluster.js'
import {LIGHT_CHILD_KINDS, kubectlApply, lightChildren, lightDomain, lightProduct} from '../helpers/light-product.js'
import {eventually} from '../helpers/operator-child.js'
import {type OperatorProcess, counterTotal, spawnOperator} from '../helpers/operator-process.js'

const NAMESPACES = 10
const PER_NAMESPACE = 10
const QUIET_MS = 60_000

/**
 * DESIGN §5: a steady state makes no writes. A hundred products are reconciled to Ready, then for
 * a minute the operator's own count of its API writes must stand still, and so must the
 * resourceVersion of every DataProduct and child.
 */
describe('operator run: a steady state of 100 products makes no writes (real control plane)', function () {
  let kubeconfig: string
  let operator: OperatorProcess | undefined
  const id = randomBytes(3).toString('hex')
  const namespaces = Array.from({length: NAMESPACES}, (_, i) => `steady-${id}-${i}`)
  const domain = `steady-${id}`
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26})
  const json = (...args: string[]) => JSON.parse(kubectl(...args, '-o', 'json'))
  const products = (): any[] => namespaces.flatMap((ns) => json('get', 'dataproducts', '-n', ns).items)
  const isReady = (p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True' && c.observedGeneration === p.metadata.generation)

  /** kind/namespace/name → resourceVersion and who last wrote it, for every DataProduct and child. */
  function versions(): Map<string, {rv: string; managers: string}> {
    const out = new Map<string, {rv: string; managers: string}>()
    for (const ns of namespaces) {
      for (const o of json('get', `dataproducts,${LIGHT_CHILD_KINDS}`, '-n', ns, '--show-managed-fields').items) {
        if (o.kind !== 'DataProduct' && !o.metadata.labels?.['dappmesh.io/product']) continue
        const managers = (o.metadata.managedFields ?? []).map((f: any) => `${f.manager}:${f.operation}${f.subresource ? `/${f.subresource}` : ''}@${f.time}`).join(' ')
        out.set(`${o.kind}/${ns}/${o.metadata.name}`, {rv: o.metadata.resourceVersion, managers})
      }
    }
    return out
  }

  before(async function () {
    kubeconfig = await requireCluster(this)
    for (const ns of namespaces) kubectl('create', 'namespace', ns)
    operator = spawnOperator(['--kubeconfig', kubeconfig, '--only', 'product', '-n', namespaces.join(','), '--health-port', '0'])
    await operator.waitFor(/caches synced/)
  })

  after(async function () {
    this.timeout(240_000)
    try {
      // The operator releases its finalizers; then the namespaces can go.
      for (const ns of namespaces) kubectl('delete', 'dataproducts', '--all', '-n', ns, '--wait=false')
      await eventually(() => products().length === 0, 'the products deleted', 120_000).catch(() => {})
    } catch {
      // the cluster goes away at the end of the run anyway
    }
    await operator?.kill('SIGTERM')
    try {
      for (const p of products()) kubectl('patch', 'dataproduct', p.metadata.name, '-n', p.metadata.namespace, '--type=merge', '-p', '{"metadata":{"finalizers":null}}')
      kubectl('delete', 'namespace', ...namespaces, '--wait=false', '--ignore-not-found')
      kubectl('delete', 'datadomain', domain, '--ignore-not-found')
    } catch {
      // the cluster goes away at the end of the run anyway
    }
  })

  it('reconciles 100 products to Ready, then writes nothing for a minute', async function () {
    this.timeout(360_000)
    const objects: any[] = [lightDomain(domain)]
    for (const ns of namespaces) for (let i = 0; i < PER_NAMESPACE; i++) objects.push(...lightProduct(ns, `p${String(i).padStart(2, '0')}`, {domain}))
    const started = Date.now()
    kubectlApply(kubeconfig, objects)
    await eventually(() => {
      const all = products()
      return all.length === NAMESPACES * PER_NAMESPACE && all.every(isReady)
    }, 'all 100 products Ready', 240_000)
    const readyAfter = Date.now() - started
    for (const ns of namespaces) {
      const children = json('get', LIGHT_CHILD_KINDS, '-n', ns, '-l', 'dappmesh.io/product').items.map((o: any) => `${o.kind}/${o.metadata.name}`).sort()
      const expected = Array.from({length: PER_NAMESPACE}, (_, i) => lightChildren(`p${String(i).padStart(2, '0')}`)).flat().sort()
      assert.deepEqual(children, expected, `children in ${ns}`)
    }
    // Let the last status writes (and the pods kwok starts) settle: wait until a few seconds pass without a write.
    const url = operator!.url()!
    let last = (await counterTotal(url, 'dappmesh_api_writes_total')).total
    await eventually(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5000))
      const now = (await counterTotal(url, 'dappmesh_api_writes_total')).total
      const quiet = now === last
      last = now
      return quiet
    }, 'the writes to settle', 120_000)

    const before = await counterTotal(url, 'dappmesh_api_writes_total')
    // The counter counts: making 300 children, 100 finalizers and 100 statuses took at least that many writes.
    assert.ok(before.total >= 500, `dappmesh_api_writes_total is only ${before.total}:\n${before.series.join('\n')}`)
    const reconcilesBefore = (await counterTotal(url, 'dappmesh_reconciles_total')).total
    const versionsBefore = versions()
    // Each DataProduct and its children (the runtime's among them)
    assert.equal(versionsBefore.size, NAMESPACES * PER_NAMESPACE * (1 + lightChildren('p').length))

    await new Promise((resolve) => setTimeout(resolve, QUIET_MS))

    const after = await counterTotal(url, 'dappmesh_api_writes_total')
    const versionsAfter = versions()
    const changed = [...versionsBefore].filter(([key, v]) => versionsAfter.get(key)?.rv !== v.rv).map(([key, v]) => `${key}: ${v.rv} → ${versionsAfter.get(key)?.rv} (${versionsAfter.get(key)?.managers})`)
    const reconciles = (await counterTotal(url, 'dappmesh_reconciles_total')).total - reconcilesBefore
    process.stderr.write(`      (100 products Ready in ${(readyAfter / 1000).toFixed(1)} s, ${before.total} writes to get there; in the quiet minute: ${after.total - before.total} writes, ${reconciles} reconciles)\n`)
    assert.deepEqual(after.series, before.series, 'no API write in a minute of steady state')
    assert.deepEqual(changed, [], 'no DataProduct or child changed in a minute of steady state')
    assert.ok(operator!.alive())
  })
})
