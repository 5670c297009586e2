import {UserError} from '../../errors.js'
import {KubeApiError, type KubeRest} from '../../kube/rest.js'
import {byEntry, type Catalog, CATALOG_KEY_NAME, CATALOG_NAME, CATALOG_NAMESPACE} from './catalog.js'
import {CATALOG_FORMAT, type CatalogShard, INDEX_KEY_NAME, MAX_SHARDS, parseIndex, shardName, shardOf} from './catalog-shards.js'

const OPERATOR_HINT = 'The operator publishes the catalog once a DataMesh exists (dappmesh operator install, then apply the mesh); check it with kubectl logs -n dappmesh-system deploy/dappmesh-operator.'

async function getData(client: KubeRest, name: string, what: string): Promise<Record<string, string>> {
  try {
    const map = await client.request<{data?: Record<string, string>}>('GET', `/api/v1/namespaces/${CATALOG_NAMESPACE}/configmaps/${name}`)
    return map.data ?? {}
  } catch (error) {
    const missing = error instanceof KubeApiError && error.status === 404
    throw new UserError(missing ? `${what} ${CATALOG_NAMESPACE}/${name} does not exist` : `cannot read ${what} ${CATALOG_NAMESPACE}/${name}: ${(error as Error).message}`, {
      suggestions: [missing ? OPERATOR_HINT : 'Check that this account may get ConfigMaps in dappmesh-system (the Role dappmesh-catalog-reader, from dappmesh operator install).'],
      cause: error,
    })
  }
}

/** The entries in `data`'s catalog.json: a shard's, or (format 1, with no shard fields) the whole catalog's. */
function parseShard(name: string, data: Record<string, string>, what = 'the mesh catalog\'s shard'): Partial<CatalogShard> & Catalog {
  try {
    const shard = JSON.parse(data[CATALOG_KEY_NAME] ?? '') as Partial<CatalogShard> & Catalog
    if (Array.isArray(shard?.outputPorts)) return shard
  } catch {
    // reported below
  }
  throw new UserError(`${what} ${CATALOG_NAMESPACE}/${name} has no readable ${CATALOG_KEY_NAME}`, {suggestions: [OPERATOR_HINT]})
}

/**
 * The mesh catalog, or with `product` the entries of that product only: the index, then the one
 * shard the product hashes to (never every shard). A shard written for another shard count than
 * the index names (the operator re-shards: it writes new shards, then rewrites the old ones, then
 * the index) is followed to the shard that layout puts the product in, so a reader in the middle
 * of a re-sharding still finds it. A catalog of format 1 (one ConfigMap, key catalog.json) is read
 * as it is, until the operator replaces it.
 */
export async function readCatalog(client: KubeRest, product?: string): Promise<Catalog> {
  const data = await getData(client, CATALOG_NAME, 'the mesh catalog')
  const index = parseIndex(data[INDEX_KEY_NAME])
  if (!index) {
    if (data[CATALOG_KEY_NAME]) {
      const whole = parseShard(CATALOG_NAME, data, 'the mesh catalog')
      return {outputPorts: product === undefined ? whole.outputPorts : whole.outputPorts.filter((e) => e.product === product)}
    }
    throw new UserError(`the mesh catalog ${CATALOG_NAMESPACE}/${CATALOG_NAME} has no readable ${INDEX_KEY_NAME}`, {suggestions: [OPERATOR_HINT]})
  }
  if (index.version > CATALOG_FORMAT) {
    throw new UserError(`the mesh catalog is in format ${index.version}, newer than this dappmesh reads (${CATALOG_FORMAT})`, {suggestions: ['Upgrade this runtime to the operator\'s version.']})
  }
  if (product === undefined) {
    const shards = await Promise.all(index.names.map(async (name) => parseShard(name, await getData(client, name, 'the mesh catalog\'s shard'))))
    return {outputPorts: shards.flatMap((s) => s.outputPorts).sort(byEntry)}
  }
  const read = async (count: number) => {
    const name = shardName(shardOf(product, count))
    return parseShard(name, await getData(client, name, 'the mesh catalog\'s shard'))
  }
  let shard = await read(index.shards)
  const claimed = shard.shards ?? 0
  const layout = Number.isInteger(claimed) && claimed >= 1 && claimed <= MAX_SHARDS ? claimed : index.shards
  if (layout !== index.shards && shardOf(product, layout) !== shard.shard) shard = await read(layout)
  return {outputPorts: shard.outputPorts.filter((e) => e.product === product)}
}
