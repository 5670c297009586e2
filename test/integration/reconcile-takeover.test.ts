import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {cli} from '../helpers/cli.js'
import {type OperatorChild, eventually, startOperator} from '../helpers/operator-child.js'
import {persistentVolumes} from '../helpers/light-product.js'
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
  /** A product with one storage, written with kubectl as render names it: `<product>.<storage>`. */
  const product = (name: string, storage: string) => [
    {apiVersion: API, kind: 'DataProduct', metadata: {name, namespace: ns}, spec: {domain: 'sales', owner: 'team@example.com', version: '1.0.0'}},
    {apiVersion: API, kind: 'DataStorage', metadata: {name: `${name}.${storage}`, namespace: ns, labels: {'dappmesh.io/product': name}}, spec: {class: 'operational', engine: 'postgresql'}},
  ]
  const work = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-take-'))
  const degraded = (name: string) => json('get', 'dataproduct', name, '-n', ns).status?.conditions?.find((c: any) => c.type === 'Degraded')

  before(async function () {
    if (!cluster.kubeconfig) this.skip()
    kubectl('create', 'namespace', ns)
    operator = await startOperator(['--only', 'product', '-n', ns, '--kubeconfig', cluster.kubeconfig])
  })

  after(async () => {
    await operator?.stop()
    rmSync(work, {recursive: true, force: true})
    try {
      for (const name of ['shop-orders', 'shop', 'hand', 'alpha', 'beta']) kubectl('patch', 'dataproduct', name, '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}')
    } catch {
      // gone already
    }
    try {
      kubectl('delete', 'datamesh', `take-${id}`, '--ignore-not-found')
      kubectl('delete', 'pv', ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => `take-${id}-${i}`), '--ignore-not-found', '--wait=false')
      kubectl('delete', 'namespace', ns, '--wait=false', '--ignore-not-found')
    } catch {
      // the cluster goes away at the end of the run anyway
    }
  })

  it('gives product shop\'s storage orders-operational and product shop-orders\' storage operational children of different names, each its own', async () => {
    create(product('shop-orders', 'operational'))
    await eventually(() => json('get', 'service', '-n', ns, '-l', 'dappmesh.io/product=shop-orders').items.length > 0, 'shop-orders\' Service')
    create(product('shop', 'orders-operational'))
    await eventually(() => json('get', 'service', '-n', ns, '-l', 'dappmesh.io/product=shop').items.length > 0, 'shop\'s Service')
    const theirs = json('get', 'service', 'shop-orders--operational', '-n', ns)
    const ours = json('get', 'service', 'shop--orders-operational', '-n', ns)
    assert.equal(theirs.metadata.ownerReferences[0].name, 'shop-orders')
    assert.equal(ours.metadata.ownerReferences[0].name, 'shop')
    assert.notEqual(degraded('shop')?.reason, 'NameTaken')
    // Credentials have no owner (they last as long as the volume): their labels say whose they are.
    assert.equal(json('get', 'secret', 'shop-orders--operational-credentials', '-n', ns).metadata.labels['dappmesh.io/product'], 'shop-orders')
    assert.equal(json('get', 'secret', 'shop--orders-operational-credentials', '-n', ns).metadata.labels['dappmesh.io/product'], 'shop')
  })

  it('never adopts an object made by hand with a child\'s name', async () => {
    kubectl('create', 'service', 'clusterip', 'hand--db', '-n', ns, '--tcp=80:80')
    const before = json('get', 'service', 'hand--db', '-n', ns)
    create(product('hand', 'db'))
    const condition = await eventually(() => (degraded('hand')?.status === 'True' ? degraded('hand') : false), 'hand to be Degraded')
    assert.equal(condition.reason, 'NameTaken')
    assert.match(condition.message, /Service hand--db already exists and belongs to no controlling owner \(made by someone else\)/)
    const after = json('get', 'service', 'hand--db', '-n', ns)
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion)
  })

  it('lets two scaffolded products of one domain use the same local names (storage operational, port item-table) and both become Ready', async function () {
    this.timeout(600_000)
    const mesh = `take-${id}`
    const dirs = ['alpha', 'beta'].map((name) => {
      const dir = path.join(work, name)
      const init = cli(['init', dir, '--name', name, '--domain', ns, '--mesh', mesh, '--owner', 'team@example.com', '--entity', 'item', '--storage', 'operational=postgresql', '--storage', 'analytics=duckdb', '--yes'])
      assert.equal(init.code, 0, init.stderr)
      return dir
    })
    // kwok has no volume provisioner: each product's postgres and runtime (duckdb) claims bind to
    // these, and so may the claims of this suite's earlier products.
    create(persistentVolumes(`take-${id}`, 8, '20Gi'))
    for (const dir of dirs) {
      const applied = cli(['apply', dir, '--kubeconfig', cluster.kubeconfig], {timeout: 180_000})
      assert.equal(applied.code, 0, applied.stderr)
    }
    const ready = (name: string) => json('get', 'dataproduct', name, '-n', ns).status?.conditions?.find((c: any) => c.type === 'Ready')
    for (const name of ['alpha', 'beta']) await eventually(() => ready(name)?.status === 'True', `${name} to be Ready (${JSON.stringify(ready(name))})`, 240_000)
    for (const name of ['alpha', 'beta']) {
      assert.equal(json('get', 'datastorage', `${name}.operational`, '-n', ns).metadata.labels['dappmesh.io/product'], name)
      assert.equal(json('get', 'outputport', `${name}.item-table`, '-n', ns).metadata.labels['dappmesh.io/product'], name)
      assert.equal(json('get', 'statefulset', `${name}--operational`, '-n', ns).metadata.ownerReferences[0].name, name)
    }
    // status shows the names the project uses.
    const status = cli(['status', 'alpha', '-n', ns, '--kubeconfig', cluster.kubeconfig, '--json'])
    assert.equal(status.code, 0, status.stderr)
    assert.equal(JSON.parse(status.stdout).product.ready, true)
  })
})
