import {join} from 'node:path'

import {parse} from 'yaml'

import {ensureAdmissionPolicies} from '../apply/crds.js'
import {generateCrds} from '../crds/generate.js'
import {UserError} from '../errors.js'
import {installCrds} from '../kube/crds-install.js'
import {defaultKubeconfigPath, extractEntries, mergeIntoKubeconfig} from '../kube/kubeconfig-file.js'
import {loadKubeConfig, probeServer} from '../kube/kubeconfig.js'
import {KubeRest} from '../kube/rest.js'
import {DEFAULT_LOCAL_VOLUMES, LOCAL_STORAGE_CLASS, NODE_LOCAL_VOLUMES, installLocalStorage} from './local-storage.js'
import {detectProvider, type ProviderName, providerFor} from './provider.js'
import type {CreateClusterResult} from './result-schema.js'

export type {CreateClusterResult} from './result-schema.js'

export interface CreateClusterOptions {
  name: string
  /** default: kind when a Docker engine answers, else kwok */
  provider?: ProviderName
  /** how long to wait for the cluster, then for the CRDs */
  waitMs: number
  /** file to write the context into; default $KUBECONFIG's first file, else ~/.kube/config */
  kubeconfig?: string
  /** context name to write; default dappmesh-<name> */
  context?: string
  nodes?: number
  onProgress?: (message: string) => void
  env?: NodeJS.ProcessEnv
}

export function contextNameFor(cluster: string): string {
  return `dappmesh-${cluster}`
}

export function checkClusterName(name: string): void {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 40) {
    throw new UserError(`"${name}" is not a valid cluster name`, {suggestions: ['use lower-case letters, digits and "-", at most 40 characters, starting and ending with a letter or digit']})
  }
}

/**
 * Creates a local cluster, writes a context for it (named dappmesh-<name> unless --context says
 * otherwise) into the kubeconfig, makes it current, and installs the dappmesh CRDs.
 */
export async function createCluster(options: CreateClusterOptions): Promise<CreateClusterResult> {
  checkClusterName(options.name)
  const env = options.env ?? process.env
  const providerName = options.provider ?? (await detectProvider(env))
  const provider = await providerFor(providerName, env)
  await provider.checkTools()
  const existing = (await provider.list()).find((cluster) => cluster.name === options.name)
  if (existing) {
    throw new UserError(`a ${providerName} cluster named ${options.name} already exists`, {suggestions: [`delete it first: dappmesh cluster delete --name ${options.name}`, 'or pick another --name']})
  }

  const started = Date.now()
  const provided = await provider.create({name: options.name, waitMs: options.waitMs, nodes: options.nodes, onProgress: options.onProgress})

  const kubeconfig = options.kubeconfig ?? defaultKubeconfigPath(env)
  const context = options.context ?? contextNameFor(options.name)
  const entries = await extractEntries(parse(provided.kubeconfigYaml), context, provided.baseDir)
  await mergeIntoKubeconfig(kubeconfig, context, entries)

  const loaded = await loadKubeConfig({kubeconfig, context})
  const version = await probeServer(loaded)
  const remaining = Math.max(30_000, options.waitMs - (Date.now() - started))
  const crds = await installCrds(loaded, generateCrds(), {timeoutMs: remaining, onProgress: options.onProgress})
  const result: CreateClusterResult = {name: options.name, provider: providerName, context, kubeconfig, server: entries.server, kubernetesVersion: version.gitVersion, crds}
  const rest = await KubeRest.create(loaded)
  try {
    await ensureAdmissionPolicies(rest, {install: true, onProgress: options.onProgress})
    if (providerName === 'kwok') {
      options.onProgress?.(`adding ${DEFAULT_LOCAL_VOLUMES} volumes of StorageClass ${LOCAL_STORAGE_CLASS} (kwok has no storage provisioner)`)
      result.volumes = await installLocalStorage(rest, options.name)
    } else if (providerName === 'local') {
      const {localNodeDir, localNodeName} = await import('./local-provider.js')
      const dir = join(localNodeDir(options.name, env), 'volumes')
      options.onProgress?.(`adding ${NODE_LOCAL_VOLUMES} volumes of StorageClass ${LOCAL_STORAGE_CLASS}, directories under ${dir}`)
      result.volumes = await installLocalStorage(rest, options.name, NODE_LOCAL_VOLUMES, {dir, node: localNodeName(options.name)})
    }
  } finally {
    rest.close()
  }
  return result
}
