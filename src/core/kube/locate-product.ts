import {UsageError, UserError} from '../errors.js'
import type {ProductRef} from '../project/product-ref.js'
import {API_VERSION} from '../model/kinds.js'
import type {DataProduct} from '../model/types.js'
import type {ObjectMeta} from './objects.js'
import {resourcePath} from './paths.js'
import {KubeApiError, type KubeRest} from './rest.js'
import type {Stored, Typed} from './types.js'

/** A DataProduct as the cluster holds it, where it lives said for sure. */
export type LocatedProduct = Typed<Stored<DataProduct>> & {metadata: ObjectMeta & {namespace: string}}

/**
 * Finds the DataProduct a command is about. Without a namespace it looks in every namespace (one
 * LIST by name) and asks for -n only when the name is ambiguous. Not found is exit 1, saying where
 * it looked.
 */
export async function locateProduct(client: KubeRest, ref: ProductRef): Promise<LocatedProduct> {
  const where = ref.namespace ? `namespace ${ref.namespace}` : 'any namespace'
  let items: Array<Stored<DataProduct>>
  try {
    items = (await client.list<Stored<DataProduct>>(resourcePath(API_VERSION, 'DataProduct', ref.namespace), {fieldSelector: `metadata.name=${ref.name}`})).items
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) {
      throw new UserError(`no DataProduct ${ref.name} in ${where} (context ${client.loaded.context}): the dappmesh CRDs are not installed there`, {
        suggestions: ['Install the product with dappmesh apply, or check --context.'],
      })
    }
    throw error
  }
  if (items.length === 0) {
    throw new UserError(`no DataProduct ${ref.name} in ${where} (context ${client.loaded.context})`, {
      suggestions: ['List the installed products with dappmesh status --all, or install it with dappmesh apply.'],
    })
  }
  if (items.length > 1) {
    throw new UsageError(`DataProduct ${ref.name} exists in several namespaces: ${items.map((p) => p.metadata.namespace).join(', ')}`, ['Pick one with -n NAMESPACE.'])
  }
  // A DataProduct is namespaced: the API server always says where.
  return {...items[0], apiVersion: API_VERSION, kind: 'DataProduct', metadata: {...items[0].metadata, namespace: items[0].metadata.namespace!}}
}
