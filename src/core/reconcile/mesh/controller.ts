import {isDeepStrictEqual} from 'node:util'

import {objectPath, resourcePath} from '../../kube/paths.js'
import {KubeApiError, type KubeRest} from '../../kube/rest.js'
import type {DappmeshStatus, KubeObject, Stored} from '../../kube/types.js'
import {API_VERSION} from '../../model/kinds.js'
import type {DataDomain, DataMesh, DataProduct} from '../../model/types.js'
import {mergeConditions} from '../conditions.js'
import {Controller, type Log, type ReconcileContext} from '../controller.js'
import {OwnWrites, changedFor} from '../changes.js'
import {containsAll} from '../matches.js'
import type {Metrics} from '../metrics.js'
import {FIELD_MANAGER} from '../product/desired.js'
import {CATALOG_LABEL, CATALOG_NAME, CATALOG_NAMESPACE} from './catalog.js'
import {type CatalogConfigMap, CatalogBuilder, INDEX_KEY_NAME, parseIndex, SHARD_NAMES, shardTargetBytes} from './catalog-shards.js'

/** The work-queue key of the catalog: not a DNS name, so no DataMesh can have it. */
export const CATALOG_KEY = '@catalog'

/** A DataMesh's status: how many domains name it and how many products live in those domains. */
export function meshStatus(mesh: Stored<DataMesh>, domains: Array<Stored<DataDomain>>, products: Array<Stored<DataProduct>>, now = new Date()): DappmeshStatus {
  const mine = domains.filter((d) => d.spec?.mesh === mesh.metadata.name).map((d) => d.metadata.name)
  const names = new Set(mine)
  const count = products.filter((p) => names.has(p.spec?.domain)).length
  const generation = mesh.metadata.generation ?? 0
  return {
    observedGeneration: generation,
    domains: mine.length,
    products: count,
    conditions: mergeConditions(mesh.status?.conditions, [{type: 'Ready', status: 'True', reason: 'Counted', message: `${mine.length} domain${mine.length === 1 ? '' : 's'}, ${count} product${count === 1 ? '' : 's'}`, observedGeneration: generation}], now),
  }
}

async function reconcileMesh(rest: KubeRest, key: string, ctx: ReconcileContext): Promise<void> {
  const mesh = ctx.informer('DataMesh').get(key)
  if (!mesh || mesh.metadata.deletionTimestamp) return
  const status = meshStatus(mesh, ctx.informer('DataDomain').values(), ctx.informer('DataProduct').values())
  const previous = mesh.status && {observedGeneration: mesh.status.observedGeneration, domains: mesh.status.domains, products: mesh.status.products, conditions: mesh.status.conditions}
  if (isDeepStrictEqual(previous, status)) return
  await rest.request('PATCH', `${objectPath({apiVersion: API_VERSION, kind: 'DataMesh', metadata: {name: mesh.metadata.name}})}/status`, {body: {status}, contentType: 'application/merge-patch+json'})
}

/** Applies a catalog ConfigMap, making the namespace dappmesh-system first when it is missing; returns what the API server answered. */
async function applyInSystemNamespace(rest: KubeRest, object: CatalogConfigMap): Promise<KubeObject> {
  const path = objectPath(object)
  try {
    return await rest.apply<KubeObject>(path, object, {fieldManager: FIELD_MANAGER, force: true})
  } catch (error) {
    if (!(error instanceof KubeApiError && error.status === 404)) throw error
    await rest.request('POST', resourcePath('v1', 'Namespace'), {body: {apiVersion: 'v1', kind: 'Namespace', metadata: {name: CATALOG_NAMESPACE, labels: {'app.kubernetes.io/part-of': 'dappmesh'}}}}).catch((error_) => {
      if (!(error_ instanceof KubeApiError && error_.status === 409)) throw error_
    })
    return rest.apply<KubeObject>(path, object, {fieldManager: FIELD_MANAGER, force: true})
  }
}

/**
 * The catalog's index and shard ConfigMaps (catalog-shards.ts), rebuilt from the caches whenever a
 * port, contract, product, domain or mesh changes; only the ConfigMaps whose content differs are
 * applied. Order matters to readers: shards new to the layout first, then changed shards, then
 * the index, then shards no longer in it are deleted, so a reader holding either index finds its
 * product (readCatalog follows a shard to the layout it was written for). With no DataMesh there
 * is no catalog (its owners are the meshes; the garbage collector removes it with the last one).
 */
