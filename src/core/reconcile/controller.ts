import type {KubeObject} from '../kube/objects.js'
import type {KubeRest} from '../kube/rest.js'
import {type Cache, Informer, type InformerListener, MultiInformer, keyOf} from './informer.js'
import type {Metrics} from './metrics.js'
import {type HandlerResult, WorkQueue} from './queue.js'
import {selectorMatcher} from './scope.js'
import type {Watched, WatchedName} from './watched.js'

export interface WatchSpec<N extends WatchedName = WatchedName> {
  /** a short name for logs and metrics, e.g. StatefulSet; it says what the informer holds (Watched) */
  name: N
  /** the collection path across every namespace */
  path: string
  /** instead of `path`: several collection paths (one per namespace), watched as one collection */
  paths?: string[]
  labelSelector?: string
  /** a client-side selector: objects it rejects are not cached and cause no reconcile */
  filter?: (object: Watched[N]) => boolean
  /** the primary keys to reconcile when this object changes (default: the object's own key) */
  keysFor?: (object: Watched[N]) => string[]
  /** drops what no reconcile reads from each object before it is cached (see InformerOptions.strip) */
  strip?: (object: Watched[N]) => void
  /** whether a modification is news for the reconcile (default: every one is); see reconcile/changes.ts */
  changed?: (previous: Watched[N], next: Watched[N]) => boolean
  /** whether an added or modified object only brings back what a reconcile wrote (no news); see OwnWrites */
  echo?: (object: Watched[N]) => boolean
}

/** A WatchSpec of any one watched collection (its name decides the type its functions take). */
export type AnyWatchSpec = {[N in WatchedName]: WatchSpec<N>}[WatchedName]

export type Log = (level: 'info' | 'warn' | 'error' | 'debug', message: string) => void

export interface ReconcileContext {
  /** the informer of a watched collection, by its WatchSpec name */
  informer<N extends WatchedName>(name: N): Cache<Watched[N]>
  log: Log
}

export interface ControllerOptions {
  name: string
  rest: KubeRest
  primary: AnyWatchSpec
  secondary?: AnyWatchSpec[]
  reconcile: (key: string, context: ReconcileContext) => Promise<HandlerResult | void>
  concurrency?: number
  baseDelayMs?: number
  maxDelayMs?: number
  /** events add their keys at most this long after the first (a burst becomes one reconcile); default at once */
  coalesceMs?: number
  log?: Log
  metrics?: Metrics
}

/**
 * Keys of the owners of `object` of one kind: a child's change is news for its owner. Owner
 * references are namespace-local, so the owner's key is in the child's namespace.
 */
export function ownerKeys(apiVersion: string, kind: string): (object: KubeObject) => string[] {
  return (object) =>
    (object?.metadata?.ownerReferences ?? [])
      .filter((ref) => ref.kind === kind && ref.apiVersion === apiVersion)
      .map((ref) => (object.metadata.namespace ? `${object.metadata.namespace}/${ref.name}` : ref.name))
}

/** Keys named by a label's value, e.g. dappmesh.io/product on a product's DataStorage. */
export function labelKeys(label: string): (object: KubeObject) => string[] {
  return (object) => {
    const value = object?.metadata?.labels?.[label]
    if (!value) return []
    return [object.metadata.namespace ? `${object.metadata.namespace}/${value}` : value]
  }
}

/**
 * Informers feed a de-duplicating work queue that calls one level-based reconcile function per
 * primary key. Reconciles start only once every informer has listed, so a reconcile never sees a
 * half-filled cache. Nothing is polled: only a change (or a failure's retry) causes work.
 */
export class Controller {
  private readonly informers = new Map<string, Cache<KubeObject>>()
  /** the informers another controller may share: one collection path, no client-side filter or strip */
  private readonly shareable: Array<{name: string; selector?: string; informer: Informer; listener: InformerListener}> = []
  /**
   * The keys being reconciled, each with the events that came for it meanwhile and looked like
   * news only because the answer to the write that caused them had not been read yet.
   */
  private readonly running = new Map<string, Array<() => void>>()
  readonly queue: WorkQueue
  private started = false
  private readonly log: Log

