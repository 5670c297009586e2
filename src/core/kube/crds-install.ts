import type {generateCrds} from '../crds/generate.js'
import {TimeoutError} from '../errors.js'
import {type LoadedKubeConfig, unreachable} from './kubeconfig.js'
import type {KubeObject} from './objects.js'
import {KubeApiError, KubeRest, WatchIdleError} from './rest.js'

export const FIELD_MANAGER = 'dappmesh'
const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions'

/** A CRD as generateCrds makes it. */
type CrdManifest = ReturnType<typeof generateCrds>[number]

interface Crd extends KubeObject {
  status?: {conditions?: Array<{type: string; status: string}>}
}

function isEstablished(crd: Crd | undefined): boolean {
  return (crd?.status?.conditions ?? []).some((condition) => condition.type === 'Established' && condition.status === 'True')
}

/**
 * Server-side applies each CRD (field manager `dappmesh`, forcing ownership of our fields), then
 * watches until the API server reports every one Established.
 */
export async function installCrds(loaded: LoadedKubeConfig, crds: CrdManifest[], options: {timeoutMs: number; onProgress?: (message: string) => void}): Promise<string[]> {
  // Sent as plain JSON. (The Kubernetes client's object API serializes through its typed models,
  // which silently drop every `x-kubernetes-*` keyword: CEL rules and preserve-unknown-fields.)
  const rest = await KubeRest.create(loaded)
  options.onProgress?.(`applying ${crds.length} CustomResourceDefinitions`)
  try {
    for (const crd of crds) {
      try {
        await rest.apply(`${CRD_PATH}/${crd.metadata.name}`, crd, {fieldManager: FIELD_MANAGER, force: true})
      } catch (error) {
        if (error instanceof KubeApiError && error.status !== 403) {
          throw new Error(`applying the CRD ${crd.metadata.name} failed (HTTP ${error.status}): ${error.message}`)
        }
        throw error instanceof KubeApiError ? unreachable(loaded, error) : error
      }
    }
  } finally {
    rest.close()
  }
  const names = crds.map((crd) => String(crd.metadata.name))
  options.onProgress?.('waiting for the CRDs to be Established')
  await waitEstablished(loaded, names, options.timeoutMs)
  return names
}

/** Lists, then watches from the list's resourceVersion: no polling. */
export async function waitEstablished(loaded: LoadedKubeConfig, names: string[], timeoutMs: number): Promise<void> {
  const rest = await KubeRest.create(loaded, {maxSockets: 2})
  const abort = new AbortController()
  let timer: NodeJS.Timeout | undefined
  try {
    const list = await rest.list<Crd>(CRD_PATH)
    const pending = new Set(names)
    for (const crd of list.items) if (isEstablished(crd)) pending.delete(crd.metadata.name)
    if (pending.size === 0) return
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        abort.abort()
        reject(new TimeoutError(`the CRDs ${[...pending].join(', ')} were not Established within ${Math.round(timeoutMs / 1000)}s`, [
          `inspect them: kubectl get crd ${[...pending].join(' ')} -o yaml`,
        ]))
      }, timeoutMs)
    })
    let resourceVersion = list.metadata.resourceVersion
    const watching = (async () => {
      // A watch the server ends (or that falls silent) is resumed until every CRD is Established.
      while (pending.size > 0 && !abort.signal.aborted) {
        await rest
          .watch<Crd>(CRD_PATH, {resourceVersion}, (event) => {
            resourceVersion = event.object?.metadata?.resourceVersion ?? resourceVersion
            if (event.type !== 'BOOKMARK' && isEstablished(event.object)) pending.delete(event.object.metadata.name)
            if (pending.size === 0) abort.abort()
          }, abort.signal)
          .catch((error: unknown) => {
            if (!(error instanceof WatchIdleError)) throw error
          })
      }
    })()
    await Promise.race([watching, timedOut])
  } catch (error) {
    throw error instanceof KubeApiError ? unreachable(loaded, error) : error
  } finally {
    clearTimeout(timer)
    abort.abort()
    rest.close()
  }
}

export type CrdState = {name: string; state: 'current' | 'outdated' | 'missing' | 'not-established'; installedHash?: string; expectedHash?: string}

/** Compares what the cluster has with what this dappmesh would install, by schema hash. */
export async function compareCrds(loaded: LoadedKubeConfig, expected: CrdManifest[], hashAnnotation: string): Promise<CrdState[]> {
  const rest = await KubeRest.create(loaded, {maxSockets: 1})
  const list = await rest
    .list<Crd>(CRD_PATH)
    .catch((error: unknown) => {
      throw unreachable(loaded, error)
    })
    .finally(() => rest.close())
  const installed = new Map(list.items.map((crd) => [crd.metadata.name, crd]))
  return expected.map((crd) => {
    const name = String(crd.metadata.name)
    const expectedHash = crd.metadata.annotations?.[hashAnnotation]
    const found = installed.get(name)
    if (!found) return {name, state: 'missing', expectedHash}
    const installedHash = found.metadata?.annotations?.[hashAnnotation]
    if (installedHash !== expectedHash) return {name, state: 'outdated', installedHash, expectedHash}
    if (!isEstablished(found)) return {name, state: 'not-established', installedHash, expectedHash}
    return {name, state: 'current', installedHash, expectedHash}
  })
}
