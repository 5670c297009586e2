import {ensureCrds, type CrdAction} from '../apply/crds.js'
import {TimeoutError, UserError} from '../errors.js'
import {loadKubeConfig, probeServer} from '../kube/kubeconfig.js'
import {objectPath, resourcePath} from '../kube/paths.js'
import {KubeApiError, KubeRest} from '../kube/rest.js'
import type {Deployment, KubeList, KubeObject} from '../kube/types.js'
import {INSTALL_FIELD_MANAGER, OPERATOR_NAME, OPERATOR_NAMESPACE, operatorManifests} from './manifests.js'

export interface InstallOptions {
  kubeconfig?: string
  context?: string
  image: string
  /** the image of the product runtimes (default: the operator's) */
  runtimeImage?: string
  version: string
  /** wait until the Deployment is Available */
  wait?: boolean
  timeoutMs?: number
  onProgress?: (message: string) => void
}

export interface InstalledObject {
  kind: string
  name: string
  namespace?: string
  action: 'created' | 'configured' | 'unchanged'
}

export interface InstallResult {
  image: string
  crds: CrdAction
  objects: InstalledObject[]
  /** whether the Deployment was seen Available (only with --wait) */
  available?: boolean
}

export interface UninstallResult {
  deleted: {kind: string; name: string}[]
}

async function connect(options: {kubeconfig?: string; context?: string}): Promise<KubeRest> {
  const loaded = await loadKubeConfig({kubeconfig: options.kubeconfig, context: options.context})
  await probeServer(loaded)
  return KubeRest.create(loaded)
}

function refused(error: unknown, what: string): unknown {
  if (!(error instanceof KubeApiError)) return error
  return new UserError(`the API server refused ${what} (HTTP ${error.status}): ${error.message}`, {
    suggestions: error.status === 403 ? ['Installing the operator creates a ClusterRole and its binding: it needs cluster-admin rights.'] : [],
  })
}

/**
 * Installs or upgrades the operator: the CRDs (with the caller's rights, since the operator's own
 * role may only read them), then each manifest by server-side apply. An object the apply leaves
 * as it was (same resourceVersion) is reported unchanged, so a second install says it changed
 * nothing, and indeed writes nothing.
 */
export async function installOperator(options: InstallOptions): Promise<InstallResult> {
  const rest = await connect(options)
  try {
    const crds = await ensureCrds(rest, {install: true, timeoutMs: 60_000, onProgress: options.onProgress})
    const objects: InstalledObject[] = []
    for (const manifest of operatorManifests({image: options.image, runtimeImage: options.runtimeImage, version: options.version})) {
      const path = objectPath(manifest)
      const {kind} = manifest
      const {name, namespace} = manifest.metadata
      const what = `${kind} ${namespace ? `${namespace}/` : ''}${name}`
      try {
        const before = await rest.find<KubeObject>(path)
        const after = await rest.apply<KubeObject>(path, manifest, {fieldManager: INSTALL_FIELD_MANAGER, force: true})
        const action = !before ? 'created' : before.metadata.resourceVersion === after.metadata.resourceVersion ? 'unchanged' : 'configured'
        objects.push({kind, name, ...(namespace ? {namespace} : {}), action})
        options.onProgress?.(`${what} ${action}`)
      } catch (error) {
        throw refused(error, what)
      }
    }
    const result: InstallResult = {image: options.image, crds, objects}
    if (options.wait) {
      options.onProgress?.(`waiting for Deployment ${OPERATOR_NAMESPACE}/${OPERATOR_NAME} to be available`)
      await waitAvailable(rest, options.timeoutMs ?? 120_000)
      result.available = true
    }
    return result
  } finally {
    rest.close()
  }
}

function isAvailable(deployment: Deployment | undefined): boolean {
  const current = (deployment?.status?.observedGeneration ?? 0) >= (deployment?.metadata?.generation ?? 1)
  return current && (deployment?.status?.conditions ?? []).some((c) => c.type === 'Available' && c.status === 'True')
}

/** Lists, then watches the Deployment until it is Available (no polling). */
async function waitAvailable(rest: KubeRest, timeoutMs: number): Promise<void> {
  const collection = resourcePath('apps/v1', 'Deployment', OPERATOR_NAMESPACE)
  const fieldSelector = `metadata.name=${OPERATOR_NAME}`
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), timeoutMs)
  let last: Deployment | undefined
  try {
    while (!abort.signal.aborted) {
      const list = await rest.get<KubeList<Deployment>>(collection, {fieldSelector})
      last = list.items[0]
      if (isAvailable(last)) return
      let done = false
      await rest.watch<Deployment>(collection, {fieldSelector, resourceVersion: list.metadata.resourceVersion}, (event) => {
        if (event.type !== 'ADDED' && event.type !== 'MODIFIED') return
        last = event.object
        if (isAvailable(last)) {
          done = true
          abort.abort()
        }
      }, abort.signal)
      if (done) return
    }
  } finally {
    clearTimeout(timer)
  }
  const ready = `${last?.status?.readyReplicas ?? 0}/${last?.spec?.replicas ?? 1} replicas ready`
  throw new TimeoutError(`the Deployment ${OPERATOR_NAMESPACE}/${OPERATOR_NAME} was not available within ${Math.round(timeoutMs / 1000)} s (${ready})`, [
    `kubectl -n ${OPERATOR_NAMESPACE} describe deployment ${OPERATOR_NAME}  (is the image pullable by the cluster?)`,
  ])
}

/**
 * Removes what install made: the cluster-wide ClusterRoleBinding and ClusterRole, then the
 * namespace dappmesh-system with everything in it (the Deployment, the ServiceAccount, the
 * leader Lease, the catalog). The CRDs stay: deleting them would delete every product.
 */
export async function uninstallOperator(options: {kubeconfig?: string; context?: string; onProgress?: (message: string) => void}): Promise<UninstallResult> {
  const rest = await connect(options)
  try {
    const deleted: {kind: string; name: string}[] = []
    const all = operatorManifests({image: 'unused', version: 'unused'})
    // Each of these kinds is among the manifests.
    const manifests = ['ClusterRoleBinding', 'ClusterRole', 'Namespace'].map((kind) => all.find((m) => m.kind === kind)!)
    for (const manifest of manifests) {
      try {
        await rest.delete(objectPath(manifest))
        deleted.push({kind: manifest.kind, name: manifest.metadata.name})
        options.onProgress?.(`${manifest.kind} ${manifest.metadata.name} deleted`)
      } catch (error) {
        if (!(error instanceof KubeApiError && error.status === 404)) throw refused(error, `deleting ${manifest.kind} ${manifest.metadata.name}`)
      }
    }
    return {deleted}
  } finally {
    rest.close()
  }
}
