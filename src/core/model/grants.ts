/**
 * What a DataRole's grant lets its subjects do in the cluster, as Kubernetes permissions on the
 * product's children. One table, read by the product reconciler (which writes the Role) and by the
 * admission policy (which checks that the DataRole's author holds every permission the Role would
 * hand out): the two cannot drift apart.
 *
 * Nothing here is a write: the operator holds far more rights than a product author, so a grant
 * that let its subjects patch a workload would let any DataRole author run any pod spec in the
 * namespace. A storage grant hands out the Secret of the database user of its access level (read,
 * write or admin: storage/postgres-users.ts) on engines that have them (postgresql), never the
 * storage's credentials Secret, which holds the engine's root user; on other engines it gives no
 * credentials at all (storageGrantNote says so in the product's status).
 */
export type Access = 'read' | 'write' | 'admin'
export type GrantTarget = 'storage' | 'outputPort'

/** Which child of the grant's storage or port a permission is on. */
export type GrantChild = 'service' | 'workload' | 'contract' | 'credentials'

export interface GrantPermission {
  apiGroup: string
  resource: string
  child: GrantChild
  verb: 'get'
}

const service: GrantPermission = {apiGroup: '', resource: 'services', child: 'service', verb: 'get'}
const contract: GrantPermission = {apiGroup: '', resource: 'configmaps', child: 'contract', verb: 'get'}
const statefulSet: GrantPermission = {apiGroup: 'apps', resource: 'statefulsets', child: 'workload', verb: 'get'}
const deployment: GrantPermission = {apiGroup: 'apps', resource: 'deployments', child: 'workload', verb: 'get'}
/** The Secret of the access level's own database user (named by resourceNames; only where the engine has such users). */
const credentials: GrantPermission = {apiGroup: '', resource: 'secrets', child: 'credentials', verb: 'get'}

export const GRANT_PERMISSIONS: Record<GrantTarget, Record<Access, GrantPermission[]>> = {
  storage: {read: [service, credentials], write: [service, credentials], admin: [service, statefulSet, credentials]},
  outputPort: {read: [service, contract], write: [service, contract], admin: [service, contract, deployment]},
}

/** The engines dappmesh makes per-access database users on (read, write, admin), each with a Secret of its own. */
export const ENGINES_WITH_ACCESS_USERS: readonly string[] = ['postgresql']

/**
 * Said in the product's status beside a Role granting storages of `engines` that have no
 * per-access users: what the grant does not give, and why.
 */
export function storageGrantNote(engines: string[]): string {
  const distinct = [...new Set(engines)].sort()
  const list = distinct.join(', ')
  return `storage grants on ${list} give its Service (and, for admin, read access to its StatefulSet), never its credentials: ${list} ${distinct.length > 1 ? 'have' : 'has'} no per-access database users (only ${ENGINES_WITH_ACCESS_USERS.join(', ')}), and its Secret holds the engine's root user`
}

export interface Subject {
  kind: string
  name: string
  namespace?: string
}

/**
 * Why a subject may not be granted anything, or undefined when it may. `system:` users and groups
 * are the control plane's own (system:masters, system:authenticated, the nodes...), and a
 * ServiceAccount in a kube-* namespace is a controller of the cluster: none is a data consumer, and
 * a grant to system:authenticated would reach every identity at once.
 */
export function refusedSubject(subject: Subject): string | undefined {
  if (subject.name.startsWith('system:')) return `${subject.kind} ${subject.name} is a Kubernetes system identity (system:*)`
  if (subject.namespace?.startsWith('kube-')) return `${subject.kind} ${subject.namespace}/${subject.name} lives in a Kubernetes system namespace (kube-*)`
  return undefined
}
