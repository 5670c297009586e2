import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {readFile, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {loadKubeConfig} from '../../src/core/kube/kubeconfig.js'
import {KubeRest} from '../../src/core/kube/rest.js'
import {PRODUCT_LABEL} from '../../src/core/render/render.js'
import {CATALOG_KEY_NAME, CATALOG_LABEL, CATALOG_NAME, CATALOG_NAMESPACE} from '../../src/core/reconcile/mesh/catalog.js'
import {desiredCatalog, shardName, shardOf} from '../../src/core/reconcile/mesh/catalog-shards.js'
import {catalogLocator} from '../../src/core/runtime/producers.js'
import {type ServeHandle, startServe} from '../../src/core/runtime/serve.js'
import {createTestNamespace, requireCluster} from '../helpers/cluster.js'
import {call, copyShop, ndjson, orders, push, runWorkflow} from '../helpers/runtime.js'

/**
 * A consumer runtime whose input port reads product shop's orders-api finds the producer through
 * the mesh catalog ConfigMap on a real API server, reads its rows through the producer's runtime
 * API (a local runtime on 127.0.0.1 that checks the consumer's Kubernetes token against its
 * DataRoles), and checks the producer's contract id and version, from the catalog and live.
 */
describe('serve: a product input located through the mesh catalog (real control plane)', function () {
  let kubeconfig: string
  let ns: {name: string; remove: () => Promise<void>}
  let client: KubeRest
  let producer: ServeHandle
  let consumer: ServeHandle
  let previousCatalog: any[] = []
  const dirs: string[] = []
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8'}).trim()
  const token = (sa: string) => kubectl('create', 'token', sa, '-n', ns.name)
  const bearer = (t: string) => ({authorization: `Bearer ${t}`})

  /**
   * Publishes the catalog the operator would (index and shards, in small shards so that there are
   * several) for product shop in the test namespace and 40 other products, shop's entry's runtime
   * pointing at `runtime`.
   */
  function publishCatalog(runtime: string, version = '2.1.0'): number {
    const others = Array.from({length: 40}, (_, i) => `other-${i}`)
    const desired = desiredCatalog(
      {
        meshes: [],
        domains: [],
        products: ['shop', ...others].map((name) => ({metadata: {name, namespace: ns.name}, spec: {domain: 'sales'}})),
        outputPorts: ['shop', ...others].map((name) => ({metadata: {name: `${name}.orders-api`, namespace: ns.name, labels: {[PRODUCT_LABEL]: name}}, spec: {contract: 'orders-clean'}})),
        inputPorts: [],
        contracts: [{metadata: {name: 'shop.orders-clean', namespace: ns.name}, spec: {document: {id: 'urn:test:shop:orders-clean', version}}}],
      },
      {targetBytes: 4096},
    )
    const local = desired.shards.find((s) => s.metadata.name === shardName(shardOf('shop', desired.names.length)))!
    local.data[CATALOG_KEY_NAME] = local.data[CATALOG_KEY_NAME].replace(`"runtime":"http://shop-runtime.${ns.name}:8080"`, `"runtime":"${runtime}"`)
    kubectl('delete', 'configmap', '-n', CATALOG_NAMESPACE, '-l', CATALOG_LABEL, '--ignore-not-found')
    execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], {input: JSON.stringify({apiVersion: 'v1', kind: 'List', items: [desired.index, ...desired.shards]})})
    return desired.names.length
  }

  before(async function () {
    kubeconfig = await requireCluster(this)
    ns = await createTestNamespace(kubeconfig, 'serve-catalog')
    for (const sa of ['reader', 'writer']) kubectl('create', 'serviceaccount', sa, '-n', ns.name)
    try {
      kubectl('create', 'namespace', CATALOG_NAMESPACE)
    } catch {
      // already there (the operator's namespace)
    }
    // Another suite's catalog, put back afterwards.
    previousCatalog = JSON.parse(kubectl('get', 'configmap', '-n', CATALOG_NAMESPACE, '-l', CATALOG_LABEL, '-o', 'json')).items

    // The producer: the shop fixture, checking tokens against its DataRoles (reader may read orders-api).
    const producerDir = await copyShop()
    dirs.push(producerDir)
    const roles = path.join(producerDir, 'mesh', 'roles.yaml')
    await writeFile(roles, (await readFile(roles, 'utf8')).replaceAll('namespace: serve-test', `namespace: ${ns.name}`))
    producer = await startServe({dir: producerDir, host: '127.0.0.1', port: 0, auth: true, kubeconfig, maxBody: 1024 * 1024})
    const writer = bearer(token('writer'))
    assert.equal((await push(producer.url, 'orders-in', ndjson(orders(1, 12)), undefined, writer)).status, 200)
    const started = await call(`${producer.url}/v1/workflows/nightly/runs`, {method: 'POST', headers: writer})
    assert.equal(started.status, 202, started.text)
    await producer.runtime.runs.settle()
    assert.equal((await producer.runtime.runs.get(started.json.id))?.status, 'succeeded')

    // The consumer: the same product, its input reading the producer's orders-api under contract orders-clean.
    const consumerDir = await copyShop()
    dirs.push(consumerDir)
    const input = path.join(consumerDir, 'services', 'orders', 'input.yaml')
    const text = await readFile(input, 'utf8')
    await writeFile(input, text.replace('type: kafka', 'type: product\n    product: shop\n    port: orders-api\n    contract: orders-clean').replace(/\n\s+uri: .*/, ''))
    client = await KubeRest.create(await loadKubeConfig({kubeconfig}))
    // The consumer presents the reader's token, as a runtime presents its ServiceAccount's.
    const locate = catalogLocator(client, ns.name, {DAPPMESH_TOKEN: token('reader')})
    consumer = await startServe({dir: consumerDir, host: '127.0.0.1', port: 0, auth: false, maxBody: 1024 * 1024, locate})
  })

  after(async () => {
    await consumer?.stop()
    await producer?.stop()
    client?.close()
    if (kubeconfig) {
      kubectl('delete', 'configmap', '-n', CATALOG_NAMESPACE, '-l', CATALOG_LABEL, '--ignore-not-found')
      // Created anew: without what the API server set on the old objects.
      const items = previousCatalog.map((object) => {
        const metadata = {...object.metadata}
        for (const field of ['resourceVersion', 'uid', 'creationTimestamp', 'managedFields']) delete metadata[field]
        return {...object, metadata}
      })
      if (items.length > 0) execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'create', '-f', '-'], {input: JSON.stringify({apiVersion: 'v1', kind: 'List', items})})
    }
    await ns?.remove()
    await Promise.all(dirs.map((d) => rm(d, {recursive: true, force: true})))
  })

  it('reads the producer\'s rows through the runtime the catalog names and publishes what its flow computes', async () => {
    assert.ok(publishCatalog(producer.url) > 1, 'the catalog is in several shards')
    const run = await runWorkflow(consumer.url, 'nightly')
    assert.equal(run.status, 'succeeded', JSON.stringify(run))
    assert.equal(run.result.transitions.find((t: {name: string}) => t.name === 'ingest:orders-in').rowsOut, 12)
    const served = await call(`${consumer.url}/v1/ports/orders-api?limit=1000`)
    assert.deepEqual(served.json.rows.map((r: {id: number}) => r.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
  })

  it('reads a catalog of the previous format (one ConfigMap, key catalog.json), as an operator not yet upgraded left it', async () => {
    const shards = publishCatalog(producer.url)
    const shard = JSON.parse(kubectl('get', 'configmap', shardName(shardOf('shop', shards)), '-n', CATALOG_NAMESPACE, '-o', 'json'))
    const legacy = {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: CATALOG_NAME, namespace: CATALOG_NAMESPACE, labels: {[CATALOG_LABEL]: 'true'}}, data: {[CATALOG_KEY_NAME]: shard.data[CATALOG_KEY_NAME]}}
    kubectl('delete', 'configmap', '-n', CATALOG_NAMESPACE, '-l', CATALOG_LABEL)
    execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], {input: JSON.stringify(legacy)})
    const run = await runWorkflow(consumer.url, 'nightly')
    assert.equal(run.status, 'succeeded', JSON.stringify(run))
  })

  it('fails the run naming the missing ConfigMap when the shard of the producer is gone, or the whole catalog', async () => {
    const shard = shardName(shardOf('shop', publishCatalog(producer.url)))
    kubectl('delete', 'configmap', shard, '-n', CATALOG_NAMESPACE)
    let run = await runWorkflow(consumer.url, 'nightly')
    assert.equal(run.status, 'failed')
    assert.match(run.error, new RegExp(`input orders-in: the mesh catalog's shard ${CATALOG_NAMESPACE}/${shard} does not exist`))
    kubectl('delete', 'configmap', '-n', CATALOG_NAMESPACE, '-l', CATALOG_LABEL)
    run = await runWorkflow(consumer.url, 'nightly')
    assert.equal(run.status, 'failed')
    assert.match(run.error, new RegExp(`input orders-in: the mesh catalog ${CATALOG_NAMESPACE}/${CATALOG_NAME} does not exist`))
  })

  it('reads only the index and the producer\'s shard: a run succeeds with every other shard gone', async () => {
    const shards = publishCatalog(producer.url)
    const mine = shardName(shardOf('shop', shards))
    for (let i = 0; i < shards; i++) if (shardName(i) !== mine) kubectl('delete', 'configmap', shardName(i), '-n', CATALOG_NAMESPACE)
    const run = await runWorkflow(consumer.url, 'nightly')
    assert.equal(run.status, 'succeeded', JSON.stringify(run))
  })

  it('finds the producer in the middle of a re-sharding, while the index still names the previous shard count', async () => {
    const shards = publishCatalog(producer.url)
    // The operator grew the catalog from half as many shards: the shards are written, the index not yet.
    assert.notEqual(shardOf('shop', shards), shardOf('shop', shards / 2), `with ${shards} shards, shop would be found without following the layout`)
    const previous = {version: 2, key: 'sha256(product)', shards: shards / 2, names: Array.from({length: shards / 2}, (_, i) => shardName(i))}
    kubectl('patch', 'configmap', CATALOG_NAME, '-n', CATALOG_NAMESPACE, '--type=merge', '-p', JSON.stringify({data: {'index.json': JSON.stringify(previous)}}))
    const run = await runWorkflow(consumer.url, 'nightly')
    assert.equal(run.status, 'succeeded', JSON.stringify(run))
  })

  it('refuses a producer whose catalog entry has another major contract version, before reading anything', async () => {
    publishCatalog(producer.url, '3.0.0')
    const before = producer.runtime.metrics.render()
    const run = await runWorkflow(consumer.url, 'nightly')
    assert.equal(run.status, 'failed')
    assert.match(run.error, /per the mesh catalog: the producer's contract orders-clean is urn:test:shop:orders-clean@3\.0\.0, the consumer expects urn:test:shop:orders-clean@2\.1\.0/)
    assert.equal(producer.runtime.metrics.render().match(/route="\/v1\/ports\/\{port\}"\} \d+/g)?.join(), before.match(/route="\/v1\/ports\/\{port\}"\} \d+/g)?.join(), 'no row was requested')
  })

  it('refuses a producer whose runtime serves another contract version than its catalog entry says (checked live)', async () => {
    publishCatalog(producer.url)
    const contract = producer.runtime.model.ports.get('orders-api')!.contract!
    const version = contract.version
    contract.version = '3.0.0'
    try {
      const run = await runWorkflow(consumer.url, 'nightly')
      assert.equal(run.status, 'failed')
      assert.match(run.error, /urn:test:shop:orders-clean@3\.0\.0, the consumer expects urn:test:shop:orders-clean@2\.1\.0/)
      assert.doesNotMatch(run.error, /per the mesh catalog/)
    } finally {
      contract.version = version
    }
  })

  it('fails the run, saying the port is not granted, when the token it presents may read nothing of the producer', async () => {
    kubectl('create', 'serviceaccount', 'nobody', '-n', ns.name)
    const stranger = await startServe({
      dir: dirs[1],
      dataDir: path.join(dirs[1], 'stranger-data'),
      host: '127.0.0.1',
      port: 0,
      auth: false,
      maxBody: 1024 * 1024,
      locate: catalogLocator(client, ns.name, {DAPPMESH_TOKEN: token('nobody')}),
    })
    try {
      const run = await runWorkflow(stranger.url, 'nightly')
      assert.equal(run.status, 'failed')
      assert.match(run.error, /the producer serves no port orders-api that this consumer may read/)
    } finally {
      await stranger.stop()
    }
  })
})
