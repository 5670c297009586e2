import {generateAdmissionPolicies} from '../crds/admission.js'
import {CLI_VERSION_ANNOTATION, SCHEMA_HASH_ANNOTATION, dappmeshVersion, generateCrds} from '../crds/generate.js'
import {UserError} from '../errors.js'
import {FIELD_MANAGER, waitEstablished} from '../kube/crds-install.js'
import {objectPath} from '../kube/paths.js'
import {KubeApiError, type KubeRest} from '../kube/rest.js'
import type {CustomResourceDefinition, KubeList, KubeObject} from '../kube/types.js'
import {compareSemver, isSemver} from '../semver.js'
import {mapPool} from './pool.js'

export type CrdAction = 'current' | 'installed' | 'upgraded'

/**
 * Installs the CRDs when missing and upgrades them when this dappmesh's schemas differ from the
 * cluster's (by the schema-hash annotation): helm never upgrades CRDs, and that is a known pain.
 * One LIST tells what is there; only what differs is applied.
 */
export async function ensureCrds(rest: KubeRest, options: {install: boolean; timeoutMs: number; onProgress?: (m: string) => void}): Promise<CrdAction> {
  const expected = generateCrds()
  const list = await rest.get<KubeList<CustomResourceDefinition>>('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {labelSelector: 'app.kubernetes.io/part-of=dappmesh'})
  const installed = new Map(list.items.map((c) => [c.metadata.name, c]))
  const stale = expected.filter((crd) => installed.get(crd.metadata.name)?.metadata?.annotations?.[SCHEMA_HASH_ANNOTATION] !== crd.metadata.annotations[SCHEMA_HASH_ANNOTATION])
  if (stale.length === 0) {
    await ensureAdmissionPolicies(rest, options)
    return 'current'
  }
  const newer = newerCrds(stale.map((crd) => installed.get(crd.metadata.name)).filter((crd) => crd !== undefined))
  if (newer.length > 0) {
    if (options.install) throw downgradeRefused(newer)
    // Not installing: a newer dappmesh's schemas are left as they are, and its policies with them.
    const names = new Set(newer.map((crd) => crd.metadata.name))
    if (stale.every((crd) => names.has(crd.metadata.name))) return 'current'
  }
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
  await ensureAdmissionPolicies(rest, options)
  return missing.length === stale.length ? 'installed' : 'upgraded'
}

/**
 * CRDs whose schema a newer dappmesh installed are never replaced by this one's: objects written
 * with the newer schema could fail the older one's validation, or lose fields on their next
 * write. Says which, and exits 1; the fix is to upgrade dappmesh, not to force.
 */
export function newerCrds<T extends KubeObject>(live: T[], mine = dappmeshVersion()): T[] {
  return live.filter((crd) => {
    const theirs = crd.metadata?.annotations?.[CLI_VERSION_ANNOTATION]
    return typeof theirs === 'string' && isSemver(theirs) && isSemver(mine) && compareSemver(theirs, mine) > 0
  })
}

function downgradeRefused(newer: KubeObject[], mine = dappmeshVersion()): UserError {
  const by = [...new Set(newer.map((crd) => crd.metadata.annotations?.[CLI_VERSION_ANNOTATION]))].join(', ')
  return new UserError(`the cluster's dappmesh CRDs (${newer.map((crd) => crd.metadata.name).join(', ')}) were installed by dappmesh ${by}, newer than this dappmesh ${mine}: they are not downgraded`, {
    suggestions: [`Upgrade dappmesh to ${by} or later, or pass --no-install-crds to use the cluster's CRDs as they are.`],
  })
}

/**
 * The admission policies that go with the CRDs (src/core/crds/admission.ts): applied when missing
 * or when their hash differs, after the CRDs they check exist. One GET each when current.
 */
export async function ensureAdmissionPolicies(rest: KubeRest, options: {install: boolean; onProgress?: (m: string) => void}): Promise<void> {
  for (const policy of generateAdmissionPolicies()) {
    const path = objectPath(policy as {apiVersion: string; kind: string; metadata: {name: string}})
    const live = await rest.find<KubeObject>(path)
    if (live?.metadata?.annotations?.[SCHEMA_HASH_ANNOTATION] === policy.metadata.annotations[SCHEMA_HASH_ANNOTATION]) continue
    if (!options.install) {
      throw new UserError(`the cluster's dappmesh admission policy ${policy.kind} ${policy.metadata.name} is ${live ? 'out of date' : 'missing'} and --no-install-crds was given`, {
        suggestions: ['Run apply without --no-install-crds, or install it: dappmesh crds | kubectl apply --server-side -f -'],
      })
    }
    options.onProgress?.(`${live ? 'upgrading' : 'installing'} ${policy.kind} ${policy.metadata.name}`)
    await rest.apply(path, policy, {fieldManager: FIELD_MANAGER, force: true}).catch((error) => {
      if (!(error instanceof KubeApiError)) throw error
      throw new UserError(`the API server refused the ${policy.kind} ${policy.metadata.name} (HTTP ${error.status}): ${error.message}`, {
        suggestions: error.status === 403 ? ['Installing admission policies needs cluster-admin rights; ask for them, or have an admin run: dappmesh crds | kubectl apply --server-side -f -'] : [],
      })
    })
  }
}
