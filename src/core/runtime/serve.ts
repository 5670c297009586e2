import path from 'node:path'

import {ExitCode, UsageError, UserError} from '../errors.js'
import {type KubeTarget, loadKubeConfig} from '../kube/kubeconfig.js'
import {KubeRest} from '../kube/rest.js'
import {requireDriver} from '../storage/registry.js'
import {TokenAuthenticator} from './auth.js'
import type {RuntimeModel} from './model.js'
import {clusterModel, followCluster, localModel} from './model-source.js'
import type {ProducerLocator} from './engine-runs.js'
import type {RunSessionFactory} from './runs.js'
import {mirroredStorages, StorageMirror} from './mirror.js'
import {RunLog} from './run-log.js'
import {Runtime} from './server.js'
import {RuntimeStore} from './store.js'

export interface ServeOptions extends KubeTarget {
  /** A project directory (local runtime)… */
  dir?: string
  /** …or a product installed in the cluster, with its namespace. */
  product?: string
  namespace?: string
  host: string
  port: number
  /** Where the duckdb files live; default `<dir>/.dappmesh/data` locally. */
  dataDir?: string
  auth: boolean
  maxBody: number
  /** How runs execute (the engine's runs by default). */
  runs?: RunSessionFactory
  /** Where storage credentials come from (`DAPPMESH_STORAGE_<NAME>_URL`…): process.env unless a test passes its own. */
  env?: NodeJS.ProcessEnv
  /** Where a `product` input's producer runtime is; default: the mesh catalog, in the cluster (none locally). */
  locate?: ProducerLocator
  /** How often states of a Postgres or S3 storage are copied again (default 30 s). */
  refreshMs?: number
}

export interface ServeHandle {
  runtime: Runtime
  url: string
  /** The copy of Postgres/S3 storages' states, when the product has any (refresh() copies again now). */
  mirror?: StorageMirror
  /** Stops serving: abandons a run in progress, closes connections and the storage. */
  stop(): Promise<void>
}

/**
 * Run records live in the product's duckdb storage (the runtime's volume in the cluster), else in
 * the local copy of its first storage: either is a file in the data directory.
 */
function runLog(model: RuntimeModel, store: RuntimeStore): RunLog | undefined {
  const storage = [...model.storages].find(([, engine]) => engine === 'duckdb')?.[0] ?? [...model.storages.keys()][0]
  return storage === undefined ? undefined : new RunLog(store, storage)
}

/**
 * Starts the product runtime: loads the model (from DIR, or from the API server with --product,
 * then follows it), opens the storage (states of a Postgres or S3 storage are served from a local
 * copy: mirror.ts), and listens. A storage engine with no driver is refused (exit 2).
 */
export async function startServe(options: ServeOptions): Promise<ServeHandle> {
  let client: KubeRest | undefined
  let model: RuntimeModel
  let since: Map<string, string> | undefined
  const follow = new AbortController()
  if (options.product) {
    if (!options.namespace) throw new UsageError('--product needs -n NAMESPACE: the namespace the product is installed in')
    client = await KubeRest.create(await loadKubeConfig(options))
    ;({model, resourceVersions: since} = await clusterModel(client, options.product, options.namespace))
  } else {
    model = await localModel(options.dir ?? '.')
    if (options.auth) client = await KubeRest.create(await loadKubeConfig(options))
  }
  for (const [name, engine] of model.storages) requireDriver({name, engine})
  const dataDir = options.dataDir ?? path.join(options.dir ?? '.', '.dappmesh', 'data')
  const mirrored = mirroredStorages(model)
  const store = await RuntimeStore.open(dataDir, [...model.storages.keys()], {mirrored})

  // Runs read the model current when they start: the cluster runtime swaps it as the product changes.
  // In the cluster, a `product` input's producer is found through the mesh catalog; locally it is pushed.
  const locate = options.locate ?? (client && options.product ? (await import('./producers.js')).catalogLocator(client, options.namespace!, options.env) : undefined)
  const mirror = mirrored.size > 0 ? new StorageMirror({model: () => runtime.model, store, dataDir, env: options.env ?? process.env, refreshMs: options.refreshMs}) : undefined
  const runs: RunSessionFactory = options.runs ?? (await import('./engine-runs.js')).engineRuns({model: () => runtime.model, store, mirror, locate})
  const auth = options.auth && client ? new TokenAuthenticator(client) : undefined
  const runtime: Runtime = new Runtime(model, store, {host: options.host, port: options.port, maxBody: options.maxBody, auth, runs, mirror, runLog: runLog(model, store)})
  // Copied before listening: a runtime answers only once it has its product's rows (and its past runs).
  try {
    await mirror?.start()
    await runtime.runs.restore()
  } catch (error) {
    store.close()
    client?.close()
    throw error
  }
  let url: string
  try {
    url = await runtime.listen()
  } catch (error) {
    await mirror?.stop()
    store.close()
    client?.close()
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') throw new UserError(`port ${options.port} on ${options.host} is in use`, {exit: ExitCode.usage, suggestions: ['Stop what listens there, or pick another --port.']})
    throw error
  }
  let following: Promise<void> = Promise.resolve()
  if (client && options.product && since) {
    following = followCluster(client, options.product, options.namespace!, since, (next) => {
      runtime.model = next
    }, follow.signal, (error) => process.stderr.write(`dappmesh serve: following product ${options.product}: ${error.message}\n`))
  }
  return {
    runtime,
    url,
    mirror,
    async stop() {
      follow.abort()
      await mirror?.stop()
      await runtime.close()
      await following
      client?.close()
    },
  }
}
