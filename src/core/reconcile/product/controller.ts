import type {KubeObject} from '../../kube/objects.js'
import type {KubeRest} from '../../kube/rest.js'
import {API_VERSION} from '../../model/kinds.js'
import {MANAGED_BY_LABEL, PRODUCT_LABEL} from '../../render/render.js'
import {OwnWrites, changedFor} from '../changes.js'
import {Controller, type Log, labelKeys, ownerKeys} from '../controller.js'
import {keyOf} from '../informer.js'
import {EventRecorder} from '../events.js'
import type {Metrics} from '../metrics.js'
import {type Scope, watchPaths} from '../scope.js'
import {FIELD_MANAGER} from './desired.js'
import {DesiredMemo} from './desired-memo.js'
import {CHILD_KINDS, CLUSTER_CHILD_KINDS, PRODUCT_KINDS, reconcileProduct} from './reconciler.js'
import {NAMESPACE_LABEL} from './runtime.js'
import {componentOf} from './status.js'

/**
 * The product controller's watches: DataProducts; the product-scoped resources (by their product
 * label); DataDomains (a domain appearing resolves its products' references); and the children,
 * selected by label so the operator never caches objects it does not manage. A scope's namespaces
 * restrict every namespaced watch to them; its selector, the DataProducts reconciled.
 */
export interface ProductControllerOptions {
  /** the dappmesh image each product's runtime and workflow triggers run */
  runtimeImage: string
  log?: Log
  metrics?: Metrics
  concurrency?: number
  scope?: Scope
}

// Of the statuses the reconcile reads only its own product's (to write it only when it changes)
// and its workloads' readiness (componentOf).
const besidesStatus = changedFor()
/**
 * Which modifications of a child are news. A Secret's values are stripped from the cache (cache-shape.ts), so a new
 * password (a database user's rotated by hand) shows only in its resourceVersion: every change of
 * a Secret counts (they rarely change, and the runtime restarts with the new credentials).
 */
function childChanged(kind: string): ((previous: KubeObject, next: KubeObject) => boolean) | undefined {
  if (kind === 'Secret') return undefined
  return kind === 'StatefulSet' || kind === 'Deployment' ? readinessOrBesidesStatus : besidesStatus
}
const readinessOrBesidesStatus = changedFor((workload: KubeObject) => componentOf({kind: workload.kind, metadata: {name: workload.metadata.name}} as Parameters<typeof componentOf>[0], workload))

export function productController(rest: KubeRest, options: ProductControllerOptions): Controller {
  const namespaces = options.scope?.namespaces
  // Called only on events, which come after the controller exists.
  const productsOfDomain = (domain: KubeObject): string[] =>
    controller.cache('DataProduct').values().filter((p) => p.spec?.domain === domain.metadata.name).map((p) => keyOf(p))
  const events = new EventRecorder(rest, options.log ?? (() => {}))
  const writes = new OwnWrites()
  const memo = new DesiredMemo()
  const echo = (object: KubeObject) => writes.echoes(object)
  const childSelector = `${PRODUCT_LABEL},${MANAGED_BY_LABEL}=${FIELD_MANAGER}`
  const owned = ownerKeys(API_VERSION, 'DataProduct')
  // Storage credentials have no owner (they outlive their storage): their labels say whose they are.
  const labelled = labelKeys(PRODUCT_LABEL)
  const credentialsKeys = (o: KubeObject) => [...new Set([...owned(o), ...labelled(o)])]
  const controller: Controller = new Controller({
    name: 'product',
    rest,
    log: options.log,
    metrics: options.metrics,
    concurrency: options.concurrency ?? 2,
    // A product's children change one after another (each applied, then each StatefulSet's and
    // Deployment's status several times as their pods start): events within half a second become
    // one reconcile instead of one each (measured: 15 reconciles per product to Ready without it).
    coalesceMs: 500,
    primary: {name: 'DataProduct', ...watchPaths(API_VERSION, 'DataProduct', namespaces), labelSelector: options.scope?.selector, changed: besidesStatus, echo},
    secondary: [
      ...PRODUCT_KINDS.map((kind) => ({name: kind, ...watchPaths(API_VERSION, kind, namespaces), labelSelector: PRODUCT_LABEL, keysFor: labelKeys(PRODUCT_LABEL), changed: besidesStatus})),
      {name: 'DataDomain', ...watchPaths(API_VERSION, 'DataDomain'), keysFor: productsOfDomain, changed: besidesStatus},
      ...CHILD_KINDS.map(({apiVersion, kind}) => ({name: kind, ...watchPaths(apiVersion, kind, namespaces), labelSelector: childSelector, keysFor: kind === 'Secret' ? credentialsKeys : owned, changed: childChanged(kind), echo})),
      // Cluster-wide, whatever the scope: only those labelled with a namespace in scope are cached.
      ...CLUSTER_CHILD_KINDS.map(({apiVersion, kind}) => ({
        name: kind,
        ...watchPaths(apiVersion, kind),
        labelSelector: `${childSelector},${NAMESPACE_LABEL}`,
        filter: (o: KubeObject) => !namespaces || namespaces.includes(o.metadata?.labels?.[NAMESPACE_LABEL] ?? ''),
        // The watch selects only objects with both labels.
        keysFor: (o: KubeObject) => [`${o.metadata.labels?.[NAMESPACE_LABEL]}/${o.metadata.labels?.[PRODUCT_LABEL]}`],
        echo,
      })),
    ],
    reconcile: (key, ctx) => reconcileProduct(rest, key, ctx, {image: options.runtimeImage}, {events, writes, memo}),
  })
  return controller
}
