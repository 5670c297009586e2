import {createHash} from 'node:crypto'

import type {OwnerReference} from '../../kube/objects.js'
import {API_VERSION} from '../../model/kinds.js'
import {MANAGED_BY_LABEL, PART_OF_LABEL} from '../../render/render.js'
import {FIELD_MANAGER} from '../product/desired.js'
import {type Catalog, type CatalogEntry, type CatalogState, CATALOG_KEY_NAME, CATALOG_LABEL, CATALOG_NAME, CATALOG_NAMESPACE, buildCatalog, byText} from './catalog.js'

/**
 * How the catalog is laid out in ConfigMaps. etcd refuses objects over about 1.5 MiB and the API
 * server ConfigMaps over 1 MiB, so one ConfigMap of every port breaks at a few thousand ports.
 * Instead: an index ConfigMap `dappmesh-catalog` (key index.json: the format and the shard count)
 * and shards `dappmesh-catalog-00` ... (key catalog.json: the entries of the products hashed to
 * that shard). A reader that knows the product reads the index and one shard; a change to one
 * product rewrites only its shard. Products, not domains, pick the shard: a consumer names the
 * product and port it reads, not the producer's domain.
 */

/** The layout's version, in the index and every shard. Version 1 was the single ConfigMap (key catalog.json). */
export const CATALOG_FORMAT = 2
export const INDEX_KEY_NAME = 'index.json'
/**
 * Shards are split once one would exceed this many bytes. Smaller shards mean fewer bytes written
 * per product change, more objects. Measured: 10,000 ports (4 MB of entries) make 32 shards of
 * 107 to 151 KB (powers of two, and the hash spreads products unevenly).
 * $DAPPMESH_CATALOG_SHARD_BYTES overrides it.
 */
export const SHARD_TARGET_BYTES = 256 * 1024
/** The API server refuses a ConfigMap whose data exceed 1 MiB: a shard's entries stay below this, leaving room for its metadata. */
export const SHARD_MAX_BYTES = 1_000_000
/**
 * At most this many shards (a power of two). The Role that lets every workload read the catalog
 * names each ConfigMap (RBAC has no wildcard names), so the names are bounded: 64 shards hold
 * roughly 40,000 ports at the target size, and shards then grow up to the API server's limit
 * (roughly 150,000 ports in all).
 */
export const MAX_SHARDS = 64

/** What index.json holds. */
export interface CatalogIndex {
  version: number
  /** what picks an entry's shard: the first 32 bits (big-endian) of the SHA-256 of its product's name, modulo `shards` */
  key: 'sha256(product)'
  shards: number
  names: string[]
}

/** What a shard's catalog.json holds: its entries and the layout it was written for. */
export interface CatalogShard extends Catalog {
  version: number
  shard: number
  shards: number
}

export interface CatalogConfigMap {
  apiVersion: 'v1'
  kind: 'ConfigMap'
  metadata: {name: string; namespace: string; labels: Record<string, string>; ownerReferences: OwnerReference[]; annotations?: Record<string, string>}
  data: Record<string, string>
}

export interface DesiredCatalog {
  index: CatalogConfigMap
  /** the names of the shards, as the index lists them */
  names: string[]
  /** every shard the index names, except those too large to write */
  shards: CatalogConfigMap[]
  /** shards over SHARD_MAX_BYTES even at MAX_SHARDS (a product with thousands of ports): not written, with the products in them */
  oversized: {name: string; bytes: number; products: string[]}[]
  /** the bytes of every shard's data, for the logs and the bench */
  bytes: number
}

/** The name of shard `i`: dappmesh-catalog-00 ... dappmesh-catalog-63. */
export function shardName(i: number): string {
  return `${CATALOG_NAME}-${String(i).padStart(2, '0')}`
}

/** Every name a shard may have: what the reader Role lists. */
export const SHARD_NAMES: readonly string[] = Array.from({length: MAX_SHARDS}, (_, i) => shardName(i))

/** The hash that places a product: stable across versions and hosts, as writer and reader must agree. */
export function productHash(product: string | null): number {
  return createHash('sha256')
    .update(product ?? '')
    .digest()
    .readUInt32BE(0)
}

/** The shard of `product` among `count` (a power of two). */
export function shardOf(product: string | null, count: number): number {
  return productHash(product) % count
}

/** $DAPPMESH_CATALOG_SHARD_BYTES when it is a whole number between 1,024 and SHARD_MAX_BYTES, else SHARD_TARGET_BYTES. */
export function shardTargetBytes(env: NodeJS.ProcessEnv = process.env): number {
  const bytes = Number(env.DAPPMESH_CATALOG_SHARD_BYTES)
  return Number.isInteger(bytes) && bytes >= 1024 && bytes <= SHARD_MAX_BYTES ? bytes : SHARD_TARGET_BYTES
}

