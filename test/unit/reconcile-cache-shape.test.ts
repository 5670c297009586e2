import assert from 'node:assert/strict'

import type {KubeObject} from '../../src/core/kube/objects.js'
import {StringTable, cacheShape} from '../../src/core/reconcile/cache-shape.js'
import {containsAll} from '../../src/core/reconcile/matches.js'
import {componentOf} from '../../src/core/reconcile/product/status.js'

/** One object as the API server sends it (through JSON, so no string is shared by the literal). */
const fromWire = <T>(object: T): T => JSON.parse(JSON.stringify(object)) as T

const statefulSet = () =>
  fromWire({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {
      namespace: 'sales',
      name: 'orders--operational',
      uid: 'u-1',
      resourceVersion: '7',
      generation: 2,
      labels: {'dappmesh.io/product': 'orders'},
      ownerReferences: [{apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataProduct', name: 'orders', uid: 'p-1', controller: true}],
      managedFields: [{manager: 'dappmesh-operator', operation: 'Apply', fieldsV1: {'f:spec': {}}}],
    },
    spec: {replicas: 1, serviceName: 'orders--operational', template: {spec: {containers: [{name: 'db', image: 'postgres:16', imagePullPolicy: 'IfNotPresent'}]}}},
    status: {observedGeneration: 2, replicas: 1, readyReplicas: 1, updatedReplicas: 1, availableReplicas: 1, currentRevision: 'r-1', updateRevision: 'r-1', conditions: [{type: 'x', status: 'True'}]},
  })

describe('what the operator caches of each kind (cache-shape)', () => {
  it('drops managedFields of every object, of a kind it does not know too', () => {
    const object = fromWire({apiVersion: 'example.com/v1', kind: 'Widget', metadata: {name: 'w', managedFields: [{manager: 'm'}]}, spec: {a: 1}, status: {b: 2}})
    assert.deepEqual(cacheShape(object), {apiVersion: 'example.com/v1', kind: 'Widget', metadata: {name: 'w'}, spec: {a: 1}, status: {b: 2}})
  })

  it("keeps of a workload's status what its readiness is made of, and the same readiness follows from it", () => {
    const live = statefulSet()
    const before = componentOf({kind: 'StatefulSet', metadata: {name: 'orders--operational'}}, live)
    const cached = cacheShape(statefulSet())
    assert.deepEqual(cached.status, {observedGeneration: 2, readyReplicas: 1, updatedReplicas: 1})
    assert.deepEqual(componentOf({kind: 'StatefulSet', metadata: {name: 'orders--operational'}}, cached), before)
  })

  it('keeps every spec field and the metadata a reconcile compares: a child applied unchanged still matches its cached copy', () => {
    const cached = cacheShape(statefulSet())
    const desired = {apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: {namespace: 'sales', name: 'orders--operational', labels: {'dappmesh.io/product': 'orders'}}, spec: {replicas: 1, serviceName: 'orders--operational', template: {spec: {containers: [{name: 'db', image: 'postgres:16', imagePullPolicy: 'IfNotPresent'}]}}}}
    assert.ok(containsAll(cached, desired))
    assert.deepEqual(cached.metadata.ownerReferences, statefulSet().metadata.ownerReferences)
    assert.equal(cached.metadata.uid, 'u-1')
    assert.equal(cached.metadata.generation, 2)
  })

  it("keeps no Secret's values, only whose it is", () => {
    const secret = fromWire({apiVersion: 'v1', kind: 'Secret', metadata: {namespace: 'sales', name: 'orders--operational-credentials', labels: {'dappmesh.io/product': 'orders'}}, data: {password: 'c2VjcmV0'}, stringData: {user: 'u'}, type: 'Opaque'})
    assert.deepEqual(cacheShape(secret), {apiVersion: 'v1', kind: 'Secret', metadata: {namespace: 'sales', name: 'orders--operational-credentials', labels: {'dappmesh.io/product': 'orders'}}, type: 'Opaque'})
  })

  it("keeps the status of the operator's own kinds whole (it writes them only when they change), and a Namespace's phase", () => {
    const product = fromWire({apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataProduct', metadata: {name: 'orders'}, spec: {domain: 'sales'}, status: {observedGeneration: 1, conditions: [{type: 'Ready', status: 'True'}], components: [{kind: 'Service', name: 's', ready: true, message: 'exists'}]}})
    assert.deepEqual(cacheShape(fromWire(product)).status, product.status)
    const namespace = fromWire({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'sales'}, spec: {finalizers: ['kubernetes']}, status: {phase: 'Terminating', conditions: [{type: 'NamespaceDeletionContentFailure'}]}})
    assert.deepEqual(cacheShape(namespace).status, {phase: 'Terminating'})
  })

  it('drops the status of the kinds whose status no reconcile reads', () => {
    const service = fromWire({apiVersion: 'v1', kind: 'Service', metadata: {name: 's'}, spec: {ports: [{port: 80}]}, status: {loadBalancer: {}}})
    assert.deepEqual(cacheShape(service), {apiVersion: 'v1', kind: 'Service', metadata: {name: 's'}, spec: {ports: [{port: 80}]}})
  })

  it('makes objects share one copy of each repeated string value, but not of uids, versions and timestamps', () => {
    const strings = new StringTable()
    const a = cacheShape(statefulSet(), strings)
    const b = cacheShape(statefulSet(), strings)
    // Equal strings are indistinguishable in JavaScript: the table's size says what it holds.
    const held = strings.size
    cacheShape(statefulSet(), strings)
    assert.equal(strings.size, held, 'a third copy of the same object adds nothing to the table')
    assert.deepEqual(a, b)
    const other = statefulSet()
    other.metadata.uid = 'u-2'
    other.metadata.resourceVersion = '8'
    cacheShape(other, strings)
    assert.equal(strings.size, held, 'a new uid and resourceVersion are not kept')
    other.spec.template.spec.containers[0].image = 'postgres:17'
    cacheShape(other, strings)
    assert.equal(strings.size, held + 1, 'a new image is')
  })

  it('forgets all it holds once full, so strings of objects long gone cannot pile up', () => {
    const strings = new StringTable(3)
    for (const value of ['a', 'b', 'c']) strings.once(value)
    assert.equal(strings.size, 3)
    strings.once('d')
    assert.equal(strings.size, 1)
  })

  it('leaves long strings (documents) out of the table', () => {
    const strings = new StringTable(100, 10)
    const object: KubeObject & {data?: Record<string, string>} = fromWire({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'c'}, data: {short: 'abc', long: 'x'.repeat(11)}})
    cacheShape(object, strings)
    assert.equal(strings.size, 4, "'v1', 'ConfigMap', 'c' and 'abc'; nothing of the long value")
  })
})
