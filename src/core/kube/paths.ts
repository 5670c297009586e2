import {GROUP, KINDS, VERSION} from '../model/kinds.js'

interface ResourceType {
  /** `/api/v1` or `/apis/<group>/<version>` */
  prefix: string
  plural: string
  namespaced: boolean
}

/** The types dappmesh reads or writes, so no discovery request is ever needed. */
const TYPES = new Map<string, ResourceType>([
  ...KINDS.map((k) => [`${GROUP}/${VERSION}/${k.kind}`, {prefix: `/apis/${GROUP}/${VERSION}`, plural: k.plural, namespaced: k.scope === 'Namespaced'}] as const),
  ['v1/Namespace', {prefix: '/api/v1', plural: 'namespaces', namespaced: false}],
  ['v1/Event', {prefix: '/api/v1', plural: 'events', namespaced: true}],
  ['v1/Secret', {prefix: '/api/v1', plural: 'secrets', namespaced: true}],
  ['v1/ConfigMap', {prefix: '/api/v1', plural: 'configmaps', namespaced: true}],
  ['v1/Service', {prefix: '/api/v1', plural: 'services', namespaced: true}],
  ['v1/ResourceQuota', {prefix: '/api/v1', plural: 'resourcequotas', namespaced: true}],
  ['v1/LimitRange', {prefix: '/api/v1', plural: 'limitranges', namespaced: true}],
  ['v1/Pod', {prefix: '/api/v1', plural: 'pods', namespaced: true}],
  ['v1/PersistentVolume', {prefix: '/api/v1', plural: 'persistentvolumes', namespaced: false}],
  ['v1/PersistentVolumeClaim', {prefix: '/api/v1', plural: 'persistentvolumeclaims', namespaced: true}],
  ['storage.k8s.io/v1/StorageClass', {prefix: '/apis/storage.k8s.io/v1', plural: 'storageclasses', namespaced: false}],
  ['v1/ServiceAccount', {prefix: '/api/v1', plural: 'serviceaccounts', namespaced: true}],
  ['apps/v1/StatefulSet', {prefix: '/apis/apps/v1', plural: 'statefulsets', namespaced: true}],
  ['apps/v1/Deployment', {prefix: '/apis/apps/v1', plural: 'deployments', namespaced: true}],
  ['batch/v1/CronJob', {prefix: '/apis/batch/v1', plural: 'cronjobs', namespaced: true}],
  ['networking.k8s.io/v1/NetworkPolicy', {prefix: '/apis/networking.k8s.io/v1', plural: 'networkpolicies', namespaced: true}],
  ['rbac.authorization.k8s.io/v1/Role', {prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'roles', namespaced: true}],
  ['rbac.authorization.k8s.io/v1/RoleBinding', {prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'rolebindings', namespaced: true}],
  ['rbac.authorization.k8s.io/v1/ClusterRole', {prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'clusterroles', namespaced: false}],
  ['rbac.authorization.k8s.io/v1/ClusterRoleBinding', {prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'clusterrolebindings', namespaced: false}],
  ['admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy', {prefix: '/apis/admissionregistration.k8s.io/v1', plural: 'validatingadmissionpolicies', namespaced: false}],
  ['admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding', {prefix: '/apis/admissionregistration.k8s.io/v1', plural: 'validatingadmissionpolicybindings', namespaced: false}],
  ['coordination.k8s.io/v1/Lease', {prefix: '/apis/coordination.k8s.io/v1', plural: 'leases', namespaced: true}],
  ['apiextensions.k8s.io/v1/CustomResourceDefinition', {prefix: '/apis/apiextensions.k8s.io/v1', plural: 'customresourcedefinitions', namespaced: false}],
])

export function resourceType(apiVersion: string, kind: string): ResourceType {
  const type = TYPES.get(`${apiVersion}/${kind}`)
  if (!type) throw new Error(`dappmesh does not know the REST path of ${apiVersion} ${kind}`)
  return type
}

/** The collection path (no name) or the object path (with name). */
export function resourcePath(apiVersion: string, kind: string, namespace?: string, name?: string): string {
  const type = resourceType(apiVersion, kind)
  const ns = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ''
  return `${type.prefix}${ns}/${type.plural}${name ? `/${encodeURIComponent(name)}` : ''}`
}

export function objectPath(object: {apiVersion: string; kind: string; metadata: {name: string; namespace?: string}}): string {
  return resourcePath(object.apiVersion, object.kind, object.metadata.namespace, object.metadata.name)
}
