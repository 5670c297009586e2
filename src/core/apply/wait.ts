import {TimeoutError} from '../errors.js'
import {KubeApiError, type KubeRest} from '../kube/rest.js'
import {resourcePath} from '../kube/paths.js'
import type {Condition, Event, KubeList, Stored} from '../kube/types.js'
import {API_VERSION} from '../model/kinds.js'
import type {DataProduct} from '../model/types.js'

type Product = Stored<DataProduct>

export function readyCondition(product: Product | undefined): Condition | undefined {
  return (product?.status?.conditions ?? []).find((c) => c.type === 'Ready')
}

/** Ready for the generation we applied, not a stale Ready from before. */
export function isReady(product: Product | undefined): boolean {
  const ready = readyCondition(product)
  const generation = product?.metadata?.generation
  const observed = ready?.observedGeneration ?? product?.status?.observedGeneration
  return ready?.status === 'True' && (generation === undefined || observed === generation)
}

function describe(product: Product | undefined): string {
  const lines: string[] = []
  for (const c of product?.status?.conditions ?? []) lines.push(`  ${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`)
  for (const comp of product?.status?.components ?? []) {
    if (comp?.ready === false) lines.push(`  component ${comp.kind ?? ''}/${comp.name ?? '?'} not ready${comp.message ? `: ${comp.message}` : ''}`)
  }
  if (lines.length === 0) lines.push('  no status yet: is the operator running? (dappmesh operator run, or dappmesh operator install)')
  return lines.join('\n')
}

/**
 * Watches the DataProduct (list, then watch from its resourceVersion; no polling) until Ready is
 * True for its current generation. Progress goes to `onProgress` whenever a condition changes.
 * On timeout: exit 4, naming what is not ready, why, and the latest warning events.
 */
export async function waitForProduct(rest: KubeRest, namespace: string, name: string, options: {timeoutMs: number; onProgress?: (m: string) => void}): Promise<Product | undefined> {
  const path = resourcePath(API_VERSION, 'DataProduct', namespace)
  const abort = new AbortController()
  let last: Product | undefined
  let lastSummary = ''
  const deadline = Date.now() + options.timeoutMs
  const report = (product: Product | undefined) => {
    last = product
    const summary = (product?.status?.conditions ?? []).map((c) => `${c.type}=${c.status}`).join(' ')
    if (summary && summary !== lastSummary) options.onProgress?.(`${name}: ${summary}`)
    lastSummary = summary
  }
  const timer = setTimeout(() => abort.abort(), options.timeoutMs)
  try {
    while (Date.now() < deadline) {
      const list = await rest.get<KubeList<Product>>(path, {fieldSelector: `metadata.name=${name}`})
      const product = list.items[0]
      if (product) report(product)
      if (isReady(product)) return product
      let done = false
      try {
        await rest.watch<Product>(path, {fieldSelector: `metadata.name=${name}`, resourceVersion: list.metadata.resourceVersion, timeoutSeconds: Math.max(1, Math.ceil((deadline - Date.now()) / 1000))}, (event) => {
          if (event.type === 'ERROR') return // 410 Gone and friends: re-list below
          if (event.type === 'BOOKMARK') return
          report(event.type === 'DELETED' ? undefined : event.object)
          if (isReady(event.object)) {
            done = true
            abort.abort()
          }
        }, abort.signal)
      } catch (error) {
        if (!(error instanceof KubeApiError)) throw error
      }
      if (done) return last
    }
  } finally {
    clearTimeout(timer)
    abort.abort()
  }
  const events = await latestWarnings(rest, namespace, name).catch(() => [])
  throw new TimeoutError(
    `DataProduct ${namespace}/${name} was not Ready within ${Math.round(options.timeoutMs / 1000)}s:\n${describe(last)}${events.length > 0 ? `\nlatest warning events:\n${events.map((e) => `  ${e}`).join('\n')}` : ''}`,
    ['Check the operator (dappmesh doctor) and the product (dappmesh status), or wait longer with --timeout.'],
  )
}

async function latestWarnings(rest: KubeRest, namespace: string, name: string): Promise<string[]> {
  const list = await rest.get<KubeList<Event>>(resourcePath('v1', 'Event', namespace), {fieldSelector: 'type=Warning'})
  return list.items
    .filter((e) => e.involvedObject?.name === name || e.involvedObject?.name?.startsWith(`${name}-`))
    .sort((a, b) => String(b.lastTimestamp ?? b.eventTime).localeCompare(String(a.lastTimestamp ?? a.eventTime)))
    .slice(0, 5)
    .map((e) => `${e.involvedObject.kind}/${e.involvedObject.name}: ${e.reason}: ${e.message}`)
}
