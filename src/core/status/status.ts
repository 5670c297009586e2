import {isUserError} from '../errors.js'
import {type KubeTarget, loadKubeConfig, unreachable} from '../kube/kubeconfig.js'
import {locateProduct} from '../kube/locate-product.js'
import {resourcePath} from '../kube/paths.js'
import {refused} from '../kube/refused.js'
import {KubeApiError, KubeRest} from '../kube/rest.js'
import {API_VERSION} from '../model/kinds.js'
import type {ProductRef} from '../project/product-ref.js'
import {type ProductStatus, productStatus} from './report.js'
import {type StatusScope, takeSnapshot} from './snapshot.js'

export interface StatusOptions extends KubeTarget {
  /** a product, or undefined for every product in every namespace */
  ref?: ProductRef
}

export interface StatusResult {
  context: string
  server: string
  products: ProductStatus[]
}

async function connect(options: StatusOptions): Promise<{client: KubeRest; scope: StatusScope}> {
  const loaded = await loadKubeConfig(options)
  const client = await KubeRest.create(loaded, {maxSockets: 12})
  try {
    await client.get('/version')
    if (!options.ref) return {client, scope: {all: true}}
    const product = await locateProduct(client, options.ref)
    return {client, scope: {namespace: product.metadata.namespace, name: product.metadata.name}}
  } catch (error) {
    client.close()
    throw refused(error)
  }
}

async function read(client: KubeRest, scope: StatusScope): Promise<{result: StatusResult; resourceVersion: string}> {
  const snapshot = await takeSnapshot(client, scope)
  const products = snapshot.products.map((p) => productStatus(p, snapshot))
  return {result: {context: client.loaded.context, server: client.loaded.server, products}, resourceVersion: snapshot.resourceVersion}
}

/** The status of one product (not found: exit 1) or of every product (`ref` undefined). */
export async function getStatus(options: StatusOptions): Promise<StatusResult> {
  const {client, scope} = await connect(options)
  try {
    return (await read(client, scope)).result
  } catch (error) {
    throw refused(error)
  } finally {
    client.close()
  }
}

/**
 * Calls `onFrame` with the status now, then again whenever a watched DataProduct changes (the
 * operator records its components' readiness there), until `signal` aborts. Event-driven: a watch
 * from the list's resourceVersion, re-listed when the server ends the stream or answers 410 Gone.
 * Bursts of events are coalesced into one read.
 */
export async function watchStatus(options: StatusOptions, onFrame: (result: StatusResult) => void, signal: AbortSignal): Promise<void> {
  const {client, scope} = await connect(options)
  const path = resourcePath(API_VERSION, 'DataProduct', 'all' in scope ? undefined : scope.namespace)
  const query = 'all' in scope ? {} : {fieldSelector: `metadata.name=${scope.name}`}
  try {
    while (!signal.aborted) {
      const {result, resourceVersion} = await read(client, scope)
      onFrame(result)
      let pending: NodeJS.Timeout | undefined
      let reading = Promise.resolve()
      let failure: unknown
      const stream = new AbortController()
      const refresh = () => {
        reading = reading
          .then(async () => {
            if (!signal.aborted) onFrame((await read(client, scope)).result)
          })
          .catch((error) => {
            failure ??= error
            stream.abort()
          })
      }
      const stop = () => stream.abort()
      signal.addEventListener('abort', stop, {once: true})
      try {
        await client.watch(path, {...query, resourceVersion, timeoutSeconds: 300}, (event) => {
          if (event.type === 'BOOKMARK') return
          if (event.type === 'ERROR') {
            stream.abort() // 410 Gone and friends: list again
            return
          }
          clearTimeout(pending)
          pending = setTimeout(refresh, 100)
        }, stream.signal)
      } catch (error) {
        if (isUserError(error)) throw error
        // The stream broke mid-way (the server went away): unreachable, exit 3.
        if (!(error instanceof KubeApiError)) throw unreachable(client.loaded, error)
        if (error.status === 403 || error.status === 404) throw refused(error)
        await new Promise((resolve) => setTimeout(resolve, 1000))
      } finally {
        signal.removeEventListener('abort', stop)
        clearTimeout(pending)
        await reading
      }
      if (failure) throw failure
    }
  } catch (error) {
    throw refused(error)
  } finally {
    client.close()
  }
}
