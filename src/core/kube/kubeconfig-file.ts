import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {chmod, mkdir, readFile, rename, writeFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {delimiter, dirname, isAbsolute, join, resolve} from 'node:path'

import {parse, stringify} from 'yaml'

import {ClusterUnreachableError} from '../errors.js'

/**
 * Reading and editing kubeconfig files as plain YAML, so that entries we do not touch (exec
 * plugins, extensions, preferences) survive byte for byte in meaning. The Kubernetes client is
 * not needed for this, which keeps `cluster list` and `cluster delete` light.
 */

/** A cluster, user or context entry: edited as data, unknown keys kept. */
type KubeconfigEntry = Record<string, unknown>

export interface KubeconfigDocument {
  apiVersion?: string
  kind?: string
  clusters?: Array<{name: string; cluster: KubeconfigEntry}>
  users?: Array<{name: string; user: KubeconfigEntry}>
  contexts?: Array<{name: string; context: KubeconfigEntry}>
  'current-context'?: string
  [key: string]: unknown
}

/** Where kubectl writes: the first file of $KUBECONFIG, else ~/.kube/config. */
export function defaultKubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const first = (env.KUBECONFIG ?? '').split(delimiter).find((path) => path !== '')
  return first ? resolve(first) : join(homedir(), '.kube', 'config')
}

export async function readKubeconfig(path: string): Promise<KubeconfigDocument> {
  if (!existsSync(path)) return {apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: []}
  let document: unknown
  try {
    document = parse(await readFile(path, 'utf8'))
  } catch (error) {
    throw new ClusterUnreachableError(`the kubeconfig ${path} is not valid YAML: ${(error as Error).message}`, ['fix or remove the file'])
  }
  if (document === null || document === undefined) return {apiVersion: 'v1', kind: 'Config'}
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new ClusterUnreachableError(`the kubeconfig ${path} is not a kubeconfig (expected a mapping with clusters, users and contexts)`)
  }
  return document as KubeconfigDocument
}

async function writeKubeconfig(path: string, document: KubeconfigDocument): Promise<void> {
  await mkdir(dirname(path), {recursive: true, mode: 0o700})
  // Unique per write: two refreshes of one process may write at once, and the last rename wins whole.
  const temporary = `${path}.dappmesh-${process.pid}-${randomBytes(4).toString('hex')}.tmp`
  await writeFile(temporary, stringify(document, {lineWidth: 0}), {mode: 0o600})
  await chmod(temporary, 0o600)
  await rename(temporary, path)
}

function upsert<T extends {name: string}>(list: T[] | undefined, entry: T): T[] {
  const rest = (list ?? []).filter((item) => item.name !== entry.name)
  return [...rest, entry]
}

/**
 * Turns a single-context kubeconfig into self-contained entries all named `name`: certificate
 * files become inline data, so the entry keeps working wherever it is merged.
 */
export async function extractEntries(source: KubeconfigDocument, name: string, baseDir: string): Promise<{cluster: KubeconfigEntry; user: KubeconfigEntry; server: string}> {
  const contextName = source['current-context'] ?? source.contexts?.[0]?.name
  const context = source.contexts?.find((item) => item.name === contextName)?.context
  const cluster = {...source.clusters?.find((item) => item.name === context?.cluster)?.cluster}
  const user = {...source.users?.find((item) => item.name === context?.user)?.user}
  if (!context || !cluster.server) throw new Error(`kubeconfig for ${name} has no usable context`)
  const inline = async (entry: KubeconfigEntry, fileKey: string, dataKey: string) => {
    const name = entry[fileKey]
    if (typeof name !== 'string') return
    const file = isAbsolute(name) ? name : join(baseDir, name)
    entry[dataKey] = (await readFile(file)).toString('base64')
    delete entry[fileKey]
  }
  await inline(cluster, 'certificate-authority', 'certificate-authority-data')
  await inline(user, 'client-certificate', 'client-certificate-data')
  await inline(user, 'client-key', 'client-key-data')
  return {cluster, user, server: String(cluster.server)}
}

/** Adds (or replaces) a cluster, user and context all called `name`, and makes it current. */
export async function mergeIntoKubeconfig(path: string, name: string, entries: {cluster: KubeconfigEntry; user: KubeconfigEntry}, namespace?: string): Promise<void> {
  const document = await readKubeconfig(path)
  document.apiVersion ??= 'v1'
  document.kind ??= 'Config'
  document.clusters = upsert(document.clusters, {name, cluster: entries.cluster})
  document.users = upsert(document.users, {name, user: entries.user})
  document.contexts = upsert(document.contexts, {name, context: {cluster: name, user: name, ...(namespace ? {namespace} : {})}})
  document['current-context'] = name
  await writeKubeconfig(path, document)
}

/**
 * Writes refreshed OIDC tokens into the `auth-provider` config of the user entry `userName`, as
 * kubectl's oidc provider did, so the next process starts from them (a refresh token is often
 * single-use). Written whole to a temporary file and renamed over the original, so a reader never
 * sees half a file. False when the entry is no longer there or no longer an oidc provider.
 */
export async function writeOidcTokens(path: string, userName: string, tokens: {idToken: string; refreshToken?: string}): Promise<boolean> {
  const document = await readKubeconfig(path)
  const provider = document.users?.find((item) => item.name === userName)?.user?.['auth-provider'] as {name?: unknown; config?: Record<string, string>} | undefined
  if (provider?.name !== 'oidc') return false
  provider.config = {...provider.config, 'id-token': tokens.idToken, ...(tokens.refreshToken ? {'refresh-token': tokens.refreshToken} : {})}
  await writeKubeconfig(path, document)
  return true
}

/** Removes the cluster, user and context called `name`; true when something was removed. */
export async function removeFromKubeconfig(path: string, name: string): Promise<boolean> {
  if (!existsSync(path)) return false
  const document = await readKubeconfig(path)
  const before = JSON.stringify(document)
  document.clusters = (document.clusters ?? []).filter((item) => item.name !== name)
  document.users = (document.users ?? []).filter((item) => item.name !== name)
  document.contexts = (document.contexts ?? []).filter((item) => item.name !== name)
  if (document['current-context'] === name) document['current-context'] = ''
  if (JSON.stringify(document) === before) return false
  await writeKubeconfig(path, document)
  return true
}
