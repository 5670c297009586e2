import type {KubeRest} from '../kube/rest.js'

type Labels = Record<string, string>

function labelText(labels: Labels): string {
  const entries = Object.entries(labels)
  if (entries.length === 0) return ''
  return `{${entries.map(([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`).join(',')}}`
}

/** Counters and gauges, rendered in the Prometheus text exposition format for /metrics. */
export class Metrics {
  private readonly counters = new Map<string, Map<string, number>>()
  private readonly gauges = new Map<string, Map<string, () => number>>()

  count(name: string, labels: Labels = {}, by = 1): void {
    const series = this.counters.get(name) ?? new Map<string, number>()
    this.counters.set(name, series)
    const key = labelText(labels)
    series.set(key, (series.get(key) ?? 0) + by)
  }

  /** One series of a counter, its labels rendered once: for what is counted on every request or event. */
  counter(name: string, labels: Labels = {}): (by?: number) => void {
    const series = this.counters.get(name) ?? new Map<string, number>()
    this.counters.set(name, series)
    const key = labelText(labels)
    return (by = 1) => series.set(key, (series.get(key) ?? 0) + by)
  }

  /** A gauge read when scraped. */
  gauge(name: string, labels: Labels, read: () => number): void {
    const series = this.gauges.get(name) ?? new Map<string, () => number>()
    this.gauges.set(name, series)
    series.set(labelText(labels), read)
  }

  value(name: string, labels: Labels = {}): number {
    return this.counters.get(name)?.get(labelText(labels)) ?? this.gauges.get(name)?.get(labelText(labels))?.() ?? 0
  }

  render(): string {
    const lines: string[] = []
    for (const [name, series] of this.counters) {
      lines.push(`# TYPE ${name} counter`)
      for (const [labels, value] of series) lines.push(`${name}${labels} ${value}`)
    }
    for (const [name, series] of this.gauges) {
      lines.push(`# TYPE ${name} gauge`)
      for (const [labels, read] of series) lines.push(`${name}${labels} ${read()}`)
    }
    return `${lines.join('\n')}\n`
  }
}

/** The resource a REST path names, e.g. statefulsets, or dataproducts/status for a subresource. */
export function resourceOfPath(path: string): string {
  // Counted on every request: the segments found by hand, without the arrays of split and filter.
  const query = path.indexOf('?')
  const end = query === -1 ? path.length : query
  const segments: string[] = []
  for (let from = 0; from < end; ) {
    const slash = path.indexOf('/', from)
    const to = slash === -1 || slash > end ? end : slash
    if (to > from) segments.push(path.slice(from, to))
    from = to + 1
  }
  // /api/v1/... or /apis/<group>/<version>/...
  let at = segments[0] === 'api' ? 2 : 3
  if (segments[at] === 'namespaces' && segments.length - at > 2) at += 2
  return segments.length - at > 2 ? `${segments[at]}/${segments[at + 2]}` : (segments[at] ?? 'unknown')
}

/**
 * The same client, counting each write (any request but GET) in
 * dappmesh_api_writes_total{controller,verb,resource}: a steady state must leave it unchanged;
 * and every request, reads included, in dappmesh_api_requests_total{controller,verb,resource}:
 * each costs the operator CPU, so the bench reports what they were. Watches are long-lived
 * streams (one per collection), not counted.
 */
export function countingWrites<T extends Pick<KubeRest, 'request'>>(rest: T, metrics: Metrics, controller: string): T {
  /** by verb and resource: the series to count in (labels rendered once, not on every request) */
  const series = new Map<string, Array<() => void>>()
  const counters = (method: string, resource: string) => {
    const key = `${method} ${resource}`
    let found = series.get(key)
    if (!found) {
      const labels = {controller, verb: method, resource}
      found = [metrics.counter('dappmesh_api_requests_total', labels), ...(method === 'GET' ? [] : [metrics.counter('dappmesh_api_writes_total', labels)])]
      series.set(key, found)
    }
    return found
  }
  return new Proxy(rest, {
    get(target, property, receiver) {
      if (property === 'request') {
        const request: KubeRest['request'] = (method, path, options) => {
          for (const count of counters(method, resourceOfPath(path))) count()
          return target.request(method, path, options)
        }
        return request
      }
      // apply, delete, … call this.request: through the proxy, so they are counted once.
      return Reflect.get(target, property, receiver)
    },
  })
}