  constructor(private readonly options: ControllerOptions) {
    this.log = options.log ?? (() => {})
    const metrics = options.metrics
    this.queue = new WorkQueue((key) => this.reconcile(key), {
      concurrency: options.concurrency,
      baseDelayMs: options.baseDelayMs,
      maxDelayMs: options.maxDelayMs,
      paused: true,
      onError: (key, error, retryInMs) => {
        metrics?.count('dappmesh_reconcile_errors_total', {controller: options.name})
        this.log('error', `${options.name} ${key}: ${(error as Error)?.message ?? error} (retry in ${Math.round(retryInMs)} ms)`)
      },
      onProcessed: (_key, ms) => {
        metrics?.count('dappmesh_reconciles_total', {controller: options.name})
        metrics?.count('dappmesh_reconcile_seconds_total', {controller: options.name}, ms / 1000)
      },
    })
    metrics?.gauge('dappmesh_queue_depth', {controller: options.name}, () => this.queue.depth)
    for (const typed of [options.primary, ...(options.secondary ?? [])]) {
      // Where the types of the collections meet one generic informer: each spec's functions take
      // what its informer holds, which Watched says by its name (and cache() gives back typed).
      const spec = typed as unknown as WatchSpec<WatchedName> & {
        filter?: (object: KubeObject) => boolean
        keysFor?: (object: KubeObject) => string[]
        strip?: (object: KubeObject) => void
        changed?: (previous: KubeObject, next: KubeObject) => boolean
        echo?: (object: KubeObject) => boolean
      }
      const keysFor = spec.keysFor ?? ((object: KubeObject) => [keyOf(object)])
      const wakes = Object.fromEntries((['ADDED', 'MODIFIED', 'DELETED'] as const).map((event) => [event, metrics?.counter('dappmesh_reconcile_wakes_total', {controller: options.name, resource: spec.name, event})]))
      const wake = (type: 'ADDED' | 'MODIFIED' | 'DELETED', keys: string[]) => {
        // An event that names no key (keysFor found none) wakes nothing.
        if (keys.length === 0) return
        // What wakes reconciles, for the operator bench: each costs more than an event.
        wakes[type]?.()
        for (const key of keys) {
          if (options.coalesceMs) this.queue.addCoalesced(key, options.coalesceMs)
          else this.queue.add(key)
        }
      }
      const listener: InformerListener = (type, object, previous) => {
        if (type === 'MODIFIED' && previous && spec.changed && !spec.changed(previous, object)) return
        const keys = keysFor(object)
        if (type !== 'DELETED' && spec.echo) {
          if (spec.echo(object)) return
          // The watch event of a write can be read before the write's answer (two connections):
          // for a key being reconciled, ask again once that reconcile has read all its answers.
          // Measured: a third of a product's new children, and most of a domain's, woke it again.
          const deferred = keys.find((key) => this.running.has(key))
          if (deferred) {
            this.running.get(deferred)!.push(() => {
              if (!spec.echo!(object)) wake(type, keys)
            })
            return
          }
        }
        wake(type, keys)
      }
      const informers = (spec.paths ?? [spec.path]).map(
        (path) =>
          new Informer<KubeObject>(options.rest, {
            path,
            labelSelector: spec.labelSelector,
            filter: spec.filter,
            strip: spec.strip,
            onEvent: listener,
            onIdleRestart: () => {
              metrics?.count('dappmesh_watch_idle_restarts_total', {controller: options.name, resource: spec.name})
              this.log('debug', `${options.name}: the watch of ${spec.name} fell silent; watching again from where it was`)
            },
            onError: (error, retryInMs) => {
              metrics?.count('dappmesh_watch_errors_total', {controller: options.name, resource: spec.name})
              this.log('warn', `${options.name}: watch of ${spec.name} failed: ${(error as Error)?.message ?? error} (again in ${retryInMs} ms)`)
            },
          }),
      )
      this.informers.set(spec.name, informers.length === 1 ? informers[0] : new MultiInformer(informers))
      if (informers.length === 1 && !spec.filter && !spec.strip) this.shareable.push({name: spec.name, selector: spec.labelSelector, informer: informers[0], listener})
    }
  }

  /** One reconcile of a key; then the events held back while it ran (see `running`) are asked again. */
  private async reconcile(key: string): Promise<HandlerResult | void> {
    this.running.set(key, [])
    try {
      return await this.options.reconcile(key, this.context())
    } finally {
      const held = this.running.get(key) ?? []
      this.running.delete(key)
      for (const recheck of held) recheck()
    }
  }

  /**
   * Lets controllers that watch the same collection (same path and label selector, cached whole)
   * share one informer, as controller-runtime's shared cache does: the mesh, domain and product
   * loops each read DataProducts, DataDomains, ports and contracts, and each copy was a watch of
   * its own, every event parsed once per copy, every object cached once per copy (a sixth of the
   * operator's cache for 100 products). A collection watched whole also serves a label selector on
   * it (the product loop's ports and contracts, labelled by product, from the mesh loop's watch of
   * them all), through a view of its cache and its events that shows only what the selector
   * matches. Call before running them; the informer kept tells the others of each change (the
   * metrics of its controller count the watch's restarts and errors). Returns how many informers
   * were saved.
   */
  static shareInformers(controllers: Controller[]): number {
    const entries = controllers.flatMap((controller) => controller.shareable.map((entry) => ({controller, ...entry})))
    const whole = new Map<string, Informer>()
    for (const {selector, informer} of entries) if (selector === undefined && !whole.has(informer.path)) whole.set(informer.path, informer)
    const first = new Map<string, Informer>()
    let saved = 0
    for (const {controller, name, selector, informer, listener} of entries) {
      const wide = whole.get(informer.path)
      const matches = selector === undefined ? undefined : selectorMatcher(selector)
      if (wide && matches) {
        wide.listen(selectedEvents(listener, matches))
        controller.informers.set(name, new SelectedCache(wide, matches))
        saved++
        continue
      }
      const key = `${informer.path}?${selector ?? ''}`
      const shared = first.get(key)
      if (!shared) {
        first.set(key, informer)
        continue
      }
      shared.listen(listener)
      controller.informers.set(name, shared)
      saved++
    }
    for (const controller of controllers) controller.shareable.length = 0
    return saved
  }

