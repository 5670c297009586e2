import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'

import {cli, flat} from '../helpers/cli.js'
import {type OperatorChild, eventually, startOperator} from '../helpers/operator-child.js'
import {productsOnCluster} from '../helpers/product.js'

/** A product's data outlives its storages and the product itself, until --purge-data; CRDs are never downgraded. */
describe('data safety (real control plane)', function () {
  this.timeout(300_000)
  const cluster = productsOnCluster('data')
  let operator: OperatorChild | undefined
  const id = randomBytes(3).toString('hex')
  const ns = `data-${id}`
  const API = 'dappmesh.io/v1alpha1'
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', cluster.kubeconfig, ...args], {encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe']})
  const json = (...args: string[]) => JSON.parse(kubectl(...args, '-o', 'json'))
  const find = (kind: string, name: string) => {
    const r = spawnSync('kubectl', ['--kubeconfig', cluster.kubeconfig, 'get', kind, name, '-n', ns, '-o', 'json', '--ignore-not-found'], {encoding: 'utf8'})
    return r.stdout.trim() ? JSON.parse(r.stdout) : undefined
  }
  const create = (items: any[]) => {
    const r = spawnSync('kubectl', ['--kubeconfig', cluster.kubeconfig, 'apply', '-f', '-'], {input: JSON.stringify({apiVersion: 'v1', kind: 'List', items}), encoding: 'utf8'})
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`)
  }
  const productObject = {apiVersion: API, kind: 'DataProduct', metadata: {name: 'keep', namespace: ns}, spec: {domain: 'sales', owner: 'team@example.com', version: '1.0.0'}}
  const storage = {apiVersion: API, kind: 'DataStorage', metadata: {name: 'keep.db', namespace: ns, labels: {'dappmesh.io/product': 'keep'}}, spec: {class: 'operational', engine: 'postgresql'}}

  before(async function () {
    if (!cluster.kubeconfig) this.skip()
    kubectl('create', 'namespace', ns)
    operator = await startOperator(['--only', 'product', '-n', ns, '--kubeconfig', cluster.kubeconfig])
  })

  after(async () => {
    await operator?.stop()
    try {
      kubectl('patch', 'dataproduct', 'keep', '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}')
    } catch {
      // gone already
    }
    try {
      kubectl('delete', 'namespace', ns, '--wait=false', '--ignore-not-found')
    } catch {
      // the cluster goes away at the end of the run anyway
    }
  })

  /** Removes a storage of product keep, then the data it leaves (its Secrets, root and database users', and its claim). */
  async function removeStorageAndData(storage: string): Promise<void> {
    kubectl('delete', 'datastorage', `keep.${storage}`, '-n', ns)
    await eventually(() => !find('statefulset', `keep--${storage}`), `storage ${storage} to go`)
    kubectl('delete', 'secret', ...['credentials', 'read', 'write', 'admin'].map((s) => `keep--${storage}-${s}`), '-n', ns, '--ignore-not-found')
    kubectl('delete', 'pvc', `data-keep--${storage}-0`, '-n', ns, '--ignore-not-found', '--wait=false')
  }

  /** Deletes the planted Secret `name` and waits for the operator's own in its place, with a password of its making. */
  async function ownAfterPlanted(name: string, plantedUid: string): Promise<void> {
    kubectl('delete', 'secret', name, '-n', ns)
    const own = await eventually(() => {
      const secret = find('secret', name)
      return secret && secret.metadata.uid !== plantedUid && secret
    }, `the operator making its own Secret ${name}`)
    assert.notEqual(Buffer.from(own.data.password, 'base64').toString(), 'chosen-by-the-planter')
  }

  it('keeps a removed storage\'s credentials and volume claim, and a storage added again takes up both unchanged', async () => {
    create([productObject, storage])
    const secret = await eventually(() => find('secret', 'keep--db-credentials'), 'the credentials Secret')
    const claim = await eventually(() => find('pvc', 'data-keep--db-0'), 'the StatefulSet\'s volume claim')
    kubectl('delete', 'datastorage', 'keep.db', '-n', ns)
    await eventually(() => !find('statefulset', 'keep--db'), 'the storage\'s StatefulSet to go')
    const kept = find('secret', 'keep--db-credentials')
    assert.ok(kept, 'the credentials Secret was deleted with its storage')
    assert.equal(kept.metadata.uid, secret.metadata.uid)
    assert.equal(find('pvc', 'data-keep--db-0')?.metadata.uid, claim.metadata.uid)
    const write = find('secret', 'keep--db-write')
    assert.ok(write, 'the write user\'s Secret was deleted with its storage (its role stays in the volume\'s database)')

    create([storage])
    const statefulSet = await eventually(() => find('statefulset', 'keep--db'), 'the StatefulSet to come back')
    const env = statefulSet.spec.template.spec.containers[0].env
    const secretRefs = env.filter((e: any) => e.valueFrom).map((e: any) => e.valueFrom.secretKeyRef.name)
    assert.deepEqual(secretRefs, ['keep--db-credentials', 'keep--db-credentials'], 'user and password from the kept Secret')
    const again = find('secret', 'keep--db-credentials')
    assert.equal(again.metadata.uid, secret.metadata.uid, 'a new Secret would hold a password the volume\'s database does not know')
    assert.deepEqual(again.data, secret.data)
    assert.deepEqual(find('secret', 'keep--db-write').data, write.data, 'the write user\'s password the database knows')
    assert.equal(find('pvc', 'data-keep--db-0')?.metadata.uid, claim.metadata.uid)
  })

  it('never takes up a planted credentials Secret with the right labels (NameTaken, no workload uses it), and makes its own once it is gone', async () => {
    // Someone who may only create Secrets in the domain namespace plants the credentials of a storage to come.
    kubectl('create', 'role', 'planter', '--verb=create', '--resource=secrets', '-n', ns)
    kubectl('create', 'rolebinding', 'planter', '--role=planter', '--user=planter', '-n', ns)
    const planted = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {name: 'keep--extra-credentials', namespace: ns, labels: {'dappmesh.io/product': 'keep', 'app.kubernetes.io/part-of': 'keep', 'dappmesh.io/storage': 'extra', 'app.kubernetes.io/managed-by': 'dappmesh-operator'}},
      stringData: {username: 'extra', password: 'chosen-by-the-planter'},
    }
    const r = spawnSync('kubectl', ['--kubeconfig', cluster.kubeconfig, '--as', 'planter', 'create', '-f', '-'], {input: JSON.stringify(planted), encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
    const plantedUid = find('secret', 'keep--extra-credentials').metadata.uid

    create([{...storage, metadata: {...storage.metadata, name: 'keep.extra'}}])
    const degraded = await eventually(() => {
      const condition = json('get', 'dataproduct', 'keep', '-n', ns).status?.conditions?.find((c: any) => c.type === 'Degraded' && c.status === 'True')
      return condition?.reason === 'NameTaken' && condition
    }, 'the product Degraded with reason NameTaken')
    assert.match(degraded.message, /Secret keep--extra-credentials already exists and belongs to someone else: the operator has no record of making it/)
    assert.equal(find('statefulset', 'keep--extra'), undefined, 'a StatefulSet would run the database with the planted password')
    assert.equal(find('secret', 'keep--extra-credentials').metadata.uid, plantedUid, 'the planted Secret is left alone')
    // The genuine kept Secret of the other storage is still the product's own.
    assert.ok(find('statefulset', 'keep--db'))

    await ownAfterPlanted('keep--extra-credentials', plantedUid)
    await eventually(() => find('statefulset', 'keep--extra'), 'the StatefulSet with the operator\'s own Secret')
    // Its kept data goes too, so that what follows sees only keep.db's.
    await removeStorageAndData('extra')
  })

  it('never takes up a planted database user\'s Secret beside the storage\'s running StatefulSet (NameTaken, no workload rolled onto it), and makes its own once it is gone', async () => {
    // The once-only trust of an unrecorded Secret beside a running StatefulSet (the upgrade path) is
    // for root credentials: the StatefulSet says nothing about the database users' Secrets.
    await eventually(() => find('statefulset', 'keep--db'), 'the storage\'s StatefulSet')
    await eventually(() => find('statefulset', 'keep-runtime'), 'the runtime\'s StatefulSet')
    const readUser = find('secret', 'keep--db-read')
    assert.ok(readUser, 'the read user\'s Secret the operator made')
    kubectl('create', 'role', 'user-planter', '--verb=create', '--resource=secrets', '-n', ns)
    kubectl('create', 'rolebinding', 'user-planter', '--role=user-planter', '--user=user-planter', '-n', ns)
    const planted = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {name: 'keep--db-read', namespace: ns, labels: readUser.metadata.labels},
      stringData: {...Object.fromEntries(Object.entries(readUser.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()])), password: 'chosen-by-the-planter'},
    }
    // The race: the operator would make its own Secret again at once, so it is stopped meanwhile.
    await operator?.stop()
    operator = undefined
    const runtime = find('statefulset', 'keep-runtime')
    kubectl('delete', 'secret', 'keep--db-read', '-n', ns)
    const r = spawnSync('kubectl', ['--kubeconfig', cluster.kubeconfig, '--as', 'user-planter', 'create', '-f', '-'], {input: JSON.stringify(planted), encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
    const plantedUid = find('secret', 'keep--db-read').metadata.uid
    operator = await startOperator(['--only', 'product', '-n', ns, '--kubeconfig', cluster.kubeconfig])

    const degraded = await eventually(() => {
      const condition = json('get', 'dataproduct', 'keep', '-n', ns).status?.conditions?.find((c: any) => c.type === 'Degraded' && c.status === 'True')
      return condition?.reason === 'NameTaken' && /Secret keep--db-read\b/.test(condition.message) && condition
    }, 'the product Degraded with reason NameTaken for the read user\'s Secret')
    assert.match(degraded.message, /Secret keep--db-read already exists and belongs to someone else: the operator has no record of making it/)
    const secret = find('secret', 'keep--db-read')
    assert.equal(secret.metadata.uid, plantedUid, 'the planted Secret is left alone')
    assert.equal(Buffer.from(secret.data.password, 'base64').toString(), 'chosen-by-the-planter')
    // The runtime (whose init container sets the users' passwords from these Secrets) is stopped: a
    // pod of it started now (a restart, an eviction) would give the read user the planter's password.
    // Its claims stay, for the runtime made again.
    await eventually(() => !find('statefulset', 'keep-runtime'), 'the runtime stopped while a planted Secret has the name it reads')
    assert.match(JSON.stringify(json('get', 'dataproduct', 'keep', '-n', ns).status.components), /(stopped|not applied): its credentials Secret keep--db-read is not one the operator made/)
    // No workload was made or changed to read it.
    const workloads = ['statefulsets', 'deployments', 'cronjobs'].flatMap((kind) => json('get', kind, '-n', ns).items)
    const readers = workloads.filter((w: any) => JSON.stringify(w.spec).includes('"keep--db-read"'))
    assert.deepEqual(readers.map((w: any) => `${w.kind}/${w.metadata.name}`), [])

    await ownAfterPlanted('keep--db-read', plantedUid)
    await eventually(() => {
      const condition = json('get', 'dataproduct', 'keep', '-n', ns).status?.conditions?.find((c: any) => c.type === 'Degraded')
      return condition?.status !== 'True' && condition?.reason !== 'NameTaken'
    }, 'the product no longer Degraded')
    // The runtime is made again, on the operator's own Secret (a new version of the users' credentials).
    const again = await eventually(() => find('statefulset', 'keep-runtime'), 'the runtime made again')
    assert.notEqual(again.metadata.uid, runtime.metadata.uid)
    const version = (sts: any) => sts.spec.template.metadata?.annotations?.['dappmesh.io/credentials-version']
    assert.ok(version(again), 'the runtime names the version of the users\' credentials it runs with')
    assert.notEqual(version(again), version(runtime))
  })

  it('never starts a storage on a planted volume claim of the name its StatefulSet would use (NameTaken), and does once it is gone', async () => {
    // A claim made beforehand could hold a database whose superuser password the planter chose.
    kubectl('create', 'role', 'claim-planter', '--verb=create', '--resource=persistentvolumeclaims', '-n', ns)
    kubectl('create', 'rolebinding', 'claim-planter', '--role=claim-planter', '--user=claim-planter', '-n', ns)
    const claim = {apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: {name: 'data-keep--vol-0', namespace: ns}, spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Gi'}}}}
    const r = spawnSync('kubectl', ['--kubeconfig', cluster.kubeconfig, '--as', 'claim-planter', 'create', '-f', '-'], {input: JSON.stringify(claim), encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)

    create([{...storage, metadata: {...storage.metadata, name: 'keep.vol'}}])
    const degraded = await eventually(() => {
      const condition = json('get', 'dataproduct', 'keep', '-n', ns).status?.conditions?.find((c: any) => c.type === 'Degraded' && c.status === 'True')
      return condition?.reason === 'NameTaken' && /PersistentVolumeClaim data-keep--vol-0/.test(condition.message) && condition
    }, 'the product Degraded with reason NameTaken for the claim')
    assert.match(degraded.message, /PersistentVolumeClaim data-keep--vol-0 already exists and belongs to someone else: the operator has no record of keeping it/)
    assert.equal(find('statefulset', 'keep--vol'), undefined)

    kubectl('delete', 'pvc', 'data-keep--vol-0', '-n', ns, '--wait=true')
    await eventually(() => find('statefulset', 'keep--vol'), 'the StatefulSet once the planted claim is gone')
    // Its kept data goes too, so that what follows sees only keep.db's.
    await removeStorageAndData('vol')
  })

  it('keeps the data when the product is deleted, hands it to a product made again, and removes it only with delete --purge-data', async () => {
    const secret = find('secret', 'keep--db-credentials')
    const deleted = cli(['delete', 'keep', '-n', ns, '--kubeconfig', cluster.kubeconfig, '--wait', '--json'])
    assert.equal(deleted.code, 0, deleted.stderr)
    const result = JSON.parse(deleted.stdout)
    // The database users' Secrets too: their roles live in the kept volume's database.
    assert.deepEqual(result.retained.map((o: any) => `${o.kind}/${o.name}`), ['PersistentVolumeClaim/data-keep--db-0', 'Secret/keep--db-admin', 'Secret/keep--db-credentials', 'Secret/keep--db-read', 'Secret/keep--db-write'])
    assert.match(result.warnings.join('\n'), /kept the product's data: .* dappmesh delete keep -n data-[0-9a-f]+ --purge-data removes it/)
    assert.equal(find('secret', 'keep--db-credentials')?.metadata.uid, secret.metadata.uid)

    create([productObject, storage])
    await eventually(() => find('statefulset', 'keep--db'), 'the product made again')
    // A refusal of the kept credentials would last (NameTaken until they are removed by hand).
    await eventually(() => {
      const degraded = json('get', 'dataproduct', 'keep', '-n', ns).status?.conditions?.find((c: any) => c.type === 'Degraded')
      if (degraded?.reason === 'NameTaken') throw new Error(degraded.message)
      return json('get', 'dataproduct', 'keep', '-n', ns).status?.observedGeneration === 1
    }, 'the kept credentials taken up as the product\'s own')
    assert.deepEqual(find('secret', 'keep--db-credentials').data, secret.data)

    const purged = cli(['delete', 'keep', '-n', ns, '--kubeconfig', cluster.kubeconfig, '--purge-data', '--wait', '--json'])
    assert.equal(purged.code, 0, purged.stderr)
    assert.deepEqual(JSON.parse(purged.stdout).purged.map((o: any) => o.kind).sort(), ['PersistentVolumeClaim', 'Secret', 'Secret', 'Secret', 'Secret'])
    await eventually(() => !find('secret', 'keep--db-credentials') && !find('secret', 'keep--db-write') && (!find('pvc', 'data-keep--db-0') || find('pvc', 'data-keep--db-0').metadata.deletionTimestamp), 'the data to go')
  })

  it('purges nothing while the product is still there (its finalizer unreleased): exits 4 saying the data was not purged', () => {
    // A namespace the operator does not watch: nobody releases the finalizer.
    const other = `${ns}-idle`
    kubectl('create', 'namespace', other)
    try {
      create([
        {...productObject, metadata: {name: 'held', namespace: other, finalizers: ['dappmesh.io/finalizer']}},
        {apiVersion: 'v1', kind: 'Secret', metadata: {name: 'held--db-credentials', namespace: other, labels: {'dappmesh.io/product': 'held', 'app.kubernetes.io/managed-by': 'dappmesh-operator', 'dappmesh.io/storage': 'db'}}, stringData: {password: 'kept'}},
      ])
      const r = cli(['delete', 'held', '-n', other, '--kubeconfig', cluster.kubeconfig, '--purge-data', '--timeout', '3s'])
      assert.equal(r.code, 4, r.stderr)
      assert.match(flat(r.stderr), /DataProduct\/held .*finalizers: dappmesh\.io\/finalizer.*Its data was not purged/)
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace')
      assert.ok(JSON.parse(kubectl('get', 'secret', 'held--db-credentials', '-n', other, '-o', 'json')).metadata.uid, 'the Secret is still there')
    } finally {
      kubectl('patch', 'dataproduct', 'held', '-n', other, '--type=merge', '-p', '{"metadata":{"finalizers":null}}')
      kubectl('delete', 'namespace', other, '--wait=false')
    }
  })

  it('never lets an older dappmesh downgrade CRDs a newer one installed: says so and exits 1', () => {
    const crd = 'datastorages.dappmesh.io'
    const before = json('get', 'crd', crd)
    const annotate = (version: string, hash: string) => kubectl('annotate', 'crd', crd, '--overwrite', `dappmesh.io/cli-version=${version}`, `dappmesh.io/schema-hash=${hash}`)
    try {
      annotate('99.0.0', 'from-a-newer-dappmesh')
      const p = cluster.fresh()
      const applied = cli(['apply', p.dir, '--kubeconfig', cluster.kubeconfig])
      assert.equal(applied.code, 1, applied.stderr)
      assert.match(flat(applied.stderr), /the cluster's dappmesh CRDs \(datastorages\.dappmesh\.io\) were installed by dappmesh 99\.0\.0, newer than this dappmesh \d+\.\d+\.\d+: they are not downgraded/)
      const after = json('get', 'crd', crd)
      assert.equal(after.metadata.annotations['dappmesh.io/schema-hash'], 'from-a-newer-dappmesh')
      assert.deepEqual(after.spec, before.spec)
    } finally {
      // This dappmesh's own again: the next apply upgrades it back.
      annotate(before.metadata.annotations['dappmesh.io/cli-version'] ?? '0.0.0', 'restore')
      const p = cluster.fresh()
      const restored = cli(['apply', p.dir, '--kubeconfig', cluster.kubeconfig])
      assert.equal(restored.code, 0, restored.stderr)
    }
  })
})
