import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'

import {requireCluster} from '../helpers/cluster.js'
import {type OperatorChild, eventually, startOperator} from '../helpers/operator-child.js'

/**
 * Trust, tried as a hostile product author would on a real API server: authors and consumers are
 * impersonated (`kubectl --as`), so the API server's own RBAC authorizer judges them.
 */
describe('DataRole grants: no escalation through the operator (real control plane, impersonation)', function () {
  let kubeconfig: string
  let operator: OperatorChild | undefined
  const id = randomBytes(3).toString('hex')
  const ns = `grants-${id}`
  /** may do anything with dappmesh resources in ns, and nothing else */
  const author = `author-${id}`
  /** the subject a DataRole grants admin to */
  const consumer = `consumer-${id}`
  const API = 'dappmesh.io/v1alpha1'
  const labels = {'dappmesh.io/product': 'orders'}

  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe']})
  /** kubectl as someone (or as the cluster admin): its exit code and what it said. */
  const run = (as: string | undefined, args: string[], input?: unknown) => {
    const r = spawnSync('kubectl', ['--kubeconfig', kubeconfig, ...(as ? ['--as', as] : []), ...args], {input: input === undefined ? undefined : JSON.stringify(input), encoding: 'utf8'})
    return {code: r.status, output: `${r.stdout}${r.stderr}`}
  }
  const role = (name: string, subjects: any[], grants: any[]) => ({apiVersion: API, kind: 'DataRole', metadata: {name, namespace: ns, labels}, spec: {subjects, grants}})
  /**
   * Creates a DataRole as `as` until the API server refuses it: a new admission policy comes into
   * force asynchronously, and a role created before that is deleted again and does not count.
   */
  const refusedCreate = (as: string | undefined, subjects: any[], grants: any[]) =>
    eventually(() => {
      const name = `try-${randomBytes(3).toString('hex')}`
      const r = run(as, ['create', '-f', '-'], role(name, subjects, grants))
      if (r.code === 0) kubectl('delete', 'datarole', name, '-n', ns)
      return r.code === 0 ? false : r
    }, 'the DataRole to be refused')

  before(async function () {
    kubeconfig = await requireCluster(this)
    kubectl('create', 'namespace', ns)
    // The operator installs the CRDs and the admission policy that goes with them.
    operator = await startOperator(['--only', 'product', '-n', ns, '--kubeconfig', kubeconfig])
    // The author's rights: every dappmesh resource in the namespace, no Secret, Service or workload.
    kubectl('create', 'role', 'dappmesh-author', '-n', ns, '--verb=*', '--resource=dataroles.dappmesh.io,dataproducts.dappmesh.io,datastorages.dappmesh.io')
    kubectl('create', 'rolebinding', 'dappmesh-author', '-n', ns, '--role=dappmesh-author', `--user=${author}`)
  })

  after(async () => {
    await operator?.stop()
    try {
      kubectl('delete', 'dataproduct', 'orders', '-n', ns, '--wait=false', '--ignore-not-found')
      kubectl('patch', 'dataproduct', 'orders', '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}')
    } catch {
      // gone already
    }
    try {
      kubectl('delete', 'namespace', ns, '--wait=false', '--ignore-not-found')
    } catch {
      // the cluster goes away at the end of the run anyway
    }
  })

  it('refuses a namespace-limited author\'s DataRole granting admin on a storage to anyone, and names what she lacks', async () => {
    const refused = await refusedCreate(author, [{kind: 'User', name: consumer}], [{storage: 'operational', access: 'admin'}])
    assert.match(refused.output, /ValidatingAdmissionPolicy 'dappmesh-datarole-grants'/)
    assert.match(refused.output, new RegExp(`grants what its author may not do: get services in namespace ${ns}`))
    assert.match(refused.output, /a DataRole may grant only what its author could grant/)
  })

  it('asks for reading Secrets before a storage grant, which hands out a database user\'s Secret', async () => {
    // She may read Services: what a storage grant needs besides, she lacks.
    kubectl('create', 'role', 'service-reader', '-n', ns, '--verb=get', '--resource=services')
    kubectl('create', 'rolebinding', 'service-reader', '-n', ns, '--role=service-reader', `--user=${author}`)
    // RBAC changes reach the authorizer within moments: until then she lacks Services too.
    const refused = await refusedCreate(author, [{kind: 'User', name: consumer}], [{storage: 'operational', access: 'read'}])
    await eventually(() => /may not do: get secrets in namespace/.test(run(author, ['create', '-f', '-'], role(`read-${id}`, [{kind: 'User', name: consumer}], [{storage: 'operational', access: 'read'}])).output), `a refusal naming Secrets (first: ${refused.output})`)
    kubectl('create', 'role', 'secret-reader', '-n', ns, '--verb=get', '--resource=secrets')
    kubectl('create', 'rolebinding', 'secret-reader', '-n', ns, '--role=secret-reader', `--user=${author}`)
    // What she holds, she may grant: read on a storage is its Service and its read user's Secret.
    await eventually(() => run(author, ['create', '-f', '-'], role(`read-${id}`, [{kind: 'User', name: consumer}], [{storage: 'operational', access: 'read'}])).code === 0, 'the read grant to be admitted')
    kubectl('delete', 'datarole', `read-${id}`, '-n', ns)
  })

  it('checks each right a grant hands out: reading Services is not enough for admin on a storage, nor for a port\'s contract', () => {
    // She holds Services and Secrets (the test before): what admin on a storage adds, she lacks.
    const admin = run(author, ['create', '-f', '-'], role(`admin-${id}`, [{kind: 'User', name: consumer}], [{storage: 'operational', access: 'admin'}]))
    assert.notEqual(admin.code, 0, admin.output)
    assert.match(admin.output, /may not do: get statefulsets\.apps in namespace/)
    const port = run(author, ['create', '-f', '-'], role(`port-${id}`, [{kind: 'User', name: consumer}], [{outputPort: 'orders-api', access: 'read'}]))
    assert.notEqual(port.code, 0, port.output)
    assert.match(port.output, /may not do: get configmaps in namespace/)
  })

  it('lets the author grant admin once she holds every right it hands out', () => {
    kubectl('create', 'role', 'storage-reader', '-n', ns, '--verb=get', '--resource=statefulsets.apps')
    kubectl('create', 'rolebinding', 'storage-reader', '-n', ns, '--role=storage-reader', `--user=${author}`)
    const r = run(author, ['create', '-f', '-'], role(`held-${id}`, [{kind: 'User', name: consumer}], [{storage: 'operational', access: 'admin'}]))
    assert.equal(r.code, 0, r.output)
    kubectl('delete', 'datarole', `held-${id}`, '-n', ns)
  })

  it('refuses Kubernetes system identities as subjects, even from the cluster admin', async () => {
    for (const subject of [
      {kind: 'Group', name: 'system:authenticated'},
      {kind: 'User', name: 'system:kube-controller-manager'},
      {kind: 'ServiceAccount', name: 'default', namespace: 'kube-system'},
    ]) {
      const refused = await refusedCreate(undefined, [subject], [{outputPort: 'orders-api', access: 'read'}])
      assert.match(refused.output, /system identity|system namespace/, JSON.stringify(subject))
    }
  })

  it('gives a subject granted admin no way to patch the storage\'s StatefulSet or read its credentials Secret', async () => {
    // Made by the cluster admin, who holds every right: admission lets it through.
    const objects = [
      // The inventory apply records: what belongs to the product.
      {apiVersion: API, kind: 'DataProduct', metadata: {name: 'orders', namespace: ns, annotations: {'dappmesh.io/inventory': '["DataRole/orders.admins","DataStorage/orders.operational"]'}}, spec: {domain: 'sales', owner: 'team@example.com', version: '1.0.0'}},
      {apiVersion: API, kind: 'DataStorage', metadata: {name: 'orders.operational', namespace: ns, labels}, spec: {class: 'operational', engine: 'postgresql'}},
      role('orders.admins', [{kind: 'User', name: consumer}], [{storage: 'operational', access: 'admin'}]),
    ]
    const made = run(undefined, ['apply', '-f', '-'], {apiVersion: 'v1', kind: 'List', items: objects})
    assert.equal(made.code, 0, made.output)
    await eventually(() => run(undefined, ['get', 'rolebinding', 'orders--admins', '-n', ns]).code === 0, 'the operator to bind the role')
    await eventually(() => run(undefined, ['get', 'secret', 'orders--operational-credentials', '-n', ns]).code === 0, 'the credentials Secret')
    // What the grant gives: reading the StatefulSet (so the binding does work)...
    const get = run(consumer, ['get', 'statefulset', 'orders--operational', '-n', ns, '-o', 'name'])
    assert.equal(get.code, 0, get.output)
    // ...and never a pod spec of its choosing, nor the engine's root credentials.
    const patch = run(consumer, ['patch', 'statefulset', 'orders--operational', '-n', ns, '--type=merge', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"postgresql","image":"evil:1"}]}}}}'])
    assert.notEqual(patch.code, 0, patch.output)
    assert.match(patch.output, /forbidden/i)
    const secret = run(consumer, ['get', 'secret', 'orders--operational-credentials', '-n', ns])
    assert.notEqual(secret.code, 0, secret.output)
    assert.match(secret.output, /forbidden/i)
  })

  it('gives a storage grant the Secret of its access level\'s database user only: the grantee reads it, and neither the root credentials nor another level\'s', async () => {
    const readers = role('orders.readers', [{kind: 'User', name: consumer}], [{storage: 'operational', access: 'read'}])
    const inventory = '["DataRole/orders.admins","DataRole/orders.readers","DataStorage/orders.operational"]'
    assert.equal(run(undefined, ['annotate', '--overwrite', 'dataproduct', 'orders', '-n', ns, `dappmesh.io/inventory=${inventory}`]).code, 0)
    assert.equal(run(undefined, ['apply', '-f', '-'], readers).code, 0)
    const rules = await eventually(() => {
      const r = run(undefined, ['get', 'role', 'orders--readers', '-n', ns, '-o', 'jsonpath={.rules}'])
      return r.code === 0 && r.output.includes('secrets') ? JSON.parse(r.output) : false
    }, 'the operator to write the readers\' Role')
    assert.deepEqual(rules.filter((r: any) => r.resources.includes('secrets')), [{apiGroups: [''], resources: ['secrets'], resourceNames: ['orders--operational-read'], verbs: ['get']}])
    await eventually(() => run(consumer, ['get', 'secret', 'orders--operational-read', '-n', ns]).code === 0, 'the grantee to read the read user\'s Secret')
    const user = JSON.parse(run(consumer, ['get', 'secret', 'orders--operational-read', '-n', ns, '-o', 'json']).output)
    assert.equal(Buffer.from(user.data.username, 'base64').toString(), 'operational_read')
    assert.ok(Buffer.from(user.data.password, 'base64').length >= 24, 'a generated password')
    for (const other of ['orders--operational-credentials', 'orders--operational-write']) {
      const r = run(consumer, ['get', 'secret', other, '-n', ns])
      assert.notEqual(r.code, 0, `${other}: ${r.output}`)
      assert.match(r.output, /forbidden/i)
    }
    // Removing the grant removes the access (the database role stays with the storage's volume).
    assert.equal(run(undefined, ['delete', 'datarole', 'orders.readers', '-n', ns]).code, 0)
    // The consumer is also granted admin (orders.admins), whose Secret stays hers: check the read one goes.
    await eventually(() => run(consumer, ['get', 'secret', 'orders--operational-read', '-n', ns]).code !== 0, 'the grant\'s access to go')
    assert.equal(run(consumer, ['get', 'secret', 'orders--operational-admin', '-n', ns]).code, 0, 'the admin grant gives the admin user\'s Secret')
  })

  it('makes nothing of a resource someone labels for the product when the product\'s inventory does not list it', async () => {
    // The author may write DataStorages, not the product: her storage with its own image claims the product by label.
    const evil = {apiVersion: API, kind: 'DataStorage', metadata: {name: 'orders.evil', namespace: ns, labels}, spec: {class: 'operational', engine: 'postgresql', image: 'evil.example.com/miner:1'}}
    const made = run(author, ['create', '-f', '-'], evil)
    assert.equal(made.code, 0, made.output)
    await eventually(
      () => kubectl('get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=orders,reason=NotInInventory', '-o', 'jsonpath={.items[*].message}').includes('DataStorage orders.evil'),
      'the operator to say it ignored the storage',
    )
    assert.equal(run(undefined, ['get', 'statefulset', 'orders--evil', '-n', ns]).code, 1, 'no StatefulSet for the unlisted storage')
  })
})
