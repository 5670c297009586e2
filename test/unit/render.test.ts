import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {type ModelManifest, allManifests, renderDirectory, renderProduct} from '../../src/core/render/render.js'
import {loadValidProject} from '../../src/core/validate/require-valid.js'
import {cli, fixture, flat} from '../helpers/cli.js'
import {orderProduct} from '../helpers/product.js'

/** The rendered object of `kind` named `name`, typed as that kind's. */
function named<K extends ModelManifest['kind']>(objects: ModelManifest[], kind: K, name: string): Extract<ModelManifest, {kind: K}> {
  const found = objects.find((o): o is Extract<ModelManifest, {kind: K}> => o.kind === kind && o.metadata.name === name)
  assert.ok(found, `${kind}/${name} rendered`)
  return found
}

describe('render', () => {
  it('namespaces and labels the product, keeps mesh and domain cluster-scoped, and creates the namespace', async () => {
    const r = await renderDirectory(fixture('../../examples/orders'))
    assert.equal(r.product, 'orders')
    assert.equal(r.namespace, 'sales')
    assert.deepEqual(r.shared.map((o) => `${o.kind}/${o.metadata.name}/${o.metadata.namespace ?? '-'}`), ['DataMesh/acme/-', 'DataDomain/sales/-'])
    assert.deepEqual(r.namespaceObject.metadata.name, 'sales')
    assert.equal(r.namespaceObject.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted')
    assert.equal(r.objects[0].kind, 'DataProduct')
    for (const o of r.objects) {
      assert.equal(o.metadata.namespace, 'sales')
      assert.equal(o.metadata.labels?.['dappmesh.io/product'], 'orders')
      assert.equal(o.metadata.labels?.['app.kubernetes.io/part-of'], 'orders')
    }
    assert.equal(allManifests(r).length, 17)
  })

  it('leaves the project as it was read (rendered objects share their unchanged parts with it)', async () => {
    const {context} = await loadValidProject(fixture('../../examples/orders'), 'test', {positions: false})
    const before = JSON.stringify(context.project.resources.map((r) => r.object))
    const rendered = renderProduct(context)
    assert.ok(rendered.objects.some((o) => o.kind === 'OutputPort' && o.spec.service?.image), 'an image was filled in')
    assert.equal(JSON.stringify(context.project.resources.map((r) => r.object)), before)
    assert.ok(rendered.objects.every((o) => o.metadata.namespace === 'sales'))
  })

  it('names each product-scoped resource <product>.<name> in the cluster and keeps its references local', async () => {
    const r = await renderDirectory(fixture('../../examples/orders'))
    const names = r.objects.map((o) => `${o.kind}/${o.metadata.name}`)
    assert.ok(names.includes('DataProduct/orders'), names.join(' '))
    for (const o of r.objects.filter((x) => x.kind !== 'DataProduct')) assert.match(o.metadata.name, /^orders\.[a-z0-9-]+$/, `${o.kind}/${o.metadata.name}`)
    const port = named(r.objects, 'OutputPort', 'orders.orders-api')
    assert.equal(port.spec.contract, 'orders-clean', 'a reference names the local resource')
  })

  it('inlines a documentRef contract document', async () => {
    const r = await renderDirectory(fixture('../../examples/orders'))
    const contract: {document?: {id?: unknown}; documentRef?: unknown} = named(r.objects, 'DataContract', 'orders.orders-clean').spec
    assert.equal(contract.documentRef, undefined)
    assert.equal(contract.document?.id, 'urn:acme:sales:orders-clean')
  })

  it('uses <product>-<entity>:dev with a warning when nothing was built, and pins by digest after a pushed build', async () => {
    const p = orderProduct()
    try {
      const before = await renderDirectory(p.dir)
      assert.equal(named(before.objects, 'OutputPort', 'orders.orders-api').spec.service?.image, 'orders-orders:dev')
      assert.match(before.warnings[0], /no pushed build recorded for entity orders/)
      mkdirSync(path.join(p.dir, '.dappmesh'))
      const digest = `sha256:${'a'.repeat(64)}`
      writeFileSync(path.join(p.dir, '.dappmesh/images.json'), JSON.stringify({version: 1, images: {orders: {repository: '127.0.0.1:5000/sales/orders-orders', tag: 'c0ffee', digest, builder: 'buildah', contextDigest: 'sha256:c0ffee', builtAt: '2026-11-24T00:00:00Z'}}}))
      const after = await renderDirectory(p.dir)
      const image = `127.0.0.1:5000/sales/orders-orders@${digest}`
      assert.equal(named(after.objects, 'OutputPort', 'orders.orders-api').spec.service?.image, image)
      assert.equal(after.objects.find((o) => o.kind === 'InputPort')!.spec.image, image)
      assert.equal(after.objects.find((o) => o.kind === 'DataWorkflow')!.spec.image, image)
      assert.equal(named(after.objects, 'OutputPort', 'orders.orders-daily').spec.service, undefined, 'a table port without a service stays data only')
      assert.deepEqual(after.warnings, [])
    } finally {
      p.remove()
    }
  })

  it('refuses an invalid project with exit 1 and its first findings', () => {
    const r = cli(['render', fixture('validate', 'ref-domain')])
    assert.equal(r.code, 1)
    assert.match(flat(r.stderr), /not valid \(1 error\), so it cannot be rendered: dappmesh\.yaml:6:11/)
  })

  it('prints a List with -o json and writes one file per object with --output-dir', () => {
    const json = cli(['render', fixture('validate', 'valid-minimal'), '-o', 'json'])
    assert.equal(json.code, 0, json.stderr)
    assert.equal(JSON.parse(json.stdout).items.length, 11)
    const out = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-render-'))
    try {
      const r = cli(['render', fixture('validate', 'valid-minimal'), '--output-dir', out])
      assert.equal(r.code, 0, r.stderr)
      const files = readdirSync(out).sort()
      assert.equal(files.length, 12)
      assert.equal(files[0], '.dappmesh-rendered', 'the marker that keeps later loads from reading these files back')
      files.shift()
      assert.deepEqual(files.slice(0, 4), ['000-datamesh-mesh.yaml', '001-datadomain-shop.yaml', '002-namespace-shop.yaml', '003-dataproduct-items.yaml'])
    } finally {
      rmSync(out, {recursive: true, force: true})
    }
  })
})
