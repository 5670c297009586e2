import {existsSync} from 'node:fs'

import type {KubeConfig} from '@kubernetes/client-node'

import {ClusterUnreachableError} from '../errors.js'

export interface KubeTarget {
  /** a kubeconfig file; default: $KUBECONFIG, else ~/.kube/config */
  kubeconfig?: string
  /** a context in it; default: its current-context */
  context?: string
}

export interface LoadedKubeConfig {
  kc: KubeConfig
  context: string
  server: string
}

/** The Kubernetes client is ESM and large: load it only in commands that talk to a cluster. */
export async function kubeClient(): Promise<typeof import('@kubernetes/client-node')> {
  return import('@kubernetes/client-node')
}

/** Loads a kubeconfig and selects a context, with errors that say what to fix (exit 3). */
export async function loadKubeConfig(target: KubeTarget = {}): Promise<LoadedKubeConfig> {
  const k8s = await kubeClient()
  const kc = new k8s.KubeConfig()
  const where = target.kubeconfig ?? (process.env.KUBECONFIG ? `$KUBECONFIG (${process.env.KUBECONFIG})` : '~/.kube/config')
  try {
    if (target.kubeconfig) {
      if (!existsSync(target.kubeconfig)) {
        throw new ClusterUnreachableError(`the kubeconfig ${target.kubeconfig} does not exist`, [
          'pass the path of an existing kubeconfig with --kubeconfig, or create a cluster: dappmesh cluster create',
        ])
      }
      kc.loadFromFile(target.kubeconfig)
    } else {
      kc.loadFromDefault()
    }
  } catch (error) {
    if (error instanceof ClusterUnreachableError) throw error
    throw new ClusterUnreachableError(`cannot read the kubeconfig ${where}: ${(error as Error).message}`, ['fix the file, or pass another one with --kubeconfig'])
  }
  const names = kc.getContexts().map((context) => context.name)
  if (target.context) {
    if (!names.includes(target.context)) {
      throw new ClusterUnreachableError(`the context "${target.context}" is not in the kubeconfig ${where}`, [
        names.length > 0 ? `use one of: ${names.join(', ')}` : 'the kubeconfig has no contexts: create a cluster with dappmesh cluster create',
      ])
    }
    kc.setCurrentContext(target.context)
  }
  const context = kc.getCurrentContext()
  const cluster = kc.getCurrentCluster()
  if (!context || !names.includes(context) || !cluster) {
    throw new ClusterUnreachableError(`the kubeconfig ${where} has no current context`, [
      names.length > 0 ? `pick one with --context (${names.join(', ')}) or kubectl config use-context NAME` : 'create a cluster with dappmesh cluster create, or pass --kubeconfig',
    ])
  }
  return {kc, context, server: cluster.server}
}

export interface ServerVersion {
  gitVersion: string
}

/**
 * Asks the API server for its version: the cheapest request that proves the server answers and
 * accepts our credentials. Any failure becomes ClusterUnreachableError naming the server URL.
 */
export async function probeServer(loaded: LoadedKubeConfig, timeoutMs = 10_000): Promise<ServerVersion> {
  const k8s = await kubeClient()
  const api = loaded.kc.makeApiClient(k8s.VersionApi)
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(timeoutMs / 1000)}s`)), timeoutMs)
  })
  try {
    const info = await Promise.race([api.getCode(), timeout])
    return {gitVersion: info.gitVersion}
  } catch (error) {
    throw unreachable(loaded, error)
  } finally {
    clearTimeout(timer)
  }
}

export function unreachable(loaded: LoadedKubeConfig, error: unknown): ClusterUnreachableError {
  const status = (error as {code?: unknown})?.code
  const reason = describeNetworkError(error)
  if (status === 401 || status === 403) {
    return new ClusterUnreachableError(`the Kubernetes API server at ${loaded.server} (context ${loaded.context}) refused our credentials (HTTP ${status})`, [
      'refresh the credentials of that context, or pick another with --context',
    ], error)
  }
  return new ClusterUnreachableError(`cannot reach the Kubernetes API server at ${loaded.server} (context ${loaded.context}): ${reason}`, [
    'check that the cluster is running (dappmesh cluster list) and that --kubeconfig/--context name the right one',
  ], error)
}

function describeNetworkError(error: unknown): string {
  const seen = new Set<unknown>()
  let current: any = error
  while (current && !seen.has(current)) {
    seen.add(current)
    if (typeof current.code === 'string' && /^E[A-Z]+/.test(current.code)) {
      if (current.code === 'ECONNREFUSED') return 'connection refused'
      if (current.code === 'ENOTFOUND') return 'host not found'
      if (current.code === 'ETIMEDOUT') return 'connection timed out'
      return current.code
    }
    current = current.cause
  }
  return (error as Error)?.message ?? String(error)
}
