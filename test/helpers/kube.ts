import type {KubeRest} from '../../src/core/kube/rest.js'

/**
 * dappmesh's own Kubernetes client (src/core/kube) on a test cluster's kubeconfig: tests reach
 * the API server the way dappmesh does, with no second client library. Loaded lazily, so a
 * unit-only run never loads it; close() the client when done.
 */
export async function kubeClient(kubeconfig: string, context?: string): Promise<KubeRest> {
  const [{loadKubeConfig}, {KubeRest}] = await Promise.all([import('../../src/core/kube/kubeconfig.js'), import('../../src/core/kube/rest.js')])
  return KubeRest.create(await loadKubeConfig({kubeconfig, context}))
}

/** Runs `use` with a client, and closes it (its kept-alive connections) afterwards. */
export async function withKubeClient<T>(kubeconfig: string, use: (client: KubeRest) => Promise<T>, context?: string): Promise<T> {
  const client = await kubeClient(kubeconfig, context)
  try {
    return await use(client)
  } finally {
    client.close()
  }
}
