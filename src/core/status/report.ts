import type {Event, KubeObject} from '../kube/types.js'
import {displayName} from '../model/child-names.js'
import {PRODUCT_LABEL} from '../render/render.js'
import type {ComponentView, ConditionView, ProductStatus, Readiness} from './result-schema.js'
import {runtimeView} from './runtime.js'

export type {ComponentView, ConditionView, EventView, ProductStatus, Readiness} from './result-schema.js'

type SharedView = ProductStatus['mesh']

/**
 * An object as status reads it: whoever may write it may have written its status (the operator,
 * a runtime, someone by hand), so every field is checked before it is shown, never trusted whole.
 */
export type Observed = KubeObject & {kind?: string; spec?: Record<string, unknown>; status?: Record<string, unknown>}

/** A Warning event, from core/v1 or (its newer fields) events.k8s.io/v1. */
export type WarningEvent = Partial<Event> & {regarding?: Event['involvedObject']; note?: string; series?: {count?: number; lastObservedTime?: string}}

/** Everything status shows, fetched in a fixed number of requests however many products there are. */
export interface Snapshot {
  products: Observed[]
  domains: Map<string, Observed>
  meshes: Map<string, Observed>
  /** the product kinds' objects carrying a product label, by namespace/product */
  parts: Map<string, Array<Observed & {kind: string}>>
  warnings: WarningEvent[]
}

/** The items of a list someone else wrote: those that are objects. */
function records(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value) ? value.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null) : []
}

function integer(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined
}

export function partsKey(namespace: string, product: string): string {
  return `${namespace}/${product}`
}

function conditions(object: Observed | undefined): ConditionView[] {
  return records(object?.status?.conditions).map((c) => ({
    type: String(c.type),
    status: String(c.status),
    ...(c.reason ? {reason: String(c.reason)} : {}),
    ...(c.message ? {message: String(c.message)} : {}),
    ...(c.lastTransitionTime ? {lastTransitionTime: String(c.lastTransitionTime)} : {}),
  }))
}

/** Readiness from the Ready condition, for the object's current generation only. */
export function readinessOf(object: Observed | undefined): {ready: Readiness; reason?: string} {
  const ready = records(object?.status?.conditions).find((c) => c.type === 'Ready')
  if (!ready) return {ready: null}
  const generation = object?.metadata?.generation
  const observed = integer(ready.observedGeneration) ?? integer(object?.status?.observedGeneration)
  if (generation !== undefined && observed !== undefined && observed < generation) {
    return {ready: null, reason: `Reconciling: generation ${generation} not yet observed (at ${observed})`}
  }
  const why = [ready.reason, ready.message].filter(Boolean).join(': ')
  if (ready.status === 'True') return {ready: true, ...(why ? {reason: why} : {})}
  if (ready.status === 'False') return {ready: false, ...(why ? {reason: why} : {})}
  return {ready: null, ...(why ? {reason: why} : {})}
}

function shared(name: string, object: Observed | undefined): SharedView {
  const {ready, reason} = readinessOf(object)
  return {name, found: object !== undefined, ready: object ? ready : null, ...(object ? (reason ? {reason} : {}) : {reason: 'not found in the cluster'}), conditions: conditions(object)}
}

/**
 * One product's tree. Components come from `status.components` when the operator wrote them,
 * else from the product's own resources and their Ready conditions. Only kind, name, readiness
 * and message are ever taken: no Secret (nor anything else) is copied whole.
 */
export function productStatus(product: Observed, snapshot: Snapshot): ProductStatus {
  // A DataProduct is namespaced: a stored one always says where.
  const namespace = product.metadata.namespace!
  const name = product.metadata.name
  const domainName = String(product.spec?.domain ?? '')
  const domain = snapshot.domains.get(domainName)
  const meshName = String(domain?.spec?.mesh ?? '')
  const mesh = snapshot.meshes.get(meshName)

  const written = product.status?.components
  const componentsFrom = Array.isArray(written) ? 'status' : 'resources'
  const components: ComponentView[] = Array.isArray(written)
    ? written.map((c: Record<string, unknown> | undefined) => ({
        kind: String(c?.kind ?? ''),
        name: String(c?.name ?? ''),
        ready: typeof c?.ready === 'boolean' ? c.ready : null,
        ...(c?.message ? {message: String(c.message)} : {}),
      }))
    : (snapshot.parts.get(partsKey(namespace, name)) ?? []).map((o) => {
        const {ready, reason} = readinessOf(o)
        // The name the project gave it: in the cluster it is qualified by the product's.
        return {kind: o.kind, name: displayName(o.metadata.name), ready, ...(ready === true || !reason ? {} : {message: reason})}
      })
  components.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name))

  const involved = new Set([`DataProduct/${name}`, ...components.map((c) => `${c.kind}/${c.name}`)])
  const events = snapshot.warnings
    .filter((e) => {
      const o: Partial<Event['involvedObject']> = e.involvedObject ?? e.regarding ?? {}
      return (o.namespace ?? e.metadata?.namespace) === namespace && (involved.has(`${o.kind}/${o.name}`) || String(o.name ?? '').startsWith(`${name}-`) || String(o.name ?? '').startsWith(`${name}.`))
    })
    .map((e) => {
      const o: Partial<Event['involvedObject']> = e.involvedObject ?? e.regarding ?? {}
      const lastSeen = e.lastTimestamp ?? e.eventTime ?? e.series?.lastObservedTime ?? e.metadata?.creationTimestamp
      return {object: `${o.kind}/${displayName(String(o.name ?? ''))}`, reason: String(e.reason ?? ''), message: String(e.message ?? e.note ?? ''), count: Number(e.count ?? e.series?.count ?? 1), ...(lastSeen ? {lastSeen: String(lastSeen)} : {})}
    })
    .sort((a, b) => String(b.lastSeen ?? '').localeCompare(String(a.lastSeen ?? '')))
    .slice(0, 10)

  const {ready, reason} = readinessOf(product)
  const runtime = runtimeView(product, components)
  return {
    mesh: shared(meshName, mesh),
    domain: {...shared(domainName, domain), namespace},
    product: {
      name,
      namespace,
      ...(product.spec?.version ? {version: String(product.spec.version)} : {}),
      ready,
      ...(reason ? {reason} : records(product.status?.conditions).length ? {} : {reason: 'no status yet: is the operator running? (dappmesh operator run)'}),
      ...(product.metadata.generation === undefined ? {} : {generation: product.metadata.generation}),
      ...(integer(product.status?.observedGeneration) === undefined ? {} : {observedGeneration: integer(product.status?.observedGeneration)}),
      conditions: conditions(product),
      componentsFrom,
      components,
      ...(runtime ? {runtime} : {}),
      events,
    },
  }
}

/** Which product a labelled object belongs to. */
export function productOfPart(object: KubeObject | undefined): string | undefined {
  return object?.metadata?.labels?.[PRODUCT_LABEL]
}
