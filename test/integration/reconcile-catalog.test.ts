import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'

import {requireCluster} from '../helpers/cluster.js'
import {type OperatorChild, eventually, metricValue, startOperator} from '../helpers/operator-child.js'

describe('operator run: the mesh catalog ConfigMap (real control plane)', function () {
  let kubeconfig: string
  let operator: OperatorChild | undefined
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
  const catalog = () => JSON.parse(json('get', 'configmap', 'dappmesh-catalog', '-n', 'dappmesh-system').data['catalog.json'])
  const entry = (port: string) => catalog().outputPorts.find((e: any) => e.namespace === ns && e.port === port)

  before(async function () {
    kubeconfig = await requireCluster(this)
    // Only the mesh loop: it writes nothing but DataMesh status and the catalog. It installs the CRDs.
    // Only the suite's own mesh (-l): other suites' meshes in the shared cluster keep no status of ours.
    operator = await startOperator(['--only', 'mesh', '--selector', `dappmesh.io/test-suite=cat-${id}`, '--health-port', '0', '--kubeconfig', kubeconfig])
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

  after(async () => {
    await operator?.stop()
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
    const raw = entry('raw')
    assert.equal(raw.contract, null)
    assert.deepEqual(raw.consumers, [])
    // Sorted, so the same mesh always gives the same bytes.
    const keys = catalog().outputPorts.map((e: any) => `${e.namespace}/${e.product}/${e.port}`)
    assert.deepEqual(keys, [...keys].sort())
  })

  it('is owned by the DataMesh, in the namespace dappmesh-system', () => {
    const cm = json('get', 'configmap', 'dappmesh-catalog', '-n', 'dappmesh-system')
    const uid = json('get', 'datamesh', mesh).metadata.uid
    assert.ok(cm.metadata.ownerReferences.some((r: any) => r.kind === 'DataMesh' && r.name === mesh && r.uid === uid), JSON.stringify(cm.metadata.ownerReferences))
  })

  it('follows a new consumer and a new contract version', async () => {
    apply({apiVersion: 'dappmesh.io/v1alpha1', kind: 'InputPort', metadata: meta('raw-orders', consumer), spec: {entity: 'orders', schema: 'orders@1.0.0/raw', source: {type: 'product', product: producer, port: 'raw'}}})
    await eventually(() => entry('raw').consumers.length === 1, 'the new consumer of raw')
    assert.deepEqual(entry('raw').consumers, [{product: consumer, namespace: ns, inputPort: 'raw-orders'}])
    kubectl('patch', 'datacontract', `${producer}.orders-daily`, '-n', ns, '--type=merge', '-p', JSON.stringify({spec: {document: {version: '1.1.0'}}}))
    await eventually(() => entry('daily').contract.version === '1.1.0', 'the contract version 1.1.0')
  })

  it('writes nothing when what changed is not in the catalog', async () => {
    const version = () => json('get', 'configmap', 'dappmesh-catalog', '-n', 'dappmesh-system').metadata.resourceVersion as string
    // The earlier tests' changes may still be arriving (the mesh loop coalesces events for a
    // second): start from a catalog that has stood still for a few seconds.
    let before = version()
    await eventually(async () => {
      await new Promise((resolve) => setTimeout(resolve, 3000))
      const now = version()
      const still = now === before
      before = now
      return still
    }, 'the catalog to stand still')
    const series = 'dappmesh_reconciles_total{controller="mesh"}'
    const reconciles = await metricValue(operator!.url!, series)
    // A label on a product is an event for the catalog, but not a change to it.
    kubectl('label', 'dataproduct', producer, '-n', ns, `touched=${Date.now()}`, '--overwrite')
    await eventually(async () => (await metricValue(operator!.url!, series)) > reconciles, 'a mesh reconcile after the label')
    assert.equal(json('get', 'configmap', 'dappmesh-catalog', '-n', 'dappmesh-system').metadata.resourceVersion, before)
  })

  it('puts a deleted catalog back, and drops a deleted port from it', async () => {
    kubectl('delete', 'configmap', 'dappmesh-catalog', '-n', 'dappmesh-system')
    await eventually(() => entry('daily'), 'the catalog to come back')
    kubectl('delete', 'outputport', `${producer}.raw`, '-n', ns)
    await eventually(() => entry('raw') === undefined, 'the port raw to leave the catalog')
    assert.ok(entry('daily'))
  })
})
