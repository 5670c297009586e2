import {readFile} from 'node:fs/promises'

import {UserError} from '../errors.js'
import {checkProducerContract, type ProductSource} from '../ingest/product.js'
import type {KubeRest} from '../kube/rest.js'
import {type Catalog, CATALOG_NAME, CATALOG_NAMESPACE} from '../reconcile/mesh/catalog.js'
import {runtimeUrl} from '../reconcile/product/runtime.js'
import type {ProducerLocator} from './engine-runs.js'
import type {IngestPort} from './model.js'

/** Where a pod finds its ServiceAccount's token: what a runtime presents to a producer's runtime. */
export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token'

/**
 * The producer of a `product` input source in the mesh catalog (DESIGN §7): the output port
 * `source.port` of product `source.product`, in the consumer's namespace when it has one there,
 * else the one namespace that has it. Its runtime is reached at the address the catalog names (its Service). The catalog's
 * contract is checked before anything is pulled (the producer's runtime is checked again live).
 */
export function producerFromCatalog(catalog: Catalog, input: IngestPort, namespace: string, token?: string): ProductSource {
  const {source} = input
  const label = `input ${input.name} (product ${source.product ?? '?'} port ${source.port ?? '?'})`
  if (!source.product || !source.port) {
    throw new UserError(`${label}: a product source names source.product and source.port`, {suggestions: [`Set both in InputPort ${input.name}.`]})
  }
  const found = catalog.outputPorts.filter((e) => e.product === source.product && e.port === source.port)
  const entry = found.find((e) => e.namespace === namespace) ?? (found.length === 1 ? found[0] : undefined)
  if (!entry) {
    throw new UserError(
      found.length === 0
        ? `${label}: the mesh catalog (${CATALOG_NAMESPACE}/${CATALOG_NAME}) lists no such output port`
        : `${label}: the mesh catalog lists it in several namespaces (${found.map((e) => e.namespace).join(', ')}), none of them ${namespace}`,
      {suggestions: ['Check source.product and source.port, and that the producer is applied in the cluster (dappmesh status).']},
    )
  }
  checkProducerContract(`${label} per the mesh catalog`, entry.contract, {input: input.name, contract: source.contract, expected: input.expected})
  if (entry.runtime === null) {
    throw new UserError(`${label}: the port is served by its own service image, not by a dappmesh runtime, so its rows cannot be read through the runtime API`, {
      suggestions: ['Read the port with another source type (http, s3, postgres), or serve it from the producer\'s runtime (drop service.image).'],
    })
  }
  // Catalogs written before entries named their runtime: the runtime Service, by convention.
  return {input: input.name, baseUrl: entry.runtime ?? runtimeUrl(entry.product!, entry.namespace), product: source.product, port: source.port, contract: source.contract, expected: input.expected, token}
}

/**
 * Locates producers through the mesh catalog, read from the API server at each run (a run is
 * rare; the catalog changes as products come and go): its index and the one shard the producer
 * product is in. The runtime presents its ServiceAccount's token (or DAPPMESH_TOKEN) to the
 * producer, whose DataRoles decide.
 */
export function catalogLocator(client: KubeRest, namespace: string, env: NodeJS.ProcessEnv = process.env): ProducerLocator {
  return async (input) => {
    const {readCatalog} = await import('../reconcile/mesh/catalog-read.js')
    const product = input.source.product
    // Without a product there is no shard to read; producerFromCatalog says what is missing.
    if (!product) return producerFromCatalog({outputPorts: []}, input, namespace)
    const catalog = await readCatalog(client, product).catch((error: unknown) => {
      if (!(error instanceof UserError)) throw error
      throw new UserError(`input ${input.name}: ${error.message}`, {exit: error.exit, suggestions: error.suggestions, cause: error})
    })
    const token = env.DAPPMESH_TOKEN ?? (await readFile(SERVICE_ACCOUNT_TOKEN, 'utf8').then((t) => t.trim(), () => undefined))
    return producerFromCatalog(catalog, input, namespace, token)
  }
}
