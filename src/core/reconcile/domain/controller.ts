import type {KubeObject} from '../../kube/objects.js'
import type {Namespace} from '../../kube/types.js'
import type {KubeRest} from '../../kube/rest.js'
import {API_VERSION} from '../../model/kinds.js'
import {MANAGED_BY_LABEL} from '../../render/render.js'
import {OwnWrites, changedFor} from '../changes.js'
import {Controller, type Log} from '../controller.js'
import type {Metrics} from '../metrics.js'
import type {Watched} from '../watched.js'
import {type Scope, watchPaths} from '../scope.js'
import {FIELD_MANAGER} from '../product/desired.js'
import {DOMAIN_LABEL, domainNamespace} from './desired.js'
import {DOMAIN_CHILD_KINDS, reconcileDomain} from './reconciler.js'

/**
 * The domain controller's watches: DataDomains, DataMeshes (a mesh appearing resolves its domains),
 * the domain namespaces and children. A scope's namespaces restrict it to the domains whose
 * namespace is one of them (and its namespaced watches to those namespaces); its selector, to the
 * DataDomains it matches.
 */
export function domainController(rest: KubeRest, options: {log?: Log; metrics?: Metrics; concurrency?: number; scope?: Scope} = {}): Controller {
  const namespaces = options.scope?.namespaces
  const inScope = namespaces ? (domain: Watched['DataDomain']) => namespaces.includes(domainNamespace(domain)) : undefined
  // Only a domain in the cache: one that is not there has nothing to reconcile (reconcileDomain
  // returns at once), and its own ADDED event wakes it once it comes. `dappmesh apply` writes the
  // namespace before the DataDomain, and the namespace's event woke a reconcile of a domain not
  // there yet: a second reconcile of each new domain (tested). The same goes for the children the
  // garbage collector removes once a domain is deleted.
  const byDomainLabel = (object: KubeObject): string[] => {
    const domain = object?.metadata?.labels?.[DOMAIN_LABEL]
    return domain && controller.cache('DataDomain').get(domain) ? [domain] : []
  }
  // Called only on events, which come after the controller exists.
  const domainsOfMesh = (mesh: KubeObject): string[] => controller.cache('DataDomain').values().filter((d) => d.spec?.mesh === mesh.metadata.name).map((d) => d.metadata.name)
  // The domain's own writes come back as events that are no news: its children (seven per domain,
  // each an event that woke the domain again) and the namespace.
  const writes = new OwnWrites()
  const echo = (object: KubeObject) => writes.echoes(object)
  const controller: Controller = new Controller({
    name: 'domain',
    rest,
    log: options.log,
    metrics: options.metrics,
    concurrency: options.concurrency ?? 2,
    // Statuses are news only where the reconcile reads them: a namespace's phase. The domain's own
    // status write, and the mesh's every count, came back as events for every domain of the mesh.
    primary: {name: 'DataDomain', ...watchPaths(API_VERSION, 'DataDomain'), labelSelector: options.scope?.selector, filter: inScope, changed: changedFor()},
    secondary: [
      {name: 'DataMesh', ...watchPaths(API_VERSION, 'DataMesh'), keysFor: domainsOfMesh, changed: changedFor()},
      {name: 'Namespace', ...watchPaths('v1', 'Namespace'), labelSelector: DOMAIN_LABEL, filter: namespaces ? (ns: KubeObject) => namespaces.includes(ns.metadata.name) : undefined, keysFor: byDomainLabel, changed: changedFor((ns: Namespace) => ns.status?.phase), echo},
      ...DOMAIN_CHILD_KINDS.map(({apiVersion, kind}) => ({name: kind, ...watchPaths(apiVersion, kind, namespaces), labelSelector: `${DOMAIN_LABEL},${MANAGED_BY_LABEL}=${FIELD_MANAGER}`, keysFor: byDomainLabel, changed: changedFor(), echo})),
    ],
    reconcile: (key, ctx) => reconcileDomain(rest, key, ctx, writes),
  })
  return controller
}
