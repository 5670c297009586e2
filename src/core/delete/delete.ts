import {mapPool} from '../apply/pool.js'
import {TimeoutError, UserError} from '../errors.js'
import {type KubeTarget, loadKubeConfig} from '../kube/kubeconfig.js'
import {resourcePath} from '../kube/paths.js'
import {refused} from '../kube/refused.js'
import {KubeApiError, KubeRest} from '../kube/rest.js'
import {displayName, shownName} from '../model/child-names.js'
import {API_VERSION} from '../model/kinds.js'
import type {ProductRef} from '../project/product-ref.js'
import {productData, purgeData} from './data.js'
import {planDeletion} from './plan.js'
import type {DeleteResult, DoomedObject} from './result-schema.js'
import {waitForPodsGone, waitUntilGone} from './wait-gone.js'

export interface DeleteOptions extends KubeTarget {
  ref: ProductRef
  dryRun?: boolean
  /** also delete the product's data: its volume claims and its storages' credentials */
  purgeData?: boolean
  wait?: boolean
  timeoutMs?: number
  onProgress?: (message: string) => void
}

export type {DeleteResult} from './result-schema.js'

/**
 * Deletes a product's resources (see planDeletion for exactly which): the DataProduct first, so
 * its reconciler stops converging and runs its finalizer, then the rest concurrently. --dry-run
 * asks the server to check each deletion and removes nothing. --wait deletes in the foreground (an
 * owner stays until its owned children are gone) and watches until everything has disappeared,
 * the product's pods included.
 */
export async function deleteProduct(options: DeleteOptions): Promise<DeleteResult> {
  const loaded = await loadKubeConfig(options)
  const client = await KubeRest.create(loaded, {maxSockets: 12})
  const progress = options.onProgress ?? (() => {})
  try {
    await client.get('/version')
    const plan = await planDeletion(client, options.ref, {dataMayRemain: options.purgeData})
    const dryRun = options.dryRun ?? false
    const data = await productData(client, plan.namespace, plan.product)
    const remove = async (o: DoomedObject) => {
      try {
        await client.delete(resourcePath(API_VERSION, o.kind, o.namespace, o.name), {dryRun, propagationPolicy: options.wait ? 'Foreground' : 'Background'})
        progress(`${o.kind}/${displayName(o.name)} deleted${dryRun ? ' (dry run)' : ''}`)
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 404) return // already gone
        if (error instanceof KubeApiError) {
          throw new UserError(`the API server refused to delete ${o.kind}/${o.name} in ${o.namespace} (HTTP ${error.status}${error.reason ? ` ${error.reason}` : ''}): ${error.message}`, {
            suggestions: error.status === 403 ? ['Ask for RBAC permission to delete this resource, or use another --context.'] : [],
          })
        }
        throw error
      }
    }
    const [first, ...others] = plan.objects
    if (first?.kind === 'DataProduct') await remove(first)
    await mapPool(first?.kind === 'DataProduct' ? others : plan.objects, 12, remove)
    const result: DeleteResult = {product: plan.product, namespace: plan.namespace, context: loaded.context, server: loaded.server, dryRun, deleted: plan.objects.map((o) => ({...o, ...shownName(o.name)})), warnings: plan.warnings}
    const started = Date.now()
    const timeoutMs = options.timeoutMs ?? 300_000
    if (options.purgeData) {
      if (data === undefined) throw new UserError(`cannot list the volume claims and Secrets of ${plan.product} in ${plan.namespace}: forbidden`, {suggestions: ['--purge-data needs rights to list and delete persistentvolumeclaims and secrets in the namespace.']})
      let doomed = data
      if (!dryRun) {
        // A reconcile in flight may still make a Secret until the product and its storages are
        // gone (the operator's finalizer ends its last one): purge what is there after that.
        progress(`waiting for ${plan.objects.length} objects of ${plan.product} to be gone before purging its data`)
        await waitUntilGone(client, plan.objects, {timeoutMs, onProgress: progress}).catch((error: unknown) => {
          if (error instanceof TimeoutError) throw new TimeoutError(`${error.message}\nIts data was not purged.`, error.suggestions)
          throw error
        })
        doomed = (await productData(client, plan.namespace, plan.product)) ?? data
      }
      await purgeData(client, doomed, {dryRun, onProgress: progress})
      result.purged = doomed
    } else if (data === undefined) {
      result.warnings.push(`the product's data (volume claims, storage credentials) is kept, unless you could not list it: check with kubectl get pvc,secret -n ${plan.namespace} -l dappmesh.io/product=${plan.product}`)
    } else if (data.length > 0) {
      result.retained = data
      result.warnings.push(`kept the product's data: ${data.map((o) => `${o.kind}/${o.name}`).join(', ')}; a product of the same name takes it up again, and dappmesh delete ${plan.product} -n ${plan.namespace} --purge-data removes it`)
    }
    if (options.wait && !dryRun) {
      if (!options.purgeData) {
        progress(`waiting for ${plan.objects.length} objects of ${plan.product} to be gone`)
        await waitUntilGone(client, plan.objects, {timeoutMs, onProgress: progress})
      }
      await waitForPodsGone(client, plan.namespace, plan.product, {timeoutMs: Math.max(1000, timeoutMs - (Date.now() - started)), onProgress: progress})
      result.gone = true
    }
    return result
  } catch (error) {
    throw refused(error)
  } finally {
    client.close()
  }
}
