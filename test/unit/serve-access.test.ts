import assert from 'node:assert/strict'

import {granted} from '../../src/core/runtime/auth.js'
import type {DataRole} from '../../src/core/model/types.js'

const role = (subjects: DataRole['spec']['subjects'], grants: DataRole['spec']['grants'], namespace?: string): DataRole =>
  ({apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataRole', metadata: {name: 'r', ...(namespace ? {namespace} : {})}, spec: {subjects, grants}}) as DataRole

describe('serve access: which DataRole grants a caller what', () => {
  const alice = {username: 'alice', groups: ['analysts', 'system:authenticated']}
  const sa = {username: 'system:serviceaccount:sales:ingest', groups: ['system:serviceaccounts']}

  it('grants read on a port named by a role of a User subject', () => {
    const roles = [role([{kind: 'User', name: 'alice'}], [{outputPort: 'orders-api', access: 'read'}])]
    assert.equal(granted(roles, alice, {outputPort: 'orders-api', access: 'read'}, null), true)
    assert.equal(granted(roles, alice, {outputPort: 'orders-daily', access: 'read'}, null), false)
  })

  it('matches a Group subject against the groups the TokenReview reports', () => {
    const roles = [role([{kind: 'Group', name: 'analysts'}], [{outputPort: 'orders-api', access: 'read'}])]
    assert.equal(granted(roles, alice, {outputPort: 'orders-api', access: 'read'}, null), true)
    assert.equal(granted(roles, sa, {outputPort: 'orders-api', access: 'read'}, null), false)
  })

  it('matches a ServiceAccount by namespace and name, the namespace defaulting to the role\'s', () => {
    const explicit = [role([{kind: 'ServiceAccount', name: 'ingest', namespace: 'sales'}], [{storage: 'analytics', access: 'write'}])]
    assert.equal(granted(explicit, sa, {storage: 'analytics', access: 'write'}, null), true)
    const inherited = [role([{kind: 'ServiceAccount', name: 'ingest'}], [{storage: 'analytics', access: 'write'}], 'sales')]
    assert.equal(granted(inherited, sa, {storage: 'analytics', access: 'write'}, null), true)
    const elsewhere = [role([{kind: 'ServiceAccount', name: 'ingest'}], [{storage: 'analytics', access: 'write'}], 'billing')]
    assert.equal(granted(elsewhere, sa, {storage: 'analytics', access: 'write'}, null), false)
  })

  it('takes a higher access to include the lower ones, never the other way', () => {
    const admin = [role([{kind: 'User', name: 'alice'}], [{storage: 'analytics', access: 'admin'}])]
    assert.equal(granted(admin, alice, {storage: 'analytics', access: 'write'}, null), true)
    assert.equal(granted(admin, alice, {outputPort: 'orders-api', storage: 'analytics', access: 'read'}, null), true)
    const reader = [role([{kind: 'User', name: 'alice'}], [{storage: 'analytics', access: 'read'}])]
    assert.equal(granted(reader, alice, {storage: 'analytics', access: 'write'}, null), false)
  })

  it("lets the product's own runtime account start its workflows (its CronJobs), and nothing else", () => {
    const own = {username: 'system:serviceaccount:sales:orders-runtime', groups: ['system:serviceaccounts']}
    const other = {username: 'system:serviceaccount:sales:shop-runtime', groups: ['system:serviceaccounts']}
    const trigger = {storage: 'analytics', access: 'write', ownRuntime: true} as const
    assert.equal(granted([], own, trigger, 'sales', 'orders'), true)
    assert.equal(granted([], other, trigger, 'sales', 'orders'), false)
    assert.equal(granted([], own, trigger, 'billing', 'orders'), false)
    assert.equal(granted([], own, {storage: 'analytics', access: 'write'}, 'sales', 'orders'), false)
    assert.equal(granted([], own, {outputPort: 'orders-api', access: 'read'}, 'sales', 'orders'), false)
  })
})
