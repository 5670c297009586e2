/**
 * The shapes of Kubernetes objects as the REST API sends them (JSON: timestamps are strings), for
 * what the client and the caches read. The kinds' own fields are in types.ts.
 */
export interface OwnerReference {
  apiVersion: string
  kind: string
  name: string
  uid: string
  controller?: boolean
  blockOwnerDeletion?: boolean
}

export interface ObjectMeta {
  name: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  generation?: number
  creationTimestamp?: string
  deletionTimestamp?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: OwnerReference[]
  finalizers?: string[]
  managedFields?: ManagedFieldsEntry[]
}

/** Who set which fields (server-side apply); caches drop these (stripped). */
export interface ManagedFieldsEntry {
  manager?: string
  operation?: string
  apiVersion?: string
  time?: string
  fieldsType?: string
  fieldsV1?: unknown
  subresource?: string
}

export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata: ObjectMeta
}

export interface ListMeta {
  resourceVersion?: string
  continue?: string
  remainingItemCount?: number
}

export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion?: string
  kind?: string
  metadata: ListMeta
  items: T[]
}

/** What the API server answers with an error (and in a watch ERROR event). */
export interface KubeStatus {
  kind?: 'Status'
  apiVersion?: string
  status?: string
  code?: number
  reason?: string
  message?: string
  details?: {name?: string; kind?: string; retryAfterSeconds?: number}
}

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'
  object: T
}

export interface LeaseSpec {
  holderIdentity?: string
  leaseDurationSeconds?: number
  acquireTime?: string
  renewTime?: string
  leaseTransitions?: number
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec
}

/**
 * An object as the caches keep it: without managedFields, which are often larger than the rest of
 * the object together and which no reconciler reads. Mutates and returns `object`.
 */
export function stripped<T extends KubeObject>(object: T): T {
  if (object?.metadata?.managedFields) delete object.metadata.managedFields
  return object
}
