import {existsSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import os from 'node:os'
import path from 'node:path'

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

/**
 * Whether the default lookup can find anything: a file named by $KUBECONFIG, ~/.kube/config, or
 * the ServiceAccount of a pod. Without any, the Kubernetes client quietly invents a cluster on
 * localhost:8080 and fails later with an error that says nothing useful.
 */
function defaultKubeconfigExists(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.KUBECONFIG) return env.KUBECONFIG.split(path.delimiter).some((file) => file !== '' && existsSync(file))
  if (existsSync(path.join(os.homedir(), '.kube', 'config'))) return true
  return Boolean(env.KUBERNETES_SERVICE_HOST) && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')
}

export const NO_KUBECONFIG = 'no kubeconfig: run `dappmesh cluster create` or pass --kubeconfig'

/** Loads a kubeconfig and selects a context, with errors that say what to fix (exit 3). */
export async function loadKubeConfig(target: KubeTarget = {}): Promise<LoadedKubeConfig> {
  const k8s = await kubeClient()
  const kc = new k8s.KubeConfig()
  const where = target.kubeconfig ?? (process.env.KUBECONFIG ? `$KUBECONFIG (${process.env.KUBECONFIG})` : '~/.kube/config')
  if (!target.kubeconfig && !defaultKubeconfigExists()) {
    throw new ClusterUnreachableError(NO_KUBECONFIG, [`looked for ${where}; create a local cluster with dappmesh cluster create, or pass --kubeconfig FILE`])
  }
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
 * Plain node:https with the kubeconfig's TLS and auth, so a server that never answers is given
 * up on (the socket destroyed) after timeoutMs instead of holding the process open.
 */
export async function probeServer(loaded: LoadedKubeConfig, timeoutMs = 10_000): Promise<ServerVersion> {
  const options: https.RequestOptions = {}
  try {
    await loaded.kc.applyToHTTPSOptions(options)
  } catch (error) {
    throw new ClusterUnreachableError(`cannot use the credentials of context ${loaded.context}: ${(error as Error).message}`, ['fix the user entry of that context in the kubeconfig'], error)
  }
  const url = new URL('/version', loaded.server)
  const get = url.protocol === 'http:' ? http.get : https.get
  const answer = await new Promise<{status: number; body: string}>((resolve, reject) => {
    const request = get(url, {...options, timeout: timeoutMs}, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (body += chunk))
      response.on('end', () => resolve({status: response.statusCode ?? 0, body}))
      response.on('error', reject)
    })
    request.on('timeout', () => request.destroy(Object.assign(new Error(`no answer within ${Math.round(timeoutMs / 1000)}s`), {code: 'ETIMEDOUT'})))
    request.on('error', reject)
  }).catch((error: unknown) => {
    throw unreachable(loaded, error)
  })
  if (answer.status !== 200) throw unreachable(loaded, Object.assign(new Error(`HTTP ${answer.status}`), {code: answer.status}))
  try {
    return {gitVersion: String(JSON.parse(answer.body).gitVersion)}
  } catch {
    throw unreachable(loaded, new Error('the answer to /version is not JSON; is this a Kubernetes API server?'))
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
      // The request timeout says itself how to wait longer; other timeouts are the network's.
      if (current.code === 'ETIMEDOUT') return /DAPPMESH_REQUEST_TIMEOUT/.test(current.message ?? '') ? current.message : 'connection timed out'
      return current.code
    }
    current = current.cause
  }
  return (error as Error)?.message ?? String(error)
}
