import assert from 'node:assert/strict'

import {DesiredMemo, desiredInputs} from '../../src/core/reconcile/product/desired-memo.js'
import type {ProductState} from '../../src/core/reconcile/product/desired.js'
import {partial} from '../helpers/fixtures.js'

const RUNTIME = {image: 'registry.local/dappmesh:1.2.3'}
const object = (name: string, resourceVersion?: string) => ({metadata: {name, namespace: 'sales', resourceVersion}, spec: {}})

function state(overrides: Record<string, unknown> = {}): ProductState {
  return partial<ProductState>({
    product: {metadata: {name: 'orders', namespace: 'sales', uid: 'u-1', generation: 3, resourceVersion: '10'}, spec: {domain: 'sales'}},
    storages: [object('operational', '11')],
    outputPorts: [object('orders-api', '12')],
    inputPorts: [],
    workflows: [],
    contracts: [object('orders-clean', '13')],
    roles: [object('analysts', '14')],
    flows: [],
    ...overrides,
  })
}

describe('product reconciler: what it remembers of desired children between reconciles', () => {
  it('digests the same inputs alike, whatever the product\'s status (its resourceVersion) says', () => {
    const other = state({product: {metadata: {name: 'orders', namespace: 'sales', uid: 'u-1', generation: 3, resourceVersion: '99'}, status: {}}})
    assert.equal(desiredInputs(other, RUNTIME), desiredInputs(state(), RUNTIME))
  })

  it('digests differently when any input changes: a resource\'s version, one added or removed, the product\'s uid or generation, the credentials version, the runtime image', () => {
    const base = desiredInputs(state(), RUNTIME)
    const changed = [
      desiredInputs(state({storages: [object('operational', '20')]}), RUNTIME),
      desiredInputs(state({roles: [object('analysts', '14'), object('ingest', '15')]}), RUNTIME),
      desiredInputs(state({contracts: []}), RUNTIME),
      desiredInputs(state({product: {metadata: {name: 'orders', namespace: 'sales', uid: 'u-2', generation: 3}}}), RUNTIME),
      desiredInputs(state({product: {metadata: {name: 'orders', namespace: 'sales', uid: 'u-1', generation: 4}}}), RUNTIME),
      desiredInputs(state({credentialsVersion: 'abc'}), RUNTIME),
      desiredInputs(state(), {image: 'registry.local/dappmesh:1.2.4'}),
    ]
    for (const [i, digest] of changed.entries()) assert.notEqual(digest, base, `change ${i}`)
    assert.equal(new Set(changed).size, changed.length)
  })

  it('tells a resource moved from one kind to another apart (the same name and version in another list)', () => {
    assert.notEqual(desiredInputs(state({storages: [], flows: [object('operational', '11')]}), RUNTIME), desiredInputs(state(), RUNTIME))
  })

  it('digests nothing (remembers nothing) for a resource without a resourceVersion or a state field of an unknown shape', () => {
    assert.equal(desiredInputs(state({storages: [object('operational')]}), RUNTIME), undefined)
    assert.equal(desiredInputs(state({somethingNew: {a: 1}}), RUNTIME), undefined)
    assert.equal(desiredInputs(state({product: {metadata: {name: 'orders', namespace: 'sales'}}}), RUNTIME), undefined)
  })

  it('gives back what was remembered for the same inputs, and a blank memory for other inputs or another number of children', () => {
    const memo = new DesiredMemo()
    const first = memo.of('sales/orders', 'inputs-1', 2)
    first.hashes[0] = 'h0'
    first.verified[1] = '42'
    assert.equal(memo.of('sales/orders', 'inputs-1', 2), first)
    assert.deepEqual(memo.of('sales/orders', 'inputs-1', 3), {inputs: 'inputs-1', hashes: [undefined, undefined, undefined], verified: [undefined, undefined, undefined]})
    const other = memo.of('sales/orders', 'inputs-2', 3)
    assert.deepEqual([other.hashes, other.verified], [[undefined, undefined, undefined], [undefined, undefined, undefined]])
    assert.deepEqual(memo.of('sales/invoices', 'inputs-2', 3).hashes, [undefined, undefined, undefined], 'another product')
  })

  it('forgets a product', () => {
    const memo = new DesiredMemo()
    memo.of('sales/orders', 'inputs-1', 1).hashes[0] = 'h0'
    memo.forget('sales/orders')
    assert.equal(memo.size, 0)
    assert.deepEqual(memo.of('sales/orders', 'inputs-1', 1).hashes, [undefined])
  })
})
