import type {ListedCluster} from './result-schema.js'
import {dockerEngineAnswers} from './tools.js'

export type {ListedCluster} from './result-schema.js'

export const PROVIDERS = ['kwok', 'kind', 'local'] as const
export type ProviderName = (typeof PROVIDERS)[number]

export interface ProviderCreateOptions {
  name: string
  waitMs: number
  /** kwok: how many simulated nodes; local: how many simulated nodes beside the real one */
  nodes?: number
  onProgress?: (message: string) => void
}

/** A cluster as a provider made it: a single-context kubeconfig, self-contained. */
export interface ProvidedCluster {
  kubeconfigYaml: string
  /** directory that relative paths in kubeconfigYaml are relative to */
  baseDir: string
}

export interface ClusterProvider {
  readonly name: ProviderName
  /** Throws a UserError naming what is missing and how to install it. */
  checkTools(): Promise<void>
  create(options: ProviderCreateOptions): Promise<ProvidedCluster>
  delete(name: string): Promise<void>
  list(): Promise<ListedCluster[]>
}

/** kind when a Docker engine answers (it runs real kubelets in containers), else kwok. */
export async function detectProvider(env: NodeJS.ProcessEnv = process.env): Promise<ProviderName> {
  return (await dockerEngineAnswers(env)) ? 'kind' : 'kwok'
}

export async function providerFor(name: ProviderName, env: NodeJS.ProcessEnv = process.env): Promise<ClusterProvider> {
  if (name === 'kind') {
    const {KindProvider} = await import('./kind-provider.js')
    return new KindProvider(env)
  }
  if (name === 'local') {
    const {LocalProvider} = await import('./local-provider.js')
    return new LocalProvider(env)
  }
  const {KwokProvider} = await import('./kwok-provider.js')
  return new KwokProvider(env)
}
