import {TimeoutError} from '../errors.js'
import {type LoadedKubeConfig, kubeClient, unreachable} from './kubeconfig.js'
import {KubeApiError, KubeRest} from './rest.js'

export const FIELD_MANAGER = 'dappmesh'
const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions'

type Crd = Record<string, any>

function isEstablished(crd: Crd | undefined): boolean {
  return (crd?.status?.conditions ?? []).some((condition: any) => condition.type === 'Established' && condition.status === 'True')
}

/**
 * Server-side applies each CRD (field manager `dappmesh`, forcing ownership of our fields), then
 * watches until the API server reports every one Established.
 */
export async function installCrds(loaded: LoadedKubeConfig, crds: Crd[], options: {timeoutMs: number; onProgress?: (message: string) => void}): Promise<string[]> {
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
  const k8s = await kubeClient()
  const api = loaded.kc.makeApiClient(k8s.ApiextensionsV1Api)
  const list = await api.listCustomResourceDefinition().catch((error: unknown) => {
    throw unreachable(loaded, error)
  })
  const pending = new Set(names)
  for (const crd of list.items) if (isEstablished(crd as Crd)) pending.delete(crd.metadata!.name!)
  if (pending.size === 0) return

  const watch = new k8s.Watch(loaded.kc)
  let started: Promise<AbortController> | undefined
  let timer: NodeJS.Timeout | undefined
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => {
        reject(new TimeoutError(`the CRDs ${[...pending].join(', ')} were not Established within ${Math.round(timeoutMs / 1000)}s`, [
          `inspect them: kubectl get crd ${[...pending].join(' ')} -o yaml`,
        ]))
      }, timeoutMs)
      const onEvent = (_phase: string, crd: Crd) => {
        if (isEstablished(crd)) pending.delete(crd.metadata?.name)
        if (pending.size === 0) resolve()
      }
      const onDone = (error: unknown) => {
        if (pending.size === 0) return
        reject(error ? unreachable(loaded, error) : new Error('the watch on CustomResourceDefinitions ended early'))
      }
      started = watch.watch(CRD_PATH, {resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true}, onEvent, onDone)
      started.catch((error: unknown) => reject(unreachable(loaded, error)))
    })
  } finally {
    clearTimeout(timer)
    // Close the watch even when it was still connecting, or it would hold the process open.
    const controller = await started?.catch(() => undefined)
    controller?.abort()
  }
}

export type CrdState = {name: string; state: 'current' | 'outdated' | 'missing' | 'not-established'; installedHash?: string; expectedHash?: string}

/** Compares what the cluster has with what this dappmesh would install, by schema hash. */
export async function compareCrds(loaded: LoadedKubeConfig, expected: Crd[], hashAnnotation: string): Promise<CrdState[]> {
  const k8s = await kubeClient()
  const api = loaded.kc.makeApiClient(k8s.ApiextensionsV1Api)
  const list = await api.listCustomResourceDefinition().catch((error: unknown) => {
    throw unreachable(loaded, error)
  })
  const installed = new Map(list.items.map((crd) => [crd.metadata!.name!, crd as Crd]))
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