  /** The cache of one watched collection, by its WatchSpec name. */
  cache<N extends WatchedName>(name: N): Cache<Watched[N]> {
    const informer = this.informers.get(name)
    if (!informer) throw new Error(`controller ${this.options.name} has no informer ${name}`)
    return informer as Cache<KubeObject> as Cache<Watched[N]>
  }

  /** Every informer has listed once. */
  get ready(): boolean {
    return this.started && [...this.informers.values()].every((i) => i.isSynced)
  }

  /**
   * Why this controller is not making progress, if it is not: keys have waited or been processed
   * for `afterMs` without any finishing (a reconcile hanging, writes refused), or a watched
   * collection could not be listed or watched for `afterMs`. Undefined when healthy.
   */
  stuck(afterMs: number, now = Date.now()): string | undefined {
    if (!this.started) return undefined
    if (this.queue.busy && now - this.queue.lastProgressAt > afterMs) return `${this.options.name}: no reconcile finished for ${Math.round((now - this.queue.lastProgressAt) / 1000)}s with ${this.queue.depth + this.queue.active} keys waiting`
    for (const [name, informer] of this.informers) {
      const parts = informer instanceof MultiInformer ? informer.parts : informer instanceof SelectedCache ? [informer.whole] : [informer as Informer]
      const since = Math.min(...parts.map((p) => p.failingSince || Number.POSITIVE_INFINITY))
      if (Number.isFinite(since) && now - since > afterMs) return `${this.options.name}: the watch of ${name} has failed for ${Math.round((now - since) / 1000)}s`
    }
    return undefined
  }

  private context(): ReconcileContext {
    return {
      informer: (name) => this.cache(name),
      log: this.log,
    }
  }

  /**
   * Runs until the signal aborts; then lets the reconciles in progress finish (no half-applied
   * product is left by a graceful stop) and resolves.
   */
  async run(signal: AbortSignal): Promise<void> {
    // Events before the caches are full would reconcile against partial state: the queue holds them.
    const runs = [...this.informers.values()].map((informer) => informer.run(signal))
    await Promise.race([Promise.all([...this.informers.values()].map((i) => i.synced)), new Promise((resolve) => signal.addEventListener('abort', resolve, {once: true}))])
    this.started = true
    this.queue.resume()
    if (!signal.aborted) this.log('info', `${this.options.name}: caches synced, reconciling`)
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve()
      else signal.addEventListener('abort', () => resolve(), {once: true})
    })
    await this.queue.shutdown()
    await Promise.all(runs)
  }
}

type LabelTest = (labels: Record<string, string> | undefined) => boolean

/**
 * A label-selected view of an informer that watches its collection whole: what a watch with the
 * selector would cache (see Controller.shareInformers).
 */
class SelectedCache implements Cache<KubeObject> {
  constructor(
    readonly whole: Informer,
    private readonly matches: LabelTest,
  ) {}

  get(key: string): KubeObject | undefined {
    const object = this.whole.get(key)
    return object && this.matches(object.metadata.labels) ? object : undefined
  }

  values(): KubeObject[] {
    return this.whole.values().filter((object) => this.matches(object.metadata.labels))
  }

  inNamespace(namespace: string): KubeObject[] {
    return this.whole.inNamespace(namespace).filter((object) => this.matches(object.metadata.labels))
  }

  get isSynced(): boolean {
    return this.whole.isSynced
  }

  get synced(): Promise<void> {
    return this.whole.synced
  }

  run(signal: AbortSignal): Promise<void> {
    return this.whole.run(signal)
  }
}

/**
 * The events a watch with the selector would send, from those of the whole collection: an object
 * that comes to match it is added, one that stops matching is deleted, the rest are not seen.
 */
function selectedEvents(listener: InformerListener, matches: LabelTest): InformerListener {
  return (type, object, previous) => {
    const now = matches(object.metadata?.labels)
    if (type === 'DELETED') {
      if (now) listener('DELETED', object)
      return
    }
    const before = previous !== undefined && matches(previous.metadata?.labels)
    if (now) listener(before ? type : 'ADDED', object, before ? previous : undefined)
    else if (before) listener('DELETED', object)
  }
}
