import assert from 'node:assert/strict'

import {type CatalogState, CATALOG_KEY_NAME} from '../../src/core/reconcile/mesh/catalog.js'
import {CatalogBuilder, desiredCatalog, shardOf} from '../../src/core/reconcile/mesh/catalog-shards.js'
import {generatedState} from '../helpers/catalog-state.js'

let version = 1_000_000
/** `object` as the API server returns it after a change: a new object with a new resourceVersion. */
function changed<T extends {metadata: {resourceVersion?: string}}>(object: T, change: (copy: T) => void): T {
  const copy = structuredClone(object)
  copy.metadata.resourceVersion = String(++version)
  change(copy)
  return copy
}

/** Builds `state` with a builder that built `before` (rebuilding from changes), and from scratch: the same catalog. */
function rebuilt(builder: CatalogBuilder, state: CatalogState) {
  const incremental = builder.build(state, {currentShards: 8, targetBytes: 16 * 1024})
  assert.deepEqual(incremental, desiredCatalog(state, {currentShards: 8, targetBytes: 16 * 1024}))
  return incremental
}

describe('the mesh catalog built again from what changed', () => {
  let state: CatalogState
  let builder: CatalogBuilder

  beforeEach(() => {
    state = generatedState({ports: 400, domains: 4})
    builder = new CatalogBuilder()
    builder.build(state, {currentShards: 8, targetBytes: 16 * 1024})
    assert.equal(builder.remade, 400)
  })

  it('makes no entry again when nothing changed, and returns the very same ConfigMaps', () => {
    const first = builder.build(state, {currentShards: 8, targetBytes: 16 * 1024})
    const again = rebuilt(builder, state)
    assert.equal(builder.remade, 0)
    assert.ok(again.shards.every((shard, i) => shard === first.shards[i]))
    assert.equal(again.index, first.index)
    assert.equal(builder.applied(again.shards[0]), builder.applied(first.shards[0]), 'the applied hash is computed once per ConfigMap')
  })

  it('makes again only the entry of a port that changed, and only its product\'s shard', () => {
    const first = builder.build(state, {currentShards: 8, targetBytes: 16 * 1024})
    const i = 123
    state.outputPorts[i] = changed(state.outputPorts[i], (p) => (p.spec!.entity = 'renamed'))
    const after = rebuilt(builder, state)
    assert.equal(builder.remade, 1)
    const shard = shardOf(state.outputPorts[i].metadata.labels!['dappmesh.io/product'], after.shards.length)
    assert.deepEqual(after.shards.flatMap((s, j) => (s === first.shards[j] ? [] : [j])), [shard])
    assert.match(after.shards[shard].data[CATALOG_KEY_NAME], /"entity":"renamed"/)
  })

  it('treats a copy of an object at the same resourceVersion (a relist) as no change', () => {
    state.outputPorts = state.outputPorts.map((p) => structuredClone(p))
    state.products = state.products.map((p) => structuredClone(p))
    rebuilt(builder, state)
    assert.equal(builder.remade, 0)
  })

  it('makes again every entry that reads a product, domain, contract or consumer that changed', () => {
    // product-00005 moves from domain-1 to domain-3.
    state.products[5] = changed(state.products[5], (p) => (p.spec!.domain = 'domain-3'))
    rebuilt(builder, state)
    assert.equal(builder.remade, 5, 'the product\'s 5 ports')

    state.domains[1] = changed(state.domains[1], (d) => (d.spec!.mesh = 'another'))
    const after = rebuilt(builder, state)
    assert.equal(builder.remade, 100 - 5, 'the ports of the products in domain-1, less the one moved away')
    assert.match(after.shards.map((s) => s.data[CATALOG_KEY_NAME]).join(''), /"mesh":"another"/)

    state.contracts[42] = changed(state.contracts[42], (c) => ((c.spec as {document: {version: string}}).document.version = '9.9.9'))
    rebuilt(builder, state)
    assert.equal(builder.remade, 1)

    // An InputPort that reads another port: the entries of the port it read and the one it reads now.
    state.inputPorts[0] = changed(state.inputPorts[0], (p) => (p.spec!.source = {...p.spec!.source!, port: 'entity1-api'}))
    rebuilt(builder, state)
    assert.equal(builder.remade, 2)
  })

  it('drops the entries of ports that are gone, and those their consumers read', () => {
    state.outputPorts.splice(10, 3)
    state.inputPorts.splice(0, 1)
    const after = rebuilt(builder, state)
    assert.equal(builder.remade, 3 + 1)
    assert.equal(after.shards.reduce((n, s) => n + JSON.parse(s.data[CATALOG_KEY_NAME]).outputPorts.length, 0), 397)
  })

  it('fills in a product, contract and domain that come after their ports', () => {
    const late = {...state, products: state.products.slice(1), contracts: state.contracts.slice(5), domains: state.domains.slice(1)}
    const fresh = new CatalogBuilder()
    fresh.build(late, {currentShards: 8, targetBytes: 16 * 1024})
    rebuilt(fresh, state)
    // domain-0's 20 products' ports, product-00000's among them.
    assert.equal(fresh.remade, 100)
  })

  it('makes again every time an entry read from objects without a resourceVersion', () => {
    const small = generatedState({ports: 10})
    for (const port of small.outputPorts) delete port.metadata.resourceVersion
    const unversioned = new CatalogBuilder()
    unversioned.build(small)
    unversioned.build(small)
    assert.equal(unversioned.remade, 10)
  })
})
