import http from 'node:http'
import type {AddressInfo} from 'node:net'

import {type Need, type Subject, type TokenAuthenticator, describeNeed, granted} from './auth.js'
import {HttpError} from './errors.js'
import {RuntimeMetrics} from './metrics.js'
import type {StorageMirror} from './mirror.js'
import type {RuntimeModel, RuntimeState} from './model.js'
import {openApiDocument} from './openapi.js'
import {pushRows} from './routes/inputs.js'
import {listPorts, portContract, portRows, portSchema} from './routes/ports.js'
import {getRun, startRun} from './routes/workflows.js'
import type {RunLog} from './run-log.js'
import {RunRegistry, type RunSessionFactory} from './runs.js'
import {type RuntimeStore, quoteIdent} from './store.js'

export interface RuntimeOptions {
  host: string
  port: number
  /** Largest accepted push body, in bytes. */
  maxBody: number
  /** Set: every /v1 request needs a token a DataRole grants; unset: no checks (a local runtime). */
  auth?: TokenAuthenticator
  runs: RunSessionFactory
  /** The copy of Postgres/S3 storages' states: a push into one is also published there. */
  mirror?: StorageMirror
  /** Where run records outlive the process (unset: in memory only). */
  runLog?: RunLog
}

/** One request as a handler sees it. */
export interface RequestContext {
  runtime: Runtime
  req: http.IncomingMessage
  res: http.ServerResponse
  url: URL
  /** Refuses (401/403) unless the caller may have `need`. */
  require(need: Need): Promise<void>
  /** Whether the caller may have `need` (for lists that show only what a caller may read). */
  allowed(need: Need): Promise<boolean>
  json(status: number, body: unknown): void
}

type Handler = (ctx: RequestContext, ...params: string[]) => Promise<void> | void

interface Route {
  method: string
  pattern: RegExp
  /** The route's name in metrics (never the raw path: port names would explode the label set). */
  name: string
  handler: Handler
}

const ROUTES: Route[] = [
  {method: 'GET', pattern: /^\/healthz$/, name: '/healthz', handler: (ctx) => ctx.json(200, {ok: true})},
  {method: 'GET', pattern: /^\/readyz$/, name: '/readyz', handler: readyz},
  {method: 'GET', pattern: /^\/metrics$/, name: '/metrics', handler: metrics},
  {method: 'GET', pattern: /^\/v1\/openapi\.json$/, name: '/v1/openapi.json', handler: (ctx) => ctx.json(200, openApiDocument(ctx.runtime.model))},
  {method: 'GET', pattern: /^\/v1\/ports$/, name: '/v1/ports', handler: listPorts},
  {method: 'GET', pattern: /^\/v1\/ports\/([^/]+)$/, name: '/v1/ports/{port}', handler: portRows},
  {method: 'GET', pattern: /^\/v1\/ports\/([^/]+)\/contract$/, name: '/v1/ports/{port}/contract', handler: portContract},
  {method: 'GET', pattern: /^\/v1\/ports\/([^/]+)\/schema$/, name: '/v1/ports/{port}/schema', handler: portSchema},
  {method: 'POST', pattern: /^\/v1\/inputs\/([^/]+)$/, name: '/v1/inputs/{port}', handler: pushRows},
  {method: 'POST', pattern: /^\/v1\/workflows\/([^/]+)\/runs$/, name: '/v1/workflows/{workflow}/runs', handler: startRun},
  {method: 'GET', pattern: /^\/v1\/runs\/([^/]+)$/, name: '/v1/runs/{id}', handler: getRun},
]

/**
 * The product runtime (DESIGN §7): the HTTP API over the product's storage, on plain node:http.
 * The model can be swapped while serving (the cluster runtime follows its product's resources).
 */
export class Runtime {
  readonly metrics = new RuntimeMetrics()
  readonly runs: RunRegistry
  readonly server: http.Server
  private readonly known = new Map<string, boolean>()

