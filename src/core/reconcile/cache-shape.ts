import {type KubeObject, stripped} from '../kube/objects.js'
import type {Namespace, Secret, WorkloadStatus} from '../kube/types.js'
import {APPLIED_HASH_ANNOTATION} from './matches.js'
import type {Watched} from './watched.js'

/**
 * What the operator's caches keep of each kind: the informers hold every watched object for the
 * life of the process (at 1,000 products, tens of thousands of them), so each drops, as it
 * arrives, what no reconcile reads. In one place, so that what a reconciler reads and what the
 * cache keeps can be checked together (test/unit/reconcile-cache-shape.test.ts).
 *
 * What stays: metadata (names, labels, annotations, owners, uid, resourceVersion, generation,
 * deletionTimestamp, finalizers) and every spec, since a reconcile compares each child it applies
 * with the cached one (containsAll in matches.ts: any field it applies may be compared, a hand
 * edit included). What goes: managedFields (always), the values of Secrets (the reconciler reads
 * only whose a credentials Secret is), and the status of every kind whose status no reconcile
 * reads; of the workloads' and namespaces' statuses only what their readiness is made of.
 *
 * Keeping the children's specs is cheap once their strings are shared: with every child's spec,
 * data, rules and subjects dropped as they arrived (an experiment, not a design: reconciles then
 * re-applied every child), the operator bench's 100 products peaked at 74.9 MiB against 75.4, with
 * the same largest heap (23.4 MiB used). A cache of metadata only is not where the memory is.
 */
type Shape<T extends KubeObject> = (object: T) => void

/** Statuses the reconcilers read whole: their own kinds' (written only when they change). */
const keepStatus: Shape<KubeObject> = () => {}

/** A StatefulSet's or Deployment's readiness, as componentOf (product/status.ts) reads it. */
const readiness: Shape<KubeObject & {status?: WorkloadStatus}> = (workload) => {
  const status = workload.status
  if (!status) return
  workload.status = {observedGeneration: status.observedGeneration, readyReplicas: status.readyReplicas, updatedReplicas: status.updatedReplicas}
}

/** A Namespace's phase (the domain loop waits while one is Terminating). */
const phase: Shape<Namespace> = (namespace) => {
  if (namespace.status) namespace.status = {phase: namespace.status.phase}
}

/** Whose a Secret is, never what it holds: the passwords stay out of the operator's memory. */
const withoutValues: Shape<Secret> = (secret) => {
  delete secret.data
  delete secret.stringData
  delete (secret as {status?: unknown}).status
}

/** Any other kind: no reconcile reads its status (if it has one). */
const withoutStatus: Shape<KubeObject & {status?: unknown}> = (object) => {
  delete object.status
}

/**
 * By kind (the cached object's `kind`, which the informer sets on list items too): every kind the
 * operator watches (Watched) must be named. A kind not named here (a test's) loses only its managedFields.
 */
const SHAPES: {[K in keyof Watched as Watched[K]['kind']]: Shape<Watched[K]>} = {
  DataMesh: keepStatus,
  DataDomain: keepStatus,
  DataProduct: keepStatus,
  DataStorage: withoutStatus,
  OutputPort: withoutStatus,
  InputPort: withoutStatus,
  DataWorkflow: withoutStatus,
  DataContract: withoutStatus,
  DataFlow: withoutStatus,
  DataRole: withoutStatus,
  Namespace: phase,
  StatefulSet: readiness,
  Deployment: readiness,
  Secret: withoutValues,
  Service: withoutStatus,
  ConfigMap: withoutStatus,
  ServiceAccount: withoutStatus,
  NetworkPolicy: withoutStatus,
  CronJob: withoutStatus,
  Role: withoutStatus,
  RoleBinding: withoutStatus,
  ClusterRoleBinding: withoutStatus,
  ResourceQuota: withoutStatus,
  LimitRange: withoutStatus,
  ValidatingAdmissionPolicy: withoutStatus,
  ValidatingAdmissionPolicyBinding: withoutStatus,
}

/**
 * One copy of each string value the caches hold. JSON.parse makes a string of every value it
 * reads: each of a hundred products' StatefulSets has its own "dappmesh.io/v1alpha1",
 * "IfNotPresent", "/dev/termination-log", label values and image names, which were over a third of
 * the caches' bytes (a heap snapshot of the operator bench: 3.9 of 6.2 MiB of strings were
 * copies). Values that differ on every object (uids, resourceVersions, timestamps, digests) are
 * left alone, and so are long ones (documents, catalog shards), which repeat rarely. The table
 * forgets everything once it holds `limit` strings, so strings of objects long gone cannot pile
 * up; the objects cached after that share their strings again.
 */
export class StringTable {
  private readonly strings = new Map<string, string>()

  constructor(private readonly limit = 100_000, private readonly longest = 256) {}

  get size(): number {
    return this.strings.size
  }

  /** The table's copy of `value`, which it keeps from now on if it had none. */
  once(value: string): string {
    if (value.length > this.longest) return value
    const kept = this.strings.get(value)
    if (kept !== undefined) return kept
    if (this.strings.size >= this.limit) this.strings.clear()
    this.strings.set(value, value)
    return value
  }

  /** Replaces, in place, every string value in `value` (an object or array from JSON) by the table's copy. */
  share(value: object): void {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i]
        if (typeof item === 'string') value[i] = this.once(item)
        else if (item !== null && typeof item === 'object') this.share(item)
      }
      return
    }
    const record = value as Record<string, unknown>
    for (const key in record) {
      const item = record[key]
      if (typeof item === 'string') {
        if (!UNIQUE_VALUES.has(key)) record[key] = this.once(item)
      } else if (item !== null && typeof item === 'object') this.share(item)
    }
  }
}

/** Fields whose values differ from object to object: sharing them would only fill the table. */
const UNIQUE_VALUES = new Set(['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'lastTransitionTime', APPLIED_HASH_ANNOTATION])

/** The strings of every informer's cache: the same values recur across kinds (labels, names, apiVersions). */
const cachedStrings = new StringTable()

/** Removes, in place, what the caches never read of `object` (see above), and shares its strings; returns it. */
export function cacheShape<T extends KubeObject>(object: T, strings: StringTable = cachedStrings): T {
  if (!object?.metadata) return object
  stripped(object)
  // Where the kind, read at run time, meets the shape typed for it.
  const shape = object.kind === undefined ? undefined : (SHAPES as unknown as Record<string, Shape<KubeObject> | undefined>)[object.kind]
  shape?.(object)
  strings.share(object)
  return object
}
