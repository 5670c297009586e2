import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'

import {requireCluster} from '../helpers/cluster.js'
import {kubectlApply, lightProduct} from '../helpers/light-product.js'
import {eventually} from '../helpers/operator-child.js'
import {type OperatorProcess, counterTotal, spawnOperator} from '../helpers/operator-process.js'

/**
 * Footprint (issue 14): the domain and mesh loops write each object once, and what they wrote
 * coming back through their watches is no news (it woke a reconcile per child of every domain,
 * and per catalog write); an unchanged domain is reconciled without a write; a hand edit of what
 * they made is still put right.
 */
describe('operator run: the domain and mesh loops\' own writes (real control plane)', function () {
  let kubeconfig: string
  let operator: OperatorProcess | undefined
  const id = randomBytes(3).toString('hex')
  const labels = {'dappmesh.io/test-suite': `own-${id}`}
  const mesh = `own-${id}-mesh`
  const domain = `own-${id}`
  /** a domain made during the tests, after its namespace */
  const later = `own-${id}-later`
  const product = 'mine'
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
  const series = async (name: string) => (await counterTotal(operator!.url()!, name)).series
  /** The sum of a counter's series whose labels include every one of `parts`. */
  const sum = async (name: string, ...parts: string[]) =>
    (await series(name)).filter((s) => parts.every((p) => s.includes(p))).reduce((n, s) => n + Number(s.slice(s.lastIndexOf(' ') + 1)), 0)
  const domainWrites = () => sum('dappmesh_api_writes_total', 'controller="domain"')
  const reconciles = (loop: string) => sum('dappmesh_reconciles_total', `controller="${loop}"`)

  /** Waits until the operator's reconciles and writes have not moved for a few seconds. */
  async function settled(): Promise<void> {
    const count = async () => `${await sum('dappmesh_reconciles_total')} ${await sum('dappmesh_api_writes_total')}`
    let last = await count()
    await eventually(async () => {
      await new Promise((resolve) => setTimeout(resolve, 3000))
      const now = await count()
      const quiet = now === last
      last = now
      return quiet
    }, 'the operator to settle', 90_000)
  }

  before(async function () {
    this.timeout(180_000)
    kubeconfig = await requireCluster(this)
    operator = spawnOperator(['--kubeconfig', kubeconfig, '--only', 'mesh,domain', '--selector', `dappmesh.io/test-suite=own-${id}`, '--health-port', '0'])
    await operator.waitFor(/caches synced/)
    // The mesh first, and counted (so in the operator's cache) before its domain comes.
    kubectlApply(kubeconfig, [{apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataMesh', metadata: {name: mesh, labels}, spec: {}}])
    await eventually(() => kubectl('get', 'datamesh', mesh, '-o', 'jsonpath={.status.domains}') === '0', 'the mesh counted', 60_000)
    kubectlApply(kubeconfig, [{apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataDomain', metadata: {name: domain, labels}, spec: {mesh, owner: 'test@example.com', quota: {cpu: '2'}}}])
    kubectl('wait', `datadomain/${domain}`, '--for=condition=Ready', '--timeout=90s')
    await settled()
  })

  after(async function () {
    this.timeout(120_000)
    await operator?.kill('SIGTERM')
    try {
      kubectl('delete', 'dataproduct', product, '-n', domain, '--wait=false', '--ignore-not-found')
      kubectl('delete', 'namespace', domain, later, '--wait=false', '--ignore-not-found')
      kubectl('delete', 'datadomain', domain, later, '--ignore-not-found')
      kubectl('delete', 'datamesh', mesh, '--ignore-not-found')
    } catch {
      // the cluster goes away at the end of the run anyway
    }
  })

  it('applies each of a new domain\'s objects once, and their watch events wake no reconcile', async () => {
    const applied = (resource: string) => sum('dappmesh_api_writes_total', 'controller="domain"', `resource="${resource}"`)
    const once = {namespaces: 1, networkpolicies: 1, resourcequotas: 1, limitranges: 1, validatingadmissionpolicies: 2, validatingadmissionpolicybindings: 2}
    for (const [resource, count] of Object.entries(once)) assert.equal(await applied(resource), count, `${resource} written ${count === 1 ? 'once' : 'once per governance rule'}`)
    for (const kind of ['Namespace', 'NetworkPolicy', 'ResourceQuota', 'LimitRange', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']) {
      assert.equal(await sum('dappmesh_reconcile_wakes_total', 'controller="domain"', `resource="${kind}"`), 0, `the ${kind} the domain loop made woke it (${(await series('dappmesh_reconcile_wakes_total')).join('; ')})`)
    }
  })

  it('reconciles a new domain once when its namespace came first, as dappmesh apply makes them: the namespace wakes no reconcile of a domain not there yet', async function () {
    this.timeout(120_000)
    const before = await reconciles('domain')
    const wakesBefore = await sum('dappmesh_reconcile_wakes_total', 'controller="domain"', 'resource="Namespace"')
    // apply writes the domain's namespace (labelled with the domain) first, the DataDomain after.
    kubectlApply(kubeconfig, [{apiVersion: 'v1', kind: 'Namespace', metadata: {name: later, labels: {'dappmesh.io/domain': later, 'app.kubernetes.io/managed-by': 'dappmesh'}}}])
    // Long enough for the operator to see the namespace before the domain exists (kubectl alone takes most of it).
    await new Promise((resolve) => setTimeout(resolve, 2000))
    kubectlApply(kubeconfig, [{apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataDomain', metadata: {name: later, labels}, spec: {mesh, owner: 'test@example.com'}}])
    kubectl('wait', `datadomain/${later}`, '--for=condition=Ready', '--timeout=90s')
    await settled()
    assert.equal(await reconciles('domain') - before, 1, `domain reconciles for one new domain (wakes: ${(await series('dappmesh_reconcile_wakes_total')).filter((s) => s.includes('controller="domain"')).join('; ')})`)
    assert.equal(await sum('dappmesh_reconcile_wakes_total', 'controller="domain"', 'resource="Namespace"'), wakesBefore, 'its namespace woke the domain loop')
  })

  it('reconciles an unchanged domain without writing anything', async function () {
    this.timeout(120_000)
    const [reconcilesBefore, writesBefore] = [await reconciles('domain'), await domainWrites()]
    kubectl('annotate', 'datadomain', domain, 'example.com/touched=yes')
    await eventually(async () => (await reconciles('domain')) > reconcilesBefore, 'a reconcile of the annotated domain', 60_000)
    await settled()
    assert.equal(await domainWrites(), writesBefore)
  })

  it('still puts right a hand edit of what the domain made', async function () {
    this.timeout(120_000)
    const binding = `dappmesh-require-contracts-${domain}`
    const bound = () => kubectl('get', 'validatingadmissionpolicybinding', binding, '-o', 'jsonpath={.spec.matchResources.namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name}')
    kubectl('patch', 'validatingadmissionpolicybinding', binding, '--type=merge', '-p', '{"spec":{"matchResources":{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"elsewhere"}}}}}')
    await eventually(() => bound() === domain, 'the binding bound to the domain\'s namespace again', 60_000).catch((error) => {
      throw new Error(`${error.message}: bound to ${bound()}; the operator's log:\n${operator!.log().split('\n').slice(-20).join('\n')}`)
    })
  })

  it('puts a governance binding switched to Warn by hand back to Deny', async function () {
    // Server-side apply keeps another manager's entries of this set list even when forced: the
    // operator's apply would make [Warn, Deny], which the API server refuses.
    this.timeout(120_000)
    const binding = `dappmesh-require-contracts-${domain}`
    const actions = () => kubectl('get', 'validatingadmissionpolicybinding', binding, '-o', 'jsonpath={.spec.validationActions}')
    kubectl('patch', 'validatingadmissionpolicybinding', binding, '--type=merge', '-p', '{"spec":{"validationActions":["Warn"]}}')
    await eventually(() => actions() === '["Deny"]', 'the binding back on Deny', 60_000).catch((error) => {
      throw new Error(`${error.message}: actions ${actions()}; the operator's log:\n${operator!.log().split('\n').slice(-20).join('\n')}`)
    })
  })

  it('takes a product into the catalog without its own catalog writes or the product\'s finalizer waking the mesh loop again', async function () {
    this.timeout(180_000)
    const catalogWakes = () => sum('dappmesh_reconcile_wakes_total', 'controller="mesh"', 'resource="CatalogConfigMap"')
    const wakesBefore = await catalogWakes()
    kubectlApply(kubeconfig, lightProduct(domain, product, {domain}))
    await eventually(() => kubectl('get', 'datamesh', mesh, '-o', 'jsonpath={.status.products}') === '1', 'the mesh counting the product', 60_000)
    await eventually(() => kubectl('get', 'configmaps', '-n', 'dappmesh-system', '-l', 'dappmesh.io/catalog', '-o', 'json').includes(`${product}-api`), 'the port in the catalog', 60_000)
    await settled()
    assert.equal(await catalogWakes(), wakesBefore, 'the catalog ConfigMaps it wrote woke the mesh loop')
    // What a product reconcile does first (no product loop runs here): its finalizer is no news for the counts or the catalog.
    const meshReconciles = await reconciles('mesh')
    kubectl('patch', 'dataproduct', product, '-n', domain, '--type=merge', '-p', '{"metadata":{"finalizers":["example.com/held"]}}')
    await settled()
    assert.equal(await reconciles('mesh'), meshReconciles)
    kubectl('patch', 'dataproduct', product, '-n', domain, '--type=merge', '-p', '{"metadata":{"finalizers":null}}')
  })
})
