import assert from 'node:assert/strict'

import type {KubeObject} from '../../src/core/kube/types.js'
import {mergeConditions} from '../../src/core/reconcile/conditions.js'
import {containsAll, withAppliedHash} from '../../src/core/reconcile/matches.js'
import {parseLoops} from '../../src/core/reconcile/operator.js'
import {type ProductState, accessSecret, credentialsSecret, applyTier, desiredChildren, inApplyOrder, inApplyTiers, isCredentialsOf, missingReferences, refusedSubjects, storageSecrets} from '../../src/core/reconcile/product/desired.js'
import {CHILD_KINDS, CLUSTER_CHILD_KINDS} from '../../src/core/reconcile/product/reconciler.js'
import {componentOf, productStatus} from '../../src/core/reconcile/product/status.js'
import {meshStatus} from '../../src/core/reconcile/mesh/controller.js'
import {Metrics} from '../../src/core/reconcile/metrics.js'
import {type Loose, partial} from '../helpers/fixtures.js'

const meta = (name: string, labels: Record<string, string> = {}) => ({name, namespace: 'sales', labels: {'dappmesh.io/product': 'orders', ...labels}})
const product = partial<ProductState['product']>({apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataProduct', metadata: {name: 'orders', namespace: 'sales', uid: 'u-1', generation: 3}, spec: {domain: 'sales'}})

function state(overrides: Loose<ProductState> = {}): ProductState {
  return partial<ProductState>({
    product,
    storages: [{kind: 'DataStorage', metadata: meta('operational'), spec: {class: 'operational', engine: 'postgresql', version: '15', replicas: 2, size: '5Gi'}}],
    outputPorts: [
      {kind: 'OutputPort', metadata: meta('orders-api'), spec: {entity: 'orders', type: 'api', contract: 'orders-clean', storage: 'operational', service: {image: 'shop/orders@sha256:abc', port: 9090}}},
      {kind: 'OutputPort', metadata: meta('orders-daily'), spec: {entity: 'orders', type: 'table', contract: 'orders-daily'}},
    ],
    inputPorts: [{kind: 'InputPort', metadata: meta('orders-events'), spec: {entity: 'orders', source: {type: 'kafka'}}}],
    workflows: [
      {kind: 'DataWorkflow', metadata: meta('nightly'), spec: {flow: 'orders', schedule: '0 2 * * *', image: 'shop/wf:1', activities: [{name: 'a', transition: 't', retry: {maxAttempts: 3}}]}},
      {kind: 'DataWorkflow', metadata: meta('on-demand'), spec: {flow: 'orders', image: 'shop/wf:1', activities: []}},
    ],
    contracts: [{kind: 'DataContract', metadata: meta('orders-clean'), spec: {document: {id: 'urn:c', version: '1.0.0'}}}],
    ...overrides,
  })
}

const RUNTIME = {image: 'registry.local/dappmesh:1.2.3'}
const byName = (children: any[]) => new Map(children.map((c) => [`${c.kind}/${c.metadata.name}`, c]))

describe('product reconciler: desired children', () => {
  it('makes a StatefulSet, headless Service and NetworkPolicy per server storage, with the engine image, replicas and size', () => {
    const children = byName(desiredChildren(state(), RUNTIME))
    const sts = children.get('StatefulSet/orders--operational')
    assert.equal(sts.spec.replicas, 2)
    assert.equal(sts.spec.template.spec.containers[0].image, 'postgres:15')
    assert.equal(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '5Gi')
    assert.deepEqual(sts.spec.template.spec.containers[0].env.filter((e: any) => e.valueFrom).map((e: any) => [e.name, e.valueFrom.secretKeyRef.name]), [
      ['POSTGRES_USER', 'orders--operational-credentials'],
      ['POSTGRES_PASSWORD', 'orders--operational-credentials'],
    ])
    assert.equal(children.get('Service/orders--operational').spec.clusterIP, 'None')
    const policy = children.get('NetworkPolicy/orders--operational')
    assert.deepEqual(policy.spec.podSelector.matchLabels, {'dappmesh.io/product': 'orders', 'dappmesh.io/storage': 'operational'})
    assert.deepEqual(policy.spec.ingress[0].from, [{podSelector: {matchLabels: {'dappmesh.io/product': 'orders', 'dappmesh.io/component': 'runtime'}}}], 'only the runtime reaches a storage')
  })

  it('applies what pods need (ServiceAccounts, RBAC, Services) before the workloads that start them, and every child once', () => {
    const made = desiredChildren(state(), RUNTIME)
    const ordered = inApplyOrder(made)
    assert.deepEqual(ordered.map((c) => `${c.kind}/${c.metadata.name}`).sort(), made.map((c) => `${c.kind}/${c.metadata.name}`).sort())
    const firstWorkload = ordered.findIndex((c) => ['StatefulSet', 'Deployment', 'CronJob'].includes(c.kind))
    assert.ok(firstWorkload > 0)
    const lateNeeds = ordered.slice(firstWorkload).filter((c) => ['ServiceAccount', 'Role', 'RoleBinding', 'ConfigMap', 'Service'].includes(c.kind))
    assert.deepEqual(lateNeeds.map((c) => `${c.kind}/${c.metadata.name}`), [])
  })

  it('puts every kind of child the operator watches in exactly one apply tier', () => {
    const kinds = [...CHILD_KINDS, ...CLUSTER_CHILD_KINDS].map(({kind}) => kind)
    for (const kind of kinds) assert.ok(Number.isInteger(applyTier(kind)), `${kind} has no tier`)
    const tiers = inApplyTiers(kinds.map((kind) => ({kind})))
    assert.deepEqual(tiers.flat().map((c) => c.kind).sort(), [...kinds].sort(), 'each kind once')
    for (const [i, tier] of tiers.entries()) {
      assert.equal(new Set(tier.map((c) => applyTier(c.kind))).size, 1, `tier ${i} holds one tier`)
      if (i > 0) assert.ok(applyTier(tier[0].kind) > applyTier(tiers[i - 1][0].kind), 'tiers in order')
    }
  })

  it('applies a product\'s children in tiers: ServiceAccounts, Secrets, ConfigMaps and Roles; then bindings, NetworkPolicies and Services; then the workloads', () => {
    const tiers = inApplyTiers(desiredChildren(state({roles: [{kind: 'DataRole', metadata: meta('readers'), spec: {subjects: [{kind: 'Group', name: 'analysts'}], grants: [{outputPort: 'orders-api', access: 'read'}]}}]}), RUNTIME))
    const kindsOf = (tier: Array<{kind: string}>) => [...new Set(tier.map((c) => c.kind))]
    assert.deepEqual(tiers.map(kindsOf), [
      ['ServiceAccount', 'ConfigMap', 'Role'],
      ['RoleBinding', 'ClusterRoleBinding', 'NetworkPolicy', 'Service'],
      ['StatefulSet', 'Deployment', 'CronJob'],
    ])
  })

  it('keeps the apply order within the tiers: the tiers one after another are the children in apply order', () => {
    const made = desiredChildren(state(), RUNTIME)
    assert.deepEqual(inApplyTiers(made).flat(), inApplyOrder(made))
  })

  it('makes no tiers of no children', () => {
    assert.deepEqual(inApplyTiers([]), [])
  })

  it('puts Postgres\' data one directory below its volume, which initdb can own (a volume\'s root belongs to root)', () => {
    const sts = byName(desiredChildren(state(), RUNTIME)).get('StatefulSet/orders--operational')
    const container = sts.spec.template.spec.containers[0]
    const pgdata = container.env.find((e: any) => e.name === 'PGDATA')?.value
    assert.equal(container.volumeMounts[0].mountPath, '/var/lib/postgresql/data')
    assert.equal(pgdata, '/var/lib/postgresql/data/pgdata')
  })

  it('counts a storage server ready only once it accepts connections on its port (a readiness probe)', () => {
    const container = byName(desiredChildren(state(), RUNTIME)).get('StatefulSet/orders--operational').spec.template.spec.containers[0]
    assert.deepEqual(container.readinessProbe?.tcpSocket, {port: 'data'})
    assert.deepEqual(container.ports, [{name: 'data', containerPort: 5432}])
  })

  it('never gives two products of one namespace a child of the same name, whatever their names and their parts\' (shop + orders-operational, shop-orders + operational, shop-runtime + anything)', () => {
    const of = (productName: string, storage: string, port: string) => {
      const p = {...product, metadata: {...product.metadata, name: productName, uid: `u-${productName}`}}
      const s = state({product: p, storages: [{kind: 'DataStorage', metadata: meta(storage), spec: {class: 'operational', engine: 'postgresql'}}], outputPorts: [{kind: 'OutputPort', metadata: meta(port), spec: {entity: 'x', type: 'api', service: {image: 'i'}}}], inputPorts: [], workflows: [], contracts: []})
      return [...desiredChildren(s, RUNTIME), ...storageSecrets(p, s.storages[0], () => 'pw').map((x) => x.secret)].map((c) => `${c.kind}/${c.metadata.name}`)
    }
    const products = [of('shop', 'orders-operational', 'runtime'), of('shop-orders', 'operational', 'api'), of('shop-runtime', 'operational', 'workloads'), of('shop-orders-operational', 'credentials', 'x')]
    const seen = new Map<string, number>()
    for (const [i, names] of products.entries()) {
      for (const name of names) {
        assert.ok(!seen.has(name) || seen.get(name) === i, `${name} is made by product ${seen.get(name)} and product ${i}`)
        seen.set(name, i)
      }
    }
    assert.ok(seen.has('StatefulSet/shop--orders-operational') && seen.has('StatefulSet/shop-orders--operational'), [...seen.keys()].join(' '))
  })

  it('prefers a storage\'s own image to the engine\'s', () => {
    const s = state()
    s.storages[0].spec.image = 'registry.local/pg:custom'
    assert.equal(byName(desiredChildren(s, RUNTIME)).get('StatefulSet/orders--operational').spec.template.spec.containers[0].image, 'registry.local/pg:custom')
  })

  it('gives a port with an image a Deployment and Service on its port, a port without one neither', () => {
    const children = byName(desiredChildren(state(), RUNTIME))
    const deployment = children.get('Deployment/orders--orders-api')
    assert.equal(deployment.spec.template.spec.containers[0].image, 'shop/orders@sha256:abc')
    assert.equal(children.get('Service/orders--orders-api').spec.ports[0].port, 9090)
    assert.equal(children.has('Deployment/orders--orders-daily'), false)
    assert.equal(children.has('Deployment/orders--orders-events'), false)
  })

  it('puts the contract document of an output port in a ConfigMap, and none when the contract is not in the cluster', () => {
    const children = byName(desiredChildren(state(), RUNTIME))
    assert.deepEqual(JSON.parse(children.get('ConfigMap/orders--orders-api-contract').data['contract.json']), {id: 'urn:c', version: '1.0.0'})
    assert.equal(children.has('ConfigMap/orders--orders-daily-contract'), false)
  })

  it('makes a CronJob only for a scheduled workflow, which asks the product\'s runtime to run it from the dappmesh image', () => {
    const children = byName(desiredChildren(state(), RUNTIME))
    const cron = children.get('CronJob/orders--nightly')
    assert.equal(cron.spec.schedule, '0 2 * * *')
    const container = cron.spec.jobTemplate.spec.template.spec.containers[0]
    assert.equal(container.image, 'registry.local/dappmesh:1.2.3', 'the workflow\'s own image runs inside the run, not as the trigger')
    assert.deepEqual(container.args, ['workflow', 'trigger', 'nightly', '--url', 'http://orders-runtime.sales:8080'])
    assert.equal(children.has('CronJob/orders--on-demand'), false)
  })

  it('runs every pod under Pod Security restricted: non-root, no escalation, no capabilities, RuntimeDefault seccomp', () => {
    const children = byName(desiredChildren(state(), RUNTIME))
    const pods = {
      statefulSet: children.get('StatefulSet/orders--operational').spec.template.spec,
      deployment: children.get('Deployment/orders--orders-api').spec.template.spec,
      cronJob: children.get('CronJob/orders--nightly').spec.jobTemplate.spec.template.spec,
    }
    for (const [what, pod] of Object.entries(pods)) {
      assert.equal(pod.securityContext.runAsNonRoot, true, what)
      assert.ok(pod.securityContext.runAsUser > 0, what)
      assert.deepEqual(pod.securityContext.seccompProfile, {type: 'RuntimeDefault'}, what)
      for (const container of pod.containers) {
        assert.equal(container.securityContext.allowPrivilegeEscalation, false, what)
        assert.deepEqual(container.securityContext.capabilities, {drop: ['ALL']}, what)
        assert.ok(container.resources.requests.cpu && container.resources.requests.memory && container.resources.limits.cpu && container.resources.limits.memory, what)
      }
    }
    // The postgres image's data directory belongs to its own user.
    assert.equal(pods.statefulSet.securityContext.runAsUser, 999)
    assert.equal(pods.statefulSet.securityContext.fsGroup, 999)
  })

  it('runs the pods as the product\'s own ServiceAccount, with no token mounted', () => {
    const children = byName(desiredChildren(state(), RUNTIME))
    assert.equal(children.get('ServiceAccount/orders-workloads').automountServiceAccountToken, false)
    for (const pod of [children.get('StatefulSet/orders--operational').spec.template.spec, children.get('Deployment/orders--orders-api').spec.template.spec]) {
      assert.equal(pod.serviceAccountName, 'orders-workloads')
      assert.equal(pod.automountServiceAccountToken, false)
    }
    const dataOnly = state({storages: [], workflows: [], outputPorts: [state().outputPorts[1]]})
    assert.equal(byName(desiredChildren(dataOnly, RUNTIME)).has('ServiceAccount/orders-workloads'), false, 'no pods but the runtime\'s, no account')
  })

  it('takes the engine\'s default requests and limits, each overridable by the storage\'s resources', () => {
    const s = state()
    assert.deepEqual(byName(desiredChildren(s, RUNTIME)).get('StatefulSet/orders--operational').spec.template.spec.containers[0].resources, {
      requests: {cpu: '100m', memory: '256Mi'},
      limits: {cpu: '1', memory: '1Gi'},
    })
    s.storages[0].spec.resources = {limits: {memory: '8Gi'}}
    assert.deepEqual(byName(desiredChildren(s, RUNTIME)).get('StatefulSet/orders--operational').spec.template.spec.containers[0].resources, {
      requests: {cpu: '100m', memory: '256Mi'},
      limits: {cpu: '1', memory: '8Gi'},
    })
  })

  it('labels every namespaced child with its product and makes the DataProduct its controlling owner', () => {
    for (const child of desiredChildren(state(), RUNTIME).filter((c) => c.kind !== 'ClusterRoleBinding')) {
      assert.equal(child.metadata.namespace, 'sales')
      assert.equal(child.metadata.labels['dappmesh.io/product'], 'orders')
      assert.equal(child.metadata.labels['app.kubernetes.io/managed-by'], 'dappmesh-operator')
      assert.deepEqual(child.metadata.ownerReferences, [{apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataProduct', name: 'orders', uid: 'u-1', controller: true, blockOwnerDeletion: true}])
    }
  })

  it('generates a credentials Secret with the generator it is given', () => {
    const secret = credentialsSecret(product, state().storages[0], () => 'generated')
    assert.equal(secret.metadata.name, 'orders--operational-credentials')
    assert.deepEqual(secret.stringData, {username: 'operational', password: 'generated'})
  })

  it('gives a credentials Secret no owner, so that it lasts as long as the volume, and knows it by its labels', () => {
    const secret = credentialsSecret(product, state().storages[0], () => 'generated')
    assert.equal(secret.metadata.ownerReferences, undefined, 'garbage collection would delete it with the product')
    assert.equal(isCredentialsOf(secret, 'orders', 'operational'), true)
    assert.equal(isCredentialsOf(secret, 'orders', 'other'), false, 'another storage\'s')
    assert.equal(isCredentialsOf(secret, 'orders-x', 'operational'), false, 'another product\'s')
    const controlled = {...secret, metadata: {...secret.metadata, ownerReferences: [{kind: 'Deployment', name: 'x', uid: 'u', controller: true}]}}
    assert.equal(isCredentialsOf(partial(controlled), 'orders', 'operational'), false, 'controlled by something else')
  })

  it('makes a Secret per access user of a postgresql storage: its role name, a generated password and where to connect; no owner, like the credentials', () => {
    const secret = accessSecret(product, state().storages[0], 'read', () => 'generated')
    assert.equal(secret.metadata.name, 'orders--operational-read')
    assert.deepEqual(secret.stringData, {username: 'operational_read', password: 'generated', host: 'orders--operational.sales.svc', port: '5432', database: 'operational', schema: 'orders'})
    assert.equal(secret.metadata.ownerReferences, undefined)
    assert.equal(isCredentialsOf(secret, 'orders', 'operational', 'read'), true)
    assert.equal(isCredentialsOf(secret, 'orders', 'operational'), false, 'not the root credentials')
    assert.equal(isCredentialsOf(secret, 'orders', 'operational', 'write'), false, 'not the write user\'s')
    assert.equal(isCredentialsOf(credentialsSecret(product, state().storages[0], () => 'x'), 'orders', 'operational', 'read'), false, 'the root credentials are no access user\'s')
  })

  it('never gives two storages of one product a Secret of the same name (operational + operational-read)', () => {
    const storages = ['operational', 'operational-read', 'operational-read-read'].map((n) => partial<ProductState['storages'][number]>({kind: 'DataStorage', metadata: meta(n), spec: {class: 'operational', engine: 'postgresql'}}))
    const names = storages.flatMap((s) => storageSecrets(product, s, () => 'pw').map((x) => x.secret.metadata.name))
    assert.equal(new Set(names).size, names.length, names.join(' '))
  })

  it('makes access user Secrets only where the engine has such users (postgresql), the credentials Secret everywhere', () => {
    const names = (storage: any) => storageSecrets(product, storage, () => 'pw').map((x) => x.secret.metadata.name)
    assert.deepEqual(names(state().storages[0]), ['orders--operational-credentials', 'orders--operational-read', 'orders--operational-write', 'orders--operational-admin'])
    assert.deepEqual(names({kind: 'DataStorage', metadata: meta('object'), spec: {class: 'object', engine: 's3'}}), ['orders--object-credentials'])
  })

  it('gives each DataRole a Role naming only the children its grants reach, and a RoleBinding of its subjects', () => {
    const roles = [
      {kind: 'DataRole', metadata: meta('ops'), spec: {subjects: [{kind: 'Group', name: 'ops'}, {kind: 'ServiceAccount', name: 'bot'}], grants: [{storage: 'operational', access: 'admin'}, {outputPort: 'orders-api', access: 'read'}]}},
      {kind: 'DataRole', metadata: meta('nobody'), spec: {subjects: [{kind: 'User', name: 'x'}], grants: [{storage: 'gone', access: 'read'}]}},
    ]
    const children = byName(desiredChildren(state({roles}), RUNTIME))
    assert.deepEqual(children.get('Role/orders--ops').rules, [
      {apiGroups: [''], resources: ['services'], resourceNames: ['orders--operational'], verbs: ['get']},
      {apiGroups: ['apps'], resources: ['statefulsets'], resourceNames: ['orders--operational'], verbs: ['get']},
      {apiGroups: [''], resources: ['secrets'], resourceNames: ['orders--operational-admin'], verbs: ['get']},
      {apiGroups: [''], resources: ['services'], resourceNames: ['orders--orders-api'], verbs: ['get']},
      {apiGroups: [''], resources: ['configmaps'], resourceNames: ['orders--orders-api-contract'], verbs: ['get']},
    ])
    assert.deepEqual(children.get('RoleBinding/orders--ops').subjects, [
      {kind: 'Group', name: 'ops', apiGroup: 'rbac.authorization.k8s.io'},
      {kind: 'ServiceAccount', name: 'bot', namespace: 'sales'},
    ])
    assert.equal(children.get('Role/orders--nobody').rules, undefined, 'a grant of something missing grants nothing')
    assert.deepEqual(missingReferences(state({roles}), new Set(['sales']), new Set(['orders'])), ['DataContract orders-daily (OutputPort orders-daily)', 'DataStorage gone (DataRole nobody)'])
  })

  it('never lets an admin grant write a workload: no patch or update on StatefulSets or Deployments', () => {
    const roles = [{kind: 'DataRole', metadata: meta('ops'), spec: {subjects: [{kind: 'User', name: 'ann'}], grants: [{storage: 'operational', access: 'admin'}, {outputPort: 'orders-api', access: 'admin'}]}}]
    const rules = byName(desiredChildren(state({roles}), RUNTIME)).get('Role/orders--ops').rules
    assert.deepEqual(rules.filter((r: any) => r.resources[0] === 'deployments' || r.resources[0] === 'statefulsets').map((r: any) => [r.resources[0], r.verbs]), [
      ['statefulsets', ['get']],
      ['deployments', ['get']],
    ])
    assert.ok(rules.every((r: any) => r.verbs.every((v: string) => v === 'get')), JSON.stringify(rules))
  })

  it('hands out, per access, the Secret of that access level\'s database user on postgresql, never the root credentials, and needs no note', () => {
    for (const access of ['read', 'write', 'admin']) {
      const roles = [{kind: 'DataRole', metadata: meta('ops'), spec: {subjects: [{kind: 'User', name: 'ann'}], grants: [{storage: 'operational', access}]}}]
      const role = byName(desiredChildren(state({roles}), RUNTIME)).get('Role/orders--ops')
      assert.deepEqual(role.rules.filter((r: any) => r.resources.includes('secrets')), [{apiGroups: [''], resources: ['secrets'], resourceNames: [`orders--operational-${access}`], verbs: ['get']}], access)
      assert.equal(role.metadata.annotations, undefined)
    }
  })

  it('hands out no credentials on an engine without per-access users, and says on the Role which engines share the root user', () => {
    const storages = [...state().storages, {kind: 'DataStorage', metadata: meta('object'), spec: {class: 'object', engine: 's3'}}]
    const roles = [{kind: 'DataRole', metadata: meta('ops'), spec: {subjects: [{kind: 'User', name: 'ann'}], grants: [{storage: 'object', access: 'read'}]}}]
    const role = byName(desiredChildren(state({storages, roles}), RUNTIME)).get('Role/orders--ops')
    assert.ok(!role.rules.some((r: any) => r.resources.includes('secrets')), JSON.stringify(role.rules))
    assert.match(role.metadata.annotations['dappmesh.io/grant-note'], /storage grants on s3 give its Service .*never its credentials: s3 has no per-access database users \(only postgresql\)/)
  })

  it('binds no Kubernetes system identity: system:* users and groups, ServiceAccounts of kube-* namespaces', () => {
    const subjects = [
      {kind: 'Group', name: 'system:authenticated'},
      {kind: 'User', name: 'system:admin'},
      {kind: 'ServiceAccount', name: 'default', namespace: 'kube-system'},
      {kind: 'User', name: 'ann'},
    ]
    const roles = [{kind: 'DataRole', metadata: meta('ops'), spec: {subjects, grants: [{outputPort: 'orders-api', access: 'read'}]}}]
    assert.deepEqual(byName(desiredChildren(state({roles}), RUNTIME)).get('RoleBinding/orders--ops').subjects, [{kind: 'User', name: 'ann', apiGroup: 'rbac.authorization.k8s.io'}])
    assert.deepEqual(refusedSubjects(partial(roles[0])), [
      'Group system:authenticated is a Kubernetes system identity (system:*)',
      'User system:admin is a Kubernetes system identity (system:*)',
      'ServiceAccount kube-system/default lives in a Kubernetes system namespace (kube-*)',
    ])
    const onlySystem = [{kind: 'DataRole', metadata: meta('ops'), spec: {subjects: subjects.slice(0, 1), grants: [{outputPort: 'orders-api', access: 'read'}]}}]
    assert.equal(byName(desiredChildren(state({roles: onlySystem}), RUNTIME)).get('RoleBinding/orders--ops'), undefined, 'no binding at all when no subject is left')
  })

  it('names each reference that does not resolve', () => {
    const s = state({storages: []})
    assert.deepEqual(missingReferences(s, new Set(), new Set(['orders'])), [
      'DataDomain sales',
      'DataStorage operational (OutputPort orders-api)',
      'DataContract orders-daily (OutputPort orders-daily)',
    ])
    assert.deepEqual(missingReferences(state({outputPorts: []}), new Set(['sales']), new Set()), ['DataFlow orders (DataWorkflow nightly)', 'DataFlow orders (DataWorkflow on-demand)'])
  })
})

describe('product reconciler: status', () => {
  const sts = (spec: number, ready: number, generation = 1, observed = 1) => partial<KubeObject>({metadata: {generation}, spec: {replicas: spec}, status: {readyReplicas: ready, updatedReplicas: ready, observedGeneration: observed}})
  const desired = {apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: {name: 'x', namespace: 'n', labels: {}, ownerReferences: []}}

  it('reads a workload\'s readiness from its ready replicas for the generation its controller observed', () => {
    assert.deepEqual(componentOf(desired, sts(2, 2)), {kind: 'StatefulSet', name: 'x', ready: true, message: '2/2 replicas ready'})
    assert.equal(componentOf(desired, sts(2, 1)).ready, false)
    assert.equal(componentOf(desired, sts(2, 2, 2, 1)).ready, false, 'a spec change its controller has not seen yet')
    assert.equal(componentOf(desired, sts(2, 2, 2, 1)).message, '2/2 replicas ready (rollout not yet observed)')
  })

  it('says the same of a new workload before and after its controller first observes it (no news for a reconcile)', () => {
    assert.deepEqual(componentOf(desired, sts(1, 0, 1, 0)), componentOf(desired, sts(1, 0, 1, 1)))
    assert.equal(componentOf(desired, sts(1, 0, 1, 0)).message, '0/1 replicas ready')
    assert.deepEqual(componentOf(desired, undefined), {kind: 'StatefulSet', name: 'x', ready: false, message: 'not created yet'})
    assert.equal(componentOf({...desired, kind: 'ConfigMap'}, partial({metadata: {}})).ready, true)
  })

  const conditions = (status: any) => Object.fromEntries(status.conditions.map((c: any) => [c.type, [c.status, c.reason]]))

  it('is Ready when every component is, for the product\'s generation', () => {
    const status = productStatus(undefined, {generation: 3, components: [{kind: 'StatefulSet', name: 'x', ready: true, message: ''}], missing: [], failures: []})
    assert.equal(status.observedGeneration, 3)
    assert.ok(status.conditions.every((c) => c.observedGeneration === 3))
    assert.deepEqual(conditions(status), {Ready: ['True', 'ComponentsReady'], Reconciling: ['False', 'Reconciled'], Degraded: ['False', 'AsExpected'], ReferencesResolved: ['True', 'Resolved']})
  })

  it('is Reconciling while a component is not ready, Degraded when an apply failed, and names missing references', () => {
    const waiting = productStatus(undefined, {generation: 1, components: [{kind: 'Deployment', name: 'd', ready: false, message: '0/1 replicas ready'}], missing: [], failures: []})
    assert.deepEqual(conditions(waiting).Ready, ['False', 'ComponentsNotReady'])
    assert.deepEqual(conditions(waiting).Reconciling, ['True', 'Progressing'])
    const failed = productStatus(undefined, {generation: 1, components: [], missing: [], failures: ['StatefulSet s: forbidden']})
    assert.deepEqual(conditions(failed).Degraded, ['True', 'ApplyFailed'])
    const missing = productStatus(undefined, {generation: 1, components: [], missing: ['DataDomain sales'], failures: []})
    assert.deepEqual(conditions(missing).ReferencesResolved, ['False', 'Missing'])
    assert.equal(missing.conditions.find((c) => c.type === 'ReferencesResolved')!.message, 'missing: DataDomain sales')
  })

  it('is Degraded with reason NameTaken, naming the child and its owner, when another object holds a child\'s name', () => {
    const taken = productStatus(undefined, {generation: 1, components: [], missing: [], failures: [], taken: ['Service shop-orders-operational already exists and belongs to DataProduct shop-orders: not taken over']})
    assert.deepEqual(conditions(taken).Degraded, ['True', 'NameTaken'])
    assert.deepEqual(conditions(taken).Ready, ['False', 'NameTaken'])
    assert.match(taken.conditions.find((c) => c.type === 'Degraded')!.message, /Service shop-orders-operational already exists and belongs to DataProduct shop-orders/)
  })

  it('keeps a condition\'s lastTransitionTime while its status stays, so an unchanged product computes an unchanged status', () => {
    const input = {generation: 1, components: [], missing: [], failures: []}
    const first = productStatus(undefined, input, new Date('2026-01-01T00:00:00Z'))
    const again = productStatus(first, input, new Date('2026-01-02T00:00:00Z'))
    assert.deepEqual(again, first)
    const changed = mergeConditions(first.conditions, [{type: 'Ready', status: 'False', reason: 'x', message: ''}], new Date('2026-01-03T00:00:00Z'))
    assert.equal(changed[0].lastTransitionTime, '2026-01-03T00:00:00Z')
  })
})

describe('product reconciler: comparing with the live object', () => {
  it('needs no apply when the live object holds every desired field, whatever else it has', () => {
    assert.ok(containsAll({spec: {replicas: 2, extra: true, ports: [{port: 80, protocol: 'TCP'}]}, status: {}}, {spec: {replicas: 2, ports: [{port: 80}]}}))
  })

  it('needs an apply for a changed value, a missing field or a list of another length', () => {
    assert.equal(containsAll({spec: {replicas: 1}}, {spec: {replicas: 2}}), false)
    assert.equal(containsAll({spec: {}}, {spec: {replicas: 2}}), false)
    assert.equal(containsAll({spec: {ports: [{port: 80}, {port: 81}]}}, {spec: {ports: [{port: 80}]}}), false)
  })

  it('needs an apply when a field the reconciler set is no longer desired (a quota\'s storage removed)', () => {
    const before = withAppliedHash({metadata: {name: 'q'}, spec: {hard: {'requests.cpu': '8', 'requests.storage': '100Gi'}}})
    // What the API server holds after applying `before` (plus its own additions).
    const live = {...before, metadata: {...before.metadata, uid: 'u'}, status: {}}
    assert.ok(containsAll(live, withAppliedHash({metadata: {name: 'q'}, spec: {hard: {'requests.cpu': '8', 'requests.storage': '100Gi'}}})), 'unchanged: no apply')
    const removed = withAppliedHash({metadata: {name: 'q'}, spec: {hard: {'requests.cpu': '8'}}})
    assert.equal(containsAll(live, removed), false)
  })
})

describe('mesh reconciler: status', () => {
  it('counts the domains naming the mesh and the products in those domains', () => {
    const mesh = partial<Parameters<typeof meshStatus>[0]>({metadata: {name: 'acme', generation: 2}})
    const domains = partial<Parameters<typeof meshStatus>[1]>([{metadata: {name: 'sales'}, spec: {mesh: 'acme'}}, {metadata: {name: 'hr'}, spec: {mesh: 'acme'}}, {metadata: {name: 'x'}, spec: {mesh: 'other'}}])
    const products = partial<Parameters<typeof meshStatus>[2]>([{spec: {domain: 'sales'}}, {spec: {domain: 'sales'}}, {spec: {domain: 'x'}}])
    const status = meshStatus(mesh, domains, products, new Date('2026-01-01T00:00:00Z'))
    assert.deepEqual([status.observedGeneration, status.domains, status.products], [2, 2, 2])
    assert.deepEqual(meshStatus({...mesh, status}, domains, products, new Date('2026-02-01T00:00:00Z')), status, 'unchanged counts, unchanged status')
  })
})

describe('operator run: options', () => {
  it('reads --only as a list of loops and refuses unknown ones as a usage error', () => {
    assert.deepEqual(parseLoops('product'), ['product'])
    assert.deepEqual(parseLoops('mesh, product,product'), ['mesh', 'product'])
    assert.deepEqual(parseLoops(undefined), ['mesh', 'domain', 'product'])
    assert.throws(() => parseLoops('products'), (error: any) => error.exit === 2 && /mesh, domain, product/.test(error.message))
  })

  it('renders counters and gauges in the Prometheus text format', () => {
    const metrics = new Metrics()
    metrics.count('dappmesh_reconciles_total', {controller: 'product'})
    metrics.count('dappmesh_reconciles_total', {controller: 'product'})
    metrics.gauge('dappmesh_queue_depth', {controller: 'product'}, () => 7)
    assert.equal(metrics.render(), '# TYPE dappmesh_reconciles_total counter\ndappmesh_reconciles_total{controller="product"} 2\n# TYPE dappmesh_queue_depth gauge\ndappmesh_queue_depth{controller="product"} 7\n')
  })
})
