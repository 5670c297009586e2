import assert from 'node:assert/strict'

import {type CatalogEntry, CATALOG_KEY_NAME, CATALOG_LABEL, CATALOG_NAME} from '../../src/core/reconcile/mesh/catalog.js'
import {
  type CatalogConfigMap,
  type CatalogShard,
  desiredCatalog,
  INDEX_KEY_NAME,
  MAX_SHARDS,
  parseIndex,
  SHARD_MAX_BYTES,
  SHARD_NAMES,
  SHARD_TARGET_BYTES,
  shardOf,
  shardTargetBytes,
} from '../../src/core/reconcile/mesh/catalog-shards.js'
import {MANAGED_BY_LABEL} from '../../src/core/render/render.js'
import {generatedState} from '../helpers/catalog-state.js'

const MiB = 1024 * 1024
const shardOfMap = (map: CatalogConfigMap) => JSON.parse(map.data[CATALOG_KEY_NAME]) as CatalogShard
const entriesOf = (maps: CatalogConfigMap[]) => maps.flatMap((m) => shardOfMap(m).outputPorts)

describe('the mesh catalog in shards', () => {
  describe('at 10,000 ports', () => {
    const state = generatedState({ports: 10_000})
    const desired = desiredCatalog(state)

    it('writes every ConfigMap under 1 MiB serialized, each shard under the target size', () => {
      assert.equal(desired.oversized.length, 0)
      for (const map of [desired.index, ...desired.shards]) assert.ok(JSON.stringify(map).length < MiB, `${map.metadata.name}: ${JSON.stringify(map).length} bytes`)
      for (const map of desired.shards) assert.ok(Buffer.byteLength(map.data[CATALOG_KEY_NAME]) <= SHARD_TARGET_BYTES, map.metadata.name)
      // The whole catalog would not fit one ConfigMap: sharding is what makes it fit.
      assert.ok(desired.bytes > MiB, `the catalog is ${desired.bytes} bytes`)
    })

    it('lists every port exactly once, in the shard its product hashes to', () => {
      const index = parseIndex(desired.index.data[INDEX_KEY_NAME])!
      assert.equal(index.shards, desired.shards.length)
      assert.deepEqual(index.names, desired.shards.map((s) => s.metadata.name))
      const seen = new Set<string>()
      for (const map of desired.shards) {
        const shard = shardOfMap(map)
        assert.equal(shard.shards, index.shards)
        for (const entry of shard.outputPorts) {
          assert.equal(shardOf(entry.product, index.shards), shard.shard, `${entry.product} in ${map.metadata.name}`)
          seen.add(`${entry.namespace}/${entry.product}/${entry.port}`)
        }
      }
      assert.equal(seen.size, 10_000)
      assert.equal(entriesOf(desired.shards).length, 10_000)
    })

    it('rewrites only the changed product\'s shard when one product gains a port, and keeps the index', () => {
      const changed = generatedState({ports: 10_000})
      const product = changed.products[1234].metadata
      changed.outputPorts.push({metadata: {name: `${product.name}.extra-api`, namespace: product.namespace, labels: product.labels}, spec: {entity: 'extra', type: 'api', schema: 'extra@1.0.0/api'}})
      const after = desiredCatalog(changed, {currentShards: desired.shards.length})
      const differing = after.shards.filter((s, i) => s.data[CATALOG_KEY_NAME] !== desired.shards[i].data[CATALOG_KEY_NAME]).map((s) => s.metadata.name)
      assert.deepEqual(differing, [SHARD_NAMES[shardOf(product.name, desired.shards.length)]])
      assert.deepEqual(after.index, desired.index)
    })

    it('gives the same bytes for the same mesh, whatever the order the caches list it in', () => {
      const shuffled = generatedState({ports: 10_000})
      shuffled.outputPorts.reverse()
      shuffled.inputPorts.reverse()
      shuffled.products.reverse()
      assert.deepEqual(desiredCatalog(shuffled), desired)
    })
  })

  it('labels every ConfigMap as the catalog\'s, owned by every mesh, with names within Kubernetes\' limits', () => {
    const state = generatedState({ports: 40})
    state.meshes.push({metadata: {name: 'another', uid: '5e0c1d6e-0000-4000-8000-000000000002'}, spec: {}})
    const desired = desiredCatalog(state, {targetBytes: 4096})
    assert.ok(desired.shards.length > 1)
    assert.equal(desired.index.metadata.name, CATALOG_NAME)
    for (const map of [desired.index, ...desired.shards]) {
      assert.ok(map.metadata.labels[CATALOG_LABEL])
      assert.equal(map.metadata.labels[MANAGED_BY_LABEL], 'dappmesh-operator')
      assert.deepEqual(map.metadata.ownerReferences.map((o) => o.name), ['another', 'mesh'])
      assert.match(map.metadata.name, /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/)
    }
    assert.equal(SHARD_NAMES.length, MAX_SHARDS)
    assert.ok(SHARD_NAMES.every((name) => name.length <= 63))
  })

  it('holds a small mesh in one shard', () => {
    const desired = desiredCatalog(generatedState({ports: 12}))
    assert.equal(desired.shards.length, 1)
    assert.equal(entriesOf(desired.shards).length, 12)
  })

  it('keeps its shard count while the catalog shrinks a little, and halves it only once half as many shards would be half full', () => {
    const target = 16 * 1024
    const grown = desiredCatalog(generatedState({ports: 400}), {targetBytes: target})
    const count = grown.shards.length
    assert.ok(count >= 4, `${count} shards`)
    assert.equal(desiredCatalog(generatedState({ports: 300}), {currentShards: count, targetBytes: target}).shards.length, count)
    const few = desiredCatalog(generatedState({ports: 20}), {currentShards: count, targetBytes: target})
    assert.ok(few.shards.length < count, `${few.shards.length} shards for 20 ports`)
    assert.equal(entriesOf(few.shards).length, 20)
  })

  it('reports a shard it cannot write (one product with more ports than 1 MiB holds) and writes the others', () => {
    const state = generatedState({ports: 3000, portsPerProduct: 3000, domains: 1})
    const small = generatedState({ports: 10, prefix: 'small'})
    state.products.push(...small.products)
    state.outputPorts.push(...small.outputPorts)
    const desired = desiredCatalog(state)
    assert.equal(desired.shards.length + desired.oversized.length, MAX_SHARDS)
    assert.deepEqual(desired.oversized.map((o) => o.products), [['product-00000']])
    assert.ok(desired.oversized[0].bytes > SHARD_MAX_BYTES)
    const written = entriesOf(desired.shards).map((e: CatalogEntry) => e.product)
    assert.ok(!written.includes('product-00000'))
    assert.equal(written.length, 10)
  })

  it('takes its target size from $DAPPMESH_CATALOG_SHARD_BYTES, ignoring values it cannot use', () => {
    assert.equal(shardTargetBytes({DAPPMESH_CATALOG_SHARD_BYTES: '65536'}), 65_536)
    for (const bad of ['', 'lots', '-5', '512', '1.5', String(2 * MiB)]) assert.equal(shardTargetBytes({DAPPMESH_CATALOG_SHARD_BYTES: bad}), SHARD_TARGET_BYTES, bad)
  })

  it('reads no index from a damaged or previous-format index.json', () => {
    for (const text of [undefined, '', '{', '{"shards":0,"names":[]}', '{"shards":2,"names":["a"]}', '{"outputPorts":[]}']) assert.equal(parseIndex(text), undefined, String(text))
    assert.deepEqual(parseIndex('{"version":2,"key":"sha256(product)","shards":1,"names":["dappmesh-catalog-00"]}')?.names, ['dappmesh-catalog-00'])
  })
})