async function reconcileCatalog(rest: KubeRest, ctx: ReconcileContext, builder: CatalogBuilder, options: {targetBytes: number; metrics?: Metrics; writes: OwnWrites}): Promise<void> {
  const meshes = ctx.informer('DataMesh').values().filter((m) => !m.metadata.deletionTimestamp)
  if (meshes.length === 0) return
  const live = ctx.informer('CatalogConfigMap')
  const keyOf = (name: string) => `${CATALOG_NAMESPACE}/${name}`
  const desired = builder.build(
    {
      meshes,
      domains: ctx.informer('DataDomain').values(),
      products: ctx.informer('DataProduct').values(),
      outputPorts: ctx.informer('OutputPort').values(),
      inputPorts: ctx.informer('InputPort').values(),
      contracts: ctx.informer('DataContract').values(),
    },
    {currentShards: parseIndex(live.get(keyOf(CATALOG_NAME))?.data?.[INDEX_KEY_NAME])?.shards, targetBytes: options.targetBytes},
  )
  const shards = desired.shards.map((s) => builder.applied(s))
  const fresh = shards.filter((s) => !live.get(keyOf(s.metadata.name)))
  const changed = shards.filter((s) => {
    const object = live.get(keyOf(s.metadata.name))
    return object && !containsAll(object, s)
  })
  const index = builder.applied(desired.index)
  const indexObject = live.get(keyOf(CATALOG_NAME))
  const writes = [...fresh, ...changed, ...(indexObject && containsAll(indexObject, index) ? [] : [index])]
  let bytes = 0
  for (const object of writes) {
    options.writes.wrote(await applyInSystemNamespace(rest, object))
    bytes += Object.values(object.data).reduce((sum, text) => sum + Buffer.byteLength(text), 0)
  }
  // A shard too large to write stays as it was (the index still names it) until its products shrink.
  // Only shard names are deleted: another ConfigMap that merely carries the label is not the catalog's.
  const kept = new Set(desired.names)
  const orphans = live.values().filter((object) => SHARD_NAMES.includes(object.metadata.name) && !kept.has(object.metadata.name))
  for (const orphan of orphans) {
    await rest.delete(objectPath({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: orphan.metadata.name, namespace: CATALOG_NAMESPACE}})).catch((error: unknown) => {
      if (!(error instanceof KubeApiError && error.status === 404)) throw error
    })
  }
  if (writes.length > 0 || orphans.length > 0) {
    options.metrics?.count('dappmesh_catalog_bytes_written_total', {}, bytes)
    ctx.log('info', `catalog: applied ${writes.length} of ${shards.length + 1} ConfigMaps (${bytes} bytes) in ${CATALOG_NAMESPACE}, deleted ${orphans.length}; ${desired.shards.length} shards of ${desired.bytes} bytes, ${meshes.length} meshes`)
  }
  if (desired.oversized.length > 0) {
    const list = desired.oversized.map((o) => `${o.name} (${o.bytes} bytes: ${o.products.join(', ')})`).join('; ')
    throw new Error(`catalog shards over the API server's 1 MiB limit, not written: ${list}; a product with thousands of ports must be split`)
  }
}

/**
 * The mesh loop: each DataMesh's status counts, and the catalog of every OutputPort with its
 * contract and consumers (the index ConfigMap dappmesh-catalog and its shards in dappmesh-system).
 */
const besidesStatus = changedFor()
/**
 * Of a DataProduct the counts and the catalog read only its name and domain: its finalizer, its
 * inventory annotation, a label are no news (measured: the finalizer woke the mesh loop once per product).
 */
const productDomainChanged = (previous: Stored<DataProduct>, next: Stored<DataProduct>): boolean => previous.spec?.domain !== next.spec?.domain

export function meshController(rest: KubeRest, options: {log?: Log; metrics?: Metrics; selector?: string} = {}): Controller {
  // Called only on events, which come after the controller exists.
  const meshOfDomain = (domainName: string): string[] => {
    const mesh = controller.cache('DataDomain').get(domainName)?.spec?.mesh
    return mesh ? [mesh] : []
  }
  const targetBytes = shardTargetBytes()
  // Keeps the last build: a reconcile makes again only the entries and shards that changed.
  const builder = new CatalogBuilder()
  // Its catalog writes come back as events of the CatalogConfigMap watch that are no news.
  const writes = new OwnWrites()
  const controller: Controller = new Controller({
    name: 'mesh',
    rest,
    log: options.log,
    metrics: options.metrics,
    concurrency: 1,
    // Counts and the catalog summarise the whole mesh: while products arrive by the hundred,
    // one reconcile a second instead of one per event (measured: 313 writes for 100 products).
    coalesceMs: 1000,
    // No status but the mesh's own is read, and that only to write it when it changes: a status
    // change (each product's, as it becomes Ready) is no news for the counts or the catalog.
    primary: {name: 'DataMesh', path: resourcePath(API_VERSION, 'DataMesh'), labelSelector: options.selector, keysFor: (m) => [m.metadata.name, CATALOG_KEY], changed: besidesStatus},
    secondary: [
      {name: 'DataDomain', path: resourcePath(API_VERSION, 'DataDomain'), keysFor: (d) => [...(d.spec?.mesh ? [d.spec.mesh] : []), CATALOG_KEY], changed: besidesStatus},
      {name: 'DataProduct', path: resourcePath(API_VERSION, 'DataProduct'), keysFor: (p) => [...meshOfDomain(p.spec?.domain), CATALOG_KEY], changed: productDomainChanged},
      ...(['OutputPort', 'InputPort', 'DataContract'] as const).map((kind) => ({name: kind, path: resourcePath(API_VERSION, kind), keysFor: () => [CATALOG_KEY], changed: besidesStatus})),
      // Only the catalog's own ConfigMaps (index and shards): a hand edit or deletion is put right.
      {name: 'CatalogConfigMap', path: resourcePath('v1', 'ConfigMap', CATALOG_NAMESPACE), labelSelector: CATALOG_LABEL, keysFor: () => [CATALOG_KEY], echo: (object) => writes.echoes(object)},
    ],
    reconcile: (key, ctx) => (key === CATALOG_KEY ? reconcileCatalog(rest, ctx, builder, {targetBytes, metrics: options.metrics, writes}) : reconcileMesh(rest, key, ctx)),
  })
  return controller
}
