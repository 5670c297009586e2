import assert from 'node:assert/strict'
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {type ProductState, desiredChildren} from '../../src/core/reconcile/product/desired.js'
import {validateDirectory} from '../../src/core/validate/validate.js'
import {ROOT} from '../helpers/cli.js'
import {type Loose, partial} from '../helpers/fixtures.js'
import {bytesQuantity, quantityBytes, runtimeKeepsData, runtimeVolumeSize} from '../../src/core/reconcile/product/runtime.js'

const meta = (name: string) => ({name, namespace: 'sales', labels: {'dappmesh.io/product': 'orders'}})
const product = partial<ProductState['product']>({apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataProduct', metadata: {name: 'orders', namespace: 'sales', uid: 'u-1', generation: 1}, spec: {domain: 'sales'}})
const RUNTIME = {image: 'registry.local/dappmesh:1.2.3'}

/** A product as `init` scaffolds it (duckdb analytics, postgresql operational, s3 object), with one port that brings its own image. */
function state(overrides: Loose<ProductState> = {}): ProductState {
  return partial<ProductState>({
    product,
    storages: [
      {kind: 'DataStorage', metadata: meta('analytics'), spec: {class: 'analytics', engine: 'duckdb', size: '10Gi'}},
      {kind: 'DataStorage', metadata: meta('operational'), spec: {class: 'operational', engine: 'postgresql', size: '5Gi'}},
      {kind: 'DataStorage', metadata: meta('object'), spec: {class: 'object', engine: 's3'}},
    ],
    outputPorts: [
      {kind: 'OutputPort', metadata: meta('orders-api'), spec: {entity: 'orders', type: 'api', storage: 'operational', service: {port: 9090}}},
      {kind: 'OutputPort', metadata: meta('orders-daily'), spec: {entity: 'orders', type: 'table', storage: 'analytics'}},
      {kind: 'OutputPort', metadata: meta('orders-custom'), spec: {entity: 'orders', type: 'api', service: {image: 'shop/custom:1', port: 7000}}},
    ],
    inputPorts: [{kind: 'InputPort', metadata: meta('orders-events'), spec: {entity: 'orders', source: {type: 'http'}}}],
    workflows: [{kind: 'DataWorkflow', metadata: meta('nightly'), spec: {flow: 'orders', schedule: '0 2 * * *', activities: []}}],
    contracts: [],
    roles: [],
    ...overrides,
  })
}

const children = (s = state()): Map<string, any> => new Map(desiredChildren(s, RUNTIME).map((c) => [`${c.kind}/${c.metadata.name}`, c]))
const runtimePod = (s = state()) => children(s).get('StatefulSet/orders-runtime').spec.template.spec

describe('product reconciler: the runtime', () => {
  it('runs one replica of `dappmesh serve` for the product from the given image, on 0.0.0.0:8080 with its data in /data', () => {
    const sts = children().get('StatefulSet/orders-runtime')
    assert.equal(sts.spec.replicas, 1)
    assert.equal(sts.spec.serviceName, 'orders-runtime')
    const container = sts.spec.template.spec.containers[0]
    assert.equal(container.image, 'registry.local/dappmesh:1.2.3')
    assert.deepEqual(container.args, ['serve', '--product', 'orders', '-n', 'sales', '--host', '0.0.0.0', '--port', '8080', '--data-dir', '/data'])
    assert.deepEqual(container.volumeMounts.find((m: any) => m.name === 'data'), {name: 'data', mountPath: '/data'})
  })

  it('probes /readyz for readiness and /healthz for liveness on its API port', () => {
    const container = runtimePod().containers[0]
    assert.equal(container.readinessProbe.httpGet.path, '/readyz')
    assert.equal(container.livenessProbe.httpGet.path, '/healthz')
    assert.equal(container.readinessProbe.httpGet.port, 'http')
    assert.deepEqual(container.ports, [{name: 'http', containerPort: 8080, protocol: 'TCP'}])
  })

  it('makes the duckdb storage its volume and gives duckdb neither a StatefulSet, a Service nor a Secret', () => {
    const made = children()
    const claim = made.get('StatefulSet/orders-runtime').spec.volumeClaimTemplates[0]
    assert.equal(claim.metadata.name, 'data')
    assert.equal(claim.spec.resources.requests.storage, '10Gi')
    assert.deepEqual([...made.keys()].filter((k) => k.endsWith('-analytics')), [])
    assert.ok(made.has('StatefulSet/orders--operational'), 'a postgresql storage still runs its server')
  })

  it('sizes one volume for several duckdb storages as their sum, and 1Gi for the embedded default when there is none', () => {
    const two = state()
    two.storages.push(partial({kind: 'DataStorage', metadata: meta('archive'), spec: {class: 'analytics', engine: 'duckdb', size: '512Mi'}}))
    assert.equal(runtimeVolumeSize(two.storages), '10752Mi')
    assert.equal(runtimeVolumeSize(state().storages.filter((s) => s.spec.engine !== 'duckdb')), '1Gi')
    assert.equal(quantityBytes('1G'), 1e9)
    assert.equal(bytesQuantity(quantityBytes('2Gi') + quantityBytes('2Gi')), '4Gi')
    assert.throws(() => quantityBytes('ten gigs'), /not a storage quantity/)
  })

  it('claims no volume when the runtime keeps no data of its own (no duckdb storage, no flow left to the embedded database): /data is scratch', () => {
    const serverOnly = state({storages: state().storages.filter((s) => s.spec.engine !== 'duckdb'), flows: [{kind: 'DataFlow', metadata: meta('orders'), spec: {schema: 'orders'}}]})
    const sts = children(serverOnly).get('StatefulSet/orders-runtime')
    assert.equal(sts.spec.volumeClaimTemplates, undefined, 'its flow lives in the operational storage')
    assert.deepEqual(sts.spec.template.spec.volumes.find((v: any) => v.name === 'data'), {name: 'data', emptyDir: {}})
    assert.equal(runtimeKeepsData(serverOnly), false)
    const embedded = state({storages: [], flows: [{kind: 'DataFlow', metadata: meta('orders'), spec: {schema: 'orders'}}]})
    assert.equal(runtimeKeepsData(embedded), true, 'a flow with no storage to go to lives in the embedded database')
    assert.equal(children(embedded).get('StatefulSet/orders-runtime').spec.volumeClaimTemplates[0].spec.resources.requests.storage, '1Gi')
    assert.equal(runtimeKeepsData(state({storages: [], flows: []})), false)
  })

  it('reaches the other storages by their Service and takes their credentials only as Secret references', () => {
    const env = runtimePod().containers[0].env
    const byName = new Map<string, any>(env.map((e: any) => [e.name, e]))
    assert.equal(byName.get('DAPPMESH_STORAGE_OPERATIONAL_HOST').value, 'orders--operational.sales.svc')
    assert.equal(byName.get('DAPPMESH_STORAGE_OPERATIONAL_PORT').value, '5432')
    assert.deepEqual(byName.get('DAPPMESH_STORAGE_OPERATIONAL_PASSWORD').valueFrom, {secretKeyRef: {name: 'orders--operational-write', key: 'password'}}, 'postgresql: the write user, not the root user')
    assert.deepEqual(byName.get('DAPPMESH_STORAGE_OBJECT_USERNAME').valueFrom, {secretKeyRef: {name: 'orders--object-credentials', key: 'username'}})
    assert.equal(byName.has('DAPPMESH_STORAGE_ANALYTICS_HOST'), false, 'duckdb is a file on the volume')
    for (const e of env) {
      if (/_(USERNAME|PASSWORD|ACCESS_KEY_ID|SECRET_ACCESS_KEY)$/.test(e.name)) assert.equal(e.value, undefined, `${e.name} is never a value`)
    }
  })

  it('gives the drivers what they read: a Postgres URL built by Kubernetes from the Secret\'s variables, an S3 endpoint and key pair', () => {
    const env = runtimePod().containers[0].env
    const names = env.map((e: any) => e.name)
    const byName = new Map<string, any>(env.map((e: any) => [e.name, e]))
    assert.equal(byName.get('DAPPMESH_STORAGE_OPERATIONAL_URL').value, 'postgres://$(DAPPMESH_STORAGE_OPERATIONAL_USERNAME):$(DAPPMESH_STORAGE_OPERATIONAL_PASSWORD)@orders--operational.sales.svc:5432/$(DAPPMESH_STORAGE_OPERATIONAL_DATABASE)')
    assert.deepEqual(byName.get('DAPPMESH_STORAGE_OPERATIONAL_DATABASE').valueFrom, {secretKeyRef: {name: 'orders--operational-write', key: 'database'}})
    // $(VAR) expands only from variables defined earlier in the list
    assert.ok(names.indexOf('DAPPMESH_STORAGE_OPERATIONAL_PASSWORD') < names.indexOf('DAPPMESH_STORAGE_OPERATIONAL_URL'))
    assert.ok(names.indexOf('DAPPMESH_STORAGE_OPERATIONAL_DATABASE') < names.indexOf('DAPPMESH_STORAGE_OPERATIONAL_URL'))
    assert.equal(byName.get('DAPPMESH_STORAGE_OBJECT_ENDPOINT').value, 'http://orders--object.sales.svc:9000')
    assert.deepEqual(byName.get('DAPPMESH_STORAGE_OBJECT_SECRET_ACCESS_KEY').valueFrom, {secretKeyRef: {name: 'orders--object-credentials', key: 'password'}})
  })

  it('never gives the runtime container the root credentials of a postgresql storage', () => {
    const refs = runtimePod().containers[0].env.filter((e: any) => e.name.includes('OPERATIONAL')).map((e: any) => e.valueFrom?.secretKeyRef?.name).filter(Boolean)
    assert.ok(refs.length > 0)
    assert.deepEqual([...new Set(refs)], ['orders--operational-write'])
  })

  it('makes the postgresql storages\' access users before the runtime starts: an init container with the root user and each user\'s Secret', () => {
    const [init, ...more] = runtimePod().initContainers
    assert.equal(more.length, 0)
    assert.equal(init.image, RUNTIME.image)
    assert.deepEqual(init.args, ['storage', 'users', '--schema', 'orders', '--storage', 'operational'])
    const byName = new Map<string, any>(init.env.map((e: any) => [e.name, e]))
    assert.deepEqual(byName.get('DAPPMESH_STORAGE_OPERATIONAL_PASSWORD').valueFrom, {secretKeyRef: {name: 'orders--operational-credentials', key: 'password'}})
    assert.equal(byName.get('DAPPMESH_STORAGE_OPERATIONAL_URL').value, 'postgres://$(DAPPMESH_STORAGE_OPERATIONAL_USERNAME):$(DAPPMESH_STORAGE_OPERATIONAL_PASSWORD)@orders--operational.sales.svc:5432/$(DAPPMESH_STORAGE_OPERATIONAL_USERNAME)')
    for (const access of ['read', 'write', 'admin']) {
      assert.deepEqual(byName.get(`DAPPMESH_ACCESS_OPERATIONAL_${access.toUpperCase()}_PASSWORD`).valueFrom, {secretKeyRef: {name: `orders--operational-${access}`, key: 'password'}})
    }
    assert.equal(byName.has('DAPPMESH_STORAGE_OBJECT_PASSWORD'), false, 'only the postgresql storages')
    assert.equal(init.securityContext.allowPrivilegeEscalation, false)
    assert.ok(init.env.every((e: any) => !/PASSWORD$/.test(e.name) || e.value === undefined), 'passwords only by reference')
  })

  it('has no init container without a postgresql storage, and restarts when the access users\' Secrets change (their version on the pod template)', () => {
    assert.equal(runtimePod(state({storages: state().storages.filter((s) => s.spec.engine !== 'postgresql')})).initContainers, undefined)
    const template = (v?: string) => children(state({credentialsVersion: v})).get('StatefulSet/orders-runtime').spec.template.metadata
    assert.equal(template().annotations, undefined)
    assert.deepEqual(template('abc').annotations, {'dappmesh.io/credentials-version': 'abc'})
  })

  it('starts Node with a small young generation, so an idle runtime does not hold V8\'s default 32 MiB of semi-spaces', () => {
    const env = runtimePod().containers[0].env
    const options = env.find((e: any) => e.name === 'NODE_OPTIONS')
    assert.ok(options, 'NODE_OPTIONS is set on the runtime container')
    assert.match(options.value, /--max-semi-space-size=1\b/)
  })

  it('runs hardened: non-root, no privilege escalation, no capability, seccomp RuntimeDefault, requests and limits', () => {
    const pod = runtimePod()
    assert.equal(pod.securityContext.runAsNonRoot, true)
    assert.notEqual(pod.securityContext.runAsUser, 0)
    assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault')
    const c = pod.containers[0]
    assert.equal(c.securityContext.allowPrivilegeEscalation, false)
    assert.deepEqual(c.securityContext.capabilities.drop, ['ALL'])
    assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.cpu && c.resources.limits.memory)
  })

  it('runs as its own ServiceAccount, reading only dappmesh kinds and writing only its own product\'s status', () => {
    const made = children()
    assert.equal(runtimePod().serviceAccountName, 'orders-runtime')
    assert.equal(made.get('ServiceAccount/orders-runtime').automountServiceAccountToken, true)
    const rules = made.get('Role/orders-runtime').rules
    for (const rule of rules) {
      assert.deepEqual(rule.apiGroups, ['dappmesh.io'])
      assert.ok(rule.verbs.every((v: string) => ['get', 'list', 'watch'].includes(v) || (v === 'patch' && rule.resources[0] === 'dataproducts/status')), JSON.stringify(rule))
    }
    assert.deepEqual(rules.find((r: any) => r.verbs.includes('patch')).resourceNames, ['orders'])
    assert.deepEqual(made.get('RoleBinding/orders-runtime').subjects, [{kind: 'ServiceAccount', name: 'orders-runtime', namespace: 'sales'}])
  })

  it('binds its account to system:auth-delegator cluster-wide (token reviews), labelled with its namespace and product instead of owned', () => {
    const binding = children().get('ClusterRoleBinding/dappmesh-runtime:sales:orders')
    assert.deepEqual(binding.roleRef, {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator'})
    assert.deepEqual(binding.subjects, [{kind: 'ServiceAccount', name: 'orders-runtime', namespace: 'sales'}])
    assert.equal(binding.metadata.namespace, undefined)
    assert.equal(binding.metadata.ownerReferences, undefined)
    assert.equal(binding.metadata.labels['dappmesh.io/namespace'], 'sales')
    assert.equal(binding.metadata.labels['dappmesh.io/product'], 'orders')
  })

  it('gives each output port it serves a Service onto its API port, and leaves ports with their own image their own Deployment', () => {
    const made = children()
    const selector = {'dappmesh.io/product': 'orders', 'dappmesh.io/component': 'runtime'}
    assert.deepEqual(made.get('Service/orders-runtime').spec.selector, selector)
    const api = made.get('Service/orders--orders-api')
    assert.deepEqual(api.spec.selector, selector)
    assert.deepEqual(api.spec.ports, [{name: 'http', port: 9090, targetPort: 'http', protocol: 'TCP'}])
    assert.equal(made.get('Service/orders--orders-daily').spec.ports[0].port, 8080)
    assert.equal(made.get('Deployment/orders--orders-custom').spec.template.spec.containers[0].image, 'shop/custom:1')
    assert.notDeepEqual(made.get('Service/orders--orders-custom').spec.selector, selector)
    assert.equal(made.has('Service/orders--orders-events'), false, 'input ports are pushed to through the runtime\'s own Service')
  })

  it('admits any caller to the runtime\'s API port only', () => {
    const policy = children().get('NetworkPolicy/orders-runtime')
    assert.deepEqual(policy.spec.podSelector.matchLabels, {'dappmesh.io/product': 'orders', 'dappmesh.io/component': 'runtime'})
    assert.deepEqual(policy.spec.ingress, [{from: [{namespaceSelector: {}}], ports: [{protocol: 'TCP', port: 8080}]}])
  })

  it('fails a trigger job at once when the run failed, and retries it only when the runtime was unreachable', () => {
    const job = children().get('CronJob/orders--nightly').spec.jobTemplate.spec
    assert.deepEqual(job.podFailurePolicy.rules, [{action: 'FailJob', onExitCodes: {containerName: 'trigger', operator: 'In', values: [1, 2]}}])
    assert.equal(job.template.spec.serviceAccountName, 'orders-runtime')
    assert.equal(job.template.spec.securityContext.runAsNonRoot, true)
  })
})

describe('validate: the runtime\'s name', () => {
  const withProductName = (name: string): string => {
    const base = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-runtime-name-'))
    const dir = path.join(base, 'orders')
    cpSync(path.join(ROOT, 'examples/orders'), dir, {recursive: true})
    // Only the product's own name changes: its storages' names are short enough either way.
    writeFileSync(path.join(dir, 'dappmesh.yaml'), readFileSync(path.join(dir, 'dappmesh.yaml'), 'utf8').replace('name: orders', `name: ${name}`))
    return dir
  }

  it('refuses a product name whose runtime StatefulSet <product>-runtime would exceed 52 characters, and takes one of 44', async () => {
    const long = withProductName('p'.repeat(45))
    const findings = (await validateDirectory(long)).findings.filter((f) => f.kind === 'DataProduct' && f.rule === 'naming')
    assert.equal(findings.length, 1, JSON.stringify(findings))
    assert.match(findings[0].message, /runtime StatefulSet made for DataProduct p{45} is named "p{45}-runtime", which is 53 characters, over the 52 Kubernetes allows; shorten the product's name to 44 characters or fewer/)
    assert.equal(findings[0].file, 'dappmesh.yaml')
    const fits = withProductName('p'.repeat(44))
    assert.deepEqual((await validateDirectory(fits)).findings.filter((f) => f.kind === 'DataProduct'), [])
    rmSync(path.dirname(long), {recursive: true, force: true})
    rmSync(path.dirname(fits), {recursive: true, force: true})
  })
})
