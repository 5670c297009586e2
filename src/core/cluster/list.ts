import {PROVIDERS, type ListedCluster, providerFor} from './provider.js'

/** The clusters every provider knows of, kwok's first; a provider whose tools are missing has none. */
export async function listClusters(options: {env?: NodeJS.ProcessEnv} = {}): Promise<ListedCluster[]> {
  const env = options.env ?? process.env
  const lists = await Promise.all(PROVIDERS.map(async (name) => (await providerFor(name, env)).list()))
  return lists.flat()
}
