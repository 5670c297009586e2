import {createHash, randomBytes} from 'node:crypto'
import {isDeepStrictEqual} from 'node:util'

import {parseInventory} from '../../apply/inventory.js'
import {mapPool} from '../../apply/pool.js'
import {objectPath, resourcePath} from '../../kube/paths.js'
import {KubeApiError, type KubeRest} from '../../kube/rest.js'
import type {KubeList, KubeObject, OwnerReference, PersistentVolumeClaimTemplate, Secret, StatefulSet, Stored, Typed} from '../../kube/types.js'
import type {DataStorage} from '../../model/types.js'
import {childName, clusterName, displayName, localName} from '../../model/child-names.js'
import {API_VERSION} from '../../model/kinds.js'
import {MANAGED_BY_LABEL, PRODUCT_LABEL} from '../../render/render.js'
import type {ReconcileContext} from '../controller.js'
import type {OwnWrites} from '../changes.js'
import type {EventRecorder} from '../events.js'
import {byCodeUnits} from '../footprint.js'
import type {Watched} from '../watched.js'
import {appliedHash, containsAll, withHash} from '../matches.js'
import type {AccessLevel} from '../../storage/postgres-users.js'
import {type DesiredMemo, desiredInputs} from './desired-memo.js'
import {NONCE_ANNOTATION, keptDataRecord} from './kept-data-record.js'
import {type Child, type ChildKind, FIELD_MANAGER, GRANT_NOTE_ANNOTATION, type ProductState, desiredChildren, inApplyOrder, inApplyTiers, isCredentials, isCredentialsOf, isServedStorage, missingReferences, refusedSubjects, storageSecrets} from './desired.js'
import {NAMESPACE_LABEL, type RuntimeOptions, runtimeName} from './runtime.js'
import {type Component, componentOf, productStatus} from './status.js'

export const FINALIZER = 'dappmesh.io/finalizer'
/** How a resource the inventory lists but the cluster does not (yet) have is said among the missing references. */
const INVENTORY_MISSING = "(in the product's inventory)"
/**
 * How many children of one apply tier one reconcile writes at once. A reconcile waits on the API
 * server's answers, not on CPU: applied one after another, a product's ~26 children took ~26 round
 * trips. A few at once make that about one per tier; more would only let one product's burst take
 * a larger share of the client's rate limit (rate-limit.ts, shared by every reconcile, which still
 * bounds all requests) from the other products' reconciles running beside it. Measured with 150 ms
 * added to every write (test/integration/reconcile-tiers.test.ts): the 26 children of
 * examples/orders took 0.9 s, and 4.7 s one after another. It shortens what waits on answers
 * only: on a machine whose CPU the API server already lacks, the products are not Ready sooner
 * (bench/operator.js, 100 and 300 products, a loaded 2-core machine, 2026-11-30: no gain beyond
 * the machine's noise, and ~0.5 more reconciles per product, as children change sooner).
 */
export const CHILDREN_AT_ONCE = 8

