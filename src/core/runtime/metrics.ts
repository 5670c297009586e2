/**
 * The runtime's Prometheus metrics, in the text exposition format. Hand-written: a few counters
 * and one histogram do not justify a client library in every runtime of the mesh.
 */
type Labels = Record<string, string>

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]

function key(labels: Labels): string {
  return Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`)
    .join(',')
}

class Counter {
  readonly values = new Map<string, number>()
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' = 'counter',
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels)
    this.values.set(k, (this.values.get(k) ?? 0) + by)
  }

  set(labels: Labels, value: number): void {
    this.values.set(key(labels), value)
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`]
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${v}`)
    return lines.join('\n')
  }
}

class Histogram {
  private readonly series = new Map<string, {counts: number[]; sum: number; count: number}>()
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  observe(labels: Labels, seconds: number): void {
    const k = key(labels)
    let s = this.series.get(k)
    if (!s) this.series.set(k, (s = {counts: BUCKETS.map(() => 0), sum: 0, count: 0}))
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) s.counts[i]++
    s.sum += seconds
    s.count++
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`]
    for (const [k, s] of this.series) {
      const sep = k ? ',' : ''
      BUCKETS.forEach((b, i) => lines.push(`${this.name}_bucket{${k}${sep}le="${b}"} ${s.counts[i]}`))
      lines.push(`${this.name}_bucket{${k}${sep}le="+Inf"} ${s.count}`, `${this.name}_sum${k ? `{${k}}` : ''} ${s.sum}`, `${this.name}_count${k ? `{${k}}` : ''} ${s.count}`)
    }
    return lines.join('\n')
  }
}

export class RuntimeMetrics {
  readonly requests = new Counter('dappmesh_http_requests_total', 'HTTP requests answered, by route and status code.')
  readonly latency = new Histogram('dappmesh_http_request_duration_seconds', 'Time from request to the end of the response, by route.')
  readonly rowsServed = new Counter('dappmesh_rows_served_total', 'Rows sent to clients, by output port.')
  readonly rowsIngested = new Counter('dappmesh_rows_ingested_total', 'Rows accepted by POST /v1/inputs, by input port.')
  readonly rowsRejected = new Counter('dappmesh_rows_rejected_total', 'Rows refused by schema checks, by port.')
  readonly runs = new Counter('dappmesh_runs_total', 'Workflow runs finished, by workflow and result.')
  readonly runDuration = new Histogram('dappmesh_run_duration_seconds', 'Duration of workflow runs, by workflow.')
  readonly contractResults = new Counter('dappmesh_contract_checks_total', 'Contract evaluations after runs, by port and result.')
  readonly ready = new Counter('dappmesh_ready', '1 when /readyz answers 200.', 'gauge')

  render(): string {
    return `${[this.requests, this.latency, this.rowsServed, this.rowsIngested, this.rowsRejected, this.runs, this.runDuration, this.contractResults, this.ready].map((m) => m.render()).join('\n')}\n`
  }
}
