import {createHash} from 'node:crypto'
import {isDeepStrictEqual} from 'node:util'

import type {ObjectMeta, OwnerReference} from '../../kube/objects.js'
import {API_VERSION} from '../../model/kinds.js'
import type {DataContract, DataDomain, DataProduct, InputPort, OutputPort} from '../../model/types.js'
import {MANAGED_BY_LABEL, PART_OF_LABEL} from '../../render/render.js'
import {FIELD_MANAGER} from '../product/desired.js'
import {withAppliedHash} from '../matches.js'
import {type Catalog, type CatalogLookups, type CatalogState, type EntrySources, type InCluster, CATALOG_KEY_NAME, CATALOG_LABEL, CATALOG_NAME, CATALOG_NAMESPACE, byText, catalogEntry, entrySources} from './catalog.js'
import {SeenVersions, type VersionChange} from './catalog-versions.js'

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

/** One entry as a shard holds it, with what places and orders it. */
interface Line {
  hash: number
  product: string | null
  /** the catalog's order (byEntry): namespace, product, port */
  order: string
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

function lineOf(sources: EntrySources, hashes: Map<string | null, number>): Line {
  const entry = catalogEntry(sources)
  const text = JSON.stringify(entry)
  let hash = hashes.get(entry.product)
  if (hash === undefined) {
    hash = productHash(entry.product)
    hashes.set(entry.product, hash)
  }
  return {hash, product: entry.product, order: `${entry.namespace}/${entry.product}/${entry.port}`, text, bytes: Buffer.byteLength(text)}
}

const byOrder = (a: Line, b: Line) => byText(a.order, b.order)

/** A shard as last built: its lines (by identity), and its text. */
interface BuiltShard {
  members: Set<Line>
  text: string
}

/** What an entry reads besides its port, as dependency keys: its product, domain and contract, and who reads it. */
function dependencies({keys}: EntrySources): string[] {
  const reads: string[] = []
  for (const kind of ['product', 'domain', 'contract', 'consumers'] as const) if (keys[kind] !== undefined) reads.push(`${kind}:${keys[kind]}`)
  return reads
}

/** The key consumersOf groups an InputPort under (catalogLookups), if it reads a product. */
function sourceKey(input: InCluster<InputPort> | undefined): string | undefined {
  const source = input?.spec?.source
  return source?.type === 'product' ? `${source.product}/${source.port}` : undefined
}

const namespaced = (object: {metadata: ObjectMeta}) => `${object.metadata.namespace}/${object.metadata.name}`

/**
 * The desired catalog, kept from one reconcile of the mesh loop to the next and built again from
 * what changed since (by resourceVersion): an entry is made again only when its port, product,
 * domain, contract or one of its consumers changed, came or went; a shard's text only when its
 * entries differ; and an unchanged ConfigMap is the same object as before, so its applied hash is
 * computed once. Measured at 10,000 ports (bench/catalog.js): building everything costs about 200
 * ms CPU, which each coalesced reconcile used to pay. Holds the entries of the last build (about
 * the catalog's size: 4 MB at 10,000 ports). Not for concurrent use.
 */
export class CatalogBuilder {
  private readonly seen = {
    products: new SeenVersions<InCluster<DataProduct>>(namespaced),
    domains: new SeenVersions<InCluster<DataDomain>>((d) => d.metadata.name),
    contracts: new SeenVersions<InCluster<DataContract>>(namespaced),
    outputPorts: new SeenVersions<InCluster<OutputPort>>(namespaced),
    inputPorts: new SeenVersions<InCluster<InputPort>>(namespaced),
  }

  /** catalogLookups of the state last built, kept up to date */
  private readonly lookups: CatalogLookups = {products: new Map(), domains: new Map(), contracts: new Map(), consumersOf: new Map()}
  /** OutputPort `<namespace>/<name>` -> the port */
  private readonly ports = new Map<string, InCluster<OutputPort>>()
  /** OutputPort `<namespace>/<name>` -> its line, and the keys of what it read (dependencies) */
  private readonly lines = new Map<string, {line: Line; reads: string[]}>()
  /** dependency key -> the OutputPorts whose entries read it */
  private readonly readers = new Map<string, string[]>()
  /** product name -> productHash, computed once */
  private readonly hashes = new Map<string | null, number>()
  /** `<shard count>/<shard>` -> the shard as last built */
  private shards = new Map<string, BuiltShard>()
  /** ConfigMap name -> the last object built for it, and its owners as text */
  private readonly maps = new Map<string, {owners: string; object: CatalogConfigMap}>()
  private readonly hashed = new WeakMap<CatalogConfigMap, CatalogConfigMap>()
  /** how many entries the last build made (the others were kept) */
  remade = 0

