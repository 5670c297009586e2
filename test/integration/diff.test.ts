import assert from 'node:assert/strict'
import {rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {diffResultSchema} from '../../src/core/diff/result-schema.js'
import {compile} from '../../src/core/validate/ajv.js'
import {STACK_TRACE, cli, flat} from '../helpers/cli.js'
import {runScript} from '../helpers/cluster.js'
import {productsOnCluster} from '../helpers/product.js'

describe('dappmesh diff (real control plane)', function () {
  const cluster = productsOnCluster('diff')
  const check = compile(diffResultSchema)
  const valid = (json: unknown) => assert.ok(check(json), JSON.stringify(check.errors))
  const {kubectl} = cluster
  const fresh = () => {
    const p = cluster.fresh()
    return p
  }
  const apply = (dir: string) => {
    const r = cli(['apply', dir, '--kubeconfig', cluster.kubeconfig])
    assert.equal(r.code, 0, r.stderr)
  }
  const diff = (dir: string, ...flags: string[]) => {
    const r = cli(['diff', dir, '--kubeconfig', cluster.kubeconfig, ...flags])
    assert.doesNotMatch(r.stdout + r.stderr, STACK_TRACE)
    return r
  }


  it('reports no changes right after apply (exit 0)', () => {
    const p = fresh()
    apply(p.dir)
    const r = diff(p.dir)
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /orders: no changes \(17 objects up to date/)
    const json = diff(p.dir, '--json')
    assert.equal(json.code, 0, json.stderr)
    assert.deepEqual(JSON.parse(json.stdout).changes, [])
    valid(JSON.parse(json.stdout))
  })

  it('exits 1 on a changed field and shows that line as removed and added, persisting nothing', () => {
    const p = fresh()
    apply(p.dir)
    p.edit('storage/operational.yaml', (t) => t.replace('size: 5Gi', 'size: 8Gi'))
    const r = diff(p.dir)
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stdout, new RegExp(`update DataStorage/operational in ${p.namespace}`))
    assert.match(r.stdout, new RegExp(`^--- live/DataStorage/${p.namespace}/operational$`, 'm'))
    assert.match(r.stdout, /^@@ -\d+,\d+ \+\d+,\d+ @@$/m)
    assert.match(r.stdout, /^- {2}size: 5Gi$/m)
    assert.match(r.stdout, /^\+ {2}size: 8Gi$/m)
    assert.match(r.stdout, /0 to create, 1 to update, 0 to delete/)
    assert.doesNotMatch(r.stdout, /managedFields|resourceVersion|creationTimestamp|uid:/, 'server bookkeeping is left out')
    const forced = cli(['diff', p.dir, '--kubeconfig', cluster.kubeconfig], {env: {NO_COLOR: '', FORCE_COLOR: '3'}})
    assert.equal(forced.code, 1)
    assert.ok(!forced.stdout.includes('\u001B['), 'no colour when stdout is not a terminal, even with FORCE_COLOR')

    const json = diff(p.dir, '--json')
    assert.equal(json.code, 1)
    const {changes} = JSON.parse(json.stdout)
    valid(JSON.parse(json.stdout))
    assert.deepEqual(changes.map((c: any) => [c.kind, c.name, c.namespace, c.action]), [['DataStorage', 'operational', p.namespace, 'update']])
    assert.match(changes[0].diff, /\n\+ {2}size: 8Gi\n/)
    assert.equal(kubectl('get', 'datastorage', 'orders.operational', '-n', p.namespace, '-o', 'jsonpath={.spec.size}'), '5Gi', 'diff wrote nothing')
  })

  it('shows a new object as all added', () => {
    const p = fresh()
    apply(p.dir)
    writeFileSync(path.join(p.dir, 'storage/archive.yaml'), 'apiVersion: dappmesh.io/v1alpha1\nkind: DataStorage\nmetadata:\n  name: archive\nspec:\n  class: object\n  engine: minio\n  size: 2Gi\n')
    const r = diff(p.dir, '--json')
    assert.equal(r.code, 1, r.stderr)
    const changes = JSON.parse(r.stdout).changes
    const archive = changes.find((c: any) => c.kind === 'DataStorage' && c.name === 'archive')
    assert.equal(archive.action, 'create')
    const [minus, plus, hunk, ...body] = archive.diff.trimEnd().split('\n')
    assert.equal(minus, `--- live/DataStorage/${p.namespace}/archive`)
    assert.equal(plus, `+++ project/DataStorage/${p.namespace}/archive`)
    assert.match(hunk, /^@@ -0,0 \+1,\d+ @@$/)
    assert.ok(body.every((line: string) => line.startsWith('+')), archive.diff)
    assert.ok(body.includes('+  engine: minio'), archive.diff)
    assert.ok(body.includes('+    dappmesh.io/product: orders'), 'the server-side dry run shows the labels render adds')
    // The DataProduct's inventory gains the new object.
    assert.ok(changes.some((c: any) => c.kind === 'DataProduct' && c.action === 'update' && /DataStorage\/orders\.archive/.test(c.diff)))
  })

  it('shows an object that left the project, still in the inventory, as to be deleted', () => {
    const p = fresh()
    apply(p.dir)
    rmSync(path.join(p.dir, 'storage/object.yml'))
    const r = diff(p.dir, '--json')
    assert.equal(r.code, 1, r.stderr)
    const gone = JSON.parse(r.stdout).changes.filter((c: any) => c.action === 'delete')
    assert.deepEqual(gone.map((c: any) => `${c.kind}/${c.name}`), ['DataStorage/object'])
    assert.ok(gone[0].diff.trimEnd().split('\n').slice(3).every((line: string) => line.startsWith('-')), gone[0].diff)
  })

  it('shows everything as to be created for a product not yet installed (exit 1), creating nothing', () => {
    const p = fresh()
    const r = diff(p.dir, '--json')
    assert.equal(r.code, 1, r.stderr)
    const {changes, warnings} = JSON.parse(r.stdout)
    valid(JSON.parse(r.stdout))
    assert.equal(changes.length, 16, 'the domain, the namespace and 14 product objects (the shared mesh already exists)')
    assert.ok(changes.every((c: any) => c.action === 'create'))
    assert.ok(warnings.some((w: string) => w.startsWith(`namespace ${p.namespace} does not exist yet`)), warnings.join('\n'))
    assert.throws(() => kubectl('get', 'namespace', p.namespace))
  })

  it('exits 3 naming the server when the cluster is unreachable', () => {
    const p = fresh()
    const file = path.join(p.dir, '..', 'dead.kubeconfig')
    writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: dead\n  context:\n    cluster: dead\n    user: u\nusers:\n- name: u\n  user:\n    token: x\ncurrent-context: dead\n`)
    const r = cli(['diff', p.dir, '--kubeconfig', file])
    assert.equal(r.code, 3, r.stderr)
    assert.match(flat(r.stderr), /cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:1 \(context dead\)/)
    assert.doesNotMatch(r.stderr, STACK_TRACE)
  })

  it('exits 2 (a failure, not changes) saying how to install the CRDs on a cluster without them', async function () {
    this.timeout(180_000)
    const p = fresh()
    // A second, empty control plane: the shared one has the CRDs, and other suites need them.
    const name = `dappmesh-test-${process.pid}-nocrd`
    const bare = path.join(p.dir, '..', 'bare.kubeconfig')
    try {
      await runScript('up.sh', [name, bare])
      const r = cli(['diff', p.dir, '--kubeconfig', bare])
      assert.equal(r.code, 2, r.stderr)
      assert.match(flat(r.stderr), /the dappmesh CRDs are not installed in context kwok-dappmesh-test-\d+-nocrd \(missing: datameshes\.dappmesh\.io, /)
      assert.match(flat(r.stderr), /dappmesh crds \| kubectl apply --server-side -f -/)
      assert.doesNotMatch(r.stderr, STACK_TRACE)
    } finally {
      await runScript('down.sh', [name]).catch(() => {})
    }
  })

  it('exits 2 (a failure, not changes) without contacting the cluster for an invalid project', () => {
    const p = fresh()
    p.edit('dappmesh.yaml', (t) => t.replace('version: 1.0.0', 'version: one'))
    const r = diff(p.dir)
    assert.equal(r.code, 2)
    assert.match(flat(r.stderr), /not valid/)
  })
})
