/**
 * The names a scaffold derives from the product's and each entity's name. They live in one place
 * so that the longest suffix bounds how long a name may be: every derived name must still be a
 * DNS-1123 label of at most 63 characters.
 */
import {PRODUCT_SEPARATOR, SUFFIXED_NAME_MAX} from '../model/child-names.js'

export const MAX_NAME = 63

/** Resources of the product named after it. */
export function productNames(product: string) {
  return {readers: `${product}-readers`, writers: `${product}-writers`}
}

/** Resources of an entity named after it. */
export function entityNames(entity: string) {
  return {
    schema: entity,
    flow: entity,
    workflow: `${entity}-pipeline`,
    input: `${entity}-events`,
    contract: `${entity}-clean`,
    contractDocument: `${entity}-clean.odcs.yaml`,
    output: (type: string) => `${entity}-${type}`,
  }
}

const longestProductSuffix = Math.max(...Object.values(productNames('')).map((n) => n.length))
const longestEntitySuffix = Math.max(
  ...Object.values(entityNames('')).map((n) => (typeof n === 'string' ? n.replace(/\.odcs\.yaml$/, '').length : n('table').length)),
)

/**
 * The operator names each workload `<product>--<resource>` in the cluster (a CronJob's name may have
 * 52 characters: src/core/model/child-names.ts), so product and entity names share that budget:
 * the product gets 20 characters, an entity what is left after the longest entity suffix.
 */
export const MAX_PRODUCT_NAME = Math.min(20, MAX_NAME - longestProductSuffix)
export const MAX_ENTITY_NAME = Math.min(MAX_NAME - longestEntitySuffix, SUFFIXED_NAME_MAX - MAX_PRODUCT_NAME - PRODUCT_SEPARATOR.length - longestEntitySuffix)