  build(state: CatalogState, options: {currentShards?: number; targetBytes?: number} = {}): DesiredCatalog {
    const owners = state.meshes
      .map((mesh) => ({apiVersion: API_VERSION, kind: 'DataMesh', name: mesh.metadata.name, uid: mesh.metadata.uid!}))
      .sort((a, b) => byText(a.name, b.name))
    const stale = this.remake(state)
    this.remade = stale.size
    const all = [...this.lines.values()].map((l) => l.line)
    const count = shardCount(all, options.currentShards, options.targetBytes)
    const buckets: Line[][] = Array.from({length: count}, () => [])
    for (const line of all) buckets[line.hash % count].push(line)
    const names = buckets.map((_, i) => shardName(i))
    const index: CatalogIndex = {version: CATALOG_FORMAT, key: 'sha256(product)', shards: count, names}
    const ownersText = JSON.stringify(owners)
    const result: DesiredCatalog = {index: this.configMap(CATALOG_NAME, 'index', owners, ownersText, {[INDEX_KEY_NAME]: `${JSON.stringify(index)}\n`}), names, shards: [], oversized: [], bytes: 0}
    const shards = new Map<string, BuiltShard>()
    for (const [i, bucket] of buckets.entries()) {
      const before = this.shards.get(`${count}/${i}`)
      const same = before !== undefined && before.members.size === bucket.length && bucket.every((line) => before.members.has(line))
      const built = same ? before : {members: new Set(bucket), text: shardText(i, count, bucket.sort(byOrder))}
      shards.set(`${count}/${i}`, built)
      const bytes = Buffer.byteLength(built.text)
      if (bytes > SHARD_MAX_BYTES) {
        result.oversized.push({name: names[i], bytes, products: [...new Set(bucket.map((l) => l.product ?? '(none)'))].sort()})
        continue
      }
      result.bytes += bytes
      result.shards.push(this.configMap(names[i], 'shard', owners, ownersText, {[CATALOG_KEY_NAME]: built.text}))
    }
    this.shards = shards
    for (const name of this.maps.keys()) if (name !== CATALOG_NAME && !names.includes(name)) this.maps.delete(name)
    return result
  }

  /** Brings the lookups and the lines up to date with `state`; returns the OutputPorts whose entries were made again. */
  private remake(state: CatalogState): Set<string> {
    const stale = new Set<string>()
    const readersOf = (dependency: string) => {
      for (const port of this.readers.get(dependency) ?? []) stale.add(port)
    }
    const track = <T extends {metadata: ObjectMeta}>(changes: VersionChange<T>[], lookup: Map<string, T>, dependency: string) => {
      for (const {key, after} of changes) {
        if (after) lookup.set(key, after)
        else lookup.delete(key)
        readersOf(`${dependency}:${key}`)
      }
    }
    track(this.seen.products.changes(state.products), this.lookups.products, 'product')
    track(this.seen.domains.changes(state.domains), this.lookups.domains, 'domain')
    track(this.seen.contracts.changes(state.contracts), this.lookups.contracts, 'contract')
    for (const {before, after} of this.seen.inputPorts.changes(state.inputPorts)) {
      // consumersOf lists each InputPort under the port it reads: out of the old list, into the new.
      const was = sourceKey(before)
      const is = sourceKey(after)
      if (was !== undefined) {
        const list = (this.lookups.consumersOf.get(was) ?? []).filter((input) => input !== before)
        if (list.length > 0) this.lookups.consumersOf.set(was, list)
        else this.lookups.consumersOf.delete(was)
        readersOf(`consumers:${was}`)
      }
      if (is !== undefined && after) {
        this.lookups.consumersOf.set(is, [...(this.lookups.consumersOf.get(is) ?? []), after])
        readersOf(`consumers:${is}`)
      }
    }
    for (const {key, after} of this.seen.outputPorts.changes(state.outputPorts)) {
      if (after) this.ports.set(key, after)
      else this.ports.delete(key)
      stale.add(key)
    }
    for (const key of stale) {
      for (const dependency of this.lines.get(key)?.reads ?? []) {
        const ports = this.readers.get(dependency)?.filter((port) => port !== key) ?? []
        if (ports.length > 0) this.readers.set(dependency, ports)
        else this.readers.delete(dependency)
      }
      this.lines.delete(key)
      const port = this.ports.get(key)
      if (!port) continue
      const sources = entrySources(port, this.lookups)
      const reads = dependencies(sources)
      this.lines.set(key, {line: lineOf(sources, this.hashes), reads})
      for (const dependency of reads) {
        const ports = this.readers.get(dependency)
        if (ports) ports.push(key)
        else this.readers.set(dependency, [key])
      }
    }
    // Names of products long gone need no hash.
    if (this.hashes.size > 2 * this.lookups.products.size + 64) this.hashes.clear()
    return stale
  }

  /** `object` (one this builder returned) with its applied hash (matches.ts), computed once per object. */
  applied(object: CatalogConfigMap): CatalogConfigMap {
    let hashed = this.hashed.get(object)
    if (!hashed) {
      hashed = withAppliedHash(object)
      this.hashed.set(object, hashed)
    }
    return hashed
  }

  /** The ConfigMap, the same object as last time when nothing in it changed. */
  private configMap(name: string, role: 'index' | 'shard', owners: OwnerReference[], ownersText: string, data: Record<string, string>): CatalogConfigMap {
    const before = this.maps.get(name)
    if (before && before.owners === ownersText && isDeepStrictEqual(before.object.data, data)) return before.object
    const object = configMap(name, role, owners, data)
    this.maps.set(name, {owners: ownersText, object})
    return object
  }
}

/**
 * The index and shard ConfigMaps of the catalog of `state`. Every DataMesh owns each of them (a
 * namespaced object may have cluster-scoped owners), so the garbage collector removes the catalog
 * with the last mesh; none of them is its controller, as no single mesh is. The index is named as
 * the single ConfigMap of format 1 was: applying it (same field manager) drops that format's
 * catalog.json from it, so a catalog of the previous version is replaced on the first reconcile.
 * Shards hold their entries in the catalog's order (byEntry).
 */
export function desiredCatalog(state: CatalogState, options: {currentShards?: number; targetBytes?: number} = {}): DesiredCatalog {
  return new CatalogBuilder().build(state, options)
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
