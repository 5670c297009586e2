import {setMaxListeners} from 'node:events'
import http from 'node:http'
import type {AddressInfo} from 'node:net'

import {ensureCrds} from '../apply/crds.js'
import {UsageError, UserError} from '../errors.js'
import {loadKubeConfig, probeServer} from '../kube/kubeconfig.js'
import {KubeRest} from '../kube/rest.js'
import {rateLimitFromEnv} from '../kube/rate-limit.js'
import {Controller, type Log} from './controller.js'
import {operatorApiConnections} from './footprint.js'
import {LostLeadershipError, leaderWriteGate, runAsLeader} from './leader.js'
import {Metrics, countingWrites} from './metrics.js'
import {type Scope, describeScope} from './scope.js'
import {domainController} from './domain/controller.js'
import {meshController} from './mesh/controller.js'
import {productController} from './product/controller.js'

export const LOOPS = ['mesh', 'domain', 'product'] as const
export type Loop = (typeof LOOPS)[number]
/** The loops this version runs. */
export const AVAILABLE_LOOPS: readonly Loop[] = ['mesh', 'domain', 'product']

export interface OperatorOptions {
  kubeconfig?: string
  context?: string
  only?: Loop[]
  healthPort?: number
  metricsPort?: number
  bindAddress?: string
  concurrency?: number
  /** install or upgrade the CRDs first when missing or older (default true) */
  installCrds?: boolean
  /** run the loops only while holding the Lease dappmesh-operator in this namespace */
  leaderElect?: boolean
  leaderElectionNamespace?: string
  /** the dappmesh image every product's runtime and workflow triggers run */
  runtimeImage: string
  /** the client-side rate limit on API requests (default $DAPPMESH_KUBE_QPS/$DAPPMESH_KUBE_BURST, else 50 and 100) */
  kubeQps?: number
  kubeBurst?: number
  /** /healthz fails when a loop made no progress for this long (default 120 s) */
  stuckAfterMs?: number
  /** reconcile only these namespaces and/or objects with these labels (default: the whole cluster) */
  scope?: Scope
  log: Log
  /** told of each server's address once it listens */
  onListening?: (what: 'health' | 'metrics', url: string) => void
}

export interface OperatorResult {
  loops: Loop[]
  reconciles: number
  errors: number
}

export function parseLoops(only: string | undefined): Loop[] {
  if (!only) return [...LOOPS]
  const loops = only.split(',').map((s) => s.trim()).filter(Boolean)
  const unknown = loops.filter((l) => !(LOOPS as readonly string[]).includes(l))
  if (unknown.length > 0 || loops.length === 0) throw new UsageError(`--only takes a comma-separated list of ${LOOPS.join(', ')}; got ${only}`, ['for example: --only product'])
  return [...new Set(loops)] as Loop[]
}

function listen(server: http.Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo
      resolve(`http://${host}:${address.port}`)
    })
  })
}

/**
 * Runs the reconcile loops against one cluster until the signal aborts, with /healthz (the loops
 * make progress and, with leader election, the lease is surely held), /readyz (every informer has
 * listed) and /metrics (Prometheus text).
 */
