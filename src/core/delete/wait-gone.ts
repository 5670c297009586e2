import {TimeoutError} from '../errors.js'
import {resourcePath} from '../kube/paths.js'
import {KubeApiError, type KubeRest} from '../kube/rest.js'
import type {KubeList, Pod} from '../kube/types.js'
import {API_VERSION} from '../model/kinds.js'
import {PRODUCT_LABEL} from '../render/render.js'
import type {DoomedObject} from './plan.js'

/**
 * Waits, by watching (one watch per kind, from a LIST's resourceVersion; no polling), until every
 * object is gone from the API server: a finalizer (the product reconciler's, or foreground
 * deletion waiting for owned children) keeps an object present until it is removed. On timeout,
 * exit 4 naming what remains and the finalizers holding it.
 */
export async function waitUntilGone(client: KubeRest, objects: DoomedObject[], options: {timeoutMs: number; onProgress?: (m: string) => void}): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  const remaining = new Map<string, {object: DoomedObject; finalizers: string[]}>()
  for (const o of objects) remaining.set(`${o.kind}/${o.name}`, {object: o, finalizers: []})
  const overall = new AbortController()
  const timer = setTimeout(() => overall.abort(), options.timeoutMs)
  const byKind = new Map<string, {namespace: string; names: Set<string>}>()
  for (const o of objects) {
    const entry = byKind.get(o.kind) ?? {namespace: o.namespace, names: new Set<string>()}
    entry.names.add(o.name)
    byKind.set(o.kind, entry)
  }

  const gone = (kind: string, name: string) => {
    if (remaining.delete(`${kind}/${name}`)) options.onProgress?.(`${kind}/${name} gone`)
  }
  const waitKind = async (kind: string, namespace: string, names: Set<string>) => {
    const path = resourcePath(API_VERSION, kind, namespace)
    const pending = () => [...names].some((n) => remaining.has(`${kind}/${n}`))
    while (pending() && !overall.signal.aborted) {
      const list = await client.get<KubeList>(path)
      const present = new Map(list.items.map((o) => [o.metadata.name, o]))
      for (const n of names) {
        const live = present.get(n)
        if (live) remaining.get(`${kind}/${n}`)!.finalizers = live.metadata.finalizers ?? []
        else gone(kind, n)
      }
      if (!pending()) return
      const stream = new AbortController()
      const stop = () => stream.abort()
      overall.signal.addEventListener('abort', stop, {once: true})
      try {
        await client.watch(path, {resourceVersion: list.metadata.resourceVersion, timeoutSeconds: Math.max(1, Math.ceil((deadline - Date.now()) / 1000))}, (event) => {
          if (event.type === 'ERROR') return stream.abort() // 410 Gone: list again
          const n = event.object?.metadata?.name
          if (event.type === 'BOOKMARK' || !names.has(n)) return
          if (event.type === 'DELETED') gone(kind, n)
          else if (remaining.has(`${kind}/${n}`)) remaining.get(`${kind}/${n}`)!.finalizers = event.object.metadata.finalizers ?? []
          if (!pending()) stream.abort()
        }, stream.signal)
      } catch (error) {
        if (!(error instanceof KubeApiError)) throw error
      } finally {
        overall.signal.removeEventListener('abort', stop)
      }
    }
  }
  try {
    await Promise.all([...byKind].map(([kind, {namespace, names}]) => waitKind(kind, namespace, names)))
  } finally {
    clearTimeout(timer)
    overall.abort()
  }
  if (remaining.size === 0) return
  const what = [...remaining.values()].map(({object, finalizers}) => `  ${object.kind}/${object.name} in ${object.namespace}${finalizers.length > 0 ? ` (finalizers: ${finalizers.join(', ')})` : ''}`)
  throw new TimeoutError(`not all of the product was gone within ${Math.round(options.timeoutMs / 1000)}s; still there:\n${what.join('\n')}`, [
    'A finalizer holds each of these until its controller removes it: check that the operator runs (dappmesh doctor), or wait longer with --timeout.',
  ])
}

/**
 * A product's pods outlive its objects: the garbage collector deletes a StatefulSet's pods only
 * after the StatefulSet is gone, and a pod then takes up to its grace period to stop (on a real
 * node; kwok's simulated pods vanish at once). --wait promises that the product has stopped, so it
 * also watches, by the product's label, until none of its pods is left (its volumes stay).
 */
export async function waitForPodsGone(client: KubeRest, namespace: string, product: string, options: {timeoutMs: number; onProgress?: (m: string) => void}): Promise<void> {
  const path = resourcePath('v1', 'Pod', namespace)
  const labelSelector = `${PRODUCT_LABEL}=${product}`
  const deadline = Date.now() + options.timeoutMs
  let left: string[] = []
  while (Date.now() < deadline) {
    const list = await client.get<KubeList<Pod>>(path, {labelSelector})
    const names = new Set<string>(list.items.map((pod) => pod.metadata.name))
    left = [...names]
    if (names.size === 0) return
    options.onProgress?.(`waiting for ${names.size} pods of ${product} to stop: ${left.join(', ')}`)
    const stream = new AbortController()
    const timer = setTimeout(() => stream.abort(), Math.max(0, deadline - Date.now()))
    try {
      await client.watch(path, {labelSelector, resourceVersion: list.metadata.resourceVersion, timeoutSeconds: Math.max(1, Math.ceil((deadline - Date.now()) / 1000))}, (event) => {
        if (event.type === 'ERROR') return stream.abort() // 410 Gone: list again
        const name = event.object?.metadata?.name
        if (event.type === 'DELETED') names.delete(name)
        else if (event.type === 'ADDED') names.add(name)
        left = [...names]
        if (names.size === 0) stream.abort()
      }, stream.signal)
    } catch (error) {
      if (!(error instanceof KubeApiError)) throw error
    } finally {
      clearTimeout(timer)
    }
    if (names.size === 0) return
  }
  throw new TimeoutError(`the pods of ${product} did not stop within ${Math.round(options.timeoutMs / 1000)}s: ${left.join(', ')}`, [
    `see why with: kubectl -n ${namespace} describe pod ${left[0] ?? ''}`.trim(),
    'or wait longer with --timeout',
  ])
}
