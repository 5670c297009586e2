import type {CatalogState} from '../../src/core/reconcile/mesh/catalog.js'
import {PRODUCT_LABEL} from '../../src/core/render/render.js'

export interface GeneratedMesh {
  ports: number
  portsPerProduct?: number
  domains?: number
  /** input ports per product, each reading a port of another product */
  inputsPerProduct?: number
  /** products are named `<prefix>-00000` ... */
  prefix?: string
}

/**
 * A mesh as the operator's caches would hold it, named as render names things (`<product>.<name>`):
 * `ports` output ports, each under a contract, spread over products of `portsPerProduct` ports in
 * `domains` domains (one namespace each), each product also reading ports of other products.
 */
export function generatedState({ports, portsPerProduct = 5, domains = 20, inputsPerProduct = 2, prefix = 'product'}: GeneratedMesh): CatalogState {
  const state: CatalogState = {meshes: [{metadata: {name: 'mesh', uid: '5e0c1d6e-0000-4000-8000-000000000001'}, spec: {}}], domains: [], products: [], outputPorts: [], inputPorts: [], contracts: []}
  // Every object a version of its own, as the API server gives them (the catalog's builder compares them).
  let version = 0
  const resourceVersion = () => String(++version)
  for (let d = 0; d < domains; d++) state.domains.push({metadata: {name: `domain-${d}`, resourceVersion: resourceVersion()}, spec: {mesh: 'mesh', namespace: `domain-${d}`}})
  const products = Math.ceil(ports / portsPerProduct)
  for (let p = 0; p < products; p++) {
    const product = `${prefix}-${String(p).padStart(5, '0')}`
    const namespace = `domain-${p % domains}`
    const labels = {[PRODUCT_LABEL]: product}
    state.products.push({metadata: {name: product, namespace, labels, resourceVersion: resourceVersion()}, spec: {domain: namespace}})
    for (let i = 0; i < portsPerProduct && p * portsPerProduct + i < ports; i++) {
      const port = `entity${i}-api`
      state.outputPorts.push({metadata: {name: `${product}.${port}`, namespace, labels, resourceVersion: resourceVersion()}, spec: {entity: `entity${i}`, type: 'api', schema: `entity${i}@1.0.0/api`, contract: `${port}-contract`}})
      state.contracts.push({metadata: {name: `${product}.${port}-contract`, namespace, labels, resourceVersion: resourceVersion()}, spec: {document: {id: `urn:dappmesh:${namespace}:${product}:${port}`, version: '1.2.0'}}})
    }
    for (let i = 0; i < inputsPerProduct && products > 1; i++) {
      const source = `${prefix}-${String((p + 1 + i * 7) % products).padStart(5, '0')}`
      state.inputPorts.push({metadata: {name: `${product}.from-${source}`, namespace, labels, resourceVersion: resourceVersion()}, spec: {entity: 'entity0', schema: 'entity0@1.0.0/api', source: {type: 'product', product: source, port: 'entity0-api'}}})
    }
  }
  return state
}
