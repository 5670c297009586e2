import {existsSync, readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {parse} from 'yaml'

import {ClusterUnreachableError} from '../errors.js'
import {KubeApiError, KubeRest} from './rest.js'
import {unreachable} from './unreachable.js'

export {unreachable} from './unreachable.js'

export interface KubeTarget {
  /** a kubeconfig file; default: $KUBECONFIG, else ~/.kube/config */
  kubeconfig?: string
  /** a context in it; default: its current-context */
  context?: string
}

/** A kubeconfig `cluster` entry: where the API server is and how to trust it. */
export interface KubeClusterEntry {
  server: string
  'certificate-authority'?: string
  'certificate-authority-data'?: string
  'insecure-skip-tls-verify'?: boolean
  'tls-server-name'?: string
}

/** A kubeconfig `exec` entry: a credential plugin (client.authentication.k8s.io ExecCredential). */
export interface KubeExecEntry {
  apiVersion?: string
  command: string
  args?: string[]
  env?: Array<{name: string; value: string}> | null
  installHint?: string
}

/** A kubeconfig `user` entry: how to authenticate. */
export interface KubeUserEntry {
  token?: string
  tokenFile?: string
  username?: string
  password?: string
  'client-certificate'?: string
  'client-certificate-data'?: string
  'client-key'?: string
  'client-key-data'?: string
  exec?: KubeExecEntry
  'auth-provider'?: {name: string; config?: Record<string, string>}
  as?: string
  'as-groups'?: string[]
}

export interface LoadedKubeConfig {
  context: string
  server: string
  /** the context's default namespace, when it names one */
  namespace?: string
  cluster: KubeClusterEntry
  user: KubeUserEntry
  /** relative file names in the cluster and user entries are relative to this directory */
  baseDir: string
  /** the file and name of the user entry, where refreshed credentials (OIDC) are written back */
  userSource?: {file: string; name: string}
}

interface Named<T> {
  name: string
  value: T
  dir: string
  file: string
}

interface KubeconfigFileContents {
  clusters: Array<Named<KubeClusterEntry>>
  users: Array<Named<KubeUserEntry>>
  contexts: Array<Named<{cluster: string; user: string; namespace?: string}>>
  current?: string
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'

function inPod(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.KUBERNETES_SERVICE_HOST) && existsSync(path.join(SERVICE_ACCOUNT_DIR, 'token'))
}

/**
 * Whether the default lookup can find anything: a file named by $KUBECONFIG, ~/.kube/config, or
 * the ServiceAccount of a pod. Without any there is nothing to guess (kubectl would invent a
 * cluster on localhost:8080 and fail later with an error that says nothing useful).
 */
function defaultKubeconfigFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.KUBECONFIG) return env.KUBECONFIG.split(path.delimiter).filter((file) => file !== '' && existsSync(file))
  const home = path.join(os.homedir(), '.kube', 'config')
  return existsSync(home) ? [home] : []
}

export const NO_KUBECONFIG = 'no kubeconfig: run `dappmesh cluster create` or pass --kubeconfig'

function readKubeconfigFile(file: string): KubeconfigFileContents {
  const document = parse(readFileSync(file, 'utf8')) as Record<string, unknown> | null
  if (document !== null && (typeof document !== 'object' || Array.isArray(document))) throw new Error('not a mapping of clusters, users and contexts')
  const absoluteFile = path.resolve(file)
  const dir = path.dirname(absoluteFile)
  const entries = <T>(key: string, field: string): Array<Named<T>> => {
    const list = document?.[key]
    if (list === undefined || list === null) return []
    if (!Array.isArray(list)) throw new Error(`${key} is not a list`)
    return list.map((item: {name?: unknown; [field: string]: unknown}) => {
      if (typeof item?.name !== 'string') throw new Error(`an entry of ${key} has no name`)
      return {name: item.name, value: (item[field] ?? {}) as T, dir, file: absoluteFile}
    })
  }
  const current = document?.['current-context']
  return {clusters: entries('clusters', 'cluster'), users: entries('users', 'user'), contexts: entries('contexts', 'context'), current: typeof current === 'string' && current !== '' ? current : undefined}
}

/** Several files merge as kubectl merges them: the first file to name an entry (or a current context) wins. */
function merge(files: KubeconfigFileContents[]): KubeconfigFileContents {
  const first = <T>(lists: Array<Array<Named<T>>>): Array<Named<T>> => {
    const seen = new Map<string, Named<T>>()
    for (const list of lists) for (const entry of list) if (!seen.has(entry.name)) seen.set(entry.name, entry)
    return [...seen.values()]
  }
  return {
    clusters: first(files.map((f) => f.clusters)),
    users: first(files.map((f) => f.users)),
    contexts: first(files.map((f) => f.contexts)),
    current: files.find((f) => f.current)?.current,
  }
}

