import type {KubeObject} from '../kube/objects.js'
import {KubeApiError, type KubeRest, type WatchEvent, WatchIdleError} from '../kube/rest.js'
import {cacheShape} from './cache-shape.js'

export type InformerEventType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface InformerOptions<T extends KubeObject = KubeObject> {
  /** the collection path, e.g. /apis/apps/v1/statefulsets (every namespace) */
  path: string
  labelSelector?: string
  /**
   * Objects for which this is false are treated as not in the collection (a client-side
   * selector): not cached, and an object that stops passing is reported as deleted.
   */
  filter?: (object: T) => boolean
  /**
   * Removes, in place, more fields no reconcile reads, before the object is cached or passed on:
   * the caches hold every watched object for the life of the process. What goes of each kind
   * anyway (managedFields always) is said in one place, cache-shape.ts.
   */
  strip?: (object: T) => void
  /** told of every change to the cache, after the cache holds it (with what it held before, for MODIFIED); more with `listen` */
  onEvent?: InformerListener<T>
  /** told of every failed list or watch, with the delay before the next attempt */
  onError?: (error: unknown, retryInMs: number) => void
  /** told when a watch that fell silent (no event, no bookmark) is restarted from its resourceVersion */
  onIdleRestart?: () => void
  /** a watch silent this long is restarted (default: watchIdleTimeoutMs(), $DAPPMESH_WATCH_IDLE_TIMEOUT) */
  idleTimeoutMs?: number
  /** first restart delay after a failure (default 500 ms), doubling up to maxBackoffMs (default 30 s) */
  baseBackoffMs?: number
  maxBackoffMs?: number
}

export type InformerListener<T extends KubeObject = KubeObject> = (type: InformerEventType, object: T, previous?: T) => void

/** What a reconciler reads: one collection's cached objects. */
export interface Cache<T extends KubeObject = KubeObject> {
  get(key: string): T | undefined
  values(): T[]
  /** The objects of one namespace: a reconcile reads its own namespace without visiting the whole cluster's cache. */
  inNamespace(namespace: string): T[]
  readonly isSynced: boolean
  readonly synced: Promise<void>
  run(signal: AbortSignal): Promise<void>
}

export function keyOf(object: {metadata: {namespace?: string; name: string}}): string {
  return object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : object.metadata.name
}

/** The resourceVersion a 410 Gone (or any watch ERROR) makes stale: list again. */
class Relist extends Error {}

/**
 * Keeps an in-memory copy of one collection current without polling: list once, then watch from
 * the list's resourceVersion with bookmarks (so a re-watch resumes where the last one ended),
 * relist on 410 Gone or an ERROR event, and restart with exponential backoff after any failure.
 * A watch the server ends (timeoutSeconds, an API server restart) is resumed, not relisted.
 */
export class Informer<T extends KubeObject = KubeObject> implements Cache<T> {
  private readonly cache = new Map<string, T>()
  /** the cache's keys by namespace ('' for cluster-scoped objects) */
  private readonly byNamespace = new Map<string, Set<string>>()
  private resourceVersion = ''
  private syncedResolve!: () => void
  private hasSynced = false
  /** resolves once the first list is in the cache */
  readonly synced: Promise<void> = new Promise((resolve) => (this.syncedResolve = resolve))
  /** how many lists this informer made (the first one and each relist) */
  lists = 0
  /** how many silent watches were restarted */
  idleRestarts = 0
  /** when the list or watch last worked (a list, an event or a bookmark, a watch the server ended): for /healthz */
  lastContactAt = 0
  /** since when lists and watches have been failing (0: they are not) */
  failingSince = 0
  private readonly listeners: Array<InformerListener<T>> = []
  private running?: Promise<void>

  constructor(private readonly rest: KubeRest, private readonly options: InformerOptions<T>) {
    if (options.onEvent) this.listeners.push(options.onEvent)
  }

  /** Tells `listener` of every change too: one informer shared by several controllers (see Controller.shareInformers). */
  listen(listener: InformerListener<T>): void {
    this.listeners.push(listener)
  }

  private emit(type: InformerEventType, object: T, previous?: T): void {
    for (const listener of this.listeners) listener(type, object, previous)
  }

  get isSynced(): boolean {
    return this.hasSynced
  }

  /** the collection path it lists and watches */
  get path(): string {
    return this.options.path
  }

  private strip(object: T): T {
    cacheShape(object)
    if (object) this.options.strip?.(object)
    return object
  }

  get(key: string): T | undefined {
    return this.cache.get(key)
  }

  values(): T[] {
    return [...this.cache.values()]
  }

  inNamespace(namespace: string): T[] {
    const keys = this.byNamespace.get(namespace)
    if (!keys) return []
    const objects: T[] = []
    for (const key of keys) objects.push(this.cache.get(key)!)
    return objects
  }

  private store(key: string, object: T): void {
    this.cache.set(key, object)
    const namespace = object.metadata.namespace ?? ''
    let keys = this.byNamespace.get(namespace)
    if (!keys) this.byNamespace.set(namespace, (keys = new Set()))
    keys.add(key)
  }

  private forget(key: string, object: T): void {
    this.cache.delete(key)
    const namespace = object.metadata.namespace ?? ''
    const keys = this.byNamespace.get(namespace)
    keys?.delete(key)
    if (keys?.size === 0) this.byNamespace.delete(namespace)
  }