  constructor(
    public model: RuntimeModel,
    readonly store: RuntimeStore,
    readonly options: RuntimeOptions,
  ) {
    this.runs = new RunRegistry(
      options.runs,
      (record) => {
        this.metrics.runs.inc({workflow: record.workflow, result: record.status})
        if (record.ms !== null) this.metrics.runDuration.observe({workflow: record.workflow}, record.ms / 1000)
        if (record.status === 'succeeded') for (const s of this.model.storages.keys()) this.dataChanged(s)
        for (const c of contractsOf(record.result)) this.metrics.contractResults.inc({port: c.port, result: c.passed ? 'passed' : 'failed'})
      },
      (workflow) => this.model.flowStates.get(workflow.spec.flow) ?? [],
      options.runLog,
    )
    this.server = http.createServer((req, res) => void this.handle(req, res))
    // Keep-alive longer than a load balancer's idle timeout, so it never reuses a closed socket.
    this.server.keepAliveTimeout = 65_000
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.options.port, this.options.host, () => resolve())
    })
    const address = this.server.address() as AddressInfo
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    return `http://${host}:${address.port}`
  }

  /** Stops taking requests, abandons a run in progress (nothing of it is published), closes the store. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.server.closeIdleConnections()
    await this.runs.abandon()
    // Requests still streaming get a moment to finish; then their sockets are cut.
    const timer = setTimeout(() => this.server.closeAllConnections(), 5000)
    await closed
    clearTimeout(timer)
    this.store.close()
  }

  storageOf(stateRef: string): string {
    return this.model.stateStorage.get(stateRef) ?? [...this.model.storages.keys()][0]
  }

  relationOf(state: RuntimeState): string {
    return `${quoteIdent(this.storageOf(state.ref))}.main.${quoteIdent(state.table)}`
  }

  /** Whether a state was ever published (cached once true: tables are never dropped while serving). */
  async tableExists(state: RuntimeState): Promise<boolean> {
    const storage = this.storageOf(state.ref)
    const key = `${storage}/${state.table}`
    if (this.known.get(key)) return true
    const rows = await this.store.rows(`SELECT 1 FROM duckdb_tables() WHERE database_name = '${storage.replaceAll("'", "''")}' AND schema_name = 'main' AND table_name = '${state.table.replaceAll("'", "''")}'`)
    if (rows.length > 0) this.known.set(key, true)
    return rows.length > 0
  }

  async rowCount(state: RuntimeState): Promise<number> {
    if (!(await this.tableExists(state))) return 0
    const [row] = await this.store.rows<{n: bigint}>(`SELECT count(*) AS n FROM ${this.relationOf(state)}`)
    return Number(row.n)
  }

  /** After a write this process committed: new ETags, and snapshot cursors of the old data expire. */
  dataChanged(storage: string): void {
    this.store.bump(storage)
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = performance.now()
    const url = new URL(req.url ?? '/', 'http://runtime')
    let route: Route | undefined
    let params: string[] = []
    for (const r of ROUTES) {
      const m = r.pattern.exec(url.pathname)
      if (m) {
        if (r.method !== req.method) continue
        route = r
        params = m.slice(1).map((p) => decodeURIComponent(p))
        break
      }
    }
    const name = route?.name ?? 'unmatched'
    res.once('close', () => {
      this.metrics.requests.inc({route: name, method: req.method ?? '', code: String(res.statusCode)})
      this.metrics.latency.observe({route: name}, (performance.now() - started) / 1000)
    })
    let subject: Promise<Subject> | undefined
    const who = () => (subject ??= this.options.auth!.authenticate(req.headers.authorization))
    const ctx: RequestContext = {
      runtime: this,
      req,
      res,
      url,
      require: async (need) => {
        if (!this.options.auth) return
        const s = await who()
        if (!granted(this.model.roles, s, need, this.model.namespace, this.model.product)) {
          throw new HttpError(403, `${s.username} may not do this: it needs ${describeNeed(need)}, and no DataRole of product ${this.model.product} grants it`, {subject: s.username})
        }
      },
      allowed: async (need) => {
        if (!this.options.auth) return true
        return granted(this.model.roles, await who(), need, this.model.namespace, this.model.product)
      },
      json: (status, body) => {
        const text = JSON.stringify(body)
        res.writeHead(status, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text)})
        res.end(text)
      },
    }
    try {
      if (!route) {
        const other = ROUTES.find((r) => r.pattern.test(url.pathname))
        if (other) throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}; use ${ROUTES.filter((r) => r.pattern.test(url.pathname)).map((r) => r.method).join(' or ')}`, {}, {Allow: other.method})
        throw new HttpError(404, `no such endpoint: ${url.pathname}; see /v1/openapi.json for the API`)
      }
      // Every /v1 endpoint needs an authenticated caller when auth is on (even the list and the document).
      if (this.options.auth && url.pathname.startsWith('/v1/')) await who()
      await route.handler(ctx, ...params)
    } catch (error) {
      this.fail(res, error)
    }
  }

  private fail(res: http.ServerResponse, error: unknown): void {
    const e = error instanceof HttpError ? error : new HttpError(500, `internal error: ${(error as Error)?.message ?? String(error)}`)
    if (!(error instanceof HttpError)) process.stderr.write(`dappmesh serve: ${(error as Error)?.stack ?? String(error)}\n`)
    if (res.headersSent) {
      // Mid-stream: the status is already out; cutting the connection tells the client the body is incomplete.
      res.destroy(e)
      return
    }
    // Headers meant for the success answer (a Trailer promise, an ETag) do not belong on an error.
    for (const name of res.getHeaderNames()) res.removeHeader(name)
    const text = JSON.stringify(e.body())
    res.writeHead(e.status, {...e.headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text)})
    res.end(text)
  }
}

async function readyz(ctx: RequestContext): Promise<void> {
  const check = await ctx.runtime.store.check()
  ctx.runtime.metrics.ready.set({}, check.ok ? 1 : 0)
  if (!check.ok) throw new HttpError(503, `not ready: ${check.reason}`)
  ctx.json(200, {ok: true, product: ctx.runtime.model.product})
}

function metrics(ctx: RequestContext): void {
  const text = ctx.runtime.metrics.render()
  ctx.res.writeHead(200, {'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(text)})
  ctx.res.end(text)
}

function contractsOf(result: unknown): Array<{port: string; passed: boolean}> {
  const contracts = (result as {contracts?: unknown} | null)?.contracts
  return Array.isArray(contracts) ? contracts.filter((c) => c && typeof c.port === 'string').map((c) => ({port: c.port, passed: c.passed === true})) : []
}
