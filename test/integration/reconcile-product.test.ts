import assert from 'node:assert/strict'
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {rmSync} from 'node:fs'
import path from 'node:path'

import {BIN, cli} from '../helpers/cli.js'
import {requireCluster} from '../helpers/cluster.js'
import {type ProductCopy, orderProduct} from '../helpers/product.js'

const CHILD_KINDS = 'statefulsets,deployments,services,serviceaccounts,secrets,configmaps,networkpolicies,cronjobs,roles,rolebindings'
/** What the reconciler makes of examples/orders (3 storages, 2 ports with images, 2 contracts, 1 scheduled workflow, 2 roles, the pods' ServiceAccount). */
const ORDERS_CHILDREN = [
  'ConfigMap/orders-orders-api-contract',
  'ConfigMap/orders-orders-daily-contract',
  'CronJob/orders-orders-nightly',
  'Deployment/orders-orders-api',
  'Deployment/orders-orders-events',
  'NetworkPolicy/orders-analytics',
  'NetworkPolicy/orders-object',
  'NetworkPolicy/orders-operational',
  'Role/orders-analysts',
  'Role/orders-ingest',
  'RoleBinding/orders-analysts',
  'RoleBinding/orders-ingest',
  'Secret/orders-analytics-credentials',
  'Secret/orders-object-credentials',
  'Secret/orders-operational-credentials',
  'Service/orders-analytics',
  'Service/orders-object',
  'Service/orders-operational',
  'Service/orders-orders-api',
  'Service/orders-orders-events',
  'ServiceAccount/orders',
  'StatefulSet/orders-analytics',
  'StatefulSet/orders-object',
  'StatefulSet/orders-operational',
]

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
    `DataProduct@${json('get', 'dataproduct', 'orders', '-n', ns).metadata.resourceVersion}`,
    ...children(ns).map((o) => `${o.kind}/${o.metadata.name}@${JSON.stringify((o.metadata.managedFields ?? []).filter((f: any) => f.manager === 'dappmesh-operator').map((f: any) => [f.operation, f.time]))}`).sort(),
  ]
  const apply = (dir: string, ...flags: string[]) => cli(['apply', dir, '--kubeconfig', kubeconfig, ...flags], {timeout: 180_000})
  const waitReady = (ns: string) => kubectl('wait', 'dataproduct/orders', '-n', ns, '--for=condition=Ready', '--timeout=120s')

  function startOperator(): void {
    operatorLog = ''
    const child = spawn(process.execPath, [BIN, 'operator', 'run', '--kubeconfig', kubeconfig, '--health-port', '0', '-n', p.namespace, '--namespace', spare], {stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
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
      assert.deepEqual(product.status.components.map((c: any) => `${c.kind}/${c.name}`).sort(), ORDERS_CHILDREN)
      assert.ok(product.status.components.every((c: any) => c.ready), JSON.stringify(product.status.components))

      const items = children(p.namespace)
      assert.deepEqual(names(items), ORDERS_CHILDREN)
      for (const o of items) {
        const owner = o.metadata.ownerReferences?.[0]
        assert.deepEqual([owner?.kind, owner?.name, owner?.uid, owner?.controller], ['DataProduct', 'orders', uid, true], `${o.kind}/${o.metadata.name}`)
      }
      const sts = items.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'orders-operational')
      assert.equal(sts.spec.template.spec.containers[0].image, 'postgres:16')
      assert.equal(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '5Gi')
      assert.equal(sts.status.readyReplicas, 1, 'kwok runs the pods')
      assert.ok(sts.metadata.managedFields.some((f: any) => f.manager === 'dappmesh-operator' && f.operation === 'Apply'))
      const secret = items.find((o) => o.kind === 'Secret' && o.metadata.name === 'orders-operational-credentials')
      assert.ok(Buffer.from(secret.data.password, 'base64').length >= 24)
      assert.ok(!operatorLog.includes(Buffer.from(secret.data.password, 'base64').toString()), 'the password is never logged')
      const reconciled = json('get', 'events', '-n', p.namespace, '--field-selector', 'involvedObject.kind=DataProduct,reason=Reconciled').items
      assert.ok(reconciled.some((e: any) => e.type === 'Normal' && /applied StatefulSet\/orders-operational/.test(e.message)), JSON.stringify(reconciled))
      const contract = items.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'orders-orders-daily-contract')
      assert.equal(JSON.parse(contract.data['contract.json']).id, 'urn:acme:sales:orders-daily')
      const analysts = items.find((o) => o.kind === 'Role' && o.metadata.name === 'orders-analysts')
      assert.deepEqual(analysts.rules.map((r: any) => `${r.resources[0]}:${r.resourceNames.join(',')}:${r.verbs.join(',')}`), [
        'services:orders-orders-api:get',
        'configmaps:orders-orders-api-contract:get',
        'services:orders-analytics:get',
      ])
      const ingest = items.find((o) => o.kind === 'RoleBinding' && o.metadata.name === 'orders-ingest')
      assert.deepEqual(ingest.subjects, [{kind: 'ServiceAccount', name: 'orders-ingest', namespace: p.namespace}])
      assert.deepEqual(ingest.roleRef, {apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'orders-ingest'})
      const policy = items.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'orders-operational')
      assert.deepEqual(policy.spec.ingress[0].from, [{podSelector: {matchLabels: {'dappmesh.io/product': 'orders'}}}])
    })

    it('writes nothing once the product is reconciled', async () => {
      const before = operatorWrites(p.namespace)
      const logged = operatorLog.length
      await new Promise((resolve) => setTimeout(resolve, 5000))
      assert.deepEqual(operatorWrites(p.namespace), before)
      assert.doesNotMatch(operatorLog.slice(logged), /applied|created|deleted/)
    })

    it('takes a replicas change to the StatefulSet', async () => {
      p.edit('storage/operational.yaml', (t) => t.replace('replicas: 1', 'replicas: 2'))
      const r = apply(p.dir)
      assert.equal(r.code, 0, r.stderr)
      kubectl('wait', 'statefulset/orders-operational', '-n', p.namespace, '--for=jsonpath={.status.readyReplicas}=2', '--timeout=120s')
      assert.equal(kubectl('get', 'statefulset', 'orders-operational', '-n', p.namespace, '-o', 'jsonpath={.spec.replicas}'), '2')
      await eventually(() => {
        const component = json('get', 'dataproduct', 'orders', '-n', p.namespace).status.components.find((c: any) => c.kind === 'StatefulSet' && c.name === 'orders-operational')
        assert.deepEqual(component, {kind: 'StatefulSet', name: 'orders-operational', ready: true, message: '2/2 replicas ready'})
      })
      waitReady(p.namespace)
    })

    it('keeps a Secret edited by hand but recreates a deleted Deployment', () => {
      kubectl('patch', 'secret', 'orders-operational-credentials', '-n', p.namespace, '--type=merge', '-p', '{"stringData":{"password":"chosen-by-hand"}}')
      const oldUid = kubectl('get', 'deployment', 'orders-orders-api', '-n', p.namespace, '-o', 'jsonpath={.metadata.uid}')
      kubectl('delete', 'deployment', 'orders-orders-api', '-n', p.namespace, '--wait=true')
      kubectl('wait', 'deployment/orders-orders-api', '-n', p.namespace, '--for=create', '--timeout=60s')
      assert.notEqual(kubectl('get', 'deployment', 'orders-orders-api', '-n', p.namespace, '-o', 'jsonpath={.metadata.uid}'), oldUid)
      kubectl('wait', 'deployment/orders-orders-api', '-n', p.namespace, '--for=condition=Available', '--timeout=60s')
      waitReady(p.namespace)
      const password = Buffer.from(kubectl('get', 'secret', 'orders-operational-credentials', '-n', p.namespace, '-o', 'jsonpath={.data.password}'), 'base64').toString()
      assert.equal(password, 'chosen-by-hand')
    })

    it('says which references do not resolve, and recovers when they do', () => {
      kubectl('delete', 'datacontract', 'orders-daily', '-n', p.namespace)
      kubectl('wait', 'dataproduct/orders', '-n', p.namespace, '--for=condition=ReferencesResolved=False', '--timeout=60s')
      const product = json('get', 'dataproduct', 'orders', '-n', p.namespace)
      const refs = product.status.conditions.find((c: any) => c.type === 'ReferencesResolved')
      assert.match(refs.message, /DataContract orders-daily \(OutputPort orders-daily\)/)
      assert.match(refs.message, /DataContract orders-daily \(in the product's inventory\)/)
      assert.equal(product.status.conditions.find((c: any) => c.type === 'Ready').status, 'False')
      const warnings = json('get', 'events', '-n', p.namespace, '--field-selector', 'involvedObject.kind=DataProduct,reason=ReferencesUnresolved').items
      assert.ok(warnings.some((e: any) => e.type === 'Warning' && /DataContract orders-daily/.test(e.message) && e.source.component === 'dappmesh-operator'), JSON.stringify(warnings))
      kubectl('wait', 'configmap/orders-orders-daily-contract', '-n', p.namespace, '--for=delete', '--timeout=60s')
      assert.equal(apply(p.dir).code, 0)
      waitReady(p.namespace)
      kubectl('get', 'configmap', 'orders-orders-daily-contract', '-n', p.namespace)
    })

    it('converges after being killed and restarted, with no duplicate child', async function () {
      const secretBefore = kubectl('get', 'secret', 'orders-object-credentials', '-n', p.namespace, '-o', 'jsonpath={.metadata.uid}:{.data.password}')
      await stopOperator('SIGKILL')
      kubectl('delete', 'deployment', 'orders-orders-events', '-n', p.namespace, '--wait=true')
      p.edit('storage/operational.yaml', (t) => t.replace('replicas: 2', 'replicas: 1'))
      assert.equal(apply(p.dir).code, 0)
      startOperator()
      kubectl('wait', 'deployment/orders-orders-events', '-n', p.namespace, '--for=create', '--timeout=60s')
      kubectl('wait', 'statefulset/orders-operational', '-n', p.namespace, '--for=jsonpath={.spec.replicas}=1', '--timeout=60s')
      kubectl('wait', 'deployment/orders-orders-events', '-n', p.namespace, '--for=condition=Available', '--timeout=60s')
      waitReady(p.namespace)
      assert.deepEqual(names(children(p.namespace)), ORDERS_CHILDREN)
      assert.equal(kubectl('get', 'secret', 'orders-object-credentials', '-n', p.namespace, '-o', 'jsonpath={.metadata.uid}:{.data.password}'), secretBefore)
    })

    it('keeps a StatefulSet\'s volume size when the storage\'s size changes, and says so in the component', async () => {
      p.edit('storage/analytics.yaml', (t) => t.replace('size: 10Gi', 'size: 20Gi'))
      assert.equal(apply(p.dir).code, 0)
      await eventually(() => {
        const component = json('get', 'dataproduct', 'orders', '-n', p.namespace).status.components.find((c: any) => c.kind === 'StatefulSet' && c.name === 'orders-analytics')
        assert.match(component.message, /size 10Gi kept: changing it to 20Gi needs its volumes resized/)
        assert.equal(component.ready, true)
      })
      assert.equal(kubectl('get', 'statefulset', 'orders-analytics', '-n', p.namespace, '-o', 'jsonpath={.spec.volumeClaimTemplates[0].spec.resources.requests.storage}'), '10Gi')
      assert.doesNotMatch(JSON.stringify(json('get', 'dataproduct', 'orders', '-n', p.namespace).status.conditions), /ApplyFailed/)
    })

    it('removes the Deployments, Services and CronJob of ports and workflows that lost their image', () => {
      rmSync(path.join(p.dir, 'services/orders/Containerfile'))
      assert.equal(apply(p.dir).code, 0)
      kubectl('wait', 'deployment/orders-orders-events', 'service/orders-orders-events', 'deployment/orders-orders-api', 'service/orders-orders-api', 'cronjob/orders-orders-nightly', '-n', p.namespace, '--for=delete', '--timeout=60s')
      waitReady(p.namespace)
      assert.deepEqual(names(children(p.namespace)), ORDERS_CHILDREN.filter((n) => !/^(Deployment|Service)\/orders-orders-(events|api)$|^CronJob/.test(n)))
    })

    it('on deletion removes every child, then its finalizer', async () => {
      kubectl('delete', 'dataproduct', 'orders', '-n', p.namespace, '--timeout=90s')
      assert.deepEqual(children(p.namespace), [])
      assert.throws(() => kubectl('get', 'dataproduct', 'orders', '-n', p.namespace), /NotFound/)
      // kubectl ran synchronously: the operator's log is read once the event loop turns again.
      await waitForLog(/children removed, finalizer released/)
      assert.match(operatorLog, /deleted StatefulSet \S+\/orders-operational: its product is being deleted/)
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
