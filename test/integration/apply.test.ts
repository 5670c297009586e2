import assert from 'node:assert/strict'
import {rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {STACK_TRACE, cli, flat} from '../helpers/cli.js'
import {productsOnCluster} from '../helpers/product.js'
import {assertResult} from '../helpers/result-schemas.js'

describe('dappmesh apply (real control plane)', function () {
  const cluster = productsOnCluster('t')
  const {kubectl} = cluster
  const resourceVersions = (ns: string) =>
    JSON.parse(kubectl('get', 'dappmesh', '-n', ns, '-o', 'json')).items.map((o: any) => `${o.kind}/${o.metadata.name}@${o.metadata.resourceVersion}`).sort()
  const {fresh} = cluster
  const apply = (dir: string, ...flags: string[]) => cli(['apply', dir, '--kubeconfig', cluster.kubeconfig, ...flags])


  it('installs every resource namespaced and labelled, and a second apply changes nothing', () => {
    const p = fresh()
    const first = apply(p.dir, '--json')
    assert.equal(first.code, 0, first.stderr)
    const result = JSON.parse(first.stdout)
    assertResult('apply', result)
    assert.equal(result.namespace, p.namespace)
    // The mesh is shared: another suite's product may have made it already (and then it is left as it is).
    assert.ok(result.objects.every((o: any) => o.action === 'created' || (o.kind === 'DataMesh' && o.action === 'unchanged')), first.stdout)
    const storages = JSON.parse(kubectl('get', 'datastorages', '-n', p.namespace, '-o', 'json', '--show-managed-fields')).items
    // Named by the product in the cluster: another product of the domain may have an `operational` too.
    assert.deepEqual(storages.map((s: any) => s.metadata.name).sort(), ['orders.analytics', 'orders.object', 'orders.operational'])
    for (const s of storages) {
      assert.equal(s.metadata.labels['dappmesh.io/product'], 'orders')
      assert.equal(s.metadata.labels['app.kubernetes.io/part-of'], 'orders')
      assert.equal(s.metadata.managedFields[0].manager, 'dappmesh')
    }
    const contract = JSON.parse(kubectl('get', 'datacontract', 'orders.orders-clean', '-n', p.namespace, '-o', 'json'))
    assert.equal(contract.spec.document.id, 'urn:acme:sales:orders-clean', 'a documentRef contract is inlined')
    assert.equal(kubectl('get', 'datadomain', p.domain, '-o', 'jsonpath={.spec.namespace}'), p.namespace)

    const before = resourceVersions(p.namespace)
    const second = apply(p.dir, '--json')
    assert.equal(second.code, 0, second.stderr)
    assert.ok(JSON.parse(second.stdout).objects.every((o: any) => o.action === 'unchanged'), second.stdout)
    assert.deepEqual(resourceVersions(p.namespace), before, 'no object was written')
  })

  it('--dry-run=server checks with the server and persists nothing', () => {
    const p = fresh()
    assert.equal(apply(p.dir).code, 0)
    p.edit('storage/operational.yaml', (t) => t.replace('size: 5Gi', 'size: 8Gi'))
    const before = resourceVersions(p.namespace)
    const r = apply(p.dir, '--dry-run=server', '--json')
    assert.equal(r.code, 0, r.stderr)
    const storage = JSON.parse(r.stdout).objects.find((o: any) => o.kind === 'DataStorage' && o.name === 'operational')
    assert.equal(storage.action, 'configured')
    assert.deepEqual(resourceVersions(p.namespace), before)
    assert.equal(kubectl('get', 'datastorage', 'orders.operational', '-n', p.namespace, '-o', 'jsonpath={.spec.size}'), '5Gi')
  })

  it('--dry-run=server on a product not yet installed creates nothing, not even its namespace', () => {
    const p = fresh()
    const r = apply(p.dir, '--dry-run=server', '--json')
    assert.equal(r.code, 0, r.stderr)
    assert.throws(() => kubectl('get', 'namespace', p.namespace))
    assert.throws(() => kubectl('get', 'datadomain', p.domain))
  })

  it('reports a conflict with another field manager (exit 1, naming it and the field), and --force-conflicts takes over', () => {
    const p = fresh()
    assert.equal(apply(p.dir).code, 0)
    const patch = JSON.stringify({apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataStorage', metadata: {name: 'orders.operational', namespace: p.namespace}, spec: {size: '6Gi'}})
    const file = path.join(p.dir, '..', 'other.json')
    writeFileSync(file, patch)
    kubectl('apply', '--server-side', '--force-conflicts', '--field-manager', 'team-ops', '-f', file)
    p.edit('storage/operational.yaml', (t) => t.replace('size: 5Gi', 'size: 7Gi'))
    const r = apply(p.dir)
    assert.equal(r.code, 1)
    assert.match(flat(r.stderr), /conflict applying DataStorage\/operational/)
    assert.match(flat(r.stderr), /team-ops/)
    assert.match(flat(r.stderr), /\.spec\.size/)
    assert.match(flat(r.stderr), /--force-conflicts/)
    assert.doesNotMatch(r.stderr, STACK_TRACE)
    assert.equal(kubectl('get', 'datastorage', 'orders.operational', '-n', p.namespace, '-o', 'jsonpath={.spec.size}'), '6Gi', 'nothing was applied')
    const forced = apply(p.dir, '--force-conflicts')
    assert.equal(forced.code, 0, forced.stderr)
    assert.equal(kubectl('get', 'datastorage', 'orders.operational', '-n', p.namespace, '-o', 'jsonpath={.spec.size}'), '7Gi')
  })

  it('--prune removes what left the project and nothing else', () => {
    const p = fresh()
    assert.equal(apply(p.dir).code, 0)
    // A labelled object the product never applied must survive a prune.
    const stray = {apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataStorage', metadata: {name: 'stray', namespace: p.namespace, labels: {'dappmesh.io/product': 'orders'}}, spec: {class: 'object', engine: 's3'}}
    const file = path.join(p.dir, '..', 'stray.json')
    writeFileSync(file, JSON.stringify(stray))
    kubectl('apply', '--server-side', '-f', file)
    rmSync(path.join(p.dir, 'storage/object.yml'))

    const without = apply(p.dir)
    assert.equal(without.code, 0, without.stderr)
    kubectl('get', 'datastorage', 'orders.object', '-n', p.namespace)

    const pruned = apply(p.dir, '--prune', '--json')
    assert.equal(pruned.code, 0, pruned.stderr)
    assert.deepEqual(JSON.parse(pruned.stdout).objects.filter((o: any) => o.action === 'pruned').map((o: any) => `${o.kind}/${o.name}`), ['DataStorage/object'])
    assert.throws(() => kubectl('get', 'datastorage', 'orders.object', '-n', p.namespace))
    kubectl('get', 'datastorage', 'stray', '-n', p.namespace)
    kubectl('get', 'datadomain', p.domain)
    kubectl('get', 'datamesh', 'acme')
  })

  it('--wait times out with exit 4 and says what is not ready', () => {
    const p = fresh()
    const r = apply(p.dir, '--wait', '--timeout', '3s')
    assert.equal(r.code, 4, r.stderr)
    assert.match(flat(r.stderr), new RegExp(`DataProduct ${p.namespace}/orders was not Ready within 3s`))
    assert.match(flat(r.stderr), /no status yet: is the operator running\?/)
  })

  it('--wait returns once the product is Ready for the applied generation', async () => {
    const p = fresh()
    assert.equal(apply(p.dir).code, 0)
    const {spawn} = await import('node:child_process')
    const {BIN} = await import('../helpers/cli.js')
    const child = spawn(process.execPath, [BIN, 'apply', p.dir, '--kubeconfig', cluster.kubeconfig, '--wait', '--timeout', '60s'], {env: {...process.env, NO_COLOR: '1'}})
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const generation = kubectl('get', 'dataproduct', 'orders', '-n', p.namespace, '-o', 'jsonpath={.metadata.generation}')
    const status = {status: {observedGeneration: Number(generation), conditions: [{type: 'Ready', status: 'True', reason: 'Reconciled', message: 'ok', lastTransitionTime: new Date().toISOString(), observedGeneration: Number(generation)}]}}
    kubectl('patch', 'dataproduct', 'orders', '-n', p.namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify(status))
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    assert.equal(code, 0, stderr)
    assert.match(stderr, /Ready=True/)
  })

  it('applies nothing from an invalid project (exit 1)', () => {
    const p = fresh()
    p.edit('dappmesh.yaml', (t) => t.replace('version: 1.0.0', 'version: one'))
    const r = apply(p.dir)
    assert.equal(r.code, 1)
    assert.match(flat(r.stderr), /not valid \(1 error\)/)
    assert.match(flat(r.stderr), /dappmesh\.yaml:8:12/)
    assert.throws(() => kubectl('get', 'namespace', p.namespace))
  })

  it('exits 3 naming the server when the cluster is unreachable', () => {
    const p = fresh()
    const file = path.join(p.dir, '..', 'dead.kubeconfig')
    writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: dead\n  context:\n    cluster: dead\n    user: u\nusers:\n- name: u\n  user:\n    token: x\ncurrent-context: dead\n`)
    const r = cli(['apply', p.dir, '--kubeconfig', file])
    assert.equal(r.code, 3)
    assert.match(flat(r.stderr), /https:\/\/127\.0\.0\.1:1/)
    assert.match(flat(r.stderr), /context dead/)
    assert.doesNotMatch(r.stderr, STACK_TRACE)
  })

  it('--dry-run=client renders and checks locally without contacting a cluster', () => {
    const p = fresh()
    const r = cli(['apply', p.dir, '--dry-run=client', '--kubeconfig', '/nonexistent/kubeconfig', '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(JSON.parse(r.stdout).objects.length, 17)
  })

  it('applies several products in one call, and refuses two copies of one product', () => {
    const a = fresh()
    const b = fresh()
    const r = cli(['apply', a.dir, b.dir, '--kubeconfig', cluster.kubeconfig, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const {products} = JSON.parse(r.stdout)
    assert.deepEqual(products.map((p: any) => p.namespace), [a.namespace, b.namespace])
    kubectl('get', 'dataproduct', 'orders', '-n', a.namespace)
    kubectl('get', 'dataproduct', 'orders', '-n', b.namespace)
    const twice = cli(['apply', a.dir, a.dir, '--kubeconfig', cluster.kubeconfig])
    assert.equal(twice.code, 1)
    assert.match(flat(twice.stderr), /are both the product/)
  })

  it('--prune --dry-run=server reports what would be pruned and deletes nothing', () => {
    const p = fresh()
    assert.equal(apply(p.dir).code, 0)
    rmSync(path.join(p.dir, 'storage/object.yml'))
    const before = resourceVersions(p.namespace)
    const r = apply(p.dir, '--prune', '--dry-run=server', '--json')
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout).objects.filter((o: any) => o.action === 'pruned').map((o: any) => `${o.kind}/${o.name}`), ['DataStorage/object'])
    kubectl('get', 'datastorage', 'orders.object', '-n', p.namespace)
    assert.deepEqual(resourceVersions(p.namespace), before)
  })
})
