import {SCHEMA_HASH_ANNOTATION, generateCrds} from '../crds/generate.js'
import {UserError} from '../errors.js'
import {FIELD_MANAGER, waitEstablished} from '../kube/crds-install.js'
import {KubeApiError, type KubeRest} from '../kube/rest.js'
import {mapPool} from './pool.js'

export type CrdAction = 'current' | 'installed' | 'upgraded'

/**
 * Installs the CRDs when missing and upgrades them when this dappmesh's schemas differ from the
 * cluster's (by the schema-hash annotation): helm never upgrades CRDs, and that is a known pain.
 * One LIST tells what is there; only what differs is applied.
 */
export async function ensureCrds(rest: KubeRest, options: {install: boolean; timeoutMs: number; onProgress?: (m: string) => void}): Promise<CrdAction> {
  const expected = generateCrds()
  const list = await rest.get<{items: any[]}>('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {labelSelector: 'app.kubernetes.io/part-of=dappmesh'})
  const installed = new Map(list.items.map((c) => [c.metadata.name, c]))
  const stale = expected.filter((crd) => installed.get(crd.metadata.name)?.metadata?.annotations?.[SCHEMA_HASH_ANNOTATION] !== crd.metadata.annotations[SCHEMA_HASH_ANNOTATION])
  if (stale.length === 0) return 'current'
  const missing = stale.filter((crd) => !installed.has(crd.metadata.name))
  if (!options.install) {
    throw new UserError(`the cluster's dappmesh CRDs are ${missing.length > 0 ? 'missing' : 'out of date'} (${stale.map((c) => c.metadata.name).join(', ')}) and --no-install-crds was given`, {
      suggestions: ['Run apply without --no-install-crds, or install them: dappmesh crds | kubectl apply --server-side -f -'],
    })
  }
  options.onProgress?.(`${missing.length === stale.length ? 'installing' : 'upgrading'} ${stale.length} CRD${stale.length === 1 ? '' : 's'}`)
  await mapPool(stale, 4, (crd) =>
    rest.apply(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`, crd, {fieldManager: FIELD_MANAGER, force: true}).catch((error) => {
      if (!(error instanceof KubeApiError)) throw error
      throw new UserError(`the API server refused the CRD ${crd.metadata.name} (HTTP ${error.status}): ${error.message}`, {
        suggestions: error.status === 403 ? ['Installing CRDs needs cluster-admin rights; ask for them, or have an admin run: dappmesh crds | kubectl apply --server-side -f -'] : [],
      })
    }),
  )
  await waitEstablished(rest.loaded, stale.map((c) => c.metadata.name), options.timeoutMs)
  return missing.length === stale.length ? 'installed' : 'upgraded'
}
