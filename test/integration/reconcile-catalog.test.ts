import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'

import {loadKubeConfig} from '../../src/core/kube/kubeconfig.js'
import {KubeRest} from '../../src/core/kube/rest.js'
import {byEntry, type Catalog} from '../../src/core/reconcile/mesh/catalog.js'
import {readCatalog} from '../../src/core/reconcile/mesh/catalog-read.js'
import {type CatalogIndex, INDEX_KEY_NAME, shardName, shardOf} from '../../src/core/reconcile/mesh/catalog-shards.js'
import {requireCluster} from '../helpers/cluster.js'
import {type OperatorChild, eventually, metricValue, startOperator} from '../helpers/operator-child.js'

describe('operator run: the mesh catalog, an index ConfigMap and its shards (real control plane)', function () {
  let kubeconfig: string
  let operator: OperatorChild | undefined
  let client: KubeRest
  // Small shards, so that this suite's few hundred ports make many of them.
  const SHARD_BYTES = 8192
  const id = randomBytes(3).toString('hex')
  const mesh = `cat-${id}`
  const domain = `catdom-${id}`
  const ns = `catdom-${id}`
  const producer = `shop-${id}`
  const consumer = `report-${id}`
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe']})
  const json = (...args: string[]) => JSON.parse(kubectl(...args, '-o', 'json'))
  const apply = (...objects: any[]) =>
    execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], {input: JSON.stringify({apiVersion: 'v1', kind: 'List', items: objects}), stdio: ['pipe', 'pipe', 'pipe']})
  const labelled = (product: string) => ({'dappmesh.io/product': product})
  // Named as render names them: `<product>.<name>`; references (a port's contract) stay local.
  const meta = (name: string, product: string) => ({name: `${product}.${name}`, namespace: ns, labels: labelled(product)})
  // Through the one reader the runtimes use: the index, then the shard(s).
  const catalog = (product?: string): Promise<Catalog> => readCatalog(client, product)
  const entry = async (port: string) => (await catalog(producer)).outputPorts.find((e) => e.namespace === ns && e.port === port)
  /** The catalog's ConfigMaps by name: the index and every shard. */
  const catalogMaps = (): Map<string, any> => new Map(json('get', 'configmap', '-n', 'dappmesh-system', '-l', 'dappmesh.io/catalog').items.map((m: any) => [m.metadata.name, m]))
  const index = (): CatalogIndex => JSON.parse(json('get', 'configmap', 'dappmesh-catalog', '-n', 'dappmesh-system').data[INDEX_KEY_NAME])
  const versions = () => new Map([...catalogMaps()].map(([name, m]) => [name, m.metadata.resourceVersion as string]))
  /** Waits until no catalog ConfigMap has changed for a few seconds (the mesh loop coalesces events for a second). */
  async function standStill(): Promise<Map<string, string>> {
    let before = JSON.stringify([...versions()])
    await eventually(async () => {
      await new Promise((resolve) => setTimeout(resolve, 3000))
      const now = JSON.stringify([...versions()])
      const still = now === before
      before = now
      return still
    }, 'the catalog to stand still')
    return new Map(JSON.parse(before))
  }

  before(async function () {
    kubeconfig = await requireCluster(this)
    // Only the mesh loop: it writes nothing but DataMesh status and the catalog. It installs the CRDs.
    // Only the suite's own mesh (-l): other suites' meshes in the shared cluster keep no status of ours.
    operator = await startOperator(['--only', 'mesh', '--selector', `dappmesh.io/test-suite=cat-${id}`, '--health-port', '0', '--kubeconfig', kubeconfig], {
      env: {DAPPMESH_CATALOG_SHARD_BYTES: String(SHARD_BYTES)},
    })
    client = await KubeRest.create(await loadKubeConfig({kubeconfig}))
    kubectl('create', 'namespace', ns)
    apply(
      {apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataMesh', metadata: {name: mesh, labels: {'dappmesh.io/test-suite': `cat-${id}`}}, spec: {description: 'catalog test', governance: {requireContracts: false, requireClassificationForPii: false}}},
      {apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataDomain', metadata: {name: domain}, spec: {mesh, owner: 'team@example.com', namespace: ns}},
      {apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataProduct', metadata: {name: producer, namespace: ns}, spec: {domain, owner: 'team@example.com', version: '1.0.0'}},
      {apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataProduct', metadata: {name: consumer, namespace: ns}, spec: {domain, owner: 'team@example.com', version: '1.0.0'}},
      {
        apiVersion: 'dappmesh.io/v1alpha1',
        kind: 'DataContract',
        metadata: meta('orders-daily', producer),
        spec: {specification: 'odcs', specificationVersion: '3.0.0', schema: 'orders@1.0.0/daily', document: {apiVersion: 'v3.0.0', kind: 'DataContract', id: `urn:test:${id}:orders-daily`, version: '1.0.0'}},
      },
      {apiVersion: 'dappmesh.io/v1alpha1', kind: 'OutputPort', metadata: meta('daily', producer), spec: {entity: 'orders', type: 'table', schema: 'orders@1.0.0/daily', contract: 'orders-daily'}},
      {apiVersion: 'dappmesh.io/v1alpha1', kind: 'OutputPort', metadata: meta('raw', producer), spec: {entity: 'orders', type: 'topic', schema: 'orders@1.0.0/raw'}},
      {apiVersion: 'dappmesh.io/v1alpha1', kind: 'InputPort', metadata: meta('orders', consumer), spec: {entity: 'orders', schema: 'orders@1.0.0/daily', source: {type: 'product', product: producer, port: 'daily'}}},
    )
  })

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(`the operator's log, last lines:\n${operator?.log().split('\n').slice(-30).join('\n')}`)
  })

  after(async () => {
    await operator?.stop()
    client?.close()
    try {
      kubectl('delete', 'namespace', ns, '--wait=false', '--ignore-not-found')
      kubectl('delete', 'datadomain', domain, '--ignore-not-found')
      kubectl('delete', 'datamesh', mesh, '--ignore-not-found')
    } catch {
      // the cluster goes away at the end of the run anyway
    }
  })

  it('lists each output port with its product, domain, mesh, contract id and version, and the products consuming it', async () => {
    const daily = await eventually(() => entry('daily'), 'the port daily in the catalog')
    assert.deepEqual(daily, {
      port: 'daily',
      namespace: ns,
      product: producer,
      domain,
      mesh,
      entity: 'orders',
      type: 'table',
      schema: 'orders@1.0.0/daily',
      contract: {name: 'orders-daily', id: `urn:test:${id}:orders-daily`, version: '1.0.0', found: true},
      runtime: `http://${producer}-runtime.${ns}:8080`,
      consumers: [{product: consumer, namespace: ns, inputPort: 'orders'}],
    })
    const raw = (await entry('raw'))!
    assert.equal(raw.contract, null)
    assert.deepEqual(raw.consumers, [])
    // Sorted, so the same mesh always gives the same bytes.
    const keys = (await catalog()).outputPorts.map((e) => `${e.namespace}/${e.product}/${e.port}`)
    assert.deepEqual(keys, [...keys].sort())
  })

  it('keeps a product\'s entries in the one shard its name hashes to, which is all a reader that knows the product reads', async () => {
    const {shards} = index()
    const shard = JSON.parse(catalogMaps().get(shardName(shardOf(producer, shards))).data['catalog.json'])
    assert.deepEqual(shard.outputPorts.filter((e: any) => e.product === producer).map((e: any) => e.port), ['daily', 'raw'])
    assert.deepEqual((await catalog(producer)).outputPorts.map((e) => e.port), ['daily', 'raw'])
    assert.deepEqual((await catalog(`nothing-${id}`)).outputPorts, [])
  })

  it('is owned by the DataMesh and labelled as the catalog\'s, index and shards alike, in the namespace dappmesh-system', () => {
    const uid = json('get', 'datamesh', mesh).metadata.uid
    const maps = catalogMaps()
    assert.deepEqual([...maps.keys()].sort(), ['dappmesh-catalog', ...index().names].sort())
    for (const cm of maps.values()) {
      assert.ok(cm.metadata.ownerReferences.some((r: any) => r.kind === 'DataMesh' && r.name === mesh && r.uid === uid), JSON.stringify(cm.metadata.ownerReferences))
      assert.equal(cm.metadata.labels['app.kubernetes.io/managed-by'], 'dappmesh-operator')
    }
  })

  it('follows a new consumer and a new contract version', async () => {
    apply({apiVersion: 'dappmesh.io/v1alpha1', kind: 'InputPort', metadata: meta('raw-orders', consumer), spec: {entity: 'orders', schema: 'orders@1.0.0/raw', source: {type: 'product', product: producer, port: 'raw'}}})
    await eventually(async () => (await entry('raw'))?.consumers.length === 1, 'the new consumer of raw')
    assert.deepEqual((await entry('raw'))!.consumers, [{product: consumer, namespace: ns, inputPort: 'raw-orders'}])
    kubectl('patch', 'datacontract', `${producer}.orders-daily`, '-n', ns, '--type=merge', '-p', JSON.stringify({spec: {document: {version: '1.1.0'}}}))
    await eventually(async () => (await entry('daily'))?.contract?.version === '1.1.0', 'the contract version 1.1.0')
  })

  it('writes nothing when what changed is not in the catalog', async () => {
    const before = await standStill()
    const series = 'dappmesh_reconciles_total{controller="mesh"}'
    const reconciles = await metricValue(operator!.url!, series)
    // A label on a port is an event for the catalog, but not a change to it. (One on a product is
    // not even an event: the catalog reads only a product's name and domain.)
    kubectl('label', 'outputport', `${producer}.daily`, '-n', ns, `touched=${Date.now()}`, '--overwrite')
    await eventually(async () => (await metricValue(operator!.url!, series)) > reconciles, 'a mesh reconcile after the label')
    assert.deepEqual(versions(), before)
  })

  it('puts a deleted shard and a deleted index back, and drops a deleted port', async () => {
    kubectl('delete', 'configmap', shardName(shardOf(producer, index().shards)), '-n', 'dappmesh-system')
    await eventually(() => entry('daily'), 'the shard to come back')
    kubectl('delete', 'configmap', 'dappmesh-catalog', '-n', 'dappmesh-system')
    await eventually(() => entry('daily'), 'the index to come back')
    kubectl('delete', 'outputport', `${producer}.raw`, '-n', ns)
    await eventually(async () => (await entry('raw')) === undefined, 'the port raw to leave the catalog')
    assert.ok(await entry('daily'))
  })

  it('replaces a catalog of the previous format (one ConfigMap, key catalog.json) on its first reconcile', async () => {
    await standStill()
    // What the previous version applied, with the same field manager.
    const legacy = {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'dappmesh-catalog', namespace: 'dappmesh-system', labels: {'dappmesh.io/catalog': 'true'}}, data: {'catalog.json': '{"outputPorts":[]}\n'}}
    execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'apply', '--server-side', '--force-conflicts', '--field-manager=dappmesh-operator', '-f', '-'], {input: JSON.stringify(legacy), stdio: ['pipe', 'pipe', 'pipe']})
    await eventually(() => {
      const data = json('get', 'configmap', 'dappmesh-catalog', '-n', 'dappmesh-system').data
      return data[INDEX_KEY_NAME] && !('catalog.json' in data)
    }, 'the index without the previous format\'s catalog.json')
    assert.ok(await entry('daily'))
  })

  describe('with a few hundred ports in three domains', () => {
    const domains = [0, 1, 2].map((d) => ({domain: `catbig${d}-${id}`, ns: `catbig${d}-${id}`}))
    const products = domains.flatMap(({domain, ns: namespace}) => Array.from({length: 20}, (_, p) => ({name: `p${p}-${domain}`, domain, ns: namespace})))
    const PORTS = 5
    const portsOf = (p: {name: string; ns: string}, count = PORTS) =>
      Array.from({length: count}, (_, i) => ({
        apiVersion: 'dappmesh.io/v1alpha1',
        kind: 'OutputPort',
        metadata: {name: `${p.name}.item${i}-api`, namespace: p.ns, labels: labelled(p.name)},
        spec: {entity: `item${i}`, type: 'api', schema: `item${i}@1.0.0/api`},
      }))
    const mine = async () => (await catalog()).outputPorts.filter((e) => domains.some((d) => d.ns === e.namespace))

    before(() => {
      for (const d of domains) {
        kubectl('create', 'namespace', d.ns)
        apply({apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataDomain', metadata: {name: d.domain}, spec: {mesh, owner: 'team@example.com', namespace: d.ns}})
      }
      apply(...products.map((p) => ({apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataProduct', metadata: {name: p.name, namespace: p.ns}, spec: {domain: p.domain, owner: 'team@example.com', version: '1.0.0'}})))
      apply(...products.flatMap((p) => portsOf(p)))
    })

    after(() => {
      try {
        for (const d of domains) {
          kubectl('delete', 'namespace', d.ns, '--wait=false', '--ignore-not-found')
          kubectl('delete', 'datadomain', d.domain, '--ignore-not-found')
        }
      } catch {
        // the cluster goes away at the end of the run anyway
      }
    })

    it('lists every port with its domain, in shards each under the size limit', async () => {
      const entries = await eventually(async () => {
        const found = await mine()
        return found.length === products.length * PORTS && found.every((e) => e.domain && e.mesh === mesh) && found
      }, `all ${products.length * PORTS} ports in the catalog`)
      assert.deepEqual(new Set(entries.map((e) => e.domain)), new Set(domains.map((d) => d.domain)))
      const {shards, names} = index()
      assert.ok(shards >= 8, `${shards} shards`)
      const maps = catalogMaps()
      for (const name of names) assert.ok(Buffer.byteLength(maps.get(name).data['catalog.json']) <= SHARD_BYTES, `${name} is over ${SHARD_BYTES} bytes`)
      // A reader that knows the product finds its ports in its shard alone.
      for (const p of [products[0], products[31], products[59]]) assert.equal((await catalog(p.name)).outputPorts.length, PORTS, p.name)
    })

    it('can be read whole with kubectl as the README shows, one entry per line', async () => {
      const text = kubectl('get', 'configmap', '-n', 'dappmesh-system', '-l', 'dappmesh.io/catalog=shard', '-o', 'jsonpath={range .items[*]}{.data.catalog\\.json}{end}')
      const lines = text.split('\n').filter((line) => line.startsWith('{"port"')).map((line) => JSON.parse(line.replace(/,$/, '')))
      assert.deepEqual(lines.sort(byEntry), (await catalog()).outputPorts)
    })

    it('rewrites only the shard of a product that gains a port, fewer bytes than the whole catalog', async () => {
      const before = await standStill()
      const written = await metricValue(operator!.url!, 'dappmesh_catalog_bytes_written_total')
      const product = products[7]
      apply(portsOf(product, PORTS + 1).at(-1))
      await eventually(async () => (await catalog(product.name)).outputPorts.length === PORTS + 1, 'the new port in the catalog')
      const after = await standStill()
      const changed = [...after].filter(([name, version]) => before.get(name) !== version).map(([name]) => name)
      assert.deepEqual(changed, [shardName(shardOf(product.name, index().shards))])
      const bytes = (await metricValue(operator!.url!, 'dappmesh_catalog_bytes_written_total')) - written
      assert.ok(bytes > 0 && bytes <= SHARD_BYTES, `${bytes} bytes written`)
    })

    it('deletes the shards no longer needed once the ports are gone', async () => {
      const {shards} = index()
      // One deletecollection per namespace: kubectl delete --all deletes one object per request.
      for (const d of domains) kubectl('delete', '--raw', `/apis/dappmesh.io/v1alpha1/namespaces/${d.ns}/outputports`)
      await eventually(async () => (await mine()).length === 0 && index().shards < shards, 'fewer shards')
      await standStill()
      assert.deepEqual([...catalogMaps().keys()].sort(), ['dappmesh-catalog', ...index().names].sort())
      assert.ok(await entry('daily'), 'the remaining ports are still listed')
    })
  })
})
