import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {deleteResultSchema} from '../../src/core/delete/result-schema.js'
import {compile} from '../../src/core/validate/ajv.js'
import {STACK_TRACE, cli, flat} from '../helpers/cli.js'
import {type ProductCopy, productsOnCluster} from '../helpers/product.js'

describe('dappmesh delete (real control plane)', function () {
  const cluster = productsOnCluster('delete')
  const check = compile(deleteResultSchema)
  const valid = (json: unknown) => assert.ok(check(json), JSON.stringify(check.errors))
  const {kubectl} = cluster
  /** Every namespaced dappmesh object in a namespace, as kind/name@resourceVersion. */
  const inNamespace = (ns: string): string[] =>
    JSON.parse(kubectl('get', 'dappmesh', '-n', ns, '-o', 'json'))
      .items.filter((o: any) => o.metadata.namespace === ns)
      .map((o: any) => `${o.kind}/${o.metadata.name}@${o.metadata.resourceVersion}`)
      .sort()
  const installed = () => {
    const p = cluster.fresh()
    const r = cli(['apply', p.dir, '--kubeconfig', cluster.kubeconfig])
    assert.equal(r.code, 0, r.stderr)
    return p
  }
  const del = (args: string[]) => {
    const r = cli(['delete', ...args, '--kubeconfig', cluster.kubeconfig])
    assert.doesNotMatch(r.stdout + r.stderr, STACK_TRACE)
    return r
  }
  const createObject = (p: ProductCopy, object: Record<string, any>) => {
    const file = path.join(p.dir, '..', `${object.metadata.name}.json`)
    writeFileSync(file, JSON.stringify(object))
    kubectl('create', '-f', file)
  }


  it('deletes every object of the product, and not the mesh, the domain, the namespace or another product\'s objects', () => {
    const p = installed()
    const storage = (name: string, labels: Record<string, string>) => ({apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataStorage', metadata: {name, namespace: p.namespace, labels}, spec: {class: 'object', engine: 's3'}})
    createObject(p, storage('labelled-later', {'dappmesh.io/product': 'orders'}))
    createObject(p, storage('someone-elses', {'dappmesh.io/product': 'billing'}))
    createObject(p, storage('unlabelled', {}))
    assert.equal(inNamespace(p.namespace).length, 17)

    const r = del(['orders', '-n', p.namespace, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout)
    valid(result)
    assert.equal(result.namespace, p.namespace)
    assert.equal(result.deleted.length, 15, 'the DataProduct, its 13 resources and the labelled one')
    assert.ok(result.deleted.every((o: any) => o.namespace === p.namespace))
    assert.deepEqual(result.deleted[0], {kind: 'DataProduct', name: 'orders', namespace: p.namespace}, 'the DataProduct goes first')
    assert.ok(result.deleted.some((o: any) => o.name === 'labelled-later'))
    assert.deepEqual(inNamespace(p.namespace).map((o) => o.split('@')[0]), ['DataStorage/someone-elses', 'DataStorage/unlabelled'])
    kubectl('get', 'namespace', p.namespace)
    kubectl('get', 'datadomain', p.domain)
    kubectl('get', 'datamesh', 'acme')
  })

  it('also deletes what the inventory lists even without the label, but never what another product\'s label claims', () => {
    const p = installed()
    kubectl('label', 'datastorage', 'orders.object', '-n', p.namespace, 'dappmesh.io/product-')
    kubectl('label', 'datastorage', 'orders.analytics', '-n', p.namespace, 'dappmesh.io/product=billing', '--overwrite')
    const r = del([p.dir, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const names = JSON.parse(r.stdout).deleted.map((o: any) => `${o.kind}/${o.name}`)
    assert.ok(names.includes('DataStorage/object'), names.join(' '))
    assert.ok(!names.includes('DataStorage/analytics'), names.join(' '))
    assert.match(JSON.parse(r.stdout).warnings.join('\n'), /DataStorage\/analytics is in the inventory of orders but labelled for product billing: kept/)
    assert.deepEqual(inNamespace(p.namespace).map((o) => o.split('@')[0]), ['DataStorage/orders.analytics'])
  })

  it('--dry-run deletes nothing and lists what would go', () => {
    const p = installed()
    const before = inNamespace(p.namespace)
    const r = del([p.dir, '--dry-run'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^dataproduct\/orders deleted \(dry run\)$/m)
    assert.match(r.stdout, /^datastorage\/operational deleted \(dry run\)$/m)
    assert.match(r.stdout, new RegExp(`orders: 14 objects deleted from ${p.namespace} \\(dry run\\)`))
    assert.deepEqual(inNamespace(p.namespace), before, 'every object is still there, unchanged')
  })

  it('--wait returns once the product and its children are gone', () => {
    const p = installed()
    const r = del([p.dir, '--wait', '--timeout', '60s', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout)
    valid(result)
    assert.equal(result.gone, true)
    assert.equal(result.deleted.length, 14)
    assert.deepEqual(inNamespace(p.namespace), [])
  })

  it('--wait also waits for what the product owns (foreground deletion)', () => {
    const p = installed()
    const uid = kubectl('get', 'dataproduct', 'orders', '-n', p.namespace, '-o', 'jsonpath={.metadata.uid}')
    const owned = {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'orders-api-contract', namespace: p.namespace, ownerReferences: [{apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataProduct', name: 'orders', uid, blockOwnerDeletion: true}]}, data: {a: 'b'}}
    createObject(p, owned)
    const r = del([p.dir, '--wait', '--timeout', '60s'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(kubectl('get', 'configmap', 'orders-api-contract', '-n', p.namespace, '--ignore-not-found', '-o', 'name'), '', 'the owned ConfigMap was gone before delete returned')
  })

  it('--wait times out with exit 4 naming the object a finalizer holds', () => {
    const p = installed()
    kubectl('patch', 'dataproduct', 'orders', '-n', p.namespace, '--type=merge', '-p', JSON.stringify({metadata: {finalizers: ['test.dappmesh.io/hold']}}))
    try {
      const r = del([p.dir, '--wait', '--timeout', '3s'])
      assert.equal(r.code, 4, r.stderr)
      assert.match(flat(r.stderr), /not all of the product was gone within 3s; still there:/)
      assert.match(flat(r.stderr), new RegExp(`DataProduct/orders in ${p.namespace} \\(finalizers: test\\.dappmesh\\.io/hold\\)`))
      assert.doesNotMatch(flat(r.stderr), /DataStorage\/operational in/, 'only what remains is named')
      assert.match(r.stdout, /^datastorage\/operational deleted$/m, 'what was deleted was said before waiting')
      assert.ok(kubectl('get', 'dataproduct', 'orders', '-n', p.namespace, '-o', 'jsonpath={.metadata.deletionTimestamp}'), 'the product is being deleted')
    } finally {
      kubectl('patch', 'dataproduct', 'orders', '-n', p.namespace, '--type=merge', '-p', JSON.stringify({metadata: {finalizers: null}}))
    }
  })

  it('--wait waits for a finalizer to be removed', async () => {
    const p = installed()
    kubectl('patch', 'dataproduct', 'orders', '-n', p.namespace, '--type=merge', '-p', JSON.stringify({metadata: {finalizers: ['test.dappmesh.io/hold']}}))
    const {spawn} = await import('node:child_process')
    const {BIN} = await import('../helpers/cli.js')
    const child = spawn(process.execPath, [BIN, 'delete', p.dir, '--kubeconfig', cluster.kubeconfig, '--wait', '--timeout', '60s'], {env: {...process.env, NO_COLOR: '1'}})
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    for (let i = 0; i < 100 && !stderr.includes('waiting for'); i++) await new Promise((resolve) => setTimeout(resolve, 100))
    assert.match(stderr, /waiting for 14 objects/)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    assert.equal(child.exitCode, null, 'still waiting while the finalizer is there')
    kubectl('patch', 'dataproduct', 'orders', '-n', p.namespace, '--type=merge', '-p', JSON.stringify({metadata: {finalizers: null}}))
    assert.equal(await exited, 0, stderr)
    assert.match(stderr, /DataProduct\/orders gone/)
    assert.deepEqual(inNamespace(p.namespace), [])
  })

  it('exits 1 with a clear message when there is no such product', () => {
    const r = del(['nothere', '-n', 'default'])
    assert.equal(r.code, 1)
    assert.match(flat(r.stderr), /no DataProduct nothere in namespace default .*and nothing labelled for it/)
    const anywhere = del(['nothere'])
    assert.equal(anywhere.code, 1)
    assert.match(flat(anywhere.stderr), /no DataProduct nothere in any namespace/)
  })

  it('exits 3 naming the server when the cluster is unreachable', () => {
    const p = cluster.fresh()
    const file = path.join(p.dir, '..', 'dead.kubeconfig')
    writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: dead\n  context:\n    cluster: dead\n    user: u\nusers:\n- name: u\n  user:\n    token: x\ncurrent-context: dead\n`)
    const r = cli(['delete', p.dir, '--kubeconfig', file])
    assert.equal(r.code, 3)
    assert.match(flat(r.stderr), /https:\/\/127\.0\.0\.1:1 \(context dead\)/)
    assert.doesNotMatch(r.stderr, STACK_TRACE)
  })
})
