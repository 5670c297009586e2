import {resourcePath} from '../../kube/paths.js'
import type {KubeRest} from '../../kube/rest.js'
import {API_VERSION} from '../../model/kinds.js'
import {MANAGED_BY_LABEL} from '../../render/render.js'
import {Controller, type Log} from '../controller.js'
import type {Metrics} from '../metrics.js'
import {FIELD_MANAGER} from '../product/desired.js'
import {DOMAIN_LABEL} from './desired.js'
import {DOMAIN_CHILD_KINDS, reconcileDomain} from './reconciler.js'

/** The domain controller's watches: DataDomains, DataMeshes (a mesh appearing resolves its domains), the domain namespaces and children. */
export function domainController(rest: KubeRest, options: {log?: Log; metrics?: Metrics; concurrency?: number} = {}): Controller {
  const byDomainLabel = (object: any): string[] => (object?.metadata?.labels?.[DOMAIN_LABEL] ? [object.metadata.labels[DOMAIN_LABEL]] : [])
  // Called only on events, which come after the controller exists.
  const domainsOfMesh = (mesh: any): string[] => controller.informers.get('DataDomain')!.values().filter((d) => d.spec?.mesh === mesh.metadata.name).map((d) => d.metadata.name)
  const controller: Controller = new Controller({
    name: 'domain',
    rest,
    log: options.log,
    metrics: options.metrics,
    concurrency: options.concurrency ?? 2,
    primary: {name: 'DataDomain', path: resourcePath(API_VERSION, 'DataDomain')},
    secondary: [
      {name: 'DataMesh', path: resourcePath(API_VERSION, 'DataMesh'), keysFor: domainsOfMesh},
      {name: 'Namespace', path: resourcePath('v1', 'Namespace'), labelSelector: DOMAIN_LABEL, keysFor: byDomainLabel},
      ...DOMAIN_CHILD_KINDS.map(({apiVersion, kind}) => ({name: kind, path: resourcePath(apiVersion, kind), labelSelector: `${DOMAIN_LABEL},${MANAGED_BY_LABEL}=${FIELD_MANAGER}`, keysFor: byDomainLabel})),
    ],
    reconcile: (key, ctx) => reconcileDomain(rest, key, ctx),
  })
  return controller
}
