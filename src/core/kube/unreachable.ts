import {ClusterUnreachableError} from '../errors.js'
import type {LoadedKubeConfig} from './kubeconfig.js'

/** A failure to talk to the API server, as the user-fixable error it is (exit 3), naming the server and context. */
export function unreachable(loaded: Pick<LoadedKubeConfig, 'server' | 'context'>, error: unknown): ClusterUnreachableError {
  if (error instanceof ClusterUnreachableError) return error
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
  let current = error as {code?: unknown; message?: string; cause?: unknown} | undefined
  while (current && !seen.has(current)) {
    seen.add(current)
    if (typeof current.code === 'string' && /^E[A-Z]+/.test(current.code)) {
      if (current.code === 'ECONNREFUSED') return 'connection refused'
      if (current.code === 'ENOTFOUND') return 'host not found'
      // The request timeout says itself how to wait longer; other timeouts are the network's.
      if (current.code === 'ETIMEDOUT') return /DAPPMESH_REQUEST_TIMEOUT/.test(current.message ?? '') ? current.message! : 'connection timed out'
      return current.code
    }
    current = current.cause as typeof current
  }
  return (error as Error)?.message ?? String(error)
}
