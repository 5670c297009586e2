import assert from 'node:assert/strict'
import {type ChildProcess, execFileSync, spawn, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {rmSync} from 'node:fs'
import path from 'node:path'

import {BIN, cli} from '../helpers/cli.js'
import {requireCluster} from '../helpers/cluster.js'
import {type ProductCopy, orderProduct} from '../helpers/product.js'

const CHILD_KINDS = 'statefulsets,deployments,services,secrets,configmaps,networkpolicies,cronjobs,roles,rolebindings,serviceaccounts'
/**
 * What the reconciler makes of examples/orders: the runtime (StatefulSet, ServiceAccount, Role and
 * binding, Service, NetworkPolicy) holding the duckdb storage `analytics`; the two server storages
 * (postgresql, minio); the two ports with their own image (from services/orders/Containerfile); a
 * Service for the port the runtime serves (orders-daily); the product's own tokenless account their
 * pods run as; 2 contracts, 1 scheduled workflow, 2 roles.
 */
const ORDERS_CHILDREN = [
  'ConfigMap/orders--orders-api-contract',
  'ConfigMap/orders--orders-daily-contract',
  'CronJob/orders--orders-nightly',
  'Deployment/orders--orders-api',
  'Deployment/orders--orders-events',
  'NetworkPolicy/orders--object',
  'NetworkPolicy/orders--operational',
  'NetworkPolicy/orders-runtime',
  'Role/orders--analysts',
  'Role/orders--ingest',
  'Role/orders-runtime',
  'RoleBinding/orders--analysts',
  'RoleBinding/orders--ingest',
  'RoleBinding/orders-runtime',
  'Secret/orders--object-credentials',
  'Secret/orders--operational-admin',
  'Secret/orders--operational-credentials',
  'Secret/orders--operational-read',
  'Secret/orders--operational-write',
  'Service/orders--object',
  'Service/orders--operational',
  'Service/orders--orders-api',
  'Service/orders--orders-daily',
  'Service/orders--orders-events',
  'Service/orders-runtime',
  'ServiceAccount/orders-runtime',
  'ServiceAccount/orders-workloads',
  'StatefulSet/orders--object',
  'StatefulSet/orders--operational',
  'StatefulSet/orders-runtime',
]
/** Cluster-scoped, so not among the children listed by namespace: the binding that lets the runtime review tokens. */
const runtimeBinding = (ns: string) => `dappmesh-runtime:${ns}:orders`
const RUNTIME_IMAGE = 'registry.test/dappmesh:runtime-test'

describe('operator run: the product reconciler (real control plane)', function () {
  let kubeconfig: string
  /** the product the suite's operator reconciles, in a namespace of its own (-n) */
  let p: ProductCopy
  /** a product in a namespace the operator does not watch */
  let outside: ProductCopy
  /** a namespace in the operator's scope that holds nothing: scoping to several namespaces works */
  const spare = `op-spare-${randomBytes(3).toString('hex')}`
  let operator: ChildProcess | undefined
  let operatorLog = ''
  const products: ProductCopy[] = []
  const volumes: string[] = []
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
  const json = (...args: string[]) => JSON.parse(kubectl(...args, '-o', 'json'))
  const children = (ns: string): any[] => json('get', CHILD_KINDS, '-n', ns, '-l', 'dappmesh.io/product=orders', '--show-managed-fields').items
  const names = (items: any[]) => items.map((o) => `${o.kind}/${o.metadata.name}`).sort()
  /** What only the operator writes: the product (its status), and its own managed fields on each child (a no-op apply leaves their time alone). */
  const operatorWrites = (ns: string) => [
    `ClusterRoleBinding@${json('get', 'clusterrolebinding', runtimeBinding(ns)).metadata.resourceVersion}`,
    `DataProduct@${json('get', 'dataproduct', 'orders', '-n', ns).metadata.resourceVersion}`,
    ...children(ns).map((o) => `${o.kind}/${o.metadata.name}@${JSON.stringify((o.metadata.managedFields ?? []).filter((f: any) => f.manager === 'dappmesh-operator').map((f: any) => [f.operation, f.time]))}`).sort(),
  ]
  const apply = (dir: string, ...flags: string[]) => cli(['apply', dir, '--kubeconfig', kubeconfig, ...flags], {timeout: 180_000})
  const waitReady = (ns: string) => kubectl('wait', 'dataproduct/orders', '-n', ns, '--for=condition=Ready', '--timeout=120s')

  function startOperator(): void {
    operatorLog = ''
    const child = spawn(process.execPath, [BIN, 'operator', 'run', '--kubeconfig', kubeconfig, '--health-port', '0', '-n', p.namespace, '--namespace', spare, '--runtime-image', RUNTIME_IMAGE], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {...process.env, NO_COLOR: '1'},
    })
    child.stderr!.on('data', (chunk: Buffer) => (operatorLog += chunk.toString('utf8')))
    operator = child
  }

  async function stopOperator(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = operator
    operator = undefined
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    const code = await exited
    clearTimeout(timer)
    return code
  }

  async function waitForLog(pattern: RegExp, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms
    while (!pattern.test(operatorLog)) {
      if (Date.now() > deadline) throw new Error(`the operator did not log ${pattern} within ${ms} ms; its log:\n${operatorLog}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  /** Retries an assertion until it holds (for what the test cannot wait on with kubectl wait). */
  async function eventually(check: () => void, ms = 60_000): Promise<void> {
    const deadline = Date.now() + ms
    for (;;) {
      try {
        check()
        return
      } catch (error) {
        if (Date.now() > deadline) throw error
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    }
  }

  function fresh(): ProductCopy {
    const p = orderProduct('op')
    products.push(p)
    return p
  }

  before(async function () {
    kubeconfig = await requireCluster(this)
    // kwok has no volume provisioner: claims bind to these (no storage class, like the claims).
    const id = randomBytes(3).toString('hex')
    for (let i = 0; i < 10; i++) {
      const name = `dappmesh-op-${id}-${i}`
      volumes.push(name)
      execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], {
        input: JSON.stringify({apiVersion: 'v1', kind: 'PersistentVolume', metadata: {name, labels: {'dappmesh.io/test': 'true'}}, spec: {capacity: {storage: '20Gi'}, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', hostPath: {path: `/tmp/${name}`}}}),
        stdio: ['pipe', 'ignore', 'inherit'],
      })
    }
    p = fresh()
    outside = fresh()
    startOperator()
    await waitForLog(/caches synced/)
  })

  after(async () => {
    await stopOperator()
    for (const p of products) {
      try {
        kubectl('delete', 'dataproduct', 'orders', '-n', p.namespace, '--wait=false', '--ignore-not-found')
        kubectl('patch', 'dataproduct', 'orders', '-n', p.namespace, '--type=merge', '-p', '{"metadata":{"finalizers":null}}')
      } catch {
        // gone already
      }
      try {
        kubectl('delete', 'namespace', p.namespace, '--wait=false', '--ignore-not-found')
        kubectl('delete', 'datadomain', p.domain, '--ignore-not-found')
      } catch {
        // the cluster goes away at the end of the run anyway
      }
      p.remove()
    }
    if (volumes.length > 0) execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'delete', 'pv', ...volumes, '--wait=false', '--ignore-not-found'], {stdio: 'ignore'})
  })

  describe('scope (-n)', () => {
    it('leaves a product in a namespace outside its --namespace alone', async () => {
      const r = apply(outside.dir)
      assert.equal(r.code, 0, r.stderr)
      // An operator that watched it would add its finalizer within a second or so.
      await new Promise((resolve) => setTimeout(resolve, 5000))
      const product = json('get', 'dataproduct', 'orders', '-n', outside.namespace)
      assert.deepEqual([product.metadata.finalizers, product.status], [undefined, undefined])
      assert.deepEqual(children(outside.namespace), [])
      assert.doesNotMatch(operatorLog, new RegExp(outside.namespace))
      assert.match(operatorLog, new RegExp(`for namespaces ${p.namespace}, ${spare}`))
    })
  })

  describe('one product through its life', () => {
    let uid: string

    it('makes every child, owned by the DataProduct, and apply --wait sees it Ready for its generation', () => {
      const r = apply(p.dir, '--wait', '--timeout', '2m', '--json')
      assert.equal(r.code, 0, `${r.stderr}\noperator:\n${operatorLog}`)
      assert.equal(JSON.parse(r.stdout).ready, true)
      const product = json('get', 'dataproduct', 'orders', '-n', p.namespace)
      uid = product.metadata.uid
      assert.ok(product.metadata.finalizers.includes('dappmesh.io/finalizer'))
      const ready = product.status.conditions.find((c: any) => c.type === 'Ready')
      assert.equal(ready.status, 'True')
      assert.equal(ready.observedGeneration, product.metadata.generation)
      assert.equal(product.status.observedGeneration, product.metadata.generation)
      assert.equal(product.status.conditions.find((c: any) => c.type === 'ReferencesResolved').status, 'True')
      assert.deepEqual(product.status.components.map((c: any) => `${c.kind}/${c.name}`).sort(), [`ClusterRoleBinding/${runtimeBinding(p.namespace)}`, ...ORDERS_CHILDREN].sort())
      assert.ok(product.status.components.every((c: any) => c.ready), JSON.stringify(product.status.components))

      const items = children(p.namespace)
      assert.deepEqual(names(items), ORDERS_CHILDREN)
      for (const o of items) {
        // A storage's credentials last as long as its volume: no owner (delete --purge-data removes them).
        if (o.kind === 'Secret') {
          assert.equal(o.metadata.ownerReferences, undefined, `${o.kind}/${o.metadata.name}`)
          continue
        }
        const owner = o.metadata.ownerReferences?.[0]
        assert.deepEqual([owner?.kind, owner?.name, owner?.uid, owner?.controller], ['DataProduct', 'orders', uid, true], `${o.kind}/${o.metadata.name}`)
      }
      const sts = items.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'orders--operational')
      assert.equal(sts.spec.template.spec.containers[0].image, 'postgres:16')
      assert.equal(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '5Gi')
      assert.equal(sts.status.readyReplicas, 1, 'kwok runs the pods')
      assert.ok(sts.metadata.managedFields.some((f: any) => f.manager === 'dappmesh-operator' && f.operation === 'Apply'))
      const secret = items.find((o) => o.kind === 'Secret' && o.metadata.name === 'orders--operational-credentials')
      assert.ok(Buffer.from(secret.data.password, 'base64').length >= 24)
      assert.ok(!operatorLog.includes(Buffer.from(secret.data.password, 'base64').toString()), 'the password is never logged')
      const reconciled = json('get', 'events', '-n', p.namespace, '--field-selector', 'involvedObject.kind=DataProduct,reason=Reconciled').items
      // Children are applied ServiceAccounts first, workloads last (a long message is cut at 1 KiB).
      assert.ok(reconciled.some((e: any) => e.type === 'Normal' && /created Secret\/orders--operational-credentials, .*applied ServiceAccount\/orders-workloads/.test(e.message)), JSON.stringify(reconciled))
      const contract = items.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'orders--orders-daily-contract')
      assert.equal(JSON.parse(contract.data['contract.json']).id, 'urn:acme:sales:orders-daily')
      const analysts = items.find((o) => o.kind === 'Role' && o.metadata.name === 'orders--analysts')
      // analytics is duckdb: its data is served by the runtime, there is no Secret or Service of its own to grant.
      assert.deepEqual(analysts.rules.map((r: any) => `${r.resources[0]}:${r.resourceNames.join(',')}:${r.verbs.join(',')}`), [
        'services:orders--orders-api:get',
        'configmaps:orders--orders-api-contract:get',
      ])
      const ingest = items.find((o) => o.kind === 'RoleBinding' && o.metadata.name === 'orders--ingest')
      assert.deepEqual(ingest.subjects, [{kind: 'ServiceAccount', name: 'orders-ingest', namespace: p.namespace}])
      assert.deepEqual(ingest.roleRef, {apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'orders--ingest'})
      const policy = items.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'orders--operational')
      assert.deepEqual(policy.spec.ingress[0].from, [{podSelector: {matchLabels: {'dappmesh.io/product': 'orders', 'dappmesh.io/component': 'runtime'}}}])
    })

    it('runs the product\'s runtime: dappmesh serve from the runtime image, probed, its duckdb storage as its volume, credentials by reference, Ready', () => {
      const items = children(p.namespace)
      const find = (kind: string, name: string) => items.find((o) => o.kind === kind && o.metadata.name === name)
      const sts = find('StatefulSet', 'orders-runtime')
      assert.equal(sts.spec.replicas, 1)
      assert.equal(sts.status.readyReplicas, 1, 'kwok runs the pod and marks it Ready')
      const pod = sts.spec.template.spec
      const c = pod.containers[0]
      assert.equal(c.image, RUNTIME_IMAGE)
      assert.deepEqual(c.args, ['serve', '--product', 'orders', '-n', p.namespace, '--host', '0.0.0.0', '--port', '8080', '--data-dir', '/data'])
      assert.deepEqual([c.readinessProbe.httpGet.path, c.livenessProbe.httpGet.path], ['/readyz', '/healthz'])
      assert.deepEqual(c.volumeMounts.find((m: any) => m.mountPath === '/data').name, 'data')
      assert.equal(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '10Gi', 'the analytics storage\'s size')
      // the claim of its one pod exists, made by the StatefulSet controller
      assert.equal(json('get', 'pvc', 'data-orders-runtime-0', '-n', p.namespace).spec.resources.requests.storage, '10Gi')
      const env = new Map<string, any>(c.env.map((e: any) => [e.name, e]))
      assert.equal(env.get('DAPPMESH_STORAGE_OPERATIONAL_HOST').value, `orders--operational.${p.namespace}.svc`)
      // postgresql: the write user; the root user only in the init container that makes the users
      assert.deepEqual(env.get('DAPPMESH_STORAGE_OPERATIONAL_PASSWORD').valueFrom, {secretKeyRef: {name: 'orders--operational-write', key: 'password'}})
      assert.deepEqual(pod.initContainers.map((i: any) => [i.name, i.args.join(' ')]), [['access-users', 'storage users --schema orders --storage operational']])
      assert.ok(sts.spec.template.metadata.annotations['dappmesh.io/credentials-version'], 'a rotated password restarts the runtime')
      assert.deepEqual(env.get('DAPPMESH_STORAGE_OBJECT_USERNAME').valueFrom, {secretKeyRef: {name: 'orders--object-credentials', key: 'username'}})
      assert.ok(c.env.every((e: any) => !/_(USERNAME|PASSWORD)$/.test(e.name) || e.value === undefined), 'no credential as a value')
      assert.equal(pod.serviceAccountName, 'orders-runtime')
      assert.equal(pod.securityContext.runAsNonRoot, true)
      assert.deepEqual(c.securityContext.capabilities.drop, ['ALL'])
      assert.equal(find('StatefulSet', 'orders--analytics'), undefined, 'no StatefulSet for a duckdb storage')
      assert.equal(find('Secret', 'orders--analytics-credentials'), undefined)

      // Services: the runtime's, and one per port it serves, all onto its API port
      for (const name of ['orders-runtime', 'orders--orders-daily']) {
        const svc = find('Service', name)
        assert.deepEqual(svc.spec.selector, {'dappmesh.io/product': 'orders', 'dappmesh.io/component': 'runtime'}, name)
        assert.equal(svc.spec.ports[0].targetPort, 'http')
      }
      // the pod the StatefulSet made is behind them: kwok gave it an address and the endpoints list it
      const slices = json('get', 'endpointslices', '-n', p.namespace, '-l', 'kubernetes.io/service-name=orders--orders-daily').items
      assert.equal(slices.flatMap((s: any) => s.endpoints ?? []).filter((e: any) => e.conditions?.ready).length, 1, JSON.stringify(slices))

      const cron = find('CronJob', 'orders--orders-nightly').spec.jobTemplate.spec.template.spec
      assert.equal(cron.containers[0].image, RUNTIME_IMAGE)
      assert.deepEqual(cron.containers[0].args, ['workflow', 'trigger', 'orders-nightly', '--url', `http://orders-runtime.${p.namespace}:8080`])

      const runtimePolicy = find('NetworkPolicy', 'orders-runtime')
      assert.deepEqual(runtimePolicy.spec.ingress, [{from: [{namespaceSelector: {}}], ports: [{protocol: 'TCP', port: 8080}]}])

      // RBAC as the API server evaluates it, for the runtime's own account
      const sa = `system:serviceaccount:${p.namespace}:orders-runtime`
      const canI = (...args: string[]) => spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'auth', 'can-i', '--as', sa, ...args], {encoding: 'utf8'}).stdout.trim()
      assert.equal(canI('list', 'outputports.dappmesh.io', '-n', p.namespace), 'yes')
      assert.equal(canI('watch', 'dataroles.dappmesh.io', '-n', p.namespace), 'yes')
      assert.equal(canI('patch', 'dataproducts.dappmesh.io/orders', '--subresource', 'status', '-n', p.namespace), 'yes')
      assert.equal(canI('patch', 'dataproducts.dappmesh.io/other', '--subresource', 'status', '-n', p.namespace), 'no')
      assert.equal(canI('create', 'tokenreviews.authentication.k8s.io'), 'yes')
      assert.equal(canI('get', 'secrets', '-n', p.namespace), 'no')
      assert.equal(canI('patch', 'outputports.dappmesh.io', '-n', p.namespace), 'no')
      const binding = json('get', 'clusterrolebinding', runtimeBinding(p.namespace))
      assert.equal(binding.roleRef.name, 'system:auth-delegator')
      assert.deepEqual(binding.subjects, [{kind: 'ServiceAccount', name: 'orders-runtime', namespace: p.namespace}])

      const component = json('get', 'dataproduct', 'orders', '-n', p.namespace).status.components.find((x: any) => x.kind === 'StatefulSet' && x.name === 'orders-runtime')
      assert.deepEqual(component, {kind: 'StatefulSet', name: 'orders-runtime', ready: true, message: '1/1 replicas ready'})
    })

    it('writes nothing once the product is reconciled', async () => {
      const before = operatorWrites(p.namespace)
      const logged = operatorLog.length
      await new Promise((resolve) => setTimeout(resolve, 5000))
      assert.deepEqual(operatorWrites(p.namespace), before)
      assert.doesNotMatch(operatorLog.slice(logged), /applied|created|deleted/)
    })

    // One node per engine (validate refuses more): a replicas change is stopping and starting it.
    it('takes a replicas change to the StatefulSet', async () => {
      p.edit('storage/operational.yaml', (t) => t.replace('replicas: 1', 'replicas: 0'))
      const r = apply(p.dir)
      assert.equal(r.code, 0, r.stderr)
      kubectl('wait', 'statefulset/orders--operational', '-n', p.namespace, '--for=jsonpath={.spec.replicas}=0', '--timeout=120s')
      await eventually(() => {
        const component = json('get', 'dataproduct', 'orders', '-n', p.namespace).status.components.find((c: any) => c.kind === 'StatefulSet' && c.name === 'orders--operational')
        assert.deepEqual(component, {kind: 'StatefulSet', name: 'orders--operational', ready: true, message: '0/0 replicas ready'})
      })
      waitReady(p.namespace)
    })

    it('keeps a Secret edited by hand but recreates a deleted Deployment', () => {
      kubectl('patch', 'secret', 'orders--operational-credentials', '-n', p.namespace, '--type=merge', '-p', '{"stringData":{"password":"chosen-by-hand"}}')
      const oldUid = kubectl('get', 'deployment', 'orders--orders-api', '-n', p.namespace, '-o', 'jsonpath={.metadata.uid}')
      kubectl('delete', 'deployment', 'orders--orders-api', '-n', p.namespace, '--wait=true')
      kubectl('wait', 'deployment/orders--orders-api', '-n', p.namespace, '--for=create', '--timeout=60s')
      assert.notEqual(kubectl('get', 'deployment', 'orders--orders-api', '-n', p.namespace, '-o', 'jsonpath={.metadata.uid}'), oldUid)
      kubectl('wait', 'deployment/orders--orders-api', '-n', p.namespace, '--for=condition=Available', '--timeout=60s')
      waitReady(p.namespace)
      const password = Buffer.from(kubectl('get', 'secret', 'orders--operational-credentials', '-n', p.namespace, '-o', 'jsonpath={.data.password}'), 'base64').toString()
      assert.equal(password, 'chosen-by-hand')
    })

    it('puts back a child\'s field changed by hand, though reconciles before found the child unchanged', async () => {
      const contract = () => kubectl('get', 'configmap', 'orders--orders-api-contract', '-n', p.namespace, '-o', "jsonpath={.data.contract\\.json}")
      const desired = contract()
      assert.ok(desired)
      kubectl('patch', 'configmap', 'orders--orders-api-contract', '-n', p.namespace, '--type=merge', '-p', '{"data":{"contract.json":"{}"}}')
      await eventually(() => assert.equal(contract(), desired))
      waitReady(p.namespace)
    })

    it('restarts the runtime when a database user\'s password is rotated in its Secret, keeping the new password', async () => {
      const version = () => kubectl('get', 'statefulset', 'orders-runtime', '-n', p.namespace, '-o', "jsonpath={.spec.template.metadata.annotations.dappmesh\\.io/credentials-version}")
      const before = version()
      assert.ok(before)
      kubectl('patch', 'secret', 'orders--operational-write', '-n', p.namespace, '--type=merge', '-p', '{"stringData":{"password":"rotated-by-hand"}}')
      await eventually(() => assert.notEqual(version(), before, 'the runtime\'s pod template to change'))
      waitReady(p.namespace)
      const password = Buffer.from(kubectl('get', 'secret', 'orders--operational-write', '-n', p.namespace, '-o', 'jsonpath={.data.password}'), 'base64').toString()
      assert.equal(password, 'rotated-by-hand', 'the operator never overwrites it')
    })

    it('says which references do not resolve, and recovers when they do', () => {
      kubectl('delete', 'datacontract', 'orders.orders-daily', '-n', p.namespace)
      kubectl('wait', 'dataproduct/orders', '-n', p.namespace, '--for=condition=ReferencesResolved=False', '--timeout=60s')
      const product = json('get', 'dataproduct', 'orders', '-n', p.namespace)
      const refs = product.status.conditions.find((c: any) => c.type === 'ReferencesResolved')
      assert.match(refs.message, /DataContract orders-daily \(OutputPort orders-daily\)/)
      assert.match(refs.message, /DataContract orders-daily \(in the product's inventory\)/)
      assert.equal(product.status.conditions.find((c: any) => c.type === 'Ready').status, 'False')
      const warnings = json('get', 'events', '-n', p.namespace, '--field-selector', 'involvedObject.kind=DataProduct,reason=ReferencesUnresolved').items
      assert.ok(warnings.some((e: any) => e.type === 'Warning' && /DataContract orders-daily/.test(e.message) && e.source.component === 'dappmesh-operator'), JSON.stringify(warnings))
      kubectl('wait', 'configmap/orders--orders-daily-contract', '-n', p.namespace, '--for=delete', '--timeout=60s')
      assert.equal(apply(p.dir).code, 0)
      waitReady(p.namespace)
      kubectl('get', 'configmap', 'orders--orders-daily-contract', '-n', p.namespace)
    })

    it('converges after being killed and restarted, with no duplicate child', async function () {
      const secretBefore = kubectl('get', 'secret', 'orders--object-credentials', '-n', p.namespace, '-o', 'jsonpath={.metadata.uid}:{.data.password}')
      await stopOperator('SIGKILL')
      kubectl('delete', 'deployment', 'orders--orders-events', '-n', p.namespace, '--wait=true')
      p.edit('storage/operational.yaml', (t) => t.replace('replicas: 0', 'replicas: 1'))
      assert.equal(apply(p.dir).code, 0)
      startOperator()
      kubectl('wait', 'deployment/orders--orders-events', '-n', p.namespace, '--for=create', '--timeout=60s')
      kubectl('wait', 'statefulset/orders--operational', '-n', p.namespace, '--for=jsonpath={.spec.replicas}=1', '--timeout=60s')
      kubectl('wait', 'deployment/orders--orders-events', '-n', p.namespace, '--for=condition=Available', '--timeout=60s')
      waitReady(p.namespace)
      assert.deepEqual(names(children(p.namespace)), ORDERS_CHILDREN)
      assert.equal(kubectl('get', 'secret', 'orders--object-credentials', '-n', p.namespace, '-o', 'jsonpath={.metadata.uid}:{.data.password}'), secretBefore)
    })

    it('keeps the runtime\'s volume size when its duckdb storage\'s size changes, and says so in the component', async () => {
      p.edit('storage/analytics.yaml', (t) => t.replace('size: 10Gi', 'size: 20Gi'))
      assert.equal(apply(p.dir).code, 0)
      await eventually(() => {
        const component = json('get', 'dataproduct', 'orders', '-n', p.namespace).status.components.find((c: any) => c.kind === 'StatefulSet' && c.name === 'orders-runtime')
        assert.match(component.message, /size 10Gi kept: changing it to 20Gi needs its volumes resized/)
        assert.equal(component.ready, true)
      })
      assert.equal(kubectl('get', 'statefulset', 'orders-runtime', '-n', p.namespace, '-o', 'jsonpath={.spec.volumeClaimTemplates[0].spec.resources.requests.storage}'), '10Gi')
      assert.doesNotMatch(JSON.stringify(json('get', 'dataproduct', 'orders', '-n', p.namespace).status.conditions), /ApplyFailed/)
    })

    it('replaces the runtime StatefulSet when it stops keeping data (its duckdb storage becomes a server) and again when it keeps data once more', async () => {
      /** Switches the analytics storage's engine, and returns the runtime StatefulSet once it was made again. */
      const switchEngine = async (from: string, to: string, wait: 'create' | 'delete'): Promise<any> => {
        const before = kubectl('get', 'statefulset', 'orders-runtime', '-n', p.namespace, '-o', 'jsonpath={.metadata.uid}')
        p.edit('storage/analytics.yaml', (t) => t.replace(`engine: ${from}`, `engine: ${to}`))
        assert.equal(apply(p.dir).code, 0)
        kubectl('wait', 'statefulset/orders--analytics', '-n', p.namespace, `--for=${wait}`, '--timeout=60s')
        let sts: any
        await eventually(() => {
          sts = json('get', 'statefulset', 'orders-runtime', '-n', p.namespace)
          assert.notEqual(sts.metadata.uid, before, 'volume claims cannot change in place')
        })
        waitReady(p.namespace)
        return sts
      }
      const server = await switchEngine('duckdb', 'clickhouse', 'create')
      assert.equal(server.spec.volumeClaimTemplates, undefined)
      assert.deepEqual(server.spec.template.spec.volumes.find((v: any) => v.name === 'data'), {name: 'data', emptyDir: {}})
      assert.ok(server.spec.template.spec.containers[0].env.some((e: any) => e.name === 'DAPPMESH_STORAGE_ANALYTICS_HOST'))
      const embedded = await switchEngine('clickhouse', 'duckdb', 'delete')
      assert.equal(embedded.spec.volumeClaimTemplates[0].metadata.name, 'data')
      // The claim of the first runtime was kept, and the new one mounts it again.
      assert.equal(json('get', 'pvc', 'data-orders-runtime-0', '-n', p.namespace).status.phase, 'Bound')
    })

    it('hands the ports that lost their image to the runtime: their Deployments go, the output port\'s Service selects the runtime', () => {
      rmSync(path.join(p.dir, 'services/orders/Containerfile'))
      assert.equal(apply(p.dir).code, 0)
      kubectl('wait', 'deployment/orders--orders-events', 'service/orders--orders-events', 'deployment/orders--orders-api', '-n', p.namespace, '--for=delete', '--timeout=60s')
      kubectl('wait', 'service/orders--orders-api', '-n', p.namespace, "--for=jsonpath={.spec.selector.dappmesh\\.io/component}=runtime", '--timeout=60s')
      // The port's label left the selector (a field removed from a child the operator created reaches the cluster).
      assert.deepEqual(json('get', 'service', 'orders--orders-api', '-n', p.namespace).spec.selector, {'dappmesh.io/product': 'orders', 'dappmesh.io/component': 'runtime'})
      waitReady(p.namespace)
      // The analytics storage was a server for a while: its credentials stay, with its volume.
      const expected = [...ORDERS_CHILDREN.filter((n) => !/^(Deployment\/orders--orders-(events|api)|Service\/orders--orders-events)$/.test(n)), 'Secret/orders--analytics-credentials'].sort()
      assert.deepEqual(names(children(p.namespace)), expected)
      assert.equal(kubectl('get', 'cronjob', 'orders--orders-nightly', '-n', p.namespace, '-o', 'jsonpath={.spec.jobTemplate.spec.template.spec.containers[0].image}'), RUNTIME_IMAGE, 'the trigger needs no image of the product')
    })

    it('on deletion removes every child, then its finalizer', async () => {
      kubectl('delete', 'dataproduct', 'orders', '-n', p.namespace, '--timeout=90s')
      // Only the storages' credentials (and the postgresql users') stay, with their volumes (delete --purge-data removes them).
      assert.deepEqual(names(children(p.namespace)), ['Secret/orders--analytics-credentials', 'Secret/orders--object-credentials', 'Secret/orders--operational-admin', 'Secret/orders--operational-credentials', 'Secret/orders--operational-read', 'Secret/orders--operational-write'])
      assert.throws(() => kubectl('get', 'clusterrolebinding', runtimeBinding(p.namespace)), /NotFound/, 'cluster-scoped, so the finalizer deletes it')
      assert.throws(() => kubectl('get', 'dataproduct', 'orders', '-n', p.namespace), /NotFound/)
      // kubectl ran synchronously: the operator's log is read once the event loop turns again.
      await waitForLog(/children removed, finalizer released/)
      assert.match(operatorLog, /deleted StatefulSet \S+\/orders--operational: its product is being deleted/)
    })
  })

  // Mocha runs a suite's own tests before its nested suites: these must come last, so they are nested too.
  describe('serving and stopping', () => {
    it('serves /healthz, /readyz and Prometheus /metrics on the health port', async () => {
      const base = /health endpoints on (http:\/\/127\.0\.0\.1:\d+)/.exec(operatorLog)?.[1]
      assert.ok(base, operatorLog)
      assert.equal((await fetch(`${base}/healthz`)).status, 200)
      assert.equal((await fetch(`${base}/readyz`)).status, 200)
      const metrics = await (await fetch(`${base}/metrics`)).text()
      assert.match(metrics, /^dappmesh_reconciles_total\{controller="product"\} [1-9]\d*$/m)
      assert.match(metrics, /^dappmesh_queue_depth\{controller="product"\} \d+$/m)
      assert.equal((await fetch(`${base}/nothing`)).status, 404)
    })

    it('stops on SIGTERM and exits 0', async () => {
      const code = await stopOperator('SIGTERM')
      assert.equal(code, 0, operatorLog)
      assert.match(operatorLog, /SIGTERM: stopping/)
    })
  })
})
