import {SCHEMA_HASH_ANNOTATION, generateCrds} from '../crds/generate.js'
import {UserError} from '../errors.js'
import type {KubeRest} from '../kube/rest.js'
import type {CustomResourceDefinition, KubeList} from '../kube/types.js'

/**
 * A server-side dry run of a custom resource needs its CRD: without them there is nothing to
 * compare against, so say so and how to fix it. CRDs that are merely older still diff (their
 * schema may prune or default differently), with a warning that apply will upgrade them.
 */
export async function requireCrds(client: KubeRest): Promise<string[]> {
  const expected = generateCrds()
  const list = await client.get<KubeList<CustomResourceDefinition>>('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {labelSelector: 'app.kubernetes.io/part-of=dappmesh'})
  const installed = new Map(list.items.map((crd) => [crd.metadata.name, crd]))
  const missing = expected.filter((crd) => !installed.has(crd.metadata.name)).map((crd) => crd.metadata.name)
  if (missing.length > 0) {
    throw new UserError(`the dappmesh CRDs are not installed in context ${client.loaded.context} (missing: ${missing.join(', ')}), so the server cannot dry-run the product`, {
      suggestions: ['Install them: dappmesh apply (which also installs the product), or dappmesh crds | kubectl apply --server-side -f -'],
    })
  }
  const stale = expected.filter((crd) => installed.get(crd.metadata.name)?.metadata?.annotations?.[SCHEMA_HASH_ANNOTATION] !== crd.metadata.annotations[SCHEMA_HASH_ANNOTATION])
  return stale.length > 0 ? [`the cluster's dappmesh CRDs are older than this dappmesh (${stale.map((c) => c.metadata.name).join(', ')}); apply will upgrade them, and the diff assumes the old schemas`] : []
}