interface Line {
  hash: number
  product: string | null
  text: string
  bytes: number
}

/** What a shard's text adds to its entries: the header and a separator per entry. */
const shardOverhead = (count: number, entries: number) => 64 + String(count).length * 2 + entries * 2

function bucketBytes(lines: Line[], count: number): number[] {
  const sizes: number[] = Array.from({length: count}, () => 0)
  const entries: number[] = Array.from({length: count}, () => 0)
  for (const line of lines) {
    sizes[line.hash % count] += line.bytes
    entries[line.hash % count]++
  }
  return sizes.map((bytes, i) => bytes + shardOverhead(count, entries[i]))
}

/**
 * How many shards: from `current` (the live index's count), doubled while a shard would exceed
 * `target`, halved only while half as many would each be at most half full, so a catalog near a
 * boundary does not flip between layouts (each flip rewrites every shard).
 */
export function shardCount(lines: Line[], current = 1, target = SHARD_TARGET_BYTES): number {
  let count = 1
  while (count < current && count < MAX_SHARDS) count *= 2
  const largest = (n: number) => Math.max(...bucketBytes(lines, n))
  while (count < MAX_SHARDS && largest(count) > target) count *= 2
  while (count > 1 && largest(count / 2) <= target / 2) count /= 2
  return count
}

/** A shard's catalog.json: one entry per line, so `kubectl get` stays readable without the size of indentation. */
function shardText(shard: number, count: number, lines: Line[]): string {
  const body = lines.map((l) => l.text).join(',\n')
  return `{"version":${CATALOG_FORMAT},"shard":${shard},"shards":${count},"outputPorts":[\n${body}\n]}\n`
}

function configMap(name: string, role: 'index' | 'shard', owners: OwnerReference[], data: Record<string, string>): CatalogConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace: CATALOG_NAMESPACE,
      labels: {[CATALOG_LABEL]: role, [MANAGED_BY_LABEL]: FIELD_MANAGER, [PART_OF_LABEL]: 'dappmesh'},
      ownerReferences: owners,
    },
    data,
  }
}

/**
 * The index and shard ConfigMaps of the catalog of `state`. Every DataMesh owns each of them (a
 * namespaced object may have cluster-scoped owners), so the garbage collector removes the catalog
 * with the last mesh; none of them is its controller, as no single mesh is. The index is named as
 * the single ConfigMap of format 1 was: applying it (same field manager) drops that format's
 * catalog.json from it, so a catalog of the previous version is replaced on the first reconcile.
 */
export function desiredCatalog(state: CatalogState, options: {currentShards?: number; targetBytes?: number} = {}): DesiredCatalog {
  const owners = state.meshes
    .map((mesh) => ({apiVersion: API_VERSION, kind: 'DataMesh', name: mesh.metadata.name, uid: mesh.metadata.uid!}))
    .sort((a, b) => byText(a.name, b.name))
  const lines = buildCatalog(state).outputPorts.map((entry: CatalogEntry): Line => {
    const text = JSON.stringify(entry)
    return {hash: productHash(entry.product), product: entry.product, text, bytes: Buffer.byteLength(text)}
  })
  const count = shardCount(lines, options.currentShards, options.targetBytes)
  const buckets: Line[][] = Array.from({length: count}, () => [])
  for (const line of lines) buckets[line.hash % count].push(line)
  const names = buckets.map((_, i) => shardName(i))
  const index: CatalogIndex = {version: CATALOG_FORMAT, key: 'sha256(product)', shards: count, names}
  const result: DesiredCatalog = {index: configMap(CATALOG_NAME, 'index', owners, {[INDEX_KEY_NAME]: `${JSON.stringify(index)}\n`}), names, shards: [], oversized: [], bytes: 0}
  for (const [i, bucket] of buckets.entries()) {
    const text = shardText(i, count, bucket)
    const bytes = Buffer.byteLength(text)
    if (bytes > SHARD_MAX_BYTES) {
      result.oversized.push({name: names[i], bytes, products: [...new Set(bucket.map((l) => l.product ?? '(none)'))].sort()})
      continue
    }
    result.bytes += bytes
    result.shards.push(configMap(names[i], 'shard', owners, {[CATALOG_KEY_NAME]: text}))
  }
  return result
}

/** The index in index.json, or undefined when `text` is not one (missing, format 1, or damaged). */
export function parseIndex(text: string | undefined): CatalogIndex | undefined {
  if (!text) return undefined
  try {
    const index = JSON.parse(text) as CatalogIndex
    const valid = Number.isInteger(index?.shards) && index.shards >= 1 && Array.isArray(index.names) && index.names.length === index.shards
    return valid ? index : undefined
  } catch {
    return undefined
  }
}