/** The kinds of the product's children, each watched by an informer of the same name. */
export const CHILD_KINDS = [
  {apiVersion: 'apps/v1', kind: 'StatefulSet'},
  {apiVersion: 'apps/v1', kind: 'Deployment'},
  {apiVersion: 'v1', kind: 'Service'},
  {apiVersion: 'v1', kind: 'Secret'},
  {apiVersion: 'v1', kind: 'ConfigMap'},
  {apiVersion: 'v1', kind: 'ServiceAccount'},
  {apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy'},
  {apiVersion: 'batch/v1', kind: 'CronJob'},
  {apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role'},
  {apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding'},
] as const

/** Cluster-scoped children: owned by labels (an owner reference to a namespaced product is invalid), removed by the finalizer. */
export const CLUSTER_CHILD_KINDS = [{apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding'}] as const

/** The product-scoped kinds the reconciler reads, labelled dappmesh.io/product by apply. */
export const PRODUCT_KINDS = ['DataStorage', 'OutputPort', 'InputPort', 'DataWorkflow', 'DataContract', 'DataFlow', 'DataRole'] as const
type ProductKind = (typeof PRODUCT_KINDS)[number]
type Product = Watched['DataProduct']

function generatePassword(): string {
  return randomBytes(24).toString('base64url')
}

function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 404
}

function describeError(error: unknown): string {
  return (error as Error)?.message ?? String(error)
}

/** What applying one desired child found and did, merged into the reconcile's own in desired order. */
interface ChildOutcome {
  /** childKey of the child */
  key: string
  /** what the cluster holds of it afterwards (undefined: nothing, or someone else's) */
  live: KubeObject | undefined
  /** said on its component: a field held, a grant's note, why it was not applied */
  note?: string
  done: string[]
  failures: string[]
  taken: string[]
}

/**
 * What the product controller lends each reconcile: where its events go, where its writes are
 * remembered (their watch events wake no reconcile), and what is remembered of each product's
 * desired children between reconciles (DesiredMemo).
 */
export interface ReconcileHooks {
  events?: EventRecorder
  writes?: OwnWrites
  memo?: DesiredMemo
}

/**
 * The level-based reconcile of one DataProduct: read everything from the informers' caches,
 * compute the children, apply only those whose live content differs, create missing credentials
 * Secrets (never touching existing ones), delete children the product no longer has, and write
 * status only when it changed. Run twice on an unchanged cluster, the second run writes nothing.
 */
export async function reconcileProduct(rest: KubeRest, key: string, ctx: ReconcileContext, runtime: RuntimeOptions, {events, writes, memo}: ReconcileHooks = {}): Promise<void> {
  const product = ctx.informer('DataProduct').get(key)
  if (!product || product.metadata.deletionTimestamp) memo?.forget(key)
  if (!product) return // gone: the garbage collector removes what it owned
  if (product.metadata.deletionTimestamp) {
    await finalize(rest, product, ctx)
    return
  }
  const remembered = <T extends KubeObject | undefined>(written: T): T => {
    writes?.wrote(written)
    return written
  }
  const live = (product.metadata.finalizers ?? []).includes(FINALIZER) ? product : await addFinalizer(rest, product).then(remembered)
  // A DataProduct is namespaced: the API server gives it one.
  const namespace = live.metadata.namespace ?? ''
  const name = live.metadata.name
  const inventory = parseInventory(live.metadata.annotations)
  /** resources labelled for this product that its inventory does not list: not its own */
  const disowned: string[] = []
  // The label says which product a resource is for, and anyone who may write the resource may set
  // it. The inventory apply records on the DataProduct can only be written by whoever may write the
  // product: when there is one, a resource belongs to the product only if it lists it.
  // In the cluster a product's resources are named `<product>.<local>` (render does it): what the
  // reconcile reads is under the local names the project uses, which its references use too.
  const ofProduct = <K extends ProductKind>(kind: K): Array<Watched[K]> =>
    ctx
      .informer(kind)
      .inNamespace(namespace)
      .filter((o) => o.metadata.labels?.[PRODUCT_LABEL] === name)
      .filter((o) => {
        const listed = (inventory.size === 0 || inventory.has(`${kind}/${o.metadata.name}`)) && localName(name, o.metadata.name) !== undefined
        if (!listed && !disowned.includes(`${kind} ${o.metadata.name}`)) disowned.push(`${kind} ${o.metadata.name}`)
        return listed
      })
      .map((o) => ({...o, metadata: {...o.metadata, name: localName(name, o.metadata.name)!}}))
      .sort((a, b) => byCodeUnits(a.metadata.name, b.metadata.name))
  const state: ProductState = {
    product: live,
    storages: ofProduct('DataStorage'),
    outputPorts: ofProduct('OutputPort'),
    inputPorts: ofProduct('InputPort'),
    workflows: ofProduct('DataWorkflow'),
    contracts: ofProduct('DataContract'),
    roles: ofProduct('DataRole'),
    flows: ofProduct('DataFlow'),
  }
  const domains = new Set(ctx.informer('DataDomain').values().map((d) => d.metadata.name))
  const flows = new Set((state.flows ?? []).map((f) => f.metadata.name))
  const missing = missingReferences(state, domains, flows)
  // apply records what the product consists of: until all of it is here (apply writes the
  // DataProduct first, its resources after), the product is not complete, let alone Ready.
  const read: Record<ProductKind, Array<{metadata: {name: string}}>> = {
    DataStorage: state.storages,
    OutputPort: state.outputPorts,
    InputPort: state.inputPorts,
    DataWorkflow: state.workflows,
    DataContract: state.contracts,
    DataFlow: state.flows ?? [],
    DataRole: state.roles ?? [],
  }
  const present = new Set(PRODUCT_KINDS.flatMap((kind) => read[kind].map((o) => `${kind}/${clusterName(name, o.metadata.name)}`)))
  for (const entry of inventory) {
    const [kind, listed] = entry.split('/')
    if ((PRODUCT_KINDS as readonly string[]).includes(kind) && !present.has(entry)) missing.push(`${kind} ${displayName(listed ?? '')} ${INVENTORY_MISSING}`)
  }
  const failures: string[] = []
  /** children whose names an object of someone else's holds: never adopted */
  const taken: string[] = []
  /** what this reconcile changed, for the product's events */
  const done: string[] = []
  /** what the cluster holds of each child (undefined: nothing, or someone else's) */
  const current = new Map<string, KubeObject | undefined>()
  const childKey = (kind: string, childName: string) => `${kind}/${namespace}/${childName}`
  const cacheKey = (child: Child) => (child.metadata.namespace ? `${child.metadata.namespace}/${child.metadata.name}` : child.metadata.name)

  const secrets: Child[] = []
  const record = keptDataRecord(rest)
  /** credentials Secrets at our names that the operator did not make: no workload may use them */
  const refusedSecrets = new Set<string>()
  /** …of which someone else's object holds the name (not merely a write or read that failed): a running workload reading one is stopped */
  const plantedSecrets = new Set<string>()
  /**
   * Whether a live Secret at a storage's credentials name is the one the operator made for it
   * (KeptDataRecord): labels and the absence of an owner anyone may set or leave out.
   */
  const genuine = async (found: Secret, storage: Stored<DataStorage>, access?: AccessLevel): Promise<string | undefined> => {
    if (!isCredentialsOf(found, name, storage.metadata.name, access)) return foreignOwner(found, live) ?? 'someone else (not the credentials of this storage)'
    if (await record.vouches(namespace, found)) return undefined
    // Made before the operator kept a record: trusted once if this product's own StatefulSet for the
    // storage runs with it already (a planted Secret can only take a name no Secret holds, and a
    // storage whose Secret is missing has no StatefulSet yet or had its StatefulSet removed with it).
    // Root credentials only: the database users' Secrets came with the record, so an unrecorded one
    // beside a running StatefulSet was planted (the StatefulSet says nothing about them).
    const statefulSet = access ? undefined : ctx.informer('StatefulSet').get(`${namespace}/${childName(name, storage.metadata.name)}`)
    if (statefulSet && !foreignOwner(statefulSet, live) && found.metadata?.uid) {
      await record.confirm(namespace, {[found.metadata.name]: found.metadata.uid})
      return undefined
    }
    return 'someone else: the operator has no record of making it'
  }
  // The record first learns of every Secret about to be made (one write), and afterwards of their uids (one more).
  const served = state.storages.filter(isServedStorage)
  // Only the shape is kept of each, never a password: it is generated once, for a Secret about to
  // be made (not for the ones that exist, on every reconcile), sent once, and not logged.
  const storageSecretsWanted = served.flatMap((storage) => storageSecrets(live, storage, () => '').map(({secret, access}) => ({storage, secret, access})))
  const toMake = storageSecretsWanted.map(({secret}) => secret.metadata.name).filter((secret) => !ctx.informer('Secret').get(`${namespace}/${secret}`))
  let nonces = new Map<string, string>()
  if (toMake.length > 0) {
    try {
      nonces = await record.prepare(namespace, toMake)
    } catch (error) {
      // Nothing is made that the record could not vouch for later.
      failures.push(`recording the credentials Secrets to be made: ${describeError(error)}`)
    }
  }
  const madeUids: Record<string, string> = {}
  /** the resourceVersions of the per-access user Secrets, for the runtime's credentialsVersion */
  const accessVersions = new Map<string, string>()
  for (const {storage, secret, access} of storageSecretsWanted) {
    const secretKey = `${namespace}/${secret.metadata.name}`
    const existing = ctx.informer('Secret').get(secretKey)
    secrets.push({...secret, stringData: undefined})
    try {
      if (existing) {
        // Kept from before (the storage removed and added again, or the product made again): its
        // password opens the data on the volume that was kept with it, if it is the one made for it.
        const other = await genuine(existing, storage, access)
        if (other) {
          taken.push(nameTaken(secret, other))
          refusedSecrets.add(secret.metadata.name)
          plantedSecrets.add(secret.metadata.name)
        } else {
          current.set(childKey('Secret', secret.metadata.name), existing)
          if (access) accessVersions.set(secret.metadata.name, existing.metadata?.resourceVersion ?? '')
        }
        continue
      }
      const nonce = nonces.get(secret.metadata.name)
      if (!nonce) {
        refusedSecrets.add(secret.metadata.name)
        continue
      }
      // The same storage's Secrets again, with passwords this time: the one of this name.
      const made = storageSecrets(live, storage, generatePassword).find((s) => s.secret.metadata.name === secret.metadata.name)?.secret
      if (!made) throw new Error('its storage no longer makes it')
      made.metadata.annotations = {...made.metadata.annotations, [NONCE_ANNOTATION]: nonce}
      secret.metadata.annotations = made.metadata.annotations
      const created = remembered(await rest.request<Secret>('POST', resourcePath('v1', 'Secret', namespace), {body: made}))
      current.set(childKey('Secret', secret.metadata.name), created)
      done.push(`created Secret/${secret.metadata.name}`)
      madeUids[secret.metadata.name] = created.metadata.uid ?? ''
      if (access) accessVersions.set(secret.metadata.name, created.metadata?.resourceVersion ?? '')
    } catch (error) {
      // 409: it exists (made by someone else, or not yet in our cache): never overwrite it, and
      // never hand a workload a Secret that someone else controls.
      if (error instanceof KubeApiError && error.status === 409) {
        let other: string | undefined
        let held = false
        try {
          const found = await rest.find<Secret>(objectPath(secret))
          other = found ? await genuine(found, storage, access) : 'someone else (deleted meanwhile)'
          held = found !== undefined
        } catch (readError) {
          other = `unreadable (${describeError(readError)})`
        }
        if (other) {
          taken.push(nameTaken(secret, other))
          refusedSecrets.add(secret.metadata.name)
          if (held) plantedSecrets.add(secret.metadata.name)
        } else current.set(childKey('Secret', secret.metadata.name), {metadata: secret.metadata})
      } else {
        failures.push(`Secret ${secret.metadata.name}: ${describeError(error)}`)
        refusedSecrets.add(secret.metadata.name)
      }
    }
  }
  // Until this is written, the nonces vouch for them.
  await record.confirm(namespace, madeUids).catch((error: unknown) => failures.push(`recording the uids of the credentials Secrets made: ${describeError(error)}`))
  if (accessVersions.size > 0) state.credentialsVersion = createHash('sha256').update([...accessVersions].map(([n, v]) => `${n}=${v}`).join(',')).digest('hex').slice(0, 16)

  const rendered = inApplyOrder(desiredChildren(state, runtime))
  // The same inputs render the same children in the same order: their hashes, and which live
  // versions hold them, are remembered across reconciles (DesiredMemo).
  const inputs = memo && desiredInputs(state, runtime)
  const memory = inputs === undefined ? undefined : memo?.of(key, inputs, rendered.length)
  const desired = rendered.map((child, i) => {
    const hash = memory?.hashes[i] ?? appliedHash(child)
    if (memory) memory.hashes[i] = hash
    return withHash(child, hash)
  })
  const incomplete = missing.some((m) => m.endsWith(INVENTORY_MISSING))
  const notes = new Map<string, string>()
  /**
   * Applies one child, when it needs it. What it finds and does is its own (ChildOutcome), merged below
   * in the order of the desired children: the children of a tier are applied at once, and the
   * messages, events and status say the same whichever answer comes first.
   */
  const applyChild = async (child: Child, i: number): Promise<ChildOutcome> => {
    const k = childKey(child.kind, child.metadata.name)
    const cached = ctx.informer(child.kind).get(cacheKey(child))
    const outcome: ChildOutcome = {key: k, live: cached, done: [], failures: [], taken: []}
    outcome.note = keepImmutable(child, cached) ?? child.metadata.annotations?.[GRANT_NOTE_ANNOTATION]
    // Being deleted (by hand, or by a foreground deletion): its DELETED event brings us back to recreate it.
    if (cached?.metadata?.deletionTimestamp) return outcome
    const untrusted = refusedSecrets.size === 0 ? undefined : secretsReferenced(child).find((secretRef) => refusedSecrets.has(secretRef))
    if (untrusted) {
      // Not applied; and one of ours already running is stopped: its pods read the Secret whenever
      // they start (a restart, an eviction), and would hand a database user the planter's password.
      // It is made again once the Secret is the operator's own; a StatefulSet's claims stay. A Secret
      // not made this time (a failed write) stops nothing: it is only retried.
      const running = cached && !foreignOwner(cached, live) && plantedSecrets.has(untrusted)
      outcome.note = `${running ? 'stopped' : 'not applied'}: its credentials Secret ${untrusted} is not one the operator made`
      if (running) {
        try {
          if (child.kind === 'StatefulSet') await record.keepClaims(cached as StatefulSet)
          await rest.delete(objectPath(child))
          outcome.done.push(`stopped ${child.kind}/${child.metadata.name}`)
        } catch (error) {
          if (!isNotFound(error)) outcome.failures.push(`stopping ${child.kind} ${child.metadata.name}: ${describeError(error)}`)
        }
        outcome.live = undefined
      }
      return outcome
    }
    // Whether the runtime claims a volume depends on the product's storages and flows: while apply
    // is still writing them, making it now would mean replacing it a moment later.
    if (!cached && incomplete && child.kind === 'StatefulSet' && child.metadata.name === runtimeName(name)) {
      outcome.note = "waiting for the rest of the product's resources"
      return outcome
    }
    try {
      let found: KubeObject | undefined = cached
      if (!cached) {
        // The cache holds only what carries our labels: a child missing from it may still exist,
        // made by someone else, and a forced apply would take it over. It is created only if its
        // name is free (createOnly: atomic, one request); a name held makes us look at the holder.
        // A new StatefulSet takes up whatever claims carry the names it would use: only kept ones of ours.
        const planted = child.kind === 'StatefulSet' ? await record.foreignClaims(child) : []
        // Claims of our own StatefulSet (made by its controller, not yet in our cache) are not planted.
        const holder = planted.length > 0 ? await rest.find<KubeObject>(objectPath(child)) : undefined
        if (planted.length > 0 && !holder) {
          for (const claim of planted) outcome.taken.push(nameTaken({kind: 'PersistentVolumeClaim', metadata: {name: claim}}, 'someone else: the operator has no record of keeping it'))
          outcome.live = undefined
          return outcome
        }
        const created = holder ? undefined : remembered(await createOnly(rest, child))
        if (created) {
          outcome.live = created
          outcome.done.push(`applied ${child.kind}/${child.metadata.name}`)
          return outcome
        }
        found = holder ?? (await rest.find<KubeObject>(objectPath(child)))
        if (!found) {
          outcome.failures.push(`${child.kind} ${child.metadata.name}: removed while it was being created; trying again`)
          return outcome
        }
      }
      const other = foreignOwner(found, live)
      if (other) {
        outcome.taken.push(nameTaken(child, other))
        outcome.live = undefined
        return outcome
      }
      // A live version found to hold the same desired fields before holds them still.
      const version = cached?.metadata?.resourceVersion
      if (cached && ((version !== undefined && memory?.verified[i] === version) || containsAll(cached, child))) {
        if (memory) memory.verified[i] = version
        return outcome
      }
      if (claimsChanged(child, cached)) {
        // Which volumes a StatefulSet claims cannot change (the runtime's gains one when a duckdb
        // storage arrives): replace it. Its claims stay (retention Retain); the DELETED event
        // brings us back to create the new one.
        if (cached) await record.keepClaims(cached as StatefulSet)
        await rest.delete(objectPath(child))
        outcome.done.push(`replaced ${child.kind}/${child.metadata.name}`)
        return outcome
      }
      outcome.live = remembered(await rest.apply<KubeObject>(objectPath(child), child, {fieldManager: FIELD_MANAGER, force: true}))
      outcome.done.push(`applied ${child.kind}/${child.metadata.name}`)
    } catch (error) {
      outcome.failures.push(`${child.kind} ${child.metadata.name}: ${describeError(error)}`)
    }
    return outcome
  }
  // A tier's children at once (a failed one stops none of its siblings), the next tier once all
  // of them are answered: see APPLY_TIER.
  for (const tier of inApplyTiers(desired.map((child, i) => ({kind: child.kind, child, i})))) {
    const outcomes = await mapPool(tier, CHILDREN_AT_ONCE, ({child, i}) => applyChild(child, i))
    for (const outcome of outcomes) {
      current.set(outcome.key, outcome.live)
      if (outcome.note) notes.set(outcome.key, outcome.note)
      done.push(...outcome.done)
      failures.push(...outcome.failures)
      taken.push(...outcome.taken)
    }
  }

  // Children the product no longer has (a port or storage removed from the project).
  const wanted = new Set([...desired, ...secrets].map((c) => childKey(c.kind, c.metadata.name)))
  for (const child of ownedChildren(ctx, live)) {
    // A removed storage's credentials stay with its volume (credentialsSecret), whoever made them.
    if (wanted.has(childKey(child.kind, child.metadata.name)) || child.metadata.deletionTimestamp || isCredentials(child)) continue
    try {
      // Its claims stay (retention Retain) for a storage of the same name made again.
      if (child.kind === 'StatefulSet') await record.keepClaims(child)
      await rest.delete(objectPath(child))
      done.push(`deleted ${child.kind}/${child.metadata.name}`)
    } catch (error) {
      if (!isNotFound(error)) failures.push(`deleting ${child.kind} ${child.metadata.name}: ${describeError(error)}`)
    }
  }

  // One line per reconcile, not one per child: a product has dozens of children, and each line is a write to stderr.
  if (done.length > 0) ctx.log('info', `DataProduct ${key}: ${done.join(', ')}`)
  const components: Component[] = [...secrets, ...desired]
    .map((c) => {
      const component = componentOf(c, current.get(childKey(c.kind, c.metadata.name)))
      const note = notes.get(childKey(c.kind, c.metadata.name))
      return note ? {...component, message: `${component.message}; ${note}`} : component
    })
    .sort((a, b) => byCodeUnits(a.kind, b.kind) || byCodeUnits(a.name, b.name))
  // A refused subject is the DataRole's to fix, not something a retry mends: said in status, not retried.
  const refused = (state.roles ?? []).flatMap((role) => refusedSubjects(role).map((why) => `DataRole ${role.metadata.name}: ${why}; it is not bound`))
  const status = productStatus(live.status, {generation: live.metadata.generation ?? 0, components, missing, failures: [...refused, ...failures], taken})
  if (!sameStatus(live.status, status)) {
    await rest.request<Product>('PATCH', `${objectPath(withKind(live))}/status`, {body: {status}, contentType: 'application/merge-patch+json'})
  }
  if (events) {
    const subject = withKind(live)
    if (done.length > 0) await events.record(subject, 'Normal', 'Reconciled', done.join(', '))
    // Inventory entries are missing for a moment during every apply (the DataProduct is written first): no warning for those alone.
    const unresolved = missing.filter((m) => !m.endsWith(INVENTORY_MISSING))
    if (unresolved.length > 0) await events.record(subject, 'Warning', 'ReferencesUnresolved', `missing: ${unresolved.join(', ')}`)
    if (failures.length > 0) await events.record(subject, 'Warning', 'ReconcileFailed', failures.join('; '))
    if (taken.length > 0) await events.record(subject, 'Warning', 'NameTaken', taken.join('; '))
    if (disowned.length > 0) await events.record(subject, 'Warning', 'NotInInventory', `ignored, labelled for this product but not in its inventory: ${disowned.join(', ')}`)
  }
  // Retried with backoff: the other object may go away (its own product deleted, say).
  if (failures.length > 0 || taken.length > 0) throw new Error(`DataProduct ${key}: ${[...taken, ...failures].join('; ')}`)
}

/**
 * On an apply that may only create: no object has this resourceVersion (etcd's first revision is
 * its empty store's), and an apply that names one is refused with 409 Conflict when an object of
 * that name exists, while a missing object is created from it. Tested against the API server in
 * test/integration/reconcile-takeover.test.ts.
 */
const NO_OBJECT_VERSION = '1'

/**
 * Creates a child by server-side apply only if nothing holds its name: in one request, and with
 * no moment between looking and writing in which someone else's object could be taken over. Its
 * fields are the operator's applied ones (a later apply that drops a field removes it, which an
 * object made by POST would not allow). Undefined when the name is held (by anyone).
 */
async function createOnly(rest: KubeRest, child: Child): Promise<KubeObject | undefined> {
  try {
    return await rest.apply<KubeObject>(objectPath(child), {...child, metadata: {...child.metadata, resourceVersion: NO_OBJECT_VERSION}}, {fieldManager: FIELD_MANAGER, force: true})
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 409) return undefined
    throw error
  }
}

/** The Secrets a workload's pods read (env and envFrom of every container, and volumes). */
function secretsReferenced(child: Child): string[] {
  const pod = child.kind === 'StatefulSet' || child.kind === 'Deployment' ? child.spec?.template.spec : child.kind === 'CronJob' ? child.spec?.jobTemplate.spec.template.spec : undefined
  if (!pod) return []
  const containers = [...(pod.initContainers ?? []), ...(pod.containers ?? [])]
  return [
    ...containers.flatMap((c) => (c.env ?? []).map((e) => e.valueFrom?.secretKeyRef?.name)),
    ...containers.flatMap((c) => (c.envFrom ?? []).map((e) => e.secretRef?.name)),
    ...(pod.volumes ?? []).map((v) => v.secret?.secretName),
  ].filter((n): n is string => typeof n === 'string')
}

/** Whether a live StatefulSet claims other volumes (by name) than the desired one. */
function claimsChanged(child: Child, live: KubeObject | undefined): boolean {
  if (child.kind !== 'StatefulSet' || !live) return false
  const names = (templates: PersistentVolumeClaimTemplate[] | undefined) => (templates ?? []).map((t) => t.metadata?.name).sort().join(',')
  return names(child.spec?.volumeClaimTemplates) !== names((live as StatefulSet).spec?.volumeClaimTemplates)
}

/**
 * A StatefulSet's volumeClaimTemplates cannot change once created (the API server refuses the
 * whole update): apply the live ones, so replicas and image still roll out, and say what was held.
 */
function keepImmutable(child: Child, cached: KubeObject | undefined): string | undefined {
  // The cache of a child's kind holds that kind: a StatefulSet child's is a StatefulSet.
  const live = cached as StatefulSet | undefined
  // No claims on one side: not a resize but a replacement (claimsChanged).
  if (child.kind !== 'StatefulSet' || !live?.spec?.volumeClaimTemplates || !child.spec?.volumeClaimTemplates) return undefined
  const wanted = child.spec.volumeClaimTemplates[0]?.spec?.resources?.requests
  const want = wanted?.storage
  const have = live.spec.volumeClaimTemplates.find((t) => t.metadata?.name === 'data')?.spec?.resources?.requests?.storage
  if (!have || want === have || !wanted) return undefined
  wanted.storage = have
  return `size ${have} kept: changing it to ${want} needs its volumes resized, which dappmesh does not do yet`
}

/**
 * Who controls a live object, when it is not this product (by uid: a label can be set by anyone,
 * the uid of the controlling owner only by whoever may write the object, and it names one
 * incarnation of the product). undefined when it is ours or does not exist.
 */
function foreignOwner(object: KubeObject | undefined, product: Product): string | undefined {
  if (!object) return undefined
  // Cluster-scoped (the runtime's ClusterRoleBinding): no owner reference can name a namespaced
  // product, so our labels say whose it is; only cluster administrators can make such objects.
  if (!object.metadata?.namespace) return ownsClusterChild(object, product) ? undefined : 'no dappmesh product (made by someone else)'
  const controller = (object.metadata?.ownerReferences ?? []).find((ref) => ref.controller)
  if (!controller) return 'no controlling owner (made by someone else)'
  if (controller.uid === product.metadata.uid) return undefined
  const sameName = controller.kind === 'DataProduct' && controller.name === product.metadata.name
  return `${controller.kind} ${controller.name}${sameName ? ' (an earlier one of the same name, being deleted)' : ''}`
}

function nameTaken(child: {kind: string; metadata: {name: string}}, owner: string): string {
  return `${child.kind} ${child.metadata.name} already exists and belongs to ${owner}: not taken over; rename the resource it comes from, or remove the other object`
}

function sameStatus(previous: Product['status'], next: ReturnType<typeof productStatus>): boolean {
  if (!previous) return false
  return isDeepStrictEqual({observedGeneration: previous.observedGeneration, conditions: previous.conditions, components: previous.components}, next)
}

function withKind(product: Product): Typed<Product> {
  return {...product, apiVersion: product.apiVersion ?? API_VERSION, kind: product.kind ?? 'DataProduct'}
}

/**
 * Every cached child whose controller is this product (by uid: a same-named successor owns
 * nothing of it), and the cluster-scoped ones labelled with its namespace and name (the watch
 * selects only those managed by the operator, and only cluster administrators make them).
 */
function ownedChildren(ctx: ReconcileContext, product: Product): Array<Watched[ChildKind]> {
  const {uid} = product.metadata
  const namespace = product.metadata.namespace ?? ''
  const children: Array<Watched[ChildKind]> = []
  for (const {kind} of CHILD_KINDS) {
    for (const object of ctx.informer(kind).inNamespace(namespace)) {
      if ((object.metadata.ownerReferences ?? []).some((ref: OwnerReference) => ref.uid === uid && ref.controller)) children.push(object)
    }
  }
  for (const {kind} of CLUSTER_CHILD_KINDS) {
    for (const object of ctx.informer(kind).values()) if (ownsClusterChild(object, product)) children.push(object)
  }
  return children
}

function ownsClusterChild(object: KubeObject, product: Product): boolean {
  const labels = object.metadata?.labels ?? {}
  return labels[NAMESPACE_LABEL] === product.metadata.namespace && labels[PRODUCT_LABEL] === product.metadata.name && labels[MANAGED_BY_LABEL] === FIELD_MANAGER
}

async function addFinalizer(rest: KubeRest, product: Product): Promise<Product> {
  // resourceVersion makes this a compare-and-swap: a concurrent change fails it (409) and the retry re-reads.
  return rest.request<Product>('PATCH', objectPath(withKind(product)), {
    body: {metadata: {finalizers: [...(product.metadata.finalizers ?? []), FINALIZER], resourceVersion: product.metadata.resourceVersion}},
    contentType: 'application/merge-patch+json',
  })
}

/**
 * Deletes the children, and once none is left in the caches (their DELETED events bring the
 * product back here) removes the finalizer, so the product disappears last.
 */
async function finalize(rest: KubeRest, product: Product, ctx: ReconcileContext): Promise<void> {
  if (!(product.metadata.finalizers ?? []).includes(FINALIZER)) return
  const children = ownedChildren(ctx, product)
  for (const child of children) {
    if (child.metadata.deletionTimestamp) continue
    try {
      // Its claims stay (retention Retain) for the product made again.
      if (child.kind === 'StatefulSet') await keptDataRecord(rest).keepClaims(child)
      await rest.delete(objectPath(child))
      ctx.log('info', `deleted ${child.kind} ${child.metadata.namespace}/${child.metadata.name}: its product is being deleted`)
    } catch (error) {
      if (!isNotFound(error)) throw error
    }
  }
  if (children.length > 0) return
  // The caches may not have seen a child yet (made by a reconcile just before the deletion): asked
  // of the API server before the finalizer goes. The garbage collector would remove a namespaced
  // one, but not its claims' record, and never a cluster-scoped one, which only labels tie to us.
  const unseen = await uncachedChildren(rest, product)
  for (const child of unseen) {
    try {
      if (child.kind === 'StatefulSet') await keptDataRecord(rest).keepClaims(child)
      await rest.delete(objectPath(child))
      ctx.log('info', `deleted ${child.kind} ${child.metadata.namespace ?? ''}/${child.metadata.name} (not cached yet): its product is being deleted`)
    } catch (error) {
      if (!isNotFound(error)) throw error
    }
  }
  // Their DELETED events (the caches catch up in order) bring the product back here.
  if (unseen.length > 0) return
  try {
    await rest.request('PATCH', objectPath(withKind(product)), {
      body: {metadata: {finalizers: (product.metadata.finalizers ?? []).filter((f) => f !== FINALIZER), resourceVersion: product.metadata.resourceVersion}},
      contentType: 'application/merge-patch+json',
    })
    ctx.log('info', `DataProduct ${product.metadata.namespace}/${product.metadata.name}: children removed, finalizer released`)
  } catch (error) {
    if (!isNotFound(error)) throw error
  }
}

/** The product's children as the API server has them (one list per kind), for the finalizer's last look. */
async function uncachedChildren(rest: KubeRest, product: Product): Promise<Array<Typed<KubeObject>>> {
  const selector = `${PRODUCT_LABEL}=${product.metadata.name},${MANAGED_BY_LABEL}=${FIELD_MANAGER}`
  const lists = await Promise.all(
    [...CHILD_KINDS, ...CLUSTER_CHILD_KINDS].map(async ({apiVersion, kind}) => {
      const list = await rest.get<KubeList>(resourcePath(apiVersion, kind, product.metadata.namespace), {labelSelector: selector})
      return list.items.map((item) => ({...item, apiVersion, kind}) as Typed<KubeObject>)
    }),
  )
  return lists.flat().filter((child) => {
    if (child.metadata.deletionTimestamp) return false
    if (!child.metadata.namespace) return ownsClusterChild(child, product)
    // A removed storage's credentials stay with its volume; they have no owner.
    return (child.metadata.ownerReferences ?? []).some((ref: OwnerReference) => ref.uid === product.metadata.uid && ref.controller)
  })
}
