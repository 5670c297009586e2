import {clusterName, displayName} from '../../model/child-names.js'
import {API_VERSION} from '../../model/kinds.js'
import {MANAGED_BY_LABEL, PART_OF_LABEL, PRODUCT_LABEL} from '../../render/render.js'
import {FIELD_MANAGER} from '../product/desired.js'
import {runtimeUrl} from '../product/runtime.js'

export const CATALOG_NAME = 'dappmesh-catalog'
export const CATALOG_NAMESPACE = 'dappmesh-system'
export const CATALOG_KEY_NAME = 'catalog.json'
export const CATALOG_LABEL = 'dappmesh.io/catalog'

/** What the catalog is made from: the informers' caches of the whole cluster. */
export interface CatalogState {
  meshes: any[]
  domains: any[]
  products: any[]
  outputPorts: any[]
  inputPorts: any[]
  contracts: any[]
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

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
const str = (value: unknown): string | null => (value === undefined || value === null ? null : String(value))

/**
 * Every OutputPort in the cluster with its product, domain, mesh and contract, and the InputPorts
 * (source type product) that read it. Sorted throughout, so an unchanged mesh gives identical
 * content and the reconciler writes nothing.
 */
export function buildCatalog(state: CatalogState): Catalog {
  const products = new Map(state.products.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]))
  const domains = new Map(state.domains.map((d) => [d.metadata.name, d]))
  const contracts = new Map(state.contracts.map((c) => [`${c.metadata.namespace}/${c.metadata.name}`, c]))
  const entries = state.outputPorts.map((port): CatalogEntry => {
    const namespace = port.metadata.namespace
    const productName = port.metadata.labels?.[PRODUCT_LABEL] ?? null
    const product = productName ? products.get(`${namespace}/${productName}`) : undefined
    const domain = str(product?.spec?.domain)
    const contractName = port.spec?.contract
    // References stay local in the cluster; the resources themselves are `<product>.<local>`.
    const contract = contractName && productName ? contracts.get(`${namespace}/${clusterName(productName, contractName)}`) : undefined
    const portName = displayName(port.metadata.name)
    // An input port names the product and the port it reads; product names are unique per mesh.
    const consumers = state.inputPorts
      .filter((input) => input.spec?.source?.type === 'product' && input.spec.source.product === productName && input.spec.source.port === portName)
      .map((input) => ({product: input.metadata.labels?.[PRODUCT_LABEL] ?? null, namespace: input.metadata.namespace, inputPort: displayName(input.metadata.name)}))
      .sort((a, b) => byText(`${a.namespace}/${a.product}/${a.inputPort}`, `${b.namespace}/${b.product}/${b.inputPort}`))
    return {
      port: portName,
      namespace,
      product: productName,
      domain,
      mesh: str(domain ? domains.get(domain)?.spec?.mesh : undefined),
      entity: str(port.spec?.entity),
      type: str(port.spec?.type),
      schema: str(port.spec?.schema),
      contract: contractName
        ? {name: contractName, id: str(contract?.spec?.document?.id), version: str(contract?.spec?.document?.version), found: contract !== undefined}
        : null,
      runtime: productName && !port.spec?.service?.image ? runtimeUrl(productName, namespace) : null,
      consumers,
    }
  })
  entries.sort((a, b) => byText(`${a.namespace}/${a.product}/${a.port}`, `${b.namespace}/${b.product}/${b.port}`))
  return {outputPorts: entries}
}

/**
 * The catalog ConfigMap. Every DataMesh owns it (a namespaced object may have cluster-scoped
 * owners), so the garbage collector removes it with the last mesh; none of them is its
 * controller, as no single mesh is.
 */
export function desiredCatalogConfigMap(state: CatalogState): any {
  const owners = [...state.meshes]
    .sort((a, b) => byText(a.metadata.name, b.metadata.name))
    .map((mesh) => ({apiVersion: API_VERSION, kind: 'DataMesh', name: mesh.metadata.name, uid: mesh.metadata.uid}))
  const catalog = buildCatalog(state)
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: CATALOG_NAME,
      namespace: CATALOG_NAMESPACE,
      labels: {[CATALOG_LABEL]: 'true', [MANAGED_BY_LABEL]: FIELD_MANAGER, [PART_OF_LABEL]: 'dappmesh'},
      ownerReferences: owners,
    },
    data: {[CATALOG_KEY_NAME]: `${JSON.stringify(catalog, null, 2)}\n`},
  }
}
