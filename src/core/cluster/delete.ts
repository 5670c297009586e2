import {UserError} from '../errors.js'
import {defaultKubeconfigPath, removeFromKubeconfig} from '../kube/kubeconfig-file.js'
import {contextNameFor} from './create.js'
import {listClusters} from './list.js'
import {type ProviderName, providerFor} from './provider.js'
import type {DeleteClusterResult} from './result-schema.js'

export type {DeleteClusterResult} from './result-schema.js'

export interface DeleteClusterOptions {
  name: string
  /** default: whichever provider has a cluster of that name */
  provider?: ProviderName
  kubeconfig?: string
  context?: string
  env?: NodeJS.ProcessEnv
}

/** Deletes the cluster (every process or container it ran) and its context from the kubeconfig. */
export async function deleteCluster(options: DeleteClusterOptions): Promise<DeleteClusterResult> {
  const env = options.env ?? process.env
  const found = (await listClusters({env})).filter((cluster) => cluster.name === options.name && (!options.provider || cluster.provider === options.provider))
  if (found.length === 0) {
    throw new UserError(`there is no ${options.provider ?? 'kwok, kind or local'} cluster named ${options.name}`, {suggestions: ['see the clusters with: dappmesh cluster list']})
  }
  if (found.length > 1) {
    throw new UserError(`${found.map((cluster) => cluster.provider).join(' and ')} clusters are all named ${options.name}`, {suggestions: ['say which with --provider kwok, --provider kind or --provider local']})
  }
  const provider = await providerFor(found[0].provider, env)
  await provider.delete(options.name)
  const kubeconfig = options.kubeconfig ?? defaultKubeconfigPath(env)
  const context = options.context ?? contextNameFor(options.name)
  const contextRemoved = await removeFromKubeconfig(kubeconfig, context)
  return {name: options.name, provider: found[0].provider, kubeconfig, context, contextRemoved}
}
