import {isDeepStrictEqual} from 'node:util'

import {objectPath, resourcePath} from '../../kube/paths.js'
import {KubeApiError, type KubeRest} from '../../kube/rest.js'
import type {DappmeshStatus, Stored} from '../../kube/types.js'
import {API_VERSION} from '../../model/kinds.js'
import type {DataDomain, DataMesh, DataProduct} from '../../model/types.js'
import {mergeConditions} from '../conditions.js'
import {Controller, type Log, type ReconcileContext} from '../controller.js'
import {containsAll, withAppliedHash} from '../matches.js'
import type {Metrics} from '../metrics.js'
import {FIELD_MANAGER} from '../product/desired.js'
import {CATALOG_LABEL, CATALOG_NAME, CATALOG_NAMESPACE, desiredCatalogConfigMap} from './catalog.js'

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

/**
 * The catalog ConfigMap, rebuilt from the caches whenever a port, contract, product, domain or
 * mesh changes; applied only when its content differs. With no DataMesh there is no catalog (its
 * owners are the meshes, and the garbage collector removes it with the last one).
 */
async function reconcileCatalog(rest: KubeRest, ctx: ReconcileContext): Promise<void> {
  const meshes = ctx.informer('DataMesh').values().filter((m) => !m.metadata.deletionTimestamp)
  if (meshes.length === 0) return
  const desired = withAppliedHash(desiredCatalogConfigMap({
    meshes,
    domains: ctx.informer('DataDomain').values(),
    products: ctx.informer('DataProduct').values(),
    outputPorts: ctx.informer('OutputPort').values(),
    inputPorts: ctx.informer('InputPort').values(),
    contracts: ctx.informer('DataContract').values(),
  }))
  const live = ctx.informer('CatalogConfigMap').get(`${CATALOG_NAMESPACE}/${CATALOG_NAME}`)
  if (live && containsAll(live, desired)) return
  const path = objectPath(desired)
  try {
    await rest.apply(path, desired, {fieldManager: FIELD_MANAGER, force: true})
  } catch (error) {
    if (!(error instanceof KubeApiError && error.status === 404)) throw error
    // The namespace is missing: make it, then apply again.
    await rest.request('POST', resourcePath('v1', 'Namespace'), {body: {apiVersion: 'v1', kind: 'Namespace', metadata: {name: CATALOG_NAMESPACE, labels: {'app.kubernetes.io/part-of': 'dappmesh'}}}}).catch((error_) => {
      if (!(error_ instanceof KubeApiError && error_.status === 409)) throw error_
    })
    await rest.apply(path, desired, {fieldManager: FIELD_MANAGER, force: true})
  }
  ctx.log('info', `applied ConfigMap ${CATALOG_NAMESPACE}/${CATALOG_NAME} (${desired.metadata.ownerReferences.length} meshes)`)
}

/**
 * The mesh loop: each DataMesh's status counts, and the catalog ConfigMap dappmesh-catalog in
 * dappmesh-system of every OutputPort with its contract and consumers.
 */
export function meshController(rest: KubeRest, options: {log?: Log; metrics?: Metrics; selector?: string} = {}): Controller {
  // Called only on events, which come after the controller exists.
  const meshOfDomain = (domainName: string): string[] => {
    const mesh = controller.cache('DataDomain').get(domainName)?.spec?.mesh
    return mesh ? [mesh] : []
  }
  const controller: Controller = new Controller({
    name: 'mesh',
    rest,
    log: options.log,
    metrics: options.metrics,
    concurrency: 1,
    // Counts and the catalog summarise the whole mesh: while products arrive by the hundred,
    // one reconcile a second instead of one per event (measured: 313 writes for 100 products).
    coalesceMs: 1000,
    primary: {name: 'DataMesh', path: resourcePath(API_VERSION, 'DataMesh'), labelSelector: options.selector, keysFor: (m) => [m.metadata.name, CATALOG_KEY]},
    secondary: [
      {name: 'DataDomain', path: resourcePath(API_VERSION, 'DataDomain'), keysFor: (d) => [...(d.spec?.mesh ? [d.spec.mesh] : []), CATALOG_KEY]},
      {name: 'DataProduct', path: resourcePath(API_VERSION, 'DataProduct'), keysFor: (p) => [...meshOfDomain(p.spec?.domain), CATALOG_KEY]},
      ...(['OutputPort', 'InputPort', 'DataContract'] as const).map((kind) => ({name: kind, path: resourcePath(API_VERSION, kind), keysFor: () => [CATALOG_KEY]})),
      // Only the catalog itself: a hand edit or deletion is put right.
      {name: 'CatalogConfigMap', path: resourcePath('v1', 'ConfigMap', CATALOG_NAMESPACE), labelSelector: CATALOG_LABEL, keysFor: () => [CATALOG_KEY]},
    ],
    reconcile: (key, ctx) => (key === CATALOG_KEY ? reconcileCatalog(rest, ctx) : reconcileMesh(rest, key, ctx)),
  })
  return controller
}