export async function runOperator(options: OperatorOptions, signal: AbortSignal): Promise<OperatorResult> {
  const scope = options.scope ?? {}
  // The mesh loop counts and catalogues the whole cluster: it cannot be confined to namespaces.
  const confined = (scope.namespaces?.length ?? 0) > 0
  if (confined && options.only?.includes('mesh')) {
    throw new UsageError('the mesh loop counts and catalogues the whole cluster and cannot be confined to --namespace', [
      'Run it in one operator without --namespace (--only mesh, optionally with --selector), and the domain and product loops in others with --namespace.',
    ])
  }
  const loops = (options.only ?? LOOPS.filter((l) => !(confined && l === 'mesh'))).filter((l) => AVAILABLE_LOOPS.includes(l))
  for (const l of options.only ?? []) if (!AVAILABLE_LOOPS.includes(l)) options.log('warn', `the ${l} loop is not available in this version; running ${AVAILABLE_LOOPS.join(', ')}`)
  // Each informer's watch listens for the stop signal.
  setMaxListeners(0, signal)
  const loaded = await loadKubeConfig({kubeconfig: options.kubeconfig, context: options.context})
  await probeServer(loaded)
  // Every informer holds one connection open for its watch (one per kind and namespace with
  // --namespace), beside the cap: the cap bounds only the reconciles' requests.
  const limits = rateLimitFromEnv()
  const rateLimit = {qps: options.kubeQps ?? limits.qps, burst: options.kubeBurst ?? limits.burst}
  const rest = await KubeRest.create(loaded, {maxSockets: operatorApiConnections(), rateLimit})
  // A leader's loops write only while it surely holds the lease; the lease itself is renewed through `rest`.
  let heldUntil = 0
  const writer = options.leaderElect ? rest.gated(leaderWriteGate(() => heldUntil)) : rest
  // Without its CRDs every watch fails: install them, or say so once instead of retrying forever.
  const crds = await ensureCrds(rest, {install: options.installCrds ?? true, timeoutMs: 60_000}).catch((error) => {
    rest.close()
    throw error
  })
  if (crds !== 'current') options.log('info', `CRDs ${crds}`)
  const metrics = new Metrics()
  const controllers: Controller[] = []
  metrics.gauge('dappmesh_api_requests_throttled', {}, () => rest.throttled)
  metrics.gauge('dappmesh_api_connections', {use: 'requests'}, () => rest.connections.requests)
  metrics.gauge('dappmesh_api_connections', {use: 'watches'}, () => rest.connections.watches)
  // Where the resident memory is: V8's heap, or memory outside it (buffers, TLS, native code).
  metrics.gauge('nodejs_heap_used_bytes', {}, () => process.memoryUsage().heapUsed)
  metrics.gauge('nodejs_heap_total_bytes', {}, () => process.memoryUsage().heapTotal)
  metrics.gauge('nodejs_external_memory_bytes', {}, () => process.memoryUsage().external)
  metrics.gauge('process_resident_memory_bytes', {}, () => process.memoryUsage.rss())
  if (loops.includes('mesh')) controllers.push(meshController(countingWrites(writer, metrics, 'mesh'), {log: options.log, metrics, selector: scope.selector}))
  if (loops.includes('domain')) controllers.push(domainController(countingWrites(writer, metrics, 'domain'), {log: options.log, metrics, concurrency: options.concurrency, scope}))
  if (loops.includes('product')) controllers.push(productController(countingWrites(writer, metrics, 'product'), {runtimeImage: options.runtimeImage, log: options.log, metrics, concurrency: options.concurrency, scope}))
  Controller.shareInformers(controllers)

  const host = options.bindAddress ?? '127.0.0.1'
  const handler = (serveMetrics: boolean) => (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = (req.url ?? '/').split('?')[0]
    if (url === '/healthz') {
      const problem = unhealthy()
      res.writeHead(problem ? 500 : 200, {'content-type': 'text/plain'}).end(problem ? `${problem}\n` : 'ok\n')
    } else if (url === '/readyz') {
      // A follower is ready too: it is healthy, only waiting for its turn.
      const ready = (options.leaderElect && !leading) || controllers.every((c) => c.ready)
      res.writeHead(ready ? 200 : 503, {'content-type': 'text/plain'}).end(ready ? 'ok\n' : 'informers not synced yet\n')
    } else if (url === '/metrics' && serveMetrics) {
      res.writeHead(200, {'content-type': 'text/plain; version=0.0.4'}).end(metrics.render())
    } else {
      res.writeHead(404, {'content-type': 'text/plain'}).end('not found\n')
    }
  }
  const stuckAfterMs = options.stuckAfterMs ?? 120_000
  /** Why a liveness probe should restart this process, if it should: a lease it may have lost, a loop that does not move. */
  const unhealthy = (): string | undefined => {
    if (options.leaderElect && leading && Date.now() >= heldUntil) return 'the leader could not renew its lease in time and has stopped writing'
    for (const controller of controllers) {
      const stuck = controller.stuck(stuckAfterMs)
      if (stuck) return stuck
    }
    return undefined
  }
  const servers: http.Server[] = []
  const electionClients: KubeRest[] = []
  let leading = false
  try {
    const separateMetrics = options.metricsPort !== undefined && options.metricsPort !== options.healthPort
    if (options.healthPort !== undefined) {
      const server = http.createServer(handler(!separateMetrics))
      servers.push(server)
      options.onListening?.('health', await listen(server, options.healthPort, host))
    }
    if (separateMetrics) {
      const server = http.createServer(handler(true))
      servers.push(server)
      options.onListening?.('metrics', await listen(server, options.metricsPort!, host))
    }
    options.log('info', `running the ${loops.join(', ')} loop${loops.length === 1 ? '' : 's'} against ${loaded.server} (context ${loaded.context}) for ${describeScope(scope)}`)
    const runAll = async (until: AbortSignal) => {
      setMaxListeners(0, until)
      leading = true
      await Promise.all(controllers.map((c) => c.run(until)))
    }
    if (options.leaderElect) {
      // The lease has a client of its own (its own connections, no rate limit): a renewal must not
      // wait behind the loops' requests, or a busy leader would lose its lease for being busy.
      const leaseClient = await KubeRest.create(loaded, {maxSockets: 2})
      electionClients.push(leaseClient)
      await runAsLeader(countingWrites(leaseClient, metrics, 'leader-election'), {namespace: options.leaderElectionNamespace ?? 'dappmesh-system', name: 'dappmesh-operator', log: options.log, onHeldUntil: (until) => (heldUntil = until)}, signal, runAll).catch((error) => {
        if (error instanceof LostLeadershipError) throw new UserError(`${error.message}: stopped so that only one operator writes`, {suggestions: ['Restart it; it becomes a candidate again.']})
        throw error
      })
    } else {
      await runAll(signal)
    }
    options.log('info', 'stopped')
  } finally {
    for (const server of servers) server.close()
    for (const client of electionClients) client.close()
    rest.close()
  }
  return {
    loops,
    reconciles: loops.reduce((n, loop) => n + metrics.value('dappmesh_reconciles_total', {controller: loop}), 0),
    errors: loops.reduce((n, loop) => n + metrics.value('dappmesh_reconcile_errors_total', {controller: loop}), 0),
  }
}
