import {isDeepStrictEqual} from 'node:util'

import {objectPath, resourcePath} from '../../kube/paths.js'
import type {KubeRest} from '../../kube/rest.js'
import {API_VERSION} from '../../model/kinds.js'
import {mergeConditions} from '../conditions.js'
import {Controller, type Log, type ReconcileContext} from '../controller.js'
import type {Metrics} from '../metrics.js'

/** A DataMesh's status: how many domains name it and how many products live in those domains. */
export function meshStatus(mesh: any, domains: any[], products: any[], now = new Date()): any {
  const mine = domains.filter((d) => d.spec?.mesh === mesh.metadata.name).map((d) => d.metadata.name)
  const names = new Set(mine)
  const count = products.filter((p) => names.has(p.spec?.domain)).length
  const generation = mesh.metadata.generation ?? 0
  return {
    observedGeneration: generation,
    domains: mine.length,
    products: count,
    conditions: mergeConditions(mesh.status?.conditions, [{type: 'Ready', status: 'True', reason: 'Counted', message: `${mine.length} domains, ${count} products`, observedGeneration: generation}], now),
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

/** The mesh loop (this version: status counts; the catalog ConfigMap is not made yet). */
export function meshController(rest: KubeRest, options: {log?: Log; metrics?: Metrics} = {}): Controller {
  // Called only on events, which come after the controller exists.
  const meshOfDomain = (domainName: string): string[] => {
    const mesh = controller.informers.get('DataDomain')!.get(domainName)?.spec?.mesh
    return mesh ? [mesh] : []
  }
  const controller: Controller = new Controller({
    name: 'mesh',
    rest,
    log: options.log,
    metrics: options.metrics,
    concurrency: 1,
    primary: {name: 'DataMesh', path: resourcePath(API_VERSION, 'DataMesh')},
    secondary: [
      {name: 'DataDomain', path: resourcePath(API_VERSION, 'DataDomain'), keysFor: (d) => (d.spec?.mesh ? [d.spec.mesh] : [])},
      {name: 'DataProduct', path: resourcePath(API_VERSION, 'DataProduct'), keysFor: (p) => meshOfDomain(p.spec?.domain)},
    ],
    reconcile: (key, ctx) => reconcileMesh(rest, key, ctx),
  })
  return controller
}
