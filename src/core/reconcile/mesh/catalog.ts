import type {ObjectMeta} from '../../kube/objects.js'
import {clusterName, displayName} from '../../model/child-names.js'
import type {DataContract, DataDomain, DataMesh, DataProduct, InputPort, OutputPort} from '../../model/types.js'
import {PRODUCT_LABEL} from '../../render/render.js'
import {runtimeUrl} from '../product/runtime.js'

/** The catalog's index ConfigMap (the name of the one catalog ConfigMap before it was sharded). */
export const CATALOG_NAME = 'dappmesh-catalog'
export const CATALOG_NAMESPACE = 'dappmesh-system'
/** The key of a shard's entries (and of the whole catalog in the unsharded format). */
export const CATALOG_KEY_NAME = 'catalog.json'
export const CATALOG_LABEL = 'dappmesh.io/catalog'

/**
 * One of the model's kinds as the caches hold it: Kubernetes' metadata and the model's spec. The
 * catalog reads only a few spec fields and tolerates any of them missing, hence Partial.
 */
export interface InCluster<T extends {spec: object}> {
  metadata: ObjectMeta
  spec?: Partial<T['spec']>
}

/** What the catalog is made from: the informers' caches of the whole cluster. */
export interface CatalogState {
  meshes: InCluster<DataMesh>[]
  domains: InCluster<DataDomain>[]
  products: InCluster<DataProduct>[]
  outputPorts: InCluster<OutputPort>[]
  inputPorts: InCluster<InputPort>[]
  contracts: InCluster<DataContract>[]
}

export interface CatalogConsumer {
  product: string | null
  namespace: string
  inputPort: string
}

export interface CatalogEntry {
  /** the OutputPort's name */
  port: string
  namespace: string
  product: string | null
  domain: string | null
  mesh: string | null
  entity: string | null
  type: string | null
  schema: string | null
  /** the DataContract the port names, with the id and version of its ODCS document */
  contract: {name: string; id: string | null; version: string | null; found: boolean} | null
  /**
   * Where consumers read the port: its product's runtime (DESIGN §7). Null for a port that brings
   * its own service image (its own Deployment serves it, not the runtime's API) or has no product.
   */
  runtime?: string | null
  consumers: CatalogConsumer[]
}

export interface Catalog {
  outputPorts: CatalogEntry[]
}

export const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
/** The catalog's order: by namespace, product and port. */
export const byEntry = (a: CatalogEntry, b: CatalogEntry): number => byText(`${a.namespace}/${a.product}/${a.port}`, `${b.namespace}/${b.product}/${b.port}`)
const str = (value: unknown): string | null => (value === undefined || value === null ? null : String(value))

/** The lookups every entry of one build reads, made once per build. */
export interface CatalogLookups {
  products: Map<string, InCluster<DataProduct>>
  domains: Map<string, InCluster<DataDomain>>
  contracts: Map<string, InCluster<DataContract>>
  /** `<product>/<port>` -> the InputPorts (source type product) that read it */
  consumersOf: Map<string, InCluster<InputPort>[]>
}

/** What one port's entry is made from: the port and the objects it names or is named by. */
export interface EntrySources {
  port: InCluster<OutputPort>
  productName: string | null
  product?: InCluster<DataProduct>
  domain?: InCluster<DataDomain>
  contract?: InCluster<DataContract>
  consumers: InCluster<InputPort>[]
  /** the keys it looked up in CatalogLookups (for a lookup it did not make: undefined) */
  keys: {product?: string; domain?: string; contract?: string; consumers?: string}
}

export function catalogLookups(state: CatalogState): CatalogLookups {
  // An input port names the product and the port it reads; product names are unique per mesh.
  // Grouped once: scanning every input port for every output port is 10^8 steps at 10,000 ports.
  const consumersOf = new Map<string, InCluster<InputPort>[]>()
  for (const input of state.inputPorts) {
    const source = input.spec?.source
    if (source?.type !== 'product') continue
    const key = `${source.product}/${source.port}`
    const list = consumersOf.get(key)
    if (list) list.push(input)
    else consumersOf.set(key, [input])
  }
  return {
    products: new Map(state.products.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p])),
    domains: new Map(state.domains.map((d) => [d.metadata.name, d])),
    contracts: new Map(state.contracts.map((c) => [`${c.metadata.namespace}/${c.metadata.name}`, c])),
    consumersOf,
  }
}

/** The objects `port`'s entry reads (see EntrySources). */
export function entrySources(port: InCluster<OutputPort>, lookups: CatalogLookups): EntrySources {
  const namespace = port.metadata.namespace!
  const productName = port.metadata.labels?.[PRODUCT_LABEL] ?? null
  const contractName = port.spec?.contract
  const keys: EntrySources['keys'] = {}
  if (productName) {
    keys.product = `${namespace}/${productName}`
    keys.consumers = `${productName}/${displayName(port.metadata.name)}`
    // References stay local in the cluster; the resources themselves are `<product>.<local>`.
    if (contractName) keys.contract = `${namespace}/${clusterName(productName, contractName)}`
  }
  const product = keys.product ? lookups.products.get(keys.product) : undefined
  if (product?.spec?.domain) keys.domain = String(product.spec.domain)
  return {
    port,
    productName,
    product,
    domain: keys.domain ? lookups.domains.get(keys.domain) : undefined,
    contract: keys.contract ? lookups.contracts.get(keys.contract) : undefined,
    consumers: keys.consumers ? (lookups.consumersOf.get(keys.consumers) ?? []) : [],
    keys,
  }
}

/** One OutputPort's entry: its product, domain, mesh and contract, and the InputPorts that read it (sorted). */
export function catalogEntry({port, productName, product, domain, contract, consumers}: EntrySources): CatalogEntry {
  const namespace = port.metadata.namespace!
  const contractName = port.spec?.contract
  const document = contract?.spec && 'document' in contract.spec ? contract.spec.document : undefined
  const domainName = str(product?.spec?.domain)
  return {
    port: displayName(port.metadata.name),
    namespace,
    product: productName,
    domain: domainName,
    mesh: str(domainName ? domain?.spec?.mesh : undefined),
    entity: str(port.spec?.entity),
    type: str(port.spec?.type),
    schema: str(port.spec?.schema),
    contract: contractName ? {name: contractName, id: str(document?.id), version: str(document?.version), found: contract !== undefined} : null,
    runtime: productName && !port.spec?.service?.image ? runtimeUrl(productName, namespace) : null,
    consumers: consumers
      .map((input): CatalogConsumer => ({product: input.metadata.labels?.[PRODUCT_LABEL] ?? null, namespace: input.metadata.namespace!, inputPort: displayName(input.metadata.name)}))
      .sort((a, b) => byText(`${a.namespace}/${a.product}/${a.inputPort}`, `${b.namespace}/${b.product}/${b.inputPort}`)),
  }
}

/**
 * Every OutputPort in the cluster with its product, domain, mesh and contract, and the InputPorts
 * (source type product) that read it. Sorted throughout, so an unchanged mesh gives identical
 * content and the reconciler writes nothing. (The mesh loop builds it incrementally: catalog-shards.ts.)
 */
export function buildCatalog(state: CatalogState): Catalog {
  const lookups = catalogLookups(state)
  return {outputPorts: state.outputPorts.map((port) => catalogEntry(entrySources(port, lookups))).sort(byEntry)}
}
