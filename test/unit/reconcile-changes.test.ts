import assert from 'node:assert/strict'

import type {KubeObject} from '../../src/core/kube/objects.js'
import {changedFor} from '../../src/core/reconcile/changes.js'

type Workload = KubeObject & {spec?: Record<string, unknown>; status?: Record<string, unknown>}

const sts = (rv: string, status: Record<string, unknown>, spec: Record<string, unknown> = {replicas: 1}, labels: Record<string, string> = {app: 'x'}): Workload => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: {namespace: 'ns', name: 'db', resourceVersion: rv, generation: 1, labels},
  spec,
  status,
})

describe('reconcile changes: which modifications are news for a reconcile', () => {
  const besidesStatus = changedFor<Workload>()
  const readiness = changedFor<Workload>((o) => o.status?.readyReplicas ?? 0)

  it('ignores a new resourceVersion and status when the status is not read', () => {
    assert.equal(besidesStatus(sts('1', {replicas: 0}), sts('2', {replicas: 1, readyReplicas: 1})), false)
  })

  it('sees a changed spec', () => {
    assert.equal(besidesStatus(sts('1', {}), sts('2', {}, {replicas: 2})), true)
  })

  it('sees changed metadata (a label edited by hand)', () => {
    assert.equal(besidesStatus(sts('1', {}), sts('2', {}, {replicas: 1}, {app: 'y'})), true)
  })

  it('sees a change of what it reads of the status, and only that', () => {
    assert.equal(readiness(sts('1', {replicas: 0}), sts('2', {replicas: 1, updatedReplicas: 1})), false, 'created, not yet ready: the same conclusion')
    assert.equal(readiness(sts('2', {replicas: 1}), sts('3', {replicas: 1, readyReplicas: 1})), true)
  })
})
