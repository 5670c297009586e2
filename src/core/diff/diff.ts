import {inventoryOf, parseInventory, productWithInventory} from '../apply/inventory.js'
import {mapPool} from '../apply/pool.js'
import {planShared, readShared} from '../apply/shared.js'
import {UserError} from '../errors.js'
import {FIELD_MANAGER} from '../kube/crds-install.js'
import {type KubeTarget, loadKubeConfig} from '../kube/kubeconfig.js'
import {objectPath, resourcePath} from '../kube/paths.js'
import {refused} from '../kube/refused.js'
import {KubeApiError, KubeRest} from '../kube/rest.js'
import type {KubeObject} from '../kube/types.js'
import {displayName, shownName} from '../model/child-names.js'
import {API_VERSION, kindInfo} from '../model/kinds.js'
import {type Manifest, PRODUCT_LABEL, type RenderedProduct, renderDirectory} from '../render/render.js'
import {diffableYaml} from './normalize.js'
import {requireCrds} from './require-crds.js'
import type {DiffResult, ObjectChange} from './result-schema.js'
import {unifiedDiff} from './unified.js'

export type {ChangeAction, DiffResult, ObjectChange} from './result-schema.js'

export interface DiffOptions extends KubeTarget {
  dir: string
  forceConflicts?: boolean
  concurrency?: number
}

/**
 * What `dappmesh apply` would change, as the API server itself computes it: every rendered object
 * is server-side applied with dryRun=All (defaults, admission and the CRD schemas all take part)
 * and compared with the live object. Objects the product's inventory lists that left the project
 * are shown as deletions (what `apply --prune` removes). Nothing is written.
 */
export async function diffProduct(options: DiffOptions): Promise<DiffResult> {
  const rendered = await renderDirectory(options.dir)
  const loaded = await loadKubeConfig(options)
  const concurrency = options.concurrency ?? 16
  const client = await KubeRest.create(loaded, {maxSockets: concurrency})
  try {
    await client.get('/version')
    const warnings = [...rendered.warnings, ...(await requireCrds(client))]
    const changes: ObjectChange[] = []
    let unchanged = 0

    const liveProduct = await client.find<KubeObject>(objectPath(productOf(rendered)))
    const leftovers = await leftOver(client, rendered, liveProduct)
    // As apply does: the mesh, the domain and the namespace only when the cluster has none of them.
    const sharedObjects = [...rendered.shared, rendered.namespaceObject]
    const shared = await planShared(client, sharedObjects, await Promise.all(sharedObjects.map((o) => readShared(client, o))))
    warnings.push(...shared.warnings)
    unchanged += shared.kept.length
    const desired = [...shared.create, productWithInventory(rendered, leftovers), ...rendered.objects.filter((o) => o.kind !== 'DataProduct')]
    const live = await mapPool(desired, concurrency, (o) => (o.kind === 'DataProduct' ? Promise.resolve(liveProduct) : client.find<KubeObject>(objectPath(o))))
    const namespaceExists = !shared.create.includes(rendered.namespaceObject)
    if (!namespaceExists) warnings.push(`namespace ${rendered.namespace} does not exist yet, so the server could not check the product's own objects; they are shown as rendered`)

    const after = await mapPool(desired, concurrency, async (o) => {
      // Nothing can be dry-run into a namespace that does not exist: show what would be sent.
      if (o.metadata.namespace && !namespaceExists) return o
      return dryRunApply(client, o, options.forceConflicts ?? false)
    })
    for (const [i, o] of desired.entries()) {
      const before = diffableYaml(live[i])
      const text = unifiedDiff(before, diffableYaml(after[i]), labels(o))
      if (text === '') unchanged++
      else changes.push({...described(o), action: live[i] ? 'update' : 'create', diff: text})
    }
    for (const o of leftovers) changes.push({...described(o), action: 'delete', diff: unifiedDiff(diffableYaml(o), '', labels(o))})
    return {product: rendered.product, namespace: rendered.namespace, context: loaded.context, server: loaded.server, changes, unchanged, warnings}
  } catch (error) {
    throw refused(error)
  } finally {
    client.close()
  }
}

function productOf(rendered: RenderedProduct): Manifest {
  return rendered.objects.find((o) => o.kind === 'DataProduct')!
}

/** Live objects in the previous inventory, still labelled for the product, that left the project. */
async function leftOver(client: KubeRest, rendered: RenderedProduct, liveProduct: KubeObject | undefined): Promise<Array<KubeObject & {apiVersion: string; kind: string}>> {
  const wanted = new Set(inventoryOf(rendered.objects))
  const gone = [...parseInventory(liveProduct?.metadata?.annotations)].filter((entry) => !wanted.has(entry))
  const found = await mapPool(gone, 8, async (entry) => {
    const [kind, name] = entry.split('/')
    if (!name || kindInfo(kind)?.scope !== 'Namespaced') return undefined
    const object = await client.find<KubeObject>(resourcePath(API_VERSION, kind, rendered.namespace, name))
    return object?.metadata?.labels?.[PRODUCT_LABEL] === rendered.product ? {...object, apiVersion: API_VERSION, kind} : undefined
  })
  return found.filter((o) => o !== undefined)
}

async function dryRunApply(client: KubeRest, object: Manifest, force: boolean): Promise<KubeObject> {
  try {
    return await client.apply<KubeObject>(objectPath(object), object, {fieldManager: FIELD_MANAGER, force, dryRun: true})
  } catch (error) {
    if (!(error instanceof KubeApiError)) throw error
    const what = `${object.kind}/${object.metadata.name}${object.metadata.namespace ? ` in ${object.metadata.namespace}` : ''}`
    if (error.status === 409) {
      throw new UserError(`conflict applying ${what}: ${error.message}`, {
        suggestions: ['Another field manager owns these fields: apply would fail. Rerun with --force-conflicts to see the diff of taking them over.'],
      })
    }
    if (error.status === 403) throw new UserError(`forbidden to dry-run ${what}: ${error.message}`, {suggestions: ['Ask for RBAC permission to patch this resource, or use another --context.']})
    throw new UserError(`the API server refused ${what} (HTTP ${error.status}${error.reason ? ` ${error.reason}` : ''}): ${error.message}`)
  }
}

function described(o: {kind: string; metadata: {name: string; namespace?: string}}): Omit<ObjectChange, 'action' | 'diff'> {
  return {kind: o.kind, ...shownName(o.metadata.name), ...(o.metadata.namespace ? {namespace: o.metadata.namespace} : {})}
}

function labels(o: {kind: string; metadata: {name: string; namespace?: string}}): {oldLabel: string; newLabel: string} {
  const where = `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${displayName(o.metadata.name)}`
  return {oldLabel: `live/${where}`, newLabel: `project/${where}`}
}
