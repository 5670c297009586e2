import type {Manifest, RenderedProduct} from '../render/render.js'

/**
 * The set of objects a product owns, recorded on its DataProduct. Prune deletes only what is in
 * the previous inventory AND carries the product's label: never anything else, never the shared
 * DataMesh/DataDomain.
 */
export const INVENTORY_ANNOTATION = 'dappmesh.io/inventory'

export function inventoryOf(objects: Manifest[]): string[] {
  return objects.filter((o) => o.kind !== 'DataProduct').map((o) => `${o.kind}/${o.metadata.name}`).sort()
}

export function parseInventory(annotations: Record<string, string> | undefined): Set<string> {
  try {
    const list = JSON.parse(annotations?.[INVENTORY_ANNOTATION] ?? '[]')
    return new Set(Array.isArray(list) ? list.filter((x) => typeof x === 'string') : [])
  } catch {
    return new Set()
  }
}

/**
 * The rendered DataProduct carrying the inventory apply records: what the project renders, plus
 * `leftovers` (objects that left the project but were not pruned, so a later --prune finds them).
 */
export function productWithInventory(rendered: RenderedProduct, leftovers: Array<{kind: string; metadata: {name: string}}>): Manifest {
  const product = rendered.objects.find((o) => o.kind === 'DataProduct')!
  const inventory = [...new Set([...inventoryOf(rendered.objects), ...leftovers.map((o) => `${o.kind}/${o.metadata.name}`)])].sort()
  return {...product, metadata: {...product.metadata, annotations: {...product.metadata.annotations, [INVENTORY_ANNOTATION]: JSON.stringify(inventory)}}}
}
