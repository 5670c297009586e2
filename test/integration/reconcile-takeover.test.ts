import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'

import {cli} from '../helpers/cli.js'
import {type OperatorChild, eventually, startOperator} from '../helpers/operator-child.js'
import {productsOnCluster} from '../helpers/product.js'

/** Products of one namespace must not take each other's objects, nor anyone else's, by their names. */
describe('no takeover by name (real control plane)', function () {
  const cluster = productsOnCluster('take')
  let operator: OperatorChild | undefined
  const id = randomBytes(3).toString('hex')
  const ns = `take-${id}`
  const API = 'dappmesh.io/v1alpha1'
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', cluster.kubeconfig, ...args], {encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe']})
  const json = (...args: string[]) => JSON.parse(kubectl(...args, '-o', 'json'))
  const create = (items: any[]) => {
    const r = spawnSync('kubectl', ['--kubeconfig', cluster.kubeconfig, 'apply', '-f', '-'], {input: JSON.stringify({apiVersion: 'v1', kind: 'List', items}), encoding: 'utf8'})
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`)
  }
  /** A product with one storage, written with kubectl. */
  const product = (name: string, storage: string) => [
    {apiVersion: API, kind: 'DataProduct', metadata: {name, namespace: ns}, spec: {domain: 'sales', owner: 'team@example.com', version: '1.0.0'}},
    {apiVersion: API, kind: 'DataStorage', metadata: {name: storage, namespace: ns, labels: {'dappmesh.io/product': name}}, spec: {class: 'operational', engine: 'postgresql'}},
  ]
  const degraded = (name: string) => json('get', 'dataproduct', name, '-n', ns).status?.conditions?.find((c: any) => c.type === 'Degraded')

  before(async function () {
    if (!cluster.kubeconfig) this.skip()
    kubectl('create', 'namespace', ns)
    operator = await startOperator(['--only', 'product', '-n', ns, '--kubeconfig', cluster.kubeconfig])
  })

  after(async () => {
    await operator?.stop()
    try {
      for (const name of ['shop-orders', 'shop', 'hand']) kubectl('patch', 'dataproduct', name, '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}')
    } catch {
      // gone already
    }
    try {
      kubectl('delete', 'datamesh', `take-${id}`, '--ignore-not-found')
      kubectl('delete', 'namespace', ns, '--wait=false', '--ignore-not-found')
    } catch {
      // the cluster goes away at the end of the run anyway
    }
  })

  it('leaves product shop-orders\' Service alone when product shop\'s storage orders-operational wants its name, and says NameTaken', async () => {
    create(product('shop-orders', 'operational'))
    await eventually(() => json('get', 'service', '-n', ns, '-l', 'dappmesh.io/product=shop-orders').items.length > 0, 'shop-orders\' Service')
    const before = json('get', 'service', 'shop-orders-operational', '-n', ns)
    create(product('shop', 'orders-operational'))
    const condition = await eventually(() => (degraded('shop')?.status === 'True' ? degraded('shop') : false), 'shop to be Degraded')
    assert.equal(condition.reason, 'NameTaken')
    assert.match(condition.message, /Service shop-orders-operational already exists and belongs to DataProduct shop-orders: not taken over/)
    const after = json('get', 'service', 'shop-orders-operational', '-n', ns)
    assert.deepEqual(after.spec.selector, before.spec.selector)
    assert.deepEqual(after.metadata.ownerReferences, before.metadata.ownerReferences)
    assert.equal(after.metadata.labels['dappmesh.io/product'], 'shop-orders')
    // Nor its StatefulSet, nor its credentials.
    assert.equal(json('get', 'statefulset', 'shop-orders-operational', '-n', ns).metadata.labels['dappmesh.io/storage'], 'operational')
    assert.equal(json('get', 'secret', 'shop-orders-operational-credentials', '-n', ns).metadata.ownerReferences[0].name, 'shop-orders')
  })

  it('never adopts an object made by hand with a child\'s name', async () => {
    kubectl('create', 'service', 'clusterip', 'hand-db', '-n', ns, '--tcp=80:80')
    const before = json('get', 'service', 'hand-db', '-n', ns)
    create(product('hand', 'db'))
    const condition = await eventually(() => (degraded('hand')?.status === 'True' ? degraded('hand') : false), 'hand to be Degraded')
    assert.equal(condition.reason, 'NameTaken')
    assert.match(condition.message, /Service hand-db already exists and belongs to no controlling owner \(made by someone else\)/)
    const after = json('get', 'service', 'hand-db', '-n', ns)
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion)
  })

  it('apply refuses to take over another product\'s resources of the same name, naming both products (exit 1)', function () {
    // A mesh of this suite's own: other suites count on creating the example's.
    const mesh = `take-${id}`
    const first = cluster.fresh()
    first.edit('mesh/cluster.yaml', (t) => t.replace('name: acme', `name: ${mesh}`))
    first.edit('mesh/domain.yaml', (t) => t.replace('mesh: acme', `mesh: ${mesh}`))
    const applied = cli(['apply', first.dir, '--kubeconfig', cluster.kubeconfig], {timeout: 180_000})
    assert.equal(applied.code, 0, applied.stderr)
    // A second product in the same domain (and namespace) with the example's resource names.
    const second = cluster.fresh()
    second.edit('mesh/cluster.yaml', (t) => t.replace('name: acme', `name: ${mesh}`))
    second.edit('mesh/domain.yaml', (t) => t.replaceAll(second.domain, first.domain).replace('mesh: acme', `mesh: ${mesh}`))
    second.edit('dappmesh.yaml', (t) => t.replace('name: orders', 'name: returns').replace(`domain: ${second.domain}`, `domain: ${first.domain}`))
    second.edit('mesh/roles.yaml', (t) => t.replaceAll(second.namespace, first.namespace))
    const storageBefore = json('get', 'datastorage', 'operational', '-n', first.namespace)
    const refused = cli(['apply', second.dir, '--kubeconfig', cluster.kubeconfig], {timeout: 180_000})
    assert.equal(refused.code, 1, refused.stderr)
    // oclif wraps the message: read it as one line.
    const said = refused.stderr.replaceAll(/\s*›\s*/g, ' ').replaceAll(/\s+/g, ' ')
    assert.match(said, new RegExp(`product returns would take over objects of other products in namespace ${first.namespace}: .*DataStorage operational \\(product orders\\)`))
    const storageAfter = json('get', 'datastorage', 'operational', '-n', first.namespace)
    assert.equal(storageAfter.metadata.resourceVersion, storageBefore.metadata.resourceVersion)
    assert.equal(storageAfter.metadata.labels['dappmesh.io/product'], 'orders')
  })
})
