import assert from 'node:assert/strict'

import type {KubeObject} from '../../src/core/kube/objects.js'
import {OwnWrites, changedFor} from '../../src/core/reconcile/changes.js'

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

describe('reconcile changes: the echoes of a controller\'s own writes', () => {
  const object = (uid: string | undefined, rv: string): KubeObject => ({metadata: {namespace: 'ns', name: 'db', uid, resourceVersion: rv}})

  it('takes the event bringing back what a write answered for no news, once', () => {
    const writes = new OwnWrites()
    writes.wrote(object('u1', '7'))
    assert.equal(writes.echoes(object('u1', '7')), true)
    assert.equal(writes.echoes(object('u1', '7')), false, 'a second event of that version (a relist) is news again')
  })

  it('takes another version of the object (someone else\'s change, or an earlier one of its own) for news', () => {
    const writes = new OwnWrites()
    writes.wrote(object('u1', '7'))
    assert.equal(writes.echoes(object('u1', '8')), false)
    assert.equal(writes.echoes(object('u1', '6')), false)
    assert.equal(writes.echoes(object('u2', '7')), false, 'another object of the same version')
  })

  it('remembers nothing of an answer without a uid, and forgets everything once full', () => {
    const writes = new OwnWrites(2)
    writes.wrote(object(undefined, '7'))
    assert.equal(writes.echoes(object(undefined, '7')), false)
    writes.wrote(object('u1', '1'))
    writes.wrote(object('u2', '2'))
    writes.wrote(object('u3', '3'))
    assert.equal(writes.echoes(object('u1', '1')), false, 'forgotten when the third came')
    assert.equal(writes.echoes(object('u3', '3')), true)
  })
})
