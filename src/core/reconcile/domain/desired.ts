import {API_VERSION} from '../../model/kinds.js'
import {MANAGED_BY_LABEL} from '../../render/render.js'
import {FIELD_MANAGER} from '../product/desired.js'

export const DOMAIN_LABEL = 'dappmesh.io/domain'
export const QUOTA_NAME = 'dappmesh-quota'
export const DEFAULT_DENY_NAME = 'dappmesh-default-deny'
export const DEFAULTS_NAME = 'dappmesh-defaults'

export function domainNamespace(domain: any): string {
  return domain.spec?.namespace ?? domain.metadata.name
}

/**
 * The domain's Namespace exactly as `dappmesh apply` writes it (same labels, same values), so the
 * two field managers share its fields instead of conflicting. It has no owner: deleting a
 * DataDomain must not delete the products and data in its namespace.
 */
export function desiredNamespace(domain: any): any {
  return {apiVersion: 'v1', kind: 'Namespace', metadata: {name: domainNamespace(domain), labels: {[DOMAIN_LABEL]: domain.metadata.name, [MANAGED_BY_LABEL]: 'dappmesh'}}}
}

/** The domain's own objects in its namespace, owned by the (cluster-scoped) DataDomain. */
export function desiredDomainChildren(domain: any): any[] {
  const namespace = domainNamespace(domain)
  const metadata = (name: string) => ({
    name,
    namespace,
    labels: {[DOMAIN_LABEL]: domain.metadata.name, [MANAGED_BY_LABEL]: FIELD_MANAGER},
    ownerReferences: [{apiVersion: API_VERSION, kind: 'DataDomain', name: domain.metadata.name, uid: domain.metadata.uid, controller: true, blockOwnerDeletion: true}],
  })
  const children: any[] = [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata(DEFAULT_DENY_NAME),
      // Every pod of the domain refuses ingress unless a product's own policy admits it.
      spec: {podSelector: {}, policyTypes: ['Ingress']},
    },
  ]
  const quota = domain.spec?.quota
  if (quota && (quota.cpu || quota.memory || quota.storage)) {
    const hard: Record<string, string> = {}
    if (quota.cpu) hard['requests.cpu'] = String(quota.cpu)
    if (quota.memory) hard['requests.memory'] = String(quota.memory)
    if (quota.storage) hard['requests.storage'] = String(quota.storage)
    children.push({apiVersion: 'v1', kind: 'ResourceQuota', metadata: metadata(QUOTA_NAME), spec: {hard}})
    // A quota on requests refuses pods that state none: give those a modest default instead.
    children.push({
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: metadata(DEFAULTS_NAME),
      spec: {limits: [{type: 'Container', defaultRequest: {cpu: '100m', memory: '128Mi'}}]},
    })
  }
  return children
}
