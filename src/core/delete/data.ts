import {mapPool} from '../apply/pool.js'
import {resourcePath} from '../kube/paths.js'
import {KubeApiError, type KubeRest} from '../kube/rest.js'
import type {KubeList} from '../kube/types.js'
import {MANAGED_BY_LABEL, PRODUCT_LABEL} from '../render/render.js'
import {FIELD_MANAGER, STORAGE_LABEL} from '../reconcile/product/desired.js'
import type {DoomedObject} from './result-schema.js'

/**
 * A product's data: the volume claims of its storages and runtime (labelled by the StatefulSet
 * controller with their pods' selector, so with the product), and its storages' credentials
 * Secrets, which the operator makes without an owner so that they last as long as the volumes.
 * Neither goes with the product; `delete --purge-data` removes them.
 */
const DATA = [
  {kind: 'PersistentVolumeClaim', selector: (product: string) => `${PRODUCT_LABEL}=${product}`},
  {kind: 'Secret', selector: (product: string) => `${PRODUCT_LABEL}=${product},${MANAGED_BY_LABEL}=${FIELD_MANAGER},${STORAGE_LABEL}`},
] as const

/** The product's data in its namespace; undefined when the user may not list it. */
export async function productData(client: KubeRest, namespace: string, product: string): Promise<DoomedObject[] | undefined> {
  try {
    const lists = await Promise.all(DATA.map((d) => client.get<KubeList>(resourcePath('v1', d.kind, namespace), {labelSelector: d.selector(product)})))
    return lists.flatMap((list, i) => list.items.map((o) => ({kind: DATA[i].kind, name: String(o.metadata.name), namespace}))).sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name))
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 403) return undefined
    throw error
  }
}

/** Deletes the product's data (a claim in use goes once its pod has). */
export async function purgeData(client: KubeRest, data: DoomedObject[], options: {dryRun: boolean; onProgress: (m: string) => void}): Promise<void> {
  await mapPool(data, 8, async (o) => {
    try {
      await client.delete(resourcePath('v1', o.kind, o.namespace, o.name), {dryRun: options.dryRun})
      options.onProgress(`${o.kind}/${o.name} deleted${options.dryRun ? ' (dry run)' : ''}`)
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 404)) throw error
    }
  })
}
