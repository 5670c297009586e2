import {resourcePath} from '../kube/paths.js'
import {KubeApiError, type KubeRest} from '../kube/rest.js'
import {API_VERSION, KINDS} from '../model/kinds.js'
import {PRODUCT_LABEL} from '../render/render.js'
import type {KubeList} from '../kube/types.js'
import {type Observed, type Snapshot, type WarningEvent, partsKey, productOfPart} from './report.js'

/** One product (namespace and name) or every product in the cluster. */
export type StatusScope = {namespace: string; name: string} | {all: true}

const PART_KINDS = KINDS.filter((k) => k.scope === 'Namespaced' && k.kind !== 'DataProduct')

async function list<T extends Observed | WarningEvent = Observed>(client: KubeRest, path: string, query: Record<string, string> = {}): Promise<{items: T[]; metadata: {resourceVersion?: string}}> {
  try {
    return await client.get<KubeList<T & Observed>>(path, query)
  } catch (error) {
    // A kind whose CRD is missing lists as nothing.
    if (error instanceof KubeApiError && error.status === 404) return {items: [], metadata: {resourceVersion: ''}}
    throw error
  }
}

/**
 * Reads what status shows with a fixed number of requests: the products, their domains and
 * meshes, their parts (only when some product has no operator-written components) and the
 * Warning events. Secrets are never read.
 */
export async function takeSnapshot(client: KubeRest, scope: StatusScope): Promise<Snapshot & {resourceVersion: string}> {
  const namespace = 'all' in scope ? undefined : scope.namespace
  const productList = await list(client, resourcePath(API_VERSION, 'DataProduct', namespace), 'all' in scope ? {} : {fieldSelector: `metadata.name=${scope.name}`})
  const products = productList.items.map((p) => ({...p, apiVersion: API_VERSION, kind: 'DataProduct'}))
  const domainNames = [...new Set(products.map((p) => String(p.spec?.domain ?? '')))]
  const needParts = products.some((p) => !Array.isArray(p.status?.components))
  const selector = 'all' in scope ? PRODUCT_LABEL : `${PRODUCT_LABEL}=${scope.name}`

  const [domains, parts, events] = await Promise.all([
    'all' in scope
      ? list(client, resourcePath(API_VERSION, 'DataDomain')).then((l) => l.items)
      : Promise.all(domainNames.map((d) => (d ? client.find<Observed>(resourcePath(API_VERSION, 'DataDomain', undefined, d)) : undefined))).then((found) => found.filter((o) => o !== undefined)),
    needParts
      ? Promise.all(PART_KINDS.map((k) => list(client, resourcePath(API_VERSION, k.kind, namespace), {labelSelector: selector}).then((l) => l.items.map((o) => ({...o, kind: k.kind}))))).then((l) => l.flat())
      : Promise.resolve([]),
    products.length > 0 ? list<WarningEvent>(client, resourcePath('v1', 'Event', namespace), {fieldSelector: 'type=Warning'}).then((l) => l.items) : Promise.resolve([]),
  ])
  const domainMap = new Map<string, Observed>(domains.map((d) => [d.metadata.name, d]))
  const meshNames = [...new Set([...domainMap.values()].map((d) => String(d.spec?.mesh ?? '')))]
  const meshes =
    'all' in scope
      ? (await list(client, resourcePath(API_VERSION, 'DataMesh'))).items
      : (await Promise.all(meshNames.map((m) => (m ? client.find<Observed>(resourcePath(API_VERSION, 'DataMesh', undefined, m)) : undefined)))).filter((o) => o !== undefined)
  const partMap: Snapshot['parts'] = new Map()
  for (const part of parts) {
    const key = partsKey(part.metadata.namespace ?? '', productOfPart(part) ?? '')
    partMap.set(key, [...(partMap.get(key) ?? []), part])
  }
  return {
    products,
    domains: domainMap,
    meshes: new Map(meshes.map((m) => [m.metadata.name, m])),
    parts: partMap,
    warnings: events,
    resourceVersion: productList.metadata.resourceVersion ?? '',
  }
}