  /** Runs until the signal aborts. A shared informer runs once: a second call while it runs joins the first. */
  run(signal: AbortSignal): Promise<void> {
    this.running ??= this.loop(signal).finally(() => (this.running = undefined))
    return this.running
  }

  private async loop(signal: AbortSignal): Promise<void> {
    const base = this.options.baseBackoffMs ?? 500
    const max = this.options.maxBackoffMs ?? 30_000
    let failures = 0
    let needList = true
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.list()
          needList = false
        }
        const started = Date.now()
        await this.watch(signal)
        this.contact()
        // A stream the server ends at once, again and again, must not become a busy loop.
        if (Date.now() - started < 1000) await sleep(base, signal)
        failures = 0
      } catch (error) {
        if (signal.aborted) return
        if (error instanceof Relist) {
          needList = true
          continue
        }
        if (error instanceof WatchIdleError) {
          // Presumed a dead connection, not stale data: watch again from where we were.
          this.idleRestarts++
          this.options.onIdleRestart?.()
          continue
        }
        needList = true
        if (this.failingSince === 0) this.failingSince = Date.now()
        failures++
        const delay = Math.min(max, base * 2 ** (failures - 1))
        this.options.onError?.(error, delay)
        await sleep(delay, signal)
      }
    }
  }

  private contact(): void {
    this.lastContactAt = Date.now()
    this.failingSince = 0
  }

  private async list(): Promise<void> {
    const list = await this.rest.list<T>(this.options.path, {labelSelector: this.options.labelSelector})
    this.lists++
    this.contact()
    const kind = list.kind?.replace(/List$/, '')
    const apiVersion = list.apiVersion
    const seen = new Set<string>()
    for (const item of list.items) {
      // Items of a list carry no kind/apiVersion; watch events do. Give them the same shape.
      item.kind ??= kind
      item.apiVersion ??= apiVersion
      this.strip(item)
      if (this.options.filter && !this.options.filter(item)) continue
      const key = keyOf(item)
      seen.add(key)
      const old = this.cache.get(key)
      this.store(key, item)
      if (!old) this.emit('ADDED', item)
      else if (old.metadata.resourceVersion !== item.metadata.resourceVersion) this.emit('MODIFIED', item, old)
    }
    for (const [key, old] of this.cache) {
      if (!seen.has(key)) {
        this.forget(key, old)
        this.emit('DELETED', old)
      }
    }
    this.resourceVersion = list.metadata.resourceVersion ?? ''
    if (!this.hasSynced) {
      this.hasSynced = true
      this.syncedResolve()
    }
  }

  private async watch(signal: AbortSignal): Promise<void> {
    let relist = false
    const local = new AbortController()
    const abort = () => local.abort()
    signal.addEventListener('abort', abort, {once: true})
    // Some minutes per watch, like client-go, so a silently dead connection is noticed.
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300)
    try {
      await this.rest.watch<T>(this.options.path, {labelSelector: this.options.labelSelector, resourceVersion: this.resourceVersion, timeoutSeconds}, (event: WatchEvent<T>) => {
        if (relist) return
        this.contact()
        if (event.type === 'ERROR') {
          relist = true
          local.abort()
          return
        }
        const object = event.type === 'BOOKMARK' ? event.object : this.strip(event.object)
        if (object?.metadata?.resourceVersion) this.resourceVersion = object.metadata.resourceVersion
        if (event.type === 'BOOKMARK') return
        const key = keyOf(object)
        let type: InformerEventType = event.type
        if (type !== 'DELETED' && this.options.filter && !this.options.filter(object)) {
          // Out of scope now (or never in it): gone from this cache's point of view.
          if (!this.cache.has(key)) return
          type = 'DELETED'
        }
        const old = this.cache.get(key)
        if (type === 'DELETED') {
          if (old) this.forget(key, old)
        } else {
          // A list's items are newer than what an older watch may still replay.
          if (old && old.metadata.resourceVersion === object.metadata.resourceVersion) return
          this.store(key, object)
        }
        this.emit(type, object, type === 'MODIFIED' ? old : undefined)
      }, local.signal, {idleTimeoutMs: this.options.idleTimeoutMs})
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 410) throw new Relist()
      throw error
    } finally {
      signal.removeEventListener('abort', abort)
    }
    if (relist) throw new Relist()
  }
}

/**
 * One collection watched through several paths (e.g. one per namespace, as kubebuilder's
 * multi-namespace cache does): each path has its own informer; reads see all of them.
 */
export class MultiInformer<T extends KubeObject = KubeObject> implements Cache<T> {
  readonly synced: Promise<void>

  constructor(readonly parts: Array<Informer<T>>) {
    this.synced = Promise.all(parts.map((p) => p.synced)).then(() => {})
  }

  get isSynced(): boolean {
    return this.parts.every((p) => p.isSynced)
  }

  get(key: string): T | undefined {
    for (const part of this.parts) {
      const object = part.get(key)
      if (object) return object
    }
    return undefined
  }

  values(): T[] {
    return this.parts.flatMap((p) => p.values())
  }

  inNamespace(namespace: string): T[] {
    return this.parts.flatMap((p) => p.inNamespace(namespace))
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all(this.parts.map((p) => p.run(signal)))
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve()
      return
    }
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, {once: true})
  })
}
