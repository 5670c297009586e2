import {parseInventory} from '../apply/inventory.js'
import {mapPool} from '../apply/pool.js'
import {UserError} from '../errors.js'
import {locateProduct} from '../kube/locate-product.js'
import {resourcePath} from '../kube/paths.js'
import {KubeApiError, type KubeRest} from '../kube/rest.js'
import type {KubeList, KubeObject} from '../kube/types.js'
import {displayName} from '../model/child-names.js'
import {API_VERSION, KINDS, kindInfo} from '../model/kinds.js'
import type {ProductRef} from '../project/product-ref.js'
import {PRODUCT_LABEL} from '../render/render.js'
import type {DoomedObject} from './result-schema.js'

export type {DoomedObject} from './result-schema.js'

export interface DeletionPlan {
  product: string
  namespace: string
  /** the DataProduct first (when it still exists), then its resources */
  objects: DoomedObject[]
  warnings: string[]
}

const PART_KINDS = KINDS.filter((k) => k.scope === 'Namespaced' && k.kind !== 'DataProduct')

/**
 * What deleting a product removes: its DataProduct, every product-kind object in its namespace
 * carrying its label, and whatever its inventory lists (unless another product's label now claims
 * it). Only namespaced dappmesh kinds in the product's own namespace: never the shared DataMesh or
 * DataDomain, never the namespace. Objects the operator made are owned by these and go with them
 * (garbage collection).
 */
export async function planDeletion(client: KubeRest, ref: ProductRef, options: {dataMayRemain?: boolean} = {}): Promise<DeletionPlan> {
  // Without a namespace, the product itself says where it is.
  const namespace = ref.namespace ?? (await locateProduct(client, ref)).metadata.namespace
  const name = ref.name
  const warnings: string[] = []
  const product = await client.find<KubeObject>(resourcePath(API_VERSION, 'DataProduct', namespace, name)).catch((error) => {
    if (error instanceof KubeApiError && error.status === 404) return undefined
    throw error
  })
  const labelled = await Promise.all(
    PART_KINDS.map((k) =>
      client
        .get<KubeList>(resourcePath(API_VERSION, k.kind, namespace), {labelSelector: `${PRODUCT_LABEL}=${name}`})
        .then((l) => l.items.map((o) => ({kind: k.kind, name: o.metadata.name, namespace})))
        .catch((error) => {
          if (error instanceof KubeApiError && error.status === 404) return []
          throw error
        }),
    ),
  )
  const objects: DoomedObject[] = labelled.flat()
  const known = new Set(objects.map((o) => `${o.kind}/${o.name}`))
  const listed = [...parseInventory(product?.metadata?.annotations)].filter((entry) => !known.has(entry))
  const fromInventory = await mapPool(listed, 8, async (entry) => {
    const [kind, objectName] = entry.split('/')
    if (!objectName || kindInfo(kind)?.scope !== 'Namespaced' || kind === 'DataProduct') return undefined
    const live = await client.find<KubeObject>(resourcePath(API_VERSION, kind, namespace, objectName))
    if (!live) return undefined
    const owner = live.metadata?.labels?.[PRODUCT_LABEL]
    if (owner !== undefined && owner !== name) {
      warnings.push(`${kind}/${displayName(objectName)} is in the inventory of ${name} but labelled for product ${owner}: kept`)
      return undefined
    }
    return {kind, name: objectName, namespace}
  })
  objects.push(...fromInventory.filter((o) => o !== undefined))
  objects.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name))
  // --purge-data of a product deleted earlier: only its data is left.
  if (!product && objects.length === 0 && !options.dataMayRemain) {
    throw new UserError(`no DataProduct ${name} in namespace ${namespace} (context ${client.loaded.context}), and nothing labelled for it`, {
      suggestions: ['List the installed products with dappmesh status --all.'],
    })
  }
  return {product: name, namespace, objects: [...(product ? [{kind: 'DataProduct', name, namespace}] : []), ...objects], warnings}
}