/** The ServiceAccount of the pod we run in, as kubectl and client-go use it. */
function inClusterConfig(env: NodeJS.ProcessEnv): LoadedKubeConfig {
  const host = env.KUBERNETES_SERVICE_HOST!
  const port = env.KUBERNETES_SERVICE_PORT ?? '443'
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`
  const namespaceFile = path.join(SERVICE_ACCOUNT_DIR, 'namespace')
  return {
    context: 'in-cluster',
    server,
    namespace: existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined,
    cluster: {server, 'certificate-authority': path.join(SERVICE_ACCOUNT_DIR, 'ca.crt')},
    // A file, re-read as the kubelet rotates the bound token.
    user: {tokenFile: path.join(SERVICE_ACCOUNT_DIR, 'token')},
    baseDir: SERVICE_ACCOUNT_DIR,
  }
}

/** Loads a kubeconfig and selects a context, with errors that say what to fix (exit 3). */
export async function loadKubeConfig(target: KubeTarget = {}, env: NodeJS.ProcessEnv = process.env): Promise<LoadedKubeConfig> {
  const where = target.kubeconfig ?? (env.KUBECONFIG ? `$KUBECONFIG (${env.KUBECONFIG})` : '~/.kube/config')
  let files: string[]
  if (target.kubeconfig) {
    if (!existsSync(target.kubeconfig)) {
      throw new ClusterUnreachableError(`the kubeconfig ${target.kubeconfig} does not exist`, [
        'pass the path of an existing kubeconfig with --kubeconfig, or create a cluster: dappmesh cluster create',
      ])
    }
    files = [target.kubeconfig]
  } else {
    files = defaultKubeconfigFiles(env)
    if (files.length === 0) {
      if (inPod(env) && !target.context) return inClusterConfig(env)
      throw new ClusterUnreachableError(NO_KUBECONFIG, [`looked for ${where}; create a local cluster with dappmesh cluster create, or pass --kubeconfig FILE`])
    }
  }
  let config: KubeconfigFileContents
  try {
    config = merge(files.map((file) => readKubeconfigFile(file)))
  } catch (error) {
    throw new ClusterUnreachableError(`cannot read the kubeconfig ${where}: ${(error as Error).message}`, ['fix the file, or pass another one with --kubeconfig'])
  }
  const names = config.contexts.map((context) => context.name)
  if (target.context && !names.includes(target.context)) {
    throw new ClusterUnreachableError(`the context "${target.context}" is not in the kubeconfig ${where}`, [
      names.length > 0 ? `use one of: ${names.join(', ')}` : 'the kubeconfig has no contexts: create a cluster with dappmesh cluster create',
    ])
  }
  const contextName = target.context ?? config.current
  const context = config.contexts.find((entry) => entry.name === contextName)
  const cluster = config.clusters.find((entry) => entry.name === context?.value.cluster)
  if (!context || !cluster?.value.server) {
    throw new ClusterUnreachableError(`the kubeconfig ${where} has no current context${context ? ` with a cluster (context ${context.name} names cluster "${context.value.cluster}")` : ''}`, [
      names.length > 0 ? `pick one with --context (${names.join(', ')}) or kubectl config use-context NAME` : 'create a cluster with dappmesh cluster create, or pass --kubeconfig',
    ])
  }
  const user = config.users.find((entry) => entry.name === context.value.user)
  // Relative certificate and token files are relative to the file that names them; entries of one
  // context may come from different files, so make them absolute here.
  const absolute = <T extends object>(entry: T, dir: string, keys: string[]): T => {
    const copy = {...entry} as Record<string, unknown>
    for (const key of keys) if (typeof copy[key] === 'string' && !path.isAbsolute(copy[key] as string)) copy[key] = path.join(dir, copy[key] as string)
    return copy as T
  }
  return {
    context: context.name,
    server: cluster.value.server,
    namespace: context.value.namespace,
    cluster: absolute(cluster.value, cluster.dir, ['certificate-authority']),
    user: absolute(user?.value ?? {}, user?.dir ?? cluster.dir, ['client-certificate', 'client-key', 'tokenFile']),
    baseDir: user?.dir ?? cluster.dir,
    userSource: user ? {file: user.file, name: user.name} : undefined,
  }
}

export interface ServerVersion {
  gitVersion: string
}

/**
 * Asks the API server for its version: the cheapest request that proves the server answers and
 * accepts our credentials. Any failure becomes ClusterUnreachableError naming the server URL,
 * and a server that never answers is given up on after timeoutMs.
 */
export async function probeServer(loaded: LoadedKubeConfig, timeoutMs = 10_000): Promise<ServerVersion> {
  const rest = await KubeRest.create(loaded, {maxSockets: 1})
  try {
    const version = await rest.request<{gitVersion?: unknown} | string | undefined>('GET', '/version', {timeoutMs, retries: 0})
    if (typeof version !== 'object' || version === null || typeof version.gitVersion !== 'string') {
      throw unreachable(loaded, new Error('the answer to /version is not JSON; is this a Kubernetes API server?'))
    }
    return {gitVersion: version.gitVersion}
  } catch (error) {
    if (error instanceof KubeApiError) throw unreachable(loaded, Object.assign(new Error(`HTTP ${error.status}`), {code: error.status}))
    throw error
  } finally {
    rest.close()
  }
}
